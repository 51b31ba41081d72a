// `eiotool probe` against `eiotool serve` and the engine.io 6 reference
// server (every transport option, v4, and v3 against --allow-eio3), and
// against broken setups made here: websocket disabled, an --auth-token
// server, two servers behind a round-robin proxy without stickiness, a
// self-signed TLS server, a port with nothing listening, proxies that strip
// the Upgrade header or let the upgrade hang.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { probe, probeJson } from "./probe_helper.mjs";
import { serve } from "./serve_helper.mjs";



const servers = [];
async function start(args, options) {
  const s = await serve(args, options);
  servers.push(s);
  return s;
}
after(async () => {
  for (const s of servers) await s.stop();
});

const configured = ["--ping-interval", "1234", "--ping-timeout", "4321", "--max-payload", "65432"];

for (const reference of [false, true]) {
  const name = reference ? "reference server" : "eiotool serve";
  for (const [eio, extra] of [["4", []], ["3", ["--allow-eio3"]]]) {
    for (const transport of ["polling", "websocket", "upgrade"]) {
      test(`${name}, v${eio}, --transport ${transport}: every step passes with the configured values`, async () => {
        const server = await start([...configured, ...extra], { reference });
        const { code, report } = await probeJson([
          `${server.url}/engine.io/`, "--transport", transport, "--eio", eio,
          "--send", "hello", "--send", "wörld", "--expect-echo", "--timeout", "5000",
        ]);
        assert.equal(code, 0, JSON.stringify(report, null, 1));
        assert.equal(report.ok, true);
        const handshake = report.steps.handshake;
        assert.equal(handshake.result, "pass");
        assert.equal(handshake.pingInterval, 1234);
        assert.equal(handshake.pingTimeout, 4321);
        // v3 servers do not announce maxPayload.
        if (eio === "4") assert.equal(handshake.maxPayload, 65432);
        assert.equal(report.steps.messages.result, "pass");
        assert.equal(report.steps.messages.items.length, 2);
        assert.equal(report.steps.heartbeat.result, "pass");
        if (transport === "upgrade") assert.equal(report.steps.upgrade.result, "pass");
        if (transport !== "websocket") assert.equal(report.steps["same-sid"].result, "pass");
        await server.stop();
      });
    }
  }
}

test("human output: a checklist and a verdict", async () => {
  const server = await start(["--ping-interval", "500"]);
  const r = await probe([server.url, "--send", "hi", "--expect-echo"]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /\[ok {2}\] connect/);
  assert.match(r.stdout, /\[ok {2}\] upgrade {4}websocket accepted/);
  assert.match(r.stdout, /"hi" echoed in \d+ ms/);
  assert.match(r.stdout, /verdict: OK: /);
  await server.stop();
});

for (const reference of [false, true]) {
  const name = reference ? "reference server" : "eiotool serve";

  test(`${name} with websocket disabled: the upgrade step fails, named`, async () => {
    const server = await start(["--transports", "polling"], { reference });
    const { code, report } = await probeJson([server.url]);
    assert.equal(code, 1);
    assert.equal(report.failed, "upgrade");
    assert.match(report.steps.upgrade.summary, /no websocket upgrade/);
    assert.match(report.verdict, /^FAILED at upgrade: /);
    await server.stop();
  });

  test(`${name} with --auth-token: 403 Forbidden, decoded`, async () => {
    const server = await start(["--auth-token", "s3cret"], { reference });
    const { code, report } = await probeJson([server.url]);
    assert.equal(code, 1);
    assert.equal(report.failed, "handshake");
    assert.equal(report.steps.handshake.status, 403);
    assert.equal(report.steps.handshake.error.code, 4);
    assert.match(report.steps.handshake.summary, /Forbidden.*allowRequest/);
    // With the token it passes.
    const ok = await probeJson([server.url, "--header", "Authorization: Bearer s3cret"]);
    assert.equal(ok.code, 0, JSON.stringify(ok.report, null, 1));
    await server.stop();
  });
}

test("two servers behind a round-robin proxy without stickiness: the sticky-session problem is named", async () => {
  const a = await start([]);
  const b = await start([], { reference: true });
  let next = 0;
  const sockets = new Set();
  const proxy = net.createServer((client) => {
    const upstream = [a, b][next++ % 2];
    const socket = net.connect(upstream.port, upstream.host);
    sockets.add(client).add(socket);
    client.pipe(socket).pipe(client);
    const drop = () => {
      client.destroy();
      socket.destroy();
    };
    client.on("error", drop);
    socket.on("error", drop);
  });
  await new Promise((done) => proxy.listen(0, "127.0.0.1", done));
  try {
    const { code, report } = await probeJson([`http://127.0.0.1:${proxy.address().port}/`, "--transport", "polling"]);
    assert.equal(code, 1);
    assert.equal(report.failed, "same-sid");
    assert.equal(report.steps["same-sid"].problem, "sticky sessions");
    assert.match(report.verdict, /without sticky sessions/);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((done) => proxy.close(done));
  }
});

test("a self-signed TLS server: fails without --insecure, passes with it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "eio-probe-tls-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ], { stdio: "ignore" });
    const server = await start(["--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem")]);
    assert.match(server.url, /^https:/);
    const refused = await probeJson([server.url]);
    assert.equal(refused.code, 1);
    assert.equal(refused.report.failed, "connect");
    assert.match(refused.report.steps.connect.summary, /TLS failed/);
    const accepted = await probeJson([server.url, "--insecure", "--send", "x", "--expect-echo"]);
    assert.equal(accepted.code, 0, JSON.stringify(accepted.report, null, 1));
    assert.match(accepted.report.steps.connect.certificate.subject, /CN=localhost/);
    assert.ok(accepted.report.steps.connect.certificate.daysLeft >= 28);
    await server.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a port with nothing listening: exit 2", async () => {
  const port = await new Promise((done) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => done(p));
    });
  });
  const r = await probe([`http://127.0.0.1:${port}/`]);
  assert.equal(r.code, 2);
  assert.match(r.stdout, /UNREACHABLE/);
});

test("bad usage: exit 2", async () => {
  assert.equal((await probe(["ftp://example/"])).code, 2);
  assert.equal((await probe(["http://127.0.0.1:1/", "--transport", "carrier-pigeon"])).code, 2);
  assert.equal((await probe(["http://127.0.0.1:1/", "--header", "no colon"])).code, 2);
});

test("--origin: CORS headers reported for a listed origin, the handshake step fails for another", async () => {
  const server = await start(["--cors-origin", "http://app.example"]);
  const allowed = await probeJson([`${server.url}/engine.io/`, "--origin", "http://app.example", "--timeout", "3000"]);
  assert.equal(allowed.code, 0, JSON.stringify(allowed.report, null, 1));
  assert.deepEqual(allowed.report.steps.handshake.cors, { allowOrigin: "http://app.example", allowCredentials: "true" });
  const refused = await probeJson([`${server.url}/engine.io/`, "--origin", "http://evil.example", "--timeout", "3000"]);
  assert.equal(refused.code, 1);
  assert.equal(refused.report.steps.handshake.result, "fail");
  assert.match(refused.report.steps.handshake.summary, /CORS refuses origin http:\/\/evil\.example/);
});

test("--listen prints what arrives: a broadcast from another client", async () => {
  const server = await start([]);
  const listening = probe([`${server.url}/engine.io/`, "--transport", "websocket", "--listen", "3", "--timeout", "5000"]);
  await new Promise((done) => setTimeout(done, 1000)); // the probe's session is open by now
  const open = await (await fetch(`${server.url}/engine.io/?EIO=4&transport=polling`)).text();
  const sid = JSON.parse(open.slice(1)).sid;
  const sent = await fetch(`${server.url}/engine.io/?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: "4broadcast:hello listeners" });
  assert.equal(sent.status, 200);
  const { code, stdout } = await listening;
  assert.equal(code, 0, stdout);
  assert.match(stdout, /hello listeners/);
});

test("--count: the --send messages go N times, each echo timed; with --listen alone it stops after N messages", async () => {
  const server = await start([]);
  const sent = await probeJson([`${server.url}/engine.io/`, "--send", "a", "--send", "b", "--count", "3", "--expect-echo", "--timeout", "5000"]);
  assert.equal(sent.code, 0, JSON.stringify(sent.report, null, 1));
  const items = sent.report.steps.messages.items;
  assert.equal(items.length, 6);
  assert.ok(items.every((item) => typeof item.rttMs === "number"), JSON.stringify(items));

  // Listen for up to 20 s, but stop after 2 messages: 3 broadcasts are sent.
  const started = Date.now();
  const listening = probeJson([`${server.url}/engine.io/`, "--transport", "websocket", "--listen", "20", "--count", "2", "--timeout", "5000"]);
  await new Promise((done) => setTimeout(done, 1000));
  const sid = JSON.parse((await (await fetch(`${server.url}/engine.io/?EIO=4&transport=polling`)).text()).slice(1)).sid;
  for (const n of [1, 2, 3]) {
    await fetch(`${server.url}/engine.io/?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: `4broadcast:n${n}` });
  }
  const { code, report } = await listening;
  assert.equal(code, 0, JSON.stringify(report, null, 1));
  assert.ok(report.steps.listen.received.length >= 2, JSON.stringify(report.steps.listen));
  assert.deepEqual(report.steps.listen.received.slice(0, 2), ["n1", "n2"]);
  assert.ok(Date.now() - started < 15000, "it stopped at the count, not at --listen");
});

test("the sticky-session cookie is reported; a v3 probe of a v4-only server decodes error 5", async () => {
  const server = await start(["--cookie", "io"]);
  const withCookie = await probeJson([`${server.url}/engine.io/`, "--timeout", "3000"]);
  assert.equal(withCookie.code, 0, JSON.stringify(withCookie.report, null, 1));
  const notes = JSON.stringify(withCookie.report.steps.handshake);
  assert.match(notes, /Set-Cookie: io=[\w-]{20}/, notes);
  const v3 = await probeJson([`${server.url}/engine.io/`, "--eio", "3", "--timeout", "3000"]);
  assert.equal(v3.code, 1);
  assert.equal(v3.report.failed, "handshake");
  assert.match(v3.report.steps.handshake.summary, /Engine\.IO error 5/);
  assert.match(v3.report.steps.handshake.summary, /Unsupported protocol version/);
});

// A proxy in front of `server` that passes polling on and breaks the
// websocket upgrade in one of three ways: "strip" removes the Upgrade header
// and the Upgrade token of Connection, as a proxy without websocket support
// does; "hold" never answers an upgrade request; "mute" passes the handshake
// on (the probe sees its 101) and then drops whatever the client sends, so
// the "2probe" never reaches the server.
async function brokenProxy(server, mode) {
  const sockets = new Set();
  const proxy = net.createServer((client) => {
    const upstream = net.connect(server.port, server.host);
    sockets.add(client).add(upstream);
    let head = "";
    let dropping = false;
    client.on("data", (chunk) => {
      if (dropping) return;
      head += chunk.toString("latin1");
      let end;
      while (!dropping && (end = head.indexOf("\r\n\r\n")) >= 0) {
        let request = head.slice(0, end + 4);
        const body = head.slice(end + 4); // our POSTs are small: all in this chunk
        head = "";
        if (/\r\nupgrade:\s*websocket/i.test(request)) {
          if (mode === "strip") {
            request = request
              .split("\r\n")
              .filter((line) => !/^upgrade:/i.test(line))
              .map((line) => (/^connection:/i.test(line) ? "Connection: keep-alive" : line))
              .join("\r\n");
          } else {
            dropping = true;
            if (mode === "hold") break;
          }
        }
        upstream.write(request + body, "latin1");
      }
    });
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop);
    upstream.on("error", drop);
  });
  await new Promise((done) => proxy.listen(0, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${proxy.address().port}/`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((done) => proxy.close(done));
    },
  };
}

test("a proxy that drops the Upgrade header: the upgrade step fails and names the proxy", async () => {
  const server = await start([]);
  const proxy = await brokenProxy(server, "strip");
  try {
    const { code, report } = await probeJson([proxy.url, "--timeout", "3000"]);
    assert.equal(code, 1, JSON.stringify(report, null, 1));
    assert.equal(report.failed, "upgrade");
    assert.equal(report.steps.handshake.result, "pass");
    assert.match(report.steps.upgrade.summary, /websocket refused: 400/);
    assert.ok(report.steps.upgrade.notes.some((n) => /proxy that does not pass "Upgrade: websocket"/.test(n)), report.steps.upgrade.notes);
  } finally {
    await proxy.close();
  }
});

for (const [mode, expected] of [
  ["hold", /^no websocket connection within 2000 ms$/],
  ["mute", /^websocket connected but the probe got no answer within 2000 ms$/],
]) {
  test(`an upgrade that never completes (${mode}): the upgrade step times out, named, and polling goes on`, async () => {
    const server = await start([]);
    const proxy = await brokenProxy(server, mode);
    try {
      const { code, report } = await probeJson([proxy.url, "--timeout", "2000", "--send", "after", "--expect-echo"]);
      assert.equal(code, 1, JSON.stringify(report, null, 1));
      assert.equal(report.failed, "upgrade");
      assert.equal(report.steps.handshake.result, "pass");
      assert.match(report.steps.upgrade.summary, expected);
      // The session stayed on polling: the message still came back.
      assert.equal(report.steps.messages.result, "pass", JSON.stringify(report.steps.messages));
    } finally {
      await proxy.close();
    }
  });
}
