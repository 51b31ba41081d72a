#!/usr/bin/env bash
# Line coverage of libs/ reached by the committed fuzz corpora, with gcov.
#
#   cmake -S . -B build-cov -G Ninja -DCMAKE_BUILD_TYPE=Debug \
#     -DCMAKE_CXX_FLAGS="--coverage -O0" -DCMAKE_EXE_LINKER_FLAGS=--coverage \
#     -DEIO_BUILD_TESTS=OFF -DEIO_BUILD_TOOLS=OFF -DEIO_BUILD_BENCH=OFF -DEIO_BUILD_FUZZ=ON
#   cmake --build build-cov --target <every fuzz_*_replay>
#   fuzz/coverage.sh build-cov
#
# Runs every fuzz_<target>_replay on fuzz/corpus/<target>, then prints, per
# source file of libs/ that the replays compile, the lines executed, and a
# total per library. gcc and gcov only (no gcovr, no lcov).
set -euo pipefail
build=${1:?usage: fuzz/coverage.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)

find "$build" -name '*.gcda' -delete
for replay in "$build"/fuzz/fuzz_*_replay; do
  target=$(basename "$replay")
  target=${target#fuzz_}
  target=${target%_replay}
  "$replay" "$root/fuzz/corpus/$target" >/dev/null 2>&1
done

# gcov -n: print the summary, write no .gcov files. Each object file that
# compiled a libs/ source is summarised once; its counts already add up
# every executable that linked it.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
find "$build" -name '*.gcda' | while read -r gcda; do
  (cd "$work" && gcov -n -o "$(dirname "$gcda")" "$gcda" 2>/dev/null) || true
done | awk -v root="$root/" '
  /^File / { file = $2; gsub(/\047/, "", file); next }
  /^Lines executed:/ && file != "" {
    split($2, a, ":"); pct = a[2]; sub(/%/, "", pct); n = $4
    if (index(file, root "libs/") == 1) {
      rel = substr(file, length(root) + 1)
      if (!(rel in total) || n * pct > hit[rel] * 100) { total[rel] = n; hit[rel] = n * pct / 100 }
    }
    file = ""
  }
  END {
    for (f in total) {
      printf "%-52s %6.1f%% of %5d lines\n", f, 100 * hit[f] / total[f], total[f]
      split(f, p, "/"); lib = p[2]; lt[lib] += total[f]; lh[lib] += hit[f]
    }
    for (l in lt) printf "TOTAL libs/%-41s %6.1f%% of %5d lines\n", l, 100 * lh[l] / lt[l], lt[l]
  }' | sort
