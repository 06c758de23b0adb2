/*
 * Fuzz target: the HTTP request logic of `tightrope serve` (tr_http_handle: path checks,
 * token authentication, routing, JSON body parsing, handlers), without a socket. The input
 * is a request in a loose HTTP form:
 *     METHOD SP URL [SP anything] LF
 *     (Name: value LF)*
 *     LF
 *     body
 * An "X-Tightrope-Token: @" header stands for the right token (so the fuzzer reaches the
 * handlers behind authentication). The URL keeps its query ("?runs=20"): tr_http_handle
 * reads it when there is no connection, so the handlers' query arguments are fuzzed too. Bit
 * 0 of the last byte picks a loopback or a public bind; bit 1 cancels a job the request
 * started as soon as it has started. Every response is a status in 200..599 with a JSON body
 * or an asset; nothing leaks.
 *
 * The compute-bound routes (GET /api/assess, POST /api/scenarios) are fuzzed too: the server
 * is started with a run limit of FUZZ_MAX_RUNS, so the most work one request may ask for is a
 * few milliseconds under the sanitizers, and requests over it exercise the limit checks; no
 * result may hold more runs. A request that starts a job is waited for until the job ends,
 * so jobs never pile up.
 */
#include "fuzz.h"

#include "server/assets.h"
#include "server/server_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The server's run limits (tr_server_options.max_runs, max_wait_runs) while fuzzing. */
#define FUZZ_MAX_RUNS 16

/* One server structure (no daemon) for the session. Its workspace is a private folder
 * holding the embedded SaaS template (model.xmile, plan.yaml), so the handlers behind the
 * routes — simulate, levers, plan, model, KPIs — do their real work on real files, and
 * touch nothing outside it. */
static tr_server *g_srv;
static char g_dir[64];

static void cleanup(void) {
  tr_server_stop(g_srv); /* frees whatever the handlers cached in the server */
  g_srv = NULL;
  fuzz_rm_tree(g_dir);
}

/* Copy [s, e) into a new NUL-terminated string (plain malloc: test scaffolding). */
static char *dup_range(const char *s, const char *e) {
  char *r = malloc((size_t)(e - s) + 1);
  if (!r) abort();
  memcpy(r, s, (size_t)(e - s));
  r[e - s] = '\0';
  return r;
}

/* Write the embedded template file `name` ("saas/model.xmile") as DIR/as, with each of the
 * `nedit` (from, to) text pairs of `edit` replaced once (each must be found). */
static void write_template(const char *name, const char *as, const char *const (*edit)[2],
                           int nedit) {
  for (int i = 0; i < tr_templates_count; i++) {
    if (strcmp(tr_templates[i].name, name) != 0) continue;
    char *text = dup_range((const char *)tr_templates[i].data,
                           (const char *)tr_templates[i].data + tr_templates[i].size);
    for (int k = 0; k < nedit; k++) {
      char *at = strstr(text, edit[k][0]);
      if (!at) {
        fprintf(stderr, "fuzz_http: %s has no '%s'\n", name, edit[k][0]);
        abort();
      }
      size_t fl = strlen(edit[k][0]), tl = strlen(edit[k][1]), rest = strlen(at + fl);
      size_t pos = (size_t)(at - text);
      char *t = malloc(pos + tl + rest + 1);
      if (!t) abort();
      memcpy(t, text, pos);
      memcpy(t + pos, edit[k][1], tl);
      memcpy(t + pos + tl, at + fl, rest + 1);
      free(text);
      text = t;
    }
    char path[128];
    snprintf(path, sizeof path, "%s/%s", g_dir, as);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (fputs(text, f) == EOF) abort();
    fclose(f);
    free(text);
  }
}

/* The server is started as `tightrope serve` starts it (port 0 on the loopback address, so
 * its structure is always initialised as the real one is); its daemon stays idle, as every
 * request goes straight to tr_http_handle. */
static tr_server *server(void) {
  if (g_srv) return g_srv;
  if (fuzz_scratch_dir("/tmp", "tr_fuzz_http", g_dir, sizeof g_dir) != 0) abort();
  /* Monthly steps over two years (not quarter months over five): a Monte Carlo request that
   * summarises every variable writes 25 saved times instead of 241, ten times less work. */
  static const char *const model_edit[][2] = {{"<stop>60</stop>", "<stop>24</stop>"},
                                              {"<dt>0.25</dt>", "<dt>1</dt>"}};
  static const char *const plan_edit[][2] = {{"horizon: 36", "horizon: 24"}};
  write_template("saas/model.xmile", "model.xmile", model_edit, 2);
  write_template("saas/plan.yaml", "plan.yaml", plan_edit, 1);
  tr_server_options o;
  tr_server_options_init(&o);
  o.workspace = g_dir;
  o.port = 0;
  o.threads = 1;
  o.max_runs = FUZZ_MAX_RUNS;
  o.max_wait_runs = FUZZ_MAX_RUNS;
  tr_error err;
  tr_error_clear(&err);
  if (tr_server_start(&o, &g_srv, NULL, &err) != TR_OK) {
    fprintf(stderr, "fuzz_http: %s\n", tr_error_text(&err));
    abort();
  }
  atexit(cleanup);
  return g_srv;
}

/* The run limit holds: a Monte Carlo result — of POST /api/scenarios ("runs"), of GET
 * /api/assess ("runs" of each scenario) — has at most FUZZ_MAX_RUNS runs. */
static void check_runs(const cJSON *o) {
  if (cJSON_IsRaw(o)) { /* a study's JSON as written (api_scenarios.c): it must parse */
    cJSON *p = cJSON_Parse(o->valuestring);
    if (!p) abort();
    check_runs(p);
    cJSON_Delete(p);
    return;
  }
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "runs");
  if (cJSON_IsNumber(r) && r->valuedouble > FUZZ_MAX_RUNS) abort();
  const cJSON *sc = cJSON_GetObjectItemCaseSensitive(o, "scenarios");
  for (const cJSON *e = cJSON_IsArray(sc) ? sc->child : NULL; e; e = e->next) {
    r = cJSON_GetObjectItemCaseSensitive(e, "runs");
    if (cJSON_IsNumber(r) && r->valuedouble > FUZZ_MAX_RUNS) abort();
  }
}

/* Wait until the job a 202 answer names ({"id": N, ...}: a Monte Carlo job started, or one
 * cancelled) has ended, cancelling it first when `cancel` is set; check a result it left. A
 * job of at most FUZZ_MAX_RUNS runs that has not ended in 20 s hangs: abort. */
static void wait_job(tr_server *srv, const cJSON *json, int cancel) {
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(json, "id");
  if (!cJSON_IsNumber(id)) abort(); /* every 202 of the API names its job */
  long n = (long)id->valuedouble;
  if (cancel && tr_jobs_cancel(srv->jobs, n) != TR_OK) abort();
  for (int i = 0; i < 200000; i++) {
    cJSON *d = tr_jobs_describe(srv->jobs, n, 1);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(d, "state");
    if (!cJSON_IsString(st)) abort();
    int busy = !strcmp(st->valuestring, "queued") || !strcmp(st->valuestring, "running");
    if (!busy) check_runs(cJSON_GetObjectItemCaseSensitive(d, "result"));
    cJSON_Delete(d);
    if (!busy) return;
    struct timespec ts = {0, 100000L};
    nanosleep(&ts, NULL);
  }
  fprintf(stderr, "fuzz_http: job %ld has not ended in 20 s\n", n);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_server *srv = server();
  const char *p = (const char *)data, *end = p + size;
  srv->loopback = size == 0 || !(data[size - 1] & 1);

  /* request line */
  const char *eol = memchr(p, '\n', size);
  if (!eol) eol = end;
  const char *sp = memchr(p, ' ', (size_t)(eol - p));
  if (!sp) return 0;
  char *method = dup_range(p, sp);
  const char *u = sp + 1, *ue = memchr(u, ' ', (size_t)(eol - u));
  if (!ue) ue = eol;
  char *url = dup_range(u, ue);

  /* headers: only the token one matters to the handler logic */
  char *token = NULL;
  p = eol < end ? eol + 1 : end;
  while (p < end && *p != '\n') {
    const char *le = memchr(p, '\n', (size_t)(end - p));
    if (!le) le = end;
    static const char name[] = "X-Tightrope-Token:";
    size_t nl = sizeof name - 1;
    if ((size_t)(le - p) >= nl && strncasecmp(p, name, nl) == 0) {
      const char *v = p + nl;
      while (v < le && *v == ' ')
        v++;
      free(token);
      token = dup_range(v, le);
      if (!strcmp(token, "@")) {
        free(token);
        token = dup_range(srv->token, srv->token + 64);
      }
    }
    p = le < end ? le + 1 : end;
  }
  if (p < end) p++; /* the blank line */
  char *body = dup_range(p, end);

  tr_http_result out;
  int status = tr_http_handle(srv, method, url, token, body, (size_t)(end - p), NULL, &out);
  if (status < 200 || status > 599 || status != (out.asset ? 200 : out.resp.status)) abort();
  if (status == 200) check_runs(out.resp.json);
  if (status == 202) wait_job(srv, out.resp.json, size > 0 && (data[size - 1] & 2));
  if (out.resp.json) {
    char *text = cJSON_PrintUnformatted(out.resp.json);
    if (text) cJSON_free(text);
    cJSON_Delete(out.resp.json);
  }
  tr_free(out.resp.text);
  free(body);
  free(token);
  free(url);
  free(method);
  return 0;
}
