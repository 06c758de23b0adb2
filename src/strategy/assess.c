/* Assess: balance now, under scenarios, and the lever moves that improve it (see assess.h). */
#include "strategy/assess.h"

#include "base/text.h"
#include "scenario/dist.h"
#include "scenario/sample.h"
#include "strategy/plan_mc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECOVER_TOL 0.01

void tr_assess_opts_init(tr_assess_opts *o) {
  memset(o, 0, sizeof *o);
  o->runs = 200;
  o->seed = 1;
  o->step = 0.1;
}

/* One model as assess runs it, with the plan's names resolved to its variable indices: the
 * plan's own model, or for a scenario with shocks a copy of it with the shocks written into
 * its equations (tr_plan_mc_load_model, the mechanism `scenarios` and the server use too). */
typedef struct bound {
  const tr_model *model;
  tr_model *owned;    /* the shocked copy this binding owns; NULL for the plan's model */
  long **measure_var; /* [tension*2 + pole][measure] -> model var index or -1 */
  long *in_var;       /* uncertain input j -> the constant its draws set */
  long cash_var;      /* `cash` or -1 */
  size_t *watch;      /* the variables assess reads (measures, cash), each once */
  size_t n_watch;
} bound;

/* Everything one evaluation needs: the plan's model (names, values, suggestions), the model
 * being run and its sim (lanes). */
typedef struct ctx {
  const tr_plan *plan;
  const tr_model *model; /* the plan's model, unshocked */
  const tr_assess_opts *opts;
  const bound *b; /* the model being run */
  tr_sim *sim;    /* a sim of b->model */
  size_t horizon_idx;
  tr_error *err;
  char hazard[600]; /* the first numeric hazard of any run (tr_sim_warning), "" if none */
} ctx;

static long find_var(const tr_model *m, const char *name) {
  return name ? tr_model_find(m, name) : -1;
}

static int unknown(const ctx *c, const char *what, const char *name, tr_plan_pos pos) {
  const char *best = tr_model_suggest(c->model, name);
  return tr_error_set(c->err, TR_ERR_UNKNOWN_NAME, c->plan->file, pos.line, pos.col,
                      "%s '%s' is not a variable of the model%s%s%s", what, name,
                      best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
}

static int require_constant(const ctx *c, const char *what, const char *name, tr_plan_pos pos,
                            long *idx) {
  *idx = find_var(c->model, name);
  if (*idx < 0) return unknown(c, what, name, pos);
  tr_var_info vi;
  tr_model_var(c->model, (size_t)*idx, &vi);
  if (!vi.is_constant)
    return tr_error_set(c->err, TR_ERR_INVALID, c->plan->file, pos.line, pos.col,
                        "%s '%s' is not a constant of the model (its equation is '%s')", what, name,
                        vi.eqn ? vi.eqn : "");
  return TR_OK;
}

/* The model variable a measure reads: its own, or its KPI's; NULL when it has neither. */
static const char *measure_name(const tr_plan *p, const tr_measure *ms) {
  if (ms->variable || !ms->kpi) return ms->variable;
  long k = tr_plan_find_kpi(p, ms->kpi);
  return k >= 0 ? p->scorecard.kpis[k].variable : NULL;
}

/* Check every model name the plan uses against the plan's model; errors point into the plan.
 * Shocked variables are checked where the shocks are written into the model
 * (tr_plan_mc_load_model), so that one rule decides what can be shocked. */
static int resolve(ctx *c) {
  const tr_plan *p = c->plan;
  for (size_t t = 0; t < p->n_tensions; t++) {
    const tr_tension *tn = &p->tensions[t];
    for (size_t b = 0; b < tn->lever.n_bindings; b++) {
      const tr_lever_binding *lb = &tn->lever.bindings[b];
      long idx;
      int rc = require_constant(c, "lever constant", lb->constant, lb->pos, &idx);
      if (!rc && lb->scale_name)
        rc = require_constant(c, "lever scale", lb->scale_name, lb->pos, &idx);
      if (rc) return rc;
    }
    for (int pole = 0; pole < 2; pole++) {
      const tr_pole *pl = &tn->poles[pole];
      for (size_t m = 0; m < pl->n_measures; m++) {
        const char *var = measure_name(p, &pl->measures[m]);
        if (var && find_var(c->model, var) < 0)
          return unknown(c, "measure variable", var, pl->measures[m].pos);
      }
    }
  }
  for (size_t i = 0; i < p->uncertainty.n_inputs; i++) {
    long idx;
    const tr_uncertain_input *u = &p->uncertainty.inputs[i];
    int rc = require_constant(c, "uncertain input", u->name, u->pos, &idx);
    if (rc) return rc;
  }
  for (size_t s = 0; s < p->n_scenarios; s++) {
    const tr_scenario *sc = &p->scenarios[s];
    for (size_t o = 0; o < sc->n_overrides; o++) {
      long idx;
      int rc = require_constant(c, "override", sc->overrides[o].name, sc->overrides[o].pos, &idx);
      if (rc) return rc;
    }
  }
  return TR_OK;
}

static void unbind(const tr_plan *p, bound *b) {
  if (b->measure_var) {
    for (size_t i = 0; i < p->n_tensions * 2; i++)
      tr_free(b->measure_var[i]);
    tr_free(b->measure_var);
  }
  tr_free(b->in_var);
  tr_free(b->watch);
  tr_model_free(b->owned);
  memset(b, 0, sizeof *b);
  b->cash_var = -1;
}

/* Add variable v (>= 0) to the watch list of b once; a graphical function has no series. */
static void watch_var(const tr_model *m, bound *b, long v) {
  if (v < 0) return;
  tr_var_info vi;
  tr_model_var(m, (size_t)v, &vi);
  if (vi.type == TR_VAR_GF) return;
  for (size_t i = 0; i < b->n_watch; i++)
    if (b->watch[i] == (size_t)v) return;
  b->watch[b->n_watch++] = (size_t)v;
}

/* Resolve the plan's names (checked by resolve()) to the indices of model m. A constant that
 * m shocks is set through its base (tr_mc_find_const); a measure reads the shocked value. */
static int bind(const tr_plan *p, const tr_model *m, bound *b, tr_error *err) {
  memset(b, 0, sizeof *b);
  b->model = m;
  b->cash_var = tr_model_find(m, "cash");
  size_t n_measures = 0;
  for (size_t t = 0; t < p->n_tensions; t++)
    n_measures += p->tensions[t].poles[0].n_measures + p->tensions[t].poles[1].n_measures;
  b->measure_var = tr_calloc(p->n_tensions * 2 + 1, sizeof *b->measure_var);
  b->in_var = tr_calloc(p->uncertainty.n_inputs + 1, sizeof *b->in_var);
  b->watch = tr_calloc(n_measures + 1, sizeof *b->watch);
  if (!b->measure_var || !b->in_var || !b->watch)
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
  watch_var(m, b, b->cash_var);
  for (size_t t = 0; t < p->n_tensions; t++)
    for (int pole = 0; pole < 2; pole++) {
      const tr_pole *pl = &p->tensions[t].poles[pole];
      long *v = tr_calloc(pl->n_measures + 1, sizeof *v);
      if (!v) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
      b->measure_var[t * 2 + (size_t)pole] = v;
      for (size_t k = 0; k < pl->n_measures; k++) {
        v[k] = find_var(m, measure_name(p, &pl->measures[k]));
        watch_var(m, b, v[k]);
      }
    }
  for (size_t j = 0; j < p->uncertainty.n_inputs; j++)
    b->in_var[j] = tr_mc_find_const(m, p->uncertainty.inputs[j].name);
  return TR_OK;
}

/* A sim of b->model that saves only the variables assess reads: `runs` lanes of every
 * variable would cost far more memory (and page faults in every new sim) for nothing. */
static int new_sim(const bound *b, tr_sim **out, tr_error *err) {
  int rc = tr_sim_new(b->model, NULL, out, err);
  if (!rc && tr_sim_watch(*out, b->watch, b->n_watch)) {
    rc = tr_error_set(err, tr_sim_error(*out)->code, NULL, 0, 0, "%s", tr_sim_error(*out)->msg);
    tr_sim_free(*out);
    *out = NULL;
  }
  return rc;
}

/* Set the constant the plan calls `name` (checked by resolve()) to v in every lane. */
static int set_named(ctx *c, const char *name, double v, tr_plan_pos pos) {
  long idx = tr_mc_find_const(c->b->model, name);
  int rc = idx < 0 ? TR_ERR_UNKNOWN_NAME : tr_sim_set_const_index(c->sim, (size_t)idx, -1, v);
  if (rc)
    return tr_error_set(c->err, rc, c->plan->file, pos.line, pos.col, "'%s': %s", name,
                        idx < 0 ? "not in the model" : tr_sim_error(c->sim)->msg);
  return TR_OK;
}

static double const_value(const tr_model *m, const char *name) {
  long i = tr_model_find(m, name);
  if (i < 0) return NAN;
  tr_var_info vi;
  tr_model_var(m, (size_t)i, &vi);
  return vi.value;
}

double tr_lever_binding_value(const tr_model *m, const tr_lever_binding *b, double share) {
  double scale = b->scale_name ? const_value(m, b->scale_name) : b->scale_value;
  return (b->pole == 0 ? share : 1.0 - share) * scale;
}

/* Set the constants bound to tension t's lever for share `share` in every lane. */
static int apply_lever(ctx *c, const tr_tension *tn, double share) {
  for (size_t b = 0; b < tn->lever.n_bindings; b++) {
    const tr_lever_binding *lb = &tn->lever.bindings[b];
    int rc = set_named(c, lb->constant, tr_lever_binding_value(c->model, lb, share), lb->pos);
    if (rc) return rc;
  }
  return TR_OK;
}

static int apply_levers(ctx *c, const double *shares) {
  for (size_t t = 0; t < c->plan->n_tensions; t++) {
    int rc = apply_lever(c, &c->plan->tensions[t], shares[t]);
    if (rc) return rc;
  }
  return TR_OK;
}

/* Value of one measure in `lane` at saved index `k`. */
static double measure_value(const ctx *c, size_t t, int pole, size_t m, size_t lane, size_t k) {
  long v = c->b->measure_var[t * 2 + (size_t)pole][m];
  if (v >= 0) {
    const double *s = tr_sim_series(c->sim, (size_t)v, lane);
    return s ? s[k] : NAN;
  }
  const tr_measure *ms = &c->plan->tensions[t].poles[pole].measures[m];
  if (ms->kpi && c->opts->kpi_value) return c->opts->kpi_value(c->opts->kpi_ud, ms->kpi);
  return NAN;
}

/* Balance of every tension and the SBI in `lane` at saved index k. `out` may be NULL. */
static double sbi_at(const ctx *c, size_t lane, size_t k, tr_tension_balance *out) {
  const tr_plan *p = c->plan;
  double bal[256], w[256], vals[64];
  size_t n = p->n_tensions < 256 ? p->n_tensions : 256;
  for (size_t t = 0; t < n; t++) {
    const tr_tension *tn = &p->tensions[t];
    double score[2];
    for (int pole = 0; pole < 2; pole++) {
      const tr_pole *pl = &tn->poles[pole];
      size_t nm = pl->n_measures < 64 ? pl->n_measures : 64;
      for (size_t m = 0; m < nm; m++)
        vals[m] = measure_value(c, t, pole, m, lane, k);
      tr_pole pcopy = *pl;
      pcopy.n_measures = nm;
      score[pole] = tr_pole_score(&pcopy, vals);
    }
    tr_tension_balance tb;
    tr_balance_tension(score[0], score[1], &tb);
    if (out) out[t] = tb;
    bal[t] = tb.balance;
    w[t] = tn->weight;
  }
  return tr_balance_index(bal, w, n);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (sorted in place; NANs left out), linear interpolation. */
static double quantile(double *v, size_t n, double q) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(v[i])) v[m++] = v[i];
  if (!m) return NAN;
  qsort(v, m, sizeof *v, cmp_double);
  double pos = q * (double)(m - 1);
  size_t lo = (size_t)floor(pos);
  size_t hi = lo + 1 < m ? lo + 1 : lo;
  return v[lo] + (pos - (double)lo) * (v[hi] - v[lo]);
}

/* The first time a scenario's shocks start, NAN when it has none. */
static double first_shock(const tr_scenario *sc) {
  double t0 = NAN;
  for (size_t k = 0; sc && k < sc->n_shocks; k++) {
    const tr_shock *s = &sc->shocks[k];
    double st = s->kind == TR_SHOCK_PATH && s->n_path ? s->path_t[0] : s->start;
    if (isnan(t0) || st < t0) t0 = st;
  }
  return t0;
}

/* Options for `lanes` runs of the model. */
static int set_lanes(ctx *c, size_t lanes, uint64_t first_run) {
  tr_sim_opts o = *tr_sim_opts_get(c->sim);
  o.lanes = lanes;
  o.seed = c->opts->seed;
  o.first_run = first_run;
  if (tr_sim_set_opts(c->sim, &o))
    return tr_error_set(c->err, tr_sim_error(c->sim)->code, NULL, 0, 0, "%s",
                        tr_sim_error(c->sim)->msg);
  return TR_OK;
}

static int run(ctx *c) {
  int rc = tr_sim_run(c->sim);
  if (rc) return tr_error_set(c->err, rc, NULL, 0, 0, "%s", tr_sim_error(c->sim)->msg);
  if (!c->hazard[0] && tr_sim_warning(c->sim))
    snprintf(c->hazard, sizeof c->hazard, "%s", tr_sim_warning(c->sim));
  return TR_OK;
}

/* Draw the uncertain inputs of run r into every lane (one lane per run). */
static int draw_inputs(ctx *c, tr_sampler *smp, size_t k, size_t runs) {
  double row[256];
  for (size_t r = 0; r < runs; r++) {
    tr_sampler_run_row(smp, r, row); /* as the scenarios runner draws run r */
    for (size_t j = 0; j < k; j++) {
      int rc = tr_sim_set_const_index(c->sim, (size_t)c->b->in_var[j], (long)r, row[j]);
      if (rc) return tr_error_set(c->err, rc, NULL, 0, 0, "%s", tr_sim_error(c->sim)->msg);
    }
  }
  return TR_OK;
}

/* Monte Carlo of one scenario (sc NULL = baseline) in c->sim, whose constants are the model's. */
static int scenario_runs(ctx *c, tr_assess *a, const tr_scenario *sc, tr_sampler *smp, size_t k,
                         const double *shares, tr_assess_scenario *out) {
  size_t runs = c->opts->runs;
  long cash_var = c->b->cash_var;
  out->name = sc ? sc->name : "baseline";
  out->description = sc ? sc->description : "current plan, uncertain inputs only";
  out->runs = runs;
  int rc = set_lanes(c, runs, 0);
  if (!rc) rc = apply_levers(c, shares);
  if (!rc && smp) rc = draw_inputs(c, smp, k, runs);
  for (size_t o = 0; !rc && sc && o < sc->n_overrides; o++)
    rc = set_named(c, sc->overrides[o].name, sc->overrides[o].value, sc->overrides[o].pos);
  if (!rc) rc = run(c);
  if (rc) return rc;

  size_t nt = tr_sim_saved_count(c->sim);
  double *sbi = tr_calloc(runs, sizeof *sbi);
  double *dd = tr_calloc(runs, sizeof *dd);
  out->sbi_time_mean = tr_calloc(nt ? nt : 1, sizeof *out->sbi_time_mean);
  if (!sbi || !dd || !out->sbi_time_mean) {
    tr_free(sbi);
    tr_free(dd);
    return tr_error_set(c->err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
  }
  size_t distressed = 0;
  for (size_t r = 0; r < runs; r++) {
    for (size_t t = 0; t < nt; t++)
      out->sbi_time_mean[t] += sbi_at(c, r, t, NULL) / (double)runs;
    sbi[r] = sbi_at(c, r, c->horizon_idx, NULL);
    dd[r] = NAN;
    if (cash_var >= 0) {
      const double *cash = tr_sim_series(c->sim, (size_t)cash_var, r);
      double peak = -INFINITY, worst = 0;
      int neg = 0;
      for (size_t t = 0; cash && t <= c->horizon_idx; t++) {
        if (cash[t] < 0) neg = 1;
        if (cash[t] > peak) peak = cash[t];
        if (peak > 0 && (peak - cash[t]) / peak > worst) worst = (peak - cash[t]) / peak;
      }
      distressed += (size_t)neg;
      dd[r] = worst;
    }
  }
  out->sbi_mean = 0;
  size_t nfin = 0;
  for (size_t r = 0; r < runs; r++)
    if (!isnan(sbi[r])) out->sbi_mean += sbi[r], nfin++;
  out->sbi_mean = nfin ? out->sbi_mean / (double)nfin : NAN;
  out->sbi_p5 = quantile(sbi, runs, 0.05);
  out->p_distress = cash_var >= 0 ? (double)distressed / (double)runs : NAN;
  out->drawdown_p50 = cash_var >= 0 ? quantile(dd, runs, 0.5) : NAN;
  out->drawdown_p95 = cash_var >= 0 ? quantile(dd, runs, 0.95) : NAN;
  tr_free(sbi);
  tr_free(dd);

  out->shock_time = first_shock(sc);
  out->recover_time = NAN;
  if (sc && !isnan(out->shock_time) && a->scenarios[0].sbi_time_mean) {
    const double *times = tr_sim_times(c->sim);
    int dipped = 0;
    for (size_t t = 0; t < nt; t++) {
      if (times[t] < out->shock_time) continue;
      double gap = a->scenarios[0].sbi_time_mean[t] - out->sbi_time_mean[t];
      if (gap > RECOVER_TOL) dipped = 1;
      if (dipped && gap <= RECOVER_TOL) {
        out->recover_time = times[t] - out->shock_time;
        break;
      }
      if (!dipped && t + 1 == nt) out->recover_time = 0; /* never left the baseline band */
    }
  }
  return TR_OK;
}

/* Monte Carlo of one scenario (sc NULL = baseline). A scenario with shocks runs `shocked`, the
 * plan's model with the shocks written in, in a sim of its own; any other runs the plan's
 * model in c->sim. One sim at a time: each holds `runs` lanes of every variable, so c->sim is
 * freed meanwhile and made again after (with the model's options, as it was). */
static int assess_scenario(ctx *c, tr_assess *a, const tr_scenario *sc, const bound *shocked,
                           tr_sampler *smp, size_t k, const double *shares,
                           tr_assess_scenario *out) {
  if (!shocked) {
    tr_sim_reset_consts(c->sim);
    return scenario_runs(c, a, sc, smp, k, shares, out);
  }
  tr_sim_free(c->sim);
  c->sim = NULL;
  ctx sc_ctx = *c;
  sc_ctx.b = shocked;
  int rc = new_sim(shocked, &sc_ctx.sim, c->err);
  if (!rc) rc = scenario_runs(&sc_ctx, a, sc, smp, k, shares, out);
  tr_sim_free(sc_ctx.sim);
  memcpy(c->hazard, sc_ctx.hazard, sizeof c->hazard); /* the first hazard, whichever sim */
  if (!rc) rc = new_sim(c->b, &c->sim, c->err);
  return rc;
}

/* Deterministic run (one lane, no uncertainty) with the given lever shares; SBI and cash at
 * the horizon. */
static int eval_shares(ctx *c, tr_assess *a, const double *shares, double *sbi, double *value) {
  tr_sim_reset_consts(c->sim);
  int rc = set_lanes(c, 1, 0);
  if (!rc) rc = apply_levers(c, shares);
  if (!rc) rc = run(c);
  if (rc) return rc;
  *sbi = sbi_at(c, 0, c->horizon_idx, NULL);
  *value = NAN;
  if (a->cash_var >= 0) {
    const double *cash = tr_sim_series(c->sim, (size_t)c->b->cash_var, 0);
    if (cash) *value = cash[c->horizon_idx];
  }
  return TR_OK;
}

static int cmp_moves(const void *x, const void *y) {
  const tr_assess_move *a = x, *b = y;
  double da = a->sbi_to - a->sbi_from, db = b->sbi_to - b->sbi_from;
  if (fabs(da - db) > 1e-9) return da < db ? 1 : -1;
  double va = a->value_to - a->value_from, vb = b->value_to - b->value_from;
  if (isnan(va) || isnan(vb) || va == vb) return 0;
  return va < vb ? 1 : -1;
}

/* "USD 1,919,538": an amount rounded to whole units with thousands separators. */
static void money(char *buf, size_t cap, const char *currency, double v) {
  char digits[64];
  snprintf(digits, sizeof digits, "%.0f", fabs(v));
  size_t n = strlen(digits), o = 0;
  char grouped[96];
  for (size_t i = 0; i < n && o + 2 < sizeof grouped; i++) {
    if (i && (n - i) % 3 == 0) grouped[o++] = ',';
    grouped[o++] = digits[i];
  }
  grouped[o] = '\0';
  snprintf(buf, cap, "%s%s%s%s", v < 0 ? "-" : "", currency ? currency : "", currency ? " " : "",
           grouped);
}

static void explain(const tr_assess *a, tr_assess_move *mv) {
  const tr_tension *tn = &a->plan->tensions[mv->tension];
  const char *to_pole = mv->to > mv->from ? tn->poles[0].name : tn->poles[1].name;
  const char *from_pole = mv->to > mv->from ? tn->poles[1].name : tn->poles[0].name;
  char value[320] = "", m1[128], m2[128];
  if (!isnan(mv->value_from) && !isnan(mv->value_to)) {
    money(m1, sizeof m1, a->plan->company.currency, mv->value_from);
    money(m2, sizeof m2, a->plan->company.currency, mv->value_to);
    snprintf(value, sizeof value, "; cash at time %g goes from %s to %s", a->horizon_time, m1, m2);
  }
  snprintf(mv->sentence, sizeof mv->sentence,
           "Shift %.0f points of %s from %s to %s (lever %.2f -> %.2f): the balance index "
           "goes from %.3f to %.3f%s.",
           100 * fabs(mv->to - mv->from), tn->lever.resource ? tn->lever.resource : "the resource",
           from_pole, to_pole, mv->from, mv->to, mv->sbi_from, mv->sbi_to, value);
}

static int sweep(ctx *c, tr_assess *a) {
  const tr_plan *p = c->plan;
  size_t nt = p->n_tensions;
  double *shares = tr_calloc(nt ? nt : 1, sizeof *shares);
  a->moves = tr_calloc(2 * nt + 1, sizeof *a->moves);
  if (!shares || !a->moves) {
    tr_free(shares);
    return tr_error_set(c->err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
  }
  for (size_t t = 0; t < nt; t++)
    shares[t] = p->tensions[t].lever.current;
  double base_sbi, base_value;
  int rc = eval_shares(c, a, shares, &base_sbi, &base_value);
  for (size_t t = 0; !rc && t < nt; t++) {
    const tr_lever *L = &p->tensions[t].lever;
    for (int dir = -1; dir <= 1 && !rc; dir += 2) {
      double to = L->current + dir * c->opts->step;
      if (to < L->min) to = L->min;
      if (to > L->max) to = L->max;
      if (fabs(to - L->current) < 1e-12) continue;
      shares[t] = to;
      tr_assess_move *mv = &a->moves[a->n_moves];
      rc = eval_shares(c, a, shares, &mv->sbi_to, &mv->value_to);
      shares[t] = L->current;
      if (rc) break;
      mv->tension = t;
      mv->from = L->current;
      mv->to = to;
      mv->sbi_from = base_sbi;
      mv->value_from = base_value;
      explain(a, mv);
      a->n_moves++;
    }
  }
  tr_free(shares);
  if (!rc) qsort(a->moves, a->n_moves, sizeof *a->moves, cmp_moves);
  return rc;
}

/* Mean pole scores over the baseline Monte Carlo runs the sim holds, into a->tensions. */
static int mc_pole_means(ctx *c, tr_assess *a) {
  const tr_plan *plan = c->plan;
  size_t runs = c->opts->runs;
  tr_tension_balance *lane_tb = tr_calloc(plan->n_tensions + 1, sizeof *lane_tb);
  double *sa = tr_calloc(plan->n_tensions + 1, sizeof *sa);
  double *sb = tr_calloc(plan->n_tensions + 1, sizeof *sb);
  int rc = TR_OK;
  if (!lane_tb || !sa || !sb) {
    rc = tr_error_set(c->err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
  } else {
    for (size_t r = 0; r < runs; r++) {
      sbi_at(c, r, c->horizon_idx, lane_tb);
      for (size_t t = 0; t < plan->n_tensions; t++) {
        sa[t] += lane_tb[t].a / (double)runs;
        sb[t] += lane_tb[t].b / (double)runs;
      }
    }
    for (size_t t = 0; t < plan->n_tensions; t++)
      tr_balance_tension(sa[t], sb[t], &a->tensions[t].mc_mean);
  }
  tr_free(lane_tb);
  tr_free(sa);
  tr_free(sb);
  return rc;
}

/* The plan's model with the shocks of each scenario written in (tr_plan_mc_load_model, the
 * rewrite `scenarios` uses), bound to the plan: scen[s] for plan->scenarios[s], left empty for
 * a scenario without shocks. All are loaded before anything runs, so that a bad shock fails
 * at once (at its place in the plan: an unknown variable with "did you mean", a stock). */
static int load_shocked(const tr_plan *plan, const tr_model *model, bound *scen, tr_error *err) {
  int rc = TR_OK;
  for (size_t s = 0; !rc && s < plan->n_scenarios; s++) {
    if (!plan->scenarios[s].n_shocks) continue;
    tr_model *m = NULL;
    rc = tr_plan_mc_load_model(tr_model_file(model), plan, &plan->scenarios[s], &m, err);
    if (!rc) rc = bind(plan, m, &scen[s], err);
    scen[s].owned = m;
  }
  return rc;
}

int tr_assess_run(const tr_plan *plan, const tr_model *model, const tr_assess_opts *opts,
                  tr_assess **out, tr_error *err) {
  *out = NULL;
  tr_assess_opts defaults;
  if (!opts) {
    tr_assess_opts_init(&defaults);
    opts = &defaults;
  }
  if (opts->runs < 1 || opts->runs > 100000 || !(opts->step > 0 && opts->step <= 1))
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "assess: runs must be 1..100000 and the lever step in (0, 1]");
  if (plan->n_tensions > 256)
    return tr_error_set(err, TR_ERR_LIMIT, plan->file, 0, 0, "more than 256 tensions");
  tr_assess *a = tr_calloc(1, sizeof *a);
  if (!a) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
  a->plan = plan;
  a->model = model;
  a->cash_var = tr_model_find(model, "cash");
  bound plain = {model, NULL, NULL, NULL, -1, NULL, 0};
  bound *scen = tr_calloc(plan->n_scenarios + 1, sizeof *scen);
  ctx c = {plan, model, opts, &plain, NULL, 0, err, ""};
  tr_sampler *smp = NULL;
  tr_dist *dists = NULL;
  size_t k = plan->uncertainty.n_inputs;
  double *shares = NULL;

  int rc = scen ? resolve(&c) : tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
  if (!rc) rc = bind(plan, model, &plain, err);
  if (!rc) rc = load_shocked(plan, model, scen, err);
  if (!rc) rc = new_sim(&plain, &c.sim, err);
  if (rc) goto done;

  /* the horizon: company.horizon after the start, or the end of the run */
  const tr_sim_opts *so = tr_sim_opts_get(c.sim);
  a->horizon_time = so->start + plan->company.horizon;
  if (a->horizon_time > so->stop) a->horizon_time = so->stop;

  /* baseline deterministic run */
  shares = tr_calloc(plan->n_tensions + 1, sizeof *shares);
  a->tensions = tr_calloc(plan->n_tensions + 1, sizeof *a->tensions);
  a->scenarios = tr_calloc(plan->n_scenarios + 1, sizeof *a->scenarios);
  if (!shares || !a->tensions || !a->scenarios) {
    rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
    goto done;
  }
  for (size_t t = 0; t < plan->n_tensions; t++)
    a->tensions[t].lever = shares[t] = plan->tensions[t].lever.current;
  rc = apply_levers(&c, shares);
  if (!rc) rc = run(&c);
  if (rc) goto done;
  a->n_times = tr_sim_saved_count(c.sim);
  const double *times = tr_sim_times(c.sim);
  c.horizon_idx = 0;
  for (size_t t = 0; t < a->n_times; t++)
    if (times[t] <= a->horizon_time + 1e-9) c.horizon_idx = t;
  a->horizon_time = times[c.horizon_idx];
  a->times = tr_malloc((a->n_times ? a->n_times : 1) * sizeof *a->times);
  a->sbi_time = tr_malloc((a->n_times ? a->n_times : 1) * sizeof *a->sbi_time);
  tr_tension_balance *tb = tr_calloc(plan->n_tensions + 1, sizeof *tb);
  if (!a->times || !a->sbi_time || !tb) {
    tr_free(tb);
    rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
    goto done;
  }
  memcpy(a->times, times, a->n_times * sizeof *times);
  for (size_t t = 0; t < a->n_times; t++)
    a->sbi_time[t] = sbi_at(&c, 0, t, NULL);
  a->sbi = sbi_at(&c, 0, c.horizon_idx, tb);
  for (size_t t = 0; t < plan->n_tensions; t++)
    a->tensions[t].now = tb[t];
  tr_free(tb);

  /* Monte Carlo: baseline and every scenario, the same draws for each (common random
   * numbers), so differences between scenarios are the scenarios' doing. */
  if (k) {
    dists = tr_calloc(k, sizeof *dists);
    if (!dists) {
      rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
      goto done;
    }
    for (size_t j = 0; j < k && !rc; j++) {
      const tr_uncertain_input *u = &plan->uncertainty.inputs[j];
      rc = tr_dist_init_named(&dists[j], u->dist, u->param_names, u->params, u->n_params,
                              plan->file, u->pos.line, u->pos.col, err);
    }
    if (!rc)
      rc = tr_sampler_new(&smp, dists, k, opts->runs, TR_SAMPLING_LHS, opts->seed,
                          plan->uncertainty.correlation, NULL, err);
    if (rc) goto done;
    if (tr_sampler_warning(smp)[0])
      snprintf(a->warning, sizeof a->warning, "%s", tr_sampler_warning(smp));
  }
  a->n_scenarios = plan->n_scenarios + 1;
  for (size_t s = 0; s < a->n_scenarios && !rc; s++) {
    const tr_scenario *sc = s ? &plan->scenarios[s - 1] : NULL;
    rc = assess_scenario(&c, a, sc, sc && sc->n_shocks ? &scen[s - 1] : NULL, smp, k, shares,
                         &a->scenarios[s]);
    if (!rc && s == 0) rc = mc_pole_means(&c, a); /* while the sim holds the baseline runs */
  }
  if (rc) goto done;
  rc = sweep(&c, a);
  if (!rc && c.hazard[0]) { /* NaN or infinite values must not reach the report unannounced */
    size_t used = strlen(a->warning);
    snprintf(a->warning + used, sizeof a->warning - used, "%snumeric hazard: %s", used ? "; " : "",
             c.hazard);
  }

done:
  unbind(plan, &plain);
  for (size_t s = 0; scen && s < plan->n_scenarios; s++)
    unbind(plan, &scen[s]);
  tr_free(scen);
  tr_sampler_free(smp);
  for (size_t j = 0; dists && j < k; j++)
    tr_dist_free(&dists[j]);
  tr_free(dists);
  tr_free(shares);
  tr_sim_free(c.sim);
  if (rc) {
    tr_assess_free(a);
    return rc;
  }
  *out = a;
  return TR_OK;
}

void tr_assess_free(tr_assess *a) {
  if (!a) return;
  for (size_t s = 0; a->scenarios && s < a->n_scenarios; s++)
    tr_free(a->scenarios[s].sbi_time_mean);
  tr_free(a->scenarios);
  tr_free(a->tensions);
  tr_free(a->moves);
  tr_free(a->times);
  tr_free(a->sbi_time);
  tr_free(a);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static cJSON *num(double v) {
  return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *num_array(const double *v, size_t n) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; arr && i < n; i++)
    cJSON_AddItemToArray(arr, num(v[i]));
  return arr;
}

static cJSON *balance_json(const tr_tension *tn, const tr_tension_balance *b) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON *pa = cJSON_AddObjectToObject(o, "pole_a");
  cJSON_AddStringToObject(pa, "name", tn->poles[0].name);
  cJSON_AddItemToObject(pa, "score", num(b->a));
  cJSON *pb = cJSON_AddObjectToObject(o, "pole_b");
  cJSON_AddStringToObject(pb, "name", tn->poles[1].name);
  cJSON_AddItemToObject(pb, "score", num(b->b));
  cJSON_AddItemToObject(o, "balanced", num(b->balanced));
  cJSON_AddItemToObject(o, "combined", num(b->combined));
  cJSON_AddItemToObject(o, "balance", num(b->balance));
  if (b->over_served >= 0)
    cJSON_AddStringToObject(o, "over_served", tn->poles[b->over_served].name);
  else
    cJSON_AddNullToObject(o, "over_served");
  return o;
}

cJSON *tr_assess_to_json(const tr_assess *a) {
  const tr_plan *p = a->plan;
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "company", p->company.name ? p->company.name : "");
  cJSON_AddStringToObject(o, "sector", p->company.sector ? p->company.sector : "");
  cJSON_AddStringToObject(o, "currency", p->company.currency ? p->company.currency : "");
  cJSON_AddItemToObject(o, "horizon_time", num(a->horizon_time));
  cJSON_AddItemToObject(o, "sbi", num(a->sbi));
  cJSON_AddItemToObject(o, "sbi_mc_mean", num(a->scenarios[0].sbi_mean));
  cJSON_AddItemToObject(o, "sbi_mc_p5", num(a->scenarios[0].sbi_p5));
  cJSON *ov = cJSON_AddObjectToObject(o, "sbi_over_time");
  cJSON_AddItemToObject(ov, "time", num_array(a->times, a->n_times));
  cJSON_AddItemToObject(ov, "sbi", num_array(a->sbi_time, a->n_times));
  cJSON *ts = cJSON_AddArrayToObject(o, "tensions");
  for (size_t t = 0; ts && t < p->n_tensions; t++) {
    const tr_tension *tn = &p->tensions[t];
    cJSON *x = balance_json(tn, &a->tensions[t].now);
    if (!x) break;
    cJSON_AddStringToObject(x, "id", tn->id);
    cJSON_AddStringToObject(x, "name", tn->name ? tn->name : tn->id);
    cJSON_AddItemToObject(x, "weight", num(tn->weight));
    cJSON *lv = cJSON_AddObjectToObject(x, "lever");
    cJSON_AddStringToObject(lv, "resource", tn->lever.resource ? tn->lever.resource : "");
    cJSON_AddItemToObject(lv, "value", num(tn->lever.current));
    cJSON_AddItemToObject(lv, "min", num(tn->lever.min));
    cJSON_AddItemToObject(lv, "max", num(tn->lever.max));
    cJSON_AddItemToObject(x, "monte_carlo", balance_json(tn, &a->tensions[t].mc_mean));
    cJSON_AddItemToArray(ts, x);
  }
  cJSON *ss = cJSON_AddArrayToObject(o, "scenarios");
  for (size_t s = 0; ss && s < a->n_scenarios; s++) {
    const tr_assess_scenario *sc = &a->scenarios[s];
    cJSON *x = cJSON_CreateObject();
    if (!x) break;
    cJSON_AddStringToObject(x, "name", sc->name);
    if (sc->description) cJSON_AddStringToObject(x, "description", sc->description);
    cJSON_AddNumberToObject(x, "runs", (double)sc->runs);
    cJSON_AddItemToObject(x, "sbi_mean", num(sc->sbi_mean));
    cJSON_AddItemToObject(x, "sbi_p5", num(sc->sbi_p5));
    cJSON_AddItemToObject(x, "p_distress", num(sc->p_distress));
    cJSON_AddItemToObject(x, "drawdown_p50", num(sc->drawdown_p50));
    cJSON_AddItemToObject(x, "drawdown_p95", num(sc->drawdown_p95));
    cJSON_AddItemToObject(x, "shock_time", num(sc->shock_time));
    cJSON_AddItemToObject(x, "recover_time", num(sc->recover_time));
    cJSON_AddItemToArray(ss, x);
  }
  cJSON *ms = cJSON_AddArrayToObject(o, "moves");
  for (size_t m = 0; ms && m < a->n_moves; m++) {
    const tr_assess_move *mv = &a->moves[m];
    cJSON *x = cJSON_CreateObject();
    if (!x) break;
    cJSON_AddStringToObject(x, "tension", p->tensions[mv->tension].id);
    cJSON_AddItemToObject(x, "from", num(mv->from));
    cJSON_AddItemToObject(x, "to", num(mv->to));
    cJSON_AddItemToObject(x, "sbi_from", num(mv->sbi_from));
    cJSON_AddItemToObject(x, "sbi_to", num(mv->sbi_to));
    cJSON_AddItemToObject(x, "value_from", num(mv->value_from));
    cJSON_AddItemToObject(x, "value_to", num(mv->value_to));
    cJSON_AddStringToObject(x, "explanation", mv->sentence);
    cJSON_AddItemToArray(ms, x);
  }
  if (a->warning[0]) cJSON_AddStringToObject(o, "warning", a->warning);
  return o;
}
