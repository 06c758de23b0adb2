/*
 * tightrope — base layer: status codes, error buffers, allocation.
 *
 * Every fallible function in tightrope returns an int from the one status enum below
 * (TR_OK = 0, errors negative). Details — what went wrong and where in the user's input —
 * go into the tr_error buffer carried by the handle that failed (STYLE rules 4 and 6).
 */
#ifndef TIGHTROPE_BASE_H
#define TIGHTROPE_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message). The single list of status codes; tr_strerror() and the enum are
 * both generated from it, so a code can never lack its message. */
#define TR_STATUS_LIST(X)                                                                          \
  X(TR_OK, 0, "success")                                                                           \
  X(TR_ERR_NOMEM, -1, "out of memory")                                                             \
  X(TR_ERR_IO, -2, "input/output error")                                                           \
  X(TR_ERR_PARSE, -3, "syntax error")                                                              \
  X(TR_ERR_INVALID, -4, "invalid input")                                                           \
  X(TR_ERR_NOT_FOUND, -5, "not found")                                                             \
  X(TR_ERR_UNKNOWN_NAME, -6, "unknown name")                                                       \
  X(TR_ERR_CYCLE, -7, "circular dependency")                                                       \
  X(TR_ERR_ARITY, -8, "wrong number of arguments")                                                 \
  X(TR_ERR_DIMENSION, -9, "dimension mismatch")                                                    \
  X(TR_ERR_UNSUPPORTED, -10, "not supported")                                                      \
  X(TR_ERR_LIMIT, -11, "resource limit exceeded")                                                  \
  X(TR_ERR_MATH, -12, "numeric hazard")                                                            \
  X(TR_ERR_CANCELLED, -13, "cancelled")                                                            \
  X(TR_ERR_DB, -14, "database error")                                                              \
  X(TR_ERR_USAGE, -15, "usage error")                                                              \
  X(TR_ERR_INTERNAL, -16, "internal error")

typedef enum {
#define TR_X_ENUM(name, value, msg) name = value,
  TR_STATUS_LIST(TR_X_ENUM)
#undef TR_X_ENUM
} tr_status;

/* The fixed message of a status code ("unknown status" for a value not in the list). */
const char *tr_strerror(int code);

/* The symbolic name of a status code, e.g. "TR_ERR_PARSE". */
const char *tr_status_name(int code);

/* The exit code the CLI uses for a status: 0 for TR_OK, 2 for bad input (parse, invalid,
 * unknown name, cycle, arity, dimension, usage, limit), 1 for everything else. */
int tr_status_exit_code(int code);

/* An error buffer, embedded in every handle. `where` and `msg` are always NUL-terminated.
 * file/line/col describe the position in the user's input (0 when unknown). */
#define TR_ERROR_MSG_MAX 512
typedef struct tr_error {
  int code;                          /* a tr_status; TR_OK when no error has been recorded */
  int line;                          /* 1-based line in `file`, 0 if unknown */
  int col;                           /* 1-based column, 0 if unknown */
  char file[256];                    /* the input file at fault, "" if none */
  char msg[TR_ERROR_MSG_MAX];        /* the detail, without position */
  char text[TR_ERROR_MSG_MAX + 300]; /* scratch for tr_error_text(); GNU form */
} tr_error;

/* Reset `e` to TR_OK with empty fields. */
void tr_error_clear(tr_error *e);

/* Record an error at a position (file may be NULL, line/col 0) and return `code`, so that
 * callers can write `return tr_error_set(...)`. A NULL `e` is allowed and only returns code. */
int tr_error_set(tr_error *e, int code, const char *file, int line, int col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
int tr_error_setv(tr_error *e, int code, const char *file, int line, int col, const char *fmt,
                  va_list ap);

/* Copy `src` into `dst` (both may be the same pointer). */
void tr_error_copy(tr_error *dst, const tr_error *src);

/* The error in GNU form, "file:line:col: msg" (parts omitted when unknown). The returned
 * string lives in `e` until the next call on `e`. */
const char *tr_error_text(tr_error *e);

/* ---- allocation -----------------------------------------------------------------------
 * All heap allocation in tightrope goes through tr_realloc(), so a test build can fail the
 * N-th allocation (STYLE rule 14). Each returns NULL on failure; tr_free(NULL) is a no-op. */
void *tr_malloc(size_t size);
void *tr_calloc(size_t n, size_t size);
void *tr_realloc(void *ptr, size_t size);
void tr_free(void *ptr);
/* `size` bytes at a multiple of `align` (a power of two), freed with tr_free. */
void *tr_alloc_aligned(size_t align, size_t size);
char *tr_strdup(const char *s);

/* Failure injection (per thread): make the N-th allocation from now fail (n >= 1), and every
 * later one too if `sticky`; n = 0 turns injection off. tr_alloc_count() counts allocations
 * made by this thread since the last call to tr_alloc_fail_after(). */
void tr_alloc_fail_after(long n, int sticky);
long tr_alloc_count(void);
/* Count one allocation made without tr_realloc (a block handed out from a cache), and say
 * whether injection makes it fail (1) or not (0), so that the N-th allocation is the same
 * one whether or not a cache served it. */
int tr_alloc_tick(void);

#ifdef __cplusplus
}
#endif
#endif
