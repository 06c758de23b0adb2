/* Private to src/server: the API handlers the route table (routes.c) dispatches to, and
 * helpers they share. */
#ifndef TR_SERVER_API_H
#define TR_SERVER_API_H

#include "server/server_impl.h"
#include "store/workspace.h"

/* Open the server's workspace, or set a 404/422/500 JSON error and return NULL. */
tr_workspace *tr_api_open_ws(tr_http_req *req, tr_http_resp *resp);
/* A JSON number, or null for NaN and infinities (JSON has neither). */
cJSON *tr_api_num(double v);
cJSON *tr_api_nums(const double *v, size_t n);
/* Lever and constant settings from a request body into every lane of `sim`; 0 or -1 with
 * the response set. `levers` NULL applies the plan's current levers. */
int tr_api_apply_settings(const tr_workspace *ws, tr_sim *sim, const cJSON *levers,
                          const cJSON *set, tr_http_resp *resp);
/* Variable indexes from a JSON list of names (all visible ones when NULL); -1 with the
 * response set on an unknown name. */
long tr_api_pick_vars(const tr_model *m, const cJSON *vars, size_t *out, size_t cap,
                      tr_http_resp *resp);

void tr_api_workspace(tr_http_req *req, tr_http_resp *resp);
void tr_api_plan(tr_http_req *req, tr_http_resp *resp);
void tr_api_levers(tr_http_req *req, tr_http_resp *resp);
void tr_api_model(tr_http_req *req, tr_http_resp *resp);
void tr_api_simulate(tr_http_req *req, tr_http_resp *resp);
void tr_api_assess(tr_http_req *req, tr_http_resp *resp);
void tr_api_scenarios(tr_http_req *req, tr_http_resp *resp);
void tr_api_kpis(tr_http_req *req, tr_http_resp *resp);
void tr_api_kpi(tr_http_req *req, tr_http_resp *resp);
void tr_api_kpi_upload(tr_http_req *req, tr_http_resp *resp);
void tr_api_scorecard(tr_http_req *req, tr_http_resp *resp);
void tr_api_alerts(tr_http_req *req, tr_http_resp *resp);
/* Add the workspace's active alerts to `o` as "alerts" (api_monitor.c); when they cannot be
 * computed, an empty list and "alerts_error". NULL o is a no-op. */
void tr_api_add_alerts(cJSON *o, tr_workspace *ws);

#endif
