#!/usr/bin/env node
// A deliberately broken Engine.IO server, only for fuzz_network.test.mjs: the
// engine.io 6 echo server behind a node:http server that calls
// process.abort() when a request's query has a parameter named or valued
// exactly "__proto__" (a stand-in for the prototype-pollution crashes of
// real servers). Everything else is served normally, so the fuzzer's health
// checks pass until that one input arrives.
//
//   node tests/interop/fuzz_crash_server.mjs [--port 0]
// prints "listening on http://127.0.0.1:PORT/engine.io/" and stops on SIGTERM.
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const engine = require("engine.io");

const portFlag = process.argv.indexOf("--port");
const port = portFlag >= 0 ? Number(process.argv[portFlag + 1]) : 0;

function poisoned(url) {
  const query = url.indexOf("?");
  if (query < 0) return false;
  for (const part of url.slice(query + 1).split("&")) {
    const [name, value] = part.split("=");
    if (name === "__proto__" || value === "__proto__") return true;
  }
  return false;
}

const server = new engine.Server({ allowEIO3: true });
server.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));

const httpServer = http.createServer((req, res) => {
  if (poisoned(req.url)) process.abort();
  if (req.url.startsWith("/engine.io/")) return server.handleRequest(req, res);
  res.writeHead(404);
  res.end();
});
httpServer.on("upgrade", (req, socket, head) => {
  if (poisoned(req.url)) process.abort();
  if (req.url.startsWith("/engine.io/")) return server.handleUpgrade(req, socket, head);
  socket.destroy();
});
httpServer.on("clientError", (error, socket) => socket.destroy());
httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening on http://127.0.0.1:${httpServer.address().port}/engine.io/\n`);
});
const stop = () => {
  server.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
