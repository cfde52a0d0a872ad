import { test, expect } from "@playwright/test";
import { joinAs, say, messages } from "./helpers";

test("messages typed while offline are sent once the page is back, and shown exactly once", async ({ browser }) => {
  const room = `/r/offline-${Date.now()}`;
  const aliceContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  const bob = await (await browser.newContext()).newPage();
  await joinAs(alice, room, "alice");
  await joinAs(bob, room, "bob");

  await aliceContext.setOffline(true);
  await expect(alice.locator(".status")).toHaveAttribute("data-state", "lost");
  for (const n of [1, 2, 3]) {
    await say(alice, `typed offline ${n}`);
  }
  // Shown as pending while they cannot be sent.
  await expect(alice.locator(".log .pending")).toHaveCount(3);
  await expect(bob.locator(".log .message .text", { hasText: "typed offline" })).toHaveCount(0);

  await aliceContext.setOffline(false);
  await expect(alice.locator(".status")).toHaveAttribute("data-state", "connected");
  await expect(alice.locator(".log .pending")).toHaveCount(0);
  for (const page of [alice, bob]) {
    for (const n of [1, 2, 3]) {
      await expect(messages(page).locator(".text", { hasText: `typed offline ${n}` })).toHaveCount(1);
    }
  }
  // In the order they were typed.
  const texts = await messages(bob).locator(".text").allTextContents();
  expect(texts.filter((t) => t.startsWith("typed offline"))).toEqual([
    "typed offline 1",
    "typed offline 2",
    "typed offline 3",
  ]);

  // A reload shows the history again, each message once.
  await bob.reload();
  for (const n of [1, 2, 3]) {
    await expect(messages(bob).locator(".text", { hasText: `typed offline ${n}` })).toHaveCount(1);
  }
});
