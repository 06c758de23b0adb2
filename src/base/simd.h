/* Function multi-versioning for the lane loops of the batched VM and the per-run statistics.
 *
 * These loops are element-wise over lanes (or cells) and vectorise; the portable build
 * targets baseline x86-64 (SSE2, two doubles per instruction). TR_VECTOR_CLONES compiles a
 * function twice, for baseline and for AVX2 (four doubles), and the dynamic loader picks the
 * one the CPU runs (GCC target_clones, an ifunc), so one binary is fast on new machines and
 * still runs on old ones.
 *
 * The results do not depend on the clone: both do the same IEEE operations in the same
 * order per element (no FMA contraction: -std=c11 turns it off; no reassociation without
 * -ffast-math), so batched output stays byte-identical to the one-lane interpreter and
 * across machines. Elsewhere (other compilers, other architectures) the macro is empty. */
#ifndef TR_BASE_SIMD_H
#define TR_BASE_SIMD_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&       \
    !defined(TR_NO_VECTOR_CLONES)
#define TR_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TR_VECTOR_CLONES
#endif

/* A helper of a cloned function must be inlined into each clone to be compiled for its
 * target: a call would reach the one baseline copy. */
#if defined(__GNUC__)
#define TR_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define TR_ALWAYS_INLINE inline
#endif

#endif
