// The official JavaScript clients against a live `eiotool serve` (its echo
// and broadcast application). Run by ctest as `node --test`, with the path of
// eiotool in EIO_EIOTOOL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "engine.io-client";
import { serve, echo } from "./serve_helper.mjs";

assert.ok(process.env.EIO_EIOTOOL, "EIO_EIOTOOL must name the eiotool binary");

const asBytes = (m) => (typeof m === "string" ? m : Array.from(new Uint8Array(m)));

const samples = ["héllo € 😀", "plain", new Uint8Array([0, 1, 2, 255]), new Uint8Array([])];

for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
  test(`engine.io-client 6 echoes text and binary over ${transports.join(" -> ")}`, async () => {
    const server = await serve();
    try {
      const { got, transport } = await echo(server.url, { transports }, samples);
      assert.deepEqual(got.map(asBytes), samples.map(asBytes));
      // With both, the echoes may all come back before the upgrade ends; the
      // upgrade itself is checked by the 1,000-message test below.
      assert.ok(transports.includes(transport), transport);
      if (transports.length === 1) assert.equal(transport, transports[0]);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
}

test("engine.io-client 6: 1,000 messages each way stay in order across the upgrade", async () => {
  const server = await serve();
  try {
    const messages = Array.from({ length: 1000 }, (_, i) => (i % 10 === 9 ? new Uint8Array([i & 255, i >> 8]) : `m${i}`));
    const result = await new Promise((resolve, reject) => {
      const socket = new Socket(server.url);
      const got = [];
      let sent = 0;
      let upgradedAt = -1;
      const timer = setTimeout(() => reject(new Error(`timeout after ${got.length} echoes`)), 30000);
      // A steady stream, so the upgrade (polling -> websocket) lands inside it.
      const pump = () => {
        for (let i = 0; i < 5 && sent < messages.length; i++) socket.send(messages[sent++]);
        if (sent < messages.length) setTimeout(pump, 2);
      };
      socket.on("open", pump);
      socket.on("upgrade", () => (upgradedAt = sent));
      socket.on("message", (m) => {
        got.push(m);
        if (got.length === messages.length) {
          clearTimeout(timer);
          socket.close();
          resolve({ got, upgradedAt });
        }
      });
      socket.on("error", reject);
    });
    assert.ok(result.upgradedAt > 0 && result.upgradedAt < messages.length,
              `the upgrade should land inside the stream (at message ${result.upgradedAt})`);
    assert.deepEqual(result.got.map(asBytes), messages.map(asBytes));
  } finally {
    await server.stop();
  }
});

for (const transports of [["polling"], ["websocket"]]) {
  test(`engine.io-client 6: a message of exactly max payload echoes, one byte more closes (${transports[0]})`, async () => {
    const server = await serve(["--max-payload", "1000"]);
    try {
      const exact = "x".repeat(999); // "4" + 999 bytes = 1000
      const { got } = await echo(server.url, { transports }, [exact]);
      assert.equal(got[0], exact);
      const closed = await new Promise((resolve, reject) => {
        const socket = new Socket(server.url, { transports });
        socket.on("open", () => socket.send("y".repeat(1000)));
        socket.on("message", () => reject(new Error("an over-limit message was echoed")));
        socket.on("close", (reason) => resolve(reason));
        setTimeout(() => reject(new Error("no close")), 10000);
      });
      assert.ok(typeof closed === "string" && closed.length > 0);
    } finally {
      await server.stop();
    }
  });
}

test("engine.io-client 6: 1 MB of UTF-8 text round trips", async () => {
  const server = await serve(["--max-payload", "5000000"]);
  try {
    const big = "é€😀a".repeat(1 << 17); // 1.25 MB of UTF-8
    for (const transports of [["polling"], ["websocket"]]) {
      const { got } = await echo(server.url, { transports }, [big]);
      assert.equal(got[0], big);
    }
  } finally {
    await server.stop();
  }
});

test("broadcast: reaches every open session", async () => {
  const server = await serve();
  try {
    const clients = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise((resolve) => {
            const socket = new Socket(server.url, { transports: ["websocket"] });
            socket.on("open", () => resolve(socket));
          }),
      ),
    );
    const received = Promise.all(clients.map((c) => new Promise((resolve) => c.once("message", resolve))));
    clients[0].send("broadcast:hi all");
    assert.deepEqual(await received, ["hi all", "hi all", "hi all"]);
    clients.forEach((c) => c.close());
  } finally {
    await server.stop();
  }
});

for (const [name, options] of [
  ["polling (XHR2 binary)", { transports: ["polling"] }],
  ["polling (b64)", { transports: ["polling"], forceBase64: true }],
  ["websocket", { transports: ["websocket"] }],
  ["polling -> websocket", {}],
]) {
  test(`engine.io-client 3 against --allow-eio3: ${name}`, async () => {
    const server = await serve(["--allow-eio3"]);
    try {
      const messages = ["héllo € 😀", "plain", new Uint8Array([0, 1, 2, 255])];
      const { got } = await echo(server.url, options, messages, { v3: true });
      assert.deepEqual(got.map(asBytes), messages.map(asBytes));
    } finally {
      await server.stop();
    }
  });
}

test("engine.io-client 3 is refused without --allow-eio3", async () => {
  const server = await serve();
  try {
    const response = await fetch(`${server.url}/engine.io/?EIO=3&transport=polling`);
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { code: 5, message: "Unsupported protocol version" });
  } finally {
    await server.stop();
  }
});

// CORS and the cookie: serve_lifecycle.test.mjs.

test("JSONP polling (v3) by raw HTTP", async () => {
  const server = await serve(["--allow-eio3"]);
  try {
    const open = await (await fetch(`${server.url}/engine.io/?EIO=3&transport=polling&j=7`)).text();
    const m = open.match(/^___eio\[7\]\("(.*)"\);$/s);
    assert.ok(m, open);
    const payload = JSON.parse(`"${m[1]}"`);
    const sid = JSON.parse(payload.slice(payload.indexOf(":") + 2)).sid;
    const post = await fetch(`${server.url}/engine.io/?EIO=3&transport=polling&j=7&sid=${sid}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "d=" + encodeURIComponent("6:4hello"),
    });
    assert.equal(await post.text(), "ok");
    const echoed = await (await fetch(`${server.url}/engine.io/?EIO=3&transport=polling&j=7&sid=${sid}`)).text();
    assert.equal(echoed, '___eio[7]("6:4hello");');
  } finally {
    await server.stop();
  }
});
