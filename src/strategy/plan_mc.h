/*
 * The plan on a Monte Carlo study: its uncertain inputs and their correlation, a named
 * scenario's overrides and shocks, and lever settings, declared on a tr_mc (the scenario
 * layer, which knows nothing of plans). Shared by `tightrope scenarios` and the server;
 * `assess` (assess.c) loads its scenarios' shocked models with tr_plan_mc_load_model too, so
 * a plan's shock acts the same in all of them.
 */
#ifndef TR_STRATEGY_PLAN_MC_H
#define TR_STRATEGY_PLAN_MC_H

#include "tightrope/scenario.h"
#include "tightrope/strategy.h"

/* The scenario named `name`, or NULL. */
const tr_scenario *tr_plan_find_scenario(const tr_plan *plan, const char *name);

/* Load the model at `model_path` with the shocks of `scen` applied (scen may be NULL).
 * Errors are tr_mc_load_model's, positioned in the plan for a bad shock. */
int tr_plan_mc_load_model(const char *model_path, const tr_plan *plan, const tr_scenario *scen,
                          tr_model **out, tr_error *err);

/* Declare the plan's uncertain inputs and correlation, then the overrides of `scen` (may be
 * NULL), on mc. Errors carry the plan position; details also in tr_mc_error(mc). */
int tr_plan_mc_apply(tr_mc *mc, const tr_plan *plan, const tr_scenario *scen, tr_error *err);

/* Override the constants bound to the plan's levers: shares[i] for tension i, or the plan's
 * current share where `shares` is NULL. */
int tr_plan_mc_levers(tr_mc *mc, const tr_plan *plan, const tr_model *model, const double *shares,
                      tr_error *err);

#endif
