/*
 * YAML text -> tr_plan_node tree (see plan.h). Built from libyaml's event API rather than its
 * document API so that the limits (depth, items per collection) are enforced while parsing,
 * before a hostile file can make us build a huge tree, and so that aliases — the road to
 * "billion laughs" expansion — are refused outright: a plan never needs them.
 */
#include "strategy/plan.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

typedef struct frame {
  tr_plan_node *node; /* the collection being filled */
  size_t cap;         /* capacity of node->items */
  size_t used;        /* slots filled (a mapping fills two per entry: key, value) */
} frame;

typedef struct builder {
  tr_arena *arena;
  const char *file;
  tr_error *err;
  frame stack[TR_PLAN_MAX_DEPTH + 1];
  int depth; /* frames in use */
  tr_plan_node *root;
} builder;

static int fail_at(builder *b, int code, yaml_mark_t m, const char *msg, const char *arg) {
  if (arg) return tr_error_set(b->err, code, b->file, (int)m.line + 1, (int)m.column + 1, msg, arg);
  return tr_error_set(b->err, code, b->file, (int)m.line + 1, (int)m.column + 1, "%s", msg);
}

/* Append `child` to the collection on top of the stack (or make it the root). */
static int attach(builder *b, tr_plan_node *child, yaml_mark_t m) {
  if (b->depth == 0) {
    if (b->root)
      return fail_at(b, TR_ERR_INVALID, m, "a plan file holds a single YAML document", NULL);
    b->root = child;
    return TR_OK;
  }
  frame *f = &b->stack[b->depth - 1];
  tr_plan_node *p = f->node;
  size_t used = f->used;
  if (p->kind == TR_PNODE_MAP && used % 2 == 0) {
    /* `child` is a key */
    if (child->kind != TR_PNODE_SCALAR)
      return fail_at(b, TR_ERR_INVALID, m, "mapping keys must be plain strings", NULL);
    if (p->n >= TR_PLAN_MAX_ITEMS)
      return fail_at(b, TR_ERR_LIMIT, m, "more than %s entries in one mapping", "10000");
    for (size_t i = 0; i < p->n; i++) {
      if (strcmp(p->items[2 * i]->text, child->text) == 0) {
        char first[32];
        snprintf(first, sizeof first, "%d", p->items[2 * i]->pos.line);
        tr_error_set(b->err, TR_ERR_INVALID, b->file, (int)m.line + 1, (int)m.column + 1,
                     "duplicate key '%s' (first at line %s)", child->text, first);
        return TR_ERR_INVALID;
      }
    }
  } else if (p->kind == TR_PNODE_SEQ && p->n >= TR_PLAN_MAX_ITEMS) {
    return fail_at(b, TR_ERR_LIMIT, m, "more than %s items in one list", "10000");
  }
  if (used + 1 > f->cap) {
    size_t ncap = f->cap ? f->cap * 2 : 8;
    tr_plan_node **items = tr_arena_calloc(b->arena, ncap, sizeof *items);
    if (!items) return tr_error_set(b->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    if (used) memcpy(items, p->items, used * sizeof *items);
    p->items = items;
    f->cap = ncap;
  }
  p->items[used] = child;
  f->used = used + 1;
  p->n = p->kind == TR_PNODE_SEQ ? f->used : f->used / 2;
  return TR_OK;
}

static tr_plan_node *new_node(builder *b, tr_pnode_kind kind, yaml_mark_t m) {
  tr_plan_node *n = tr_arena_alloc(b->arena, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->pos.line = (int)m.line + 1;
  n->pos.col = (int)m.column + 1;
  return n;
}

static int on_event(builder *b, const yaml_event_t *ev) {
  yaml_mark_t m = ev->start_mark;
  switch (ev->type) {
  case YAML_ALIAS_EVENT:
    return fail_at(b, TR_ERR_INVALID, m, "YAML aliases (*%s) are not allowed in a plan file",
                   (const char *)ev->data.alias.anchor);
  case YAML_SCALAR_EVENT: {
    tr_plan_node *n = new_node(b, TR_PNODE_SCALAR, m);
    if (!n) return tr_error_set(b->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    n->text =
        tr_arena_strndup(b->arena, (const char *)ev->data.scalar.value, ev->data.scalar.length);
    if (!n->text) return tr_error_set(b->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    if (strlen(n->text) != ev->data.scalar.length)
      return fail_at(b, TR_ERR_INVALID, m, "NUL character in a string", NULL);
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    return attach(b, n, m);
  }
  case YAML_SEQUENCE_START_EVENT:
  case YAML_MAPPING_START_EVENT: {
    if (b->depth >= TR_PLAN_MAX_DEPTH)
      return fail_at(b, TR_ERR_LIMIT, m, "nesting deeper than %s levels", "64");
    tr_plan_node *n =
        new_node(b, ev->type == YAML_SEQUENCE_START_EVENT ? TR_PNODE_SEQ : TR_PNODE_MAP, m);
    if (!n) return tr_error_set(b->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    int rc = attach(b, n, m);
    if (rc) return rc;
    b->stack[b->depth].node = n;
    b->stack[b->depth].cap = 0;
    b->stack[b->depth].used = 0;
    b->depth++;
    return TR_OK;
  }
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    if (b->depth > 0) b->depth--;
    return TR_OK;
  default:
    return TR_OK;
  }
}

int tr_plan_yaml_parse(const char *buf, size_t len, const char *filename, tr_arena *arena,
                       tr_plan_node **root, tr_error *err) {
  builder b;
  memset(&b, 0, sizeof b);
  b.arena = arena;
  b.file = filename;
  b.err = err;
  *root = NULL;
  if (len > TR_PLAN_MAX_BYTES)
    return tr_error_set(err, TR_ERR_LIMIT, filename, 0, 0, "file larger than 16 MiB");
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser))
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
  int rc = TR_OK;
  int docs = 0;
  for (;;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev)) {
      if (parser.error == YAML_MEMORY_ERROR) {
        rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
      } else {
        yaml_mark_t m = parser.problem_mark;
        rc = tr_error_set(err, TR_ERR_PARSE, filename, (int)m.line + 1, (int)m.column + 1,
                          "YAML syntax error: %s%s%s", parser.problem ? parser.problem : "?",
                          parser.context ? " " : "", parser.context ? parser.context : "");
      }
      break;
    }
    int done = ev.type == YAML_STREAM_END_EVENT;
    if (ev.type == YAML_DOCUMENT_START_EVENT && ++docs > 1)
      rc = fail_at(&b, TR_ERR_INVALID, ev.start_mark, "a plan file holds a single YAML document",
                   NULL);
    else
      rc = on_event(&b, &ev);
    yaml_event_delete(&ev);
    if (rc || done) break;
  }
  yaml_parser_delete(&parser);
  if (rc) return rc;
  if (!b.root) {
    yaml_mark_t m = {0, 0, 0};
    b.root = new_node(&b, TR_PNODE_MAP, m);
    if (!b.root) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    b.root->pos.line = 1;
    b.root->pos.col = 1;
  }
  *root = b.root;
  return TR_OK;
}

const tr_plan_node *tr_plan_node_get(const tr_plan_node *map, const char *key) {
  if (!map || map->kind != TR_PNODE_MAP) return NULL;
  for (size_t i = 0; i < map->n; i++)
    if (strcmp(map->items[2 * i]->text, key) == 0) return map->items[2 * i + 1];
  return NULL;
}
