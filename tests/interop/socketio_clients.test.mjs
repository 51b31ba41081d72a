// The official socket.io-client 4 (and 2) against a Socket.IO server running
// the demo application (socketio_demo_app.mjs): every feature over polling
// only, websocket only and the upgrade. Each test runs against every server
// in `targets`: the Node socket.io 4.8 reference, which proves the test and
// the demo agree with Node, and `eiotool serve --socketio`.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, describe, test } from "node:test";

import { serve } from "./serve_helper.mjs";

const require = createRequire(import.meta.url);
const { io } = require("socket.io-client");
const ioV2 = require("socket.io-client-v2");

const targets = [{ name: "node", reference: true }];
targets.push({ name: "eio", reference: false });

const transportsOf = {
  polling: { transports: ["polling"] },
  websocket: { transports: ["websocket"] },
  upgrade: { transports: ["polling", "websocket"] },
};

const opened = new Set();
after(() => {
  for (const s of opened) s.close();
});

function client(url, nsp = "/", options = {}) {
  const socket = io(url + nsp, { forceNew: true, reconnection: false, timeout: 5000, ...options });
  opened.add(socket);
  return socket;
}

function once(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    socket.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

async function connected(socket) {
  if (socket.connected) return socket;
  await Promise.race([
    once(socket, "connect"),
    once(socket, "connect_error").then(([e]) => {
      throw new Error(`connect_error: ${e.message}`);
    }),
  ]);
  return socket;
}

// Every JSON type, and binary nested in arrays and objects.
const values = [
  0, -1.5, 1e21, 2 ** 53 - 1, "", "héllo 😀", "\u0000\u001f\"\\", true, false, null, [], {},
  [1, [2, [3, { deep: [null, "x"] }]]], { a: 1, b: { c: [true, "d"] }, "": 0 },
];
const withBinary = [
  Buffer.from([0, 1, 2, 255]),
  { file: Buffer.alloc(1000, 7), meta: { parts: [Buffer.from("x"), "text", Buffer.alloc(0)] } },
  [Buffer.from("a"), [Buffer.from("b")]],
];

// Binary comes back as Buffers (Node) with the same bytes.
function normalise(value) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer) return { bytes: [...Buffer.from(value)] };
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  }
  return value;
}

for (const target of targets) {
  describe(`socket.io-client 4 against ${target.name}`, () => {
    let server;
    let url;
    test(`${target.name}: start`, async () => {
      server = await serve(["--ping-interval", "500", "--ping-timeout", "1000"], {
        socketio: true,
        reference: target.reference,
      });
      url = server.url;
    });
    after(async () => {
      if (server) await server.stop();
    });

    for (const [transport, options] of Object.entries(transportsOf)) {
      test(`${target.name} ${transport}: connect with auth, namespaces, events and acks of every type`, async () => {
        const s = client(url, "/", { ...options, auth: { token: "abc", n: [1, 2] } });
        const [auth] = await once(s, "auth");
        await connected(s);
        assert.deepEqual(auth, { token: "abc", n: [1, 2] });
        assert.equal(s.id.length, 20);
        if (transport === "upgrade") await new Promise((r) => (s.io.engine.transport.name === "websocket" ? r() : s.io.engine.once("upgrade", r)));
        const back = once(s, "message-back");
        s.emit("message", ...values);
        assert.deepEqual(await back, values);
        assert.deepEqual(normalise(await s.emitWithAck("message-with-ack", ...withBinary)), normalise(withBinary[0]));
        const echoed = await new Promise((r) => s.emit("echo", ...withBinary, (...args) => r(args)));
        assert.deepEqual(normalise(echoed), normalise(withBinary));
        const echoBack = once(s, "echo");
        s.emit("echo", ...withBinary);
        assert.deepEqual(normalise(await echoBack), normalise(withBinary));
        // Other namespaces over the same connection.
        const custom = io(url + "/custom", { ...options, reconnection: false });
        opened.add(custom);
        await connected(custom);
        assert.deepEqual(await custom.emitWithAck("message-with-ack", "custom"), "custom");
        assert.equal(custom.io, s.io === custom.io ? s.io : custom.io);
        s.close();
        custom.close();
      });
    }

    test(`${target.name}: middleware refusal and admission, slow and dynamic namespaces`, async () => {
      const refused = client(url, "/admin", { auth: { token: "nope" } });
      const [error] = await once(refused, "connect_error");
      assert.equal(error.message, "unauthorized");
      assert.equal(error.data, undefined);
      const admitted = await connected(client(url, "/admin", { auth: { token: "letmein" } }));
      const me = await admitted.emitWithAck("whoami");
      assert.deepEqual(me.rooms, ["guarded"]);
      const started = Date.now();
      await connected(client(url, "/slow"));
      assert.ok(Date.now() - started >= 900, "the slow middleware admits after about 1 s");
      const [a, b] = [client(url, "/dyn-first_1"), client(url, "/dyn-first_1")];
      await Promise.all([connected(a), connected(b)]);
      const stats = await a.emitWithAck("stats");
      assert.equal(stats.sockets["/dyn-first_1"], 2, "both CONNECTs ended in one namespace");
      const bad = client(url, "/dyn-bad!name");
      assert.equal((await once(bad, "connect_error"))[0].message, "Invalid namespace");
      const unknown = client(url, "/nowhere");
      assert.equal((await once(unknown, "connect_error"))[0].message, "Invalid namespace");
    });

    test(`${target.name}: server acks with a timeout, answered, late and repeated`, async () => {
      const s = await connected(client(url));
      s.once("ask", (...args) => args[args.length - 1]("answer", 2));
      s.emit("ask", 2000, "question");
      assert.deepEqual((await once(s, "ask-result"))[0], { ok: true, args: ["answer", 2] });
      // No answer: {ok:false} at the timeout; a late answer changes nothing.
      let late;
      s.once("ask", (...args) => (late = args[args.length - 1]));
      s.emit("ask", 100, "question");
      assert.deepEqual((await once(s, "ask-result"))[0], { ok: false });
      late("too late");
      await assert.rejects(once(s, "ask-result", 300));
      // Not a number: 1000 ms.
      s.once("ask", (...args) => args[args.length - 1]("quick"));
      s.emit("ask", "soon", "question");
      assert.deepEqual((await once(s, "ask-result"))[0], { ok: true, args: ["quick"] });
      // A client ack with a timeout, answered by the server.
      assert.equal(await s.timeout(2000).emitWithAck("message-with-ack", "fast"), "fast");
      await assert.rejects(s.timeout(200).emitWithAck("no-such-event"), /operation has timed out/);
    });

    test(`${target.name}: rooms, to-room and broadcast received exactly once`, async () => {
      const nsp = "/dyn-rooms";
      const [a, b, c] = await Promise.all([0, 1, 2].map(() => connected(client(url, nsp))));
      await a.emitWithAck("join", "r1");
      await a.emitWithAck("join", "r2");
      await b.emitWithAck("join", "r1");
      const got = { a: [], b: [], c: [] };
      for (const [name, s] of Object.entries({ a, b, c })) {
        s.on("room-message", (...args) => got[name].push(["room", ...args]));
        s.on("broadcast", (...args) => got[name].push(["all", ...args]));
      }
      await c.emitWithAck("to-room", "r1", "hello", Buffer.from([9]));
      await c.emitWithAck("to-room", b.id, "direct");
      await c.emitWithAck("broadcast", { n: 1 });
      await c.emitWithAck("to-room", 42, "names no room");
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(normalise(got.a), normalise([["room", "hello", Buffer.from([9])], ["all", { n: 1 }]]));
      assert.deepEqual(normalise(got.b), normalise([["room", "hello", Buffer.from([9])], ["room", "direct"], ["all", { n: 1 }]]));
      assert.deepEqual(got.c, [["all", { n: 1 }]]);
      assert.deepEqual(await c.emitWithAck("fetch-sockets", "r1"), [a.id, b.id].sort());
      assert.deepEqual(await c.emitWithAck("fetch-sockets", 7), []);
      await c.emitWithAck("sockets-join", "r1", "r3");
      assert.deepEqual(await c.emitWithAck("fetch-sockets", "r3"), [a.id, b.id].sort());
      assert.deepEqual((await a.emitWithAck("whoami")).rooms, ["r1", "r2", "r3"]);
      await a.emitWithAck("leave", "r2");
      await a.emitWithAck("set-data", { level: 3 });
      assert.deepEqual(await a.emitWithAck("whoami"), { sid: a.id, rooms: ["r1", "r3"], data: { level: 3 }, recovered: false });
      const gone = once(b, "disconnect");
      await c.emitWithAck("disconnect-room", "r3");
      assert.equal((await gone)[0], "io server disconnect");
      // Nobody here answers "ask": the timeout, and no answers.
      const responses = await c.emitWithAck("broadcast-ask", 200, "q");
      assert.deepEqual(responses, { error: "operation has timed out", responses: [] });
    });

    test(`${target.name}: broadcast-ask collects the answers, with the error at the timeout`, async () => {
      const nsp = "/dyn-ask";
      const [a, b] = await Promise.all([connected(client(url, nsp)), connected(client(url, nsp))]);
      a.on("ask", (q, ack) => ack(`a:${q}`));
      b.on("ask", (q, ack) => ack(`b:${q}`));
      const all = await a.emitWithAck("broadcast-ask", 2000, "q");
      assert.equal(all.error, null);
      assert.deepEqual(all.responses.sort(), ["a:q", "b:q"]);
      b.removeAllListeners("ask");
      b.on("ask", () => {});  // never answers
      const partial = await a.emitWithAck("broadcast-ask", 200, "r");
      assert.equal(partial.error, "operation has timed out");
      assert.deepEqual(partial.responses, ["a:r"]);
    });

    test(`${target.name}: 1,000 events in order across the upgrade`, async () => {
      const s = client(url, "/", transportsOf.upgrade);
      const got = [];
      s.on("message-back", (n) => got.push(n));
      await connected(s);
      for (let i = 0; i < 1000; ++i) s.emit("message", i);
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${got.length} of 1000`)), 10000);
        const check = setInterval(() => {
          if (got.length >= 1000) {
            clearTimeout(timer);
            clearInterval(check);
            resolve();
          }
        }, 20);
      });
      assert.deepEqual(got, [...Array(1000).keys()]);
      assert.equal(s.io.engine.transport.name, "websocket");
    });

    test(`${target.name}: connection state recovery: missed events in order, rooms and data back`, async () => {
      // With recovery on, every event carries its offset as a last argument
      // (the client keeps the last one and sends it back on reconnection).
      const recovering = await serve(["--state-recovery", "3000"], { socketio: true, reference: target.reference });
      try {
        const nsp = "/custom";
        const s = io(recovering.url + nsp, { forceNew: true, reconnectionDelay: 50, reconnectionDelayMax: 100, transports: ["websocket"] });
        opened.add(s);
        const sender = await connected(client(recovering.url, nsp));
        await connected(s);
        await s.emitWithAck("join", "recovery-room");
        await s.emitWithAck("set-data", "kept");
        const got = [];
        s.on("room-message", (n, offset) => {
          assert.equal(typeof offset, "string");
          got.push(n);
        });
        await sender.emitWithAck("to-room", "recovery-room", 0);
        await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(got, [0], "an offset exists once one event came");
        // Cut the transport without a close packet (as a dropped network would).
        s.io.engine.transport.ws.close();
        await once(s, "disconnect");
        for (let i = 1; i <= 5; ++i) await sender.emitWithAck("to-room", "recovery-room", i);
        await once(s, "connect", 5000);
        assert.equal(s.recovered, true);
        await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(got, [0, 1, 2, 3, 4, 5]);
        const me = await s.emitWithAck("whoami");
        assert.deepEqual(me.rooms, ["recovery-room"]);
        assert.equal(me.data, "kept");
        assert.equal(me.recovered, true);
        s.close();
        sender.close();
      } finally {
        await recovering.stop();
      }
    });

    test(`${target.name}: disconnect reasons seen by the client, and reconnection after a restart`, async () => {
      const s = await connected(client(url));
      const reason = once(s, "disconnect");
      await s.emitWithAck("join", "bye");
      s.emit("disconnect-room", "bye");
      assert.equal((await reason)[0], "io server disconnect");

      // The server goes away and comes back on the same port: the client
      // sees "transport close", then reconnects with backoff.
      const restarted = await serve([], { socketio: true, reference: target.reference });
      const port = String(restarted.port);
      const r = io(restarted.url, { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 200, transports: ["websocket"] });
      opened.add(r);
      await connected(r);
      const firstId = r.id;
      const cut = once(r, "disconnect");
      await restarted.stop();
      assert.equal((await cut)[0], "transport close");
      const attempts = [];
      r.io.on("reconnect_attempt", (n) => attempts.push(n));
      const again = await serve(["--port", port], { socketio: true, reference: target.reference });
      try {
        await once(r, "connect", 10000);
        assert.ok(attempts.length >= 1);
        assert.notEqual(r.id, firstId, "a new session (no recovery configured)");
        assert.equal(await r.emitWithAck("message-with-ack", "back"), "back");
        r.close();
      } finally {
        await again.stop();
      }
    });
  });

  describe(`socket.io-client 2 against ${target.name}`, () => {
    test(`${target.name}: socket.io-client 2 (protocol v4) with --allow-eio3`, async () => {
      const server = await serve(["--allow-eio3"], { socketio: true, reference: target.reference });
      try {
        for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
          const s = ioV2(server.url + "/custom", { forceNew: true, reconnection: false, transports, query: { token: "q" } });
          try {
            await new Promise((resolve, reject) => {
              s.on("connect", resolve);
              s.on("error", reject);
              s.on("connect_error", reject);
            });
            const back = new Promise((r) => s.once("message-back", (...args) => r(args)));
            s.emit("message", "v2", { n: [1, Buffer.from([1, 2])] });
            assert.deepEqual(normalise(await back), normalise(["v2", { n: [1, Buffer.from([1, 2])] }]));
            const acked = await new Promise((r) => s.emit("message-with-ack", "a", 1, (...args) => r(args)));
            assert.deepEqual(acked, ["a", 1]);
            const refused = ioV2(server.url + "/admin", { forceNew: true, reconnection: false, transports, query: { token: "nope" } });
            assert.equal(await new Promise((r) => refused.on("error", r)), "unauthorized");
            refused.close();
          } finally {
            s.close();
          }
        }
      } finally {
        await server.stop();
      }
    });
  });
}
