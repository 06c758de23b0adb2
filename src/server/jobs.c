/*
 * Jobs: long computations (Monte Carlo, assess) run off the request threads, with an id,
 * progress and cancel, so the UI never blocks. Each job has its own thread; at most
 * `max_running` compute at once, the rest wait queued, at most JOBS_PENDING in all (each holds
 * a thread and its prepared computation, so a client cannot pile them up without bound).
 * Finished jobs are kept (newest 64) so their results can be fetched.
 */
#include "server/server_impl.h"

#include "base/progress.h"
#include "tightrope/base.h"

#include <stdio.h>
#include <string.h>

#define JOBS_KEEP 64
#define JOBS_PENDING 64 /* queued or running at once */

enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED, JOB_CANCELLED };
static const char *const state_names[] = {"queued", "running", "done", "failed", "cancelled"};

struct tr_job {
  long id;
  char kind[32];
  int state;                /* guarded by the table lock */
  atomic_uint progress_ppm; /* 0..1,000,000 */
  atomic_int cancel;
  char error[256];
  cJSON *result; /* owned once done */
  tr_job_fn fn;
  void *ctx;
  void (*free_ctx)(void *);
  volatile sig_atomic_t *stop; /* tr_job_link: set on cancel (guarded by the lock) */
  const tr_progress *counter;  /* tr_job_link: progress source (guarded by the lock) */
  uint64_t total;
  pthread_t thread;
  int joined;
  tr_jobs *owner;
  tr_job *next; /* newest first */
};

struct tr_jobs {
  pthread_mutex_t lock;
  pthread_cond_t slot_free;
  tr_job *head;
  long next_id;
  int running;
  int max_running;
};

tr_jobs *tr_jobs_new(int max_running) {
  tr_jobs *j = tr_calloc(1, sizeof *j);
  if (!j) return NULL;
  pthread_mutex_init(&j->lock, NULL);
  pthread_cond_init(&j->slot_free, NULL);
  j->next_id = 1;
  j->max_running = max_running > 0 ? max_running : 1;
  return j;
}

static void job_destroy(tr_job *job) {
  if (!job->joined) pthread_join(job->thread, NULL);
  cJSON_Delete(job->result);
  if (job->free_ctx) job->free_ctx(job->ctx);
  tr_free(job);
}

void tr_jobs_free(tr_jobs *j) {
  if (!j) return;
  pthread_mutex_lock(&j->lock);
  for (tr_job *job = j->head; job; job = job->next) {
    atomic_store(&job->cancel, 1);
    if (job->stop) *job->stop = 1;
  }
  pthread_cond_broadcast(&j->slot_free);
  pthread_mutex_unlock(&j->lock);
  tr_job *job = j->head;
  while (job) {
    tr_job *next = job->next;
    job_destroy(job);
    job = next;
  }
  pthread_cond_destroy(&j->slot_free);
  pthread_mutex_destroy(&j->lock);
  tr_free(j);
}

/* 1 when a job started before `job` is still queued (lock held): jobs start in FIFO order. */
static int older_queued(const tr_job *job) {
  for (const tr_job *o = job->next; o; o = o->next)
    if (o->state == JOB_QUEUED && !atomic_load(&o->cancel)) return 1;
  return 0;
}

static void *job_main(void *arg) {
  tr_job *job = arg;
  tr_jobs *j = job->owner;
  pthread_mutex_lock(&j->lock);
  while ((j->running >= j->max_running || older_queued(job)) && !atomic_load(&job->cancel))
    pthread_cond_wait(&j->slot_free, &j->lock);
  if (atomic_load(&job->cancel)) {
    job->state = JOB_CANCELLED;
    pthread_cond_broadcast(&j->slot_free); /* the next queued job may now be the oldest */
    pthread_mutex_unlock(&j->lock);
    return NULL;
  }
  job->state = JOB_RUNNING;
  j->running++;
  pthread_mutex_unlock(&j->lock);

  cJSON *result = job->fn(job->ctx, job);

  pthread_mutex_lock(&j->lock);
  j->running--;
  if (atomic_load(&job->cancel)) {
    job->state = JOB_CANCELLED;
    cJSON_Delete(result);
  } else if (result) {
    job->result = result;
    job->state = JOB_DONE;
    atomic_store(&job->progress_ppm, 1000000u);
  } else {
    job->state = JOB_FAILED;
    if (!job->error[0]) snprintf(job->error, sizeof job->error, "job failed");
  }
  pthread_cond_broadcast(&j->slot_free);
  pthread_mutex_unlock(&j->lock);
  return NULL;
}

/* Drop the oldest finished jobs beyond JOBS_KEEP (called with the lock held). */
static void prune(tr_jobs *j) {
  int n = 0;
  tr_job **link = &j->head;
  while (*link) {
    tr_job *job = *link;
    int finished =
        job->state == JOB_DONE || job->state == JOB_FAILED || job->state == JOB_CANCELLED;
    if (++n > JOBS_KEEP && finished) {
      *link = job->next;
      job_destroy(job);
      continue;
    }
    link = &job->next;
  }
}

long tr_jobs_start(tr_jobs *j, const char *kind, tr_job_fn fn, void *ctx,
                   void (*free_ctx)(void *)) {
  tr_job *job = tr_calloc(1, sizeof *job);
  if (!job) {
    if (free_ctx) free_ctx(ctx);
    return TR_ERR_NOMEM;
  }
  snprintf(job->kind, sizeof job->kind, "%s", kind);
  job->fn = fn;
  job->ctx = ctx;
  job->free_ctx = free_ctx;
  job->owner = j;
  atomic_init(&job->progress_ppm, 0u);
  atomic_init(&job->cancel, 0);
  pthread_mutex_lock(&j->lock);
  int pending = 0;
  for (const tr_job *o = j->head; o; o = o->next)
    pending += o->state == JOB_QUEUED || o->state == JOB_RUNNING;
  if (pending >= JOBS_PENDING) {
    pthread_mutex_unlock(&j->lock);
    if (free_ctx) free_ctx(ctx);
    tr_free(job);
    return TR_ERR_LIMIT;
  }
  job->id = j->next_id++;
  job->state = JOB_QUEUED;
  if (pthread_create(&job->thread, NULL, job_main, job) != 0) {
    pthread_mutex_unlock(&j->lock);
    job->joined = 1;
    if (free_ctx) free_ctx(ctx);
    tr_free(job);
    return TR_ERR_INTERNAL;
  }
  job->next = j->head;
  j->head = job;
  prune(j);
  long id = job->id;
  pthread_mutex_unlock(&j->lock);
  return id;
}

static tr_job *find(tr_jobs *j, long id) {
  for (tr_job *job = j->head; job; job = job->next)
    if (job->id == id) return job;
  return NULL;
}

static cJSON *describe(tr_job *job, int with_result) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddNumberToObject(o, "id", (double)job->id);
  cJSON_AddStringToObject(o, "kind", job->kind);
  cJSON_AddStringToObject(o, "state", state_names[job->state]);
  double progress = atomic_load(&job->progress_ppm) / 1e6;
  if (job->counter && job->total && job->state == JOB_RUNNING) {
    progress = (double)tr_progress_count(job->counter) / (double)job->total;
    if (progress > 1) progress = 1;
  }
  cJSON_AddNumberToObject(o, "progress", progress);
  if (job->state == JOB_FAILED) cJSON_AddStringToObject(o, "error", job->error);
  if (with_result && job->state == JOB_DONE && job->result)
    cJSON_AddItemToObject(o, "result", cJSON_Duplicate(job->result, 1));
  return o;
}

cJSON *tr_jobs_describe(tr_jobs *j, long id, int with_result) {
  pthread_mutex_lock(&j->lock);
  tr_job *job = find(j, id);
  cJSON *o = job ? describe(job, with_result) : NULL;
  pthread_mutex_unlock(&j->lock);
  return o;
}

cJSON *tr_jobs_list(tr_jobs *j) {
  cJSON *a = cJSON_CreateArray();
  if (!a) return NULL;
  pthread_mutex_lock(&j->lock);
  for (tr_job *job = j->head; job; job = job->next) {
    cJSON *o = describe(job, 0);
    if (o) cJSON_AddItemToArray(a, o);
  }
  pthread_mutex_unlock(&j->lock);
  return a;
}

int tr_jobs_cancel(tr_jobs *j, long id) {
  pthread_mutex_lock(&j->lock);
  tr_job *job = find(j, id);
  if (job) {
    atomic_store(&job->cancel, 1);
    if (job->stop) *job->stop = 1;
  }
  pthread_cond_broadcast(&j->slot_free);
  pthread_mutex_unlock(&j->lock);
  return job ? TR_OK : TR_ERR_NOT_FOUND;
}

void tr_job_progress(tr_job *job, double fraction) {
  if (fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  atomic_store(&job->progress_ppm, (unsigned)(fraction * 1e6));
}

void tr_job_link(tr_job *job, volatile sig_atomic_t *stop, const tr_progress *p, uint64_t total) {
  pthread_mutex_lock(&job->owner->lock);
  job->stop = stop;
  job->counter = p;
  job->total = total;
  if (stop && atomic_load(&job->cancel)) *stop = 1;
  pthread_mutex_unlock(&job->owner->lock);
}

int tr_job_cancelled(tr_job *job) {
  return atomic_load(&job->cancel);
}

void tr_job_fail(tr_job *job, const char *msg) {
  snprintf(job->error, sizeof job->error, "%s", msg);
}
