/* Benchmark: `tightrope kpi import` of a long KPI CSV against the sqlite3 shell's `.import` of
 * the same file into a plain table, in the same run (DESIGN §6: every benchmark reports a
 * ratio to its baseline). The shell does no validation, no duplicate check, no upsert and no
 * history, so it is the floor; the target is at least half its rate.
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

/* Monthly-looking daily data: KPI k0..k(n/1000), 1000 days each, values with decimals. */
static int write_csv(const char *path, long rows) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  fputs("date,kpi,value,source\n", f);
  for (long r = 0; r < rows; r++) {
    long k = r / 1000, i = r % 1000;
    fprintf(f, "%04ld-%02ld-%02ld,k%ld,%ld.%ld,bench\n", 2000 + i / 336, i / 28 % 12 + 1,
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

int main(int argc, char **argv) {
  long rows = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
  const char *tr = getenv("TR") ? getenv("TR") : "build/tightrope";
  if (rows < 1000) rows = 1000;
  char dir[] = "/tmp/tr_bench_import_XXXXXX";
  if (!mkdtemp(dir)) {
    perror("bench_import: mkdtemp");
    return 1;
  }
  char csv[128], reset[512], ours[1024], shell[1024], clean[256];
  snprintf(csv, sizeof csv, "%s/kpis.csv", dir);
  if (write_csv(csv, rows) != 0) {
    perror("bench_import: writing the CSV");
    return 1;
  }
  snprintf(reset, sizeof reset, "rm -f %s/tightrope.db %s/tightrope.db-wal %s/tightrope.db-shm "
                                "%s/plain.db",
           dir, dir, dir, dir);
  snprintf(ours, sizeof ours, "%s kpi import --workspace %s %s >/dev/null", tr, dir, csv);
  snprintf(shell, sizeof shell,
           "sqlite3 %s/plain.db 'CREATE TABLE t (date TEXT, kpi TEXT, value REAL, source TEXT)' "
           "'.import --csv --skip 1 %s t'",
           dir, csv);
  double t_ours = best_time(reset, ours);
  double t_shell = best_time(reset, shell);
  snprintf(clean, sizeof clean, "rm -rf %s", dir);
  if (system(clean) != 0) fprintf(stderr, "bench_import: could not remove %s\n", dir);
  if (t_ours <= 0 || t_shell <= 0) return 1;
  double r_ours = (double)rows / t_ours, r_shell = (double)rows / t_shell;
  printf("kpi import of %ld rows (best of %d)\n", rows, RUNS);
  printf("  tightrope kpi import     %8.3f s  %10.0f rows/s\n", t_ours, r_ours);
  printf("  sqlite3 shell .import    %8.3f s  %10.0f rows/s\n", t_shell, r_shell);
  printf("  ratio (tightrope/shell)  %8.2f  (target >= 0.50)\n", r_ours / r_shell);
  return 0;
}
