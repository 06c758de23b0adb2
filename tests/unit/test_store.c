/* Unit tests: the KPI store — schema and migrations, long and wide import, validation
 * messages with positions, strict, dry run, idempotency, update with history, export round
 * trip, corrupt and locked files, allocation failure; the validators and SHA-256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/strbuf.h"
#include "store/sha256.h"
#include "store/store.h"
#include "tightrope/base.h"
#include "tightrope/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- fixtures ---------------------------------------------------------------------------- */

typedef struct fx {
  char dir[64];
  char db[128];
  tr_store *s;
  tr_error err;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f) return -1;
  strcpy(f->dir, "/tmp/tr_store_XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  snprintf(f->db, sizeof f->db, "%s/tightrope.db", f->dir);
  tr_error_clear(&f->err);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  tr_store_close(f->s);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  if (system(cmd) != 0) return -1;
  free(f);
  return 0;
}

/* Write a file in the fixture folder; returns its path (static buffer per call site). */
static const char *write_file(fx *f, const char *name, const char *text, char *path, size_t cap) {
  snprintf(path, cap, "%s/%s", f->dir, name);
  FILE *o = fopen(path, "wb");
  assert_non_null(o);
  fputs(text, o);
  fclose(o);
  return path;
}

static void open_store(fx *f) {
  if (!f->s) assert_int_equal(tr_store_open(&f->s, f->db, &f->err), TR_OK);
}

/* Problems collected as GNU-form lines, with the fixture folder removed from file names. */
typedef struct problems {
  tr_sb text;
  const char *dir;
} problems;

static void collect(void *ud, const tr_error *e) {
  problems *p = ud;
  tr_error copy;
  tr_error_copy(&copy, e);
  const char *t = tr_error_text(&copy);
  size_t n = strlen(p->dir);
  if (strncmp(t, p->dir, n) == 0) t += n + 1;
  tr_sb_append(&p->text, t);
  tr_sb_putc(&p->text, '\n');
}

static int import(fx *f, const char *name, const char *text, tr_kpi_format fmt, unsigned flags,
                  const char *const *known, tr_import_report *rep, tr_sb *out) {
  char path[256];
  write_file(f, name, text, path, sizeof path);
  open_store(f);
  problems p = {TR_SB_INIT, f->dir};
  memset(rep, 0, sizeof *rep);
  rep->on_problem = collect;
  rep->ud = &p;
  tr_error_clear(&f->err);
  int rc = tr_store_import_csv(f->s, path, fmt, flags, known, rep, &f->err);
  if (out)
    *out = p.text;
  else
    tr_sb_free(&p.text);
  return rc;
}

/* All observations as "kpi period value source import;" */
static int obs_line(void *ud, const tr_kpi_obs *o) {
  tr_sb_printf(ud, "%s %s %.17g %s %ld;", o->kpi, o->period, o->value, o->source ? o->source : "-",
               o->import_id);
  return 0;
}

static char *dump(fx *f, const char *kpi, const char *since) {
  tr_sb sb = TR_SB_INIT;
  assert_int_equal(tr_store_observations(f->s, kpi, since, obs_line, &sb, &f->err), TR_OK);
  char *s = tr_sb_take(&sb);
  return s ? s : tr_strdup("");
}

static void assert_dump(fx *f, const char *want) {
  char *got = dump(f, NULL, NULL);
  assert_string_equal(got, want);
  tr_free(got);
}

static long count_rows(fx *f, const char *table) {
  char sql[96];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(f->s->db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  long n = (long)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static const char *pragma_text(fx *f, const char *sql, char *buf, size_t cap) {
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(f->s->db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return buf;
}

/* ---- schema ------------------------------------------------------------------------------ */

static void test_schema_from_empty_file(void **state) {
  fx *f = *state;
  open_store(f);
  assert_int_equal(tr_store_schema_version(f->s), TR_STORE_SCHEMA_VERSION);
  char b[64];
  assert_string_equal(pragma_text(f, "PRAGMA journal_mode", b, sizeof b), "wal");
  assert_string_equal(pragma_text(f, "PRAGMA foreign_keys", b, sizeof b), "1");
  assert_string_equal(pragma_text(f, "PRAGMA synchronous", b, sizeof b), "2"); /* FULL */
  /* every table is STRICT: a text value in a REAL column is refused */
  assert_string_equal(pragma_text(f,
                                  "SELECT group_concat(name) FROM (SELECT name FROM "
                                  "pragma_table_list WHERE strict = 1 AND schema = 'main' "
                                  "ORDER BY name)",
                                  b, sizeof b),
                      "imports,observation_history,observations,schema_version");
  assert_int_not_equal(sqlite3_exec(f->s->db,
                                    "INSERT INTO imports VALUES (1,'f','h','long','t',0,0,0);"
                                    "INSERT INTO observations VALUES ('k','2024-01','abc',NULL,1)",
                                    NULL, NULL, NULL),
                       SQLITE_OK);
  /* foreign keys are enforced: an observation of an import that does not exist */
  assert_int_not_equal(sqlite3_exec(f->s->db,
                                    "INSERT INTO observations VALUES ('k','2024-01',1.0,NULL,99)",
                                    NULL, NULL, NULL),
                       SQLITE_OK);
  /* reopening keeps the version and the data */
  tr_store_close(f->s);
  f->s = NULL;
  open_store(f);
  assert_int_equal(tr_store_schema_version(f->s), TR_STORE_SCHEMA_VERSION);
  assert_int_equal(count_rows(f, "imports"), 1);
  assert_int_equal(count_rows(f, "schema_version"), 1);
}

static void test_migrations_in_order_and_atomic(void **state) {
  fx *f = *state;
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
  const tr_store_migration broken[] = {
      {1, "CREATE TABLE a (x INTEGER) STRICT"},
      {2, "CREATE TABLE b (y INTEGER REFERENCES a (x)) STRICT"},
      {3, "CREATE TABLE c (oops"},
  };
  tr_error e;
  assert_int_equal(tr_store_migrate(db, "m.db", broken, 3, &e), TR_ERR_DB);
  assert_non_null(strstr(e.msg, "updating the schema to version 3"));
  /* all or nothing: steps 1 and 2 were rolled back with 3 */
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "SELECT count(*) FROM sqlite_master WHERE name IN "
                                      "('a','b','schema_version')",
                                      -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(st, 0), 0);
  sqlite3_finalize(st);
  /* the good steps apply in order; a later run applies only what is pending */
  assert_int_equal(tr_store_migrate(db, "m.db", broken, 1, &e), TR_OK);
  assert_int_equal(tr_store_migrate(db, "m.db", broken, 2, &e), TR_OK);
  assert_int_equal(tr_store_migrate(db, "m.db", broken, 2, &e), TR_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(st, 0), 2);
  sqlite3_finalize(st);
  /* a file from a newer tightrope is refused, not downgraded */
  assert_int_equal(tr_store_migrate(db, "m.db", broken, 1, &e), TR_ERR_DB);
  assert_string_equal(tr_error_text(&e),
                      "m.db: schema version 2 is newer than this tightrope understands (1); "
                      "upgrade tightrope");
  sqlite3_close(db);
}

static void test_corrupt_and_locked(void **state) {
  fx *f = *state;
  char path[256];
  write_file(f, "tightrope.db", "this is not a database, it is a shopping list\n", path,
             sizeof path);
  tr_store *s = NULL;
  tr_error e;
  assert_int_equal(tr_store_open(&s, path, &e), TR_ERR_DB);
  assert_null(s);
  assert_non_null(strstr(e.msg, "file is not a database"));
  assert_non_null(strstr(e.msg, "not a tightrope store"));
  unlink(path);

  /* another connection holds the write lock: the import waits, then fails cleanly */
  open_store(f);
  tr_store *other = NULL;
  assert_int_equal(tr_store_open(&other, f->db, &e), TR_OK);
  assert_int_equal(sqlite3_exec(other->db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  tr_store_set_busy_timeout(f->s, 50);
  tr_import_report rep;
  int rc = import(f, "a.csv", "date,kpi,value\n2024-01,mrr,1\n", TR_KPI_LONG, 0, NULL, &rep, NULL);
  assert_int_equal(rc, TR_ERR_DB);
  assert_non_null(strstr(f->err.msg, "database is locked"));
  assert_non_null(strstr(f->err.msg, "another process is writing"));
  /* readers are not blocked by the writer (WAL) */
  assert_int_equal(tr_store_schema_version(f->s), 1);
  sqlite3_exec(other->db, "ROLLBACK", NULL, NULL, NULL);
  tr_store_close(other);
  rc = import(f, "a.csv", "date,kpi,value\n2024-01,mrr,1\n", TR_KPI_LONG, 0, NULL, &rep, NULL);
  assert_int_equal(rc, TR_OK);
  assert_int_equal(rep.inserted, 1);
}

/* ---- import ------------------------------------------------------------------------------ */

static void test_import_long(void **state) {
  fx *f = *state;
  tr_import_report rep;
  const char *csv = "date,kpi,value,source\n"
                    "2024-01,mrr,12000.5,crm\n"
                    "2024-02,mrr,-3e2,\n"
                    "2024-01, churn ,0.031,\"billing, export\"\n";
  assert_int_equal(import(f, "long.csv", csv, TR_KPI_LONG, 0, NULL, &rep, NULL), TR_OK);
  assert_int_equal(rep.rows_read, 3);
  assert_int_equal(rep.rows_valid, 3);
  assert_int_equal(rep.rows_rejected, 0);
  assert_int_equal(rep.inserted, 3);
  assert_int_equal(rep.import_id, 1);
  assert_int_equal(strlen(rep.sha256), 64);
  assert_dump(f, "churn 2024-01 0.031 billing, export 1;mrr 2024-01 12000.5 crm 1;"
                 "mrr 2024-02 -300 - 1;");
  /* the import log */
  char b[256];
  assert_string_equal(pragma_text(f,
                                  "SELECT format || ' ' || rows_read || ' ' || rows_imported || "
                                  "' ' || rows_rejected || ' ' || length(sha256) FROM imports",
                                  b, sizeof b),
                      "long 3 3 0 64");
  /* since, and one KPI */
  char *got = dump(f, "mrr", "2024-02");
  assert_string_equal(got, "mrr 2024-02 -300 - 1;");
  tr_free(got);
  assert_int_equal(tr_store_observations(f->s, NULL, "2024-2", obs_line, NULL, &f->err),
                   TR_ERR_INVALID);
}

static void test_import_wide(void **state) {
  fx *f = *state;
  tr_import_report rep;
  const char *csv = "\xEF\xBB\xBF"
                    "Date,mrr,churn,nps\r\n"
                    "2024-01-31,100,0.02,\r\n"
                    "2024-02-29,,0.03,41\r\n"
                    "\r\n";
  assert_int_equal(import(f, "wide.csv", csv, TR_KPI_WIDE, 0, NULL, &rep, NULL), TR_OK);
  assert_int_equal(rep.rows_read, 2);
  assert_int_equal(rep.rows_valid, 2);
  assert_int_equal(rep.inserted, 4); /* blank cells are no observation */
  assert_dump(f, "churn 2024-01-31 0.02 - 1;churn 2024-02-29 0.029999999999999999 - 1;"
                 "mrr 2024-01-31 100 - 1;nps 2024-02-29 41 - 1;");
  char b[64];
  assert_string_equal(pragma_text(f, "SELECT format FROM imports", b, sizeof b), "wide");
  /* a Vensim .tab file is tab-separated; a comma there is part of the field */
  const char *tab = "Time\tmrr\tarr\n2024-03-31\t7\t1,5\n2024-04-30\t8\t2\n";
  tr_sb out;
  assert_int_equal(import(f, "vensim.tab", tab, TR_KPI_WIDE, 0, NULL, &rep, &out),
                   TR_ERR_INVALID); /* "Time" is not a date column */
  tr_sb_free(&out);
  tab = "date\tmrr\tarr\n2024-03-31\t7\t1,5\n2024-04-30\t8\t2\n";
  assert_int_equal(import(f, "vensim.tab", tab, TR_KPI_WIDE, 0, NULL, &rep, &out), TR_OK);
  assert_string_equal(tr_sb_str(&out), "vensim.tab:2:14: value '1,5' has a comma; write 1234.5 "
                                       "(no thousands separator or decimal comma)\n");
  tr_sb_free(&out);
  assert_int_equal(rep.inserted, 2);
  char *got = dump(f, NULL, "2024-04");
  assert_string_equal(got, "arr 2024-04-30 2 - 2;mrr 2024-04-30 8 - 2;");
  tr_free(got);
}

static void test_validation_messages(void **state) {
  fx *f = *state;
  tr_import_report rep;
  tr_sb out;
  const char *csv = "date,kpi,value\n"
                    "2024-01,mrr,100\n"         /* 2 ok */
                    "2024-13,mrr,1\n"           /* 3 bad month */
                    "2023-02-29,mrr,1\n"        /* 4 no such day (and mixed form) */
                    "01/05/2024,mrr,1\n"        /* 5 ambiguous date */
                    "2024-02,churn,12%\n"       /* 6 percent */
                    "2024-02,mrr,\"1,234.5\"\n" /* 7 thousands separator */
                    "2024-02,arr,abc\n"         /* 8 not a number */
                    "2024-02,nps,\n"            /* 9 empty value */
                    "2024-01,mrr,100\n"         /* 10 duplicate of line 2 */
                    "2024-03,revnue,5\n"        /* 11 unknown KPI */
                    "2024-03,mrr\n"             /* 12 ragged */
                    "2024-03,mrr,1e999\n"       /* 13 out of range */
                    "2024-03-01,mrr,1\n"        /* 14 mixed date forms */
                    "2024-04,mrr,7,x\n"         /* 15 ragged, too many */
                    "2024-04,m\"rr,1\n"         /* 16 stray quote */
                    "2024-05,churn,0.5\n";      /* 17 ok */
  const char *known[] = {"mrr", "churn", "arr", "nps", "revenue", NULL};
  assert_int_equal(import(f, "v.csv", csv, TR_KPI_LONG, 0, known, &rep, &out), TR_OK);
  assert_string_equal(
      tr_sb_str(&out),
      "v.csv:3:1: bad date '2024-13': month out of range (01 to 12)\n"
      "v.csv:4:1: bad date '2023-02-29': no such day in that month\n"
      "v.csv:5:1: bad date '01/05/2024': expected YYYY-MM-DD or YYYY-MM (a date like 01/05/2024 "
      "is ambiguous)\n"
      "v.csv:6:15: value '12%' has a percent sign; write the number (12 or 0.12)\n"
      "v.csv:7:13: value '1,234.5' has a comma; write 1234.5 (no thousands separator or decimal "
      "comma)\n"
      "v.csv:8:13: value 'abc' is not a number\n"
      "v.csv:9:13: empty value\n"
      "v.csv:10:1: duplicate: KPI 'mrr' for 2024-01 is already on line 2\n"
      "v.csv:11:9: unknown KPI 'revnue' (did you mean 'revenue'?)\n"
      "v.csv:12: ragged row: line 12 has 2 fields, expected 3 as in the first row\n"
      "v.csv:13:13: value '1e999' is out of range\n"
      "v.csv:14:1: date '2024-03-01' is YYYY-MM-DD but this file uses YYYY-MM (line 2)\n"
      "v.csv:15:15: ragged row: line 15 has 4 fields, expected 3 as in the first row\n"
      "v.csv:16:10: quote inside unquoted field 2 (quote the whole field and double the quote)\n");
  assert_int_equal(rep.rows_read, 16);
  assert_int_equal(rep.rows_valid, 2);
  assert_int_equal(rep.rows_rejected, 14);
  assert_int_equal(rep.inserted, 2);
  assert_dump(f, "churn 2024-05 0.5 - 1;mrr 2024-01 100 - 1;");
  tr_sb_free(&out);

  /* wide: an unknown or repeated column is reported at the header and ignored */
  tr_store_close(f->s);
  f->s = NULL;
  unlink(f->db);
  const char *wide = "period,mrr,mrrr,mrr\n2024-01,1,2,3\n2024-01,4,5,6\n2024-02,x,,\n";
  assert_int_equal(import(f, "w.csv", wide, TR_KPI_WIDE, 0, known, &rep, &out), TR_OK);
  assert_string_equal(tr_sb_str(&out),
                      "w.csv:1:12: unknown KPI 'mrrr' (did you mean 'mrr'?)\n"
                      "w.csv:1:17: KPI column 'mrr' appears twice; this one is ignored\n"
                      "w.csv:3:1: duplicate: date 2024-01 is already on line 2\n"
                      "w.csv:4:9: value 'x' is not a number\n");
  assert_int_equal(rep.columns_ignored, 2);
  assert_int_equal(rep.rows_rejected, 2);
  assert_dump(f, "mrr 2024-01 1 - 1;");
  tr_sb_free(&out);
}

/* Duplicates are found whether the file is sorted (the run), unsorted (the table) or both:
 * a sorted start, then out-of-order rows repeating keys of the run and of the table. */
static void test_duplicates_sorted_and_not(void **state) {
  fx *f = *state;
  tr_import_report rep;
  tr_sb out;
  const char *csv = "date,kpi,value\n"
                    "2024-01,a,1\n"  /* 2: the sorted run starts */
                    "2024-02,a,2\n"  /* 3 */
                    "2024-01,b,3\n"  /* 4 */
                    "2024-02,a,9\n"  /* 5: out of order; repeats line 3 (run) */
                    "2024-01,c,4\n"  /* 6: new, into the table */
                    "2024-01,c,9\n"  /* 7: repeats line 6 (table) */
                    "2024-01,0,5\n"  /* 8: new, sorts before the run */
                    "2024-01,b,9\n"  /* 9: repeats line 4 (run's end) */
                    "2024-01,a,9\n"  /* 10: repeats line 2 (run's start) */
                    "2024-01,0,9\n"  /* 11: repeats line 8 */
                    "2024-03,a,6\n"; /* 12: new */
  assert_int_equal(import(f, "d.csv", csv, TR_KPI_LONG, 0, NULL, &rep, &out), TR_OK);
  assert_string_equal(tr_sb_str(&out),
                      "d.csv:5:1: duplicate: KPI 'a' for 2024-02 is already on line 3\n"
                      "d.csv:7:1: duplicate: KPI 'c' for 2024-01 is already on line 6\n"
                      "d.csv:9:1: duplicate: KPI 'b' for 2024-01 is already on line 4\n"
                      "d.csv:10:1: duplicate: KPI 'a' for 2024-01 is already on line 2\n"
                      "d.csv:11:1: duplicate: KPI '0' for 2024-01 is already on line 8\n");
  tr_sb_free(&out);
  assert_int_equal(rep.inserted, 6);
  assert_dump(f, "0 2024-01 5 - 1;a 2024-01 1 - 1;a 2024-02 2 - 1;a 2024-03 6 - 1;"
                 "b 2024-01 3 - 1;c 2024-01 4 - 1;");
  /* a long sorted file and a long unsorted one: every key new, then every key repeated */
  tr_sb big = TR_SB_INIT;
  tr_sb_append(&big, "date,kpi,value\n");
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < 3000; i++) {
      int k = pass == 0 ? i : (i * 7919) % 3000; /* a permutation the second time */
      tr_sb_printf(&big, "2024-%02d,k%05d,%d\n", k % 12 + 1, k, i);
    }
  assert_true(tr_sb_ok(&big));
  assert_int_equal(import(f, "big.csv", tr_sb_str(&big), TR_KPI_LONG, 0, NULL, &rep, NULL), TR_OK);
  tr_sb_free(&big);
  assert_int_equal(rep.inserted, 3000);
  assert_int_equal(rep.rows_rejected, 3000);
  /* shuffled from the start: every row is written at the end, sorted, with the same result
   * as a sorted file (values and sources included) */
  tr_store_close(f->s);
  f->s = NULL;
  unlink(f->db);
  big = (tr_sb)TR_SB_INIT;
  tr_sb_append(&big, "date,kpi,value,source\n");
  for (int i = 0; i < 3000; i++) {
    int k = (i * 7919 + 5) % 3000;
    tr_sb_printf(&big, "2024-%02d,k%05d,%d.5,%s\n", k % 12 + 1, k, k, k % 3 ? "src" : "");
  }
  tr_sb_printf(&big, "2024-01,k00000,1,x\n"); /* k00000 is 2024-01: a duplicate, deferred */
  assert_int_equal(import(f, "shuf.csv", tr_sb_str(&big), TR_KPI_LONG, 0, NULL, &rep, &out), TR_OK);
  tr_sb_free(&big);
  assert_string_equal(tr_sb_str(&out),
                      "shuf.csv:3002:1: duplicate: KPI 'k00000' for 2024-01 is already on line "
                      "607\n");
  tr_sb_free(&out);
  assert_int_equal(rep.inserted, 3000);
  char *all = dump(f, "k02999", NULL);
  assert_string_equal(all, "k02999 2024-12 2999.5 src 1;");
  tr_free(all);
  all = dump(f, "k00003", NULL);
  assert_string_equal(all, "k00003 2024-04 3.5 - 1;");
  tr_free(all);
  /* a second, sorted import of other values updates every row once, through the history */
  big = (tr_sb)TR_SB_INIT;
  tr_sb_append(&big, "date,kpi,value,source\n");
  for (int k = 2999; k >= 0; k--) /* descending: unsorted after the first row */
    tr_sb_printf(&big, "2024-%02d,k%05d,%d,%s\n", k % 12 + 1, k, -k, k % 3 ? "src" : "");
  assert_int_equal(import(f, "desc.csv", tr_sb_str(&big), TR_KPI_LONG, 0, NULL, &rep, NULL), TR_OK);
  tr_sb_free(&big);
  assert_int_equal(rep.updated, 3000);
  assert_int_equal(count_rows(f, "observation_history"), 3000);
  all = dump(f, "k02999", NULL);
  assert_string_equal(all, "k02999 2024-12 -2999 src 2;");
  tr_free(all);
}

/* NUL bytes (binary junk) in any field are reported, never silently truncated. */
static void test_nul_bytes(void **state) {
  fx *f = *state;
  char path[256];
  snprintf(path, sizeof path, "%s/nul.csv", f->dir);
  static const char data[] = "date,kpi,value,source\n"
                             "2024-01\0x,mrr,1,s\n"
                             "2024-01,m\0rr,1,s\n"
                             "2024-01,mrr,1\0\x39,s\n"
                             "2024-01,mrr,1,s\0s\n"
                             "2024-02,mrr,2,s\n";
  FILE *o = fopen(path, "wb");
  assert_non_null(o);
  assert_int_equal(fwrite(data, 1, sizeof data - 1, o), sizeof data - 1);
  fclose(o);
  open_store(f);
  problems p = {TR_SB_INIT, f->dir};
  tr_import_report rep = {0};
  rep.on_problem = collect;
  rep.ud = &p;
  assert_int_equal(tr_store_import_csv(f->s, path, TR_KPI_LONG, 0, NULL, &rep, &f->err), TR_OK);
  assert_string_equal(tr_sb_str(&p.text),
                      "nul.csv:2:1: bad date '2024-01': it contains a NUL byte\n"
                      "nul.csv:3:9: KPI name 'm...' contains a NUL byte\n"
                      "nul.csv:4:13: value contains a NUL byte\n"
                      "nul.csv:5:15: source contains a NUL byte\n");
  tr_sb_free(&p.text);
  assert_int_equal(rep.rows_rejected, 4);
  assert_dump(f, "mrr 2024-02 2 s 1;");
}

static void test_file_level_errors(void **state) {
  fx *f = *state;
  tr_import_report rep;
  struct {
    const char *csv;
    tr_kpi_format fmt;
    int rc;
    const char *msg;
  } cases[] = {
      {"", TR_KPI_LONG, TR_ERR_INVALID, "empty file"},
      {"\n\n", TR_KPI_LONG, TR_ERR_INVALID, "empty file"},
      {"when,what,how much\n2024-01,a,1\n", TR_KPI_LONG, TR_ERR_INVALID, "expected the header"},
      {"date,mrr,churn\n2024-01,1,2\n", TR_KPI_LONG, TR_ERR_INVALID, "use the wide format"},
      {"date,kpi,value\n2024-01,a,1\n", TR_KPI_WIDE, TR_ERR_INVALID, "use the long format"},
      {"mrr,date\n1,2024-01\n", TR_KPI_WIDE, TR_ERR_INVALID, "expected the header"},
      /* an unterminated quote: the file cannot be read on; nothing of it is kept */
      {"date,kpi,value\n2024-01,a,1\n2024-02,\"b,2\n", TR_KPI_LONG, TR_ERR_PARSE, "unterminated"},
  };
  char path[256];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = import(f, "bad.csv", cases[i].csv, cases[i].fmt, 0, NULL, &rep, NULL);
    assert_int_equal(rc, cases[i].rc);
    if (!strstr(f->err.msg, cases[i].msg)) fail_msg("case %zu: '%s'", i, f->err.msg);
    assert_int_equal(count_rows(f, "observations"), 0);
    assert_int_equal(count_rows(f, "imports"), 0);
  }
  /* a header alone is a valid, empty import */
  assert_int_equal(import(f, "h.csv", "date,kpi,value\r\n", TR_KPI_LONG, 0, NULL, &rep, NULL),
                   TR_OK);
  assert_int_equal(rep.rows_read, 0);
  assert_int_equal(rep.import_id, 0);
  /* a file that cannot be read */
  snprintf(path, sizeof path, "%s/nope.csv", f->dir);
  assert_int_equal(tr_store_import_csv(f->s, path, TR_KPI_LONG, 0, NULL, NULL, &f->err), TR_ERR_IO);
  assert_non_null(strstr(tr_error_text(&f->err), "nope.csv: cannot read: No such file"));
}

static void test_strict_and_dry_run(void **state) {
  fx *f = *state;
  tr_import_report rep;
  const char *csv = "date,kpi,value\n2024-01,mrr,1\n2024-02,mrr,x\n2024-03,mrr,3\n";
  assert_int_equal(import(f, "s.csv", csv, TR_KPI_LONG, TR_IMPORT_STRICT, NULL, &rep, NULL),
                   TR_ERR_INVALID);
  assert_string_equal(f->err.msg,
                      "1 bad row: the whole file is rejected (strict); nothing imported");
  assert_int_equal(rep.rows_rejected, 1);
  assert_int_equal(rep.import_id, 0);
  assert_int_equal(count_rows(f, "observations"), 0);
  assert_int_equal(count_rows(f, "imports"), 0);

  /* dry run: the counts of a real import, nothing written */
  assert_int_equal(import(f, "s.csv", csv, TR_KPI_LONG, TR_IMPORT_DRY_RUN, NULL, &rep, NULL),
                   TR_OK);
  assert_int_equal(rep.rows_valid, 2);
  assert_int_equal(rep.rows_rejected, 1);
  assert_int_equal(rep.inserted, 2);
  assert_int_equal(rep.import_id, 0);
  assert_int_equal(count_rows(f, "observations"), 0);
  assert_int_equal(count_rows(f, "imports"), 0);

  /* strict on a clean file imports it */
  const char *good = "date,kpi,value\n2024-01,mrr,1\n2024-03,mrr,3\n";
  assert_int_equal(import(f, "g.csv", good, TR_KPI_LONG, TR_IMPORT_STRICT, NULL, &rep, NULL),
                   TR_OK);
  assert_int_equal(rep.inserted, 2);
  /* a dry run against existing data tells updates from unchanged rows */
  const char *changed = "date,kpi,value\n2024-01,mrr,1\n2024-03,mrr,4\n2024-04,mrr,5\n";
  assert_int_equal(import(f, "c.csv", changed, TR_KPI_LONG, TR_IMPORT_DRY_RUN, NULL, &rep, NULL),
                   TR_OK);
  assert_int_equal(rep.inserted, 1);
  assert_int_equal(rep.updated, 1);
  assert_int_equal(rep.unchanged, 1);
  assert_dump(f, "mrr 2024-01 1 - 1;mrr 2024-03 3 - 1;");
  assert_int_equal(count_rows(f, "observation_history"), 0);
}

static int hist_line(void *ud, const tr_kpi_old_value *h) {
  tr_sb_printf(ud, "%s %s %.17g %s %ld->%ld;", h->kpi, h->period, h->value,
               h->source ? h->source : "-", h->import_id, h->replaced_by);
  return 0;
}

static int import_line(void *ud, const tr_import_entry *e) {
  tr_sb_printf(ud, "%ld %s %ld/%ld/%ld;", e->id, e->format, e->rows_read, e->rows_imported,
               e->rows_rejected);
  return 0;
}

static void test_idempotent_and_history(void **state) {
  fx *f = *state;
  tr_import_report rep;
  const char *v1 = "date,kpi,value,source\n2024-01,mrr,100,crm\n2024-02,mrr,110,crm\n";
  assert_int_equal(import(f, "v1.csv", v1, TR_KPI_LONG, 0, NULL, &rep, NULL), TR_OK);
  assert_int_equal(rep.inserted, 2);
  char sha1[65];
  memcpy(sha1, rep.sha256, sizeof sha1);
  /* the same file again adds nothing, not even a log entry */
  assert_int_equal(import(f, "v1.csv", v1, TR_KPI_LONG, 0, NULL, &rep, NULL), TR_OK);
  assert_int_equal(rep.inserted + rep.updated, 0);
  assert_int_equal(rep.unchanged, 2);
  assert_int_equal(rep.import_id, 0);
  assert_int_equal(rep.previous_import_id, 1);
  assert_string_equal(rep.sha256, sha1);
  assert_int_equal(count_rows(f, "imports"), 1);
  assert_int_equal(count_rows(f, "observations"), 2);
  /* a corrected value is an update; the old value goes to the history */
  const char *v2 = "date,kpi,value,source\n2024-02,mrr,111,crm\n2024-03,mrr,120,crm\n";
  assert_int_equal(import(f, "v2.csv", v2, TR_KPI_LONG, 0, NULL, &rep, NULL), TR_OK);
  assert_int_equal(rep.inserted, 1);
  assert_int_equal(rep.updated, 1);
  assert_int_equal(rep.import_id, 2);
  assert_int_equal(rep.previous_import_id, 0);
  assert_dump(f, "mrr 2024-01 100 crm 1;mrr 2024-02 111 crm 2;mrr 2024-03 120 crm 2;");
  /* a changed source alone is an update too */
  const char *v3 = "date,kpi,value,source\n2024-02,mrr,111,audit\n";
  assert_int_equal(import(f, "v3.csv", v3, TR_KPI_LONG, 0, NULL, &rep, NULL), TR_OK);
  assert_int_equal(rep.updated, 1);
  tr_sb sb = TR_SB_INIT;
  assert_int_equal(tr_store_history(f->s, "mrr", hist_line, &sb, &f->err), TR_OK);
  assert_string_equal(tr_sb_str(&sb), "mrr 2024-02 110 crm 1->2;mrr 2024-02 111 crm 2->3;");
  tr_sb_reset(&sb);
  assert_int_equal(tr_store_imports(f->s, import_line, &sb, &f->err), TR_OK);
  assert_string_equal(tr_sb_str(&sb), "1 long 2/2/0;2 long 2/2/0;3 long 1/1/0;");
  tr_sb_free(&sb);
  /* re-importing the first file restores its values (history grows again) */
  assert_int_equal(import(f, "v1.csv", v1, TR_KPI_LONG, 0, NULL, &rep, NULL), TR_OK);
  assert_int_equal(rep.updated, 1);
  assert_int_equal(rep.previous_import_id, 1);
  assert_int_equal(count_rows(f, "observation_history"), 3);
}

static int summary_line(void *ud, const tr_kpi_summary *k) {
  tr_sb_printf(ud, "%s %ld %s %s %g;", k->kpi, k->count, k->first_period, k->last_period,
               k->last_value);
  return 0;
}

static int stop_at_first(void *ud, const tr_kpi_obs *o) {
  (void)o;
  (*(int *)ud)++;
  return 42;
}

static void test_list_and_export_round_trip(void **state) {
  fx *f = *state;
  tr_import_report rep;
  const char *csv = "date,kpi,value,source\n"
                    "2024-02,mrr,110,crm\n"
                    "2024-01,mrr,100,crm\n"
                    "2024-01,\"odd, \"\"name\"\"\",0.1,\n"
                    "2024-03,mrr,0.30000000000000004,\" padded \"\n";
  assert_int_equal(import(f, "a.csv", csv, TR_KPI_LONG, 0, NULL, &rep, NULL), TR_OK);
  tr_sb sb = TR_SB_INIT;
  assert_int_equal(tr_store_list_kpis(f->s, summary_line, &sb, &f->err), TR_OK);
  assert_string_equal(tr_sb_str(&sb),
                      "mrr 3 2024-01 2024-03 0.3;odd, \"name\" 1 2024-01 2024-01 0.1;");
  tr_sb_free(&sb);
  int calls = 0;
  assert_int_equal(tr_store_observations(f->s, NULL, NULL, stop_at_first, &calls, &f->err), 42);
  assert_int_equal(calls, 1);

  char path[256];
  snprintf(path, sizeof path, "%s/export.csv", f->dir);
  FILE *o = fopen(path, "w");
  assert_non_null(o);
  assert_int_equal(tr_store_export_csv(f->s, o, &f->err), TR_OK);
  fclose(o);
  char *before = dump(f, NULL, NULL);
  /* into a fresh store: the same observations, bit for bit */
  tr_store_close(f->s);
  f->s = NULL;
  unlink(f->db);
  open_store(f);
  assert_int_equal(
      tr_store_import_csv(f->s, path, TR_KPI_LONG, TR_IMPORT_STRICT, NULL, &rep, &f->err), TR_OK);
  char *after = dump(f, NULL, NULL);
  assert_string_equal(before, after);
  tr_free(before);
  tr_free(after);
}

/* ---- shuffled files -------------------------------------------------------------------- */

/* Row r of a KPI file in (KPI, period) order: 40 KPIs of 25 months for r < 1000, then new
 * KPIs. Generation 1 changes the value of every 4th row and the source of every 7th. */
static void sorted_row(tr_sb *sb, int r, int gen) {
  int m = r % 25;
  const char *src = r % 3 == 0 ? "" : "crm";
  double v = r * 0.5;
  if (gen == 1 && r % 4 == 0) v += 1;
  if (gen == 1 && r % 7 == 0) src = "erp";
  tr_sb_printf(sb, "%04d-%02d,k%02d,%.17g,%s\n", 2020 + m / 12, m % 12 + 1, r / 25, v, src);
}

/* The rows 0 .. n-1 sorted, or shuffled (row i of the file is row (i * 7919 + 13) mod n, a
 * permutation as 7919 is a prime that divides neither 1000 nor 1050); generation 1 then
 * repeats every 100th row with another value (duplicates, rejected). */
static char *kpi_file(int n, int gen, int shuffled) {
  tr_sb sb = TR_SB_INIT;
  tr_sb_append(&sb, "date,kpi,value,source\n");
  for (int i = 0; i < n; i++)
    sorted_row(&sb, shuffled ? (int)(((long)i * 7919 + 13) % n) : i, gen);
  for (int r = 0; gen == 1 && r < n; r += 100) {
    int m = r % 25;
    tr_sb_printf(&sb, "%04d-%02d,k%02d,-1,dup\n", 2020 + m / 12, m % 12 + 1, r / 25);
  }
  assert_true(tr_sb_ok(&sb));
  return tr_sb_take(&sb);
}

/* Everything an import leaves in the store, history in key order (the order in which the
 * rows were written may differ), and the export. */
static char *store_state(fx *f) {
  tr_sb sb = TR_SB_INIT;
  char *obs = dump(f, NULL, NULL);
  tr_sb_append(&sb, obs);
  tr_free(obs);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(f->s->db,
                                      "SELECT kpi, period, value, ifnull(source, '-'), import_id, "
                                      "replaced_by FROM observation_history ORDER BY kpi, period",
                                      -1, &st, NULL),
                   SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW)
    tr_sb_printf(&sb, "\n%s %s %.17g %s %lld->%lld", sqlite3_column_text(st, 0),
                 sqlite3_column_text(st, 1), sqlite3_column_double(st, 2),
                 sqlite3_column_text(st, 3), sqlite3_column_int64(st, 4),
                 sqlite3_column_int64(st, 5));
  sqlite3_finalize(st);
  char path[256];
  snprintf(path, sizeof path, "%s/state.csv", f->dir);
  FILE *o = fopen(path, "w+");
  assert_non_null(o);
  assert_int_equal(tr_store_export_csv(f->s, o, &f->err), TR_OK);
  rewind(o);
  char buf[4096];
  size_t got;
  tr_sb_append(&sb, "\n");
  while ((got = fread(buf, 1, sizeof buf - 1, o)) > 0) {
    buf[got] = '\0';
    tr_sb_append(&sb, buf);
  }
  fclose(o);
  assert_true(tr_sb_ok(&sb));
  return tr_sb_take(&sb);
}

/* A shuffled file gives the store a sorted one gives (observations, import ids, history,
 * export), with the same counts, through both the many-row INSERT and the row-by-row tail
 * (1000 and 1050 rows are not multiples of the batch), for a fresh import and for an update
 * that mixes new, changed, unchanged and duplicate rows. */
static void test_shuffled_like_sorted(void **state) {
  fx *f = *state;
  char *got[2];
  for (int shuffled = 0; shuffled < 2; shuffled++) {
    tr_import_report rep;
    tr_sb out;
    char *v1 = kpi_file(1000, 0, shuffled), *v2 = kpi_file(1050, 1, shuffled);
    assert_int_equal(import(f, "v1.csv", v1, TR_KPI_LONG, 0, NULL, &rep, NULL), TR_OK);
    assert_int_equal(rep.inserted, 1000);
    assert_int_equal(rep.rows_rejected, 0);
    assert_int_equal(import(f, "v2.csv", v2, TR_KPI_LONG, 0, NULL, &rep, &out), TR_OK);
    /* changed: r % 4 == 0 (250 rows) or r % 7 == 0 (143), both for 36 */
    assert_int_equal(rep.inserted, 50);
    assert_int_equal(rep.updated, 250 + 143 - 36);
    assert_int_equal(rep.unchanged, 1000 - (250 + 143 - 36));
    assert_int_equal(rep.rows_rejected, 11);
    /* the first duplicate names the line of row 0 in this file */
    int line0 = 2;
    while (shuffled && ((long)(line0 - 2) * 7919 + 13) % 1050 != 0)
      line0++;
    char want[160];
    snprintf(want, sizeof want,
             "v2.csv:1052:1: duplicate: KPI 'k00' for 2020-01 is already on line %d\n", line0);
    assert_int_equal(strncmp(tr_sb_str(&out), want, strlen(want)), 0);
    tr_sb_free(&out);
    tr_free(v1);
    tr_free(v2);
    assert_int_equal(count_rows(f, "observation_history"), 250 + 143 - 36);
    got[shuffled] = store_state(f);
    tr_store_close(f->s);
    f->s = NULL;
    unlink(f->db);
  }
  assert_string_equal(got[0], got[1]);
  /* and the values are the right ones: row 0 changed value and source in import 2 */
  assert_non_null(strstr(got[0], "k00 2020-01 1 erp 2;k00 2020-02 0.5 crm 1;"));
  assert_non_null(strstr(got[0], "\nk00 2020-01 0 - 1->2\n"));
  assert_non_null(strstr(got[0], "\n2020-01,k00,1,erp\n"));
  tr_free(got[0]);
  tr_free(got[1]);
}

/* Import `path` with our n-th allocation failing, and every later one, for n = 1, 2, ...
 * (SQLite's own memory is not injected): each failure must be TR_ERR_NOMEM with the store
 * untouched, until the import has enough and succeeds, within `tries`. The report of the
 * success; *failures: how many failed before it. */
static tr_import_report import_until_ok(fx *f, const char *path, const char *const *known,
                                        long tries, long *failures) {
  *failures = 0;
  for (long n = 1; n < tries; n++) {
    tr_import_report rep = {0};
    tr_alloc_fail_after(n, 1);
    int rc = tr_store_import_csv(f->s, path, TR_KPI_LONG, 0, known, &rep, &f->err);
    tr_alloc_fail_after(0, 0);
    if (rc == TR_OK) return rep;
    assert_int_equal(rc, TR_ERR_NOMEM);
    assert_int_equal(count_rows(f, "observations"), 0);
    assert_int_equal(count_rows(f, "imports"), 0);
    ++*failures;
  }
  fail_msg("the import did not succeed within %ld allocations", tries);
  return (tr_import_report){0};
}

/* Every allocation of ours fails in turn: the import reports TR_ERR_NOMEM and leaves the
 * store untouched, until it has enough and succeeds. */
static void test_alloc_failure(void **state) {
  fx *f = *state;
  char path[256];
  write_file(f, "m.csv",
             "date,kpi,value\n2024-01,mrr,1\n2024-02,mrr,2\n2024-02,churn,0.1\n2024-03,x,bad\n",
             path, sizeof path);
  open_store(f);
  const char *known[] = {"mrr", "churn", "x", NULL};
  long failures;
  tr_import_report rep = import_until_ok(f, path, known, 200, &failures);
  assert_int_equal(rep.inserted, 3);
  tr_store_close(f->s);
  f->s = NULL;
  /* opening fails cleanly too */
  for (long n = 1; n <= 2; n++) {
    tr_store *s = NULL;
    tr_alloc_fail_after(n, 1);
    assert_int_equal(tr_store_open(&s, f->db, &f->err), TR_ERR_NOMEM);
    tr_alloc_fail_after(0, 0);
    assert_null(s);
  }
}

/* The same for a shuffled file with duplicates: the key table, the deferred rows, their
 * sort and the write queue all fail cleanly. */
static void test_alloc_failure_shuffled(void **state) {
  fx *f = *state;
  char path[256];
  char *text = kpi_file(1050, 1, 1);
  write_file(f, "s.csv", text, path, sizeof path);
  tr_free(text);
  open_store(f);
  long failures;
  tr_import_report rep = import_until_ok(f, path, NULL, 1000, &failures);
  assert_int_equal(rep.inserted, 1050);
  assert_int_equal(rep.rows_rejected, 11);
  assert_true(failures > 10); /* every stage had its turn */
}

/* ---- validators ------------------------------------------------------------------------- */

static void test_periods(void **state) {
  (void)state;
  int kind = 0;
  assert_null(tr_store_check_period("2024-02-29", &kind));
  assert_int_equal(kind, TR_PERIOD_DAY);
  assert_null(tr_store_check_period("2000-02-29", &kind));
  assert_null(tr_store_check_period("2024-12", &kind));
  assert_int_equal(kind, TR_PERIOD_MONTH);
  const char *bad[] = {"2023-02-29", "1900-02-29", "2024-04-31", "2024-00",  "2024-1",
                       "24-01-01",   "2024-01-1",  "2024/01/01", "0999-01",  "2024-01-01T00",
                       "abcd-ef",    "",           "2024-01-00", "20240101", "2024.01"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (!tr_store_check_period(bad[i], &kind)) fail_msg("'%s' accepted", bad[i]);
}

static void test_values(void **state) {
  (void)state;
  char msg[160];
  double v = 0;
  assert_null(tr_store_parse_value("12", &v, msg, sizeof msg));
  assert_true(v == 12.0);
  assert_null(tr_store_parse_value("-0.5e3", &v, msg, sizeof msg));
  assert_true(v == -500.0);
  assert_null(tr_store_parse_value("+.25", &v, msg, sizeof msg));
  assert_true(v == 0.25);
  const char *bad[] = {"",   "1,234.5", "12%",   "nan", "inf",   "0x10",
                       "1e", "--1",     "1.2.3", "€5",  "1e400", "1 000"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (!tr_store_parse_value(bad[i], &v, msg, sizeof msg)) fail_msg("'%s' accepted", bad[i]);
}

/* Values are exactly what strtod gives, bit for bit, whatever path the parser takes: short
 * and long mantissas, leading zeros, points anywhere, exponents small and large, signs. */
static void test_values_like_strtod(void **state) {
  (void)state;
  static const char *const fixed[] = {"0",
                                      "-0",
                                      "+0.0",
                                      "0.1",
                                      "6440.9",
                                      "1e22",
                                      "1e23",
                                      "1e-22",
                                      "1e-23",
                                      "9007199254740993",
                                      "9007199254740992",
                                      "0.30000000000000004",
                                      "123456789012345678",
                                      "1234567890123456789",
                                      "12345678901234567890",
                                      "5e-324",
                                      "1.7976931348623157e308",
                                      "00000000000000000000001.5",
                                      "1.",
                                      ".5",
                                      "-.5e+2",
                                      "2.2250738585072014e-308"};
  char msg[160], text[64];
  uint64_t x = 88172645463325252ull; /* xorshift64 */
  for (int i = 0; i < 200000; i++) {
    if (i < (int)(sizeof fixed / sizeof fixed[0])) {
      snprintf(text, sizeof text, "%s", fixed[i]);
    } else {
      size_t n = 0;
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      if (x % 4 == 0) text[n++] = x % 8 == 0 ? '-' : '+';
      int len = (int)((x >> 8) % 24) + 1, point = (int)((x >> 16) % (uint64_t)(len + 2));
      for (int d = 0; d < len; d++) {
        if (d == point) text[n++] = '.';
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        text[n++] = (char)('0' + (d < 3 && x % 3 == 0 ? 0 : (int)(x % 10)));
      }
      if ((x >> 20) % 3 == 0)
        n += (size_t)snprintf(text + n, sizeof text - n, "e%d", (int)((x >> 24) % 61) - 30);
      text[n] = '\0';
    }
    double got = -1, want = strtod(text, NULL);
    const char *why = tr_store_parse_value(text, &got, msg, sizeof msg);
    if (why) fail_msg("'%s' rejected: %s", text, why);
    if (memcmp(&got, &want, sizeof got) != 0)
      fail_msg("'%s': %.17g, strtod gives %.17g", text, got, want);
  }
}

static void test_sha256(void **state) {
  (void)state;
  tr_sha256 s;
  char hex[65];
  tr_sha256_init(&s);
  tr_sha256_hex(&s, hex);
  assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  tr_sha256_init(&s);
  tr_sha256_update(&s, "abc", 3);
  tr_sha256_hex(&s, hex);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  /* FIPS 180-2 appendix B.2 (two blocks), fed in uneven pieces */
  const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  tr_sha256_init(&s);
  for (size_t i = 0; i < strlen(m); i += 7)
    tr_sha256_update(&s, m + i, strlen(m) - i < 7 ? strlen(m) - i : 7);
  tr_sha256_hex(&s, hex);
  assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* one million 'a' (appendix B.3) */
  char block[1000];
  memset(block, 'a', sizeof block);
  tr_sha256_init(&s);
  for (int i = 0; i < 1000; i++)
    tr_sha256_update(&s, block, sizeof block);
  tr_sha256_hex(&s, hex);
  assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_schema_from_empty_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_migrations_in_order_and_atomic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_and_locked, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_long, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_wide, setup, teardown),
      cmocka_unit_test_setup_teardown(test_validation_messages, setup, teardown),
      cmocka_unit_test_setup_teardown(test_duplicates_sorted_and_not, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shuffled_like_sorted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nul_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_file_level_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_strict_and_dry_run, setup, teardown),
      cmocka_unit_test_setup_teardown(test_idempotent_and_history, setup, teardown),
      cmocka_unit_test_setup_teardown(test_list_and_export_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alloc_failure, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alloc_failure_shuffled, setup, teardown),
      cmocka_unit_test(test_periods),
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_values_like_strtod),
      cmocka_unit_test(test_sha256),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
