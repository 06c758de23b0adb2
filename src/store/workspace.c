/* Workspace folders (see workspace.h). */
#include "store/workspace.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int tr_workspace_open(const char *dir, tr_workspace **out, tr_error *err) {
  *out = NULL;
  if (!dir) dir = ".";
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return tr_error_set(err, TR_ERR_NOT_FOUND, dir, 0, 0,
                        "not a workspace folder (create one with 'tightrope init --sector "
                        "NAME %s')",
                        dir);
  tr_workspace *ws = tr_calloc(1, sizeof *ws);
  if (!ws) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
  snprintf(ws->dir, sizeof ws->dir, "%s", dir);
  snprintf(ws->model_path, sizeof ws->model_path, "%s/model.xmile", dir);
  snprintf(ws->plan_path, sizeof ws->plan_path, "%s/plan.yaml", dir);
  int rc = TR_OK;
  if (!exists(ws->model_path) || !exists(ws->plan_path)) {
    rc = tr_error_set(err, TR_ERR_NOT_FOUND,
                      exists(ws->model_path) ? ws->plan_path : ws->model_path, 0, 0,
                      "missing: a workspace needs model.xmile and plan.yaml (create one with "
                      "'tightrope init --sector NAME DIR')");
    goto fail;
  }
  rc = tr_model_load_file(ws->model_path, &ws->model, err);
  if (!rc) rc = tr_plan_load_file(ws->plan_path, &ws->plan, err);
  if (rc) goto fail;

  /* every model name the plan uses must exist */
  size_t n = tr_model_var_count(ws->model);
  const char **names = tr_calloc(n + 1, sizeof *names);
  if (!names) {
    rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    tr_var_info vi;
    tr_model_var(ws->model, i, &vi);
    names[i] = vi.name;
  }
  rc = tr_plan_check_names(ws->plan, names, n, err);
  tr_free(names);
  if (rc) goto fail;

  char db[1100];
  snprintf(db, sizeof db, "%s/tightrope.db", dir);
  if (exists(db)) {
    rc = tr_store_open_workspace(&ws->store, dir, err);
    if (rc) goto fail;
  }
  *out = ws;
  return TR_OK;
fail:
  tr_workspace_close(ws);
  return rc;
}

void tr_workspace_close(tr_workspace *ws) {
  if (!ws) return;
  tr_store_close(ws->store);
  tr_plan_free(ws->plan);
  tr_model_free(ws->model);
  tr_free(ws);
}

static int keep_last(void *ud, const tr_kpi_obs *o) {
  *(double *)ud = o->value;
  return 0;
}

double tr_workspace_kpi_latest(tr_workspace *ws, const char *kpi) {
  double v = NAN;
  if (!ws->store) return v;
  tr_error err;
  tr_error_clear(&err);
  if (tr_store_observations(ws->store, kpi, NULL, keep_last, &v, &err) != TR_OK) return NAN;
  return v;
}
