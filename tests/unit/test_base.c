/* Unit tests: status codes and error buffers, allocation with failure injection, arena,
 * string builder, hash map, closest-match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/arena.h"
#include "base/bulk.h"
#include "base/hashmap.h"
#include "base/strbuf.h"
#include "base/text.h"
#include "tightrope/base.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* bulk-1: the last block freed is kept (the larger of two), handed to the next request it
 * fits, counted as an allocation either way, and kept through an injected failure. */
static void test_bulk_reuse(void **state) {
  (void)state;
  tr_bulk_release();
  assert_int_equal(tr_bulk_kept(), 0);
  size_t got_a, got_b, got_c;
  char *a = tr_bulk_alloc(TR_BULK_MIN + 1, &got_a);
  assert_non_null(a);
  assert_true(got_a >= TR_BULK_MIN + 1 && got_a % ((size_t)2 << 20) == 0);
  assert_true((uintptr_t)a % ((size_t)2 << 20) == 0);
  memset(a, 7, got_a);
  char *b = tr_bulk_alloc(TR_BULK_MIN, &got_b); /* nothing kept yet: a new one */
  assert_non_null(b);
  assert_true(b != a);
  tr_bulk_free(a, got_a);
  assert_int_equal(tr_bulk_kept(), got_a);
  tr_bulk_free(b, got_b); /* smaller: freed, the larger stays */
  assert_int_equal(tr_bulk_kept(), got_a);

  tr_alloc_fail_after(1, 0); /* a reused block counts as an allocation, and can fail */
  assert_null(tr_bulk_alloc(100, &got_c));
  assert_int_equal(tr_alloc_count(), 1);
  tr_alloc_fail_after(0, 0);
  assert_int_equal(tr_bulk_kept(), got_a);

  char *c = tr_bulk_alloc(100, &got_c); /* fits: the kept one, whole */
  assert_ptr_equal(c, a);
  assert_int_equal(got_c, got_a);
  assert_int_equal(tr_bulk_kept(), 0);
  assert_int_equal(c[got_c - 1], 7); /* contents are what they were */
  tr_bulk_free(c, got_c);
  tr_bulk_release();
  assert_int_equal(tr_bulk_kept(), 0);

  char *d = tr_bulk_alloc(100, &got_c); /* small and nothing kept: plain malloc, not kept */
  assert_non_null(d);
  tr_bulk_free(d, got_c);
  assert_int_equal(tr_bulk_kept(), 0);
  tr_bulk_free(NULL, 0);
  assert_null(tr_bulk_alloc(SIZE_MAX - 5, &got_c)); /* rounding up would wrap around */
  assert_null(tr_alloc_aligned(4096, SIZE_MAX - 10));
}

/* bulk-2: after tr_bulk_keep_heap, 8 MiB freed and allocated again costs no fresh pages
 * (without it glibc unmaps the block and the second one faults in 2,048 zeroed pages). Not
 * under a sanitizer, whose allocator replaces glibc's. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) ||                         \
    __has_feature(thread_sanitizer)
#define SANITIZED_MALLOC 1
#endif
#endif
static void test_bulk_keep_heap(void **state) {
  (void)state;
#if defined(__GLIBC__) && !defined(SANITIZED_MALLOC)
  tr_bulk_keep_heap();
  size_t n = (size_t)8 << 20;
  char *a = tr_malloc(n);
  assert_non_null(a);
  memset(a, 1, n);
  tr_free(a);
  struct rusage r0, r1;
  getrusage(RUSAGE_SELF, &r0);
  char *b = tr_malloc(n);
  assert_non_null(b);
  memset(b, 2, n);
  getrusage(RUSAGE_SELF, &r1);
  tr_free(b);
  assert_true(r1.ru_minflt - r0.ru_minflt < 64);
#endif
}

static void test_status_messages(void **state) {
  (void)state;
  assert_int_equal(TR_OK, 0);
  assert_string_equal(tr_strerror(TR_OK), "success");
  assert_string_equal(tr_strerror(TR_ERR_NOMEM), "out of memory");
  assert_string_equal(tr_status_name(TR_ERR_CYCLE), "TR_ERR_CYCLE");
  assert_string_equal(tr_strerror(12345), "unknown status");
  assert_true(TR_ERR_INTERNAL < 0);
  assert_int_equal(tr_status_exit_code(TR_ERR_PARSE), 2);
  assert_int_equal(tr_status_exit_code(TR_ERR_IO), 1);
  assert_int_equal(tr_status_exit_code(TR_OK), 0);
}

static void test_error_positions(void **state) {
  (void)state;
  tr_error e;
  tr_error_clear(&e);
  assert_int_equal(e.code, TR_OK);
  int rc = tr_error_set(&e, TR_ERR_UNKNOWN_NAME, "model.xmile", 12, 7,
                        "unknown variable '%s' (did you mean '%s'?)", "Revnue", "Revenue");
  assert_int_equal(rc, TR_ERR_UNKNOWN_NAME);
  assert_string_equal(tr_error_text(&e),
                      "model.xmile:12:7: unknown variable 'Revnue' (did you mean 'Revenue'?)");
  tr_error_set(&e, TR_ERR_IO, "data.csv", 3, 0, "bad row");
  assert_string_equal(tr_error_text(&e), "data.csv:3: bad row");
  tr_error_set(&e, TR_ERR_IO, NULL, 0, 0, NULL);
  assert_string_equal(tr_error_text(&e), "input/output error");
  /* re-raising with the buffer's own file name must not corrupt it */
  tr_error_set(&e, TR_ERR_PARSE, "a.yaml", 1, 2, "x");
  tr_error_set(&e, TR_ERR_PARSE, e.file, 4, 5, "y");
  assert_string_equal(tr_error_text(&e), "a.yaml:4:5: y");
  assert_int_equal(tr_error_set(NULL, TR_ERR_LIMIT, NULL, 0, 0, "z"), TR_ERR_LIMIT);
}

static void test_alloc_failure_injection(void **state) {
  (void)state;
  tr_alloc_fail_after(2, 0);
  void *a = tr_malloc(10);
  void *b = tr_malloc(10);
  void *c = tr_malloc(10);
  assert_non_null(a);
  assert_null(b);
  assert_non_null(c);
  assert_int_equal(tr_alloc_count(), 3);
  tr_free(a);
  tr_free(c);
  tr_alloc_fail_after(1, 1);
  assert_null(tr_malloc(1));
  assert_null(tr_strdup("x"));
  tr_alloc_fail_after(0, 0);
  char *s = tr_strdup("hello");
  assert_string_equal(s, "hello");
  tr_free(s);
  tr_free(NULL);
  assert_null(tr_calloc(SIZE_MAX / 2, 4));
}

static void test_arena(void **state) {
  (void)state;
  tr_arena a;
  tr_arena_init(&a);
  char *first = tr_arena_strdup(&a, "first");
  for (int i = 0; i < 5000; i++) {
    int *p = tr_arena_alloc(&a, sizeof *p);
    assert_non_null(p);
    assert_int_equal(*p, 0);
    assert_int_equal((uintptr_t)p % 16, 0);
    *p = i;
  }
  char *big = tr_arena_alloc(&a, 100000);
  assert_non_null(big);
  memset(big, 'x', 100000);
  char *s = tr_arena_printf(&a, "%s-%d", "n", 42);
  assert_string_equal(s, "n-42");
  assert_string_equal(tr_arena_strndup(&a, "abcdef", 3), "abc");
  assert_string_equal(first, "first");
  assert_null(tr_arena_calloc(&a, SIZE_MAX / 2, 8));
  tr_arena_release(&a);
  tr_arena_release(&a);
  tr_arena_release(NULL);
  /* every allocation failure surfaces as NULL */
  tr_alloc_fail_after(1, 1);
  assert_null(tr_arena_alloc(&a, 8));
  tr_alloc_fail_after(0, 0);
}

static void test_strbuf(void **state) {
  (void)state;
  tr_sb sb = TR_SB_INIT;
  assert_string_equal(tr_sb_str(&sb), "");
  tr_sb_append(&sb, "a");
  tr_sb_putc(&sb, ',');
  tr_sb_printf(&sb, "%d|%s", 7, "x");
  for (int i = 0; i < 1000; i++)
    tr_sb_putc(&sb, 'z');
  assert_int_equal(sb.len, 1005);
  assert_memory_equal(tr_sb_str(&sb), "a,7|xz", 6);
  tr_sb_reset(&sb);
  tr_sb_append_double(&sb, 0.1);
  tr_sb_putc(&sb, ' ');
  tr_sb_append_double(&sb, 1.0 / 3.0);
  tr_sb_putc(&sb, ' ');
  tr_sb_append_double(&sb, NAN);
  tr_sb_putc(&sb, ' ');
  tr_sb_append_double(&sb, -INFINITY);
  assert_string_equal(tr_sb_str(&sb), "0.1 0.3333333333333333 NaN -Inf");
  char *t = tr_sb_take(&sb);
  assert_null(sb.buf);
  tr_free(t);
  /* a failed growth is sticky and reported once */
  tr_alloc_fail_after(1, 1);
  tr_sb_append(&sb, "boom");
  tr_sb_append(&sb, "again");
  assert_false(tr_sb_ok(&sb));
  tr_alloc_fail_after(0, 0);
  assert_null(tr_sb_take(&sb));
  tr_sb_free(&sb);
  tr_sb_free(NULL);
}

static void test_read_file(void **state) {
  (void)state;
  char path[] = "/tmp/tr_test_read_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "wb");
  fwrite("a\0b\nc", 1, 5, f);
  fclose(f);
  char *buf = NULL;
  size_t len = 0;
  tr_error e;
  tr_error_clear(&e);
  assert_int_equal(tr_read_file(path, &buf, &len, &e), TR_OK);
  assert_int_equal(len, 5);
  assert_memory_equal(buf, "a\0b\nc", 5);
  assert_int_equal(buf[5], '\0');
  tr_free(buf);
  tr_alloc_fail_after(1, 1);
  assert_int_equal(tr_read_file(path, &buf, &len, &e), TR_ERR_NOMEM);
  assert_null(buf);
  tr_alloc_fail_after(0, 0);
  remove(path);
  assert_int_equal(tr_read_file(path, &buf, &len, &e), TR_ERR_IO);
  assert_non_null(strstr(tr_error_text(&e), ": cannot read: No such file"));
}

static void test_hashmap(void **state) {
  (void)state;
  tr_map m;
  tr_map_init(&m);
  int found = 1;
  assert_null(tr_map_get(&m, "nothing", &found));
  assert_int_equal(found, 0);
  static char keys[2000][16];
  for (int i = 0; i < 2000; i++) {
    snprintf(keys[i], sizeof keys[i], "k%d", i);
    assert_int_equal(tr_map_put(&m, keys[i], (void *)(intptr_t)(i + 1)), TR_OK);
  }
  assert_int_equal(m.count, 2000);
  for (int i = 0; i < 2000; i++)
    assert_int_equal((intptr_t)tr_map_get(&m, keys[i], NULL), i + 1);
  assert_int_equal(tr_map_put(&m, "k5", NULL), TR_OK);
  assert_null(tr_map_get(&m, "k5", &found));
  assert_int_equal(found, 1);
  assert_int_equal(m.count, 2000);
  size_t it = 0, n = 0;
  const char *k;
  while (tr_map_next(&m, &it, &k, NULL))
    n++;
  assert_int_equal(n, 2000);
  tr_map_free(&m);
  tr_map_free(NULL);
  /* growth failure leaves the map usable */
  tr_map_init(&m);
  tr_alloc_fail_after(1, 0);
  assert_int_equal(tr_map_put(&m, "a", NULL), TR_ERR_NOMEM);
  assert_int_equal(tr_map_put(&m, "a", NULL), TR_OK);
  tr_alloc_fail_after(0, 0);
  tr_map_free(&m);
}

static void test_closest(void **state) {
  (void)state;
  const char *names[] = {"simulate", "scenarios", "scorecard", "help"};
  assert_int_equal(tr_edit_distance("kitten", "sitting"), 3);
  assert_int_equal(tr_edit_distance("ABC", "abc"), 0);
  assert_string_equal(tr_closest("simulaet", names, 4), "simulate");
  assert_string_equal(tr_closest("scenario", names, 4), "scenarios");
  assert_null(tr_closest("xyzzy", names, 4));
  const char *scen[] = {"economic downturn", "technological disruption", "supply shock"};
  assert_string_equal(tr_closest("downturn", scen, 3), "economic downturn");
  assert_string_equal(tr_closest("DISRUPTION", scen, 3), "technological disruption");
  const char *amb[] = {"supply shock", "demand shock"};
  assert_null(tr_closest("shock", amb, 2)); /* two candidates contain it: no guess */
  assert_null(tr_closest("ck", amb, 2));

  /* A hostile name of 10,000 bytes against 100 names of 100: none is within reach, and none
   * is compared (each comparison of names over 63 bytes allocates a row: none here). */
  char *big = malloc(10001), *cand = malloc(100 * 101);
  const char *cands[100];
  assert_non_null(big);
  assert_non_null(cand);
  memset(big, 'a', 10000);
  big[10000] = '\0';
  for (int i = 0; i < 100; i++) {
    memset(&cand[i * 101], 'a' + i % 26, 100);
    cand[i * 101 + 100] = '\0';
    cands[i] = &cand[i * 101];
  }
  tr_alloc_fail_after(0, 0); /* resets the count */
  assert_null(tr_closest(big, cands, 100));
  assert_int_equal(tr_alloc_count(), 0);
  /* a long name one edit away from a long candidate is still found */
  big[99] = '\0';
  big[7] = 'q'; /* 99 bytes: two edits from cands[0], 100 'a's; from the others, 99 or 100 */
  assert_ptr_equal(tr_closest(big, cands, 100), cands[0]);
  free(big);
  free(cand);
}

static void test_canon_ident(void **state) {
  (void)state;
  char buf[64];
  struct {
    const char *in, *out;
  } cases[] = {
      {"Teacup Temperature", "teacup_temperature"},
      {"\"Heat Loss to Room\"", "heat_loss_to_room"},
      {"  a__b  c ", "a_b_c"},
      {"Sales\\nGrowth", "sales_growth"},
      {"Sales\nGrowth", "sales_growth"},
      {"hares.Hares", "hares.hares"},
      {"\"quote\\\"d\"", "quote\"d"},
      {"$ Cost!", "$_cost!"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = tr_canon_ident(cases[i].in, strlen(cases[i].in), buf, sizeof buf);
    assert_string_equal(buf, cases[i].out);
    assert_int_equal(n, strlen(cases[i].out));
  }
  /* truncation reports the full length */
  assert_int_equal(tr_canon_ident("abcdef", 6, buf, 4), 6);
  assert_string_equal(buf, "abc");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_status_messages),
      cmocka_unit_test(test_error_positions),
      cmocka_unit_test(test_alloc_failure_injection),
      cmocka_unit_test(test_arena),
      cmocka_unit_test(test_strbuf),
      cmocka_unit_test(test_read_file),
      cmocka_unit_test(test_hashmap),
      cmocka_unit_test(test_closest),
      cmocka_unit_test(test_bulk_reuse),
      cmocka_unit_test(test_bulk_keep_heap),
      cmocka_unit_test(test_canon_ident),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
