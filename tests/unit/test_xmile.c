/* Unit tests: the XMILE reader (xmile/reader.c) — teacup exactly, sim_specs variants,
 * graphical functions, modules, arrays, macros, behaviors, every bad input with its position,
 * the size limits, and allocation-failure injection. Models from the sdxorg suite are read
 * from $TR_CONFORMANCE_DIR (default ../shared/conformance/sdxorg-test-models, relative to the
 * repository root where the test runner starts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xmile/model.h"
#include "xmile/reader_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------------------ */

static const char *suite_dir(void) {
  const char *d = getenv("TR_CONFORMANCE_DIR");
  return d && *d ? d : "../shared/conformance/sdxorg-test-models";
}

static tr_xmile *read_ok(const char *text) {
  tr_xmile *x = NULL;
  tr_error e;
  tr_error_clear(&e);
  int rc = tr_xmile_read_buffer(text, strlen(text), "t.xmile", &x, &e);
  if (rc != TR_OK) print_error("unexpected: %s\n", tr_error_text(&e));
  assert_int_equal(rc, TR_OK);
  assert_non_null(x);
  return x;
}

static tr_xmile *read_suite(const char *rel) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", suite_dir(), rel);
  tr_xmile *x = NULL;
  tr_error e;
  tr_error_clear(&e);
  int rc = tr_xmile_read_file(path, &x, &e);
  if (rc != TR_OK) print_error("%s: %s\n", path, tr_error_text(&e));
  assert_int_equal(rc, TR_OK);
  return x;
}

/* Read text that must fail with `code`; the GNU-form message must equal `want`. */
static void read_bad(const char *text, int code, const char *want) {
  tr_xmile *x = (tr_xmile *)1;
  tr_error e;
  tr_error_clear(&e);
  int rc = tr_xmile_read_buffer(text, strlen(text), "bad.xmile", &x, &e);
  assert_int_equal(rc, code);
  assert_null(x);
  assert_string_equal(tr_error_text(&e), want);
}

static const tr_var *find(const tr_model_def *m, const char *ident) {
  for (size_t i = 0; i < m->n_vars; i++)
    if (strcmp(m->vars[i].ident, ident) == 0) return &m->vars[i];
  fail_msg("no variable '%s'", ident);
  return NULL;
}

#define SPECS "<sim_specs><start>0</start><stop>10</stop><dt>1</dt></sim_specs>"
#define WRAP(body)                                                                                 \
  "<xmile version=\"1.0\">" SPECS "<model><variables>" body "</variables></model></xmile>"

/* The hand-written teacup of the suite (samples/teacup/teacup.xmile), byte for byte. */
static const char teacup[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<xmile version=\"1.0\" xmlns=\"http://docs.oasis-open.org/xmile/ns/XMILE/v1.0\">\n"
    "    <header>\n"
    "        <vendor>James Houghton</vendor>\n"
    "        <name>Teacup</name>\n"
    "        <options>\n"
    "            <uses_outputs/>\n"
    "        </options>\n"
    "        <product version=\"1.0\">Hand Coded XMILE</product>\n"
    "    </header>\n"
    "    <sim_specs>\n"
    "        <stop>30.0</stop>\n"
    "        <start>0.0</start>\n"
    "        <dt>0.125</dt>\n"
    "    </sim_specs>\n"
    "    <model>\n"
    "        <variables>\n"
    "            <flow name=\"Heat Loss to Room\">\n"
    "                <doc>Heat Loss to Room</doc>\n"
    "                <eqn>(\"Teacup Temperature\"-\"Room Temperature\")/\"Characteristic "
    "Time\"</eqn>\n"
    "            </flow>\n"
    "            <aux name=\"Room Temperature\">\n"
    "                <doc>Ambient Room Temperature</doc>\n"
    "                <eqn>70</eqn>\n"
    "            </aux>\n"
    "            <stock name=\"Teacup Temperature\">\n"
    "                <doc>The average temperature of the tea and the cup</doc>\n"
    "                <outflow>\"Heat Loss to Room\"</outflow>\n"
    "                <eqn>180</eqn>\n"
    "            </stock>\n"
    "            <aux name=\"Characteristic Time\">\n"
    "                <eqn>10</eqn>\n"
    "            </aux>\n"
    "        </variables>\n"
    "    </model>\n"
    "</xmile>";

/* ---- well-formed models ------------------------------------------------------------------- */

static void check_teacup(const tr_xmile *x) {
  assert_string_equal(x->vendor, "James Houghton");
  assert_string_equal(x->product, "Hand Coded XMILE");
  assert_string_equal(x->model_name, "Teacup");
  assert_true(x->specs.start == 0.0);
  assert_true(x->specs.stop == 30.0);
  assert_true(x->specs.dt == 0.125);
  assert_int_equal(x->specs.method, TR_METHOD_EULER);
  assert_null(x->specs.time_units);
  assert_int_equal(x->n_models, 1);
  assert_int_equal(x->n_dims, 0);
  assert_int_equal(x->n_macros, 0);
  const tr_model_def *m = &x->models[0];
  assert_null(m->name);
  assert_int_equal(m->n_vars, 4);
  const tr_var *f = &m->vars[0];
  assert_int_equal(f->kind, TR_VK_FLOW);
  assert_string_equal(f->name, "Heat Loss to Room");
  assert_string_equal(f->ident, "heat_loss_to_room");
  assert_string_equal(f->eqn,
                      "(\"Teacup Temperature\"-\"Room Temperature\")/\"Characteristic Time\"");
  assert_int_equal(f->pos.line, 18);
  assert_int_equal(f->pos.col, 13);
  assert_int_equal(f->eqn_pos.line, 20);
  assert_int_equal(f->eqn_pos.col, 22);
  assert_string_equal(f->doc, "Heat Loss to Room");
  assert_int_equal(f->non_negative, 0);
  const tr_var *room = &m->vars[1];
  assert_int_equal(room->kind, TR_VK_AUX);
  assert_string_equal(room->ident, "room_temperature");
  assert_string_equal(room->eqn, "70");
  assert_string_equal(room->doc, "Ambient Room Temperature");
  assert_null(room->units);
  const tr_var *cup = &m->vars[2];
  assert_int_equal(cup->kind, TR_VK_STOCK);
  assert_string_equal(cup->name, "Teacup Temperature");
  assert_string_equal(cup->eqn, "180");
  assert_int_equal(cup->n_inflows, 0);
  assert_int_equal(cup->n_outflows, 1);
  assert_string_equal(cup->outflows[0], "heat_loss_to_room");
  assert_int_equal(cup->non_negative, 0);
  const tr_var *ct = &m->vars[3];
  assert_string_equal(ct->name, "Characteristic Time");
  assert_string_equal(ct->eqn, "10");
  assert_null(ct->doc);
  assert_null(ct->gf);
  assert_int_equal(ct->n_dims, 0);
}

static void test_teacup_exact(void **state) {
  (void)state;
  tr_xmile *x = read_ok(teacup);
  assert_string_equal(x->file, "t.xmile");
  check_teacup(x);
  tr_xmile_free(x);
  /* the suite's copy is the same file, read through tr_xmile_read_file */
  x = read_suite("samples/teacup/teacup.xmile");
  check_teacup(x);
  tr_xmile_free(x);
  tr_xmile_free(NULL);
}

static void test_sim_specs(void **state) {
  (void)state;
  tr_xmile *x = read_ok("<xmile><sim_specs method=\"rK4\" time_units=\"Months\">"
                        "<start> 1 </start><stop>101</stop><dt reciprocal=\"true\">32</dt>"
                        "</sim_specs><model/></xmile>");
  assert_true(x->specs.start == 1.0);
  assert_true(x->specs.stop == 101.0);
  assert_true(x->specs.dt == 1.0 / 32.0);
  assert_int_equal(x->specs.method, TR_METHOD_RK4);
  assert_string_equal(x->specs.time_units, "Months");
  assert_int_equal(x->models[0].n_vars, 0);
  tr_xmile_free(x);
  x = read_ok("<isee:xmile><isee:sim_specs method=\"RK2\"><start>0</start><stop>1</stop>"
              "</isee:sim_specs><model/></isee:xmile>");
  assert_int_equal(x->specs.method, TR_METHOD_RK2);
  assert_true(x->specs.dt == 1.0); /* XMILE default */
  tr_xmile_free(x);
  x = read_ok("<xmile><sim_specs method=\"EULER\"><start>0</start><stop>1</stop>"
              "<dt>.25</dt></sim_specs><model/></xmile>");
  assert_int_equal(x->specs.method, TR_METHOD_EULER);
  assert_true(x->specs.dt == 0.25);
  tr_xmile_free(x);
  /* the suite's SIR with <dt reciprocal="true">32</dt> */
  x = read_suite("samples/SIR/SIR_reciprocal-dt.xmile");
  assert_true(x->specs.dt == 0.03125);
  assert_true(x->specs.stop == 100.0);
  tr_xmile_free(x);
}

static void test_gf_variants(void **state) {
  (void)state;
  tr_xmile *x = read_ok(
      WRAP("<aux name=\"a\"><eqn>TIME</eqn><gf><xscale min=\"0\" max=\"10\"/>"
           "<yscale min=\"0\" max=\"1\"/><ypts>0,1,4</ypts></gf></aux>"
           "<aux name=\"b\"><eqn>TIME</eqn><gf type=\"discrete\"><xpts>1, 2 ,5</xpts>"
           "<ypts>3,2,1</ypts></gf></aux>"
           "<aux name=\"c\"><eqn>TIME</eqn><gf type=\"Extrapolate\"><xpts sep=\";\">0;1</xpts>"
           "<ypts sep=\";\">-1;1e2</ypts></gf></aux>"
           "<aux name=\"d\"><eqn>TIME</eqn><gf discrete=\"true\"><xscale min=\"2\" max=\"2\"/>"
           "<ypts>7</ypts></gf></aux>"
           "<gf name=\"Table One\"><xpts>0,5</xpts><ypts>0,1</ypts></gf>"
           "<isee:gf name=\"t2\" type=\"continuous\"><xscale min=\"-1\" max=\"1\"/>"
           "<ypts>1,0,1</ypts></isee:gf>"));
  const tr_model_def *m = &x->models[0];
  const tr_var *a = find(m, "a");
  assert_non_null(a->gf);
  assert_int_equal(a->gf->type, TR_GF_CONTINUOUS);
  assert_int_equal(a->gf->n, 3);
  assert_true(a->gf->x[0] == 0 && a->gf->x[1] == 5 && a->gf->x[2] == 10);
  assert_true(a->gf->y[0] == 0 && a->gf->y[1] == 1 && a->gf->y[2] == 4);
  assert_null(a->gf->name);
  assert_string_equal(a->eqn, "TIME");
  const tr_var *b = find(m, "b");
  assert_int_equal(b->gf->type, TR_GF_DISCRETE);
  assert_true(b->gf->x[0] == 1 && b->gf->x[1] == 2 && b->gf->x[2] == 5);
  assert_true(b->gf->y[2] == 1);
  const tr_var *c = find(m, "c");
  assert_int_equal(c->gf->type, TR_GF_EXTRAPOLATE);
  assert_int_equal(c->gf->n, 2);
  assert_true(c->gf->y[0] == -1 && c->gf->y[1] == 100);
  const tr_var *d = find(m, "d");
  assert_int_equal(d->gf->type, TR_GF_DISCRETE);
  assert_int_equal(d->gf->n, 1);
  assert_true(d->gf->x[0] == 2 && d->gf->y[0] == 7);
  const tr_var *t1 = find(m, "table_one");
  assert_int_equal(t1->kind, TR_VK_GF);
  assert_null(t1->eqn);
  assert_string_equal(t1->gf->name, "Table One");
  assert_true(t1->gf->x[1] == 5 && t1->gf->y[1] == 1);
  const tr_var *t2 = find(m, "t2");
  assert_int_equal(t2->kind, TR_VK_GF);
  assert_true(t2->gf->x[0] == -1 && t2->gf->x[1] == 0 && t2->gf->x[2] == 1);
  tr_xmile_free(x);

  /* the suite's lookup variants: xpts with sep, xscale, ypts with sep all give one table */
  const char *files[] = {
      "tests/lookups/test_lookups.xmile", "tests/lookups/test_lookups_xpts_sep.xmile",
      "tests/lookups/test_lookups_xscale.xmile", "tests/lookups/test_lookups_ypts_sep.xmile"};
  for (size_t i = 0; i < 4; i++) {
    x = read_suite(files[i]);
    const tr_var *t = find(&x->models[0], "lookup_function_table");
    assert_int_equal(t->kind, TR_VK_GF);
    assert_int_equal(t->gf->n, 10);
    assert_true(t->gf->x[9] == 45 && t->gf->x[1] == 5);
    assert_true(t->gf->y[2] == 1 && t->gf->y[6] == -1);
    tr_xmile_free(x);
  }
}

static void test_modules_hares_and_lynxes(void **state) {
  (void)state;
  const char *files[] = {"samples/bpowers-hares_and_lynxes_modules/model.xmile",
                         "samples/bpowers-hares_and_lynxes_modules/model.stmx"};
  for (size_t f = 0; f < 2; f++) {
    tr_xmile *x = read_suite(files[f]);
    assert_int_equal(x->n_models, 3);
    const tr_model_def *root = &x->models[0];
    assert_null(root->name);
    const tr_var *hares = find(root, "hares");
    assert_int_equal(hares->kind, TR_VK_MODULE);
    assert_string_equal(hares->module_model, "hares");
    assert_int_equal(hares->n_connects, 2);
    /* "hares.area" (stmx) and "area" (xmile) both normalise to "area"; ".area" to "area" */
    assert_string_equal(hares->connects[0].to, "area");
    assert_string_equal(hares->connects[0].from, "area");
    assert_string_equal(hares->connects[1].to, "lynxes");
    assert_string_equal(hares->connects[1].from, "lynxes.lynxes");
    const tr_var *harvest = find(root, "size_of_one_time_lynx_harvest");
    /* "size_of_one\\ntime_lynx_harvest" (xmile), "size of one\\ntime lynx harvest" (stmx) */
    assert_string_equal(harvest->name,
                        f == 0 ? "size_of_one time_lynx_harvest" : "size of one time lynx harvest");
    assert_string_equal(harvest->eqn, "100");
    const tr_model_def *hm = NULL;
    for (size_t i = 1; i < 3; i++)
      if (strcmp(x->models[i].ident, "hares") == 0) hm = &x->models[i];
    assert_non_null(hm);
    assert_string_equal(hm->name, "hares");
    const tr_var *stock = find(hm, "hares");
    assert_int_equal(stock->kind, TR_VK_STOCK);
    assert_int_equal(stock->non_negative, 1);
    assert_string_equal(stock->inflows[0], "births");
    assert_string_equal(stock->outflows[0], "deaths");
    const tr_var *killed = find(hm, "hares_killed_per_lynx");
    assert_non_null(killed->gf);
    assert_int_equal(killed->gf->n, 11);
    assert_true(killed->gf->x[0] == 0 && killed->gf->x[10] == 500);
    const tr_var *area = find(hm, "area");
    assert_int_equal(f == 1 ? area->is_input : 1, 1);
    tr_xmile_free(x);
  }
  /* explicit model= attribute and access="input" */
  tr_xmile *x = read_ok("<xmile>" SPECS "<model><variables><module name=\"Shop A\" model=\"shop\">"
                        "<connect to=\"Shop_A.price\" from=\"base price\"/></module>"
                        "<aux name=\"base price\"><eqn>3</eqn></aux></variables></model>"
                        "<model name=\"Shop\"><variables><aux name=\"price\" access=\"input\">"
                        "<eqn>1</eqn></aux></variables></model></xmile>");
  const tr_var *shop = find(&x->models[0], "shop_a");
  assert_string_equal(shop->module_model, "shop");
  assert_string_equal(shop->connects[0].to, "price");
  assert_string_equal(shop->connects[0].from, "base_price");
  assert_int_equal(find(&x->models[1], "price")->is_input, 1);
  tr_xmile_free(x);
}

static void test_arrays_and_elements(void **state) {
  (void)state;
  tr_xmile *x = read_ok("<xmile>" SPECS "<dimensions><dim name=\"City\"><elem name=\"Boston\"/>"
                        "<elem name=\"New York\"/></dim><dim name=\"n\" size=\"3\"/></dimensions>"
                        "<model><variables>"
                        "<aux name=\"pop\"><dimensions><dim name=\"City\"/></dimensions>"
                        "<element subscript=\"Boston\"><eqn>1</eqn></element>"
                        "<element subscript=\" New York \"><eqn>2+\n 3</eqn></element></aux>"
                        "<aux name=\"grid\"><dimensions><dim name=\"City\"/><dim name=\"n\"/>"
                        "</dimensions><eqn>pop[City] * n</eqn></aux>"
                        "<aux name=\"vensim\"><dimensions><dim name=\"City\"/><dim name=\"n\"/>"
                        "</dimensions><eqn>1</eqn><eqn>2</eqn><eqn>3</eqn><eqn>4</eqn><eqn>5</eqn>"
                        "<eqn>6</eqn></aux>"
                        "<aux name=\"curve\"><dimensions><dim name=\"n\"/></dimensions>"
                        "<element subscript=\"1\"><eqn>TIME</eqn><gf><xpts>0,1</xpts>"
                        "<ypts>0,2</ypts></gf></element></aux>"
                        "</variables></model></xmile>");
  assert_int_equal(x->n_dims, 2);
  assert_string_equal(x->dims[0].name, "City");
  assert_string_equal(x->dims[0].ident, "city");
  assert_int_equal(x->dims[0].size, 2);
  assert_string_equal(x->dims[0].elems[1], "new_york");
  assert_string_equal(x->dims[0].elem_names[1], "New York");
  assert_int_equal(x->dims[1].size, 3);
  assert_string_equal(x->dims[1].elems[0], "1");
  assert_string_equal(x->dims[1].elems[2], "3");
  const tr_model_def *m = &x->models[0];
  const tr_var *pop = find(m, "pop");
  assert_int_equal(pop->n_dims, 1);
  assert_string_equal(pop->dims[0], "city");
  assert_null(pop->eqn);
  assert_int_equal(pop->n_elements, 2);
  assert_string_equal(pop->elements[0].subscript, "Boston");
  assert_string_equal(pop->elements[0].eqn, "1");
  assert_string_equal(pop->elements[1].subscript, "New York");
  assert_string_equal(pop->elements[1].eqn, "2+\n 3");
  assert_int_equal(pop->elements[1].eqn_pos.line, 1);
  const tr_var *grid = find(m, "grid");
  assert_int_equal(grid->n_dims, 2);
  assert_string_equal(grid->dims[1], "n");
  assert_string_equal(grid->eqn, "pop[City] * n");
  /* Vensim's export: one <eqn> per element, row-major, becomes per-element equations */
  const tr_var *ven = find(m, "vensim");
  assert_null(ven->eqn);
  assert_int_equal(ven->n_elements, 6);
  assert_string_equal(ven->elements[0].subscript, "Boston, 1");
  assert_string_equal(ven->elements[2].subscript, "Boston, 3");
  assert_string_equal(ven->elements[3].subscript, "New York, 1");
  assert_string_equal(ven->elements[5].subscript, "New York, 3");
  assert_string_equal(ven->elements[4].eqn, "5");
  const tr_var *curve = find(m, "curve");
  assert_non_null(curve->elements[0].gf);
  assert_true(curve->elements[0].gf->y[1] == 2);
  assert_null(curve->gf);
  tr_xmile_free(x);

  x = read_suite("tests/subscript_individually_defined_1d_arrays/"
                 "subscript_individually_defined_1d_arrays.xmile");
  assert_int_equal(x->n_dims, 1);
  assert_int_equal(x->dims[0].size, 3);
  assert_string_equal(x->dims[0].elems[2], "entry_3");
  const tr_var *rate = find(&x->models[0], "rate_a");
  assert_int_equal(rate->n_elements, 3);
  assert_string_equal(rate->elements[2].subscript, "Entry 3");
  tr_xmile_free(x);
}

static void test_macros(void **state) {
  (void)state;
  tr_xmile *x = read_ok(
      "<xmile>" SPECS "<macro name=\"Log Base\"><parm>x</parm><parm>Base Value</parm>"
      "<eqn>LN(x)/LN(Base_Value)</eqn></macro>"
      "<macro name=\"acc\"><parm>rate</parm><eqn>total</eqn><variables>"
      "<stock name=\"total\"><eqn>0</eqn><inflow>in</inflow></stock>"
      "<flow name=\"in\"><eqn>rate</eqn></flow></variables></macro>"
      "<model><variables><aux name=\"y\"><eqn>LOG_BASE(8, 2)</eqn></aux></variables></model>"
      "</xmile>");
  assert_int_equal(x->n_macros, 2);
  const tr_macro *m = &x->macros[0];
  assert_string_equal(m->name, "Log Base");
  assert_string_equal(m->ident, "log_base");
  assert_int_equal(m->n_params, 2);
  assert_string_equal(m->params[0], "x");
  assert_string_equal(m->params[1], "base_value");
  assert_string_equal(m->eqn, "LN(x)/LN(Base_Value)");
  assert_int_equal(m->n_vars, 0);
  const tr_macro *acc = &x->macros[1];
  assert_int_equal(acc->n_params, 1);
  assert_int_equal(acc->n_vars, 2);
  assert_int_equal(acc->vars[0].kind, TR_VK_STOCK);
  assert_string_equal(acc->vars[0].inflows[0], "in");
  assert_int_equal(acc->vars[1].kind, TR_VK_FLOW);
  assert_int_equal(x->models[0].n_vars, 1);
  tr_xmile_free(x);
}

static void test_behavior_and_non_negative(void **state) {
  (void)state;
  /* file-level behavior for flows only; explicit <non_negative>false</non_negative> wins */
  tr_xmile *x = read_ok("<xmile>" SPECS "<behavior><flow><non_negative/></flow></behavior>"
                        "<model name=\"default\"><variables>"
                        "<flow name=\"f1\"><eqn>1</eqn></flow>"
                        "<flow name=\"f2\"><eqn>1</eqn><non_negative> FALSE </non_negative></flow>"
                        "<stock name=\"s1\"><eqn>1</eqn><inflow>f1</inflow><outflow>f2</outflow>"
                        "</stock>"
                        "<stock name=\"s2\"><eqn>1</eqn><non_negative> TruE </non_negative></stock>"
                        "</variables></model></xmile>");
  const tr_model_def *m = &x->models[0];
  assert_null(m->name); /* sdCloud's only model, named "default", is the root */
  assert_int_equal(find(m, "f1")->non_negative, 1);
  assert_int_equal(find(m, "f2")->non_negative, 0);
  assert_int_equal(find(m, "s1")->non_negative, 0);
  assert_int_equal(find(m, "s2")->non_negative, 1);
  tr_xmile_free(x);
  /* behavior for everything, at model level */
  x = read_ok("<xmile>" SPECS "<model><behavior><non_negative/></behavior><variables>"
              "<flow name=\"f\"><eqn>1</eqn></flow><stock name=\"s\"><eqn>1</eqn></stock>"
              "<aux name=\"a\"><eqn>1</eqn></aux></variables></model></xmile>");
  m = &x->models[0];
  assert_int_equal(find(m, "f")->non_negative, 1);
  assert_int_equal(find(m, "s")->non_negative, 1);
  assert_int_equal(find(m, "a")->non_negative, 0);
  tr_xmile_free(x);
  x = read_suite("tests/non_negative_stocks/test_non_negative_stocks_behavior.xmile");
  m = &x->models[0];
  assert_int_equal(find(m, "teststock0")->non_negative, 0);
  assert_int_equal(find(m, "teststock1")->non_negative, 1);
  assert_int_equal(find(m, "outflow")->non_negative, 0);
  tr_xmile_free(x);
}

static void test_names_units_docs_views(void **state) {
  (void)state;
  tr_xmile *x =
      read_ok("<xmile><isee:prefs show_module_prefix=\"true\"/>" SPECS
              "<model><doc>The model.</doc><variables>"
              "<stock name=\"Stock with \\n Newline\"><eqn>1</eqn><units> people </units>"
              "<doc>Line <b>bold</b> text</doc>"
              "<inflow>\"Flow w/ division, lists, and INITIAL(x)\"</inflow></stock>"
              "<flow name=\"Flow w/ division, lists, and INITIAL(x)\"><eqn>a &gt; b</eqn></flow>"
              "<aux name=\"&quot;quoted&quot;\"><units></units><eqn>\n   7\n</eqn></aux>"
              "<group name=\"g\"><var>x</var></group>"
              "</variables><views><view><stock name=\"ghost\" x=\"1\"/><aux name=\"ghost2\"/>"
              "</view></views></model></xmile>");
  const tr_model_def *m = &x->models[0];
  assert_int_equal(m->n_vars, 3);
  assert_string_equal(x->doc, "The model.");
  const tr_var *s = find(m, "stock_with_newline");
  assert_string_equal(s->name, "Stock with   Newline");
  assert_string_equal(s->units, "people");
  assert_string_equal(s->doc, "Line bold text");
  assert_string_equal(s->inflows[0], "flow_w/_division,_lists,_and_initial(x)");
  const tr_var *f = &m->vars[1];
  assert_string_equal(f->eqn, "a > b");
  const tr_var *q = find(m, "quoted");
  assert_string_equal(q->name, "quoted");
  assert_null(q->units);
  assert_string_equal(q->eqn, "7");
  assert_int_equal(q->eqn_pos.line, 2); /* the first non-blank character of the equation */
  assert_int_equal(q->eqn_pos.col, 4);
  tr_xmile_free(x);
}

/* Every file of the suite that is well-formed XML reads without error. */
static void test_suite_files_read(void **state) {
  (void)state;
  const char *files[] = {"samples/SIR/SIR.stmx",
                         "samples/SIR/SIR_legacy.stmx",
                         "samples/teacup/teacup.stmx",
                         "samples/teacup/teacup_w_diagram.xmile",
                         "tests/delay_xmile/test_delay_xmile.xmile",
                         "tests/special_characters_xmile/test_special_variable_names.xmile",
                         "tests/special_characters_xmile/test_special_variable_names.stmx",
                         "tests/arithmetics_exp/test_arithmetics_exp.xmile",
                         "tests/zeroled_decimals/test_zeroled_decimals.xmile",
                         "tests/non_negative_all/test_non_negative_all1.xmile",
                         "tests/subscripted_trig/test_subscripted_trig.xmile",
                         "tests/subscript_mixed_assembly/test_subscript_mixed_assembly.stmx",
                         "tests/lookups_inline/test_lookups_inline.stmx"};
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    tr_xmile *x = read_suite(files[i]);
    assert_true(x->models[0].n_vars > 0);
    tr_xmile_free(x);
  }
}

/* ---- bad input ---------------------------------------------------------------------------- */

static void test_bad_xml(void **state) {
  (void)state;
  read_bad("<xmile>\n  <model>\n  </modle>\n</xmile>", TR_ERR_PARSE,
           "bad.xmile:3:5: XML error: mismatched tag");
  read_bad("", TR_ERR_PARSE, "bad.xmile:1:1: XML error: no element found");
  read_bad("<xmile><sim_specs>", TR_ERR_PARSE, "bad.xmile:1:19: XML error: no element found");
  read_bad("<xmile a=\"1\" a=\"2\"/>", TR_ERR_PARSE,
           "bad.xmile:1:14: XML error: duplicate attribute");
  /* the suite's malformed case: an unclosed <flow> */
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", suite_dir(),
           "tests/non_negative_flows/test_non_negative_flows.xmile");
  tr_xmile *x = NULL;
  tr_error e;
  tr_error_clear(&e);
  assert_int_equal(tr_xmile_read_file(path, &x, &e), TR_ERR_PARSE);
  assert_null(x);
  assert_non_null(strstr(tr_error_text(&e), "test_non_negative_flows.xmile:45:11: XML error: "
                                            "mismatched tag"));
  assert_int_equal(tr_xmile_read_file("/nonexistent/m.xmile", &x, &e), TR_ERR_IO);
  assert_non_null(strstr(tr_error_text(&e), "/nonexistent/m.xmile: cannot open"));
  assert_int_equal(tr_xmile_read_file("/tmp", &x, &e), TR_ERR_IO); /* a directory */
  assert_null(x);
  assert_string_equal(tr_error_text(&e), "/tmp: read error: Is a directory");
}

static void test_bad_models(void **state) {
  (void)state;
  read_bad(WRAP("<aux name=\"t\"><eqn>TIME</eqn>\n<gf><xpts>0,2,1</xpts><ypts>1,2,3</ypts>"
                "</gf></aux>"),
           TR_ERR_INVALID,
           "bad.xmile:2:1: graphical function of 't': x values are not ascending (1 after 2 at "
           "point 3)");
  read_bad(WRAP("<aux name=\"t\"><eqn>TIME</eqn><gf><xpts>0,1</xpts>\n  <ypts>1,x2</ypts>"
                "</gf></aux>"),
           TR_ERR_INVALID,
           "bad.xmile:2:9: graphical function of 't': 'x2' in <ypts> is not a number");
  read_bad(WRAP("<aux name=\"t\"><gf><xpts>0,1</xpts><ypts>1,2,3</ypts></gf></aux>"),
           TR_ERR_INVALID, "bad.xmile:1:118: graphical function of 't': 2 <xpts> but 3 <ypts>");
  read_bad(WRAP("<aux name=\"t\"><gf><ypts>1</ypts></gf></aux>"), TR_ERR_INVALID,
           "bad.xmile:1:118: graphical function of 't' has neither <xpts> nor <xscale>");
  read_bad(WRAP("<aux name=\"t\"><gf type=\"smooth\"><ypts>1</ypts></gf></aux>"), TR_ERR_INVALID,
           "bad.xmile:1:118: graphical function of 't': unknown type 'smooth' (continuous, "
           "extrapolate or discrete)");
  read_bad("<xmile><sim_specs><start>0</start>\n<stop>ten</stop></sim_specs><model/></xmile>",
           TR_ERR_INVALID, "bad.xmile:2:7: sim_specs <stop>: 'ten' is not a number");
  read_bad("<xmile><sim_specs><start>0</start><stop>1</stop><dt>0</dt></sim_specs><model/>"
           "</xmile>",
           TR_ERR_INVALID, "bad.xmile:1:53: sim_specs <dt>: 0 is not positive");
  read_bad("<xmile><sim_specs method=\"gear\"><start>0</start><stop>1</stop></sim_specs>"
           "<model/></xmile>",
           TR_ERR_INVALID, "bad.xmile:1:8: sim_specs: unknown method 'gear' (euler, rk2 or rk4)");
  read_bad(WRAP("<stock name=\"Cash\"><eqn>0</eqn>\n   <inflow>Revnue</inflow></stock>"
                "<flow name=\"Revenue\"><eqn>1</eqn></flow>"),
           TR_ERR_INVALID,
           "bad.xmile:2:12: stock 'Cash': inflow 'revnue' names no variable in the root model (did "
           "you mean 'revenue'?)");
  read_bad(WRAP("<stock name=\"Cash\"><eqn>0</eqn><outflow>x</outflow></stock>"), TR_ERR_INVALID,
           "bad.xmile:1:144: stock 'Cash': outflow 'x' names no variable in the root model");
  read_bad(WRAP("<aux name=\"a\"><eqn>1</eqn></aux>\n<aux name=\"A\"><eqn>1</eqn></aux>"),
           TR_ERR_INVALID,
           "bad.xmile:2:1: 'A' is defined twice in the root model (first at line 1)");
  read_bad(WRAP("<aux><eqn>1</eqn></aux>"), TR_ERR_INVALID,
           "bad.xmile:1:104: <aux> without a name");
  read_bad(WRAP("<aux name=\"a\"><non_negative>maybe</non_negative></aux>"), TR_ERR_INVALID,
           "bad.xmile:1:132: 'a': <non_negative> must be empty, true or false, not 'maybe'");
  read_bad(WRAP("<stock name=\"Pipe\"><eqn>0</eqn><conveyor><len>3</len></conveyor></stock>"),
           TR_ERR_UNSUPPORTED, "bad.xmile:1:135: stock 'Pipe': conveyors are not supported");
  read_bad(WRAP("<stock name=\"Q\"><queue/></stock>"), TR_ERR_UNSUPPORTED,
           "bad.xmile:1:120: stock 'Q': queues are not supported");
  read_bad("<model/>", TR_ERR_INVALID, "bad.xmile:1:1: root element is <model>, not <xmile>");
  read_bad("<xmile><model/></xmile>", TR_ERR_INVALID,
           "bad.xmile: no <sim_specs>: start, stop and dt are needed");
  read_bad("<xmile>" SPECS "</xmile>", TR_ERR_INVALID, "bad.xmile: no <model>");
  read_bad("<xmile><sim_specs><start>5</start><stop>1</stop></sim_specs><model/></xmile>",
           TR_ERR_INVALID, "bad.xmile: <sim_specs>: stop 1 is before start 5");
  read_bad("<xmile>" SPECS "<model><variables><module name=\"m\"/></variables></model></xmile>",
           TR_ERR_INVALID,
           "bad.xmile:1:90: module 'm' instantiates 'm', but there is no <model name=\"m\">");
  read_bad("<xmile>" SPECS "<model/><model/></xmile>", TR_ERR_INVALID,
           "bad.xmile:1:80: more than one unnamed (root) <model>");
  read_bad("<xmile>" SPECS "<dimensions><dim name=\"d\" size=\"0\"/></dimensions><model/></xmile>",
           TR_ERR_INVALID,
           "bad.xmile:1:84: dimension 'd': size '0' is not a positive whole number");
  read_bad("<xmile>" SPECS "<dimensions><dim name=\"d\"/></dimensions><model/></xmile>",
           TR_ERR_INVALID, "bad.xmile:1:84: dimension 'd' has neither size nor <elem>");
  read_bad("<xmile>" SPECS "<dimensions><dim name=\"d\" size=\"3\"/></dimensions><model><variables>"
           "<aux name=\"a\"><dimensions><dim name=\"d\"/></dimensions><eqn>1</eqn><eqn>2</eqn>"
           "</aux></variables></model></xmile>",
           TR_ERR_INVALID, "bad.xmile:1:139: 'a' has 2 <eqn> elements for 3 array elements");
  read_bad(WRAP("<aux name=\"a\"><eqn>1</eqn><eqn>2</eqn></aux>"), TR_ERR_INVALID,
           "bad.xmile:1:135: 'a' has 2 <eqn> elements but is not an array");
  read_bad("<xmile>" SPECS "<macro name=\"m\"><parm>a</parm></macro><model/></xmile>",
           TR_ERR_INVALID, "bad.xmile:1:72: macro 'm' has no <eqn>");
}

static void test_limits(void **state) {
  (void)state;
  assert_true(TR_XMILE_MAX_BYTES == 268435456u);
  assert_true(TR_XMILE_MAX_VARS == 1000000ul);
  tr_xmile *x = NULL;
  tr_error e;
  tr_error_clear(&e);
  /* more variables than allowed: the limit names the first one over it */
  tr_xmile_limits lim = {TR_XMILE_MAX_BYTES, 3};
  const char *four = WRAP("<aux name=\"a\"/><aux name=\"b\"/><aux name=\"c\"/><aux name=\"d\"/>");
  assert_int_equal(tr_xmile_read_buffer_limited(four, strlen(four), "big.xmile", &lim, &x, &e),
                   TR_ERR_LIMIT);
  assert_null(x);
  assert_string_equal(tr_error_text(&e), "big.xmile:1:149: more than 3 variables");
  lim.max_vars = 4;
  assert_int_equal(tr_xmile_read_buffer_limited(four, strlen(four), "big.xmile", &lim, &x, &e),
                   TR_OK);
  tr_xmile_free(x);
  /* input size, from memory and from a file */
  lim.max_bytes = 100;
  assert_int_equal(tr_xmile_read_buffer_limited(four, strlen(four), "big.xmile", &lim, &x, &e),
                   TR_ERR_LIMIT);
  char path[] = "/tmp/tr_xmile_limit_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, four, strlen(four)), (ssize_t)strlen(four));
  assert_int_equal(tr_xmile_read_file_limited(path, &lim, &x, &e), TR_ERR_LIMIT);
  assert_null(x);
  /* the real 256 MiB limit, on a sparse file (nothing is read) */
  assert_int_equal(ftruncate(fd, (off_t)TR_XMILE_MAX_BYTES + 1), 0);
  close(fd);
  assert_int_equal(tr_xmile_read_file(path, &x, &e), TR_ERR_LIMIT);
  assert_non_null(strstr(tr_error_text(&e), "the limit is 268435456"));
  unlink(path);
}

static void test_encodings(void **state) {
  (void)state;
  /* UTF-8 byte order mark, UTF-8 names, CDATA equations, comments and processing instructions */
  tr_xmile *x = read_ok("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<!-- a comment --><xmile>" SPECS "<model><variables>"
                        "<aux name=\"Gr\xC3\xB6\xC3\x9F"
                        "e A\"><eqn><![CDATA[a < b && 1]]></eqn></aux>"
                        "<?isee something?></variables></model></xmile>");
  const tr_var *v = &x->models[0].vars[0];
  assert_string_equal(v->name, "Gr\xC3\xB6\xC3\x9F"
                               "e A");
  assert_string_equal(v->ident, "gr\xC3\xB6\xC3\x9F"
                                "e_a");
  assert_string_equal(v->eqn, "a < b && 1");
  tr_xmile_free(x);
  /* UTF-16LE with a BOM: expat decodes it; names come back as UTF-8 */
  const char ascii[] = "<xmile><sim_specs><start>0</start><stop>1</stop></sim_specs><model>"
                       "<variables><aux name=\"\xE9t\xE9\"><eqn>1</eqn></aux></variables>"
                       "</model></xmile>";
  char u16[2 * sizeof ascii + 2];
  size_t n = 0;
  u16[n++] = (char)0xFF;
  u16[n++] = (char)0xFE;
  for (size_t i = 0; ascii[i]; i++) { /* Latin-1 code points: one UTF-16 unit each */
    u16[n++] = ascii[i];
    u16[n++] = 0;
  }
  tr_error e;
  tr_error_clear(&e);
  assert_int_equal(tr_xmile_read_buffer(u16, n, "u16.xmile", &x, &e), TR_OK);
  assert_string_equal(x->models[0].vars[0].name, "\xC3\xA9t\xC3\xA9");
  tr_xmile_free(x);
}

/* Damaged input never crashes, leaks or half-succeeds: every strict prefix of a model is a
 * parse error, and random byte damage gives either a model or a positioned error. */
static void test_damaged_input(void **state) {
  (void)state;
  size_t len = strlen(teacup);
  size_t end = len;
  while (end > 0 && teacup[end - 1] != '>')
    end--;
  for (size_t cut = 0; cut < end; cut++) {
    tr_xmile *x = (tr_xmile *)1;
    tr_error e;
    tr_error_clear(&e);
    int rc = tr_xmile_read_buffer(teacup, cut, "cut.xmile", &x, &e);
    if (rc != TR_ERR_PARSE) print_error("cut at %zu: %d %s\n", cut, rc, tr_error_text(&e));
    assert_int_equal(rc, TR_ERR_PARSE);
    assert_null(x);
    assert_true(e.line >= 1);
  }
  char buf[sizeof teacup];
  unsigned long seed = 42;
  long ok = 0, bad = 0;
  for (int k = 0; k < 3000; k++) {
    memcpy(buf, teacup, len);
    for (int j = 0; j < 3; j++) {
      seed = seed * 6364136223846793005ul + 1442695040888963407ul;
      size_t at = (size_t)(seed >> 33) % len;
      const char pick[] = "<>/\"=&;x0 \n\\\xC3.";
      buf[at] = pick[(seed >> 20) % (sizeof pick - 1)];
    }
    tr_xmile *x = (tr_xmile *)1;
    tr_error e;
    tr_error_clear(&e);
    int rc = tr_xmile_read_buffer(buf, len, "fuzz.xmile", &x, &e);
    if (rc == TR_OK) {
      assert_non_null(x);
      assert_int_equal(x->n_models, 1);
      tr_xmile_free(x);
      ok++;
    } else {
      assert_true(rc == TR_ERR_PARSE || rc == TR_ERR_INVALID);
      assert_null(x);
      assert_true(strlen(e.msg) > 0);
      bad++;
    }
  }
  assert_true(ok > 0 && bad > 0); /* both outcomes were exercised */
}

/* ---- allocation failure ------------------------------------------------------------------- */

static const char rich[] =
    "<xmile><header><vendor>v</vendor><name>n</name></header>" SPECS
    "<behavior><non_negative/></behavior>"
    "<dimensions><dim name=\"d\"><elem name=\"a\"/><elem name=\"b\"/></dim>"
    "<dim name=\"e\" size=\"4\"/></dimensions>"
    "<macro name=\"m\"><parm>x</parm><eqn>x+s</eqn><variables><stock name=\"s\"><eqn>0</eqn>"
    "</stock></variables></macro>"
    "<model><doc>root</doc><variables>"
    "<stock name=\"s\"><eqn>1</eqn><inflow>f</inflow></stock><flow name=\"f\"><eqn>g(TIME)</eqn>"
    "</flow><gf name=\"g\"><xscale min=\"0\" max=\"1\"/><ypts>0,1,2,3,4,5,6,7,8,9</ypts></gf>"
    "<aux name=\"arr\"><dimensions><dim name=\"d\"/></dimensions><element subscript=\"a\">"
    "<eqn>1</eqn></element><element subscript=\"b\"><eqn>2</eqn><gf><xpts>0,1</xpts>"
    "<ypts>1,2</ypts></gf></element></aux>"
    "<module name=\"sub\"><connect to=\"p\" from=\"s\"/></module>"
    "</variables></model><model name=\"sub\"><variables><aux name=\"p\" access=\"input\">"
    "<eqn>0</eqn><units>u</units><doc>long documentation text that makes the builder grow "
    "a few times over its first capacity ......................................</doc></aux>"
    "</variables></model></xmile>";

static void alloc_failures(const char *text, int sticky) {
  long n;
  for (n = 1; n < 100000; n++) {
    tr_xmile *x = (tr_xmile *)1;
    tr_error e;
    tr_error_clear(&e);
    tr_alloc_fail_after(n, sticky);
    int rc = tr_xmile_read_buffer(text, strlen(text), "m.xmile", &x, &e);
    tr_alloc_fail_after(0, 0);
    if (rc == TR_OK) {
      assert_non_null(x);
      tr_xmile_free(x);
      break;
    }
    if (rc != TR_ERR_NOMEM) print_error("n=%ld: %s\n", n, tr_error_text(&e));
    assert_int_equal(rc, TR_ERR_NOMEM);
    assert_null(x);
  }
  assert_true(n > 3); /* the loop really failed allocations before succeeding */
}

static void test_alloc_failure(void **state) {
  (void)state;
  alloc_failures(teacup, 1);
  alloc_failures(teacup, 0);
  alloc_failures(rich, 1);
  alloc_failures(rich, 0);
  /* the rich model itself is right */
  tr_xmile *x = read_ok(rich);
  assert_int_equal(x->n_models, 2);
  assert_int_equal(x->n_macros, 1);
  assert_int_equal(x->macros[0].vars[0].non_negative, 1); /* file-level behavior */
  assert_int_equal(x->dims[1].size, 4);
  assert_int_equal(find(&x->models[0], "g")->gf->n, 10);
  tr_xmile_free(x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_teacup_exact),
      cmocka_unit_test(test_sim_specs),
      cmocka_unit_test(test_gf_variants),
      cmocka_unit_test(test_modules_hares_and_lynxes),
      cmocka_unit_test(test_arrays_and_elements),
      cmocka_unit_test(test_macros),
      cmocka_unit_test(test_behavior_and_non_negative),
      cmocka_unit_test(test_names_units_docs_views),
      cmocka_unit_test(test_suite_files_read),
      cmocka_unit_test(test_bad_xml),
      cmocka_unit_test(test_bad_models),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_encodings),
      cmocka_unit_test(test_damaged_input),
      cmocka_unit_test(test_alloc_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
