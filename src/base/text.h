/* Small text utilities shared by the CLI ("did you mean") and the model compiler. */
#ifndef TR_BASE_TEXT_H
#define TR_BASE_TEXT_H

#include <stddef.h>

/* Levenshtein distance between a and b, case-insensitive (ASCII). */
size_t tr_edit_distance(const char *a, const char *b);

/* The candidate closest to `name` (case-insensitive edit distance), or NULL when none is
 * close enough to be a plausible typo (distance > max(2, strlen(name)/3)); failing that, the
 * one candidate that contains `name` (3 characters or more), as a shortened name. */
const char *tr_closest(const char *name, const char *const *candidates, size_t n);

#endif

/* The canonical form of an XMILE identifier, used for every name lookup: surrounding double
 * quotes removed, backslash escapes resolved ("\\n" and a raw newline become a space, "\\\""
 * a quote), ASCII letters lower-cased (UTF-8 bytes kept as they are), and every run of
 * spaces, tabs, newlines and underscores replaced by one '_', trimmed at both ends. A '.'
 * separating a module name from a variable is kept. `out` receives at most cap-1 bytes;
 * returns the length the full result needs (like snprintf). */
size_t tr_canon_ident(const char *raw, size_t len, char *out, size_t cap);
