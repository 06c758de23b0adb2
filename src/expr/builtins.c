/* The builtin function table (see builtins.h), generated from TR_BUILTIN_LIST so that the
 * enum, the table and docs/xmile.md can never disagree about a name. */
#include "expr/builtins.h"

#include <stddef.h>

const tr_builtin tr_builtins[TR_FN_COUNT] = {
#define TR_X_ROW(id, name, lo, hi, flags) {id, name, lo, hi, (unsigned)(flags)},
    TR_BUILTIN_LIST(TR_X_ROW)
#undef TR_X_ROW
};

/* ASCII case-insensitive equality, independent of the C locale (names are ASCII). */
static int same_name(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
    if (x >= 'a' && x <= 'z') x = (unsigned char)(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = (unsigned char)(y - 'a' + 'A');
    if (x != y) return 0;
  }
  return *a == *b;
}

/* Linear scan: the table is small and lookups happen once per call site at parse time. */
const tr_builtin *tr_builtin_find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < (size_t)TR_FN_COUNT; i++)
    if (same_name(name, tr_builtins[i].name)) return &tr_builtins[i];
  return NULL;
}
