// `eiotool bench` against `eiotool serve`, one short run per mode (about 2 s
// each): no errors, every echo verified, counts that add up. No timing
// assertion: CI machines are shared. And a server that corrupts one echo
// (engine.io 6, in this process) must be caught.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http from "node:http";
import { createRequire } from "node:module";
import { bench, cleanBench as clean, serve } from "./serve_helper.mjs";

const eiotool = process.env.EIO_EIOTOOL;
if (!eiotool) throw new Error("EIO_EIOTOOL must name the eiotool binary");

const server = await serve(["--ping-interval", "500"]);
after(() => server.stop());

test("websocket echo: every echo verified", async () => {
  const r = await bench(server.url, ["-c", "4", "-w", "4", "-s", "64"]);
  clean(r);
  assert.equal(r.report.sessions_alive, 4);
  assert.ok(r.report.messages > 0);
  assert.equal(r.report.bytes, r.report.messages * 64);
  assert.ok(r.report.latency_us.count > 0 && r.report.latency_us.p99 >= r.report.latency_us.p50);
});

test("websocket echo of 4 KiB binary messages", async () => {
  const r = await bench(server.url, ["-c", "2", "-w", "2", "-s", "4096", "--binary"]);
  clean(r);
  assert.ok(r.report.messages > 0);
  assert.equal(r.report.bytes, r.report.messages * 4096);
});

test("polling echo, text and binary (base64)", async () => {
  for (const extra of [[], ["--binary"]]) {
    const r = await bench(server.url, ["--transport", "polling", "-c", "3", "-w", "3", "-s", "100", ...extra]);
    clean(r);
    assert.equal(r.report.sessions_alive, 3);
    assert.ok(r.report.messages > 0);
  }
});

test("idle sessions answer pings and stay open", async () => {
  for (const transport of ["websocket", "polling"]) {
    const r = await bench(server.url, ["--mode", "idle", "--transport", transport, "-c", "50", "--on-open", "true"]);
    clean(r);
    assert.equal(r.report.sessions_opened, 50);
    assert.equal(r.report.sessions_alive, 50);
    assert.ok(r.report.pings >= 50, `${transport}: ${r.report.pings} pings answered`); // ping interval 500 ms, 2 s held
    assert.match(r.stderr, /all sessions open: 50/);
  }
});

test("fanout at a low rate loses nothing", async () => {
  const r = await bench(server.url, ["--mode", "fanout", "-c", "20", "-s", "64", "--rate", "20"]);
  clean(r);
  assert.equal(r.report.sessions_opened, 21); // and the sender
  assert.ok(r.report.broadcasts > 0);
  assert.equal(r.report.expected, r.report.broadcasts * 20);
  assert.equal(r.report.messages, r.report.expected);
  assert.equal(r.report.lost, 0);
});

test("polling handshakes open and close", async () => {
  const r = await bench(server.url, ["--mode", "handshake", "-c", "4"]);
  clean(r);
  assert.equal(r.report.sessions_opened, 4);
  assert.ok(r.report.messages > 0);
});

test("a server that corrupts one echo is caught", async () => {
  const require = createRequire(import.meta.url);
  const engine = require("engine.io");
  const httpServer = http.createServer();
  const io = engine.attach(httpServer);
  let count = 0;
  io.on("connection", (socket) => {
    socket.on("message", (data) => {
      count += 1;
      socket.send(count === 10 ? `${data.slice(0, -1)}!` : data);
    });
  });
  await new Promise((done) => httpServer.listen(0, "127.0.0.1", done));
  try {
    const r = await bench(`http://127.0.0.1:${httpServer.address().port}`, ["-c", "1", "-w", "1", "-s", "32"], 1);
    assert.equal(r.code, 1);
    assert.equal(r.report.mismatches, 1);
    assert.ok(r.report.errors >= 1);
    assert.match(r.report.first_error, /differs/);
  } finally {
    io.close();
    httpServer.closeAllConnections();
    httpServer.close();
  }
});

test("a server off the loopback needs --allow-remote", async () => {
  const r = await new Promise((resolve) => {
    execFile(eiotool, ["bench", "http://192.0.2.1:3000/engine.io/", "--duration", "1"], { timeout: 10000 },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stderr }));
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a loopback address: pass --allow-remote/);
});

test("busy polling on both sides (--busy-poll): echoes verified, pings on time, the server stops", async () => {
  // The server may spin for up to 1 s, far longer than its 300 ms ping
  // interval: the spin must end at the loop's next timer, or every ping
  // comes about a second late.
  const spinning = await serve(["--ping-interval", "300", "--busy-poll", "1000000"]);
  try {
    const echo = await bench(spinning.url, ["-c", "2", "-w", "1", "-s", "32", "--busy-poll", "200"]);
    clean(echo);
    assert.equal(echo.report.sessions_alive, 2);
    assert.ok(echo.report.messages > 0);
    assert.equal(echo.report.bytes, echo.report.messages * 32);
    // 10 sessions held 2 s at one ping per 300 ms: about 60 pings; with the
    // spin holding the timers back, about 20.
    const idle = await bench(spinning.url, ["--mode", "idle", "-c", "10", "--busy-poll", "200"]);
    clean(idle);
    assert.equal(idle.report.sessions_alive, 10);
    assert.ok(idle.report.pings >= 40, `${idle.report.pings} pings answered`);
  } finally {
    assert.equal(await spinning.stop(), 0);
  }
});
