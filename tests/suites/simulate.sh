#!/usr/bin/env bash
# tightrope simulate: output shape, options, and bad input (exit 2 with file:line:col).
. "$(dirname "$0")/../lib.sh"
S=${TR_CONFORMANCE_DIR:-../shared/conformance/sdxorg-test-models}
TEA=$S/samples/teacup/teacup.xmile
SIR=$S/samples/SIR/SIR.xmile
T=$(mktemp -d)
trap 'rm -rf "$T" /tmp/tr_suite_out.$$' EXIT

check_status "simulate teacup exits 0" 0 "$TR" simulate "$TEA"
check_output "CSV header: Time first, then the variables in model order" \
  '^Time,Heat Loss to Room,Room Temperature,Teacup Temperature,Characteristic Time$' \
  "$TR" simulate "$TEA"
rows=$("$TR" simulate "$TEA" | wc -l)
[ "$rows" -eq 242 ] && ok "teacup: 241 saved times + header" || not_ok "teacup rows: $rows"
check_output "teacup first row (180 - 70)/10 = 11" '^0,11,70,180,10$' "$TR" simulate "$TEA"
check_output "teacup second row is one Euler step" '^0.125,10.8625,70,178.625,10$' \
  "$TR" simulate "$TEA"
check_output "--vars picks and orders columns" '^Time,Teacup Temperature,Room Temperature$' \
  "$TR" simulate "$TEA" --vars "Teacup Temperature,room temperature"
check_output "--set changes a constant" '^0,16,20,180,10$' \
  "$TR" simulate "$TEA" --set "Room Temperature=20"
check_output "--start/--stop/--dt: start 1, dt 0.1 saves 1 exactly" '^1,11,70,180,10$' \
  "$TR" simulate "$TEA" --start 1 --stop 2 --dt 0.1
rows=$("$TR" simulate "$TEA" --start 1 --stop 2 --dt 0.1 | wc -l)
[ "$rows" -eq 12 ] && ok "start 1 stop 2 dt 0.1: 11 rows" || not_ok "rows: $rows"
check_output "--save-step thins the rows" '^2,' "$TR" simulate "$TEA" --dt 0.5 --save-step 2
check_output "--method rk4 runs" '^30,' "$TR" simulate "$SIR" --method rk4 --stop 30
check_output "JSON has time and variables" '"time": \[0, 0.125' "$TR" simulate "$TEA" --format json
check_output "JSON names the model" '^\{"model": "Teacup"' "$TR" simulate "$TEA" --format json
if command -v python3 >/dev/null; then
  "$TR" simulate "$SIR" --format json -o "$T/sir.json" &&
    python3 -c "import json; d = json.load(open('$T/sir.json'))
assert len(d['time']) == 3201
assert abs(d['variables']['susceptible'][0] - 1000) < 1e-9" &&
    ok "-o writes valid JSON (3201 points)" || not_ok "JSON output does not parse"
fi
HEAD="Time,Heat Loss to Room,Room Temperature,Teacup Temperature,Characteristic Time"
"$TR" simulate "$TEA" -o "$T/out.csv" && [ "$(head -1 "$T/out.csv")" = "$HEAD" ] &&
  ok "-o FILE writes the CSV" || not_ok "-o FILE"

# bad input: exit 2 and a useful message
check_status "missing model file exits 2" 2 "$TR" simulate "$T/nope.xmile"
check_status "no model exits 2" 2 "$TR" simulate
check_status "bad --method exits 2" 2 "$TR" simulate "$TEA" --method rk3
check_output "bad --method lists the methods" "euler, rk2 or rk4" "$TR" simulate "$TEA" --method rk3
check_status "bad --format exits 2" 2 "$TR" simulate "$TEA" --format xml
check_status "non-numeric --dt exits 2" 2 "$TR" simulate "$TEA" --dt fast
check_status "--dt 0 exits 2" 2 "$TR" simulate "$TEA" --dt 0
check_status "stop before start exits 2" 2 "$TR" simulate "$TEA" --start 5 --stop 1
check_status "more than 1e9 steps exits 2" 2 "$TR" simulate "$TEA" --dt 1e-9 --stop 1e3
check_status "unknown --set name exits 2" 2 "$TR" simulate "$TEA" --set "Room Temprature=20"
check_output "unknown --set name suggests the closest" "did you mean 'Room Temperature'" \
  "$TR" simulate "$TEA" --set "Room Temprature=20"
check_status "--set of a non-constant exits 2" 2 "$TR" simulate "$TEA" --set "Heat Loss to Room=1"
check_status "--set without a value exits 2" 2 "$TR" simulate "$TEA" --set "Room Temperature"
check_status "unknown --vars name exits 2" 2 "$TR" simulate "$TEA" --vars "Teacup Temp"
check_output "unknown --vars name suggests" "did you mean" \
  "$TR" simulate "$TEA" --vars "Teacup Temprature"

cat >"$T/cycle.xmile" <<'X'
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
<sim_specs><start>0</start><stop>1</stop><dt>1</dt></sim_specs>
<model><variables>
<aux name="a"><eqn>b + 1</eqn></aux>
<aux name="b"><eqn>a * 2</eqn></aux>
</variables></model></xmile>
X
check_status "a cycle exits 2" 2 "$TR" simulate "$T/cycle.xmile"
check_output "a cycle names its members with file:line:col" \
  "cycle.xmile:[0-9]+:[0-9]+: .*('a' -> 'b' -> 'a'|'b' -> 'a' -> 'b')" \
  "$TR" simulate "$T/cycle.xmile"
cat >"$T/nan.xmile" <<'X'
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
<sim_specs><start>0</start><stop>4</stop><dt>1</dt></sim_specs>
<model><variables>
<aux name="x"><eqn>LN(2 - TIME)</eqn></aux>
</variables></model></xmile>
X
check_status "NaN is a warning by default (exit 0)" 0 "$TR" simulate "$T/nan.xmile"
check_output "the warning names variable and time" "warning: 'x' became infinite at time 2" \
  "$TR" simulate "$T/nan.xmile"
check_status "--strict-math makes it an error (exit 2)" 2 \
  "$TR" simulate "$T/nan.xmile" --strict-math
printf '<xmile><sim_specs>' >"$T/broken.xmile"
check_status "malformed XML exits 2" 2 "$TR" simulate "$T/broken.xmile"
check_output "malformed XML has file:line:col" "broken.xmile:[0-9]+:[0-9]+:" \
  "$TR" simulate "$T/broken.xmile"
cat >"$T/steps.xmile" <<'X'
<xmile version="1.0"><sim_specs><start>0</start><stop>0.9</stop><dt>0.3</dt></sim_specs>
<model><variables><aux name="r"><eqn>NORMAL(0, 1, 7)</eqn></aux></variables></model></xmile>
X
check_output "times print as written (3 x 0.3 = 0.9)" '^0.9,' "$TR" simulate "$T/steps.xmile"
"$TR" simulate "$T/steps.xmile" | awk -F, 'NR>1 {print $2}' | sort -u | wc -l | grep -qx 4 &&
  ok "a seeded random draws a new value every step (4 distinct)" || not_ok "seeded draws repeat"
a=$("$TR" simulate "$T/steps.xmile" --seed 1 | tail -1)
b=$("$TR" simulate "$T/steps.xmile" --seed 2 | tail -1)
[ "$a" = "$b" ] && ok "a seeded random ignores --seed" || not_ok "seeded random changed with --seed"
