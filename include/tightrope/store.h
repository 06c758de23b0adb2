/*
 * tightrope — the KPI store: one SQLite file per workspace (`DIR/tightrope.db`) holding KPI
 * observations, the history of values that imports replaced, and a log of imports.
 *
 * Durability (DESIGN §7): WAL journal with synchronous=FULL, foreign keys on, STRICT tables,
 * a busy timeout so a second process waits instead of failing at once, and one transaction
 * per import — a crash or `kill -9` in the middle of an import leaves that import wholly
 * absent and every earlier one untouched. The schema carries a version; opening a file
 * applies the pending migrations, in order, in one transaction.
 *
 * A tr_store is one connection: use it from one thread at a time (open one per thread).
 * Every function that can fail returns a tr_status and fills `err`.
 */
#ifndef TIGHTROPE_STORE_H
#define TIGHTROPE_STORE_H

#include "tightrope/base.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The schema version this build creates and understands. */
#define TR_STORE_SCHEMA_VERSION 1
/* The file name of the store inside a workspace folder. */
#define TR_STORE_FILE "tightrope.db"
/* How long a writer waits for another process's transaction before TR_ERR_DB, by default. */
#define TR_STORE_BUSY_MS 5000

typedef struct tr_store tr_store;

/* Open (creating when absent) the store at `path` and bring its schema up to date.
 * Errors: TR_ERR_DB (not a database, corrupt, locked past the busy timeout, a schema newer
 * than this build, a failed migration — the file is left as it was), TR_ERR_NOMEM. */
int tr_store_open(tr_store **out, const char *path, tr_error *err);

/* Open DIR/tightrope.db (DIR NULL or "" means the current folder). As tr_store_open. */
int tr_store_open_workspace(tr_store **out, const char *dir, tr_error *err);

/* Close the connection. NULL is a no-op. */
void tr_store_close(tr_store *s);

/* The file's schema version (TR_STORE_SCHEMA_VERSION once open). */
int tr_store_schema_version(tr_store *s);

/* Change the busy timeout (milliseconds; 0 fails at once when another process writes). */
void tr_store_set_busy_timeout(tr_store *s, int ms);

/* ---- import ------------------------------------------------------------------------------ */

typedef enum {
  TR_KPI_LONG, /* header date,kpi,value[,source]; one observation per row */
  TR_KPI_WIDE  /* header date,kpi1,kpi2,...; a blank cell is no observation */
} tr_kpi_format;

enum {
  TR_IMPORT_STRICT = 1, /* any rejected row rejects the whole file (TR_ERR_INVALID) */
  TR_IMPORT_DRY_RUN = 2 /* validate and count, change nothing */
};

typedef struct tr_import_report {
  /* in: called for every problem (a rejected row, an ignored column), GNU-form position in
   * the tr_error; may be NULL. */
  void (*on_problem)(void *ud, const tr_error *problem);
  void *ud;
  /* in: draw a progress bar (by bytes read) on this stream when it is a terminal; or NULL */
  FILE *progress_out;
  /* out (every field below is reset by the import) */
  long rows_read;          /* data rows (the header and blank lines are not rows) */
  long rows_valid;         /* rows that passed validation */
  long rows_rejected;      /* rows with a problem (not imported) */
  long columns_ignored;    /* wide format: header columns naming unknown KPIs */
  long inserted;           /* observations new to the store */
  long updated;            /* observations whose value or source changed (old kept in history) */
  long unchanged;          /* observations already stored with the same value and source */
  long import_id;          /* the import log entry, 0 when nothing was written */
  long previous_import_id; /* an earlier import of the same content (same sha256), or 0 */
  char sha256[65];         /* of the file's bytes */
} tr_import_report;

/* Import a KPI CSV file (RFC 4180; tab-separated when the name ends in .tab or .tsv, as
 * Vensim writes them; header and rows as described at tr_kpi_format). Every row is
 * validated: the period (YYYY-MM-DD or YYYY-MM, one form per file), the value (a plain
 * decimal number: no thousands separators, no %, finite), the KPI (non-empty; one of
 * `known_kpis` when that NULL-terminated list is given), the field count, and duplicates of
 * a (KPI, period) within the file (the first occurrence wins). Each problem is reported
 * through report->on_problem with file:line:col and the field at fault. By default the
 * valid rows are imported and the others reported; with TR_IMPORT_STRICT any problem
 * rejects the file. An observation that already exists with another value or source is
 * updated and the old one kept in the history; the same value is left alone, so importing
 * a file twice adds nothing. One transaction: on any error nothing is written. An import
 * that changes nothing leaves no log entry.
 * Returns TR_OK (possibly with rejected rows), TR_ERR_INVALID (strict rejection; an empty
 * file; a header that is not the format's), TR_ERR_PARSE / TR_ERR_LIMIT (a CSV error after
 * which the file cannot be read on), TR_ERR_IO (unreadable file), TR_ERR_DB, TR_ERR_NOMEM.
 * `report` may be NULL. */
int tr_store_import_csv(tr_store *s, const char *path, tr_kpi_format format, unsigned flags,
                        const char *const *known_kpis, tr_import_report *report, tr_error *err);

/* ---- queries ----------------------------------------------------------------------------
 * Each query calls `fn` for every row, in order; the strings are valid during the call only.
 * A non-zero return from fn stops the query, which then returns that value. */

typedef struct tr_kpi_summary {
  const char *kpi;
  long count;               /* observations */
  const char *first_period; /* earliest and latest period */
  const char *last_period;
  double last_value; /* the value at last_period */
} tr_kpi_summary;

typedef struct tr_kpi_obs {
  const char *kpi;
  const char *period; /* YYYY-MM-DD or YYYY-MM */
  double value;
  const char *source; /* NULL when none */
  long import_id;     /* the import that set this value */
} tr_kpi_obs;

typedef struct tr_kpi_old_value {
  const char *kpi;
  const char *period;
  double value;       /* the value that was replaced */
  const char *source; /* NULL when none */
  long import_id;     /* the import that had set it */
  long replaced_by;   /* the import that changed it */
} tr_kpi_old_value;

typedef struct tr_import_entry {
  long id;
  const char *file;
  const char *sha256;
  const char *format;      /* "long" or "wide" */
  const char *imported_at; /* UTC, YYYY-MM-DDTHH:MM:SSZ */
  long rows_read, rows_imported, rows_rejected;
} tr_import_entry;

/* Every KPI with its count and latest value, by KPI name. */
int tr_store_list_kpis(tr_store *s, int (*fn)(void *ud, const tr_kpi_summary *k), void *ud,
                       tr_error *err);

/* The observations of `kpi` (NULL = every KPI) from period `since` on (NULL = all; a valid
 * period, compared as text, so "2024-03" includes every day of March), by KPI then period.
 * TR_ERR_INVALID for a malformed `since`. */
int tr_store_observations(tr_store *s, const char *kpi, const char *since,
                          int (*fn)(void *ud, const tr_kpi_obs *o), void *ud, tr_error *err);

/* The replaced values of `kpi` (NULL = all), oldest replacement first. */
int tr_store_history(tr_store *s, const char *kpi, int (*fn)(void *ud, const tr_kpi_old_value *h),
                     void *ud, tr_error *err);

/* The import log, oldest first. */
int tr_store_imports(tr_store *s, int (*fn)(void *ud, const tr_import_entry *e), void *ud,
                     tr_error *err);

/* Write every observation as a long CSV (date,kpi,value,source; RFC 4180 quoting; values in
 * the shortest form that reads back exactly), which tr_store_import_csv reads back.
 * TR_ERR_IO when writing fails. */
int tr_store_export_csv(tr_store *s, FILE *out, tr_error *err);

#ifdef __cplusplus
}
#endif
#endif
