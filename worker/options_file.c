/* options_file — the worker's config.yaml: the settings an operator keeps
 * with a worker instead of repeating them as flags (see options.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/statedir.h"
#include "common/xalloc.h"
#include "common/yamldoc.h"
#include "worker/options.h"

#define OPTIONS_FILE_MAX (64 * 1024)

static const char *const s_keys[] = {"data_roots", "run_as_range", "run_as"};

/* Reads the whole file into *text; 0 when it does not exist (*text NULL). */
static int
s_read(const char *path, char **text, size_t *size, errbuf_t *err)
{
    *text = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) {
            return 0;
        }
        errbuf_set(err, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    *text = xmalloc(OPTIONS_FILE_MAX + 1);
    *size = fread(*text, 1, OPTIONS_FILE_MAX + 1, f);
    fclose(f);
    if (*size > OPTIONS_FILE_MAX) {
        errbuf_set(err,
                   "'%s' is over %d bytes; a worker's config is a few "
                   "lines",
                   path, OPTIONS_FILE_MAX);
        xfree(text);
        return -1;
    }
    (*text)[*size] = '\0';
    return 0;
}

static int
s_bad(const char *path,
      const yamldoc_node_t *at,
      const char *what,
      errbuf_t *err)
{
    errbuf_set(err, "%s:%zu:%zu: %s", path, at->line, at->col, what);
    return -1;
}

/* data_roots: a list of directories, used unless --data-root was given. */
static int
s_data_roots(options_t *o,
             const char *path,
             const yamldoc_node_t *value,
             errbuf_t *err)
{
    if (value->type != YAMLDOC_SEQ) {
        return s_bad(path, value,
                     "'data_roots' is a list of directories, "
                     "e.g. [/data, /scratch]",
                     err);
    }
    for (size_t i = 0; i < value->count; i++) {
        if (value->items[i]->type != YAMLDOC_SCALAR) {
            return s_bad(path, value->items[i],
                         "each of 'data_roots' is a directory path", err);
        }
    }
    if (o->ndata_roots > 0) {
        return 0; /* the flags win */
    }
    o->data_roots = xcalloc(value->count + 1, sizeof *o->data_roots);
    for (size_t i = 0; i < value->count; i++) {
        o->data_roots[o->ndata_roots++] = value->items[i]->value;
    }
    return 0;
}

static int
s_key(options_t *o,
      const char *path,
      const yamldoc_node_t *key,
      const yamldoc_node_t *value,
      errbuf_t *err)
{
    if (!strcmp(key->value, "data_roots")) {
        return s_data_roots(o, path, value, err);
    }
    bool known =
        !strcmp(key->value, "run_as_range") || !strcmp(key->value, "run_as");
    if (!known) {
        const char *hint = yamldoc_suggest(key->value, s_keys, 3);
        char what[256];
        snprintf(what, sizeof what, "unknown setting '%s'; %s%s%s", key->value,
                 hint ? "did you mean '"
                      : "a worker's config.yaml knows "
                        "data_roots, run_as_range and "
                        "run_as",
                 hint ? hint : "", hint ? "'?" : "");
        return s_bad(path, key, what, err);
    }
    if (value->type != YAMLDOC_SCALAR) {
        return s_bad(path, value, "this setting is one value", err);
    }
    bool flags_chose = o->run_as || o->run_as_range;
    if (!flags_chose && !strcmp(key->value, "run_as")) {
        o->run_as = value->value;
    } else if (!flags_chose) {
        o->run_as_range = value->value;
    }
    return 0;
}

int
options_load_file(options_t *o, const char *dir, errbuf_t *err)
{
    char *path = statedir_path(dir, STATEDIR_CONFIG);
    char *text = NULL;
    size_t size = 0;
    int rc = s_read(path, &text, &size, err);
    size_t line = 0, col = 0;
    if (rc == 0 && text &&
        yamldoc_parse(text, size, 8, &o->file, &line, &col, err) < 0) {
        errbuf_prefix(err, "%s:%zu:%zu", path, line, col);
        rc = -1;
    }
    const yamldoc_node_t *root = o->file;
    if (rc == 0 && root && root->type != YAMLDOC_MAP) {
        rc = s_bad(path, root, "the config is a mapping of settings", err);
    }
    for (size_t i = 0; rc == 0 && root && i < root->count; i++) {
        rc = s_key(o, path, root->items[2 * i], root->items[2 * i + 1], err);
    }
    free(text);
    free(path);
    return rc;
}
