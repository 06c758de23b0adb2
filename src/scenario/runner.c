/*
 * The Monte Carlo runner: set-up of a study (inputs, overrides, outputs, events, rule) and the
 * threaded, batched run (tr_mc_run: rounds of runs, each run in blocks of `batch` runs that are
 * the lanes of one tr_sim pass, by all threads, then added to the statistics by all threads,
 * one shard of cells each), so that the results do not depend on which thread ran which block
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

/* How often (in runs, counted in run order) the convergence rule is checked. */
#define UNTIL_EVERY 100
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

/* One round of the study: runs first .. first + nr - 1, in blocks of `batch` runs that are
 * the lanes of one pass of a thread's sim. */
typedef struct mc_round {
  tr_mc *mc;
  const tr_sampler *smp;
  tr_sim_opts sim_opts; /* lanes = batch */
  tr_sim **sims;        /* one per thread */
  size_t first, nr, batch;
  double *rows;   /* nr runs × (n_track × n_times): run, then slot, then time */
  double *inputs; /* nr × k */
  char *hazard;   /* per block: its first numeric hazard, "" if none (HAZARD_MAX each) */
  int *rc;        /* per block */
  tr_error *err;  /* per block: why it failed */
} mc_round;

/* Task: block b of the round. Lanes 0..nl-1 get the inputs of their runs, and the pass writes
 * the series straight into the round's rows. */
static void run_task(void *ctx, size_t b, size_t tid) {
  mc_round *r = ctx;
  tr_mc *mc = r->mc;
  tr_sim *sim = r->sims[tid];
  size_t off = b * r->batch, nl = r->nr - off < r->batch ? r->nr - off : r->batch;
  tr_sim_opts o = r->sim_opts;
  o.first_run = r->first + off;
  int rc = tr_sim_set_opts(sim, &o);
  size_t nt = mc->n_times, per = mc->n_track * nt;
  /* The series land in the round's rows (run, then slot, then time): lane l is run off + l.
   * The lanes of a last, partial block write rows of the buffer that no run uses. */
  tr_sim_set_output(sim, &r->rows[off * per], per, nt);
  for (size_t l = 0; rc == TR_OK && l < nl; l++) {
    double *x = &r->inputs[(off + l) * mc->k];
    tr_sampler_run_row(r->smp, r->first + off + l, x);
    for (size_t j = 0; rc == TR_OK && j < mc->k; j++)
      rc = tr_sim_set_const_index(sim, mc->in[j].var, (long)l, x[j]);
  }
  if (rc == TR_OK) rc = tr_sim_run(sim);
  r->rc[b] = rc;
  if (rc != TR_OK) {
    tr_error_copy(&r->err[b], tr_sim_error(sim));
    return;
  }
  const char *w = tr_sim_warning(sim);
  snprintf(&r->hazard[b * HAZARD_MAX], HAZARD_MAX, "%s", w ? w : "");
}

/* One job of the pipeline: the blocks of a round (tasks, claimed by any thread) and the
 * statistics of the round before, where thread `tid` adds shards tid, tid + T, ... of the
 * cells in every round, so that each shard's histograms, moments and kept values stay in the
 * caches of one core instead of moving between cores from round to round. */
typedef struct mc_job {
  mc_round *run;
  size_t nb, threads;
  const double *add_rows; /* the round before, in run order */
  size_t add_nr;
} mc_job;

static void job_task(void *ctx, size_t t, size_t tid) {
  mc_job *j = ctx;
  run_task(j->run, t, tid);
}

static void job_own(void *ctx, size_t tid) {
  mc_job *j = ctx;
  if (!j->add_nr) return;
  tr_stats *st = j->run->mc->stats;
  for (size_t k = tid; k < tr_stats_shards(st); k += j->threads)
    tr_stats_round_shard(st, j->add_rows, j->add_nr, k);
}

/* Announce a numeric hazard in the study's warnings, so that it never reaches a report
 * unannounced: "'x' became NaN at time 3 (lane 2)" of the block starting at run `first`
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

/* The per-run work that must follow run order, on the round's runs: events, the sensitivity
 * sample and the convergence rule (checked every UNTIL_EVERY runs of the study on `until`,
 * which sees the same values as the statistics' cell). Returns how many runs count: all of
 * them, or up to the run where the rule says stop (*met is then 1). */
static size_t ordered_work(tr_mc *mc, const mc_round *r, tr_welford *until, int *met) {
  size_t nt = mc->n_times, per = mc->n_track * nt;
  for (size_t i = 0; i < r->nr; i++) {
    const double *run = &r->rows[i * per];
    for (size_t e = 0; e < mc->n_ev; e++)
      tr_event_acc_add(&mc->ev[e].acc, &mc->ev[e].ev, &run[mc->ev[e].slot * nt]);
    if (mc->sens_n < mc->sens_cap) {
      memcpy(&mc->sens_in[mc->sens_n * mc->k], &r->inputs[i * mc->k], mc->k * sizeof(double));
      for (size_t w = 0; w < mc->n_watch; w++)
        mc->sens_out[mc->sens_n * mc->n_watch + w] = run[w * nt + nt - 1];
      mc->sens_n++;
    }
    if (mc->has_until) {
      tr_welford_add(until, run[mc->until_slot * nt + nt - 1]);
      if ((r->first + i + 1) % UNTIL_EVERY == 0) {
        uint64_t cnt;
        double mean, sd;
        tr_welford_get(until, &cnt, &mean, &sd);
        if (tr_until_met(&mc->until, cnt, mean, sd)) {
          *met = 1;
          return i + 1;
        }
      }
    }
  }
  return r->nr;
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

/* Runs per round: about ROUND_BYTES of series and inputs (the round's buffer stays in the
 * cache between the runs and the statistics), a whole number of blocks per thread (so that no
 * thread waits for the others at the end of a round), at most 64 of them. Runs with very many
 * saved values get one block per thread while that fits in ROUND_MAX_BYTES, else fewer
 * blocks, but always one: the round buffers (two) then weigh about what a sim's own output
 * for one block does. */
#define ROUND_BYTES ((size_t)4 << 20)
#define ROUND_MAX_BYTES ((size_t)64 << 20)

static size_t round_rows(size_t per, size_t k, size_t threads, size_t batch) {
  size_t unit = threads * batch, row = (per + k) * sizeof(double), rr = ROUND_BYTES / row;
  if (rr >= unit) return rr / unit * unit > 64 * unit ? 64 * unit : rr / unit * unit;
  rr = ROUND_MAX_BYTES / row < unit ? ROUND_MAX_BYTES / row : unit;
  return rr >= batch ? rr / batch * batch : batch;
}
/*
 * The run, in rounds of runs, pipelined: job k runs the blocks of round k on all threads (each
 * with its own sim, writing the series into round k's buffer) and, in the same job, adds round
 * k - 1 to the statistics, one shard of cells per task (each shard's kept values are its own
 * memory, written by one thread at a time). Between two jobs the calling thread does what
 * must follow run order for round k (hazard report, events, sensitivity sample, convergence
 * rule). Every cell receives its values in run order, so the results do not depend on the
 * number of threads or on how runs were grouped into lanes; and the threads meet once per
 * round. Two round buffers alternate.
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
  size_t per = mc->n_track * mc->n_times, rr = round_rows(per, mc->k, T, batch);
  size_t nbr = (rr + batch - 1) / batch; /* blocks per round, at most */
  char **nm = tr_malloc((mc->k ? mc->k : 1) * sizeof *nm);
  tr_dist *d = tr_malloc((mc->k ? mc->k : 1) * sizeof *d);
  mc_round r;
  memset(&r, 0, sizeof r);
  r.sims = tr_calloc(T, sizeof *r.sims);
  r.err = tr_malloc(nbr * sizeof *r.err);
  r.inputs = tr_malloc((rr * mc->k + 1) * sizeof *r.inputs);
  double *rowbuf[2] = {tr_malloc(rr * per * sizeof(double)), tr_malloc(rr * per * sizeof(double))};
  r.hazard = tr_malloc(nbr * HAZARD_MAX);
  r.rc = tr_malloc(nbr * sizeof *r.rc);
  if (!nm || !d || !r.sims || !r.err || !r.inputs || !rowbuf[0] || !rowbuf[1] || !r.hazard || !r.rc)
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
  if (rc == TR_OK && tr_stats_set_shards(mc->stats, T) != TR_OK)
    rc = tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  tr_team *tm = NULL;
  if (rc == TR_OK && tr_team_new(&tm, opts->threads) != TR_OK)
    rc = tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "cannot start %d threads", opts->threads);

  tr_welford until = {0, 0, 0};
  int stop_rule = 0, hazard_told = 0, halt = 0;
  mc_job job = {&r, 0, T, NULL, 0}; /* add_nr > 0: a round waits to be added */
  for (int buf = 0; rc == TR_OK; buf ^= 1) {
    /* The next round, unless the runs are done or something said stop. While the values are
     * kept, a round ends where the exact storage does (counting the round not added yet). */
    size_t first = mc->done + job.add_nr, max = tr_stats_round_max(mc->stats);
    r.first = first;
    r.nr = halt || stop_rule || first >= opts->runs ? 0 : opts->runs - first;
    if (r.nr > rr) r.nr = rr;
    if (max != SIZE_MAX && max > job.add_nr && r.nr > max - job.add_nr) r.nr = max - job.add_nr;
    r.rows = rowbuf[buf];
    job.nb = (r.nr + batch - 1) / batch;
    if (job.nb == 0 && job.add_nr == 0) break;
    tr_team_run_own(tm, job_task, &job, job.nb, job_own);
    if (job.add_nr) {
      tr_stats_round_end(mc->stats, job.add_nr);
      mc->done += job.add_nr;
      tr_progress_add(progress, job.add_nr);
      job.add_nr = 0;
    }
    for (size_t b = 0; b < job.nb; b++) /* in run order: any thread count reports the same */
      if (r.rc[b] != TR_OK) {
        rc = r.rc[b];
        tr_error_copy(&mc->err, &r.err[b]);
        break;
      } else if (!hazard_told && r.hazard[b * HAZARD_MAX]) {
        hazard_told = 1;
        report_hazard(mc, &r.hazard[b * HAZARD_MAX], r.first + b * batch);
      }
    if (rc != TR_OK || r.nr == 0) break;
    r.nr = ordered_work(mc, &r, &until, &stop_rule);
    if (tr_stats_round_begin(mc->stats, r.nr) != TR_OK) {
      rc = tr_error_set(&mc->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
      break;
    }
    job.add_rows = r.rows;
    job.add_nr = r.nr;
    if (stop && *stop) halt = 1; /* the rounds run so far are added and kept */
  }
  tr_team_free(tm);
  mc->converged = stop_rule;
  if (rc == TR_OK && mc->done < opts->runs && !stop_rule) {
    mc->partial = 1;
    rc = tr_error_set(&mc->err, TR_ERR_CANCELLED, NULL, 0, 0, "stopped after %zu of %zu runs",
                      mc->done, opts->runs);
  }
  for (size_t t = 0; r.sims && t < T; t++)
    tr_sim_free(r.sims[t]);
  tr_free(r.sims);
  tr_free(r.err);
  tr_free(r.inputs);
  tr_free(r.hazard);
  tr_free(r.rc);
  tr_free(rowbuf[0]);
  tr_free(rowbuf[1]);
  tr_sampler_free(smp);
  tr_free(nm);
  tr_free(d);
  return rc;
}
