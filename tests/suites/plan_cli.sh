#!/usr/bin/env bash
# `tightrope scorecard` and `tightrope monitor` on a workspace built here: a plan, 18 months
# of KPI history (stable for a year, then acquisition climbs while retention slides), scores
# checked against hand-computed values, alerts and exit codes, and bad input.
. "$(dirname "$0")/../lib.sh"
W=$(mktemp -d /tmp/tr_plan_cli.XXXXXX)
trap 'rm -rf "$W" /tmp/tr_suite_out.$$' EXIT
mkdir -p "$W/shift" "$W/calm" "$W/bad" "$W/empty"

cat >"$W/plan.yaml" <<'EOF'
company: {name: Suite Co, sector: saas}
tensions:
  - id: acq_ret
    name: Acquisition vs retention
    poles:
      - name: Acquisition
        measures: [{kpi: new_customers, target: 40}]
      - name: Retention
        measures: [{kpi: nrr, target: 1.05}]
    lever: {resource: marketing budget, bind: [{constant: acq_share}], current: 0.6}
scorecard:
  objectives:
    - {id: grow, name: Grow, perspective: financial}
    - {id: keep, name: Keep customers, perspective: customer}
  kpis:
    - {id: new_customers, name: New customers, objective: grow, min: 0, max: 80,
       variable: customers}
    - {id: nrr, name: Net revenue retention, objective: keep, min: 0.8, max: 1.2}
    - {id: churn, name: Monthly churn, objective: keep, direction: lower_better,
       scoring: goal_redflag, goal: 0.02, red_flag: 0.04, type: leading}
  links:
    - {cause: keep, effect: grow}
EOF
cp "$W/plan.yaml" "$W/shift/plan.yaml"
cp "$W/plan.yaml" "$W/calm/plan.yaml"
cp "$W/plan.yaml" "$W/empty/plan.yaml"

nc=(20 22 19 21 20 22 21 19 20 22 21 20 26 30 34 38 42 46)
nrr=(1.02 1.03 1.01 1.02 1.03 1.02 1.01 1.02 1.03 1.02 1.01 1.02 1.00 0.98 0.96 0.94 0.92 0.90)
ch=(0.020 0.022 0.019 0.021 0.020 0.022 0.021 0.019 0.020 0.022 0.021 0.020 0.022 0.024 0.027 0.030 0.033 0.036)
{
  echo "date,kpi,value"
  for i in $(seq 0 17); do
    m=$(printf '2024-%02d' $((i + 1)))
    [ $i -ge 12 ] && m=$(printf '2025-%02d' $((i - 11)))
    echo "$m,new_customers,${nc[$i]}"
    echo "$m,nrr,${nrr[$i]}"
    echo "$m,churn,${ch[$i]}"
  done
} >"$W/kpis.csv"
head -37 "$W/kpis.csv" >"$W/calm.csv"

check_status "kpi import (shift workspace)" 0 "$TR" kpi import "$W/kpis.csv" --workspace "$W/shift"
check_status "kpi import (calm workspace)" 0 "$TR" kpi import "$W/calm.csv" --workspace "$W/calm"

# scorecard: latest values new_customers 46, nrr 0.90, churn 0.036
# new_customers 46/80 = 0.575; nrr (0.90-0.8)/0.4 = 0.25; churn 10/3*(1+0.2) = 4.0/10
# keep = (0.25 + 0.4)/2 = 0.325; total = (0.575 + 0.325)/2 = 0.45
check_output "scorecard shows churn's goal/red-flag score" "Monthly churn +40%  amber  0.036 fraction|Monthly churn +40%  amber  0.036 \(2025-06\), score 4.00/10" \
  "$TR" scorecard "$W/shift"
check_output "scorecard total is 45%" "^TOTAL +45%  amber" "$TR" scorecard "$W/shift"
check_output "scorecard objective roll-up" "Keep customers +3[23]%  red" "$TR" scorecard "$W/shift"
"$TR" scorecard "$W/shift" --format json >"$W/sc.json" 2>&1
if python3 -c "
import json,sys
d=json.load(open('$W/sc.json'))
assert abs(d['total']-0.45)<1e-9, d['total']
k=d['perspectives'][1]['objectives'][0]['kpis']
assert [x['id'] for x in k]==['nrr','churn']
assert abs(k[1]['raw']-4.0)<1e-9 and k[1]['period']=='2025-06' and k[1]['leading']
assert abs(k[0]['weight']-0.25)<1e-9
assert d['perspectives'][2]['score'] is None
" 2>"$W/py.err"; then ok "scorecard --format json has the hand-computed values"; else not_ok "scorecard --format json"; sed 's/^/# /' "$W/py.err" | tail -3; fi
check_output "scorecard --format dot is a digraph" "^digraph strategy_map \{" \
  "$TR" scorecard "$W/shift" --format dot
check_output "scorecard --format dot has the link" '"keep" -> "grow";' \
  "$TR" scorecard "$W/shift" --format dot
check_status "scorecard without a store exits 0" 0 "$TR" scorecard "$W/empty"
check_output "scorecard without a store says so" "no KPI store" "$TR" scorecard "$W/empty"

# monitor: churn and nrr tip the wrong way at the latest month, the tension is imbalanced
check_status "monitor exits 1 with active alerts" 1 "$TR" monitor "$W/shift"
check_output "monitor: churn rising is an alert" "^  ALERT 2025-06 +(WE1|EWMA|CUSUM\+) " \
  "$TR" monitor "$W/shift"
check_output "monitor: new customers rising is good news" "^  good +2025-06 " "$TR" monitor "$W/shift"
check_output "monitor: tension imbalance" "ALERT 2025-06 +IMBALANCE .*B is being starved" \
  "$TR" monitor "$W/shift"
check_output "monitor counts the alerts" "^[0-9]+ alerts active$" "$TR" monitor "$W/shift"
check_status "monitor with Nelson rules still alerts" 1 "$TR" monitor "$W/shift" --rules nelson
check_status "monitor on a stable year exits 0" 0 "$TR" monitor "$W/calm"
check_output "monitor on a stable year says so" "^no active alerts$" "$TR" monitor "$W/calm"
check_output "monitor --since keeps too few points" "too few for limits" \
  "$TR" monitor "$W/shift" --since 2025-03
check_output "monitor --all lists past signals" "^  past " "$TR" monitor "$W/shift" --all
check_status "monitor without a store exits 0" 0 "$TR" monitor "$W/empty"

# scorecard --at: KPIs bound to model variables, scored from a run with the plan's levers.
# customers(t) = 10 + t * 10 * acq_share with the lever's current share 0.6 (the model says
# 0.5): 40 at t = 5 -> 40/80 = 50%; at the end (t = 12) 82 -> clamped 100%.
cat >"$W/shift/model.xmile" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
  <header><name>suite</name></header>
  <sim_specs><start>0</start><stop>12</stop><dt>1</dt></sim_specs>
  <model><variables>
    <stock name="customers"><eqn>10</eqn><inflow>acquisition</inflow></stock>
    <flow name="acquisition"><eqn>acq_share * 10</eqn></flow>
    <aux name="acq_share"><eqn>0.5</eqn></aux>
  </variables></model>
</xmile>
EOF
check_output "scorecard --at 5 scores the simulated KPI" "New customers +50%  amber  40 \(t=5\)" \
  "$TR" scorecard "$W/shift" --at 5
check_output "scorecard --at end clamps to 100%" "New customers +100%  green  82 \(t=12\)" \
  "$TR" scorecard "$W/shift" --at end
check_output "scorecard --at: unbound KPIs say so" "Monthly churn .*not bound to the model" \
  "$TR" scorecard "$W/shift" --at end
check_status "scorecard --at before the start exits 2" 2 "$TR" scorecard "$W/shift" --at -1
check_status "scorecard --at soon exits 2" 2 "$TR" scorecard "$W/shift" --at soon
check_status "scorecard --at without a model exits 1" 1 "$TR" scorecard "$W/calm" --at end
sed 's/acq_share/acq_shares/g' "$W/shift/model.xmile" >"$W/calm/model.xmile"
check_output "scorecard --at: a lever constant missing from the model is named" \
  "plan.yaml:10:48: lever constant 'acq_share' is not a variable of .*did you mean 'acq_shares'" \
  "$TR" scorecard "$W/calm" --at end
rm -f "$W/calm/model.xmile"

# bad input
printf 'company: {name: X}\ntensions:\n  - id: t\n    poles: [{name: A, measures: [{variable: a, target: 1}]}]\n' \
  >"$W/bad/plan.yaml"
check_status "scorecard: bad plan exits 2" 2 "$TR" scorecard "$W/bad"
check_output "scorecard: bad plan names file:line:col and key" \
  "plan.yaml:4:12: tensions\[0\]\.poles: a tension has exactly two poles, got 1" \
  "$TR" scorecard "$W/bad"
check_status "monitor: bad plan exits 2" 2 "$TR" monitor "$W/bad"
check_status "scorecard: missing plan exits 2" 2 "$TR" scorecard "$W/nosuch"
check_output "monitor: --rules typo suggests" "did you mean 'nelson'" "$TR" monitor "$W/shift" --rules nelsen
check_status "monitor: --rules typo exits 2" 2 "$TR" monitor "$W/shift" --rules nelsen
check_status "monitor: --baseline 1 exits 2" 2 "$TR" monitor "$W/shift" --baseline 1
check_status "monitor: bad --since exits 2" 2 "$TR" monitor "$W/shift" --since yesterday
check_status "scorecard: --format xml exits 2" 2 "$TR" scorecard "$W/shift" --format xml
check_status "scorecard: two workspaces exit 2" 2 "$TR" scorecard "$W/shift" "$W/calm"
printf 'company: {name: X}\nscorecard:\n  objectives: [{id: a, perspective: financial}, {id: b, perspective: customer}]\n  links: [{cause: a, effect: b}, {cause: b, effect: a}]\n' \
  >"$W/bad/plan.yaml"
check_output "scorecard: a strategy-map cycle is named" "the strategy map has a cycle: a -> b -> a" \
  "$TR" scorecard "$W/bad"
