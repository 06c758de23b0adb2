/* The one allocation function, with per-thread failure injection for tests
 * (STYLE rule 14; after SQLite's test_malloc.c). */
#include "tightrope/base.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local long fail_at;     /* allocation number that fails; 0 = never */
static _Thread_local int fail_sticky;  /* keep failing after the first injected failure */
static _Thread_local long alloc_count; /* allocations since tr_alloc_fail_after() */

void tr_alloc_fail_after(long n, int sticky) {
  fail_at = n > 0 ? n : 0;
  fail_sticky = sticky;
  alloc_count = 0;
}

long tr_alloc_count(void) {
  return alloc_count;
}

int tr_alloc_tick(void) {
  alloc_count++;
  return fail_at && (alloc_count == fail_at || (fail_sticky && alloc_count > fail_at));
}

void *tr_realloc(void *ptr, size_t size) {
  if (size == 0) size = 1;
  if (tr_alloc_tick()) return NULL;
  return realloc(ptr, size);
}

void *tr_alloc_aligned(size_t align, size_t size) {
  if (size == 0) size = 1;
  if (tr_alloc_tick() || size > SIZE_MAX - align) return NULL;
  size = (size + align - 1) / align * align; /* aligned_alloc wants a multiple */
  return aligned_alloc(align, size);
}

void *tr_malloc(size_t size) {
  return tr_realloc(NULL, size);
}

void *tr_calloc(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  void *p = tr_realloc(NULL, n * size);
  if (p) memset(p, 0, n * size);
  return p;
}

void tr_free(void *ptr) {
  free(ptr);
}

char *tr_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *p = tr_malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}
