/* Unit tests: balance metrics with hand-computed values (docs/balance.md): measure scores,
 * pole scores, balanced/combined dimensions, per-tension balance, the Strategic Balance
 * Index with zeros and missing tensions, and a whole plan (the docs/plan.md example). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "strategy/balance.h"
#include "tightrope/base.h"
#include "tightrope/strategy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static void test_measure_scores(void **state) {
  (void)state;
  tr_measure m;
  memset(&m, 0, sizeof m);
  m.weight = 1;
  m.direction = TR_DIR_HIGHER;
  m.target = 4;
  NEAR(tr_measure_score(&m, 3), 0.75, 1e-12); /* ratio 3/4 */
  NEAR(tr_measure_score(&m, 6), 1.0, 0);      /* capped */
  NEAR(tr_measure_score(&m, -1), 0.0, 0);
  m.has_worst = 1;
  m.worst = 2;
  NEAR(tr_measure_score(&m, 3), 0.5, 1e-12); /* (3 - 2)/(4 - 2) */
  NEAR(tr_measure_score(&m, 1), 0.0, 0);
  m.direction = TR_DIR_LOWER; /* churn: target 2%, ratio */
  m.has_worst = 0;
  m.target = 0.02;
  NEAR(tr_measure_score(&m, 0.04), 0.5, 1e-12);
  NEAR(tr_measure_score(&m, 0.01), 1.0, 0);
  m.has_worst = 1; /* linear: worst 5% */
  m.worst = 0.05;
  NEAR(tr_measure_score(&m, 0.04), 1.0 / 3, 1e-12);
  m.direction = TR_DIR_BAND; /* backlog days in [1, 3], tolerance 4 */
  m.band_low = 1;
  m.band_high = 3;
  m.tolerance = 4;
  NEAR(tr_measure_score(&m, 2), 1.0, 0);
  NEAR(tr_measure_score(&m, 5), 0.5, 1e-12);
  NEAR(tr_measure_score(&m, 0), 0.75, 1e-12);
  NEAR(tr_measure_score(&m, 8), 0.0, 0);
  assert_true(isnan(tr_measure_score(&m, NAN)));
}

static void test_pole_score(void **state) {
  (void)state;
  tr_measure ms[2];
  memset(ms, 0, sizeof ms);
  ms[0].direction = ms[1].direction = TR_DIR_HIGHER;
  ms[0].target = 10;
  ms[0].weight = 3;
  ms[1].target = 1;
  ms[1].weight = 1;
  tr_pole pole = {"p", ms, 2, {0, 0}};
  const double v[] = {5, 1};
  NEAR(tr_pole_score(&pole, v), (3 * 0.5 + 1) / 4, 1e-12);
  const double v2[] = {NAN, 0.2};
  NEAR(tr_pole_score(&pole, v2), 0.2, 1e-12);
  const double v3[] = {NAN, NAN};
  assert_true(isnan(tr_pole_score(&pole, v3)));
}

static void test_tension_dimensions(void **state) {
  (void)state;
  tr_tension_balance t;
  tr_balance_tension(0.8, 0.4, &t);
  NEAR(t.balanced, 0.6, 1e-12);
  NEAR(t.combined, 0.32, 1e-12);
  NEAR(t.balance, 0.5825901260, 1e-9);
  assert_int_equal(t.over_served, 0);
  tr_balance_tension(0.6, 0.6, &t);
  NEAR(t.balanced, 1.0, 0);
  NEAR(t.combined, 0.36, 1e-12);
  NEAR(t.balance, 0.7745966692, 1e-9);
  assert_int_equal(t.over_served, -1);
  /* same mean (0.6) but lopsided scores lower */
  tr_balance_tension(0.9, 0.3, &t);
  assert_true(t.balance < 0.7745966692);
  NEAR(t.balance, 0.4559, 1e-4); /* sqrt(0.4 * sqrt(0.27)), quoted in docs/balance.md */
  assert_int_equal(t.over_served, 0);
  tr_balance_tension(0.2, 0.9, &t);
  assert_int_equal(t.over_served, 1);
  /* a starved pole zeroes the tension whatever the other does */
  tr_balance_tension(1.0, 0.0, &t);
  NEAR(t.balanced, 0.0, 0);
  NEAR(t.balance, 0.0, 0);
  tr_balance_tension(0.50, 0.54, &t); /* within the tie band */
  assert_int_equal(t.over_served, -1);
  tr_balance_tension(1.0, 1.0, &t);
  NEAR(t.balance, 1.0, 0);
  tr_balance_tension(1.7, -0.2, &t); /* clamped */
  NEAR(t.a, 1.0, 0);
  NEAR(t.b, 0.0, 0);
  tr_balance_tension(NAN, 0.5, &t);
  assert_true(isnan(t.balance));
  assert_int_equal(t.over_served, -1);
}

static void test_index(void **state) {
  (void)state;
  const double b[] = {0.7745966692414834, 0.5825901260487881};
  const double w[] = {2, 1};
  NEAR(tr_balance_index(b, w, 2), 0.704430454367226, 1e-12);
  /* the geometric mean is below the arithmetic one: neglect costs more */
  assert_true(tr_balance_index(b, w, 2) < (2 * b[0] + b[1]) / 3);
  /* a zero counts as the floor 0.01: sqrt(0.01 * 1) = 0.1 */
  const double z[] = {0.0, 1.0}, w1[] = {1, 1};
  NEAR(tr_balance_index(z, w1, 2), 0.1, 1e-12);
  /* a tension without a score drops out with its weight */
  const double m[] = {NAN, 0.64};
  NEAR(tr_balance_index(m, w1, 2), 0.64, 1e-12);
  const double none[] = {NAN, NAN};
  assert_true(isnan(tr_balance_index(none, w1, 2)));
  const double zw[] = {0, 0};
  assert_true(isnan(tr_balance_index(b, zw, 2)));
}

/* Values for the docs/plan.md example: looked up by variable or KPI name. */
static double example_value(void *ud, const tr_tension *t, int pole, const tr_measure *m) {
  (void)ud;
  (void)t;
  (void)pole;
  static const struct {
    const char *name;
    double v;
  } table[] = {{"features shipped per month", 3}, {"release_cadence", 1}, {"churn", 0.03},
               {"support backlog days", 5},       {"new_customers", 30},  {"nrr", 1.0}};
  const char *name = m->variable ? m->variable : m->kpi;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(table[i].name, name) == 0) return table[i].v;
  return NAN;
}

static char *doc_example(void) {
  FILE *f = fopen("docs/plan.md", "rb");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *m = strstr(buf, "<!-- plan-example -->");
  char *start = m ? strstr(m, "```yaml\n") : NULL;
  char *end = start ? strstr(start + 8, "\n```") : NULL;
  if (!end) return NULL;
  end[1] = '\0';
  return start + 8;
}

static void test_plan_balance(void **state) {
  (void)state;
  char *yaml = doc_example();
  assert_non_null(yaml);
  tr_plan *p = NULL;
  tr_error err;
  tr_error_clear(&err);
  assert_int_equal(tr_plan_load_buffer(yaml, strlen(yaml), "plan.yaml", &p, &err), TR_OK);
  tr_tension_balance out[2];
  double sbi = 0;
  assert_int_equal(tr_balance_evaluate(p, example_value, NULL, out, &sbi, &err), TR_OK);
  /* innovation vs support: A = (3/4 * 1 + 1/2 * 0.5) / 1.5, B = (0.02/0.03 + 0.5) / 2 */
  NEAR(out[0].a, 2.0 / 3, 1e-12);
  NEAR(out[0].b, 7.0 / 12, 1e-12);
  NEAR(out[0].balance, 0.7560701692, 1e-9);
  assert_int_equal(out[0].over_served, 0);
  /* acquisition vs retention: A = 30/40, B = 1/1.05 */
  NEAR(out[1].a, 0.75, 1e-12);
  NEAR(out[1].b, 1 / 1.05, 1e-12);
  NEAR(out[1].balance, 0.8210427101, 1e-9);
  assert_int_equal(out[1].over_served, 1);
  /* weights 2 and 1 */
  NEAR(sbi, 0.7771353278, 1e-9);
  tr_alloc_fail_after(1, 1);
  assert_int_equal(tr_balance_evaluate(p, example_value, NULL, out, &sbi, &err), TR_ERR_NOMEM);
  tr_alloc_fail_after(0, 0);
  tr_plan_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_measure_scores),     cmocka_unit_test(test_pole_score),
      cmocka_unit_test(test_tension_dimensions), cmocka_unit_test(test_index),
      cmocka_unit_test(test_plan_balance),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
