// Starts a server binary that prints "port N" once listening and stops on
// SIGTERM (the examples of examples/): resolves with its URL, host, port and
// stop(), which resolves with its exit code.
import { spawn } from "node:child_process";

export function startServer(binary, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise((done) => child.on("close", (code, signal) => done(signal ?? code)));
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${binary} did not start`)), 10000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const m = /port (\d+)\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: `http://127.0.0.1:${m[1]}`,
        host: "127.0.0.1",
        port: Number(m[1]),
        stop: () => {
          child.kill("SIGTERM");
          return exited;
        },
      });
    });
    child.on("error", reject);
  });
}
