/*
 * The JSON API: one route table (STYLE rule 8). GET /api lists it; docs/api.md documents
 * it, and a test checks the two agree.
 */
#include "server/api.h"

#include "tightrope/base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void h_index(tr_http_req *req, tr_http_resp *resp);

static void h_health(tr_http_req *req, tr_http_resp *resp) {
  cJSON *o = cJSON_CreateObject();
  if (o) {
    cJSON_AddStringToObject(o, "status", "ok");
    cJSON_AddStringToObject(o, "version", TR_VERSION);
    cJSON_AddStringToObject(o, "workspace", req->srv->workspace);
  }
  tr_http_json(resp, 200, o);
}

/* Parse a positive job id from a path segment; 0 when it is not one. */
static long job_id(const char *s) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  return (*s && !*end && !errno && v > 0) ? v : 0;
}

static void h_jobs(tr_http_req *req, tr_http_resp *resp) {
  cJSON *o = cJSON_CreateObject();
  if (o) cJSON_AddItemToObject(o, "jobs", tr_jobs_list(req->srv->jobs));
  tr_http_json(resp, 200, o);
}

static void h_job(tr_http_req *req, tr_http_resp *resp) {
  long id = job_id(req->params[0]);
  cJSON *o = id ? tr_jobs_describe(req->srv->jobs, id, 1) : NULL;
  if (!o) {
    tr_http_error(resp, 404, "no job %s", req->params[0]);
    return;
  }
  tr_http_json(resp, 200, o);
}

static void h_job_cancel(tr_http_req *req, tr_http_resp *resp) {
  long id = job_id(req->params[0]);
  if (!id || tr_jobs_cancel(req->srv->jobs, id) != TR_OK) {
    tr_http_error(resp, 404, "no job %s", req->params[0]);
    return;
  }
  tr_http_json(resp, 202, tr_jobs_describe(req->srv->jobs, id, 0));
}

const tr_route tr_routes[] = {
    {"GET", "/api", h_index, 0, "this list of routes"},
    {"GET", "/api/health", h_health, 0, "liveness: status, version, workspace"},
    {"GET", "/api/jobs", h_jobs, 0, "jobs with their state and progress"},
    {"GET", "/api/jobs/{id}", h_job, 0, "one job, with its result when done"},
    {"DELETE", "/api/jobs/{id}", h_job_cancel, 0, "cancel a job"},
    {"GET", "/api/workspace", tr_api_workspace, 0, "the workspace: company, sector, counts"},
    {"GET", "/api/plan", tr_api_plan, 0, "the plan: tensions with levers, scenarios, KPIs"},
    {"PUT", "/api/plan/levers", tr_api_levers, TR_ROUTE_JSON_BODY,
     "save lever shares into plan.yaml: {\"tension_id\": share, ...}"},
    {"GET", "/api/model", tr_api_model, 0, "the model's variables with equations, units, docs"},
    {"POST", "/api/simulate", tr_api_simulate, TR_ROUTE_JSON_BODY,
     "one run: {levers?, set?, vars?} -> time and series (and the plan's, for comparison)"},
    {"GET", "/api/assess", tr_api_assess, 0,
     "the assessment (?runs=N): SBI, tensions, resilience per scenario, lever moves"},
    {"POST", "/api/scenarios", tr_api_scenarios, TR_ROUTE_JSON_BODY,
     "Monte Carlo {runs?, scenario?, vars?, levers?, seed?, wait?}: a job, or the result"},
    {"GET", "/api/kpis", tr_api_kpis, 0, "KPIs with observations in the store"},
    {"GET", "/api/kpis/{id}", tr_api_kpi, 0, "one KPI: observations, XmR limits and signals"},
    {"POST", "/api/kpis", tr_api_kpi_upload, 0,
     "import a KPI CSV (the body; ?format=long|wide): rows imported and problems"},
    {"GET", "/api/scorecard", tr_api_scorecard, 0,
     "the balanced scorecard from the latest KPI values (?at=TIME|end: from a model run)"},
    {"GET", "/api/alerts", tr_api_alerts, 0,
     "early warning as `tightrope monitor` (?since=DATE&rules=SET&baseline=N&all=true)"},
};
const int tr_nroutes = (int)(sizeof tr_routes / sizeof tr_routes[0]);

static void h_index(tr_http_req *req, tr_http_resp *resp) {
  (void)req;
  cJSON *o = cJSON_CreateObject();
  cJSON *a = o ? cJSON_AddArrayToObject(o, "routes") : NULL;
  for (int i = 0; a && i < tr_nroutes; i++) {
    cJSON *r = cJSON_CreateObject();
    if (!r) break;
    cJSON_AddStringToObject(r, "method", tr_routes[i].method);
    cJSON_AddStringToObject(r, "path", tr_routes[i].pattern);
    cJSON_AddStringToObject(r, "summary", tr_routes[i].summary);
    cJSON_AddBoolToObject(r, "token", strcmp(tr_routes[i].method, "GET") != 0);
    cJSON_AddItemToArray(a, r);
  }
  tr_http_json(resp, 200, o);
}
