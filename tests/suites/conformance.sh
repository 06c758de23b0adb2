#!/usr/bin/env bash
# The conformance suite inside `make test`: first the compare tool's own checks (it must be
# able to fail), then one TAP line per case of tests/conformance/cases.tsv — but only once
# `tightrope simulate` exists; until then the cases print nothing.
. "$(dirname "$0")/../lib.sh"
CMP=$BUILD/tools/csvcompare
T=$(mktemp -d)
trap 'rm -rf "$T" /tmp/tr_suite_out.$$' EXIT

# expected: Vensim .tab, CR-only lines, quoted array header, blank constant cells
printf 'Time\tStock\t"Two Dims[A, d]"\tConst\thares.hare density\r0\t1\t10\t5\t0\r1\t2\t20\t\t0\r2\t4\t40\t\t1e-7\r' >"$T/exp.tab"
printf 'Time,stock,"two_dims[a,D]",const,hares.hare_density\n0,1,10,5,0\n1,2,20.0015,5,5e-7\n2,4,40,5,0\n' >"$T/ok.csv"
check_status "csvcompare: canonical headers, CR-only .tab, blanks, 1e-4 rel, 1e-6 floor" 0 \
  "$CMP" "$T/exp.tab" "$T/ok.csv"
printf 'Time,stock,"two_dims[a,D]",const,hares.hare_density\r\n0,1,10,5,0\r\n1,2.001,20,5,0\r\n2,4,40,5,3e-6\r\n' >"$T/bad.csv"
check_status "csvcompare: a relative error of 5e-4 fails" 1 "$CMP" "$T/exp.tab" "$T/bad.csv"
check_output "csvcompare: reports column, time, expected and got" \
  "mismatch: 'Stock' at time 1: expected 2, got 2.001" "$CMP" "$T/exp.tab" "$T/bad.csv"
check_output "csvcompare: the absolute floor is 1e-6" \
  "mismatch: 'hares.hare density' at time 2: expected 1e-07, got 3e-06" \
  "$CMP" "$T/exp.tab" "$T/bad.csv"
printf 'Time,stock,const,hares.hare_density\n0,1,5,0\n1,2,5,0\n2,4,5,0\n' >"$T/missing.csv"
check_output "csvcompare: a missing column fails" "^missing column: '\"?Two Dims\[A, d\]\"?'" \
  "$CMP" "$T/exp.tab" "$T/missing.csv"
check_status "csvcompare: --ignore leaves a column out" 0 \
  "$CMP" --ignore 'Two Dims[A,D]' "$T/exp.tab" "$T/missing.csv"
check_status "csvcompare: --optional skips a column we lack" 0 \
  "$CMP" --optional 'Two Dims[A,D]' "$T/exp.tab" "$T/missing.csv"
check_status "csvcompare: --optional still checks a column we have" 1 \
  "$CMP" --optional 'Stock' "$T/exp.tab" "$T/bad.csv"
printf 'Time,stock,"two_dims[a,D]",const,hares.hare_density\n0,1,10,5,0\n' >"$T/short.csv"
check_output "csvcompare: a missing time fails" "missing time: 2" "$CMP" "$T/exp.tab" "$T/short.csv"
printf 'Time,Stock\n0,1\n1,abc\n' >"$T/nan.csv"
check_status "csvcompare: a non-number is bad input" 2 "$CMP" "$T/nan.csv" "$T/ok.csv"
check_status "csvcompare: a missing file is bad input" 2 "$CMP" "$T/exp.tab" "$T/nosuch.csv"
check_status "csvcompare: usage" 2 "$CMP" "$T/exp.tab"

if "$TR" simulate --help >/dev/null 2>&1; then
  bash "$(dirname "$0")/../conformance.sh" --tap
fi
