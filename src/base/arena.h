/*
 * Arena allocator: many small allocations freed at once (one arena per loaded model, per
 * request, per run — STYLE rule 7). Blocks come from tr_malloc(), so failure injection
 * reaches arena users too. Not thread-safe: one arena belongs to one thread at a time.
 */
#ifndef TR_BASE_ARENA_H
#define TR_BASE_ARENA_H

#include <stddef.h>

typedef struct tr_arena_block tr_arena_block;
typedef struct tr_arena {
  tr_arena_block *head; /* current block (newest first) */
  size_t used;          /* bytes used in head */
  size_t total;         /* bytes handed out over the arena's life */
} tr_arena;

/* Initialise an empty arena; no memory is taken until the first allocation. */
void tr_arena_init(tr_arena *a);
/* Free every block; the arena is empty and reusable afterwards. NULL is a no-op. */
void tr_arena_release(tr_arena *a);
/* `size` bytes aligned for any type, zero-filled; NULL when out of memory. */
void *tr_arena_alloc(tr_arena *a, size_t size);
/* Array of n elements of `size` bytes, zero-filled, with overflow check. */
void *tr_arena_calloc(tr_arena *a, size_t n, size_t size);
/* Copies of strings into the arena; NULL on failure (or when s is NULL). */
char *tr_arena_strdup(tr_arena *a, const char *s);
char *tr_arena_strndup(tr_arena *a, const char *s, size_t n);
/* printf into the arena. */
char *tr_arena_printf(tr_arena *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
