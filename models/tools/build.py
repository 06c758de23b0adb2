#!/usr/bin/env python3
"""Regenerate models/<sector>/model.xmile and the generated parts of each README.

    python3 models/tools/build.py            # write every template
    python3 models/tools/build.py --check    # fail if a written file is out of date
    python3 models/tools/build.py --sim SECTOR [NAME=VALUE ...] [--vars a,b]
                                             # run the reference simulator, print CSV

The model of each sector lives in models/tools/<sector>.py (the common core in core.py);
the README text outside the generated block is written by hand.
"""

import importlib
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

SECTORS = ['ecommerce', 'manufacturing', 'saas', 'fintech', 'healthtech']
BEGIN = '<!-- BEGIN GENERATED: parameters (models/tools/build.py) -->'
END = '<!-- END GENERATED -->'


def load(sector):
    return importlib.import_module(sector).build()


def generated_block(m):
    return '\n'.join([
        BEGIN,
        '## Parameters',
        '',
        'Every constant of the model, its value and where the value comes from. Levers are '
        'marked with their sensible range; a plan binds them.',
        '',
        m.params_table(),
        '',
        '## Graphical functions (effects)',
        '',
        m.gf_table(),
        END])


def readme_text(m, old):
    block = generated_block(m)
    if old and BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        return head + block + tail
    return (old or '# %s\n\n' % m.title) + '\n' + block + '\n'


def plan_kpis(sector):
    """(kpi id, model variable) of the scorecard KPIs in models/<sector>/plan.yaml that name
    a variable. A line-based reading of the plan's own layout (no YAML library needed)."""
    path = os.path.join(ROOT, sector, 'plan.yaml')
    if not os.path.exists(path):
        return []
    out, in_kpis, cur = [], False, None
    for line in open(path):
        if line.startswith('  kpis:'):
            in_kpis = True
            continue
        if in_kpis and line.startswith('  ') and not line.startswith('    '):
            break
        if not in_kpis:
            continue
        t = line.strip()
        if t.startswith('- id:'):
            cur = t.split(':', 1)[1].strip()
        elif t.startswith('variable:') and cur:
            out.append((cur, t.split(':', 1)[1].strip()))
    return out


def plain(v):
    """v to 4 significant digits, written without an exponent."""
    if v == 0:
        return '0'
    digits = int(math.floor(math.log10(abs(v)))) + 1
    return '%.*f' % (max(0, 4 - digits), round(v, 4 - digits))


def kpi_history(sector, m):
    """An illustrative three-year KPI history for the example workspace: the template's own
    baseline run, months 0-35, dated 2023-01 to 2025-12, with +-2 % measurement noise from a
    fixed xorshift generator (so the file is reproducible). Not real company data."""
    kpis = plan_kpis(sector)
    if not kpis:
        return None
    r = m.simulate()
    state = [0x9E3779B9 ^ sum(ord(c) * 131 ** i for i, c in enumerate(sector)) & 0xFFFFFFFF]

    def noise():
        x = state[0] or 1
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        state[0] = x
        return (x / 0xFFFFFFFF - 0.5) * 0.04

    lines = ['date,kpi,value,source']
    for month in range(36):
        i = int(round(month / m.dt))
        date = '%d-%02d' % (2023 + month // 12, month % 12 + 1)
        for kpi, var in kpis:
            v = r[var][i] * (1 + noise())
            lines.append('%s,%s,%s,template simulation (illustrative)' % (date, kpi, plain(v)))
    return '\n'.join(lines) + '\n'


def write_all(check):
    stale = []
    for s in SECTORS:
        m = load(s)
        d = os.path.join(ROOT, s)
        os.makedirs(d, exist_ok=True)
        outputs = {}
        outputs[os.path.join(d, 'model.xmile')] = m.to_xmile()
        rp = os.path.join(d, 'README.md')
        old = open(rp).read() if os.path.exists(rp) else None
        outputs[rp] = readme_text(m, old)
        hist = kpi_history(s, m)
        if hist:
            outputs[os.path.join(d, 'kpi_history.csv')] = hist
        for path, text in outputs.items():
            cur = open(path).read() if os.path.exists(path) else None
            if cur != text:
                stale.append(path)
                if not check:
                    with open(path, 'w') as f:
                        f.write(text)
    bass = load('bass')
    path = os.path.join(HERE, 'bass.xmile')
    text = bass.to_xmile()
    cur = open(path).read() if os.path.exists(path) else None
    if cur != text:
        stale.append(path)
        if not check:
            with open(path, 'w') as f:
                f.write(text)
    if check and stale:
        print('out of date: ' + ', '.join(stale))
        return 1
    return 0


def simulate(argv):
    import sdlib
    sector = argv[0]
    m = load(sector)
    ov, names = {}, None
    i = 1
    while i < len(argv):
        if argv[i] == '--vars':
            names = argv[i + 1].split(',')
            i += 2
            continue
        k, v = argv[i].split('=', 1)
        ov[k] = float(v)
        i += 1
    sim = sdlib.Sim(m, ov)
    r = sim.run(m.stop)
    names = names or [v.name for v in m.vars]
    print(','.join(['Time'] + names))
    for j, t in enumerate(r['Time']):
        print(','.join(['%.10g' % t] + ['%.10g' % r[n][j] for n in names]))
    return 0


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '--sim':
        sys.exit(simulate(sys.argv[2:]))
    sys.exit(write_all('--check' in sys.argv))
