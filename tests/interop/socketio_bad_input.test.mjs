// Bad Socket.IO input over a raw WebSocket: each case closes only its own
// connection, and a control socket (the official client) on the same server
// keeps working. Runs against the Node reference (to record what it does)
// and `eiotool serve --socketio`; where eio is stricter than the reference,
// the case says so and why (docs/node-reference-behaviour.md, Socket.IO).
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";

import { serve } from "./serve_helper.mjs";

const require = createRequire(import.meta.url);
const { io } = require("socket.io-client");
const WebSocket = require("ws");

const targets = [{ name: "node", reference: true }];
targets.push({ name: "eio", reference: false });

// A raw Engine.IO v4 WebSocket with the Socket.IO namespace "/" joined.
async function rawSocket(url) {
  const ws = new WebSocket(`${url.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
  const frames = [];
  let waiter = null;
  ws.on("message", (data, binary) => {
    const text = binary ? null : data.toString();
    if (text === "2") return ws.send("3");  // answer pings
    frames.push(binary ? data : text);
    if (waiter) waiter();
  });
  const closed = new Promise((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const next = async (ms = 3000) => {
    const deadline = Date.now() + ms;
    while (!frames.length) {
      if (Date.now() > deadline) throw new Error("no frame");
      await new Promise((r) => {
        waiter = r;
        setTimeout(r, 50);
      });
    }
    return frames.shift();
  };
  assert.match(await next(), /^0\{/);
  ws.send("40");
  assert.match(await next(), /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
  assert.equal(await next(), '42["auth",{}]');  // the demo greets every socket
  return { ws, next, closed, frames };
}

// Sends `frames` (strings: text, Buffers: binary) and reports whether the
// connection closed within `ms`.
async function sendAndWatch(url, frames, ms = 2000) {
  const { ws, closed } = await rawSocket(url);
  for (const f of frames) ws.send(f, { binary: Buffer.isBuffer(f) });
  const outcome = await Promise.race([closed.then(() => "closed"), new Promise((r) => setTimeout(() => r("open"), ms))]);
  ws.terminate();
  return outcome;
}

const mb = (c) => c.repeat(1 << 20);

// [name, frames, expected outcome per target ("closed" or "open")]
const cases = [
  ["placeholder num out of range", ['451-["e",{"_placeholder":true,"num":1}]', Buffer.from([1])]],
  ["placeholder num negative", ['451-["e",{"_placeholder":true,"num":-1}]', Buffer.from([1])]],
  ["placeholder num fractional", ['451-["e",{"_placeholder":true,"num":0.5}]', Buffer.from([1])], { node: "open" }],
  ["placeholder num a string", ['451-["e",{"_placeholder":true,"num":"0"}]', Buffer.from([1])]],
  ["placeholder num \"splice\"", ['451-["e",{"_placeholder":true,"num":"splice"}]', Buffer.from([1])]],
  ["attachments past the limit", ['4511-["e"]']],
  ["attachments absurd", ['454294967296-["e"]']],
  ["45 with no count", ["45"]],
  ["a binary frame with no pending packet", [Buffer.from([1, 2, 3])]],
  ["text while attachments are pending", ['451-["e",{"_placeholder":true,"num":0}]', '42["e"]']],
  ["42[]", ["42[]"]],
  ["42{}", ["42{}"]],
  ["42[null]", ["42[null]"]],
  ['42["a"', ['42["a"']],
  ['42[{"toString":"x"}]', ['42[{"toString":"x"}]']],
  ['42["connect"]', ['42["connect"]']],
  ['42["disconnect"]', ['42["disconnect"]']],
  ["an ack id past 2^53-1", ['429007199254740992["e"]'], { node: "open" }],
  ["a megabyte of digits in an ack id", ["42" + mb("9") + '["e"]'], { node: "open" }],
  ["a namespace of a megabyte", ["42/" + mb("n") + ',["e"]']],
];

for (const target of targets) {
  describe(`bad Socket.IO input against ${target.name}`, () => {
    let server;
    let control;
    before(async () => {
      server = await serve(["--max-payload", "4000000"], { socketio: true, reference: target.reference });
      control = io(server.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
      await new Promise((resolve, reject) => {
        control.on("connect", resolve);
        control.on("connect_error", reject);
      });
    });
    after(async () => {
      control?.close();
      if (server) await server.stop();
    });

    for (const [name, frames, per = {}] of cases) {
      test(`${target.name}: ${name}`, async () => {
        const expected = per[target.name] ?? "closed";
        assert.equal(await sendAndWatch(server.url, frames), expected);
        // The control socket goes on.
        assert.equal(await control.timeout(3000).emitWithAck("message-with-ack", name), name);
      });
    }

    test(`${target.name}: the connection itself stays usable after a valid binary event`, async () => {
      const { ws, next } = await rawSocket(server.url);
      ws.send('451-1["message-with-ack",{"_placeholder":true,"num":0}]');
      ws.send(Buffer.from([5, 6]), { binary: true });
      assert.equal(await next(), '461-1[{"_placeholder":true,"num":0}]');
      assert.deepEqual([...(await next())], [5, 6]);
      ws.terminate();
    });
  });
}
