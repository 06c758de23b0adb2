#!/usr/bin/env python3
"""Behaviour checks of the sector templates, printed as TAP lines.

    check.py --engine PATH/tightrope   run every check with `tightrope simulate`
    check.py --reference               run them with the reference simulator (sdlib.py)

Each template must: simulate (exit 0) with no NaN/Inf; keep its non-negative stocks
non-negative (also at extreme settings: no budget, no customers, a 90 % smaller market);
show its key trade-off (moving the lever from low to high improves one pole's measure and
worsens the other's); show the published "better before worse" shape where the literature
claims one; and, with the engine, agree with the reference simulator.
"""

import csv
import io
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

NS = '{http://docs.oasis-open.org/xmile/ns/XMILE/v1.0}'

# Key trade-off per sector: the lever moved from low to high; pole measure (variable, month,
# 'higher'|'lower' is better) for the pole the lever serves (A) and the other (B).
TRADEOFFS = {
    'ecommerce': ('acquisition_budget_share', 0.2, 0.9,
                  ('acquisition', 'customer_acquisition', 6, 'higher'),
                  ('retention', 'churn_rate', 12, 'lower')),
    'manufacturing': ('quality_budget_share', 0.1, 0.9,
                      ('quality control', 'first_pass_yield', 24, 'higher'),
                      ('cost efficiency', 'efficiency_capability', 12, 'higher')),
    'saas': ('feature_effort_share', 0.3, 0.9,
             ('product innovation', 'launched_features', 12, 'higher'),
             ('customer support', 'service_quality', 12, 'higher')),
    'fintech': ('innovation_effort_share', 0.3, 0.9,
                ('innovation', 'launched_features', 12, 'higher'),
                ('regulatory compliance', 'control_effectiveness', 24, 'higher')),
    'healthtech': ('innovation_effort_share', 0.3, 0.9,
                   ('innovation', 'launched_features', 36, 'higher'),
                   ('patient safety', 'cumulative_recalls', 60, 'lower')),
}

# The generic tensions of DESIGN.md section 3, each on the template that carries its lever
# (docs/tensions.md has the table): (sector, lever, low, high, pole A, pole B).
GENERIC = [
    ('saas', 'growth_investment_share', 0.1, 0.45,
     ('growth', 'revenue', 36, 'higher'), ('stability', 'cash_months', 24, 'higher')),
    ('ecommerce', 'growth_investment_share', 0.1, 0.4,
     ('growth', 'revenue', 36, 'higher'), ('stability', 'cash_months', 12, 'higher')),
    ('saas', 'debt_target_ratio', 0, 0.5,
     ('financial leverage', 'revenue', 36, 'higher'),
     ('prudence', 'cumulative_profit', 60, 'higher')),
    ('manufacturing', 'debt_target_ratio', 0, 0.4,
     ('financial leverage', 'revenue', 36, 'higher'),
     ('prudence', 'cumulative_profit', 60, 'higher')),
    ('saas', 'wage_premium', -0.15, 0.3,
     ('employee satisfaction', 'employee_satisfaction', 24, 'higher'),
     ('profitability', 'profit_margin', 24, 'higher')),
    ('ecommerce', 'price_premium', -0.15, 0.25,
     ('differentiation', 'profit_margin', 24, 'higher'),
     ('cost leadership', 'customers', 24, 'higher')),
    ('saas', 'exploration_share', 0, 0.5,
     ('exploration', 'market_size', 60, 'higher'),
     ('exploitation', 'launched_features', 24, 'higher')),
    ('manufacturing', 'innovation_share', 0, 1,
     ('innovation', 'launched_features', 36, 'higher'),
     ('efficiency', 'efficiency_capability', 24, 'higher')),
    ('manufacturing', 'inorganic_growth_share', 0, 0.6,
     ('inorganic growth', 'customers', 36, 'higher'),
     ('organic growth', 'profit_margin', 12, 'higher')),
    ('fintech', 'centralisation_share', 0, 1,
     ('centralisation', 'compliance_capacity', 12, 'higher'),
     ('decentralisation', 'launched_features', 24, 'higher')),
    ('fintech', 'diversification_share', 0, 0.8,
     ('diversification', 'market_size', 60, 'higher'),
     ('market penetration', 'customers', 12, 'higher')),
    ('healthtech', 'long_term_investment_share', 0, 0.8,
     ('long-term vision', 'clinical_evidence', 36, 'higher'),
     ('short-term goals', 'revenue', 12, 'higher')),
]

# "Better before worse" (Repenning & Sterman): the skewed policy beats the balanced one on
# `var` early and loses to it late.
BETTER_BEFORE_WORSE = {
    'ecommerce': ('acquisition_budget_share', 0.6, 0.95, 'revenue', 6, 36,
                  'pushing acquisition while starving retention'),
    'manufacturing': ('quality_budget_share', 0.55, 0.05, 'monthly_profit', 6, 36,
                      'cutting quality spend'),
    'fintech': ('innovation_effort_share', 0.7, 0.8, 'revenue', 12, 36,
                'skimping on compliance'),
    'healthtech': ('innovation_effort_share', 0.6, 0.7, 'revenue', 36, 60,
                   'skimping on testing'),
}

# The balanced lever beats both extremes on long-run revenue.
BALANCED_BEST = {
    'saas': ('feature_effort_share', 0.05, 0.6, 0.95, 'revenue', 60),
    'ecommerce': ('acquisition_budget_share', 0.05, 0.6, 0.95, 'revenue', 36),
    'manufacturing': ('quality_budget_share', 0.05, 0.55, 0.95, 'cumulative_profit', 60),
    'fintech': ('innovation_effort_share', 0.05, 0.7, 0.95, 'cumulative_profit', 60),
    'healthtech': ('innovation_effort_share', 0.05, 0.6, 0.95, 'revenue', 60),
}

# Adaptive vs static policy (DESIGN.md section 3): the feedback rule rescues a badly set
# lever. (sector, switch, lever, badly set value, measure, month)
POLICIES = {
    'saas': ('adaptive_policy', 'feature_effort_share', 0.85, 'revenue', 60),
}

EXTREMES = [
    ('no discretionary budget', {'growth_investment_share': 0}),
    ('no customers', {'initial_customers': 0}),
    ('no staff', {'initial_headcount': 0}),
]
MARKET_CONSTANT = {'ecommerce': 'market_size', 'manufacturing': 'market_size',
                   'saas': 'base_market_size', 'fintech': 'core_market_size',
                   'healthtech': 'market_size'}

SECTORS = ['ecommerce', 'manufacturing', 'saas', 'fintech', 'healthtech']

_n = [0]


def tap(good, desc, detail=None):
    _n[0] += 1
    print('%s %d - %s' % ('ok' if good else 'not ok', _n[0], desc))
    if not good and detail:
        for line in str(detail).splitlines()[:5]:
            print('# ' + line)


class Runner:
    def __init__(self, engine):
        self.engine = engine
        self.cache = {}

    def run(self, sector, overrides):
        key = (sector, tuple(sorted(overrides.items())))
        if key in self.cache:
            return self.cache[key]
        if self.engine:
            cmd = [self.engine, 'simulate', os.path.join(ROOT, sector, 'model.xmile')]
            for k, v in sorted(overrides.items()):
                cmd += ['--set', '%s=%r' % (k, float(v))]
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            except (OSError, subprocess.TimeoutExpired) as e:
                p = subprocess.CompletedProcess(cmd, -1, '', str(e))
            if p.returncode != 0:
                res = (None, 'exit %d: %s' % (p.returncode, p.stderr.strip()))
            else:
                rows = list(csv.reader(io.StringIO(p.stdout)))
                cols = {}
                for j, name in enumerate(rows[0]):
                    cols[name] = [float(r[j]) if r[j] != '' else float('nan') for r in rows[1:]]
                res = (cols, None)
        else:
            import importlib
            import sdlib
            m = importlib.import_module(sector).build()
            try:
                res = (sdlib.Sim(m, overrides).run(m.stop), None)
            except Exception as e:  # reported as a failed check
                res = (None, repr(e))
        self.cache[key] = res
        return res


def at(res, var, month):
    times = res['Time']
    for i, t in enumerate(times):
        if abs(t - month) < 1e-9:
            return res[var][i]
    raise KeyError('month %g not saved' % month)


def stocks_of(sector):
    root = ET.parse(os.path.join(ROOT, sector, 'model.xmile')).getroot()
    out = []
    for s in root.iter(NS + 'stock'):
        out.append((s.get('name'), s.find(NS + 'non_negative') is not None))
    return out


def check_sane(runner, sector, overrides, label):
    res, err = runner.run(sector, overrides)
    tap(res is not None, '%s: simulates (%s)' % (sector, label), err)
    if res is None:
        return None
    bad = [k for k, col in res.items() if any(math.isnan(x) or math.isinf(x) for x in col)]
    tap(not bad, '%s: no NaN or Inf (%s)' % (sector, label), ', '.join(bad[:5]))
    neg = []
    for name, nonneg in stocks_of(sector):
        if nonneg and name in res and min(res[name]) < -1e-6:
            neg.append('%s min %g' % (name, min(res[name])))
    tap(not neg, '%s: non-negative stocks stay non-negative (%s)' % (sector, label),
        '; '.join(neg))
    return res


def better(a, b, direction):
    return a > b if direction == 'higher' else a < b


def check_tradeoff(runner, sector, lever, lo, hi, pa, pb):
    rlo, e1 = runner.run(sector, {lever: lo})
    rhi, e2 = runner.run(sector, {lever: hi})
    if rlo is None or rhi is None:
        tap(False, '%s: %s trade-off runs' % (sector, lever), e1 or e2)
        return
    for (pole, var, month, direction), want in ((pa, True), (pb, False)):
        a, b = at(rhi, var, month), at(rlo, var, month)
        tap(better(a, b, direction) == want,
            '%s: raising %s %g -> %g %s %s (%s at month %d: %g -> %g)' %
            (sector, lever, lo, hi, 'serves' if want else 'costs', pole, var, month, b, a))


def main(argv):
    engine = None
    if '--engine' in argv:
        engine = argv[argv.index('--engine') + 1]
    elif '--reference' not in argv:
        print(__doc__)
        return 2
    runner = Runner(engine)
    for sector in SECTORS:
        base = check_sane(runner, sector, {}, 'baseline')
        if base is not None:
            cash_ok = min(base['cash']) > 0
            tap(cash_ok, '%s: baseline cash stays positive' % sector,
                'min cash %g' % min(base['cash']))
            rev0, rev_end = base['revenue'][0], base['revenue'][-1]
            tap(0.7 * rev0 < rev_end < 6 * rev0,
                '%s: baseline revenue plausible over the horizon' % sector,
                'revenue %g -> %g' % (rev0, rev_end))
        for label, ov in EXTREMES:
            check_sane(runner, sector, ov, label)
        mk = MARKET_CONSTANT[sector]
        import importlib
        m = importlib.import_module(sector).build()
        check_sane(runner, sector, {mk: float(m.by_name[mk].eqn) * 0.1}, '90% demand collapse')

        tradeoffs = [TRADEOFFS[sector]] + [g[1:] for g in GENERIC if g[0] == sector]
        for lever, lo, hi, pa, pb in tradeoffs:
            check_tradeoff(runner, sector, lever, lo, hi, pa, pb)
        if base is None:
            continue
        if sector in BETTER_BEFORE_WORSE:
            lever, bal, ext, var, t1, t2, what = BETTER_BEFORE_WORSE[sector]
            rb, e1 = runner.run(sector, {lever: bal})
            rx, e2 = runner.run(sector, {lever: ext})
            if rb is None or rx is None:
                tap(False, '%s: %s runs' % (sector, what), e1 or e2)
            else:
                e_b, e_x = at(rb, var, t1), at(rx, var, t1)
                l_b, l_x = at(rb, var, t2), at(rx, var, t2)
                tap(e_x > e_b and l_x < l_b,
                    '%s: %s is better before worse (%s: month %d %g vs %g, month %d %g vs %g)' %
                    (sector, what, var, t1, e_x, e_b, t2, l_x, l_b))
        if sector in POLICIES:
            switch, lever, bad, var, month = POLICIES[sector]
            rs, e1 = runner.run(sector, {lever: bad})
            ra, e2 = runner.run(sector, {lever: bad, switch: 1})
            if rs is None or ra is None:
                tap(False, '%s: adaptive policy runs' % sector, e1 or e2)
            else:
                a, b = at(ra, var, month), at(rs, var, month)
                tap(a > 2 * b, '%s: with %s=%g the adaptive policy beats the static one on %s '
                    'at month %d (%g vs %g)' % (sector, lever, bad, var, month, a, b))
        lever, lo, bal, hi, var, month = BALANCED_BEST[sector]
        runs = [runner.run(sector, {lever: x}) for x in (lo, bal, hi)]
        if any(r is None for r, _ in runs):
            tap(False, '%s: %s sweep runs' % (sector, lever), [e for _, e in runs if e][0])
        else:
            vals = [at(r, var, month) for r, _ in runs]
            tap(vals[1] > vals[0] and vals[1] > vals[2],
                '%s: balanced %s=%g beats both extremes on %s at month %d (%g, %g, %g)' %
                (sector, lever, bal, var, month, vals[0], vals[1], vals[2]))
        if engine and base is not None:
            import sdlib
            ref = sdlib.Sim(m, {}).run(m.stop)
            worst, where = 0.0, ''
            for name in ref:
                if name not in base:
                    continue
                for x, y in zip(ref[name], base[name]):
                    err = abs(x - y) / max(1.0, abs(x))
                    if err > worst:
                        worst, where = err, name
            tap(worst < 1e-6, '%s: engine agrees with the reference simulator (worst relative '
                'error %.3g in %s)' % (sector, worst, where or '-'))
    check_bass(runner)
    if engine:
        check_plans(engine)
        check_init(engine)
        check_risk(engine)
    return 0


# Skimping on the safety pole shows as risk in Monte Carlo over the plan's uncertain inputs:
# (sector, event, default lever value, skimped lever value).
RISK = [
    ('fintech', 'open_findings > 5', 'p_any_time', 'innovation_effort_share', 0.78),
    ('healthtech', 'cumulative_recalls > 6', 'p_at_end', 'innovation_effort_share', 0.8),
]


def check_risk(engine):
    import json
    for sector, event, which, lever, skimp in RISK:
        probs = []
        for vary in ([], ['--vary', '%s=uniform(%g,%g)' % (lever, skimp, skimp + 1e-4)]):
            cmd = [engine, 'scenarios', os.path.join(ROOT, sector), '-n', '200', '-q',
                   '--vars', event.split()[0], '--event', event] + vary
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
                probs.append(json.loads(p.stdout)['events'][0][which])
            except (OSError, ValueError, KeyError, IndexError, subprocess.TimeoutExpired) as e:
                probs.append(None)
                err = str(e)
        if None in probs:
            tap(False, '%s: Monte Carlo of the risk runs' % sector, err)
            continue
        tap(probs[1] > probs[0] + 0.1,
            '%s: skimping (%s=%g) raises P(%s) in Monte Carlo from %.3f to %.3f' %
            (sector, lever, skimp, event, probs[0], probs[1]))


def check_init(engine):
    """`tightrope init --sector S DIR` gives a workspace whose scorecard is scored from the
    imported KPI history."""
    import shutil
    import tempfile
    try:
        helptext = subprocess.run([engine, 'help'], capture_output=True, text=True).stdout
    except OSError:
        return
    cmds = [line.split()[0] for line in helptext.splitlines() if line.startswith('  ')]
    if 'init' not in cmds or 'scorecard' not in cmds:
        return
    tmp = tempfile.mkdtemp(prefix='tr_templates_')
    try:
        for sector in SECTORS:
            ws = os.path.join(tmp, sector)
            p = subprocess.run([engine, 'init', '--sector', sector, ws], capture_output=True,
                               text=True, timeout=120)
            files = ['model.xmile', 'plan.yaml', 'README.md', 'kpi_history.csv']
            missing = [f for f in files if not os.path.exists(os.path.join(ws, f))]
            tap(p.returncode == 0 and not missing,
                '%s: init creates a workspace with model, plan, README and KPI history' % sector,
                p.stderr.strip() + ' missing: ' + ', '.join(missing))
            p = subprocess.run([engine, 'scorecard', ws, '--format', 'json'], capture_output=True,
                               text=True, timeout=120)
            tap(p.returncode == 0 and 'total' in p.stdout,
                '%s: the new workspace scores its scorecard from the KPI history' % sector,
                p.stderr.strip())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_plans(engine):
    """Each template's plan.yaml loads against its model and, at the template's default
    levers, every tension is in balance (the defaults are the balanced policy)."""
    try:
        helptext = subprocess.run([engine, 'help'], capture_output=True, text=True).stdout
    except OSError:
        return
    if not any(line.startswith('  assess ') for line in helptext.splitlines()):
        return
    import json
    for sector in SECTORS:
        cmd = [engine, 'assess', os.path.join(ROOT, sector), '--runs', '8', '--format', 'json']
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            d = json.loads(p.stdout) if p.returncode == 0 else None
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            p, d = None, None
            err = str(e)
        else:
            err = p.stderr.strip()
        tap(d is not None, '%s: plan.yaml assesses against the model' % sector, err)
        if d is None:
            continue
        low = ['%s %.3f' % (t['id'], t['balanced']) for t in d['tensions'] if t['balanced'] < 0.8]
        tap(not low and d['sbi'] >= 0.8,
            '%s: default levers are balanced (SBI %.3f, every tension >= 0.8)' %
            (sector, d['sbi']), ', '.join(low))


def check_bass(runner):
    """The reduced acquisition/retention core converges to the analytic Bass-with-churn
    equilibrium: q x^2 + (c + p - q) x - p = 0."""
    p, q, c = 0.01, 0.5, 0.05
    x_star = (-(c + p - q) + math.sqrt((c + p - q) ** 2 + 4 * q * p)) / (2 * q)
    if runner.engine:
        cmd = [runner.engine, 'simulate', os.path.join(HERE, 'bass.xmile'),
               '--vars', 'adopter_share']
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            rows = list(csv.reader(io.StringIO(out.stdout)))
            x = float(rows[-1][rows[0].index('adopter_share')])
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired) as e:
            tap(False, 'bass: reduced core simulates', e)
            return
    else:
        import bass
        import sdlib
        m = bass.build()
        x = sdlib.Sim(m, {}).run(m.stop)['adopter_share'][-1]
    tap(abs(x - x_star) < 1e-3 and abs(x_star - 0.902) < 1e-3,
        'bass: reduced acquisition/retention core converges to x* = %.4f (got %.4f)' %
        (x_star, x))


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
