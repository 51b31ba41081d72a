// engine.io-client 6 against the example servers of examples/ (their paths in
// EIO_EXAMPLE_SERVERS, "name=path" separated by ","): every message echoed
// over polling, over WebSocket, and across the upgrade (which must happen),
// for the epoll adapter on eio::wire as for the two ways on Poco. Each
// server prints "port N" once listening and exits 0 on SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "engine.io-client";
import { startServer } from "./spawn_server.mjs";

assert.ok(process.env.EIO_EXAMPLE_SERVERS, "EIO_EXAMPLE_SERVERS must name the example servers");
const servers = process.env.EIO_EXAMPLE_SERVERS.split(",").map((entry) => entry.split("="));

const start = (binary) => startServer(binary, ["--port", "0"]);

const asBytes = (m) => (typeof m === "string" ? m : Array.from(new Uint8Array(m)));
const samples = ["héllo € 😀", "plain", "x".repeat(70000), new Uint8Array([0, 1, 2, 255]), new Uint8Array([])];

function echo(url, options, messages) {
  return new Promise((resolve, reject) => {
    const socket = new Socket(url, options);
    const got = [];
    let upgraded = false;
    const timer = setTimeout(() => reject(new Error(`timeout after ${got.length} echoes`)), 15000);
    const send = () => messages.forEach((m) => socket.send(m));
    // Across the upgrade: half before it, half after.
    if (options.transports.length > 1) {
      socket.on("open", () => socket.send(messages[0]));
      socket.on("upgrade", () => {
        upgraded = true;
        messages.slice(1).forEach((m) => socket.send(m));
      });
    } else {
      socket.on("open", send);
    }
    socket.on("message", (m) => {
      got.push(m);
      if (got.length === messages.length) {
        clearTimeout(timer);
        const transport = socket.transport.name;
        socket.close();
        resolve({ got, upgraded, transport });
      }
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

for (const [name, binary] of servers) {
  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
    test(`${name}: engine.io-client 6 echoes over ${transports.join(" -> ")}`, async () => {
      const server = await start(binary);
      try {
        const { got, upgraded, transport } = await echo(server.url, { transports }, samples);
        assert.deepEqual(got.map(asBytes), samples.map(asBytes));
        assert.equal(transport, transports.at(-1));
        if (transports.length > 1) assert.ok(upgraded, "the upgrade happened");
      } finally {
        assert.equal(await server.stop(), 0);
      }
    });
  }
}
