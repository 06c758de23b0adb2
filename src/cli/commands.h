/*
 * The subcommand list. Each X(name, fn, args, summary, description, opts) row is one
 * subcommand implemented in cmd_<name>.c; `help` is added by main.c. Keep alphabetical
 * within each group of the user's cycle (DESIGN §1).
 */
#ifndef TR_CLI_COMMANDS_H
#define TR_CLI_COMMANDS_H

#include "cli/cli.h"

#define TR_CLI_COMMAND_LIST(X)

#endif
