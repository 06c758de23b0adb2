/*
 * Private to the flattener (flatten*.c): the working state shared by its files.
 *
 * The flattener runs in two passes over the model IR:
 *  1. declare (flatten_module.c): walk the root <model>, inlining module instances
 *     recursively, and create one tr_fvar per scalar (one per element for arrays), in file
 *     order, with a map from qualified canonical name to index;
 *  2. define (flatten.c): parse each equation once and instantiate it per element
 *     (fl_inst), resolving names, subscripts (flatten_array.c), reductions, standalone
 *     graphical functions, macros and the stateful builtins that become hidden stocks
 *     (flatten_expand.c). Hidden variables are appended as they are made, so they come last.
 * Variables are always referred to by index: the vars array grows (tr_realloc) while
 * equations are instantiated, so a tr_fvar pointer must never be held across fl_inst.
 */
#ifndef TR_ENGINE_FLATTEN_IMPL_H
#define TR_ENGINE_FLATTEN_IMPL_H

#include "base/hashmap.h"
#include "engine/flat.h"
#include "expr/builtins.h"

#define FL_MAX_BINDS 32       /* nested dimension bindings in one equation */
#define FL_MAX_MACRO_DEPTH 32 /* macro calls inside macro calls */
#define FL_MAX_ORDER 1000     /* DELAYN / SMTHN stages */
#define FL_MAX_NODES 2000000  /* instantiated AST nodes per model (reductions of huge arrays) */

/* A model being instantiated: the root model, or a module's submodel. */
typedef struct fl_scope fl_scope;
struct fl_scope {
  const tr_model_def *model;
  const char *prefix;      /* canonical qualifier: "" at the root, "hares." in module hares */
  const char *name_prefix; /* the same as written, for output names */
  const fl_scope *parent;  /* NULL at the root */
};

/* One declared variable of a scope: a scalar or a whole array. */
typedef struct fl_decl {
  const tr_var *v;
  const fl_scope *scope;
  const char *qident;  /* scope prefix + v->ident */
  const tr_dim **dims; /* resolved dimensions, n_dims of them */
  size_t n_dims;
  int first;                  /* index of the first element's tr_fvar */
  size_t count;               /* number of elements (1 for a scalar) */
  const tr_connect *conn;     /* set when the enclosing module wires an outer value in */
  const fl_scope *conn_scope; /* where conn->from is resolved */
  int state;                  /* 0 not defined yet, 1 being defined, 2 defined */
} fl_decl;

/* A dimension bound to one element while an equation is instantiated. `reduce` marks the
 * bindings an array function makes for its wildcards. */
typedef struct fl_bind {
  const tr_dim *dim;
  size_t elem;
  int reduce;
} fl_bind;

/* One macro call being inlined. */
typedef struct fl_frame {
  const tr_macro *m;
  tr_ast **args; /* one per parameter: a NUM or a resolved NAME */
  int first;     /* index of the hidden copy of m->vars[0] */
  int depth;
} fl_frame;

/* Where an equation is being instantiated: names resolve in `scope` (or, inside a macro,
 * in `frame`), dimension names through `binds`; `text`/`pos` locate it for messages. */
typedef struct fl_site {
  const fl_scope *scope; /* NULL inside a macro body */
  const fl_frame *frame; /* NULL outside a macro body */
  fl_bind binds[FL_MAX_BINDS];
  size_t n_binds;
  const char *text; /* the equation text (node->pos counts bytes from here) */
  tr_srcpos pos;    /* where text starts in the file */
} fl_site;

typedef struct fl_ctx {
  const tr_xmile *x;
  tr_arena *a;
  tr_error *err;
  const char *file;
  tr_fvar *vars;   /* tr_realloc'ed while building; copied into the arena at the end */
  fl_decl **owner; /* per var: its declaration, NULL for hidden variables */
  size_t n_vars, cap_vars;
  fl_decl **decls; /* every declaration, in file order (tr_realloc'ed) */
  size_t n_decls, cap_decls;
  tr_map by_decl;   /* qualified variable ident -> fl_decl */
  unsigned counter; /* numbers hidden structures: "#smth1#3" */
  size_t nodes;     /* instantiated nodes so far (FL_MAX_NODES) */
} fl_ctx;

/* ---- flatten.c ------------------------------------------------------------------------ */
int fl_nomem(fl_ctx *c);
/* An error about user input at `node` (NULL: the start) of the site's equation. */
int fl_error_at(fl_ctx *c, const fl_site *s, const tr_ast *node, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
tr_ast *fl_node(fl_ctx *c, tr_ast_kind kind, int pos);
tr_ast *fl_num(fl_ctx *c, double v, int pos);
tr_ast *fl_ref(fl_ctx *c, int var, int pos); /* a resolved NAME of vars[var] */
tr_ast *fl_binary(fl_ctx *c, int op, tr_ast *l, tr_ast *r);
tr_ast *fl_call(fl_ctx *c, int builtin, int nargs, int pos);
tr_ast *fl_copy(fl_ctx *c, const tr_ast *n); /* deep copy of an instantiated tree */
/* Append a variable (copied); its index in *out. */
int fl_add_var(fl_ctx *c, const tr_fvar *v, fl_decl *owner, int *out);
int fl_add_flow(fl_ctx *c, int stock, int flow, int outflow);
/* Append a hidden variable "<base>.<part>" (e.g. "#smth1#3.stock1"). */
int fl_hidden(fl_ctx *c, tr_fvar_kind kind, const char *base, const char *part, tr_ast *eqn,
              int *out);
/* An instantiated expression that will be used several times: a NUM or NAME as is, anything
 * else through a hidden aux "<base>.<part>", so it is evaluated once. */
int fl_operand(fl_ctx *c, const char *base, const char *part, tr_ast *e, tr_ast **out);
/* Instantiate a parsed equation at a site: a new, fully resolved tree in *out. */
int fl_inst(fl_ctx *c, fl_site *s, const tr_ast *n, tr_ast **out);
/* Parse `len` bytes of `text` that start at `pos`. */
int fl_parse(fl_ctx *c, const char *text, size_t len, tr_srcpos pos, tr_ast **out);
/* Define a declaration (instantiate its equations) if not done yet. */
int fl_define(fl_ctx *c, fl_decl *d);
/* Resolve a variable name at a site to a var index, applying the site's dimension bindings
 * to an array used without subscripts. `node` locates errors. */
int fl_resolve(fl_ctx *c, fl_site *s, const char *ident, const char *raw, const tr_ast *node,
               int *out);
/* The unknown-name error for `ident` at node, suggesting the closest name in scope;
 * `what` is "variable", ... */
int fl_unknown_name(fl_ctx *c, const fl_site *s, const tr_ast *node, const char *what,
                    const char *ident, const char *raw);
/* The declaration named `ident` in scope (qualified lookup), or NULL. */
fl_decl *fl_lookup(fl_ctx *c, const fl_scope *scope, const char *ident);
/* Evaluate a constant expression; 1 if constant (value in *v), 0 if not, <0 on error. */
int fl_const_value(fl_ctx *c, const tr_ast *n, double *v);

/* ---- flatten_module.c ------------------------------------------------------------------- */
/* Pass 1: declare every variable of `model` (recursively through modules). */
int fl_declare(fl_ctx *c, const fl_scope *scope);

/* ---- flatten_array.c -------------------------------------------------------------------- */
const tr_dim *fl_find_dim(const tr_xmile *x, const char *ident);
/* Innermost binding of `dim` (only bindings made by array functions when reduce_only). */
const fl_bind *fl_binding(const fl_site *s, const tr_dim *dim, int reduce_only);
/* Instantiate a TR_AST_INDEX node. */
int fl_inst_index(fl_ctx *c, fl_site *s, const tr_ast *n, tr_ast **out);
/* Instantiate a call of an array function (SUM, MEAN, MIN, MAX, SIZE, STDDEV) whose
 * arguments range over arrays; *handled = 0 when no argument does (a plain scalar call). */
int fl_inst_reduce(fl_ctx *c, fl_site *s, const tr_ast *n, tr_ast **out, int *handled);
/* Element index (0-based, row-major) of an <element subscript="..."> of declaration d. */
int fl_element_index(fl_ctx *c, const fl_decl *d, const tr_element *e, size_t *out);
/* Split an array literal "1, 2; 3, 4" into its top-level pieces: *n_out pieces, offsets
 * and lengths into text (arena). A text without top-level ',' or ';' is one piece. */
int fl_split_literal(fl_ctx *c, const char *text, size_t **offs, size_t **lens, size_t *n_out);

/* ---- flatten_expand.c ------------------------------------------------------------------- */
/* Expand DELAY1/DELAY3/DELAYN/SMTH1/SMTH3/SMTHN/TREND/FORCST (args already instantiated)
 * into hidden stocks and flows; *out references the result. */
int fl_expand(fl_ctx *c, fl_site *s, const tr_ast *call, tr_ast **args, tr_ast **out);
/* Inline a call of macro m (args already instantiated). */
int fl_inline_macro(fl_ctx *c, fl_site *s, const tr_macro *m, const tr_ast *call, tr_ast **args,
                    tr_ast **out);

#endif
