/*
 * Private to the scenario layer: the state of a Monte Carlo study (tr_mc), shared by
 * runner.c (set-up and the run) and report.c (JSON and CSV output).
 */
#ifndef TR_SCENARIO_RUNNER_IMPL_H
#define TR_SCENARIO_RUNNER_IMPL_H

#include "base/strbuf.h"
#include "scenario/dist.h"
#include "scenario/sensitivity.h"
#include "scenario/stats.h"
#include "tightrope/scenario.h"

typedef struct mc_input {
  char *name;   /* as the user wrote it (owned) */
  size_t var;   /* model variable index */
  tr_dist dist; /* owned */
} mc_input;

typedef struct mc_override {
  size_t var;
  double value;
} mc_override;

typedef struct mc_event {
  tr_event ev;
  size_t slot;      /* index into tr_mc.track */
  tr_event_acc acc; /* filled by the run */
} mc_event;

struct tr_mc {
  const tr_model *m;
  tr_error err;
  mc_input *in; /* uncertain inputs, in declaration order */
  size_t k, in_cap;
  double *corr;  /* k × k or NULL (owned) */
  size_t corr_k; /* the k the matrix was declared for */
  mc_override *ov;
  size_t n_ov, ov_cap;
  size_t *track; /* variables whose series are kept: the watched ones first */
  size_t n_track, n_watch, track_cap;
  mc_event *ev;
  size_t n_ev, ev_cap;
  int has_until;
  tr_until until;
  size_t until_slot;
  int tornado;
  tr_sb warn; /* "\n"-separated warnings */

  /* results of the last tr_mc_run */
  tr_mc_opts opts;
  size_t n_times;
  double *times;    /* n_times (owned) */
  tr_stats *stats;  /* cells: slot * n_times + t for every tracked slot */
  tr_summary *sum;  /* summaries of the watched cells, made by the first report (report.c) */
  size_t done;      /* runs completed, in order */
  int partial;      /* ended by the stop flag */
  int converged;    /* the convergence rule stopped the run */
  double *sens_in;  /* the first sens_n runs: inputs (sens_n × k) */
  double *sens_out; /* and final values of the watched variables (sens_n × n_watch) */
  size_t sens_n, sens_cap;
  tr_tornado_row *torn; /* n_watch × k rows, or NULL */
  double *torn_base;    /* n_watch */
};

#endif
