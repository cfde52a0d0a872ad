import { test, expect, type Page } from "@playwright/test";
import { joinAs, say, waitForHydration, seriousViolations } from "./helpers";

const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 800 };

/** A room with some conversation in it, seen by `page` as `nickname`. */
async function populatedRoom(page: Page, room: string, nickname: string) {
  await joinAs(page, room, nickname);
  await say(page, "Morning! Has anyone tried the new build?");
  await say(page, "It resumes after a reconnect now: https://example.org/changelog");
  await expect(page.locator(".log .pending")).toHaveCount(0);
}


test("an accessibility scan finds nothing serious, in both themes", async ({ page }) => {
  await populatedRoom(page, `/r/a11y-${Date.now()}`, "reader");
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    expect(await seriousViolations(page), `room, ${scheme}`).toEqual([]);
  }
  // The first-visit page (nickname form) too.
  const fresh = await (await page.context().browser()!.newContext()).newPage();
  await fresh.goto("/");
  await waitForHydration(fresh);
  expect(await seriousViolations(fresh), "first visit").toEqual([]);
});

test("at 360 px wide the page has no horizontal scroll", async ({ page }) => {
  await page.setViewportSize(PHONE);
  await populatedRoom(page, `/r/narrow-${Date.now()}`, "phone");
  await say(page, "averyveryverylongwordwithoutanyspacesthatwouldotherwisepushthelayoutsideways".repeat(2));
  for (const path of [page.url(), "/"]) {
    await page.goto(path);
    await waitForHydration(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
});

test("dark mode follows the system and the toggle, and is remembered", async ({ page }) => {
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto("/");
  await waitForHydration(page);
  expect(await background()).toBe("rgb(20, 23, 28)");
  const toggle = page.getByRole("button", { name: "Dark theme" });
  await expect(toggle).toHaveAttribute("aria-pressed", "true");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  expect(await background()).toBe("rgb(244, 245, 247)");
  await page.reload();
  await waitForHydration(page);
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  expect(await background()).toBe("rgb(244, 245, 247)");
  // And from light to dark by hand, whatever the system says.
  await page.emulateMedia({ colorScheme: "light" });
  await toggle.click();
  expect(await background()).toBe("rgb(20, 23, 28)");
});

test("everything can be reached and used with the keyboard", async ({ page }) => {
  await joinAs(page, `/r/keys-${Date.now()}`, "typist");
  // The skip link is the first stop and leads to the message box.
  await page.reload();
  await expect(page.locator(".status")).toHaveAttribute("data-state", "connected");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Skip to the message box" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByLabel("Message", { exact: true })).toBeFocused();
  await page.keyboard.type("sent from the keyboard");
  await page.keyboard.press("Enter");
  await expect(page.locator(".log .message .text").last()).toHaveText("sent from the keyboard");
  // Every control has a name (labels, not placeholders).
  for (const input of await page.locator("input:not([type=hidden])").all()) {
    await expect(input).toHaveAccessibleName(/.+/);
  }
});

test("screenshots: lobby and room, desktop and phone, light and dark", async ({ browser }, testInfo) => {
  const stamp = Date.now();
  const room = `/r/design-${stamp}`;
  const other = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  await joinAs(other, room, "sam");
  for (const [device, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    for (const scheme of ["light", "dark"] as const) {
      const context = await browser.newContext({ viewport, colorScheme: scheme });
      const page = await context.newPage();
      const me = `${device}-${scheme}`;
      await joinAs(page, room, me);
      await say(other, `Hello @${me}! Notes are at https://example.org/notes`);
      await say(page, "Thanks, reading them now.\n> the **second** part\n\nwhat does `retain` do there?");
      await other.getByLabel("Message", { exact: true }).pressSequentially("One more thing");
      await expect(page.locator(".typing")).toHaveText("sam is typing…");
      await expect(page.locator(".log .pending")).toHaveCount(0);
      for (const [name, path] of [["room", room], ["lobby", "/"]] as const) {
        if (name === "lobby") {
          await page.goto(path);
          await expect(page.locator(".status")).toHaveAttribute("data-state", "connected");
        }
        const file = testInfo.outputPath(`screenshots/${name}-${device}-${scheme}.png`);
        await page.screenshot({ path: file, fullPage: device === "phone" });
        await testInfo.attach(`${name}-${device}-${scheme}`, { path: file, contentType: "image/png" });
      }
      await context.close();
    }
  }
});
