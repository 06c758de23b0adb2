/*
 * The subcommand list. Each X(name, fn, args, summary, description, opts) row is one
 * subcommand implemented in cmd_<name>.c; `help` is added by main.c. Keep alphabetical
 * within each group of the user's cycle (DESIGN §1).
 */
#ifndef TR_CLI_COMMANDS_H
#define TR_CLI_COMMANDS_H

#include "cli/cli.h"

/* Each command file defines `int tr_cmd_<name>(const tr_cli_cmd *, int, char **)` and
 * `const tr_cli_opt tr_cmd_<name>_opts[]` (terminated by {NULL}); declare both here. */
int tr_cmd_assess(const tr_cli_cmd *cmd, int argc, char **argv);
extern const tr_cli_opt tr_cmd_assess_opts[];
int tr_cmd_init(const tr_cli_cmd *cmd, int argc, char **argv);
extern const tr_cli_opt tr_cmd_init_opts[];
int tr_cmd_kpi(const tr_cli_cmd *cmd, int argc, char **argv);
extern const tr_cli_opt tr_cmd_kpi_opts[];
int tr_cmd_monitor(const tr_cli_cmd *cmd, int argc, char **argv);
extern const tr_cli_opt tr_cmd_monitor_opts[];
int tr_cmd_scorecard(const tr_cli_cmd *cmd, int argc, char **argv);
extern const tr_cli_opt tr_cmd_scorecard_opts[];
int tr_cmd_serve(const tr_cli_cmd *cmd, int argc, char **argv);
extern const tr_cli_opt tr_cmd_serve_opts[];
int tr_cmd_simulate(const tr_cli_cmd *cmd, int argc, char **argv);
extern const tr_cli_opt tr_cmd_simulate_opts[];
int tr_cmd_scenarios(const tr_cli_cmd *cmd, int argc, char **argv);
extern const tr_cli_opt tr_cmd_scenarios_opts[];

#define TR_CLI_COMMAND_LIST(X)                                                                     \
  X("init", tr_cmd_init, "--sector NAME DIR", "create a workspace from a sector template",         \
    "Copies the sector's model, plan and README into DIR and imports its three years of KPI\n"     \
    "history into DIR/tightrope.db. --list shows the sectors.",                                    \
    tr_cmd_init_opts)                                                                              \
  X("assess", tr_cmd_assess, "[WORKSPACE]",                                                        \
    "how balanced the business is, how that holds under scenarios, which lever to move",           \
    "Applies the plan's levers to the model, scores every tension's poles at the plan's\n"         \
    "horizon (balanced and combined dimension, over-served pole) and the Strategic Balance\n"      \
    "Index; runs the plan's uncertainty under the baseline and every named scenario\n"             \
    "(probability of distress, drawdown, recovery); and ranks the lever moves that most\n"         \
    "improve balance, each explained in a sentence. See docs/balance.md.",                         \
    tr_cmd_assess_opts)                                                                            \
  X("simulate", tr_cmd_simulate, "MODEL.xmile",                                                    \
    "simulate an XMILE model and print its variables over time (CSV or JSON)",                     \
    "Runs the model once from its sim_specs (or --start/--stop/--dt/--method) and prints Time\n"   \
    "and one column per variable. Constants can be changed with --set NAME=VALUE.\n"               \
    "Errors in the model are reported as file:line:col: message (exit 2).",                        \
    tr_cmd_simulate_opts)                                                                          \
  X("scenarios", tr_cmd_scenarios, "[WORKSPACE|MODEL]",                                            \
    "Monte Carlo over the model: percentile bands, events, VaR/CVaR, sensitivity",                 \
    "Uncertain constants come from the plan's uncertainty section and from --vary; a named\n"      \
    "scenario (--scenario) applies its overrides and shocks. Run i draws from stream (seed, i),\n" \
    "so the output is identical for any --threads and --batch. Ctrl-C writes what is done.",       \
    tr_cmd_scenarios_opts)                                                                         \
  X("kpi", tr_cmd_kpi, "import FILE.csv | list | show KPI | export",                               \
    "KPI observations of the workspace: import CSV, list, show, export",                           \
    "The store is WORKSPACE/tightrope.db (SQLite). Imports are checked row by row; bad rows\n"     \
    "are reported with file:line:col and skipped (--strict: the whole file is refused).\n"         \
    "Importing the same file twice adds nothing; a changed value keeps the old one in history.",   \
    tr_cmd_kpi_opts)                                                                               \
  X("monitor", tr_cmd_monitor, "[WORKSPACE]",                                                      \
    "early warning on the KPI history: control-chart rules, EWMA, CUSUM, tension imbalance",       \
    "Checks every KPI of the plan's scorecard against natural process limits from its first\n"     \
    "observations (--baseline), and every tension for one pole improving while the other\n"        \
    "deteriorates. Exits 1 when an alert is active at the latest period (for cron).",              \
    tr_cmd_monitor_opts)                                                                           \
  X("scorecard", tr_cmd_scorecard, "[WORKSPACE]",                                                  \
    "the balanced scorecard, scored from the latest KPI observations",                             \
    "Scores every KPI of the plan's scorecard from its latest observation in the store and\n"      \
    "rolls the scores up to objectives, perspectives and a total, with red/amber/green.\n"         \
    "--format dot writes the strategy map for Graphviz.",                                          \
    tr_cmd_scorecard_opts)                                                                         \
  X("serve", tr_cmd_serve, "[WORKSPACE]", "the dashboard and JSON API in the browser",             \
    "Serves the workspace on a local port until Ctrl-C. Requests that change anything need the\n"  \
    "access token (X-Tightrope-Token header); it is created on first start and shown once.",       \
    tr_cmd_serve_opts)

#endif
