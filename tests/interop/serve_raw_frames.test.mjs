// Bad bytes against a live `eiotool serve`: bad WebSocket frames must end
// their own connection with the right close code (RFC 6455 section 7.4.1)
// while a healthy official client next to it keeps working; connection
// floods and streams behind a held poll are bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { Socket } from "engine.io-client";
import { serve } from "./serve_helper.mjs";
import {
  badFrameCases,
  closeCodeFor,
  closeFrameFor,
  fragmentFlood,
  frame,
  healthyClient,
  rawWebSocket,
  upgradeHead,
} from "./raw_frames.mjs";

test("bad frames close their own connection with the right code; a healthy session is unaffected", async () => {
  const server = await serve(["--max-payload", "1000"]);
  try {
    const { healthy, echo } = await healthyClient(server);
    assert.equal(await echo("before"), "before");

    const cases = badFrameCases();
    for (const [name, bytes, code] of cases) {
      assert.equal(await closeCodeFor(server, bytes), code, name);
      assert.equal(await echo(`after ${name}`), `after ${name}`);
    }
    healthy.close();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("a message in more than 1,024 fragments closes with 1009; a healthy session is unaffected", async () => {
  const server = await serve([]); // the default max payload (1e6): only the fragment count is over
  try {
    const { healthy, echo } = await healthyClient(server);
    assert.equal(await echo("before"), "before");
    assert.deepEqual(await closeFrameFor(server, fragmentFlood()), { code: 1009, reason: "message in more than 1024 fragments" });
    assert.equal(await echo("after the flood"), "after the flood");
    healthy.close();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("bytes streamed behind a held poll are bounded: the connection is dropped", async () => {
  const server = await serve(["--max-payload", "1000"]);
  try {
    const open = await (await fetch(`http://${server.host}:${server.port}/engine.io/?EIO=4&transport=polling`)).text();
    const sid = JSON.parse(open.slice(1)).sid;
    const closed = await new Promise((resolve, reject) => {
      const socket = net.connect(server.port, server.host, () => {
        socket.write(`GET /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n\r\n`);
        socket.write(Buffer.alloc(3 * 1024 * 1024, 0x61)); // far past headers + max payload
      });
      socket.on("close", () => resolve(true));
      socket.on("error", () => {});
      setTimeout(() => reject(new Error("the connection stayed open")), 10000);
    });
    assert.equal(closed, true);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

// Sends raw bytes on a new connection; resolves with everything the server
// wrote before it closed (or what came within `wait` ms).
function rawExchange(server, bytes, wait = 5000) {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, server.host, () => bytes && socket.write(bytes));
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closed: false });
    }, wait);
    socket.on("data", (d) => (data += d.toString("latin1")));
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
    socket.on("error", () => {});
  });
}

// Whether `data` holds a whole HTTP response: its head and Content-Length
// bytes of body.
function wholeResponse(data) {
  const end = data.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)\r\n/i.exec(data.slice(0, end + 2));
  return length !== null && data.length >= end + 4 + Number(length[1]);
}

// Sends a request `head`, then its body through `feed(socket, answered)`,
// as a client would that sends a large body and reads the answer once it
// comes (with { readAfterSending }: only once it has sent everything, as
// clients that send first and then read do; feed calls done() then).
// Resolves with { data, error }: what came before the answer was whole, and
// the socket error (ECONNRESET, EPIPE; "closed" for an end without a whole
// answer; null when the answer came whole).
function sendAndReadAnswer(server, head, feed, { readAfterSending = false } = {}) {
  return new Promise((resolve) => {
    let data = "";
    let finished = false;
    const finish = (error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, error });
    };
    const timer = setTimeout(() => finish("timeout"), 15000);
    const socket = net.connect(server.port, server.host, () => {
      if (readAfterSending) socket.pause();
      socket.write(head);
      feed(socket, () => finished, () => socket.resume());
    });
    socket.on("data", (chunk) => {
      data += chunk.toString("latin1");
      if (wholeResponse(data)) finish(null);
    });
    socket.on("error", (e) => finish(e.code));
    socket.on("close", () => finish("closed"));
  });
}

// RFC 9112 section 9.6 and nginx's lingering_close: a server that answers
// and closes while the client is still sending must not close with unread
// input (the kernel would answer it with a reset that destroys the answer
// in flight): it shuts down its side, then reads and drops what comes, for
// a bounded time and byte count.
test("a POST body over the limit gets a whole 413, not a reset: all at once, chunked, and trickled", async () => {
  const server = await serve(["--max-payload", "1000"]);
  try {
    const post = async (fields, feed, options) => {
      const open = await (await fetch(`${server.url}/engine.io/?EIO=4&transport=polling`)).text();
      const sid = JSON.parse(open.slice(1)).sid;
      const head = `POST /engine.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\nHost: x\r\n` +
        `Content-Type: text/plain;charset=UTF-8\r\n${fields}\r\n`;
      return sendAndReadAnswer(server, head, feed, options);
    };
    const assert413 = ({ data, error }, name) => {
      assert.equal(error, null, `${name}: ${error} after ${JSON.stringify(data.slice(0, 60))}`);
      assert.match(data, /^HTTP\/1\.1 413 /, name);
      assert.match(data, /\r\nConnection: close\r\n/i, name);
    };
    // Writes `pieces` one after the other, each once the socket took the last
    // and what came meanwhile was read (as a streaming upload does), until
    // the answer came.
    const stream = (pieces) => (socket, finished) => {
      let i = 0;
      const next = () => {
        if (!finished() && i < pieces.length) socket.write(pieces[i++], () => setImmediate(next));
      };
      next();
    };
    // (a) A 100 MB body announced. All at once: 8 MiB of it in one write
    // (the server refuses it at the head; before lingering it also dropped
    // the connection before its answer, for the bytes behind the refused
    // request). Then streamed as fast as the socket takes it, 8 MiB in 64 KiB
    // writes, read as it goes.
    const large = "Content-Length: 100000000\r\n";
    assert413(await post(large, (socket) => socket.write(Buffer.alloc(8 << 20, 0x61))), "at once");
    assert413(await post(large, stream(Array(128).fill(Buffer.alloc(64 << 10, 0x61)))), "streamed");
    // (b) Chunked, 64 KiB chunks: over the limit at the first chunk size.
    // 128 in one write, then 128 streamed.
    const chunk = Buffer.concat([Buffer.from("10000\r\n"), Buffer.alloc(0x10000, 0x61), Buffer.from("\r\n")]);
    const chunked = "Transfer-Encoding: chunked\r\n";
    assert413(await post(chunked, (socket) => socket.write(Buffer.concat(Array(128).fill(chunk)))), "chunked at once");
    assert413(await post(chunked, stream(Array(128).fill(chunk))), "chunked, streamed");
    // (c) 200 one-byte segments a millisecond apart, the answer read once
    // they are sent: every segment after the answer reaches a server that
    // has closed its side but still reads.
    assert413(
      await post(
        "Content-Length: 100000000\r\n",
        (socket, finished, done) => {
          let left = 200;
          const next = () => {
            if (finished()) return;
            if (left-- === 0) return done();
            socket.write("a", () => setTimeout(next, 1));
          };
          next();
        },
        { readAfterSending: true },
      ),
      "trickled",
    );
    const still = await (await fetch(`${server.url}/engine.io/?EIO=4&transport=polling`)).text();
    assert.match(still, /^0\{"sid"/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("past --max-connections a new connection gets 503 and is closed; the others keep working", async () => {
  const server = await serve(["--max-connections", "3", "--threads", "2"]);
  try {
    const held = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise((resolve) => {
            const socket = net.connect(server.port, server.host, () => resolve(socket));
          }),
      ),
    );
    await new Promise((done) => setTimeout(done, 200)); // accepted by now
    const refused = await rawExchange(server, null);
    assert.equal(refused.closed, true);
    assert.match(refused.data, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(refused.data, /Too many connections$/);
    // A held connection still gets an answer.
    const answer = await new Promise((resolve) => {
      let data = "";
      held[0].on("data", (d) => {
        data += d;
        if (data.includes("\r\n\r\n0{")) resolve(data);
      });
      held[0].write("GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n");
    });
    assert.match(answer, /^HTTP\/1\.1 200 OK/);
    for (const socket of held) socket.destroy();
    await new Promise((done) => setTimeout(done, 200));
    // Room again once they are gone.
    const again = await (await fetch(`${server.url}/engine.io/?EIO=4&transport=polling`)).text();
    assert.match(again, /^0\{"sid"/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("malformed requests get their status and the connection closes", async () => {
  const server = await serve([]);
  try {
    const cases = [
      ["obs-fold", "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400],
      ["Content-Length with chunked", "POST /engine.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
      ["gzip transfer coding", "POST /engine.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501],
      ["head over 16 KiB", `GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nX-Big: ${"a".repeat(17000)}\r\n\r\n`, 431],
      ["101 header fields", `GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n${"X: y\r\n".repeat(101)}\r\n`, 431],
      ["HTTP/2.0 request line", "GET /engine.io/?EIO=4&transport=polling HTTP/2.0\r\nHost: x\r\n\r\n", 505],
      // RFC 9112 section 3.2.
      ["HTTP/1.1 without Host", "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n", 400, /Host header$/],
      ["two Host fields", "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, /more than one Host header$/],
      ["POST without Host", "POST /engine.io/?EIO=4&transport=polling&sid=x HTTP/1.1\r\nContent-Length: 2\r\n\r\n4x", 400, /Host header$/],
    ];
    for (const [name, bytes, status, body] of cases) {
      const { data, closed } = await rawExchange(server, bytes);
      assert.match(data, new RegExp(`^HTTP/1\\.1 ${status} `), name);
      if (body) assert.match(data, body, name);
      assert.equal(closed, true, name);
    }
    // HTTP/1.0 needs no Host: served (and closed, as HTTP/1.0 without keep-alive is).
    const old = await rawExchange(server, "GET /engine.io/?EIO=4&transport=polling HTTP/1.0\r\n\r\n");
    assert.match(old.data, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n0\{"sid"/);
    assert.equal(old.closed, true);
    const still = await (await fetch(`${server.url}/engine.io/?EIO=4&transport=polling`)).text();
    assert.match(still, /^0\{"sid"/);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("an upgrade packet and a close frame in one write: the debug log names the session in both lines", async () => {
  const server = await serve(["--log-level", "debug"], { quiet: false });
  try {
    const open = await (await fetch(`${server.url}/engine.io/?EIO=4&transport=polling`)).text();
    const sid = JSON.parse(open.slice(1)).sid;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no 3probe")), 10000);
      rawWebSocket(server, `EIO=4&transport=websocket&sid=${sid}`, {
        upgraded: (socket) => socket.write(frame(0x81, "2probe")),
        data: (buffer, socket) => {
          if (!buffer.includes("3probe")) return buffer;
          clearTimeout(timer);
          // One write: the core sees the upgrade and the close before the
          // application sees either.
          socket.write(Buffer.concat([frame(0x81, "5"), frame(0x88, Buffer.from([0x03, 0xe8]))]));
          socket.end();
          resolve();
          return Buffer.alloc(0);
        },
      });
    });
    await server.waitForLine(new RegExp(`^close ${sid}: `));
    const lines = server.lines();
    assert.ok(lines.includes(`upgrade ${sid} websocket`), lines.join("\n"));
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("a WebSocket handshake and a close frame in one write: the log names the session's open and close", async () => {
  const server = await serve(["--log-level", "info"], { quiet: false });
  try {
    const socket = net.connect(server.port, server.host, () =>
      socket.write(
        Buffer.concat([Buffer.from(upgradeHead("EIO=4&transport=websocket")), frame(0x88, Buffer.from([0x03, 0xe8]))]),
      ),
    );
    socket.on("error", () => {});
    const close = await server.waitForLine(/^close /);
    socket.destroy();
    const sid = close.match(/^close (\S+):/)[1];
    assert.match(sid, /^[A-Za-z0-9_-]{20}$/);
    const lines = server.lines();
    assert.ok(lines.includes(`open ${sid} websocket v4`), lines.join("\n"));
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
