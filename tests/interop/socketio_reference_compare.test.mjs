// The same scripted raw Socket.IO exchanges against `eiotool serve --socketio`
// and the Node reference (socket.io 4.8 through socketio_reference_server.mjs,
// both running socketio_demo_app.mjs), compared frame by frame with ids
// normalised. The Socket.IO counterpart of reference_compare.test.mjs.
//
// Nothing hides differences: the WebSocket handshake and framing are written
// by hand on node:net sockets (client frames masked, RFC 6455 section 5.3),
// every frame the server writes is recorded (text, binary, close with code and
// reason), and so is a TCP close without a close frame. Polling requests are
// exact HTTP bytes; a polling answer is split at the record separator so that
// how a server batches its packets does not count.
//
// Every difference must be listed in `expected_differences` with its reason
// (a bug of the reference, or a deliberate choice of ours, see
// docs/node-reference-behaviour.md section 10). A new difference fails the
// test, and so does a listed case that now agrees.
//
// Run by ctest (EIO_EIOTOOL names the eiotool binary), or directly:
//   EIO_EIOTOOL=build/tools/eiotool/eiotool node --test tests/interop/socketio_reference_compare.test.mjs
// It checks that docs/socketio-reference-comparison.md is the table of
// today's answers; with EIO_WRITE_COMPARISON=1 it rewrites that file instead.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import net from "node:net";
import { servePairs } from "./serve_helper.mjs";

assert.ok(process.env.EIO_EIOTOOL, "EIO_EIOTOOL must name the eiotool binary");
const table_path = fileURLToPath(new URL("../../docs/socketio-reference-comparison.md", import.meta.url));

// After each step of a script, the servers' answers are collected until
// nothing came for quiet_ms (or the connection closed). Cases run a few at a
// time (the machine is shared), so the quiet time leaves room for a slow run.
// A script ends by waiting up to grace_ms for a close, so that a slow close is
// not read as "(still open)". On a loaded machine an answer can still come
// late: a case whose two answers differ is run once more, and the second run
// is the one judged.
const quiet_ms = 500;
const grace_ms = 1500;
const concurrency = 8;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- servers

// One pair of servers (the Node reference and ours) per distinct flag list,
// started on first use.
const pairs = servePairs({ socketio: true, startTimeout: 15000 });
const servers_for = (flags) => pairs.get(flags);

// A crash of ours between the cases fails the run here too (its log is on
// stderr, from serve_helper), not only the cases after it.
after(async () => {
  const eio_exits = await pairs.stopAll();
  assert.deepEqual(eio_exits, eio_exits.map(() => 0), "eiotool serve --socketio did not end cleanly");
});

// ---------------------------------------------------------------- raw WebSocket

// A client frame: FIN set, masked with a random key.
function client_frame(opcode, payload) {
  const mask = randomBytes(4);
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length])
    : length < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff])
    : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(length)); return b; })()]);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([header, mask, masked]);
}

// Opens a WebSocket to the Socket.IO path and records, in order, what the
// server writes: {text}, {binary}, {close: "1000 \"reason\""}, {closed} (TCP
// close), or {raw} bytes that are not frames. `log` also gets what we send.
function open_websocket(server, log) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, server.host);
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    let ended = false;
    const state = {
      log,
      ended: () => ended,
      changed: () => {},
      send: (data) => {
        if (ended) return;
        const binary = Buffer.isBuffer(data);
        log.push(binary ? `> binary ${data.toString("hex")}` : `> ${shorten(data)}`);
        socket.write(client_frame(binary ? 0x2 : 0x1, binary ? data : Buffer.from(data)));
      },
      destroy: () => {
        ended = true;
        socket.destroy();
      },
    };
    const record = (item) => {
      log.push(item);
      state.changed();
    };
    const finish = (item) => {
      if (ended) return;
      ended = true;
      record(item);
      socket.destroy();
    };
    const parse = () => {
      while (buffer.length >= 2 && !ended) {
        const opcode = buffer[0] & 0x0f;
        if (buffer[1] & 0x80) return finish(`< masked frame from the server`);
        let length = buffer[1] & 0x7f;
        let header = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          header = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          header = 10;
        }
        if (buffer.length < header + length) return;
        const payload = buffer.subarray(header, header + length);
        buffer = buffer.subarray(header + length);
        if (opcode === 0x1) record(`< ${shorten(payload.toString())}`);
        else if (opcode === 0x2) record(`< binary ${payload.toString("hex")}`);
        else if (opcode === 0x8) {
          const code = payload.length >= 2 ? payload.readUInt16BE(0) : "(no code)";
          const reason = payload.length > 2 ? ` ${JSON.stringify(payload.subarray(2).toString())}` : "";
          // Answer the close (RFC 6455 section 5.5.1); what follows is not recorded.
          socket.write(client_frame(0x8, payload.subarray(0, 2)));
          return finish(`< close frame ${code}${reason}`);
        } else if (opcode === 0x9) socket.write(client_frame(0xa, payload));
        else record(`< frame opcode ${opcode}`);
      }
    };
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const status = buffer.subarray(0, end).toString("latin1").split("\r\n")[0];
        if (!/^HTTP\/1\.1 101/.test(status)) return reject(new Error(`upgrade refused: ${status}`));
        upgraded = true;
        buffer = buffer.subarray(end + 4);
        resolve(state);
      }
      parse();
    });
    socket.on("close", () => {
      if (!upgraded) return reject(new Error("closed before the upgrade"));
      finish("< connection closed without a close frame");
    });
    socket.on("error", () => {});
    socket.write(
      [
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        "",
        "",
      ].join("\r\n"),
    );
  });
}

// Waits until nothing came for quiet_ms, the connection ended, or max_ms.
async function settle(ws, max_ms = 3000) {
  const deadline = Date.now() + max_ms;
  for (;;) {
    if (ws.ended()) return;
    const before = ws.log.length;
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, quiet_ms);
      ws.changed = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    ws.changed = () => {};
    if (ws.log.length === before || Date.now() > deadline) return;
  }
}

// Long frames (a megabyte of digits) are shown by their start and length.
function shorten(text) {
  return text.length > 120 ? `${text.slice(0, 60)}... (${text.length} chars)` : text;
}

// A WebSocket script: `steps` is a list of frame groups; each group is sent at
// once, then the answers are collected (settle). A number is a pause in ms
// (answers collected meanwhile); a function makes the group from the log so
// far (to answer the server's ack id). The log ends with "(still open)" when the
// server did not close.
const ws_script = (steps) => async (server) => {
  const log = [];
  const ws = await open_websocket(server, log);
  // The open packet, and nothing more: a step is sent as soon as it came
  // (the connect timeout runs from here).
  await new Promise((resolve) => {
    const check = () => (log.length || ws.ended() ? resolve() : undefined);
    ws.changed = check;
    check();
  });
  ws.changed = () => {};
  for (const step of steps) {
    if (ws.ended()) break;
    if (typeof step === "number") {
      await Promise.race([sleep(step), new Promise((resolve) => { ws.changed = () => { if (ws.ended()) resolve(); }; })]);
      ws.changed = () => {};
      continue;
    }
    for (const frame of [].concat(typeof step === "function" ? step(log) : step)) ws.send(frame);
    await settle(ws);
  }
  if (!ws.ended() && typeof steps.at(-1) !== "number") {
    await Promise.race([sleep(grace_ms), new Promise((resolve) => { ws.changed = () => { if (ws.ended()) resolve(); }; })]);
    ws.changed = () => {};
  }
  if (!ws.ended()) log.push("(still open)");
  ws.destroy();
  return log;
};

// ---------------------------------------------------------------- raw polling

// One HTTP request as exact bytes; resolves {status, body} or {none}.
function http_request(server, method, target, body, silence_ms = 1500) {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, server.host);
    let buffer = Buffer.alloc(0);
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish({ none: "no answer" }), silence_ms);
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString("latin1");
      const status = Number(head.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? 0);
      const length = Number(head.match(/\r\ncontent-length: *(\d+)/i)?.[1] ?? NaN);
      const rest = buffer.subarray(end + 4);
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
        const parts = [];
        let at = 0;
        for (;;) {
          const line_end = rest.indexOf("\r\n", at);
          if (line_end < 0) return;
          const size = parseInt(rest.subarray(at, line_end).toString(), 16);
          if (size === 0) return finish({ status, body: Buffer.concat(parts).toString() });
          if (rest.length < line_end + 4 + size) return;
          parts.push(rest.subarray(line_end + 2, line_end + 2 + size));
          at = line_end + 4 + size;
        }
      }
      if (rest.length >= length) finish({ status, body: rest.subarray(0, length).toString() });
    });
    socket.on("close", () => finish({ none: "closed without answer" }));
    socket.on("error", () => {});
    const bytes = Buffer.from(body ?? "");
    const lines = [`${method} ${target} HTTP/1.1`, "Host: 127.0.0.1"];
    if (body !== undefined) lines.push("Content-Type: text/plain;charset=UTF-8", `Content-Length: ${bytes.length}`);
    socket.write(Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n"), bytes]));
  });
}

// A polling answer, one line per Engine.IO packet (batching does not count).
function polling_lines(label, answer) {
  if (answer.none) return [`${label}: ${answer.none}`];
  if (answer.status !== 200) return [`${label}: ${answer.status} ${shorten(answer.body)}`];
  if (answer.body === "ok") return [`${label}: 200 ok`];
  return answer.body.split("\x1e").map((packet) => `${label}: < ${shorten(packet)}`);
}

// A polling script: after the handshake, each step is ["POST", body] or
// ["GET"] (a poll; given `silence_ms` to answer, then abandoned). A POST is
// followed by a pause of quiet_ms so that its answers are queued before the
// next poll.
const polling_script = (steps) => async (server) => {
  const log = [];
  const open = await http_request(server, "GET", "/socket.io/?EIO=4&transport=polling");
  log.push(...polling_lines("handshake", open));
  const sid = open.body?.match(/"sid":"([^"]+)"/)?.[1];
  assert.ok(sid, `polling handshake failed: ${JSON.stringify(open)}`);
  const target = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
  for (const [method, body] of steps) {
    if (method === "POST") {
      log.push(`> POST ${JSON.stringify(body)}`);
      log.push(...polling_lines("POST", await http_request(server, "POST", target, body)));
      await sleep(quiet_ms);
    } else {
      log.push(...polling_lines("GET", await http_request(server, "GET", target, undefined, 1000)));
    }
  }
  return log;
};

// ---------------------------------------------------------------- normalising

// Ids are random: the Engine.IO sid, the Socket.IO sid (20 characters), the
// pid, and the offsets that recovery appends to every emitted event.
//
// A close frame with code 1000 and one with no code (ws's close() without a
// code) both mean a normal closure (RFC 6455 section 7.4.1; an empty body
// reads as 1005, "no status", section 7.1.5): every case shows them as
// "close frame (normal)" except "close frame code", which keeps the bytes.
function normalise(lines, recovery, exact_close) {
  const ids = new Map();
  const name = (id, kind) => {
    if (!ids.has(id)) ids.set(id, `<${kind}>`);
    return ids.get(id);
  };
  // The server's ack ids count per namespace, across the cases sharing a
  // server: the id of each server EVENT with an ack, and the client's answer
  // to it, become <ack>.
  const server_ack = /^(< 4[25](?:\d+-)?(?:\/[^,]*,)?)(\d+)(\[)/;
  const acks = new Set(lines.map((line) => line.match(server_ack)?.[2]).filter(Boolean));
  return lines.map((line) => {
    line = line.replace(server_ack, "$1<ack>$3");
    line = line.replace(/^(> 4[36](?:\d+-)?(?:\/[^,]*,)?)(\d+)(\[)/, (all, a, id, b) => (acks.has(id) ? `${a}<ack>${b}` : all));
    let out = line.replace(/(\{"sid":")([^"]+)(","upgrades")/, (_, a, id, b) => a + name(id, "eio-sid") + b);
    out = out.replace(/("sid":")([A-Za-z0-9_-]{20})(")/g, (_, a, id, b) => a + name(id, "sid") + b);
    out = out.replace(/("pid":")([^"]+)(")/g, (_, a, id, b) => a + name(id, "pid") + b);
    if (recovery) out = out.replace(/^(< 4[25][^[]*\[.*,)"[A-Za-z0-9_.-]+"\]$/, '$1"<offset>"]');
    for (const [id, label] of ids) out = out.split(id).join(label);
    if (!exact_close) out = out.replace(/^< close frame (1000|\(no code\))$/, "< close frame (normal)");
    return out;
  });
}

// ---------------------------------------------------------------- cases

const base = [];
const recovery = ["--state-recovery", "5000"];
const quick_timeout = ["--connect-timeout", "500"];
const placeholder = (n) => `{"_placeholder":true,"num":${n}}`;
const bin = (...bytes) => Buffer.from(bytes);
const mb = (c) => c.repeat(1 << 20);

// [name, flags, steps, what it shows]; the socket first joins "/" ("40")
// unless the steps say otherwise (`bare`).
const joined = (...steps) => ["40", ...steps];
// Frames answering the server's last "ask": "<ack>" in each is replaced by
// its ack id (the server's ids count per namespace, across cases).
const ask_id = (log) => log.findLast((line) => /^< 42\d+\["ask"/.test(line))?.match(/^< 42(\d+)/)[1] ?? "0";
function answer(...frames) {
  const step = (log) => frames.map((f) => (Buffer.isBuffer(f) ? f : f.replace("<ack>", ask_id(log))));
  step.frames = frames;
  return step;
}
const cases = [
  // CONNECT.
  { name: "CONNECT /", steps: ["40"] },
  { name: "CONNECT / with auth", steps: ['40{"token":"abc","n":[1,true,null]}'] },
  { name: "CONNECT /custom", steps: ["40/custom,"] },
  { name: "CONNECT /custom with auth", steps: ['40/custom,{"token":"abc"}'] },
  { name: "CONNECT /custom without the comma", steps: ["40/custom"] },
  { name: "CONNECT / and /custom", steps: ["40", "40/custom,"] },
  { name: "CONNECT answer with --state-recovery", flags: recovery, steps: ["40"] },
  { name: "CONNECT /custom with --state-recovery", flags: recovery, steps: ['40/custom,{"token":"abc"}'] },
  { name: "CONNECT with an auth that is not an object", steps: ['40"token"'] },
  { name: "CONNECT with an auth that is an array", steps: ["40[1]"] },
  { name: "CONNECT unknown namespace", steps: ["40/nope,"] },
  { name: "CONNECT unknown namespace, then /", steps: ["40/nope,", "40"] },
  { name: "CONNECT /admin refused", steps: ["40/admin,"] },
  { name: "CONNECT /admin wrong token", steps: ['40/admin,{"token":"nope"}'] },
  { name: "CONNECT /admin with the token", steps: ['40/admin,{"token":"letmein"}'] },
  { name: "CONNECT /admin refused, then again with the token", steps: ["40/admin,", '40/admin,{"token":"letmein"}'] },
  { name: "second CONNECT to a joined namespace", steps: ["40", "40"] },
  { name: "second CONNECT to joined /custom", steps: ["40/custom,", "40/custom,"] },
  { name: "CONNECT_ERROR from the client", steps: ['44{"message":"x"}'] },
  { name: "close frame code", exact_close: true, steps: joined("42[]") },
  { name: "connect timeout, no CONNECT", flags: quick_timeout, steps: [2000] },
  { name: "connect timeout, CONNECT in time", flags: quick_timeout, steps: ["40", 1000] },
  { name: "connect timeout, refused CONNECT only", flags: quick_timeout, steps: ["40/nope,", 2000] },

  { name: "CONNECT /slow (middleware of 1 s)", steps: ["40/slow,", 1500] },
  { name: "second CONNECT while the middleware runs", steps: [["40/slow,", "40/slow,"], 1500] },
  { name: "EVENT while the middleware runs", steps: [["40/slow,", '42/slow,1["echo","x"]'], 1500] },
  { name: "CONNECT dynamic namespace", steps: ["40/dyn-abc_1,", 500, '42/dyn-abc_1,1["echo","x"]'] },
  { name: "CONNECT dynamic namespace, bad name", steps: ["40/dyn-a.b,"] },
  { name: "CONNECT namespace with a query", steps: ["40/custom?x=1,"] },
  { name: "CONNECT \"/\" with a comma", steps: ["40/,"] },

  // Packets for namespaces not joined.
  { name: "EVENT before any CONNECT", steps: ['42["echo","x"]'] },
  { name: "EVENT for a namespace not joined", steps: joined('42/custom,["echo","x"]') },
  { name: "EVENT for an unknown namespace", steps: joined('42/nope,["echo","x"]') },
  { name: "ACK for a namespace not joined", steps: joined("43/custom,1[]") },
  { name: "CONNECT and EVENT in one burst", steps: [["40", '421["echo","x"]']] },

  // Events and acks.
  { name: "echo without ack", steps: joined('42["echo","a",1,{"b":[true,null]}]') },
  { name: "echo with ack", steps: joined('421["echo","a",1]') },
  { name: "message-with-ack", steps: joined('427["message-with-ack",{"x":[1,2.5,"\\u00e9"]}]') },
  { name: "message-with-ack without ack id", steps: joined('42["message-with-ack","x"]') },
  { name: "message", steps: joined('42["message",true,null,-0.5]') },
  { name: "unknown event with ack", steps: joined('423["no-such-event",1]') },
  { name: "numeric event name", steps: joined('424[42,"x"]') },
  { name: "echo with ack on /custom", steps: ["40/custom,", '42/custom,5["echo","x"]'] },
  { name: "ack id 2^53-1", steps: joined('429007199254740991["echo","x"]') },
  { name: "ack id 0", steps: joined('420["echo","x"]') },
  { name: "ACK for an ack never asked", steps: joined("4317[1]") },
  { name: "ack id with a leading zero", steps: joined('4201["echo","x"]') },
  { name: "empty event name", steps: joined('421[""]') },
  { name: "whitespace before the JSON", steps: joined('421 ["echo","x"]') },
  { name: "whoami", steps: joined('421["whoami"]') },
  { name: "join then to-room", steps: joined('421["join","r"]', '422["to-room","r","hi"]', '423["whoami"]') },
  { name: "ask answered, then answered again", steps: joined('42["ask",3000,"q"]', answer('43<ack>["a",1]'), answer('43<ack>["again"]')) },
  { name: "ask answered with binary", steps: joined('42["ask",3000,"q"]', answer(`461-<ack>[${placeholder(0)}]`, bin(0xca, 0xfe))) },
  { name: "ask timing out, then a late answer", steps: joined('42["ask",100,"q"]', 600, answer('43<ack>["late"]')) },
  { name: "ACK for an id the server did not ask", steps: joined('42["ask",2000,"q"]', "4399999[\"a\"]", 2500) },
  { name: "echo with ack, --state-recovery", flags: recovery, steps: joined('421["echo","x"]', '42["echo","y"]') },

  // Binary.
  { name: "binary echo without ack", steps: joined([`451-["echo",${placeholder(0)}]`, bin(1, 2, 3)]) },
  { name: "binary echo with ack", steps: joined([`451-3["echo",${placeholder(0)}]`, bin(1, 2, 3)]) },
  { name: "binary message-with-ack, nested, two attachments", steps: joined([`452-4["message-with-ack",{"a":[${placeholder(1)}],"b":${placeholder(0)}}]`, bin(0xaa), bin(0xbb, 0xcc)]) },
  { name: "binary placeholder with num first", steps: joined([`451-5["echo",{"num":0,"_placeholder":true}]`, bin(7)]) },
  { name: "binary echo with ack on /custom", steps: ["40/custom,", [`451-/custom,6["echo",${placeholder(0)}]`, bin(9)]] },
  { name: "binary event with no attachments", steps: joined('450-7["echo","x"]') },
  { name: "binary event, 10 attachments (the limit)", steps: joined([`4510-8["echo",${Array.from({ length: 10 }, (_, i) => placeholder(i)).join(",")}]`, ...Array.from({ length: 10 }, (_, i) => bin(i))]) },
  { name: "binary ack from the client (BINARY_ACK)", steps: joined(`461-9[${placeholder(0)}]`, bin(1)) },
  { name: "binary event split over two steps", steps: joined(`451-["echo",${placeholder(0)}]`, bin(4, 5)) },
  { name: "binary message (message-back)", steps: joined([`451-["message",{"k":${placeholder(0)}}]`, bin(0xde, 0xad)]) },
  { name: "--max-attachments 2: two attachments", flags: ["--max-attachments", "2"], steps: joined([`452-1["echo",${placeholder(0)},${placeholder(1)}]`, bin(1), bin(2)]) },
  { name: "--max-attachments 2: three attachments", flags: ["--max-attachments", "2"], steps: joined(`453-1["echo",${placeholder(0)},${placeholder(1)},${placeholder(2)}]`) },
  { name: "attachment count with a leading zero", steps: joined([`4501-["echo",${placeholder(0)}]`, bin(1)]) },

  // Bad input (issue 18's list).
  { name: "placeholder num out of range", steps: joined([`451-["echo",${placeholder(1)}]`, bin(1)]) },
  { name: "placeholder num negative", steps: joined([`451-["echo",${placeholder(-1)}]`, bin(1)]) },
  { name: "placeholder num fractional", steps: joined([`451-["echo",${placeholder(0.5)}]`, bin(1)]) },
  { name: "placeholder num a string", steps: joined([`451-["echo",${placeholder('"0"')}]`, bin(1)]) },
  { name: "placeholder num \"splice\"", steps: joined([`451-["echo",${placeholder('"splice"')}]`, bin(1)]) },
  { name: "attachments past the limit", steps: joined('4511-["echo"]') },
  { name: "attachments absurd", steps: joined('454294967296-["echo"]') },
  { name: "45 with no count", steps: joined("45") },
  { name: "45 with a count and no dash", steps: joined('451["echo"]') },
  { name: "binary frame with no pending packet", steps: joined(bin(1, 2, 3)) },
  { name: "text while attachments are pending", steps: joined([`451-["echo",${placeholder(0)}]`, '42["echo","x"]']) },
  { name: "42[]", steps: joined("42[]") },
  { name: "42{}", steps: joined("42{}") },
  { name: "42[null]", steps: joined("42[null]") },
  { name: "42[\"a\"", steps: joined('42["a"') },
  { name: "42[{\"toString\":\"x\"}]", steps: joined('42[{"toString":"x"}]') },
  { name: "42 with no payload", steps: joined("42") },
  { name: "reserved name connect", steps: joined('42["connect"]') },
  { name: "reserved name disconnect", steps: joined('42["disconnect"]') },
  { name: "reserved name newListener", steps: joined('42["newListener","x"]') },
  { name: "ack id past 2^53-1", steps: joined('429007199254740992["echo","x"]') },
  { name: "ack id of a megabyte of digits", flags: ["--max-payload", "4000000"], steps: joined("42" + mb("9") + '["echo","x"]') },
  { name: "namespace of a megabyte", flags: ["--max-payload", "4000000"], steps: joined("42/" + mb("n") + ',["echo","x"]') },
  { name: "unknown packet type", steps: joined("47") },
  { name: "empty Socket.IO packet", steps: joined("4") },
  { name: "DISCONNECT with a payload", steps: joined("41{}") },

  // DISCONNECT.
  { name: "DISCONNECT /, then an EVENT on /", steps: joined("41", '421["echo","x"]') },
  { name: "DISCONNECT /, then CONNECT / again", steps: joined("41", "40") },
  { name: "DISCONNECT /custom, / goes on", steps: ["40", "40/custom,", "41/custom,", '421["echo","x"]'] },
  { name: "DISCONNECT of a namespace not joined", steps: joined("41/custom,", '421["echo","x"]') },
  { name: "DISCONNECT then the connection stays", steps: joined("41", 1000) },
].map((c) => ({ transport: "websocket", flags: base, ...c, script: ws_script(c.steps) }));

// Over polling (POST bodies may carry several packets, record separator \x1e).
const polling_cases = [
  { name: "polling: CONNECT /", steps: [["POST", "40"], ["GET"]] },
  { name: "polling: CONNECT unknown namespace", steps: [["POST", "40/nope,"], ["GET"]] },
  { name: "polling: CONNECT /admin refused", steps: [["POST", "40/admin,"], ["GET"]] },
  { name: "polling: echo with ack", steps: [["POST", "40"], ["GET"], ["POST", '421["echo","a"]'], ["GET"]] },
  { name: "polling: two events in one body", steps: [["POST", "40"], ["GET"], ["POST", '421["echo","a"]\x1e42["echo","b"]'], ["GET"]] },
  { name: "polling: CONNECT and EVENT in one body", steps: [["POST", '40\x1e421["echo","a"]'], ["GET"]] },
  { name: "polling: binary echo with ack", steps: [["POST", "40"], ["GET"], ["POST", `451-3["echo",${placeholder(0)}]\x1ebAQID`], ["GET"]] },
  { name: "polling: 42[]", steps: [["POST", "40"], ["GET"], ["POST", "42[]"], ["GET"]] },
  { name: "polling: reserved name", steps: [["POST", "40"], ["GET"], ["POST", '42["disconnect"]'], ["GET"]] },
  { name: "polling: placeholder num out of range", steps: [["POST", "40"], ["GET"], ["POST", `451-["echo",${placeholder(1)}]\x1ebAQ==`], ["GET"]] },
  { name: "polling: text while attachments are pending", steps: [["POST", "40"], ["GET"], ["POST", `451-["echo",${placeholder(0)}]\x1e42["echo","x"]`], ["GET"]] },
  { name: "polling: second CONNECT", steps: [["POST", "40"], ["GET"], ["POST", "40"], ["GET"]] },
  { name: "polling: binary packet with nothing pending", steps: [["POST", "40"], ["GET"], ["POST", "bAQID"], ["GET"]] },
  { name: "polling: DISCONNECT /", steps: [["POST", "40"], ["GET"], ["POST", "41"], ["GET"]] },
].map((c) => ({ transport: "polling", flags: base, ...c, script: polling_script(c.steps) }));

cases.push(...polling_cases);

// What a case sends, for the table.
function describe_steps(c) {
  if (c.transport === "polling") return c.steps.map(([m, body]) => (m === "POST" ? `POST ${JSON.stringify(body)}` : "GET")).join(", ");
  return c.steps
    .map((step) =>
      typeof step === "number" ? `wait ${step} ms`
        : [].concat(typeof step === "function" ? step.frames : step).map((f) => (Buffer.isBuffer(f) ? `binary ${f.toString("hex")}` : shorten(f))).join(" + "))
    .join(", ") || "(nothing)";
}

// Differences we keep, by case name, with the reason. A case listed here that
// answers the same on both servers fails too, so the list stays true.
// Why a closed session's next poll differs (an Engine.IO matter).
const CLOSE_POLL =
  "both close the connection at the bad packet; the next poll gets the close packet alone (\"1\") from eio, a noop " +
  "then the close (\"6\\x1e1\") from the reference, which appends its close to an empty send " +
  "(node-reference-behaviour.md section 8)";
// Why an argument comes back as the client wrote it.
const JSON_TEXT =
  "eio keeps event arguments as the client's validated JSON text plus attachments and sends them back as they came; " +
  "the reference parses and re-serialises them (JSON.stringify, placeholders renumbered depth-first). Same values " +
  "(node-reference-behaviour.md section 10)";

const expected_differences = {
  "close frame code": {
    reason:
      "both close with a normal closure: ws's close() without a code sends an empty close body (read as 1005, " +
      "RFC 6455 section 7.1.5), eio sends 1000 (section 7.4.1). Every other case shows both as \"close frame " +
      "(normal)\" (node-reference-behaviour.md section 9)",
  },
  "CONNECT / with auth": {
    reason:
      "the same auth object, keys in another order: eio's handshake auth is a socketio::value (nlohmann::json), whose " +
      "objects keep their keys sorted; member order is not significant in JSON (RFC 8259 section 4) " +
      "(node-reference-behaviour.md section 10)",
  },
  "whoami": {
    reason:
      "the same object, keys in another order: the demo builds it as a socketio::value (nlohmann::json), whose " +
      "objects keep their keys sorted; member order is not significant in JSON (RFC 8259 section 4) " +
      "(node-reference-behaviour.md section 10)",
  },
  "join then to-room": { reason: "whoami's keys sorted, as in the case \"whoami\"" },
  "ask answered, then answered again": { reason: "the demo's ask-result is built as a socketio::value: keys sorted, as in the case \"whoami\"" },
  "ask answered with binary": { reason: "the demo's ask-result is built as a socketio::value: keys sorted, as in the case \"whoami\"" },
  "second CONNECT while the middleware runs": {
    reason:
      "eio closes the connection on a second CONNECT to a namespace being joined, like any other packet for it; " +
      "the reference looks only at joined namespaces and starts a second socket, so a client could pile up sockets " +
      "behind a slow middleware (node-reference-behaviour.md section 10)",
  },
  "whitespace before the JSON": {
    reason:
      "eio refuses whitespace between the header and the JSON (README, eio::socketio) and closes; socket.io-parser " +
      "hands the rest to JSON.parse, which skips it",
  },
  "message-with-ack": { reason: `${JSON_TEXT}: "\\u00e9" stays escaped` },
  "binary message-with-ack, nested, two attachments": { reason: `${JSON_TEXT}: the client's numbering and attachment order are kept` },
  "binary placeholder with num first": { reason: `${JSON_TEXT}: the placeholder keeps its key order` },
  "placeholder num fractional": {
    reason:
      "eio refuses a placeholder whose num is not an attachment index (README, eio::socketio) and closes; " +
      "socket.io-parser only checks 0 <= num < attachments, so num 0.5 passes and the argument becomes undefined " +
      "(null on the wire)",
  },
  "42 with no payload": {
    reason:
      "eio refuses an EVENT without data (README, eio::socketio: no event name to dispatch) and closes; " +
      "socket.io-parser validates the payload only when there is one, and the reference dispatches nothing",
  },
  "ack id past 2^53-1": {
    reason:
      "eio refuses an ack id past 2^53-1 (issue 18's limit: past it a JavaScript client cannot tell ids apart) and " +
      "closes; the reference reads it as a double and acks 9007199254740992",
  },
  "ack id of a megabyte of digits": {
    reason:
      "eio refuses the ack id at the digit past 2^53-1 and closes; the reference reads it as a double and answers " +
      "\"43Infinity[...]\", a packet no decoder accepts",
  },
  "polling: CONNECT and EVENT in one body": {
    reason:
      "the reference joins a namespace asynchronously (Namespace._add awaits), so an EVENT in the same polling " +
      "payload as its CONNECT finds the namespace not joined and the connection closes; eio joins a namespace " +
      "without middlewares at once and answers, as both do when the two packets come in two WebSocket frames " +
      "(node-reference-behaviour.md section 10)",
  },
  "polling: 42[]": { reason: CLOSE_POLL },
  "polling: reserved name": { reason: CLOSE_POLL },
  "polling: placeholder num out of range": { reason: CLOSE_POLL },
  "polling: text while attachments are pending": { reason: CLOSE_POLL },
  "polling: second CONNECT": { reason: CLOSE_POLL },
  "polling: binary packet with nothing pending": { reason: CLOSE_POLL },
};

// ---------------------------------------------------------------- run

// The cases run a few at a time, both servers at once; the tests then judge.
const results = new Map();
before(async () => {
  const queue = [...cases];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const { reference, eio } = await servers_for(c.flags);
      const recovering = c.flags.includes("--state-recovery");
      try {
        for (let attempt = 0; attempt < 2; attempt++) {
          const [ours, theirs] = await Promise.all([c.script(eio), c.script(reference)]);
          const result = { eio: normalise(ours, recovering, c.exact_close), reference: normalise(theirs, recovering, c.exact_close) };
          results.set(c.name, result);
          if (JSON.stringify(result.eio) === JSON.stringify(result.reference)) break;
        }
      } catch (error) {
        results.set(c.name, { error });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
});

const rows = [];
for (const c of cases) {
  test(c.name, () => {
    const result = results.get(c.name);
    if (result.error) throw result.error;
    const { eio: ours, reference: theirs } = result;
    const same = JSON.stringify(ours) === JSON.stringify(theirs);
    rows.push({ ...c, reference: theirs, eio: ours, same });
    const expected = expected_differences[c.name];
    if (same) {
      assert.equal(expected, undefined, `"${c.name}" now answers the same on both servers: remove it from expected_differences`);
    } else {
      assert.ok(expected, `new difference in "${c.name}":\n  reference: ${theirs.join("\n             ")}\n  eio:       ${ours.join("\n             ")}`);
    }
  });
}

test("every expected difference names a case", () => {
  for (const name of Object.keys(expected_differences)) assert.ok(cases.some((c) => c.name === name), name);
});

test("case names are unique", () => {
  assert.equal(new Set(cases.map((c) => c.name)).size, cases.length);
});

// The committed table must be what the servers answer today: CI fails when
// an answer changed and the table was not regenerated.
test("comparison table", () => {
  assert.equal(rows.length, cases.length, "every case must have run to build the table");
  const cell = (lines) => lines.map((line) => `\`${line.replace(/\|/g, "\\|")}\``).join("<br>");
  const out = [
    "# eio vs the Node socket.io reference server: raw Socket.IO exchanges",
    "",
    "Generated by `tests/interop/socketio_reference_compare.test.mjs`, which fails when this file is not",
    "what the servers answer; do not edit by hand. To regenerate:",
    "",
    "```sh",
    "EIO_WRITE_COMPARISON=1 EIO_EIOTOOL=build/tools/eiotool/eiotool node --test tests/interop/socketio_reference_compare.test.mjs",
    "```",
    "",
    "Both servers run the demo application (`tests/interop/socketio_demo_app.mjs`) with the same flags:",
    "`eiotool serve --socketio` and `tests/interop/socketio_reference_server.mjs` (socket.io 4.8.3,",
    "socket.io-parser 4.2.7, engine.io 6.6.12 from the root `package-lock.json`). Over WebSocket the handshake and the",
    "frames are written by hand on a TCP socket: `>` is a frame sent, `<` a frame received (binary in hex),",
    "then the close frame (code and reason) or a TCP close without one; \"(still open)\" means the server",
    `had not closed when the script ended. After each step the answers are collected until nothing came for ${quiet_ms} ms.`,
    "Over polling each request is exact HTTP bytes; an answer is split into its Engine.IO packets (one",
    "line each), so how a server batches packets does not count; a poll that is not answered within",
    "1000 ms shows \"no answer\". Ids are normalised: `<eio-sid>` (Engine.IO), `<sid>` (Socket.IO),",
    "`<pid>`, `<offset>`. A close frame with code 1000 and one without a code are both shown as \"close frame",
    "(normal)\" except in the case \"close frame code\". A case whose two answers differ is run a second time",
    "(a late answer on a loaded machine) and the second run is shown.",
    "",
    "The reasons for the differences are kept in the test's `expected_differences`; the reference's",
    "behaviour and where eio differs on purpose are in [node-reference-behaviour.md](node-reference-behaviour.md),",
    "section 10. The Engine.IO layer has its own table, [reference-comparison.md](reference-comparison.md).",
    "",
    "| case | transport, flags | sent | reference answer | eio answer | same? |",
    "|---|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const flags = [row.transport, ...row.flags].join(" ");
    const expected = expected_differences[row.name];
    const verdict = row.same ? "same" : `**differs**: ${expected?.reason ?? "UNEXPECTED, not in the allow-list"}`;
    out.push(`| ${row.name.replace(/\|/g, "\\|")} | \`${flags}\` | ${`\`${describe_steps(row).replace(/\|/g, "\\|")}\``} | ${cell(row.reference)} | ${cell(row.eio)} | ${verdict} |`);
  }
  const table = out.join("\n") + "\n";
  if (process.env.EIO_WRITE_COMPARISON === "1") {
    writeFileSync(table_path, table);
  } else {
    assert.equal(readFileSync(table_path, "utf8"), table,
                 "docs/socketio-reference-comparison.md is not what the servers answer now: regenerate it (see its header)");
  }
});
