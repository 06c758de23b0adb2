/* Option parsing and generated help for the subcommands (see cli.h). */
#include "cli/cli.h"

#include "base/text.h"
#include "tightrope/strategy.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void tr_cli_parser_init(tr_cli_parser *p, const tr_cli_cmd *cmd, int argc, char **argv) {
  memset(p, 0, sizeof *p);
  p->cmd = cmd;
  p->argc = argc;
  p->argv = argv;
  p->i = 1;
}

int tr_cli_usage_error(const tr_cli_cmd *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "tightrope %s: ", cmd ? cmd->name : "");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return TR_EXIT_USAGE;
}

void tr_cli_print_help(FILE *out, const tr_cli_cmd *cmd) {
  fprintf(out, "usage: tightrope %s%s%s%s\n\n%s\n", cmd->name,
          cmd->opts && cmd->opts[0].name ? " [OPTIONS]" : "", cmd->args ? " " : "",
          cmd->args ? cmd->args : "", cmd->summary);
  if (cmd->description) fprintf(out, "\n%s\n", cmd->description);
  fprintf(out, "\noptions:\n");
  for (const tr_cli_opt *o = cmd->opts; o && o->name; o++) {
    char lhs[64];
    if (o->short_name)
      snprintf(lhs, sizeof lhs, "-%c, --%s%s%s", o->short_name, o->name, o->arg ? " " : "",
               o->arg ? o->arg : "");
    else
      snprintf(lhs, sizeof lhs, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    fprintf(out, "  %-28s %s\n", lhs, o->help);
  }
  fprintf(out, "  %-28s %s\n", "-h, --help", "show this help");
}

static int unknown_option(tr_cli_parser *p, const char *given) {
  const char *names[128];
  size_t n = 0;
  for (const tr_cli_opt *o = p->cmd->opts; o && o->name && n < 127; o++)
    names[n++] = o->name;
  names[n++] = "help";
  const char *bare = given;
  while (*bare == '-')
    bare++;
  const char *best = tr_closest(bare, names, n);
  if (best)
    return tr_cli_usage_error(p->cmd, "unknown option '%s' (did you mean '--%s'?)", given, best),
           TR_CLI_ERROR;
  tr_cli_usage_error(p->cmd, "unknown option '%s' (see 'tightrope %s --help')", given,
                     p->cmd->name);
  return TR_CLI_ERROR;
}

int tr_cli_next(tr_cli_parser *p) {
  p->value = NULL;
  while (p->i < p->argc) {
    char *a = p->argv[p->i++];
    if (p->only_positional || a[0] != '-' || a[1] == '\0') {
      if (p->npos >= (int)(sizeof p->positional / sizeof p->positional[0])) {
        tr_cli_usage_error(p->cmd, "too many arguments");
        return TR_CLI_ERROR;
      }
      p->positional[p->npos++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      p->only_positional = 1;
      continue;
    }
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      tr_cli_print_help(stdout, p->cmd);
      return TR_CLI_HELP;
    }
    const tr_cli_opt *hit = NULL;
    const char *inline_val = NULL;
    if (a[1] == '-') {
      const char *name = a + 2;
      const char *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      for (const tr_cli_opt *o = p->cmd->opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) hit = o;
      if (hit && eq) inline_val = eq + 1;
    } else {
      for (const tr_cli_opt *o = p->cmd->opts; o && o->name; o++)
        if (o->short_name && o->short_name == a[1]) hit = o;
      if (hit && a[2]) inline_val = a + 2;
    }
    if (!hit) return unknown_option(p, a);
    if (hit->arg) {
      if (inline_val)
        p->value = inline_val;
      else if (p->i < p->argc)
        p->value = p->argv[p->i++];
      else {
        tr_cli_usage_error(p->cmd, "option '--%s' needs a value %s", hit->name, hit->arg);
        return TR_CLI_ERROR;
      }
    } else if (inline_val) {
      tr_cli_usage_error(p->cmd, "option '--%s' takes no value", hit->name);
      return TR_CLI_ERROR;
    }
    return (int)(hit - p->cmd->opts);
  }
  return TR_CLI_END;
}

int tr_cli_parse_double(const tr_cli_cmd *cmd, const char *opt, const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || !isfinite(v)) {
    tr_cli_usage_error(cmd, "--%s: '%s' is not a finite number", opt, s);
    return 0;
  }
  *out = v;
  return 1;
}

int tr_cli_parse_long(const tr_cli_cmd *cmd, const char *opt, const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end || errno) {
    tr_cli_usage_error(cmd, "--%s: '%s' is not a whole number", opt, s);
    return 0;
  }
  *out = v;
  return 1;
}

int tr_cli_load_plan(const tr_cli_cmd *cmd, const char *dir, tr_plan **out) {
  char path[4096];
  snprintf(path, sizeof path, "%s/plan.yaml", dir ? dir : ".");
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_plan_load_file(path, out, &err);
  if (!rc) return TR_EXIT_OK;
  fprintf(stderr, "tightrope %s: %s\n", cmd->name, tr_error_text(&err));
  return rc == TR_ERR_IO ? TR_EXIT_USAGE : tr_status_exit_code(rc);
}
