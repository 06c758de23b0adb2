/* The Monte Carlo runner through its public API (tightrope/scenario.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/bulk.h"
#include "tightrope/engine.h"
#include "tightrope/scenario.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* level(10) = initial + 10 rate; noise uses the model's own random stream. */
static const char linear[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<xmile version=\"1.0\" xmlns=\"http://docs.oasis-open.org/xmile/ns/XMILE/v1.0\">\n"
    "<header><name>linear</name></header>\n"
    "<sim_specs method=\"Euler\"><start>0</start><stop>10</stop><dt>1</dt></sim_specs>\n"
    "<model><variables>\n"
    "<stock name=\"level\"><eqn>initial</eqn><inflow>growth</inflow></stock>\n"
    "<flow name=\"growth\"><eqn>rate</eqn></flow>\n"
    "<aux name=\"rate\"><eqn>10</eqn></aux>\n"
    "<aux name=\"initial\"><eqn>100</eqn></aux>\n"
    "<aux name=\"noise\"><eqn>NORMAL(0, 1)</eqn></aux>\n"
    "</variables></model></xmile>\n";

static tr_model *load(void) {
  tr_model *m;
  tr_error err;
  int rc = tr_model_load_buffer(linear, sizeof linear - 1, "linear.xmile", &m, &err);
  if (rc) print_error("%s\n", tr_error_text(&err));
  assert_int_equal(rc, TR_OK);
  return m;
}

static tr_mc *study(const tr_model *m) {
  tr_mc *mc;
  assert_int_equal(tr_mc_new(m, &mc, NULL), TR_OK);
  assert_int_equal(tr_mc_vary(mc, "rate", "normal(10, 2)", NULL, 0, 0), TR_OK);
  assert_int_equal(tr_mc_vary_spec(mc, "initial = normal(100, 5)"), TR_OK);
  return mc;
}

/* Run and return the JSON (malloc'd). */
static char *run_json(tr_mc *mc, const tr_mc_opts *o) {
  int rc = tr_mc_run(mc, o, NULL, NULL);
  if (rc) print_error("%s\n", tr_error_text(tr_mc_error(mc)));
  assert_int_equal(rc, TR_OK);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(tr_mc_write_json(mc, f, NULL), TR_OK);
  fclose(f);
  return buf;
}

/* run-1: mean and variance of level(10) against 200 and 425 (99.9% intervals). */
static void test_linear_moments(void **state) {
  (void)state;
  tr_model *m = load();
  tr_mc *mc = study(m);
  assert_int_equal(tr_mc_watch(mc, "Level"), TR_OK);
  tr_mc_opts o = tr_mc_default_opts();
  o.runs = 5000;
  assert_int_equal(tr_mc_run(mc, &o, NULL, NULL), TR_OK);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_int_equal(tr_mc_write_csv(mc, f), TR_OK);
  fclose(f);
  const char *row = strstr(buf, "\nlevel,10,");
  assert_non_null(row);
  unsigned long n;
  double mean, sd;
  assert_int_equal(sscanf(row, "\nlevel,10,%lu,%lf,%lf", &n, &mean, &sd), 3);
  assert_true(n == 5000);
  assert_true(fabs(mean - 200) <= 3.29 * sqrt(425.0 / (double)n));
  assert_true(fabs(sd * sd - 425) <= 3.29 * 425 * sqrt(2.0 / (double)(n - 1)));
  assert_true(tr_mc_runs_done(mc) == 5000 && !tr_mc_partial(mc));
  free(buf);
  tr_mc_free(mc);
  tr_model_free(m);
}

/* run-2: the JSON is byte-identical for threads 1/2 and batches 1/7/64, MC and LHS. */
static void test_reproducible(void **state) {
  (void)state;
  tr_model *m = load();
  tr_mc *mc = study(m);
  assert_int_equal(tr_mc_event(mc, "level < 190"), TR_OK);
  tr_mc_tornado(mc, 1);
  for (int lhs = 0; lhs < 2; lhs++) {
    tr_mc_opts o = tr_mc_default_opts();
    o.runs = 700;
    o.lhs = lhs;
    o.seed = 99;
    char *ref = run_json(mc, &o);
    static const int threads[] = {2, 1, 2};
    static const size_t batch[] = {64, 1, 7};
    for (int i = 0; i < 3; i++) {
      o.threads = threads[i];
      o.batch = batch[i];
      char *got = run_json(mc, &o);
      assert_string_equal(got, ref);
      free(got);
    }
    free(ref);
  }
  tr_mc_free(mc);
  tr_model_free(m);
}

/* run-2b: the same across the switch to streaming percentiles (a small exact budget), with
 * rounds cut short by the exact cap and by a convergence rule: byte-identical for threads
 * 1/2/3 and batches 64/5, and the rule stops at the same run. */
static void test_reproducible_streaming(void **state) {
  (void)state;
  tr_model *m = load();
  tr_mc *mc = study(m);
  assert_int_equal(tr_mc_event(mc, "level < 190"), TR_OK);
  for (int until = 0; until < 2; until++) {
    if (until) assert_int_equal(tr_mc_until(mc, "mean(level) +-0.5% @99%"), TR_OK);
    tr_mc_opts o = tr_mc_default_opts();
    o.runs = 5000;
    o.seed = 7;
    o.exact_bytes = (size_t)48 << 10;
    char *ref = run_json(mc, &o);
    assert_non_null(strstr(ref, "\"percentiles_exact\": false"));
    size_t done = tr_mc_runs_done(mc);
    assert_true(until ? done < 5000 && done % 128 == 0 : done == 5000);
    static const int threads[] = {2, 3, 1};
    static const size_t batch[] = {64, 5, 5};
    for (int i = 0; i < 3; i++) {
      o.threads = threads[i];
      o.batch = batch[i];
      char *got = run_json(mc, &o);
      assert_string_equal(got, ref);
      assert_int_equal(tr_mc_runs_done(mc), done);
      free(got);
    }
    free(ref);
  }
  tr_mc_free(mc);
  tr_model_free(m);
}

/* run-3: a stop flag already set ends the run after its first round (a whole number of
 * chunks of 64 runs, well short of the runs asked for), marked partial, with what was done. */
static void test_stop_flag(void **state) {
  (void)state;
  tr_model *m = load();
  tr_mc *mc = study(m);
  tr_mc_opts o = tr_mc_default_opts();
  o.runs = 100000;
  o.batch = 50;
  volatile sig_atomic_t stop = 1;
  assert_int_equal(tr_mc_run(mc, &o, &stop, NULL), TR_ERR_CANCELLED);
  assert_true(tr_mc_partial(mc));
  size_t done = tr_mc_runs_done(mc);
  assert_true(done >= 64 && done < 10000 && done % 64 == 0);
  char *buf = NULL, want[64];
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_int_equal(tr_mc_write_json(mc, f, "x"), TR_OK);
  fclose(f);
  assert_non_null(strstr(buf, "\"partial\": true"));
  snprintf(want, sizeof want, "\"runs\": %zu,", done);
  assert_non_null(strstr(buf, want));
  free(buf);
  tr_mc_free(mc);
  tr_model_free(m);
}

/* run-4: the convergence rule (checked every 128 runs) stops at a multiple of 128 runs,
 * before the cap. */
static void test_until(void **state) {
  (void)state;
  tr_model *m = load();
  tr_mc *mc = study(m);
  assert_int_equal(tr_mc_until(mc, "mean(level) +-1% @95%"), TR_OK);
  tr_mc_opts o = tr_mc_default_opts();
  o.runs = 100000;
  assert_int_equal(tr_mc_run(mc, &o, NULL, NULL), TR_OK);
  size_t done = tr_mc_runs_done(mc);
  assert_true(done % 128 == 0 && done >= 256 && done <= 640);
  assert_false(tr_mc_partial(mc));
  tr_mc_free(mc);
  tr_model_free(m);
}

/* run-5: bad input through the API. */
static void test_bad_input(void **state) {
  (void)state;
  tr_model *m = load();
  tr_mc *mc;
  assert_int_equal(tr_mc_new(m, &mc, NULL), TR_OK);
  assert_int_equal(tr_mc_vary(mc, "rat", "normal(1, 1)", NULL, 0, 0), TR_ERR_UNKNOWN_NAME);
  assert_non_null(strstr(tr_mc_error(mc)->msg, "did you mean 'rate'"));
  assert_int_equal(tr_mc_vary(mc, "growth", "normal(1, 1)", NULL, 0, 0), TR_ERR_INVALID);
  assert_int_equal(tr_mc_vary(mc, "rate", "normal(1, -1)", NULL, 0, 0), TR_ERR_INVALID);
  assert_int_equal(tr_mc_vary_spec(mc, "rate"), TR_ERR_PARSE);
  assert_int_equal(tr_mc_vary_spec(mc, "rate=normal(1, 1)"), TR_OK);
  assert_int_equal(tr_mc_vary_spec(mc, "rate=normal(1, 1)"), TR_ERR_INVALID);
  const double c[4] = {1, 0.5, 0.5, 1};
  assert_int_equal(tr_mc_correlate(mc, c, 2), TR_ERR_DIMENSION);
  assert_int_equal(tr_mc_correlate_pair(mc, "rate", "initial", 0.5), TR_ERR_UNKNOWN_NAME);
  assert_int_equal(tr_mc_override(mc, "noise", 1), TR_ERR_INVALID);
  assert_int_equal(tr_mc_override(mc, "initial", NAN), TR_ERR_INVALID);
  assert_int_equal(tr_mc_watch(mc, "nosuch"), TR_ERR_UNKNOWN_NAME);
  assert_int_equal(tr_mc_event(mc, "level <"), TR_ERR_PARSE);
  assert_int_equal(tr_mc_until(mc, "mean(nosuch) +-1%"), TR_ERR_UNKNOWN_NAME);
  tr_mc_opts o = tr_mc_default_opts();
  o.runs = 0;
  assert_int_equal(tr_mc_run(mc, &o, NULL, NULL), TR_ERR_INVALID);
  o.runs = 10;
  o.threads = 0;
  assert_int_equal(tr_mc_run(mc, &o, NULL, NULL), TR_ERR_INVALID);
  o.threads = 1;
  o.batch = 0;
  assert_int_equal(tr_mc_run(mc, &o, NULL, NULL), TR_ERR_INVALID);
  assert_int_equal(tr_mc_write_json(mc, stderr, NULL), TR_ERR_INVALID); /* nothing was run */
  tr_mc_free(mc);
  tr_mc_free(NULL);
  tr_model_free(m);
}

/* run-6: every allocation of set-up, run and output can fail without a crash or a leak. */
/* run-7: a study whose exact values go into the block an earlier, larger study left behind
 * (bulk.h: it still holds that study's values) reports the same bytes as on fresh memory, on
 * 1 and 2 threads. */
static void test_reused_exact_block(void **state) {
  (void)state;
  tr_model *m = load();
  tr_bulk_release();
  tr_mc *a = study(m); /* every variable that varies: 3 x 11 cells, 20,000 runs = 5.3 MB */
  tr_mc_opts o = tr_mc_default_opts();
  o.runs = 20000;
  o.seed = 5;
  char *ja = run_json(a, &o);
  assert_non_null(strstr(ja, "\"percentiles_exact\": true"));
  tr_mc_free(a);
  assert_true(tr_bulk_kept() >= TR_BULK_MIN);
  o.runs = 14999; /* an odd last chunk: 23 runs x 33 cells */
  o.seed = 6;
  for (int threads = 1; threads <= 2; threads++) {
    o.threads = threads;
    tr_mc *b = study(m);
    assert_int_equal(tr_mc_event(b, "level < 190"), TR_OK);
    char *reused = run_json(b, &o);
    assert_true(tr_bulk_kept() == 0 || threads == 2); /* b holds it until freed */
    tr_mc_free(b);
    tr_bulk_release();
    b = study(m);
    assert_int_equal(tr_mc_event(b, "level < 190"), TR_OK);
    char *fresh = run_json(b, &o);
    assert_string_equal(reused, fresh);
    free(reused);
    free(fresh);
    tr_mc_free(b);
    tr_mc *c = study(m); /* the larger block again, for the 2-thread turn */
    o.runs = 20000;
    free(run_json(c, &o));
    tr_mc_free(c);
    o.runs = 14999; /* an odd last chunk: 23 runs x 33 cells */
  }
  /* A study that outgrows its exact storage gives the block back to the system when it
   * switches to streaming, rather than keep it beside its histograms. */
  tr_bulk_release();
  tr_mc *d = study(m);
  assert_int_equal(tr_mc_until(d, "mean(level) +-0.0001% @99%"), TR_OK); /* no pilot */
  o.runs = 30000;
  o.exact_bytes = (size_t)6 << 20; /* 23,831 runs kept, in a block of 6 MiB */
  char *js = run_json(d, &o);
  assert_non_null(strstr(js, "\"percentiles_exact\": false"));
  assert_int_equal(tr_bulk_kept(), 0);
  free(js);
  tr_mc_free(d);
  tr_bulk_release();
  free(ja);
  tr_model_free(m);
}

static void test_alloc_failure(void **state) {
  (void)state;
  tr_model *m = load();
  int saw_ok = 0;
  for (long n = 1; n < 400 && !saw_ok; n++) {
    tr_alloc_fail_after(n, 0);
    tr_mc *mc = NULL;
    int rc = tr_mc_new(m, &mc, NULL);
    if (rc == TR_OK) rc = tr_mc_vary_spec(mc, "rate=discrete(1:1, 2:1)");
    if (rc == TR_OK) rc = tr_mc_vary_spec(mc, "initial=uniform(90, 110)");
    if (rc == TR_OK) rc = tr_mc_correlate_spec(mc, "rate,initial=0.5");
    if (rc == TR_OK) rc = tr_mc_event(mc, "level > 150");
    if (rc == TR_OK) tr_mc_tornado(mc, 1);
    tr_mc_opts o = tr_mc_default_opts();
    o.runs = 40;
    o.batch = 16;
    if (rc == TR_OK) rc = tr_mc_run(mc, &o, NULL, NULL);
    FILE *f = fopen("/dev/null", "w");
    if (rc == TR_OK) rc = tr_mc_write_json(mc, f, NULL);
    fclose(f);
    tr_alloc_fail_after(0, 0);
    assert_true(rc == TR_OK || rc == TR_ERR_NOMEM);
    saw_ok = rc == TR_OK;
    tr_mc_free(mc);
  }
  assert_true(saw_ok);
  tr_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_linear_moments),
      cmocka_unit_test(test_reproducible),
      cmocka_unit_test(test_reproducible_streaming),
      cmocka_unit_test(test_stop_flag),
      cmocka_unit_test(test_until),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_reused_exact_block),
      cmocka_unit_test(test_alloc_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
