import { expect, type BrowserContext, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

/** Opens a room page, chooses `nickname` (the first visit asks for one), and waits until the
 * page is connected under it. */
export async function joinAs(page: Page, path: string, nickname: string) {
  await page.goto(path);
  await waitForHydration(page);
  await page.getByLabel("Choose a nickname to start chatting").fill(nickname);
  await page.getByRole("button", { name: "Start chatting" }).click();
  await expect(page.locator(".status-text")).toHaveText(`Connected as ${nickname}`);
}

/** Waits until the wasm has taken over the server-rendered page. */
export async function waitForHydration(page: Page) {
  await expect(page.locator("html[data-hydrated]")).toHaveCount(1);
}

/** Types `text` into the composer and presses Enter. */
export async function say(page: Page, text: string) {
  const input = page.getByLabel("Message", { exact: true });
  await input.fill(text);
  await input.press("Enter");
}

/** The log's message lines. */
export function messages(page: Page) {
  return page.locator(".log .message");
}

/** The members listed in the room. */
export function members(page: Page) {
  return page.locator(".members .member");
}

/** The accessibility scan's serious and critical violations, one line each (none: an empty list). */
export async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

/** Lets a test hide the pages of `context` as a background tab would be:
 * `window.__setHidden(true)` (and back with `false`). */
export async function hideable(context: BrowserContext) {
  await context.addInitScript(() => {
    let hidden = false;
    Object.defineProperty(document, "hidden", { get: () => hidden });
    Object.defineProperty(document, "visibilityState", { get: () => (hidden ? "hidden" : "visible") });
    (window as any).__setHidden = (value: boolean) => {
      hidden = value;
      document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
    };
  });
}
