/*
 * Loading a model: XMILE reader -> flattener -> compiler, behind the public tr_model handle.
 * Kept apart from sim.c so that the run machinery links without the reader (unit tests build
 * their flat models by hand).
 */
#include "engine/engine_impl.h"

#include "xmile/model.h"

static int finish(tr_xmile *x, int rc, tr_model **out, tr_error *err) {
  *out = NULL;
  if (rc) return rc;
  tr_model *m = tr_calloc(1, sizeof *m);
  if (!m) {
    tr_xmile_free(x);
    return tr_error_set(err, TR_ERR_NOMEM, NULL, 0, 0, "out of memory while loading a model");
  }
  m->x = x;
  tr_arena_init(&m->arena);
  rc = tr_flatten(x, &m->arena, &m->flat, err);
  if (rc == TR_OK) rc = tr_compile(&m->flat, &m->arena, &m->prog, err);
  if (rc) {
    tr_model_free(m);
    return rc;
  }
  *out = m;
  return TR_OK;
}

int tr_model_load_file(const char *path, tr_model **out, tr_error *err) {
  tr_xmile *x = NULL;
  int rc = tr_xmile_read_file(path, &x, err);
  return finish(x, rc, out, err);
}

int tr_model_load_buffer(const char *buf, size_t len, const char *name, tr_model **out,
                         tr_error *err) {
  tr_xmile *x = NULL;
  int rc = tr_xmile_read_buffer(buf, len, name, &x, err);
  return finish(x, rc, out, err);
}

void tr_model_free(tr_model *m) {
  if (!m) return;
  tr_arena_release(&m->arena);
  tr_xmile_free(m->x);
  tr_free(m);
}
