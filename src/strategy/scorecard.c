/* Balanced scorecard scoring, roll-up, strategy map (see scorecard.h). */
#include "strategy/scorecard.h"

#include "base/hashmap.h"

#include <math.h>
#include <string.h>

static double clamp01(double x) {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

double tr_score_performance(double v, double mn, double mx, tr_direction dir, double band_low,
                            double band_high) {
  if (isnan(v) || !(mx > mn)) return NAN;
  switch (dir) {
  case TR_DIR_HIGHER:
    return clamp01((v - mn) / (mx - mn));
  case TR_DIR_LOWER:
    return clamp01((mx - v) / (mx - mn));
  case TR_DIR_BAND:
    if (v >= band_low && v <= band_high) return 1.0;
    if (v < band_low) return band_low > mn ? clamp01((v - mn) / (band_low - mn)) : 0.0;
    return mx > band_high ? clamp01((mx - v) / (mx - band_high)) : 0.0;
  }
  return NAN;
}

double tr_score_progress(double v, double baseline, double target) {
  if (isnan(v) || target == baseline) return NAN;
  return (v - baseline) / (target - baseline);
}

double tr_score_goal_redflag(double v, double goal, double red_flag) {
  if (isnan(v) || goal == red_flag) return NAN;
  double s = 10.0 / 3.0 * (1.0 + (v - red_flag) / (goal - red_flag));
  return s < 0 ? 0 : s > 10 ? 10 : s;
}

tr_rag tr_score_status(double score) {
  if (isnan(score)) return TR_RAG_NONE;
  /* compare in tenths of the goal/red-flag scale, so that a score of exactly 20/3 / 10
   * computed either way lands on green */
  if (score * 3.0 < 1.0 - 1e-12) return TR_RAG_RED;
  if (score * 3.0 < 2.0 - 1e-12) return TR_RAG_AMBER;
  return TR_RAG_GREEN;
}

const char *tr_rag_name(tr_rag s) {
  switch (s) {
  case TR_RAG_RED:
    return "red";
  case TR_RAG_AMBER:
    return "amber";
  case TR_RAG_GREEN:
    return "green";
  default:
    return "none";
  }
}

void tr_kpi_evaluate(const tr_kpi *k, double value, tr_kpi_score *out) {
  out->value = value;
  switch (k->mode) {
  case TR_SCORE_PERFORMANCE:
    out->raw = tr_score_performance(value, k->min, k->max, k->direction, k->band_low, k->band_high);
    out->score = out->raw;
    break;
  case TR_SCORE_PROGRESS:
    out->raw = tr_score_progress(value, k->baseline, k->target);
    out->score = isnan(out->raw) ? NAN : clamp01(out->raw);
    break;
  case TR_SCORE_GOAL_REDFLAG:
    out->raw = tr_score_goal_redflag(value, k->goal, k->red_flag);
    out->score = isnan(out->raw) ? NAN : out->raw / 10.0;
    break;
  default:
    out->raw = out->score = NAN;
  }
  out->status = tr_score_status(out->score);
}

double tr_weighted_mean(const double *x, const double *w, size_t n) {
  double sw = 0, s = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(x[i]) || !(w[i] > 0)) continue;
    sw += w[i];
    s += w[i] * x[i];
  }
  return sw > 0 ? s / sw : NAN;
}

int tr_scorecard_evaluate(const tr_scorecard *sc, const double *values, tr_scorecard_result *res,
                          tr_error *err) {
  memset(res, 0, sizeof *res);
  size_t nk = sc->n_kpis, no = sc->n_objectives;
  res->kpis = tr_calloc(nk ? nk : 1, sizeof *res->kpis);
  res->kpi_weight = tr_calloc(nk ? nk : 1, sizeof *res->kpi_weight);
  res->objectives = tr_calloc(no ? no : 1, sizeof *res->objectives);
  res->objective_status = tr_calloc(no ? no : 1, sizeof *res->objective_status);
  double *osum = tr_calloc(no ? no : 1, sizeof *osum); /* weight of scored KPIs per objective */
  if (!res->kpis || !res->kpi_weight || !res->objectives || !res->objective_status || !osum) {
    tr_free(osum);
    tr_scorecard_result_free(res);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory");
  }
  res->n_kpis = nk;
  res->n_objectives = no;
  /* KPIs -> objectives */
  for (size_t o = 0; o < no; o++)
    res->objectives[o] = 0;
  for (size_t i = 0; i < nk; i++) {
    const tr_kpi *k = &sc->kpis[i];
    tr_kpi_evaluate(k, values[i], &res->kpis[i]);
    if (isnan(res->kpis[i].score) || !(k->weight > 0)) continue;
    osum[k->objective] += k->weight;
    res->objectives[k->objective] += k->weight * res->kpis[i].score;
  }
  for (size_t o = 0; o < no; o++) {
    res->objectives[o] = osum[o] > 0 ? res->objectives[o] / osum[o] : NAN;
    res->objective_status[o] = tr_score_status(res->objectives[o]);
  }
  /* objectives -> perspectives */
  double psum[TR_PERSP_COUNT] = {0}, pval[TR_PERSP_COUNT] = {0};
  for (size_t o = 0; o < no; o++) {
    const tr_objective *ob = &sc->objectives[o];
    if (isnan(res->objectives[o]) || !(ob->weight > 0)) continue;
    psum[ob->perspective] += ob->weight;
    pval[ob->perspective] += ob->weight * res->objectives[o];
  }
  double pw[TR_PERSP_COUNT];
  for (int p = 0; p < TR_PERSP_COUNT; p++) {
    res->perspectives[p] = psum[p] > 0 ? pval[p] / psum[p] : NAN;
    res->perspective_status[p] = tr_score_status(res->perspectives[p]);
    pw[p] = sc->perspectives[p].weight;
  }
  res->total = tr_weighted_mean(res->perspectives, pw, TR_PERSP_COUNT);
  res->total_status = tr_score_status(res->total);
  /* absolute weights: product of the re-normalised relative weights on the way up */
  double ptot = 0;
  for (int p = 0; p < TR_PERSP_COUNT; p++)
    if (!isnan(res->perspectives[p]) && pw[p] > 0) ptot += pw[p];
  for (size_t i = 0; i < nk; i++) {
    const tr_kpi *k = &sc->kpis[i];
    const tr_objective *ob = &sc->objectives[k->objective];
    int p = ob->perspective;
    if (isnan(res->kpis[i].score) || !(k->weight > 0) || !(ob->weight > 0) || !(pw[p] > 0) ||
        !(ptot > 0))
      continue;
    res->kpi_weight[i] = k->weight / osum[k->objective] * ob->weight / psum[p] * pw[p] / ptot;
  }
  tr_free(osum);
  return TR_OK;
}

void tr_scorecard_result_free(tr_scorecard_result *res) {
  if (!res) return;
  tr_free(res->kpis);
  tr_free(res->kpi_weight);
  tr_free(res->objectives);
  tr_free(res->objective_status);
  res->kpis = NULL;
  res->kpi_weight = NULL;
  res->objectives = NULL;
  res->objective_status = NULL;
}

/* ---- strategy map -------------------------------------------------------------------- */

int tr_scorecard_find_cycle(const tr_scorecard *sc, tr_sb *cycle, size_t *link_index) {
  size_t nl = sc->n_links;
  if (nl == 0) return 0;
  /* number the nodes that appear in links */
  tr_map ids;
  tr_map_init(&ids);
  const char **names = tr_calloc(2 * nl, sizeof *names);
  size_t *from = tr_calloc(nl, sizeof *from), *to = tr_calloc(nl, sizeof *to);
  size_t *start = NULL, *adj = NULL, *state = NULL, *stack = NULL, *next = NULL, *via = NULL;
  int found = -1;
  size_t nn = 0;
  if (!names || !from || !to) goto done;
  for (size_t l = 0; l < nl; l++) {
    const char *ends[2] = {sc->links[l].cause, sc->links[l].effect};
    size_t idx[2];
    for (int e = 0; e < 2; e++) {
      int hit = 0;
      void *v = tr_map_get(&ids, ends[e], &hit);
      if (hit) {
        idx[e] = (size_t)(uintptr_t)v;
      } else {
        names[nn] = ends[e];
        idx[e] = nn;
        if (tr_map_put(&ids, ends[e], (void *)(uintptr_t)nn) != TR_OK) goto done;
        nn++;
      }
    }
    from[l] = idx[0];
    to[l] = idx[1];
  }
  /* compressed adjacency: the links leaving node u are adj[start[u] .. start[u+1]) */
  start = tr_calloc(nn + 1, sizeof *start);
  adj = tr_calloc(nl, sizeof *adj);
  state = tr_calloc(nn, sizeof *state);
  stack = tr_calloc(nn, sizeof *stack);
  next = tr_calloc(nn, sizeof *next);
  via = tr_calloc(nn, sizeof *via);
  if (!start || !adj || !state || !stack || !next || !via) goto done;
  for (size_t l = 0; l < nl; l++)
    start[from[l] + 1]++;
  for (size_t u = 0; u < nn; u++)
    start[u + 1] += start[u];
  for (size_t l = 0; l < nl; l++)
    adj[start[from[l]] + next[from[l]]++] = l;
  found = 0;
  /* iterative depth-first search; state 0 unvisited, 1 on the stack, 2 finished */
  for (size_t root = 0; root < nn && !found; root++) {
    if (state[root]) continue;
    size_t sp = 0;
    stack[sp++] = root;
    state[root] = 1;
    next[root] = start[root];
    while (sp && !found) {
      size_t u = stack[sp - 1];
      if (next[u] == start[u + 1]) {
        state[u] = 2;
        sp--;
        continue;
      }
      size_t l = adj[next[u]++];
      size_t v = to[l];
      if (state[v] == 0) {
        state[v] = 1;
        next[v] = start[v];
        via[v] = l;
        stack[sp++] = v;
      } else if (state[v] == 1) {
        /* back edge u -> v: the cycle is v ... u on the stack, then v again */
        size_t k = sp;
        while (k > 0 && stack[k - 1] != v)
          k--;
        for (size_t j = k - 1; j < sp; j++)
          tr_sb_printf(cycle, "%s -> ", names[stack[j]]);
        tr_sb_append(cycle, names[v]);
        *link_index = l;
        found = tr_sb_ok(cycle) ? 1 : -1;
      }
    }
  }
done:
  tr_map_free(&ids);
  tr_free(names);
  tr_free(from);
  tr_free(to);
  tr_free(start);
  tr_free(adj);
  tr_free(state);
  tr_free(stack);
  tr_free(next);
  tr_free(via);
  return found;
}

static void dot_quoted(tr_sb *out, const char *s) {
  tr_sb_putc(out, '"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') tr_sb_putc(out, '\\');
    if (*s == '\n') {
      tr_sb_append(out, "\\n");
      continue;
    }
    tr_sb_putc(out, *s);
  }
  tr_sb_putc(out, '"');
}

static const char *rag_fill(tr_rag s) {
  switch (s) {
  case TR_RAG_RED:
    return "#f4cccc";
  case TR_RAG_AMBER:
    return "#fff2cc";
  case TR_RAG_GREEN:
    return "#d9ead3";
  default:
    return "#ffffff";
  }
}

static void dot_node(tr_sb *out, const char *id, const char *name, const char *shape, double score,
                     tr_rag status, int scored) {
  tr_sb_append(out, "    ");
  dot_quoted(out, id);
  tr_sb_printf(out, " [shape=%s, style=filled, fillcolor=\"%s\", label=", shape,
               rag_fill(scored ? status : TR_RAG_NONE));
  tr_sb label = TR_SB_INIT;
  tr_sb_append(&label, name);
  if (scored && !isnan(score)) tr_sb_printf(&label, "\n%.0f%%", 100.0 * score);
  dot_quoted(out, tr_sb_str(&label));
  if (!tr_sb_ok(&label)) out->failed = 1;
  tr_sb_free(&label);
  tr_sb_append(out, "];\n");
}

int tr_scorecard_to_dot(const tr_scorecard *sc, const tr_scorecard_result *res, tr_sb *out) {
  tr_sb_append(out, "digraph strategy_map {\n  rankdir=BT;\n  node [fontname=\"Helvetica\"];\n");
  for (int p = 0; p < TR_PERSP_COUNT; p++) {
    tr_sb_printf(out, "  subgraph cluster_%s {\n    label=", tr_perspective_name(p));
    dot_quoted(out, sc->perspectives[p].name);
    tr_sb_append(out, ";\n");
    for (size_t o = 0; o < sc->n_objectives; o++) {
      const tr_objective *ob = &sc->objectives[o];
      if ((int)ob->perspective != p) continue;
      dot_node(out, ob->id, ob->name, "box", res ? res->objectives[o] : NAN,
               res ? res->objective_status[o] : TR_RAG_NONE, res != NULL);
    }
    for (size_t k = 0; k < sc->n_kpis; k++) {
      const tr_kpi *kp = &sc->kpis[k];
      if ((int)kp->perspective != p) continue;
      dot_node(out, kp->id, kp->name, kp->leading ? "hexagon" : "ellipse",
               res ? res->kpis[k].score : NAN, res ? res->kpis[k].status : TR_RAG_NONE,
               res != NULL);
    }
    tr_sb_append(out, "  }\n");
  }
  for (size_t k = 0; k < sc->n_kpis; k++) {
    const tr_kpi *kp = &sc->kpis[k];
    tr_sb_append(out, "  ");
    dot_quoted(out, kp->id);
    tr_sb_append(out, " -> ");
    dot_quoted(out, sc->objectives[kp->objective].id);
    tr_sb_append(out, " [style=dashed, arrowhead=none];\n");
  }
  for (size_t l = 0; l < sc->n_links; l++) {
    tr_sb_append(out, "  ");
    dot_quoted(out, sc->links[l].cause);
    tr_sb_append(out, " -> ");
    dot_quoted(out, sc->links[l].effect);
    tr_sb_append(out, ";\n");
  }
  tr_sb_append(out, "}\n");
  return tr_sb_ok(out) ? TR_OK : TR_ERR_NOMEM;
}
