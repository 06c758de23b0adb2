/*
 * Probability distributions of uncertain inputs. Every distribution is drawn by inversion:
 * a draw is quantile(u) with u uniform in (0, 1), so plain Monte Carlo, Latin hypercube
 * (stratified u) and Iman–Conover (re-ordering of draws) all work through one entry point,
 * tr_dist_quantile().
 *
 * Text syntax (tr_dist_parse; names are case-insensitive, arguments are numbers):
 *   uniform(min, max)                 min < max
 *   normal(mean, sd)                  sd >= 0
 *   normal(mean, sd, lo, hi)          truncated to [lo, hi]; sd > 0, lo < hi (±inf allowed)
 *   lognormal(mean, sd)               mean and sd OF THE VARIABLE (not of its logarithm):
 *                                     sigma² = ln(1 + sd²/mean²), mu = ln(mean) - sigma²/2;
 *                                     mean > 0, sd >= 0
 *   triangular(min, mode, max)        min <= mode <= max, min < max
 *   pert(min, mode, max)              beta-PERT, lambda = 4: alpha = 1 + 4(mode-min)/(max-min),
 *                                     beta = 1 + 4(max-mode)/(max-min); mean (min+4mode+max)/6
 *   beta(alpha, beta[, min, max])     alpha, beta > 0; scaled to [min, max] (default [0, 1])
 *   gamma(shape, scale)               shape, scale > 0; mean shape*scale
 *   discrete(v1:w1, v2:w2, ...)       values with non-negative weights (normalised)
 *   empirical(x1, x2, ...)            resampling: each observed value with probability 1/n
 *   percentiles(p10, p50, p90)        p10 < p50 < p90; fitted exactly by a three-parameter
 *                                     (shifted) lognormal X = c + exp(mu + sigma Z), mirrored
 *                                     (c - exp(...)) when skewed left, a normal when symmetric
 * Ownership: a tr_dist owns its value arrays (discrete, empirical); tr_dist_free() releases
 * them. A tr_dist is read-only after init, so threads may share one.
 */
#ifndef TR_SCENARIO_DIST_H
#define TR_SCENARIO_DIST_H

#include "base/rng.h"
#include "tightrope/base.h"

#include <stddef.h>

typedef enum {
  TR_DIST_UNIFORM,
  TR_DIST_NORMAL,
  TR_DIST_LOGNORMAL,
  TR_DIST_TRIANGULAR,
  TR_DIST_PERT,
  TR_DIST_BETA,
  TR_DIST_GAMMA,
  TR_DIST_DISCRETE,
  TR_DIST_EMPIRICAL,
  TR_DIST_PERCENTILES,
  TR_DIST_COUNT
} tr_dist_kind;

typedef struct tr_dist {
  tr_dist_kind kind;
  double prm[4];    /* the parameters as written (fixed-arity kinds), in syntax order */
  int nprm;         /* how many of prm were given */
  double lo, hi;    /* support (after truncation / scaling); ±inf when unbounded */
  double mu, sigma; /* normal: mean, sd; lognormal/percentiles: of the underlying normal */
  double a, b;      /* beta/PERT shapes; gamma shape (a) and scale (b) */
  double c;         /* triangular mode; percentiles shift */
  int sign;         /* percentiles: +1 right-skewed, -1 left-skewed, 0 symmetric (normal) */
  double plo, phi;  /* truncated normal: Φ((lo-mu)/sd), Φ((hi-mu)/sd) */
  double *x;        /* discrete/empirical: values sorted ascending (owned) */
  double *cum;      /* discrete: cumulative normalised weights, cum[n-1] = 1 (owned) */
  size_t n;         /* length of x (and cum) */
} tr_dist;

/* Build a distribution from numeric arguments (in the syntax order above; discrete takes
 * value, weight pairs interleaved). Validates every parameter: TR_ERR_INVALID with a message
 * naming the distribution and the parameter, e.g. "normal: 'sd' must be >= 0 (got -1)";
 * TR_ERR_ARITY for a wrong number of arguments; TR_ERR_NOMEM. On failure *d holds nothing to
 * free (tr_dist_free is still safe). */
int tr_dist_init(tr_dist *d, tr_dist_kind kind, const double *args, size_t nargs, tr_error *err);

/* Parse "name(args)" (see the syntax above) into *d. `file`, `line`, `col` locate the text in
 * the user's input (NULL/0 when it came from the command line); errors point at the argument
 * at fault: TR_ERR_PARSE (malformed), TR_ERR_UNKNOWN_NAME (with "did you mean"), TR_ERR_ARITY,
 * TR_ERR_INVALID, TR_ERR_NOMEM. */
int tr_dist_parse(tr_dist *d, const char *text, const char *file, int line, int col, tr_error *err);

/* Build from a distribution name and named parameters, as a plan writes them
 * (`dist: triangular, params: {min: 1, mode: 2, max: 4}`). Every parameter of the kind must
 * be given exactly once (normal's lo/hi and beta's min/max together or not at all); names
 * are case-insensitive. discrete and empirical have no named form (TR_ERR_UNSUPPORTED: use
 * the text form). Errors name the parameter and carry file:line:col. */
int tr_dist_init_named(tr_dist *d, const char *dist, const char *const *pnames,
                       const double *params, size_t n, const char *file, int line, int col,
                       tr_error *err);

/* Release the arrays of *d (not d itself). NULL and an already freed dist are no-ops. */
void tr_dist_free(tr_dist *d);

/* Deep copy (the arrays are duplicated). TR_OK or TR_ERR_NOMEM (then *dst is empty). */
int tr_dist_copy(tr_dist *dst, const tr_dist *src);

/* The u-quantile (inverse CDF) for u in (0, 1); u is clamped into [0, 1], and at 0 or 1 the
 * support bound is returned. Monotone non-decreasing in u. Thread-safe. */
double tr_dist_quantile(const tr_dist *d, double u);

/* One draw: the quantile of one tr_rng_uniform_pos() value (exactly one RNG call). */
double tr_dist_sample(const tr_dist *d, tr_rng *r);

/* Analytic mean and variance of the distribution (used by tests and by the docs). */
double tr_dist_mean(const tr_dist *d);
double tr_dist_var(const tr_dist *d);

/* The lower-case name of a kind ("normal"), or "?". */
const char *tr_dist_kind_name(tr_dist_kind kind);

/* A human-readable form such as "normal(100, 10)" into buf (truncated to n). */
void tr_dist_describe(const tr_dist *d, char *buf, size_t n);

#endif
