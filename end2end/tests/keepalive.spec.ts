import { test, expect } from "@playwright/test";
import { joinAs } from "./helpers";

test("a connection that goes silent is noticed and replaced", async ({ page }) => {
  // The page's clock is faked, so minutes pass in an instant; the WebSocket is answered by this
  // test: `ready`, then silence (a peer that died without closing, as after a network change).
  await page.clock.install();
  let connections = 0;
  const pings: number[] = [];
  await page.routeWebSocket(/\/chat\//, (ws) => {
    connections += 1;
    ws.send(JSON.stringify({ type: "ready", protocol: 1, room: "silent", you: "sleeper", epoch: 0, seq: 0 }));
    ws.onMessage((frame) => {
      const message = JSON.parse(String(frame));
      if (message.type === "ping") pings.push(message.nonce);
    });
  });
  await joinAs(page, "/r/silent", "sleeper");
  expect(connections).toBe(1);

  // Pings go out while connected...
  await page.clock.runFor(16_000);
  await expect.poll(() => pings.length).toBeGreaterThan(0);
  // ...a quiet server is not yet given up on at 36 s...
  await page.clock.runFor(20_000);
  expect(connections).toBe(1);
  // ...but after 40 s without a word from it, the page drops the connection and opens a new one.
  await page.clock.runFor(10_000);
  await expect.poll(() => connections).toBe(2);
  await expect(page.locator(".status")).toHaveAttribute("data-state", "connected");
});
