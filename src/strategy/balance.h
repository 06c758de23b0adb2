/*
 * Balance metrics (docs/balance.md): measure scores, pole scores, the per-tension balanced
 * and combined dimensions (He & Wong 2004; Cao, Gedajlovic & Zhang 2009), the per-tension
 * balance and the Strategic Balance Index, a weighted geometric mean across tensions (as the
 * HDI since 2010). Pure functions over the plan structs; thread-safe.
 */
#ifndef TR_STRATEGY_BALANCE_H
#define TR_STRATEGY_BALANCE_H

#include "tightrope/strategy.h"

#include <stddef.h>

/* A tension's balance below this counts as this in the index, so that one starved tension
 * drags the index down hard without erasing what the other tensions say. */
#define TR_BALANCE_FLOOR 0.01
/* Pole scores closer than this are "balanced": neither pole is over-served. */
#define TR_BALANCE_TIE 0.05

/* A measure's value normalised to [0, 1] by its direction and target:
 *   higher: (v - worst)/(target - worst) with `worst`, else v/target;
 *   lower:  (worst - v)/(worst - target) with `worst`, else target/v (1 at or below target);
 *   band:   1 inside [band_low, band_high], else 1 - distance/tolerance;
 * all clamped to [0, 1]. NAN in, NAN out. */
double tr_measure_score(const tr_measure *m, double value);

/* Weighted mean of the scores of a pole's measures; values[i] belongs to measures[i]
 * (NAN = unknown, left out with its weight). NAN when no measure has a value. */
double tr_pole_score(const tr_pole *pole, const double *values);

typedef struct tr_tension_balance {
  double a;        /* pole A score in [0, 1] */
  double b;        /* pole B score */
  double balanced; /* balanced dimension 1 - |a - b| */
  double combined; /* combined dimension a * b */
  double balance;  /* per-tension balance sqrt(balanced * sqrt(combined)) */
  int over_served; /* 0 pole A, 1 pole B, -1 neither (|a - b| <= TR_BALANCE_TIE) */
} tr_tension_balance;

/* The metrics of one tension from its pole scores (clamped to [0, 1]; NAN propagates to
 * every field but over_served, which is then -1). */
void tr_balance_tension(double a, double b, tr_tension_balance *out);

/* The Strategic Balance Index: exp(sum w_i ln max(B_i, TR_BALANCE_FLOOR) / sum w_i) over
 * the tensions whose balance B_i is not NAN and whose weight is positive. NAN when none. */
double tr_balance_index(const double *balance, const double *weights, size_t n);

/* Where a measure's value comes from (a simulation, the KPI store, a survey): return the
 * value or NAN when unknown. */
typedef double (*tr_measure_value_fn)(void *ud, const tr_tension *t, int pole, const tr_measure *m);

/* Evaluate every tension of the plan: out[i] for plan->tensions[i] (caller-allocated,
 * plan->n_tensions entries) and the index in *sbi. Returns TR_OK, or TR_ERR_NOMEM. */
int tr_balance_evaluate(const tr_plan *plan, tr_measure_value_fn fn, void *ud,
                        tr_tension_balance *out, double *sbi, tr_error *err);

#endif
