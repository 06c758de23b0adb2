/* Bulk memory (bulk.h). */
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE), a Linux hint; without it, plain pages */
#include "base/bulk.h"

#include "tightrope/base.h"

#include <pthread.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdint.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;
static void *kept_p;      /* the kept block, or NULL */
static size_t kept_bytes; /* its size */

void *tr_bulk_alloc(size_t bytes, size_t *got) {
  pthread_mutex_lock(&kept_mu);
  void *p = NULL;
  if (kept_p && kept_bytes >= bytes) {
    p = kept_p;
    *got = kept_bytes;
    kept_p = NULL;
    kept_bytes = 0;
  }
  pthread_mutex_unlock(&kept_mu);
  if (p) {
    if (!tr_alloc_tick()) return p;
    tr_bulk_free(p, *got); /* an injected failure: the block stays kept */
    return NULL;
  }
  if (bytes < TR_BULK_MIN) {
    *got = bytes ? bytes : 1;
    return tr_malloc(*got);
  }
  p = tr_alloc_aligned(HUGE_PAGE, bytes);
  *got = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE; /* its size (when p is not NULL) */
#ifdef MADV_HUGEPAGE
  if (p) (void)madvise(p, *got, MADV_HUGEPAGE);
#endif
  return p;
}

void tr_bulk_free(void *p, size_t bytes) {
  if (!p) return;
  if (bytes < TR_BULK_MIN || bytes > TR_BULK_MAX) {
    tr_free(p);
    return;
  }
  pthread_mutex_lock(&kept_mu);
  if (kept_bytes < bytes) { /* keep the larger: it serves every study the smaller would */
    void *q = kept_p;
    kept_p = p;
    kept_bytes = bytes;
    p = q;
  }
  pthread_mutex_unlock(&kept_mu);
  tr_free(p);
}

void tr_bulk_release(void) {
  pthread_mutex_lock(&kept_mu);
  void *p = kept_p;
  kept_p = NULL;
  kept_bytes = 0;
  pthread_mutex_unlock(&kept_mu);
  tr_free(p);
}

void tr_bulk_keep_heap(void) {
#if defined(__GLIBC__)
  (void)mallopt(M_MMAP_THRESHOLD, 32 << 20); /* blocks below 32 MiB come from the heap */
  (void)mallopt(M_TRIM_THRESHOLD, 64 << 20); /* and up to 64 MiB freed at its top stays */
#endif
}

size_t tr_bulk_kept(void) {
  pthread_mutex_lock(&kept_mu);
  size_t n = kept_bytes;
  pthread_mutex_unlock(&kept_mu);
  return n;
}
