/* The KPI store: connection, schema migrations, queries and export (see tightrope/store.h).
 * The CSV import is in import.c. */
#include "store/store.h"

#include "base/csv.h"
#include "base/strbuf.h"

#include <stdio.h>
#include <string.h>

/* The schema, one step per version. Never edit a released step: add a new one. */
static const tr_store_migration migrations[] = {
    {1, "CREATE TABLE imports (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  file TEXT NOT NULL,\n"
        "  sha256 TEXT NOT NULL,\n"
        "  format TEXT NOT NULL CHECK (format IN ('long', 'wide')),\n"
        "  imported_at TEXT NOT NULL,\n"
        "  rows_read INTEGER NOT NULL,\n"
        "  rows_imported INTEGER NOT NULL,\n"
        "  rows_rejected INTEGER NOT NULL\n"
        ") STRICT;\n"
        "CREATE INDEX imports_sha256 ON imports (sha256);\n"
        "CREATE TABLE observations (\n"
        "  kpi TEXT NOT NULL CHECK (length(kpi) > 0),\n"
        "  period TEXT NOT NULL,\n"
        "  value REAL NOT NULL,\n"
        "  source TEXT,\n"
        "  import_id INTEGER NOT NULL REFERENCES imports (id),\n"
        "  PRIMARY KEY (kpi, period)\n"
        ") STRICT, WITHOUT ROWID;\n"
        "CREATE TABLE observation_history (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  kpi TEXT NOT NULL,\n"
        "  period TEXT NOT NULL,\n"
        "  value REAL NOT NULL,\n"
        "  source TEXT,\n"
        "  import_id INTEGER NOT NULL REFERENCES imports (id),\n"
        "  replaced_by INTEGER NOT NULL REFERENCES imports (id)\n"
        ") STRICT;\n"
        "CREATE INDEX observation_history_kpi ON observation_history (kpi, period);\n"
        /* every change of a stored value keeps the old one, whoever makes it */
        "CREATE TRIGGER observations_keep_history AFTER UPDATE OF value, source\n"
        "ON observations BEGIN\n"
        "  INSERT INTO observation_history (kpi, period, value, source, import_id, replaced_by)\n"
        "  VALUES (old.kpi, old.period, old.value, old.source, old.import_id, new.import_id);\n"
        "END;\n"},
};

int tr_store_db_error(sqlite3 *db, const char *path, const char *doing, tr_error *err) {
  int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  const char *msg = db ? sqlite3_errmsg(db) : "cannot open";
  const char *hint = "";
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
    hint = " (another process is writing to it; try again when it is done)";
  else if (code == SQLITE_NOTADB || (code & 0xff) == SQLITE_CORRUPT)
    hint = " (the file is damaged or not a tightrope store; restore it from a backup)";
  return tr_error_set(err, TR_ERR_DB, path, 0, 0, "%s: %s%s", doing, msg, hint);
}

static int exec(sqlite3 *db, const char *path, const char *sql, const char *doing, tr_error *err) {
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return tr_store_db_error(db, path, doing, err);
  return TR_OK;
}

/* The version recorded in the file (0 for a new file); -1 after an error. */
static int read_version(sqlite3 *db, const char *path, tr_error *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &st, NULL) !=
      SQLITE_OK) {
    tr_store_db_error(db, path, "reading the schema version", err);
    return -1;
  }
  int v = -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  else
    tr_store_db_error(db, path, "reading the schema version", err);
  sqlite3_finalize(st);
  return v;
}

/* The version without taking a write lock: 0 when the table does not exist yet. */
static int peek_version(sqlite3 *db, const char *path, tr_error *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                         "name = 'schema_version'",
                         -1, &st, NULL) != SQLITE_OK) {
    tr_store_db_error(db, path, "reading the schema version", err);
    return -1;
  }
  int step = sqlite3_step(st), have = step == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  if (step != SQLITE_ROW) {
    tr_store_db_error(db, path, "reading the schema version", err);
    return -1;
  }
  return have ? read_version(db, path, err) : 0;
}

int tr_store_migrate(sqlite3 *db, const char *path, const tr_store_migration *list, int n,
                     tr_error *err) {
  int last = n > 0 ? list[n - 1].version : 0;
  /* the usual case, an up-to-date file, needs no write lock (a long import may hold it) */
  int v = peek_version(db, path, err);
  if (v < 0) return TR_ERR_DB;
  if (v == last) return TR_OK;
  /* IMMEDIATE: two processes opening a new file at once must not both migrate it */
  int rc = exec(db, path, "BEGIN IMMEDIATE", "starting the schema update", err);
  if (rc) return rc;
  rc = exec(db, path, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT",
            "creating the schema version table", err);
  v = rc ? -1 : read_version(db, path, err); /* again: another process may have migrated */
  if (v < 0) rc = TR_ERR_DB;
  if (!rc && v > last)
    rc = tr_error_set(err, TR_ERR_DB, path, 0, 0,
                      "schema version %d is newer than this tightrope understands (%d); "
                      "upgrade tightrope",
                      v, last);
  for (int i = 0; !rc && i < n; i++) {
    if (list[i].version <= v) continue;
    char doing[64];
    snprintf(doing, sizeof doing, "updating the schema to version %d", list[i].version);
    rc = exec(db, path, list[i].sql, doing, err);
  }
  if (!rc && v < last) {
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)",
             last);
    rc = exec(db, path, sql, "recording the schema version", err);
  }
  if (rc) {
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
  }
  return exec(db, path, "COMMIT", "committing the schema update", err);
}

int tr_store_open(tr_store **out, const char *path, tr_error *err) {
  *out = NULL;
  tr_store *s = tr_calloc(1, sizeof *s);
  if (!s) return tr_error_set(err, TR_ERR_NOMEM, path, 0, 0, "out of memory opening the store");
  s->path = tr_strdup(path);
  if (!s->path) {
    tr_free(s);
    return tr_error_set(err, TR_ERR_NOMEM, path, 0, 0, "out of memory opening the store");
  }
  int rc = TR_OK;
  /* NOMUTEX: a tr_store is one thread's connection (see the header), so SQLite's own
   * per-call locking is pure cost on the import path */
  if (sqlite3_open_v2(path, &s->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    rc = tr_store_db_error(s->db, path, "opening", err);
  } else {
    sqlite3_busy_timeout(s->db, TR_STORE_BUSY_MS);
    sqlite3_extended_result_codes(s->db, 1);
    /* journal_mode answers with the mode in force: anything but "wal" is a failure */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
      rc = tr_store_db_error(s->db, path, "opening", err);
    } else if (strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
      rc = tr_error_set(err, TR_ERR_DB, path, 0, 0, "cannot use write-ahead logging (mode '%s')",
                        (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
  }
  if (!rc)
    rc = exec(s->db, path,
              "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536",
              "opening", err);
  if (!rc)
    rc = tr_store_migrate(s->db, path, migrations, (int)(sizeof migrations / sizeof *migrations),
                          err);
  if (rc) {
    tr_store_close(s);
    return rc;
  }
  *out = s;
  return TR_OK;
}

int tr_store_open_workspace(tr_store **out, const char *dir, tr_error *err) {
  char path[4096];
  int n = (dir && *dir) ? snprintf(path, sizeof path, "%s/%s", dir, TR_STORE_FILE)
                        : snprintf(path, sizeof path, "%s", TR_STORE_FILE);
  if (n < 0 || (size_t)n >= sizeof path) {
    *out = NULL;
    return tr_error_set(err, TR_ERR_INVALID, dir, 0, 0, "workspace path too long");
  }
  return tr_store_open(out, path, err);
}

void tr_store_close(tr_store *s) {
  if (!s) return;
  sqlite3_close_v2(s->db); /* statements are finalised by their users */
  tr_free(s->path);
  tr_free(s);
}

int tr_store_schema_version(tr_store *s) {
  tr_error e;
  return read_version(s->db, s->path, &e);
}

void tr_store_set_busy_timeout(tr_store *s, int ms) {
  sqlite3_busy_timeout(s->db, ms);
}

/* ---- queries ------------------------------------------------------------------------------ */

static const char *col_text(sqlite3_stmt *st, int i) {
  return (const char *)sqlite3_column_text(st, i);
}

/* Prepare `sql`, bind the non-NULL text parameters in order (NULLs bind SQL NULL), and call
 * row(st) for every result row; row's non-zero return stops and is returned. */
static int run_query(tr_store *s, const char *sql, const char *const *params, int nparams,
                     int (*row)(sqlite3_stmt *st, void *ctx), void *ctx, const char *doing,
                     tr_error *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
    return tr_store_db_error(s->db, s->path, doing, err);
  for (int i = 0; i < nparams; i++)
    sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
  int rc = TR_OK, step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    rc = row(st, ctx);
    if (rc) break;
  }
  if (!rc && step != SQLITE_DONE) rc = tr_store_db_error(s->db, s->path, doing, err);
  sqlite3_finalize(st);
  return rc;
}

typedef struct cb_ctx {
  union {
    int (*summary)(void *ud, const tr_kpi_summary *k);
    int (*obs)(void *ud, const tr_kpi_obs *o);
    int (*old)(void *ud, const tr_kpi_old_value *h);
    int (*entry)(void *ud, const tr_import_entry *e);
  } fn;
  void *ud;
} cb_ctx;

static int summary_row(sqlite3_stmt *st, void *ctx) {
  cb_ctx *c = ctx;
  tr_kpi_summary k = {col_text(st, 0), sqlite3_column_int(st, 1), col_text(st, 2), col_text(st, 3),
                      sqlite3_column_double(st, 4)};
  return c->fn.summary(c->ud, &k);
}

int tr_store_list_kpis(tr_store *s, int (*fn)(void *ud, const tr_kpi_summary *k), void *ud,
                       tr_error *err) {
  cb_ctx c = {.fn.summary = fn, .ud = ud};
  /* the bare column `value` comes from the row holding max(period) (SQLite's min/max rule) */
  return run_query(s,
                   "SELECT kpi, count(*), min(period), max(period), value FROM observations "
                   "GROUP BY kpi ORDER BY kpi",
                   NULL, 0, summary_row, &c, "listing KPIs", err);
}

static int obs_row(sqlite3_stmt *st, void *ctx) {
  cb_ctx *c = ctx;
  tr_kpi_obs o = {col_text(st, 0), col_text(st, 1), sqlite3_column_double(st, 2), col_text(st, 3),
                  (long)sqlite3_column_int64(st, 4)};
  return c->fn.obs(c->ud, &o);
}

int tr_store_observations(tr_store *s, const char *kpi, const char *since,
                          int (*fn)(void *ud, const tr_kpi_obs *o), void *ud, tr_error *err) {
  int kind;
  const char *why = since ? tr_store_check_period(since, &kind) : NULL;
  if (why) return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0, "bad date '%s': %s", since, why);
  const char *params[2] = {kpi, since};
  cb_ctx c = {.fn.obs = fn, .ud = ud};
  return run_query(s,
                   "SELECT kpi, period, value, source, import_id FROM observations "
                   "WHERE (?1 IS NULL OR kpi = ?1) AND (?2 IS NULL OR period >= ?2) "
                   "ORDER BY kpi, period",
                   params, 2, obs_row, &c, "reading observations", err);
}

static int hist_row(sqlite3_stmt *st, void *ctx) {
  cb_ctx *c = ctx;
  tr_kpi_old_value h = {col_text(st, 0),
                        col_text(st, 1),
                        sqlite3_column_double(st, 2),
                        col_text(st, 3),
                        (long)sqlite3_column_int64(st, 4),
                        (long)sqlite3_column_int64(st, 5)};
  return c->fn.old(c->ud, &h);
}

int tr_store_history(tr_store *s, const char *kpi, int (*fn)(void *ud, const tr_kpi_old_value *h),
                     void *ud, tr_error *err) {
  const char *params[1] = {kpi};
  cb_ctx c = {.fn.old = fn, .ud = ud};
  return run_query(s,
                   "SELECT kpi, period, value, source, import_id, replaced_by "
                   "FROM observation_history WHERE ?1 IS NULL OR kpi = ?1 ORDER BY id",
                   params, 1, hist_row, &c, "reading the history", err);
}

static int import_row(sqlite3_stmt *st, void *ctx) {
  cb_ctx *c = ctx;
  tr_import_entry e = {(long)sqlite3_column_int64(st, 0),
                       col_text(st, 1),
                       col_text(st, 2),
                       col_text(st, 3),
                       col_text(st, 4),
                       (long)sqlite3_column_int64(st, 5),
                       (long)sqlite3_column_int64(st, 6),
                       (long)sqlite3_column_int64(st, 7)};
  return c->fn.entry(c->ud, &e);
}

int tr_store_imports(tr_store *s, int (*fn)(void *ud, const tr_import_entry *e), void *ud,
                     tr_error *err) {
  cb_ctx c = {.fn.entry = fn, .ud = ud};
  return run_query(s,
                   "SELECT id, file, sha256, format, imported_at, rows_read, rows_imported, "
                   "rows_rejected FROM imports ORDER BY id",
                   NULL, 0, import_row, &c, "reading the import log", err);
}

typedef struct export_ctx {
  FILE *out;
  tr_sb line;
  tr_error *err;
} export_ctx;

static int export_row(void *ud, const tr_kpi_obs *o) {
  export_ctx *x = ud;
  tr_sb_reset(&x->line);
  tr_sb_append(&x->line, o->period);
  tr_sb_putc(&x->line, ',');
  tr_csv_write_field(&x->line, o->kpi);
  tr_sb_putc(&x->line, ',');
  tr_sb_append_double(&x->line, o->value);
  tr_sb_putc(&x->line, ',');
  tr_csv_write_field(&x->line, o->source);
  tr_sb_putc(&x->line, '\n');
  if (!tr_sb_ok(&x->line))
    return tr_error_set(x->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory exporting");
  if (fwrite(tr_sb_str(&x->line), 1, x->line.len, x->out) != x->line.len)
    return tr_error_set(x->err, TR_ERR_IO, NULL, 0, 0, "write error while exporting");
  return TR_OK;
}

int tr_store_export_csv(tr_store *s, FILE *out, tr_error *err) {
  if (fputs("date,kpi,value,source\n", out) < 0)
    return tr_error_set(err, TR_ERR_IO, NULL, 0, 0, "write error while exporting");
  export_ctx x = {out, TR_SB_INIT, err};
  int rc = tr_store_observations(s, NULL, NULL, export_row, &x, err);
  tr_sb_free(&x.line);
  if (!rc && fflush(out) != 0)
    rc = tr_error_set(err, TR_ERR_IO, NULL, 0, 0, "write error while exporting");
  return rc;
}
