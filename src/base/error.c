/* Status codes and error buffers (see include/tightrope/base.h). */
#include "tightrope/base.h"

#include <stdio.h>
#include <string.h>

const char *tr_strerror(int code) {
  switch (code) {
#define TR_X_CASE(name, value, msg)                                                                \
  case value:                                                                                      \
    return msg;
    TR_STATUS_LIST(TR_X_CASE)
#undef TR_X_CASE
  default:
    return "unknown status";
  }
}

const char *tr_status_name(int code) {
  switch (code) {
#define TR_X_NAME(name, value, msg)                                                                \
  case value:                                                                                      \
    return #name;
    TR_STATUS_LIST(TR_X_NAME)
#undef TR_X_NAME
  default:
    return "TR_UNKNOWN";
  }
}

int tr_status_exit_code(int code) {
  switch (code) {
  case TR_OK:
    return 0;
  case TR_ERR_PARSE:
  case TR_ERR_INVALID:
  case TR_ERR_UNKNOWN_NAME:
  case TR_ERR_CYCLE:
  case TR_ERR_ARITY:
  case TR_ERR_DIMENSION:
  case TR_ERR_USAGE:
  case TR_ERR_LIMIT:
  case TR_ERR_NOT_FOUND:
  case TR_ERR_UNSUPPORTED:
    return 2;
  default:
    return 1;
  }
}

void tr_error_clear(tr_error *e) {
  if (!e) return;
  e->code = TR_OK;
  e->line = e->col = 0;
  e->file[0] = e->msg[0] = e->text[0] = '\0';
}

int tr_error_setv(tr_error *e, int code, const char *file, int line, int col, const char *fmt,
                  va_list ap) {
  if (!e) return code;
  e->code = code;
  e->line = line;
  e->col = col;
  /* file may alias e->file (re-raising with the same position) */
  if (file != e->file) snprintf(e->file, sizeof e->file, "%s", file ? file : "");
  if (fmt)
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  else
    snprintf(e->msg, sizeof e->msg, "%s", tr_strerror(code));
  return code;
}

int tr_error_set(tr_error *e, int code, const char *file, int line, int col, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = tr_error_setv(e, code, file, line, col, fmt, ap);
  va_end(ap);
  return rc;
}

void tr_error_copy(tr_error *dst, const tr_error *src) {
  if (!dst || !src || dst == src) return;
  memcpy(dst, src, sizeof *dst);
}

const char *tr_error_text(tr_error *e) {
  if (!e) return "";
  const char *msg = e->msg[0] ? e->msg : tr_strerror(e->code);
  if (e->file[0] && e->line > 0 && e->col > 0)
    snprintf(e->text, sizeof e->text, "%s:%d:%d: %s", e->file, e->line, e->col, msg);
  else if (e->file[0] && e->line > 0)
    snprintf(e->text, sizeof e->text, "%s:%d: %s", e->file, e->line, msg);
  else if (e->file[0])
    snprintf(e->text, sizeof e->text, "%s: %s", e->file, msg);
  else
    snprintf(e->text, sizeof e->text, "%s", msg);
  return e->text;
}
