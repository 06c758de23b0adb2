/* `tightrope scorecard [WORKSPACE]`: the balanced scorecard of the workspace plan, scored from
 * the latest observation of each KPI in the store — or, with --at, from a simulation of the
 * workspace model with the plan's current lever settings — as text, JSON or a Graphviz
 * strategy map. */
#include "cli/cli.h"
#include "cli/commands.h"

#include "base/strbuf.h"
#include "base/text.h"
#include "strategy/scorecard.h"
#include "tightrope/engine.h"
#include "tightrope/store.h"
#include "tightrope/strategy.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { OPT_FORMAT, OPT_AT };

const tr_cli_opt tr_cmd_scorecard_opts[] = {
    {"format", 'f', "text|json|dot", "output: a table (default), JSON, or the strategy map as DOT"},
    {"at", 0, "TIME|end",
     "score KPIs bound to model variables from a run of WORKSPACE/model.xmile at TIME"},
    {NULL, 0, NULL, NULL}};

typedef struct latest {
  const tr_plan *plan;
  double *value;  /* per plan KPI */
  char (*period)[16];
  long matched;
} latest;

static int take_latest(void *ud, const tr_kpi_summary *k) {
  latest *l = ud;
  long i = tr_plan_find_kpi(l->plan, k->kpi);
  if (i < 0) return 0;
  l->value[i] = k->last_value;
  snprintf(l->period[i], sizeof l->period[i], "%s", k->last_period ? k->last_period : "");
  l->matched++;
  return 0;
}

/* Fill the latest values from WORKSPACE/tightrope.db; a workspace without a store simply has
 * no observations yet. Returns an exit code. */
static int read_latest(const tr_cli_cmd *cmd, const char *dir, latest *l) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, TR_STORE_FILE);
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "tightrope %s: no KPI store in '%s' yet: every KPI is unscored "
                    "(see 'tightrope kpi import')\n",
            cmd->name, dir);
    return TR_EXIT_OK;
  }
  tr_store *s = NULL;
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_store_open_workspace(&s, dir, &err);
  if (!rc) rc = tr_store_list_kpis(s, take_latest, l, &err);
  tr_store_close(s);
  if (rc) {
    fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(&err));
    return tr_status_exit_code(rc);
  }
  return TR_EXIT_OK;
}

/* The value of model constant `name` as written in the model (a lever's scale). */
static double constant_value(const tr_model *m, const char *name) {
  long i = tr_model_find(m, name);
  if (i < 0) return NAN;
  tr_var_info v;
  tr_model_var(m, (size_t)i, &v);
  return v.is_constant ? v.value : NAN;
}

/* A model name the plan refers to that the model lacks: bad input, with the plan position. */
static int no_such(const tr_cli_cmd *cmd, const tr_plan *plan, const tr_model *m, tr_plan_pos pos,
                   const char *what, const char *name) {
  const char *near = tr_model_suggest(m, name);
  fprintf(stderr, "tightrope %s: %s:%d:%d: %s '%s' is not a variable of %s%s%s%s\n", cmd->name,
          plan->file, pos.line, pos.col, what, name, tr_model_file(m),
          near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
  return TR_EXIT_USAGE;
}

/* Run the workspace model once with the plan's current lever shares and read every KPI bound
 * to a model variable at time `at` (the last saved time at or before it; "end": the last). */
static int read_simulated(const tr_cli_cmd *cmd, const char *dir, const char *at, latest *l) {
  const tr_plan *plan = l->plan;
  double when = INFINITY;
  if (strcmp(at, "end") != 0 && !tr_cli_parse_double(cmd, "at", at, &when)) return TR_EXIT_USAGE;
  char path[4096];
  snprintf(path, sizeof path, "%s/model.xmile", dir);
  tr_model *m = NULL;
  tr_sim *sim = NULL;
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_model_load_file(path, &m, &err);
  if (!rc) rc = tr_sim_new(m, NULL, &sim, &err);
  if (rc) {
    fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(&err));
    tr_model_free(m);
    return rc == TR_ERR_IO || rc == TR_ERR_NOMEM ? TR_EXIT_FAIL : TR_EXIT_USAGE;
  }
  int x = TR_EXIT_OK;
  for (size_t t = 0; !x && t < plan->n_tensions; t++) {
    const tr_lever *lv = &plan->tensions[t].lever;
    for (size_t b = 0; !x && b < lv->n_bindings; b++) {
      const tr_lever_binding *lb = &lv->bindings[b];
      long idx = tr_model_find(m, lb->constant);
      double scale = lb->scale_name ? constant_value(m, lb->scale_name) : lb->scale_value;
      if (idx < 0) x = no_such(cmd, plan, m, lb->pos, "lever constant", lb->constant);
      else if (isnan(scale)) x = no_such(cmd, plan, m, lb->pos, "lever scale", lb->scale_name);
      else if (tr_sim_set_const_index(sim, (size_t)idx, -1,
                                      (lb->pole ? 1 - lv->current : lv->current) * scale)) {
        fprintf(stderr, "tightrope %s: %s:%d:%d: %s\n", cmd->name, plan->file, lb->pos.line,
                lb->pos.col, tr_error_text(tr_sim_error(sim)));
        x = TR_EXIT_USAGE;
      }
    }
  }
  if (!x && tr_sim_run(sim) != TR_OK) {
    fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(tr_sim_error(sim)));
    x = TR_EXIT_FAIL;
  }
  size_t n = x ? 0 : tr_sim_saved_count(sim), at_i = 0;
  const double *times = x ? NULL : tr_sim_times(sim);
  for (size_t i = 0; i < n; i++)
    if (times[i] <= when + 1e-9) at_i = i;
  if (!x && n && when < times[0] - 1e-9) {
    x = tr_cli_usage_error(cmd, "--at %s is before the model's start time %g", at, times[0]);
  }
  for (size_t k = 0; !x && k < plan->scorecard.n_kpis; k++) {
    const tr_kpi *kp = &plan->scorecard.kpis[k];
    if (!kp->variable) continue;
    long idx = tr_model_find(m, kp->variable);
    if (idx < 0) {
      x = no_such(cmd, plan, m, kp->pos, "KPI variable", kp->variable);
      break;
    }
    const double *series = tr_sim_series(sim, (size_t)idx, 0);
    if (!series || !n) continue;
    l->value[k] = series[at_i];
    snprintf(l->period[k], sizeof l->period[k], "t=%g", times[at_i]);
    l->matched++;
  }
  tr_sim_free(sim);
  tr_model_free(m);
  return x;
}

static void print_pct(double x) {
  if (isnan(x))
    printf("%6s", "-");
  else
    printf("%5.0f%%", 100 * x);
}

static void print_text(const tr_plan *plan, const tr_scorecard_result *r, const latest *l,
                       const char *at) {
  const tr_scorecard *sc = &plan->scorecard;
  printf("Balanced scorecard: %s%s%s\n\n", plan->company.name,
         at ? ", simulated at " : "", at ? at : "");
  printf("%-46s", "TOTAL");
  print_pct(r->total);
  printf("  %s\n", tr_rag_name(r->total_status));
  for (int p = 0; p < TR_PERSP_COUNT; p++) {
    printf("\n%-46.46s", sc->perspectives[p].name);
    print_pct(r->perspectives[p]);
    printf("  %-5s  (weight %g)\n", tr_rag_name(r->perspective_status[p]),
           sc->perspectives[p].weight);
    for (size_t o = 0; o < sc->n_objectives; o++) {
      if ((int)sc->objectives[o].perspective != p) continue;
      printf("  %-44.44s", sc->objectives[o].name);
      print_pct(r->objectives[o]);
      printf("  %s\n", tr_rag_name(r->objective_status[o]));
      for (size_t k = 0; k < sc->n_kpis; k++) {
        const tr_kpi *kp = &sc->kpis[k];
        if (kp->objective != o) continue;
        const tr_kpi_score *ks = &r->kpis[k];
        printf("    %-42.42s", kp->name);
        print_pct(ks->score);
        printf("  %-5s  ", tr_rag_name(ks->status));
        if (isnan(ks->value)) {
          printf("%s\n", !at             ? "no observation"
                          : kp->variable ? "no value"
                                         : "not bound to the model");
          continue;
        }
        printf("%g%s%s (%s)", ks->value, kp->unit ? " " : "", kp->unit ? kp->unit : "",
               l->period[k]);
        if (kp->mode == TR_SCORE_PROGRESS) printf(", progress %.1f%%", 100 * ks->raw);
        if (kp->mode == TR_SCORE_GOAL_REDFLAG) printf(", score %.2f/10", ks->raw);
        printf("%s\n", kp->leading ? ", leading" : "");
      }
    }
  }
}

static cJSON *num_or_null(double x) {
  return isnan(x) ? cJSON_CreateNull() : cJSON_CreateNumber(x);
}

static char *json_text(const tr_plan *plan, const tr_scorecard_result *r, const latest *l) {
  const tr_scorecard *sc = &plan->scorecard;
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "company", plan->company.name);
  cJSON_AddItemToObject(root, "total", num_or_null(r->total));
  cJSON_AddStringToObject(root, "status", tr_rag_name(r->total_status));
  cJSON *ps = cJSON_AddArrayToObject(root, "perspectives");
  for (int p = 0; p < TR_PERSP_COUNT; p++) {
    cJSON *pj = cJSON_CreateObject();
    cJSON_AddItemToArray(ps, pj);
    cJSON_AddStringToObject(pj, "id", tr_perspective_name((tr_perspective_id)p));
    cJSON_AddStringToObject(pj, "name", sc->perspectives[p].name);
    cJSON_AddNumberToObject(pj, "weight", sc->perspectives[p].weight);
    cJSON_AddItemToObject(pj, "score", num_or_null(r->perspectives[p]));
    cJSON_AddStringToObject(pj, "status", tr_rag_name(r->perspective_status[p]));
    cJSON *os = cJSON_AddArrayToObject(pj, "objectives");
    for (size_t o = 0; o < sc->n_objectives; o++) {
      if ((int)sc->objectives[o].perspective != p) continue;
      cJSON *oj = cJSON_CreateObject();
      cJSON_AddItemToArray(os, oj);
      cJSON_AddStringToObject(oj, "id", sc->objectives[o].id);
      cJSON_AddStringToObject(oj, "name", sc->objectives[o].name);
      cJSON_AddItemToObject(oj, "score", num_or_null(r->objectives[o]));
      cJSON_AddStringToObject(oj, "status", tr_rag_name(r->objective_status[o]));
      cJSON *ks = cJSON_AddArrayToObject(oj, "kpis");
      for (size_t k = 0; k < sc->n_kpis; k++) {
        const tr_kpi *kp = &sc->kpis[k];
        if (kp->objective != o) continue;
        cJSON *kj = cJSON_CreateObject();
        cJSON_AddItemToArray(ks, kj);
        cJSON_AddStringToObject(kj, "id", kp->id);
        cJSON_AddStringToObject(kj, "name", kp->name);
        cJSON_AddItemToObject(kj, "value", num_or_null(r->kpis[k].value));
        if (isnan(r->kpis[k].value))
          cJSON_AddNullToObject(kj, "period");
        else
          cJSON_AddStringToObject(kj, "period", l->period[k]);
        cJSON_AddItemToObject(kj, "raw", num_or_null(r->kpis[k].raw));
        cJSON_AddItemToObject(kj, "score", num_or_null(r->kpis[k].score));
        cJSON_AddStringToObject(kj, "status", tr_rag_name(r->kpis[k].status));
        cJSON_AddNumberToObject(kj, "weight", r->kpi_weight[k]);
        cJSON_AddBoolToObject(kj, "leading", kp->leading);
      }
    }
  }
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  return text;
}

int tr_cmd_scorecard(const tr_cli_cmd *cmd, int argc, char **argv) {
  tr_cli_parser p;
  tr_cli_parser_init(&p, cmd, argc, argv);
  const char *format = "text", *at = NULL;
  int k;
  while ((k = tr_cli_next(&p)) >= 0) {
    if (k == OPT_FORMAT) format = p.value;
    if (k == OPT_AT) at = p.value;
  }
  if (k == TR_CLI_HELP) return TR_EXIT_OK;
  if (k == TR_CLI_ERROR) return TR_EXIT_USAGE;
  static const char *const formats[] = {"text", "json", "dot"};
  int fmt = -1;
  for (int i = 0; i < 3; i++)
    if (strcmp(format, formats[i]) == 0) fmt = i;
  if (fmt < 0) {
    const char *best = tr_closest(format, formats, 3);
    return tr_cli_usage_error(cmd, "--format: '%s' is not text, json or dot%s%s%s", format,
                              best ? " (did you mean '" : "", best ? best : "",
                              best ? "'?)" : "");
  }
  if (p.npos > 1) return tr_cli_usage_error(cmd, "expected at most one WORKSPACE");
  const char *dir = p.npos ? p.positional[0] : ".";
  char path[4096];
  snprintf(path, sizeof path, "%s/plan.yaml", dir);
  tr_plan *plan = NULL;
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_plan_load_file(path, &plan, &err);
  if (rc) {
    fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(&err));
    return rc == TR_ERR_IO ? TR_EXIT_USAGE : tr_status_exit_code(rc);
  }
  size_t nk = plan->scorecard.n_kpis;
  latest l = {plan, tr_malloc((nk ? nk : 1) * sizeof(double)),
              tr_calloc(nk ? nk : 1, sizeof *l.period), 0};
  int x = TR_EXIT_OK;
  if (!l.value || !l.period) {
    fprintf(stderr, "tightrope %s: out of memory\n", cmd->name);
    x = TR_EXIT_FAIL;
  }
  for (size_t i = 0; !x && i < nk; i++) l.value[i] = NAN;
  if (!x && nk == 0)
    fprintf(stderr, "tightrope %s: the plan's scorecard lists no KPIs\n", cmd->name);
  if (!x && nk) x = at ? read_simulated(cmd, dir, at, &l) : read_latest(cmd, dir, &l);
  tr_scorecard_result r;
  memset(&r, 0, sizeof r);
  if (!x && tr_scorecard_evaluate(&plan->scorecard, l.value, &r, &err) != TR_OK) {
    fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(&err));
    x = TR_EXIT_FAIL;
  }
  if (!x && fmt == 0) print_text(plan, &r, &l, at);
  if (!x && fmt == 1) {
    char *text = json_text(plan, &r, &l);
    if (text) printf("%s\n", text);
    else x = TR_EXIT_FAIL;
    cJSON_free(text);
  }
  if (!x && fmt == 2) {
    tr_sb dot = TR_SB_INIT;
    if (tr_scorecard_to_dot(&plan->scorecard, &r, &dot) == TR_OK) fputs(tr_sb_str(&dot), stdout);
    else x = TR_EXIT_FAIL;
    tr_sb_free(&dot);
  }
  tr_scorecard_result_free(&r);
  tr_free(l.value);
  tr_free(l.period);
  tr_plan_free(plan);
  return x;
}
