/*
 * Statistics over Monte Carlo runs, per "cell" (one saved time of one variable; the caller
 * chooses the layout), bit-identical for any thread count and any grouping of the runs.
 *
 * Per cell: count, mean and sd (sd with n - 1), min and max (exact), percentiles.
 * Moments: the runs are cut into CHUNKS at every multiple of TR_STATS_CHUNK runs (counted from
 * the first; also at the exact cap). A chunk's mean is its first value plus the mean distance
 * to it, and its sum of squared deviations comes from the sums of those distances and of
 * their squares (one pass; the shift to a value of the chunk keeps cancellation small); chunks
 * are then combined in run order with the pairwise update of Chan, Golub and LeVeque. The chunks
 * do not depend on who computed them, so neither do the results; a cell whose value never
 * changes has exactly that mean and sd 0.
 * Percentiles are EXACT while the number of runs is at most the cap given to tr_stats_new():
 * every value is kept and the percentile is the linear interpolation between order
 * statistics (Hyndman & Fan type 7, as R and NumPy by default: h = q (n-1), x[h] interpolated,
 * 0-based). Runs beyond the cap switch the cell to STREAMING mode with bounded memory: a
 * histogram of B equal bins, at first over the observed [min, max] of the exact runs; a value
 * outside the current range doubles the range about its centre (pairs of bins merge, so no
 * count is ever re-guessed) until it fits. Every histogram of a cell is one of these nested
 * ranges, so histograms fed by different threads merge exactly, and the result depends only
 * on the values. A streaming percentile interpolates within the bin that holds the order
 * statistic x_(floor(q(n-1))) (0-based) and is within one bin width of it;
 * tr_summary.err_bound reports that width, (range covered) / B, at most about 4 (max - min) / B
 * (the range is centred, and doubles). Memory per cell: 8 B per run up to the cap, then 4·B
 * bytes per feeding thread, independent of the number of runs. Readers (summary, quantile,
 * tail) first add what is waiting (tr_stats_settle), so they take a non-const accumulator.
 *
 * Non-finite values (NaN, ±inf) are left out of every statistic and counted in `nonfinite`.
 *
 * Also here: event probabilities (`cash < 0`), VaR/CVaR of a cell, and the convergence rule
 * (`mean(revenue) ±1% @95%`), the last two in stats_events.c. Not thread-safe, except that
 * the chunks of a round may be fed by different threads (tr_stats_round_chunk).
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
 * calls of tr_stats_add. TR_OK, TR_ERR_NOMEM (the runs before the failure are counted: see
 * tr_stats_runs), TR_ERR_INVALID while a round is open. */
int tr_stats_add_rows(tr_stats *s, const double *rows, size_t nrows);

/* Runs per chunk of the moments, and per epoch of the streaming histograms (whose ranges
 * change only at an epoch's end). */
#define TR_STATS_CHUNK 64
#define TR_STATS_EPOCH 4096

/* Feeding by several threads, in rounds (the Monte Carlo runner). Results are bit-identical
 * to tr_stats_add_rows on the same runs, whatever the rounds and the threads.
 *  - tr_stats_set_threads(s, T): before the first run (TR_ERR_INVALID after): T histogram
 *    sets, one per feeding thread (default 1);
 *  - tr_stats_round_max: the most runs the next round may have: a round does not straddle
 *    the switch to streaming, nor the end of an epoch. And a round must end at a multiple of
 *    TR_STATS_CHUNK runs, at the exact cap, at an epoch's end or at the last run, for the
 *    chunks not to depend on the rounds: tr_stats_round_size(s, left, limit) is the size of
 *    a round that does, with `left` runs to go and at most `limit` (>= TR_STATS_CHUNK) runs
 *    wanted;
 *  - the switch itself, when tr_stats_stream_due: tr_stats_stream_begin (TR_ERR_NOMEM: still
 *    exact), tr_stats_stream_cells on ranges of cells that cover them all (c0 a multiple of
 *    8; disjoint ranges may run in different threads), tr_stats_stream_end. Optional:
 *    tr_stats_round_begin does all three on its thread when they are due;
 *  - tr_stats_round_begin(s, nrows), one thread: makes room for the round (TR_ERR_INVALID for
 *    too many rows or with runs of tr_stats_add_rows waiting, TR_ERR_NOMEM: nothing
 *    changed). Its runs are cut into tr_stats_round_chunks chunks; chunk j is runs
 *    [off, off + nr) of the round (tr_stats_round_chunk_runs);
 *  - tr_stats_rows_dest(s, j, nrows, set): where the rows of chunk j (and of the chunks after
 *    it, nrows in all) should be written so that they need no copy: the exact storage, or the
 *    rows waiting in `set` to be added to its histograms (NULL: out of memory);
 *  - tr_stats_round_chunk(s, j, rows, set) for every chunk j, rows being its nr runs
 *    (row-major; copied unless they are where tr_stats_rows_dest put them): any order,
 *    different chunks in different threads at the same time, each thread with a set of its
 *    own (set < T), and nothing else touching the accumulator then. TR_OK or TR_ERR_NOMEM;
 *  - tr_stats_round_end (one thread, after every chunk): the runs are counted. TR_OK or
 *    TR_ERR_NOMEM (at an epoch's end: values set aside could not be kept). */
int tr_stats_set_threads(tr_stats *s, size_t n);
size_t tr_stats_round_max(const tr_stats *s);
size_t tr_stats_round_size(const tr_stats *s, size_t left, size_t limit);
/* Bytes a round keeps per chunk (its partial moments), for sizing rounds. */
size_t tr_stats_chunk_bytes(const tr_stats *s);
int tr_stats_stream_due(const tr_stats *s);
int tr_stats_stream_begin(tr_stats *s);
void tr_stats_stream_cells(tr_stats *s, size_t c0, size_t c1);
void tr_stats_stream_end(tr_stats *s);
int tr_stats_round_begin(tr_stats *s, size_t nrows);
size_t tr_stats_round_chunks(const tr_stats *s);
void tr_stats_round_chunk_runs(const tr_stats *s, size_t j, size_t *off, size_t *nr);
double *tr_stats_rows_dest(tr_stats *s, size_t j, size_t nrows, size_t set);
int tr_stats_round_chunk(tr_stats *s, size_t j, const double *rows, size_t set);
int tr_stats_round_end(tr_stats *s);
/* Add the rows waiting in `set` to its histograms now, on its thread: before a round that
 * ends an epoch is ended, and at the end of a run, so that tr_stats_round_end and
 * tr_stats_settle have less to do on one thread. Optional. TR_OK or TR_ERR_NOMEM. */
int tr_stats_flush_set(tr_stats *s, size_t set);

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

/* Add the runs still waiting (tr_stats_add) and merge the threads' histograms: from then on,
 * until the next run is added, the readers change nothing. TR_OK or TR_ERR_NOMEM. */
int tr_stats_settle(tr_stats *s);

/* The q-quantile (0 <= q <= 1) of one cell, as in tr_stats_summary. */
int tr_stats_quantile(tr_stats *s, size_t cell, double q, double *out);

/* Mean and sd so far of one cell (cheap: for the convergence rule), without the runs of
 * tr_stats_add still waiting for their chunk to fill (tr_stats_settle adds them). */
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
