#!/usr/bin/env bash
# Every example in the documentation runs (STYLE rule 13). Each fenced ```sh block of
# README.md, docs/*.md and the template READMEs (models/README.md, models/*/README.md) runs
# with `bash -e` in a scratch folder, one folder per document (so a document's blocks build on
# each other, in order), with `tightrope` on PATH and the repository's models/ linked in.
# One TAP line per block, named by FILE:LINE. HTML comments on the lines just above a block
# say more about it (they do not show when the Markdown is rendered):
#   <!-- no-test: WHY -->       do not run it (serve blocks; keep these rare)
#   <!-- exit: N -->            it must end with status N (default 0)
#   <!-- expect: REGEX -->      its stdout+stderr must match the grep -E REGEX (repeatable)
. "$(dirname "$0")/../lib.sh"
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" /tmp/tr_suite_out.$$' EXIT
mkdir -p "$tmp/bin"
ln -s "$(realpath "$TR")" "$tmp/bin/tightrope"
MAX_SKIPPED=5 # no-test blocks allowed across all documents

# extract DOC DIR — writes DIR/N.sh (the block) and DIR/N.meta (its line and markers) for
# each ```sh block of DOC, N = 1, 2, ...; markers are the comment lines directly above the
# fence (a blank or text line in between detaches them).
extract() {
  awk -v dir="$2" '
    /^```sh[[:space:]]*$/ && !inblock {
      n++; inblock = 1
      meta = dir "/" n ".meta"; code = dir "/" n ".sh"
      printf "line %d\n", NR > meta
      for (i = 1; i <= nm; i++) print markers[i] > meta
      close(meta); printf "" > code
      nm = 0; next
    }
    /^```/ && inblock { inblock = 0; close(code); next }
    inblock { print > code; next }
    /^<!-- *(no-test|exit|expect)( *-->|[: ])/ {
      m = $0; sub(/^<!-- */, "", m); sub(/ *-->[[:space:]]*$/, "", m)
      markers[++nm] = m; next
    }
    /^<!--.*-->[[:space:]]*$/ { next }  # other comments (e.g. plan-example) keep markers
    { nm = 0 }
  ' "$1"
}

# run_block DIR N WORKDIR — runs DIR/N.sh in WORKDIR; sets `problem` to what went wrong
# ("" when the exit status and every expectation of DIR/N.meta hold) and leaves the output
# in $tmp/out.txt.
run_block() {
  local want got re
  want=$(sed -n 's/^exit: *//p' "$1/$2.meta")
  want=${want:-0}
  (cd "$3" && PATH="$tmp/bin:$PATH" timeout 600 bash -e "$1/$2.sh") >"$tmp/out.txt" 2>&1
  got=$?
  problem=
  [ "$got" -eq "$want" ] || problem="exit $got, wanted $want"
  while IFS= read -r re; do
    [ -n "$problem" ] && break
    grep -qE -- "$re" "$tmp/out.txt" || problem="no match for /$re/"
  done < <(sed -n 's/^expect: *//p' "$1/$2.meta")
}

docs=(README.md docs/*.md models/README.md models/*/README.md)
total=0
skipped=0
for doc in "${docs[@]}"; do
  [ -f "$doc" ] || continue
  name=$(echo "$doc" | tr '/.' '__')
  blocks="$tmp/blocks/$name"
  work="$tmp/work/$name"
  mkdir -p "$blocks" "$work"
  ln -s "$root/models" "$work/models"
  extract "$doc" "$blocks"
  n=1
  while [ -f "$blocks/$n.sh" ]; do
    total=$((total + 1))
    line=$(sed -n 's/^line //p' "$blocks/$n.meta")
    first=$(grep -m1 -v '^[[:space:]]*\(#.*\)\?$' "$blocks/$n.sh" | cut -c1-60)
    desc="$doc:$line: $first"
    if grep -q '^no-test' "$blocks/$n.meta"; then
      skipped=$((skipped + 1))
      ok "$desc # SKIP $(sed -n 's/^no-test:* *//p' "$blocks/$n.meta")"
    else
      run_block "$blocks" "$n" "$work"
      if [ -z "$problem" ]; then
        ok "$desc"
      else
        not_ok "$desc ($problem)"
        sed 's/^/#   | /' "$blocks/$n.sh" | head -10
        sed 's/^/# /' "$tmp/out.txt" | tail -15
      fi
    fi
    n=$((n + 1))
  done
done

# The extraction could fail silently (a changed fence style): insist on a floor of examples,
# and on skipped blocks staying rare.
[ "$total" -ge 20 ] && ok "found $total shell examples" || not_ok "found only $total shell examples"
[ "$skipped" -le "$MAX_SKIPPED" ] && ok "$skipped blocks marked no-test (at most $MAX_SKIPPED)" ||
  not_ok "$skipped blocks marked no-test (at most $MAX_SKIPPED): make them run"

# Links between the pages resolve (relative file links; web addresses and anchors are not
# followed), and the README's Documentation list names every page of docs/.
broken=
for doc in "${docs[@]}"; do
  while IFS= read -r target; do
    target=${target%%#*}
    [ -e "$(dirname "$doc")/$target" ] || broken="$broken $doc->$target"
  done < <(grep -oE '\]\([^)#:][^):]*\)' "$doc" | sed 's/^](//; s/)$//')
done
[ -z "$broken" ] && ok "every relative link between the documents resolves" ||
  not_ok "broken links:$broken"
unlisted=
for page in docs/*.md; do
  sed -n '/^## Documentation/,/^## /p' README.md | grep -qF "]($page)" || unlisted="$unlisted $page"
done
[ -z "$unlisted" ] && ok "README's Documentation list links every page of docs/" ||
  not_ok "README's Documentation list lacks:$unlisted"

# The checker checks itself on a scratch document: markers attach only to the block right
# below them, and a failing command, a wrong exit status or an unmatched expectation is
# caught.
self="$tmp/self"
mkdir -p "$self/blocks" "$self/work"
{
  echo '<!-- exit: 3 -->'
  echo '<!-- expect: ^hello$ -->'
  echo '```sh'
  echo 'echo hello'
  echo 'exit 3'
  echo '```'
  echo '<!-- no-test: blocks -->'
  echo
  echo '```sh'
  echo 'this-command-does-not-exist'
  echo 'echo not reached'
  echo '```'
} >"$self/doc.md"
extract "$self/doc.md" "$self/blocks"
if grep -qxF 'exit: 3' "$self/blocks/1.meta" && grep -qxF 'expect: ^hello$' "$self/blocks/1.meta" &&
  [ "$(cat "$self/blocks/1.sh")" = "$(printf 'echo hello\nexit 3')" ] &&
  ! grep -q no-test "$self/blocks/2.meta"; then
  ok "extractor: markers attach to the block right below them only"
else
  not_ok "extractor: markers attach to the block right below them only"
fi
run_block "$self/blocks" 1 "$self/work"
[ -z "$problem" ] && ok "checker: exit 3 and output as marked pass" ||
  not_ok "checker: exit 3 and output as marked fail ($problem)"
run_block "$self/blocks" 2 "$self/work"
[ "$problem" = "exit 127, wanted 0" ] && ! grep -q 'not reached' "$tmp/out.txt" &&
  ok "checker: a failing command stops its block and fails it" ||
  not_ok "checker: a failing command is not caught ('$problem')"
sed -i 's/^exit: 3$/exit: 0/' "$self/blocks/1.meta"
run_block "$self/blocks" 1 "$self/work"
[ "$problem" = "exit 3, wanted 0" ] && ok "checker: a wrong exit status is caught" ||
  not_ok "checker: a wrong exit status is not caught ('$problem')"
printf 'line 1\nexpect: ^bye$\n' >"$self/blocks/1.meta"
echo 'echo hello' >"$self/blocks/1.sh"
run_block "$self/blocks" 1 "$self/work"
[ "$problem" = 'no match for /^bye$/' ] && ok "checker: an unmatched expectation is caught" ||
  not_ok "checker: an unmatched expectation is not caught ('$problem')"
