/*
 * Sampling the uncertain inputs of a Monte Carlo: plain Monte Carlo or Latin hypercube, with
 * optional rank correlation between inputs (Iman & Conover 1982), after repairing a target
 * matrix that is not positive semi-definite to the nearest correlation matrix (Higham 2002,
 * alternating projections with Dykstra's correction).
 *
 * Reproducibility (STYLE rule 15): row i (run i) is drawn from RNG stream (seed, i), which the
 * caller seeds and passes in; tr_sampler_row() consumes exactly k draws of it, so the caller
 * can go on using the same stream for random builtins inside the model. Whole-sample
 * structure comes from reserved streams: the Latin hypercube permutation of input j from
 * stream (seed, TR_SAMPLE_LHS_STREAM + j), the Iman–Conover score order of input j from
 * stream (seed, TR_SAMPLE_IC_STREAM + j). Rows therefore do not depend on the order in which
 * they are requested, nor on threads or batch sizes.
 *
 * Memory: MC keeps nothing per run; LHS keeps one permutation per input (n × k uint32);
 * correlated sampling keeps the whole n × k matrix (Iman–Conover re-orders across runs).
 */
#ifndef TR_SCENARIO_SAMPLE_H
#define TR_SCENARIO_SAMPLE_H

#include "base/rng.h"
#include "scenario/dist.h"
#include "tightrope/base.h"

#include <stddef.h>
#include <stdint.h>

#define TR_SAMPLE_LHS_STREAM (UINT64_C(1) << 62)
#define TR_SAMPLE_IC_STREAM ((UINT64_C(1) << 62) + (UINT64_C(1) << 40))
/* Latin hypercube strata are indexed with uint32. */
#define TR_SAMPLE_MAX_RUNS UINT32_MAX

typedef enum { TR_SAMPLING_MC, TR_SAMPLING_LHS } tr_sampling;

typedef struct tr_sampler tr_sampler;

/* Prepare to sample n runs of the k inputs `dists` (which must outlive the sampler).
 * `corr` (k × k, row-major) is the target rank-correlation matrix, or NULL for independent
 * inputs; `names` (may be NULL) name the inputs in messages. Errors: TR_ERR_INVALID for an
 * entry outside [-1, 1], a diagonal entry other than 1, an asymmetric matrix, n == 0 or
 * n > TR_SAMPLE_MAX_RUNS; TR_ERR_NOMEM. A matrix that is not positive semi-definite is
 * repaired (Higham) and tr_sampler_warning() says so. */
int tr_sampler_new(tr_sampler **out, const tr_dist *dists, size_t k, size_t n, tr_sampling method,
                   uint64_t seed, const double *corr, const char *const *names, tr_error *err);

/* Free the sampler; NULL is a no-op. */
void tr_sampler_free(tr_sampler *s);

/* Write the k input values of run i (i < n) into row. `r` must be stream (seed, i); exactly
 * k draws are taken from it. Thread-safe for concurrent calls with distinct r. */
void tr_sampler_row(const tr_sampler *s, size_t i, tr_rng *r, double *row);

/* The inputs of run i as a Monte Carlo draws them: from stream (seed, i) after one jump, so
 * that the model's random builtins can use that stream from its start. One place for the
 * convention, which every runner must follow for studies to agree. */
void tr_sampler_run_row(const tr_sampler *s, size_t i, double *row);

/* "" or a warning about the correlation matrix (e.g. that it was repaired, and how far). */
const char *tr_sampler_warning(const tr_sampler *s);

/* The correlation actually targeted after repair (k × k), or NULL without correlation. */
const double *tr_sampler_corr(const tr_sampler *s);

/* Repair a symmetric matrix with unit diagonal to the nearest correlation matrix in the
 * Frobenius norm (Higham 2002), in place, and make it positive definite with smallest
 * eigenvalue at least `floor` (rescaled to unit diagonal). *changed (may be NULL) is set to 1
 * when the input was not positive semi-definite. TR_OK, TR_ERR_NOMEM, or TR_ERR_MATH if the
 * iteration does not converge. */
int tr_corr_nearest(double *c, size_t k, double floor, int *changed, tr_error *err);

/* Cholesky factor L (lower, row-major k × k) of a positive-definite a: TR_OK, or
 * TR_ERR_MATH when a is not positive definite. */
int tr_cholesky(const double *a, size_t k, double *l);

/* Eigenvalues (ascending) and eigenvectors (columns of v, row-major k × k; v may be NULL) of
 * the symmetric matrix a, by cyclic Jacobi rotations. TR_OK or TR_ERR_NOMEM. */
int tr_sym_eigen(const double *a, size_t k, double *w, double *v);

#endif
