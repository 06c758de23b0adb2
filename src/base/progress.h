/*
 * Progress reporting for long jobs (Monte Carlo runs, KPI imports): a one-line bar with count,
 * percentage, rate and ETA, redrawn in place on a terminal at most ~10 times a second. When
 * the stream is not a terminal nothing is drawn, unless TR_PROGRESS_PLAIN asks for a plain
 * line every few seconds (for logs and CI). Workers on any thread report with
 * tr_progress_add(), which is lock-free; only the thread that wins the redraw slot writes.
 *
 * Formatting is separated into pure functions (tr_progress_format*), so it can be tested
 * without a terminal or a clock.
 */
#ifndef TR_BASE_PROGRESS_H
#define TR_BASE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
  TR_PROGRESS_PLAIN = 1, /* not a terminal: print a plain line every TR_PROGRESS_PLAIN_S s */
  TR_PROGRESS_FORCE = 2  /* draw the bar even when the stream is not a terminal (tests) */
};
#define TR_PROGRESS_PLAIN_S 5.0

typedef struct tr_progress tr_progress;

/* A progress reporter writing to `out` (NULL = stderr; borrowed) for `total` units (0 when
 * unknown: no bar, percentage or ETA). `label` is copied. Returns NULL when out of memory —
 * callers may pass NULL to every other function, which then does nothing. */
tr_progress *tr_progress_new(FILE *out, const char *label, uint64_t total, unsigned flags);

/* Count n more units done; may redraw. Thread-safe (atomic counter, one drawer at a time). */
void tr_progress_add(tr_progress *p, uint64_t n);

/* Units counted so far. Thread-safe. */
uint64_t tr_progress_count(const tr_progress *p);

/* Draw the final state and end the line (terminal) or print a last plain line (PLAIN).
 * Call once, from one thread, after the workers are done. */
void tr_progress_finish(tr_progress *p);

/* Free the reporter (does not close `out`). NULL is a no-op. */
void tr_progress_free(tr_progress *p);

/* A rate in units per second, 3 significant digits with k/M/G suffixes: "0.50/s", "512/s",
 * "12.3k/s", "1.20M/s"; "-/s" when not finite or negative. Returns snprintf's count. */
int tr_progress_format_rate(char *buf, size_t cap, double per_s);

/* A duration as "m:ss" or "h:mm:ss" (rounded up to whole seconds); "--:--" when unknown
 * (negative, not finite, or over 100 days). */
int tr_progress_format_duration(char *buf, size_t cap, double seconds);

/* The whole line for `done` of `total` units after `elapsed` seconds, with a bar of
 * `bar_width` cells when total > 0 and bar_width > 0:
 *   "import [#########...............]  37%  3,700/10,000  1.23k/s  ETA 0:06"
 * and without total: "import  3,700  1.23k/s  0:03". Pure; returns snprintf's count. */
int tr_progress_format(char *buf, size_t cap, const char *label, uint64_t done, uint64_t total,
                       double elapsed, int bar_width);

#endif
