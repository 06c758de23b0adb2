/*
 * Random numbers: xoshiro256** (Blackman & Vigna 2018) seeded by splitmix64. Our own code
 * rather than a library because results must be bit-identical across machines, thread counts
 * and library versions, and GSL is GPL (DESIGN §5).
 *
 * Streams: tr_rng_seed_stream(r, seed, stream) derives an independent generator for every
 * (seed, stream) pair — run i of a Monte Carlo always uses stream i, whatever thread runs it
 * (STYLE rule 15). A tr_rng is a plain value: no global state, copy it to fork a stream.
 */
#ifndef TR_BASE_RNG_H
#define TR_BASE_RNG_H

#include <stdint.h>

typedef struct tr_rng {
  uint64_t s[4];
} tr_rng;

/* splitmix64: advance *state and return the next output (the published reference generator). */
uint64_t tr_splitmix64(uint64_t *state);

/* Seed the four words of state from splitmix64(seed). */
void tr_rng_seed(tr_rng *r, uint64_t seed);

/* Seed stream `stream` of `seed`: splitmix64 seeded from seed, advanced to mix in the stream
 * number, so (seed, 0), (seed, 1), ... are unrelated sequences. */
void tr_rng_seed_stream(tr_rng *r, uint64_t seed, uint64_t stream);

/* Set the raw state (for reference tests); at least one word must be non-zero. */
void tr_rng_set_state(tr_rng *r, uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3);

/* The next 64 random bits (xoshiro256**). */
uint64_t tr_rng_next(tr_rng *r);

/* Uniform double in [0, 1) with 53 random bits. */
double tr_rng_uniform(tr_rng *r);

/* Uniform double in (0, 1): never 0, for logarithms. */
double tr_rng_uniform_pos(tr_rng *r);

/* Standard normal deviate (Marsaglia polar method; no cached second value, so the stream
 * position depends only on the number of calls). */
double tr_rng_normal(tr_rng *r);

/* Advance by 2^128 calls (the published jump polynomial): non-overlapping subsequences.
 * Bit-identical to tr_rng_jump_reference for every state, and about 10x faster with AVX2
 * (7x without; bench/bench_rng.c): the jump is a linear map of the 256-bit state over GF(2),
 * applied as 64 lookups (one per 4 bits of state) in a constant 32 KiB table, XORed together.
 * Uses AVX2 when the CPU has it (chosen at run time); the result does not depend on it.
 * Thread-safe: touches only *r. */
void tr_rng_jump(tr_rng *r);

/* The published jump algorithm: 256 calls of tr_rng_next with conditional XORs of the
 * state. The definition tr_rng_jump must match; kept for the tests, the benchmark and the
 * table generator (tests/tools/gen_rng_jump.c). */
void tr_rng_jump_reference(tr_rng *r);

/* The table jump without CPU-specific code: what tr_rng_jump runs on a CPU without AVX2.
 * Exported so the tests check that path on every machine. */
void tr_rng_jump_generic(tr_rng *r);

#endif
