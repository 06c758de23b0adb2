/* Monte Carlo events (`cash < 0`: probabilities and first passage) and the convergence rule
 * (`mean(revenue) ±1% @95%`), declared in stats.h. */
#include "scenario/stats.h"

#include "scenario/special.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- events ------------------------------------------------------------------------------ */

static void trim_copy(char *dst, size_t cap, const char *b, const char *e) {
  while (b < e && isspace((unsigned char)*b))
    b++;
  while (e > b && isspace((unsigned char)e[-1]))
    e--;
  if (e - b >= 2 && ((*b == '"' && e[-1] == '"') || (*b == '\'' && e[-1] == '\''))) {
    b++;
    e--;
  }
  size_t n = (size_t)(e - b);
  if (n >= cap) n = cap - 1;
  memcpy(dst, b, n);
  dst[n] = '\0';
}

static int full_number(const char *s, double *v) {
  char *end;
  errno = 0;
  if (!*s) return 0;
  *v = strtod(s, &end);
  return end != s && *end == '\0' && !errno && isfinite(*v);
}

int tr_event_parse(const char *text, tr_event *ev, tr_error *err) {
  memset(ev, 0, sizeof *ev);
  snprintf(ev->text, sizeof ev->text, "%s", text);
  const char *p = strpbrk(text, "<>=!");
  if (!p)
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0,
                        "event '%s': expected a comparison such as 'cash < 0'", text);
  static const struct {
    const char *s;
    tr_cmp op;
  } ops[] = {{"<=", TR_CMP_LE}, {">=", TR_CMP_GE}, {"==", TR_CMP_EQ}, {"!=", TR_CMP_NE},
             {"<>", TR_CMP_NE}, {"<", TR_CMP_LT},  {">", TR_CMP_GT},  {"=", TR_CMP_EQ}};
  size_t oplen = 0;
  tr_cmp op = TR_CMP_LT;
  for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !oplen; i++)
    if (strncmp(p, ops[i].s, strlen(ops[i].s)) == 0) {
      oplen = strlen(ops[i].s);
      op = ops[i].op;
    }
  if (!oplen)
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0,
                        "event '%s': unknown comparison at '%s' (use <, <=, >, >=, ==, !=)", text,
                        p);
  char left[256], right[256];
  trim_copy(left, sizeof left, text, p);
  trim_copy(right, sizeof right, p + oplen, p + strlen(p));
  if (strpbrk(right, "<>=!"))
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0, "event '%s': only one comparison is allowed",
                        text);
  double lv, rv;
  int lnum = full_number(left, &lv), rnum = full_number(right, &rv);
  if (rnum && !lnum) {
    ev->rhs = rv;
    snprintf(ev->var, sizeof ev->var, "%s", left);
    ev->op = op;
  } else if (lnum && !rnum) {
    ev->rhs = lv;
    snprintf(ev->var, sizeof ev->var, "%s", right);
    static const tr_cmp flip[] = {
        [TR_CMP_LT] = TR_CMP_GT, [TR_CMP_LE] = TR_CMP_GE, [TR_CMP_GT] = TR_CMP_LT,
        [TR_CMP_GE] = TR_CMP_LE, [TR_CMP_EQ] = TR_CMP_EQ, [TR_CMP_NE] = TR_CMP_NE};
    ev->op = flip[op];
  } else {
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0,
                        "event '%s': compare one variable with one number, e.g. 'cash < 0'", text);
  }
  if (!ev->var[0])
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0, "event '%s': the variable is missing", text);
  return TR_OK;
}

int tr_event_test(const tr_event *ev, double x) {
  switch (ev->op) {
  case TR_CMP_LT:
    return x < ev->rhs;
  case TR_CMP_LE:
    return x <= ev->rhs;
  case TR_CMP_GT:
    return x > ev->rhs;
  case TR_CMP_GE:
    return x >= ev->rhs;
  case TR_CMP_EQ:
    return x == ev->rhs;
  case TR_CMP_NE:
    return x != ev->rhs;
  }
  return 0;
}

int tr_event_acc_init(tr_event_acc *a, size_t n_times) {
  memset(a, 0, sizeof *a);
  a->first = tr_calloc(n_times ? n_times : 1, sizeof *a->first);
  if (!a->first) return TR_ERR_NOMEM;
  a->n_times = n_times;
  return TR_OK;
}

void tr_event_acc_free(tr_event_acc *a) {
  if (!a) return;
  tr_free(a->first);
  a->first = NULL;
}

void tr_event_acc_add(tr_event_acc *a, const tr_event *ev, const double *series) {
  a->runs++;
  for (size_t t = 0; t < a->n_times; t++)
    if (tr_event_test(ev, series[t])) {
      a->any++;
      a->first[t]++;
      break;
    }
  if (a->n_times && tr_event_test(ev, series[a->n_times - 1])) a->at_end++;
}

double tr_event_first_passage_quantile(const tr_event_acc *a, const double *times, double q) {
  if (a->any == 0) return NAN;
  /* Type 7 over the discrete first-passage times. */
  double h = q * (double)(a->any - 1);
  uint64_t lo = (uint64_t)floor(h), hi = lo + 1 < a->any ? lo + 1 : lo;
  double xlo = NAN, xhi = NAN;
  uint64_t cum = 0;
  for (size_t t = 0; t < a->n_times; t++) {
    cum += a->first[t];
    if (isnan(xlo) && cum > lo) xlo = times[t];
    if (cum > hi) {
      xhi = times[t];
      break;
    }
  }
  return xlo + (h - (double)lo) * (xhi - xlo);
}

/* ---- convergence rule -------------------------------------------------------------------- */

int tr_until_parse(const char *text, tr_until *u, tr_error *err) {
  memset(u, 0, sizeof *u);
  const char *s = text;
  while (isspace((unsigned char)*s))
    s++;
  if (strncmp(s, "mean", 4) != 0 || (s[4] != '(' && !isspace((unsigned char)s[4])))
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0,
                        "convergence rule '%s': expected 'mean(NAME) ±1%% @95%%' (only the mean "
                        "is supported)",
                        text);
  s += 4;
  while (isspace((unsigned char)*s))
    s++;
  if (*s != '(')
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0,
                        "convergence rule '%s': expected '(' after mean", text);
  const char *close = strchr(s, ')');
  if (!close)
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0, "convergence rule '%s': missing ')'", text);
  trim_copy(u->var, sizeof u->var, s + 1, close);
  if (!u->var[0])
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0,
                        "convergence rule '%s': the variable is missing", text);
  s = close + 1;
  while (isspace((unsigned char)*s))
    s++;
  if (strncmp(s, "\xc2\xb1", 2) == 0)
    s += 2;
  else if (strncmp(s, "+/-", 3) == 0)
    s += 3;
  else if (strncmp(s, "+-", 2) == 0)
    s += 2;
  else
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0,
                        "convergence rule '%s': expected '±' (or '+-') and a half-width", text);
  char *end;
  errno = 0;
  u->half = strtod(s, &end);
  if (end == s || errno || !(u->half > 0) || !isfinite(u->half))
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0,
                        "convergence rule '%s': the half-width must be a number > 0", text);
  s = end;
  if (*s == '%') {
    u->relative = 1;
    u->half /= 100;
    s++;
  }
  while (isspace((unsigned char)*s))
    s++;
  u->conf = 0.95;
  if (*s == '@') {
    s++;
    errno = 0;
    double c = strtod(s, &end);
    if (end == s || *end != '%' || !(c > 0 && c < 100))
      return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0,
                          "convergence rule '%s': the confidence must be a percentage in (0, "
                          "100), e.g. @95%%",
                          text);
    u->conf = c / 100;
    s = end + 1;
  }
  while (isspace((unsigned char)*s))
    s++;
  if (*s)
    return tr_error_set(err, TR_ERR_PARSE, NULL, 0, 0, "convergence rule '%s': unexpected '%s'",
                        text, s);
  u->z = tr_sf_norm_quantile(1 - (1 - u->conf) / 2);
  return TR_OK;
}

int tr_until_met(const tr_until *u, uint64_t n, double mean, double sd) {
  if (n < TR_UNTIL_MIN_RUNS || !isfinite(mean) || !isfinite(sd)) return 0;
  double allowed = u->relative ? u->half * fabs(mean) : u->half;
  return u->z * sd / sqrt((double)n) <= allowed;
}
