/*
 * The balanced scorecard of a workspace: the plan's KPIs scored from the latest observation
 * of each in the store, or from one run of the workspace model with the plan's current lever
 * shares (`tightrope scorecard --at`), rolled up by strategy/scorecard.h. Shared by
 * `tightrope scorecard` and `GET /api/scorecard`; the JSON form is the one both print.
 *
 * A result borrows the plan (and nothing else): keep the plan alive until it is freed.
 * Thread-safe for distinct results; a store or model is used by one thread at a time.
 */
#ifndef TR_STORE_SCORECARD_WS_H
#define TR_STORE_SCORECARD_WS_H

#include "strategy/scorecard.h"
#include "tightrope/engine.h"
#include "tightrope/store.h"
#include "tightrope/strategy.h"

#include <cjson/cJSON.h>

typedef struct tr_scorecard_ws {
  const tr_plan *plan;        /* borrowed */
  double *values;             /* per plan KPI, the value scored (NAN: none) */
  char (*periods)[16];        /* per plan KPI: its period ("2025-06", or "t=5" from a run);
                                 "" when there is no value */
  long matched;               /* KPIs that got a value */
  int simulated;              /* 1: values from a model run */
  double at;                  /* simulated: the saved time the values were read at */
  tr_scorecard_result result; /* the scores and roll-up */
} tr_scorecard_ws;

/* Score the plan from the latest observation of each KPI in `store` (NULL: no store yet,
 * every KPI unscored). On TR_OK *out is a new result (tr_scorecard_ws_free). Errors:
 * TR_ERR_DB, TR_ERR_NOMEM; *out is NULL. */
int tr_scorecard_ws_from_store(const tr_plan *plan, tr_store *store, tr_scorecard_ws **out,
                               tr_error *err);

/* Run `model` once with the plan's current lever shares and score every KPI bound to a model
 * variable at time `at` (the last saved time at or before it; INFINITY: the last saved
 * time); KPIs not bound to the model stay unscored. Errors, each naming the plan position at
 * fault: TR_ERR_UNKNOWN_NAME for a lever constant, lever scale or KPI variable the model
 * lacks (with a "did you mean"); TR_ERR_INVALID for a lever value the model refuses or an
 * `at` before the model's start time; the engine's own codes when the model cannot be
 * compiled or run; TR_ERR_NOMEM. *out is NULL on error. */
int tr_scorecard_ws_from_run(const tr_plan *plan, const tr_model *model, double at,
                             tr_scorecard_ws **out, tr_error *err);

/* Free a result; NULL is a no-op. */
void tr_scorecard_ws_free(tr_scorecard_ws *s);

/* The scorecard as JSON: company, total, status, and perspectives -> objectives -> kpis
 * (id, name, value, target, period, raw, score, status, weight, leading); numbers that are
 * unknown are null. The caller owns the tree; NULL when out of memory. */
cJSON *tr_scorecard_ws_to_json(const tr_scorecard_ws *s);

#endif
