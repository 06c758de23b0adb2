/* Unit tests: `assess` under the plan's scenarios, which it runs on models with the scenarios'
 * shocks written in (tr_plan_mc_load_model, the mechanism of `scenarios` and the server), so a
 * shock on a flow, on a graphical input or on a constant bound to a lever acts as it does
 * there. Numbers checked by hand on a one-stock model; bad shocks and allocation failure.
 * IDs assess-N in failure messages.
 *
 * The model: level(0) = 100, level' = growth = rate * demand_curve, rate = 10 (the lever
 * sets it: share 0.5 of scale 20), demand_curve a graphical function of TIME that is 1
 * everywhere; Euler, dt 1, 0..10. So level(10) = 100 + Σ_{t=0..9} growth(t) = 200.
 * The plan's one tension has the same measure on both poles, level against a target of
 * 1000 (score a = level/1000): balanced 1, combined a², balance √a, and the SBI is √a. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "strategy/assess.h"
#include "tightrope/base.h"
#include "tightrope/strategy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char model_xml[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<xmile version=\"1.0\" xmlns=\"http://docs.oasis-open.org/xmile/ns/XMILE/v1.0\">\n"
    "<header><name>shock test</name></header>\n"
    "<sim_specs method=\"Euler\"><start>0</start><stop>10</stop><dt>1</dt></sim_specs>\n"
    "<model><variables>\n"
    "<stock name=\"level\"><eqn>100</eqn><inflow>growth</inflow></stock>\n"
    "<flow name=\"growth\"><eqn>rate * Demand_Curve</eqn></flow>\n"
    "<aux name=\"rate\"><eqn>10</eqn></aux>\n"
    "<aux name=\"Demand Curve\"><eqn>TIME</eqn><gf><xscale min=\"0\" max=\"10\"/>"
    "<ypts>1,1,1,1,1,1,1,1,1,1,1</ypts></gf></aux>\n"
    "</variables></model>\n"
    "</xmile>\n";

#define PLAN_HEAD                                                                                  \
  "company: {name: Shock Co, horizon: 10}\n"                                                       \
  "tensions:\n"                                                                                    \
  "  - id: growth\n"                                                                               \
  "    poles:\n"                                                                                   \
  "      - {name: A, measures: [{variable: level, target: 1000}]}\n"                               \
  "      - {name: B, measures: [{variable: level, target: 1000}]}\n"                               \
  "    lever: {resource: money, bind: [{constant: rate, scale: 20}], current: 0.5}\n"

/* Each scenario's level(10) is in its comment; assess-1 checks them in this order. */
static const char plan_yaml[] =
    PLAN_HEAD "scenarios:\n"
              "  - name: flow step\n" /* 100 + 5*10 + 5*5 = 175 */
              "    shocks: [{variable: growth, kind: step, start: 5, magnitude: 0.5}]\n"
              "  - name: curve step\n" /* 100 + 5*10 + 5*20 = 250 */
              "    shocks: [{variable: demand curve, kind: step, start: 5, magnitude: 2}]\n"
              "  - name: lever step\n" /* the lever's 10, halved from 5: 175 */
              "    shocks: [{variable: rate, kind: step, start: 5, magnitude: 0.5}]\n"
              "  - name: flow ramp\n" /* 100 + 10 * Σ (1 - t/10) over t = 0..9 = 155 */
              "    shocks: [{variable: growth, kind: ramp, start: 0, end: 10, magnitude: 0}]\n"
              "  - name: override and pulse\n" /* rate 20, minus 5 at t = 2, 3: 290 */
              "    overrides: {rate: 20}\n"
              "    shocks: [{variable: growth, kind: pulse, start: 2, end: 4, magnitude: -5, "
              "mode: add}]\n"
              "  - name: curve path\n" /* 40, then 10 * (1, 1.5, 2, 2.5, 3, 3) from t = 4: 270 */
              "    shocks: [{variable: demand curve, kind: path, points: [[4, 1], [8, 3]]}]\n"
              "  - name: no shock\n" /* overrides only: the plan's model, rate 15: 250 */
              "    overrides: {rate: 15}\n";

static const double want_level[] = {200, 175, 250, 175, 155, 290, 270, 250};

static char dir[64], model_path[128];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/tr_test_assess.XXXXXX");
  if (!mkdtemp(dir)) return -1;
  snprintf(model_path, sizeof model_path, "%s/model.xmile", dir);
  FILE *f = fopen(model_path, "wb");
  if (!f) return -1;
  int ok = fputs(model_xml, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  unlink(model_path);
  rmdir(dir);
  return 0;
}

/* Assess `yaml` on the model file with `runs` runs; the caller frees *a, *plan, *model. */
static int assess(const char *yaml, size_t runs, tr_model **model, tr_plan **plan, tr_assess **a,
                  tr_error *err) {
  *model = NULL;
  *plan = NULL;
  *a = NULL;
  tr_error_clear(err);
  int rc = tr_plan_load_buffer(yaml, strlen(yaml), "plan.yaml", plan, err);
  if (!rc) rc = tr_model_load_file(model_path, model, err);
  tr_assess_opts o;
  tr_assess_opts_init(&o);
  o.runs = runs;
  if (!rc) rc = tr_assess_run(*plan, *model, &o, a, err);
  return rc;
}

static void release(tr_model *model, tr_plan *plan, tr_assess *a) {
  tr_assess_free(a);
  tr_plan_free(plan);
  tr_model_free(model);
}

static void test_shocked_scenarios(void **state) {
  (void)state;
  tr_model *m;
  tr_plan *p;
  tr_assess *a;
  tr_error err;
  int rc = assess(plan_yaml, 3, &m, &p, &a, &err);
  if (rc) fail_msg("assess-1: %s", tr_error_text(&err));
  assert_int_equal(a->n_scenarios, 8);
  assert_true(fabs(a->sbi - sqrt(0.2)) < 1e-12);
  for (size_t s = 0; s < a->n_scenarios; s++) {
    double want = sqrt(want_level[s] / 1000);
    const tr_assess_scenario *sc = &a->scenarios[s];
    if (!(fabs(sc->sbi_mean - want) < 1e-12) || !(fabs(sc->sbi_p5 - want) < 1e-12))
      fail_msg("assess-1 '%s': SBI %.15g (p5 %.15g), want sqrt(%g/1000) = %.15g", sc->name,
               sc->sbi_mean, sc->sbi_p5, want_level[s], want);
    /* the mean SBI over time: at t = 5 the step scenarios have seen no shock yet */
    if (s == 1 || s == 2 || s == 3) assert_true(fabs(sc->sbi_time_mean[5] - sqrt(0.15)) < 1e-12);
  }
  assert_true(a->scenarios[1].shock_time == 5 && a->scenarios[6].shock_time == 4);
  assert_true(isnan(a->scenarios[7].shock_time));
  /* the lever sweep runs the plan's model: share 0.6 gives rate 12, level 220 */
  assert_int_equal(a->n_moves, 2);
  assert_true(a->moves[0].to > 0.59 && fabs(a->moves[0].sbi_to - sqrt(0.22)) < 1e-12);
  release(m, p, a);
}

/* A varied constant that a scenario shocks: the draws reach the base, the shock acts on top.
 * rate ~ uniform(8, 12), the same draws in every scenario; halved from t = 5, level(10) is
 * 100 + 7.5 rate, and the SBI √(level/1000), run by run. */
static void test_varied_and_shocked(void **state) {
  (void)state;
  static const char yaml[] =
      PLAN_HEAD "uncertainty:\n"
                "  inputs: [{name: rate, dist: uniform, params: {min: 8, max: 12}}]\n"
                "scenarios:\n"
                "  - name: lever step\n"
                "    shocks: [{variable: rate, kind: step, start: 5, magnitude: 0.5}]\n";
  tr_model *m;
  tr_plan *p;
  tr_assess *a;
  tr_error err;
  int rc = assess(yaml, 400, &m, &p, &a, &err);
  if (rc) fail_msg("assess-2: %s", tr_error_text(&err));
  /* baseline: mean of √(0.1 + 0.01 rate) over the runs; the shocked one: √(0.1 + 0.0075 rate).
   * With LHS the draws are close to uniform: E√(0.1 + c·r) for r ~ U(8, 12). */
  double e_base = 0, e_shock = 0;
  for (int i = 0; i < 100000; i++) {
    double r = 8 + 4 * (i + 0.5) / 100000;
    e_base += sqrt(0.1 + 0.01 * r) / 100000;
    e_shock += sqrt(0.1 + 0.0075 * r) / 100000;
  }
  if (!(fabs(a->scenarios[0].sbi_mean - e_base) < 1e-4) ||
      !(fabs(a->scenarios[1].sbi_mean - e_shock) < 1e-4))
    fail_msg("assess-2: SBI means %.6f / %.6f, want %.6f / %.6f", a->scenarios[0].sbi_mean,
             a->scenarios[1].sbi_mean, e_base, e_shock);
  /* p5: the 5 % quantile of rate is 8.2 */
  assert_true(fabs(a->scenarios[1].sbi_p5 - sqrt(0.1 + 0.0075 * 8.2)) < 1e-3);
  release(m, p, a);
}

typedef struct bad_case {
  const char *id;
  const char *shock; /* one shock of one scenario */
  int rc;
  const char *msg; /* tr_error_text must contain it */
} bad_case;

static void test_bad_shocks(void **state) {
  (void)state;
  static const bad_case cases[] = {
      {"assess-3", "{variable: grwoth, kind: step, start: 1, magnitude: 2}", TR_ERR_UNKNOWN_NAME,
       "plan.yaml:12:14: shock: unknown variable 'grwoth' (did you mean 'growth'?)"},
      {"assess-4", "{variable: level, kind: step, start: 1, magnitude: 2}", TR_ERR_INVALID,
       "plan.yaml:12:14: shock: 'level' is a stock"},
      {"assess-5", "{variable: xyzzy_plugh, kind: step, start: 1, magnitude: 2}",
       TR_ERR_UNKNOWN_NAME, "plan.yaml:12:14: shock: unknown variable 'xyzzy_plugh'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             PLAN_HEAD "scenarios:\n"
                       "  - name: fine\n"
                       "    shocks: [{variable: growth, kind: step, start: 1, magnitude: 2}]\n"
                       "  - name: bad\n"
                       "    shocks: [%s]\n",
             cases[i].shock);
    tr_model *m;
    tr_plan *p;
    tr_assess *a;
    tr_error err;
    int rc = assess(yaml, 2, &m, &p, &a, &err);
    if (rc != cases[i].rc || !strstr(tr_error_text(&err), cases[i].msg))
      fail_msg("%s: got %s '%s', want %s '%s'", cases[i].id, tr_status_name(rc),
               tr_error_text(&err), tr_status_name(cases[i].rc), cases[i].msg);
    assert_null(a);
    release(m, p, a);
  }
}

/* A model that did not come from a file cannot be rewritten: the scenario fails cleanly. */
static void test_model_from_buffer(void **state) {
  (void)state;
  tr_model *m = NULL;
  tr_plan *p = NULL;
  tr_assess *a = NULL;
  tr_error err;
  tr_error_clear(&err);
  assert_int_equal(tr_plan_load_buffer(plan_yaml, strlen(plan_yaml), "plan.yaml", &p, &err), 0);
  assert_int_equal(tr_model_load_buffer(model_xml, strlen(model_xml), "(no such file)", &m, &err),
                   TR_OK);
  int rc = tr_assess_run(p, m, NULL, &a, &err);
  if (rc != TR_ERR_IO || !strstr(tr_error_text(&err), "(no such file)"))
    fail_msg("assess-6: got %s '%s'", tr_status_name(rc), tr_error_text(&err));
  assert_null(a);
  release(m, p, a);
}

/* Every allocation of an assessment with shocked scenarios made to fail in turn: an out of
 * memory error or, when the failure was absorbed, the same numbers; nothing leaks (ASan). */
static void test_alloc_failure(void **state) {
  (void)state;
  tr_plan *p = NULL;
  tr_model *m = NULL;
  tr_error err;
  assert_int_equal(tr_plan_load_buffer(plan_yaml, strlen(plan_yaml), "plan.yaml", &p, &err), 0);
  assert_int_equal(tr_model_load_file(model_path, &m, &err), TR_OK);
  tr_assess_opts o;
  tr_assess_opts_init(&o);
  o.runs = 2;
  tr_assess *a = NULL;
  tr_alloc_fail_after(0, 0);
  assert_int_equal(tr_assess_run(p, m, &o, &a, &err), TR_OK);
  long total = tr_alloc_count();
  double want[8];
  for (size_t s = 0; s < 8; s++)
    want[s] = a->scenarios[s].sbi_mean;
  tr_assess_free(a);
  assert_true(total > 100); /* six shocked models are loaded and compiled */
  for (int sticky = 0; sticky <= 1; sticky++) {
    long failures = 0;
    for (long n = 1; n <= total + 1; n++) {
      tr_error_clear(&err);
      tr_alloc_fail_after(n, sticky);
      int rc = tr_assess_run(p, m, &o, &a, &err);
      tr_alloc_fail_after(0, 0);
      if (rc == TR_OK) {
        for (size_t s = 0; s < 8; s++)
          assert_memory_equal(&a->scenarios[s].sbi_mean, &want[s], sizeof(double));
        tr_assess_free(a);
        continue;
      }
      assert_null(a);
      failures++;
      if (rc != TR_ERR_NOMEM && !strstr(err.msg, "out of memory"))
        fail_msg("assess-7: N=%ld sticky=%d: %s (%s)", n, sticky, tr_error_text(&err),
                 tr_status_name(rc));
    }
    if (sticky)
      assert_int_equal(failures, total);
    else
      assert_true(failures > 0);
  }
  tr_model_free(m);
  tr_plan_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shocked_scenarios), cmocka_unit_test(test_varied_and_shocked),
      cmocka_unit_test(test_bad_shocks),        cmocka_unit_test(test_model_from_buffer),
      cmocka_unit_test(test_alloc_failure),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
