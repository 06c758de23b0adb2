/* Text utilities (see text.h). */
#include "base/text.h"

#include "tightrope/base.h"

#include <ctype.h>
#include <string.h>

size_t tr_edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  size_t small[64];
  size_t *row = lb + 1 <= 64 ? small : tr_malloc((lb + 1) * sizeof *row);
  if (!row) return (size_t)-1;
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
      size_t best = diag + (same ? 0 : 1);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  size_t d = row[lb];
  if (row != small) tr_free(row);
  return d;
}

/* 1 when `needle` occurs in `hay`, ignoring ASCII case. */
static int contains_ci(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  if (n == 0) return 0;
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
      i++;
    if (i == n) return 1;
  }
  return 0;
}

const char *tr_closest(const char *name, const char *const *candidates, size_t n) {
  size_t ln = strlen(name), limit = ln / 3;
  if (limit < 2) limit = 2;
  const char *best = NULL;
  size_t best_d = limit + 1;
  for (size_t i = 0; i < n; i++) {
    /* The distance is at least the difference in length: such candidates are skipped
     * unread, so a hostile 64 KB name costs a strlen per candidate, not 64 KB x its length
     * (15 s for one request under the sanitizers, found by fuzz_http). */
    size_t lc = strlen(candidates[i]);
    if ((lc > ln ? lc - ln : ln - lc) >= best_d) continue;
    size_t d = tr_edit_distance(name, candidates[i]);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
  }
  if (best || strlen(name) < 3) return best;
  /* A shortened name ("downturn" for "economic downturn"): the one candidate containing it. */
  const char *only = NULL;
  for (size_t i = 0; i < n; i++) {
    if (strlen(candidates[i]) < ln || !contains_ci(candidates[i], name)) continue;
    if (only) return NULL; /* ambiguous */
    only = candidates[i];
  }
  return only;
}

size_t tr_canon_ident(const char *raw, size_t len, char *out, size_t cap) {
  size_t n = 0;
  int pending_sep = 0;
  size_t i = 0, end = len;
  /* strip one pair of surrounding quotes */
  while (i < end && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r'))
    i++;
  while (end > i && (raw[end - 1] == ' ' || raw[end - 1] == '\t' || raw[end - 1] == '\n' ||
                     raw[end - 1] == '\r'))
    end--;
  if (end - i >= 2 && raw[i] == '"' && raw[end - 1] == '"') {
    i++;
    end--;
  }
#define PUT(ch)                                                                                    \
  do {                                                                                             \
    if (n + 1 < cap) out[n] = (char)(ch);                                                          \
    n++;                                                                                           \
  } while (0)
  for (; i < end; i++) {
    unsigned char c = (unsigned char)raw[i];
    if (c == '\\' && i + 1 < end) {
      unsigned char d = (unsigned char)raw[i + 1];
      if (d == 'n' || d == 'r' || d == 't') {
        pending_sep = n > 0;
        i++;
        continue;
      }
      if (d == '"' || d == '\\') {
        c = d;
        i++;
      }
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '_') {
      pending_sep = n > 0;
      continue;
    }
    if (pending_sep) PUT('_');
    pending_sep = 0;
    PUT(tolower(c));
  }
#undef PUT
  if (cap) out[n < cap ? n : cap - 1] = '\0';
  return n;
}
