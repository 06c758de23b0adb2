/*
 * Output of a Monte Carlo study: JSON (what the fan charts, tables and the API need) and CSV
 * (one row per variable and saved time). Kept apart from the runner (STYLE rule 11).
 * Numbers are printed in the shortest form that reads back exactly, non-finite ones as JSON
 * null / empty CSV fields, so the output is byte-identical whenever the numbers are.
 */
#include "scenario/runner_impl.h"
#include "base/team.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void num(FILE *f, double v) {
  if (!isfinite(v)) {
    fputs("null", f);
    return;
  }
  char buf[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  fputs(buf, f);
}

static void csv_num(FILE *f, double v) {
  if (isfinite(v)) num(f, v);
}

static void str(FILE *f, const char *s) {
  fputc('"', f);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c == '\n')
      fputs("\\n", f);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

static const char *var_name(const tr_mc *mc, size_t var) {
  tr_var_info vi;
  tr_model_var(mc->m, var, &vi);
  return vi.name;
}

static const char *const pct_keys[TR_STATS_NPCT] = {"p5", "p10", "p25", "p50", "p75", "p90", "p95"};

/* One summary as JSON members (no braces). */
static void summary_members(FILE *f, const tr_summary *s) {
  fprintf(f, "\"n\": %llu, \"mean\": ", (unsigned long long)s->n);
  num(f, s->mean);
  fputs(", \"sd\": ", f);
  num(f, s->sd);
  fputs(", \"min\": ", f);
  num(f, s->min);
  fputs(", \"max\": ", f);
  num(f, s->max);
  for (int i = 0; i < TR_STATS_NPCT; i++) {
    fprintf(f, ", \"%s\": ", pct_keys[i]);
    num(f, s->pct[i]);
  }
}

/* Summaries of the watched cells, by --threads threads, each a contiguous range of cells
 * (one pass over the kept runs per 64 cells of it). */
typedef struct sum_job {
  tr_mc *mc;
  size_t cells, per; /* cells in all, cells per task */
  _Atomic int failed;
} sum_job;

static void sum_task(void *ctx, size_t k, size_t tid) {
  (void)tid;
  sum_job *j = ctx;
  size_t c0 = k * j->per, n = c0 < j->cells ? j->cells - c0 : 0;
  n = n < j->per ? n : j->per;
  if (n && tr_stats_summaries(j->mc->stats, c0, n, &j->mc->sum[c0]) != TR_OK)
    atomic_store(&j->failed, 1);
}

/* The summaries of every watched cell, made once per run of the study: the percentile
 * bands are most of the work of a report when the runs are many. */
static int summaries(tr_mc *mc) {
  if (mc->sum) return TR_OK;
  size_t cells = mc->n_watch * mc->n_times, threads = (size_t)mc->opts.threads;
  mc->sum = tr_malloc((cells ? cells : 1) * sizeof *mc->sum);
  if (!mc->sum || tr_stats_settle(mc->stats) != TR_OK) return TR_ERR_NOMEM;
  sum_job j = {mc, cells, (cells + threads - 1) / threads, 0};
  j.per = (j.per + 63) / 64 * 64;
  atomic_init(&j.failed, 0);
  tr_team *t;
  if (threads < 2 || tr_team_new(&t, (int)threads) != TR_OK) t = NULL;
  if (t)
    tr_team_run(t, sum_task, &j, (cells + j.per - 1) / j.per);
  else
    for (size_t k = 0; k * j.per < cells; k++)
      sum_task(&j, k, 0);
  tr_team_free(t);
  if (atomic_load(&j.failed)) {
    tr_free(mc->sum);
    mc->sum = NULL;
    return TR_ERR_NOMEM;
  }
  return TR_OK;
}

/* The band arrays of one tracked variable over time. */
static int write_bands(FILE *f, tr_mc *mc, size_t slot) {
  size_t nt = mc->n_times;
  if (summaries(mc) != TR_OK) return TR_ERR_NOMEM;
  const tr_summary *s = &mc->sum[slot * nt];
  static const char *const keys[] = {"mean", "sd", "min", "max"};
  for (int k = 0; k < 4 + TR_STATS_NPCT; k++) {
    fprintf(f, ",\n      \"%s\": [", k < 4 ? keys[k] : pct_keys[k - 4]);
    for (size_t t = 0; t < nt; t++) {
      if (t) fputs(", ", f);
      double v = k == 0   ? s[t].mean
                 : k == 1 ? s[t].sd
                 : k == 2 ? s[t].min
                 : k == 3 ? s[t].max
                          : s[t].pct[k - 4];
      num(f, v);
    }
    fputc(']', f);
  }
  double bound = 0;
  uint64_t nonfinite = 0;
  for (size_t t = 0; t < nt; t++) {
    if (s[t].err_bound > bound) bound = s[t].err_bound;
    nonfinite += s[t].nonfinite;
  }
  fputs(",\n      \"percentile_error_bound\": ", f);
  num(f, bound);
  fprintf(f, ",\n      \"nonfinite_values\": %llu", (unsigned long long)nonfinite);
  return TR_OK;
}

static int write_final(FILE *f, tr_mc *mc, size_t w) {
  size_t cell = w * mc->n_times + mc->n_times - 1;
  tr_summary s;
  if (tr_stats_summary(mc->stats, cell, &s) != TR_OK) return TR_ERR_NOMEM;
  fputs("    {\"variable\": ", f);
  str(f, var_name(mc, mc->track[w]));
  fputs(", ", f);
  summary_members(f, &s);
  double var = NAN, cvar = NAN;
  if (s.n > 0) {
    tr_error err;
    if (tr_stats_tail(mc->stats, cell, mc->opts.tail_alpha, &var, &cvar, &err) == TR_ERR_NOMEM)
      return TR_ERR_NOMEM;
  }
  /* The confidence interval of the mean (95%, normal approximation). */
  double half = s.n > 1 ? 1.959963984540054 * s.sd / sqrt((double)s.n) : NAN;
  fputs(", \"mean_ci95\": [", f);
  num(f, s.mean - half);
  fputs(", ", f);
  num(f, s.mean + half);
  fputs("], \"tail_alpha\": ", f);
  num(f, mc->opts.tail_alpha);
  fputs(", \"var\": ", f);
  num(f, var);
  fputs(", \"cvar\": ", f);
  num(f, cvar);
  fputc('}', f);
  return TR_OK;
}

static void write_events(FILE *f, tr_mc *mc) {
  fputs(",\n  \"events\": [", f);
  for (size_t e = 0; e < mc->n_ev; e++) {
    const tr_event_acc *a = &mc->ev[e].acc;
    double runs = (double)(a->runs ? a->runs : 1);
    fputs(e ? ",\n    {\"event\": " : "\n    {\"event\": ", f);
    str(f, mc->ev[e].ev.text);
    fputs(", \"p_any_time\": ", f);
    num(f, (double)a->any / runs);
    fputs(", \"p_at_end\": ", f);
    num(f, (double)a->at_end / runs);
    fputs(",\n     \"first_passage\": {", f);
    static const double q[] = {0.1, 0.5, 0.9};
    static const char *const qk[] = {"p10", "p50", "p90"};
    for (int i = 0; i < 3; i++) {
      fprintf(f, "%s\"%s\": ", i ? ", " : "", qk[i]);
      num(f, tr_event_first_passage_quantile(a, mc->times, q[i]));
    }
    fputs("},\n     \"cumulative_probability\": [", f);
    uint64_t cum = 0;
    for (size_t t = 0; t < mc->n_times; t++) {
      cum += a->first[t];
      if (t) fputs(", ", f);
      num(f, (double)cum / runs);
    }
    fputs("]}", f);
  }
  fputs(mc->n_ev ? "\n  ]" : "]", f);
}

static int write_sensitivity(FILE *f, tr_mc *mc) {
  size_t k = mc->k, m = mc->n_watch;
  fputs(",\n  \"sensitivity\": ", f);
  if (k == 0 || mc->sens_n < 3) {
    fputs("null", f);
    return TR_OK;
  }
  double *sp = tr_malloc(k * m * sizeof *sp), *src = tr_malloc(k * m * sizeof *src);
  double *r2 = tr_malloc(m * sizeof *r2);
  int rc = TR_ERR_NOMEM;
  if (sp && src && r2)
    rc = tr_sens_global(mc->sens_in, k, mc->sens_out, m, mc->sens_n, sp, src, r2, &mc->err);
  if (rc == TR_OK) {
    fprintf(f, "{\"runs\": %zu, \"outputs\": [", mc->sens_n);
    for (size_t o = 0; o < m; o++) {
      fputs(o ? ",\n    {\"variable\": " : "\n    {\"variable\": ", f);
      str(f, var_name(mc, mc->track[o]));
      fputs(", \"r2\": ", f);
      num(f, r2[o]);
      fputs(", \"inputs\": [", f);
      for (size_t j = 0; j < k; j++) {
        fputs(j ? ", {\"input\": " : "{\"input\": ", f);
        str(f, mc->in[j].name);
        fputs(", \"spearman\": ", f);
        num(f, sp[j * m + o]);
        fputs(", \"src\": ", f);
        num(f, src[j * m + o]);
        fputc('}', f);
      }
      fputs("]}", f);
    }
    fputs("\n  ]}", f);
  }
  tr_free(sp);
  tr_free(src);
  tr_free(r2);
  return rc;
}

static void write_tornado(FILE *f, tr_mc *mc) {
  fputs(",\n  \"tornado\": ", f);
  if (!mc->torn) {
    fputs("null", f);
    return;
  }
  fputs("[", f);
  for (size_t w = 0; w < mc->n_watch; w++) {
    fputs(w ? ",\n    {\"variable\": " : "\n    {\"variable\": ", f);
    str(f, var_name(mc, mc->track[w]));
    fputs(", \"base\": ", f);
    num(f, mc->torn_base[w]);
    fputs(", \"rows\": [", f);
    for (size_t j = 0; j < mc->k; j++) {
      const tr_tornado_row *r = &mc->torn[w * mc->k + j];
      fputs(j ? ", {\"input\": " : "{\"input\": ", f);
      str(f, mc->in[r->input].name);
      fputs(", \"low_input\": ", f);
      num(f, r->low_in);
      fputs(", \"high_input\": ", f);
      num(f, r->high_in);
      fputs(", \"low\": ", f);
      num(f, r->low);
      fputs(", \"high\": ", f);
      num(f, r->high);
      fputs(", \"swing\": ", f);
      num(f, r->swing);
      fputc('}', f);
    }
    fputs("]}", f);
  }
  fputs("\n  ]", f);
}

int tr_mc_write_json(tr_mc *mc, FILE *f, const char *scenario) {
  if (!mc->stats) return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0, "nothing was run");
  int rc = TR_OK;
  fputs("{\n  \"model\": ", f);
  str(f, tr_model_file(mc->m));
  fputs(",\n  \"scenario\": ", f);
  if (scenario)
    str(f, scenario);
  else
    fputs("null", f);
  fprintf(f, ",\n  \"runs\": %zu,\n  \"runs_requested\": %zu,\n  \"partial\": %s", mc->done,
          mc->opts.runs, mc->partial ? "true" : "false");
  fprintf(f, ",\n  \"converged\": %s", mc->has_until ? (mc->converged ? "true" : "false") : "null");
  fprintf(f, ",\n  \"seed\": %llu,\n  \"sampling\": \"%s\"", (unsigned long long)mc->opts.seed,
          mc->opts.lhs ? "lhs" : "mc");
  fprintf(f, ",\n  \"percentiles_exact\": %s", tr_stats_is_exact(mc->stats) ? "true" : "false");
  fputs(",\n  \"warnings\": [", f);
  const char *w = tr_sb_str(&mc->warn);
  for (int first = 1; *w; first = 0) {
    const char *nl = strchr(w, '\n');
    size_t len = nl ? (size_t)(nl - w) : strlen(w);
    char line[600];
    snprintf(line, sizeof line, "%.*s", (int)(len < 599 ? len : 599), w);
    if (!first) fputs(", ", f);
    str(f, line);
    w += len + (nl ? 1 : 0);
  }
  fputs("],\n  \"inputs\": [", f);
  for (size_t j = 0; j < mc->k; j++) {
    char desc[256];
    tr_dist_describe(&mc->in[j].dist, desc, sizeof desc);
    fputs(j ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
    str(f, mc->in[j].name);
    fputs(", \"distribution\": ", f);
    str(f, desc);
    fputs(", \"mean\": ", f);
    num(f, tr_dist_mean(&mc->in[j].dist));
    fputs(", \"sd\": ", f);
    num(f, sqrt(tr_dist_var(&mc->in[j].dist)));
    fputc('}', f);
  }
  fputs(mc->k ? "\n  ],\n  \"times\": [" : "],\n  \"times\": [", f);
  for (size_t t = 0; t < mc->n_times; t++) {
    if (t) fputs(", ", f);
    num(f, mc->times[t]);
  }
  fputs("],\n  \"variables\": [", f);
  for (size_t v = 0; v < mc->n_watch && rc == TR_OK; v++) {
    fputs(v ? ",\n    {\"name\": " : "\n    {\"name\": ", f);
    str(f, var_name(mc, mc->track[v]));
    rc = write_bands(f, mc, v);
    fputc('}', f);
  }
  fputs("\n  ],\n  \"final\": [\n", f);
  for (size_t v = 0; v < mc->n_watch && rc == TR_OK; v++) {
    if (v) fputs(",\n", f);
    rc = write_final(f, mc, v);
  }
  fputs("\n  ]", f);
  if (rc == TR_OK) write_events(f, mc);
  if (rc == TR_OK) rc = write_sensitivity(f, mc);
  if (rc == TR_OK) write_tornado(f, mc);
  fputs("\n}\n", f);
  if (rc == TR_ERR_NOMEM) return tr_error_set(&mc->err, rc, NULL, 0, 0, "out of memory");
  if (rc != TR_OK) return rc;
  if (ferror(f)) return tr_error_set(&mc->err, TR_ERR_IO, NULL, 0, 0, "write error");
  return TR_OK;
}

/* CSV quoting of a name (RFC 4180) when it holds a comma, quote or line break. */
static void csv_str(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

int tr_mc_write_csv(tr_mc *mc, FILE *f) {
  if (!mc->stats) return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0, "nothing was run");
  fputs("variable,time,n,mean,sd,min,max,p5,p10,p25,p50,p75,p90,p95\n", f);
  if (summaries(mc) != TR_OK)
    return tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  for (size_t v = 0; v < mc->n_watch; v++) {
    const char *name = var_name(mc, mc->track[v]);
    const tr_summary *sum = &mc->sum[v * mc->n_times];
    for (size_t t = 0; t < mc->n_times; t++) {
      const tr_summary *s = &sum[t];
      csv_str(f, name);
      fputc(',', f);
      csv_num(f, mc->times[t]);
      fprintf(f, ",%llu,", (unsigned long long)s->n);
      csv_num(f, s->mean);
      fputc(',', f);
      csv_num(f, s->sd);
      fputc(',', f);
      csv_num(f, s->min);
      fputc(',', f);
      csv_num(f, s->max);
      for (int i = 0; i < TR_STATS_NPCT; i++) {
        fputc(',', f);
        csv_num(f, s->pct[i]);
      }
      fputc('\n', f);
    }
  }
  if (ferror(f)) return tr_error_set(&mc->err, TR_ERR_IO, NULL, 0, 0, "write error");
  return TR_OK;
}
