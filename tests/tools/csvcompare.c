/*
 * csvcompare — check a simulation's CSV against a reference output, the way the conformance
 * suite needs it.
 *
 *   csvcompare [--rtol X] [--atol X] [--ignore NAME]... [--optional NAME]... [--max-report N]
 *              EXPECTED OURS
 *
 * EXPECTED is a CSV, or a Vensim .tab (tab-separated: chosen by the .tab suffix or a tab in
 * the header line); CR-only, LF and CRLF line endings all work (base/csv.h). OURS is the CSV
 * of `tightrope simulate --format csv`. The first column of each is time, whatever its header
 * ("Time", "time", "Months"). Other headers are matched canonically: quotes dropped, case
 * folded, runs of spaces/underscores/"\n" made one '_' (tr_canon_ident), "module.var" kept,
 * and array headers "a[x, y]" matched element by element. A blank expected cell is not
 * checked (references leave constants blank). Each expected row is matched to our row with
 * the nearest time, which must agree within 1e-6 + 1e-4·|t| or a quarter of our step there
 * (references print times rounded).
 *
 * A cell passes when |got − expected| ≤ max(rtol·|expected|, atol) — defaults rtol 1e-4,
 * atol 1e-6 (the absolute floor for values near zero). The first mismatches (column, time,
 * expected, got) and every missing column are printed; the last line is a summary.
 * --ignore NAME leaves an expected column out; --optional NAME checks it only when OURS has
 * it (for Vensim's control variables, which references print as columns but an XMILE file
 * keeps in <sim_specs> unless it also defines them as variables).
 * Exit status: 0 all checked cells agree, 1 mismatches or missing columns/times, 2 bad usage
 * or unreadable input.
 */
#include "base/csv.h"
#include "base/strbuf.h"
#include "base/text.h"
#include "tightrope/base.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct table {
  size_t ncols;
  size_t nrows;
  char **names;  /* as written */
  char **canon;  /* canonical header */
  double *cells; /* nrows x ncols, NAN for blank */
} table;

static void table_free(table *t) {
  for (size_t i = 0; i < t->ncols; i++) {
    if (t->names) tr_free(t->names[i]);
    if (t->canon) tr_free(t->canon[i]);
  }
  tr_free(t->names);
  tr_free(t->canon);
  tr_free(t->cells);
  memset(t, 0, sizeof *t);
}

static char *canon_part(const char *s, size_t n) {
  size_t need = tr_canon_ident(s, n, NULL, 0);
  char *out = tr_malloc(need + 1);
  if (out) tr_canon_ident(s, n, out, need + 1);
  return out;
}

/* The canonical form of a header: "Two Dims[A, d]" -> "two_dims[a,d]". NULL when out of
 * memory. */
static char *canon_header(const char *raw) {
  size_t n = strlen(raw);
  while (n && (raw[n - 1] == ' ' || raw[n - 1] == '\t'))
    n--;
  while (n && (*raw == ' ' || *raw == '\t')) {
    raw++;
    n--;
  }
  if (n >= 2 && raw[0] == '"' && raw[n - 1] == '"') {
    raw++;
    n -= 2;
  }
  const char *lb = memchr(raw, '[', n);
  if (!lb || raw[n - 1] != ']') return canon_part(raw, n);
  tr_sb sb = TR_SB_INIT;
  char *base = canon_part(raw, (size_t)(lb - raw));
  if (!base) return NULL;
  tr_sb_append(&sb, base);
  tr_free(base);
  tr_sb_putc(&sb, '[');
  const char *s = lb + 1, *end = raw + n - 1;
  while (s <= end) {
    const char *c = s;
    while (c < end && *c != ',')
      c++;
    char *part = canon_part(s, (size_t)(c - s));
    if (!part) {
      tr_sb_free(&sb);
      return NULL;
    }
    tr_sb_append(&sb, part);
    tr_free(part);
    if (c < end) tr_sb_putc(&sb, ',');
    s = c + 1;
  }
  tr_sb_putc(&sb, ']');
  return tr_sb_take(&sb);
}

static int parse_num(const char *s, double *out) {
  while (*s == ' ' || *s == '\t')
    s++;
  if (!*s) return 0;
  char *end;
  double v = strtod(s, &end);
  while (*end == ' ' || *end == '\t')
    end++;
  if (*end) return -1;
  *out = v;
  return 1;
}

static char detect_delim(const char *path) {
  size_t n = strlen(path);
  if (n >= 4 && strcmp(path + n - 4, ".tab") == 0) return '\t';
  FILE *f = fopen(path, "rb");
  if (!f) return ',';
  char d = ',';
  int c;
  while ((c = fgetc(f)) != EOF && c != '\n' && c != '\r') {
    if (c == '\t') {
      d = '\t';
      break;
    }
  }
  fclose(f);
  return d;
}

/* Read a whole table; prints the error and returns non-zero on failure. */
static int table_read(const char *path, table *t) {
  memset(t, 0, sizeof *t);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "csvcompare: %s: cannot open\n", path);
    return 2;
  }
  tr_csv_opts opts;
  memset(&opts, 0, sizeof opts);
  opts.delim = detect_delim(path);
  tr_error err;
  tr_error_clear(&err);
  tr_csv *c = NULL;
  int rc = tr_csv_open_file(&c, f, path, &opts, &err);
  size_t cap_rows = 0;
  int reported = 0; /* the error was already printed */
  while (rc == TR_OK) {
    int r = tr_csv_next(c, &err);
    if (r == 0) break;
    if (r < 0) {
      rc = r;
      break;
    }
    size_t nf = tr_csv_nfields(c);
    if (!t->names) { /* header */
      t->ncols = nf;
      t->names = tr_calloc(nf, sizeof *t->names);
      t->canon = tr_calloc(nf, sizeof *t->canon);
      if (!t->names || !t->canon) {
        rc = TR_ERR_NOMEM;
        break;
      }
      for (size_t i = 0; i < nf; i++) {
        t->names[i] = tr_strdup(tr_csv_field(c, i, NULL));
        t->canon[i] = canon_header(t->names[i] ? t->names[i] : "");
        if (!t->names[i] || !t->canon[i]) rc = TR_ERR_NOMEM;
      }
      continue;
    }
    if (t->nrows == cap_rows) {
      cap_rows = cap_rows ? cap_rows * 2 : 256;
      double *cells = tr_realloc(t->cells, cap_rows * t->ncols * sizeof *cells);
      if (!cells) {
        rc = TR_ERR_NOMEM;
        break;
      }
      t->cells = cells;
    }
    double *row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
      const char *s = i < nf ? tr_csv_field(c, i, NULL) : "";
      double v = NAN;
      if (parse_num(s, &v) < 0) {
        fprintf(stderr, "%s:%ld:%ld: '%s' is not a number\n", path, tr_csv_field_line(c, i),
                tr_csv_field_col(c, i), s);
        rc = TR_ERR_PARSE;
        reported = 1;
        break;
      }
      row[i] = v;
    }
    t->nrows++;
  }
  if (rc != TR_OK && !reported)
    fprintf(stderr, "csvcompare: %s\n", tr_error_text(&err));
  else if (rc == TR_OK && t->ncols < 1) {
    fprintf(stderr, "csvcompare: %s: no header\n", path);
    rc = TR_ERR_PARSE;
  }
  tr_csv_free(c);
  fclose(f);
  if (rc != TR_OK) {
    table_free(t);
    return 2;
  }
  return 0;
}

static int usage(void) {
  fprintf(stderr, "usage: csvcompare [--rtol X] [--atol X] [--ignore NAME]... "
                  "[--optional NAME]... [--max-report N] EXPECTED OURS\n");
  return 2;
}

/* Index of our row whose time is nearest t (our times ascending). */
static size_t nearest_row(const table *t, double time) {
  size_t lo = 0, hi = t->nrows;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->cells[mid * t->ncols] < time)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == t->nrows) return lo - 1;
  if (lo > 0 && fabs(t->cells[(lo - 1) * t->ncols] - time) < fabs(t->cells[lo * t->ncols] - time))
    return lo - 1;
  return lo;
}

int main(int argc, char **argv) {
  double rtol = 1e-4, atol = 1e-6;
  long max_report = 10;
  const char *ignore[64];
  size_t n_ignore = 0;
  const char *optional[64];
  size_t n_optional = 0;
  const char *files[2];
  int nfiles = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if ((strcmp(a, "--rtol") == 0 || strcmp(a, "--atol") == 0 || strcmp(a, "--ignore") == 0 ||
         strcmp(a, "--optional") == 0 || strcmp(a, "--max-report") == 0) &&
        i + 1 < argc) {
      const char *v = argv[++i];
      char *end;
      if (strcmp(a, "--ignore") == 0) {
        if (n_ignore == sizeof ignore / sizeof *ignore) return usage();
        ignore[n_ignore++] = v;
      } else if (strcmp(a, "--optional") == 0) {
        if (n_optional == sizeof optional / sizeof *optional) return usage();
        optional[n_optional++] = v;
      } else if (strcmp(a, "--max-report") == 0) {
        max_report = strtol(v, &end, 10);
        if (*end || max_report < 0) return usage();
      } else {
        double d = strtod(v, &end);
        if (*end || !(d >= 0)) return usage();
        if (strcmp(a, "--rtol") == 0)
          rtol = d;
        else
          atol = d;
      }
    } else if (a[0] == '-' && a[1]) {
      return usage();
    } else if (nfiles < 2) {
      files[nfiles++] = a;
    } else {
      return usage();
    }
  }
  if (nfiles != 2) return usage();

  table exp, got;
  if (table_read(files[0], &exp)) return 2;
  if (table_read(files[1], &got)) {
    table_free(&exp);
    return 2;
  }
  if (got.nrows == 0) {
    fprintf(stderr, "csvcompare: %s: no rows\n", files[1]);
    table_free(&exp);
    table_free(&got);
    return 1;
  }

  int status = 0;
  size_t checked = 0, bad = 0, missing = 0, bad_times = 0;
  long reported = 0;
  char **ign_canon = tr_calloc(n_ignore + n_optional + 1, sizeof *ign_canon);
  for (size_t k = 0; ign_canon && k < n_ignore; k++)
    ign_canon[k] = canon_header(ignore[k]);
  for (size_t k = 0; ign_canon && k < n_optional; k++)
    ign_canon[n_ignore + k] = canon_header(optional[k]);
  /* column map: expected column -> our column (0 = none; column 0 is time in both) */
  size_t *map = tr_calloc(exp.ncols ? exp.ncols : 1, sizeof *map);
  if (!map || !ign_canon) {
    fprintf(stderr, "csvcompare: out of memory\n");
    status = 2;
    goto done;
  }
  for (size_t j = 1; j < exp.ncols; j++) {
    int ignored = 0, opt = 0;
    for (size_t k = 0; k < n_ignore + n_optional; k++)
      if (ign_canon[k] && strcmp(ign_canon[k], exp.canon[j]) == 0) {
        if (k < n_ignore)
          ignored = 1;
        else
          opt = 1;
      }
    int any = 0;
    for (size_t r = 0; r < exp.nrows; r++)
      if (!isnan(exp.cells[r * exp.ncols + j])) any = 1;
    if (ignored || !any) continue;
    for (size_t g = 1; g < got.ncols && !map[j]; g++)
      if (strcmp(exp.canon[j], got.canon[g]) == 0) map[j] = g;
    if (!map[j] && !opt) {
      const char *close =
          tr_closest(exp.canon[j], (const char *const *)got.canon + 1, got.ncols - 1);
      printf("missing column: '%s'", exp.names[j]);
      if (close) printf(" (closest of ours: '%s')", close);
      printf("\n");
      missing++;
    }
  }
  for (size_t r = 0; r < exp.nrows; r++) {
    const double *erow = exp.cells + r * exp.ncols;
    double t = erow[0];
    if (isnan(t)) continue;
    size_t gr = nearest_row(&got, t);
    const double *grow = got.cells + gr * got.ncols;
    /* references print times rounded (0.031 for 0.03125): accept the nearest row when it is
     * within 1e-4 relative or a quarter of our own step there */
    double step = 0;
    if (got.nrows > 1) {
      size_t o = gr + 1 < got.nrows ? gr + 1 : gr - 1;
      step = fabs(got.cells[o * got.ncols] - grow[0]);
    }
    if (!(fabs(grow[0] - t) <= fmax(1e-6 + 1e-4 * fabs(t), 0.25 * step))) {
      if (bad_times++ < 5) printf("missing time: %.10g (nearest of ours: %.10g)\n", t, grow[0]);
      continue;
    }
    for (size_t j = 1; j < exp.ncols; j++) {
      if (!map[j] || isnan(erow[j])) continue;
      double e = erow[j], v = grow[map[j]];
      checked++;
      double tol = fmax(rtol * fabs(e), atol);
      if (fabs(v - e) <= tol) continue;
      bad++;
      if (reported++ < max_report)
        printf("mismatch: '%s' at time %.10g: expected %.10g, got %.10g\n", exp.names[j], t, e, v);
    }
  }
  if (bad || missing || bad_times) {
    printf("FAIL: %zu of %zu cells differ, %zu missing columns, %zu missing times\n", bad, checked,
           missing, bad_times);
    status = 1;
  } else if (checked == 0) {
    printf("FAIL: nothing to check\n");
    status = 1;
  } else {
    printf("ok: %zu cells checked\n", checked);
  }
done:
  for (size_t k = 0; ign_canon && k < n_ignore + n_optional; k++)
    tr_free(ign_canon[k]);
  tr_free(ign_canon);
  tr_free(map);
  table_free(&exp);
  table_free(&got);
  return status;
}
