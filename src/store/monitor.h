/*
 * KPI monitoring over a workspace's store: the statistical early warning of `tightrope
 * monitor`, `GET /api/alerts` and the active alerts of `GET /api/assess`, computed once here
 * and printed or serialised by its callers.
 *
 * For every KPI of the plan's scorecard the observations are read from the store (from
 * `since` on), XmR natural process limits are set from the first `baseline` of them, and the
 * rule set, EWMA and CUSUM detectors of strategy/spc.h are run. For every tension whose poles
 * both have KPI measures, the pole scores per period feed the imbalance detector. Each signal
 * gets a verdict: a KPI signal on the unfavourable side of its direction is an alert, on the
 * favourable side good news, without a side a note; every tension imbalance is an alert. A
 * signal is active when it is complete at the latest period of its series.
 *
 * The store layer holds this because it reads the store; the analysis itself is the strategy
 * layer's (spc.h, balance.h). Thread-safe for distinct results; the store connection is used
 * by one thread at a time (store.h).
 */
#ifndef TR_STORE_MONITOR_H
#define TR_STORE_MONITOR_H

#include "base/arena.h"
#include "strategy/spc.h"
#include "tightrope/store.h"
#include "tightrope/strategy.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Wheeler: useful limits "with as few as five or six values". */
#define TR_MONITOR_MIN_POINTS 6
/* Observations the natural process limits come from, by default. */
#define TR_MONITOR_BASELINE 12

typedef struct tr_monitor_opts {
  const char *since;    /* first period to read (YYYY-MM or YYYY-MM-DD); NULL = all */
  tr_spc_ruleset rules; /* default TR_SPC_WESTERN_ELECTRIC */
  size_t baseline;      /* observations for the limits, >= 2; default TR_MONITOR_BASELINE */
  int all;              /* keep every signal of the history, not only the active ones */
} tr_monitor_opts;

typedef enum {
  TR_VERDICT_ALERT, /* bad news: a KPI moving the wrong way, or a tension imbalance */
  TR_VERDICT_GOOD,  /* a KPI moving the right way */
  TR_VERDICT_NOTE   /* a side-less signal (runs, crossings, zig-zags) */
} tr_monitor_verdict;

typedef struct tr_monitor_signal {
  const char *rule;   /* static id of spc.h: WE1, N3, EWMA, CUSUM-, IMBALANCE, ... */
  const char *period; /* the period at which the pattern is complete (arena) */
  size_t index;       /* 0-based into the series */
  int side;           /* +1 up, -1 down, 0 neither */
  const char *text;   /* one line (arena) */
  int active;         /* complete at the latest period */
  tr_monitor_verdict verdict;
} tr_monitor_signal;

typedef enum {
  TR_MONITOR_OK,       /* limits set and detectors run */
  TR_MONITOR_NO_DATA,  /* KPI: no observation; tension: a pole without KPI measures */
  TR_MONITOR_TOO_FEW,  /* fewer than TR_MONITOR_MIN_POINTS (KPI) or TR_IMBALANCE_WINDOW
                          periods (tension) */
  TR_MONITOR_NO_SPREAD /* KPI: the baseline does not vary, so no limits can be set */
} tr_monitor_state;

typedef struct tr_monitor_kpi {
  const tr_kpi *kpi; /* the plan's KPI (borrowed from the plan) */
  tr_monitor_state state;
  size_t n;                   /* observations read */
  const double *values;       /* n values in period order (owned by the result) */
  const char *const *periods; /* n periods (owned by the result) */
  tr_xmr limits;              /* valid for TR_MONITOR_OK and TR_MONITOR_NO_SPREAD */
  size_t baseline;            /* observations the limits came from */
  tr_monitor_signal *signals; /* the active ones, or all with opts.all; in detector order */
  size_t n_signals;
  size_t n_earlier; /* signals before the latest period (listed only with all) */
} tr_monitor_kpi;

typedef struct tr_monitor_tension {
  const tr_tension *tension; /* borrowed from the plan */
  tr_monitor_state state;
  size_t n_periods;        /* periods at which any of its KPIs was observed */
  double score_a, score_b; /* pole scores at the latest period (NAN when unknown) */
  tr_monitor_signal *signals;
  size_t n_signals;
  size_t n_earlier;
} tr_monitor_tension;

typedef struct tr_monitor {
  const tr_plan *plan;  /* borrowed: must outlive the result */
  tr_monitor_opts opts; /* as given (opts.since is copied into the arena) */
  int has_store;        /* 0: no store was given, every KPI has no data */
  tr_monitor_kpi *kpis; /* plan->scorecard.n_kpis, in plan order */
  size_t n_kpis;
  tr_monitor_tension *tensions; /* plan->n_tensions, in plan order */
  size_t n_tensions;
  long alerts;    /* active signals with verdict TR_VERDICT_ALERT */
  tr_arena arena; /* everything above */
} tr_monitor;

/* Defaults: all history, Western Electric, baseline 12, active signals only. */
void tr_monitor_opts_init(tr_monitor_opts *o);

/* The rule set named `name` ("western-electric", "nelson", "anhoj"): 1 and *out set, or 0
 * with *suggestion (may be NULL) set to the closest name or NULL. */
int tr_monitor_parse_rules(const char *name, tr_spc_ruleset *out, const char **suggestion);
/* The name of a rule set, as tr_monitor_parse_rules reads it. */
const char *tr_monitor_rules_name(tr_spc_ruleset set);
/* "alert", "good" or "note". */
const char *tr_monitor_verdict_name(tr_monitor_verdict v);

/* Monitor the KPIs and tensions of `plan` over the observations in `store` (NULL: a workspace
 * without a store yet, every KPI without data). `opts` NULL means the defaults. On TR_OK *out
 * is a new result (free with tr_monitor_free); it borrows `plan`. Errors: TR_ERR_INVALID for
 * a malformed opts->since or opts->baseline < 2, TR_ERR_DB, TR_ERR_NOMEM; *out is NULL. */
int tr_monitor_run(const tr_plan *plan, tr_store *store, const tr_monitor_opts *opts,
                   tr_monitor **out, tr_error *err);

/* Free a result; NULL is a no-op. */
void tr_monitor_free(tr_monitor *m);

/* The result as JSON (docs/api.md, GET /api/alerts): options, "alerts" (the active alerts,
 * as tr_monitor_alerts_json), "kpis" (id, name, state, count, periods, values, limits,
 * signals, earlier) and "tensions" (id, name, poles, state, periods, scores, signals,
 * earlier). The caller owns the tree; NULL when out of memory. */
cJSON *tr_monitor_to_json(const tr_monitor *m);

/* The active alerts as a JSON array of {kind: "kpi"|"tension", kpi: the KPI's or tension's
 * id, name, rule, period, side, message}, KPIs first, in plan order. NULL when out of
 * memory. */
cJSON *tr_monitor_alerts_json(const tr_monitor *m);

#endif
