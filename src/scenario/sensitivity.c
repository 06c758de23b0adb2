/* Tornado and global sensitivity measures (sensitivity.h). */
#include "scenario/sensitivity.h"

#include "scenario/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct keyed {
  double v;
  size_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  if (x->v != y->v) return (x->v > y->v) - (x->v < y->v);
  return (x->i > y->i) - (x->i < y->i);
}

int tr_ranks(const double *x, size_t n, size_t stride, double *ranks) {
  keyed *k = tr_malloc((n ? n : 1) * sizeof *k);
  if (!k) return TR_ERR_NOMEM;
  for (size_t i = 0; i < n; i++)
    k[i] = (keyed){x[i * stride], i};
  qsort(k, n, sizeof *k, cmp_keyed);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && k[j + 1].v == k[i].v)
      j++;
    double avg = 0.5 * ((double)i + (double)j) + 1.0; /* ranks i+1 .. j+1 share their mean */
    for (size_t t = i; t <= j; t++)
      ranks[k[t].i] = avg;
    i = j + 1;
  }
  tr_free(k);
  return TR_OK;
}

double tr_pearson(const double *x, size_t sx, const double *y, size_t sy, size_t n) {
  if (n < 2) return NAN;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; i++) {
    mx += x[i * sx];
    my += y[i * sy];
  }
  mx /= (double)n;
  my /= (double)n;
  double sxx = 0, syy = 0, sxy = 0;
  for (size_t i = 0; i < n; i++) {
    double dx = x[i * sx] - mx, dy = y[i * sy] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (!(sxx > 0) || !(syy > 0)) return NAN;
  return sxy / sqrt(sxx * syy);
}

int tr_spearman(const double *x, size_t sx, const double *y, size_t sy, size_t n, double *rho) {
  double *rx = tr_malloc((n ? n : 1) * sizeof *rx), *ry = tr_malloc((n ? n : 1) * sizeof *ry);
  int rc = TR_ERR_NOMEM;
  if (rx && ry && tr_ranks(x, n, sx, rx) == TR_OK && tr_ranks(y, n, sy, ry) == TR_OK) {
    *rho = tr_pearson(rx, 1, ry, 1, n);
    rc = TR_OK;
  }
  tr_free(rx);
  tr_free(ry);
  return rc;
}

/* Standardised regression coefficients (into src_out[0..k-1], NaN for unused inputs) of
 * output column y on the non-constant inputs `use` (nu of them): solve Rxx beta = rxy by Cholesky,
 * where R are correlations. */
static void src_one(const double *in, size_t k, const double *y, size_t ys, size_t n,
                    const size_t *use, size_t nu, double *rxx, double *l, double *rxy, double *beta,
                    double *src_out, double *r2_out) {
  for (size_t a = 0; a < k; a++)
    src_out[a] = NAN;
  *r2_out = NAN;
  if (nu == 0) return;
  for (size_t a = 0; a < nu; a++) {
    rxy[a] = tr_pearson(&in[use[a]], k, y, ys, n);
    if (isnan(rxy[a])) return; /* constant output */
    for (size_t b = 0; b < nu; b++)
      rxx[a * nu + b] = a == b ? 1.0 : tr_pearson(&in[use[a]], k, &in[use[b]], k, n);
  }
  if (tr_cholesky(rxx, nu, l) != TR_OK) return; /* collinear inputs: no unique SRC */
  for (size_t a = 0; a < nu; a++) {             /* forward: L z = rxy */
    double t = rxy[a];
    for (size_t b = 0; b < a; b++)
      t -= l[a * nu + b] * beta[b];
    beta[a] = t / l[a * nu + a];
  }
  for (size_t a = nu; a-- > 0;) { /* backward: L^T beta = z */
    double t = beta[a];
    for (size_t b = a + 1; b < nu; b++)
      t -= l[b * nu + a] * beta[b];
    beta[a] = t / l[a * nu + a];
  }
  double r2 = 0;
  for (size_t a = 0; a < nu; a++) {
    src_out[use[a]] = beta[a];
    r2 += beta[a] * rxy[a];
  }
  *r2_out = r2;
}

int tr_sens_global(const double *in, size_t k, const double *out, size_t m, size_t n,
                   double *spearman, double *src, double *r2, tr_error *err) {
  if (n < 3)
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "sensitivity needs at least 3 runs (got %zu)", n);
  int rc = TR_OK;
  double *rin = tr_malloc(n * k * sizeof *rin + 1), *rout = tr_malloc(n * sizeof *rout);
  size_t *use = tr_malloc(k * sizeof *use + 1);
  double *rxx = tr_malloc(k * k * sizeof *rxx + 1), *l = tr_malloc(k * k * sizeof *l + 1);
  double *rxy = tr_malloc(k * sizeof *rxy + 1), *beta = tr_malloc(k * sizeof *beta + 1);
  double *r2tmp = tr_malloc(m * sizeof *r2tmp + 1), *srcv = tr_malloc(k * sizeof *srcv + 1);
  if (!rin || !rout || !use || !rxx || !l || !rxy || !beta || !r2tmp || !srcv) {
    rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    goto done;
  }
  /* Ranks of every input column once; then of each output column. */
  for (size_t j = 0; j < k; j++) {
    double *tmp = rout; /* scratch of n */
    if (tr_ranks(&in[j], n, k, tmp) != TR_OK) {
      rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
      goto done;
    }
    for (size_t i = 0; i < n; i++)
      rin[i * k + j] = tmp[i];
  }
  size_t nu = 0;
  for (size_t j = 0; j < k; j++) {
    double first = in[j];
    int constant = 1;
    for (size_t i = 1; i < n && constant; i++)
      constant = in[i * k + j] == first;
    if (!constant) use[nu++] = j;
  }
  for (size_t o = 0; o < m; o++) {
    /* An output that was NaN or infinite in some run has no meaningful ranks or fit. */
    int finite = 1;
    for (size_t i = 0; i < n && finite; i++)
      finite = isfinite(out[i * m + o]);
    if (!finite) {
      for (size_t j = 0; j < k; j++) {
        if (spearman) spearman[j * m + o] = NAN;
        if (src) src[j * m + o] = NAN;
      }
      if (r2) r2[o] = NAN;
      continue;
    }
    if (spearman) {
      if (tr_ranks(&out[o], n, m, rout) != TR_OK) {
        rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto done;
      }
      for (size_t j = 0; j < k; j++)
        spearman[j * m + o] = tr_pearson(&rin[j], k, rout, 1, n);
    }
    if (src || r2) {
      src_one(in, k, &out[o], m, n, use, nu, rxx, l, rxy, beta, srcv, &r2tmp[o]);
      if (r2) r2[o] = r2tmp[o];
      for (size_t j = 0; src && j < k; j++)
        src[j * m + o] = srcv[j];
    }
  }
done:
  tr_free(rin);
  tr_free(rout);
  tr_free(use);
  tr_free(rxx);
  tr_free(l);
  tr_free(rxy);
  tr_free(beta);
  tr_free(r2tmp);
  tr_free(srcv);
  return rc;
}

static int cmp_rows(const void *a, const void *b) {
  const tr_tornado_row *x = a, *y = b;
  /* A NaN swing (the metric was not finite) sorts last. */
  double sx = isnan(x->swing) ? -INFINITY : x->swing, sy = isnan(y->swing) ? -INFINITY : y->swing;
  if (sx != sy) return sx < sy ? 1 : -1;
  return (x->input > y->input) - (x->input < y->input);
}

int tr_sens_tornado(const tr_dist *d, size_t k, double plo, double phi, tr_sens_metric_fn f,
                    void *ctx, double *base_metric, tr_tornado_row *rows, tr_error *err) {
  if (!(plo > 0 && plo < phi && phi < 1))
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "tornado quantiles must satisfy 0 < low < high < 1 (got %g, %g)", plo, phi);
  double *x = tr_malloc((k ? k : 1) * sizeof *x);
  if (!x) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  int rc;
  for (size_t j = 0; j < k; j++)
    x[j] = tr_dist_quantile(&d[j], 0.5);
  if ((rc = f(ctx, x, base_metric)) != TR_OK) goto done;
  for (size_t j = 0; j < k; j++) {
    double keep = x[j];
    tr_tornado_row *r = &rows[j];
    r->input = j;
    r->low_in = tr_dist_quantile(&d[j], plo);
    r->high_in = tr_dist_quantile(&d[j], phi);
    x[j] = r->low_in;
    if ((rc = f(ctx, x, &r->low)) != TR_OK) goto done;
    x[j] = r->high_in;
    if ((rc = f(ctx, x, &r->high)) != TR_OK) goto done;
    x[j] = keep;
    r->swing = fabs(r->high - r->low);
  }
  qsort(rows, k, sizeof *rows, cmp_rows);
done:
  tr_free(x);
  return rc;
}
