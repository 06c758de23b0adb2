/* Unit tests: the streaming CSV reader (RFC 4180 quoting, line endings, BOM, line numbers,
 * ragged rows, quote errors, limits, delimiters, FILE* input, allocation failure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/csv.h"
#include "base/rng.h"
#include "base/strbuf.h"
#include "tightrope/base.h"

#include <stdio.h>
#include <string.h>

/* Read all of `text` into a flat description: "line|f1|f2;" per row, or "!CODE@line:col;" for
 * an error (and continue when the error is recoverable). */
static char *describe_opts(const char *text, size_t len, const tr_csv_opts *o) {
  tr_csv *c = NULL;
  tr_error e;
  tr_error_clear(&e);
  assert_int_equal(tr_csv_open_buffer(&c, text, len, "t.csv", o, &e), TR_OK);
  tr_sb sb = TR_SB_INIT;
  for (int guard = 0; guard < 1000; guard++) {
    tr_error_clear(&e);
    int rc = tr_csv_next(c, &e);
    if (rc == 0) break;
    if (rc < 0) {
      tr_sb_printf(&sb, "!%s@%d:%d;", tr_status_name(rc), e.line, e.col);
      if (rc != TR_ERR_PARSE || strstr(e.msg, "unterminated")) break;
      if (!strstr(e.msg, "ragged")) continue;
    }
    tr_sb_printf(&sb, "%ld", tr_csv_line(c));
    for (size_t i = 0; i < tr_csv_nfields(c); i++)
      tr_sb_printf(&sb, "|%s", tr_csv_field(c, i, NULL));
    tr_sb_putc(&sb, ';');
  }
  tr_csv_free(c);
  assert_true(tr_sb_ok(&sb));
  char *s = tr_sb_take(&sb);
  return s ? s : tr_strdup("");
}

static void expect(const char *text, const char *want) {
  char *got = describe_opts(text, strlen(text), NULL);
  assert_string_equal(got, want);
  tr_free(got);
}

static void test_simple_rows(void **state) {
  (void)state;
  expect("date,kpi,value\n2024-01,mrr,10\n", "1|date|kpi|value;2|2024-01|mrr|10;");
  expect("a,b\nc,d", "1|a|b;2|c|d;"); /* no final line break */
  expect("", "");
  expect("a,,c\n,,\n", "1|a||c;2|||;");
  expect("x\n", "1|x;");
  expect(" a , b \n", "1| a | b ;"); /* spaces are data */
}

static void test_quoted_fields(void **state) {
  (void)state;
  expect("\"a,b\",c\n", "1|a,b|c;");
  expect("\"say \"\"hi\"\"\",x\n", "1|say \"hi\"|x;");
  expect("\"\",\"\"\"\"\n", "1||\";");
  /* a line break inside quotes: the row keeps the line of its first line */
  expect("h1,h2\n\"two\nlines\",z\nnext,row\n", "1|h1|h2;2|two\nlines|z;4|next|row;");
  expect("\"a\r\nb\",c\r\nd,e\r\n", "1|a\r\nb|c;3|d|e;");
  expect("\"x\"", "1|x;");
}

static void test_line_endings(void **state) {
  (void)state;
  expect("a,b\r\nc,d\r\n", "1|a|b;2|c|d;");
  expect("a,b\rc,d\r", "1|a|b;2|c|d;");
  expect("a,b\nc,d\r\ne,f\rg,h", "1|a|b;2|c|d;3|e|f;4|g|h;");
  /* empty trailing lines and blank lines are not rows, but still count as lines */
  expect("a,b\n\n", "1|a|b;");
  expect("a,b\r\n\r\n\r\n", "1|a|b;");
  expect("a,b\n\nc,d\n", "1|a|b;3|c|d;");
  expect("\n\na\n", "3|a;");
}

static void test_bom(void **state) {
  (void)state;
  expect("\xEF\xBB\xBF"
         "date,v\n1,2\n",
         "1|date|v;2|1|2;");
  expect("\xEF\xBB\xBF", "");
  expect("\xEF\xBB"
         "x\n",
         "1|\xEF\xBBx;"); /* not a full BOM: data */
}

static void test_ragged_rows(void **state) {
  (void)state;
  tr_csv *c = NULL;
  tr_error e;
  tr_error_clear(&e);
  const char *t = "a,b,c\n1,2,3\n1,2\n1,2,3,4\n5,6,7\n";
  assert_int_equal(tr_csv_open_buffer(&c, t, strlen(t), "k.csv", NULL, &e), TR_OK);
  assert_int_equal(tr_csv_next(c, &e), 1);
  assert_int_equal(tr_csv_expected_fields(c), 3);
  assert_int_equal(tr_csv_next(c, &e), 1);
  assert_int_equal(tr_csv_next(c, &e), TR_ERR_PARSE);
  assert_string_equal(tr_error_text(&e),
                      "k.csv:3: ragged row: line 3 has 2 fields, expected 3 as in the first row");
  assert_int_equal(tr_csv_nfields(c), 2); /* the row is still there */
  assert_int_equal(tr_csv_next(c, &e), TR_ERR_PARSE);
  assert_string_equal(tr_error_text(&e),
                      "k.csv:4:7: ragged row: line 4 has 4 fields, expected 3 as in the first row");
  assert_int_equal(tr_csv_next(c, &e), 1);
  assert_string_equal(tr_csv_field(c, 2, NULL), "7");
  assert_int_equal(tr_csv_line(c), 5);
  assert_int_equal(tr_csv_next(c, &e), 0);
  tr_csv_free(c);

  tr_csv_opts o = {0};
  o.flags = TR_CSV_RAGGED_OK;
  char *got = describe_opts(t, strlen(t), &o);
  assert_string_equal(got, "1|a|b|c;2|1|2|3;3|1|2;4|1|2|3|4;5|5|6|7;");
  tr_free(got);
}

static void test_quote_errors(void **state) {
  (void)state;
  /* a quote in the middle of an unquoted field: error at the quote, line skipped */
  expect("a,b\nx,y\"z\nc,d\n", "1|a|b;!TR_ERR_PARSE@2:4;3|c|d;");
  /* text after a closing quote */
  expect("a,b\n\"x\"y,z\nc,d\n", "1|a|b;!TR_ERR_PARSE@2:4;3|c|d;");
  /* unterminated quote at the end: reported at the opening quote, fatal */
  expect("a,b\nc,\"open\nmore\n", "1|a|b;!TR_ERR_PARSE@2:3;");
  tr_csv *c = NULL;
  tr_error e;
  tr_error_clear(&e);
  const char *t = "a,\"b";
  assert_int_equal(tr_csv_open_buffer(&c, t, strlen(t), "q.csv", NULL, &e), TR_OK);
  assert_int_equal(tr_csv_next(c, &e), TR_ERR_PARSE);
  assert_string_equal(tr_error_text(&e), "q.csv:1:3: unterminated quoted field "
                                         "(the quote opened here is never closed)");
  assert_int_equal(tr_csv_next(c, &e), TR_ERR_PARSE); /* sticky */
  tr_csv_free(c);
}

static void test_columns(void **state) {
  (void)state;
  tr_csv *c = NULL;
  tr_error e;
  const char *t = "ab,\"c\nd\",efg\n";
  assert_int_equal(tr_csv_open_buffer(&c, t, strlen(t), NULL, NULL, &e), TR_OK);
  assert_int_equal(tr_csv_next(c, &e), 1);
  assert_int_equal(tr_csv_field_col(c, 0), 1);
  assert_int_equal(tr_csv_field_col(c, 1), 4);
  assert_int_equal(tr_csv_field_line(c, 2), 2);
  assert_int_equal(tr_csv_field_col(c, 2), 4);
  assert_int_equal(tr_csv_field_col(c, 3), 0);
  assert_null(tr_csv_field(c, 3, NULL));
  assert_string_equal(tr_csv_name(c), "<input>");
  tr_csv_free(c);
}

static void test_delimiters(void **state) {
  (void)state;
  tr_csv_opts o = {0};
  o.delim = '\t';
  const char *t = "Time\tStock a\n0\t1,5\n\"q\t\"\t2\n";
  char *got = describe_opts(t, strlen(t), &o);
  assert_string_equal(got, "1|Time|Stock a;2|0|1,5;3|q\t|2;");
  tr_free(got);
  o.delim = ';';
  got = describe_opts("a;b\n", 4, &o);
  assert_string_equal(got, "1|a|b;");
  tr_free(got);
  tr_csv *c = NULL;
  tr_error e;
  o.delim = '"';
  assert_int_equal(tr_csv_open_buffer(&c, "x", 1, NULL, &o, &e), TR_ERR_INVALID);
  assert_null(c);
}

static void test_embedded_nul(void **state) {
  (void)state;
  tr_csv *c = NULL;
  tr_error e;
  const char t[] = "a\0b,c\n";
  assert_int_equal(tr_csv_open_buffer(&c, t, sizeof t - 1, NULL, NULL, &e), TR_OK);
  assert_int_equal(tr_csv_next(c, &e), 1);
  size_t n = 0;
  const char *f = tr_csv_field(c, 0, &n);
  assert_int_equal(n, 3);
  assert_memory_equal(f, "a\0b", 3);
  tr_csv_free(c);
}

static void test_limits(void **state) {
  (void)state;
  tr_error e;
  tr_csv *c = NULL;
  /* the default field limit: 1 MiB is fine, one byte more is not */
  size_t big = TR_CSV_MAX_FIELD_DEFAULT + 1;
  char *buf = tr_malloc(big + 8);
  assert_non_null(buf);
  memset(buf, 'x', big);
  buf[big] = '\n';
  assert_int_equal(tr_csv_open_buffer(&c, buf, big + 1, "big.csv", NULL, &e), TR_OK);
  assert_int_equal(tr_csv_next(c, &e), TR_ERR_LIMIT);
  assert_string_equal(tr_error_text(&e), "big.csv:1:1: field longer than 1048576 bytes");
  assert_int_equal(tr_csv_next(c, &e), TR_ERR_LIMIT);
  tr_csv_free(c);
  assert_int_equal(tr_csv_open_buffer(&c, buf, big - 1, "big.csv", NULL, &e), TR_OK);
  assert_int_equal(tr_csv_next(c, &e), 1);
  size_t n = 0;
  tr_csv_field(c, 0, &n);
  assert_int_equal(n, big - 1);
  tr_csv_free(c);
  /* a quoted field counts too */
  memset(buf, 'x', big + 2);
  buf[0] = '"';
  buf[big + 1] = '"'; /* big bytes between the quotes */
  assert_int_equal(tr_csv_open_buffer(&c, buf, big + 2, "big.csv", NULL, &e), TR_OK);
  assert_int_equal(tr_csv_next(c, &e), TR_ERR_LIMIT);
  tr_csv_free(c);
  tr_free(buf);

  /* the default row limit: 100,000 fields pass, 100,001 do not */
  size_t nf = TR_CSV_MAX_FIELDS_DEFAULT + 1;
  buf = tr_malloc(nf * 2);
  assert_non_null(buf);
  for (size_t i = 0; i < nf; i++) {
    buf[2 * i] = '1';
    buf[2 * i + 1] = ',';
  }
  buf[2 * nf - 1] = '\n';
  assert_int_equal(tr_csv_open_buffer(&c, buf, 2 * nf, "wide.csv", NULL, &e), TR_OK);
  assert_int_equal(tr_csv_next(c, &e), TR_ERR_LIMIT);
  assert_string_equal(tr_error_text(&e), "wide.csv:1: row has more than 100000 fields");
  tr_csv_free(c);
  assert_int_equal(tr_csv_open_buffer(&c, buf + 2, 2 * nf - 2, "wide.csv", NULL, &e), TR_OK);
  assert_int_equal(tr_csv_next(c, &e), 1);
  assert_int_equal(tr_csv_nfields(c), TR_CSV_MAX_FIELDS_DEFAULT);
  tr_csv_free(c);
  tr_free(buf);

  /* smaller limits from the options */
  tr_csv_opts o = {0};
  o.max_field = 3;
  char *got = describe_opts("abc,de\nabcd\n", 12, &o);
  assert_string_equal(got, "1|abc|de;!TR_ERR_LIMIT@2:1;");
  tr_free(got);
}

static void count_bytes(void *ud, const void *bytes, size_t n) {
  (void)bytes;
  *(size_t *)ud += n;
}

/* FILE* input across chunk boundaries: rows and quoted fields split between 64 KiB reads. */
static void test_file_streaming(void **state) {
  (void)state;
  FILE *f = tmpfile();
  assert_non_null(f);
  fputs("\xEF\xBB\xBF"
        "date,kpi,value\r\n",
        f);
  long rows = 20000;
  for (long i = 0; i < rows; i++)
    fprintf(f, "2024-%02ld,\"k,%ld\",%ld.5%s", i % 12 + 1, i, i, i % 3 ? "\n" : "\r\n");
  long size = ftell(f);
  rewind(f);
  tr_csv *c = NULL;
  tr_error e;
  tr_csv_opts o = {0};
  size_t hashed_bytes = 0;
  o.on_bytes = count_bytes;
  o.ud = &hashed_bytes;
  assert_int_equal(tr_csv_open_file(&c, f, "stream.csv", &o, &e), TR_OK);
  assert_int_equal(tr_csv_next(c, &e), 1);
  assert_string_equal(tr_csv_field(c, 0, NULL), "date");
  long n = 0;
  int rc;
  char want[64];
  while ((rc = tr_csv_next(c, &e)) == 1) {
    snprintf(want, sizeof want, "k,%ld", n);
    assert_string_equal(tr_csv_field(c, 1, NULL), want);
    assert_int_equal(tr_csv_line(c), n + 2);
    n++;
  }
  assert_int_equal(rc, 0);
  assert_int_equal(n, rows);
  assert_int_equal(hashed_bytes, (size_t)size);
  tr_csv_free(c);
  fclose(f);
  assert_int_equal(tr_csv_open_file(&c, NULL, "x", NULL, &e), TR_ERR_INVALID);
}

/* Every allocation in turn fails: the reader reports TR_ERR_NOMEM cleanly (no leak, no crash)
 * until there are enough allocations, and then reads everything. */
static void test_alloc_failure(void **state) {
  (void)state;
  const char *t = "date,kpi,value\n2024-01,\"a long, quoted, field that grows the buffer\",1\n"
                  "2024-02,b,2\n";
  int succeeded = 0;
  for (long n = 1; n < 50 && !succeeded; n++) {
    tr_error e;
    tr_error_clear(&e);
    tr_csv *c = NULL;
    tr_alloc_fail_after(n, 1);
    int rc = tr_csv_open_buffer(&c, t, strlen(t), "a.csv", NULL, &e);
    int rows = 0;
    if (rc == TR_OK) {
      while ((rc = tr_csv_next(c, &e)) == 1)
        rows++;
    }
    tr_alloc_fail_after(0, 0);
    tr_csv_free(c);
    if (rc == 0) {
      assert_int_equal(rows, 3);
      succeeded = 1;
    } else {
      assert_int_equal(rc, TR_ERR_NOMEM);
      assert_int_equal(e.code, TR_ERR_NOMEM);
    }
  }
  assert_true(succeeded);
}

/* Round trip: random rows written with RFC 4180 quoting (random line endings, delimiters,
 * quotes, line breaks and NULs inside fields) read back to exactly the same fields and line
 * numbers, from a buffer and through a FILE* with 64 KiB chunk boundaries anywhere. */
static void test_round_trip_random(void **state) {
  (void)state;
  static const char alphabet[] = {'a', 'b', ',', '"', '\r', '\n', ' ', '\t', '\0', 'z'};
  tr_rng rng;
  tr_rng_seed(&rng, 4180);
  for (int trial = 0; trial < 200; trial++) {
    tr_sb text = TR_SB_INIT;
    int nrows = 1 + (int)(tr_rng_next(&rng) % 40), nf = 1 + (int)(tr_rng_next(&rng) % 6);
    char fields[40][6][24];
    size_t flen[40][6];
    long lines[40];
    long line = 1;
    for (int r = 0; r < nrows; r++) {
      lines[r] = line;
      for (int i = 0; i < nf; i++) {
        size_t n = tr_rng_next(&rng) % 24;
        if (nf == 1 && n == 0) n = 1; /* a lone empty field would be an empty line */
        int quote = 0;
        for (size_t j = 0; j < n; j++) {
          char ch = alphabet[tr_rng_next(&rng) % sizeof alphabet];
          fields[r][i][j] = ch;
          quote |= ch == ',' || ch == '"' || ch == '\r' || ch == '\n';
        }
        flen[r][i] = n;
        if (i) tr_sb_putc(&text, ',');
        if (quote) tr_sb_putc(&text, '"');
        for (size_t j = 0; j < n; j++) {
          char ch = fields[r][i][j];
          if (ch == '"') tr_sb_putc(&text, '"');
          tr_sb_appendn(&text, &ch, 1);
          /* a line break inside quotes still counts as a line (CRLF as one) */
          if (ch == '\n' && !(j > 0 && fields[r][i][j - 1] == '\r')) line++;
          if (ch == '\r') line++;
        }
        if (quote) tr_sb_putc(&text, '"');
      }
      static const char *const eol[] = {"\n", "\r\n", "\r"};
      tr_sb_append(&text, eol[tr_rng_next(&rng) % 3]);
      line++;
    }
    assert_true(tr_sb_ok(&text));
    for (int mode = 0; mode < 2; mode++) {
      tr_csv *c = NULL;
      tr_error e;
      FILE *f = NULL;
      if (mode == 0) {
        assert_int_equal(tr_csv_open_buffer(&c, text.buf, text.len, "r.csv", NULL, &e), TR_OK);
      } else {
        f = tmpfile();
        assert_non_null(f);
        /* pad so that the rows straddle the 64 KiB chunk boundary */
        size_t pad = 65536 - (tr_rng_next(&rng) % 200) - 1;
        for (size_t j = 0; j < pad; j++)
          fputc(j % 80 == 79 ? '\n' : 'p', f);
        fputc('\n', f);
        fwrite(text.buf, 1, text.len, f);
        rewind(f);
        tr_csv_opts o = {0};
        o.flags = TR_CSV_RAGGED_OK;
        assert_int_equal(tr_csv_open_file(&c, f, "r.csv", &o, &e), TR_OK);
        while (tr_csv_next(c, &e) == 1 && tr_csv_field(c, 0, NULL)[0] == 'p') {
        }
        /* the first data row is current now */
      }
      long offset = mode == 0 ? 0 : tr_csv_line(c) - 1;
      for (int r = 0; r < nrows; r++) {
        if (mode == 0 || r > 0) assert_int_equal(tr_csv_next(c, &e), 1);
        assert_int_equal(tr_csv_nfields(c), (size_t)nf);
        assert_int_equal(tr_csv_line(c), lines[r] + offset);
        for (int i = 0; i < nf; i++) {
          size_t n = 0;
          const char *got = tr_csv_field(c, (size_t)i, &n);
          assert_int_equal(n, flen[r][i]);
          assert_memory_equal(got, fields[r][i], n);
        }
      }
      assert_int_equal(tr_csv_next(c, &e), 0);
      tr_csv_free(c);
      if (f) fclose(f);
    }
    tr_sb_free(&text);
  }
}

/* Random bytes: the reader never crashes, always ends, and never reports a row with more
 * than the row limit or a line number going backwards. */
static void test_fuzz_random_bytes(void **state) {
  (void)state;
  static const char alphabet[] = {'a', ',', '"', '"', '\r', '\n', '\0', ';', '\xEF', '\xBB'};
  tr_rng rng;
  tr_rng_seed(&rng, 7);
  char buf[512];
  for (int trial = 0; trial < 3000; trial++) {
    size_t n = tr_rng_next(&rng) % sizeof buf;
    for (size_t j = 0; j < n; j++)
      buf[j] = alphabet[tr_rng_next(&rng) % sizeof alphabet];
    tr_csv_opts o = {0};
    o.max_fields = 50;
    o.max_field = 100;
    o.delim = trial % 2 ? ',' : ';';
    tr_csv *c = NULL;
    tr_error e;
    assert_int_equal(tr_csv_open_buffer(&c, buf, n, "fuzz", &o, &e), TR_OK);
    long last = 0;
    int rc, steps = 0;
    while ((rc = tr_csv_next(c, &e)) != 0 && steps++ < 1000) {
      if (rc == TR_ERR_LIMIT || (rc == TR_ERR_PARSE && strstr(e.msg, "unterminated"))) {
        assert_int_equal(tr_csv_next(c, &e), rc); /* fatal errors are sticky */
        break;
      }
      if (rc == 1) {
        assert_true(tr_csv_line(c) >= last);
        assert_true(tr_csv_nfields(c) <= 50);
        last = tr_csv_line(c);
      } else {
        assert_int_equal(rc, TR_ERR_PARSE);
      }
    }
    assert_true(steps < 1000);
    tr_csv_free(c);
  }
}

/* Writing fields: quoting only where RFC 4180 needs it, and what is written reads back. */
static void test_write_field(void **state) {
  (void)state;
  struct {
    const char *in, *out;
  } cases[] = {
      {"plain", "plain"},
      {"", ""},
      {"a,b", "\"a,b\""},
      {"say \"hi\"", "\"say \"\"hi\"\"\""},
      {"two\nlines", "\"two\nlines\""},
      {" edge", "\" edge\""},
      {"edge ", "\"edge \""},
      {"in side", "in side"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tr_sb sb = TR_SB_INIT;
    tr_csv_write_field(&sb, cases[i].in);
    assert_string_equal(tr_sb_str(&sb), cases[i].out);
    /* read it back as a one-field row (an empty one would be a blank line, which readers skip) */
    if (!cases[i].in[0]) {
      tr_sb_free(&sb);
      continue;
    }
    tr_sb_putc(&sb, '\n');
    tr_csv *c = NULL;
    tr_error err;
    assert_int_equal(tr_csv_open_buffer(&c, sb.buf, sb.len, "w.csv", NULL, &err), TR_OK);
    assert_int_equal(tr_csv_next(c, &err), 1);
    size_t len;
    const char *f = tr_csv_field(c, 0, &len);
    assert_int_equal(len, strlen(cases[i].in));
    assert_memory_equal(f, cases[i].in, len);
    tr_csv_free(c);
    tr_sb_free(&sb);
  }
  tr_sb sb = TR_SB_INIT;
  tr_csv_write_field(&sb, NULL);
  assert_int_equal(sb.len, 0);
  tr_sb_free(&sb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simple_rows),       cmocka_unit_test(test_quoted_fields),
      cmocka_unit_test(test_line_endings),      cmocka_unit_test(test_bom),
      cmocka_unit_test(test_ragged_rows),       cmocka_unit_test(test_quote_errors),
      cmocka_unit_test(test_columns),           cmocka_unit_test(test_delimiters),
      cmocka_unit_test(test_embedded_nul),      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_file_streaming),    cmocka_unit_test(test_alloc_failure),
      cmocka_unit_test(test_round_trip_random), cmocka_unit_test(test_fuzz_random_bytes),
      cmocka_unit_test(test_write_field),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
