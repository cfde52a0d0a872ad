import { test, expect } from "@playwright/test";
import { joinAs, say } from "./helpers";

// The server runs in an empty directory (see playwright.config.ts): every file of the site comes
// from inside the binary.

test("the page works with the site the binary carries, from an empty directory", async ({ page }) => {
  await joinAs(page, `/r/embedded-${Date.now()}`, "carrier");
  await say(page, "served from the binary");
  await expect(page.locator(".log .pending")).toHaveCount(0);
});

test("the stylesheet comes inside the page: its first paint waits for no second request", async ({ page }) => {
  const asked: string[] = [];
  page.on("request", (request) => asked.push(new URL(request.url()).pathname));
  const refused: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  const response = await page.goto(`/r/styled-${Date.now()}`);
  const policy = response?.headers()["content-security-policy"] ?? "";
  const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
  expect(nonce).toBeTruthy();
  expect(policy).toContain(`style-src 'self' 'nonce-${nonce}'`);
  await expect(page.locator("head style")).toHaveCount(1);
  await expect(page.locator("head link[rel=stylesheet]")).toHaveCount(0);
  // Applied, so its nonce matched the policy's.
  await expect(page.locator(".app")).toHaveCSS("display", "grid");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "");
  expect(asked.filter((path) => path.endsWith(".css"))).toEqual([]);
  expect(refused).toEqual([]);
});

test("the wasm goes out compressed ahead of time, and again only when it changed", async ({ request }) => {
  const brotli = await request.get("/pkg/chat.wasm", { headers: { "accept-encoding": "br" } });
  expect(brotli.status()).toBe(200);
  expect(brotli.headers()["content-encoding"]).toBe("br");
  expect(brotli.headers()["content-type"]).toBe("application/wasm");
  const etag = brotli.headers()["etag"];
  expect(etag).toMatch(/^"[0-9a-f]{32}"$/);

  const gzip = await request.get("/pkg/chat.wasm", { headers: { "accept-encoding": "gzip" } });
  expect(gzip.headers()["content-encoding"]).toBe("gzip");
  expect(gzip.headers()["etag"]).toBe(etag);

  // Playwright's client takes the body apart: the plain bytes start as every wasm module does.
  const plain = await request.get("/pkg/chat.wasm", { headers: { "accept-encoding": "identity" } });
  expect(plain.headers()["content-encoding"]).toBeUndefined();
  expect([...(await plain.body()).subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]);

  const again = await request.get("/pkg/chat.wasm", { headers: { "if-none-match": etag } });
  expect(again.status()).toBe(304);

  const missing = await request.get("/pkg/nothing.js");
  expect(missing.status()).toBe(404);
});
