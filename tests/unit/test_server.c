/* Unit tests for the server's pieces that need no socket: token comparison and the job
 * table (progress, result, cancel, failure, queueing). The HTTP surface is tested by
 * tests/suites/server.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/server_impl.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void nap_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

static void test_token_equal(void **state) {
  (void)state;
  assert_true(tr_http_token_equal("abc", "abc"));
  assert_false(tr_http_token_equal("abd", "abc"));
  assert_false(tr_http_token_equal("ab", "abc"));
  assert_false(tr_http_token_equal("abcd", "abc"));
  assert_false(tr_http_token_equal("", "abc"));
}

typedef struct {
  int steps;
  int fail;
  atomic_int started;
} work;

static cJSON *count_job(void *ctx, tr_job *job) {
  work *w = ctx;
  atomic_store(&w->started, 1);
  for (int i = 0; i < w->steps; i++) {
    if (tr_job_cancelled(job)) return NULL;
    tr_job_progress(job, (i + 1.0) / w->steps);
    nap_ms(1);
  }
  if (w->fail) {
    tr_job_fail(job, "deliberate failure");
    return NULL;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "steps", w->steps);
  return o;
}

static const char *wait_state(tr_jobs *j, long id) {
  static char st[32];
  for (int i = 0; i < 5000; i++) {
    cJSON *d = tr_jobs_describe(j, id, 0);
    snprintf(st, sizeof st, "%s", cJSON_GetObjectItem(d, "state")->valuestring);
    cJSON_Delete(d);
    if (strcmp(st, "queued") && strcmp(st, "running")) return st;
    nap_ms(2);
  }
  return "timeout";
}

static void test_jobs_lifecycle(void **state) {
  (void)state;
  tr_jobs *j = tr_jobs_new(1);
  assert_non_null(j);
  work ok = {20, 0, 0}, bad = {3, 1, 0}, slow = {100000, 0, 0};
  long a = tr_jobs_start(j, "count", count_job, &ok, NULL);
  long b = tr_jobs_start(j, "count", count_job, &bad, NULL);
  long c = tr_jobs_start(j, "count", count_job, &slow, NULL);
  assert_true(a > 0 && b > a && c > b);
  assert_string_equal(wait_state(j, a), "done");
  cJSON *d = tr_jobs_describe(j, a, 1);
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "result"), "steps")->valueint, 20);
  assert_true(cJSON_GetObjectItem(d, "progress")->valuedouble == 1.0);
  cJSON_Delete(d);
  assert_string_equal(wait_state(j, b), "failed");
  d = tr_jobs_describe(j, b, 1);
  assert_string_equal(cJSON_GetObjectItem(d, "error")->valuestring, "deliberate failure");
  cJSON_Delete(d);
  while (!atomic_load(&slow.started))
    nap_ms(1);
  assert_int_equal(tr_jobs_cancel(j, c), TR_OK);
  assert_string_equal(wait_state(j, c), "cancelled");
  assert_int_equal(tr_jobs_cancel(j, 12345), TR_ERR_NOT_FOUND);
  assert_null(tr_jobs_describe(j, 12345, 0));
  cJSON *l = tr_jobs_list(j);
  assert_int_equal(cJSON_GetArraySize(l), 3);
  cJSON_Delete(l);
  tr_jobs_free(j);
  tr_jobs_free(NULL);
}

/* Freeing the table while a job runs cancels and joins it. */
static void test_jobs_free_cancels(void **state) {
  (void)state;
  tr_jobs *j = tr_jobs_new(1);
  work slow = {100000, 0, 0}, queued = {10, 0, 0};
  tr_jobs_start(j, "slow", count_job, &slow, NULL);
  tr_jobs_start(j, "queued", count_job, &queued, NULL);
  while (!atomic_load(&slow.started))
    nap_ms(1);
  tr_jobs_free(j);
  assert_int_equal(atomic_load(&queued.started), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_token_equal),
      cmocka_unit_test(test_jobs_lifecycle),
      cmocka_unit_test(test_jobs_free_cancels),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
