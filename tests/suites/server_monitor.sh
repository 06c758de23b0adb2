#!/usr/bin/env bash
# GET /api/scorecard, GET /api/alerts and the alerts of GET /api/assess over a SaaS workspace
# made by `tightrope init` (36 months of KPI history): each route must give the numbers the
# CLI gives (`tightrope scorecard`, `tightrope monitor`: one analysis behind both), refuse bad
# query options with a 4xx JSON error, and cope with a workspace whose store is gone.
. "$(dirname "$0")/../lib.sh"
command -v curl >/dev/null || { echo "# curl missing"; exit 1; }
command -v python3 >/dev/null || { echo "# python3 missing"; exit 1; }

ws=$(mktemp -d)/saas
"$TR" init --sector saas "$ws" >/dev/null 2>&1 || { not_ok "init --sector saas"; exit 1; }
[ -f "$ws/tightrope.db" ] && ok "init made a workspace with KPI history" || not_ok "init: no store"
trap 'serve_stop; rm -rf "$(dirname "$ws")"' EXIT
serve_start "$ws" || exit 1
ok "server started on port $port"
body=$ws/../body

# status PATH WANT: GET PATH, compare the HTTP status; the body is left in $body
status() {
  local got
  got=$(curl -s -o "$body" -w '%{http_code}' "$base$1")
  if [ "$got" = "$2" ]; then ok "GET $1 → $2"; else not_ok "GET $1 → $got (wanted $2)"; head -c 300 "$body" | sed 's/^/# /'; echo; fi
}
# check_py DESC PYTHON: run PYTHON with d = the last body as JSON (and cli = $cli_json if set)
check_py() {
  if python3 -c "
import json, os
d = json.load(open('$body'))
cli = json.loads(os.environ.get('cli_json') or 'null')
$2
" 2>"$ws/../py.err"; then ok "$1"; else not_ok "$1"; tail -3 "$ws/../py.err" | sed 's/^/# /'; fi
}
json_error() { grep -q '"error":{"status":' "$body" && ok "$1: JSON error body" || not_ok "$1: JSON error body"; }

# ---- scorecard: the same numbers as the CLI ----------------------------------------------
status /api/scorecard 200
export cli_json
cli_json=$("$TR" scorecard "$ws" --format json 2>/dev/null)
check_py "scorecard total equals 'tightrope scorecard'" "
assert d['source'] == 'store'
assert d['total'] is not None and abs(d['total'] - cli['total']) < 1e-12, (d['total'], cli['total'])
assert 0 < d['total'] <= 1"
check_py "scorecard KPIs carry value, target, period, score and status" "
ks = [k for p in d['perspectives'] for o in p['objectives'] for k in o['kpis']]
cs = [k for p in cli['perspectives'] for o in p['objectives'] for k in o['kpis']]
assert len(ks) == len(cs) > 0
for k, c in zip(ks, cs):
    assert k['id'] == c['id'] and k['value'] == c['value'] and k['score'] == c['score'], k
    assert k['status'] in ('red', 'amber', 'green'), k
    assert 'target' in k and k['period'] is not None, k"
status '/api/scorecard?at=end' 200
cli_json=$("$TR" scorecard "$ws" --format json --at end 2>/dev/null)
check_py "scorecard ?at=end equals 'tightrope scorecard --at end'" "
assert d['source'] == 'model' and d['at'] > 0, d.get('at')
assert abs(d['total'] - cli['total']) < 1e-12, (d['total'], cli['total'])"
status '/api/scorecard?at=0' 200
check_py "scorecard ?at=0 reads the start of the run" "assert d['at'] == 0"
cli_json=
status '/api/scorecard?at=soon' 400; json_error "at=soon"
status '/api/scorecard?at=' 400
status '/api/scorecard?at=-5' 422; json_error "at before the start"
grep -q "before the model's start time" "$body" && ok "at=-5: says why" || not_ok "at=-5: says why"

# ---- alerts: the same alerts as `tightrope monitor` ---------------------------------------
status /api/alerts 200
n_cli=$("$TR" monitor "$ws" | sed -n 's/^\([0-9]*\) alerts\{0,1\} active$/\1/p')
[ -z "$n_cli" ] && n_cli=0
check_py "alerts: as many as 'tightrope monitor' counts ($n_cli)" "
assert len(d['alerts']) == $n_cli > 0, len(d['alerts'])
last = max(p for k in d['kpis'] for p in k['periods'])
for a in d['alerts']:
    assert a['kpi'] and a['rule'] and a['message'] and a['kind'] in ('kpi', 'tension'), a
    assert a['period'] == last, a"
check_py "alerts: per KPI the limits, active signals and verdicts" "
assert d['rules'] == 'western-electric' and d['baseline'] == 12 and d['has_store']
for k in d['kpis']:
    assert k['state'] == 'ok' and k['count'] == len(k['values']) == len(k['periods']) == 36, k['id']
    l = k['limits']
    assert l['lower'] < l['centre'] < l['upper'] and l['baseline_points'] == 12
    for s in k['signals']:
        assert s['active'] and s['verdict'] in ('alert', 'good', 'note') and s['index'] == 35
alerting = sum(1 for k in d['kpis'] for s in k['signals'] if s['verdict'] == 'alert')
alerting += sum(1 for t in d['tensions'] for s in t['signals'] if s['verdict'] == 'alert')
assert alerting == len(d['alerts'])"
# logo churn is lower-is-better and rises in the template's history: an alert, not good news
check_py "alerts: rising churn is an alert" "
assert any(a['kpi'] == 'logo_churn' and a['rule'] == 'WE1' for a in d['alerts'])"
status '/api/alerts?rules=nelson' 200
n_cli=$("$TR" monitor "$ws" --rules nelson | sed -n 's/^\([0-9]*\) alerts\{0,1\} active$/\1/p')
[ -z "$n_cli" ] && n_cli=0
check_py "alerts ?rules=nelson: as 'tightrope monitor --rules nelson' ($n_cli)" "
assert d['rules'] == 'nelson' and len(d['alerts']) == $n_cli"
status '/api/alerts?since=2025-10' 200
check_py "alerts ?since=2025-10: three months, too few for limits" "
assert d['since'] == '2025-10' and d['alerts'] == []
assert all(k['state'] == 'too_few' and k['count'] == 3 and k['limits'] is None for k in d['kpis'])"
status '/api/alerts?all=true&baseline=6' 200
check_py "alerts ?all=true: past signals listed, limits from 6 points" "
assert any(not s['active'] for k in d['kpis'] for s in k['signals'])
assert all(k['limits']['baseline_points'] == 6 for k in d['kpis'])"
status '/api/alerts?rules=nelsen' 400; json_error "rules=nelsen"
grep -q "did you mean 'nelson'" "$body" && ok "rules=nelsen: suggests nelson" || not_ok "rules=nelsen: suggests nelson"
status '/api/alerts?since=yesterday' 400; json_error "since=yesterday"
status '/api/alerts?since=2025-13' 400
status '/api/alerts?baseline=1' 400
status '/api/alerts?baseline=12x' 400
status '/api/alerts?all=maybe' 400

# ---- the Overview's active alerts ---------------------------------------------------------
curl -s -o "$ws/../alerts.json" "$base/api/alerts"
status '/api/assess?runs=20' 200
check_py "assess: the active alerts of /api/alerts, with kpi, rule, period, message" "
a = json.load(open('$ws/../alerts.json'))['alerts']
assert d['alerts'] == a and len(a) > 0
assert set(d['alerts'][0]) >= {'kpi', 'rule', 'period', 'message'}"

# ---- a workspace whose store is gone, then a broken plan ----------------------------------
rm -f "$ws/tightrope.db" "$ws/tightrope.db-wal" "$ws/tightrope.db-shm"
status /api/alerts 200
check_py "alerts without a store: none, every KPI without data" "
assert d['has_store'] is False and d['alerts'] == []
assert all(k['state'] == 'no_data' and k['count'] == 0 for k in d['kpis'])"
status /api/scorecard 200
check_py "scorecard without a store: nothing scored" "
assert d['total'] is None
assert all(k['value'] is None and k['status'] == 'none' for p in d['perspectives'] for o in p['objectives'] for k in o['kpis'])"
printf 'company: {name: X}\ntensions:\n  - id: t\n    poles: [{name: A}]\n' >"$ws/plan.yaml"
status /api/alerts 422; json_error "broken plan (alerts)"
grep -q 'plan.yaml:4:' "$body" && ok "broken plan: the error names plan.yaml:line" || not_ok "broken plan: position"
status /api/scorecard 422
status /api/health 200
