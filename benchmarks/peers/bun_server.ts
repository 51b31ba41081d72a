// The Bun peer of benchmarks/compare: @socket.io/bun-engine on Bun.serve, with
// the application of `eiotool serve` and tests/interop/reference_server.mjs:
// every message is echoed to its sender unchanged (text stays text, binary
// stays binary); a text message "broadcast:<rest>" sends <rest> to every open
// session instead.
//
//   bun benchmarks/peers/bun_server.ts [--host 127.0.0.1] [--port 0] [--path /engine.io/] [--quiet]
//
// Prints one line on stdout, "listening on http://HOST:PORT/PATH", and stops
// (exit code 0) on SIGTERM or SIGINT.
import { Server as Engine } from "@socket.io/bun-engine";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  strict: true,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "3000" },
    path: { type: "string", default: "/engine.io/" },
    "ping-interval": { type: "string", default: "25000" },
    "ping-timeout": { type: "string", default: "20000" },
    "max-payload": { type: "string", default: "1000000" },
    quiet: { type: "boolean", default: false },
  },
});

const engine = new Engine({
  path: values.path,
  pingInterval: Number(values["ping-interval"]),
  pingTimeout: Number(values["ping-timeout"]),
  maxHttpBufferSize: Number(values["max-payload"]),
});

// The engine keeps its clients private; the broadcast needs every open one.
const sockets = new Set<any>();
const prefix = "broadcast:";
const log = (line: string) => {
  if (!values.quiet) process.stderr.write(`${line}\n`);
};

engine.on("connection", (socket: any) => {
  sockets.add(socket);
  log(`open sid=${socket.id} ${socket.transport.name}`);
  socket.on("data", (data: any) => {
    if (typeof data === "string" && data.startsWith(prefix)) {
      const rest = data.slice(prefix.length);
      for (const client of sockets) client.write(rest);
    } else {
      socket.write(data);
    }
  });
  socket.on("close", (reason: string) => {
    sockets.delete(socket);
    log(`close sid=${socket.id}: ${reason}`);
  });
});

const server = Bun.serve({
  hostname: values.host,
  port: Number(values.port),
  ...engine.handler(),
});
process.stdout.write(`listening on http://${values.host}:${server.port}${values.path}\n`);

const stop = () => {
  engine.close();
  server.stop(true);
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
