/*
 * SHA-256 (FIPS 180-4), incremental. The KPI import log keeps the hash of every imported file
 * so that re-importing the same content is recognised; our own ~100 lines rather than a
 * crypto library dependency for one digest.
 */
#ifndef TR_STORE_SHA256_H
#define TR_STORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct tr_sha256 {
  uint32_t h[8];         /* chaining state */
  uint64_t nbytes;       /* message length so far */
  unsigned char buf[64]; /* partial block */
  size_t nbuf;
} tr_sha256;

void tr_sha256_init(tr_sha256 *s);
void tr_sha256_update(tr_sha256 *s, const void *data, size_t n);
/* Finish and write the digest as 64 lowercase hex digits plus NUL into hex[65]. */
void tr_sha256_hex(tr_sha256 *s, char hex[65]);

#endif
