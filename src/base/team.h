/*
 * A team of threads for data-parallel jobs: the calling thread and `threads - 1` workers run
 * the tasks of one job (task 0 .. n - 1: the caller claims them from the first, the workers
 * from the last, so that they work on different memory) and tr_team_run returns when every
 * task has finished, so the caller may then read everything the tasks wrote. The thread id
 * given to a task (0 = the caller) lets it use per-thread scratch without locks. Jobs follow
 * each other quickly (a Monte Carlo round is two jobs a few milliseconds long), so idle threads
 * spin briefly before they sleep.
 *
 * Written here rather than taken from OpenMP: the runner needs the caller to take part, thread
 * ids for per-thread simulators, and deterministic results do not depend on the schedule.
 */
#ifndef TR_BASE_TEAM_H
#define TR_BASE_TEAM_H

#include <stddef.h>

typedef struct tr_team tr_team;

typedef void (*tr_team_fn)(void *ctx, size_t task, size_t tid);

/* A team of `threads` threads (>= 1; 1 = the caller alone, no worker is started). TR_OK, or
 * TR_ERR_NOMEM when a thread or memory cannot be had (*out is then NULL, nothing is left). */
int tr_team_new(tr_team **out, int threads);

/* Threads in the team, the caller included. */
size_t tr_team_size(const tr_team *t);

/* Run fn(ctx, task, tid) for every task < ntasks; tid < tr_team_size(t). A task must not run
 * a job on the same team. */
void tr_team_run(tr_team *t, tr_team_fn fn, void *ctx, size_t ntasks);

/* Each thread's own part of a job: called once on every thread of the team, with its tid. */
typedef void (*tr_team_own_fn)(void *ctx, size_t tid);

/* As tr_team_run, then every thread, once it finds no task left, runs own(ctx, tid) once
 * (own may be NULL). Work given to a thread by its tid stays on that thread from job to job,
 * so the memory it touches stays in that core's caches. */
void tr_team_run_own(tr_team *t, tr_team_fn fn, void *ctx, size_t ntasks, tr_team_own_fn own);

/* Stop the workers and free the team; NULL is a no-op. */
void tr_team_free(tr_team *t);

#endif
