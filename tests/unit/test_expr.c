/* Unit tests: the equation parser (src/expr/parse.c) and the builtin table — tree shapes,
 * numbers, names, positions of errors in multi-line equations, arity, nesting limit, clone,
 * printing, and allocation failure at every allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/arena.h"
#include "expr/ast.h"
#include "expr/builtins.h"
#include "tightrope/base.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse `src` and return its canonical form (static buffer), or "!! <error text>". */
static const char *canon(const char *src) {
  static char out[4096];
  tr_arena a;
  tr_arena_init(&a);
  tr_error e;
  tr_error_clear(&e);
  tr_ast *n = NULL;
  int rc = tr_expr_parse(&a, src, strlen(src), "m.xmile", 1, 1, &n, &e);
  if (rc != TR_OK) {
    snprintf(out, sizeof out, "!! %s", tr_error_text(&e));
  } else {
    char *s = tr_expr_to_string(n);
    snprintf(out, sizeof out, "%s", s ? s : "(null)");
    tr_free(s);
  }
  tr_arena_release(&a);
  return out;
}

/* Evaluate a parsed constant expression (numbers and operators only) to check that tree
 * shapes give the published answers, not just the expected strings. */
static double eval(const tr_ast *n) {
  switch (n->kind) {
  case TR_AST_NUM:
    return n->num;
  case TR_AST_UNARY: {
    double x = eval(n->args[0]);
    return n->op == TR_OP_NEG ? -x : n->op == TR_OP_NOT ? (x == 0.0) : x;
  }
  case TR_AST_BINARY: {
    double x = eval(n->args[0]), y = eval(n->args[1]);
    switch (n->op) {
    case TR_OP_ADD:
      return x + y;
    case TR_OP_SUB:
      return x - y;
    case TR_OP_MUL:
      return x * y;
    case TR_OP_DIV:
      return x / y;
    case TR_OP_POW:
      return pow(x, y);
    case TR_OP_MOD:
      return fmod(x, y);
    case TR_OP_EQ:
      return x == y;
    case TR_OP_NE:
      return x != y;
    case TR_OP_LT:
      return x < y;
    case TR_OP_LE:
      return x <= y;
    case TR_OP_GT:
      return x > y;
    case TR_OP_GE:
      return x >= y;
    case TR_OP_AND:
      return x != 0.0 && y != 0.0;
    case TR_OP_OR:
      return x != 0.0 || y != 0.0;
    default:
      return NAN;
    }
  }
  case TR_AST_IF:
    return eval(n->args[0]) != 0.0 ? eval(n->args[1]) : eval(n->args[2]);
  default:
    return NAN;
  }
}

static double value_of(const char *src) {
  tr_arena a;
  tr_arena_init(&a);
  tr_ast *n = NULL;
  double v = NAN;
  if (tr_expr_parse(&a, src, strlen(src), NULL, 1, 1, &n, NULL) == TR_OK) v = eval(n);
  tr_arena_release(&a);
  return v;
}

static void test_precedence_values(void **state) {
  (void)state;
  assert_true(value_of("-2^2") == -4.0);
  assert_true(value_of("2^3^2") == 512.0);
  assert_true(value_of("4-5+6") == 5.0);
  assert_true(value_of("4 - 5 + 6") == 5.0);
  assert_true(value_of("2+3*4") == 14.0);
  assert_true(value_of("(2+3)*4") == 20.0);
  assert_true(value_of("8/4/2") == 1.0);
  assert_true(value_of("2^-1") == 0.5);
  assert_true(value_of("-2^-2") == -0.25);
  assert_true(value_of("7 MOD 3 * 2") == 2.0); /* (7 MOD 3) * 2 */
  assert_true(value_of("1 + 2 = 3") == 1.0);
  assert_true(value_of("NOT 1 = 2") == 1.0); /* NOT (1 = 2) */
  assert_true(value_of("1 < 2 AND 3 < 2 OR 1") == 1.0);
  assert_true(value_of("IF 0 THEN 1 ELSE 2 + 3") == 5.0);
  assert_true(value_of("10 / 0") == INFINITY); /* the parser does not fold; IEEE semantics */
}

static void test_numbers(void **state) {
  (void)state;
  assert_true(value_of("2.4E2") == 240.0);
  assert_true(value_of(".34") == 0.34);
  assert_true(value_of("+.72") == 0.72);
  assert_true(value_of("3e-05") == 3e-05);
  assert_true(value_of("1E+3") == 1000.0);
  assert_true(value_of("0.1") == 0.1);
  assert_string_equal(canon("+.72"), "(+0.72)");
  assert_string_equal(canon("2.4E2"), "240");
  assert_string_equal(canon("1e"),
                      "!! m.xmile:1:1: malformed number '1e': exponent without digits");
  assert_string_equal(canon("x + 1e999"), "!! m.xmile:1:5: number '1e999' is too large");
  assert_string_equal(canon("2x"),
                      "!! m.xmile:1:1: malformed number '2x' (a name starting with a digit "
                      "must be quoted)");
}

static void test_tree_fields(void **state) {
  (void)state;
  tr_arena a;
  tr_arena_init(&a);
  tr_ast *n = NULL;
  const char *src = "SMTH1(\"Room Temp\", Delay_Time) + lookup(g, x) * a[*, 2]";
  assert_int_equal(tr_expr_parse(&a, src, strlen(src), NULL, 1, 1, &n, NULL), TR_OK);
  assert_int_equal(n->kind, TR_AST_BINARY);
  assert_int_equal(n->op, TR_OP_ADD);
  assert_int_equal(n->pos, 0);
  tr_ast *call = n->args[0];
  assert_int_equal(call->kind, TR_AST_CALL);
  assert_int_equal(call->builtin, TR_FN_SMTH1);
  assert_string_equal(call->name, "smth1");
  assert_int_equal(call->nargs, 2);
  assert_int_equal(call->args[0]->kind, TR_AST_NAME);
  assert_string_equal(call->args[0]->name, "room_temp");
  assert_string_equal(call->args[0]->raw, "\"Room Temp\"");
  assert_int_equal(call->args[0]->var, -1);
  assert_int_equal(call->args[0]->pos, 6);
  assert_string_equal(call->args[1]->name, "delay_time");
  tr_ast *mul = n->args[1];
  assert_int_equal(mul->op, TR_OP_MUL);
  assert_int_equal(mul->args[0]->builtin, TR_FN_LOOKUP);
  tr_ast *idx = mul->args[1];
  assert_int_equal(idx->kind, TR_AST_INDEX);
  assert_string_equal(idx->name, "a");
  assert_int_equal(idx->nargs, 2);
  assert_int_equal(idx->args[0]->kind, TR_AST_WILDCARD);
  assert_int_equal(idx->args[1]->kind, TR_AST_NUM);
  assert_int_equal(idx->var, -1);
  /* an unknown function stays a call with builtin -1 (graphical function or macro) */
  src = "my_gf(Time)";
  assert_int_equal(tr_expr_parse(&a, src, strlen(src), NULL, 1, 1, &n, NULL), TR_OK);
  assert_int_equal(n->kind, TR_AST_CALL);
  assert_int_equal(n->builtin, -1);
  assert_int_equal(n->args[0]->kind, TR_AST_CALL);
  assert_int_equal(n->args[0]->builtin, TR_FN_TIME);
  assert_int_equal(n->args[0]->nargs, 0);
  tr_arena_release(&a);
}

static void test_names(void **state) {
  (void)state;
  assert_string_equal(canon("\"Teacup Temperature\"-\"Room Temperature\""),
                      "(teacup_temperature - room_temperature)");
  assert_string_equal(canon("Teacup_Temperature"), "teacup_temperature");
  assert_string_equal(canon("hares.area"), "hares.area");
  assert_string_equal(canon("\"my module\".\"x y\""), "my_module.x_y");
  assert_string_equal(canon("\"Aux_with_$peC!@|_characters\""), "\"aux_with_$pec!@|_characters\"");
  assert_string_equal(canon("\"a \\\"quoted\\\" word\""), "\"a_\\\"quoted\\\"_word\"");
  assert_string_equal(canon("caf\xc3\xa9 * 2"), "(caf\xc3\xa9 * 2)");
  assert_string_equal(canon("$cost"), "$cost");
  assert_string_equal(canon("\"if\" + 1"), "(\"if\" + 1)"); /* a quoted keyword is a name */
  assert_string_equal(canon("PI"), "PI()");
  assert_string_equal(canon("pi()"), "PI()");
  assert_string_equal(canon("time"), "TIME()");
  assert_string_equal(canon("dt * StartTime"), "(DT() * STARTTIME())");
  assert_string_equal(canon("abs(x) + Abs(y) + ABS(z)"), "((ABS(x) + ABS(y)) + ABS(z))");
  assert_string_equal(canon("step"), "step"); /* only 0-argument builtins go bare */
  assert_string_equal(canon("\" \""), "!! m.xmile:1:1: empty name '\" \"'");
}

static void test_keywords_and_comments(void **state) {
  (void)state;
  assert_string_equal(canon("if a then b else c"), "(IF a THEN b ELSE c)");
  assert_string_equal(canon("( IF true_input AnD false_input THEN 1 ELSE 0 )"),
                      "(IF (true_input AND false_input) THEN 1 ELSE 0)");
  assert_string_equal(canon("a && b || !c"), "((a AND b) OR (NOT c))");
  assert_string_equal(canon("StockA mod 3"), "(stocka MOD 3)");
  assert_string_equal(canon("MOD(7, 3)"), "MOD(7, 3)");
  assert_string_equal(canon("x {the rate} * {and} y"), "(x * y)");
  assert_string_equal(canon("{only a comment}"), "!! m.xmile:1:1: empty equation");
  assert_string_equal(canon("  \n\t "), "!! m.xmile:1:1: empty equation");
  assert_string_equal(canon(""), "!! m.xmile:1:1: empty equation");
  assert_string_equal(canon("x {open"), "!! m.xmile:1:3: unterminated comment: '{' without a "
                                        "closing '}'");
  assert_string_equal(canon("1 + IF c THEN a ELSE b + 1"), "(1 + (IF c THEN a ELSE (b + 1)))");
}

static void test_error_messages(void **state) {
  (void)state;
  assert_string_equal(canon("IF a > 1 (b) THEN 1 ELSE 2"),
                      "!! m.xmile:1:10: expected 'THEN' but found '('");
  assert_string_equal(canon("IF (a > 1 THEN 1 ELSE 2"),
                      "!! m.xmile:1:11: expected ')' but found 'THEN'");
  assert_string_equal(canon("a +"), "!! m.xmile:1:4: expected an operand but found end of "
                                    "equation");
  assert_string_equal(canon("a b"), "!! m.xmile:1:3: expected an operator or the end of the "
                                    "equation but found 'b'");
  assert_string_equal(canon("f(a,)"), "!! m.xmile:1:5: expected an operand but found ')'");
  assert_string_equal(canon("f(a b)"), "!! m.xmile:1:5: expected ',' or ')' but found 'b'");
  assert_string_equal(canon("a[1 2]"), "!! m.xmile:1:5: expected ',' or ']' but found '2'");
  assert_string_equal(canon("a # b"), "!! m.xmile:1:3: unexpected character '#'");
  assert_string_equal(canon("a * NOT b"), "!! m.xmile:1:5: expected an operand (put NOT and its "
                                          "operand in parentheses here) but found 'NOT'");
  assert_string_equal(canon("\"open name"),
                      "!! m.xmile:1:1: unterminated quoted name: '\"' without a closing '\"'");
  /* status codes */
  tr_arena a;
  tr_arena_init(&a);
  tr_ast *n = (tr_ast *)&a; /* must be reset to NULL on failure */
  tr_error e;
  assert_int_equal(tr_expr_parse(&a, "(", 1, NULL, 1, 1, &n, &e), TR_ERR_PARSE);
  assert_null(n);
  assert_int_equal(e.code, TR_ERR_PARSE);
  assert_int_equal(tr_expr_parse(&a, "x", 1, NULL, 1, 1, NULL, &e), TR_ERR_INVALID);
  /* a long token is cut in the message */
  const char *lng = "a b23456789012345678901234567890123456789012345678901234567890";
  assert_int_equal(tr_expr_parse(&a, lng, strlen(lng), NULL, 1, 1, &n, &e), TR_ERR_PARSE);
  assert_non_null(strstr(e.msg, "found 'b234567890123456789012345678901234567...'"));
  tr_arena_release(&a);
}

static void test_positions(void **state) {
  (void)state;
  /* the equation starts at line 12, column 17 of the model file and spans lines */
  const char *src = "IF a > 1\n   THEN (b +\n c\n   ELSE 0";
  tr_arena a;
  tr_arena_init(&a);
  tr_ast *n = NULL;
  tr_error e;
  tr_error_clear(&e);
  assert_int_equal(tr_expr_parse(&a, src, strlen(src), "m.xmile", 12, 17, &n, &e), TR_ERR_PARSE);
  assert_string_equal(tr_error_text(&e), "m.xmile:15:4: expected ')' but found 'ELSE'");
  assert_int_equal(e.line, 15);
  assert_int_equal(e.col, 4);
  /* an error on the first line is offset by the start column */
  assert_int_equal(tr_expr_parse(&a, "a + )", 5, "m.xmile", 12, 17, &n, &e), TR_ERR_PARSE);
  assert_string_equal(tr_error_text(&e), "m.xmile:12:21: expected an operand but found ')'");
  /* CR-only and CRLF line ends; UTF-8 characters count as one column */
  int line, col;
  tr_expr_position("a\rb\r\nc\nd", 7, 1, 1, &line, &col);
  assert_int_equal(line, 4);
  assert_int_equal(col, 1);
  tr_expr_position("a\r\nbc", 5, 1, 1, &line, &col);
  assert_int_equal(line, 2);
  assert_int_equal(col, 3);
  tr_expr_position("\xc3\xa9t\xc3\xa9 x", 6, 3, 5, &line, &col);
  assert_int_equal(line, 3);
  assert_int_equal(col, 9);
  tr_expr_position("abc", 0, 7, 9, &line, &col);
  assert_int_equal(line, 7);
  assert_int_equal(col, 9);
  /* node positions are byte offsets into the equation */
  const char *s2 = "a +\n  b";
  assert_int_equal(tr_expr_parse(&a, s2, strlen(s2), NULL, 1, 1, &n, NULL), TR_OK);
  assert_int_equal(n->args[1]->pos, 6);
  /* src need not be NUL-terminated: only len bytes are read */
  assert_int_equal(tr_expr_parse(&a, "a+b+garbage", 3, NULL, 1, 1, &n, NULL), TR_OK);
  char *s = tr_expr_to_string(n);
  assert_string_equal(s, "(a + b)");
  tr_free(s);
  tr_arena_release(&a);
}

static void test_arity(void **state) {
  (void)state;
  assert_string_equal(canon("SMTH1(x)"),
                      "!! m.xmile:1:1: wrong number of arguments to SMTH1: expected 2 or 3, "
                      "found 1");
  assert_string_equal(canon("1 + abs(x, y)"),
                      "!! m.xmile:1:5: wrong number of arguments to ABS: expected 1, found 2");
  assert_string_equal(canon("PI(1)"),
                      "!! m.xmile:1:1: wrong number of arguments to PI: expected 0, found 1");
  assert_string_equal(canon("NORMAL(1)"),
                      "!! m.xmile:1:1: wrong number of arguments to NORMAL: expected 2 to 5, "
                      "found 1");
  assert_string_equal(canon("MEAN()"),
                      "!! m.xmile:1:1: wrong number of arguments to MEAN: expected at least 1, "
                      "found 0");
  assert_string_equal(canon("MAX(1, 2, 3, 4, 5)"), "MAX(1, 2, 3, 4, 5)");
  tr_arena a;
  tr_arena_init(&a);
  tr_ast *n;
  tr_error e;
  assert_int_equal(tr_expr_parse(&a, "DELAYN(a, b)", 12, NULL, 1, 1, &n, &e), TR_ERR_ARITY);
  /* every builtin accepts its minimum and its maximum and refuses one more than the max */
  for (int i = 0; i < TR_FN_COUNT; i++) {
    const tr_builtin *b = &tr_builtins[i];
    for (int k = b->min_args; k <= (b->max_args < 0 ? b->min_args + 3 : b->max_args + 1); k++) {
      char src[256];
      int len = snprintf(src, sizeof src, "%s(", b->name);
      for (int j = 0; j < k; j++)
        len += snprintf(src + len, sizeof src - (size_t)len, "%sx", j ? "," : "");
      len += snprintf(src + len, sizeof src - (size_t)len, ")");
      int want = (b->max_args >= 0 && k > b->max_args) ? TR_ERR_ARITY : TR_OK;
      int rc = tr_expr_parse(&a, src, (size_t)len, NULL, 1, 1, &n, &e);
      if (rc != want) fail_msg("%s: got %d, wanted %d", src, rc, want);
      if (rc == TR_OK) assert_int_equal(n->builtin, (int)b->id);
    }
    if (b->min_args > 0) {
      char src[64];
      int len = snprintf(src, sizeof src, "%s()", b->name);
      assert_int_equal(tr_expr_parse(&a, src, (size_t)len, NULL, 1, 1, &n, &e), TR_ERR_ARITY);
    }
  }
  tr_arena_release(&a);
}

static void test_builtin_table(void **state) {
  (void)state;
  for (int i = 0; i < TR_FN_COUNT; i++) {
    assert_int_equal((int)tr_builtins[i].id, i);
    assert_true(tr_builtins[i].max_args < 0 || tr_builtins[i].max_args >= tr_builtins[i].min_args);
    assert_ptr_equal(tr_builtin_find(tr_builtins[i].name), &tr_builtins[i]);
  }
  assert_ptr_equal(tr_builtin_find("smth3"), &tr_builtins[TR_FN_SMTH3]);
  assert_ptr_equal(tr_builtin_find("DeLaY1"), &tr_builtins[TR_FN_DELAY1]);
  assert_null(tr_builtin_find("DELAY"
                              "2"));
  assert_null(tr_builtin_find("SMTH"));
  assert_null(tr_builtin_find(""));
  assert_null(tr_builtin_find(NULL));
  assert_string_equal(tr_builtins[TR_FN_STEP].name, "STEP");
  assert_true(tr_builtins[TR_FN_DELAY3].flags & TR_FNF_EXPAND);
}

static void test_nesting_limit(void **state) {
  (void)state;
  tr_arena a;
  tr_arena_init(&a);
  size_t cap = 8000;
  char *src = malloc(cap);
  assert_non_null(src);
  tr_ast *n;
  tr_error e;
  /* 1000 nested parentheses are fine, 1001 are refused */
  for (int depth = 1000; depth <= 1001; depth++) {
    size_t len = 0;
    for (int i = 0; i < depth; i++)
      src[len++] = '(';
    src[len++] = '1';
    for (int i = 0; i < depth; i++)
      src[len++] = ')';
    int rc = tr_expr_parse(&a, src, len, "m.xmile", 1, 1, &n, &e);
    assert_int_equal(rc, depth == 1000 ? TR_OK : TR_ERR_LIMIT);
  }
  assert_non_null(strstr(e.msg, "nested more than 1000 levels"));
  /* unary chains and right-associative powers nest too */
  size_t len = 0;
  for (int i = 0; i < 5000; i++)
    src[len++] = '-';
  src[len++] = 'x';
  assert_int_equal(tr_expr_parse(&a, src, len, NULL, 1, 1, &n, &e), TR_ERR_LIMIT);
  len = 0;
  for (int i = 0; i < 1500; i++) {
    src[len++] = '2';
    src[len++] = '^';
  }
  src[len++] = '2';
  assert_int_equal(tr_expr_parse(&a, src, len, NULL, 1, 1, &n, &e), TR_ERR_LIMIT);
  /* long flat chains are not nesting: 20000 terms parse */
  free(src);
  size_t big = 20000 * 2 + 1;
  src = malloc(big + 1);
  assert_non_null(src);
  len = 0;
  for (int i = 0; i < 20000; i++) {
    src[len++] = '1';
    src[len++] = '+';
  }
  src[len++] = '1';
  assert_int_equal(tr_expr_parse(&a, src, len, NULL, 1, 1, &n, &e), TR_OK);
  free(src);
  tr_arena_release(&a);
}

static void test_clone(void **state) {
  (void)state;
  tr_arena a, b;
  tr_arena_init(&a);
  tr_arena_init(&b);
  tr_ast *n;
  const char *src = "IF NOT x[*, 1] > 2 THEN DELAY3(\"in put\", 4) ELSE -y ^ 2 MOD my_gf(t)";
  assert_int_equal(tr_expr_parse(&a, src, strlen(src), NULL, 1, 1, &n, NULL), TR_OK);
  char *before = tr_expr_to_string(n);
  tr_ast *c = tr_ast_clone(&b, n);
  assert_non_null(c);
  tr_arena_release(&a); /* the copy must not share anything with the original */
  char *after = tr_expr_to_string(c);
  assert_string_equal(before, after);
  assert_string_equal(after, "(IF (NOT (x[*, 1] > 2)) THEN DELAY3(in_put, 4) ELSE "
                             "((-(y ^ 2)) MOD MY_GF(t)))");
  assert_string_equal(c->args[1]->args[0]->raw, "\"in put\"");
  assert_int_equal(c->args[1]->builtin, TR_FN_DELAY3);
  assert_null(tr_ast_clone(&b, NULL));
  assert_null(tr_ast_clone(NULL, c));
  tr_free(before);
  tr_free(after);
  tr_arena_release(&b);
}

static void test_to_string(void **state) {
  (void)state;
  char *s = tr_expr_to_string(NULL);
  assert_string_equal(s, "<null>");
  tr_free(s);
  tr_ast num = {0};
  num.kind = TR_AST_NUM;
  num.num = 0.1;
  s = tr_expr_to_string(&num);
  assert_string_equal(s, "0.1");
  tr_free(s);
  num.num = 1.0 / 3.0;
  s = tr_expr_to_string(&num);
  assert_true(strtod(s, NULL) == 1.0 / 3.0); /* exact round trip */
  tr_free(s);
  assert_string_equal(canon("a<>b"), "(a <> b)");
  assert_string_equal(canon("a<=b>=c"), "((a <= b) >= c)");
}

/* Every allocation of a parse, a clone and a print may fail: each must fail cleanly. */
static void test_allocation_failure(void **state) {
  (void)state;
  const char *src = "IF a[*, 1] > 2 THEN SMTH1(\"x y\", 3) + f(1, 2, 3, 4, 5, 6) ELSE -b ^ 2";
  /* 8 KiB arena blocks: make the arena need many blocks by parsing a long equation */
  size_t n_terms = 600;
  char *big = malloc(n_terms * 12 + strlen(src) + 1);
  assert_non_null(big);
  size_t len = 0;
  for (size_t i = 0; i < n_terms; i++)
    len += (size_t)sprintf(big + len, "\"v %zu\" + ", i);
  strcpy(big + len, src);
  len += strlen(src);
  int failures = 0;
  for (long k = 1; k < 200; k++) {
    tr_arena a, b;
    tr_arena_init(&a);
    tr_arena_init(&b);
    tr_ast *n = NULL;
    tr_error e;
    tr_alloc_fail_after(k, 1);
    int rc = tr_expr_parse(&a, big, len, NULL, 1, 1, &n, &e);
    char *s = NULL;
    tr_ast *c = NULL;
    if (rc == TR_OK) {
      c = tr_ast_clone(&b, n);
      s = tr_expr_to_string(n);
    }
    tr_alloc_fail_after(0, 0);
    if (rc != TR_OK) {
      assert_int_equal(rc, TR_ERR_NOMEM);
      assert_null(n);
      failures++;
    }
    tr_free(s);
    tr_arena_release(&a);
    tr_arena_release(&b);
    (void)c;
    if (rc == TR_OK && s && c) break; /* k is past the last allocation */
  }
  assert_true(failures > 3);
  free(big);
}

/* Mutation fuzzing with a fixed seed: whatever the bytes, the parser returns a status from its
 * contract with a sane position, and anything it accepts prints and reads back unchanged. */
static void test_fuzz_mutations(void **state) {
  (void)state;
  static const char *const seeds[] = {"IF a > 1 THEN SMTH1(\"x y\", 3) ELSE -b ^ 2",
                                      "a[*, 1] + SUM(b[dim])",
                                      "30^ - 30^-cons",
                                      "( IF NoT false_input THEN 1 ELSE 0 )",
                                      "hares.area * \"m\".\"v w\"",
                                      "x {comment} MOD 3 <> y",
                                      "2.4E2 + .34 - +.72 * 3e-05",
                                      "f(g(h(1, 2), 3), [4])",
                                      "a && b || !c AND d OR NOT e",
                                      "PULSE(4, 1, 2) + TIME * DT"};
  static const char alphabet[] = "()[]{},\"\\ .+-*/^<>=!&|0123456789eEaZ_$\n\r\t\x80\xc3\xa9";
  uint64_t rng = 0x9E3779B97F4A7C15u;
  char buf[256];
  int accepted = 0, refused = 0;
  for (int iter = 0; iter < 20000; iter++) {
    const char *seed = seeds[iter % (int)(sizeof seeds / sizeof seeds[0])];
    size_t len = strlen(seed);
    memcpy(buf, seed, len);
    int edits = 1 + (int)(iter % 4);
    for (int e = 0; e < edits; e++) {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      size_t at = len ? (size_t)(rng % len) : 0;
      char c = alphabet[(rng >> 32) % (sizeof alphabet - 1)];
      switch ((rng >> 48) % 3) {
      case 0:
        if (len) buf[at] = c;
        break; /* replace */
      case 1:  /* insert */
        if (len + 1 < sizeof buf) {
          memmove(buf + at + 1, buf + at, len - at);
          buf[at] = c;
          len++;
        }
        break;
      default: /* delete */
        if (len) {
          memmove(buf + at, buf + at + 1, len - at - 1);
          len--;
        }
      }
    }
    tr_arena a;
    tr_arena_init(&a);
    tr_ast *n = NULL;
    tr_error e;
    tr_error_clear(&e);
    int rc = tr_expr_parse(&a, buf, len, "f", 3, 4, &n, &e);
    if (rc == TR_OK) {
      accepted++;
      char *s1 = tr_expr_to_string(n);
      assert_non_null(s1);
      tr_ast *m = NULL;
      if (tr_expr_parse(&a, s1, strlen(s1), NULL, 1, 1, &m, &e) != TR_OK)
        fail_msg("'%.*s' printed as '%s' does not parse: %s", (int)len, buf, s1, e.msg);
      char *s2 = tr_expr_to_string(m);
      if (strcmp(s1, s2) != 0) fail_msg("'%.*s': '%s' reads back as '%s'", (int)len, buf, s1, s2);
      tr_free(s1);
      tr_free(s2);
    } else {
      refused++;
      if (rc != TR_ERR_PARSE && rc != TR_ERR_ARITY && rc != TR_ERR_LIMIT)
        fail_msg("'%.*s': status %d", (int)len, buf, rc);
      assert_null(n);
      assert_true(e.line >= 3 && e.col >= 1 && e.msg[0] != '\0');
    }
    tr_arena_release(&a);
  }
  assert_true(accepted > 1000 && refused > 1000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_precedence_values),
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_tree_fields),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_keywords_and_comments),
      cmocka_unit_test(test_error_messages),
      cmocka_unit_test(test_positions),
      cmocka_unit_test(test_arity),
      cmocka_unit_test(test_builtin_table),
      cmocka_unit_test(test_nesting_limit),
      cmocka_unit_test(test_clone),
      cmocka_unit_test(test_to_string),
      cmocka_unit_test(test_allocation_failure),
      cmocka_unit_test(test_fuzz_mutations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
