/* Statistical early warning (see spc.h). */
#include "strategy/spc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tr_spc_signals_init(tr_spc_signals *s) {
  memset(s, 0, sizeof *s);
}

void tr_spc_signals_free(tr_spc_signals *s) {
  if (!s) return;
  tr_free(s->items);
  memset(s, 0, sizeof *s);
}

#if defined(__GNUC__)
__attribute__((format(printf, 6, 7)))
#endif
static int
add(tr_spc_signals *out, tr_error *err, const char *rule, size_t index, int side, const char *fmt,
    ...) {
  if (out->n == out->cap) {
    size_t ncap = out->cap ? out->cap * 2 : 16;
    tr_spc_signal *items = tr_realloc(out->items, ncap * sizeof *items);
    if (!items) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    out->items = items;
    out->cap = ncap;
  }
  tr_spc_signal *s = &out->items[out->n++];
  s->rule = rule;
  s->index = index;
  s->side = side;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->text, sizeof s->text, fmt, ap);
  va_end(ap);
  return TR_OK;
}

int tr_spc_xmr(const double *x, size_t n, tr_xmr *out, tr_error *err) {
  memset(out, 0, sizeof *out);
  if (n < 2)
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "XmR limits need at least 2 points, got %zu", n);
  double sum = 0, mr = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]))
      return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                          "XmR limits: point %zu of the baseline is not a number", i + 1);
    sum += x[i];
    if (i) mr += fabs(x[i] - x[i - 1]);
  }
  out->n = n;
  out->mean = sum / (double)n;
  out->mr_bar = mr / (double)(n - 1);
  out->sigma = out->mr_bar / TR_SPC_D2;
  out->unpl = out->mean + TR_SPC_E2 * out->mr_bar;
  out->lnpl = out->mean - TR_SPC_E2 * out->mr_bar;
  out->url = TR_SPC_D4 * out->mr_bar;
  return TR_OK;
}

/* ---- zone rules ---------------------------------------------------------------------- */

/* Which side of cl +- k sigma point v lies beyond: +1, -1 or 0. k = 0: strictly above or
 * below the centre line. */
static int beyond(double v, double cl, double sigma, double k) {
  if (v - cl > k * sigma) return 1;
  if (cl - v > k * sigma) return -1;
  return 0;
}

/* 1 when x[i-len+1 .. i] exists and holds no NAN. */
static int window_ok(const double *x, size_t i, size_t len) {
  if (i + 1 < len) return 0;
  for (size_t j = i + 1 - len; j <= i; j++)
    if (isnan(x[j])) return 0;
  return 1;
}

/* m of the last k points beyond k_sigma on the side of point i (which must be beyond). */
static int m_of_k(const double *x, size_t i, const tr_xmr *l, size_t m, size_t k, double zs) {
  if (!window_ok(x, i, k)) return 0;
  int side = beyond(x[i], l->mean, l->sigma, zs);
  if (!side) return 0;
  size_t c = 0;
  for (size_t j = i + 1 - k; j <= i; j++)
    c += beyond(x[j], l->mean, l->sigma, zs) == side;
  return c >= m ? side : 0;
}

/* The last len points all on one side of the centre line: that side, else 0. */
static int run_side(const double *x, size_t i, const tr_xmr *l, size_t len) {
  if (!window_ok(x, i, len)) return 0;
  int side = beyond(x[i], l->mean, l->sigma, 0);
  for (size_t j = i + 1 - len; side && j <= i; j++)
    if (beyond(x[j], l->mean, l->sigma, 0) != side) side = 0;
  return side;
}

/* The last len points strictly increasing (+1) or decreasing (-1). */
static int trend_run(const double *x, size_t i, size_t len) {
  if (!window_ok(x, i, len)) return 0;
  int up = 1, down = 1;
  for (size_t j = i + 2 - len; j <= i; j++) {
    up &= x[j] > x[j - 1];
    down &= x[j] < x[j - 1];
  }
  return up ? 1 : down ? -1 : 0;
}

static int alternating(const double *x, size_t i, size_t len) {
  if (!window_ok(x, i, len)) return 0;
  double prev = 0;
  for (size_t j = i + 2 - len; j <= i; j++) {
    double d = x[j] - x[j - 1];
    if (d == 0 || (j > i + 2 - len && (d > 0) == (prev > 0))) return 0;
    prev = d;
  }
  return 1;
}

/* All of the last len points within (inside = 1) or beyond (inside = 0) 1 sigma. */
static int all_zone(const double *x, size_t i, const tr_xmr *l, size_t len, int inside) {
  if (!window_ok(x, i, len)) return 0;
  for (size_t j = i + 1 - len; j <= i; j++) {
    int out = beyond(x[j], l->mean, l->sigma, 1.0) != 0;
    if (out == inside) return 0;
  }
  return 1;
}

static const char *side_word(int side) {
  return side > 0 ? "above" : "below";
}

static int limit_rule(const double *x, size_t i, const tr_xmr *l, const char *rule,
                      tr_spc_signals *out, tr_error *err) {
  if (isnan(x[i])) return TR_OK;
  if (x[i] > l->unpl)
    return add(out, err, rule, i, 1, "point %zu (%g) is above the upper natural process limit %.4g",
               i + 1, x[i], l->unpl);
  if (x[i] < l->lnpl)
    return add(out, err, rule, i, -1,
               "point %zu (%g) is below the lower natural process limit %.4g", i + 1, x[i],
               l->lnpl);
  return TR_OK;
}

static int zone_rule(const double *x, size_t i, const tr_xmr *l, const char *rule, size_t m,
                     size_t k, double zs, tr_spc_signals *out, tr_error *err) {
  int s = m_of_k(x, i, l, m, k, zs);
  if (!s) return TR_OK;
  return add(out, err, rule, i, s,
             "%zu of %zu points up to point %zu are more than %g sigma %s the centre line %.4g", m,
             k, i + 1, zs, side_word(s), l->mean);
}

static int run_rule(const double *x, size_t i, const tr_xmr *l, const char *rule, size_t len,
                    tr_spc_signals *out, tr_error *err) {
  int s = run_side(x, i, l, len);
  if (!s) return TR_OK;
  return add(out, err, rule, i, s,
             "%zu successive points up to point %zu are %s the centre line %.4g", len, i + 1,
             side_word(s), l->mean);
}

static int mr_rule(const double *x, size_t i, const tr_xmr *l, tr_spc_signals *out, tr_error *err) {
  if (i == 0 || isnan(x[i]) || isnan(x[i - 1])) return TR_OK;
  double mr = fabs(x[i] - x[i - 1]);
  if (!(mr > l->url)) return TR_OK;
  return add(out, err, "MR", i, x[i] > x[i - 1] ? 1 : -1,
             "the jump of %g from point %zu to %zu exceeds the upper range limit %.4g", mr, i,
             i + 1, l->url);
}

size_t tr_spc_anhoj_max_run(size_t n) {
  if (n == 0) return 0;
  return (size_t)lround(log2((double)n)) + 3;
}

size_t tr_spc_anhoj_min_crossings(size_t n) {
  if (n < 2) return 0;
  /* smallest k with P(X <= k) >= 0.05 for X ~ Binomial(n - 1, 1/2) */
  double m = (double)(n - 1), cdf = 0;
  for (size_t k = 0; k + 1 < n; k++) {
    double dk = (double)k;
    cdf += exp(lgamma(m + 1) - lgamma(dk + 1) - lgamma(m - dk + 1) - m * log(2.0));
    if (cdf >= 0.05 - 1e-12) return k;
  }
  return n - 1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int anhoj(const double *x, size_t n, tr_spc_signals *out, tr_error *err) {
  double *v = tr_malloc((n ? n : 1) * sizeof *v);
  if (!v) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  size_t m = 0, last = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(x[i])) {
      v[m++] = x[i];
      last = i;
    }
  if (m < 2) {
    tr_free(v);
    return TR_OK;
  }
  qsort(v, m, sizeof *v, cmp_double);
  double med = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
  tr_free(v);
  size_t useful = 0, run = 0, longest = 0, crossings = 0;
  int prev = 0, run_dir = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(x[i]) || x[i] == med) continue;
    int s = x[i] > med ? 1 : -1;
    useful++;
    if (s == prev) {
      run++;
    } else {
      if (prev) crossings++;
      run = 1;
    }
    if (run > longest) {
      longest = run;
      run_dir = s;
    }
    prev = s;
  }
  size_t max_run = tr_spc_anhoj_max_run(useful), min_cross = tr_spc_anhoj_min_crossings(useful);
  int rc = TR_OK;
  if (longest > max_run)
    rc = add(out, err, "RUN", last, run_dir,
             "a run of %zu points %s the median %.4g is longer than %zu: the process has shifted",
             longest, side_word(run_dir), med, max_run);
  if (!rc && crossings < min_cross)
    rc = add(out, err, "CROSSINGS", last, 0,
             "the series crosses its median %.4g only %zu times in %zu points (fewer than %zu)",
             med, crossings, useful, min_cross);
  return rc;
}

int tr_spc_rules(const double *x, size_t n, const tr_xmr *l, tr_spc_ruleset set,
                 tr_spc_signals *out, tr_error *err) {
  if (set == TR_SPC_ANHOJ) return anhoj(x, n, out, err);
  int rc = TR_OK;
  for (size_t i = 0; !rc && i < n; i++) {
    if (set == TR_SPC_WESTERN_ELECTRIC) {
      rc = limit_rule(x, i, l, "WE1", out, err);
      if (!rc) rc = zone_rule(x, i, l, "WE2", 2, 3, 2.0, out, err);
      if (!rc) rc = zone_rule(x, i, l, "WE3", 4, 5, 1.0, out, err);
      if (!rc) rc = run_rule(x, i, l, "WE4", 8, out, err);
    } else {
      rc = limit_rule(x, i, l, "N1", out, err);
      if (!rc) rc = run_rule(x, i, l, "N2", 9, out, err);
      int t = rc ? 0 : trend_run(x, i, 6);
      if (t)
        rc = add(out, err, "N3", i, t, "6 points in a row up to point %zu are all %s", i + 1,
                 t > 0 ? "increasing" : "decreasing");
      if (!rc && alternating(x, i, 14))
        rc = add(out, err, "N4", i, 0, "14 points in a row up to point %zu alternate up and down",
                 i + 1);
      if (!rc) rc = zone_rule(x, i, l, "N5", 2, 3, 2.0, out, err);
      if (!rc) rc = zone_rule(x, i, l, "N6", 4, 5, 1.0, out, err);
      if (!rc && all_zone(x, i, l, 15, 1))
        rc = add(out, err, "N7", i, 0,
                 "15 points in a row up to point %zu lie within 1 sigma of the centre line "
                 "(less variation than the limits assume)",
                 i + 1);
      if (!rc && all_zone(x, i, l, 8, 0))
        rc = add(out, err, "N8", i, 0,
                 "8 points in a row up to point %zu lie more than 1 sigma from the centre line",
                 i + 1);
    }
    if (!rc) rc = mr_rule(x, i, l, out, err);
  }
  return rc;
}

/* ---- EWMA and CUSUM ------------------------------------------------------------------ */

int tr_spc_ewma(const double *x, size_t n, double mu0, double sigma, double lambda, double L,
                tr_spc_signals *out, double *z, tr_error *err) {
  if (!(lambda > 0 && lambda <= 1) || !(L > 0) || !(sigma > 0) || !isfinite(mu0))
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "EWMA needs 0 < lambda <= 1, L > 0 and sigma > 0 (got %g, %g, %g)", lambda,
                        L, sigma);
  double zi = mu0, decay = 1.0; /* decay = (1 - lambda)^(2i) */
  int rc = TR_OK;
  for (size_t i = 0; !rc && i < n; i++) {
    decay *= (1 - lambda) * (1 - lambda);
    if (!isnan(x[i])) zi = lambda * x[i] + (1 - lambda) * zi;
    if (z) z[i] = zi;
    double half = L * sigma * sqrt(lambda / (2 - lambda) * (1 - decay));
    if (zi > mu0 + half)
      rc = add(out, err, "EWMA", i, 1,
               "EWMA %.6g at point %zu is above its upper limit %.6g: the mean has drifted up", zi,
               i + 1, mu0 + half);
    else if (zi < mu0 - half)
      rc = add(out, err, "EWMA", i, -1,
               "EWMA %.6g at point %zu is below its lower limit %.6g: the mean has drifted down",
               zi, i + 1, mu0 - half);
  }
  return rc;
}

int tr_spc_cusum(const double *x, size_t n, double mu0, double sigma, double k, double h,
                 tr_spc_signals *out, double *cplus, double *cminus, tr_error *err) {
  if (!(k >= 0) || !(h > 0) || !(sigma > 0) || !isfinite(mu0))
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "CUSUM needs k >= 0, h > 0 and sigma > 0 (got %g, %g, %g)", k, h, sigma);
  double K = k * sigma, H = h * sigma, cp = 0, cm = 0;
  size_t np = 0, nm = 0; /* periods since each sum was last zero */
  int rc = TR_OK;
  for (size_t i = 0; !rc && i < n; i++) {
    if (!isnan(x[i])) {
      cp = fmax(0.0, x[i] - (mu0 + K) + cp);
      cm = fmax(0.0, (mu0 - K) - x[i] + cm);
      np = cp > 0 ? np + 1 : 0;
      nm = cm > 0 ? nm + 1 : 0;
    }
    if (cplus) cplus[i] = cp;
    if (cminus) cminus[i] = cm;
    if (cp > H)
      rc = add(out, err, "CUSUM+", i, 1,
               "upper CUSUM %.6g at point %zu exceeds h = %.6g: the mean has shifted up to "
               "about %.4g",
               cp, i + 1, H, mu0 + K + cp / (double)np);
    if (!rc && cm > H)
      rc = add(out, err, "CUSUM-", i, -1,
               "lower CUSUM %.6g at point %zu exceeds h = %.6g: the mean has shifted down to "
               "about %.4g",
               cm, i + 1, H, mu0 - K - cm / (double)nm);
  }
  return rc;
}

/* ---- trends and the imbalance signal ------------------------------------------------- */

void tr_spc_trend(const double *y, size_t n, double *slope, double *t) {
  double tbar = 0.5 * (double)(n - 1), ybar = 0;
  for (size_t i = 0; i < n; i++)
    ybar += y[i];
  ybar /= (double)n;
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < n; i++) {
    double dt = (double)i - tbar, dy = y[i] - ybar;
    sxx += dt * dt;
    sxy += dt * dy;
    syy += dy * dy;
  }
  double b = sxy / sxx;
  double sse = syy - b * sxy;
  *slope = b;
  if (sse <= 1e-15 * (syy > 0 ? syy : 1) || n < 3) {
    *t = b > 0 ? INFINITY : b < 0 ? -INFINITY : 0.0;
    return;
  }
  double se = sqrt(sse / (double)(n - 2) / sxx);
  *t = b / se;
}

double tr_spc_t95(size_t df) {
  static const double table[31] = {INFINITY, 6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895,
                                   1.860,    1.833, 1.812, 1.796, 1.782, 1.771, 1.761, 1.753,
                                   1.746,    1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714,
                                   1.711,    1.708, 1.706, 1.703, 1.701, 1.699, 1.697};
  if (df <= 30) return table[df];
  double z = 1.6448536269514722, d = (double)df;
  return z + (z * z * z + z) / (4 * d) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d);
}

int tr_spc_imbalance(const double *a, const double *b, size_t n, size_t w, double min_change,
                     tr_spc_signals *out, tr_error *err) {
  if (w < 3)
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "the imbalance window needs at least 3 periods, got %zu", w);
  double tc = tr_spc_t95(w - 2);
  int rc = TR_OK;
  for (size_t i = w - 1; !rc && i < n; i++) {
    if (!window_ok(a, i, w) || !window_ok(b, i, w)) continue;
    double sa, ta, sb, tb;
    tr_spc_trend(a + i + 1 - w, w, &sa, &ta);
    tr_spc_trend(b + i + 1 - w, w, &sb, &tb);
    double span = (double)(w - 1), ca = sa * span, cb = sb * span;
    int a_up = ta >= tc && ca >= min_change, a_down = ta <= -tc && -ca >= min_change;
    int b_up = tb >= tc && cb >= min_change, b_down = tb <= -tc && -cb >= min_change;
    if (a_up && b_down)
      rc = add(out, err, "IMBALANCE", i, 1,
               "periods %zu-%zu: pole A improved by %.2f while pole B fell by %.2f "
               "(trend t = %.1f, %.1f): B is being starved",
               i + 2 - w, i + 1, ca, -cb, ta, tb);
    else if (b_up && a_down)
      rc = add(out, err, "IMBALANCE", i, -1,
               "periods %zu-%zu: pole B improved by %.2f while pole A fell by %.2f "
               "(trend t = %.1f, %.1f): A is being starved",
               i + 2 - w, i + 1, cb, -ca, tb, ta);
  }
  return rc;
}

/* ---- average run lengths ------------------------------------------------------------- */

/* States of the Markov chains: enough for four significant digits at the table values. */
#define ARL_STATES 301

static double phi(double x) {
  return 0.5 * erfc(-x / sqrt(2.0));
}

double tr_spc_shewhart_arl(double L, double shift) {
  double p = phi(-L - shift) + (1 - phi(L - shift));
  return p > 0 ? 1 / p : INFINITY;
}

/* Solve (I - R) t = 1 for the m x m transition matrix r (overwritten) and return t[start]. */
static double absorb_time(double *r, size_t m, size_t start, double *t) {
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < m; j++)
      r[i * m + j] = (i == j) - r[i * m + j];
    t[i] = 1;
  }
  for (size_t c = 0; c < m; c++) { /* Gaussian elimination, partial pivoting */
    size_t piv = c;
    for (size_t i = c + 1; i < m; i++)
      if (fabs(r[i * m + c]) > fabs(r[piv * m + c])) piv = i;
    if (r[piv * m + c] == 0) return INFINITY;
    if (piv != c) {
      for (size_t j = 0; j < m; j++) {
        double tmp = r[c * m + j];
        r[c * m + j] = r[piv * m + j];
        r[piv * m + j] = tmp;
      }
      double tmp = t[c];
      t[c] = t[piv];
      t[piv] = tmp;
    }
    for (size_t i = c + 1; i < m; i++) {
      double f = r[i * m + c] / r[c * m + c];
      if (f == 0) continue;
      for (size_t j = c; j < m; j++)
        r[i * m + j] -= f * r[c * m + j];
      t[i] -= f * t[c];
    }
  }
  for (size_t i = m; i-- > 0;) {
    double s = t[i];
    for (size_t j = i + 1; j < m; j++)
      s -= r[i * m + j] * t[j];
    t[i] = s / r[i * m + i];
  }
  return t[start];
}

/* One-sided upper CUSUM ARL for N(shift, 1) data: state 0 is C = 0, state i > 0 the
 * interval ((i - 1/2) w, (i + 1/2) w], w chosen so that the last state ends at h. */
static double cusum_one_sided(double k, double h, double shift, double *r, double *t) {
  size_t m = ARL_STATES;
  double w = 2 * h / (2.0 * (double)m - 1);
  for (size_t i = 0; i < m; i++) {
    double c = (double)i * w;
    r[i * m] = phi(w / 2 - c + k - shift);
    for (size_t j = 1; j < m; j++)
      r[i * m + j] =
          phi(((double)j + 0.5) * w - c + k - shift) - phi(((double)j - 0.5) * w - c + k - shift);
  }
  return absorb_time(r, m, 0, t);
}

int tr_spc_cusum_arl(double k, double h, double shift, double *arl, tr_error *err) {
  if (!(k >= 0) || !(h > 0) || !isfinite(shift))
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0, "CUSUM ARL needs k >= 0 and h > 0");
  size_t m = ARL_STATES;
  double *r = tr_malloc(m * m * sizeof *r), *t = tr_malloc(m * sizeof *t);
  if (!r || !t) {
    tr_free(r);
    tr_free(t);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  double up = cusum_one_sided(k, h, shift, r, t);
  double down = cusum_one_sided(k, h, -shift, r, t); /* the lower CUSUM mirrors the upper */
  *arl = 1 / (1 / up + 1 / down);
  tr_free(r);
  tr_free(t);
  return TR_OK;
}

int tr_spc_ewma_arl(double lambda, double L, double shift, double *arl, tr_error *err) {
  if (!(lambda > 0 && lambda <= 1) || !(L > 0) || !isfinite(shift))
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "EWMA ARL needs 0 < lambda <= 1 and L > 0");
  size_t m = ARL_STATES; /* odd: the middle state holds the start, z = 0 */
  double *r = tr_malloc(m * m * sizeof *r), *t = tr_malloc(m * sizeof *t);
  if (!r || !t) {
    tr_free(r);
    tr_free(t);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  double h = L * sqrt(lambda / (2 - lambda)), w = 2 * h / (double)m;
  for (size_t i = 0; i < m; i++) {
    double ci = -h + ((double)i + 0.5) * w;
    for (size_t j = 0; j < m; j++) {
      double lo = -h + (double)j * w, hi = lo + w;
      r[i * m + j] = phi((hi - (1 - lambda) * ci) / lambda - shift) -
                     phi((lo - (1 - lambda) * ci) / lambda - shift);
    }
  }
  *arl = absorb_time(r, m, m / 2, t);
  tr_free(r);
  tr_free(t);
  return TR_OK;
}
