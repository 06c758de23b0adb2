/* Distributions and special functions against analytic values (IDs dist-N in messages). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scenario/dist.h"
#include "scenario/special.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void near(double got, double want, double tol, const char *what) {
  if (!(fabs(got - want) <= tol)) {
    print_error("%s: got %.17g, want %.17g (tol %g)\n", what, got, want, tol);
    fail();
  }
}

/* dist-1: log-gamma at known points. */
static void test_lgamma(void **state) {
  (void)state;
  near(tr_sf_lgamma(0.5), 0.57236494292470008, 1e-14, "lgamma(0.5) = ln sqrt(pi)");
  near(tr_sf_lgamma(1.0), 0.0, 1e-14, "lgamma(1)");
  near(tr_sf_lgamma(10.0), 12.801827480081469, 1e-12, "lgamma(10) = ln 9!");
  near(tr_sf_lgamma(0.1), 2.2527126517342059, 1e-13, "lgamma(0.1)");
  near(tr_sf_lgamma(100.0), 359.13420536957540, 1e-10, "lgamma(100)");
  assert_true(isnan(tr_sf_lgamma(-1.0)));
}

/* dist-2: the inverse normal CDF at published points and as an inverse of erfc. */
static void test_norm_quantile(void **state) {
  (void)state;
  near(tr_sf_norm_quantile(0.5), 0.0, 1e-15, "z(0.5)");
  near(tr_sf_norm_quantile(0.975), 1.959963984540054, 1e-14, "z(0.975)");
  near(tr_sf_norm_quantile(0.025), -1.959963984540054, 1e-14, "z(0.025)");
  near(tr_sf_norm_quantile(0.9), 1.2815515655446004, 1e-14, "z(0.9)");
  near(tr_sf_norm_quantile(1e-10), -6.3613409024040557, 1e-12, "z(1e-10)");
  near(tr_sf_norm_quantile(1 - 1e-10), 6.3613409024040557, 1e-5, "z(1-1e-10)");
  for (double p = 0.001; p < 1; p += 0.0137)
    near(tr_sf_norm_cdf(tr_sf_norm_quantile(p)), p, 1e-15 + 1e-14 * p, "cdf(quantile(p)) = p");
  assert_true(isinf(tr_sf_norm_quantile(0)) && tr_sf_norm_quantile(0) < 0);
  assert_true(isinf(tr_sf_norm_quantile(1)) && tr_sf_norm_quantile(1) > 0);
  assert_true(isnan(tr_sf_norm_quantile(1.5)));
}

/* dist-3: incomplete beta against the binomial-sum closed form and symmetry; the inverse. */
static void test_beta_inc(void **state) {
  (void)state;
  near(tr_sf_beta_inc(2, 3, 0.3), 0.3483, 1e-14, "I_0.3(2,3)");
  near(tr_sf_beta_inc(1, 1, 0.42), 0.42, 1e-15, "I_x(1,1) = x");
  near(tr_sf_beta_inc(5, 5, 0.5), 0.5, 1e-14, "I_0.5(a,a) = 1/2");
  near(tr_sf_beta_inc(0.5, 0.5, 0.25), 1.0 / 3.0, 1e-13, "arcsine: 2/pi asin(sqrt x)");
  for (double p = 0.01; p < 1; p += 0.049) {
    double x = tr_sf_beta_inc_inv(2.5, 0.7, p);
    near(tr_sf_beta_inc(2.5, 0.7, x), p, 1e-12, "I(inv(p)) = p, a=2.5 b=0.7");
    x = tr_sf_beta_inc_inv(0.3, 4, p);
    near(tr_sf_beta_inc(0.3, 4, x), p, 1e-12, "I(inv(p)) = p, a=0.3 b=4");
  }
}

/* dist-4: incomplete gamma: P(1,x) = 1 - e^-x, P(3,x) closed form; the inverse. */
static void test_gamma_inc(void **state) {
  (void)state;
  near(tr_sf_gamma_inc_p(1, 2.0), 1 - exp(-2.0), 1e-15, "P(1,2)");
  for (double x = 0.1; x < 30; x *= 1.7) {
    double want = 1 - exp(-x) * (1 + x + x * x / 2);
    near(tr_sf_gamma_inc_p(3, x), want, 1e-13, "P(3,x)");
  }
  near(tr_sf_gamma_inc_p(0.5, 2.0), erf(sqrt(2.0)), 1e-14, "P(1/2,x) = erf(sqrt x)");
  for (double p = 0.005; p < 1; p += 0.0331) {
    double x = tr_sf_gamma_inc_inv(0.4, p);
    near(tr_sf_gamma_inc_p(0.4, x), p, 1e-12, "P(inv) = p, a=0.4");
    x = tr_sf_gamma_inc_inv(25, p);
    near(tr_sf_gamma_inc_p(25, x), p, 1e-12, "P(inv) = p, a=25");
  }
}

/* Draw n values at a fixed seed; the sample mean must lie within 4.5 standard errors of the
 * analytic mean and the sample variance within `vtol` (relative) of the analytic variance. */
static void check_moments(const char *text, double want_mean, double want_var, double vtol) {
  tr_dist d;
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_dist_parse(&d, text, NULL, 0, 0, &err);
  if (rc != TR_OK) print_error("%s: %s\n", text, tr_error_text(&err));
  assert_int_equal(rc, TR_OK);
  near(tr_dist_mean(&d), want_mean, 1e-9 * fmax(1, fabs(want_mean)), text);
  near(tr_dist_var(&d), want_var, 1e-9 * fmax(1, want_var), text);
  tr_rng r;
  tr_rng_seed_stream(&r, 20261127, 3);
  const int n = 200000;
  double mean = 0, m2 = 0;
  for (int i = 0; i < n; i++) {
    double x = tr_dist_sample(&d, &r);
    assert_true(x >= d.lo && x <= d.hi);
    double delta = x - mean;
    mean += delta / (i + 1);
    m2 += delta * (x - mean);
  }
  double var = m2 / (n - 1);
  char what[200];
  snprintf(what, sizeof what, "%s sample mean", text);
  near(mean, want_mean, 4.5 * sqrt(want_var / n), what);
  snprintf(what, sizeof what, "%s sample variance", text);
  near(var, want_var, vtol * want_var, what);
  tr_dist_free(&d);
}

/* dist-5: every distribution's sample moments match its parameters (fixed seed). */
static void test_sample_moments(void **state) {
  (void)state;
  check_moments("uniform(2, 5)", 3.5, 9.0 / 12, 0.02);
  check_moments("normal(100, 15)", 100, 225, 0.02);
  /* Truncated to [90, 130]: alpha = -2/3, beta = 2 of the standard normal. */
  double al = -10.0 / 15, be = 2, z = tr_sf_norm_cdf(be) - tr_sf_norm_cdf(al);
  double pa = exp(-al * al / 2) / sqrt(2 * 3.14159265358979323846),
         pb = exp(-be * be / 2) / sqrt(2 * 3.14159265358979323846);
  double tm = 100 + 15 * (pa - pb) / z;
  double tv = 225 * (1 + (al * pa - be * pb) / z - ((pa - pb) / z) * ((pa - pb) / z));
  check_moments("normal(100, 15, 90, 130)", tm, tv, 0.02);
  check_moments("lognormal(50, 10)", 50, 100, 0.03);
  check_moments("triangular(1, 2, 6)", 3, (1 + 4 + 36 - 2 - 6 - 12) / 18.0, 0.02);
  /* PERT(0, 3, 10): alpha 2.2, beta 3.8; mean (0 + 12 + 10)/6. */
  check_moments("pert(0, 3, 10)", 22.0 / 6, 100 * 2.2 * 3.8 / (36 * 7), 0.02);
  check_moments("beta(2, 5)", 2.0 / 7, 10.0 / (49 * 8), 0.02);
  check_moments("beta(0.5, 0.5, -1, 1)", 0, 4 * 0.25 / 2, 0.02);
  check_moments("gamma(3, 2)", 6, 12, 0.02);
  check_moments("gamma(0.5, 4)", 2, 8, 0.03);
  check_moments("discrete(1:1, 5:2, 3:1)", 3.5, (6.25 + 2 * 2.25 + 0.25) / 4, 0.02);
  check_moments("empirical(4, 8, 1, 3)", 4, (0 + 16 + 9 + 1) / 4.0, 0.02);
  check_moments("percentiles(80, 100, 120)", 100, pow(20 / 1.2815515655446004, 2), 0.02);
}

/* dist-6: from percentiles: the fitted distribution reproduces the three percentiles, for a
 * right-skewed, a left-skewed and a symmetric input. */
static void test_percentiles_fit(void **state) {
  (void)state;
  static const double cases[][3] = {{80, 100, 150}, {10, 60, 70}, {-5, 0, 5}, {0.1, 0.2, 1.5}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tr_dist d;
    assert_int_equal(tr_dist_init(&d, TR_DIST_PERCENTILES, cases[i], 3, NULL), TR_OK);
    near(tr_dist_quantile(&d, 0.1), cases[i][0], 1e-9, "fitted p10");
    near(tr_dist_quantile(&d, 0.5), cases[i][1], 1e-9, "fitted p50");
    near(tr_dist_quantile(&d, 0.9), cases[i][2], 1e-9, "fitted p90");
    tr_dist_free(&d);
  }
}

/* dist-7: quantiles at analytic points; monotonicity of discrete and empirical. */
static void test_quantiles(void **state) {
  (void)state;
  tr_dist d;
  assert_int_equal(tr_dist_parse(&d, "normal(10, 2)", NULL, 0, 0, NULL), TR_OK);
  near(tr_dist_quantile(&d, 0.975), 10 + 2 * 1.959963984540054, 1e-12, "normal q975");
  assert_int_equal(tr_dist_parse(&d, "triangular(0, 0, 1)", NULL, 0, 0, NULL), TR_OK);
  near(tr_dist_quantile(&d, 0.75), 0.5, 1e-15, "triangular(0,0,1) q75 = 1 - sqrt(.25)");
  assert_int_equal(tr_dist_parse(&d, "lognormal(1, 0)", NULL, 0, 0, NULL), TR_OK);
  near(tr_dist_quantile(&d, 0.3), 1.0, 1e-15, "lognormal with sd 0 is its mean");
  assert_int_equal(tr_dist_parse(&d, "gamma(1, 3)", NULL, 0, 0, NULL), TR_OK);
  near(tr_dist_quantile(&d, 0.5), 3 * log(2.0), 1e-12, "exponential median");
  assert_int_equal(tr_dist_parse(&d, " DISCRETE( 3:0.5 , 1:0.25, 2:0 ,9:0.25 ) ", NULL, 0, 0, NULL),
                   TR_OK);
  near(tr_dist_quantile(&d, 0.2), 1, 0, "discrete q.2");
  near(tr_dist_quantile(&d, 0.25), 3, 0, "discrete: zero-weight 2 never drawn");
  near(tr_dist_quantile(&d, 0.7), 3, 0, "discrete q.7");
  near(tr_dist_quantile(&d, 0.8), 9, 0, "discrete q.8");
  tr_dist_free(&d);
  assert_int_equal(tr_dist_parse(&d, "empirical(5, 1, 3)", NULL, 0, 0, NULL), TR_OK);
  near(tr_dist_quantile(&d, 0.1), 1, 0, "empirical q.1");
  near(tr_dist_quantile(&d, 0.5), 3, 0, "empirical q.5");
  near(tr_dist_quantile(&d, 0.99), 5, 0, "empirical q.99");
  tr_dist c;
  assert_int_equal(tr_dist_copy(&c, &d), TR_OK);
  tr_dist_free(&d);
  near(tr_dist_quantile(&c, 0.99), 5, 0, "copy survives the original");
  char buf[64];
  tr_dist_describe(&c, buf, sizeof buf);
  assert_string_equal(buf, "empirical(1, 3, 5)");
  tr_dist_free(&c);
  tr_dist_free(&c);
  tr_dist_free(NULL);
}

static void expect_error(const char *text, int code, const char *needle, int col) {
  tr_dist d;
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_dist_parse(&d, text, "plan.yaml", 7, 10, &err);
  const char *msg = tr_error_text(&err);
  if (rc != code || !strstr(msg, needle) || (col && err.col != col))
    print_error("'%s': rc %d (want %d), col %d (want %d), message '%s' (want '%s')\n", text, rc,
                code, err.col, col, msg, needle);
  assert_int_equal(rc, code);
  assert_non_null(strstr(msg, needle));
  if (col) assert_int_equal(err.col, col);
  tr_dist_free(&d);
}

/* dist-8: impossible parameters and malformed text: clear errors naming the parameter and
 * pointing at it (column 10 of the line + offset). */
static void test_bad_input(void **state) {
  (void)state;
  expect_error("normal(10, -1)", TR_ERR_INVALID, "'sd' must be >= 0 (got -1)", 21);
  expect_error("triangular(5, 3, 9)", TR_ERR_INVALID, "'min' (5) must not exceed 'mode' (3)", 24);
  expect_error("pert(1, 9, 4)", TR_ERR_INVALID, "'mode' (9) must not exceed 'max' (4)", 21);
  expect_error("pert(2, 2, 2)", TR_ERR_INVALID, "'max' (2) must be greater than 'min'", 0);
  expect_error("uniform(3, 1)", TR_ERR_INVALID, "'max' (1) must be greater than 'min' (3)", 0);
  expect_error("lognormal(0, 1)", TR_ERR_INVALID, "'mean' must be > 0", 20);
  expect_error("beta(0, 1)", TR_ERR_INVALID, "'alpha' must be > 0", 0);
  expect_error("gamma(2, -1)", TR_ERR_INVALID, "'scale' must be > 0", 0);
  expect_error("normal(0, 1, 5, 2)", TR_ERR_INVALID, "'hi' (2) must be greater than 'lo'", 0);
  expect_error("normal(0, 1, 40, 50)", TR_ERR_INVALID, "has no probability", 0);
  expect_error("percentiles(1, 5, 3)", TR_ERR_INVALID, "'p90' (3) must be greater than 'p50'", 0);
  expect_error("discrete(1:0, 2:0)", TR_ERR_INVALID, "must not all be zero", 0);
  expect_error("discrete(1:-1, 2:1)", TR_ERR_INVALID, "'weight' of value 1", 0);
  expect_error("discrete(1, 2)", TR_ERR_PARSE, "expected ':'", 0);
  expect_error("normal(1)", TR_ERR_ARITY, "normal takes (mean, sd[, lo, hi]), got 1", 10);
  expect_error("normal(1, 2, 3)", TR_ERR_ARITY, "got 3 arguments", 0);
  expect_error("nromal(1, 2)", TR_ERR_UNKNOWN_NAME, "did you mean 'normal'", 10);
  expect_error("normal(1, x)", TR_ERR_PARSE, "expected a number", 20);
  expect_error("normal(1, 2", TR_ERR_PARSE, "expected ',' or ')'", 0);
  expect_error("normal(1, 2) extra", TR_ERR_PARSE, "unexpected text", 0);
  expect_error("normal 1, 2", TR_ERR_PARSE, "expected '('", 0);
  expect_error("(1, 2)", TR_ERR_PARSE, "expected a distribution", 0);
  expect_error("uniform(1, inf)", TR_ERR_INVALID, "finite", 0);
  expect_error("empirical()", TR_ERR_ARITY, "got 0 arguments", 0);
  /* The position is written in GNU form. */
  tr_dist d;
  tr_error err;
  tr_dist_parse(&d, "normal(10, -1)", "plan.yaml", 7, 10, &err);
  assert_string_equal(tr_error_text(&err), "plan.yaml:7:21: normal: 'sd' must be >= 0 (got -1)");
}

/* dist-9: allocation failure at every allocation of a discrete parse is reported, not leaked
 * (ASan checks the leaks). */
static void test_alloc_failure(void **state) {
  (void)state;
  for (long n = 1; n < 10; n++) {
    tr_dist d;
    tr_error err;
    tr_alloc_fail_after(n, 0);
    int rc = tr_dist_parse(&d, "discrete(1:1, 2:3)", NULL, 0, 0, &err);
    tr_alloc_fail_after(0, 0);
    assert_true(rc == TR_OK || rc == TR_ERR_NOMEM);
    if (rc == TR_OK) near(tr_dist_mean(&d), 1.75, 1e-15, "discrete mean");
    tr_dist_free(&d);
  }
}

/* dist-10: the plan's named-parameter form. */
static void test_named(void **state) {
  (void)state;
  tr_dist d;
  tr_error err;
  const char *tri[] = {"Max", "min", "mode"};
  const double triv[] = {4, 1, 2};
  assert_int_equal(tr_dist_init_named(&d, "triangular", tri, triv, 3, "plan.yaml", 3, 5, &err),
                   TR_OK);
  near(tr_dist_mean(&d), 7.0 / 3, 1e-15, "named triangular mean");
  const char *tn[] = {"mean", "sd", "lo", "hi"};
  const double tv[] = {0, 1, -1, 1};
  assert_int_equal(tr_dist_init_named(&d, "Normal", tn, tv, 4, NULL, 0, 0, &err), TR_OK);
  near(tr_dist_mean(&d), 0, 1e-15, "symmetric truncation keeps the mean");
  assert_int_equal(tr_dist_init_named(&d, "normal", tn, tv, 3, NULL, 0, 0, &err), TR_ERR_INVALID);
  assert_non_null(strstr(err.msg, "'lo' needs 'hi' too"));
  const char *typo[] = {"mean", "sdd"};
  assert_int_equal(tr_dist_init_named(&d, "normal", typo, tv, 2, "plan.yaml", 9, 7, &err),
                   TR_ERR_INVALID);
  assert_string_equal(tr_error_text(&err), "plan.yaml:9:7: normal has no parameter 'sdd' (did "
                                           "you mean 'sd'?) (its parameters: mean, sd[, lo, hi])");
  assert_int_equal(tr_dist_init_named(&d, "normal", tn, tv, 1, NULL, 0, 0, &err), TR_ERR_INVALID);
  assert_non_null(strstr(err.msg, "'sd' is missing"));
  const char *twice[] = {"mean", "mean"};
  assert_int_equal(tr_dist_init_named(&d, "normal", twice, tv, 2, NULL, 0, 0, &err),
                   TR_ERR_INVALID);
  const double neg[] = {0, -2};
  assert_int_equal(tr_dist_init_named(&d, "normal", tn, neg, 2, "p.yaml", 2, 3, &err),
                   TR_ERR_INVALID);
  assert_string_equal(tr_error_text(&err), "p.yaml:2:3: normal: 'sd' must be >= 0 (got -2)");
  assert_int_equal(tr_dist_init_named(&d, "discrete", tn, tv, 2, NULL, 0, 0, &err),
                   TR_ERR_UNSUPPORTED);
  assert_int_equal(tr_dist_init_named(&d, "triangulr", tri, triv, 3, NULL, 0, 0, &err),
                   TR_ERR_UNKNOWN_NAME);
  assert_non_null(strstr(err.msg, "did you mean 'triangular'"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lgamma),         cmocka_unit_test(test_norm_quantile),
      cmocka_unit_test(test_beta_inc),       cmocka_unit_test(test_gamma_inc),
      cmocka_unit_test(test_sample_moments), cmocka_unit_test(test_percentiles_fit),
      cmocka_unit_test(test_quantiles),      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_alloc_failure),  cmocka_unit_test(test_named),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
