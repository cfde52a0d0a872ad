import { test, expect, type Page } from "@playwright/test";
import { waitForHydration, seriousViolations } from "./helpers";

/** The section of the account page under `heading`. */
function section(page: Page, heading: string) {
  return page.locator("section", { has: page.getByRole("heading", { name: heading, exact: true }) });
}

async function fillCredentials(page: Page, heading: string, nickname: string, password: string) {
  const form = section(page, heading);
  await form.getByLabel("Nickname").fill(nickname);
  await form.getByLabel("Password").fill(password);
  await form.getByRole("button", { name: heading === "Log in" ? "Log in" : "Register" }).click();
}

test("an account registers, keeps its name from guests, and logs in from a second browser that ends the first's session", async ({
  browser,
}) => {
  const name = `acct${Date.now() % 100_000_000}`;
  const password = "correct horse battery";
  const room = `/r/accounts-${Date.now()}`;

  const first = await (await browser.newContext()).newPage();
  await first.goto("/account");
  await waitForHydration(first);
  expect(await seriousViolations(first), "logged out").toEqual([]);
  await fillCredentials(first, "Register a nickname", name, "short");
  await expect(section(first, "Register a nickname").locator(".hint")).toContainText("at least 8 characters");
  await fillCredentials(first, "Register a nickname", name, password);
  await expect(first.locator(".logged-in")).toHaveText(`Logged in as ${name}`);
  await expect(first.locator(".sessions .session")).toHaveCount(1);
  expect(await seriousViolations(first), "logged in").toEqual([]);
  if (process.env.ACCOUNT_SCREENSHOT) await first.screenshot({ path: process.env.ACCOUNT_SCREENSHOT });
  await first.goto(room);
  await waitForHydration(first);
  await expect(first.locator(".status-text")).toHaveText(`Connected as ${name}`);

  // Another browser cannot take the name as a guest...
  const second = await (await browser.newContext()).newPage();
  await second.goto(room);
  await waitForHydration(second);
  await second.getByLabel("Choose a nickname to start chatting").fill(name);
  await second.getByRole("button", { name: "Start chatting" }).click();
  await expect(second.locator(".first-visit .hint")).toContainText("is registered: log in to use it");
  // ...nor log in with a wrong password, and learns nothing from trying.
  await second.goto("/account");
  await waitForHydration(second);
  await fillCredentials(second, "Log in", name, "not the password");
  await expect(section(second, "Log in").locator(".hint")).toHaveText("Wrong nickname or password.");
  await fillCredentials(second, "Log in", name, password);
  await expect(second.locator(".logged-in")).toHaveText(`Logged in as ${name}`);
  await expect(second.locator(".sessions .session")).toHaveCount(2);

  // Ending the first browser's session closes its connection there.
  await second.locator(".sessions .session:not([data-current])").getByRole("button", { name: "Log out" }).click();
  await expect(second.locator(".sessions .session")).toHaveCount(1);
  await expect(first.locator(".status-text")).toHaveText("Not connected: this session was logged out");

  // The second browser joins the room under the name.
  await second.goto(room);
  await waitForHydration(second);
  await expect(second.locator(".status-text")).toHaveText(`Connected as ${name}`);
});

test("the account page logs in and out without JavaScript", async ({ browser }) => {
  const name = `nojs${Date.now() % 100_000_000}`;
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/account");
  await fillCredentials(page, "Register a nickname", name, "a long enough password");
  await expect(page.locator(".logged-in")).toHaveText(`Logged in as ${name}`);
  await page.getByRole("button", { name: "Log out" }).first().click();
  await expect(section(page, "Log in")).toBeVisible();
  await fillCredentials(page, "Log in", name, "wrong password!");
  await expect(section(page, "Log in").locator(".hint")).toHaveText("Wrong nickname or password.");
  await fillCredentials(page, "Log in", name, "a long enough password");
  await expect(page.locator(".logged-in")).toHaveText(`Logged in as ${name}`);
});
