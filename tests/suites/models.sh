#!/usr/bin/env bash
# Golden models with analytic or hand-computed answers (tests/models/, written by
# tests/models/gen.py): each NAME.xmile is simulated with `tightrope simulate --format csv`
# and compared with NAME.csv by csvcompare (rel. tolerance 1e-4, or the options in NAME.cmp
# where the expected values are an analytic answer that a finite dt only approaches).
# Then: parse errors in model files (exit 2 and file:line:col), save points from the step
# index, and the order of Euler, RK2 and RK4 measured from the error ratio when dt is
# halved. Prints nothing while `simulate` does not exist yet.
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib.sh
CMP="$BUILD/tools/csvcompare"
[ -x "$TR" ] || exit 0
"$TR" help 2>/dev/null | grep -qE '^  simulate ' || exit 0
if [ ! -x "$CMP" ]; then
  not_ok "models: $CMP is missing"
  exit 1
fi
tr_abs=$(cd "$(dirname "$TR")" && pwd)/$(basename "$TR")
out=$(mktemp -d)
trap 'rm -rf "$out" /tmp/tr_suite_out.$$' EXIT

# simulate NAME OUTFILE [options...] — run the simulator on tests/models/NAME.xmile
simulate() {
  local name=$1 dest=$2
  shift 2
  "$TR" simulate "tests/models/$name.xmile" --format csv "$@" >"$dest" 2>"$dest.err"
}

# column VALUE of header NAME at the row whose time is T (first column), from a CSV
value_at() {
  awk -F, -v col="$2" -v t="$3" '
    NR == 1 { for (i = 1; i <= NF; i++) { h = $i; gsub(/"/, "", h); if (h == col) c = i } next }
    c && ($1 - t < 1e-9 && t - $1 < 1e-9) { print $c; exit }' "$1"
}

for model in tests/models/*.xmile; do
  name=$(basename "$model" .xmile)
  [ -f "tests/models/$name.csv" ] || continue
  opts=()
  [ -f "tests/models/$name.cmp" ] && read -r -a opts <"tests/models/$name.cmp"
  if ! simulate "$name" "$out/$name.csv"; then
    not_ok "models-$name: simulate failed"
    sed 's/^/# /' "$out/$name.csv.err" | head -5
    continue
  fi
  if "$CMP" "${opts[@]}" "tests/models/$name.csv" "$out/$name.csv" >"$out/$name.cmp" 2>&1; then
    ok "models-$name: matches tests/models/$name.csv ${opts[*]}"
  else
    not_ok "models-$name: differs from tests/models/$name.csv ${opts[*]}"
    sed 's/^/# /' "$out/$name.cmp" | head -8
  fi
done

# Bad equations in a model file: exit status 2 and the parser's message at the right
# file:line:col (tests/models/bad/NAME.err holds the expected first line of stderr, with
# the path relative to tests/models/bad).
for model in tests/models/bad/*.xmile; do
  name=$(basename "$model" .xmile)
  want=$(head -1 "tests/models/bad/$name.err")
  (cd tests/models/bad && "$tr_abs" simulate "$name.xmile" --format csv) \
    >"$out/bad.out" 2>"$out/bad.err"
  rc=$?
  got=$(head -1 "$out/bad.err")
  if [ "$rc" -eq 2 ] && [ "$got" = "$want" ]; then
    ok "models-bad-$name: exit 2, $want"
  else
    not_ok "models-bad-$name: exit $rc, '$got' (wanted exit 2, '$want')"
  fi
done

# Save points come from the step index: start 1, dt 0.1, stop 3 gives 21 rows whose times
# are 1 + n*0.1 (not a running sum, which drifts by ~1e-16 a step).
if [ -s "$out/savepoints.csv" ]; then
  rows=$(awk 'NR > 1 && NF' "$out/savepoints.csv" | wc -l)
  drift=$(awk -F, 'NR > 1 && NF { d = $1 - (1 + (NR - 2) * 0.1); if (d < 0) d = -d;
                    if (d > m) m = d } END { printf "%.3g", m + 0 }' "$out/savepoints.csv")
  if [ "$rows" -eq 21 ] && awk -v d="$drift" 'BEGIN { exit !(d < 1e-12) }'; then
    ok "models-savepoints: 21 save points at t = 1 + n*0.1"
  else
    not_ok "models-savepoints: $rows save points (wanted 21), time drift $drift"
  fi
fi

# The method can be chosen on the command line: the Euler model run with --method rk4 must
# give the RK4 recurrence.
if simulate decay_euler "$out/m.csv" --method rk4 &&
  "$CMP" tests/models/decay_rk4.csv "$out/m.csv" >"$out/m.cmp" 2>&1; then
  ok "models-decay: --method rk4 overrides the file's method"
else
  not_ok "models-decay: --method rk4 does not give the RK4 recurrence"
  sed 's/^/# /' "$out/m.cmp" "$out/m.csv.err" 2>/dev/null | head -5
fi

# Order of accuracy on dx/dt = -x against e^-t at t = 4: halving dt divides the error by
# about 2^p (p = 1 Euler, 2 RK2, 4 RK4).
for spec in "euler 1.7 2.3" "rk2 3.4 4.8" "rk4 13 20"; do
  read -r m lo hi <<<"$spec"
  if simulate "decay_$m" "$out/c1.csv" --dt 0.25 && simulate "decay_$m" "$out/c2.csv" --dt 0.125
  then
    x1=$(value_at "$out/c1.csv" x 4)
    x2=$(value_at "$out/c2.csv" x 4)
    ratio=$(awk -v a="$x1" -v b="$x2" 'BEGIN { e = exp(-4); d1 = a - e; d2 = b - e;
      if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2; if (d2 == 0 || a == "" || b == "") print "nan";
      else printf "%.4g", d1 / d2 }')
    if awk -v r="$ratio" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(r >= lo && r <= hi) }'; then
      ok "models-order-$m: error ratio $ratio when dt is halved (wanted $lo..$hi)"
    else
      not_ok "models-order-$m: error ratio $ratio when dt is halved (wanted $lo..$hi;" \
        "x(4) = $x1, $x2)"
    fi
  else
    not_ok "models-order-$m: simulate --dt failed"
  fi
done
