/*
 * Fuzz target: the plan loader (tr_plan_load_buffer: libyaml events -> document tree ->
 * schema validation -> strategy map checks). Every outcome is a plan or an error with a
 * message; a plan can be checked against a list of model names without crashing.
 */
#include "fuzz.h"

#include "tightrope/strategy.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_error err;
  tr_error_clear(&err);
  tr_plan *plan = NULL;
  int rc = tr_plan_load_buffer((const char *)data, size, "fuzz.yaml", &plan, &err);
  if (rc > 0 || (rc < 0 && (err.code != rc || err.msg[0] == '\0'))) abort();
  if ((rc == TR_OK) != (plan != NULL)) abort();
  if (plan) {
    static const char *const names[] = {"Revenue", "Customers", "Cash", "churn rate"};
    tr_error_clear(&err);
    rc = tr_plan_check_names(plan, names, 4, &err);
    if (rc > 0 || (rc < 0 && err.msg[0] == '\0')) abort();
  }
  tr_plan_free(plan);
  return 0;
}
