// Raw WebSocket bytes for the bad-frame tests, shared by way A
// (serve_raw_frames.test.mjs, `eiotool serve`) and way B
// (poco_attached_server_raw_frames.test.mjs): both read frames with the same
// eio::websocket::frame_reader, so both must close each case the same way.
import assert from "node:assert/strict";
import net from "node:net";
import crypto from "node:crypto";
import { Socket } from "engine.io-client";

// A masked client frame.
export function frame(firstByte, payload, { mask = true, length } = {}) {
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

// The HTTP head that opens an Engine.IO WebSocket (`query` after the "?").
export function upgradeHead(query) {
  return (
    `GET /engine.io/?${query} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

// Opens a raw Engine.IO WebSocket at `query`: once the server has answered
// 101, `upgraded(socket)`; then `data(bytes, socket)` with what came after
// the answer's head, returning what is left unread.
export function rawWebSocket(server, query, { upgraded, data }) {
  const socket = net.connect(server.port, server.host, () => socket.write(upgradeHead(query)));
  let buffer = Buffer.alloc(0);
  let open = false;
  socket.on("data", (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!open) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      assert.match(buffer.subarray(0, end).toString(), /^HTTP\/1\.1 101 /);
      buffer = buffer.subarray(end + 4);
      open = true;
      upgraded(socket);
    }
    buffer = data(buffer, socket);
  });
  socket.on("error", () => {});
  return socket;
}

// Opens a raw Engine.IO WebSocket, sends `bytes`, resolves with the code
// and reason of the server's close frame (null when the socket just closed).
export function closeFrameFor(server, bytes) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no close")), 10000);
    const socket = rawWebSocket(server, "EIO=4&transport=websocket", {
      upgraded: () => socket.write(bytes),
      data: (buffer) => {
        // Server frames are unmasked with short payloads here: walk them.
        while (buffer.length >= 2) {
          const length = buffer[1] & 0x7f;
          const header = length === 126 ? 4 : 2;
          const size = length === 126 ? buffer.readUInt16BE(2) : length;
          if (buffer.length < header + size) return buffer;
          const opcode = buffer[0] & 0x0f;
          if (opcode === 0x8) {
            clearTimeout(timer);
            const payload = buffer.subarray(header, header + size);
            resolve(size >= 2 ? { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString() } : null);
            socket.destroy();
            return Buffer.alloc(0);
          }
          buffer = buffer.subarray(header + size);
        }
        return buffer;
      },
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

// The close code of the server's close frame (or null), as closeFrameFor.
export async function closeCodeFor(server, bytes) {
  const close = await closeFrameFor(server, bytes);
  return close ? close.code : null;
}

// [name, bytes, the close code expected], for a server whose max payload is
// 1,000 bytes.
export function badFrameCases() {
  const flood = Buffer.concat([frame(0x01, "4"), ...Array.from({ length: 300 }, () => frame(0x00, "xxxx"))]);
  return [
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
}

// 20,000 one-byte fragments (20 KB in all, far under the size limit), in one
// write: past max_fragments_per_message (1,024).
export function fragmentFlood() {
  return Buffer.concat([frame(0x01, "4"), ...Array.from({ length: 19998 }, () => frame(0x00, "x")), frame(0x80, "x")]);
}

// An official client on a WebSocket beside the bad connections, and echo(text),
// which resolves with the echo of `text`.
export async function healthyClient(server) {
  const healthy = new Socket(`http://${server.host}:${server.port}`, { transports: ["websocket"] });
  await new Promise((resolve) => healthy.on("open", resolve));
  const echo = (text) =>
    new Promise((resolve) => {
      healthy.once("message", resolve);
      healthy.send(text);
    });
  return { healthy, echo };
}
