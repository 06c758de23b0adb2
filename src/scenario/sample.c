/* Monte Carlo and Latin hypercube sampling, Iman–Conover, nearest correlation (sample.h). */
#include "scenario/sample.h"

#include "scenario/special.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
/* Smallest eigenvalue kept when a matrix is made positive definite for Cholesky. */
#define EIG_FLOOR 1e-8

struct tr_sampler {
  const tr_dist *d; /* k distributions, borrowed */
  size_t k, n;
  tr_sampling method;
  uint64_t seed;
  uint32_t *perm;    /* LHS: stratum of run i for input j at perm[j * n + i] (owned) */
  double *mat;       /* correlated: the whole sample, row-major n × k (owned) */
  double *corr;      /* the target after repair, k × k (owned), NULL when independent */
  char warning[512]; /* "" or what happened to the correlation matrix */
};

/* ---- linear algebra on small dense symmetric matrices ------------------------------------ */

int tr_sym_eigen(const double *a, size_t k, double *w, double *v) {
  double *m = tr_malloc(k * k * sizeof *m);
  double *vv = tr_malloc(k * k * sizeof *vv);
  if (!m || !vv) {
    tr_free(m);
    tr_free(vv);
    return TR_ERR_NOMEM;
  }
  memcpy(m, a, k * k * sizeof *m);
  for (size_t i = 0; i < k * k; i++)
    vv[i] = 0;
  for (size_t i = 0; i < k; i++)
    vv[i * k + i] = 1;
  double scale = 0;
  for (size_t i = 0; i < k * k; i++)
    scale += m[i] * m[i];
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0;
    for (size_t p = 0; p < k; p++)
      for (size_t q = p + 1; q < k; q++)
        off += m[p * k + q] * m[p * k + q];
    if (off <= 1e-30 * scale) break;
    for (size_t p = 0; p < k; p++) {
      for (size_t q = p + 1; q < k; q++) {
        double apq = m[p * k + q];
        if (apq == 0) continue;
        /* Rotation J in the (p, q) plane that zeroes m[p][q]: m <- J^T m J, v <- v J. */
        double theta = (m[q * k + q] - m[p * k + p]) / (2 * apq);
        double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        for (size_t r = 0; r < k; r++) {
          double arp = m[r * k + p], arq = m[r * k + q];
          m[r * k + p] = c * arp - s * arq;
          m[r * k + q] = s * arp + c * arq;
        }
        for (size_t r = 0; r < k; r++) {
          double apr = m[p * k + r], aqr = m[q * k + r];
          m[p * k + r] = c * apr - s * aqr;
          m[q * k + r] = s * apr + c * aqr;
        }
        for (size_t r = 0; r < k; r++) {
          double vrp = vv[r * k + p], vrq = vv[r * k + q];
          vv[r * k + p] = c * vrp - s * vrq;
          vv[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  /* Selection sort of the eigenpairs, ascending (k is small). */
  for (size_t i = 0; i < k; i++)
    w[i] = m[i * k + i];
  for (size_t i = 0; i < k; i++) {
    size_t best = i;
    for (size_t j = i + 1; j < k; j++)
      if (w[j] < w[best]) best = j;
    if (best != i) {
      double t = w[i];
      w[i] = w[best];
      w[best] = t;
      for (size_t r = 0; r < k; r++) {
        t = vv[r * k + i];
        vv[r * k + i] = vv[r * k + best];
        vv[r * k + best] = t;
      }
    }
  }
  if (v) memcpy(v, vv, k * k * sizeof *v);
  tr_free(m);
  tr_free(vv);
  return TR_OK;
}

int tr_cholesky(const double *a, size_t k, double *l) {
  for (size_t i = 0; i < k * k; i++)
    l[i] = 0;
  for (size_t j = 0; j < k; j++) {
    double s = a[j * k + j];
    for (size_t p = 0; p < j; p++)
      s -= l[j * k + p] * l[j * k + p];
    if (!(s > 0)) return TR_ERR_MATH;
    l[j * k + j] = sqrt(s);
    for (size_t i = j + 1; i < k; i++) {
      double t = a[i * k + j];
      for (size_t p = 0; p < j; p++)
        t -= l[i * k + p] * l[j * k + p];
      l[i * k + j] = t / l[j * k + j];
    }
  }
  return TR_OK;
}

/* x <- V diag(max(w, floor)) V^T (w may be modified). */
static void rebuild(double *x, const double *v, double *w, size_t k, double floor) {
  for (size_t i = 0; i < k; i++)
    if (w[i] < floor) w[i] = floor;
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < k; j++) {
      double s = 0;
      for (size_t p = 0; p < k; p++)
        s += v[i * k + p] * w[p] * v[j * k + p];
      x[i * k + j] = s;
    }
}

int tr_corr_nearest(double *c, size_t k, double floor, int *changed, tr_error *err) {
  if (changed) *changed = 0;
  size_t kk = k * k;
  double *w = tr_malloc(k * sizeof *w), *v = tr_malloc(kk * sizeof *v);
  double *y = tr_malloc(kk * sizeof *y), *ds = tr_calloc(kk, sizeof *ds);
  double *r = tr_malloc(kk * sizeof *r);
  int rc = TR_OK;
  if (!w || !v || !y || !ds || !r) {
    rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    goto done;
  }
  if ((rc = tr_sym_eigen(c, k, w, v)) != TR_OK) {
    tr_error_set(err, rc, NULL, 0, 0, "out of memory");
    goto done;
  }
  if (w[0] >= floor) goto done;
  if (w[0] < -1e-10) {
    /* Alternating projections onto the PSD cone (S) and the unit-diagonal set (U), with
     * Dykstra's correction ds applied before the projection onto S (Higham 2002, alg. 3.3). */
    if (changed) *changed = 1;
    memcpy(y, c, kk * sizeof *y);
    int converged = 0;
    for (int it = 0; it < 2000 && !converged; it++) {
      for (size_t i = 0; i < kk; i++)
        r[i] = y[i] - ds[i];
      if ((rc = tr_sym_eigen(r, k, w, v)) != TR_OK) {
        tr_error_set(err, rc, NULL, 0, 0, "out of memory");
        goto done;
      }
      rebuild(c, v, w, k, 0.0); /* c = P_S(r) */
      for (size_t i = 0; i < kk; i++)
        ds[i] = c[i] - r[i];
      for (size_t i = 0; i < k; i++)
        c[i * k + i] = 1.0; /* P_U */
      double diff = 0, norm = 0;
      for (size_t i = 0; i < kk; i++) {
        diff += (c[i] - y[i]) * (c[i] - y[i]);
        norm += c[i] * c[i];
      }
      memcpy(y, c, kk * sizeof *y);
      converged = diff <= 1e-24 * norm;
    }
    if (!converged) {
      rc = tr_error_set(err, TR_ERR_MATH, NULL, 0, 0,
                        "the nearest correlation matrix iteration did not converge");
      goto done;
    }
    if ((rc = tr_sym_eigen(c, k, w, v)) != TR_OK) goto done;
  }
  /* Lift the smallest eigenvalues to `floor`, then restore the unit diagonal. */
  rebuild(c, v, w, k, floor);
  for (size_t i = 0; i < k; i++)
    w[i] = sqrt(c[i * k + i]);
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < k; j++)
      c[i * k + j] = i == j ? 1.0 : c[i * k + j] / (w[i] * w[j]);
done:
  tr_free(w);
  tr_free(v);
  tr_free(y);
  tr_free(ds);
  tr_free(r);
  return rc;
}

/* ---- sampling ----------------------------------------------------------------------------- */

/* Uniform integer in [0, m) without modulo bias (rejection of the short last interval). */
static uint64_t below(tr_rng *r, uint64_t m) {
  uint64_t threshold = (0 - m) % m;
  for (;;) {
    uint64_t x = tr_rng_next(r);
    if (x >= threshold) return x % m;
  }
}

/* A uniformly random permutation of 0..n-1 from stream (seed, stream) (Fisher–Yates). */
static void permutation(uint32_t *p, size_t n, uint64_t seed, uint64_t stream) {
  tr_rng r;
  tr_rng_seed_stream(&r, seed, stream);
  for (size_t i = 0; i < n; i++)
    p[i] = (uint32_t)i;
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)below(&r, i);
    uint32_t t = p[i - 1];
    p[i - 1] = p[j];
    p[j] = t;
  }
}

/* Row i before correlation: MC or LHS, k draws from r. */
static void base_row(const tr_sampler *s, size_t i, tr_rng *r, double *row) {
  for (size_t j = 0; j < s->k; j++) {
    double u = tr_rng_uniform_pos(r);
    if (s->method == TR_SAMPLING_LHS) u = ((double)s->perm[j * s->n + i] + u) / (double)s->n;
    row[j] = tr_dist_quantile(&s->d[j], u);
  }
}

typedef struct keyed {
  double v;
  size_t i;
} keyed;

static int cmp_keyed(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  if (x->v != y->v) return (x->v > y->v) - (x->v < y->v);
  return (x->i > y->i) - (x->i < y->i); /* stable, so the result is deterministic */
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Iman–Conover: re-order each column of s->mat so that its ranks follow those of a matrix of
 * van der Waerden scores whose Pearson correlation is the target (converted from rank to
 * Pearson correlation by 2 sin(pi rho / 6), exact for normal scores). */
static int iman_conover(tr_sampler *s, tr_error *err) {
  size_t n = s->n, k = s->k, kk = k * k;
  int rc = TR_OK;
  double *scores = tr_malloc(n * sizeof *scores);
  double *m = tr_malloc(n * k * sizeof *m);
  uint32_t *perm = tr_malloc(n * sizeof *perm);
  double *e = tr_calloc(kk, sizeof *e), *q = tr_malloc(kk * sizeof *q);
  double *cp = tr_malloc(kk * sizeof *cp), *p = tr_malloc(kk * sizeof *p);
  keyed *key = tr_malloc(n * sizeof *key);
  double *col = tr_malloc(n * sizeof *col);
  double *y = tr_malloc(k * sizeof *y);
  if (!scores || !m || !perm || !e || !q || !cp || !p || !key || !col || !y) {
    rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    scores[i] = tr_sf_norm_quantile((double)(i + 1) / (double)(n + 1));
  for (size_t j = 0; j < k; j++) {
    permutation(perm, n, s->seed, TR_SAMPLE_IC_STREAM + j);
    for (size_t i = 0; i < n; i++)
      m[i * k + j] = scores[perm[i]];
  }
  /* E = correlation of the score columns (every column has the same mean and variance). */
  double mean = 0, var = 0;
  for (size_t i = 0; i < n; i++)
    mean += scores[i];
  mean /= (double)n;
  for (size_t i = 0; i < n; i++)
    var += (scores[i] - mean) * (scores[i] - mean);
  for (size_t i = 0; i < n; i++)
    for (size_t a = 0; a < k; a++)
      for (size_t b = 0; b <= a; b++)
        e[a * k + b] += (m[i * k + a] - mean) * (m[i * k + b] - mean);
  for (size_t a = 0; a < k; a++)
    for (size_t b = 0; b <= a; b++)
      e[b * k + a] = e[a * k + b] = e[a * k + b] / var;
  for (size_t i = 0; i < kk; i++)
    cp[i] = 2 * sin(PI * s->corr[i] / 6);
  for (size_t i = 0; i < k; i++)
    cp[i * k + i] = 1;
  if ((rc = tr_corr_nearest(cp, k, EIG_FLOOR, NULL, err)) != TR_OK) goto done;
  if (tr_cholesky(cp, k, p) != TR_OK) { /* the nearest matrix has eigenvalues >= EIG_FLOOR */
    rc = tr_error_set(err, TR_ERR_INTERNAL, NULL, 0, 0,
                      "the repaired correlation matrix of %zu "
                      "inputs has no Cholesky factor",
                      k);
    goto done;
  }
  if (tr_cholesky(e, k, q) != TR_OK) { /* n <= k scores cannot span k directions */
    snprintf(s->warning, sizeof s->warning,
             "too few runs (%zu) to correlate %zu inputs: inputs are not correlated", n, k);
    goto done;
  }
  /* Row-wise t = P Q^-1 m: the scores de-correlated, then given the target correlation. */
  for (size_t i = 0; i < n; i++) {
    double *mi = &m[i * k];
    for (size_t a = 0; a < k; a++) {
      double t = mi[a];
      for (size_t b = 0; b < a; b++)
        t -= q[a * k + b] * y[b];
      y[a] = t / q[a * k + a];
    }
    for (size_t a = 0; a < k; a++) {
      double t = 0;
      for (size_t b = 0; b <= a; b++)
        t += p[a * k + b] * y[b];
      mi[a] = t;
    }
  }
  /* Give column j of the sample the rank order of column j of t. */
  for (size_t j = 0; j < k; j++) {
    for (size_t i = 0; i < n; i++) {
      key[i] = (keyed){m[i * k + j], i};
      col[i] = s->mat[i * k + j];
    }
    qsort(key, n, sizeof *key, cmp_keyed);
    qsort(col, n, sizeof *col, cmp_dbl);
    for (size_t r = 0; r < n; r++)
      s->mat[key[r].i * k + j] = col[r];
  }
done:
  tr_free(scores);
  tr_free(m);
  tr_free(perm);
  tr_free(e);
  tr_free(q);
  tr_free(cp);
  tr_free(p);
  tr_free(key);
  tr_free(col);
  tr_free(y);
  return rc;
}

static void name_of(char *buf, size_t n, const char *const *names, size_t i) {
  if (names && names[i])
    snprintf(buf, n, "'%s'", names[i]);
  else
    snprintf(buf, n, "input %zu", i + 1);
}

static int check_corr(const double *c, size_t k, const char *const *names, tr_error *err) {
  char a[128], b[128];
  for (size_t i = 0; i < k; i++) {
    for (size_t j = 0; j < k; j++) {
      double x = c[i * k + j];
      name_of(a, sizeof a, names, i);
      name_of(b, sizeof b, names, j);
      if (i == j && x != 1.0)
        return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                            "correlation of %s with itself must be 1 (got %g)", a, x);
      if (!(x >= -1 && x <= 1))
        return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                            "correlation of %s and %s must be in [-1, 1] (got %g)", a, b, x);
      if (x != c[j * k + i])
        return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                            "correlation matrix is not symmetric: %s,%s is %g but %s,%s is %g", a,
                            b, x, b, a, c[j * k + i]);
    }
  }
  return TR_OK;
}

int tr_sampler_new(tr_sampler **out, const tr_dist *dists, size_t k, size_t n, tr_sampling method,
                   uint64_t seed, const double *corr, const char *const *names, tr_error *err) {
  *out = NULL;
  if (n == 0 || n > TR_SAMPLE_MAX_RUNS)
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "the number of runs must be between 1 and %lu (got %zu)",
                        (unsigned long)TR_SAMPLE_MAX_RUNS, n);
  if (corr) {
    int rc = check_corr(corr, k, names, err);
    if (rc != TR_OK) return rc;
  }
  tr_sampler *s = tr_calloc(1, sizeof *s);
  if (!s) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  s->d = dists;
  s->k = k;
  s->n = n;
  s->method = method;
  s->seed = seed;
  int rc = TR_OK;
  if (method == TR_SAMPLING_LHS && k > 0) {
    s->perm = tr_malloc(n * k * sizeof *s->perm);
    if (!s->perm) goto nomem;
    for (size_t j = 0; j < k; j++)
      permutation(&s->perm[j * n], n, seed, TR_SAMPLE_LHS_STREAM + j);
  }
  if (corr && k > 1) {
    s->corr = tr_malloc(k * k * sizeof *s->corr);
    if (!s->corr) goto nomem;
    memcpy(s->corr, corr, k * k * sizeof *s->corr);
    int changed = 0;
    if ((rc = tr_corr_nearest(s->corr, k, 0.0, &changed, err)) != TR_OK) goto fail;
    if (changed) {
      double dist = 0;
      for (size_t i = 0; i < k * k; i++)
        dist += (s->corr[i] - corr[i]) * (s->corr[i] - corr[i]);
      snprintf(s->warning, sizeof s->warning,
               "the correlation matrix is not positive semi-definite; using the nearest "
               "correlation matrix (Frobenius distance %.4g)",
               sqrt(dist));
    }
    s->mat = tr_malloc(n * k * sizeof *s->mat);
    if (!s->mat) goto nomem;
    for (size_t i = 0; i < n; i++) {
      tr_rng r;
      tr_rng_seed_stream(&r, seed, i);
      base_row(s, i, &r, &s->mat[i * k]);
    }
    if (n < 3) {
      snprintf(s->warning, sizeof s->warning, "fewer than 3 runs: inputs are not correlated");
    } else if ((rc = iman_conover(s, err)) != TR_OK) {
      goto fail;
    }
  }
  *out = s;
  return TR_OK;
nomem:
  rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
fail:
  tr_sampler_free(s);
  return rc;
}

void tr_sampler_free(tr_sampler *s) {
  if (!s) return;
  tr_free(s->perm);
  tr_free(s->mat);
  tr_free(s->corr);
  tr_free(s);
}

void tr_sampler_row(const tr_sampler *s, size_t i, tr_rng *r, double *row) {
  if (s->mat) {
    memcpy(row, &s->mat[i * s->k], s->k * sizeof *row);
    for (size_t j = 0; j < s->k; j++)
      (void)tr_rng_next(r); /* same stream use as uncorrelated */
    return;
  }
  base_row(s, i, r, row);
}

void tr_sampler_run_row(const tr_sampler *s, size_t i, double *row) {
  tr_rng r;
  tr_rng_seed_stream(&r, s->seed, i);
  tr_rng_jump(&r);
  tr_sampler_row(s, i, &r, row);
}

const char *tr_sampler_warning(const tr_sampler *s) {
  return s->warning;
}

const double *tr_sampler_corr(const tr_sampler *s) {
  return s->corr;
}
