# Helpers for suite scripts (sourced, not run: the runner only runs tests/suites/*.sh files
# that are not this one). Each check prints one TAP line.
TR=${TR:-$BUILD/tightrope}
_n=0
ok()     { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $*"; }
# check DESC EXPECTED_STATUS CMD... — run CMD, compare its exit status.
check_status() {
  local desc=$1 want=$2; shift 2
  "$@" >/tmp/tr_suite_out.$$ 2>&1
  local got=$?
  if [ "$got" -eq "$want" ]; then ok "$desc"; else not_ok "$desc (exit $got, wanted $want)"; sed 's/^/# /' /tmp/tr_suite_out.$$ | head -5; fi
}
# check_output DESC PATTERN CMD... — run CMD, its stdout+stderr must match the grep -E PATTERN.
check_output() {
  local desc=$1 pat=$2; shift 2
  "$@" >/tmp/tr_suite_out.$$ 2>&1
  if grep -qE -- "$pat" /tmp/tr_suite_out.$$; then ok "$desc"; else not_ok "$desc (no match for /$pat/)"; sed 's/^/# /' /tmp/tr_suite_out.$$ | head -5; fi
}
trap 'rm -f /tmp/tr_suite_out.$$' EXIT

# serve_start WS [ARGS...] — start `tightrope serve WS --port 0 ARGS` in the background and
# wait until it listens. Sets serve_pid, port and base (http://127.0.0.1:PORT); the log is
# $WS.serve.log. Prints a TAP failure and returns 1 when it does not start. serve_stop ends it.
serve_start() {
  local ws=$1; shift
  serve_log=$ws.serve.log
  "$TR" serve "$ws" --port 0 "$@" >"$serve_log" 2>&1 &
  serve_pid=$!
  # up to 60 s: under ASan on a loaded 2-core machine a start can take seconds
  for _ in $(seq 600); do grep -q "serving" "$serve_log" && break; sleep 0.1; done
  port=$(sed -n 's/.*serving .* on http:\/\/[0-9.]*:\([0-9]*\)\/.*/\1/p' "$serve_log" | head -1)
  base="http://127.0.0.1:$port"
  if [ -z "$port" ]; then not_ok "server started"; sed 's/^/# /' "$serve_log"; return 1; fi
}
serve_stop() {
  [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  serve_pid=
}

# req METHOD PATH WANT [curl args] — a request to the server of serve_start: checks the status
# and keeps the body in $tmp/body (the suite sets tmp). has PATTERN DESC — the body matches.
req() {
  local m=$1 p=$2 want=$3; shift 3
  local got
  got=$(curl -s -o "$tmp/body" -w '%{http_code}' -X "$m" "$@" "$base$p")
  if [ "$got" = "$want" ]; then ok "$m $p → $want"; else not_ok "$m $p → $got (wanted $want)"; head -c 300 "$tmp/body" | sed 's/^/# /'; echo; fi
}
has() { grep -q -- "$1" "$tmp/body" && ok "$2" || { not_ok "$2"; head -c 300 "$tmp/body" | sed 's/^/# /'; echo; }; }
