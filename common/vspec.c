/* vspec — the checks of a `validate:` task. */
#include "common/vspec.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/xalloc.h"

#define VSPEC_MAX_DEPTH 16

typedef struct {
    vspec_t *spec;
    errbuf_t *err;
    size_t line, col; /* of the first problem */
    bool failed;
} ctx_t;

static void s_fail(ctx_t *c, const yamldoc_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
s_fail(ctx_t *c, const yamldoc_node_t *at, const char *fmt, ...)
{
    if (c->failed) {
        return; /* the first problem is the one worth reading */
    }
    va_list ap;
    va_start(ap, fmt);
    errbuf_vset(c->err, fmt, ap);
    va_end(ap);
    c->line = at ? at->line : 1;
    c->col = at ? at->col : 1;
    c->failed = true;
}

static vspec_column_t *
s_col(ctx_t *c, const char *name)
{
    vspec_t *s = c->spec;
    for (size_t i = 0; i < s->ncolumns; i++) {
        if (!strcmp(s->columns[i].name, name)) {
            return &s->columns[i];
        }
    }
    s->columns = xrealloc(s->columns, (s->ncolumns + 1) * sizeof *s->columns);
    vspec_column_t *col = &s->columns[s->ncolumns++];
    memset(col, 0, sizeof *col);
    col->name = xstrdup(name);
    return col;
}

static const char *
s_scalar(ctx_t *c, const yamldoc_node_t *n, const char *what)
{
    if (!n || n->type != YAMLDOC_SCALAR) {
        s_fail(c, n, "%s must be a single value, not %s", what,
               yamldoc_type_name(n));
        return NULL;
    }
    return n->value;
}

static bool
s_number(ctx_t *c, const yamldoc_node_t *n, const char *what, double *out)
{
    const char *text = s_scalar(c, n, what);
    if (!text) {
        return false;
    }
    char *end = NULL;
    errno = 0;
    *out = strtod(text, &end);
    if (!*text || *end || errno || !isfinite(*out)) {
        s_fail(c, n, "%s must be a number, not '%s'", what, text);
        return false;
    }
    return true;
}

static bool
s_want(ctx_t *c, const yamldoc_node_t *n, yamldoc_type_t type, const char *w)
{
    if (n && n->type == type) {
        return true;
    }
    s_fail(c, n, "%s must be %s, not %s", w,
           type == YAMLDOC_MAP ? "a mapping" : "a list", yamldoc_type_name(n));
    return false;
}

static const char *const s_types[] = {"any",   "string", "int",
                                      "float", "bool",   "date"};

const char *
vspec_type_name(vspec_type_t type)
{
    return (size_t) type < sizeof s_types / sizeof s_types[0] ? s_types[type]
                                                              : "?";
}

static void
s_schema(ctx_t *c, const yamldoc_node_t *v)
{
    if (!s_want(c, v, YAMLDOC_MAP, "'schema'")) {
        return;
    }
    c->spec->has_schema = true;
    for (size_t i = 0; i < v->count; i++) {
        const char *name = s_scalar(c, v->items[2 * i], "a column name");
        const char *type = s_scalar(c, v->items[2 * i + 1], "a column type");
        if (!name || !type) {
            return;
        }
        vspec_column_t *col = s_col(c, name);
        col->in_schema = true;
        for (size_t t = 1; t < sizeof s_types / sizeof s_types[0]; t++) {
            if (!strcmp(type, s_types[t])) {
                col->type = (vspec_type_t) t;
            }
        }
        if (col->type == VSPEC_ANY) {
            s_fail(c, v->items[2 * i + 1],
                   "column '%s' has type '%s'; use string, int, float, bool "
                   "or date",
                   name, type);
        }
    }
}

/* required: [a, b], unique: [id], drift columns: [x] */
static void
s_flag_list(ctx_t *c, const yamldoc_node_t *v, const char *what, size_t off)
{
    if (!s_want(c, v, YAMLDOC_SEQ, what)) {
        return;
    }
    for (size_t i = 0; i < v->count; i++) {
        const char *name = s_scalar(c, v->items[i], "a column name");
        if (name) {
            *(bool *) ((char *) s_col(c, name) + off) = true;
        }
    }
}

static void
s_ranges(ctx_t *c, const yamldoc_node_t *v)
{
    if (!s_want(c, v, YAMLDOC_MAP, "'ranges'")) {
        return;
    }
    for (size_t i = 0; i < v->count; i++) {
        const char *name = s_scalar(c, v->items[2 * i], "a column name");
        const yamldoc_node_t *r = v->items[2 * i + 1];
        if (!name) {
            return;
        }
        if (!r || r->type != YAMLDOC_SEQ || r->count != 2) {
            s_fail(c, r, "range of '%s' must be [MIN, MAX]", name);
            return;
        }
        vspec_column_t *col = s_col(c, name);
        if (s_number(c, r->items[0], "a range bound", &col->min) &&
            s_number(c, r->items[1], "a range bound", &col->max)) {
            col->has_range = true;
            if (col->min > col->max) {
                s_fail(c, r, "range of '%s' has MIN above MAX", name);
            }
        }
    }
}

static void
s_allowed(ctx_t *c, const yamldoc_node_t *v)
{
    if (!s_want(c, v, YAMLDOC_MAP, "'allowed'")) {
        return;
    }
    for (size_t i = 0; i < v->count; i++) {
        const char *name = s_scalar(c, v->items[2 * i], "a column name");
        const yamldoc_node_t *list = v->items[2 * i + 1];
        if (!name || !s_want(c, list, YAMLDOC_SEQ, "allowed values")) {
            return;
        }
        vspec_column_t *col = s_col(c, name);
        col->allowed = xcalloc(list->count + 1, sizeof *col->allowed);
        for (size_t k = 0; k < list->count; k++) {
            const char *text = s_scalar(c, list->items[k], "an allowed value");
            if (!text) {
                return;
            }
            col->allowed[col->nallowed++] = xstrdup(text);
        }
    }
}

static const yamldoc_node_t *
s_get(const yamldoc_node_t *map, const char *key)
{
    for (size_t i = 0; map && map->type == YAMLDOC_MAP && i < map->count; i++) {
        const yamldoc_node_t *k = map->items[2 * i];
        if (k->type == YAMLDOC_SCALAR && !strcmp(k->value, key)) {
            return map->items[2 * i + 1];
        }
    }
    return NULL;
}

static void
s_references(ctx_t *c, const yamldoc_node_t *v)
{
    if (!s_want(c, v, YAMLDOC_MAP, "'references'")) {
        return;
    }
    for (size_t i = 0; i < v->count; i++) {
        const char *name = s_scalar(c, v->items[2 * i], "a column name");
        const yamldoc_node_t *r = v->items[2 * i + 1];
        if (!name || !s_want(c, r, YAMLDOC_MAP, "a reference")) {
            return;
        }
        const char *ds = s_scalar(c, s_get(r, "dataset"), "'dataset'");
        const char *col = s_scalar(c, s_get(r, "column"), "'column'");
        if (ds && col) {
            vspec_column_t *vc = s_col(c, name);
            vc->ref_dataset = xstrdup(ds);
            vc->ref_column = xstrdup(col);
        }
    }
}

static void
s_freshness(ctx_t *c, const yamldoc_node_t *v)
{
    if (!s_want(c, v, YAMLDOC_MAP, "'freshness'")) {
        return;
    }
    const char *col = s_scalar(c, s_get(v, "column"), "freshness 'column'");
    const char *age = s_scalar(c, s_get(v, "max_age"), "'max_age'");
    if (!col || !age) {
        return;
    }
    if (duration_parse(age, &c->spec->fresh_max_age_ms) < 0) {
        s_fail(c, s_get(v, "max_age"),
               "'max_age' must be a duration like 36h or 2d, not '%s'", age);
        return;
    }
    c->spec->fresh_column = xstrdup(col);
    s_col(c, col); /* so the validator reads it */
}

static void
s_drift(ctx_t *c, const yamldoc_node_t *v)
{
    if (!s_want(c, v, YAMLDOC_MAP, "'drift'")) {
        return;
    }
    const yamldoc_node_t *cols = s_get(v, "columns");
    if (!cols) {
        s_fail(c, v, "'drift' needs 'columns: [NAME, ...]'");
        return;
    }
    s_flag_list(c, cols, "drift 'columns'", offsetof(vspec_column_t, drift));
    const yamldoc_node_t *psi = s_get(v, "psi_max");
    const yamldoc_node_t *mean = s_get(v, "mean_shift_max");
    if (psi) {
        s_number(c, psi, "'psi_max'", &c->spec->psi_max);
    }
    if (mean) {
        s_number(c, mean, "'mean_shift_max'", &c->spec->mean_shift_max);
    }
}

static void
s_key(ctx_t *c,
      const char *key,
      const yamldoc_node_t *k,
      const yamldoc_node_t *v)
{
    vspec_t *s = c->spec;
    if (!strcmp(key, "format")) {
        const char *f = s_scalar(c, v, "'format'");
        if (f && strcmp(f, "csv") && strcmp(f, "jsonl")) {
            s_fail(c, v, "'format' must be csv or jsonl, not '%s'", f);
        } else if (f) {
            s->format = xstrdup(f);
        }
    } else if (!strcmp(key, "schema")) {
        s_schema(c, v);
    } else if (!strcmp(key, "required")) {
        s_flag_list(c, v, "'required'", offsetof(vspec_column_t, required));
    } else if (!strcmp(key, "unique")) {
        s_flag_list(c, v, "'unique'", offsetof(vspec_column_t, unique));
    } else if (!strcmp(key, "ranges")) {
        s_ranges(c, v);
    } else if (!strcmp(key, "allowed")) {
        s_allowed(c, v);
    } else if (!strcmp(key, "references")) {
        s_references(c, v);
    } else if (!strcmp(key, "freshness")) {
        s_freshness(c, v);
    } else if (!strcmp(key, "drift")) {
        s_drift(c, v);
    } else if (!strcmp(key, "max_bad_ratio")) {
        if (s_number(c, v, "'max_bad_ratio'", &s->max_bad_ratio) &&
            (s->max_bad_ratio < 0 || s->max_bad_ratio > 1)) {
            s_fail(c, v, "'max_bad_ratio' must be between 0 and 1");
        }
    } else {
        static const char *const keys[] = {
            "format",  "schema",     "required",  "unique", "ranges",
            "allowed", "references", "freshness", "drift",  "max_bad_ratio"};
        const char *hint = yamldoc_suggest(key, keys, 10);
        s_fail(c, k, "unknown validate key '%s'%s%s%s", key,
               hint ? "; did you mean '" : "", hint ? hint : "",
               hint ? "'?" : "");
    }
}

static vspec_t *
s_from_node(const yamldoc_node_t *node, ctx_t *c)
{
    c->spec = xcalloc(1, sizeof *c->spec);
    c->spec->psi_max = 0.2;
    c->spec->mean_shift_max = 3.0;
    if (s_want(c, node, YAMLDOC_MAP, "'validate'")) {
        for (size_t i = 0; i < node->count && !c->failed; i++) {
            const yamldoc_node_t *k = node->items[2 * i];
            const char *key = s_scalar(c, k, "a validate key");
            if (key) {
                s_key(c, key, k, node->items[2 * i + 1]);
            }
        }
    }
    if (c->failed) {
        vspec_destroy(&c->spec);
    }
    return c->spec;
}

/* ---- canonical JSON: strings everywhere; spaced braces so that the text
 * never holds "{{" or "}}" outside the values' own templates ---- */

static void
s_json_string(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(out, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(out, "\\u%04x", *p);
        } else {
            fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void
s_json(FILE *out, const yamldoc_node_t *n)
{
    if (n->type == YAMLDOC_SCALAR) {
        s_json_string(out, n->value);
        return;
    }
    bool map = n->type == YAMLDOC_MAP;
    fputs(map ? "{ " : "[ ", out);
    for (size_t i = 0; i < n->count; i++) {
        fputs(i ? ", " : "", out);
        if (map) {
            s_json(out, n->items[2 * i]);
            fputs(": ", out);
            s_json(out, n->items[2 * i + 1]);
        } else {
            s_json(out, n->items[i]);
        }
    }
    fputs(map ? " }" : " ]", out);
}

char *
vspec_canonical(const yamldoc_node_t *node,
                size_t *line,
                size_t *col,
                errbuf_t *err)
{
    ctx_t c = {.err = err};
    vspec_t *spec = s_from_node(node, &c);
    if (!spec) {
        *line = c.line;
        *col = c.col;
        return NULL;
    }
    vspec_destroy(&spec);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    if (!out) {
        abort();
    }
    s_json(out, node);
    fclose(out);
    return text;
}

vspec_t *
vspec_parse(const char *text, errbuf_t *err)
{
    yamldoc_node_t *root = NULL;
    size_t line = 0, col = 0;
    if (yamldoc_parse(text, strlen(text), VSPEC_MAX_DEPTH, &root, &line, &col,
                      err) < 0) {
        errbuf_prefix(err, "validate spec %zu:%zu", line, col);
        return NULL;
    }
    ctx_t c = {.err = err};
    vspec_t *spec = s_from_node(root, &c);
    yamldoc_destroy(&root);
    return spec;
}

void
vspec_destroy(vspec_t **self_p)
{
    vspec_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->ncolumns; i++) {
        vspec_column_t *col = &self->columns[i];
        free(col->name);
        for (size_t k = 0; k < col->nallowed; k++) {
            free(col->allowed[k]);
        }
        free(col->allowed);
        free(col->ref_dataset);
        free(col->ref_column);
    }
    free(self->columns);
    free(self->format);
    free(self->fresh_column);
    free(self);
    *self_p = NULL;
}

const vspec_column_t *
vspec_column(const vspec_t *self, const char *name)
{
    for (size_t i = 0; i < self->ncolumns; i++) {
        if (!strcmp(self->columns[i].name, name)) {
            return &self->columns[i];
        }
    }
    return NULL;
}
