// The official JavaScript clients against a live `eiotool serve` (its echo
// and broadcast application). Run by ctest as `node --test`, with the path of
// eiotool in EIO_EIOTOOL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "engine.io-client";
import { serve, echo } from "./serve_helper.mjs";

assert.ok(process.env.EIO_EIOTOOL, "EIO_EIOTOOL must name the eiotool binary");

// The official client hands an empty text message ("4" on the wire) to the
// application as undefined, as it does with the Node server; an empty binary
// one is an empty ArrayBuffer. So "" is compared as "", not as bytes.
const asBytes = (m) => (typeof m === "string" ? m : m === undefined ? "" : Array.from(new Uint8Array(m)));

const samples = ["héllo € 😀", "plain", "", new Uint8Array([0, 1, 2, 255]), new Uint8Array([])];

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

// The limit counts wire bytes: over polling a message is "4" + its text, or
// "b" + its base64, in the POST body; over websocket a text frame is "4" +
// its text and a binary frame the bytes alone. With --max-payload 1000:
const limitCases = [
  // transports, kind, the largest message that fits, the smallest that does
  // not, what the client reports for the second, what the server logs.
  // Over polling the server answers 413 and closes the session (a documented
  // difference from the reference, which only answers 413): the client sees
  // "transport error" when the 413 reaches it first, "transport close" when
  // the close packet on its held GET does.
  [["polling"], "text", "x".repeat(999), "y".repeat(1000), /^transport (error|close)$/, /: transport error - payload too large$/],
  // 747 bytes are "b" + 996 base64 characters (997 bytes), 748 need 1001.
  [["polling"], "binary", randomBytes(747), randomBytes(748), /^transport (error|close)$/, /: transport error - payload too large$/],
  [["websocket"], "text", "x".repeat(999), "y".repeat(1000), /^transport close$/, /: transport error - message too big \(1009\)$/],
  [["websocket"], "binary", randomBytes(1000), randomBytes(1001), /^transport close$/, /: transport error - message too big \(1009\)$/],
];

function randomBytes(n, seed = n) {
  const bytes = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    bytes[i] = x & 255;
  }
  return bytes;
}

for (const [transports, kind, fits, over, clientReason, serverLine] of limitCases) {
  test(`engine.io-client 6: ${kind} of exactly max payload echoes, one byte more closes (${transports[0]})`, async () => {
    const server = await serve(["--max-payload", "1000"], { quiet: false });
    try {
      const { got } = await echo(server.url, { transports }, [fits]);
      assert.deepEqual(asBytes(got[0]), asBytes(fits));
      const closed = await new Promise((resolve, reject) => {
        const socket = new Socket(server.url, { transports });
        socket.on("open", () => socket.send(over));
        socket.on("message", () => reject(new Error("an over-limit message was echoed")));
        socket.on("close", (why) => resolve(why));
        setTimeout(() => reject(new Error("no close")), 10000);
      });
      assert.match(closed, clientReason);
      // And the server says why it ended the session.
      await server.waitForLine(serverLine);
    } finally {
      await server.stop();
    }
  });
}

test("engine.io-client 6: 1 MB of UTF-8 text and 1 MiB of binary round trip", async () => {
  const server = await serve(["--max-payload", "5000000"]);
  try {
    const big = "é€😀a".repeat(1 << 17); // 1.25 MB of UTF-8
    const bytes = randomBytes(1 << 20);
    for (const transports of [["polling"], ["websocket"]]) {
      const { got } = await echo(server.url, { transports }, [big, bytes]);
      assert.equal(got[0], big, transports[0]);
      assert.deepEqual(new Uint8Array(got[1]), bytes, transports[0]);
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
