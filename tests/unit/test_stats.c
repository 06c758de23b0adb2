/* Monte Carlo statistics against analytic values and exact order statistics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/rng.h"
#include "scenario/sample.h"
#include "scenario/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* stats-1: a linear model with normal inputs, Y = 3 + 2 X1 - 0.5 X2, X1 ~ N(10, 2),
 * X2 ~ N(4, 3): E[Y] = 21, Var[Y] = 18.25. The MC mean and variance lie in their 99.9%
 * confidence intervals (the draws are fixed by the seed, so this cannot flake). */
static void test_linear_normal_model(void **state) {
  (void)state;
  enum { N = 20000 };
  tr_dist d[2];
  assert_int_equal(tr_dist_parse(&d[0], "normal(10, 2)", NULL, 0, 0, NULL), TR_OK);
  assert_int_equal(tr_dist_parse(&d[1], "normal(4, 3)", NULL, 0, 0, NULL), TR_OK);
  for (int method = 0; method < 2; method++) {
    tr_sampler *smp;
    assert_int_equal(tr_sampler_new(&smp, d, 2, N, (tr_sampling)method, 2026, NULL, NULL, NULL),
                     TR_OK);
    tr_stats *st;
    assert_int_equal(tr_stats_new(&st, 1, N, TR_STATS_DEFAULT_BINS, NULL), TR_OK);
    for (size_t i = 0; i < N; i++) {
      tr_rng r;
      double x[2];
      tr_rng_seed_stream(&r, 2026, i);
      tr_sampler_row(smp, i, &r, x);
      double y = 3 + 2 * x[0] - 0.5 * x[1];
      assert_int_equal(tr_stats_add(st, &y), TR_OK);
    }
    tr_summary sum;
    assert_int_equal(tr_stats_summary(st, 0, &sum), TR_OK);
    const double mu = 21, var = 18.25, z = 3.2905;
    assert_true(sum.exact);
    assert_true(fabs(sum.mean - mu) <= z * sqrt(var / N));
    assert_true(fabs(sum.sd * sum.sd - var) <= z * var * sqrt(2.0 / (N - 1)));
    /* The median of a normal is its mean; p95 is mu + 1.645 sd. */
    assert_true(fabs(sum.pct[3] - mu) < 0.1);
    assert_true(fabs(sum.pct[6] - (mu + 1.6448536269514722 * sqrt(var))) < 0.15);
    tr_stats_free(st);
    tr_sampler_free(smp);
  }
}

/* stats-2: exact percentiles are type 7: of 1..101, p5 = 6, p25 = 26, p50 = 51; min, max. */
static void test_exact_percentiles(void **state) {
  (void)state;
  tr_stats *st;
  assert_int_equal(tr_stats_new(&st, 2, 1000, 64, NULL), TR_OK);
  assert_int_equal(tr_stats_reserve(st, 5000), TR_OK); /* capped at 1000 rows */
  for (int i = 0; i < 101; i++) {
    double v[2] = {(double)((i * 37) % 101 + 1), i == 50 ? NAN : 1.0};
    assert_int_equal(tr_stats_add(st, v), TR_OK);
  }
  tr_summary s;
  assert_int_equal(tr_stats_summary(st, 0, &s), TR_OK);
  const double want[TR_STATS_NPCT] = {6, 11, 26, 51, 76, 91, 96};
  for (int i = 0; i < TR_STATS_NPCT; i++)
    assert_true(fabs(s.pct[i] - want[i]) < 1e-12);
  assert_true(s.min == 1 && s.max == 101 && s.mean == 51);
  assert_true(fabs(s.sd - sqrt(101.0 * 102 / 12)) < 1e-9); /* sample sd of 1..n: n(n+1)/12 */
  assert_true(s.n == 101 && s.nonfinite == 0 && s.exact && s.err_bound == 0);
  assert_int_equal(tr_stats_summary(st, 1, &s), TR_OK);
  assert_true(s.n == 100 && s.nonfinite == 1 && s.sd == 0 && s.pct[3] == 1);
  double var, cvar;
  assert_int_equal(tr_stats_tail(st, 0, 0.05, &var, &cvar, NULL), TR_OK);
  assert_true(fabs(var - 6) < 1e-12);
  assert_true(fabs(cvar - 3.5) < 1e-12); /* mean of the ceil(5.05) = 6 smallest: 1..6 */
  tr_error err;
  assert_int_equal(tr_stats_tail(st, 0, 1.5, &var, &cvar, &err), TR_ERR_INVALID);
  tr_stats_free(st);
}

/* stats-7: the blocked tr_stats_summaries gives exactly what tr_stats_summary gives. */
static void test_summaries_match(void **state) {
  (void)state;
  enum { CELLS = 150, RUNS = 333 };
  tr_stats *st;
  assert_int_equal(tr_stats_new(&st, CELLS, 1000, 64, NULL), TR_OK);
  tr_rng r;
  tr_rng_seed(&r, 5);
  double row[CELLS];
  for (int i = 0; i < RUNS; i++) {
    for (int c = 0; c < CELLS; c++)
      row[c] = c % 7 == 0 && i % 5 == 0 ? NAN : tr_rng_normal(&r) * c;
    assert_int_equal(tr_stats_add(st, row), TR_OK);
  }
  tr_summary many[CELLS - 10], one;
  assert_int_equal(tr_stats_summaries(st, 10, CELLS - 10, many), TR_OK);
  for (int c = 10; c < CELLS; c++) {
    assert_int_equal(tr_stats_summary(st, (size_t)c, &one), TR_OK);
    assert_memory_equal(&one, &many[c - 10], sizeof one);
  }
  tr_stats_free(st);
}

/* stats-8: runs added in blocks (tr_stats_add_rows, across the exact cap into streaming, with
 * non-finite values) give bit for bit what one tr_stats_add per run gives; a cell whose
 * value never changes has sd exactly 0 and its mean exactly that value. */
static void test_rows_match_runs(void **state) {
  (void)state;
  enum { CELLS = 21, RUNS = 700, CAP = 300 };
  static double rows[RUNS * CELLS];
  tr_rng r;
  tr_rng_seed(&r, 8);
  for (int i = 0; i < RUNS; i++)
    for (int c = 0; c < CELLS; c++)
      rows[i * CELLS + c] = c == 0                   ? 0.1
                            : c == 3 && i % 97 == 50 ? INFINITY
                            : c == 5 && i == 400     ? NAN
                                                     : 10 * c + tr_rng_normal(&r) * c;
  tr_stats *one, *blk;
  assert_int_equal(tr_stats_new(&one, CELLS, CAP, 64, NULL), TR_OK);
  assert_int_equal(tr_stats_new(&blk, CELLS, CAP, 64, NULL), TR_OK);
  for (int i = 0; i < RUNS; i++)
    assert_int_equal(tr_stats_add(one, &rows[i * CELLS]), TR_OK);
  static const size_t sizes[] = {1, 64, 7, 250, 3, 100, 275};
  size_t at = 0;
  for (size_t k = 0; at < RUNS; k++) {
    size_t n = sizes[k % 7] < RUNS - at ? sizes[k % 7] : RUNS - at;
    assert_int_equal(tr_stats_add_rows(blk, &rows[at * CELLS], n), TR_OK);
    at += n;
  }
  assert_int_equal(tr_stats_runs(blk), RUNS);
  assert_false(tr_stats_is_exact(blk));
  for (size_t c = 0; c < CELLS; c++) {
    tr_summary a, b;
    assert_int_equal(tr_stats_summary(one, c, &a), TR_OK);
    assert_int_equal(tr_stats_summary(blk, c, &b), TR_OK);
    assert_memory_equal(&a, &b, sizeof a);
  }
  tr_summary s;
  assert_int_equal(tr_stats_summary(blk, 0, &s), TR_OK);
  assert_true(s.mean == 0.1 && s.sd == 0 && s.n == RUNS);
  assert_int_equal(tr_stats_summary(blk, 3, &s), TR_OK);
  assert_int_equal(s.nonfinite, 7); /* i = 50, 147, ..., 632 */
  assert_int_equal(s.n, RUNS - 7);
  tr_stats_free(one);
  tr_stats_free(blk);
}

/* stats-9: runs fed in rounds as the runner feeds them, with 1, 2 or 3 threads' histogram
 * sets, chunks added in any order and by any set, some written where tr_stats_rows_dest puts
 * them, across the exact cap into streaming, across epochs (ranges that must widen both ways
 * later on) and with non-finite values, give bit for bit what one tr_stats_add per run gives;
 * a round may not straddle the cap nor an epoch's end, and the threads are set before any
 * run. */
static void test_rounds(void **state) {
  (void)state;
  enum { CELLS = 21, RUNS = 9000, CAP = 300 };
  static double rows[RUNS * CELLS];
  tr_rng r;
  tr_rng_seed(&r, 9);
  for (int i = 0; i < RUNS; i++)
    for (int c = 0; c < CELLS; c++)
      rows[i * CELLS + c] = c == 2 && i == 77      ? NAN
                            : c == 19 && i == 4500 ? -INFINITY
                            : c == 4               ? 7.25 /* never changes */
                            : c == 6 && i > 5000
                                ? 1e6 + i /* far outside, later */
                                : 10 * c + tr_rng_normal(&r) * (c + 1) * (i < 3000 ? 1 : 4);
  tr_stats *one;
  assert_int_equal(tr_stats_new(&one, CELLS, CAP, 64, NULL), TR_OK);
  for (int i = 0; i < RUNS; i++)
    assert_int_equal(tr_stats_add(one, &rows[i * CELLS]), TR_OK);
  static const size_t sizes[] = {64, 100, 300, 250, 70, 2048}; /* wanted; cut to fit */
  for (size_t T = 1; T <= 3; T++) {
    tr_stats *st;
    assert_int_equal(tr_stats_new(&st, CELLS, CAP, 64, NULL), TR_OK);
    assert_int_equal(tr_stats_set_threads(st, 0), TR_ERR_INVALID);
    assert_int_equal(tr_stats_set_threads(st, T), TR_OK);
    size_t at = 0;
    for (size_t k = 0; at < RUNS; k++) {
      size_t max = tr_stats_round_max(st), n = tr_stats_round_size(st, RUNS - at, sizes[k % 6]);
      assert_true(max >= 1 && max <= TR_STATS_EPOCH && n >= 1 && n <= max);
      assert_true((at + n) % TR_STATS_CHUNK == 0 || at + n == CAP || at + n == RUNS);
      assert_int_equal(tr_stats_round_begin(st, max + 1), TR_ERR_INVALID);
      assert_int_equal(tr_stats_round_begin(st, n), TR_OK);
      size_t nch = tr_stats_round_chunks(st), covered = 0;
      for (size_t j = nch; j-- > 0;) { /* last chunk first, sets in turn */
        size_t off, nr, set = j % T;
        tr_stats_round_chunk_runs(st, j, &off, &nr);
        assert_true(nr >= 1 && nr <= TR_STATS_CHUNK && off + nr <= n);
        covered += nr;
        const double *src = &rows[(at + off) * CELLS];
        if (j % 2) { /* written in place, as the runner does */
          double *dst = tr_stats_rows_dest(st, j, nr, set);
          assert_non_null(dst);
          memcpy(dst, src, nr * CELLS * sizeof *dst);
          src = dst;
        }
        assert_int_equal(tr_stats_round_chunk(st, j, src, set), TR_OK);
      }
      assert_int_equal(covered, n);
      if (T > 1 && k % 3 == 0) /* some sets add their waiting rows early, as threads may */
        assert_int_equal(tr_stats_flush_set(st, 1), TR_OK);
      assert_int_equal(tr_stats_round_end(st), TR_OK);
      at += n;
    }
    assert_int_equal(tr_stats_set_threads(st, 2), TR_ERR_INVALID); /* runs were added */
    assert_int_equal(tr_stats_runs(st), RUNS);
    assert_false(tr_stats_is_exact(st));
    for (size_t c = 0; c < CELLS; c++) {
      tr_summary x, y;
      assert_int_equal(tr_stats_summary(one, c, &x), TR_OK);
      assert_int_equal(tr_stats_summary(st, c, &y), TR_OK);
      assert_memory_equal(&x, &y, sizeof x);
    }
    tr_stats_free(st);
  }
  tr_summary s;
  assert_int_equal(tr_stats_summary(one, 2, &s), TR_OK);
  assert_int_equal(s.n, RUNS - 1);
  assert_int_equal(s.nonfinite, 1);
  assert_int_equal(tr_stats_summary(one, 4, &s), TR_OK);
  assert_true(s.mean == 7.25 && s.sd == 0 && s.pct[3] == 7.25);
  assert_int_equal(tr_stats_summary(one, 6, &s), TR_OK);
  assert_true(s.max == 1e6 + RUNS - 1 && !s.exact);
  static double col[RUNS]; /* the estimates lie within one bin of the order statistics */
  for (int i = 0; i < RUNS; i++)
    col[i] = rows[i * CELLS + 6];
  qsort(col, RUNS, sizeof *col, cmp_double);
  for (int k = 0; k < TR_STATS_NPCT; k++)
    assert_true(fabs(s.pct[k] - col[(size_t)floor(tr_stats_pct[k] * (RUNS - 1))]) <= s.err_bound);
  tr_stats_free(one);
}

/* Type-7 quantile of sorted a[0..n), as the statistics define it. */
static double sorted_type7(const double *a, size_t n, double q) {
  double h = q * (double)(n - 1);
  size_t i = (size_t)floor(h) < n - 1 ? (size_t)floor(h) : n - 1;
  return i + 1 >= n || h == (double)i ? a[i] : a[i] + (h - (double)i) * (a[i + 1] - a[i]);
}

/* stats-10: exact percentiles, found by buckets (16 to 512 of them, one per 8 values) from 64
 * runs on and by selection for fewer, equal those of a full sort bit for bit: uniform values,
 * a few repeated values, one far outlier that puts nearly every value in one bucket, and a
 * constant cell. */
static void test_exact_by_buckets(void **state) {
  (void)state;
  enum { N = 6000, SETS = 4 };
  static double v[SETS][N], sorted[N];
  tr_rng r;
  tr_rng_seed(&r, 10);
  for (size_t i = 0; i < N; i++) {
    v[0][i] = tr_rng_uniform(&r);
    v[1][i] = (double)(tr_rng_next(&r) % 5);
    v[2][i] = i == 17 ? 1e12 : tr_rng_normal(&r);
    v[3][i] = 42.5;
  }
  static const size_t sizes[] = {50, 64, 1000, 6000}; /* 50: selection; 64 on: buckets */
  for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++)
    for (size_t d = 0, n = sizes[z]; d < SETS; d++) {
      tr_stats *st;
      assert_int_equal(tr_stats_new(&st, 1, N, 64, NULL), TR_OK);
      assert_int_equal(tr_stats_add_rows(st, v[d], n), TR_OK);
      tr_summary one, many;
      assert_int_equal(tr_stats_summary(st, 0, &one), TR_OK);
      assert_int_equal(tr_stats_summaries(st, 0, 1, &many), TR_OK);
      memcpy(sorted, v[d], n * sizeof *sorted);
      qsort(sorted, n, sizeof *sorted, cmp_double);
      for (int k = 0; k < TR_STATS_NPCT; k++) {
        double want = sorted_type7(sorted, n, tr_stats_pct[k]);
        assert_true(one.pct[k] == want && many.pct[k] == want);
      }
      tr_stats_free(st);
    }
}

/* stats-11: the moments keep their accuracy far from zero: values 1e9 + N(0, 1e-3) (a plain
 * sum of squares would lose every digit of the sd), across chunks, exact and streaming, with
 * a non-finite value in one chunk; against a two-pass sum in long double. */
static void test_moments_offset(void **state) {
  (void)state;
  enum { N = 5000 };
  static double v[N];
  tr_rng r;
  tr_rng_seed(&r, 11);
  for (int i = 0; i < N; i++)
    v[i] = i == 700 ? NAN : 1e9 + 1e-3 * tr_rng_normal(&r);
  long double sum = 0, m2 = 0;
  for (int i = 0; i < N; i++)
    if (i != 700) sum += v[i];
  long double mean = sum / (N - 1);
  for (int i = 0; i < N; i++)
    if (i != 700) m2 += (v[i] - mean) * (v[i] - mean);
  double sd = (double)sqrtl(m2 / (N - 2));
  for (size_t cap = 100; cap <= N; cap += N - 100) {
    tr_stats *st;
    assert_int_equal(tr_stats_new(&st, 1, cap, 64, NULL), TR_OK);
    assert_int_equal(tr_stats_add_rows(st, v, N), TR_OK);
    tr_summary s;
    assert_int_equal(tr_stats_summary(st, 0, &s), TR_OK);
    assert_true(s.n == N - 1 && s.nonfinite == 1);
    assert_true(fabs(s.mean - (double)mean) <= 1e-15 * 1e9 * 4);
    assert_true(fabs(s.sd - sd) <= 1e-6 * sd);
    tr_stats_free(st);
  }
}

/* stats-12: extreme values in streaming mode (a range that must grow to the whole line of
 * doubles, subnormals, infinities, a cell without a finite value until late): no undefined
 * behaviour (the suite runs under UBSan), exact counts, min and max, and percentiles within
 * [min, max]; 1 and 2 threads' sets agree. */
static void test_extremes(void **state) {
  (void)state;
  enum { CELLS = 3, RUNS = 5000, CAP = 10 };
  static double rows[RUNS * CELLS];
  tr_rng r;
  tr_rng_seed(&r, 12);
  for (int i = 0; i < RUNS; i++) {
    double u = tr_rng_uniform(&r);
    rows[i * CELLS + 0] = i % 7 == 0 ? 1e308 : i % 11 == 0 ? -1e308 : u;
    rows[i * CELLS + 1] = i % 13 == 0 ? INFINITY : i % 5 == 0 ? 4.9e-324 : -u * 1e-300;
    rows[i * CELLS + 2] = i < 4200 ? NAN : u; /* nothing finite before the first epochs */
  }
  tr_summary want[CELLS];
  for (size_t T = 1; T <= 2; T++) {
    tr_stats *st;
    assert_int_equal(tr_stats_new(&st, CELLS, CAP, 64, NULL), TR_OK);
    assert_int_equal(tr_stats_set_threads(st, T), TR_OK);
    for (size_t at = 0; at < RUNS;) {
      size_t n = tr_stats_round_size(st, RUNS - at, 192);
      assert_int_equal(tr_stats_round_begin(st, n), TR_OK);
      for (size_t j = 0; j < tr_stats_round_chunks(st); j++) {
        size_t off, nr;
        tr_stats_round_chunk_runs(st, j, &off, &nr);
        assert_int_equal(tr_stats_round_chunk(st, j, &rows[(at + off) * CELLS], j % T), TR_OK);
      }
      assert_int_equal(tr_stats_round_end(st), TR_OK);
      at += n;
    }
    for (size_t c = 0; c < CELLS; c++) {
      tr_summary s;
      assert_int_equal(tr_stats_summary(st, c, &s), TR_OK);
      assert_false(s.exact);
      for (int k = 0; k < TR_STATS_NPCT; k++)
        assert_true(s.pct[k] >= s.min && s.pct[k] <= s.max);
      if (T == 1)
        want[c] = s;
      else
        assert_memory_equal(&s, &want[c], sizeof s);
    }
    tr_stats_free(st);
  }
  assert_true(want[0].min == -1e308 && want[0].max == 1e308 && want[0].n == RUNS);
  assert_true(want[1].max == 4.9e-324 && want[1].nonfinite == (RUNS + 12) / 13);
  assert_true(want[2].n == RUNS - 4200 && want[2].nonfinite == 4200);
}

/* stats-3: beyond the cap the histogram estimate stays within its documented bound of the
 * exact order statistic, the range grows both ways, and memory no longer grows. */
static void test_streaming(void **state) {
  (void)state;
  enum { N = 60000, CAP = 500 };
  tr_stats *st;
  assert_int_equal(tr_stats_new(&st, 1, CAP, 1024, NULL), TR_OK);
  double *all = malloc(N * sizeof *all);
  tr_rng r;
  tr_rng_seed(&r, 77);
  for (int i = 0; i < N; i++) {
    /* Narrow at first (the histogram starts over the range of the first 500), then wider
     * both ways: exercises the doubling. */
    double scale = i < CAP ? 1 : i < 20000 ? 10 : 100;
    all[i] = 50 + scale * tr_rng_normal(&r);
    assert_int_equal(tr_stats_add(st, &all[i]), TR_OK);
    if (i == 30001) { /* a reader in the middle adds the buffered runs first */
      tr_summary mid;
      assert_int_equal(tr_stats_summary(st, 0, &mid), TR_OK);
      assert_true(mid.n == 30002 && !mid.exact);
    }
  }
  assert_false(tr_stats_is_exact(st));
  assert_true(tr_stats_runs(st) == N);
  tr_summary s;
  assert_int_equal(tr_stats_summary(st, 0, &s), TR_OK);
  assert_false(s.exact);
  /* The values span about 900: 1,024 bins over a range that doubled its way there. */
  assert_true(s.err_bound > 0 && s.err_bound < 4.0);
  double mean = 0;
  for (int i = 0; i < N; i++)
    mean += all[i];
  mean /= N;
  assert_true(fabs(s.mean - mean) < 1e-9 * fabs(mean));
  qsort(all, N, sizeof *all, cmp_double);
  assert_true(s.min == all[0] && s.max == all[N - 1]);
  for (int i = 0; i < TR_STATS_NPCT; i++) {
    size_t k = (size_t)floor(tr_stats_pct[i] * (N - 1));
    if (!(fabs(s.pct[i] - all[k]) <= s.err_bound))
      print_error("p%g: %g vs order statistic %g (bound %g)\n", tr_stats_pct[i] * 100, s.pct[i],
                  all[k], s.err_bound);
    assert_true(fabs(s.pct[i] - all[k]) <= s.err_bound);
  }
  double var, cvar, want_cvar = 0;
  assert_int_equal(tr_stats_tail(st, 0, 0.1, &var, &cvar, NULL), TR_OK);
  for (int i = 0; i < N / 10; i++)
    want_cvar += all[i];
  want_cvar /= N / 10;
  assert_true(fabs(var - all[(size_t)floor(0.1 * (N - 1))]) <= s.err_bound);
  assert_true(fabs(cvar - want_cvar) <= s.err_bound);
  free(all);
  tr_stats_free(st);
}

/* stats-4: events: parsing, normalisation, probabilities and first passage. */
static void test_events(void **state) {
  (void)state;
  tr_event ev;
  tr_error err;
  assert_int_equal(tr_event_parse("cash < 0", &ev, &err), TR_OK);
  assert_string_equal(ev.var, "cash");
  assert_true(ev.op == TR_CMP_LT && ev.rhs == 0);
  assert_int_equal(tr_event_parse(" 100 <= \"Backlog Weeks\" ", &ev, &err), TR_OK);
  assert_string_equal(ev.var, "Backlog Weeks");
  assert_true(ev.op == TR_CMP_GE && ev.rhs == 100);
  assert_int_equal(tr_event_parse("cash", &ev, &err), TR_ERR_PARSE);
  assert_int_equal(tr_event_parse("cash < debt", &ev, &err), TR_ERR_PARSE);
  assert_non_null(strstr(err.msg, "one variable with one number"));
  assert_int_equal(tr_event_parse("1 < 2", &ev, &err), TR_ERR_PARSE);
  assert_int_equal(tr_event_parse("0 < cash < 5", &ev, &err), TR_ERR_PARSE);
  assert_int_equal(tr_event_parse("< 5", &ev, &err), TR_ERR_PARSE);

  assert_int_equal(tr_event_parse("cash < 0", &ev, &err), TR_OK);
  const double times[4] = {0, 1, 2, 3};
  const double runs[5][4] = {
      {5, -1, 2, 3}, {5, 4, -2, -3}, {5, 4, 3, 2}, {-1, -1, -1, -1}, {5, 4, -1, 1}};
  tr_event_acc acc;
  assert_int_equal(tr_event_acc_init(&acc, 4), TR_OK);
  for (int i = 0; i < 5; i++)
    tr_event_acc_add(&acc, &ev, runs[i]);
  assert_true(acc.runs == 5 && acc.any == 4 && acc.at_end == 2);
  assert_true(acc.first[0] == 1 && acc.first[1] == 1 && acc.first[2] == 2 && acc.first[3] == 0);
  /* First passages {0, 1, 2, 2}: type 7 median = 1.5, p0 = 0, p100 = 2. */
  assert_true(tr_event_first_passage_quantile(&acc, times, 0.5) == 1.5);
  assert_true(tr_event_first_passage_quantile(&acc, times, 0.0) == 0);
  assert_true(tr_event_first_passage_quantile(&acc, times, 1.0) == 2);
  tr_event_acc_free(&acc);
  tr_event_acc_free(&acc);
  tr_event_acc_free(NULL);
}

/* stats-5: the convergence rule. */
static void test_until(void **state) {
  (void)state;
  tr_until u;
  tr_error err;
  assert_int_equal(tr_until_parse("mean(revenue) \xc2\xb1"
                                  "1% @95%",
                                  &u, &err),
                   TR_OK);
  assert_string_equal(u.var, "revenue");
  assert_true(u.relative && fabs(u.half - 0.01) < 1e-15 && fabs(u.z - 1.959963984540054) < 1e-12);
  /* z sd / sqrt(n) = 1.96 * 5 / 10 = 0.98 <= 1% of 100, but 1.18 > 1 with sd 6. */
  assert_true(tr_until_met(&u, 100, 100, 5));
  assert_false(tr_until_met(&u, 100, 100, 6));
  assert_false(tr_until_met(&u, 99, 100, 0.1)); /* below the minimum number of runs */
  assert_int_equal(tr_until_parse("mean( Net Cash ) +- 5", &u, &err), TR_OK);
  assert_string_equal(u.var, "Net Cash");
  assert_true(!u.relative && u.half == 5 && u.conf == 0.95);
  assert_int_equal(tr_until_parse("mean(x) +/-2% @99%", &u, &err), TR_OK);
  assert_true(fabs(u.z - 2.5758293035489004) < 1e-12);
  assert_int_equal(tr_until_parse("median(x) +-1%", &u, &err), TR_ERR_PARSE);
  assert_non_null(strstr(err.msg, "only the mean"));
  assert_int_equal(tr_until_parse("mean(x) 1%", &u, &err), TR_ERR_PARSE);
  assert_int_equal(tr_until_parse("mean(x) +--1%", &u, &err), TR_ERR_PARSE);
  assert_int_equal(tr_until_parse("mean(x) +-1% @120%", &u, &err), TR_ERR_PARSE);
  assert_int_equal(tr_until_parse("mean() +-1%", &u, &err), TR_ERR_PARSE);
  assert_int_equal(tr_until_parse("mean(x +-1%", &u, &err), TR_ERR_PARSE);
  assert_int_equal(tr_until_parse("mean(x) +-1% junk", &u, &err), TR_ERR_PARSE);
}

/* stats-6: bad sizes, and allocation failure while growing or switching to streaming leaves
 * the accumulator consistent (the failed run is not counted). */
static void test_errors_and_alloc(void **state) {
  (void)state;
  tr_stats *st;
  tr_error err;
  assert_int_equal(tr_stats_new(&st, 0, 10, 64, &err), TR_ERR_INVALID);
  assert_int_equal(tr_stats_new(&st, 1, 10, 15, &err), TR_ERR_INVALID);
  assert_int_equal(tr_stats_new(&st, 3, 100, 64, NULL), TR_OK);
  double v[3] = {1, 2, 3};
  for (int i = 0; i < 63; i++)
    assert_int_equal(tr_stats_add(st, v), TR_OK);
  tr_alloc_fail_after(1, 0);
  assert_int_equal(tr_stats_add(st, v), TR_ERR_NOMEM); /* the first chunk: storage */
  tr_alloc_fail_after(0, 0);
  assert_true(tr_stats_runs(st) == 63);
  for (int i = 63; i < 99; i++)
    assert_int_equal(tr_stats_add(st, v), TR_OK);
  tr_alloc_fail_after(1, 0);
  assert_int_equal(tr_stats_add(st, v), TR_ERR_NOMEM); /* growth past 64 runs */
  tr_alloc_fail_after(0, 0);
  assert_true(tr_stats_runs(st) == 99);
  assert_int_equal(tr_stats_add(st, v), TR_OK);
  assert_true(tr_stats_runs(st) == 100 && tr_stats_is_exact(st));
  assert_int_equal(tr_stats_add(st, v), TR_OK); /* waits for its chunk */
  assert_false(tr_stats_is_exact(st));
  tr_summary s;
  tr_alloc_fail_after(1, 0);
  assert_int_equal(tr_stats_summary(st, 2, &s), TR_ERR_NOMEM); /* the switch to streaming */
  tr_alloc_fail_after(0, 0);
  assert_int_equal(tr_stats_summary(st, 2, &s), TR_OK);
  assert_true(s.n == 101 && s.pct[3] == 3 && s.mean == 3 && !s.exact);
  tr_stats_free(st);
  tr_stats_free(NULL);
  assert_true(tr_stats_cap_for_memory(8000, 10) == 100);
  assert_true(tr_stats_bins_for_memory((size_t)256 << 20, 24000) == 512);
  assert_true(tr_stats_bins_for_memory((size_t)1 << 20, 10) == TR_STATS_DEFAULT_BINS);
  assert_true(tr_stats_bins_for_memory(1000, 1000) == 64);
  assert_true(tr_stats_cap_for_memory(1, 10) == 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_linear_normal_model),
      cmocka_unit_test(test_exact_percentiles),
      cmocka_unit_test(test_streaming),
      cmocka_unit_test(test_events),
      cmocka_unit_test(test_until),
      cmocka_unit_test(test_errors_and_alloc),
      cmocka_unit_test(test_summaries_match),
      cmocka_unit_test(test_rows_match_runs),
      cmocka_unit_test(test_rounds),
      cmocka_unit_test(test_exact_by_buckets),
      cmocka_unit_test(test_moments_offset),
      cmocka_unit_test(test_extremes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
