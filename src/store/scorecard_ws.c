/* The balanced scorecard of a workspace (see scorecard_ws.h). */
#include "store/scorecard_ws.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A result with every KPI unscored, ready to be filled. */
static int new_result(const tr_plan *plan, tr_scorecard_ws **out, tr_error *err) {
  size_t nk = plan->scorecard.n_kpis;
  tr_scorecard_ws *s = tr_calloc(1, sizeof *s);
  if (s) {
    s->plan = plan;
    s->values = tr_malloc((nk ? nk : 1) * sizeof *s->values);
    s->periods = tr_calloc(nk ? nk : 1, sizeof *s->periods);
  }
  if (!s || !s->values || !s->periods) {
    tr_scorecard_ws_free(s);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  for (size_t i = 0; i < nk; i++)
    s->values[i] = NAN;
  *out = s;
  return TR_OK;
}

/* Score what was read and hand the result over, or free it on error. */
static int finish(tr_scorecard_ws *s, int rc, tr_scorecard_ws **out, tr_error *err) {
  if (!rc) rc = tr_scorecard_evaluate(&s->plan->scorecard, s->values, &s->result, err);
  if (rc) {
    tr_scorecard_ws_free(s);
    return rc;
  }
  *out = s;
  return TR_OK;
}

void tr_scorecard_ws_free(tr_scorecard_ws *s) {
  if (!s) return;
  tr_scorecard_result_free(&s->result);
  tr_free(s->values);
  tr_free(s->periods);
  tr_free(s);
}

/* ---- from the store --------------------------------------------------------------------- */

static int take_latest(void *ud, const tr_kpi_summary *k) {
  tr_scorecard_ws *s = ud;
  long i = tr_plan_find_kpi(s->plan, k->kpi);
  if (i < 0) return 0;
  s->values[i] = k->last_value;
  snprintf(s->periods[i], sizeof s->periods[i], "%s", k->last_period ? k->last_period : "");
  s->matched++;
  return 0;
}

int tr_scorecard_ws_from_store(const tr_plan *plan, tr_store *store, tr_scorecard_ws **out,
                               tr_error *err) {
  *out = NULL;
  tr_scorecard_ws *s = NULL;
  int rc = new_result(plan, &s, err);
  if (rc) return rc;
  if (store && plan->scorecard.n_kpis) rc = tr_store_list_kpis(store, take_latest, s, err);
  return finish(s, rc, out, err);
}

/* ---- from a model run ------------------------------------------------------------------- */

/* The value of model constant `name` as written in the model (a lever's scale). */
static double constant_value(const tr_model *m, const char *name) {
  long i = tr_model_find(m, name);
  if (i < 0) return NAN;
  tr_var_info v;
  tr_model_var(m, (size_t)i, &v);
  return v.is_constant ? v.value : NAN;
}

/* A model name the plan refers to that the model lacks: bad input, at the plan position. */
static int no_such(const tr_plan *plan, const tr_model *m, tr_plan_pos pos, const char *what,
                   const char *name, tr_error *err) {
  const char *near = tr_model_suggest(m, name);
  return tr_error_set(err, TR_ERR_UNKNOWN_NAME, plan->file, pos.line, pos.col,
                      "%s '%s' is not a variable of %s%s%s%s", what, name, tr_model_file(m),
                      near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
}

/* Set every lever-bound constant of `sim` from the plan's current shares. */
static int apply_levers(const tr_plan *plan, const tr_model *m, tr_sim *sim, tr_error *err) {
  for (size_t t = 0; t < plan->n_tensions; t++) {
    const tr_lever *lv = &plan->tensions[t].lever;
    for (size_t b = 0; b < lv->n_bindings; b++) {
      const tr_lever_binding *lb = &lv->bindings[b];
      long idx = tr_model_find(m, lb->constant);
      double scale = lb->scale_name ? constant_value(m, lb->scale_name) : lb->scale_value;
      if (idx < 0) return no_such(plan, m, lb->pos, "lever constant", lb->constant, err);
      if (isnan(scale)) return no_such(plan, m, lb->pos, "lever scale", lb->scale_name, err);
      if (tr_sim_set_const_index(sim, (size_t)idx, -1,
                                 (lb->pole ? 1 - lv->current : lv->current) * scale))
        return tr_error_set(err, TR_ERR_INVALID, plan->file, lb->pos.line, lb->pos.col, "%s",
                            tr_error_text(tr_sim_error(sim)));
    }
  }
  return TR_OK;
}

int tr_scorecard_ws_from_run(const tr_plan *plan, const tr_model *model, double at,
                             tr_scorecard_ws **out, tr_error *err) {
  *out = NULL;
  tr_scorecard_ws *s = NULL;
  int rc = new_result(plan, &s, err);
  if (rc) return rc;
  s->simulated = 1;
  s->at = NAN;
  tr_sim *sim = NULL;
  rc = tr_sim_new(model, NULL, &sim, err);
  if (!rc) rc = apply_levers(plan, model, sim, err);
  if (!rc && tr_sim_run(sim) != TR_OK) {
    tr_error_copy(err, tr_sim_error(sim));
    rc = err->code ? err->code : TR_ERR_INTERNAL;
  }
  size_t n = rc ? 0 : tr_sim_saved_count(sim), at_i = 0;
  const double *times = rc ? NULL : tr_sim_times(sim);
  for (size_t i = 0; i < n; i++)
    if (times[i] <= at + 1e-9) at_i = i;
  if (!rc && n && at < times[0] - 1e-9)
    rc = tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                      "time %g is before the model's start time %g", at, times[0]);
  if (!rc && n) s->at = times[at_i];
  for (size_t k = 0; !rc && k < plan->scorecard.n_kpis; k++) {
    const tr_kpi *kp = &plan->scorecard.kpis[k];
    if (!kp->variable) continue;
    long idx = tr_model_find(model, kp->variable);
    if (idx < 0) {
      rc = no_such(plan, model, kp->pos, "KPI variable", kp->variable, err);
      break;
    }
    const double *series = tr_sim_series(sim, (size_t)idx, 0);
    if (!series || !n) continue;
    s->values[k] = series[at_i];
    snprintf(s->periods[k], sizeof s->periods[k], "t=%g", times[at_i]);
    s->matched++;
  }
  tr_sim_free(sim);
  return finish(s, rc, out, err);
}

/* ---- JSON ------------------------------------------------------------------------------- */

static cJSON *num_or_null(double x) {
  return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}

/* The value a KPI aims at: its target, or the goal of a goal/red-flag KPI; NAN when none. */
static double kpi_target(const tr_kpi *kp) {
  if (kp->has_target) return kp->target;
  if (kp->mode == TR_SCORE_GOAL_REDFLAG) return kp->goal;
  return NAN;
}

static void add_kpi(cJSON *ks, const tr_scorecard_ws *s, size_t k) {
  const tr_kpi *kp = &s->plan->scorecard.kpis[k];
  const tr_scorecard_result *r = &s->result;
  cJSON *kj = cJSON_CreateObject();
  if (!kj || !cJSON_AddItemToArray(ks, kj)) {
    cJSON_Delete(kj);
    return;
  }
  cJSON_AddStringToObject(kj, "id", kp->id);
  cJSON_AddStringToObject(kj, "name", kp->name);
  cJSON_AddItemToObject(kj, "value", num_or_null(r->kpis[k].value));
  cJSON_AddItemToObject(kj, "target", num_or_null(kpi_target(kp)));
  if (isnan(r->kpis[k].value))
    cJSON_AddNullToObject(kj, "period");
  else
    cJSON_AddStringToObject(kj, "period", s->periods[k]);
  cJSON_AddItemToObject(kj, "raw", num_or_null(r->kpis[k].raw));
  cJSON_AddItemToObject(kj, "score", num_or_null(r->kpis[k].score));
  cJSON_AddStringToObject(kj, "status", tr_rag_name(r->kpis[k].status));
  cJSON_AddNumberToObject(kj, "weight", r->kpi_weight[k]);
  cJSON_AddBoolToObject(kj, "leading", kp->leading);
}

cJSON *tr_scorecard_ws_to_json(const tr_scorecard_ws *s) {
  const tr_plan *plan = s->plan;
  const tr_scorecard *sc = &plan->scorecard;
  const tr_scorecard_result *r = &s->result;
  cJSON *root = cJSON_CreateObject();
  if (!root) return NULL;
  cJSON_AddStringToObject(root, "company", plan->company.name);
  cJSON_AddItemToObject(root, "total", num_or_null(r->total));
  cJSON_AddStringToObject(root, "status", tr_rag_name(r->total_status));
  cJSON *ps = cJSON_AddArrayToObject(root, "perspectives");
  for (int p = 0; ps && p < TR_PERSP_COUNT; p++) {
    cJSON *pj = cJSON_CreateObject();
    if (!pj || !cJSON_AddItemToArray(ps, pj)) {
      cJSON_Delete(pj);
      break;
    }
    cJSON_AddStringToObject(pj, "id", tr_perspective_name((tr_perspective_id)p));
    cJSON_AddStringToObject(pj, "name", sc->perspectives[p].name);
    cJSON_AddNumberToObject(pj, "weight", sc->perspectives[p].weight);
    cJSON_AddItemToObject(pj, "score", num_or_null(r->perspectives[p]));
    cJSON_AddStringToObject(pj, "status", tr_rag_name(r->perspective_status[p]));
    cJSON *os = cJSON_AddArrayToObject(pj, "objectives");
    for (size_t o = 0; os && o < sc->n_objectives; o++) {
      if ((int)sc->objectives[o].perspective != p) continue;
      cJSON *oj = cJSON_CreateObject();
      if (!oj || !cJSON_AddItemToArray(os, oj)) {
        cJSON_Delete(oj);
        break;
      }
      cJSON_AddStringToObject(oj, "id", sc->objectives[o].id);
      cJSON_AddStringToObject(oj, "name", sc->objectives[o].name);
      cJSON_AddItemToObject(oj, "score", num_or_null(r->objectives[o]));
      cJSON_AddStringToObject(oj, "status", tr_rag_name(r->objective_status[o]));
      cJSON *ks = cJSON_AddArrayToObject(oj, "kpis");
      for (size_t k = 0; ks && k < sc->n_kpis; k++)
        if (sc->kpis[k].objective == o) add_kpi(ks, s, k);
    }
  }
  if (!ps || cJSON_GetArraySize(ps) != TR_PERSP_COUNT) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}
