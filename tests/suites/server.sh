#!/usr/bin/env bash
# HTTP API of `tightrope serve`: routing, auth, limits and hostile requests. Each request is
# checked for its status; after the hostile ones the server must still answer /api/health.
. "$(dirname "$0")/../lib.sh"
command -v curl >/dev/null || { echo "# curl missing"; exit 1; }

tmp=$(mktemp -d)
ws=$tmp/ws
mkdir "$ws"
trap 'serve_stop; rm -rf "$tmp"' EXIT
serve_start "$ws" || exit 1
ok "server started on port $port"
log=$serve_log
token=$(cat "$ws/.tightrope/token")

# status METHOD PATH WANT [curl args...]
status() {
  local m=$1 p=$2 want=$3; shift 3
  local got
  got=$(curl -s --path-as-is -o "$tmp/body" -w '%{http_code}' -X "$m" "$@" "$base$p")
  if [ "$got" = "$want" ]; then ok "$m $p → $want"; else not_ok "$m $p → $got (wanted $want)"; head -c 300 "$tmp/body" | sed 's/^/# /'; echo; fi
}
json_error() { # the last body is a JSON error object
  if grep -q '"error":{"status":' "$tmp/body"; then ok "$1: JSON error body"; else not_ok "$1: JSON error body"; fi
}

check_output "token printed once on first start" "#token=$token" cat "$log"
mode=$(stat -c %a "$ws/.tightrope/token")
[ "$mode" = 600 ] && ok "token file mode 0600" || not_ok "token file mode is $mode"

status GET /api/health 200
grep -q '"status":"ok"' "$tmp/body" && ok "health says ok" || not_ok "health body"
status GET /api 200
grep -q '"/api/health"' "$tmp/body" && ok "/api lists the routes" || not_ok "/api listing"
# docs/api.md documents exactly the routes of the route table
routes=$(grep -o '"method":"[A-Z]*","path":"[^"]*"' "$tmp/body" | sed 's/"method":"\([A-Z]*\)","path":"\([^"]*\)"/\1 \2/')
while read -r m p; do
  grep -qF "| $m | \`$p\` |" docs/api.md && ok "docs/api.md documents $m $p" || not_ok "docs/api.md lacks $m $p"
done <<<"$routes"
documented=$(grep -cE '^\| (GET|POST|PUT|DELETE) \| `/api' docs/api.md)
[ "$documented" -eq "$(wc -l <<<"$routes")" ] && ok "docs/api.md has no route the server lacks" \
  || not_ok "docs/api.md documents $documented routes, the server has $(wc -l <<<"$routes")"
status GET / 200
grep -q '<title>tightrope</title>' "$tmp/body" && ok "index page served from the binary" || not_ok "index page"
status GET /app.js 200
status GET /uplot.js 200

headers=$(curl -s -D - -o /dev/null "$base/api/health")
for h in "Content-Security-Policy: default-src 'self'" "X-Content-Type-Options: nosniff" "X-Frame-Options: DENY"; do
  echo "$headers" | grep -qi "^$h" && ok "header $h" || not_ok "header $h missing"
done
echo "$headers" | grep -qi '^Access-Control-Allow-Origin' && not_ok "no CORS header" || ok "no CORS header"

# hostile and malformed requests
status GET /api/nosuch 404; json_error "unknown route"
status GET /nosuch.html 404
status GET /../etc/passwd 400; json_error "dot-dot path"
status GET /api/../api/health 400
status GET '/%2e%2e/etc/passwd' 400
status POST /api/health 401; json_error "write without token"
status POST /api/health 403 -H "X-Tightrope-Token: wrong"
status POST /api/health 405 -H "X-Tightrope-Token: $token"
status DELETE /api/jobs/1 401
status DELETE /api/jobs/999 404 -H "X-Tightrope-Token: $token"
status DELETE /api/jobs/abc 404 -H "X-Tightrope-Token: $token"
status OPTIONS /api/health 405 -H "Origin: http://evil.example"
status GET /api/jobs/0 404
head -c 9000000 /dev/zero | tr '\0' 'a' >"$tmp/big"
status POST /api/jobs 413 -H "X-Tightrope-Token: $token" --data-binary @"$tmp/big"
status PUT /index.html 405 -H "X-Tightrope-Token: $token" -d x
# a request line of garbage and a truncated request must not take the server down
printf 'GARBAGE\r\n\r\n' | timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat >&3; cat <&3" >/dev/null 2>&1
printf 'POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc' | timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat >&3" >/dev/null 2>&1
status GET /api/health 200

# a second start reuses the token and does not print it
serve_stop
serve_start "$ws" || exit 1
grep -q "#token=" "$serve_log" && not_ok "token shown again on restart" || ok "token not shown again on restart"
serve_stop

# bound to a non-loopback address (0.0.0.0), even reads need the token
serve_start "$ws" --bind 0.0.0.0 || exit 1
status GET /api/health 401
status GET /api/health 200 -H "X-Tightrope-Token: $token"
serve_stop

check_status "bad --port exits 2" 2 "$TR" serve "$ws" --port 99999
check_status "bad --bind exits 2" 2 "$TR" serve "$ws" --bind not-an-address
