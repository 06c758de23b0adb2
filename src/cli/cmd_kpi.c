/* `tightrope kpi import|list|show|export`: the KPI store of a workspace from the command line.
 * The actions are rows of one table (STYLE rule 8); each says which options it takes. */
#include "cli/cli.h"
#include "cli/commands.h"

#include "base/strbuf.h"
#include "base/text.h"
#include "tightrope/store.h"
#include "tightrope/strategy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum { OPT_FORMAT, OPT_STRICT, OPT_DRY_RUN, OPT_WORKSPACE, OPT_SINCE, OPT_OUTPUT };

const tr_cli_opt tr_cmd_kpi_opts[] = {
    {"format", 'f', "long|wide",
     "import: long = date,kpi,value[,source] (default); wide = date,KPI..."},
    {"strict", 0, NULL, "import: reject the whole file when any row is bad"},
    {"dry-run", 'n', NULL, "import: check and count, change nothing"},
    {"workspace", 'w', "DIR", "the workspace folder (default: the current folder)"},
    {"since", 0, "DATE", "show: only periods from DATE on (YYYY-MM or YYYY-MM-DD)"},
    {"output", 'o', "FILE", "export: write to FILE instead of standard output"},
    {NULL, 0, NULL, NULL}};

/* Problems printed before the rest are only counted (a file can have a million bad rows). */
#define MAX_SHOWN 100

typedef struct kpi_args {
  const tr_cli_cmd *cmd;
  const char *workspace;
  const char *format;
  const char *since;
  const char *output;
  int strict, dry_run;
  char **pos; /* positionals after the action */
  int npos;
} kpi_args;

typedef struct kpi_action {
  const char *name;
  int (*run)(kpi_args *a);
  int nargs;         /* positionals after the action name */
  const char *usage; /* the positional synopsis */
  unsigned opts;     /* bit i: tr_cmd_kpi_opts[i] applies */
} kpi_action;

/* The exit code for a store status: bad input (the user's file or arguments) is 2, trouble
 * with the database or memory is 1. */
static int exit_for(int rc) {
  if (rc == TR_OK) return TR_EXIT_OK;
  if (rc == TR_ERR_DB || rc == TR_ERR_NOMEM || rc == TR_ERR_INTERNAL) return TR_EXIT_FAIL;
  return TR_EXIT_USAGE;
}

static int fail(const kpi_args *a, int rc, tr_error *err) {
  fprintf(stderr, "tightrope %s: %s\n", a->cmd->name, tr_error_text(err));
  return exit_for(rc);
}

/* The workspace must be an existing folder: a typo must not create a store somewhere. */
static int check_workspace(const kpi_args *a) {
  const char *dir = a->workspace ? a->workspace : ".";
  struct stat st;
  if (stat(dir, &st) != 0)
    return tr_cli_usage_error(a->cmd, "workspace '%s': %s", dir, strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return tr_cli_usage_error(a->cmd, "workspace '%s' is not a folder", dir);
  return TR_EXIT_OK;
}

/* Open the store of the workspace; with `must_exist`, a missing store is reported (exit 0 with
 * a note: there is simply nothing yet) instead of being created. *s NULL then. */
static int open_store(const kpi_args *a, int must_exist, tr_store **s) {
  *s = NULL;
  int x = check_workspace(a);
  if (x) return x;
  if (must_exist) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", a->workspace ? a->workspace : ".", TR_STORE_FILE);
    struct stat st;
    if (stat(path, &st) != 0) {
      fprintf(stderr, "tightrope %s: no KPI store in '%s' yet (see 'tightrope kpi import')\n",
              a->cmd->name, a->workspace ? a->workspace : ".");
      return TR_EXIT_OK;
    }
  }
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_store_open_workspace(s, a->workspace, &err);
  return rc ? fail(a, rc, &err) : TR_EXIT_OK;
}

typedef struct problem_log {
  long shown;
  long total;
} problem_log;

static void print_problem(void *ud, const tr_error *problem) {
  problem_log *log = ud;
  log->total++;
  if (log->shown >= MAX_SHOWN) return;
  log->shown++;
  tr_error e;
  tr_error_copy(&e, problem);
  fprintf(stderr, "%s\n", tr_error_text(&e));
}

/* The KPI ids of the workspace plan (DIR/plan.yaml) as a NULL-terminated list in *ids (free
 * with tr_free; the strings belong to *plan), or *ids = NULL when there is no plan or its
 * scorecard lists no KPIs: then any KPI name is accepted. A plan that does not load is bad
 * input: its KPI list is what an import is checked against. */
static int plan_kpis(const kpi_args *a, tr_plan **plan, const char ***ids) {
  *plan = NULL;
  *ids = NULL;
  char path[4096];
  snprintf(path, sizeof path, "%s/plan.yaml", a->workspace ? a->workspace : ".");
  struct stat st;
  if (stat(path, &st) != 0) return TR_EXIT_OK;
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_plan_load_file(path, plan, &err);
  if (rc) {
    fprintf(stderr,
            "tightrope kpi: %s\n(the plan's scorecard lists the KPIs an import accepts; "
            "fix the plan first)\n",
            tr_error_text(&err));
    return exit_for(rc);
  }
  size_t n = (*plan)->scorecard.n_kpis;
  if (n == 0) return TR_EXIT_OK;
  *ids = tr_calloc(n + 1, sizeof **ids);
  if (!*ids) {
    fprintf(stderr, "tightrope kpi: out of memory\n");
    return TR_EXIT_FAIL;
  }
  for (size_t i = 0; i < n; i++)
    (*ids)[i] = (*plan)->scorecard.kpis[i].id;
  return TR_EXIT_OK;
}

static int act_import(kpi_args *a) {
  tr_kpi_format format = TR_KPI_LONG;
  if (a->format && strcmp(a->format, "wide") == 0) {
    format = TR_KPI_WIDE;
  } else if (a->format && strcmp(a->format, "long") != 0) {
    const char *names[] = {"long", "wide"};
    const char *best = tr_closest(a->format, names, 2);
    return tr_cli_usage_error(a->cmd, "--format: '%s' is not long or wide%s%s%s", a->format,
                              best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
  }
  int x = check_workspace(a);
  if (x) return x;
  tr_plan *plan = NULL;
  const char **known = NULL;
  x = plan_kpis(a, &plan, &known);
  tr_store *s = NULL;
  if (!x) x = open_store(a, 0, &s);
  if (x) {
    tr_free(known);
    tr_plan_free(plan);
    return x;
  }
  problem_log log = {0, 0};
  tr_import_report rep;
  memset(&rep, 0, sizeof rep);
  rep.on_problem = print_problem;
  rep.ud = &log;
  rep.progress_out = stderr;
  unsigned flags = (a->strict ? TR_IMPORT_STRICT : 0u) | (a->dry_run ? TR_IMPORT_DRY_RUN : 0u);
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_store_import_csv(s, a->pos[0], format, flags, known, &rep, &err);
  tr_store_close(s);
  tr_free(known);
  tr_plan_free(plan);
  if (log.total > log.shown) fprintf(stderr, "... and %ld more problems\n", log.total - log.shown);
  if (rc) return fail(a, rc, &err);
  printf("%simported %ld row%s, rejected %ld%s: %ld new, %ld updated, %ld unchanged%s\n",
         a->dry_run ? "dry run: would have " : "", rep.rows_valid, rep.rows_valid == 1 ? "" : "s",
         rep.rows_rejected, rep.rows_rejected || rep.columns_ignored ? " (see above)" : "",
         rep.inserted, rep.updated, rep.unchanged, a->dry_run ? "; nothing written" : "");
  if (!a->dry_run && rep.import_id == 0 && rep.previous_import_id)
    printf("nothing new: this file was already imported (import #%ld)\n", rep.previous_import_id);
  /* The valid rows are in; rejected ones are bad input all the same, so a script (or cron)
   * sees them: exit 2, as for every other file with an error. */
  return rep.rows_rejected ? TR_EXIT_USAGE : TR_EXIT_OK;
}

static int print_summary(void *ud, const tr_kpi_summary *k) {
  tr_sb *sb = ud;
  tr_sb_reset(sb);
  tr_sb_append_double(sb, k->last_value);
  printf("%-24s %6ld  %-10s  %-10s  %s\n", k->kpi, k->count, k->first_period, k->last_period,
         tr_sb_str(sb));
  return 0;
}

static int act_list(kpi_args *a) {
  tr_store *s;
  int x = open_store(a, 1, &s);
  if (x || !s) return x;
  printf("%-24s %6s  %-10s  %-10s  %s\n", "KPI", "COUNT", "FIRST", "LAST", "LATEST");
  tr_sb sb = TR_SB_INIT;
  tr_error err;
  tr_error_clear(&err);
  int rc = tr_store_list_kpis(s, print_summary, &sb, &err);
  tr_sb_free(&sb);
  tr_store_close(s);
  return rc ? fail(a, rc, &err) : TR_EXIT_OK;
}

typedef struct show_ctx {
  tr_sb sb;
  long n;
} show_ctx;

static int print_obs(void *ud, const tr_kpi_obs *o) {
  show_ctx *c = ud;
  tr_sb_reset(&c->sb);
  tr_sb_append_double(&c->sb, o->value);
  printf("%-10s  %16s  %6ld  %s\n", o->period, tr_sb_str(&c->sb), o->import_id,
         o->source ? o->source : "");
  c->n++;
  return 0;
}

/* Collect KPI names for "did you mean". */
typedef struct names_ctx {
  char *names[256];
  size_t n;
} names_ctx;

static int collect_name(void *ud, const tr_kpi_summary *k) {
  names_ctx *c = ud;
  if (c->n < 256) {
    c->names[c->n] = tr_strdup(k->kpi);
    if (c->names[c->n]) c->n++;
  }
  return 0;
}

static int act_show(kpi_args *a) {
  tr_store *s;
  int x = open_store(a, 1, &s);
  if (x || !s) return x ? x : TR_EXIT_USAGE;
  show_ctx c = {TR_SB_INIT, 0};
  tr_error err;
  tr_error_clear(&err);
  printf("%-10s  %16s  %6s  %s\n", "PERIOD", "VALUE", "IMPORT", "SOURCE");
  int rc = tr_store_observations(s, a->pos[0], a->since, print_obs, &c, &err);
  tr_sb_free(&c.sb);
  if (!rc && c.n == 0) {
    names_ctx nc;
    nc.n = 0;
    rc = tr_store_list_kpis(s, collect_name, &nc, &err);
    int known = 0;
    for (size_t i = 0; i < nc.n; i++)
      known |= strcmp(nc.names[i], a->pos[0]) == 0;
    const char *best = tr_closest(a->pos[0], (const char *const *)nc.names, nc.n);
    if (!rc && !known) {
      fprintf(stderr, "tightrope kpi: no observations of '%s'%s%s%s\n", a->pos[0],
              best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
      x = TR_EXIT_USAGE;
    }
    for (size_t i = 0; i < nc.n; i++)
      tr_free(nc.names[i]);
  }
  tr_store_close(s);
  return rc ? fail(a, rc, &err) : x;
}

static int act_export(kpi_args *a) {
  tr_store *s;
  int x = open_store(a, 1, &s); /* exporting must not create a store */
  if (x) return x;
  FILE *out = stdout;
  if (a->output && !(out = fopen(a->output, "w"))) {
    fprintf(stderr, "tightrope kpi: cannot write '%s': %s\n", a->output, strerror(errno));
    tr_store_close(s);
    return TR_EXIT_FAIL;
  }
  tr_error err;
  tr_error_clear(&err);
  int rc = TR_OK;
  if (s)
    rc = tr_store_export_csv(s, out, &err);
  else if (fputs("date,kpi,value,source\n", out) < 0) /* no store: the header alone */
    rc = tr_error_set(&err, TR_ERR_IO, a->output, 0, 0, "write error");
  if (out != stdout && fclose(out) != 0 && !rc)
    rc = tr_error_set(&err, TR_ERR_IO, a->output, 0, 0, "write error");
  tr_store_close(s);
  return rc ? fail(a, rc, &err) : TR_EXIT_OK;
}

#define OPTS_IMPORT (1u << OPT_FORMAT | 1u << OPT_STRICT | 1u << OPT_DRY_RUN | 1u << OPT_WORKSPACE)

static const kpi_action actions[] = {
    {"import", act_import, 1, "import FILE.csv", OPTS_IMPORT},
    {"list", act_list, 0, "list", 1u << OPT_WORKSPACE},
    {"show", act_show, 1, "show KPI", 1u << OPT_WORKSPACE | 1u << OPT_SINCE},
    {"export", act_export, 0, "export", 1u << OPT_WORKSPACE | 1u << OPT_OUTPUT},
};
#define NACTIONS (sizeof actions / sizeof actions[0])

int tr_cmd_kpi(const tr_cli_cmd *cmd, int argc, char **argv) {
  tr_cli_parser p;
  tr_cli_parser_init(&p, cmd, argc, argv);
  kpi_args a;
  memset(&a, 0, sizeof a);
  a.cmd = cmd;
  unsigned given = 0;
  int k;
  while ((k = tr_cli_next(&p)) >= 0) {
    given |= 1u << k;
    switch (k) {
    case OPT_FORMAT:
      a.format = p.value;
      break;
    case OPT_STRICT:
      a.strict = 1;
      break;
    case OPT_DRY_RUN:
      a.dry_run = 1;
      break;
    case OPT_WORKSPACE:
      a.workspace = p.value;
      break;
    case OPT_SINCE:
      a.since = p.value;
      break;
    case OPT_OUTPUT:
      a.output = p.value;
      break;
    }
  }
  if (k == TR_CLI_HELP) return TR_EXIT_OK;
  if (k == TR_CLI_ERROR) return TR_EXIT_USAGE;
  if (p.npos == 0)
    return tr_cli_usage_error(cmd, "expected an action: import, list, show or export");
  const kpi_action *act = NULL;
  const char *names[NACTIONS];
  for (size_t i = 0; i < NACTIONS; i++) {
    names[i] = actions[i].name;
    if (strcmp(actions[i].name, p.positional[0]) == 0) act = &actions[i];
  }
  if (!act) {
    const char *best = tr_closest(p.positional[0], names, NACTIONS);
    return tr_cli_usage_error(cmd, "unknown action '%s'%s%s%s", p.positional[0],
                              best ? " (did you mean '" : "", best ? best : "",
                              best ? "'?)" : " (expected import, list, show or export)");
  }
  if (p.npos - 1 != act->nargs)
    return tr_cli_usage_error(cmd, "usage: tightrope kpi %s [OPTIONS]", act->usage);
  for (int i = 0; cmd->opts[i].name; i++)
    if ((given >> i & 1u) && !(act->opts >> i & 1u))
      return tr_cli_usage_error(cmd, "--%s does not apply to 'kpi %s'", cmd->opts[i].name,
                                act->name);
  a.pos = p.positional + 1;
  a.npos = p.npos - 1;
  return act->run(&a);
}
