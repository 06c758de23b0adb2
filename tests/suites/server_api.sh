#!/usr/bin/env bash
# The JSON API over a real workspace (the SaaS template): every data route, and the hostile
# and malformed requests each route must refuse with a 4xx while the server keeps serving.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
ws=$tmp/ws
"$TR" init --sector saas "$ws" >/dev/null || { not_ok "init"; exit 1; }
trap 'serve_stop; rm -rf "$tmp"' EXIT
serve_start "$ws" || exit 1
tok=$(cat "$ws/.tightrope/token")
H="X-Tightrope-Token: $tok"


req GET /api/workspace 200; has '"sector":"saas"' "workspace names the sector"
req GET /api/plan 200; has '"tensions":\[{"id":' "plan lists tensions"; has '"lever":{' "plan has levers"
lever=$(grep -o '"tensions":\[{"id":"[^"]*"' "$tmp/body" | sed 's/.*"id":"//; s/"$//')
req GET /api/model 200; has '"name":"cash"' "model lists cash"; has '"equation":' "model has equations"
req POST /api/simulate 200 -H "$H" -d '{"vars":["cash"]}'; has '"time":\[0,' "simulate returns time"; has '"cash":\[' "simulate returns the series"
req POST /api/simulate 200 -H "$H" -d "{\"levers\":{\"$lever\":0.5},\"vars\":[\"cash\"]}"; has '"plan":{"variables"' "a lever change comes with the plan's run"
req GET '/api/assess?runs=20' 200; has '"sbi":0\.' "assess returns the index"; has '"moves":\[' "assess ranks moves"
req GET '/api/assess?runs=20' 200; has '"sbi":0\.' "assess again (cached)"
req GET /api/kpis 200; has '"count":' "KPI history from the template is listed"
kpi=$(grep -o '"id":"[^"]*"' "$tmp/body" | head -1 | sed 's/"id":"//; s/"$//')
req GET "/api/kpis/$kpi" 200; has '"limits":{"centre":' "KPI has XmR limits"; has '"values":\[' "KPI has values"
printf 'date,kpi,value\n2030-01,%s,1\n2030-02,%s,abc\n' "$kpi" "$kpi" >"$tmp/up.csv"
req POST /api/kpis 200 -H "$H" --data-binary @"$tmp/up.csv"; has '"imported":1' "upload imports the good row"; has 'upload.csv:3:' "and reports the bad one by line"
req PUT /api/plan/levers 200 -H "$H" -d "{\"$lever\":0.5}"
grep -q "current: 0.5" "$ws/plan.yaml" && ok "lever saved into plan.yaml" || not_ok "lever not saved"
"$TR" assess "$ws" --runs 5 >/dev/null && ok "the edited plan still loads" || not_ok "edited plan broken"

req POST /api/scenarios 200 -H "$H" -d '{"runs":200,"vars":["cash"],"wait":true}'; has '"p95":\[' "Monte Carlo bands"; has '"event":"cash < 0"' "distress event"
# The answer is the CLI's JSON of the same study less whitespace: every number the same.
"$TR" scenarios "$ws" --runs 200 --vars cash --sampling lhs --event "cash < 0" -q --format json \
  -o "$tmp/cli.json"
if python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
a.pop("model"); b.pop("model")
[print("# differs:", k, str(a[k])[:150], "/", str(b[k])[:150]) for k in a if a[k] != b[k]]
sys.exit(a != b)' "$tmp/body" "$tmp/cli.json"; then
  ok "scenarios answer = tightrope scenarios --format json, number for number"
else
  not_ok "scenarios answer differs from tightrope scenarios --format json"
fi
req POST /api/scenarios 202 -H "$H" -d '{"runs":300,"vars":["revenue"],"scenario":"economic downturn"}'; has '"id":' "a job id"
job=$(grep -o '"id":[0-9]*' "$tmp/body" | head -1 | cut -d: -f2)
for _ in $(seq 600); do curl -s "$base/api/jobs/$job" | grep -q '"state":"done"' && break; sleep 0.1; done
req GET "/api/jobs/$job" 200; has '"scenario":"economic downturn"' "the job's result names the scenario"
req POST /api/scenarios 202 -H "$H" -d '{"runs":100000}'
job=$(grep -o '"id":[0-9]*' "$tmp/body" | head -1 | cut -d: -f2)
req DELETE "/api/jobs/$job" 202 -H "$H"
for _ in $(seq 600); do curl -s "$base/api/jobs/$job" | grep -q '"state":"cancelled"' && break; sleep 0.1; done
req GET "/api/jobs/$job" 200; has '"state":"cancelled"' "a cancelled job says so"

# hostile and malformed
req POST /api/simulate 400 -H "$H" -d '{"vars":'; has '"error":{"status":400' "bad JSON is a JSON 400"
req POST /api/simulate 400 -H "$H" -d '[1,2]'
req POST /api/simulate 400 -H "$H"
req POST /api/simulate 400 -H "$H" -d '{"vars":"cash"}'
req POST /api/simulate 422 -H "$H" -d '{"vars":["cahs"]}'; has "did you mean 'cash'" "unknown variable suggests"
req POST /api/simulate 422 -H "$H" -d '{"set":{"cash":"x"}}'
req POST /api/simulate 422 -H "$H" -d '{"levers":{"nosuch":0.5}}'
req POST /api/simulate 422 -H "$H" -d "{\"levers\":{\"$lever\":7}}"
req POST /api/simulate 401 -d '{}'
req PUT /api/plan/levers 422 -H "$H" -d "{\"$lever\":1.5}"
grep -q "current: 0.5" "$ws/plan.yaml" && ok "a refused lever leaves plan.yaml unchanged" || not_ok "plan.yaml changed"
req PUT /api/plan/levers 404 -H "$H" -d '{"nosuch":0.5}'
req PUT /api/plan/levers 400 -H "$H" -d '{"x":"y"}'
req PUT /api/plan/levers 400 -H "$H" -d '{}'
req POST /api/scenarios 400 -H "$H" -d '{"runs":0}'
req POST /api/scenarios 400 -H "$H" -d '{"runs":2.5}'
req POST /api/scenarios 400 -H "$H" -d '{"runs":"many"}'
req POST /api/scenarios 400 -H "$H" -d '{"runs":20000,"wait":true}'
req POST /api/scenarios 422 -H "$H" -d '{"scenario":"nope"}'
req POST /api/scenarios 422 -H "$H" -d '{"vars":["nope"],"wait":true}'
req POST /api/scenarios 401 -d '{}'
req GET '/api/assess?runs=0' 400
req GET '/api/assess?runs=abc' 400
req GET /api/kpis/nosuch 404
req POST '/api/kpis?format=xml' 400 -H "$H" -d 'x'
req POST /api/kpis 400 -H "$H"
printf 'date,kpi\n' >"$tmp/bad.csv"
req POST /api/kpis 422 -H "$H" --data-binary @"$tmp/bad.csv"
ls "$ws/.tightrope" | grep -q upload && not_ok "upload temp files left behind" || ok "no upload temp files left behind"
req GET /api/health 200
