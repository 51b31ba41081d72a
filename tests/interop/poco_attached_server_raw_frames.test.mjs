// Way B's raw bad-frame tests: the same cases as way A's
// (serve_raw_frames.test.mjs, from raw_frames.mjs) against
// eio::poco_attached_server on a Poco HTTPServer
// (examples/attached_echo.cpp, its path in EIO_POCO_HANDLER_ECHO).
// Both adapters read frames with eio::websocket::frame_reader, so every
// case must close its own connection with the same code, while an official
// client next to it keeps working.
import { test } from "node:test";
import assert from "node:assert/strict";
import { badFrameCases, closeCodeFor, closeFrameFor, fragmentFlood, healthyClient } from "./raw_frames.mjs";
import { startServer } from "./spawn_server.mjs";

assert.ok(process.env.EIO_POCO_HANDLER_ECHO, "EIO_POCO_HANDLER_ECHO must name the echo server binary");

const start = (args) => startServer(process.env.EIO_POCO_HANDLER_ECHO, ["--port", "0", ...args]);

test("way B: bad frames close their own connection with way A's codes; a healthy session is unaffected", async () => {
  const server = await start(["--max-payload", "1000"]);
  try {
    const { healthy, echo } = await healthyClient(server);
    assert.equal(await echo("before"), "before");
    for (const [name, bytes, code] of badFrameCases()) {
      assert.equal(await closeCodeFor(server, bytes), code, name);
      assert.equal(await echo(`after ${name}`), `after ${name}`);
    }
    healthy.close();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test("way B: a message in more than 1,024 fragments closes with 1009 and way A's reason", async () => {
  const server = await start([]);
  try {
    const { healthy, echo } = await healthyClient(server);
    assert.deepEqual(await closeFrameFor(server, fragmentFlood()), { code: 1009, reason: "message in more than 1024 fragments" });
    assert.equal(await echo("after the flood"), "after the flood");
    healthy.close();
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
