import { test, expect, type Page } from "@playwright/test";
import { joinAs, say, messages } from "./helpers";
import { pagesPort } from "../playwright.config";

// pages/seed-client.html is seed 001's client.html as it was written (its log appends what it
// receives with innerHTML), but for its host, taken from `?chat=` instead of hard-coded, and an id
// on its button. The server escapes the lines it sends to pages in a browser, so that this page
// shows text as text and runs nothing another sender wrote.

/** Opens the seed's page from its own server, pointed at the chat server under test. */
async function openSeedPage(page: Page, chatBaseUrl: string) {
  const chat = new URL(chatBaseUrl).host;
  await page.goto(`http://127.0.0.1:${pagesPort}/seed-client.html?chat=${chat}`);
}

/** The lines of the seed page's log, as its reader sees them. */
async function seedLines(page: Page): Promise<string[]> {
  const text = await page.locator("#log").innerText();
  return text.split("\n").filter((line) => line.length > 0);
}

test("seed 001's page, inserting with innerHTML, chats with a Leptos page, safely", async ({ browser, baseURL }) => {
  const leptos = await (await browser.newContext()).newPage();
  await joinAs(leptos, "/", "wasm_user");

  const seed = await (await browser.newContext()).newPage();
  await openSeedPage(seed, baseURL!);
  // The lobby's recent history comes first (as `<name>:<msg>` lines), then this page's welcome.
  await expect.poll(async () => (await seedLines(seed)).some((l) => /^Welcome, guest-\d{4} !$/.test(l))).toBe(true);
  const greeting = (await seedLines(seed)).find((l) => l.startsWith("Welcome, "))!;
  const guest = greeting.replace(/^Welcome, /, "").replace(/ !$/, "");
  await expect(leptos.locator(".log .joined").last()).toHaveText(`${guest} joined`);

  // Seed page -> Leptos page: Enter sends, as in seed 001.
  await seed.locator("#msg").fill("hello from 2010 <i>as typed</i>");
  await seed.locator("#msg").press("Enter");
  await expect.poll(async () => (await seedLines(seed)).at(-1)).toBe(`${guest}:hello from 2010 <i>as typed</i>`);
  await expect(messages(leptos).last().locator(".author")).toHaveText(guest);
  await expect(messages(leptos).last().locator(".text")).toHaveText("hello from 2010 <i>as typed</i>");

  // Leptos page -> seed page: markup arrives as the text it is, and nothing in it runs.
  await say(leptos, 'hello from wasm <b>not bold</b> <img src=x onerror="window.__pwned = 1">');
  await expect
    .poll(async () => (await seedLines(seed)).at(-1))
    .toBe('wasm_user:hello from wasm <b>not bold</b> <img src=x onerror="window.__pwned = 1">');
  await expect(seed.locator("#log b, #log i, #log img")).toHaveCount(0);
  expect(await seed.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

  // A message of several lines (from a JSON client) arrives as several lines, each under its
  // author's name: no line passes for someone else's.
  await leptos.evaluate(async (forged) => {
    const ws = new WebSocket(`ws://${location.host}/chat/lobby`, "chat.v1.json");
    await new Promise((resolve) => (ws.onopen = resolve));
    ws.send(JSON.stringify({ type: "send", id: `forge${Date.now()}`, text: forged }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    ws.close();
  }, `first line\n${guest}:I did not write this`);
  await expect
    .poll(async () => (await seedLines(seed)).slice(-2))
    .toEqual(["wasm_user:first line", `wasm_user:${guest}:I did not write this`]);

  // The seed page refuses an empty message with an alert.
  const alerts: string[] = [];
  seed.once("dialog", (dialog) => {
    alerts.push(dialog.message());
    void dialog.dismiss();
  });
  await seed.locator("#send").click();
  await expect.poll(() => alerts).toEqual(["Message can not be empty"]);

  // Leaving: the seed page sends `quit` on unload; the Leptos page shows the departure.
  await seed.close({ runBeforeUnload: true });
  await expect(leptos.locator(".log .left").last()).toHaveText(`${guest} left`);
});
