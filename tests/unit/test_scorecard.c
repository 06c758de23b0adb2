/* Unit tests: scorecard normalisers against the check values of
 * shared/reference/kpi-scoring.md, status bands, weighted roll-up by hand, strategy-map cycle
 * check and DOT export, allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "strategy/scorecard.h"
#include "tightrope/base.h"
#include "tightrope/strategy.h"

#include <math.h>
#include <string.h>

#define NEAR(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static void test_bsc_designer(void **state) {
  (void)state;
  /* manual: max 200, min 0, value 50 -> performance 25% */
  NEAR(tr_score_performance(50, 0, 200, TR_DIR_HIGHER, 0, 0), 0.25, 1e-12);
  /* Turnover Rate: baseline 15, target 45, value 16 -> progress 3.33%; performance 16% */
  NEAR(tr_score_progress(16, 15, 45), 1.0 / 30.0, 1e-12);
  NEAR(tr_score_progress(16, 15, 45), 0.0333, 5e-5);
  NEAR(tr_score_performance(16, 0, 100, TR_DIR_HIGHER, 0, 0), 0.16, 1e-12);
  /* minimisation, the linear mirror */
  NEAR(tr_score_performance(50, 0, 200, TR_DIR_LOWER, 0, 0), 0.75, 1e-12);
  /* clamped performance */
  NEAR(tr_score_performance(250, 0, 200, TR_DIR_HIGHER, 0, 0), 1.0, 0);
  NEAR(tr_score_performance(-5, 0, 200, TR_DIR_HIGHER, 0, 0), 0.0, 0);
  /* OKR progress (Feedback4e): start 10, target 20: 16 -> 60%, 22 -> 120% (not clamped) */
  NEAR(tr_score_progress(16, 10, 20), 0.6, 1e-12);
  NEAR(tr_score_progress(22, 10, 20), 1.2, 1e-12);
  /* lower-is-better progress: baseline 10% churn, target 5%, now 8% -> 40% */
  NEAR(tr_score_progress(0.08, 0.10, 0.05), 0.4, 1e-12);
  assert_true(isnan(tr_score_progress(1, 5, 5)));
  assert_true(isnan(tr_score_performance(NAN, 0, 1, TR_DIR_HIGHER, 0, 0)));
  /* band: 1 inside [40, 60] of 0..100, linear to the ends */
  NEAR(tr_score_performance(50, 0, 100, TR_DIR_BAND, 40, 60), 1.0, 0);
  NEAR(tr_score_performance(20, 0, 100, TR_DIR_BAND, 40, 60), 0.5, 1e-12);
  NEAR(tr_score_performance(90, 0, 100, TR_DIR_BAND, 40, 60), 0.25, 1e-12);
  NEAR(tr_score_performance(100, 0, 100, TR_DIR_BAND, 40, 60), 0.0, 0);
}

static void test_goal_redflag(void **state) {
  (void)state;
  /* Spider Impact: goal 700, red flag 500 */
  const double x[] = {300, 500, 600, 700, 900, 1000};
  const double want[] = {0, 10.0 / 3, 5.0, 20.0 / 3, 10, 10};
  const tr_rag rag[] = {TR_RAG_RED,   TR_RAG_AMBER, TR_RAG_AMBER,
                        TR_RAG_GREEN, TR_RAG_GREEN, TR_RAG_GREEN};
  for (size_t i = 0; i < 6; i++) {
    double s = tr_score_goal_redflag(x[i], 700, 500);
    NEAR(s, want[i], 1e-9);
    assert_int_equal(tr_score_status(s / 10), rag[i]);
  }
  NEAR(tr_score_goal_redflag(500, 700, 500), 3.33, 0.005);
  NEAR(tr_score_goal_redflag(700, 700, 500), 6.67, 0.005);
  assert_int_equal(tr_score_status(tr_score_goal_redflag(499, 700, 500) / 10), TR_RAG_RED);
  /* lower is better when goal < red flag: churn goal 2%, red flag 4% */
  NEAR(tr_score_goal_redflag(0.03, 0.02, 0.04), 5.0, 1e-9);
  NEAR(tr_score_goal_redflag(0.00, 0.02, 0.04), 10.0, 1e-9);
  NEAR(tr_score_goal_redflag(0.06, 0.02, 0.04), 0.0, 1e-9);
  assert_int_equal(tr_score_status(NAN), TR_RAG_NONE);
  assert_string_equal(tr_rag_name(TR_RAG_AMBER), "amber");
}

static void test_weighted_mean(void **state) {
  (void)state;
  /* weights 2, 1 -> 66.7%, 33.3% */
  const double x1[] = {1, 0}, w[] = {2, 1};
  NEAR(tr_weighted_mean(x1, w, 2), 2.0 / 3, 1e-12);
  const double x2[] = {0, 1};
  NEAR(tr_weighted_mean(x2, w, 2), 1.0 / 3, 1e-12);
  /* a missing child re-normalises the rest */
  const double x3[] = {NAN, 0.4};
  NEAR(tr_weighted_mean(x3, w, 2), 0.4, 1e-12);
  const double x4[] = {NAN, NAN};
  assert_true(isnan(tr_weighted_mean(x4, w, 2)));
}

static const char *card_yaml =
    "company: {name: X}\n"
    "scorecard:\n"
    "  perspectives: [{id: financial, weight: 2}]\n"
    "  objectives:\n"
    "    - {id: o1, perspective: financial}\n"
    "    - {id: o2, perspective: customer}\n"
    "  kpis:\n"
    "    - {id: k1, objective: o1, min: 0, max: 200, weight: 2}\n"
    "    - {id: k2, objective: o1, scoring: progress, baseline: 15, target: 45}\n"
    "    - {id: k3, objective: o2, scoring: goal_redflag, goal: 700, red_flag: 500,"
    " type: leading}\n"
    "  links:\n"
    "    - {cause: k3, effect: o2}\n"
    "    - {cause: o2, effect: o1}\n";

static void test_rollup(void **state) {
  (void)state;
  tr_plan *p = NULL;
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_plan_load_buffer(card_yaml, strlen(card_yaml), "plan.yaml", &p, &err);
  if (rc) fail_msg("%s", tr_error_text(&err));
  const double v[] = {50, 16, 600};
  tr_scorecard_result r;
  assert_int_equal(tr_scorecard_evaluate(&p->scorecard, v, &r, &err), TR_OK);
  NEAR(r.kpis[0].score, 0.25, 1e-12);
  NEAR(r.kpis[1].raw, 1.0 / 30, 1e-12);
  NEAR(r.kpis[2].raw, 5.0, 1e-12);
  NEAR(r.kpis[2].score, 0.5, 1e-12);
  assert_int_equal(r.kpis[0].status, TR_RAG_RED);
  assert_int_equal(r.kpis[2].status, TR_RAG_AMBER);
  /* o1 = (2 * 0.25 + 1/30) / 3 */
  double o1 = (2 * 0.25 + 1.0 / 30) / 3;
  NEAR(r.objectives[0], o1, 1e-12);
  NEAR(r.objectives[1], 0.5, 1e-12);
  NEAR(r.perspectives[TR_PERSP_FINANCIAL], o1, 1e-12);
  NEAR(r.perspectives[TR_PERSP_CUSTOMER], 0.5, 1e-12);
  assert_true(isnan(r.perspectives[TR_PERSP_INTERNAL]));
  assert_int_equal(r.perspective_status[TR_PERSP_INTERNAL], TR_RAG_NONE);
  /* financial weighs 2, customer 1; the empty perspectives drop out */
  NEAR(r.total, (2 * o1 + 0.5) / 3, 1e-12);
  NEAR(r.total, 0.285185, 1e-6);
  assert_int_equal(r.total_status, TR_RAG_RED);
  /* absolute weights: k1 2/3 of o1, o1 all of financial, financial 2/3 of the total */
  NEAR(r.kpi_weight[0], 4.0 / 9, 1e-12);
  NEAR(r.kpi_weight[1], 2.0 / 9, 1e-12);
  NEAR(r.kpi_weight[2], 1.0 / 3, 1e-12);
  tr_scorecard_result_free(&r);
  /* a missing observation re-normalises its siblings */
  const double v2[] = {50, NAN, 600};
  assert_int_equal(tr_scorecard_evaluate(&p->scorecard, v2, &r, &err), TR_OK);
  NEAR(r.objectives[0], 0.25, 1e-12);
  assert_true(isnan(r.kpis[1].score));
  assert_true(r.kpi_weight[1] == 0);
  NEAR(r.kpi_weight[0], 2.0 / 3, 1e-12);
  tr_scorecard_result_free(&r);
  tr_scorecard_result_free(NULL);
  /* allocation failure */
  for (long n = 1; n <= 6; n++) {
    tr_alloc_fail_after(n, 0);
    rc = tr_scorecard_evaluate(&p->scorecard, v, &r, &err);
    tr_alloc_fail_after(0, 0);
    if (n <= 5) {
      assert_int_equal(rc, TR_ERR_NOMEM);
      assert_null(r.kpis);
    } else {
      assert_int_equal(rc, TR_OK);
    }
    tr_scorecard_result_free(&r);
  }
  tr_plan_free(p);
}

static void test_map_and_dot(void **state) {
  (void)state;
  tr_plan *p = NULL;
  tr_error err;
  tr_error_clear(&err);
  assert_int_equal(tr_plan_load_buffer(card_yaml, strlen(card_yaml), "plan.yaml", &p, &err), TR_OK);
  tr_sb cyc = TR_SB_INIT;
  size_t at = 99;
  assert_int_equal(tr_scorecard_find_cycle(&p->scorecard, &cyc, &at), 0);
  /* add the edge o1 -> k3 by hand: k3 -> o2 -> o1 -> k3 */
  tr_scorecard sc = p->scorecard;
  tr_map_link links[3] = {sc.links[0], sc.links[1], {"o1", "k3", {0, 0}}};
  sc.links = links;
  sc.n_links = 3;
  assert_int_equal(tr_scorecard_find_cycle(&sc, &cyc, &at), 1);
  assert_string_equal(tr_sb_str(&cyc), "k3 -> o2 -> o1 -> k3");
  assert_int_equal(at, 2);
  tr_sb_free(&cyc);
  /* DOT */
  const double v[] = {50, 16, 600};
  tr_scorecard_result r;
  assert_int_equal(tr_scorecard_evaluate(&p->scorecard, v, &r, &err), TR_OK);
  tr_sb dot = TR_SB_INIT;
  assert_int_equal(tr_scorecard_to_dot(&p->scorecard, &r, &dot), TR_OK);
  const char *d = tr_sb_str(&dot);
  assert_non_null(strstr(d, "digraph strategy_map {"));
  assert_non_null(strstr(d, "subgraph cluster_financial {"));
  assert_non_null(strstr(d, "label=\"Financial\""));
  assert_non_null(strstr(d, "\"o2\" -> \"o1\";"));
  assert_non_null(strstr(d, "\"k1\" -> \"o1\" [style=dashed, arrowhead=none];"));
  assert_non_null(strstr(d, "fillcolor=\"#fff2cc\", label=\"k3\\n50%\""));
  assert_int_equal(d[strlen(d) - 2], '}');
  tr_sb_free(&dot);
  /* without results: no scores, white nodes */
  assert_int_equal(tr_scorecard_to_dot(&p->scorecard, NULL, &dot), TR_OK);
  assert_null(strstr(tr_sb_str(&dot), "%"));
  tr_sb_free(&dot);
  tr_scorecard_result_free(&r);
  tr_plan_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bsc_designer),  cmocka_unit_test(test_goal_redflag),
      cmocka_unit_test(test_weighted_mean), cmocka_unit_test(test_rollup),
      cmocka_unit_test(test_map_and_dot),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
