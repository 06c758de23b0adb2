/*
 * The flat model: what the flattener (flatten.c) makes of a tr_xmile and the compiler
 * (compile.c) turns into bytecode. Everything is scalar and fully resolved:
 *  - modules are inlined, their variables named "module.var" (nested: "a.b.var"), and
 *    <connect> inputs replaced by references to the connected outer variable;
 *  - arrays are expanded element by element: "a[x]", "m[1,boston]" (element names as
 *    written in the dimension), apply-to-all equations instantiated per element, wildcards
 *    and reductions (SUM(a[*])) turned into calls over the element references;
 *  - macros are inlined (their stocks become hidden stocks of the caller);
 *  - DELAY1/DELAY3/DELAYN/SMTH1/SMTH3/SMTHN/TREND/FORCST are expanded into hidden stocks and
 *    flows, initialised as Stella does, and the call replaced by a reference to the result;
 *  - every TR_AST_NAME has `var` set to an index into tr_flat.vars; calls to standalone
 *    graphical functions become TR_AST_CALL with builtin TR_FN_LOOKUP and args
 *    (NAME of the gf variable, x); no TR_AST_INDEX or TR_AST_WILDCARD remains.
 *    The NAME may also be an aux or flow with an inline gf called by name (vars[var].gf is
 *    the table); reductions may carry any number of arguments (SUM, STDDEV included); a
 *    subscript that varies during the run becomes IF i = 1 THEN a[1] ELSE ... ELSE NaN
 *    (a TR_AST_NUM holding NaN).
 * What is left for the compiler: pure builtins, DELAY (fixed pipeline), INIT, PREVIOUS,
 * random functions, PULSE/STEP/RAMP, time functions, SAFEDIV, LOOKUP.
 */
#ifndef TR_ENGINE_FLAT_H
#define TR_ENGINE_FLAT_H

#include "expr/ast.h"
#include "xmile/model.h"

typedef enum {
  TR_FV_STOCK, /* eqn = initial value; integrated from inflows - outflows */
  TR_FV_FLOW,  /* eqn = rate */
  TR_FV_AUX,   /* eqn = value (constant when it references nothing time-varying) */
  TR_FV_GF     /* a standalone graphical function: not a value, only called via LOOKUP */
} tr_fvar_kind;

typedef struct tr_fvar {
  tr_fvar_kind kind;
  const char *name;  /* output column name: "Teacup Temperature", "a[x]", "hares.hares" */
  const char *ident; /* canonical qualified name: "teacup_temperature", "a[x]", "hares.hares" */
  tr_ast *eqn;       /* resolved; NULL only for TR_FV_GF */
  const tr_gf *gf;   /* inline gf applied to the value of eqn, or the standalone table */
  int *inflows;      /* stock: indices of flow variables */
  size_t n_inflows;
  int *outflows;
  size_t n_outflows;
  int non_negative; /* stock: never below 0; flow: uniflow (clamped at 0) */
  int hidden;       /* generated (delay stages, macro internals): not in default output */
  const char *units;
  const char *doc;
  tr_srcpos eqn_pos;    /* where this variable's equation text starts in the file */
  const char *eqn_text; /* the equation text, for messages and the model page */
} tr_fvar;

typedef struct tr_flat {
  const char *file; /* for messages */
  tr_sim_specs specs;
  tr_fvar *vars; /* in file order (modules and arrays expanded in place), hidden last */
  size_t n_vars;
} tr_flat;

/* Flatten a model read by the XMILE reader. Allocates in arena `a` (which must outlive the
 * result; x must outlive it too, since strings are shared). Errors carry file:line:col of the
 * equation at fault: TR_ERR_PARSE, TR_ERR_ARITY, TR_ERR_UNKNOWN_NAME (with "did you mean"),
 * TR_ERR_DIMENSION, TR_ERR_INVALID (e.g. a module of an unknown model, a recursive module). */
int tr_flatten(const tr_xmile *x, tr_arena *a, tr_flat *out, tr_error *err);

/* Index of a variable by canonical qualified name, or -1. */
int tr_flat_find(const tr_flat *f, const char *ident);

#endif
