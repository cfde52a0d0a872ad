// How long the page takes to become live on a slow phone: Chromium with DevTools' "Fast 3G"
// network (562.5 ms of latency per request, 180,000 B/s down, 84,375 B/s up) and its CPU slowed
// 4 times, a new browser context (empty cache) for every load. Run by bench/page-load.sh.
//
// For each load it reads, from the page's own clock (ms since navigation started):
//   html      the document's last byte
//   paint     the first contentful paint (the server's HTML, readable and usable with forms)
//   wasm      the wasm's last byte
//   live      the app hydrated (the page marks <html data-hydrated>): buttons, live updates
// and the bytes the wasm and its JavaScript took on the wire.
"use strict";
const { chromium } = require("@playwright/test");

const FAST_3G = {
  offline: false,
  latency: 562.5,
  downloadThroughput: 180_000,
  uploadThroughput: 84_375,
};

async function load(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Records when the app marks the page as hydrated, on the page's clock.
  await page.addInitScript(() => {
    // The document exists before its root element does: watch the whole of it.
    new MutationObserver((_, observer) => {
      if (document.documentElement?.hasAttribute("data-hydrated")) {
        window.__live = performance.now();
        observer.disconnect();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"] });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", FAST_3G);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  await page.goto(url, { waitUntil: "commit", timeout: 120_000 });
  await page.waitForFunction(() => window.__live !== undefined, null, { timeout: 120_000 });
  const marks = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const paint = performance.getEntriesByName("first-contentful-paint")[0];
    const resources = performance.getEntriesByType("resource");
    const wasm = resources.find((r) => r.name.endsWith(".wasm"));
    const js = resources.find((r) => /\/pkg\/[^/]*\.js$/.test(r.name));
    return {
      html: nav.responseEnd,
      paint: paint ? paint.startTime : NaN,
      wasm: wasm ? wasm.responseEnd : NaN,
      live: window.__live,
      wasmBytes: wasm ? wasm.transferSize : NaN,
      jsBytes: js ? js.transferSize : NaN,
    };
  });
  await context.close();
  return marks;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const [url, runsArg] = process.argv.slice(2);
  const runs = Number(runsArg ?? 5);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || undefined,
    args: ["--no-sandbox"],
  });
  try {
    const all = [];
    for (let i = 0; i < runs; i++) {
      const marks = await load(browser, url);
      all.push(marks);
      console.log(
        `load ${i + 1}: html ${marks.html.toFixed(0)} ms, paint ${marks.paint.toFixed(0)} ms, ` +
          `wasm ${marks.wasm.toFixed(0)} ms, live ${marks.live.toFixed(0)} ms ` +
          `(wasm ${marks.wasmBytes} B, js ${marks.jsBytes} B on the wire)`,
      );
    }
    const m = (key) => median(all.map((marks) => marks[key])).toFixed(0);
    console.log(
      `median of ${runs}: html ${m("html")} ms, paint ${m("paint")} ms, wasm ${m("wasm")} ms, ` +
        `live ${m("live")} ms; wasm to live ${median(all.map((x) => x.live - x.wasm)).toFixed(0)} ms`,
    );
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
