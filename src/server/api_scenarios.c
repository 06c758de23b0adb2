/*
 * POST /api/scenarios: a Monte Carlo study of the workspace — the plan's uncertainty, a named
 * scenario's overrides and shocks, optional lever settings — as a job (202 {"id"}) or, with
 * "wait": true and at most 10,000 runs, answered directly (the Levers page re-runs 1,000 runs
 * on every slider move). The result is the JSON of `tightrope scenarios --format json`. The
 * run limits are the server's options (tr_server_options.max_runs, max_wait_runs).
 */
#include "server/api.h"

#include "base/progress.h"
#include "base/text.h"
#include "strategy/plan_mc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct study {
  tr_workspace *ws;
  tr_model *model; /* with the scenario's shocks */
  tr_mc *mc;
  tr_mc_opts opts;
  const tr_scenario *scen;
  volatile sig_atomic_t stop;
} study;

static void study_free(void *p) {
  study *s = p;
  if (!s) return;
  tr_mc_free(s->mc);
  tr_model_free(s->model);
  tr_workspace_close(s->ws);
  tr_free(s);
}

/* Drop the whitespace outside strings from the JSON text t, in place (the study's JSON is
 * written indented for people; the API sends it compact, as it sends everything). */
static void json_compact(char *t) {
  char *w = t;
  int in_str = 0;
  for (const char *r = t; *r; r++) {
    if (in_str) {
      *w++ = *r;
      if (*r == '\\' && r[1]) {
        *w++ = *++r;
      } else if (*r == '"') {
        in_str = 0;
      }
    } else if (*r == '"') {
      in_str = 1;
      *w++ = *r;
    } else if (*r != ' ' && *r != '\n' && *r != '\t' && *r != '\r') {
      *w++ = *r;
    }
  }
  *w = '\0';
}

/* Run the study and return its JSON (NULL with *msg set on failure). */
static cJSON *run_study(study *s, tr_progress *prog, char *msg, size_t cap) {
  int rc = tr_mc_run(s->mc, &s->opts, &s->stop, prog);
  if (rc && rc != TR_ERR_CANCELLED) {
    snprintf(msg, cap, "%s", tr_error_text(tr_mc_error(s->mc)));
    return NULL;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) {
    snprintf(msg, cap, "out of memory");
    return NULL;
  }
  rc = tr_mc_write_json(s->mc, f, s->scen ? s->scen->name : NULL);
  fclose(f);
  /* The study's JSON as it was written, as a raw item: parsing it into cJSON and printing it
   * again took 40% of a 1,000-run SaaS request (strtod and printf for 400,000 numbers, twice),
   * and cJSON prints a double with 15 digits whenever that reads back within a relative
   * 2.2e-16, which turned seed 2^53 into 9.00719925474099e+15 and could move the last digit
   * of any value from what the CLI writes. */
  if (rc == TR_OK) json_compact(text);
  cJSON *o = rc ? NULL : cJSON_CreateRaw(text);
  free(text); /* open_memstream's buffer comes from malloc */
  if (!o) snprintf(msg, cap, "%s", rc ? tr_error_text(tr_mc_error(s->mc)) : "out of memory");
  return o;
}

static cJSON *job_main(void *ctx, tr_job *job) {
  study *s = ctx;
  tr_progress *prog = tr_progress_new(NULL, "scenarios", s->opts.runs, 0);
  tr_job_link(job, &s->stop, prog, s->opts.runs);
  char msg[512];
  cJSON *o = run_study(s, prog, msg, sizeof msg);
  tr_job_link(job, NULL, NULL, 0);
  tr_progress_free(prog);
  if (!o) tr_job_fail(job, msg);
  return o;
}

/* Build the study from the request body; NULL with the response set on a bad request. */
static study *prepare(tr_http_req *req, tr_http_resp *resp, int *wait) {
  const cJSON *j = req->json;
  const cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "runs");
  const cJSON *seed = cJSON_GetObjectItemCaseSensitive(j, "seed");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "scenario");
  const cJSON *vars = cJSON_GetObjectItemCaseSensitive(j, "vars");
  const cJSON *levers = cJSON_GetObjectItemCaseSensitive(j, "levers");
  const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "wait");
  const size_t max_runs = req->srv->opt.max_runs, max_wait = req->srv->opt.max_wait_runs;
  /* The default, 1,000 runs, is lowered to the limits when they are smaller. */
  double nruns = runs ? runs->valuedouble : fmin(1000, (double)max_runs);
  if ((runs && !cJSON_IsNumber(runs)) || !(nruns >= 1 && nruns <= (double)max_runs) ||
      nruns != floor(nruns)) {
    tr_http_error(resp, 400, "runs must be a whole number in 1..%zu", max_runs);
    return NULL;
  }
  if ((seed && (!cJSON_IsNumber(seed) || seed->valuedouble < 0 ||
                seed->valuedouble != floor(seed->valuedouble))) ||
      (name && !cJSON_IsString(name)) || (levers && !cJSON_IsObject(levers)) ||
      (w && !cJSON_IsBool(w))) {
    tr_http_error(resp, 400,
                  "expected {runs?: number, seed?: whole number >= 0, scenario?: "
                  "string, vars?: [names], levers?: {id: share}, wait?: bool}");
    return NULL;
  }
  /* Past 2^53 a JSON number no longer holds every whole number (and past 2^64 it would not
   * convert to a seed at all). */
  if (seed && seed->valuedouble > 9007199254740992.0) {
    tr_http_error(resp, 400, "seed must be at most 9007199254740992 (2^53)");
    return NULL;
  }
  *wait = w && cJSON_IsTrue(w);
  if (*wait && !runs) nruns = fmin(nruns, (double)max_wait);
  if (*wait && nruns > (double)max_wait) {
    tr_http_error(resp, 400, "wait is for at most %zu runs; submit a job for more", max_wait);
    return NULL;
  }
  study *s = tr_calloc(1, sizeof *s);
  if (!s) {
    tr_http_error(resp, 500, "out of memory");
    return NULL;
  }
  tr_error err;
  tr_error_clear(&err);
  int rc = TR_OK;
  double *shares = NULL;
  if (!(s->ws = tr_api_open_ws(req, resp))) goto fail;
  const tr_plan *plan = s->ws->plan;
  if (name && !(s->scen = tr_plan_find_scenario(plan, name->valuestring))) {
    const char *names[256];
    size_t nn = 0;
    for (size_t i = 0; i < plan->n_scenarios && nn < 256; i++)
      names[nn++] = plan->scenarios[i].name;
    const char *best = tr_closest(name->valuestring, names, nn);
    tr_http_error(resp, 422, "no scenario '%s' in the plan%s%s%s", name->valuestring,
                  best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
    goto fail;
  }
  if (levers) {
    shares = tr_calloc(plan->n_tensions + 1, sizeof *shares);
    if (!shares) {
      tr_http_error(resp, 500, "out of memory");
      goto fail;
    }
    for (const cJSON *lv = levers->child; lv; lv = lv->next)
      if (tr_plan_find_tension(plan, lv->string) < 0) {
        tr_http_error(resp, 422, "no tension '%s' in the plan", lv->string);
        goto fail;
      }
    for (size_t t = 0; t < plan->n_tensions; t++) {
      const tr_lever *L = &plan->tensions[t].lever;
      const cJSON *lv = cJSON_GetObjectItemCaseSensitive(levers, plan->tensions[t].id);
      shares[t] = L->current;
      if (!lv) continue;
      if (!cJSON_IsNumber(lv) || !(lv->valuedouble >= L->min && lv->valuedouble <= L->max)) {
        tr_http_error(resp, 422, "lever '%s': expected a share in [%g, %g]", plan->tensions[t].id,
                      L->min, L->max);
        goto fail;
      }
      shares[t] = lv->valuedouble;
    }
  }
  rc = tr_plan_mc_load_model(s->ws->model_path, plan, s->scen, &s->model, &err);
  if (!rc) rc = tr_mc_new(s->model, &s->mc, &err);
  if (!rc) rc = tr_plan_mc_apply(s->mc, plan, s->scen, &err);
  if (!rc) rc = tr_plan_mc_levers(s->mc, plan, s->model, shares, &err);
  if (rc) {
    tr_http_error(resp, rc == TR_ERR_NOMEM ? 500 : 422, "%s", tr_error_text(&err));
    goto fail;
  }
  size_t idx[1024];
  long n = tr_api_pick_vars(s->model, vars, idx, 1024, resp);
  if (n < 0) goto fail;
  if (vars) {
    for (long k = 0; k < n; k++) {
      tr_var_info vi;
      tr_model_var(s->model, idx[k], &vi);
      if (tr_mc_watch(s->mc, vi.name)) {
        tr_http_error(resp, 422, "%s", tr_mc_error(s->mc)->msg);
        goto fail;
      }
    }
  }
  if (tr_model_find(s->model, "cash") >= 0) tr_mc_event(s->mc, "cash < 0");
  s->opts = tr_mc_default_opts();
  s->opts.runs = (size_t)nruns;
  s->opts.seed = seed ? (uint64_t)seed->valuedouble : 1;
  s->opts.lhs = 1;
  s->opts.threads = *wait ? 2 : 1;
  tr_free(shares);
  return s;
fail:
  tr_free(shares);
  study_free(s);
  return NULL;
}

void tr_api_scenarios(tr_http_req *req, tr_http_resp *resp) {
  int wait = 0;
  study *s = prepare(req, resp, &wait);
  if (!s) return;
  if (wait) {
    char msg[512];
    cJSON *o = run_study(s, NULL, msg, sizeof msg);
    study_free(s);
    if (o)
      tr_http_json(resp, 200, o);
    else
      tr_http_error(resp, 422, "%s", msg);
    return;
  }
  long id = tr_jobs_start(req->srv->jobs, "scenarios", job_main, s, study_free);
  if (id == TR_ERR_LIMIT) {
    tr_http_error(resp, 429, "too many jobs queued or running; wait for one to end or cancel one");
    return;
  }
  if (id < 0) {
    tr_http_error(resp, 500, "cannot start the job: %s", tr_strerror((int)id));
    return;
  }
  cJSON *o = cJSON_CreateObject();
  if (o) {
    cJSON_AddNumberToObject(o, "id", (double)id);
    char loc[64];
    snprintf(loc, sizeof loc, "/api/jobs/%ld", id);
    cJSON_AddStringToObject(o, "job", loc);
  }
  tr_http_json(resp, 202, o);
}
