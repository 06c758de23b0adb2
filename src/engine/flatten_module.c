/*
 * Flattener pass 1: declarations. Walks a <model> in file order, giving every scalar (and
 * every element of an array) its tr_fvar, and inlines module instances in place: the
 * submodel's variables are declared under the qualifier "module." and the module's
 * <connect> wiring marks the inputs that take an outer value.
 */
#include "engine/flatten_impl.h"

#include <stdint.h>
#include <string.h>

static int put_decl(fl_ctx *c, fl_decl *d) {
  if (c->n_decls == c->cap_decls) {
    size_t cap = c->cap_decls ? c->cap_decls * 2 : 32;
    fl_decl **nd = tr_realloc(c->decls, cap * sizeof *nd);
    if (!nd) return fl_nomem(c);
    c->decls = nd;
    c->cap_decls = cap;
  }
  c->decls[c->n_decls++] = d;
  return TR_OK;
}

static tr_fvar_kind fvar_kind(tr_var_kind k) {
  switch (k) {
  case TR_VK_STOCK:
    return TR_FV_STOCK;
  case TR_VK_FLOW:
    return TR_FV_FLOW;
  case TR_VK_GF:
    return TR_FV_GF;
  default:
    return TR_FV_AUX;
  }
}

/* "a[x,y]" from the element tuple of linear index i; names as written or canonical. */
static char *element_name(fl_ctx *c, const char *base, const fl_decl *d, size_t i, int written) {
  size_t idx[FL_MAX_BINDS];
  for (size_t k = d->n_dims; k-- > 0;) {
    idx[k] = i % d->dims[k]->size;
    i /= d->dims[k]->size;
  }
  size_t len = strlen(base) + 3;
  for (size_t k = 0; k < d->n_dims; k++) {
    const char *e = written ? d->dims[k]->elem_names[idx[k]] : d->dims[k]->elems[idx[k]];
    len += strlen(e) + 1;
  }
  char *s = tr_arena_alloc(c->a, len);
  if (!s) return NULL;
  char *p = s;
  size_t lb = strlen(base);
  memcpy(p, base, lb);
  p += lb;
  *p++ = '[';
  for (size_t k = 0; k < d->n_dims; k++) {
    const char *e = written ? d->dims[k]->elem_names[idx[k]] : d->dims[k]->elems[idx[k]];
    size_t le = strlen(e);
    if (k) *p++ = ',';
    memcpy(p, e, le);
    p += le;
  }
  *p++ = ']';
  *p = '\0';
  return s;
}

static int declare_var(fl_ctx *c, const fl_scope *scope, const tr_var *v) {
  fl_decl *d = tr_arena_alloc(c->a, sizeof *d);
  if (!d) return fl_nomem(c);
  d->v = v;
  d->scope = scope;
  d->qident = tr_arena_printf(c->a, "%s%s", scope->prefix, v->ident);
  const char *qname = tr_arena_printf(c->a, "%s%s", scope->name_prefix, v->name);
  if (!d->qident || !qname) return fl_nomem(c);
  if (tr_map_get(&c->by_decl, d->qident, NULL))
    return tr_error_set(c->err, TR_ERR_INVALID, c->file, v->pos.line, v->pos.col,
                        "variable '%s' is defined twice", qname);
  d->count = 1;
  if (v->n_dims > 0) {
    if (v->n_dims > FL_MAX_BINDS)
      return tr_error_set(c->err, TR_ERR_LIMIT, c->file, v->pos.line, v->pos.col,
                          "'%s' has more than %d dimensions", v->name, FL_MAX_BINDS);
    d->dims = tr_arena_calloc(c->a, v->n_dims, sizeof *d->dims);
    if (!d->dims) return fl_nomem(c);
    d->n_dims = v->n_dims;
    for (size_t k = 0; k < v->n_dims; k++) {
      d->dims[k] = fl_find_dim(c->x, v->dims[k]);
      if (!d->dims[k])
        return tr_error_set(c->err, TR_ERR_DIMENSION, c->file, v->pos.line, v->pos.col,
                            "'%s' uses the undeclared dimension '%s'", v->name, v->dims[k]);
      if (d->dims[k]->size == 0 || d->count > (size_t)INT32_MAX / d->dims[k]->size)
        return tr_error_set(c->err, TR_ERR_LIMIT, c->file, v->pos.line, v->pos.col,
                            "array '%s' is too large", v->name);
      d->count *= d->dims[k]->size;
    }
  }
  d->first = (int)c->n_vars;
  for (size_t i = 0; i < d->count; i++) {
    tr_fvar fv;
    memset(&fv, 0, sizeof fv);
    fv.kind = fvar_kind(v->kind);
    fv.name = d->n_dims ? element_name(c, qname, d, i, 1) : qname;
    fv.ident = d->n_dims ? element_name(c, d->qident, d, i, 0) : d->qident;
    if (!fv.name || !fv.ident) return fl_nomem(c);
    fv.gf = v->gf;
    fv.non_negative = v->non_negative;
    fv.units = v->units;
    fv.doc = v->doc;
    fv.eqn_pos = v->eqn_pos;
    fv.eqn_text = v->eqn;
    int idx, rc;
    if ((rc = fl_add_var(c, &fv, d, &idx))) return rc;
  }
  if (tr_map_put(&c->by_decl, d->qident, d)) return fl_nomem(c);
  return put_decl(c, d);
}

static const tr_model_def *find_model(const tr_xmile *x, const char *ident) {
  for (size_t i = 1; i < x->n_models; i++)
    if (x->models[i].ident && ident && strcmp(x->models[i].ident, ident) == 0) return &x->models[i];
  return NULL;
}

static int declare_module(fl_ctx *c, const fl_scope *scope, const tr_var *v) {
  const char *target = v->module_model ? v->module_model : v->ident;
  const tr_model_def *m = find_model(c->x, target);
  if (!m)
    return tr_error_set(c->err, TR_ERR_INVALID, c->file, v->pos.line, v->pos.col,
                        "module '%s' instantiates the unknown model '%s'", v->name, target);
  for (const fl_scope *p = scope; p; p = p->parent)
    if (p->model == m)
      return tr_error_set(c->err, TR_ERR_INVALID, c->file, v->pos.line, v->pos.col,
                          "module '%s' instantiates model '%s' inside itself (recursive modules)",
                          v->name, m->name ? m->name : target);
  fl_scope *sub = tr_arena_alloc(c->a, sizeof *sub);
  if (!sub) return fl_nomem(c);
  sub->model = m;
  sub->parent = scope;
  sub->prefix = tr_arena_printf(c->a, "%s%s.", scope->prefix, v->ident);
  sub->name_prefix = tr_arena_printf(c->a, "%s%s.", scope->name_prefix, v->name);
  if (!sub->prefix || !sub->name_prefix) return fl_nomem(c);
  int rc = fl_declare(c, sub);
  if (rc) return rc;
  for (size_t i = 0; i < v->n_connects; i++) {
    const tr_connect *cn = &v->connects[i];
    const char *to = cn->to;
    /* tolerate "module.var" and ".var" spellings of the inner name */
    size_t lm = strlen(v->ident);
    if (to && strncmp(to, v->ident, lm) == 0 && to[lm] == '.') to += lm + 1;
    fl_decl *d = fl_lookup(c, sub, to);
    if (!d)
      return tr_error_set(c->err, TR_ERR_UNKNOWN_NAME, c->file, cn->pos.line, cn->pos.col,
                          "<connect to='%s'>: model '%s' has no variable '%s'",
                          cn->to ? cn->to : "", m->name ? m->name : target, to ? to : "");
    if (d->conn)
      return tr_error_set(c->err, TR_ERR_INVALID, c->file, cn->pos.line, cn->pos.col,
                          "'%s%s' is connected twice", sub->name_prefix, d->v->name);
    d->conn = cn;
    d->conn_scope = scope;
  }
  return TR_OK;
}

int fl_declare(fl_ctx *c, const fl_scope *scope) {
  const tr_model_def *m = scope->model;
  for (size_t i = 0; i < m->n_vars; i++) {
    const tr_var *v = &m->vars[i];
    int rc = v->kind == TR_VK_MODULE ? declare_module(c, scope, v) : declare_var(c, scope, v);
    if (rc) return rc;
  }
  return TR_OK;
}
