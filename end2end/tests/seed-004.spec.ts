import { test, expect } from "@playwright/test";
import { joinAs, say, messages } from "./helpers";
import { pagesPort } from "../playwright.config";

// pages/seed-004-echo.html and pages/seed-004-tornado.html are seed 004's echo page and Tornado
// page as written, but for the port in their WebSocket URL (and the blog's typographic quotes
// around their JavaScript strings, which no browser runs, put back to plain ones). Both insert
// what they receive as HTML (innerHTML, jQuery's append): the server escapes what it sends them.

test("seed 004's echo page shows its answers, markup as text", async ({ page }) => {
  await page.goto(`http://127.0.0.1:${pagesPort}/seed-004-echo.html`);
  const content = page.locator("#content > div");
  await expect(content.first()).toHaveText("【连接成功】");

  await page.locator("#txt").fill("你好");
  await page.locator("#btn").click();
  await expect(content.last()).toHaveText("服务端已收到: 你好");

  await page.locator("#txt").fill('<img src=x onerror="window.__pwned = 1"><b>bold?</b>');
  await page.locator("#btn").click();
  await expect(content.last()).toHaveText('服务端已收到: <img src=x onerror="window.__pwned = 1"><b>bold?</b>');
  await expect(page.locator("#content img, #content b")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

  await page.locator("#close").click();
  await expect(content.last()).toHaveText("【关闭连接】");
});

test("seed 004's Tornado page chats with a Leptos page in the same room, safely", async ({ browser }) => {
  const leptos = await (await browser.newContext()).newPage();
  await joinAs(leptos, "/", "leptos_t");
  const stamp = Date.now();
  // Said before the Tornado page opens: it arrives as history.
  await say(leptos, `history ${stamp}`);

  const tornado = await (await browser.newContext()).newPage();
  await tornado.goto(`http://127.0.0.1:${pagesPort}/seed-004-tornado.html`);
  const shown = tornado.locator("#container .message");
  await expect(shown.filter({ hasText: `history ${stamp}` })).toHaveText(`leptos_t: history ${stamp}`);

  // Typed in the Tornado page: reaches the Leptos page, and the Tornado page itself.
  await tornado.locator("#txt").fill(`from tornado ${stamp}`);
  await tornado.locator("#btn").click();
  await expect(shown.filter({ hasText: `from tornado ${stamp}` })).toHaveCount(1);
  const fromTornado = messages(leptos).filter({ hasText: `from tornado ${stamp}` });
  await expect(fromTornado.locator(".text")).toHaveText(`from tornado ${stamp}`);
  await expect(fromTornado.locator(".author")).toHaveText(/^guest-\d{4}$/);

  // Markup typed by the Leptos page's user shows as text in the Tornado page, and runs nothing.
  const markup = `<img src=x onerror="window.__pwned = 1"><b>not bold</b> ${stamp}`;
  await say(leptos, markup);
  await expect(shown.filter({ hasText: `not bold</b> ${stamp}` })).toHaveText(`leptos_t: ${markup}`);
  await expect(tornado.locator("#container img, #container .message b:not(:first-child)")).toHaveCount(0);
  expect(await tornado.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

  // And markup typed in the Tornado page shows as text in the Leptos page and in itself.
  await tornado.locator("#txt").fill(`<i>typed</i> ${stamp}`);
  await tornado.locator("#btn").click();
  await expect(shown.filter({ hasText: `<i>typed</i> ${stamp}` })).toHaveCount(1);
  await expect(messages(leptos).filter({ hasText: `<i>typed</i> ${stamp}` }).locator(".text")).toHaveText(
    `<i>typed</i> ${stamp}`,
  );
  await expect(tornado.locator("#container i")).toHaveCount(0);
});
