/* The plan on a Monte Carlo study (see plan_mc.h). */
#include "strategy/plan_mc.h"

#include "strategy/assess.h"

#include <stdio.h>
#include <string.h>

const tr_scenario *tr_plan_find_scenario(const tr_plan *plan, const char *name) {
  for (size_t i = 0; plan && name && i < plan->n_scenarios; i++)
    if (strcmp(plan->scenarios[i].name, name) == 0) return &plan->scenarios[i];
  return NULL;
}

int tr_plan_mc_load_model(const char *model_path, const tr_plan *plan, const tr_scenario *scen,
                          tr_model **out, tr_error *err) {
  size_t n = scen ? scen->n_shocks : 0;
  tr_mc_shock *sh = n ? tr_calloc(n, sizeof *sh) : NULL;
  if (n && !sh) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
  static const tr_mc_shock_kind kinds[] = {[TR_SHOCK_STEP] = TR_MC_STEP,
                                           [TR_SHOCK_RAMP] = TR_MC_RAMP,
                                           [TR_SHOCK_PULSE] = TR_MC_PULSE,
                                           [TR_SHOCK_PATH] = TR_MC_PATH};
  for (size_t i = 0; i < n; i++) {
    const tr_shock *p = &scen->shocks[i];
    sh[i] = (tr_mc_shock){p->variable,  kinds[p->kind], p->start,  p->has_end, p->end,
                          p->magnitude, p->additive,    p->path_t, p->path_v,  p->n_path,
                          plan->file,   p->pos.line,    p->pos.col};
  }
  int rc = tr_mc_load_model(model_path, sh, n, out, err);
  tr_free(sh);
  return rc;
}

int tr_plan_mc_apply(tr_mc *mc, const tr_plan *plan, const tr_scenario *scen, tr_error *err) {
  const tr_uncertainty *u = &plan->uncertainty;
  int rc;
  for (size_t i = 0; i < u->n_inputs; i++) {
    const tr_uncertain_input *in = &u->inputs[i];
    rc = tr_mc_vary_params(mc, in->name, in->dist, in->param_names, in->params, in->n_params,
                           plan->file, in->pos.line, in->pos.col);
    if (rc) {
      tr_error_copy(err, tr_mc_error(mc));
      return rc;
    }
  }
  if (u->correlation && (rc = tr_mc_correlate(mc, u->correlation, u->n_inputs)) != TR_OK) {
    tr_error_copy(err, tr_mc_error(mc));
    return rc;
  }
  for (size_t i = 0; scen && i < scen->n_overrides; i++) {
    rc = tr_mc_override(mc, scen->overrides[i].name, scen->overrides[i].value);
    if (rc)
      return tr_error_set(err, rc, plan->file, scen->overrides[i].pos.line,
                          scen->overrides[i].pos.col, "scenario '%.100s': %.380s", scen->name,
                          tr_mc_error(mc)->msg);
  }
  return TR_OK;
}

int tr_plan_mc_levers(tr_mc *mc, const tr_plan *plan, const tr_model *model, const double *shares,
                      tr_error *err) {
  for (size_t t = 0; t < plan->n_tensions; t++) {
    const tr_lever *L = &plan->tensions[t].lever;
    double share = shares ? shares[t] : L->current;
    for (size_t b = 0; b < L->n_bindings; b++) {
      const tr_lever_binding *lb = &L->bindings[b];
      int rc = tr_mc_override(mc, lb->constant, tr_lever_binding_value(model, lb, share));
      if (rc)
        return tr_error_set(err, rc, plan->file, lb->pos.line, lb->pos.col, "lever of '%s': %s",
                            plan->tensions[t].id, tr_mc_error(mc)->msg);
    }
  }
  return TR_OK;
}
