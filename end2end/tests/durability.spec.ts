import { test, expect } from "@playwright/test";
import { joinAs, say, messages, waitForHydration } from "./helpers";

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

test("a reader loads older history above what the room showed on arrival", async ({ page, browser }) => {
  const room = `paging-${Date.now()}`;
  await page.goto(`/r/${room}`);
  await waitForHydration(page);
  // 80 messages through the JSON dialect, straight from the page.
  await page.evaluate(async (room) => {
    const ws = new WebSocket(`ws://${location.host}/chat/${room}?name=bulk`, "chat.v1.json");
    await new Promise((resolve) => (ws.onopen = resolve));
    let acks = 0;
    const done = new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        if (JSON.parse(e.data).type === "ack" && ++acks === 80) resolve();
      };
    });
    for (let i = 1; i <= 80; i++) ws.send(JSON.stringify({ type: "send", id: `b${i}`, text: `bulk ${i}` }));
    await done;
    ws.close();
  }, room);

  const reader = await (await browser.newContext()).newPage();
  await reader.goto(`/r/${room}`);
  await waitForHydration(reader);
  await expect(messages(reader)).toHaveCount(50);
  await expect(messages(reader).first().locator(".text")).toHaveText("bulk 31");
  // Scrolling to the top loads the older page (the button above the log does the same).
  await expect(reader.getByRole("button", { name: "Load older messages" })).toBeVisible();
  await reader.locator(".log-scroller").evaluate((el) => el.scrollTo(0, 0));
  await expect(messages(reader)).toHaveCount(80);
  await expect(messages(reader).first().locator(".text")).toHaveText("bulk 1");
  await expect(reader.getByRole("button", { name: "Load older messages" })).toHaveCount(0);
  const texts = await messages(reader).locator(".text").allTextContents();
  expect(texts).toEqual(Array.from({ length: 80 }, (_, i) => `bulk ${i + 1}`));
});

test("the room's history is in the page the server sends, even without JavaScript", async ({ page, browser }) => {
  const room = `/r/ssr-${Date.now()}`;
  await joinAs(page, room, "writer");
  await say(page, "rendered by the server");
  await say(page, "<i>and still text</i>");
  await expect(page.locator(".log .pending")).toHaveCount(0);

  const context = await browser.newContext({ javaScriptEnabled: false });
  const noJs = await context.newPage();
  await noJs.goto(room);
  await expect(messages(noJs).locator(".text")).toHaveText(["rendered by the server", "<i>and still text</i>"]);
  await expect(noJs.locator(".log i")).toHaveCount(0);
  await context.close();

  // With JavaScript, a reload shows the same history once, and the page resumes after it.
  await page.reload();
  await expect(page.locator(".status")).toHaveAttribute("data-state", "connected");
  await expect(messages(page).locator(".text")).toHaveText(["rendered by the server", "<i>and still text</i>"]);
  await say(page, "after the reload");
  await expect(messages(page).locator(".text")).toHaveText([
    "rendered by the server",
    "<i>and still text</i>",
    "after the reload",
  ]);
});
