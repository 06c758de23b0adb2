/* Unit tests: the flattener (engine/flatten*.c) — name resolution, modules, arrays,
 * expansions of delays and smooths into hidden stocks, macros, errors with their positions,
 * allocation failure. Models are XMILE text read by the real reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/flat.h"
#include "expr/builtins.h"
#include "tightrope/base.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD                                                                                       \
  "<?xml version=\"1.0\"?>\n<xmile version=\"1.0\"><header><name>t</name></header>\n"              \
  "<sim_specs><start>0</start><stop>10</stop><dt>0.5</dt></sim_specs>\n"
#define MODEL(vars) HEAD "<model><variables>\n" vars "</variables></model>\n</xmile>\n"
#define DIMS(d, vars)                                                                              \
  HEAD "<dimensions>" d "</dimensions>\n<model><variables>\n" vars                                 \
       "</variables></model>\n</xmile>\n"

typedef struct fx {
  tr_xmile *x;
  tr_arena a;
  tr_flat f;
  tr_error e;
  int rc;
} fx;

static int load(fx *t, const char *xml) {
  memset(t, 0, sizeof *t);
  tr_arena_init(&t->a);
  tr_error_clear(&t->e);
  t->rc = tr_xmile_read_buffer(xml, strlen(xml), "m.xmile", &t->x, &t->e);
  if (t->rc != TR_OK) {
    print_message("reader: %s\n", tr_error_text(&t->e));
    return t->rc;
  }
  t->rc = tr_flatten(t->x, &t->a, &t->f, &t->e);
  if (t->rc != TR_OK) print_message("flatten: %s\n", tr_error_text(&t->e));
  return t->rc;
}

static void done(fx *t) {
  tr_arena_release(&t->a);
  tr_xmile_free(t->x);
}

static const tr_fvar *var(const fx *t, const char *ident) {
  int i = tr_flat_find(&t->f, ident);
  if (i < 0) print_message("no variable '%s'\n", ident);
  assert_true(i >= 0);
  return &t->f.vars[i];
}

/* The variable's equation in the parser's canonical printed form. */
static void check_eqn(const fx *t, const char *ident, const char *want) {
  const tr_fvar *v = var(t, ident);
  assert_non_null(v->eqn);
  char *s = tr_expr_to_string(v->eqn);
  assert_non_null(s);
  if (strcmp(s, want) != 0) print_message("%s: got %s, wanted %s\n", ident, s, want);
  assert_string_equal(s, want);
  tr_free(s);
}

/* Every NAME in the tree is resolved to the variable it names. */
static void check_resolved(const tr_flat *f, const tr_ast *n) {
  if (!n) return;
  assert_int_not_equal(n->kind, TR_AST_INDEX);
  assert_int_not_equal(n->kind, TR_AST_WILDCARD);
  if (n->kind == TR_AST_NAME) {
    assert_true(n->var >= 0 && (size_t)n->var < f->n_vars);
    assert_string_equal(n->name, f->vars[n->var].ident);
  }
  for (int i = 0; i < n->nargs; i++)
    check_resolved(f, n->args[i]);
}

static void check_all_resolved(const tr_flat *f) {
  for (size_t i = 0; i < f->n_vars; i++) {
    if (f->vars[i].kind == TR_FV_GF) {
      assert_null(f->vars[i].eqn);
      assert_non_null(f->vars[i].gf);
      continue;
    }
    assert_non_null(f->vars[i].eqn);
    check_resolved(f, f->vars[i].eqn);
    for (size_t k = 0; k < f->vars[i].n_inflows; k++)
      assert_true(f->vars[i].inflows[k] >= 0 && (size_t)f->vars[i].inflows[k] < f->n_vars);
    for (size_t k = 0; k < f->vars[i].n_outflows; k++)
      assert_true(f->vars[i].outflows[k] >= 0 && (size_t)f->vars[i].outflows[k] < f->n_vars);
  }
}

static void check_error(const char *xml, int code, const char *text) {
  fx t;
  int rc = load(&t, xml);
  if (rc != code || !strstr(tr_error_text(&t.e), text))
    print_message("got %s: %s\n", tr_status_name(rc), tr_error_text(&t.e));
  assert_int_equal(rc, code);
  assert_non_null(strstr(tr_error_text(&t.e), text));
  done(&t);
}

static size_t count_hidden(const tr_flat *f, tr_fvar_kind kind) {
  size_t n = 0;
  for (size_t i = 0; i < f->n_vars; i++)
    n += f->vars[i].hidden && f->vars[i].kind == kind;
  return n;
}

/* ---- milestone 1: scalar models ----------------------------------------------------------- */

static const char *teacup =
    MODEL("<flow name=\"Heat Loss to Room\"><eqn>(\"Teacup Temperature\"-\"Room Temperature\")"
          "/\"Characteristic Time\"</eqn></flow>\n"
          "<aux name=\"Room Temperature\"><eqn>70</eqn><units>F</units></aux>\n"
          "<stock name=\"Teacup Temperature\"><outflow>\"Heat Loss to Room\"</outflow>"
          "<eqn>180</eqn></stock>\n"
          "<aux name=\"Characteristic Time\"><eqn>10</eqn></aux>\n");

static void test_teacup(void **state) {
  (void)state;
  fx t;
  assert_int_equal(load(&t, teacup), TR_OK);
  assert_int_equal(t.f.n_vars, 4);
  assert_string_equal(t.f.file, "m.xmile");
  assert_true(t.f.specs.dt == 0.5);
  /* file order, names as written, canonical idents */
  assert_string_equal(t.f.vars[0].name, "Heat Loss to Room");
  assert_string_equal(t.f.vars[0].ident, "heat_loss_to_room");
  assert_int_equal(t.f.vars[0].kind, TR_FV_FLOW);
  assert_int_equal(t.f.vars[2].kind, TR_FV_STOCK);
  assert_string_equal(t.f.vars[1].units, "F");
  check_eqn(&t, "heat_loss_to_room",
            "((teacup_temperature - room_temperature) / characteristic_time)");
  const tr_fvar *cup = var(&t, "teacup_temperature");
  assert_int_equal(cup->n_inflows, 0);
  assert_int_equal(cup->n_outflows, 1);
  assert_int_equal(cup->outflows[0], 0);
  assert_int_equal(t.f.vars[0].eqn->args[0]->args[0]->var, 2);
  assert_int_equal(t.f.vars[0].eqn->args[0]->args[1]->var, 1);
  check_eqn(&t, "teacup_temperature", "180");
  assert_int_equal(cup->hidden, 0);
  check_all_resolved(&t.f);
  assert_int_equal(tr_flat_find(&t.f, "nope"), -1);
  done(&t);
}

static void test_case_and_quotes(void **state) {
  (void)state;
  fx t;
  assert_int_equal(load(&t, MODEL("<aux name=\"Net Revenue\"><eqn>10</eqn></aux>\n"
                                  "<aux name=\"b\"><eqn>NET_REVENUE * \"net  revenue\" + "
                                  "net_Revenue + TIME + dt</eqn></aux>\n"
                                  "<aux name=\"time\"><eqn>3</eqn></aux>\n"
                                  "<aux name=\"c\"><eqn>Time</eqn></aux>\n")),
                   TR_OK);
  /* a variable named like a builtin (time) takes precedence; DT stays the builtin */
  check_eqn(&t, "b", "((((net_revenue * net_revenue) + net_revenue) + time) + DT())");
  done(&t);
}

static void test_builtin_time(void **state) {
  (void)state;
  fx t;
  assert_int_equal(load(&t, MODEL("<aux name=\"c\"><eqn>Time + pi</eqn></aux>\n")), TR_OK);
  assert_int_equal(t.f.vars[0].eqn->args[0]->kind, TR_AST_CALL);
  assert_int_equal(t.f.vars[0].eqn->args[0]->builtin, TR_FN_TIME);
  assert_int_equal(t.f.vars[0].eqn->args[1]->builtin, TR_FN_PI);
  done(&t);
}

static void test_graphical_functions(void **state) {
  (void)state;
  fx t;
  assert_int_equal(
      load(&t, MODEL("<gf name=\"table\"><xscale min=\"0\" max=\"2\"/><ypts>0,5,10</ypts></gf>\n"
                     "<aux name=\"a\"><eqn>table(TIME) + LOOKUP(table, 2)</eqn></aux>\n"
                     "<aux name=\"inline\"><eqn>a</eqn><gf><xscale min=\"0\" max=\"1\"/>"
                     "<ypts>1,2</ypts></gf></aux>\n"
                     "<aux name=\"b\"><eqn>inline(0.5)</eqn></aux>\n")),
      TR_OK);
  const tr_fvar *g = var(&t, "table");
  assert_int_equal(g->kind, TR_FV_GF);
  assert_null(g->eqn);
  assert_int_equal(g->gf->n, 3);
  const tr_ast *e = var(&t, "a")->eqn;
  assert_int_equal(e->args[0]->kind, TR_AST_CALL);
  assert_int_equal(e->args[0]->builtin, TR_FN_LOOKUP);
  assert_int_equal(e->args[0]->nargs, 2);
  assert_int_equal(e->args[0]->args[0]->var, 0);
  assert_int_equal(e->args[0]->args[1]->builtin, TR_FN_TIME);
  assert_int_equal(e->args[1]->builtin, TR_FN_LOOKUP);
  assert_int_equal(e->args[1]->args[0]->var, 0);
  /* an aux with an inline gf: its value is gf(eqn); called by name it is a LOOKUP too */
  const tr_fvar *in = var(&t, "inline");
  assert_non_null(in->gf);
  check_eqn(&t, "inline", "a");
  const tr_ast *b = var(&t, "b")->eqn;
  assert_int_equal(b->builtin, TR_FN_LOOKUP);
  assert_int_equal(b->args[0]->var, tr_flat_find(&t.f, "inline"));
  check_all_resolved(&t.f);
  done(&t);
  check_error(MODEL("<gf name=\"table\"><xscale min=\"0\" max=\"2\"/><ypts>0,5,10</ypts></gf>\n"
                    "<aux name=\"a\"><eqn>table + 1</eqn></aux>\n"),
              TR_ERR_INVALID, "graphical function 'table' used as a value");
  check_error(MODEL("<gf name=\"table\"><xscale min=\"0\" max=\"2\"/><ypts>0,5,10</ypts></gf>\n"
                    "<aux name=\"a\"><eqn>table(1, 2)</eqn></aux>\n"),
              TR_ERR_ARITY, "takes 1 argument");
  check_error(MODEL("<aux name=\"x\"><eqn>1</eqn></aux>\n"
                    "<aux name=\"a\"><eqn>x(1)</eqn></aux>\n"),
              TR_ERR_INVALID, "'x' is a variable, not a function");
}

static void test_unknown_variable(void **state) {
  (void)state;
  /* lines 1-4 are the header and <model>; the name starts at column 24 of line 6 */
  check_error(MODEL("<aux name=\"Revenue\"><eqn>1</eqn></aux>\n"
                    "<aux name=\"b\"><eqn>2 * Revnue</eqn></aux>\n"),
              TR_ERR_UNKNOWN_NAME,
              "m.xmile:6:24: unknown variable 'Revnue' (did you mean 'Revenue'?)");
  check_error(MODEL("<aux name=\"b\"><eqn>\n  2 *\n    zzzzzzzz</eqn></aux>\n"),
              TR_ERR_UNKNOWN_NAME, "m.xmile:7:5: unknown variable 'zzzzzzzz'");
  check_error(MODEL("<aux name=\"b\"><eqn>smht1(1, 2)</eqn></aux>\n"), TR_ERR_UNKNOWN_NAME,
              "m.xmile:5:20: unknown function 'smht1' (did you mean 'SMTH1'?)");
  check_error(MODEL("<aux name=\"b\"><eqn>1 +</eqn></aux>\n"), TR_ERR_PARSE, "m.xmile:5:");
  check_error(MODEL("<aux name=\"b\"></aux>\n"), TR_ERR_INVALID, "'b' has no equation");
  check_error(MODEL("<aux name=\"b\"><eqn>ABS(1, 2)</eqn></aux>\n"), TR_ERR_ARITY, "ABS");
}

/* ---- modules ------------------------------------------------------------------------------ */

#define HL "../shared/conformance/sdxorg-test-models/samples/bpowers-hares_and_lynxes_modules/"

static void test_modules_hares_lynxes(void **state) {
  (void)state;
  fx t;
  memset(&t, 0, sizeof t);
  tr_arena_init(&t.a);
  assert_int_equal(tr_xmile_read_file(HL "model.xmile", &t.x, &t.e), TR_OK);
  assert_int_equal(tr_flatten(t.x, &t.a, &t.f, &t.e), TR_OK);
  /* 8 hares + 8 lynxes variables inlined in place, then the root's two auxes */
  assert_int_equal(t.f.n_vars, 18);
  assert_string_equal(t.f.vars[0].name, "hares.hares");
  assert_string_equal(t.f.vars[0].ident, "hares.hares");
  assert_string_equal(t.f.vars[8].ident, "lynxes.lynxes");
  assert_string_equal(t.f.vars[16].ident, "area");
  check_eqn(&t, "hares.births", "(hares.hares * hares.birth_fraction)");
  check_eqn(&t, "hares.deaths", "(hares.lynxes * hares.hares_killed_per_lynx)");
  /* connected inputs take the outer value: <connect to="area" from=".area"> */
  check_eqn(&t, "hares.area", "area");
  check_eqn(&t, "lynxes.hare_density", "hares.hare_density");
  check_eqn(&t, "lynxes.size_of_one_time_lynx_harvest", "size_of_one_time_lynx_harvest");
  /* a connected stock becomes an aux following the other module's stock */
  const tr_fvar *l = var(&t, "hares.lynxes");
  assert_int_equal(l->kind, TR_FV_AUX);
  check_eqn(&t, "hares.lynxes", "lynxes.lynxes");
  const tr_fvar *ls = var(&t, "lynxes.lynxes");
  assert_int_equal(ls->kind, TR_FV_STOCK);
  assert_true(ls->non_negative);
  assert_int_equal(ls->n_inflows, 1);
  assert_int_equal(ls->n_outflows, 2);
  assert_string_equal(t.f.vars[ls->outflows[1]].ident, "lynxes.harvest");
  assert_non_null(var(&t, "lynxes.death_fraction")->gf);
  assert_true(var(&t, "hares.births")->non_negative);
  check_all_resolved(&t.f);
  done(&t);
}

static const char *nested = HEAD "<model><variables>\n"
                                 "<module name=\"outer\"><connect to=\"k\" from=\"k\"/></module>\n"
                                 "<aux name=\"k\"><eqn>2</eqn></aux>\n"
                                 "<aux name=\"use\"><eqn>outer.inner.x + outer.y</eqn></aux>\n"
                                 "</variables></model>\n"
                                 "<model name=\"outer\"><variables>\n"
                                 "<module name=\"inner\"><connect to=\"p\" from=\"k\"/></module>\n"
                                 "<aux name=\"k\" access=\"input\"><eqn>0</eqn></aux>\n"
                                 "<aux name=\"y\"><eqn>inner.x * 10</eqn></aux>\n"
                                 "</variables></model>\n"
                                 "<model name=\"inner\"><variables>\n"
                                 "<aux name=\"p\" access=\"input\"><eqn>1</eqn></aux>\n"
                                 "<aux name=\"x\"><eqn>p + 1</eqn></aux>\n"
                                 "</variables></model>\n</xmile>\n";

static void test_modules_nested(void **state) {
  (void)state;
  fx t;
  assert_int_equal(load(&t, nested), TR_OK);
  assert_int_equal(t.f.n_vars, 6);
  assert_string_equal(t.f.vars[0].ident, "outer.inner.p");
  check_eqn(&t, "outer.inner.p", "outer.k");
  check_eqn(&t, "outer.inner.x", "(outer.inner.p + 1)");
  check_eqn(&t, "outer.k", "k");
  check_eqn(&t, "outer.y", "(outer.inner.x * 10)");
  check_eqn(&t, "use", "(outer.inner.x + outer.y)");
  assert_string_equal(var(&t, "outer.inner.x")->name, "outer.inner.x");
  check_all_resolved(&t.f);
  done(&t);
}

static void test_module_errors(void **state) {
  (void)state;
  /* a model that instantiates itself, directly or through another */
  check_error(HEAD "<model><variables><module name=\"a\"/></variables></model>\n"
                   "<model name=\"a\"><variables><module name=\"b\"/></variables></model>\n"
                   "<model name=\"b\"><variables>\n<module name=\"a\"/></variables></model>\n"
                   "</xmile>\n",
              TR_ERR_INVALID, "m.xmile:7:1: module 'a' instantiates model 'a' inside itself");
  check_error(HEAD "<model><variables><module name=\"a\"><connect to=\"x\" from=\"k\"/></module>"
                   "<aux name=\"k\"><eqn>1</eqn></aux></variables></model>\n"
                   "<model name=\"a\"><variables><aux name=\"y\"><eqn>1</eqn></aux></variables>"
                   "</model></xmile>\n",
              TR_ERR_UNKNOWN_NAME, "model 'a' has no variable 'x'");
  check_error(HEAD "<model><variables><module name=\"a\"><connect to=\"y\" from=\"kk\"/></module>"
                   "<aux name=\"k\"><eqn>1</eqn></aux></variables></model>\n"
                   "<model name=\"a\"><variables><aux name=\"y\"><eqn>1</eqn></aux></variables>"
                   "</model></xmile>\n",
              TR_ERR_UNKNOWN_NAME, "m.xmile:4:36: unknown variable 'kk' (did you mean 'k'?)");
  /* names inside a module resolve in the module only */
  check_error(HEAD "<model><variables><module name=\"a\"/>"
                   "<aux name=\"k\"><eqn>1</eqn></aux></variables></model>\n"
                   "<model name=\"a\"><variables><aux name=\"y\"><eqn>k</eqn></aux></variables>"
                   "</model></xmile>\n",
              TR_ERR_UNKNOWN_NAME, "unknown variable 'k'");
}

/* ---- arrays ------------------------------------------------------------------------------- */

#define CITY "<dim name=\"City\"><elem name=\"Boston\"/><elem name=\"New York\"/></dim>"
#define NUM3 "<dim name=\"n\" size=\"3\"/>"

static void test_arrays_apply_to_all(void **state) {
  (void)state;
  fx t;
  assert_int_equal(
      load(&t, DIMS(CITY NUM3,
                    "<aux name=\"pop\"><dimensions><dim name=\"City\"/></dimensions>"
                    "<eqn>100</eqn></aux>\n"
                    "<aux name=\"m\"><dimensions><dim name=\"n\"/><dim name=\"city\"/></dimensions>"
                    "<eqn>pop[City] * n + pop</eqn></aux>\n"
                    "<aux name=\"pick\"><eqn>m[2, new_york] + m[n.3, City.Boston] + "
                    "pop[boston]</eqn></aux>\n"
                    "<aux name=\"total\"><eqn>SUM(m[*, *])</eqn></aux>\n"
                    "<aux name=\"col\"><dimensions><dim name=\"city\"/></dimensions>"
                    "<eqn>SUM(m[*, city]) + MAX(pop[*]) + SIZE(m) + MEAN(pop)</eqn></aux>\n"
                    "<aux name=\"sd\"><eqn>STDDEV(pop[*]) + MIN(pop[*], 7)</eqn></aux>\n")),
      TR_OK);
  assert_int_equal(t.f.n_vars, 2 + 6 + 1 + 1 + 2 + 1);
  /* output names use element names as written, idents the canonical ones */
  assert_string_equal(t.f.vars[1].name, "pop[New York]");
  assert_string_equal(t.f.vars[1].ident, "pop[new_york]");
  assert_string_equal(t.f.vars[3].name, "m[1,New York]");
  assert_string_equal(t.f.vars[3].ident, "m[1,new_york]");
  /* a dimension name is the current element; a bare array name follows the same element */
  check_eqn(&t, "m[1,new_york]", "((\"pop[new_york]\" * 1) + \"pop[new_york]\")");
  check_eqn(&t, "m[3,boston]", "((\"pop[boston]\" * 3) + \"pop[boston]\")");
  check_eqn(&t, "pick", "((\"m[2,new_york]\" + \"m[3,boston]\") + \"pop[boston]\")");
  check_eqn(&t, "total",
            "SUM(\"m[1,boston]\", \"m[1,new_york]\", \"m[2,boston]\", "
            "\"m[2,new_york]\", \"m[3,boston]\", \"m[3,new_york]\")");
  check_eqn(&t, "col[boston]",
            "(((SUM(\"m[1,boston]\", \"m[2,boston]\", \"m[3,boston]\") + "
            "MAX(\"pop[boston]\", \"pop[new_york]\")) + 6) + "
            "MEAN(\"pop[boston]\", \"pop[new_york]\"))");
  check_eqn(&t, "sd",
            "(STDDEV(\"pop[boston]\", \"pop[new_york]\") + "
            "MIN(\"pop[boston]\", \"pop[new_york]\", 7))");
  check_all_resolved(&t.f);
  done(&t);
}

static void test_arrays_elements_and_stocks(void **state) {
  (void)state;
  fx t;
  assert_int_equal(
      load(&t,
           DIMS(CITY NUM3,
                "<stock name=\"s\"><dimensions><dim name=\"City\"/></dimensions>"
                "<eqn>init[City]</eqn><inflow>f</inflow><outflow>g</outflow>"
                "<non_negative/></stock>\n"
                "<aux name=\"init\"><dimensions><dim name=\"City\"/></dimensions>"
                "<element subscript=\"New York\"><eqn>8</eqn></element>"
                "<element subscript=\"boston\"><eqn>5</eqn></element></aux>\n"
                "<flow name=\"f\"><dimensions><dim name=\"City\"/></dimensions>"
                "<eqn>s * 0.1</eqn></flow>\n"
                "<flow name=\"g\"><eqn>1</eqn></flow>\n"
                "<aux name=\"lit\"><dimensions><dim name=\"n\"/><dim name=\"city\"/></dimensions>"
                "<eqn>1, 2;\n 3, 4;\n 5, MAX(6, 7);</eqn></aux>\n"
                "<aux name=\"part\"><dimensions><dim name=\"n\"/></dimensions>"
                "<element subscript=\"2\"><eqn>n * 10</eqn></element>"
                "<eqn>-1</eqn></aux>\n")),
      TR_OK);
  check_eqn(&t, "init[boston]", "5");
  check_eqn(&t, "init[new_york]", "8");
  check_eqn(&t, "s[new_york]", "\"init[new_york]\"");
  /* arrayed stock with arrayed inflow (per element) and a scalar outflow (shared) */
  const tr_fvar *s = var(&t, "s[new_york]");
  assert_true(s->non_negative);
  assert_int_equal(s->n_inflows, 1);
  assert_string_equal(t.f.vars[s->inflows[0]].ident, "f[new_york]");
  assert_int_equal(s->n_outflows, 1);
  assert_string_equal(t.f.vars[s->outflows[0]].ident, "g");
  check_eqn(&t, "f[boston]", "(\"s[boston]\" * 0.1)");
  /* an array literal, row-major */
  check_eqn(&t, "lit[1,boston]", "1");
  check_eqn(&t, "lit[2,new_york]", "4");
  check_eqn(&t, "lit[3,new_york]", "MAX(6, 7)");
  /* an <element> equation with an apply-to-all default for the others */
  check_eqn(&t, "part[1]", "(-1)");
  check_eqn(&t, "part[2]", "(2 * 10)");
  check_eqn(&t, "part[3]", "(-1)");
  check_all_resolved(&t.f);
  done(&t);
}

#define CONF "../shared/conformance/sdxorg-test-models/tests/"

static void load_file(fx *t, const char *path) {
  memset(t, 0, sizeof *t);
  tr_arena_init(&t->a);
  int rc = tr_xmile_read_file(path, &t->x, &t->e);
  if (rc) print_message("%s\n", tr_error_text(&t->e));
  assert_int_equal(rc, TR_OK);
  rc = tr_flatten(t->x, &t->a, &t->f, &t->e);
  if (rc) print_message("%s\n", tr_error_text(&t->e));
  assert_int_equal(rc, TR_OK);
  check_all_resolved(&t->f);
}

static void test_arrays_conformance(void **state) {
  (void)state;
  fx t;
  /* row 32: MIN/MAX over a dimension named in a scalar equation, array literal */
  load_file(&t, CONF "min_max_1arg/test_min_max_1arg.xmile");
  check_eqn(&t, "var_min", "MIN(\"var1[a]\", \"var1[b]\", \"var1[c]\")");
  check_eqn(&t, "var_max", "MAX(\"var1[a]\", \"var1[b]\", \"var1[c]\")");
  check_eqn(&t, "var1[c]", "3");
  done(&t);
  /* row 47: per-element equations, arrayed stock and flow */
  load_file(&t, CONF "subscript_individually_defined_1d_arrays/"
                     "subscript_individually_defined_1d_arrays.xmile");
  check_eqn(&t, "rate_a[entry_2]", "0.2");
  check_eqn(&t, "inflow_a[entry_3]", "\"rate_a[entry_3]\"");
  assert_string_equal(var(&t, "stock_a[entry_1]")->name, "Stock A[Entry 1]");
  done(&t);
  /* row 54: 2-D literal, functions of array elements */
  load_file(&t, CONF "subscripted_trig/test_subscripted_trig.xmile");
  check_eqn(&t, "var2[b,e]", "0.5");
  check_eqn(&t, "stanh2[c,d]", "TANH(\"var2[c,d]\")");
  assert_string_equal(var(&t, "stanh2[c,d]")->name, "stanh2[C,D]");
  done(&t);
}

static void test_array_errors(void **state) {
  (void)state;
  check_error(DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                         "<eqn>1</eqn></aux>\n<aux name=\"b\"><eqn>a + 1</eqn></aux>\n"),
              TR_ERR_DIMENSION, "m.xmile:7:20: 'a' is an array over 'City': give a subscript here");
  check_error(
      DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                 "<eqn>1</eqn></aux>\n<aux name=\"b\"><eqn>a[bostn]</eqn></aux>\n"),
      TR_ERR_DIMENSION,
      "m.xmile:7:22: 'bostn' is not an element of dimension 'City' (did you mean 'Boston'?)");
  check_error(DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                         "<eqn>1</eqn></aux>\n<aux name=\"b\"><eqn>a[3]</eqn></aux>\n"),
              TR_ERR_DIMENSION, "m.xmile:7:22: subscript 3 is outside dimension 'City' (1 to 2)");
  check_error(DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                         "<eqn>1</eqn></aux>\n<aux name=\"b\"><eqn>a[1, 1]</eqn></aux>\n"),
              TR_ERR_DIMENSION, "m.xmile:7:20: 'a' has 1 dimension, 2 subscripts given");
  check_error(DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                         "<eqn>1</eqn></aux>\n<aux name=\"b\"><eqn>2 * a[*]</eqn></aux>\n"),
              TR_ERR_DIMENSION,
              "m.xmile:7:26: '*' in 'a' is only allowed inside an array function");
  check_error(DIMS(CITY, "<aux name=\"k\"><eqn>1</eqn></aux>\n"
                         "<aux name=\"b\"><eqn>k[1]</eqn></aux>\n"),
              TR_ERR_DIMENSION, "m.xmile:7:20: 'k' is not an array");
  check_error(DIMS(CITY NUM3, "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                              "<eqn>1</eqn></aux>\n<aux name=\"b\"><dimensions><dim name=\"n\"/>"
                              "</dimensions><eqn>a[n]</eqn></aux>\n"),
              TR_ERR_DIMENSION, "dimension 'n' (3 elements) does not match dimension 'City'");
  check_error(DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                         "<eqn>1</eqn></aux>\n<aux name=\"b\"><eqn>a[city]</eqn></aux>\n"),
              TR_ERR_DIMENSION, "dimension 'City' has no current element here");
  check_error(DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                         "<eqn>1, 2, 3</eqn></aux>\n"),
              TR_ERR_DIMENSION, "'a' has 2 elements but its equation lists 3 values");
  check_error(DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                         "<element subscript=\"boston\"><eqn>1</eqn></element></aux>\n"),
              TR_ERR_INVALID, "element a[New York] of 'a' has no equation");
  check_error(DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                         "<element subscript=\"paris\"><eqn>1</eqn></element></aux>\n"),
              TR_ERR_DIMENSION, "'paris' is not an element of dimension 'City'");
  check_error(DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"nope\"/></dimensions>"
                         "<eqn>1</eqn></aux>\n"),
              TR_ERR_DIMENSION, "'a' uses the undeclared dimension 'nope'");
}

/* ---- expansions: a tiny Euler integrator over the flat model, for analytic checks --------- */

typedef struct sim {
  const tr_flat *f;
  double *stock, *val;
  char *have;
  double t;
  int init; /* evaluating initial values: stocks are their equations */
} sim;

static double ev(sim *s, const tr_ast *n);

static double value(sim *s, int i) {
  const tr_fvar *v = &s->f->vars[i];
  if (v->kind == TR_FV_STOCK && !s->init) return s->stock[i];
  if (!s->have[i]) {
    s->val[i] = ev(s, v->eqn);
    s->have[i] = 1;
  }
  return s->val[i];
}

static double ev(sim *s, const tr_ast *n) {
  double a, b;
  switch (n->kind) {
  case TR_AST_NUM:
    return n->num;
  case TR_AST_NAME:
    return value(s, n->var);
  case TR_AST_UNARY:
    return n->op == TR_OP_NEG ? -ev(s, n->args[0]) : ev(s, n->args[0]);
  case TR_AST_BINARY:
    a = ev(s, n->args[0]);
    b = ev(s, n->args[1]);
    switch (n->op) {
    case TR_OP_ADD:
      return a + b;
    case TR_OP_SUB:
      return a - b;
    case TR_OP_MUL:
      return a * b;
    case TR_OP_DIV:
      return a / b;
    case TR_OP_POW:
      return pow(a, b);
    default:
      fail_msg("operator %d", n->op);
    }
    break;
  case TR_AST_CALL:
    switch (n->builtin) {
    case TR_FN_TIME:
      return s->t;
    case TR_FN_EXP:
      return exp(ev(s, n->args[0]));
    case TR_FN_STEP:
      return s->t >= ev(s, n->args[1]) ? ev(s, n->args[0]) : 0.0;
    default:
      fail_msg("builtin %s", n->name);
    }
    break;
  default:
    fail_msg("node kind %d", n->kind);
  }
  return NAN;
}

static void sim_start(sim *s, const tr_flat *f) {
  s->f = f;
  s->stock = calloc(f->n_vars, sizeof *s->stock);
  s->val = calloc(f->n_vars, sizeof *s->val);
  s->have = calloc(f->n_vars, 1);
  s->t = f->specs.start;
  s->init = 1;
  for (size_t i = 0; i < f->n_vars; i++)
    if (f->vars[i].kind == TR_FV_STOCK) s->stock[i] = value(s, (int)i);
  s->init = 0;
  memset(s->have, 0, f->n_vars);
}

static void sim_step(sim *s, double dt) {
  const tr_flat *f = s->f;
  double *d = calloc(f->n_vars, sizeof *d);
  for (size_t i = 0; i < f->n_vars; i++) {
    const tr_fvar *v = &f->vars[i];
    for (size_t k = 0; k < v->n_inflows; k++)
      d[i] += value(s, v->inflows[k]);
    for (size_t k = 0; k < v->n_outflows; k++)
      d[i] -= value(s, v->outflows[k]);
  }
  for (size_t i = 0; i < f->n_vars; i++)
    if (f->vars[i].kind == TR_FV_STOCK) s->stock[i] += dt * d[i];
  free(d);
  s->t += dt;
  memset(s->have, 0, f->n_vars);
}

static void sim_end(sim *s) {
  free(s->stock);
  free(s->val);
  free(s->have);
}

static double erlang_cdf(int n, double x) { /* P(Erlang(n, 1) <= x) */
  double term = 1, sum = 1;
  for (int k = 1; k < n; k++) {
    term *= x / k;
    sum += term;
  }
  return 1 - exp(-x) * sum;
}

static void test_expand_delays_and_smooths(void **state) {
  (void)state;
  fx t;
  assert_int_equal(load(&t, MODEL("<aux name=\"in\"><eqn>STEP(1, 1)</eqn></aux>\n"
                                  "<aux name=\"d1\"><eqn>DELAY1(in, 2)</eqn></aux>\n"
                                  "<aux name=\"d3\"><eqn>DELAY3(in, 3)</eqn></aux>\n"
                                  "<aux name=\"dn\"><eqn>DELAYN(in, 3, 2 + 3)</eqn></aux>\n"
                                  "<aux name=\"s1\"><eqn>SMTH1(in, 2)</eqn></aux>\n"
                                  "<aux name=\"s3\"><eqn>SMTH3(in, 3)</eqn></aux>\n"
                                  "<aux name=\"order\"><eqn>4</eqn></aux>\n"
                                  "<aux name=\"sn\"><eqn>SMTHN(in, 3, order)</eqn></aux>\n"
                                  "<aux name=\"s1i\"><eqn>SMTH1(in, 2, 5) + 0</eqn></aux>\n"
                                  "<aux name=\"d1i\"><eqn>DELAY1(in * 2, 2, 7)</eqn></aux>\n")),
                   TR_OK);
  /* shapes: 1 + 3 + 5 + 1 + 3 + 4 + 1 + 1 stocks, all hidden, after the 10 model variables */
  assert_int_equal(count_hidden(&t.f, TR_FV_STOCK), 19);
  for (size_t i = 0; i < 10; i++)
    assert_false(t.f.vars[i].hidden);
  assert_string_equal(t.f.vars[10].ident, "#delay1#1.inflow");
  assert_int_equal(tr_flat_find(&t.f, "#delay3#2.stock3") >= 0, 1);
  assert_int_equal(tr_flat_find(&t.f, "#delay3#2.stock4"), -1);
  assert_int_equal(tr_flat_find(&t.f, "#delayn#3.stock5") >= 0, 1);
  assert_int_equal(tr_flat_find(&t.f, "#smthn#6.stock4") >= 0, 1);
  /* the call is replaced by a reference to the result */
  check_eqn(&t, "d3", "\"#delay3#2.outflow3\"");
  check_eqn(&t, "s3", "\"#smth3#5.stock3\"");
  check_eqn(&t, "#delay3#2.stock1", "(in * (3 / 3))");
  check_eqn(&t, "#delay3#2.outflow2", "(\"#delay3#2.stock2\" / (3 / 3))");
  check_eqn(&t, "#smth3#5.flow2", "((\"#smth3#5.stock1\" - \"#smth3#5.stock2\") / (3 / 3))");
  /* initial values: given, or the input's; a non-trivial input goes through a hidden aux */
  check_eqn(&t, "#smth1#7.stock1", "5");
  check_eqn(&t, "#delay1#8.input", "(in * 2)");
  check_eqn(&t, "#delay1#8.stock1", "(7 * 2)");
  assert_string_equal(var(&t, "#delay1#8.stock1")->eqn_text, "(7 * 2)");
  assert_string_equal(var(&t, "d1i")->eqn_text, "DELAY1(in * 2, 2, 7)");
  const tr_fvar *st = var(&t, "#delay3#2.stock2");
  assert_int_equal(st->n_inflows, 1);
  assert_int_equal(st->n_outflows, 1);
  assert_string_equal(t.f.vars[st->inflows[0]].ident, "#delay3#2.outflow1");
  assert_string_equal(t.f.vars[st->outflows[0]].ident, "#delay3#2.outflow2");
  check_all_resolved(&t.f);

  /* behaviour against the analytic responses to a unit step at t = 1 */
  sim s;
  sim_start(&s, &t.f);
  const double dt = 1.0 / 256;
  int d1 = tr_flat_find(&t.f, "d1"), d3 = tr_flat_find(&t.f, "d3"), dn = tr_flat_find(&t.f, "dn");
  int s1 = tr_flat_find(&t.f, "s1"), s3 = tr_flat_find(&t.f, "s3"), sn = tr_flat_find(&t.f, "sn");
  assert_true(value(&s, d1) == 0 && value(&s, s3) == 0);
  assert_true(fabs(value(&s, tr_flat_find(&t.f, "s1i")) - 5) < 1e-12);
  assert_true(fabs(value(&s, tr_flat_find(&t.f, "d1i")) - 7) < 1e-12);
  for (int k = 1; k <= 8 * 256; k++) {
    sim_step(&s, dt);
    if (k % 256) continue;
    double x = s.t - 1 - dt; /* the step is seen one dt late by Euler */
    if (x < 0) x = 0;
    assert_true(fabs(value(&s, d1) - erlang_cdf(1, x / 2)) < 5e-3);
    assert_true(fabs(value(&s, s1) - erlang_cdf(1, x / 2)) < 5e-3);
    assert_true(fabs(value(&s, d3) - erlang_cdf(3, 3 * x / 3)) < 5e-3);
    assert_true(fabs(value(&s, s3) - erlang_cdf(3, 3 * x / 3)) < 5e-3);
    assert_true(fabs(value(&s, dn) - erlang_cdf(5, 5 * x / 3)) < 5e-3);
    assert_true(fabs(value(&s, sn) - erlang_cdf(4, 4 * x / 3)) < 5e-3);
  }
  sim_end(&s);
  done(&t);
}

static void test_expand_trend_forcst(void **state) {
  (void)state;
  fx t;
  /* for an input growing at 10% per time unit, with the right initial trend, the average
   * stays at in/(1 + g T) and TREND is g throughout; FORCST is in * (1 + g H) */
  assert_int_equal(load(&t, MODEL("<aux name=\"in\"><eqn>EXP(0.1 * TIME)</eqn></aux>\n"
                                  "<aux name=\"tr\"><eqn>TREND(in, 4, 0.1)</eqn></aux>\n"
                                  "<aux name=\"fc\"><eqn>FORCST(in, 4, 5, 0.1)</eqn></aux>\n"
                                  "<aux name=\"tr0\"><eqn>TREND(in, 4)</eqn></aux>\n")),
                   TR_OK);
  assert_int_equal(count_hidden(&t.f, TR_FV_STOCK), 3);
  assert_int_equal(count_hidden(&t.f, TR_FV_FLOW), 3);
  check_eqn(&t, "#trend#1.average", "(in / (1 + (0.1 * 4)))");
  check_eqn(&t, "#trend#1.trend", "((in - \"#trend#1.average\") / (\"#trend#1.average\" * 4))");
  check_eqn(&t, "#trend#3.average", "(in / (1 + (0 * 4)))");
  sim s;
  sim_start(&s, &t.f);
  int tr = tr_flat_find(&t.f, "tr"), fc = tr_flat_find(&t.f, "fc"), tr0 = tr_flat_find(&t.f, "tr0");
  assert_true(fabs(value(&s, tr) - 0.1) < 1e-12);
  assert_true(fabs(value(&s, tr0)) < 1e-12); /* no initial trend given: 0 */
  for (int k = 0; k < 10 * 1000; k++)
    sim_step(&s, 0.001);
  assert_true(fabs(value(&s, tr) - 0.1) < 1e-3);
  assert_true(fabs(value(&s, fc) / (exp(0.1 * s.t) * 1.5) - 1) < 1e-3);
  /* without the initial trend it converges towards g from 0: (1 - e^(-t/T))-like */
  assert_true(value(&s, tr0) > 0.05 && value(&s, tr0) < 0.1);
  sim_end(&s);
  done(&t);
}

static void test_expand_per_element_and_errors(void **state) {
  (void)state;
  fx t;
  assert_int_equal(load(&t, DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"city\"/>"
                                       "</dimensions><eqn>SMTH3(TIME, 2)</eqn></aux>\n")),
                   TR_OK);
  /* each element gets its own three stocks */
  assert_int_equal(count_hidden(&t.f, TR_FV_STOCK), 6);
  check_eqn(&t, "a[boston]", "\"#smth3#1.stock3\"");
  check_eqn(&t, "a[new_york]", "\"#smth3#2.stock3\"");
  done(&t);
  check_error(MODEL("<aux name=\"k\"><eqn>TIME</eqn></aux>\n"
                    "<aux name=\"a\"><eqn>DELAYN(1, 2, k)</eqn></aux>\n"),
              TR_ERR_INVALID, "m.xmile:6:20: the order of DELAYN must be a constant expression");
  check_error(MODEL("<aux name=\"a\"><eqn>1 + SMTHN(1, 2, 0)</eqn></aux>\n"), TR_ERR_INVALID,
              "m.xmile:5:24: the order of SMTHN must be 1 to 1000, not 0");
  check_error(MODEL("<aux name=\"a\"><eqn>SMTH1(1)</eqn></aux>\n"), TR_ERR_ARITY, "SMTH1");
}

/* ---- macros ------------------------------------------------------------------------------- */

#define MACROS(macros, vars)                                                                       \
  HEAD macros "\n<model><variables>\n" vars "</variables></model>\n</xmile>\n"

static void test_macros(void **state) {
  (void)state;
  fx t;
  assert_int_equal(load(&t, MACROS("<macro name=\"Double\"><parm>x</parm><eqn>x * 2</eqn></macro>"
                                   "<macro name=\"Acc\"><parm>rate</parm><eqn>total</eqn>"
                                   "<variables><stock name=\"total\"><eqn>0</eqn><inflow>f</inflow>"
                                   "</stock><flow name=\"f\"><eqn>rate</eqn></flow></variables>"
                                   "</macro><macro name=\"Quad\"><parm>y</parm>"
                                   "<eqn>double(double(y))</eqn></macro>"
                                   "<macro name=\"Smooth it\"><parm>v</parm>"
                                   "<eqn>SMTH1(v, 2)</eqn></macro>",
                                   "<aux name=\"a\"><eqn>Double(3)</eqn></aux>\n"
                                   "<aux name=\"b\"><eqn>Acc(TIME + 1) + ACC(2)</eqn></aux>\n"
                                   "<aux name=\"q\"><eqn>Quad(a)</eqn></aux>\n"
                                   "<aux name=\"s\"><eqn>\"smooth it\"(a)</eqn></aux>\n")),
                   TR_OK);
  check_eqn(&t, "a", "(3 * 2)");
  /* each call has its own hidden stock; a non-trivial argument is evaluated once, in an aux */
  check_eqn(&t, "b", "(\"#acc#2.total\" + \"#acc#3.total\")");
  check_eqn(&t, "#acc#2.rate", "(TIME() + 1)");
  check_eqn(&t, "#acc#2.f", "\"#acc#2.rate\"");
  check_eqn(&t, "#acc#3.f", "2");
  const tr_fvar *tot = var(&t, "#acc#3.total");
  assert_int_equal(tot->kind, TR_FV_STOCK);
  assert_true(tot->hidden);
  assert_int_equal(tot->n_inflows, 1);
  assert_string_equal(t.f.vars[tot->inflows[0]].ident, "#acc#3.f");
  /* macros calling macros */
  check_eqn(&t, "q", "(\"#double#6.x\" * 2)");
  check_eqn(&t, "#double#6.x", "(a * 2)");
  /* a macro using a builtin that expands into hidden stocks */
  check_eqn(&t, "s", "\"#smth1#8.stock1\"");
  check_eqn(&t, "#smth1#8.flow1", "((a - \"#smth1#8.stock1\") / 2)");
  assert_int_equal(count_hidden(&t.f, TR_FV_STOCK), 3);
  check_all_resolved(&t.f);
  done(&t);
  check_error(MACROS("<macro name=\"Loop\"><parm>y</parm><eqn>loop(y)</eqn></macro>",
                     "<aux name=\"a\"><eqn>Loop(1)</eqn></aux>\n"),
              TR_ERR_INVALID, "macro 'Loop' is nested more than 32 deep");
  check_error(MACROS("<macro name=\"Double\"><parm>x</parm><eqn>x * 2</eqn></macro>",
                     "<aux name=\"a\"><eqn>Double(1, 2)</eqn></aux>\n"),
              TR_ERR_ARITY, "m.xmile:6:20: macro 'Double' takes 1 argument, 2 given");
  check_error(MACROS("<macro name=\"Bad\"><parm>x</parm><eqn>x * yy</eqn></macro>",
                     "<aux name=\"a\"><eqn>Bad(1)</eqn></aux>\n"),
              TR_ERR_UNKNOWN_NAME, "m.xmile:4:42: unknown variable 'yy' (did you mean 'x'?)");
}

/* ---- allocation failure ------------------------------------------------------------------- */

static const char *everything =
    HEAD "<dimensions>" CITY "</dimensions>\n"
         "<macro name=\"Acc\"><parm>rate</parm><eqn>total</eqn><variables><stock name=\"total\">"
         "<eqn>0</eqn><inflow>f</inflow></stock><flow name=\"f\"><eqn>rate</eqn></flow></variables>"
         "</macro>\n<model><variables>\n"
         "<module name=\"sub\"><connect to=\"p\" from=\"k\"/></module>\n"
         "<aux name=\"k\"><eqn>2</eqn></aux>\n"
         "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions><eqn>DELAY3(k, 3) + "
         "SMTHN(sub.x, 2, 3) + Acc(TIME * 2)</eqn></aux>\n"
         "<aux name=\"b\"><eqn>SUM(a[*]) + FORCST(k, 1, 2) + gf(1)</eqn></aux>\n"
         "<gf name=\"gf\"><xscale min=\"0\" max=\"1\"/><ypts>0,1</ypts></gf>\n"
         "</variables></model>\n"
         "<model name=\"sub\"><variables><aux name=\"p\"><eqn>1</eqn></aux>"
         "<aux name=\"x\"><eqn>p * 2</eqn></aux></variables></model>\n</xmile>\n";

static void test_allocation_failure(void **state) {
  (void)state;
  tr_xmile *x;
  tr_error e;
  assert_int_equal(tr_xmile_read_buffer(everything, strlen(everything), "m.xmile", &x, &e), TR_OK);
  tr_arena a;
  tr_flat f;
  tr_arena_init(&a);
  assert_int_equal(tr_flatten(x, &a, &f, &e), TR_OK);
  size_t n_vars = f.n_vars;
  assert_true(n_vars > 30);
  tr_arena_release(&a);
  for (int sticky = 0; sticky <= 1; sticky++) {
    int ok = 0;
    for (long n = 1; n < 100000 && !ok; n++) {
      tr_arena_init(&a);
      tr_alloc_fail_after(n, sticky);
      int rc = tr_flatten(x, &a, &f, &e);
      tr_alloc_fail_after(0, 0);
      if (rc == TR_OK) {
        ok = 1;
        assert_int_equal(f.n_vars, n_vars);
      } else {
        if (rc != TR_ERR_NOMEM) print_message("n=%ld: %s\n", n, tr_error_text(&e));
        assert_int_equal(rc, TR_ERR_NOMEM);
      }
      tr_arena_release(&a);
    }
    assert_true(ok);
  }
  tr_xmile_free(x);
}

static void test_arrays_run_time_subscripts(void **state) {
  (void)state;
  fx t;
  assert_int_equal(
      load(&t, DIMS(CITY NUM3, "<aux name=\"k\"><eqn>TIME</eqn></aux>\n"
                               "<aux name=\"one\"><eqn>3 - 2</eqn></aux>\n"
                               "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                               "<eqn>1, 2</eqn></aux>\n"
                               "<aux name=\"m\"><dimensions><dim name=\"n\"/><dim name=\"city\"/>"
                               "</dimensions><eqn>n</eqn></aux>\n"
                               "<aux name=\"b\"><eqn>a[k]</eqn></aux>\n"
                               "<aux name=\"c\"><eqn>a[one + 1]</eqn></aux>\n"
                               "<aux name=\"d\"><eqn>m[k + 1, boston]</eqn></aux>\n")),
      TR_OK);
  /* a subscript that varies during the run selects the element at run time; out of range
   * is NaN, never another element */
  check_eqn(&t, "b",
            "(IF (k = 1) THEN \"a[boston]\" ELSE (IF (k = 2) THEN \"a[new_york]\" ELSE "
            "NaN))");
  /* a constant expression selects one element */
  check_eqn(&t, "c", "\"a[new_york]\"");
  check_eqn(&t, "#index#2.subscript", "(k + 1)");
  const tr_ast *d = var(&t, "d")->eqn;
  assert_int_equal(d->kind, TR_AST_IF);
  assert_string_equal(d->args[1]->name, "m[1,boston]");
  assert_string_equal(d->args[2]->args[1]->name, "m[2,boston]");
  assert_string_equal(d->args[2]->args[2]->args[1]->name, "m[3,boston]");
  assert_true(isnan(d->args[2]->args[2]->args[2]->num));
  check_all_resolved(&t.f);
  done(&t);
}

static void test_more_errors(void **state) {
  (void)state;
  check_error(MODEL("<aux name=\"k\"><eqn>1</eqn></aux>\n"
                    "<aux name=\"a\"><eqn>LOOKUP(k, 2)</eqn></aux>\n"),
              TR_ERR_INVALID, "m.xmile:6:27: 'k' has no graphical function");
  check_error(MODEL("<aux name=\"a\"><eqn>LOOKUP(1 + 1, 2)</eqn></aux>\n"), TR_ERR_INVALID,
              "m.xmile:5:27: the first argument of LOOKUP must name a graphical function");
  check_error(DIMS(CITY, "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions>"
                         "<element subscript=\"boston\"><eqn>1</eqn></element>"
                         "<element subscript=\"Boston\"><eqn>2</eqn></element></aux>\n"),
              TR_ERR_INVALID, "element 'Boston' of 'a' is defined twice");
  check_error(DIMS(CITY NUM3, "<aux name=\"a\"><dimensions><dim name=\"city\"/><dim name=\"n\"/>"
                              "</dimensions><element subscript=\"boston\"><eqn>1</eqn></element>"
                              "</aux>\n"),
              TR_ERR_DIMENSION, "<element subscript=\"boston\"> of 'a' needs 2 subscripts");
  check_error(DIMS(CITY NUM3, "<aux name=\"a\"><dimensions><dim name=\"n\"/></dimensions>"
                              "<element subscript=\"1, 2\"><eqn>1</eqn></element></aux>\n"),
              TR_ERR_DIMENSION, "<element subscript=\"1, 2\"> of 'a' needs 1 subscript");
  check_error(HEAD "<model><variables><module name=\"a\"><connect to=\"y\" from=\"k\"/>"
                   "<connect to=\"y\" from=\"k\"/></module>"
                   "<aux name=\"k\"><eqn>1</eqn></aux></variables></model>\n"
                   "<model name=\"a\"><variables><aux name=\"y\"><eqn>1</eqn></aux></variables>"
                   "</model></xmile>\n",
              TR_ERR_INVALID, "'a.y' is connected twice");
  check_error(HEAD "<dimensions>" CITY "</dimensions>\n"
                   "<model><variables><module name=\"a\"><connect to=\"y\" from=\"k\"/></module>"
                   "<aux name=\"k\"><dimensions><dim name=\"city\"/></dimensions><eqn>1</eqn>"
                   "</aux></variables></model>\n"
                   "<model name=\"a\"><variables><aux name=\"y\"><eqn>1</eqn></aux></variables>"
                   "</model></xmile>\n",
              TR_ERR_DIMENSION, "<connect> wires 'k' (2 elements) into 'y' (1 element)");
  check_error(HEAD "<dimensions>" CITY "</dimensions>\n"
                   "<macro name=\"M\"><parm>x</parm><eqn>v</eqn><variables><aux name=\"v\">"
                   "<dimensions><dim name=\"city\"/></dimensions><eqn>x</eqn></aux></variables>"
                   "</macro>\n<model><variables><aux name=\"a\"><eqn>M(1)</eqn></aux>"
                   "</variables></model></xmile>\n",
              TR_ERR_UNSUPPORTED, "macro 'M': variable 'v' is a module or an array");
  check_error(HEAD "<dimensions>" CITY "</dimensions>\n"
                   "<macro name=\"M\"><parm>x</parm><eqn>x[1]</eqn></macro>\n"
                   "<model><variables><aux name=\"a\"><eqn>M(1)</eqn></aux>"
                   "</variables></model></xmile>\n",
              TR_ERR_UNSUPPORTED, "m.xmile:5:36: arrays are not supported in macros");
}

/* ---- robustness: seeded random equations never crash, and every error has a position ---- */

static unsigned long fuzz_state = 12345;
static unsigned fuzz_next(unsigned n) {
  fuzz_state = fuzz_state * 6364136223846793005UL + 1442695040888963407UL;
  return (unsigned)((fuzz_state >> 33) % n);
}

static void gen_expr(char *buf, size_t cap, int depth) {
  static const char *leaf[] = {"k",       "1",       "2.5",    "TIME",       "a[boston]",
                               "a[city]", "a[*]",    "a",      "m[n, city]", "m[2, *]",
                               "m[*, *]", "m[k, 1]", "n",      "city",       "sub.x",
                               "s[city]", "f",       "nosuch", "a[paris]",   "m[4, 1]"};
  static const char *fn1[] = {"ABS",    "SUM", "MAX", "MIN",  "MEAN",  "SIZE",
                              "STDDEV", "gf",  "Acc", "INIT", "SMTH3", "Bad"};
  size_t len = strlen(buf);
  if (len + 200 > cap) return;
  unsigned r = depth > 3 ? 0 : fuzz_next(8);
  char *p = buf + len;
  switch (r) {
  case 0:
  case 1:
  case 2:
    strcat(p, leaf[fuzz_next(sizeof leaf / sizeof *leaf)]);
    break;
  case 3:
    strcat(p, fn1[fuzz_next(sizeof fn1 / sizeof *fn1)]);
    strcat(p, "(");
    gen_expr(buf, cap, depth + 1);
    strcat(buf, ")");
    break;
  case 4: {
    static const char *fn2[] = {"SMTH1(",   "DELAY1(", "TREND(",  "MAX(",
                                "SAFEDIV(", "LOOKUP(", "DELAYN(", "MEAN("};
    strcat(p, fn2[fuzz_next(sizeof fn2 / sizeof *fn2)]);
    gen_expr(buf, cap, depth + 1);
    strcat(buf, ", ");
    gen_expr(buf, cap, depth + 1);
    if (fuzz_next(2)) {
      strcat(buf, ", ");
      gen_expr(buf, cap, depth + 1);
    }
    strcat(buf, ")");
    break;
  }
  case 5:
    strcat(p, "IF ");
    gen_expr(buf, cap, depth + 1);
    strcat(buf, " THEN ");
    gen_expr(buf, cap, depth + 1);
    strcat(buf, " ELSE ");
    gen_expr(buf, cap, depth + 1);
    break;
  default: {
    static const char *op[] = {" + ", " - ", " * ", " / ", " ^ ", " = ", " > "};
    strcat(p, "(");
    gen_expr(buf, cap, depth + 1);
    strcat(buf, op[fuzz_next(sizeof op / sizeof *op)]);
    gen_expr(buf, cap, depth + 1);
    strcat(buf, ")");
  }
  }
}

static void test_random_equations(void **state) {
  (void)state;
  static char eqn[4096], xml[16384];
  int ok = 0, errors = 0;
  for (int iter = 0; iter < 1500; iter++) {
    eqn[0] = '\0';
    gen_expr(eqn, sizeof eqn, 0);
    snprintf(xml, sizeof xml,
             HEAD "<dimensions>" CITY NUM3 "</dimensions>\n"
                  "<macro name=\"Acc\"><parm>rate</parm><eqn>total</eqn><variables>"
                  "<stock name=\"total\"><eqn>0</eqn><inflow>fl</inflow></stock>"
                  "<flow name=\"fl\"><eqn>rate</eqn></flow></variables></macro>\n"
                  "<macro name=\"Bad\"><parm>x</parm><eqn>Bad(x)</eqn></macro>\n"
                  "<model><variables>\n<module name=\"sub\"/>\n"
                  "<aux name=\"k\"><eqn>2</eqn></aux>\n"
                  "<gf name=\"gf\"><xscale min=\"0\" max=\"1\"/><ypts>0,1</ypts></gf>\n"
                  "<aux name=\"a\"><dimensions><dim name=\"city\"/></dimensions><eqn>1, 2</eqn>"
                  "</aux>\n<aux name=\"m\"><dimensions><dim name=\"n\"/><dim name=\"city\"/>"
                  "</dimensions><eqn>n</eqn></aux>\n"
                  "<stock name=\"s\"><dimensions><dim name=\"city\"/></dimensions><eqn>1</eqn>"
                  "<inflow>f</inflow></stock>\n<flow name=\"f\"><eqn>%s</eqn></flow>\n"
                  "<aux name=\"u\"><dimensions><dim name=\"city\"/></dimensions>"
                  "<eqn>%s</eqn></aux>\n</variables></model>\n"
                  "<model name=\"sub\"><variables><aux name=\"x\"><eqn>3</eqn></aux>"
                  "</variables></model>\n</xmile>\n",
             eqn, eqn);
    tr_xmile *x;
    tr_error e;
    assert_int_equal(tr_xmile_read_buffer(xml, strlen(xml), "m.xmile", &x, &e), TR_OK);
    tr_arena a;
    tr_flat f;
    tr_arena_init(&a);
    int rc = tr_flatten(x, &a, &f, &e);
    if (rc == TR_OK) {
      ok++;
      check_all_resolved(&f);
    } else {
      errors++;
      if (getenv("FUZZ_SHOW") || rc == TR_ERR_NOMEM || rc == TR_ERR_INTERNAL || e.line <= 0 ||
          e.col <= 0)
        print_message("%s\n  on: %s\n", tr_error_text(&e), eqn);
      assert_true(rc == TR_ERR_UNKNOWN_NAME || rc == TR_ERR_DIMENSION || rc == TR_ERR_INVALID ||
                  rc == TR_ERR_ARITY || rc == TR_ERR_PARSE || rc == TR_ERR_UNSUPPORTED);
      assert_true(e.line > 0 && e.col > 0);
    }
    tr_arena_release(&a);
    tr_xmile_free(x);
  }
  print_message("random equations: %d flattened, %d refused\n", ok, errors);
  assert_true(ok > 100 && errors > 100); /* both paths are exercised */
}

static void test_modules_two_instances(void **state) {
  (void)state;
  fx t;
  /* the same model instantiated twice; each instance has its own variables and hidden stocks,
   * and the second instance's input is the first one's output */
  assert_int_equal(
      load(&t, HEAD "<model><variables>\n"
                    "<module name=\"Shop A\" model=\"shop\"><connect to=\"demand\" from=\"base\"/>"
                    "</module>\n<module name=\"shop_b\" model=\"shop\">"
                    "<connect to=\"demand\" from=\"shop_a.sales\"/></module>\n"
                    "<aux name=\"base\"><eqn>100</eqn></aux>\n"
                    "</variables></model>\n"
                    "<model name=\"shop\"><variables>\n"
                    "<aux name=\"demand\" access=\"input\"><eqn>0</eqn></aux>\n"
                    "<aux name=\"sales\"><eqn>SMTH1(demand, 4)</eqn></aux>\n"
                    "</variables></model>\n</xmile>\n"),
      TR_OK);
  assert_int_equal(t.f.n_vars, 5 + 4);
  assert_string_equal(t.f.vars[0].name, "Shop A.demand");
  assert_string_equal(t.f.vars[0].ident, "shop_a.demand");
  check_eqn(&t, "shop_a.demand", "base");
  check_eqn(&t, "shop_b.demand", "shop_a.sales");
  check_eqn(&t, "shop_a.sales", "\"#smth1#1.stock1\"");
  check_eqn(&t, "shop_b.sales", "\"#smth1#2.stock1\"");
  check_eqn(&t, "#smth1#2.flow1", "((shop_b.demand - \"#smth1#2.stock1\") / 4)");
  check_all_resolved(&t.f);
  done(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_teacup),
      cmocka_unit_test(test_case_and_quotes),
      cmocka_unit_test(test_builtin_time),
      cmocka_unit_test(test_graphical_functions),
      cmocka_unit_test(test_unknown_variable),
      cmocka_unit_test(test_modules_hares_lynxes),
      cmocka_unit_test(test_modules_nested),
      cmocka_unit_test(test_module_errors),
      cmocka_unit_test(test_modules_two_instances),
      cmocka_unit_test(test_arrays_apply_to_all),
      cmocka_unit_test(test_arrays_elements_and_stocks),
      cmocka_unit_test(test_arrays_conformance),
      cmocka_unit_test(test_array_errors),
      cmocka_unit_test(test_arrays_run_time_subscripts),
      cmocka_unit_test(test_expand_delays_and_smooths),
      cmocka_unit_test(test_expand_trend_forcst),
      cmocka_unit_test(test_expand_per_element_and_errors),
      cmocka_unit_test(test_macros),
      cmocka_unit_test(test_more_errors),
      cmocka_unit_test(test_allocation_failure),
      cmocka_unit_test(test_random_equations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
