#!/usr/bin/env bash
# The run limits of `tightrope serve` (--max-runs, tr_server_options.max_runs and
# max_wait_runs): with the defaults the routes refuse what they always refused, word for word;
# with --max-runs N a request over N gets a 400 naming N, and the routes' default run counts
# are lowered to N.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
ws=$tmp/ws
"$TR" init --sector saas "$ws" >/dev/null || { not_ok "init"; exit 1; }
trap 'serve_stop; rm -rf "$tmp"' EXIT
H="X-Tightrope-Token: $(cat "$ws/.tightrope/token" 2>/dev/null)"


check_status "--max-runs 0 is a usage error" 2 "$TR" serve "$ws" --port 0 --max-runs 0
check_status "--max-runs abc is a usage error" 2 "$TR" serve "$ws" --port 0 --max-runs abc
check_output "--help lists --max-runs" "--max-runs N" "$TR" serve --help

# The defaults: 100,000 runs, 10,000 answered at once.
serve_start "$ws" || exit 1
H="X-Tightrope-Token: $(cat "$ws/.tightrope/token")"
req POST /api/scenarios 400 -H "$H" -d '{"runs":100001}'
has '"message":"runs must be a whole number in 1..100000"' "default limit named"
req POST /api/scenarios 400 -H "$H" -d '{"runs":10001,"wait":true}'
has '"message":"wait is for at most 10000 runs; submit a job for more"' "default wait limit named"
req GET '/api/assess?runs=100001' 400
has '"message":"runs must be a whole number in 1..100000"' "default assess limit named"
# A seed past 2^53 is not a whole number JSON can carry (past 2^64 not even a seed).
req POST /api/scenarios 400 -H "$H" -d '{"seed":1e300,"runs":2,"wait":true}'
has '"message":"seed must be at most 9007199254740992 (2^53)"' "a huge seed is refused"
req POST /api/scenarios 200 -H "$H" -d '{"seed":9007199254740992,"runs":2,"wait":true,"vars":["cash"]}'
has '"runs":2,' "the largest seed runs"
has '"seed":9007199254740992,' "the largest seed comes back digit for digit"
req POST /api/scenarios 200 -H "$H" -d '{"seed":1234567890123457,"runs":2,"wait":true,"vars":["cash"]}'
has '"seed":1234567890123457,' "a 16-digit seed comes back exact"

# At most 64 jobs queued or running (each holds a thread and its prepared study): the 65th
# gets a 429, and cancelling them makes room again.
n202=0
for _ in $(seq 64); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$H" -d '{"runs":100000,"vars":["cash"]}' "$base/api/scenarios")
  [ "$code" = 202 ] && n202=$((n202 + 1))
done
[ "$n202" = 64 ] && ok "64 jobs start" || not_ok "only $n202 of 64 jobs started"
req POST /api/scenarios 429 -H "$H" -d '{"runs":10,"vars":["cash"]}'
has '"message":"too many jobs queued or running; wait for one to end or cancel one"' "the 65th job is refused"
for id in $(seq 1 64); do curl -s -o /dev/null -X DELETE -H "$H" "$base/api/jobs/$id"; done
for _ in $(seq 200); do
  curl -s "$base/api/jobs" | grep -q '"state":"\(queued\|running\)"' || break
  sleep 0.1
done
req POST /api/scenarios 202 -H "$H" -d '{"runs":10,"vars":["cash"]}'
has '"id":65' "once cancelled, there is room for a job again"
serve_stop

# --max-runs 50: both routes hold to 50 runs, and their defaults come down to it.
serve_start "$ws" --max-runs 50 || exit 1
req POST /api/scenarios 400 -H "$H" -d '{"runs":51}'
has '"message":"runs must be a whole number in 1..50"' "the lowered limit is named"
req POST /api/scenarios 400 -H "$H" -d '{"runs":51,"wait":true}'
req POST /api/scenarios 200 -H "$H" -d '{"runs":50,"wait":true,"vars":["cash"]}'
has '"runs":50,' "a request of exactly the limit runs"
req POST /api/scenarios 200 -H "$H" -d '{"wait":true,"vars":["cash"]}'
has '"runs":50,' "the default 1000 runs are lowered to the limit"
req GET '/api/assess?runs=51' 400
has '"message":"runs must be a whole number in 1..50"' "assess names the lowered limit"
req GET '/api/assess' 200
has '"runs":50,' "assess's default 200 runs are lowered to the limit"
req GET '/api/assess?runs=7' 200
has '"runs":7,' "assess runs what it is asked within the limit"

# An unknown name of a megabyte gets its 422 at once: no "did you mean" (an edit distance to
# every model name, seconds of CPU per request before).
python3 -c "print('{\"vars\": [\"' + 'q' * 1000000 + '\"], \"wait\": true}')" >"$tmp/long.json"
req POST /api/scenarios 422 -H "$H" --max-time 10 --data-binary @"$tmp/long.json"
req POST /api/simulate 422 -H "$H" --max-time 10 --data-binary @"$tmp/long.json"
python3 -c "print('{\"set\": {\"' + 'q' * 1000000 + '\": 1}}')" >"$tmp/long.json"
req POST /api/simulate 422 -H "$H" --max-time 10 --data-binary @"$tmp/long.json"
serve_stop
