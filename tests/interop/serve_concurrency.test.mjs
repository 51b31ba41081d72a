// Many sessions at once on `eiotool serve --threads 2`: 5,000 WebSocket and
// 1,000 long-polling sessions held open over several ping intervals. It
// counts, it does not time: every session must see its pings, answer them,
// stay open (the server logs no close), echo at the end, and the sessions
// must be spread over both event loops (the first character of a sid names
// its loop). Speaks raw Engine.IO v4 over `ws` and node:http, so the client
// side stays light enough for one Node process.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { serve } from "./serve_helper.mjs";

const require = createRequire(import.meta.url);
const WebSocket = require("ws");

const websocketSessions = Number(process.env.EIO_CONCURRENCY_WS ?? 5000);
const pollingSessions = Number(process.env.EIO_CONCURRENCY_POLLING ?? 1000);
// Long enough that the client, one Node process answering every ping of
// 6,000 sessions, keeps up on a busy 2-core machine; the ping timeout is the
// reference default.
const pingInterval = 2000;
const holdIntervals = 4;

function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(status.match(/VmRSS:\s+(\d+) kB/)[1]);
}

// Runs `start(i)` for i < count, at most `width` at a time.
async function inBatches(count, width, start) {
  const results = [];
  for (let i = 0; i < count; i += width) {
    const batch = [];
    for (let k = i; k < Math.min(count, i + width); ++k) batch.push(start(k));
    results.push(...(await Promise.all(batch)));
  }
  return results;
}

function openWebSocket(base, index) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${base.replace("http", "ws")}/engine.io/?EIO=4&transport=websocket`);
    const session = { kind: "websocket", index, sid: null, pings: 0, closed: false, echoes: [], socket };
    const timer = setTimeout(() => reject(new Error(`websocket ${index}: no open packet`)), 30000);
    socket.on("message", (data) => {
      const text = data.toString();
      if (text[0] === "0") {
        session.sid = JSON.parse(text.slice(1)).sid;
        clearTimeout(timer);
        resolve(session);
      } else if (text === "2") {
        session.pings++;
        socket.send("3");
      } else if (text[0] === "4") {
        session.echoes.push(text.slice(1));
      }
    });
    socket.on("close", () => (session.closed = true));
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

// Every request has a deadline, so a request the server never answers fails
// the test with its name instead of hanging it: a long-poll is answered
// within a ping interval, anything else at once.
const requestTimeout = 30000;

function request(base, method, query, body) {
  return new Promise((resolve, reject) => {
    const url = `${base}/engine.io/?EIO=4&transport=polling${query}`;
    const req = http.request(url, { method, agent, timeout: requestTimeout }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode, text }));
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${query || "(handshake)"}: no answer within ${requestTimeout} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

// A polling session: one GET always pending; pings answered by POST.
async function openPolling(base, index) {
  const open = await request(base, "GET", "");
  assert.equal(open.status, 200, `polling ${index} handshake: ${open.text}`);
  const session = { kind: "polling", index, sid: JSON.parse(open.text.slice(1)).sid, pings: 0, closed: false, echoes: [] };
  // One POST at a time per session, as the official client does: a second
  // one while the first is in flight is a protocol error (400, session closed).
  let lastPost = Promise.resolve();
  session.post = (body) => {
    const next = lastPost.then(() => request(base, "POST", `&sid=${session.sid}`, body));
    lastPost = next.catch(() => {});
    return next;
  };
  const loop = async () => {
    while (!session.closed && !session.stopped) {
      const poll = await request(base, "GET", `&sid=${session.sid}`);
      if (poll.status !== 200) {
        session.closed = true;
        session.error = `${poll.status} ${poll.text}`;
        return;
      }
      for (const packet of poll.text.split("\x1e")) {
        if (packet === "2") {
          session.pings++;
          const pong = await session.post("3");
          if (pong.status !== 200) session.error = `pong: ${pong.status} ${pong.text}`;
        } else if (packet === "1") {
          session.closed = true;
        } else if (packet[0] === "4") {
          session.echoes.push(packet.slice(1));
        }
      }
    }
  };
  session.running = loop().catch((e) => {
    session.closed = true;
    session.error = String(e);
  });
  return session;
}

test(`${websocketSessions} websocket + ${pollingSessions} polling sessions on --threads 2: every ping answered, none lost`, { timeout: 560000 }, async () => {
  const server = await serve(["--threads", "2", "--ping-interval", String(pingInterval), "--ping-timeout", "20000"], { quiet: false });
  // Each phase's time goes to the log, so a slow run shows where it went.
  const began = Date.now();
  const phase = (name) => console.log(`concurrency: ${name} after ${Date.now() - began} ms`);
  try {
    const startRss = rssKiB(server.pid);
    const websockets = await inBatches(websocketSessions, 250, (i) => openWebSocket(server.url, i));
    phase(`${websockets.length} websocket sessions open`);
    const polls = await inBatches(pollingSessions, 100, (i) => openPolling(server.url, i));
    phase(`${polls.length} polling sessions open`);
    const sessions = [...websockets, ...polls];
    const openRss = rssKiB(server.pid);

    // Hold them over several ping intervals.
    await new Promise((done) => setTimeout(done, pingInterval * (holdIntervals + 0.5)));

    // Every session echoes one message at the end; the polling ones are
    // sent in parallel batches, as one after another they would take a
    // round trip each on a busy machine.
    const endMessage = (s) => `end ${s.kind} ${s.index}`;
    for (const s of websockets) s.socket.send(`4${endMessage(s)}`);
    const posted = await inBatches(polls.length, 100, (i) => polls[i].post(`4${endMessage(polls[i])}`));
    const refused = posted.map((answer, i) => `polling ${i}: ${answer.status} ${answer.text}`).filter((_, i) => posted[i].status !== 200);
    assert.deepEqual(refused, [], "end messages refused");
    phase("end messages sent");
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline && sessions.some((s) => s.echoes.length === 0 && !s.closed)) {
      await new Promise((done) => setTimeout(done, 100));
    }
    phase("echoes in");

    const lost = sessions.filter((s) => s.closed || s.error);
    assert.deepEqual(lost.map((s) => `${s.kind} ${s.index}: ${s.error ?? "closed"}`), [], "sessions lost");
    const fewPings = sessions.filter((s) => s.pings < holdIntervals - 1);
    assert.equal(fewPings.length, 0, `sessions with fewer than ${holdIntervals - 1} pings: ${fewPings.length}`);
    const noEcho = sessions.filter((s) => s.echoes[0] !== endMessage(s));
    assert.equal(noEcho.length, 0, `sessions without their echo: ${noEcho.length}`);
    const closes = server.lines().filter((line) => line.startsWith("close "));
    assert.deepEqual(closes, [], "the server closed sessions");
    const loops = new Set(sessions.map((s) => s.sid[0]));
    assert.deepEqual([...loops].sort(), ["0", "1"], "sessions on both loops");

    const endRss = rssKiB(server.pid);
    console.log(
      `concurrency: ${websockets.length} websocket + ${polls.length} polling sessions, 2 threads, ` +
        `pings per session min ${Math.min(...sessions.map((s) => s.pings))}; server RSS ${startRss} KiB at start, ` +
        `${openRss} KiB with all open, ${endRss} KiB at the end (${(((openRss - startRss) * 1024) / sessions.length).toFixed(0)} B per session)`,
    );

    for (const s of polls) s.stopped = true;
    for (const s of websockets) s.socket.close();
  } finally {
    assert.equal(await server.stop(), 0);
    agent.destroy();
  }
});
