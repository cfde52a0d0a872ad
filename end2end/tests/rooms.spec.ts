import { test, expect, type Browser, type Page } from "@playwright/test";
import { joinAs, say, messages, members, waitForHydration } from "./helpers";

async function newPage(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}

test("three people in two rooms see the right messages, members and typing", async ({ browser }) => {
  const stamp = Date.now();
  const [roomA, roomB] = [`/r/alpha-${stamp}`, `/r/beta-${stamp}`];
  const alice = await newPage(browser);
  const bob = await newPage(browser);
  const carol = await newPage(browser);
  await joinAs(alice, roomA, "alice");
  await joinAs(bob, roomA, "bob");
  await joinAs(carol, roomB, "carol");
  // Bob also opens room B, in a second tab of the same session.
  const bobB = await bob.context().newPage();
  await bobB.goto(roomB);
  await expect(bobB.locator(".status-text")).toHaveText("Connected as bob");

  await expect(members(alice)).toHaveText(["alice (you)", "bob"]);
  await expect(members(bob)).toHaveText(["alice", "bob (you)"]);
  await expect(members(carol)).toHaveText(["bob", "carol (you)"]);
  await expect(members(bobB)).toHaveText(["bob (you)", "carol"]);

  // Typing shows in the typist's room only, to the others.
  await alice.getByLabel("Message", { exact: true }).pressSequentially("hel");
  await expect(bob.locator(".typing")).toHaveText("alice is typing…");
  await expect(alice.locator(".typing")).toHaveText("");
  await expect(carol.locator(".typing")).toHaveText("");
  await say(alice, "hello, alpha");
  await expect(bob.locator(".typing")).toHaveText("");
  await say(carol, "hello, beta");

  for (const page of [alice, bob]) {
    await expect(messages(page).locator(".text")).toHaveText(["hello, alpha"]);
  }
  for (const page of [carol, bobB]) {
    await expect(messages(page).locator(".text")).toHaveText(["hello, beta"]);
  }
  await say(bobB, "bob in beta");
  await expect(messages(carol).last().locator(".author")).toHaveText("bob");
  await expect(messages(alice).locator(".text")).toHaveText(["hello, alpha"]);

  // Several tabs count once: closing one leaves bob in the room; the room list counts members.
  const bobA2 = await bob.context().newPage();
  await bobA2.goto(roomA);
  await expect(bobA2.locator(".status-text")).toHaveText("Connected as bob");
  await bobA2.close();
  await expect(members(alice)).toHaveText(["alice (you)", "bob"]);
  await expect(alice.locator(".log .left")).toHaveCount(0);
  // (The list refreshes every 20 s.)
  await expect(alice.locator(".room-list a", { hasText: `#alpha-${stamp}` })).toContainText("2 online", {
    timeout: 25_000,
  });

  // Leaving for good is announced after a short grace period.
  await bob.close();
  await expect(members(alice)).toHaveText(["alice (you)"], { timeout: 15_000 });
  await expect(alice.locator(".log .left").last()).toHaveText("bob left");
});

test("nobody can take a nickname someone holds", async ({ browser }) => {
  const room = `/r/names-${Date.now()}`;
  const alice = await newPage(browser);
  await joinAs(alice, room, "alice");
  const mallory = await newPage(browser);
  await mallory.goto(room);
  await waitForHydration(mallory);
  for (const attempt of ["alice", "ALICE"]) {
    await mallory.getByLabel("Choose a nickname to start chatting").fill(attempt);
    await mallory.getByRole("button", { name: "Start chatting" }).click();
    await expect(mallory.locator(".first-visit .hint")).toHaveText(
      `The nickname ${attempt} is in use right now; choose another.`,
    );
  }
  await expect(mallory.locator(".status")).toHaveAttribute("data-state", "idle");
  // Nor by editing the WebSocket URL: the server refuses the name.
  const refusal = await mallory.evaluate(async (room) => {
    const ws = new WebSocket(`ws://${location.host}/chat/${room}?name=alice`, "chat.v1.json");
    return new Promise<string>((resolve) => (ws.onclose = (e) => resolve(`${e.code} ${e.reason}`)));
  }, room.slice(3));
  expect(refusal).toBe("1008 the nickname alice is already in use in this room");
  // Under another name, mallory joins; renaming to alice in the sidebar is refused too.
  await mallory.getByLabel("Choose a nickname to start chatting").fill("mallory");
  await mallory.getByRole("button", { name: "Start chatting" }).click();
  await expect(mallory.locator(".status-text")).toHaveText("Connected as mallory");
  await mallory.getByLabel("Nickname", { exact: true }).fill("alice");
  await mallory.getByRole("button", { name: "Change" }).click();
  await expect(mallory.locator(".you .hint")).toContainText("is in use right now");
  await expect(mallory.locator(".status-text")).toHaveText("Connected as mallory");
  await expect(members(alice)).toHaveText(["alice (you)", "mallory"]);
});

const XSS_CORPUS = [
  `<script>window.__pwned = "script"</script>`,
  `<img src=x onerror="window.__pwned='img'">`,
  `<svg onload="window.__pwned='svg'"><circle r="5"/></svg>`,
  `<svg><script>window.__pwned='svg-script'</script></svg>`,
  `<a href="javascript:window.__pwned='link'">click me</a>`,
  `javascript:window.__pwned='bare'`,
  `<iframe src="javascript:parent.__pwned='iframe'"></iframe>`,
  `<div style="background:url(javascript:alert(1))" onmouseover="window.__pwned='hover'">hover</div>`,
  `"><img src=x onerror=window.__pwned='attr'>`,
  `https://example.org/"onmouseover="window.__pwned='url'`,
  `{{constructor.constructor('window.__pwned="tpl"')()}}`,
  `[click](javascript:window.__pwned='md-link')`,
  `![x](x" onerror="window.__pwned='md-img')`,
  `**<img src=x onerror="window.__pwned='md-bold'">**`,
];

/** The corpus as the page shows it: bold loses its marks, the rest is as written. */
const XSS_SHOWN = XSS_CORPUS.map((p) => p.replace(/^\*\*(.*)\*\*$/, "$1"));

/** What a message's text may hold: the formatting subset's own elements, mentions, safe links. */
const NOT_OURS = ".log .text *:not(p, strong, em, code, pre, blockquote, span.mention, a)";

test("an XSS corpus is shown as inert text", async ({ browser }) => {
  const room = `/r/xss-corpus-${Date.now()}`;
  const sender = await newPage(browser);
  const reader = await newPage(browser);
  const dialogs: string[] = [];
  for (const page of [sender, reader]) page.on("dialog", (d) => (dialogs.push(d.message()), d.dismiss()));
  await joinAs(sender, room, "mallory");
  await joinAs(reader, room, "reader");
  for (const payload of XSS_CORPUS) await say(sender, payload);
  for (const page of [sender, reader]) {
    await expect(messages(page).locator(".text")).toHaveText(XSS_SHOWN);
    await messages(page).last().hover();
    // Nothing but text, our own elements and our own safe links inside messages.
    expect(await page.locator(NOT_OURS).count()).toBe(0);
    for (const link of await page.locator(".log .text a").all()) {
      expect(await link.getAttribute("href")).toMatch(/^https?:\/\//);
      expect(await link.getAttribute("rel")).toContain("noopener");
    }
  }
  // Reloaded from the server's HTML, too.
  await reader.reload();
  await expect(messages(reader).locator(".text")).toHaveText(XSS_SHOWN);
  expect(await reader.locator(NOT_OURS).count()).toBe(0);
  for (const page of [sender, reader]) expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  expect(dialogs).toEqual([]);
});

test("links open safely; the title counts unread messages while hidden", async ({ browser }) => {
  const room = `/r/links-${Date.now()}`;
  const ann = await newPage(browser);
  const ben = await newPage(browser);
  await joinAs(ann, room, "ann");
  await joinAs(ben, room, "ben");
  await say(ann, "docs at https://example.org/guide, and javascript:alert(1) is not a link");
  const link = ben.locator(".log .text a");
  await expect(link).toHaveCount(1);
  await expect(link).toHaveAttribute("href", "https://example.org/guide");
  await expect(link).toHaveAttribute("rel", "noopener noreferrer nofollow");
  await expect(link).toHaveAttribute("target", "_blank");

  // Ben's tab goes to the background; two messages arrive; he comes back.
  const setHidden = (hidden: boolean) =>
    ben.evaluate((hidden) => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
      Object.defineProperty(document, "visibilityState", {
        configurable: true,
        get: () => (hidden ? "hidden" : "visible"),
      });
      document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
    }, hidden);
  await expect(ben).toHaveTitle(/^#links-\d+ · Chat$/);
  await setHidden(true);
  await say(ann, "one");
  await say(ann, "two");
  await expect(ben).toHaveTitle(/^\(2\) #links-\d+ · Chat$/);
  await setHidden(false);
  await expect(ben).toHaveTitle(/^#links-\d+ · Chat$/);
  // Screen readers hear the newest message.
  await expect(ben.locator("[aria-live=polite]").last()).toHaveText("ann: two");
});

test("the log follows new messages until the reader scrolls up", async ({ browser }) => {
  const room = `/r/scroll-${Date.now()}`;
  const writer = await newPage(browser);
  const reader = await newPage(browser);
  await reader.setViewportSize({ width: 800, height: 500 });
  await joinAs(writer, room, "writer");
  await joinAs(reader, room, "reader");
  for (let i = 1; i <= 30; i++) await say(writer, `line ${i}`);
  const scroller = reader.locator(".log-scroller");
  await expect(messages(reader)).toHaveCount(30);
  const atBottom = () =>
    scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 50);
  await expect.poll(atBottom).toBe(true);
  // Scrolled up to read: new messages do not move the log, a button says they came.
  await scroller.evaluate((el) => el.scrollTo(0, 0));
  await say(writer, "while you were reading");
  await expect(reader.getByRole("button", { name: "1 new message ↓" })).toBeVisible();
  expect(await atBottom()).toBe(false);
  await reader.getByRole("button", { name: "1 new message ↓" }).click();
  await expect.poll(atBottom).toBe(true);
  await expect(reader.getByRole("button", { name: /new message/ })).toHaveCount(0);
  // Consecutive messages by one author are grouped under one name.
  await expect(reader.locator(".log .message:not(.continued)")).toHaveCount(1);
  await expect(reader.locator(".log .day")).toHaveText(["Today"]);
});

test("joining a room by name, with a clear message for a bad name", async ({ page }) => {
  await joinAs(page, "/", "wanderer");
  await page.getByLabel("Join or create a room").fill("Bad Name!");
  await page.getByRole("button", { name: "Go" }).click();
  await expect(page.locator(".join-room .hint")).toContainText("That room name cannot be used");
  const name = `fresh-${Date.now()}`;
  await page.getByLabel("Join or create a room").fill(name);
  await page.getByRole("button", { name: "Go" }).click();
  await expect(page).toHaveURL(new RegExp(`/r/${name}$`));
  await expect(page.locator("h1")).toHaveText(`#${name}`);
  await expect(page.locator(".status-text")).toHaveText("Connected as wanderer");
  await expect(page.locator(".room-list a", { hasText: `#${name}` })).toBeVisible({ timeout: 30_000 });
});

test("without JavaScript the history shows, a nickname is chosen and the form posts", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const room = `/r/nojs-${Date.now()}`;
  await page.goto(room);
  await page.getByLabel("Choose a nickname to start chatting").fill("plainform");
  await page.getByRole("button", { name: "Start chatting" }).click();
  await expect(page).toHaveURL(new RegExp(`${room}\\??$`));
  await page.getByLabel("Message", { exact: true }).fill("posted without <b>script</b>");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(messages(page).locator(".text")).toHaveText(["posted without <b>script</b>"]);
  await expect(messages(page).locator(".author")).toHaveText(["plainform"]);
  // An empty message comes back with the reason.
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.locator(".composer .hint")).toContainText("Not sent: a message must not be empty");
  await page.goto("/join?room=Not%20Valid");
  await expect(page.locator("main .join-room .hint")).toContainText("That room name cannot be used");
  await page.goto("/join?room=valid-name");
  await expect(page).toHaveURL(/\/r\/valid-name$/);
  await context.close();
});
