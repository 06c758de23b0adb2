#!/usr/bin/env bash
# tightrope assess: the report on a workspace, its determinism, and bad plans.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ws=$tmp/ws
mkdir -p "$ws"
cp models/saas/model.xmile "$ws/model.xmile"
cp tests/data/assess/saas-plan.yaml "$ws/plan.yaml"

check_status "assess a workspace" 0 "$TR" assess "$ws" --runs 50
check_output "reports the Strategic Balance Index" "^Strategic Balance Index  0\.[0-9]{3}" "$TR" assess "$ws" --runs 50
check_output "names the over-served pole" "over-served: Stability" "$TR" assess "$ws" --runs 50
check_output "ranks lever moves with a sentence" "^  1\. Shift [0-9]+ points of " "$TR" assess "$ws" --runs 50
"$TR" assess "$ws" --runs 50 --format json >"$tmp/a.json"
"$TR" assess "$ws" --runs 50 --format json >"$tmp/b.json"
cmp -s "$tmp/a.json" "$tmp/b.json" && ok "same seed, same report" || not_ok "assess is not deterministic"
"$TR" assess "$ws" --runs 50 --seed 2 --format json >"$tmp/c.json"
cmp -s "$tmp/a.json" "$tmp/c.json" && not_ok "another seed changes the Monte Carlo" || ok "another seed changes the Monte Carlo"
grep -q '"sbi":' "$tmp/a.json" && grep -q '"p_distress":' "$tmp/a.json" && ok "JSON has sbi and p_distress" || not_ok "JSON fields"
check_status "--format html" 0 "$TR" assess "$ws" --runs 20 --format html -o "$tmp/r.html"
grep -q "<h2>Tensions</h2>" "$tmp/r.html" && ok "HTML report written" || not_ok "HTML report"

# an inconsistent correlation matrix is repaired, with a warning, not refused
cat >"$ws/plan.yaml" <<'YAML'
company: {name: Corr test, currency: USD}
tensions:
  - id: t
    poles:
      - {name: A, measures: [{variable: launched_features, target: 40}]}
      - {name: B, measures: [{variable: service_quality, target: 1}]}
    lever: {resource: time, bind: [{constant: feature_effort_share}], current: 0.6}
uncertainty:
  inputs:
    - {name: base_churn_rate, dist: uniform, params: {min: 0.01, max: 0.03}}
    - {name: referral_rate, dist: uniform, params: {min: 0.01, max: 0.03}}
    - {name: tickets_per_customer, dist: uniform, params: {min: 0.5, max: 1}}
  correlation: [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]
YAML
check_status "a non-PSD correlation still assesses" 0 "$TR" assess "$ws" --runs 30
check_output "and warns that it was repaired" "^warning: .*positive semi-definite" "$TR" assess "$ws" --runs 30
cp tests/data/assess/saas-plan.yaml "$ws/plan.yaml"

# bad input: each names the file and line, exit 2
check_status "no workspace folder" 2 "$TR" assess "$tmp/nosuch"
check_status "a folder without a plan" 2 "$TR" assess "$tmp"
check_output "says how to make one" "tightrope init" "$TR" assess "$tmp"
sed 's/constant: feature_effort_share/constant: feature_effort_shar/' tests/data/assess/saas-plan.yaml >"$ws/plan.yaml"
check_status "lever bound to an unknown constant" 2 "$TR" assess "$ws"
check_output "points at plan.yaml:line with a suggestion" "plan.yaml:[0-9]+:[0-9]+: .*feature_effort_shar.*feature_effort_share" "$TR" assess "$ws"
sed 's/range: \[0.05, 0.95\]/range: [0.05, 1.5]/' tests/data/assess/saas-plan.yaml >"$ws/plan.yaml"
check_status "lever range outside [0, 1]" 2 "$TR" assess "$ws"
check_output "names the key" "plan.yaml:[0-9]+:[0-9]+: .*range" "$TR" assess "$ws"
sed 's/constant: feature_effort_share/constant: service_quality/' tests/data/assess/saas-plan.yaml >"$ws/plan.yaml"
check_status "lever bound to a variable that is not a constant" 2 "$TR" assess "$ws"
awk 'BEGIN{skip=0} /- name: Customer support/{skip=1} skip&&/lever:/{skip=0} !skip' tests/data/assess/saas-plan.yaml >"$ws/plan.yaml"
check_status "a tension with one pole" 2 "$TR" assess "$ws"
check_output "one pole: names the key" "plan.yaml:[0-9]+:[0-9]+: tensions\[0\]" "$TR" assess "$ws"
printf 'company:\n  name: [unclosed\n' >"$ws/plan.yaml"
check_status "YAML syntax error" 2 "$TR" assess "$ws"
check_output "YAML error has file:line" "plan.yaml:[0-9]+:[0-9]+:" "$TR" assess "$ws"
cp tests/data/assess/saas-plan.yaml "$ws/plan.yaml"
check_status "--runs 0 is a usage error" 2 "$TR" assess "$ws" --runs 0
check_status "--format pdf is a usage error" 2 "$TR" assess "$ws" --format pdf

# --- shocks: assess writes a scenario's shocks into the model as `scenarios` does, so a shock
# on a flow, on a graphical input or on a lever's constant acts the same in both. The model:
# level(0) = 100, level' = growth = rate * demand_curve (rate 10, a curve of 1 everywhere), to
# time 10; the tension has `level` against a target of 1000 on both poles, so its SBI is
# sqrt(level(10) / 1000) and level(10) = 1000 * SBI^2 (the numbers in tests/unit/test_assess.c).
sw=$tmp/shock
mkdir -p "$sw"
cat >"$sw/model.xmile" <<'EOF2'
<?xml version="1.0" encoding="utf-8"?>
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
  <header><name>shock test</name></header>
  <sim_specs method="Euler"><start>0</start><stop>10</stop><dt>1</dt></sim_specs>
  <model><variables>
    <stock name="level"><eqn>100</eqn><inflow>growth</inflow></stock>
    <flow name="growth"><eqn>rate * Demand_Curve</eqn></flow>
    <aux name="rate"><eqn>10</eqn></aux>
    <aux name="Demand Curve"><eqn>TIME</eqn>
      <gf><xscale min="0" max="10"/><ypts>1,1,1,1,1,1,1,1,1,1,1</ypts></gf></aux>
  </variables></model>
</xmile>
EOF2
cat >"$sw/plan.yaml" <<'EOF2'
company: {name: Shock Co, horizon: 10}
tensions:
  - id: growth
    poles:
      - {name: A, measures: [{variable: level, target: 1000}]}
      - {name: B, measures: [{variable: level, target: 1000}]}
    lever: {resource: money, bind: [{constant: rate, scale: 20}], current: 0.5}
scenarios:
  - name: flow step
    shocks:
      - {variable: growth, kind: step, start: 5, magnitude: 0.5}
  - name: curve step
    shocks:
      - {variable: demand curve, kind: step, start: 5, magnitude: 2}
  - name: lever step
    shocks:
      - {variable: rate, kind: step, start: 5, magnitude: 0.5}
EOF2
"$TR" assess "$sw" --runs 2 --format json >"$tmp/shock.json" 2>"$tmp/shock.err"
level_of() { # SCENARIO: level(10) from the scenario's mean SBI in the assess JSON
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print("%.6f" % [1000 * s["sbi_mean"] ** 2 for s in d["scenarios"] if s["name"] == sys.argv[2]][0])' \
    "$tmp/shock.json" "$1" 2>/dev/null
}
shock_same() { # ID SCENARIO WANT DESC: assess and scenarios both give level(10) = WANT
  local got sc
  got=$(level_of "$2")
  sc=$("$TR" scenarios "$sw" -q --runs 2 --scenario "$2" --vars level --format csv 2>&1 |
    grep '^level,10,' | cut -d, -f4)
  if [ "$got" = "$3.000000" ] && [ "$sc" = "$3" ]; then ok "$1 $4"; else
    not_ok "$1 $4 (assess $got, scenarios $sc)"; sed 's/^/# /' "$tmp/shock.err" | head -3; fi
}
shock_same assess-shock-1 "flow step" 175 "step x0.5 on a flow from t=5: 100 + 5*10 + 5*5"
shock_same assess-shock-2 "curve step" 250 "step x2 on a graphical input: 100 + 5*10 + 5*20"
shock_same assess-shock-3 "lever step" 175 "step x0.5 on the lever's constant (lever sets 10)"
[ "$(level_of baseline)" = "200.000000" ] && ok "assess-shock-4 the baseline is unshocked: 200" ||
  not_ok "assess-shock-4 baseline level $(level_of baseline)"
# bad shocks: the plan's position, exit 2, the same words as `scenarios`
cp "$sw/plan.yaml" "$tmp/shock-plan.yaml"
sed 's/variable: growth, kind/variable: grwoth, kind/' "$tmp/shock-plan.yaml" >"$sw/plan.yaml"
check_status "assess-shock-5 a shock of an unknown variable exits 2" 2 "$TR" assess "$sw" --runs 2
check_output "assess-shock-6 ... at plan.yaml:line:col, with a suggestion" \
  "plan.yaml:11:9: .*'grwoth' .*\(did you mean 'growth'\?\)" \
  "$TR" assess "$sw" --runs 2
sed 's/variable: growth, kind/variable: level, kind/' "$tmp/shock-plan.yaml" >"$sw/plan.yaml"
check_status "assess-shock-7 a shock of a stock exits 2" 2 "$TR" assess "$sw" --runs 2
check_output "assess-shock-8 ... and says to shock its flows" \
  "plan.yaml:11:9: shock: 'level' is a stock; shock a constant, auxiliary or flow" \
  "$TR" assess "$sw" --runs 2
