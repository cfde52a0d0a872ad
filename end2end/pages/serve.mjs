// Serves this folder's pages on loopback, for the browser tests: the seed pages are hosted by
// their own little server (another origin than the chat server's), as they were. Seed 004's
// Tornado page loads jQuery from /static/, as its Tornado app served it: here from npm's package.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { join, normalize } from "node:path";

const port = Number(process.argv[2] ?? 3101);
const root = new URL(".", import.meta.url).pathname;
const jquery = new URL("../node_modules/jquery/dist/jquery.min.js", import.meta.url).pathname;

createServer(async (req, res) => {
  const path = normalize(new URL(req.url, "http://x").pathname).replace(/^(\.\.[/\\])+/, "");
  if (path === "/healthz") return res.end("ok");
  if (path === "/static/jquery-2.1.4.min.js") {
    const body = await readFile(jquery);
    return res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(body);
  }
  if (!path.endsWith(".html")) return res.writeHead(404).end();
  try {
    const body = await readFile(join(root, path));
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(body);
  } catch {
    res.writeHead(404).end();
  }
}).listen(port, "127.0.0.1");
