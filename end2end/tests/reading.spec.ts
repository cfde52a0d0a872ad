import { test, expect, type Page } from "@playwright/test";
import { hideable, joinAs, messages, say, seriousViolations, waitForHydration } from "./helpers";

async function account(page: Page, heading: "Register a nickname" | "Log in", name: string) {
  await page.goto("/account");
  await waitForHydration(page);
  const form = page.locator("section", { has: page.getByRole("heading", { name: heading, exact: true }) });
  await form.getByLabel("Nickname").fill(name);
  await form.getByLabel("Password").fill("correct horse battery");
  await form.getByRole("button", { name: heading === "Log in" ? "Log in" : "Register" }).click();
  await expect(page.locator(".logged-in")).toHaveText(`Logged in as ${name}`);
}

/** What the room list says of `room` to the reader of `page`: `unread` (absent: never read). */
async function listed(page: Page, room: string) {
  const list = await (await page.request.get("/fn/rooms")).json();
  return list.find((r: any) => r.name === room);
}

test("one account on two devices: a room opens where it was left, and reading on one clears the other", async ({
  browser,
}) => {
  const name = `reader${Date.now() % 100_000_000}`;
  const roomName = `reading-${Date.now()}`;
  const room = `/r/${roomName}`;
  const laptopContext = await browser.newContext();
  const phoneContext = await browser.newContext();
  await hideable(phoneContext);
  const laptop = await laptopContext.newPage();
  const phone = await phoneContext.newPage();
  await account(laptop, "Register a nickname", name);
  await account(phone, "Log in", name);
  const bob = await (await browser.newContext()).newPage();
  await joinAs(bob, room, "bob");
  await say(bob, "first");

  // The laptop reads the room; the server keeps how far.
  await laptop.goto(room);
  await waitForHydration(laptop);
  await expect(messages(laptop)).toHaveCount(1);
  await expect.poll(async () => (await listed(laptop, roomName))?.unread).toBe(0);
  // The phone opens it too, then goes to the background; the laptop leaves for the lobby.
  await phone.goto(room);
  await waitForHydration(phone);
  await expect(phone.locator(".status-text")).toHaveText(`Connected as ${name}`);
  await phone.evaluate(() => (window as any).__setHidden(true));
  await laptop.goto("/");
  await waitForHydration(laptop);

  await say(bob, `@${name} lunch?`);
  await say(bob, "anyone?");
  // The phone, hidden: the new ones are under a "new messages" line and counted in its title.
  await expect(messages(phone)).toHaveCount(3);
  await expect(phone.locator(".unread-marker")).toHaveText("New messages");
  await expect(phone.locator(".unread-marker + .message")).toContainText("lunch?");
  await expect(phone).toHaveTitle(`(@1 · 2) #${roomName} · Chat`);

  // The laptop's room list counts them, the mention apart.
  await laptop.reload();
  await waitForHydration(laptop);
  const entry = laptop.locator(".room-list a", { hasText: `#${roomName}` });
  await expect(entry.locator(".unread")).toHaveText("2");
  await expect(entry.locator(".mentions")).toHaveText("@1");
  expect(await seriousViolations(laptop), "counts shown").toEqual([]);

  // With the keyboard, the laptop opens the room: at the line, the first new message below it.
  await entry.focus();
  await laptop.keyboard.press("Enter");
  await expect(laptop).toHaveURL(new RegExp(`${room}$`));
  await expect(laptop.locator(".unread-marker")).toHaveText("New messages");
  await expect(laptop.locator(".unread-marker + .message")).toContainText("lunch?");
  await expect(laptop.locator(".unread-marker")).toBeInViewport();
  expect(await seriousViolations(laptop), "marker shown").toEqual([]);

  // Read there, it is read on the phone too: its line and its count go.
  await expect(phone.locator(".unread-marker")).toHaveCount(0);
  await expect(phone).toHaveTitle(`#${roomName} · Chat`);
  await expect.poll(async () => (await listed(phone, roomName))?.unread).toBe(0);
});
