#!/usr/bin/env bash
# `tightrope kpi`: import (long, wide, bad rows, strict, dry run, idempotent re-import,
# update with history), list, show, export round trip, plan KPI names, bad workspaces,
# corrupt and locked stores, and kill -9 in the middle of a large import.
. "$(dirname "$0")/../lib.sh"
TR=$(cd "$(dirname "$TR")" && pwd)/$(basename "$TR")
W=$(mktemp -d /tmp/tr_kpi_suite.XXXXXX)
trap 'rm -rf "$W" /tmp/tr_suite_out.$$' EXIT
cd "$W" || exit 1
mkdir ws ws2
DB=ws/tightrope.db
q() { sqlite3 "$DB" "$@"; }
# same DESC WANT GOT — one TAP line comparing two strings
same() {
  if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$3', wanted '$2')"; fi
}
imp() { "$TR" kpi import "$@"; }

{
  echo "date,kpi,value,source"
  echo "2024-01,mrr,100,crm"
  echo "2024-02,mrr,110,crm"
  echo "2024-01,churn,0.02,billing"
} >v1.csv
check_output "import long: summary line" \
  "^imported 3 rows, rejected 0: 3 new, 0 updated, 0 unchanged$" imp v1.csv --workspace ws
check_status "import created the store" 0 test -f "$DB"
same "store is in WAL mode" wal "$(q "PRAGMA journal_mode")"
same "imported value stored" 110.0 \
  "$(q "SELECT value FROM observations WHERE kpi = 'mrr' AND period = '2024-02'")"

# the same file again adds nothing
check_output "re-import: nothing new" "0 new, 0 updated, 3 unchanged" imp v1.csv -w ws
check_output "re-import: names the earlier import" "already imported \(import #1\)" \
  imp v1.csv -w ws
same "re-import left no log entry" 1 "$(q "SELECT count(*) FROM imports")"

# a corrected value is an update that keeps the old value
printf 'date,kpi,value,source\n2024-02,mrr,111,crm\n2024-03,mrr,120,crm\n' >v2.csv
check_output "changed value: 1 updated" \
  "^imported 2 rows, rejected 0: 1 new, 1 updated, 0 unchanged$" imp v2.csv -w ws
same "old value kept in history" "110.0 1 2" \
  "$(q "SELECT value || ' ' || import_id || ' ' || replaced_by FROM observation_history")"

# bad rows: reported with file:line:col, the valid ones imported, exit 0
{
  echo "date,kpi,value"
  echo "2024-04,mrr,130"
  echo "2024-13,mrr,1"
  echo "2024-05,mrr,12%"
  echo '2024-05,nps,"1,234.5"'
  echo "2024-04,mrr,131"
  echo "2024-06,mrr"
} >bad.csv
check_output "bad month reported at line 3 col 1" "^bad.csv:3:1: bad date '2024-13'" \
  imp bad.csv -w ws --dry-run
# a date padded with NUL bytes past 63 characters (found by fuzz_csv): rejected, not read as
# the date it starts with
{
  echo "date,mrr"
  printf '2025-02'
  head -c 70 /dev/zero
  echo ",41"
} >nul.csv
check_output "an over-long date field is rejected with its position" \
  "^nul.csv:2:1: bad date '2025-02'\.\.\.: too long for a date" imp nul.csv -w ws --dry-run --format wide
check_output "percent value reported at its column" \
  "^bad.csv:4:13: value '12%' has a percent sign" imp bad.csv -w ws --dry-run
check_output "thousands separator reported" "^bad.csv:5:13: value '1,234.5' has a comma" \
  imp bad.csv -w ws --dry-run
check_output "duplicate in file names the first line" \
  "^bad.csv:6:1: duplicate: KPI 'mrr' for 2024-04 is already on line 2" \
  imp bad.csv -w ws --dry-run
check_output "ragged row reported" "^bad.csv:7: ragged row: line 7 has 2 fields, expected 3" \
  imp bad.csv -w ws --dry-run
check_output "summary counts rejected rows" \
  "^dry run: would have imported 1 row, rejected 5 \(see above\)" imp bad.csv -w ws --dry-run
check_status "bad rows: the good ones are imported, exit 2 by default" 2 imp bad.csv -w ws
same "valid row of a bad file imported" 130.0 \
  "$(q "SELECT value FROM observations WHERE kpi = 'mrr' AND period = '2024-04'")"

# strict and dry run change nothing
counts() { q "SELECT count(*) FROM observations; SELECT count(*) FROM imports"; }
before=$(counts)
printf 'date,kpi,value\n2024-07,mrr,140\n2024-08,mrr,x\n' >strict.csv
check_status "--strict with a bad row: exit 2" 2 imp strict.csv -w ws --strict
check_output "--strict says nothing was imported" \
  "whole file is rejected \(strict\); nothing imported" imp strict.csv -w ws --strict
check_status "--dry-run: exit 0" 0 imp v2.csv -w ws -n
printf 'date,kpi,value\n2030-01,new,1\n' >dry.csv
check_output "--dry-run counts what it would do" "1 new, 0 updated, 0 unchanged; nothing written" \
  imp dry.csv -w ws --dry-run
same "strict rejection and dry run wrote nothing" "$before" "$(counts)"

# file-level bad input: exit 2, nothing written
: >empty.csv
check_status "empty file: exit 2" 2 imp empty.csv -w ws
check_output "empty file: says so" "empty file" imp empty.csv -w ws
check_status "unreadable file: exit 2" 2 imp nosuch.csv -w ws
check_output "unreadable file: names it" "nosuch.csv: cannot read" imp nosuch.csv -w ws
printf 'date,kpi,value\n2024-01,a,"1\n' >quote.csv
check_status "unterminated quote: exit 2" 2 imp quote.csv -w ws
check_output "unterminated quote: position of the quote" \
  "quote.csv:2:11: unterminated quoted field" imp quote.csv -w ws
printf 'date,kpi,value\n' >header.csv
check_output "header only: imports nothing, exit 0" "^imported 0 rows, rejected 0" \
  imp header.csv -w ws
same "bad files wrote nothing" "$before" "$(counts)"

# wide format
printf 'date,mrr,nps\n2025-01,200,40\n2025-02,,41\n' >wide.csv
check_output "import wide: blank cell is no observation" "^imported 2 rows, rejected 0: 3 new" \
  imp wide.csv -w ws --format wide
check_output "wide header as long: hint" "use the wide format" imp wide.csv -w ws
check_status "--format bogus: exit 2" 2 imp wide.csv -w ws --format wdie
check_output "--format bogus: suggests" "did you mean 'wide'" imp wide.csv -w ws --format wdie

# list, show, export
check_output "list shows each KPI with count and latest" \
  "^mrr +5  2024-01     2025-01     200$" "$TR" kpi list -w ws
check_output "show prints the periods" "^2024-03 +120 +2  crm$" "$TR" kpi show mrr -w ws
"$TR" kpi show mrr -w ws --since 2024-04 >since.out 2>&1
same "show --since filters periods" 2 "$(grep -c '^20' since.out)"
check_status "show --since with a bad date: exit 2" 2 "$TR" kpi show mrr -w ws --since 2024-4
check_status "show of an unknown KPI: exit 2" 2 "$TR" kpi show mmr -w ws
check_output "show of an unknown KPI suggests" "did you mean 'mrr'" "$TR" kpi show mmr -w ws
check_status "export -o" 0 "$TR" kpi export -w ws -o export.csv
check_status "export re-imports strictly into a new workspace" 0 imp export.csv -w ws2 --strict
"$TR" kpi export -w ws2 >export2.csv
check_status "export round trip is identical" 0 cmp export.csv export2.csv

# usage errors
check_status "no action: exit 2" 2 "$TR" kpi
check_output "unknown action suggests" "did you mean 'list'" "$TR" kpi lsit
check_status "option of another action: exit 2" 2 "$TR" kpi list --strict
check_status "missing workspace folder: exit 2" 2 imp v1.csv -w nosuchdir
mkdir nostore
check_status "list without a store: exit 0" 0 "$TR" kpi list -w nostore
check_output "export without a store: the header alone" "^date,kpi,value,source$" \
  "$TR" kpi export -w nostore
check_status "list and export without a store create none" 1 test -e nostore/tightrope.db

# KPI names come from the plan's scorecard when there is one
mkdir wp
cat >wp/plan.yaml <<'EOF'
company:
  name: Test Co
scorecard:
  objectives:
    - id: grow
      perspective: financial
  kpis:
    - id: revenue
      objective: grow
      min: 0
      max: 1000
EOF
printf 'date,kpi,value\n2024-01,revenue,1\n2024-01,revnue,2\n' >plan.csv
check_output "unknown KPI against the plan: did you mean" \
  "^plan.csv:3:9: unknown KPI 'revnue' \(did you mean 'revenue'\?\)" imp plan.csv -w wp
echo 'company: [' >wp/plan.yaml
check_status "broken plan: exit 2" 2 imp plan.csv -w wp

# corrupt and locked stores: a clear error, not a crash
mkdir wc
echo "not a database at all, just some text that is long enough" >wc/tightrope.db
check_status "corrupt store: exit 1" 1 "$TR" kpi list -w wc
check_output "corrupt store: says so" "file is not a database" "$TR" kpi list -w wc
(echo "BEGIN IMMEDIATE;"; sleep 9; echo "ROLLBACK;") | sqlite3 "$DB" &
locker=$!
sleep 1
check_status "locked store: import exits 1 after the busy timeout" 1 imp dry.csv -w ws
check_output "readers are not blocked by a writer" "^mrr " "$TR" kpi list -w ws
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null

# kill -9 in the middle of a large import: the store stays consistent, the killed import is
# wholly there or wholly absent, the earlier imports are untouched.
mkdir wk wt
printf 'date,kpi,value,source\n2024-01,mrr,100,crm\n2024-02,mrr,110,crm\n' >early.csv
imp early.csv -w wk >/dev/null
k() { sqlite3 wk/tightrope.db "$@"; }
mrr_rows() { k "SELECT kpi, period, value, source, import_id FROM observations WHERE kpi = 'mrr'"; }
early=$(mrr_rows)
awk 'BEGIN {
  print "date,kpi,value,source"
  for (k = 0; k < 300; k++)
    for (i = 0; i < 1000; i++)
      printf "%04d-%02d-%02d,b%d,%d.%d,gen\n", 2000 + int(i / 336), int(i / 28) % 12 + 1,
             i % 28 + 1, k, i * 7 + k, i % 10
}' >big.csv
t0=$(date +%s.%N)
imp big.csv -w wt >/dev/null
full=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
killed=0
consistent=1
for frac in 0.15 0.35 0.55 0.75 0.9; do
  "$TR" kpi import big.csv -w wk >/dev/null 2>&1 & # the process itself, not a subshell
  pid=$!
  sleep "$(awk -v t="$full" -v f="$frac" 'BEGIN { printf "%.3f", t * f }')"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [ $? -eq 137 ] && killed=$((killed + 1))
  ic=$(k "PRAGMA integrity_check")
  fk=$(k "PRAGMA foreign_key_check" | wc -l)
  nb=$(k "SELECT count(*) FROM observations WHERE kpi LIKE 'b%'")
  ni=$(k "SELECT count(*) FROM imports")
  echo "# kill at ${frac} of ${full}s: integrity=$ic fk_violations=$fk big_rows=$nb imports=$ni"
  whole=0
  { [ "$nb" = 0 ] && [ "$ni" = 1 ]; } && whole=1
  { [ "$nb" = 300000 ] && [ "$ni" = 2 ]; } && whole=1
  if [ "$ic" != ok ] || [ "$fk" != 0 ] || [ "$(mrr_rows)" != "$early" ] || [ $whole = 0 ]; then
    consistent=0
  fi
  [ "$nb" = 300000 ] && break # it finished before the kill: nothing more to interrupt
done
check_status "kill -9 interrupted a large import ($killed times)" 0 test "$killed" -ge 1
same "after kill -9: integrity ok, import all or nothing, earlier import untouched" 1 \
  "$consistent"
check_output "after kill -9 the import runs to completion" "300000 rows, rejected 0" \
  imp big.csv -w wk
same "after kill -9: every row present once" 300002 "$(k "SELECT count(*) FROM observations")"

# a shuffled file gives the store a sorted one gives: the same rows of big.csv in another
# order (by value, then date), plus a repeated row, into a new workspace; the export equals
# that of the sorted import (wt) and the repeat is reported with the line of its first row
mkdir wsh
{
  head -1 big.csv
  tail -n +2 big.csv | sort -t, -k3,3 -k1,1
  echo "2000-01-05,b7,1,gen"
} >shuffled.csv
first=$(grep -n '^2000-01-05,b7,' shuffled.csv | head -1 | cut -d: -f1)
check_output "shuffled file with a repeat: the repeat is reported with its first line" \
  "^shuffled.csv:300002:1: duplicate: KPI 'b7' for 2000-01-05 is already on line $first$" \
  imp shuffled.csv -w wsh
"$TR" kpi export -w wt >sorted.export
"$TR" kpi export -w wsh >shuffled.export
check_status "shuffled and sorted imports export the same observations" 0 \
  cmp sorted.export shuffled.export
same "shuffled import: every row once" 300000 "$(sqlite3 wsh/tightrope.db \
  "SELECT count(*) FROM observations")"
