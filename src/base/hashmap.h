/*
 * Hash map from NUL-terminated string keys to pointers (open addressing, linear probing,
 * FNV-1a). Keys are NOT copied: the caller keeps them alive for the map's life (usually in
 * the same arena as the values). Storage comes from tr_malloc(). Not thread-safe for writes;
 * concurrent reads of an unchanging map are safe.
 */
#ifndef TR_BASE_HASHMAP_H
#define TR_BASE_HASHMAP_H

#include <stddef.h>

typedef struct tr_map_slot {
  const char *key; /* NULL = empty */
  void *value;
  unsigned long hash;
} tr_map_slot;

typedef struct tr_map {
  tr_map_slot *slots;
  size_t cap;   /* power of two, or 0 before the first insert */
  size_t count; /* live entries */
} tr_map;

void tr_map_init(tr_map *m);
void tr_map_free(tr_map *m); /* frees the table, not keys or values; NULL is a no-op */
/* Insert or replace. Returns TR_OK or TR_ERR_NOMEM (the map is unchanged on failure). */
int tr_map_put(tr_map *m, const char *key, void *value);
/* The value for key, or NULL when absent. `found` (may be NULL) tells absent from a NULL value. */
void *tr_map_get(const tr_map *m, const char *key, int *found);
/* Iterate: start with *it = 0; returns 0 at the end. Order is the table order. */
int tr_map_next(const tr_map *m, size_t *it, const char **key, void **value);
/* FNV-1a hash of a string (exposed for tests and for callers that hash names). */
unsigned long tr_hash_str(const char *s);

#endif
