/*
 * The batched VM (DESIGN §2.4, §6): a switch over instructions, each of which runs a tight
 * loop over the lanes of its slots (slot-major storage, see engine_impl.h). The
 * interpretation cost — decoding, dispatch — is paid once per instruction per block of lanes,
 * not once per run. Nothing here allocates.
 */
#include "engine/engine_impl.h"
#include "base/simd.h"

#include "expr/builtins.h"

#include <math.h>

/* The lane loops are what must be vectorised, and -O2's "very cheap" cost model declines
 * loops of unknown trip count that need a run-time alias check (an instruction may write one
 * of its operands), so this file asks GCC for the dynamic cost model. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
#endif

double tr_vm_fn1(int fn, double x) {
  switch (fn) {
  case TR_FN_ABS:
    return fabs(x);
  case TR_FN_ARCCOS:
    return acos(x);
  case TR_FN_ARCSIN:
    return asin(x);
  case TR_FN_ARCTAN:
    return atan(x);
  case TR_FN_COS:
    return cos(x);
  case TR_FN_EXP:
    return exp(x);
  case TR_FN_INT:
    return floor(x); /* INT(-1.5) = -2 (XMILE, Stella; docs/xmile.md) */
  case TR_FN_LN:
    return log(x);
  case TR_FN_LOG10:
    return log10(x);
  case TR_FN_SIN:
    return sin(x);
  case TR_FN_SQRT:
    return sqrt(x);
  case TR_FN_TAN:
    return tan(x);
  case TR_FN_SINH:
    return sinh(x);
  case TR_FN_COSH:
    return cosh(x);
  case TR_FN_TANH:
    return tanh(x);
  case TR_FN_ROUND:
    return round(x);
  case TR_FN_SIGN:
    return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
  default:
    return NAN;
  }
}

/* MOD is a - b * INT(a / b) with INT the floor (XMILE and Stella), so the remainder takes
 * the sign of the divisor: -10 MOD 3 = 2. (Vensim's MODULO keeps the dividend's sign; the
 * conformance case `rounding`, a Vensim export, leaves those columns unchecked.) */
static double modr(double a, double b) {
  double r = fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

double tr_vm_binop(int op, double x, double y) {
  switch (op) {
  case TR_I_ADD:
    return x + y;
  case TR_I_SUB:
    return x - y;
  case TR_I_MUL:
    return x * y;
  case TR_I_DIV:
    return x / y;
  case TR_I_POWR:
    return pow(x, y);
  case TR_I_MODR:
    return modr(x, y);
  case TR_I_CEQ:
    return x == y;
  case TR_I_CNE:
    return x != y;
  case TR_I_CLT:
    return x < y;
  case TR_I_CLE:
    return x <= y;
  case TR_I_CGT:
    return x > y;
  case TR_I_CGE:
    return x >= y;
  case TR_I_LAND:
    return (x != 0) && (y != 0);
  case TR_I_LOR:
    return (x != 0) || (y != 0);
  case TR_I_MIN2:
    return y < x ? y : x;
  case TR_I_MAX2:
    return y > x ? y : x;
  default:
    return NAN;
  }
}

/* A lookup is y0 + num / den: on segment i, y0 = Y[i], num = (x - X[i]) (Y[i+1] - Y[i]) and
 * den = X[i+1] - X[i]; any other result r is r + -0.0 / 1, which is r for every r (the sign
 * of a zero included). Split so that the batched VM finds the segments lane by lane and then
 * does the divisions of many lanes in one vector loop (a division per lane was most of the
 * cost of a lookup), with exactly the arithmetic of tr_vm_lookup. */
typedef struct gf_parts {
  double y0, num, den;
} gf_parts;

static TR_ALWAYS_INLINE gf_parts segment(const double *X, const double *Y, size_t i, double x) {
  double w = X[i + 1] - X[i];
  if (w == 0) return (gf_parts){Y[i + 1], -0.0, 1.0};
  return (gf_parts){Y[i], (x - X[i]) * (Y[i + 1] - Y[i]), w};
}

static TR_ALWAYS_INLINE gf_parts lookup_parts(const tr_gf *g, double x) {
  size_t n = g->n;
  const double *X = g->x, *Y = g->y;
  if (n == 0 || isnan(x)) return (gf_parts){NAN, -0.0, 1.0};
  if (n == 1) return (gf_parts){Y[0], -0.0, 1.0};
  if (x <= X[0])
    return g->type == TR_GF_EXTRAPOLATE && x < X[0] ? segment(X, Y, 0, x)
                                                    : (gf_parts){Y[0], -0.0, 1.0};
  if (x >= X[n - 1])
    return g->type == TR_GF_EXTRAPOLATE && x > X[n - 1] ? segment(X, Y, n - 2, x)
                                                        : (gf_parts){Y[n - 1], -0.0, 1.0};
  /* lo: the last point at or left of x (X[0] < x < X[n-1] here). Graphical functions
   * mostly have a handful of points: then counting the interior points <= x, without a
   * branch, beats a binary search whose branches the lanes' different x mispredict. */
  size_t lo = 0;
  if (n <= 16) {
    for (size_t k = 1; k + 1 < n; k++)
      lo += X[k] <= x;
  } else {
    size_t hi = n - 1; /* X[lo] <= x < X[hi] */
    while (hi - lo > 1) {
      size_t mid = lo + (hi - lo) / 2;
      if (X[mid] <= x)
        lo = mid;
      else
        hi = mid;
    }
  }
  if (g->type == TR_GF_DISCRETE) return (gf_parts){Y[lo], -0.0, 1.0};
  return segment(X, Y, lo, x);
}

double tr_vm_lookup(const tr_gf *g, double x) {
  gf_parts q = lookup_parts(g, x);
  return q.y0 + q.num / q.den;
}

/* Lookups of many lanes: segments lane by lane, divisions in one vector loop, in chunks of
 * 64 lanes. D may be A (a slot is its own operand): each chunk is read before it is written. */
static TR_ALWAYS_INLINE void lookup_lanes(const tr_gf *g, const double *A, double *D, size_t L) {
  for (size_t l0 = 0; l0 < L; l0 += 64) {
    size_t m = L - l0 < 64 ? L - l0 : 64;
    double y0[64], num[64], den[64];
    for (size_t j = 0; j < m; j++) {
      gf_parts q = lookup_parts(g, A[l0 + j]);
      y0[j] = q.y0;
      num[j] = q.num;
      den[j] = q.den;
    }
    for (size_t j = 0; j < m; j++)
      D[l0 + j] = y0[j] + num[j] / den[j];
  }
}

/* Poisson deviate: multiplication method for small means, else the transformed rejection
 * method PTRS (Hörmann 1993), whose cost does not grow with the mean. */
static double poisson(tr_rng *r, double lam) {
  if (!(lam > 0)) return lam == 0 ? 0.0 : NAN;
  if (lam < 30) {
    double L = exp(-lam), p = 1.0;
    int k = 0;
    do {
      k++;
      p *= tr_rng_uniform(r);
    } while (p > L && k < 1000);
    return (double)(k - 1);
  }
  double slam = sqrt(lam), loglam = log(lam);
  double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (int tries = 0; tries < 10000; tries++) {
    double U = tr_rng_uniform(r) - 0.5, V = tr_rng_uniform_pos(r);
    double us = 0.5 - fabs(U);
    double k = floor((2 * a / us + b) * U + lam + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (log(V) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - lgamma(k + 1))
      return k;
  }
  return lam; /* unreachable in practice: rejection accepts with probability > 0.9 */
}

/* One draw of random builtin fn with the (seedless) arguments x[0..n). */
static double draw(tr_rng *r, int fn, const double *x, int n) {
  switch (fn) {
  case TR_FN_UNIFORM:
  case TR_FN_RANDOM:
    return x[0] + (x[1] - x[0]) * tr_rng_uniform(r);
  case TR_FN_NORMAL: {
    double v = x[0] + x[1] * tr_rng_normal(r);
    if (n >= 4) { /* truncated to [min, max]: redraw, clamp as a last resort */
      for (int k = 0; k < 100 && (v < x[2] || v > x[3]); k++)
        v = x[0] + x[1] * tr_rng_normal(r);
      v = v < x[2] ? x[2] : v > x[3] ? x[3] : v;
    }
    return v;
  }
  case TR_FN_LOGNORMAL: { /* mean and standard deviation of the distribution itself */
    double m = x[0], s = x[1];
    if (!(m > 0)) return NAN;
    double s2 = log(1 + (s * s) / (m * m));
    return exp(log(m) - s2 / 2 + sqrt(s2) * tr_rng_normal(r));
  }
  case TR_FN_EXPRND:
    return -x[0] * log(tr_rng_uniform_pos(r));
  case TR_FN_POISSON:
    return poisson(r, x[0]);
  case TR_FN_TRIANGULAR: {
    double lo = x[0], mode = x[1], hi = x[2], u = tr_rng_uniform(r), w = hi - lo;
    if (!(w > 0)) return lo;
    if (u < (mode - lo) / w) return lo + sqrt(u * w * (mode - lo));
    return hi - sqrt((1 - u) * w * (hi - mode));
  }
  default:
    return NAN;
  }
}

static double delay_read(const tr_vm *vm, const double *h, size_t L, size_t l, double now,
                         double in, double d, double init) {
  double eps = vm->dt * 1e-6, target = vm->time - d;
  if (target < vm->start - eps) return init;
  double p = (target - vm->start) / vm->dt;
  if (p < 0) p = 0;
  double kf = floor(p + 1e-6);
  double frac = p - kf;
  if (frac < 1e-6) frac = 0;
  long k = (long)kf;
  if (k >= vm->step) { /* within the current step (a Runge-Kutta stage, or a delay < dt) */
    double hs = h[(size_t)vm->step * L + l];
    double ts = vm->start + (double)vm->step * vm->dt;
    if (now <= ts || (k == vm->step && frac == 0)) return hs;
    double w = (target - ts) / (now - ts);
    return hs + (w > 1 ? 1 : w) * (in - hs);
  }
  double h0 = h[(size_t)k * L + l];
  return frac == 0 ? h0 : h0 + frac * (h[(size_t)(k + 1) * L + l] - h0);
}

#if defined(__GNUC__)
#define TR_UNREACHABLE() __builtin_unreachable()
#else
#define TR_UNREACHABLE() ((void)0)
#endif

/* Lane loops: every body is element-wise (lane l reads only lane l of its operands), and two
 * slots are either the same slot or disjoint, so no lane depends on another through memory
 * even when the destination is an operand. `ivdep` says so to gcc, which otherwise checks
 * the slots' overlap at run time before each vectorised loop. */
#if defined(__GNUC__) && !defined(__clang__)
#define TR_IVDEP _Pragma("GCC ivdep")
#else
#define TR_IVDEP
#endif

#define SL(x) (v + (size_t)(x)*L)
#define LANES(body)                                                                                \
  TR_IVDEP for (size_t l = 0; l < L; l++) {                                                        \
    body;                                                                                          \
  }

/* The interpreter, written once for a lane count L that the compiler specialises for L = 1. */
static TR_ALWAYS_INLINE void exec(const tr_program *p, const tr_code *code, tr_vm *vm, size_t L) {
  double *v = vm->vals;
  double t = vm->time;
  double eps = vm->dt * 1e-6;
  for (const tr_instr *in = code->ins, *end = code->ins + code->n; in < end; in++) {
    double *D = SL(in->d);
    switch ((tr_opcode)in->op) {
    case TR_I_MOV: {
      const double *A = SL(in->a);
      LANES(D[l] = A[l]);
      break;
    }
#define BIN(OPC, EXPR)                                                                             \
  case OPC: {                                                                                      \
    const double *A = SL(in->a), *B = SL(in->b);                                                   \
    LANES(double x = A[l]; double y = B[l]; D[l] = (EXPR));                                        \
    break;                                                                                         \
  }
      BIN(TR_I_ADD, x + y)
      BIN(TR_I_SUB, x - y)
      BIN(TR_I_MUL, x * y)
      BIN(TR_I_DIV, x / y)
      BIN(TR_I_POWR, pow(x, y))
      BIN(TR_I_MODR, modr(x, y))
      BIN(TR_I_CEQ, (double)(x == y))
      BIN(TR_I_CNE, (double)(x != y))
      BIN(TR_I_CLT, (double)(x < y))
      BIN(TR_I_CLE, (double)(x <= y))
      BIN(TR_I_CGT, (double)(x > y))
      BIN(TR_I_CGE, (double)(x >= y))
      BIN(TR_I_LAND, (double)((x != 0) && (y != 0)))
      BIN(TR_I_LOR, (double)((x != 0) || (y != 0)))
      BIN(TR_I_MIN2, y < x ? y : x)
      BIN(TR_I_MAX2, y > x ? y : x)
#undef BIN
    case TR_I_NEGR: {
      const double *A = SL(in->a);
      LANES(D[l] = -A[l]);
      break;
    }
    case TR_I_LNOT: {
      const double *A = SL(in->a);
      LANES(D[l] = (double)(A[l] == 0));
      break;
    }
    case TR_I_FN1: {
      const double *A = SL(in->a);
      LANES(D[l] = tr_vm_fn1(in->fn, A[l]));
      break;
    }
    case TR_I_SELECT: {
      const double *A = SL(in->a), *B = SL(in->b), *C = SL(in->c);
      LANES(D[l] = A[l] != 0 ? B[l] : C[l]);
      break;
    }
    case TR_I_SAFEDIV: {
      const double *A = SL(in->a), *B = SL(in->b);
      const double *C = in->c >= 0 ? SL(in->c) : NULL;
      LANES(D[l] = B[l] != 0 ? A[l] / B[l] : (C ? C[l] : 0.0));
      break;
    }
    case TR_I_MAX0: {
      const double *A = SL(in->a);
      LANES(D[l] = A[l] > 0 ? A[l] : 0.0);
      break;
    }
    case TR_I_GF: {
      const double *A = SL(in->a);
      const tr_gf *g = p->gfs[in->aux];
      lookup_lanes(g, A, D, L);
      break;
    }
    case TR_I_STEPF: {
      const double *A = SL(in->a), *B = SL(in->b);
      LANES(D[l] = t >= B[l] - eps ? A[l] : 0.0);
      break;
    }
    case TR_I_RAMP: {
      const double *A = SL(in->a), *B = SL(in->b);
      LANES(D[l] = t >= B[l] - eps ? A[l] * (t - B[l]) : 0.0);
      break;
    }
    case TR_I_PULSE: {
      /* Evaluated at step points and held through Runge-Kutta stages, so that a pulse moves
       * its whole magnitude in one DT under every method (as a function of TIME it would be
       * seen by some stages only: half the volume under RK2, 5/6 under RK4). */
      if (vm->phase == TR_PH_STAGE) break;
      const double *A = SL(in->a), *B = SL(in->b);
      const double *C = in->c >= 0 ? SL(in->c) : NULL;
      for (size_t l = 0; l < L; l++) {
        double first = B[l], iv = C ? C[l] : 0.0, since = t - first, fire;
        if (since < -eps) {
          fire = 0;
        } else if (!(iv > 0)) {
          fire = since < vm->dt - eps;
        } else {
          double k = floor((since + eps) / iv);
          fire = since - k * iv < vm->dt - eps;
        }
        D[l] = fire ? A[l] / vm->dt : 0.0;
      }
      break;
    }
    case TR_I_INIT:
      if (vm->phase == TR_PH_INIT) {
        const double *A = SL(in->a);
        LANES(D[l] = A[l]);
      }
      break;
    case TR_I_PREVINIT:
      if (vm->phase == TR_PH_INIT) {
        if (in->a >= 0) {
          const double *A = SL(in->a);
          LANES(D[l] = A[l]);
        } else {
          LANES(D[l] = 0.0);
        }
      }
      break;
    case TR_I_DELAY: {
      const double *A = SL(in->a), *B = SL(in->b);
      const double *C = in->c >= 0 ? SL(in->c) : NULL;
      double *h = vm->hist + (size_t)in->aux * vm->hist_len * L;
      if (vm->phase != TR_PH_STAGE) LANES(h[(size_t)vm->step * L + l] = A[l]);
      for (size_t l = 0; l < L; l++)
        D[l] = delay_read(vm, h, L, l, t, A[l], B[l], C ? C[l] : h[l]);
      break;
    }
    case TR_I_RANDOM:
      if (vm->phase != TR_PH_STAGE) {
        const int *args = p->args + in->aux;
        int n = in->b;
        double x[8];
        for (size_t l = 0; l < L; l++) {
          for (int k = 0; k < n && k < 8; k++)
            x[k] = v[(size_t)args[k] * L + l];
          tr_rng *r = in->c >= 0 ? &vm->seeded[(size_t)in->c * L + l] : &vm->rng[l];
          D[l] = draw(r, in->fn, x, n);
        }
      }
      break;
    case TR_I_STDDEV: {
      const int *args = p->args + in->aux;
      int n = in->b;
      for (size_t l = 0; l < L; l++) {
        double m = 0, ss = 0;
        for (int k = 0; k < n; k++)
          m += v[(size_t)args[k] * L + l];
        m /= n;
        for (int k = 0; k < n; k++) {
          double e = v[(size_t)args[k] * L + l] - m;
          ss += e * e;
        }
        D[l] = n > 0 ? sqrt(ss / n) : NAN;
      }
      break;
    }
    }
  }
}

/* One instruction of any kind, one lane (the single-lane loop's fallback). Kept out of line
 * so that exec1, which runs every step, keeps a small frame. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void
exec_one(const tr_program *p, const tr_instr *in, tr_vm *vm) {
  tr_code one = {(tr_instr *)in, 1, NULL, 0};
  exec(p, &one, vm, 1);
}

/* The binary operators on scalars, by name (TR_BINOPS), for the one-lane interpreter. */
#define OP_ADD(x, y) ((x) + (y))
#define OP_SUB(x, y) ((x) - (y))
#define OP_MUL(x, y) ((x) * (y))
#define OP_DIV(x, y) ((x) / (y))
#define OP_POWR(x, y) pow(x, y)
#define OP_MODR(x, y) modr(x, y)
#define OP_CEQ(x, y) (double)((x) == (y))
#define OP_CNE(x, y) (double)((x) != (y))
#define OP_CLT(x, y) (double)((x) < (y))
#define OP_CLE(x, y) (double)((x) <= (y))
#define OP_CGT(x, y) (double)((x) > (y))
#define OP_CGE(x, y) (double)((x) >= (y))
#define OP_LAND(x, y) (double)(((x) != 0) && ((y) != 0))
#define OP_LOR(x, y) (double)(((x) != 0) || ((y) != 0))
#define OP_MIN2(x, y) ((y) < (x) ? (y) : (x))
#define OP_MAX2(x, y) ((y) > (x) ? (y) : (x))

/* The one-lane interpreter over the lowered code (tr_ins1): the last result stays in `acc`,
 * operand modes are in the opcodes, and every result is also stored, so no flag is tested.
 * What has no one-lane opcode runs through exec_one. */
void tr_vm_exec1(const tr_program *p, const tr_code *code, tr_vm *vm) {
  double *v = vm->vals, dt = vm->dt;
  double acc = 0;
  for (const tr_ins1 *in = code->ins1;; in++) {
    switch (in->op) {
#define BIN1(N)                                                                                    \
  case TR_J_##N##_SS:                                                                              \
    acc = OP_##N(v[in->a], v[in->b]);                                                              \
    v[in->d] = acc;                                                                                \
    break;                                                                                         \
  case TR_J_##N##_AS:                                                                              \
    acc = OP_##N(acc, v[in->b]);                                                                   \
    v[in->d] = acc;                                                                                \
    break;                                                                                         \
  case TR_J_##N##_SA:                                                                              \
    acc = OP_##N(v[in->a], acc);                                                                   \
    v[in->d] = acc;                                                                                \
    break;
      TR_BINOPS(BIN1)
#undef BIN1
#define FUSED(N1, N2)                                                                              \
  case TR_J_##N1##_##N2##_L: {                                                                     \
    double t = OP_##N1(v[in->a], v[in->b]);                                                        \
    v[in->e] = t;                                                                                  \
    acc = OP_##N2(t, v[in->c]);                                                                    \
    v[in->d] = acc;                                                                                \
    break;                                                                                         \
  }                                                                                                \
  case TR_J_##N1##_##N2##_R: {                                                                     \
    double t = OP_##N1(v[in->a], v[in->b]);                                                        \
    v[in->e] = t;                                                                                  \
    acc = OP_##N2(v[in->c], t);                                                                    \
    v[in->d] = acc;                                                                                \
    break;                                                                                         \
  }
#define FUSED_ROW(N1) TR_ARITH_WITH(FUSED, N1)
      TR_ARITH(FUSED_ROW)
#undef FUSED_ROW
#undef FUSED
#define UN1(NAME, EXPR)                                                                            \
  case TR_J_##NAME##_S: {                                                                          \
    double x = v[in->a];                                                                           \
    acc = (EXPR);                                                                                  \
    v[in->d] = acc;                                                                                \
    break;                                                                                         \
  }                                                                                                \
  case TR_J_##NAME##_A: {                                                                          \
    double x = acc;                                                                                \
    acc = (EXPR);                                                                                  \
    v[in->d] = acc;                                                                                \
    break;                                                                                         \
  }
      UN1(MOV, x)
      UN1(NEG, -x)
      UN1(NOT, (double)(x == 0))
      UN1(MAX0, x > 0 ? x : 0.0)
      UN1(FN1, tr_vm_fn1(in->c, x))
      UN1(GF, tr_vm_lookup(p->gfs[in->c], x))
#undef UN1
    case TR_J_SELECT:
      acc = v[in->a] != 0 ? v[in->b] : v[in->c];
      v[in->d] = acc;
      break;
    case TR_J_EUL_IO:
      v[in->d] = v[in->d] + dt * (v[in->a] - v[in->b]);
      break;
    case TR_J_EUL_IN:
      v[in->d] = v[in->d] + dt * v[in->a];
      break;
    case TR_J_EUL_OUT:
      v[in->d] = v[in->d] - dt * v[in->a];
      break;
    case TR_J_EUL_GEN: {
      int f = p->flow_off[in->a], fo = p->flow_out[in->a], f1 = p->flow_off[in->a + 1];
      double net = f < fo ? v[p->flow_slot[f++]] : 0.0;
      for (; f < fo; f++)
        net += v[p->flow_slot[f]];
      for (; f < f1; f++)
        net -= v[p->flow_slot[f]];
      v[in->d] = v[in->d] + dt * net;
      break;
    }
    case TR_J_CLAMP:
      if (v[in->d] < 0) v[in->d] = 0;
      break;
    case TR_J_LANE:
      exec_one(p, &code->ins[in->a], vm);
      acc = v[in->d];
      break;
    case TR_J_END:
      return;
    default: /* every opcode has its case: lets the compiler drop the switch's range check */
      TR_UNREACHABLE();
    }
  }
}

int tr_vm_fast_op(int op) {
  return (op >= TR_I_MOV && op <= TR_I_FN1) || op == TR_I_MAX0 || op == TR_I_GF;
}

#if defined(__GNUC__)
__attribute__((noinline))
#endif
TR_VECTOR_CLONES static void
exec_lanes(const tr_program *p, const tr_code *code, tr_vm *vm) {
  exec(p, code, vm, vm->lanes);
}

void tr_vm_exec(const tr_program *p, const tr_code *code, tr_vm *vm) {
  if (vm->lanes == 1)
    tr_vm_exec1(p, code, vm);
  else
    exec_lanes(p, code, vm);
}
