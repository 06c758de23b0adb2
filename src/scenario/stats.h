/*
 * Statistics over Monte Carlo runs, per "cell" (one saved time of one variable; the caller
 * chooses the layout), fed one run at a time in run order so results are bit-identical for
 * any thread count.
 *
 * Per cell: count, mean and sd (Welford, sd with n - 1; the step mean += d / n is computed
 * as d * (1 / n), once per run for every cell), min and max (exact), percentiles.
 * Percentiles are EXACT while the number of runs is at most the cap given to tr_stats_new():
 * every value is kept and the percentile is the linear interpolation between order
 * statistics (Hyndman & Fan type 7, as R and NumPy by default: h = q (n-1), x[h] interpolated,
 * 0-based). Runs beyond the cap switch the cell to STREAMING mode with bounded memory: a
 * histogram of B equal bins initialised over the observed [min, max] of the exact runs; a value
 * outside the current range doubles the range (pairs of bins merge, so no count is ever
 * re-guessed) until it fits. A streaming percentile interpolates within the bin that holds the
 * order statistic x_(floor(q(n-1))) (0-based) and is within one bin width of it;
 * tr_summary.err_bound reports that width, (range covered) / B. Memory per cell: 8 B per run
 * up to the cap, then 4·B bytes (plus a buffer of about 2 MiB of runs), independent of the
 * number of runs. Readers (summary, quantile, tail) first add buffered runs to the histograms, so
 * they take a non-const accumulator.
 *
 * Non-finite values (NaN, ±inf) are left out of every statistic and counted in `nonfinite`.
 *
 * Also here: event probabilities (`cash < 0`), VaR/CVaR of a cell, and the convergence rule
 * (`mean(revenue) ±1% @95%`). Not thread-safe, except that the shards of a round may be fed
 * by different threads (tr_stats_round_shard).
 */
#ifndef TR_SCENARIO_STATS_H
#define TR_SCENARIO_STATS_H

#include "tightrope/base.h"

#include <stddef.h>
#include <stdint.h>

#define TR_STATS_DEFAULT_BINS 2048
#define TR_STATS_NPCT 7
/* The reported percentiles: p5, p10, p25, p50, p75, p90, p95. */
extern const double tr_stats_pct[TR_STATS_NPCT];

typedef struct tr_stats tr_stats;

typedef struct tr_summary {
  uint64_t n;         /* finite values */
  uint64_t nonfinite; /* NaN/inf values left out */
  double mean, sd;    /* sd uses n - 1; 0 when n < 2 */
  double min, max;
  double pct[TR_STATS_NPCT]; /* at tr_stats_pct */
  int exact;                 /* 1: percentiles exact; 0: streaming estimates */
  double err_bound;          /* streaming: bound on |percentile error| (one bin width); else 0 */
} tr_summary;

/* How many runs of `cells` cells fit in `bytes` of exact storage (at least 1). */
size_t tr_stats_cap_for_memory(size_t bytes, size_t cells);

/* Histogram bins per cell for a memory budget: the largest power of two from 64 to
 * TR_STATS_DEFAULT_BINS whose histograms for `cells` cells fit in a quarter of `bytes`. */
size_t tr_stats_bins_for_memory(size_t bytes, size_t cells);

/* A new accumulator for `cells` cells, exact up to `exact_cap` runs (>= 1), then streaming
 * with `bins` bins per cell (even, >= 16; see tr_stats_bins_for_memory).
 * TR_ERR_INVALID for bad sizes, TR_ERR_NOMEM. */
int tr_stats_new(tr_stats **out, size_t cells, size_t exact_cap, size_t bins, tr_error *err);

/* Free; NULL is a no-op. */
void tr_stats_free(tr_stats *s);

/* Allocate exact storage for `runs` runs (at most the cap) now, so that adding them does not
 * re-allocate and copy. Optional. TR_OK or TR_ERR_NOMEM (nothing changed). */
int tr_stats_reserve(tr_stats *s, size_t runs);

/* Add one run: values[c] for every cell c. TR_OK or TR_ERR_NOMEM (the run is then not
 * counted in any cell). */
int tr_stats_add(tr_stats *s, const double *values);

/* Add `nrows` runs in run order, row-major (rows[r * cells + c]): the same result as nrows
 * calls of tr_stats_add, in one copy into the kept values. TR_OK or TR_ERR_NOMEM (the runs
 * before the failure are counted: see tr_stats_runs). */
int tr_stats_add_rows(tr_stats *s, const double *rows, size_t nrows);

/* Feeding by several threads, in rounds. The cells are split into shards
 * (tr_stats_set_shards, before the first run; 1 shard by default; TR_ERR_INVALID after,
 * TR_ERR_NOMEM when the reserved storage cannot be made again) that are independent: a
 * cell's arithmetic is the same whatever the shards, so the results are bit-identical for any
 * number of them and equal to tr_stats_add_rows on the same rows. Each shard keeps its exact
 * values in memory of its own. A round of `nrows` runs:
 *  - tr_stats_round_begin (one thread): makes room for the round. nrows must be at most
 *    tr_stats_round_max (a round does not straddle the switch to streaming).
 *    TR_ERR_INVALID for too many rows, TR_ERR_NOMEM (nothing changed);
 *  - tr_stats_round_shard(s, rows, nrows, k) for every shard k < tr_stats_shards, rows being
 *    the round's runs (row-major, all cells, run order): different shards may be added by
 *    different threads at the same time, and nothing else may touch the accumulator then;
 *  - tr_stats_round_end (one thread, after every shard): the runs are counted. */
int tr_stats_set_shards(tr_stats *s, size_t n);
size_t tr_stats_shards(const tr_stats *s);
size_t tr_stats_round_max(const tr_stats *s);
int tr_stats_round_begin(tr_stats *s, size_t nrows);
void tr_stats_round_shard(tr_stats *s, const double *rows, size_t nrows, size_t k);
void tr_stats_round_end(tr_stats *s, size_t nrows);

/* Count, mean and sd of one series of values, non-finite values left out, with the arithmetic
 * of a cell of tr_stats: a rule checked on it while runs are added sees exactly the numbers
 * the statistics will report. Zero-initialise, then add. */
typedef struct tr_welford {
  uint64_t n;
  double mean, m2;
} tr_welford;
void tr_welford_add(tr_welford *w, double x);
/* n finite values, their mean (NaN when none) and sd (n - 1; 0 when n < 2). */
void tr_welford_get(const tr_welford *w, uint64_t *n, double *mean, double *sd);

/* Runs added so far, and whether percentiles are still exact. */
uint64_t tr_stats_runs(const tr_stats *s);
int tr_stats_is_exact(const tr_stats *s);

/* Summary of one cell (NaN fields when it has no finite value). TR_OK or TR_ERR_NOMEM. */
int tr_stats_summary(tr_stats *s, size_t cell, tr_summary *out);

/* Summaries of cells first .. first+count-1 into out[0..count-1]: the same values as
 * tr_stats_summary cell by cell, much faster for many cells (one pass over the stored runs
 * per 64 cells). TR_OK or TR_ERR_NOMEM. After tr_stats_settle, calls on disjoint cells may
 * run in different threads at the same time. */
int tr_stats_summaries(tr_stats *s, size_t first, size_t count, tr_summary *out);

/* Add the runs still buffered (tr_stats_add) to the histograms: from then on, until the next
 * run is added, the readers change nothing. */
void tr_stats_settle(tr_stats *s);

/* The q-quantile (0 <= q <= 1) of one cell, as in tr_stats_summary. */
int tr_stats_quantile(tr_stats *s, size_t cell, double q, double *out);

/* Mean and sd so far of one cell (cheap: for the convergence rule). */
void tr_stats_moments(const tr_stats *s, size_t cell, uint64_t *n, double *mean, double *sd);

/* Value at risk and conditional value at risk of one cell at level alpha (0 < alpha < 1),
 * LOWER tail (low values are bad, as for cash or profit): var = the alpha-quantile,
 * cvar = the mean of the values at or below it (exact mode: the mean of the ceil(alpha n)
 * smallest values; streaming: from the histogram, within one bin width). TR_ERR_INVALID for
 * a bad alpha or an empty cell, TR_ERR_NOMEM. */
int tr_stats_tail(tr_stats *s, size_t cell, double alpha, double *var, double *cvar, tr_error *err);

/* ---- events ----------------------------------------------------------------------------
 * An event is one comparison of a variable with a number: `cash < 0`, `backlog >= 120`,
 * `0 > cash` (either order; the variable may be quoted and contain spaces). */
typedef enum { TR_CMP_LT, TR_CMP_LE, TR_CMP_GT, TR_CMP_GE, TR_CMP_EQ, TR_CMP_NE } tr_cmp;

typedef struct tr_event {
  char var[256]; /* the variable name as written (the caller resolves it) */
  tr_cmp op;     /* normalised so the variable is on the left */
  double rhs;
  char text[256]; /* the expression as given */
} tr_event;

/* Parse an event expression. TR_ERR_PARSE with a message naming the expected form. */
int tr_event_parse(const char *text, tr_event *ev, tr_error *err);

/* Whether value x satisfies the event. */
int tr_event_test(const tr_event *ev, double x);

/* Counts of an event over runs, per saved time. */
typedef struct tr_event_acc {
  size_t n_times;
  uint64_t runs;   /* runs seen */
  uint64_t any;    /* runs where the event held at some saved time */
  uint64_t at_end; /* runs where it held at the final saved time */
  uint64_t *first; /* first[t]: runs whose first passage was at saved time t (owned) */
} tr_event_acc;

int tr_event_acc_init(tr_event_acc *a, size_t n_times);
void tr_event_acc_free(tr_event_acc *a); /* NULL is a no-op */
/* Add one run's series of the event's variable (n_times values). */
void tr_event_acc_add(tr_event_acc *a, const tr_event *ev, const double *series);
/* The q-quantile of the first-passage time among runs where the event happened (NaN when it
 * never did); `times` are the saved times. Exact (times are discrete). */
double tr_event_first_passage_quantile(const tr_event_acc *a, const double *times, double q);

/* ---- convergence rule ------------------------------------------------------------------
 * `mean(NAME) ±1% @95%`: stop when the confidence interval of the mean of NAME (its final
 * value) has a half-width at most 1% of |mean| at 95% confidence. `+-` or `+/-` may replace
 * ±; without `%` the half-width is absolute; `@95%` is optional (95% by default). */
typedef struct tr_until {
  char var[256];
  int relative; /* half-width is a fraction of |mean| */
  double half;  /* the half-width (a fraction when relative) */
  double conf;  /* confidence level in (0, 1) */
  double z;     /* two-sided normal quantile of conf */
} tr_until;

/* Minimum runs before the rule may stop a Monte Carlo (the CLT needs some runs). */
#define TR_UNTIL_MIN_RUNS 100

int tr_until_parse(const char *text, tr_until *u, tr_error *err);

/* 1 when n >= TR_UNTIL_MIN_RUNS and z sd / sqrt(n) <= the allowed half-width. */
int tr_until_met(const tr_until *u, uint64_t n, double mean, double sd);

#endif
