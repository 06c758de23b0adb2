/* The one-lane interpreter (compile.c lower(), vm.c tr_vm_exec1): every fused pair of + - * /,
 * both sides, the operand modes of the other operators and the compiled Euler update, each
 * checked bit for bit against the same arithmetic written in C, and against the batched
 * interpreter (a run of two lanes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/strbuf.h"
#include "engine/engine_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char OPS[4] = {'+', '-', '*', '/'};

static double ap(int op, double x, double y) {
  switch (op) {
  case 0:
    return x + y;
  case 1:
    return x - y;
  case 2:
    return x * y;
  default:
    return x / y;
  }
}

/* Auxiliaries over the stock s whose values the test recomputes (beyond the fused pairs). */
static const char *const EXTRA[][2] = {
    {"cmp_as", "s * 2 > 5"},
    {"cmp_sa", "5 < s * 2"},
    {"min_as", "MIN(s * 2, 5)"},
    {"max_sa", "MAX(5, s * 2)"},
    {"and_sa", "(s > 2.2) AND (s < 3)"},
    {"sel", "IF s > 2.5 THEN s * 2 ELSE s / 2"},
    {"neg_a", "-(s * 2)"},
    {"abs_a", "ABS(2.5 - s)"},
    {"pow_ss", "s ^ 1.5"},
    {"mod_as", "(s * 10) MOD 3"},
    {"chain", "s * s / 7 * 3 - 1"},
};
#define N_EXTRA (sizeof EXTRA / sizeof EXTRA[0])

static double extra_value(size_t i, double s) {
  switch (i) {
  case 0:
    return s * 2 > 5;
  case 1:
    return 5 < s * 2;
  case 2:
    return 5 < s * 2 ? 5 : s * 2;
  case 3:
    return s * 2 > 5 ? s * 2 : 5;
  case 4:
    return (s > 2.2) && (s < 3);
  case 5:
    return s > 2.5 ? s * 2 : s / 2;
  case 6:
    return -(s * 2);
  case 7:
    return fabs(2.5 - s);
  case 8:
    return pow(s, 1.5);
  case 9: {
    double r = fmod(s * 10, 3);
    return r != 0 && (r < 0) != (3 < 0) ? r + 3 : r;
  }
  default:
    return s * s / 7 * 3 - 1;
  }
}

/* Stocks of every Euler shape: s (one inflow), q (inflow and outflow, non-negative, driven
 * below zero), r (one outflow), z (two inflows and an outflow: the general sum). */
static char *model_text(void) {
  tr_sb sb = TR_SB_INIT;
  tr_sb_append(&sb, "<xmile version=\"1.0\"><header><name>vm1</name></header><sim_specs>"
                    "<start>0</start><stop>3</stop><dt>0.125</dt></sim_specs><model><variables>"
                    "<stock name=\"s\"><eqn>2</eqn><inflow>g</inflow></stock>"
                    "<flow name=\"g\"><eqn>0.3 * s - k</eqn></flow>"
                    "<aux name=\"k\"><eqn>0.1</eqn></aux>"
                    "<stock name=\"q\"><eqn>1</eqn><inflow>g</inflow><outflow>h</outflow>"
                    "<non_negative/></stock>"
                    "<flow name=\"h\"><eqn>q * 0.9 + 3</eqn></flow>"
                    "<stock name=\"r\"><eqn>5</eqn><outflow>h2</outflow></stock>"
                    "<flow name=\"h2\"><eqn>r * 0.5</eqn></flow>"
                    "<stock name=\"z\"><eqn>0</eqn><inflow>g</inflow><inflow>h</inflow>"
                    "<outflow>h2</outflow></stock>\n");
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      tr_sb_printf(&sb, "<aux name=\"l%d%d\"><eqn>(s %c 1.7) %c 0.6</eqn></aux>", i, j, OPS[i],
                   OPS[j]);
      tr_sb_printf(&sb, "<aux name=\"r%d%d\"><eqn>0.6 %c (s %c 1.7)</eqn></aux>\n", i, j, OPS[j],
                   OPS[i]);
    }
  for (size_t i = 0; i < N_EXTRA; i++) {
    tr_sb_printf(&sb, "<aux name=\"%s\"><eqn>", EXTRA[i][0]);
    for (const char *c = EXTRA[i][1]; *c; c++)
      tr_sb_append(&sb, *c == '<' ? "&lt;" : *c == '>' ? "&gt;" : (char[2]){*c, 0});
    tr_sb_append(&sb, "</eqn></aux>");
  }
  tr_sb_append(&sb, "</variables></model></xmile>\n");
  return tr_sb_take(&sb);
}

static tr_model *load(void) {
  char *x = model_text();
  assert_non_null(x);
  tr_model *m = NULL;
  tr_error err;
  int rc = tr_model_load_buffer(x, strlen(x), "vm1.xmile", &m, &err);
  if (rc) fprintf(stderr, "%s\n", tr_error_text(&err));
  assert_int_equal(rc, TR_OK);
  tr_free(x);
  return m;
}

static const double *series(tr_sim *s, const tr_model *m, const char *name, size_t lane) {
  long i = tr_model_find(m, name);
  assert_true(i >= 0);
  const double *x = tr_sim_series(s, (size_t)i, lane);
  assert_non_null(x);
  return x;
}

/* The compiler fused every pair, on both sides, into one one-lane instruction each. */
static void test_every_pair_fused(void **state) {
  (void)state;
  tr_model *m = load();
  const tr_code *c = &m->prog.step;
  int seen[TR_J_COUNT] = {0};
  for (size_t i = 0; i < c->n1; i++)
    seen[c->ins1[i].op]++;
  assert_int_equal(c->ins1[c->n1].op, TR_J_END);
  for (int op = TR_J_ADD_ADD_L; op <= TR_J_DIV_DIV_R; op++)
    assert_true(seen[op] >= 1);
  assert_true(seen[TR_J_SELECT] == 1);
  assert_true(c->n1 < c->n); /* fewer instructions than the lane code */
  tr_model_free(m);
}

/* One lane, bit for bit: the Euler recurrence of every stock shape, and every auxiliary. */
static void test_one_lane_bit_exact(void **state) {
  (void)state;
  tr_model *m = load();
  tr_sim *sim = NULL;
  tr_error err;
  assert_int_equal(tr_sim_new(m, NULL, &sim, &err), TR_OK);
  assert_int_equal(tr_sim_run(sim), TR_OK);
  size_t n = tr_sim_saved_count(sim);
  assert_int_equal(n, 25);
  const double *S = series(sim, m, "s", 0), *Q = series(sim, m, "q", 0);
  const double *R = series(sim, m, "r", 0), *Z = series(sim, m, "z", 0);
  double s = 2, q = 1, r = 5, z = 0, dt = 0.125;
  int clamped = 0;
  for (size_t k = 0; k < n; k++) {
    assert_true(S[k] == s && Q[k] == q && R[k] == r && Z[k] == z);
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) {
        char nl[32], nr[32];
        snprintf(nl, sizeof nl, "l%d%d", i, j);
        snprintf(nr, sizeof nr, "r%d%d", i, j);
        assert_true(series(sim, m, nl, 0)[k] == ap(j, ap(i, s, 1.7), 0.6));
        assert_true(series(sim, m, nr, 0)[k] == ap(j, 0.6, ap(i, s, 1.7)));
      }
    for (size_t i = 0; i < N_EXTRA; i++)
      assert_true(series(sim, m, EXTRA[i][0], 0)[k] == extra_value(i, s));
    double g = 0.3 * s - 0.1, h = q * 0.9 + 3, h2 = r * 0.5;
    s = s + dt * g;
    q = q + dt * (g - h);
    if (q < 0) q = 0, clamped = 1;
    r = r - dt * h2;
    z = z + dt * (g + h - h2);
  }
  assert_true(clamped); /* the clamp was exercised */
  tr_sim_free(sim);
  tr_model_free(m);
}

/* The batched interpreter (two lanes) gives the one-lane results bit for bit. */
static void test_lanes_match_one_lane(void **state) {
  (void)state;
  tr_model *m = load();
  tr_sim *one = NULL, *two = NULL;
  tr_error err;
  tr_sim_opts o = tr_model_default_opts(m);
  assert_int_equal(tr_sim_new(m, &o, &one, &err), TR_OK);
  o.lanes = 2;
  assert_int_equal(tr_sim_new(m, &o, &two, &err), TR_OK);
  assert_int_equal(tr_sim_run(one), TR_OK);
  assert_int_equal(tr_sim_run(two), TR_OK);
  size_t n = tr_sim_saved_count(one);
  for (size_t v = 0; v < tr_model_var_count(m); v++)
    for (size_t l = 0; l < 2; l++)
      assert_memory_equal(tr_sim_series(one, v, 0), tr_sim_series(two, v, l), n * sizeof(double));
  tr_sim_free(one);
  tr_sim_free(two);
  tr_model_free(m);
}

/* Time shapes run the Euler block apart from the step code (a shaped constant may be a
 * flow's input): the shaped one-lane run equals the shaped two-lane run bit for bit, and the
 * shape changed the results. */
static void test_shapes_one_lane(void **state) {
  (void)state;
  tr_model *m = load();
  tr_sim *plain = NULL, *one = NULL, *two = NULL;
  tr_error err;
  tr_sim_opts o = tr_model_default_opts(m);
  assert_int_equal(tr_sim_new(m, &o, &plain, &err), TR_OK);
  assert_int_equal(tr_sim_new(m, &o, &one, &err), TR_OK);
  o.lanes = 2;
  assert_int_equal(tr_sim_new(m, &o, &two, &err), TR_OK);
  double t[2] = {0, 3}, v[2] = {1, 2};
  tr_sim_shape sh;
  memset(&sh, 0, sizeof sh);
  sh.n = 2;
  sh.t = t;
  sh.v = v;
  size_t k = (size_t)tr_model_find(m, "k");
  assert_int_equal(tr_sim_set_shape(one, k, -1, &sh), TR_OK);
  assert_int_equal(tr_sim_set_shape(two, k, -1, &sh), TR_OK);
  assert_int_equal(tr_sim_run(plain), TR_OK);
  assert_int_equal(tr_sim_run(one), TR_OK);
  assert_int_equal(tr_sim_run(two), TR_OK);
  size_t n = tr_sim_saved_count(one);
  for (size_t var = 0; var < tr_model_var_count(m); var++)
    for (size_t l = 0; l < 2; l++)
      assert_memory_equal(tr_sim_series(one, var, 0), tr_sim_series(two, var, l),
                          n * sizeof(double));
  assert_true(tr_sim_series(one, k, 0)[n - 1] == 0.1 * 2); /* k at the end: 0.1 x 2 */
  size_t s = (size_t)tr_model_find(m, "s");
  assert_true(tr_sim_series(one, s, 0)[n - 1] < tr_sim_series(plain, s, 0)[n - 1]);
  tr_sim_free(plain);
  tr_sim_free(one);
  tr_sim_free(two);
  tr_model_free(m);
}

/* An infinity that no arithmetic makes (a literal chosen by IF THEN ELSE raises no flag),
 * after the first point and in no variable at the end, is still reported: the end-of-run
 * scan of the saved series is skipped only when every starting value is finite. */
static void test_flagless_infinity_reported(void **state) {
  (void)state;
  const char *x = "<xmile version=\"1.0\"><header><name>inf</name></header><sim_specs>"
                  "<start>0</start><stop>2</stop><dt>0.5</dt></sim_specs><model><variables>"
                  "<aux name=\"x\"><eqn>IF TIME = 0.5 THEN INF ELSE 1</eqn></aux>"
                  "<aux name=\"y\"><eqn>TIME * 2</eqn></aux>"
                  "</variables></model></xmile>";
  tr_model *m = NULL;
  tr_error err;
  assert_int_equal(tr_model_load_buffer(x, strlen(x), "inf.xmile", &m, &err), TR_OK);
  tr_sim *sim = NULL;
  assert_int_equal(tr_sim_new(m, NULL, &sim, &err), TR_OK);
  assert_int_equal(tr_sim_run(sim), TR_OK);
  const char *w = tr_sim_warning(sim);
  assert_non_null(w);
  assert_non_null(strstr(w, "'x' became infinite at time 0.5"));
  const double *xs = tr_sim_series(sim, 0, 0);
  assert_true(xs[0] == 1 && isinf(xs[1]) && xs[2] == 1 && xs[4] == 1);
  tr_sim_free(sim);
  tr_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_pair_fused),           cmocka_unit_test(test_one_lane_bit_exact),
      cmocka_unit_test(test_lanes_match_one_lane),       cmocka_unit_test(test_shapes_one_lane),
      cmocka_unit_test(test_flagless_infinity_reported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
