import { test, expect } from "@playwright/test";
import { joinAs, say, messages, waitForHydration, seriousViolations } from "./helpers";

test("the owner of a room deletes a message and times a guest out while both watch", async ({ browser }) => {
  const owner = `own${Date.now() % 100_000_000}`;
  const room = `/r/run-${Date.now()}`;
  const ownerContext = await browser.newContext();
  // A registered person: the account's cookie is the context's.
  const registered = await ownerContext.request.post("/api/accounts", {
    data: { nickname: owner, password: "correct horse battery" },
  });
  expect(registered.status()).toBe(201);
  const mod = await ownerContext.newPage();
  await mod.goto(room);
  await waitForHydration(mod);
  await expect(mod.locator(".status-text")).toHaveText(`Connected as ${owner}`);
  // Entering a room nobody created makes it theirs.
  await expect(mod.locator(".log .notice").first()).toHaveText(`${owner} created the room`);
  await expect(mod.locator(".members .member", { hasText: owner })).toContainText("(owner)");

  const guest = await (await browser.newContext()).newPage();
  await joinAs(guest, room, "gus");
  await say(guest, "buy cheap watches");
  await expect(messages(mod).last().locator(".text")).toHaveText("buy cheap watches");

  // The owner deletes the guest's message: a tombstone for both.
  const spam = messages(mod).last();
  await spam.hover();
  await spam.getByRole("button", { name: "Message actions" }).click();
  await expect(spam.getByRole("button", { name: "Edit" })).toHaveCount(0);
  await spam.getByRole("button", { name: "Delete" }).click();
  await spam.getByRole("group", { name: "Delete this message?" }).getByRole("button", { name: "Delete" }).click();
  for (const page of [mod, guest]) {
    await expect(messages(page).last().locator(".tombstone")).toHaveText("message deleted");
  }
  // The guest is offered nothing over the owner's messages, nor over people.
  await expect(guest.locator(".members .member-toggle")).toHaveCount(0);

  // The owner times the guest out, from the member list, with a reason.
  await mod.getByRole("button", { name: "Moderate gus" }).click();
  const actions = mod.getByRole("group", { name: "Actions on gus" });
  await actions.getByLabel("Reason").fill("no ads");
  expect(await seriousViolations(mod), "member actions open").toEqual([]);
  await actions.getByRole("button", { name: "Time out 10 minutes" }).click();
  const line = `${owner} timed gus out for 10 minutes: no ads`;
  for (const page of [mod, guest]) {
    await expect(page.locator(".log .notice").last()).toHaveText(line);
  }
  // The guest is told why and until when, and what it tried is not posted.
  await say(guest, "one more");
  await expect(guest.locator(".log .notice").last()).toContainText("You are timed out in #");
  await expect(guest.locator(".log .notice").last()).toContainText("no ads");
  await expect(guest.locator(".log .pending")).toHaveCount(0);
  await expect(messages(mod).filter({ hasText: "one more" })).toHaveCount(0);

  // The owner sets the topic: the header shows it to everyone, the room list to newcomers.
  await expect(guest.getByRole("button", { name: "Room settings" })).toHaveCount(0);
  await mod.getByRole("button", { name: "Room settings" }).click();
  const settings = mod.getByRole("group", { name: "Room settings" });
  await settings.getByLabel("Topic").fill("Watches are off topic");
  await settings.getByRole("button", { name: "Set topic" }).click();
  for (const page of [mod, guest]) {
    await expect(page.locator(".room-header .topic")).toHaveText("Watches are off topic");
  }
  await guest.reload();
  await waitForHydration(guest);
  const listed = guest.locator(".room-list a", { hasText: room.slice(3) });
  await expect(listed.locator(".room-topic")).toHaveText("Watches are off topic");
});

test("the owner names a moderator, slows the room down, and reads what was done", async ({ browser }) => {
  const stamp = Date.now() % 100_000_000;
  const [owner, helper] = [`own${stamp}`, `mod${stamp}`];
  const room = `/r/slow-${Date.now()}`;
  const ownerContext = await browser.newContext();
  const ownerAccount = await ownerContext.request.post("/api/accounts", {
    data: { nickname: owner, password: "correct horse battery" },
  });
  expect(ownerAccount.status()).toBe(201);
  const ownerPage = await ownerContext.newPage();
  await ownerPage.goto(room);
  await waitForHydration(ownerPage);
  await expect(ownerPage.locator(".log .notice").first()).toHaveText(`${owner} created the room`);
  const helperContext = await browser.newContext();
  const helperAccount = await helperContext.request.post("/api/accounts", {
    data: { nickname: helper, password: "battery staple horse" },
  });
  expect(helperAccount.status()).toBe(201);
  const helperPage = await helperContext.newPage();
  await helperPage.goto(room);
  await waitForHydration(helperPage);
  await expect(helperPage.locator(".status-text")).toHaveText(`Connected as ${helper}`);
  await expect(helperPage.getByRole("button", { name: "Room settings" })).toHaveCount(0);

  // The owner makes them a moderator: their page offers them the room's settings at once.
  await ownerPage.getByRole("button", { name: "Room settings" }).click();
  const settings = ownerPage.getByRole("group", { name: "Room settings" });
  await settings.getByLabel("Nickname").fill(helper);
  await settings.getByRole("button", { name: "Make moderator" }).click();
  await expect(helperPage.locator(".members .member", { hasText: helper })).toContainText("(moderator)");
  await expect(helperPage.getByRole("button", { name: "Room settings" })).toHaveCount(1);
  // A moderator may not name moderators: only the owner is offered that.
  await helperPage.getByRole("button", { name: "Room settings" }).click();
  const theirs = helperPage.getByRole("group", { name: "Room settings" });
  await expect(theirs.getByRole("button", { name: "Make moderator" })).toHaveCount(0);

  // The moderator slows the room down; a guest may post once, then waits.
  await theirs.getByLabel("Slow mode").selectOption({ label: "30 seconds" });
  await theirs.getByRole("button", { name: "Set slow mode" }).click();
  const line = `${helper} turned slow mode on: one message every 30 seconds`;
  await expect(ownerPage.locator(".log .notice").last()).toHaveText(line);
  const guest = await (await browser.newContext()).newPage();
  await joinAs(guest, room, "gus");
  await say(guest, "first");
  await expect(messages(ownerPage).last().locator(".text")).toHaveText("first");
  await say(guest, "second");
  await expect(guest.locator(".log .notice").last()).toContainText("Slow mode: one message every 30 s");
  await expect(guest.locator(".log .pending")).toHaveCount(1);
  // Those who run the room are not slowed down.
  await say(helperPage, "one");
  await say(helperPage, "two");
  await expect(messages(ownerPage).last().locator(".text")).toHaveText("two");
  await expect(messages(ownerPage).filter({ hasText: "second" })).toHaveCount(0);

  // The owner reads what was done in the room, newest first.
  await settings.getByRole("button", { name: "Recent actions" }).click();
  const audit = settings.getByRole("list", { name: "Recent actions, newest first" });
  await expect(audit.locator("li .audit-what")).toHaveText([
    line,
    `${owner} made ${helper} a moderator`,
    `${owner} created the room`,
  ]);
  expect(await seriousViolations(ownerPage), "the settings and the audit open").toEqual([]);
  // A guest asking the server for it is refused.
  const refused = await guest.request.get(`/api/rooms/${room.slice(3)}/audit`);
  expect(refused.status()).toBe(403);
});
