/* `tightrope scorecard [WORKSPACE]`: the balanced scorecard of the workspace plan, scored from
 * the latest observation of each KPI in the store — or, with --at, from a simulation of the
 * workspace model with the plan's current lever settings — as text, JSON or a Graphviz
 * strategy map. */
#include "cli/cli.h"
#include "cli/commands.h"

#include "base/strbuf.h"
#include "base/text.h"
#include "store/scorecard_ws.h"
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

/* The latest value of each KPI from WORKSPACE/tightrope.db; a workspace without a store
 * simply has no observations yet. Returns an exit code. */
static int read_latest(const tr_cli_cmd *cmd, const tr_plan *plan, const char *dir,
                       tr_scorecard_ws **out) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, TR_STORE_FILE);
  struct stat st;
  tr_store *s = NULL;
  tr_error err;
  tr_error_clear(&err);
  int rc = TR_OK;
  if (stat(path, &st) != 0)
    fprintf(stderr,
            "tightrope %s: no KPI store in '%s' yet: every KPI is unscored "
            "(see 'tightrope kpi import')\n",
            cmd->name, dir);
  else
    rc = tr_store_open_workspace(&s, dir, &err);
  if (!rc) rc = tr_scorecard_ws_from_store(plan, s, out, &err);
  tr_store_close(s);
  if (rc) {
    fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(&err));
    return tr_status_exit_code(rc);
  }
  return TR_EXIT_OK;
}

/* Score KPIs bound to model variables from one run of WORKSPACE/model.xmile with the plan's
 * current lever shares, at time `at` ("end": the last saved time). Returns an exit code. */
static int read_simulated(const tr_cli_cmd *cmd, const tr_plan *plan, const char *dir,
                          const char *at, tr_scorecard_ws **out) {
  double when = INFINITY;
  if (strcmp(at, "end") != 0 && !tr_cli_parse_double(cmd, "at", at, &when)) return TR_EXIT_USAGE;
  char path[4096];
  snprintf(path, sizeof path, "%s/model.xmile", dir);
  tr_model *m = NULL;
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_model_load_file(path, &m, &err);
  if (rc) {
    fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(&err));
    return rc == TR_ERR_IO || rc == TR_ERR_NOMEM ? TR_EXIT_FAIL : TR_EXIT_USAGE;
  }
  int x = TR_EXIT_OK;
  rc = tr_scorecard_ws_from_run(plan, m, when, out, &err);
  double start = tr_model_default_opts(m).start;
  if (rc == TR_ERR_INVALID && when < start - 1e-9 && !err.file[0]) {
    x = tr_cli_usage_error(cmd, "--at %s is before the model's start time %g", at, start);
  } else if (rc) {
    fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(&err));
    /* a model that cannot run, or no memory, is a failure; the rest is bad input */
    x = rc == TR_ERR_MATH || rc == TR_ERR_NOMEM || rc == TR_ERR_IO || rc == TR_ERR_LIMIT ||
                rc == TR_ERR_INTERNAL || rc == TR_ERR_CANCELLED
            ? TR_EXIT_FAIL
            : TR_EXIT_USAGE;
  }
  tr_model_free(m);
  return x;
}

static void print_pct(double x) {
  if (isnan(x))
    printf("%6s", "-");
  else
    printf("%5.0f%%", 100 * x);
}

static void print_text(const tr_scorecard_ws *w, const char *at) {
  const tr_plan *plan = w->plan;
  const tr_scorecard_result *r = &w->result;
  const tr_scorecard *sc = &plan->scorecard;
  printf("Balanced scorecard: %s%s%s\n\n", plan->company.name, at ? ", simulated at " : "",
         at ? at : "");
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
          printf("%s\n", !at            ? "no observation"
                         : kp->variable ? "no value"
                                        : "not bound to the model");
          continue;
        }
        printf("%g%s%s (%s)", ks->value, kp->unit ? " " : "", kp->unit ? kp->unit : "",
               w->periods[k]);
        if (kp->mode == TR_SCORE_PROGRESS) printf(", progress %.1f%%", 100 * ks->raw);
        if (kp->mode == TR_SCORE_GOAL_REDFLAG) printf(", score %.2f/10", ks->raw);
        printf("%s\n", kp->leading ? ", leading" : "");
      }
    }
  }
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
                              best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
  }
  if (p.npos > 1) return tr_cli_usage_error(cmd, "expected at most one WORKSPACE");
  const char *dir = p.npos ? p.positional[0] : ".";
  tr_plan *plan = NULL;
  int rc = tr_cli_load_plan(cmd, dir, &plan);
  if (rc) return rc;
  tr_error err;
  tr_error_clear(&err);
  size_t nk = plan->scorecard.n_kpis;
  tr_scorecard_ws *w = NULL;
  int x = TR_EXIT_OK;
  if (nk == 0) {
    fprintf(stderr, "tightrope %s: the plan's scorecard lists no KPIs\n", cmd->name);
    if (tr_scorecard_ws_from_store(plan, NULL, &w, &err) != TR_OK) {
      fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(&err));
      x = TR_EXIT_FAIL;
    }
  } else {
    x = at ? read_simulated(cmd, plan, dir, at, &w) : read_latest(cmd, plan, dir, &w);
  }
  if (!x && fmt == 0) print_text(w, at);
  if (!x && fmt == 1) {
    cJSON *json = tr_scorecard_ws_to_json(w);
    char *text = json ? cJSON_Print(json) : NULL;
    if (text)
      printf("%s\n", text);
    else
      x = TR_EXIT_FAIL;
    cJSON_free(text);
    cJSON_Delete(json);
  }
  if (!x && fmt == 2) {
    tr_sb dot = TR_SB_INIT;
    if (tr_scorecard_to_dot(&plan->scorecard, &w->result, &dot) == TR_OK)
      fputs(tr_sb_str(&dot), stdout);
    else
      x = TR_EXIT_FAIL;
    tr_sb_free(&dot);
  }
  tr_scorecard_ws_free(w);
  tr_plan_free(plan);
  return x;
}
