/* Streaming CSV reader (see csv.h). One pass over the input, a byte at a time at the edges of
 * fields and in bulk runs inside them: the inner loops copy whole runs of ordinary bytes. */
#include "base/csv.h"

#include "base/strbuf.h"

#include <errno.h>
#include <string.h>

#define CHUNK 65536
#define END (-1) /* end of input (or a read error, recorded in c->fatal) */

typedef struct csv_field {
  size_t off; /* offset of the first byte in c->data */
  size_t len; /* bytes, excluding the NUL that follows them */
  long line;  /* where the field starts */
  long col;
} csv_field;

struct tr_csv {
  FILE *f;                  /* file mode: borrowed stream */
  const unsigned char *buf; /* buffer mode: borrowed bytes */
  size_t buflen;
  unsigned char *chunk;   /* file mode: owned read buffer */
  const unsigned char *p; /* current window of input */
  size_t pos, len;        /* next byte and window size */
  int eof;                /* no more windows */
  int started;            /* the first window was read (BOM check done) */
  char *name;             /* owned copy for error positions */
  tr_csv_opts o;
  long line, col; /* position of the last consumed byte (col 0 = before the first) */
  int prev_cr;    /* last consumed byte was CR: a following LF ends the same line */
  char *data;     /* the current row's field bytes, each followed by NUL */
  size_t dlen, dcap;
  csv_field *fields;
  size_t nf, fcap;
  size_t expected; /* field count of the first row, 0 until read */
  long row_line;
  int fatal;     /* sticky status after a fatal error, else TR_OK */
  tr_error *err; /* the caller's error buffer during tr_csv_next */
};

static int csv_fail(tr_csv *c, int code, long line, long col, const char *fmt, const char *a) {
  tr_error_set(c->err, code, c->name, (int)line, (int)col, fmt, a);
  return code;
}

/* Load the next window of input; 1 when bytes are available, 0 at the end (or on a read
 * error, which sets c->fatal). */
static int fill(tr_csv *c) {
  if (c->eof) return 0;
  if (c->f) {
    size_t n = fread(c->chunk, 1, CHUNK, c->f);
    if (n == 0) {
      c->eof = 1;
      if (ferror(c->f)) {
        c->fatal = TR_ERR_IO;
        csv_fail(c, TR_ERR_IO, c->line, 0, "read error: %s", strerror(errno));
      }
      return 0;
    }
    c->p = c->chunk;
    c->len = n;
  } else {
    c->eof = 1; /* the buffer is one window */
    if (c->buflen == 0) return 0;
    c->p = c->buf;
    c->len = c->buflen;
  }
  c->pos = 0;
  if (c->o.on_bytes) c->o.on_bytes(c->o.ud, c->p, c->len);
  if (!c->started) {
    c->started = 1;
    /* fread returns a short count only at end of file, so a BOM is never split */
    if (c->len >= 3 && c->p[0] == 0xEF && c->p[1] == 0xBB && c->p[2] == 0xBF) c->pos = 3;
    if (c->pos == c->len) return fill(c);
  }
  return 1;
}

static int peekc(tr_csv *c) {
  if (c->pos < c->len) return c->p[c->pos];
  if (!fill(c)) return END;
  return c->p[c->pos];
}

/* Consume the byte just peeked, keeping line and column. */
static void advance(tr_csv *c) {
  unsigned char ch = c->p[c->pos++];
  if (ch == '\r') {
    c->line++;
    c->col = 0;
  } else if (ch == '\n') {
    if (!c->prev_cr) c->line++;
    c->col = 0;
  } else {
    c->col++;
  }
  c->prev_cr = ch == '\r';
}

static int grow_data(tr_csv *c, size_t extra) {
  if (c->dlen + extra + 1 <= c->dcap) return TR_OK;
  size_t cap = c->dcap ? c->dcap : 256;
  while (cap < c->dlen + extra + 1)
    cap *= 2;
  char *d = tr_realloc(c->data, cap);
  if (!d) {
    c->fatal = TR_ERR_NOMEM;
    return csv_fail(c, TR_ERR_NOMEM, c->line, 0, "%s", "out of memory reading a CSV row");
  }
  c->data = d;
  c->dcap = cap;
  return TR_OK;
}

/* Append n bytes to the open field, enforcing the field size limit. */
static int append(tr_csv *c, const unsigned char *s, size_t n) {
  csv_field *fl = &c->fields[c->nf - 1];
  if (fl->len + n > c->o.max_field) {
    c->fatal = TR_ERR_LIMIT;
    tr_error_set(c->err, TR_ERR_LIMIT, c->name, (int)fl->line, (int)fl->col,
                 "field longer than %zu bytes", c->o.max_field);
    return TR_ERR_LIMIT;
  }
  int rc = grow_data(c, n);
  if (rc) return rc;
  memcpy(c->data + c->dlen, s, n);
  c->dlen += n;
  fl->len += n;
  return TR_OK;
}

static int open_field(tr_csv *c) {
  if (c->nf == c->o.max_fields) {
    c->fatal = TR_ERR_LIMIT;
    tr_error_set(c->err, TR_ERR_LIMIT, c->name, (int)c->row_line, 0, "row has more than %zu fields",
                 c->o.max_fields);
    return TR_ERR_LIMIT;
  }
  if (c->nf == c->fcap) {
    size_t cap = c->fcap ? c->fcap * 2 : 16;
    csv_field *f = tr_realloc(c->fields, cap * sizeof *f);
    if (!f) {
      c->fatal = TR_ERR_NOMEM;
      return csv_fail(c, TR_ERR_NOMEM, c->line, 0, "%s", "out of memory reading a CSV row");
    }
    c->fields = f;
    c->fcap = cap;
  }
  int rc = grow_data(c, 0);
  if (rc) return rc;
  csv_field *fl = &c->fields[c->nf++];
  fl->off = c->dlen;
  fl->len = 0;
  fl->line = c->line;
  fl->col = c->col + 1;
  return TR_OK;
}

static void close_field(tr_csv *c) {
  c->data[c->dlen++] = '\0'; /* room was reserved by grow_data */
}

/* Skip to the start of the next physical line (error recovery). */
static void skip_line(tr_csv *c) {
  int ch;
  while ((ch = peekc(c)) != END && ch != '\r' && ch != '\n')
    advance(c);
  if (ch == '\r') {
    advance(c);
    if (peekc(c) == '\n') advance(c);
  } else if (ch == '\n') {
    advance(c);
  }
}

/* The length of the run of ordinary bytes at the window position: stops at the delimiter, a
 * quote or a line break (only a quote or a line break when `quoted`). */
static size_t run_length(const tr_csv *c, int quoted) {
  const unsigned char *s = c->p + c->pos, *e = c->p + c->len;
  const unsigned char d = (unsigned char)c->o.delim;
  const unsigned char *q = s;
  if (quoted) {
    while (q < e && *q != '"' && *q != '\r' && *q != '\n')
      q++;
  } else {
    while (q < e && *q != d && *q != '"' && *q != '\r' && *q != '\n')
      q++;
  }
  return (size_t)(q - s);
}

/* A quoted field, from its opening quote: quoted = '"' *(textdata / delim / CR / LF / '""')
 * '"'. Returns TR_OK with the quote closed, or an error. */
static int quoted_field(tr_csv *c) {
  csv_field *fl = &c->fields[c->nf - 1];
  long qline = fl->line, qcol = fl->col;
  advance(c); /* the opening quote */
  for (;;) {
    if (c->pos < c->len) {
      size_t n = run_length(c, 1);
      if (n) {
        int rc = append(c, c->p + c->pos, n);
        if (rc) return rc;
        c->pos += n;
        c->col += (long)n;
        c->prev_cr = 0;
        continue;
      }
    }
    int ch = peekc(c);
    if (ch == END) {
      if (c->fatal) return c->fatal;
      c->fatal = TR_ERR_PARSE;
      return csv_fail(c, TR_ERR_PARSE, qline, qcol, "%s",
                      "unterminated quoted field (the quote opened here is never closed)");
    }
    unsigned char b = (unsigned char)ch;
    advance(c);
    if (b == '"') {
      if (peekc(c) != '"') return c->fatal ? c->fatal : TR_OK;
      advance(c); /* "" stands for one quote */
    }
    int rc = append(c, &b, 1);
    if (rc) return rc;
  }
}

/* Consume the line ending after a row (CR, LF or CRLF), if any. */
static void end_line(tr_csv *c) {
  int ch = peekc(c);
  if (ch == '\r') {
    advance(c);
    if (peekc(c) == '\n') advance(c);
  } else if (ch == '\n') {
    advance(c);
  }
}

/* One row: row = field *(delim field) (CR / LF / CRLF / end); field = quoted / *textdata. */
static int read_row(tr_csv *c) {
  const int d = (unsigned char)c->o.delim;
  for (;;) {
    int rc = open_field(c);
    if (rc) return rc;
    int ch = peekc(c);
    if (ch == '"') {
      rc = quoted_field(c);
      if (rc) return rc;
      close_field(c);
      ch = peekc(c);
      if (ch == d) {
        advance(c);
        continue;
      }
      if (ch == END || ch == '\r' || ch == '\n') break;
      if (c->fatal) return c->fatal;
      tr_error_set(c->err, TR_ERR_PARSE, c->name, (int)c->line, (int)c->col + 1,
                   "unexpected '%c' after the closing quote of field %zu", ch, c->nf);
      skip_line(c);
      return TR_ERR_PARSE;
    }
    for (;;) {
      if (c->pos < c->len) {
        size_t n = run_length(c, 0);
        if (n) {
          rc = append(c, c->p + c->pos, n);
          if (rc) return rc;
          c->pos += n;
          c->col += (long)n;
          c->prev_cr = 0;
        }
      }
      ch = peekc(c);
      if (ch == END || ch == d || ch == '\r' || ch == '\n') break;
      if (ch == '"') {
        tr_error_set(c->err, TR_ERR_PARSE, c->name, (int)c->line, (int)c->col + 1,
                     "quote inside unquoted field %zu (quote the whole field and double the "
                     "quote)",
                     c->nf);
        skip_line(c);
        return TR_ERR_PARSE;
      }
    }
    if (c->fatal) return c->fatal;
    close_field(c);
    if (ch == d) {
      advance(c);
      continue;
    }
    break;
  }
  end_line(c);
  return c->fatal ? c->fatal : TR_OK;
}

int tr_csv_next(tr_csv *c, tr_error *err) {
  c->err = err;
  if (c->fatal) {
    if (err && err->code == TR_OK)
      tr_error_set(err, c->fatal, c->name, (int)c->line, 0, "reading stopped at an earlier error");
    return c->fatal;
  }
  c->nf = 0;
  c->dlen = 0;
  int ch;
  /* a physically empty line is not a row */
  while ((ch = peekc(c)) == '\r' || ch == '\n')
    advance(c);
  if (ch == END) return c->fatal ? c->fatal : 0;
  c->row_line = c->line;
  int rc = read_row(c);
  if (rc) {
    c->nf = 0; /* a row with a syntax error has no fields to offer */
    return rc;
  }
  if (c->expected == 0) {
    c->expected = c->nf;
  } else if (c->nf != c->expected && !(c->o.flags & TR_CSV_RAGGED_OK)) {
    long col = c->nf > c->expected ? c->fields[c->expected].col : 0;
    long line = c->nf > c->expected ? c->fields[c->expected].line : c->row_line;
    tr_error_set(err, TR_ERR_PARSE, c->name, (int)line, (int)col,
                 "ragged row: line %ld has %zu field%s, expected %zu as in the first row",
                 c->row_line, c->nf, c->nf == 1 ? "" : "s", c->expected);
    return TR_ERR_PARSE;
  }
  return 1;
}

static int csv_open(tr_csv **out, FILE *f, const char *buf, size_t len, const char *name,
                    const tr_csv_opts *opts, tr_error *err) {
  *out = NULL;
  tr_csv_opts o = opts ? *opts : (tr_csv_opts){0};
  if (o.delim == 0) o.delim = ',';
  if (o.max_field == 0) o.max_field = TR_CSV_MAX_FIELD_DEFAULT;
  if (o.max_fields == 0) o.max_fields = TR_CSV_MAX_FIELDS_DEFAULT;
  if (o.delim == '"' || o.delim == '\r' || o.delim == '\n')
    return tr_error_set(err, TR_ERR_INVALID, NULL, 0, 0,
                        "a CSV delimiter cannot be a quote or a line break");
  tr_csv *c = tr_calloc(1, sizeof *c);
  if (!c) return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory opening a CSV");
  c->name = tr_strdup(name ? name : "<input>");
  if (f) c->chunk = tr_malloc(CHUNK);
  if (!c->name || (f && !c->chunk)) {
    tr_csv_free(c);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory opening a CSV");
  }
  c->f = f;
  c->buf = (const unsigned char *)buf;
  c->buflen = len;
  c->o = o;
  c->line = 1;
  *out = c;
  return TR_OK;
}

int tr_csv_open_file(tr_csv **out, FILE *f, const char *name, const tr_csv_opts *opts,
                     tr_error *err) {
  if (!f) return tr_error_set(err, TR_ERR_INVALID, name, 0, 0, "no input stream");
  return csv_open(out, f, NULL, 0, name, opts, err);
}

int tr_csv_open_buffer(tr_csv **out, const char *buf, size_t len, const char *name,
                       const tr_csv_opts *opts, tr_error *err) {
  if (!buf && len) return tr_error_set(err, TR_ERR_INVALID, name, 0, 0, "no input buffer");
  return csv_open(out, NULL, buf, len, name, opts, err);
}

size_t tr_csv_nfields(const tr_csv *c) {
  return c->nf;
}

const char *tr_csv_field(const tr_csv *c, size_t i, size_t *len) {
  if (i >= c->nf) return NULL;
  if (len) *len = c->fields[i].len;
  return c->data + c->fields[i].off;
}

long tr_csv_line(const tr_csv *c) {
  return c->row_line;
}

long tr_csv_field_line(const tr_csv *c, size_t i) {
  return i < c->nf ? c->fields[i].line : 0;
}

long tr_csv_field_col(const tr_csv *c, size_t i) {
  return i < c->nf ? c->fields[i].col : 0;
}

size_t tr_csv_expected_fields(const tr_csv *c) {
  return c->expected;
}

const char *tr_csv_name(const tr_csv *c) {
  return c->name;
}

void tr_csv_free(tr_csv *c) {
  if (!c) return;
  tr_free(c->name);
  tr_free(c->chunk);
  tr_free(c->data);
  tr_free(c->fields);
  tr_free(c);
}

void tr_csv_write_field(tr_sb *sb, const char *s) {
  if (!s) return;
  size_t n = strlen(s);
  if (!strpbrk(s, ",\"\r\n") && (n == 0 || (s[0] != ' ' && s[n - 1] != ' '))) {
    tr_sb_appendn(sb, s, n);
    return;
  }
  tr_sb_putc(sb, '"');
  for (; *s; s++) {
    if (*s == '"') tr_sb_putc(sb, '"');
    tr_sb_putc(sb, *s);
  }
  tr_sb_putc(sb, '"');
}
