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
 * store-to-load round trip), and a temporary whose only reader is the next instruction is
 * never stored. With several lanes every value goes through its slot. */
enum { TR_IF_ACC_A = 1, TR_IF_ACC_B = 2, TR_IF_NO_STORE = 4 };

/* How a variable is computed. */
typedef enum {
  TR_VC_GF,      /* a standalone graphical function: no value */
  TR_VC_CONST,   /* a number (possibly a folded constant expression): settable per lane */
  TR_VC_STATIC,  /* depends only on constants and initial values: computed once per run */
  TR_VC_DYNAMIC, /* recomputed every step (and every Runge-Kutta stage) */
  TR_VC_STOCK    /* integrated */
} tr_var_class;

typedef struct tr_code {
  tr_instr *ins;
  size_t n;
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
  int *prev_state;       /* [n_prev]: PREVIOUS state slots ... */
  int *prev_pending;     /* ... and the pending slots committed into them at the next step */
  size_t n_prev;
  int *stocks; /* [n_stocks]: stock variable indices (= slots) */
  size_t n_stocks;
  int *flow_off; /* [n_stocks + 1]: CSR offsets into flow_slot/flow_sign */
  int *flow_out; /* [n_stocks]: where stock i's outflows start (inflows come first) */
  int *flow_slot;
  double *flow_sign;           /* +1 inflow, -1 outflow */
  unsigned char *stock_nonneg; /* [n_stocks] */
  /* The one-lane Euler plan: stocks grouped by the shape of their net flow, each group a
   * branch-free loop (the order of stock updates does not matter: each reads only its own
   * value and flows). Non-negative stocks are clamped after all updates. */
  int *eu_io; /* [3 n_eu_io]: stock, inflow, outflow (s + dt * (in - out)) */
  size_t n_eu_io;
  int *eu_in; /* [2 n_eu_in]: stock, its one flow, an inflow (s + dt * in) */
  size_t n_eu_in;
  int *eu_out; /* [2 n_eu_out]: stock, its one flow, an outflow (s - dt * out) */
  size_t n_eu_out;
  int *eu_gen; /* [n_eu_gen]: indices into `stocks` of the others (the CSR sum) */
  size_t n_eu_gen;
  int *eu_nonneg; /* [n_eu_nonneg]: slots of the non-negative stocks */
  size_t n_eu_nonneg;
  const tr_gf **gfs;           /* graphical functions used by TR_I_GF */
  size_t n_gfs;
  int *args; /* operand lists of variadic instructions */
  size_t n_args;
  size_t n_delays; /* DELAY histories */
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
