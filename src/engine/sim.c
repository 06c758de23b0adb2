/*
 * Runs: options, constant overrides, storage, and the integrators (Euler, RK2, RK4 as Stella
 * defines them) around the batched VM. Save points come from the integer step index,
 * t = start + n * dt, never from an accumulated t += dt, so a run from 1 with dt 0.1 saves
 * 1.0 exactly and long runs do not drift.
 *
 * One step of every method, from the values at step point n (slots already evaluated):
 *   Euler  y += dt * f(n)
 *   RK2    (Heun) k1 = f(y), k2 = f(y + dt k1); y += dt (k1 + k2) / 2
 *   RK4    the classical four stages at t, t + dt/2, t + dt/2, t + dt
 * then non-negative stocks are clamped at 0, TIME advances, PREVIOUS values are committed and
 * the step code runs at step point n + 1 (random draws and DELAY histories advance only at
 * step points; Runge-Kutta stages hold them).
 */
#include "engine/engine_impl.h"

#include "base/simd.h"
#include "base/text.h"

#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Lane loops (integration, saving, checks) must be vectorised: see vm.c. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif

#define MAX_STEPS 1000000000L
#define MAX_LANES (1u << 20)
/* Saved points are staged time-major and moved into the per-series output in blocks of
 * several cache lines per series, so that saving does not touch one page per series per
 * step. The stage holds about STAGE_BYTES, and between 16 and 512 points. */
#define STAGE_BYTES (256u * 1024u)
/* The most memory one run may hold for its results: saved series plus delay histories. A
 * run that would need more is refused (TR_ERR_LIMIT) before anything is allocated, rather
 * than left to exhaust the machine's memory: 1e9 steps of dt are allowed, but not all saved. */
#define MAX_RUN_BYTES ((size_t)2 << 30)
#define DIRECT_SERIES 32 /* up to this many series are written in place at every point */

struct tr_sim {
  const tr_model *m;
  const tr_program *p;
  tr_sim_opts o;
  long nsteps;     /* integration steps */
  long save_every; /* steps between saved points */
  size_t nsave;    /* saved points */
  tr_error err;
  char warning[600]; /* first numeric hazard of the last run, "" if none */
  double *base;      /* [n_fixed][lanes]: starting values of fixed slots (constants set) */
  size_t base_lanes;
  double *vals; /* [n_slots][lanes] */
  size_t vals_cap;
  double *scratch; /* [5][n_stocks][lanes]: y0, k1..k4 */
  size_t scratch_cap;
  double *hist; /* DELAY histories */
  size_t hist_cap;
  tr_rng *rng;    /* [lanes] */
  tr_rng *seeded; /* [n_seeded][lanes] */
  size_t rng_cap;
  size_t *watch; /* watched variables */
  size_t n_watch;
  long *watch_pos; /* [n_vars]: position in watch, or -1 */
  double *out;     /* [n_watch][lanes][nsave] */
  size_t out_cap;
  /* Where the results go: `out`, or the caller's buffer (tr_sim_set_output). Value t of lane
   * l of watched variable j is at res[j * res_sj + l * res_sl + t]. */
  double *res_ext;
  size_t res_sj, res_sl;
  double *times; /* [nsave] */
  size_t times_cap;
  int times_ok;  /* `times` holds the points of the current options */
  double *stage; /* [stage_max][n_watch][lanes]: saved points not yet in `out` */
  size_t stage_cap;
  size_t stage_n;     /* points staged */
  size_t stage_max;   /* points per block */
  size_t stage_k0;    /* index of the first staged point */
  struct series *dyn; /* [n_dyn]: the watched variables that change during a run; the */
  size_t n_dyn;       /* others (constants, static variables) are filled in at the end */
  size_t dyn_cap;
  int ran;              /* results are those of a completed run */
  int diag;             /* checking the floating-point flags at every step (see tr_sim_run) */
  struct shape *shapes; /* time shapes of constants, in the order set */
  size_t n_shapes;
};

/* A watched variable saved at every point: its first slot, and where its first lane's series
 * starts in `out`. */
struct series {
  size_t slot;
  size_t off;
};

/* A tr_sim_shape with its points owned by the sim. */
struct shape {
  size_t var;
  long lane; /* < 0: every lane */
  int additive;
  size_t n;
  double *tv; /* [2n]: times then values */
};

/* ---- the model's accessors (they need only the flat model and the program) ------------- */

const char *tr_model_file(const tr_model *m) {
  return m->flat.file;
}

const char *tr_model_name(const tr_model *m) {
  return m->x ? m->x->model_name : NULL;
}

tr_sim_opts tr_model_default_opts(const tr_model *m) {
  tr_sim_opts o;
  memset(&o, 0, sizeof o);
  o.start = m->flat.specs.start;
  o.stop = m->flat.specs.stop;
  o.dt = m->flat.specs.dt;
  o.method = m->flat.specs.method == TR_METHOD_RK4   ? TR_INTEG_RK4
             : m->flat.specs.method == TR_METHOD_RK2 ? TR_INTEG_RK2
                                                     : TR_INTEG_EULER;
  o.save_step = o.dt;
  o.lanes = 1;
  return o;
}

size_t tr_model_var_count(const tr_model *m) {
  return m->flat.n_vars;
}

void tr_model_var(const tr_model *m, size_t i, tr_var_info *out) {
  const tr_fvar *fv = &m->flat.vars[i];
  memset(out, 0, sizeof *out);
  out->name = fv->name;
  out->ident = fv->ident;
  out->type = fv->kind == TR_FV_STOCK  ? TR_VAR_STOCK
              : fv->kind == TR_FV_FLOW ? TR_VAR_FLOW
              : fv->kind == TR_FV_AUX  ? TR_VAR_AUX
                                       : TR_VAR_GF;
  out->units = fv->units;
  out->doc = fv->doc;
  out->eqn = fv->eqn_text;
  out->is_constant = m->prog.vclass[i] == TR_VC_CONST;
  out->hidden = fv->hidden;
  out->value = out->is_constant ? m->prog.slot_init[i] : NAN;
}

static int same_ci(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    int x = (unsigned char)*a, y = (unsigned char)*b;
    if (x >= 'A' && x <= 'Z') x += 32;
    if (y >= 'A' && y <= 'Z') y += 32;
    if (x != y) return 0;
  }
  return *a == *b;
}

long tr_model_find(const tr_model *m, const char *name) {
  char canon[512];
  size_t need = tr_canon_ident(name, strlen(name), canon, sizeof canon);
  for (size_t i = 0; i < m->flat.n_vars; i++) {
    const tr_fvar *fv = &m->flat.vars[i];
    if ((need < sizeof canon && fv->ident && strcmp(fv->ident, canon) == 0) ||
        (fv->name && same_ci(fv->name, name)))
      return (long)i;
  }
  return -1;
}

const char *tr_model_suggest(const tr_model *m, const char *name) {
  size_t n = m->flat.n_vars;
  const char **names = tr_malloc((n ? n : 1) * sizeof *names);
  if (!names) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!m->flat.vars[i].hidden && m->flat.vars[i].name) names[k++] = m->flat.vars[i].name;
  const char *best = tr_closest(name, names, k);
  tr_free(names);
  return best;
}

/* ---- options and storage ---------------------------------------------------------------- */

/* Check options and derive the step and save counts. */
static int check_opts(const tr_sim_opts *o, const char *file, long *nsteps, long *every,
                      tr_error *err) {
  if (!isfinite(o->start) || !isfinite(o->stop) || !isfinite(o->dt) || !(o->dt > 0))
    return tr_error_set(err, TR_ERR_INVALID, file, 0, 0,
                        "time step must be a positive number (dt = %g)", o->dt);
  if (o->stop < o->start)
    return tr_error_set(err, TR_ERR_INVALID, file, 0, 0, "stop time %g is before start time %g",
                        o->stop, o->start);
  double steps = (o->stop - o->start) / o->dt;
  if (!(steps <= (double)MAX_STEPS))
    return tr_error_set(err, TR_ERR_LIMIT, file, 0, 0,
                        "%.3g steps from %g to %g with dt %g: more than the limit of 1e9", steps,
                        o->start, o->stop, o->dt);
  *nsteps = (long)llround(steps);
  double ss = o->save_step > 0 ? o->save_step : o->dt;
  double k = ss / o->dt;
  if (!isfinite(k) || llround(k) < 1 || fabs(k - (double)llround(k)) > 1e-6 * k)
    return tr_error_set(err, TR_ERR_INVALID, file, 0, 0, "save step %g is not a multiple of dt %g",
                        ss, o->dt);
  *every = (long)llround(k);
  if (o->lanes < 1 || o->lanes > MAX_LANES)
    return tr_error_set(err, TR_ERR_INVALID, file, 0, 0, "lanes must be between 1 and %u",
                        MAX_LANES);
  if (o->method < TR_INTEG_EULER || o->method > TR_INTEG_RK4)
    return tr_error_set(err, TR_ERR_INVALID, file, 0, 0, "unknown integration method %d",
                        o->method);
  return TR_OK;
}

/* Grow *buf to hold n elements of `size` bytes (contents are not kept). */
static int reserve(void **buf, size_t *cap, size_t n, size_t size) {
  if (n <= *cap && *buf) return TR_OK;
  if (n > SIZE_MAX / size) return TR_ERR_NOMEM;
  void *p = tr_realloc(*buf, (n ? n : 1) * size);
  if (!p) return TR_ERR_NOMEM;
  *buf = p;
  *cap = n;
  return TR_OK;
}

/* Rebuild the constant table for `lanes` lanes, keeping the settings of existing lanes. */
static int resize_base(tr_sim *s, size_t lanes) {
  if (s->base && s->base_lanes == lanes) return TR_OK;
  const tr_program *p = s->p;
  size_t nf = p->n_fixed;
  if (lanes && nf > SIZE_MAX / sizeof(double) / lanes) return TR_ERR_NOMEM;
  size_t cells = nf * lanes;
  double *nb = tr_malloc((cells ? cells : 1) * sizeof *nb);
  if (!nb) return TR_ERR_NOMEM;
  for (size_t i = 0; i < nf; i++)
    for (size_t l = 0; l < lanes; l++)
      nb[i * lanes + l] =
          s->base && l < s->base_lanes ? s->base[i * s->base_lanes + l] : p->slot_init[i];
  tr_free(s->base);
  s->base = nb;
  s->base_lanes = lanes;
  return TR_OK;
}

static size_t mul_sat(size_t a, size_t b) {
  return b && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/* Storage for a run with the current options. */
static int ensure_storage(tr_sim *s) {
  const tr_program *p = s->p;
  size_t L = s->o.lanes;
  size_t nsave = s->nsave;
  int rc = TR_OK;
  size_t saved = mul_sat(mul_sat(s->n_watch, L), nsave);
  size_t hist = mul_sat(mul_sat(p->n_delays, (size_t)s->nsteps + 1), L);
  if (saved > MAX_RUN_BYTES / sizeof(double) || hist > MAX_RUN_BYTES / sizeof(double) ||
      saved + hist > MAX_RUN_BYTES / sizeof(double))
    return tr_error_set(&s->err, TR_ERR_LIMIT, s->m->flat.file, 0, 0,
                        "a run of %ld steps saving %zu points of %zu variables in %zu lanes needs "
                        "%.3g GiB, over the limit of %zu GiB: save fewer points (a longer save "
                        "step) or fewer variables",
                        s->nsteps, nsave, s->n_watch, L,
                        ((double)saved + (double)hist) * sizeof(double) / (1 << 30),
                        MAX_RUN_BYTES >> 30);
  size_t row = mul_sat(s->n_watch ? s->n_watch : 1, L) * sizeof(double);
  s->stage_max = STAGE_BYTES / row < 16 ? 16 : STAGE_BYTES / row > 512 ? 512 : STAGE_BYTES / row;
  if (reserve((void **)&s->vals, &s->vals_cap, mul_sat(p->n_slots, L), sizeof(double)) ||
      reserve((void **)&s->scratch, &s->scratch_cap, mul_sat(5 * p->n_stocks, L), sizeof(double)) ||
      reserve((void **)&s->hist, &s->hist_cap,
              mul_sat(mul_sat(p->n_delays, (size_t)s->nsteps + 1), L), sizeof(double)) ||
      reserve((void **)&s->rng, &s->rng_cap, mul_sat(p->n_seeded + 1, L), sizeof(tr_rng)) ||
      reserve((void **)&s->out, &s->out_cap, mul_sat(mul_sat(s->n_watch, L), nsave),
              sizeof(double)) ||
      reserve((void **)&s->times, &s->times_cap, nsave, sizeof(double)) ||
      reserve((void **)&s->stage, &s->stage_cap, mul_sat(mul_sat(s->n_watch, L), s->stage_max),
              sizeof(double)) ||
      reserve((void **)&s->dyn, &s->dyn_cap, s->n_watch, sizeof(struct series)))
    rc = tr_error_set(&s->err, TR_ERR_NOMEM, NULL, 0, 0,
                      "out of memory for a run of %zu lanes, %ld steps, %zu saved variables", L,
                      s->nsteps, s->n_watch);
  s->seeded = s->rng ? s->rng + L : NULL;
  return rc;
}

static int watch_all(tr_sim *s) {
  const tr_program *p = s->p;
  size_t n = 0;
  for (size_t v = 0; v < p->n_vars; v++)
    n += p->vclass[v] != TR_VC_GF;
  size_t *w = tr_malloc((n ? n : 1) * sizeof *w);
  if (!w) return tr_error_set(&s->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  n = 0;
  for (size_t v = 0; v < p->n_vars; v++) {
    s->watch_pos[v] = p->vclass[v] != TR_VC_GF ? (long)n : -1;
    if (p->vclass[v] != TR_VC_GF) w[n++] = v;
  }
  tr_free(s->watch);
  s->watch = w;
  s->n_watch = n;
  return TR_OK;
}

int tr_sim_set_opts(tr_sim *s, const tr_sim_opts *opts) {
  long nsteps = 0, every = 1;
  int rc = check_opts(opts, s->m->flat.file, &nsteps, &every, &s->err);
  if (rc) return rc;
  if ((rc = resize_base(s, opts->lanes)))
    return tr_error_set(&s->err, rc, NULL, 0, 0, "out of memory for %zu lanes", opts->lanes);
  s->o = *opts;
  s->nsteps = nsteps;
  s->save_every = every;
  s->nsave = (size_t)(nsteps / every) + 1;
  s->res_ext = NULL; /* the layout of a caller's buffer depends on the options */
  s->ran = 0;
  s->times_ok = 0;
  return TR_OK;
}

const tr_sim_opts *tr_sim_opts_get(const tr_sim *s) {
  return &s->o;
}

int tr_sim_new(const tr_model *m, const tr_sim_opts *opts, tr_sim **out, tr_error *err) {
  *out = NULL;
  tr_sim *s = tr_calloc(1, sizeof *s);
  if (!s) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  s->m = m;
  s->p = &m->prog;
  s->watch_pos = tr_malloc((m->prog.n_vars ? m->prog.n_vars : 1) * sizeof *s->watch_pos);
  int rc = s->watch_pos ? watch_all(s) : TR_ERR_NOMEM;
  tr_sim_opts def = tr_model_default_opts(m);
  if (rc == TR_OK) rc = tr_sim_set_opts(s, opts ? opts : &def);
  if (rc) {
    if (rc == TR_ERR_NOMEM && s->err.code != TR_ERR_NOMEM)
      tr_error_set(&s->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    tr_error_copy(err, &s->err);
    tr_sim_free(s);
    return rc;
  }
  *out = s;
  return TR_OK;
}

void tr_sim_free(tr_sim *s) {
  if (!s) return;
  tr_free(s->base);
  tr_free(s->vals);
  tr_free(s->scratch);
  tr_free(s->hist);
  tr_free(s->rng);
  tr_free(s->watch);
  tr_free(s->watch_pos);
  tr_free(s->out);
  tr_free(s->times);
  tr_free(s->stage);
  tr_free(s->dyn);
  tr_sim_clear_shapes(s);
  tr_free(s);
}

tr_error *tr_sim_error(tr_sim *s) {
  return &s->err;
}

const char *tr_sim_warning(const tr_sim *s) {
  return s->warning[0] ? s->warning : NULL;
}

int tr_sim_set_const_index(tr_sim *s, size_t var, long lane, double v) {
  const tr_program *p = s->p;
  if (var >= p->n_vars || p->vclass[var] != TR_VC_CONST)
    return tr_error_set(&s->err, TR_ERR_INVALID, s->m->flat.file, 0, 0,
                        "'%s' is not a constant: only variables whose equation is a number can "
                        "be set",
                        var < p->n_vars ? p->flat->vars[var].name : "?");
  size_t L = s->base_lanes;
  if (lane >= (long)L)
    return tr_error_set(&s->err, TR_ERR_INVALID, NULL, 0, 0, "lane %ld does not exist (%zu lanes)",
                        lane, L);
  if (lane >= 0) { /* one lane: no pass over the others (a batch sets every lane in turn) */
    s->base[var * L + (size_t)lane] = v;
    return TR_OK;
  }
  for (size_t l = 0; l < L; l++)
    s->base[var * L + l] = v;
  return TR_OK;
}

int tr_sim_set_const(tr_sim *s, const char *name, long lane, double v) {
  long i = tr_model_find(s->m, name);
  if (i < 0) {
    const char *best = tr_model_suggest(s->m, name);
    return tr_error_set(&s->err, TR_ERR_UNKNOWN_NAME, s->m->flat.file, 0, 0,
                        "unknown variable '%s'%s%s%s", name, best ? " (did you mean '" : "",
                        best ? best : "", best ? "'?)" : "");
  }
  return tr_sim_set_const_index(s, (size_t)i, lane, v);
}

void tr_sim_reset_consts(tr_sim *s) {
  size_t L = s->base_lanes;
  for (size_t i = 0; i < s->p->n_fixed; i++)
    for (size_t l = 0; l < L; l++)
      s->base[i * L + l] = s->p->slot_init[i];
}

int tr_sim_set_shape(tr_sim *s, size_t var, long lane, const tr_sim_shape *shape) {
  const tr_program *p = s->p;
  const char *file = s->m->flat.file;
  if (var >= p->n_vars || p->vclass[var] != TR_VC_CONST)
    return tr_error_set(&s->err, TR_ERR_INVALID, file, 0, 0,
                        "'%s' is not a constant: only variables whose equation is a number can "
                        "be shaped in time",
                        var < p->n_vars ? p->flat->vars[var].name : "?");
  if (lane >= (long)s->o.lanes)
    return tr_error_set(&s->err, TR_ERR_INVALID, NULL, 0, 0, "lane %ld does not exist", lane);
  if (!shape || shape->n < 1 || !shape->t || !shape->v)
    return tr_error_set(&s->err, TR_ERR_INVALID, NULL, 0, 0, "a time shape needs points");
  for (size_t i = 0; i < shape->n; i++)
    if (!isfinite(shape->t[i]) || !isfinite(shape->v[i]) ||
        (i > 0 && shape->t[i] < shape->t[i - 1]))
      return tr_error_set(&s->err, TR_ERR_INVALID, NULL, 0, 0,
                          "time shape of '%s': point %zu is not finite or out of order",
                          p->flat->vars[var].name, i + 1);
  struct shape *ns = tr_realloc(s->shapes, (s->n_shapes + 1) * sizeof *ns);
  if (!ns) return tr_error_set(&s->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  s->shapes = ns;
  double *tv = tr_malloc(2 * shape->n * sizeof *tv);
  if (!tv) return tr_error_set(&s->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  memcpy(tv, shape->t, shape->n * sizeof *tv);
  memcpy(tv + shape->n, shape->v, shape->n * sizeof *tv);
  struct shape sh = {var, lane < 0 ? -1 : lane, shape->additive != 0, shape->n, tv};
  s->shapes[s->n_shapes++] = sh;
  return TR_OK;
}

void tr_sim_clear_shapes(tr_sim *s) {
  for (size_t i = 0; i < s->n_shapes; i++)
    tr_free(s->shapes[i].tv);
  tr_free(s->shapes);
  s->shapes = NULL;
  s->n_shapes = 0;
}

/* path(t) of a shape: right-continuous piecewise-linear, constant outside its points. */
static double shape_at(const struct shape *sh, double t, double eps) {
  const double *T = sh->tv, *V = sh->tv + sh->n;
  size_t i = 0;
  if (t < T[0] - eps) return V[0];
  while (i + 1 < sh->n && T[i + 1] <= t + eps)
    i++;
  if (i + 1 == sh->n || T[i + 1] == T[i]) return V[i];
  double w = (t - T[i]) / (T[i + 1] - T[i]);
  return V[i] + (w < 0 ? 0 : w) * (V[i + 1] - V[i]);
}

/* Set every shaped constant to its value at the VM's time: the lane's setting, then each
 * shape in order. */
static void apply_shapes(tr_sim *s, const tr_vm *vm) {
  size_t L = vm->lanes;
  double eps = vm->dt * 1e-6;
  for (size_t i = 0; i < s->n_shapes; i++) {
    size_t var = s->shapes[i].var;
    memcpy(s->vals + var * L, s->base + var * L, L * sizeof(double));
  }
  for (size_t i = 0; i < s->n_shapes; i++) {
    const struct shape *sh = &s->shapes[i];
    double f = shape_at(sh, vm->time, eps);
    double *V = s->vals + sh->var * L;
    for (size_t l = 0; l < L; l++)
      if (sh->lane < 0 || (size_t)sh->lane == l) V[l] = sh->additive ? V[l] + f : V[l] * f;
  }
}

int tr_sim_watch(tr_sim *s, const size_t *vars, size_t n) {
  const tr_program *p = s->p;
  for (size_t i = 0; i < n; i++)
    if (vars[i] >= p->n_vars || p->vclass[vars[i]] == TR_VC_GF)
      return tr_error_set(&s->err, TR_ERR_INVALID, NULL, 0, 0, "variable %zu cannot be watched",
                          vars[i]);
  size_t *w = tr_malloc((n ? n : 1) * sizeof *w);
  if (!w) return tr_error_set(&s->err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  for (size_t v = 0; v < p->n_vars; v++)
    s->watch_pos[v] = -1;
  for (size_t i = 0; i < n; i++) {
    w[i] = vars[i];
    s->watch_pos[vars[i]] = (long)i;
  }
  tr_free(s->watch);
  s->watch = w;
  s->n_watch = n;
  s->ran = 0;
  return TR_OK;
}

size_t tr_sim_saved_count(const tr_sim *s) {
  return s->ran ? s->nsave : 0;
}

const double *tr_sim_times(const tr_sim *s) {
  return s->ran ? s->times : NULL;
}

/* The results' buffer and strides: the caller's (tr_sim_set_output) or `out`. */
static double *res(const tr_sim *s, size_t *sj, size_t *sl) {
  if (s->res_ext) {
    *sj = s->res_sj;
    *sl = s->res_sl;
    return s->res_ext;
  }
  *sj = s->o.lanes * s->nsave;
  *sl = s->nsave;
  return s->out;
}

const double *tr_sim_series(const tr_sim *s, size_t var, size_t lane) {
  if (!s->ran || var >= s->p->n_vars || lane >= s->o.lanes || s->watch_pos[var] < 0) return NULL;
  size_t sj, sl;
  const double *r = res(s, &sj, &sl);
  return r + (size_t)s->watch_pos[var] * sj + lane * sl;
}

void tr_sim_set_output(tr_sim *s, double *buf, size_t lane_stride, size_t series_stride) {
  s->res_ext = buf;
  s->res_sj = series_stride;
  s->res_sl = lane_stride;
  s->ran = 0;
}

/* ---- the run ---------------------------------------------------------------------------- */

/* Set TIME for the next evaluation (and the shaped constants with it). */
static void set_time(tr_sim *s, tr_vm *vm, double t) {
  size_t L = vm->lanes;
  double *T = s->vals + (s->p->n_vars + TR_SLOT_TIME) * L;
  vm->time = t;
  for (size_t l = 0; l < L; l++)
    T[l] = t;
  if (s->n_shapes) apply_shapes(s, vm);
}

/* k[stock][lane] = net flow of every stock: its first inflow (or 0), plus the other
 * inflows, minus the outflows — no multiplication by a sign on the critical path. The
 * single-lane Euler path below sums in the same order, so lanes match single runs exactly. */
static void net_flows(const tr_program *p, const double *v, size_t L, double *k) {
  for (size_t i = 0; i < p->n_stocks; i++) {
    double *K = k + i * L;
    int f = p->flow_off[i], fo = p->flow_out[i], f1 = p->flow_off[i + 1];
    if (f < fo) {
      memcpy(K, v + (size_t)p->flow_slot[f++] * L, L * sizeof *K);
    } else {
      for (size_t l = 0; l < L; l++)
        K[l] = 0;
    }
    for (; f < fo; f++) {
      const double *F = v + (size_t)p->flow_slot[f] * L;
      for (size_t l = 0; l < L; l++)
        K[l] += F[l];
    }
    for (; f < f1; f++) {
      const double *F = v + (size_t)p->flow_slot[f] * L;
      for (size_t l = 0; l < L; l++)
        K[l] -= F[l];
    }
  }
}

/* Stocks = y0 + h * k (stage values: no clamping). */
static void set_stocks(const tr_program *p, double *v, size_t L, const double *y0, const double *k,
                       double h) {
  for (size_t i = 0; i < p->n_stocks; i++) {
    double *S = v + (size_t)p->stocks[i] * L;
    for (size_t l = 0; l < L; l++)
      S[l] = y0[i * L + l] + h * k[i * L + l];
  }
}

static void clamp_stocks(const tr_program *p, double *v, size_t L) {
  for (size_t i = 0; i < p->n_stocks; i++) {
    if (!p->stock_nonneg[i]) continue;
    double *S = v + (size_t)p->stocks[i] * L;
    for (size_t l = 0; l < L; l++)
      if (S[l] < 0) S[l] = 0;
  }
}

/* 1 when a stock is NaN or infinite. */
static int stocks_bad(const tr_program *p, const double *v, size_t L) {
  int bad = 0;
  for (size_t i = 0; i < p->n_stocks; i++) {
    const double *S = v + (size_t)p->stocks[i] * L;
    for (size_t l = 0; l < L; l++)
      bad |= !(S[l] - S[l] == 0);
  }
  return bad;
}

/* Stock += dt * (in - out) over the lanes, in one pass: no net-flow buffer. `in` or `out`
 * may be NULL (no such flow). The arithmetic is net_flows' and euler's to the bit: the net is
 * `in`, `0.0 - out` or `in - out` (0.0 - x, not -x: they differ for x = +0), then the
 * update, then the clamp as a select. A stock is never one of its own flows (both are
 * variables of different kinds), so S does not alias `in` or `out`. */
static TR_ALWAYS_INLINE void euler_stock(double *restrict S, const double *restrict in,
                                         const double *restrict out, size_t L, double dt,
                                         int nonneg) {
  if (in && out) {
    for (size_t l = 0; l < L; l++)
      S[l] = S[l] + dt * (in[l] - out[l]);
  } else if (in) {
    for (size_t l = 0; l < L; l++)
      S[l] = S[l] + dt * in[l];
  } else if (out) {
    for (size_t l = 0; l < L; l++)
      S[l] = S[l] + dt * (0.0 - out[l]);
  } else {
    for (size_t l = 0; l < L; l++)
      S[l] = S[l] + dt * 0.0;
  }
  if (nonneg)
    for (size_t l = 0; l < L; l++)
      S[l] = S[l] < 0 ? 0 : S[l];
}

/* Euler over the lanes when every stock has at most one inflow and one outflow (most models):
 * each stock updated in one pass from its flows. Returns 0, changing nothing, otherwise.
 * Stocks are updated one after the other, as in euler(), and read only flows, which no
 * update writes, so the order does not matter. */
TR_VECTOR_CLONES static int euler_simple(const tr_program *p, double *v, size_t L, double dt) {
  for (size_t i = 0; i < p->n_stocks; i++)
    if (p->flow_out[i] - p->flow_off[i] > 1 || p->flow_off[i + 1] - p->flow_out[i] > 1) return 0;
  for (size_t i = 0; i < p->n_stocks; i++) {
    int f = p->flow_off[i], fo = p->flow_out[i], f1 = p->flow_off[i + 1];
    const double *in = f < fo ? v + (size_t)p->flow_slot[f] * L : NULL;
    const double *out = fo < f1 ? v + (size_t)p->flow_slot[fo] * L : NULL;
    euler_stock(v + (size_t)p->stocks[i] * L, in, out, L, dt, p->stock_nonneg[i]);
  }
  return 1;
}

/* Euler straight into the stocks: the common single-run path; with lanes, net flows are
 * gathered lane-contiguously in k first. */
TR_VECTOR_CLONES static int euler(const tr_program *p, double *v, size_t L, double dt, double *k) {
  if (L == 1) {
    const int *slot = p->flow_slot;
    int bad = 0;
    for (size_t i = 0; i < p->n_stocks; i++) {
      int f = p->flow_off[i], fo = p->flow_out[i], f1 = p->flow_off[i + 1];
      double net = f < fo ? v[slot[f++]] : 0.0;
      for (; f < fo; f++)
        net += v[slot[f]];
      for (; f < f1; f++)
        net -= v[slot[f]];
      double y = v[p->stocks[i]] + dt * net;
      bad |= !(y - y == 0);
      v[p->stocks[i]] = p->stock_nonneg[i] && y < 0 ? 0 : y;
    }
    return bad;
  }
  if (euler_simple(p, v, L, dt)) return 0;
  net_flows(p, v, L, k);
  for (size_t i = 0; i < p->n_stocks; i++) {
    double *restrict S = v + (size_t)p->stocks[i] * L;
    const double *restrict K = k + i * L; /* scratch, never a slot */
    if (p->stock_nonneg[i]) { /* the clamp as a select in the same pass: it vectorises */
      for (size_t l = 0; l < L; l++) {
        double y = S[l] + dt * K[l];
        S[l] = y < 0 ? 0 : y;
      }
    } else {
      for (size_t l = 0; l < L; l++)
        S[l] = S[l] + dt * K[l];
    }
  }
  return 0; /* stocks are checked at save points (after_point) */
}

/* The floating-point exceptions that mean a hazard: 0/0, x/0, LN(0), overflow. The flags are
 * sticky and per thread, so testing them once per step (one register read) tells whether any
 * value computed in the step — watched or not, saved or not — became NaN or infinite, and
 * hazard() then names the variable at the very step it first appears. */
#define FP_HAZARDS (FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW)

/* Record the first variable (in model order) that is NaN or infinite. Returns 1 when one
 * is. The scan is a branch-free OR (x - x is 0 for finite x, NaN otherwise). */
static int hazard(tr_sim *s, size_t L, double t) {
  const double *v = s->vals;
  size_t n = s->p->n_vars * L;
  int bad = 0;
  for (size_t i = 0; i < n; i++)
    bad |= !(v[i] - v[i] == 0);
  if (!bad) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i]) && s->p->vclass[i / L] != TR_VC_GF) {
      size_t var = i / L, lane = i % L;
      snprintf(s->warning, sizeof s->warning, "'%s' became %s at time %g (lane %zu)",
               s->p->flat->vars[var].name, isnan(v[i]) ? "NaN" : "infinite", t, lane);
      return 1;
    }
  feclearexcept(FP_HAZARDS); /* raised by a value no variable kept (e.g. MIN(x / 0, 1)) */
  return 0;
}

/* Move the staged points into the per-series output: a transpose of the stage
 * (points x series) done in 8 x 8 tiles, so that both sides touch whole cache lines and the
 * stage's power-of-two row stride does not thrash one cache set. */
TR_VECTOR_CLONES static void flush_stage(tr_sim *s, size_t L) {
  size_t ns = s->n_dyn * L, np = s->stage_n, k0 = s->stage_k0, sj, sl;
  double *out = res(s, &sj, &sl);
  const double *st = s->stage;
  for (size_t c0 = 0; c0 < ns; c0 += 8) {
    size_t c1 = c0 + 8 < ns ? c0 + 8 : ns;
    double *dst[8]; /* where columns c0..c1 go (column c is lane c % L of series c / L) */
    for (size_t c = c0, k = c0 / L, l = c0 % L; c < c1; c++) {
      dst[c - c0] = out + s->dyn[k].off + l * sl + k0;
      if (++l == L) l = 0, k++;
    }
    for (size_t q0 = 0; q0 < np; q0 += 8) {
      size_t q1 = q0 + 8 < np ? q0 + 8 : np, c = c0;
      /* 2 x 2 blocks: two adjacent values of a row become one vector load, two of a column
       * one vector store (gcc's SLP vectoriser); the columns are distinct outputs */
      for (; c + 1 < c1; c += 2) {
        double *restrict D0 = dst[c - c0], *restrict D1 = dst[c + 1 - c0];
        size_t q = q0;
        for (; q + 1 < q1; q += 2) {
          const double *r0 = st + q * ns + c, *r1 = r0 + ns;
          double a = r0[0], b = r0[1], e = r1[0], f = r1[1];
          D0[q] = a;
          D0[q + 1] = e;
          D1[q] = b;
          D1[q + 1] = f;
        }
        if (q < q1) D0[q] = st[q * ns + c], D1[q] = st[q * ns + c + 1];
      }
      if (c < c1)
        for (size_t q = q0; q < q1; q++)
          dst[c - c0][q] = st[q * ns + c];
    }
  }
  s->stage_k0 += np;
  s->stage_n = 0;
}

/* Decide which watched series change during the run (all of them when constants are shaped
 * in time); the others are filled in by fill_constant_series. */
static void plan_series(tr_sim *s) {
  const tr_program *p = s->p;
  size_t L = s->o.lanes, n = 0, sj, sl;
  (void)res(s, &sj, &sl);
  for (size_t j = 0; j < s->n_watch; j++) {
    int vc = p->vclass[s->watch[j]];
    if (s->n_shapes || (vc != TR_VC_CONST && vc != TR_VC_STATIC)) {
      s->dyn[n].slot = s->watch[j] * L;
      s->dyn[n++].off = j * sj;
    }
  }
  s->n_dyn = n;
}

/* The series of constants and static variables: their value never changes during a run
 * without time shapes, so it is written once per point at the end instead of every step. */
static void fill_constant_series(tr_sim *s) {
  size_t L = s->o.lanes, nsave = s->nsave, sj, sl;
  double *out = res(s, &sj, &sl);
  if (s->n_dyn == s->n_watch) return;
  for (size_t j = 0; j < s->n_watch; j++) {
    int vc = s->p->vclass[s->watch[j]];
    if (s->n_shapes || (vc != TR_VC_CONST && vc != TR_VC_STATIC)) continue;
    for (size_t l = 0; l < L; l++) {
      double x = s->vals[s->watch[j] * L + l], *o = out + j * sj + l * sl;
      for (size_t k = 0; k < nsave; k++)
        o[k] = x;
    }
  }
}

/* 1 when some x[i] is NaN or infinite: its exponent bits are all ones exactly when adding
 * one unit of exponent carries into the sign bit. Integer AND/ADD/OR only, so the loop
 * vectorises with plain SSE2 (a floating-point compare per value does not). */
static int nonfinite_any(const double *x, size_t n) {
  const uint64_t exp_mask = 0x7ff0000000000000u, one_exp = 0x0010000000000000u;
  uint64_t acc = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t u;
    memcpy(&u, &x[i], sizeof u);
    acc |= (u & exp_mask) + one_exp;
  }
  return (int)(acc >> 63);
}

/* Save the changing watched values of this point: in place when there are few series, else
 * into the stage. In diagnostic mode, returns 1 when one of them is NaN or infinite (x - x
 * is 0 exactly for finite x: a branch-free check fused with the copy). */
static int save(tr_sim *s, size_t L) {
  size_t nd = s->n_dyn;
  const struct series *d = s->dyn;
  const double *v = s->vals;
  int bad = 0;
  if (nd * L <= DIRECT_SERIES) { /* few series: write them in place, no staging */
    size_t sj, sl;
    double *o = res(s, &sj, &sl) + s->stage_k0++;
    for (size_t j = 0; j < nd; j++)
      for (size_t l = 0; l < L; l++) {
        double x = v[d[j].slot + l];
        o[d[j].off + l * sl] = x;
        bad |= !(x - x == 0);
      }
    return bad;
  }
  double *row = s->stage + s->stage_n * nd * L;
  if (L == 1) {
    for (size_t j = 0; j < nd; j++)
      row[j] = v[d[j].slot];
  } else {
    for (size_t j = 0; j < nd; j++)
      memcpy(row + j * L, v + d[j].slot, L * sizeof *row);
  }
  if (s->diag) bad = nonfinite_any(row, nd * L); /* the copy, scanned (vectorised) */
  if (++s->stage_n == s->stage_max) flush_stage(s, L);
  return bad;
}

static void commit_previous(const tr_program *p, double *v, size_t L) {
  for (size_t i = 0; i < p->n_prev; i++)
    memcpy(v + (size_t)p->prev_state[i] * L, v + (size_t)p->prev_pending[i] * L, L * sizeof *v);
}

/* After the evaluation of a step point: PREVIOUS arguments, saving (every save_every-th
 * point, counted down in *until_save rather than with a division), and, in diagnostic mode
 * only (see tr_sim_run), the numeric hazard check: stocks (`bad`, or at save points), saved
 * values and the floating-point flags (FP_HAZARDS: a variable that is neither watched nor a
 * stock, a value between save points); only then is every variable scanned to name the first
 * one that is not finite, at the step where it first appears. */
static int after_point(tr_sim *s, tr_vm *vm, int bad, long *until_save) {
  const tr_program *p = s->p;
  size_t L = vm->lanes;
  if (p->post.n) tr_vm_exec(p, &p->post, vm);
  if (--*until_save == 0) { /* a non-finite stock stays so: checking at save points finds it */
    int saved_bad = save(s, L);
    if (s->diag) bad |= saved_bad | stocks_bad(p, s->vals, L);
    *until_save = s->save_every;
  }
  if (!s->diag) return TR_OK;
  bad |= fetestexcept(FP_HAZARDS) != 0;
  if (bad && !s->warning[0] && hazard(s, L, vm->time) && s->o.strict_math)
    return tr_error_set(&s->err, TR_ERR_MATH, s->m->flat.file, 0, 0, "numeric hazard: %s",
                        s->warning);
  return TR_OK;
}

/* Euler with one lane, steps 0..nsteps-1, in diagnostic mode: every stock and saved value
 * is checked at every step. Same arithmetic as euler() and after_point(), and as the
 * compiled Euler update of run_euler1, so the results are identical. */
static int run_euler1_diag(tr_sim *s, tr_vm *vm, const tr_code *step, long *until_save) {
  const tr_program *p = s->p;
  double *v = s->vals, dt = s->o.dt, start = s->o.start;
  double *T = v + p->n_vars + TR_SLOT_TIME;
  const int *slot = p->flow_slot, *off = p->flow_off, *out = p->flow_out, *stk = p->stocks;
  const unsigned char *nonneg = p->stock_nonneg;
  long every = s->save_every, until = *until_save;
  vm->phase = TR_PH_STEP;
  for (long n = 0; n < s->nsteps; n++) {
    int bad = 0;
    for (size_t i = 0; i < p->n_stocks; i++) {
      int f = off[i], fo = out[i], f1 = off[i + 1];
      double y;
      if (f1 - f == 2 && fo == f + 1) { /* one inflow, one outflow: the common stock */
        y = v[stk[i]] + dt * (v[slot[f]] - v[slot[f + 1]]);
      } else if (f1 - f == 1) { /* one flow: s + dt * (0 - o) is s - dt * o exactly */
        y = fo > f ? v[stk[i]] + dt * v[slot[f]] : v[stk[i]] - dt * v[slot[f]];
      } else {
        double net = f < fo ? v[slot[f++]] : 0.0;
        for (; f < fo; f++)
          net += v[slot[f]];
        for (; f < f1; f++)
          net -= v[slot[f]];
        y = v[stk[i]] + dt * net;
      }
      bad |= !(y - y == 0);
      v[stk[i]] = nonneg[i] && y < 0 ? 0 : y;
    }
    double t1 = start + (double)(n + 1) * dt;
    vm->step = n + 1;
    vm->time = t1;
    *T = t1;
    if (s->n_shapes) apply_shapes(s, vm);
    if (p->n_prev) commit_previous(p, v, 1);
    tr_vm_exec1(p, step, vm);
    if (p->post.n) tr_vm_exec1(p, &p->post, vm);
    if (--until == 0) {
      bad |= save(s, 1);
      until = every;
    }
    bad |= fetestexcept(FP_HAZARDS) != 0;
    if (bad && !s->warning[0] && hazard(s, 1, t1) && s->o.strict_math)
      return tr_error_set(&s->err, TR_ERR_MATH, s->m->flat.file, 0, 0, "numeric hazard: %s",
                          s->warning);
  }
  *until_save = until;
  return TR_OK;
}

/* Euler with one lane, steps 0..nsteps-1: the path of `tightrope simulate` and of
 * optimisers, with the per-step bookkeeping of the general loop below inlined and no checks
 * (see tr_sim_run). The compiled Euler update runs in one block with the step code, unless
 * time shapes must set constants (which may be flows' inputs) between the two. */
static int run_euler1(tr_sim *s, tr_vm *vm, const tr_code *step, long *until_save) {
  const tr_program *p = s->p;
  double *v = s->vals, dt = s->o.dt, start = s->o.start;
  double *T = v + p->n_vars + TR_SLOT_TIME;
  long every = s->save_every, until = *until_save;
  size_t nd = s->n_dyn;
  const struct series *d = s->dyn;
  int direct = nd <= DIRECT_SERIES;
  const tr_code *code = s->n_shapes ? step : &p->euler_step;
  /* read once: the calls below could change them as far as the compiler knows */
  int shapes = s->n_shapes != 0, prev = p->n_prev != 0, post = p->post.n != 0;
  size_t k0 = s->stage_k0;
  size_t sj_, sl_;
  double *out0 = res(s, &sj_, &sl_); /* one lane: lane 0's series start at dyn[].off */
  vm->phase = TR_PH_STEP;
  for (long n = 0; n < s->nsteps; n++) {
    if (shapes) tr_vm_exec1(p, &p->euler, vm);
    double t1 = start + (double)(n + 1) * dt;
    vm->step = n + 1;
    vm->time = t1;
    *T = t1;
    if (shapes) apply_shapes(s, vm);
    if (prev) commit_previous(p, v, 1);
    tr_vm_exec1(p, code, vm);
    if (post) tr_vm_exec1(p, &p->post, vm);
    if (--until == 0) {
      if (direct) { /* save() for a few series, inlined: this runs every step */
        double *o = out0 + k0++;
        size_t j = 0;
        for (; j + 1 < nd; j += 2) { /* two at a time: half the loop overhead */
          double x0 = v[d[j].slot], x1 = v[d[j + 1].slot];
          o[d[j].off] = x0;
          o[d[j + 1].off] = x1;
        }
        if (j < nd) o[d[j].off] = v[d[j].slot];
      } else {
        s->stage_k0 = k0;
        save(s, 1);
        k0 = s->stage_k0;
      }
      until = every;
    }
  }
  *until_save = until;
  s->stage_k0 = k0;
  return TR_OK;
}

static int run(tr_sim *s) {
  const tr_program *p = s->p;
  size_t L = s->o.lanes;
  int rc;
  s->ran = 0;
  s->warning[0] = '\0';
  feclearexcept(FP_HAZARDS);
  tr_error_clear(&s->err);
  if ((rc = ensure_storage(s))) return rc;
  plan_series(s);
  double *v = s->vals;
  double start = s->o.start, dt = s->o.dt;
  memcpy(v, s->base, p->n_fixed * L * sizeof *v);
  for (size_t l = 0; l < L; l++) {
    v[(p->n_vars + TR_SLOT_DT) * L + l] = dt;
    v[(p->n_vars + TR_SLOT_START) * L + l] = start;
    v[(p->n_vars + TR_SLOT_STOP) * L + l] = s->o.stop;
    tr_rng_seed_stream(&s->rng[l], s->o.seed, s->o.first_run + l);
  }
  for (size_t i = 0; i < p->n_seeded; i++)
    for (size_t l = 0; l < L; l++)
      tr_rng_seed_stream(&s->seeded[i * L + l], p->seeds[i], 0);
  if (!s->times_ok)
    for (size_t k = 0; k < s->nsave; k++)
      s->times[k] = start + (double)((long)k * s->save_every) * dt;
  s->times_ok = 1;
  tr_vm vm = {v,      L,        TR_PH_INIT, 0, start, start, dt, s->hist, (size_t)s->nsteps + 1,
              s->rng, s->seeded};
  set_time(s, &vm, start);
  const tr_code *step = s->n_shapes ? &p->step_full : &p->step;
  tr_vm_exec(p, &p->init, &vm);
  long until_save = 1;
  s->stage_n = 0;
  s->stage_k0 = 0;
  if ((rc = after_point(s, &vm, 1, &until_save))) return rc; /* a full scan at the start */
  size_t ns = p->n_stocks;
  double *y0 = s->scratch, *k1 = y0 + ns * L, *k2 = k1 + ns * L, *k3 = k2 + ns * L,
         *k4 = k3 + ns * L;
  if (L == 1 && s->o.method == TR_INTEG_EULER) {
    rc = s->diag ? run_euler1_diag(s, &vm, step, &until_save)
                 : run_euler1(s, &vm, step, &until_save);
    if (rc) return rc;
  }
  for (long n = 0; n < s->nsteps && !(L == 1 && s->o.method == TR_INTEG_EULER); n++) {
    double t = start + (double)n * dt, t1 = start + (double)(n + 1) * dt;
    int bad;
    if (s->o.method == TR_INTEG_EULER) {
      bad = euler(p, v, L, dt, k1);
    } else {
      for (size_t i = 0; i < ns; i++)
        memcpy(y0 + i * L, v + (size_t)p->stocks[i] * L, L * sizeof *v);
      net_flows(p, v, L, k1);
      vm.phase = TR_PH_STAGE;
      if (s->o.method == TR_INTEG_RK2) {
        set_stocks(p, v, L, y0, k1, dt);
        set_time(s, &vm, t1);
        tr_vm_exec(p, step, &vm);
        net_flows(p, v, L, k2);
        for (size_t i = 0; i < ns * L; i++)
          k1[i] = (k1[i] + k2[i]) * 0.5;
        set_stocks(p, v, L, y0, k1, dt);
      } else {
        set_stocks(p, v, L, y0, k1, dt * 0.5);
        set_time(s, &vm, t + dt * 0.5);
        tr_vm_exec(p, step, &vm);
        net_flows(p, v, L, k2);
        set_stocks(p, v, L, y0, k2, dt * 0.5);
        tr_vm_exec(p, step, &vm);
        net_flows(p, v, L, k3);
        set_stocks(p, v, L, y0, k3, dt);
        set_time(s, &vm, t1);
        tr_vm_exec(p, step, &vm);
        net_flows(p, v, L, k4);
        for (size_t i = 0; i < ns * L; i++)
          k1[i] = (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) / 6;
        set_stocks(p, v, L, y0, k1, dt);
      }
      clamp_stocks(p, v, L);
      bad = 0;
    }
    vm.phase = TR_PH_STEP;
    vm.step = n + 1;
    set_time(s, &vm, t1);
    commit_previous(p, v, L);
    tr_vm_exec(p, step, &vm);
    if ((rc = after_point(s, &vm, bad, &until_save))) return rc;
  }
  flush_stage(s, L);
  fill_constant_series(s);
  s->ran = 1;
  return TR_OK;
}

/* 1 when a saved value, or a slot's final value, is NaN or infinite. The series of constants
 * and static variables repeat their final value. The other saved values need no scan when
 * nothing can make a NaN or an infinity without raising a floating-point flag: no instruction
 * of the program does (nan_sources) and every starting value is finite (literals, constants
 * and their settings; time shapes are finite by construction). */
static int outputs_bad(const tr_sim *s) {
  size_t L = s->o.lanes, sj, sl;
  const double *out = res(s, &sj, &sl);
  int scan = s->p->nan_sources || nonfinite_any(s->base, s->p->n_fixed * s->base_lanes);
  for (size_t j = 0; scan && j < s->n_dyn; j++)
    for (size_t l = 0; l < L; l++)
      if (nonfinite_any(out + s->dyn[j].off + l * sl, s->nsave)) return 1;
  return nonfinite_any(s->vals, s->p->n_vars * L);
}

/* A run does not look for NaN and infinities step by step: at its end it reads the
 * floating-point exception flags (every NaN or infinity that arithmetic makes raises one)
 * and scans the saved values and the final state. When anything was not finite — or a flag
 * says some value was, even one no variable kept — the run is repeated (it is
 * deterministic: same constants, same random streams) in diagnostic mode, which checks
 * stocks, saved values and the flags at every step, so that the report names the variable
 * and the step where the hazard first appears. Hazard-free runs pay nothing per step. */
int tr_sim_run(tr_sim *s) {
  s->diag = 0;
  int rc = run(s);
  if (rc != TR_OK && rc != TR_ERR_MATH) return rc;
  if (rc == TR_ERR_MATH || s->warning[0] || fetestexcept(FP_HAZARDS) || outputs_bad(s)) {
    s->diag = 1;
    rc = run(s);
    s->diag = 0;
  }
  return rc;
}
