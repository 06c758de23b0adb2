/*
 * Fuzz target: the XMILE reader on its own (tr_xmile_read_buffer), then the whole engine path
 * on the same bytes — load (read, flatten, compile) with tr_model_load_buffer and, when that
 * succeeds, a short run. Every outcome must be TR_OK or an error with a message; the run is
 * capped at a few thousand steps so a model with a tiny dt cannot stall the fuzzer.
 */
#include "fuzz.h"

#include "tightrope/engine.h"
#include "xmile/model.h"

#include <math.h>
#include <stdlib.h>

#define MAX_STEPS 2000.0

/* A failed call must say why: an error code always comes with a message. */
static void check_error(int rc, const tr_error *err) {
  if (rc > 0 || (rc < 0 && (err->code != rc || err->msg[0] == '\0'))) abort();
}

static void run_short(const tr_model *m) {
  tr_sim_opts o = tr_model_default_opts(m);
  if (!(o.dt > 0) || !isfinite(o.dt) || !isfinite(o.start) || !isfinite(o.stop)) return;
  if ((o.stop - o.start) / o.dt > MAX_STEPS) o.stop = o.start + MAX_STEPS * o.dt;
  o.save_step = 0;
  tr_error err;
  tr_error_clear(&err);
  tr_sim *s = NULL;
  int rc = tr_sim_new(m, &o, &s, &err);
  check_error(rc, &err);
  if (rc == TR_OK) {
    rc = tr_sim_run(s);
    if (rc != TR_OK && rc != TR_ERR_MATH && rc != TR_ERR_NOMEM && rc != TR_ERR_LIMIT) abort();
    size_t n = tr_sim_saved_count(s);
    if (rc == TR_OK && (n == 0 || tr_sim_times(s) == NULL)) abort();
  }
  tr_sim_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tr_error err;
  tr_error_clear(&err);
  tr_xmile *x = NULL;
  int rc = tr_xmile_read_buffer((const char *)data, size, "fuzz.xmile", &x, &err);
  check_error(rc, &err);
  if ((rc == TR_OK) != (x != NULL)) abort();
  tr_xmile_free(x);

  tr_error_clear(&err);
  tr_model *m = NULL;
  rc = tr_model_load_buffer((const char *)data, size, "fuzz.xmile", &m, &err);
  check_error(rc, &err);
  if ((rc == TR_OK) != (m != NULL)) abort();
  if (m) run_short(m);
  tr_model_free(m);
  return 0;
}
