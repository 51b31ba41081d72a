// socket.io-client 4 in a real browser: Debian's headless Chromium, driven
// through playwright-core, loads a page from another origin (a second local
// HTTP server) with the official browser bundle, connects to the Socket.IO
// server over polling, websocket and the upgrade with CORS and credentials,
// and exchanges events with ArrayBuffer and Blob arguments and acks both
// ways. Runs against every server of `targets` (as socketio_clients.test.mjs).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";

import { serve } from "./serve_helper.mjs";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const chromiumPath = process.env.EIO_CHROMIUM ?? "/usr/bin/chromium";
// The bundle is not among the package's exports: found beside its package.json.
const bundle = readFileSync(new URL("dist/socket.io.min.js", `file://${require.resolve("socket.io-client/package.json")}`));

const targets = [{ name: "node", reference: true }];
targets.push({ name: "eio", reference: false });

// The page's origin: a server of its own, so every request to the Socket.IO
// server is cross-origin.
function pageServer() {
  const server = http.createServer((req, res) => {
    if (req.url === "/socket.io.min.js") {
      res.writeHead(200, { "Content-Type": "text/javascript" });
      res.end(bundle);
    } else {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end('<!doctype html><html><head><script src="/socket.io.min.js"></script></head><body>eio</body></html>');
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// What runs in the page: connect, send binary both ways, acks both ways.
async function inPage({ url, transports }) {
  const socket = io(url, { transports, withCredentials: true, reconnection: false, auth: { from: "browser" } });
  const result = {};
  await new Promise((resolve, reject) => {
    socket.on("connect", resolve);
    socket.on("connect_error", (e) => reject(new Error(`connect_error: ${e.message}`)));
  });
  if (transports.length === 2 && socket.io.engine.transport.name !== "websocket") {
    await new Promise((resolve) => socket.io.engine.once("upgrade", resolve));
  }
  result.transport = socket.io.engine.transport.name;
  // Bytes out as an ArrayBuffer and a Blob; they come back as ArrayBuffers.
  const buffer = new Uint8Array([0, 1, 2, 253, 254, 255]).buffer;
  const blob = new Blob([new Uint8Array([7, 8, 9])]);
  const acked = await socket.timeout(5000).emitWithAck("message-with-ack", buffer, { nested: [blob, "text"] });
  result.ackedBytes = Array.from(new Uint8Array(acked));
  const echoed = await new Promise((resolve) => socket.emit("echo", { list: [buffer, blob] }, (...args) => resolve(args)));
  result.echoed = echoed.map((a) => ({
    list: a.list.map((b) => (b instanceof ArrayBuffer ? Array.from(new Uint8Array(b)) : b)),
  }));
  // The server asks, the page acks with binary.
  socket.on("ask", (question, ack) => ack(new Uint8Array([question.length]).buffer, "ok"));
  const answer = new Promise((resolve) => socket.once("ask-result", resolve));
  socket.emit("ask", 3000, "four");
  const got = await answer;
  result.ask = { ok: got.ok, first: Array.from(new Uint8Array(got.args[0])), second: got.args[1] };
  socket.close();
  return result;
}

for (const target of targets) {
  describe(`socket.io-client 4 in Chromium against ${target.name}`, () => {
    let browser;
    let page;
    let pages;
    let server;
    before(async () => {
      assert.ok(existsSync(chromiumPath), `Chromium not found at ${chromiumPath} (scripts/install-deps installs Debian's)`);
      pages = await pageServer();
      const origin = `http://127.0.0.1:${pages.address().port}`;
      server = await serve(["--cors-origin", origin], { socketio: true, reference: target.reference });
      browser = await chromium.launch({
        executablePath: chromiumPath,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"],
      });
      page = await browser.newPage();
      await page.goto(`${origin}/`);
    });
    after(async () => {
      if (browser) await browser.close();
      if (pages) pages.close();
      if (server) await server.stop();
    });

    for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
      test(`${target.name}: ${transports.join("+")} with CORS, credentials, ArrayBuffer and Blob, acks both ways`, async () => {
        const result = await page.evaluate(inPage, { url: server.url, transports });
        assert.equal(result.transport, transports[transports.length - 1]);
        assert.deepEqual(result.ackedBytes, [0, 1, 2, 253, 254, 255]);
        assert.deepEqual(result.echoed, [{ list: [[0, 1, 2, 253, 254, 255], [7, 8, 9]] }]);
        assert.deepEqual(result.ask, { ok: true, first: [4], second: "ok" });
      });
    }
  });
}
