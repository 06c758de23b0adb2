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
