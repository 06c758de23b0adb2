/* Distributions of uncertain inputs: validation, quantiles, moments, text form (dist.h). */
#include "scenario/dist.h"

#include "base/text.h"
#include "scenario/special.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row per kind: the name, the accepted argument counts (max -1 = any number) and the
 * parameter names used in messages and in --help. */
typedef struct dist_info {
  const char *name;
  int min_args, max_args;
  const char *params[4];
  const char *synopsis;
} dist_info;

static const dist_info infos[TR_DIST_COUNT] = {
    [TR_DIST_UNIFORM] = {"uniform", 2, 2, {"min", "max"}, "min, max"},
    [TR_DIST_NORMAL] = {"normal", 2, 4, {"mean", "sd", "lo", "hi"}, "mean, sd[, lo, hi]"},
    [TR_DIST_LOGNORMAL] = {"lognormal", 2, 2, {"mean", "sd"}, "mean, sd"},
    [TR_DIST_TRIANGULAR] = {"triangular", 3, 3, {"min", "mode", "max"}, "min, mode, max"},
    [TR_DIST_PERT] = {"pert", 3, 3, {"min", "mode", "max"}, "min, mode, max"},
    [TR_DIST_BETA] = {"beta", 2, 4, {"alpha", "beta", "min", "max"}, "alpha, beta[, min, max]"},
    [TR_DIST_GAMMA] = {"gamma", 2, 2, {"shape", "scale"}, "shape, scale"},
    [TR_DIST_DISCRETE] = {"discrete", 2, -1, {"value", "weight"}, "v1:w1, v2:w2, ..."},
    [TR_DIST_EMPIRICAL] = {"empirical", 1, -1, {"x"}, "x1, x2, ..."},
    [TR_DIST_PERCENTILES] = {"percentiles", 3, 3, {"p10", "p50", "p90"}, "p10, p50, p90"},
};

/* z such that Φ(z) = 0.9: the 10/90 percentiles are mu ∓ Z90 sigma. */
#define Z90 1.2815515655446004

const char *tr_dist_kind_name(tr_dist_kind kind) {
  return (unsigned)kind < TR_DIST_COUNT ? infos[kind].name : "?";
}

void tr_dist_free(tr_dist *d) {
  if (!d) return;
  tr_free(d->x);
  tr_free(d->cum);
  d->x = NULL;
  d->cum = NULL;
  d->n = 0;
}

int tr_dist_copy(tr_dist *dst, const tr_dist *src) {
  tr_dist tmp = *src;
  tmp.x = NULL;
  tmp.cum = NULL;
  if (src->x) {
    tmp.x = tr_malloc(src->n * sizeof *tmp.x);
    if (!tmp.x) goto nomem;
    memcpy(tmp.x, src->x, src->n * sizeof *tmp.x);
  }
  if (src->cum) {
    tmp.cum = tr_malloc(src->n * sizeof *tmp.cum);
    if (!tmp.cum) goto nomem;
    memcpy(tmp.cum, src->cum, src->n * sizeof *tmp.cum);
  }
  *dst = tmp;
  return TR_OK;
nomem:
  tr_free(tmp.x);
  memset(dst, 0, sizeof *dst);
  return TR_ERR_NOMEM;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct pair {
  double v, w;
} pair;

static int cmp_pair(const void *a, const void *b) {
  const pair *x = a, *y = b;
  return (x->v > y->v) - (x->v < y->v);
}

/* Report a bad parameter: records the message and which argument was at fault. */
static int bad(tr_error *err, int *bad_arg, int idx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int bad(tr_error *err, int *bad_arg, int idx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tr_error_setv(err, TR_ERR_INVALID, NULL, 0, 0, fmt, ap);
  va_end(ap);
  *bad_arg = idx;
  return TR_ERR_INVALID;
}

static int init_discrete(tr_dist *d, const double *args, size_t nargs, tr_error *err,
                         int *bad_arg) {
  if (nargs % 2 != 0) {
    *bad_arg = (int)nargs - 1;
    return tr_error_set(err, TR_ERR_ARITY, NULL, 0, 0,
                        "discrete: every value needs a weight (write value:weight)");
  }
  size_t n = nargs / 2;
  double total = 0;
  for (size_t i = 0; i < n; i++) {
    double w = args[2 * i + 1];
    if (!(w >= 0) || !isfinite(w))
      return bad(err, bad_arg, (int)(2 * i + 1),
                 "discrete: 'weight' of value %g must be a finite number >= 0 (got %g)",
                 args[2 * i], w);
    total += w;
  }
  if (!(total > 0)) return bad(err, bad_arg, 1, "discrete: the weights must not all be zero");
  pair *p = tr_malloc(n * sizeof *p);
  d->x = tr_malloc(n * sizeof *d->x);
  d->cum = tr_malloc(n * sizeof *d->cum);
  if (!p || !d->x || !d->cum) {
    tr_free(p);
    tr_dist_free(d);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  for (size_t i = 0; i < n; i++)
    p[i] = (pair){args[2 * i], args[2 * i + 1]};
  /* Sorted by value so that the quantile is monotone (needed by LHS and Iman–Conover). */
  qsort(p, n, sizeof *p, cmp_pair);
  double acc = 0;
  for (size_t i = 0; i < n; i++) {
    d->x[i] = p[i].v;
    acc += p[i].w;
    d->cum[i] = acc / total;
  }
  d->cum[n - 1] = 1.0;
  d->n = n;
  d->lo = d->x[0];
  d->hi = d->x[n - 1];
  tr_free(p);
  return TR_OK;
}

static int init_empirical(tr_dist *d, const double *args, size_t nargs, tr_error *err) {
  d->x = tr_malloc(nargs * sizeof *d->x);
  if (!d->x) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  memcpy(d->x, args, nargs * sizeof *d->x);
  qsort(d->x, nargs, sizeof *d->x, cmp_double);
  d->n = nargs;
  d->lo = d->x[0];
  d->hi = d->x[nargs - 1];
  return TR_OK;
}

/* Shared by tr_dist_init and tr_dist_parse: *bad_arg receives the index of the argument at
 * fault (-1 when the fault is not one argument). */
static int dist_init(tr_dist *d, tr_dist_kind kind, const double *args, size_t nargs, tr_error *err,
                     int *bad_arg) {
  memset(d, 0, sizeof *d);
  *bad_arg = -1;
  if ((unsigned)kind >= TR_DIST_COUNT)
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0, "unknown distribution kind %d", (int)kind);
  const dist_info *in = &infos[kind];
  const char *nm = in->name;
  if ((int)nargs < in->min_args || (in->max_args >= 0 && (int)nargs > in->max_args) ||
      (kind == TR_DIST_NORMAL && nargs == 3) || (kind == TR_DIST_BETA && nargs == 3))
    return tr_error_set(err, TR_ERR_ARITY, NULL, 0, 0, "%s takes (%s), got %zu argument%s", nm,
                        in->synopsis, nargs, nargs == 1 ? "" : "s");
  for (size_t i = 0; i < nargs; i++) {
    int bound_ok = (kind == TR_DIST_NORMAL && i >= 2) && isinf(args[i]);
    if (!isfinite(args[i]) && !bound_ok)
      return bad(err, bad_arg, (int)i, "%s: argument %zu must be a finite number", nm, i + 1);
  }
  d->kind = kind;
  for (size_t i = 0; i < nargs && i < 4; i++)
    d->prm[i] = args[i];
  d->nprm = (int)(nargs < 4 ? nargs : 4);
  const double *p = args;
  switch (kind) {
  case TR_DIST_UNIFORM:
    if (!(p[0] < p[1]))
      return bad(err, bad_arg, 1, "uniform: 'max' (%g) must be greater than 'min' (%g)", p[1],
                 p[0]);
    d->lo = p[0];
    d->hi = p[1];
    break;
  case TR_DIST_NORMAL:
    if (!(p[1] >= 0)) return bad(err, bad_arg, 1, "normal: 'sd' must be >= 0 (got %g)", p[1]);
    d->mu = p[0];
    d->sigma = p[1];
    d->lo = -INFINITY;
    d->hi = INFINITY;
    d->plo = 0;
    d->phi = 1;
    if (nargs == 4) {
      if (!(p[2] < p[3]))
        return bad(err, bad_arg, 3, "normal: 'hi' (%g) must be greater than 'lo' (%g)", p[3], p[2]);
      if (!(p[1] > 0))
        return bad(err, bad_arg, 1, "normal: a truncated normal needs 'sd' > 0 (got %g)", p[1]);
      d->lo = p[2];
      d->hi = p[3];
      d->plo = tr_sf_norm_cdf((p[2] - p[0]) / p[1]);
      d->phi = tr_sf_norm_cdf((p[3] - p[0]) / p[1]);
      if (!(d->phi - d->plo > 1e-300))
        return bad(err, bad_arg, 2,
                   "normal: the interval [%g, %g] has no probability under mean %g, sd %g", p[2],
                   p[3], p[0], p[1]);
    }
    break;
  case TR_DIST_LOGNORMAL:
    if (!(p[0] > 0)) return bad(err, bad_arg, 0, "lognormal: 'mean' must be > 0 (got %g)", p[0]);
    if (!(p[1] >= 0)) return bad(err, bad_arg, 1, "lognormal: 'sd' must be >= 0 (got %g)", p[1]);
    d->sigma = sqrt(log1p((p[1] / p[0]) * (p[1] / p[0])));
    d->mu = log(p[0]) - 0.5 * d->sigma * d->sigma;
    d->lo = 0;
    d->hi = INFINITY;
    break;
  case TR_DIST_TRIANGULAR:
  case TR_DIST_PERT:
    if (!(p[0] <= p[1]))
      return bad(err, bad_arg, 1, "%s: 'min' (%g) must not exceed 'mode' (%g)", nm, p[0], p[1]);
    if (!(p[1] <= p[2]))
      return bad(err, bad_arg, 2, "%s: 'mode' (%g) must not exceed 'max' (%g)", nm, p[1], p[2]);
    if (!(p[0] < p[2]))
      return bad(err, bad_arg, 2, "%s: 'max' (%g) must be greater than 'min' (%g)", nm, p[2], p[0]);
    d->lo = p[0];
    d->hi = p[2];
    d->c = p[1];
    if (kind == TR_DIST_PERT) {
      d->a = 1.0 + 4.0 * (p[1] - p[0]) / (p[2] - p[0]);
      d->b = 1.0 + 4.0 * (p[2] - p[1]) / (p[2] - p[0]);
    }
    break;
  case TR_DIST_BETA:
    if (!(p[0] > 0)) return bad(err, bad_arg, 0, "beta: 'alpha' must be > 0 (got %g)", p[0]);
    if (!(p[1] > 0)) return bad(err, bad_arg, 1, "beta: 'beta' must be > 0 (got %g)", p[1]);
    d->a = p[0];
    d->b = p[1];
    d->lo = 0;
    d->hi = 1;
    if (nargs == 4) {
      if (!(p[2] < p[3]))
        return bad(err, bad_arg, 3, "beta: 'max' (%g) must be greater than 'min' (%g)", p[3], p[2]);
      d->lo = p[2];
      d->hi = p[3];
    }
    break;
  case TR_DIST_GAMMA:
    if (!(p[0] > 0)) return bad(err, bad_arg, 0, "gamma: 'shape' must be > 0 (got %g)", p[0]);
    if (!(p[1] > 0)) return bad(err, bad_arg, 1, "gamma: 'scale' must be > 0 (got %g)", p[1]);
    d->a = p[0];
    d->b = p[1];
    d->lo = 0;
    d->hi = INFINITY;
    break;
  case TR_DIST_DISCRETE:
    return init_discrete(d, args, nargs, err, bad_arg);
  case TR_DIST_EMPIRICAL:
    return init_empirical(d, args, nargs, err);
  case TR_DIST_PERCENTILES: {
    if (!(p[0] < p[1]))
      return bad(err, bad_arg, 1, "percentiles: 'p50' (%g) must be greater than 'p10' (%g)", p[1],
                 p[0]);
    if (!(p[1] < p[2]))
      return bad(err, bad_arg, 2, "percentiles: 'p90' (%g) must be greater than 'p50' (%g)", p[2],
                 p[1]);
    double lo_gap = p[1] - p[0], hi_gap = p[2] - p[1];
    /* Symmetric within rounding: a normal. Otherwise X = c ± exp(mu + sigma Z) with
     * e^(sigma z90) = larger gap / smaller gap, which matches all three percentiles. */
    if (fabs(hi_gap - lo_gap) <= 1e-9 * fmax(hi_gap, lo_gap)) {
      d->sign = 0;
      d->mu = p[1];
      d->sigma = 0.5 * (lo_gap + hi_gap) / Z90;
      d->lo = -INFINITY;
      d->hi = INFINITY;
    } else {
      double big = fmax(hi_gap, lo_gap), small = fmin(hi_gap, lo_gap);
      d->sign = hi_gap > lo_gap ? 1 : -1;
      d->sigma = log(big / small) / Z90;
      double em = big * small / (big - small); /* e^mu */
      d->mu = log(em);
      d->c = p[1] - (double)d->sign * em;
      d->lo = d->sign > 0 ? d->c : -INFINITY;
      d->hi = d->sign > 0 ? INFINITY : d->c;
    }
    break;
  }
  default:
    break;
  }
  return TR_OK;
}

int tr_dist_init(tr_dist *d, tr_dist_kind kind, const double *args, size_t nargs, tr_error *err) {
  int bad_arg;
  return dist_init(d, kind, args, nargs, err, &bad_arg);
}

static int kind_by_name(const char *name, const char *file, int line, int col, tr_error *err) {
  char nbuf[32];
  size_t n = strlen(name);
  if (n >= sizeof nbuf) n = sizeof nbuf - 1;
  for (size_t i = 0; i < n; i++)
    nbuf[i] = (char)tolower((unsigned char)name[i]);
  nbuf[n] = '\0';
  for (int k = 0; k < TR_DIST_COUNT; k++)
    if (strcmp(infos[k].name, nbuf) == 0) return k;
  const char *names[TR_DIST_COUNT];
  for (int k = 0; k < TR_DIST_COUNT; k++)
    names[k] = infos[k].name;
  const char *best = tr_closest(nbuf, names, TR_DIST_COUNT);
  if (best)
    return tr_error_set(err, TR_ERR_UNKNOWN_NAME, file, line, col,
                        "unknown distribution '%s' (did you mean '%s'?)", nbuf, best);
  return tr_error_set(err, TR_ERR_UNKNOWN_NAME, file, line, col,
                      "unknown distribution '%s' (known: uniform, normal, lognormal, "
                      "triangular, pert, beta, gamma, discrete, empirical, percentiles)",
                      nbuf);
}

static int ieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
  return *a == *b;
}

int tr_dist_init_named(tr_dist *d, const char *dist, const char *const *pnames,
                       const double *params, size_t n, const char *file, int line, int col,
                       tr_error *err) {
  memset(d, 0, sizeof *d);
  int kind = kind_by_name(dist, file, line, col, err);
  if (kind < 0) return kind;
  const dist_info *in = &infos[kind];
  if (in->max_args < 0)
    return tr_error_set(err, TR_ERR_UNSUPPORTED, file, line, col,
                        "%s has no named-parameter form; write it as text, e.g. %s(%s)", in->name,
                        in->name, in->synopsis);
  double args[4];
  int have[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < n; i++) {
    int hit = -1;
    for (int j = 0; j < in->max_args; j++)
      if (ieq(pnames[i], in->params[j])) hit = j;
    if (hit < 0) {
      const char *best = tr_closest(pnames[i], in->params, (size_t)in->max_args);
      return tr_error_set(err, TR_ERR_INVALID, file, line, col,
                          "%s has no parameter '%s'%s%s%s (its parameters: %s)", in->name,
                          pnames[i], best ? " (did you mean '" : "", best ? best : "",
                          best ? "'?)" : "", in->synopsis);
    }
    if (have[hit])
      return tr_error_set(err, TR_ERR_INVALID, file, line, col, "%s: parameter '%s' given twice",
                          in->name, in->params[hit]);
    have[hit] = 1;
    args[hit] = params[i];
  }
  size_t nargs = 0;
  while (nargs < (size_t)in->max_args && have[nargs])
    nargs++;
  for (int j = 0; j < in->max_args; j++) {
    if (have[j] && (size_t)j >= nargs)
      return tr_error_set(err, TR_ERR_INVALID, file, line, col, "%s: parameter '%s' needs '%s' too",
                          in->name, in->params[j], in->params[nargs]);
    if (!have[j] && j < in->min_args)
      return tr_error_set(err, TR_ERR_INVALID, file, line, col,
                          "%s: parameter '%s' is missing (%s takes %s)", in->name, in->params[j],
                          in->name, in->synopsis);
  }
  if (nargs == 3 && (kind == TR_DIST_NORMAL || kind == TR_DIST_BETA))
    return tr_error_set(err, TR_ERR_INVALID, file, line, col, "%s: parameter '%s' needs '%s' too",
                        in->name, in->params[2], in->params[3]);
  int bad_arg;
  int rc = dist_init(d, (tr_dist_kind)kind, args, nargs, err, &bad_arg);
  if (rc != TR_OK && err) {
    err->file[0] = '\0';
    if (file) snprintf(err->file, sizeof err->file, "%s", file);
    err->line = line;
    err->col = col;
  }
  return rc;
}

double tr_dist_quantile(const tr_dist *d, double u) {
  if (isnan(u)) return NAN;
  if (u <= 0) return d->kind == TR_DIST_NORMAL && d->sigma == 0 ? d->mu : d->lo;
  if (u >= 1) return d->kind == TR_DIST_NORMAL && d->sigma == 0 ? d->mu : d->hi;
  switch (d->kind) {
  case TR_DIST_UNIFORM:
    return d->lo + u * (d->hi - d->lo);
  case TR_DIST_NORMAL: {
    if (d->sigma == 0) return d->mu;
    double x = d->mu + d->sigma * tr_sf_norm_quantile(d->plo + u * (d->phi - d->plo));
    return x < d->lo ? d->lo : x > d->hi ? d->hi : x;
  }
  case TR_DIST_LOGNORMAL:
    return exp(d->mu + d->sigma * tr_sf_norm_quantile(u));
  case TR_DIST_TRIANGULAR: {
    double w = d->hi - d->lo, fc = (d->c - d->lo) / w;
    if (u < fc) return d->lo + sqrt(u * w * (d->c - d->lo));
    return d->hi - sqrt((1 - u) * w * (d->hi - d->c));
  }
  case TR_DIST_PERT:
  case TR_DIST_BETA:
    return d->lo + (d->hi - d->lo) * tr_sf_beta_inc_inv(d->a, d->b, u);
  case TR_DIST_GAMMA:
    return d->b * tr_sf_gamma_inc_inv(d->a, u);
  case TR_DIST_DISCRETE: {
    /* The first value whose cumulative weight exceeds u (binary search). */
    size_t lo = 0, hi = d->n - 1;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (d->cum[mid] > u)
        hi = mid;
      else
        lo = mid + 1;
    }
    return d->x[lo];
  }
  case TR_DIST_EMPIRICAL: {
    size_t i = (size_t)(u * (double)d->n);
    return d->x[i < d->n ? i : d->n - 1];
  }
  case TR_DIST_PERCENTILES: {
    double z = tr_sf_norm_quantile(u);
    if (d->sign == 0) return d->mu + d->sigma * z;
    if (d->sign > 0) return d->c + exp(d->mu + d->sigma * z);
    return d->c - exp(d->mu - d->sigma * z);
  }
  default:
    return NAN;
  }
}

double tr_dist_sample(const tr_dist *d, tr_rng *r) {
  return tr_dist_quantile(d, tr_rng_uniform_pos(r));
}

double tr_dist_mean(const tr_dist *d) {
  switch (d->kind) {
  case TR_DIST_UNIFORM:
    return 0.5 * (d->lo + d->hi);
  case TR_DIST_NORMAL: {
    if (d->nprm < 4) return d->mu;
    double al = (d->lo - d->mu) / d->sigma, be = (d->hi - d->mu) / d->sigma;
    double z = d->phi - d->plo;
    return d->mu + d->sigma * (tr_sf_norm_pdf(al) - tr_sf_norm_pdf(be)) / z;
  }
  case TR_DIST_LOGNORMAL:
    return d->prm[0];
  case TR_DIST_TRIANGULAR:
    return (d->lo + d->c + d->hi) / 3.0;
  case TR_DIST_PERT:
  case TR_DIST_BETA:
    return d->lo + (d->hi - d->lo) * d->a / (d->a + d->b);
  case TR_DIST_GAMMA:
    return d->a * d->b;
  case TR_DIST_DISCRETE: {
    double m = 0, prev = 0;
    for (size_t i = 0; i < d->n; i++) {
      m += d->x[i] * (d->cum[i] - prev);
      prev = d->cum[i];
    }
    return m;
  }
  case TR_DIST_EMPIRICAL: {
    double m = 0;
    for (size_t i = 0; i < d->n; i++)
      m += d->x[i];
    return m / (double)d->n;
  }
  case TR_DIST_PERCENTILES:
    if (d->sign == 0) return d->mu;
    return d->c + (double)d->sign * exp(d->mu + 0.5 * d->sigma * d->sigma);
  default:
    return NAN;
  }
}

double tr_dist_var(const tr_dist *d) {
  switch (d->kind) {
  case TR_DIST_UNIFORM:
    return (d->hi - d->lo) * (d->hi - d->lo) / 12.0;
  case TR_DIST_NORMAL: {
    if (d->nprm < 4) return d->sigma * d->sigma;
    double al = (d->lo - d->mu) / d->sigma, be = (d->hi - d->mu) / d->sigma;
    double z = d->phi - d->plo;
    double pa = tr_sf_norm_pdf(al), pb = tr_sf_norm_pdf(be);
    double ta = isinf(al) ? 0 : al * pa, tb = isinf(be) ? 0 : be * pb;
    double r = (pa - pb) / z;
    return d->sigma * d->sigma * (1 + (ta - tb) / z - r * r);
  }
  case TR_DIST_LOGNORMAL:
    return d->prm[1] * d->prm[1];
  case TR_DIST_TRIANGULAR: {
    double a = d->lo, b = d->hi, c = d->c;
    return (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0;
  }
  case TR_DIST_PERT:
  case TR_DIST_BETA: {
    double s = d->a + d->b, w = d->hi - d->lo;
    return w * w * d->a * d->b / (s * s * (s + 1));
  }
  case TR_DIST_GAMMA:
    return d->a * d->b * d->b;
  case TR_DIST_DISCRETE:
  case TR_DIST_EMPIRICAL: {
    double m = tr_dist_mean(d), v = 0, prev = 0;
    for (size_t i = 0; i < d->n; i++) {
      double w = d->kind == TR_DIST_DISCRETE ? d->cum[i] - prev : 1.0 / (double)d->n;
      if (d->kind == TR_DIST_DISCRETE) prev = d->cum[i];
      v += w * (d->x[i] - m) * (d->x[i] - m);
    }
    return v;
  }
  case TR_DIST_PERCENTILES: {
    if (d->sign == 0) return d->sigma * d->sigma;
    double s2 = d->sigma * d->sigma;
    return expm1(s2) * exp(2 * d->mu + s2);
  }
  default:
    return NAN;
  }
}

void tr_dist_describe(const tr_dist *d, char *buf, size_t n) {
  if (!n) return;
  int k = snprintf(buf, n, "%s(", tr_dist_kind_name(d->kind));
  size_t used = k > 0 ? (size_t)k : 0;
  if (d->kind == TR_DIST_DISCRETE || d->kind == TR_DIST_EMPIRICAL) {
    for (size_t i = 0; i < d->n && used < n; i++) {
      double w = d->kind == TR_DIST_DISCRETE ? d->cum[i] - (i ? d->cum[i - 1] : 0) : 0;
      k = d->kind == TR_DIST_DISCRETE
              ? snprintf(buf + used, n - used, "%s%g:%g", i ? ", " : "", d->x[i], w)
              : snprintf(buf + used, n - used, "%s%g", i ? ", " : "", d->x[i]);
      used += k > 0 ? (size_t)k : 0;
    }
  } else {
    for (int i = 0; i < d->nprm && used < n; i++) {
      k = snprintf(buf + used, n - used, "%s%g", i ? ", " : "", d->prm[i]);
      used += k > 0 ? (size_t)k : 0;
    }
  }
  if (used < n) snprintf(buf + used, n - used, ")");
}

/* ---- text form ---------------------------------------------------------------------------
 * dist    := name '(' [arg {',' arg}] ')'
 * arg     := number [':' number]          (the ':' form only in discrete)
 */

static const char *skip_ws(const char *s) {
  while (*s && isspace((unsigned char)*s))
    s++;
  return s;
}

static int parse_err(tr_error *err, int code, const char *file, int line, int col, size_t off,
                     const char *fmt, const char *a) {
  return tr_error_set(err, code, file, line, col > 0 ? col + (int)off : (int)off + 1, fmt, a);
}

int tr_dist_parse(tr_dist *d, const char *text, const char *file, int line, int col,
                  tr_error *err) {
  memset(d, 0, sizeof *d);
  const char *s = skip_ws(text);
  const char *name = s;
  while (isalnum((unsigned char)*s) || *s == '_')
    s++;
  size_t nlen = (size_t)(s - name);
  char nbuf[32];
  if (nlen == 0 || nlen >= sizeof nbuf)
    return parse_err(err, TR_ERR_PARSE, file, line, col, (size_t)(name - text),
                     "expected a distribution such as normal(mean, sd), got '%s'", text);
  for (size_t i = 0; i < nlen; i++)
    nbuf[i] = (char)tolower((unsigned char)name[i]);
  nbuf[nlen] = '\0';
  int kind = -1;
  for (int k = 0; k < TR_DIST_COUNT; k++)
    if (strcmp(infos[k].name, nbuf) == 0) kind = k;
  if (kind < 0) {
    const char *names[TR_DIST_COUNT];
    for (int k = 0; k < TR_DIST_COUNT; k++)
      names[k] = infos[k].name;
    const char *best = tr_closest(nbuf, names, TR_DIST_COUNT);
    size_t off = (size_t)(name - text);
    int c = col > 0 ? col + (int)off : (int)off + 1;
    if (best)
      return tr_error_set(err, TR_ERR_UNKNOWN_NAME, file, line, c,
                          "unknown distribution '%s' (did you mean '%s'?)", nbuf, best);
    return tr_error_set(err, TR_ERR_UNKNOWN_NAME, file, line, c,
                        "unknown distribution '%s' (known: uniform, normal, lognormal, "
                        "triangular, pert, beta, gamma, discrete, empirical, percentiles)",
                        nbuf);
  }
  s = skip_ws(s);
  if (*s != '(')
    return parse_err(err, TR_ERR_PARSE, file, line, col, (size_t)(s - text),
                     "expected '(' after '%s'", nbuf);
  s++;
  /* Upper bound on the number of numbers: commas and colons + 1. */
  size_t cap = 2;
  for (const char *q = s; *q; q++)
    cap += (*q == ',' || *q == ':');
  double *args = tr_malloc(cap * sizeof *args);
  size_t *offs = tr_malloc(cap * sizeof *offs);
  if (!args || !offs) {
    tr_free(args);
    tr_free(offs);
    return tr_error_set(err, TR_ERR_NOMEM, file, line, col, "out of memory");
  }
  size_t nargs = 0;
  int rc = TR_OK;
  s = skip_ws(s);
  if (*s == ')') {
    s++;
  } else {
    for (;;) {
      s = skip_ws(s);
      for (int part = 0; part < 2; part++) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s) {
          rc = parse_err(err, TR_ERR_PARSE, file, line, col, (size_t)(s - text),
                         "%s: expected a number", nbuf);
          goto done;
        }
        offs[nargs] = (size_t)(s - text);
        args[nargs++] = v;
        s = skip_ws(end);
        if (part == 0 && *s == ':' && kind == TR_DIST_DISCRETE) {
          s = skip_ws(s + 1);
          continue;
        }
        if (part == 0 && kind == TR_DIST_DISCRETE) {
          rc = parse_err(err, TR_ERR_PARSE, file, line, col, (size_t)(s - text),
                         "%s: expected ':' and a weight after the value (value:weight)", nbuf);
          goto done;
        }
        break;
      }
      if (*s == ',') {
        s++;
        continue;
      }
      if (*s == ')') {
        s++;
        break;
      }
      rc = parse_err(err, TR_ERR_PARSE, file, line, col, (size_t)(s - text),
                     "%s: expected ',' or ')'", nbuf);
      goto done;
    }
  }
  s = skip_ws(s);
  if (*s) {
    rc = parse_err(err, TR_ERR_PARSE, file, line, col, (size_t)(s - text),
                   "unexpected text after the distribution: '%s'", s);
    goto done;
  }
  int bad_arg;
  rc = dist_init(d, (tr_dist_kind)kind, args, nargs, err, &bad_arg);
  if (rc != TR_OK && err) {
    /* Point at the argument at fault (or at the name when it is the argument count). */
    size_t off = bad_arg >= 0 && (size_t)bad_arg < nargs ? offs[bad_arg] : (size_t)(name - text);
    err->file[0] = '\0';
    if (file) snprintf(err->file, sizeof err->file, "%s", file);
    err->line = line;
    err->col = col > 0 ? col + (int)off : (int)off + 1;
  }
done:
  tr_free(args);
  tr_free(offs);
  return rc;
}
