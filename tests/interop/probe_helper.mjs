// `eiotool probe` for the Node tests (EIO_EIOTOOL names the binary):
//   await probe(args)       { code, stdout, stderr }
//   await probeJson(args)   { code, report }: with --json, the report parsed (a
//                           test fails when it printed no JSON)
import assert from "node:assert/strict";
import { execFile } from "node:child_process";

const eiotool = process.env.EIO_EIOTOOL;
if (!eiotool) throw new Error("EIO_EIOTOOL must name the eiotool binary");

// Runs `eiotool probe ...args`; resolves with { code, stdout, stderr }.
export function probe(args, timeout = 60000) {
  return new Promise((resolve) => {
    execFile(eiotool, ["probe", ...args], { timeout }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

export async function probeJson(args) {
  const r = await probe([...args, "--json"]);
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    assert.fail(`probe printed no JSON (exit ${r.code}): ${r.stdout}${r.stderr}`);
  }
  return { code: r.code, report };
}
