#!/usr/bin/env bash
# The XMILE conformance suite (`make conformance`): every row of tests/conformance/cases.tsv is
# one model file of the sdxorg test-models suite. `run` rows are simulated with
#   $BUILD/tightrope simulate MODEL --format csv
# and compared with the expected output by $BUILD/tools/csvcompare; `error` rows must be
# refused with a matching message; `skip` rows (broken upstream) are listed with their reason.
# Vensim's control columns (INITIAL TIME, FINAL TIME, TIME STEP, SAVEPER) are checked only
# when the model defines them as variables: XMILE otherwise keeps them in <sim_specs>.
# Prints one row per case and ends with "conformance: N passed, N failed, N skipped"; exits 1
# when any case failed, 2 when the suite or the simulator is missing.
#
#   tests/conformance.sh [--tap] [FILTER]
# --tap prints TAP lines instead (tests/suites/conformance.sh); FILTER (grep -E) keeps the
# cases whose "folder/model" matches. Environment: BUILD (default build), TR_CONFORMANCE_DIR
# (default ../shared/conformance/sdxorg-test-models), TR_CONFORMANCE_TIMEOUT (seconds per
# model, default 60). Our outputs are kept in $BUILD/conformance/ for inspection.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
TR=${TR:-$BUILD/tightrope}
CMP=$BUILD/tools/csvcompare
DIR=${TR_CONFORMANCE_DIR:-../shared/conformance/sdxorg-test-models}
TIMEOUT=${TR_CONFORMANCE_TIMEOUT:-60}
CASES=tests/conformance/cases.tsv
OUT=$BUILD/conformance

tap=0
filter=
for a in "$@"; do
  case $a in
    --tap) tap=1 ;;
    *) filter=$a ;;
  esac
done

if [ ! -d "$DIR" ]; then
  echo "conformance: suite not found at $DIR (set TR_CONFORMANCE_DIR)" >&2
  exit 2
fi
if [ ! -x "$CMP" ]; then
  echo "conformance: $CMP not built (run make)" >&2
  exit 2
fi
if ! "$TR" simulate --help >/dev/null 2>&1; then
  echo "conformance: '$TR simulate' is not available" >&2
  exit 2
fi

n=0 passed=0 failed=0 skipped=0
report() { # status(PASS|FAIL|SKIP) case detail
  local st=$1 name=$2 detail=$3
  n=$((n + 1))
  if [ "$tap" -eq 1 ]; then
    case $st in
      PASS) echo "ok $n - conformance $name" ;;
      SKIP) echo "ok $n - conformance $name # SKIP $detail" ;;
      FAIL) echo "not ok $n - conformance $name"
            printf '%s\n' "$detail" | sed 's/^/# /' ;;
    esac
  else
    case $st in
      PASS) printf 'PASS  %s\n' "$name" ;;
      SKIP) printf 'SKIP  %s  (%s)\n' "$name" "$detail" ;;
      FAIL) printf 'FAIL  %s\n' "$name"
            printf '%s\n' "$detail" | sed 's/^/      /' ;;
    esac
  fi
}

mkdir -p "$OUT"
while IFS=$'\t' read -r num folder model expected action options; do
  case $num in '#'* | '') continue ;; esac
  name="$folder/$model"
  if [ -n "$filter" ] && ! printf '%s\n' "$name" | grep -qE -- "$filter"; then continue; fi
  verb=${action%% *}
  arg=${action#"$verb"}
  arg=${arg# }
  path="$DIR/$folder/$model"
  out="$OUT/$folder/$model.csv"
  err="$OUT/$folder/$model.err"
  mkdir -p "$OUT/$folder"
  # options: ignore=NAME|NAME (expected columns not checked), atol=X, method=M (simulate
  # --method M), separated by ';'
  ignore= atol= method=
  IFS=';' read -r -a opts <<<"${options:-}"
  for o in "${opts[@]}"; do
    case $o in
      ignore=*) ignore=${o#ignore=} ;;
      atol=*) atol=${o#atol=} ;;
      method=*) method=${o#method=} ;;
    esac
  done
  sim=("$TR" simulate "$path" --format csv)
  [ -n "$method" ] && sim+=(--method "$method")
  case $verb in
    skip)
      skipped=$((skipped + 1))
      report SKIP "$name" "$arg"
      ;;
    error)
      timeout "$TIMEOUT" "${sim[@]}" </dev/null >"$out" 2>"$err"
      rc=$?
      if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -lt 128 ] && grep -qE -- "$arg" "$err"; then
        passed=$((passed + 1))
        report PASS "$name" ""
      else
        failed=$((failed + 1))
        report FAIL "$name" "wanted a refusal matching /$arg/, got exit $rc: $(head -c 300 "$err")"
      fi
      ;;
    run)
      timeout "$TIMEOUT" "${sim[@]}" </dev/null >"$out" 2>"$err"
      rc=$?
      if [ "$rc" -ne 0 ]; then
        failed=$((failed + 1))
        what="exit $rc"
        [ "$rc" -eq 124 ] && what="timed out after ${TIMEOUT}s"
        report FAIL "$name" "simulate: $what: $(head -n 3 "$err" | head -c 400)"
        continue
      fi
      # Vensim's control variables: checked when the model defines them, else not asked for
      args=(--optional 'INITIAL TIME' --optional 'FINAL TIME' --optional 'TIME STEP'
            --optional SAVEPER)
      [ -n "$atol" ] && args+=(--atol "$atol")
      if [ -n "$ignore" ]; then
        IFS='|' read -r -a cols <<<"$ignore"
        for c in "${cols[@]}"; do args+=(--ignore "$c"); done
      fi
      if res=$("$CMP" "${args[@]}" --max-report 3 "$DIR/$folder/$expected" "$out" </dev/null 2>&1); then
        passed=$((passed + 1))
        report PASS "$name" ""
      else
        failed=$((failed + 1))
        report FAIL "$name" "$(printf '%s\n' "$res" | head -n 6)"
      fi
      ;;
    *)
      failed=$((failed + 1))
      report FAIL "$name" "cases.tsv: unknown action '$action'"
      ;;
  esac
done <"$CASES"

if [ "$tap" -eq 1 ]; then
  echo "# conformance: $passed passed, $failed failed, $skipped skipped"
else
  echo "conformance: $passed passed, $failed failed, $skipped skipped"
fi
[ "$failed" -eq 0 ]
