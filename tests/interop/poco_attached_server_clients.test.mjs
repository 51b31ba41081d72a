// engine.io-client 6 against eio::poco_attached_server attached to a Poco HTTPServer
// (examples/attached_echo.cpp, its path in EIO_POCO_HANDLER_ECHO): echoes
// over polling, WebSocket, and the upgrade; the application's own route
// still answers. Run by ctest as `node --test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "engine.io-client";
import { startServer } from "./spawn_server.mjs";

assert.ok(process.env.EIO_POCO_HANDLER_ECHO, "EIO_POCO_HANDLER_ECHO must name the echo server binary");

const start = () => startServer(process.env.EIO_POCO_HANDLER_ECHO, ["--port", "0"]);

const asBytes = (m) => (typeof m === "string" ? m : Array.from(new Uint8Array(m)));
const samples = ["héllo € 😀", "plain", new Uint8Array([0, 1, 2, 255]), new Uint8Array([])];

function echo(url, options, messages) {
  return new Promise((resolve, reject) => {
    const socket = new Socket(url, options);
    const got = [];
    let upgraded = false;
    const timer = setTimeout(() => reject(new Error(`timeout after ${got.length} echoes`)), 15000);
    socket.on("open", () => messages.forEach((m) => socket.send(m)));
    socket.on("upgrade", () => (upgraded = true));
    socket.on("message", (m) => {
      got.push(m);
      if (got.length === messages.length) {
        clearTimeout(timer);
        socket.close();
        resolve({ got, upgraded });
      }
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
  test(`engine.io-client 6 echoes through a Poco HTTPServer over ${transports.join(" -> ")}`, async () => {
    const server = await start();
    try {
      const { got } = await echo(server.url, { transports }, samples);
      assert.deepEqual(got.map(asBytes), samples.map(asBytes));
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
}

test("the upgrade completes, then messages go over the WebSocket; app routes still answer", async () => {
  const server = await start();
  try {
    const result = await new Promise((resolve, reject) => {
      const socket = new Socket(server.url);
      const timer = setTimeout(() => reject(new Error("no upgrade")), 15000);
      socket.on("upgrade", () => socket.send("after upgrade"));
      socket.on("message", (m) => {
        clearTimeout(timer);
        const transport = socket.transport.name;
        socket.close();
        resolve({ m, transport });
      });
      socket.on("error", reject);
    });
    assert.deepEqual(result, { m: "after upgrade", transport: "websocket" });
    const hello = await fetch(`${server.url}/hello`);
    assert.equal(await hello.text(), "hello from the app");
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
