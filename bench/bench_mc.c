/*
 * Monte Carlo benchmark (DESIGN §6: every figure against a baseline measured in the same run):
 *  - every timed run is tr_mc_run on a fresh study, made and freed outside the timed part, as
 *    the server runs studies one after another (one run each; the large block of a study's
 *    exact values is reused by the next, and freed heap is kept, as the tightrope program
 *    keeps it: bulk.h); and SIR once more as the first study of a
 *    fresh process, as a one-off CLI run makes it, 1 thread against 2;
 *  - SIR with two uncertain rates, at RUNS and 10 x RUNS runs: runs/s of the batched runner
 *    (64 lanes per VM pass) against the same runner one lane at a time, and against a
 *    hand-written C loop of the same SIR equations doing the same Monte Carlo (inverse-CDF
 *    draws from the same streams, Euler, running means per saved time). The three are timed
 *    in turn within each repetition (best of each), so a change in the machine's load hits
 *    all of them alike. Process CPU time (user + sys).
 *  - a template-sized business model (models/saas/model.xmile, when run from the repository
 *    root): batched against one lane at a time, at RUNS and 10 x RUNS runs with the stocks as
 *    outputs, and at RUNS with every variable as output;
 *  - 2 threads against 1: wall clock AND process CPU time of each (best of 31 at RUNS, of 7
 *    at 10 x RUNS, in turn); the median over the tries of the ratio of each 1-thread run to
 *    the 2-thread run right after it (both under about the same load); the load average; and
 *    the speed-up the machine gives at that moment to a trivially parallel job (the hand loop
 *    split over 2 threads): on a shared machine the wall ratio is as noisy as the load, and
 *    the CPU ratio shows whether the threads add work (waiting, memory traffic) or not;
 *  - peak memory (new processes, VmHWM; 5 of each, the range and the median) at RUNS and 10 x RUNS
 * runs with the statistics in streaming mode (exact storage capped at 4 MiB).
 *
 *   build/bench/bench_mc [RUNS]     (default 10000)
 */
#include "base/bulk.h"
#include "base/rng.h"
#include "scenario/dist.h"
#include "tightrope/engine.h"
#include "tightrope/scenario.h"

#include <math.h>
#include <pthread.h>
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

/* System CPU time of the process so far (page faults, thread wake-ups). */
static double sys_now(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
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

/* What a study is made of: the model, its uncertain inputs and outputs (NULL: the default). */
typedef struct study_spec {
  const tr_model *m;
  const char *const *vary, *const *vars;
} study_spec;

/* The SIR study: its uncertain rates (as the hand loop draws them) and its outputs. */
static const char *const sir_vary[] = {"beta=uniform(0.2, 0.4)", "gamma=uniform(0.05, 0.15)", NULL};
static const char *const sir_vars[] = {"S", "I", "R", NULL};

static tr_model *load_sir(void) {
  tr_error err;
  tr_model *m;
  if (tr_model_load_buffer(sir_xmile, sizeof sir_xmile - 1, "sir.xmile", &m, &err) != TR_OK)
    die("SIR model", &err);
  return m;
}

/* One tr_mc_run on a fresh study, as the server runs one after another: the study is made and
 * freed outside the timed part, so that a run is not charged with freeing the results of the
 * one before. Wall seconds; the process CPU and system CPU seconds in *cpu and *sys. */
static double time_fresh(const study_spec *sp, const tr_mc_opts *o, double *cpu, double *sys) {
  tr_mc *mc = study(sp->m, sp->vary, sp->vars);
  double w0 = wall_now(), c0 = cpu_now(), s0 = sys_now();
  if (tr_mc_run(mc, o, NULL, NULL) != TR_OK) die("tr_mc_run", tr_mc_error(mc));
  double w = wall_now() - w0;
  if (cpu) *cpu = cpu_now() - c0;
  if (sys) *sys = sys_now() - s0;
  tr_mc_free(mc);
  return w;
}

/* CPU seconds of one run on a fresh study. */
static double time_cpu(const study_spec *sp, const tr_mc_opts *o) {
  double cpu;
  time_fresh(sp, o, &cpu, NULL);
  return cpu;
}

/* The same Monte Carlo written by hand: beta ~ U(0.2, 0.4), gamma ~ U(0.05, 0.15) drawn by
 * inversion from stream (seed, i) after a jump, Euler at dt 0.125 for 800 steps, running
 * means of S, I, R at every saved step; runs first .. first + runs - 1. */
static double hand_sir(size_t first, size_t runs, uint64_t seed, double *means) {
  tr_dist db, dg;
  const double ab[2] = {0.2, 0.4}, ag[2] = {0.05, 0.15};
  tr_dist_init(&db, TR_DIST_UNIFORM, ab, 2, NULL);
  tr_dist_init(&dg, TR_DIST_UNIFORM, ag, 2, NULL);
  const long steps = 800;
  const double dt = 0.125;
  memset(means, 0, (size_t)(steps / 4 + 1) * 3 * sizeof *means);
  for (size_t i = 0; i < runs; i++) {
    tr_rng r;
    tr_rng_seed_stream(&r, seed, first + i);
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

typedef struct hand_job {
  size_t first, runs;
  uint64_t seed;
  double means[201 * 3];
  double sink;
} hand_job;

static void *hand_thread(void *arg) {
  hand_job *j = arg;
  j->sink = hand_sir(j->first, j->runs, j->seed, j->means);
  return NULL;
}

/* Wall seconds of the hand loop over `runs` runs split across `threads` (1 or 2) threads. */
static double hand_wall(size_t runs, uint64_t seed, int threads) {
  static hand_job jobs[2];
  pthread_t th[2];
  double t0 = wall_now();
  for (int t = 0; t < threads; t++) {
    jobs[t].first = runs / (size_t)threads * (size_t)t;
    jobs[t].runs = t == threads - 1 ? runs - jobs[t].first : runs / (size_t)threads;
    jobs[t].seed = seed;
    if (pthread_create(&th[t], NULL, hand_thread, &jobs[t]) != 0) return NAN;
  }
  for (int t = 0; t < threads; t++)
    pthread_join(th[t], NULL);
  return wall_now() - t0;
}

static int cmp_long(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of v[0..n) (reordered). */
static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_dbl);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The 1, 5 and 15 minute load averages ("?" when /proc/loadavg cannot be read). */
static void loadavg(char *buf, size_t cap) {
  double l[3];
  FILE *f = fopen("/proc/loadavg", "r");
  if (f && fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) == 3)
    snprintf(buf, cap, "%.2f %.2f %.2f", l[0], l[1], l[2]);
  else
    snprintf(buf, cap, "?");
  if (f) fclose(f);
}

/* Best CPU seconds of the batched runner, the runner one lane at a time and the hand loop on
 * `runs` runs, timed in turn `reps` times. */
static void sir_compare(const study_spec *sp, size_t runs, int reps, double *tb, double *tl,
                        double *th) {
  tr_mc_opts o = tr_mc_default_opts();
  o.runs = runs;
  o.threads = 1;
  double *means = malloc(201 * 3 * sizeof *means);
  *tb = *tl = *th = 1e300;
  for (int r = 0; r < reps; r++) {
    o.batch = 64;
    double t = time_cpu(sp, &o);
    *tb = t < *tb ? t : *tb;
    o.batch = 1;
    t = time_cpu(sp, &o);
    *tl = t < *tl ? t : *tl;
    double t0 = cpu_now();
    volatile double sink = hand_sir(0, runs, o.seed, means);
    (void)sink;
    t = cpu_now() - t0;
    *th = t < *th ? t : *th;
  }
  free(means);
}

static void sir_report(size_t runs, double tb, double tl, double th) {
  printf("SIR %7zu runs  batched (64 lanes) %8.0f runs/s | one lane %8.0f runs/s = %.2fx "
         "(target >= 3) | hand loop %8.0f runs/s, batched %.2fx slower (target <= 2)\n",
         runs, (double)runs / tb, (double)runs / tl, tl / tb, (double)runs / th, tb / th);
}

/* The child's side of child_run: argv = {prog, "--child", runs, threads, exact_bytes}. */
static int child_main(char **argv) {
  tr_model *m = load_sir();
  tr_mc *mc = study(m, sir_vary, sir_vars);
  tr_mc_opts o = tr_mc_default_opts();
  o.runs = (size_t)strtoul(argv[2], NULL, 10);
  o.threads = atoi(argv[3]);
  size_t exact_bytes = (size_t)strtoul(argv[4], NULL, 10);
  if (exact_bytes) {
    o.exact_bytes = exact_bytes;
    o.save_step = 1;
  }
  double w0 = wall_now();
  if (tr_mc_run(mc, &o, NULL, NULL) != TR_OK) return 1;
  double w = wall_now() - w0;
  /* The peak of this program image: VmHWM (ru_maxrss would keep the peak of the forked
   * parent's image from before the exec). */
  long kib = -1;
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
  if (f) fclose(f);
  if (kib < 0) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    kib = ru.ru_maxrss;
  }
  printf("%.9f %ld\n", w, kib);
  tr_mc_free(mc);
  tr_model_free(m);
  return 0;
}

/* The SIR study of RUNS runs on `threads` threads as the only study of a new process (this
 * program run again with --child), as a one-off CLI run makes it: its memory is all fresh,
 * and its peak RSS is its own (a forked child would count the parent's pages). Its wall
 * seconds in *wall, and its peak RSS in KiB returned (-1 on failure). exact_bytes 0: the
 * default. */
static long child_run(size_t runs, int threads, size_t exact_bytes, double *wall) {
  int fd[2];
  if (pipe(fd) != 0) return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char a[3][32];
    snprintf(a[0], sizeof a[0], "%zu", runs);
    snprintf(a[1], sizeof a[1], "%d", threads);
    snprintf(a[2], sizeof a[2], "%zu", exact_bytes);
    dup2(fd[1], STDOUT_FILENO);
    close(fd[0]);
    close(fd[1]);
    execl("/proc/self/exe", "bench_mc", "--child", a[0], a[1], a[2], (char *)NULL);
    _exit(127);
  }
  close(fd[1]);
  char buf[128] = {0};
  ssize_t got = pid > 0 ? read(fd[0], buf, sizeof buf - 1) : -1;
  close(fd[0]);
  int status = 0;
  if (pid > 0) waitpid(pid, &status, 0);
  double w = -1;
  long kib = -1;
  if (got <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      sscanf(buf, "%lf %ld", &w, &kib) != 2) {
    w = -1;
    kib = -1;
  }
  if (wall) *wall = w;
  return kib;
}

int main(int argc, char **argv) {
  tr_bulk_keep_heap(); /* as the tightrope program does (src/cli/main.c) */
  if (argc == 5 && strcmp(argv[1], "--child") == 0) return child_main(argv);
  size_t runs = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 10000;
  if (runs == 0) runs = 10000;
  tr_error err;
  tr_model *sir = load_sir();
  const study_spec sir_spec = {sir, sir_vary, sir_vars};
  char load[64];
  loadavg(load, sizeof load);
  printf("bench_mc: %zu and %zu runs; process CPU time, best of each; load average %s, "
         "%ld cores online\n",
         runs, runs * 10, load, sysconf(_SC_NPROCESSORS_ONLN));

  double tb, tl, th;
  sir_compare(&sir_spec, runs, 7, &tb, &tl, &th);
  sir_report(runs, tb, tl, th);
  sir_compare(&sir_spec, runs * 10, 3, &tb, &tl, &th);
  sir_report(runs * 10, tb, tl, th);

  /* Threads: wall and CPU of each count, in turn; then what a trivially parallel job gets.
   * At RUNS the statistics are exact (each thread writes the values of the runs it ran into
   * the kept values, 8 bytes per value of fresh memory); at 10 x RUNS they stream beyond the
   * default memory (each thread feeds its own histograms). RUNS once more with the statistics
   * streaming (4 MiB for exact values) separates what the threads do from what the kernel
   * takes to provide the exact values' fresh memory (system CPU time, printed). */
  for (int cfg = 0; cfg < 3; cfg++) {
    size_t n = cfg == 1 ? runs * 10 : runs;
    tr_mc_opts o = tr_mc_default_opts();
    o.runs = n;
    o.batch = 64;
    if (cfg == 2) o.exact_bytes = (size_t)4 << 20;
    double w[2] = {1e300, 1e300}, c[2] = {0, 0}, k[2] = {0, 0}, pair[31];
    int reps = n > runs ? 7 : 31; /* short runs: more chances to catch a quiet moment */
    for (int r = 0; r < reps; r++) {
      double pw[2];
      for (int t = 0; t < 2; t++) {
        o.threads = t + 1;
        double ce, se, we = time_fresh(&sir_spec, &o, &ce, &se);
        pw[t] = we;
        if (we < w[t]) {
          w[t] = we;
          c[t] = ce;
          k[t] = se;
        }
      }
      pair[r] = pw[0] / pw[1];
    }
    double h1 = 1e300, h2 = 1e300;
    for (int r = 0; r < reps; r++) {
      double a = hand_wall(n, o.seed, 1), b = hand_wall(n, o.seed, 2);
      h1 = a < h1 ? a : h1;
      h2 = b < h2 ? b : h2;
    }
    loadavg(load, sizeof load);
    printf("SIR %7zu runs%s  1 thread: wall %.3f s, CPU %.3f s (system %.3f) | 2 threads: wall "
           "%.3f s, CPU %.3f s (system %.3f)\n                2 threads / 1 thread (wall) = "
           "%.2fx (target >= 1.7), median of %d back-to-back pairs %.2fx; CPU 2/1 = %.2f; hand "
           "loop on 2 threads = %.2fx now (load %s)\n",
           n, cfg == 2 ? " (streaming)" : "", w[0], c[0], k[0], w[1], c[1], k[1], w[0] / w[1], reps,
           median(pair, (size_t)reps), c[1] / c[0], h1 / h2, load);
  }

  tr_model *biz;
  if (tr_model_load_file("models/saas/model.xmile", &biz, &err) == TR_OK) {
    /* Two uncertain constants of the template (the first two positive ones), +-10%. */
    size_t nc = 0, ns = 0, nv = tr_model_var_count(biz);
    char spec[2][300];
    const char *bvary[3] = {NULL, NULL, NULL}, *stocks[64];
    for (size_t i = 0; i < nv; i++) {
      tr_var_info vi;
      tr_model_var(biz, i, &vi);
      if (vi.hidden) continue;
      if (vi.type == TR_VAR_STOCK && ns < 63) stocks[ns++] = vi.ident;
      if (!vi.is_constant || !(vi.value > 0) || nc == 2) continue;
      snprintf(spec[nc], sizeof spec[nc], "%s=uniform(%.17g, %.17g)", vi.ident, 0.9 * vi.value,
               1.1 * vi.value);
      bvary[nc] = spec[nc];
      nc++;
    }
    stocks[ns] = NULL;
    /* Outputs: the stocks (the state of the business, what a study of it reports), at RUNS
     * and 10 x RUNS runs; then every variable (the CLI's default), where the statistics of
     * thousands of cells per run, the same for both, weigh more than the runs. */
    for (int all = 0; all < 2; all++)
      for (size_t n = runs; n <= runs * 10 && !(all && n > runs); n *= 10) {
        const study_spec bs = {biz, bvary, all ? NULL : stocks};
        tr_mc_opts b = tr_mc_default_opts();
        b.runs = n;
        b.save_step = 1;
        double sb = 1e300, sl = 1e300;
        for (int r = 0; r < 3; r++) {
          b.batch = 64;
          double t = time_cpu(&bs, &b);
          sb = t < sb ? t : sb;
          b.batch = 1;
          t = time_cpu(&bs, &b);
          sl = t < sl ? t : sl;
        }
        printf("SaaS %6zu runs  %zu variables, outputs %s: batched %8.0f runs/s, one lane "
               "%8.0f runs/s = %.2fx %s\n",
               n, nv, all ? "every variable" : "the stocks", (double)n / sb, (double)n / sl,
               sl / sb,
               all ? "(no target: the statistics of every cell, the same work in both, bound it)"
                   : "(target >= 3)");
      }
    tr_model_free(biz);
  } else {
    printf("SaaS     skipped (%s; run from the repository root)\n", tr_error_text(&err));
  }

  /* A one-off CLI run: the first study of a process pays for its fresh memory (zeroed by the
   * kernel as it is first written), which later studies of a server reuse. */
  double cw[2] = {1e300, 1e300};
  for (int r = 0; r < 7; r++)
    for (int t = 0; t < 2; t++) {
      double w;
      if (child_run(runs, t + 1, 0, &w) >= 0 && w > 0 && w < cw[t]) cw[t] = w;
    }
  printf("SIR   %zu runs, first study of a process (fresh memory, a one-off CLI run): 1 thread "
         "%.3f s, 2 threads %.3f s = %.2fx (best of 7)\n",
         runs, cw[0], cw[1], cw[0] / cw[1]);

  /* Peak memory of each size in 5 new processes, in turn: the same study's peak moves by
   * about 100 KiB from one process to the next (where the heap and the stack land), so the
   * ranges are printed, and the ratio of the medians. */
  long k[2][5];
  for (int r = 0; r < 5; r++)
    for (int i = 0; i < 2; i++)
      k[i][r] = child_run(i ? runs * 10 : runs, 1, (size_t)4 << 20, NULL);
  double med[2];
  for (int i = 0; i < 2; i++) {
    double v[5];
    for (int r = 0; r < 5; r++)
      v[r] = (double)k[i][r];
    med[i] = median(v, 5);
    qsort(k[i], 5, sizeof k[i][0], cmp_long);
  }
  printf("memory   streaming peak RSS (5 processes each): %zu runs %ld-%ld KiB, %zu runs "
         "%ld-%ld KiB; ratio of medians %.3f (target <= 1)\n",
         runs, k[0][0], k[0][4], runs * 10, k[1][0], k[1][4], med[0] > 0 ? med[1] / med[0] : NAN);
  tr_model_free(sir);
  return 0;
}
