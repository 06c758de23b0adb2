/*
 * Flattener: arrays. Subscripted references resolve to one element variable: a subscript
 * is an element name ("boston", or "city.boston"), a 1-based position (2), a dimension name
 * (the element of that dimension currently being instantiated, or ranged over by an array
 * function), or '*' (ranged over by the enclosing array function). Array functions (SUM,
 * MEAN, MIN, MAX, SIZE, STDDEV) become calls over the element references; SIZE a number.
 */
#include "engine/flatten_impl.h"

#include "base/text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const tr_dim *fl_find_dim(const tr_xmile *x, const char *ident) {
  if (!ident) return NULL;
  for (size_t i = 0; i < x->n_dims; i++)
    if (x->dims[i].ident && strcmp(x->dims[i].ident, ident) == 0) return &x->dims[i];
  return NULL;
}

const fl_bind *fl_binding(const fl_site *s, const tr_dim *dim, int reduce_only) {
  for (size_t i = s->n_binds; i-- > 0;)
    if (s->binds[i].dim == dim && (!reduce_only || s->binds[i].reduce)) return &s->binds[i];
  return NULL;
}

static int elem_of(const tr_dim *dim, const char *ident, size_t *out) {
  for (size_t j = 0; j < dim->size; j++)
    if (strcmp(dim->elems[j], ident) == 0) {
      *out = j;
      return 1;
    }
  /* "city.boston": an element qualified by its dimension */
  size_t ld = strlen(dim->ident);
  if (strncmp(ident, dim->ident, ld) == 0 && ident[ld] == '.')
    return elem_of(dim, ident + ld + 1, out);
  return 0;
}

/* A constant subscript: an element whose name is that number, else a 1-based position. */
static int number_subscript(fl_ctx *c, fl_site *s, const tr_ast *at, const tr_dim *dim, double v,
                            size_t *out) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.17g", v);
  if (elem_of(dim, buf, out)) return TR_OK;
  if (v != floor(v) || v < 1 || v > (double)dim->size)
    return fl_error_at(c, s, at, TR_ERR_DIMENSION,
                       "subscript %g is outside dimension '%s' (1 to %zu)", v, dim->name,
                       dim->size);
  *out = (size_t)v - 1;
  return TR_OK;
}

static int bad_element(fl_ctx *c, fl_site *s, const tr_ast *at, const tr_dim *dim, const char *raw,
                       const char *ident) {
  const char *best = tr_closest(ident, dim->elems, dim->size);
  const char *best_name = NULL;
  for (size_t j = 0; best && j < dim->size; j++)
    if (dim->elems[j] == best) best_name = dim->elem_names[j];
  if (best_name)
    return fl_error_at(c, s, at, TR_ERR_DIMENSION,
                       "'%s' is not an element of dimension '%s' (did you mean '%s'?)", raw,
                       dim->name, best_name);
  return fl_error_at(c, s, at, TR_ERR_DIMENSION, "'%s' is not an element of dimension '%s'", raw,
                     dim->name);
}

/* Element of d->dims[k] that subscript `a` selects at this site, or, for a subscript that
 * varies during the run, its instantiated expression in *dyn (a NUM or NAME). */
static int subscript(fl_ctx *c, fl_site *s, const fl_decl *d, size_t k, const tr_ast *a,
                     size_t *out, tr_ast **dyn) {
  const tr_dim *dim = d->dims[k];
  *dyn = NULL;
  if (a->kind == TR_AST_WILDCARD) {
    const fl_bind *b = fl_binding(s, dim, 1);
    if (!b)
      return fl_error_at(c, s, a, TR_ERR_DIMENSION,
                         "'*' in '%s' is only allowed inside an array function (SUM, MEAN, ...)",
                         d->v->name);
    *out = b->elem;
    return TR_OK;
  }
  if (a->kind == TR_AST_NUM) return number_subscript(c, s, a, dim, a->num, out);
  if (a->kind == TR_AST_NAME) {
    if (elem_of(dim, a->name, out)) return TR_OK;
    const tr_dim *named = fl_find_dim(c->x, a->name);
    if (named) {
      const fl_bind *b = fl_binding(s, named, 0);
      if (!b)
        return fl_error_at(c, s, a, TR_ERR_DIMENSION,
                           "dimension '%s' has no current element here (use it in an equation "
                           "arrayed over '%s', or inside an array function)",
                           named->name, named->name);
      if (named != dim && named->size != dim->size)
        return fl_error_at(c, s, a, TR_ERR_DIMENSION,
                           "dimension '%s' (%zu elements) does not match dimension '%s' (%zu "
                           "elements) of '%s'",
                           named->name, named->size, dim->name, dim->size, d->v->name);
      *out = b->elem; /* same dimension, or one of the same size mapped by position */
      return TR_OK;
    }
    if (s->frame || !fl_lookup(c, s->scope, a->name))
      return bad_element(c, s, a, dim, a->raw ? a->raw : a->name, a->name);
  }
  /* an expression: a constant selects one element, anything else is chosen at run time */
  tr_ast *e;
  int rc = fl_inst(c, s, a, &e);
  if (rc) return rc;
  double v;
  rc = fl_const_value(c, e, &v);
  if (rc < 0) return rc;
  if (rc == 1) return number_subscript(c, s, a, dim, v, out);
  const char *base = tr_arena_printf(c->a, "#index#%u", ++c->counter);
  if (!base) return fl_nomem(c);
  return fl_operand(c, base, "subscript", e, dyn);
}

/* The reference for subscripts k.. of d: one element, or, where a subscript varies during
 * the run, IF sub = 1 THEN a[1] ELSE IF sub = 2 ... ELSE NaN (an index out of range). */
static int build_ref(fl_ctx *c, const fl_decl *d, size_t k, size_t off, const size_t *elems,
                     tr_ast *const *dyn, int pos, tr_ast **out) {
  if (k == d->n_dims) {
    *out = fl_ref(c, d->first + (int)off, pos);
    return *out ? TR_OK : fl_nomem(c);
  }
  size_t size = d->dims[k]->size;
  if (!dyn[k]) return build_ref(c, d, k + 1, off * size + elems[k], elems, dyn, pos, out);
  tr_ast *tail = fl_num(c, NAN, pos);
  if (!tail) return fl_nomem(c);
  for (size_t j = size; j-- > 0;) {
    tr_ast *branch, *n = fl_node(c, TR_AST_IF, pos);
    int rc = build_ref(c, d, k + 1, off * size + j, elems, dyn, pos, &branch);
    if (rc) return rc;
    tr_ast *cond = fl_binary(c, TR_OP_EQ, fl_copy(c, dyn[k]), fl_num(c, (double)(j + 1), pos));
    if (!n || !cond || !(n->args = tr_arena_calloc(c->a, 3, sizeof *n->args))) return fl_nomem(c);
    n->nargs = 3;
    n->args[0] = cond;
    n->args[1] = branch;
    n->args[2] = tail;
    tail = n;
  }
  *out = tail;
  return TR_OK;
}

int fl_inst_index(fl_ctx *c, fl_site *s, const tr_ast *n, tr_ast **out) {
  fl_decl *d = s->frame ? NULL : fl_lookup(c, s->scope, n->name);
  if (!d) {
    if (s->frame)
      return fl_error_at(c, s, n, TR_ERR_UNSUPPORTED, "arrays are not supported in macros");
    return fl_unknown_name(c, s, n, "variable", n->name, n->raw);
  }
  if (d->n_dims == 0)
    return fl_error_at(c, s, n, TR_ERR_DIMENSION, "'%s' is not an array", d->v->name);
  if ((size_t)n->nargs != d->n_dims)
    return fl_error_at(c, s, n, TR_ERR_DIMENSION, "'%s' has %zu dimension%s, %d subscript%s given",
                       d->v->name, d->n_dims, d->n_dims == 1 ? "" : "s", n->nargs,
                       n->nargs == 1 ? "" : "s");
  if (d->v->kind == TR_VK_GF)
    return fl_error_at(c, s, n, TR_ERR_INVALID, "graphical function '%s' used as a value",
                       d->v->name);
  size_t elems[FL_MAX_BINDS];
  tr_ast *dyn[FL_MAX_BINDS];
  size_t cells = 1;
  for (size_t k = 0; k < d->n_dims; k++) {
    int rc = subscript(c, s, d, k, n->args[k], &elems[k], &dyn[k]);
    if (rc) return rc;
    if (dyn[k]) cells *= d->dims[k]->size;
    if (cells > 100000)
      return fl_error_at(c, s, n, TR_ERR_LIMIT, "too many elements selected at run time in '%s'",
                         d->v->name);
  }
  return build_ref(c, d, 0, 0, elems, dyn, n->pos, out);
}

/* ---- array functions -------------------------------------------------------------------- */

typedef struct dimset {
  const tr_dim *d[FL_MAX_BINDS];
  size_t n;
} dimset;

static void add_dim(dimset *ds, const tr_dim *d) {
  for (size_t i = 0; i < ds->n; i++)
    if (ds->d[i] == d) return;
  if (ds->n < FL_MAX_BINDS) ds->d[ds->n++] = d;
}

/* The dimensions an argument of an array function ranges over: those of its wildcards, of
 * dimension names with no current element, and (for a one-argument call) every dimension of
 * an array named without subscripts. Nested array functions range on their own. */
static void free_dims(fl_ctx *c, const fl_site *s, const tr_ast *n, int whole, dimset *ds) {
  if (n->kind == TR_AST_CALL && n->builtin >= 0 && n->builtin < TR_FN_COUNT &&
      (tr_builtins[n->builtin].flags & TR_FNF_REDUCE))
    return;
  if (s->frame) return;
  if (n->kind == TR_AST_NAME) {
    fl_decl *d = fl_lookup(c, s->scope, n->name);
    for (size_t k = 0; d && k < d->n_dims; k++)
      if (whole || !fl_binding(s, d->dims[k], 0)) add_dim(ds, d->dims[k]);
    return;
  }
  if (n->kind == TR_AST_INDEX) {
    fl_decl *d = fl_lookup(c, s->scope, n->name);
    for (int k = 0; k < n->nargs; k++) {
      const tr_ast *a = n->args[k];
      size_t e;
      if (d && (size_t)k < d->n_dims && a->kind == TR_AST_WILDCARD) {
        add_dim(ds, d->dims[k]);
      } else if (a->kind == TR_AST_NAME) {
        if (d && (size_t)k < d->n_dims && elem_of(d->dims[k], a->name, &e)) continue;
        const tr_dim *named = fl_find_dim(c->x, a->name);
        if (named && !fl_binding(s, named, 0)) add_dim(ds, named);
      } else {
        free_dims(c, s, a, whole, ds);
      }
    }
    return;
  }
  for (int i = 0; i < n->nargs; i++)
    free_dims(c, s, n->args[i], whole, ds);
}

static size_t dimset_count(const dimset *ds) {
  size_t n = 1;
  for (size_t i = 0; i < ds->n; i++)
    n *= ds->d[i]->size;
  return n;
}

int fl_inst_reduce(fl_ctx *c, fl_site *s, const tr_ast *n, tr_ast **out, int *handled) {
  dimset sets[64];
  if (n->nargs > 64) {
    *handled = 0;
    return TR_OK;
  }
  size_t total = 0;
  int any = 0;
  for (int i = 0; i < n->nargs; i++) {
    sets[i].n = 0;
    free_dims(c, s, n->args[i], n->nargs == 1, &sets[i]);
    any |= sets[i].n > 0;
    size_t k = dimset_count(&sets[i]);
    if (k > FL_MAX_NODES || total > FL_MAX_NODES)
      return fl_error_at(c, s, n, TR_ERR_LIMIT, "array function over too many elements");
    total += k;
  }
  *handled = any || n->builtin == TR_FN_SIZE;
  if (!*handled) return TR_OK;
  if (n->builtin == TR_FN_SIZE) {
    *out = fl_num(c, (double)total, n->pos);
    return *out ? TR_OK : fl_nomem(c);
  }
  if (total > (size_t)FL_MAX_NODES)
    return fl_error_at(c, s, n, TR_ERR_LIMIT, "array function over too many elements");
  tr_ast *call = fl_call(c, n->builtin, (int)total, n->pos);
  if (!call) return fl_nomem(c);
  size_t at = 0;
  for (int i = 0; i < n->nargs; i++) {
    const dimset *ds = &sets[i];
    if (s->n_binds + ds->n > FL_MAX_BINDS)
      return fl_error_at(c, s, n, TR_ERR_LIMIT, "array functions nested too deeply");
    size_t base = s->n_binds;
    size_t cnt = dimset_count(ds);
    for (size_t j = 0; j < cnt; j++) {
      size_t r = j;
      for (size_t k = ds->n; k-- > 0;) {
        s->binds[base + k].dim = ds->d[k];
        s->binds[base + k].elem = r % ds->d[k]->size;
        s->binds[base + k].reduce = 1;
        r /= ds->d[k]->size;
      }
      s->n_binds = base + ds->n;
      int rc = fl_inst(c, s, n->args[i], &call->args[at++]);
      s->n_binds = base;
      if (rc) return rc;
    }
  }
  *out = call;
  return TR_OK;
}

/* ---- element subscripts and array literals ---------------------------------------------- */

int fl_element_index(fl_ctx *c, const fl_decl *d, const tr_element *e, size_t *out) {
  const char *sub = e->subscript ? e->subscript : "";
  size_t pieces = 1;
  for (const char *t = sub; *t; t++)
    pieces += *t == ',';
  if (pieces != d->n_dims)
    return tr_error_set(c->err, TR_ERR_DIMENSION, c->file, e->eqn_pos.line, e->eqn_pos.col,
                        "<element subscript=\"%s\"> of '%s' needs %zu subscript%s", sub, d->v->name,
                        d->n_dims, d->n_dims == 1 ? "" : "s");
  const char *p = sub;
  size_t off = 0;
  char small[256];
  for (size_t k = 0; k < d->n_dims; k++) {
    const char *q = strchr(p, ',');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    size_t need = tr_canon_ident(p, len, small, sizeof small);
    char *id = small;
    if (need + 1 > sizeof small) {
      id = tr_arena_alloc(c->a, need + 1);
      if (!id) return fl_nomem(c);
      tr_canon_ident(p, len, id, need + 1);
    }
    const tr_dim *dim = d->dims[k];
    size_t j;
    char *end;
    double num = strtod(id, &end);
    if (!elem_of(dim, id, &j)) {
      if (!(*id && *end == '\0' && num == floor(num) && num >= 1 && num <= (double)dim->size))
        return tr_error_set(c->err, TR_ERR_DIMENSION, c->file, e->eqn_pos.line, e->eqn_pos.col,
                            "<element subscript=\"%s\">: '%.*s' is not an element of dimension "
                            "'%s' of '%s'",
                            sub, (int)len, p, dim->name, d->v->name);
      j = (size_t)num - 1;
    }
    off = off * dim->size + j;
    if (q) p = q + 1;
  }
  *out = off;
  return TR_OK;
}

static int blank_span(const char *t, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (t[i] != ' ' && t[i] != '\t' && t[i] != '\n' && t[i] != '\r') return 0;
  return 1;
}

int fl_split_literal(fl_ctx *c, const char *text, size_t **offs, size_t **lens, size_t *n_out) {
  size_t cap = 1;
  for (const char *t = text; *t; t++)
    cap += *t == ',' || *t == ';';
  size_t *o = tr_arena_calloc(c->a, cap, sizeof *o);
  size_t *l = tr_arena_calloc(c->a, cap, sizeof *l);
  if (!o || !l) return fl_nomem(c);
  size_t n = 0, start = 0, i = 0;
  int depth = 0, bad = 0;
  for (;; i++) {
    char ch = text[i];
    if (ch == '"') { /* quoted name */
      for (i++; text[i] && text[i] != '"'; i++)
        if (text[i] == '\\' && text[i + 1]) i++;
      if (!text[i]) {
        bad = 1;
        break;
      }
      continue;
    }
    if (ch == '{') { /* comment */
      while (text[i] && text[i] != '}')
        i++;
      if (!text[i]) {
        bad = 1;
        break;
      }
      continue;
    }
    if (ch == '(' || ch == '[') depth++;
    if ((ch == ')' || ch == ']') && depth > 0) depth--;
    if (ch == '\0' || (depth == 0 && (ch == ',' || ch == ';'))) {
      if (!blank_span(text + start, i - start)) {
        o[n] = start;
        l[n] = i - start;
        n++;
      }
      start = i + 1;
      if (ch == '\0') break;
    }
  }
  if (bad || n == 0) { /* unterminated quote or comment, or nothing: one piece */
    o[0] = 0;
    l[0] = strlen(text);
    n = 1;
  }
  *offs = o;
  *lens = l;
  *n_out = n;
  return TR_OK;
}
