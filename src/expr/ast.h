/*
 * The equation language: abstract syntax tree and parser entry point.
 *
 * Grammar (precedence low → high; all binary operators left-associative except ^):
 *   expr    := IF expr THEN expr ELSE expr | or
 *   or      := and (OR and)*
 *   and     := not (AND not)*              ('&&' ≡ AND, '||' ≡ OR)
 *   not     := NOT not | cmp               ('!' ≡ NOT)
 *   cmp     := add (('=' | '<>' | '<' | '<=' | '>' | '>=') add)*
 *   add     := mul (('+' | '-') mul)*
 *   mul     := unary (('*' | '/' | MOD) unary)*
 *   unary   := ('-' | '+') unary | pow     so -2^2 = -(2^2) = -4
 *   pow     := primary ('^' unary)?        right-associative: 2^3^2 = 2^9
 *   primary := NUMBER | NAME | NAME '(' args ')' | NAME '[' subs ']' | '(' expr ')'
 * NAME is a bare identifier (letters, digits, _, $, UTF-8, '.' for module paths) or a
 * "quoted name"; keywords and function names are case-insensitive; {comments} are skipped.
 * The parser also accepts IF ... THEN ... ELSE as an operand (1 + IF c THEN a ELSE b), as
 * Stella does, its ELSE branch reaching as far right as it can, and a NOT written after its
 * condition (`x not`, as xmutil converts Vensim's :NOT:); nesting deeper than 1000 levels
 * is refused with TR_ERR_LIMIT.
 */
#ifndef TR_EXPR_AST_H
#define TR_EXPR_AST_H

#include "base/arena.h"
#include "tightrope/base.h"

typedef enum {
  TR_AST_NUM,    /* num */
  TR_AST_NAME,   /* name: canonical identifier; var: resolved index (flattener), else -1 */
  TR_AST_UNARY,  /* op (TR_OP_NEG, TR_OP_POS, TR_OP_NOT); args[0] */
  TR_AST_BINARY, /* op; args[0] op args[1] */
  TR_AST_IF,     /* args[0] ? args[1] : args[2] */
  TR_AST_CALL,   /* name: canonical callee; builtin: tr_builtin_id or -1 (gf or macro); args */
  TR_AST_INDEX,  /* name: canonical array; args: one per subscript (NAME, NUM, WILDCARD, or expr) */
  TR_AST_WILDCARD /* '*' (or a dimension name used as a subscript: resolved later) */
} tr_ast_kind;

typedef enum {
  TR_OP_ADD,
  TR_OP_SUB,
  TR_OP_MUL,
  TR_OP_DIV,
  TR_OP_POW,
  TR_OP_MOD,
  TR_OP_EQ,
  TR_OP_NE,
  TR_OP_LT,
  TR_OP_LE,
  TR_OP_GT,
  TR_OP_GE,
  TR_OP_AND,
  TR_OP_OR,
  TR_OP_NOT,
  TR_OP_NEG,
  TR_OP_POS
} tr_op;

typedef struct tr_ast tr_ast;
struct tr_ast {
  tr_ast_kind kind;
  int op;           /* tr_op for UNARY and BINARY */
  int pos;          /* byte offset of the node's first character in the equation text */
  double num;       /* NUM */
  const char *name; /* NAME, CALL, INDEX: canonical identifier (tr_canon_ident) */
  const char *raw;  /* NAME, CALL, INDEX: the name as written, for messages */
  int builtin;      /* CALL: tr_builtin_id, or -1 */
  int var;          /* NAME/INDEX: resolved variable index, -1 until resolved */
  tr_ast **args;
  int nargs;
};

/* Parse one equation. `src` need not be NUL-terminated beyond `len`. Nodes are allocated in
 * `a` (which owns them). Errors are TR_ERR_PARSE (syntax) or TR_ERR_ARITY (a builtin called
 * with the wrong number of arguments), reported at file:(line,col) + the offset in src, so
 * that the message points into the model file: pass the position where the equation text
 * starts (line 1, col 1 for a standalone string). An empty equation is a TR_ERR_PARSE. */
int tr_expr_parse(tr_arena *a, const char *src, size_t len, const char *file, int line, int col,
                  tr_ast **out, tr_error *err);

/* Map a byte offset in an equation that starts at (line, col) to the file position. */
void tr_expr_position(const char *src, int offset, int line, int col, int *out_line, int *out_col);

/* Print an AST in a fully parenthesised canonical form (for golden tests and debugging):
 * numbers in the shortest of %.15g..%.17g that reads back exactly, names canonical (quoted
 * when they would not read back bare), calls upper-case, e.g. "(-(2 ^ 2))"; the result
 * parses back to the same tree. */
char *tr_expr_to_string(const tr_ast *n); /* caller frees with tr_free; NULL on ENOMEM */

/* A deep copy of `n` into arena `a` (the flattener copies apply-to-all and macro bodies). */
tr_ast *tr_ast_clone(tr_arena *a, const tr_ast *n);

#endif
