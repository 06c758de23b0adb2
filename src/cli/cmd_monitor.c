/* `tightrope monitor [WORKSPACE] [--since DATE]`: statistical early warning over the KPI
 * history of the store, per KPI of the plan's scorecard and per tension (imbalance). Exits 1
 * when any alert is active, so it can run from cron. The rules and their defaults are those
 * of src/strategy/spc.h, documented in docs/balance.md. */
#include "cli/cli.h"
#include "cli/commands.h"

#include "base/text.h"
#include "strategy/balance.h"
#include "strategy/spc.h"
#include "tightrope/store.h"
#include "tightrope/strategy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { OPT_SINCE, OPT_RULES, OPT_BASELINE, OPT_ALL };

const tr_cli_opt tr_cmd_monitor_opts[] = {
    {"since", 0, "DATE", "only observations from DATE on (YYYY-MM or YYYY-MM-DD)"},
    {"rules", 'r', "SET", "western-electric (default), nelson or anhoj"},
    {"baseline", 'b', "N", "natural process limits from the first N observations (default 12)"},
    {"all", 'a', NULL, "list every signal in the history, not only those at the latest period"},
    {NULL, 0, NULL, NULL}};

/* Wheeler: useful limits "with as few as five or six values". */
#define MIN_POINTS 6

typedef struct series {
  double *x;
  char (*period)[16];
  size_t n, cap;
} series;

typedef struct monitor {
  const tr_cli_cmd *cmd;
  const tr_plan *plan;
  series *s;           /* per plan KPI */
  tr_spc_ruleset rules;
  size_t baseline;
  int all;
  int nomem;
  long alerts;
} monitor;

static int take_obs(void *ud, const tr_kpi_obs *o) {
  monitor *m = ud;
  long i = tr_plan_find_kpi(m->plan, o->kpi);
  if (i < 0) return 0;
  series *s = &m->s[i];
  if (s->n == s->cap) {
    size_t ncap = s->cap ? 2 * s->cap : 64;
    double *x = tr_realloc(s->x, ncap * sizeof *x);
    if (x) s->x = x;
    char(*p)[16] = tr_realloc(s->period, ncap * sizeof *p);
    if (p) s->period = p;
    if (!x || !p) {
      m->nomem = 1;
      return 1;
    }
    s->cap = ncap;
  }
  s->x[s->n] = o->value;
  snprintf(s->period[s->n], sizeof s->period[s->n], "%s", o->period);
  s->n++;
  return 0;
}

/* Is a signal on `side` bad news for a KPI of this direction? 0 for side-less signals. */
static int unfavourable(tr_direction dir, int side) {
  if (side == 0) return 0;
  if (dir == TR_DIR_BAND) return 1;
  return dir == TR_DIR_HIGHER ? side < 0 : side > 0;
}

static void report(monitor *m, const tr_spc_signals *sig, size_t n, const char (*period)[16],
                   tr_direction dir, int sided) {
  size_t earlier = 0;
  for (size_t i = 0; i < sig->n; i++) {
    const tr_spc_signal *g = &sig->items[i];
    int active = g->index + 1 == n;
    if (!active) earlier++;
    if (!active && !m->all) continue;
    const char *tag = "note";
    if (sided && g->side) tag = unfavourable(dir, g->side) ? "ALERT" : "good";
    if (!sided) tag = "ALERT";
    if (active && strcmp(tag, "ALERT") == 0) m->alerts++;
    printf("  %-5s %-10s %-9s %s\n", active ? tag : "past", period[g->index], g->rule, g->text);
  }
  if (earlier && !m->all)
    printf("  (%zu earlier signal%s; --all lists them)\n", earlier, earlier == 1 ? "" : "s");
}

static int analyse_kpi(monitor *m, size_t k, tr_error *err) {
  const tr_kpi *kp = &m->plan->scorecard.kpis[k];
  series *s = &m->s[k];
  if (s->n == 0) {
    printf("%s: no observations\n", kp->id);
    return TR_OK;
  }
  if (s->n < MIN_POINTS) {
    printf("%s: %zu observation%s, too few for limits (at least %d)\n", kp->id, s->n,
           s->n == 1 ? "" : "s", MIN_POINTS);
    return TR_OK;
  }
  size_t b = m->baseline < s->n ? m->baseline : s->n;
  tr_xmr lim;
  int rc = tr_spc_xmr(s->x, b, &lim, err);
  if (rc) return rc;
  printf("%s (%s): %zu observations %s..%s; limits %.4g..%.4g from the first %zu\n", kp->id,
         kp->name, s->n, s->period[0], s->period[s->n - 1], lim.lnpl, lim.unpl, b);
  if (!(lim.sigma > 0)) {
    printf("  note  the baseline does not vary: no limits can be set\n");
    return TR_OK;
  }
  tr_spc_signals sig;
  tr_spc_signals_init(&sig);
  rc = tr_spc_rules(s->x, s->n, &lim, m->rules, &sig, err);
  if (!rc)
    rc = tr_spc_ewma(s->x, s->n, lim.mean, lim.sigma, TR_EWMA_LAMBDA, TR_EWMA_L, &sig, NULL, err);
  if (!rc)
    rc = tr_spc_cusum(s->x, s->n, lim.mean, lim.sigma, TR_CUSUM_K, TR_CUSUM_H, &sig, NULL, NULL,
                      err);
  if (!rc) report(m, &sig, s->n, (const char(*)[16])s->period, kp->direction, 1);
  tr_spc_signals_free(&sig);
  return rc;
}

static int cmp_period(const void *a, const void *b) { return strcmp(a, b); }

/* The value of KPI series s at `period`, NAN when not observed (s is sorted by period). */
static double value_at(const series *s, const char *period) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(s->period[mid], period);
    if (c == 0) return s->x[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NAN;
}

static int analyse_tension(monitor *m, const tr_tension *t, tr_error *err) {
  size_t total = 0;
  int kpis_on[2] = {0, 0};
  for (int p = 0; p < 2; p++)
    for (size_t i = 0; i < t->poles[p].n_measures; i++) {
      const tr_measure *me = &t->poles[p].measures[i];
      if (!me->kpi) continue;
      kpis_on[p] = 1;
      total += m->s[tr_plan_find_kpi(m->plan, me->kpi)].n;
    }
  if (!kpis_on[0] || !kpis_on[1]) {
    printf("tension %s: a pole without KPI measures cannot be monitored\n", t->id);
    return TR_OK;
  }
  char(*periods)[16] = tr_malloc((total ? total : 1) * sizeof *periods);
  double *a = tr_malloc((total ? total : 1) * sizeof *a);
  double *b = tr_malloc((total ? total : 1) * sizeof *b);
  size_t most = 1;
  for (int p = 0; p < 2; p++)
    if (t->poles[p].n_measures > most) most = t->poles[p].n_measures;
  double *vals = tr_malloc(most * sizeof *vals);
  tr_spc_signals sig;
  tr_spc_signals_init(&sig);
  int rc = TR_OK;
  if (!periods || !a || !b || !vals) {
    rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    goto done;
  }
  /* the periods at which any KPI of the tension was observed, in order, once each */
  size_t np = 0;
  for (int p = 0; p < 2; p++)
    for (size_t i = 0; i < t->poles[p].n_measures; i++) {
      const tr_measure *me = &t->poles[p].measures[i];
      if (!me->kpi) continue;
      const series *s = &m->s[tr_plan_find_kpi(m->plan, me->kpi)];
      for (size_t j = 0; j < s->n; j++) memcpy(periods[np++], s->period[j], 16);
    }
  qsort(periods, np, sizeof *periods, cmp_period);
  size_t u = 0;
  for (size_t i = 0; i < np; i++)
    if (u == 0 || strcmp(periods[u - 1], periods[i]) != 0) memcpy(periods[u++], periods[i], 16);
  np = u;
  for (size_t j = 0; j < np; j++)
    for (int p = 0; p < 2; p++) {
      const tr_pole *pole = &t->poles[p];
      for (size_t i = 0; i < pole->n_measures; i++) {
        const tr_measure *me = &pole->measures[i];
        vals[i] = me->kpi ? value_at(&m->s[tr_plan_find_kpi(m->plan, me->kpi)], periods[j]) : NAN;
      }
      (p ? b : a)[j] = tr_pole_score(pole, vals);
    }
  if (np < TR_IMBALANCE_WINDOW) {
    printf("tension %s: %zu periods, too few for trends (at least %d)\n", t->id, np,
           TR_IMBALANCE_WINDOW);
    goto done;
  }
  printf("tension %s (%s vs %s): latest pole scores %.2f / %.2f\n", t->id, t->poles[0].name,
         t->poles[1].name, a[np - 1], b[np - 1]);
  rc = tr_spc_imbalance(a, b, np, TR_IMBALANCE_WINDOW, TR_IMBALANCE_MIN_CHANGE, &sig, err);
  if (!rc) report(m, &sig, np, (const char(*)[16])periods, TR_DIR_HIGHER, 0);
done:
  tr_spc_signals_free(&sig);
  tr_free(periods);
  tr_free(a);
  tr_free(b);
  tr_free(vals);
  return rc;
}

static int run(monitor *m, const char *dir, const char *since) {
  const tr_plan *plan = m->plan;
  size_t nk = plan->scorecard.n_kpis;
  if (nk == 0) {
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
  int rc = tr_store_open_workspace(&s, dir, &err);
  if (!rc) rc = tr_store_observations(s, NULL, since, take_obs, m, &err);
  tr_store_close(s);
  if (m->nomem) rc = tr_error_set(&err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  for (size_t k = 0; !rc && k < nk; k++) rc = analyse_kpi(m, k, &err);
  for (size_t t = 0; !rc && t < plan->n_tensions; t++)
    rc = analyse_tension(m, &plan->tensions[t], &err);
  if (rc) {
    fprintf(stderr, "tightrope %s: %s\n", m->cmd->name, tr_error_text(&err));
    return rc == TR_ERR_INVALID ? TR_EXIT_USAGE : TR_EXIT_FAIL;
  }
  if (m->alerts)
    printf("\n%ld alert%s active\n", m->alerts, m->alerts == 1 ? "" : "s");
  else
    printf("\nno active alerts\n");
  return m->alerts ? TR_EXIT_FAIL : TR_EXIT_OK;
}

int tr_cmd_monitor(const tr_cli_cmd *cmd, int argc, char **argv) {
  tr_cli_parser p;
  tr_cli_parser_init(&p, cmd, argc, argv);
  monitor m;
  memset(&m, 0, sizeof m);
  m.cmd = cmd;
  m.baseline = 12;
  const char *since = NULL, *rules = "western-electric";
  int k;
  while ((k = tr_cli_next(&p)) >= 0) {
    switch (k) {
    case OPT_SINCE: since = p.value; break;
    case OPT_RULES: rules = p.value; break;
    case OPT_BASELINE: {
      long n;
      if (!tr_cli_parse_long(cmd, "baseline", p.value, &n)) return TR_EXIT_USAGE;
      if (n < 2) return tr_cli_usage_error(cmd, "--baseline: at least 2 observations, got %ld", n);
      m.baseline = (size_t)n;
      break;
    }
    case OPT_ALL: m.all = 1; break;
    }
  }
  if (k == TR_CLI_HELP) return TR_EXIT_OK;
  if (k == TR_CLI_ERROR) return TR_EXIT_USAGE;
  static const char *const sets[] = {"western-electric", "nelson", "anhoj"};
  int set = -1;
  for (int i = 0; i < 3; i++)
    if (strcmp(rules, sets[i]) == 0) set = i;
  if (set < 0) {
    const char *best = tr_closest(rules, sets, 3);
    return tr_cli_usage_error(cmd, "--rules: '%s' is not western-electric, nelson or anhoj%s%s%s",
                              rules, best ? " (did you mean '" : "", best ? best : "",
                              best ? "'?)" : "");
  }
  m.rules = (tr_spc_ruleset)set;
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
  m.plan = plan;
  size_t nk = plan->scorecard.n_kpis;
  m.s = tr_calloc(nk ? nk : 1, sizeof *m.s);
  int x;
  if (!m.s) {
    fprintf(stderr, "tightrope %s: out of memory\n", cmd->name);
    x = TR_EXIT_FAIL;
  } else {
    x = run(&m, dir, since);
  }
  for (size_t i = 0; m.s && i < nk; i++) {
    tr_free(m.s[i].x);
    tr_free(m.s[i].period);
  }
  tr_free(m.s);
  tr_plan_free(plan);
  return x;
}
