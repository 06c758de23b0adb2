/* Unit tests: SPC early warning against the worked example and check values of
 * shared/reference/kpi-scoring.md §2 (XmR limits; rule 1 at points 14, 16, 17, 18; "8
 * successive above CL" at 18; CUSUM and EWMA first alarm at 13; Anhøj limits), the Nelson
 * rules on constructed series, the tension imbalance signal, bad parameters and allocation
 * failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "strategy/spc.h"
#include "tightrope/base.h"

#include <math.h>
#include <string.h>

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* Baseline 10 points, then points 11-18. */
static const double worked[18] = {10, 12, 11, 13, 12, 11, 10, 12, 13,
                                  11, 14, 15, 15, 16, 15, 16, 17, 16};

/* Indexes (0-based) at which `rule` signalled, into idx; returns how many. */
static size_t signalled(const tr_spc_signals *s, const char *rule, size_t *idx, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->items[i].rule, rule) == 0) {
      if (k < cap) idx[k] = s->items[i].index;
      k++;
    }
  return k;
}

static const tr_spc_signal *first(const tr_spc_signals *s, const char *rule) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->items[i].rule, rule) == 0) return &s->items[i];
  return NULL;
}

static void test_xmr_limits(void **state) {
  (void)state;
  tr_xmr l;
  tr_error err;
  tr_error_clear(&err);
  assert_int_equal(tr_spc_xmr(worked, 10, &l, &err), TR_OK);
  NEAR(l.mean, 11.5, 1e-12);
  NEAR(l.mr_bar, 1.4444, 5e-5);
  NEAR(l.sigma, 1.2805, 5e-5);
  NEAR(l.unpl, 15.3422, 5e-5);
  NEAR(l.lnpl, 7.6578, 5e-5);
  NEAR(l.url, 4.7204, 5e-5);
  /* the constants: 2.66 = 3/d2, D4 = 1 + 3 d3/d2 with d2 = 2/sqrt(pi), d3 = sqrt(2 - 4/pi) */
  const double pi = 3.14159265358979323846;
  double d2 = 2 / sqrt(pi), d3 = sqrt(2 - 4 / pi);
  NEAR(TR_SPC_D2, d2, 5e-4);
  NEAR(TR_SPC_E2, 3 / d2, 2e-3);
  NEAR(TR_SPC_D4, 1 + 3 * d3 / d2, 2e-3);
  /* bad input */
  assert_int_equal(tr_spc_xmr(worked, 1, &l, &err), TR_ERR_INVALID);
  assert_non_null(strstr(tr_error_text(&err), "at least 2 points"));
  const double bad[] = {1, NAN, 3};
  assert_int_equal(tr_spc_xmr(bad, 3, &l, &err), TR_ERR_INVALID);
  assert_non_null(strstr(tr_error_text(&err), "point 2"));
}

static void test_western_electric(void **state) {
  (void)state;
  tr_xmr l;
  tr_error err;
  tr_error_clear(&err);
  assert_int_equal(tr_spc_xmr(worked, 10, &l, &err), TR_OK);
  tr_spc_signals s;
  tr_spc_signals_init(&s);
  assert_int_equal(tr_spc_rules(worked, 18, &l, TR_SPC_WESTERN_ELECTRIC, &s, &err), TR_OK);
  size_t idx[20];
  /* rule 1 at points 14, 16, 17, 18 */
  assert_int_equal(signalled(&s, "WE1", idx, 20), 4);
  assert_int_equal(idx[0], 13);
  assert_int_equal(idx[1], 15);
  assert_int_equal(idx[2], 16);
  assert_int_equal(idx[3], 17);
  assert_string_equal(first(&s, "WE1")->text,
                      "point 14 (16) is above the upper natural process limit 15.34");
  assert_int_equal(first(&s, "WE1")->side, 1);
  /* eight successive above the centre line: completes at point 18 */
  assert_int_equal(signalled(&s, "WE4", idx, 20), 1);
  assert_int_equal(idx[0], 17);
  /* 2 of 3 beyond 2 sigma (> 14.061): points 12 and 13 are 15 -> at point 13 */
  assert_true(signalled(&s, "WE2", idx, 20) >= 1);
  assert_int_equal(idx[0], 12);
  /* 4 of 5 beyond 1 sigma (> 12.78): points 9, 11, 12, 13 -> at point 13 */
  assert_true(signalled(&s, "WE3", idx, 20) >= 1);
  assert_int_equal(idx[0], 12);
  /* nothing in the baseline, no moving range beyond 4.72 */
  for (size_t i = 0; i < s.n; i++)
    assert_true(s.items[i].index >= 10);
  assert_int_equal(signalled(&s, "MR", idx, 20), 0);
  tr_spc_signals_free(&s);
  tr_spc_signals_free(NULL);
}

static void test_nelson(void **state) {
  (void)state;
  tr_xmr l;
  tr_error err;
  tr_error_clear(&err);
  assert_int_equal(tr_spc_xmr(worked, 10, &l, &err), TR_OK);
  tr_spc_signals s;
  tr_spc_signals_init(&s);
  assert_int_equal(tr_spc_rules(worked, 18, &l, TR_SPC_NELSON, &s, &err), TR_OK);
  size_t idx[20];
  assert_int_equal(signalled(&s, "N1", idx, 20), 4);
  assert_int_equal(signalled(&s, "N2", idx, 20), 0); /* only 8 in a row above, not 9 */
  assert_int_equal(signalled(&s, "N3", idx, 20), 0); /* 14, 15, 15 is not increasing */
  tr_spc_signals_free(&s);

  /* constructed series around centre 0, sigma 1 */
  tr_xmr u;
  memset(&u, 0, sizeof u);
  u.sigma = 1;
  u.unpl = 3;
  u.lnpl = -3;
  u.url = 100;
  const double rising[] = {-0.5, -0.4, -0.2, 0.1, 0.3, 0.6};
  assert_int_equal(tr_spc_rules(rising, 6, &u, TR_SPC_NELSON, &s, &err), TR_OK);
  assert_int_equal(signalled(&s, "N3", idx, 20), 1);
  assert_int_equal(idx[0], 5);
  assert_string_equal(first(&s, "N3")->text, "6 points in a row up to point 6 are all increasing");
  tr_spc_signals_free(&s);
  double alt[15];
  for (int i = 0; i < 15; i++)
    alt[i] = i % 2 ? 0.5 : -0.5;
  assert_int_equal(tr_spc_rules(alt, 15, &u, TR_SPC_NELSON, &s, &err), TR_OK);
  assert_int_equal(signalled(&s, "N4", idx, 20), 2); /* points 14 and 15 */
  assert_int_equal(idx[0], 13);
  assert_int_equal(signalled(&s, "N7", idx, 20), 1); /* 15 hugging the centre line */
  assert_int_equal(idx[0], 14);
  tr_spc_signals_free(&s);
  double wide[8];
  for (int i = 0; i < 8; i++)
    wide[i] = i % 2 ? 1.5 : -1.5;
  assert_int_equal(tr_spc_rules(wide, 8, &u, TR_SPC_NELSON, &s, &err), TR_OK);
  assert_int_equal(signalled(&s, "N8", idx, 20), 1);
  assert_int_equal(idx[0], 7);
  assert_int_equal(signalled(&s, "N6", idx, 20), 0); /* never 4 of 5 on one side */
  tr_spc_signals_free(&s);
  /* a NAN breaks runs: 9 above with a gap is no N2 */
  const double gap[] = {1, 1, 1, 1, NAN, 1, 1, 1, 1, 1};
  assert_int_equal(tr_spc_rules(gap, 10, &u, TR_SPC_NELSON, &s, &err), TR_OK);
  assert_int_equal(signalled(&s, "N2", idx, 20), 0);
  tr_spc_signals_free(&s);
  /* moving range beyond the upper range limit */
  u.url = 2;
  const double jump[] = {0, 0.1, 2.5, 2.4};
  assert_int_equal(tr_spc_rules(jump, 4, &u, TR_SPC_WESTERN_ELECTRIC, &s, &err), TR_OK);
  assert_int_equal(signalled(&s, "MR", idx, 20), 1);
  assert_int_equal(idx[0], 2);
  tr_spc_signals_free(&s);
}

static void test_ewma_cusum(void **state) {
  (void)state;
  tr_xmr l;
  tr_error err;
  tr_error_clear(&err);
  assert_int_equal(tr_spc_xmr(worked, 10, &l, &err), TR_OK);
  tr_spc_signals s;
  tr_spc_signals_init(&s);
  double z[18];
  assert_int_equal(tr_spc_ewma(worked, 18, l.mean, l.sigma, TR_EWMA_LAMBDA, TR_EWMA_L, &s, z, &err),
                   TR_OK);
  assert_true(s.n > 0);
  /* first alarm at point 13: z = 13.1191 > UCL_13 = 12.7786 */
  assert_int_equal(s.items[0].index, 12);
  NEAR(z[12], 13.1191, 5e-5);
  NEAR(z[11], 12.6489, 5e-5); /* below UCL_12 = 12.7775 */
  assert_non_null(strstr(s.items[0].text, "12.7786"));
  assert_non_null(strstr(s.items[0].text, "point 13"));
  assert_int_equal(s.items[0].side, 1);
  tr_spc_signals_free(&s);

  double cp[18], cm[18];
  assert_int_equal(
      tr_spc_cusum(worked, 18, l.mean, l.sigma, TR_CUSUM_K, TR_CUSUM_H, &s, cp, cm, &err), TR_OK);
  assert_true(s.n > 0);
  assert_string_equal(s.items[0].rule, "CUSUM+");
  assert_int_equal(s.items[0].index, 12);
  NEAR(cp[12], 7.5792, 5e-5);
  NEAR(cp[11], 4.7195, 5e-4); /* below H = 5.122 */
  assert_true(cm[17] == 0);
  assert_non_null(strstr(s.items[0].text, "7.5792"));
  tr_spc_signals_free(&s);
  /* earlier than the Shewhart rule 1 (point 14): the reason EWMA/CUSUM exist */

  /* a downward shift trips the lower CUSUM */
  double down[12];
  for (int i = 0; i < 12; i++)
    down[i] = i < 6 ? 10 : 7;
  assert_int_equal(tr_spc_cusum(down, 12, 10, 1, 0.5, 4, &s, NULL, NULL, &err), TR_OK);
  assert_string_equal(s.items[0].rule, "CUSUM-");
  assert_int_equal(s.items[0].index, 7); /* 2.5, 5.0 > 4 */
  assert_non_null(strstr(s.items[0].text, "about 7"));
  tr_spc_signals_free(&s);

  /* bad parameters */
  assert_int_equal(tr_spc_ewma(worked, 18, 0, 1, 0, 3, &s, NULL, &err), TR_ERR_INVALID);
  assert_int_equal(tr_spc_ewma(worked, 18, 0, 0, 0.2, 3, &s, NULL, &err), TR_ERR_INVALID);
  assert_int_equal(tr_spc_cusum(worked, 18, 0, 1, 0.5, 0, &s, NULL, NULL, &err), TR_ERR_INVALID);
  assert_int_equal(tr_spc_cusum(worked, 18, 0, 1, -1, 4, &s, NULL, NULL, &err), TR_ERR_INVALID);
  assert_int_equal(s.n, 0);
}

static void test_anhoj(void **state) {
  (void)state;
  /* n: max run, min crossings (kpi-scoring.md §2.2) */
  static const size_t tab[][3] = {{10, 6, 2}, {12, 7, 3},  {14, 7, 4}, {16, 7, 4},
                                  {18, 7, 5}, {20, 7, 6},  {22, 7, 7}, {24, 8, 8},
                                  {26, 8, 8}, {30, 8, 10}, {40, 8, 14}};
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
    assert_int_equal(tr_spc_anhoj_max_run(tab[i][0]), tab[i][1]);
    assert_int_equal(tr_spc_anhoj_min_crossings(tab[i][0]), tab[i][2]);
  }
  /* the worked series: median 13, 16 useful points, runs of 8 below then 8 above */
  tr_spc_signals s;
  tr_spc_signals_init(&s);
  tr_error err;
  tr_error_clear(&err);
  assert_int_equal(tr_spc_rules(worked, 18, NULL, TR_SPC_ANHOJ, &s, &err), TR_OK);
  assert_int_equal(s.n, 2);
  assert_string_equal(s.items[0].rule, "RUN");
  assert_non_null(strstr(s.items[0].text, "a run of 8 points"));
  assert_non_null(strstr(s.items[0].text, "longer than 7"));
  assert_string_equal(s.items[1].rule, "CROSSINGS");
  assert_non_null(strstr(s.items[1].text, "only 1 times in 16 points (fewer than 4)"));
  tr_spc_signals_free(&s);
  /* a random-looking series raises nothing */
  const double calm[] = {5, 7, 4, 6, 5, 8, 3, 6, 4, 7, 5, 6};
  assert_int_equal(tr_spc_rules(calm, 12, NULL, TR_SPC_ANHOJ, &s, &err), TR_OK);
  assert_int_equal(s.n, 0);
  tr_spc_signals_free(&s);
}

static void test_trend_and_imbalance(void **state) {
  (void)state;
  double slope, t;
  const double line[] = {1, 2, 3, 4};
  tr_spc_trend(line, 4, &slope, &t);
  NEAR(slope, 1, 1e-12);
  assert_true(isinf(t) && t > 0);
  const double flat[] = {2, 2, 2};
  tr_spc_trend(flat, 3, &slope, &t);
  assert_true(slope == 0 && t == 0);
  /* y = 0, 1, 0, 1: slope 0.2, residual SS 0.8, se = sqrt(0.4 / 5) */
  const double zig[] = {0, 1, 0, 1};
  tr_spc_trend(zig, 4, &slope, &t);
  NEAR(slope, 0.2, 1e-12);
  NEAR(t, 0.2 / sqrt(0.4 / 5), 1e-12);
  NEAR(tr_spc_t95(4), 2.132, 1e-9);
  NEAR(tr_spc_t95(100), 1.6602, 5e-4);
  NEAR(tr_spc_t95(1000), 1.6464, 5e-4);

  /* acquisition keeps improving while retention slides */
  const double a[] = {0.50, 0.50, 0.55, 0.58, 0.62, 0.66, 0.70, 0.74};
  const double b[] = {0.60, 0.61, 0.60, 0.56, 0.53, 0.49, 0.47, 0.43};
  tr_spc_signals s;
  tr_spc_signals_init(&s);
  tr_error err;
  tr_error_clear(&err);
  assert_int_equal(
      tr_spc_imbalance(a, b, 8, TR_IMBALANCE_WINDOW, TR_IMBALANCE_MIN_CHANGE, &s, &err), TR_OK);
  /* by hand, window of periods 1-6: A +0.170 (t = 11.1), B -0.119 (t = -5.1), t95(4) = 2.132 */
  assert_int_equal(s.n, 3);
  assert_string_equal(s.items[0].rule, "IMBALANCE");
  assert_int_equal(s.items[0].side, 1);
  assert_int_equal(s.items[0].index, 5);
  assert_non_null(strstr(s.items[0].text, "periods 1-6: pole A improved by 0.17 while pole B "
                                          "fell by 0.12 (trend t = 11.1, -5.1)"));
  assert_non_null(strstr(s.items[0].text, "B is being starved"));
  tr_spc_signals_free(&s);
  /* swapped poles: the other side */
  assert_int_equal(tr_spc_imbalance(b, a, 8, 6, 0.05, &s, &err), TR_OK);
  assert_true(s.n >= 1 && s.items[0].side == -1);
  tr_spc_signals_free(&s);
  /* both improving: no imbalance */
  assert_int_equal(tr_spc_imbalance(a, a, 8, 6, 0.05, &s, &err), TR_OK);
  assert_int_equal(s.n, 0);
  /* opposite but immaterial trends: change below min_change */
  const double a2[] = {0.500, 0.502, 0.504, 0.506, 0.508, 0.510};
  const double b2[] = {0.600, 0.598, 0.596, 0.594, 0.592, 0.590};
  assert_int_equal(tr_spc_imbalance(a2, b2, 6, 6, 0.05, &s, &err), TR_OK);
  assert_int_equal(s.n, 0);
  /* noise without trend */
  const double n1[] = {0.5, 0.6, 0.45, 0.62, 0.48, 0.58};
  const double n2[] = {0.5, 0.4, 0.55, 0.41, 0.52, 0.44};
  assert_int_equal(tr_spc_imbalance(n1, n2, 6, 6, 0.05, &s, &err), TR_OK);
  assert_int_equal(s.n, 0);
  assert_int_equal(tr_spc_imbalance(a, b, 8, 2, 0.05, &s, &err), TR_ERR_INVALID);
}

/* kpi-scoring.md §2.3/2.4: ARLs computed independently by Markov chain (and Montgomery's
 * table for lambda = 0.1, L = 2.814), Shewhart 370.4. */
static void test_arl(void **state) {
  (void)state;
  tr_error err;
  tr_error_clear(&err);
  double a;
  NEAR(tr_spc_shewhart_arl(3, 0), 370.4, 0.05);
  static const struct {
    int ewma;
    double p1, p2, shift, want, tol;
  } cases[] = {
      {0, 0.5, 4, 0, 167.7, 0.1},     {0, 0.5, 4, 1, 8.38, 0.01},     {0, 0.5, 5, 0, 465.4, 0.1},
      {0, 0.5, 5, 1, 10.38, 0.01},    {1, 0.2, 3, 0, 560, 1},         {1, 0.2, 3, 1, 10.8, 0.05},
      {1, 0.2, 2.962, 0, 500, 1},     {1, 0.2, 2.962, 1, 10.5, 0.05}, {1, 0.1, 2.814, 0, 499, 1},
      {1, 0.1, 2.814, 1, 10.3, 0.05},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = cases[i].ewma ? tr_spc_ewma_arl(cases[i].p1, cases[i].p2, cases[i].shift, &a, &err)
                           : tr_spc_cusum_arl(cases[i].p1, cases[i].p2, cases[i].shift, &a, &err);
    assert_int_equal(rc, TR_OK);
    if (fabs(a - cases[i].want) > cases[i].tol)
      fail_msg("ARL case %zu: got %g, wanted %g", i, a, cases[i].want);
  }
  /* a downward shift is caught as fast as an upward one */
  double up, down;
  assert_int_equal(tr_spc_cusum_arl(0.5, 4, 1, &up, &err), TR_OK);
  assert_int_equal(tr_spc_cusum_arl(0.5, 4, -1, &down, &err), TR_OK);
  NEAR(up, down, 1e-9);
  assert_int_equal(tr_spc_cusum_arl(0.5, 0, 0, &a, &err), TR_ERR_INVALID);
  assert_int_equal(tr_spc_ewma_arl(1.5, 3, 0, &a, &err), TR_ERR_INVALID);
  tr_alloc_fail_after(1, 0);
  assert_int_equal(tr_spc_ewma_arl(0.2, 3, 0, &a, &err), TR_ERR_NOMEM);
  tr_alloc_fail_after(0, 0);
}

static void test_alloc_failure(void **state) {
  (void)state;
  tr_xmr l;
  tr_error err;
  tr_error_clear(&err);
  assert_int_equal(tr_spc_xmr(worked, 10, &l, &err), TR_OK);
  tr_spc_signals s;
  tr_spc_signals_init(&s);
  tr_alloc_fail_after(1, 1);
  int rc = tr_spc_rules(worked, 18, &l, TR_SPC_WESTERN_ELECTRIC, &s, &err);
  int rc2 = tr_spc_rules(worked, 18, NULL, TR_SPC_ANHOJ, &s, &err);
  int rc3 = tr_spc_cusum(worked, 18, l.mean, l.sigma, 0.5, 4, &s, NULL, NULL, &err);
  tr_alloc_fail_after(0, 0);
  assert_int_equal(rc, TR_ERR_NOMEM);
  assert_int_equal(rc2, TR_ERR_NOMEM);
  assert_int_equal(rc3, TR_ERR_NOMEM);
  tr_spc_signals_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_xmr_limits), cmocka_unit_test(test_western_electric),
      cmocka_unit_test(test_nelson),     cmocka_unit_test(test_ewma_cusum),
      cmocka_unit_test(test_anhoj),      cmocka_unit_test(test_trend_and_imbalance),
      cmocka_unit_test(test_arl),        cmocka_unit_test(test_alloc_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
