// Session lifecycle against a live `eiotool serve`, seen by the official
// client (engine.io-client 6): server shutdown, ping timeouts on either side,
// handshakes refused by allow_request, CORS with credentials, and the
// sticky-session cookie. Run by ctest as `node --test`, with the path of
// eiotool in EIO_EIOTOOL; EIO_SERVE_LOG=1 copies the servers' logs to stderr.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { Socket } from "engine.io-client";
import WebSocket from "ws";
import { serve } from "./serve_helper.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Rejects with `what` unless `promise` settles within `ms`.
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A client that is open; fails on an error or a close before that.
function openClient(url, options, ms = 5000) {
  const socket = new Socket(url, options);
  return within(
    ms,
    "open",
    new Promise((resolve, reject) => {
      socket.once("open", () => resolve(socket));
      socket.once("error", reject);
      socket.once("close", (reason) => reject(new Error(`closed before open: ${reason}`)));
    }),
  ).catch((e) => {
    socket.close();
    throw e;
  });
}

// The next `close` event: {reason, description, at (Date.now())}.
const closeOf = (socket) =>
  new Promise((resolve) => socket.once("close", (reason, description) => resolve({ reason, description, at: Date.now() })));

async function echoes(socket, message) {
  const reply = new Promise((resolve) => socket.once("message", resolve));
  socket.send(message);
  return within(5000, `echo of ${message}`, reply);
}

// The server's name of a session in its log, from its `open` line: the sid
// ("open <sid> polling v4"), or the slot ("open 0.1 sid=<sid> polling v4").
async function sessionName(server, sid) {
  const line = await server.waitForLine(new RegExp(`^open (?:(\\S+) sid=)?${sid} `));
  return line.split(" ")[1];
}
const closeLine = (name) => new RegExp(`^close ${name.replaceAll(".", "\\.")}: `);

// ---------------------------------------------------------------------------
// 1. Server-initiated close

test("SIGTERM: each client closes with 'transport close', the server logs 'server shutting down' and exits 0", { timeout: 15000 }, async () => {
  const server = await serve([], { quiet: false });
  const clients = [];
  try {
    const polling = await openClient(server.url, { transports: ["polling"] });
    clients.push(polling);
    const websocket = await openClient(server.url, { transports: ["websocket"] });
    clients.push(websocket);
    const names = [await sessionName(server, polling.id), await sessionName(server, websocket.id)];
    const closes = clients.map(closeOf);

    assert.equal(await within(5000, "server exit", server.stop()), 0);
    const [pollingClose, websocketClose] = await within(5000, "client closes", Promise.all(closes));

    // Polling: the held GET is answered with a close packet, which the
    // client's polling transport turns into its own close (polling.js onData).
    assert.equal(pollingClose.reason, "transport close");
    assert.deepEqual(pollingClose.description, { description: "transport closed by the server" });
    // WebSocket: a clean close frame (RFC 6455 section 7.4.1: 1000 normal
    // closure or 1001 going away), not a dropped connection (1006).
    assert.equal(websocketClose.reason, "transport close");
    assert.equal(websocketClose.description.description, "websocket connection closed");
    assert.ok([1000, 1001].includes(websocketClose.description.context.code), `close code ${websocketClose.description.context.code}`);

    for (const name of names) assert.ok(server.lines().includes(`close ${name}: server shutting down`), server.lines().join("\n"));
  } finally {
    clients.forEach((c) => c.close());
    await server.stop();
  }
});

// ---------------------------------------------------------------------------
// 2. Ping timeouts

for (const transport of ["polling", "websocket"]) {
  test(`the server goes silent (SIGSTOP): the client closes with 'ping timeout' (${transport})`, { timeout: 15000 }, async () => {
    // The client gives up pingInterval + pingTimeout = 600 ms after the last ping.
    const server = await serve(["--ping-interval", "300", "--ping-timeout", "300"], { quiet: false });
    let socket;
    try {
      socket = await openClient(server.url, { transports: [transport] });
      const name = await sessionName(server, socket.id);
      let lastPing = 0;
      socket.on("ping", () => (lastPing = Date.now()));
      await within(3000, "first ping", new Promise((resolve) => socket.once("ping", resolve)));
      const closed = closeOf(socket);

      server.signal("SIGSTOP");
      const stoppedAt = Date.now();
      const close = await within(3000, "client close", closed);
      assert.equal(close.reason, "ping timeout");
      assert.ok(close.at - lastPing >= 590, `closed ${close.at - lastPing} ms after the last ping, before its 600 ms`);
      assert.ok(close.at - stoppedAt <= 1500, `closed ${close.at - stoppedAt} ms after SIGSTOP`);

      // Woken up, the server ends that session (the client's close packet or
      // socket close, or its own overdue ping deadline) and serves new ones.
      server.signal("SIGCONT");
      const line = await server.waitForLine(closeLine(name), 3000);
      assert.match(line, /: (transport close|ping timeout)$/);
      const next = await openClient(server.url, { transports: [transport] });
      assert.equal(await echoes(next, "after SIGCONT"), "after SIGCONT");
      next.close();
    } finally {
      socket?.close();
      assert.equal(await server.stop(), 0);
    }
  });
}

for (const transport of ["polling", "websocket"]) {
  test(`the client goes silent (no pongs): the server logs 'ping timeout', the client sees 'transport close' (${transport})`, { timeout: 15000 }, async () => {
    // The server gives up pingInterval + pingTimeout = 1300 ms after the
    // handshake; the client's own deadline, pushed back by the ping at 1000 ms,
    // is 2300 ms, so a close before that comes from the server.
    const server = await serve(["--ping-interval", "1000", "--ping-timeout", "300"], { quiet: false });
    const socket = new Socket(server.url, { transports: [transport] });
    try {
      // engine.io-client 6.6.8 answers a ping in Socket#_onPacket with
      // this._sendPacket("pong") (build/esm/socket.js); dropping that one call
      // silences the client and nothing else: it still polls, still resets its
      // own ping deadline, and still sends messages.
      let pongsDropped = 0;
      const sendPacket = socket._sendPacket;
      socket._sendPacket = function (type, ...rest) {
        if (type === "pong") {
          pongsDropped++;
          return;
        }
        return sendPacket.call(this, type, ...rest);
      };
      const openedAt = await within(5000, "open", new Promise((resolve) => socket.once("open", () => resolve(Date.now()))));
      const name = await sessionName(server, socket.id);
      const close = await within(4000, "client close", closeOf(socket));

      assert.ok(pongsDropped >= 1, "no ping reached the client");
      assert.equal(close.reason, "transport close");
      if (transport === "polling") {
        assert.deepEqual(close.description, { description: "transport closed by the server" });
      } else {
        assert.equal(close.description.description, "websocket connection closed");
      }
      assert.ok(close.at - openedAt >= 1200 && close.at - openedAt < 2200, `closed ${close.at - openedAt} ms after open`);
      const line = await server.waitForLine(closeLine(name), 2000);
      assert.equal(line, `close ${name}: ping timeout`);
    } finally {
      socket.close();
      assert.equal(await server.stop(), 0);
    }
  });
}

// ---------------------------------------------------------------------------
// 3. allow_request

test("--auth-token: a handshake without the token is an error event with status 403, with it the client opens", { timeout: 20000 }, async () => {
  const server = await serve(["--auth-token", "s3cret"], { quiet: false });
  try {
    for (const transports of [["polling"], ["polling", "websocket"]]) {
      const socket = new Socket(server.url, { transports });
      let opened = false;
      socket.on("open", () => (opened = true));
      const closed = closeOf(socket); // emitted right after the error
      // Read the XMLHttpRequest in the handler: the request is aborted and
      // dropped right after the event.
      const error = await within(
        5000,
        "error event",
        new Promise((resolve) =>
          socket.once("error", (e) =>
            resolve({ e, status: e.context?.status, body: e.context?.responseText }),
          ),
        ),
      );
      const close = await within(2000, "close after the error", closed);
      assert.equal(opened, false);
      assert.equal(error.e.type, "TransportError");
      assert.equal(error.e.message, "xhr poll error");
      assert.equal(error.e.description, 403);
      assert.equal(error.status, 403);
      assert.deepEqual(JSON.parse(error.body), { code: 4, message: "Forbidden" });
      assert.equal(close.reason, "transport error");
    }

    {
      // WebSocket only: the ws package's error event. A refused upgrade is
      // "400 Bad Request" with the message as its body, as engine.io's
      // abortUpgrade() answers every refused upgrade, whatever the code.
      const socket = new Socket(server.url, { transports: ["websocket"] });
      let opened = false;
      socket.on("open", () => (opened = true));
      const e = await within(5000, "error event", new Promise((resolve) => socket.once("error", resolve)));
      assert.equal(opened, false);
      assert.equal(e.type, "TransportError");
      assert.equal(e.message, "websocket error");
      assert.equal(e.description.message, "Unexpected server response: 400");
    }
    await server.waitForLine(/^refused .*transport=polling.*: 4 Forbidden/);
    await server.waitForLine(/^refused .*transport=websocket.*: 4 Forbidden/);

    for (const [name, options] of [
      ["query token", { query: { token: "s3cret" } }],
      ["Authorization: Bearer", { extraHeaders: { Authorization: "Bearer s3cret" } }],
    ]) {
      for (const transports of [["polling"], ["websocket"]]) {
        const socket = await openClient(server.url, { transports, ...options });
        try {
          assert.equal(await echoes(socket, `${name} ${transports[0]}`), `${name} ${transports[0]}`);
        } finally {
          socket.close();
        }
      }
    }
    // A wrong token is refused like none.
    const wrong = await fetch(`${server.url}/engine.io/?EIO=4&transport=polling&token=s3cre`);
    assert.equal(wrong.status, 403);
    assert.deepEqual(await wrong.json(), { code: 4, message: "Forbidden" });
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

// ---------------------------------------------------------------------------
// 4 and 5. CORS with credentials, and the cookie

// A plain HTTP proxy in front of `target` that records every request's
// headers and response headers (WebSocket upgrades are passed through and
// recorded with upgrade: true), so a test sees what a client really sent.
async function recordingProxy(target) {
  const exchanges = [];
  const sockets = new Set();
  const proxy = http.createServer((req, res) => {
    const exchange = { method: req.method, url: req.url, headers: req.headers };
    exchanges.push(exchange);
    const upstream = http.request(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (response) => {
        exchange.status = response.statusCode;
        exchange.responseHeaders = response.headers;
        res.writeHead(response.statusCode, response.headers);
        response.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  proxy.on("upgrade", (req, socket, head) => {
    exchanges.push({ method: req.method, url: req.url, headers: req.headers, upgrade: true });
    const upstream = net.connect(target.port, target.host, () => {
      let raw = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) raw += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      upstream.write(raw + "\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
    upstream.on("close", () => socket.destroy());
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${proxy.address().port}`,
    exchanges,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => proxy.close(resolve));
    },
  };
}

const handshakeUrl = (url) => `${url}/engine.io/?EIO=4&transport=polling`;
const sidOf = async (response) => JSON.parse((await response.text()).slice(1)).sid;

test("CORS with credentials: engine.io-client with withCredentials, and every kind of response by raw HTTP", { timeout: 15000 }, async () => {
  const origin = "http://app.example";
  const server = await serve(["--cors-origin", origin]);
  const proxy = await recordingProxy(server);
  try {
    const assertAllowed = (headers, what) => {
      assert.equal(headers.get("access-control-allow-origin"), origin, what);
      assert.equal(headers.get("access-control-allow-credentials"), "true", what);
      assert.match(headers.get("vary") ?? "", /\bOrigin\b/, what);
    };

    // The official client, through the recording proxy: its requests carry
    // the Origin and every answer allows it with credentials.
    const socket = await openClient(proxy.url, { transports: ["polling"], withCredentials: true, extraHeaders: { origin } });
    try {
      assert.equal(await echoes(socket, "with credentials"), "with credentials");
    } finally {
      socket.close();
    }
    const kinds = new Set();
    for (const exchange of proxy.exchanges) {
      if (exchange.status === undefined) continue; // the last poll, still held when the client closed
      const kind = exchange.method === "POST" ? "POST" : exchange.url.includes("sid=") ? "poll" : "handshake";
      kinds.add(kind);
      assert.equal(exchange.headers.origin, origin, kind);
      assert.equal(exchange.status, 200, kind);
      assert.equal(exchange.responseHeaders["access-control-allow-origin"], origin, kind);
      assert.equal(exchange.responseHeaders["access-control-allow-credentials"], "true", kind);
    }
    assert.deepEqual([...kinds].sort(), ["POST", "handshake", "poll"]);

    // Raw: handshake, POST, poll, and an error (unknown sid).
    const headers = { Origin: origin };
    const handshake = await fetch(handshakeUrl(server.url), { headers });
    assert.equal(handshake.status, 200);
    assertAllowed(handshake.headers, "handshake");
    const sid = await sidOf(handshake);
    const post = await fetch(`${handshakeUrl(server.url)}&sid=${sid}`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "text/plain;charset=UTF-8" },
      body: "4raw",
    });
    assert.equal(post.status, 200);
    assert.equal(await post.text(), "ok");
    assertAllowed(post.headers, "POST");
    const poll = await fetch(`${handshakeUrl(server.url)}&sid=${sid}`, { headers });
    assert.equal(poll.status, 200);
    assert.equal(await poll.text(), "4raw");
    assertAllowed(poll.headers, "poll");
    const unknown = await fetch(`${handshakeUrl(server.url)}&sid=AAAAAAAAAAAAAAAAAAAA`, { headers });
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), { code: 1, message: "Session ID unknown" });
    assertAllowed(unknown.headers, "unknown sid");

    // Preflight: 204, the origin and credentials, the methods polling uses,
    // and the requested headers reflected (as the cors package does).
    const preflight = await fetch(handshakeUrl(server.url), {
      method: "OPTIONS",
      headers: { ...headers, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, authorization" },
    });
    assert.equal(preflight.status, 204);
    assertAllowed(preflight.headers, "preflight");
    const methods = (preflight.headers.get("access-control-allow-methods") ?? "").split(",").map((m) => m.trim());
    assert.ok(methods.includes("GET") && methods.includes("POST"), methods.join());
    assert.equal(preflight.headers.get("access-control-allow-headers"), "content-type, authorization");

    // An origin not listed: no Access-Control-Allow-Origin anywhere, and
    // without it a browser drops the response whatever else is there.
    const evil = { Origin: "http://evil.example" };
    for (const [what, response] of [
      ["handshake", await fetch(handshakeUrl(server.url), { headers: evil })],
      ["unknown sid", await fetch(`${handshakeUrl(server.url)}&sid=AAAAAAAAAAAAAAAAAAAA`, { headers: evil })],
      ["preflight", await fetch(handshakeUrl(server.url), { method: "OPTIONS", headers: { ...evil, "Access-Control-Request-Method": "POST" } })],
    ]) {
      assert.equal(response.headers.get("access-control-allow-origin"), null, what);
      await response.arrayBuffer();
    }
  } finally {
    await proxy.close();
    assert.equal(await server.stop(), 0);
  }
});

test("--cookie io: the handshake sets io=<sid> as engine.io 6 does, and engine.io-client with withCredentials sends it back", { timeout: 20000 }, async () => {
  const server = await serve(["--cookie", "io"]);
  const reference = await serve(["--cookie", "io"], { reference: true });
  const proxy = await recordingProxy(server);
  try {
    // The exact header, and the same one the reference sends (attribute order
    // and spelling from the cookie package; docs/node-reference-behaviour.md 19).
    const cookieOf = async (url) => {
      const response = await fetch(handshakeUrl(url));
      assert.equal(response.status, 200);
      const setCookie = response.headers.getSetCookie();
      return { setCookie, sid: await sidOf(response) };
    };
    const ours = await cookieOf(server.url);
    assert.deepEqual(ours.setCookie, [`io=${ours.sid}; Path=/; HttpOnly; SameSite=Lax`]);
    const theirs = await cookieOf(reference.url);
    assert.deepEqual(ours.setCookie.map((c) => c.replace(ours.sid, "SID")), theirs.setCookie.map((c) => c.replace(theirs.sid, "SID")));

    // Only the polling handshake sets it; a WebSocket handshake never does.
    const upgradeHeaders = await within(
      5000,
      "websocket handshake",
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://${server.host}:${server.port}/engine.io/?EIO=4&transport=websocket`);
        ws.on("upgrade", (response) => resolve(response.headers));
        ws.on("open", () => ws.close());
        ws.on("error", reject);
      }),
    );
    assert.equal(upgradeHeaders["set-cookie"], undefined);

    // engine.io-client 6.6 keeps a cookie jar in Node when withCredentials is
    // set: every request after the handshake carries the cookie, the upgrade
    // request included; without withCredentials none does.
    for (const withCredentials of [true, false]) {
      proxy.exchanges.length = 0;
      const socket = await openClient(proxy.url, { withCredentials });
      try {
        await within(5000, "upgrade", new Promise((resolve) => socket.once("upgrade", resolve)));
        assert.equal(await echoes(socket, "cookie"), "cookie");
        const sid = socket.id;
        const [handshake, ...rest] = proxy.exchanges;
        assert.ok(!handshake.url.includes("sid="), handshake.url);
        assert.equal(handshake.headers.cookie, undefined);
        assert.deepEqual(handshake.responseHeaders["set-cookie"], [`io=${sid}; Path=/; HttpOnly; SameSite=Lax`]);
        assert.ok(rest.some((e) => e.upgrade), "no upgrade request went through the proxy");
        for (const exchange of rest) {
          assert.ok(exchange.url.includes(`sid=${sid}`), exchange.url);
          assert.equal(exchange.headers.cookie, withCredentials ? `io=${sid}` : undefined, `${exchange.method} ${exchange.url}`);
        }
      } finally {
        socket.close();
      }
    }
  } finally {
    await proxy.close();
    assert.equal(await reference.stop(), 0);
    assert.equal(await server.stop(), 0);
  }
});

// ---------------------------------------------------------------------------
// 6. The other flags of `eiotool serve`, each seen from outside

test("SIGINT stops the server as SIGTERM does: clients see 'transport close', exit code 0", { timeout: 15000 }, async () => {
  const server = await serve([], { quiet: false });
  const socket = await openClient(server.url, { transports: ["websocket"] });
  try {
    const name = await sessionName(server, socket.id);
    const closed = closeOf(socket);
    server.signal("SIGINT");
    assert.equal(await within(5000, "server exit", server.exited), 0);
    assert.equal((await within(5000, "client close", closed)).reason, "transport close");
    assert.ok(server.lines().includes(`close ${name}: server shutting down`), server.lines().join("\n"));
  } finally {
    socket.close();
    await server.stop();
  }
});

test("--host and --path: it listens on that address only, and serves that path only", { timeout: 15000 }, async () => {
  // Any 127.x.y.z is loopback on Linux; 127.0.0.1 on the same port is then not listened on.
  const server = await serve(["--host", "127.0.0.2", "--path", "/custom/"]);
  try {
    assert.equal(server.host, "127.0.0.2");
    assert.match(server.banner, /^listening on http:\/\/127\.0\.0\.2:\d+\/custom\/ /);
    const socket = await openClient(server.url, { path: "/custom/", transports: ["websocket"] });
    assert.equal(await echoes(socket, "on /custom/"), "on /custom/");
    socket.close();
    const other = await fetch(`${server.url}/engine.io/?EIO=4&transport=polling`);
    assert.notEqual(other.status, 200);
    await assert.rejects(fetch(`http://127.0.0.1:${server.port}/custom/?EIO=4&transport=polling`), /fetch failed/);
  } finally {
    await server.stop();
  }
});

test("--no-upgrades: the handshake offers none and the default client stays on polling", { timeout: 15000 }, async () => {
  const server = await serve(["--no-upgrades"]);
  try {
    const open = await (await fetch(`${server.url}/engine.io/?EIO=4&transport=polling`)).text();
    assert.deepEqual(JSON.parse(open.slice(1)).upgrades, []);
    const socket = await openClient(server.url, {});
    let upgraded = false;
    socket.on("upgrade", () => (upgraded = true));
    assert.equal(await echoes(socket, "one"), "one");
    await sleep(500);
    assert.equal(await echoes(socket, "two"), "two");
    assert.equal(socket.transport.name, "polling");
    assert.equal(upgraded, false);
    socket.close();
  } finally {
    await server.stop();
  }
});

test("--upgrade-timeout: a probe never finished with '5' is closed after it, and the session goes on polling", { timeout: 15000 }, async () => {
  const server = await serve(["--upgrade-timeout", "300"]);
  try {
    const base = `${server.url}/engine.io/?EIO=4&transport=polling`;
    const sid = JSON.parse((await (await fetch(base)).text()).slice(1)).sid;
    const ws = new WebSocket(`ws://${server.host}:${server.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const probed = new Promise((resolve) => ws.once("message", (m) => resolve(String(m))));
    ws.send("2probe");
    assert.equal(await within(5000, "3probe", probed), "3probe");
    const started = Date.now();
    await within(5000, "the probe's close", new Promise((resolve) => ws.once("close", resolve)));
    assert.ok(Date.now() - started >= 250, `closed after ${Date.now() - started} ms, before the upgrade timeout`);
    // Still a polling session: a message goes through POST and comes back on GET.
    const post = await fetch(`${base}&sid=${sid}`, { method: "POST", body: "4still here" });
    assert.equal(await post.text(), "ok");
    assert.equal(await (await fetch(`${base}&sid=${sid}`)).text(), "4still here");
  } finally {
    await server.stop();
  }
});

test("--log-level: error logs no sessions, info logs opens, closes and refusals, debug also upgrades", { timeout: 20000 }, async () => {
  const lines = {};
  for (const level of ["error", "info", "debug"]) {
    const server = await serve(["--log-level", level], { quiet: false });
    try {
      const socket = await openClient(server.url, {});
      await within(5000, "upgrade", new Promise((resolve) => socket.once("upgrade", resolve)));
      const closed = closeOf(socket);
      socket.close();
      await closed;
      await fetch(`${server.url}/engine.io/?EIO=4&transport=polling&sid=nope`);
      if (level !== "error") await server.waitForLine(/^close /);
      if (level !== "error") await server.waitForLine(/^refused /);
      await sleep(200);
      lines[level] = server.lines();
    } finally {
      await server.stop();
    }
  }
  const has = (level, pattern) => lines[level].some((line) => pattern.test(line));
  assert.ok(!has("error", /^(open|close|upgrade|refused) /), lines.error.join("\n"));
  assert.ok(has("info", /^open \S+ polling v4$/) && has("info", /^close \S+: /), lines.info.join("\n"));
  assert.ok(has("info", /^refused GET \/engine\.io\/\?.*sid=nope: 1 Session ID unknown/), lines.info.join("\n"));
  assert.ok(!has("info", /^upgrade /), lines.info.join("\n"));
  assert.ok(has("debug", /^upgrade \S+ websocket$/), lines.debug.join("\n"));
});
