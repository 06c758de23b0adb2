/*
 * JSON API handlers over a workspace: the plan and its levers, the model, simulation,
 * assessment, KPIs. Each request opens the workspace afresh (models load in about a
 * millisecond), so edits to the files are seen at once and requests share no mutable state;
 * writes to plan.yaml are serialised by the server's workspace lock.
 */
#include "server/api.h"

#include "base/strbuf.h"
#include "store/workspace.h"
#include "strategy/assess.h"
#include "strategy/plan_edit.h"
#include "strategy/spc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The HTTP status for a tr_status from loading or running user files. */
static int http_status(int rc) {
  switch (rc) {
  case TR_ERR_NOT_FOUND:
    return 404;
  case TR_ERR_NOMEM:
  case TR_ERR_IO:
  case TR_ERR_DB:
  case TR_ERR_INTERNAL:
    return 500;
  default:
    return 422;
  }
}

tr_workspace *tr_api_open_ws(tr_http_req *req, tr_http_resp *resp) {
  tr_error err;
  tr_error_clear(&err);
  tr_workspace *ws = NULL;
  int rc = tr_workspace_open(req->srv->workspace, &ws, &err);
  if (rc) tr_http_error(resp, http_status(rc), "%s", tr_error_text(&err));
  return ws;
}

cJSON *tr_api_num(double v) {
  return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

cJSON *tr_api_nums(const double *v, size_t n) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < n; i++)
    cJSON_AddItemToArray(a, tr_api_num(v[i]));
  return a;
}

/* ---- workspace, plan, levers, model ---------------------------------------------------- */

void tr_api_workspace(tr_http_req *req, tr_http_resp *resp) {
  tr_workspace *ws = tr_api_open_ws(req, resp);
  if (!ws) return;
  cJSON *o = cJSON_CreateObject();
  if (o) {
    const tr_company *c = &ws->plan->company;
    cJSON_AddStringToObject(o, "dir", ws->dir);
    cJSON_AddStringToObject(o, "company", c->name ? c->name : "");
    cJSON_AddStringToObject(o, "sector", c->sector ? c->sector : "");
    cJSON_AddStringToObject(o, "currency", c->currency ? c->currency : "");
    cJSON_AddItemToObject(o, "horizon", tr_api_num(c->horizon));
    cJSON_AddStringToObject(o, "model", tr_model_name(ws->model) ? tr_model_name(ws->model) : "");
    cJSON_AddNumberToObject(o, "variables", (double)tr_model_var_count(ws->model));
    cJSON_AddNumberToObject(o, "tensions", (double)ws->plan->n_tensions);
    cJSON_AddNumberToObject(o, "kpis", (double)ws->plan->scorecard.n_kpis);
    cJSON_AddNumberToObject(o, "scenarios", (double)ws->plan->n_scenarios);
    cJSON_AddBoolToObject(o, "has_kpi_data", ws->store != NULL);
  }
  tr_workspace_close(ws);
  tr_http_json(resp, 200, o);
}

static cJSON *pole_json(const tr_pole *p) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "name", p->name);
  cJSON *ms = cJSON_AddArrayToObject(o, "measures");
  for (size_t m = 0; ms && m < p->n_measures; m++) {
    const tr_measure *x = &p->measures[m];
    cJSON *j = cJSON_CreateObject();
    if (!j) break;
    if (x->variable) cJSON_AddStringToObject(j, "variable", x->variable);
    if (x->kpi) cJSON_AddStringToObject(j, "kpi", x->kpi);
    cJSON_AddStringToObject(j, "direction",
                            x->direction == TR_DIR_HIGHER  ? "higher"
                            : x->direction == TR_DIR_LOWER ? "lower"
                                                           : "band");
    cJSON_AddItemToObject(j, "target", tr_api_num(x->target));
    cJSON_AddItemToArray(ms, j);
  }
  return o;
}

void tr_api_plan(tr_http_req *req, tr_http_resp *resp) {
  tr_workspace *ws = tr_api_open_ws(req, resp);
  if (!ws) return;
  const tr_plan *p = ws->plan;
  cJSON *o = cJSON_CreateObject();
  cJSON *co = o ? cJSON_AddObjectToObject(o, "company") : NULL;
  if (co) {
    cJSON_AddStringToObject(co, "name", p->company.name ? p->company.name : "");
    cJSON_AddStringToObject(co, "sector", p->company.sector ? p->company.sector : "");
    cJSON_AddStringToObject(co, "currency", p->company.currency ? p->company.currency : "");
    cJSON_AddItemToObject(co, "horizon", tr_api_num(p->company.horizon));
  }
  cJSON *ts = o ? cJSON_AddArrayToObject(o, "tensions") : NULL;
  for (size_t t = 0; ts && t < p->n_tensions; t++) {
    const tr_tension *tn = &p->tensions[t];
    cJSON *j = cJSON_CreateObject();
    if (!j) break;
    cJSON_AddStringToObject(j, "id", tn->id);
    cJSON_AddStringToObject(j, "name", tn->name ? tn->name : tn->id);
    cJSON_AddItemToObject(j, "weight", tr_api_num(tn->weight));
    cJSON_AddItemToObject(j, "pole_a", pole_json(&tn->poles[0]));
    cJSON_AddItemToObject(j, "pole_b", pole_json(&tn->poles[1]));
    cJSON *lv = cJSON_AddObjectToObject(j, "lever");
    cJSON_AddStringToObject(lv, "resource", tn->lever.resource ? tn->lever.resource : "");
    cJSON_AddItemToObject(lv, "min", tr_api_num(tn->lever.min));
    cJSON_AddItemToObject(lv, "max", tr_api_num(tn->lever.max));
    cJSON_AddItemToObject(lv, "value", tr_api_num(tn->lever.current));
    cJSON *bs = cJSON_AddArrayToObject(lv, "bind");
    for (size_t b = 0; bs && b < tn->lever.n_bindings; b++) {
      cJSON *bj = cJSON_CreateObject();
      if (!bj) break;
      cJSON_AddStringToObject(bj, "constant", tn->lever.bindings[b].constant);
      cJSON_AddStringToObject(bj, "pole", tn->lever.bindings[b].pole ? "b" : "a");
      cJSON_AddItemToArray(bs, bj);
    }
    cJSON_AddItemToArray(ts, j);
  }
  cJSON *ss = o ? cJSON_AddArrayToObject(o, "scenarios") : NULL;
  for (size_t s = 0; ss && s < p->n_scenarios; s++) {
    cJSON *j = cJSON_CreateObject();
    if (!j) break;
    cJSON_AddStringToObject(j, "name", p->scenarios[s].name);
    if (p->scenarios[s].description)
      cJSON_AddStringToObject(j, "description", p->scenarios[s].description);
    cJSON_AddNumberToObject(j, "overrides", (double)p->scenarios[s].n_overrides);
    cJSON_AddNumberToObject(j, "shocks", (double)p->scenarios[s].n_shocks);
    cJSON_AddItemToArray(ss, j);
  }
  cJSON *us = o ? cJSON_AddArrayToObject(o, "uncertainty") : NULL;
  for (size_t i = 0; us && i < p->uncertainty.n_inputs; i++) {
    cJSON *j = cJSON_CreateObject();
    if (!j) break;
    cJSON_AddStringToObject(j, "name", p->uncertainty.inputs[i].name);
    cJSON_AddStringToObject(j, "dist", p->uncertainty.inputs[i].dist);
    cJSON_AddItemToArray(us, j);
  }
  cJSON *ks = o ? cJSON_AddArrayToObject(o, "kpis") : NULL;
  for (size_t k = 0; ks && k < p->scorecard.n_kpis; k++) {
    const tr_kpi *kp = &p->scorecard.kpis[k];
    cJSON *j = cJSON_CreateObject();
    if (!j) break;
    cJSON_AddStringToObject(j, "id", kp->id);
    cJSON_AddStringToObject(j, "name", kp->name ? kp->name : kp->id);
    if (kp->unit) cJSON_AddStringToObject(j, "unit", kp->unit);
    cJSON_AddStringToObject(j, "perspective", tr_perspective_name(kp->perspective));
    if (kp->variable) cJSON_AddStringToObject(j, "variable", kp->variable);
    cJSON_AddItemToArray(ks, j);
  }
  tr_workspace_close(ws);
  tr_http_json(resp, 200, o);
}

void tr_api_levers(tr_http_req *req, tr_http_resp *resp) {
  size_t n = (size_t)cJSON_GetArraySize(req->json);
  if (n == 0 || n > 256) {
    tr_http_error(resp, 400, "expected an object {\"tension_id\": share, ...} with 1..256 levers");
    return;
  }
  const char *ids[256];
  double vals[256];
  size_t i = 0;
  for (cJSON *it = req->json->child; it; it = it->next, i++) {
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
      tr_http_error(resp, 400, "lever '%s': expected a number", it->string);
      return;
    }
    ids[i] = it->string;
    vals[i] = it->valuedouble;
  }
  pthread_mutex_lock(&req->srv->ws_lock);
  tr_workspace *ws = tr_api_open_ws(req, resp);
  if (ws) {
    tr_error err;
    tr_error_clear(&err);
    int rc = tr_plan_set_levers(ws->plan_path, ws->plan, ids, vals, n, &err);
    if (rc) {
      tr_http_error(resp, rc == TR_ERR_NOT_FOUND ? 404 : http_status(rc), "%s",
                    tr_error_text(&err));
    } else {
      cJSON *o = cJSON_CreateObject();
      cJSON *lv = o ? cJSON_AddObjectToObject(o, "levers") : NULL;
      for (size_t k = 0; lv && k < n; k++)
        cJSON_AddNumberToObject(lv, ids[k], vals[k]);
      tr_http_json(resp, 200, o);
    }
    tr_workspace_close(ws);
  }
  pthread_mutex_unlock(&req->srv->ws_lock);
}

static const char *const kind_names[] = {"stock", "flow", "aux", "graphical function"};

void tr_api_model(tr_http_req *req, tr_http_resp *resp) {
  tr_workspace *ws = tr_api_open_ws(req, resp);
  if (!ws) return;
  cJSON *o = cJSON_CreateObject();
  if (o) {
    cJSON_AddStringToObject(o, "name", tr_model_name(ws->model) ? tr_model_name(ws->model) : "");
    cJSON *vs = cJSON_AddArrayToObject(o, "variables");
    size_t n = tr_model_var_count(ws->model);
    for (size_t i = 0; vs && i < n; i++) {
      tr_var_info vi;
      tr_model_var(ws->model, i, &vi);
      cJSON *j = cJSON_CreateObject();
      if (!j) break;
      cJSON_AddStringToObject(j, "name", vi.name);
      cJSON_AddStringToObject(j, "kind", kind_names[vi.type]);
      if (vi.eqn) cJSON_AddStringToObject(j, "equation", vi.eqn);
      if (vi.units) cJSON_AddStringToObject(j, "units", vi.units);
      if (vi.doc) cJSON_AddStringToObject(j, "doc", vi.doc);
      cJSON_AddBoolToObject(j, "constant", vi.is_constant);
      cJSON_AddBoolToObject(j, "hidden", vi.hidden);
      cJSON_AddItemToArray(vs, j);
    }
  }
  tr_workspace_close(ws);
  tr_http_json(resp, 200, o);
}

/* ---- simulate ----------------------------------------------------------------------------- */

/* Apply {tension_id: share} lever settings (or the plan's when `levers` is NULL), then
 * {name: value} constant settings, to every lane of sim. 0 on success, else the response is
 * set. */
int tr_api_apply_settings(const tr_workspace *ws, tr_sim *sim, const cJSON *levers,
                          const cJSON *set, tr_http_resp *resp) {
  const tr_plan *p = ws->plan;
  for (size_t t = 0; t < p->n_tensions; t++) {
    const tr_tension *tn = &p->tensions[t];
    double share = tn->lever.current;
    const cJSON *lv = levers ? cJSON_GetObjectItemCaseSensitive(levers, tn->id) : NULL;
    if (lv) {
      if (!cJSON_IsNumber(lv) ||
          !(lv->valuedouble >= tn->lever.min && lv->valuedouble <= tn->lever.max)) {
        tr_http_error(resp, 422, "lever '%s': expected a share in [%g, %g]", tn->id, tn->lever.min,
                      tn->lever.max);
        return -1;
      }
      share = lv->valuedouble;
    }
    for (size_t b = 0; b < tn->lever.n_bindings; b++)
      tr_sim_set_const(sim, tn->lever.bindings[b].constant, -1,
                       tr_lever_binding_value(ws->model, &tn->lever.bindings[b], share));
  }
  for (const cJSON *lv = levers ? levers->child : NULL; lv; lv = lv->next)
    if (tr_plan_find_tension(p, lv->string) < 0) {
      tr_http_error(resp, 422, "no tension '%s' in the plan", lv->string);
      return -1;
    }
  for (const cJSON *it = set ? set->child : NULL; it; it = it->next) {
    if (!cJSON_IsNumber(it)) {
      tr_http_error(resp, 422, "set '%s': expected a number", it->string);
      return -1;
    }
    if (tr_sim_set_const(sim, it->string, -1, it->valuedouble)) {
      tr_http_error(resp, 422, "set: %s", tr_sim_error(sim)->msg);
      return -1;
    }
  }
  return 0;
}

/* Indexes of the variables named in `vars` (an array of strings), or of every visible
 * variable when vars is NULL. Returns the count, or -1 with the response set. */
long tr_api_pick_vars(const tr_model *m, const cJSON *vars, size_t *out, size_t cap,
                      tr_http_resp *resp) {
  size_t n = 0;
  if (vars && !cJSON_IsArray(vars)) {
    tr_http_error(resp, 400, "'vars' must be a list of variable names");
    return -1;
  }
  if (vars) {
    for (const cJSON *v = vars->child; v; v = v->next) {
      long i = cJSON_IsString(v) ? tr_model_find(m, v->valuestring) : -1;
      if (i < 0) {
        const char *best = cJSON_IsString(v) ? tr_model_suggest(m, v->valuestring) : NULL;
        tr_http_error(resp, 422, "unknown variable %s%s%s%s",
                      cJSON_IsString(v) ? v->valuestring : "(not a string)",
                      best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
        return -1;
      }
      if (n == cap) {
        tr_http_error(resp, 422, "at most %zu variables", cap);
        return -1;
      }
      out[n++] = (size_t)i;
    }
    return (long)n;
  }
  size_t total = tr_model_var_count(m);
  for (size_t i = 0; i < total && n < cap; i++) {
    tr_var_info vi;
    tr_model_var(m, i, &vi);
    if (!vi.hidden && vi.type != TR_VAR_GF) out[n++] = i;
  }
  return (long)n;
}

static cJSON *series_json(const tr_model *m, tr_sim *sim, const size_t *vars, size_t n) {
  cJSON *o = cJSON_CreateObject();
  size_t nt = tr_sim_saved_count(sim);
  for (size_t k = 0; o && k < n; k++) {
    tr_var_info vi;
    tr_model_var(m, vars[k], &vi);
    const double *y = tr_sim_series(sim, vars[k], 0);
    if (y) cJSON_AddItemToObject(o, vi.name, tr_api_nums(y, nt));
  }
  return o;
}

void tr_api_simulate(tr_http_req *req, tr_http_resp *resp) {
  const cJSON *levers = cJSON_GetObjectItemCaseSensitive(req->json, "levers");
  const cJSON *set = cJSON_GetObjectItemCaseSensitive(req->json, "set");
  const cJSON *vars = cJSON_GetObjectItemCaseSensitive(req->json, "vars");
  if ((levers && !cJSON_IsObject(levers)) || (set && !cJSON_IsObject(set))) {
    tr_http_error(resp, 400, "'levers' and 'set' must be objects");
    return;
  }
  tr_workspace *ws = tr_api_open_ws(req, resp);
  if (!ws) return;
  tr_error err;
  tr_error_clear(&err);
  tr_sim *sim = NULL;
  size_t idx[4096];
  long n = tr_api_pick_vars(ws->model, vars, idx, 4096, resp);
  cJSON *o = NULL;
  if (n >= 0 && tr_sim_new(ws->model, NULL, &sim, &err)) {
    tr_http_error(resp, http_status(err.code), "%s", tr_error_text(&err));
    n = -1;
  }
  if (n >= 0 && !tr_api_apply_settings(ws, sim, levers, set, resp)) {
    if (tr_sim_run(sim)) {
      tr_http_error(resp, 422, "%s", tr_sim_error(sim)->msg);
    } else {
      o = cJSON_CreateObject();
      cJSON_AddItemToObject(o, "time", tr_api_nums(tr_sim_times(sim), tr_sim_saved_count(sim)));
      cJSON_AddItemToObject(o, "variables", series_json(ws->model, sim, idx, (size_t)n));
      if (tr_sim_warning(sim)) cJSON_AddStringToObject(o, "warning", tr_sim_warning(sim));
      if (levers || set) { /* the current plan, for comparison */
        tr_sim_reset_consts(sim);
        if (!tr_api_apply_settings(ws, sim, NULL, NULL, resp) && !tr_sim_run(sim)) {
          cJSON *pl = cJSON_AddObjectToObject(o, "plan");
          cJSON_AddItemToObject(pl, "variables", series_json(ws->model, sim, idx, (size_t)n));
        }
      }
      tr_http_json(resp, 200, o);
    }
  }
  tr_sim_free(sim);
  tr_workspace_close(ws);
}

/* ---- assess ------------------------------------------------------------------------------- */

static double kpi_latest(void *ud, const char *kpi) {
  return tr_workspace_kpi_latest(ud, kpi);
}

static long mtime_of(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_mtime * 1000000000L + st.st_mtim.tv_nsec : 0;
}

void tr_api_assess(tr_http_req *req, tr_http_resp *resp) {
  tr_server *srv = req->srv;
  const char *rs = tr_http_query(req, "runs");
  /* ?runs=N, at most the server's limit; the default, 200, is lowered to the limit. */
  long max_runs = srv->opt.max_runs > LONG_MAX ? LONG_MAX : (long)srv->opt.max_runs;
  long runs = max_runs < 200 ? max_runs : 200;
  if (rs) {
    char *end;
    errno = 0;
    runs = strtol(rs, &end, 10);
    if (*end || errno || runs < 1 || runs > max_runs) {
      tr_http_error(resp, 400, "runs must be a whole number in 1..%ld", max_runs);
      return;
    }
  }
  char db[1100], plan[1100], model[1100];
  snprintf(plan, sizeof plan, "%s/plan.yaml", srv->workspace);
  snprintf(model, sizeof model, "%s/model.xmile", srv->workspace);
  snprintf(db, sizeof db, "%s/tightrope.db", srv->workspace);
  /* The cache: the last assessment as JSON text, valid while the files are unchanged. */
  long stamp[4] = {mtime_of(plan), mtime_of(model), mtime_of(db), runs};
  pthread_mutex_lock(&srv->cache_lock);
  if (srv->assess_text && !memcmp(srv->assess_stamp, stamp, sizeof stamp)) {
    resp->text = tr_strdup(srv->assess_text);
    pthread_mutex_unlock(&srv->cache_lock);
    if (!resp->text) tr_http_error(resp, 500, "out of memory");
    resp->status = 200;
    resp->content_type = "application/json";
    return;
  }
  pthread_mutex_unlock(&srv->cache_lock);

  tr_workspace *ws = tr_api_open_ws(req, resp);
  if (!ws) return;
  tr_assess_opts ao;
  tr_assess_opts_init(&ao);
  ao.runs = (size_t)runs;
  ao.kpi_value = kpi_latest;
  ao.kpi_ud = ws;
  tr_error err;
  tr_error_clear(&err);
  tr_assess *a = NULL;
  int rc = tr_assess_run(ws->plan, ws->model, &ao, &a, &err);
  if (rc) {
    tr_http_error(resp, http_status(rc), "%s", tr_error_text(&err));
  } else {
    cJSON *o = tr_assess_to_json(a);
    tr_api_add_alerts(o, ws); /* the Overview's active alerts (tightrope monitor's) */
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    char *copy = text ? tr_strdup(text) : NULL;
    cJSON_free(text);
    if (copy) {
      pthread_mutex_lock(&srv->cache_lock);
      tr_free(srv->assess_text);
      srv->assess_text = copy;
      memcpy(srv->assess_stamp, stamp, sizeof stamp);
      pthread_mutex_unlock(&srv->cache_lock);
    }
    tr_http_json(resp, 200, o);
  }
  tr_assess_free(a);
  tr_workspace_close(ws);
}
