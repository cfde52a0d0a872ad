import { expect, type Page } from "@playwright/test";

/** Opens a room page, waits for hydration and the connection, and takes `nickname`. */
export async function joinAs(page: Page, path: string, nickname: string) {
  await page.goto(path);
  await expect(page.locator(".status")).toHaveAttribute("data-state", "connected");
  const field = page.getByLabel("Nickname");
  await field.fill(nickname);
  await page.getByRole("button", { name: "Change" }).click();
  await expect(page.locator(".status-text")).toHaveText(`Connected as ${nickname}`);
}

/** Types `text` into the composer and presses Enter. */
export async function say(page: Page, text: string) {
  const input = page.getByLabel("Message", { exact: true });
  await input.fill(text);
  await input.press("Enter");
}

/** The log's message lines, as "author: text". */
export function messages(page: Page) {
  return page.locator(".log .message");
}
