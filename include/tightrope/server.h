/*
 * tightrope — the local web dashboard and JSON API (`tightrope serve`).
 *
 * A tr_server owns a libmicrohttpd daemon with a thread pool, the route table of the JSON API,
 * the web assets embedded in the binary at build time, and a job table for long computations.
 * Security model (docs/api.md): binds 127.0.0.1 by default; every request that changes
 * anything (any method but GET/HEAD) needs the workspace token in the `X-Tightrope-Token`
 * header, and so does every request when bound to a non-loopback address; the token is
 * compared in constant time. Bodies are size-limited; errors are JSON with a 4xx status.
 */
#ifndef TIGHTROPE_SERVER_H
#define TIGHTROPE_SERVER_H

#include "tightrope/base.h"

#include <stddef.h>

typedef struct tr_server tr_server;

typedef struct tr_server_options {
  const char *workspace; /* workspace folder (model.xmile, plan.yaml, tightrope.db); "." default */
  const char *bind;      /* IPv4 address to bind, default "127.0.0.1" */
  int port;              /* TCP port, default 8700; 0 picks a free port (see tr_server_port) */
  int threads;           /* worker threads in the pool, default 4 */
  size_t max_body;       /* request body limit in bytes, default 8 MiB */
  /* The Monte Carlo work one request may ask for: the runs of GET /api/assess?runs=N (its
   * default, 200, is lowered to this when larger) and of POST /api/scenarios, default 100,000;
   * the runs of a scenarios request answered directly ("wait": true), default 10,000 (a
   * request is held to both). Requests over a limit get a 400 naming it. */
  size_t max_runs;
  size_t max_wait_runs;
} tr_server_options;

/* Defaults for every field. */
void tr_server_options_init(tr_server_options *o);

/* Start serving. Creates the workspace token on first start (WORKSPACE/.tightrope/token, mode
 * 0600); *created_token is set to the new token (to print once) or NULL when it existed.
 * Errors: TR_ERR_IO (cannot bind, cannot write the token), TR_ERR_INVALID (bad address, a run
 * limit of 0). */
int tr_server_start(const tr_server_options *o, tr_server **out, const char **created_token,
                    tr_error *err);

/* The port actually bound (useful with port 0). */
int tr_server_port(const tr_server *s);

/* The workspace token (for tests and for printing the URL). */
const char *tr_server_token(const tr_server *s);

/* Stop the daemon, cancel and join running jobs, free everything. NULL is a no-op. */
void tr_server_stop(tr_server *s);

#endif
