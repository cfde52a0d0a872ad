import { test, expect, type Page } from "@playwright/test";
import { messages, seriousViolations, waitForHydration } from "./helpers";

/** Posts `texts` to `room` through the JSON dialect, straight from `page`, as `name`. */
async function post(page: Page, room: string, name: string, texts: string[]) {
  await page.evaluate(
    async ({ room, name, texts }) => {
      const ws = new WebSocket(`ws://${location.host}/chat/${room}?name=${name}`, "chat.v1.json");
      await new Promise((resolve) => (ws.onopen = resolve));
      let acks = 0;
      const done = new Promise<void>((resolve) => {
        ws.onmessage = (e) => {
          if (JSON.parse(e.data).type === "ack" && ++acks === texts.length) resolve();
        };
      });
      texts.forEach((text, i) => ws.send(JSON.stringify({ type: "send", id: `s${i}`, text })));
      await done;
      ws.close();
    },
    { room, name, texts },
  );
}

test("search finds words in a room and in every room, and a result opens its message in the history", async ({
  page,
}) => {
  const word = `quokka${Date.now()}`;
  const room = `searching-${Date.now()}`;
  const other = `elsewhere-${Date.now()}`;
  await page.goto("/");
  await waitForHydration(page);
  // The message sought is older than what the room shows on arrival.
  const fillers = Array.from({ length: 60 }, (_, i) => `filler ${i + 1}`);
  await post(page, room, "ann", [`The ${word} <b>plan</b> is ready`, ...fillers]);
  await post(page, other, "bob", [`another ${word}`]);

  await page.goto(`/r/${room}`);
  await waitForHydration(page);
  await expect(messages(page)).toHaveCount(50);
  // By keyboard: the search field searches the room shown.
  const field = page.getByRole("searchbox", { name: "Search messages" });
  await field.focus();
  await page.keyboard.type(word.slice(0, -3));
  await expect(page.getByRole("combobox", { name: "Where" })).toHaveValue(room);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/search\\?q=${word.slice(0, -3)}&room=${room}$`));
  await expect(page.locator(".result-count")).toHaveText(`1 message has ${word.slice(0, -3)} in #${room}.`);
  const result = page.locator(".result");
  await expect(result).toHaveCount(1);
  await expect(result.locator("mark")).toHaveText(word);
  // Markup in a message is shown as the text it is.
  await expect(result.locator(".excerpt")).toHaveText(`The ${word} <b>plan</b> is ready`);
  await expect(result.locator("b")).toHaveCount(0);
  expect(await seriousViolations(page)).toEqual([]);

  // Every room.
  const where = page.getByRole("combobox", { name: "Where" });
  await where.selectOption({ label: "In every room" });
  await page.getByRole("searchbox", { name: "Search messages" }).press("Enter");
  await expect(page.locator(".result")).toHaveCount(2);
  await expect(page.locator(".result .result-room")).toHaveText([`#${other}`, `#${room}`]);

  // A result opens the room at its message, loading the older history it is in.
  await page.locator(".result").filter({ hasText: `#${room}` }).getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/r/${room}#m1$`));
  const line = page.locator("#m1");
  await expect(line).toContainText(`The ${word} <b>plan</b> is ready`);
  await expect(line).toBeFocused();
  await expect(line).toBeInViewport();
});

test("a search without words says what to type, and the results page works without JavaScript", async ({
  browser,
}) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const word = `wombat${Date.now()}`;
  const room = `nojs-search-${Date.now()}`;
  const helper = await browser.newPage();
  await helper.goto("/");
  await post(helper, room, "cid", [`a ${word} here`]);

  await page.goto(`/r/${room}`);
  await page.getByRole("searchbox", { name: "Search messages" }).fill(word);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.locator(".result mark")).toHaveText(word);
  await page.locator(".result").getByRole("link").click();
  await expect(page.locator("#m1")).toContainText(word);

  await page.goto("/search?q=%3F%3F");
  await expect(page.locator(".search-page .error")).toHaveText("Not searched: type a word to search for.");
  await context.close();
});
