/* Unit tests: progress formatting (pure functions: rate, duration/ETA, whole line), the
 * thread-safe counter, rate-limited redraws and silence on a non-terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/progress.h"
#include "tightrope/base.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void test_format_rate(void **state) {
  (void)state;
  char b[32];
  struct {
    double v;
    const char *want;
  } cases[] = {{0.5, "0.50/s"},     {9.994, "9.99/s"},  {12.34, "12.3/s"},  {512, "512/s"},
               {999.4, "999/s"},    {999.6, "1.00k/s"}, {12345, "12.3k/s"}, {1.2e6, "1.20M/s"},
               {345.6e9, "346G/s"}, {0, "0.00/s"},      {-1, "-/s"},        {NAN, "-/s"},
               {INFINITY, "-/s"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tr_progress_format_rate(b, sizeof b, cases[i].v);
    assert_string_equal(b, cases[i].want);
  }
}

static void test_format_duration(void **state) {
  (void)state;
  char b[32];
  tr_progress_format_duration(b, sizeof b, 0);
  assert_string_equal(b, "0:00");
  tr_progress_format_duration(b, sizeof b, 4.2); /* rounded up: never promise too early */
  assert_string_equal(b, "0:05");
  tr_progress_format_duration(b, sizeof b, 62);
  assert_string_equal(b, "1:02");
  tr_progress_format_duration(b, sizeof b, 3723);
  assert_string_equal(b, "1:02:03");
  tr_progress_format_duration(b, sizeof b, -1);
  assert_string_equal(b, "--:--");
  tr_progress_format_duration(b, sizeof b, NAN);
  assert_string_equal(b, "--:--");
  tr_progress_format_duration(b, sizeof b, 1e12);
  assert_string_equal(b, "--:--");
}

static void test_format_line(void **state) {
  (void)state;
  char b[256];
  /* 3,700 of 10,000 in 3 s: 1.23k/s, 6,300 left -> 5.1 s -> ETA 0:06 */
  tr_progress_format(b, sizeof b, "import", 3700, 10000, 3.0, 20);
  assert_string_equal(b, "import [#######.............]  37%  3,700/10,000  1.23k/s  ETA 0:06");
  tr_progress_format(b, sizeof b, "runs", 1000, 1000, 2.0, 0);
  assert_string_equal(b, "runs 100%  1,000/1,000  500/s  ETA 0:00");
  tr_progress_format(b, sizeof b, "rows", 1234567, 0, 61.0, 20);
  assert_string_equal(b, "rows  1,234,567  20.2k/s  1:01");
  /* nothing done yet: no rate, no ETA */
  tr_progress_format(b, sizeof b, "mc", 0, 500, 0.0, 4);
  assert_string_equal(b, "mc [....]   0%  0/500  -/s  ETA --:--");
  /* more than the total (a miscounting caller) stays at 100% */
  tr_progress_format(b, sizeof b, "x", 12, 10, 1.0, 2);
  assert_string_equal(b, "x [##] 100%  12/10  12.0/s  ETA 0:00");
  /* truncation is safe */
  char small[8];
  int n = tr_progress_format(small, sizeof small, "import", 1, 2, 1.0, 10);
  assert_true(n > 7);
  assert_int_equal(strlen(small), 7);
}

typedef struct worker {
  tr_progress *p;
  int n;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  for (int i = 0; i < w->n; i++)
    tr_progress_add(w->p, 1);
  return NULL;
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Four threads add concurrently: the count is exact and the drawing is rate-limited. */
static void test_threads_and_rate_limit(void **state) {
  (void)state;
  FILE *f = tmpfile();
  assert_non_null(f);
  tr_progress *p = tr_progress_new(f, "mc", 4 * 300000, TR_PROGRESS_FORCE);
  assert_non_null(p);
  double t0 = seconds_now();
  pthread_t th[4];
  worker w = {p, 300000};
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&th[i], NULL, work, &w), 0);
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  double dt = seconds_now() - t0;
  assert_int_equal(tr_progress_count(p), 1200000);
  tr_progress_finish(p);
  tr_progress_free(p);
  rewind(f);
  int draws = 0, ch, last = 0;
  while ((ch = fgetc(f)) != EOF) {
    if (ch == '\r') draws++;
    last = ch;
  }
  fclose(f);
  assert_int_equal(last, '\n');
  assert_true(draws >= 1);
  assert_true(draws <= (int)(dt * 10.0) + 2);
}

/* Not a terminal and no flag: nothing is written at all. */
static void test_silent_when_not_a_terminal(void **state) {
  (void)state;
  FILE *f = tmpfile();
  assert_non_null(f);
  tr_progress *p = tr_progress_new(f, "quiet", 10, 0);
  for (int i = 0; i < 10; i++)
    tr_progress_add(p, 1);
  tr_progress_finish(p);
  assert_int_equal(tr_progress_count(p), 10);
  tr_progress_free(p);
  assert_int_equal(ftell(f), 0);
  fclose(f);
  /* PLAIN: one final plain line, no carriage returns or escapes */
  f = tmpfile();
  p = tr_progress_new(f, "plain", 4, TR_PROGRESS_PLAIN);
  tr_progress_add(p, 4);
  tr_progress_finish(p);
  tr_progress_free(p);
  rewind(f);
  char line[256] = "";
  assert_non_null(fgets(line, sizeof line, f));
  assert_int_equal(strncmp(line, "plain 100%  4/4  ", 17), 0);
  assert_null(strchr(line, '\r'));
  fclose(f);
}

static void test_null_and_nomem(void **state) {
  (void)state;
  tr_progress_add(NULL, 1);
  tr_progress_finish(NULL);
  tr_progress_free(NULL);
  assert_int_equal(tr_progress_count(NULL), 0);
  for (long n = 1; n <= 2; n++) {
    tr_alloc_fail_after(n, 0);
    assert_null(tr_progress_new(NULL, "x", 1, 0));
  }
  tr_alloc_fail_after(0, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_format_rate),
      cmocka_unit_test(test_format_duration),
      cmocka_unit_test(test_format_line),
      cmocka_unit_test(test_threads_and_rate_limit),
      cmocka_unit_test(test_silent_when_not_a_terminal),
      cmocka_unit_test(test_null_and_nomem),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
