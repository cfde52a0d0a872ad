import { test, expect } from "@playwright/test";
import { joinAs, say } from "./helpers";

// The server runs in an empty directory (see playwright.config.ts): every file of the site comes
// from inside the binary.

test("the page works with the site the binary carries, from an empty directory", async ({ page }) => {
  await joinAs(page, `/r/embedded-${Date.now()}`, "carrier");
  await say(page, "served from the binary");
  await expect(page.locator(".log .pending")).toHaveCount(0);
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
