#!/usr/bin/env node
// The Node Socket.IO reference server: socket.io 4.8 (pinned in the root
// package.json) on a plain node:http server, running the demo application of
// `eiotool serve --socketio` (socketio_demo_app.mjs) with the same flags, so
// that tests, probes and benchmarks run one script against both servers, or
// both in one cluster.
//
//   node tests/interop/socketio_reference_server.mjs [--port 0] [--path /socket.io/] ...
//
// Flags (each maps to the socket.io / engine.io option after the arrow):
//   --host ADDR             listen address (default 127.0.0.1)
//   --port N                port, 0 picks a free one (default 3000)
//   --path P                -> path (default /socket.io/)
//   --ping-interval MS      -> pingInterval (default 25000)
//   --ping-timeout MS       -> pingTimeout (default 20000)
//   --max-payload BYTES     -> maxHttpBufferSize (default 1000000)
//   --transports LIST       -> transports (polling, websocket or both)
//   --allow-eio3            -> allowEIO3: true (socket.io-client 2)
//   --connect-timeout MS    -> connectTimeout (default 45000)
//   --state-recovery MS     -> connectionStateRecovery: {maxDisconnectionDuration: MS, skipMiddlewares: true}
//   --max-attachments N     -> the parser's maxAttachments (default 10)
//   --cors-origin ORIGIN    -> cors: {origin, credentials: true} (repeat)
//   --node-name NAME        the name this server answers "sse" with (default HOST:PORT)
//   --redis URL             join a cluster through Redis (redis://host:port)
//   --redis-adapter KIND    classic (default), sharded or streams
//   --redis-subscription-mode MODE  sharded: dynamic (default), dynamic-private or static
//   --redis-stream-count N  streams: streamCount (default 1)
//   --quiet                 no connection log on stderr
//
// Prints exactly one line on stdout, "listening on http://HOST:PORT/PATH",
// and stops (exit code 0) on SIGTERM or SIGINT.
import http from "node:http";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

import { installDemo } from "./socketio_demo_app.mjs";

const require = createRequire(import.meta.url);
const { Server } = require("socket.io");

function usage(message) {
  process.stderr.write(`socketio_reference_server: ${message}\n`);
  process.exit(2);
}

function integer(name, text) {
  if (!/^\d+$/.test(text ?? "")) usage(`--${name} needs a non-negative integer, got "${text}"`);
  return Number(text);
}

let values;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "3000" },
      path: { type: "string", default: "/socket.io/" },
      "ping-interval": { type: "string", default: "25000" },
      "ping-timeout": { type: "string", default: "20000" },
      "max-payload": { type: "string", default: "1000000" },
      transports: { type: "string", default: "polling,websocket" },
      "allow-eio3": { type: "boolean", default: false },
      "connect-timeout": { type: "string", default: "45000" },
      "state-recovery": { type: "string" },
      "max-attachments": { type: "string", default: "10" },
      "cors-origin": { type: "string", multiple: true, default: [] },
      "node-name": { type: "string" },
      redis: { type: "string" },
      "redis-adapter": { type: "string", default: "classic" },
      "redis-subscription-mode": { type: "string", default: "dynamic" },
      "redis-stream-count": { type: "string", default: "1" },
      quiet: { type: "boolean", default: false },
    },
  }));
} catch (e) {
  usage(e.message);
}

const log = (line) => {
  if (!values.quiet) process.stderr.write(`${line}\n`);
};

const options = {
  path: values.path,
  pingInterval: integer("ping-interval", values["ping-interval"]),
  pingTimeout: integer("ping-timeout", values["ping-timeout"]),
  maxHttpBufferSize: integer("max-payload", values["max-payload"]),
  transports: values.transports.split(",").map((t) => t.trim()),
  allowEIO3: values["allow-eio3"],
  connectTimeout: integer("connect-timeout", values["connect-timeout"]),
};
if (values["state-recovery"] !== undefined) {
  options.connectionStateRecovery = {
    maxDisconnectionDuration: integer("state-recovery", values["state-recovery"]),
    skipMiddlewares: true,
  };
}
if (values["cors-origin"].length) {
  options.cors = { origin: values["cors-origin"], credentials: true };
}
const maxAttachments = integer("max-attachments", values["max-attachments"]);
if (maxAttachments !== 10) {
  // socket.io-parser's Decoder takes maxAttachments (4.2.6); a parser object
  // whose Decoder is built with it.
  const parser = require("socket.io-parser");
  options.parser = {
    protocol: parser.protocol,
    PacketType: parser.PacketType,
    Encoder: parser.Encoder,
    Decoder: class extends parser.Decoder {
      constructor() {
        super({ maxAttachments });
      }
    },
  };
}

const httpServer = http.createServer((req, res) => {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("Not Found");
});
const io = new Server(httpServer, options);

let redisClients = [];
async function attachRedis() {
  if (!values.redis) return;
  const { createClient } = require("redis");
  const kind = values["redis-adapter"];
  if (kind === "streams") {
    const { createAdapter } = require("@socket.io/redis-streams-adapter");
    const client = createClient({ url: values.redis });
    await client.connect();
    redisClients = [client];
    io.adapter(createAdapter(client, { streamCount: integer("redis-stream-count", values["redis-stream-count"]) }));
  } else if (kind === "sharded") {
    const { createShardedAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: values.redis });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    redisClients = [pub, sub];
    io.adapter(createShardedAdapter(pub, sub, { subscriptionMode: values["redis-subscription-mode"] }));
  } else if (kind === "classic") {
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: values.redis });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    redisClients = [pub, sub];
    io.adapter(createAdapter(pub, sub));
  } else {
    usage(`--redis-adapter must be classic, sharded or streams, got "${kind}"`);
  }
}

await attachRedis();
// node-redis emits "error" when Redis goes away; with no listener that would
// end the process (the classic adapter adds one itself, the sharded and
// streams adapters do not). Log it and let the client reconnect.
for (const client of redisClients) client.on("error", (e) => log(`redis error: ${e.message}`));
httpServer.listen(Number(values.port), values.host, () => {
  const { port } = httpServer.address();
  const nodeName = values["node-name"] ?? `${values.host}:${port}`;
  installDemo(io, { nodeName, clustered: Boolean(values.redis) });
  io.engine.on("connection_error", (e) => log(`refused ${e.req.url}: ${e.code} ${e.message}`));
  for (const name of ["/", "/custom", "/admin", "/slow"]) {
    io.of(name).on("connection", (socket) => {
      log(`connect ${name} ${socket.id}`);
      socket.on("disconnect", (reason) => log(`disconnect ${name} ${socket.id}: ${reason}`));
    });
  }
  process.stdout.write(`listening on http://${values.host}:${port}${values.path}\n`);
});

const stop = async () => {
  io.close();
  // quit() waits for a Redis that is gone (it queues until a reconnection):
  // a second at most, then the process goes anyway.
  const quitAll = Promise.all(redisClients.map((client) => client.quit().catch(() => {})));
  await Promise.race([quitAll, new Promise((r) => setTimeout(r, 1000))]);
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
