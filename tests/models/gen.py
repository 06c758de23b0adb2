#!/usr/bin/env python3
"""Writes the golden models of tests/models/: each NAME.xmile with its expected NAME.csv.

The expected values never come from tightrope: they are analytic solutions (Erlang-3
response of DELAY3, exponential SMTH1, e^-t) or the Euler/RK recurrences of the structures
XMILE 1.0 section 3.5.3 prescribes (hidden stocks, initialised as Stella does), written out
here by hand in plain Python. Where an expected file is only approximate (analytic answer vs
a finite dt), NAME.cmp holds the csvcompare tolerance for it.

Run from anywhere: python3 tests/models/gen.py  (rewrites the files next to this script).
"""
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!-- Golden model written by tests/models/gen.py: edit the generator, not this file. -->
<!-- {doc} -->
<xmile version="1.0" xmlns="http://docs.oasis-open.org/xmile/ns/XMILE/v1.0">
  <header>
    <vendor>tightrope tests</vendor>
    <product version="0.1">tests/models/gen.py</product>
    <name>{name}</name>
  </header>
  <sim_specs method="{method}" time_units="Months">
    <start>{start}</start>
    <stop>{stop}</stop>
    <dt>{dt}</dt>
  </sim_specs>
{dims}  <model>
    <variables>
{vars}    </variables>
  </model>
</xmile>
"""


def aux(name, eqn):
    return f'      <aux name="{name}"><eqn>{eqn}</eqn></aux>\n'


def flow(name, eqn):
    return f'      <flow name="{name}"><eqn>{eqn}</eqn></flow>\n'


def stock(name, eqn, inflows=(), outflows=()):
    s = f'      <stock name="{name}"><eqn>{eqn}</eqn>'
    s += "".join(f"<inflow>{f}</inflow>" for f in inflows)
    s += "".join(f"<outflow>{f}</outflow>" for f in outflows)
    return s + "</stock>\n"


def times(start, stop, dt):
    """Save points from the step index, t = start + n*dt (DESIGN section 6)."""
    n = int(round((stop - start) / dt))
    return [start + i * dt for i in range(n + 1)]


def fmt(v):
    return repr(float(v))


def write(name, doc, start, stop, dt, variables, columns, method="Euler", dims="", cmp=None,
          rows=None):
    """columns: list of (header, values per save point); rows: indices of the save points
    to write (all by default: sparse files are fine, csvcompare matches by time)."""
    with open(os.path.join(HERE, name + ".xmile"), "w") as f:
        f.write(HEAD.format(doc=doc, name=name, method=method, start=start, stop=stop, dt=dt,
                            dims=dims, vars="".join(variables)))
    ts = times(start, stop, dt)
    idx = rows if rows is not None else range(len(ts))
    with open(os.path.join(HERE, name + ".csv"), "w") as f:
        f.write(",".join(["Time"] + [f'"{h}"' if "," in h else h for h, _ in columns]) + "\n")
        for i in idx:
            f.write(",".join([fmt(ts[i])] + [fmt(vals[i]) for _, vals in columns]) + "\n")
    path = os.path.join(HERE, name + ".cmp")
    if cmp:
        with open(path, "w") as f:
            f.write(cmp + "\n")
    elif os.path.exists(path):
        os.remove(path)


def step(h, t0, t):
    return h if t >= t0 else 0.0


# ---- the hidden-stock structures of XMILE 3.5.3, integrated with Euler -----------------------

def material_delay(inp, T, n, dt, init=None):
    """DELAYN: n first-order stages of T/n each; stage i holds S_i, outflow S_i/(T/n).
    Initial S_i = init * T/n (init defaults to the input's initial value). Output: last
    stage's outflow."""
    tau = T / n
    x0 = inp[0] if init is None else init
    s = [x0 * tau] * n
    out = []
    for k in range(len(inp)):
        rates = [si / tau for si in s]
        out.append(rates[-1])
        inflow = [inp[k]] + rates[:-1]
        s = [s[i] + dt * (inflow[i] - rates[i]) for i in range(n)]
    return out


def smooth(inp, T, n, dt, init=None):
    """SMTHN: n cascaded exponential averages of T/n each, all initialised to init (the
    input's initial value by default). Output: the last average."""
    tau = T / n
    x0 = inp[0] if init is None else init
    s = [x0] * n
    out = []
    for k in range(len(inp)):
        out.append(s[-1])
        src = [inp[k]] + s[:-1]
        s = [s[i] + dt * (src[i] - s[i]) / tau for i in range(n)]
    return out


def trend(inp, T, dt, init=0.0):
    """TREND: fractional change per time unit, (input - A) / (A * T), with A = SMTH1 of the
    input initialised to input / (1 + init * T)."""
    a = inp[0] / (1.0 + init * T)
    out = []
    for k in range(len(inp)):
        out.append((inp[k] - a) / (a * T))
        a = a + dt * (inp[k] - a) / T
    return out


def forcst(inp, T, horizon, dt, init=0.0):
    tr = trend(inp, T, dt, init)
    return [inp[k] * (1.0 + tr[k] * horizon) for k in range(len(inp))]


# ---- the models ----------------------------------------------------------------------------

def delays():
    start, stop, dt = 0, 20, 0.25
    ts = times(start, stop, dt)
    inp = [step(10, 1, t) for t in ts]
    v = [aux("input", "STEP(10, 1)"),
         aux("d1", "DELAY1(input, 4)"), aux("d1i", "DELAY1(input, 4, 2)"),
         aux("d3", "DELAY3(input, 6)"), aux("d3i", "DELAY3(input, 6, 5)"),
         aux("dn5", "DELAYN(input, 6, 5)"), aux("dn5i", "DELAYN(input, 6, 5, 5)"),
         aux("dn1", "DELAYN(input, 4, 1)")]
    cols = [("input", inp),
            ("d1", material_delay(inp, 4, 1, dt)), ("d1i", material_delay(inp, 4, 1, dt, 2)),
            ("d3", material_delay(inp, 6, 3, dt)), ("d3i", material_delay(inp, 6, 3, dt, 5)),
            ("dn5", material_delay(inp, 6, 5, dt)), ("dn5i", material_delay(inp, 6, 5, dt, 5)),
            ("dn1", material_delay(inp, 4, 1, dt))]
    write("delays", "DELAY1, DELAY3, DELAYN of a step of 10 at t=1: Euler recurrence of the "
          "stage stocks, initial stage contents init*T/n", start, stop, dt, v, cols)


def delay3_erlang():
    """DELAY3 of a unit step at t0 is the Erlang-3 (gamma, shape 3) CDF:
    1 - e^-x (1 + x + x^2/2), x = 3 (t - t0) / T. Fine dt; compared at a loose tolerance."""
    start, stop, dt = 0, 30, 1.0 / 256
    T, t0, h = 6.0, 1.0, 10.0
    ts = times(start, stop, dt)

    def erlang3(t):
        if t <= t0:
            return 0.0
        x = 3 * (t - t0) / T
        return h * (1 - math.exp(-x) * (1 + x + x * x / 2))

    def expo(t):
        return 0.0 if t <= t0 else h * (1 - math.exp(-(t - t0) / T))
    v = [aux("input", "STEP(10, 1)"), aux("d3", "DELAY3(input, 6)"),
         aux("d1", "DELAY1(input, 6)"), aux("s1", "SMTH1(input, 6)")]
    cols = [("d3", [erlang3(t) for t in ts]), ("d1", [expo(t) for t in ts]),
            ("s1", [expo(t) for t in ts])]
    every = int(round(0.5 / dt))
    write("delay3_erlang", "DELAY3 of a step is the Erlang-3 response; DELAY1 and SMTH1 are "
          "exponential (analytic, dt 1/256)", start, stop, dt, v, cols,
          rows=range(0, len(ts), every), cmp="--rtol 0.01 --atol 0.02")


def delay_fixed():
    """DELAY(input, T[, init]): a pipeline, input(t - T) once t - T >= start, init before
    (the input's initial value when init is not given)."""
    start, stop, dt = 0, 8, 0.25
    ts = times(start, stop, dt)
    inp = [t * t + step(10, 2, t) for t in ts]
    k = int(round(1.5 / dt))
    d = [inp[i - k] if i >= k else inp[0] for i in range(len(ts))]
    di = [inp[i - k] if i >= k else -7.0 for i in range(len(ts))]
    v = [aux("input", "TIME * TIME + STEP(10, 2)"), aux("d", "DELAY(input, 1.5)"),
         aux("di", "DELAY(input, 1.5, -7)")]
    write("delay_fixed", "DELAY (fixed pipeline) by 1.5 = 6 steps of 0.25", start, stop, dt, v,
          [("input", inp), ("d", d), ("di", di)])


def smooths():
    start, stop, dt = 0, 16, 0.25
    ts = times(start, stop, dt)
    inp = [step(10, 1, t) for t in ts]
    v = [aux("input", "STEP(10, 1)"),
         aux("s1", "SMTH1(input, 2)"), aux("s1i", "SMTH1(input, 2, 4)"),
         aux("s3", "SMTH3(input, 3)"), aux("s3i", "SMTH3(input, 3, 2)"),
         aux("sn4", "SMTHN(input, 3, 4)"), aux("sn4i", "SMTHN(input, 3, 4, 2)"),
         aux("sn3", "SMTHN(input, 3, 3)")]
    cols = [("input", inp),
            ("s1", smooth(inp, 2, 1, dt)), ("s1i", smooth(inp, 2, 1, dt, 4)),
            ("s3", smooth(inp, 3, 3, dt)), ("s3i", smooth(inp, 3, 3, dt, 2)),
            ("sn4", smooth(inp, 3, 4, dt)), ("sn4i", smooth(inp, 3, 4, dt, 2)),
            ("sn3", smooth(inp, 3, 3, dt))]
    write("smooths", "SMTH1, SMTH3, SMTHN of a step of 10 at t=1: Euler recurrence, initial "
          "value = input unless given", start, stop, dt, v, cols)


def trend_forcst():
    start, stop, dt = 0, 12, 0.5
    ts = times(start, stop, dt)
    inp = [100 + 5 * t + step(20, 4, t) for t in ts]
    v = [aux("input", "100 + 5 * TIME + STEP(20, 4)"),
         aux("tr", "TREND(input, 4)"), aux("tri", "TREND(input, 4, 0.05)"),
         aux("fc", "FORCST(input, 4, 10)"), aux("fci", "FORCST(input, 4, 10, 0.05)")]
    cols = [("input", inp), ("tr", trend(inp, 4, dt)), ("tri", trend(inp, 4, dt, 0.05)),
            ("fc", forcst(inp, 4, 10, dt)), ("fci", forcst(inp, 4, 10, dt, 0.05))]
    write("trend_forcst", "TREND = (input - A)/(A*T), A = SMTH1(input, T, input/(1+init*T)); "
          "FORCST = input*(1 + TREND*horizon)", start, stop, dt, v, cols)


def init_previous():
    start, stop, dt = 2, 5, 0.5
    ts = times(start, stop, dt)
    x = [5 + 2 * t for t in ts]
    s = [3 + (t - start) * 1.5 for t in ts]  # stock with a constant inflow of 1.5
    v = [aux("x", "5 + 2 * TIME"), stock("s", "3", inflows=["fill"]), flow("fill", "1.5"),
         aux("ix", "INIT(x)"), aux("is", "INIT(s)"), aux("it", "INIT(TIME)"),
         aux("px", "PREVIOUS(x, -1)"), aux("ps", "PREVIOUS(s, 0)")]
    cols = [("x", x), ("s", s), ("ix", [x[0]] * len(ts)), ("is", [3.0] * len(ts)),
            ("it", [float(start)] * len(ts)),
            ("px", [-1.0] + x[:-1]), ("ps", [0.0] + s[:-1])]
    write("init_previous", "INIT is the value at the start time (here 2); PREVIOUS the value "
          "one DT earlier, its second argument at the start", start, stop, dt, v, cols)


def test_inputs():
    start, stop, dt = 0, 8, 0.25
    ts = times(start, stop, dt)

    def pulse(mag, first, interval, t):
        """magnitude/DT during the one step at first, first+interval, ... (once when the
        interval is 0 or not given)"""
        if t < first - dt / 2:
            return 0.0
        if interval <= 0:
            return mag / dt if abs(t - first) < dt / 2 else 0.0
        k = round((t - first) / interval)
        return mag / dt if abs(t - (first + k * interval)) < dt / 2 else 0.0
    p_train = [pulse(4, 1, 2, t) for t in ts]
    acc = [0.0]
    for k in range(len(ts) - 1):
        acc.append(acc[-1] + dt * p_train[k])
    v = [aux("st", "STEP(3, 2)"), aux("st_late", "STEP(3, 2.1)"),
         aux("rp", "RAMP(2, 3)"), aux("rp_late", "RAMP(2, 3.1)"),
         aux("rp0", "RAMP(2)"),
         aux("p_once", "PULSE(4, 1)"), aux("p_train", "PULSE(4, 1, 2)"),
         aux("p_start", "PULSE(4)"), aux("p_zero", "PULSE(4, 3, 0)"),
         stock("acc", "0", inflows=["pin"]), flow("pin", "p_train")]
    cols = [("st", [step(3, 2, t) for t in ts]), ("st_late", [step(3, 2.1, t) for t in ts]),
            ("rp", [2 * (t - 3) if t > 3 else 0.0 for t in ts]),
            ("rp_late", [2 * (t - 3.1) if t > 3.1 else 0.0 for t in ts]),
            ("rp0", [2 * t for t in ts]),
            ("p_once", [pulse(4, 1, 0, t) for t in ts]), ("p_train", p_train),
            ("p_start", [pulse(4, 0, 0, t) for t in ts]),
            ("p_zero", [pulse(4, 3, 0, t) for t in ts]), ("acc", acc)]
    write("test_inputs", "STEP, RAMP, PULSE fire at the right step (PULSE is magnitude/DT for "
          "one step; a stock fed by it rises by the magnitude)", start, stop, dt, v, cols)


def lookups():
    start, stop, dt = -1, 4, 0.25
    ts = times(start, stop, dt)
    xs, ys = [0.0, 1.0, 2.0, 3.0], [0.0, 10.0, 5.0, 20.0]

    def seg(t):
        i = 0
        while i < len(xs) - 2 and t > xs[i + 1]:
            i += 1
        return i

    def cont(t):
        if t <= xs[0]:
            return ys[0]
        if t >= xs[-1]:
            return ys[-1]
        i = seg(t)
        return ys[i] + (ys[i + 1] - ys[i]) * (t - xs[i]) / (xs[i + 1] - xs[i])

    def extra(t):
        i = seg(t) if xs[0] <= t <= xs[-1] else (0 if t < xs[0] else len(xs) - 2)
        return ys[i] + (ys[i + 1] - ys[i]) * (t - xs[i]) / (xs[i + 1] - xs[i])

    def disc(t):
        if t < xs[0]:
            return ys[0]
        j = max(i for i in range(len(xs)) if xs[i] <= t)
        return ys[j]

    def gf(kind, pts="xpts"):
        if pts == "xpts":
            xdef = "<xpts>0,1,2,3</xpts>"
        else:
            xdef = '<xscale min="0" max="3"/>'
        return (f'<gf type="{kind}">{xdef}<ypts>0,10,5,20</ypts></gf>')

    v = [f'      <aux name="cont"><eqn>TIME</eqn>{gf("continuous")}</aux>\n',
         f'      <aux name="extra"><eqn>TIME</eqn>{gf("extrapolate")}</aux>\n',
         f'      <aux name="disc"><eqn>TIME</eqn>{gf("discrete")}</aux>\n',
         f'      <aux name="scaled"><eqn>TIME</eqn>{gf("continuous", "xscale")}</aux>\n',
         '      <gf name="table" type="continuous"><xpts>0,1,2,3</xpts>'
         '<ypts>0,10,5,20</ypts></gf>\n',
         aux("by_name", "table(TIME)"), aux("by_name_half", "table(TIME / 2)")]
    cols = [("cont", [cont(t) for t in ts]), ("extra", [extra(t) for t in ts]),
            ("disc", [disc(t) for t in ts]), ("scaled", [cont(t) for t in ts]),
            ("by_name", [cont(t) for t in ts]), ("by_name_half", [cont(t / 2) for t in ts])]
    write("lookups", "graphical functions (0,0) (1,10) (2,5) (3,20): continuous, extrapolate "
          "and discrete at and between points and outside the x range", start, stop, dt, v, cols)


def decay(method):
    """dx/dt = -x, x(0) = 1. One step of Euler, RK2 and RK4 multiplies x by the Taylor
    polynomial of e^-h of order 1, 2 and 4 (for a linear equation Heun and midpoint RK2
    agree)."""
    start, stop, dt = 0, 4, 0.25
    ts = times(start, stop, dt)
    h = dt
    g = {"Euler": 1 - h, "RK2": 1 - h + h * h / 2,
         "RK4": 1 - h + h * h / 2 - h ** 3 / 6 + h ** 4 / 24}[method]
    x = [g ** i for i in range(len(ts))]
    v = [stock("x", "1", outflows=["decay"]), flow("decay", "x")]
    write("decay_" + method.lower(), f"dx/dt = -x with {method}: the exact recurrence "
          "x(n+1) = g(dt) x(n)", start, stop, dt, v, [("x", x)], method=method)


def rk_step(f, x, h, method):
    """One step of the explicit method on the autonomous system x' = f(x)."""
    if method == "RK2":  # Heun; for these linear constant-input systems midpoint agrees
        k1 = f(x)
        k2 = f([xi + h * ki for xi, ki in zip(x, k1)])
        return [xi + h / 2 * (a + b) for xi, a, b in zip(x, k1, k2)]
    k1 = f(x)
    k2 = f([xi + h / 2 * ki for xi, ki in zip(x, k1)])
    k3 = f([xi + h / 2 * ki for xi, ki in zip(x, k2)])
    k4 = f([xi + h * ki for xi, ki in zip(x, k3)])
    return [xi + h / 6 * (a + 2 * b + 2 * c + d) for xi, a, b, c, d in zip(x, k1, k2, k3, k4)]


def hidden_rk(method):
    """Delays and smooths of a constant input (10, from initial value 0) under RK2/RK4: their
    hidden stocks must be integrated with the same stages as ordinary stocks. Expected: the
    RK recurrence of the stage equations, integrated here by a generic RK step."""
    start, stop, dt = 0, 12, 0.5
    ts = times(start, stop, dt)
    u = 10.0
    # state: SMTH1(T=2) | SMTH3(T=3: 3 stages of 1) | DELAY3(T=6: 3 stages of 2) | DELAY1(T=4)

    def f(x):
        s1, a1, a2, a3, d1, d2, d3, e1 = x
        return [(u - s1) / 2,
                (u - a1) / 1, (a1 - a2) / 1, (a2 - a3) / 1,
                u - d1 / 2, d1 / 2 - d2 / 2, d2 / 2 - d3 / 2,
                u - e1 / 4]
    x = [0.0] * 8
    cols = {"s1": [], "s3": [], "d3": [], "d1": []}
    for _ in ts:
        cols["s1"].append(x[0])
        cols["s3"].append(x[3])
        cols["d3"].append(x[6] / 2)
        cols["d1"].append(x[7] / 4)
        x = rk_step(f, x, dt, method)
    v = [aux("s1", "SMTH1(10, 2, 0)"), aux("s3", "SMTH3(10, 3, 0)"),
         aux("d3", "DELAY3(10, 6, 0)"), aux("d1", "DELAY1(10, 4, 0)")]
    write("hidden_" + method.lower(), f"SMTH1, SMTH3, DELAY3, DELAY1 of a constant under "
          f"{method}: hidden stocks take part in every stage", start, stop, dt, v,
          [(k, cols[k]) for k in ("s1", "s3", "d3", "d1")], method=method)


def savepoints():
    start, stop, dt = 1, 3, 0.1
    ts = times(start, stop, dt)
    v = [aux("t", "TIME"), aux("hit", "IF TIME = 2 THEN 1 ELSE 0"), aux("st", "STEP(1, 2)"),
         aux("late", "IF TIME = 3 THEN 1 ELSE 0")]
    cols = [("t", ts), ("hit", [1.0 if t == 2 else 0.0 for t in ts]),
            ("st", [1.0 if t >= 2 else 0.0 for t in ts]),
            ("late", [1.0 if t == 3 else 0.0 for t in ts])]
    assert sum(c for c in cols[1][1]) == 1 and sum(cols[3][1]) == 1
    write("savepoints", "start 1, dt 0.1: save points are start + n*dt, so TIME = 2 and "
          "TIME = 3 hold exactly at their steps (t += dt would miss them)", start, stop, dt, v,
          cols)


def arrays():
    start, stop, dt = 0, 4, 1
    ts = times(start, stop, dt)
    regions = ["north", "south", "east", "west"]
    sales = {"north": [10 + t for t in ts], "south": [30.0] * len(ts),
             "east": [20.0] * len(ts), "west": [40 - 2 * t for t in ts]}
    price = {"a": 2.0, "b": 3.0}
    dims = ('  <dimensions>\n'
            '    <dim name="Region"><elem name="north"/><elem name="south"/>'
            '<elem name="east"/><elem name="west"/></dim>\n'
            '    <dim name="Product"><elem name="a"/><elem name="b"/></dim>\n'
            '  </dimensions>\n')
    v = ['      <aux name="sales"><dimensions><dim name="Region"/></dimensions>'
         '<element subscript="north"><eqn>10 + TIME</eqn></element>'
         '<element subscript="south"><eqn>30</eqn></element>'
         '<element subscript="east"><eqn>20</eqn></element>'
         '<element subscript="west"><eqn>40 - 2 * TIME</eqn></element></aux>\n',
         '      <aux name="price"><dimensions><dim name="Product"/></dimensions>'
         '<element subscript="a"><eqn>2</eqn></element>'
         '<element subscript="b"><eqn>3</eqn></element></aux>\n',
         '      <aux name="growth"><dimensions><dim name="Region"/></dimensions>'
         '<eqn>sales[Region] * 0.1</eqn></aux>\n',
         '      <aux name="revenue"><dimensions><dim name="Region"/><dim name="Product"/>'
         '</dimensions><eqn>sales[Region] * price[Product]</eqn></aux>\n',
         aux("total", "SUM(sales[*])"), aux("avg", "MEAN(sales[*])"),
         aux("biggest", "MAX(sales[*])"), aux("smallest", "MIN(sales[*])"),
         aux("spread", "STDDEV(sales[*])"), aux("count", "SIZE(sales[*])"),
         aux("total_growth", "SUM(growth[*])"), aux("all_revenue", "SUM(revenue[*, *])"),
         aux("north_revenue", "SUM(revenue[north, *])"), aux("east_b", "revenue[east, b]")]
    n = len(ts)
    col = []
    for r in regions:
        col.append((f"sales[{r}]", sales[r]))
    for r in regions:
        col.append((f"growth[{r}]", [0.1 * s for s in sales[r]]))
    for r in regions:
        for p in ["a", "b"]:
            col.append((f"revenue[{r}, {p}]", [s * price[p] for s in sales[r]]))
    vals = [[sales[r][i] for r in regions] for i in range(n)]
    mean = [sum(v_) / 4 for v_ in vals]
    col += [("total", [sum(v_) for v_ in vals]), ("avg", mean),
            ("biggest", [max(v_) for v_ in vals]), ("smallest", [min(v_) for v_ in vals]),
            ("spread", [math.sqrt(sum((x - mean[i]) ** 2 for x in vals[i]) / 4)
                        for i in range(n)]),
            ("count", [4.0] * n),
            ("total_growth", [0.1 * sum(v_) for v_ in vals]),
            ("all_revenue", [5 * sum(v_) for v_ in vals]),
            ("north_revenue", [5 * sales["north"][i] for i in range(n)]),
            ("east_b", [60.0] * n)]
    write("arrays", "arrays: per-element and apply-to-all equations, SUM/MEAN/MAX/MIN/STDDEV "
          "(population)/SIZE over a dimension and over a slice", start, stop, dt, v, col,
          dims=dims)


if __name__ == "__main__":
    delays()
    delay3_erlang()
    delay_fixed()
    smooths()
    trend_forcst()
    init_previous()
    test_inputs()
    lookups()
    for m in ("Euler", "RK2", "RK4"):
        decay(m)
    for m in ("RK2", "RK4"):
        hidden_rk(m)
    savepoints()
    arrays()
