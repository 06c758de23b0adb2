/*
 * Private to the XMILE reader and its tests: the size limits, made explicit so a test can
 * exercise the limit paths with small numbers instead of a 256 MiB file.
 */
#ifndef TR_XMILE_READER_IMPL_H
#define TR_XMILE_READER_IMPL_H

#include "xmile/model.h"

#include <stddef.h>

/* The limits tr_xmile_read_file/_buffer apply: input over 256 MiB, or more than 1,000,000
 * variables (all models and macros together), is refused with TR_ERR_LIMIT. */
#define TR_XMILE_MAX_BYTES ((size_t)256 << 20)
#define TR_XMILE_MAX_VARS 1000000ul

typedef struct tr_xmile_limits {
  size_t max_bytes;       /* input size */
  unsigned long max_vars; /* variables in all models and macros */
} tr_xmile_limits;

/* tr_xmile_read_file / tr_xmile_read_buffer with explicit limits (NULL: the defaults). */
int tr_xmile_read_file_limited(const char *path, const tr_xmile_limits *lim, tr_xmile **out,
                               tr_error *err);
int tr_xmile_read_buffer_limited(const char *buf, size_t len, const char *filename,
                                 const tr_xmile_limits *lim, tr_xmile **out, tr_error *err);

#endif
