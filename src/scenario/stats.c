/* Monte Carlo statistics: exact then streaming percentiles, moments, tails. */
#include "scenario/stats.h"

#include "base/bulk.h"
#include "base/simd.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

const double tr_stats_pct[TR_STATS_NPCT] = {0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95};

/* Cells per tile of the per-row loops: gcc -O2 vectorises only loops it can cover without a
 * scalar remainder, so the loops run over tiles of a fixed size and finish the last few cells
 * one by one. */
#define TILE 8

/* One thread's histograms (streaming mode): cells × nbins counts over the shared ranges, the
 * rows waiting to be added to them, and the values that fell outside their cell's range in
 * this epoch (cell, value), which the epoch's end adds after widening the ranges. */
typedef struct hset {
  uint32_t *bins;
  double *wait; /* rows added to the moments but not yet to the histograms: nwait of wcap */
  size_t nwait, wcap;
  size_t *ocell;
  double *oval;
  size_t nover, ocap;
} hset;

/* Rows a set keeps waiting before it adds them to its histograms, cell tile by cell tile: one
 * histogram is then touched many times in a row instead of once per run (a run touches every
 * cell's histogram, which for hundreds of cells means a cache miss per value). About
 * WAIT_BYTES of rows, at least WAIT_MIN and at most WAIT_MAX: a histogram of 2,048 bins is
 * 128 cache lines, so with 64 rows at a time most increments still missed the cache; with a
 * few hundred, each line brought in serves several. */
#define WAIT_BYTES ((size_t)2 << 20)
#define WAIT_MIN 128
#define WAIT_MAX 1024

struct tr_stats {
  size_t cells, cap, nbins;
  uint64_t runs; /* runs in the totals */
  /* Totals, per cell: finite values, non-finite values, mean and sum of squared deviations
   * (chunks combined in run order), min and max. Separate arrays so that the per-chunk loops
   * run over contiguous memory and vectorise. */
  uint64_t *n, *nonfinite;
  double *mean, *m2, *mn, *mx;
  /* Exact mode: the kept values, runs × cells, row-major (vcap runs fit in its vbytes, a
   * block of bulk memory). */
  double *vals;
  size_t vcap, vbytes;
  /* Streaming mode: each cell's histogram range [lo, lo + width] (width 0: not started),
   * changed only at the end of an epoch, and as the arrays the hot loops read: [hlo, hhi]
   * and bins per unit hsc = nb / width (an unstarted cell has hlo = +inf, hhi = -inf:
   * nothing is inside). One set of histograms per feeding thread. `merged`: no set has rows
   * or values waiting and the sets other than 0 are empty. omin/omax: scratch of the
   * epoch's end. */
  int streaming, merged;
  double *lo, *width, *hlo, *hhi, *hsc, *omin, *omax;
  hset *hs;
  size_t nsets;
  /* The round being fed: its first run is `runs`; chunk j's partial moments at
   * p*[j * cells ...]; pn: finite values per cell, used only when pslow[j]. */
  size_t rrows, nch, pcap;
  double *pmean, *pm2, *pmn, *pmx;
  uint32_t *pn;
  uint8_t *pslow;
  /* tr_stats_add_rows: runs of the current chunk not added yet (at most TR_STATS_CHUNK). */
  double *pend;
  size_t npend;
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
    s->n = tr_calloc(cells, sizeof *s->n);
    s->nonfinite = tr_calloc(cells, sizeof *s->nonfinite);
    s->mean = tr_calloc(cells, sizeof *s->mean);
    s->m2 = tr_calloc(cells, sizeof *s->m2);
    s->mn = tr_malloc(cells * sizeof *s->mn);
    s->mx = tr_malloc(cells * sizeof *s->mx);
  }
  if (!s || !s->n || !s->nonfinite || !s->mean || !s->m2 || !s->mn || !s->mx) {
    tr_stats_free(s);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  s->cells = cells;
  s->cap = exact_cap;
  s->nbins = bins;
  s->nsets = 1;
  s->merged = 1;
  for (size_t i = 0; i < cells; i++) {
    s->mn[i] = INFINITY;
    s->mx[i] = -INFINITY;
  }
  *out = s;
  return TR_OK;
}

static void free_sets(tr_stats *s) {
  for (size_t k = 0; s->hs && k < s->nsets; k++) {
    tr_free(s->hs[k].bins);
    tr_free(s->hs[k].wait);
    tr_free(s->hs[k].ocell);
    tr_free(s->hs[k].oval);
  }
  tr_free(s->hs);
  s->hs = NULL;
}

void tr_stats_free(tr_stats *s) {
  if (!s) return;
  free_sets(s);
  tr_bulk_free(s->vals, s->vbytes);
  tr_free(s->lo);
  tr_free(s->width);
  tr_free(s->hlo);
  tr_free(s->hhi);
  tr_free(s->hsc);
  tr_free(s->omin);
  tr_free(s->omax);
  tr_free(s->pmean);
  tr_free(s->pm2);
  tr_free(s->pmn);
  tr_free(s->pmx);
  tr_free(s->pn);
  tr_free(s->pslow);
  tr_free(s->pend);
  tr_free(s->n);
  tr_free(s->nonfinite);
  tr_free(s->mean);
  tr_free(s->m2);
  tr_free(s->mn);
  tr_free(s->mx);
  tr_free(s);
}

/* Where the kept value of run 0 in cell ci is; runs are s->cells apart. */
static const double *kept(const tr_stats *s, size_t ci) {
  return s->vals + ci;
}

int tr_stats_reserve(tr_stats *s, size_t runs) {
  if (s->streaming) return TR_OK;
  if (runs > s->cap) runs = s->cap;
  if (runs <= s->vcap) return TR_OK;
  size_t row = s->cells * sizeof(double), got;
  if (runs > SIZE_MAX / row) return TR_ERR_NOMEM;
  double *nv = tr_bulk_alloc(runs * row, &got);
  if (!nv) return TR_ERR_NOMEM;
  if (s->vals) memcpy(nv, s->vals, (size_t)s->runs * row);
  tr_bulk_free(s->vals, s->vbytes);
  s->vals = nv;
  s->vbytes = got;
  s->vcap = got / row < s->cap ? got / row : s->cap; /* a reused block may hold more */
  return TR_OK;
}

uint64_t tr_stats_runs(const tr_stats *s) {
  return s->runs + s->npend;
}

int tr_stats_is_exact(const tr_stats *s) {
  return !s->streaming && s->runs + s->npend <= s->cap;
}

/* ---- streaming histograms ------------------------------------------------------------------
 *
 * The runs are cut into EPOCHS of TR_STATS_EPOCH runs (counted from the first; also at the
 * exact cap). During an epoch the ranges do not change: each thread adds the values inside
 * them to its own histograms and keeps the others aside; at the epoch's end each cell's range
 * is widened towards the least and the greatest of the values kept aside (in every set
 * alike) and those values are added. Which values were binned against which range then depends only
 * on their run numbers, never on the threads, and the sets, over the same ranges, add up. */

/* One doubling of the range [*lo, *lo + *w] towards x: -1 when it grew down (to
 * [lo - w, lo + w]), 1 when up (to [lo, lo + 2 w]), 0 when x fits already. */
static int widen_step(double x, double *lo, double *w) {
  if (!(x < *lo || x > *lo + *w)) return 0;
  int down = x < *lo;
  if (down) *lo -= *w;
  *w *= 2;
  return down ? -1 : 1;
}

/* The range a histogram not started yet starts with at x: 1e-6 of |x| (or of 1) around it. */
static void range_start(double x, double *lo, double *w) {
  *w = (fabs(x) > 0 ? fabs(x) : 1.0) * 1e-6;
  *lo = x - 0.5 * *w;
}

/* Widen cell ci's range towards x until x fits, doing the same to its bins in every set;
 * pairs of bins merge exactly. */
static void hist_expand(tr_stats *s, size_t ci, double x) {
  size_t nb = s->nbins, half = nb / 2;
  for (int dir; (dir = widen_step(x, &s->lo[ci], &s->width[ci])) != 0;)
    for (size_t k = 0; k < s->nsets; k++) {
      uint32_t *b = &s->hs[k].bins[ci * nb];
      if (dir < 0) { /* new range [lo - width, lo + width]: old bin i lands in new bin half + i/2 */
        for (size_t i = half; i-- > 0;)
          b[half + i] = b[2 * i] + b[2 * i + 1];
        memset(b, 0, half * sizeof *b);
      } else { /* new range [lo, lo + 2 width]: old bin i lands in new bin i/2 */
        for (size_t i = 0; i < half; i++)
          b[i] = b[2 * i] + b[2 * i + 1];
        memset(&b[half], 0, (nb - half) * sizeof *b);
      }
    }
}

/* Copy cell ci's range into the arrays the hot loops read. */
static void hist_sync(tr_stats *s, size_t ci) {
  if (s->width[ci] == 0) {
    s->hlo[ci] = INFINITY;
    s->hhi[ci] = -INFINITY;
    s->hsc[ci] = 1.0;
  } else {
    s->hlo[ci] = s->lo[ci];
    s->hhi[ci] = s->lo[ci] + s->width[ci];
    s->hsc[ci] = (double)s->nbins / s->width[ci];
  }
}

/* Start cell ci's histograms at x (when not started) and widen them until x fits. */
static void hist_fit(tr_stats *s, size_t ci, double x) {
  if (s->width[ci] == 0) range_start(x, &s->lo[ci], &s->width[ci]);
  hist_expand(s, ci, x);
  hist_sync(s, ci);
}

/* Bin of x, inside cell ci's range. The bin is (x - lo) * (nb / width): a multiplication, the
 * same in every path (bin_index), so that a value lands in the same bin whichever loop adds
 * it; x = hi lands in the last bin. */
static size_t bin_of(const tr_stats *s, size_t ci, double x) {
  double t = (x - s->hlo[ci]) * s->hsc[ci], top = (double)(s->nbins - 1);
  return t < top ? (size_t)t : s->nbins - 1; /* NaN (a range grown to infinity): the top */
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

/* Keep finite x of cell ci aside until the epoch's end. TR_OK or TR_ERR_NOMEM. */
static int set_aside(hset *h, size_t ci, double x) {
  if (h->nover == h->ocap) {
    size_t cap = h->ocap ? 2 * h->ocap : 256;
    size_t *c = tr_realloc(h->ocell, cap * sizeof *c);
    if (c) h->ocell = c;
    double *v = tr_realloc(h->oval, cap * sizeof *v);
    if (v) h->oval = v;
    if (!c || !v) return TR_ERR_NOMEM;
    h->ocap = cap;
  }
  h->ocell[h->nover] = ci;
  h->oval[h->nover++] = x;
  return TR_OK;
}

/* Rows whose bins are computed at a time: a stack buffer of IDX_ROWS × TILE indices. */
#define IDX_ROWS 256
/* The rows are cells * 8 bytes apart, more than a page for a few hundred cells, which the
 * hardware prefetchers do not follow: the bin loop asks for the row PREFETCH_ROWS ahead. */
#define PREFETCH_ROWS 16
#if defined(__GNUC__)
#define TR_PREFETCH(p) __builtin_prefetch(p)
#else
#define TR_PREFETCH(p) ((void)(p))
#endif

/* Add np rows of the tile of TILE cells from t0 (x0: its values in the first row, rows
 * s->cells apart) to set h, with the bins idx computed already; neg < 0: some value was
 * outside its cell's range, and is set aside. Such a value's index is pointed at bin 0 and
 * counted, and the count taken off bin 0 after the increments, so that every block runs the
 * same straight loop: the first epoch after a pilot has a value outside in almost every
 * block, and a loop that tested each value took three times as long. */
static TR_ALWAYS_INLINE int add_tile(const tr_stats *s, hset *h, size_t t0, const double *x0,
                                     size_t np, int32_t *idx, int32_t neg) {
  size_t nb = s->nbins;
  uint32_t *b[TILE], moved[TILE] = {0};
  for (size_t k = 0; k < TILE; k++)
    b[k] = &h->bins[(t0 + k) * nb];
  if (neg < 0)
    for (size_t r = 0; r < np; r++)
      for (size_t k = 0; k < TILE; k++)
        if (idx[r * TILE + k] < 0) {
          double x = x0[r * s->cells + k];
          if (isfinite(x) && set_aside(h, t0 + k, x) != TR_OK) return TR_ERR_NOMEM;
          idx[r * TILE + k] = 0;
          moved[k]++;
        }
  for (size_t r = 0; r < np; r++)
#pragma GCC unroll 8
    for (size_t k = 0; k < TILE; k++)
      b[k][idx[r * TILE + k]]++;
  for (size_t k = 0; k < TILE; k++)
    b[k][0] -= moved[k];
  return TR_OK;
}

/* Add rows [0, nrows) of cells [c0, c1) (c0 a multiple of TILE) to set h. Tiles of TILE
 * neighbouring cells: each row gives one cache line of values and the tile's histograms stay
 * in cache while its rows are added. The bins of up to IDX_ROWS rows of a tile are computed
 * first, in one vector loop per row, then added with the tile's bin pointers in registers;
 * the increments go to TILE histograms in turn, so that a narrow distribution (every run in
 * the same bin) does not make one long chain of dependent increments. TR_OK or TR_ERR_NOMEM
 * (a value could not be set aside). */
TR_VECTOR_CLONES static int hist_rows(const tr_stats *s, hset *h, const double *rows, size_t nrows,
                                      size_t c0, size_t c1) {
  size_t cells = s->cells, t0 = c0;
  double top = (double)(s->nbins - 1);
  int32_t idx[IDX_ROWS * TILE];
  for (; t0 + TILE <= c1; t0 += TILE)
    for (size_t r0 = 0; r0 < nrows; r0 += IDX_ROWS) {
      size_t np = nrows - r0 < IDX_ROWS ? nrows - r0 : IDX_ROWS;
      const double *x0 = &rows[r0 * cells + t0];
      int32_t neg = 0;
      for (size_t r = 0; r < np; r++) {
        int32_t *j = &idx[r * TILE];
        if (r + PREFETCH_ROWS < np) TR_PREFETCH(&x0[(r + PREFETCH_ROWS) * cells]);
        bin_index(TILE, &x0[r * cells], &s->hlo[t0], &s->hhi[t0], &s->hsc[t0], top, j);
        for (size_t k = 0; k < TILE; k++)
          neg |= j[k];
      }
      if (add_tile(s, h, t0, x0, np, idx, neg) != TR_OK) return TR_ERR_NOMEM;
    }
  for (size_t r = 0; r < nrows; r++)
    for (size_t ci = t0; ci < c1; ci++) {
      double x = rows[r * cells + ci];
      if (x >= s->hlo[ci] && x <= s->hhi[ci])
        h->bins[ci * s->nbins + bin_of(s, ci, x)]++;
      else if (isfinite(x) && set_aside(h, ci, x) != TR_OK)
        return TR_ERR_NOMEM;
    }
  return TR_OK;
}

/* Add set h's waiting rows to its histograms. */
static int flush_set(const tr_stats *s, hset *h) {
  int rc = h->nwait ? hist_rows(s, h, h->wait, h->nwait, 0, s->cells) : TR_OK;
  h->nwait = 0;
  return rc;
}

/* The width cell ci's range would have after hist_fit to x, then to y. */
static double widened(const tr_stats *s, size_t ci, double x, double y) {
  double lo = s->lo[ci], w = s->width[ci];
  if (w == 0) range_start(x, &lo, &w);
  while (widen_step(x, &lo, &w))
    ;
  while (widen_step(y, &lo, &w))
    ;
  return w;
}

/* The end of an epoch: every set's waiting rows added, then each cell's range widened to
 * hold the values set aside (towards the least and the greatest of them, in the order that
 * ends narrower), and those added to set 0. */
static int epoch_end(tr_stats *s) {
  int rc = TR_OK;
  for (size_t k = 0; k < s->nsets; k++)
    if (flush_set(s, &s->hs[k]) != TR_OK) rc = TR_ERR_NOMEM;
  for (size_t k = 0; k < s->nsets; k++) {
    const hset *h = &s->hs[k];
    for (size_t i = 0; i < h->nover; i++) {
      size_t ci = h->ocell[i];
      double x = h->oval[i];
      s->omin[ci] = x < s->omin[ci] ? x : s->omin[ci];
      s->omax[ci] = x > s->omax[ci] ? x : s->omax[ci];
    }
  }
  for (size_t k = 0; k < s->nsets; k++) {
    hset *h = &s->hs[k];
    for (size_t i = 0; i < h->nover; i++) {
      size_t ci = h->ocell[i];
      if (s->omin[ci] <= s->omax[ci]) { /* first of the cell: widen once */
        double a = s->omin[ci], b = s->omax[ci];
        if (widened(s, ci, b, a) < widened(s, ci, a, b)) { /* up first ends narrower */
          a = s->omax[ci];
          b = s->omin[ci];
        }
        hist_fit(s, ci, a);
        hist_fit(s, ci, b);
        s->omin[ci] = INFINITY;
        s->omax[ci] = -INFINITY;
      }
      s->hs[0].bins[ci * s->nbins + bin_of(s, ci, h->oval[i])]++;
    }
    h->nover = 0;
  }
  return rc;
}

/* Exact -> streaming, first step: the histogram sets, and each cell's range: the observed
 * [min, max] of its exact runs (not started when that is one value or none). The kept values
 * stay until tr_stats_stream_end. */
int tr_stats_stream_begin(tr_stats *s) {
  size_t nb = s->nbins, cells = s->cells;
  double **arr[] = {&s->lo, &s->width, &s->hlo, &s->hhi, &s->hsc, &s->omin, &s->omax};
  int ok = 1;
  for (size_t i = 0; i < sizeof arr / sizeof *arr; i++)
    ok &= (*arr[i] = tr_malloc(cells * sizeof(double))) != NULL;
  s->hs = ok ? tr_calloc(s->nsets, sizeof *s->hs) : NULL;
  ok = ok && s->hs;
  for (size_t k = 0; ok && k < s->nsets; k++) {
    hset *h = &s->hs[k];
    h->bins = tr_calloc(cells * nb, sizeof *h->bins);
    h->wcap = WAIT_BYTES / (cells * sizeof *h->wait);
    h->wcap = h->wcap < WAIT_MIN ? WAIT_MIN : h->wcap > WAIT_MAX ? WAIT_MAX : h->wcap;
    h->wait = tr_malloc(h->wcap * cells * sizeof *h->wait);
    ok = h->bins && h->wait;
  }
  if (!ok) {
    free_sets(s);
    for (size_t i = 0; i < sizeof arr / sizeof *arr; i++) {
      tr_free(*arr[i]);
      *arr[i] = NULL;
    }
    return TR_ERR_NOMEM; /* still exact */
  }
  for (size_t ci = 0; ci < cells; ci++) {
    s->lo[ci] = s->width[ci] = 0;
    if (s->n[ci] > 0 && s->mx[ci] > s->mn[ci]) {
      s->lo[ci] = s->mn[ci];
      s->width[ci] = s->mx[ci] - s->mn[ci];
    }
    s->omin[ci] = INFINITY;
    s->omax[ci] = -INFINITY;
    hist_sync(s, ci);
  }
  return TR_OK;
}

/* Second step, for cells [c0, c1) (c0 a multiple of TILE): their kept values into set 0, in
 * run order, a tile of cells at a time (a cell whose histogram is not started starts at its
 * first finite value, and a value outside widens it at once: nothing else touches these cells
 * now). Disjoint ranges may be binned by different threads at the same time. */
TR_VECTOR_CLONES void tr_stats_stream_cells(tr_stats *s, size_t c0, size_t c1) {
  size_t cells = s->cells, nb = s->nbins, t0 = c0, runs = (size_t)s->runs;
  uint32_t *bins = s->hs[0].bins;
  double top = (double)(nb - 1);
  for (; t0 < c1; t0 += TILE) {
    size_t w = c1 - t0 < TILE ? c1 - t0 : TILE;
    for (size_t r = 0; r < runs; r++) {
      const double *x = &s->vals[r * cells + t0];
      int32_t j[TILE];
      if (r + PREFETCH_ROWS < runs) TR_PREFETCH(&x[PREFETCH_ROWS * cells]);
      bin_index(w, x, &s->hlo[t0], &s->hhi[t0], &s->hsc[t0], top, j);
      for (size_t k = 0; k < w; k++)
        if (j[k] >= 0) {
          bins[(t0 + k) * nb + (size_t)j[k]]++;
        } else if (isfinite(x[k])) {
          hist_fit(s, t0 + k, x[k]);
          bins[(t0 + k) * nb + bin_of(s, t0 + k, x[k])]++;
        }
    }
  }
}

/* Last step: the kept values go; from now on every run feeds the histograms. */
void tr_stats_stream_end(tr_stats *s) {
  /* Back to the system, not kept: the histograms now take their room (kept, the block added
   * its size to the peak memory of a study that streams). */
  tr_free(s->vals);
  s->vals = NULL;
  s->vbytes = 0;
  s->vcap = 0;
  s->streaming = 1;
  s->merged = 0;
}

int tr_stats_stream_due(const tr_stats *s) {
  return !s->streaming && s->runs == s->cap;
}

/* The whole switch on the calling thread. */
static int go_streaming(tr_stats *s) {
  int rc = tr_stats_stream_begin(s);
  if (rc != TR_OK) return rc;
  tr_stats_stream_cells(s, 0, s->cells);
  tr_stats_stream_end(s);
  return TR_OK;
}

/* Everything waiting added, and every set added into set 0 (the ranges are shared). */
static int merge_sets(tr_stats *s) {
  if (epoch_end(s) != TR_OK) return TR_ERR_NOMEM;
  size_t nb = s->nbins, total = s->cells * nb;
  for (size_t k = 1; k < s->nsets; k++) {
    uint32_t *x = s->hs[0].bins, *y = s->hs[k].bins;
    for (size_t j = 0; j < total; j++)
      x[j] += y[j];
    memset(y, 0, total * sizeof *y);
  }
  s->merged = 1;
  return TR_OK;
}

/* ---- chunks and rounds --------------------------------------------------------------------- */

/* One row of n cells into a chunk's sums: of the distances d to row 0 (x0) and of their
 * squares, min and max, and the NaN probe (v - v is 0 exactly for finite v). */
static TR_ALWAYS_INLINE void row_sums(size_t n, const double *restrict x, const double *restrict x0,
                                      double *restrict sum, double *restrict sq,
                                      double *restrict mn, double *restrict mx,
                                      double *restrict probe) {
  for (size_t c = 0; c < n; c++) {
    double v = x[c], d = v - x0[c];
    sum[c] += d;
    sq[c] += d * d;
    mn[c] = v < mn[c] ? v : mn[c];
    mx[c] = v > mx[c] ? v : mx[c];
    probe[c] += v - v;
  }
}

/* Moments of cells [c0, c0 + n) (n <= TILE) over the nr rows, accumulated in locals (in
 * registers for a whole tile), into chunk partial o, in one pass: the distances are taken to
 * the chunk's first value, a value of the same distribution, so that the sum of squared
 * deviations, sq - sum^2 / nr, loses little to cancellation (the "shifted data" algorithm).
 * Returns the sum of the NaN probes. */
static TR_ALWAYS_INLINE double tile_moments(tr_stats *s, size_t o, const double *rows, size_t nr,
                                            size_t c0, size_t n) {
  size_t cells = s->cells;
  double sum[TILE] = {0}, sq[TILE] = {0}, mn[TILE], mx[TILE], pr[TILE] = {0};
  double mean[TILE], m2[TILE];
  for (size_t k = 0; k < TILE; k++) {
    mn[k] = INFINITY;
    mx[k] = -INFINITY;
  }
  const double *x0 = &rows[c0];
  for (size_t r = 0; r < nr; r++)
    row_sums(n, &rows[r * cells + c0], x0, sum, sq, mn, mx, pr);
  double inv = 1.0 / (double)nr, bad = 0;
  for (size_t k = 0; k < n; k++) {
    bad += pr[k];
    mean[k] = x0[k] + sum[k] * inv;
    m2[k] = sq[k] - sum[k] * sum[k] * inv;
    m2[k] = m2[k] > 0 ? m2[k] : 0;
  }
  memcpy(&s->pmean[o + c0], mean, n * sizeof *mean);
  memcpy(&s->pm2[o + c0], m2, n * sizeof *m2);
  memcpy(&s->pmn[o + c0], mn, n * sizeof *mn);
  memcpy(&s->pmx[o + c0], mx, n * sizeof *mx);
  return bad;
}

/* Chunk j's moments from its nr rows when every value is finite, tile by tile: returns 0
 * (and leaves the partial to the slow path) when one is not. The mean is row 0 plus the mean
 * distance to it, so that a cell whose value never changes has exactly that mean and a zero
 * m2. */
TR_VECTOR_CLONES static int chunk_fast(tr_stats *s, size_t j, const double *rows, size_t nr) {
  size_t cells = s->cells, o = j * cells, c0 = 0;
  double bad = 0;
  for (; c0 + TILE <= cells; c0 += TILE)
    bad += tile_moments(s, o, rows, nr, c0, TILE);
  if (c0 < cells) bad += tile_moments(s, o, rows, nr, c0, cells - c0);
  return bad == 0;
}

/* Chunk j's moments cell by cell, leaving non-finite values out (pn: the finite count), with
 * the arithmetic of tile_moments. */
static void chunk_slow(tr_stats *s, size_t j, const double *rows, size_t nr) {
  size_t cells = s->cells, o = j * cells;
  s->pslow[j] = 1;
  for (size_t c = 0; c < cells; c++) {
    uint32_t k = 0;
    double x0 = 0, sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t r = 0; r < nr; r++) {
      double v = rows[r * cells + c];
      if (!isfinite(v)) continue;
      if (k++ == 0) x0 = v;
      sum += v - x0;
      sq += (v - x0) * (v - x0);
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    double inv = k ? 1.0 / (double)k : 0, m2 = sq - sum * sum * inv;
    s->pn[o + c] = k;
    s->pmean[o + c] = x0 + sum * inv;
    s->pm2[o + c] = m2 > 0 ? m2 : 0;
    s->pmn[o + c] = lo;
    s->pmx[o + c] = hi;
  }
}

size_t tr_stats_chunk_bytes(const tr_stats *s) {
  return s->cells * (4 * sizeof(double) + sizeof(uint32_t)) + 1; /* pmean..pmx, pn, pslow */
}

size_t tr_stats_round_max(const tr_stats *s) {
  if (s->streaming || s->runs == s->cap) /* at the cap, the switch comes first */
    return (size_t)(TR_STATS_EPOCH - s->runs % TR_STATS_EPOCH);
  return s->cap - (size_t)s->runs;
}

size_t tr_stats_round_size(const tr_stats *s, size_t left, size_t limit) {
  size_t max = tr_stats_round_max(s), n = left;
  if (n > max) n = max; /* ends at the cap or at an epoch's end: chunk boundaries */
  if (n > limit) {
    n = limit;
    size_t end = (size_t)((s->runs + n) / TR_STATS_CHUNK * TR_STATS_CHUNK);
    if (end > s->runs) n = end - (size_t)s->runs;
  }
  return n;
}

int tr_stats_set_threads(tr_stats *s, size_t n) {
  if (s->runs > 0 || s->npend > 0 || s->streaming || n == 0) return TR_ERR_INVALID;
  s->nsets = n;
  return TR_OK;
}

/* Chunks of a round of nrows runs from run `first`: its runs split at the multiples of
 * TR_STATS_CHUNK (counted from the study's first run). */
static size_t chunks_of(uint64_t first, size_t nrows, size_t *lead) {
  size_t a = (size_t)((TR_STATS_CHUNK - first % TR_STATS_CHUNK) % TR_STATS_CHUNK);
  if (a >= nrows) {
    *lead = nrows;
    return nrows ? 1 : 0;
  }
  *lead = a ? a : (nrows < TR_STATS_CHUNK ? nrows : TR_STATS_CHUNK);
  return 1 + (nrows - *lead + TR_STATS_CHUNK - 1) / TR_STATS_CHUNK;
}

int tr_stats_round_begin(tr_stats *s, size_t nrows) {
  if (s->npend || s->rrows) return TR_ERR_INVALID; /* a round or tr_stats_add_rows is open */
  if (tr_stats_stream_due(s) && go_streaming(s) != TR_OK) return TR_ERR_NOMEM;
  if (nrows > tr_stats_round_max(s)) return TR_ERR_INVALID;
  if (!s->streaming) {
    size_t need = (size_t)s->runs + nrows;
    if (need > s->vcap) { /* grow geometrically: rounds of a few runs are not copied again */
      size_t want = s->vcap ? s->vcap * 2 : 64;
      if (tr_stats_reserve(s, want > need ? want : need) != TR_OK) return TR_ERR_NOMEM;
    }
  }
  size_t lead, nch = chunks_of(s->runs, nrows, &lead);
  if (nch > s->pcap) {
    size_t cells = s->cells, want = nch;
    double *a = tr_realloc(s->pmean, want * cells * sizeof *a);
    if (a) s->pmean = a;
    double *b = tr_realloc(s->pm2, want * cells * sizeof *b);
    if (b) s->pm2 = b;
    double *c = tr_realloc(s->pmn, want * cells * sizeof *c);
    if (c) s->pmn = c;
    double *d = tr_realloc(s->pmx, want * cells * sizeof *d);
    if (d) s->pmx = d;
    uint32_t *e = tr_realloc(s->pn, want * cells * sizeof *e);
    if (e) s->pn = e;
    uint8_t *f = tr_realloc(s->pslow, want);
    if (f) s->pslow = f;
    if (!a || !b || !c || !d || !e || !f) return TR_ERR_NOMEM; /* grown ones keep their size */
    s->pcap = want;
  }
  s->rrows = nrows;
  s->nch = nch;
  memset(s->pslow, 0, nch);
  return TR_OK;
}

size_t tr_stats_round_chunks(const tr_stats *s) {
  return s->nch;
}

void tr_stats_round_chunk_runs(const tr_stats *s, size_t j, size_t *off, size_t *nr) {
  size_t lead;
  (void)chunks_of(s->runs, s->rrows, &lead);
  *off = j == 0 ? 0 : lead + (j - 1) * TR_STATS_CHUNK;
  size_t end = j == 0 ? lead : *off + TR_STATS_CHUNK;
  *nr = (end < s->rrows ? end : s->rrows) - *off;
}

int tr_stats_flush_set(tr_stats *s, size_t set) {
  return s->streaming ? flush_set(s, &s->hs[set]) : TR_OK;
}

double *tr_stats_rows_dest(tr_stats *s, size_t j, size_t nrows, size_t set) {
  if (!s->streaming) {
    size_t off, nr;
    tr_stats_round_chunk_runs(s, j, &off, &nr);
    return &s->vals[((size_t)s->runs + off) * s->cells];
  }
  hset *h = &s->hs[set];
  if (h->nwait + nrows > h->wcap && flush_set(s, h) != TR_OK) return NULL;
  if (nrows > h->wcap) { /* only for more rows than WAIT_MAX at a time (a very wide batch) */
    double *w = tr_realloc(h->wait, nrows * s->cells * sizeof *w);
    if (!w) return NULL;
    h->wait = w;
    h->wcap = nrows;
  }
  return &h->wait[h->nwait * s->cells];
}

/* Copy n doubles into the kept values, with stores that bypass the caches: the kept values
 * are read again only by the report, and a plain store would first read every line of them
 * from memory (and evict what the runs work in). On SIR at 10,000 runs, the sims' writing
 * their series straight into the kept values took a quarter of the time (26% of the samples);
 * writing them into a thread's own rows, in its cache, and copying these out this way take
 * 15% of a run that is itself faster. */
static void copy_out(double *restrict dst, const double *restrict src, size_t n) {
#if defined(__SSE2__)
  size_t i = 0;
  if (n && (uintptr_t)dst % 16 != 0) {
    dst[0] = src[0];
    i = 1;
  }
  for (; i + 2 <= n; i += 2)
    _mm_stream_pd(&dst[i], _mm_loadu_pd(&src[i]));
  if (i < n) dst[i] = src[i];
  _mm_sfence(); /* before another thread may read them */
#else
  memcpy(dst, src, n * sizeof *dst);
#endif
}

int tr_stats_round_chunk(tr_stats *s, size_t j, const double *rows, size_t set) {
  size_t off, nr;
  tr_stats_round_chunk_runs(s, j, &off, &nr);
  double *dst = tr_stats_rows_dest(s, j, nr, set);
  if (!dst) return TR_ERR_NOMEM;
  if (!s->streaming && dst != rows) { /* exact: the moments from the rows in cache, then out */
    if (!chunk_fast(s, j, rows, nr)) chunk_slow(s, j, rows, nr);
    copy_out(dst, rows, nr * s->cells);
    return TR_OK;
  }
  if (dst != rows) memcpy(dst, rows, nr * s->cells * sizeof *dst);
  if (!chunk_fast(s, j, dst, nr)) chunk_slow(s, j, dst, nr);
  if (s->streaming) s->hs[set].nwait += nr; /* binned when the set's buffer is full */
  return TR_OK;
}

/* Chan et al.'s pairwise update of a total (na values, *mean, *m2) with a part (nb values,
 * mean bm, sum of squared deviations b2). */
static TR_ALWAYS_INLINE void chan_add(double *mean, double *m2, double na, double nb, double bm,
                                      double b2) {
  double n = na + nb, d = bm - *mean;
  *mean += d * (nb / n);
  *m2 += b2 + d * d * (na * nb / n);
}

/* Totals += chunk j, cell by cell, when every value of the chunk was finite. */
TR_VECTOR_CLONES static void combine_fast(tr_stats *s, size_t j, size_t nr) {
  size_t cells = s->cells, o = j * cells;
  const double *bm = &s->pmean[o], *b2 = &s->pm2[o], *bl = &s->pmn[o], *bh = &s->pmx[o];
  for (size_t c = 0; c < cells; c++) {
    chan_add(&s->mean[c], &s->m2[c], (double)s->n[c], (double)nr, bm[c], b2[c]);
    s->mn[c] = bl[c] < s->mn[c] ? bl[c] : s->mn[c];
    s->mx[c] = bh[c] > s->mx[c] ? bh[c] : s->mx[c];
    s->n[c] += nr;
  }
}

/* The same with each cell's own count of finite values (pn). */
static void combine_slow(tr_stats *s, size_t j, size_t nr) {
  size_t cells = s->cells, o = j * cells;
  for (size_t c = 0; c < cells; c++) {
    uint32_t k = s->pn[o + c];
    s->nonfinite[c] += nr - k;
    if (k == 0) continue;
    chan_add(&s->mean[c], &s->m2[c], (double)s->n[c], (double)k, s->pmean[o + c], s->pm2[o + c]);
    if (s->pmn[o + c] < s->mn[c]) s->mn[c] = s->pmn[o + c];
    if (s->pmx[o + c] > s->mx[c]) s->mx[c] = s->pmx[o + c];
    s->n[c] += k;
  }
}

int tr_stats_round_end(tr_stats *s) {
  for (size_t j = 0; j < s->nch; j++) {
    size_t off, nr;
    tr_stats_round_chunk_runs(s, j, &off, &nr);
    if (s->pslow[j])
      combine_slow(s, j, nr);
    else
      combine_fast(s, j, nr);
  }
  s->runs += s->rrows;
  s->rrows = s->nch = 0;
  if (s->streaming) s->merged = 0; /* waiting rows, other sets: tr_stats_settle */
  if (s->streaming && s->runs % TR_STATS_EPOCH == 0) return epoch_end(s);
  return TR_OK;
}

/* The runs waiting in pend, as a round of one chunk on this thread. */
static int flush_pending(tr_stats *s) {
  size_t n = s->npend;
  s->npend = 0;
  if (tr_stats_round_begin(s, n) != TR_OK) {
    s->npend = n;
    return TR_ERR_NOMEM;
  }
  if (tr_stats_round_chunk(s, 0, s->pend, 0) != TR_OK) {
    s->rrows = s->nch = 0; /* the round is dropped: its runs wait again */
    s->npend = n;
    return TR_ERR_NOMEM;
  }
  return tr_stats_round_end(s);
}

int tr_stats_add_rows(tr_stats *s, const double *rows, size_t nrows) {
  size_t cells = s->cells;
  if (s->rrows) return TR_ERR_INVALID;
  if (!s->pend) {
    s->pend = tr_malloc(TR_STATS_CHUNK * cells * sizeof *s->pend);
    if (!s->pend) return TR_ERR_NOMEM;
  }
  while (nrows > 0) {
    /* This chunk ends at the next multiple of TR_STATS_CHUNK, or at the exact cap. */
    uint64_t at = s->runs + s->npend;
    size_t room = (size_t)(TR_STATS_CHUNK - at % TR_STATS_CHUNK);
    if (!s->streaming && at < s->cap && s->cap - at < room) room = (size_t)(s->cap - at);
    size_t n = nrows < room ? nrows : room;
    memcpy(&s->pend[s->npend * cells], rows, n * cells * sizeof *rows);
    s->npend += n;
    rows += n * cells;
    nrows -= n;
    if (n == room && flush_pending(s) != TR_OK) {
      s->npend -= n; /* these runs are not counted */
      return TR_ERR_NOMEM;
    }
  }
  return TR_OK;
}

int tr_stats_add(tr_stats *s, const double *values) {
  return tr_stats_add_rows(s, values, 1);
}

int tr_stats_settle(tr_stats *s) {
  if (s->npend && flush_pending(s) != TR_OK) return TR_ERR_NOMEM;
  if (s->streaming && !s->merged && merge_sets(s) != TR_OK) return TR_ERR_NOMEM;
  return TR_OK;
}

void tr_stats_moments(const tr_stats *s, size_t ci, uint64_t *n, double *mean, double *sd) {
  uint64_t k = s->n[ci];
  *n = k;
  *mean = k ? s->mean[ci] : NAN;
  *sd = k > 1 ? sqrt(s->m2[ci] / (double)(k - 1)) : 0.0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The finite values of an exact cell, unordered, in a new array (*out NULL when n == 0). */
static int cell_values(const tr_stats *s, size_t ci, double **out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (s->n[ci] == 0) return TR_OK;
  double *v = tr_malloc(s->n[ci] * sizeof *v);
  if (!v) return TR_ERR_NOMEM;
  size_t k = 0, w = s->cells;
  const double *kv = kept(s, ci);
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

/* Cell ci's merged histogram (set 0): its bins, the lower edge of bin 0 and the bin width. */
static const uint32_t *hist_of(const tr_stats *s, size_t ci, double *lo, double *bw) {
  *bw = s->width[ci] / (double)s->nbins;
  *lo = s->lo[ci];
  return &s->hs[0].bins[ci * s->nbins];
}

/* x clamped to the observed [min, max] of cell ci (NaN, from a degenerate range, to min). */
static double clamp_seen(const tr_stats *s, size_t ci, double x) {
  double lo_x = s->mn[ci], hi_x = s->mx[ci];
  return !(x >= lo_x) ? lo_x : x > hi_x ? hi_x : x;
}

/* Streaming estimate: inside the bin holding order statistic floor(q (n - 1)). */
static double hist_quantile(const tr_stats *s, size_t ci, double q) {
  size_t nb = s->nbins;
  uint64_t k = (uint64_t)floor(q * (double)(s->n[ci] - 1)), cum = 0;
  double lo, bw;
  const uint32_t *b = hist_of(s, ci, &lo, &bw);
  for (size_t j = 0; j < nb; j++) {
    if (b[j] > k - cum) {
      double f = ((double)(k - cum) + 0.5) / (double)b[j];
      return clamp_seen(s, ci, lo + ((double)j + f) * bw);
    }
    cum += b[j];
  }
  return s->mx[ci];
}

/* Readers first add what is waiting (tr_stats_settle); after a settle they change nothing. */
static int ready(tr_stats *s) {
  return s->npend || !s->merged ? tr_stats_settle(s) : TR_OK;
}

int tr_stats_quantile(tr_stats *s, size_t ci, double q, double *out) {
  if (ready(s) != TR_OK) return TR_ERR_NOMEM;
  if (s->n[ci] == 0) {
    *out = NAN;
    return TR_OK;
  }
  if (s->streaming) {
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
  uint64_t cn = s->n[ci];
  memset(out, 0, sizeof *out);
  out->n = cn;
  out->nonfinite = s->nonfinite[ci];
  out->exact = !s->streaming;
  uint64_t n;
  tr_stats_moments(s, ci, &n, &out->mean, &out->sd);
  out->min = cn ? s->mn[ci] : NAN;
  out->max = cn ? s->mx[ci] : NAN;
  if (cn == 0) {
    for (int i = 0; i < TR_STATS_NPCT; i++)
      out->pct[i] = NAN;
    return 0;
  }
  if (s->streaming) {
    out->err_bound = s->width[ci] / (double)s->nbins;
    for (int i = 0; i < TR_STATS_NPCT; i++)
      out->pct[i] = hist_quantile(s, ci, tr_stats_pct[i]);
    return 0;
  }
  return 1;
}

/* Buckets of the exact percentile search (bucket_ranks): about one per PCT_PER values, from
 * 16 to PCT_BINS. Below PCT_MIN values a selection over all of them is as quick. */
#define PCT_BINS 512
#define PCT_PER 8
#define PCT_MIN 64

/* The order statistics ks[0..nk) (ascending) of v[0..k), all in [mn, mx] with mn < mx, into
 * val[0..nk), in two passes instead of selections over the whole array: the values are
 * counted in buckets of equal width (a bucket holds only values greater than those
 * of every bucket before it, so the bucket of each rank is known from the counts), then the
 * values of the few buckets that hold a wanted rank are copied to `scratch` (k doubles) and
 * the ranks selected there. */
static void bucket_ranks(const double *v, size_t k, double mn, double mx, const size_t *ks,
                         size_t nk, double *scratch, double *val) {
  size_t cnt[PCT_BINS], start[PCT_BINS + 1], off[PCT_BINS];
  unsigned char need[PCT_BINS];
  size_t nb = k / PCT_PER < 16 ? 16 : k / PCT_PER > PCT_BINS ? PCT_BINS : k / PCT_PER;
  memset(cnt, 0, nb * sizeof *cnt);
  memset(need, 0, nb);
  double sc = (double)nb / (mx - mn);
  for (size_t i = 0; i < k; i++) {
    size_t b = (size_t)((v[i] - mn) * sc);
    cnt[b < nb ? b : nb - 1]++;
  }
  start[0] = 0;
  for (size_t b = 0; b < nb; b++)
    start[b + 1] = start[b] + cnt[b];
  size_t bk[2 * TR_STATS_NPCT], b = 0, tot = 0;
  for (size_t i = 0; i < nk; i++) {
    while (start[b + 1] <= ks[i])
      b++;
    bk[i] = b;
    need[b] = 1;
  }
  for (size_t j = 0; j < nb; j++)
    if (need[j]) {
      off[j] = tot;
      tot += cnt[j];
    }
  size_t fill[PCT_BINS];
  memcpy(fill, off, nb * sizeof *fill);
  for (size_t i = 0; i < k; i++) {
    size_t j = (size_t)((v[i] - mn) * sc);
    j = j < nb ? j : nb - 1;
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
  if (scratch && k >= PCT_MIN && span > 0 && isfinite(span)) {
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
  if (ready(s) != TR_OK) return TR_ERR_NOMEM;
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

int tr_stats_summaries(tr_stats *s, size_t first, size_t count, tr_summary *out) {
  if (ready(s) != TR_OK) return TR_ERR_NOMEM;
  if (s->streaming || s->runs == 0) {
    for (size_t i = 0; i < count; i++)
      if (tr_stats_summary(s, first + i, &out[i]) != TR_OK) return TR_ERR_NOMEM;
    return TR_OK;
  }
  size_t runs = (size_t)s->runs;
  double *buf = tr_malloc((BLOCK + 1) * runs * sizeof *buf), *scratch = buf + BLOCK * runs;
  if (!buf) return TR_ERR_NOMEM;
  for (size_t b = 0; b < count; b += BLOCK) {
    size_t nb = count - b < BLOCK ? count - b : BLOCK;
    size_t k[BLOCK] = {0}, w = s->cells;
    const double *col = kept(s, first + b);
    for (size_t r = 0; r < runs; r++)
      for (size_t j = 0; j < nb; j++) {
        double x = col[r * w + j];
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
  if (ready(s) != TR_OK) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  uint64_t cn = s->n[ci];
  if (!(alpha > 0 && alpha < 1))
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "the tail level must be between 0 and 1 (got %g)", alpha);
  if (cn == 0)
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0, "no finite values to take a tail of");
  uint64_t m = (uint64_t)ceil(alpha * (double)cn);
  if (m == 0) m = 1;
  if (!s->streaming) {
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
  double lo, bw, sum = 0;
  const uint32_t *b = hist_of(s, ci, &lo, &bw);
  uint64_t left = m;
  for (size_t j = 0; j < s->nbins && left > 0; j++) {
    uint64_t take = b[j] < left ? b[j] : left;
    sum += (double)take * clamp_seen(s, ci, lo + ((double)j + 0.5) * bw);
    left -= take;
  }
  *cvar = sum / (double)m;
  return TR_OK;
}
