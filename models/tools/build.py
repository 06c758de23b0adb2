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
