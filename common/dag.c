#include "common/dag.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tmpl.h"
#include "common/vspec.h"
#include "common/xalloc.h"
#include "common/yamldoc.h"

#define DEFAULT_RETRY_DELAY_MS     (10 * 1000ULL)
#define DEFAULT_MAX_RETRY_DELAY_MS (3600 * 1000ULL)

struct dag_t {
    char *name;        /* owned */
    char *description; /* owned, "" when none */
    char *schedule;    /* owned, "" when none */
    char version[65];  /* BLAKE2b-256 of the source, hex */
    size_t nparams;
    dag_kv_t *params; /* owned array; names and values owned */
    size_t ntasks;
    dag_task_t *tasks;           /* owned array; every pointer inside owned */
    zhashx_t *index;             /* id -> index + 1, keys copied */
    size_t ntriggers;            /* trigger: datasets (issue 5, G) */
    const char *const *triggers; /* owned array of owned URIs */
};

/* Retry and timeout settings as written, before defaults apply. */
typedef struct {
    bool has_retries, has_delay, has_max, has_timeout, has_retry_on;
    uint32_t retries;
    uint64_t delay_ms, max_ms, timeout_ms;
    unsigned retry_on; /* DAG_CAUSE_* bits */
} policy_t;

/* What parsing a task keeps besides the public view: where things were. */
typedef struct {
    const yamldoc_node_t *node;    /* the task's mapping */
    const yamldoc_node_t *id_node; /* NULL when missing */
    size_t nafter;
    const yamldoc_node_t **after; /* the names in 'after', owned array */
    policy_t policy;
} task_src_t;

typedef struct {
    size_t line, col, seq;
    char *msg; /* "FILE:L:C: ..." owned */
} perr_t;

typedef struct {
    const char *file;
    const char *text;
    size_t size;
    size_t *line_start; /* byte offset of each line, 1-based index */
    size_t nlines;
    perr_t *errs;
    size_t nerrs, cap;
    dag_t *dag;
    task_src_t *src; /* one per dag->tasks entry */
    policy_t defaults;
} parse_t;

typedef void(key_fn)(parse_t *p,
                     size_t task,
                     const yamldoc_node_t *key,
                     const yamldoc_node_t *val);

typedef struct {
    const char *name;
    key_fn *fn;
} dagkey_t;

static const yamldoc_node_t *s_map_get(const yamldoc_node_t *map,
                                       const char *name);

static const char *const s_kinds[] = {"command",   "ingest", "validate",
                                      "transform", "train",  "infer"};
#define KIND_COUNT (sizeof s_kinds / sizeof s_kinds[0])

static void s_err(parse_t *p, const yamldoc_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records one problem at a node (NULL: the top of the file). */
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

static void
s_err(parse_t *p, const yamldoc_node_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_err_at(p, at ? at->line : 1, at ? at->col : 1, fmt, ap);
    va_end(ap);
}

static void s_err_pos(parse_t *p, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
s_err_pos(parse_t *p, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_err_at(p, line, col, fmt, ap);
    va_end(ap);
}

/* "task 'id'" or "task #3" for messages. */
static const char *
s_task_label(parse_t *p, size_t task, char *buf, size_t size)
{
    const char *id = p->dag->tasks[task].id;
    if (id) {
        snprintf(buf, size, "task '%s'", id);
    } else {
        snprintf(buf, size, "task #%zu", task + 1);
    }
    return buf;
}

static bool
s_is_name(const char *s)
{
    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (!isalnum((unsigned char) *s) && *s != '_' && *s != '.' &&
            *s != '-') {
            return false;
        }
    }
    return true;
}

/* ---- scalar readers: each reports its own error and returns -1 ---- */

static const char *
s_string(parse_t *p, const yamldoc_node_t *val, const char *what)
{
    if (val->type != YAMLDOC_SCALAR || yamldoc_is_null(val)) {
        s_err(p, val, "%s must be a string, not %s; write it as 'key: text'",
              what, yamldoc_type_name(val));
        return NULL;
    }
    return val->value;
}

static int
s_uint(parse_t *p,
       const yamldoc_node_t *val,
       const char *what,
       uint64_t max,
       uint64_t *out)
{
    const char *v = val->type == YAMLDOC_SCALAR ? val->value : "";
    bool ok = val->type == YAMLDOC_SCALAR && *v && strlen(v) <= 19;
    for (const char *c = v; ok && *c; c++) {
        ok = isdigit((unsigned char) *c);
    }
    if (ok) {
        *out = strtoull(v, NULL, 10);
        ok = *out <= max;
    }
    if (!ok) {
        s_err(p, val,
              "%s must be a whole number from 0 to %llu, not %s%s%s; write "
              "it like '3'",
              what, (unsigned long long) max,
              val->type == YAMLDOC_SCALAR ? "'" : "",
              val->type == YAMLDOC_SCALAR ? v : yamldoc_type_name(val),
              val->type == YAMLDOC_SCALAR ? "'" : "");
        return -1;
    }
    return 0;
}

static int
s_duration(parse_t *p,
           const yamldoc_node_t *val,
           const char *what,
           uint64_t *out)
{
    if (val->type == YAMLDOC_SCALAR &&
        dag_parse_duration(val->value, out) == 0) {
        return 0;
    }
    s_err(p, val,
          "%s is not a duration: %s%s%s; write a number with ms, s, m, h or "
          "d, like '30s'",
          what, val->type == YAMLDOC_SCALAR ? "'" : "",
          val->type == YAMLDOC_SCALAR ? val->value : yamldoc_type_name(val),
          val->type == YAMLDOC_SCALAR ? "'" : "");
    return -1;
}

/* Memory as "512M", "4G", "1T" (also "Mi"/"MB" forms) or bare megabytes. */
static int
s_memory(const char *text, uint64_t *mb)
{
    char *end = NULL;
    if (!isdigit((unsigned char) *text)) {
        return -1;
    }
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno) {
        return -1;
    }
    uint64_t mult = 1;
    if (*end == 'G' || *end == 'g') {
        mult = 1024;
    } else if (*end == 'T' || *end == 't') {
        mult = 1024 * 1024;
    } else if (*end != 'M' && *end != 'm' && *end != '\0') {
        return -1;
    }
    if (*end) {
        end++;
        if (*end == 'i' || *end == 'B') {
            end++;
        }
    }
    if (*end || n > UINT64_MAX / mult / 2) {
        return -1;
    }
    *mb = n * mult;
    return 0;
}

/* Checks a mapping's keys against a table and calls each key's handler.
 * Reports unknown and repeated keys with where to look. */
static void
s_walk_map(parse_t *p,
           size_t task,
           const yamldoc_node_t *map,
           const dagkey_t *keys,
           size_t nkeys,
           const char *where)
{
    const char *names[32];
    for (size_t k = 0; k < nkeys; k++) {
        names[k] = keys[k].name;
    }
    for (size_t i = 0; i < map->count; i++) {
        const yamldoc_node_t *key = map->items[2 * i];
        const yamldoc_node_t *val = map->items[2 * i + 1];
        if (key->type != YAMLDOC_SCALAR) {
            s_err(p, key,
                  "keys in %s must be plain names, not %s; write "
                  "'name: value'",
                  where, yamldoc_type_name(key));
            continue;
        }
        size_t k = 0;
        while (k < nkeys && strcmp(keys[k].name, key->value)) {
            k++;
        }
        bool repeated = false;
        for (size_t j = 0; j < i && !repeated; j++) {
            const yamldoc_node_t *prev = map->items[2 * j];
            if (prev->type == YAMLDOC_SCALAR &&
                !strcmp(prev->value, key->value)) {
                s_err(p, key,
                      "key '%s' in %s is repeated (first on line "
                      "%zu); keep one",
                      key->value, where, prev->line);
                repeated = true;
            }
        }
        if (repeated) {
            continue;
        }
        if (k == nkeys) {
            const char *hint = yamldoc_suggest(key->value, names, nkeys);
            if (hint) {
                s_err(p, key, "unknown key '%s' in %s; did you mean '%s'?",
                      key->value, where, hint);
            } else {
                char list[512] = "";
                for (size_t j = 0; j < nkeys; j++) {
                    strncat(list, j ? ", " : "",
                            sizeof list - strlen(list) - 1);
                    strncat(list, names[j], sizeof list - strlen(list) - 1);
                }
                s_err(p, key, "unknown key '%s' in %s; valid keys are %s",
                      key->value, where, list);
            }
            continue;
        }
        keys[k].fn(p, task, key, val);
    }
}

/* A key whose value must be a mapping of known keys ('resources',
 * 'limits', 'defaults', 'trigger'): says what to write when it is not. */
static void
s_walk_submap(parse_t *p,
              size_t task,
              const yamldoc_node_t *val,
              const dagkey_t *keys,
              size_t n,
              const char *what,
              const char *hint)
{
    if (val->type != YAMLDOC_MAP) {
        s_err(p, val, "%s must be a mapping, not %s; %s", what,
              yamldoc_type_name(val), hint);
        return;
    }
    s_walk_map(p, task, val, keys, n, what);
}

/* ---- templates ---- */

typedef struct {
    parse_t *p;
    const yamldoc_node_t *node;
    const char *field;
    const char *label;
} tcheck_t;

/* Where a template sits: exact when the scalar is on one line and the
 * source bytes agree, else the scalar's own position. */
static void
s_tmpl_pos(parse_t *p,
           const yamldoc_node_t *node,
           size_t offset,
           size_t *line,
           size_t *col)
{
    *line = node->line;
    *col = node->col;
    if (node->line > p->nlines || memchr(node->value, '\n', offset)) {
        return;
    }
    size_t base =
        p->line_start[node->line] + node->col - 1 + (node->plain ? 0 : 1);
    if (base + offset + 2 <= p->size &&
        !memcmp(p->text + base + offset, "{{", 2)) {
        *col = node->col + (node->plain ? 0 : 1) + offset;
    }
}

/* A secret is only ever rendered into the environment: a command line
 * shows in ps, and inputs and outputs end up in the store. Whether it
 * exists is checked at dispatch, since validate works offline. */
static void
s_tmpl_secret(tcheck_t *t, const char *name, size_t line, size_t col)
{
    if (!dag_secret_name_ok(name)) {
        s_err_pos(t->p, line, col,
                  "%s of %s uses a bad secret name '%s'; a secret name is "
                  "letters, digits and '_', not starting with a digit",
                  t->field, t->label, name);
    } else if (strcmp(t->field, "'env'") != 0) {
        s_err_pos(t->p, line, col,
                  "%s of %s uses secret '%s'; secrets may only be used in "
                  "'env': pass it through env (e.g. 'env: {MY_VAR: \"{{ "
                  "secret.%s }}\"}') and read $MY_VAR",
                  t->field, t->label, name, name);
    }
}

static void
s_tmpl_name(void *arg, const char *name, size_t offset)
{
    tcheck_t *t = arg;
    static const char *const builtins[] = {"run_id", "ds", "task_id",
                                           "attempt"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcmp(name, builtins[i])) {
            return;
        }
    }
    size_t line, col;
    s_tmpl_pos(t->p, t->node, offset, &line, &col);
    if (!strncmp(name, "secret.", 7)) {
        s_tmpl_secret(t, name + 7, line, col);
        return;
    }
    dag_t *dag = t->p->dag;
    if (!strncmp(name, "params.", 7)) {
        const char *param = name + 7;
        const char **names = xcalloc(dag->nparams + 1, sizeof *names);
        for (size_t i = 0; i < dag->nparams; i++) {
            if (!strcmp(dag->params[i].name, param)) {
                free(names);
                return;
            }
            names[i] = dag->params[i].name;
        }
        const char *hint = yamldoc_suggest(param, names, dag->nparams);
        if (hint) {
            s_err_pos(t->p, line, col,
                      "%s of %s uses unknown param '%s'; did you mean '%s'?",
                      t->field, t->label, param, hint);
        } else {
            s_err_pos(t->p, line, col,
                      "%s of %s uses unknown param '%s'; declare it under "
                      "'params'",
                      t->field, t->label, param);
        }
        free(names);
        return;
    }
    const char *hint = yamldoc_suggest(name, builtins, 4);
    s_err_pos(t->p, line, col,
              "%s of %s uses unknown template name '%s'; %s%s%s", t->field,
              t->label, name,
              hint ? "did you mean '"
                   : "use run_id, ds, "
                     "task_id, attempt or params.NAME",
              hint ? hint : "", hint ? "'?" : "");
}

static void
s_check_tmpl(parse_t *p,
             size_t task,
             const yamldoc_node_t *node,
             const char *field)
{
    char label[160];
    tcheck_t t = {p, node, field, s_task_label(p, task, label, sizeof label)};
    errbuf_t err;
    errbuf_clear(&err);
    if (tmpl_scan(node->value, s_tmpl_name, &t, &err) != 0) {
        s_err(p, node, "%s of %s: %s", field, label, errbuf_msg(&err));
    }
}

/* A list of strings (a single string also counts when single_ok). Returns
 * an owned array of node pointers, NULL on a type error. */
static const yamldoc_node_t **
s_string_nodes(parse_t *p,
               const yamldoc_node_t *val,
               const char *what,
               bool single_ok,
               size_t *n)
{
    *n = 0;
    if (single_ok && val->type == YAMLDOC_SCALAR && !yamldoc_is_null(val)) {
        const yamldoc_node_t **out = xmalloc(sizeof *out);
        out[(*n)++] = val;
        return out;
    }
    if (val->type != YAMLDOC_SEQ) {
        s_err(p, val, "%s must be a list, not %s; write it as '[a, b]'", what,
              yamldoc_type_name(val));
        return NULL;
    }
    const yamldoc_node_t **out = xcalloc(val->count + 1, sizeof *out);
    for (size_t i = 0; i < val->count; i++) {
        const yamldoc_node_t *item = val->items[i];
        if (item->type != YAMLDOC_SCALAR || yamldoc_is_null(item)) {
            s_err(p, item,
                  "items of %s must be strings, not %s; write it as "
                  "'[a, b]'",
                  what, yamldoc_type_name(item));
            continue;
        }
        out[(*n)++] = item;
    }
    return out;
}

static const char *const *
s_string_list(parse_t *p,
              size_t task,
              const yamldoc_node_t *val,
              const char *what,
              bool templates,
              size_t *n)
{
    const yamldoc_node_t **nodes = s_string_nodes(p, val, what, false, n);
    if (!nodes) {
        return NULL;
    }
    char **out = xcalloc(*n + 1, sizeof *out);
    for (size_t i = 0; i < *n; i++) {
        out[i] = xstrdup(nodes[i]->value);
        if (templates) {
            s_check_tmpl(p, task, nodes[i], what);
        }
    }
    free(nodes);
    return (const char *const *) out;
}

/* ---- failure causes (retry_on) ---- */

static const char *const s_cause_names[DAG_CAUSE_COUNT] = {
    "exit", "signal", "oom", "timeout", "lost"};

int
dag_cause_parse(const char *name, unsigned *cause)
{
    for (unsigned i = 0; i < DAG_CAUSE_COUNT; i++) {
        if (name && !strcmp(name, s_cause_names[i])) {
            *cause = 1u << i;
            return 0;
        }
    }
    return -1;
}

bool
dag_secret_name_ok(const char *name)
{
    bool ok = name && (isalpha((unsigned char) *name) || *name == '_');
    for (const char *c = ok ? name : ""; ok && *c; c++) {
        ok = isalnum((unsigned char) *c) || *c == '_';
    }
    return ok && strlen(name) <= DAG_SECRET_NAME_MAX;
}

const char *
dag_cause_name(unsigned cause)
{
    for (unsigned i = 0; i < DAG_CAUSE_COUNT; i++) {
        if (cause == 1u << i) {
            return s_cause_names[i];
        }
    }
    return "?";
}

/* ---- task keys ---- */

#define TASK(p, i) (&(p)->dag->tasks[i])

static void
s_task_id(parse_t *p,
          size_t task,
          const yamldoc_node_t *key,
          const yamldoc_node_t *val)
{
    (void) p, (void) task, (void) key, (void) val; /* read up front */
}

static void
s_task_kind(parse_t *p,
            size_t task,
            const yamldoc_node_t *key,
            const yamldoc_node_t *val)
{
    (void) key;
    char label[160];
    const char *kind = s_string(p, val, "'kind'");
    if (!kind) {
        return;
    }
    for (size_t i = 0; i < KIND_COUNT; i++) {
        if (!strcmp(kind, s_kinds[i])) {
            TASK(p, task)->kind = s_kinds[i];
            return;
        }
    }
    const char *hint = yamldoc_suggest(kind, s_kinds, KIND_COUNT);
    s_err(p, val,
          "unknown kind '%s' for %s; %s%s%suse one of command, ingest, "
          "validate, transform, train, infer",
          kind, s_task_label(p, task, label, sizeof label),
          hint ? "did you mean '" : "", hint ? hint : "", hint ? "'? " : "");
}

static void
s_task_run(parse_t *p,
           size_t task,
           const yamldoc_node_t *key,
           const yamldoc_node_t *val)
{
    (void) key;
    const char *run = s_string(p, val, "'run'");
    if (run) {
        TASK(p, task)->run = xstrdup(run);
        s_check_tmpl(p, task, val, "'run'");
    }
}

static void
s_task_after(parse_t *p,
             size_t task,
             const yamldoc_node_t *key,
             const yamldoc_node_t *val)
{
    (void) key;
    task_src_t *src = &p->src[task];
    src->after = s_string_nodes(p, val, "'after'", true, &src->nafter);
}

static void
s_task_env(parse_t *p,
           size_t task,
           const yamldoc_node_t *key,
           const yamldoc_node_t *val)
{
    (void) key;
    if (val->type != YAMLDOC_MAP) {
        s_err(p, val,
              "'env' must be a mapping, not %s; write 'NAME: value' "
              "lines under it",
              yamldoc_type_name(val));
        return;
    }
    dag_kv_t *env = xcalloc(val->count + 1, sizeof *env);
    size_t n = 0;
    for (size_t i = 0; i < val->count; i++) {
        const yamldoc_node_t *k = val->items[2 * i];
        const yamldoc_node_t *v = val->items[2 * i + 1];
        bool ok = k->type == YAMLDOC_SCALAR && *k->value &&
                  !isdigit((unsigned char) k->value[0]);
        for (const char *c = ok ? k->value : ""; ok && *c; c++) {
            ok = isalnum((unsigned char) *c) || *c == '_';
        }
        if (!ok) {
            s_err(p, k,
                  "environment variable names are letters, digits "
                  "and '_'; rename %s%s%s",
                  k->type == YAMLDOC_SCALAR ? "'" : "",
                  k->type == YAMLDOC_SCALAR ? k->value : "this key",
                  k->type == YAMLDOC_SCALAR ? "'" : "");
            continue;
        }
        if (v->type != YAMLDOC_SCALAR) {
            s_err(p, v, "env '%s' must be a string, not %s; quote it", k->value,
                  yamldoc_type_name(v));
            continue;
        }
        env[n].name = xstrdup(k->value);
        env[n++].value = xstrdup(v->value);
        s_check_tmpl(p, task, v, "'env'");
    }
    TASK(p, task)->env = env;
    TASK(p, task)->nenv = n;
}

/* retry_on: a list of failure causes. */
static void
s_retry_on(parse_t *p, policy_t *pol, const yamldoc_node_t *val)
{
    size_t n = 0;
    const yamldoc_node_t **nodes =
        s_string_nodes(p, val, "'retry_on'", false, &n);
    if (!nodes) {
        return;
    }
    pol->retry_on = 0;
    pol->has_retry_on = true;
    for (size_t i = 0; i < n; i++) {
        unsigned cause;
        if (dag_cause_parse(nodes[i]->value, &cause) == 0) {
            pol->retry_on |= cause;
            continue;
        }
        const char *hint =
            yamldoc_suggest(nodes[i]->value, s_cause_names, DAG_CAUSE_COUNT);
        if (hint) {
            s_err(p, nodes[i],
                  "'%s' is not a failure cause; did you mean '%s'?",
                  nodes[i]->value, hint);
        } else {
            s_err(p, nodes[i],
                  "'%s' is not a failure cause; use exit, signal, oom, "
                  "timeout or lost",
                  nodes[i]->value);
        }
    }
    free(nodes);
}

static void
s_policy_key(parse_t *p,
             policy_t *pol,
             const yamldoc_node_t *key,
             const yamldoc_node_t *val)
{
    char what[64];
    snprintf(what, sizeof what, "'%s'", key->value);
    uint64_t v;
    if (!strcmp(key->value, "retry_on")) {
        s_retry_on(p, pol, val);
    } else if (!strcmp(key->value, "retries")) {
        if (s_uint(p, val, what, 1000, &v) == 0) {
            pol->retries = (uint32_t) v;
            pol->has_retries = true;
        }
    } else if (s_duration(p, val, what, &v) == 0) {
        if (!strcmp(key->value, "retry_delay")) {
            pol->delay_ms = v;
            pol->has_delay = true;
        } else if (!strcmp(key->value, "max_retry_delay")) {
            pol->max_ms = v;
            pol->has_max = true;
        } else {
            pol->timeout_ms = v;
            pol->has_timeout = true;
        }
    }
}

static void
s_task_policy(parse_t *p,
              size_t task,
              const yamldoc_node_t *key,
              const yamldoc_node_t *val)
{
    s_policy_key(p, &p->src[task].policy, key, val);
}

static void
s_res_count(parse_t *p,
            size_t task,
            const yamldoc_node_t *key,
            const yamldoc_node_t *val)
{
    char what[64];
    snprintf(what, sizeof what, "'%s'", key->value);
    uint64_t v;
    if (s_uint(p, val, what, 1u << 20, &v) == 0) {
        if (!strcmp(key->value, "cpus")) {
            TASK(p, task)->cpus = (uint32_t) v;
        } else {
            TASK(p, task)->gpus = (uint32_t) v;
        }
    }
}

static void
s_res_memory(parse_t *p,
             size_t task,
             const yamldoc_node_t *key,
             const yamldoc_node_t *val)
{
    (void) key;
    if (val->type != YAMLDOC_SCALAR ||
        s_memory(val->value, &TASK(p, task)->memory_mb) != 0) {
        s_err(p, val,
              "'memory' is not a size: %s%s%s; write megabytes or "
              "gigabytes, like '512M' or '4G'",
              val->type == YAMLDOC_SCALAR ? "'" : "",
              val->type == YAMLDOC_SCALAR ? val->value : yamldoc_type_name(val),
              val->type == YAMLDOC_SCALAR ? "'" : "");
    }
}

static void
s_res_labels(parse_t *p,
             size_t task,
             const yamldoc_node_t *key,
             const yamldoc_node_t *val)
{
    (void) key;
    dag_task_t *t = TASK(p, task);
    t->labels = s_string_list(p, task, val, "'labels'", false, &t->nlabels);
}

static const dagkey_t s_resource_keys[] = {
    {"cpus", s_res_count},
    {"memory", s_res_memory},
    {"gpus", s_res_count},
    {"labels", s_res_labels},
};

static void
s_task_resources(parse_t *p,
                 size_t task,
                 const yamldoc_node_t *key,
                 const yamldoc_node_t *val)
{
    (void) key;
    s_walk_submap(p, task, val, s_resource_keys,
                  sizeof s_resource_keys / sizeof s_resource_keys[0],
                  "'resources'",
                  "write 'cpus', 'memory', 'gpus' or 'labels' under it");
}

/* limits: per-process rlimits the worker sets before exec. */
static void
s_limit(parse_t *p,
        size_t task,
        const yamldoc_node_t *key,
        const yamldoc_node_t *val)
{
    char what[64];
    snprintf(what, sizeof what, "'%s'", key->value);
    uint64_t v;
    if (s_uint(p, val, what, 1u << 24, &v) == 0) {
        if (!strcmp(key->value, "nofile")) {
            TASK(p, task)->limit_nofile = (uint32_t) v;
        } else {
            TASK(p, task)->limit_nproc = (uint32_t) v;
        }
    }
}

static const dagkey_t s_limit_keys[] = {
    {"nofile", s_limit},
    {"nproc", s_limit},
};

static void
s_task_limits(parse_t *p,
              size_t task,
              const yamldoc_node_t *key,
              const yamldoc_node_t *val)
{
    (void) key;
    s_walk_submap(p, task, val, s_limit_keys,
                  sizeof s_limit_keys / sizeof s_limit_keys[0], "'limits'",
                  "write 'nofile' or 'nproc' under it");
}

static void
s_task_io(parse_t *p,
          size_t task,
          const yamldoc_node_t *key,
          const yamldoc_node_t *val)
{
    dag_task_t *t = TASK(p, task);
    if (!strcmp(key->value, "inputs")) {
        t->inputs = s_string_list(p, task, val, "'inputs'", true, &t->ninputs);
    } else {
        t->outputs =
            s_string_list(p, task, val, "'outputs'", true, &t->noutputs);
    }
}

/* cache: true|false (issue 5, G). */
static void
s_task_cache(parse_t *p,
             size_t task,
             const yamldoc_node_t *key,
             const yamldoc_node_t *val)
{
    (void) key;
    const char *text = s_string(p, val, "'cache'");
    if (text && !strcmp(text, "true")) {
        TASK(p, task)->cache = true;
    } else if (text && strcmp(text, "false")) {
        s_err(p, val, "'cache' must be true or false, not '%s'", text);
    }
}

/* validate: {...} (issue 5, E): checked by vspec, kept as canonical JSON. */
static void
s_task_validate(parse_t *p,
                size_t task,
                const yamldoc_node_t *key,
                const yamldoc_node_t *val)
{
    (void) key;
    size_t line = 0, col = 0;
    errbuf_t err;
    char *text = vspec_canonical(val, &line, &col, &err);
    if (!text) {
        s_err_pos(p, line, col, "%s", errbuf_msg(&err));
        return;
    }
    TASK(p, task)->validate = text;
}

static const dagkey_t s_task_keys[] = {
    {"validate", s_task_validate},
    {"cache", s_task_cache},
    {"id", s_task_id},
    {"kind", s_task_kind},
    {"run", s_task_run},
    {"after", s_task_after},
    {"env", s_task_env},
    {"retries", s_task_policy},
    {"retry_delay", s_task_policy},
    {"max_retry_delay", s_task_policy},
    {"timeout", s_task_policy},
    {"retry_on", s_task_policy},
    {"resources", s_task_resources},
    {"limits", s_task_limits},
    {"labels", s_res_labels},
    {"inputs", s_task_io},
    {"outputs", s_task_io},
};

/* The id first, so that every later message can name the task. */
static void
s_task_read_id(parse_t *p, size_t task)
{
    const yamldoc_node_t *map = p->src[task].node;
    for (size_t i = 0; i < map->count; i++) {
        const yamldoc_node_t *key = map->items[2 * i];
        const yamldoc_node_t *val = map->items[2 * i + 1];
        if (key->type != YAMLDOC_SCALAR || strcmp(key->value, "id")) {
            continue;
        }
        const char *id = s_string(p, val, "'id'");
        if (!id) {
            return;
        }
        if (!s_is_name(id)) {
            s_err(p, val,
                  "task id '%s' may only use letters, digits, '_', "
                  "'.' and '-'; rename it",
                  id);
        }
        TASK(p, task)->id = xstrdup(id);
        p->src[task].id_node = val;
        return;
    }
}

/* Registers the id in the index, reporting a repeat. */
static void
s_task_register(parse_t *p, size_t task)
{
    const char *id = TASK(p, task)->id;
    if (!id) {
        s_err(p, p->src[task].node, "task #%zu has no 'id'; add 'id: NAME'",
              task + 1);
        return;
    }
    void *prev = zhashx_lookup(p->dag->index, id);
    if (prev) {
        size_t first = (size_t) (uintptr_t) prev - 1;
        s_err(p, p->src[task].id_node,
              "task id '%s' is already used on line "
              "%zu; give each task its own id",
              id, p->src[first].id_node->line);
        return;
    }
    zhashx_insert(p->dag->index, id, (void *) (uintptr_t) (task + 1));
}

/* A validate task checks an input and runs nothing (issue 5, E). */
static void
s_task_validate_check(parse_t *p,
                      size_t task,
                      const yamldoc_node_t *node,
                      char *label,
                      size_t size)
{
    const dag_task_t *t = TASK(p, task);
    bool is_validate = !strcmp(t->kind, "validate");
    if (is_validate && t->ninputs == 0) {
        s_err(p, node, "%s has nothing to validate; add 'inputs: [FILE]'",
              s_task_label(p, task, label, size));
    } else if (is_validate && s_map_get(node, "run")) {
        s_err(p, s_map_get(node, "run"),
              "%s is a validate task, which runs "
              "no command; remove 'run'",
              s_task_label(p, task, label, size));
    } else if (!is_validate && s_map_get(node, "validate")) {
        s_err(p, s_map_get(node, "validate"),
              "%s has 'validate' but is not "
              "a validate task; add 'kind: validate'",
              s_task_label(p, task, label, size));
    }
}

static void
s_task(parse_t *p, size_t task, const yamldoc_node_t *node)
{
    p->src[task].node = node;
    TASK(p, task)->kind = s_kinds[0];
    if (node->type != YAMLDOC_MAP) {
        s_err(p, node,
              "task #%zu must be a mapping, not %s; start it with "
              "'- id: NAME'",
              task + 1, yamldoc_type_name(node));
        return;
    }
    s_task_read_id(p, task);
    s_task_register(p, task);
    char label[160];
    s_walk_map(p, task, node, s_task_keys,
               sizeof s_task_keys / sizeof s_task_keys[0],
               s_task_label(p, task, label, sizeof label));
    dag_task_t *t = TASK(p, task);
    if (!s_map_get(node, "run") && strcmp(t->kind, "validate")) {
        s_err(p, node, "%s has no 'run'; add 'run: COMMAND'",
              s_task_label(p, task, label, sizeof label));
    }
    s_task_validate_check(p, task, node, label, sizeof label); /* E */
}

/* ---- top-level keys ---- */

static void
s_top_dag(parse_t *p,
          size_t task,
          const yamldoc_node_t *key,
          const yamldoc_node_t *val)
{
    (void) task, (void) key;
    const char *name = s_string(p, val, "'dag'");
    if (!name) {
        return;
    }
    if (!s_is_name(name)) {
        s_err(p, val,
              "DAG name '%s' may only use letters, digits, '_', '.' "
              "and '-'; rename it",
              name);
    }
    p->dag->name = xstrdup(name);
}

static void
s_top_description(parse_t *p,
                  size_t task,
                  const yamldoc_node_t *key,
                  const yamldoc_node_t *val)
{
    (void) task, (void) key;
    if (yamldoc_is_null(val)) {
        return;
    }
    const char *text = s_string(p, val, "'description'");
    if (text) {
        free(p->dag->description);
        p->dag->description = xstrdup(text);
    }
}

static void
s_top_schedule(parse_t *p,
               size_t task,
               const yamldoc_node_t *key,
               const yamldoc_node_t *val)
{
    (void) task, (void) key;
    if (yamldoc_is_null(val)) {
        return;
    }
    const char *text = s_string(p, val, "'schedule'");
    if (!text) {
        return;
    }
    size_t fields = 0;
    for (const char *c = text; *c;) {
        while (*c == ' ' || *c == '\t') {
            c++;
        }
        if (*c) {
            fields++;
        }
        while (*c && *c != ' ' && *c != '\t') {
            c++;
        }
    }
    if (fields != 5) {
        s_err(p, val,
              "'schedule' must be a cron expression with 5 fields "
              "(minute hour day month weekday), not '%s'; for "
              "example '0 3 * * *'",
              text);
        return;
    }
    free(p->dag->schedule);
    p->dag->schedule = xstrdup(text);
}

static void
s_top_params(parse_t *p,
             size_t task,
             const yamldoc_node_t *key,
             const yamldoc_node_t *val)
{
    (void) task, (void) key;
    if (yamldoc_is_null(val)) {
        return;
    }
    if (val->type != YAMLDOC_MAP) {
        s_err(p, val,
              "'params' must be a mapping, not %s; write 'name: "
              "default' lines under it",
              yamldoc_type_name(val));
        return;
    }
    dag_t *dag = p->dag;
    dag->params = xcalloc(val->count + 1, sizeof *dag->params);
    for (size_t i = 0; i < val->count; i++) {
        const yamldoc_node_t *k = val->items[2 * i];
        const yamldoc_node_t *v = val->items[2 * i + 1];
        if (k->type != YAMLDOC_SCALAR || !s_is_name(k->value)) {
            s_err(p, k,
                  "param names may only use letters, digits, '_', '.' "
                  "and '-'; rename this one");
            continue;
        }
        if (v->type != YAMLDOC_SCALAR) {
            s_err(p, v,
                  "param '%s' must be a single value, not %s; quote it "
                  "as a string",
                  k->value, yamldoc_type_name(v));
            continue;
        }
        dag->params[dag->nparams].name = xstrdup(k->value);
        dag->params[dag->nparams++].value =
            xstrdup(yamldoc_is_null(v) ? "" : v->value);
    }
}

static void
s_default_key(parse_t *p,
              size_t task,
              const yamldoc_node_t *key,
              const yamldoc_node_t *val)
{
    (void) task;
    s_policy_key(p, &p->defaults, key, val);
}

static const dagkey_t s_default_keys[] = {
    {"retries", s_default_key},         {"retry_delay", s_default_key},
    {"max_retry_delay", s_default_key}, {"timeout", s_default_key},
    {"retry_on", s_default_key},
};

static void
s_top_defaults(parse_t *p,
               size_t task,
               const yamldoc_node_t *key,
               const yamldoc_node_t *val)
{
    (void) key;
    if (yamldoc_is_null(val)) {
        return;
    }
    s_walk_submap(p, task, val, s_default_keys,
                  sizeof s_default_keys / sizeof s_default_keys[0],
                  "'defaults'",
                  "write 'retries', 'retry_delay', 'max_retry_delay' or "
                  "'timeout' under it");
}

static void
s_top_tasks(parse_t *p,
            size_t task,
            const yamldoc_node_t *key,
            const yamldoc_node_t *val)
{
    (void) p, (void) task, (void) key, (void) val; /* read last */
}

static void s_free_strings(const char *const *list, size_t n);

/* trigger: {datasets: [URI, ...]} (issue 5, G). */
static void
s_trigger_datasets(parse_t *p,
                   size_t task,
                   const yamldoc_node_t *key,
                   const yamldoc_node_t *val)
{
    (void) key;
    s_free_strings(p->dag->triggers, p->dag->ntriggers);
    p->dag->triggers = s_string_list(p, task, val, "'trigger: datasets'", false,
                                     &p->dag->ntriggers);
}

static const dagkey_t s_trigger_keys[] = {
    {"datasets", s_trigger_datasets},
};

static void
s_top_trigger(parse_t *p,
              size_t task,
              const yamldoc_node_t *key,
              const yamldoc_node_t *val)
{
    (void) key;
    s_walk_submap(p, task, val, s_trigger_keys,
                  sizeof s_trigger_keys / sizeof s_trigger_keys[0], "'trigger'",
                  "write 'trigger: {datasets: [URI]}'");
}

static const dagkey_t s_top_keys[] = {
    {"dag", s_top_dag},           {"description", s_top_description},
    {"schedule", s_top_schedule}, {"params", s_top_params},
    {"defaults", s_top_defaults}, {"tasks", s_top_tasks},
    {"trigger", s_top_trigger}, /* G */
};

static const yamldoc_node_t *
s_map_get(const yamldoc_node_t *map, const char *name)
{
    for (size_t i = 0; i < map->count; i++) {
        const yamldoc_node_t *key = map->items[2 * i];
        if (key->type == YAMLDOC_SCALAR && !strcmp(key->value, name)) {
            return map->items[2 * i + 1];
        }
    }
    return NULL;
}

static void
s_tasks(parse_t *p, const yamldoc_node_t *tasks)
{
    if (tasks->type != YAMLDOC_SEQ) {
        s_err(p, tasks,
              "'tasks' must be a list, not %s; write each task as "
              "'- id: NAME'",
              yamldoc_type_name(tasks));
        return;
    }
    if (tasks->count == 0) {
        s_err(p, tasks, "'tasks' is empty; add at least one task");
        return;
    }
    if (tasks->count > DAG_MAX_TASKS) {
        s_err(p, tasks,
              "the DAG has %zu tasks, over the limit of %d; split "
              "it into several DAGs",
              tasks->count, DAG_MAX_TASKS);
        return;
    }
    dag_t *dag = p->dag;
    dag->ntasks = tasks->count;
    dag->tasks = xcalloc(dag->ntasks, sizeof *dag->tasks);
    p->src = xcalloc(dag->ntasks, sizeof *p->src);
    for (size_t i = 0; i < dag->ntasks; i++) {
        s_task(p, i, tasks->items[i]);
    }
}

/* ---- dependencies ---- */

/* Turns 'after' names into indexes; reports names that are not tasks. */
static void
s_resolve(parse_t *p)
{
    dag_t *dag = p->dag;
    const char **ids = NULL;
    size_t nids = 0;
    for (size_t i = 0; i < dag->ntasks; i++) {
        task_src_t *src = &p->src[i];
        size_t *after = xcalloc(src->nafter + 1, sizeof *after);
        size_t n = 0;
        for (size_t a = 0; a < src->nafter; a++) {
            const char *name = src->after[a]->value;
            void *hit = zhashx_lookup(dag->index, name);
            if (!hit) {
                if (!ids) {
                    ids = xcalloc(dag->ntasks + 1, sizeof *ids);
                    for (size_t j = 0; j < dag->ntasks; j++) {
                        if (dag->tasks[j].id) {
                            ids[nids++] = dag->tasks[j].id;
                        }
                    }
                }
                char label[160];
                const char *hint = yamldoc_suggest(name, ids, nids);
                s_err(p, src->after[a],
                      "%s waits for '%s', which is not defined; %s%s%s",
                      s_task_label(p, i, label, sizeof label), name,
                      hint ? "did you mean '"
                           : "define it or remove it from "
                             "'after'",
                      hint ? hint : "", hint ? "'?" : "");
                continue;
            }
            size_t up = (size_t) (uintptr_t) hit - 1;
            bool seen = false;
            for (size_t k = 0; k < n && !seen; k++) {
                seen = after[k] == up;
            }
            if (!seen) {
                after[n++] = up;
            }
        }
        dag->tasks[i].after = after;
        dag->tasks[i].nafter = n;
    }
    free(ids);
}

static void
s_children(dag_t *dag)
{
    size_t *count = xcalloc(dag->ntasks + 1, sizeof *count);
    for (size_t i = 0; i < dag->ntasks; i++) {
        for (size_t a = 0; a < dag->tasks[i].nafter; a++) {
            count[dag->tasks[i].after[a]]++;
        }
    }
    size_t **kids = xcalloc(dag->ntasks + 1, sizeof *kids);
    for (size_t i = 0; i < dag->ntasks; i++) {
        kids[i] = xcalloc(count[i] + 1, sizeof **kids);
    }
    for (size_t i = 0; i < dag->ntasks; i++) {
        for (size_t a = 0; a < dag->tasks[i].nafter; a++) {
            size_t up = dag->tasks[i].after[a];
            kids[up][dag->tasks[up].nchildren++] = i;
        }
    }
    for (size_t i = 0; i < dag->ntasks; i++) {
        dag->tasks[i].children = kids[i];
    }
    free(kids);
    free(count);
}

/* Reports one cycle found by the DFS: stack[from..top] then back to
 * stack[from], in run order, starting at the task earliest in the file. */
static void
s_report_cycle(parse_t *p, const size_t *stack, size_t from, size_t top)
{
    dag_t *dag = p->dag;
    size_t len = top - from + 1;
    size_t first = 0;
    for (size_t k = 1; k < len; k++) {
        if (stack[from + k] < stack[from + first]) {
            first = k;
        }
    }
    char *path = xstrdup("");
    for (size_t k = 0; k <= len; k++) {
        size_t t = stack[from + (first + k) % len];
        char *next =
            xasprintf("%s%s%s", path, k ? " -> " : "", dag->tasks[t].id);
        free(path);
        path = next;
    }
    /* Point at the 'after' entry that closes the loop in the first task. */
    size_t head = stack[from + first];
    size_t prev = stack[from + (first + len - 1) % len];
    const yamldoc_node_t *at = p->src[head].id_node;
    for (size_t a = 0; a < p->src[head].nafter; a++) {
        if (!strcmp(p->src[head].after[a]->value, dag->tasks[prev].id)) {
            at = p->src[head].after[a];
            break;
        }
    }
    s_err(p, at,
          "tasks form a cycle: %s; remove one of these 'after' "
          "entries",
          path);
    free(path);
}

/* Depth-first over children, iteratively so that a long chain of tasks
 * cannot exhaust the C stack. A back edge is a cycle; tasks already in a
 * reported cycle are not reported again. */
static void
s_cycles(parse_t *p)
{
    dag_t *dag = p->dag;
    size_t n = dag->ntasks;
    unsigned char *color = xcalloc(n, 1); /* 0 new, 1 on stack, 2 done */
    bool *reported = xcalloc(n, sizeof *reported);
    size_t *where = xcalloc(n, sizeof *where);
    size_t *stack = xcalloc(n, sizeof *stack);
    size_t *next = xcalloc(n, sizeof *next);
    for (size_t root = 0; root < n; root++) {
        if (color[root]) {
            continue;
        }
        size_t top = 0;
        stack[0] = root;
        next[0] = 0;
        where[root] = 0;
        color[root] = 1;
        for (;;) {
            size_t t = stack[top];
            if (next[top] == dag->tasks[t].nchildren) {
                color[t] = 2;
                if (top == 0) {
                    break;
                }
                top--;
                continue;
            }
            size_t c = dag->tasks[t].children[next[top]++];
            if (color[c] == 1) {
                bool fresh = true;
                for (size_t k = where[c]; k <= top && fresh; k++) {
                    fresh = !reported[stack[k]];
                }
                if (fresh) {
                    s_report_cycle(p, stack, where[c], top);
                    for (size_t k = where[c]; k <= top; k++) {
                        reported[stack[k]] = true;
                    }
                }
            } else if (color[c] == 0) {
                color[c] = 1;
                stack[++top] = c;
                next[top] = 0;
                where[c] = top;
            }
        }
    }
    free(color);
    free(reported);
    free(where);
    free(stack);
    free(next);
}

static void
s_policies(parse_t *p)
{
    const policy_t *d = &p->defaults;
    for (size_t i = 0; i < p->dag->ntasks; i++) {
        const policy_t *t = &p->src[i].policy;
        dag_task_t *task = &p->dag->tasks[i];
        task->retries = t->has_retries   ? t->retries
                        : d->has_retries ? d->retries
                                         : 0;
        task->retry_delay_ms = t->has_delay   ? t->delay_ms
                               : d->has_delay ? d->delay_ms
                                              : DEFAULT_RETRY_DELAY_MS;
        task->max_retry_delay_ms = t->has_max   ? t->max_ms
                                   : d->has_max ? d->max_ms
                                                : DEFAULT_MAX_RETRY_DELAY_MS;
        task->timeout_ms = t->has_timeout   ? t->timeout_ms
                           : d->has_timeout ? d->timeout_ms
                                            : 0;
        task->retry_on = t->has_retry_on   ? t->retry_on
                         : d->has_retry_on ? d->retry_on
                                           : 0;
    }
}

/* ---- the whole file ---- */

static void
s_document(parse_t *p, const yamldoc_node_t *root)
{
    if (!root) {
        s_err(p, NULL,
              "the file is empty; start it with 'dag: NAME' and a "
              "'tasks:' list");
        return;
    }
    if (root->type != YAMLDOC_MAP) {
        s_err(p, root,
              "the file must be a mapping with 'dag' and 'tasks' "
              "keys, not %s; start it with 'dag: NAME'",
              yamldoc_type_name(root));
        return;
    }
    s_walk_map(p, 0, root, s_top_keys, sizeof s_top_keys / sizeof s_top_keys[0],
               "the DAG file");
    if (!s_map_get(root, "dag")) {
        s_err(p, root,
              "the file has no 'dag' key; add 'dag: NAME' at the "
              "top");
    }
    const yamldoc_node_t *tasks = s_map_get(root, "tasks");
    if (!tasks) {
        s_err(p, root,
              "the file has no 'tasks' key; add a 'tasks:' list "
              "with at least one task");
        return;
    }
    s_tasks(p, tasks);
    if (p->src) {
        s_resolve(p);
        s_children(p->dag);
        s_cycles(p);
        s_policies(p);
    }
}

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
    p.dag->description = xstrdup("");
    p.dag->schedule = xstrdup("");
    p.dag->index = zhashx_new();
    if (size > DAG_MAX_FILE_SIZE) {
        s_err(&p, NULL,
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
            s_err_pos(&p, line, col, "%s", errbuf_msg(&err));
        } else {
            s_document(&p, root);
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
s_free_strings(const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((void *) list[i]);
    }
    free((void *) list);
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
    s_free_strings(t->labels, t->nlabels);
    s_free_strings(t->inputs, t->ninputs);
    s_free_strings(t->outputs, t->noutputs);
    free((void *) t->validate); /* E */
}

void
dag_destroy(dag_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    dag_t *self = *self_p;
    for (size_t i = 0; i < self->ntasks; i++) {
        s_task_free(&self->tasks[i]);
    }
    free(self->tasks);
    for (size_t i = 0; i < self->nparams; i++) {
        free((void *) self->params[i].name);
        free((void *) self->params[i].value);
    }
    free(self->params);
    s_free_strings(self->triggers, self->ntriggers);
    zhashx_destroy(&self->index);
    free(self->name);
    free(self->description);
    free(self->schedule);
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

const char *
dag_version(const dag_t *self)
{
    assert(self);
    return self->version;
}

size_t
dag_param_count(const dag_t *self)
{
    assert(self);
    return self->nparams;
}

const dag_kv_t *
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
    static const struct {
        const char *suffix;
        uint64_t ms;
    } units[] = {{"ms", 1},      {"s", 1000},        {"m", 60000},
                 {"h", 3600000}, {"d", 86400000ULL}, {"", 1}};

    const char *c = text;
    if (!c || !isdigit((unsigned char) *c)) {
        return -1;
    }
    uint64_t whole = 0, frac = 0, scale = 1;
    for (; isdigit((unsigned char) *c); c++) {
        if (whole > 1000000000000000ULL) {
            return -1;
        }
        whole = whole * 10 + (uint64_t) (*c - '0');
    }
    if (*c == '.') {
        c++;
        if (!isdigit((unsigned char) *c)) {
            return -1;
        }
        for (; isdigit((unsigned char) *c); c++) {
            if (scale >= 1000000000ULL) {
                return -1;
            }
            frac = frac * 10 + (uint64_t) (*c - '0');
            scale *= 10;
        }
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(c, units[i].suffix)) {
            continue;
        }
        if (whole > UINT64_MAX / units[i].ms / 2) {
            return -1;
        }
        *ms = whole * units[i].ms + frac * units[i].ms / scale;
        return 0;
    }
    return -1;
}
