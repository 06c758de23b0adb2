/* Arena allocator (see arena.h). */
#include "base/arena.h"

#include "tightrope/base.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ARENA_BLOCK 8192u
#define ARENA_ALIGN 16u

struct tr_arena_block {
  tr_arena_block *next;
  size_t cap;
  _Alignas(16) unsigned char data[];
};

void tr_arena_init(tr_arena *a) {
  a->head = NULL;
  a->used = 0;
  a->total = 0;
}

void tr_arena_release(tr_arena *a) {
  if (!a) return;
  tr_arena_block *b = a->head;
  while (b) {
    tr_arena_block *next = b->next;
    tr_free(b);
    b = next;
  }
  tr_arena_init(a);
}

void *tr_arena_alloc(tr_arena *a, size_t size) {
  if (size == 0) size = 1;
  if (size > SIZE_MAX / 2) return NULL;
  size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (!a->head || a->used + size > a->head->cap) {
    size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
    tr_arena_block *b = tr_malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->cap = cap;
    /* A big one-off block goes behind the current one so the current one keeps filling. */
    if (a->head && size > ARENA_BLOCK) {
      b->next = a->head->next;
      a->head->next = b;
      a->total += size;
      memset(b->data, 0, size);
      return b->data;
    }
    b->next = a->head;
    a->head = b;
    a->used = 0;
  }
  void *p = a->head->data + a->used;
  a->used += size;
  a->total += size;
  memset(p, 0, size);
  return p;
}

void *tr_arena_calloc(tr_arena *a, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  return tr_arena_alloc(a, n * size);
}

char *tr_arena_strndup(tr_arena *a, const char *s, size_t n) {
  if (!s) return NULL;
  char *p = tr_arena_alloc(a, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *tr_arena_strdup(tr_arena *a, const char *s) {
  return s ? tr_arena_strndup(a, s, strlen(s)) : NULL;
}

char *tr_arena_printf(tr_arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *p = tr_arena_alloc(a, (size_t)n + 1);
  if (!p) return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}
