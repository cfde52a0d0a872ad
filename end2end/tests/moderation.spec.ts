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
