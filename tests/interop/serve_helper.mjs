// Starts a live server for the Node interop tests: `eiotool serve` (the path
// of eiotool in EIO_EIOTOOL), or with { reference: true } the engine.io 6
// reference server (reference_server.mjs, same flags, same log lines except
// that sessions are named by sid only).
//
//   const server = await serve(["--ping-interval", "300"], { quiet: false });
//   server.url                   http://127.0.0.1:PORT (no path; https:// with TLS)
//   server.host, server.port, server.pid
//   server.banner                the "listening on ..." line it printed
//   server.lines()               the stderr lines so far (none with quiet)
//   await server.waitForLine(/close 0\.1: /, 5000)  resolves with the first
//                                matching line (earlier ones count), rejects
//                                after the timeout with the log so far
//   server.signal("SIGSTOP")     SIGSTOP, SIGCONT, SIGTERM, ...
//   await server.stop()          SIGCONT + SIGTERM, resolves with the exit code
//                                (null when it had to be killed after 5 s)
//
// serve(args, { socketio: true }) starts `eiotool serve --socketio` (the demo
// application of socketio_demo_app.mjs); with reference: true as well, the
// Node socket.io 4.8 server running the same application
// (socketio_reference_server.mjs, same flags). server.url has no path; the
// Socket.IO path is /socket.io/.
//
// serve(args, { program }) starts another server that prints the same
// "listening on http://..." line (eio_floor_server): `program --port 0 args`.
//
// servePairs(options) starts, per flag list, the reference and ours side
// by side for the comparison tests (below).
//
// bench(url, args, duration) runs `eiotool bench URL/engine.io/ --json
// --duration D ...args` and resolves with { code, report, stderr };
// cleanBench(result) asserts that it saw no error and no wrong echo.
//
// echo(url, options, messages, { v3, timeout }) opens an official client
// (engine.io-client 6, or 3 with v3), sends `messages` once open and
// resolves with { got, transport } once as many messages came back.
//
// Every server still running when the test process exits is killed, so a
// failed test does not leave one behind. A server that fails after it
// started (ends by a signal the test did not send, or with a code other than
// 0) writes its stderr to the test's, so a crash or a sanitizer's report
// shows in the CI log.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { Socket } from "engine.io-client";
import { fileURLToPath } from "node:url";

const live = new Set();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export function serve(args = [], { quiet = true, reference = false, socketio = false, program, startTimeout = 10000 } = {}) {
  let command;
  let commandArgs;
  if (program) {
    command = program;
    commandArgs = ["--port", "0"];
    quiet = false; // no such flag
  } else if (socketio && reference) {
    command = process.execPath;
    commandArgs = [fileURLToPath(new URL("./socketio_reference_server.mjs", import.meta.url)), "--port", "0"];
  } else if (socketio) {
    command = process.env.EIO_EIOTOOL;
    if (!command) throw new Error("EIO_EIOTOOL must name the eiotool binary");
    commandArgs = ["serve", "--socketio", "--port", "0"];
  } else if (reference) {
    command = process.execPath;
    commandArgs = [fileURLToPath(new URL("./reference_server.mjs", import.meta.url)), "--port", "0"];
  } else {
    command = process.env.EIO_EIOTOOL;
    if (!command) throw new Error("EIO_EIOTOOL must name the eiotool binary");
    commandArgs = ["serve", "--port", "0"];
  }
  if (quiet) commandArgs.push("--quiet");
  // A port of the caller's (a restart on the same port) replaces the free one.
  if (args.includes("--port")) commandArgs.splice(commandArgs.indexOf("--port"), 2);
  commandArgs.push(...args);

  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    let out = "";
    let err = "";
    const lines = [];
    const waiters = new Set();
    let exitCode;
    let endSignal = null;
    let started = false;
    const sentSignals = new Set();  // what the test sent through signal() and stop()
    const log = () => lines.concat(err ? [err] : []).join("\n");
    // "close", not "exit": the log lines written just before the exit are
    // read by then. With quiet, the log of a failed server is only what went
    // wrong.
    const exited = new Promise((done) =>
      child.on("close", (code, signal) => {
        live.delete(child);
        exitCode = code;
        endSignal = signal;
        const failed = signal ? !sentSignals.has(signal) : code !== 0;
        if (started && failed && !process.env.EIO_SERVE_LOG) {
          process.stderr.write(`[serve] ${command} (pid ${child.pid}) ended with ${signal ?? code}; its stderr:\n${log()}\n`);
        }
        done(code);
      }),
    );

    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk) => {
      err += chunk;
      let newline;
      while ((newline = err.indexOf("\n")) >= 0) {
        const line = err.slice(0, newline);
        err = err.slice(newline + 1);
        lines.push(line);
        if (process.env.EIO_SERVE_LOG) process.stderr.write(`[serve] ${line}\n`);
        for (const waiter of waiters) waiter(line);
      }
    });

    const waitForLine = (pattern, timeout = 5000) =>
      new Promise((found, fail) => {
        const earlier = lines.find((line) => pattern.test(line));
        if (earlier !== undefined) return found(earlier);
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`no log line matching ${pattern} within ${timeout} ms; log:\n${lines.join("\n")}`));
        }, timeout);
        const check = (line) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          waiters.delete(check);
          found(line);
        };
        waiters.add(check);
      });

    const stop = async () => {
      if (exitCode === undefined) {
        sentSignals.add("SIGTERM");  // a program without a handler dies of it
        child.kill("SIGCONT"); // a SIGTERM to a stopped process waits for SIGCONT
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      return exitCode;
    };

    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} did not start in ${startTimeout} ms; stdout:\n${out}\nstderr:\n${log()}`));
    }, startTimeout);
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/listening on (https?):\/\/([^:/]+):(\d+)\/.*\n/);
      if (!m) return;
      clearTimeout(timer);
      started = true;
      resolve({
        url: `${m[1]}://${m[2]}:${m[3]}`,
        host: m[2],
        port: Number(m[3]),
        pid: child.pid,
        banner: m[0].trim(),
        lines: () => lines.slice(),
        waitForLine,
        signal: (name) => {
          sentSignals.add(name);
          return child.kill(name);
        },
        stop,
        exited,
      });
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command} ended with ${endSignal ?? code} before it listened; stdout:\n${out}\nstderr:\n${log()}`));
    });
  });
}

// Pairs of servers for comparisons: the Node reference and ours, started by
// serve() with the same flags (and options, e.g. { socketio: true }), one
// pair per distinct flag list, on first use. stopAll() stops every pair and
// resolves with our servers' exit codes. When ours does not start, the
// reference is stopped before the error goes on (a live server would keep
// the test process running).
export function servePairs(options = {}) {
  const pairs = new Map();
  const start = async (flags) => {
    const reference = await serve(flags, { ...options, reference: true });
    try {
      return { reference, eio: await serve(flags, options) };
    } catch (error) {
      await reference.stop();
      throw error;
    }
  };
  return {
    get(flags) {
      const key = flags.join(" ");
      if (!pairs.has(key)) pairs.set(key, start(flags));
      return pairs.get(key);
    },
    async stopAll() {
      const exits = [];
      for (const pair of pairs.values()) {
        const servers = await pair.catch(() => null);
        if (!servers) continue;
        const [, exit] = await Promise.all([servers.reference.stop(), servers.eio.stop()]);
        exits.push(exit);
      }
      return exits;
    },
  };
}

export function bench(url, args, duration = 2) {
  const eiotool = process.env.EIO_EIOTOOL;
  if (!eiotool) throw new Error("EIO_EIOTOOL must name the eiotool binary");
  return new Promise((resolve, reject) => {
    execFile(eiotool, ["bench", `${url}/engine.io/`, "--json", "--duration", String(duration), ...args], { timeout: 60000 },
      (error, stdout, stderr) => {
        try {
          resolve({ code: error ? error.code : 0, report: JSON.parse(stdout.trim().split("\n").pop()), stderr });
        } catch {
          reject(new Error(`no JSON from eiotool bench ${args.join(" ")}: ${stdout}\n${stderr}`));
        }
      });
  });
}

export function cleanBench(r) {
  assert.equal(r.report.errors, 0, `errors: ${r.report.first_error}`);
  assert.equal(r.report.mismatches, 0);
  assert.equal(r.code, 0);
}

const eioV3 = createRequire(import.meta.url)("engine.io-client-v3");

// Opens a client, sends `messages` once open, resolves with the echoes.
export function echo(url, options, messages, { v3 = false, timeout = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = v3 ? eioV3(url, options) : new Socket(url, options);
    const got = [];
    const timer = setTimeout(() => reject(new Error(`timeout after ${got.length}/${messages.length} echoes`)), timeout);
    socket.on("open", () => messages.forEach((m) => socket.send(m)));
    socket.on("message", (m) => {
      got.push(m);
      if (got.length === messages.length) {
        clearTimeout(timer);
        const transport = socket.transport.name;
        socket.close();
        resolve({ got, transport });
      }
    });
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
