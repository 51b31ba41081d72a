#!/usr/bin/env python3
"""eio's parser against the official JS parser and memcpy, as a markdown table.

Builds nothing: give it the eio_parser_bench binary (a Release build). It runs
that with --benchmark_format=json and benchmarks/js/parser_bench.js --json
(Node, with `npm ci` done at the repository root), checks that both measured
the same input bytes (FNV-1a digests), and prints one row per case:

  case | eio | official JS | JS parser only | memcpy | eio/JS | memcpy/eio

"official JS" is bytes in, bytes out like eio (see parser_bench.js); "JS
parser only" leaves out the UTF-8 conversion of text. memcpy is of the same
number of bytes, from the same C++ run. Then it checks the targets:
eio >= 10x official JS on every case, and v4 text-payload decode within 4x
of memcpy.

Usage: benchmarks/compare_parser.py BENCH_BINARY [--js-time SECONDS]
           [--node NODE] [--save-json DIR] [-- extra args for the C++ binary]
Standard library only.
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
JS_BENCH = os.path.join(HERE, "js", "parser_bench.js")

JS_TARGET = 10.0      # eio / official JS, every case
MEMCPY_TARGET = 4.0   # memcpy / eio, v4 text-payload decode
V4_TEXT_PAYLOAD_DECODE = ("decode/v4_payload", "decode/v4_polling_text")


def run_json(command):
    print("running: " + " ".join(command), file=sys.stderr)
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def cpp_results(report):
    """name -> (bytes/s, wire bytes), in run order; the median when repeated."""
    results, medians = {}, {}
    for b in report["benchmarks"]:
        if b.get("error_occurred"):
            sys.exit(f"compare_parser: {b['name']}: {b.get('error_message')}")
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = (b["bytes_per_second"], int(b["wire_bytes"]))
        elif name not in results:
            results[name] = (b["bytes_per_second"], int(b["wire_bytes"]))
    results.update(medians)
    return results


def cpp_digests(report):
    digests = {}
    for key, value in report.get("context", {}).items():
        m = re.fullmatch(r"input (\S+)", key)
        v = re.fullmatch(r"(\d+) bytes fnv1a ([0-9a-f]{8})", str(value))
        if m and v:
            digests[m.group(1)] = (int(v.group(1)), v.group(2))
    return digests


def rate(bps):
    for unit, scale in (("TB/s", 1e12), ("GB/s", 1e9), ("MB/s", 1e6), ("kB/s", 1e3)):
        if bps >= scale:
            return f"{bps / scale:.3g} {unit}"
    return f"{bps:.3g} B/s"


def ratio(x):
    return f"{x:.3g}x" if x < 1000 else f"{x:.0f}x"


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench_binary")
    parser.add_argument("--js-time", default="1.0", help="seconds per JS case (default 1)")
    parser.add_argument("--node", default="node")
    parser.add_argument("--save-json", metavar="DIR", help="also keep both raw JSON reports here")
    args = parser.parse_args(argv)

    cpp = run_json([args.bench_binary, "--benchmark_format=json"] + extra)
    js = run_json([args.node, JS_BENCH, "--json", "--time", args.js_time])
    if args.save_json:
        os.makedirs(args.save_json, exist_ok=True)
        for name, report in (("eio.json", cpp), ("js.json", js)):
            with open(os.path.join(args.save_json, name), "w") as f:
                json.dump(report, f, indent=2)

    # Same bytes on both sides, or the comparison means nothing.
    ours = cpp_digests(cpp)
    theirs = {name: (v["wire_bytes"], v["fnv1a"]) for name, v in js["inputs"].items()}
    if not ours:
        sys.exit("compare_parser: the C++ report names no inputs")
    for name, digest in ours.items():
        if theirs.get(name) != digest:
            sys.exit(f"compare_parser: input {name} differs: eio {digest}, JS {theirs.get(name)}")

    results = cpp_results(cpp)
    memcpy = {size: bps for name, (bps, size) in results.items() if name.startswith("memcpy/")}
    js_cases = {c["name"]: c for c in js["cases"]}

    print(f"eio: {os.path.basename(args.bench_binary)}; official JS: engine.io-parser {js['parsers']['v4']} (v4), "
          f"{js['parsers']['v3']} (v3) on Node {js['node']}\n")
    print("| case | wire bytes | eio | official JS | JS parser only | memcpy | eio/JS | memcpy/eio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    missed_js, memcpy_checks = [], []
    for name, (bps, size) in results.items():
        if name.startswith("memcpy/"):
            continue
        # encode_zero_copy/X (layout_frame) does what the JS encode/X does for a
        # binary frame: hand back the data itself.
        j = js_cases.get(name) or js_cases.get(name.replace("encode_zero_copy/", "encode/", 1))
        m = memcpy.get(size)
        vs_js = bps / j["bytes_per_second"] if j else None
        vs_memcpy = m / bps if m else None
        print(f"| {name} | {size} | {rate(bps)} | {rate(j['bytes_per_second']) if j else '-'} "
              f"| {rate(j['parser_only_bytes_per_second']) if j else '-'} | {rate(m) if m else '-'} "
              f"| {ratio(vs_js) if vs_js else '-'} | {ratio(vs_memcpy) if vs_memcpy else '-'} |")
        if vs_js is not None and vs_js < JS_TARGET:
            missed_js.append((name, vs_js))
        if name.startswith(V4_TEXT_PAYLOAD_DECODE) and vs_memcpy is not None:
            memcpy_checks.append((name, vs_memcpy))

    print()
    if missed_js:
        print(f"Target eio >= {JS_TARGET:g}x official JS: NOT met on " +
              ", ".join(f"{n} ({ratio(r)})" for n, r in missed_js))
    else:
        print(f"Target eio >= {JS_TARGET:g}x official JS: met on every case")
    for name, r in memcpy_checks:
        verdict = "met" if r <= MEMCPY_TARGET else "NOT met"
        print(f"Target {name} within {MEMCPY_TARGET:g}x of memcpy: {verdict} ({ratio(r)} slower than memcpy)")


if __name__ == "__main__":
    main()
