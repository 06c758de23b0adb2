/*
 * Bulk memory: the large blocks a study writes once and reads back (the exact values of a
 * Monte Carlo study: tens to hundreds of MiB), on 2 MiB boundaries so that transparent huge
 * pages can back all of them, and the last one freed kept for the next study.
 *
 * Why keep one: the kernel hands out fresh memory zeroed, page by page as it is first written.
 * On a 10,000-run SIR study that zeroing (48 MiB) took a fifth of one thread's time, and it
 * hardly gets faster with more threads, as it is bound by memory bandwidth, not by the cores.
 * A process that runs studies one after another (the server while the owner moves a slider,
 * a benchmark) reuses the block of the one before instead. A one-off CLI run pays the
 * zeroing once, as before.
 *
 * At most one block is kept, of TR_BULK_MIN to TR_BULK_MAX bytes (the larger of the last two
 * freed); tr_bulk_release gives it back to the system. Safe to call from any thread.
 */
#ifndef TR_BASE_BULK_H
#define TR_BASE_BULK_H

#include <stddef.h>

#define TR_BULK_MIN ((size_t)4 << 20)   /* smaller blocks: malloc does well enough */
#define TR_BULK_MAX ((size_t)512 << 20) /* larger ones are not held when idle */

/* A block of at least `bytes` bytes, its size in *got (pass it to tr_bulk_free), or NULL when
 * memory is short. Its contents are undefined (a reused block holds the last study's data).
 * It counts as one allocation for failure injection (tr_alloc_fail_after), reused or not. */
void *tr_bulk_alloc(size_t bytes, size_t *got);

/* Give back a block from tr_bulk_alloc with the size it reported (NULL is a no-op), to be
 * kept. tr_free(p) returns it to the system instead. */
void tr_bulk_free(void *p, size_t bytes);

/* Free the kept block, if any: at exit, or when memory matters more than the next study. */
void tr_bulk_release(void);

/* Ask the C library to keep freed heap memory for reuse instead of returning it to the
 * system at once (glibc: mallopt; elsewhere a no-op). A study allocates and frees a few MiB
 * of scratch (simulators, rows, histograms); by default glibc gives freed memory at the top
 * of the heap back and maps blocks over 128 KiB afresh, so every study of a process took 200
 * to 400 page faults for zeroed pages again, up to 5% of a 10,000-run study on 2 threads in a
 * virtual machine. Up to 64 MiB of freed heap is then kept. Process-wide: for programs
 * (the CLI, the server, the benchmarks), not for a library's callers to have imposed. */
void tr_bulk_keep_heap(void);

/* Bytes of the kept block (0: none), for tests. */
size_t tr_bulk_kept(void);

#endif
