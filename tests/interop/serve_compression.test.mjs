// Compression on `eiotool serve`: gzip/deflate of polling responses from
// 1024 bytes (on by default, as the reference's httpCompression) and
// permessage-deflate (RFC 7692, off unless --per-message-deflate) with the
// official client, whose `ws` offers it.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import zlib from "node:zlib";
import { Socket } from "engine.io-client";
import { serve } from "./serve_helper.mjs";

function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "Content-Type": "text/plain;charset=UTF-8" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end(body);
  });
}

// A polling session whose next GET carries `text` echoed back.
async function sessionWithEcho(server, text) {
  const open = await get(`${server.url}/engine.io/?EIO=4&transport=polling`);
  const sid = JSON.parse(open.body.toString().slice(1)).sid;
  assert.equal(await post(`${server.url}/engine.io/?EIO=4&transport=polling&sid=${sid}`, `4${text}`), 200);
  return `${server.url}/engine.io/?EIO=4&transport=polling&sid=${sid}`;
}

test("polling answers of 1024 bytes and more are compressed per Accept-Encoding", async () => {
  const server = await serve();
  try {
    const big = "compress me ".repeat(200);
    for (const [accept, encoding, inflate] of [
      ["gzip, deflate", "gzip", zlib.gunzipSync],
      ["deflate", "deflate", zlib.inflateSync],
      ["br;q=1, gzip;q=0.5", "gzip", zlib.gunzipSync],
    ]) {
      const answer = await get(await sessionWithEcho(server, big), { "Accept-Encoding": accept });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers["content-encoding"], encoding, accept);
      assert.match(answer.headers.vary ?? "", /Accept-Encoding/);
      assert.ok(answer.body.length < big.length / 4, `${answer.body.length} bytes on the wire`);
      assert.equal(inflate(answer.body).toString(), `4${big}`);
    }
    // Not accepted, or below the threshold: as is.
    const plain = await get(await sessionWithEcho(server, big), { "Accept-Encoding": "identity, gzip;q=0" });
    assert.equal(plain.headers["content-encoding"], undefined);
    assert.equal(plain.body.toString(), `4${big}`);
    const small = await get(await sessionWithEcho(server, "x".repeat(1000)), { "Accept-Encoding": "gzip" });
    assert.equal(small.headers["content-encoding"], undefined);
    assert.equal(small.body.toString(), `4${"x".repeat(1000)}`);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("--no-http-compression sends polling answers as they are", async () => {
  const server = await serve(["--no-http-compression"]);
  try {
    const big = "y".repeat(5000);
    const answer = await get(await sessionWithEcho(server, big), { "Accept-Encoding": "gzip" });
    assert.equal(answer.headers["content-encoding"], undefined);
    assert.equal(answer.body.toString(), `4${big}`);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

// engine.io-client's ws offers permessage-deflate and compresses messages
// from 1024 bytes (its perMessageDeflate threshold).
function websocketEcho(server, messages) {
  return new Promise((resolve, reject) => {
    const socket = new Socket(server.url, { transports: ["websocket"] });
    const got = [];
    const timer = setTimeout(() => reject(new Error(`timeout after ${got.length} echoes`)), 10000);
    socket.on("open", () => messages.forEach((m) => socket.send(m)));
    socket.on("message", (m) => {
      // engine.io-parser gives an empty text message as undefined.
      got.push(m === undefined ? "" : typeof m === "string" ? m : Buffer.from(m).toString("hex"));
      if (got.length < messages.length) return;
      clearTimeout(timer);
      const extensions = Object.keys(socket.transport.ws._extensions ?? {});
      socket.close();
      resolve({ got, extensions });
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const messages = ["short", "ü".repeat(50000), Buffer.alloc(70000, 7), "", "after"];
const expected = messages.map((m) => (typeof m === "string" ? m : m.toString("hex")));

test("--per-message-deflate: the official client negotiates it and every message round trips", async () => {
  const server = await serve(["--per-message-deflate"]);
  try {
    const { got, extensions } = await websocketEcho(server, messages);
    assert.deepEqual(extensions, ["permessage-deflate"]);
    assert.deepEqual(got, expected);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("without --per-message-deflate the extension is declined and messages still round trip", async () => {
  const server = await serve();
  try {
    const { got, extensions } = await websocketEcho(server, messages);
    assert.deepEqual(extensions, []);
    assert.deepEqual(got, expected);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("--per-message-deflate: a message inflating past --max-payload closes with 1009", async () => {
  const server = await serve(["--per-message-deflate", "--max-payload", "100000"]);
  try {
    const result = await new Promise((resolve, reject) => {
      const socket = new Socket(server.url, { transports: ["websocket"] });
      const timer = setTimeout(() => reject(new Error("no close")), 10000);
      socket.on("open", () => {
        // Compresses to a few hundred bytes, inflates to 200 kB.
        socket.send("z".repeat(200000));
      });
      socket.on("close", (reason, details) => {
        clearTimeout(timer);
        resolve({ reason, code: details?.context?.code ?? details?.code });
      });
    });
    assert.equal(result.reason, "transport close");
    assert.equal(result.code, 1009);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
