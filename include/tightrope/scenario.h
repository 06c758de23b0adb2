/*
 * tightrope — scenario layer: batched Monte Carlo over a loaded model.
 *
 * A tr_mc describes one Monte Carlo study of one model: uncertain inputs (model constants
 * drawn from distributions, optionally rank-correlated), fixed overrides and time-shaped
 * shocks of a named scenario, the variables to summarise, events, a convergence rule.
 * tr_mc_run() then runs it and keeps the statistics; tr_mc_write_json / _csv print them.
 *
 * Reproducibility (STYLE rule 15): run i draws its inputs from RNG stream (seed, i) advanced
 * by one jump (2^128 draws: a part of the stream the model never reaches) and the model's
 * random builtins from stream (seed, i) itself (the engine's contract), so every output is
 * byte-identical for any thread count and any batch size (lanes per VM pass). Statistics are
 * fed in run order by one thread.
 *
 * Threads: tr_mc_run starts `threads` workers, each with its own tr_sim; the model is shared
 * read-only. A tr_mc itself is used by one thread at a time.
 */
#ifndef TIGHTROPE_SCENARIO_H
#define TIGHTROPE_SCENARIO_H

#include "tightrope/base.h"
#include "tightrope/engine.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tr_mc tr_mc;

typedef struct tr_mc_opts {
  size_t runs; /* runs requested (the cap when a convergence rule is set), >= 1 */
  uint64_t seed;
  int threads;        /* worker threads, >= 1 */
  size_t batch;       /* lanes per VM pass, >= 1 (default 64) */
  int lhs;            /* 1: Latin hypercube, 0: plain Monte Carlo */
  size_t exact_bytes; /* memory for exact percentiles (default 256 MiB); beyond it the
                         statistics stream with bounded memory */
  double tail_alpha;  /* VaR/CVaR level, default 0.05 */
  double save_step;   /* interval of the summarised times (a multiple of dt); 0 = every
                         dt, thinned to about TR_MC_MAX_POINTS times for long runs */
} tr_mc_opts;

/* With save_step 0, runs of more than this many steps are summarised every k-th step (the
 * smallest k dividing the step count that gives at most this many points, so the stop time
 * is kept): a fan chart needs no more, and statistics per saved time cost memory. */
#define TR_MC_MAX_POINTS 250

/* Defaults: 1000 runs, seed 1, 1 thread, batch 64, MC, 256 MiB, alpha 0.05. */
tr_mc_opts tr_mc_default_opts(void);

/* A new study of model m (borrowed: must outlive the study). TR_OK or TR_ERR_NOMEM. */
int tr_mc_new(const tr_model *m, tr_mc **out, tr_error *err);

/* Free; NULL is a no-op. */
void tr_mc_free(tr_mc *mc);

/* The error details of the last failing call on mc. */
tr_error *tr_mc_error(tr_mc *mc);

/* Declare uncertain input NAME (a model constant) with a distribution in text form
 * ("normal(100, 10)", see src/scenario/dist.h). file/line/col locate the text for messages
 * (NULL/0 for the command line). Errors: TR_ERR_UNKNOWN_NAME (with "did you mean"),
 * TR_ERR_INVALID (not a constant, declared twice, bad parameters), TR_ERR_PARSE, TR_ERR_ARITY. */
int tr_mc_vary(tr_mc *mc, const char *name, const char *dist, const char *file, int line, int col);

/* Same from "NAME=DIST(args)" (the --vary form). */
int tr_mc_vary_spec(tr_mc *mc, const char *spec);

/* Same with named parameters, as the plan writes them (`dist: triangular, params: {min: 1,
 * mode: 2, max: 4}`): every parameter of the distribution must be given once, by name. */
int tr_mc_vary_params(tr_mc *mc, const char *name, const char *dist, const char *const *pnames,
                      const double *params, size_t n, const char *file, int line, int col);

/* Rank correlations between the inputs declared so far, in declaration order (k × k). A
 * matrix that is not positive semi-definite is repaired with a warning (tr_mc_warning). */
int tr_mc_correlate(tr_mc *mc, const double *corr, size_t k);

/* The rank correlation of two declared inputs (by name), e.g. from --corr "price,volume=-0.5".
 * Inputs without a declared correlation are independent. TR_ERR_UNKNOWN_NAME when a name is
 * not a declared input, TR_ERR_INVALID when rho is outside [-1, 1] or a and b are the same. */
int tr_mc_correlate_pair(tr_mc *mc, const char *a, const char *b, double rho);

/* Same from "A,B=RHO" (the --corr form). */
int tr_mc_correlate_spec(tr_mc *mc, const char *spec);

/* Set constant NAME to v in every run (a scenario override). */
int tr_mc_override(tr_mc *mc, const char *name, double v);

/* Summarise variable NAME (default when none is watched: every non-hidden variable that is
 * not a constant). TR_ERR_UNKNOWN_NAME with "did you mean". */
int tr_mc_watch(tr_mc *mc, const char *name);

/* Track an event such as "cash < 0" (see tr_event_parse). */
int tr_mc_event(tr_mc *mc, const char *expr);

/* Stop early when a rule such as "mean(revenue) ±1% @95%" holds (runs is then the cap). */
int tr_mc_until(tr_mc *mc, const char *rule);

/* Compute a tornado of every input on the final value of every watched variable. */
void tr_mc_tornado(tr_mc *mc, int on);

/* Run the study. `stop` (may be NULL) is polled: when it becomes non-zero the run ends
 * cleanly and the results so far are kept, marked partial (TR_ERR_CANCELLED is returned;
 * the results can still be written). `progress` (may be NULL) receives the count of runs.
 * Errors: TR_ERR_INVALID (bad options), TR_ERR_MATH (strict math), TR_ERR_NOMEM. */
struct tr_progress;
int tr_mc_run(tr_mc *mc, const tr_mc_opts *opts, volatile sig_atomic_t *stop,
              struct tr_progress *progress);

/* Runs completed (in order) by the last tr_mc_run, and whether it ended early (Ctrl-C). */
size_t tr_mc_runs_done(const tr_mc *mc);
int tr_mc_partial(const tr_mc *mc);

/* Warnings gathered so far (e.g. a repaired correlation matrix), "\n"-separated, or "". */
const char *tr_mc_warning(const tr_mc *mc);

/* Write the results: JSON (everything: percentile bands per variable over time, final-value
 * summaries with VaR/CVaR, events, sensitivity, tornado) or CSV (one row per variable and
 * saved time: variable,time,n,mean,sd,min,max,p5,...,p95). TR_OK, TR_ERR_IO, TR_ERR_NOMEM. */
int tr_mc_write_json(tr_mc *mc, FILE *out, const char *scenario);
int tr_mc_write_csv(tr_mc *mc, FILE *out);

/* ---- named scenarios: time-shaped shocks -------------------------------------------------
 * A shock changes a variable over time. step: by `magnitude` from `start` on (until `end`
 * when has_end); pulse: on [start, end); ramp: from no change at `start` to the full
 * magnitude at `end`, held after; path: piecewise linear through (t, v) points, no change
 * before the first point, the last value held after it. Multiplicative by default (the
 * variable times the magnitude), additive when `additive` (plus the magnitude). Several
 * shocks of one variable compose: multipliers multiply, additions add (after multiplying).
 *
 * They are applied by rewriting the model text before it is compiled: an auxiliary X
 * (a constant, an equation or a graphical function) is renamed X__tr_base and a new X =
 * X__tr_base * multiplier(TIME) takes its place, so everything that uses X sees the shock and
 * X__tr_base can still be varied or overridden under the name X; a flow's own equation is
 * wrapped. Stocks cannot be shocked (shock their flows). */
typedef enum { TR_MC_STEP, TR_MC_PULSE, TR_MC_RAMP, TR_MC_PATH } tr_mc_shock_kind;

typedef struct tr_mc_shock {
  const char *variable; /* model variable as written */
  tr_mc_shock_kind kind;
  double start;
  int has_end;
  double end;
  double magnitude;
  int additive;
  const double *path_t; /* path: times, ascending */
  const double *path_v;
  size_t n_path;
  const char *file; /* where the shock was declared, for messages (may be NULL) */
  int line, col;
} tr_mc_shock;

/* Load and compile a model file with shocks applied (n may be 0: same as tr_model_load_file).
 * Errors: those of tr_model_load_file; TR_ERR_UNKNOWN_NAME for a shocked variable the model
 * does not have (with "did you mean"); TR_ERR_INVALID for a stock, a bad time window
 * (end <= start for pulse and ramp) or a path that is empty or not ascending. */
int tr_mc_load_model(const char *path, const tr_mc_shock *shocks, size_t n, tr_model **out,
                     tr_error *err);

/* The variable that holds constant `name` in a model tr_mc_load_model may have rewritten:
 * X__tr_base when the auxiliary X was shocked, otherwise X itself; -1 when the model has no
 * variable `name`. Set this index to vary, override or bind X (tr_sim_set_const_index): the
 * shock then applies on top, as it does for every other use of X. Thread-safe. */
long tr_mc_find_const(const tr_model *m, const char *name);

#ifdef __cplusplus
}
#endif
#endif
