#!/usr/bin/env bash
# tightrope init: workspaces from the embedded sector templates.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for s in ecommerce manufacturing saas fintech healthtech; do
  check_output "--list names $s" "^$s " "$TR" init --list
done
check_status "unknown sector exits 2" 2 "$TR" init --sector sas "$tmp/x"
check_output "unknown sector suggests the closest" "did you mean 'saas'" "$TR" init --sector sas "$tmp/x"
check_status "missing --sector exits 2" 2 "$TR" init "$tmp/x"
check_status "missing DIR exits 2" 2 "$TR" init --sector saas
for s in ecommerce manufacturing saas fintech healthtech; do
  check_status "init --sector $s" 0 "$TR" init --sector "$s" "$tmp/$s"
  [ -s "$tmp/$s/model.xmile" ] && ok "$s: model.xmile written" || not_ok "$s: model.xmile missing"
  cmp -s "$tmp/$s/model.xmile" "models/$s/model.xmile" && ok "$s: model identical to the template" \
    || not_ok "$s: model differs from models/$s/model.xmile"
  check_status "$s: the new workspace's model simulates" 0 "$TR" simulate "$tmp/$s/model.xmile" -o "$tmp/$s/out.csv"
done
check_status "init into a used folder exits 2" 2 "$TR" init --sector saas "$tmp/saas"
check_output "and says --force" "use --force" "$TR" init --sector saas "$tmp/saas"
check_status "--force overwrites" 0 "$TR" init --sector saas --force "$tmp/saas"
