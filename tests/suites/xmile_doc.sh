#!/usr/bin/env bash
# docs/xmile.md stays true to the builtin table: every builtin the engine knows has exactly
# one row between the builtins:begin/end markers, with the same number of arguments and a
# valid status, and every row there names a builtin. One TAP line per builtin and per row.
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
. tests/lib.sh
doc=docs/xmile.md
tool="$BUILD/tools/exprgolden"
if [ ! -x "$tool" ] || [ ! -f "$doc" ]; then
  not_ok "$tool and $doc are needed"
  exit 1
fi
table=$("$tool" --builtins)
# rows: "NAME<TAB>arguments<TAB>status" from the markdown table between the markers
rows=$(awk -F'|' '/<!-- builtins:begin/{f=1;next} /<!-- builtins:end/{f=0}
  f && /^\|/ {
    for (i = 2; i <= 5; i++) gsub(/^[ \t]+|[ \t]+$/, "", $i)
    if ($2 == "builtin" || $2 ~ /^-+$/) next
    printf "%s\t%s\t%s\n", $2, $3, $5
  }' "$doc")
while IFS=$'\t' read -r name args; do
  n=$(printf '%s\n' "$rows" | awk -F'\t' -v n="$name" '$1 == n' | wc -l)
  row=$(printf '%s\n' "$rows" | awk -F'\t' -v n="$name" '$1 == n {print; exit}')
  dargs=$(printf '%s' "$row" | cut -f2)
  status=$(printf '%s' "$row" | cut -f3)
  if [ "$n" -ne 1 ]; then
    not_ok "xmile-doc: builtin $name has $n rows in $doc (wanted 1)"
  elif [ "$dargs" != "$args" ]; then
    not_ok "xmile-doc: $name takes '$args' arguments but $doc says '$dargs'"
  elif ! printf '%s' "$status" | grep -qxE 'supported|partial|not yet'; then
    not_ok "xmile-doc: $name has status '$status' (supported, partial or not yet)"
  else
    ok "xmile-doc: $name documented ($args; $status)"
  fi
done <<<"$table"
while IFS=$'\t' read -r name _; do
  [ -n "$name" ] || continue
  if printf '%s\n' "$table" | cut -f1 | grep -qxF -- "$name"; then
    ok "xmile-doc: row $name is a builtin"
  else
    not_ok "xmile-doc: row $name in $doc is not in the builtin table"
  fi
done <<<"$rows"
