/* Sampling: LHS strata, variance reduction, Iman–Conover, nearest correlation matrix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scenario/sample.h"
#include "scenario/sensitivity.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void parse(tr_dist *d, const char *text) {
  tr_error err;
  int rc = tr_dist_parse(d, text, NULL, 0, 0, &err);
  if (rc) print_error("%s: %s\n", text, tr_error_text(&err));
  assert_int_equal(rc, TR_OK);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Draw the whole n × k sample, run i from stream (seed, i). */
static double *draw(const tr_sampler *s, size_t n, size_t k, uint64_t seed) {
  double *x = malloc(n * k * sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < n; i++) {
    tr_rng r;
    tr_rng_seed_stream(&r, seed, i);
    tr_sampler_row(s, i, &r, &x[i * k]);
  }
  return x;
}

/* sample-1: every Latin hypercube stratum of every input is hit exactly once. */
static void test_lhs_strata(void **state) {
  (void)state;
  enum { N = 997, K = 3 };
  tr_dist d[K];
  parse(&d[0], "uniform(0, 1)");
  parse(&d[1], "normal(0, 1)");
  parse(&d[2], "gamma(2, 1)");
  tr_sampler *s;
  assert_int_equal(tr_sampler_new(&s, d, K, N, TR_SAMPLING_LHS, 11, NULL, NULL, NULL), TR_OK);
  double *x = draw(s, N, K, 11);
  static int hits[K][N];
  memset(hits, 0, sizeof hits);
  for (size_t i = 0; i < N; i++) {
    /* The stratum of a draw: which 1/N slice of the distribution's CDF it falls in. */
    double u0 = x[i * K];
    double u1 = 0.5 * erfc(-x[i * K + 1] / sqrt(2.0));
    double u2 = 1 - exp(-x[i * K + 2]) * (1 + x[i * K + 2]);
    hits[0][(int)(u0 * N)]++;
    hits[1][(int)(u1 * N)]++;
    hits[2][(int)(u2 * N)]++;
  }
  for (int j = 0; j < K; j++)
    for (int t = 0; t < N; t++) {
      if (hits[j][t] != 1) print_error("input %d stratum %d hit %d times\n", j, t, hits[j][t]);
      assert_int_equal(hits[j][t], 1);
    }
  /* Rows do not depend on the order they are asked for. */
  tr_rng r;
  double row[K];
  tr_rng_seed_stream(&r, 11, 500);
  tr_sampler_row(s, 500, &r, row);
  assert_memory_equal(row, &x[500 * K], sizeof row);
  free(x);
  tr_sampler_free(s);
}

/* sample-2: LHS reduces the variance of the mean estimate against plain MC, over repeated
 * seeds (for an additive function LHS variance is far smaller). */
static void test_lhs_variance_reduction(void **state) {
  (void)state;
  enum { N = 100, K = 2, REPS = 200 };
  tr_dist d[K];
  parse(&d[0], "normal(10, 3)");
  parse(&d[1], "triangular(0, 1, 5)");
  double var[2];
  for (int method = 0; method < 2; method++) {
    double m1 = 0, m2 = 0;
    for (uint64_t seed = 1; seed <= REPS; seed++) {
      tr_sampler *s;
      assert_int_equal(tr_sampler_new(&s, d, K, N, (tr_sampling)method, seed, NULL, NULL, NULL),
                       TR_OK);
      double *x = draw(s, N, K, seed);
      double mean = 0;
      for (int i = 0; i < N; i++)
        mean += x[i * K] + 2 * x[i * K + 1];
      mean /= N;
      m1 += mean;
      m2 += mean * mean;
      free(x);
      tr_sampler_free(s);
    }
    m1 /= REPS;
    var[method] = m2 / REPS - m1 * m1;
  }
  /* MC: var of the mean = (9 + 4 * var(tri)) / N = (9 + 4*1.1667)/100 ≈ 0.137. */
  double want_mc = (9 + 4 * (0 + 1 + 25 - 0 - 0 - 5) / 18.0) / N;
  assert_true(var[0] > 0.6 * want_mc && var[0] < 1.5 * want_mc);
  if (!(var[1] < var[0] / 20)) print_error("LHS var %g vs MC var %g\n", var[1], var[0]);
  assert_true(var[1] < var[0] / 20);
}

/* sample-3: Iman–Conover reaches the target rank correlations within ±0.02 at 10,000 runs and
 * keeps every marginal sample unchanged. */
static void test_iman_conover(void **state) {
  (void)state;
  enum { N = 10000, K = 3 };
  tr_dist d[K];
  parse(&d[0], "lognormal(100, 30)");
  parse(&d[1], "uniform(0, 1)");
  parse(&d[2], "pert(1, 2, 8)");
  const double c[K * K] = {1, 0.7, -0.4, 0.7, 1, 0.1, -0.4, 0.1, 1};
  for (int method = 0; method < 2; method++) {
    tr_sampler *s, *plain;
    tr_error err;
    assert_int_equal(tr_sampler_new(&s, d, K, N, (tr_sampling)method, 99, c, NULL, &err), TR_OK);
    assert_string_equal(tr_sampler_warning(s), "");
    assert_int_equal(tr_sampler_new(&plain, d, K, N, (tr_sampling)method, 99, NULL, NULL, &err),
                     TR_OK);
    double *x = draw(s, N, K, 99), *y = draw(plain, N, K, 99);
    for (int a = 0; a < K; a++)
      for (int b = a + 1; b < K; b++) {
        double rho;
        assert_int_equal(tr_spearman(&x[a], K, &x[b], K, N, &rho), TR_OK);
        if (fabs(rho - c[a * K + b]) > 0.02)
          print_error("rank corr %d,%d = %g, target %g\n", a, b, rho, c[a * K + b]);
        assert_true(fabs(rho - c[a * K + b]) <= 0.02);
      }
    /* Same values per column, only re-ordered. */
    for (int j = 0; j < K; j++) {
      double *cx = malloc(N * sizeof *cx), *cy = malloc(N * sizeof *cy);
      for (int i = 0; i < N; i++) {
        cx[i] = x[i * K + j];
        cy[i] = y[i * K + j];
      }
      qsort(cx, N, sizeof *cx, cmp_double);
      qsort(cy, N, sizeof *cy, cmp_double);
      assert_memory_equal(cx, cy, N * sizeof *cx);
      free(cx);
      free(cy);
    }
    free(x);
    free(y);
    tr_sampler_free(s);
    tr_sampler_free(plain);
  }
}

/* sample-4: Higham's example (2002, §4): the nearest correlation matrix to
 * [1 1 0; 1 1 1; 0 1 1] is [1 .7607 .1573; .7607 1 .7607; .1573 .7607 1]. */
static void test_nearest_correlation(void **state) {
  (void)state;
  double a[9] = {1, 1, 0, 1, 1, 1, 0, 1, 1};
  int changed = 0;
  assert_int_equal(tr_corr_nearest(a, 3, 0.0, &changed, NULL), TR_OK);
  assert_int_equal(changed, 1);
  const double want[9] = {1, 0.7607, 0.1573, 0.7607, 1, 0.7607, 0.1573, 0.7607, 1};
  for (int i = 0; i < 9; i++) {
    if (fabs(a[i] - want[i]) > 1e-4) print_error("entry %d: %g want %g\n", i, a[i], want[i]);
    assert_true(fabs(a[i] - want[i]) <= 1e-4);
  }
  double w[3];
  assert_int_equal(tr_sym_eigen(a, 3, w, NULL), TR_OK);
  assert_true(w[0] > -1e-9);
  /* A valid matrix is left alone. */
  double b[4] = {1, 0.3, 0.3, 1};
  assert_int_equal(tr_corr_nearest(b, 2, 0.0, &changed, NULL), TR_OK);
  assert_int_equal(changed, 0);
  assert_true(b[1] == 0.3);
  /* Eigen-decomposition of a known matrix: eigenvalues of [2 1; 1 2] are 1 and 3. */
  double e[4] = {2, 1, 1, 2}, v[4];
  assert_int_equal(tr_sym_eigen(e, 2, w, v), TR_OK);
  assert_true(fabs(w[0] - 1) < 1e-14 && fabs(w[1] - 3) < 1e-14);
  assert_true(fabs(fabs(v[0]) - sqrt(0.5)) < 1e-14);
}

/* sample-5: a sampler given a non-PSD matrix repairs it, warns, and still hits the repaired
 * target; bad matrices and run counts are errors naming the inputs. */
static void test_sampler_repair_and_errors(void **state) {
  (void)state;
  tr_dist d[3];
  parse(&d[0], "normal(0, 1)");
  parse(&d[1], "normal(0, 1)");
  parse(&d[2], "normal(0, 1)");
  const double bad[9] = {1, 0.9, -0.9, 0.9, 1, 0.9, -0.9, 0.9, 1};
  tr_sampler *s;
  tr_error err;
  assert_int_equal(tr_sampler_new(&s, d, 3, 5000, TR_SAMPLING_MC, 5, bad, NULL, &err), TR_OK);
  assert_non_null(strstr(tr_sampler_warning(s), "not positive semi-definite"));
  const double *rep = tr_sampler_corr(s);
  double w[3];
  assert_int_equal(tr_sym_eigen(rep, 3, w, NULL), TR_OK);
  assert_true(w[0] > -1e-9);
  double *x = draw(s, 5000, 3, 5);
  double rho;
  assert_int_equal(tr_spearman(&x[0], 3, &x[1], 3, 5000, &rho), TR_OK);
  assert_true(fabs(rho - rep[1]) < 0.03);
  free(x);
  tr_sampler_free(s);

  const char *names[3] = {"price", "churn", "growth"};
  const double out_of_range[9] = {1, 1.2, 0, 1.2, 1, 0, 0, 0, 1};
  assert_int_equal(tr_sampler_new(&s, d, 3, 10, TR_SAMPLING_MC, 5, out_of_range, names, &err),
                   TR_ERR_INVALID);
  assert_non_null(strstr(err.msg, "'price' and 'churn' must be in [-1, 1] (got 1.2)"));
  const double asym[9] = {1, 0.2, 0, 0.3, 1, 0, 0, 0, 1};
  assert_int_equal(tr_sampler_new(&s, d, 3, 10, TR_SAMPLING_MC, 5, asym, names, &err),
                   TR_ERR_INVALID);
  assert_non_null(strstr(err.msg, "not symmetric"));
  const double diag[9] = {1, 0, 0, 0, 0.5, 0, 0, 0, 1};
  assert_int_equal(tr_sampler_new(&s, d, 3, 10, TR_SAMPLING_MC, 5, diag, NULL, &err),
                   TR_ERR_INVALID);
  assert_non_null(strstr(err.msg, "input 2 with itself must be 1"));
  assert_int_equal(tr_sampler_new(&s, d, 3, 0, TR_SAMPLING_LHS, 5, NULL, NULL, &err),
                   TR_ERR_INVALID);
  assert_null(s);
  tr_sampler_free(NULL);

  /* Fewer runs than it takes to correlate the inputs: as with fewer than 3, a warning and
   * uncorrelated inputs (it was an error for 3 <= runs <= inputs only). */
  const double c3[9] = {1, 0.5, 0.2, 0.5, 1, 0.1, 0.2, 0.1, 1};
  for (size_t n = 1; n <= 3; n++) { /* n centred scores span at most n - 1 < 3 directions */
    assert_int_equal(tr_sampler_new(&s, d, 3, n, TR_SAMPLING_MC, 5, c3, NULL, &err), TR_OK);
    assert_non_null(strstr(tr_sampler_warning(s), "inputs are not correlated"));
    tr_sampler_free(s);
  }
  assert_int_equal(tr_sampler_new(&s, d, 3, 40, TR_SAMPLING_MC, 5, c3, NULL, &err), TR_OK);
  assert_string_equal(tr_sampler_warning(s), "");
  tr_sampler_free(s);
}

/* sample-6: MC rows are the distribution quantiles of successive uniforms of stream (seed, i),
 * and exactly k draws are consumed, correlated or not. */
static void test_stream_contract(void **state) {
  (void)state;
  tr_dist d[2];
  parse(&d[0], "uniform(0, 1)");
  parse(&d[1], "uniform(0, 1)");
  const double c[4] = {1, 0.5, 0.5, 1};
  for (int corr = 0; corr < 2; corr++) {
    tr_sampler *s;
    assert_int_equal(tr_sampler_new(&s, d, 2, 50, TR_SAMPLING_MC, 3, corr ? c : NULL, NULL, NULL),
                     TR_OK);
    tr_rng r, ref;
    tr_rng_seed_stream(&r, 3, 7);
    tr_rng_seed_stream(&ref, 3, 7);
    double row[2];
    tr_sampler_row(s, 7, &r, row);
    double u0 = tr_rng_uniform_pos(&ref), u1 = tr_rng_uniform_pos(&ref);
    if (!corr) assert_true(row[0] == u0 && row[1] == u1);
    assert_true(tr_rng_next(&r) == tr_rng_next(&ref));
    tr_sampler_free(s);
  }
}

/* sample-7: allocation failures while building a correlated LHS sampler are reported. */
static void test_alloc_failure(void **state) {
  (void)state;
  tr_dist d[2];
  parse(&d[0], "uniform(0, 1)");
  parse(&d[1], "normal(0, 1)");
  const double c[4] = {1, -0.5, -0.5, 1};
  int saw_ok = 0;
  for (long n = 1; n < 40; n++) {
    tr_sampler *s;
    tr_error err;
    tr_alloc_fail_after(n, 0);
    int rc = tr_sampler_new(&s, d, 2, 100, TR_SAMPLING_LHS, 1, c, NULL, &err);
    tr_alloc_fail_after(0, 0);
    assert_true(rc == TR_OK || rc == TR_ERR_NOMEM);
    if (rc == TR_OK) saw_ok = 1;
    tr_sampler_free(s);
  }
  assert_true(saw_ok);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lhs_strata),
      cmocka_unit_test(test_lhs_variance_reduction),
      cmocka_unit_test(test_iman_conover),
      cmocka_unit_test(test_nearest_correlation),
      cmocka_unit_test(test_sampler_repair_and_errors),
      cmocka_unit_test(test_stream_contract),
      cmocka_unit_test(test_alloc_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
