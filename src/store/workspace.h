/*
 * A workspace is a folder: model.xmile (the business), plan.yaml (what the owner balances,
 * measures and plans) and tightrope.db (KPI observations). tr_workspace_open loads the first
 * two, checks that every model name the plan uses exists, and opens the store when the
 * database file is there. Shared by the CLI commands and the server.
 */
#ifndef TR_STORE_WORKSPACE_H
#define TR_STORE_WORKSPACE_H

#include "tightrope/engine.h"
#include "tightrope/store.h"
#include "tightrope/strategy.h"

typedef struct tr_workspace {
  char dir[1024];
  char model_path[1100];
  char plan_path[1100];
  tr_model *model; /* owned */
  tr_plan *plan;   /* owned */
  tr_store *store; /* owned; NULL when the workspace has no tightrope.db yet */
} tr_workspace;

/* Open the workspace in `dir` ("." when NULL). A missing model or plan is TR_ERR_NOT_FOUND
 * with a message that says how to make one (`tightrope init`); model and plan errors come
 * back as the loaders report them (file:line:col); a plan naming a model variable that does
 * not exist is TR_ERR_UNKNOWN_NAME at the plan's position. */
int tr_workspace_open(const char *dir, tr_workspace **out, tr_error *err);

/* Close and free; NULL is a no-op. */
void tr_workspace_close(tr_workspace *ws);

/* The latest observed value of a KPI, NAN when there is none (or no store). */
double tr_workspace_kpi_latest(tr_workspace *ws, const char *kpi);

#endif
