#!/usr/bin/env bash
# Resource limits (issue 8, docs/limits.md): inputs far past what a business model needs are
# refused with a message naming the limit (exit 2), or handled, within bounded memory and a
# few seconds — never by exhausting the machine. Memory is capped with `ulimit -v` (skipped
# in sanitizer builds, whose shadow memory needs terabytes of address space); each check
# is also bounded in time.
cd "$(dirname "$0")/../.."
. tests/lib.sh
W=$(mktemp -d /tmp/tr_limits.XXXXXX)
trap 'rm -rf "$W" /tmp/tr_suite_out.$$' EXIT
SAN=0
ldd "$TR" 2>/dev/null | grep -q 'libasan' && SAN=1

# capped KB SECONDS CMD...: run CMD under a memory cap (KB of address space) and a time limit.
capped() {
  local kb=$1 secs=$2; shift 2
  if [ "$SAN" = 1 ]; then
    timeout $((secs * 4)) "$@"
  else
    (ulimit -v "$kb"; exec timeout "$secs" "$@")
  fi
}
# limit DESC STATUS PATTERN KB SECONDS CMD...: exit status and a line of output matching.
limit() {
  local desc=$1 want=$2 pat=$3 kb=$4 secs=$5; shift 5
  capped "$kb" "$secs" "$@" >"$W/out" 2>&1
  local got=$?
  if [ "$got" -eq "$want" ] && grep -qE -- "$pat" "$W/out"; then
    ok "$desc"
  else
    not_ok "$desc (exit $got, wanted $want and /$pat/)"
    head -c 600 "$W/out" | sed 's/^/# /'
  fi
}
xmile_head() { # NAME STOP DT
  printf '<?xml version="1.0"?>\n<xmile version="1.0"><header><name>%s</name></header>\n' "$1"
  printf '<sim_specs><start>0</start><stop>%s</stop><dt>%s</dt></sim_specs>\n' "$2" "$3"
}

# ---- a model with a million variables ----------------------------------------------------
# One arrayed auxiliary of 1,000,000 elements: handled (each element is its own variable;
# its equation is one node, as the expansion limit is 2,000,000 nodes).
{ xmile_head million 2 1
  echo '<dimensions><dim name="i" size="1000000"/></dimensions><model><variables>'
  echo '<aux name="x"><dimensions><dim name="i"/></dimensions><eqn>i</eqn></aux>'
  echo '</variables></model></xmile>'; } >"$W/million.xmile"
limit "1,000,000 variables (an array): simulated under 1.5 GB" 0 '^2,1000000,1$' \
  1500000 20 "$TR" simulate --vars 'x[1000000],x[1]' "$W/million.xmile"
# One element more than the limit: refused at once, with the limit in the message.
sed 's/size="1000000"/size="1000001"/' "$W/million.xmile" >"$W/over.xmile"
limit "a dimension of 1,000,001 elements: refused (limit named)" 2 \
  "over the limit of 1000000 elements" 200000 5 "$TR" simulate "$W/over.xmile"
# 1,000,000 elements times several equations: refused by the expansion limit, not by memory.
{ xmile_head wide 2 1
  echo '<dimensions><dim name="i" size="1000000"/></dimensions><model><variables>'
  echo '<aux name="x"><dimensions><dim name="i"/></dimensions><eqn>i</eqn></aux>'
  echo '<aux name="y"><dimensions><dim name="i"/></dimensions><eqn>x * 2 + x / 3</eqn></aux>'
  echo '</variables></model></xmile>'; } >"$W/wide.xmile"
limit "2,000,000 array elements of 6 nodes each: refused (expansion limit)" 2 \
  "model too large once expanded" 1500000 20 "$TR" simulate "$W/wide.xmile"
# A 1 GB model file (sparse: no disk used) is refused by its size before it is read.
cp tests/models/decay_euler.xmile "$W/huge.xmile"
truncate -s 1G "$W/huge.xmile"
limit "a 1 GB model file: refused by size before reading" 2 "the limit is 268435456" \
  200000 5 "$TR" simulate "$W/huge.xmile"

# ---- a 1 GB CSV --------------------------------------------------------------------------
# A sparse 1 GB file: two good rows, then a gigabyte of NUL bytes with no line break. The
# reader holds one row at a time, so it stops at the 1 MiB field limit; nothing is imported.
mkdir -p "$W/ws"
printf 'date,kpi,value\n2024-01,mrr,1\n2024-02,mrr,2\n' >"$W/ws/big.csv"
truncate -s 1G "$W/ws/big.csv"
limit "kpi import of a 1 GB CSV: refused at the 1 MiB field limit in bounded memory" 2 \
  "big.csv:4:1: field longer than 1048576 bytes" 300000 10 \
  "$TR" kpi -w "$W/ws" import "$W/ws/big.csv"
"$TR" kpi -w "$W/ws" list >"$W/out" 2>&1
if grep -q mrr "$W/out"; then not_ok "the refused 1 GB import wrote something"; else
  ok "the refused 1 GB import wrote nothing"; fi
# A header of 200,000 columns (wide format) is refused at the 100,000-fields-per-row limit.
awk 'BEGIN { printf "date"; for (i = 0; i < 200000; i++) printf ",k%d", i; print "" }' \
  >"$W/ws/wide.csv"
limit "a CSV row of 200,001 fields: refused at the field-count limit" 2 "fields" \
  300000 10 "$TR" kpi -w "$W/ws" import --format wide "$W/ws/wide.csv"
# 200,000 good rows (5 MB): imported in one transaction, memory bounded by the row.
awk 'BEGIN { print "date,kpi,value"; for (i = 0; i < 200000; i++)
  printf "%04d-%02d,k%d,%d\n", 2000 + int(i / 2400), int(i / 200) % 12 + 1, i % 200, i }' \
  >"$W/ws/many.csv"
limit "kpi import of 200,000 rows under 300 MB" 0 "200000" 300000 30 \
  "$TR" kpi -w "$W/ws" import "$W/ws/many.csv"

# ---- deeply nested YAML --------------------------------------------------------------------
mkdir -p "$W/y"
python3 -c "print('[' * 1000000 + ']' * 1000000)" >"$W/y/plan.yaml"
limit "plan.yaml nested 1,000,000 deep (flow): refused at 64 levels" 2 \
  "plan.yaml:1:65: nesting deeper than 64 levels" 200000 5 "$TR" scorecard "$W/y"
python3 -c "print('company:\n  ' + '- ' * 100000 + 'x')" >"$W/y/plan.yaml"
limit "plan.yaml nested 100,000 deep (block sequences): refused at 64 levels" 2 \
  "nesting deeper than 64 levels" 200000 5 "$TR" scorecard "$W/y"
python3 -c "
import sys
sys.stdout.write(''.join(' ' * i + 'k%d:\n' % i for i in range(3000)))" >"$W/y/plan.yaml"
limit "plan.yaml indented 3,000 levels (block mappings): refused at 64 levels" 2 \
  "plan.yaml:65:65: nesting deeper than 64 levels" 200000 5 "$TR" scorecard "$W/y"
python3 -c "
print('a0: &a0 [x, x, x, x, x, x, x, x, x, x]')
for i in range(1, 10): print('a%d: &a%d [%s]' % (i, i, ', '.join(['*a%d' % (i - 1)] * 10)))
" >"$W/y/plan.yaml"
limit "plan.yaml alias bomb (10^10 nodes if expanded): refused" 2 "aliases .* not allowed" \
  200000 5 "$TR" scorecard "$W/y"

# ---- a dt that implies 10^12 steps ---------------------------------------------------------
M=tests/models/decay_euler.xmile
limit "dt 4e-12 over 4 time units (10^12 steps): refused at the 1e9-step limit" 2 \
  "steps from 0 to 4 with dt 4e-12: more than the limit of 1e9" 200000 5 \
  "$TR" simulate --dt 4e-12 "$M"
limit "dt 1e-8 (4e8 steps, every one saved: 6 GB): refused at the 2 GiB run limit" 2 \
  "needs 5.96 GiB, over the limit of 2 GiB" 200000 5 "$TR" simulate --dt 1e-8 "$M"
# 10^7 steps saved every half time unit: handled in constant memory; Euler with dt 1e-7 is
# within 1e-7 of exp(-1) at time 1.
limit "dt 1e-7 with --save-step 0.5 (10^7 steps): x(1) = exp(-1) within 1e-7" 0 \
  '^1,0\.36787942' 200000 30 "$TR" simulate --stop 1 --dt 1e-7 --save-step 0.5 "$M"
