/* xoshiro256** and splitmix64 (see rng.h). Written from the published algorithm
 * descriptions (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2018). */
#include "base/rng.h"
#include "base/rng_jump_table.h"

#include <math.h>
#include <string.h>

uint64_t tr_splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

void tr_rng_seed(tr_rng *r, uint64_t seed) {
  uint64_t sm = seed;
  for (int i = 0; i < 4; i++)
    r->s[i] = tr_splitmix64(&sm);
}

void tr_rng_seed_stream(tr_rng *r, uint64_t seed, uint64_t stream) {
  /* Mix the stream number through one splitmix64 round of its own before combining, so that
   * nearby (seed, stream) pairs do not share splitmix64 trajectories. */
  uint64_t st = stream ^ 0x6a09e667f3bcc909u;
  uint64_t mixed = tr_splitmix64(&st);
  uint64_t sm = seed ^ mixed;
  for (int i = 0; i < 4; i++)
    r->s[i] = tr_splitmix64(&sm);
  if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1; /* all-zero state is a fixed point */
}

void tr_rng_set_state(tr_rng *r, uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3) {
  r->s[0] = s0;
  r->s[1] = s1;
  r->s[2] = s2;
  r->s[3] = s3;
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t tr_rng_next(tr_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double tr_rng_uniform(tr_rng *r) {
  return (double)(tr_rng_next(r) >> 11) * 0x1.0p-53;
}

double tr_rng_uniform_pos(tr_rng *r) {
  return ((double)(tr_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

double tr_rng_normal(tr_rng *r) {
  for (;;) {
    double u = 2.0 * tr_rng_uniform(r) - 1.0;
    double v = 2.0 * tr_rng_uniform(r) - 1.0;
    double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) return u * sqrt(-2.0 * log(s) / s);
  }
}

void tr_rng_jump_reference(tr_rng *r) {
  static const uint64_t jump[] = {0x180ec6d33cfd0abau, 0xd5a61266f0c9392cu, 0xa9582618e03fc9aau,
                                  0x39abdc4529b1661cu};
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int i = 0; i < 4; i++)
    for (int b = 0; b < 64; b++) {
      if (jump[i] & (UINT64_C(1) << b)) {
        s0 ^= r->s[0];
        s1 ^= r->s[1];
        s2 ^= r->s[2];
        s3 ^= r->s[3];
      }
      tr_rng_next(r);
    }
  tr_rng_set_state(r, s0, s1, s2, s3);
}

/* The table jump. Per word x of the state, nibble j (bits 4j..4j+3) picks row (x >> 4j) & 15
 * of block 16 * word + j of rng_jump_table; the XOR of the 64 rows picked is the jumped state
 * (tests/tools/gen_rng_jump.c explains the table). A row is 32 bytes and a block 512, so the
 * byte offset of the row within its block is ((x >> 4j) & 15) << 5: the kernels take it as
 * (x << 5) & 0x1e0 and (x << 1) & 0x1e0 for the two nibbles of the low byte of x, then shift
 * x by a byte: two instructions per lookup instead of three. Nibble pairs go to separate
 * accumulators so the XOR chains are half as long. */
enum { JUMP_ROW = 32, JUMP_BLOCK = 16 * JUMP_ROW, ROW_MASK = 15 * JUMP_ROW };

#if defined(__GNUC__)
/* GCC and clang vector extensions: a half row (two words) is one SSE2 or NEON register on the
 * baseline targets. may_alias: the table is declared as uint64_t. */
typedef uint64_t jump_half __attribute__((vector_size(16), may_alias));

static inline const jump_half *half_row(const unsigned char *block, uint64_t offset) {
  return (const jump_half *)(const void *)(block + offset);
}

void tr_rng_jump_generic(tr_rng *r) {
  const unsigned char *block = (const unsigned char *)rng_jump_table;
  jump_half lo = {0, 0}, hi = {0, 0}, lo2 = {0, 0}, hi2 = {0, 0};
  for (int w = 0; w < 4; w++) {
    uint64_t x = r->s[w];
    for (int j = 0; j < 16; j += 2, x >>= 8, block += 2 * JUMP_BLOCK) {
      const jump_half *a = half_row(block, (x << 5) & ROW_MASK);
      const jump_half *b = half_row(block + JUMP_BLOCK, (x << 1) & ROW_MASK);
      lo ^= a[0];
      hi ^= a[1];
      lo2 ^= b[0];
      hi2 ^= b[1];
    }
  }
  lo ^= lo2;
  hi ^= hi2;
  memcpy(&r->s[0], &lo, sizeof lo); /* element i of a vector is at byte 8 i, as in s[] */
  memcpy(&r->s[2], &hi, sizeof hi);
}
#else
/* Plain C: four words per row. */
void tr_rng_jump_generic(tr_rng *r) {
  uint64_t a[4] = {0, 0, 0, 0};
  for (int w = 0; w < 4; w++) {
    uint64_t x = r->s[w];
    for (int j = 0; j < 16; j++, x >>= 4) {
      const uint64_t *row = rng_jump_table[16 * w + j][x & 15];
      for (int i = 0; i < 4; i++)
        a[i] ^= row[i];
    }
  }
  tr_rng_set_state(r, a[0], a[1], a[2], a[3]);
}
#endif

/* AVX2 on x86-64: a whole row is one register, and four accumulators (nibbles j .. j + 3)
 * keep the XOR chains at 16. Chosen at run time (__builtin_cpu_supports reads what libgcc's
 * start-up code recorded), so one binary still runs on CPUs without AVX2. TR_NO_VECTOR_CLONES
 * (base/simd.h) turns it off like the other CPU-specific code. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(TR_NO_VECTOR_CLONES)
#define TR_RNG_JUMP_AVX2 1
typedef uint64_t jump_row __attribute__((vector_size(32), may_alias));

__attribute__((target("avx2"))) static inline const jump_row *row_at(const unsigned char *block,
                                                                     uint64_t offset) {
  return (const jump_row *)(const void *)(block + offset);
}

__attribute__((target("avx2"))) static void jump_avx2(tr_rng *r) {
  const unsigned char *block = (const unsigned char *)rng_jump_table;
  jump_row a = {0, 0, 0, 0}, b = a, c = a, d = a;
  for (int w = 0; w < 4; w++) {
    uint64_t x = r->s[w];
    for (int j = 0; j < 16; j += 4, x >>= 16, block += 4 * JUMP_BLOCK) {
      a ^= *row_at(block, (x << 5) & ROW_MASK);
      b ^= *row_at(block + JUMP_BLOCK, (x << 1) & ROW_MASK);
      c ^= *row_at(block + 2 * JUMP_BLOCK, (x >> 3) & ROW_MASK);
      d ^= *row_at(block + 3 * JUMP_BLOCK, (x >> 7) & ROW_MASK);
    }
  }
  a ^= b;
  c ^= d;
  a ^= c;
  memcpy(r->s, &a, sizeof a);
}
#endif

void tr_rng_jump(tr_rng *r) {
#ifdef TR_RNG_JUMP_AVX2
  if (__builtin_cpu_supports("avx2")) {
    jump_avx2(r);
    return;
  }
#endif
  tr_rng_jump_generic(r);
}
