/* Hash map (see hashmap.h). */
#include "base/hashmap.h"

#include "tightrope/base.h"

#include <string.h>

unsigned long tr_hash_str(const char *s) {
  unsigned long h = 2166136261ul;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619ul;
  }
  return h;
}

void tr_map_init(tr_map *m) {
  m->slots = NULL;
  m->cap = m->count = 0;
}

void tr_map_free(tr_map *m) {
  if (!m) return;
  tr_free(m->slots);
  tr_map_init(m);
}

static tr_map_slot *find(tr_map_slot *slots, size_t cap, const char *key, unsigned long h) {
  size_t i = h & (cap - 1);
  for (;;) {
    tr_map_slot *s = &slots[i];
    if (!s->key || (s->hash == h && strcmp(s->key, key) == 0)) return s;
    i = (i + 1) & (cap - 1);
  }
}

static int grow(tr_map *m) {
  size_t cap = m->cap ? m->cap * 2 : 16;
  tr_map_slot *slots = tr_calloc(cap, sizeof *slots);
  if (!slots) return TR_ERR_NOMEM;
  for (size_t i = 0; i < m->cap; i++) {
    tr_map_slot *s = &m->slots[i];
    if (s->key) *find(slots, cap, s->key, s->hash) = *s;
  }
  tr_free(m->slots);
  m->slots = slots;
  m->cap = cap;
  return TR_OK;
}

int tr_map_put(tr_map *m, const char *key, void *value) {
  if ((m->count + 1) * 4 > m->cap * 3) {
    int rc = grow(m);
    if (rc) return rc;
  }
  unsigned long h = tr_hash_str(key);
  tr_map_slot *s = find(m->slots, m->cap, key, h);
  if (!s->key) {
    s->key = key;
    s->hash = h;
    m->count++;
  }
  s->value = value;
  return TR_OK;
}

void *tr_map_get(const tr_map *m, const char *key, int *found) {
  if (found) *found = 0;
  if (!m->cap) return NULL;
  tr_map_slot *s = find(m->slots, m->cap, key, tr_hash_str(key));
  if (!s->key) return NULL;
  if (found) *found = 1;
  return s->value;
}

int tr_map_next(const tr_map *m, size_t *it, const char **key, void **value) {
  while (*it < m->cap) {
    tr_map_slot *s = &m->slots[(*it)++];
    if (s->key) {
      if (key) *key = s->key;
      if (value) *value = s->value;
      return 1;
    }
  }
  return 0;
}
