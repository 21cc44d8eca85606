/* webui — the web UI's static files (web/ in the source tree), compiled
 * into the executable by mk/embed.sh, and the routes that serve them. */
#ifndef SLUICE_WEBUI_H
#define SLUICE_WEBUI_H

#include <stddef.h>

#include "scheduler/http.h"

typedef struct {
    const char *path;          /* served at, e.g. "/app.js" */
    const char *content_type;  /* e.g. "text/javascript; charset=utf-8" */
    const unsigned char *data; /* size bytes, then a NUL */
    size_t size;
} webui_file_t;

/* The generated table (build/.../gen/web_assets.c). */
extern const webui_file_t webui_files[];
extern const size_t webui_nfiles;

/* The file served at path ("/" is "/index.html"); NULL when none. */
const webui_file_t *webui_find(const char *path);

/* GET / and GET /FILE for the files at the top of web/, open to all (the
 * pages ask the API, which wants a token). Register last: "/{file}" would
 * otherwise catch other one-segment routes. */
void webui_routes(http_t *http);

#endif
