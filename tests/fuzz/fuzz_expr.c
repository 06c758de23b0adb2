/*
 * Fuzz target: the equation parser (tr_expr_parse). Beyond "no crash": an equation that
 * parses prints (tr_expr_to_string) to a form that parses again and prints the same — the
 * round trip the printer's contract promises — and a failed parse names a position. (Only
 * exception: an equation near the 1000-level nesting limit, whose fully parenthesised
 * printed form nests deeper and is refused with TR_ERR_LIMIT.)
 */
#include "fuzz.h"

#include "base/arena.h"
#include "expr/ast.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_arena a;
  tr_arena_init(&a);
  tr_error err;
  tr_error_clear(&err);
  tr_ast *root = NULL;
  int rc = tr_expr_parse(&a, (const char *)data, size, "fuzz", 1, 1, &root, &err);
  if (rc != TR_OK) {
    if (rc != TR_ERR_PARSE && rc != TR_ERR_ARITY && rc != TR_ERR_NOMEM && rc != TR_ERR_LIMIT)
      abort();
    if (err.code != rc || err.msg[0] == '\0' || err.line < 1 || err.col < 1) abort();
    tr_arena_release(&a);
    return 0;
  }
  if (!root) abort();
  char *first = tr_expr_to_string(root);
  if (first) {
    tr_ast *again = NULL;
    tr_error_clear(&err);
    rc = tr_expr_parse(&a, first, strlen(first), "printed", 1, 1, &again, &err);
    /* The printer adds parentheses, so a form near the nesting limit may print past it. */
    if (rc == TR_ERR_NOMEM || rc == TR_ERR_LIMIT) {
      tr_free(first);
      tr_arena_release(&a);
      return 0;
    }
    if (rc != TR_OK) abort(); /* the printed form must read back */
    char *second = tr_expr_to_string(again);
    if (second && strcmp(first, second) != 0) abort(); /* ... to the same tree */
    tr_free(second);
    tr_free(first);
  }
  tr_arena_release(&a);
  return 0;
}
