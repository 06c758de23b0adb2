/* String builder (see strbuf.h). */
#include "base/strbuf.h"

#include "tightrope/base.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tr_sb_init(tr_sb *sb) {
  sb->buf = NULL;
  sb->len = sb->cap = 0;
  sb->failed = 0;
}

void tr_sb_free(tr_sb *sb) {
  if (!sb) return;
  tr_free(sb->buf);
  tr_sb_init(sb);
}

void tr_sb_reset(tr_sb *sb) {
  sb->len = 0;
  if (sb->buf) sb->buf[0] = '\0';
}

int tr_sb_ok(const tr_sb *sb) {
  return !sb->failed;
}

static int grow(tr_sb *sb, size_t extra) {
  if (sb->failed) return 0;
  size_t need = sb->len + extra + 1;
  if (need <= sb->cap) return 1;
  size_t cap = sb->cap ? sb->cap : 64;
  while (cap < need)
    cap *= 2;
  char *p = tr_realloc(sb->buf, cap);
  if (!p) {
    sb->failed = 1;
    return 0;
  }
  sb->buf = p;
  sb->cap = cap;
  return 1;
}

void tr_sb_appendn(tr_sb *sb, const char *s, size_t n) {
  if (!grow(sb, n)) return;
  memcpy(sb->buf + sb->len, s, n);
  sb->len += n;
  sb->buf[sb->len] = '\0';
}

void tr_sb_append(tr_sb *sb, const char *s) {
  tr_sb_appendn(sb, s, strlen(s));
}

void tr_sb_putc(tr_sb *sb, char c) {
  tr_sb_appendn(sb, &c, 1);
}

void tr_sb_printf(tr_sb *sb, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !grow(sb, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb->len += (size_t)n;
}

const char *tr_sb_str(const tr_sb *sb) {
  return sb->buf ? sb->buf : "";
}

char *tr_sb_take(tr_sb *sb) {
  if (sb->failed) {
    tr_sb_free(sb);
    return NULL;
  }
  if (!sb->buf && !grow(sb, 0)) return NULL;
  if (sb->len == 0) sb->buf[0] = '\0';
  char *p = sb->buf;
  tr_sb_init(sb);
  return p;
}

void tr_sb_append_double(tr_sb *sb, double v) {
  char tmp[40];
  if (isnan(v)) {
    tr_sb_append(sb, "NaN");
    return;
  }
  if (isinf(v)) {
    tr_sb_append(sb, v > 0 ? "Inf" : "-Inf");
    return;
  }
  /* Shortest of %.15g..%.17g that round-trips: readable output that loses nothing. */
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    if (strtod(tmp, NULL) == v) break;
  }
  tr_sb_append(sb, tmp);
}

int tr_read_file(const char *path, char **out, size_t *len, tr_error *err) {
  *out = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return tr_error_set(err, TR_ERR_IO, path, 0, 0, "cannot read: %s", strerror(errno));
  tr_sb sb = TR_SB_INIT;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    tr_sb_appendn(&sb, buf, n);
  int bad = ferror(f);
  fclose(f);
  if (bad || !tr_sb_ok(&sb)) {
    tr_sb_free(&sb);
    return tr_error_set(err, bad ? TR_ERR_IO : TR_ERR_NOMEM, path, 0, 0,
                        bad ? "read error" : "out of memory");
  }
  *len = sb.len;
  *out = tr_sb_take(&sb); /* an empty file still gets a buffer ("") */
  return *out ? TR_OK : tr_error_set(err, TR_ERR_NOMEM, path, 0, 0, "out of memory");
}
