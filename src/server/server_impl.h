/* Private to src/server: request/response types, the route table and the job table. */
#ifndef TR_SERVER_IMPL_H
#define TR_SERVER_IMPL_H

#include "base/strbuf.h"
#include "tightrope/server.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct tr_jobs tr_jobs;

struct tr_server {
  struct MHD_Daemon *daemon;
  tr_server_options opt;
  char workspace[1024];
  char token[65]; /* 64 hex characters */
  int loopback;   /* bound to a loopback address */
  int port;
  tr_jobs *jobs;
  pthread_mutex_t ws_lock; /* serialises writes of workspace files */
  pthread_mutex_t cache_lock;
  char *assess_text;    /* the last GET /api/assess result (guarded by cache_lock) */
  long assess_stamp[4]; /* the plan, model and store times and the runs it was made for */
};

/* One request as the handlers see it. */
typedef struct tr_http_req {
  tr_server *srv;
  const char *method;
  const char *path;      /* URL path without the query */
  const char *params[4]; /* values of {name} segments of the matched route, in order */
  int nparams;
  const char *body; /* NUL-terminated body ("" when none) */
  size_t body_len;
  cJSON *json; /* the parsed body for routes that take JSON, else NULL */
  struct MHD_Connection *conn;
  /* The arguments of the URL's query when tr_http_handle was given one (no connection: the
   * fuzzer, tests): names and %-decoded values, in order. Read them with tr_http_query. */
  const char *qname[16], *qvalue[16];
  int nquery;
} tr_http_req;

/* The query argument `name` of a request: from its connection when it has one (libmicrohttpd
 * parsed and decoded it), else from the query of the URL tr_http_handle was given; the first
 * when repeated, NULL when absent. */
const char *tr_http_query(const tr_http_req *req, const char *name);

/* What a handler produces: a status and a JSON document (owned), or raw bytes. */
typedef struct tr_http_resp {
  int status;
  cJSON *json; /* owned; freed by the dispatcher */
  char *text;  /* owned (tr_malloc); used when json is NULL */
  const char *content_type;
} tr_http_resp;

enum {
  TR_ROUTE_JSON_BODY = 1 << 0, /* the body must be a JSON object (400 otherwise) */
  TR_ROUTE_PUBLIC = 1 << 1     /* no token needed even for writes (none so far) */
};

typedef struct tr_route {
  const char *method;  /* "GET", "POST", "PUT", "DELETE" */
  const char *pattern; /* "/api/jobs/{id}" */
  void (*handler)(tr_http_req *, tr_http_resp *);
  unsigned flags;
  const char *summary; /* for GET /api and docs/api.md */
} tr_route;

extern const tr_route tr_routes[];
extern const int tr_nroutes;

/* What tr_http_handle decides for one request: an embedded asset, or a response. */
typedef struct tr_http_result {
  tr_http_resp resp;            /* the response (owned: its json/text) when asset is NULL */
  const struct tr_asset *asset; /* an embedded asset to serve with status 200, or NULL */
  char allow[64];               /* the Allow header of a 405, "" when none */
} tr_http_result;

/* Handle one request without touching the socket: path checks, authentication (`token` is
 * the X-Tightrope-Token header's value, NULL when absent), routing, JSON body parsing and the
 * route's handler. `body` is NUL-terminated at body_len; `conn` is passed on to handlers and
 * may be NULL. When conn is NULL, `url` may end in a query ("?runs=20&x=y", at most 16
 * arguments in 2 KiB, else 414), which tr_http_query then reads (libmicrohttpd's URLs carry
 * none: a '?' in them is a decoded %3F of the path).
 * Returns the HTTP status; the caller sends out->resp (and so frees it). Lets the fuzzer and
 * unit tests drive the request logic with no daemon. */
int tr_http_handle(tr_server *srv, const char *method, const char *url, const char *token,
                   const char *body, size_t body_len, struct MHD_Connection *conn,
                   tr_http_result *out);

/* Set resp to a JSON error {"error": {"status": S, "message": "..."}}. */
void tr_http_error(tr_http_resp *resp, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Set resp to 200 with `json` (ownership taken). NULL json (out of memory) becomes a 500. */
void tr_http_json(tr_http_resp *resp, int status, cJSON *json);

/* Constant-time comparison of two NUL-terminated strings; 1 when equal. */
int tr_http_token_equal(const char *a, const char *b);

/* Job table (jobs.c). A job runs fn(ctx, job) on its own thread; fn reports progress with
 * tr_job_progress and polls tr_job_cancelled, and returns a JSON result (owned) or NULL with
 * an error message set by tr_job_fail. */
typedef struct tr_job tr_job;
typedef cJSON *(*tr_job_fn)(void *ctx, tr_job *job);
tr_jobs *tr_jobs_new(int max_running);
void tr_jobs_free(tr_jobs *j); /* cancels and joins everything; NULL is a no-op */
/* Start a job; returns its id (> 0) or a negative status: TR_ERR_LIMIT when 64 jobs are
 * already queued or running, TR_ERR_NOMEM, TR_ERR_INTERNAL. On failure ctx is freed with
 * free_ctx. */
long tr_jobs_start(tr_jobs *j, const char *kind, tr_job_fn fn, void *ctx, void (*free_ctx)(void *));
/* JSON view of a job: id, kind, state (queued|running|done|failed|cancelled), progress 0..1,
 * and the result when done. NULL when no such job. */
cJSON *tr_jobs_describe(tr_jobs *j, long id, int with_result);
cJSON *tr_jobs_list(tr_jobs *j);
int tr_jobs_cancel(tr_jobs *j, long id); /* TR_OK or TR_ERR_NOT_FOUND */
void tr_job_progress(tr_job *job, double fraction);
/* Link a running computation to its job: cancelling the job sets *stop, and the job's
 * progress is read from the counter of `p` out of `total` (both may be NULL/0). Call from the
 * job function before it starts the computation, and again with NULLs before they go away. */
struct tr_progress;
void tr_job_link(tr_job *job, volatile sig_atomic_t *stop, const struct tr_progress *p,
                 uint64_t total);
int tr_job_cancelled(tr_job *job);
void tr_job_fail(tr_job *job, const char *msg);

#endif
