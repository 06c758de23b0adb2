/* Engine: compiler, batched VM and integrators, against analytic answers and recurrences.
 * Models are built by hand here (parse each equation, resolve names by canonical ident), so
 * that these tests do not depend on the reader and the flattener. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/text.h"
#include "engine/engine_impl.h"
#include "expr/ast.h"
#include "expr/builtins.h"

#include <math.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define assert_close(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* One variable of a hand-built model. `flows` for a stock: "+in1 -out1 ..." */
typedef struct vspec {
  tr_fvar_kind kind;
  const char *name;
  const char *eqn;
  const char *flows;
  int nonneg;
  const tr_gf *gf;
} vspec;

/* Names resolve by canonical ident. A call "v_sum(a, b, c)" stands for what the flattener
 * makes of SUM(x[*]): the builtin called with one argument per element. */
static int resolve(tr_ast *n, const tr_flat *f) {
  if (!n) return 1;
  if (n->kind == TR_AST_CALL && n->builtin < 0 && strncmp(n->name, "v_", 2) == 0) {
    const tr_builtin *b = tr_builtin_find(n->name + 2);
    if (b) n->builtin = (int)b->id;
  }
  if (n->kind == TR_AST_NAME) {
    for (size_t i = 0; i < f->n_vars; i++)
      if (strcmp(f->vars[i].ident, n->name) == 0) n->var = (int)i;
    if (n->var < 0) fprintf(stderr, "test model: unknown name %s\n", n->name);
  }
  int ok = n->kind != TR_AST_NAME || n->var >= 0;
  for (int i = 0; i < n->nargs; i++)
    ok &= resolve(n->args[i], f);
  return ok;
}

static void model_free(tr_model *m) {
  if (!m) return;
  tr_arena_release(&m->arena);
  tr_free(m);
}

/* Build and compile a model; returns its status (the model in *out only on success). */
static int build(const vspec *vs, size_t n, double start, double stop, double dt, tr_model **out,
                 tr_error *err) {
  *out = NULL;
  tr_model *m = tr_calloc(1, sizeof *m);
  if (!m) return TR_ERR_NOMEM;
  tr_arena_init(&m->arena);
  tr_flat *f = &m->flat;
  f->file = "test.xmile";
  f->specs.start = start;
  f->specs.stop = stop;
  f->specs.dt = dt;
  f->vars = tr_arena_calloc(&m->arena, n, sizeof *f->vars);
  f->n_vars = n;
  int rc = TR_OK;
  if (!f->vars) rc = TR_ERR_NOMEM;
  for (size_t i = 0; i < n && !rc; i++) {
    tr_fvar *fv = &f->vars[i];
    char canon[128];
    tr_canon_ident(vs[i].name, strlen(vs[i].name), canon, sizeof canon);
    fv->kind = vs[i].kind;
    fv->name = vs[i].name;
    fv->ident = tr_arena_strdup(&m->arena, canon);
    fv->eqn_text = vs[i].eqn;
    fv->eqn_pos.line = (int)i + 1;
    fv->eqn_pos.col = 5;
    fv->non_negative = vs[i].nonneg;
    fv->gf = vs[i].gf;
    if (!fv->ident) rc = TR_ERR_NOMEM;
  }
  for (size_t i = 0; i < n && !rc; i++) {
    tr_fvar *fv = &f->vars[i];
    if (vs[i].eqn)
      rc = tr_expr_parse(&m->arena, vs[i].eqn, strlen(vs[i].eqn), f->file, (int)i + 1, 5, &fv->eqn,
                         err);
    if (!rc && fv->eqn && !resolve(fv->eqn, f)) rc = TR_ERR_UNKNOWN_NAME;
    if (!rc && vs[i].flows) {
      fv->inflows = tr_arena_calloc(&m->arena, 8, sizeof(int));
      fv->outflows = tr_arena_calloc(&m->arena, 8, sizeof(int));
      if (!fv->inflows || !fv->outflows) rc = TR_ERR_NOMEM;
      const char *s = vs[i].flows;
      while (!rc && *s) {
        char sign = *s++, nm[64];
        size_t k = 0;
        while (*s && *s != ' ' && k < 63)
          nm[k++] = *s++;
        nm[k] = '\0';
        while (*s == ' ')
          s++;
        int idx = -1;
        for (size_t j = 0; j < n; j++)
          if (strcmp(vs[j].name, nm) == 0) idx = (int)j;
        assert_true(idx >= 0);
        if (sign == '+')
          fv->inflows[fv->n_inflows++] = idx;
        else
          fv->outflows[fv->n_outflows++] = idx;
      }
    }
  }
  if (!rc) rc = tr_compile(f, &m->arena, &m->prog, err);
  if (rc) {
    model_free(m);
    return rc;
  }
  *out = m;
  return TR_OK;
}

static tr_model *must_build(const vspec *vs, size_t n, double start, double stop, double dt) {
  tr_error err;
  tr_error_clear(&err);
  tr_model *m = NULL;
  int rc = build(vs, n, start, stop, dt, &m, &err);
  if (rc) fprintf(stderr, "build failed: %s\n", tr_error_text(&err));
  assert_int_equal(rc, TR_OK);
  return m;
}

static tr_sim *must_run(tr_model *m, const tr_sim_opts *o) {
  tr_error err;
  tr_sim *s = NULL;
  assert_int_equal(tr_sim_new(m, o, &s, &err), TR_OK);
  int rc = tr_sim_run(s);
  if (rc) fprintf(stderr, "run failed: %s\n", tr_error_text(tr_sim_error(s)));
  assert_int_equal(rc, TR_OK);
  return s;
}

static const double *series(tr_sim *s, const tr_model *m, const char *name, size_t lane) {
  long i = tr_model_find(m, name);
  assert_true(i >= 0);
  const double *y = tr_sim_series(s, (size_t)i, lane);
  assert_non_null(y);
  return y;
}

static const vspec decay[] = {
    {TR_FV_STOCK, "x", "100", "-loss", 0, NULL},
    {TR_FV_FLOW, "loss", "x * k", NULL, 0, NULL},
    {TR_FV_AUX, "k", "0.1", NULL, 0, NULL},
};

/* engine-1.1: Euler on dx/dt = -k x equals the recurrence x += dt * -(k x), bit for bit. */
static void test_euler_equals_recurrence(void **state) {
  (void)state;
  tr_model *m = must_build(decay, 3, 0, 10, 0.25);
  tr_sim *s = must_run(m, NULL);
  const double *x = series(s, m, "x", 0), *loss = series(s, m, "loss", 0);
  assert_int_equal(tr_sim_saved_count(s), 41);
  double y = 100;
  for (size_t n = 0; n < 41; n++) {
    assert_true(x[n] == y);
    assert_true(loss[n] == y * 0.1);
    y = y + 0.25 * -(y * 0.1);
  }
  tr_sim_free(s);
  model_free(m);
}

static double error_at_1(tr_model *m, int method, double dt) {
  tr_sim_opts o = tr_model_default_opts(m);
  o.stop = 1;
  o.dt = dt;
  o.save_step = 0;
  o.method = method;
  tr_sim *s = must_run(m, &o);
  size_t n = tr_sim_saved_count(s);
  assert_true(tr_sim_times(s)[n - 1] == 1.0);
  double e = fabs(series(s, m, "x", 0)[n - 1] - 100 * exp(-0.1));
  tr_sim_free(s);
  return e;
}

/* engine-1.2: RK4's global error is O(dt^4), RK2's O(dt^2), Euler's O(dt). */
static void test_integrator_orders(void **state) {
  (void)state;
  tr_model *m = must_build(decay, 3, 0, 1, 0.1);
  double r4 = error_at_1(m, TR_INTEG_RK4, 0.1) / error_at_1(m, TR_INTEG_RK4, 0.05);
  double r2 = error_at_1(m, TR_INTEG_RK2, 0.1) / error_at_1(m, TR_INTEG_RK2, 0.05);
  double r1 = error_at_1(m, TR_INTEG_EULER, 0.1) / error_at_1(m, TR_INTEG_EULER, 0.05);
  assert_true(r4 > 14 && r4 < 18);
  assert_true(r2 > 3.6 && r2 < 4.4);
  assert_true(r1 > 1.8 && r1 < 2.2);
  assert_true(error_at_1(m, TR_INTEG_RK4, 0.1) < 1e-7 * 100);
  model_free(m);
}

/* engine-1.3: save points come from the step index: start 1, dt 0.1 saves 1.0 exactly. */
static void test_save_points(void **state) {
  (void)state;
  tr_model *m = must_build(decay, 3, 1, 2, 0.1);
  tr_sim *s = must_run(m, NULL);
  assert_int_equal(tr_sim_saved_count(s), 11);
  const double *t = tr_sim_times(s);
  assert_true(t[0] == 1.0);
  for (int n = 0; n <= 10; n++)
    assert_true(t[n] == 1.0 + n * 0.1);
  tr_sim_opts o = *tr_sim_opts_get(s);
  o.save_step = 0.5;
  assert_int_equal(tr_sim_set_opts(s, &o), TR_OK);
  assert_int_equal(tr_sim_run(s), TR_OK);
  assert_int_equal(tr_sim_saved_count(s), 3);
  assert_true(tr_sim_times(s)[1] == 1.5);
  assert_true(tr_sim_times(s)[2] == 2.0);
  o.save_step = 0.25; /* not a multiple of dt */
  assert_int_equal(tr_sim_set_opts(s, &o), TR_ERR_INVALID);
  o.save_step = 0;
  o.dt = 1e-12;
  o.stop = 1e6;
  assert_int_equal(tr_sim_set_opts(s, &o), TR_ERR_LIMIT);
  o.dt = 0;
  assert_int_equal(tr_sim_set_opts(s, &o), TR_ERR_INVALID);
  o.dt = 0.1;
  o.stop = 0;
  assert_int_equal(tr_sim_set_opts(s, &o), TR_ERR_INVALID);
  tr_sim_free(s);
  model_free(m);
}

static const vspec sir[] = {
    {TR_FV_STOCK, "susceptible", "total_population", "-succumbing", 0, NULL},
    {TR_FV_STOCK, "infectious", "5", "+succumbing -recovering", 0, NULL},
    {TR_FV_STOCK, "recovered", "0", "+recovering", 0, NULL},
    {TR_FV_FLOW, "succumbing", "susceptible*infectious/total_population*contact_infectivity", NULL,
     0, NULL},
    {TR_FV_FLOW, "recovering", "infectious/duration * noise", NULL, 0, NULL},
    {TR_FV_AUX, "total_population", "1000", NULL, 0, NULL},
    {TR_FV_AUX, "duration", "5", NULL, 0, NULL},
    {TR_FV_AUX, "contact_infectivity", "0.3", NULL, 0, NULL},
    {TR_FV_AUX, "noise", "NORMAL(1, 0.05)", NULL, 0, NULL},
    {TR_FV_AUX, "fixed noise", "UNIFORM(0, 1, 42)", NULL, 0, NULL},
};

/* engine-1.4: lanes give exactly the results of separate single runs (constants per lane,
 * random streams per run index); a seeded random call is the same in every lane. */
static void lanes_vs_single(int method) {
  tr_model *m = must_build(sir, 10, 0, 20, 0.125);
  tr_sim_opts o = tr_model_default_opts(m);
  o.lanes = 4;
  o.seed = 7;
  o.method = method;
  tr_error err;
  tr_sim *b = NULL;
  assert_int_equal(tr_sim_new(m, &o, &b, &err), TR_OK);
  for (long l = 0; l < 4; l++)
    assert_int_equal(tr_sim_set_const(b, "contact_infectivity", l, 0.2 + 0.1 * (double)l), TR_OK);
  assert_int_equal(tr_sim_run(b), TR_OK);
  size_t n = tr_sim_saved_count(b);
  for (size_t l = 0; l < 4; l++) {
    tr_sim_opts o1 = o;
    o1.lanes = 1;
    o1.first_run = l;
    tr_sim *s1 = NULL;
    assert_int_equal(tr_sim_new(m, &o1, &s1, &err), TR_OK);
    assert_int_equal(tr_sim_set_const(s1, "contact infectivity", -1, 0.2 + 0.1 * (double)l), TR_OK);
    assert_int_equal(tr_sim_run(s1), TR_OK);
    for (size_t v = 0; v < tr_model_var_count(m); v++) {
      const double *x = tr_sim_series(b, v, l), *y = tr_sim_series(s1, v, 0);
      assert_memory_equal(x, y, n * sizeof *x);
    }
    tr_sim_free(s1);
  }
  /* the seeded draw repeats across lanes; the unseeded one does not */
  const double *f0 = series(b, m, "fixed noise", 0), *f3 = series(b, m, "fixed noise", 3);
  const double *n0 = series(b, m, "noise", 0), *n3 = series(b, m, "noise", 3);
  assert_memory_equal(f0, f3, n * sizeof *f0);
  assert_true(n0[5] != n3[5]);
  assert_true(f0[1] != f0[2]); /* a new draw each step */
  assert_true(f0[0] != f0[1]); /* the initial draw and the first step's come from one stream */
  assert_true(f0[1] >= 0 && f0[1] < 1);
  /* mean of the noise over lane 0 is near 1 (161 draws of sd 0.05) */
  double mean = 0;
  for (size_t k = 0; k < n; k++)
    mean += n0[k];
  mean /= (double)n;
  assert_true(fabs(mean - 1) < 0.02);
  tr_sim_free(b);
  model_free(m);
}

static void test_lanes_equal_single_runs(void **state) {
  (void)state;
  lanes_vs_single(TR_INTEG_EULER); /* the one-lane Euler loop against the lane loops */
  lanes_vs_single(TR_INTEG_RK2);
  lanes_vs_single(TR_INTEG_RK4);
}

/* engine-1.4b: series written into the caller's buffer (tr_sim_set_output) with its own
 * strides equal the sim's own series bit for bit, for the lanes and every method, leave the
 * padding between them alone, and tr_sim_set_opts goes back to the sim's storage. */
static void test_output_buffer(void **state) {
  (void)state;
  tr_model *m = must_build(sir, 10, 0, 20, 0.125);
  /* 3 lanes: series written in place at every point; 20 lanes: through the stage (more than
   * DIRECT_SERIES series); one lane: the one-lane Euler loop */
  static const size_t lanes[] = {3, 20, 1};
  for (int v = 0; v < 5; v++) {
    int method = v < 3 ? TR_INTEG_EULER + v : TR_INTEG_EULER;
    size_t L = v < 3 ? lanes[0] : lanes[v - 2];
    tr_sim_opts o = tr_model_default_opts(m);
    o.lanes = L;
    o.seed = 3;
    o.method = method;
    tr_error err;
    tr_sim *a = NULL, *b = NULL;
    assert_int_equal(tr_sim_new(m, &o, &a, &err), TR_OK);
    assert_int_equal(tr_sim_new(m, &o, &b, &err), TR_OK);
    size_t w[2] = {(size_t)tr_model_find(m, "infectious"), (size_t)tr_model_find(m, "noise")};
    assert_int_equal(tr_sim_watch(a, w, 2), TR_OK);
    assert_int_equal(tr_sim_watch(b, w, 2), TR_OK);
    assert_int_equal(tr_sim_run(a), TR_OK);
    size_t n = tr_sim_saved_count(a), sj = n + 3, sl = 2 * sj + 5; /* padding everywhere */
    double *buf = malloc(L * sl * sizeof *buf);
    for (size_t i = 0; i < L * sl; i++)
      buf[i] = -12345.0;
    tr_sim_set_output(b, buf, sl, sj);
    assert_int_equal(tr_sim_run(b), TR_OK);
    size_t written = 0;
    for (size_t l = 0; l < L; l++)
      for (size_t j = 0; j < 2; j++) {
        assert_memory_equal(&buf[j * sj + l * sl], tr_sim_series(a, w[j], l), n * sizeof *buf);
        assert_ptr_equal(tr_sim_series(b, w[j], l), &buf[j * sj + l * sl]);
        written += n;
      }
    size_t untouched = 0;
    for (size_t i = 0; i < L * sl; i++)
      untouched += buf[i] == -12345.0;
    assert_int_equal(untouched, L * sl - written);
    assert_int_equal(tr_sim_set_opts(b, &o), TR_OK); /* back to the sim's own storage */
    assert_int_equal(tr_sim_run(b), TR_OK);
    const double *own = tr_sim_series(b, w[0], L - 1);
    assert_true(own < buf || own >= buf + L * sl);
    assert_memory_equal(own, tr_sim_series(a, w[0], L - 1), n * sizeof *buf);
    free(buf);
    tr_sim_free(a);
    tr_sim_free(b);
  }
  model_free(m);
}

/* engine-1.5: constants can be set by name with "did you mean" on a typo. */
static void test_constant_overrides(void **state) {
  (void)state;
  tr_model *m = must_build(decay, 3, 0, 1, 0.5);
  tr_var_info vi;
  tr_model_var(m, 2, &vi);
  assert_true(vi.is_constant);
  assert_true(vi.value == 0.1);
  tr_model_var(m, 1, &vi);
  assert_false(vi.is_constant);
  tr_error err;
  tr_sim *s = NULL;
  assert_int_equal(tr_sim_new(m, NULL, &s, &err), TR_OK);
  assert_int_equal(tr_sim_set_const(s, "K", -1, 0.5), TR_OK);
  assert_int_equal(tr_sim_run(s), TR_OK);
  const double *x = series(s, m, "x", 0);
  assert_true(x[1] == 100 + 0.5 * -(100 * 0.5));
  assert_int_equal(tr_sim_set_const(s, "kk", -1, 1), TR_ERR_UNKNOWN_NAME);
  assert_non_null(strstr(tr_error_text(tr_sim_error(s)), "did you mean 'k'"));
  assert_int_equal(tr_sim_set_const(s, "loss", -1, 1), TR_ERR_INVALID);
  assert_int_equal(tr_sim_set_const(s, "k", 3, 1), TR_ERR_INVALID);
  tr_sim_reset_consts(s);
  assert_int_equal(tr_sim_run(s), TR_OK);
  assert_true(series(s, m, "x", 0)[1] == 100 + 0.5 * -(100 * 0.1));
  tr_sim_free(s);
  model_free(m);
}

/* engine-1.6: a cycle among auxiliaries is an error naming its members; a loop through a
 * stock is not a cycle. */
static void test_cycle_names_members(void **state) {
  (void)state;
  static const vspec cyc[] = {
      {TR_FV_AUX, "a", "b + 1", NULL, 0, NULL},
      {TR_FV_AUX, "b", "c * 2", NULL, 0, NULL},
      {TR_FV_AUX, "c", "a", NULL, 0, NULL},
      {TR_FV_AUX, "d", "5", NULL, 0, NULL},
  };
  tr_error err;
  tr_error_clear(&err);
  tr_model *m = NULL;
  assert_int_equal(build(cyc, 4, 0, 1, 1, &m, &err), TR_ERR_CYCLE);
  const char *t = tr_error_text(&err);
  assert_non_null(strstr(t, "test.xmile:"));
  assert_non_null(strstr(t, "'a'"));
  assert_non_null(strstr(t, "'b'"));
  assert_non_null(strstr(t, "'c'"));
  assert_null(strstr(t, "'d'"));
  static const vspec loop[] = {
      {TR_FV_STOCK, "s", "1", "+f", 0, NULL},
      {TR_FV_FLOW, "f", "g", NULL, 0, NULL},
      {TR_FV_AUX, "g", "s / 2", NULL, 0, NULL},
  };
  m = must_build(loop, 3, 0, 1, 1);
  model_free(m);
  /* stock initial values in a circle */
  static const vspec icyc[] = {
      {TR_FV_STOCK, "p", "q", NULL, 0, NULL},
      {TR_FV_STOCK, "q", "p + 1", NULL, 0, NULL},
  };
  assert_int_equal(build(icyc, 2, 0, 1, 1, &m, &err), TR_ERR_CYCLE);
  assert_non_null(strstr(tr_error_text(&err), "initial"));
}

/* engine-1.7: stock initial values may depend on auxiliaries and on other stocks. */
static void test_chained_initialisation(void **state) {
  (void)state;
  static const vspec ch[] = {
      {TR_FV_STOCK, "s3", "s2 * 2", NULL, 0, NULL}, {TR_FV_STOCK, "s2", "s1 + a", NULL, 0, NULL},
      {TR_FV_STOCK, "s1", "10", "+f", 0, NULL},     {TR_FV_AUX, "a", "s1 / 5", NULL, 0, NULL},
      {TR_FV_FLOW, "f", "1", NULL, 0, NULL},
  };
  tr_model *m = must_build(ch, 5, 0, 2, 1);
  tr_sim *s = must_run(m, NULL);
  assert_true(series(s, m, "s2", 0)[0] == 12);
  assert_true(series(s, m, "s3", 0)[0] == 24);
  assert_true(series(s, m, "a", 0)[2] == 12.0 / 5);
  assert_true(series(s, m, "s3", 0)[2] == 24); /* no flows */
  tr_sim_free(s);
  model_free(m);
}

/* engine-1.8: NaN is reported with the variable and time; strict_math makes it an error. */
static void test_nan_detection(void **state) {
  (void)state;
  tr_error err;
  static const vspec nanm[] = {
      {TR_FV_STOCK, "x", "53", "-out", 0, NULL},
      {TR_FV_FLOW, "out", "1", NULL, 0, NULL},
      {TR_FV_AUX, "y", "LN(x - 50)", NULL, 0, NULL},
  };
  tr_model *m = must_build(nanm, 3, 0, 6, 1);
  tr_sim *s = must_run(m, NULL);
  const char *w = tr_sim_warning(s);
  assert_non_null(w);
  assert_non_null(strstr(w, "'y' became infinite at time 3"));
  tr_sim_opts o = *tr_sim_opts_get(s);
  o.strict_math = 1;
  assert_int_equal(tr_sim_set_opts(s, &o), TR_OK);
  assert_int_equal(tr_sim_run(s), TR_ERR_MATH);
  assert_non_null(strstr(tr_error_text(tr_sim_error(s)), "'y'"));
  assert_int_equal(tr_sim_saved_count(s), 0);
  tr_sim_free(s);
  model_free(m);
  /* a hazard in a variable that is neither watched nor a stock, between save points, is
   * still reported at its variable and its first step */
  static const vspec hid[] = {
      {TR_FV_AUX, "shown", "TIME", NULL, 0, NULL},
      {TR_FV_AUX, "ratio", "1 / (TIME - 1.5)", NULL, 0, NULL},
  };
  m = must_build(hid, 2, 0, 4, 0.5);
  assert_int_equal(tr_sim_new(m, NULL, &s, &err), TR_OK);
  size_t shown = 0;
  o = *tr_sim_opts_get(s);
  o.save_step = 2;
  assert_int_equal(tr_sim_set_opts(s, &o), TR_OK);
  assert_int_equal(tr_sim_watch(s, &shown, 1), TR_OK);
  assert_int_equal(tr_sim_run(s), TR_OK);
  assert_non_null(tr_sim_warning(s));
  assert_non_null(strstr(tr_sim_warning(s), "'ratio' became infinite at time 1.5"));
  assert_int_equal(tr_sim_saved_count(s), 3);
  tr_sim_free(s);
  model_free(m);
  /* a guarded division raises a flag but leaves every variable finite: no warning */
  static const vspec guarded[] = {
      {TR_FV_AUX, "x", "TIME - 1", NULL, 0, NULL},
      {TR_FV_AUX, "safe", "IF x <> 0 THEN 1 / x ELSE 0", NULL, 0, NULL},
  };
  m = must_build(guarded, 2, 0, 2, 1);
  s = must_run(m, NULL);
  assert_null(tr_sim_warning(s));
  assert_true(series(s, m, "safe", 0)[1] == 0);
  tr_sim_free(s);
  model_free(m);
  m = must_build(decay, 3, 0, 1, 0.5);
  s = must_run(m, NULL);
  assert_null(tr_sim_warning(s));
  tr_sim_free(s);
  model_free(m);
}

/* engine-1.9: test inputs fire at the right step: PULSE(v, first, interval) is v/DT at
 * first, first + interval, ...; STEP and RAMP from their start time. */
static void test_pulse_step_ramp(void **state) {
  (void)state;
  static const vspec tin[] = {
      {TR_FV_AUX, "p", "PULSE(10, 1, 2)", NULL, 0, NULL},
      {TR_FV_AUX, "once", "PULSE(10, 1.5)", NULL, 0, NULL},
      {TR_FV_AUX, "st", "STEP(3, 2)", NULL, 0, NULL},
      {TR_FV_AUX, "r", "RAMP(2, 1)", NULL, 0, NULL},
      {TR_FV_STOCK, "acc", "0", "+p", 0, NULL},
  };
  tr_model *m = must_build(tin, 5, 0, 6, 0.5);
  tr_sim *s = must_run(m, NULL);
  const double *p = series(s, m, "p", 0), *once = series(s, m, "once", 0);
  const double *st = series(s, m, "st", 0), *r = series(s, m, "r", 0);
  const double *acc = series(s, m, "acc", 0);
  for (int n = 0; n <= 12; n++) {
    double t = n * 0.5;
    double want = (t == 1 || t == 3 || t == 5) ? 20 : 0;
    assert_true(p[n] == want);
    assert_true(once[n] == (t == 1.5 ? 20 : 0));
    assert_true(st[n] == (t >= 2 ? 3 : 0));
    assert_true(r[n] == (t >= 1 ? 2 * (t - 1) : 0));
  }
  assert_true(acc[12] == 30); /* each pulse moves 10 units into the stock */
  tr_sim_free(s);
  /* ... under RK2 and RK4 too: the pulse is held through the stages */
  for (int method = TR_INTEG_RK2; method <= TR_INTEG_RK4; method++) {
    tr_sim_opts o = tr_model_default_opts(m);
    o.method = method;
    s = must_run(m, &o);
    const double *a2 = series(s, m, "acc", 0);
    assert_true(a2[2] == 0 && a2[3] == 10 && a2[12] == 30);
    assert_true(series(s, m, "p", 0)[2] == 20);
    tr_sim_free(s);
  }
  model_free(m);
}

/* engine-1.10: DELAY is a fixed pipeline: input at t - delay, or the initial value (the
 * input's own initial value without a third argument). The conformance case delay_xmile. */
static void test_delay(void **state) {
  (void)state;
  static const vspec dl[] = {
      {TR_FV_STOCK, "stock", "100", "+flow", 1, NULL},
      {TR_FV_FLOW, "flow", "0.02 * stock", NULL, 1, NULL},
      {TR_FV_AUX, "d1", "DELAY(stock, 1)", NULL, 0, NULL},
      {TR_FV_AUX, "d1 0", "DELAY(stock, 1, 0)", NULL, 0, NULL},
      {TR_FV_AUX, "df", "DELAY(flow, 5, -20)", NULL, 0, NULL},
      {TR_FV_AUX, "half", "DELAY(TIME, 1.5)", NULL, 0, NULL},
  };
  tr_model *m = must_build(dl, 6, 1, 13, 1);
  tr_sim *s = must_run(m, NULL);
  const double *st = series(s, m, "stock", 0), *d1 = series(s, m, "d1", 0);
  const double *d10 = series(s, m, "d1_0", 0), *df = series(s, m, "df", 0);
  const double *fl = series(s, m, "flow", 0), *half = series(s, m, "half", 0);
  assert_true(d1[0] == 100 && d10[0] == 0);
  for (int n = 1; n <= 12; n++)
    assert_true(d1[n] == st[n - 1] && d10[n] == st[n - 1]);
  for (int n = 0; n <= 12; n++)
    assert_true(df[n] == (n < 5 ? -20 : fl[n - 5]));
  assert_close(half[3], 2.5, 1e-12); /* interpolated between TIME 2 and 3 */
  assert_close(st[12], 100 * pow(1.02, 12), 1e-9);
  tr_sim_free(s);
  model_free(m);
}

/* engine-1.11: INIT holds the initial value; PREVIOUS gives last step's value (its second
 * argument at the start) and may refer to its own variable. */
static void test_init_previous(void **state) {
  (void)state;
  static const vspec ip[] = {
      {TR_FV_STOCK, "s", "1", "+g", 0, NULL},
      {TR_FV_FLOW, "g", "s", NULL, 0, NULL},
      {TR_FV_AUX, "first", "INIT(s) * 10", NULL, 0, NULL},
      {TR_FV_AUX, "prev", "PREVIOUS(s, -1)", NULL, 0, NULL},
      {TR_FV_AUX, "count", "PREVIOUS(count, 0) + 1", NULL, 0, NULL},
  };
  tr_model *m = must_build(ip, 5, 0, 4, 1);
  assert_int_equal(m->prog.vclass[2], TR_VC_STATIC);
  tr_sim *s = must_run(m, NULL);
  const double *st = series(s, m, "s", 0), *first = series(s, m, "first", 0);
  const double *prev = series(s, m, "prev", 0), *count = series(s, m, "count", 0);
  for (int n = 0; n <= 4; n++) {
    assert_true(st[n] == pow(2, n));
    assert_true(first[n] == 10);
    assert_true(prev[n] == (n == 0 ? -1 : st[n - 1]));
    assert_true(count[n] == n + 1);
  }
  tr_sim_free(s);
  model_free(m);
}

/* engine-1.12: graphical functions: continuous clamps, extrapolate extends the end segments,
 * discrete steps; inline tables apply to the equation's value; LOOKUP calls a standalone one. */
static void test_lookups(void **state) {
  (void)state;
  static double xs[] = {0, 1, 2}, ys[] = {0, 10, 30};
  static const tr_gf cont = {TR_GF_CONTINUOUS, 3, xs, ys, NULL, {0, 0}};
  static const tr_gf extr = {TR_GF_EXTRAPOLATE, 3, xs, ys, NULL, {0, 0}};
  static const tr_gf disc = {TR_GF_DISCRETE, 3, xs, ys, "table", {0, 0}};
  double probe[] = {-1, 0, 0.5, 1, 1.5, 2, 3};
  double want_c[] = {0, 0, 5, 10, 20, 30, 30};
  double want_e[] = {-10, 0, 5, 10, 20, 30, 50};
  double want_d[] = {0, 0, 0, 10, 10, 30, 30};
  for (int i = 0; i < 7; i++) {
    assert_true(tr_vm_lookup(&cont, probe[i]) == want_c[i]);
    assert_true(tr_vm_lookup(&extr, probe[i]) == want_e[i]);
    assert_true(tr_vm_lookup(&disc, probe[i]) == want_d[i]);
  }
  assert_true(isnan(tr_vm_lookup(&cont, NAN)));
  static const vspec lk[] = {
      {TR_FV_AUX, "inline", "TIME / 2", NULL, 0, &cont},
      {TR_FV_GF, "table", NULL, NULL, 0, &disc},
      {TR_FV_AUX, "called", "LOOKUP(table, TIME)", NULL, 0, NULL},
  };
  tr_model *m = must_build(lk, 3, 0, 4, 0.5);
  tr_sim *s = must_run(m, NULL);
  const double *in = series(s, m, "inline", 0), *ca = series(s, m, "called", 0);
  for (int n = 0; n <= 8; n++) {
    assert_true(in[n] == tr_vm_lookup(&cont, n * 0.25));
    assert_true(ca[n] == tr_vm_lookup(&disc, n * 0.5));
  }
  assert_null(tr_sim_series(s, 1, 0)); /* the table itself has no value */
  tr_sim_free(s);
  model_free(m);
  static const vspec bad[] = {
      {TR_FV_GF, "table", NULL, NULL, 0, &disc},
      {TR_FV_AUX, "v", "table + 1", NULL, 0, NULL},
  };
  tr_error err;
  assert_int_equal(build(bad, 2, 0, 1, 1, &m, &err), TR_ERR_INVALID);
  assert_non_null(strstr(tr_error_text(&err), "test.xmile:2:5:"));
}

/* engine-1.13: operators and pure builtins, folded or not: -2^2 = -4, 2^3^2 = 512,
 * MOD with the divisor's sign and INT the floor (XMILE and Stella, unlike Vensim's
 * INTEGER and MODULO), SAFEDIV, division by zero is IEEE. */
static void test_arithmetic(void **state) {
  (void)state;
  static const vspec ar[] = {
      {TR_FV_AUX, "t", "TIME + 0", NULL, 0, NULL},
      {TR_FV_AUX, "neg", "-2^2", NULL, 0, NULL},
      {TR_FV_AUX, "pw", "2^3^2", NULL, 0, NULL},
      {TR_FV_AUX, "m1", "MOD(-7, 3) + 0 * t", NULL, 0, NULL},
      {TR_FV_AUX, "m2", "MOD(7, -3)", NULL, 0, NULL},
      {TR_FV_AUX, "i", "INT(-1.5 + 0 * t)", NULL, 0, NULL},
      {TR_FV_AUX, "sd", "SAFEDIV(1, t) + SAFEDIV(1, t, 7)", NULL, 0, NULL},
      {TR_FV_AUX, "dz", "1 / t", NULL, 0, NULL},
      {TR_FV_AUX, "logic", "IF t > 0 AND NOT (t = 2) THEN 1 ELSE 0", NULL, 0, NULL},
      {TR_FV_AUX, "mm", "MAX(t, 1, 0.5) + MIN(t, 3)", NULL, 0, NULL},
      {TR_FV_AUX, "agg", "v_sum(1, 2, t) + MEAN(2, 4) + v_size(1, 2, 3) + v_stddev(1, 3)", NULL, 0,
       NULL},
      {TR_FV_AUX, "tm", "DT + STARTTIME + STOPTIME", NULL, 0, NULL},
  };
  tr_model *m = must_build(ar, 12, 0, 3, 1);
  assert_int_equal(m->prog.vclass[1], TR_VC_CONST);
  assert_int_equal(m->prog.vclass[11], TR_VC_STATIC);
  tr_sim *s = must_run(m, NULL);
  assert_true(series(s, m, "neg", 0)[0] == -4);
  assert_true(series(s, m, "pw", 0)[0] == 512);
  assert_true(series(s, m, "m1", 0)[2] == 2);
  assert_true(series(s, m, "m2", 0)[2] == -2);
  assert_true(series(s, m, "i", 0)[2] == -2);
  const double *sd = series(s, m, "sd", 0), *dz = series(s, m, "dz", 0);
  assert_true(sd[0] == 7 && sd[2] == 1);
  assert_true(isinf(dz[0]) && dz[2] == 0.5);
  const double *lg = series(s, m, "logic", 0);
  assert_true(lg[0] == 0 && lg[1] == 1 && lg[2] == 0 && lg[3] == 1);
  const double *mm = series(s, m, "mm", 0);
  assert_true(mm[0] == 1 && mm[2] == 4 && mm[3] == 6);
  assert_true(series(s, m, "agg", 0)[2] == 5 + 3 + 3 + 1);
  assert_true(series(s, m, "tm", 0)[1] == 4);
  assert_non_null(tr_sim_warning(s)); /* 1/0 at time 0 */
  tr_sim_free(s);
  model_free(m);
}

/* engine-1.14: non-negative stocks are clamped at 0, uniflows at 0 (conformance case
 * non_negative_stocks: TestStock3). */
static void test_non_negative(void **state) {
  (void)state;
  static const vspec nn[] = {
      {TR_FV_FLOW, "if_else", "IF TIME > 10 THEN TIME ELSE -TIME", NULL, 0, NULL},
      {TR_FV_STOCK, "s2", "10", "+if_else", 0, NULL},
      {TR_FV_STOCK, "s3", "10", "+if_else", 1, NULL},
      {TR_FV_FLOW, "uni", "-TIME", NULL, 1, NULL},
  };
  tr_model *m = must_build(nn, 4, 0, 15, 1.5);
  tr_sim *s = must_run(m, NULL);
  const double *s2 = series(s, m, "s2", 0), *s3 = series(s, m, "s3", 0);
  static const double w2[] = {10, 10, 7.75, 3.25, -3.5, -12.5, -23.75, -37.25, -21.5, -3.5, 16.75};
  static const double w3[] = {10, 10, 7.75, 3.25, 0, 0, 0, 0, 15.75, 33.75, 54};
  for (int n = 0; n <= 10; n++) {
    assert_close(s2[n], w2[n], 1e-12);
    assert_close(s3[n], w3[n], 1e-12);
    assert_true(series(s, m, "uni", 0)[n] == 0);
  }
  tr_sim_free(s);
  model_free(m);
}

/* engine-1.16: time shapes (scenario shocks) on constants: a step doubles k from t = 1, a
 * ramp adds to it; variables computed from the constant follow, only in the shaped lane. */
static void test_shapes(void **state) {
  (void)state;
  static const vspec sh[] = {
      {TR_FV_AUX, "k", "0.1", NULL, 0, NULL},
      {TR_FV_AUX, "twice", "k * 2", NULL, 0, NULL},
      {TR_FV_AUX, "price", "10", NULL, 0, NULL},
  };
  tr_model *m = must_build(sh, 3, 0, 3, 0.5);
  assert_int_equal(m->prog.vclass[1], TR_VC_STATIC);
  tr_sim_opts o = tr_model_default_opts(m);
  o.lanes = 2;
  tr_error err;
  tr_sim *s = NULL;
  assert_int_equal(tr_sim_new(m, &o, &s, &err), TR_OK);
  double st[] = {1, 1}, sv[] = {1, 2}, rt[] = {1, 2}, rv[] = {0, 5};
  tr_sim_shape step = {0, 2, st, sv}, ramp = {1, 2, rt, rv};
  assert_int_equal(tr_sim_set_shape(s, 0, 1, &step), TR_OK);
  assert_int_equal(tr_sim_set_shape(s, 2, -1, &ramp), TR_OK);
  assert_int_equal(tr_sim_set_shape(s, 1, -1, &step), TR_ERR_INVALID); /* not a constant */
  double bad_t[] = {2, 1};
  tr_sim_shape bad = {0, 2, bad_t, sv};
  assert_int_equal(tr_sim_set_shape(s, 0, -1, &bad), TR_ERR_INVALID);
  assert_int_equal(tr_sim_run(s), TR_OK);
  const double *k0 = series(s, m, "k", 0), *k1 = series(s, m, "k", 1);
  const double *tw1 = series(s, m, "twice", 1), *pr = series(s, m, "price", 0);
  static const double want_k1[] = {0.1, 0.1, 0.2, 0.2, 0.2, 0.2, 0.2};
  static const double want_pr[] = {10, 10, 10, 12.5, 15, 15, 15};
  for (int n = 0; n <= 6; n++) {
    assert_true(k0[n] == 0.1);
    assert_true(k1[n] == want_k1[n]);
    assert_true(tw1[n] == want_k1[n] * 2);
    assert_true(pr[n] == want_pr[n]);
  }
  tr_sim_clear_shapes(s);
  assert_int_equal(tr_sim_run(s), TR_OK);
  assert_true(series(s, m, "k", 1)[6] == 0.1);
  tr_sim_free(s);
  model_free(m);
}

/* engine-1.15: every allocation failure on the way (build, compile, sim, run) is
 * TR_ERR_NOMEM and leaks nothing (ASan checks the leaks). */
static void test_allocation_failures(void **state) {
  (void)state;
  int saw_ok = 0;
  for (long n = 1; n < 400 && !saw_ok; n++) {
    tr_error err;
    tr_error_clear(&err);
    tr_model *m = NULL;
    tr_sim *s = NULL;
    tr_alloc_fail_after(n, 1);
    int rc = build(sir, 10, 0, 5, 0.25, &m, &err);
    if (rc == TR_OK) rc = tr_sim_new(m, NULL, &s, &err);
    if (rc == TR_OK) rc = tr_sim_run(s);
    tr_alloc_fail_after(0, 0);
    if (rc == TR_OK) {
      saw_ok = 1;
      assert_int_equal(tr_sim_saved_count(s), 21);
    } else {
      assert_int_equal(rc, TR_ERR_NOMEM);
    }
    tr_sim_free(s);
    model_free(m);
  }
  assert_true(saw_ok);
  /* a second run reuses the storage: no allocation at all */
  tr_model *m = must_build(sir, 10, 0, 5, 0.25);
  tr_sim *s = must_run(m, NULL);
  tr_alloc_fail_after(1, 1);
  assert_int_equal(tr_sim_set_const(s, "duration", -1, 4), TR_OK);
  assert_int_equal(tr_sim_run(s), TR_OK);
  tr_alloc_fail_after(0, 0);
  tr_sim_free(s);
  model_free(m);
  tr_sim_free(NULL);
}

static const char small_xmile[] =
    "<xmile version=\"1.0\"><header><name>small</name></header>"
    "<sim_specs method=\"RK4\"><start>0</start><stop>4</stop><dt>0.5</dt></sim_specs>"
    "<model><variables>"
    "<stock name=\"Cash\"><eqn>100</eqn><inflow>income</inflow><outflow>spend</outflow>"
    "<non_negative/></stock>"
    "<flow name=\"income\"><eqn>price * DELAY(demand, 1)</eqn></flow>"
    "<flow name=\"spend\"><eqn>Cash * rate</eqn></flow>"
    "<aux name=\"demand\"><eqn>TIME</eqn><gf><xscale min=\"0\" max=\"4\"/>"
    "<ypts>1,2,4,8,16</ypts></gf></aux>"
    "<aux name=\"price\"><eqn>2</eqn></aux>"
    "<aux name=\"rate\"><eqn>0.1</eqn></aux>"
    "<aux name=\"last\"><eqn>PREVIOUS(Cash, 0)</eqn></aux>"
    "</variables></model></xmile>";

/* engine-1.17: the whole pipeline from a buffer (reader, flattener, compiler, run) under
 * allocation failure N = 1, 2, ...: TR_ERR_NOMEM each time until it succeeds, no leaks. */
static void test_load_allocation_failures(void **state) {
  (void)state;
  tr_error err;
  tr_model *ref = NULL;
  assert_int_equal(
      tr_model_load_buffer(small_xmile, strlen(small_xmile), "small.xmile", &ref, &err), TR_OK);
  tr_sim *rs = must_run(ref, NULL);
  double want = series(rs, ref, "Cash", 0)[8];
  assert_true(series(rs, ref, "demand", 0)[3] == 2.0 + 0.5 * 2); /* inline gf at TIME 1.5 */
  tr_sim_free(rs);
  int saw_ok = 0;
  for (long n = 1; n < 20000 && !saw_ok; n++) {
    tr_model *m = NULL;
    tr_sim *s = NULL;
    tr_error_clear(&err);
    tr_alloc_fail_after(n, 1);
    int rc = tr_model_load_buffer(small_xmile, strlen(small_xmile), "small.xmile", &m, &err);
    if (rc == TR_OK) rc = tr_sim_new(m, NULL, &s, &err);
    if (rc == TR_OK) rc = tr_sim_run(s);
    tr_alloc_fail_after(0, 0);
    if (rc == TR_OK) {
      saw_ok = 1;
      assert_true(series(s, m, "Cash", 0)[8] == want);
    } else {
      assert_int_equal(rc, TR_ERR_NOMEM);
    }
    tr_sim_free(s);
    tr_model_free(m);
  }
  assert_true(saw_ok);
  tr_model_free(ref);
  tr_model_free(NULL);
}

/* engine-1.18: model metadata through the public API. */
static void test_model_info(void **state) {
  (void)state;
  tr_error err;
  tr_model *m = NULL;
  assert_int_equal(tr_model_load_buffer(small_xmile, strlen(small_xmile), "small.xmile", &m, &err),
                   TR_OK);
  assert_string_equal(tr_model_name(m), "small");
  assert_string_equal(tr_model_file(m), "small.xmile");
  tr_sim_opts o = tr_model_default_opts(m);
  assert_int_equal(o.method, TR_INTEG_RK4);
  assert_true(o.dt == 0.5 && o.stop == 4);
  long c = tr_model_find(m, "cash");
  assert_true(c >= 0);
  tr_var_info vi;
  tr_model_var(m, (size_t)c, &vi);
  assert_int_equal(vi.type, TR_VAR_STOCK);
  assert_string_equal(vi.name, "Cash");
  assert_false(vi.is_constant);
  tr_model_var(m, (size_t)tr_model_find(m, "price"), &vi);
  assert_true(vi.is_constant && vi.value == 2);
  assert_string_equal(tr_model_suggest(m, "prce"), "price");
  assert_null(tr_model_suggest(m, "completely different"));
  tr_model_free(m);
  assert_int_equal(tr_model_load_buffer("<xmile>", 7, "bad.xmile", &m, &err), TR_ERR_PARSE);
  assert_null(m);
  assert_non_null(strstr(tr_error_text(&err), "bad.xmile:1:"));
}

/* engine-1.20: the random builtins' first two moments over 8192 lanes (one draw each), within
 * five standard errors of the analytic values; ROUND and SIGN. */
static void test_distributions(void **state) {
  (void)state;
  static const vspec rv[] = {
      {TR_FV_AUX, "u", "UNIFORM(2, 4)", NULL, 0, NULL},
      {TR_FV_AUX, "n", "NORMAL(10, 2)", NULL, 0, NULL},
      {TR_FV_AUX, "nt", "NORMAL(0, 1, 5, -1, 1)", NULL, 0, NULL},
      {TR_FV_AUX, "ln", "LOGNORMAL(5, 1)", NULL, 0, NULL},
      {TR_FV_AUX, "e", "EXPRND(3)", NULL, 0, NULL},
      {TR_FV_AUX, "ps", "POISSON(4)", NULL, 0, NULL},
      {TR_FV_AUX, "pb", "POISSON(100)", NULL, 0, NULL},
      {TR_FV_AUX, "tr", "TRIANGULAR(0, 1, 4)", NULL, 0, NULL},
      {TR_FV_AUX, "misc", "ROUND(2.5) + 10 * ROUND(-2.5) + 100 * SIGN(-3) + 1000 * SIGN(0)", NULL,
       0, NULL},
  };
  /* name, mean, variance */
  static const struct {
    const char *name;
    double mean, var;
  } want[] = {{"u", 3, 4.0 / 12},
              {"n", 10, 4},
              {"ln", 5, 1},
              {"e", 3, 9},
              {"ps", 4, 4},
              {"pb", 100, 100},
              {"tr", 5.0 / 3, (0 + 1 + 16 - 0 - 0 - 4) / 18.0}};
  tr_model *m = must_build(rv, 9, 0, 0, 1);
  tr_sim_opts o = tr_model_default_opts(m);
  o.lanes = 8192;
  o.seed = 2024;
  tr_sim *s = must_run(m, &o);
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    double sum = 0, sq = 0;
    for (size_t l = 0; l < o.lanes; l++) {
      double x = series(s, m, want[k].name, l)[0];
      sum += x;
      sq += x * x;
    }
    double mean = sum / (double)o.lanes, var = sq / (double)o.lanes - mean * mean;
    double se = sqrt(want[k].var / (double)o.lanes);
    if (fabs(mean - want[k].mean) > 5 * se || fabs(var - want[k].var) > 0.1 * want[k].var)
      fprintf(stderr, "%s: mean %g var %g\n", want[k].name, mean, var);
    assert_true(fabs(mean - want[k].mean) <= 5 * se);
    assert_true(fabs(var - want[k].var) <= 0.1 * want[k].var);
  }
  for (size_t l = 0; l < o.lanes; l++) {
    double x = series(s, m, "nt", l)[0];
    assert_true(x >= -1 && x <= 1);
    double p = series(s, m, "ps", l)[0];
    assert_true(p >= 0 && p == floor(p));
  }
  assert_true(series(s, m, "misc", 0)[0] == 3 - 30 - 100 + 0);
  tr_sim_free(s);
  model_free(m);
}

typedef struct thread_job {
  const tr_model *m;
  uint64_t first_run;
  double final[4];
  int rc;
} thread_job;

static void *thread_run(void *arg) {
  thread_job *j = arg;
  tr_sim_opts o = tr_model_default_opts(j->m);
  o.lanes = 4;
  o.first_run = j->first_run;
  o.seed = 99;
  tr_error err;
  tr_sim *s = NULL;
  j->rc = tr_sim_new(j->m, &o, &s, &err);
  for (int rep = 0; rep < 20 && j->rc == TR_OK; rep++)
    j->rc = tr_sim_run(s);
  if (j->rc == TR_OK) {
    long v = tr_model_find(j->m, "infectious");
    size_t n = tr_sim_saved_count(s);
    for (size_t l = 0; l < 4; l++)
      j->final[l] = tr_sim_series(s, (size_t)v, l)[n - 1];
  }
  tr_sim_free(s);
  return NULL;
}

/* engine-1.19: one compiled model shared read-only by threads, each with its own sim, gives
 * the same numbers as a sequential run of the same run indices. */
static void test_threads_share_model(void **state) {
  (void)state;
  tr_model *m = must_build(sir, 10, 0, 20, 0.125);
  thread_job jobs[4], seq[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    memset(&jobs[i], 0, sizeof jobs[i]);
    jobs[i].m = m;
    jobs[i].first_run = (uint64_t)(4 * i);
    seq[i] = jobs[i];
    assert_int_equal(pthread_create(&th[i], NULL, thread_run, &jobs[i]), 0);
  }
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_join(th[i], NULL), 0);
  for (int i = 0; i < 4; i++) {
    thread_run(&seq[i]);
    assert_int_equal(jobs[i].rc, TR_OK);
    assert_memory_equal(jobs[i].final, seq[i].final, sizeof jobs[i].final);
  }
  assert_true(jobs[0].final[0] != jobs[1].final[0]); /* different runs, different noise */
  model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_euler_equals_recurrence),
      cmocka_unit_test(test_integrator_orders),
      cmocka_unit_test(test_save_points),
      cmocka_unit_test(test_lanes_equal_single_runs),
      cmocka_unit_test(test_output_buffer),
      cmocka_unit_test(test_constant_overrides),
      cmocka_unit_test(test_cycle_names_members),
      cmocka_unit_test(test_chained_initialisation),
      cmocka_unit_test(test_nan_detection),
      cmocka_unit_test(test_pulse_step_ramp),
      cmocka_unit_test(test_delay),
      cmocka_unit_test(test_init_previous),
      cmocka_unit_test(test_lookups),
      cmocka_unit_test(test_arithmetic),
      cmocka_unit_test(test_non_negative),
      cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_allocation_failures),
      cmocka_unit_test(test_load_allocation_failures),
      cmocka_unit_test(test_model_info),
      cmocka_unit_test(test_threads_share_model),
      cmocka_unit_test(test_distributions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
