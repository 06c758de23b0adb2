/*
 * CLI plumbing shared by the subcommands: the command table entry, option tables and an
 * option parser that generates --help and answers unknown options with the closest match.
 * Each subcommand lives in its own cmd_<name>.c and is listed once in main.c's table.
 */
#ifndef TR_CLI_CLI_H
#define TR_CLI_CLI_H

#include <stdio.h>

typedef struct tr_cli_opt {
  const char *name; /* long name without dashes, e.g. "format" */
  char short_name;  /* e.g. 'o', or 0 */
  const char *arg;  /* metavariable when the option takes a value ("FILE"), NULL for a flag */
  const char *help; /* one line */
} tr_cli_opt;

typedef struct tr_cli_cmd tr_cli_cmd;
struct tr_cli_cmd {
  const char *name;                             /* subcommand */
  int (*run)(const tr_cli_cmd *, int, char **); /* argv[0] is the subcommand name */
  const char *args;                             /* positional synopsis, e.g. "MODEL.xmile" */
  const char *summary;                          /* one line for `tightrope help` */
  const char *description; /* a paragraph for `tightrope CMD --help`, or NULL */
  const tr_cli_opt *opts;  /* terminated by {NULL} */
};

/* Exit codes: 0 success, 1 failure (e.g. an alert or an I/O error), 2 bad input or usage. */
enum { TR_EXIT_OK = 0, TR_EXIT_FAIL = 1, TR_EXIT_USAGE = 2 };

typedef struct tr_cli_parser {
  const tr_cli_cmd *cmd;
  int argc;
  char **argv;
  int i;             /* next argv index */
  const char *value; /* the value of the option just returned (NULL for flags) */
  char *positional[64];
  int npos;
  int only_positional; /* after "--" */
} tr_cli_parser;

enum { TR_CLI_END = -1, TR_CLI_ERROR = -2, TR_CLI_HELP = -3 };

void tr_cli_parser_init(tr_cli_parser *p, const tr_cli_cmd *cmd, int argc, char **argv);

/* The next option: its index in cmd->opts (value in p->value), TR_CLI_END when argv is
 * exhausted (positionals are collected in p->positional), TR_CLI_HELP after printing the
 * help for --help/-h, or TR_CLI_ERROR after printing a usage error (unknown option with the
 * closest match, missing value, too many positionals) to stderr. */
int tr_cli_next(tr_cli_parser *p);

/* Print `tightrope CMD --help` text, generated from the command entry. */
void tr_cli_print_help(FILE *out, const tr_cli_cmd *cmd);

/* Print "tightrope CMD: message" to stderr and return TR_EXIT_USAGE. */
int tr_cli_usage_error(const tr_cli_cmd *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Parse a double/int option value completely; on failure print a usage error and return 0. */
int tr_cli_parse_double(const tr_cli_cmd *cmd, const char *opt, const char *s, double *out);
int tr_cli_parse_long(const tr_cli_cmd *cmd, const char *opt, const char *s, long *out);

/* Load DIR/plan.yaml (DIR "." when NULL). On failure print "tightrope CMD: file:line:col:
 * message" and return the exit code (2 for a missing or bad plan); 0 with *out set on success. */
struct tr_plan;
int tr_cli_load_plan(const tr_cli_cmd *cmd, const char *dir, struct tr_plan **out);

/* The subcommand table (main.c). */
extern const tr_cli_cmd tr_cli_commands[];
extern const int tr_cli_ncommands;

#endif
