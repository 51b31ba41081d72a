#!/usr/bin/env node
// A Node socket.io 4.8 server (the version pinned in the root package.json)
// for the tests of our Socket.IO client and of `eiotool probe --socketio`.
//
//   node tests/interop/socketio_server.mjs [--port 0] [--recovery] ...
//
// Prints exactly one line on stdout, "listening on http://HOST:PORT", and
// exits on SIGTERM or SIGINT (at once: a restart test wants the drop).
//
// Flags:
//   --host ADDR           listen address (default 127.0.0.1)
//   --port N              0 picks a free one (default 0)
//   --path P              -> path (default /socket.io)
//   --transports LIST     -> transports: polling, websocket or both (comma-separated)
//   --ping-interval MS    -> pingInterval (default 25000)
//   --ping-timeout MS     -> pingTimeout (default 20000)
//   --recovery            -> connectionStateRecovery { maxDisconnectionDuration: 60000 }
//
// Namespaces:
//   /             every handler below
//   /admin        the same, behind a middleware: auth.token must be "secret",
//                 else next(err) with err.message "not authorized" and
//                 err.data {code: 401, hint: "send auth.token"}
//   /refuse-plain a middleware that refuses with "plain refusal" and no data
//   anything else unknown: "Invalid namespace"
//
// Handlers (an `ack` is the client's acknowledgement callback):
//   echo ...args, ack?        ack(...args), or without ack emit("echo", ...args)
//   describe ...args, ack     ack(the arguments as the server sees them: each
//                             Buffer as {"$binary": "<hex>"}, anywhere)
//   no-ack ...                never acknowledges
//   sum ...numbers, ack       ack(their sum)
//   info ack                  ack({id, engine, recovered, auth, query, transport, header, rooms})
//   join room, ack            socket.join(room); ack()
//   leave room, ack           socket.leave(room); ack()
//   to-room room, event, ...args, ack?   io.of(nsp).to(room).emit(event, ...args); ack?.()
//   ask-client event, ...args, ack       the server emits `event` with args to this
//                             client and waits up to 5 s for its ack:
//                             ack({ok: true, answer: [described args]}) or ack({ok: false, error})
//   send-binary ack           emit("binary", <Buffer 00 01 fe ff>, {nested: [<Buffer "hello">, {deep: <Buffer "">}]})
//   drop ack                  ack(), then closes this client's Engine.IO connection
//                             (a transport drop the server may recover from)
//   emit-later room, count, delay        after delay ms, count events
//                             "missed" (i, "text-" + i) to the room, 10 ms apart
//   disconnect-me             socket.disconnect() (server namespace disconnect)
import http from "node:http";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const { Server } = require("socket.io");

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    path: { type: "string", default: "/socket.io" },
    transports: { type: "string", default: "polling,websocket" },
    "ping-interval": { type: "string", default: "25000" },
    "ping-timeout": { type: "string", default: "20000" },
    recovery: { type: "boolean", default: false },
  },
});

const options = {
  path: values.path,
  transports: values.transports.split(","),
  pingInterval: Number(values["ping-interval"]),
  pingTimeout: Number(values["ping-timeout"]),
};
if (values.recovery) {
  options.connectionStateRecovery = { maxDisconnectionDuration: 60000, skipMiddlewares: true };
}

const httpServer = http.createServer((req, res) => {
  res.writeHead(404).end("Not Found");
});
const io = new Server(httpServer, options);

// Arguments as the server sees them, for the client to compare: every
// Buffer becomes {"$binary": hex}, wherever it is.
function describe(value) {
  if (Buffer.isBuffer(value)) return { $binary: value.toString("hex") };
  if (value instanceof ArrayBuffer) return { $binary: Buffer.from(value).toString("hex") };
  if (Array.isArray(value)) return value.map(describe);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = describe(v);
    return out;
  }
  return value;
}

// The acknowledgement callback if the client asked for one (the last argument).
function takeAck(args) {
  return typeof args[args.length - 1] === "function" ? args.pop() : () => {};
}

function handlers(nsp) {
  return (socket) => {
    socket.on("echo", (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      if (ack) ack(...args);
      else socket.emit("echo", ...args);
    });
    socket.on("describe", (...args) => {
      const ack = takeAck(args);
      ack(describe(args));
    });
    socket.on("no-ack", () => {});
    socket.on("sum", (...args) => {
      const ack = takeAck(args);
      ack(args.reduce((a, b) => a + b, 0));
    });
    socket.on("info", (...args) => {
      takeAck(args)({
        id: socket.id,
        engine: socket.conn.id,
        recovered: socket.recovered,
        auth: socket.handshake.auth,
        query: socket.handshake.query,
        transport: socket.conn.transport.name,
        header: socket.handshake.headers["x-test"] ?? null,
        rooms: [...socket.rooms].filter((r) => r !== socket.id),
      });
    });
    socket.on("join", (...args) => {
      const ack = takeAck(args);
      socket.join(String(args[0]));
      ack();
    });
    socket.on("leave", (...args) => {
      const ack = takeAck(args);
      socket.leave(String(args[0]));
      ack();
    });
    socket.on("to-room", (room, event, ...args) => {
      const ack = takeAck(args);
      nsp.to(String(room)).emit(String(event), ...args);
      ack();
    });
    socket.on("ask-client", async (event, ...args) => {
      const ack = takeAck(args);
      try {
        const answer = await socket.timeout(5000).emitWithAck(String(event), ...args);
        ack({ ok: true, answer: describe([answer]) });
      } catch (e) {
        ack({ ok: false, error: String(e && e.message) });
      }
    });
    socket.on("send-binary", (...args) => {
      const ack = takeAck(args);
      socket.emit("binary", Buffer.from([0, 1, 0xfe, 0xff]), {
        nested: [Buffer.from("hello"), { deep: Buffer.alloc(0) }],
      });
      ack();
    });
    socket.on("drop", (...args) => {
      takeAck(args)();
      setTimeout(() => socket.conn.close(), 20);
    });
    socket.on("emit-later", (room, count, delay) => {
      setTimeout(() => {
        let i = 0;
        const next = () => {
          nsp.to(room).emit("missed", i, "text-" + i);
          if (++i < count) setTimeout(next, 10);
        };
        next();
      }, delay);
    });
    socket.on("disconnect-me", () => socket.disconnect());
  };
}

const root = io.of("/");
root.on("connection", handlers(root));

const admin = io.of("/admin");
admin.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { code: 401, hint: "send auth.token" };
  next(err);
});
admin.on("connection", handlers(admin));

const plain = io.of("/refuse-plain");
plain.use((socket, next) => next(new Error("plain refusal")));

for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));

httpServer.listen(Number(values.port), values.host, () => {
  const { address, port } = httpServer.address();
  process.stdout.write(`listening on http://${address}:${port}\n`);
});
