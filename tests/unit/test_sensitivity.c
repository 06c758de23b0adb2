/* Sensitivity: ranks, Spearman, SRC on a linear model, tornado against hand-computed swings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scenario/sample.h"
#include "scenario/sensitivity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* sens-1: average ranks with ties; Spearman of a monotone transform is 1. */
static void test_ranks(void **state) {
  (void)state;
  const double x[] = {3, 1, 3, 2, 7};
  double r[5];
  assert_int_equal(tr_ranks(x, 5, 1, r), TR_OK);
  const double want[] = {3.5, 1, 3.5, 2, 5};
  assert_memory_equal(r, want, sizeof want);
  double y[5], rho;
  for (int i = 0; i < 5; i++)
    y[i] = exp(x[i]);
  assert_int_equal(tr_spearman(x, 1, y, 1, 5, &rho), TR_OK);
  assert_true(fabs(rho - 1) < 1e-15);
  const double c[] = {2, 2, 2};
  assert_true(isnan(tr_pearson(c, 1, x, 1, 3)));
}

/* sens-2: y = 2 x1 + 0.5 x2 - x3 (+ a constant input) with x ~ N(0, 1), N(0, 4), N(0, 1):
 * SRC = b_j sd_j / sd_y = (2, 1, -1)/sqrt(6), R² = 1, and Spearman 6/pi asin(SRC/2). */
static void test_global_linear(void **state) {
  (void)state;
  enum { N = 5000, K = 4, M = 2 };
  tr_dist d[K];
  assert_int_equal(tr_dist_parse(&d[0], "normal(0, 1)", NULL, 0, 0, NULL), TR_OK);
  assert_int_equal(tr_dist_parse(&d[1], "normal(0, 2)", NULL, 0, 0, NULL), TR_OK);
  assert_int_equal(tr_dist_parse(&d[2], "normal(0, 1)", NULL, 0, 0, NULL), TR_OK);
  assert_int_equal(tr_dist_parse(&d[3], "normal(4, 0)", NULL, 0, 0, NULL), TR_OK);
  tr_sampler *s;
  assert_int_equal(tr_sampler_new(&s, d, K, N, TR_SAMPLING_MC, 8, NULL, NULL, NULL), TR_OK);
  double *in = malloc(N * K * sizeof *in), *out = malloc(N * M * sizeof *out);
  for (size_t i = 0; i < N; i++) {
    tr_rng r;
    tr_rng_seed_stream(&r, 8, i);
    double *x = &in[i * K];
    tr_sampler_row(s, i, &r, x);
    out[i * M] = 2 * x[0] + 0.5 * x[1] - x[2] + x[3];
    out[i * M + 1] = 1.0; /* a constant output */
  }
  double sp[K * M], src[K * M], r2[M];
  assert_int_equal(tr_sens_global(in, K, out, M, N, sp, src, r2, NULL), TR_OK);
  const double b[3] = {2 / sqrt(6.0), 1 / sqrt(6.0), -1 / sqrt(6.0)};
  for (int j = 0; j < 3; j++) {
    assert_true(fabs(src[j * M] - b[j]) < 0.02);
    double want_sp = 6 / PI * asin(b[j] / 2);
    assert_true(fabs(sp[j * M] - want_sp) < 0.03);
  }
  assert_true(fabs(r2[0] - 1) < 1e-9);
  assert_true(isnan(src[3 * M]) && isnan(sp[3 * M])); /* the constant input */
  assert_true(isnan(src[0 * M + 1]) && isnan(r2[1])); /* the constant output */
  /* Only some measures asked for. */
  double r2b[M];
  assert_int_equal(tr_sens_global(in, K, out, M, N, NULL, NULL, r2b, NULL), TR_OK);
  assert_true(r2b[0] == r2[0]);
  tr_error err;
  assert_int_equal(tr_sens_global(in, K, out, M, 2, sp, src, r2, &err), TR_ERR_INVALID);
  out[7 * M] = NAN; /* one run where the output was not finite */
  assert_int_equal(tr_sens_global(in, K, out, M, N, sp, src, r2, NULL), TR_OK);
  assert_true(isnan(sp[0]) && isnan(src[0]) && isnan(r2[0]));
  free(in);
  free(out);
  tr_sampler_free(s);
}

static int metric(void *ctx, const double *x, double *m) {
  int *calls = ctx;
  ++*calls;
  *m = 3 * x[0] - x[1] * x[1];
  return TR_OK;
}

static int failing_metric(void *ctx, const double *x, double *m) {
  (void)ctx;
  (void)x;
  (void)m;
  return TR_ERR_MATH;
}

/* sens-3: tornado of 3a - b² with a ~ U(0, 10), b ~ N(5, 1), c ~ U(0, 1) unused:
 * swings 24 (a: 1 -> 9) and 20 z90 = 25.63 (b), 0 for c; b comes first. */
static void test_tornado(void **state) {
  (void)state;
  tr_dist d[3];
  assert_int_equal(tr_dist_parse(&d[0], "uniform(0, 10)", NULL, 0, 0, NULL), TR_OK);
  assert_int_equal(tr_dist_parse(&d[1], "normal(5, 1)", NULL, 0, 0, NULL), TR_OK);
  assert_int_equal(tr_dist_parse(&d[2], "uniform(0, 1)", NULL, 0, 0, NULL), TR_OK);
  tr_tornado_row rows[3];
  double base;
  int calls = 0;
  assert_int_equal(tr_sens_tornado(d, 3, 0.1, 0.9, metric, &calls, &base, rows, NULL), TR_OK);
  assert_int_equal(calls, 7);
  assert_true(fabs(base - (15 - 25)) < 1e-12);
  const double z90 = 1.2815515655446004;
  assert_int_equal(rows[0].input, 1);
  assert_true(fabs(rows[0].swing - 20 * z90) < 1e-9);
  assert_true(fabs(rows[0].low_in - (5 - z90)) < 1e-12);
  assert_int_equal(rows[1].input, 0);
  assert_true(fabs(rows[1].low - (3 - 25)) < 1e-12 && fabs(rows[1].high - (27 - 25)) < 1e-12);
  assert_int_equal(rows[2].input, 2);
  assert_true(rows[2].swing == 0);
  tr_error err;
  assert_int_equal(tr_sens_tornado(d, 3, 0.9, 0.1, metric, &calls, &base, rows, &err),
                   TR_ERR_INVALID);
  assert_non_null(strstr(err.msg, "0 < low < high < 1"));
  assert_int_equal(tr_sens_tornado(d, 3, 0.1, 0.9, failing_metric, NULL, &base, rows, &err),
                   TR_ERR_MATH);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ranks),
      cmocka_unit_test(test_global_linear),
      cmocka_unit_test(test_tornado),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
