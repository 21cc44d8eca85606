/* dag — the dag_t object: dag_parse and dag_parse_file run the readers
 * (dag_read.c) and the checks (dag_check.c) over one file and hand back the
 * problems sorted by position; then the accessors. */
#include "common/dag.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dag_internal.h"
#include "common/duration.h"
#include "common/xalloc.h"

static int
s_errcmp(const void *a, const void *b)
{
    const perr_t *x = a, *y = b;
    if (x->line != y->line) {
        return x->line < y->line ? -1 : 1;
    }
    if (x->col != y->col) {
        return x->col < y->col ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hands a message to the caller's list, which may copy it (autofree). */
static void
s_emit(zlist_t *errors, char *msg)
{
    if (!errors) {
        free(msg);
        return;
    }
    zlist_append(errors, msg);
    if (zlist_last(errors) != msg) {
        free(msg);
    }
}

static void
s_line_starts(parse_t *p)
{
    size_t lines = 1;
    for (size_t i = 0; i < p->size; i++) {
        lines += p->text[i] == '\n';
    }
    p->line_start = xcalloc(lines + 2, sizeof *p->line_start);
    p->nlines = 1;
    for (size_t i = 0; i < p->size; i++) {
        if (p->text[i] == '\n') {
            p->line_start[++p->nlines] = i + 1;
        }
    }
}

static void
s_src_free(parse_t *p)
{
    for (size_t i = 0; p->src && i < p->dag->ntasks; i++) {
        free(p->src[i].after);
        for (size_t r = 0; r < p->src[i].nrefs; r++) {
            free(p->src[i].refs[r].task);
        }
        free(p->src[i].refs);
    }
    free(p->src);
    free(p->line_start);
}

dag_t *
dag_parse(const char *filename, const char *text, size_t size, zlist_t *errors)
{
    parse_t p = {
        .file = filename ? filename : "<dag>", .text = text, .size = size};
    p.dag = xcalloc(1, sizeof *p.dag);
    p.dag->max_active_runs = DAG_DEFAULT_MAX_ACTIVE_RUNS;
    p.dag->description = xstrdup("");
    p.dag->schedule = xstrdup("");
    p.dag->timezone = xstrdup("");
    p.dag->start_date = xstrdup("");
    p.dag->end_date = xstrdup("");
    p.dag->index = zhashx_new();
    p.dag->warnings = zlist_new();
    zlist_autofree(p.dag->warnings);
    p.dag->file = xstrdup(p.file);
    if (size > DAG_MAX_FILE_SIZE) {
        dagp_err(&p, NULL,
                 "the file is %zu bytes, over the limit of %d; split "
                 "the DAG into smaller files",
                 size, DAG_MAX_FILE_SIZE);
    } else {
        s_line_starts(&p);
        yamldoc_node_t *root = NULL;
        size_t line, col;
        errbuf_t err;
        if (yamldoc_parse(text, size, DAG_MAX_DEPTH, &root, &line, &col,
                          &err) != 0) {
            dagp_err_pos(&p, line, col, "%s", errbuf_msg(&err));
        } else {
            dagp_read_document(&p, root);
            dagp_check_schedule(&p);
            dagp_check_params(&p);
            if (p.src) {
                dagp_check_tasks(&p);
            }
        }
        s_src_free(&p);
        yamldoc_destroy(&root);
    }
    /* Only picks faster code paths; generichash works either way. */
    int sodium_rc = sodium_init();
    (void) sodium_rc;
    unsigned char hash[32];
    crypto_generichash(hash, sizeof hash, (const unsigned char *) text, size,
                       NULL, 0);
    sodium_bin2hex(p.dag->version, sizeof p.dag->version, hash, sizeof hash);
    if (p.nerrs > 0) {
        qsort(p.errs, p.nerrs, sizeof *p.errs, s_errcmp);
    }
    for (size_t i = 0; i < p.nerrs; i++) {
        s_emit(errors, p.errs[i].msg);
    }
    free(p.errs);
    if (p.nerrs > 0) {
        dag_destroy(&p.dag);
    }
    return p.dag;
}

dag_t *
dag_parse_file(const char *path, zlist_t *errors)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    const char *why = NULL;
    if (fd < 0 || fstat(fd, &st) != 0) {
        why = strerror(errno);
    } else if (S_ISDIR(st.st_mode)) {
        why = "it is a directory";
    }
    if (why) {
        s_emit(errors, xasprintf("%s:1:1: cannot read the file (%s); check "
                                 "the path",
                                 path, why));
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    /* Read one byte past the limit so dag_parse sees the file is too big
     * without us holding more than that in memory. */
    size_t cap = DAG_MAX_FILE_SIZE + 1;
    char *text = xmalloc(cap + 1);
    size_t len = 0;
    while (len < cap) {
        ssize_t n = read(fd, text + len, cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t) n;
    }
    close(fd);
    text[len] = '\0';
    if (len == cap && S_ISREG(st.st_mode) && (size_t) st.st_size > len) {
        len = (size_t) st.st_size; /* exact size for the message */
        s_emit(errors, xasprintf("%s:1:1: the file is %zu bytes, over the "
                                 "limit of %d; split the DAG into smaller "
                                 "files",
                                 path, len, DAG_MAX_FILE_SIZE));
        free(text);
        return NULL;
    }
    dag_t *dag = dag_parse(path, text, len, errors);
    free(text);
    return dag;
}

static void
s_task_free(dag_task_t *t)
{
    free((void *) t->id);
    free((void *) t->run);
    free((void *) t->after);
    free((void *) t->children);
    for (size_t i = 0; i < t->nenv; i++) {
        free((void *) t->env[i].name);
        free((void *) t->env[i].value);
    }
    free((void *) t->env);
    dagp_free_strings(t->labels, t->nlabels);
    dagp_free_strings(t->inputs, t->ninputs);
    dagp_free_strings(t->outputs, t->noutputs);
    free((void *) t->validate);
    free((void *) t->sensor_file);
    free((void *) t->pool);
}

void
dag_destroy(dag_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    dag_t *self = *self_p;
    zlist_destroy(&self->warnings);
    for (size_t i = 0; i < self->ntasks; i++) {
        s_task_free(&self->tasks[i]);
    }
    free(self->tasks);
    dagp_free_params(self);
    dagp_free_strings(self->triggers, self->ntriggers);
    dagp_free_alerts(self);
    zhashx_destroy(&self->index);
    free(self->name);
    free(self->file);
    free(self->description);
    free(self->schedule);
    free(self->timezone);
    free(self->start_date);
    free(self->end_date);
    free(self);
    *self_p = NULL;
}

size_t
dag_trigger_count(const dag_t *self)
{
    return self->ntriggers;
}

const char *
dag_trigger_dataset(const dag_t *self, size_t index)
{
    return index < self->ntriggers ? self->triggers[index] : NULL;
}

zlist_t *
dag_warnings(const dag_t *self)
{
    return self->warnings;
}

const char *
dag_name(const dag_t *self)
{
    assert(self);
    return self->name;
}

const char *
dag_description(const dag_t *self)
{
    assert(self);
    return self->description;
}

const char *
dag_schedule(const dag_t *self)
{
    assert(self);
    return self->schedule;
}

uint32_t
dag_max_active_runs(const dag_t *self)
{
    assert(self);
    return self->max_active_runs;
}

uint32_t
dag_max_active_tasks(const dag_t *self)
{
    assert(self);
    return self->max_active_tasks;
}

const char *
dag_timezone(const dag_t *self)
{
    assert(self);
    return self->timezone;
}

const char *
dag_start_date(const dag_t *self)
{
    assert(self);
    return self->start_date;
}

const char *
dag_end_date(const dag_t *self)
{
    assert(self);
    return self->end_date;
}

bool
dag_catchup(const dag_t *self)
{
    assert(self);
    return self->catchup;
}

const char *
dag_version(const dag_t *self)
{
    assert(self);
    return self->version;
}

const char *
dag_file(const dag_t *self)
{
    assert(self);
    return self->file;
}

size_t
dag_param_count(const dag_t *self)
{
    assert(self);
    return self->nparams;
}

const dag_param_t *
dag_param(const dag_t *self, size_t index)
{
    assert(self && index < self->nparams);
    return &self->params[index];
}

size_t
dag_task_count(const dag_t *self)
{
    assert(self);
    return self->ntasks;
}

const dag_task_t *
dag_task(const dag_t *self, size_t index)
{
    assert(self && index < self->ntasks);
    return &self->tasks[index];
}

long
dag_task_index(const dag_t *self, const char *id)
{
    assert(self);
    void *hit = zhashx_lookup(self->index, id);
    return hit ? (long) ((uintptr_t) hit - 1) : -1;
}

int
dag_parse_duration(const char *text, uint64_t *ms)
{
    return duration_parse(text, ms);
}

size_t
dag_alert_route_count(const dag_t *self)
{
    return self->nroutes;
}

const dag_alert_route_t *
dag_alert_route(const dag_t *self, size_t index)
{
    return index < self->nroutes ? &self->routes[index] : NULL;
}

uint64_t
dag_deadline_ms(const dag_t *self)
{
    return self->deadline_ms;
}

const char *
dag_expect_success_by(const dag_t *self)
{
    return self->expect_by;
}
