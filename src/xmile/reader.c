/*
 * XMILE reader: XMILE 1.0 text (as Stella, Vensim, sdCloud and hand coders write it) into the
 * model IR of xmile/model.h.
 *
 * Expat runs WITHOUT namespace processing: most files in the wild use an undeclared `isee:`
 * prefix, which a namespace-aware parser rejects. Element names are matched on their local
 * part (anything before the last ':' is dropped). The parser is XML_ParserCreate_MM(NULL, mm,
 * NULL) — XML_ParserCreate(NULL) with our allocator — so allocation-failure injection reaches
 * expat too.
 *
 * Quirks of real files that are accepted (see the suite's CATALOGUE.md):
 *  - Stella: "\n" inside names (a space in `name`, a separator in `ident`); legacy (pre-1.0)
 *    files with variables directly under <model>; <gf discrete="true">; module <connect>
 *    written "to=module.var from=.var".
 *  - sdCloud: the only model is <model name="default">: with no unnamed model, the first one
 *    is the root; <non_negative>false</non_negative> overrides a <behavior> default.
 *  - Vensim: an arrayed variable written as one <eqn> per element without <element>
 *    wrappers becomes per-element equations (row-major); blank <units/>, <doc/>, <name/>.
 *
 * The parse is a small state machine over a stack of frames, one per open element we care
 * about. Unknown elements (views, styles, display objects, vendor extensions) open an ignored
 * subtree: nothing inside them is looked at, so a <stock> drawn in a <view> is not a variable.
 * Everything the IR holds is built in the tr_xmile's arena; growable arrays grow inside the
 * arena too (doubling, so the waste is bounded by the final size) which makes every failure
 * path a single tr_arena_release.
 *
 * Limits, to keep hostile input from taking the machine down: files over 256 MiB and models
 * with more than 1,000,000 variables (all models and macros together) are refused with
 * TR_ERR_LIMIT. Nesting depth is bounded by the ignored-subtree rule: only a fixed, shallow
 * set of element paths opens a frame.
 */
#include "xmile/reader_impl.h"

#include "base/hashmap.h"
#include "base/strbuf.h"
#include "base/text.h"

#include <expat.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_FRAMES 32
#define READ_CHUNK 65536

/* ---- growable arrays in the arena ------------------------------------------------------ */

typedef struct vec {
  void *data;
  size_t n;
  size_t cap;
} vec;

/* ---- builders ---------------------------------------------------------------------------- */

/* A variable under construction, with what the IR has no room for: where each inflow and
 * outflow was named (for "names nothing" errors) and whether <non_negative> was explicit. */
typedef struct varrec {
  tr_var v;
  tr_srcpos *in_pos;
  tr_srcpos *out_pos;
  int nn;            /* -1: not given (behavior defaults apply), 0 or 1: given */
  const char **eqns; /* every <eqn> child: Vensim exports an arrayed variable as one <eqn>
                      * per element, in order, without <element> wrappers */
  tr_srcpos *eqn_pos;
  size_t n_eqns;
} varrec;

typedef struct model_b {
  tr_model_def def;
  vec vars;      /* varrec */
  int beh_stock; /* <behavior> inside this <model>: -1 unset */
  int beh_flow;
} model_b;

typedef struct macro_b {
  tr_macro m;
  vec params; /* const char * */
  vec vars;   /* varrec */
} macro_b;

typedef enum {
  C_NONE,
  C_XMILE,
  C_HEADER,
  C_SPECS,
  C_DIMS,
  C_DIM,
  C_BEHAVIOR,
  C_BEHAVIOR_KIND,
  C_MODEL,
  C_MACRO,
  C_VARIABLES,
  C_VAR,
  C_VAR_DIMS,
  C_GF,
  C_ELEMENT,
  C_TEXT,
  C_LEAF /* a known element whose content we do not read (<elem>, <connect>, ...) */
} ctx;

/* What a C_TEXT frame's text becomes when the element closes. */
typedef enum {
  F_VENDOR,
  F_PRODUCT,
  F_HEADER_NAME,
  F_MODEL_DOC,
  F_START,
  F_STOP,
  F_DT,
  F_EQN,
  F_UNITS,
  F_DOC,
  F_INFLOW,
  F_OUTFLOW,
  F_NONNEG,
  F_XPTS,
  F_YPTS,
  F_ELEM_EQN,
  F_PARM,
  F_MACRO_EQN
} field;

typedef struct frame {
  ctx c;
  field f;     /* C_TEXT only */
  int kind;    /* C_BEHAVIOR_KIND: 0 all, 1 stock, 2 flow; C_BEHAVIOR: 0 global, 1 model */
  char sep[8]; /* C_TEXT of xpts/ypts: separator */
} frame;

typedef struct parser {
  XML_Parser xp;
  tr_xmile *x;
  tr_arena *a;
  tr_error *err;
  const char *file;
  int status; /* first error, TR_OK while fine */

  frame st[MAX_FRAMES];
  int nst;
  long depth;        /* element depth, including ignored ones */
  long ignore_depth; /* > 0: inside an ignored subtree opened at this depth */

  tr_sb text; /* character data of the open C_TEXT frame */
  int text_on;
  tr_srcpos text_pos; /* where that character data started (0/0 before the first byte) */

  int have_specs, have_start, have_stop, have_dt;
  int dt_reciprocal;
  int beh_stock, beh_flow; /* file-level <behavior>: -1 unset */

  vec dims;      /* tr_dim */
  vec dim_elems; /* current <dim>: const char * canonical */
  vec dim_names; /* current <dim>: const char * as written */
  tr_dim cur_dim;
  tr_srcpos dim_pos; /* its start tag */
  int dim_has_size;

  vec models;     /* model_b */
  vec macros;     /* macro_b */
  vec *container; /* where finished variables go: a model's or a macro's vars */

  varrec var; /* the open variable */
  vec ins, in_pos, outs, out_pos, vdims, elems, conns, veqns, veqn_pos;

  tr_element elem; /* the open <element> */

  int in_gf;
  int gf_owner; /* 0: variable (inline or standalone), 1: element */
  tr_gf gf;
  vec gx, gy;
  int gf_has_xpts, gf_has_xscale;
  double xmin, xmax;

  unsigned long n_vars_total;
  unsigned long max_vars;
} parser;

/* ---- errors ------------------------------------------------------------------------------- */

/* Record the first error and stop expat; later errors are ignored (the first is the cause). */
static int fail(parser *p, int code, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static int fail(parser *p, int code, int line, int col, const char *fmt, ...) {
  if (p->status != TR_OK) return p->status;
  va_list ap;
  va_start(ap, fmt);
  tr_error_setv(p->err, code, p->file, line, col, fmt, ap);
  va_end(ap);
  p->status = code;
  if (p->xp) XML_StopParser(p->xp, XML_FALSE);
  return code;
}

static int nomem(parser *p) {
  return fail(p, TR_ERR_NOMEM, 0, 0, "out of memory");
}

static tr_srcpos here(const parser *p) {
  tr_srcpos s;
  s.line = (int)XML_GetCurrentLineNumber(p->xp);
  s.col = (int)XML_GetCurrentColumnNumber(p->xp) + 1;
  return s;
}

/* ---- small helpers ------------------------------------------------------------------------ */

/* Append a zeroed slot of `size` bytes to v; NULL (and the parser failed) when out of memory. */
static void *vec_push(parser *p, vec *v, size_t size) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 4;
    void *d = tr_arena_calloc(p->a, cap, size);
    if (!d) {
      nomem(p);
      return NULL;
    }
    if (v->n) memcpy(d, v->data, v->n * size);
    v->data = d;
    v->cap = cap;
  }
  void *slot = (char *)v->data + v->n * size;
  v->n++;
  return slot;
}

static int push_str(parser *p, vec *v, const char *s) {
  const char **slot = vec_push(p, v, sizeof *slot);
  if (!slot) return p->status;
  *slot = s;
  return TR_OK;
}

static int push_pos(parser *p, vec *v, tr_srcpos pos) {
  tr_srcpos *slot = vec_push(p, v, sizeof *slot);
  if (!slot) return p->status;
  *slot = pos;
  return TR_OK;
}

static void vec_clear(vec *v) {
  v->data = NULL;
  v->n = 0;
  v->cap = 0;
}

/* The local part of an element name: "isee:gf" -> "gf". */
static const char *local_name(const char *name) {
  const char *c = strrchr(name, ':');
  return c ? c + 1 : name;
}

static int is(const char *a, const char *b) {
  return strcmp(a, b) == 0;
}

static int is_var_element(const char *el) {
  return is(el, "stock") || is(el, "flow") || is(el, "aux") || is(el, "gf") || is(el, "module");
}

static const char *attr(const char **atts, const char *name) {
  for (size_t i = 0; atts[i]; i += 2)
    if (is(local_name(atts[i]), name)) return atts[i + 1];
  return NULL;
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copy of s[0..n) trimmed of surrounding white space, or NULL when nothing is left (or out of
 * memory, which the caller tells apart through p->status). */
static char *trimmed(parser *p, const char *s, size_t n) {
  size_t i = 0;
  while (i < n && is_space(s[i]))
    i++;
  while (n > i && is_space(s[n - 1]))
    n--;
  if (i == n) return NULL;
  char *r = tr_arena_strndup(p->a, s + i, n - i);
  if (!r) nomem(p);
  return r;
}

/* The canonical identifier of a raw name (tr_canon_ident), in the arena. */
static const char *canon(parser *p, const char *raw) {
  size_t len = strlen(raw);
  size_t need = tr_canon_ident(raw, len, NULL, 0);
  char *out = tr_arena_alloc(p->a, need + 1);
  if (!out) {
    nomem(p);
    return NULL;
  }
  tr_canon_ident(raw, len, out, need + 1);
  return out;
}

/* A name as written, for output and messages: surrounding white space and one pair of quotes
 * removed, Stella's "\n" and raw line breaks turned into a space, "\\" and "\"" resolved. */
static const char *display_name(parser *p, const char *raw) {
  size_t i = 0, end = strlen(raw);
  while (i < end && is_space(raw[i]))
    i++;
  while (end > i && is_space(raw[end - 1]))
    end--;
  if (end - i >= 2 && raw[i] == '"' && raw[end - 1] == '"') {
    i++;
    end--;
  }
  char *out = tr_arena_alloc(p->a, end - i + 1);
  if (!out) {
    nomem(p);
    return NULL;
  }
  size_t n = 0;
  for (; i < end; i++) {
    char c = raw[i];
    if (c == '\\' && i + 1 < end) {
      char d = raw[i + 1];
      if (d == 'n' || d == 'r' || d == 't') {
        c = ' ';
        i++;
      } else if (d == '\\' || d == '"') {
        c = d;
        i++;
      }
    } else if (c == '\n' || c == '\r' || c == '\t') {
      c = ' ';
    }
    out[n++] = c;
  }
  out[n] = '\0';
  return out;
}

/* Parse a whole string as a finite double (surrounding white space allowed). */
static int parse_double(const char *s, size_t n, double *out) {
  while (n > 0 && is_space(*s)) {
    s++;
    n--;
  }
  while (n > 0 && is_space(s[n - 1]))
    n--;
  if (n == 0 || n > 63) return 0;
  char buf[64];
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *end;
  double v = strtod(buf, &end);
  if (*end != '\0' || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

/* ---- frames --------------------------------------------------------------------------------- */

static frame *top(parser *p) {
  return &p->st[p->nst - 1];
}

static frame *push(parser *p, ctx c) {
  if (p->nst == MAX_FRAMES) { /* unreachable by construction; treat as a limit */
    fail(p, TR_ERR_LIMIT, here(p).line, here(p).col, "XMILE nesting too deep");
    return NULL;
  }
  frame *f = &p->st[p->nst++];
  memset(f, 0, sizeof *f);
  f->c = c;
  return f;
}

static void ignore(parser *p) {
  p->ignore_depth = p->depth;
}

/* Open a text-collecting frame for field f. */
static frame *text_frame(parser *p, field fl) {
  frame *f = push(p, C_TEXT);
  if (!f) return NULL;
  f->f = fl;
  tr_sb_reset(&p->text);
  p->text_on = 1;
  p->text_pos.line = 0;
  p->text_pos.col = 0;
  return f;
}

/* ---- start handlers per context ------------------------------------------------------------- */

static void begin_var(parser *p, const char *el, const char **atts) {
  tr_srcpos pos = here(p);
  tr_var_kind k;
  if (is(el, "stock"))
    k = TR_VK_STOCK;
  else if (is(el, "flow"))
    k = TR_VK_FLOW;
  else if (is(el, "aux"))
    k = TR_VK_AUX;
  else if (is(el, "gf"))
    k = TR_VK_GF;
  else
    k = TR_VK_MODULE;
  const char *name = attr(atts, "name");
  if (!name || !*name) {
    fail(p, TR_ERR_INVALID, pos.line, pos.col, "<%s> without a name", el);
    return;
  }
  if (++p->n_vars_total > p->max_vars) {
    fail(p, TR_ERR_LIMIT, pos.line, pos.col, "more than %lu variables", p->max_vars);
    return;
  }
  memset(&p->var, 0, sizeof p->var);
  p->var.nn = -1;
  tr_var *v = &p->var.v;
  v->kind = k;
  v->pos = pos;
  v->name = display_name(p, name);
  v->ident = canon(p, name);
  if (!v->name || !v->ident) return;
  if (!*v->ident) {
    fail(p, TR_ERR_INVALID, pos.line, pos.col, "<%s> with an empty name", el);
    return;
  }
  const char *acc = attr(atts, "access");
  v->is_input = acc && strcasecmp(acc, "input") == 0;
  if (k == TR_VK_MODULE) {
    const char *m = attr(atts, "model");
    v->module_model = m && *m ? canon(p, m) : v->ident;
  }
  vec_clear(&p->ins);
  vec_clear(&p->in_pos);
  vec_clear(&p->outs);
  vec_clear(&p->out_pos);
  vec_clear(&p->vdims);
  vec_clear(&p->elems);
  vec_clear(&p->conns);
  vec_clear(&p->veqns);
  vec_clear(&p->veqn_pos);
  push(p, C_VAR);
}

static void begin_gf(parser *p, const char **atts, int owner) {
  memset(&p->gf, 0, sizeof p->gf);
  p->gf.pos = here(p);
  p->gf.type = TR_GF_CONTINUOUS;
  const char *t = attr(atts, "type");
  if (t) {
    if (strcasecmp(t, "continuous") == 0)
      p->gf.type = TR_GF_CONTINUOUS;
    else if (strcasecmp(t, "extrapolate") == 0)
      p->gf.type = TR_GF_EXTRAPOLATE;
    else if (strcasecmp(t, "discrete") == 0)
      p->gf.type = TR_GF_DISCRETE;
    else {
      fail(p, TR_ERR_INVALID, p->gf.pos.line, p->gf.pos.col,
           "graphical function of '%s': unknown type '%s' (continuous, extrapolate or discrete)",
           p->var.v.name, t);
      return;
    }
  }
  const char *d = attr(atts, "discrete"); /* older Stella files */
  if (!t && d && strcasecmp(d, "true") == 0) p->gf.type = TR_GF_DISCRETE;
  vec_clear(&p->gx);
  vec_clear(&p->gy);
  p->gf_has_xpts = 0;
  p->gf_has_xscale = 0;
  p->gf_owner = owner;
  p->in_gf = 1;
}

static void gf_child(parser *p, const char *el, const char **atts) {
  if (is(el, "xpts") || is(el, "ypts")) {
    frame *f = text_frame(p, is(el, "xpts") ? F_XPTS : F_YPTS);
    if (!f) return;
    const char *sep = attr(atts, "sep");
    if (!sep || !*sep) sep = ",";
    if (strlen(sep) >= sizeof f->sep) {
      tr_srcpos pos = here(p);
      fail(p, TR_ERR_INVALID, pos.line, pos.col, "graphical function of '%s': separator too long",
           p->var.v.name);
      return;
    }
    strcpy(f->sep, sep);
  } else if (is(el, "xscale")) {
    tr_srcpos pos = here(p);
    const char *mn = attr(atts, "min"), *mx = attr(atts, "max");
    if (!mn || !mx || !parse_double(mn, strlen(mn), &p->xmin) ||
        !parse_double(mx, strlen(mx), &p->xmax)) {
      fail(p, TR_ERR_INVALID, pos.line, pos.col,
           "graphical function of '%s': <xscale> needs numeric min and max", p->var.v.name);
      return;
    }
    p->gf_has_xscale = 1;
    push(p, C_LEAF);
  } else {
    ignore(p); /* yscale and display hints */
  }
}

static void start_xmile_child(parser *p, const char *el, const char **atts) {
  if (is(el, "header")) {
    push(p, C_HEADER);
  } else if (is(el, "sim_specs")) {
    tr_srcpos pos = here(p);
    p->have_specs = 1;
    const char *m = attr(atts, "method");
    if (m) {
      if (strcasecmp(m, "euler") == 0)
        p->x->specs.method = TR_METHOD_EULER;
      else if (strcasecmp(m, "rk2") == 0)
        p->x->specs.method = TR_METHOD_RK2;
      else if (strcasecmp(m, "rk4") == 0)
        p->x->specs.method = TR_METHOD_RK4;
      else {
        fail(p, TR_ERR_INVALID, pos.line, pos.col,
             "sim_specs: unknown method '%s' (euler, rk2 or rk4)", m);
        return;
      }
    }
    const char *tu = attr(atts, "time_units");
    if (tu && *tu) {
      p->x->specs.time_units = tr_arena_strdup(p->a, tu);
      if (!p->x->specs.time_units) {
        nomem(p);
        return;
      }
    }
    push(p, C_SPECS);
  } else if (is(el, "dimensions")) {
    push(p, C_DIMS);
  } else if (is(el, "behavior")) {
    frame *f = push(p, C_BEHAVIOR);
    if (f) f->kind = 0;
  } else if (is(el, "model")) {
    model_b *m = vec_push(p, &p->models, sizeof *m);
    if (!m) return;
    m->beh_stock = m->beh_flow = -1;
    m->def.pos = here(p);
    const char *name = attr(atts, "name");
    if (name && *name) {
      m->def.name = display_name(p, name);
      m->def.ident = canon(p, name);
    }
    push(p, C_MODEL);
  } else if (is(el, "macro")) {
    tr_srcpos pos = here(p);
    const char *name = attr(atts, "name");
    if (!name || !*name) {
      fail(p, TR_ERR_INVALID, pos.line, pos.col, "<macro> without a name");
      return;
    }
    macro_b *m = vec_push(p, &p->macros, sizeof *m);
    if (!m) return;
    m->m.pos = pos;
    m->m.name = display_name(p, name);
    m->m.ident = canon(p, name);
    push(p, C_MACRO);
  } else if (is(el, "doc")) {
    text_frame(p, F_MODEL_DOC);
  } else {
    ignore(p);
  }
}

static void start_dim(parser *p, const char **atts) {
  tr_srcpos pos = here(p);
  const char *name = attr(atts, "name");
  if (!name || !*name) {
    fail(p, TR_ERR_INVALID, pos.line, pos.col, "<dim> without a name");
    return;
  }
  memset(&p->cur_dim, 0, sizeof p->cur_dim);
  p->dim_pos = pos;
  p->cur_dim.name = display_name(p, name);
  p->cur_dim.ident = canon(p, name);
  p->dim_has_size = 0;
  const char *size = attr(atts, "size");
  if (size) {
    double s;
    if (!parse_double(size, strlen(size), &s) || s < 1 || s != floor(s)) {
      fail(p, TR_ERR_INVALID, pos.line, pos.col,
           "dimension '%s': size '%s' is not a positive whole number", name, size);
      return;
    }
    if (s > (double)TR_XMILE_MAX_VARS) { /* a size the model could never hold */
      fail(p, TR_ERR_LIMIT, pos.line, pos.col,
           "dimension '%s': size %s is over the limit of %lu elements", name, size,
           (unsigned long)TR_XMILE_MAX_VARS);
      return;
    }
    p->cur_dim.size = (size_t)s;
    p->dim_has_size = 1;
  }
  vec_clear(&p->dim_elems);
  vec_clear(&p->dim_names);
  push(p, C_DIM);
}

static void start_var_child(parser *p, const char *el, const char **atts) {
  tr_var *v = &p->var.v;
  if (v->kind == TR_VK_GF) { /* a standalone <gf name=...>: its children are the gf's */
    gf_child(p, el, atts);
    return;
  }
  if (is(el, "eqn"))
    text_frame(p, F_EQN);
  else if (is(el, "units"))
    text_frame(p, F_UNITS);
  else if (is(el, "doc"))
    text_frame(p, F_DOC);
  else if (is(el, "inflow") && v->kind == TR_VK_STOCK)
    text_frame(p, F_INFLOW);
  else if (is(el, "outflow") && v->kind == TR_VK_STOCK)
    text_frame(p, F_OUTFLOW);
  else if (is(el, "non_negative"))
    text_frame(p, F_NONNEG);
  else if (is(el, "dimensions"))
    push(p, C_VAR_DIMS);
  else if ((is(el, "conveyor") || is(el, "queue")) && v->kind == TR_VK_STOCK) {
    /* read as a plain stock it would give a silently wrong answer: refuse it instead */
    tr_srcpos pos = here(p);
    fail(p, TR_ERR_UNSUPPORTED, pos.line, pos.col, "stock '%s': %ss are not supported", v->name,
         el);
  } else if (is(el, "gf") && !p->in_gf) {
    begin_gf(p, atts, 0);
    push(p, C_GF);
  } else if (is(el, "element")) {
    tr_srcpos pos = here(p);
    const char *sub = attr(atts, "subscript");
    if (!sub || !*sub) {
      fail(p, TR_ERR_INVALID, pos.line, pos.col, "<element> of '%s' without a subscript", v->name);
      return;
    }
    memset(&p->elem, 0, sizeof p->elem);
    p->elem.subscript = trimmed(p, sub, strlen(sub));
    if (!p->elem.subscript) {
      if (p->status == TR_OK)
        fail(p, TR_ERR_INVALID, pos.line, pos.col, "<element> of '%s' with an empty subscript",
             v->name);
      return;
    }
    push(p, C_ELEMENT);
  } else if (is(el, "connect") && v->kind == TR_VK_MODULE) {
    tr_srcpos pos = here(p);
    const char *to = attr(atts, "to"), *from = attr(atts, "from");
    if (!to || !from || !*to || !*from) {
      fail(p, TR_ERR_INVALID, pos.line, pos.col, "<connect> in module '%s' needs to and from",
           v->name);
      return;
    }
    tr_connect *c = vec_push(p, &p->conns, sizeof *c);
    if (!c) return;
    c->pos = pos;
    const char *t = canon(p, to), *f = canon(p, from);
    if (!t || !f) return;
    size_t ml = strlen(v->ident);
    if (strncmp(t, v->ident, ml) == 0 && t[ml] == '.') t += ml + 1;
    while (*f == '.')
      f++;
    c->to = t;
    c->from = f;
    push(p, C_LEAF);
  } else {
    ignore(p);
  }
}

static void on_start(void *ud, const char *name, const char **atts) {
  parser *p = ud;
  p->depth++;
  if (p->status != TR_OK || p->ignore_depth) return;
  const char *el = local_name(name);
  if (p->nst == 0) {
    if (!is(el, "xmile")) {
      tr_srcpos pos = here(p);
      fail(p, TR_ERR_INVALID, pos.line, pos.col, "root element is <%s>, not <xmile>", name);
      return;
    }
    push(p, C_XMILE);
    return;
  }
  frame *f = top(p);
  switch (f->c) {
  case C_XMILE:
    start_xmile_child(p, el, atts);
    break;
  case C_HEADER:
    if (is(el, "vendor"))
      text_frame(p, F_VENDOR);
    else if (is(el, "product"))
      text_frame(p, F_PRODUCT);
    else if (is(el, "name"))
      text_frame(p, F_HEADER_NAME);
    else
      ignore(p);
    break;
  case C_SPECS:
    if (is(el, "start"))
      text_frame(p, F_START);
    else if (is(el, "stop"))
      text_frame(p, F_STOP);
    else if (is(el, "dt")) {
      const char *r = attr(atts, "reciprocal");
      p->dt_reciprocal = r && strcasecmp(r, "true") == 0;
      text_frame(p, F_DT);
    } else
      ignore(p);
    break;
  case C_DIMS:
    if (is(el, "dim"))
      start_dim(p, atts);
    else
      ignore(p);
    break;
  case C_DIM:
    if (is(el, "elem")) {
      const char *n = attr(atts, "name");
      if (!n || !*n) {
        tr_srcpos pos = here(p);
        fail(p, TR_ERR_INVALID, pos.line, pos.col, "<elem> of dimension '%s' without a name",
             p->cur_dim.name);
        return;
      }
      const char *c = canon(p, n), *d = display_name(p, n);
      if (!c || !d || push_str(p, &p->dim_elems, c) || push_str(p, &p->dim_names, d)) return;
      push(p, C_LEAF);
    } else
      ignore(p);
    break;
  case C_BEHAVIOR:
  case C_BEHAVIOR_KIND:
    if (is(el, "non_negative")) {
      int kind = f->c == C_BEHAVIOR_KIND ? f->kind : 0;
      int model_level = f->c == C_BEHAVIOR ? f->kind : p->st[p->nst - 2].kind;
      int *bs = &p->beh_stock, *bf = &p->beh_flow;
      if (model_level) {
        model_b *m = (model_b *)p->models.data + (p->models.n - 1);
        bs = &m->beh_stock;
        bf = &m->beh_flow;
      }
      if (kind != 2) *bs = 1;
      if (kind != 1) *bf = 1;
      push(p, C_LEAF);
    } else if (f->c == C_BEHAVIOR && (is(el, "stock") || is(el, "flow"))) {
      frame *g = push(p, C_BEHAVIOR_KIND);
      if (g) g->kind = is(el, "stock") ? 1 : 2;
    } else
      ignore(p);
    break;
  case C_MODEL:
    if (is_var_element(el)) { /* legacy (pre-1.0 "smile") files: no <variables> wrapper */
      p->container = &((model_b *)p->models.data + (p->models.n - 1))->vars;
      begin_var(p, el, atts);
      if (p->status == TR_OK && p->var.v.kind == TR_VK_GF) begin_gf(p, atts, 0);
    } else if (is(el, "variables")) {
      p->container = &((model_b *)p->models.data + (p->models.n - 1))->vars;
      push(p, C_VARIABLES);
    } else if (is(el, "behavior")) {
      frame *g = push(p, C_BEHAVIOR);
      if (g) g->kind = 1;
    } else if (is(el, "doc")) {
      text_frame(p, F_MODEL_DOC);
    } else
      ignore(p);
    break;
  case C_MACRO:
    if (is(el, "parm"))
      text_frame(p, F_PARM);
    else if (is(el, "eqn"))
      text_frame(p, F_MACRO_EQN);
    else if (is(el, "variables")) {
      p->container = &((macro_b *)p->macros.data + (p->macros.n - 1))->vars;
      push(p, C_VARIABLES);
    } else
      ignore(p);
    break;
  case C_VARIABLES:
    if (is_var_element(el)) {
      begin_var(p, el, atts);
      if (p->status == TR_OK && p->var.v.kind == TR_VK_GF) begin_gf(p, atts, 0);
    } else
      ignore(p); /* groups, aliases, vendor extensions */
    break;
  case C_VAR:
    start_var_child(p, el, atts);
    break;
  case C_VAR_DIMS:
    if (is(el, "dim")) {
      const char *n = attr(atts, "name");
      if (!n || !*n) {
        tr_srcpos pos = here(p);
        fail(p, TR_ERR_INVALID, pos.line, pos.col, "<dim> of '%s' without a name", p->var.v.name);
        return;
      }
      const char *c = canon(p, n);
      if (!c || push_str(p, &p->vdims, c)) return;
      push(p, C_LEAF);
    } else
      ignore(p);
    break;
  case C_GF:
    gf_child(p, el, atts);
    break;
  case C_ELEMENT:
    if (is(el, "eqn"))
      text_frame(p, F_ELEM_EQN);
    else if (is(el, "gf") && !p->in_gf) {
      begin_gf(p, atts, 1);
      push(p, C_GF);
    } else
      ignore(p);
    break;
  case C_TEXT:
    ignore(p); /* markup inside text (e.g. HTML in <doc>): its text is still collected */
    break;
  case C_NONE:
  case C_LEAF:
  default:
    ignore(p);
    break;
  }
}

static void on_chars(void *ud, const char *s, int len) {
  parser *p = ud;
  if (p->status != TR_OK || !p->text_on || len <= 0) return;
  if (p->text.len == 0 && p->text_pos.line == 0) p->text_pos = here(p);
  tr_sb_appendn(&p->text, s, (size_t)len);
}

/* ---- end handlers --------------------------------------------------------------------------- */

/* The collected text, trimmed, with the position of its first non-blank character. NULL when
 * empty (or out of memory: check p->status). */
static char *take_text(parser *p, tr_srcpos *pos) {
  if (!tr_sb_ok(&p->text)) {
    nomem(p);
    return NULL;
  }
  const char *s = tr_sb_str(&p->text);
  tr_srcpos q = p->text_pos;
  size_t i = 0;
  while (s[i] && is_space(s[i])) {
    if (s[i] == '\n') {
      q.line++;
      q.col = 1;
    } else {
      q.col++;
    }
    i++;
  }
  if (pos) *pos = q;
  return trimmed(p, s + i, p->text.len - i);
}

/* Split a <xpts>/<ypts> list into `out`. */
static void parse_points(parser *p, const char *t, const char *sep, tr_srcpos pos, vec *out,
                         const char *what) {
  size_t sl = strlen(sep);
  const char *s = t ? t : "";
  for (;;) {
    const char *e = strstr(s, sep);
    size_t n = e ? (size_t)(e - s) : strlen(s);
    double v;
    if (!parse_double(s, n, &v)) {
      int len = (int)(n > 40 ? 40 : n);
      fail(p, TR_ERR_INVALID, pos.line, pos.col,
           "graphical function of '%s': '%.*s' in <%s> is not a number", p->var.v.name, len, s,
           what);
      return;
    }
    double *slot = vec_push(p, out, sizeof *slot);
    if (!slot) return;
    *slot = v;
    if (!e) break;
    s = e + sl;
  }
}

static void end_text(parser *p, const frame *f) {
  p->text_on = 0;
  tr_srcpos pos;
  char *t = take_text(p, &pos);
  if (p->status != TR_OK) return;
  tr_xmile *x = p->x;
  tr_var *v = &p->var.v;
  double d;
  switch (f->f) {
  case F_VENDOR:
    x->vendor = t;
    break;
  case F_PRODUCT:
    x->product = t;
    break;
  case F_HEADER_NAME:
    x->model_name = t;
    break;
  case F_MODEL_DOC:
    if (!x->doc) x->doc = t;
    break;
  case F_START:
  case F_STOP:
  case F_DT: {
    const char *what = f->f == F_START ? "start" : f->f == F_STOP ? "stop" : "dt";
    if (!t || !parse_double(t, strlen(t), &d)) {
      fail(p, TR_ERR_INVALID, pos.line, pos.col, "sim_specs <%s>: '%s' is not a number", what,
           t ? t : "");
      return;
    }
    if (f->f == F_START) {
      x->specs.start = d;
      p->have_start = 1;
    } else if (f->f == F_STOP) {
      x->specs.stop = d;
      p->have_stop = 1;
    } else {
      if (d <= 0) {
        fail(p, TR_ERR_INVALID, pos.line, pos.col, "sim_specs <dt>: %s is not positive", t);
        return;
      }
      x->specs.dt = p->dt_reciprocal ? 1.0 / d : d;
      p->have_dt = 1;
    }
    break;
  }
  case F_EQN:
    if (!v->eqn) {
      v->eqn = t;
      v->eqn_pos = pos;
    }
    if (push_str(p, &p->veqns, t) || push_pos(p, &p->veqn_pos, pos)) return;
    break;
  case F_UNITS:
    v->units = t;
    break;
  case F_DOC:
    v->doc = t;
    break;
  case F_INFLOW:
  case F_OUTFLOW: {
    if (!t) {
      fail(p, TR_ERR_INVALID, pos.line, pos.col, "stock '%s': empty <%s>", v->name,
           f->f == F_INFLOW ? "inflow" : "outflow");
      return;
    }
    const char *c = canon(p, t);
    if (!c) return;
    if (f->f == F_INFLOW) {
      if (push_str(p, &p->ins, c) || push_pos(p, &p->in_pos, pos)) return;
    } else {
      if (push_str(p, &p->outs, c) || push_pos(p, &p->out_pos, pos)) return;
    }
    break;
  }
  case F_NONNEG:
    if (!t || strcasecmp(t, "true") == 0)
      p->var.nn = 1;
    else if (strcasecmp(t, "false") == 0)
      p->var.nn = 0;
    else {
      fail(p, TR_ERR_INVALID, pos.line, pos.col,
           "'%s': <non_negative> must be empty, true or false, not '%s'", v->name, t);
      return;
    }
    break;
  case F_XPTS:
    if (p->gf_has_xpts) vec_clear(&p->gx);
    p->gf_has_xpts = 1;
    parse_points(p, t, f->sep, pos, &p->gx, "xpts");
    break;
  case F_YPTS:
    vec_clear(&p->gy);
    parse_points(p, t, f->sep, pos, &p->gy, "ypts");
    break;
  case F_ELEM_EQN:
    p->elem.eqn = t;
    p->elem.eqn_pos = pos;
    break;
  case F_PARM: {
    if (!t) {
      fail(p, TR_ERR_INVALID, pos.line, pos.col, "empty <parm> in a macro");
      return;
    }
    macro_b *m = (macro_b *)p->macros.data + (p->macros.n - 1);
    const char *c = canon(p, t);
    if (!c) return;
    push_str(p, &m->params, c);
    break;
  }
  case F_MACRO_EQN: {
    macro_b *m = (macro_b *)p->macros.data + (p->macros.n - 1);
    m->m.eqn = t;
    m->m.eqn_pos = pos;
    break;
  }
  }
}

/* Close the open graphical function: x from <xpts> or <xscale>, checked ascending. */
static void end_gf(parser *p) {
  p->in_gf = 0;
  tr_gf *g = &p->gf;
  const char *vn = p->var.v.name;
  if (p->gy.n == 0) {
    fail(p, TR_ERR_INVALID, g->pos.line, g->pos.col, "graphical function of '%s' has no <ypts>",
         vn);
    return;
  }
  size_t n = p->gy.n;
  if (p->gf_has_xpts) {
    if (p->gx.n != n) {
      fail(p, TR_ERR_INVALID, g->pos.line, g->pos.col,
           "graphical function of '%s': %zu <xpts> but %zu <ypts>", vn, p->gx.n, n);
      return;
    }
  } else if (p->gf_has_xscale) {
    double *xs = tr_arena_calloc(p->a, n, sizeof *xs);
    if (!xs) {
      nomem(p);
      return;
    }
    for (size_t i = 0; i < n; i++)
      xs[i] = n == 1 ? p->xmin : p->xmin + (p->xmax - p->xmin) * (double)i / (double)(n - 1);
    p->gx.data = xs;
    p->gx.n = n;
  } else {
    fail(p, TR_ERR_INVALID, g->pos.line, g->pos.col,
         "graphical function of '%s' has neither <xpts> nor <xscale>", vn);
    return;
  }
  const double *xs = p->gx.data;
  for (size_t i = 1; i < n; i++) {
    if (xs[i] < xs[i - 1]) {
      fail(p, TR_ERR_INVALID, g->pos.line, g->pos.col,
           "graphical function of '%s': x values are not ascending (%g after %g at point %zu)", vn,
           xs[i], xs[i - 1], i + 1);
      return;
    }
  }
  tr_gf *out = tr_arena_alloc(p->a, sizeof *out);
  if (!out) {
    nomem(p);
    return;
  }
  *out = *g;
  out->n = n;
  out->x = p->gx.data;
  out->y = p->gy.data;
  if (p->gf_owner == 1)
    p->elem.gf = out;
  else {
    p->var.v.gf = out;
    if (p->var.v.kind == TR_VK_GF) out->name = p->var.v.name;
  }
}

static void end_var(parser *p) {
  varrec *r = &p->var;
  tr_var *v = &r->v;
  if (v->kind == TR_VK_GF) {
    end_gf(p);
    if (p->status != TR_OK) return;
  }
  v->inflows = p->ins.data;
  v->n_inflows = p->ins.n;
  r->in_pos = p->in_pos.data;
  v->outflows = p->outs.data;
  v->n_outflows = p->outs.n;
  r->out_pos = p->out_pos.data;
  v->dims = p->vdims.data;
  v->n_dims = p->vdims.n;
  v->elements = p->elems.data;
  v->n_elements = p->elems.n;
  v->connects = p->conns.data;
  v->n_connects = p->conns.n;
  r->eqns = p->veqns.data;
  r->eqn_pos = p->veqn_pos.data;
  r->n_eqns = p->veqns.n;
  varrec *slot = vec_push(p, p->container, sizeof *slot);
  if (slot) *slot = *r;
}

static void end_dim(parser *p) {
  tr_dim *d = &p->cur_dim;
  tr_srcpos pos = p->dim_pos;
  if (p->dim_elems.n) {
    if (p->dim_has_size && d->size != p->dim_elems.n) {
      fail(p, TR_ERR_INVALID, pos.line, pos.col, "dimension '%s': size %zu but %zu <elem> entries",
           d->name, d->size, p->dim_elems.n);
      return;
    }
    d->size = p->dim_elems.n;
    d->elems = p->dim_elems.data;
    d->elem_names = p->dim_names.data;
  } else if (p->dim_has_size) {
    const char **e = tr_arena_calloc(p->a, d->size, sizeof *e);
    if (!e) {
      nomem(p);
      return;
    }
    for (size_t i = 0; i < d->size; i++) {
      e[i] = tr_arena_printf(p->a, "%zu", i + 1);
      if (!e[i]) {
        nomem(p);
        return;
      }
    }
    d->elems = e;
    d->elem_names = e;
  } else {
    fail(p, TR_ERR_INVALID, pos.line, pos.col, "dimension '%s' has neither size nor <elem>",
         d->name);
    return;
  }
  tr_dim *slot = vec_push(p, &p->dims, sizeof *slot);
  if (slot) *slot = *d;
}

static void on_end(void *ud, const char *name) {
  parser *p = ud;
  (void)name;
  long d = p->depth--;
  if (p->status != TR_OK) return;
  if (p->ignore_depth) {
    if (p->ignore_depth == d) p->ignore_depth = 0;
    return;
  }
  if (p->nst == 0) return;
  frame f = *top(p);
  p->nst--;
  switch (f.c) {
  case C_TEXT:
    end_text(p, &f);
    break;
  case C_VAR:
    end_var(p);
    break;
  case C_GF:
    end_gf(p);
    break;
  case C_ELEMENT: {
    tr_element *e = vec_push(p, &p->elems, sizeof *e);
    if (e) *e = p->elem;
    break;
  }
  case C_DIM:
    end_dim(p);
    break;
  case C_MACRO: {
    macro_b *m = (macro_b *)p->macros.data + (p->macros.n - 1);
    m->m.params = m->params.data;
    m->m.n_params = m->params.n;
    break;
  }
  default:
    break;
  }
}

/* ---- whole-model checks --------------------------------------------------------------------- */

static const tr_dim *find_dim(const parser *p, const char *ident) {
  const tr_dim *d = p->dims.data;
  for (size_t i = 0; i < p->dims.n; i++)
    if (is(d[i].ident, ident)) return &d[i];
  return NULL;
}

/* A Vensim-exported arrayed variable lists one <eqn> per element, in row-major order of its
 * dimensions (last dimension fastest), without <element> wrappers: turn them into elements
 * whose subscripts name the dimension elements as written ("A, D"). */
static int split_eqns(parser *p, varrec *r) {
  tr_var *v = &r->v;
  if (r->n_eqns <= 1) return TR_OK;
  if (v->n_dims == 0 || v->n_elements > 0)
    return fail(p, TR_ERR_INVALID, r->eqn_pos[1].line, r->eqn_pos[1].col,
                "'%s' has %zu <eqn> elements but is %s", v->name, r->n_eqns,
                v->n_dims ? "defined per <element>" : "not an array");
  const tr_dim *dims[16];
  if (v->n_dims > 16)
    return fail(p, TR_ERR_LIMIT, v->pos.line, v->pos.col, "'%s' has more than 16 dimensions",
                v->name);
  size_t total = 1;
  for (size_t k = 0; k < v->n_dims; k++) {
    dims[k] = find_dim(p, v->dims[k]);
    if (!dims[k])
      return fail(p, TR_ERR_INVALID, v->pos.line, v->pos.col, "'%s': unknown dimension '%s'",
                  v->name, v->dims[k]);
    total *= dims[k]->size;
  }
  if (total != r->n_eqns)
    return fail(p, TR_ERR_INVALID, v->pos.line, v->pos.col,
                "'%s' has %zu <eqn> elements for %zu array elements", v->name, r->n_eqns, total);
  tr_element *el = tr_arena_calloc(p->a, total, sizeof *el);
  if (!el) return nomem(p);
  for (size_t i = 0; i < total; i++) {
    tr_sb sb = TR_SB_INIT;
    size_t rest = i, stride = total;
    for (size_t k = 0; k < v->n_dims; k++) {
      stride /= dims[k]->size;
      size_t idx = rest / stride;
      rest %= stride;
      if (k) tr_sb_append(&sb, ", ");
      tr_sb_append(&sb, dims[k]->elem_names[idx]);
    }
    el[i].subscript = tr_sb_ok(&sb) ? tr_arena_strdup(p->a, tr_sb_str(&sb)) : NULL;
    tr_sb_free(&sb);
    if (!el[i].subscript) return nomem(p);
    el[i].eqn = r->eqns[i];
    el[i].eqn_pos = r->eqn_pos[i];
  }
  v->elements = el;
  v->n_elements = total;
  v->eqn = NULL;
  v->eqn_pos.line = v->eqn_pos.col = 0;
  return TR_OK;
}

static int behavior_default(int model_level, int file_level) {
  if (model_level >= 0) return model_level;
  return file_level > 0;
}

/* Turn builder variables into the IR array: defaults for non_negative, duplicate names and
 * stock flows that name nothing are errors. */
static int finish_vars(parser *p, vec *recs, int beh_stock, int beh_flow, tr_var **out,
                       size_t *n_out, const char *where) {
  size_t n = recs->n;
  varrec *r = recs->data;
  tr_var *vars = n ? tr_arena_calloc(p->a, n, sizeof *vars) : NULL;
  if (n && !vars) return nomem(p);
  tr_map map;
  tr_map_init(&map);
  for (size_t i = 0; i < n; i++) {
    tr_var *v = &r[i].v;
    if (split_eqns(p, &r[i]) != TR_OK) {
      tr_map_free(&map);
      return p->status;
    }
    if (r[i].nn >= 0)
      v->non_negative = r[i].nn;
    else if (v->kind == TR_VK_STOCK)
      v->non_negative = behavior_default(beh_stock, p->beh_stock);
    else if (v->kind == TR_VK_FLOW)
      v->non_negative = behavior_default(beh_flow, p->beh_flow);
    int found = 0;
    tr_var *prev = tr_map_get(&map, v->ident, &found);
    if (found) {
      tr_map_free(&map);
      return fail(p, TR_ERR_INVALID, v->pos.line, v->pos.col,
                  "'%s' is defined twice in %s (first at line %d)", v->name, where, prev->pos.line);
    }
    if (tr_map_put(&map, v->ident, v) != TR_OK) {
      tr_map_free(&map);
      return nomem(p);
    }
    vars[i] = *v;
  }
  for (size_t i = 0; i < n; i++) {
    tr_var *v = &r[i].v;
    for (int pass = 0; pass < 2; pass++) {
      const char **names = pass ? v->outflows : v->inflows;
      size_t nn = pass ? v->n_outflows : v->n_inflows;
      const tr_srcpos *pos = pass ? r[i].out_pos : r[i].in_pos;
      for (size_t k = 0; k < nn; k++) {
        if (tr_map_get(&map, names[k], NULL)) continue;
        tr_map_free(&map);
        const char **idents = tr_arena_calloc(p->a, n, sizeof *idents);
        if (!idents) return nomem(p);
        for (size_t j = 0; j < n; j++)
          idents[j] = vars[j].ident;
        const char *best = tr_closest(names[k], idents, n);
        char hint[300] = "";
        if (best) snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
        return fail(p, TR_ERR_INVALID, pos[k].line, pos[k].col,
                    "stock '%s': %s '%s' names no variable in %s%s", v->name,
                    pass ? "outflow" : "inflow", names[k], where, hint);
      }
    }
  }
  tr_map_free(&map);
  *out = vars;
  *n_out = n;
  return TR_OK;
}

static int finish(parser *p) {
  tr_xmile *x = p->x;
  if (!p->have_specs)
    return fail(p, TR_ERR_INVALID, 0, 0, "no <sim_specs>: start, stop and dt are needed");
  if (!p->have_start || !p->have_stop)
    return fail(p, TR_ERR_INVALID, 0, 0, "<sim_specs> needs <start> and <stop>");
  if (!p->have_dt) x->specs.dt = 1.0; /* the XMILE default */
  if (x->specs.stop < x->specs.start)
    return fail(p, TR_ERR_INVALID, 0, 0, "<sim_specs>: stop %g is before start %g", x->specs.stop,
                x->specs.start);
  if (p->models.n == 0) return fail(p, TR_ERR_INVALID, 0, 0, "no <model>");

  model_b *mb = p->models.data;
  size_t nm = p->models.n, root = nm;
  for (size_t i = 0; i < nm; i++) {
    if (mb[i].def.name) continue;
    if (root != nm)
      return fail(p, TR_ERR_INVALID, mb[i].def.pos.line, mb[i].def.pos.col,
                  "more than one unnamed (root) <model>");
    root = i;
  }
  if (root == nm) { /* sdCloud names its only model "default": the first model is the root */
    root = 0;
    mb[0].def.name = NULL;
    mb[0].def.ident = NULL;
  }
  x->models = tr_arena_calloc(p->a, nm, sizeof *x->models);
  if (!x->models) return nomem(p);
  x->n_models = nm;
  size_t k = 1;
  for (size_t i = 0; i < nm; i++) {
    size_t dst = i == root ? 0 : k++;
    tr_model_def *m = &x->models[dst];
    *m = mb[i].def;
    const char *where = m->name ? m->name : "the root model";
    char label[300];
    snprintf(label, sizeof label, m->name ? "model '%s'" : "%s", where);
    int rc =
        finish_vars(p, &mb[i].vars, mb[i].beh_stock, mb[i].beh_flow, &m->vars, &m->n_vars, label);
    if (rc) return rc;
  }
  for (size_t i = 0; i < nm; i++) {
    for (size_t j = i + 1; j < nm; j++) {
      const tr_model_def *a = &x->models[i], *b = &x->models[j];
      if (a->ident && b->ident && is(a->ident, b->ident))
        return fail(p, TR_ERR_INVALID, b->pos.line, b->pos.col, "model '%s' is defined twice",
                    b->name);
    }
  }
  for (size_t i = 0; i < nm; i++) {
    const tr_model_def *m = &x->models[i];
    for (size_t j = 0; j < m->n_vars; j++) {
      const tr_var *v = &m->vars[j];
      if (v->kind != TR_VK_MODULE) continue;
      size_t t = 1;
      while (t < nm && !is(x->models[t].ident, v->module_model))
        t++;
      if (t == nm)
        return fail(p, TR_ERR_INVALID, v->pos.line, v->pos.col,
                    "module '%s' instantiates '%s', but there is no <model name=\"%s\">", v->name,
                    v->module_model, v->module_model);
    }
  }

  macro_b *cb = p->macros.data;
  if (p->macros.n) {
    x->macros = tr_arena_calloc(p->a, p->macros.n, sizeof *x->macros);
    if (!x->macros) return nomem(p);
  }
  x->n_macros = p->macros.n;
  for (size_t i = 0; i < p->macros.n; i++) {
    tr_macro *m = &x->macros[i];
    *m = cb[i].m;
    if (!m->eqn)
      return fail(p, TR_ERR_INVALID, m->pos.line, m->pos.col, "macro '%s' has no <eqn>", m->name);
    char label[300];
    snprintf(label, sizeof label, "macro '%s'", m->name);
    int rc = finish_vars(p, &cb[i].vars, -1, -1, &m->vars, &m->n_vars, label);
    if (rc) return rc;
  }
  x->dims = p->dims.data;
  x->n_dims = p->dims.n;
  return TR_OK;
}

/* ---- entry points --------------------------------------------------------------------------- */

static const XML_Memory_Handling_Suite tr_expat_memory = {tr_malloc, tr_realloc, tr_free};

static int begin(parser *p, const char *file, unsigned long max_vars, tr_xmile **out,
                 tr_error *err) {
  memset(p, 0, sizeof *p);
  p->max_vars = max_vars;
  p->err = err;
  p->beh_stock = p->beh_flow = -1;
  tr_sb_init(&p->text);
  *out = NULL;
  p->x = tr_calloc(1, sizeof *p->x);
  if (!p->x) return tr_error_set(err, TR_ERR_NOMEM, file, 0, 0, "out of memory");
  tr_arena_init(&p->x->arena);
  p->a = &p->x->arena;
  p->x->file = tr_arena_strdup(p->a, file ? file : "<buffer>");
  p->file = file ? file : "<buffer>";
  if (!p->x->file) {
    tr_free(p->x);
    p->x = NULL;
    return tr_error_set(err, TR_ERR_NOMEM, file, 0, 0, "out of memory");
  }
  p->file = p->x->file;
  p->x->specs.method = TR_METHOD_EULER;
  /* No namespace separator: prefixes stay part of element names (see the file comment). */
  p->xp = XML_ParserCreate_MM(NULL, &tr_expat_memory, NULL);
  if (!p->xp) {
    tr_arena_release(p->a);
    tr_free(p->x);
    p->x = NULL;
    return tr_error_set(err, TR_ERR_NOMEM, file, 0, 0, "out of memory");
  }
  XML_SetUserData(p->xp, p);
  XML_SetElementHandler(p->xp, on_start, on_end);
  XML_SetCharacterDataHandler(p->xp, on_chars);
  return TR_OK;
}

/* Feed one chunk; returns the status so far. */
static int feed(parser *p, const char *buf, size_t len, int final) {
  if (XML_Parse(p->xp, buf, (int)len, final) == XML_STATUS_ERROR && p->status == TR_OK) {
    enum XML_Error e = XML_GetErrorCode(p->xp);
    if (e == XML_ERROR_NO_MEMORY) return nomem(p);
    return fail(p, TR_ERR_PARSE, (int)XML_GetCurrentLineNumber(p->xp),
                (int)XML_GetCurrentColumnNumber(p->xp) + 1, "XML error: %s", XML_ErrorString(e));
  }
  return p->status;
}

static int end(parser *p, int rc, tr_xmile **out) {
  if (rc == TR_OK) rc = finish(p);
  XML_ParserFree(p->xp);
  p->xp = NULL;
  tr_sb_free(&p->text);
  if (rc != TR_OK) {
    tr_xmile_free(p->x);
    return rc;
  }
  *out = p->x;
  return TR_OK;
}

static const tr_xmile_limits default_limits = {TR_XMILE_MAX_BYTES, TR_XMILE_MAX_VARS};

/* Read an XMILE file with explicit limits (reader_impl.h). The file is streamed through expat
 * in chunks, so memory is the model's size, not the file's. */
int tr_xmile_read_file_limited(const char *path, const tr_xmile_limits *lim, tr_xmile **out,
                               tr_error *err) {
  if (!lim) lim = &default_limits;
  *out = NULL;
  struct stat sb;
  if (stat(path, &sb) == 0 && (size_t)sb.st_size > lim->max_bytes)
    return tr_error_set(err, TR_ERR_LIMIT, path, 0, 0, "file is %lld bytes; the limit is %zu",
                        (long long)sb.st_size, lim->max_bytes);
  FILE *fp = fopen(path, "rb");
  if (!fp) return tr_error_set(err, TR_ERR_IO, path, 0, 0, "cannot open: %s", strerror(errno));
  parser p;
  int rc = begin(&p, path, lim->max_vars, out, err);
  if (rc) {
    fclose(fp);
    return rc;
  }
  char *buf = tr_malloc(READ_CHUNK);
  if (!buf) rc = nomem(&p);
  size_t total = 0;
  while (rc == TR_OK) {
    size_t n = fread(buf, 1, READ_CHUNK, fp);
    total += n;
    if (total > lim->max_bytes) {
      rc = fail(&p, TR_ERR_LIMIT, 0, 0, "input is over the limit of %zu bytes", lim->max_bytes);
      break;
    }
    if (n < READ_CHUNK && ferror(fp)) {
      rc = fail(&p, TR_ERR_IO, 0, 0, "read error: %s", strerror(errno));
      break;
    }
    int final = n < READ_CHUNK;
    rc = feed(&p, buf, n, final);
    if (final) break;
  }
  tr_free(buf);
  fclose(fp);
  return end(&p, rc, out);
}

/* Read XMILE from memory with explicit limits (reader_impl.h). */
int tr_xmile_read_buffer_limited(const char *buf, size_t len, const char *filename,
                                 const tr_xmile_limits *lim, tr_xmile **out, tr_error *err) {
  if (!lim) lim = &default_limits;
  *out = NULL;
  if (len > lim->max_bytes)
    return tr_error_set(err, TR_ERR_LIMIT, filename, 0, 0, "input is %zu bytes; the limit is %zu",
                        len, lim->max_bytes);
  parser p;
  int rc = begin(&p, filename, lim->max_vars, out, err);
  if (rc) return rc;
  size_t off = 0;
  do {
    size_t n = len - off > READ_CHUNK ? READ_CHUNK : len - off;
    rc = feed(&p, buf + off, n, off + n == len);
    off += n;
  } while (rc == TR_OK && off < len);
  return end(&p, rc, out);
}

/* Read an XMILE file (see model.h), with the default limits. */
int tr_xmile_read_file(const char *path, tr_xmile **out, tr_error *err) {
  return tr_xmile_read_file_limited(path, NULL, out, err);
}

/* Read XMILE from memory (see model.h), with the default limits. */
int tr_xmile_read_buffer(const char *buf, size_t len, const char *filename, tr_xmile **out,
                         tr_error *err) {
  return tr_xmile_read_buffer_limited(buf, len, filename, NULL, out, err);
}

/* Free a model and everything in its arena; NULL is a no-op. */
void tr_xmile_free(tr_xmile *x) {
  if (!x) return;
  tr_arena_release(&x->arena);
  tr_free(x);
}
