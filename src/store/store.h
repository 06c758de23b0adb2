/*
 * KPI store internals (the public API is include/tightrope/store.h). store.c owns the
 * connection, schema migrations and queries; import.c the CSV import and its validation.
 * The validators and the migration runner are exposed here for the unit tests.
 */
#ifndef TR_STORE_STORE_H
#define TR_STORE_STORE_H

#include "tightrope/base.h"
#include "tightrope/store.h"

#include <sqlite3.h>

struct tr_store {
  sqlite3 *db;
  char *path; /* owned; used in messages */
};

/* One schema step: the SQL that takes version-1 to version. */
typedef struct tr_store_migration {
  int version;
  const char *sql;
} tr_store_migration;

/* Bring `db` to the last version of `list` (ascending versions): the pending steps run in one
 * IMMEDIATE transaction together with the new schema_version, so a failing step leaves the
 * file exactly as it was. TR_ERR_DB when a step fails or the file is newer than the list.
 * `path` names the file in messages. */
int tr_store_migrate(sqlite3 *db, const char *path, const tr_store_migration *list, int n,
                     tr_error *err);

/* TR_ERR_DB with the connection's message, naming the file and what was being done. */
int tr_store_db_error(sqlite3 *db, const char *path, const char *doing, tr_error *err);

/* Period kinds. */
enum { TR_PERIOD_DAY = 1, TR_PERIOD_MONTH = 2 };

/* Check a period: "YYYY-MM-DD" (a real calendar day) or "YYYY-MM", year 1000..9999. Returns
 * NULL and sets *kind when valid, else a short explanation (static text). */
const char *tr_store_check_period(const char *s, int *kind);

/* Parse a value: a plain decimal number ("12", "-3.5", "1e6"), finite. Returns NULL and sets
 * *out when valid, else an explanation written into msg[cap] (it names the text and, for
 * "1,234.5" or "12%", says what to write instead). */
const char *tr_store_parse_value(const char *s, double *out, char *msg, size_t cap);

#endif
