#!/usr/bin/env bash
# bench/server: `tightrope serve` under wrk (Debian's wrk), each figure beside a baseline
# measured in the same run on the same server — a static asset — so the ratios mean something
# on a shared, noisy machine:
#   - requests/s and p99 latency of GET /api/health and of a cached GET /api/assess, against
#     GET /app.js (an embedded static asset);
#   - p99 of GET /api/health while a 100,000-run Monte Carlo job runs, against the idle p99.
# Usage: bench/server.sh [SECONDS per measurement, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
TR=$BUILD/tightrope
SECS=${1:-5}
command -v wrk >/dev/null || { echo "bench/server: wrk is not installed (apt-get install wrk)"; exit 1; }
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
"$TR" init --sector saas "$tmp/ws" >/dev/null
"$TR" serve "$tmp/ws" --port 0 --threads 4 >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q serving "$tmp/log" && break; sleep 0.1; done
port=$(sed -n 's/.*on http:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "$tmp/log")
base=http://127.0.0.1:$port
tok=$(cat "$tmp/ws/.tightrope/token")
curl -sf "$base/api/assess" >/dev/null # fill the cache

# measure PATH → "RPS P99_MS"
measure() {
  wrk -t2 -c16 -d"${SECS}s" --latency "$base$1" >"$tmp/wrk" 2>&1
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$tmp/wrk")
  echo "$rps $p99"
}
read -r s_rps s_p99 < <(measure /app.js)
read -r h_rps h_p99 < <(measure /api/health)
read -r a_rps a_p99 < <(measure /api/assess)
curl -sf -X POST -H "X-Tightrope-Token: $tok" -d '{"runs":100000}' "$base/api/scenarios" >/dev/null
sleep 0.5
read -r b_rps b_p99 < <(measure /api/health)
state=$(curl -s "$base/api/jobs/1" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p')

printf '%-38s %12s %10s %16s\n' "request" "req/s" "p99 ms" "ratio to static"
printf '%-38s %12.0f %10.3f %16s\n' "GET /app.js (static baseline)" "$s_rps" "$s_p99" "1.00"
printf '%-38s %12.0f %10.3f %16.2f\n' "GET /api/health" "$h_rps" "$h_p99" "$(awk -v a="$h_rps" -v b="$s_rps" 'BEGIN{print a/b}')"
printf '%-38s %12.0f %10.3f %16.2f\n' "GET /api/assess (cached)" "$a_rps" "$a_p99" "$(awk -v a="$a_rps" -v b="$s_rps" 'BEGIN{print a/b}')"
printf '%-38s %12.0f %10.3f %16s\n' "GET /api/health during a 100k-run job" "$b_rps" "$b_p99" "job: $state"
printf 'p99 of /api/health while the job runs, against idle: %.2fx\n' "$(awk -v a="$b_p99" -v b="$h_p99" 'BEGIN{print a/b}')"
