// Bad WebSocket frames against a live `eiotool serve`: each must end its own
// connection with the right close code (RFC 6455 section 7.4.1) while a
// healthy official client next to it keeps working.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import crypto from "node:crypto";
import { Socket } from "engine.io-client";

const eiotool = process.env.EIO_EIOTOOL;
assert.ok(eiotool, "EIO_EIOTOOL must name the eiotool binary");

function serve(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(eiotool, ["serve", "--port", "0", "--quiet", ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/listening on http:\/\/([^:]+):(\d+)/);
      if (m) resolve({ host: m[1], port: Number(m[2]), stop: () => child.kill("SIGTERM") });
    });
    child.on("exit", (code) => reject(new Error(`eiotool serve exited with ${code}`)));
  });
}

// A masked client frame.
function frame(firstByte, payload, { mask = true, length } = {}) {
  const body = Buffer.from(payload);
  const n = length ?? body.length;
  const header = [firstByte];
  const maskBit = mask ? 0x80 : 0;
  if (n < 126) header.push(maskBit | n);
  else if (n <= 0xffff) header.push(maskBit | 126, n >> 8, n & 0xff);
  else {
    header.push(maskBit | 127);
    const big = BigInt(n);
    for (let i = 7; i >= 0; i--) header.push(Number((big >> BigInt(8 * i)) & 0xffn));
  }
  if (!mask) return Buffer.concat([Buffer.from(header), body]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.from(body.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([Buffer.from(header), key, masked]);
}

// Opens a raw Engine.IO WebSocket, sends `bytes`, resolves with the close
// code of the server's close frame (or null when the socket just closed).
function closeCodeFor(server, bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, server.host);
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    const timer = setTimeout(() => reject(new Error("no close")), 10000);
    socket.on("connect", () => {
      socket.write(
        "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        assert.match(buffer.subarray(0, end).toString(), /^HTTP\/1\.1 101 /);
        buffer = buffer.subarray(end + 4);
        upgraded = true;
        socket.write(bytes);
      }
      // Server frames are unmasked with short payloads here: walk them.
      while (buffer.length >= 2) {
        const length = buffer[1] & 0x7f;
        const header = length === 126 ? 4 : 2;
        const size = length === 126 ? buffer.readUInt16BE(2) : length;
        if (buffer.length < header + size) return;
        const opcode = buffer[0] & 0x0f;
        if (opcode === 0x8) {
          clearTimeout(timer);
          resolve(size >= 2 ? buffer.readUInt16BE(header) : null);
          socket.destroy();
          return;
        }
        buffer = buffer.subarray(header + size);
      }
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(null);
    });
    socket.on("error", () => {});
  });
}

test("bad frames close their own connection with the right code; a healthy session is unaffected", async () => {
  const server = await serve(["--max-payload", "1000"]);
  try {
    const healthy = new Socket(`http://${server.host}:${server.port}`, { transports: ["websocket"] });
    await new Promise((resolve) => healthy.on("open", resolve));
    const echo = (text) =>
      new Promise((resolve) => {
        healthy.once("message", resolve);
        healthy.send(text);
      });
    assert.equal(await echo("before"), "before");

    const flood = Buffer.concat([frame(0x01, "4"), ...Array.from({ length: 300 }, () => frame(0x00, "xxxx"))]);
    const cases = [
      ["unmasked frame", frame(0x81, "4hi", { mask: false }), 1002],
      ["reserved bits", frame(0xc1, "4hi"), 1002],
      ["unknown opcode", frame(0x83, "4hi"), 1002],
      ["fragmented ping", frame(0x09, "x"), 1002],
      ["control frame over 125 bytes", frame(0x89, "x".repeat(126)), 1002],
      ["continuation first", frame(0x80, "4hi"), 1002],
      ["invalid UTF-8 text", frame(0x81, Buffer.from([0x34, 0xc3, 0x28])), 1007],
      ["message over max payload", frame(0x81, "4" + "x".repeat(1000)), 1009],
      ["2^62 length announced", frame(0x82, "", { length: 2 ** 62 }), 1009],
      ["FIN=0 flood past max payload", flood, 1009],
    ];
    for (const [name, bytes, code] of cases) {
      assert.equal(await closeCodeFor(server, bytes), code, name);
      assert.equal(await echo(`after ${name}`), `after ${name}`);
    }
    healthy.close();
  } finally {
    server.stop();
  }
});

test("bytes streamed behind a held poll are bounded: the connection is dropped", async () => {
  const server = await serve(["--max-payload", "1000"]);
  try {
    const open = await (await fetch(`http://${server.host}:${server.port}/engine.io/?EIO=4&transport=polling`)).text();
    const sid = JSON.parse(open.slice(1)).sid;
    const closed = await new Promise((resolve, reject) => {
      const socket = net.connect(server.port, server.host, () => {
        socket.write(`GET /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`);
        socket.write(Buffer.alloc(3 * 1024 * 1024, 0x61)); // far past headers + max payload
      });
      socket.on("close", () => resolve(true));
      socket.on("error", () => {});
      setTimeout(() => reject(new Error("the connection stayed open")), 10000);
    });
    assert.equal(closed, true);
  } finally {
    server.stop();
  }
});
