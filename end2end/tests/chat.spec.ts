import { test, expect } from "@playwright/test";
import { joinAs, say, messages, waitForHydration } from "./helpers";

test("two people chat through the Leptos page", async ({ browser }) => {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  const room = `/r/e2e-${Date.now()}`;
  await joinAs(alice, room, "alice");
  await joinAs(bob, room, "bob");
  await expect(alice.locator(".log .joined").last()).toHaveText("bob joined");

  await say(alice, "hello bob");
  for (const page of [alice, bob]) {
    await expect(messages(page).last().locator(".author")).toHaveText("alice");
    await expect(messages(page).last().locator(".text")).toHaveText("hello bob");
  }
  await expect(alice.getByLabel("Message", { exact: true })).toHaveValue("");

  // The button sends too.
  await bob.getByLabel("Message", { exact: true }).fill("hi alice");
  await bob.getByRole("button", { name: "Send" }).click();
  await expect(messages(alice).last().locator(".text")).toHaveText("hi alice");
  await expect(messages(alice).last().locator(".author")).toHaveText("bob");

  await bob.close();
  await expect(alice.locator(".log .left").last()).toHaveText("bob left");
});

test("an empty message is refused with a visible hint", async ({ page }) => {
  await joinAs(page, `/r/empty-${Date.now()}`, "quiet");
  await say(page, "   ");
  await expect(page.locator(".composer .hint")).toHaveText("Type a message first.");
  await expect(messages(page)).toHaveCount(0);
  await page.getByLabel("Message", { exact: true }).fill("now something");
  await expect(page.locator(".composer .hint")).toHaveText("");
});

test("user text is shown as text, never run as HTML", async ({ page }) => {
  await joinAs(page, `/r/xss-${Date.now()}`, "mallory");
  const payload = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;
  await say(page, payload);
  await expect(messages(page).last().locator(".text")).toHaveText(payload);
  await expect(page.locator(".log img")).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
});

test("a refused nickname gets a hint and the connection state is visible", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await expect(page.locator(".status")).toHaveAttribute("data-state", "idle");
  await page.getByLabel("Choose a nickname to start chatting").fill("no spaces please");
  await page.getByRole("button", { name: "Start chatting" }).click();
  await expect(page.locator(".first-visit .hint")).toContainText("Not changed: a nickname may only contain");
  await expect(page.locator(".status")).toHaveAttribute("data-state", "idle");
  await page.getByLabel("Choose a nickname to start chatting").fill("visible");
  await page.getByRole("button", { name: "Start chatting" }).click();
  await expect(page.locator(".status")).toHaveAttribute("data-state", "connected");
  await expect(page.locator(".status-text")).toHaveText("Connected as visible");
});

test("the page is rendered on the server before the wasm runs", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/r/static-view");
  await expect(page.locator("h1")).toHaveText("#static-view");
  await expect(page.locator(".status")).toHaveAttribute("data-state", "idle");
  await expect(page.getByLabel("Choose a nickname to start chatting")).toBeVisible();
  await context.close();
});

test("Shift+Enter writes a message of several lines, Enter sends it, and it reads as written", async ({
  browser,
}) => {
  const room = `/r/lines-${Date.now()}`;
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await joinAs(alice, room, "alice");
  await joinAs(bob, room, "bob");
  const input = alice.getByLabel("Message", { exact: true });
  await input.pressSequentially("first line");
  await input.press("Shift+Enter");
  await input.pressSequentially("second line");
  await expect(input).toHaveValue("first line\nsecond line");
  await expect(input).toHaveAttribute("rows", "2");
  await input.press("Enter");
  await expect(input).toHaveValue("");
  await expect(input).toHaveAttribute("rows", "1");
  const text = messages(bob).last().locator(".text");
  // As rendered: two lines (innerText follows the layout, where toHaveText folds white space).
  await expect.poll(() => text.evaluate((el) => (el as HTMLElement).innerText)).toBe("first line\nsecond line");
});
