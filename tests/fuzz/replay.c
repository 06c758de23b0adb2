/*
 * Replay driver: runs a fuzz target's LLVMFuzzerTestOneInput over files and folders given
 * on the command line (folders: every regular file in them, in name order), so `make test`
 * replays the committed corpora and crash files without clang or libFuzzer. Prints one TAP
 * line per folder or file argument; a crash ends the process (and the suite reports it).
 * Usage: replay PATH...
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Read a whole file into a malloc'd buffer (plain malloc: the target's own allocations go
 * through tr_malloc and must not be disturbed). Returns NULL on error. */
static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    uint8_t *nb = realloc(buf, cap * 2);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

static int run_file(const char *path) {
  size_t len = 0;
  uint8_t *buf = slurp(path, &len);
  if (!buf) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    return 1;
  }
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of a folder, in name order. Returns the number of files, -1 on error. */
static long run_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nn = realloc(names, cap * sizeof *names);
      if (!nn) break;
      names = nn;
    }
    names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
    if (!names[n]) break;
    sprintf(names[n], "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_names);
  long count = 0, bad = 0;
  for (size_t i = 0; i < n; i++) {
    struct stat st;
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
      bad += run_file(names[i]);
      count++;
    }
    free(names[i]);
  }
  free(names);
  return bad ? -1 : count;
}

int main(int argc, char **argv) {
  int failed = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE-OR-FOLDER...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      printf("not ok %d - %s: no such file or folder\n", i, argv[i]);
      failed = 1;
    } else if (S_ISDIR(st.st_mode)) {
      long n = run_dir(argv[i]);
      if (n < 0) {
        printf("not ok %d - %s: unreadable\n", i, argv[i]);
        failed = 1;
      } else {
        printf("ok %d - %s: %ld inputs replayed\n", i, argv[i], n);
      }
    } else if (run_file(argv[i])) {
      printf("not ok %d - %s: unreadable\n", i, argv[i]);
      failed = 1;
    } else {
      printf("ok %d - %s replayed\n", i, argv[i]);
    }
    fflush(stdout);
  }
  return failed;
}
