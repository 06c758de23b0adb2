/*
 * `tightrope init --sector NAME DIR`: a new workspace from one of the sector templates that
 * are embedded in the binary (models/<sector>/ at build time): model.xmile, plan.yaml, the
 * README, and the KPI history imported into DIR/tightrope.db so the scorecard and the
 * monitor have real data from the first minute.
 */
#include "cli/cli.h"
#include "cli/commands.h"

#include "base/text.h"
#include "server/assets.h"
#include "tightrope/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const tr_cli_opt tr_cmd_init_opts[] = {
    {"sector", 's', "NAME", "the template to start from (see --list)"},
    {"list", 'l', NULL, "list the sector templates and exit"},
    {"force", 'f', NULL, "write into a folder that already has a model or plan"},
    {NULL, 0, NULL, NULL}};

/* The sector names, in table order, without repeats. */
static size_t list_sectors(const char **out, size_t cap) {
  size_t n = 0;
  for (int i = 0; i < tr_templates_count; i++) {
    const char *name = tr_templates[i].name;
    const char *slash = strchr(name, '/');
    if (!slash) continue;
    size_t len = (size_t)(slash - name);
    int seen = 0;
    for (size_t k = 0; k < n; k++)
      if (strlen(out[k]) == len && !strncmp(out[k], name, len)) seen = 1;
    if (!seen && n < cap) {
      static char names[32][32];
      snprintf(names[n], sizeof names[n], "%.*s", (int)len, name);
      out[n] = names[n];
      n++;
    }
  }
  return n;
}

/* The template's one-line description: the first paragraph line of its README after the
 * title, or the title itself when the README starts with something else. */
static void describe(const char *sector, char *buf, size_t cap) {
  char want[64];
  snprintf(want, sizeof want, "%s/README.md", sector);
  buf[0] = '\0';
  for (int i = 0; i < tr_templates_count; i++) {
    if (strcmp(tr_templates[i].name, want) != 0) continue;
    const char *title = (const char *)tr_templates[i].data;
    while (*title == '#' || *title == ' ')
      title++;
    const char *p = strchr(title, '\n');
    size_t tlen = p ? (size_t)(p - title) : strlen(title);
    const char *line = title;
    size_t len = tlen;
    while (p) {
      p++;
      const char *nl = strchr(p, '\n');
      size_t n = nl ? (size_t)(nl - p) : strlen(p);
      if (n == 0) {
        p = nl;
        continue;
      }
      if (p[0] != '<' && p[0] != '#' && p[0] != '|') {
        line = p;
        len = n;
      }
      break;
    }
    snprintf(buf, cap, "%.*s", (int)(len < cap - 1 ? len : cap - 1), line);
    return;
  }
}

static int write_file(const char *path, const unsigned char *data, long size, int force) {
  int fd = open(path, O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL), 0644);
  if (fd < 0) {
    fprintf(stderr, "tightrope init: %s: %s%s\n", path, strerror(errno),
            errno == EEXIST ? " (use --force to overwrite)" : "");
    return errno == EEXIST ? TR_EXIT_USAGE : TR_EXIT_FAIL;
  }
  long done = 0;
  while (done < size) {
    ssize_t w = write(fd, data + done, (size_t)(size - done));
    if (w <= 0) {
      fprintf(stderr, "tightrope init: %s: %s\n", path, strerror(errno));
      close(fd);
      return TR_EXIT_FAIL;
    }
    done += w;
  }
  if (close(fd) != 0) {
    fprintf(stderr, "tightrope init: %s: %s\n", path, strerror(errno));
    return TR_EXIT_FAIL;
  }
  return TR_EXIT_OK;
}

int tr_cmd_init(const tr_cli_cmd *cmd, int argc, char **argv) {
  const char *sector = NULL;
  int list = 0, force = 0;
  tr_cli_parser p;
  tr_cli_parser_init(&p, cmd, argc, argv);
  int k;
  while ((k = tr_cli_next(&p)) >= 0) {
    if (k == 0) sector = p.value;
    if (k == 1) list = 1;
    if (k == 2) force = 1;
  }
  if (k == TR_CLI_HELP) return TR_EXIT_OK;
  if (k == TR_CLI_ERROR) return TR_EXIT_USAGE;

  const char *sectors[32];
  size_t ns = list_sectors(sectors, 32);
  if (list) {
    for (size_t i = 0; i < ns; i++) {
      char d[200];
      describe(sectors[i], d, sizeof d);
      printf("%-14s %s\n", sectors[i], d);
    }
    return TR_EXIT_OK;
  }
  if (!sector) return tr_cli_usage_error(cmd, "--sector NAME is required (see --list)");
  int known = 0;
  for (size_t i = 0; i < ns; i++)
    known |= !strcmp(sectors[i], sector);
  if (!known) {
    const char *best = tr_closest(sector, sectors, ns);
    return tr_cli_usage_error(cmd, "unknown sector '%s'%s%s%s (see --list)", sector,
                              best ? " (did you mean '" : "", best ? best : "", best ? "'?)" : "");
  }
  if (p.npos != 1) return tr_cli_usage_error(cmd, "expected one DIR for the new workspace");
  const char *dir = p.positional[0];
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "tightrope init: %s: %s\n", dir, strerror(errno));
    return TR_EXIT_FAIL;
  }

  char prefix[64], path[4096], kpi_file[4096] = "";
  snprintf(prefix, sizeof prefix, "%s/", sector);
  int files = 0;
  for (int i = 0; i < tr_templates_count; i++) {
    const tr_asset *a = &tr_templates[i];
    if (strncmp(a->name, prefix, strlen(prefix)) != 0) continue;
    const char *base = a->name + strlen(prefix);
    snprintf(path, sizeof path, "%s/%s", dir, base);
    int rc = write_file(path, a->data, a->size, force);
    if (rc) return rc;
    files++;
    size_t bl = strlen(base);
    if (bl > 4 && !strcmp(base + bl - 4, ".csv")) snprintf(kpi_file, sizeof kpi_file, "%s", path);
  }
  printf("tightrope: created workspace %s from the %s template (%d files)\n", dir, sector, files);

  if (kpi_file[0]) {
    tr_error err;
    tr_error_clear(&err);
    tr_store *st = NULL;
    int rc = tr_store_open_workspace(&st, dir, &err);
    tr_import_report rep;
    memset(&rep, 0, sizeof rep);
    if (!rc) rc = tr_store_import_csv(st, kpi_file, TR_KPI_LONG, 0, NULL, &rep, &err);
    tr_store_close(st);
    if (rc) {
      fprintf(stderr, "tightrope init: %s\n", tr_error_text(&err));
      return tr_status_exit_code(rc) == 2 ? TR_EXIT_USAGE : TR_EXIT_FAIL;
    }
    printf("tightrope: imported the KPI history (%s) into %s/tightrope.db\n", kpi_file, dir);
  }
  printf("next: tightrope assess %s\n", dir);
  return TR_EXIT_OK;
}
