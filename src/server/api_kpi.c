/* JSON API over the KPI store: list, one KPI with its control chart, CSV upload. */
#include "server/api.h"

#include "base/strbuf.h"
#include "strategy/spc.h"

#include <math.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Natural process limits come from the first observations, as `tightrope monitor` does. */
#define KPI_BASELINE 12
#define KPI_MIN_POINTS 6

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
  cJSON_AddStringToObject(o, "name", i >= 0 && l->plan->scorecard.kpis[i].name
                                         ? l->plan->scorecard.kpis[i].name
                                         : k->kpi);
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
  double *x;
  size_t n, cap;
  int nomem;
} obs_acc;

static int take_obs(void *ud, const tr_kpi_obs *o) {
  obs_acc *a = ud;
  if (a->n == a->cap) {
    size_t cap = a->cap ? 2 * a->cap : 64;
    double *x = tr_realloc(a->x, cap * sizeof *x);
    if (!x) {
      a->nomem = 1;
      return 1;
    }
    a->x = x;
    a->cap = cap;
  }
  a->x[a->n++] = o->value;
  cJSON_AddItemToArray(a->periods, cJSON_CreateString(o->period));
  return 0;
}

void tr_api_kpi(tr_http_req *req, tr_http_resp *resp) {
  const char *id = req->params[0];
  tr_workspace *ws = tr_api_open_ws(req, resp);
  if (!ws) return;
  long k = tr_plan_find_kpi(ws->plan, id);
  cJSON *o = cJSON_CreateObject();
  obs_acc acc = {o ? cJSON_AddArrayToObject(o, "periods") : NULL, NULL, 0, 0, 0};
  tr_error err;
  tr_error_clear(&err);
  int rc = acc.periods && ws->store ? tr_store_observations(ws->store, id, NULL, take_obs, &acc, &err) : TR_OK;
  if (rc || acc.nomem || !o) {
    tr_http_error(resp, 500, "%s", rc ? tr_error_text(&err) : "out of memory");
    goto done;
  }
  if (acc.n == 0 && k < 0) {
    tr_http_error(resp, 404, "no KPI '%s' in the plan or the store", id);
    goto done;
  }
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddStringToObject(o, "name", k >= 0 && ws->plan->scorecard.kpis[k].name
                                         ? ws->plan->scorecard.kpis[k].name
                                         : id);
  cJSON_AddItemToObject(o, "values", tr_api_nums(acc.x, acc.n));
  cJSON *sigs = cJSON_AddArrayToObject(o, "signals");
  if (acc.n >= KPI_MIN_POINTS) {
    size_t b = acc.n < KPI_BASELINE ? acc.n : KPI_BASELINE;
    tr_xmr lim;
    if (tr_spc_xmr(acc.x, b, &lim, &err) == TR_OK) {
      cJSON *l = cJSON_AddObjectToObject(o, "limits");
      cJSON_AddItemToObject(l, "centre", tr_api_num(lim.mean));
      cJSON_AddItemToObject(l, "upper", tr_api_num(lim.unpl));
      cJSON_AddItemToObject(l, "lower", tr_api_num(lim.lnpl));
      cJSON_AddNumberToObject(l, "baseline_points", (double)b);
      tr_spc_signals sig;
      tr_spc_signals_init(&sig);
      if (lim.sigma > 0 &&
          tr_spc_rules(acc.x, acc.n, &lim, TR_SPC_WESTERN_ELECTRIC, &sig, &err) == TR_OK)
        for (size_t i = 0; i < sig.n; i++) {
          cJSON *s = cJSON_CreateObject();
          if (!s) break;
          cJSON_AddNumberToObject(s, "index", (double)sig.items[i].index);
          cJSON_AddStringToObject(s, "rule", sig.items[i].rule);
          cJSON_AddNumberToObject(s, "side", sig.items[i].side);
          cJSON_AddStringToObject(s, "message", sig.items[i].text);
          cJSON_AddItemToArray(sigs, s);
        }
      tr_spc_signals_free(&sig);
    }
  }
  tr_http_json(resp, 200, o);
  o = NULL;
done:
  cJSON_Delete(o);
  tr_free(acc.x);
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
  const char *fmt = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "format");
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
  for (size_t i = 0; i < nk; i++) known[i] = ws->plan->scorecard.kpis[i].id;
  cJSON *o = cJSON_CreateObject();
  problems pr = {o ? cJSON_AddArrayToObject(o, "problems") : NULL, 0};
  tr_import_report rep;
  memset(&rep, 0, sizeof rep);
  rep.on_problem = on_problem;
  rep.ud = &pr;
  int rc = pr.arr ? tr_store_import_csv(ws->store, path, fmt && !strcmp(fmt, "wide") ? TR_KPI_WIDE : TR_KPI_LONG,
                                        0, nk ? known : NULL, &rep, &err)
                  : TR_ERR_NOMEM;
  if (rc) {
    cJSON_Delete(o);
    tr_http_error(resp, rc == TR_ERR_DB || rc == TR_ERR_NOMEM || rc == TR_ERR_IO ? 500 : 422,
                  "%s", tr_error_text(&err));
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
