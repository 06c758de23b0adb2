/*
 * The libFuzzer entry point every target in tests/fuzz/ defines. Built two ways:
 *  - with clang -fsanitize=fuzzer (make fuzz): libFuzzer's main mutates inputs;
 *  - with replay.c (make test): a plain main that feeds the committed corpus and crash files
 *    through the same function, so regressions are caught without clang.
 * A target returns 0 and must never crash, leak, hang or abort on any input; a target may
 * abort() on purpose when an invariant of the code under test fails.
 */
#ifndef TR_FUZZ_H
#define TR_FUZZ_H

#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* nftw */
#endif

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline int fuzz_rm_entry(const char *path, const struct stat *st, int flag,
                                struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Remove a scratch folder and everything in it. */
static inline void fuzz_rm_tree(const char *dir) {
  nftw(dir, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Make a fresh scratch folder BASE/NAME.PID for this process in `out`. libFuzzer ends a run
 * without calling atexit handlers, so first remove the NAME.PID folders of processes that no
 * longer exist (those of fuzzers still running are left alone). Returns 0 or -1. */
static inline int fuzz_scratch_dir(const char *base, const char *name, char *out, size_t cap) {
  size_t nl = strlen(name);
  DIR *d = opendir(base);
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, name, nl) != 0 || e->d_name[nl] != '.') continue;
    char *end;
    long pid = strtol(e->d_name + nl + 1, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == (long)getpid()) continue;
    if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", base, e->d_name);
    fuzz_rm_tree(path);
  }
  if (d) closedir(d);
  snprintf(out, cap, "%s/%s.%ld", base, name, (long)getpid());
  fuzz_rm_tree(out);
  return mkdir(out, 0700);
}

#endif
