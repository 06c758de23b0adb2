/*
 * Assess: how balanced the business is, how that balance holds under the plan's scenarios,
 * and which lever to move — the main job of tightrope (`tightrope assess`, the dashboard's
 * Overview).
 *
 * 1. Baseline: the levers of the plan are applied to the model (tr_lever_binding), the model
 *    runs once, every pole measure is read at the plan's horizon, and the balance metrics of
 *    balance.h give the per-tension scores and the Strategic Balance Index (SBI); the SBI is
 *    also computed at every saved time (balance over simulated time).
 * 2. Resilience: for the baseline and each named scenario, `runs` Monte Carlo runs (the plan's
 *    uncertain inputs; run i draws from RNG stream (seed, i) jumped once, the model's random
 *    builtins from stream (seed, i)), all in one batched VM pass (lanes). Per scenario: the SBI
 *    at the horizon (mean, p5), the probability of distress (the `cash` variable below zero at
 *    any time, when the model has one), the drawdown of cash from its running peak (median and
 *    p95 across runs), and the time to recover: from the first shock until the mean SBI is back
 *    within 0.01 of the baseline's mean SBI at the same time.
 * 3. Lever moves: every lever is moved by ±`step` (within its range) in a deterministic run;
 *    moves are ranked by the change in SBI, then in long-run value (cash at the horizon), and
 *    each is explained in one sentence.
 */
#ifndef TR_STRATEGY_ASSESS_H
#define TR_STRATEGY_ASSESS_H

#include "strategy/balance.h"
#include "tightrope/engine.h"
#include "tightrope/strategy.h"

#include <cjson/cJSON.h>
#include <stdint.h>

typedef struct tr_assess_opts {
  size_t runs;   /* Monte Carlo runs per scenario, >= 1 (default 200) */
  uint64_t seed; /* default 1 */
  double step;   /* lever move size for the sweep, in (0, 1] (default 0.1) */
  /* Measure values for KPI measures that no model variable carries (e.g. the latest KPI
   * observation from the store); may be NULL. Return NAN when unknown. */
  double (*kpi_value)(void *ud, const char *kpi);
  void *kpi_ud;
} tr_assess_opts;

void tr_assess_opts_init(tr_assess_opts *o);

typedef struct tr_assess_tension {
  double lever;               /* the plan's current share to pole A */
  tr_tension_balance now;     /* at the horizon, baseline run */
  tr_tension_balance mc_mean; /* mean pole scores over the baseline Monte Carlo */
} tr_assess_tension;

typedef struct tr_assess_scenario {
  const char *name;        /* "baseline" or the plan's scenario name */
  const char *description; /* NULL if none */
  size_t runs;
  double sbi_mean, sbi_p5;           /* SBI at the horizon across runs */
  double p_distress;                 /* P(cash < 0 at any time); NAN without a cash variable */
  double drawdown_p50, drawdown_p95; /* relative fall of cash from its running peak */
  double shock_time;                 /* first shock start (NAN when none) */
  double recover_time;               /* time after shock_time until the SBI recovered; NAN: never */
  double *sbi_time_mean;             /* mean SBI at each saved time (n_times) */
} tr_assess_scenario;

typedef struct tr_assess_move {
  size_t tension;
  double from, to; /* lever share */
  double sbi_from, sbi_to;
  double value_from, value_to; /* cash at the horizon (NAN without a cash variable) */
  char sentence[640];
} tr_assess_move;

typedef struct tr_assess {
  const tr_plan *plan;   /* borrowed */
  const tr_model *model; /* borrowed */
  double horizon_time;   /* the time at which measures are read */
  double sbi;            /* baseline SBI at the horizon */
  size_t n_times;
  double *times;                 /* saved times of the baseline run */
  double *sbi_time;              /* baseline SBI at each saved time */
  tr_assess_tension *tensions;   /* plan->n_tensions */
  tr_assess_scenario *scenarios; /* [0] baseline, then the plan's scenarios */
  size_t n_scenarios;
  tr_assess_move *moves; /* ranked, best first */
  size_t n_moves;
  long cash_var;     /* index of the `cash` variable, or -1 */
  char warning[512]; /* a repaired correlation matrix, a numeric hazard; "" if none */
} tr_assess;

/* The value lever binding `b` gives its model constant for share `share` of pole A:
 * share × scale (pole a) or (1 − share) × scale (pole b), the scale being a number or the
 * model value of a named constant. */
double tr_lever_binding_value(const tr_model *m, const tr_lever_binding *b, double share);

/* Assess `plan` on `model`. A scenario with shocks runs on a copy of the model with its shocks
 * written into the equations, exactly as `scenarios` and the server run it
 * (tr_plan_mc_load_model): the model is read again from tr_model_file(model), so it must have
 * come from a file that is still there. Errors: TR_ERR_UNKNOWN_NAME (the plan names something
 * the model lacks, a shocked variable too: position in the plan, closest model name),
 * TR_ERR_INVALID (a bound constant is not a constant; a shocked stock; bad options), TR_ERR_IO
 * (the model file cannot be read again), TR_ERR_MATH, TR_ERR_NOMEM. */
int tr_assess_run(const tr_plan *plan, const tr_model *model, const tr_assess_opts *opts,
                  tr_assess **out, tr_error *err);

/* Free; NULL is a no-op. */
void tr_assess_free(tr_assess *a);

/* The whole assessment as JSON (the shape docs/api.md documents for GET /api/assess).
 * NULL when out of memory. */
cJSON *tr_assess_to_json(const tr_assess *a);

#endif
