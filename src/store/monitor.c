/* KPI monitoring over the store (see monitor.h). */
#include "store/monitor.h"

#include "base/text.h"
#include "store/store.h"
#include "strategy/balance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Periods are YYYY-MM or YYYY-MM-DD; 16 bytes hold either with room to spare. */
#define PERIOD_LEN 16

static const char *const ruleset_names[] = {"western-electric", "nelson", "anhoj"};

void tr_monitor_opts_init(tr_monitor_opts *o) {
  memset(o, 0, sizeof *o);
  o->rules = TR_SPC_WESTERN_ELECTRIC;
  o->baseline = TR_MONITOR_BASELINE;
}

int tr_monitor_parse_rules(const char *name, tr_spc_ruleset *out, const char **suggestion) {
  if (suggestion) *suggestion = NULL;
  for (int i = 0; i < 3; i++)
    if (name && strcmp(name, ruleset_names[i]) == 0) {
      *out = (tr_spc_ruleset)i;
      return 1;
    }
  if (suggestion && name) *suggestion = tr_closest(name, ruleset_names, 3);
  return 0;
}

const char *tr_monitor_rules_name(tr_spc_ruleset set) {
  return (int)set >= 0 && (int)set < 3 ? ruleset_names[set] : "?";
}

const char *tr_monitor_verdict_name(tr_monitor_verdict v) {
  switch (v) {
  case TR_VERDICT_ALERT:
    return "alert";
  case TR_VERDICT_GOOD:
    return "good";
  default:
    return "note";
  }
}

/* ---- reading the store ------------------------------------------------------------------ */

/* A KPI's observations while they are read: growable, tr_realloc'd. */
typedef struct series {
  double *x;
  char (*period)[PERIOD_LEN];
  size_t n, cap;
} series;

typedef struct reader {
  const tr_plan *plan;
  series *s; /* per plan KPI */
  int nomem;
} reader;

static int take_obs(void *ud, const tr_kpi_obs *o) {
  reader *r = ud;
  long i = tr_plan_find_kpi(r->plan, o->kpi);
  if (i < 0) return 0;
  series *s = &r->s[i];
  if (s->n == s->cap) {
    size_t ncap = s->cap ? 2 * s->cap : 64;
    double *x = tr_realloc(s->x, ncap * sizeof *x);
    if (x) s->x = x;
    char(*p)[PERIOD_LEN] = tr_realloc(s->period, ncap * sizeof *p);
    if (p) s->period = p;
    if (!x || !p) {
      r->nomem = 1;
      return 1;
    }
    s->cap = ncap;
  }
  s->x[s->n] = o->value;
  snprintf(s->period[s->n], sizeof s->period[s->n], "%s", o->period);
  s->n++;
  return 0;
}

static void free_series(series *s, size_t n) {
  for (size_t i = 0; s && i < n; i++) {
    tr_free(s[i].x);
    tr_free(s[i].period);
  }
  tr_free(s);
}

/* ---- signals ---------------------------------------------------------------------------- */

/* Is a signal on `side` bad news for a KPI of this direction? 0 for side-less signals. */
static int unfavourable(tr_direction dir, int side) {
  if (side == 0) return 0;
  if (dir == TR_DIR_BAND) return 1;
  return dir == TR_DIR_HIGHER ? side < 0 : side > 0;
}

/* Copy the detected signals into the result: verdicts, periods, and only the active ones
 * unless opts.all. `dir` NULL marks a tension (every signal an alert). */
static int keep_signals(tr_monitor *m, const tr_spc_signals *sig, size_t n,
                        const char (*period)[PERIOD_LEN], const tr_direction *dir,
                        tr_monitor_signal **out, size_t *n_out, size_t *n_earlier) {
  *out = NULL;
  *n_out = *n_earlier = 0;
  if (sig->n == 0) return TR_OK;
  tr_monitor_signal *v = tr_arena_calloc(&m->arena, sig->n, sizeof *v);
  if (!v) return TR_ERR_NOMEM;
  size_t k = 0;
  for (size_t i = 0; i < sig->n; i++) {
    const tr_spc_signal *g = &sig->items[i];
    int active = g->index + 1 == n;
    if (!active) ++*n_earlier;
    if (!active && !m->opts.all) continue;
    tr_monitor_signal *s = &v[k++];
    s->rule = g->rule;
    s->index = g->index;
    s->side = g->side;
    s->active = active;
    s->period = tr_arena_strdup(&m->arena, period[g->index]);
    s->text = tr_arena_strdup(&m->arena, g->text);
    if (!s->period || !s->text) return TR_ERR_NOMEM;
    if (!dir)
      s->verdict = TR_VERDICT_ALERT;
    else if (g->side == 0)
      s->verdict = TR_VERDICT_NOTE;
    else
      s->verdict = unfavourable(*dir, g->side) ? TR_VERDICT_ALERT : TR_VERDICT_GOOD;
    if (active && s->verdict == TR_VERDICT_ALERT) m->alerts++;
  }
  *out = v;
  *n_out = k;
  return TR_OK;
}

/* ---- KPIs ------------------------------------------------------------------------------- */

static int analyse_kpi(tr_monitor *m, size_t k, const series *s, tr_error *err) {
  tr_monitor_kpi *mk = &m->kpis[k];
  mk->kpi = &m->plan->scorecard.kpis[k];
  mk->n = s->n;
  if (s->n) {
    double *x = tr_arena_calloc(&m->arena, s->n, sizeof *x);
    const char **p = tr_arena_calloc(&m->arena, s->n, sizeof *p);
    if (!x || !p) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    for (size_t i = 0; i < s->n; i++) {
      x[i] = s->x[i];
      p[i] = tr_arena_strdup(&m->arena, s->period[i]);
      if (!p[i]) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    }
    mk->values = x;
    mk->periods = p;
  }
  if (s->n == 0) {
    mk->state = TR_MONITOR_NO_DATA;
    return TR_OK;
  }
  if (s->n < TR_MONITOR_MIN_POINTS) {
    mk->state = TR_MONITOR_TOO_FEW;
    return TR_OK;
  }
  mk->baseline = m->opts.baseline < s->n ? m->opts.baseline : s->n;
  int rc = tr_spc_xmr(s->x, mk->baseline, &mk->limits, err);
  if (rc) return rc;
  if (!(mk->limits.sigma > 0)) {
    mk->state = TR_MONITOR_NO_SPREAD;
    return TR_OK;
  }
  mk->state = TR_MONITOR_OK;
  const tr_xmr *lim = &mk->limits;
  tr_spc_signals sig;
  tr_spc_signals_init(&sig);
  rc = tr_spc_rules(s->x, s->n, lim, m->opts.rules, &sig, err);
  if (!rc)
    rc = tr_spc_ewma(s->x, s->n, lim->mean, lim->sigma, TR_EWMA_LAMBDA, TR_EWMA_L, &sig, NULL, err);
  if (!rc)
    rc = tr_spc_cusum(s->x, s->n, lim->mean, lim->sigma, TR_CUSUM_K, TR_CUSUM_H, &sig, NULL, NULL,
                      err);
  if (!rc && keep_signals(m, &sig, s->n, (const char(*)[PERIOD_LEN])s->period, &mk->kpi->direction,
                          &mk->signals, &mk->n_signals, &mk->n_earlier))
    rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  tr_spc_signals_free(&sig);
  return rc;
}

/* ---- tensions --------------------------------------------------------------------------- */

static int cmp_period(const void *a, const void *b) {
  return strcmp(a, b);
}

/* The value of KPI series s at `period`, NAN when not observed (s is sorted by period). */
static double value_at(const series *s, const char *period) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(s->period[mid], period);
    if (c == 0) return s->x[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NAN;
}

/* The series of a measure's KPI, NULL when the measure has none (or names no plan KPI,
 * which the plan loader already refuses). */
static const series *measure_series(const tr_monitor *m, const series *all, const tr_measure *me) {
  long i = me->kpi ? tr_plan_find_kpi(m->plan, me->kpi) : -1;
  return i < 0 ? NULL : &all[i];
}

static int analyse_tension(tr_monitor *m, size_t ti, const series *all, tr_error *err) {
  tr_monitor_tension *mt = &m->tensions[ti];
  const tr_tension *t = &m->plan->tensions[ti];
  mt->tension = t;
  mt->score_a = mt->score_b = NAN;
  size_t total = 0;
  int kpis_on[2] = {0, 0};
  for (int p = 0; p < 2; p++)
    for (size_t i = 0; i < t->poles[p].n_measures; i++) {
      const series *s = measure_series(m, all, &t->poles[p].measures[i]);
      if (!s) continue;
      kpis_on[p] = 1;
      total += s->n;
    }
  if (!kpis_on[0] || !kpis_on[1]) {
    mt->state = TR_MONITOR_NO_DATA;
    return TR_OK;
  }
  char(*periods)[PERIOD_LEN] = tr_malloc((total ? total : 1) * sizeof *periods);
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
      const series *s = measure_series(m, all, &t->poles[p].measures[i]);
      for (size_t j = 0; s && j < s->n; j++)
        memcpy(periods[np++], s->period[j], PERIOD_LEN);
    }
  qsort(periods, np, sizeof *periods, cmp_period);
  size_t u = 0;
  for (size_t i = 0; i < np; i++)
    if (u == 0 || strcmp(periods[u - 1], periods[i]) != 0)
      memcpy(periods[u++], periods[i], PERIOD_LEN);
  np = u;
  for (size_t j = 0; j < np; j++)
    for (int p = 0; p < 2; p++) {
      const tr_pole *pole = &t->poles[p];
      for (size_t i = 0; i < pole->n_measures; i++) {
        const series *s = measure_series(m, all, &pole->measures[i]);
        vals[i] = s ? value_at(s, periods[j]) : NAN;
      }
      (p ? b : a)[j] = tr_pole_score(pole, vals);
    }
  mt->n_periods = np;
  if (np < TR_IMBALANCE_WINDOW) {
    mt->state = TR_MONITOR_TOO_FEW;
    goto done;
  }
  mt->state = TR_MONITOR_OK;
  mt->score_a = a[np - 1];
  mt->score_b = b[np - 1];
  rc = tr_spc_imbalance(a, b, np, TR_IMBALANCE_WINDOW, TR_IMBALANCE_MIN_CHANGE, &sig, err);
  if (!rc && keep_signals(m, &sig, np, (const char(*)[PERIOD_LEN])periods, NULL, &mt->signals,
                          &mt->n_signals, &mt->n_earlier))
    rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
done:
  tr_spc_signals_free(&sig);
  tr_free(periods);
  tr_free(a);
  tr_free(b);
  tr_free(vals);
  return rc;
}

/* ---- entry points ----------------------------------------------------------------------- */

int tr_monitor_run(const tr_plan *plan, tr_store *store, const tr_monitor_opts *opts,
                   tr_monitor **out, tr_error *err) {
  *out = NULL;
  tr_monitor_opts defaults;
  tr_monitor_opts_init(&defaults);
  if (!opts) opts = &defaults;
  if (opts->baseline < 2)
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "the baseline needs at least 2 observations, got %zu", opts->baseline);
  int kind;
  const char *why = opts->since ? tr_store_check_period(opts->since, &kind) : NULL;
  if (why) /* checked here too, so a workspace without a store refuses it alike */
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0, "bad date '%s': %s", opts->since, why);
  if ((int)opts->rules < 0 || (int)opts->rules > 2)
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0, "unknown rule set %d", (int)opts->rules);
  tr_monitor *m = tr_calloc(1, sizeof *m);
  size_t nk = plan->scorecard.n_kpis, nt = plan->n_tensions;
  series *s = tr_calloc(nk ? nk : 1, sizeof *s);
  if (!m || !s) {
    tr_free(m);
    tr_free(s);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  tr_arena_init(&m->arena);
  m->plan = plan;
  m->opts = *opts;
  m->has_store = store != NULL;
  m->n_kpis = nk;
  m->n_tensions = nt;
  int rc = TR_OK;
  m->kpis = tr_arena_calloc(&m->arena, nk ? nk : 1, sizeof *m->kpis);
  m->tensions = tr_arena_calloc(&m->arena, nt ? nt : 1, sizeof *m->tensions);
  if (!m->kpis || !m->tensions ||
      (opts->since && !(m->opts.since = tr_arena_strdup(&m->arena, opts->since))))
    rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  reader r = {plan, s, 0};
  if (!rc && store && nk) {
    rc = tr_store_observations(store, NULL, opts->since, take_obs, &r, err);
    if (r.nomem) rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  for (size_t k = 0; !rc && k < nk; k++)
    rc = analyse_kpi(m, k, &s[k], err);
  for (size_t t = 0; !rc && t < nt; t++)
    rc = analyse_tension(m, t, s, err);
  free_series(s, nk);
  if (rc) {
    tr_monitor_free(m);
    return rc;
  }
  *out = m;
  return TR_OK;
}

void tr_monitor_free(tr_monitor *m) {
  if (!m) return;
  tr_arena_release(&m->arena);
  tr_free(m);
}

/* ---- JSON ------------------------------------------------------------------------------- */

static cJSON *num(double v) {
  return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static const char *state_name(tr_monitor_state s, int tension) {
  switch (s) {
  case TR_MONITOR_OK:
    return "ok";
  case TR_MONITOR_NO_DATA:
    return tension ? "no_kpis" : "no_data";
  case TR_MONITOR_TOO_FEW:
    return "too_few";
  default:
    return "no_spread";
  }
}

static cJSON *signals_json(const tr_monitor_signal *v, size_t n) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < n; i++) {
    cJSON *s = cJSON_CreateObject();
    if (!s || !cJSON_AddItemToArray(a, s)) {
      cJSON_Delete(s);
      cJSON_Delete(a);
      return NULL;
    }
    cJSON_AddStringToObject(s, "rule", v[i].rule);
    cJSON_AddStringToObject(s, "period", v[i].period);
    cJSON_AddNumberToObject(s, "index", (double)v[i].index);
    cJSON_AddNumberToObject(s, "side", v[i].side);
    cJSON_AddStringToObject(s, "message", v[i].text);
    cJSON_AddBoolToObject(s, "active", v[i].active);
    cJSON_AddStringToObject(s, "verdict", tr_monitor_verdict_name(v[i].verdict));
  }
  return a;
}

/* Append the active alerts of one subject to array `a`; 0, or -1 when out of memory. */
static int add_alerts(cJSON *a, const char *kind, const char *id, const char *name,
                      const tr_monitor_signal *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!v[i].active || v[i].verdict != TR_VERDICT_ALERT) continue;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(a, o)) {
      cJSON_Delete(o);
      return -1;
    }
    if (!cJSON_AddStringToObject(o, "kind", kind) || !cJSON_AddStringToObject(o, "kpi", id) ||
        !cJSON_AddStringToObject(o, "name", name ? name : id) ||
        !cJSON_AddStringToObject(o, "rule", v[i].rule) ||
        !cJSON_AddStringToObject(o, "period", v[i].period) ||
        !cJSON_AddNumberToObject(o, "side", v[i].side) ||
        !cJSON_AddStringToObject(o, "message", v[i].text))
      return -1;
  }
  return 0;
}

cJSON *tr_monitor_alerts_json(const tr_monitor *m) {
  cJSON *a = cJSON_CreateArray();
  int bad = !a;
  for (size_t k = 0; !bad && k < m->n_kpis; k++) {
    const tr_monitor_kpi *mk = &m->kpis[k];
    bad = add_alerts(a, "kpi", mk->kpi->id, mk->kpi->name, mk->signals, mk->n_signals);
  }
  for (size_t t = 0; !bad && t < m->n_tensions; t++) {
    const tr_monitor_tension *mt = &m->tensions[t];
    bad = add_alerts(a, "tension", mt->tension->id, mt->tension->name, mt->signals, mt->n_signals);
  }
  if (bad) {
    cJSON_Delete(a);
    return NULL;
  }
  return a;
}

static cJSON *kpi_json(const tr_monitor_kpi *mk) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "id", mk->kpi->id);
  cJSON_AddStringToObject(o, "name", mk->kpi->name ? mk->kpi->name : mk->kpi->id);
  cJSON_AddStringToObject(o, "state", state_name(mk->state, 0));
  cJSON_AddNumberToObject(o, "count", (double)mk->n);
  cJSON *ps = cJSON_AddArrayToObject(o, "periods");
  for (size_t i = 0; ps && i < mk->n; i++)
    cJSON_AddItemToArray(ps, cJSON_CreateString(mk->periods[i]));
  cJSON *vs = cJSON_AddArrayToObject(o, "values");
  for (size_t i = 0; vs && i < mk->n; i++)
    cJSON_AddItemToArray(vs, num(mk->values[i]));
  if (mk->state == TR_MONITOR_OK || mk->state == TR_MONITOR_NO_SPREAD) {
    cJSON *l = cJSON_AddObjectToObject(o, "limits");
    cJSON_AddItemToObject(l, "centre", num(mk->limits.mean));
    cJSON_AddItemToObject(l, "upper", num(mk->limits.unpl));
    cJSON_AddItemToObject(l, "lower", num(mk->limits.lnpl));
    cJSON_AddItemToObject(l, "sigma", num(mk->limits.sigma));
    cJSON_AddItemToObject(l, "mr_bar", num(mk->limits.mr_bar));
    cJSON_AddItemToObject(l, "url", num(mk->limits.url));
    cJSON_AddNumberToObject(l, "baseline_points", (double)mk->baseline);
  } else {
    cJSON_AddNullToObject(o, "limits");
  }
  cJSON_AddItemToObject(o, "signals", signals_json(mk->signals, mk->n_signals));
  cJSON_AddNumberToObject(o, "earlier", (double)mk->n_earlier);
  return o;
}

static cJSON *tension_json(const tr_monitor_tension *mt) {
  const tr_tension *t = mt->tension;
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "id", t->id);
  cJSON_AddStringToObject(o, "name", t->name ? t->name : t->id);
  cJSON_AddStringToObject(o, "pole_a", t->poles[0].name ? t->poles[0].name : "A");
  cJSON_AddStringToObject(o, "pole_b", t->poles[1].name ? t->poles[1].name : "B");
  cJSON_AddStringToObject(o, "state", state_name(mt->state, 1));
  cJSON_AddNumberToObject(o, "periods", (double)mt->n_periods);
  cJSON_AddItemToObject(o, "score_a", num(mt->score_a));
  cJSON_AddItemToObject(o, "score_b", num(mt->score_b));
  cJSON_AddItemToObject(o, "signals", signals_json(mt->signals, mt->n_signals));
  cJSON_AddNumberToObject(o, "earlier", (double)mt->n_earlier);
  return o;
}

cJSON *tr_monitor_to_json(const tr_monitor *m) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "rules", tr_monitor_rules_name(m->opts.rules));
  cJSON_AddNumberToObject(o, "baseline", (double)m->opts.baseline);
  if (m->opts.since)
    cJSON_AddStringToObject(o, "since", m->opts.since);
  else
    cJSON_AddNullToObject(o, "since");
  cJSON_AddBoolToObject(o, "all", m->opts.all);
  cJSON_AddBoolToObject(o, "has_store", m->has_store);
  cJSON_AddItemToObject(o, "alerts", tr_monitor_alerts_json(m));
  cJSON *ks = cJSON_AddArrayToObject(o, "kpis");
  for (size_t k = 0; ks && k < m->n_kpis; k++)
    cJSON_AddItemToArray(ks, kpi_json(&m->kpis[k]));
  cJSON *ts = cJSON_AddArrayToObject(o, "tensions");
  for (size_t t = 0; ts && t < m->n_tensions; t++)
    cJSON_AddItemToArray(ts, tension_json(&m->tensions[t]));
  /* Anything that failed to allocate left a hole: report out of memory, never a partial
   * document (the arrays must have one item per KPI and tension). */
  if (!ks || !ts || cJSON_GetArraySize(ks) != (int)m->n_kpis ||
      cJSON_GetArraySize(ts) != (int)m->n_tensions ||
      !cJSON_GetObjectItemCaseSensitive(o, "alerts")) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}
