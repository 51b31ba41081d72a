// `eiotool bench --socketio` against the demo application: `eiotool serve
// --socketio` when this eiotool has it, else the Node socket.io 4.8 reference
// (socketio_reference_server.mjs). One short run per mode (about 2 s each):
// no errors, every echo, ack and room message verified, counts that add up.
// No timing assertion: CI machines are shared. And a socket.io server that
// corrupts one echo (and one ack) must be caught: errors reported, exit 1.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import http from "node:http";
import { createRequire } from "node:module";
import { serve } from "./serve_helper.mjs";

const eiotool = process.env.EIO_EIOTOOL;
if (!eiotool) throw new Error("EIO_EIOTOOL must name the eiotool binary");

const ours = execFileSync(eiotool, ["serve", "--help"], { encoding: "utf8" }).includes("--socketio");
const server = await serve(["--ping-interval", "500"], { socketio: true, reference: !ours });
after(() => server.stop());

function bench(url, args, duration = 2) {
  return new Promise((resolve, reject) => {
    execFile(eiotool, ["bench", `${url}/socket.io/`, "--socketio", "--json", "--duration", String(duration), ...args],
      { timeout: 60000 }, (error, stdout, stderr) => {
        try {
          resolve({ code: error ? error.code : 0, report: JSON.parse(stdout.trim().split("\n").pop()), stderr });
        } catch {
          reject(new Error(`no JSON from eiotool bench --socketio ${args.join(" ")}: ${stdout}\n${stderr}`));
        }
      });
  });
}

function clean(r) {
  assert.equal(r.report.errors, 0, `errors: ${r.report.first_error}`);
  assert.equal(r.report.mismatches, 0);
  assert.equal(r.code, 0);
}

test(`the server under test: ${ours ? "eiotool serve --socketio" : "the Node reference (no serve --socketio here)"}`, () => {});

test("websocket echo, events and acks: every echo verified", async () => {
  for (const acks of [[], ["--acks"]]) {
    const r = await bench(server.url, ["-c", "4", "-w", "4", "-s", "64", ...acks]);
    clean(r);
    assert.equal(r.report.sessions_alive, 4);
    assert.ok(r.report.messages > 0);
    assert.equal(r.report.bytes, r.report.messages * 64);
    assert.ok(r.report.latency_us.count > 0 && r.report.latency_us.p99 >= r.report.latency_us.p50);
  }
});

test("4 KiB binary attachments, events and acks", async () => {
  for (const acks of [[], ["--acks"]]) {
    const r = await bench(server.url, ["-c", "2", "-w", "2", "-s", "4096", "--binary", ...acks]);
    clean(r);
    assert.ok(r.report.messages > 0);
    assert.equal(r.report.bytes, r.report.messages * 4096);
  }
});

test("polling echo, text and binary (base64), events and acks", async () => {
  for (const extra of [[], ["--binary"], ["--acks"], ["--binary", "--acks"]]) {
    const r = await bench(server.url, ["--transport", "polling", "-c", "3", "-w", "3", "-s", "100", ...extra]);
    clean(r);
    assert.equal(r.report.sessions_alive, 3);
    assert.ok(r.report.messages > 0, `${extra}: no echo`);
  }
});

test("idle sockets stay connected and answer pings", async () => {
  for (const transport of ["websocket", "polling"]) {
    const r = await bench(server.url, ["--mode", "idle", "--transport", transport, "-c", "50", "--on-open", "true"]);
    clean(r);
    assert.equal(r.report.sessions_opened, 50);
    assert.equal(r.report.sessions_alive, 50);
    assert.ok(r.report.pings >= 50, `${transport}: ${r.report.pings} pings answered`); // ping interval 500 ms, 2 s held
    assert.match(r.stderr, /all sessions open: 50/);
  }
});

test("fanout to a room at a low rate loses nothing", async () => {
  const r = await bench(server.url, ["--mode", "fanout", "-c", "20", "-s", "64", "--rate", "20"]);
  clean(r);
  assert.equal(r.report.sessions_opened, 21); // and the sender, not in the room
  assert.ok(r.report.broadcasts > 0);
  assert.equal(r.report.expected, r.report.broadcasts * 20);
  assert.equal(r.report.messages, r.report.expected);
  assert.equal(r.report.lost, 0);
});

test("connect rate: handshake, CONNECT, close", async () => {
  const r = await bench(server.url, ["--mode", "handshake", "-c", "4"]);
  clean(r);
  assert.equal(r.report.sessions_opened, 4);
  assert.ok(r.report.messages > 0);
  assert.ok(r.report.latency_us.count > 0);
});

test("a bad namespace path is an error, not a hang", async () => {
  const r = await new Promise((resolve) => {
    execFile(eiotool, ["bench", `${server.url}/nothing-here/`, "--socketio", "--json", "--duration", "1", "-c", "1"],
      { timeout: 90000 }, (error, stdout) => resolve({ code: error ? error.code : 0, stdout }));
  });
  assert.equal(r.code, 1);
  assert.ok(JSON.parse(r.stdout.trim()).errors >= 1);
});

test("several URLs outside a Socket.IO fanout, and more senders than URLs, are refused with a reason", async () => {
  const run = (args) => new Promise((resolve) => {
    execFile(eiotool, ["bench", ...args, "--duration", "1", "-c", "2"], { timeout: 30000 },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stderr }));
  });
  const url = `${server.url}/socket.io/`;
  for (const args of [[url, url, "--socketio"], [url, url, "--mode", "fanout"]]) {
    const r = await run(args);
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stderr, /several URLs \(the nodes of a cluster\) are for --socketio --mode fanout only/);
  }
  const r = await run([url, url, "--socketio", "--mode", "fanout", "--senders", "3"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--senders 3 is more than the 2 URL\(s\) given/);
});

// socket.io 4.8 in this process: "echo" as the demo answers it, except the
// 10th, whose argument loses its last character.
async function corruptingServer() {
  const require = createRequire(import.meta.url);
  const { Server } = require("socket.io");
  const httpServer = http.createServer();
  const io = new Server(httpServer);
  let count = 0;
  io.on("connection", (socket) => {
    socket.on("echo", (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      count += 1;
      if (count === 10) args[0] = typeof args[0] === "string" ? `${args[0].slice(0, -1)}!` : Buffer.from("corrupt");
      if (ack) ack(...args);
      else socket.emit("echo", ...args);
    });
  });
  await new Promise((done) => httpServer.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${httpServer.address().port}`,
    close: () => {
      io.close();
      httpServer.closeAllConnections();
      httpServer.close();
    },
  };
}

test("a server that corrupts one echo, one ack or one attachment is caught", async () => {
  for (const extra of [[], ["--acks"], ["--binary"], ["--transport", "polling", "--acks"]]) {
    const corrupt = await corruptingServer();
    try {
      const r = await bench(corrupt.url, ["-c", "1", "-w", "1", "-s", "32", ...extra], 1);
      assert.equal(r.code, 1, `${extra}: exit code`);
      assert.equal(r.report.mismatches, 1, `${extra}: ${r.report.first_error}`);
      assert.ok(r.report.errors >= 1);
      assert.match(r.report.first_error, /differs/);
    } finally {
      corrupt.close();
    }
  }
});
