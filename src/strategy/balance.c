/* Balance metrics (see balance.h and docs/balance.md). */
#include "strategy/balance.h"

#include <math.h>

static double clamp01(double x) {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

double tr_measure_score(const tr_measure *m, double v) {
  if (isnan(v)) return NAN;
  switch (m->direction) {
  case TR_DIR_HIGHER:
    if (m->has_worst) return clamp01((v - m->worst) / (m->target - m->worst));
    return clamp01(v / m->target);
  case TR_DIR_LOWER:
    if (m->has_worst) return clamp01((m->worst - v) / (m->worst - m->target));
    if (v <= m->target) return 1.0;
    return clamp01(m->target / v);
  case TR_DIR_BAND: {
    double d = v < m->band_low ? m->band_low - v : v > m->band_high ? v - m->band_high : 0;
    return clamp01(1.0 - d / m->tolerance);
  }
  }
  return NAN;
}

double tr_pole_score(const tr_pole *pole, const double *values) {
  double sw = 0, s = 0;
  for (size_t i = 0; i < pole->n_measures; i++) {
    double x = tr_measure_score(&pole->measures[i], values[i]);
    double w = pole->measures[i].weight;
    if (isnan(x) || !(w > 0)) continue;
    sw += w;
    s += w * x;
  }
  return sw > 0 ? s / sw : NAN;
}

void tr_balance_tension(double a, double b, tr_tension_balance *out) {
  if (!isnan(a)) a = clamp01(a);
  if (!isnan(b)) b = clamp01(b);
  out->a = a;
  out->b = b;
  out->balanced = 1.0 - fabs(a - b);
  out->combined = a * b;
  out->balance = sqrt(out->balanced * sqrt(out->combined));
  if (isnan(a) || isnan(b) || fabs(a - b) <= TR_BALANCE_TIE)
    out->over_served = -1;
  else
    out->over_served = a > b ? 0 : 1;
}

double tr_balance_index(const double *balance, const double *weights, size_t n) {
  double sw = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(balance[i]) || !(weights[i] > 0)) continue;
    double x = balance[i] < TR_BALANCE_FLOOR ? TR_BALANCE_FLOOR : balance[i];
    sw += weights[i];
    s += weights[i] * log(x);
  }
  return sw > 0 ? exp(s / sw) : NAN;
}

int tr_balance_evaluate(const tr_plan *plan, tr_measure_value_fn fn, void *ud,
                        tr_tension_balance *out, double *sbi, tr_error *err) {
  size_t nt = plan->n_tensions, most = 1;
  for (size_t t = 0; t < nt; t++)
    for (int p = 0; p < 2; p++)
      if (plan->tensions[t].poles[p].n_measures > most)
        most = plan->tensions[t].poles[p].n_measures;
  double *vals = tr_malloc(most * sizeof *vals);
  double *bal = tr_malloc((nt ? nt : 1) * sizeof *bal);
  double *w = tr_malloc((nt ? nt : 1) * sizeof *w);
  if (!vals || !bal || !w) {
    tr_free(vals);
    tr_free(bal);
    tr_free(w);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  for (size_t t = 0; t < nt; t++) {
    const tr_tension *tn = &plan->tensions[t];
    double score[2];
    for (int p = 0; p < 2; p++) {
      const tr_pole *pole = &tn->poles[p];
      for (size_t m = 0; m < pole->n_measures; m++)
        vals[m] = fn(ud, tn, p, &pole->measures[m]);
      score[p] = tr_pole_score(pole, vals);
    }
    tr_balance_tension(score[0], score[1], &out[t]);
    bal[t] = out[t].balance;
    w[t] = tn->weight;
  }
  *sbi = tr_balance_index(bal, w, nt);
  tr_free(vals);
  tr_free(bal);
  tr_free(w);
  return TR_OK;
}
