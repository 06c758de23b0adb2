/* Special functions (see special.h for why they are our own). */
#include "scenario/special.h"

#include <float.h>
#include <math.h>

#define TINY 1e-300
#define PI 3.14159265358979323846
#define SQRT2 1.41421356237309504880
#define CF_MAX_ITER 500
#define INV_MAX_ITER 200

double tr_sf_lgamma(double x) {
  /* Lanczos approximation, g = 7, n = 9 (Godfrey's coefficients). */
  static const double c[9] = {0.99999999999980993,  676.5203681218851,     -1259.1392167224028,
                              771.32342877765313,   -176.61502916214059,   12.507343278686905,
                              -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
  if (!(x > 0)) return NAN;
  if (x < 0.5) {
    /* Reflection: Γ(x)Γ(1-x) = π / sin(πx); sin(πx) > 0 for x in (0, 0.5). */
    return log(PI / sin(PI * x)) - tr_sf_lgamma(1.0 - x);
  }
  double z = x - 1.0;
  double s = c[0];
  for (int i = 1; i < 9; i++)
    s += c[i] / (z + (double)i);
  double t = z + 7.5;
  return 0.5 * log(2.0 * PI) + (z + 0.5) * log(t) - t + log(s);
}

double tr_sf_norm_cdf(double x) {
  return 0.5 * erfc(-x / SQRT2);
}

double tr_sf_norm_pdf(double x) {
  return exp(-0.5 * x * x) / sqrt(2.0 * PI);
}

double tr_sf_norm_quantile(double p) {
  static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02,
                              -2.759285104469687e+02, 1.383577518672690e+02,
                              -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                              6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01,
                              -2.400758277161838e+00, -2.549732539343734e+00,
                              4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                              3.754408661907416e+00};
  const double plow = 0.02425;
  if (isnan(p) || p < 0 || p > 1) return NAN;
  if (p == 0) return -INFINITY;
  if (p == 1) return INFINITY;
  double x;
  if (p < plow) {
    double q = sqrt(-2 * log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - plow) {
    double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    double q = sqrt(-2 * log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  /* One Halley step on Φ(x) - p. In the upper tail work with the complement so that the
   * residual is not lost to cancellation against 1. */
  double e;
  if (p < 0.5)
    e = tr_sf_norm_cdf(x) - p;
  else
    e = (1.0 - p) - 0.5 * erfc(x / SQRT2);
  double u = e * sqrt(2 * PI) * exp(x * x / 2);
  x = x - u / (1 + x * u / 2);
  return x;
}

/* Continued fraction for I_x(a, b) (modified Lentz); converges fast for x < (a+1)/(a+b+2). */
static double beta_cf(double a, double b, double x) {
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  if (fabs(d) < TINY) d = TINY;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= CF_MAX_ITER; m++) {
    double dm = (double)m, m2 = 2.0 * dm;
    double aa = dm * (b - dm) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + aa * d;
    if (fabs(d) < TINY) d = TINY;
    c = 1.0 + aa / c;
    if (fabs(c) < TINY) c = TINY;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + dm) * (a + b + dm) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    if (fabs(d) < TINY) d = TINY;
    c = 1.0 + aa / c;
    if (fabs(c) < TINY) c = TINY;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1.0) < 1e-16) break;
  }
  return h;
}

static double lbeta(double a, double b) {
  return tr_sf_lgamma(a) + tr_sf_lgamma(b) - tr_sf_lgamma(a + b);
}

double tr_sf_beta_inc(double a, double b, double x) {
  if (!(a > 0) || !(b > 0) || isnan(x)) return NAN;
  if (x <= 0) return 0.0;
  if (x >= 1) return 1.0;
  double front = exp(a * log(x) + b * log1p(-x) - lbeta(a, b));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_cf(a, b, x) / a;
  return 1.0 - front * beta_cf(b, a, 1.0 - x) / b;
}

/* Safeguarded Newton for a monotone increasing cdf on [lo, hi]: f(x) = cdf(x) - p. */
typedef double (*cdf_fn)(const double *prm, double x);
typedef double (*pdf_fn)(const double *prm, double x);

static double solve_monotone(cdf_fn cdf, pdf_fn pdf, const double *prm, double p, double lo,
                             double hi, double x) {
  if (!(x > lo && x < hi)) x = 0.5 * (lo + hi);
  for (int it = 0; it < INV_MAX_ITER; it++) {
    double f = cdf(prm, x) - p;
    if (f == 0) return x;
    if (f < 0)
      lo = x;
    else
      hi = x;
    double dens = pdf(prm, x);
    double nx = (dens > 0 && isfinite(dens)) ? x - f / dens : NAN;
    if (!(nx > lo && nx < hi)) nx = 0.5 * (lo + hi);
    double tol = 1e-15 * fmax(1.0, fabs(nx));
    if (fabs(nx - x) <= tol || hi - lo <= tol) return nx;
    x = nx;
  }
  return x;
}

static double beta_cdf_p(const double *prm, double x) {
  return tr_sf_beta_inc(prm[0], prm[1], x);
}

static double beta_pdf_p(const double *prm, double x) {
  if (x <= 0 || x >= 1) return 0.0;
  return exp((prm[0] - 1) * log(x) + (prm[1] - 1) * log1p(-x) - prm[2]);
}

double tr_sf_beta_inc_inv(double a, double b, double p) {
  if (!(a > 0) || !(b > 0) || isnan(p) || p < 0 || p > 1) return NAN;
  if (p == 0) return 0.0;
  if (p == 1) return 1.0;
  double prm[3] = {a, b, lbeta(a, b)};
  return solve_monotone(beta_cdf_p, beta_pdf_p, prm, p, 0.0, 1.0, a / (a + b));
}

double tr_sf_gamma_inc_p(double a, double x) {
  if (!(a > 0) || isnan(x)) return NAN;
  if (x <= 0) return 0.0;
  if (isinf(x)) return 1.0;
  double lpre = -x + a * log(x) - tr_sf_lgamma(a);
  if (x < a + 1.0) {
    double ap = a, term = 1.0 / a, sum = term;
    for (int n = 0; n < CF_MAX_ITER; n++) {
      ap += 1.0;
      term *= x / ap;
      sum += term;
      if (fabs(term) < fabs(sum) * 1e-17) break;
    }
    return sum * exp(lpre);
  }
  /* Q(a, x) by continued fraction (modified Lentz). */
  double bb = x + 1.0 - a, c = 1.0 / TINY, d = 1.0 / bb, h = d;
  for (int i = 1; i <= CF_MAX_ITER; i++) {
    double an = -(double)i * ((double)i - a);
    bb += 2.0;
    d = an * d + bb;
    if (fabs(d) < TINY) d = TINY;
    c = bb + an / c;
    if (fabs(c) < TINY) c = TINY;
    d = 1.0 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1.0) < 1e-16) break;
  }
  return 1.0 - exp(lpre) * h;
}

static double gamma_cdf_p(const double *prm, double x) {
  return tr_sf_gamma_inc_p(prm[0], x);
}

static double gamma_pdf_p(const double *prm, double x) {
  if (x <= 0) return 0.0;
  return exp((prm[0] - 1) * log(x) - x - prm[1]);
}

double tr_sf_gamma_inc_inv(double a, double p) {
  if (!(a > 0) || isnan(p) || p < 0 || p > 1) return NAN;
  if (p == 0) return 0.0;
  if (p == 1) return INFINITY;
  double prm[2] = {a, tr_sf_lgamma(a)};
  /* Wilson–Hilferty: (X/a)^(1/3) is nearly normal. */
  double z = tr_sf_norm_quantile(p);
  double t = 1.0 - 1.0 / (9.0 * a) + z / (3.0 * sqrt(a));
  double x0 = a * t * t * t;
  if (!(x0 > 0)) x0 = a * 0.5;
  double hi = fmax(2.0 * x0, a + 1.0);
  while (tr_sf_gamma_inc_p(a, hi) < p && hi < DBL_MAX / 4)
    hi *= 2.0;
  return solve_monotone(gamma_cdf_p, gamma_pdf_p, prm, p, 0.0, hi, x0);
}
