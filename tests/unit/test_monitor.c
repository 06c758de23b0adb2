/* Unit tests: KPI monitoring (store/monitor.h) and the workspace scorecard
 * (store/scorecard_ws.h) over a temporary store filled with tr_store_import_csv — 18 months
 * of history, stable for a year, then acquisition climbs while retention slides (the data
 * of tests/suites/plan_cli.sh). Limits, scores and verdicts are checked against values
 * computed by hand; bad options, a missing store and allocation failure too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/monitor.h"
#include "store/scorecard_ws.h"
#include "tightrope/base.h"
#include "tightrope/engine.h"
#include "tightrope/store.h"
#include "tightrope/strategy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- fixture: plan + store -------------------------------------------------------------- */

static const char plan_text[] =
    "company: {name: Test Co, sector: saas}\n"
    "tensions:\n"
    "  - id: acq_ret\n"
    "    name: Acquisition vs retention\n"
    "    poles:\n"
    "      - name: Acquisition\n"
    "        measures: [{kpi: new_customers, target: 40}]\n"
    "      - name: Retention\n"
    "        measures: [{kpi: nrr, target: 1.05}]\n"
    "    lever: {resource: marketing budget, bind: [{constant: acq_share}], current: 0.6}\n"
    "scorecard:\n"
    "  objectives:\n"
    "    - {id: grow, name: Grow, perspective: financial}\n"
    "    - {id: keep, name: Keep customers, perspective: customer}\n"
    "  kpis:\n"
    "    - {id: new_customers, name: New customers, objective: grow, min: 0, max: 80,\n"
    "       variable: customers}\n"
    "    - {id: nrr, name: Net revenue retention, objective: keep, min: 0.8, max: 1.2}\n"
    "    - {id: churn, name: Monthly churn, objective: keep, direction: lower_better,\n"
    "       scoring: goal_redflag, goal: 0.02, red_flag: 0.04, type: leading}\n";

static const double nc[18] = {20, 22, 19, 21, 20, 22, 21, 19, 20,
                              22, 21, 20, 26, 30, 34, 38, 42, 46};
static const double nrr[18] = {1.02, 1.03, 1.01, 1.02, 1.03, 1.02, 1.01, 1.02, 1.03,
                               1.02, 1.01, 1.02, 1.00, 0.98, 0.96, 0.94, 0.92, 0.90};
static const double ch[18] = {0.020, 0.022, 0.019, 0.021, 0.020, 0.022, 0.021, 0.019, 0.020,
                              0.022, 0.021, 0.020, 0.022, 0.024, 0.027, 0.030, 0.033, 0.036};

static const char model_text[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<xmile version=\"1.0\" xmlns=\"http://docs.oasis-open.org/xmile/ns/XMILE/v1.0\">\n"
    "  <header><name>t</name></header>\n"
    "  <sim_specs><start>0</start><stop>12</stop><dt>1</dt></sim_specs>\n"
    "  <model><variables>\n"
    "    <stock name=\"customers\"><eqn>10</eqn><inflow>acquisition</inflow></stock>\n"
    "    <flow name=\"acquisition\"><eqn>acq_share * 10</eqn></flow>\n"
    "    <aux name=\"acq_share\"><eqn>0.5</eqn></aux>\n"
    "  </variables></model>\n"
    "</xmile>\n";

typedef struct fx {
  char dir[64];
  tr_plan *plan;
  tr_store *store;
  tr_error err;
} fx;

static void write_text(const char *path, const char *text) {
  FILE *o = fopen(path, "wb");
  assert_non_null(o);
  fputs(text, o);
  fclose(o);
}

/* The first `months` months of the history as a long CSV, imported into a new store. */
static void fill_store(fx *f, int months) {
  char csv[128];
  snprintf(csv, sizeof csv, "%s/kpis.csv", f->dir);
  FILE *o = fopen(csv, "wb");
  assert_non_null(o);
  fputs("date,kpi,value\n", o);
  for (int i = 0; i < months; i++) {
    int y = i < 12 ? 2024 : 2025, mo = i < 12 ? i + 1 : i - 11;
    fprintf(o, "%d-%02d,new_customers,%g\n%d-%02d,nrr,%g\n%d-%02d,churn,%g\n", y, mo, nc[i], y, mo,
            nrr[i], y, mo, ch[i]);
  }
  fclose(o);
  assert_int_equal(tr_store_open_workspace(&f->store, f->dir, &f->err), TR_OK);
  assert_int_equal(
      tr_store_import_csv(f->store, csv, TR_KPI_LONG, TR_IMPORT_STRICT, NULL, NULL, &f->err),
      TR_OK);
}

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f) return -1;
  strcpy(f->dir, "/tmp/tr_monitor_XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  char path[128];
  snprintf(path, sizeof path, "%s/plan.yaml", f->dir);
  write_text(path, plan_text);
  tr_error_clear(&f->err);
  if (tr_plan_load_file(path, &f->plan, &f->err) != TR_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  tr_store_close(f->store);
  tr_plan_free(f->plan);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  if (system(cmd) != 0) return -1;
  free(f);
  return 0;
}

static const tr_monitor_signal *find_signal(const tr_monitor_signal *v, size_t n,
                                            const char *rule) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i].rule, rule) == 0) return &v[i];
  return NULL;
}

/* ---- monitor ---------------------------------------------------------------------------- */

/* XmR limits of new customers from the first 12 months: mean 247/12, moving ranges summing
 * to 18 over 11, so mR-bar 18/11 and limits mean +- 2.66 mR-bar. */
static void test_limits_by_hand(void **state) {
  fx *f = *state;
  fill_store(f, 18);
  tr_monitor *m = NULL;
  assert_int_equal(tr_monitor_run(f->plan, f->store, NULL, &m, &f->err), TR_OK);
  assert_int_equal(m->n_kpis, 3);
  const tr_monitor_kpi *k = &m->kpis[0];
  assert_string_equal(k->kpi->id, "new_customers");
  assert_int_equal(k->state, TR_MONITOR_OK);
  assert_int_equal(k->n, 18);
  assert_string_equal(k->periods[0], "2024-01");
  assert_string_equal(k->periods[17], "2025-06");
  assert_true(k->values[17] == 46);
  assert_int_equal(k->baseline, 12);
  double mean = 247.0 / 12, mr = 18.0 / 11;
  assert_true(fabs(k->limits.mean - mean) < 1e-12);
  assert_true(fabs(k->limits.mr_bar - mr) < 1e-12);
  assert_true(fabs(k->limits.unpl - (mean + 2.66 * mr)) < 1e-9);
  assert_true(fabs(k->limits.lnpl - (mean - 2.66 * mr)) < 1e-9);
  tr_monitor_free(m);
}

/* The latest month: acquisition up (good news), retention down and churn up (alerts, the
 * latter because lower churn is better), and the tension imbalanced with A gaining. */
static void test_verdicts(void **state) {
  fx *f = *state;
  fill_store(f, 18);
  tr_monitor *m = NULL;
  assert_int_equal(tr_monitor_run(f->plan, f->store, NULL, &m, &f->err), TR_OK);
  const tr_monitor_signal *s;
  s = find_signal(m->kpis[0].signals, m->kpis[0].n_signals, "WE1");
  assert_non_null(s);
  assert_int_equal(s->side, 1);
  assert_int_equal(s->index, 17);
  assert_string_equal(s->period, "2025-06");
  assert_true(s->active);
  assert_int_equal(s->verdict, TR_VERDICT_GOOD);
  assert_non_null(strstr(s->text, "point 18 (46) is above"));
  s = find_signal(m->kpis[1].signals, m->kpis[1].n_signals, "WE1");
  assert_non_null(s);
  assert_int_equal(s->side, -1);
  assert_int_equal(s->verdict, TR_VERDICT_ALERT);
  s = find_signal(m->kpis[2].signals, m->kpis[2].n_signals, "CUSUM+");
  assert_non_null(s);
  assert_int_equal(s->side, 1);
  assert_int_equal(s->verdict, TR_VERDICT_ALERT);
  /* only active signals without opts.all, the rest counted */
  for (size_t k = 0; k < 3; k++)
    for (size_t i = 0; i < m->kpis[k].n_signals; i++)
      assert_true(m->kpis[k].signals[i].active);
  assert_int_equal(m->kpis[0].n_signals, 5); /* WE1, WE2, WE3, EWMA, CUSUM+ */
  assert_int_equal(m->kpis[0].n_earlier, 20);
  const tr_monitor_tension *t = &m->tensions[0];
  assert_int_equal(t->state, TR_MONITOR_OK);
  assert_int_equal(t->n_periods, 18);
  assert_true(fabs(t->score_a - 1.0) < 1e-12);         /* 46/40, clamped */
  assert_true(fabs(t->score_b - 0.90 / 1.05) < 1e-12); /* nrr / target */
  s = find_signal(t->signals, t->n_signals, "IMBALANCE");
  assert_non_null(s);
  assert_int_equal(s->side, 1);
  assert_int_equal(s->verdict, TR_VERDICT_ALERT);
  /* alerts: nrr 5, churn 5, the tension 1 (as `tightrope monitor` counts them) */
  long alerts = 0;
  for (size_t k = 0; k < 3; k++)
    for (size_t i = 0; i < m->kpis[k].n_signals; i++)
      alerts += m->kpis[k].signals[i].verdict == TR_VERDICT_ALERT;
  assert_int_equal(alerts + 1, m->alerts);
  assert_int_equal(m->alerts, 11);
  tr_monitor_free(m);
}

static void test_options(void **state) {
  fx *f = *state;
  fill_store(f, 18);
  tr_monitor_opts o;
  tr_monitor_opts_init(&o);
  o.all = 1;
  tr_monitor *m = NULL;
  assert_int_equal(tr_monitor_run(f->plan, f->store, &o, &m, &f->err), TR_OK);
  assert_int_equal(m->kpis[0].n_signals, 25); /* 5 active + 20 earlier */
  size_t past = 0;
  for (size_t i = 0; i < m->kpis[0].n_signals; i++)
    past += !m->kpis[0].signals[i].active;
  assert_int_equal(past, 20);
  assert_int_equal(m->alerts, 11); /* past signals are never active alerts */
  tr_monitor_free(m);

  /* since: four months left, too few for limits; the tension too few for trends */
  tr_monitor_opts_init(&o);
  o.since = "2025-03";
  assert_int_equal(tr_monitor_run(f->plan, f->store, &o, &m, &f->err), TR_OK);
  assert_int_equal(m->kpis[1].state, TR_MONITOR_TOO_FEW);
  assert_int_equal(m->kpis[1].n, 4);
  assert_string_equal(m->opts.since, "2025-03");
  assert_int_equal(m->tensions[0].state, TR_MONITOR_TOO_FEW);
  assert_int_equal(m->tensions[0].n_periods, 4);
  assert_int_equal(m->alerts, 0);
  tr_monitor_free(m);

  /* a baseline of 6 points: limits from the first six values */
  tr_monitor_opts_init(&o);
  o.baseline = 6;
  o.rules = TR_SPC_NELSON;
  assert_int_equal(tr_monitor_run(f->plan, f->store, &o, &m, &f->err), TR_OK);
  assert_int_equal(m->kpis[0].baseline, 6);
  assert_true(fabs(m->kpis[0].limits.mean - 124.0 / 6) < 1e-12);
  assert_true(m->alerts > 0);
  tr_monitor_free(m);

  /* the rule-set names */
  tr_spc_ruleset set;
  const char *best = NULL;
  assert_true(tr_monitor_parse_rules("anhoj", &set, &best));
  assert_int_equal(set, TR_SPC_ANHOJ);
  assert_false(tr_monitor_parse_rules("nelsen", &set, &best));
  assert_string_equal(best, "nelson");
  assert_string_equal(tr_monitor_rules_name(TR_SPC_WESTERN_ELECTRIC), "western-electric");
}

/* A stable year: no active alert. */
static void test_calm(void **state) {
  fx *f = *state;
  fill_store(f, 12);
  tr_monitor *m = NULL;
  assert_int_equal(tr_monitor_run(f->plan, f->store, NULL, &m, &f->err), TR_OK);
  assert_int_equal(m->alerts, 0);
  assert_int_equal(m->kpis[0].state, TR_MONITOR_OK);
  assert_int_equal(m->tensions[0].state, TR_MONITOR_OK);
  tr_monitor_free(m);
}

static void test_bad_input(void **state) {
  fx *f = *state;
  fill_store(f, 18);
  tr_monitor *m = (tr_monitor *)1;
  tr_monitor_opts o;
  tr_monitor_opts_init(&o);
  o.since = "yesterday";
  assert_int_equal(tr_monitor_run(f->plan, f->store, &o, &m, &f->err), TR_ERR_INVALID);
  assert_null(m);
  assert_non_null(strstr(f->err.msg, "bad date 'yesterday'"));
  /* refused without a store as well */
  assert_int_equal(tr_monitor_run(f->plan, NULL, &o, &m, &f->err), TR_ERR_INVALID);
  tr_monitor_opts_init(&o);
  o.baseline = 1;
  assert_int_equal(tr_monitor_run(f->plan, f->store, &o, &m, &f->err), TR_ERR_INVALID);
  assert_null(m);
  tr_monitor_free(NULL);
}

/* No store yet: every KPI without data, tensions with nothing to trend, no alert. */
static void test_no_store(void **state) {
  fx *f = *state;
  tr_monitor *m = NULL;
  assert_int_equal(tr_monitor_run(f->plan, NULL, NULL, &m, &f->err), TR_OK);
  assert_false(m->has_store);
  for (size_t k = 0; k < m->n_kpis; k++)
    assert_int_equal(m->kpis[k].state, TR_MONITOR_NO_DATA);
  assert_int_equal(m->tensions[0].state, TR_MONITOR_TOO_FEW);
  assert_int_equal(m->alerts, 0);
  cJSON *j = tr_monitor_to_json(m);
  assert_non_null(j);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "alerts")), 0);
  assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "has_store")));
  cJSON_Delete(j);
  tr_monitor_free(m);
}

/* A KPI that does not vary over its baseline gets no limits. */
static void test_no_spread(void **state) {
  fx *f = *state;
  char csv[128];
  snprintf(csv, sizeof csv, "%s/flat.csv", f->dir);
  FILE *o = fopen(csv, "wb");
  assert_non_null(o);
  fputs("date,kpi,value\n", o);
  for (int i = 1; i <= 12; i++)
    fprintf(o, "2024-%02d,nrr,1\n", i);
  fputs("2025-01,nrr,1.2\n", o);
  fclose(o);
  assert_int_equal(tr_store_open_workspace(&f->store, f->dir, &f->err), TR_OK);
  assert_int_equal(tr_store_import_csv(f->store, csv, TR_KPI_LONG, 0, NULL, NULL, &f->err), TR_OK);
  tr_monitor *m = NULL;
  assert_int_equal(tr_monitor_run(f->plan, f->store, NULL, &m, &f->err), TR_OK);
  assert_int_equal(m->kpis[1].state, TR_MONITOR_NO_SPREAD);
  assert_int_equal(m->kpis[1].n_signals, 0);
  assert_true(fabs(m->kpis[1].limits.mean - 1) < 1e-12);
  /* no new_customers: pole A has no score, so no window can be judged */
  assert_int_equal(m->tensions[0].state, TR_MONITOR_OK);
  assert_int_equal(m->tensions[0].n_periods, 13);
  assert_true(isnan(m->tensions[0].score_a));
  assert_int_equal(m->tensions[0].n_signals, 0);
  assert_int_equal(m->alerts, 0);
  tr_monitor_free(m);
}

static void test_monitor_json(void **state) {
  fx *f = *state;
  fill_store(f, 18);
  tr_monitor *m = NULL;
  assert_int_equal(tr_monitor_run(f->plan, f->store, NULL, &m, &f->err), TR_OK);
  cJSON *j = tr_monitor_to_json(m);
  assert_non_null(j);
  cJSON *alerts = cJSON_GetObjectItem(j, "alerts");
  assert_int_equal(cJSON_GetArraySize(alerts), 11);
  cJSON *a0 = cJSON_GetArrayItem(alerts, 0);
  assert_string_equal(cJSON_GetObjectItem(a0, "kind")->valuestring, "kpi");
  assert_string_equal(cJSON_GetObjectItem(a0, "kpi")->valuestring, "nrr");
  assert_string_equal(cJSON_GetObjectItem(a0, "period")->valuestring, "2025-06");
  cJSON *last = cJSON_GetArrayItem(alerts, 10);
  assert_string_equal(cJSON_GetObjectItem(last, "kind")->valuestring, "tension");
  assert_string_equal(cJSON_GetObjectItem(last, "kpi")->valuestring, "acq_ret");
  assert_string_equal(cJSON_GetObjectItem(last, "rule")->valuestring, "IMBALANCE");
  cJSON *k0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "kpis"), 0);
  assert_string_equal(cJSON_GetObjectItem(k0, "state")->valuestring, "ok");
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(k0, "values")), 18);
  cJSON *lim = cJSON_GetObjectItem(k0, "limits");
  assert_true(fabs(cJSON_GetObjectItem(lim, "upper")->valuedouble -
                   (247.0 / 12 + 2.66 * 18.0 / 11)) < 1e-9);
  cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(k0, "signals"), 0);
  assert_string_equal(cJSON_GetObjectItem(s0, "verdict")->valuestring, "good");
  assert_int_equal(cJSON_GetObjectItem(k0, "earlier")->valueint, 20);
  cJSON_Delete(j);
  cJSON *only = tr_monitor_alerts_json(m);
  assert_int_equal(cJSON_GetArraySize(only), 11);
  cJSON_Delete(only);
  tr_monitor_free(m);
}

/* Every allocation failure comes back as TR_ERR_NOMEM with nothing leaked (ASan). */
static void test_monitor_nomem(void **state) {
  fx *f = *state;
  fill_store(f, 18);
  int done = 0;
  long failures = 0;
  for (long n = 1; n < 2000 && !done; n++) {
    tr_monitor *m = NULL;
    tr_alloc_fail_after(n, 0);
    int rc = tr_monitor_run(f->plan, f->store, NULL, &m, &f->err);
    tr_alloc_fail_after(0, 0);
    if (rc == TR_OK) {
      assert_int_equal(m->alerts, 11);
      done = 1;
    } else {
      assert_int_equal(rc, TR_ERR_NOMEM);
      assert_null(m);
      failures++;
    }
    tr_monitor_free(m);
  }
  assert_true(done);
  assert_true(failures > 10);
}

/* ---- scorecard -------------------------------------------------------------------------- */

/* Latest values: new_customers 46 -> 46/80; nrr 0.90 -> (0.90 - 0.8)/0.4; churn 0.036 ->
 * 10/3 (1 + 0.2) = 4.0 of 10. keep = (0.25 + 0.4)/2, total = (0.575 + 0.325)/2 = 0.45. */
static void test_scorecard_store(void **state) {
  fx *f = *state;
  fill_store(f, 18);
  tr_scorecard_ws *s = NULL;
  assert_int_equal(tr_scorecard_ws_from_store(f->plan, f->store, &s, &f->err), TR_OK);
  assert_false(s->simulated);
  assert_int_equal(s->matched, 3);
  assert_true(s->values[0] == 46);
  assert_string_equal(s->periods[2], "2025-06");
  assert_true(fabs(s->result.kpis[0].score - 0.575) < 1e-12);
  assert_true(fabs(s->result.kpis[1].score - 0.25) < 1e-12);
  assert_true(fabs(s->result.kpis[2].raw - 4.0) < 1e-12);
  assert_true(fabs(s->result.total - 0.45) < 1e-12);
  cJSON *j = tr_scorecard_ws_to_json(s);
  assert_non_null(j);
  assert_true(fabs(cJSON_GetObjectItem(j, "total")->valuedouble - 0.45) < 1e-12);
  cJSON *keep = cJSON_GetArrayItem(
      cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "perspectives"), 1),
                          "objectives"),
      0);
  cJSON *churn = cJSON_GetArrayItem(cJSON_GetObjectItem(keep, "kpis"), 1);
  assert_string_equal(cJSON_GetObjectItem(churn, "id")->valuestring, "churn");
  assert_true(cJSON_GetObjectItem(churn, "target")->valuedouble == 0.02); /* the goal */
  assert_string_equal(cJSON_GetObjectItem(churn, "period")->valuestring, "2025-06");
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(churn, "leading")));
  cJSON_Delete(j);
  tr_scorecard_ws_free(s);

  /* no store: nothing scored */
  assert_int_equal(tr_scorecard_ws_from_store(f->plan, NULL, &s, &f->err), TR_OK);
  assert_int_equal(s->matched, 0);
  assert_true(isnan(s->result.total));
  j = tr_scorecard_ws_to_json(s);
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "total")));
  cJSON_Delete(j);
  tr_scorecard_ws_free(s);
  tr_scorecard_ws_free(NULL);
}

/* customers(t) = 10 + 10 * 0.6 t with the lever's share 0.6 (the model says 0.5): 40 at t = 5,
 * scored 40/80; 82 at the end (t = 12), clamped to 1. */
static void test_scorecard_run(void **state) {
  fx *f = *state;
  tr_model *model = NULL;
  assert_int_equal(
      tr_model_load_buffer(model_text, strlen(model_text), "model.xmile", &model, &f->err), TR_OK);
  tr_scorecard_ws *s = NULL;
  assert_int_equal(tr_scorecard_ws_from_run(f->plan, model, 5, &s, &f->err), TR_OK);
  assert_true(s->simulated);
  assert_true(s->at == 5);
  assert_int_equal(s->matched, 1);
  assert_true(fabs(s->values[0] - 40) < 1e-9);
  assert_string_equal(s->periods[0], "t=5");
  assert_true(fabs(s->result.kpis[0].score - 0.5) < 1e-9);
  assert_true(isnan(s->values[1])); /* not bound to the model */
  tr_scorecard_ws_free(s);
  assert_int_equal(tr_scorecard_ws_from_run(f->plan, model, 5.5, &s, &f->err), TR_OK);
  assert_true(s->at == 5); /* the last saved time at or before */
  tr_scorecard_ws_free(s);
  assert_int_equal(tr_scorecard_ws_from_run(f->plan, model, INFINITY, &s, &f->err), TR_OK);
  assert_true(fabs(s->values[0] - 82) < 1e-9);
  assert_true(s->result.kpis[0].score == 1.0);
  tr_scorecard_ws_free(s);
  s = (tr_scorecard_ws *)1;
  assert_int_equal(tr_scorecard_ws_from_run(f->plan, model, -1, &s, &f->err), TR_ERR_INVALID);
  assert_null(s);
  assert_non_null(strstr(f->err.msg, "before the model's start time 0"));
  tr_model_free(model);
}

/* `src` with every `from` replaced by `to`, into out[cap]. */
static void replace_all(const char *src, const char *from, const char *to, char *out, size_t cap) {
  size_t n = 0, lf = strlen(from), lt = strlen(to);
  while (*src && n + lt + 1 < cap) {
    if (strncmp(src, from, lf) == 0) {
      memcpy(out + n, to, lt);
      n += lt;
      src += lf;
    } else {
      out[n++] = *src++;
    }
  }
  out[n] = '\0';
}

/* Model names the plan uses but the model lacks are named at their plan position. */
static void test_scorecard_run_names(void **state) {
  fx *f = *state;
  char text[sizeof model_text + 64];
  tr_model *model = NULL;
  tr_scorecard_ws *s = NULL;
  /* acq_share renamed: the lever constant is missing, with a suggestion */
  replace_all(model_text, "acq_share", "acq_shares", text, sizeof text);
  assert_int_equal(tr_model_load_buffer(text, strlen(text), "model.xmile", &model, &f->err), TR_OK);
  s = (tr_scorecard_ws *)1;
  assert_int_equal(tr_scorecard_ws_from_run(f->plan, model, 5, &s, &f->err), TR_ERR_UNKNOWN_NAME);
  assert_null(s);
  assert_int_equal(f->err.line, 10);
  assert_non_null(strstr(f->err.msg, "lever constant 'acq_share' is not a variable of"));
  assert_non_null(strstr(f->err.msg, "did you mean 'acq_shares'"));
  tr_model_free(model);
  /* customers renamed: the KPI variable is missing */
  replace_all(model_text, "\"customers\"", "\"clients\"", text, sizeof text);
  assert_int_equal(tr_model_load_buffer(text, strlen(text), "model.xmile", &model, &f->err), TR_OK);
  assert_int_equal(tr_scorecard_ws_from_run(f->plan, model, 5, &s, &f->err), TR_ERR_UNKNOWN_NAME);
  assert_non_null(strstr(f->err.msg, "KPI variable 'customers'"));
  assert_int_equal(f->err.line, 16);
  tr_model_free(model);
}

static void test_scorecard_nomem(void **state) {
  fx *f = *state;
  fill_store(f, 18);
  int done = 0;
  for (long n = 1; n < 500 && !done; n++) {
    tr_scorecard_ws *s = NULL;
    tr_alloc_fail_after(n, 0);
    int rc = tr_scorecard_ws_from_store(f->plan, f->store, &s, &f->err);
    tr_alloc_fail_after(0, 0);
    if (rc == TR_OK) {
      assert_true(fabs(s->result.total - 0.45) < 1e-12);
      done = 1;
    } else {
      assert_int_equal(rc, TR_ERR_NOMEM);
      assert_null(s);
    }
    tr_scorecard_ws_free(s);
  }
  assert_true(done);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_limits_by_hand, setup, teardown),
      cmocka_unit_test_setup_teardown(test_verdicts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_options, setup, teardown),
      cmocka_unit_test_setup_teardown(test_calm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_store, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_spread, setup, teardown),
      cmocka_unit_test_setup_teardown(test_monitor_json, setup, teardown),
      cmocka_unit_test_setup_teardown(test_monitor_nomem, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scorecard_store, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scorecard_run, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scorecard_run_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scorecard_nomem, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
