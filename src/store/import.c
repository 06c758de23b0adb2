/* KPI CSV import (see tightrope/store.h): validation of every row, then an upsert that keeps
 * history, all inside one transaction so that an import is wholly there or wholly absent.
 *
 * Per observation: INSERT ... ON CONFLICT DO NOTHING; when that changed nothing the row
 * exists, and an UPDATE guarded by "value or source differs" either changes it (the history
 * trigger keeps the old value) or leaves it alone. The inserts go BATCH_ROWS to a statement
 * (see write_queue), so a fresh import costs one statement per BATCH_ROWS observations.
 * Duplicates inside the file are caught before the database, in a set of (KPI, period)
 * keys, so that the first occurrence wins and the others are reported. */
#include "store/store.h"

#include "base/arena.h"
#include "base/csv.h"
#include "base/hashmap.h"
#include "base/progress.h"
#include "base/text.h"
#include "store/sha256.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define KPI_MAX 200     /* bytes in a KPI name */
#define SOURCE_MAX 1000 /* bytes in a source */

/* ---- validators ------------------------------------------------------------------------ */

static int days_in_month(int y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return days[m - 1];
}

static int digits(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

const char *tr_store_check_period(const char *s, int *kind) {
  size_t n = strlen(s);
  if (strchr(s, '/') || strchr(s, '.'))
    return "expected YYYY-MM-DD or YYYY-MM (a date like 01/05/2024 is ambiguous)";
  if ((n != 7 && n != 10) || s[4] != '-' || (n == 10 && s[7] != '-'))
    return "expected YYYY-MM-DD or YYYY-MM";
  int y = digits(s, 4), m = digits(s + 5, 2), d = n == 10 ? digits(s + 8, 2) : 1;
  if (y < 0 || m < 0 || d < 0) return "expected YYYY-MM-DD or YYYY-MM";
  if (y < 1000) return "year out of range (1000 to 9999)";
  if (m < 1 || m > 12) return "month out of range (01 to 12)";
  if (d < 1 || d > days_in_month(y, m)) return "no such day in that month";
  *kind = n == 10 ? TR_PERIOD_DAY : TR_PERIOD_MONTH;
  return NULL;
}

/* The value of a plain decimal s = [+-] digits [. digits] [(e|E) [+-] digits] (at least one
 * mantissa digit) in *out when it is exactly what strtod gives and cheap to get: at most 19
 * significant digits forming an integer m <= 2^53, and a power of ten 10^k with |k| <= 22.
 * Both are then exact doubles, and one multiplication or division rounds once, correctly,
 * as strtod does (Clinger's fast path). Returns 0 for anything else: strtod decides. */
static int fast_decimal(const char *s, double *out) {
  static const double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const char *p = s;
  int neg = *p == '-';
  if (*p == '-' || *p == '+') p++;
  uint64_t m = 0;
  int digits = 0, sig = 0, scale = 0; /* scale: digits after the point */
  for (; *p >= '0' && *p <= '9'; p++, digits++) {
    if (m == 0 && *p == '0') continue; /* leading zeros are not significant */
    if (++sig > 19) return 0;
    m = m * 10 + (uint64_t)(*p - '0');
  }
  if (*p == '.') {
    for (p++; *p >= '0' && *p <= '9'; p++, digits++, scale++) {
      if (m == 0 && *p == '0') continue;
      if (++sig > 19) return 0;
      m = m * 10 + (uint64_t)(*p - '0');
    }
  }
  if (digits == 0) return 0;
  int e = 0;
  if (*p == 'e' || *p == 'E') {
    p++;
    int eneg = *p == '-';
    if (*p == '-' || *p == '+') p++;
    if (*p < '0' || *p > '9') return 0;
    for (; *p >= '0' && *p <= '9'; p++) {
      if (e > 1000) return 0;
      e = e * 10 + (*p - '0');
    }
    if (eneg) e = -e;
  }
  if (*p || m > ((uint64_t)1 << 53)) return 0;
  int k = e - scale;
  if (k < -22 || k > 22) return 0;
  double v = (double)m;
  v = k < 0 ? v / pow10[-k] : v * pow10[k];
  *out = neg ? -v : v;
  return 1;
}

const char *tr_store_parse_value(const char *s, double *out, char *msg, size_t cap) {
  if (!*s) return snprintf(msg, cap, "empty value"), msg;
  if (fast_decimal(s, out)) return NULL; /* the common case; the same value as below */
  if (strchr(s, '%')) {
    snprintf(msg, cap, "value '%.40s' has a percent sign; write the number (12 or 0.12)", s);
    return msg;
  }
  if (strchr(s, ',')) {
    snprintf(msg, cap,
             "value '%.40s' has a comma; write 1234.5 (no thousands separator or decimal comma)",
             s);
    return msg;
  }
  for (const char *p = s; *p; p++) {
    if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p)) {
      snprintf(msg, cap, "value '%.40s' is not a number", s);
      return msg;
    }
  }
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end != '\0') {
    snprintf(msg, cap, "value '%.40s' is not a number", s);
    return msg;
  }
  if (!isfinite(v)) {
    snprintf(msg, cap, "value '%.40s' is out of range", s);
    return msg;
  }
  *out = v;
  return NULL;
}

/* ---- the set of keys seen in a file -------------------------------------------------------
 * One lookup per row of a million-row file. A key is a number: the KPI's index among the
 * file's distinct KPI names (importer.names) << 32 | the period's code (period_code), or the
 * period code alone in a wide file. The keys are kept in arrival order, with their lines;
 *  - while they arrive in strictly ascending order (a file sorted by KPI then period, as
 *    `kpi export` writes it; a wide file sorted by date) no key can repeat, so they are only
 *    appended — no hashing, no random memory access;
 *  - from the first key out of order on, a hash table indexes them all: 8-byte slots (the
 *    hash's high half as a tag, the key's position), open addressing, at most half full.
 *    Only a matching tag leads to the key itself, so a new key costs one random access into
 *    a table half the size of one holding the keys. */

typedef struct key_entry {
  uint64_t key;
  uint32_t line; /* where it was first seen */
} key_entry;

typedef struct key_slot {
  uint32_t tag; /* high half of the key's hash */
  uint32_t ref; /* 1 + the key's index in keyset.keys; 0 = empty */
} key_slot;

typedef struct keyset {
  key_entry *keys; /* in arrival order */
  size_t n, kcap;
  int unsorted; /* a key arrived out of order: the table indexes every key */
  key_slot *slots;
  size_t cap; /* power of two or 0 */
} keyset;

/* The hash of a key: a 64-bit mix (murmur3's finaliser) so that keys differing only in the
 * low bits of the period or in the KPI index spread over the table. */
static uint64_t key_hash(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}

/* Start loading the slot of hash h into the cache: the table is far larger than the cache,
 * so each probe is a memory access worth overlapping with the parsing of the row. Only
 * useful once the run has ended (keyset.unsorted). */
static void keyset_prefetch(const keyset *ks, uint64_t h) {
#if defined(__GNUC__)
  if (ks->cap) __builtin_prefetch(&ks->slots[(size_t)h & (ks->cap - 1)]);
#else
  (void)ks;
  (void)h;
#endif
}

/* The slot of key (hash h) in the table: its own, or the empty one where it belongs. */
static key_slot *table_slot(const keyset *ks, uint64_t key, uint64_t h) {
  uint32_t tag = (uint32_t)(h >> 32);
  size_t j = (size_t)h & (ks->cap - 1);
  for (; ks->slots[j].ref; j = (j + 1) & (ks->cap - 1))
    if (ks->slots[j].tag == tag && ks->keys[ks->slots[j].ref - 1].key == key) break;
  return &ks->slots[j];
}

/* Index keys[0..n) in a table of at least twice n + 1 slots. */
static int keyset_rebuild(keyset *ks) {
  size_t cap = ks->cap ? ks->cap : 1024;
  while ((ks->n + 1) * 2 > cap)
    cap *= 2;
  key_slot *slots = tr_calloc(cap, sizeof *slots);
  if (!slots) return TR_ERR_NOMEM;
  tr_free(ks->slots);
  ks->slots = slots;
  ks->cap = cap;
  for (size_t i = 0; i < ks->n; i++) {
    uint64_t h = key_hash(ks->keys[i].key);
    key_slot *slot = table_slot(ks, ks->keys[i].key, h);
    slot->tag = (uint32_t)(h >> 32);
    slot->ref = (uint32_t)(i + 1);
  }
  return TR_OK;
}

/* Add key, first seen on `line` (>= 1). `ascending`: the key is above the last one (the
 * caller compares, since the order is that of the KPI names); h: its key_hash once the run
 * has ended, else unused. Returns 1 when new, 0 when present (*first = its line),
 * TR_ERR_NOMEM, or TR_ERR_LIMIT past 4 billion keys. */
static int keyset_add(keyset *ks, uint64_t key, int ascending, uint64_t h, long line, long *first) {
  if (!ks->unsorted && ks->n && !ascending) {
    /* the run ends: from now on the table indexes every key */
    if (keyset_rebuild(ks)) return TR_ERR_NOMEM;
    ks->unsorted = 1;
    h = key_hash(key);
  }
  key_slot *slot = NULL;
  if (ks->unsorted) {
    if ((ks->n + 1) * 2 > ks->cap && keyset_rebuild(ks)) return TR_ERR_NOMEM;
    slot = table_slot(ks, key, h);
    if (slot->ref) {
      *first = ks->keys[slot->ref - 1].line;
      return 0;
    }
  }
  if (ks->n >= UINT32_MAX - 1) return TR_ERR_LIMIT;
  if (ks->n == ks->kcap) {
    size_t cap = ks->kcap ? ks->kcap * 2 : 4096;
    key_entry *k = tr_realloc(ks->keys, cap * sizeof *k);
    if (!k) return TR_ERR_NOMEM;
    ks->keys = k;
    ks->kcap = cap;
  }
  ks->keys[ks->n].key = key;
  ks->keys[ks->n].line = line > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)line;
  ks->n++;
  if (slot) {
    slot->tag = (uint32_t)(h >> 32);
    slot->ref = (uint32_t)ks->n;
  }
  return 1;
}

static void keyset_free(keyset *ks) {
  tr_free(ks->keys);
  tr_free(ks->slots);
}

/* ---- the importer ------------------------------------------------------------------------ */

/* A valid observation of a long file whose upsert waits for the end of the file. Once a
 * file turns out not to be sorted, its observations are collected, sorted and only then
 * written: random inserts into the (KPI, period) b-tree cost a cache miss per level, sorted
 * ones walk it in order. Keys are unique within a file, so the order of the upserts cannot
 * change the result. KPI names and sources are interned (few distinct ones, many rows) and
 * periods packed into a number, so sorting and writing touch only this compact array. */
typedef struct pending_obs {
  uint64_t order;  /* the period code; before sorting, the sort key (see flush_pending) */
  uint32_t kpi;    /* index into importer.names */
  uint32_t source; /* index into importer.sources, or UINT32_MAX for none */
  double value;
} pending_obs;

/* An observation waiting in the write queue; its texts are in importer.qtext. */
typedef struct batch_row {
  const char *kpi, *period, *source; /* source NULL: none */
  int kpi_len, period_len, source_len;
  double value;
} batch_row;

#define BATCH_ROWS 32                        /* rows per INSERT statement */
#define ROW_TEXT (KPI_MAX + 16 + SOURCE_MAX) /* bytes of text of one queued row, at most */

/* An interning table: distinct strings in first-seen order, with a map to their index. */
typedef struct interned {
  tr_map index;   /* string -> (index + 1) */
  char **names;   /* in im->keys */
  uint32_t *lens; /* strlen of each name */
  size_t n, cap;
  uint32_t last; /* the index last returned (rows often repeat a name) */
} interned;

typedef struct importer {
  tr_store *s;
  const char *path;
  tr_kpi_format format;
  unsigned flags;
  const char *const *known; /* NULL = any KPI */
  size_t nknown;
  tr_map known_set;
  tr_import_report *rep;
  tr_error *err;
  tr_csv *csv;
  sqlite3_stmt *ins, *upd; /* one row */
  sqlite3_stmt *many;      /* INSERT of BATCH_ROWS rows */
  batch_row queue[BATCH_ROWS];
  size_t nqueued;
  char *qtext; /* BATCH_ROWS * ROW_TEXT bytes */
  size_t qlen;
  long import_id;
  int period_kind;      /* TR_PERIOD_* of the file, 0 until the first valid date */
  long period_line;     /* where that form was first seen */
  keyset seen;          /* (KPI, period) (long) or period (wide) -> first line */
  pending_obs *pending; /* long files out of order: observations to write at the end */
  size_t npending, pendcap;
  interned names, sources; /* of the pending observations */
  tr_arena keys;           /* the wide header's names */
  int has_source;          /* long: a fourth column */
  char **cols;             /* wide: KPI per column (NULL = ignored), col 0 unused */
  size_t *col_lens;        /* wide: strlen of cols[i] */
  size_t ncols;
  int row_bad; /* the current row has a problem */
  tr_sha256 sha;
  tr_progress *progress;
} importer;

static void on_bytes(void *ud, const void *bytes, size_t n) {
  importer *im = ud;
  tr_sha256_update(&im->sha, bytes, n);
  tr_progress_add(im->progress, n);
}

/* Report a problem with the row at (line, col); the row is rejected. */
static void problem(importer *im, long line, long col, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void problem(importer *im, long line, long col, const char *fmt, ...) {
  im->row_bad = 1;
  if (!im->rep->on_problem) return;
  tr_error e;
  va_list ap;
  va_start(ap, fmt);
  tr_error_setv(&e, TR_ERR_INVALID, im->path, (int)line, (int)col, fmt, ap);
  va_end(ap);
  im->rep->on_problem(im->rep->ud, &e);
}

/* Field i of the current row without surrounding spaces/tabs, copied into buf[cap]; returns
 * its length, or (size_t)-1 when longer than cap - 1 (buf then holds a truncated copy). */
static size_t trimmed(const tr_csv *c, size_t i, char *buf, size_t cap) {
  size_t n = 0;
  const char *f = tr_csv_field(c, i, &n);
  while (n && (*f == ' ' || *f == '\t'))
    f++, n--;
  while (n && (f[n - 1] == ' ' || f[n - 1] == '\t'))
    n--;
  size_t k = n < cap - 1 ? n : cap - 1;
  memcpy(buf, f, k);
  buf[k] = '\0';
  return n < cap ? n : (size_t)-1;
}

/* Check a period field; 1 when valid (also against the file's form), with the text in
 * period[16] and its length in *len. */
static int check_period(importer *im, size_t i, char *period, size_t *len) {
  long line = tr_csv_field_line(im->csv, i), col = tr_csv_field_col(im->csv, i);
  char raw[64];
  size_t n = trimmed(im->csv, i, raw, sizeof raw);
  int kind = 0;
  /* A field too long for raw is no date, whatever its first 63 bytes (they may be one, with
   * NUL bytes after it). */
  const char *why = n == 0             ? "empty date"
                    : n == (size_t)-1  ? "too long for a date"
                    : strlen(raw) != n ? "it contains a NUL byte"
                                       : tr_store_check_period(raw, &kind);
  if (why) {
    problem(im, line, col, "bad date '%s'%s: %s", raw, n == (size_t)-1 ? "..." : "", why);
    return 0;
  }
  if (im->period_kind && kind != im->period_kind) {
    problem(im, line, col, "date '%s' is %s but this file uses %s (line %ld)", raw,
            kind == TR_PERIOD_DAY ? "YYYY-MM-DD" : "YYYY-MM",
            im->period_kind == TR_PERIOD_DAY ? "YYYY-MM-DD" : "YYYY-MM", im->period_line);
    return 0;
  }
  if (!im->period_kind) {
    im->period_kind = kind;
    im->period_line = line;
  }
  memcpy(period, raw, n + 1);
  *len = n;
  return 1;
}

/* Check a KPI name: non-empty, not too long, known when a list is given. */
static int check_kpi(importer *im, const char *name, size_t n, long line, long col) {
  if (n == 0) {
    problem(im, line, col, "empty KPI name");
    return 0;
  }
  if (n != (size_t)-1 && strlen(name) != n) {
    problem(im, line, col, "KPI name '%s...' contains a NUL byte", name);
    return 0;
  }
  for (size_t i = 0; i < n && n != (size_t)-1; i++) {
    if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
      problem(im, line, col, "KPI name '%s' has a control character (byte %zu)", name, i + 1);
      return 0;
    }
  }
  if (n == (size_t)-1) {
    problem(im, line, col, "KPI name longer than %d bytes", KPI_MAX);
    return 0;
  }
  if (im->known && !tr_map_get(&im->known_set, name, NULL)) {
    const char *best = tr_closest(name, im->known, im->nknown);
    if (best)
      problem(im, line, col, "unknown KPI '%s' (did you mean '%s'?)", name, best);
    else
      problem(im, line, col, "unknown KPI '%s' (not in the plan's scorecard)", name);
    return 0;
  }
  return 1;
}

static int check_value(importer *im, size_t i, double *v) {
  char raw[72], msg[160];
  size_t n = trimmed(im->csv, i, raw, sizeof raw);
  const char *why = n == (size_t)-1    ? "value too long to be a number"
                    : strlen(raw) != n ? "value contains a NUL byte"
                                       : tr_store_parse_value(raw, v, msg, sizeof msg);
  if (why) problem(im, tr_csv_field_line(im->csv, i), tr_csv_field_col(im->csv, i), "%s", why);
  return why == NULL;
}

static int nomem(importer *im) {
  return tr_error_set(im->err, TR_ERR_NOMEM, im->path, (int)tr_csv_line(im->csv), 0,
                      "out of memory importing");
}

/* Register key as seen on this row (see keyset_add): 1 when new, 0 when already seen
 * (*first = the earlier line), or an error status (set in im->err). */
static int first_sighting(importer *im, uint64_t key, int ascending, uint64_t h, long *first) {
  int rc = keyset_add(&im->seen, key, ascending, h, tr_csv_line(im->csv), first);
  if (rc == TR_ERR_LIMIT)
    return tr_error_set(im->err, TR_ERR_LIMIT, im->path, (int)tr_csv_line(im->csv), 0,
                        "too many distinct observations in one file");
  return rc == TR_ERR_NOMEM ? nomem(im) : rc;
}

/* ---- writing ---------------------------------------------------------------------------
 * Valid observations are queued and written BATCH_ROWS at a time: one INSERT of many rows
 * costs far less than as many one-row statements, each of which pays its own start, its own
 * statement journal (the foreign key check could abort it) and its own halt. The batch's
 * INSERT ... ON CONFLICT DO NOTHING adds the new observations; when it added fewer rows than
 * it holds, some keys were stored already, and every row of the batch then goes through the
 * UPDATE guarded by "value or source differs": a no-op for the rows just added (same value
 * and source), a change kept in the history by the trigger for the others. The updates run
 * in queue order, as the row-by-row upsert ran them, so the history and its ids are the
 * same. A last, partial batch is written row by row (INSERT, then UPDATE when it changed
 * nothing). */

/* Bind one observation to parameters base .. base + 3 (KPI, period, value, source) of st. */
static void bind_obs(sqlite3_stmt *st, int base, const batch_row *r) {
  sqlite3_bind_text(st, base, r->kpi, r->kpi_len, SQLITE_STATIC);
  sqlite3_bind_text(st, base + 1, r->period, r->period_len, SQLITE_STATIC);
  sqlite3_bind_double(st, base + 2, r->value);
  if (r->source)
    sqlite3_bind_text(st, base + 3, r->source, r->source_len, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, base + 3);
}

/* Run st (bound); the number of rows it changed, or -1 after an error (set in im->err). */
static int run_stmt(importer *im, sqlite3_stmt *st) {
  int step = sqlite3_step(st);
  sqlite3_reset(st);
  if (step != SQLITE_DONE) {
    tr_store_db_error(im->s->db, im->path, "importing", im->err);
    return -1;
  }
  return sqlite3_changes(im->s->db);
}

/* Write one observation by itself: INSERT, or UPDATE when the key is stored already. */
static int upsert_one(importer *im, const batch_row *r) {
  bind_obs(im->ins, 1, r);
  int c = run_stmt(im, im->ins);
  if (c > 0) {
    im->rep->inserted++;
    return TR_OK;
  }
  if (c == 0) {
    bind_obs(im->upd, 1, r);
    c = run_stmt(im, im->upd);
  }
  if (c < 0) return TR_ERR_DB;
  if (c > 0)
    im->rep->updated++;
  else
    im->rep->unchanged++;
  return TR_OK;
}

/* Write the queued observations and empty the queue. */
static int write_queue(importer *im) {
  size_t n = im->nqueued;
  im->nqueued = 0;
  im->qlen = 0;
  if (n < BATCH_ROWS) {
    for (size_t i = 0; i < n; i++) {
      int rc = upsert_one(im, &im->queue[i]);
      if (rc) return rc;
    }
    return TR_OK;
  }
  for (size_t i = 0; i < n; i++)
    bind_obs(im->many, 2 + 4 * (int)i, &im->queue[i]);
  int added = run_stmt(im, im->many);
  if (added < 0) return TR_ERR_DB;
  im->rep->inserted += added;
  if (added == BATCH_ROWS) return TR_OK;
  long changed = 0;
  for (size_t i = 0; i < n; i++) {
    bind_obs(im->upd, 1, &im->queue[i]);
    int c = run_stmt(im, im->upd);
    if (c < 0) return TR_ERR_DB;
    changed += c;
  }
  im->rep->updated += changed;
  im->rep->unchanged += BATCH_ROWS - added - changed;
  return TR_OK;
}

/* Queue an observation (see write_queue): KPI[0..kn), period[0..pn), source[0..sn) or none
 * when sn is 0. The texts are copied. */
static int queue_obs(importer *im, const char *kpi, size_t kn, const char *period, size_t pn,
                     double value, const char *source, size_t sn) {
  batch_row *r = &im->queue[im->nqueued++];
  char *t = im->qtext + im->qlen; /* room: every text is within its limit (ROW_TEXT) */
  memcpy(t, kpi, kn);
  memcpy(t + kn, period, pn);
  if (sn) memcpy(t + kn + pn, source, sn);
  im->qlen += kn + pn + sn;
  r->kpi = t;
  r->kpi_len = (int)kn;
  r->period = t + kn;
  r->period_len = (int)pn;
  r->source = sn ? t + kn + pn : NULL;
  r->source_len = (int)sn;
  r->value = value;
  return im->nqueued == BATCH_ROWS ? write_queue(im) : TR_OK;
}

/* header = ("date" / "period") "," "kpi" "," "value" ["," "source"] */
static int long_header(importer *im) {
  static const char *const want[] = {"date", "kpi", "value", "source"};
  size_t n = tr_csv_nfields(im->csv);
  int ok = n == 3 || n == 4;
  char f[32];
  for (size_t i = 0; ok && i < n; i++) {
    trimmed(im->csv, i, f, sizeof f);
    ok = strcasecmp(f, want[i]) == 0 || (i == 0 && strcasecmp(f, "period") == 0);
  }
  if (ok) {
    im->has_source = n == 4;
    return TR_OK;
  }
  return tr_error_set(im->err, TR_ERR_INVALID, im->path, 1, 1,
                      "expected the header 'date,kpi,value' (or 'date,kpi,value,source') of a "
                      "long file%s",
                      n > 2 ? "; for one column per KPI use the wide format" : "");
}

/* The index of s[0..n) (no NUL inside) in t, adding it when new; UINT32_MAX when out of
 * memory. */
static uint32_t intern(importer *im, interned *t, const char *s, size_t n) {
  if (t->n && t->lens[t->last] == n && memcmp(t->names[t->last], s, n) == 0) return t->last;
  char buf[SOURCE_MAX + 1];
  memcpy(buf, s, n);
  buf[n] = '\0';
  int found = 0;
  void *v = tr_map_get(&t->index, buf, &found);
  if (found) return t->last = (uint32_t)((uintptr_t)v - 1);
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    char **names = tr_realloc(t->names, cap * sizeof *names);
    if (!names) return UINT32_MAX;
    t->names = names;
    uint32_t *lens = tr_realloc(t->lens, cap * sizeof *lens);
    if (!lens) return UINT32_MAX;
    t->lens = lens;
    t->cap = cap;
  }
  char *copy = tr_arena_strndup(&im->keys, s, n);
  if (!copy || t->n >= UINT32_MAX - 1 ||
      tr_map_put(&t->index, copy, (void *)(uintptr_t)(t->n + 1)) != TR_OK)
    return UINT32_MAX;
  t->names[t->n] = copy;
  t->lens[t->n] = (uint32_t)n;
  return t->last = (uint32_t)t->n++;
}

static void interned_free(interned *t) {
  tr_map_free(&t->index);
  tr_free(t->names);
  tr_free(t->lens);
}

/* A valid period as a number that sorts like the text: YYYYMMDD (DD = 00 for YYYY-MM). */
static uint32_t period_code(const char *p) {
  uint32_t v = (uint32_t)digits(p, 4) * 10000u + (uint32_t)digits(p + 5, 2) * 100u;
  return p[7] ? v + (uint32_t)digits(p + 8, 2) : v;
}

/* Keep an observation for the sorted write at the end (see pending_obs): KPI number kpi,
 * period code, source[0..slen) or none when slen is 0. */
static int defer(importer *im, uint32_t kpi, uint32_t period, double value, const char *src,
                 size_t slen) {
  if (im->npending == im->pendcap) {
    size_t cap = im->pendcap ? im->pendcap * 2 : 4096;
    pending_obs *p = tr_realloc(im->pending, cap * sizeof *p);
    if (!p) return nomem(im);
    im->pending = p;
    im->pendcap = cap;
  }
  pending_obs *o = &im->pending[im->npending];
  o->kpi = kpi;
  o->source = UINT32_MAX; /* none */
  if (slen && (o->source = intern(im, &im->sources, src, slen)) == UINT32_MAX) return nomem(im);
  o->order = period;
  o->value = value;
  im->npending++;
  return TR_OK;
}

/* Whether (KPI number kpi, period code) comes after the last key of the sorted run, in the
 * byte order of "KPI\x1fperiod" (KPI names have no control characters, so that is the
 * order of the names, then of the periods). */
static int after_run(const importer *im, uint32_t kpi, uint32_t period) {
  const keyset *ks = &im->seen;
  if (ks->n == 0) return 1;
  uint64_t last = ks->keys[ks->n - 1].key;
  uint32_t lk = (uint32_t)(last >> 32), lp = (uint32_t)last;
  if (lk == kpi) return period > lp;
  return strcmp(im->names.names[lk], im->names.names[kpi]) < 0;
}

/* The text of a period code (YYYY-MM-DD, or YYYY-MM when DD = 00) in out[10]; its length. */
static size_t period_text(uint32_t code, char *out) {
  uint32_t y = code / 10000, m = code / 100 % 100, d = code % 100;
  out[0] = (char)('0' + y / 1000);
  out[1] = (char)('0' + y / 100 % 10);
  out[2] = (char)('0' + y / 10 % 10);
  out[3] = (char)('0' + y % 10);
  out[4] = '-';
  out[5] = (char)('0' + m / 10);
  out[6] = (char)('0' + m % 10);
  if (!d) return 7;
  out[7] = '-';
  out[8] = (char)('0' + d / 10);
  out[9] = (char)('0' + d % 10);
  return 10;
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Number of bits needed to write v. */
static unsigned bit_width(uint64_t v) {
  unsigned n = 0;
  for (; v; v >>= 1)
    n++;
  return n;
}

/* Sort a[0..n) by order, keys below 2^bits: least significant digit first, with digits of at
 * most 11 bits (a 16 KiB histogram) and as few passes as that allows; a pass in which every
 * key has the same digit is skipped. tmp has room for n. Stable, n + 2048 steps a pass,
 * where qsort would take n log2 n comparisons through a function pointer. */
static void radix_sort(pending_obs *a, pending_obs *tmp, size_t n, unsigned bits) {
  unsigned passes = (bits + 10) / 11, width = passes ? (bits + passes - 1) / passes : 0;
  pending_obs *from = a, *to = tmp;
  for (unsigned shift = 0; shift < bits; shift += width) {
    size_t count[1u << 11] = {0};
    uint64_t mask = ((uint64_t)1 << width) - 1;
    for (size_t i = 0; i < n; i++)
      count[from[i].order >> shift & mask]++;
    if (count[from[0].order >> shift & mask] == n) continue;
    size_t sum = 0;
    for (size_t d = 0; d <= mask; d++) {
      size_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++)
      to[count[from[i].order >> shift & mask]++] = from[i];
    pending_obs *t = from;
    from = to;
    to = t;
  }
  if (from != a) memcpy(a, from, n * sizeof *a);
}

/* Write the deferred observations in (KPI, period) order, the b-tree's. The sort key is
 * rank of the KPI name << pbits | (period code - the smallest), pbits the width of the
 * span of period codes: as few bits as the file needs, so few radix passes. */
static int flush_pending(importer *im) {
  if (im->npending == 0) return TR_OK;
  /* rank of each KPI name in byte order, through a sorted copy of the name pointers */
  size_t nk = im->names.n, n = im->npending;
  char **sorted = tr_malloc(nk * sizeof *sorted);
  uint32_t *rank = tr_malloc(nk * sizeof *rank);
  pending_obs *tmp = tr_malloc(n * sizeof *tmp);
  if (!sorted || !rank || !tmp) {
    tr_free(sorted);
    tr_free(rank);
    tr_free(tmp);
    return nomem(im);
  }
  memcpy(sorted, im->names.names, nk * sizeof *sorted);
  qsort(sorted, nk, sizeof *sorted, name_cmp);
  for (size_t r = 0; r < nk; r++) {
    void *v = tr_map_get(&im->names.index, sorted[r], NULL);
    rank[(uintptr_t)v - 1] = (uint32_t)r;
  }
  uint64_t lo = im->pending[0].order, hi = lo;
  for (size_t i = 1; i < n; i++) {
    uint64_t c = im->pending[i].order;
    lo = c < lo ? c : lo;
    hi = c > hi ? c : hi;
  }
  unsigned pbits = bit_width(hi - lo);
  for (size_t i = 0; i < n; i++) {
    pending_obs *o = &im->pending[i];
    o->order = (uint64_t)rank[o->kpi] << pbits | (o->order - lo);
  }
  radix_sort(im->pending, tmp, n, pbits + bit_width(nk - 1));
  tr_free(sorted);
  tr_free(rank);
  tr_free(tmp);
  uint64_t pmask = ((uint64_t)1 << pbits) - 1;
  for (size_t i = 0; i < n; i++) {
    const pending_obs *o = &im->pending[i];
    char period[10];
    size_t pn = period_text((uint32_t)((o->order & pmask) + lo), period);
    uint32_t src = o->source;
    int rc = queue_obs(im, im->names.names[o->kpi], im->names.lens[o->kpi], period, pn, o->value,
                       src == UINT32_MAX ? NULL : im->sources.names[src],
                       src == UINT32_MAX ? 0 : im->sources.lens[src]);
    if (rc) return rc;
  }
  return TR_OK;
}

/* long row = date "," kpi "," value ["," source] */
static int long_row(importer *im) {
  const tr_csv *c = im->csv;
  char period[16], kpi[KPI_MAX + 1];
  double value = 0;
  size_t pn = 0;
  int ok = check_period(im, 0, period, &pn);
  size_t kn = trimmed(c, 1, kpi, sizeof kpi);
  ok &= check_kpi(im, kpi, kn, tr_csv_field_line(c, 1), tr_csv_field_col(c, 1));
  uint32_t kid = 0, code = 0;
  uint64_t key = 0, h = 0;
  if (ok) {
    kid = intern(im, &im->names, kpi, kn);
    if (kid == UINT32_MAX) return nomem(im);
    code = period_code(period);
    key = (uint64_t)kid << 32 | code;
    if (im->seen.unsorted) {
      h = key_hash(key);
      keyset_prefetch(&im->seen, h); /* fetched while the value is parsed */
    }
  }
  ok &= check_value(im, 2, &value);
  const char *src = NULL;
  size_t slen = 0;
  if (im->has_source) {
    src = tr_csv_field(c, 3, &slen);
    while (slen && (*src == ' ' || *src == '\t'))
      src++, slen--;
    while (slen && (src[slen - 1] == ' ' || src[slen - 1] == '\t'))
      slen--;
    long sl = tr_csv_field_line(c, 3), sc = tr_csv_field_col(c, 3);
    if (slen > SOURCE_MAX) {
      problem(im, sl, sc, "source longer than %d bytes", SOURCE_MAX);
      ok = 0;
    } else if (memchr(src, '\0', slen)) {
      problem(im, sl, sc, "source contains a NUL byte");
      ok = 0;
    }
  }
  if (!ok) return TR_OK;
  long first = 0;
  int fresh = first_sighting(im, key, !im->seen.unsorted && after_run(im, kid, code), h, &first);
  if (fresh < 0) return fresh;
  if (!fresh) {
    problem(im, tr_csv_line(c), 1, "duplicate: KPI '%s' for %s is already on line %ld", kpi, period,
            first);
    return TR_OK;
  }
  if (!im->seen.unsorted) return queue_obs(im, kpi, kn, period, pn, value, src, slen);
  return defer(im, kid, code, value, src, slen);
}

/* header = ("date" / "period") 1*("," kpi) */
static int wide_header(importer *im) {
  const tr_csv *c = im->csv;
  size_t n = tr_csv_nfields(c);
  char f[KPI_MAX + 1];
  trimmed(c, 0, f, sizeof f);
  if (n < 2 || (strcasecmp(f, "date") != 0 && strcasecmp(f, "period") != 0))
    return tr_error_set(im->err, TR_ERR_INVALID, im->path, 1, 1,
                        "expected the header 'date,KPI1,KPI2,...' of a wide file");
  if (n == 3 || n == 4) {
    char g[16], h[16];
    trimmed(c, 1, g, sizeof g);
    trimmed(c, 2, h, sizeof h);
    if (strcasecmp(g, "kpi") == 0 && strcasecmp(h, "value") == 0)
      return tr_error_set(im->err, TR_ERR_INVALID, im->path, 1, 1,
                          "the header 'date,kpi,value' is that of a long file; use the long "
                          "format");
  }
  im->cols = tr_arena_calloc(&im->keys, n, sizeof *im->cols);
  im->col_lens = tr_arena_calloc(&im->keys, n, sizeof *im->col_lens);
  if (!im->cols || !im->col_lens) return nomem(im);
  im->ncols = n;
  tr_map names;
  tr_map_init(&names);
  int rc = TR_OK;
  for (size_t i = 1; i < n && !rc; i++) {
    size_t len = trimmed(c, i, f, sizeof f);
    long col = tr_csv_field_col(c, i);
    int found = 0;
    tr_map_get(&names, f, &found);
    im->row_bad = 0;
    if (found) {
      problem(im, 1, col, "KPI column '%s' appears twice; this one is ignored", f);
    } else if (check_kpi(im, f, len, 1, col)) {
      im->cols[i] = tr_arena_strdup(&im->keys, f);
      im->col_lens[i] = len;
      if (!im->cols[i] || tr_map_put(&names, im->cols[i], im->cols[i]) != TR_OK) rc = nomem(im);
      continue;
    }
    im->rep->columns_ignored++;
  }
  tr_map_free(&names);
  im->row_bad = 0;
  return rc;
}

/* wide row = date *("," [value]) — a blank cell is no observation */
static int wide_row(importer *im) {
  const tr_csv *c = im->csv;
  char period[16];
  size_t pn = 0;
  int ok = check_period(im, 0, period, &pn);
  for (size_t i = 1; i < im->ncols; i++) {
    if (!im->cols[i]) continue;
    char raw[4];
    if (trimmed(c, i, raw, sizeof raw) == 0) continue;
    double v;
    ok &= check_value(im, i, &v);
  }
  if (!ok) return TR_OK;
  long first = 0;
  uint64_t code = period_code(period), last = im->seen.n ? im->seen.keys[im->seen.n - 1].key : 0;
  int fresh = first_sighting(im, code, code > last, im->seen.unsorted ? key_hash(code) : 0, &first);
  if (fresh < 0) return fresh;
  if (!fresh) {
    problem(im, tr_csv_line(c), 1, "duplicate: date %s is already on line %ld", period, first);
    return TR_OK;
  }
  for (size_t i = 1; i < im->ncols; i++) {
    if (!im->cols[i]) continue;
    char raw[72], msg[8];
    if (trimmed(c, i, raw, sizeof raw) == 0) continue;
    double v = 0;
    tr_store_parse_value(raw, &v, msg, sizeof msg); /* valid: checked above */
    int rc = queue_obs(im, im->cols[i], im->col_lens[i], period, pn, v, NULL, 0);
    if (rc) return rc;
  }
  return TR_OK;
}

/* Prepare the statements (the import's id bound once) and the queue; log the import. */
static int prepare(importer *im) {
  static const char *const ins = "INSERT INTO observations (kpi, period, value, source, import_id) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (kpi, period) DO NOTHING";
  static const char *const upd =
      "UPDATE observations SET value = ?3, source = ?4, import_id = ?5 "
      "WHERE kpi = ?1 AND period = ?2 AND (value IS NOT ?3 OR source IS NOT ?4)";
  /* the same INSERT for BATCH_ROWS rows: row i binds ?(2 + 4i) .. ?(5 + 4i), all share ?1 */
  char many[64 + BATCH_ROWS * 40 + 64];
  int len = snprintf(many, sizeof many,
                     "INSERT INTO observations (kpi, period, value, source, import_id) VALUES ");
  for (int i = 0; i < BATCH_ROWS; i++)
    len += snprintf(many + len, sizeof many - (size_t)len, "%s(?%d, ?%d, ?%d, ?%d, ?1)",
                    i ? ", " : "", 2 + 4 * i, 3 + 4 * i, 4 + 4 * i, 5 + 4 * i);
  snprintf(many + len, sizeof many - (size_t)len, " ON CONFLICT (kpi, period) DO NOTHING");
  im->qtext = tr_malloc(BATCH_ROWS * ROW_TEXT);
  if (!im->qtext) return nomem(im);
  sqlite3 *db = im->s->db;
  if (sqlite3_prepare_v2(db, ins, -1, &im->ins, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, upd, -1, &im->upd, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, many, -1, &im->many, NULL) != SQLITE_OK)
    return tr_store_db_error(db, im->path, "preparing the import", im->err);
  if (sqlite3_exec(db,
                   "INSERT INTO imports (file, sha256, format, imported_at, rows_read, "
                   "rows_imported, rows_rejected) VALUES ('', '', 'long', "
                   "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 0, 0, 0)",
                   NULL, NULL, NULL) != SQLITE_OK)
    return tr_store_db_error(db, im->path, "starting the import log entry", im->err);
  im->import_id = (long)sqlite3_last_insert_rowid(db);
  sqlite3_bind_int64(im->ins, 5, im->import_id);
  sqlite3_bind_int64(im->upd, 5, im->import_id);
  sqlite3_bind_int64(im->many, 1, im->import_id);
  return TR_OK;
}

/* Read the whole file through the validators and the upsert. */
static int read_all(importer *im) {
  tr_error cerr;
  tr_error_clear(&cerr);
  int rc = tr_csv_next(im->csv, &cerr);
  if (rc == 0)
    return tr_error_set(im->err, TR_ERR_INVALID, im->path, 0, 0,
                        "empty file: expected a header line such as 'date,kpi,value'");
  if (rc < 0) {
    tr_error_copy(im->err, &cerr);
    return rc;
  }
  rc = im->format == TR_KPI_WIDE ? wide_header(im) : long_header(im);
  for (;;) {
    if (rc) return rc;
    tr_error_clear(&cerr);
    int got = tr_csv_next(im->csv, &cerr);
    if (got == 0) return TR_OK;
    im->row_bad = 0;
    if (got < 0) {
      if (got != TR_ERR_PARSE || cerr.code != TR_ERR_PARSE || strstr(cerr.msg, "unterminated")) {
        tr_error_copy(im->err, &cerr);
        return got;
      }
      /* a bad row (ragged, stray quote): report it and go on */
      im->rep->rows_read++;
      im->rep->rows_rejected++;
      if (im->rep->on_problem) im->rep->on_problem(im->rep->ud, &cerr);
      continue;
    }
    im->rep->rows_read++;
    rc = im->format == TR_KPI_WIDE ? wide_row(im) : long_row(im);
    if (im->row_bad)
      im->rep->rows_rejected++;
    else
      im->rep->rows_valid++;
  }
}

static int finish_log(importer *im) {
  sqlite3_stmt *st = NULL;
  sqlite3 *db = im->s->db;
  int rc = TR_OK;
  if (sqlite3_prepare_v2(db,
                         "UPDATE imports SET file = ?1, sha256 = ?2, format = ?3, rows_read = ?4, "
                         "rows_imported = ?5, rows_rejected = ?6 WHERE id = ?7",
                         -1, &st, NULL) != SQLITE_OK)
    return tr_store_db_error(db, im->path, "recording the import", im->err);
  sqlite3_bind_text(st, 1, im->path, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, im->rep->sha256, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, im->format == TR_KPI_WIDE ? "wide" : "long", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, im->rep->rows_read);
  sqlite3_bind_int64(st, 5, im->rep->rows_valid);
  sqlite3_bind_int64(st, 6, im->rep->rows_rejected);
  sqlite3_bind_int64(st, 7, im->import_id);
  if (sqlite3_step(st) != SQLITE_DONE)
    rc = tr_store_db_error(db, im->path, "recording the import", im->err);
  sqlite3_finalize(st);
  return rc;
}

/* The first earlier import with the same content, or 0. */
static long previous_import(importer *im) {
  sqlite3_stmt *st = NULL;
  long id = 0;
  if (sqlite3_prepare_v2(im->s->db, "SELECT min(id) FROM imports WHERE sha256 = ?1 AND id <> ?2",
                         -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, im->rep->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, im->import_id);
    if (sqlite3_step(st) == SQLITE_ROW) id = (long)sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  return id;
}

/* Tab-separated for Vensim .tab files and .tsv, comma-separated otherwise. */
static char delimiter_for(const char *path) {
  const char *dot = strrchr(path, '.');
  if (dot && (strcasecmp(dot, ".tab") == 0 || strcasecmp(dot, ".tsv") == 0)) return '\t';
  return ',';
}

int tr_store_import_csv(tr_store *s, const char *path, tr_kpi_format format, unsigned flags,
                        const char *const *known_kpis, tr_import_report *report, tr_error *err) {
  tr_import_report scratch = {0};
  if (!report) report = &scratch;
  tr_import_report in = *report;
  memset(report, 0, sizeof *report);
  report->on_problem = in.on_problem;
  report->ud = in.ud;
  report->progress_out = in.progress_out;

  importer im;
  memset(&im, 0, sizeof im);
  im.s = s;
  im.path = path;
  im.format = format;
  im.flags = flags;
  im.rep = report;
  im.err = err;
  tr_map_init(&im.known_set);
  tr_map_init(&im.names.index);
  tr_map_init(&im.sources.index);
  tr_arena_init(&im.keys);
  tr_sha256_init(&im.sha);

  int rc = TR_OK;
  FILE *f = fopen(path, "rb");
  if (!f) return tr_error_set(err, TR_ERR_IO, path, 0, 0, "cannot read: %s", strerror(errno));
  if (known_kpis) {
    im.known = known_kpis;
    while (known_kpis[im.nknown]) {
      if (tr_map_put(&im.known_set, known_kpis[im.nknown], (void *)known_kpis[im.nknown])) {
        rc = tr_error_set(err, TR_ERR_NOMEM, path, 0, 0, "out of memory importing");
        break;
      }
      im.nknown++;
    }
  }
  struct stat stt;
  if (!rc && report->progress_out && fstat(fileno(f), &stt) == 0 && S_ISREG(stt.st_mode))
    im.progress = tr_progress_new(report->progress_out, "import bytes", (uint64_t)stt.st_size, 0);
  tr_csv_opts o = {0};
  o.delim = delimiter_for(path);
  o.on_bytes = on_bytes;
  o.ud = &im;
  if (!rc) rc = tr_csv_open_file(&im.csv, f, path, &o, err);
  int in_txn = 0;
  if (!rc) {
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
      rc = tr_store_db_error(s->db, path, "starting the import", err);
    else
      in_txn = 1;
  }
  if (!rc) rc = prepare(&im);
  if (!rc) rc = read_all(&im);
  if (!rc) rc = write_queue(&im); /* the rows of the sorted start come before the sorted rest */
  if (!rc) rc = flush_pending(&im);
  if (!rc) rc = write_queue(&im);
  tr_sha256_hex(&im.sha, report->sha256);
  tr_progress_finish(im.progress);
  if (!rc && ferror(f)) rc = tr_error_set(err, TR_ERR_IO, path, 0, 0, "read error");
  if (!rc && (flags & TR_IMPORT_STRICT) && report->rows_rejected + report->columns_ignored > 0)
    rc = tr_error_set(err, TR_ERR_INVALID, path, 0, 0,
                      "%ld bad row%s%s: the whole file is rejected (strict); nothing imported",
                      report->rows_rejected, report->rows_rejected == 1 ? "" : "s",
                      report->columns_ignored ? " and bad KPI columns" : "");
  if (!rc) report->previous_import_id = previous_import(&im);
  int keep = !rc && !(flags & TR_IMPORT_DRY_RUN) && report->inserted + report->updated > 0;
  if (keep) rc = finish_log(&im);
  sqlite3_finalize(im.ins);
  sqlite3_finalize(im.upd);
  sqlite3_finalize(im.many);
  if (in_txn) {
    if (keep && !rc) {
      if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = tr_store_db_error(s->db, path, "committing the import", err);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      } else {
        report->import_id = im.import_id;
      }
    } else {
      sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
  }
  tr_csv_free(im.csv);
  fclose(f);
  tr_progress_free(im.progress);
  tr_map_free(&im.known_set);
  keyset_free(&im.seen);
  tr_free(im.pending);
  tr_free(im.qtext);
  interned_free(&im.names);
  interned_free(&im.sources);
  tr_arena_release(&im.keys);
  return rc;
}
