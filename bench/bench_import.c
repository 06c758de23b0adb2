/* Benchmark: `tightrope kpi import` of a long KPI CSV against the sqlite3 shell's `.import` of
 * the same file into a plain table, in the same run (DESIGN §6: every benchmark reports a
 * ratio to its baseline). The shell does no validation, no duplicate check, no upsert and no
 * history, so it is the floor; the target is at least half its rate. Two files: rows sorted
 * by (KPI, date), as `kpi export` writes them, and the same rows shuffled.
 *
 * usage: bench_import [ROWS] (default 1,000,000); TR names the tightrope binary (default
 * build/tightrope). Each side runs three times on a fresh database; the best time counts,
 * since other jobs on the machine only ever add time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RUNS 3

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Daily data for KPIs k000, k001, ... (1000 days each). `shuffled` = 0 writes the rows in
 * (KPI, date) order, as `tightrope kpi export` does; 1 writes the same rows in a scrambled
 * order (row r is row r * 7919 mod ROWS of the sorted file: a bijection when 7919 does not
 * divide ROWS), which defeats the importer's sorted-run shortcut for duplicate checks. */
static int write_csv(const char *path, long rows, int shuffled) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs("date,kpi,value,source\n", f);
  for (long r = 0; r < rows; r++) {
    long p = shuffled ? (long)((unsigned long long)r * 7919ull % (unsigned long long)rows) : r;
    long k = p / 1000, i = p % 1000;
    fprintf(f, "%04ld-%02ld-%02ld,k%03ld,%ld.%ld,bench\n", 2000 + i / 336, i / 28 % 12 + 1,
            i % 28 + 1, k, i * 7 + k, i % 10);
  }
  return fclose(f);
}

/* Run a shell command `RUNS` times after `reset`, returning the best wall time or -1. */
static double best_time(const char *reset, const char *cmd) {
  double best = -1;
  for (int i = 0; i < RUNS; i++) {
    if (system(reset) != 0) return -1;
    double t0 = now_s();
    if (system(cmd) != 0) {
      fprintf(stderr, "bench_import: failed: %s\n", cmd);
      return -1;
    }
    double t = now_s() - t0;
    if (best < 0 || t < best) best = t;
  }
  return best;
}

/* Time both importers on one file; print a line each and the ratio. 0 on success. */
static int compare(const char *dir, const char *csv, const char *tr, long rows, const char *what) {
  char reset[512], ours[1024], shell[1024];
  snprintf(reset, sizeof reset,
           "rm -f %s/tightrope.db %s/tightrope.db-wal %s/tightrope.db-shm %s/plain.db", dir, dir,
           dir, dir);
  snprintf(ours, sizeof ours, "%s kpi import --workspace %s %s >/dev/null", tr, dir, csv);
  snprintf(shell, sizeof shell,
           "sqlite3 %s/plain.db 'CREATE TABLE t (date TEXT, kpi TEXT, value REAL, source TEXT)' "
           "'.import --csv --skip 1 %s t'",
           dir, csv);
  double t_ours = best_time(reset, ours);
  double t_shell = best_time(reset, shell);
  if (t_ours <= 0 || t_shell <= 0) return 1;
  double r_ours = (double)rows / t_ours, r_shell = (double)rows / t_shell;
  printf("%s file, %ld rows (best of %d)\n", what, rows, RUNS);
  printf("  tightrope kpi import     %8.3f s  %10.0f rows/s\n", t_ours, r_ours);
  printf("  sqlite3 shell .import    %8.3f s  %10.0f rows/s\n", t_shell, r_shell);
  printf("  ratio (tightrope/shell)  %8.2f  (target >= 0.50)\n", r_ours / r_shell);
  return 0;
}

int main(int argc, char **argv) {
  long rows = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
  const char *tr = getenv("TR") ? getenv("TR") : "build/tightrope";
  if (rows < 1000) rows = 1000;
  char dir[] = "/tmp/tr_bench_import_XXXXXX";
  if (!mkdtemp(dir)) {
    perror("bench_import: mkdtemp");
    return 1;
  }
  char csv[128], clean[256];
  snprintf(csv, sizeof csv, "%s/kpis.csv", dir);
  int rc = 0;
  static const char *const what[] = {"sorted (KPI, date)", "shuffled"};
  for (int shuffled = 0; shuffled < 2 && rc == 0; shuffled++) {
    if (write_csv(csv, rows, shuffled) != 0) {
      perror("bench_import: writing the CSV");
      rc = 1;
      break;
    }
    rc = compare(dir, csv, tr, rows, what[shuffled]);
  }
  snprintf(clean, sizeof clean, "rm -rf %s", dir);
  if (system(clean) != 0) fprintf(stderr, "bench_import: could not remove %s\n", dir);
  return rc;
}
