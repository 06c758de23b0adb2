/*
 * Special functions for the distributions of the scenario layer: log-gamma, the normal CDF
 * and its inverse, the regularised incomplete beta and gamma functions and their inverses.
 *
 * Why our own: GSL has them but is GPL (DESIGN §5, the project is MIT), and libm's lgamma()
 * writes the global `signgam`, a data race when Monte Carlo threads draw concurrently. Every
 * function here is pure (no state, thread-safe) and deterministic across machines given the
 * same libm exp/log/erfc.
 */
#ifndef TR_SCENARIO_SPECIAL_H
#define TR_SCENARIO_SPECIAL_H

/* log Γ(x) for x > 0 (Lanczos, g = 7, nine terms; relative error about 1e-15). NaN for x <= 0. */
double tr_sf_lgamma(double x);

/* Standard normal CDF Φ(x), accurate in both tails (via erfc). */
double tr_sf_norm_cdf(double x);

/* Standard normal density φ(x). */
double tr_sf_norm_pdf(double x);

/* Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative error 1.15e-9) refined
 * by one Halley step against erfc, giving close to full double precision. -inf at 0, +inf at
 * 1, NaN outside [0, 1]. */
double tr_sf_norm_quantile(double p);

/* Regularised incomplete beta I_x(a, b) for a, b > 0, x in [0, 1] (continued fraction,
 * modified Lentz, using the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) for fast convergence). */
double tr_sf_beta_inc(double a, double b, double x);

/* The x in [0, 1] with I_x(a, b) = p: safeguarded Newton (bisection whenever a Newton step
 * leaves the current bracket), to about 1e-14 absolute in x. */
double tr_sf_beta_inc_inv(double a, double b, double p);

/* Regularised lower incomplete gamma P(a, x) for a > 0, x >= 0 (series below a + 1,
 * continued fraction for Q = 1 - P above). */
double tr_sf_gamma_inc_p(double a, double x);

/* The x >= 0 with P(a, x) = p: Wilson–Hilferty start, then safeguarded Newton. */
double tr_sf_gamma_inc_inv(double a, double p);

#endif
