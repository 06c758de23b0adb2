/*
 * tightrope — strategy layer: the plan file (plan.yaml) as data.
 *
 * tr_plan_load_file() reads and validates a plan (schema: docs/plan.md) into the structs
 * below. Like the model IR (xmile/model.h), the plan is plain data that other layers read
 * directly: the Monte Carlo runner reads `uncertainty` and `scenarios`, the optimiser reads
 * the levers, assess and the scorecard read tensions and KPIs. Everything hangs off the
 * plan's arena and is freed with tr_plan_free(); nothing is shared with the caller's input.
 * A loaded plan is read-only and may be read from several threads at once.
 *
 * Positions (`pos`) are 1-based line/column in the plan file, for later diagnostics
 * ("the lever bound at plan.yaml:14:7 names no model constant").
 */
#ifndef TIGHTROPE_STRATEGY_H
#define TIGHTROPE_STRATEGY_H

#include "tightrope/base.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Loader limits (TR_ERR_LIMIT beyond them). */
#define TR_PLAN_MAX_BYTES (16u * 1024u * 1024u) /* file size */
#define TR_PLAN_MAX_DEPTH 64                    /* nesting of mappings/sequences */
#define TR_PLAN_MAX_ITEMS 10000                 /* entries in one sequence or mapping */

typedef struct tr_plan_pos {
  int line; /* 1-based */
  int col;  /* 1-based */
} tr_plan_pos;

/* A YAML node kept as data (the reserved sections stakeholders, swot, roadmap). Aliases are
 * rejected by the loader, so this is a tree. */
typedef enum { TR_PNODE_SCALAR, TR_PNODE_SEQ, TR_PNODE_MAP } tr_pnode_kind;
typedef struct tr_plan_node tr_plan_node;
struct tr_plan_node {
  tr_pnode_kind kind;
  tr_plan_pos pos;
  const char *text;     /* scalar: its text; NULL otherwise */
  int quoted;           /* scalar: 1 if written in quotes (then never a number) */
  size_t n;             /* sequence: items; mapping: key/value pairs */
  tr_plan_node **items; /* sequence: n items; mapping: 2n nodes, key then value */
};

/* ---- tensions ----------------------------------------------------------------------- */

/* Which way a measure or KPI is better. */
typedef enum { TR_DIR_HIGHER, TR_DIR_LOWER, TR_DIR_BAND } tr_direction;

/* One measure of how well a pole is served: a model variable or a KPI, normalised to [0,1]
 * against its target (src/strategy/balance.h, tr_measure_score). */
typedef struct tr_measure {
  const char *variable; /* model variable (as written), or NULL */
  const char *kpi;      /* KPI id, or NULL; exactly one of variable/kpi is set */
  tr_direction direction;
  double target;   /* higher/lower: the value that scores 1 (band: its middle) */
  int has_worst;   /* 1 when `worst` was given: linear scoring worst..target */
  double worst;    /* the value that scores 0 */
  double band_low; /* band: scores 1 inside [band_low, band_high] */
  double band_high;
  double tolerance; /* band: distance outside the band at which the score reaches 0 */
  double weight;    /* > 0, default 1 */
  tr_plan_pos pos;
} tr_measure;

typedef struct tr_pole {
  const char *name;
  tr_measure *measures;
  size_t n_measures; /* >= 1 */
  tr_plan_pos pos;
} tr_pole;

/* How the lever's share reaches one model constant:
 *   constant = (pole == 0 ? share : 1 - share) * scale   where scale is `scale_value` or, when
 * `scale_name` is set, the value of that model constant. */
typedef struct tr_lever_binding {
  const char *constant;   /* model constant (as written) */
  const char *scale_name; /* model constant giving the scale, or NULL */
  double scale_value;     /* used when scale_name is NULL; default 1 */
  int pole;               /* 0: the share of pole A, 1: the rest (pole B) */
  tr_plan_pos pos;
} tr_lever_binding;

typedef struct tr_lever {
  const char *resource; /* "marketing budget", "engineering hours", ... */
  tr_lever_binding *bindings;
  size_t n_bindings; /* >= 1 */
  double min;        /* allowed share range, 0 <= min < max <= 1 */
  double max;
  double current; /* the share given to pole A today, in [min, max] */
  tr_plan_pos pos;
} tr_lever;

typedef struct tr_tension {
  const char *id;
  const char *name;
  tr_pole poles[2]; /* pole A, pole B */
  tr_lever lever;
  double weight; /* > 0, default 1; weight in the Strategic Balance Index */
  tr_plan_pos pos;
} tr_tension;

/* ---- balanced scorecard -------------------------------------------------------------- */

typedef enum {
  TR_PERSP_FINANCIAL,
  TR_PERSP_CUSTOMER,
  TR_PERSP_INTERNAL, /* "internal_process" */
  TR_PERSP_LEARNING, /* "learning_growth" */
  TR_PERSP_COUNT
} tr_perspective_id;

typedef enum { TR_SCORE_PERFORMANCE, TR_SCORE_PROGRESS, TR_SCORE_GOAL_REDFLAG } tr_score_mode;

typedef struct tr_perspective {
  tr_perspective_id id;
  const char *name; /* display name */
  double weight;    /* >= 0, default 1 */
} tr_perspective;

typedef struct tr_objective {
  const char *id;
  const char *name;
  tr_perspective_id perspective;
  double weight; /* >= 0 within its perspective, default 1 */
  tr_plan_pos pos;
} tr_objective;

typedef struct tr_kpi {
  const char *id;
  const char *name;
  const char *unit; /* NULL if absent */
  tr_perspective_id perspective;
  size_t objective; /* index into tr_scorecard.objectives */
  int has_baseline, has_target, has_min, has_max;
  double baseline, target, min, max;
  tr_direction direction;     /* higher_better | lower_better | band */
  double band_low, band_high; /* band */
  tr_score_mode mode;
  double goal, red_flag; /* goal_redflag mode */
  double weight;         /* >= 0 within its objective, default 1 */
  int leading;           /* 1 leading (driver), 0 lagging (outcome) */
  const char *variable;  /* bound model variable, or NULL */
  tr_plan_pos pos;
} tr_kpi;

/* A strategy-map edge: cause -> effect, each an objective or KPI id. */
typedef struct tr_map_link {
  const char *cause;
  const char *effect;
  tr_plan_pos pos;
} tr_map_link;

typedef struct tr_scorecard {
  tr_perspective perspectives[TR_PERSP_COUNT]; /* always all four, indexed by id */
  tr_objective *objectives;
  size_t n_objectives;
  tr_kpi *kpis;
  size_t n_kpis;
  tr_map_link *links;
  size_t n_links;
} tr_scorecard;

/* ---- uncertainty and scenarios (consumed by the scenario layer) --------------------- */

typedef struct tr_uncertain_input {
  const char *name;         /* model constant */
  const char *dist;         /* distribution name as written ("normal", "triangular", ...) */
  const char **param_names; /* in file order */
  double *params;
  size_t n_params;
  tr_plan_pos pos;
} tr_uncertain_input;

typedef struct tr_uncertainty {
  tr_uncertain_input *inputs;
  size_t n_inputs;
  double *correlation; /* n_inputs x n_inputs row-major rank correlations, or NULL */
} tr_uncertainty;

typedef enum { TR_SHOCK_STEP, TR_SHOCK_RAMP, TR_SHOCK_PULSE, TR_SHOCK_PATH } tr_shock_kind;

/* A time-shaped change to a variable. step: from `start` on; pulse: on [start, end); ramp:
 * linear from no change at `start` to full `magnitude` at `end`, held after; path: piecewise
 * linear through (time, magnitude) points. `additive` selects x + m over x * m. */
typedef struct tr_shock {
  const char *variable;
  tr_shock_kind kind;
  double start;
  int has_end;
  double end; /* from `end`, or start + `duration` */
  double magnitude;
  int additive;   /* 0 multiplier (default), 1 additive */
  double *path_t; /* path: times, ascending */
  double *path_v; /* path: magnitudes */
  size_t n_path;
  tr_plan_pos pos;
} tr_shock;

typedef struct tr_override {
  const char *name;
  double value;
  tr_plan_pos pos;
} tr_override;

typedef struct tr_scenario {
  const char *name;
  const char *description; /* NULL if absent */
  tr_override *overrides;
  size_t n_overrides;
  tr_shock *shocks;
  size_t n_shocks;
  tr_plan_pos pos;
} tr_scenario;

/* ---- the plan ------------------------------------------------------------------------- */

typedef struct tr_company {
  const char *name;
  const char *sector;   /* free text, e.g. "saas" */
  const char *currency; /* ISO 4217 code, three capital letters; default "EUR" */
  double horizon;       /* planning horizon in months, > 0; default 36 */
} tr_company;

typedef struct tr_plan_data tr_plan_data;
typedef struct tr_plan {
  const char *file; /* the name used in messages */
  tr_company company;
  tr_tension *tensions;
  size_t n_tensions;
  tr_scorecard scorecard;
  tr_uncertainty uncertainty;
  tr_scenario *scenarios;
  size_t n_scenarios;
  const tr_plan_node *stakeholders; /* reserved sections, shape-checked; NULL if absent */
  const tr_plan_node *swot;
  const tr_plan_node *roadmap;
  tr_plan_data *data; /* private: the arena that owns all of the above */
} tr_plan;

/* Load and validate a plan file. On success *out owns a new plan (free with tr_plan_free).
 * Errors, each in GNU form "file:line:col: key.path: message" in err:
 *   TR_ERR_IO      the file cannot be read;
 *   TR_ERR_PARSE   YAML syntax error;
 *   TR_ERR_INVALID schema violation (unknown key with "did you mean", missing key naming its
 *                  parent, wrong type saying what was expected, bad value);
 *   TR_ERR_CYCLE   the strategy map has a cycle (named: "a -> b -> a");
 *   TR_ERR_LIMIT   file over TR_PLAN_MAX_BYTES, nesting over TR_PLAN_MAX_DEPTH, or a list
 *                  over TR_PLAN_MAX_ITEMS;
 *   TR_ERR_NOMEM.
 * Thread-safe (no shared state). */
int tr_plan_load_file(const char *path, tr_plan **out, tr_error *err);

/* Same from memory; `filename` names the buffer in messages. */
int tr_plan_load_buffer(const char *buf, size_t len, const char *filename, tr_plan **out,
                        tr_error *err);

/* Free a plan; NULL is a no-op. */
void tr_plan_free(tr_plan *plan);

/* Check every model name the plan refers to — lever constants and scales, measure
 * variables, KPI bindings, uncertain inputs, overrides, shocked variables — against the
 * model's names (compared in XMILE canonical form). Returns TR_OK or TR_ERR_UNKNOWN_NAME at
 * the first unknown name, with its position and the closest model name. */
int tr_plan_check_names(const tr_plan *plan, const char *const *names, size_t n, tr_error *err);

/* Index of the tension / KPI / objective with that id, or -1. */
long tr_plan_find_tension(const tr_plan *plan, const char *id);
long tr_plan_find_kpi(const tr_plan *plan, const char *id);
long tr_plan_find_objective(const tr_plan *plan, const char *id);

/* The canonical name of a perspective ("financial", "customer", "internal_process",
 * "learning_growth"). */
const char *tr_perspective_name(tr_perspective_id id);

#ifdef __cplusplus
}
#endif
#endif
