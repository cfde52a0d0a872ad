import { test, expect } from "@playwright/test";
import { joinAs, say, messages, waitForHydration, seriousViolations } from "./helpers";

test("an author edits a message by pointer and deletes one by keyboard while another person watches", async ({
  browser,
}) => {
  const room = `/r/edits-${Date.now()}`;
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await joinAs(alice, room, "alice");
  await joinAs(bob, room, "bob");
  await say(alice, "first");
  await say(alice, "secnod");
  await expect(messages(bob)).toHaveCount(2);
  // Only the author is offered the actions.
  await expect(messages(bob).locator(".actions-toggle")).toHaveCount(0);

  // Edit, with the pointer: the menu, then the form; Enter saves.
  const second = messages(alice).nth(1);
  await second.hover();
  await second.getByRole("button", { name: "Message actions" }).click();
  expect(await seriousViolations(alice), "menu open").toEqual([]);
  await second.getByRole("button", { name: "Edit" }).click();
  const editor = second.getByLabel("Edit message");
  await expect(editor).toBeFocused();
  await expect(editor).toHaveValue("secnod");
  await editor.fill("second");
  await editor.press("Enter");
  for (const page of [alice, bob]) {
    await expect(messages(page).nth(1).locator(".text")).toHaveText("second (edited)");
  }

  // Delete, with the keyboard: the toggle, Tab to Delete, then confirm; Escape closes a menu.
  const first = messages(alice).nth(0);
  const toggle = first.getByRole("button", { name: "Message actions" });
  await toggle.focus();
  await alice.keyboard.press("Enter");
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  await alice.keyboard.press("Escape");
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await expect(toggle).toBeFocused();
  await alice.keyboard.press("Enter");
  await alice.keyboard.press("Tab");
  await alice.keyboard.press("Tab");
  await expect(first.getByRole("button", { name: "Delete" })).toBeFocused();
  await alice.keyboard.press("Enter");
  const confirm = first.getByRole("group", { name: "Delete this message?" });
  await expect(confirm.getByRole("button", { name: "Delete" })).toBeFocused();
  await alice.keyboard.press("Enter");
  for (const page of [alice, bob]) {
    await expect(messages(page).nth(0).locator(".tombstone")).toHaveText("message deleted");
    await expect(messages(page).nth(0)).not.toContainText("first");
  }

  // The page rendered by the server shows the room as it is now.
  const carol = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await carol.goto(room);
  await expect(messages(carol).nth(0).locator(".tombstone")).toHaveText("message deleted");
  await expect(messages(carol).nth(1).locator(".text")).toHaveText("second (edited)");
  await bob.reload();
  await waitForHydration(bob);
  await expect(messages(bob).nth(1).locator(".text")).toHaveText("second (edited)");
});

test("without JavaScript a person deletes their own message, and only their own", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const room = `/r/nojs-delete-${Date.now()}`;
  await page.goto(room);
  await page.getByLabel("Choose a nickname to start chatting").fill("formdel");
  await page.getByRole("button", { name: "Start chatting" }).click();
  await page.getByLabel("Message", { exact: true }).fill("oops, wrong room");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(messages(page).locator(".text")).toHaveText(["oops, wrong room"]);
  const other = await (await browser.newContext()).newPage();
  await joinAs(other, room, "someone");
  await say(other, "not yours");
  // Stored (no longer pending) before the page without JavaScript is rendered again.
  await expect(messages(other).locator(".text")).toHaveText(["oops, wrong room", "not yours"]);
  await expect(other.locator(".log .pending")).toHaveCount(0);
  await page.reload();
  await expect(messages(page)).toHaveCount(2);
  await expect(messages(page).nth(1).getByRole("button", { name: "Delete" })).toHaveCount(0);
  await messages(page).nth(0).getByRole("button", { name: "Delete" }).click();
  await expect(messages(page).nth(0).locator(".tombstone")).toHaveText("message deleted");
  await expect(messages(other).nth(0).locator(".tombstone")).toHaveText("message deleted");
  await context.close();
});

test("people react to a message by keyboard and by pointer, see who reacted, and take it back", async ({
  browser,
}) => {
  const room = `/r/reactions-${Date.now()}`;
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await joinAs(alice, room, "alice");
  await joinAs(bob, room, "bob");
  await say(alice, "lunch at noon?");
  await expect(messages(bob)).toHaveCount(1);

  // Bob, with the keyboard: the add button, the picker takes the focus, Escape gives it back.
  const add = messages(bob).nth(0).getByRole("button", { name: "Add a reaction" });
  await add.focus();
  await bob.keyboard.press("Enter");
  const picker = messages(bob).nth(0).getByRole("group", { name: "Pick a reaction" });
  await expect(picker.getByRole("button", { name: "thumbs up" })).toBeFocused();
  expect(await seriousViolations(bob), "picker open").toEqual([]);
  await bob.keyboard.press("Escape");
  await expect(picker).toHaveCount(0);
  await expect(add).toBeFocused();
  await bob.keyboard.press("Enter");
  await bob.keyboard.press("Tab");
  await expect(picker.getByRole("button", { name: "heart" })).toBeFocused();
  await bob.keyboard.press("Enter");
  await expect(add).toBeFocused();

  const heart = (page: typeof alice) => messages(page).nth(0).locator(".reaction", { hasText: "❤️" });
  for (const page of [alice, bob]) {
    await expect(heart(page).locator(".count")).toHaveText("1");
  }
  await expect(heart(bob)).toHaveAttribute("aria-pressed", "true");
  await expect(heart(alice)).toHaveAttribute("aria-pressed", "false");
  // Who reacted: on hover, and on keyboard focus.
  await heart(alice).hover();
  await expect(heart(alice).locator(".who")).toBeVisible();
  await expect(heart(alice).locator(".who")).toHaveText("bob");
  await expect(heart(alice)).toHaveAttribute("aria-label", "❤️ heart: bob");

  // Alice, with the pointer, adds hers to the same emoji.
  await heart(alice).click();
  for (const page of [alice, bob]) {
    await expect(heart(page).locator(".count")).toHaveText("2");
  }
  await heart(bob).focus();
  await expect(heart(bob).locator(".who")).toBeVisible();
  await expect(heart(bob).locator(".who")).toHaveText("bob and alice");

  // Bob takes his back by keyboard; the state outlives a reload.
  await bob.keyboard.press("Enter");
  for (const page of [alice, bob]) {
    await expect(heart(page).locator(".count")).toHaveText("1");
  }
  await expect(heart(bob)).toHaveAttribute("aria-pressed", "false");
  await bob.reload();
  await waitForHydration(bob);
  await expect(heart(bob).locator(".count")).toHaveText("1");
  await expect(heart(bob).locator(".who")).toHaveText("alice");
  expect(await seriousViolations(bob), "reactions shown").toEqual([]);
});

test("a person answers a message, and its quote leads back to it even from far down the room", async ({
  browser,
}) => {
  test.setTimeout(60_000);
  const room = `/r/replies-${Date.now()}`;
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await joinAs(alice, room, "alice");
  await joinAs(bob, room, "bob");
  await say(alice, "lunch at noon?");
  await expect(messages(bob)).toHaveCount(1);

  // With the pointer: the reply button, then the composer says what it answers.
  await messages(bob).nth(0).hover();
  await messages(bob).nth(0).getByRole("button", { name: "Reply" }).click();
  const replying = bob.getByRole("group", { name: "Replying" });
  await expect(replying).toContainText("Replying to alice: lunch at noon?");
  await expect(bob.getByLabel("Message", { exact: true })).toBeFocused();
  expect(await seriousViolations(bob), "replying").toEqual([]);
  await say(bob, "noon works");
  await expect(replying).toHaveCount(0);
  for (const page of [alice, bob]) {
    const quote = messages(page).nth(1).locator(".quote");
    await expect(quote.locator(".quote-author")).toHaveText("alice");
    await expect(quote.locator(".quote-text")).toHaveText("lunch at noon?");
    await expect(messages(page).nth(1).locator(".text")).toHaveText("noon works");
  }

  // With the keyboard: Escape gives a reply up.
  await messages(bob).nth(0).getByRole("button", { name: "Reply" }).focus();
  await bob.keyboard.press("Enter");
  await expect(replying).toBeVisible();
  await expect(bob.getByLabel("Message", { exact: true })).toBeFocused();
  await bob.keyboard.press("Escape");
  await expect(replying).toHaveCount(0);

  // Far down the room: the quote loads older history until what it answers is there.
  // At the room's rate (5 a second): faster for long, and the server closes the sender.
  for (let i = 1; i <= 50; i++) {
    await say(alice, `filler ${i}`);
    await alice.waitForTimeout(210);
  }
  await expect(messages(bob)).toHaveCount(52);
  await messages(bob).nth(0).getByRole("button", { name: "Reply" }).focus();
  await bob.keyboard.press("Enter");
  await say(bob, "still on?");
  await expect(messages(alice)).toHaveCount(53);
  await bob.reload();
  await waitForHydration(bob);
  await expect(messages(bob)).toHaveCount(50);
  await expect(bob.locator("#m1")).toHaveCount(0);
  await messages(bob).last().locator(".quote").click();
  await expect(bob.locator("#m1")).toBeFocused();
  await expect(bob.locator("#m1")).toBeInViewport();
  await expect(bob.locator("#m1 .text")).toHaveText("lunch at noon?");
});

test("a message's formatting shows as formatting, by the page and by the server, and the rest stays text", async ({
  browser,
}) => {
  const room = `/r/formatting-${Date.now()}`;
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await joinAs(alice, room, "alice");
  await joinAs(bob, room, "bob");
  const field = alice.getByLabel("Message", { exact: true });
  await field.fill("> lunch at noon?\n\n**yes**, *at* `noon`\n```\nlet x = 1;\n  x + 1\n```\n# not a heading\n- nor a list");
  await field.press("Enter");
  for (const page of [alice, bob]) {
    const text = messages(page).nth(0).locator(".text");
    await expect(text.locator("blockquote")).toHaveText("lunch at noon?");
    await expect(text.locator("strong")).toHaveText("yes");
    await expect(text.locator("em")).toHaveText("at");
    await expect(text.locator("p > code")).toHaveText("noon");
    await expect(text.locator("pre > code")).toHaveText("let x = 1;\n  x + 1");
    // As written, on lines of their own.
    await expect(text.locator(":scope > p").nth(-2)).toHaveText("# not a heading");
    await expect(text.locator(":scope > p").nth(-1)).toHaveText("- nor a list");
    await expect(text.locator("h1, ul, li")).toHaveCount(0);
  }
  // The server's page, without a script, shows the same elements.
  const carol = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await carol.goto(room);
  await expect(messages(carol).nth(0).locator(".text strong")).toHaveText("yes");
  await expect(messages(carol).nth(0).locator(".text pre > code")).toHaveText("let x = 1;\n  x + 1");
  expect(await seriousViolations(bob), "formatting shown").toEqual([]);
});
