/*
 * The plan file: schema walk over the YAML node tree (plan_yaml.c) into the structs of
 * tightrope/strategy.h. Every diagnostic is "file:line:col: key.path: message", where the
 * key path is built while walking (tensions[1].lever.range; list indexes are 0-based) and the
 * position is that of the offending node. Schema reference: docs/plan.md.
 */
#include "strategy/plan.h"

#include "base/strbuf.h"
#include "base/text.h"
#include "strategy/scorecard.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ld {
  tr_plan *plan;
  tr_arena *arena;
  const char *file;
  tr_error *err;
  char path[1024];
  size_t plen;
} ld;

/* ---- key paths and errors ------------------------------------------------------------ */

static size_t push_key(ld *L, const char *key) {
  size_t old = L->plen;
  int k = snprintf(L->path + L->plen, sizeof L->path - L->plen, "%s%s", L->plen ? "." : "", key);
  if (k > 0) L->plen += (size_t)k;
  if (L->plen >= sizeof L->path) L->plen = sizeof L->path - 1;
  return old;
}

static size_t push_index(ld *L, size_t i) {
  size_t old = L->plen;
  int k = snprintf(L->path + L->plen, sizeof L->path - L->plen, "[%zu]", i);
  if (k > 0) L->plen += (size_t)k;
  if (L->plen >= sizeof L->path) L->plen = sizeof L->path - 1;
  return old;
}

static void pop(ld *L, size_t old) {
  L->plen = old;
  L->path[old] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
fail(ld *L, const tr_plan_node *at, int code, const char *fmt, ...) {
  char msg[TR_ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  int line = at ? at->pos.line : 0, col = at ? at->pos.col : 0;
  if (L->plen) return tr_error_set(L->err, code, L->file, line, col, "%s: %s", L->path, msg);
  return tr_error_set(L->err, code, L->file, line, col, "%s", msg);
}

static int nomem(ld *L) {
  return tr_error_set(L->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
}

static const char *kind_name(const tr_plan_node *n) {
  if (n->kind == TR_PNODE_MAP) return "a mapping";
  if (n->kind == TR_PNODE_SEQ) return "a list";
  return "a value";
}

static int is_null(const tr_plan_node *n) {
  if (n->kind != TR_PNODE_SCALAR || n->quoted) return 0;
  const char *t = n->text;
  return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL");
}

/* ---- shape checks -------------------------------------------------------------------- */

/* `n` must be a mapping whose keys are all in `keys` (NULL-terminated). */
static int check_map(ld *L, const tr_plan_node *n, const char *const *keys) {
  if (n->kind != TR_PNODE_MAP)
    return fail(L, n, TR_ERR_INVALID, "expected a mapping, got %s",
                is_null(n) ? "nothing" : kind_name(n));
  size_t nk = 0;
  while (keys[nk])
    nk++;
  for (size_t i = 0; i < n->n; i++) {
    const tr_plan_node *k = n->items[2 * i];
    size_t j = 0;
    while (j < nk && strcmp(keys[j], k->text) != 0)
      j++;
    if (j < nk) continue;
    const char *near = tr_closest(k->text, keys, nk);
    if (near)
      return fail(L, k, TR_ERR_INVALID, "unknown key '%s' (did you mean '%s'?)", k->text, near);
    tr_sb sb = TR_SB_INIT;
    for (j = 0; j < nk; j++)
      tr_sb_printf(&sb, "%s%s", j ? ", " : "", keys[j]);
    int rc = fail(L, k, TR_ERR_INVALID, "unknown key '%s' (expected one of: %s)", k->text,
                  tr_sb_str(&sb));
    tr_sb_free(&sb);
    return rc;
  }
  return TR_OK;
}

static int expect_seq(ld *L, const tr_plan_node *n) {
  if (n->kind != TR_PNODE_SEQ)
    return fail(L, n, TR_ERR_INVALID, "expected a list, got %s",
                is_null(n) ? "nothing" : kind_name(n));
  return TR_OK;
}

/* The value of `key`, or NULL when absent or null. */
static const tr_plan_node *value_of(const tr_plan_node *map, const char *key) {
  const tr_plan_node *v = tr_plan_node_get(map, key);
  return v && !is_null(v) ? v : NULL;
}

static int missing(ld *L, const tr_plan_node *map, const char *key) {
  if (tr_plan_node_get(map, key)) {
    size_t old = push_key(L, key);
    int rc = fail(L, tr_plan_node_get(map, key), TR_ERR_INVALID, "needs a value");
    pop(L, old);
    return rc;
  }
  return fail(L, map, TR_ERR_INVALID, "missing required key '%s'", key);
}

/* ---- scalars ------------------------------------------------------------------------- */

static int as_str(ld *L, const tr_plan_node *v, const char **out) {
  if (v->kind != TR_PNODE_SCALAR)
    return fail(L, v, TR_ERR_INVALID, "expected a string, got %s", kind_name(v));
  *out = v->text;
  return TR_OK;
}

static int parse_number(const char *t, double *out) {
  if (!*t) return 0;
  if (!(isdigit((unsigned char)t[0]) || t[0] == '-' || t[0] == '+' || t[0] == '.')) return 0;
  for (const char *p = t; *p; p++)
    if (*p == 'x' || *p == 'X' || *p == '_' || *p == 'n' || *p == 'N' || *p == 'i' || *p == 'I')
      return 0;
  char *end;
  errno = 0;
  double d = strtod(t, &end);
  if (*end || errno == ERANGE || !isfinite(d)) return 0;
  *out = d;
  return 1;
}

static int as_num(ld *L, const tr_plan_node *v, double *out) {
  if (v->kind != TR_PNODE_SCALAR)
    return fail(L, v, TR_ERR_INVALID, "expected a number, got %s", kind_name(v));
  if (v->quoted || !parse_number(v->text, out)) {
    const char *hint = strchr(v->text, '%') ? " (write percentages as fractions: 12% is 0.12)" : "";
    return fail(L, v, TR_ERR_INVALID, "expected a number, got '%s'%s", v->text, hint);
  }
  return TR_OK;
}

static int as_enum(ld *L, const tr_plan_node *v, const char *const *names, int *out) {
  size_t n = 0;
  while (names[n])
    n++;
  if (v->kind != TR_PNODE_SCALAR)
    return fail(L, v, TR_ERR_INVALID, "expected one of the names below, got %s", kind_name(v));
  for (size_t i = 0; i < n; i++)
    if (strcmp(v->text, names[i]) == 0) {
      *out = (int)i;
      return TR_OK;
    }
  tr_sb sb = TR_SB_INIT;
  for (size_t i = 0; i < n; i++)
    tr_sb_printf(&sb, "%s%s", i ? ", " : "", names[i]);
  const char *near = tr_closest(v->text, names, n);
  int rc;
  if (near)
    rc = fail(L, v, TR_ERR_INVALID, "unknown value '%s' (did you mean '%s'? expected one of: %s)",
              v->text, near, tr_sb_str(&sb));
  else
    rc = fail(L, v, TR_ERR_INVALID, "unknown value '%s' (expected one of: %s)", v->text,
              tr_sb_str(&sb));
  tr_sb_free(&sb);
  return rc;
}

static int as_ident(ld *L, const tr_plan_node *v, const char **out) {
  int rc = as_str(L, v, out);
  if (rc) return rc;
  const char *t = *out;
  int good = isalpha((unsigned char)t[0]) != 0;
  for (const char *p = t; good && *p; p++)
    good = isalnum((unsigned char)*p) || *p == '_' || *p == '-';
  if (!good)
    return fail(L, v, TR_ERR_INVALID,
                "'%s' is not a valid id (letters, digits, '_' and '-', starting with a letter)", t);
  return TR_OK;
}

/* ---- fields ---------------------------------------------------------------------------
 * get_*(L, map, key, required, out[, present]): absent (or null) optional fields leave *out
 * alone; the key is pushed on the path while its value is checked. */

static int get_str(ld *L, const tr_plan_node *map, const char *key, int required,
                   const char **out) {
  const tr_plan_node *v = value_of(map, key);
  if (!v) return required ? missing(L, map, key) : TR_OK;
  size_t old = push_key(L, key);
  int rc = as_str(L, v, out);
  pop(L, old);
  return rc;
}

static int get_ident(ld *L, const tr_plan_node *map, const char *key, int required,
                     const char **out) {
  const tr_plan_node *v = value_of(map, key);
  if (!v) return required ? missing(L, map, key) : TR_OK;
  size_t old = push_key(L, key);
  int rc = as_ident(L, v, out);
  pop(L, old);
  return rc;
}

static int get_num(ld *L, const tr_plan_node *map, const char *key, int required, double *out,
                   int *present) {
  const tr_plan_node *v = value_of(map, key);
  if (present) *present = v != NULL;
  if (!v) return required ? missing(L, map, key) : TR_OK;
  size_t old = push_key(L, key);
  int rc = as_num(L, v, out);
  pop(L, old);
  return rc;
}

static int get_enum(ld *L, const tr_plan_node *map, const char *key, int required,
                    const char *const *names, int *out) {
  const tr_plan_node *v = value_of(map, key);
  if (!v) return required ? missing(L, map, key) : TR_OK;
  size_t old = push_key(L, key);
  int rc = as_enum(L, v, names, out);
  pop(L, old);
  return rc;
}

/* A weight: a number >= 0 (> 0 when `positive`), default 1. */
static int get_weight(ld *L, const tr_plan_node *map, int positive, double *out) {
  *out = 1.0;
  int rc = get_num(L, map, "weight", 0, out, NULL);
  if (rc) return rc;
  if (*out < 0 || (positive && *out <= 0)) {
    size_t old = push_key(L, "weight");
    rc = fail(L, value_of(map, "weight"), TR_ERR_INVALID, "must be %s, got %g",
              positive ? "positive" : "zero or positive", *out);
    pop(L, old);
  }
  return rc;
}

/* Error about the value of `key` (which is present). */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
fail_key(ld *L, const tr_plan_node *map, const char *key, const char *fmt, ...) {
  char msg[TR_ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const tr_plan_node *v = tr_plan_node_get(map, key);
  size_t old = push_key(L, key);
  int rc = fail(L, v ? v : map, TR_ERR_INVALID, "%s", msg);
  pop(L, old);
  return rc;
}

/* A [low, high] pair of numbers. */
static int get_pair(ld *L, const tr_plan_node *map, const char *key, int required, double *lo,
                    double *hi, int *present) {
  const tr_plan_node *v = value_of(map, key);
  if (present) *present = v != NULL;
  if (!v) return required ? missing(L, map, key) : TR_OK;
  size_t old = push_key(L, key);
  int rc = TR_OK;
  if (v->kind != TR_PNODE_SEQ || v->n != 2)
    rc = fail(L, v, TR_ERR_INVALID, "expected a list of two numbers [low, high], got %s",
              v->kind == TR_PNODE_SEQ ? "a list of another length" : kind_name(v));
  if (!rc) rc = as_num(L, v->items[0], lo);
  if (!rc) rc = as_num(L, v->items[1], hi);
  pop(L, old);
  return rc;
}

/* A list field: *seq is the list node or NULL when absent. Enforces min items. */
static int get_seq(ld *L, const tr_plan_node *map, const char *key, size_t min_items,
                   const tr_plan_node **seq) {
  const tr_plan_node *v = value_of(map, key);
  *seq = v;
  if (!v) return min_items ? missing(L, map, key) : TR_OK;
  size_t old = push_key(L, key);
  int rc = expect_seq(L, v);
  if (!rc && v->n < min_items)
    rc = fail(L, v, TR_ERR_INVALID, "needs at least %zu item%s", min_items,
              min_items == 1 ? "" : "s");
  pop(L, old);
  return rc;
}

static void *arena_array(ld *L, size_t n, size_t size) {
  return tr_arena_calloc(L->arena, n ? n : 1, size);
}

static int did_you_mean(ld *L, const tr_plan_node *at, const char *what, const char *name,
                        const char *const *cands, size_t n) {
  const char *near = tr_closest(name, cands, n);
  if (near)
    return fail(L, at, TR_ERR_INVALID, "unknown %s '%s' (did you mean '%s'?)", what, name, near);
  return fail(L, at, TR_ERR_INVALID, "unknown %s '%s'", what, name);
}

/* ---- company ------------------------------------------------------------------------- */

static int load_company(ld *L, const tr_plan_node *n) {
  static const char *const keys[] = {"name", "sector", "currency", "horizon", NULL};
  tr_company *c = &L->plan->company;
  c->currency = "EUR";
  c->horizon = 36;
  int rc = check_map(L, n, keys);
  if (!rc) rc = get_str(L, n, "name", 1, &c->name);
  if (!rc) rc = get_str(L, n, "sector", 0, &c->sector);
  if (!rc) rc = get_str(L, n, "currency", 0, &c->currency);
  if (!rc) {
    const char *cur = c->currency;
    int good = strlen(cur) == 3;
    for (size_t i = 0; good && i < 3; i++)
      good = cur[i] >= 'A' && cur[i] <= 'Z';
    if (!good)
      return fail_key(L, n, "currency", "expected an ISO 4217 code such as EUR or USD, got '%s'",
                      cur);
  }
  if (!rc) rc = get_num(L, n, "horizon", 0, &c->horizon, NULL);
  if (!rc && (c->horizon <= 0 || c->horizon > 1200))
    return fail_key(L, n, "horizon", "must be a number of months in (0, 1200], got %g", c->horizon);
  return rc;
}

/* ---- scorecard ----------------------------------------------------------------------- */

static const char *const persp_names[] = {"financial", "customer", "internal_process",
                                          "learning_growth", NULL};
static const char *const persp_titles[] = {"Financial", "Customer", "Internal process",
                                           "Learning & growth"};

const char *tr_perspective_name(tr_perspective_id id) {
  return (unsigned)id < TR_PERSP_COUNT ? persp_names[id] : "?";
}

static int load_perspectives(ld *L, const tr_plan_node *seq) {
  static const char *const keys[] = {"id", "name", "weight", NULL};
  tr_scorecard *sc = &L->plan->scorecard;
  int seen[TR_PERSP_COUNT] = {0};
  int rc = TR_OK;
  for (size_t i = 0; !rc && i < seq->n; i++) {
    const tr_plan_node *p = seq->items[i];
    size_t old = push_index(L, i);
    int id = 0;
    rc = check_map(L, p, keys);
    if (!rc) rc = get_enum(L, p, "id", 1, persp_names, &id);
    if (!rc && seen[id])
      rc = fail_key(L, p, "id", "perspective '%s' is listed twice", persp_names[id]);
    if (!rc) {
      seen[id] = 1;
      rc = get_str(L, p, "name", 0, &sc->perspectives[id].name);
    }
    if (!rc) rc = get_weight(L, p, 0, &sc->perspectives[id].weight);
    pop(L, old);
  }
  return rc;
}

static int load_objectives(ld *L, const tr_plan_node *seq) {
  static const char *const keys[] = {"id", "name", "perspective", "weight", NULL};
  tr_scorecard *sc = &L->plan->scorecard;
  sc->objectives = arena_array(L, seq->n, sizeof *sc->objectives);
  if (!sc->objectives) return nomem(L);
  int rc = TR_OK;
  for (size_t i = 0; !rc && i < seq->n; i++) {
    const tr_plan_node *p = seq->items[i];
    tr_objective *o = &sc->objectives[i];
    size_t old = push_index(L, i);
    int persp = 0;
    o->pos = p->pos;
    rc = check_map(L, p, keys);
    if (!rc) rc = get_ident(L, p, "id", 1, &o->id);
    for (size_t j = 0; !rc && j < i; j++)
      if (strcmp(sc->objectives[j].id, o->id) == 0)
        rc = fail_key(L, p, "id", "duplicate objective id '%s' (first at line %d)", o->id,
                      sc->objectives[j].pos.line);
    if (!rc) {
      o->name = o->id;
      rc = get_str(L, p, "name", 0, &o->name);
    }
    if (!rc) rc = get_enum(L, p, "perspective", 1, persp_names, &persp);
    o->perspective = (tr_perspective_id)persp;
    if (!rc) rc = get_weight(L, p, 0, &o->weight);
    sc->n_objectives = i + 1;
    pop(L, old);
  }
  return rc;
}

static int load_kpi(ld *L, const tr_plan_node *p, tr_kpi *k) {
  static const char *const keys[] = {"id",       "name",     "unit", "perspective", "objective",
                                     "baseline", "target",   "min",  "max",         "direction",
                                     "band",     "scoring",  "goal", "red_flag",    "weight",
                                     "type",     "variable", NULL};
  static const char *const dirs[] = {"higher_better", "lower_better", "band", NULL};
  static const char *const modes[] = {"performance", "progress", "goal_redflag", NULL};
  static const char *const types[] = {"lagging", "leading", NULL};
  tr_scorecard *sc = &L->plan->scorecard;
  k->pos = p->pos;
  int rc = check_map(L, p, keys);
  if (!rc) rc = get_ident(L, p, "id", 1, &k->id);
  if (rc) return rc;
  k->name = k->id;
  rc = get_str(L, p, "name", 0, &k->name);
  if (!rc) rc = get_str(L, p, "unit", 0, &k->unit);
  const char *obj = NULL;
  if (!rc) rc = get_str(L, p, "objective", 1, &obj);
  if (rc) return rc;
  long oi = -1;
  for (size_t j = 0; j < sc->n_objectives; j++)
    if (strcmp(sc->objectives[j].id, obj) == 0) oi = (long)j;
  if (oi < 0) {
    const char **ids = tr_malloc((sc->n_objectives + 1) * sizeof *ids);
    if (!ids) return nomem(L);
    for (size_t j = 0; j < sc->n_objectives; j++)
      ids[j] = sc->objectives[j].id;
    size_t old = push_key(L, "objective");
    rc = did_you_mean(L, value_of(p, "objective"), "objective", obj, ids, sc->n_objectives);
    pop(L, old);
    tr_free(ids);
    return rc;
  }
  k->objective = (size_t)oi;
  k->perspective = sc->objectives[oi].perspective;
  int persp = -1;
  rc = get_enum(L, p, "perspective", 0, persp_names, &persp);
  if (!rc && persp >= 0 && persp != (int)k->perspective)
    rc = fail_key(L, p, "perspective", "'%s' contradicts objective '%s', which is in '%s'",
                  persp_names[persp], obj, persp_names[k->perspective]);
  if (!rc) rc = get_num(L, p, "baseline", 0, &k->baseline, &k->has_baseline);
  if (!rc) rc = get_num(L, p, "target", 0, &k->target, &k->has_target);
  if (!rc) rc = get_num(L, p, "min", 0, &k->min, &k->has_min);
  if (!rc) rc = get_num(L, p, "max", 0, &k->max, &k->has_max);
  int dir = 0, mode = 0, type = 0;
  if (!rc) rc = get_enum(L, p, "direction", 0, dirs, &dir);
  if (!rc) rc = get_enum(L, p, "scoring", 0, modes, &mode);
  if (!rc) rc = get_enum(L, p, "type", 0, types, &type);
  if (rc) return rc;
  k->direction = (tr_direction)dir;
  k->mode = (tr_score_mode)mode;
  k->leading = type;
  rc = get_weight(L, p, 0, &k->weight);
  if (!rc) rc = get_str(L, p, "variable", 0, &k->variable);
  if (rc) return rc;
  if (k->has_min && k->has_max && !(k->min < k->max))
    return fail_key(L, p, "max", "max (%g) must be above min (%g)", k->max, k->min);
  int has_band = 0;
  rc = get_pair(L, p, "band", k->direction == TR_DIR_BAND, &k->band_low, &k->band_high, &has_band);
  if (rc) return rc;
  if (has_band && k->direction != TR_DIR_BAND)
    return fail_key(L, p, "band", "only a KPI with direction band takes a band");
  if (k->direction == TR_DIR_BAND) {
    if (!(k->band_low <= k->band_high))
      return fail_key(L, p, "band", "low (%g) must not be above high (%g)", k->band_low,
                      k->band_high);
    if (k->mode != TR_SCORE_PERFORMANCE)
      return fail_key(L, p, "direction", "direction band needs scoring performance");
  }
  switch (k->mode) {
  case TR_SCORE_PERFORMANCE:
    if (!k->has_min) return missing(L, p, "min");
    if (!k->has_max) return missing(L, p, "max");
    if (k->direction == TR_DIR_BAND && (k->band_low < k->min || k->band_high > k->max))
      return fail_key(L, p, "band", "the band must lie within [min, max] = [%g, %g]", k->min,
                      k->max);
    break;
  case TR_SCORE_PROGRESS:
    if (!k->has_baseline) return missing(L, p, "baseline");
    if (!k->has_target) return missing(L, p, "target");
    if (k->direction == TR_DIR_HIGHER && !(k->target > k->baseline))
      return fail_key(L, p, "target", "a higher_better KPI needs target (%g) above baseline (%g)",
                      k->target, k->baseline);
    if (k->direction == TR_DIR_LOWER && !(k->target < k->baseline))
      return fail_key(L, p, "target", "a lower_better KPI needs target (%g) below baseline (%g)",
                      k->target, k->baseline);
    break;
  case TR_SCORE_GOAL_REDFLAG:
    rc = get_num(L, p, "goal", 1, &k->goal, NULL);
    if (!rc) rc = get_num(L, p, "red_flag", 1, &k->red_flag, NULL);
    if (rc) return rc;
    if (k->direction == TR_DIR_HIGHER && !(k->goal > k->red_flag))
      return fail_key(L, p, "goal", "a higher_better KPI needs goal (%g) above red_flag (%g)",
                      k->goal, k->red_flag);
    if (k->direction == TR_DIR_LOWER && !(k->goal < k->red_flag))
      return fail_key(L, p, "goal", "a lower_better KPI needs goal (%g) below red_flag (%g)",
                      k->goal, k->red_flag);
    break;
  }
  if (k->mode != TR_SCORE_GOAL_REDFLAG) {
    if (tr_plan_node_get(p, "goal"))
      return fail_key(L, p, "goal", "only scoring goal_redflag takes a goal");
    if (tr_plan_node_get(p, "red_flag"))
      return fail_key(L, p, "red_flag", "only scoring goal_redflag takes a red_flag");
  }
  return TR_OK;
}

/* Resolve a strategy-map end: an objective or KPI id. */
static int resolve_node_id(ld *L, const tr_plan_node *link, const char *key, const char **out) {
  tr_scorecard *sc = &L->plan->scorecard;
  int rc = get_str(L, link, key, 1, out);
  if (rc) return rc;
  for (size_t j = 0; j < sc->n_objectives; j++)
    if (strcmp(sc->objectives[j].id, *out) == 0) return TR_OK;
  for (size_t j = 0; j < sc->n_kpis; j++)
    if (strcmp(sc->kpis[j].id, *out) == 0) return TR_OK;
  size_t n = sc->n_objectives + sc->n_kpis;
  const char **ids = tr_malloc((n + 1) * sizeof *ids);
  if (!ids) return nomem(L);
  for (size_t j = 0; j < sc->n_objectives; j++)
    ids[j] = sc->objectives[j].id;
  for (size_t j = 0; j < sc->n_kpis; j++)
    ids[sc->n_objectives + j] = sc->kpis[j].id;
  size_t old = push_key(L, key);
  rc = did_you_mean(L, value_of(link, key), "objective or KPI", *out, ids, n);
  pop(L, old);
  tr_free(ids);
  return rc;
}

static int load_scorecard(ld *L, const tr_plan_node *n) {
  static const char *const keys[] = {"perspectives", "objectives", "kpis", "links", NULL};
  tr_scorecard *sc = &L->plan->scorecard;
  int rc = check_map(L, n, keys);
  const tr_plan_node *seq;
  if (!rc) rc = get_seq(L, n, "perspectives", 0, &seq);
  if (!rc && seq) {
    size_t old = push_key(L, "perspectives");
    rc = load_perspectives(L, seq);
    pop(L, old);
  }
  if (!rc) rc = get_seq(L, n, "objectives", 0, &seq);
  if (!rc && seq) {
    size_t old = push_key(L, "objectives");
    rc = load_objectives(L, seq);
    pop(L, old);
  }
  if (!rc) rc = get_seq(L, n, "kpis", 0, &seq);
  if (!rc && seq) {
    size_t old = push_key(L, "kpis");
    sc->kpis = arena_array(L, seq->n, sizeof *sc->kpis);
    if (!sc->kpis) rc = nomem(L);
    for (size_t i = 0; !rc && i < seq->n; i++) {
      size_t o2 = push_index(L, i);
      rc = load_kpi(L, seq->items[i], &sc->kpis[i]);
      for (size_t j = 0; !rc && j < i; j++)
        if (strcmp(sc->kpis[j].id, sc->kpis[i].id) == 0)
          rc = fail_key(L, seq->items[i], "id", "duplicate KPI id '%s' (first at line %d)",
                        sc->kpis[i].id, sc->kpis[j].pos.line);
      for (size_t j = 0; !rc && j < sc->n_objectives; j++)
        if (strcmp(sc->objectives[j].id, sc->kpis[i].id) == 0)
          rc = fail_key(L, seq->items[i], "id", "KPI id '%s' is also an objective id",
                        sc->kpis[i].id);
      sc->n_kpis = i + 1;
      pop(L, o2);
    }
    pop(L, old);
  }
  if (!rc) rc = get_seq(L, n, "links", 0, &seq);
  if (!rc && seq) {
    static const char *const lkeys[] = {"cause", "effect", NULL};
    size_t old = push_key(L, "links");
    sc->links = arena_array(L, seq->n, sizeof *sc->links);
    if (!sc->links) rc = nomem(L);
    for (size_t i = 0; !rc && i < seq->n; i++) {
      const tr_plan_node *p = seq->items[i];
      size_t o2 = push_index(L, i);
      sc->links[i].pos = p->pos;
      rc = check_map(L, p, lkeys);
      if (!rc) rc = resolve_node_id(L, p, "cause", &sc->links[i].cause);
      if (!rc) rc = resolve_node_id(L, p, "effect", &sc->links[i].effect);
      sc->n_links = i + 1;
      pop(L, o2);
    }
    if (!rc) {
      tr_sb cyc = TR_SB_INIT;
      size_t at = 0;
      int found = tr_scorecard_find_cycle(sc, &cyc, &at);
      if (found < 0) {
        rc = nomem(L);
      } else if (found) {
        size_t o2 = push_index(L, at);
        rc = fail(L, seq->items[at], TR_ERR_CYCLE, "the strategy map has a cycle: %s",
                  tr_sb_str(&cyc));
        pop(L, o2);
      }
      tr_sb_free(&cyc);
    }
    pop(L, old);
  }
  return rc;
}

/* ---- tensions ------------------------------------------------------------------------ */

static int load_measure(ld *L, const tr_plan_node *p, tr_measure *m) {
  static const char *const keys[] = {"variable", "kpi",       "direction", "target", "worst",
                                     "band",     "tolerance", "weight",    NULL};
  static const char *const dirs[] = {"higher", "lower", "band", NULL};
  m->pos = p->pos;
  int rc = check_map(L, p, keys);
  if (!rc) rc = get_str(L, p, "variable", 0, &m->variable);
  if (!rc) rc = get_str(L, p, "kpi", 0, &m->kpi);
  if (rc) return rc;
  if (!m->variable && !m->kpi)
    return fail(L, p, TR_ERR_INVALID, "a measure names a model 'variable' or a 'kpi'");
  if (m->variable && m->kpi)
    return fail_key(L, p, "kpi", "a measure names either a 'variable' or a 'kpi', not both");
  if (m->kpi && tr_plan_find_kpi(L->plan, m->kpi) < 0) {
    tr_scorecard *sc = &L->plan->scorecard;
    const char **ids = tr_malloc((sc->n_kpis + 1) * sizeof *ids);
    if (!ids) return nomem(L);
    for (size_t j = 0; j < sc->n_kpis; j++)
      ids[j] = sc->kpis[j].id;
    size_t old = push_key(L, "kpi");
    rc = did_you_mean(L, value_of(p, "kpi"), "KPI", m->kpi, ids, sc->n_kpis);
    pop(L, old);
    tr_free(ids);
    return rc;
  }
  /* a KPI measure inherits what its KPI already says: direction, target, band */
  const tr_kpi *kp = m->kpi ? &L->plan->scorecard.kpis[tr_plan_find_kpi(L->plan, m->kpi)] : NULL;
  static const char *const kdirs[] = {"higher_better", "lower_better", "band"};
  int dir = kp ? (int)kp->direction : 0, has_target = 0, has_band = 0, has_tol = 0;
  rc = get_enum(L, p, "direction", 0, dirs, &dir);
  if (rc) return rc;
  if (kp && dir != (int)kp->direction)
    return fail_key(L, p, "direction", "'%s' contradicts KPI '%s', which is %s", dirs[dir], kp->id,
                    kdirs[kp->direction]);
  m->direction = (tr_direction)dir;
  int need_target = m->direction != TR_DIR_BAND && !(kp && kp->has_target);
  rc = get_num(L, p, "target", need_target, &m->target, &has_target);
  if (!rc && !has_target && kp && kp->has_target) {
    m->target = kp->target;
    has_target =
        m->direction != TR_DIR_BAND || (kp->target >= kp->band_low && kp->target <= kp->band_high);
  }
  if (!rc) rc = get_num(L, p, "worst", 0, &m->worst, &m->has_worst);
  if (!rc) rc = get_weight(L, p, 1, &m->weight);
  int band_from_kpi = kp && kp->direction == TR_DIR_BAND;
  if (!rc)
    rc = get_pair(L, p, "band", m->direction == TR_DIR_BAND && !band_from_kpi, &m->band_low,
                  &m->band_high, &has_band);
  if (!rc && !has_band && band_from_kpi) {
    m->band_low = kp->band_low;
    m->band_high = kp->band_high;
  }
  if (!rc) rc = get_num(L, p, "tolerance", 0, &m->tolerance, &has_tol);
  if (rc) return rc;
  if (m->direction != TR_DIR_BAND) {
    if (has_band) return fail_key(L, p, "band", "only direction band takes a band");
    if (has_tol) return fail_key(L, p, "tolerance", "only direction band takes a tolerance");
    if (m->has_worst) {
      if (m->direction == TR_DIR_HIGHER && !(m->worst < m->target))
        return fail_key(L, p, "worst", "must be below target (%g) for direction higher", m->target);
      if (m->direction == TR_DIR_LOWER && !(m->worst > m->target))
        return fail_key(L, p, "worst", "must be above target (%g) for direction lower", m->target);
    } else if (!(m->target > 0)) {
      return fail_key(L, p, "target",
                      "must be positive for ratio scoring (or give 'worst', the value scoring 0)");
    }
    return TR_OK;
  }
  if (m->has_worst) return fail_key(L, p, "worst", "direction band uses tolerance, not worst");
  if (!(m->band_low <= m->band_high))
    return fail_key(L, p, "band", "low (%g) must not be above high (%g)", m->band_low,
                    m->band_high);
  if (!has_tol) m->tolerance = m->band_high - m->band_low;
  if (!(m->tolerance > 0))
    return fail_key(L, p, has_tol ? "tolerance" : "band",
                    "a band of zero width needs a positive 'tolerance'");
  if (!has_target)
    m->target = 0.5 * (m->band_low + m->band_high);
  else if (m->target < m->band_low || m->target > m->band_high)
    return fail_key(L, p, "target", "%g lies outside the band [%g, %g]", m->target, m->band_low,
                    m->band_high);
  return TR_OK;
}

static int load_pole(ld *L, const tr_plan_node *p, tr_pole *pole) {
  static const char *const keys[] = {"name", "measures", NULL};
  pole->pos = p->pos;
  int rc = check_map(L, p, keys);
  if (!rc) rc = get_str(L, p, "name", 1, &pole->name);
  const tr_plan_node *seq = NULL;
  if (!rc) rc = get_seq(L, p, "measures", 1, &seq);
  if (rc) return rc;
  pole->measures = arena_array(L, seq->n, sizeof *pole->measures);
  if (!pole->measures) return nomem(L);
  size_t old = push_key(L, "measures");
  for (size_t i = 0; !rc && i < seq->n; i++) {
    size_t o2 = push_index(L, i);
    rc = load_measure(L, seq->items[i], &pole->measures[i]);
    pole->n_measures = i + 1;
    pop(L, o2);
  }
  pop(L, old);
  return rc;
}

static int load_binding(ld *L, const tr_plan_node *p, tr_lever_binding *b) {
  static const char *const keys[] = {"constant", "scale", "pole", NULL};
  static const char *const poles[] = {"a", "b", NULL};
  b->pos = p->pos;
  b->scale_value = 1.0;
  int rc = check_map(L, p, keys);
  if (!rc) rc = get_str(L, p, "constant", 1, &b->constant);
  int pole = 0;
  if (!rc) rc = get_enum(L, p, "pole", 0, poles, &pole);
  b->pole = pole;
  const tr_plan_node *s = value_of(p, "scale");
  if (!rc && s) {
    double d;
    if (s->kind == TR_PNODE_SCALAR && !s->quoted && parse_number(s->text, &d)) {
      if (!(d > 0)) return fail_key(L, p, "scale", "must be positive, got %g", d);
      b->scale_value = d;
    } else {
      size_t old = push_key(L, "scale");
      rc = as_str(L, s, &b->scale_name);
      pop(L, old);
      if (!rc && !isalpha((unsigned char)b->scale_name[0]) && b->scale_name[0] != '"' &&
          b->scale_name[0] != '_')
        return fail_key(L, p, "scale", "expected a positive number or a model constant, got '%s'",
                        b->scale_name);
    }
  }
  return rc;
}

static int load_lever(ld *L, const tr_plan_node *p, tr_lever *lv) {
  static const char *const keys[] = {"resource", "bind", "range", "current", NULL};
  lv->pos = p->pos;
  lv->min = 0;
  lv->max = 1;
  int rc = check_map(L, p, keys);
  if (!rc) rc = get_str(L, p, "resource", 1, &lv->resource);
  const tr_plan_node *seq = NULL;
  if (!rc) rc = get_seq(L, p, "bind", 1, &seq);
  if (rc) return rc;
  lv->bindings = arena_array(L, seq->n, sizeof *lv->bindings);
  if (!lv->bindings) return nomem(L);
  size_t old = push_key(L, "bind");
  for (size_t i = 0; !rc && i < seq->n; i++) {
    size_t o2 = push_index(L, i);
    rc = load_binding(L, seq->items[i], &lv->bindings[i]);
    lv->n_bindings = i + 1;
    pop(L, o2);
  }
  pop(L, old);
  if (!rc) rc = get_pair(L, p, "range", 0, &lv->min, &lv->max, NULL);
  if (rc) return rc;
  if (!(lv->min < lv->max)) return fail_key(L, p, "range", "min must be below max");
  if (lv->min < 0 || lv->max > 1)
    return fail_key(L, p, "range", "[%g, %g] must lie within [0, 1] (the lever is a share)",
                    lv->min, lv->max);
  rc = get_num(L, p, "current", 1, &lv->current, NULL);
  if (!rc && (lv->current < lv->min || lv->current > lv->max))
    return fail_key(L, p, "current", "%g lies outside the range [%g, %g]", lv->current, lv->min,
                    lv->max);
  return rc;
}

static int load_tension(ld *L, const tr_plan_node *p, tr_tension *t) {
  static const char *const keys[] = {"id", "name", "poles", "lever", "weight", NULL};
  t->pos = p->pos;
  int rc = check_map(L, p, keys);
  if (!rc) rc = get_ident(L, p, "id", 1, &t->id);
  if (rc) return rc;
  t->name = t->id;
  rc = get_str(L, p, "name", 0, &t->name);
  if (!rc) rc = get_weight(L, p, 1, &t->weight);
  const tr_plan_node *seq = NULL;
  if (!rc) rc = get_seq(L, p, "poles", 0, &seq);
  if (!rc && !seq) rc = missing(L, p, "poles");
  if (rc) return rc;
  size_t old = push_key(L, "poles");
  /* the poles present are checked first: their own errors are more specific */
  for (size_t i = 0; !rc && i < 2 && i < seq->n; i++) {
    size_t o2 = push_index(L, i);
    rc = load_pole(L, seq->items[i], &t->poles[i]);
    pop(L, o2);
  }
  if (!rc && seq->n != 2)
    rc = fail(L, seq, TR_ERR_INVALID, "a tension has exactly two poles, got %zu", seq->n);
  pop(L, old);
  if (!rc && strcmp(t->poles[0].name, t->poles[1].name) == 0) {
    old = push_key(L, "poles");
    rc = fail(L, seq->items[1], TR_ERR_INVALID, "both poles are named '%s'", t->poles[0].name);
    pop(L, old);
  }
  const tr_plan_node *lv = value_of(p, "lever");
  if (!rc && !lv) rc = missing(L, p, "lever");
  if (!rc) {
    old = push_key(L, "lever");
    rc = load_lever(L, lv, &t->lever);
    pop(L, old);
  }
  return rc;
}

/* ---- uncertainty --------------------------------------------------------------------- */

static int load_correlation(ld *L, const tr_plan_node *m, tr_uncertainty *u) {
  size_t n = u->n_inputs;
  if (m->kind != TR_PNODE_SEQ || m->n != n)
    return fail(L, m, TR_ERR_INVALID,
                "expected a %zu x %zu matrix (one row per input, in order), got %s", n, n,
                m->kind == TR_PNODE_SEQ ? "another number of rows" : kind_name(m));
  u->correlation = arena_array(L, n * n, sizeof(double));
  if (!u->correlation) return nomem(L);
  int rc = TR_OK;
  for (size_t i = 0; !rc && i < n; i++) {
    const tr_plan_node *row = m->items[i];
    size_t old = push_index(L, i);
    if (row->kind != TR_PNODE_SEQ || row->n != n)
      rc = fail(L, row, TR_ERR_INVALID, "expected a row of %zu numbers", n);
    for (size_t j = 0; !rc && j < n; j++) {
      size_t o2 = push_index(L, j);
      double *r = &u->correlation[i * n + j];
      rc = as_num(L, row->items[j], r);
      if (!rc && (*r < -1 || *r > 1))
        rc = fail(L, row->items[j], TR_ERR_INVALID, "a correlation lies in [-1, 1], got %g", *r);
      if (!rc && i == j && *r != 1)
        rc = fail(L, row->items[j], TR_ERR_INVALID, "the diagonal must be 1, got %g", *r);
      if (!rc && j < i && *r != u->correlation[j * n + i])
        rc = fail(L, row->items[j], TR_ERR_INVALID,
                  "the matrix must be symmetric: %g here, %g at [%zu][%zu]", *r,
                  u->correlation[j * n + i], j, i);
      pop(L, o2);
    }
    pop(L, old);
  }
  /* A matrix that is not positive semi-definite (pairwise correlations that cannot hold
   * together) is not an error here: the Monte Carlo repairs it to the nearest correlation
   * matrix and says so (scenario/sample.h), as the issue asks. */
  return rc;
}

static int load_uncertainty(ld *L, const tr_plan_node *n) {
  static const char *const keys[] = {"inputs", "correlation", NULL};
  static const char *const ikeys[] = {"name", "dist", "params", NULL};
  tr_uncertainty *u = &L->plan->uncertainty;
  int rc = check_map(L, n, keys);
  const tr_plan_node *seq = NULL;
  if (!rc) rc = get_seq(L, n, "inputs", 0, &seq);
  if (!rc && seq) {
    size_t old = push_key(L, "inputs");
    u->inputs = arena_array(L, seq->n, sizeof *u->inputs);
    if (!u->inputs) rc = nomem(L);
    for (size_t i = 0; !rc && i < seq->n; i++) {
      const tr_plan_node *p = seq->items[i];
      tr_uncertain_input *in = &u->inputs[i];
      size_t o2 = push_index(L, i);
      in->pos = p->pos;
      rc = check_map(L, p, ikeys);
      if (!rc) rc = get_str(L, p, "name", 1, &in->name);
      for (size_t j = 0; !rc && j < i; j++)
        if (strcmp(u->inputs[j].name, in->name) == 0)
          rc = fail_key(L, p, "name", "'%s' is already uncertain (line %d)", in->name,
                        u->inputs[j].pos.line);
      if (!rc) rc = get_ident(L, p, "dist", 1, &in->dist);
      const tr_plan_node *pm = value_of(p, "params");
      if (!rc && !pm) rc = missing(L, p, "params");
      if (!rc) {
        size_t o3 = push_key(L, "params");
        if (pm->kind != TR_PNODE_MAP)
          rc = fail(L, pm, TR_ERR_INVALID, "expected a mapping of parameter: number, got %s",
                    kind_name(pm));
        if (!rc) {
          in->param_names = arena_array(L, pm->n, sizeof *in->param_names);
          in->params = arena_array(L, pm->n, sizeof *in->params);
          if (!in->param_names || !in->params) rc = nomem(L);
        }
        for (size_t j = 0; !rc && j < pm->n; j++) {
          in->param_names[j] = pm->items[2 * j]->text;
          size_t o4 = push_key(L, pm->items[2 * j]->text);
          rc = as_num(L, pm->items[2 * j + 1], &in->params[j]);
          pop(L, o4);
          in->n_params = j + 1;
        }
        pop(L, o3);
      }
      u->n_inputs = i + 1;
      pop(L, o2);
    }
    pop(L, old);
  }
  const tr_plan_node *c = value_of(n, "correlation");
  if (!rc && c) {
    size_t old = push_key(L, "correlation");
    rc = load_correlation(L, c, u);
    pop(L, old);
  }
  return rc;
}

/* ---- scenarios ----------------------------------------------------------------------- */

static int load_shock(ld *L, const tr_plan_node *p, tr_shock *s) {
  static const char *const keys[] = {"variable",  "kind", "start",  "end", "duration",
                                     "magnitude", "mode", "points", NULL};
  static const char *const kinds[] = {"step", "ramp", "pulse", "path", NULL};
  static const char *const smodes[] = {"multiply", "add", NULL};
  s->pos = p->pos;
  int kind = 0, mode = 0, has_dur = 0;
  double dur = 0;
  int rc = check_map(L, p, keys);
  if (!rc) rc = get_str(L, p, "variable", 1, &s->variable);
  if (!rc) rc = get_enum(L, p, "kind", 1, kinds, &kind);
  if (!rc) rc = get_enum(L, p, "mode", 0, smodes, &mode);
  if (rc) return rc;
  s->kind = (tr_shock_kind)kind;
  s->additive = mode;
  if (s->kind == TR_SHOCK_PATH) {
    for (const char *const *k = keys + 2; *k && strcmp(*k, "mode"); k++)
      if (tr_plan_node_get(p, *k))
        return fail_key(L, p, *k, "a path shock takes 'points', not '%s'", *k);
    const tr_plan_node *seq = NULL;
    rc = get_seq(L, p, "points", 1, &seq);
    if (rc) return rc;
    s->path_t = arena_array(L, seq->n, sizeof(double));
    s->path_v = arena_array(L, seq->n, sizeof(double));
    if (!s->path_t || !s->path_v) return nomem(L);
    size_t old = push_key(L, "points");
    for (size_t i = 0; !rc && i < seq->n; i++) {
      const tr_plan_node *pt = seq->items[i];
      size_t o2 = push_index(L, i);
      if (pt->kind != TR_PNODE_SEQ || pt->n != 2)
        rc = fail(L, pt, TR_ERR_INVALID, "expected a [time, magnitude] pair");
      if (!rc) rc = as_num(L, pt->items[0], &s->path_t[i]);
      if (!rc) rc = as_num(L, pt->items[1], &s->path_v[i]);
      if (!rc && i > 0 && !(s->path_t[i] > s->path_t[i - 1]))
        rc = fail(L, pt, TR_ERR_INVALID, "times must increase: %g follows %g", s->path_t[i],
                  s->path_t[i - 1]);
      s->n_path = i + 1;
      pop(L, o2);
    }
    pop(L, old);
    if (!rc) s->start = s->path_t[0];
    return rc;
  }
  if (tr_plan_node_get(p, "points"))
    return fail_key(L, p, "points", "only a path shock takes points");
  rc = get_num(L, p, "start", 1, &s->start, NULL);
  if (!rc) rc = get_num(L, p, "magnitude", 1, &s->magnitude, NULL);
  if (!rc) rc = get_num(L, p, "end", 0, &s->end, &s->has_end);
  if (!rc) rc = get_num(L, p, "duration", 0, &dur, &has_dur);
  if (rc) return rc;
  if (s->has_end && has_dur)
    return fail_key(L, p, "duration", "give 'end' or 'duration', not both");
  if (has_dur) {
    if (!(dur > 0)) return fail_key(L, p, "duration", "must be positive, got %g", dur);
    s->has_end = 1;
    s->end = s->start + dur;
  } else if (s->has_end && !(s->end > s->start)) {
    return fail_key(L, p, "end", "end (%g) must be after start (%g)", s->end, s->start);
  }
  if ((s->kind == TR_SHOCK_RAMP || s->kind == TR_SHOCK_PULSE) && !s->has_end)
    return fail(L, p, TR_ERR_INVALID, "a %s shock needs 'end' or 'duration'", kinds[kind]);
  if (!s->additive && s->magnitude < 0)
    return fail_key(L, p, "magnitude", "a multiplier cannot be negative (%g); use mode: add",
                    s->magnitude);
  return TR_OK;
}

static int load_overrides(ld *L, const tr_plan_node *o, tr_scenario *sc) {
  sc->overrides = arena_array(L, o->n, sizeof *sc->overrides);
  if (!sc->overrides) return nomem(L);
  int rc = TR_OK;
  if (o->kind == TR_PNODE_MAP) {
    for (size_t i = 0; !rc && i < o->n; i++) {
      tr_override *ov = &sc->overrides[i];
      ov->name = o->items[2 * i]->text;
      ov->pos = o->items[2 * i]->pos;
      size_t old = push_key(L, ov->name);
      rc = as_num(L, o->items[2 * i + 1], &ov->value);
      pop(L, old);
      sc->n_overrides = i + 1;
    }
    return rc;
  }
  if (o->kind != TR_PNODE_SEQ)
    return fail(L, o, TR_ERR_INVALID, "expected a mapping NAME: VALUE or a list of NAME=VALUE");
  for (size_t i = 0; !rc && i < o->n; i++) {
    const tr_plan_node *it = o->items[i];
    tr_override *ov = &sc->overrides[i];
    size_t old = push_index(L, i);
    const char *eq = it->kind == TR_PNODE_SCALAR ? strchr(it->text, '=') : NULL;
    if (!eq || eq == it->text) {
      rc = fail(L, it, TR_ERR_INVALID, "expected NAME=VALUE");
    } else {
      size_t nl = (size_t)(eq - it->text);
      while (nl > 0 && it->text[nl - 1] == ' ')
        nl--;
      const char *vs = eq + 1;
      while (*vs == ' ')
        vs++;
      ov->name = tr_arena_strndup(L->arena, it->text, nl);
      ov->pos = it->pos;
      if (!ov->name)
        rc = nomem(L);
      else if (!parse_number(vs, &ov->value))
        rc = fail(L, it, TR_ERR_INVALID, "expected a number after '=', got '%s'", vs);
    }
    sc->n_overrides = i + 1;
    pop(L, old);
  }
  return rc;
}

static int load_scenarios(ld *L, const tr_plan_node *seq) {
  static const char *const keys[] = {"name", "description", "overrides", "shocks", NULL};
  tr_plan *plan = L->plan;
  plan->scenarios = arena_array(L, seq->n, sizeof *plan->scenarios);
  if (!plan->scenarios) return nomem(L);
  int rc = TR_OK;
  for (size_t i = 0; !rc && i < seq->n; i++) {
    const tr_plan_node *p = seq->items[i];
    tr_scenario *sc = &plan->scenarios[i];
    size_t old = push_index(L, i);
    sc->pos = p->pos;
    rc = check_map(L, p, keys);
    if (!rc) rc = get_str(L, p, "name", 1, &sc->name);
    for (size_t j = 0; !rc && j < i; j++)
      if (strcmp(plan->scenarios[j].name, sc->name) == 0)
        rc = fail_key(L, p, "name", "duplicate scenario '%s' (first at line %d)", sc->name,
                      plan->scenarios[j].pos.line);
    if (!rc) rc = get_str(L, p, "description", 0, &sc->description);
    const tr_plan_node *o = value_of(p, "overrides");
    if (!rc && o) {
      size_t o2 = push_key(L, "overrides");
      rc = load_overrides(L, o, sc);
      pop(L, o2);
    }
    const tr_plan_node *sh = NULL;
    if (!rc) rc = get_seq(L, p, "shocks", 0, &sh);
    if (!rc && sh) {
      size_t o2 = push_key(L, "shocks");
      sc->shocks = arena_array(L, sh->n, sizeof *sc->shocks);
      if (!sc->shocks) rc = nomem(L);
      for (size_t j = 0; !rc && j < sh->n; j++) {
        size_t o3 = push_index(L, j);
        rc = load_shock(L, sh->items[j], &sc->shocks[j]);
        sc->n_shocks = j + 1;
        pop(L, o3);
      }
      pop(L, o2);
    }
    plan->n_scenarios = i + 1;
    pop(L, old);
  }
  return rc;
}

/* ---- reserved sections: shape only --------------------------------------------------- */

static int check_unit_number(ld *L, const tr_plan_node *p, const char *key) {
  double d;
  int present = 0;
  int rc = get_num(L, p, key, 0, &d, &present);
  if (!rc && present && (d < 0 || d > 1)) rc = fail_key(L, p, key, "must lie in [0, 1], got %g", d);
  return rc;
}

static int check_stakeholders(ld *L, const tr_plan_node *seq) {
  static const char *const keys[] = {"name",       "role",    "power", "interest",
                                     "legitimacy", "urgency", "notes", NULL};
  int rc = expect_seq(L, seq);
  for (size_t i = 0; !rc && i < seq->n; i++) {
    const tr_plan_node *p = seq->items[i];
    const char *s;
    size_t old = push_index(L, i);
    rc = check_map(L, p, keys);
    if (!rc) rc = get_str(L, p, "name", 1, &s);
    if (!rc) rc = get_str(L, p, "role", 0, &s);
    if (!rc) rc = get_str(L, p, "notes", 0, &s);
    for (size_t k = 2; !rc && k <= 5; k++)
      rc = check_unit_number(L, p, keys[k]);
    pop(L, old);
  }
  return rc;
}

static int check_swot(ld *L, const tr_plan_node *n) {
  static const char *const keys[] = {"strengths", "weaknesses", "opportunities", "threats", NULL};
  int rc = check_map(L, n, keys);
  for (size_t k = 0; !rc && keys[k]; k++) {
    const tr_plan_node *seq = NULL;
    rc = get_seq(L, n, keys[k], 0, &seq);
    for (size_t i = 0; !rc && seq && i < seq->n; i++) {
      size_t old = push_key(L, keys[k]);
      size_t o2 = push_index(L, i);
      const char *s;
      rc = as_str(L, seq->items[i], &s);
      pop(L, o2);
      pop(L, old);
    }
  }
  return rc;
}

static int check_roadmap(ld *L, const tr_plan_node *seq) {
  static const char *const keys[] = {"id",   "name",       "start",   "duration",
                                     "cost", "depends_on", "tension", NULL};
  int rc = expect_seq(L, seq);
  const char **ids = rc ? NULL : tr_calloc(seq->n + 1, sizeof *ids);
  if (!rc && !ids) return nomem(L);
  for (size_t i = 0; !rc && i < seq->n; i++) {
    const tr_plan_node *p = seq->items[i];
    size_t old = push_index(L, i);
    double d = 0;
    int present = 0;
    rc = check_map(L, p, keys);
    if (!rc) rc = get_ident(L, p, "id", 1, &ids[i]);
    for (size_t j = 0; !rc && j < i; j++)
      if (strcmp(ids[j], ids[i]) == 0)
        rc = fail_key(L, p, "id", "duplicate roadmap id '%s'", ids[i]);
    const char *s;
    if (!rc) rc = get_str(L, p, "name", 0, &s);
    if (!rc) rc = get_num(L, p, "start", 0, &d, &present);
    if (!rc && present && d < 0) rc = fail_key(L, p, "start", "must not be negative");
    if (!rc) rc = get_num(L, p, "duration", 0, &d, &present);
    if (!rc && present && !(d > 0)) rc = fail_key(L, p, "duration", "must be positive");
    if (!rc) rc = get_num(L, p, "cost", 0, &d, &present);
    if (!rc && present && d < 0) rc = fail_key(L, p, "cost", "must not be negative");
    const char *tid = NULL;
    if (!rc) rc = get_str(L, p, "tension", 0, &tid);
    if (!rc && tid && tr_plan_find_tension(L->plan, tid) < 0)
      rc = fail_key(L, p, "tension", "unknown tension '%s'", tid);
    pop(L, old);
  }
  /* depends_on may point forward, so it is resolved once every id is known */
  for (size_t i = 0; !rc && i < seq->n; i++) {
    const tr_plan_node *dep = NULL;
    size_t old = push_index(L, i);
    rc = get_seq(L, seq->items[i], "depends_on", 0, &dep);
    for (size_t j = 0; !rc && dep && j < dep->n; j++) {
      size_t o2 = push_key(L, "depends_on");
      size_t o3 = push_index(L, j);
      const char *d = "";
      rc = as_str(L, dep->items[j], &d);
      size_t k = 0;
      while (!rc && k < seq->n && strcmp(ids[k], d) != 0)
        k++;
      if (!rc && k == seq->n) rc = did_you_mean(L, dep->items[j], "roadmap item", d, ids, seq->n);
      if (!rc && k == i)
        rc = fail(L, dep->items[j], TR_ERR_INVALID, "an item cannot depend on itself");
      pop(L, o3);
      pop(L, o2);
    }
    pop(L, old);
  }
  tr_free(ids);
  return rc;
}

/* ---- top level ----------------------------------------------------------------------- */

static int load_root(ld *L, const tr_plan_node *root) {
  static const char *const keys[] = {"version",     "company",   "tensions",     "scorecard",
                                     "uncertainty", "scenarios", "stakeholders", "swot",
                                     "roadmap",     NULL};
  tr_plan *plan = L->plan;
  tr_scorecard *sc = &plan->scorecard;
  for (int i = 0; i < TR_PERSP_COUNT; i++) {
    sc->perspectives[i].id = (tr_perspective_id)i;
    sc->perspectives[i].name = persp_titles[i];
    sc->perspectives[i].weight = 1.0;
  }
  int rc = check_map(L, root, keys);
  if (rc) return rc;
  double version = 1;
  rc = get_num(L, root, "version", 0, &version, NULL);
  if (!rc && version != 1)
    return fail_key(L, root, "version", "this tightrope reads plan version 1, not %g", version);
  const tr_plan_node *n = value_of(root, "company");
  if (!rc && !n) rc = missing(L, root, "company");
  size_t old;
#define SECTION(key, call)                                                                         \
  if (!rc && (n = value_of(root, key)) != NULL) {                                                  \
    old = push_key(L, key);                                                                        \
    rc = call;                                                                                     \
    pop(L, old);                                                                                   \
  }
  SECTION("company", load_company(L, n))
  /* the scorecard first: tension measures refer to its KPIs */
  SECTION("scorecard", load_scorecard(L, n))
  const tr_plan_node *seq = NULL;
  if (!rc) rc = get_seq(L, root, "tensions", 0, &seq);
  if (!rc && seq) {
    old = push_key(L, "tensions");
    plan->tensions = arena_array(L, seq->n, sizeof *plan->tensions);
    if (!plan->tensions) rc = nomem(L);
    for (size_t i = 0; !rc && i < seq->n; i++) {
      size_t o2 = push_index(L, i);
      rc = load_tension(L, seq->items[i], &plan->tensions[i]);
      for (size_t j = 0; !rc && j < i; j++)
        if (strcmp(plan->tensions[j].id, plan->tensions[i].id) == 0)
          rc = fail_key(L, seq->items[i], "id", "duplicate tension id '%s' (first at line %d)",
                        plan->tensions[i].id, plan->tensions[j].pos.line);
      plan->n_tensions = i + 1;
      pop(L, o2);
    }
    pop(L, old);
  }
  SECTION("uncertainty", load_uncertainty(L, n))
  if (!rc) rc = get_seq(L, root, "scenarios", 0, &seq);
  if (!rc && seq) {
    old = push_key(L, "scenarios");
    rc = load_scenarios(L, seq);
    pop(L, old);
  }
  SECTION("stakeholders", check_stakeholders(L, n))
  if (!rc) plan->stakeholders = n;
  SECTION("swot", check_swot(L, n))
  if (!rc) plan->swot = n;
  SECTION("roadmap", check_roadmap(L, n))
  if (!rc) plan->roadmap = n;
#undef SECTION
  return rc;
}

int tr_plan_load_buffer(const char *buf, size_t len, const char *filename, tr_plan **out,
                        tr_error *err) {
  *out = NULL;
  if (!filename) filename = "plan.yaml";
  tr_plan *plan = tr_calloc(1, sizeof *plan);
  tr_plan_data *d = tr_calloc(1, sizeof *d);
  if (!plan || !d) {
    tr_free(plan);
    tr_free(d);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  tr_arena_init(&d->arena);
  plan->data = d;
  ld L;
  memset(&L, 0, sizeof L);
  L.plan = plan;
  L.arena = &d->arena;
  L.err = err;
  L.file = plan->file = tr_arena_strdup(&d->arena, filename);
  int rc = L.file ? TR_OK : nomem(&L);
  tr_plan_node *root = NULL;
  if (!rc) rc = tr_plan_yaml_parse(buf, len, L.file, &d->arena, &root, err);
  if (!rc) rc = load_root(&L, root);
  if (rc) {
    tr_plan_free(plan);
    return rc;
  }
  *out = plan;
  return TR_OK;
}

int tr_plan_load_file(const char *path, tr_plan **out, tr_error *err) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return tr_error_set(err, TR_ERR_IO, path, 0, 0, "cannot open: %s", strerror(errno));
  char *buf = NULL;
  size_t len = 0, cap = 0;
  int rc = TR_OK;
  for (;;) {
    if (len == cap) {
      if (cap > TR_PLAN_MAX_BYTES) {
        rc = tr_error_set(err, TR_ERR_LIMIT, path, 0, 0, "file larger than 16 MiB");
        break;
      }
      size_t ncap = cap ? cap * 2 : 65536;
      char *nb = tr_realloc(buf, ncap + 1);
      if (!nb) {
        rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
        break;
      }
      buf = nb;
      cap = ncap;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      if (ferror(f)) rc = tr_error_set(err, TR_ERR_IO, path, 0, 0, "read error");
      break;
    }
  }
  fclose(f);
  if (!rc) rc = tr_plan_load_buffer(buf ? buf : "", len, path, out, err);
  tr_free(buf);
  return rc;
}

void tr_plan_free(tr_plan *plan) {
  if (!plan) return;
  if (plan->data) tr_arena_release(&plan->data->arena);
  tr_free(plan->data);
  tr_free(plan);
}

long tr_plan_find_tension(const tr_plan *plan, const char *id) {
  for (size_t i = 0; i < plan->n_tensions; i++)
    if (strcmp(plan->tensions[i].id, id) == 0) return (long)i;
  return -1;
}

long tr_plan_find_kpi(const tr_plan *plan, const char *id) {
  for (size_t i = 0; i < plan->scorecard.n_kpis; i++)
    if (strcmp(plan->scorecard.kpis[i].id, id) == 0) return (long)i;
  return -1;
}

long tr_plan_find_objective(const tr_plan *plan, const char *id) {
  for (size_t i = 0; i < plan->scorecard.n_objectives; i++)
    if (strcmp(plan->scorecard.objectives[i].id, id) == 0) return (long)i;
  return -1;
}

/* ---- names against a model ----------------------------------------------------------- */

typedef struct name_check {
  const tr_plan *plan;
  const char *const *names;
  size_t n;
  char **canon; /* canonical model names */
  tr_error *err;
} name_check;

/* `path` is the key path of the reference ("tensions[0].lever.bind[1].constant"). */
static int check_one(name_check *c, const char *name, tr_plan_pos pos, const char *path,
                     const char *what) {
  char buf[256];
  tr_canon_ident(name, strlen(name), buf, sizeof buf);
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->canon[i], buf) == 0) return TR_OK;
  const char *near = tr_closest(name, c->names, c->n);
  if (near)
    return tr_error_set(c->err, TR_ERR_UNKNOWN_NAME, c->plan->file, pos.line, pos.col,
                        "%s: %s '%s' is not in the model (did you mean '%s'?)", path, what, name,
                        near);
  return tr_error_set(c->err, TR_ERR_UNKNOWN_NAME, c->plan->file, pos.line, pos.col,
                      "%s: %s '%s' is not in the model", path, what, name);
}

int tr_plan_check_names(const tr_plan *plan, const char *const *names, size_t n, tr_error *err) {
  name_check c = {plan, names, n, NULL, err};
  c.canon = tr_calloc(n ? n : 1, sizeof *c.canon);
  if (!c.canon) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  int rc = TR_OK;
  char path[160];
  for (size_t i = 0; !rc && i < n; i++) {
    size_t need = tr_canon_ident(names[i], strlen(names[i]), NULL, 0) + 1;
    c.canon[i] = tr_malloc(need);
    if (!c.canon[i])
      rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    else
      tr_canon_ident(names[i], strlen(names[i]), c.canon[i], need);
  }
  for (size_t t = 0; !rc && t < plan->n_tensions; t++) {
    const tr_tension *tn = &plan->tensions[t];
    for (size_t b = 0; !rc && b < tn->lever.n_bindings; b++) {
      const tr_lever_binding *lb = &tn->lever.bindings[b];
      snprintf(path, sizeof path, "tensions[%zu].lever.bind[%zu].constant", t, b);
      rc = check_one(&c, lb->constant, lb->pos, path, "lever constant");
      snprintf(path, sizeof path, "tensions[%zu].lever.bind[%zu].scale", t, b);
      if (!rc && lb->scale_name) rc = check_one(&c, lb->scale_name, lb->pos, path, "lever scale");
    }
    for (int p = 0; !rc && p < 2; p++)
      for (size_t m = 0; !rc && m < tn->poles[p].n_measures; m++) {
        const tr_measure *me = &tn->poles[p].measures[m];
        snprintf(path, sizeof path, "tensions[%zu].poles[%d].measures[%zu].variable", t, p, m);
        if (me->variable) rc = check_one(&c, me->variable, me->pos, path, "measure variable");
      }
  }
  for (size_t k = 0; !rc && k < plan->scorecard.n_kpis; k++) {
    const tr_kpi *kp = &plan->scorecard.kpis[k];
    snprintf(path, sizeof path, "scorecard.kpis[%zu].variable", k);
    if (kp->variable) rc = check_one(&c, kp->variable, kp->pos, path, "KPI variable");
  }
  for (size_t i = 0; !rc && i < plan->uncertainty.n_inputs; i++) {
    snprintf(path, sizeof path, "uncertainty.inputs[%zu].name", i);
    rc = check_one(&c, plan->uncertainty.inputs[i].name, plan->uncertainty.inputs[i].pos, path,
                   "uncertain input");
  }
  for (size_t s = 0; !rc && s < plan->n_scenarios; s++) {
    const tr_scenario *sc = &plan->scenarios[s];
    for (size_t i = 0; !rc && i < sc->n_overrides; i++) {
      snprintf(path, sizeof path, "scenarios[%zu].overrides", s);
      rc = check_one(&c, sc->overrides[i].name, sc->overrides[i].pos, path, "override");
    }
    for (size_t i = 0; !rc && i < sc->n_shocks; i++) {
      snprintf(path, sizeof path, "scenarios[%zu].shocks[%zu].variable", s, i);
      rc = check_one(&c, sc->shocks[i].variable, sc->shocks[i].pos, path, "shocked variable");
    }
  }
  for (size_t i = 0; i < n; i++)
    tr_free(c.canon[i]);
  tr_free(c.canon);
  return rc;
}
