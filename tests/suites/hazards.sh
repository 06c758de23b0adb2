#!/usr/bin/env bash
# Numeric hazards (issue 8): division by zero, 0/0, overflow and LN of a non-positive number
# inside a model are reported with the variable and the time they first appear — a warning
# on stderr (and in JSON output) by default, an error with exit 2 and no output under
# --strict-math — whatever variables are printed and however sparsely they are saved.
# Models: tests/models/hazards/*.xmile (each says what goes wrong, and when).
cd "$(dirname "$0")/../.."
. tests/lib.sh
H=tests/models/hazards
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err" /tmp/tr_suite_out.$$' EXIT

# hazard MODEL VAR KIND TIME [OPTIONS...]: the default run warns, the strict run fails.
hazard() {
  local model=$1 var=$2 kind=$3 time=$4; shift 4
  local what="'$var' became $kind at time $time"
  local label="$model${*:+ $*}"
  "$TR" simulate "$@" "$H/$model.xmile" >"$out" 2>"$err"
  local rc=$?
  if [ "$rc" -eq 0 ] && grep -qF "$H/$model.xmile: warning: $what" "$err"; then
    ok "$label: warning: $what"
  else
    not_ok "$label: exit $rc, wanted 0 and the warning \"$what\""
    sed 's/^/# /' "$err" | head -3
  fi
  "$TR" simulate --strict-math "$@" "$H/$model.xmile" >"$out" 2>"$err"
  rc=$?
  if [ "$rc" -eq 2 ] && [ ! -s "$out" ] && grep -qF "numeric hazard: $what" "$err"; then
    ok "$label --strict-math: exit 2, no output, $what"
  else
    not_ok "$label --strict-math: exit $rc (wanted 2), $(wc -c <"$out") bytes of output"
    sed 's/^/# /' "$err" | head -3
  fi
}

hazard div_zero utilisation infinite 2
hazard zero_over_zero conversion NaN 1.5
hazard overflow feedback infinite 4
hazard log_negative "log margin" infinite 3
# RK4 stages overflow sooner than Euler's steps: the stock itself goes first
hazard overflow hype infinite 1.5 --method rk4

# The hazardous variable is not printed: still reported (the alert compares NaN as false).
hazard zero_over_zero conversion NaN 1.5 --vars "low conversion alert"
hazard div_zero utilisation infinite 2 --vars demand,capacity
# Saved every 1.5 time units, so time 2 is never printed: reported at 2, not at a save point.
hazard div_zero utilisation infinite 2 --save-step 1.5
# Overrides can create a hazard too: capacity 4 - 2 TIME with dt 0.25 still hits 0 at 2.
hazard div_zero utilisation infinite 2 --dt 0.25

# The hazard reaches the JSON report as a field, next to the nulls it produced.
check_output "div_zero --format json: warning field" \
  "\"warning\": \"'utilisation' became infinite at time 2 \\(lane 0\\)\"" \
  "$TR" simulate --format json "$H/div_zero.xmile"
check_output "div_zero --format json: the infinity is null" '"utilisation": \[.*null' \
  "$TR" simulate --format json "$H/div_zero.xmile"
# CSV keeps the value readable as what it is
check_output "div_zero CSV: Inf at time 2" '^2,10,0,Inf$' "$TR" simulate "$H/div_zero.xmile"

# Guarded divisions never raise one: no warning, strict mode passes, the guarded values.
"$TR" simulate --strict-math "$H/safe_div.xmile" >"$out" 2>"$err"
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$err" ] && grep -qx '2,0,0,0' "$out"; then
  ok "safe_div: no hazard, SAFEDIV and IF give 0 at time 2"
else
  not_ok "safe_div: exit $rc, stderr: $(head -c 200 "$err")"
fi

# Setting a constant can cause one: demand = 0 makes utilisation 0 / 0 at time 2 (NaN).
hazard div_zero utilisation NaN 2 --set demand=0

# Monte Carlo: the first hazard of the study, in run order (so any thread count), is one of
# the report's warnings; the statistics at time 2 leave the infinite values out.
for th in 1 2; do
  check_output "scenarios --threads $th: hazard announced with its run" \
    "warning: numeric hazard in run 0: 'utilisation' became infinite at time 2" \
    "$TR" scenarios -q --threads "$th" --runs 40 --vary 'demand=uniform(5,15)' \
    --vars utilisation --format csv "$H/div_zero.xmile"
done
check_output "scenarios JSON: hazard in \"warnings\"" \
  "\"warnings\": \\[\"numeric hazard in run 0: 'utilisation' became infinite at time 2" \
  "$TR" scenarios -q --runs 40 --vary 'demand=uniform(5,15)' --vars utilisation "$H/div_zero.xmile"
check_output "scenarios CSV: no values at time 2" '^utilisation,2,0,' \
  "$TR" scenarios -q --runs 40 --vary 'demand=uniform(5,15)' --vars utilisation --format csv \
  "$H/div_zero.xmile"
# Only the runs that draw demand in [9.5, 10.5) divide by zero: the same first run is named
# whatever the threads and the batch size (lane i of a block is run first + i).
runs=""
for cfg in "1 8" "2 8" "2 64" "1 3"; do
  set -- $cfg
  r=$("$TR" scenarios -q --threads "$1" --batch "$2" --runs 100 --vary 'demand=uniform(5,15)' \
        --format csv "$H/some_runs.xmile" 2>&1 >/dev/null |
      sed -n "s/.*numeric hazard in run \([0-9]*\): 'per unit' became infinite at time 0.*/\1/p")
  runs="$runs ${r:-none}"
done
set -- $runs
if [ "$1" != none ] && [ "$1" != 0 ] && [ "$1" = "$2" ] && [ "$1" = "$3" ] && [ "$1" = "$4" ]; then
  ok "some_runs: first hazardous run $1 for any threads and batch"
else
  not_ok "some_runs: first hazardous run differs or is missing:$runs"
fi

# The balance assessment runs the workspace model many times: a hazard in any run is in the
# report's warning (text and JSON), not silently folded into the balance metrics.
A=$(mktemp -d /tmp/tr_hazards.XXXXXX)
"$TR" init --sector saas "$A/ws" >/dev/null
python3 - "$A/ws/model.xmile" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index('<variables>') + len('<variables>')
open(p, 'w').write(s[:i] + '\n<aux name="hazard probe"><eqn>1 / (TIME - 12)</eqn></aux>' + s[i:])
PY
check_output "assess: hazard in the report's warning" \
  "warning: numeric hazard: 'hazard probe' became infinite at time 12" \
  "$TR" assess --runs 20 "$A/ws"
check_output "assess --format json: hazard in \"warning\"" \
  "\"warning\":[[:space:]]*\"numeric hazard: 'hazard probe' became infinite at time 12" \
  "$TR" assess --runs 20 --format json "$A/ws"
check_output "assess --format html: hazard in a warning paragraph" \
  "<p><strong>Warning:</strong> numeric hazard: &#39;hazard probe&#39;|<p><strong>Warning:</strong> numeric hazard: 'hazard probe'" \
  "$TR" assess --runs 20 --format html "$A/ws"
rm -rf "$A"
