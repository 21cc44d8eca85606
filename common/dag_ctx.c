/* dag_ctx — the parse context of the dag module: each problem found, with
 * the line and column it is reported at (common/dag_internal.h). */
#include "common/dag_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static void
s_err_at(parse_t *p, size_t line, size_t col, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
s_err_at(parse_t *p, size_t line, size_t col, const char *fmt, va_list ap)
{
    char *what = NULL;
    if (vasprintf(&what, fmt, ap) < 0) {
        abort();
    }
    if (p->nerrs == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->errs = xrealloc(p->errs, p->cap * sizeof *p->errs);
    }
    perr_t *e = &p->errs[p->nerrs];
    e->line = line;
    e->col = col;
    e->seq = p->nerrs++;
    e->msg = xasprintf("%s:%zu:%zu: %s", p->file, line, col, what);
    free(what);
}

void
dagp_err(parse_t *p, const yamldoc_node_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_err_at(p, at ? at->line : 1, at ? at->col : 1, fmt, ap);
    va_end(ap);
}

void
dagp_err_pos(parse_t *p, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_err_at(p, line, col, fmt, ap);
    va_end(ap);
}

void
dagp_warn_pos(parse_t *p, size_t line, size_t col, const char *fmt, ...)
{
    char *what = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&what, fmt, ap);
    va_end(ap);
    if (rc < 0) {
        abort();
    }
    char *msg = xasprintf("%s:%zu:%zu: warning: %s", p->file, line, col, what);
    zlist_append(p->dag->warnings, msg); /* autofree: the list keeps a copy */
    free(msg);
    free(what);
}

const char *
dagp_task_label(parse_t *p, size_t task, char *buf, size_t size)
{
    const char *id = p->dag->tasks[task].id;
    size_t len = id ? strlen(id) : 0;
    if (id && len + sizeof "task ''" <= size) {
        /* Every task gets a label while it is read: no printf for it. */
        memcpy(buf, "task '", 6);
        memcpy(buf + 6, id, len);
        memcpy(buf + 6 + len, "'", 2);
    } else if (id) {
        snprintf(buf, size, "task '%s'", id);
    } else {
        snprintf(buf, size, "task #%zu", task + 1);
    }
    return buf;
}

const yamldoc_node_t *
dagp_map_get(const yamldoc_node_t *map, const char *name)
{
    for (size_t i = 0; i < map->count; i++) {
        const yamldoc_node_t *key = map->items[2 * i];
        if (key->type == YAMLDOC_SCALAR && !strcmp(key->value, name)) {
            return map->items[2 * i + 1];
        }
    }
    return NULL;
}

void
dagp_free_strings(const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((void *) list[i]);
    }
    free((void *) list);
}
