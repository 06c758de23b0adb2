/*
 * `tightrope assess [WORKSPACE]`: the main job. How balanced the business is now, how the
 * balance holds under the plan's scenarios, and the lever moves that most improve it, as a
 * text report, JSON (the API's /api/assess) or a self-contained HTML page.
 */
#include "cli/cli.h"
#include "cli/commands.h"

#include "base/strbuf.h"
#include "store/workspace.h"
#include "strategy/assess.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const tr_cli_opt tr_cmd_assess_opts[] = {
    {"format", 'f', "FMT", "text (default), json or html"},
    {"runs", 'n', "N", "Monte Carlo runs per scenario (default 200)"},
    {"seed", 's', "S", "random seed (default 1): the same seed gives the same report"},
    {"step", 0, "X", "lever move tried in the sweep, as a share (default 0.1)"},
    {"output", 'o', "FILE", "write the report to FILE instead of standard output"},
    {NULL, 0, NULL, NULL}};

static double kpi_latest(void *ud, const char *kpi) {
  return tr_workspace_kpi_latest(ud, kpi);
}

static const char *pct(double v, char *buf, size_t n) {
  if (isnan(v)) return "n/a";
  snprintf(buf, n, "%.1f%%", 100 * v);
  return buf;
}

static const char *num3(double v, char *buf, size_t n) {
  if (isnan(v)) return "n/a";
  snprintf(buf, n, "%.3f", v);
  return buf;
}

static void write_text(FILE *out, const tr_assess *a) {
  const tr_plan *p = a->plan;
  char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
  fprintf(out, "%s%s%s — assessed at time %g (%zu Monte Carlo runs per scenario)\n\n",
          p->company.name ? p->company.name : "workspace", p->company.sector ? ", " : "",
          p->company.sector ? p->company.sector : "", a->horizon_time, a->scenarios[0].runs);
  fprintf(out, "Strategic Balance Index  %s   (Monte Carlo mean %s, p5 %s)\n\n",
          num3(a->sbi, b1, sizeof b1), num3(a->scenarios[0].sbi_mean, b2, sizeof b2),
          num3(a->scenarios[0].sbi_p5, b3, sizeof b3));
  fprintf(out, "Tensions\n");
  for (size_t t = 0; t < p->n_tensions; t++) {
    const tr_tension *tn = &p->tensions[t];
    const tr_tension_balance *b = &a->tensions[t].now;
    fprintf(out, "  %s — lever: %.0f%% of %s to %s\n", tn->name ? tn->name : tn->id,
            100 * tn->lever.current, tn->lever.resource ? tn->lever.resource : "the resource",
            tn->poles[0].name);
    fprintf(out, "    %-28s %s\n    %-28s %s\n", tn->poles[0].name, num3(b->a, b1, sizeof b1),
            tn->poles[1].name, num3(b->b, b2, sizeof b2));
    fprintf(out, "    balanced %s, combined %s — %s%s\n", num3(b->balanced, b3, sizeof b3),
            num3(b->combined, b4, sizeof b4), b->over_served < 0 ? "in balance" : "over-served: ",
            b->over_served < 0 ? "" : tn->poles[b->over_served].name);
  }
  fprintf(out, "\nResilience                      SBI mean  SBI p5  P(distress)  drawdown p50/p95  "
               "recovery\n");
  for (size_t s = 0; s < a->n_scenarios; s++) {
    const tr_assess_scenario *sc = &a->scenarios[s];
    char rec[48];
    if (isnan(sc->shock_time))
      snprintf(rec, sizeof rec, "-");
    else if (isnan(sc->recover_time))
      snprintf(rec, sizeof rec, "not within the run");
    else if (sc->recover_time == 0)
      snprintf(rec, sizeof rec, "no lasting dip");
    else
      snprintf(rec, sizeof rec, "%g after the shock", sc->recover_time);
    fprintf(out, "  %-30s %8s %7s %12s %8s / %-8s %s\n", sc->name,
            num3(sc->sbi_mean, b1, sizeof b1), num3(sc->sbi_p5, b2, sizeof b2),
            pct(sc->p_distress, b3, sizeof b3), pct(sc->drawdown_p50, b4, sizeof b4),
            pct(sc->drawdown_p95, b5, sizeof b5), rec);
  }
  (void)b6;
  fprintf(out, "\nLever moves, best first\n");
  size_t shown = 0;
  for (size_t m = 0; m < a->n_moves && shown < 5; m++) {
    const tr_assess_move *mv = &a->moves[m];
    if (mv->sbi_to <= mv->sbi_from && !(mv->value_to > mv->value_from)) continue;
    fprintf(out, "  %zu. %s\n", ++shown, mv->sentence);
  }
  if (!shown)
    fprintf(out, "  No single lever move of this size improves balance or cash: the "
                 "current allocation is locally balanced.\n");
  if (a->warning[0]) fprintf(out, "\nwarning: %s\n", a->warning);
}

static void html_escape(tr_sb *sb, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '<':
      tr_sb_append(sb, "&lt;");
      break;
    case '>':
      tr_sb_append(sb, "&gt;");
      break;
    case '&':
      tr_sb_append(sb, "&amp;");
      break;
    case '"':
      tr_sb_append(sb, "&quot;");
      break;
    default:
      tr_sb_putc(sb, *s);
    }
  }
}

/* A self-contained page (no scripts): the text report's content as tables, with the
 * balance of each tension drawn as a two-colour bar. */
static int write_html(FILE *out, const tr_assess *a) {
  const tr_plan *p = a->plan;
  tr_sb sb = TR_SB_INIT;
  char b1[32], b2[32], b3[32], b4[32];
  tr_sb_append(&sb, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<title>tightrope assessment</title><style>"
                    "body{font:15px/1.45 system-ui,sans-serif;max-width:960px;margin:2rem auto;"
                    "padding:0 1rem}table{border-collapse:collapse;width:100%}th,td{text-align:"
                    "left;padding:.3rem .5rem;border-bottom:1px solid #ddd}.bar{display:flex;"
                    "height:1rem;width:12rem}.a{background:#1f6feb}.b{background:#d1242f}"
                    "</style></head><body>\n<h1>");
  html_escape(&sb, p->company.name ? p->company.name : "Workspace");
  tr_sb_printf(&sb,
               "</h1>\n<p>Strategic Balance Index <strong>%s</strong> at time %g "
               "(Monte Carlo mean %s, p5 %s).</p>\n",
               num3(a->sbi, b1, sizeof b1), a->horizon_time,
               num3(a->scenarios[0].sbi_mean, b2, sizeof b2),
               num3(a->scenarios[0].sbi_p5, b3, sizeof b3));
  if (a->warning[0]) { /* e.g. a numeric hazard: the figures below may hold NaN */
    tr_sb_append(&sb, "<p><strong>Warning:</strong> ");
    html_escape(&sb, a->warning);
    tr_sb_append(&sb, "</p>\n");
  }
  tr_sb_append(&sb, "<h2>Tensions</h2>\n<table><tr><th>Tension</th><th>Pole A</th><th>Pole B"
                    "</th><th>Balance</th><th>Balanced</th><th>Combined</th><th>Over-served"
                    "</th></tr>\n");
  for (size_t t = 0; t < p->n_tensions; t++) {
    const tr_tension *tn = &p->tensions[t];
    const tr_tension_balance *b = &a->tensions[t].now;
    double sa = isnan(b->a) ? 0 : b->a, sbv = isnan(b->b) ? 0 : b->b,
           tot = sa + sbv > 0 ? sa + sbv : 1;
    tr_sb_append(&sb, "<tr><td>");
    html_escape(&sb, tn->name ? tn->name : tn->id);
    tr_sb_append(&sb, "</td><td>");
    html_escape(&sb, tn->poles[0].name);
    tr_sb_printf(&sb, " %s</td><td>", num3(b->a, b1, sizeof b1));
    html_escape(&sb, tn->poles[1].name);
    tr_sb_printf(&sb,
                 " %s</td><td><div class=\"bar\" role=\"img\" aria-label=\"%.0f%% to "
                 "%.0f%%\"><div class=\"a\" style=\"width:%.1f%%\"></div><div class=\"b\" "
                 "style=\"width:%.1f%%\"></div></div></td><td>%s</td><td>%s</td><td>",
                 num3(b->b, b2, sizeof b2), 100 * sa / tot, 100 * sbv / tot, 100 * sa / tot,
                 100 * sbv / tot, num3(b->balanced, b3, sizeof b3),
                 num3(b->combined, b4, sizeof b4));
    html_escape(&sb, b->over_served < 0 ? "neither" : tn->poles[b->over_served].name);
    tr_sb_append(&sb, "</td></tr>\n");
  }
  tr_sb_append(&sb, "</table>\n<h2>Resilience</h2>\n<table><tr><th>Scenario</th><th>SBI mean"
                    "</th><th>SBI p5</th><th>P(distress)</th><th>Drawdown p95</th></tr>\n");
  for (size_t s = 0; s < a->n_scenarios; s++) {
    const tr_assess_scenario *sc = &a->scenarios[s];
    tr_sb_append(&sb, "<tr><td>");
    html_escape(&sb, sc->name);
    tr_sb_printf(&sb, "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                 num3(sc->sbi_mean, b1, sizeof b1), num3(sc->sbi_p5, b2, sizeof b2),
                 pct(sc->p_distress, b3, sizeof b3), pct(sc->drawdown_p95, b4, sizeof b4));
  }
  tr_sb_append(&sb, "</table>\n<h2>Lever moves, best first</h2>\n<ol>\n");
  for (size_t m = 0; m < a->n_moves; m++) {
    tr_sb_append(&sb, "<li>");
    html_escape(&sb, a->moves[m].sentence);
    tr_sb_append(&sb, "</li>\n");
  }
  tr_sb_append(&sb, "</ol>\n</body></html>\n");
  if (!tr_sb_ok(&sb)) {
    tr_sb_free(&sb);
    return TR_ERR_NOMEM;
  }
  int ok = fputs(tr_sb_str(&sb), out) >= 0;
  tr_sb_free(&sb);
  return ok ? TR_OK : TR_ERR_IO;
}

int tr_cmd_assess(const tr_cli_cmd *cmd, int argc, char **argv) {
  const char *format = "text", *outpath = NULL;
  tr_assess_opts ao;
  tr_assess_opts_init(&ao);
  tr_cli_parser p;
  tr_cli_parser_init(&p, cmd, argc, argv);
  int k;
  long v;
  double d;
  while ((k = tr_cli_next(&p)) >= 0) {
    switch (k) {
    case 0:
      format = p.value;
      if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "html"))
        return tr_cli_usage_error(cmd, "--format: '%s' is not text, json or html", format);
      break;
    case 1:
      if (!tr_cli_parse_long(cmd, "runs", p.value, &v)) return TR_EXIT_USAGE;
      if (v < 1 || v > 100000) return tr_cli_usage_error(cmd, "--runs: must be 1..100000");
      ao.runs = (size_t)v;
      break;
    case 2:
      if (!tr_cli_parse_long(cmd, "seed", p.value, &v)) return TR_EXIT_USAGE;
      if (v < 0) return tr_cli_usage_error(cmd, "--seed: must not be negative");
      ao.seed = (uint64_t)v;
      break;
    case 3:
      if (!tr_cli_parse_double(cmd, "step", p.value, &d)) return TR_EXIT_USAGE;
      if (!(d > 0 && d <= 1)) return tr_cli_usage_error(cmd, "--step: must be in (0, 1]");
      ao.step = d;
      break;
    case 4:
      outpath = p.value;
      break;
    }
  }
  if (k == TR_CLI_HELP) return TR_EXIT_OK;
  if (k == TR_CLI_ERROR) return TR_EXIT_USAGE;
  if (p.npos > 1) return tr_cli_usage_error(cmd, "expected at most one WORKSPACE folder");

  tr_error err;
  tr_error_clear(&err);
  tr_workspace *ws = NULL;
  tr_assess *a = NULL;
  int rc = tr_workspace_open(p.npos ? p.positional[0] : ".", &ws, &err);
  if (!rc) {
    ao.kpi_value = kpi_latest;
    ao.kpi_ud = ws;
    rc = tr_assess_run(ws->plan, ws->model, &ao, &a, &err);
  }
  if (rc) {
    fprintf(stderr, "tightrope assess: %s\n", tr_error_text(&err));
    tr_workspace_close(ws);
    return tr_status_exit_code(rc) == 2 ? TR_EXIT_USAGE : TR_EXIT_FAIL;
  }
  FILE *out = outpath ? fopen(outpath, "w") : stdout;
  if (!out) {
    perror(outpath);
    tr_assess_free(a);
    tr_workspace_close(ws);
    return TR_EXIT_FAIL;
  }
  int wrc = TR_OK;
  if (!strcmp(format, "json")) {
    cJSON *j = tr_assess_to_json(a);
    char *text = j ? cJSON_Print(j) : NULL;
    if (text)
      fprintf(out, "%s\n", text);
    else
      wrc = TR_ERR_NOMEM;
    cJSON_free(text);
    cJSON_Delete(j);
  } else if (!strcmp(format, "html")) {
    wrc = write_html(out, a);
  } else {
    write_text(out, a);
  }
  if (outpath && fclose(out) != 0) wrc = TR_ERR_IO;
  if (wrc) fprintf(stderr, "tightrope assess: cannot write the report: %s\n", tr_strerror(wrc));
  tr_assess_free(a);
  tr_workspace_close(ws);
  return wrc ? TR_EXIT_FAIL : TR_EXIT_OK;
}
