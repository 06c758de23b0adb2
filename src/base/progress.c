/* Progress reporting (see progress.h). The counter and the time of the last draw are atomics;
 * a worker that finds the last draw older than the interval tries to claim the draw with a
 * compare-and-swap, so at most one thread writes a line per interval and nobody blocks. */
#include "base/progress.h"

#include "tightrope/base.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TTY_INTERVAL_NS 100000000LL /* ~10 redraws per second */
#define BAR_WIDTH 24

struct tr_progress {
  FILE *out;                 /* borrowed */
  char *label;               /* owned */
  uint64_t total;            /* 0 = unknown */
  int mode;                  /* MODE_* */
  long long start_ns;        /* monotonic clock at creation */
  long long interval_ns;     /* minimum time between lines */
  _Atomic uint64_t done;     /* units counted */
  _Atomic long long last_ns; /* when the last line was drawn (or claimed) */
};

enum { MODE_SILENT, MODE_TTY, MODE_PLAIN };

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* 1234567 -> "1,234,567" */
static void group_digits(char *buf, size_t cap, uint64_t v) {
  char raw[32];
  int n = snprintf(raw, sizeof raw, "%llu", (unsigned long long)v);
  size_t o = 0;
  for (int i = 0; i < n && o + 1 < cap; i++) {
    if (i > 0 && (n - i) % 3 == 0 && o + 2 < cap) buf[o++] = ',';
    buf[o++] = raw[i];
  }
  buf[o] = '\0';
}

int tr_progress_format_rate(char *buf, size_t cap, double per_s) {
  if (!isfinite(per_s) || per_s < 0) return snprintf(buf, cap, "-/s");
  static const char suffix[] = {'\0', 'k', 'M', 'G', 'T'};
  int k = 0;
  while (per_s >= 999.5 && k < 4) {
    per_s /= 1000.0;
    k++;
  }
  if (k == 0 && per_s >= 99.5) return snprintf(buf, cap, "%.0f/s", per_s);
  int decimals = per_s >= 99.5 ? 0 : per_s >= 9.995 ? 1 : 2;
  if (suffix[k]) return snprintf(buf, cap, "%.*f%c/s", decimals, per_s, suffix[k]);
  return snprintf(buf, cap, "%.*f/s", decimals, per_s);
}

int tr_progress_format_duration(char *buf, size_t cap, double seconds) {
  if (!isfinite(seconds) || seconds < 0 || seconds > 100.0 * 86400.0)
    return snprintf(buf, cap, "--:--");
  long s = (long)ceil(seconds);
  long h = s / 3600, m = s / 60 % 60, sec = s % 60;
  if (h > 0) return snprintf(buf, cap, "%ld:%02ld:%02ld", h, m, sec);
  return snprintf(buf, cap, "%ld:%02ld", m, sec);
}

int tr_progress_format(char *buf, size_t cap, const char *label, uint64_t done, uint64_t total,
                       double elapsed, int bar_width) {
  char count[32], tot[32], rate[32], eta[32];
  double per_s = elapsed > 0 ? (double)done / elapsed : NAN;
  group_digits(count, sizeof count, done);
  tr_progress_format_rate(rate, sizeof rate, per_s);
  if (!label) label = "";
  if (total == 0) {
    tr_progress_format_duration(eta, sizeof eta, elapsed);
    return snprintf(buf, cap, "%s  %s  %s  %s", label, count, rate, eta);
  }
  double frac = done >= total ? 1.0 : (double)done / (double)total;
  group_digits(tot, sizeof tot, total);
  double left = done >= total ? 0.0 : per_s > 0 ? (double)(total - done) / per_s : NAN;
  tr_progress_format_duration(eta, sizeof eta, left);
  char bar[130];
  size_t b = 0;
  if (bar_width > 0) {
    if (bar_width > 120) bar_width = 120;
    int filled = (int)floor(frac * bar_width);
    bar[b++] = ' ';
    bar[b++] = '[';
    for (int i = 0; i < bar_width; i++)
      bar[b++] = i < filled ? '#' : '.';
    bar[b++] = ']';
  }
  bar[b] = '\0';
  return snprintf(buf, cap, "%s%s %3d%%  %s/%s  %s  ETA %s", label, bar, (int)floor(frac * 100),
                  count, tot, rate, eta);
}

tr_progress *tr_progress_new(FILE *out, const char *label, uint64_t total, unsigned flags) {
  tr_progress *p = tr_calloc(1, sizeof *p);
  if (!p) return NULL;
  p->label = tr_strdup(label ? label : "");
  if (!p->label) {
    tr_free(p);
    return NULL;
  }
  p->out = out ? out : stderr;
  p->total = total;
  int tty = isatty(fileno(p->out));
  if (tty || (flags & TR_PROGRESS_FORCE)) {
    p->mode = MODE_TTY;
    p->interval_ns = TTY_INTERVAL_NS;
  } else if (flags & TR_PROGRESS_PLAIN) {
    p->mode = MODE_PLAIN;
    p->interval_ns = (long long)(TR_PROGRESS_PLAIN_S * 1e9);
  } else {
    p->mode = MODE_SILENT;
  }
  p->start_ns = now_ns();
  atomic_init(&p->done, 0);
  atomic_init(&p->last_ns, p->start_ns);
  return p;
}

static void draw(tr_progress *p, uint64_t done, long long t, int final) {
  char line[256];
  double elapsed = (double)(t - p->start_ns) / 1e9;
  if (p->mode == MODE_TTY) {
    tr_progress_format(line, sizeof line, p->label, done, p->total, elapsed, BAR_WIDTH);
    /* \r returns to the line start, ESC[K clears what a longer earlier line left */
    fprintf(p->out, "\r%s\033[K%s", line, final ? "\n" : "");
  } else {
    tr_progress_format(line, sizeof line, p->label, done, p->total, elapsed, 0);
    fprintf(p->out, "%s\n", line);
  }
  fflush(p->out);
}

void tr_progress_add(tr_progress *p, uint64_t n) {
  if (!p) return;
  uint64_t done = atomic_fetch_add_explicit(&p->done, n, memory_order_relaxed) + n;
  if (p->mode == MODE_SILENT) return;
  long long last = atomic_load_explicit(&p->last_ns, memory_order_relaxed);
  long long t = now_ns();
  if (t - last < p->interval_ns) return;
  /* whoever swaps in its time draws; the others carry on counting */
  if (atomic_compare_exchange_strong(&p->last_ns, &last, t)) draw(p, done, t, 0);
}

uint64_t tr_progress_count(const tr_progress *p) {
  if (!p) return 0;
  return atomic_load(&((tr_progress *)p)->done);
}

void tr_progress_finish(tr_progress *p) {
  if (!p || p->mode == MODE_SILENT) return;
  draw(p, atomic_load(&p->done), now_ns(), 1);
}

void tr_progress_free(tr_progress *p) {
  if (!p) return;
  tr_free(p->label);
  tr_free(p);
}
