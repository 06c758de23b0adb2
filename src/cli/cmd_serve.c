/* `tightrope serve`: the dashboard and JSON API on a local port until Ctrl-C. */
#include "cli/cli.h"
#include "cli/commands.h"

#include "tightrope/server.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

const tr_cli_opt tr_cmd_serve_opts[] = {
    {"bind", 'b', "ADDR", "IPv4 address to listen on (default 127.0.0.1; others need the token)"},
    {"port", 'p', "PORT", "TCP port (default 8700; 0 picks a free one)"},
    {"threads", 't', "N", "worker threads (default 4)"},
    {"max-runs", 0, "N", "Monte Carlo runs one API request may ask for (default 100000)"},
    {NULL, 0, NULL, NULL}};

int tr_cmd_serve(const tr_cli_cmd *cmd, int argc, char **argv) {
  tr_server_options o;
  tr_server_options_init(&o);
  tr_cli_parser p;
  tr_cli_parser_init(&p, cmd, argc, argv);
  int k;
  long v;
  while ((k = tr_cli_next(&p)) >= 0) {
    switch (k) {
    case 0:
      o.bind = p.value;
      break;
    case 1:
      if (!tr_cli_parse_long(cmd, "port", p.value, &v)) return TR_EXIT_USAGE;
      if (v < 0 || v > 65535) return tr_cli_usage_error(cmd, "--port: %ld is not a TCP port", v);
      o.port = (int)v;
      break;
    case 2:
      if (!tr_cli_parse_long(cmd, "threads", p.value, &v)) return TR_EXIT_USAGE;
      if (v < 1 || v > 256) return tr_cli_usage_error(cmd, "--threads: must be 1..256");
      o.threads = (int)v;
      break;
    case 3:
      if (!tr_cli_parse_long(cmd, "max-runs", p.value, &v)) return TR_EXIT_USAGE;
      if (v < 1) return tr_cli_usage_error(cmd, "--max-runs: must be at least 1 (got %ld)", v);
      o.max_runs = (size_t)v;
      break;
    }
  }
  if (k == TR_CLI_HELP) return TR_EXIT_OK;
  if (k == TR_CLI_ERROR) return TR_EXIT_USAGE;
  if (p.npos > 1) return tr_cli_usage_error(cmd, "expected at most one WORKSPACE folder");
  if (p.npos == 1) o.workspace = p.positional[0];

  /* Block the stop signals before the daemon's threads start, so sigwait() below gets them. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);

  tr_error err;
  tr_error_clear(&err);
  tr_server *srv;
  const char *new_token;
  int rc = tr_server_start(&o, &srv, &new_token, &err);
  if (rc) {
    fprintf(stderr, "tightrope serve: %s\n", tr_error_text(&err));
    return tr_status_exit_code(rc) == 2 ? TR_EXIT_USAGE : TR_EXIT_FAIL;
  }
  printf("tightrope: serving %s on http://%s:%d/\n", o.workspace, o.bind, tr_server_port(srv));
  if (new_token)
    printf("tightrope: new access token (shown once; kept in %s/.tightrope/token):\n"
           "  open http://%s:%d/#token=%s\n",
           o.workspace, o.bind, tr_server_port(srv), new_token);
  else
    printf("tightrope: access token in %s/.tightrope/token\n", o.workspace);
  printf("tightrope: press Ctrl-C to stop\n");
  fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  fprintf(stderr, "tightrope: stopping (signal %d)\n", sig);
  tr_server_stop(srv);
  return TR_EXIT_OK;
}
