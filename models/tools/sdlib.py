"""A small model description library for the sector templates.

It holds one stock-and-flow model as Python data, writes it as XMILE 1.0, writes the
parameter table of the template's README, and runs an independent Euler simulation of the
same equations (a reference the engine can be compared with, and what the templates were
tuned with). The simulator understands exactly the subset of the equation language the
templates use: numbers, names, + - * / ^, comparisons, AND/OR/NOT, IF THEN ELSE, MIN, MAX,
ABS, EXP, LN, SQRT, STEP, PULSE, RAMP, TIME, DT, SMTH1 and DELAY3, and inline graphical
functions (continuous: linear interpolation clamped at the ends).
"""

import math
import re
from xml.sax.saxutils import escape


class Var:
    def __init__(self, kind, name, eqn, units, doc, **kw):
        self.kind = kind          # 'stock' | 'flow' | 'aux'
        self.name = name
        self.eqn = str(eqn)
        self.units = units
        self.doc = doc
        self.inflows = list(kw.get('inflows', []))
        self.outflows = list(kw.get('outflows', []))
        self.non_negative = kw.get('non_negative', False)
        self.gf = kw.get('gf')    # (xpts, ypts) or None
        self.lever = kw.get('lever')  # None or (lo, hi) for levers
        self.source = kw.get('source')  # parameter source (README table)
        self.is_param = kw.get('is_param', False)
        self.group = kw.get('group', '')


class Model:
    def __init__(self, name, title, doc, stop=60, dt=0.25):
        self.name = name
        self.title = title
        self.doc = doc
        self.stop = stop
        self.dt = dt
        self.vars = []
        self.by_name = {}
        self.group = ''

    def _add(self, v):
        if v.name in self.by_name:
            raise ValueError('duplicate variable ' + v.name)
        v.group = v.group or self.group
        self.vars.append(v)
        self.by_name[v.name] = v
        return v

    def stock(self, name, init, units, doc, inflows=(), outflows=(), non_negative=True):
        return self._add(Var('stock', name, init, units, doc, inflows=inflows,
                             outflows=outflows, non_negative=non_negative))

    def flow(self, name, eqn, units, doc):
        return self._add(Var('flow', name, eqn, units, doc))

    def aux(self, name, eqn, units, doc, gf=None):
        return self._add(Var('aux', name, eqn, units, doc, gf=gf))

    def const(self, name, value, units, doc, source, lever=None):
        return self._add(Var('aux', name, repr(float(value)).rstrip('0').rstrip('.')
                             if isinstance(value, float) else value, units, doc,
                             source=source, lever=lever, is_param=True))

    def attach(self, stock, inflow=None, outflow=None):
        s = self.by_name[stock]
        if inflow:
            s.inflows.append(inflow)
        if outflow:
            s.outflows.append(outflow)

    def set_eqn(self, name, eqn):
        self.by_name[name].eqn = str(eqn)

    # ---------------------------------------------------------------- XMILE writer
    def to_xmile(self):
        out = []
        w = out.append
        w('<?xml version="1.0" encoding="utf-8"?>')
        w('<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">')
        w('  <header>')
        w('    <name>%s</name>' % escape(self.title))
        w('    <vendor>tightrope</vendor>')
        w('    <product version="0.1" lang="en">tightrope sector templates</product>')
        w('  </header>')
        w('  <sim_specs method="Euler" time_units="Months">')
        w('    <start>0</start>')
        w('    <stop>%g</stop>' % self.stop)
        w('    <dt>%g</dt>' % self.dt)
        w('  </sim_specs>')
        w('  <model>')
        w('    <variables>')
        group = None
        for v in self.vars:
            if v.group != group:
                group = v.group
                w('      <!-- %s -->' % escape(group).replace('--', '-'))
            w('      <%s name="%s">' % (v.kind, v.name))
            w('        <doc>%s</doc>' % escape(v.doc))
            w('        <eqn>%s</eqn>' % escape(v.eqn))
            for f in v.inflows:
                w('        <inflow>%s</inflow>' % f)
            for f in v.outflows:
                w('        <outflow>%s</outflow>' % f)
            if v.kind == 'stock' and v.non_negative:
                w('        <non_negative/>')
            if v.gf:
                xs, ys = v.gf
                w('        <gf>')
                w('          <xpts>%s</xpts>' % ','.join('%g' % x for x in xs))
                w('          <ypts>%s</ypts>' % ','.join('%g' % y for y in ys))
                w('        </gf>')
            w('        <units>%s</units>' % escape(v.units))
            w('      </%s>' % v.kind)
        w('    </variables>')
        w('  </model>')
        w('</xmile>')
        return '\n'.join(out) + '\n'

    def params_table(self):
        rows = ['| constant | value | units | meaning | source |', '|---|---|---|---|---|']
        for v in self.vars:
            if v.is_param:
                name = '`%s`' % v.name + (' (lever %g–%g)' % v.lever if v.lever else '')
                rows.append('| %s | %s | %s | %s | %s |' % (name, v.eqn, v.units, v.doc,
                                                             v.source))
        return '\n'.join(rows)

    def gf_table(self):
        rows = ['| variable | input | points (x → y) |', '|---|---|---|']
        for v in self.vars:
            if v.gf:
                pts = ', '.join('%g→%g' % p for p in zip(*v.gf))
                rows.append('| `%s` | `%s` | %s |' % (v.name, v.eqn, pts))
        return '\n'.join(rows)

    def simulate(self, overrides=None, stop=None):
        return Sim(self, overrides or {}).run(stop or self.stop)


# -------------------------------------------------------------------- equation parser
TOKEN = re.compile(r'\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|'
                   r'([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|<>|[-+*/^(),<>=]))')
BINARY = {'OR': 1, 'AND': 2, '=': 4, '<>': 4, '<': 4, '<=': 4, '>': 4, '>=': 4,
          '+': 5, '-': 5, '*': 6, '/': 6}
PYOP = {'OR': ' or ', 'AND': ' and ', '=': '==', '<>': '!=', '^': '**'}


def tokenize(s):
    pos, toks = 0, []
    s = s.strip()
    while pos < len(s):
        m = TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise SyntaxError('bad token at %r' % s[pos:])
        num, name, op = m.groups()
        if num is not None:
            toks.append(('num', num))
        elif name is not None:
            up = name.upper()
            toks.append(('kw', up) if up in ('IF', 'THEN', 'ELSE', 'AND', 'OR', 'NOT')
                        else ('name', name))
        else:
            toks.append(('op', op))
        pos = m.end()
    return toks


class Parser:
    """Turns one equation into Python source; stateful builtins become hidden stocks."""

    def __init__(self, sim, text):
        self.sim, self.toks, self.i = sim, tokenize(text), 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, val=None):
        t = self.peek()
        if val is not None and t[1] != val:
            raise SyntaxError('expected %s, got %s' % (val, t))
        self.i += 1
        return t

    def parse(self):
        e = self.expr()
        if self.i != len(self.toks):
            raise SyntaxError('trailing tokens %s' % self.toks[self.i:])
        return e

    def expr(self):
        if self.peek() == ('kw', 'IF'):
            self.take()
            c = self.expr()
            self.take('THEN')
            a = self.expr()
            self.take('ELSE')
            b = self.expr()
            return '((%s) if (%s) else (%s))' % (a, c, b)
        return self.binary(1)

    def binary(self, minp):
        left = self.unary()
        while True:
            t = self.peek()
            op = t[1] if t[0] in ('op', 'kw') else None
            p = BINARY.get(op)
            if p is None or p < minp:
                return left
            self.take()
            right = self.binary(p + 1)
            left = '(%s%s%s)' % (left, PYOP.get(op, op), right)

    def unary(self):
        t = self.peek()
        if t == ('op', '-') or t == ('op', '+'):
            self.take()
            return '(%s%s)' % (t[1], self.unary())
        if t == ('kw', 'NOT'):
            self.take()
            return '(not %s)' % self.unary()
        return self.power()

    def power(self):
        base = self.primary()
        if self.peek() == ('op', '^'):
            self.take()
            return '(%s**%s)' % (base, self.unary())
        return base

    def primary(self):
        kind, val = self.take()
        if kind == 'num':
            return val
        if kind == 'op' and val == '(':
            e = self.expr()
            self.take(')')
            return '(%s)' % e
        if kind != 'name':
            raise SyntaxError('unexpected %s' % val)
        if self.peek() == ('op', '('):
            self.take()
            args = []
            if self.peek() != ('op', ')'):
                args.append(self.expr())
                while self.peek() == ('op', ','):
                    self.take()
                    args.append(self.expr())
            self.take(')')
            return self.sim.call(val.upper(), args)
        up = val.upper()
        if up == 'TIME':
            return 'T'
        if up == 'DT':
            return 'DT'
        return 'v(%r)' % val


# ------------------------------------------------------------------------- simulator
def interp(x, xs, ys):
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    for k in range(1, len(xs)):
        if x <= xs[k]:
            f = (x - xs[k - 1]) / (xs[k] - xs[k - 1])
            return ys[k - 1] + f * (ys[k] - ys[k - 1])
    return ys[-1]


class Sim:
    def __init__(self, model, overrides):
        self.m = model
        self.hidden = []   # [dict(kind, args-code...)]
        self.code = {}
        for v in model.vars:
            eqn = v.eqn
            if v.name in overrides:
                if not v.is_param:
                    raise KeyError('not a constant: ' + v.name)
                eqn = repr(float(overrides[v.name]))
            try:
                self.code[v.name] = compile(Parser(self, eqn).parse(), v.name, 'eval')
            except SyntaxError as e:
                raise SyntaxError('%s: %s' % (v.name, e))
        for k in overrides:
            if k not in model.by_name:
                raise KeyError('unknown constant ' + k)

    def call(self, fn, args):
        if fn in ('MIN', 'MAX'):
            return '%s(%s)' % (fn.lower(), ', '.join(args))
        if fn in ('ABS', 'EXP', 'LN', 'SQRT'):
            return {'ABS': 'abs', 'EXP': 'math.exp', 'LN': 'math.log',
                    'SQRT': 'math.sqrt'}[fn] + '(%s)' % args[0]
        if fn == 'STEP':
            return '((%s) if T >= (%s) else 0.0)' % (args[0], args[1])
        if fn == 'RAMP':
            return '((%s)*max(0.0, T-(%s)))' % (args[0], args[1] if len(args) > 1 else '0')
        if fn == 'PULSE':
            # PULSE(volume, first, interval): volume/DT during the DT at first (+k*interval)
            first = args[1] if len(args) > 1 else '0'
            inter = args[2] if len(args) > 2 else '0'
            return 'pulse(%s, %s, %s)' % (args[0], first, inter)
        if fn in ('SMTH1', 'DELAY3'):
            k = len(self.hidden)
            h = {'kind': fn,
                 'input': compile(args[0], 'h', 'eval'),
                 'time': compile(args[1], 'h', 'eval'),
                 'init': compile(args[2], 'h', 'eval') if len(args) > 2 else None}
            self.hidden.append(h)
            return 'hid(%d)' % k
        raise SyntaxError('unsupported function ' + fn)

    def run(self, stop):
        m, dt = self.m, self.m.dt
        n = int(round(stop / dt))
        stocks = {}
        hstate = [None] * len(self.hidden)
        res = {v.name: [] for v in m.vars}
        res['Time'] = []
        self.clamps = {}
        memo = {}
        t_now = [0.0]

        def pulse(vol, first, inter):
            t = t_now[0]
            if t < first - 1e-9:
                return 0.0
            if inter > 0:
                k = round((t - first) / inter)
                return vol / dt if abs(t - (first + k * inter)) < dt / 2 else 0.0
            return vol / dt if abs(t - first) < dt / 2 else 0.0

        def v(name):
            if name in memo:
                if memo[name] is None:
                    raise RuntimeError('cycle at ' + name)
                return memo[name]
            var = m.by_name[name]
            if var.kind == 'stock' and name in stocks:
                memo[name] = stocks[name]
                return stocks[name]
            memo[name] = None
            val = float(eval(self.code[name], env))
            if var.gf:
                val = interp(val, var.gf[0], var.gf[1])
            if var.kind == 'stock':
                stocks[name] = val
            memo[name] = val
            return val

        def hid(k):
            h = self.hidden[k]
            if hstate[k] is None:
                # the initial value needs the input only when no init argument is given
                x0 = float(eval(h['init'] or h['input'], env))
                if h['kind'] == 'SMTH1':
                    hstate[k] = [x0]
                else:
                    tau = float(eval(h['time'], env))
                    hstate[k] = [x0 * tau / 3] * 3
            st = hstate[k]
            if h['kind'] == 'SMTH1':
                return st[0]
            tau = float(eval(h['time'], env))
            return st[2] / (tau / 3)

        env = {'v': v, 'hid': hid, 'min': min, 'max': max, 'abs': abs, 'math': math,
               'pulse': pulse, 'T': 0.0, 'DT': dt}
        for step in range(n + 1):
            t = step * dt
            t_now[0] = t
            env['T'] = t
            memo.clear()
            for var in m.vars:
                v(var.name)
            # hidden-stock derivatives need their inputs at this time
            hder = []
            for k, h in enumerate(self.hidden):
                hid(k)
                x = float(eval(h['input'], env))
                tau = float(eval(h['time'], env))
                st = hstate[k]
                if h['kind'] == 'SMTH1':
                    hder.append([(x - st[0]) / tau])
                else:
                    r = [s / (tau / 3) for s in st]
                    hder.append([x - r[0], r[0] - r[1], r[1] - r[2]])
            res['Time'].append(t)
            for var in m.vars:
                res[var.name].append(memo[var.name])
            if step == n:
                break
            for var in m.vars:
                if var.kind != 'stock':
                    continue
                d = sum(memo[f] for f in var.inflows) - sum(memo[f] for f in var.outflows)
                new = stocks[var.name] + dt * d
                if var.non_negative and new < -1e-9:
                    self.clamps.setdefault(var.name, t)
                stocks[var.name] = new
            for k, st in enumerate(hstate):
                for j in range(len(st)):
                    st[j] += dt * hder[k][j]
        return res
