#!/usr/bin/env bash
# tightrope scenarios: reproducibility across threads and batch sizes, the analytic mean and
# variance of a linear model, events, convergence, streaming, plans, bad input, Ctrl-C.
. "$(dirname "$0")/../lib.sh"
D=$(mktemp -d)
trap 'rm -rf "$D" /tmp/tr_suite_out.$$' EXIT

# level(10) = initial + 10 rate (Euler is exact for a constant flow).
cat >"$D/linear.xmile" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
  <header><name>linear</name></header>
  <sim_specs method="Euler"><start>0</start><stop>10</stop><dt>1</dt></sim_specs>
  <model><variables>
    <stock name="level"><eqn>initial</eqn><inflow>growth</inflow></stock>
    <flow name="growth"><eqn>rate</eqn></flow>
    <aux name="rate"><eqn>10</eqn></aux>
    <aux name="initial"><eqn>100</eqn></aux>
    <aux name="noise"><eqn>NORMAL(0, 1)</eqn></aux>
    <aux name="drift"><eqn>0</eqn></aux>
  </variables></model>
</xmile>
EOF

# A long model for the Ctrl-C test.
cat >"$D/long.xmile" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
  <header><name>long</name></header>
  <sim_specs method="Euler"><start>0</start><stop>100</stop><dt>0.01</dt></sim_specs>
  <model><variables>
    <stock name="s"><eqn>1</eqn><inflow>f</inflow></stock>
    <flow name="f"><eqn>k * s * (1 - s / 100)</eqn></flow>
    <aux name="k"><eqn>0.01</eqn></aux>
  </variables></model>
</xmile>
EOF

V=(--vary 'rate=normal(10,2)' --vary 'initial=normal(100,5)')

# --- reproducibility: byte-identical for any thread count and batch size --------------------
for s in mc lhs; do
  "$TR" scenarios "$D/linear.xmile" -q --runs 1000 --sampling $s "${V[@]}" --event 'level < 190' \
    --tornado --threads 1 --batch 64 >"$D/t1.json" 2>/dev/null
  "$TR" scenarios "$D/linear.xmile" -q --runs 1000 --sampling $s "${V[@]}" --event 'level < 190' \
    --tornado --threads 2 --batch 64 >"$D/t2.json" 2>/dev/null
  "$TR" scenarios "$D/linear.xmile" -q --runs 1000 --sampling $s "${V[@]}" --event 'level < 190' \
    --tornado --threads 2 --batch 1 >"$D/b1.json" 2>/dev/null
  if [ -s "$D/t1.json" ] && cmp -s "$D/t1.json" "$D/t2.json"; then
    ok "scenarios-1 $s: --threads 1 and 2 byte-identical"
  else not_ok "scenarios-1 $s: --threads 1 and 2 differ"; fi
  if [ -s "$D/t1.json" ] && cmp -s "$D/t1.json" "$D/b1.json"; then
    ok "scenarios-2 $s: --batch 1 and 64 byte-identical"
  else not_ok "scenarios-2 $s: --batch 1 and 64 differ"; fi
done
"$TR" scenarios "$D/linear.xmile" -q --runs 300 "${V[@]}" --seed 2 >"$D/s2.json" 2>/dev/null
"$TR" scenarios "$D/linear.xmile" -q --runs 300 "${V[@]}" --seed 3 >"$D/s3.json" 2>/dev/null
if ! cmp -s "$D/s2.json" "$D/s3.json"; then ok "scenarios-3 another seed gives other draws"
else not_ok "scenarios-3 seeds 2 and 3 gave the same output"; fi

# --- the analytic mean and variance of level(10): 200 and 100*4 + 25 = 425 -------------------
# 99.9% intervals: mean +- 3.29 sqrt(425/n), variance +- 3.29 * 425 * sqrt(2/(n-1)).
for s in mc lhs; do
  "$TR" scenarios "$D/linear.xmile" -q --runs 4000 --sampling $s "${V[@]}" --vars level \
    --format csv >"$D/lin.csv" 2>"$D/err"
  row=$(awk -F, '$1 == "level" && $2 == 10' "$D/lin.csv")
  if awk -F, -v n=4000 '{ m = $4; v = $5 * $5;
      ok = (m - 200) ^ 2 <= (3.29 ^ 2) * 425 / n && (v - 425) ^ 2 <= (3.29 * 425) ^ 2 * 2 / (n - 1);
      exit !(ok && $3 == n) }' <<<"$row"; then
    ok "scenarios-4 $s: mean and variance of a linear model within their 99.9% intervals"
  else
    not_ok "scenarios-4 $s: linear model moments off: $row"
  fi
done
head -1 "$D/lin.csv" | grep -q '^variable,time,n,mean,sd,min,max,p5,p10,p25,p50,p75,p90,p95$' &&
  ok "scenarios-5 CSV header" || not_ok "scenarios-5 CSV header: $(head -1 "$D/lin.csv")"

# --- JSON content ----------------------------------------------------------------------------
check_output "scenarios-6 JSON has percentile bands per variable" '"p95": \[' \
  "$TR" scenarios "$D/linear.xmile" -q --runs 50 "${V[@]}"
check_output "scenarios-7 event probabilities" '"p_any_time": 0\.[0-9]' \
  "$TR" scenarios "$D/linear.xmile" -q --runs 500 "${V[@]}" --event 'level > 210'
check_output "scenarios-8 VaR and CVaR of final values" '"var": [0-9.]+, "cvar": [0-9.]+' \
  "$TR" scenarios "$D/linear.xmile" -q --runs 500 "${V[@]}" --vars level
check_output "scenarios-9 sensitivity: rate dominates level (SRC ~0.97)" \
  '"input": "rate", "spearman": 0\.9[0-9]*, "src": 0\.9[5-9]' \
  "$TR" scenarios "$D/linear.xmile" -q --runs 2000 "${V[@]}" --vars level
check_output "scenarios-10 tornado swing of rate on level = 20 z90 * 2 = 51.26" \
  '"input": "rate", "low_input": 7\.43[0-9]*, "high_input": 12\.56[0-9]*, "low": 174\.3[0-9]*, "high": 225\.6[0-9]*, "swing": 51\.26' \
  "$TR" scenarios "$D/linear.xmile" -q --runs 10 "${V[@]}" --vars level --tornado
check_output "scenarios-11 convergence rule stops early, at a check (every 128 runs)" \
  '"runs": (128|256|384|512|640|768|896),.*' \
  "$TR" scenarios "$D/linear.xmile" -q --runs 100000 "${V[@]}" --until 'mean(level) +-1% @95%'
"$TR" scenarios "$D/linear.xmile" -q --runs 100000 "${V[@]}" \
  --until 'mean(level) +-1% @95%' >"$D/u.json" 2>/dev/null
if grep -q '"converged": true' "$D/u.json" && grep -qE '"runs": (384|512),' "$D/u.json"; then
  ok "scenarios-12 mean(level) +-1% @95% stops near the analytic (1.96*20.6/2)^2 = 408 runs"
else
  not_ok "scenarios-12 convergence: $(grep -E '"runs"|converged' "$D/u.json" | tr -d '\n')"
fi
"$TR" scenarios "$D/linear.xmile" -q --runs 20000 "${V[@]}" --vars level --memory 1 --format csv \
  >"$D/st.csv" 2>/dev/null
"$TR" scenarios "$D/linear.xmile" -q --runs 20000 "${V[@]}" --vars level --memory 1 \
  >"$D/st.json" 2>/dev/null
if grep -q '"percentiles_exact": false' "$D/st.json" &&
  awk -F, '$1 == "level" && $2 == 10 { exit !(($4 - 200) ^ 2 < 1 && ($11 - 200) ^ 2 < 2) }' "$D/st.csv"; then
  ok "scenarios-13 beyond --memory the percentiles stream and stay accurate"
else
  not_ok "scenarios-13 streaming: $(grep -E 'exact|bound' "$D/st.json" | head -3 | tr -d '\n')"
fi
check_output "scenarios-14 a non-PSD correlation is repaired with a warning" \
  'warning: the correlation matrix is not positive semi-definite' \
  "$TR" scenarios "$D/linear.xmile" -q --runs 200 --vary 'rate=normal(10,2)' \
  --vary 'initial=normal(100,5)' --vary 'drift=uniform(0,1)' \
  --corr rate,initial=0.9 --corr initial,drift=0.9 --corr rate,drift=-0.9

# --- a workspace: uncertainty and a scenario from the plan -----------------------------------
mkdir -p "$D/ws"
cp "$D/linear.xmile" "$D/ws/model.xmile"
cat >"$D/ws/plan.yaml" <<'EOF'
company: {name: Test Co}
uncertainty:
  inputs:
    - name: rate
      dist: triangular
      params: {min: 5, mode: 10, max: 15}
scenarios:
  - name: boom
    overrides: {initial: 1000}
EOF
check_output "scenarios-15 plan uncertainty is used" '"distribution": "triangular\(5, 10, 15\)"' \
  "$TR" scenarios "$D/ws" -q --runs 100
check_output "scenarios-16 a plan scenario's override applies (level(0) = 1000)" \
  '^level,0,100,1000,0,' "$TR" scenarios "$D/ws" -q --runs 100 --scenario boom --format csv
check_status "scenarios-17 unknown scenario exits 2" 2 "$TR" scenarios "$D/ws" -q --scenario bust
check_output "scenarios-18 unknown scenario suggests" "unknown scenario 'bom' \(did you mean 'boom'\?\)" \
  "$TR" scenarios "$D/ws" -q --scenario bom
cat >"$D/ws/plan.yaml" <<'EOF'
company: {name: Test Co}
uncertainty:
  inputs:
    - name: rate
      dist: triangular
      params: {min: 12, mode: 10, max: 15}
EOF
check_output "scenarios-19 impossible plan parameters point into the plan" \
  "plan.yaml:[0-9]+:[0-9]+: triangular: 'min' \(12\) must not exceed 'mode' \(10\)" \
  "$TR" scenarios "$D/ws" -q --runs 10
check_status "scenarios-20 --scenario without a plan exits 2" 2 \
  "$TR" scenarios "$D/linear.xmile" -q --scenario boom

# --- shocks: level(10) = initial + sum over t = 0..9 of the (shocked) rate -----------------
cat >"$D/ws/plan.yaml" <<'EOF'
company: {name: Test Co}
scenarios:
  - name: double
    shocks:
      - {variable: rate, kind: step, start: 5, magnitude: 2}
  - name: fade
    shocks:
      - {variable: growth, kind: ramp, start: 0, end: 10, magnitude: 0}
  - name: path
    shocks:
      - {variable: rate, kind: path, points: [[2, 0], [4, 10]], mode: add}
  - name: pause
    overrides: {initial: 50}
    shocks:
      - {variable: rate, kind: pulse, start: 3, duration: 2, magnitude: 0}
  - name: stock
    shocks:
      - {variable: level, kind: step, start: 3, magnitude: 2}
  - name: typo
    shocks:
      - {variable: rates, kind: step, start: 3, magnitude: 2}
EOF
shock() { # ID SCENARIO WANT DESC
  "$TR" scenarios "$D/ws" -q --runs 3 --scenario "$2" --vars level --format csv >"$D/out" 2>&1
  if grep -q "^level,10,3,$3,0," "$D/out"; then ok "$1 $4"; else
    not_ok "$1 $4"; head -3 "$D/out" | sed 's/^/# /'; fi
}
shock scenarios-41 double 250 "step x2 of a constant at t=5: 100 + 5*10 + 5*20"
shock scenarios-42 fade 155 "ramp of a flow to 0 over [0, 10]: 100 + 10 * (10 - 4.5)"
shock scenarios-43 path 265 "additive path (2,0)-(4,10), held after: 100 + 100 + 5 + 60"
shock scenarios-44 pause 130 "pulse x0 on [3, 5) with an override initial = 50: 50 + 80"
check_output "scenarios-45 a varied constant that is shocked: mean 100 + 15 * 10, sd 15" \
  '^level,10,4000,2(49\.[5-9]|50\.[0-4])[0-9]*,1[45]\.[0-9]+,' \
  "$TR" scenarios "$D/ws" -q --runs 4000 --scenario double --vary 'rate=normal(10,1)' \
  --vars level --format csv
check_status "scenarios-46 shocking a stock exits 2" 2 "$TR" scenarios "$D/ws" -q --scenario stock
check_output "scenarios-47 shocking a stock says why, at the plan position" \
  "plan.yaml:18:9: shock: 'level' is a stock" "$TR" scenarios "$D/ws" -q --scenario stock
check_output "scenarios-48 a shock of an unknown variable suggests" \
  "plan.yaml:21:9: shock: unknown variable 'rates' \(did you mean 'rate'\?\)" \
  "$TR" scenarios "$D/ws" -q --scenario typo

# A graphical input (a lookup over TIME) shocked by name as written, spaces and all.
mkdir -p "$D/gf"
cat >"$D/gf/model.xmile" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
  <header><name>gf</name></header>
  <sim_specs method="Euler"><start>0</start><stop>10</stop><dt>1</dt></sim_specs>
  <model><variables>
    <stock name="total"><eqn>0</eqn><inflow>sales</inflow></stock>
    <flow name="sales"><eqn>Demand_Curve</eqn></flow>
    <aux name="Demand Curve"><eqn>TIME</eqn>
      <gf><xscale min="0" max="10"/><ypts>10,10,10,10,10,10,10,10,10,10,10</ypts></gf></aux>
  </variables></model>
</xmile>
EOF
cat >"$D/gf/plan.yaml" <<'EOF'
company: {name: GF Co}
scenarios:
  - name: boost
    shocks:
      - {variable: demand curve, kind: step, start: 5, magnitude: 2}
EOF
check_output "scenarios-51 a shocked graphical input: total(10) = 5*10 + 5*20" '^total,10,2,150,0,' \
  "$TR" scenarios "$D/gf" -q --runs 2 --scenario boost --format csv

# --- bad input: clear message, exit 2 --------------------------------------------------------
bad() { # ID DESC PATTERN ARGS...
  local id=$1 desc=$2 pat=$3; shift 3
  "$TR" scenarios "$@" >"$D/out" 2>&1
  local rc=$?
  if [ $rc -eq 2 ] && grep -qE -- "$pat" "$D/out"; then ok "$id $desc"; else
    not_ok "$id $desc (exit $rc)"; head -3 "$D/out" | sed 's/^/# /'; fi
}
L="$D/linear.xmile"
bad scenarios-21 "unknown --vary variable" "unknown variable 'rat' \(did you mean 'rate'\?\)" \
  $L --vary 'rat=normal(1,1)'
bad scenarios-22 "sd < 0" "normal: 'sd' must be >= 0 \(got -1\)" $L --vary 'rate=normal(10,-1)'
bad scenarios-23 "triangular min > mode" "'min' \(5\) must not exceed 'mode' \(3\)" \
  $L --vary 'rate=triangular(5,3,9)'
bad scenarios-24 "PERT out of order" "pert: 'mode' \(9\) must not exceed 'max' \(4\)" \
  $L --vary 'rate=pert(1,9,4)'
bad scenarios-25 "correlation outside [-1, 1]" "must be in \[-1, 1\] \(got 1.5\)" \
  $L "${V[@]}" --corr rate,initial=1.5
bad scenarios-26 "zero runs" "--runs must be at least 1" $L --runs 0
bad scenarios-27 "negative runs" "--runs must be at least 1" $L --runs -5
bad scenarios-28 "unknown distribution" "did you mean 'normal'" $L --vary 'rate=nromal(1,2)'
bad scenarios-29 "a non-constant cannot vary" "'growth' is not a constant" \
  $L --vary 'growth=normal(1,2)'
bad scenarios-30 "malformed --vary" "expected NAME=DIST" $L --vary 'rate'
bad scenarios-31 "unknown --vars name" "unknown variable 'levle' \(did you mean 'level'\?\)" \
  $L --vars levle
bad scenarios-32 "bad event" "compare one variable with one number" $L --event 'level < rate'
bad scenarios-33 "unknown event variable" "unknown variable 'cash'" $L --event 'cash < 0'
bad scenarios-34 "bad --until" "only the mean is supported" $L --until 'median(level) +-1%'
bad scenarios-35 "bad --sampling" "--sampling must be mc or lhs" $L --sampling sobol
bad scenarios-36 "bad --threads" "--threads must be between 1 and 1024" $L --threads 0
bad scenarios-37 "missing model" "No such file" "$D/nope.xmile"
bad scenarios-38 "--corr of an input that does not vary" "'noise' is not an uncertain input" \
  $L "${V[@]}" --corr rate,noise=0.5
# The two examples of docs/scenarios.md, verbatim.
check_output "scenarios-49 docs example: impossible parameter" \
  "^tightrope scenarios: --vary 'rate=normal\(10,-1\)': normal: 'sd' must be >= 0 \(got -1\)$" \
  "$TR" scenarios $L --vary 'rate=normal(10,-1)'
check_output "scenarios-50 docs example: unknown variable" \
  "^tightrope scenarios: --vary 'rat=normal\(1,1\)': unknown variable 'rat' \(did you mean 'rate'\?\)$" \
  "$TR" scenarios $L --vary 'rat=normal(1,1)'
bad scenarios-39 "varied twice" "'rate' is already uncertain" \
  $L "${V[@]}" --vary 'rate=uniform(1,2)'

# --- Ctrl-C: stops cleanly, writes what it has, marked partial, exit 1 ----------------------
"$TR" scenarios "$D/long.xmile" -q --runs 4000000 --vary 'k=uniform(0.005,0.02)' --threads 2 \
  -o "$D/partial.json" 2>"$D/int.err" &
pid=$!
sleep 2
kill -INT $pid
wait $pid
rc=$?
if [ $rc -eq 1 ] && grep -q '"partial": true' "$D/partial.json" &&
  grep -qE '"runs": [1-9][0-9]*,' "$D/partial.json" && grep -q 'partial' "$D/int.err"; then
  ok "scenarios-40 Ctrl-C writes the runs done, marked partial, exit 1"
else
  not_ok "scenarios-40 Ctrl-C: exit $rc; $(head -c 300 "$D/partial.json" | tr -d '\n'); $(cat "$D/int.err")"
fi
