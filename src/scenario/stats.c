/* Monte Carlo statistics: exact then streaming percentiles, events, tails, convergence. */
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE), a Linux hint; without it, plain pages */
#include "scenario/stats.h"

#include "base/simd.h"
#include "scenario/special.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const double tr_stats_pct[TR_STATS_NPCT] = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95};

/* Runs buffered before they are added to the histograms cell by cell: one histogram is then
 * touched many times in a row instead of once per run (a run touches every cell's histogram,
 * which for thousands of cells means a cache miss per value). The buffer holds PEND_BYTES of
 * runs, at least PEND_MIN and at most PEND_MAX: a histogram of 2,048 bins is 128 cache
 * lines, so with 64 runs per flush most increments still missed the cache; with a few
 * hundred, each line brought in serves several. Each cell still receives its values in run
 * order, so the result is the same as adding them one run at a time. */
#define PEND_BYTES ((size_t)2 << 20)
#define PEND_MIN 64
#define PEND_MAX 1024

/* Cells per chunk of the per-run loops: gcc -O2 vectorises only loops it can cover
 * without a scalar remainder, so the loops run over chunks of a fixed size and finish the
 * last few cells one by one. */
#define CHUNK 8

/* The streaming histogram of one cell. */
typedef struct cell {
  uint64_t nonfinite;
  double lo, width; /* histogram over [lo, lo + width]; width 0 = not started */
  uint32_t *bins;   /* streaming: points into tr_stats.hist */
} cell;

/* The moments are kept as separate arrays (not in `cell`) so that the per-run update, the
 * hot loop of a Monte Carlo, runs over contiguous memory and vectorises. */
struct tr_stats {
  size_t cells, cap, nbins;
  uint64_t runs;
  /* Shards: cells [k * shard_sz, (k + 1) * shard_sz) for k < nshards, which threads may add
   * at the same time (tr_stats_round_shard). finite[k]: no non-finite value seen yet in
   * shard k, so every cell of it has n == runs and its per-cell counts are not kept. */
  size_t shard_sz, nshards;
  uint8_t *finite;
  /* Exact mode: the kept values of shard k are vals[k], runs × (its cells), row-major: each
   * shard has memory of its own, which the thread that adds the shard is the first to write
   * (so two threads never fault in the same fresh pages). */
  double **vals;
  size_t vcap;    /* runs allocated in every vals[k] */
  uint32_t *hist; /* streaming mode: cells × nbins (run counts fit: runs <= UINT32_MAX) */
  double *pend;   /* streaming mode: up to pcap runs not yet in the histograms */
  size_t npend, pcap;
  cell *c;
  /* Streaming: each cell's histogram range [hlo, hhi] and bins per unit (nb / width), as
   * separate arrays so that the bin indices of neighbouring cells are computed in one vector
   * loop (bin_index). An unstarted cell has hlo = +inf, hhi = -inf: nothing is inside. */
  double *hlo, *hhi, *hsc;
  uint64_t *n;                 /* finite values per cell, kept once its shard's finite is 0 */
  double *mean, *m2, *mn, *mx; /* Welford mean and sum of squares, min, max */
};

size_t tr_stats_cap_for_memory(size_t bytes, size_t cells) {
  size_t per_run = (cells ? cells : 1) * sizeof(double);
  size_t cap = bytes / per_run;
  return cap ? cap : 1;
}

size_t tr_stats_bins_for_memory(size_t bytes, size_t cells) {
  size_t b = TR_STATS_DEFAULT_BINS;
  while (b > 64 && (cells ? cells : 1) * b * sizeof(uint32_t) > bytes / 4)
    b /= 2;
  return b;
}

int tr_stats_new(tr_stats **out, size_t cells, size_t exact_cap, size_t bins, tr_error *err) {
  *out = NULL;
  if (cells == 0 || exact_cap == 0 || bins < 16 || bins % 2 != 0)
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "statistics need cells >= 1, an exact cap >= 1 and an even bin count "
                        ">= 16 (got %zu, %zu, %zu)",
                        cells, exact_cap, bins);
  tr_stats *s = tr_calloc(1, sizeof *s);
  if (s) {
    s->c = tr_calloc(cells, sizeof *s->c);
    s->finite = tr_malloc(cells / CHUNK + 1);
    s->vals = tr_calloc(cells / CHUNK + 1, sizeof *s->vals);
    s->n = tr_calloc(cells, sizeof *s->n);
    s->mean = tr_calloc(cells, sizeof *s->mean);
    s->m2 = tr_calloc(cells, sizeof *s->m2);
    s->mn = tr_malloc(cells * sizeof *s->mn);
    s->mx = tr_malloc(cells * sizeof *s->mx);
  }
  if (!s || !s->c || !s->finite || !s->vals || !s->n || !s->mean || !s->m2 || !s->mn || !s->mx) {
    tr_stats_free(s);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  s->cells = cells;
  s->cap = exact_cap;
  s->nbins = bins;
  s->shard_sz = (cells + CHUNK - 1) / CHUNK * CHUNK;
  s->nshards = 1;
  s->finite[0] = 1;
  for (size_t i = 0; i < cells; i++) {
    s->mn[i] = INFINITY;
    s->mx[i] = -INFINITY;
  }
  *out = s;
  return TR_OK;
}

void tr_stats_free(tr_stats *s) {
  if (!s) return;
  for (size_t k = 0; s->vals && k <= s->cells / CHUNK; k++)
    tr_free(s->vals[k]);
  tr_free(s->vals);
  tr_free(s->hist);
  tr_free(s->pend);
  tr_free(s->c);
  tr_free(s->finite);
  tr_free(s->hlo);
  tr_free(s->hhi);
  tr_free(s->hsc);
  tr_free(s->n);
  tr_free(s->mean);
  tr_free(s->m2);
  tr_free(s->mn);
  tr_free(s->mx);
  tr_free(s);
}

/* Ask for transparent huge pages over the 2 MiB-aligned inside of a large block. The exact
 * storage of a big study is hundreds of MiB written once, row by row: with 4 KiB pages the
 * page faults (one per 4 KiB, serialised in the kernel between threads) took about a quarter
 * of a batched SIR run's time. A hint only: nothing changes where it is not supported. */
static void huge_pages(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t huge = (uintptr_t)2 << 20;
  uintptr_t b = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + bytes) & ~(huge - 1);
  if (e > b) (void)madvise((void *)b, e - b, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

/* Cells of shard k. */
static void shard_range(const tr_stats *s, size_t k, size_t *c0, size_t *c1) {
  *c0 = k * s->shard_sz;
  *c1 = *c0 + s->shard_sz < s->cells ? *c0 + s->shard_sz : s->cells;
}

/* Where the kept value of run r in cell ci is, and the distance between two runs there. */
static double *kept(const tr_stats *s, size_t ci, size_t *stride) {
  size_t k = ci / s->shard_sz, c0, c1;
  shard_range(s, k, &c0, &c1);
  *stride = c1 - c0;
  return s->vals[k] + (ci - c0);
}

int tr_stats_reserve(tr_stats *s, size_t runs) {
  if (s->hist) return TR_OK;
  if (runs > s->cap) runs = s->cap;
  if (runs <= s->vcap) return TR_OK;
  for (size_t k = 0; k < s->nshards; k++) {
    size_t c0, c1;
    shard_range(s, k, &c0, &c1);
    size_t bytes = runs * (c1 - c0) * sizeof(double);
    double *nv = tr_realloc(s->vals[k], bytes);
    if (!nv) return TR_ERR_NOMEM; /* the shards grown so far keep their new size */
    s->vals[k] = nv;
    huge_pages(nv, bytes);
  }
  s->vcap = runs;
  return TR_OK;
}

uint64_t tr_stats_runs(const tr_stats *s) {
  return s->runs;
}

int tr_stats_is_exact(const tr_stats *s) {
  return s->hist == NULL;
}

/* Double the histogram's range towards x until x fits; pairs of bins merge exactly. */
static void hist_expand(cell *c, size_t nb, double x) {
  size_t half = nb / 2;
  while (x < c->lo || x > c->lo + c->width) {
    uint32_t *b = c->bins;
    if (x < c->lo) {
      /* New range [lo - width, lo + width]: old bin i lands in new bin half + i/2. */
      for (size_t i = half; i-- > 0;)
        b[half + i] = b[2 * i] + b[2 * i + 1];
      for (size_t i = 0; i < half; i++)
        b[i] = 0;
      c->lo -= c->width;
    } else {
      /* New range [lo, lo + 2 width]: old bin i lands in new bin i/2. */
      for (size_t i = 0; i < half; i++)
        b[i] = b[2 * i] + b[2 * i + 1];
      for (size_t i = half; i < nb; i++)
        b[i] = 0;
    }
    c->width *= 2;
  }
}

/* Start the histogram at x (when empty) and widen it until x fits: the rare path. */
static void hist_fit(cell *c, size_t nb, double x) {
  if (c->width == 0) {
    double e = (fabs(x) > 0 ? fabs(x) : 1.0) * 1e-6;
    c->lo = x - 0.5 * e;
    c->width = e;
  }
  hist_expand(c, nb, x);
}

/* Copy cell ci's range into the arrays the hot loops read. */
static void hist_sync(tr_stats *s, size_t ci) {
  const cell *c = &s->c[ci];
  if (c->width == 0) {
    s->hlo[ci] = INFINITY;
    s->hhi[ci] = -INFINITY;
    s->hsc[ci] = 1.0;
  } else {
    s->hlo[ci] = c->lo;
    s->hhi[ci] = c->lo + c->width;
    s->hsc[ci] = (double)s->nbins / c->width;
  }
}

/* Add finite x to cell ci's histogram. The bin is (x - lo) * (nb / width): a multiplication,
 * the same in every path (bin_index), so that a value lands in the same bin whichever loop
 * adds it; x = hi lands in the last bin. */
static void hist_add(tr_stats *s, size_t ci, double x) {
  if (!(x >= s->hlo[ci] && x <= s->hhi[ci])) {
    hist_fit(&s->c[ci], s->nbins, x);
    hist_sync(s, ci);
  }
  long j = (long)((x - s->hlo[ci]) * s->hsc[ci]);
  s->c[ci].bins[j < (long)s->nbins ? j : (long)s->nbins - 1]++;
}

/* Finite values of cell ci so far: while every value of its shard was finite, every cell
 * has one per run and the per-cell counts are not kept (one store per value less on the hot
 * path). */
static uint64_t count(const tr_stats *s, size_t ci) {
  return s->finite[ci / s->shard_sz] ? s->runs : s->n[ci];
}

/* Welford update of the finite moments and min/max of cell ci. The division by the count is
 * a multiplication by its reciprocal, as in moments_row, so that both paths do the same
 * arithmetic (and a constant cell stays exact: d is 0 after its first value). */
static void moments_add(tr_stats *s, size_t ci, double x) {
  uint64_t n = ++s->n[ci];
  double d = x - s->mean[ci];
  s->mean[ci] += d * (1.0 / (double)n);
  s->m2[ci] += d * (x - s->mean[ci]);
  if (x < s->mn[ci]) s->mn[ci] = x;
  if (x > s->mx[ci]) s->mx[ci] = x;
}

/* acc[c] += x[c] - x[c]: 0 for finite x, NaN for NaN and infinities (never folded away
 * without -ffast-math); element-wise, so it vectorises. */
static TR_ALWAYS_INLINE void nan_probe(size_t n, const double *restrict x, double *restrict acc) {
  for (size_t c = 0; c < n; c++)
    acc[c] += x[c] - x[c];
}

/* 1 when some x[i] is NaN or infinite. */
TR_VECTOR_CLONES static int any_nonfinite(const double *x, size_t n) {
  double acc[CHUNK] = {0};
  size_t i = 0;
  for (; i + CHUNK <= n; i += CHUNK)
    nan_probe(CHUNK, &x[i], acc);
  nan_probe(n - i, &x[i], acc);
  int bad = 0;
  for (size_t j = 0; j < CHUNK; j++)
    bad |= !(acc[j] == 0);
  return bad;
}

/* One Welford step of cells [0, n) with finite values x, all cells at count 1 / inv. The
 * arrays are restrict parameters (not locals) so that gcc needs no run-time alias check. */
static TR_ALWAYS_INLINE void welford(size_t n, const double *restrict x, double *restrict mean,
                                     double *restrict m2, double *restrict mn, double *restrict mx,
                                     double inv) {
  for (size_t c = 0; c < n; c++) {
    double v = x[c], d = v - mean[c];
    mean[c] += d * inv;
    m2[c] += d * (v - mean[c]);
    mn[c] = v < mn[c] ? v : mn[c];
    mx[c] = v > mx[c] ? v : mx[c];
  }
}

/* Welford step of cells [c0, c1) (c0 a multiple of CHUNK) with finite values x[c0..c1). */
TR_VECTOR_CLONES static void moments_row(tr_stats *s, const double *x, size_t c0, size_t c1,
                                         double inv) {
  size_t c = c0;
  for (; c + CHUNK <= c1; c += CHUNK)
    welford(CHUNK, &x[c], &s->mean[c], &s->m2[c], &s->mn[c], &s->mx[c], inv);
  welford(c1 - c, &x[c], &s->mean[c], &s->m2[c], &s->mn[c], &s->mx[c], inv);
}

/* The cells of shard k of one row, the row of run `run` (counted from 0; the run is counted
 * by the caller afterwards). Cells are independent: the arithmetic of a cell is the same
 * whatever the shards are. */
static void moments(tr_stats *s, size_t k, const double *row, uint64_t run) {
  size_t c0, c1;
  shard_range(s, k, &c0, &c1);
  if (s->finite[k] && !any_nonfinite(&row[c0], c1 - c0)) {
    moments_row(s, row, c0, c1, 1.0 / (double)(run + 1));
    return;
  }
  if (s->finite[k]) { /* from now on every cell of the shard keeps its own count */
    s->finite[k] = 0;
    for (size_t ci = c0; ci < c1; ci++)
      s->n[ci] = run;
  }
  for (size_t ci = c0; ci < c1; ci++) {
    double x = row[ci];
    if (isfinite(x))
      moments_add(s, ci, x);
    else
      s->c[ci].nonfinite++;
  }
}

/* Every shard of one row. */
static void moments_all(tr_stats *s, const double *row, uint64_t run) {
  for (size_t k = 0; k < s->nshards; k++)
    moments(s, k, row, run);
}

/* Exact -> streaming: a histogram per cell over the observed range, then the kept values. */
static int go_streaming(tr_stats *s) {
  size_t nb = s->nbins, cells = s->cells;
  s->hist = tr_calloc(cells * nb, sizeof *s->hist);
  s->hlo = tr_malloc(cells * sizeof *s->hlo);
  s->hhi = tr_malloc(cells * sizeof *s->hhi);
  s->hsc = tr_malloc(cells * sizeof *s->hsc);
  if (!s->hist || !s->hlo || !s->hhi || !s->hsc) {
    tr_free(s->hist);
    tr_free(s->hlo);
    tr_free(s->hhi);
    tr_free(s->hsc);
    s->hlo = s->hhi = s->hsc = NULL;
    s->hist = NULL; /* still exact */
    return TR_ERR_NOMEM;
  }
  for (size_t ci = 0; ci < cells; ci++) {
    cell *c = &s->c[ci];
    c->bins = &s->hist[ci * nb];
    if (count(s, ci) > 0 && s->mx[ci] > s->mn[ci]) {
      c->lo = s->mn[ci];
      c->width = s->mx[ci] - s->mn[ci];
    }
    hist_sync(s, ci);
    size_t w;
    const double *v = kept(s, ci, &w);
    for (uint64_t r = 0; r < s->runs; r++) {
      double x = v[r * w];
      if (isfinite(x)) hist_add(s, ci, x);
    }
  }
  for (size_t k = 0; k < s->nshards; k++) {
    tr_free(s->vals[k]);
    s->vals[k] = NULL;
  }
  s->vcap = 0;
  return TR_OK;
}

/* The bins of n neighbouring cells for one run's values x, or -1 where x is outside the
 * cell's range (or not finite): element-wise, so it vectorises. Out-of-range values are
 * replaced before the conversion to an integer, which is defined only for values in range. */
static TR_ALWAYS_INLINE void bin_index(size_t n, const double *restrict x,
                                       const double *restrict lo, const double *restrict hi,
                                       const double *restrict sc, double top, int32_t *restrict j) {
  for (size_t k = 0; k < n; k++) {
    double t = (x[k] - lo[k]) * sc[k];
    t = t < top ? t : top;
    int in = (x[k] >= lo[k]) & (x[k] <= hi[k]);
    j[k] = (int32_t)(in ? t : -1.0);
  }
}

/* Rows whose bins are computed at a time: a stack buffer of IDX_ROWS × CHUNK indices. */
#define IDX_ROWS 256
#define PREFETCH_ROWS 16
#if defined(__GNUC__)
#define TR_PREFETCH(p) __builtin_prefetch(p)
#else
#define TR_PREFETCH(p) ((void)(p))
#endif

/* Add np rows of the tile of CHUNK cells from t0 (x0: its values in the first row, rows
 * s->cells apart) to the histograms, with the bins idx computed already. neg < 0: some value
 * was outside its cell's range, so the rows are added one by one instead, each value outside
 * widening its cell's histogram before the next row's bins are computed. */
static TR_ALWAYS_INLINE void add_tile(tr_stats *s, size_t t0, const double *x0, size_t np,
                                      const int32_t *idx, int32_t neg, double top) {
  if (neg >= 0) {
    uint32_t *b[CHUNK];
    for (size_t k = 0; k < CHUNK; k++)
      b[k] = s->c[t0 + k].bins;
    for (size_t r = 0; r < np; r++)
      for (size_t k = 0; k < CHUNK; k++)
        b[k][idx[r * CHUNK + k]]++;
    return;
  }
  for (size_t r = 0; r < np; r++) {
    const double *x = &x0[r * s->cells];
    int32_t j[CHUNK];
    bin_index(CHUNK, x, &s->hlo[t0], &s->hhi[t0], &s->hsc[t0], top, j);
    for (size_t k = 0; k < CHUNK; k++)
      if (j[k] >= 0)
        s->c[t0 + k].bins[j[k]]++;
      else if (isfinite(x[k]))
        hist_add(s, t0 + k, x[k]);
  }
}

/* Add rows [0, nrows) of cells [c0, c1) (c0 a multiple of CHUNK) to their histograms, each
 * cell's values in run order. Tiles of CHUNK neighbouring cells: each row gives one cache
 * line of values and the tile's histograms stay in cache while its rows are added. The bins
 * of up to IDX_ROWS rows of a tile are computed first, in one vector loop per row, then
 * added with the tile's bin pointers in registers; the increments go to CHUNK histograms in
 * turn, so that a narrow distribution (every run in the same bin) does not make one long
 * chain of dependent increments. Rows where some value is outside its cell's range (rare
 * once the range has settled) are added one by one instead, each value outside widening its
 * cell's histogram before the next row's bins are computed. */
TR_VECTOR_CLONES static void hist_rows(tr_stats *s, const double *rows, size_t nrows, size_t c0,
                                       size_t c1) {
  size_t cells = s->cells, nb = s->nbins, t0 = c0;
  double top = (double)(nb - 1);
  int32_t idx[IDX_ROWS * CHUNK];
  for (; t0 + CHUNK <= c1; t0 += CHUNK)
    for (size_t r0 = 0; r0 < nrows; r0 += IDX_ROWS) {
      size_t np = nrows - r0 < IDX_ROWS ? nrows - r0 : IDX_ROWS;
      const double *x0 = &rows[r0 * cells + t0];
      int32_t neg = 0;
      for (size_t r = 0; r < np; r++) {
        int32_t *j = &idx[r * CHUNK];
        bin_index(CHUNK, &x0[r * cells], &s->hlo[t0], &s->hhi[t0], &s->hsc[t0], top, j);
        for (size_t k = 0; k < CHUNK; k++)
          neg |= j[k];
      }
      add_tile(s, t0, x0, np, idx, neg, top);
    }
  for (size_t r = 0; r < nrows; r++)
    for (size_t ci = t0; ci < c1; ci++) {
      double x = rows[r * cells + ci];
      if (isfinite(x)) hist_add(s, ci, x);
    }
}

/* Add the buffered runs to the histograms. */
static void flush_pending(tr_stats *s) {
  for (size_t k = 0; k < s->nshards; k++) {
    size_t c0, c1;
    shard_range(s, k, &c0, &c1);
    hist_rows(s, s->pend, s->npend, c0, c1);
  }
  s->npend = 0;
}

/* Exact storage for at least `need` runs (need <= cap), growing geometrically so that runs
 * added one at a time are not copied again and again. */
static int grow_exact(tr_stats *s, size_t need) {
  if (need <= s->vcap) return TR_OK;
  size_t want = s->vcap ? s->vcap * 2 : 64;
  return tr_stats_reserve(s, want > need ? want : need);
}

/* Copy shard k's part of nrows rows (row-major, all cells) to its kept values, after the runs
 * counted so far. */
static void keep_rows(tr_stats *s, const double *rows, size_t nrows, size_t k) {
  size_t c0, c1;
  shard_range(s, k, &c0, &c1);
  size_t w = c1 - c0;
  double *dst = s->vals[k] + s->runs * w;
  for (size_t r = 0; r < nrows; r++)
    memcpy(&dst[r * w], &rows[r * s->cells + c0], w * sizeof *dst);
}

int tr_stats_add_rows(tr_stats *s, const double *rows, size_t nrows) {
  size_t cells = s->cells;
  while (nrows > 0) {
    if (!s->hist && s->runs == s->cap && go_streaming(s) != TR_OK) return TR_ERR_NOMEM;
    if (!s->hist) { /* exact: a round of the rows that fit, every shard in turn */
      size_t n = nrows < s->cap - (size_t)s->runs ? nrows : s->cap - (size_t)s->runs;
      if (tr_stats_round_begin(s, n) != TR_OK) return TR_ERR_NOMEM;
      for (size_t k = 0; k < s->nshards; k++)
        tr_stats_round_shard(s, rows, n, k);
      tr_stats_round_end(s, n);
      rows += n * cells;
      nrows -= n;
      continue;
    }
    if (!s->pend) { /* streaming: runs added a few at a time wait in a buffer */
      s->pcap = PEND_BYTES / (cells * sizeof *s->pend);
      s->pcap = s->pcap < PEND_MIN ? PEND_MIN : s->pcap > PEND_MAX ? PEND_MAX : s->pcap;
      s->pend = tr_malloc(s->pcap * cells * sizeof *s->pend);
      if (!s->pend) return TR_ERR_NOMEM;
    }
    size_t n = nrows < s->pcap - s->npend ? nrows : s->pcap - s->npend;
    double *dst = &s->pend[s->npend * cells];
    s->npend += n;
    memcpy(dst, rows, n * cells * sizeof *rows);
    for (size_t r = 0; r < n; r++) {
      moments_all(s, &dst[r * cells], s->runs); /* the copy is in cache */
      s->runs++;
    }
    if (s->hist && s->npend == s->pcap) flush_pending(s);
    rows += n * cells;
    nrows -= n;
  }
  return TR_OK;
}

int tr_stats_set_shards(tr_stats *s, size_t n) {
  if (s->runs > 0 || n == 0) return TR_ERR_INVALID;
  size_t reserved = s->vcap; /* no run is kept yet: reserve again for the new shards */
  for (size_t k = 0; k < s->nshards; k++) {
    tr_free(s->vals[k]);
    s->vals[k] = NULL;
  }
  s->vcap = 0;
  size_t per = (s->cells + n - 1) / n;
  s->shard_sz = (per + CHUNK - 1) / CHUNK * CHUNK;
  s->nshards = (s->cells + s->shard_sz - 1) / s->shard_sz;
  for (size_t k = 0; k < s->nshards; k++)
    s->finite[k] = 1;
  return reserved ? tr_stats_reserve(s, reserved) : TR_OK;
}

size_t tr_stats_shards(const tr_stats *s) {
  return s->nshards;
}

size_t tr_stats_round_max(const tr_stats *s) {
  if (s->hist || s->runs == s->cap) return SIZE_MAX;
  return s->cap - (size_t)s->runs;
}

int tr_stats_round_begin(tr_stats *s, size_t nrows) {
  if (s->npend) flush_pending(s); /* runs added before come first */
  if (!s->hist && s->runs == s->cap && go_streaming(s) != TR_OK) return TR_ERR_NOMEM;
  if (s->hist) return TR_OK;
  if (nrows > s->cap - (size_t)s->runs) return TR_ERR_INVALID;
  return grow_exact(s, (size_t)s->runs + nrows);
}

/* 1 when some value of cells [c0, c1) of the rows is NaN or infinite. */
static int rows_nonfinite(const tr_stats *s, const double *rows, size_t nrows, size_t c0,
                          size_t c1) {
  for (size_t r = 0; r < nrows; r++)
    if (any_nonfinite(&rows[r * s->cells + c0], c1 - c0)) return 1;
  return 0;
}

/* A streamed round of cells [c0, c1) (c0 a multiple of CHUNK) whose values are all finite,
 * in one pass: tile by tile (CHUNK cells), each value is read once, for its moments (kept in
 * locals across the rows) and for its bin; then the bins are added as in hist_rows. The
 * moments are those of moments_row, step for step. */
TR_VECTOR_CLONES static void fused_rows(tr_stats *s, const double *rows, size_t nrows, size_t c0,
                                        size_t c1) {
  size_t cells = s->cells, nb = s->nbins, t0 = c0;
  double top = (double)(nb - 1);
  uint64_t run0 = s->runs;
  int32_t idx[IDX_ROWS * CHUNK];
  for (; t0 + CHUNK <= c1; t0 += CHUNK) {
    double mean[CHUNK], m2[CHUNK], mn[CHUNK], mx[CHUNK];
    memcpy(mean, &s->mean[t0], sizeof mean);
    memcpy(m2, &s->m2[t0], sizeof m2);
    memcpy(mn, &s->mn[t0], sizeof mn);
    memcpy(mx, &s->mx[t0], sizeof mx);
    for (size_t r0 = 0; r0 < nrows; r0 += IDX_ROWS) {
      size_t np = nrows - r0 < IDX_ROWS ? nrows - r0 : IDX_ROWS;
      const double *x0 = &rows[r0 * cells + t0];
      int32_t neg = 0;
      for (size_t r = 0; r < np; r++) {
        const double *x = &x0[r * cells];
        int32_t *j = &idx[r * CHUNK];
        /* The rows are cells * 8 bytes apart, more than a page for a few hundred cells,
         * which the hardware prefetchers do not follow: ask for a row PREFETCH_ROWS ahead
         * (about 20% off a streamed round in bench). */
        if (r + PREFETCH_ROWS < np) TR_PREFETCH(&x0[(r + PREFETCH_ROWS) * cells]);
        welford(CHUNK, x, mean, m2, mn, mx, 1.0 / (double)(run0 + r0 + r + 1));
        bin_index(CHUNK, x, &s->hlo[t0], &s->hhi[t0], &s->hsc[t0], top, j);
        for (size_t k = 0; k < CHUNK; k++)
          neg |= j[k];
      }
      add_tile(s, t0, x0, np, idx, neg, top);
    }
    memcpy(&s->mean[t0], mean, sizeof mean);
    memcpy(&s->m2[t0], m2, sizeof m2);
    memcpy(&s->mn[t0], mn, sizeof mn);
    memcpy(&s->mx[t0], mx, sizeof mx);
  }
  for (size_t r = 0; r < nrows && t0 < c1; r++) { /* the last few cells */
    const double *x = &rows[r * cells];
    welford(c1 - t0, &x[t0], &s->mean[t0], &s->m2[t0], &s->mn[t0], &s->mx[t0],
            1.0 / (double)(run0 + r + 1));
    for (size_t ci = t0; ci < c1; ci++)
      hist_add(s, ci, x[ci]);
  }
}

void tr_stats_round_shard(tr_stats *s, const double *rows, size_t nrows, size_t k) {
  size_t c0, c1;
  shard_range(s, k, &c0, &c1);
  if (s->hist && s->finite[k] && !rows_nonfinite(s, rows, nrows, c0, c1)) {
    fused_rows(s, rows, nrows, c0, c1);
    return;
  }
  if (!s->hist) keep_rows(s, rows, nrows, k);
  for (size_t r = 0; r < nrows; r++)
    moments(s, k, &rows[r * s->cells], s->runs + r);
  if (s->hist) hist_rows(s, rows, nrows, c0, c1);
}

void tr_stats_round_end(tr_stats *s, size_t nrows) {
  s->runs += nrows;
}

int tr_stats_add(tr_stats *s, const double *values) {
  return tr_stats_add_rows(s, values, 1);
}

void tr_welford_add(tr_welford *w, double x) {
  if (!isfinite(x)) return;
  w->n++;
  double d = x - w->mean; /* as moments_add and welford */
  w->mean += d * (1.0 / (double)w->n);
  w->m2 += d * (x - w->mean);
}

void tr_welford_get(const tr_welford *w, uint64_t *n, double *mean, double *sd) {
  *n = w->n;
  *mean = w->n ? w->mean : NAN;
  *sd = w->n > 1 ? sqrt(w->m2 / (double)(w->n - 1)) : 0.0;
}

void tr_stats_moments(const tr_stats *s, size_t cell_i, uint64_t *n, double *mean, double *sd) {
  uint64_t k = count(s, cell_i);
  *n = k;
  *mean = k ? s->mean[cell_i] : NAN;
  *sd = k > 1 ? sqrt(s->m2[cell_i] / (double)(k - 1)) : 0.0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The finite values of an exact cell, unordered, in a new array (*out NULL when n == 0). */
static int cell_values(const tr_stats *s, size_t ci, double **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (count(s, ci) == 0) return TR_OK;
  double *v = tr_malloc(count(s, ci) * sizeof *v);
  if (!v) return TR_ERR_NOMEM;
  size_t k = 0, w;
  const double *kv = kept(s, ci, &w);
  for (uint64_t r = 0; r < s->runs; r++) {
    double x = kv[r * w];
    if (isfinite(x)) v[k++] = x;
  }
  *out = v;
  *n = k;
  return TR_OK;
}

/* Hoare partition of a[lo..hi] (lo < hi) around the median of three: returns j with
 * a[lo..j] <= pivot <= a[j+1..hi], lo <= j < hi; runs of equal values are split evenly. */
static size_t partition(double *a, size_t lo, size_t hi) {
  size_t mid = lo + (hi - lo) / 2;
  double x = a[lo], y = a[mid], z = a[hi];
  double piv = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
  size_t i = lo, j = hi;
  for (;;) {
    while (a[i] < piv)
      i++;
    while (a[j] > piv)
      j--;
    if (i >= j) return j;
    double t = a[i];
    a[i] = a[j];
    a[j] = t;
    i++;
    j--;
  }
}

/* Rearrange a[lo..hi] so that a[k] is the value a full sort would put there, everything
 * before it <= a[k] and everything after >= a[k] (quickselect). Percentiles need a handful
 * of order statistics, so this replaces an O(n log n) sort per cell by O(n) expected work. */
static void select_k(double *a, size_t lo, size_t hi, size_t k) {
  while (hi > lo) {
    size_t j = partition(a, lo, hi);
    if (k <= j)
      hi = j;
    else
      lo = j + 1;
  }
}

/* Put the order statistics ks[0..nk) (ascending, all in [lo, hi]) of a[lo..hi] in their
 * places at once: each partition sends every wanted rank to its side, so the work is about
 * n log(nk) instead of nk selections over most of the array. */
static void multiselect(double *a, size_t lo, size_t hi, const size_t *ks, size_t nk) {
  while (nk > 1 && hi > lo) {
    size_t j = partition(a, lo, hi), m = 0;
    while (m < nk && ks[m] <= j)
      m++;
    if (m > 0) multiselect(a, lo, j, ks, m);
    lo = j + 1;
    ks += m;
    nk -= m;
  }
  if (nk == 1) select_k(a, lo, hi, ks[0]);
}

/* Type-7 quantile of a[from..n) where everything before `from` is already <= it: select the
 * lower order statistic, then the next one is the minimum of what lies above it. */
static double type7_select(double *a, size_t n, double q, size_t from) {
  double h = q * (double)(n - 1);
  size_t i = (size_t)floor(h);
  if (i >= n - 1) i = n - 1;
  if (i >= from) select_k(a, from, n - 1, i);
  double lo = a[i];
  if (i + 1 >= n || h == (double)i) return lo;
  double next = a[i + 1];
  for (size_t t = i + 2; t < n; t++)
    if (a[t] < next) next = a[t];
  return lo + (h - (double)i) * (next - lo);
}

/* Streaming estimate: inside the bin holding order statistic floor(q (n - 1)). */
static double hist_quantile(const tr_stats *s, size_t ci, double q) {
  const cell *c = &s->c[ci];
  size_t nb = s->nbins;
  double lo_x = s->mn[ci], hi_x = s->mx[ci];
  uint64_t k = (uint64_t)floor(q * (double)(count(s, ci) - 1)), cum = 0;
  double bw = c->width / (double)nb;
  for (size_t j = 0; j < nb; j++) {
    if (c->bins[j] > k - cum) {
      double f = ((double)(k - cum) + 0.5) / (double)c->bins[j];
      double x = c->lo + ((double)j + f) * bw;
      return x < lo_x ? lo_x : x > hi_x ? hi_x : x;
    }
    cum += c->bins[j];
  }
  return hi_x;
}

int tr_stats_quantile(tr_stats *s, size_t ci, double q, double *out) {
  if (s->npend) flush_pending(s);
  if (count(s, ci) == 0) {
    *out = NAN;
    return TR_OK;
  }
  if (s->hist) {
    *out = hist_quantile(s, ci, q);
    return TR_OK;
  }
  double *v;
  size_t n;
  if (cell_values(s, ci, &v, &n) != TR_OK) return TR_ERR_NOMEM;
  *out = type7_select(v, n, q, 0);
  tr_free(v);
  return TR_OK;
}

/* Everything but the exact percentiles. Returns 1 when exact percentiles are still needed. */
static int summary_head(const tr_stats *s, size_t ci, tr_summary *out) {
  const cell *c = &s->c[ci];
  uint64_t cn = count(s, ci);
  memset(out, 0, sizeof *out);
  out->n = cn;
  out->nonfinite = c->nonfinite;
  out->exact = s->hist == NULL;
  uint64_t n;
  tr_stats_moments(s, ci, &n, &out->mean, &out->sd);
  out->min = cn ? s->mn[ci] : NAN;
  out->max = cn ? s->mx[ci] : NAN;
  if (cn == 0) {
    for (int i = 0; i < TR_STATS_NPCT; i++)
      out->pct[i] = NAN;
    return 0;
  }
  if (s->hist) {
    out->err_bound = c->width / (double)s->nbins;
    for (int i = 0; i < TR_STATS_NPCT; i++)
      out->pct[i] = hist_quantile(s, ci, tr_stats_pct[i]);
    return 0;
  }
  return 1;
}

/* Buckets of the exact percentile search (bucket_ranks). */
#define PCT_BINS 512

/* The order statistics ks[0..nk) (ascending) of v[0..k), all in [mn, mx] with mn < mx, into
 * val[0..nk), in two passes instead of selections over the whole array: the values are
 * counted in PCT_BINS buckets of equal width (a bucket holds only values greater than those
 * of every bucket before it, so the bucket of each rank is known from the counts), then the
 * values of the few buckets that hold a wanted rank are copied to `scratch` (k doubles) and
 * the ranks selected there. */
static void bucket_ranks(const double *v, size_t k, double mn, double mx, const size_t *ks,
                         size_t nk, double *scratch, double *val) {
  size_t cnt[PCT_BINS] = {0}, start[PCT_BINS + 1], off[PCT_BINS];
  unsigned char need[PCT_BINS] = {0};
  double sc = (double)PCT_BINS / (mx - mn);
  for (size_t i = 0; i < k; i++) {
    size_t b = (size_t)((v[i] - mn) * sc);
    cnt[b < PCT_BINS ? b : PCT_BINS - 1]++;
  }
  start[0] = 0;
  for (size_t b = 0; b < PCT_BINS; b++)
    start[b + 1] = start[b] + cnt[b];
  size_t bk[2 * TR_STATS_NPCT], b = 0, tot = 0;
  for (size_t i = 0; i < nk; i++) {
    while (start[b + 1] <= ks[i])
      b++;
    bk[i] = b;
    need[b] = 1;
  }
  for (size_t j = 0; j < PCT_BINS; j++)
    if (need[j]) {
      off[j] = tot;
      tot += cnt[j];
    }
  size_t fill[PCT_BINS];
  memcpy(fill, off, sizeof fill);
  for (size_t i = 0; i < k; i++) {
    size_t j = (size_t)((v[i] - mn) * sc);
    j = j < PCT_BINS ? j : PCT_BINS - 1;
    if (need[j]) scratch[fill[j]++] = v[i];
  }
  for (size_t i = 0; i < nk;) { /* the ranks of one bucket at a time */
    size_t j = bk[i], m = 0, lk[2 * TR_STATS_NPCT];
    while (i + m < nk && bk[i + m] == j) {
      lk[m] = ks[i + m] - start[j] + off[j];
      m++;
    }
    multiselect(scratch, off[j], off[j] + cnt[j] - 1, lk, m);
    for (size_t t = 0; t < m; t++)
      val[i + t] = scratch[lk[t]];
    i += m;
  }
}

/* The seven percentiles of k values in v (rearranged), between out->min and out->max: the two
 * order statistics around each type-7 position, found together (by buckets when there are
 * many values and `scratch`, k doubles, is given), then interpolated as type7_select does. */
static void exact_pcts(double *v, size_t k, tr_summary *out, double *scratch) {
  size_t ks[2 * TR_STATS_NPCT], nk = 0;
  double val[2 * TR_STATS_NPCT];
  for (int i = 0; i < TR_STATS_NPCT; i++) {
    double h = tr_stats_pct[i] * (double)(k - 1);
    size_t lo = (size_t)floor(h) < k - 1 ? (size_t)floor(h) : k - 1;
    for (size_t r = lo; r <= lo + 1 && r < k; r++)
      if (nk == 0 || ks[nk - 1] < r) ks[nk++] = r; /* ascending: the percentiles are */
  }
  double span = out->max - out->min;
  if (scratch && k >= 8 * PCT_BINS && span > 0 && isfinite(span)) {
    bucket_ranks(v, k, out->min, out->max, ks, nk, scratch, val);
  } else {
    multiselect(v, 0, k - 1, ks, nk);
    for (size_t i = 0; i < nk; i++)
      val[i] = v[ks[i]];
  }
  size_t at = 0;
  for (int i = 0; i < TR_STATS_NPCT; i++) {
    double h = tr_stats_pct[i] * (double)(k - 1);
    size_t lo = (size_t)floor(h) < k - 1 ? (size_t)floor(h) : k - 1;
    while (ks[at] < lo)
      at++;
    double x = val[at];
    out->pct[i] = lo + 1 >= k || h == (double)lo ? x : x + (h - (double)lo) * (val[at + 1] - x);
  }
}

int tr_stats_summary(tr_stats *s, size_t ci, tr_summary *out) {
  if (s->npend) flush_pending(s);
  if (!summary_head(s, ci, out)) return TR_OK;
  double *v;
  size_t k;
  if (cell_values(s, ci, &v, &k) != TR_OK) return TR_ERR_NOMEM;
  exact_pcts(v, k, out, NULL);
  tr_free(v);
  return TR_OK;
}

/* Cells gathered per pass: one row read brings BLOCK neighbouring cells, instead of one cell
 * per cache line missed. */
#define BLOCK 64

void tr_stats_settle(tr_stats *s) {
  if (s->npend) flush_pending(s);
}

int tr_stats_summaries(tr_stats *s, size_t first, size_t count, tr_summary *out) {
  if (s->npend) flush_pending(s);
  if (s->hist || s->runs == 0) {
    for (size_t i = 0; i < count; i++)
      if (tr_stats_summary(s, first + i, &out[i]) != TR_OK) return TR_ERR_NOMEM;
    return TR_OK;
  }
  size_t runs = (size_t)s->runs;
  double *buf = tr_malloc((BLOCK + 1) * runs * sizeof *buf), *scratch = buf + BLOCK * runs;
  if (!buf) return TR_ERR_NOMEM;
  for (size_t b = 0; b < count; b += BLOCK) {
    size_t nb = count - b < BLOCK ? count - b : BLOCK;
    size_t k[BLOCK] = {0}, w[BLOCK];
    const double *col[BLOCK];
    for (size_t j = 0; j < nb; j++)
      col[j] = kept(s, first + b + j, &w[j]);
    for (size_t r = 0; r < runs; r++)
      for (size_t j = 0; j < nb; j++) {
        double x = col[j][r * w[j]];
        if (isfinite(x)) buf[j * runs + k[j]++] = x;
      }
    for (size_t j = 0; j < nb; j++)
      if (summary_head(s, first + b + j, &out[b + j]))
        exact_pcts(&buf[j * runs], k[j], &out[b + j], scratch);
  }
  tr_free(buf);
  return TR_OK;
}

int tr_stats_tail(tr_stats *s, size_t ci, double alpha, double *var, double *cvar, tr_error *err) {
  if (s->npend) flush_pending(s);
  const cell *c = &s->c[ci];
  uint64_t cn = count(s, ci);
  if (!(alpha > 0 && alpha < 1))
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "the tail level must be between 0 and 1 (got %g)", alpha);
  if (cn == 0)
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0, "no finite values to take a tail of");
  uint64_t m = (uint64_t)ceil(alpha * (double)cn);
  if (m == 0) m = 1;
  if (!s->hist) {
    double *v;
    size_t k;
    if (cell_values(s, ci, &v, &k) != TR_OK)
      return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    *var = type7_select(v, k, alpha, 0);
    /* The m smallest values: select the m-th, then everything before it is smaller; summed
     * in sorted order so the result does not depend on the selection's arrangement. */
    select_k(v, 0, k - 1, (size_t)m - 1);
    qsort(v, (size_t)m, sizeof *v, cmp_double);
    double sum = 0;
    for (uint64_t i = 0; i < m; i++)
      sum += v[i];
    *cvar = sum / (double)m;
    tr_free(v);
    return TR_OK;
  }
  *var = hist_quantile(s, ci, alpha);
  double bw = c->width / (double)s->nbins, sum = 0;
  uint64_t left = m;
  for (size_t j = 0; j < s->nbins && left > 0; j++) {
    uint64_t take = c->bins[j] < left ? c->bins[j] : left;
    double mid = c->lo + ((double)j + 0.5) * bw;
    if (mid < s->mn[ci]) mid = s->mn[ci];
    if (mid > s->mx[ci]) mid = s->mx[ci];
    sum += (double)take * mid;
    left -= take;
  }
  *cvar = sum / (double)m;
  return TR_OK;
}

