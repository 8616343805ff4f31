#!/usr/bin/env node
// Serves the static export (out/) and forwards /api/* to a LangOrch server, so the UI
// and the API share one origin without FastAPI serving the files (the same mapping as
// backend/langorch/api/static.py). Used by the e2e run when the backend does not serve
// the UI itself, and handy for trying a fresh build against a running server:
//   node e2e/serve-ui.mjs --api http://127.0.0.1:8000 --port 3000
import { createReadStream, existsSync, statSync } from "node:fs";
import http from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

function fileFor(root, pathname) {
  const clean = decodeURIComponent(pathname).replace(/^\/+/, "");
  const tries = clean === "" ? ["index.html"] : [clean, `${clean.replace(/\/+$/, "")}.html`, `${clean.replace(/\/+$/, "")}/index.html`];
  for (const rel of tries) {
    const full = normalize(join(root, rel));
    if (!full.startsWith(root + sep)) continue;
    if (existsSync(full) && statSync(full).isFile()) return { file: full, status: 200 };
  }
  const notFound = join(root, "404.html");
  return existsSync(notFound) ? { file: notFound, status: 404 } : { file: join(root, "index.html"), status: 200 };
}

/** Starts the server; resolves with {port, close}. */
export function serveUi({ root, api, port = 0 }) {
  const dir = resolve(root);
  const target = new URL(api);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://local");
    if (url.pathname === "/api" || url.pathname.startsWith("/api/") || url.pathname === "/openapi.json" || url.pathname.startsWith("/docs")) {
      const upstream = http.request(
        { hostname: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host }, agent: false },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on("error", (err) => {
        res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "bad_gateway", message: String(err), details: null } }));
      });
      res.on("close", () => upstream.destroy());
      req.pipe(upstream);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" });
      res.end();
      return;
    }
    const { file, status } = fileFor(dir, url.pathname);
    res.writeHead(status, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((ok) => {
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      ok({ port: typeof address === "object" && address ? address.port : port, close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }) });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const here = fileURLToPath(new URL(".", import.meta.url));
  const { port } = await serveUi({ root: arg("--root", join(here, "..", "out")), api: arg("--api", "http://127.0.0.1:8000"), port: Number(arg("--port", "3000")) });
  console.log(`UI on http://127.0.0.1:${String(port)} (API forwarded to ${arg("--api", "http://127.0.0.1:8000")})`);
}
