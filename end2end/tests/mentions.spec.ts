import { test, expect, type BrowserContext } from "@playwright/test";
import { hideable, joinAs, messages, say, seriousViolations, waitForHydration } from "./helpers";

/** Records the notifications the pages of `context` create (the real constructor still runs). */
async function watchNotifications(context: BrowserContext) {
  await context.addInitScript(() => {
    const w = window as any;
    w.__notifications = [];
    const Real = w.Notification;
    if (Real) {
      w.Notification = class extends Real {
        constructor(title: string, options?: NotificationOptions) {
          w.__notifications.push({ title, body: options?.body ?? "" });
          super(title, options);
        }
      };
    }
  });
}

test("a person completes a name by keyboard, and the person named is told even with the page hidden", async ({
  browser,
}) => {
  const room = `/r/mentions-${Date.now()}`;
  const aliceContext = await browser.newContext();
  await watchNotifications(aliceContext);
  await hideable(aliceContext);
  const alice = await aliceContext.newPage();
  const bob = await (await browser.newContext()).newPage();
  await joinAs(alice, room, "alice");
  await joinAs(bob, room, "bob");
  await joinAs(await (await browser.newContext()).newPage(), room, "alfred");

  // Alice allows notifications: the page asks the browser only when she clicks.
  await expect(alice.getByRole("button", { name: "Notify me of mentions" })).toBeVisible();
  await aliceContext.grantPermissions(["notifications"]);
  await alice.getByRole("button", { name: "Notify me of mentions" }).click();
  await expect(alice.getByText("Mentions notify you")).toBeVisible();

  // Bob types "@al": both names that start so are offered, arrows choose, Tab takes one.
  const field = bob.getByLabel("Message", { exact: true });
  await field.pressSequentially("lunch @al");
  const options = bob.getByRole("listbox", { name: "People to mention" }).getByRole("option");
  await expect(options).toHaveText(["@alfred", "@alice"]);
  await expect(options.nth(0)).toHaveAttribute("aria-selected", "true");
  await expect(field).toHaveAttribute("aria-activedescendant", "mention-option-0");
  expect(await seriousViolations(bob), "names offered").toEqual([]);
  await field.press("ArrowDown");
  await expect(options.nth(1)).toHaveAttribute("aria-selected", "true");
  await field.press("Tab");
  await expect(field).toHaveValue("lunch @alice ");
  await expect(field).toBeFocused();
  await expect(options).toHaveCount(0);
  // Escape closes the list and keeps what was typed; Enter then sends.
  await field.pressSequentially("and @alf");
  await expect(options).toHaveText(["@alfred"]);
  await field.press("Escape");
  await expect(options).toHaveCount(0);
  await field.press("Enter");
  await expect(messages(alice)).toHaveCount(1);

  // The line calls Alice: marked on her page, her name more than the other one.
  const line = messages(alice).nth(0);
  await expect(line).toHaveClass(/mentioned/);
  await expect(line.locator(".mention.me")).toHaveText("@alice");
  await expect(line.locator(".mention:not(.me)")).toHaveText("@alf");
  await expect(messages(bob).nth(0)).not.toHaveClass(/mentioned/);
  await expect(messages(bob).nth(0).locator(".mention.me")).toHaveCount(0);

  // With Alice's page hidden: a mention notifies her and counts in the title; another line
  // only counts.
  await alice.evaluate(() => (window as any).__setHidden(true));
  await say(bob, "@ALICE are you there?");
  await say(bob, "anyone else?");
  await expect(alice).toHaveTitle(`(@1 · 2) #${room.slice(3)} · Chat`);
  const shown = await alice.evaluate(() => (window as any).__notifications);
  expect(shown).toEqual([{ title: `bob mentioned you in #${room.slice(3)}`, body: "@ALICE are you there?" }]);
  // Back on the page, the counts are cleared.
  await alice.evaluate(() => (window as any).__setHidden(false));
  await expect(alice).toHaveTitle(`#${room.slice(3)} · Chat`);

  // A mention by pointer: a click on a name takes it.
  await field.pressSequentially("@ali");
  await options.filter({ hasText: "@alice" }).click();
  await expect(field).toHaveValue("@alice ");
  await expect(field).toBeFocused();

  // The server's page marks the same.
  await alice.reload();
  await waitForHydration(alice);
  await expect(messages(alice).filter({ hasText: "are you there" })).toHaveClass(/mentioned/);
  await expect(messages(alice).filter({ hasText: "anyone else" })).not.toHaveClass(/mentioned/);
  expect(await seriousViolations(alice), "mentions shown").toEqual([]);
});
