/* Files embedded at build time (tools/embed.c writes the tables): the web assets the server
 * serves, and the sector templates `tightrope init` copies ("saas/model.xmile", ...). */
#ifndef TR_SERVER_ASSETS_H
#define TR_SERVER_ASSETS_H

#include <stddef.h>

typedef struct tr_asset {
  const char *name;          /* URL path without the leading '/', e.g. "app.js" */
  const char *mime;          /* Content-Type */
  const unsigned char *data; /* bytes */
  long size;
} tr_asset;

extern const tr_asset tr_assets[];
extern const int tr_assets_count;
extern const tr_asset tr_templates[];
extern const int tr_templates_count;

/* The web asset with this name, or NULL. */
const tr_asset *tr_asset_find(const char *name);

#endif
