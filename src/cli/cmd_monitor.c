/* `tightrope monitor [WORKSPACE] [--since DATE]`: statistical early warning over the KPI
 * history of the store, per KPI of the plan's scorecard and per tension (imbalance). Exits 1
 * when any alert is active, so it can run from cron. The analysis is src/store/monitor.h (the
 * server's GET /api/alerts shares it); this file parses options and prints. The rules and
 * their defaults are those of src/strategy/spc.h, documented in docs/balance.md. */
#include "cli/cli.h"
#include "cli/commands.h"

#include "store/monitor.h"
#include "tightrope/store.h"
#include "tightrope/strategy.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum { OPT_SINCE, OPT_RULES, OPT_BASELINE, OPT_ALL };

const tr_cli_opt tr_cmd_monitor_opts[] = {
    {"since", 0, "DATE", "only observations from DATE on (YYYY-MM or YYYY-MM-DD)"},
    {"rules", 'r', "SET", "western-electric (default), nelson or anhoj"},
    {"baseline", 'b', "N", "natural process limits from the first N observations (default 12)"},
    {"all", 'a', NULL, "list every signal in the history, not only those at the latest period"},
    {NULL, 0, NULL, NULL}};

/* The signals of one KPI or tension: active ones tagged by verdict, past ones as "past". */
static void print_signals(const tr_monitor_signal *v, size_t n, size_t earlier, int all) {
  static const char *const tags[] = {"ALERT", "good", "note"};
  for (size_t i = 0; i < n; i++)
    printf("  %-5s %-10s %-9s %s\n", v[i].active ? tags[v[i].verdict] : "past", v[i].period,
           v[i].rule, v[i].text);
  if (earlier && !all)
    printf("  (%zu earlier signal%s; --all lists them)\n", earlier, earlier == 1 ? "" : "s");
}

static void print_kpi(const tr_monitor *m, const tr_monitor_kpi *mk) {
  const tr_kpi *kp = mk->kpi;
  switch (mk->state) {
  case TR_MONITOR_NO_DATA:
    printf("%s: no observations\n", kp->id);
    return;
  case TR_MONITOR_TOO_FEW:
    printf("%s: %zu observation%s, too few for limits (at least %d)\n", kp->id, mk->n,
           mk->n == 1 ? "" : "s", TR_MONITOR_MIN_POINTS);
    return;
  default:
    break;
  }
  printf("%s (%s): %zu observations %s..%s; limits %.4g..%.4g from the first %zu\n", kp->id,
         kp->name, mk->n, mk->periods[0], mk->periods[mk->n - 1], mk->limits.lnpl, mk->limits.unpl,
         mk->baseline);
  if (mk->state == TR_MONITOR_NO_SPREAD) {
    printf("  note  the baseline does not vary: no limits can be set\n");
    return;
  }
  print_signals(mk->signals, mk->n_signals, mk->n_earlier, m->opts.all);
}

static void print_tension(const tr_monitor *m, const tr_monitor_tension *mt) {
  const tr_tension *t = mt->tension;
  switch (mt->state) {
  case TR_MONITOR_NO_DATA:
    printf("tension %s: a pole without KPI measures cannot be monitored\n", t->id);
    return;
  case TR_MONITOR_TOO_FEW:
    printf("tension %s: %zu periods, too few for trends (at least %d)\n", t->id, mt->n_periods,
           TR_IMBALANCE_WINDOW);
    return;
  default:
    break;
  }
  printf("tension %s (%s vs %s): latest pole scores %.2f / %.2f\n", t->id, t->poles[0].name,
         t->poles[1].name, mt->score_a, mt->score_b);
  print_signals(mt->signals, mt->n_signals, mt->n_earlier, m->opts.all);
}

static int run(const tr_cli_cmd *cmd, const tr_plan *plan, const char *dir,
               const tr_monitor_opts *opts) {
  if (plan->scorecard.n_kpis == 0) {
    printf("the plan's scorecard lists no KPIs: nothing to monitor\n");
    return TR_EXIT_OK;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, TR_STORE_FILE);
  struct stat st;
  if (stat(path, &st) != 0) {
    printf("no KPI store in '%s' yet (see 'tightrope kpi import'): nothing to monitor\n", dir);
    return TR_EXIT_OK;
  }
  tr_error err;
  tr_error_clear(&err);
  tr_store *s = NULL;
  tr_monitor *m = NULL;
  int rc = tr_store_open_workspace(&s, dir, &err);
  if (!rc) rc = tr_monitor_run(plan, s, opts, &m, &err);
  tr_store_close(s);
  if (rc) {
    fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(&err));
    return rc == TR_ERR_INVALID ? TR_EXIT_USAGE : TR_EXIT_FAIL;
  }
  for (size_t k = 0; k < m->n_kpis; k++)
    print_kpi(m, &m->kpis[k]);
  for (size_t t = 0; t < m->n_tensions; t++)
    print_tension(m, &m->tensions[t]);
  long alerts = m->alerts;
  tr_monitor_free(m);
  if (alerts)
    printf("\n%ld alert%s active\n", alerts, alerts == 1 ? "" : "s");
  else
    printf("\nno active alerts\n");
  return alerts ? TR_EXIT_FAIL : TR_EXIT_OK;
}

int tr_cmd_monitor(const tr_cli_cmd *cmd, int argc, char **argv) {
  tr_cli_parser p;
  tr_cli_parser_init(&p, cmd, argc, argv);
  tr_monitor_opts opts;
  tr_monitor_opts_init(&opts);
  const char *rules = "western-electric";
  int k;
  while ((k = tr_cli_next(&p)) >= 0) {
    switch (k) {
    case OPT_SINCE:
      opts.since = p.value;
      break;
    case OPT_RULES:
      rules = p.value;
      break;
    case OPT_BASELINE: {
      long n;
      if (!tr_cli_parse_long(cmd, "baseline", p.value, &n)) return TR_EXIT_USAGE;
      if (n < 2) return tr_cli_usage_error(cmd, "--baseline: at least 2 observations, got %ld", n);
      opts.baseline = (size_t)n;
      break;
    }
    case OPT_ALL:
      opts.all = 1;
      break;
    }
  }
  if (k == TR_CLI_HELP) return TR_EXIT_OK;
  if (k == TR_CLI_ERROR) return TR_EXIT_USAGE;
  const char *best = NULL;
  if (!tr_monitor_parse_rules(rules, &opts.rules, &best))
    return tr_cli_usage_error(cmd, "--rules: '%s' is not western-electric, nelson or anhoj%s%s%s",
                              rules, best ? " (did you mean '" : "", best ? best : "",
                              best ? "'?)" : "");
  if (p.npos > 1) return tr_cli_usage_error(cmd, "expected at most one WORKSPACE");
  const char *dir = p.npos ? p.positional[0] : ".";
  tr_plan *plan = NULL;
  int rc = tr_cli_load_plan(cmd, dir, &plan);
  if (rc) return rc;
  int x = run(cmd, plan, dir, &opts);
  tr_plan_free(plan);
  return x;
}
