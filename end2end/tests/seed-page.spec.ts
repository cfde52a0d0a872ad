import { test, expect, type Page } from "@playwright/test";
import { joinAs, say, messages } from "./helpers";
import { pagesPort } from "../playwright.config";

/** Opens the plain JavaScript page from its own server, pointed at the chat server under test. */
async function openSeedPage(page: Page, chatBaseUrl: string) {
  const chat = new URL(chatBaseUrl).host;
  await page.goto(`http://127.0.0.1:${pagesPort}/seed-client.html?chat=${chat}`);
}

test("a plain JavaScript page written like the seeds chats with a Leptos page", async ({ browser, baseURL }) => {
  const leptos = await (await browser.newContext()).newPage();
  await joinAs(leptos, "/", "wasm_user");

  const seed = await (await browser.newContext()).newPage();
  await openSeedPage(seed, baseURL!);
  const seedLines = seed.locator("#log .line");
  // The lobby's recent history comes first (as `<name>:<msg>` lines), then this page's welcome.
  const welcome = seedLines.filter({ hasText: /^Welcome, / }).first();
  await expect(welcome).toHaveText(/^Welcome, guest-\d{4} !$/);
  const greeting = (await welcome.textContent()) ?? "";
  const guest = greeting.replace(/^Welcome, /, "").replace(/ !$/, "");

  await expect(leptos.locator(".log .joined").last()).toHaveText(`${guest} joined`);

  // Seed page -> Leptos page: Enter sends, as in seed 001.
  await seed.locator("#msg").fill("hello from 2010");
  await seed.locator("#msg").press("Enter");
  await expect(seedLines.last()).toHaveText(`${guest}:hello from 2010`);
  await expect(messages(leptos).last().locator(".author")).toHaveText(guest);
  await expect(messages(leptos).last().locator(".text")).toHaveText("hello from 2010");

  // Leptos page -> seed page, in the seed's `<name>:<msg>` line.
  await say(leptos, "hello from wasm <b>not bold</b>");
  await expect(seedLines.last()).toHaveText("wasm_user:hello from wasm <b>not bold</b>");
  await expect(seed.locator("#log b")).toHaveCount(0);

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
