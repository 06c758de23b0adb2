/* The thread team: every task of every job runs exactly once, thread ids stay in range, the
 * caller sees the tasks' writes when a job returns, and a team that cannot be made leaves
 * nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/team.h"
#include "tightrope/base.h"

#include <stdatomic.h>
#include <string.h>

enum { TASKS = 97, JOBS = 3000 };

typedef struct job {
  int runs[TASKS];     /* times each task ran in this job (a task writes only its own) */
  size_t tid[TASKS];   /* the thread that ran it */
  _Atomic int bad_tid; /* a thread id out of range was seen */
  size_t size;
  int own[8]; /* own parts run, by thread id (each writes only its own) */
} job;

static void own_part(void *ctx, size_t tid) {
  job *j = ctx;
  if (tid < 8) j->own[tid]++;
  if (tid >= j->size) atomic_store(&j->bad_tid, 1);
}

static void count_task(void *ctx, size_t task, size_t tid) {
  job *j = ctx;
  j->runs[task]++;
  j->tid[task] = tid;
  if (tid >= j->size) atomic_store(&j->bad_tid, 1);
}

/* team-1: thousands of short jobs in a row (the hand-over between jobs is where a lost
 * wake-up would hang) run each task once, for 1, 2 and 4 threads, and with tr_team_run_own
 * every thread runs its own part exactly once per job (so every worker took part in every
 * such job, even one published before the worker first ran). */
static void test_every_task_once(void **state) {
  (void)state;
  static const int sizes[] = {1, 2, 4};
  for (int s = 0; s < 3; s++) {
    tr_team *t;
    assert_int_equal(tr_team_new(&t, sizes[s]), TR_OK);
    assert_int_equal(tr_team_size(t), (size_t)sizes[s]);
    for (int n = 0; n < JOBS; n++) {
      job j;
      memset(&j, 0, sizeof j);
      atomic_init(&j.bad_tid, 0);
      j.size = tr_team_size(t);
      size_t ntasks = (size_t)(n % TASKS); /* 0 .. 96 */
      int with_own = n % 2;
      if (with_own)
        tr_team_run_own(t, count_task, &j, ntasks, own_part);
      else
        tr_team_run(t, count_task, &j, ntasks);
      for (size_t k = 0; k < TASKS; k++)
        assert_int_equal(j.runs[k], k < ntasks ? 1 : 0);
      for (size_t k = 0; k < 8; k++)
        assert_int_equal(j.own[k], with_own && k < j.size ? 1 : 0);
      assert_int_equal(atomic_load(&j.bad_tid), 0);
    }
    tr_team_free(t);
  }
}

/* team-2: a job of no task returns at once; free(NULL) is a no-op. */
static void test_empty(void **state) {
  (void)state;
  tr_team *t;
  assert_int_equal(tr_team_new(&t, 2), TR_OK);
  tr_team_run(t, count_task, NULL, 0);
  tr_team_free(t);
  tr_team_free(NULL);
}

/* team-3: when memory runs out, tr_team_new fails cleanly (LSan sees no leak). */
static void test_alloc_failure(void **state) {
  (void)state;
  for (long n = 1; n <= 2; n++) { /* the team, then its members */
    tr_team *t = (tr_team *)&n;
    tr_alloc_fail_after(n, 1);
    assert_int_equal(tr_team_new(&t, 3), TR_ERR_NOMEM);
    tr_alloc_fail_after(0, 0);
    assert_null(t);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_task_once),
      cmocka_unit_test(test_empty),
      cmocka_unit_test(test_alloc_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
