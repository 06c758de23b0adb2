/*
 * Balanced scorecard scoring (Kaplan & Norton): KPI normalisers, red/amber/green status,
 * weighted roll-up KPI -> objective -> perspective -> total, the strategy-map cycle check and
 * Graphviz DOT export. Formulas and check values: shared/reference/kpi-scoring.md; the
 * choices made where the vendors differ are in docs/balance.md. Pure functions over the plan
 * structs of tightrope/strategy.h; thread-safe.
 */
#ifndef TR_STRATEGY_SCORECARD_H
#define TR_STRATEGY_SCORECARD_H

#include "base/strbuf.h"
#include "tightrope/strategy.h"

#include <stddef.h>

typedef enum { TR_RAG_NONE, TR_RAG_RED, TR_RAG_AMBER, TR_RAG_GREEN } tr_rag;

/* "performance" (BSC Designer): where `v` lies on min..max, clamped to [0, 1].
 * higher: (v - mn)/(mx - mn); lower: (mx - v)/(mx - mn); band: 1 inside [band_low,
 * band_high], falling linearly to 0 at mn below and at mx above. NAN in, NAN out; mx > mn. */
double tr_score_performance(double v, double mn, double mx, tr_direction dir, double band_low,
                            double band_high);

/* "progress" (BSC Designer): (v - baseline)/(target - baseline), not clamped (120% is
 * over-achievement; negative is going backwards). Works for lower-is-better when target <
 * baseline. NAN when target == baseline or v is NAN. */
double tr_score_progress(double v, double baseline, double target);

/* Goal/red-flag score on 0..10 (Spider Impact): 10/3 at the red flag, 20/3 at the goal,
 * linear, clamped: clamp(10/3 * (1 + (v - R)/(G - R)), 0, 10). Lower-is-better when G < R. */
double tr_score_goal_redflag(double v, double goal, double red_flag);

/* Status of a score in [0, 1] by equal thirds: red below 1/3, amber below 2/3, green from
 * 2/3 (Spider Impact's equal-width bands; the goal of a goal/red-flag KPI is exactly where
 * green starts). NAN gives TR_RAG_NONE. */
tr_rag tr_score_status(double score);

/* "red", "amber", "green" or "none". */
const char *tr_rag_name(tr_rag s);

typedef struct tr_kpi_score {
  double value; /* the observation (NAN = missing) */
  double raw;   /* the mode's own number: performance or progress fraction (progress
                   unclamped), goal/red-flag score 0..10 */
  double score; /* normalised to [0, 1] for roll-up: raw clamped, or raw/10 */
  tr_rag status;
} tr_kpi_score;

/* Score one KPI by its own mode and direction. */
void tr_kpi_evaluate(const tr_kpi *k, double value, tr_kpi_score *out);

/* Weighted mean of the non-NAN x (weights re-normalised over those); NAN when none has a
 * positive weight. */
double tr_weighted_mean(const double *x, const double *w, size_t n);

typedef struct tr_scorecard_result {
  tr_kpi_score *kpis; /* n_kpis, in plan order */
  double *kpi_weight; /* absolute weight of each KPI in the total (sums to 1 over
                         the KPIs with values), 0 when its value is missing */
  double *objectives; /* n_objectives roll-up scores in [0, 1] (NAN: no data) */
  tr_rag *objective_status;
  size_t n_kpis;
  size_t n_objectives;
  double perspectives[TR_PERSP_COUNT];
  tr_rag perspective_status[TR_PERSP_COUNT];
  double total; /* the scorecard index in [0, 1], NAN when nothing scored */
  tr_rag total_status;
} tr_scorecard_result;

/* Score every KPI from values[i] (sc->kpis order, NAN = no observation) and roll up by
 * weighted means, re-normalising weights over children that have a score. `res` is filled
 * with arrays from tr_malloc: release with tr_scorecard_result_free. TR_OK or TR_ERR_NOMEM. */
int tr_scorecard_evaluate(const tr_scorecard *sc, const double *values, tr_scorecard_result *res,
                          tr_error *err);

/* Free the arrays of a result; NULL is a no-op. */
void tr_scorecard_result_free(tr_scorecard_result *res);

/* Look for a cycle in the strategy map (links cause -> effect). Returns 1 and writes the
 * cycle as "a -> b -> c -> a" into `cycle` and the index of the link that closes it into
 * *link_index; 0 when the map is acyclic; -1 when out of memory. */
int tr_scorecard_find_cycle(const tr_scorecard *sc, tr_sb *cycle, size_t *link_index);

/* Append the strategy map as a Graphviz digraph: one cluster per perspective holding its
 * objectives, KPIs attached to their objective, links as edges. With `res` (may be NULL),
 * nodes show their score and are filled by status. Returns TR_OK or TR_ERR_NOMEM. */
int tr_scorecard_to_dot(const tr_scorecard *sc, const tr_scorecard_result *res, tr_sb *out);

#endif
