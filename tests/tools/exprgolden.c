/*
 * exprgolden — runs a golden file of the equation parser (format: tests/golden/expr.test,
 * documented at its top) and prints one TAP line per case. Every case that parses is also
 * printed, parsed again and printed again: the canonical form must read back to itself.
 *
 *   exprgolden FILE        run the cases, exit 1 if any fails
 *   exprgolden --print     read one equation per line from stdin (same escapes as the
 *                          golden file) and print what the parser makes of it
 *   exprgolden --builtins  print the builtin table: NAME, TAB, number of arguments
 */
#include "base/arena.h"
#include "expr/ast.h"
#include "expr/builtins.h"
#include "tightrope/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_FILE "m.xmile"

/* Undo the golden file's escapes: \n \r \t \\ (anything else stays as written). */
static size_t unescape(const char *in, char *out) {
  size_t n = 0;
  for (const char *s = in; *s; s++) {
    if (*s == '\\' && (s[1] == 'n' || s[1] == 'r' || s[1] == 't' || s[1] == '\\')) {
      s++;
      out[n++] = *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s == 't' ? '\t' : '\\';
    } else {
      out[n++] = *s;
    }
  }
  out[n] = '\0';
  return n;
}

/* The outcome of parsing `src`: "-> canonical" or "!! STATUS line:col: message". */
static char *outcome(const char *src, size_t len, int line, int col, int *roundtrip_ok) {
  tr_arena a;
  tr_arena_init(&a);
  tr_error err;
  tr_error_clear(&err);
  tr_ast *ast = NULL;
  char *res;
  int rc = tr_expr_parse(&a, src, len, GOLDEN_FILE, line, col, &ast, &err);
  *roundtrip_ok = 1;
  if (rc != TR_OK) {
    const char *text = tr_error_text(&err);
    size_t skip = strlen(GOLDEN_FILE) + 1; /* the file name is the same for every case */
    if (strncmp(text, GOLDEN_FILE ":", skip) == 0) text += skip;
    size_t need = strlen(text) + 64;
    res = malloc(need);
    if (res) snprintf(res, need, "!! %s %s", tr_status_name(rc), text);
  } else {
    char *s = tr_expr_to_string(ast);
    size_t need = (s ? strlen(s) : 16) + 8;
    res = malloc(need);
    if (res) snprintf(res, need, "-> %s", s ? s : "(out of memory)");
    /* round trip: the canonical form parses back to the same canonical form */
    tr_ast *again = NULL;
    tr_arena b;
    tr_arena_init(&b);
    if (!s || tr_expr_parse(&b, s, strlen(s), "rt", 1, 1, &again, &err) != TR_OK) {
      *roundtrip_ok = 0;
    } else {
      char *s2 = tr_expr_to_string(again);
      *roundtrip_ok = s2 && strcmp(s, s2) == 0;
      tr_free(s2);
    }
    tr_arena_release(&b);
    tr_free(s);
  }
  tr_arena_release(&a);
  return res;
}

static void chomp(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
    s[--n] = '\0';
}

static int print_mode(void) {
  static char line[65536], eq[65536];
  while (fgets(line, sizeof line, stdin)) {
    chomp(line);
    size_t n = unescape(line, eq);
    int rt;
    char *r = outcome(eq, n, 1, 1, &rt);
    printf("%s%s\n", r ? r : "(out of memory)", rt ? "" : "   [ROUND TRIP FAILS]");
    free(r);
  }
  return 0;
}

/* The compiled builtin table, one "NAME<TAB>arguments" line per builtin, for the check that
 * keeps docs/xmile.md true (tests/suites/xmile_doc.sh). */
static int builtins_mode(void) {
  for (int i = 0; i < TR_FN_COUNT; i++) {
    const tr_builtin *b = &tr_builtins[i];
    if (b->max_args < 0)
      printf("%s\tat least %d\n", b->name, b->min_args);
    else if (b->min_args == b->max_args)
      printf("%s\t%d\n", b->name, b->min_args);
    else if (b->max_args == b->min_args + 1)
      printf("%s\t%d or %d\n", b->name, b->min_args, b->max_args);
    else
      printf("%s\t%d to %d\n", b->name, b->min_args, b->max_args);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--print") == 0) return print_mode();
  if (argc == 2 && strcmp(argv[1], "--builtins") == 0) return builtins_mode();
  if (argc != 2) {
    fprintf(stderr, "usage: exprgolden FILE | exprgolden --print | exprgolden --builtins\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  static char line[65536], eq[65536], id[256];
  int n = 0, failed = 0, lineno = 0, have_case = 0, at_line = 1, at_col = 1;
  int case_line = 1, case_col = 1;
  size_t eqlen = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    chomp(line);
    if (line[0] == '#' || line[0] == '\0') continue;
    if (strncmp(line, "at ", 3) == 0) { /* start position of the next case's equation */
      if (sscanf(line + 3, "%d:%d", &at_line, &at_col) != 2) {
        printf("not ok %d - %s:%d: bad 'at' line\n", ++n, argv[1], lineno);
        failed++;
      }
      continue;
    }
    if (strncmp(line, "-> ", 3) == 0 || strncmp(line, "!! ", 3) == 0) {
      if (!have_case) {
        printf("not ok %d - %s:%d: expectation without a case\n", ++n, argv[1], lineno);
        failed++;
        continue;
      }
      have_case = 0;
      int rt;
      char *got = outcome(eq, eqlen, case_line, case_col, &rt);
      n++;
      if (got && strcmp(got, line) == 0 && rt) {
        printf("ok %d - %s\n", n, id);
      } else {
        failed++;
        printf("not ok %d - %s (%s:%d)\n", n, id, argv[1], lineno);
        printf("#   expected: %s\n#   got:      %s\n", line, got ? got : "(out of memory)");
        if (!rt) printf("#   the canonical form does not parse back to itself\n");
      }
      free(got);
      continue;
    }
    char *colon = strstr(line, ": ");
    if (!colon || colon - line >= (long)sizeof id || strncmp(line, "expr-", 5) != 0) {
      printf("not ok %d - %s:%d: cannot read this line\n", ++n, argv[1], lineno);
      failed++;
      continue;
    }
    if (have_case) {
      printf("not ok %d - %s: no expectation\n", ++n, id);
      failed++;
    }
    memcpy(id, line, (size_t)(colon - line));
    id[colon - line] = '\0';
    eqlen = unescape(colon + 2, eq);
    case_line = at_line;
    case_col = at_col;
    at_line = at_col = 1;
    have_case = 1;
  }
  fclose(f);
  if (have_case) {
    printf("not ok %d - %s: no expectation\n", ++n, id);
    failed++;
  }
  printf("1..%d\n", n);
  return failed ? 1 : 0;
}
