/*
 * String builder. Growth goes through tr_realloc(); a failed growth sets `failed` and makes
 * every later append a no-op, so callers check once at the end (tr_sb_ok). The buffer is
 * always NUL-terminated once anything was appended successfully.
 */
#ifndef TR_BASE_STRBUF_H
#define TR_BASE_STRBUF_H

#include <stddef.h>

#include "tightrope/base.h"

typedef struct tr_sb {
  char *buf;  /* owned; NULL until the first append */
  size_t len; /* bytes, excluding the NUL */
  size_t cap; /* allocated bytes */
  int failed; /* sticky out-of-memory flag */
} tr_sb;

#define TR_SB_INIT                                                                                 \
  { NULL, 0, 0, 0 }

void tr_sb_init(tr_sb *sb);
void tr_sb_free(tr_sb *sb);    /* frees the buffer; NULL is a no-op */
void tr_sb_reset(tr_sb *sb);   /* len = 0, keeps the buffer */
int tr_sb_ok(const tr_sb *sb); /* 1 unless an allocation failed */
void tr_sb_append(tr_sb *sb, const char *s);
void tr_sb_appendn(tr_sb *sb, const char *s, size_t n);
void tr_sb_putc(tr_sb *sb, char c);
void tr_sb_printf(tr_sb *sb, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* The text so far ("" when empty); valid until the next append. */
const char *tr_sb_str(const tr_sb *sb);
/* Hand the buffer to the caller (free with tr_free) and reset sb; NULL if it failed. */
char *tr_sb_take(tr_sb *sb);
/* Append a double in the shortest form that reads back exactly ("%.17g" fallback). */
void tr_sb_append_double(tr_sb *sb, double v);

/* Read a whole file into a new NUL-terminated buffer (free with tr_free); *len gets its size
 * in bytes. Errors: TR_ERR_IO ("path: cannot read: reason" / "read error"), TR_ERR_NOMEM. */
int tr_read_file(const char *path, char **out, size_t *len, tr_error *err);

#endif
