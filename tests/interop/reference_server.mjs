#!/usr/bin/env node
// The Node reference server: engine.io 6 (the version pinned in the root
// package.json, installed by `npm ci`) behind a plain node:http server, with
// the same application and the same flags as `eiotool serve`, so that tests,
// probes and benchmarks can run one script against both servers.
//
//   node tests/interop/reference_server.mjs [--port 0] [--allow-eio3] ...
//
// Application (as in tools/eiotool/serve_command.cpp): every message is echoed
// to its sender unchanged (text stays text, binary stays binary); a text
// message "broadcast:<rest>" sends <rest> to every open session instead.
// Plain HTTP requests outside the Engine.IO path get 404 "Not Found".
//
// Flags (each maps to the engine.io option named after the arrow):
//   --host ADDR            listen address (default 127.0.0.1)
//   --port N               port, 0 picks a free one (default 3000)
//   --path P               -> path (default /engine.io/)
//   --ping-interval MS     -> pingInterval (default 25000)
//   --ping-timeout MS      -> pingTimeout (default 20000)
//   --upgrade-timeout MS   -> upgradeTimeout (default 10000)
//   --max-payload BYTES    -> maxHttpBufferSize (default 1000000)
//   --transports LIST      -> transports: polling, websocket or both, comma-separated
//   --no-upgrades          -> allowUpgrades: false
//   --allow-eio3           -> allowEIO3: true
//   --cors-origin ORIGIN   -> cors.origin (repeat; "*" for any). As in eiotool,
//                             credentials are allowed unless the origin is "*".
//   --cookie NAME          -> cookie: { name: NAME } (engine.io's other defaults)
//   --auth-token TOKEN     -> allowRequest: handshakes without ?token=TOKEN or
//                             "Authorization: Bearer TOKEN" are refused (403)
//   --quiet                no session log on stderr
//
// On start it prints exactly one line on stdout,
//   listening on http://HOST:PORT/PATH
// and it stops cleanly (exit code 0) on SIGTERM or SIGINT.
import http from "node:http";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";

// require() so that the engine.io found is the one in the repository's
// node_modules (resolved from this file's directory upwards).
const require = createRequire(import.meta.url);
const engine = require("engine.io");

function usage(message) {
  process.stderr.write(`reference_server: ${message}\n`);
  process.exit(2);
}

function integer(name, text, min, max) {
  if (!/^\d+$/.test(text)) usage(`--${name} needs a non-negative integer, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) usage(`--${name} must be in [${min}, ${max}], got ${value}`);
  return value;
}

function parseFlags(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "3000" },
        path: { type: "string", default: "/engine.io/" },
        "ping-interval": { type: "string", default: "25000" },
        "ping-timeout": { type: "string", default: "20000" },
        "upgrade-timeout": { type: "string", default: "10000" },
        "max-payload": { type: "string", default: "1000000" },
        transports: { type: "string", default: "polling,websocket" },
        "no-upgrades": { type: "boolean", default: false },
        "allow-eio3": { type: "boolean", default: false },
        "cors-origin": { type: "string", multiple: true, default: [] },
        cookie: { type: "string", default: "" },
        "auth-token": { type: "string", default: "" },
        quiet: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    usage(error.message);
  }
  const transports = values.transports.split(",");
  if (transports.length === 0 || transports.some((t) => t !== "polling" && t !== "websocket")) {
    usage(`--transports takes polling, websocket or both, got "${values.transports}"`);
  }
  return {
    host: values.host,
    port: integer("port", values.port, 0, 65535),
    path: values.path,
    pingInterval: integer("ping-interval", values["ping-interval"], 1, 86_400_000),
    pingTimeout: integer("ping-timeout", values["ping-timeout"], 1, 86_400_000),
    upgradeTimeout: integer("upgrade-timeout", values["upgrade-timeout"], 1, 86_400_000),
    maxPayload: integer("max-payload", values["max-payload"], 1, 2 ** 30),
    transports,
    allowUpgrades: !values["no-upgrades"],
    allowEIO3: values["allow-eio3"],
    corsOrigins: values["cors-origin"],
    cookie: values.cookie,
    authToken: values["auth-token"],
    quiet: values.quiet,
  };
}

function engineOptions(flags) {
  const options = {
    path: flags.path,
    pingInterval: flags.pingInterval,
    pingTimeout: flags.pingTimeout,
    upgradeTimeout: flags.upgradeTimeout,
    maxHttpBufferSize: flags.maxPayload,
    transports: flags.transports,
    allowUpgrades: flags.allowUpgrades,
    allowEIO3: flags.allowEIO3,
  };
  if (flags.corsOrigins.length > 0) {
    const any = flags.corsOrigins.includes("*");
    options.cors = { origin: any ? "*" : flags.corsOrigins, credentials: !any };
  }
  if (flags.cookie) options.cookie = { name: flags.cookie };
  if (flags.authToken) {
    const token = flags.authToken;
    // Only handshakes reach allowRequest (engine.io skips it when a sid is present).
    options.allowRequest = (req, callback) => {
      const query = new URL(req.url, "http://x").searchParams;
      const ok = query.get("token") === token || req.headers.authorization === `Bearer ${token}`;
      callback(ok ? null : "Forbidden", ok);
    };
  }
  return options;
}

function start(flags) {
  // engine.io passes requests outside its path to the listeners the server
  // had before attach(); like eiotool, answer them 404 rather than never.
  const httpServer = http.createServer((req, res) => {
    res.writeHead(404, { "Content-Type": "text/plain; charset=UTF-8" });
    res.end("Not Found");
  });
  const server = engine.attach(httpServer, engineOptions(flags));
  const log = (line) => {
    if (!flags.quiet) process.stderr.write(`${line}\n`);
  };

  server.on("connection", (socket) => {
    log(`open sid=${socket.id} ${socket.transport.name} v${socket.protocol}`);
    socket.on("message", (data) => {
      const prefix = "broadcast:";
      if (typeof data === "string" && data.startsWith(prefix)) {
        const rest = data.slice(prefix.length);
        for (const client of Object.values(server.clients)) client.send(rest);
      } else {
        socket.send(data);
      }
    });
    socket.on("close", (reason, description) => {
      log(`close sid=${socket.id}: ${reason}${description ? ` - ${description.message ?? description}` : ""}`);
    });
  });
  server.on("connection_error", (error) => {
    log(`refused ${error.req?.url ?? "?"}: ${error.code} ${error.message}`);
  });

  httpServer.listen(flags.port, flags.host, () => {
    const { port } = httpServer.address();
    process.stdout.write(`listening on http://${flags.host}:${port}${server.opts.path}\n`);
  });
  httpServer.on("error", (error) => {
    process.stderr.write(`reference_server: cannot listen on ${flags.host}:${flags.port}: ${error.message}\n`);
    process.exit(1);
  });

  const stop = () => {
    server.close(); // every session ends with "forced close"
    httpServer.close(() => process.exit(0));
    httpServer.closeAllConnections(); // held polls and keep-alive sockets would keep close() waiting
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

start(parseFlags(process.argv.slice(2)));
