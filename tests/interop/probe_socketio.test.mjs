// `eiotool probe --socketio` against the Node socket.io 4.8 server
// (socketio_server.mjs), and against `eiotool serve --socketio` (its demo
// application, at the end): a namespace answered (with and without connection
// state recovery: the pid), each transport, auth, a middleware refusal with
// its message and data, an unknown namespace, the emit round trip and an
// emit nobody acknowledges; bad usage and an unreachable port.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";

import { probe, probeJson } from "./probe_helper.mjs";
import { serve } from "./serve_helper.mjs";


const servers = new Set();
process.on("exit", () => {
  for (const child of servers) child.kill("SIGKILL");
});
after(() => {
  for (const child of servers) child.kill("SIGKILL");
});

// Starts socketio_server.mjs; resolves with its URL (http://127.0.0.1:PORT).
function startServer(args = []) {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL("./socketio_server.mjs", import.meta.url));
    const child = spawn(process.execPath, [script, "--port", "0", ...args], { stdio: ["ignore", "pipe", "inherit"] });
    servers.add(child);
    const timer = setTimeout(() => reject(new Error("the socket.io server did not start")), 10000);
    child.stdout.setEncoding("utf8");
    child.stdout.once("data", (line) => {
      clearTimeout(timer);
      resolve(line.trim().replace(/^listening on /, ""));
    });
    child.on("exit", () => servers.delete(child));
  });
}


const recovering = await startServer(["--recovery"]);
const plain = await startServer([]);

for (const transport of ["polling", "websocket", "upgrade"]) {
  test(`--transport ${transport}: CONNECT answered, the pid of a recovering server`, async () => {
    const { code, report } = await probeJson([recovering, "--socketio", "--transport", transport, "--timeout", "5000"]);
    assert.equal(code, 0, JSON.stringify(report, null, 1));
    assert.equal(report.ok, true);
    const step = report.steps.socketio;
    assert.equal(step.result, "pass");
    assert.equal(step.namespace, "/");
    assert.match(step.sid, /^[\w-]{20}$/);
    assert.equal(step.recovery, true);
    assert.match(step.pid, /^[\w-]{20}$/);
    assert.match(report.verdict, /speaks Socket\.IO v5/);
  });
}

test("without connection state recovery: no pid", async () => {
  const { code, report } = await probeJson([plain, "--socketio"]);
  assert.equal(code, 0, JSON.stringify(report, null, 1));
  assert.equal(report.steps.socketio.recovery, false);
  assert.equal(report.steps.socketio.pid, undefined);
});

test("auth: the middleware lets the right token in", async () => {
  const { code, report } = await probeJson([plain, "--socketio", "--namespace", "/admin", "--auth", '{"token":"secret"}']);
  assert.equal(code, 0, JSON.stringify(report, null, 1));
  assert.equal(report.steps.socketio.result, "pass");
  assert.equal(report.steps.socketio.namespace, "/admin");
});

test("middleware refusal: the CONNECT_ERROR's message and data", async () => {
  const { code, report } = await probeJson([plain, "--socketio", "--namespace", "/admin", "--auth", '{"token":"nope"}']);
  assert.equal(code, 1);
  assert.equal(report.failed, "socketio");
  assert.deepEqual(report.steps.socketio.refused, { message: "not authorized", data: { code: 401, hint: "send auth.token" } });
  assert.match(report.verdict, /FAILED at socketio: CONNECT \/admin refused: "not authorized", data \{"code":401/);
  // In words too.
  const human = await probe([plain, "--socketio", "--namespace", "/admin"]);
  assert.equal(human.code, 1);
  assert.match(human.stdout, /\[FAIL\] socketio   CONNECT \/admin refused: "not authorized"/);
  assert.match(human.stdout, /a middleware refused the connection .*does it want --auth\?/);
});

test("a refusal without data", async () => {
  const { code, report } = await probeJson([plain, "--socketio", "--namespace", "/refuse-plain"]);
  assert.equal(code, 1);
  assert.deepEqual(report.steps.socketio.refused, { message: "plain refusal" });
});

test("refused namespace", async () => {
  const { code, report } = await probeJson([plain, "--socketio", "--namespace", "/nope"]);
  assert.equal(code, 1);
  assert.equal(report.failed, "socketio");
  assert.deepEqual(report.steps.socketio.refused, { message: "Invalid namespace" });
  assert.match(report.steps.socketio.notes[0], /no namespace \/nope/);
});

test("the emit round trip, binary-free and nested", async () => {
  const args = ["hi", 1, -2.5, true, null, { a: [1, { b: "ü" }] }, []];
  const { code, report } = await probeJson([
    plain, "--socketio", "--namespace", "/admin", "--auth", '{"token":"secret"}',
    "--emit", "echo", "--args", JSON.stringify(args), "--transport", "websocket",
  ]);
  assert.equal(code, 0, JSON.stringify(report, null, 1));
  assert.equal(report.steps.emit.result, "pass");
  assert.equal(report.steps.emit.event, "echo");
  assert.deepEqual(report.steps.emit.args, args);
  assert.deepEqual(report.steps.emit.answer, args);
  assert.equal(typeof report.steps.emit.rttMs, "number");
});

test("an emit nobody acknowledges", async () => {
  const { code, report } = await probeJson([plain, "--socketio", "--emit", "no-ack", "--timeout", "500"]);
  assert.equal(code, 1);
  assert.equal(report.failed, "emit");
  assert.match(report.steps.emit.summary, /no acknowledgement of "no-ack" within 500 ms/);
});

test("bad usage: exit 2", async () => {
  for (const args of [
    ["--socketio", "--eio", "3"],
    ["--socketio", "--auth", "[1]"],
    ["--socketio", "--auth", "{not json"],
    ["--socketio", "--namespace", "admin"],
    ["--socketio", "--emit", "connect"],
    ["--socketio", "--send", "raw"],
  ]) {
    const r = await probe([plain, ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
  }
});

test("nothing listening: unreachable, exit 2", async () => {
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port: p } = s.address();
      s.close(() => resolve(p));
    });
  });
  const { code, report } = await probeJson([`http://127.0.0.1:${port}`, "--socketio"]);
  assert.equal(code, 2);
  assert.equal(report.failed, "connect");
});

test("a plain Engine.IO echo server: the CONNECT comes back without a sid", async () => {
  const { serve } = await import("./serve_helper.mjs");
  const server = await serve([]);
  try {
    const { code, report } = await probeJson([`${server.url}/engine.io/`, "--socketio", "--timeout", "1000"]);
    assert.equal(code, 1, JSON.stringify(report, null, 1));
    assert.equal(report.failed, "socketio");
    assert.equal(report.steps.socketio.summary, "the CONNECT was answered without a sid");
  } finally {
    await server.stop();
  }
});

// The same probes against our server (the demo application: /admin wants
// auth.token "letmein" and refuses with "unauthorized", without data).
const ours = await serve(["--state-recovery", "60000"], { socketio: true });
const oursPlain = await serve([], { socketio: true });
after(async () => {
  await ours.stop();
  await oursPlain.stop();
});

for (const transport of ["polling", "websocket", "upgrade"]) {
  test(`eiotool serve --socketio, --transport ${transport}: CONNECT answered, the pid with recovery on`, async () => {
    const { code, report } = await probeJson([ours.url, "--socketio", "--transport", transport, "--timeout", "5000"]);
    assert.equal(code, 0, JSON.stringify(report, null, 1));
    assert.equal(report.steps.socketio.result, "pass");
    assert.match(report.steps.socketio.sid, /^[\w-]{20}$/);
    assert.equal(report.steps.socketio.recovery, true);
    assert.match(report.steps.socketio.pid, /^[\w-]{20}$/);
  });
}

test("eiotool serve --socketio: no pid without recovery, auth admitted, refusals named, the emit round trip", async () => {
  let r = await probeJson([oursPlain.url, "--socketio"]);
  assert.equal(r.code, 0, JSON.stringify(r.report, null, 1));
  assert.equal(r.report.steps.socketio.recovery, false);

  r = await probeJson([oursPlain.url, "--socketio", "--namespace", "/admin", "--auth", '{"token":"letmein"}']);
  assert.equal(r.code, 0, JSON.stringify(r.report, null, 1));
  assert.equal(r.report.steps.socketio.namespace, "/admin");

  r = await probeJson([oursPlain.url, "--socketio", "--namespace", "/admin", "--auth", '{"token":"nope"}']);
  assert.equal(r.code, 1);
  assert.equal(r.report.failed, "socketio");
  assert.deepEqual(r.report.steps.socketio.refused, { message: "unauthorized" });

  r = await probeJson([oursPlain.url, "--socketio", "--namespace", "/nope"]);
  assert.equal(r.code, 1);
  assert.deepEqual(r.report.steps.socketio.refused, { message: "Invalid namespace" });

  const args = ["hi", 1, -2.5, true, null, { a: [1, { b: "ü" }] }, []];
  r = await probeJson([oursPlain.url, "--socketio", "--emit", "echo", "--args", JSON.stringify(args), "--transport", "websocket"]);
  assert.equal(r.code, 0, JSON.stringify(r.report, null, 1));
  assert.deepEqual(r.report.steps.emit.answer, args);

  r = await probeJson([oursPlain.url, "--socketio", "--emit", "no-ack", "--timeout", "500"]);
  assert.equal(r.code, 1);
  assert.equal(r.report.failed, "emit");
});
