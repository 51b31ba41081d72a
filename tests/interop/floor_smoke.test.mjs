// eio_floor_server (benchmarks/floor), the "least a server can do" peer of
// benchmarks/compare, must serve what the comparison asks of it: the
// WebSocket echo of cases 1-3 byte for byte, the fanout of case 6 without a
// loss, with each way of waiting it was built with. A comparison against a
// floor that drops or garbles messages would flatter the floor.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bench, cleanBench, serve } from "./serve_helper.mjs";

const floor = process.env.EIO_FLOOR_SERVER;
if (!floor) throw new Error("EIO_FLOOR_SERVER must name the eio_floor_server binary");
const ways = ["epoll", ...(process.env.EIO_FLOOR_URING === "1" ? ["uring"] : [])];

for (const io of ways) {
  test(`--io ${io}: text and binary echoes verified, fanout loses nothing, polling refused`, async () => {
    const server = await serve(["--io", io], { program: floor });
    try {
      const text = await bench(server.url, ["-c", "8", "-w", "4", "-s", "32"], 1);
      cleanBench(text);
      assert.equal(text.report.sessions_alive, 8);
      assert.ok(text.report.messages > 0);
      assert.equal(text.report.bytes, text.report.messages * 32);

      const binary = await bench(server.url, ["-c", "4", "-w", "2", "-s", "65536", "--binary"], 1);
      cleanBench(binary);
      assert.ok(binary.report.messages > 0);
      assert.equal(binary.report.bytes, binary.report.messages * 65536);

      const fanout = await bench(server.url, ["--mode", "fanout", "-c", "50", "-s", "64", "--rate", "20"], 1);
      cleanBench(fanout);
      assert.ok(fanout.report.broadcasts > 0);
      assert.equal(fanout.report.messages, fanout.report.broadcasts * 50);
      assert.equal(fanout.report.lost, 0);

      // Not an Engine.IO server: anything but a direct WebSocket is refused.
      const polling = await fetch(`${server.url}/engine.io/?EIO=4&transport=polling`);
      assert.equal(polling.status, 400);
    } finally {
      await server.stop();
    }
  });
}
