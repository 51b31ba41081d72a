// The Bun peer of benchmarks/compare's Socket.IO cases: socket.io 4.8 (from
// the root package.json) bound to @socket.io/bun-engine on Bun.serve, running
// the demo application of `eiotool serve --socketio`
// (tests/interop/socketio_demo_app.mjs), as the Node reference does.
//
//   bun benchmarks/peers/bun_socketio_server.ts [--host 127.0.0.1] [--port 0] [--path /socket.io/] [--quiet]
//
// Prints one line on stdout, "listening on http://HOST:PORT/PATH", and stops
// (exit code 0) on SIGTERM or SIGINT.
import { Server as Engine } from "@socket.io/bun-engine";
import { Server } from "socket.io";
import { parseArgs } from "node:util";

import { installDemo } from "../../tests/interop/socketio_demo_app.mjs";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  strict: true,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "3000" },
    path: { type: "string", default: "/socket.io/" },
    "ping-interval": { type: "string", default: "25000" },
    "ping-timeout": { type: "string", default: "20000" },
    "max-payload": { type: "string", default: "1000000" },
    "node-name": { type: "string" },
    quiet: { type: "boolean", default: false },
  },
});

const io = new Server();
const engine = new Engine({
  path: values.path,
  pingInterval: Number(values["ping-interval"]),
  pingTimeout: Number(values["ping-timeout"]),
  maxHttpBufferSize: Number(values["max-payload"]),
});
io.bind(engine);

const server = Bun.serve({
  hostname: values.host,
  port: Number(values.port),
  ...engine.handler(),
});
installDemo(io, { nodeName: values["node-name"] ?? `${values.host}:${server.port}` });
if (!values.quiet) {
  io.on("connection", (socket) => {
    process.stderr.write(`connect / ${socket.id}\n`);
    socket.on("disconnect", (reason) => process.stderr.write(`disconnect / ${socket.id}: ${reason}\n`));
  });
}
process.stdout.write(`listening on http://${values.host}:${server.port}${values.path}\n`);

const stop = () => {
  io.close();
  server.stop(true);
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
