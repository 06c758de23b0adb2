/*
 * Flattener: builtins that become structure, and macros.
 *
 * The stateful builtins of XMILE 1.0 §3.5.3 are expanded into hidden stocks and flows, named
 * "#<function>#<N>.<part>", with the semantics Stella gives them:
 *  - DELAYN(in, T, n [, init]): n stocks in a chain, each emptied at S_k / (T/n); stock k
 *    starts at init * T/n (init defaults to the input's initial value); the result is the
 *    outflow of the last stock. DELAY1 = DELAYN(.., 1), DELAY3 = DELAYN(.., 3).
 *  - SMTHN(in, T, n [, init]): n cascaded first-order smooths, S_k' = (S_{k-1} - S_k)/(T/n)
 *    with S_0 = in, each starting at init (default: the input); the result is S_n.
 *    SMTH1 and SMTH3 are n = 1 and 3.
 *  - TREND(in, T [, trend0]): average A, A' = (in - A)/T, A(0) = in / (1 + trend0 * T);
 *    the result is (in - A) / (A * T), the fractional change per time unit.
 *  - FORCST(in, T, H [, trend0]) = in * (1 + TREND(in, T, trend0) * H).
 * An argument used more than once that is not a number or a name goes through a hidden
 * auxiliary, so it is evaluated once (random functions draw once).
 *
 * Macros: each call gets hidden copies of the macro's variables ("#<macro>#<N>.<var>") and
 * its parameters bound to the call's arguments; the call is replaced by the macro's
 * equation.
 */
#include "engine/flatten_impl.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A fresh copy of an operand (trees are never shared between equations). */
static tr_ast *use(fl_ctx *c, const tr_ast *e) {
  return fl_copy(c, e);
}

/* T / n, or T itself when n is 1. */
static tr_ast *stage_time(fl_ctx *c, const tr_ast *t, int n) {
  tr_ast *tc = use(c, t);
  if (n == 1 || !tc) return tc;
  return fl_binary(c, TR_OP_DIV, tc, fl_num(c, (double)n, t->pos));
}

static int delay_chain(fl_ctx *c, const char *base, tr_ast *in, tr_ast *t, int n, tr_ast *init,
                       tr_ast **out) {
  int rc, prev, stock, flow;
  char part[32];
  if ((rc = fl_hidden(c, TR_FV_FLOW, base, "inflow", use(c, in), &prev))) return rc;
  if (!c->vars[prev].eqn) return fl_nomem(c);
  for (int k = 1; k <= n; k++) {
    snprintf(part, sizeof part, "stock%d", k);
    tr_ast *e = fl_binary(c, TR_OP_MUL, use(c, init), stage_time(c, t, n));
    if (!e) return fl_nomem(c);
    if ((rc = fl_hidden(c, TR_FV_STOCK, base, part, e, &stock))) return rc;
    snprintf(part, sizeof part, "outflow%d", k);
    tr_ast *r = fl_ref(c, stock, t->pos);
    e = r ? fl_binary(c, TR_OP_DIV, r, stage_time(c, t, n)) : NULL;
    if (!e) return fl_nomem(c);
    if ((rc = fl_hidden(c, TR_FV_FLOW, base, part, e, &flow))) return rc;
    if ((rc = fl_add_flow(c, stock, prev, 0)) || (rc = fl_add_flow(c, stock, flow, 1))) return rc;
    prev = flow;
  }
  *out = fl_ref(c, prev, in->pos);
  return *out ? TR_OK : fl_nomem(c);
}

static int smooth_chain(fl_ctx *c, const char *base, tr_ast *in, tr_ast *t, int n, tr_ast *init,
                        tr_ast **out) {
  int rc, stock = -1, prev = -1, flow;
  char part[32];
  for (int k = 1; k <= n; k++) {
    snprintf(part, sizeof part, "stock%d", k);
    tr_ast *e = use(c, init);
    if (!e) return fl_nomem(c);
    if ((rc = fl_hidden(c, TR_FV_STOCK, base, part, e, &stock))) return rc;
    /* (previous stage - this stage) / (T/n); the first stage follows the input */
    tr_ast *from = prev < 0 ? use(c, in) : fl_ref(c, prev, in->pos);
    e = fl_binary(c, TR_OP_DIV, fl_binary(c, TR_OP_SUB, from, fl_ref(c, stock, in->pos)),
                  stage_time(c, t, n));
    if (!e) return fl_nomem(c);
    snprintf(part, sizeof part, "flow%d", k);
    if ((rc = fl_hidden(c, TR_FV_FLOW, base, part, e, &flow))) return rc;
    if ((rc = fl_add_flow(c, stock, flow, 0))) return rc;
    prev = stock;
  }
  *out = fl_ref(c, stock, in->pos);
  return *out ? TR_OK : fl_nomem(c);
}

/* TREND's structure; *out references the trend. */
static int trend(fl_ctx *c, const char *base, tr_ast *in, tr_ast *t, tr_ast *trend0, tr_ast **out) {
  int rc, avg, flow, res;
  /* A(0) = in / (1 + trend0 * T) */
  tr_ast *e = fl_binary(c, TR_OP_DIV, use(c, in),
                        fl_binary(c, TR_OP_ADD, fl_num(c, 1.0, in->pos),
                                  fl_binary(c, TR_OP_MUL, use(c, trend0), use(c, t))));
  if (!e) return fl_nomem(c);
  if ((rc = fl_hidden(c, TR_FV_STOCK, base, "average", e, &avg))) return rc;
  e = fl_binary(c, TR_OP_DIV, fl_binary(c, TR_OP_SUB, use(c, in), fl_ref(c, avg, in->pos)),
                use(c, t));
  if (!e) return fl_nomem(c);
  if ((rc = fl_hidden(c, TR_FV_FLOW, base, "change", e, &flow))) return rc;
  if ((rc = fl_add_flow(c, avg, flow, 0))) return rc;
  e = fl_binary(c, TR_OP_DIV, fl_binary(c, TR_OP_SUB, use(c, in), fl_ref(c, avg, in->pos)),
                fl_binary(c, TR_OP_MUL, fl_ref(c, avg, in->pos), use(c, t)));
  if (!e) return fl_nomem(c);
  if ((rc = fl_hidden(c, TR_FV_AUX, base, "trend", e, &res))) return rc;
  *out = fl_ref(c, res, in->pos);
  return *out ? TR_OK : fl_nomem(c);
}

/* The constant order argument of DELAYN / SMTHN. */
static int order_of(fl_ctx *c, fl_site *s, const tr_ast *call, const tr_ast *arg, int *n) {
  double v;
  int rc = fl_const_value(c, arg, &v);
  if (rc < 0) return rc;
  if (rc == 0)
    return fl_error_at(c, s, call, TR_ERR_INVALID, "the order of %s must be a constant expression",
                       call->name);
  double r = floor(v + 0.5);
  if (!(r >= 1 && r <= FL_MAX_ORDER))
    return fl_error_at(c, s, call, TR_ERR_INVALID, "the order of %s must be 1 to %d, not %g",
                       call->name, FL_MAX_ORDER, v);
  *n = (int)r;
  return TR_OK;
}

int fl_expand(fl_ctx *c, fl_site *s, const tr_ast *call, tr_ast **args, tr_ast **out) {
  char fname[16];
  size_t i = 0;
  for (; call->name[i] && i + 1 < sizeof fname; i++)
    fname[i] = (char)tolower((unsigned char)call->name[i]);
  fname[i] = '\0';
  const char *base = tr_arena_printf(c->a, "#%s#%u", fname, ++c->counter);
  if (!base) return fl_nomem(c);
  int id = call->builtin, n = 1, rc;
  int has_order = id == TR_FN_DELAYN || id == TR_FN_SMTHN;
  int init_at = id == TR_FN_FORCST || has_order ? 3 : 2;
  if (id == TR_FN_DELAY3 || id == TR_FN_SMTH3) n = 3;
  if (has_order && (rc = order_of(c, s, call, args[2], &n))) return rc;
  tr_ast *in, *t, *init = NULL;
  if ((rc = fl_operand(c, base, "input", args[0], &in))) return rc;
  if ((rc = fl_operand(c, base, "time", args[1], &t))) return rc;
  if (call->nargs > init_at && (rc = fl_operand(c, base, "initial", args[init_at], &init)))
    return rc;
  switch (id) {
  case TR_FN_DELAY1:
  case TR_FN_DELAY3:
  case TR_FN_DELAYN:
    return delay_chain(c, base, in, t, n, init ? init : in, out);
  case TR_FN_SMTH1:
  case TR_FN_SMTH3:
  case TR_FN_SMTHN:
    return smooth_chain(c, base, in, t, n, init ? init : in, out);
  case TR_FN_TREND:
  case TR_FN_FORCST: {
    tr_ast *zero = init ? init : fl_num(c, 0.0, call->pos), *tr, *h;
    if (!zero) return fl_nomem(c);
    if ((rc = trend(c, base, in, t, zero, &tr))) return rc;
    if (id == TR_FN_TREND) {
      *out = tr;
      return TR_OK;
    }
    /* in * (1 + trend * horizon) */
    if ((rc = fl_operand(c, base, "horizon", args[2], &h))) return rc;
    tr_ast *e = fl_binary(
        c, TR_OP_MUL, use(c, in),
        fl_binary(c, TR_OP_ADD, fl_num(c, 1.0, call->pos), fl_binary(c, TR_OP_MUL, tr, use(c, h))));
    int res;
    if (!e) return fl_nomem(c);
    if ((rc = fl_hidden(c, TR_FV_AUX, base, "forecast", e, &res))) return rc;
    *out = fl_ref(c, res, call->pos);
    return *out ? TR_OK : fl_nomem(c);
  }
  default:
    return fl_error_at(c, s, call, TR_ERR_INTERNAL, "no expansion for %s", call->name);
  }
}

/* ---- macros ------------------------------------------------------------------------------ */

static tr_fvar_kind macro_kind(tr_var_kind k) {
  return k == TR_VK_STOCK ? TR_FV_STOCK : k == TR_VK_FLOW ? TR_FV_FLOW : TR_FV_AUX;
}

int fl_inline_macro(fl_ctx *c, fl_site *s, const tr_macro *m, const tr_ast *call, tr_ast **args,
                    tr_ast **out) {
  int depth = s->frame ? s->frame->depth + 1 : 1;
  if (depth > FL_MAX_MACRO_DEPTH)
    return fl_error_at(c, s, call, TR_ERR_INVALID,
                       "macro '%s' is nested more than %d deep (does it call itself?)", m->name,
                       FL_MAX_MACRO_DEPTH);
  const char *base = tr_arena_printf(c->a, "#%s#%u", m->ident, ++c->counter);
  fl_frame *f = tr_arena_alloc(c->a, sizeof *f);
  if (!base || !f) return fl_nomem(c);
  f->m = m;
  f->depth = depth;
  if (m->n_params && !(f->args = tr_arena_calloc(c->a, m->n_params, sizeof *f->args)))
    return fl_nomem(c);
  int rc;
  for (size_t i = 0; i < m->n_params; i++)
    if ((rc = fl_operand(c, base, m->params[i], args[i], &f->args[i]))) return rc;
  f->first = (int)c->n_vars;
  for (size_t j = 0; j < m->n_vars; j++) {
    const tr_var *v = &m->vars[j];
    if (v->kind == TR_VK_MODULE || v->n_dims > 0)
      return tr_error_set(c->err, TR_ERR_UNSUPPORTED, c->file, v->pos.line, v->pos.col,
                          "macro '%s': variable '%s' is a module or an array (not supported)",
                          m->name, v->name);
    int idx;
    tr_fvar fv;
    memset(&fv, 0, sizeof fv);
    fv.kind = v->kind == TR_VK_GF ? TR_FV_GF : macro_kind(v->kind);
    fv.hidden = 1;
    fv.ident = tr_arena_printf(c->a, "%s.%s", base, v->ident);
    fv.name = tr_arena_printf(c->a, "%s.%s", base, v->name);
    fv.gf = v->gf;
    fv.non_negative = v->non_negative;
    fv.units = v->units;
    fv.eqn_text = v->eqn;
    fv.eqn_pos = v->eqn_pos;
    if (!fv.ident || !fv.name) return fl_nomem(c);
    if ((rc = fl_add_var(c, &fv, NULL, &idx))) return rc;
  }
  fl_site ms;
  memset(&ms, 0, sizeof ms);
  ms.frame = f;
  for (size_t j = 0; j < m->n_vars; j++) {
    const tr_var *v = &m->vars[j];
    if (v->kind == TR_VK_GF) continue;
    tr_ast *parsed, *e;
    ms.text = v->eqn;
    ms.pos = v->eqn_pos;
    if ((rc = fl_parse(c, v->eqn, v->eqn ? strlen(v->eqn) : 0, v->eqn_pos, &parsed))) return rc;
    if ((rc = fl_inst(c, &ms, parsed, &e))) return rc;
    int idx = f->first + (int)j;
    c->vars[idx].eqn = e;
    ms.text = NULL;
    ms.pos = v->pos;
    for (int o = 0; o < 2; o++) {
      const char **names = o ? v->outflows : v->inflows;
      size_t nn = o ? v->n_outflows : v->n_inflows;
      for (size_t k = 0; k < nn; k++) {
        int fidx;
        if ((rc = fl_resolve(c, &ms, names[k], names[k], NULL, &fidx))) return rc;
        if ((rc = fl_add_flow(c, idx, fidx, o))) return rc;
      }
    }
  }
  tr_ast *parsed;
  ms.text = m->eqn;
  ms.pos = m->eqn_pos;
  if ((rc = fl_parse(c, m->eqn, m->eqn ? strlen(m->eqn) : 0, m->eqn_pos, &parsed))) return rc;
  return fl_inst(c, &ms, parsed, out);
}
