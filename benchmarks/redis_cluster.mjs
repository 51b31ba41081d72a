// Cross-node broadcast through Redis: two servers on one redis-server, N
// clients spread over them, one client asking for M broadcasts (the demo's
// "broadcast" event, each reaching every client of the namespace on both
// nodes). Reports the time until every client had every broadcast, the
// deliveries per second, losses, and the servers' CPU time (from /proc).
//
//   EIO_EIOTOOL=build/rel/tools/eiotool/eiotool node benchmarks/redis_cluster.mjs [eio|node] [classic|sharded] [clients] [messages]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";

import { serve } from "../tests/interop/serve_helper.mjs";

const require = createRequire(import.meta.url);
const { io } = require("socket.io-client");

const [kind = "eio", adapter = "classic", clientCount = "200", messageCount = "1000"] = process.argv.slice(2);
const N = Number(clientCount);
const M = Number(messageCount);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
await sleep(300);
const url = `redis://127.0.0.1:${port}`;
const common = ["--redis", url, "--redis-adapter", adapter];
const ours = kind === "eio";
const servers = await Promise.all(
  ["s1", "s2"].map((name) => serve([...common, "--node-name", name, ...(ours ? ["--threads", "1"] : [])], { socketio: true, reference: !ours })),
);
const cpu = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, ms at 100 Hz
};

const clients = [];
for (let i = 0; i < N; ++i) {
  const s = io(servers[i % 2].url, { forceNew: true, transports: ["websocket"], reconnection: false });
  clients.push(s);
}
await Promise.all(clients.map((s) => new Promise((r) => (s.connected ? r() : s.once("connect", r)))));
for (let tries = 0; ; ++tries) {
  const sse = await clients[0].timeout(10000).emitWithAck("sse", "x");
  const back = await clients[1].timeout(10000).emitWithAck("sse", "x");
  if (sse.responses.length === 1 && back.responses.length === 1) break;
  if (tries > 50) throw new Error(`cluster not formed: ${JSON.stringify(sse)}`);
  await sleep(100);
}

const counts = new Array(N).fill(0);
const latencies = [];
let done;
const finished = new Promise((r) => (done = r));
let complete = 0;
clients.forEach((s, i) =>
  s.on("broadcast", (sentAt) => {
    latencies.push(Date.now() - sentAt);
    if (++counts[i] === M && ++complete === N) done();
  }),
);
const cpuBefore = servers.map((s) => cpu(s.pid));
const start = Date.now();
const sender = clients[1]; // on s2: half the deliveries cross Redis
for (let k = 0; k < M; ++k) {
  sender.emit("broadcast", Date.now());
  if (k % 50 === 49) await sleep(0);
}
const timedOut = await Promise.race([finished.then(() => false), sleep(60000).then(() => true)]);
const elapsed = Date.now() - start;
const cpuAfter = servers.map((s) => cpu(s.pid));
latencies.sort((a, b) => a - b);
const received = counts.reduce((a, b) => a + b, 0);
const p = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
console.log(
  JSON.stringify({
    servers: kind,
    adapter,
    clients: N,
    broadcasts: M,
    deliveries: received,
    lost: N * M - received,
    timedOut,
    ms: elapsed,
    deliveriesPerSecond: Math.round((received / elapsed) * 1000),
    latencyMs: { p50: p(0.5), p99: p(0.99), max: latencies[latencies.length - 1] },
    serverCpuMs: cpuAfter.map((c, i) => c - cpuBefore[i]),
  }),
);
for (const s of clients) s.close();
await Promise.all(servers.map((s) => s.stop()));
redis.kill("SIGTERM");
