// Two of our Socket.IO nodes behind a load balancer, as the README's "Run a
// cluster on Redis" deploys them: Debian's redis-server and two `eiotool
// serve --socketio --redis URL --threads 1` processes, each on a free port
// of 127.0.0.1, and Debian's nginx in front, run as an ordinary foreground
// process (its prefix, pid, logs and temp paths in a directory of its own,
// so no root and nothing of /etc/nginx is needed), with sticky sessions by
// `ip_hash`. Through nginx: socket.io-client 4 over polling only, websocket
// only and the upgrade (acks both ways), a broadcast reaching every client
// once, on both nodes (every client through nginx lands on one node, since
// ip_hash keys on the client's address, so clients connected to the other
// node directly show the broadcast crossing Redis), and `eiotool probe
// --socketio` passing. Then a second nginx without ip_hash (round robin:
// each request to the next node): the probe fails at same-sid and names
// sticky sessions, and a polling client cannot connect.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { accepting, ask, connected, freePort, once, recorder, settled, sleep, startRedis, waitFor } from "./cluster_helper.mjs";
import { serve } from "./serve_helper.mjs";

const require = createRequire(import.meta.url);
const { io } = require("socket.io-client");

const eiotool = process.env.EIO_EIOTOOL;
if (!eiotool) throw new Error("EIO_EIOTOOL must name the eiotool binary");
const NGINX = process.env.EIO_NGINX || "nginx";

const nginxGroups = new Set();
process.on("exit", () => {
  for (const pid of nginxGroups) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  }
});

// The proxy configuration of the README ("Run a cluster on Redis"), with
// every path nginx writes to inside `dir`.
function nginxConf(dir, port, upstreams, { sticky }) {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  log_format upstream '$request_method $uri $status $upstream_addr';
  access_log ${dir}/access.log upstream;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream socketio {
    ${sticky ? "ip_hash;" : "# no ip_hash: round robin, request by request"}
${upstreams.map((s) => `    server ${s.host}:${s.port};`).join("\n")}
  }
  server {
    listen 127.0.0.1:${port};
    location /socket.io/ {
      proxy_pass http://socketio;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
    }
  }
}
`;
}

// Starts nginx in the foreground on a free port in front of `upstreams`;
// resolves once it accepts connections, with { url, accessLog(), stop() }.
async function startNginx(upstreams, { sticky, timeout = 10000 }) {
  const dir = mkdtempSync(join(tmpdir(), "eio-nginx-"));
  // Run as root, nginx's worker is nobody: it must reach the temp paths.
  chmodSync(dir, 0o755);
  const port = await freePort();
  writeFileSync(join(dir, "nginx.conf"), nginxConf(dir, port, upstreams, { sticky }));
  // A process group of its own: the master and its worker are killed
  // together if the test process dies before stop().
  const child = spawn(NGINX, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log"), "-g", "daemon off;"], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  nginxGroups.add(child.pid);
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const exited = new Promise((done) => child.on("close", done));
  const errorLog = () => {
    try {
      return readFileSync(join(dir, "error.log"), "utf8");
    } catch {
      return "";
    }
  };
  const killGroup = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  };
  const deadline = Date.now() + timeout;
  while (!(await accepting(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      killGroup();
      throw new Error(`nginx did not start on ${port}:\n${output}${errorLog()}`);
    }
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    // The upstream address of each proxied request so far, in order.
    upstreamsUsed: () =>
      readFileSync(join(dir, "access.log"), "utf8").split("\n").filter(Boolean).map((line) => line.split(" ").pop()),
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM"); // fast shutdown: open long polls do not hold it
        const timer = setTimeout(killGroup, 5000);
        await exited;
        clearTimeout(timer);
      }
      nginxGroups.delete(child.pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function probe(args, timeout = 30000) {
  return new Promise((resolve) => {
    execFile(eiotool, ["probe", ...args, "--json"], { timeout }, (error, stdout, stderr) => {
      let report;
      try {
        report = JSON.parse(stdout);
      } catch {
        assert.fail(`probe printed no JSON (exit ${error ? error.code : 0}): ${stdout}${stderr}`);
      }
      resolve({ code: error ? error.code : 0, report });
    });
  });
}

const transportsOf = {
  polling: ["polling"],
  websocket: ["websocket"],
  upgrade: ["polling", "websocket"],
};

const opened = new Set();
function client(url, transports) {
  const socket = io(url, { forceNew: true, reconnection: false, timeout: 5000, transports });
  opened.add(socket);
  return socket;
}

describe("two nodes behind nginx", { timeout: 60000 }, () => {
  let redis;
  let nodes = []; // a, b
  let sticky; // nginx with ip_hash
  const through = {}; // transport name -> a client through nginx
  let direct = []; // clients on the node nginx did not pick

  before(async () => {
    redis = await startRedis(await freePort());
    nodes = await Promise.all(
      ["a", "b"].map((name) => serve(["--redis", redis.url, "--node-name", name, "--threads", "1"], { socketio: true })),
    );
    sticky = await startNginx(nodes, { sticky: true });
  });

  after(async () => {
    for (const s of opened) s.close();
    await Promise.all([sticky?.stop(), ...nodes.map((n) => n.stop())]);
    await redis?.stop();
  });

  for (const [name, transports] of Object.entries(transportsOf)) {
    test(`socket.io-client through nginx, ${name}: connects, acks both ways`, async () => {
      const socket = client(sticky.url, transports);
      const upgraded = name === "upgrade" ? once(socket.io, "open").then(() => once(socket.io.engine, "upgrade")) : null;
      await connected(socket);
      if (upgraded) await upgraded;
      assert.equal(socket.io.engine.transport.name, name === "polling" ? "polling" : "websocket");
      // emitWithAck resolves with the ack's first argument.
      const value = { transport: name, list: [1, "ü", true, null] };
      assert.deepEqual(await ask(socket, "echo", value), value);
      const bytes = Buffer.from([0, 0xff, 0x7b, 0x22]); // base64 over polling
      assert.deepEqual(Buffer.from(await ask(socket, "echo", bytes)), bytes);
      // The server asks, the client answers.
      socket.once("ask", (q, answer) => answer(`re-${q}`));
      const answered = once(socket, "ask-result");
      socket.emit("ask", 3000, "q");
      const [result] = await answered;
      assert.deepEqual(result, { ok: true, args: ["re-q"] });
      through[name] = socket;
    });
  }

  test("ip_hash: every client through nginx lands on one node", async () => {
    assert.equal(Object.keys(through).length, 3, "the transport tests connected");
    const names = new Set();
    for (const socket of Object.values(through)) names.add((await ask(socket, "sse", "where")).node);
    assert.equal(names.size, 1, [...names].join(" "));
    const [picked] = names;
    assert.ok(picked === "a" || picked === "b", picked);
    const other = nodes[picked === "a" ? 1 : 0];
    direct = await Promise.all([client(other.url, ["polling"]), client(other.url, ["websocket"])].map(connected));
    // The cluster is whole once each node hears the other through Redis (our
    // node subscribes to a namespace's channels when a client first uses it:
    // the other node's only from now on).
    for (const socket of [through.websocket, direct[0]]) {
      await waitFor(async () => {
        const r = await ask(socket, "sse", "ready");
        return r.error === null && r.responses.length === 1 && r.responses[0] !== r.node ? true : r;
      }, "serverSideEmit to reach the other node");
    }
  });

  test("a broadcast from either node reaches every client exactly once", async () => {
    const everyone = [...Object.values(through), ...direct];
    assert.equal(everyone.length, 5);
    const got = recorder(everyone, "broadcast");
    await ask(through.polling, "broadcast", "via-nginx", 1);
    await ask(direct[1], "broadcast", "direct", 2);
    await settled(got, got.map(() => 2));
    for (const g of got) assert.deepEqual(g.sort(), [["direct", 2], ["via-nginx", 1]]);
    for (const s of everyone) s.off("broadcast");
  });

  test("eiotool probe --socketio through nginx: same sid, the upgrade and the CONNECT pass", async () => {
    const { code, report } = await probe([sticky.url, "--socketio", "--emit", "echo", "--args", '["hi"]', "--timeout", "5000"]);
    assert.equal(code, 0, JSON.stringify(report, null, 1));
    assert.equal(report.ok, true);
    assert.equal(report.steps["same-sid"].result, "pass");
    assert.equal(report.steps.upgrade.result, "pass");
    assert.equal(report.steps.socketio.result, "pass");
    assert.deepEqual(report.steps.emit.answer, ["hi"]);
  });

  test("without ip_hash (round robin): the probe fails at same-sid and names sticky sessions", async () => {
    const roundRobin = await startNginx(nodes, { sticky: false });
    try {
      const { code, report } = await probe([roundRobin.url, "--socketio", "--timeout", "5000"]);
      assert.equal(code, 1, JSON.stringify(report, null, 1));
      assert.equal(report.failed, "same-sid");
      assert.equal(report.steps.handshake.result, "pass");
      assert.equal(report.steps["same-sid"].result, "fail");
      assert.equal(report.steps["same-sid"].problem, "sticky sessions");
      assert.match(report.verdict, /without sticky sessions/);
      // nginx did alternate: the handshake on one node, the second request
      // on the other.
      const used = roundRobin.upstreamsUsed();
      assert.ok(used.length >= 2, used.join(" "));
      assert.notEqual(used[0], used[1]);

      // What a user sees: a polling client's second request reaches the
      // node that does not know its session.
      const socket = client(roundRobin.url, ["polling"]);
      const [error] = await once(socket, "connect_error");
      assert.match(error.message, /xhr (poll|post) error/);
      socket.close();
    } finally {
      await roundRobin.stop();
    }
  });
});
