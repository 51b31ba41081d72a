// What the Socket.IO cluster tests (socketio_redis, socketio_nginx) share:
// Debian's redis-server on a free port, and waiting on socket.io-client
// sockets.
//
//   const port = await freePort();          a free port of 127.0.0.1 (free
//                                           when asked; nobody holds it)
//   const redis = await startRedis(port);   redis-server on it (127.0.0.1
//                                           only, no persistence), once it
//                                           accepts connections
//   redis.url                               redis://127.0.0.1:PORT
//   redis.pid                               its process id
//   await redis.stop()                      SIGTERM, SIGKILL after 5 s
//   await once(socket, "connect", 5000)     the event's arguments, or rejects
//   await connected(socket)                 the socket once connected; a
//                                           connect_error rejects with it
//   await ask(socket, "echo", 1)            emitWithAck with a 15 s timeout
//   const got = recorder(sockets, "broadcast")  got[i]: the argument lists
//                                           sockets[i] received
//   await settled(got, counts)              until got[i] has counts[i], then
//                                           300 ms more (a duplicate shows)
//   await waitFor(check, what, timeout)     until check() resolves true
//
// Every redis-server still running when the test process exits is killed.
import { spawn } from "node:child_process";
import net from "node:net";

const REDIS_SERVER = process.env.EIO_REDIS_SERVER || "redis-server";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Resolves true once something accepts a TCP connection on 127.0.0.1:port.
export function accepting(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.end();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

const redisProcesses = new Set();
process.on("exit", () => {
  for (const p of redisProcesses) p.kill("SIGKILL");
});

// Starts redis-server on `port`; resolves once it accepts connections.
export async function startRedis(port, timeout = 10000) {
  const child = spawn(
    REDIS_SERVER,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  redisProcesses.add(child);
  let log = "";
  child.stdout.on("data", (c) => (log += c));
  child.stderr.on("data", (c) => (log += c));
  const exited = new Promise((done) => child.on("close", done));
  const deadline = Date.now() + timeout;
  while (!(await accepting(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`redis-server did not start on ${port}:\n${log}`);
    }
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      redisProcesses.delete(child);
    },
  };
}

export function once(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms`)), ms);
    socket.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

export async function connected(socket) {
  if (socket.connected) return socket;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "connect" within 5000 ms`)), 5000);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("connect_error", (e) => {
      clearTimeout(timer);
      reject(new Error(`connect_error: ${e.message}`));
    });
  });
  return socket;
}

export function ask(socket, event, ...args) {
  return socket.timeout(15000).emitWithAck(event, ...args);
}

// Collects every `event` each socket receives.
export function recorder(sockets, event) {
  const got = sockets.map(() => []);
  sockets.forEach((s, i) => s.on(event, (...args) => got[i].push(args)));
  return got;
}

// Waits until each recorder has at least its expected count (a slow machine
// takes longer), then a little more, so that a duplicate would show.
export async function settled(got, counts, timeout = 10000) {
  const deadline = Date.now() + timeout;
  while (got.some((g, i) => g.length < counts[i]) && Date.now() < deadline) await sleep(20);
  await sleep(300);
}

export async function waitFor(check, what, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await check();
    if (last === true) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
    await sleep(100);
  }
}
