/*
 * The compiler: flat model -> program (engine_impl.h). STYLE rule 9: names were resolved to
 * variable indices by the flattener; here they become slots, constant subexpressions are
 * folded, and each equation becomes a short run of three-address instructions over slots.
 *
 * Steps:
 *  1. classify each variable: a number (constant, settable per lane), static (depends only on
 *     constants and initial values: evaluated once per run), dynamic (every step) or stock;
 *  2. order the initial evaluation (stock initial values may depend on auxiliaries and on
 *     other stocks) and the step evaluation (stocks break cycles); a cycle is an error that
 *     names its members;
 *  3. emit the initial code, the step code and the post-step code (PREVIOUS arguments).
 */
#include "engine/engine_impl.h"

#include "expr/builtins.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEMP_BASE (1 << 29) /* temporaries are numbered from here until the final remap */

typedef struct call_state {
  const tr_ast *node; /* the call */
  int slot;           /* its state slot */
  int aux;            /* DELAY: history; PREVIOUS: pending slot; seeded random: stream */
  int owner;          /* the variable whose equation holds the call */
} call_state;

/* A growable array of T, through tr_realloc. */
#define VEC(T)                                                                                     \
  struct {                                                                                         \
    T *v;                                                                                          \
    size_t n, cap;                                                                                 \
  }

/* An open-addressing hash index from 64-bit keys to array positions, so that looking up a
 * literal or a call's state stays O(1) in models with many of them. */
struct index {
  uint64_t *keys;
  int *pos;   /* -1 = empty */
  size_t cap; /* power of two, or 0 */
  size_t n;
};

static size_t ix_hash(uint64_t k, size_t cap) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return (size_t)k & (cap - 1);
}

/* Position stored for key k, or -1. */
static int ix_get(const struct index *ix, uint64_t k) {
  if (!ix->cap) return -1;
  for (size_t i = ix_hash(k, ix->cap);; i = (i + 1) & (ix->cap - 1)) {
    if (ix->pos[i] < 0) return -1;
    if (ix->keys[i] == k) return ix->pos[i];
  }
}

static int ix_put(struct index *ix, uint64_t k, int pos) {
  if (2 * (ix->n + 1) > ix->cap) {
    size_t nc = ix->cap ? ix->cap * 2 : 64;
    uint64_t *nk = tr_malloc(nc * sizeof *nk);
    int *np = tr_malloc(nc * sizeof *np);
    if (!nk || !np) {
      tr_free(nk);
      tr_free(np);
      return TR_ERR_NOMEM;
    }
    for (size_t i = 0; i < nc; i++)
      np[i] = -1;
    for (size_t i = 0; i < ix->cap; i++)
      if (ix->pos[i] >= 0) {
        size_t j = ix_hash(ix->keys[i], nc);
        while (np[j] >= 0)
          j = (j + 1) & (nc - 1);
        nk[j] = ix->keys[i];
        np[j] = ix->pos[i];
      }
    tr_free(ix->keys);
    tr_free(ix->pos);
    ix->keys = nk;
    ix->pos = np;
    ix->cap = nc;
  }
  size_t i = ix_hash(k, ix->cap);
  while (ix->pos[i] >= 0)
    i = (i + 1) & (ix->cap - 1);
  ix->keys[i] = k;
  ix->pos[i] = pos;
  ix->n++;
  return TR_OK;
}

typedef struct compiler {
  const tr_flat *f;
  tr_error *err;
  int var;        /* the variable being compiled (for positions), -1 for none */
  int init_phase; /* 1 while emitting the initial code */
  int n_vars;
  VEC(tr_instr) code;    /* the code being emitted */
  VEC(double) fixed;     /* initial values of fixed slots */
  VEC(int) lits;         /* literal slots, for folding and reuse */
  struct index lit_ix;   /* literal bits -> index into lits */
  struct index call_ix;  /* call node address -> index into calls */
  unsigned char *is_lit; /* per fixed slot (kept in step with `fixed`) */
  size_t is_lit_cap;
  VEC(call_state) calls;
  VEC(const tr_gf *) gfs;
  VEC(int) args;
  VEC(uint64_t) seeds;
  VEC(int) prevs; /* indices into calls of PREVIOUS calls */
  size_t n_delays;
  int temp_top, temp_max;
} compiler;

static int grow(void **v, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return TR_OK;
  size_t nc = *cap ? *cap * 2 : 16;
  while (nc < need)
    nc *= 2;
  void *p = tr_realloc(*v, nc * elem);
  if (!p) return TR_ERR_NOMEM;
  *v = p;
  *cap = nc;
  return TR_OK;
}

#define PUSH(c, vec, x)                                                                            \
  (grow((void **)&(vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v)                               \
       ? TR_ERR_NOMEM                                                                              \
       : ((vec).v[(vec).n++] = (x), TR_OK))

static int nomem(compiler *c) {
  return tr_error_set(c->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory while compiling");
}

/* Position of byte `off` of variable v's equation, as file line and column. */
static void eqn_position(const tr_fvar *fv, int off, int *line, int *col) {
  *line = fv->eqn_pos.line;
  *col = fv->eqn_pos.col;
  if (!fv->eqn_text || off <= 0 || *line == 0) return;
  for (int i = 0; i < off && fv->eqn_text[i]; i++) {
    if (fv->eqn_text[i] == '\n') {
      (*line)++;
      *col = 1;
    } else if (((unsigned char)fv->eqn_text[i] & 0xC0) != 0x80) {
      (*col)++;
    }
  }
}

/* Record an error at node n of the variable being compiled. */
static int fail_at(compiler *c, int code, const tr_ast *n, const char *fmt, const char *arg) {
  int line = 0, col = 0;
  if (c->var >= 0) eqn_position(&c->f->vars[c->var], n ? n->pos : 0, &line, &col);
  const char *vname = c->var >= 0 ? c->f->vars[c->var].name : "?";
  char msg[300];
  snprintf(msg, sizeof msg, fmt, arg);
  return tr_error_set(c->err, code, c->f->file, line, col, "%s (in the equation of '%s')", msg,
                      vname);
}

/* ---- slots ------------------------------------------------------------------------------ */

static int new_fixed(compiler *c, double init, int literal, int *slot) {
  if (PUSH(c, c->fixed, init)) return nomem(c);
  if (grow((void **)&c->is_lit, &c->is_lit_cap, c->fixed.n, 1)) return nomem(c);
  c->is_lit[c->fixed.n - 1] = (unsigned char)literal;
  *slot = (int)c->fixed.n - 1;
  return TR_OK;
}

static int is_literal(const compiler *c, int slot) {
  return slot >= 0 && slot < TEMP_BASE && (size_t)slot < c->fixed.n && c->is_lit[slot];
}

/* The slot of literal v (one per distinct bit pattern). */
static int literal(compiler *c, double v, int *slot) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  int at = ix_get(&c->lit_ix, bits);
  if (at >= 0) return *slot = c->lits.v[at], TR_OK;
  int rc = new_fixed(c, v, 1, slot);
  if (rc) return rc;
  if (PUSH(c, c->lits, *slot) || ix_put(&c->lit_ix, bits, (int)c->lits.n - 1)) return nomem(c);
  return TR_OK;
}

static int new_temp(compiler *c) {
  int t = TEMP_BASE + c->temp_top++;
  if (c->temp_top > c->temp_max) c->temp_max = c->temp_top;
  return t;
}

static int dest(compiler *c, int want) {
  return want >= 0 ? want : new_temp(c);
}

static int emit_ins(compiler *c, int op, int fn, int d, int a, int b, int cc, int aux) {
  tr_instr in = {op, fn, d, a, b, cc, aux, 0};
  if (PUSH(c, c->code, in)) return nomem(c);
  return TR_OK;
}

/* Deliver the value in `slot` to `want` (when a destination was asked for). */
static int deliver(compiler *c, int slot, int want, int *out) {
  if (want >= 0 && want != slot) {
    if (emit_ins(c, TR_I_MOV, 0, want, slot, -1, -1, 0)) return TR_ERR_NOMEM;
    slot = want;
  }
  *out = slot;
  return TR_OK;
}

static int call_state_get(compiler *c, const tr_ast *n, int *slot, int *aux, int *created) {
  int at = ix_get(&c->call_ix, (uint64_t)(uintptr_t)n);
  if (at >= 0) {
    *slot = c->calls.v[at].slot;
    *aux = c->calls.v[at].aux;
    *created = 0;
    return TR_OK;
  }
  call_state cs = {n, -1, -1, c->var};
  int rc = new_fixed(c, 0, 0, &cs.slot);
  if (rc) return rc;
  if (n->builtin == TR_FN_DELAY) cs.aux = (int)c->n_delays++;
  if (n->builtin == TR_FN_PREVIOUS) {
    if ((rc = new_fixed(c, 0, 0, &cs.aux))) return rc;
    if (PUSH(c, c->prevs, (int)c->calls.n)) return nomem(c);
  }
  if (PUSH(c, c->calls, cs) || ix_put(&c->call_ix, (uint64_t)(uintptr_t)n, (int)c->calls.n - 1))
    return nomem(c);
  *slot = cs.slot;
  *aux = cs.aux;
  *created = 1;
  return TR_OK;
}

/* ---- expressions ------------------------------------------------------------------------ */

static int emit(compiler *c, const tr_ast *n, int want, int *out);

static int binop_of(int op) {
  switch (op) {
  case TR_OP_ADD:
    return TR_I_ADD;
  case TR_OP_SUB:
    return TR_I_SUB;
  case TR_OP_MUL:
    return TR_I_MUL;
  case TR_OP_DIV:
    return TR_I_DIV;
  case TR_OP_POW:
    return TR_I_POWR;
  case TR_OP_MOD:
    return TR_I_MODR;
  case TR_OP_EQ:
    return TR_I_CEQ;
  case TR_OP_NE:
    return TR_I_CNE;
  case TR_OP_LT:
    return TR_I_CLT;
  case TR_OP_LE:
    return TR_I_CLE;
  case TR_OP_GT:
    return TR_I_CGT;
  case TR_OP_GE:
    return TR_I_CGE;
  case TR_OP_AND:
    return TR_I_LAND;
  case TR_OP_OR:
    return TR_I_LOR;
  default:
    return -1;
  }
}

/* d = a OP b, folded when both are literals. */
static int emit_bin(compiler *c, int op, int a, int b, int want, int *out) {
  if (is_literal(c, a) && is_literal(c, b)) {
    int lit;
    if (literal(c, tr_vm_binop(op, c->fixed.v[a], c->fixed.v[b]), &lit)) return TR_ERR_NOMEM;
    return deliver(c, lit, want, out);
  }
  int d = dest(c, want);
  if (emit_ins(c, op, 0, d, a, b, -1, 0)) return TR_ERR_NOMEM;
  *out = d;
  return TR_OK;
}

static int emit_args(compiler *c, const tr_ast *n, int from, int to, int *slots) {
  for (int i = from; i < to; i++) {
    int rc = emit(c, n->args[i], -1, &slots[i - from]);
    if (rc) return rc;
  }
  return TR_OK;
}

/* Fold a chain of a binary operator over all arguments (SUM, MIN, MAX, MEAN). Like every
 * emitter, leaves temp_top above the temporary it returns. */
static int emit_chain(compiler *c, const tr_ast *n, int op, int *out) {
  int saved = c->temp_top, acc, rc;
  if ((rc = emit(c, n->args[0], -1, &acc))) return rc;
  for (int i = 1; i < n->nargs; i++) {
    int s;
    if ((rc = emit(c, n->args[i], -1, &s))) return rc;
    c->temp_top = saved;
    if ((rc = emit_bin(c, op, acc, s, -1, &acc))) return rc;
  }
  *out = acc;
  return TR_OK;
}

/* The argument position of the seed of a random builtin. */
static int seed_index(int fn) {
  switch (fn) {
  case TR_FN_EXPRND:
  case TR_FN_POISSON:
    return 1;
  case TR_FN_TRIANGULAR:
    return 3;
  default:
    return 2; /* LOGNORMAL, NORMAL, RANDOM, UNIFORM */
  }
}

static int emit_random(compiler *c, const tr_ast *n, int want, int *out) {
  int slot, aux, created, rc;
  if ((rc = call_state_get(c, n, &slot, &aux, &created))) return rc;
  int si = seed_index(n->builtin), seeded = -1;
  int slots[8], k = 0, saved = c->temp_top;
  for (int i = 0; i < n->nargs && i < 8; i++) {
    int s;
    if ((rc = emit(c, n->args[i], -1, &s))) return rc;
    if (i == si) {
      if (!is_literal(c, s))
        return fail_at(c, TR_ERR_UNSUPPORTED, n->args[i], "the seed of %s must be a constant",
                       tr_builtins[n->builtin].name);
      double sv = c->fixed.v[s];
      if (!(fabs(sv) < 9e18))
        return fail_at(c, TR_ERR_INVALID, n->args[i], "the seed of %s is out of range",
                       tr_builtins[n->builtin].name);
      /* one stream per call site, shared by the initial and the step code */
      call_state *cs = &c->calls.v[ix_get(&c->call_ix, (uint64_t)(uintptr_t)n)];
      if (cs->aux < 0) {
        if (PUSH(c, c->seeds, (uint64_t)(int64_t)llround(sv))) return nomem(c);
        cs->aux = (int)c->seeds.n - 1;
      }
      seeded = cs->aux;
    } else {
      slots[k++] = s;
    }
  }
  c->temp_top = saved;
  int off = (int)c->args.n;
  for (int i = 0; i < k; i++)
    if (PUSH(c, c->args, slots[i])) return nomem(c);
  if (emit_ins(c, TR_I_RANDOM, n->builtin, slot, -1, k, seeded, off)) return TR_ERR_NOMEM;
  return deliver(c, slot, want, out);
}

static int emit_lookup(compiler *c, const tr_ast *n, int want, int *out) {
  const tr_ast *g = n->args[0];
  const tr_gf *gf = NULL;
  if (g->kind == TR_AST_NAME && g->var >= 0 && (size_t)g->var < c->f->n_vars)
    gf = c->f->vars[g->var].gf;
  if (!gf)
    return fail_at(c, TR_ERR_INVALID, g, "'%s' is not a graphical function",
                   g->raw ? g->raw : (g->name ? g->name : "?"));
  if (PUSH(c, c->gfs, gf)) return nomem(c);
  int saved = c->temp_top, x, rc;
  if ((rc = emit(c, n->args[1], -1, &x))) return rc;
  c->temp_top = saved;
  if (is_literal(c, x)) {
    int lit;
    if (literal(c, tr_vm_lookup(gf, c->fixed.v[x]), &lit)) return TR_ERR_NOMEM;
    c->gfs.n--;
    return deliver(c, lit, want, out);
  }
  int d = dest(c, want);
  if (emit_ins(c, TR_I_GF, 0, d, x, -1, -1, (int)c->gfs.n - 1)) return TR_ERR_NOMEM;
  *out = d;
  return TR_OK;
}

static int special_slot(const compiler *c, int which) {
  return c->n_vars + which;
}

static int emit_call(compiler *c, const tr_ast *n, int want, int *out) {
  int fn = n->builtin, rc, s[4] = {-1, -1, -1, -1};
  if (fn < 0 || fn >= TR_FN_COUNT)
    return fail_at(c, TR_ERR_UNKNOWN_NAME, n, "unknown function '%s'",
                   n->raw ? n->raw : (n->name ? n->name : "?"));
  const tr_builtin *b = &tr_builtins[fn];
  if (n->nargs < b->min_args ||
      (b->max_args >= 0 && n->nargs > b->max_args && !(b->flags & TR_FNF_REDUCE)))
    return fail_at(c, TR_ERR_ARITY, n, "wrong number of arguments to %s", b->name);
  if (b->flags & TR_FNF_EXPAND)
    return fail_at(c, TR_ERR_UNSUPPORTED, n, "%s reached the compiler unexpanded", b->name);
  if (b->flags & TR_FNF_RANDOM) return emit_random(c, n, want, out);
  int saved = c->temp_top;
  switch (fn) {
  case TR_FN_PI: {
    int lit;
    if (literal(c, 3.14159265358979323846, &lit)) return TR_ERR_NOMEM;
    return deliver(c, lit, want, out);
  }
  case TR_FN_INF: {
    int lit;
    if (literal(c, HUGE_VAL, &lit)) return TR_ERR_NOMEM;
    return deliver(c, lit, want, out);
  }
  case TR_FN_TIME:
    return deliver(c, special_slot(c, TR_SLOT_TIME), want, out);
  case TR_FN_DT:
    return deliver(c, special_slot(c, TR_SLOT_DT), want, out);
  case TR_FN_STARTTIME:
    return deliver(c, special_slot(c, TR_SLOT_START), want, out);
  case TR_FN_STOPTIME:
    return deliver(c, special_slot(c, TR_SLOT_STOP), want, out);
  case TR_FN_MIN:
  case TR_FN_MAX:
  case TR_FN_SUM: {
    int acc;
    int op = fn == TR_FN_MIN ? TR_I_MIN2 : fn == TR_FN_MAX ? TR_I_MAX2 : TR_I_ADD;
    if ((rc = emit_chain(c, n, op, &acc))) return rc;
    return deliver(c, acc, want, out);
  }
  case TR_FN_MEAN: {
    int acc, cnt;
    if ((rc = emit_chain(c, n, TR_I_ADD, &acc))) return rc;
    if (literal(c, (double)n->nargs, &cnt)) return TR_ERR_NOMEM;
    c->temp_top = saved;
    return emit_bin(c, TR_I_DIV, acc, cnt, want, out);
  }
  case TR_FN_SIZE: {
    int lit;
    if (literal(c, (double)n->nargs, &lit)) return TR_ERR_NOMEM;
    return deliver(c, lit, want, out);
  }
  case TR_FN_STDDEV: {
    int off = (int)c->args.n, slots1;
    for (int i = 0; i < n->nargs; i++) {
      if ((rc = emit(c, n->args[i], -1, &slots1))) return rc;
      if (PUSH(c, c->args, slots1)) return nomem(c);
    }
    c->temp_top = saved;
    int d = dest(c, want);
    if (emit_ins(c, TR_I_STDDEV, 0, d, -1, n->nargs, -1, off)) return TR_ERR_NOMEM;
    *out = d;
    return TR_OK;
  }
  case TR_FN_MOD:
    if ((rc = emit_args(c, n, 0, 2, s))) return rc;
    c->temp_top = saved;
    return emit_bin(c, TR_I_MODR, s[0], s[1], want, out);
  case TR_FN_LOOKUP:
    return emit_lookup(c, n, want, out);
  case TR_FN_SAFEDIV:
  case TR_FN_STEP:
  case TR_FN_RAMP:
  case TR_FN_PULSE: {
    if ((rc = emit_args(c, n, 0, n->nargs, s))) return rc;
    c->temp_top = saved;
    int d = dest(c, want), op;
    if (fn == TR_FN_SAFEDIV) {
      op = TR_I_SAFEDIV;
    } else if (fn == TR_FN_STEP) {
      op = TR_I_STEPF;
    } else if (fn == TR_FN_RAMP) {
      op = TR_I_RAMP;
      if (s[1] < 0) s[1] = special_slot(c, TR_SLOT_START);
    } else { /* a pulse is held through Runge-Kutta stages: it needs a slot of its own */
      int aux, created;
      op = TR_I_PULSE;
      if (s[1] < 0) s[1] = special_slot(c, TR_SLOT_START);
      if ((rc = call_state_get(c, n, &d, &aux, &created))) return rc;
      if (emit_ins(c, op, 0, d, s[0], s[1], s[2], 0)) return TR_ERR_NOMEM;
      return deliver(c, d, want, out);
    }
    if (emit_ins(c, op, 0, d, s[0], s[1], s[2], 0)) return TR_ERR_NOMEM;
    *out = d;
    return TR_OK;
  }
  case TR_FN_INIT:
  case TR_FN_PREVIOUS:
  case TR_FN_DELAY: {
    int slot, aux, created;
    if ((rc = call_state_get(c, n, &slot, &aux, &created))) return rc;
    if (fn == TR_FN_INIT && c->init_phase) {
      if ((rc = emit_args(c, n, 0, 1, s))) return rc;
      if (emit_ins(c, TR_I_INIT, 0, slot, s[0], -1, -1, 0)) return TR_ERR_NOMEM;
    } else if (fn == TR_FN_PREVIOUS && c->init_phase) {
      if (n->nargs > 1 && (rc = emit_args(c, n, 1, 2, s))) return rc;
      if (emit_ins(c, TR_I_PREVINIT, 0, slot, s[0], -1, -1, 0)) return TR_ERR_NOMEM;
    } else if (fn == TR_FN_DELAY) {
      if ((rc = emit_args(c, n, 0, n->nargs, s))) return rc;
      if (emit_ins(c, TR_I_DELAY, 0, slot, s[0], s[1], s[2], aux)) return TR_ERR_NOMEM;
    }
    c->temp_top = saved;
    return deliver(c, slot, want, out);
  }
  default:
    break;
  }
  /* one-argument math */
  if (n->nargs != 1) return fail_at(c, TR_ERR_ARITY, n, "wrong number of arguments to %s", b->name);
  if ((rc = emit_args(c, n, 0, 1, s))) return rc;
  c->temp_top = saved;
  if (is_literal(c, s[0])) {
    int lit;
    if (literal(c, tr_vm_fn1(fn, c->fixed.v[s[0]]), &lit)) return TR_ERR_NOMEM;
    return deliver(c, lit, want, out);
  }
  int d = dest(c, want);
  if (emit_ins(c, TR_I_FN1, fn, d, s[0], -1, -1, 0)) return TR_ERR_NOMEM;
  *out = d;
  return TR_OK;
}

static int emit(compiler *c, const tr_ast *n, int want, int *out) {
  int rc, saved = c->temp_top;
  switch (n->kind) {
  case TR_AST_NUM: {
    int lit;
    if (literal(c, n->num, &lit)) return TR_ERR_NOMEM;
    return deliver(c, lit, want, out);
  }
  case TR_AST_NAME:
    if (n->var < 0 || (size_t)n->var >= c->f->n_vars)
      return fail_at(c, TR_ERR_UNKNOWN_NAME, n, "unknown variable '%s'",
                     n->raw ? n->raw : (n->name ? n->name : "?"));
    if (c->f->vars[n->var].kind == TR_FV_GF)
      return fail_at(c, TR_ERR_INVALID, n,
                     "graphical function '%s' used as a value (call it: name(x))",
                     c->f->vars[n->var].name);
    return deliver(c, n->var, want, out);
  case TR_AST_UNARY: {
    int a;
    if ((rc = emit(c, n->args[0], -1, &a))) return rc;
    if (n->op == TR_OP_POS) return deliver(c, a, want, out);
    c->temp_top = saved;
    int op = n->op == TR_OP_NEG ? TR_I_NEGR : TR_I_LNOT;
    if (is_literal(c, a)) {
      int lit;
      double v = c->fixed.v[a];
      if (literal(c, op == TR_I_NEGR ? -v : (double)(v == 0), &lit)) return TR_ERR_NOMEM;
      return deliver(c, lit, want, out);
    }
    int d = dest(c, want);
    if (emit_ins(c, op, 0, d, a, -1, -1, 0)) return TR_ERR_NOMEM;
    *out = d;
    return TR_OK;
  }
  case TR_AST_BINARY: {
    int a, b, op = binop_of(n->op);
    if (op < 0) return fail_at(c, TR_ERR_INTERNAL, n, "bad operator%s", "");
    if ((rc = emit(c, n->args[0], -1, &a)) || (rc = emit(c, n->args[1], -1, &b))) return rc;
    c->temp_top = saved;
    return emit_bin(c, op, a, b, want, out);
  }
  case TR_AST_IF: {
    int s[3];
    if ((rc = emit_args(c, n, 0, 3, s))) return rc;
    c->temp_top = saved;
    if (is_literal(c, s[0])) return deliver(c, c->fixed.v[s[0]] != 0 ? s[1] : s[2], want, out);
    int d = dest(c, want);
    if (emit_ins(c, TR_I_SELECT, 0, d, s[0], s[1], s[2], 0)) return TR_ERR_NOMEM;
    *out = d;
    return TR_OK;
  }
  case TR_AST_CALL:
    return emit_call(c, n, want, out);
  default:
    return fail_at(c, TR_ERR_UNSUPPORTED, n, "subscripted reference '%s' reached the compiler",
                   n->raw ? n->raw : (n->name ? n->name : "?"));
  }
}

/* ---- dependencies ----------------------------------------------------------------------- */

typedef struct deps {
  VEC(int) init; /* all references needed for the initial value */
  VEC(int) step; /* references needed every step (INIT arguments excluded) */
  int dyn;       /* the equation itself varies with time (TIME, PULSE, DELAY, random...) */
} deps;

/* Collect the references of n. `in_init` is set under an INIT call (needed only at start). */
static int collect(const tr_ast *n, deps *d, int in_init) {
  if (!n) return TR_OK;
  if (n->kind == TR_AST_NAME && n->var >= 0) {
    if (PUSH(NULL, d->init, n->var)) return TR_ERR_NOMEM;
    if (!in_init && PUSH(NULL, d->step, n->var)) return TR_ERR_NOMEM;
    return TR_OK;
  }
  int first = 0;
  if (n->kind == TR_AST_CALL && n->builtin >= 0 && n->builtin < TR_FN_COUNT) {
    int fn = n->builtin;
    if (fn == TR_FN_INIT) in_init = 1;
    if (fn == TR_FN_PREVIOUS || fn == TR_FN_LOOKUP) first = 1; /* value of the past; a table */
    if (!in_init &&
        (fn == TR_FN_TIME || fn == TR_FN_PULSE || fn == TR_FN_STEP || fn == TR_FN_RAMP ||
         fn == TR_FN_DELAY || fn == TR_FN_PREVIOUS || (tr_builtins[fn].flags & TR_FNF_RANDOM)))
      d->dyn = 1;
  }
  for (int i = first; i < n->nargs; i++) {
    int rc = collect(n->args[i], d, in_init);
    if (rc) return rc;
  }
  return TR_OK;
}

/* Depth-first topological sort of the variables with include[v] set, following `which`
 * (0 init, 1 step) dependencies restricted to included variables. A back edge is a cycle:
 * reported with its members in order. */
static int toposort(compiler *c, const deps *dp, const unsigned char *include, int which,
                    int *order, size_t *n_order) {
  size_t nv = c->f->n_vars;
  unsigned char *state = tr_calloc(nv ? nv : 1, 1);
  int *stack = tr_malloc((nv ? nv : 1) * sizeof *stack);
  size_t *next = tr_calloc(nv ? nv : 1, sizeof *next);
  int rc = TR_OK;
  if (!state || !stack || !next) {
    rc = nomem(c);
    goto done;
  }
  *n_order = 0;
  for (size_t r = 0; r < nv; r++) {
    if (!include[r] || state[r]) continue;
    size_t sp = 0;
    stack[sp++] = (int)r;
    state[r] = 1;
    while (sp) {
      int u = stack[sp - 1];
      const int *dv = which ? dp[u].step.v : dp[u].init.v;
      size_t dn = which ? dp[u].step.n : dp[u].init.n;
      if (next[u] < dn) {
        int w = dv[next[u]++];
        if (!include[w] || state[w] == 2) continue;
        if (state[w] == 1) {
          char msg[400];
          size_t at = 0, len = 0;
          while (stack[at] != w)
            at++;
          msg[0] = '\0';
          for (size_t k = at; k < sp && len + 4 < sizeof msg; k++)
            len += (size_t)snprintf(msg + len, sizeof msg - len, "'%s' -> ",
                                    c->f->vars[stack[k]].name);
          if (len < sizeof msg) snprintf(msg + len, sizeof msg - len, "'%s'", c->f->vars[w].name);
          const tr_fvar *fv = &c->f->vars[w];
          rc = tr_error_set(c->err, TR_ERR_CYCLE, c->f->file, fv->eqn_pos.line, fv->eqn_pos.col,
                            "circular dependency%s: %s", which ? "" : " among initial values", msg);
          goto done;
        }
        state[w] = 1;
        stack[sp++] = w;
      } else {
        state[u] = 2;
        order[(*n_order)++] = u;
        sp--;
      }
    }
  }
done:
  tr_free(state);
  tr_free(stack);
  tr_free(next);
  return rc;
}

/* ---- whole program ---------------------------------------------------------------------- */

static int take_code(compiler *c, tr_arena *a, tr_code *out) {
  out->n = c->code.n;
  out->ins = tr_arena_calloc(a, c->code.n ? c->code.n : 1, sizeof(tr_instr));
  if (!out->ins) return nomem(c);
  if (c->code.n) memcpy(out->ins, c->code.v, c->code.n * sizeof(tr_instr));
  c->code.n = 0;
  return TR_OK;
}

/* Emit variable v's equation into its slot, with its inline graphical function and the
 * uniflow clamp. */
static int emit_var(compiler *c, int v) {
  const tr_fvar *fv = &c->f->vars[v];
  int out, rc;
  c->var = v;
  c->temp_top = 0;
  if (!fv->eqn)
    return tr_error_set(c->err, TR_ERR_INVALID, c->f->file, fv->eqn_pos.line, fv->eqn_pos.col,
                        "'%s' has no equation", fv->name);
  if ((rc = emit(c, fv->eqn, v, &out))) return rc;
  if (fv->kind == TR_FV_STOCK) return TR_OK;
  if (fv->gf) {
    if (PUSH(c, c->gfs, fv->gf)) return nomem(c);
    if (emit_ins(c, TR_I_GF, 0, v, v, -1, -1, (int)c->gfs.n - 1)) return TR_ERR_NOMEM;
  }
  if (fv->kind == TR_FV_FLOW && fv->non_negative)
    if (emit_ins(c, TR_I_MAX0, 0, v, v, -1, -1, 0)) return TR_ERR_NOMEM;
  return TR_OK;
}

static int remap(int s, int n_fixed) {
  return s >= TEMP_BASE ? n_fixed + (s - TEMP_BASE) : s;
}

static void remap_code(tr_code *code, int n_fixed) {
  for (size_t i = 0; i < code->n; i++) {
    tr_instr *in = &code->ins[i];
    in->d = remap(in->d, n_fixed);
    in->a = remap(in->a, n_fixed);
    if (in->op != TR_I_RANDOM && in->op != TR_I_STDDEV) in->b = remap(in->b, n_fixed);
    in->c = in->op == TR_I_RANDOM ? in->c : remap(in->c, n_fixed);
  }
}

/* The one-lane Euler update (TR_J_EUL_*): a stock without flows takes the general opcode, as
 * s + dt * 0 turns -0 into +0 and the update must keep doing so. Clamps come last. */
static int euler_block(compiler *c, tr_arena *a, const tr_program *p, tr_ins1 **out, size_t *n) {
  size_t ns = p->n_stocks, k = 0;
  tr_ins1 *e = tr_arena_calloc(a, 2 * ns + 1, sizeof(tr_ins1));
  if (!e) return nomem(c);
  for (size_t i = 0; i < ns; i++) {
    int f = p->flow_off[i], fo = p->flow_out[i], f1 = p->flow_off[i + 1];
    tr_ins1 j = {TR_J_EUL_GEN, p->stocks[i], (int)i, -1, -1, -1};
    if (f1 - f == 2 && fo == f + 1) {
      j.op = TR_J_EUL_IO;
      j.a = p->flow_slot[f];
      j.b = p->flow_slot[f + 1];
    } else if (f1 - f == 1) {
      j.op = fo > f ? TR_J_EUL_IN : TR_J_EUL_OUT;
      j.a = p->flow_slot[f];
    }
    e[k++] = j;
  }
  for (size_t i = 0; i < ns; i++)
    if (p->stock_nonneg[i]) {
      tr_ins1 j = {TR_J_CLAMP, p->stocks[i], -1, -1, -1, -1};
      e[k++] = j;
    }
  e[k].op = TR_J_END;
  *out = e;
  *n = k;
  return TR_OK;
}

/* `to` = the Euler block followed by the one-lane code of `step`. */
static int with_euler(compiler *c, tr_arena *a, const tr_ins1 *eu, size_t n_eu, const tr_code *step,
                      tr_code *to) {
  to->ins = step->ins;
  to->n = step->n;
  to->n1 = n_eu + step->n1;
  to->ins1 = tr_arena_calloc(a, to->n1 + 1, sizeof(tr_ins1));
  if (!to->ins1) return nomem(c);
  if (n_eu) memcpy(to->ins1, eu, n_eu * sizeof *eu);
  memcpy(to->ins1 + n_eu, step->ins1, (step->n1 + 1) * sizeof *eu); /* with its end */
  return TR_OK;
}

static int build_stocks(compiler *c, tr_arena *a, tr_program *p) {
  const tr_flat *f = c->f;
  size_t ns = 0, nf = 0;
  for (size_t v = 0; v < f->n_vars; v++)
    if (f->vars[v].kind == TR_FV_STOCK) {
      ns++;
      nf += f->vars[v].n_inflows + f->vars[v].n_outflows;
    }
  p->n_stocks = ns;
  p->stocks = tr_arena_calloc(a, ns + 1, sizeof(int));
  p->flow_off = tr_arena_calloc(a, ns + 1, sizeof(int));
  p->flow_out = tr_arena_calloc(a, ns + 1, sizeof(int));
  p->flow_slot = tr_arena_calloc(a, nf + 1, sizeof(int));
  p->flow_sign = tr_arena_calloc(a, nf + 1, sizeof(double));
  p->stock_nonneg = tr_arena_calloc(a, ns + 1, 1);
  if (!p->stocks || !p->flow_off || !p->flow_out || !p->flow_slot || !p->flow_sign ||
      !p->stock_nonneg)
    return nomem(c);
  size_t si = 0, fi = 0;
  for (size_t v = 0; v < f->n_vars; v++) {
    const tr_fvar *fv = &f->vars[v];
    if (fv->kind != TR_FV_STOCK) continue;
    p->stocks[si] = (int)v;
    p->stock_nonneg[si] = (unsigned char)(fv->non_negative != 0);
    p->flow_off[si] = (int)fi;
    for (int pass = 0; pass < 2; pass++) {
      if (pass) p->flow_out[si] = (int)fi;
      const int *fl = pass ? fv->outflows : fv->inflows;
      size_t n = pass ? fv->n_outflows : fv->n_inflows;
      for (size_t k = 0; k < n; k++) {
        int w = fl[k];
        if (w < 0 || (size_t)w >= f->n_vars || f->vars[w].kind == TR_FV_GF ||
            f->vars[w].kind == TR_FV_STOCK)
          return tr_error_set(c->err, TR_ERR_INVALID, f->file, fv->eqn_pos.line, fv->eqn_pos.col,
                              "stock '%s' has a bad %s", fv->name, pass ? "outflow" : "inflow");
        p->flow_slot[fi] = w;
        p->flow_sign[fi++] = pass ? -1.0 : 1.0;
      }
    }
    si++;
  }
  p->flow_off[ns] = (int)fi;
  return TR_OK;
}

/* Single-lane register hints (TR_IF_*): an operand produced by the previous instruction is
 * read from the interpreter's register. */
static void peephole(tr_code *code) {
  for (size_t i = 1; i < code->n; i++) {
    tr_instr *prev = &code->ins[i - 1], *cur = &code->ins[i];
    if (!tr_vm_fast_op(cur->op)) continue;
    int binary = cur->op >= TR_I_ADD && cur->op <= TR_I_MAX2;
    if (cur->a == prev->d) cur->flags |= TR_IF_ACC_A;
    if (binary && cur->b == prev->d) cur->flags |= TR_IF_ACC_B;
  }
}

static int is_arith(int op) {
  return op >= TR_I_ADD && op <= TR_I_DIV;
}

/* One lane instruction as a one-lane one (TR_J_LANE when the one-lane interpreter has no
 * opcode for it). */
static tr_ins1 lower_one(const tr_instr *in, size_t index) {
  tr_ins1 j = {TR_J_LANE, in->d, (int)index, -1, -1, -1};
  int acc_a = (in->flags & TR_IF_ACC_A) != 0, acc_b = (in->flags & TR_IF_ACC_B) != 0;
  if (in->op >= TR_I_ADD && in->op <= TR_I_MAX2) {
    /* x OP x with x the previous result reads b from its slot (every result is stored) */
    j.op = TR_J_ADD_SS + 3 * (in->op - TR_I_ADD) + (acc_a ? 1 : acc_b ? 2 : 0);
    j.a = in->a;
    j.b = in->b;
    return j;
  }
  j.a = in->a;
  j.c = in->op == TR_I_FN1 ? in->fn : in->aux;
  switch (in->op) {
  case TR_I_MOV:
    j.op = TR_J_MOV_S + acc_a;
    break;
  case TR_I_NEGR:
    j.op = TR_J_NEG_S + acc_a;
    break;
  case TR_I_LNOT:
    j.op = TR_J_NOT_S + acc_a;
    break;
  case TR_I_MAX0:
    j.op = TR_J_MAX0_S + acc_a;
    break;
  case TR_I_FN1:
    j.op = TR_J_FN1_S + acc_a;
    break;
  case TR_I_GF:
    j.op = TR_J_GF_S + acc_a;
    break;
  case TR_I_SELECT:
    j.op = TR_J_SELECT;
    j.b = in->b;
    j.c = in->c;
    break;
  default:
    j.a = (int)index;
    j.c = -1;
    break;
  }
  return j;
}

/* Lower a block for the one-lane interpreter: operand modes into the opcodes, and two
 * adjacent + - * / of which the second takes the first's result as exactly one of its
 * operands fused into one instruction (one dispatch instead of two; the same operations in
 * the same order, so the same results). */
static int lower(compiler *c, tr_arena *a, tr_code *code) {
  code->ins1 = tr_arena_calloc(a, code->n + 1, sizeof(tr_ins1));
  if (!code->ins1) return nomem(c);
  size_t n = 0;
  for (size_t i = 0; i < code->n; i++) {
    const tr_instr *in = &code->ins[i], *nx = i + 1 < code->n ? &code->ins[i + 1] : NULL;
    int side = !nx                                                        ? -1
               : (nx->flags & (TR_IF_ACC_A | TR_IF_ACC_B)) == TR_IF_ACC_A ? 0
               : (nx->flags & (TR_IF_ACC_A | TR_IF_ACC_B)) == TR_IF_ACC_B ? 1
                                                                          : -1;
    if (side >= 0 && is_arith(in->op) && is_arith(nx->op)) {
      tr_ins1 j = {TR_J_ADD_ADD_L + 2 * (4 * (in->op - TR_I_ADD) + (nx->op - TR_I_ADD)) + side,
                   nx->d,
                   in->a,
                   in->b,
                   side ? nx->a : nx->b,
                   in->d};
      code->ins1[n++] = j;
      i++;
      continue;
    }
    code->ins1[n++] = lower_one(in, i);
  }
  code->ins1[n].op = TR_J_END;
  code->n1 = n;
  return TR_OK;
}

static void compiler_free(compiler *c, deps *dp, size_t nv) {
  tr_free(c->code.v);
  tr_free(c->fixed.v);
  tr_free(c->lits.v);
  tr_free(c->is_lit);
  tr_free(c->calls.v);
  tr_free(c->gfs.v);
  tr_free(c->args.v);
  tr_free(c->seeds.v);
  tr_free(c->prevs.v);
  tr_free(c->lit_ix.keys);
  tr_free(c->lit_ix.pos);
  tr_free(c->call_ix.keys);
  tr_free(c->call_ix.pos);
  if (dp)
    for (size_t v = 0; v < nv; v++) {
      tr_free(dp[v].init.v);
      tr_free(dp[v].step.v);
    }
  tr_free(dp);
}

#define ARENA_COPY(a, dst, src, n)                                                                 \
  do {                                                                                             \
    (dst) = tr_arena_calloc((a), (n) ? (n) : 1, sizeof *(src));                                    \
    if (!(dst)) goto oom;                                                                          \
    if (n) memcpy((dst), (src), (n) * sizeof *(src));                                              \
  } while (0)

int tr_compile(const tr_flat *f, tr_arena *a, tr_program *out, tr_error *err) {
  compiler c;
  memset(&c, 0, sizeof c);
  memset(out, 0, sizeof *out);
  c.f = f;
  c.err = err;
  c.var = -1;
  size_t nv = f->n_vars;
  if (nv > (size_t)(TEMP_BASE / 2))
    return tr_error_set(err, TR_ERR_LIMIT, f->file, 0, 0, "model has too many variables");
  c.n_vars = (int)nv;
  deps *dp = tr_calloc(nv ? nv : 1, sizeof *dp);
  int *order = tr_malloc((nv ? nv : 1) * sizeof *order);
  unsigned char *include = tr_calloc(nv ? nv : 1, 1);
  unsigned char *vclass = tr_arena_calloc(a, nv ? nv : 1, 1);
  int rc = TR_OK, slot;
  size_t n_order = 0;
  if (!dp || !order || !include || !vclass) goto oom;

  /* variable and special slots */
  for (size_t v = 0; v < nv + TR_N_SPECIAL; v++)
    if ((rc = new_fixed(&c, 0, 0, &slot))) goto fail;

  /* 1. classify: numbers first (a dry run of the equation that must fold to a literal) */
  for (size_t v = 0; v < nv; v++) {
    const tr_fvar *fv = &f->vars[v];
    vclass[v] = TR_VC_DYNAMIC; /* until shown to be a number or static */
    if (fv->kind == TR_FV_GF) {
      vclass[v] = TR_VC_GF;
      continue;
    }
    if (fv->kind == TR_FV_STOCK) {
      vclass[v] = TR_VC_STOCK;
    } else if (fv->eqn && !fv->gf && !(fv->kind == TR_FV_FLOW && fv->non_negative)) {
      size_t mark = c.code.n;
      int res;
      c.var = (int)v;
      c.temp_top = 0;
      if ((rc = emit(&c, fv->eqn, -1, &res))) goto fail;
      if (c.code.n == mark && is_literal(&c, res)) {
        vclass[v] = TR_VC_CONST;
        c.fixed.v[v] = c.fixed.v[res];
      }
      c.code.n = mark;
    }
    if ((rc = collect(fv->eqn, &dp[v], 0))) goto oom;
  }

  /* 2. initial-value order over everything with a value */
  for (size_t v = 0; v < nv; v++)
    include[v] = vclass[v] != TR_VC_GF;
  if ((rc = toposort(&c, dp, include, 0, order, &n_order))) goto fail;
  for (size_t i = 0; i < n_order; i++) {
    int v = order[i];
    if (vclass[v] != TR_VC_DYNAMIC) continue; /* GF, CONST or STOCK */
    int dyn = dp[v].dyn;
    for (size_t k = 0; k < dp[v].step.n && !dyn; k++) {
      int w = dp[v].step.v[k];
      dyn = vclass[w] == TR_VC_STOCK || vclass[w] == TR_VC_DYNAMIC;
    }
    vclass[v] = (unsigned char)(dyn ? TR_VC_DYNAMIC : TR_VC_STATIC);
  }
  c.init_phase = 1;
  for (size_t i = 0; i < n_order; i++)
    if (vclass[order[i]] != TR_VC_CONST && (rc = emit_var(&c, order[i]))) goto fail;
  if ((rc = take_code(&c, a, &out->init))) goto fail;
  /* the step when constants are shaped in time: static variables too, in the same order */
  c.init_phase = 0;
  for (size_t i = 0; i < n_order; i++)
    if ((vclass[order[i]] == TR_VC_STATIC || vclass[order[i]] == TR_VC_DYNAMIC) &&
        (rc = emit_var(&c, order[i])))
      goto fail;
  if ((rc = take_code(&c, a, &out->step_full))) goto fail;

  /* 3. step order over the dynamic variables (stocks are state: they break cycles) */
  c.init_phase = 0;
  for (size_t v = 0; v < nv; v++)
    include[v] = vclass[v] == TR_VC_DYNAMIC;
  if ((rc = toposort(&c, dp, include, 1, order, &n_order))) goto fail;
  for (size_t i = 0; i < n_order; i++)
    if ((rc = emit_var(&c, order[i]))) goto fail;
  if ((rc = take_code(&c, a, &out->step))) goto fail;

  /* 4. PREVIOUS arguments, evaluated after each step point into their pending slots */
  c.var = -1;
  for (size_t i = 0; i < c.prevs.n; i++) {
    const call_state *cs = &c.calls.v[c.prevs.v[i]];
    int res;
    c.temp_top = 0;
    c.var = cs->owner;
    if ((rc = emit(&c, cs->node->args[0], cs->aux, &res))) goto fail;
  }
  if ((rc = take_code(&c, a, &out->post))) goto fail;
  out->n_prev = c.prevs.n;
  out->prev_state = tr_arena_calloc(a, c.prevs.n + 1, sizeof(int));
  out->prev_pending = tr_arena_calloc(a, c.prevs.n + 1, sizeof(int));
  if (!out->prev_state || !out->prev_pending) goto oom;
  for (size_t i = 0; i < c.prevs.n; i++) {
    out->prev_state[i] = c.calls.v[c.prevs.v[i]].slot;
    out->prev_pending[i] = c.calls.v[c.prevs.v[i]].aux;
  }

  /* 5. the rest of the program */
  if ((rc = build_stocks(&c, a, out))) goto fail;
  out->flat = f;
  out->n_vars = nv;
  out->n_fixed = c.fixed.n;
  out->n_slots = c.fixed.n + (size_t)c.temp_max;
  out->vclass = vclass;
  for (size_t i = 0; i < c.args.n; i++)
    c.args.v[i] = remap(c.args.v[i], (int)c.fixed.n);
  ARENA_COPY(a, out->slot_init, c.fixed.v, c.fixed.n);
  ARENA_COPY(a, out->gfs, c.gfs.v, c.gfs.n);
  ARENA_COPY(a, out->args, c.args.v, c.args.n);
  ARENA_COPY(a, out->seeds, c.seeds.v, c.seeds.n);
  out->n_gfs = c.gfs.n;
  out->n_args = c.args.n;
  out->n_seeded = c.seeds.n;
  out->n_delays = c.n_delays;
  const tr_code *all[4] = {&out->init, &out->step, &out->post, &out->step_full};
  for (int k = 0; k < 4; k++)
    for (size_t i = 0; i < all[k]->n; i++) {
      int op = all[k]->ins[i].op;
      out->nan_sources |= op == TR_I_GF || op == TR_I_RANDOM || op == TR_I_STDDEV;
    }
  remap_code(&out->init, (int)c.fixed.n);
  remap_code(&out->step, (int)c.fixed.n);
  remap_code(&out->post, (int)c.fixed.n);
  remap_code(&out->step_full, (int)c.fixed.n);
  tr_code *blocks[4] = {&out->init, &out->step, &out->post, &out->step_full};
  for (int k = 0; k < 4; k++) {
    peephole(blocks[k]);
    if ((rc = lower(&c, a, blocks[k]))) goto fail;
  }
  tr_ins1 *eu = NULL;
  size_t n_eu = 0;
  if ((rc = euler_block(&c, a, out, &eu, &n_eu)) ||
      (rc = with_euler(&c, a, eu, n_eu, &out->step, &out->euler_step)))
    goto fail;
  out->euler.ins1 = eu;
  out->euler.n1 = n_eu;
  compiler_free(&c, dp, nv);
  tr_free(order);
  tr_free(include);
  return TR_OK;
oom:
  rc = nomem(&c);
fail:
  compiler_free(&c, dp, nv);
  tr_free(order);
  tr_free(include);
  memset(out, 0, sizeof *out);
  return rc;
}
