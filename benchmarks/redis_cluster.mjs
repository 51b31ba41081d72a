#!/usr/bin/env node
// Cross-node broadcast through Redis (issue 20): three Socket.IO servers on
// one fresh redis-server, 1,000 socket.io-client 4 sockets (WebSocket) spread
// evenly over them, and broadcasts at a fixed rate, each reaching every
// socket on every node. For each cluster it finds the highest lossless rate,
// then measures each server's CPU per message it published and per message it
// received from Redis.
//
//   EIO_EIOTOOL=build/release/tools/eiotool/eiotool node benchmarks/redis_cluster.mjs [flags]
//
//   --clusters LIST     mixed (two of ours + one Node: the issue's cluster),
//                       eio (three of ours), node (three Node); default all
//   --adapter LIST      classic, sharded or both (default classic)
//   --clients N         sockets, spread evenly over the nodes (default 1000;
//                       0: no fan-out, so the CPU split is the adapters'
//                       own cost per message; the rate search is moot)
//   --workers N         client processes holding them (default 2)
//   --client KIND       socket.io (socket.io-client 4, the default) or
//                       eiotool (`eiotool bench --socketio --mode fanout`
//                       with every node's URL, one process a step: the
//                       cheapest load generator, so the servers rather than
//                       the clients decide the rate on a small machine; see
//                       benchStep)
//   --rates LIST        the ramp, broadcasts/s (default 25,50,100,...,6400)
//   --step-seconds S    length of a step (default 5: a rate above what the
//                       cluster sustains must build a backlog past the
//                       bound within the step to fail it)
//   --bound-ms MS       a step fails when its delivery p99 is above (1000)
//   --drain-ms MS       after a step's last broadcast, how long a delivery
//                       may take before it counts as lost (default 3000)
//   --refine N          bisections between the last passing and the first
//                       failing rate (default 2)
//   --split-rate R      rate of the CPU split (default 100, at most the
//                       cluster's lossless rate)
//   --split-seconds S   length of each of its three phases (default 4)
//   --repeat N          run every cluster N times, interleaved (default 1)
//   --max-others PCT    a step during which processes not ours (another
//                       build) took more than PCT% of the machine is taken
//                       again, after waiting for the machine to be idle
//                       (default 10; at most three attempts)
//   --json              also print one JSON line per cluster run
//
// Ours run `eiotool serve --socketio --threads 1` (one loop: one node, as one
// Node process is one; its Redis client has a thread of its own), Node's the
// reference server (socket.io 4.8 + @socket.io/redis-adapter 8.3), both the
// demo application. Each delivery's latency is measured on CLOCK_MONOTONIC
// (process.hrtime), which the publisher and the client processes share.
//
// A step passes when every delivery arrived, no socket was disconnected and
// the delivery p99 is within the bound; the ramp stops at the first failing
// step, then bisects between it and the last passing one. Each step's line
// (stderr) also gives every process's CPU: the servers', redis-server's, the
// client processes' (as a share of one core: at 90% and more the load
// generator, not the cluster, is what is measured; the table says so), this
// process's, and how busy the whole machine was, including by processes not
// ours. On this 2-core VM everything shares the cores, so the lossless rate is
// the machine's; the server CPU per broadcast is the figure that carries to a
// machine where each node has a core of its own.
//
// Who publishes: three extra sockets in this process, one per node, emit the
// demo's "broadcast" event in turn (node 1, 2, 3, 1, ...). A client's event
// to a node is what an application broadcasts on, and it makes every node both
// publish (1/3 of the broadcasts: the client's event in, its local fan-out,
// the PUBLISH) and receive from Redis (the other 2/3: read, decode, local
// fan-out), so both halves of the adapter are under load on every node. An
// external emitter (`eiotool emit`, @socket.io/redis-emitter) would exercise
// only the receiving half, and a process per message could not keep a rate.
// (The three publishing sockets receive every broadcast too, uncounted.)
//
// The CPU split, after the search: each node in turn is the only publisher
// for --split-seconds at --split-rate; the publishing node's CPU divided by
// the broadcasts is its CPU per published message, the other two's their
// CPU per message received from Redis. Both include the node's fan-out to
// its third of the sockets (see the comment at the split below).
import { fork, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import { ask, connected, freePort, sleep, startRedis, waitFor } from "../tests/interop/cluster_helper.mjs";
import { serve } from "../tests/interop/serve_helper.mjs";

const require = createRequire(import.meta.url);
const { io } = require("socket.io-client");

// CLOCK_MONOTONIC in ms: one clock for every process of the machine.
const now = () => Number(process.hrtime.bigint()) / 1e6;
const BUCKETS = 100_001; // 0.1 ms each up to 10 s, then one for longer
const clientOptions = { forceNew: true, transports: ["websocket"], reconnection: false };

// CPU time of a process, every thread, in ms: the sum of its threads'
// /proc/PID/task/TID/schedstat (ns on CPU; /proc/PID/stat's utime and stime
// count 10 ms ticks, too coarse for a few hundred broadcasts).
function cpuMs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e6;
}

// The whole machine's CPU time, busy and in all, in ms (/proc/stat's first
// line, 10 ms ticks summed over every core): what everything else running
// on it took shows as the difference from our processes.
function machineMs() {
  const t = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = t.reduce((a, b) => a + b, 0);
  return { busy: (total - t[3] - t[4]) * 10, total: total * 10 };
}

// ---- the client processes --------------------------------------------------
// Each holds its share of the sockets and counts the deliveries of the
// current step into a latency histogram; the parent asks by IPC.
async function clientWorker() {
  const sockets = [];
  const hist = new Uint32Array(BUCKETS);
  let step = -1;
  let received = 0;
  let stray = 0; // deliveries of an earlier step
  let disconnects = 0;
  let reason = null;
  const answer = {
    async connect(urls) {
      for (let i = 0; i < urls.length; i += 50) {
        await Promise.all(urls.slice(i, i + 50).map((url) => {
          const s = io(url, clientOptions);
          s.on("broadcast", (id, sentAt) => {
            if (id !== step) return void ++stray;
            ++received;
            hist[Math.min(BUCKETS - 1, Math.floor((now() - sentAt) * 10))]++;
          });
          s.on("disconnect", (why) => {
            ++disconnects;
            reason ??= why;
          });
          sockets.push(s);
          return connected(s);
        }));
      }
      return sockets.length;
    },
    step(id) {
      [step, received, stray] = [id, 0, 0];
      hist.fill(0);
      return id;
    },
    count: () => ({ received, stray, disconnects, reason }),
    report: () => ({ received, stray, disconnects, reason, hist: [...hist.entries()].filter(([, n]) => n) }),
    close() {
      for (const s of sockets) s.close();
      setTimeout(() => process.exit(0), 200);
      return true;
    },
  };
  process.on("disconnect", () => process.exit(0)); // the parent is gone
  process.on("message", async ({ id, verb, arg }) => {
    try {
      process.send({ id, value: await answer[verb](arg) });
    } catch (e) {
      process.send({ id, error: e.message });
    }
  });
}

// ---- the parent ------------------------------------------------------------
const FLAGS = {
  clusters: { type: "string", default: "mixed,eio,node" },
  adapter: { type: "string", default: "classic" },
  clients: { type: "string", default: "1000" },
  workers: { type: "string", default: "2" },
  client: { type: "string", default: "socket.io" },
  rates: { type: "string", default: "25,50,100,200,400,800,1600,3200,6400" },
  "step-seconds": { type: "string", default: "5" },
  "bound-ms": { type: "string", default: "1000" },
  "drain-ms": { type: "string", default: "3000" },
  refine: { type: "string", default: "2" },
  "split-rate": { type: "string", default: "100" },
  "split-seconds": { type: "string", default: "4" },
  repeat: { type: "string", default: "1" },
  "max-others": { type: "string", default: "10" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
};

function options() {
  let values;
  try {
    ({ values } = parseArgs({ strict: true, options: FLAGS }));
  } catch (e) {
    process.stderr.write(`redis_cluster: ${e.message} (see --help)\n`);
    process.exit(2);
  }
  if (values.help) {
    // The header comment is the manual.
    const text = readFileSync(fileURLToPath(import.meta.url), "utf8");
    process.stdout.write(text.slice(text.indexOf("// Cross"), text.indexOf("import ")).replace(/^\/\/ ?/gm, ""));
    process.exit(0);
  }
  const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
  if (!["socket.io", "eiotool"].includes(values.client)) {
    process.stderr.write(`redis_cluster: --client is socket.io or eiotool, not "${values.client}"\n`);
    process.exit(2);
  }
  return {
    clusters: list(values.clusters),
    adapters: list(values.adapter),
    clients: Number(values.clients),
    workers: Number(values.workers),
    client: values.client,
    rates: list(values.rates).map(Number),
    stepSeconds: Number(values["step-seconds"]),
    boundMs: Number(values["bound-ms"]),
    drainMs: Number(values["drain-ms"]),
    refine: Number(values.refine),
    splitRate: Number(values["split-rate"]),
    splitSeconds: Number(values["split-seconds"]),
    repeat: Number(values.repeat),
    maxOthers: Number(values["max-others"]),
    json: values.json,
  };
}

const NODES = { mixed: ["eio", "eio", "node"], eio: ["eio", "eio", "eio"], node: ["node", "node", "node"] };

// A client process and a promise-returning call into it.
function startWorker() {
  const child = fork(fileURLToPath(import.meta.url), ["--client-worker"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const pending = new Map();
  let next = 0;
  child.on("message", ({ id, value, error }) => {
    const { resolve, reject } = pending.get(id);
    pending.delete(id);
    if (error) reject(new Error(error));
    else resolve(value);
  });
  child.on("exit", (code) => {
    for (const { reject } of pending.values()) reject(new Error(`a client process exited with ${code}`));
  });
  return {
    pid: child.pid,
    child,
    call: (verb, arg) =>
      new Promise((resolve, reject) => {
        pending.set(++next, { resolve, reject });
        child.send({ id: next, verb, arg });
      }),
  };
}

function percentile(hist, total, q) {
  let seen = 0;
  for (let i = 0; i < BUCKETS; ++i) {
    seen += hist[i];
    if (seen >= q * total) return i === BUCKETS - 1 ? Infinity : (i + 1) / 10; // the bucket's upper edge
  }
  return null;
}

// One cluster: redis-server, three servers, the sockets; the ramp, the
// refinement and the CPU split; everything stopped at the end.
async function runCluster(cluster, adapter, o) {
  const kinds = NODES[cluster];
  if (!kinds) throw new Error(`unknown cluster "${cluster}" (mixed, eio or node)`);
  const redis = await startRedis(await freePort());
  const servers = [];
  const workers = [];
  const publishers = [];
  try {
    servers.push(...(await Promise.all(kinds.map((kind, i) =>
      serve(["--redis", redis.url, "--redis-adapter", adapter, "--node-name", `${kind}${i + 1}`, ...(kind === "eio" ? ["--threads", "1"] : [])],
        { socketio: true, reference: kind === "node", quiet: false })))));
    for (const s of servers) publishers.push(await connected(io(s.url, clientOptions)));
    await waitFor(async () => {
      for (const p of publishers) {
        const r = await ask(p, "sse", "x");
        if (r.responses.length !== kinds.length - 1) return r;
      }
      return true;
    }, "the cluster to form", 20000);

    const bench = o.client === "eiotool";
    if (!bench) {
      for (let w = 0; w < o.workers; ++w) workers.push(startWorker());
      const urls = workers.map(() => []);
      for (let i = 0; i < o.clients; ++i) urls[i % o.workers].push(servers[i % servers.length].url);
      await Promise.all(workers.map((w, i) => w.call("connect", urls[i])));
    }

    let stepId = 0;
    const all = (verb, arg) => Promise.all(workers.map((w) => w.call(verb, arg)));
    const processes = () => [...servers.map((s) => s.pid), redis.pid, ...workers.map((w) => w.pid), process.pid];

    // --client eiotool: one `eiotool bench --socketio --mode fanout` run per
    // step, its receivers spread over the nodes, its senders on the nodes of
    // `from` taking turns (its own room "bench" and event "to-room"), every
    // delivery checked. CPU is read between its "all sessions open" and
    // "measured" lines: the connects and closes are not in the figures.
    const benchStep = (rate, seconds, from) =>
      new Promise((resolve, reject) => {
        const order = [...from, ...servers.keys()].filter((k, i, a) => a.indexOf(k) === i);
        const args = ["bench", ...order.map((k) => servers[k].url + "/"), "--socketio", "--mode", "fanout", "-c", String(o.clients),
          "--senders", String(from.length), "--rate", String(rate), "-d", String(seconds), "--json", "--threads", "1"];
        // EIO_BENCH_EIOTOOL: another build's eiotool as the load generator
        // (to compare two server builds under the same one).
        const tool = process.env.EIO_BENCH_EIOTOOL || process.env.EIO_EIOTOOL;
        const child = spawn(tool, args, { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        let cpu0;
        let cpu1;
        let machine0;
        let machine1;
        let t0;
        let wallMs;
        const pids = () => [...processes(), child.pid];
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => {
          err += d;
          if (!cpu0 && /all sessions open/.test(err)) [cpu0, machine0, t0] = [pids().map(cpuMs), machineMs(), now()];
          if (cpu0 && !cpu1 && /bench: measured/.test(err)) {
            [cpu1, machine1, wallMs] = [pids().map(cpuMs), machineMs(), now() - t0];
          }
        });
        child.on("error", reject);
        child.on("exit", () => {
          let r;
          try {
            r = JSON.parse(out);
          } catch {
            return reject(new Error(`eiotool bench printed no result: ${err.split("\n").slice(-3).join(" | ")}`));
          }
          if (!cpu1) return reject(new Error("eiotool bench never reached the measured span"));
          const cpu = cpu1.map((c, i) => c - cpu0[i]);
          resolve({ r, cpu, wallMs, machineBusy: machine1.busy - machine0.busy, machineTotal: machine1.total - machine0.total });
        });
      });

    // One step: `rate` broadcasts/s for `seconds`, published in turn by the
    // nodes in `from`, then up to drainMs for the last deliveries.
    const step = async (rate, seconds, from = [0, 1, 2]) => {
      if (bench) {
        const { r, cpu, wallMs, machineBusy, machineTotal } = await benchStep(rate, seconds, from);
        const n = kinds.length;
        const ours = cpu.reduce((a, b) => a + b, 0); // servers, redis, this process, the bench
        return {
          rate,
          achievedRate: Math.round(r.broadcasts / r.duration),
          broadcasts: r.broadcasts,
          published: kinds.map((_, k) => (from.includes(k) ? Math.round(r.broadcasts / from.length) : 0)),
          lost: r.lost + r.errors, // an out-of-order or malformed delivery fails the step like a lost one
          stray: 0,
          disconnects: r.sessions_opened - r.sessions_alive + r.sessions_failed,
          reason: r.first_error || null,
          p50: Math.round(r.latency_us.p50 / 100) / 10,
          p99: Math.round(r.latency_us.p99 / 100) / 10,
          serverCpuMs: cpu.slice(0, n).map(Math.round),
          redisCpuMs: Math.round(cpu[n]),
          generatorBusy: [Math.round((cpu[cpu.length - 1] / wallMs) * 100)],
          publisherBusy: Math.round((cpu[n + 1] / wallMs) * 100),
          machineBusy: Math.round((machineBusy / machineTotal) * 100),
          generatorShare: Math.round((cpu[cpu.length - 1] / machineTotal) * 100),
          othersBusy: Math.max(0, Math.round(((machineBusy - ours) / machineTotal) * 100)),
        };
      }
      const id = ++stepId;
      await all("step", id);
      const cpu0 = processes().map(cpuMs);
      const machine0 = machineMs();
      const t0 = now();
      const total = Math.round(rate * seconds);
      const published = [0, 0, 0];
      for (let sent = 0; sent < total; await sleep(1)) {
        const due = Math.min(total, Math.floor(((now() - t0) * rate) / 1000) + 1);
        for (; sent < due; ++sent) {
          const node = from[sent % from.length];
          publishers[node].emit("broadcast", id, now());
          ++published[node];
        }
      }
      const sendMs = now() - t0;
      const expected = total * o.clients;
      const deadline = now() + o.drainMs;
      for (;;) {
        const got = (await all("count")).reduce((a, c) => a + c.received, 0);
        if (got >= expected || now() > deadline) break;
        await sleep(20);
      }
      const wallMs = now() - t0;
      const cpu = processes().map(cpuMs).map((c, i) => c - cpu0[i]);
      const machine1 = machineMs();
      const machineBusy = machine1.busy - machine0.busy;
      const machineTotal = machine1.total - machine0.total;
      const reports = await all("report");
      const hist = new Uint32Array(BUCKETS);
      for (const r of reports) for (const [i, n] of r.hist) hist[i] += n;
      const received = reports.reduce((a, r) => a + r.received, 0);
      const n = kinds.length;
      return {
        rate,
        achievedRate: Math.round((total / sendMs) * 1000),
        broadcasts: total,
        published,
        lost: expected - received,
        stray: reports.reduce((a, r) => a + r.stray, 0),
        disconnects: reports.reduce((a, r) => a + r.disconnects, 0),
        reason: reports.find((r) => r.reason)?.reason ?? null,
        p50: percentile(hist, received, 0.5),
        p99: percentile(hist, received, 0.99),
        serverCpuMs: cpu.slice(0, n).map(Math.round),
        redisCpuMs: Math.round(cpu[n]),
        // Busy share of one core over the step, per client process, and of
        // this process (the publisher).
        generatorBusy: cpu.slice(n + 1, n + 1 + workers.length).map((c) => Math.round((c / wallMs) * 100)),
        publisherBusy: Math.round((cpu[cpu.length - 1] / wallMs) * 100),
        // Share of all cores busy, and the share taken by processes not ours
        // (another build, say).
        machineBusy: Math.round((machineBusy / machineTotal) * 100),
        generatorShare: Math.round((cpu.slice(n + 1).reduce((a, b) => a + b, 0) / machineTotal) * 100),
        othersBusy: Math.max(0, Math.round(((machineBusy - cpu.reduce((a, b) => a + b, 0)) / machineTotal) * 100)),
      };
    };
    const passes = (s) => s.lost === 0 && s.disconnects === 0 && s.p99 <= o.boundMs;
    const show = (what, s) =>
      process.stderr.write(
        `  ${cluster}/${adapter} ${what} ${s.rate}/s (sent at ${s.achievedRate}/s): lost ${s.lost}, p50 ${s.p50} ms, p99 ${s.p99} ms, ` +
          `servers ${s.serverCpuMs.join("/")} ms CPU, redis ${s.redisCpuMs} ms, clients ${s.generatorBusy.join("/")}% ` +
          `publisher ${s.publisherBusy}%, machine ${s.machineBusy}% (others ${s.othersBusy}%)${s.disconnects ? `, ${s.disconnects} disconnected (${s.reason})` : ""}${passes(s) ? "" : "  FAIL"}\n`,
      );
    // After a failing step the servers may still be writing its backlog:
    // wait until the deliveries stop before the next one.
    const settle = async () => {
      if (bench) return sleep(2000); // its sessions are closed: the servers drop what was queued for them
      let last = -1;
      for (let i = 0; i < 300; ++i) {
        const c = (await all("count")).reduce((a, r) => a + r.received + r.stray, 0);
        if (c === last) return;
        last = c;
        await sleep(1000);
      }
    };
    // On a machine shared with others' builds, a step during which processes
    // not ours took more than --max-others of it measures them too: wait
    // (up to a minute) until the machine is idle, and take such a step again
    // (up to three times in all).
    const idle = async () => {
      for (let i = 0; i < 60; ++i) {
        const m0 = machineMs();
        await sleep(1000);
        const m1 = machineMs();
        if (((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 <= o.maxOthers) return;
        if (i === 0) process.stderr.write("  (waiting for the machine to be idle)\n");
      }
    };
    const measure = async (rate, seconds, from) => {
      for (let attempt = 1; ; ++attempt) {
        await idle();
        const s = await step(rate, seconds, from);
        if (s.othersBusy <= o.maxOthers || attempt === 3) return s;
        process.stderr.write(`  (${s.rate}/s: other processes took ${s.othersBusy}% of the machine; again)\n`);
        await settle();
      }
    };

    // Every node's broadcasts reach every socket before measuring.
    await waitFor(async () => (await step(3, 1)).lost === 0, "a warm-up broadcast from every node to reach every socket", 30000);

    let best = null;
    let fail = null;
    for (const rate of o.rates) {
      const s = await measure(rate, o.stepSeconds);
      show("ramp", s);
      if (!passes(s)) {
        fail = s;
        break;
      }
      best = s;
    }
    for (let i = 0; i < o.refine && best && fail && fail.disconnects === 0; ++i) {
      await settle();
      const rate = Math.round((best.rate + fail.rate) / 2);
      if (rate === best.rate || rate === fail.rate) break;
      const s = await measure(rate, o.stepSeconds);
      show("refine", s);
      if (passes(s)) best = s;
      else fail = s;
    }

    // The CPU split: each node in turn is the only publisher, so that one
    // node's CPU is all for messages it published and the other two's all for
    // messages they received from Redis. Both include the local fan-out to
    // the node's third of the sockets (most of the cost: a WebSocket write
    // per socket), so they are a server's CPU per broadcast in each role, an
    // upper bound of the adapter's own share; the publisher's figure also
    // holds the client's event in and its own message back from Redis (both
    // adapters receive what they publish and drop it by uid).
    let split = null;
    if (!fail || fail.disconnects === 0) {
      await settle();
      const rate = Math.min(o.splitRate, best?.rate ?? o.rates[0]);
      split = { rate, usPerPublished: [], usPerReceived: kinds.map(() => []), loss: 0 };
      for (let k = 0; k < kinds.length; ++k) {
        const s = await measure(rate, o.splitSeconds, [k]);
        show(`split (node ${k + 1} publishes)`, s);
        split.loss += s.lost;
        split.usPerPublished[k] = Math.round((s.serverCpuMs[k] * 1000) / s.broadcasts);
        s.serverCpuMs.forEach((c, j) => j !== k && split.usPerReceived[j].push((c * 1000) / s.broadcasts));
      }
      split.usPerReceived = split.usPerReceived.map((v) => Math.round(v.reduce((a, b) => a + b, 0) / v.length));
    }

    // What the servers logged besides the sockets' connects: disconnects by
    // reason (none expected before the end), Redis trouble, errors.
    const logs = servers.map((s) => {
      // (With --client eiotool every step ends by closing its sockets'
      // connections: those disconnects, "transport close" in ours and
      // "transport error" in Node's, are expected too.)
      const other = s.lines().filter((l) => !/^connect /.test(l) && !(bench && /^disconnect \S+ \S+: transport (close|error)$/.test(l)));
      return { lines: other.length, first: [...new Set(other.map((l) => l.replace(/[\w-]{20}/g, "<id>")))].slice(0, 5) };
    });
    return { cluster, adapter, nodes: kinds, clients: o.clients, workers: o.workers, best, fail, split, logs };
  } finally {
    for (const p of publishers) p.close();
    await Promise.allSettled(workers.map((w) => w.child.connected && w.call("close")));
    for (const w of workers) w.child.kill("SIGKILL");
    await Promise.allSettled(servers.map((s) => s.stop()));
    await redis.stop();
  }
}

function row(r, o) {
  const fmt = (s) => (s && o.clients ? `${s.p50} / ${s.p99}` : "-");
  const busy = [r.best, r.fail].filter(Boolean).flatMap((s) => s.generatorBusy);
  const saturated = busy.some((b) => b >= 90) ? ` (clients at ${Math.max(...busy)}% of a core)` : "";
  const f = r.fail;
  const others = Math.max(...[r.best, f].filter(Boolean).map((s) => s.othersBusy));
  const disturbed = others > o.maxOthers ? ` (disturbed: others took ${others}%)` : "";
  const failed = f
    ? `${f.rate}/s: ${f.lost ? `${f.lost} lost, ` : ""}p99 ${f.p99} ms${f.disconnects ? `, ${f.disconnects} disconnected` : ""}; ` +
      `machine ${f.machineBusy}% busy (clients ${f.generatorShare}%, others ${f.othersBusy}%)`
    : "none (top of the ramp)";
  const split = r.split
    ? r.nodes.map((k, i) => `${k}${i + 1} ${r.split.usPerPublished[i]} / ${r.split.usPerReceived[i]}`).join(", ") + ` (at ${r.split.rate}/s)`
    : "-";
  const rate = o.clients === 0 ? "-" : !r.best ? `< ${o.rates[0]}` : r.fail ? r.best.rate : `>= ${r.best.rate}`;
  return `| ${r.cluster} | ${r.adapter} | ${rate}${disturbed} | ${fmt(r.best)} | ${failed}${saturated} | ${split} |`;
}

async function main() {
  const o = options();
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130)); // the helpers kill their children at exit
  const results = [];
  for (let i = 0; i < o.repeat; ++i) {
    for (const adapter of o.adapters) {
      for (const cluster of o.clusters) {
        // No cluster run should take more than a few minutes; a hung one
        // ends the whole run (and its processes).
        const watchdog = setTimeout(() => {
          process.stderr.write(`${cluster}/${adapter}: no result after 20 minutes, giving up\n`);
          process.exit(1);
        }, 1_200_000);
        process.stderr.write(`${cluster}/${adapter}, run ${i + 1}: ${o.clients} sockets, load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}\n`);
        const r = await runCluster(cluster, adapter, o);
        clearTimeout(watchdog);
        results.push(r);
        if (o.json) console.log(JSON.stringify(r));
        for (const [j, l] of r.logs.entries()) if (l.lines) process.stderr.write(`  node ${j + 1} logged ${l.lines} other lines: ${l.first.join(" | ")}\n`);
      }
    }
  }
  const generator = o.client === "eiotool" ? "one eiotool bench process a step" : `${o.workers} client processes`;
  console.log(`\n${o.clients} sockets (${o.client}), ${generator}, steps of ${o.stepSeconds} s, p99 bound ${o.boundMs} ms, load average now ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
  console.log("| cluster | adapter | highest lossless rate /s | p50 / p99 ms there | first failing step | server CPU us per published / received broadcast |");
  console.log("|---|---|---:|---|---|---|");
  for (const r of results) console.log(row(r, o));
}

if (process.argv[2] === "--client-worker") await clientWorker();
else await main();
