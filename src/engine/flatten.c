/*
 * The flattener: model IR (xmile/model.h) -> flat scalar model (engine/flat.h).
 * This file holds the driver, equation instantiation and name resolution; modules are in
 * flatten_module.c, arrays in flatten_array.c, delays, smooths and macros in
 * flatten_expand.c. See flatten_impl.h for the two passes.
 */
#include "engine/flatten_impl.h"

#include "base/text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- small helpers -------------------------------------------------------------------- */

int fl_nomem(fl_ctx *c) {
  return tr_error_set(c->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory while flattening");
}

int fl_error_at(fl_ctx *c, const fl_site *s, const tr_ast *node, int code, const char *fmt, ...) {
  int line = 0, col = 0;
  if (s) {
    line = s->pos.line;
    col = s->pos.col;
    if (node && s->text && line > 0)
      tr_expr_position(s->text, node->pos, s->pos.line, s->pos.col, &line, &col);
  }
  va_list ap;
  va_start(ap, fmt);
  tr_error_setv(c->err, code, c->file, line, col, fmt, ap);
  va_end(ap);
  return code;
}

tr_ast *fl_node(fl_ctx *c, tr_ast_kind kind, int pos) {
  tr_ast *n = tr_arena_alloc(c->a, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->pos = pos;
  n->builtin = -1;
  n->var = -1;
  return n;
}

tr_ast *fl_num(fl_ctx *c, double v, int pos) {
  tr_ast *n = fl_node(c, TR_AST_NUM, pos);
  if (n) n->num = v;
  return n;
}

tr_ast *fl_ref(fl_ctx *c, int var, int pos) {
  tr_ast *n = fl_node(c, TR_AST_NAME, pos);
  if (!n) return NULL;
  n->var = var;
  n->name = c->vars[var].ident;
  n->raw = c->vars[var].name;
  return n;
}

tr_ast *fl_binary(fl_ctx *c, int op, tr_ast *l, tr_ast *r) {
  if (!l || !r) return NULL;
  tr_ast *n = fl_node(c, TR_AST_BINARY, l->pos);
  if (!n) return NULL;
  n->args = tr_arena_calloc(c->a, 2, sizeof *n->args);
  if (!n->args) return NULL;
  n->op = op;
  n->args[0] = l;
  n->args[1] = r;
  n->nargs = 2;
  return n;
}

tr_ast *fl_call(fl_ctx *c, int builtin, int nargs, int pos) {
  tr_ast *n = fl_node(c, TR_AST_CALL, pos);
  if (!n) return NULL;
  n->builtin = builtin;
  n->name = tr_builtins[builtin].name;
  n->raw = n->name;
  n->nargs = nargs;
  if (nargs > 0) {
    n->args = tr_arena_calloc(c->a, (size_t)nargs, sizeof *n->args);
    if (!n->args) return NULL;
  }
  return n;
}

tr_ast *fl_copy(fl_ctx *c, const tr_ast *n) {
  tr_ast *m = tr_arena_alloc(c->a, sizeof *m);
  if (!m) return NULL;
  *m = *n;
  if (n->nargs > 0) {
    m->args = tr_arena_calloc(c->a, (size_t)n->nargs, sizeof *m->args);
    if (!m->args) return NULL;
    for (int i = 0; i < n->nargs; i++) {
      m->args[i] = fl_copy(c, n->args[i]);
      if (!m->args[i]) return NULL;
    }
  }
  return m;
}

int fl_add_var(fl_ctx *c, const tr_fvar *v, fl_decl *owner, int *out) {
  if (c->n_vars == c->cap_vars) {
    size_t cap = c->cap_vars ? c->cap_vars * 2 : 64;
    tr_fvar *nv = tr_realloc(c->vars, cap * sizeof *nv);
    if (!nv) return fl_nomem(c);
    c->vars = nv;
    fl_decl **no = tr_realloc(c->owner, cap * sizeof *no);
    if (!no) return fl_nomem(c);
    c->owner = no;
    c->cap_vars = cap;
  }
  if (c->n_vars >= INT32_MAX)
    return tr_error_set(c->err, TR_ERR_LIMIT, c->file, 0, 0, "too many variables");
  c->vars[c->n_vars] = *v;
  c->owner[c->n_vars] = owner;
  *out = (int)c->n_vars++;
  return TR_OK;
}

/* Append one index to an arena array of ints (flows lists are short). */
static int push_index(fl_ctx *c, int **arr, size_t *n, int value) {
  int *na = tr_arena_calloc(c->a, *n + 1, sizeof *na);
  if (!na) return fl_nomem(c);
  if (*n) memcpy(na, *arr, *n * sizeof *na);
  na[*n] = value;
  *arr = na;
  (*n)++;
  return TR_OK;
}

int fl_add_flow(fl_ctx *c, int stock, int flow, int outflow) {
  tr_fvar *s = &c->vars[stock];
  return outflow ? push_index(c, &s->outflows, &s->n_outflows, flow)
                 : push_index(c, &s->inflows, &s->n_inflows, flow);
}

int fl_hidden(fl_ctx *c, tr_fvar_kind kind, const char *base, const char *part, tr_ast *eqn,
              int *out) {
  tr_fvar fv;
  memset(&fv, 0, sizeof fv);
  fv.kind = kind;
  fv.hidden = 1;
  fv.ident = tr_arena_printf(c->a, "%s.%s", base, part);
  fv.name = fv.ident;
  fv.eqn = eqn;
  if (!fv.ident) return fl_nomem(c);
  return fl_add_var(c, &fv, NULL, out);
}

int fl_operand(fl_ctx *c, const char *base, const char *part, tr_ast *e, tr_ast **out) {
  if (e->kind == TR_AST_NUM || e->kind == TR_AST_NAME) {
    *out = e;
    return TR_OK;
  }
  int idx;
  int rc = fl_hidden(c, TR_FV_AUX, base, part, e, &idx);
  if (rc) return rc;
  *out = fl_ref(c, idx, e->pos);
  return *out ? TR_OK : fl_nomem(c);
}

int fl_parse(fl_ctx *c, const char *text, size_t len, tr_srcpos pos, tr_ast **out) {
  if (!text) {
    text = "";
    len = 0;
  }
  return tr_expr_parse(c->a, text, len, c->file, pos.line > 0 ? pos.line : 1,
                       pos.col > 0 ? pos.col : 1, out, c->err);
}

/* ---- name resolution -------------------------------------------------------------------- */

fl_decl *fl_lookup(fl_ctx *c, const fl_scope *scope, const char *ident) {
  if (!ident) return NULL;
  if (ident[0] == '.') ident++; /* ".area" in a <connect from>: the enclosing model's area */
  size_t lp = strlen(scope->prefix), li = strlen(ident);
  char small[256];
  char *key = lp + li + 1 <= sizeof small ? small : tr_malloc(lp + li + 1);
  if (!key) return NULL;
  memcpy(key, scope->prefix, lp);
  memcpy(key + lp, ident, li + 1);
  fl_decl *d = tr_map_get(&c->by_decl, key, NULL);
  if (key != small) tr_free(key);
  return d;
}

/* The unknown-name error, with the closest name of the same scope as a suggestion. */
int fl_unknown_name(fl_ctx *c, const fl_site *s, const tr_ast *node, const char *what,
                    const char *ident, const char *raw) {
  const char **cands = tr_malloc((c->n_decls + 64) * sizeof *cands);
  const char **names = tr_malloc((c->n_decls + 64) * sizeof *names);
  size_t n = 0;
  if (cands && names) {
    if (s->frame) {
      const tr_macro *m = s->frame->m;
      for (size_t i = 0; i < m->n_params && n < 64; i++, n++)
        cands[n] = names[n] = m->params[i];
      for (size_t i = 0; i < m->n_vars && n < 64; i++, n++) {
        cands[n] = m->vars[i].ident;
        names[n] = m->vars[i].name;
      }
    } else {
      for (size_t i = 0; i < c->n_decls; i++)
        if (c->decls[i]->scope == s->scope) {
          cands[n] = c->decls[i]->v->ident;
          names[n] = c->decls[i]->v->name;
          n++;
        }
    }
  }
  const char *best = n ? tr_closest(ident, cands, n) : NULL;
  const char *best_name = NULL;
  for (size_t i = 0; best && i < n; i++)
    if (cands[i] == best) best_name = names[i];
  tr_free(cands);
  tr_free(names);
  if (best_name)
    return fl_error_at(c, s, node, TR_ERR_UNKNOWN_NAME, "unknown %s '%s' (did you mean '%s'?)",
                       what, raw ? raw : ident, best_name);
  return fl_error_at(c, s, node, TR_ERR_UNKNOWN_NAME, "unknown %s '%s'", what, raw ? raw : ident);
}

static int macro_var(const tr_macro *m, const char *ident) {
  for (size_t i = 0; i < m->n_vars; i++)
    if (strcmp(m->vars[i].ident, ident) == 0) return (int)i;
  return -1;
}

int fl_resolve(fl_ctx *c, fl_site *s, const char *ident, const char *raw, const tr_ast *node,
               int *out) {
  if (s->frame) {
    int i = macro_var(s->frame->m, ident);
    if (i < 0) return fl_unknown_name(c, s, node, "variable", ident, raw);
    *out = s->frame->first + i;
    return TR_OK;
  }
  fl_decl *d = fl_lookup(c, s->scope, ident);
  if (!d) return fl_unknown_name(c, s, node, "variable", ident, raw);
  size_t off = 0;
  for (size_t k = 0; k < d->n_dims; k++) {
    const fl_bind *b = fl_binding(s, d->dims[k], 0);
    if (!b)
      return fl_error_at(c, s, node, TR_ERR_DIMENSION,
                         "'%s' is an array over '%s': give a subscript here", d->v->name,
                         d->dims[k]->name);
    off = off * d->dims[k]->size + b->elem;
  }
  *out = d->first + (int)off;
  return TR_OK;
}

/* ---- instantiation ---------------------------------------------------------------------- */

static const tr_macro *find_macro(const tr_xmile *x, const char *ident) {
  for (size_t i = 0; i < x->n_macros; i++)
    if (x->macros[i].ident && strcmp(x->macros[i].ident, ident) == 0) return &x->macros[i];
  return NULL;
}

static int inst_name(fl_ctx *c, fl_site *s, const tr_ast *n, tr_ast **out) {
  if (s->frame) {
    const tr_macro *m = s->frame->m;
    for (size_t i = 0; i < m->n_params; i++)
      if (strcmp(m->params[i], n->name) == 0) {
        *out = fl_copy(c, s->frame->args[i]);
        return *out ? TR_OK : fl_nomem(c);
      }
  }
  int known =
      s->frame ? macro_var(s->frame->m, n->name) >= 0 : fl_lookup(c, s->scope, n->name) != NULL;
  if (!known && !s->frame) {
    /* a dimension name used as a value: the current element's position (Stella) */
    const tr_dim *dim = fl_find_dim(c->x, n->name);
    const fl_bind *b = dim ? fl_binding(s, dim, 0) : NULL;
    if (b) {
      *out = fl_num(c, (double)(b->elem + 1), n->pos);
      return *out ? TR_OK : fl_nomem(c);
    }
  }
  if (!known) {
    /* TIME, DT, PI ... written without parentheses */
    const tr_builtin *b = tr_builtin_find(n->name);
    if (b && b->min_args == 0) {
      *out = fl_call(c, (int)b->id, 0, n->pos);
      return *out ? TR_OK : fl_nomem(c);
    }
  }
  int idx;
  int rc = fl_resolve(c, s, n->name, n->raw, n, &idx);
  if (rc) return rc;
  if (c->vars[idx].kind == TR_FV_GF)
    return fl_error_at(c, s, n, TR_ERR_INVALID,
                       "graphical function '%s' used as a value (call it: %s(x))", n->raw, n->raw);
  *out = fl_ref(c, idx, n->pos);
  return *out ? TR_OK : fl_nomem(c);
}

static int inst_args(fl_ctx *c, fl_site *s, const tr_ast *n, tr_ast *m) {
  if (n->nargs == 0) return TR_OK;
  m->args = tr_arena_calloc(c->a, (size_t)n->nargs, sizeof *m->args);
  if (!m->args) return fl_nomem(c);
  m->nargs = n->nargs;
  for (int i = 0; i < n->nargs; i++) {
    int rc = fl_inst(c, s, n->args[i], &m->args[i]);
    if (rc) return rc;
  }
  return TR_OK;
}

/* A call of a graphical function by name: LOOKUP(NAME gf, x). */
static int inst_gf_call(fl_ctx *c, fl_site *s, const tr_ast *n, int gf, tr_ast **out) {
  if (n->nargs != 1)
    return fl_error_at(c, s, n, TR_ERR_ARITY, "graphical function '%s' takes 1 argument, %d given",
                       n->raw, n->nargs);
  tr_ast *call = fl_call(c, TR_FN_LOOKUP, 2, n->pos);
  if (!call || !(call->args[0] = fl_ref(c, gf, n->pos))) return fl_nomem(c);
  int rc = fl_inst(c, s, n->args[0], &call->args[1]);
  if (rc) return rc;
  *out = call;
  return TR_OK;
}

static int unknown_function(fl_ctx *c, fl_site *s, const tr_ast *n) {
  size_t cap = TR_FN_COUNT + c->x->n_macros;
  const char **cands = tr_malloc(cap * sizeof *cands);
  size_t k = 0;
  if (cands) {
    for (int i = 0; i < TR_FN_COUNT; i++)
      cands[k++] = tr_builtins[i].name;
    for (size_t i = 0; i < c->x->n_macros; i++)
      cands[k++] = c->x->macros[i].name;
  }
  const char *best = cands ? tr_closest(n->raw ? n->raw : n->name, cands, k) : NULL;
  int rc;
  if (best)
    rc = fl_error_at(c, s, n, TR_ERR_UNKNOWN_NAME, "unknown function '%s' (did you mean '%s'?)",
                     n->raw ? n->raw : n->name, best);
  else
    rc = fl_error_at(c, s, n, TR_ERR_UNKNOWN_NAME, "unknown function '%s'",
                     n->raw ? n->raw : n->name);
  tr_free(cands);
  return rc;
}

static int inst_call(fl_ctx *c, fl_site *s, const tr_ast *n, tr_ast **out) {
  const tr_builtin *b =
      n->builtin >= 0 && n->builtin < TR_FN_COUNT ? &tr_builtins[n->builtin] : NULL;
  if (!b) {
    /* a graphical function (standalone, or an aux with an inline gf) called by name */
    fl_decl *d = s->frame ? NULL : fl_lookup(c, s->scope, n->name);
    if (d) {
      if (!d->v->gf)
        return fl_error_at(c, s, n, TR_ERR_INVALID,
                           "'%s' is a variable, not a function or graphical function", n->raw);
      int gf;
      int rc = fl_resolve(c, s, n->name, n->raw, n, &gf);
      if (rc) return rc;
      return inst_gf_call(c, s, n, gf, out);
    }
    const tr_macro *m = find_macro(c->x, n->name);
    if (m) {
      if ((size_t)n->nargs != m->n_params)
        return fl_error_at(c, s, n, TR_ERR_ARITY, "macro '%s' takes %zu argument%s, %d given",
                           m->name, m->n_params, m->n_params == 1 ? "" : "s", n->nargs);
      tr_ast **args = NULL;
      if (n->nargs > 0 && !(args = tr_arena_calloc(c->a, (size_t)n->nargs, sizeof *args)))
        return fl_nomem(c);
      for (int i = 0; i < n->nargs; i++) {
        int rc = fl_inst(c, s, n->args[i], &args[i]);
        if (rc) return rc;
      }
      return fl_inline_macro(c, s, m, n, args, out);
    }
    b = tr_builtin_find(n->name);
    if (!b) return unknown_function(c, s, n);
  }
  if (b->max_args == 0 && n->nargs == 0 && !s->frame && fl_lookup(c, s->scope, n->name)) {
    /* a model variable named like a builtin constant ("time", "dt") takes precedence */
    tr_ast name = *n;
    name.kind = TR_AST_NAME;
    return inst_name(c, s, &name, out);
  }
  if (n->nargs < b->min_args || (b->max_args >= 0 && n->nargs > b->max_args))
    return fl_error_at(c, s, n, TR_ERR_ARITY, "%s takes %d to %d arguments, %d given", b->name,
                       b->min_args, b->max_args, n->nargs);
  if (b->flags & TR_FNF_REDUCE) {
    int handled = 0;
    int rc = fl_inst_reduce(c, s, n, out, &handled);
    if (rc || handled) return rc;
  }
  if (b->id == TR_FN_LOOKUP) {
    const tr_ast *g = n->args[0];
    if (g->kind != TR_AST_NAME)
      return fl_error_at(c, s, g, TR_ERR_INVALID,
                         "the first argument of LOOKUP must name a graphical function");
    int gf;
    int rc = fl_resolve(c, s, g->name, g->raw, g, &gf);
    if (rc) return rc;
    if (!c->vars[gf].gf)
      return fl_error_at(c, s, g, TR_ERR_INVALID, "'%s' has no graphical function", g->raw);
    tr_ast one = *n;
    one.args = n->args + 1;
    one.nargs = 1;
    return inst_gf_call(c, s, &one, gf, out);
  }
  tr_ast *m = fl_call(c, (int)b->id, 0, n->pos);
  if (!m) return fl_nomem(c);
  int rc = inst_args(c, s, n, m);
  if (rc) return rc;
  if (b->flags & TR_FNF_EXPAND) return fl_expand(c, s, m, m->args, out);
  *out = m;
  return TR_OK;
}

int fl_inst(fl_ctx *c, fl_site *s, const tr_ast *n, tr_ast **out) {
  if (++c->nodes > FL_MAX_NODES)
    return fl_error_at(c, s, n, TR_ERR_LIMIT, "model too large once expanded (over %d nodes)",
                       FL_MAX_NODES);
  switch (n->kind) {
  case TR_AST_NUM:
    *out = fl_num(c, n->num, n->pos);
    return *out ? TR_OK : fl_nomem(c);
  case TR_AST_NAME:
    return inst_name(c, s, n, out);
  case TR_AST_UNARY:
  case TR_AST_BINARY:
  case TR_AST_IF: {
    tr_ast *m = fl_node(c, n->kind, n->pos);
    if (!m) return fl_nomem(c);
    m->op = n->op;
    int rc = inst_args(c, s, n, m);
    if (rc) return rc;
    *out = m;
    return TR_OK;
  }
  case TR_AST_CALL:
    return inst_call(c, s, n, out);
  case TR_AST_INDEX:
    return fl_inst_index(c, s, n, out);
  case TR_AST_WILDCARD:
    break;
  }
  return fl_error_at(c, s, n, TR_ERR_DIMENSION,
                     "'*' is only allowed in a subscript inside an array function");
}

/* ---- constants ------------------------------------------------------------------------- */

static int const_rec(fl_ctx *c, const tr_ast *n, double *v, int depth) {
  if (depth > 64) return 0;
  double a, b;
  int rc;
  switch (n->kind) {
  case TR_AST_NUM:
    *v = n->num;
    return 1;
  case TR_AST_UNARY:
    if ((rc = const_rec(c, n->args[0], &a, depth + 1)) <= 0) return rc;
    *v = n->op == TR_OP_NEG ? -a : n->op == TR_OP_NOT ? (a == 0.0) : a;
    return 1;
  case TR_AST_BINARY:
    if ((rc = const_rec(c, n->args[0], &a, depth + 1)) <= 0) return rc;
    if ((rc = const_rec(c, n->args[1], &b, depth + 1)) <= 0) return rc;
    switch (n->op) {
    case TR_OP_ADD:
      *v = a + b;
      return 1;
    case TR_OP_SUB:
      *v = a - b;
      return 1;
    case TR_OP_MUL:
      *v = a * b;
      return 1;
    case TR_OP_DIV:
      *v = a / b;
      return 1;
    case TR_OP_POW:
      *v = pow(a, b);
      return 1;
    default:
      return 0;
    }
  case TR_AST_NAME: {
    if (n->var < 0 || (size_t)n->var >= c->n_vars) return 0;
    fl_decl *d = c->owner[n->var];
    if (d && d->state == 0 && (rc = fl_define(c, d)) != TR_OK) return rc;
    const tr_fvar *fv = &c->vars[n->var];
    if (fv->kind != TR_FV_AUX || !fv->eqn || fv->gf) return 0;
    return const_rec(c, fv->eqn, v, depth + 1);
  }
  default:
    return 0;
  }
}

int fl_const_value(fl_ctx *c, const tr_ast *n, double *v) {
  return const_rec(c, n, v, 0);
}

/* ---- definitions ------------------------------------------------------------------------ */

/* Bind the site's dimensions to element `i` (row-major) of declaration d. */
static void bind_element(fl_site *s, const fl_decl *d, size_t i) {
  s->n_binds = d->n_dims;
  for (size_t k = d->n_dims; k-- > 0;) {
    s->binds[k].dim = d->dims[k];
    s->binds[k].elem = i % d->dims[k]->size;
    s->binds[k].reduce = 0;
    i /= d->dims[k]->size;
  }
}

static int blank(const char *t) {
  if (!t) return 1;
  for (; *t; t++)
    if (*t != ' ' && *t != '\t' && *t != '\n' && *t != '\r') return 0;
  return 1;
}

static int define_connected(fl_ctx *c, fl_decl *d) {
  fl_site s;
  memset(&s, 0, sizeof s);
  s.scope = d->conn_scope;
  s.pos = d->conn->pos;
  fl_decl *src = fl_lookup(c, d->conn_scope, d->conn->from);
  if (!src) return fl_unknown_name(c, &s, NULL, "variable", d->conn->from, d->conn->from);
  if (src->count != d->count)
    return fl_error_at(c, &s, NULL, TR_ERR_DIMENSION,
                       "<connect> wires '%s' (%zu element%s) into '%s' (%zu element%s)",
                       src->v->name, src->count, src->count == 1 ? "" : "s", d->v->name, d->count,
                       d->count == 1 ? "" : "s");
  for (size_t i = 0; i < d->count; i++) {
    if (src->v->kind == TR_VK_GF) {
      c->vars[d->first + (int)i].kind = TR_FV_GF;
      c->vars[d->first + (int)i].gf = src->v->gf;
      continue;
    }
    tr_ast *r = fl_ref(c, src->first + (int)i, 0);
    if (!r) return fl_nomem(c);
    tr_fvar *fv = &c->vars[d->first + (int)i];
    fv->kind = TR_FV_AUX;
    fv->eqn = r;
    fv->gf = NULL;
    fv->inflows = fv->outflows = NULL;
    fv->n_inflows = fv->n_outflows = 0;
    fv->non_negative = 0;
    fv->eqn_text = c->vars[src->first + (int)i].ident;
    fv->eqn_pos = d->conn->pos;
  }
  return TR_OK;
}

static int define_flows(fl_ctx *c, fl_decl *d, fl_site *s, int idx) {
  const tr_var *v = d->v;
  s->text = NULL;
  s->pos = v->pos;
  for (int out = 0; out < 2; out++) {
    const char **names = out ? v->outflows : v->inflows;
    size_t n = out ? v->n_outflows : v->n_inflows;
    for (size_t i = 0; i < n; i++) {
      int f;
      int rc = fl_resolve(c, s, names[i], names[i], NULL, &f);
      if (rc) return rc;
      if ((rc = fl_add_flow(c, idx, f, out))) return rc;
    }
  }
  return TR_OK;
}

/* Instantiate one element's equation. */
static int define_one(fl_ctx *c, fl_decl *d, fl_site *s, size_t i, const tr_ast *parsed,
                      const char *text, tr_srcpos pos, const tr_gf *gf) {
  bind_element(s, d, i);
  s->text = text;
  s->pos = pos;
  tr_ast *e;
  int rc = fl_inst(c, s, parsed, &e);
  if (rc) return rc;
  int idx = d->first + (int)i;
  c->vars[idx].eqn = e;
  c->vars[idx].gf = gf;
  c->vars[idx].eqn_text = text;
  c->vars[idx].eqn_pos = pos;
  if (d->v->kind == TR_VK_STOCK) return define_flows(c, d, s, idx);
  return TR_OK;
}

static int define_equations(fl_ctx *c, fl_decl *d) {
  const tr_var *v = d->v;
  fl_site s;
  memset(&s, 0, sizeof s);
  s.scope = d->scope;
  s.pos = v->pos;
  unsigned char *done = NULL;
  int rc = TR_OK;
  if (v->n_elements > 0 && d->n_dims > 0) {
    done = tr_calloc(d->count, 1);
    if (!done) return fl_nomem(c);
    for (size_t e = 0; e < v->n_elements && !rc; e++) {
      const tr_element *el = &v->elements[e];
      size_t i;
      tr_ast *parsed;
      if ((rc = fl_element_index(c, d, el, &i))) break;
      if (done[i]) {
        rc = tr_error_set(c->err, TR_ERR_INVALID, c->file, el->eqn_pos.line, el->eqn_pos.col,
                          "element '%s' of '%s' is defined twice", el->subscript, v->name);
        break;
      }
      if (blank(el->eqn)) {
        rc = tr_error_set(c->err, TR_ERR_INVALID, c->file, el->eqn_pos.line, el->eqn_pos.col,
                          "element '%s' of '%s' has no equation", el->subscript, v->name);
        break;
      }
      if ((rc = fl_parse(c, el->eqn, strlen(el->eqn), el->eqn_pos, &parsed))) break;
      rc = define_one(c, d, &s, i, parsed, el->eqn, el->eqn_pos, el->gf ? el->gf : v->gf);
      done[i] = 1;
    }
  }
  if (rc) {
    tr_free(done);
    return rc;
  }
  size_t missing = 0;
  for (size_t i = 0; done && i < d->count; i++)
    missing += !done[i];
  if (done && missing == 0) {
    tr_free(done);
    return TR_OK;
  }
  if (blank(v->eqn)) {
    size_t first = 0;
    while (done && done[first])
      first++;
    tr_free(done);
    if (d->n_dims > 0 && v->n_elements > 0)
      return tr_error_set(c->err, TR_ERR_INVALID, c->file, v->pos.line, v->pos.col,
                          "element %s of '%s' has no equation", c->vars[d->first + (int)first].name,
                          v->name);
    return tr_error_set(c->err, TR_ERR_INVALID, c->file, v->pos.line, v->pos.col,
                        "variable '%s' has no equation", v->name);
  }
  size_t *offs = NULL, *lens = NULL, n_pieces = 1;
  if (d->n_dims > 0 && (rc = fl_split_literal(c, v->eqn, &offs, &lens, &n_pieces))) {
    tr_free(done);
    return rc;
  }
  if (n_pieces > 1 && n_pieces != d->count) {
    tr_free(done);
    return tr_error_set(c->err, TR_ERR_DIMENSION, c->file, v->eqn_pos.line, v->eqn_pos.col,
                        "'%s' has %zu elements but its equation lists %zu values", v->name,
                        d->count, n_pieces);
  }
  tr_ast *parsed = NULL;
  const char *text = v->eqn;
  tr_srcpos pos = v->eqn_pos;
  for (size_t i = 0; i < d->count && !rc; i++) {
    if (done && done[i]) continue;
    if (offs && (i == 0 || n_pieces > 1)) {
      /* one value of an array literal "1, 2, 3" (or the only one, as "5;") */
      size_t p = n_pieces > 1 ? i : 0;
      pos = v->eqn_pos;
      if (pos.line > 0)
        tr_expr_position(v->eqn, (int)offs[p], v->eqn_pos.line, v->eqn_pos.col, &pos.line,
                         &pos.col);
      text = tr_arena_strndup(c->a, v->eqn + offs[p], lens[p]);
      if (!text) {
        rc = fl_nomem(c);
        break;
      }
      parsed = NULL;
    }
    if (!parsed && (rc = fl_parse(c, text, strlen(text), pos, &parsed))) break;
    rc = define_one(c, d, &s, i, parsed, text, pos, v->gf);
  }
  tr_free(done);
  return rc;
}

int fl_define(fl_ctx *c, fl_decl *d) {
  if (d->state != 0) return TR_OK;
  d->state = 1;
  int rc;
  if (d->conn)
    rc = define_connected(c, d);
  else if (d->v->kind == TR_VK_GF)
    rc = TR_OK; /* declared with its table; nothing to instantiate */
  else
    rc = define_equations(c, d);
  d->state = 2;
  return rc;
}

/* ---- entry points ----------------------------------------------------------------------- */

int tr_flatten(const tr_xmile *x, tr_arena *a, tr_flat *out, tr_error *err) {
  if (!x || !a || !out) return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0, "no model");
  if (x->n_models == 0 || !x->models)
    return tr_error_set(err, TR_ERR_INVALID, x->file, 0, 0, "the file has no <model>");
  fl_ctx c;
  memset(&c, 0, sizeof c);
  c.x = x;
  c.a = a;
  c.err = err;
  c.file = x->file;
  tr_map_init(&c.by_decl);
  int rc = TR_OK;
  fl_scope *root = tr_arena_alloc(a, sizeof *root);
  if (!root) rc = fl_nomem(&c);
  if (!rc) {
    root->model = &x->models[0];
    root->prefix = "";
    root->name_prefix = "";
    rc = fl_declare(&c, root);
  }
  for (size_t i = 0; i < c.n_decls && !rc; i++)
    rc = fl_define(&c, c.decls[i]);
  /* generated variables show their equation in its printed form (the model page, messages) */
  for (size_t i = 0; i < c.n_vars && !rc; i++) {
    if (c.vars[i].eqn_text || !c.vars[i].eqn) continue;
    char *text = tr_expr_to_string(c.vars[i].eqn);
    c.vars[i].eqn_text = text ? tr_arena_strdup(a, text) : NULL;
    tr_free(text);
    if (!c.vars[i].eqn_text) rc = fl_nomem(&c);
  }
  if (!rc) {
    tr_fvar *vars = c.n_vars ? tr_arena_calloc(a, c.n_vars, sizeof *vars) : NULL;
    if (c.n_vars && !vars) {
      rc = fl_nomem(&c);
    } else {
      if (c.n_vars) memcpy(vars, c.vars, c.n_vars * sizeof *vars);
      memset(out, 0, sizeof *out);
      out->file = x->file;
      out->specs = x->specs;
      out->vars = vars;
      out->n_vars = c.n_vars;
    }
  }
  tr_free(c.vars);
  tr_free(c.owner);
  tr_free(c.decls);
  tr_map_free(&c.by_decl);
  return rc;
}

int tr_flat_find(const tr_flat *f, const char *ident) {
  if (!f || !ident) return -1;
  for (size_t i = 0; i < f->n_vars; i++)
    if (strcmp(f->vars[i].ident, ident) == 0) return (int)i;
  return -1;
}
