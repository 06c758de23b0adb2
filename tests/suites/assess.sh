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
