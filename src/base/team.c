/* The thread team (team.h). */
#include "base/team.h"

#include "tightrope/base.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The hand-overs between jobs must be quick: a worker that has finished spins for a while
 * (SPIN_NS) watching for the next job before it sleeps on the condition variable, and so
 * does the caller waiting for the last task. Waking a sleeping thread took up to a millisecond
 * on the virtual machines this was measured on: without the spin, two threads were slower
 * than one on a 100,000-run study. Claims and sleeps go through the mutex; `job` and
 * `finished` are also read without it while spinning, hence atomics. */
#define SPIN_NS 200000L

typedef struct member {
  tr_team *t;
  size_t tid;
  pthread_t th;
} member;

struct tr_team {
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  member *mem;          /* the workers */
  size_t n;             /* workers started */
  _Atomic uint64_t job; /* counts jobs: a worker waits for the next */
  tr_team_fn fn;
  void *ctx;
  tr_team_own_fn own;      /* each thread's own part of the job, or NULL */
  size_t next, end, total; /* tasks [next, end) unclaimed; total: tasks + own parts */
  _Atomic size_t finished;
  _Atomic int quit;
};

/* One turn of a spin loop: the x86 PAUSE hint tells the core (and, in a virtual machine, the
 * hypervisor) that this thread only waits, so that a sibling hardware thread doing the real
 * work gets the execution units, and a spinning vCPU can be descheduled. */
static inline void cpu_relax(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __builtin_ia32_pause();
#endif
}

static long elapsed_ns(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

/* Spin until *v != old (or quit), at most SPIN_NS; checks the clock every 256 turns. */
static void spin_while_u64(const _Atomic uint64_t *v, uint64_t old, const _Atomic int *quit) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (unsigned i = 1; atomic_load_explicit(v, memory_order_acquire) == old &&
                       !atomic_load_explicit(quit, memory_order_relaxed);
       i++) {
    cpu_relax();
    if (i % 256 == 0 && elapsed_ns(&t0) > SPIN_NS) return;
  }
}

static void spin_until_size(const _Atomic size_t *v, size_t want) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (unsigned i = 1; atomic_load_explicit(v, memory_order_acquire) < want; i++) {
    cpu_relax();
    if (i % 256 == 0 && elapsed_ns(&t0) > SPIN_NS) return;
  }
}

/* TWO_ENDS: the calling thread claims tasks from the first, the workers from the last. Tasks
 * next to each other usually touch memory next to each other (a Monte Carlo round's chunks
 * write consecutive runs), so the caller and the workers then work in different places until
 * they meet: in a new process, two threads faulting in the same fresh 2 MiB page wait for
 * each other. */

/* Claim and run tasks of the current job until none is left (called with mu held). */
static void work(tr_team *t, size_t tid) {
  while (t->next < t->end) {
    size_t task = tid == 0 ? t->next++ : --t->end; /* see TWO_ENDS */
    pthread_mutex_unlock(&t->mu);
    t->fn(t->ctx, task, tid);
    pthread_mutex_lock(&t->mu);
    if (atomic_fetch_add(&t->finished, 1) + 1 == t->total) pthread_cond_signal(&t->done);
  }
  if (t->own) {
    pthread_mutex_unlock(&t->mu);
    t->own(t->ctx, tid);
    pthread_mutex_lock(&t->mu);
    if (atomic_fetch_add(&t->finished, 1) + 1 == t->total) pthread_cond_signal(&t->done);
  }
}

static void *worker(void *arg) {
  member *m = arg;
  tr_team *t = m->t;
  pthread_mutex_lock(&t->mu);
  uint64_t seen = 0; /* jobs count from 1: a job published before this thread ran is not missed */
  for (;;) {
    if (atomic_load(&t->job) == seen && !atomic_load(&t->quit)) {
      pthread_mutex_unlock(&t->mu);
      spin_while_u64(&t->job, seen, &t->quit);
      pthread_mutex_lock(&t->mu);
    }
    while (!atomic_load(&t->quit) && atomic_load(&t->job) == seen)
      pthread_cond_wait(&t->go, &t->mu);
    if (atomic_load(&t->quit)) break;
    seen = atomic_load(&t->job);
    work(t, m->tid);
  }
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

int tr_team_new(tr_team **out, int threads) {
  *out = NULL;
  tr_team *t = tr_calloc(1, sizeof *t);
  if (!t) return TR_ERR_NOMEM;
  atomic_init(&t->job, 0);
  atomic_init(&t->finished, 0);
  atomic_init(&t->quit, 0);
  if (threads > 1) {
    t->mem = tr_calloc((size_t)threads - 1, sizeof *t->mem);
    if (!t->mem) {
      tr_free(t);
      return TR_ERR_NOMEM;
    }
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->go, NULL);
    pthread_cond_init(&t->done, NULL);
    for (size_t i = 0; i + 1 < (size_t)threads; i++) {
      t->mem[i].t = t;
      t->mem[i].tid = i + 1;
      if (pthread_create(&t->mem[i].th, NULL, worker, &t->mem[i]) != 0) break;
      t->n++;
    }
    if (t->n + 1 != (size_t)threads) {
      tr_team_free(t);
      return TR_ERR_NOMEM;
    }
  }
  *out = t;
  return TR_OK;
}

size_t tr_team_size(const tr_team *t) {
  return t->n + 1;
}

void tr_team_free(tr_team *t) {
  if (!t) return;
  if (t->mem) {
    pthread_mutex_lock(&t->mu);
    atomic_store(&t->quit, 1);
    pthread_cond_broadcast(&t->go);
    pthread_mutex_unlock(&t->mu);
    for (size_t i = 0; i < t->n; i++)
      pthread_join(t->mem[i].th, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->go);
    pthread_cond_destroy(&t->done);
    tr_free(t->mem);
  }
  tr_free(t);
}

void tr_team_run(tr_team *t, tr_team_fn fn, void *ctx, size_t ntasks) {
  tr_team_run_own(t, fn, ctx, ntasks, NULL);
}

void tr_team_run_own(tr_team *t, tr_team_fn fn, void *ctx, size_t ntasks, tr_team_own_fn own) {
  if (t->n == 0) {
    for (size_t i = 0; i < ntasks; i++)
      fn(ctx, i, 0);
    if (own) own(ctx, 0);
    return;
  }
  pthread_mutex_lock(&t->mu);
  t->fn = fn;
  t->ctx = ctx;
  t->own = own;
  t->end = ntasks;
  t->total = ntasks + (own ? t->n + 1 : 0);
  t->next = 0;
  atomic_store(&t->finished, 0);
  atomic_fetch_add_explicit(&t->job, 1, memory_order_release);
  pthread_cond_broadcast(&t->go);
  work(t, 0);
  size_t total = t->total;
  if (atomic_load(&t->finished) < total) {
    pthread_mutex_unlock(&t->mu);
    spin_until_size(&t->finished, total);
    pthread_mutex_lock(&t->mu);
  }
  while (atomic_load(&t->finished) < total)
    pthread_cond_wait(&t->done, &t->mu);
  pthread_mutex_unlock(&t->mu);
}
