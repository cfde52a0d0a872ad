// Serves this folder's pages on loopback, for the browser tests: a page written like the seed
// pages is hosted by its own little server, and connects to the chat server named in its URL.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { join, normalize } from "node:path";

const port = Number(process.argv[2] ?? 3101);
const root = new URL(".", import.meta.url).pathname;

createServer(async (req, res) => {
  const path = normalize(new URL(req.url, "http://x").pathname).replace(/^(\.\.[/\\])+/, "");
  if (path === "/healthz") return res.end("ok");
  if (!path.endsWith(".html")) return res.writeHead(404).end();
  try {
    const body = await readFile(join(root, path));
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
}).listen(port, "127.0.0.1");
