/*
 * tightrope simulate MODEL.xmile — run a model once and print its variables over time.
 *
 * CSV (default): a header row "Time,<name>,..." then one row per saved time; columns are the
 * non-hidden variables in model order (or those of --vars, in the order given), named as in
 * the flat model ("a[x]", "module.var"); numbers in the shortest form that reads back
 * exactly (times with 15 significant digits, see append_time); NaN and infinities as NaN,
 * Inf, -Inf.
 *
 * JSON (--format json):
 *   {"model": "Teacup", "file": "teacup.xmile", "method": "euler",
 *    "start": 0, "stop": 30, "dt": 0.125, "save_step": 0.125,
 *    "time": [0, 0.125, ...],
 *    "variables": {"Teacup Temperature": [180, ...], ...},
 *    "warning": "..."}                (only when a numeric hazard occurred)
 * with NaN and infinities as null (JSON has no such numbers).
 *
 * Exit codes: 0 success (a numeric hazard is a warning on stderr), 1 output error, 2 bad
 * input: unreadable or invalid model, bad option, unknown --set/--vars name, non-constant
 * --set target, NaN with --strict-math.
 */
#include "cli/cli.h"
#include "cli/commands.h"

#include "base/csv.h"
#include "base/strbuf.h"
#include "tightrope/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  O_START,
  O_STOP,
  O_DT,
  O_METHOD,
  O_SAVE,
  O_SET,
  O_VARS,
  O_FORMAT,
  O_OUTPUT,
  O_SEED,
  O_STRICT
};

const tr_cli_opt tr_cmd_simulate_opts[] = {
    {"start", 0, "T", "start time (default: the model's sim_specs)"},
    {"stop", 0, "T", "stop time"},
    {"dt", 0, "X", "time step"},
    {"method", 0, "NAME", "integration method: euler, rk2 or rk4"},
    {"save-step", 0, "X", "interval between output rows, a multiple of dt (default dt)"},
    {"set", 0, "NAME=VALUE", "set a constant before the run (repeatable)"},
    {"vars", 0, "A,B,...", "only these variables, in this order"},
    {"format", 0, "FMT", "output format: csv (default) or json"},
    {"output", 'o', "FILE", "write to FILE instead of standard output"},
    {"seed", 0, "N", "seed of the random functions (default 0)"},
    {"strict-math", 0, NULL, "fail (exit 2) when a variable becomes NaN or infinite"},
    {NULL, 0, NULL, NULL}};

static const char *const methods[] = {"euler", "rk2", "rk4"};

static int ieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    int x = (unsigned char)*a, y = (unsigned char)*b;
    if ((x | 32) != (y | 32) || ((x | 32) < 'a' && x != y)) return 0;
  }
  return *a == *b;
}

static void json_string(tr_sb *sb, const char *s) {
  tr_sb_putc(sb, '"');
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      tr_sb_putc(sb, '\\');
      tr_sb_putc(sb, (char)c);
    } else if (c < 0x20) {
      tr_sb_printf(sb, "\\u%04x", c);
    } else {
      tr_sb_putc(sb, (char)c);
    }
  }
  tr_sb_putc(sb, '"');
}

static void json_number(tr_sb *sb, double v) {
  if (v != v || v - v != 0)
    tr_sb_append(sb, "null");
  else
    tr_sb_append_double(sb, v);
}

/* Times are start + n * dt, exact to the step index but not always the decimal the user
 * wrote (3 * 0.3 is 0.8999999999999999): they are printed with 15 significant digits, which
 * shows 0.9 and loses nothing that the step index does not determine. */
static void append_time(tr_sb *sb, double t) {
  char buf[40];
  snprintf(buf, sizeof buf, "%.15g", t);
  tr_sb_append(sb, buf);
}

static void write_csv(tr_sb *sb, const tr_model *m, tr_sim *s, const size_t *cols, size_t nc) {
  size_t n = tr_sim_saved_count(s);
  const double *t = tr_sim_times(s);
  tr_sb_append(sb, "Time");
  for (size_t j = 0; j < nc; j++) {
    tr_var_info vi;
    tr_model_var(m, cols[j], &vi);
    tr_sb_putc(sb, ',');
    tr_csv_write_field(sb, vi.name);
  }
  tr_sb_putc(sb, '\n');
  for (size_t k = 0; k < n; k++) {
    append_time(sb, t[k]);
    for (size_t j = 0; j < nc; j++) {
      tr_sb_putc(sb, ',');
      tr_sb_append_double(sb, tr_sim_series(s, cols[j], 0)[k]);
    }
    tr_sb_putc(sb, '\n');
  }
}

static void write_json(tr_sb *sb, const tr_model *m, tr_sim *s, const size_t *cols, size_t nc) {
  const tr_sim_opts *o = tr_sim_opts_get(s);
  size_t n = tr_sim_saved_count(s);
  const double *t = tr_sim_times(s);
  tr_sb_append(sb, "{\"model\": ");
  json_string(sb, tr_model_name(m) ? tr_model_name(m) : tr_model_file(m));
  tr_sb_append(sb, ", \"file\": ");
  json_string(sb, tr_model_file(m));
  tr_sb_printf(sb, ", \"method\": \"%s\", \"start\": ", methods[o->method]);
  json_number(sb, o->start);
  tr_sb_append(sb, ", \"stop\": ");
  json_number(sb, o->stop);
  tr_sb_append(sb, ", \"dt\": ");
  json_number(sb, o->dt);
  tr_sb_append(sb, ", \"save_step\": ");
  json_number(sb, o->save_step > 0 ? o->save_step : o->dt);
  tr_sb_append(sb, ",\n \"time\": [");
  for (size_t k = 0; k < n; k++) {
    if (k) tr_sb_append(sb, ", ");
    append_time(sb, t[k]);
  }
  tr_sb_append(sb, "],\n \"variables\": {");
  for (size_t j = 0; j < nc; j++) {
    tr_var_info vi;
    tr_model_var(m, cols[j], &vi);
    const double *y = tr_sim_series(s, cols[j], 0);
    tr_sb_append(sb, j ? ",\n  " : "\n  ");
    json_string(sb, vi.name);
    tr_sb_append(sb, ": [");
    for (size_t k = 0; k < n; k++) {
      if (k) tr_sb_append(sb, ", ");
      json_number(sb, y[k]);
    }
    tr_sb_putc(sb, ']');
  }
  tr_sb_append(sb, "}");
  if (tr_sim_warning(s)) {
    tr_sb_append(sb, ",\n \"warning\": ");
    json_string(sb, tr_sim_warning(s));
  }
  tr_sb_append(sb, "}\n");
}

/* The columns of --vars (comma-separated names), or every visible variable. */
static int pick_columns(const tr_cli_cmd *cmd, const tr_model *m, const char *vars, size_t *cols,
                        size_t *nc) {
  *nc = 0;
  if (!vars) {
    for (size_t i = 0; i < tr_model_var_count(m); i++) {
      tr_var_info vi;
      tr_model_var(m, i, &vi);
      if (!vi.hidden && vi.type != TR_VAR_GF) cols[(*nc)++] = i;
    }
    return TR_EXIT_OK;
  }
  const char *p = vars;
  while (*p) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char name[512];
    if (len == 0 || len >= sizeof name)
      return tr_cli_usage_error(cmd, "--vars: empty or overlong name in '%s'", vars);
    memcpy(name, p, len);
    name[len] = '\0';
    long i = tr_model_find(m, name);
    tr_var_info vi;
    if (i >= 0) tr_model_var(m, (size_t)i, &vi);
    if (i < 0 || vi.type == TR_VAR_GF) {
      const char *best = i < 0 ? tr_model_suggest(m, name) : NULL;
      fprintf(stderr, "%s: %s '%s'%s%s%s\n", tr_model_file(m),
              i < 0 ? "unknown variable" : "no values for the graphical function", name,
              best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
      return TR_EXIT_USAGE;
    }
    if (*nc >= tr_model_var_count(m))
      return tr_cli_usage_error(cmd, "--vars: more names than the model has variables");
    cols[(*nc)++] = (size_t)i;
    p += len;
    if (*p == ',') p++;
  }
  return TR_EXIT_OK;
}

/* Apply the --set NAME=VALUE options. */
static int apply_sets(const tr_cli_cmd *cmd, tr_sim *s, char **sets, int nsets) {
  for (int i = 0; i < nsets; i++) {
    char *eq = strrchr(sets[i], '=');
    if (!eq || eq == sets[i])
      return tr_cli_usage_error(cmd, "--set: expected NAME=VALUE, got '%s'", sets[i]);
    char *end;
    errno = 0;
    double v = strtod(eq + 1, &end);
    if (end == eq + 1 || *end || errno)
      return tr_cli_usage_error(cmd, "--set: '%s' is not a number", eq + 1);
    *eq = '\0';
    int rc = tr_sim_set_const(s, sets[i], -1, v);
    *eq = '=';
    if (rc) {
      fprintf(stderr, "%s\n", tr_error_text(tr_sim_error(s)));
      return TR_EXIT_USAGE;
    }
  }
  return TR_EXIT_OK;
}

int tr_cmd_simulate(const tr_cli_cmd *cmd, int argc, char **argv) {
  tr_cli_parser p;
  tr_cli_parser_init(&p, cmd, argc, argv);
  const char *vars = NULL, *out_path = NULL;
  int json = 0, strict = 0, rc;
  int have[O_STRICT + 1] = {0};
  double val[O_STRICT + 1] = {0};
  long seed = 0;
  char **sets = tr_calloc((size_t)argc + 1, sizeof *sets);
  int nsets = 0, method = -1;
  if (!sets) return TR_EXIT_FAIL;
  while ((rc = tr_cli_next(&p)) >= 0) {
    switch (rc) {
    case O_START:
    case O_STOP:
    case O_DT:
    case O_SAVE:
      if (!tr_cli_parse_double(cmd, cmd->opts[rc].name, p.value, &val[rc])) goto usage;
      have[rc] = 1;
      break;
    case O_METHOD:
      for (int k = 0; k < 3; k++)
        if (ieq(p.value, methods[k])) method = k;
      if (method < 0) {
        tr_cli_usage_error(cmd, "--method: unknown method '%s' (euler, rk2 or rk4)", p.value);
        goto usage;
      }
      break;
    case O_SET:
      sets[nsets++] = (char *)p.value;
      break;
    case O_VARS:
      vars = p.value;
      break;
    case O_FORMAT:
      if (ieq(p.value, "json")) {
        json = 1;
      } else if (ieq(p.value, "csv")) {
        json = 0;
      } else {
        tr_cli_usage_error(cmd, "--format: unknown format '%s' (csv or json)", p.value);
        goto usage;
      }
      break;
    case O_OUTPUT:
      out_path = p.value;
      break;
    case O_SEED:
      if (!tr_cli_parse_long(cmd, "seed", p.value, &seed)) goto usage;
      break;
    case O_STRICT:
      strict = 1;
      break;
    default:
      break;
    }
  }
  if (rc == TR_CLI_HELP) {
    tr_free(sets);
    return TR_EXIT_OK;
  }
  if (rc == TR_CLI_ERROR) goto usage;
  if (p.npos != 1) {
    tr_cli_usage_error(cmd, "expected one model file (see 'tightrope simulate --help')");
    goto usage;
  }

  tr_error err;
  tr_error_clear(&err);
  tr_model *m = NULL;
  tr_sim *s = NULL;
  size_t *cols = NULL, nc = 0;
  tr_sb sb = TR_SB_INIT;
  int exit_code = TR_EXIT_OK;
  if ((rc = tr_model_load_file(p.positional[0], &m, &err))) {
    fprintf(stderr, "%s\n", tr_error_text(&err));
    tr_free(sets);
    return rc == TR_ERR_IO ? TR_EXIT_USAGE : tr_status_exit_code(rc); /* unreadable model */
  }
  tr_sim_opts o = tr_model_default_opts(m);
  if (have[O_START]) o.start = val[O_START];
  if (have[O_STOP]) o.stop = val[O_STOP];
  if (have[O_DT]) o.dt = val[O_DT];
  o.save_step = have[O_SAVE] ? val[O_SAVE] : 0;
  if (method >= 0) o.method = method;
  o.seed = (uint64_t)seed;
  o.strict_math = strict;
  cols = tr_malloc((tr_model_var_count(m) + 1) * sizeof *cols);
  if (!cols) {
    exit_code = TR_EXIT_FAIL;
    fprintf(stderr, "tightrope simulate: out of memory\n");
    goto done;
  }
  if ((exit_code = pick_columns(cmd, m, vars, cols, &nc))) goto done;
  if ((rc = tr_sim_new(m, &o, &s, &err))) {
    fprintf(stderr, "%s\n", tr_error_text(&err));
    exit_code = tr_status_exit_code(rc);
    goto done;
  }
  if ((exit_code = apply_sets(cmd, s, sets, nsets))) goto done;
  if (nc && tr_sim_watch(s, cols, nc)) {
    fprintf(stderr, "%s\n", tr_error_text(tr_sim_error(s)));
    exit_code = TR_EXIT_FAIL;
    goto done;
  }
  if ((rc = tr_sim_run(s))) {
    fprintf(stderr, "%s\n", tr_error_text(tr_sim_error(s)));
    exit_code = rc == TR_ERR_MATH ? TR_EXIT_USAGE : tr_status_exit_code(rc);
    goto done;
  }
  if (tr_sim_warning(s)) fprintf(stderr, "%s: warning: %s\n", tr_model_file(m), tr_sim_warning(s));
  if (json)
    write_json(&sb, m, s, cols, nc);
  else
    write_csv(&sb, m, s, cols, nc);
  if (!tr_sb_ok(&sb)) {
    fprintf(stderr, "tightrope simulate: out of memory for the output\n");
    exit_code = TR_EXIT_FAIL;
    goto done;
  }
  FILE *f = out_path ? fopen(out_path, "wb") : stdout;
  int ok = f && fwrite(tr_sb_str(&sb), 1, sb.len, f) == sb.len;
  if (f && out_path)
    ok = fclose(f) == 0 && ok;
  else if (f)
    ok = fflush(f) == 0 && ok;
  if (!ok) {
    fprintf(stderr, "tightrope simulate: cannot write %s: %s\n", out_path ? out_path : "output",
            strerror(errno));
    exit_code = TR_EXIT_FAIL;
  }
done:
  tr_sb_free(&sb);
  tr_free(cols);
  tr_sim_free(s);
  tr_model_free(m);
  tr_free(sets);
  return exit_code;
usage:
  tr_free(sets);
  return TR_EXIT_USAGE;
}
