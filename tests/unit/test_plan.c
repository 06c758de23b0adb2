/* Unit tests: the plan file loader — the documented example (docs/plan.md) loads with the
 * values it shows, every kind of bad input gets its positioned message, limits, allocation
 * failure, and name checks against a model. IDs plan-N in failure messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tightrope/base.h"
#include "tightrope/strategy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fenced yaml block after the "<!-- plan-example -->" marker of docs/plan.md. */
static char *doc_example(void) {
  FILE *f = fopen("docs/plan.md", "rb");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *m = strstr(buf, "<!-- plan-example -->");
  if (!m) return NULL;
  char *start = strstr(m, "```yaml\n");
  if (!start) return NULL;
  start += 8;
  char *end = strstr(start, "\n```");
  if (!end) return NULL;
  end[1] = '\0';
  return start;
}

static int load(const char *yaml, tr_plan **plan, tr_error *err) {
  tr_error_clear(err);
  return tr_plan_load_buffer(yaml, strlen(yaml), "plan.yaml", plan, err);
}

static void test_doc_example(void **state) {
  (void)state;
  char *yaml = doc_example();
  assert_non_null(yaml);
  tr_plan *p = NULL;
  tr_error err;
  int rc = load(yaml, &p, &err);
  if (rc) fail_msg("plan-1: docs/plan.md example: %s", tr_error_text(&err));
  assert_string_equal(p->company.name, "Northwind Analytics");
  assert_string_equal(p->company.currency, "EUR");
  assert_true(p->company.horizon == 36);
  assert_int_equal(p->n_tensions, 2);
  const tr_tension *t = &p->tensions[0];
  assert_string_equal(t->id, "innovation_vs_support");
  assert_true(t->weight == 2);
  assert_string_equal(t->poles[1].name, "Customer support");
  assert_int_equal(t->poles[0].n_measures, 2);
  assert_string_equal(t->poles[0].measures[0].variable, "features shipped per month");
  assert_string_equal(t->poles[0].measures[1].kpi, "release_cadence");
  assert_true(t->poles[0].measures[1].has_worst);
  assert_true(t->poles[0].measures[1].weight == 0.5);
  const tr_measure *band = &t->poles[1].measures[1];
  assert_int_equal(band->direction, TR_DIR_BAND);
  assert_true(band->band_low == 1 && band->band_high == 3 && band->tolerance == 4);
  assert_true(band->target == 2); /* the band's middle */
  assert_int_equal(t->lever.n_bindings, 2);
  assert_string_equal(t->lever.bindings[1].scale_name, "total_engineering_hours");
  assert_int_equal(t->lever.bindings[1].pole, 1);
  assert_true(t->lever.bindings[0].scale_value == 1);
  assert_true(t->lever.min == 0.3 && t->lever.max == 0.9 && t->lever.current == 0.7);
  assert_true(p->tensions[1].lever.bindings[0].scale_value == 120000);
  assert_null(p->tensions[1].lever.bindings[0].scale_name);
  /* scorecard */
  const tr_scorecard *sc = &p->scorecard;
  assert_int_equal(sc->n_objectives, 5);
  assert_int_equal(sc->n_kpis, 6);
  assert_int_equal(sc->n_links, 4);
  assert_true(sc->perspectives[TR_PERSP_FINANCIAL].weight == 2);
  assert_string_equal(sc->perspectives[TR_PERSP_LEARNING].name, "People & learning");
  assert_string_equal(sc->perspectives[TR_PERSP_CUSTOMER].name, "Customer");
  long churn = tr_plan_find_kpi(p, "churn");
  assert_int_equal(churn, 2);
  assert_int_equal(sc->kpis[churn].mode, TR_SCORE_GOAL_REDFLAG);
  assert_int_equal(sc->kpis[churn].direction, TR_DIR_LOWER);
  assert_int_equal(sc->kpis[churn].perspective, TR_PERSP_CUSTOMER);
  assert_int_equal(sc->kpis[churn].leading, 1);
  assert_int_equal(sc->kpis[churn].objective, tr_plan_find_objective(p, "keep_customers"));
  assert_string_equal(sc->kpis[3].variable, "new customers");
  /* uncertainty and scenarios */
  assert_int_equal(p->uncertainty.n_inputs, 2);
  assert_string_equal(p->uncertainty.inputs[0].dist, "triangular");
  assert_int_equal(p->uncertainty.inputs[0].n_params, 3);
  assert_string_equal(p->uncertainty.inputs[0].param_names[1], "mode");
  assert_true(p->uncertainty.inputs[0].params[1] == 0.02);
  assert_non_null(p->uncertainty.correlation);
  assert_true(p->uncertainty.correlation[1] == -0.3);
  assert_int_equal(p->n_scenarios, 2);
  const tr_scenario *s = &p->scenarios[0];
  assert_int_equal(s->n_overrides, 1);
  assert_true(s->overrides[0].value == -0.02);
  assert_int_equal(s->shocks[0].kind, TR_SHOCK_RAMP);
  assert_true(s->shocks[0].has_end && s->shocks[0].end == 18);
  assert_int_equal(s->shocks[1].n_path, 3);
  assert_true(s->shocks[1].path_t[2] == 36 && s->shocks[1].path_v[1] == 0.9);
  assert_string_equal(p->scenarios[1].overrides[0].name, "price_pressure");
  assert_true(p->scenarios[1].overrides[0].value == 0.1);
  assert_true(p->scenarios[1].shocks[0].additive);
  /* reserved sections are kept */
  assert_non_null(p->stakeholders);
  assert_int_equal(p->stakeholders->n, 2);
  assert_non_null(p->swot);
  assert_non_null(p->roadmap);
  assert_int_equal(p->roadmap->n, 2);
  tr_plan_free(p);
}

typedef struct bad_case {
  const char *id;
  const char *yaml;
  int code;
  const char *want; /* substring of tr_error_text(), including the position */
} bad_case;

#define CO "company: {name: X}\n"
/* a minimal valid tension, so cases can break one piece at a time */
#define TENSION_HEAD                                                                               \
  "tensions:\n"                                                                                    \
  "  - id: t\n"                                                                                    \
  "    poles:\n"                                                                                   \
  "      - {name: A, measures: [{variable: a, target: 1}]}\n"                                      \
  "      - {name: B, measures: [{variable: b, target: 1}]}\n"

static const bad_case bad_cases[] = {
    {"plan-10 syntax", "company: [name\n", TR_ERR_PARSE, "plan.yaml:2:1: YAML syntax error"},
    {"plan-11 unknown key", "company: {name: X, sectr: saas}\n", TR_ERR_INVALID,
     "plan.yaml:1:20: company: unknown key 'sectr' (did you mean 'sector'?)"},
    {"plan-12 unknown top key", CO "tension: []\n", TR_ERR_INVALID,
     "plan.yaml:2:1: unknown key 'tension' (did you mean 'tensions'?)"},
    {"plan-13 missing key", "company: {sector: saas}\n", TR_ERR_INVALID,
     "plan.yaml:1:10: company: missing required key 'name'"},
    {"plan-14 missing company", "version: 1\n", TR_ERR_INVALID, "missing required key 'company'"},
    {"plan-15 type", "company: {name: X, horizon: [1]}\n", TR_ERR_INVALID,
     "plan.yaml:1:29: company.horizon: expected a number, got a list"},
    {"plan-16 percent", "company: {name: X, horizon: 12%}\n", TR_ERR_INVALID,
     "company.horizon: expected a number, got '12%' (write percentages as fractions"},
    {"plan-17 range order",
     CO TENSION_HEAD "    lever: {resource: r, bind: [{constant: c}], range: [0.8, 0.2], "
                     "current: 0.5}\n",
     TR_ERR_INVALID, "plan.yaml:7:56: tensions[0].lever.range: min must be below max"},
    {"plan-18 range outside",
     CO TENSION_HEAD "    lever: {resource: r, bind: [{constant: c}], range: [0.2, 1.5], "
                     "current: 0.5}\n",
     TR_ERR_INVALID, "tensions[0].lever.range: [0.2, 1.5] must lie within [0, 1]"},
    {"plan-19 current outside",
     CO TENSION_HEAD "    lever: {resource: r, bind: [{constant: c}], range: [0.2, 0.4], "
                     "current: 0.5}\n",
     TR_ERR_INVALID, "tensions[0].lever.current: 0.5 lies outside the range [0.2, 0.4]"},
    {"plan-20 one pole",
     CO "tensions:\n  - id: t\n    poles:\n      - {name: A, measures: [{variable: a, "
        "target: 1}]}\n    lever: {resource: r, bind: [{constant: c}], current: 0.5}\n",
     TR_ERR_INVALID, "plan.yaml:5:7: tensions[0].poles: a tension has exactly two poles, got 1"},
    {"plan-21 lever key typo",
     CO TENSION_HEAD "    lever: {resource: r, bind: [{constant: c}], rnage: [0, 1], "
                     "current: 0.5}\n",
     TR_ERR_INVALID, "tensions[0].lever: unknown key 'rnage' (did you mean 'range'?)"},
    {"plan-22 missing lever", CO TENSION_HEAD, TR_ERR_INVALID,
     "plan.yaml:3:5: tensions[0]: missing required key 'lever'"},
    {"plan-23 unknown kpi",
     CO "scorecard:\n  objectives: [{id: o, perspective: customer}]\n"
        "  kpis: [{id: churn, objective: o, min: 0, max: 1}]\n"
        "tensions:\n  - id: t\n    poles:\n"
        "      - {name: A, measures: [{kpi: chrun, target: 1}]}\n"
        "      - {name: B, measures: [{variable: b, target: 1}]}\n"
        "    lever: {resource: r, bind: [{constant: c}], current: 0.5}\n",
     TR_ERR_INVALID,
     "tensions[0].poles[0].measures[0].kpi: unknown KPI 'chrun' (did you mean 'churn'?)"},
    {"plan-24 enum typo",
     CO "tensions:\n  - id: t\n    poles:\n"
        "      - {name: A, measures: [{variable: a, target: 1, direction: higer}]}\n",
     TR_ERR_INVALID,
     "tensions[0].poles[0].measures[0].direction: unknown value 'higer' (did you mean 'higher'?"},
    {"plan-25 cycle",
     CO "scorecard:\n  objectives:\n    - {id: a, perspective: financial}\n"
        "    - {id: b, perspective: customer}\n    - {id: c, perspective: customer}\n"
        "  links:\n    - {cause: a, effect: b}\n    - {cause: b, effect: c}\n"
        "    - {cause: c, effect: a}\n",
     TR_ERR_CYCLE,
     "plan.yaml:10:7: scorecard.links[2]: the strategy map has a cycle: a -> b -> c -> a"},
    {"plan-26 self link",
     CO "scorecard:\n  objectives: [{id: a, perspective: financial}]\n"
        "  links: [{cause: a, effect: a}]\n",
     TR_ERR_CYCLE, "cycle: a -> a"},
    {"plan-27 link target",
     CO "scorecard:\n  objectives: [{id: grow, perspective: financial}]\n"
        "  links: [{cause: grow, effect: gorw}]\n",
     TR_ERR_INVALID,
     "scorecard.links[0].effect: unknown objective or KPI 'gorw' (did you mean 'grow'?)"},
    {"plan-28 duplicate key", "company: {name: X}\ncompany: {name: Y}\n", TR_ERR_INVALID,
     "plan.yaml:2:1: duplicate key 'company' (first at line 1)"},
    {"plan-29 alias", "company: &c {name: X}\nswot: *c\n", TR_ERR_INVALID,
     "plan.yaml:2:7: YAML aliases (*c) are not allowed"},
    {"plan-30 two documents", "company: {name: X}\n---\ncompany: {name: Y}\n", TR_ERR_INVALID,
     "single YAML document"},
    {"plan-31 version", "version: 2\n" CO, TR_ERR_INVALID,
     "version: this tightrope reads plan version 1, not 2"},
    {"plan-32 kpi progress direction",
     CO "scorecard:\n  objectives: [{id: o, perspective: financial}]\n"
        "  kpis: [{id: k, objective: o, scoring: progress, baseline: 10, target: 5}]\n",
     TR_ERR_INVALID, "scorecard.kpis[0].target: a higher_better KPI needs target (5) above"},
    {"plan-33 kpi missing min",
     CO "scorecard:\n  objectives: [{id: o, perspective: financial}]\n"
        "  kpis: [{id: k, objective: o, max: 5}]\n",
     TR_ERR_INVALID, "scorecard.kpis[0]: missing required key 'min'"},
    {"plan-34 kpi objective typo",
     CO "scorecard:\n  objectives: [{id: revenue, perspective: financial}]\n"
        "  kpis: [{id: k, objective: revnue, min: 0, max: 5}]\n",
     TR_ERR_INVALID,
     "scorecard.kpis[0].objective: unknown objective 'revnue' (did you mean 'revenue'?)"},
    {"plan-35 perspective contradiction",
     CO "scorecard:\n  objectives: [{id: o, perspective: financial}]\n"
        "  kpis: [{id: k, objective: o, perspective: customer, min: 0, max: 5}]\n",
     TR_ERR_INVALID, "'customer' contradicts objective 'o', which is in 'financial'"},
    {"plan-36 correlation asymmetric",
     CO "uncertainty:\n  inputs:\n    - {name: a, dist: normal, params: {mean: 0, sd: 1}}\n"
        "    - {name: b, dist: normal, params: {mean: 0, sd: 1}}\n"
        "  correlation: [[1, 0.5], [0.4, 1]]\n",
     TR_ERR_INVALID, "uncertainty.correlation[1][0]: the matrix must be symmetric"},
    {"plan-38 ramp without end",
     CO "scenarios:\n  - name: s\n    shocks: [{variable: d, kind: ramp, start: 1, "
        "magnitude: 0.5}]\n",
     TR_ERR_INVALID, "scenarios[0].shocks[0]: a ramp shock needs 'end' or 'duration'"},
    {"plan-39 path order",
     CO "scenarios:\n  - name: s\n    shocks: [{variable: d, kind: path, points: [[2, 1], "
        "[1, 1]]}]\n",
     TR_ERR_INVALID, "scenarios[0].shocks[0].points[1]: times must increase: 1 follows 2"},
    {"plan-40 override", CO "scenarios:\n  - name: s\n    overrides: [\"price\"]\n", TR_ERR_INVALID,
     "scenarios[0].overrides[0]: expected NAME=VALUE"},
    {"plan-41 roadmap dependency",
     CO "roadmap:\n  - {id: build, depends_on: [desgin]}\n  - {id: design}\n", TR_ERR_INVALID,
     "roadmap[0].depends_on[0]: unknown roadmap item 'desgin' (did you mean 'design'?)"},
    {"plan-42 stakeholder score", CO "stakeholders:\n  - {name: Bank, power: 3}\n", TR_ERR_INVALID,
     "stakeholders[0].power: must lie in [0, 1], got 3"},
    {"plan-43 swot shape", CO "swot:\n  strengths: fast\n", TR_ERR_INVALID,
     "swot.strengths: expected a list, got a value"},
    {"plan-44 quoted number", "company: {name: X, horizon: \"12\"}\n", TR_ERR_INVALID,
     "company.horizon: expected a number, got '12'"},
    {"plan-45 currency", "company: {name: X, currency: euro}\n", TR_ERR_INVALID,
     "company.currency: expected an ISO 4217 code"},
    {"plan-46 duplicate tension",
     CO "tensions:\n"
        "  - id: t\n    poles: [{name: A, measures: [{variable: a, target: 1}]},"
        " {name: B, measures: [{variable: b, target: 1}]}]\n"
        "    lever: {resource: r, bind: [{constant: c}], current: 0.5}\n"
        "  - id: t\n    poles: [{name: A, measures: [{variable: a, target: 1}]},"
        " {name: B, measures: [{variable: b, target: 1}]}]\n"
        "    lever: {resource: r, bind: [{constant: c}], current: 0.5}\n",
     TR_ERR_INVALID, "tensions[1].id: duplicate tension id 't' (first at line 3)"},
    {"plan-47 ratio target",
     CO "tensions:\n  - id: t\n    poles:\n"
        "      - {name: A, measures: [{variable: a, direction: lower, target: 0}]}\n",
     TR_ERR_INVALID, "measures[0].target: must be positive for ratio scoring"},
    {"plan-48 measure needs source",
     CO "tensions:\n  - id: t\n    poles:\n      - {name: A, measures: [{target: 1}]}\n",
     TR_ERR_INVALID, "tensions[0].poles[0].measures[0]: a measure names a model 'variable'"},
    {"plan-49 scalar root", "just text\n", TR_ERR_INVALID, "expected a mapping, got a value"},
    {"plan-50 bad id", CO "tensions:\n  - id: 9lives\n", TR_ERR_INVALID,
     "tensions[0].id: '9lives' is not a valid id"},
    {"plan-52 measure contradicts its KPI",
     CO "scorecard:\n  objectives: [{id: o, perspective: customer}]\n"
        "  kpis: [{id: churn, objective: o, direction: lower_better, min: 0, max: 1}]\n"
        "tensions:\n  - id: t\n    poles:\n"
        "      - {name: A, measures: [{kpi: churn, direction: higher, target: 1}]}\n",
     TR_ERR_INVALID,
     "measures[0].direction: 'higher' contradicts KPI 'churn', which is lower_better"},
    {"plan-53 measure needs a target its KPI lacks",
     CO "scorecard:\n  objectives: [{id: o, perspective: customer}]\n"
        "  kpis: [{id: nps, objective: o, min: 0, max: 100}]\n"
        "tensions:\n  - id: t\n    poles:\n      - {name: A, measures: [{kpi: nps}]}\n",
     TR_ERR_INVALID, "tensions[0].poles[0].measures[0]: missing required key 'target'"},
    {"plan-51 tab indentation", "company:\n\tname: X\n", TR_ERR_PARSE, "plan.yaml:2:"},
};

static void test_bad_inputs(void **state) {
  (void)state;
  int failures = 0;
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const bad_case *c = &bad_cases[i];
    tr_plan *p = NULL;
    tr_error err;
    int rc = load(c->yaml, &p, &err);
    const char *text = tr_error_text(&err);
    if (rc != c->code || !strstr(text, c->want)) {
      print_error("%s: got %s \"%s\", wanted %s containing \"%s\"\n", c->id, tr_status_name(rc),
                  text, tr_status_name(c->code), c->want);
      failures++;
    }
    assert_null(p);
  }
  assert_int_equal(failures, 0);
}

static void test_empty_and_minimal(void **state) {
  (void)state;
  tr_plan *p = NULL;
  tr_error err;
  /* an empty file lacks the company */
  assert_int_equal(load("", &p, &err), TR_ERR_INVALID);
  assert_non_null(strstr(tr_error_text(&err), "missing required key 'company'"));
  assert_int_equal(load(CO, &p, &err), TR_OK);
  assert_int_equal(p->n_tensions, 0);
  assert_int_equal(p->scorecard.n_kpis, 0);
  assert_true(p->scorecard.perspectives[TR_PERSP_INTERNAL].weight == 1);
  assert_string_equal(tr_perspective_name(TR_PERSP_LEARNING), "learning_growth");
  assert_null(p->uncertainty.correlation);
  assert_null(p->stakeholders);
  tr_plan_free(p);
  tr_plan_free(NULL);
}

/* JSON is YAML flow style: the JSON API sends plans in the same schema (cJSON indents with
 * tabs, which flow context allows). */
static void test_json_plan(void **state) {
  (void)state;
  const char *json =
      "{\n\t\"company\": {\"name\": \"Json Co\", \"horizon\": 24},\n"
      "\t\"tensions\": [{\"id\": \"t\", \"poles\": [\n"
      "\t\t{\"name\": \"A\", \"measures\": [{\"variable\": \"a\", \"target\": 2}]},\n"
      "\t\t{\"name\": \"B\", \"measures\": [{\"variable\": \"b\", \"target\": 1e3}]}],\n"
      "\t\t\"lever\": {\"resource\": \"budget\", \"bind\": [{\"constant\": \"share\"}],"
      " \"current\": 0.25}}]\n}\n";
  tr_plan *p = NULL;
  tr_error err;
  int rc = load(json, &p, &err);
  if (rc) fail_msg("%s", tr_error_text(&err));
  assert_string_equal(p->company.name, "Json Co");
  assert_true(p->company.horizon == 24);
  assert_true(p->tensions[0].poles[1].measures[0].target == 1000);
  assert_true(p->tensions[0].lever.current == 0.25);
  tr_plan_free(p);
  /* a JSON string where a number belongs is still a type error */
  rc = load("{\"company\": {\"name\": \"X\", \"horizon\": \"24\"}}", &p, &err);
  assert_int_equal(rc, TR_ERR_INVALID);
  assert_non_null(
      strstr(tr_error_text(&err), "plan.yaml:1:38: company.horizon: expected a number"));
}

/* A KPI measure takes direction, target and band from its KPI when it does not say them. */
static void test_measure_inherits_kpi(void **state) {
  (void)state;
  const char *yaml =
      CO "scorecard:\n  objectives: [{id: o, perspective: customer}]\n"
         "  kpis:\n"
         "    - {id: churn, objective: o, direction: lower_better, scoring: progress,"
         " baseline: 0.05, target: 0.02}\n"
         "    - {id: eng, objective: o, direction: band, band: [0.7, 0.9], min: 0, max: 1}\n"
         "tensions:\n  - id: t\n    poles:\n"
         "      - {name: A, measures: [{kpi: churn}, {kpi: churn, target: 0.03}]}\n"
         "      - {name: B, measures: [{kpi: eng}]}\n"
         "    lever: {resource: r, bind: [{constant: c}], current: 0.5}\n";
  tr_plan *p = NULL;
  tr_error err;
  int rc = load(yaml, &p, &err);
  if (rc) fail_msg("%s", tr_error_text(&err));
  const tr_measure *m = p->tensions[0].poles[0].measures;
  assert_int_equal(m[0].direction, TR_DIR_LOWER);
  assert_true(m[0].target == 0.02);
  assert_true(m[1].target == 0.03);
  const tr_measure *e = &p->tensions[0].poles[1].measures[0];
  assert_int_equal(e->direction, TR_DIR_BAND);
  assert_true(e->band_low == 0.7 && e->band_high == 0.9);
  assert_true(fabs(e->tolerance - 0.2) < 1e-12);
  assert_true(fabs(e->target - 0.8) < 1e-12);
  tr_plan_free(p);
}

static void test_limits(void **state) {
  (void)state;
  tr_plan *p = NULL;
  tr_error err;
  /* nesting: 64 levels are fine, 65 are not */
  char deep[400];
  size_t n = 0;
  n += (size_t)sprintf(deep + n, "company: {name: X}\nswot: {strengths: ");
  for (int i = 0; i < 70; i++)
    deep[n++] = '[';
  for (int i = 0; i < 70; i++)
    deep[n++] = ']';
  deep[n++] = '}';
  deep[n++] = '\n';
  deep[n] = '\0';
  assert_int_equal(load(deep, &p, &err), TR_ERR_LIMIT);
  assert_non_null(strstr(tr_error_text(&err), "nesting deeper than 64 levels"));
  /* 10,001 items in one list */
  size_t cap = 20 + 10001 * 3 + 10;
  char *big = malloc(cap);
  assert_non_null(big);
  n = (size_t)sprintf(big, "roadmap: [");
  for (int i = 0; i < 10001; i++)
    n += (size_t)sprintf(big + n, "1,");
  big[n - 1] = ']';
  big[n] = '\0';
  assert_int_equal(load(big, &p, &err), TR_ERR_LIMIT);
  assert_non_null(strstr(tr_error_text(&err), "more than 10000 items in one list"));
  free(big);
  /* over 16 MiB */
  size_t huge = (size_t)TR_PLAN_MAX_BYTES + 1;
  char *h = malloc(huge);
  assert_non_null(h);
  memset(h, ' ', huge);
  tr_error_clear(&err);
  assert_int_equal(tr_plan_load_buffer(h, huge, "plan.yaml", &p, &err), TR_ERR_LIMIT);
  assert_non_null(strstr(tr_error_text(&err), "larger than 16 MiB"));
  free(h);
  assert_null(p);
}

static void test_files(void **state) {
  (void)state;
  tr_plan *p = NULL;
  tr_error err;
  tr_error_clear(&err);
  assert_int_equal(tr_plan_load_file("/nonexistent/plan.yaml", &p, &err), TR_ERR_IO);
  assert_non_null(strstr(tr_error_text(&err), "/nonexistent/plan.yaml"));
  char path[] = "/tmp/tr_plan_test_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("company: {name: File Co}\ntensions: 3\n", f);
  fclose(f);
  assert_int_equal(tr_plan_load_file(path, &p, &err), TR_ERR_INVALID);
  char want[128];
  snprintf(want, sizeof want, "%s:2:11: tensions: expected a list, got a value", path);
  assert_string_equal(tr_error_text(&err), want);
  f = fopen(path, "w");
  fputs("company: {name: File Co}\n", f);
  fclose(f);
  assert_int_equal(tr_plan_load_file(path, &p, &err), TR_OK);
  assert_string_equal(p->company.name, "File Co");
  assert_string_equal(p->file, path);
  tr_plan_free(p);
  remove(path);
}

static void test_alloc_failure(void **state) {
  (void)state;
  char *yaml = doc_example();
  assert_non_null(yaml);
  int saw_nomem = 0, saw_ok = 0;
  for (long n = 1; n < 5000 && !saw_ok; n++) {
    tr_plan *p = NULL;
    tr_error err;
    tr_error_clear(&err);
    tr_alloc_fail_after(n, 1);
    int rc = tr_plan_load_buffer(yaml, strlen(yaml), "plan.yaml", &p, &err);
    tr_alloc_fail_after(0, 0);
    if (rc == TR_OK) {
      saw_ok = 1;
      assert_int_equal(p->n_tensions, 2);
      tr_plan_free(p);
    } else {
      if (rc != TR_ERR_NOMEM) fail_msg("plan-60: allocation %ld: %s", n, tr_error_text(&err));
      assert_null(p);
      saw_nomem = 1;
    }
  }
  assert_true(saw_nomem);
  assert_true(saw_ok);
}

static void test_check_names(void **state) {
  (void)state;
  char *yaml = doc_example();
  assert_non_null(yaml);
  tr_plan *p = NULL;
  tr_error err;
  assert_int_equal(load(yaml, &p, &err), TR_OK);
  const char *names[] = {"Features Shipped per Month",
                         "feature_share",
                         "support_hours",
                         "total engineering hours",
                         "support_backlog_days",
                         "acquisition_budget",
                         "retention_budget",
                         "new_customers",
                         "base_churn_rate",
                         "market_growth",
                         "demand",
                         "price_pressure",
                         "win_rate"};
  size_t n = sizeof names / sizeof names[0];
  tr_error_clear(&err);
  assert_int_equal(tr_plan_check_names(p, names, n, &err), TR_OK);
  /* drop "retention_budget": the binding at plan.yaml:58:11 names nothing */
  const char *fewer[] = {"Features Shipped per Month", "feature_share",        "support_hours",
                         "total engineering hours",    "support_backlog_days", "acquisition_budget",
                         "retention_budgets"};
  assert_int_equal(tr_plan_check_names(p, fewer, 7, &err), TR_ERR_UNKNOWN_NAME);
  assert_string_equal(tr_error_text(&err),
                      "plan.yaml:58:11: tensions[1].lever.bind[1].constant: lever constant "
                      "'retention_budget' is not in the model (did you mean "
                      "'retention_budgets'?)");
  tr_plan_free(p);
}

/* Every prefix of the example and a sweep of single-byte corruptions: each load either
 * succeeds or fails with a positioned message — never a crash (run under ASan in CI). */
static void test_mutations(void **state) {
  (void)state;
  char *yaml = doc_example();
  assert_non_null(yaml);
  size_t len = strlen(yaml);
  char *buf = malloc(len + 1);
  assert_non_null(buf);
  static const char junk[] = {':', '-', '[', '{', '"', '\'', '&', '*', '\t', '#', '|', '\0', 'x'};
  long ok_loads = 0, errors = 0;
  for (size_t i = 0; i < len; i += 5) {
    for (size_t j = 0; j < sizeof junk; j++) {
      memcpy(buf, yaml, len + 1);
      size_t n = len;
      if (j == 0)
        n = i; /* truncation */
      else
        buf[i] = junk[j];
      tr_plan *p = NULL;
      tr_error err;
      tr_error_clear(&err);
      int rc = tr_plan_load_buffer(buf, n, "plan.yaml", &p, &err);
      if (rc == TR_OK) {
        assert_non_null(p);
        ok_loads++;
      } else {
        assert_null(p);
        assert_true(err.msg[0] != '\0');
        assert_string_equal(err.file, "plan.yaml");
        errors++;
      }
      tr_plan_free(p);
    }
  }
  free(buf);
  assert_true(ok_loads > 0 && errors > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_doc_example),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_empty_and_minimal),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_files),
      cmocka_unit_test(test_alloc_failure),
      cmocka_unit_test(test_check_names),
      cmocka_unit_test(test_mutations),
      cmocka_unit_test(test_json_plan),
      cmocka_unit_test(test_measure_inherits_kpi),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
