/*
 * Statistical early warning for KPI series (docs/balance.md, "Early warning"): XmR natural
 * process limits (Wheeler), the Western Electric, Nelson and Anhøj rule sets, EWMA and
 * tabular CUSUM with the defaults of shared/reference/kpi-scoring.md, and the tension-level
 * imbalance signal (one pole improving while the other deteriorates). Each detector appends
 * signals — rule, point, one-line explanation — to a tr_spc_signals list. Pure functions;
 * thread-safe.
 *
 * Indexes are 0-based into the series; the explanations count points from 1 ("point 14"),
 * as control-chart texts do.
 */
#ifndef TR_STRATEGY_SPC_H
#define TR_STRATEGY_SPC_H

#include "tightrope/base.h"

#include <stddef.h>

/* Chart constants for moving ranges of two (Wheeler; kpi-scoring.md §2.1). */
#define TR_SPC_D2 1.128 /* sigma = mR-bar / d2 */
#define TR_SPC_E2 2.66  /* natural process limits: mean +- E2 * mR-bar (= 3 / d2) */
#define TR_SPC_D4 3.268 /* upper range limit of the mR chart: D4 * mR-bar */

/* Defaults (kpi-scoring.md §2.3, §2.4). */
#define TR_EWMA_LAMBDA 0.2
#define TR_EWMA_L 3.0
#define TR_CUSUM_K 0.5
#define TR_CUSUM_H 4.0
/* Imbalance defaults: trend window and the size of change over it that matters. */
#define TR_IMBALANCE_WINDOW 6
#define TR_IMBALANCE_MIN_CHANGE 0.05

typedef struct tr_xmr {
  size_t n;      /* points the limits were computed from */
  double mean;   /* centre line */
  double mr_bar; /* average moving range */
  double sigma;  /* mr_bar / d2 */
  double unpl;   /* upper natural process limit, mean + 2.66 mr_bar */
  double lnpl;   /* lower natural process limit */
  double url;    /* upper range limit for the moving ranges, 3.268 mr_bar */
} tr_xmr;

typedef enum { TR_SPC_WESTERN_ELECTRIC, TR_SPC_NELSON, TR_SPC_ANHOJ } tr_spc_ruleset;

typedef struct tr_spc_signal {
  const char *rule; /* static id: WE1..WE4, N1..N8, RUN, CROSSINGS, MR, EWMA, CUSUM+, CUSUM-,
                       IMBALANCE */
  size_t index;     /* 0-based point at which the pattern is complete */
  int side;         /* +1 up/above, -1 down/below, 0 neither */
  char text[200];   /* one line, e.g. "point 14 (16) is above the upper limit 15.34" */
} tr_spc_signal;

/* A growable list of signals; storage from tr_realloc. Zero-initialise or use
 * tr_spc_signals_init; free with tr_spc_signals_free (NULL is a no-op). */
typedef struct tr_spc_signals {
  tr_spc_signal *items;
  size_t n;
  size_t cap;
} tr_spc_signals;

void tr_spc_signals_init(tr_spc_signals *s);
void tr_spc_signals_free(tr_spc_signals *s);

/* XmR limits from the first n points of x (n >= 2, all finite). TR_ERR_INVALID otherwise.
 * The baseline is the caller's choice: limits from a stable past, applied to what follows. */
int tr_spc_xmr(const double *x, size_t n, tr_xmr *out, tr_error *err);

/* Apply a rule set to x[0..n) against the limits `lim` (centre line lim->mean, sigma
 * lim->sigma); also signals moving ranges above lim->url (rule MR) for the Shewhart sets.
 * Western Electric: WE1 one point beyond 3 sigma; WE2 two of three successive beyond 2 sigma
 * on one side; WE3 four of five beyond 1 sigma on one side; WE4 eight successive on one side.
 * Nelson (as in Minitab): N1 beyond 3 sigma; N2 nine on one side; N3 six in a row increasing
 * or decreasing; N4 fourteen alternating up and down; N5 = WE2; N6 = WE3; N7 fifteen within 1
 * sigma; N8 eight beyond 1 sigma on either side. The 2-of-3 and 4-of-5 rules signal at a point
 * that is itself beyond the zone. Anhøj (run chart around the median of x, lim unused): RUN
 * when the longest run exceeds tr_spc_anhoj_max_run(n), CROSSINGS when the median is crossed
 * fewer than tr_spc_anhoj_min_crossings(n) times; both at the last point. NAN points are
 * skipped (they break runs). TR_ERR_NOMEM on allocation failure. */
int tr_spc_rules(const double *x, size_t n, const tr_xmr *lim, tr_spc_ruleset set,
                 tr_spc_signals *out, tr_error *err);

/* Anhøj limits for n useful points: longest run > round(log2 n) + 3 signals; fewer
 * crossings than qbinom(0.05, n - 1, 0.5) signals. */
size_t tr_spc_anhoj_max_run(size_t n);
size_t tr_spc_anhoj_min_crossings(size_t n);

/* EWMA z_i = lambda x_i + (1 - lambda) z_{i-1}, z_0 = mu0, with the exact (time-varying)
 * limits mu0 +- L sigma sqrt(lambda/(2 - lambda) (1 - (1 - lambda)^(2i))), i counted from 1
 * at x[0]. Signals every point outside. `z` (may be NULL) receives the n statistics.
 * TR_ERR_INVALID unless 0 < lambda <= 1, L > 0, sigma > 0. */
int tr_spc_ewma(const double *x, size_t n, double mu0, double sigma, double lambda, double L,
                tr_spc_signals *out, double *z, tr_error *err);

/* Tabular CUSUM: C+_i = max(0, x_i - (mu0 + k sigma) + C+_{i-1}), C-_i likewise below,
 * C+-_0 = 0; signals (CUSUM+ / CUSUM-) every point where a sum exceeds h sigma, with the
 * shift estimate mu0 + K + C+/N+ in the text. Sums are not reset after a signal. `cplus`,
 * `cminus` (may be NULL) receive the sums. TR_ERR_INVALID unless k >= 0, h > 0, sigma > 0. */
int tr_spc_cusum(const double *x, size_t n, double mu0, double sigma, double k, double h,
                 tr_spc_signals *out, double *cplus, double *cminus, tr_error *err);

/* Least-squares slope of y[0..n) against 0..n-1 and its t statistic (slope / standard
 * error; +-INFINITY for a perfect non-flat line, 0 for a flat one). n >= 3. */
void tr_spc_trend(const double *y, size_t n, double *slope, double *t);

/* One-sided 95% quantile of Student's t with df degrees of freedom (table to 30, then a
 * Cornish-Fisher expansion). */
double tr_spc_t95(size_t df);

/* Tension imbalance: over each window of `w` periods (w >= 3) of the pole-score series a
 * and b (scores in [0, 1], higher = better served), fit a least-squares trend to each pole.
 * Signal IMBALANCE at the window's last period when one pole's trend is significantly up
 * and the other's significantly down (t beyond +-tr_spc_t95(w - 2)), and each pole moved by
 * at least `min_change` over the window (slope * (w - 1)). side = +1 when pole A gains at
 * B's expense, -1 for the reverse. Windows holding a NAN are skipped. */
int tr_spc_imbalance(const double *a, const double *b, size_t n, size_t w, double min_change,
                     tr_spc_signals *out, tr_error *err);

/* ---- average run lengths (for choosing parameters) ---------------------------------------
 * The expected number of points until a signal when the mean has shifted by `shift` sigma
 * (shift 0: the in-control ARL, the mean time between false alarms). Computed with the
 * Markov-chain method of Brook & Evans (1972): the statistic's in-control region is cut into
 * a few hundred states and the expected time to absorption solved exactly. */

/* Shewhart chart with limits at +-L sigma: 1 / P(|x| > L). L = 3, shift 0 gives 370.4. */
double tr_spc_shewhart_arl(double L, double shift);

/* Two-sided tabular CUSUM (k, h in sigma units, starting at 0), combined from the one-sided
 * ARLs by 1/ARL = 1/ARL+ + 1/ARL-. TR_ERR_INVALID unless k >= 0, h > 0; TR_ERR_NOMEM. */
int tr_spc_cusum_arl(double k, double h, double shift, double *arl, tr_error *err);

/* EWMA with steady-state limits +-L sigma sqrt(lambda/(2 - lambda)), starting at the target.
 * TR_ERR_INVALID unless 0 < lambda <= 1, L > 0; TR_ERR_NOMEM. */
int tr_spc_ewma_arl(double lambda, double L, double shift, double *arl, tr_error *err);

#endif
