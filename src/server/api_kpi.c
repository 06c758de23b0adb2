/* JSON API over the KPI store: list, one KPI with its control chart, CSV upload. */
#include "server/api.h"

#include "base/strbuf.h"
#include "store/monitor.h"

#include <math.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct kpi_list {
  cJSON *arr;
  const tr_plan *plan;
} kpi_list;

static int take_summary(void *ud, const tr_kpi_summary *k) {
  kpi_list *l = ud;
  cJSON *o = cJSON_CreateObject();
  if (!o) return 1;
  long i = tr_plan_find_kpi(l->plan, k->kpi);
  cJSON_AddStringToObject(o, "id", k->kpi);
  cJSON_AddStringToObject(
      o, "name",
      i >= 0 && l->plan->scorecard.kpis[i].name ? l->plan->scorecard.kpis[i].name : k->kpi);
  cJSON_AddNumberToObject(o, "count", (double)k->count);
  cJSON_AddStringToObject(o, "first_period", k->first_period);
  cJSON_AddStringToObject(o, "last_period", k->last_period);
  cJSON_AddItemToObject(o, "last_value", tr_api_num(k->last_value));
  cJSON_AddBoolToObject(o, "in_plan", i >= 0);
  cJSON_AddItemToArray(l->arr, o);
  return 0;
}

void tr_api_kpis(tr_http_req *req, tr_http_resp *resp) {
  tr_workspace *ws = tr_api_open_ws(req, resp);
  if (!ws) return;
  cJSON *o = cJSON_CreateObject();
  kpi_list l = {o ? cJSON_AddArrayToObject(o, "kpis") : NULL, ws->plan};
  tr_error err;
  tr_error_clear(&err);
  if (l.arr && ws->store && tr_store_list_kpis(ws->store, take_summary, &l, &err)) {
    cJSON_Delete(o);
    tr_http_error(resp, 500, "%s", tr_error_text(&err));
  } else {
    tr_http_json(resp, 200, o);
  }
  tr_workspace_close(ws);
}

typedef struct obs_acc {
  cJSON *periods;
  cJSON *values;
} obs_acc;

static int take_obs(void *ud, const tr_kpi_obs *o) {
  obs_acc *a = ud;
  cJSON_AddItemToArray(a->periods, cJSON_CreateString(o->period));
  cJSON_AddItemToArray(a->values, tr_api_num(o->value));
  return 0;
}

/* GET /api/kpis/{id}: a KPI of the plan comes with the analysis `tightrope monitor` makes of
 * it (the same limits, baseline and detectors, every signal of the history); a KPI that is
 * only in the store comes with its observations alone. */
void tr_api_kpi(tr_http_req *req, tr_http_resp *resp) {
  const char *id = req->params[0];
  tr_workspace *ws = tr_api_open_ws(req, resp);
  if (!ws) return;
  long k = tr_plan_find_kpi(ws->plan, id);
  tr_monitor *mon = NULL;
  tr_error err;
  tr_error_clear(&err);
  cJSON *o = cJSON_CreateObject();
  if (!o) {
    tr_http_error(resp, 500, "out of memory");
    goto done;
  }
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddStringToObject(
      o, "name",
      k >= 0 && ws->plan->scorecard.kpis[k].name ? ws->plan->scorecard.kpis[k].name : id);
  if (k < 0) {
    obs_acc acc = {cJSON_AddArrayToObject(o, "periods"), cJSON_AddArrayToObject(o, "values")};
    int rc = ws->store ? tr_store_observations(ws->store, id, NULL, take_obs, &acc, &err) : TR_OK;
    if (rc) {
      tr_http_error(resp, 500, "%s", tr_error_text(&err));
      goto done;
    }
    if (cJSON_GetArraySize(acc.values) == 0) {
      tr_http_error(resp, 404, "no KPI '%s' in the plan or the store", id);
      goto done;
    }
    cJSON_AddArrayToObject(o, "signals");
    tr_http_json(resp, 200, o);
    o = NULL;
    goto done;
  }
  tr_monitor_opts mo;
  tr_monitor_opts_init(&mo);
  mo.all = 1;
  int rc = tr_monitor_run(ws->plan, ws->store, &mo, &mon, &err);
  if (rc) {
    tr_http_error(resp, rc == TR_ERR_NOMEM || rc == TR_ERR_DB ? 500 : 422, "%s",
                  tr_error_text(&err));
    goto done;
  }
  const tr_monitor_kpi *mk = &mon->kpis[k];
  cJSON *periods = cJSON_AddArrayToObject(o, "periods");
  for (size_t i = 0; periods && i < mk->n; i++)
    cJSON_AddItemToArray(periods, cJSON_CreateString(mk->periods[i]));
  cJSON_AddItemToObject(o, "values", tr_api_nums(mk->values, mk->n));
  if (mk->state == TR_MONITOR_OK || mk->state == TR_MONITOR_NO_SPREAD) {
    cJSON *l = cJSON_AddObjectToObject(o, "limits");
    cJSON_AddItemToObject(l, "centre", tr_api_num(mk->limits.mean));
    cJSON_AddItemToObject(l, "upper", tr_api_num(mk->limits.unpl));
    cJSON_AddItemToObject(l, "lower", tr_api_num(mk->limits.lnpl));
    cJSON_AddNumberToObject(l, "baseline_points", (double)mk->baseline);
  }
  cJSON *sigs = cJSON_AddArrayToObject(o, "signals");
  for (size_t i = 0; sigs && i < mk->n_signals; i++) {
    const tr_monitor_signal *g = &mk->signals[i];
    cJSON *x = cJSON_CreateObject();
    if (!x) break;
    cJSON_AddNumberToObject(x, "index", (double)g->index);
    cJSON_AddStringToObject(x, "period", g->period);
    cJSON_AddStringToObject(x, "rule", g->rule);
    cJSON_AddNumberToObject(x, "side", g->side);
    cJSON_AddBoolToObject(x, "active", g->active);
    cJSON_AddStringToObject(x, "verdict", tr_monitor_verdict_name(g->verdict));
    cJSON_AddStringToObject(x, "message", g->text);
    cJSON_AddItemToArray(sigs, x);
  }
  tr_http_json(resp, 200, o);
  o = NULL;
done:
  cJSON_Delete(o);
  tr_monitor_free(mon);
  tr_workspace_close(ws);
}

typedef struct problems {
  cJSON *arr;
  int count;
} problems;

/* Problems name the uploaded file "upload.csv", not the temporary file it was stored in. */
static void on_problem(void *ud, const tr_error *problem) {
  problems *p = ud;
  if (++p->count > 100) return; /* the first hundred are enough to fix a file */
  tr_error copy;
  tr_error_copy(&copy, problem);
  snprintf(copy.file, sizeof copy.file, "upload.csv");
  cJSON_AddItemToArray(p->arr, cJSON_CreateString(tr_error_text(&copy)));
}

/* POST /api/kpis: the body is a CSV file (long format, or wide with ?format=wide). It is
 * written to a private temporary file in the workspace and imported like `tightrope kpi
 * import`: bad rows are reported with their line, good rows imported in one transaction. */
void tr_api_kpi_upload(tr_http_req *req, tr_http_resp *resp) {
  static atomic_long counter;
  const char *fmt = tr_http_query(req, "format");
  if (fmt && strcmp(fmt, "long") && strcmp(fmt, "wide")) {
    tr_http_error(resp, 400, "format must be long or wide");
    return;
  }
  if (req->body_len == 0) {
    tr_http_error(resp, 400, "the body must be a CSV file");
    return;
  }
  pthread_mutex_lock(&req->srv->ws_lock);
  tr_workspace *ws = tr_api_open_ws(req, resp);
  char path[1200] = "";
  FILE *f = NULL;
  const char **known = NULL;
  tr_error err;
  tr_error_clear(&err);
  if (!ws) goto done;
  snprintf(path, sizeof path, "%s/.tightrope/upload-%ld-%ld.csv", ws->dir, (long)getpid(),
           atomic_fetch_add(&counter, 1));
  f = fopen(path, "wb");
  if (!f || fwrite(req->body, 1, req->body_len, f) != req->body_len || fclose(f) != 0) {
    if (f) fclose(f);
    tr_http_error(resp, 500, "cannot store the upload in %s/.tightrope", ws->dir);
    path[0] = '\0';
    goto done;
  }
  if (!ws->store && tr_store_open_workspace(&ws->store, ws->dir, &err)) {
    tr_http_error(resp, 500, "%s", tr_error_text(&err));
    goto done;
  }
  size_t nk = ws->plan->scorecard.n_kpis;
  known = tr_calloc(nk + 1, sizeof *known);
  if (!known) {
    tr_http_error(resp, 500, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < nk; i++)
    known[i] = ws->plan->scorecard.kpis[i].id;
  cJSON *o = cJSON_CreateObject();
  problems pr = {o ? cJSON_AddArrayToObject(o, "problems") : NULL, 0};
  tr_import_report rep;
  memset(&rep, 0, sizeof rep);
  rep.on_problem = on_problem;
  rep.ud = &pr;
  int rc = pr.arr ? tr_store_import_csv(ws->store, path,
                                        fmt && !strcmp(fmt, "wide") ? TR_KPI_WIDE : TR_KPI_LONG, 0,
                                        nk ? known : NULL, &rep, &err)
                  : TR_ERR_NOMEM;
  if (rc) {
    cJSON_Delete(o);
    tr_http_error(resp, rc == TR_ERR_DB || rc == TR_ERR_NOMEM || rc == TR_ERR_IO ? 500 : 422, "%s",
                  tr_error_text(&err));
    goto done;
  }
  cJSON_AddNumberToObject(o, "rows", (double)rep.rows_read);
  cJSON_AddNumberToObject(o, "imported", (double)(rep.inserted + rep.updated));
  cJSON_AddNumberToObject(o, "inserted", (double)rep.inserted);
  cJSON_AddNumberToObject(o, "updated", (double)rep.updated);
  cJSON_AddNumberToObject(o, "unchanged", (double)rep.unchanged);
  cJSON_AddNumberToObject(o, "rejected", (double)rep.rows_rejected);
  tr_http_json(resp, 200, o);
done:
  if (path[0]) remove(path);
  tr_free(known);
  tr_workspace_close(ws);
  pthread_mutex_unlock(&req->srv->ws_lock);
}
