/* webui — see webui.h. */
#include "scheduler/webui.h"

#include <string.h>

const webui_file_t *
webui_find(const char *path)
{
    if (!path || strcmp(path, "/") == 0) {
        path = "/index.html";
    }
    for (size_t i = 0; i < webui_nfiles; i++) {
        if (strcmp(webui_files[i].path, path) == 0) {
            return &webui_files[i];
        }
    }
    return NULL;
}

static int
s_serve(http_req_t *req, void *arg)
{
    (void) arg;
    const webui_file_t *file = webui_find(http_req_path(req));
    if (!file) {
        return http_reply_error(req, 404,
                                "no such page: %s; the web UI "
                                "starts at /",
                                http_req_path(req));
    }
    return http_reply(req, 200, file->content_type, file->data, file->size);
}

static const http_route_t s_routes[] = {
    {"GET", "/", HTTP_ROLE_NONE, s_serve},
    {"GET", "/{file}", HTTP_ROLE_NONE, s_serve},
};

void
webui_routes(http_t *http)
{
    http_add_routes(http, s_routes, sizeof s_routes / sizeof s_routes[0], NULL);
}
