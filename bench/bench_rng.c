/*
 * RNG jump benchmark (DESIGN §6: every figure against a baseline measured in the same run):
 * tr_rng_jump (table, AVX2 when the CPU has it) and tr_rng_jump_generic (table, no
 * CPU-specific code) against tr_rng_jump_reference (the published loop of 256 generator
 * steps), in two patterns:
 *  - chained: N jumps of one state, each from the last (the latency of one jump);
 *  - per run, as a Monte Carlo uses it: seed stream (seed, i) and jump it, for i < N, with
 *    the cost of seeding alone measured too and subtracted for the jump's share.
 * The variants are timed in turn within each repetition, best of REPS, process CPU time, so
 * a change in the machine's load hits all of them alike. The chained final states of the
 * three must be equal (printed; exit 1 if not). No timing is asserted.
 *
 *   build/bench/bench_rng [N]     (default 1000000)
 */
#include "base/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { REPS = 5 };

typedef void (*jump_fn)(tr_rng *);

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* N chained jumps from the state of seed 1; the final state goes to *out. */
static double time_chained(jump_fn jump, long n, tr_rng *out) {
  tr_rng r;
  tr_rng_seed(&r, 1);
  double t0 = cpu_now();
  for (long i = 0; i < n; i++)
    jump(&r);
  double t = cpu_now() - t0;
  *out = r;
  return t;
}

/* Seed streams 0 .. n - 1 of one seed and jump each (jump NULL: seed only). The XOR of the
 * jumped states goes to *sum so the work cannot be dropped. */
static double time_per_run(jump_fn jump, long n, uint64_t *sum) {
  uint64_t acc = 0;
  double t0 = cpu_now();
  for (long i = 0; i < n; i++) {
    tr_rng r;
    tr_rng_seed_stream(&r, 42, (uint64_t)i);
    if (jump) jump(&r);
    acc ^= r.s[0] ^ r.s[1] ^ r.s[2] ^ r.s[3];
  }
  double t = cpu_now() - t0;
  *sum = acc;
  return t;
}

static double min2(double a, double b) {
  return a < b ? a : b;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  if (n <= 0) {
    fprintf(stderr, "usage: bench_rng [N > 0]\n");
    return 2;
  }
  static const jump_fn fns[] = {tr_rng_jump_reference, tr_rng_jump_generic, tr_rng_jump};
  static const char *const names[] = {"reference (256 steps)", "table, generic",
                                      "table (tr_rng_jump)"};
  enum { NF = 3 };
  double chained[NF], per_run[NF], seed_only = 1e30;
  tr_rng last[NF];
  uint64_t sums[NF], seed_sum;
  for (int f = 0; f < NF; f++)
    chained[f] = per_run[f] = 1e30;
  for (int rep = 0; rep < REPS; rep++) {
    for (int f = 0; f < NF; f++) {
      chained[f] = min2(chained[f], time_chained(fns[f], n, &last[f]));
      per_run[f] = min2(per_run[f], time_per_run(fns[f], n, &sums[f]));
    }
    seed_only = min2(seed_only, time_per_run(NULL, n, &seed_sum));
  }
  int same = 1;
  for (int f = 1; f < NF; f++) {
    same &= sums[f] == sums[0];
    for (int w = 0; w < 4; w++)
      same &= last[f].s[w] == last[0].s[w];
  }
  /* The jump's share of a run: seed + jump less seed alone (floored: on a noisy machine the
   * difference of two bests can come out tiny). */
  double ns = 1e9 / (double)n, seed_ns = seed_only * ns, jump_ns[NF];
  for (int f = 0; f < NF; f++) {
    jump_ns[f] = per_run[f] * ns - seed_ns;
    if (jump_ns[f] < 0.1) jump_ns[f] = 0.1;
  }
  printf("%ld jumps, best of %d, process CPU time\n", n, REPS);
  printf("%-22s %11s %7s %21s %7s\n", "", "chained ns", "ratio", "seed+jump (jump) ns", "ratio");
  for (int f = 0; f < NF; f++)
    printf("%-22s %11.1f %6.1fx %13.1f (%5.1f) %6.1fx\n", names[f], chained[f] * ns,
           chained[0] / chained[f], per_run[f] * ns, jump_ns[f], jump_ns[0] / jump_ns[f]);
  printf("seeding alone: %.1f ns per run\n", seed_ns);
  printf("tr_rng_jump over the reference: %.1fx chained, %.1fx per run\n",
         chained[0] / chained[NF - 1], jump_ns[0] / jump_ns[NF - 1]);
  printf("same final states as the reference: %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}
