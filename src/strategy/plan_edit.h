/*
 * Editing plan.yaml in place: the dashboard's lever sliders save the lever's `current`
 * value back into the owner's file. The edit is textual — only the number after the
 * tension's `current:` changes, so comments, order and formatting survive — then the new
 * text is validated by loading it, and only then written: to a temporary file in the same
 * folder, flushed, and renamed over the plan (atomic on POSIX), so a crash leaves either the
 * old or the new plan, never a torn one.
 */
#ifndef TR_STRATEGY_PLAN_EDIT_H
#define TR_STRATEGY_PLAN_EDIT_H

#include "tightrope/strategy.h"

/* Set the `current` share of the levers of tensions ids[i] to values[i] (n pairs) in the plan
 * file `path`, whose loaded form is `plan`. Errors: TR_ERR_NOT_FOUND (no tension with that
 * id), TR_ERR_INVALID (a value outside the lever's range, or a `current:` key that cannot be
 * found as plain text), the loader's errors if the edited plan does not validate, TR_ERR_IO.
 * On any error the file is unchanged. Not thread-safe for the same file: callers serialise. */
int tr_plan_set_levers(const char *path, const tr_plan *plan, const char *const *ids,
                       const double *values, size_t n, tr_error *err);

#endif
