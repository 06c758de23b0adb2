#!/usr/bin/env bash
# The sector templates (models/<sector>/model.xmile): each is well-formed XML; once
# `tightrope simulate` exists, models/tools/check.py runs them through the engine: they
# simulate with exit 0, print no NaN/Inf, keep non-negative stocks non-negative (also with no
# budget, no customers, no staff, a 90 % smaller market), show each sector's key trade-off
# (lever low -> high serves one pole and costs the other), the "better before worse" shapes,
# and agree with the reference simulator in models/tools/sdlib.py. The generated files must
# also be up to date with models/tools (python3 models/tools/build.py).
. "$(dirname "$0")/../lib.sh"
for s in ecommerce manufacturing saas fintech healthtech; do
  check_status "$s: model.xmile is well-formed XML" 0 \
    python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "models/$s/model.xmile"
done
if "$TR" help 2>/dev/null | grep -q '^  simulate '; then
  check_status "templates are up to date with models/tools" 0 python3 models/tools/build.py --check
  python3 models/tools/check.py --engine "$TR"
fi
