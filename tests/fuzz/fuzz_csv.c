/*
 * Fuzz target: the CSV reader (base/csv.c) over a buffer, and KPI import
 * (tr_store_import_csv) of the same bytes into a store in a private temporary folder.
 * The first byte picks the options (delimiter, ragged rows, small limits; long or wide KPI
 * format, strict, dry run); the rest is the file. Every row read has consistent fields and
 * positions; every problem is reported with a position; import counts add up.
 */
#include "fuzz.h"

#include "base/csv.h"
#include "tightrope/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One store for the whole fuzzing session (opening one costs a schema migration); imports
 * are idempotent, so earlier inputs only change the updated/unchanged split. */
static tr_store *g_store;
static char g_dir[64];
static char g_csv[96];

static void cleanup(void) {
  tr_store_close(g_store);
  g_store = NULL;
  fuzz_rm_tree(g_dir);
}

static int setup(void) {
  if (g_store) return 1;
  /* tmpfs when there is one: the store syncs every import */
  if (fuzz_scratch_dir(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", "tr_fuzz_csv", g_dir,
                       sizeof g_dir) != 0)
    return 0;
  snprintf(g_csv, sizeof g_csv, "%s/kpi.csv", g_dir);
  tr_error err;
  tr_error_clear(&err);
  char db[96];
  snprintf(db, sizeof db, "%s/tightrope.db", g_dir);
  if (tr_store_open(&g_store, db, &err) != TR_OK) abort();
  atexit(cleanup);
  return 1;
}

static void read_all(const uint8_t *data, size_t size, unsigned mode) {
  tr_csv_opts o;
  memset(&o, 0, sizeof o);
  o.delim = (mode & 1) ? ';' : ',';
  if (mode & 2) o.delim = '\t';
  o.flags = (mode & 4) ? TR_CSV_RAGGED_OK : 0;
  if (mode & 8) {
    o.max_field = 16;
    o.max_fields = 8;
  }
  tr_error err;
  tr_error_clear(&err);
  tr_csv *c = NULL;
  if (tr_csv_open_buffer(&c, (const char *)data, size, "fuzz.csv", &o, &err) != TR_OK) abort();
  long last_line = 0, rows = 0;
  int prev_code = 0, prev_line = 0, prev_col = 0;
  for (;;) {
    tr_error_clear(&err);
    int rc = tr_csv_next(c, &err);
    if (rc == 0) break;
    if (++rows > (long)size + 2) abort(); /* every row or error consumes input: no livelock */
    if (rc < 0) {
      if (err.code != rc || err.msg[0] == '\0' || err.line < 1) abort();
      /* A fatal error repeats at the same place; a recoverable one moves on. */
      if (rc == prev_code && err.line == prev_line && err.col == prev_col) break;
      prev_code = rc;
      prev_line = err.line;
      prev_col = err.col;
      if (rc != TR_ERR_PARSE || tr_csv_nfields(c) == 0) continue;
    }
    size_t n = tr_csv_nfields(c);
    if (n == 0) abort();
    if (tr_csv_line(c) < last_line) abort();
    last_line = tr_csv_line(c);
    for (size_t i = 0; i < n; i++) {
      size_t len = (size_t)-1;
      const char *f = tr_csv_field(c, i, &len);
      if (!f || len == (size_t)-1 || f[len] != '\0') abort();
      if (tr_csv_field_line(c, i) < last_line || tr_csv_field_col(c, i) < 1) abort();
    }
    if (tr_csv_field(c, n, NULL) != NULL) abort();
  }
  tr_csv_free(c);
}

static void on_problem(void *ud, const tr_error *problem) {
  (void)ud;
  if (problem->msg[0] == '\0') abort();
}

static void import(const uint8_t *data, size_t size, unsigned mode) {
  if (!setup()) return;
  FILE *f = fopen(g_csv, "wb");
  if (!f) return;
  size_t w = fwrite(data, 1, size, f);
  if (fclose(f) != 0 || w != size) return;
  tr_import_report rep;
  memset(&rep, 0, sizeof rep);
  rep.on_problem = on_problem;
  static const char *const known[] = {"mrr", "churn", "nps", "cash", NULL};
  unsigned flags = ((mode & 16) ? TR_IMPORT_STRICT : 0) | ((mode & 32) ? TR_IMPORT_DRY_RUN : 0);
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_store_import_csv(g_store, g_csv, (mode & 64) ? TR_KPI_WIDE : TR_KPI_LONG, flags,
                               (mode & 128) ? known : NULL, &rep, &err);
  if (rc > 0 || (rc < 0 && (err.code != rc || err.msg[0] == '\0'))) abort();
  if (rc == TR_OK) {
    if (rep.rows_valid + rep.rows_rejected != rep.rows_read) abort();
    if (!(flags & TR_IMPORT_DRY_RUN) && rep.inserted + rep.updated + rep.unchanged < 0) abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  unsigned mode = data[0];
  read_all(data + 1, size - 1, mode);
  import(data + 1, size - 1, mode);
  return 0;
}
