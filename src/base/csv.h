/*
 * Streaming CSV reader (RFC 4180 plus the liberties real files take). Reads one row at a time
 * from a FILE* or a caller's buffer; only the current row is held in memory, so a file of any
 * size can be read in constant space (bounded by the field and row limits below).
 *
 * Accepted: quoted fields with the delimiter, doubled quotes ("") and line breaks inside; CR,
 * LF and CRLF line endings, mixed in one file; a UTF-8 byte order mark at the start (skipped);
 * any single-byte delimiter (',' by default, '\t' for Vensim .tab files). A physically empty
 * line is not a row (so an empty trailing line, or blank lines between rows, are ignored).
 *
 * Errors (returned by tr_csv_next, with file:line:col in the tr_error):
 *   - ragged row (field count differs from the first row's): TR_ERR_PARSE naming the line and
 *     both counts, unless TR_CSV_RAGGED_OK. The row is still available and reading may go on.
 *   - a quote inside an unquoted field, or a character after a closing quote: TR_ERR_PARSE at
 *     the quote; the rest of the physical line is skipped and reading may go on.
 *   - an unterminated quote at end of input: TR_ERR_PARSE at the opening quote (fatal).
 *   - a field over max_field bytes or a row over max_fields fields: TR_ERR_LIMIT (fatal).
 *   - read errors (TR_ERR_IO) and allocation failure (TR_ERR_NOMEM) are fatal too.
 * After a fatal error every later tr_csv_next returns the same code again.
 *
 * Ownership: the reader owns its row storage; field pointers are valid until the next call to
 * tr_csv_next or tr_csv_free. A FILE* is borrowed (not closed); a buffer is borrowed and must
 * outlive the reader. A reader is used by one thread at a time.
 */
#ifndef TR_BASE_CSV_H
#define TR_BASE_CSV_H

#include "tightrope/base.h"

#include <stddef.h>
#include <stdio.h>

/* Limits of tr_csv_opts when left 0. */
#define TR_CSV_MAX_FIELD_DEFAULT ((size_t)1 << 20) /* 1 MiB per field */
#define TR_CSV_MAX_FIELDS_DEFAULT ((size_t)100000) /* fields per row */

enum {
  TR_CSV_RAGGED_OK = 1 /* rows may have any number of fields */
};

typedef struct tr_csv_opts {
  char delim;        /* field separator; 0 means ',' */
  unsigned flags;    /* TR_CSV_* */
  size_t max_field;  /* bytes per field; 0 = TR_CSV_MAX_FIELD_DEFAULT */
  size_t max_fields; /* fields per row; 0 = TR_CSV_MAX_FIELDS_DEFAULT */
  /* Optional: called with every chunk of raw input bytes as it is consumed (BOM included), so
   * a caller can hash the file in the same pass. */
  void (*on_bytes)(void *ud, const void *bytes, size_t n);
  void *ud;
} tr_csv_opts;

typedef struct tr_csv tr_csv;

/* A reader over `f` (borrowed). `name` is the file name used in error positions (copied; NULL
 * means "<input>"); `opts` may be NULL for the defaults. Returns TR_OK and sets *out, or
 * TR_ERR_NOMEM / TR_ERR_INVALID (a delimiter that is a quote or line break). */
int tr_csv_open_file(tr_csv **out, FILE *f, const char *name, const tr_csv_opts *opts,
                     tr_error *err);

/* A reader over `len` bytes at `buf` (borrowed, need not be NUL-terminated). As above. */
int tr_csv_open_buffer(tr_csv **out, const char *buf, size_t len, const char *name,
                       const tr_csv_opts *opts, tr_error *err);

/* Read the next row: 1 when a row is available, 0 at the end of input, or a negative status
 * (see the list above) with the details in `err`. */
int tr_csv_next(tr_csv *c, tr_error *err);

/* The fields of the current row. tr_csv_field returns a NUL-terminated copy of field i (quotes
 * removed, "" undoubled) and, when len is not NULL, its length in bytes (a field may contain
 * NUL bytes). NULL when i is out of range. */
size_t tr_csv_nfields(const tr_csv *c);
const char *tr_csv_field(const tr_csv *c, size_t i, size_t *len);

/* 1-based line of the current row's first line, and the position where field i starts (its
 * line differs from the row's when an earlier field spans lines). 0 when i is out of range. */
long tr_csv_line(const tr_csv *c);
long tr_csv_field_line(const tr_csv *c, size_t i);
long tr_csv_field_col(const tr_csv *c, size_t i);

/* The field count of the first row (0 before it is read): what ragged rows are checked
 * against. */
size_t tr_csv_expected_fields(const tr_csv *c);

/* The file name given at open. */
const char *tr_csv_name(const tr_csv *c);

/* Free the reader (not the FILE* or buffer). NULL is a no-op. */
void tr_csv_free(tr_csv *c);

/* Append one field to `sb` as RFC 4180 writes it: quoted (inner quotes doubled) when it holds
 * a comma, quote or line break or starts or ends with a space, as is otherwise. NULL appends
 * nothing (an empty field). */
struct tr_sb;
void tr_csv_write_field(struct tr_sb *sb, const char *s);

#endif
