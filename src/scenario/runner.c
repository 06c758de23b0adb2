/*
 * The Monte Carlo runner: set-up of a study (inputs, overrides, outputs, events, rule) and the
 * threaded, batched run (tr_mc_run: rounds of runs cut into chunks of 64, each chunk run in
 * passes of `batch` runs that are the lanes of one tr_sim pass and added to the statistics by
 * the thread that ran it), so that the results do not depend on which thread ran which chunk
 * or how runs were grouped into lanes.
 */
#include "scenario/runner_impl.h"

#include "base/progress.h"
#include "base/rng.h"
#include "base/team.h"
#include "scenario/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often (in runs, counted in run order) the convergence rule is checked. */
#define UNTIL_EVERY 128
/* Exact runs before the statistics stream, when a study is known to need more runs than the
 * exact storage holds (prepare). */
#define PILOT_RUNS 1000

tr_mc_opts tr_mc_default_opts(void) {
  tr_mc_opts o;
  memset(&o, 0, sizeof o);
  o.runs = 1000;
  o.seed = 1;
  o.threads = 1;
  o.batch = 64;
  o.lhs = 0;
  o.exact_bytes = (size_t)256 << 20;
  o.tail_alpha = 0.05;
  return o;
}

int tr_mc_new(const tr_model *m, tr_mc **out, tr_error *err) {
  *out = tr_calloc(1, sizeof **out);
  if (!*out) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  (*out)->m = m;
  tr_sb_init(&(*out)->warn);
  return TR_OK;
}

static void free_results(tr_mc *mc) {
  tr_free(mc->times);
  tr_stats_free(mc->stats);
  tr_free(mc->sum);
  mc->sum = NULL;
  for (size_t i = 0; i < mc->n_ev; i++)
    tr_event_acc_free(&mc->ev[i].acc);
  tr_free(mc->sens_in);
  tr_free(mc->sens_out);
  tr_free(mc->torn);
  tr_free(mc->torn_base);
  mc->times = NULL;
  mc->stats = NULL;
  mc->sens_in = mc->sens_out = NULL;
  mc->torn = NULL;
  mc->torn_base = NULL;
  mc->done = mc->sens_n = mc->n_times = 0;
  mc->partial = mc->converged = 0;
}

void tr_mc_free(tr_mc *mc) {
  if (!mc) return;
  free_results(mc);
  for (size_t i = 0; i < mc->k; i++) {
    tr_free(mc->in[i].name);
    tr_dist_free(&mc->in[i].dist);
  }
  tr_free(mc->in);
  tr_free(mc->corr);
  tr_free(mc->ov);
  tr_free(mc->track);
  tr_free(mc->ev);
  tr_sb_free(&mc->warn);
  tr_free(mc);
}

tr_error *tr_mc_error(tr_mc *mc) {
  return &mc->err;
}
size_t tr_mc_runs_done(const tr_mc *mc) {
  return mc->done;
}
int tr_mc_partial(const tr_mc *mc) {
  return mc->partial;
}
const char *tr_mc_warning(const tr_mc *mc) {
  return tr_sb_str(&mc->warn);
}
void tr_mc_tornado(tr_mc *mc, int on) {
  mc->tornado = on;
}

/* Grow an array of `size`-byte elements to hold one more; TR_OK or TR_ERR_NOMEM. */
static int grow(void **arr, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return TR_OK;
  size_t nc = *cap ? *cap * 2 : 8;
  void *p = tr_realloc(*arr, nc * size);
  if (!p) return TR_ERR_NOMEM;
  *arr = p;
  *cap = nc;
  return TR_OK;
}

/* Resolve a model variable by name, with "did you mean" on failure. */
static int find_var(tr_mc *mc, const char *name, const char *what, const char *file, int line,
                    int col, size_t *out) {
  long i = tr_model_find(mc->m, name);
  if (i < 0) {
    const char *best = tr_model_suggest(mc->m, name);
    if (best)
      return tr_error_set(&mc->err, TR_ERR_UNKNOWN_NAME, file, line, col,
                          "%s: unknown variable '%s' (did you mean '%s'?)", what, name, best);
    return tr_error_set(&mc->err, TR_ERR_UNKNOWN_NAME, file, line, col,
                        "%s: unknown variable '%s' in %s", what, name, tr_model_file(mc->m));
  }
  *out = (size_t)i;
  return TR_OK;
}

static int need_constant(tr_mc *mc, size_t var, const char *what, const char *file, int line,
                         int col) {
  tr_var_info vi;
  tr_model_var(mc->m, var, &vi);
  if (!vi.is_constant)
    return tr_error_set(&mc->err, TR_ERR_INVALID, file, line, col,
                        "%s: '%s' is not a constant (its equation is '%s'); only constants can "
                        "be varied or overridden",
                        what, vi.name, vi.eqn ? vi.eqn : "");
  return TR_OK;
}

static int add_input(tr_mc *mc, const char *name, tr_dist *d, const char *file, int line, int col) {
  size_t var = 0;
  int rc = find_var(mc, name, "vary", file, line, col, &var);
  if (rc == TR_OK) var = (size_t)tr_mc_find_const(mc->m, name); /* a shocked X: its base */
  if (rc == TR_OK) rc = need_constant(mc, var, "vary", file, line, col);
  for (size_t i = 0; rc == TR_OK && i < mc->k; i++)
    if (mc->in[i].var == var)
      rc = tr_error_set(&mc->err, TR_ERR_INVALID, file, line, col,
                        "vary: '%s' is already uncertain", name);
  if (rc == TR_OK && grow((void **)&mc->in, &mc->in_cap, mc->k, sizeof *mc->in) != TR_OK)
    rc = tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  char *copy = rc == TR_OK ? tr_strdup(name) : NULL;
  if (rc == TR_OK && !copy) rc = tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  if (rc != TR_OK) {
    tr_dist_free(d);
    return rc;
  }
  mc->in[mc->k++] = (mc_input){copy, var, *d};
  return TR_OK;
}

int tr_mc_vary(tr_mc *mc, const char *name, const char *dist, const char *file, int line, int col) {
  tr_dist d;
  int rc = tr_dist_parse(&d, dist, file, line, col, &mc->err);
  if (rc != TR_OK) return rc;
  return add_input(mc, name, &d, file, line, col);
}

int tr_mc_vary_spec(tr_mc *mc, const char *spec) {
  const char *eq = strchr(spec, '=');
  if (!eq)
    return tr_error_set(&mc->err, TR_ERR_PARSE, NULL, 0, 0,
                        "--vary '%s': expected NAME=DIST(args), e.g. price=normal(10, 2)", spec);
  char name[256];
  const char *b = spec, *e = eq;
  while (b < e && (*b == ' ' || *b == '\t'))
    b++;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  size_t n = (size_t)(e - b);
  if (n == 0 || n >= sizeof name)
    return tr_error_set(&mc->err, TR_ERR_PARSE, NULL, 0, 0,
                        "--vary '%s': the variable name is missing or too long", spec);
  memcpy(name, b, n);
  name[n] = '\0';
  tr_dist d;
  int rc = tr_dist_parse(&d, eq + 1, NULL, 0, 0, &mc->err);
  if (rc == TR_OK) rc = add_input(mc, name, &d, NULL, 0, 0);
  if (rc != TR_OK) {
    /* The whole spec names the place: there is no file or line on a command line. */
    char msg[TR_ERROR_MSG_MAX];
    const char *m = mc->err.msg;
    if (strncmp(m, "vary: ", 6) == 0) m += 6;
    snprintf(msg, sizeof msg, "--vary '%.120s': %.360s", spec, m);
    tr_error_set(&mc->err, rc, NULL, 0, 0, "%s", msg);
  }
  return rc;
}

int tr_mc_vary_params(tr_mc *mc, const char *name, const char *dist, const char *const *pnames,
                      const double *params, size_t n, const char *file, int line, int col) {
  tr_dist d;
  int rc = tr_dist_init_named(&d, dist, pnames, params, n, file, line, col, &mc->err);
  if (rc != TR_OK) return rc;
  return add_input(mc, name, &d, file, line, col);
}

int tr_mc_correlate(tr_mc *mc, const double *corr, size_t k) {
  if (k != mc->k)
    return tr_error_set(&mc->err, TR_ERR_DIMENSION, NULL, 0, 0,
                        "the correlation matrix is %zu × %zu but there are %zu uncertain inputs", k,
                        k, mc->k);
  double *c = tr_malloc(k * k * sizeof *c + 1);
  if (!c) return tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  memcpy(c, corr, k * k * sizeof *c);
  tr_free(mc->corr);
  mc->corr = c;
  mc->corr_k = k;
  return TR_OK;
}

static long input_index(const tr_mc *mc, const char *name) {
  long var = tr_mc_find_const(mc->m, name);
  for (size_t i = 0; i < mc->k; i++)
    if (strcmp(mc->in[i].name, name) == 0 || (var >= 0 && mc->in[i].var == (size_t)var))
      return (long)i;
  return -1;
}

int tr_mc_correlate_pair(tr_mc *mc, const char *a, const char *b, double rho) {
  long ia = input_index(mc, a), ib = input_index(mc, b);
  const char *missing = ia < 0 ? a : ib < 0 ? b : NULL;
  if (missing)
    return tr_error_set(&mc->err, TR_ERR_UNKNOWN_NAME, NULL, 0, 0,
                        "correlation: '%s' is not an uncertain input (declare it with --vary "
                        "or in the plan first)",
                        missing);
  if (ia == ib)
    return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0,
                        "correlation: '%s' is correlated with itself", a);
  if (!(rho >= -1 && rho <= 1))
    return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0,
                        "correlation of '%s' and '%s' must be in [-1, 1] (got %g)", a, b, rho);
  size_t k = mc->k;
  if (!mc->corr || mc->corr_k != k) {
    /* (Re)size to the current inputs, keeping what was declared; new pairs independent. */
    double *c = tr_calloc(k * k, sizeof *c);
    if (!c) return tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    for (size_t i = 0; i < k; i++)
      c[i * k + i] = 1;
    for (size_t i = 0; mc->corr && i < mc->corr_k && i < k; i++)
      for (size_t j = 0; j < mc->corr_k && j < k; j++)
        c[i * k + j] = mc->corr[i * mc->corr_k + j];
    tr_free(mc->corr);
    mc->corr = c;
    mc->corr_k = k;
  }
  mc->corr[(size_t)ia * k + (size_t)ib] = mc->corr[(size_t)ib * k + (size_t)ia] = rho;
  return TR_OK;
}

int tr_mc_correlate_spec(tr_mc *mc, const char *spec) {
  const char *comma = strchr(spec, ','), *eq = strrchr(spec, '=');
  char a[256], b[256], *end;
  if (!comma || !eq || eq < comma || (size_t)(comma - spec) >= sizeof a ||
      (size_t)(eq - comma - 1) >= sizeof b)
    return tr_error_set(&mc->err, TR_ERR_PARSE, NULL, 0, 0,
                        "--corr '%s': expected A,B=RHO, e.g. price,volume=-0.5", spec);
  snprintf(a, sizeof a, "%.*s", (int)(comma - spec), spec);
  snprintf(b, sizeof b, "%.*s", (int)(eq - comma - 1), comma + 1);
  double rho = strtod(eq + 1, &end);
  if (end == eq + 1 || *end)
    return tr_error_set(&mc->err, TR_ERR_PARSE, NULL, 0, 0, "--corr '%s': '%s' is not a number",
                        spec, eq + 1);
  return tr_mc_correlate_pair(mc, a, b, rho);
}

int tr_mc_override(tr_mc *mc, const char *name, double v) {
  size_t var = 0;
  int rc = find_var(mc, name, "override", NULL, 0, 0, &var);
  if (rc == TR_OK) var = (size_t)tr_mc_find_const(mc->m, name); /* a shocked X: its base */
  if (rc == TR_OK) rc = need_constant(mc, var, "override", NULL, 0, 0);
  if (rc != TR_OK) return rc;
  if (!isfinite(v))
    return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0,
                        "override: the value of '%s' must be finite", name);
  if (grow((void **)&mc->ov, &mc->ov_cap, mc->n_ov, sizeof *mc->ov) != TR_OK)
    return tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  mc->ov[mc->n_ov++] = (mc_override){var, v};
  return TR_OK;
}

/* The slot of variable var in the tracked list, adding it (after the watched ones when
 * `watched` is 0) if needed. */
static int track(tr_mc *mc, size_t var, int watched, size_t *slot) {
  for (size_t i = 0; i < mc->n_track; i++)
    if (mc->track[i] == var) {
      if (watched && i >= mc->n_watch) {
        /* Promote an event-only variable into the watched prefix. */
        size_t t = mc->track[mc->n_watch];
        mc->track[mc->n_watch] = var;
        mc->track[i] = t;
        for (size_t e = 0; e < mc->n_ev; e++)
          if (mc->ev[e].slot == i)
            mc->ev[e].slot = mc->n_watch;
          else if (mc->ev[e].slot == mc->n_watch)
            mc->ev[e].slot = i;
        if (mc->has_until && mc->until_slot == i)
          mc->until_slot = mc->n_watch;
        else if (mc->has_until && mc->until_slot == mc->n_watch)
          mc->until_slot = i;
        *slot = mc->n_watch++;
        return TR_OK;
      }
      *slot = i;
      return TR_OK;
    }
  if (grow((void **)&mc->track, &mc->track_cap, mc->n_track, sizeof *mc->track) != TR_OK)
    return tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  mc->track[mc->n_track] = var;
  *slot = mc->n_track++;
  if (watched) return track(mc, var, 1, slot); /* moves it into the prefix */
  return TR_OK;
}

static int has_value(const tr_model *m, size_t var) {
  tr_var_info vi;
  tr_model_var(m, var, &vi);
  return vi.type != TR_VAR_GF;
}

int tr_mc_watch(tr_mc *mc, const char *name) {
  size_t var = 0, slot = 0;
  int rc = find_var(mc, name, "vars", NULL, 0, 0, &var);
  if (rc != TR_OK) return rc;
  if (!has_value(mc->m, var))
    return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0,
                        "vars: '%s' is a graphical function and has no value of its own", name);
  for (size_t i = 0; i < mc->n_watch; i++)
    if (mc->track[i] == var) return TR_OK;
  return track(mc, var, 1, &slot);
}

int tr_mc_event(tr_mc *mc, const char *expr) {
  tr_event ev;
  int rc = tr_event_parse(expr, &ev, &mc->err);
  if (rc != TR_OK) return rc;
  size_t var = 0, slot = 0;
  if ((rc = find_var(mc, ev.var, "event", NULL, 0, 0, &var)) != TR_OK) return rc;
  if (!has_value(mc->m, var))
    return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0,
                        "event: '%s' is a graphical function and has no value of its own", ev.var);
  if (grow((void **)&mc->ev, &mc->ev_cap, mc->n_ev, sizeof *mc->ev) != TR_OK)
    return tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  if ((rc = track(mc, var, 0, &slot)) != TR_OK) return rc;
  memset(&mc->ev[mc->n_ev], 0, sizeof mc->ev[mc->n_ev]);
  mc->ev[mc->n_ev].ev = ev;
  mc->ev[mc->n_ev].slot = slot;
  mc->n_ev++;
  return TR_OK;
}

int tr_mc_until(tr_mc *mc, const char *rule) {
  tr_until u;
  int rc = tr_until_parse(rule, &u, &mc->err);
  if (rc != TR_OK) return rc;
  size_t var = 0, slot = 0;
  if ((rc = find_var(mc, u.var, "until", NULL, 0, 0, &var)) != TR_OK) return rc;
  if ((rc = track(mc, var, 0, &slot)) != TR_OK) return rc;
  mc->until = u;
  mc->has_until = 1;
  mc->until_slot = slot;
  return TR_OK;
}

/* ---- the run ------------------------------------------------------------------------------ */

/* A new sim for the study: options, overrides, tracked variables. */
static int make_sim(const tr_mc *mc, const tr_sim_opts *o, tr_sim **out, tr_error *err) {
  int rc = tr_sim_new(mc->m, o, out, err);
  if (rc != TR_OK) return rc;
  for (size_t i = 0; rc == TR_OK && i < mc->n_ov; i++)
    rc = tr_sim_set_const_index(*out, mc->ov[i].var, -1, mc->ov[i].value);
  if (rc == TR_OK) rc = tr_sim_watch(*out, mc->track, mc->n_track);
  if (rc != TR_OK) {
    tr_error_copy(err, tr_sim_error(*out));
    tr_sim_free(*out);
    *out = NULL;
  }
  return rc;
}

/* Size of a run's hazard message (tr_sim_warning). */
#define HAZARD_MAX 600

/* One round of the study: runs first .. first + nr - 1, cut into the statistics' chunks
 * (tr_stats_round_chunk_runs); a task is `group` consecutive chunks, run in passes of `batch`
 * runs that are the lanes of one pass of a thread's sim, then added to the statistics by the
 * same thread while its series are still in that core's cache. */
typedef struct mc_round {
  tr_mc *mc;
  const tr_sampler *smp;
  tr_sim_opts sim_opts; /* lanes = batch */
  tr_sim **sims;        /* one per thread */
  double **own;         /* per thread: own_rows runs of series, in its cache (exact mode) */
  size_t own_rows;
  size_t first, nr, batch, group, ntasks;
  double *inputs;   /* nr × k */
  double *ord;      /* nr × ord_per: what the ordered work reads of each run */
  size_t ord_per;   /* n_ev series of n_times values, then n_fin final values */
  size_t n_fin;     /* n_watch while the sensitivity sample takes runs, else 0 */
  char *hazard;     /* per task: its first numeric hazard, "" if none (HAZARD_MAX each) */
  size_t *hz_first; /* per task: the first run of the pass that raised it */
  int *rc;          /* per task */
  tr_error *err;    /* per task: why it failed */
} mc_round;

/* Runs [off, off + n) of the round in task t (its chunks). */
static void task_runs(const mc_round *r, size_t t, size_t *off, size_t *n) {
  const tr_stats *st = r->mc->stats;
  size_t j0 = t * r->group, j1 = j0 + r->group, nch = tr_stats_round_chunks(st), o, k;
  if (j1 > nch) j1 = nch;
  tr_stats_round_chunk_runs(st, j0, off, &k);
  tr_stats_round_chunk_runs(st, j1 - 1, &o, &k);
  *n = o + k - *off;
}

/* One pass of the sim of thread tid: runs off .. off + nl - 1 of the round (nl <= batch), the
 * series written at out (per doubles per run; all `batch` lanes are written). */
static int run_pass(mc_round *r, size_t tid, size_t off, size_t nl, double *out) {
  tr_mc *mc = r->mc;
  tr_sim *sim = r->sims[tid];
  tr_sim_opts o = r->sim_opts;
  o.first_run = r->first + off;
  int rc = tr_sim_set_opts(sim, &o);
  size_t nt = mc->n_times, per = mc->n_track * nt;
  tr_sim_set_output(sim, out, per, nt);
  for (size_t l = 0; rc == TR_OK && l < nl; l++) {
    double *x = &r->inputs[(off + l) * mc->k];
    tr_sampler_run_row(r->smp, r->first + off + l, x);
    for (size_t j = 0; rc == TR_OK && j < mc->k; j++)
      rc = tr_sim_set_const_index(sim, mc->in[j].var, (long)l, x[j]);
  }
  if (rc == TR_OK) rc = tr_sim_run(sim);
  return rc;
}

/* Task t: its runs, pass by pass, into rows in the thread's cache (its own rows in exact
 * mode, copied out to the kept values as the chunks are added; in streaming mode the rows its
 * histograms wait for), then what the ordered work needs, then its chunks into the statistics
 * with the thread's histograms. */
static void run_task(void *ctx, size_t t, size_t tid) {
  mc_round *r = ctx;
  tr_mc *mc = r->mc;
  tr_stats *st = mc->stats;
  size_t nt = mc->n_times, per = mc->n_track * nt, off, n, j0 = t * r->group;
  task_runs(r, t, &off, &n);
  /* Every pass writes all its lanes: room for n runs rounded up to whole passes. */
  double *rows = tr_stats_is_exact(st)
                     ? r->own[tid]
                     : tr_stats_rows_dest(st, j0, (n + r->batch - 1) / r->batch * r->batch, tid);
  int rc = rows ? TR_OK : tr_error_set(&r->err[t], TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  r->hazard[t * HAZARD_MAX] = '\0';
  for (size_t p = 0; rc == TR_OK && p < n; p += r->batch) {
    size_t nl = n - p < r->batch ? n - p : r->batch;
    rc = run_pass(r, tid, off + p, nl, &rows[p * per]);
    if (rc != TR_OK) {
      tr_error_copy(&r->err[t], tr_sim_error(r->sims[tid]));
      break;
    }
    const char *w = tr_sim_warning(r->sims[tid]);
    if (w && !r->hazard[t * HAZARD_MAX]) {
      snprintf(&r->hazard[t * HAZARD_MAX], HAZARD_MAX, "%s", w);
      r->hz_first[t] = r->first + off + p;
    }
  }
  /* What the ordered work reads, before the statistics may move the rows. */
  for (size_t i = 0; rc == TR_OK && r->ord_per && i < n; i++) {
    const double *run = &rows[i * per];
    double *o = &r->ord[(off + i) * r->ord_per];
    for (size_t e = 0; e < mc->n_ev; e++, o += nt)
      memcpy(o, &run[mc->ev[e].slot * nt], nt * sizeof *o);
    for (size_t w = 0; w < r->n_fin; w++)
      o[w] = run[w * nt + nt - 1];
  }
  size_t nch = tr_stats_round_chunks(st);
  for (size_t j = j0; rc == TR_OK && j < j0 + r->group && j < nch; j++) {
    size_t co, cn;
    tr_stats_round_chunk_runs(st, j, &co, &cn);
    if (tr_stats_round_chunk(st, j, &rows[(co - off) * per], tid) != TR_OK)
      rc = tr_error_set(&r->err[t], TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  r->rc[t] = rc;
}

/* Each thread adds the rows its histograms still wait for (a failure is found again, and
 * reported, by tr_stats_round_end or the report's tr_stats_settle). */
static void flush_own(void *ctx, size_t tid) {
  (void)tr_stats_flush_set(ctx, tid);
}

/* Announce a numeric hazard in the study's warnings, so that it never reaches a report
 * unannounced: "'x' became NaN at time 3 (lane 2)" of the pass starting at run `first`
 * becomes "numeric hazard in run first+2: 'x' became NaN at time 3 (...)". */
static void report_hazard(tr_mc *mc, const char *w, size_t first) {
  const char *lane = strstr(w, " (lane ");
  size_t len = lane ? (size_t)(lane - w) : strlen(w);
  if (mc->warn.len) tr_sb_putc(&mc->warn, '\n');
  if (lane)
    tr_sb_printf(&mc->warn, "numeric hazard in run %zu: ", first + strtoul(lane + 7, NULL, 10));
  else
    tr_sb_append(&mc->warn, "numeric hazard: ");
  tr_sb_appendn(&mc->warn, w, len);
  tr_sb_append(&mc->warn, " (non-finite values are left out of the statistics; the first of "
                          "the study is shown)");
}

/* The per-run work that must follow run order, on the round's runs: events and the
 * sensitivity sample. */
static void ordered_work(tr_mc *mc, const mc_round *r) {
  size_t nt = mc->n_times;
  for (size_t i = 0; r->ord_per && i < r->nr; i++) {
    const double *o = &r->ord[i * r->ord_per];
    for (size_t e = 0; e < mc->n_ev; e++)
      tr_event_acc_add(&mc->ev[e].acc, &mc->ev[e].ev, &o[e * nt]);
    if (r->n_fin && mc->sens_n < mc->sens_cap) {
      memcpy(&mc->sens_in[mc->sens_n * mc->k], &r->inputs[i * mc->k], mc->k * sizeof(double));
      memcpy(&mc->sens_out[mc->sens_n * mc->n_watch], &o[mc->n_ev * nt],
             mc->n_watch * sizeof(double));
      mc->sens_n++;
    }
  }
}

/* Tornado metric: final values of every watched variable for one input vector (one lane,
 * run index 0, so every evaluation sees the same random numbers). */
typedef struct torn_ctx {
  tr_mc *mc;
  tr_sim *sim;
  size_t watch; /* which watched variable is the metric */
} torn_ctx;

static int torn_metric(void *ctx, const double *x, double *metric) {
  torn_ctx *c = ctx;
  int rc = TR_OK;
  for (size_t j = 0; rc == TR_OK && j < c->mc->k; j++)
    rc = tr_sim_set_const_index(c->sim, c->mc->in[j].var, 0, x[j]);
  if (rc == TR_OK) rc = tr_sim_run(c->sim);
  if (rc != TR_OK) {
    tr_error_copy(&c->mc->err, tr_sim_error(c->sim));
    return rc;
  }
  const double *s = tr_sim_series(c->sim, c->mc->track[c->watch], 0);
  *metric = s ? s[c->mc->n_times - 1] : NAN;
  return TR_OK;
}

/* Default outputs: every visible variable with a value that is not a plain constant. */
static int default_watch(tr_mc *mc) {
  size_t n = tr_model_var_count(mc->m);
  for (size_t i = 0; i < n; i++) {
    tr_var_info vi;
    tr_model_var(mc->m, i, &vi);
    if (vi.hidden || vi.is_constant || vi.type == TR_VAR_GF) continue;
    size_t nl = strlen(vi.ident);
    if (nl > 9 && strcmp(vi.ident + nl - 9, "__tr_base") == 0) continue; /* shock.c */
    size_t slot;
    int rc = track(mc, i, 1, &slot);
    if (rc != TR_OK) return rc;
  }
  if (mc->n_watch == 0)
    return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0,
                        "the model has no variable to summarise");
  return TR_OK;
}

static int check_opts(tr_mc *mc, const tr_mc_opts *o) {
  if (o->runs == 0)
    return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0, "--runs must be at least 1");
  if (o->runs > TR_SAMPLE_MAX_RUNS)
    return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0, "--runs must be at most %lu",
                        (unsigned long)TR_SAMPLE_MAX_RUNS);
  if (o->threads < 1 || o->threads > 1024)
    return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0,
                        "--threads must be between 1 and 1024 (got %d)", o->threads);
  if (o->batch < 1 || o->batch > 65536)
    return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0,
                        "--batch must be between 1 and 65536 (got %zu)", o->batch);
  if (!(o->tail_alpha > 0 && o->tail_alpha < 1))
    return tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0,
                        "the tail level must be between 0 and 1 (got %g)", o->tail_alpha);
  if (mc->corr && mc->corr_k != mc->k)
    return tr_error_set(&mc->err, TR_ERR_DIMENSION, NULL, 0, 0,
                        "the correlation matrix is %zu × %zu but there are %zu uncertain inputs",
                        mc->corr_k, mc->corr_k, mc->k);
  return TR_OK;
}

/* Probe run: one lane, to learn the saved times (and fail early on a broken model). */
static int probe(tr_mc *mc, const tr_sim_opts *base) {
  tr_sim_opts o = *base;
  o.lanes = 1;
  o.first_run = 0;
  tr_sim *sim;
  int rc = make_sim(mc, &o, &sim, &mc->err);
  if (rc != TR_OK) return rc;
  if ((rc = tr_sim_run(sim)) != TR_OK) {
    tr_error_copy(&mc->err, tr_sim_error(sim));
    tr_sim_free(sim);
    return rc;
  }
  mc->n_times = tr_sim_saved_count(sim);
  mc->times = tr_malloc((mc->n_times ? mc->n_times : 1) * sizeof *mc->times);
  if (!mc->times)
    rc = tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  else
    memcpy(mc->times, tr_sim_times(sim), mc->n_times * sizeof *mc->times);
  if (rc == TR_OK && mc->n_times == 0)
    rc = tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0, "the model saves no time points");
  tr_sim_free(sim);
  return rc;
}

static int run_tornado(tr_mc *mc, const tr_sim_opts *base) {
  if (!mc->tornado || mc->k == 0) return TR_OK;
  tr_sim_opts o = *base;
  o.lanes = 1;
  o.first_run = 0;
  tr_sim *sim;
  int rc = make_sim(mc, &o, &sim, &mc->err);
  if (rc != TR_OK) return rc;
  mc->torn = tr_malloc(mc->n_watch * mc->k * sizeof *mc->torn);
  mc->torn_base = tr_malloc(mc->n_watch * sizeof *mc->torn_base);
  tr_dist *d = tr_malloc(mc->k * sizeof *d);
  if (!mc->torn || !mc->torn_base || !d) {
    rc = tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  } else {
    for (size_t j = 0; j < mc->k; j++)
      d[j] = mc->in[j].dist; /* shallow: read-only use */
    for (size_t w = 0; rc == TR_OK && w < mc->n_watch; w++) {
      torn_ctx c = {mc, sim, w};
      rc = tr_sens_tornado(d, mc->k, 0.1, 0.9, torn_metric, &c, &mc->torn_base[w],
                           &mc->torn[w * mc->k], &mc->err);
    }
  }
  tr_free(d);
  tr_sim_free(sim);
  if (rc != TR_OK) {
    tr_free(mc->torn);
    tr_free(mc->torn_base);
    mc->torn = NULL;
    mc->torn_base = NULL;
  }
  return rc;
}

static int prepare(tr_mc *mc, const tr_mc_opts *opts, tr_sim_opts *so) {
  int rc;
  if (mc->n_watch == 0 && (rc = default_watch(mc)) != TR_OK) return rc;
  *so = tr_model_default_opts(mc->m);
  so->seed = opts->seed;
  if (opts->save_step > 0) {
    so->save_step = opts->save_step;
  } else {
    /* Summarise at most about TR_MC_MAX_POINTS times: every k-th step with k dividing the
     * number of steps, so the stop time is always one of them. */
    long steps = (long)llround((so->stop - so->start) / so->dt);
    long k = (steps + TR_MC_MAX_POINTS - 1) / TR_MC_MAX_POINTS;
    while (k > 1 && k < steps && steps % k != 0)
      k++;
    if (k > 1 && k < steps) so->save_step = (double)k * so->dt;
  }
  if ((rc = probe(mc, so)) != TR_OK) return rc;
  size_t cells = mc->n_track * mc->n_times;
  size_t cap = tr_stats_cap_for_memory(opts->exact_bytes, cells);
  size_t bins = tr_stats_bins_for_memory(opts->exact_bytes, cells);
  /* A study that is known to outgrow the exact storage ends with streamed percentiles
   * anyway: it streams after a pilot of PILOT_RUNS runs (whose range starts the histograms)
   * instead of first filling the whole budget and then histogramming all of it. */
  size_t scap = !mc->has_until && opts->runs > cap && cap > PILOT_RUNS ? PILOT_RUNS : cap;
  if ((rc = tr_stats_new(&mc->stats, cells, scap, bins, &mc->err)) != TR_OK) return rc;
  if (tr_stats_reserve(mc->stats, opts->runs) != TR_OK)
    return tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  for (size_t e = 0; e < mc->n_ev; e++)
    if (tr_event_acc_init(&mc->ev[e].acc, mc->n_times) != TR_OK)
      return tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  /* The sensitivity sample is bounded like the exact statistics. */
  mc->sens_cap = opts->runs < cap ? opts->runs : cap;
  if (mc->k > 0 && mc->sens_cap >= 3) {
    mc->sens_in = tr_malloc(mc->sens_cap * mc->k * sizeof *mc->sens_in);
    mc->sens_out = tr_malloc(mc->sens_cap * mc->n_watch * sizeof *mc->sens_out);
    if (!mc->sens_in || !mc->sens_out)
      return tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  } else {
    mc->sens_cap = 0;
  }
  return run_tornado(mc, so);
}

/* Tasks per thread in a round, at most. The threads meet at the end of every round: the last
 * task leaves the others waiting (half a task on average), then the calling thread combines
 * the round alone, so the fewer rounds the better (with 2 threads, 16 tasks each made a
 * 10,000-run SIR study 5 rounds and lost about 5% of its time there). A round is cut shorter
 * when it would keep more than ROUND_ORD_BYTES of what the ordered work reads, and halved
 * when one takes longer than ROUND_SECONDS, so that progress and Ctrl-C stay prompt on slow
 * models. A round is also cut so that its chunks' partial moments (36 bytes per cell and
 * chunk) stay under ROUND_PART_BYTES. How runs are grouped into rounds does not change the
 * results. */
#define ROUND_TASKS 64
#define ROUND_ORD_BYTES ((size_t)16 << 20)
#define ROUND_PART_BYTES ((size_t)8 << 20)
#define ROUND_SECONDS 0.25

/* rr runs, or fewer so that `unit` bytes per `unit_runs` runs fit in `budget`: whole tasks of
 * task_runs runs. */
static size_t runs_within(size_t rr, size_t budget, size_t unit, size_t unit_runs,
                          size_t task_runs) {
  size_t fit = unit ? budget / unit * unit_runs : rr;
  return rr > fit ? fit / task_runs * task_runs : rr;
}

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The switch of the statistics to streaming, its binning split over the team by cells. */
typedef struct stream_job {
  tr_stats *st;
  size_t cells, per_task;
} stream_job;

static void stream_task(void *ctx, size_t t, size_t tid) {
  (void)tid;
  stream_job *j = ctx;
  size_t c0 = t * j->per_task, c1 = c0 + j->per_task < j->cells ? c0 + j->per_task : j->cells;
  tr_stats_stream_cells(j->st, c0, c1);
}

static int go_streaming(tr_mc *mc, tr_team *tm, size_t T) {
  if (tr_stats_stream_begin(mc->stats) != TR_OK)
    return tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  size_t cells = mc->n_track * mc->n_times, tasks = 4 * T;
  stream_job j = {mc->stats, cells, ((cells + tasks - 1) / tasks + 7) / 8 * 8};
  tr_team_run(tm, stream_task, &j, (cells + j.per_task - 1) / j.per_task);
  tr_stats_stream_end(mc->stats);
  return TR_OK;
}

/* The run's per-thread and per-round memory. */
static int round_alloc(mc_round *r, size_t T, size_t rr, size_t per, size_t k, size_t ord_per) {
  size_t tasks = rr / TR_STATS_CHUNK + 2;
  r->sims = tr_calloc(T, sizeof *r->sims);
  r->own = tr_calloc(T, sizeof *r->own);
  r->inputs = tr_malloc((rr * k + 1) * sizeof *r->inputs);
  r->ord = tr_malloc((rr * ord_per + 1) * sizeof *r->ord);
  r->hazard = tr_malloc(tasks * HAZARD_MAX);
  r->hz_first = tr_malloc(tasks * sizeof *r->hz_first);
  r->rc = tr_malloc(tasks * sizeof *r->rc);
  r->err = tr_malloc(tasks * sizeof *r->err);
  int ok = r->sims && r->own && r->inputs && r->ord && r->hazard && r->hz_first && r->rc && r->err;
  for (size_t t = 0; ok && t < T; t++)
    ok = (r->own[t] = tr_malloc(r->own_rows * per * sizeof(double))) != NULL;
  return ok ? TR_OK : TR_ERR_NOMEM;
}

static void round_free(mc_round *r, size_t T) {
  for (size_t t = 0; r->sims && t < T; t++)
    tr_sim_free(r->sims[t]);
  for (size_t t = 0; r->own && t < T; t++)
    tr_free(r->own[t]);
  tr_free(r->sims);
  tr_free(r->own);
  tr_free(r->inputs);
  tr_free(r->ord);
  tr_free(r->hazard);
  tr_free(r->hz_first);
  tr_free(r->rc);
  tr_free(r->err);
}

/*
 * The run, in rounds of runs. A round is one job of the team: its tasks (a chunk of runs
 * each) are claimed by any thread, which runs the chunk's runs in passes of `batch` lanes and
 * adds them to the statistics at once, while they are in its cache: moments of the chunk,
 * and its histograms (each thread has its own) or the kept values. Nothing a thread writes is
 * read by another thread in the same round except a few values per run for the ordered work,
 * so the threads do not wait on each other's caches. Between two rounds the calling thread
 * combines the chunks' moments in run order, then does what must follow run order (hazard
 * report, events, sensitivity sample, the convergence rule). The chunks and the histograms
 * depend only on the runs (stats.h), so the results do not depend on the number of threads or
 * on how runs were grouped into lanes.
 */
int tr_mc_run(tr_mc *mc, const tr_mc_opts *opts, volatile sig_atomic_t *stop,
              struct tr_progress *progress) {
  tr_error_clear(&mc->err);
  free_results(mc);
  int rc = check_opts(mc, opts);
  if (rc != TR_OK) return rc;
  mc->opts = *opts;
  tr_sim_opts so;
  if ((rc = prepare(mc, opts, &so)) != TR_OK) return rc;

  const double *corr = mc->k > 1 ? mc->corr : NULL;
  tr_sampler *smp = NULL;
  size_t T = (size_t)opts->threads, batch = opts->batch < opts->runs ? opts->batch : opts->runs;
  size_t nt = mc->n_times, per = mc->n_track * nt;
  mc_round r;
  memset(&r, 0, sizeof r);
  r.group = (batch + TR_STATS_CHUNK - 1) / TR_STATS_CHUNK;
  size_t task_runs_max = r.group * TR_STATS_CHUNK;
  r.own_rows = (task_runs_max + batch - 1) / batch * batch;
  size_t rr = task_runs_max * T * ROUND_TASKS, rr_min = task_runs_max * T;
  size_t ord_max = mc->n_ev * nt + (mc->sens_cap ? mc->n_watch : 0);
  rr = runs_within(rr, ROUND_ORD_BYTES, ord_max * sizeof(double), 1, task_runs_max);
  rr = runs_within(rr, ROUND_PART_BYTES, tr_stats_chunk_bytes(mc->stats), TR_STATS_CHUNK,
                   task_runs_max);
  if (rr < rr_min) rr = rr_min;
  if (mc->has_until && rr > UNTIL_EVERY) rr = UNTIL_EVERY;
  char **nm = tr_malloc((mc->k ? mc->k : 1) * sizeof *nm);
  tr_dist *d = tr_malloc((mc->k ? mc->k : 1) * sizeof *d);
  if (!nm || !d || round_alloc(&r, T, rr, per, mc->k, ord_max) != TR_OK)
    rc = tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  for (size_t j = 0; rc == TR_OK && j < mc->k; j++) {
    nm[j] = mc->in[j].name;
    d[j] = mc->in[j].dist;
  }
  if (rc == TR_OK)
    rc = tr_sampler_new(&smp, d, mc->k, opts->runs, opts->lhs ? TR_SAMPLING_LHS : TR_SAMPLING_MC,
                        opts->seed, corr, (const char *const *)nm, &mc->err);
  if (rc == TR_OK && tr_sampler_warning(smp)[0]) {
    if (mc->warn.len) tr_sb_putc(&mc->warn, '\n');
    tr_sb_append(&mc->warn, tr_sampler_warning(smp));
  }
  r.mc = mc;
  r.smp = smp;
  r.sim_opts = so;
  r.sim_opts.lanes = batch;
  r.batch = batch;
  for (size_t t = 0; rc == TR_OK && t < T; t++)
    rc = make_sim(mc, &r.sim_opts, &r.sims[t], &mc->err);
  if (rc == TR_OK && tr_stats_set_threads(mc->stats, T) != TR_OK)
    rc = tr_error_set(&mc->err, TR_ERR_INVALID, NULL, 0, 0, "statistics already fed");
  tr_team *tm = NULL;
  if (rc == TR_OK && tr_team_new(&tm, opts->threads) != TR_OK)
    rc = tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "cannot start %d threads", opts->threads);

  int hazard_told = 0;
  size_t round_limit = rr;
  while (rc == TR_OK && mc->done < opts->runs && !mc->converged) {
    if (tr_stats_stream_due(mc->stats) && (rc = go_streaming(mc, tm, T)) != TR_OK) break;
    /* The next round: at most round_limit runs, ending at a chunk boundary (stats.h), and with
     * a convergence rule at the next multiple of UNTIL_EVERY runs, where it is checked. */
    size_t limit = mc->has_until ? UNTIL_EVERY - mc->done % UNTIL_EVERY : round_limit;
    size_t nr = tr_stats_round_size(mc->stats, opts->runs - mc->done, limit);
    if (tr_stats_round_begin(mc->stats, nr) != TR_OK) {
      rc = tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
      break;
    }
    r.first = mc->done;
    r.nr = nr;
    r.n_fin = mc->sens_n < mc->sens_cap ? mc->n_watch : 0;
    r.ord_per = mc->n_ev * nt + r.n_fin;
    r.ntasks = (tr_stats_round_chunks(mc->stats) + r.group - 1) / r.group;
    double t0 = now_seconds();
    tr_team_run(tm, run_task, &r, r.ntasks);
    if (now_seconds() - t0 > ROUND_SECONDS && round_limit > rr_min) /* a slow model */
      round_limit = round_limit / 2 > rr_min ? round_limit / 2 : rr_min;
    for (size_t t = 0; t < r.ntasks; t++) /* in run order: any thread count reports the same */
      if (r.rc[t] != TR_OK) {
        rc = r.rc[t];
        tr_error_copy(&mc->err, &r.err[t]);
        break;
      } else if (!hazard_told && r.hazard[t * HAZARD_MAX]) {
        hazard_told = 1;
        report_hazard(mc, &r.hazard[t * HAZARD_MAX], r.hz_first[t]);
      }
    if (rc != TR_OK) break; /* the study failed: its statistics are not reported */
    if (!tr_stats_is_exact(mc->stats) && (mc->done + nr) % TR_STATS_EPOCH == 0)
      tr_team_run_own(tm, NULL, mc->stats, 0, flush_own); /* the epoch ends: in parallel */
    if (tr_stats_round_end(mc->stats) != TR_OK) {
      rc = tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
      break;
    }
    mc->done += nr;
    tr_progress_add(progress, nr);
    ordered_work(mc, &r);
    if (mc->has_until && mc->done % UNTIL_EVERY == 0) {
      uint64_t cnt;
      double mean, sd;
      tr_stats_moments(mc->stats, mc->until_slot * nt + nt - 1, &cnt, &mean, &sd);
      mc->converged = tr_until_met(&mc->until, cnt, mean, sd);
    }
    if (stop && *stop) break; /* the rounds run so far are kept */
  }
  if (rc == TR_OK) tr_team_run_own(tm, NULL, mc->stats, 0, flush_own);
  tr_team_free(tm);
  if (rc == TR_OK && mc->done < opts->runs && !mc->converged) {
    mc->partial = 1;
    rc = tr_error_set(&mc->err, TR_ERR_CANCELLED, NULL, 0, 0, "stopped after %zu of %zu runs",
                      mc->done, opts->runs);
  }
  round_free(&r, T);
  tr_sampler_free(smp);
  tr_free(nm);
  tr_free(d);
  return rc;
}
