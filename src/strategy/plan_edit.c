/* In-place edits of plan.yaml (see plan_edit.h). */
#include "strategy/plan_edit.h"

#include "base/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Byte offset of the start of 1-based `line` in text (len bytes); len when past the end. */
static size_t line_offset(const char *text, size_t len, int line) {
  size_t off = 0;
  for (int l = 1; l < line && off < len; off++)
    if (text[off] == '\n') l++;
  return off;
}

/* The end of a tension's text: the next tension's start, or the first later line that begins
 * at column 1 with something other than a comment or a list item (the next top-level key). */
static size_t tension_end(const char *text, size_t len, const tr_plan *plan, size_t t) {
  if (t + 1 < plan->n_tensions) return line_offset(text, len, plan->tensions[t + 1].pos.line);
  size_t off = line_offset(text, len, plan->tensions[t].pos.line + 1);
  while (off < len) {
    char c = text[off];
    if (c != ' ' && c != '\t' && c != '#' && c != '-' && c != '\n' && c != '\r') return off;
    const char *nl = memchr(text + off, '\n', len - off);
    off = nl ? (size_t)(nl - text) + 1 : len;
  }
  return len;
}

/* Find "current" as a key (followed by optional spaces and ':') in [from, to); set *num_at
 * and *num_len to the scalar after it. 0 when not found. */
static int find_current(const char *text, size_t from, size_t to, size_t *num_at, size_t *num_len) {
  static const char key[] = "current";
  for (size_t i = from; i + sizeof key - 1 < to; i++) {
    if (memcmp(text + i, key, sizeof key - 1) != 0) continue;
    if (i > from && (isalnum((unsigned char)text[i - 1]) || text[i - 1] == '_')) continue;
    size_t j = i + sizeof key - 1;
    while (j < to && text[j] == ' ')
      j++;
    if (j >= to || text[j] != ':') continue;
    j++;
    while (j < to && text[j] == ' ')
      j++;
    size_t k = j;
    while (k < to && (isdigit((unsigned char)text[k]) || strchr("+-.eE", text[k])))
      k++;
    if (k == j) continue;
    *num_at = j;
    *num_len = k - j;
    return 1;
  }
  return 0;
}

static int write_atomic(const char *path, const char *text, size_t len, tr_error *err) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  if (!f) return tr_error_set(err, TR_ERR_IO, tmp, 0, 0, "cannot write: %s", strerror(errno));
  int ok = fwrite(text, 1, len, f) == len;
  ok = fflush(f) == 0 && ok;
  ok = fsync(fileno(f)) == 0 && ok;
  ok = fclose(f) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    int e = errno;
    remove(tmp);
    return tr_error_set(err, TR_ERR_IO, path, 0, 0, "cannot replace the plan: %s", strerror(e));
  }
  return TR_OK;
}

int tr_plan_set_levers(const char *path, const tr_plan *plan, const char *const *ids,
                       const double *values, size_t n, tr_error *err) {
  char *text = NULL;
  size_t len = 0;
  int rc = tr_read_file(path, &text, &len, err);
  if (rc) return rc;
  for (size_t i = 0; i < n && !rc; i++) {
    long t = tr_plan_find_tension(plan, ids[i]);
    if (t < 0) {
      rc = tr_error_set(err, TR_ERR_NOT_FOUND, path, 0, 0, "no tension '%s' in the plan", ids[i]);
      break;
    }
    const tr_lever *L = &plan->tensions[t].lever;
    if (!(values[i] >= L->min && values[i] <= L->max)) {
      rc = tr_error_set(err, TR_ERR_INVALID, path, L->pos.line, L->pos.col,
                        "lever of '%s': %g lies outside its range [%g, %g]", ids[i], values[i],
                        L->min, L->max);
      break;
    }
    size_t from = line_offset(text, len, plan->tensions[t].pos.line);
    size_t to = tension_end(text, len, plan, (size_t)t);
    size_t at, nl;
    if (!find_current(text, from, to, &at, &nl)) {
      rc = tr_error_set(err, TR_ERR_INVALID, path, L->pos.line, L->pos.col,
                        "lever of '%s': cannot find its 'current:' value to update", ids[i]);
      break;
    }
    char num[40];
    int w = snprintf(num, sizeof num, "%.6g", values[i]);
    tr_sb sb = TR_SB_INIT;
    tr_sb_appendn(&sb, text, at);
    tr_sb_appendn(&sb, num, (size_t)w);
    tr_sb_appendn(&sb, text + at + nl, len - at - nl);
    if (!tr_sb_ok(&sb)) {
      tr_sb_free(&sb);
      rc = tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, NULL);
      break;
    }
    tr_free(text);
    len = sb.len;
    text = tr_sb_take(&sb);
  }
  if (!rc) {
    /* The edited text must still be a valid plan before it replaces the file. */
    tr_plan *check = NULL;
    rc = tr_plan_load_buffer(text, len, path, &check, err);
    tr_plan_free(check);
  }
  if (!rc) rc = write_atomic(path, text, len, err);
  tr_free(text);
  return rc;
}
