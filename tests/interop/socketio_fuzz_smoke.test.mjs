// `eiotool fuzz --socketio URL` against live Socket.IO servers, a few seconds
// each (EIO_SIO_FUZZ_SECONDS, default 5), fixed seeds:
//   1. `eiotool serve --socketio` (when this eiotool has it) and the Node
//      socket.io 4.8 reference: no case breaks either, the control socket's
//      acks keep coming;
//   2. a socket.io server whose "echo" stops answering after a few acks: the
//      fuzzer reports the broken control socket (exit 1) and saves a
//      reproducer;
//   3. the same seed makes the same cases (--count, the case names).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "./serve_helper.mjs";

const eiotool = process.env.EIO_EIOTOOL;
if (!eiotool) throw new Error("EIO_EIOTOOL must name the eiotool binary");
const seconds = Number(process.env.EIO_SIO_FUZZ_SECONDS || 5);
const ours = execFileSync(eiotool, ["serve", "--help"], { encoding: "utf8" }).includes("--socketio");

const scratch = mkdtempSync(join(tmpdir(), "eio-sio-fuzz-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function fuzz(args, timeout = (seconds + 60) * 1000) {
  return new Promise((resolve) => {
    execFile(eiotool, ["fuzz", "--socketio", "--json", "--cases", scratch, ...args], { timeout, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        let summary;
        try {
          summary = JSON.parse(stdout);
        } catch {
          summary = null;
        }
        resolve({ code: error ? error.code : 0, summary, stdout, stderr });
      });
  });
}

async function clean(url, seed) {
  const r = await fuzz([`${url}/socket.io/`, "--duration", String(seconds), "--seed", String(seed)]);
  assert.ok(r.summary, `no JSON summary (exit ${r.code}): ${r.stdout}${r.stderr}`);
  assert.deepEqual(r.summary.failures, [], JSON.stringify(r.summary.failures));
  assert.equal(r.code, 0);
  assert.ok(r.summary.cases >= 20, `${r.summary.cases} cases`);
  assert.deepEqual(Object.keys(r.summary.by_category), ["socketio"]);
  assert.equal(r.summary.control_echoes, r.summary.cases); // one ack round trip after every case
  return r.summary;
}

test("eiotool serve --socketio: no case breaks it", { skip: !ours && "this eiotool has no serve --socketio" }, async () => {
  const server = await serve(["--ping-interval", "1000"], { socketio: true });
  try {
    await clean(server.url, 7);
  } finally {
    await server.stop();
  }
});

test("the Node socket.io 4.8 reference: no case breaks it", async () => {
  const server = await serve(["--ping-interval", "1000"], { socketio: true, reference: true });
  try {
    await clean(server.url, 7);
  } finally {
    await server.stop();
  }
});

test("a server whose control socket stops being acked is reported, with a reproducer", async () => {
  const require = createRequire(import.meta.url);
  const { Server } = require("socket.io");
  const httpServer = http.createServer();
  const io = new Server(httpServer);
  let acks = 0;
  io.on("connection", (socket) => {
    socket.on("echo", (...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      acks += 1;
      if (ack && acks <= 5) ack(...args);
    });
  });
  await new Promise((done) => httpServer.listen(0, "127.0.0.1", done));
  try {
    const r = await fuzz([`http://127.0.0.1:${httpServer.address().port}/socket.io/`, "--duration", "30", "--seed", "3",
                          "--timeout", "500"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.summary.failures.length, 1);
    assert.match(r.summary.failures[0].failure, /control socket/);
    assert.ok(readdirSync(scratch).some((f) => f.startsWith("socketio-seed3-")));
  } finally {
    io.close();
    httpServer.closeAllConnections();
    httpServer.close();
  }
});

test("usage: an unreachable target exits 2", async () => {
  const r = await fuzz(["http://127.0.0.1:1/socket.io/", "--duration", "1"]);
  assert.equal(r.code, 2);
});
