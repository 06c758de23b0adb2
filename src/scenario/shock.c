/*
 * Time-shaped shocks (scenario.h): the model text is rewritten before it is compiled, because
 * the engine runs a model from start to stop with constants fixed per lane; a shock is a
 * function of TIME, which the equation language already has.
 *
 *   <aux name="Price"><eqn>10</eqn></aux>
 * with a step of 0.8 at 12 becomes
 *   <aux name="Price__tr_base"><eqn>10</eqn></aux>
 *   <aux name="Price"><eqn>price__tr_base * (IF TIME >= 12 THEN 0.8 ELSE 1)</eqn></aux>
 * and a flow's equation E becomes (E) * (...) in place (stocks name their flows, so a flow
 * keeps its name). Only the text of the main model (the <model> without a name) is edited.
 */
#include "base/strbuf.h"
#include "base/text.h"
#include "tightrope/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE_SUFFIX "__tr_base"

static int shock_err(tr_error *err, int code, const tr_mc_shock *s, const char *fmt,
                     const char *a) {
  return tr_error_set(err, code, s->file, s->line, s->col, fmt, a);
}

static int validate(const tr_mc_shock *s, tr_error *err) {
  static const char *const kinds[] = {"step", "pulse", "ramp", "path"};
  const char *k = (unsigned)s->kind < 4 ? kinds[s->kind] : "?";
  if ((s->kind == TR_MC_PULSE || s->kind == TR_MC_RAMP) && !s->has_end)
    return shock_err(err, TR_ERR_INVALID, s, "shock (%s): needs an end (or a duration)", k);
  if (s->kind != TR_MC_PATH && s->has_end && !(s->end > s->start))
    return shock_err(err, TR_ERR_INVALID, s, "shock (%s): the end must be after the start", k);
  if (s->kind == TR_MC_PATH) {
    if (s->n_path == 0)
      return shock_err(err, TR_ERR_INVALID, s, "shock (%s): needs at least one point", k);
    for (size_t i = 1; i < s->n_path; i++)
      if (!(s->path_t[i] > s->path_t[i - 1]))
        return shock_err(err, TR_ERR_INVALID, s,
                         "shock (%s): the times of the points must increase", k);
  }
  return TR_OK;
}

static void num(tr_sb *sb, double v) {
  if (v < 0) tr_sb_putc(sb, '(');
  tr_sb_append_double(sb, v);
  if (v < 0) tr_sb_putc(sb, ')');
}

/* The factor (or addend) of one shock as an equation, in parentheses. */
static void shock_expr(tr_sb *sb, const tr_mc_shock *s) {
  const char *none = s->additive ? "0" : "1";
  switch (s->kind) {
  case TR_MC_STEP:
  case TR_MC_PULSE:
    tr_sb_append(sb, "(IF TIME >= ");
    num(sb, s->start);
    if (s->has_end) {
      tr_sb_append(sb, " AND TIME &lt; ");
      num(sb, s->end);
    }
    tr_sb_append(sb, " THEN ");
    num(sb, s->magnitude);
    tr_sb_printf(sb, " ELSE %s)", none);
    break;
  case TR_MC_RAMP: {
    /* share of the way from start to end, clamped to [0, 1] */
    tr_sb_append(sb, s->additive ? "(" : "(1 + (");
    num(sb, s->magnitude);
    tr_sb_append(sb, s->additive ? " * MIN(1, MAX(0, (TIME - " : " - 1) * MIN(1, MAX(0, (TIME - ");
    num(sb, s->start);
    tr_sb_append(sb, ") / (");
    num(sb, s->end - s->start);
    tr_sb_append(sb, "))))");
    break;
  }
  case TR_MC_PATH:
    tr_sb_append(sb, "(IF TIME &lt; ");
    num(sb, s->path_t[0]);
    tr_sb_printf(sb, " THEN %s ELSE ", none);
    for (size_t i = 0; i + 1 < s->n_path; i++) {
      double t0 = s->path_t[i], t1 = s->path_t[i + 1], v0 = s->path_v[i], v1 = s->path_v[i + 1];
      tr_sb_append(sb, "IF TIME &lt; ");
      num(sb, t1);
      tr_sb_append(sb, " THEN ");
      num(sb, v0);
      tr_sb_append(sb, " + ");
      num(sb, v1 - v0);
      tr_sb_append(sb, " * (TIME - ");
      num(sb, t0);
      tr_sb_append(sb, ") / ");
      num(sb, t1 - t0);
      tr_sb_append(sb, " ELSE ");
    }
    num(sb, s->path_v[s->n_path - 1]);
    tr_sb_putc(sb, ')');
    break;
  }
}

/* "x * (f1) * (f2) + (a1)" for the shocks of one variable. */
static void combined(tr_sb *sb, const tr_mc_shock *sh, size_t n, const char *ident) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(sh[i].variable, ident) == 0 && !sh[i].additive) {
      tr_sb_append(sb, " * ");
      shock_expr(sb, &sh[i]);
    }
  for (size_t i = 0; i < n; i++)
    if (strcmp(sh[i].variable, ident) == 0 && sh[i].additive) {
      tr_sb_append(sb, " + ");
      shock_expr(sb, &sh[i]);
    }
}

/* Decode the five predefined XML entities of an attribute value into out (cap bytes). */
static void decode_attr(const char *v, size_t len, char *out, size_t cap) {
  static const struct {
    const char *ent;
    char c;
  } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  size_t o = 0;
  for (size_t i = 0; i < len && o + 1 < cap;) {
    int hit = 0;
    for (size_t e = 0; e < 5 && !hit; e++) {
      size_t el = strlen(ents[e].ent);
      if (i + el <= len && strncmp(v + i, ents[e].ent, el) == 0) {
        out[o++] = ents[e].c;
        i += el;
        hit = 1;
      }
    }
    if (!hit) out[o++] = v[i++];
  }
  out[o] = '\0';
}

/* The value of attribute `name` inside the start tag [tag, end): *vb and *ve bound it. */
static int find_attr(const char *tag, const char *end, const char *name, const char **vb,
                     const char **ve) {
  size_t nl = strlen(name);
  for (const char *p = tag; p + nl < end; p++) {
    if ((p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r') &&
        strncmp(p, name, nl) == 0) {
      const char *q = p + nl;
      while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
        q++;
      if (q >= end || *q != '=') continue;
      q++;
      while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
        q++;
      if (q >= end || (*q != '"' && *q != '\'')) continue;
      char quote = *q++;
      const char *e = memchr(q, quote, (size_t)(end - q));
      if (!e) return 0;
      *vb = q;
      *ve = e;
      return 1;
    }
  }
  return 0;
}

/* Locate the main <model> (no name attribute): [*mb, *me) spans its content. */
static int main_model(const char *x, const char **mb, const char **me) {
  for (const char *p = strstr(x, "<model"); p; p = strstr(p + 6, "<model")) {
    char c = p[6];
    if (c != '>' && c != ' ' && c != '\t' && c != '\n' && c != '\r') continue;
    const char *gt = strchr(p, '>');
    if (!gt) return 0;
    const char *vb = NULL, *ve = NULL;
    if (find_attr(p + 6, gt, "name", &vb, &ve)) continue;
    const char *close = strstr(gt, "</model>");
    if (!close) return 0;
    *mb = gt + 1;
    *me = close;
    return 1;
  }
  return 0;
}

/* The element <kind name=...> whose canonical name is `ident`, inside [b, e). */
static const char *find_element(const char *b, const char *e, const char *kind, const char *ident,
                                const char **gt_out) {
  char open[16];
  snprintf(open, sizeof open, "<%s", kind);
  size_t ol = strlen(open);
  for (const char *p = strstr(b, open); p && p < e; p = strstr(p + ol, open)) {
    char c = p[ol];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') continue;
    const char *gt = strchr(p, '>');
    if (!gt || gt > e) return NULL;
    const char *vb = NULL, *ve = NULL;
    if (!find_attr(p + ol, gt, "name", &vb, &ve)) continue;
    char raw[512], canon[512];
    decode_attr(vb, (size_t)(ve - vb), raw, sizeof raw);
    tr_canon_ident(raw, strlen(raw), canon, sizeof canon);
    if (strcmp(canon, ident) == 0) {
      *gt_out = gt;
      return p;
    }
  }
  return NULL;
}

static int is_plain_ident(const char *s) {
  if (!*s || (*s >= '0' && *s <= '9')) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return 0;
  return 1;
}

/* Rewrite the text for the shocks of one variable (canonical `ident`, kind aux or flow). */
static int rewrite_one(tr_sb *out, const char *x, size_t xlen, const char *ident, int is_flow,
                       const tr_mc_shock *sh, size_t n, const char *path, tr_error *err) {
  const char *mb = NULL, *me = NULL, *gt = NULL;
  if (!main_model(x, &mb, &me))
    return tr_error_set(err, TR_ERR_INVALID, path, 0, 0, "no main <model> to apply shocks to");
  const char *el = find_element(mb, me, is_flow ? "flow" : "aux", ident, &gt);
  if (!el)
    return tr_error_set(err, TR_ERR_UNSUPPORTED, path, 0, 0,
                        "shock: '%s' is not a variable of the main model that can be shocked",
                        ident);
  if (gt[-1] == '/')
    return tr_error_set(err, TR_ERR_UNSUPPORTED, path, 0, 0, "shock: '%s' has no equation to shock",
                        ident);
  const char *close = strstr(gt, is_flow ? "</flow>" : "</aux>");
  if (!close || close > me)
    return tr_error_set(err, TR_ERR_INVALID, path, 0, 0, "shock: '%s' is not closed", ident);
  if (is_flow) {
    const char *eb = strstr(gt, "<eqn>"), *ee = eb ? strstr(eb, "</eqn>") : NULL;
    if (!eb || eb > close || !ee || ee > close)
      return tr_error_set(err, TR_ERR_UNSUPPORTED, path, 0, 0,
                          "shock: flow '%s' has no <eqn> to shock", ident);
    eb += 5;
    tr_sb_appendn(out, x, (size_t)(eb - x));
    tr_sb_putc(out, '(');
    tr_sb_appendn(out, eb, (size_t)(ee - eb));
    tr_sb_putc(out, ')');
    combined(out, sh, n, ident);
    tr_sb_appendn(out, ee, xlen - (size_t)(ee - x));
    return TR_OK;
  }
  const char *vb = NULL, *ve = NULL;
  find_attr(el + 4, gt, "name", &vb, &ve);
  char raw[512], base[600];
  decode_attr(vb, (size_t)(ve - vb), raw, sizeof raw);
  snprintf(base, sizeof base, "%s%s", ident, BASE_SUFFIX);
  tr_sb_appendn(out, x, (size_t)(ve - x));
  tr_sb_append(out, BASE_SUFFIX);
  const char *after = close + strlen("</aux>");
  tr_sb_appendn(out, ve, (size_t)(after - ve));
  tr_sb_append(out, "\n<aux name=\"");
  tr_sb_appendn(out, vb, (size_t)(ve - vb));
  tr_sb_append(out, "\"><eqn>");
  if (is_plain_ident(base)) {
    tr_sb_append(out, base);
  } else {
    /* A quoted name: escape '"' and '\' for the equation, '&' and '<' for XML. */
    tr_sb_putc(out, '"');
    for (const char *c = raw; *c; c++) {
      if (*c == '"' || *c == '\\') tr_sb_putc(out, '\\');
      if (*c == '&')
        tr_sb_append(out, "&amp;");
      else if (*c == '<')
        tr_sb_append(out, "&lt;");
      else
        tr_sb_putc(out, *c);
    }
    tr_sb_append(out, BASE_SUFFIX "\"");
  }
  combined(out, sh, n, ident);
  tr_sb_append(out, "</eqn></aux>");
  tr_sb_appendn(out, after, xlen - (size_t)(after - x));
  return TR_OK;
}

int tr_mc_load_model(const char *path, const tr_mc_shock *shocks, size_t n, tr_model **out,
                     tr_error *err) {
  *out = NULL;
  tr_model *plain;
  int rc = tr_model_load_file(path, &plain, err);
  if (rc != TR_OK || n == 0) {
    if (rc == TR_OK) *out = plain;
    return rc;
  }
  /* Resolve and check every shocked variable on the unmodified model. */
  tr_mc_shock *sh = tr_calloc(n, sizeof *sh);
  char **idents = tr_calloc(n, sizeof *idents);
  int *is_flow = tr_calloc(n, sizeof *is_flow);
  if (!sh || !idents || !is_flow) rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  for (size_t i = 0; rc == TR_OK && i < n; i++) {
    const tr_mc_shock *s = &shocks[i];
    if ((rc = validate(s, err)) != TR_OK) break;
    long v = tr_model_find(plain, s->variable);
    if (v < 0) {
      const char *best = tr_model_suggest(plain, s->variable);
      rc = best ? tr_error_set(err, TR_ERR_UNKNOWN_NAME, s->file, s->line, s->col,
                               "shock: unknown variable '%s' (did you mean '%s'?)", s->variable,
                               best)
                : tr_error_set(err, TR_ERR_UNKNOWN_NAME, s->file, s->line, s->col,
                               "shock: unknown variable '%s'", s->variable);
      break;
    }
    tr_var_info vi;
    tr_model_var(plain, (size_t)v, &vi);
    if (vi.type == TR_VAR_STOCK || vi.type == TR_VAR_GF || strchr(vi.ident, '.') ||
        strchr(vi.ident, '[')) {
      rc = tr_error_set(err, TR_ERR_INVALID, s->file, s->line, s->col,
                        "shock: '%s' is %s; shock a constant, auxiliary or flow of the main "
                        "model instead",
                        s->variable,
                        vi.type == TR_VAR_STOCK ? "a stock"
                        : vi.type == TR_VAR_GF  ? "a standalone graphical function"
                                                : "inside a module or an array");
      break;
    }
    idents[i] = tr_strdup(vi.ident);
    if (!idents[i]) {
      rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
      break;
    }
    is_flow[i] = vi.type == TR_VAR_FLOW;
    sh[i] = *s;
    sh[i].variable = idents[i];
  }
  tr_model_free(plain);
  size_t len = 0;
  char *text = NULL;
  if (rc == TR_OK) rc = tr_read_file(path, &text, &len, err);
  /* One rewrite per distinct variable, each on the result of the previous one. */
  for (size_t i = 0; rc == TR_OK && i < n; i++) {
    int first = 1;
    for (size_t j = 0; j < i; j++)
      if (strcmp(idents[j], idents[i]) == 0) first = 0;
    if (!first) continue;
    tr_sb sb = TR_SB_INIT;
    rc = rewrite_one(&sb, text, len, idents[i], is_flow[i], sh, n, path, err);
    if (rc == TR_OK && !tr_sb_ok(&sb))
      rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    if (rc == TR_OK) {
      tr_free(text);
      len = sb.len;
      text = tr_sb_take(&sb);
    } else {
      tr_sb_free(&sb);
    }
  }
  if (rc == TR_OK) rc = tr_model_load_buffer(text, len, path, out, err);
  tr_free(text);
  for (size_t i = 0; idents && i < n; i++)
    tr_free(idents[i]);
  tr_free(idents);
  tr_free(is_flow);
  tr_free(sh);
  return rc;
}

long tr_mc_find_const(const tr_model *m, const char *name) {
  long v = tr_model_find(m, name);
  if (v < 0) return -1;
  tr_var_info vi;
  tr_model_var(m, (size_t)v, &vi);
  if (vi.is_constant) return v;
  char base[600];
  snprintf(base, sizeof base, "%s%s", vi.ident, BASE_SUFFIX);
  long b = tr_model_find(m, base);
  return b >= 0 ? b : v;
}
