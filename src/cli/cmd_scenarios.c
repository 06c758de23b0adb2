/*
 * tightrope scenarios [WORKSPACE|MODEL] — Monte Carlo over a model: uncertain inputs from the
 * workspace plan (`uncertainty:`) and/or --vary, a named scenario from the plan (--scenario:
 * its overrides), statistics per saved time, events, convergence rule, sensitivity.
 *
 * Output: JSON (--format json, the default: everything, including the percentile bands a fan
 * chart needs) or CSV (one row per variable and saved time). Progress goes to stderr when it
 * is a terminal. Ctrl-C stops cleanly: the runs finished so far are written, marked
 * "partial": true, and the exit code is 1.
 *
 * Exit codes: 0 success, 1 interrupted or output error, 2 bad input (model, plan, options,
 * unknown variable or scenario, impossible distribution parameters, bad correlation).
 */
#include "cli/cli.h"
#include "cli/commands.h"

#include "strategy/plan_mc.h"

#include "base/progress.h"
#include "base/text.h"
#include "tightrope/engine.h"
#include "tightrope/scenario.h"
#include "tightrope/strategy.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
  O_RUNS,
  O_SCENARIO,
  O_SEED,
  O_THREADS,
  O_BATCH,
  O_SAMPLING,
  O_VARY,
  O_CORR,
  O_VARS,
  O_EVENT,
  O_UNTIL,
  O_TORNADO,
  O_ALPHA,
  O_MEMORY,
  O_SAVE,
  O_FORMAT,
  O_OUTPUT,
  O_QUIET
};

const tr_cli_opt tr_cmd_scenarios_opts[] = {
    {"runs", 'n', "N", "number of runs (the cap with --until; default 1000)"},
    {"scenario", 0, "NAME", "apply a named scenario of the workspace plan"},
    {"seed", 0, "S", "random seed (default 1); run i uses stream (S, i)"},
    {"threads", 0, "T", "worker threads (default: all cores)"},
    {"batch", 0, "B", "runs per pass of the batched VM (default 64)"},
    {"sampling", 0, "mc|lhs", "plain Monte Carlo (default) or Latin hypercube"},
    {"vary", 0, "NAME=DIST(..)", "an uncertain constant, e.g. price=normal(10,2) (repeatable)"},
    {"corr", 0, "A,B=RHO", "rank correlation of two varied inputs (repeatable)"},
    {"vars", 0, "A,B,...", "summarise only these variables"},
    {"event", 0, "EXPR", "probability of an event such as 'cash < 0' (repeatable)"},
    {"until", 0, "RULE", "stop early, e.g. 'mean(revenue) +-1% @95%'"},
    {"tornado", 0, NULL, "add a tornado (inputs one at a time at p10/p90)"},
    {"alpha", 0, "A", "VaR/CVaR level of final values (default 0.05)"},
    {"memory", 0, "MB", "memory for exact percentiles before streaming (default 256)"},
    {"save-step", 0, "X", "summarise every X time units (default dt; <= 250 points)"},
    {"format", 0, "json|csv", "output format (default json)"},
    {"output", 'o', "FILE", "write to FILE instead of standard output"},
    {"quiet", 'q', NULL, "no progress bar"},
    {NULL, 0, NULL, NULL}};

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int sig) {
  (void)sig;
  interrupted = 1;
}

typedef struct sc_args {
  const char *target;
  const char *scenario;
  const char *vars;
  const char *format;
  const char *output;
  const char *until;
  const char *vary[64];
  int n_vary;
  const char *corr[64];
  int n_corr;
  const char *event[16];
  int n_event;
  int tornado, quiet;
  tr_mc_opts o;
} sc_args;

static int parse_args(const tr_cli_cmd *cmd, int argc, char **argv, sc_args *a) {
  tr_cli_parser p;
  tr_cli_parser_init(&p, cmd, argc, argv);
  memset(a, 0, sizeof *a);
  a->o = tr_mc_default_opts();
  long nproc = sysconf(_SC_NPROCESSORS_ONLN);
  a->o.threads = nproc > 0 ? (int)(nproc < 1024 ? nproc : 1024) : 1;
  a->format = "json";
  int rc;
  long v;
  double d;
  while ((rc = tr_cli_next(&p)) >= 0) {
    switch (rc) {
    case O_RUNS:
      if (!tr_cli_parse_long(cmd, "runs", p.value, &v)) return TR_EXIT_USAGE;
      if (v <= 0) return tr_cli_usage_error(cmd, "--runs must be at least 1 (got %ld)", v);
      a->o.runs = (size_t)v;
      break;
    case O_SCENARIO:
      a->scenario = p.value;
      break;
    case O_SEED: {
      char *end;
      errno = 0;
      unsigned long long s = strtoull(p.value, &end, 10);
      if (end == p.value || *end || errno || p.value[0] == '-')
        return tr_cli_usage_error(cmd, "--seed: '%s' is not a non-negative whole number", p.value);
      a->o.seed = (uint64_t)s;
      break;
    }
    case O_THREADS:
      if (!tr_cli_parse_long(cmd, "threads", p.value, &v)) return TR_EXIT_USAGE;
      if (v < 1 || v > 1024)
        return tr_cli_usage_error(cmd, "--threads must be between 1 and 1024 (got %ld)", v);
      a->o.threads = (int)v;
      break;
    case O_BATCH:
      if (!tr_cli_parse_long(cmd, "batch", p.value, &v)) return TR_EXIT_USAGE;
      if (v < 1 || v > 65536)
        return tr_cli_usage_error(cmd, "--batch must be between 1 and 65536 (got %ld)", v);
      a->o.batch = (size_t)v;
      break;
    case O_SAMPLING:
      if (strcmp(p.value, "mc") == 0)
        a->o.lhs = 0;
      else if (strcmp(p.value, "lhs") == 0)
        a->o.lhs = 1;
      else
        return tr_cli_usage_error(cmd, "--sampling must be mc or lhs (got '%s')", p.value);
      break;
    case O_VARY:
      if (a->n_vary == 64) return tr_cli_usage_error(cmd, "at most 64 --vary options");
      a->vary[a->n_vary++] = p.value;
      break;
    case O_CORR:
      if (a->n_corr == 64) return tr_cli_usage_error(cmd, "at most 64 --corr options");
      a->corr[a->n_corr++] = p.value;
      break;
    case O_VARS:
      a->vars = p.value;
      break;
    case O_EVENT:
      if (a->n_event == 16) return tr_cli_usage_error(cmd, "at most 16 --event options");
      a->event[a->n_event++] = p.value;
      break;
    case O_UNTIL:
      a->until = p.value;
      break;
    case O_TORNADO:
      a->tornado = 1;
      break;
    case O_ALPHA:
      if (!tr_cli_parse_double(cmd, "alpha", p.value, &d)) return TR_EXIT_USAGE;
      if (!(d > 0 && d < 1))
        return tr_cli_usage_error(cmd, "--alpha must be between 0 and 1 (got %g)", d);
      a->o.tail_alpha = d;
      break;
    case O_MEMORY:
      if (!tr_cli_parse_long(cmd, "memory", p.value, &v)) return TR_EXIT_USAGE;
      if (v < 1 || v > 1048576)
        return tr_cli_usage_error(cmd, "--memory must be between 1 and 1048576 MB (got %ld)", v);
      a->o.exact_bytes = (size_t)v << 20;
      break;
    case O_SAVE:
      if (!tr_cli_parse_double(cmd, "save-step", p.value, &d)) return TR_EXIT_USAGE;
      if (!(d > 0)) return tr_cli_usage_error(cmd, "--save-step must be > 0 (got %g)", d);
      a->o.save_step = d;
      break;
    case O_FORMAT:
      if (strcmp(p.value, "json") != 0 && strcmp(p.value, "csv") != 0)
        return tr_cli_usage_error(cmd, "--format must be json or csv (got '%s')", p.value);
      a->format = p.value;
      break;
    case O_OUTPUT:
      a->output = p.value;
      break;
    case O_QUIET:
      a->quiet = 1;
      break;
    default:
      break;
    }
  }
  if (rc == TR_CLI_HELP) return -1;
  if (rc == TR_CLI_ERROR) return TR_EXIT_USAGE;
  if (p.npos > 1) return tr_cli_usage_error(cmd, "expected at most one WORKSPACE or MODEL");
  a->target = p.npos ? p.positional[0] : ".";
  return TR_EXIT_OK;
}

static int report(const tr_cli_cmd *cmd, int rc, tr_error *err) {
  fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(err));
  return tr_status_exit_code(rc);
}

/* The model and (optional) plan paths for a workspace folder or a model file. */
static int locate(const tr_cli_cmd *cmd, const char *target, char *model, char *plan, size_t n) {
  struct stat st;
  if (stat(target, &st) != 0) return tr_cli_usage_error(cmd, "'%s': %s", target, strerror(errno));
  plan[0] = '\0';
  if (S_ISDIR(st.st_mode)) {
    snprintf(model, n, "%s/model.xmile", target);
    snprintf(plan, n, "%s/plan.yaml", target);
    if (stat(model, &st) != 0)
      return tr_cli_usage_error(cmd, "workspace '%s' has no model.xmile", target);
    if (stat(plan, &st) != 0) plan[0] = '\0';
  } else {
    snprintf(model, n, "%s", target);
  }
  return TR_EXIT_OK;
}

/* Inputs, correlation and the chosen scenario's overrides from the plan. */
/* The named scenario of the plan, or a usage error with the closest name. */
static int find_scenario(const tr_cli_cmd *cmd, const tr_plan *plan, const char *name,
                         const tr_scenario **out) {
  const char *names[256];
  size_t nn = 0;
  *out = NULL;
  for (size_t i = 0; i < plan->n_scenarios; i++) {
    if (strcmp(plan->scenarios[i].name, name) == 0) *out = &plan->scenarios[i];
    if (nn < 256) names[nn++] = plan->scenarios[i].name;
  }
  if (*out) return TR_EXIT_OK;
  const char *best = tr_closest(name, names, nn);
  if (best)
    return tr_cli_usage_error(cmd, "%s: unknown scenario '%s' (did you mean '%s'?)", plan->file,
                              name, best);
  return tr_cli_usage_error(cmd, "%s: unknown scenario '%s'%s", plan->file, name,
                            nn ? "" : " (the plan declares no scenarios)");
}

/* The plan's uncertainty and the scenario's overrides, declared on mc, then the constants
 * bound to the plan's levers set at their current shares (strategy/plan_mc.h, shared with
 * the server, which does the same: the study of a workspace is of its plan as it stands, as
 * in `assess` and on the dashboard). */
static int apply_plan(const tr_cli_cmd *cmd, tr_mc *mc, const tr_plan *plan,
                      const tr_scenario *scen, const tr_model *m) {
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_plan_mc_apply(mc, plan, scen, &err);
  if (rc == TR_OK) rc = tr_plan_mc_levers(mc, plan, m, NULL, &err);
  return rc != TR_OK ? report(cmd, rc, &err) : TR_EXIT_OK;
}

/* --vars A,B,...: each name watched, in order. */
static int watch_list(const tr_cli_cmd *cmd, tr_mc *mc, const char *list) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *s = buf, *next; s; s = next) {
    next = strchr(s, ',');
    if (next) *next++ = '\0';
    while (*s == ' ')
      s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
      s[--n] = '\0';
    if (!*s) continue;
    int rc = tr_mc_watch(mc, s);
    if (rc != TR_OK) return report(cmd, rc, tr_mc_error(mc));
  }
  return TR_EXIT_OK;
}

static int study(const tr_cli_cmd *cmd, sc_args *a, tr_model *m, const tr_plan *plan,
                 const tr_scenario *scen) {
  tr_mc *mc;
  tr_error err;
  int rc = tr_mc_new(m, &mc, &err);
  if (rc != TR_OK) return report(cmd, rc, &err);
  int x = TR_EXIT_OK;
  if (plan) x = apply_plan(cmd, mc, plan, scen, m);
  for (int i = 0; x == TR_EXIT_OK && i < a->n_vary; i++)
    if ((rc = tr_mc_vary_spec(mc, a->vary[i])) != TR_OK) x = report(cmd, rc, tr_mc_error(mc));
  for (int i = 0; x == TR_EXIT_OK && i < a->n_corr; i++)
    if ((rc = tr_mc_correlate_spec(mc, a->corr[i])) != TR_OK) x = report(cmd, rc, tr_mc_error(mc));
  if (x == TR_EXIT_OK && a->vars) x = watch_list(cmd, mc, a->vars);
  for (int i = 0; x == TR_EXIT_OK && i < a->n_event; i++)
    if ((rc = tr_mc_event(mc, a->event[i])) != TR_OK) x = report(cmd, rc, tr_mc_error(mc));
  if (x == TR_EXIT_OK && a->until && (rc = tr_mc_until(mc, a->until)) != TR_OK)
    x = report(cmd, rc, tr_mc_error(mc));
  tr_mc_tornado(mc, a->tornado);
  FILE *out = stdout;
  if (x == TR_EXIT_OK && a->output && !(out = fopen(a->output, "w"))) {
    fprintf(stderr, "tightrope %s: %s: %s\n", cmd->name, a->output, strerror(errno));
    x = TR_EXIT_FAIL;
    out = stdout;
  }
  if (x != TR_EXIT_OK) {
    tr_mc_free(mc);
    return x;
  }
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  tr_progress *prog =
      a->quiet ? NULL : tr_progress_new(stderr, "scenarios", (uint64_t)a->o.runs, 0);
  rc = tr_mc_run(mc, &a->o, &interrupted, prog);
  tr_progress_finish(prog);
  tr_progress_free(prog);
  sigaction(SIGINT, &old, NULL);
  const char *w = tr_mc_warning(mc);
  if (*w) fprintf(stderr, "tightrope %s: warning: %s\n", cmd->name, w);
  if (rc != TR_OK && rc != TR_ERR_CANCELLED) {
    x = report(cmd, rc, tr_mc_error(mc));
  } else {
    if (rc == TR_ERR_CANCELLED)
      fprintf(stderr, "tightrope %s: interrupted: writing the %zu runs done (partial)\n", cmd->name,
              tr_mc_runs_done(mc));
    int wrc = strcmp(a->format, "csv") == 0 ? tr_mc_write_csv(mc, out)
                                            : tr_mc_write_json(mc, out, a->scenario);
    if (fflush(out) != 0 && wrc == TR_OK) wrc = TR_ERR_IO;
    if (wrc != TR_OK) {
      report(cmd, wrc, tr_mc_error(mc));
      x = TR_EXIT_FAIL;
    } else if (rc == TR_ERR_CANCELLED)
      x = TR_EXIT_FAIL;
  }
  if (out != stdout && fclose(out) != 0 && x == TR_EXIT_OK) x = TR_EXIT_FAIL;
  tr_mc_free(mc);
  return x;
}

int tr_cmd_scenarios(const tr_cli_cmd *cmd, int argc, char **argv) {
  sc_args a;
  int x = parse_args(cmd, argc, argv, &a);
  if (x < 0) return TR_EXIT_OK; /* --help */
  if (x) return x;
  char model_path[4096], plan_path[4096];
  if ((x = locate(cmd, a.target, model_path, plan_path, sizeof model_path))) return x;
  if (a.scenario && !plan_path[0])
    return tr_cli_usage_error(cmd,
                              "--scenario '%s': named scenarios come from a workspace plan "
                              "(plan.yaml), and '%s' has none",
                              a.scenario, a.target);
  tr_error err;
  tr_error_clear(&err);
  tr_plan *plan = NULL;
  int rc;
  if (plan_path[0] && (rc = tr_plan_load_file(plan_path, &plan, &err)) != TR_OK)
    return report(cmd, rc, &err);
  const tr_scenario *scen = NULL;
  if (a.scenario && (x = find_scenario(cmd, plan, a.scenario, &scen)) != TR_EXIT_OK) {
    tr_plan_free(plan);
    return x;
  }
  tr_model *m = NULL;
  rc = tr_plan_mc_load_model(model_path, plan, scen, &m, &err);
  if (rc != TR_OK) {
    tr_plan_free(plan);
    return report(cmd, rc, &err);
  }
  x = study(cmd, &a, m, plan, scen);
  tr_plan_free(plan);
  tr_model_free(m);
  return x;
}
