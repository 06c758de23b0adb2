#!/usr/bin/env bash
# Fuzz regressions: every fuzz target of tests/fuzz/, linked with tests/fuzz/replay.c (no
# clang needed; built by `make all` into $BUILD/fuzz-replay/), replays its committed corpus
# tests/fuzz/corpus/<target>/ — seeds plus every crash file the fuzzers found (crash-*) —
# so a fixed crash stays fixed. Under `make asan` the replays run with ASan + UBSan + LSan.
cd "$(dirname "$0")/../.."
. tests/lib.sh
for src in tests/fuzz/fuzz_*.c; do
  t=$(basename "$src" .c)
  bin=$BUILD/fuzz-replay/$t
  corpus=tests/fuzz/corpus/${t#fuzz_}
  if [ ! -x "$bin" ]; then
    not_ok "$t: $bin not built"
    continue
  fi
  n=$(find "$corpus" -type f | wc -l)
  if [ "$n" -lt 5 ]; then
    not_ok "$t: corpus $corpus has only $n inputs"
    continue
  fi
  if "$bin" "$corpus" >/tmp/tr_fuzz_regress.$$ 2>&1; then
    ok "$t replays its $n corpus inputs"
  else
    not_ok "$t: replay of $corpus failed"
    tail -15 /tmp/tr_fuzz_regress.$$ | sed 's/^/# /'
  fi
  for crash in "$corpus"/crash-*; do
    [ -f "$crash" ] || continue
    check_status "$t: $(basename "$crash") no longer crashes" 0 "$bin" "$crash"
  done
done
rm -f /tmp/tr_fuzz_regress.$$
