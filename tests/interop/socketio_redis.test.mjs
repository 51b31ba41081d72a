// A Socket.IO cluster on Redis mixing our servers and Node's: Debian's
// redis-server on a free port (127.0.0.1 only, no persistence), two
// `eiotool serve --socketio --redis URL --redis-adapter KIND` processes (one
// with two loops, so three of our nodes) and one Node socket.io 4.8 server
// with the official adapter (@socket.io/redis-adapter createAdapter or
// createShardedAdapter, socketio_reference_server.mjs), all running the
// demo application; socket.io-client 4 clients on each. For each adapter
// kind: broadcasts reach every client once, rooms across nodes,
// fetchSockets / socketsJoin / disconnectSockets / serverSideEmit with acks
// from either side, broadcast with acks counting every client, binary
// byte-identical, a node killed mid-run, Redis restarted mid-run. For the
// Streams adapter (@socket.io/redis-streams-adapter): connection state
// recovery across nodes, every pair of kinds, and across a node restart.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createRequire } from "node:module";
import { after, describe, test } from "node:test";

import { ask, connected, freePort, once, recorder, settled, sleep, startRedis, waitFor } from "./cluster_helper.mjs";
import { serve } from "./serve_helper.mjs";

const require = createRequire(import.meta.url);
const { io } = require("socket.io-client");

const execFileP = promisify(execFile);

const opened = new Set();
after(() => {
  for (const s of opened) s.close();
});

function client(url, nsp = "/") {
  const socket = io(url + nsp, { forceNew: true, reconnection: false, timeout: 5000, transports: ["websocket"] });
  opened.add(socket);
  return socket;
}

for (const kind of ["classic", "sharded", "streams"]) {
  describe(`redis adapter ${kind}`, { timeout: 120000 }, () => {
    let redis;
    let redisPort;
    let servers = []; // a (eio, 2 loops), b (eio), n (node)
    let clients = []; // one per server, plus a second on a (its other loop, maybe)

    const start = async () => {
      redisPort = await freePort();
      redis = await startRedis(redisPort);
      // Streams: connection state recovery on a and n (our a's own
      // broadcasts then reach its sockets through the stream), not on b
      // (they go out at once, as with the other adapters).
      const recovery = kind === "streams" ? ["--state-recovery", "60000"] : [];
      const common = ["--redis", redis.url, "--redis-adapter", kind];
      servers = await Promise.all([
        serve([...common, ...recovery, "--node-name", "a", "--threads", "2"], { socketio: true }),
        serve([...common, "--node-name", "b", "--threads", "1"], { socketio: true }),
        serve([...common, ...recovery, "--node-name", "n"], { socketio: true, reference: true }),
      ]);
      clients = await Promise.all(
        [servers[0], servers[0], servers[1], servers[2]].map((s) => connected(client(s.url))),
      );
      // Every node subscribed and counted: a's two loops, b, n.
      for (const c of clients) {
        await waitFor(async () => {
          const r = await ask(c, "sse", "ready");
          return r.error === null && r.responses.length === 3 ? true : r;
        }, "serverSideEmit to reach the 3 other nodes");
      }
    };

    test("cluster starts: every node answers serverSideEmit with its name", async () => {
      await start();
      const names = [];
      for (const c of clients) {
        const r = await ask(c, "sse", "x");
        assert.equal(r.error, null);
        names.push([r.node, [...r.responses].sort()]);
      }
      // Our a has two loops (two nodes named a); each node hears from the others.
      assert.deepEqual(names[3], ["n", ["a", "a", "b"]]);
      assert.deepEqual(names[2], ["b", ["a", "a", "n"]]);
      assert.deepEqual(names[0][1], ["a", "b", "n"]);
    });

    test("a broadcast from any node reaches every client exactly once", async () => {
      const got = recorder(clients, "broadcast");
      for (let i = 0; i < clients.length; ++i) await ask(clients[i], "broadcast", `from-${i}`, { i });
      await settled(got, got.map(() => clients.length));
      for (const g of got) {
        assert.deepEqual(
          g.map((args) => args[0]).sort(),
          clients.map((_, i) => `from-${i}`).sort(),
        );
      }
      for (const c of clients) c.off("broadcast");
    });

    test("binary arguments survive the trip byte-identical", async () => {
      const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x7b, 0x22]);
      const got = recorder(clients, "broadcast");
      await ask(clients[3], "broadcast", "bin", bytes, { nested: [bytes] });
      await ask(clients[2], "broadcast", "bin2", bytes);
      await settled(got, got.map(() => 2));
      for (const g of got) {
        assert.equal(g.length, 2);
        for (const args of g) {
          assert.ok(Buffer.isBuffer(args[1]), "a Buffer");
          assert.deepEqual(Buffer.from(args[1]), bytes);
        }
        const withNested = g.find((a) => a[0] === "bin");
        assert.deepEqual(Buffer.from(withNested[2].nested[0]), bytes);
      }
      for (const c of clients) c.off("broadcast");
    });

    test("rooms across nodes: to-room reaches the members on every node only", async () => {
      await ask(clients[0], "join", "r1");
      await ask(clients[3], "join", "r1");
      if (kind === "sharded") {
        // A sharded node subscribes a room's channel when a socket joins it,
        // and Node's adapter does so after the join is acknowledged: a
        // broadcast before both members' nodes listen would miss n (seen
        // once in CI). Wait for the two subscriptions.
        const { createClient } = require("redis");
        const inspect = createClient({ url: redis.url });
        await inspect.connect();
        try {
          await waitFor(async () => {
            const [, n] = await inspect.sendCommand(["PUBSUB", "SHARDNUMSUB", "socket.io#/#r1#"]);
            return Number(n) === 2 ? true : `${n} subscribers`;
          }, "the nodes of r1's members to subscribe its channel");
        } finally {
          await inspect.quit();
        }
      }
      const got = recorder(clients, "room-message");
      await ask(clients[2], "to-room", "r1", "hello");
      await ask(clients[3], "to-room", "r1", "again");
      // A socket id names that socket, wherever it is.
      await ask(clients[3], "to-room", clients[1].id, "private");
      await settled(got, [2, 1, 0, 2]);
      assert.deepEqual(got[0].map((a) => a[0]).sort(), ["again", "hello"]);
      assert.deepEqual(got[1].map((a) => a[0]), ["private"]);
      assert.deepEqual(got[2], []);
      assert.deepEqual(got[3].map((a) => a[0]).sort(), ["again", "hello"]);
      for (const c of clients) c.off("room-message");
    });

    // `eiotool bench --socketio --mode fanout` given every node's URL: its
    // receivers spread over a, b and n, a sender on each taking turns (to
    // room "bench"); every receiver must get every broadcast, each sender's
    // in order. A server outside the cluster among the URLs loses the other
    // nodes' broadcasts: the bench must say so (what makes the first run a
    // check, not a smoke test).
    test("eiotool bench fanout over every node: every broadcast reaches every receiver", async () => {
      const bench = (urls, extra = []) =>
        execFileP(process.env.EIO_EIOTOOL, ["bench", ...urls.map((u) => `${u}/`), "--socketio", "--mode", "fanout",
          "-c", "30", "--rate", "40", "-d", "1", "--json", "-q", ...extra], { timeout: 60000 })
          .then(({ stdout }) => ({ code: 0, r: JSON.parse(stdout) }), (e) => ({ code: e.code, r: JSON.parse(e.stdout) }));
      const { code, r } = await bench(servers.map((s) => s.url));
      assert.equal(r.first_error, "");
      assert.equal(code, 0);
      assert.equal(r.sessions_opened, 33, "30 receivers and 3 senders");
      assert.ok(r.broadcasts >= 30, `broadcasts: ${r.broadcasts}`);
      assert.equal(r.expected, r.broadcasts * 30);
      assert.equal(r.messages, r.expected);
      assert.equal(r.lost, 0);
      // One sender, on n (Node's): ours receive through Redis only.
      const one = await bench([servers[2].url, servers[0].url, servers[1].url], ["--senders", "1"]);
      assert.equal(one.code, 0, one.r.first_error);
      assert.equal(one.r.sessions_opened, 31);
      assert.equal(one.r.messages, one.r.broadcasts * 30);
      const alone = await serve(["--node-name", "alone"], { socketio: true });
      try {
        const split = await bench([servers[1].url, alone.url]);
        assert.equal(split.code, 1);
        assert.ok(split.r.lost > 0, "the lone server's receivers miss the cluster's broadcasts and the cluster's miss its own");
      } finally {
        await alone.stop();
      }
    });

    test("fetchSockets from either side sees the sockets of every node", async () => {
      const expected = [clients[0].id, clients[3].id].sort();
      for (const c of clients) assert.deepEqual(await ask(c, "fetch-sockets", "r1"), expected);
      const all = clients.map((c) => c.id).sort();
      for (const c of clients) assert.deepEqual(await ask(c, "fetch-sockets", clients[c === clients[0] ? 1 : 0].id), [clients[c === clients[0] ? 1 : 0].id]);
      // Each client's own room from the other side, and the whole namespace.
      const everyone = await ask(clients[3], "fetch-sockets", "r1");
      assert.deepEqual(everyone, expected);
      assert.equal(all.length, 4);
    });

    test("socketsJoin from the Node side and from ours", async () => {
      await ask(clients[3], "sockets-join", "r1", "r2"); // Node asks: our clients[0] joins r2
      await sleep(300);
      assert.deepEqual(await ask(clients[2], "fetch-sockets", "r2"), [clients[0].id, clients[3].id].sort());
      await ask(clients[2], "sockets-join", clients[3].id, "r3"); // ours asks: Node's socket joins r3
      await ask(clients[1], "sockets-join", clients[2].id, "r3");
      await sleep(300);
      assert.deepEqual(await ask(clients[3], "fetch-sockets", "r3"), [clients[2].id, clients[3].id].sort());
      const who = await ask(clients[3], "whoami");
      assert.deepEqual(who.rooms, ["r1", "r2", "r3"]);
    });

    test("broadcast with acks counts the clients of every node", async () => {
      for (const c of clients) c.on("ask", (...args) => args[args.length - 1](`ans-${c.id}`));
      for (const asker of [clients[3], clients[2]]) {
        const r = await ask(asker, "broadcast-ask", 3000, "q");
        assert.equal(r.error, null);
        assert.deepEqual([...r.responses].sort(), clients.map((c) => `ans-${c.id}`).sort());
      }
      for (const c of clients) c.off("ask");
    });

    test("disconnectSockets from the Node side reaches our sockets, and from ours theirs", async () => {
      const extraA = await connected(client(servers[1].url));
      const extraN = await connected(client(servers[2].url));
      await ask(extraA, "join", "doomed");
      await ask(extraN, "join", "doomed");
      const goneA = once(extraA, "disconnect");
      const goneN = once(extraN, "disconnect");
      await ask(clients[3], "disconnect-room", "doomed");
      assert.equal((await goneA)[0], "io server disconnect");
      assert.equal((await goneN)[0], "io server disconnect");
      const extraB = await connected(client(servers[2].url));
      await ask(extraB, "join", "doomed2");
      const goneB = once(extraB, "disconnect");
      await ask(clients[2], "disconnect-room", "doomed2");
      assert.equal((await goneB)[0], "io server disconnect");
    });

    // The classic adapter's alone (the emitter and its request types).
    if (kind === "classic") test("the emitter: eiotool emit and @socket.io/redis-emitter reach the sockets of every node", async () => {
      const got = recorder(clients, "news");
      const printed = await new Promise((resolve, reject) =>
        execFile(process.env.EIO_EIOTOOL, ["emit", "--redis", redis.url, "news", '"from-cpp"', "hex:00ff7b"], (err, stdout, stderr) =>
          err ? reject(new Error(`eiotool emit: ${err.message} ${stderr}`)) : resolve(stdout),
        ),
      );
      // Every node's subscription: a's two loops, b, n.
      assert.match(printed, /published to 4 subscriber/);
      await execFileP(process.env.EIO_EIOTOOL, ["emit", "--redis", redis.url, "--to", "r1", "news", '"cpp-r1"']);
      const { Emitter } = require("@socket.io/redis-emitter");
      const { createClient } = require("redis");
      const redisClient = createClient({ url: redis.url });
      await redisClient.connect();
      const emitter = new Emitter(redisClient);
      emitter.emit("news", "from-node", Buffer.from([0, 0xff, 0x7b]));
      emitter.to("r1").emit("news", "node-r1");
      await settled(got, [4, 2, 2, 4]);
      await redisClient.quit();
      for (let i = 0; i < clients.length; ++i) {
        const inR1 = i === 0 || i === 3;
        const names = got[i].map((a) => a[0]).sort();
        assert.deepEqual(names, inR1 ? ["cpp-r1", "from-cpp", "from-node", "node-r1"] : ["from-cpp", "from-node"]);
        for (const args of got[i].filter((a) => a[0].startsWith("from-"))) {
          assert.deepEqual(Buffer.from(args[1]), Buffer.from([0, 0xff, 0x7b]));
        }
      }
      for (const c of clients) c.off("news");
    });

    // The classic adapter's alone (the emitter and its request types).
    if (kind === "classic") test("every classic request type is answered by every node, ours and Node's", async () => {
      // A peer of our own making on the request channel, as a Node adapter
      // (or an older one: SOCKETS, ALL_ROOMS and the sid form of REMOTE_JOIN
      // are no longer sent by 8.x but still answered) would be.
      const { createClient } = require("redis");
      const notepack = require("notepack.io");
      const pub = createClient({ url: redis.url });
      const sub = pub.duplicate();
      await Promise.all([pub.connect(), sub.connect()]);
      const responses = [];
      await sub.subscribe("socket.io-response#/#", (msg) => {
        responses.push(msg[0] === 0x7b ? JSON.parse(msg.toString()) : notepack.decode(msg));
      }, true);
      for (const c of clients) c.on("ask", (...args) => args[args.length - 1](`ans-${c.id}`));
      const request = (r) => pub.publish("socket.io-request#/#", JSON.stringify({ uid: "probe", ...r }));
      await request({ requestId: "p0", type: 0, rooms: ["r1"] });
      await request({ requestId: "p1", type: 1 });
      await request({ requestId: "p5", type: 5, opts: { rooms: ["r1"], except: [clients[3].id] } });
      await request({ requestId: "p6", type: 6, data: ["ping-sse", "probe"] });
      await request({ requestId: "p2", type: 2, sid: clients[2].id, room: "legacy" });
      await pub.publish(
        "socket.io-request#/#",
        notepack.encode({ uid: "probe", requestId: "p7", type: 7, packet: { type: 2, data: ["ask", "q"], nsp: "/" }, opts: { rooms: [], except: [] } }),
      );
      // 4 answers each to p0, p1, p5, p6; 1 to p2; 4 counts and 4 acks to p7.
      const deadline = Date.now() + 10000;
      while (responses.length < 25 && Date.now() < deadline) await sleep(20);
      await sleep(300);
      await Promise.all([pub.quit(), sub.quit()]);
      for (const c of clients) c.off("ask");
      const of = (id) => responses.filter((r) => r.requestId === id);
      // Four nodes: a (two loops), b, n.
      assert.equal(of("p0").length, 4);
      assert.deepEqual(of("p0").flatMap((r) => r.sockets).sort(), [clients[0].id, clients[3].id].sort());
      assert.equal(of("p1").length, 4);
      for (const r of of("p1")) assert.ok(Array.isArray(r.rooms));
      // r1 has members on a (first loop) and n: their answers name it.
      assert.equal(of("p1").filter((r) => r.rooms.includes("r1")).length, 2);
      assert.equal(of("p5").length, 4);
      const fetched = of("p5").flatMap((r) => r.sockets);
      assert.deepEqual(fetched.map((s) => s.id), [clients[0].id]);
      assert.equal(fetched[0].handshake.query.EIO, "4");
      assert.deepEqual(of("p6").map((r) => r.data).sort(), ["a", "a", "b", "n"]);
      // Only the node holding the socket answers the sid form.
      assert.equal(of("p2").length, 1);
      assert.deepEqual((await ask(clients[2], "whoami")).rooms.includes("legacy"), true);
      const counts = of("p7").filter((r) => r.type === 8);
      assert.equal(counts.length, 4);
      assert.equal(counts.reduce((n, r) => n + r.clientCount, 0), clients.length);
      assert.deepEqual(of("p7").filter((r) => r.type === 9).map((r) => r.packet).sort(), clients.map((c) => `ans-${c.id}`).sort());
    });

    // The classic adapter's alone (the emitter and its request types).
    if (kind === "classic") test("except across nodes: an emitter broadcast leaves out a room on every node", async () => {
      const got = recorder(clients, "news");
      await execFileP(process.env.EIO_EIOTOOL, ["emit", "--redis", redis.url, "--except", "r1", "news", '"not-r1"']);
      await settled(got, [0, 1, 1, 0]);
      assert.deepEqual(got.map((g) => g.length), [0, 1, 1, 0]);
      for (const c of clients) c.off("news");
    });

    test("a namespace that only some nodes have: requests count those nodes only", async () => {
      // /custom on our b and on Node's n only: neither waits for the others.
      const onB = await connected(client(servers[1].url, "/custom"));
      const onN = await connected(client(servers[2].url, "/custom"));
      await ask(onB, "join", "c1");
      await ask(onN, "join", "c1");
      await waitFor(async () => {
        const started = Date.now();
        const [fromB, fromN] = await Promise.all([ask(onB, "fetch-sockets", "c1"), ask(onN, "fetch-sockets", "c1")]);
        const expected = [onB.id, onN.id].sort();
        const ok = Date.now() - started < 2000 && JSON.stringify(fromB) === JSON.stringify(expected) &&
          JSON.stringify(fromN) === JSON.stringify(expected);
        return ok ? true : { fromB, fromN, ms: Date.now() - started };
      }, "fetchSockets on /custom without waiting for nodes that do not have it", 15000);
      onB.close();
      onN.close();
    });

    test("Redis restarted mid-run: local traffic goes on, cross-node traffic resumes", async () => {
      await redis.stop();
      // Local delivery with Redis gone: b's client and a's (with the streams
      // adapter, a has recovery: its broadcasts that Redis did not take still
      // reach its sockets) get their node's broadcast.
      const got = recorder([clients[2], clients[0]], "broadcast");
      await ask(clients[2], "broadcast", "while-down");
      await ask(clients[0], "broadcast", "while-down-on-a");
      await sleep(300);
      assert.deepEqual(got[0].map((a) => a[0]), ["while-down"]);
      assert.deepEqual(got[1].map((a) => a[0]), ["while-down-on-a"]);
      clients[2].off("broadcast");
      clients[0].off("broadcast");
      await servers[1].waitForLine(/redis: .*unreachable/, 10000);
      redis = await startRedis(redisPort);
      await servers[1].waitForLine(/redis: .*reachable again/, 15000);
      // Node's redis client reconnects by itself; wait for every node again.
      for (const c of [clients[2], clients[3]]) {
        await waitFor(async () => {
          const r = await ask(c, "sse", "again");
          return r.error === null && r.responses.length === 3 ? true : r;
        }, "every node back", 20000);
      }
      const after = recorder(clients, "broadcast");
      await ask(clients[2], "broadcast", "after-restart");
      await settled(after, after.map(() => 1));
      for (const g of after) assert.deepEqual(g.map((a) => a[0]), ["after-restart"]);
      for (const c of clients) c.off("broadcast");
    });

    test("a node killed mid-run: requests end with partial results, the rest go on", async () => {
      // Rooms were lost with Redis? No: rooms are local state; r1 is intact.
      const killed = servers[1];
      clients[2].close();
      killed.signal("SIGKILL");
      await sleep(100);
      // Right after the kill the count may still include b: a request then
      // ends at its timeout with what came, and never hangs.
      const r = await ask(clients[3], "sse", "after-kill");
      assert.ok(r.error === null || /timeout reached/.test(r.error), String(r.error));
      assert.ok(!r.responses.includes("b"));
      // Once Redis no longer counts b, everything is complete again.
      await waitFor(async () => {
        const s = await ask(clients[0], "sse", "after-kill");
        return s.error === null && s.responses.length === 2 ? true : s;
      }, "the cluster without b", 15000);
      const got = recorder([clients[0], clients[1], clients[3]], "broadcast");
      await ask(clients[3], "broadcast", "survivors");
      await settled(got, got.map(() => 1));
      for (const g of got) assert.deepEqual(g.map((a) => a[0]), ["survivors"]);
      assert.deepEqual(await ask(clients[0], "fetch-sockets", "r1"), [clients[0].id, clients[3].id].sort());
    });

    after(async () => {
      for (const c of clients) c.close();
      await Promise.all(servers.map((s) => s.stop()));
      if (redis) await redis.stop();
    });
  });
}

// The sharded adapter's other subscription modes, ours and Node's on one
// Redis: which channels each node subscribes (PUBSUB SHARDCHANNELS), and
// that private messages, room messages and broadcasts cross both ways.
for (const mode of ["dynamic-private", "static"]) {
  describe(`redis adapter sharded, subscriptionMode ${mode}`, { timeout: 60000 }, () => {
    let redis;
    let servers = [];

    test("rooms, socket ids and broadcasts cross between our node and Node's", async () => {
      redis = await startRedis(await freePort());
      const common = ["--redis", redis.url, "--redis-adapter", "sharded", "--redis-subscription-mode", mode];
      servers = await Promise.all([
        serve([...common, "--node-name", "a", "--threads", "1"], { socketio: true }),
        serve([...common, "--node-name", "n"], { socketio: true, reference: true }),
      ]);
      const [ours, theirs, ours2] = await Promise.all(
        [servers[0], servers[1], servers[0]].map((s) => connected(client(s.url))),
      );
      await waitFor(async () => {
        const r = await ask(ours, "sse", "ready");
        return r.error === null && r.responses.length === 1 ? true : r;
      }, "serverSideEmit to reach n");
      await ask(ours, "join", "room-r");
      await ask(theirs, "join", "room-r");

      const { createClient } = require("redis");
      const inspect = createClient({ url: redis.url });
      await inspect.connect();
      const channels = await inspect.sendCommand(["PUBSUB", "SHARDCHANNELS", "socket.io#/#*"]);
      // room-r has members on both nodes: both subscribe its channel, or neither.
      const [, roomSubscribers] = await inspect.sendCommand(["PUBSUB", "SHARDNUMSUB", "socket.io#/#room-r#"]);
      assert.equal(Number(roomSubscribers), mode === "static" ? 0 : 2);
      await inspect.quit();
      const rooms = channels.filter((c) => c.split("#").length === 4).map((c) => c.split("#")[2]);
      if (mode === "static") {
        assert.deepEqual(rooms.filter((r) => r.length !== 16), [], "no room channels in static mode");
      } else {
        // Every room, the sockets' own too.
        for (const room of ["room-r", ours.id, theirs.id, ours2.id]) assert.ok(rooms.includes(room), `${room} in ${channels}`);
      }

      const got = recorder([ours, theirs, ours2], "room-message");
      await ask(theirs, "to-room", ours.id, "private-to-ours");
      await ask(ours2, "to-room", theirs.id, "private-to-theirs");
      await ask(ours2, "to-room", "room-r", "to-room-r");
      await ask(theirs, "to-room", "room-r", "to-room-r-from-node");
      await settled(got, [3, 3, 0]);
      assert.deepEqual(got[0].map((a) => a[0]).sort(), ["private-to-ours", "to-room-r", "to-room-r-from-node"]);
      assert.deepEqual(got[1].map((a) => a[0]).sort(), ["private-to-theirs", "to-room-r", "to-room-r-from-node"]);
      assert.deepEqual(got[2], []);
      const all = recorder([ours, theirs, ours2], "broadcast");
      await ask(theirs, "broadcast", "everyone");
      await settled(all, [1, 1, 1]);
      assert.deepEqual(all.map((g) => g.length), [1, 1, 1]);
      for (const c of [ours, theirs, ours2]) c.close();
    });

    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      if (redis) await redis.stop();
    });
  });
}

// A client that reconnects only when told (connect()), to another URL if
// its manager's uri is changed meanwhile.
function recoverable(url) {
  const socket = io(url, { forceNew: true, reconnection: false, timeout: 5000, transports: ["websocket"] });
  opened.add(socket);
  return socket;
}

// Cuts `socket` (its transport closes: a recoverable reason on the
// server), points it at `nextUrl`, lets `whileAway` run, reconnects, and
// returns what it received from then on, in order.
// `cut` (default: the client closes its transport) may instead make the
// server go away.
async function cutAndRecover(socket, nextUrl, whileAway, cut = async () => socket.io.engine.close()) {
  const received = [];
  socket.onAny((event, ...args) => {
    if (event === "broadcast" || event === "room-message") received.push([event, ...args]);
  });
  const gone = once(socket, "disconnect", 10000);
  socket.io.uri = nextUrl;
  await cut();
  await gone;
  await whileAway();
  socket.connect();
  await connected(socket);
  return received;
}

// streamCount: namespaces spread over several streams by hash, the same
// streams for our node and Node's ("/" on socket.io-3, "/custom" on
// socket.io-0 with 4 streams).
describe("redis streams adapter with streamCount 4", { timeout: 60000 }, () => {
  let redis;
  let servers = [];

  test("each namespace on its stream: broadcasts both ways, and recovery across the kinds", async () => {
    redis = await startRedis(await freePort());
    const common = ["--redis", redis.url, "--redis-adapter", "streams", "--redis-stream-count", "4", "--state-recovery", "60000"];
    servers = await Promise.all([
      serve([...common, "--node-name", "a", "--threads", "1"], { socketio: true }),
      serve([...common, "--node-name", "n"], { socketio: true, reference: true }),
    ]);
    const ours = await Promise.all(["/", "/custom"].map((nsp) => connected(client(servers[0].url, nsp))));
    const theirs = await Promise.all(["/", "/custom"].map((nsp) => connected(client(servers[1].url, nsp))));
    await waitFor(async () => {
      const r = await ask(ours[0], "sse", "ready");
      return r.error === null && r.responses.length === 1 ? true : r;
    }, "serverSideEmit to reach n");
    const got = recorder([...ours, ...theirs], "broadcast");
    await ask(ours[0], "broadcast", "root-from-ours");
    await ask(theirs[0], "broadcast", "root-from-node");
    await ask(ours[1], "broadcast", "custom-from-ours");
    await ask(theirs[1], "broadcast", "custom-from-node");
    await settled(got, [2, 2, 2, 2]);
    assert.deepEqual(got[0].map((a) => a[0]).sort(), ["root-from-node", "root-from-ours"]);
    assert.deepEqual(got[1].map((a) => a[0]).sort(), ["custom-from-node", "custom-from-ours"]);
    assert.deepEqual(got[2].map((a) => a[0]).sort(), ["root-from-node", "root-from-ours"]);
    assert.deepEqual(got[3].map((a) => a[0]).sort(), ["custom-from-node", "custom-from-ours"]);
    const { createClient } = require("redis");
    const inspect = createClient({ url: redis.url });
    await inspect.connect();
    const logged = async (stream, event) =>
      (await inspect.xRange(stream, "-", "+"))
        .map((e) => ({ uid: e.message.uid, data: JSON.parse(e.message.data) }))
        .filter((e) => e.data.packet.data[0] === event);
    const names = async (stream) => (await logged(stream, "broadcast")).map((e) => e.data.packet.data[1]).sort();
    assert.deepEqual(await names("socket.io-3"), ["root-from-node", "root-from-ours"]);
    assert.deepEqual(await names("socket.io-0"), ["custom-from-node", "custom-from-ours"]);
    // With recovery, socket.emit (the demo's "auth" greeting) is logged too,
    // to the socket's own room, by both kinds of node.
    const greetings = await logged("socket.io-3", "auth");
    assert.equal(new Set(greetings.map((e) => e.uid)).size, 2);
    assert.deepEqual(greetings.map((e) => e.data.opts.rooms).sort(), [[ours[0].id], [theirs[0].id]].sort());
    assert.equal(await inspect.exists("socket.io"), 0, "no single stream");
    await inspect.quit();
    for (const c of [...ours, ...theirs]) c.close();

    // A client of Node's /custom recovers on ours, from socket.io-0.
    const c = await connected(recoverable(servers[1].url + "/custom"));
    const s = await connected(client(servers[0].url, "/custom"));
    const first = once(c, "broadcast");
    await ask(s, "broadcast", "before");
    await first;
    const sid = c.id;
    const received = await cutAndRecover(c, servers[0].url, async () => {
      await waitFor(async () => !(await ask(s, "fetch-sockets", sid)).includes(sid), "the cut noticed");
      await ask(s, "broadcast", "missed-1");
      await ask(s, "broadcast", "missed-2");
    });
    assert.equal(c.recovered, true);
    assert.equal(c.id, sid);
    // An event the sender's node had not yet appended when the range was
    // read comes live from the new node's reader, a moment later.
    await settled([received], [2]);
    assert.deepEqual(received.map((e) => e[1]), ["missed-1", "missed-2"]);
    c.close();
    s.close();
  });

  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    if (redis) await redis.stop();
  });
});

// Connection state recovery through the Streams adapter: the session is in
// Redis (sio:session:<pid>) and the missed events in the stream, so a client
// cut from one node recovers on any other, ours or Node's, and on a node
// that restarted meanwhile.
describe("redis streams adapter: connection state recovery across nodes", { timeout: 120000 }, () => {
  let redis;
  const nodes = {}; // a, b: ours; n: Node's
  const recoveryArgs = (name) => ["--redis", redis.url, "--redis-adapter", "streams", "--state-recovery", "60000", "--node-name", name];
  const startNode = (name, extra = []) =>
    name === "n"
      ? serve([...recoveryArgs(name), ...extra], { socketio: true, reference: true })
      : serve([...recoveryArgs(name), "--threads", "1", ...extra], { socketio: true });

  const sender = () => connected(client(nodes.n.url));

  test("the cluster starts: a, b and n with the streams adapter and recovery", async () => {
    redis = await startRedis(await freePort());
    [nodes.a, nodes.b, nodes.n] = await Promise.all(["a", "b", "n"].map((name) => startNode(name)));
    const c = await connected(client(nodes.a.url));
    await waitFor(async () => {
      const r = await ask(c, "sse", "ready");
      return r.error === null && r.responses.length === 2 ? true : r;
    }, "serverSideEmit to reach b and n");
    c.close();
  });

  for (const [from, to, via] of [["a", "b", "n"], ["a", "n", "b"], ["n", "a", "b"]]) {
    test(`a client cut from ${from} recovers through ${to}: missed events in order, rooms and data back`, async () => {
      const c = await connected(recoverable(nodes[from].url));
      assert.equal(c.recovered, false);
      await ask(c, "join", "watchers");
      await ask(c, "set-data", { k: "v", n: 1 });
      // The client needs one event with an offset before the cut (it offers
      // the last one it had).
      const s = await connected(client(nodes[via].url));
      const first = once(c, "broadcast");
      await ask(s, "broadcast", "before");
      await first;
      // A direct emit last (the demo's echo without ack: socket.emit): with
      // recovery it carries an offset too, the last one the client offers.
      const echoed = once(c, "echo");
      c.emit("echo", "hello");
      assert.equal((await echoed)[0], "hello");
      const sid = c.id;
      const bytes = Buffer.from([0, 0xff, 0x7b, 0x22]);
      const received = await cutAndRecover(c, nodes[to].url, async () => {
        // Until the server has persisted the session (it noticed the cut).
        await waitFor(async () => !(await ask(s, "fetch-sockets", "watchers")).includes(sid), "the cut noticed");
        await ask(s, "broadcast", "m1");
        await ask(s, "to-room", "watchers", "r1");
        await ask(s, "to-room", "elsewhere", "not-for-c");
        await ask(s, "broadcast", "m2", bytes);
        await ask(s, "to-room", "watchers", "r2", { nested: [bytes] });
      });
      assert.equal(c.recovered, true, "recovered");
      assert.equal(c.id, sid, "the same socket id");
      // An event the sender's node had not yet appended when the range was
      // read comes live from the new node's reader, a moment later.
      await settled([received], [4]);
      assert.deepEqual(received.map((e) => e[1]), ["m1", "r1", "m2", "r2"]);
      assert.deepEqual(Buffer.from(received[2][2]), bytes);
      assert.deepEqual(Buffer.from(received[3][2].nested[0]), bytes);
      const who = await ask(c, "whoami");
      assert.deepEqual(who.rooms, ["watchers"]);
      assert.deepEqual(who.data, { k: "v", n: 1 });
      assert.equal(who.recovered, true);
      // The rooms are back on the new node: a room message reaches it there.
      const live = once(c, "room-message");
      await ask(s, "to-room", "watchers", "live");
      assert.equal((await live)[0], "live");
      c.close();
      s.close();
    });
  }

  test("a session survives a restart of the node it was on, and one of ours restored twice is refused", async () => {
    const c = await connected(recoverable(nodes.b.url));
    await ask(c, "join", "watchers");
    const s = await sender();
    const first = once(c, "broadcast");
    await ask(s, "broadcast", "before");
    await first;
    const sid = c.id;
    const pid = c._pid;
    const offset = c._lastOffset;
    const received = await cutAndRecover(c, nodes.b.url, async () => {
      await waitFor(async () => !(await ask(s, "fetch-sockets", "watchers")).includes(sid), "the cut noticed");
      await nodes.b.stop();
      await ask(s, "broadcast", "while-b-was-down");
      nodes.b = await startNode("b", ["--port", String(nodes.b.port)]);
    });
    assert.equal(c.recovered, true);
    assert.equal(c.id, sid);
    // An event the sender's node had not yet appended when the range was
    // read comes live from the new node's reader, a moment later.
    await settled([received], [1]);
    assert.deepEqual(received.map((e) => e[1]), ["while-b-was-down"]);
    // The session was taken (GETDEL): the same pid and offset again get a new socket.
    const replay = io(nodes.a.url, { forceNew: true, reconnection: false, transports: ["websocket"] });
    opened.add(replay);
    replay._pid = pid;
    replay._lastOffset = offset;
    await connected(replay);
    assert.equal(replay.recovered, false);
    assert.notEqual(replay.id, sid);
    c.close();
    s.close();
    replay.close();
  });

  test("a node shut down under its clients: they recover on another node", async () => {
    // SIGTERM: the server closes its sessions ("server shutting down", a
    // recoverable reason), persists them, and writes that to Redis before
    // it exits.
    const c = await connected(recoverable(nodes.b.url));
    await ask(c, "join", "watchers");
    await ask(c, "set-data", "kept");
    const s = await sender();
    const first = once(c, "broadcast");
    await ask(s, "broadcast", "before");
    await first;
    const sid = c.id;
    const received = await cutAndRecover(c, nodes.a.url, async () => {}, async () => {
      await nodes.b.stop();
      await ask(s, "to-room", "watchers", "while-b-was-gone");
      nodes.b = await startNode("b", ["--port", String(nodes.b.port)]);
    });
    assert.equal(c.recovered, true);
    assert.equal(c.id, sid);
    // An event the sender's node had not yet appended when the range was
    // read comes live from the new node's reader, a moment later.
    await settled([received], [1]);
    assert.deepEqual(received.map((e) => e[1]), ["while-b-was-gone"]);
    assert.equal((await ask(c, "whoami")).data, "kept");
    c.close();
    s.close();
  });

  test("a broadcast racing the reconnect reaches the client exactly once", async () => {
    // Events keep coming while the client restores on b: each must arrive
    // once, whether the restore's range or b's stream reader brings it.
    const c = await connected(recoverable(nodes.a.url));
    const s = await sender();
    const first = once(c, "broadcast");
    await ask(s, "broadcast", "before");
    await first;
    let sending = true;
    let sent = 0;
    const pump = (async () => {
      while (sending) {
        await ask(s, "broadcast", `burst-${sent}`);
        ++sent;
      }
    })();
    const sid = c.id;
    const received = await cutAndRecover(c, nodes.b.url, async () => {
      await waitFor(async () => !(await ask(s, "fetch-sockets", sid)).includes(sid), "the cut noticed");
    });
    await sleep(300);
    sending = false;
    await pump;
    await waitFor(async () => received.length >= sent || { received: received.length, sent }, "every burst event", 10000);
    await sleep(300);
    assert.equal(c.recovered, true);
    const names = received.map((e) => e[1]);
    const firstMissed = Number(names[0].slice("burst-".length));
    assert.deepEqual(names, Array.from({ length: sent - firstMissed }, (_, i) => `burst-${firstMissed + i}`));
    c.close();
    s.close();
  });

  after(async () => {
    await Promise.all(Object.values(nodes).map((n) => n.stop()));
    if (redis) await redis.stop();
  });
});
