/* Allocation-failure injection across whole operations (issue 8; STYLE rule 14): for every
 * N from 1 to the number of allocations a successful run makes, fail the N-th allocation —
 * once, and from then on (sticky) — and check that the operation returns an error that says
 * out of memory, crashes nothing, leaks nothing (LeakSanitizer under `make asan`) and, in the
 * store, writes nothing. The operations: loading, compiling and simulating the SaaS template
 * (models/saas/model.xmile), opening a KPI store and importing a KPI file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tightrope/base.h"
#include "tightrope/engine.h"
#include "tightrope/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEMPLATE "models/saas/model.xmile"

/* An error from an allocation failure: TR_ERR_NOMEM, or another code whose message says so
 * (a layer that maps a failed allocation inside a library call to its own code). */
static void assert_nomem(int rc, tr_error *e, long n, int sticky) {
  if (rc == TR_ERR_NOMEM || strstr(e->msg, "out of memory")) return;
  print_message("N=%ld sticky=%d: %s (%s)\n", n, sticky, tr_error_text(e), tr_status_name(rc));
  fail();
}

/* ---- load + compile + simulate ----------------------------------------------------------- */

typedef struct sim_result {
  int rc;
  tr_error err;
  size_t saved;
  double last[3]; /* last saved value of three variables */
} sim_result;

/* The three variables whose last value is compared: the first stock, flow and auxiliary. */
static size_t probe[3];

static void simulate(sim_result *r) {
  tr_model *m = NULL;
  tr_sim *s = NULL;
  memset(r, 0, sizeof *r);
  tr_error_clear(&r->err);
  r->rc = tr_model_load_file(TEMPLATE, &m, &r->err);
  if (r->rc == TR_OK) r->rc = tr_sim_new(m, NULL, &s, &r->err);
  if (r->rc == TR_OK) {
    r->rc = tr_sim_run(s);
    if (r->rc != TR_OK) tr_error_copy(&r->err, tr_sim_error(s));
  }
  if (r->rc == TR_OK) {
    r->saved = tr_sim_saved_count(s);
    for (int k = 0; k < 3; k++) {
      const double *y = tr_sim_series(s, probe[k], 0);
      r->last[k] = y ? y[r->saved - 1] : NAN;
    }
  }
  tr_sim_free(s);
  tr_model_free(m);
}

static void test_simulate_template(void **state) {
  (void)state;
  tr_model *m = NULL;
  tr_error e;
  assert_int_equal(tr_model_load_file(TEMPLATE, &m, &e), TR_OK);
  int found[3] = {0, 0, 0};
  for (size_t i = 0; i < tr_model_var_count(m); i++) {
    tr_var_info vi;
    tr_model_var(m, i, &vi);
    int k = vi.type == TR_VAR_STOCK  ? 0
            : vi.type == TR_VAR_FLOW ? 1
            : vi.type == TR_VAR_AUX  ? 2
                                     : 3;
    if (k < 3 && !found[k] && !vi.hidden && !vi.is_constant) {
      probe[k] = i;
      found[k] = 1;
    }
  }
  tr_model_free(m);
  assert_true(found[0] && found[1] && found[2]);

  sim_result base;
  tr_alloc_fail_after(0, 0);
  simulate(&base);
  long total = tr_alloc_count();
  assert_int_equal(base.rc, TR_OK);
  assert_true(base.saved > 1);
  assert_true(total > 100); /* the template is a real model: reader, flattener, VM storage */
  print_message("load + compile + simulate " TEMPLATE ": %ld allocations\n", total);

  for (int sticky = 0; sticky <= 1; sticky++) {
    long failures = 0;
    for (long n = 1; n <= total + 1; n++) {
      sim_result r;
      tr_alloc_fail_after(n, sticky);
      simulate(&r);
      tr_alloc_fail_after(0, 0);
      if (r.rc == TR_OK) {
        /* a failure that was absorbed must not change the answer */
        assert_int_equal(r.saved, base.saved);
        for (int k = 0; k < 3; k++)
          assert_memory_equal(&r.last[k], &base.last[k], sizeof(double));
      } else {
        assert_nomem(r.rc, &r.err, n, sticky);
        failures++;
      }
    }
    /* sticky: every N up to the total fails; N = total + 1 succeeds */
    if (sticky)
      assert_int_equal(failures, total);
    else
      assert_true(failures > 0);
  }
}

/* ---- KPI store: open and import ----------------------------------------------------------- */

static char dir[64];

static int setup_dir(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/tr_failinject.XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static void remove_store(void) {
  static const char *const names[] = {"tightrope.db", "tightrope.db-wal", "tightrope.db-shm",
                                      "tightrope.db-journal"};
  char path[128];
  for (int i = 0; i < 4; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    unlink(path);
  }
}

static int teardown_dir(void **state) {
  (void)state;
  char path[128];
  remove_store();
  snprintf(path, sizeof path, "%s/kpi.csv", dir);
  unlink(path);
  return rmdir(dir);
}

static int count_obs(void *ud, const tr_kpi_obs *o) {
  (void)o;
  (*(long *)ud)++;
  return 0;
}

static long observations(tr_store *s) {
  long n = 0;
  tr_error e;
  assert_int_equal(tr_store_observations(s, NULL, NULL, count_obs, &n, &e), TR_OK);
  return n;
}

static void test_store_open(void **state) {
  (void)state;
  char db[128];
  snprintf(db, sizeof db, "%s/tightrope.db", dir);
  tr_error e;
  tr_store *s = NULL;
  remove_store();
  tr_alloc_fail_after(0, 0);
  assert_int_equal(tr_store_open(&s, db, &e), TR_OK);
  long total = tr_alloc_count();
  tr_store_close(s);
  assert_true(total >= 1);
  for (int sticky = 0; sticky <= 1; sticky++) {
    for (long n = 1; n <= total + 1; n++) {
      remove_store();
      s = NULL;
      tr_error_clear(&e);
      tr_alloc_fail_after(n, sticky);
      int rc = tr_store_open(&s, db, &e);
      tr_alloc_fail_after(0, 0);
      if (rc == TR_OK) {
        assert_non_null(s);
        assert_int_equal(tr_store_schema_version(s), TR_STORE_SCHEMA_VERSION);
      } else {
        assert_null(s);
        assert_nomem(rc, &e, n, sticky);
      }
      tr_store_close(s);
    }
  }
}

static void test_store_import(void **state) {
  (void)state;
  char db[128], csv[128];
  snprintf(db, sizeof db, "%s/tightrope.db", dir);
  snprintf(csv, sizeof csv, "%s/kpi.csv", dir);
  FILE *f = fopen(csv, "w");
  assert_non_null(f);
  fputs("date,kpi,value,source\n", f);
  for (int m = 1; m <= 12; m++) {
    fprintf(f, "2024-%02d,mrr,%d,crm\n", m, 1000 + 50 * m);
    fprintf(f, "2024-%02d,churn,0.0%d,billing\n", m, m % 9 + 1);
  }
  fputs("2024-13,mrr,1,crm\n", f); /* one rejected row: the problem path allocates too */
  assert_int_equal(fclose(f), 0);

  tr_error e;
  tr_store *s = NULL;
  remove_store();
  assert_int_equal(tr_store_open(&s, db, &e), TR_OK);
  tr_import_report rep;
  memset(&rep, 0, sizeof rep);
  tr_alloc_fail_after(0, 0);
  assert_int_equal(tr_store_import_csv(s, csv, TR_KPI_LONG, TR_IMPORT_DRY_RUN, NULL, &rep, &e),
                   TR_OK);
  long total = tr_alloc_count();
  assert_int_equal(rep.rows_read, 25);
  assert_int_equal(rep.rows_valid, 24);
  assert_int_equal(rep.rows_rejected, 1);
  assert_int_equal(observations(s), 0);
  print_message("KPI import of 25 rows: %ld allocations\n", total);

  for (int sticky = 0; sticky <= 1; sticky++) {
    int imported = 0;
    for (long n = 1; n <= total + 50 && !imported; n++) {
      memset(&rep, 0, sizeof rep);
      tr_error_clear(&e);
      tr_alloc_fail_after(n, sticky);
      int rc = tr_store_import_csv(s, csv, TR_KPI_LONG, 0, NULL, &rep, &e);
      tr_alloc_fail_after(0, 0);
      if (rc == TR_OK) {
        imported = 1;
        assert_int_equal(rep.inserted, 24);
        assert_int_equal(observations(s), 24);
      } else {
        assert_nomem(rc, &e, n, sticky);
        assert_int_equal(observations(s), 0); /* one transaction: nothing half-written */
      }
    }
    assert_true(imported);
    /* start the next mode from an empty store */
    tr_store_close(s);
    remove_store();
    assert_int_equal(tr_store_open(&s, db, &e), TR_OK);
  }
  tr_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simulate_template),
      cmocka_unit_test(test_store_open),
      cmocka_unit_test(test_store_import),
  };
  return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
