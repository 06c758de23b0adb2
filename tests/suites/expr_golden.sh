#!/usr/bin/env bash
# The equation parser's golden file (tests/golden/expr.test): one TAP line per case, printed
# by build/tools/exprgolden, which also checks that every canonical form reads back to itself.
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
tool="$BUILD/tools/exprgolden"
if [ ! -x "$tool" ]; then
  echo "not ok 1 - $tool is missing (run make)"
  exit 1
fi
for f in tests/golden/expr*.test; do
  "$tool" "$f"
done
