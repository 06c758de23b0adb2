/*
 * Sensitivity of outputs to uncertain inputs.
 *  - Tornado: one input at a time moved to a low and a high quantile of its distribution
 *    (default p10/p90) while every other input stays at its median; rows sorted by swing.
 *  - Global measures over a Monte Carlo sample: the Spearman rank correlation of each input
 *    with each output, and standardised regression coefficients (SRC: the coefficients of a
 *    linear regression of the standardised output on the standardised inputs; for a linear
 *    model with independent inputs SRC_j = b_j sd_j / sd_y and sum SRC² = R²).
 * Pure functions on caller-owned arrays; thread-safe.
 */
#ifndef TR_SCENARIO_SENSITIVITY_H
#define TR_SCENARIO_SENSITIVITY_H

#include "scenario/dist.h"
#include "tightrope/base.h"

#include <stddef.h>

/* Ranks 1..n of x[0], x[stride], ... (ties get their average rank) into ranks[0..n-1].
 * TR_OK or TR_ERR_NOMEM. */
int tr_ranks(const double *x, size_t n, size_t stride, double *ranks);

/* Pearson correlation of x[i*sx] and y[i*sy], i < n; NaN when either is constant or n < 2. */
double tr_pearson(const double *x, size_t sx, const double *y, size_t sy, size_t n);

/* Spearman rank correlation (Pearson of average ranks) into *rho (NaN when undefined).
 * TR_OK or TR_ERR_NOMEM. */
int tr_spearman(const double *x, size_t sx, const double *y, size_t sy, size_t n, double *rho);

/* Global measures for n runs of k inputs (in, row-major n × k) and m outputs (out, n × m):
 * spearman[j*m + o] and src[j*m + o] for input j and output o, r2[o] the R² of the linear
 * fit of output o (any of the three may be NULL). An input or output that is constant, or an
 * output that is not finite in some run, gets NaN; SRC of collinear inputs is NaN. TR_OK,
 * TR_ERR_INVALID (n < 3), TR_ERR_NOMEM. */
int tr_sens_global(const double *in, size_t k, const double *out, size_t m, size_t n,
                   double *spearman, double *src, double *r2, tr_error *err);

/* Evaluates the metric for one vector of k inputs; returns a tr_status. */
typedef int (*tr_sens_metric_fn)(void *ctx, const double *inputs, double *metric);

typedef struct tr_tornado_row {
  size_t input;     /* index into the inputs */
  double low_in;    /* the input's low value (quantile plo) */
  double high_in;   /* its high value (quantile phi) */
  double low, high; /* the metric with the input at low_in / high_in */
  double swing;     /* |high - low| */
} tr_tornado_row;

/* One-at-a-time tornado over k inputs: base = medians, the metric at base into *base_metric,
 * then 2k evaluations. rows[0..k-1] come back sorted by swing, largest first (ties by input
 * index). Requires 0 < plo < phi < 1. Errors: TR_ERR_INVALID, TR_ERR_NOMEM, or whatever the
 * metric returns (its own message is kept in err). */
int tr_sens_tornado(const tr_dist *d, size_t k, double plo, double phi, tr_sens_metric_fn f,
                    void *ctx, double *base_metric, tr_tornado_row *rows, tr_error *err);

#endif
