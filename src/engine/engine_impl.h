/*
 * Private to the engine: the compiled program (compile.c), the batched VM (vm.c) and the
 * run state (sim.c). Public users see only the opaque handles of include/tightrope/engine.h.
 *
 * Slots. Every value the VM touches lives in a slot; a slot holds one double per lane, laid
 * out slot-major (`vals[slot * lanes + lane]`) so that every instruction is a tight loop over
 * contiguous lanes. Slot numbering:
 *   [0, n_vars)                    one per flat variable (its value at the current time)
 *   [n_vars, n_vars + 4)           TIME, DT, STARTTIME, STOPTIME
 *   [n_vars + 4, n_fixed)          literals and per-call state (INIT, PREVIOUS, DELAY output,
 *                                  held random draws, PREVIOUS pending values)
 *   [n_fixed, n_slots)             temporaries, reused from one equation to the next
 * Slots [0, n_fixed) start every run from `slot_init` (literals, constants' default values)
 * overridden per lane by the run's constant settings.
 */
#ifndef TR_ENGINE_ENGINE_IMPL_H
#define TR_ENGINE_ENGINE_IMPL_H

#include "base/rng.h"
#include "engine/flat.h"
#include "tightrope/engine.h"

#include <stdint.h>

enum { TR_SLOT_TIME = 0, TR_SLOT_DT = 1, TR_SLOT_START = 2, TR_SLOT_STOP = 3, TR_N_SPECIAL = 4 };

typedef enum {
  TR_I_MOV, /* d = a */
  TR_I_ADD, /* d = a + b, and the other binary operators below */
  TR_I_SUB,
  TR_I_MUL,
  TR_I_DIV,
  TR_I_POWR,
  TR_I_MODR,
  TR_I_CEQ,
  TR_I_CNE,
  TR_I_CLT,
  TR_I_CLE,
  TR_I_CGT,
  TR_I_CGE,
  TR_I_LAND,
  TR_I_LOR,
  TR_I_MIN2,
  TR_I_MAX2,
  TR_I_NEGR,     /* d = -a */
  TR_I_LNOT,     /* d = !a */
  TR_I_FN1,      /* d = fn(a), fn a tr_builtin_id of a one-argument math builtin */
  TR_I_SELECT,   /* d = a ? b : c (both branches evaluated: lanes cannot branch) */
  TR_I_SAFEDIV,  /* d = b != 0 ? a / b : (c >= 0 ? c : 0) */
  TR_I_MAX0,     /* d = max(a, 0): uniflows */
  TR_I_GF,       /* d = lookup(gfs[aux], a) */
  TR_I_STEPF,    /* d = TIME >= b ? a : 0 */
  TR_I_RAMP,     /* d = TIME >= b ? a * (TIME - b) : 0 */
  TR_I_PULSE,    /* d = a / DT when a pulse (first b, interval c; c < 0: none) fires, else 0;
                   d is the call's state slot, held through Runge-Kutta stages */
  TR_I_INIT,     /* in the initial phase only: d = a (d is the call's state slot) */
  TR_I_PREVINIT, /* initial phase only: d = a; PREVIOUS(x) without a second argument is 0 */
  TR_I_DELAY,    /* d = a delayed by b (initial c, or a's initial value when c < 0); aux: history */
  TR_I_RANDOM,   /* d = a draw of distribution fn over slots args[aux..aux+b); c: seeded index */
  TR_I_STDDEV    /* d = population standard deviation (divide by n) of args[aux..aux+b) */
} tr_opcode;

typedef struct tr_instr {
  int op;      /* tr_opcode */
  int fn;      /* FN1, RANDOM: tr_builtin_id */
  int d;       /* destination slot */
  int a, b, c; /* operand slots (-1 = absent) */
  int aux;     /* GF: gf index; DELAY: history index; RANDOM, STDDEV: offset into args */
  int flags;   /* TR_IF_*: single-lane hints from the peephole pass (ignored with lanes > 1) */
} tr_instr;

/* Single-lane register hints: the one-lane interpreter keeps the last result in a register,
 * so an operand that the previous instruction just produced is read from there (no
 * store-to-load round trip). With several lanes every value goes through its slot. */
enum { TR_IF_ACC_A = 1, TR_IF_ACC_B = 2 };

/* The binary operators, in tr_opcode order (TR_I_ADD..TR_I_MAX2), and the four of them that
 * the one-lane code fuses in pairs. */
/* clang-format off */
#define TR_BINOPS(X)                                                                               \
  X(ADD) X(SUB) X(MUL) X(DIV) X(POWR) X(MODR) X(CEQ) X(CNE) X(CLT) X(CLE) X(CGT) X(CGE) X(LAND)   \
  X(LOR) X(MIN2) X(MAX2)
/* clang-format on */
#define TR_ARITH(X) X(ADD) X(SUB) X(MUL) X(DIV)
#define TR_ARITH_WITH(X, FIRST) X(FIRST, ADD) X(FIRST, SUB) X(FIRST, MUL) X(FIRST, DIV)

/* One-lane opcodes (tr_ins1.op). The operand modes are part of the opcode, so the
 * interpreter tests no flags: _S reads a slot, _A the register holding the previous result
 * (_SS: a and b from slots; _AS: a from the register; _SA: b from the register). Every
 * result is also stored into its slot. Fused pairs: (a OP1 b) OP2 c (_L) or c OP2 (a OP1 b)
 * (_R), the inner result also stored into slot e. TR_J_LANE runs lane instruction a of the
 * block with the batched interpreter. The Euler opcodes neither read nor set the register. */
#define TR_J_BIN3(N) TR_J_##N##_SS, TR_J_##N##_AS, TR_J_##N##_SA,
#define TR_J_FUSED(N1, N2) TR_J_##N1##_##N2##_L, TR_J_##N1##_##N2##_R,
#define TR_J_FUSED_ROW(N1) TR_ARITH_WITH(TR_J_FUSED, N1)
enum {
  TR_J_LANE,
  TR_J_MOV_S,
  TR_J_MOV_A,
  TR_J_NEG_S,
  TR_J_NEG_A,
  TR_J_NOT_S,
  TR_J_NOT_A,
  TR_J_MAX0_S,
  TR_J_MAX0_A,
  TR_J_FN1_S, /* c: the builtin */
  TR_J_FN1_A,
  TR_J_GF_S, /* c: the graphical function's index */
  TR_J_GF_A,
  TR_J_SELECT, /* d = a != 0 ? b : c, all slots */
  /* Euler (one lane, any order of stocks: each update reads only its stock and flows) */
  TR_J_EUL_IO,  /* stock d += dt * (a - b): one inflow, one outflow */
  TR_J_EUL_IN,  /* d + dt * a: one flow, an inflow */
  TR_J_EUL_OUT, /* d - dt * a: one flow, an outflow */
  TR_J_EUL_GEN, /* d + dt * (net flow of stock number a) */
  TR_J_CLAMP,   /* d = 0 when d < 0: non-negative stocks, after every update */
  TR_J_END,     /* after the last instruction of every block (not counted in n1) */
  TR_BINOPS(TR_J_BIN3) TR_ARITH(TR_J_FUSED_ROW) TR_J_COUNT
};
#undef TR_J_BIN3
#undef TR_J_FUSED
#undef TR_J_FUSED_ROW

/* One instruction of the one-lane code. */
typedef struct tr_ins1 {
  int op;      /* TR_J_* */
  int d;       /* destination slot */
  int a, b, c; /* operand slots (see the opcodes) */
  int e;       /* fused pairs: slot of the inner result */
} tr_ins1;

/* How a variable is computed. */
typedef enum {
  TR_VC_GF,      /* a standalone graphical function: no value */
  TR_VC_CONST,   /* a number (possibly a folded constant expression): settable per lane */
  TR_VC_STATIC,  /* depends only on constants and initial values: computed once per run */
  TR_VC_DYNAMIC, /* recomputed every step (and every Runge-Kutta stage) */
  TR_VC_STOCK    /* integrated */
} tr_var_class;

/* A block of code: for any number of lanes, and the same block lowered for one lane. */
typedef struct tr_code {
  tr_instr *ins;
  size_t n;
  tr_ins1 *ins1; /* [n1 + 1]: ends with TR_J_END */
  size_t n1;
} tr_code;

/* The compiled program: immutable after tr_compile, shareable read-only between threads. */
typedef struct tr_program {
  const tr_flat *flat;
  size_t n_vars;
  size_t n_fixed;        /* slots with a per-run initial value */
  size_t n_slots;        /* including temporaries */
  double *slot_init;     /* [n_fixed]: literals and constants' defaults (0 elsewhere) */
  unsigned char *vclass; /* [n_vars]: tr_var_class */
  tr_code init;          /* initial values of everything, in initial-value order */
  tr_code step;          /* dynamic auxiliaries and flows, in dependency order */
  tr_code post;          /* PREVIOUS arguments into their pending slots, after each step */
  tr_code step_full;     /* static and dynamic variables: the step when constants vary in time */
  /* One lane only: the Euler update of every stock (no lane code), and the same followed by
   * `step` in one block (ins and n are the step's: TR_J_LANE instructions index them). */
  tr_code euler;
  tr_code euler_step;
  int *prev_state;   /* [n_prev]: PREVIOUS state slots ... */
  int *prev_pending; /* ... and the pending slots committed into them at the next step */
  size_t n_prev;
  int *stocks; /* [n_stocks]: stock variable indices (= slots) */
  size_t n_stocks;
  int *flow_off; /* [n_stocks + 1]: CSR offsets into flow_slot/flow_sign */
  int *flow_out; /* [n_stocks]: where stock i's outflows start (inflows come first) */
  int *flow_slot;
  double *flow_sign;           /* +1 inflow, -1 outflow */
  unsigned char *stock_nonneg; /* [n_stocks] */
  const tr_gf **gfs;           /* graphical functions used by TR_I_GF */
  size_t n_gfs;
  int *args; /* operand lists of variadic instructions */
  size_t n_args;
  size_t n_delays; /* DELAY histories */
  int nan_sources; /* some instruction can make NaN without a floating-point flag (lookups,
                      random draws, STDDEV of nothing): see tr_sim_run */
  size_t n_seeded; /* random calls with a seed argument */
  uint64_t *seeds; /* [n_seeded] */
} tr_program;

/* Compile a flat model (which must outlive the program) into a program allocated in `a`.
 * Errors: TR_ERR_CYCLE (naming the members, at the position of one of them),
 * TR_ERR_UNSUPPORTED (a construct the flattener should have expanded, a non-constant seed),
 * TR_ERR_INVALID (a graphical function used as a value), TR_ERR_NOMEM. */
int tr_compile(const tr_flat *f, tr_arena *a, tr_program *out, tr_error *err);

/* Evaluation phases: the initial evaluation, a step point, or a Runge-Kutta stage (where
 * random draws and histories are held, not advanced). */
typedef enum { TR_PH_INIT, TR_PH_STEP, TR_PH_STAGE } tr_phase;

/* Per-run VM context: everything the instructions read besides the slots. */
typedef struct tr_vm {
  double *vals; /* [n_slots * lanes] */
  size_t lanes;
  tr_phase phase;
  long step;   /* index of the current step point (histories are indexed by it) */
  double time; /* TIME of this evaluation */
  double start;
  double dt;
  double *hist;    /* [n_delays][steps + 1][lanes] DELAY input histories */
  size_t hist_len; /* steps + 1 */
  tr_rng *rng;     /* [lanes]: the run's streams */
  tr_rng *seeded;  /* [n_seeded][lanes]: streams of calls with a seed argument */
} tr_vm;

/* Run one code block over all lanes. Never allocates. */
void tr_vm_exec(const tr_program *p, const tr_code *code, tr_vm *vm);
/* The same for a VM of one lane (vm->lanes == 1): the block's one-lane code (ins1), which
 * may hold one-lane-only opcodes (the Euler blocks). Never allocates. */
void tr_vm_exec1(const tr_program *p, const tr_code *code, tr_vm *vm);

/* One-argument math builtin (shared by constant folding and the VM). */
double tr_vm_fn1(int fn, double x);
/* Binary operator (tr_opcode TR_I_ADD..TR_I_MAX2) on scalars, for constant folding. */
double tr_vm_binop(int op, double x, double y);
/* 1 when the single-lane interpreter runs op with the TR_IF_* register hints: MOV, the
 * binary operators, NEG, NOT, FN1, MAX0 and GF (operands a, and b for binary ones). */
int tr_vm_fast_op(int op);
/* Graphical function lookup: continuous (clamped), extrapolate, discrete. */
double tr_vm_lookup(const tr_gf *g, double x);

/* The loaded model behind the public handle. */
struct tr_model {
  tr_xmile *x;    /* owned, NULL for a model built from a flat given by a test */
  tr_arena arena; /* the flat model and the program */
  tr_flat flat;
  tr_program prog;
};

#endif
