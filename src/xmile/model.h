/*
 * The model IR: what the XMILE reader produces and the flattener (engine/flatten.c)
 * consumes. It is a faithful, still-textual picture of the file: equations are raw strings
 * (parsed later by expr/), names are kept both as written (for output and messages) and in
 * canonical form (tr_canon_ident in base/text.h, for lookup). Everything lives in the
 * tr_xmile's arena and is freed with it. Positions are 1-based line/column in `file`.
 */
#ifndef TR_XMILE_MODEL_H
#define TR_XMILE_MODEL_H

#include "base/arena.h"
#include "tightrope/base.h"

#include <stddef.h>

typedef struct tr_srcpos {
  int line; /* 1-based, 0 if unknown */
  int col;  /* 1-based, 0 if unknown */
} tr_srcpos;

typedef enum { TR_GF_CONTINUOUS, TR_GF_EXTRAPOLATE, TR_GF_DISCRETE } tr_gf_type;

/* A graphical function (lookup table). The reader fills x from <xpts> or from <xscale>
 * (evenly spaced over n = number of ypts) and rejects unsorted x with an error. */
typedef struct tr_gf {
  tr_gf_type type;
  size_t n;  /* number of points, >= 1 */
  double *x; /* ascending */
  double *y;
  const char *name; /* standalone <gf name=...>: as written; inline: NULL */
  tr_srcpos pos;
} tr_gf;

typedef enum {
  TR_VK_STOCK,
  TR_VK_FLOW,
  TR_VK_AUX,
  TR_VK_GF,    /* standalone graphical function, called by name like a function */
  TR_VK_MODULE /* instance of another <model> */
} tr_var_kind;

/* One <element subscript="..."> of a non-apply-to-all array variable. */
typedef struct tr_element {
  const char *subscript; /* raw, e.g. "boston, 1" */
  const char *eqn;       /* raw equation text or NULL */
  tr_srcpos eqn_pos;     /* where the equation text starts */
  tr_gf *gf;             /* per-element graphical function or NULL */
} tr_element;

/* <connect to="..." from="..."/> inside a <module>: `to` is a name inside the module
 * ("hares.area" style is normalised to the part after the module: just "area"), `from` a name
 * in the enclosing model (possibly "other_module.var"). Both canonical. */
typedef struct tr_connect {
  const char *to;
  const char *from;
  tr_srcpos pos;
} tr_connect;

typedef struct tr_var {
  tr_var_kind kind;
  const char *name;     /* as written (quotes and escapes resolved), used for output */
  const char *ident;    /* canonical */
  const char *eqn;      /* raw equation text (stock: initial value), NULL if absent */
  tr_srcpos pos;        /* the variable's start tag */
  tr_srcpos eqn_pos;    /* where the equation text starts */
  const char *units;    /* NULL if absent */
  const char *doc;      /* NULL if absent */
  int non_negative;     /* stock/flow: 1 if <non_negative/> (or behavior default applies) */
  const char **inflows; /* stock: canonical flow names */
  size_t n_inflows;
  const char **outflows;
  size_t n_outflows;
  tr_gf *gf;         /* inline <gf> (the eqn is the gf's input), or the standalone gf */
  const char **dims; /* canonical dimension names, in order; NULL/0 for scalars */
  size_t n_dims;
  tr_element *elements; /* per-element equations (non-apply-to-all arrays) */
  size_t n_elements;
  const char *module_model; /* module: canonical name of the <model> it instantiates */
  tr_connect *connects;     /* module: its wiring */
  size_t n_connects;
  int is_input; /* access="input": may be set by a <connect> from outside */
} tr_var;

/* A dimension: named elements, or a size with elements "1".."size". */
typedef struct tr_dim {
  const char *name;  /* as written */
  const char *ident; /* canonical */
  size_t size;
  const char **elems;      /* canonical element names (size entries) */
  const char **elem_names; /* element names as written, for output columns */
} tr_dim;

/* A <macro name="F"><parm>a</parm>...<eqn>...</eqn><variables>...</variables></macro>. */
typedef struct tr_macro {
  const char *name;
  const char *ident;
  const char **params; /* canonical parameter names */
  size_t n_params;
  const char *eqn; /* the macro's result expression */
  tr_srcpos eqn_pos;
  tr_var *vars; /* the macro's own variables (may include stocks), or NULL */
  size_t n_vars;
  tr_srcpos pos;
} tr_macro;

/* One <model>: the root has name NULL; submodels are named and instantiated by modules. */
typedef struct tr_model_def {
  const char *name;  /* as written, NULL for the root model */
  const char *ident; /* canonical, NULL for the root */
  tr_var *vars;
  size_t n_vars;
  tr_srcpos pos;
} tr_model_def;

typedef enum { TR_METHOD_EULER, TR_METHOD_RK2, TR_METHOD_RK4 } tr_method;

typedef struct tr_sim_specs {
  double start;
  double stop;
  double dt; /* already inverted when <dt reciprocal="true"> */
  tr_method method;
  const char *time_units; /* NULL if absent */
} tr_sim_specs;

typedef struct tr_xmile {
  tr_arena arena;   /* owns everything below */
  const char *file; /* the path it was read from, or the name given for a buffer */
  tr_sim_specs specs;
  tr_dim *dims;
  size_t n_dims;
  tr_model_def *models; /* models[0] is the root model */
  size_t n_models;
  tr_macro *macros;
  size_t n_macros;
  const char *vendor; /* header metadata, NULL if absent */
  const char *product;
  const char *model_name; /* <header><name> */
  const char *doc;        /* model-level documentation */
} tr_xmile;

/* Read an XMILE file. On success *out owns a new tr_xmile (free with tr_xmile_free). On
 * failure returns TR_ERR_IO (cannot read), TR_ERR_PARSE (malformed XML, with line:col) or
 * TR_ERR_INVALID (well-formed XML that is not a usable model: missing sim_specs, unsorted
 * gf x, bad number, ...) with the details, in GNU form, in err. Also: TR_ERR_UNSUPPORTED (a
 * construct the engine does not model, e.g. conveyor and queue stocks), TR_ERR_LIMIT (input
 * over 256 MiB or more than 1,000,000 variables), TR_ERR_NOMEM. */
int tr_xmile_read_file(const char *path, tr_xmile **out, tr_error *err);

/* Same, from memory; `filename` names the buffer in messages. */
int tr_xmile_read_buffer(const char *buf, size_t len, const char *filename, tr_xmile **out,
                         tr_error *err);

/* Free a model read by the functions above; NULL is a no-op. */
void tr_xmile_free(tr_xmile *x);

#endif
