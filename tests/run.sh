#!/usr/bin/env bash
# The one test runner: every cmocka program in $BUILD/tests, every suite script in
# tests/suites/*.sh (each prints TAP lines), and the conformance suite. Counts every "ok" /
# "not ok" line; a program that dies without reporting counts as one failure, and so does one
# that runs longer than $TEST_TIMEOUT seconds (default 900: a hang fails, it does not stall CI).
# Ends with the plain line "N passed, N failed"; exits 1 on any failure.
set -u
BUILD=${BUILD:-build}
export BUILD
cd "$(dirname "$0")/.."
mkdir -p "$BUILD/test-logs"
passed=0
failed=0
failures=()

run_tap() { # name, command...
  local name=$1; shift
  local log="$BUILD/test-logs/$name.log"
  CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "${TEST_TIMEOUT:-900}" "$@" >"$log" 2>&1
  local rc=$?
  [ "$rc" -eq 124 ] && echo "not ok - $name timed out after ${TEST_TIMEOUT:-900} s" >>"$log"
  local p f
  p=$(grep -cE '^ok ' "$log")
  f=$(grep -cE '^not ok ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    echo "not ok - $name exited with status $rc" >>"$log"
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$f" -gt 0 ]; then
    failures+=("$name")
    printf '%-40s %4d passed %4d FAILED  (log: %s)\n' "$name" "$p" "$f" "$log"
    grep -E '^not ok|^# ' "$log" | head -20 | sed 's/^/    /'
  else
    printf '%-40s %4d passed\n' "$name" "$p"
  fi
}

for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  run_tap "$(basename "$t")" "$t"
done
for s in tests/suites/*.sh; do
  [ -f "$s" ] || continue
  run_tap "suite-$(basename "$s" .sh)" bash "$s"
done

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
