/*
 * Plan file internals (the public API is include/tightrope/strategy.h). plan_yaml.c turns
 * YAML text into a tr_plan_node tree in an arena, enforcing the loader limits; plan.c walks
 * that tree against the schema of docs/plan.md.
 */
#ifndef TR_STRATEGY_PLAN_H
#define TR_STRATEGY_PLAN_H

#include "base/arena.h"
#include "tightrope/base.h"
#include "tightrope/strategy.h"

#include <stddef.h>

/* The private part of a tr_plan. */
struct tr_plan_data {
  tr_arena arena; /* owns the plan, its strings and its node tree */
};

/* Parse YAML text (a single document) into a node tree allocated in `arena`. An empty
 * document gives an empty mapping. Rejects aliases, more than one document, nesting deeper
 * than TR_PLAN_MAX_DEPTH, more than TR_PLAN_MAX_ITEMS entries in one collection and
 * duplicate mapping keys. Errors: TR_ERR_PARSE, TR_ERR_INVALID, TR_ERR_LIMIT, TR_ERR_NOMEM,
 * with `filename`:line:col in err. */
int tr_plan_yaml_parse(const char *buf, size_t len, const char *filename, tr_arena *arena,
                       tr_plan_node **root, tr_error *err);

/* The value node for `key` in a mapping node, or NULL. */
const tr_plan_node *tr_plan_node_get(const tr_plan_node *map, const char *key);

#endif
