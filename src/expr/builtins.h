/*
 * The builtin function table of the equation language: one X-macro list that the parser
 * (arity checks, "did you mean"), the flattener (expansion of delays and smooths into hidden
 * stocks), the compiler (opcodes) and docs/xmile.md (kept true by a test) all read.
 *
 * X(ID, "NAME", min_args, max_args, flags)   — max_args -1 = variadic.
 * Append new builtins; never reorder (IDs may be stored in compiled programs and tests).
 */
#ifndef TR_EXPR_BUILTINS_H
#define TR_EXPR_BUILTINS_H

enum {
  TR_FNF_PURE = 0,
  TR_FNF_REDUCE = 1 << 0,   /* array reduction when given one array argument (SUM, MAX, ...) */
  TR_FNF_EXPAND = 1 << 1,   /* expanded by the flattener into hidden stocks (DELAY1, SMTH3..) */
  TR_FNF_STATEFUL = 1 << 2, /* needs per-call state in the VM (DELAY, PREVIOUS, INIT) */
  TR_FNF_RANDOM = 1 << 3,   /* draws random numbers (per-run stream; optional seed arg) */
  TR_FNF_TIME = 1 << 4,     /* depends on time or the sim specs */
  TR_FNF_EXTENSION = 1 << 5 /* not in XMILE 1.0 §3.5 (isee/Vensim extension) */
};

#define TR_BUILTIN_LIST(X)                                                                         \
  /* 3.5.1 mathematical */                                                                         \
  X(TR_FN_ABS, "ABS", 1, 1, TR_FNF_PURE)                                                           \
  X(TR_FN_ARCCOS, "ARCCOS", 1, 1, TR_FNF_PURE)                                                     \
  X(TR_FN_ARCSIN, "ARCSIN", 1, 1, TR_FNF_PURE)                                                     \
  X(TR_FN_ARCTAN, "ARCTAN", 1, 1, TR_FNF_PURE)                                                     \
  X(TR_FN_COS, "COS", 1, 1, TR_FNF_PURE)                                                           \
  X(TR_FN_EXP, "EXP", 1, 1, TR_FNF_PURE)                                                           \
  X(TR_FN_INF, "INF", 0, 0, TR_FNF_PURE)                                                           \
  X(TR_FN_INT, "INT", 1, 1, TR_FNF_PURE)                                                           \
  X(TR_FN_LN, "LN", 1, 1, TR_FNF_PURE)                                                             \
  X(TR_FN_LOG10, "LOG10", 1, 1, TR_FNF_PURE)                                                       \
  X(TR_FN_MAX, "MAX", 1, -1, TR_FNF_REDUCE)                                                        \
  X(TR_FN_MIN, "MIN", 1, -1, TR_FNF_REDUCE)                                                        \
  X(TR_FN_MOD, "MOD", 2, 2, TR_FNF_PURE)                                                           \
  X(TR_FN_PI, "PI", 0, 0, TR_FNF_PURE)                                                             \
  X(TR_FN_SIN, "SIN", 1, 1, TR_FNF_PURE)                                                           \
  X(TR_FN_SQRT, "SQRT", 1, 1, TR_FNF_PURE)                                                         \
  X(TR_FN_TAN, "TAN", 1, 1, TR_FNF_PURE)                                                           \
  /* 3.5.2 statistical (optional trailing seed) */                                                 \
  X(TR_FN_EXPRND, "EXPRND", 1, 2, TR_FNF_RANDOM)                                                   \
  X(TR_FN_LOGNORMAL, "LOGNORMAL", 2, 3, TR_FNF_RANDOM)                                             \
  X(TR_FN_NORMAL, "NORMAL", 2, 5, TR_FNF_RANDOM)                                                   \
  X(TR_FN_POISSON, "POISSON", 1, 2, TR_FNF_RANDOM)                                                 \
  X(TR_FN_RANDOM, "RANDOM", 2, 3, TR_FNF_RANDOM)                                                   \
  X(TR_FN_UNIFORM, "UNIFORM", 2, 3, TR_FNF_RANDOM | TR_FNF_EXTENSION)                              \
  X(TR_FN_TRIANGULAR, "TRIANGULAR", 3, 4, TR_FNF_RANDOM | TR_FNF_EXTENSION)                        \
  /* 3.5.3 delays and smooths */                                                                   \
  X(TR_FN_DELAY, "DELAY", 2, 3, TR_FNF_STATEFUL)                                                   \
  X(TR_FN_DELAY1, "DELAY1", 2, 3, TR_FNF_EXPAND)                                                   \
  X(TR_FN_DELAY3, "DELAY3", 2, 3, TR_FNF_EXPAND)                                                   \
  X(TR_FN_DELAYN, "DELAYN", 3, 4, TR_FNF_EXPAND)                                                   \
  X(TR_FN_FORCST, "FORCST", 3, 4, TR_FNF_EXPAND)                                                   \
  X(TR_FN_SMTH1, "SMTH1", 2, 3, TR_FNF_EXPAND)                                                     \
  X(TR_FN_SMTH3, "SMTH3", 2, 3, TR_FNF_EXPAND)                                                     \
  X(TR_FN_SMTHN, "SMTHN", 3, 4, TR_FNF_EXPAND)                                                     \
  X(TR_FN_TREND, "TREND", 2, 3, TR_FNF_EXPAND)                                                     \
  /* 3.5.4 test inputs */                                                                          \
  X(TR_FN_PULSE, "PULSE", 1, 3, TR_FNF_TIME)                                                       \
  X(TR_FN_RAMP, "RAMP", 1, 2, TR_FNF_TIME)                                                         \
  X(TR_FN_STEP, "STEP", 2, 2, TR_FNF_TIME)                                                         \
  /* 3.5.5 time */                                                                                 \
  X(TR_FN_DT, "DT", 0, 0, TR_FNF_TIME)                                                             \
  X(TR_FN_STARTTIME, "STARTTIME", 0, 0, TR_FNF_TIME)                                               \
  X(TR_FN_STOPTIME, "STOPTIME", 0, 0, TR_FNF_TIME)                                                 \
  X(TR_FN_TIME, "TIME", 0, 0, TR_FNF_TIME)                                                         \
  /* 3.5.6 miscellaneous */                                                                        \
  X(TR_FN_INIT, "INIT", 1, 1, TR_FNF_STATEFUL)                                                     \
  X(TR_FN_PREVIOUS, "PREVIOUS", 1, 2, TR_FNF_STATEFUL)                                             \
  /* 3.7 array builtins (MIN and MAX above double as reductions) */                                \
  X(TR_FN_SUM, "SUM", 1, 1, TR_FNF_REDUCE)                                                         \
  X(TR_FN_MEAN, "MEAN", 1, -1, TR_FNF_REDUCE)                                                      \
  X(TR_FN_SIZE, "SIZE", 1, 1, TR_FNF_REDUCE)                                                       \
  X(TR_FN_STDDEV, "STDDEV", 1, 1, TR_FNF_REDUCE)                                                   \
  /* extensions that Stella and Vensim exports use */                                              \
  X(TR_FN_SAFEDIV, "SAFEDIV", 2, 3, TR_FNF_EXTENSION)                                              \
  X(TR_FN_SINH, "SINH", 1, 1, TR_FNF_EXTENSION)                                                    \
  X(TR_FN_COSH, "COSH", 1, 1, TR_FNF_EXTENSION)                                                    \
  X(TR_FN_TANH, "TANH", 1, 1, TR_FNF_EXTENSION)                                                    \
  X(TR_FN_ROUND, "ROUND", 1, 1, TR_FNF_EXTENSION)                                                  \
  X(TR_FN_SIGN, "SIGN", 1, 1, TR_FNF_EXTENSION)                                                    \
  X(TR_FN_LOOKUP, "LOOKUP", 2, 2, TR_FNF_EXTENSION)

typedef enum {
#define TR_X_FN(id, name, lo, hi, flags) id,
  TR_BUILTIN_LIST(TR_X_FN)
#undef TR_X_FN
      TR_FN_COUNT
} tr_builtin_id;

typedef struct tr_builtin {
  tr_builtin_id id;
  const char *name; /* upper case as in the spec */
  int min_args;
  int max_args; /* -1 = any number >= min_args */
  unsigned flags;
} tr_builtin;

/* The table, indexed by tr_builtin_id. */
extern const tr_builtin tr_builtins[TR_FN_COUNT];

/* Look a builtin up by name, case-insensitively; NULL when it is not a builtin. */
const tr_builtin *tr_builtin_find(const char *name);

#endif
