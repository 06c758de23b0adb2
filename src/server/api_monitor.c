/* JSON API over the KPI history: the balanced scorecard (GET /api/scorecard), the early
 * warning alerts (GET /api/alerts) and the active alerts of the assessment. The analysis is
 * src/store/scorecard_ws.h and src/store/monitor.h, shared with `tightrope scorecard` and
 * `tightrope monitor`, so the dashboard and the CLI always agree. */
#include "server/api.h"

#include "store/monitor.h"
#include "store/scorecard_ws.h"

#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

/* The HTTP status of a failed analysis: the server's trouble is 500, the input's 422. */
static int status_of(int rc) {
  switch (rc) {
  case TR_ERR_NOMEM:
  case TR_ERR_IO:
  case TR_ERR_DB:
  case TR_ERR_INTERNAL:
  case TR_ERR_MATH:
    return 500;
  default:
    return 422;
  }
}

/* GET /api/scorecard[?at=TIME|end]: the scorecard from the latest observations, or from one
 * run of the model with the plan's levers at TIME. */
void tr_api_scorecard(tr_http_req *req, tr_http_resp *resp) {
  const char *at = tr_http_query(req, "at");
  double when = INFINITY;
  if (at && strcmp(at, "end") != 0) {
    char *end;
    errno = 0;
    when = strtod(at, &end);
    if (!*at || *end || errno || !isfinite(when)) {
      tr_http_error(resp, 400, "at must be a model time or 'end'");
      return;
    }
  }
  tr_workspace *ws = tr_api_open_ws(req, resp);
  if (!ws) return;
  tr_error err;
  tr_error_clear(&err);
  tr_scorecard_ws *sc = NULL;
  int rc = at ? tr_scorecard_ws_from_run(ws->plan, ws->model, when, &sc, &err)
              : tr_scorecard_ws_from_store(ws->plan, ws->store, &sc, &err);
  if (rc) {
    tr_http_error(resp, status_of(rc), "%s", tr_error_text(&err));
  } else {
    cJSON *o = tr_scorecard_ws_to_json(sc);
    if (o) {
      cJSON_AddStringToObject(o, "source", sc->simulated ? "model" : "store");
      if (sc->simulated) cJSON_AddItemToObject(o, "at", tr_api_num(sc->at));
    }
    tr_http_json(resp, 200, o);
  }
  tr_scorecard_ws_free(sc);
  tr_workspace_close(ws);
}

/* Monitoring options from the query string; 0, or -1 with a 400 response set. */
static int alert_opts(tr_http_req *req, tr_http_resp *resp, tr_monitor_opts *o) {
  tr_monitor_opts_init(o);
  o->since = tr_http_query(req, "since");
  const char *rules = tr_http_query(req, "rules");
  const char *best = NULL;
  if (rules && !tr_monitor_parse_rules(rules, &o->rules, &best)) {
    tr_http_error(resp, 400, "rules: '%s' is not western-electric, nelson or anhoj%s%s%s", rules,
                  best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
    return -1;
  }
  const char *b = tr_http_query(req, "baseline");
  if (b) {
    char *end;
    errno = 0;
    long n = strtol(b, &end, 10);
    if (!*b || *end || errno || n < 2 || n > 1000000) {
      tr_http_error(resp, 400, "baseline must be a whole number of observations, at least 2");
      return -1;
    }
    o->baseline = (size_t)n;
  }
  const char *all = tr_http_query(req, "all");
  if (all) {
    if (!strcmp(all, "1") || !strcmp(all, "true"))
      o->all = 1;
    else if (strcmp(all, "0") && strcmp(all, "false")) {
      tr_http_error(resp, 400, "all must be true or false");
      return -1;
    }
  }
  return 0;
}

/* GET /api/alerts[?since=DATE&rules=SET&baseline=N&all=true]: `tightrope monitor` as JSON. */
void tr_api_alerts(tr_http_req *req, tr_http_resp *resp) {
  tr_monitor_opts opts;
  if (alert_opts(req, resp, &opts)) return;
  tr_workspace *ws = tr_api_open_ws(req, resp);
  if (!ws) return;
  tr_error err;
  tr_error_clear(&err);
  tr_monitor *m = NULL;
  int rc = tr_monitor_run(ws->plan, ws->store, &opts, &m, &err);
  if (rc == TR_ERR_INVALID) /* only the query can be invalid here: a malformed since */
    tr_http_error(resp, 400, "since: %s", tr_error_text(&err));
  else if (rc)
    tr_http_error(resp, status_of(rc), "%s", tr_error_text(&err));
  else
    tr_http_json(resp, 200, tr_monitor_to_json(m));
  tr_monitor_free(m);
  tr_workspace_close(ws);
}

void tr_api_add_alerts(cJSON *o, tr_workspace *ws) {
  if (!o) return;
  tr_error err;
  tr_error_clear(&err);
  tr_monitor *m = NULL;
  int rc = tr_monitor_run(ws->plan, ws->store, NULL, &m, &err);
  cJSON *a = rc ? cJSON_CreateArray() : tr_monitor_alerts_json(m);
  cJSON_AddItemToObject(o, "alerts", a);
  if (rc) cJSON_AddStringToObject(o, "alerts_error", tr_error_text(&err));
  tr_monitor_free(m);
}
