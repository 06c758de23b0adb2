/*
 * tightrope — command-line entry point. Subcommands are dispatched from one table
 * (STYLE rule 8); `tightrope help`, `--version` and `CMD --help` are generated from it.
 */
#include "cli/cli.h"

#include "base/bulk.h"
#include "base/text.h"
#include "cli/commands.h"

#include <stdio.h>
#include <string.h>

static int cmd_help(const tr_cli_cmd *cmd, int argc, char **argv);

static const tr_cli_opt no_opts[] = {{NULL, 0, NULL, NULL}};

const tr_cli_cmd tr_cli_commands[] = {
#define TR_X_CMD(name, fn, args, summary, description, opts)                                       \
  {name, fn, args, summary, description, opts},
    TR_CLI_COMMAND_LIST(TR_X_CMD)
#undef TR_X_CMD
        {"help", cmd_help, "[COMMAND]", "show the commands, or the help of one command", NULL,
         no_opts},
};
const int tr_cli_ncommands = (int)(sizeof tr_cli_commands / sizeof tr_cli_commands[0]);

static const tr_cli_cmd *find_command(const char *name) {
  for (int i = 0; i < tr_cli_ncommands; i++)
    if (strcmp(tr_cli_commands[i].name, name) == 0) return &tr_cli_commands[i];
  return NULL;
}

static void print_overview(FILE *out) {
  fprintf(out,
          "tightrope %s — Strategic Balance Dynamics for small and medium businesses\n\n"
          "usage: tightrope COMMAND [OPTIONS] [ARGS]\n\ncommands:\n",
          TR_VERSION);
  for (int i = 0; i < tr_cli_ncommands; i++)
    fprintf(out, "  %-14s %s\n", tr_cli_commands[i].name, tr_cli_commands[i].summary);
  fprintf(out, "\n'tightrope COMMAND --help' shows the options of a command.\n"
               "Exit codes: 0 success, 1 failure or active alert, 2 bad input or usage.\n");
}

static int unknown_command(const char *name) {
  const char *names[64];
  size_t n = 0;
  for (int i = 0; i < tr_cli_ncommands && n < 64; i++)
    names[n++] = tr_cli_commands[i].name;
  const char *best = tr_closest(name, names, n);
  if (best)
    fprintf(stderr, "tightrope: unknown command '%s' (did you mean '%s'?)\n", name, best);
  else
    fprintf(stderr, "tightrope: unknown command '%s' (see 'tightrope help')\n", name);
  return TR_EXIT_USAGE;
}

static int cmd_help(const tr_cli_cmd *cmd, int argc, char **argv) {
  tr_cli_parser p;
  tr_cli_parser_init(&p, cmd, argc, argv);
  int rc;
  while ((rc = tr_cli_next(&p)) >= 0) {
  }
  if (rc == TR_CLI_HELP) return TR_EXIT_OK;
  if (rc == TR_CLI_ERROR) return TR_EXIT_USAGE;
  if (p.npos == 0) {
    print_overview(stdout);
    return TR_EXIT_OK;
  }
  const tr_cli_cmd *c = find_command(p.positional[0]);
  if (!c) return unknown_command(p.positional[0]);
  tr_cli_print_help(stdout, c);
  return TR_EXIT_OK;
}

int main(int argc, char **argv) {
  tr_bulk_keep_heap(); /* a server runs study after study: keep freed memory for the next */
  if (argc < 2) {
    print_overview(stderr);
    return TR_EXIT_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
    printf("tightrope %s\n", TR_VERSION);
    return TR_EXIT_OK;
  }
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
    print_overview(stdout);
    return TR_EXIT_OK;
  }
  if (name[0] == '-') {
    const char *opts[] = {"--version", "--help"};
    const char *best = tr_closest(name, opts, 2);
    fprintf(stderr, "tightrope: unknown option '%s'%s%s%s\n", name, best ? " (did you mean '" : "",
            best ? best : "", best ? "'?)" : "");
    return TR_EXIT_USAGE;
  }
  const tr_cli_cmd *cmd = find_command(name);
  if (!cmd) return unknown_command(name);
  return cmd->run(cmd, argc - 1, argv + 1);
}
