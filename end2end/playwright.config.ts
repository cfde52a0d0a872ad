import { defineConfig } from "@playwright/test";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// The release server built by `cargo leptos build --release --precompress`, on its own port and
// data directory, started in an empty directory: the site it serves is the one inside it
// (LEPTOS_SITE_ROOT, if set, serves a directory instead).
const port = Number(process.env.E2E_PORT ?? 3100);
const server = resolve(process.env.E2E_SERVER_BIN ?? "../target/release/server");
const dataDir = resolve("../target/e2e-data");
mkdirSync(dataDir, { recursive: true });
const emptyDir = mkdtempSync(join(tmpdir(), "chat-e2e-"));
// A second little server hosts the plain JavaScript page written like the seed pages.
export const pagesPort = port + 1;
// Where the server stands in for seed 004's echo server and Tornado room: the copies of their
// pages in pages/ name these ports (their only change from the seed), so they are fixed.
export const echoPort = 3102;
export const tornadoPort = 3103;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  workers: 2,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        launchOptions: {
          // Debian's Chromium: Playwright's own browser download is not available everywhere.
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            // Without these a machine with no internet floods Chromium with refused connections.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      },
    },
  ],
  webServer: [
    {
      command: `node pages/serve.mjs ${pagesPort}`,
      url: `http://127.0.0.1:${pagesPort}/healthz`,
      reuseExistingServer: false,
    },
    {
      // The seed-style page is served from its own port: another origin, allowed by name. Every
      // person in every test comes from one address, so its quotas of new sessions, rooms and
      // registrations are raised (they are tested in the server's own tests).
      command: `${server} --addr 127.0.0.1:${port} --data-dir ${dataDir} --allowed-origins http://127.0.0.1:${pagesPort} --echo-addr 127.0.0.1:${echoPort} --tornado-addr 127.0.0.1:${tornadoPort} --new-sessions-per-minute 10000 --new-rooms-per-hour 10000 --registrations-per-hour 1000`,
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      cwd: emptyDir,
      env: { RUST_LOG: "warn" },
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
