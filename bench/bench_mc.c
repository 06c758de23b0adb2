/*
 * Monte Carlo benchmark (DESIGN §6: every figure against a baseline measured in the same run):
 *  - SIR with two uncertain rates: runs/s of the batched runner (64 lanes per VM pass) against
 *    the same runner one lane at a time, and against a hand-written C loop of the same SIR
 *    equations doing the same Monte Carlo (inverse-CDF draws from the same streams, Euler,
 *    running means per saved time);
 *  - a template-sized business model (models/saas/model.xmile, when run from the repository
 *    root): batched against one lane at a time;
 *  - 2 threads against 1 (wall clock; on a shared machine this one is noisy);
 *  - peak memory (child process, ru_maxrss) at N and 10 N runs with the statistics in
 *    streaming mode (exact storage capped at 4 MiB).
 * Single-thread comparisons use process CPU time, best of three.
 *
 *   build/bench/bench_mc [RUNS]     (default 10000; RUNS and 10 x RUNS for the memory check)
 */
#include "base/rng.h"
#include "scenario/dist.h"
#include "tightrope/engine.h"
#include "tightrope/scenario.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char sir_xmile[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<xmile version=\"1.0\" xmlns=\"http://docs.oasis-open.org/xmile/ns/XMILE/v1.0\">\n"
    "<header><name>SIR</name></header>\n"
    "<sim_specs method=\"Euler\"><start>0</start><stop>100</stop><dt>0.125</dt></sim_specs>\n"
    "<model><variables>\n"
    "<stock name=\"S\"><eqn>990</eqn><outflow>infection</outflow></stock>\n"
    "<stock name=\"I\"><eqn>10</eqn><inflow>infection</inflow><outflow>recovery</outflow>"
    "</stock>\n"
    "<stock name=\"R\"><eqn>0</eqn><inflow>recovery</inflow></stock>\n"
    "<flow name=\"infection\"><eqn>beta * S * I / population</eqn></flow>\n"
    "<flow name=\"recovery\"><eqn>gamma * I</eqn></flow>\n"
    "<aux name=\"beta\"><eqn>0.3</eqn></aux>\n"
    "<aux name=\"gamma\"><eqn>0.1</eqn></aux>\n"
    "<aux name=\"population\"><eqn>1000</eqn></aux>\n"
    "</variables></model></xmile>\n";

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, tr_error *err) {
  fprintf(stderr, "bench_mc: %s: %s\n", what, tr_error_text(err));
  exit(1);
}

/* A study of the model with the given inputs and watched variables. */
static tr_mc *study(const tr_model *m, const char *const *vary, const char *const *vars) {
  tr_mc *mc;
  tr_error err;
  if (tr_mc_new(m, &mc, &err) != TR_OK) die("tr_mc_new", &err);
  for (; *vary; vary++)
    if (tr_mc_vary_spec(mc, *vary) != TR_OK) die(*vary, tr_mc_error(mc));
  for (; vars && *vars; vars++)
    if (tr_mc_watch(mc, *vars) != TR_OK) die(*vars, tr_mc_error(mc));
  return mc;
}

/* Seconds (CPU, or wall when `wall`) of one tr_mc_run, best of `reps`. */
static double time_run(tr_mc *mc, const tr_mc_opts *o, int reps, int wall) {
  double best = 1e300;
  for (int r = 0; r < reps; r++) {
    double t0 = wall ? wall_now() : cpu_now();
    if (tr_mc_run(mc, o, NULL, NULL) != TR_OK) die("tr_mc_run", tr_mc_error(mc));
    double el = (wall ? wall_now() : cpu_now()) - t0;
    if (el < best) best = el;
  }
  return best;
}

/* The same Monte Carlo written by hand: beta ~ U(0.2, 0.4), gamma ~ U(0.05, 0.15) drawn by
 * inversion from stream (seed, i) after a jump, Euler at dt 0.125 for 800 steps, running
 * means of S, I, R at every saved step. */
static double hand_sir(size_t runs, uint64_t seed, double *means) {
  tr_dist db, dg;
  const double ab[2] = {0.2, 0.4}, ag[2] = {0.05, 0.15};
  tr_dist_init(&db, TR_DIST_UNIFORM, ab, 2, NULL);
  tr_dist_init(&dg, TR_DIST_UNIFORM, ag, 2, NULL);
  const long steps = 800;
  const double dt = 0.125;
  memset(means, 0, (size_t)(steps / 4 + 1) * 3 * sizeof *means);
  for (size_t i = 0; i < runs; i++) {
    tr_rng r;
    tr_rng_seed_stream(&r, seed, i);
    tr_rng_jump(&r);
    double beta = tr_dist_sample(&db, &r), gamma = tr_dist_sample(&dg, &r);
    double s = 990, inf = 10, rec = 0, w = 1.0 / (double)(i + 1);
    for (long n = 0; n <= steps; n++) {
      if (n % 4 == 0) { /* the runner summarises every 4th of the 800 steps (201 points) */
        double *m = &means[n / 4 * 3];
        m[0] += (s - m[0]) * w;
        m[1] += (inf - m[1]) * w;
        m[2] += (rec - m[2]) * w;
      }
      double infection = beta * s * inf / 1000, recovery = gamma * inf;
      s -= dt * infection;
      inf += dt * (infection - recovery);
      rec += dt * recovery;
    }
  }
  return means[steps / 4 * 3 + 2];
}

/* Peak RSS (KiB) of a child process that runs `runs` runs of the SIR study. */
static long child_peak_kib(const tr_model *m, size_t runs) {
  int fd[2];
  if (pipe(fd) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    static const char *const vary[] = {"beta=uniform(0.2, 0.4)", "gamma=uniform(0.05, 0.15)", NULL};
    static const char *const vars[] = {"S", "I", "R", NULL};
    tr_mc *mc = study(m, vary, vars);
    tr_mc_opts o = tr_mc_default_opts();
    o.runs = runs;
    o.exact_bytes = (size_t)4 << 20;
    o.save_step = 1;
    if (tr_mc_run(mc, &o, NULL, NULL) != TR_OK) _exit(1);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long kib = ru.ru_maxrss;
    ssize_t wr = write(fd[1], &kib, sizeof kib);
    _exit(wr == (ssize_t)sizeof kib ? 0 : 1);
  }
  close(fd[1]);
  long kib = -1;
  if (read(fd[0], &kib, sizeof kib) != (ssize_t)sizeof kib) kib = -1;
  close(fd[0]);
  int status;
  waitpid(pid, &status, 0);
  return kib;
}

int main(int argc, char **argv) {
  size_t runs = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 10000;
  if (runs == 0) runs = 10000;
  tr_error err;
  tr_model *sir;
  if (tr_model_load_buffer(sir_xmile, sizeof sir_xmile - 1, "sir.xmile", &sir, &err) != TR_OK)
    die("SIR model", &err);
  static const char *const vary[] = {"beta=uniform(0.2, 0.4)", "gamma=uniform(0.05, 0.15)", NULL};
  static const char *const vars[] = {"S", "I", "R", NULL};
  tr_mc *mc = study(sir, vary, vars);
  tr_mc_opts o = tr_mc_default_opts();
  o.runs = runs;
  o.threads = 1;

  printf("bench_mc: %zu runs per measurement\n", runs);
  o.batch = 64;
  double t_batch = time_run(mc, &o, 3, 0);
  o.batch = 1;
  double t_lane = time_run(mc, &o, 3, 0);
  double *means = malloc(801 * 3 * sizeof *means);
  double t_hand = 1e300;
  for (int r = 0; r < 3; r++) {
    double t0 = cpu_now();
    volatile double sink = hand_sir(runs, o.seed, means);
    (void)sink;
    double el = cpu_now() - t0;
    if (el < t_hand) t_hand = el;
  }
  printf("SIR      batched (64 lanes)   %10.0f runs/s\n", (double)runs / t_batch);
  printf("SIR      one lane at a time   %10.0f runs/s   batched/one-lane = %.2fx (target >= 3)\n",
         (double)runs / t_lane, t_lane / t_batch);
  printf(
      "SIR      hand-written C loop  %10.0f runs/s   batched/hand = %.2fx slower (target <= 2)\n",
      (double)runs / t_hand, t_batch / t_hand);

  o.batch = 64;
  o.threads = 1;
  double w1 = time_run(mc, &o, 3, 1);
  o.threads = 2;
  double w2 = time_run(mc, &o, 3, 1);
  printf("SIR      2 threads / 1 thread (wall) = %.2fx (target >= 1.7; %ld cores online)\n",
         w1 / w2, sysconf(_SC_NPROCESSORS_ONLN));
  tr_mc_free(mc);

  tr_model *biz;
  if (tr_model_load_file("models/saas/model.xmile", &biz, &err) == TR_OK) {
    /* Two uncertain constants that exist in the SaaS template, if they do. */
    size_t nc = 0;
    const char *names[2] = {NULL, NULL};
    size_t nv = tr_model_var_count(biz);
    char spec[2][300];
    for (size_t i = 0; i < nv && nc < 2; i++) {
      tr_var_info vi;
      tr_model_var(biz, i, &vi);
      if (!vi.is_constant || vi.hidden || !(vi.value > 0)) continue;
      snprintf(spec[nc], sizeof spec[nc], "%s=uniform(%.17g, %.17g)", vi.ident, 0.9 * vi.value,
               1.1 * vi.value);
      names[nc] = spec[nc];
      nc++;
    }
    const char *const bvary[] = {names[0], names[1], NULL};
    tr_mc *bm = study(biz, nc == 2 ? bvary : bvary + 2, NULL);
    tr_mc_opts b = tr_mc_default_opts();
    b.runs = runs;
    b.save_step = 1;
    b.batch = 64;
    double tb = time_run(bm, &b, 1, 0);
    b.batch = 1;
    double tl = time_run(bm, &b, 1, 0);
    printf("SaaS     %zu variables: batched %8.0f runs/s, one lane %8.0f runs/s = %.2fx\n", nv,
           (double)runs / tb, (double)runs / tl, tl / tb);
    tr_mc_free(bm);
    tr_model_free(biz);
  } else {
    printf("SaaS     skipped (%s; run from the repository root)\n", tr_error_text(&err));
  }

  long k1 = child_peak_kib(sir, runs), k10 = child_peak_kib(sir, runs * 10);
  printf("memory   streaming peak RSS: %zu runs %ld KiB, %zu runs %ld KiB (ratio %.2f, "
         "target <= 1)\n",
         runs, k1, runs * 10, k10, k1 > 0 ? (double)k10 / (double)k1 : NAN);
  free(means);
  tr_model_free(sir);
  return 0;
}
