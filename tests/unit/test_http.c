/* Unit tests for tr_http_handle's query arguments and the run limit of the Monte Carlo routes,
 * without a socket: a server started (port 0) on a scratch copy of the SaaS template, with
 * max_runs 16, driven by URLs that carry their query (as the fuzzer drives it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "server/assets.h"
#include "server/server_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[64];
static tr_server *g_srv;

static void write_template(const char *name, const char *as) {
  for (int i = 0; i < tr_templates_count; i++) {
    if (strcmp(tr_templates[i].name, name) != 0) continue;
    char path[128];
    snprintf(path, sizeof path, "%s/%s", g_dir, as);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(tr_templates[i].data, 1, (size_t)tr_templates[i].size, f),
                     (size_t)tr_templates[i].size);
    fclose(f);
  }
}

static int setup(void **state) {
  (void)state;
  snprintf(g_dir, sizeof g_dir, "/tmp/tr_test_http.XXXXXX");
  if (!mkdtemp(g_dir)) return -1;
  write_template("saas/model.xmile", "model.xmile");
  write_template("saas/plan.yaml", "plan.yaml");
  tr_server_options o;
  tr_server_options_init(&o);
  o.workspace = g_dir;
  o.port = 0;
  o.threads = 1;
  o.max_runs = 16;
  tr_error err;
  tr_error_clear(&err);
  return tr_server_start(&o, &g_srv, NULL, &err) == TR_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tr_server_stop(g_srv);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* GET `url` with no connection; returns the status and leaves the response in *out. */
static int get(const char *url, tr_http_result *out) {
  return tr_http_handle(g_srv, "GET", url, NULL, "", 0, NULL, out);
}

static void release(tr_http_result *out) {
  cJSON_Delete(out->resp.json);
  tr_free(out->resp.text);
}

/* The error message of a JSON error response. */
static const char *message(const tr_http_result *out) {
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(out->resp.json, "error");
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
  return cJSON_IsString(m) ? m->valuestring : "";
}

/* The runs of the baseline in an assessment response. */
static double assess_runs(const tr_http_result *out) {
  const cJSON *sc = cJSON_GetObjectItemCaseSensitive(out->resp.json, "scenarios");
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sc, 0), "runs");
  return cJSON_IsNumber(r) ? r->valuedouble : -1;
}

static void test_assess_limit(void **state) {
  (void)state;
  tr_http_result out;
  assert_int_equal(get("/api/assess?runs=17", &out), 400);
  assert_string_equal(message(&out), "runs must be a whole number in 1..16");
  release(&out);
  assert_int_equal(get("/api/assess?runs=0", &out), 400);
  release(&out);
  assert_int_equal(get("/api/assess?runs=99999999999999999999", &out), 400);
  release(&out);
  assert_int_equal(get("/api/assess?runs=5x", &out), 400);
  release(&out);
  /* no ?runs: the default 200 is lowered to the limit */
  assert_int_equal(get("/api/assess", &out), 200);
  assert_true(assess_runs(&out) == 16);
  release(&out);
}

static void test_query_decoding(void **state) {
  (void)state;
  tr_http_result out;
  /* %XX escapes are decoded: %31%32 is "12" */
  assert_int_equal(get("/api/assess?runs=%31%32", &out), 200);
  assert_true(assess_runs(&out) == 12);
  release(&out);
  /* the first of a repeated argument counts; other arguments are ignored */
  assert_int_equal(get("/api/assess?x=1&&runs=6&runs=9", &out), 200);
  assert_true(assess_runs(&out) == 6);
  release(&out);
  /* a name without '=' has no value: the default */
  assert_int_equal(get("/api/assess?runs", &out), 200);
  assert_true(assess_runs(&out) == 16);
  release(&out);
  /* the query is not part of the path: ".." in it is no traversal */
  assert_int_equal(get("/api/health?a=../../etc", &out), 200);
  release(&out);
  assert_int_equal(get("/api/../x?a=1", &out), 400);
  release(&out);
  /* a query on a page */
  assert_int_equal(get("/index.html?v=2", &out), 200);
  assert_non_null(out.asset);
  release(&out);
}

static void test_query_limits(void **state) {
  (void)state;
  tr_http_result out;
  char url[4096];
  snprintf(url, sizeof url, "/api/health?");
  for (int i = 0; i < 17; i++)
    snprintf(url + strlen(url), sizeof url - strlen(url), "a%d=%d&", i, i);
  assert_int_equal(get(url, &out), 414);
  assert_string_equal(message(&out), "more than 16 query arguments");
  release(&out);
  url[strlen(url) - 7] = '\0'; /* drop "a16=16&": 16 arguments */
  assert_int_equal(get(url, &out), 200);
  release(&out);
  size_t n = (size_t)snprintf(url, sizeof url, "/api/health?x=");
  memset(url + n, 'y', 2100);
  url[n + 2100] = '\0';
  assert_int_equal(get(url, &out), 414);
  release(&out);
}

static void test_scenarios_limit(void **state) {
  (void)state;
  tr_http_result out;
  const char *tok = tr_server_token(g_srv);
  static const char over[] = "{\"runs\": 17, \"wait\": true}";
  assert_int_equal(
      tr_http_handle(g_srv, "POST", "/api/scenarios", tok, over, sizeof over - 1, NULL, &out), 400);
  assert_string_equal(message(&out), "runs must be a whole number in 1..16");
  release(&out);
  static const char seed[] = "{\"runs\": 2, \"seed\": 1e300, \"wait\": true}";
  assert_int_equal(
      tr_http_handle(g_srv, "POST", "/api/scenarios", tok, seed, sizeof seed - 1, NULL, &out), 400);
  release(&out);
  /* no runs: the default 1,000 is lowered to the limit */
  static const char dflt[] = "{\"wait\": true, \"vars\": [\"cash\"]}";
  assert_int_equal(
      tr_http_handle(g_srv, "POST", "/api/scenarios", tok, dflt, sizeof dflt - 1, NULL, &out), 200);
  assert_true(cJSON_IsRaw(out.resp.json)); /* the study's JSON as written, made compact */
  cJSON *study = cJSON_Parse(out.resp.json->valuestring);
  const cJSON *runs = cJSON_GetObjectItemCaseSensitive(study, "runs");
  assert_true(cJSON_IsNumber(runs) && runs->valuedouble == 16);
  assert_null(strchr(out.resp.json->valuestring, '\n'));
  cJSON_Delete(study);
  release(&out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_assess_limit),
      cmocka_unit_test(test_query_decoding),
      cmocka_unit_test(test_query_limits),
      cmocka_unit_test(test_scenarios_limit),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
