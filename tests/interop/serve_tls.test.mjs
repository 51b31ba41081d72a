// `eiotool serve --tls-cert --tls-key`: the official client over https://
// and wss:// to a self-signed certificate made here with the openssl CLI.
// The client trusts it through `ca`; without it the connection must fail,
// which shows the TLS is real, not a plain socket on another port.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Socket } from "engine.io-client";
import { serve, echo } from "./serve_helper.mjs";

let dir;
let certificate;
let server;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "eio-tls-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ], { stdio: "ignore" });
  certificate = readFileSync(join(dir, "cert.pem"));
  server = await serve(["--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem"), "--threads", "2"]);
});

after(async () => {
  if (server) assert.equal(await server.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

const asBytes = (m) => (typeof m === "string" ? m : Array.from(new Uint8Array(m)));

async function tlsEcho(options, messages) {
  const { got, transport } = await echo(server.url, options, messages, { timeout: 10000 });
  return { got: got.map(asBytes), transport };
}

test("the server says https:// in the URL it prints", () => {
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
});

const big = "é".repeat(40000); // several TLS records
const messages = ["héllo over TLS", new Uint8Array([0, 1, 254, 255]), big];
const expected = messages.map((m) => (typeof m === "string" ? m : Array.from(m)));

for (const transports of [["polling"], ["websocket"]]) {
  test(`engine.io-client 6 over ${transports[0] === "polling" ? "https" : "wss"}: echoes byte-identical`, async () => {
    const { got, transport } = await tlsEcho({ transports, ca: certificate }, messages);
    assert.deepEqual(got, expected);
    assert.equal(transport, transports[0]);
  });
}

test("engine.io-client 6 upgrades https polling to wss", async () => {
  const upgraded = await new Promise((resolve, reject) => {
    const socket = new Socket(server.url, { ca: certificate });
    const timer = setTimeout(() => reject(new Error("no upgrade")), 10000);
    socket.on("upgrade", () => {
      socket.send("after upgrade");
    });
    socket.on("message", (m) => {
      clearTimeout(timer);
      const name = socket.transport.name;
      socket.close();
      resolve({ m, name });
    });
    socket.on("error", reject);
  });
  assert.deepEqual(upgraded, { m: "after upgrade", name: "websocket" });
});

test("a client that does not trust the certificate cannot connect", async () => {
  await assert.rejects(tlsEcho({ transports: ["polling"] }, ["x"]), (e) => {
    assert.equal(e.type, "TransportError");
    return true;
  });
});

test("plain HTTP on the TLS port is dropped without harm to the server", async () => {
  const answer = await new Promise((resolve) => {
    const socket = net.connect(server.port, "127.0.0.1", () =>
      socket.write("GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    let data = "";
    socket.on("data", (d) => (data += d.toString("latin1")));
    socket.on("close", () => resolve(data));
    socket.on("error", () => resolve(data));
    setTimeout(() => socket.destroy(), 5000);
  });
  assert.doesNotMatch(answer, /^HTTP\/1\.1 200/);
  const { got } = await tlsEcho({ transports: ["websocket"], ca: certificate }, ["still serving"]);
  assert.deepEqual(got, ["still serving"]);
});
