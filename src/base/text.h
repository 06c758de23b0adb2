/* Small text utilities shared by the CLI ("did you mean") and the model compiler. */
#ifndef TR_BASE_TEXT_H
#define TR_BASE_TEXT_H

#include <stddef.h>

/* Levenshtein distance between a and b, case-insensitive (ASCII). */
size_t tr_edit_distance(const char *a, const char *b);

/* The candidate closest to `name` (case-insensitive edit distance), or NULL when none is
 * close enough to be a plausible typo (distance > max(2, strlen(name)/3)). */
const char *tr_closest(const char *name, const char *const *candidates, size_t n);

#endif
