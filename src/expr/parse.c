/*
 * The equation language: lexer and precedence-climbing parser (STYLE rule 9), the canonical
 * printer and the deep copy. The grammar is the contract in ast.h; this file adds one
 * leniency that Stella also has: IF ... THEN ... ELSE may stand as an operand
 * (`1 + IF c THEN a ELSE b`), its ELSE branch reaching as far right as it can, exactly as at
 * the top level; and a NOT written after its condition (`x not`, as Vensim models converted
 * by xmutil have it) negates that condition. Every input the ast.h grammar accepts parses
 * the same way.
 *
 * Errors never unwind: each parse function returns NULL after recording the first error in
 * the parser, and callers stop at the first NULL. Nesting is bounded (TR_EXPR_MAX_DEPTH) so
 * that hostile input cannot overflow the C stack.
 */
#include "expr/ast.h"

#include "base/strbuf.h"
#include "base/text.h"
#include "expr/builtins.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deepest nesting of sub-expressions accepted (parentheses, operands of unary operators,
 * right operands of '^', arguments). Deeper input is refused with TR_ERR_LIMIT. */
#define TR_EXPR_MAX_DEPTH 1000

typedef enum {
  TK_END,
  TK_NUM,
  TK_NAME,
  TK_LPAREN,
  TK_RPAREN,
  TK_LBRACKET,
  TK_RBRACKET,
  TK_COMMA,
  TK_PLUS,
  TK_MINUS,
  TK_STAR,
  TK_SLASH,
  TK_CARET,
  TK_EQ,
  TK_NE,
  TK_LT,
  TK_LE,
  TK_GT,
  TK_GE,
  TK_AND,
  TK_OR,
  TK_NOT,
  TK_MOD,
  TK_IF,
  TK_THEN,
  TK_ELSE
} tok_kind;

typedef struct {
  tok_kind kind;
  int pos;    /* byte offset of the first character */
  int len;    /* bytes of source text */
  double num; /* TK_NUM */
} token;

typedef struct {
  tr_arena *a;
  const char *src;
  int len;
  const char *file;
  int line, col; /* where src starts in `file` */
  tr_error *err;
  int rc;       /* first error; TR_OK while parsing goes well */
  int cur;      /* lexer cursor (byte offset) */
  int last_end; /* end offset of the previous token, where "end of equation" is reported */
  int depth;    /* active parse_sub() frames */
  token tok;    /* the current (lookahead) token */
} parser;

/* ---- errors ------------------------------------------------------------------------- */

static int fail(parser *p, int code, int offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int fail(parser *p, int code, int offset, const char *fmt, ...) {
  if (p->rc != TR_OK) return p->rc; /* the first error is the one worth reporting */
  int line, col;
  tr_expr_position(p->src, offset, p->line, p->col, &line, &col);
  va_list ap;
  va_start(ap, fmt);
  p->rc = tr_error_setv(p->err, code, p->file, line, col, fmt, ap);
  va_end(ap);
  return p->rc;
}

static void *nomem(parser *p) {
  fail(p, TR_ERR_NOMEM, p->tok.pos, "out of memory while parsing the equation");
  return NULL;
}

/* A token as the user wrote it, for "found ..." in messages (long tokens are cut). */
static const char *describe(const parser *p, const token *t, char *buf, size_t cap) {
  if (t->kind == TK_END) return "end of equation";
  int n = t->len;
  int cut = n > 40;
  if (cut) {
    n = 37;
    while (n > 0 && ((unsigned char)p->src[t->pos + n] & 0xC0) == 0x80)
      n--; /* whole chars */
  }
  snprintf(buf, cap, "'%.*s%s'", n, p->src + t->pos, cut ? "..." : "");
  return buf;
}

static void *expected(parser *p, const char *what) {
  char buf[64];
  fail(p, TR_ERR_PARSE, p->tok.pos, "expected %s but found %s", what,
       describe(p, &p->tok, buf, sizeof buf));
  return NULL;
}

/* ---- lexer -------------------------------------------------------------------------- */

static int is_ident_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}

static int is_ident_char(unsigned char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static int is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

static int ascii_upper(int c) {
  return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Keywords are case-insensitive bare words; a quoted "if" is a name. */
static const struct {
  const char *word;
  tok_kind kind;
} keywords[] = {{"IF", TK_IF}, {"THEN", TK_THEN}, {"ELSE", TK_ELSE}, {"AND", TK_AND},
                {"OR", TK_OR}, {"NOT", TK_NOT},   {"MOD", TK_MOD}};

static tok_kind keyword_kind(const char *s, int n) {
  for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
    const char *w = keywords[k].word;
    if ((int)strlen(w) != n) continue;
    int i = 0;
    while (i < n && ascii_upper((unsigned char)s[i]) == w[i])
      i++;
    if (i == n) return keywords[k].kind;
  }
  return TK_NAME;
}

/* Skip blanks, line breaks and {comments}. Returns 0 on an unterminated comment. */
static int skip_space(parser *p) {
  while (p->cur < p->len) {
    char c = p->src[p->cur];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      p->cur++;
    } else if (c == '{') {
      int open = p->cur;
      while (p->cur < p->len && p->src[p->cur] != '}')
        p->cur++;
      if (p->cur >= p->len) {
        fail(p, TR_ERR_PARSE, open, "unterminated comment: '{' without a closing '}'");
        return 0;
      }
      p->cur++;
    } else {
      break;
    }
  }
  return 1;
}

/* A quoted name starting at p->cur ('"'); backslash escapes the next byte. */
static int lex_quoted(parser *p) {
  int open = p->cur++;
  while (p->cur < p->len && p->src[p->cur] != '"') {
    /* Names are C strings once canonical: a NUL would silently cut one short. */
    if (p->src[p->cur] == '\0') {
      fail(p, TR_ERR_PARSE, p->cur, "a quoted name cannot contain a NUL byte");
      return 0;
    }
    if (p->src[p->cur] == '\\' && p->cur + 1 < p->len && p->src[p->cur + 1] != '\0') p->cur++;
    p->cur++;
  }
  if (p->cur >= p->len) {
    fail(p, TR_ERR_PARSE, open, "unterminated quoted name: '\"' without a closing '\"'");
    return 0;
  }
  p->cur++;
  return 1;
}

/* NUMBER := digits ['.' digits] | '.' digits, then optional [eE] [+-] digits. */
static int lex_number(parser *p, token *t) {
  const char *s = p->src;
  int i = p->cur;
  while (i < p->len && is_digit((unsigned char)s[i]))
    i++;
  if (i < p->len && s[i] == '.') {
    i++;
    while (i < p->len && is_digit((unsigned char)s[i]))
      i++;
  }
  if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
    int j = i + 1;
    if (j < p->len && (s[j] == '+' || s[j] == '-')) j++;
    if (j >= p->len || !is_digit((unsigned char)s[j])) {
      fail(p, TR_ERR_PARSE, p->cur, "malformed number '%.*s': exponent without digits", j - p->cur,
           s + p->cur);
      return 0;
    }
    while (j < p->len && is_digit((unsigned char)s[j]))
      j++;
    i = j;
  }
  if (i < p->len && is_ident_start((unsigned char)s[i]) && s[i] != '$') {
    /* "3rd" or "2x": a name must be quoted when it starts with a digit */
    int j = i;
    while (j < p->len && is_ident_char((unsigned char)s[j]))
      j++;
    fail(p, TR_ERR_PARSE, p->cur,
         "malformed number '%.*s' (a name starting with a digit must be quoted)", j - p->cur,
         s + p->cur);
    return 0;
  }
  int n = i - p->cur;
  char small[64];
  char *buf = small;
  if ((size_t)n >= sizeof small) {
    buf = tr_arena_strndup(p->a, s + p->cur, (size_t)n);
    if (!buf) return nomem(p), 0;
  } else {
    memcpy(small, s + p->cur, (size_t)n);
    small[n] = '\0';
  }
  errno = 0;
  double v = strtod(buf, NULL);
  if (errno == ERANGE && v > 1.0) {
    fail(p, TR_ERR_PARSE, p->cur, "number '%.*s' is too large", n > 40 ? 40 : n, s + p->cur);
    return 0;
  }
  t->num = v;
  p->cur = i;
  return 1;
}

/* Read the next token into p->tok. On a lexical error p->rc is set and tok is TK_END. */
static void next(parser *p) {
  token t = {TK_END, 0, 0, 0.0};
  p->last_end = p->tok.pos + p->tok.len;
  if (!skip_space(p)) goto done;
  t.pos = p->cur;
  if (p->cur >= p->len) {
    t.pos = p->last_end;
    goto done;
  }
  const char *s = p->src;
  unsigned char c = (unsigned char)s[p->cur];
  unsigned char d = p->cur + 1 < p->len ? (unsigned char)s[p->cur + 1] : 0;
  if (is_digit(c) || (c == '.' && is_digit(d))) {
    t.kind = TK_NUM;
    if (!lex_number(p, &t)) t.kind = TK_END;
  } else if (is_ident_start(c) || c == '"') {
    /* NAME := segment ('.' segment)*, a segment being bare or "quoted" (module paths). */
    t.kind = TK_NAME;
    for (;;) {
      if (s[p->cur] == '"') {
        if (!lex_quoted(p)) {
          t.kind = TK_END;
          break;
        }
      } else {
        while (p->cur < p->len && is_ident_char((unsigned char)s[p->cur]))
          p->cur++;
      }
      /* A bare segment has eaten its trailing '.', so `a."b"` continues at the quote;
       * after a quoted segment, `"a".b` and `"a"."b"` continue past the '.'. */
      if (p->cur < p->len && s[p->cur - 1] == '.' && s[p->cur] == '"') continue;
      if (p->cur + 1 < p->len && s[p->cur - 1] == '"' && s[p->cur] == '.' &&
          (s[p->cur + 1] == '"' || is_ident_start((unsigned char)s[p->cur + 1]))) {
        p->cur++;
        continue;
      }
      break;
    }
    if (t.kind == TK_NAME && c != '"') {
      tok_kind kw = keyword_kind(s + t.pos, p->cur - t.pos);
      if (kw != TK_NAME) t.kind = kw;
    }
  } else {
    int two = 0;
    switch (c) {
    case '(':
      t.kind = TK_LPAREN;
      break;
    case ')':
      t.kind = TK_RPAREN;
      break;
    case '[':
      t.kind = TK_LBRACKET;
      break;
    case ']':
      t.kind = TK_RBRACKET;
      break;
    case ',':
      t.kind = TK_COMMA;
      break;
    case '+':
      t.kind = TK_PLUS;
      break;
    case '-':
      t.kind = TK_MINUS;
      break;
    case '*':
      t.kind = TK_STAR;
      break;
    case '/':
      t.kind = TK_SLASH;
      break;
    case '^':
      t.kind = TK_CARET;
      break;
    case '=':
      t.kind = TK_EQ;
      break;
    case '!':
      t.kind = TK_NOT;
      break;
    case '<':
      if (d == '>')
        t.kind = TK_NE, two = 1;
      else if (d == '=')
        t.kind = TK_LE, two = 1;
      else
        t.kind = TK_LT;
      break;
    case '>':
      if (d == '=')
        t.kind = TK_GE, two = 1;
      else
        t.kind = TK_GT;
      break;
    case '&':
    case '|':
      if (d == c) {
        t.kind = c == '&' ? TK_AND : TK_OR;
        two = 1;
      } else {
        fail(p, TR_ERR_PARSE, p->cur, "unexpected character '%c' (write %c%c or %s)", c, c, c,
             c == '&' ? "AND" : "OR");
      }
      break;
    default:
      if (c >= 0x20 && c < 0x7f)
        fail(p, TR_ERR_PARSE, p->cur, "unexpected character '%c'", c);
      else
        fail(p, TR_ERR_PARSE, p->cur, "unexpected character 0x%02x", c);
      t.kind = TK_END;
      break;
    }
    if (t.kind != TK_END) p->cur += 1 + two;
  }
done:
  if (p->rc != TR_OK) {
    t.kind = TK_END;
    p->cur = p->len;
  } else if (t.kind != TK_END) {
    t.len = p->cur - t.pos;
  }
  p->tok = t;
}

/* ---- AST construction --------------------------------------------------------------- */

static tr_ast *new_node(parser *p, tr_ast_kind kind, int pos) {
  tr_ast *n = tr_arena_alloc(p->a, sizeof *n);
  if (!n) return nomem(p);
  n->kind = kind;
  n->pos = pos;
  n->builtin = -1;
  n->var = -1;
  return n;
}

/* Canonical form of a NAME token: each '.'-separated segment (outside quotes) goes through
 * tr_canon_ident on its own, so that `"my module".x` and `my_module.x` agree. */
static char *canon_name(tr_arena *a, const char *raw, int n) {
  char *out = tr_arena_alloc(a, (size_t)n + 1);
  if (!out) return NULL;
  size_t used = 0;
  int start = 0, inq = 0;
  for (int i = 0; i <= n; i++) {
    if (i < n && raw[i] == '\\' && inq) {
      i++;
      continue;
    }
    if (i < n && raw[i] == '"') inq = !inq;
    if (i == n || (raw[i] == '.' && !inq)) {
      if (start > 0) out[used++] = '.';
      used += tr_canon_ident(raw + start, (size_t)(i - start), out + used, (size_t)n + 1 - used);
      start = i + 1;
    }
  }
  out[used] = '\0';
  return out;
}

static int set_name(parser *p, tr_ast *node, const token *t) {
  node->raw = tr_arena_strndup(p->a, p->src + t->pos, (size_t)t->len);
  node->name = node->raw ? canon_name(p->a, p->src + t->pos, t->len) : NULL;
  if (!node->name) return nomem(p), 0;
  const char *nm = node->name;
  if (!nm[0]) return fail(p, TR_ERR_PARSE, t->pos, "empty name '%s'", node->raw), 0;
  if (nm[0] == '.' || nm[strlen(nm) - 1] == '.' || strstr(nm, "..")) {
    fail(p, TR_ERR_PARSE, t->pos,
         "malformed name '%s': a module path needs a name on each side "
         "of every '.'",
         node->raw);
    return 0;
  }
  return 1;
}

/* A growable argument list in the arena: doubling wastes at most half of it. */
static int push_arg(parser *p, tr_ast *node, int *cap, tr_ast *arg) {
  if (node->nargs == *cap) {
    int ncap = *cap ? *cap * 2 : 4;
    tr_ast **args = tr_arena_calloc(p->a, (size_t)ncap, sizeof *args);
    if (!args) return nomem(p), 0;
    if (node->nargs) memcpy(args, node->args, (size_t)node->nargs * sizeof *args);
    node->args = args;
    *cap = ncap;
  }
  node->args[node->nargs++] = arg;
  return 1;
}

/* ---- parser ------------------------------------------------------------------------- */

/* Binding power of binary operators (left side); '^' is handled as right-associative. */
enum {
  PRI_NONE = 0,
  PRI_OR = 1,
  PRI_AND = 2,
  PRI_NOT = 3,
  PRI_CMP = 4,
  PRI_ADD = 5,
  PRI_MUL = 6,
  PRI_POW = 8
};

static int binary_op(tok_kind k, int *op) {
  switch (k) {
  case TK_OR:
    *op = TR_OP_OR;
    return PRI_OR;
  case TK_AND:
    *op = TR_OP_AND;
    return PRI_AND;
  case TK_EQ:
    *op = TR_OP_EQ;
    return PRI_CMP;
  case TK_NE:
    *op = TR_OP_NE;
    return PRI_CMP;
  case TK_LT:
    *op = TR_OP_LT;
    return PRI_CMP;
  case TK_LE:
    *op = TR_OP_LE;
    return PRI_CMP;
  case TK_GT:
    *op = TR_OP_GT;
    return PRI_CMP;
  case TK_GE:
    *op = TR_OP_GE;
    return PRI_CMP;
  case TK_PLUS:
    *op = TR_OP_ADD;
    return PRI_ADD;
  case TK_MINUS:
    *op = TR_OP_SUB;
    return PRI_ADD;
  case TK_STAR:
    *op = TR_OP_MUL;
    return PRI_MUL;
  case TK_SLASH:
    *op = TR_OP_DIV;
    return PRI_MUL;
  case TK_MOD:
    *op = TR_OP_MOD;
    return PRI_MUL;
  case TK_CARET:
    *op = TR_OP_POW;
    return PRI_POW;
  default:
    return PRI_NONE;
  }
}

static tr_ast *parse_sub(parser *p, int limit);
static tr_ast *parse_expr(parser *p);

/* Consume a token of kind k or report "expected <what>". */
static int accept(parser *p, tok_kind k, const char *what) {
  if (p->tok.kind != k) return expected(p, what), 0;
  next(p);
  return p->rc == TR_OK;
}

/* if := IF expr THEN expr ELSE expr */
static tr_ast *parse_if(parser *p) {
  tr_ast *n = new_node(p, TR_AST_IF, p->tok.pos);
  if (!n) return NULL;
  next(p);
  n->args = tr_arena_calloc(p->a, 3, sizeof *n->args);
  if (!n->args) return nomem(p);
  n->nargs = 3;
  if (!(n->args[0] = parse_expr(p)) || !accept(p, TK_THEN, "'THEN'")) return NULL;
  if (!(n->args[1] = parse_expr(p)) || !accept(p, TK_ELSE, "'ELSE'")) return NULL;
  if (!(n->args[2] = parse_expr(p))) return NULL;
  return n;
}

static void arity_message(char *buf, size_t cap, const tr_builtin *b) {
  if (b->max_args < 0)
    snprintf(buf, cap, "at least %d", b->min_args);
  else if (b->min_args == b->max_args)
    snprintf(buf, cap, "%d", b->min_args);
  else if (b->max_args == b->min_args + 1)
    snprintf(buf, cap, "%d or %d", b->min_args, b->max_args);
  else
    snprintf(buf, cap, "%d to %d", b->min_args, b->max_args);
}

/* call := NAME '(' [expr (',' expr)*] ')'; a builtin's argument count is checked here so the
 * error points at the call. */
static tr_ast *parse_call(parser *p, tr_ast *n) {
  int cap = 0;
  n->kind = TR_AST_CALL;
  next(p); /* '(' */
  if (p->rc != TR_OK) return NULL;
  if (p->tok.kind != TK_RPAREN) {
    for (;;) {
      tr_ast *arg = parse_expr(p);
      if (!arg || !push_arg(p, n, &cap, arg)) return NULL;
      if (p->tok.kind == TK_COMMA) {
        next(p);
        continue;
      }
      if (p->tok.kind != TK_RPAREN) return expected(p, "',' or ')'");
      break;
    }
  }
  next(p);
  const tr_builtin *b = tr_builtin_find(n->name);
  if (b) {
    n->builtin = (int)b->id;
    if (n->nargs < b->min_args || (b->max_args >= 0 && n->nargs > b->max_args)) {
      char want[32];
      arity_message(want, sizeof want, b);
      fail(p, TR_ERR_ARITY, n->pos, "wrong number of arguments to %s: expected %s, found %d",
           b->name, want, n->nargs);
      return NULL;
    }
  }
  return p->rc == TR_OK ? n : NULL;
}

/* index := NAME '[' sub (',' sub)* ']'   sub := '*' | expr */
static tr_ast *parse_index(parser *p, tr_ast *n) {
  int cap = 0;
  n->kind = TR_AST_INDEX;
  next(p); /* '[' */
  for (;;) {
    tr_ast *sub;
    if (p->tok.kind == TK_STAR) {
      if (!(sub = new_node(p, TR_AST_WILDCARD, p->tok.pos))) return NULL;
      next(p);
    } else {
      sub = parse_expr(p);
    }
    if (!sub || p->rc != TR_OK || !push_arg(p, n, &cap, sub)) return NULL;
    if (p->tok.kind == TK_COMMA) {
      next(p);
      continue;
    }
    if (p->tok.kind != TK_RBRACKET) return expected(p, "',' or ']'");
    break;
  }
  next(p);
  return p->rc == TR_OK ? n : NULL;
}

/* primary := NUMBER | NAME | NAME '(' args ')' | NAME '[' subs ']' | '(' expr ')' | if */
static tr_ast *parse_primary(parser *p) {
  tr_ast *n;
  switch (p->tok.kind) {
  case TK_NUM:
    if (!(n = new_node(p, TR_AST_NUM, p->tok.pos))) return NULL;
    n->num = p->tok.num;
    next(p);
    return p->rc == TR_OK ? n : NULL;
  case TK_MOD:
  case TK_NAME: {
    token t = p->tok;
    if (!(n = new_node(p, TR_AST_NAME, t.pos)) || !set_name(p, n, &t)) return NULL;
    next(p);
    if (p->rc != TR_OK) return NULL;
    if (p->tok.kind == TK_LPAREN) return parse_call(p, n);
    if (t.kind == TK_MOD) { /* MOD is the operator unless it is called as MOD(a, b) */
      char buf[64];
      fail(p, TR_ERR_PARSE, t.pos, "expected an operand but found %s",
           describe(p, &t, buf, sizeof buf));
      return NULL;
    }
    if (p->tok.kind == TK_LBRACKET) return parse_index(p, n);
    /* TIME, DT, PI ...: a builtin without arguments needs no parentheses */
    const tr_builtin *b = tr_builtin_find(n->name);
    if (b && b->max_args == 0) {
      n->kind = TR_AST_CALL;
      n->builtin = (int)b->id;
    }
    return n;
  }
  case TK_LPAREN:
    next(p);
    if (p->rc != TR_OK || !(n = parse_expr(p))) return NULL;
    return accept(p, TK_RPAREN, "')'") ? n : NULL;
  case TK_IF:
    return parse_if(p);
  case TK_NOT:
    return expected(p, "an operand (put NOT and its operand in parentheses here)");
  default:
    return expected(p, "an operand");
  }
}

/* Precedence climbing over the ast.h levels. `limit` is the binding power of the operator to
 * the left; the loop takes every operator that binds tighter.
 *   not   := NOT not | cmp        (allowed only where a condition may start: limit < NOT)
 *   unary := ('-' | '+') unary | pow   (operand binds tighter than '*': -2^2 = -(2^2))
 *   pow   := primary ('^' unary)?      (right operand at PRI_POW - 1: right-associative) */
static tr_ast *parse_sub(parser *p, int limit) {
  tr_ast *left;
  int cap = PRI_POW; /* the tightest operator the loop below may still take */
  if (++p->depth > TR_EXPR_MAX_DEPTH + 1) {
    fail(p, TR_ERR_LIMIT, p->tok.pos, "equation nested more than %d levels deep",
         TR_EXPR_MAX_DEPTH);
    return NULL;
  }
  tok_kind k = p->tok.kind;
  if ((k == TK_NOT && limit < PRI_NOT) || k == TK_MINUS || k == TK_PLUS) {
    tr_ast *u = new_node(p, TR_AST_UNARY, p->tok.pos);
    if (!u) return NULL;
    u->op = k == TK_NOT ? TR_OP_NOT : k == TK_MINUS ? TR_OP_NEG : TR_OP_POS;
    next(p);
    if (p->rc != TR_OK) return NULL;
    tr_ast *operand = parse_sub(p, k == TK_NOT ? PRI_AND : PRI_MUL);
    if (!operand) return NULL;
    u->args = tr_arena_calloc(p->a, 1, sizeof *u->args);
    if (!u->args) return nomem(p);
    u->args[0] = operand;
    u->nargs = 1;
    left = u;
  } else {
    left = parse_primary(p);
    if (!left) return NULL;
  }
  for (;;) {
    if (p->tok.kind == TK_NOT && limit < PRI_NOT) {
      /* Vensim models converted by xmutil write ":NOT: x" as "x not" (the sdxorg suite's
       * test_logicals.stmx): a NOT after a complete condition negates it, binding as the
       * prefix form would, so "a AND b not" is a AND (NOT b). */
      tr_ast *u = new_node(p, TR_AST_UNARY, left->pos);
      if (!u || !(u->args = tr_arena_calloc(p->a, 1, sizeof *u->args))) return nomem(p);
      u->op = TR_OP_NOT;
      u->args[0] = left;
      u->nargs = 1;
      left = u;
      next(p);
      if (p->rc != TR_OK) return NULL;
      cap = PRI_NOT; /* only AND and OR may follow: "x not = y" is refused */
      continue;
    }
    int op = 0;
    int pri = binary_op(p->tok.kind, &op);
    if (pri <= limit || pri > cap) break;
    tr_ast *b = new_node(p, TR_AST_BINARY, left->pos);
    if (!b) return NULL;
    b->op = op;
    next(p);
    if (p->rc != TR_OK) return NULL;
    tr_ast *right = parse_sub(p, op == TR_OP_POW ? PRI_POW - 1 : pri);
    if (!right) return NULL;
    b->args = tr_arena_calloc(p->a, 2, sizeof *b->args);
    if (!b->args) return nomem(p);
    b->args[0] = left;
    b->args[1] = right;
    b->nargs = 2;
    left = b;
  }
  p->depth--;
  return left;
}

/* expr := IF expr THEN expr ELSE expr | or   (IF is handled by parse_primary) */
static tr_ast *parse_expr(parser *p) {
  return parse_sub(p, PRI_NONE);
}

int tr_expr_parse(tr_arena *a, const char *src, size_t len, const char *file, int line, int col,
                  tr_ast **out, tr_error *err) {
  parser p;
  memset(&p, 0, sizeof p);
  p.a = a;
  p.src = src ? src : "";
  p.file = file;
  p.line = line;
  p.col = col;
  p.err = err;
  if (out) *out = NULL;
  if (!a || !out) return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0, "tr_expr_parse: NULL");
  if (len > (size_t)INT_MAX / 2) {
    return tr_error_set(err, TR_ERR_LIMIT, file, line, col, "equation longer than %d bytes",
                        INT_MAX / 2);
  }
  p.len = src ? (int)len : 0;
  next(&p);
  if (p.rc != TR_OK) return p.rc;
  if (p.tok.kind == TK_END) return fail(&p, TR_ERR_PARSE, 0, "empty equation");
  tr_ast *n = parse_expr(&p);
  if (n && p.tok.kind != TK_END) expected(&p, "an operator or the end of the equation");
  if (p.rc != TR_OK) return p.rc;
  *out = n;
  return TR_OK;
}

void tr_expr_position(const char *src, int offset, int line, int col, int *out_line, int *out_col) {
  /* Columns count characters, not bytes: UTF-8 continuation bytes do not advance them.
   * "\r\n", "\n" and a lone "\r" (classic Mac files) each end a line. */
  for (int i = 0; src && i < offset; i++) {
    unsigned char c = (unsigned char)src[i];
    if (c == '\r' || (c == '\n' && (i == 0 || src[i - 1] != '\r'))) {
      line++;
      col = 1;
    } else if (c == '\n' || (c & 0xC0) == 0x80) {
      /* the '\n' of "\r\n" was counted with its '\r'; a continuation byte is the same
       * character as the byte before it */
    } else {
      col++;
    }
  }
  if (out_line) *out_line = line;
  if (out_col) *out_col = col;
}

/* ---- printing ----------------------------------------------------------------------- */

static const char *const op_text[] = {
    [TR_OP_ADD] = "+",   [TR_OP_SUB] = "-",   [TR_OP_MUL] = "*",    [TR_OP_DIV] = "/",
    [TR_OP_POW] = "^",   [TR_OP_MOD] = "MOD", [TR_OP_EQ] = "=",     [TR_OP_NE] = "<>",
    [TR_OP_LT] = "<",    [TR_OP_LE] = "<=",   [TR_OP_GT] = ">",     [TR_OP_GE] = ">=",
    [TR_OP_AND] = "AND", [TR_OP_OR] = "OR",   [TR_OP_NOT] = "NOT ", [TR_OP_NEG] = "-",
    [TR_OP_POS] = "+"};

/* A name prints bare when it would lex back as the same bare name, else quoted, so that the
 * printed form parses back to the same tree. */
static void put_name(tr_sb *sb, const char *name, int upper) {
  int bare = name[0] && !is_digit((unsigned char)name[0]) && name[0] != '.';
  for (const char *s = name; *s && bare; s++) {
    bare = is_ident_char((unsigned char)*s);
    /* a bare path is canonicalised segment by segment, which trims '_' next to a '.' */
    if (*s == '.' && (s[1] == '.' || s[1] == '_' || s[1] == '\0' || s[-1] == '_')) bare = 0;
  }
  tok_kind kw = bare ? keyword_kind(name, (int)strlen(name)) : TK_NAME;
  if (kw != TK_NAME && !(upper && kw == TK_MOD)) bare = 0; /* MOD(a, b) is a call */
  if (!bare) tr_sb_putc(sb, '"');
  for (const char *s = name; *s; s++) {
    if (!bare && (*s == '"' || *s == '\\')) tr_sb_putc(sb, '\\');
    tr_sb_putc(sb, (char)(upper ? ascii_upper((unsigned char)*s) : *s));
  }
  if (!bare) tr_sb_putc(sb, '"');
}

static void print_node(tr_sb *sb, const tr_ast *n) {
  if (!n) {
    tr_sb_append(sb, "<null>");
    return;
  }
  switch (n->kind) {
  case TR_AST_NUM:
    tr_sb_append_double(sb, n->num);
    break;
  case TR_AST_NAME:
    put_name(sb, n->name ? n->name : "", 0);
    break;
  case TR_AST_WILDCARD:
    tr_sb_putc(sb, '*');
    break;
  case TR_AST_UNARY:
    tr_sb_putc(sb, '(');
    tr_sb_append(sb, n->op >= 0 && n->op <= TR_OP_POS ? op_text[n->op] : "?");
    print_node(sb, n->nargs > 0 ? n->args[0] : NULL);
    tr_sb_putc(sb, ')');
    break;
  case TR_AST_BINARY:
    tr_sb_putc(sb, '(');
    print_node(sb, n->nargs > 0 ? n->args[0] : NULL);
    tr_sb_printf(sb, " %s ", n->op >= 0 && n->op <= TR_OP_POS ? op_text[n->op] : "?");
    print_node(sb, n->nargs > 1 ? n->args[1] : NULL);
    tr_sb_putc(sb, ')');
    break;
  case TR_AST_IF:
    tr_sb_append(sb, "(IF ");
    print_node(sb, n->nargs > 0 ? n->args[0] : NULL);
    tr_sb_append(sb, " THEN ");
    print_node(sb, n->nargs > 1 ? n->args[1] : NULL);
    tr_sb_append(sb, " ELSE ");
    print_node(sb, n->nargs > 2 ? n->args[2] : NULL);
    tr_sb_putc(sb, ')');
    break;
  case TR_AST_CALL:
  case TR_AST_INDEX: {
    int call = n->kind == TR_AST_CALL;
    put_name(sb, n->name ? n->name : "", call);
    tr_sb_putc(sb, call ? '(' : '[');
    for (int i = 0; i < n->nargs; i++) {
      if (i) tr_sb_append(sb, ", ");
      print_node(sb, n->args[i]);
    }
    tr_sb_putc(sb, call ? ')' : ']');
    break;
  }
  }
}

char *tr_expr_to_string(const tr_ast *n) {
  tr_sb sb = TR_SB_INIT;
  print_node(&sb, n);
  tr_sb_append(&sb, ""); /* an empty result is "" rather than NULL */
  if (!tr_sb_ok(&sb)) {
    tr_sb_free(&sb);
    return NULL;
  }
  return tr_sb_take(&sb);
}

/* ---- copying ------------------------------------------------------------------------ */

tr_ast *tr_ast_clone(tr_arena *a, const tr_ast *n) {
  if (!a || !n) return NULL;
  tr_ast *c = tr_arena_alloc(a, sizeof *c);
  if (!c) return NULL;
  *c = *n;
  c->args = NULL;
  if (n->name && !(c->name = tr_arena_strdup(a, n->name))) return NULL;
  if (n->raw && !(c->raw = tr_arena_strdup(a, n->raw))) return NULL;
  if (n->nargs > 0) {
    c->args = tr_arena_calloc(a, (size_t)n->nargs, sizeof *c->args);
    if (!c->args) return NULL;
    for (int i = 0; i < n->nargs; i++)
      if (n->args[i] && !(c->args[i] = tr_ast_clone(a, n->args[i]))) return NULL;
  }
  return c;
}
