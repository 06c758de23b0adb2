/* xoshiro256** and splitmix64 (see rng.h). Written from the published algorithm
 * descriptions (Blackman & Vigna, "Scrambled linear pseudorandom number generators", 2018). */
#include "base/rng.h"

#include <math.h>

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

void tr_rng_jump(tr_rng *r) {
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
