/* paths — see paths.h. */
#include "worker/paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/datahash.h"
#include "common/xalloc.h"

/* Appends the components of rest to out (absolute, no trailing '/'),
 * '.' skipped. -1 at a '..': below a part that does not exist yet, the
 * kernel would follow whatever is created there first (a symlink, say), so
 * where it leads cannot be known now. */
static int
s_append(char **out, const char *rest)
{
    char *copy = xstrdup(rest);
    char *save = NULL;
    int rc = 0;
    for (char *c = strtok_r(copy, "/", &save); c && rc == 0;
         c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, ".")) {
            continue;
        }
        if (!strcmp(c, "..")) {
            rc = -1;
            continue;
        }
        char *longer = xasprintf("%s%s%s", *out,
                                 (*out)[strlen(*out) - 1] == '/' ? "" : "/", c);
        free(*out);
        *out = longer;
    }
    free(copy);
    return rc;
}

char *
paths_resolve(const char *path, const char *base, errbuf_t *err)
{
    if (!path || !*path) {
        errbuf_set(err, "an empty path was declared as an input or output");
        return NULL;
    }
    char *full = path[0] == '/' ? xstrdup(path)
                                : xasprintf("%s/%s", base ? base : "/", path);
    /* Shorten full at each '/' from the end until a leading part exists:
     * it is resolved by the kernel, the rest by name. */
    size_t cut = strlen(full);
    char *out = NULL;
    while (!out) {
        char saved = full[cut];
        full[cut] = '\0';
        out = realpath(cut ? full : "/", NULL);
        full[cut] = saved;
        if (out) {
            break;
        }
        while (cut > 0 && full[--cut] != '/') {
        }
    }
    char *found = xstrdup(out);
    if (s_append(&out, full + cut) < 0) {
        errbuf_set(err,
                   "'%s' has a '..' below a part that does not exist yet "
                   "(only '%s' does); declare the path without '..'",
                   path, found);
        free(out);
        out = NULL;
    }
    free(found);
    free(full);
    return out;
}

bool
paths_under(const char *resolved, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/') {
        return resolved[0] == '/';
    }
    return strncmp(resolved, root, n) == 0 &&
           (resolved[n] == '\0' || resolved[n] == '/');
}

/* "'/a', '/b'" for a message. Caller owns the result. */
static char *
s_roots_text(char *const *roots, size_t nroots)
{
    char *text = xstrdup("");
    for (size_t i = 0; i < nroots; i++) {
        char *longer = xasprintf("%s%s'%s'", text, i ? ", " : "", roots[i]);
        free(text);
        text = longer;
    }
    return text;
}

int
paths_check(const char *path,
            const char *work_dir,
            char *const *roots,
            size_t nroots,
            errbuf_t *err)
{
    char *abs = datahash_resolve(path, work_dir, err);
    if (!abs) {
        return -1;
    }
    char *real = paths_resolve(abs, NULL, err);
    char *dir = real ? paths_resolve(work_dir, NULL, err) : NULL;
    bool ok = real && dir && paths_under(real, dir);
    for (size_t i = 0; real && i < nroots && !ok; i++) {
        ok = paths_under(real, roots[i]);
    }
    if (!ok && real && dir) {
        char *list = s_roots_text(roots, nroots);
        char *via = strcmp(real, abs) ? xasprintf(" leads to '%s', which", real)
                                      : xstrdup("");
        errbuf_set(err,
                   "declared path '%s'%s is outside this worker's data roots "
                   "(%s) and the attempt's work dir; use a path under one of "
                   "them",
                   path, via, list);
        free(via);
        free(list);
    }
    free(dir);
    free(real);
    free(abs);
    return ok ? 0 : -1;
}
