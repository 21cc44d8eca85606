/* dag_read — reads the keys of a DAG file into a dag_t: each key has a
 * reader in a table, which checks the value's type and form and reports
 * what is wrong with it (common/dag_internal.h). */
#include "common/dag_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/vspec.h"
#include "common/xalloc.h"

typedef void(key_fn)(parse_t *p,
                     size_t task,
                     const yamldoc_node_t *key,
                     const yamldoc_node_t *val);

typedef struct {
    const char *name;
    key_fn *fn;
} dagkey_t;

static const char *const s_kinds[] = {"command",   "ingest", "validate",
                                      "transform", "train",  "infer",
                                      "sensor",    "branch"};
#define KIND_COUNT (sizeof s_kinds / sizeof s_kinds[0])

/* ---- scalar readers: each reports its own error and returns -1 ---- */

static const char *
s_string(parse_t *p, const yamldoc_node_t *val, const char *what)
{
    if (val->type != YAMLDOC_SCALAR || yamldoc_is_null(val)) {
        dagp_err(p, val, "%s must be a string, not %s; write it as 'key: text'",
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
        dagp_err(p, val,
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

/* A whole number in [-max, max], like '5' or '-2'. */
static int
s_int(parse_t *p,
      const yamldoc_node_t *val,
      const char *what,
      int32_t max,
      int32_t *out)
{
    const char *v = val->type == YAMLDOC_SCALAR ? val->value : "";
    bool neg = *v == '-';
    uint64_t mag = 0;
    bool ok = val->type == YAMLDOC_SCALAR && v[neg] && strlen(v + neg) <= 9;
    for (const char *c = v + neg; ok && *c; c++) {
        ok = isdigit((unsigned char) *c);
    }
    if (ok) {
        mag = strtoull(v + neg, NULL, 10);
        ok = mag <= (uint64_t) max;
    }
    if (!ok) {
        dagp_err(p, val,
                 "%s must be a whole number from -%d to %d, not %s%s%s; "
                 "write it like '5'",
                 what, (int) max, (int) max,
                 val->type == YAMLDOC_SCALAR ? "'" : "",
                 val->type == YAMLDOC_SCALAR ? v : yamldoc_type_name(val),
                 val->type == YAMLDOC_SCALAR ? "'" : "");
        return -1;
    }
    *out = neg ? -(int32_t) mag : (int32_t) mag;
    return 0;
}

static int
s_duration(parse_t *p,
           const yamldoc_node_t *val,
           const char *what,
           uint64_t *out)
{
    if (val->type == YAMLDOC_SCALAR && duration_parse(val->value, out) == 0) {
        return 0;
    }
    dagp_err(p, val, "%s is not a duration: %s%s%s; " DURATION_HINT, what,
             val->type == YAMLDOC_SCALAR ? "'" : "",
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
            dagp_err(p, key,
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
                dagp_err(p, key,
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
                dagp_err(p, key, "unknown key '%s' in %s; did you mean '%s'?",
                         key->value, where, hint);
            } else {
                char list[512] = "";
                for (size_t j = 0; j < nkeys; j++) {
                    strncat(list, j ? ", " : "",
                            sizeof list - strlen(list) - 1);
                    strncat(list, names[j], sizeof list - strlen(list) - 1);
                }
                dagp_err(p, key, "unknown key '%s' in %s; valid keys are %s",
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
        dagp_err(p, val, "%s must be a mapping, not %s; %s", what,
                 yamldoc_type_name(val), hint);
        return;
    }
    s_walk_map(p, task, val, keys, n, what);
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
        dagp_err(p, val, "%s must be a list, not %s; write it as '[a, b]'",
                 what, yamldoc_type_name(val));
        return NULL;
    }
    const yamldoc_node_t **out = xcalloc(val->count + 1, sizeof *out);
    for (size_t i = 0; i < val->count; i++) {
        const yamldoc_node_t *item = val->items[i];
        if (item->type != YAMLDOC_SCALAR || yamldoc_is_null(item)) {
            dagp_err(p, item,
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
            dagp_check_tmpl(p, task, nodes[i], what);
        }
    }
    free(nodes);
    return (const char *const *) out;
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
    dagp_err(p, val,
             "unknown kind '%s' for %s; %s%s%suse one of command, ingest, "
             "validate, transform, train, infer, sensor, branch",
             kind, dagp_task_label(p, task, label, sizeof label),
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
        dagp_check_tmpl(p, task, val, "'run'");
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
        dagp_err(p, val,
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
            dagp_err(p, k,
                     "environment variable names are letters, digits "
                     "and '_'; rename %s%s%s",
                     k->type == YAMLDOC_SCALAR ? "'" : "",
                     k->type == YAMLDOC_SCALAR ? k->value : "this key",
                     k->type == YAMLDOC_SCALAR ? "'" : "");
            continue;
        }
        if (v->type != YAMLDOC_SCALAR) {
            dagp_err(p, v, "env '%s' must be a string, not %s; quote it",
                     k->value, yamldoc_type_name(v));
            continue;
        }
        env[n].name = xstrdup(k->value);
        env[n++].value = xstrdup(v->value);
        dagp_check_tmpl(p, task, v, "'env'");
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
        const char *hint = dagp_cause_hint(nodes[i]->value);
        if (hint) {
            dagp_err(p, nodes[i],
                     "'%s' is not a failure cause; did you mean '%s'?",
                     nodes[i]->value, hint);
        } else {
            dagp_err(p, nodes[i],
                     "'%s' is not a failure cause; use exit, signal, oom, "
                     "timeout or lost",
                     nodes[i]->value);
        }
    }
    free(nodes);
}

/* trigger_rule: one of the rule names. */
static void
s_trigger_rule(parse_t *p, policy_t *pol, const yamldoc_node_t *val)
{
    const char *name = s_string(p, val, "'trigger_rule'");
    if (!name) {
        return;
    }
    if (dag_rule_parse(name, &pol->rule) == 0) {
        pol->has_rule = true;
        return;
    }
    const char *hint = dagp_rule_hint(name);
    if (hint) {
        dagp_err(p, val, "'%.64s' is not a trigger rule; did you mean '%s'?",
                 name, hint);
    } else {
        dagp_err(p, val,
                 "'%.64s' is not a trigger rule; use all_success, "
                 "all_failed, all_done, one_success, one_failed, "
                 "none_failed, none_failed_min_one_success or always",
                 name);
    }
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
    } else if (!strcmp(key->value, "trigger_rule")) {
        s_trigger_rule(p, pol, val);
    } else if (!strcmp(key->value, "priority")) {
        pol->has_priority =
            s_int(p, val, what, DAG_PRIORITY_MAX, &pol->priority) == 0;
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
        dagp_err(p, val,
                 "'memory' is not a size: %s%s%s; write megabytes or "
                 "gigabytes, like '512M' or '4G'",
                 val->type == YAMLDOC_SCALAR ? "'" : "",
                 val->type == YAMLDOC_SCALAR ? val->value
                                             : yamldoc_type_name(val),
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

/* cache: true|false: skip the task when an earlier run with the same
 * inputs succeeded. */
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
        dagp_err(p, val, "'cache' must be true or false, not '%s'", text);
    }
}

/* skip_exit_code: 1 to 255, the exit status that means "skip me". */
static void
s_task_skip_exit(parse_t *p,
                 size_t task,
                 const yamldoc_node_t *key,
                 const yamldoc_node_t *val)
{
    (void) key;
    uint64_t v = 0;
    if (s_uint(p, val, "'skip_exit_code'", 255, &v) < 0) {
        return;
    }
    if (v == 0) {
        dagp_err(p, val,
                 "'skip_exit_code' cannot be 0, which means success; pick "
                 "an exit status from 1 to 255, like 99");
        return;
    }
    TASK(p, task)->skip_exit_code = (int) v;
}

/* validate: {...}: checked by vspec, kept as canonical JSON. */
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
        dagp_err_pos(p, line, col, "%s", errbuf_msg(&err));
        return;
    }
    TASK(p, task)->validate = text;
}

/* pool: NAME, pool_slots: N and max_active: N: the limits a task
 * waits for before it is dispatched (scheduler/limits.c). */
static void
s_task_limit(parse_t *p,
             size_t task,
             const yamldoc_node_t *key,
             const yamldoc_node_t *val)
{
    dag_task_t *t = TASK(p, task);
    uint64_t v = 0;
    if (!strcmp(key->value, "pool")) {
        const char *name = s_string(p, val, "'pool'");
        if (name && !dag_name_ok(name)) {
            dagp_err(p, val,
                     "pool name '%.128s' may only use " DAG_NAME_RULE
                     "; rename it",
                     name);
        } else if (name) {
            free((void *) t->pool);
            t->pool = xstrdup(name);
        }
    } else if (!strcmp(key->value, "pool_slots")) {
        if (s_uint(p, val, "'pool_slots'", 1u << 20, &v) == 0 && v == 0) {
            dagp_err(p, val,
                     "'pool_slots' must be at least 1; write "
                     "'pool_slots: 1' or leave it out");
        }
        t->pool_slots = (uint32_t) v;
    } else if (s_uint(p, val, "'max_active'", 1u << 20, &v) == 0) {
        t->max_active = (uint32_t) v;
    }
}

static const dagkey_t s_task_keys[] = {
    {"pool", s_task_limit},
    {"pool_slots", s_task_limit},
    {"max_active", s_task_limit},
    {"priority", s_task_policy},
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
    {"trigger_rule", s_task_policy},
    {"skip_exit_code", s_task_skip_exit},
    {"resources", s_task_resources},
    {"limits", s_task_limits},
    {"labels", s_res_labels},
    {"inputs", s_task_io},
    {"outputs", s_task_io},
    {"sla", dagp_task_sla},
    {"file", dagp_task_sensor},
    {"min_size", dagp_task_sensor},
    {"stable_for", dagp_task_sensor},
    {"command", dagp_task_sensor},
    {"poke_interval", dagp_task_sensor},
    {"soft_fail", dagp_task_sensor},
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
        if (!dag_name_ok(id)) {
            dagp_err(p, val,
                     "task id '%.128s' may only use " DAG_NAME_RULE
                     "; rename it",
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
        dagp_err(p, p->src[task].node, "task #%zu has no 'id'; add 'id: NAME'",
                 task + 1);
        return;
    }
    void *prev = zhashx_lookup(p->dag->index, id);
    if (prev) {
        size_t first = (size_t) (uintptr_t) prev - 1;
        dagp_err(p, p->src[task].id_node,
                 "task id '%s' is already used on line "
                 "%zu; give each task its own id",
                 id, p->src[first].id_node->line);
        return;
    }
    zhashx_insert(p->dag->index, id, (void *) (uintptr_t) (task + 1));
}

static void
s_task(parse_t *p, size_t task, const yamldoc_node_t *node)
{
    p->src[task].node = node;
    TASK(p, task)->kind = s_kinds[0];
    if (node->type != YAMLDOC_MAP) {
        dagp_err(p, node,
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
               dagp_task_label(p, task, label, sizeof label));
    dag_task_t *t = TASK(p, task);
    const yamldoc_node_t *slots = dagp_map_get(node, "pool_slots");
    if (slots && !t->pool) {
        dagp_err(p, slots, "'pool_slots' needs a 'pool'; add 'pool: NAME'");
    }
    if (!dagp_map_get(node, "run") && strcmp(t->kind, "validate") &&
        strcmp(t->kind, "sensor")) {
        dagp_err(p, node, "%s has no 'run'; add 'run: COMMAND'",
                 dagp_task_label(p, task, label, sizeof label));
    }
    dagp_check_validate_task(p, task, node, label, sizeof label);
    dagp_check_sensor_task(p, task, node, label, sizeof label);
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
    if (!dag_name_ok(name)) {
        dagp_err(p, val,
                 "DAG name '%.128s' may only use " DAG_NAME_RULE "; rename it",
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

/* schedule, timezone, start_date, end_date: texts checked together once
 * the file is read (dagp_check_schedule), since start_date is read in the
 * zone, which may come later in the file. */
static void
s_top_sched_text(parse_t *p,
                 size_t task,
                 const yamldoc_node_t *key,
                 const yamldoc_node_t *val)
{
    (void) task;

    const struct {
        const char *name;
        char **field;
        const yamldoc_node_t **at;
    } keys[] = {
        {"schedule", &p->dag->schedule, &p->schedule_at},
        {"timezone", &p->dag->timezone, &p->timezone_at},
        {"start_date", &p->dag->start_date, &p->start_at},
        {"end_date", &p->dag->end_date, &p->end_at},
    };

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(key->value, keys[i].name) != 0 || yamldoc_is_null(val)) {
            continue;
        }
        char what[32];
        snprintf(what, sizeof what, "'%s'", keys[i].name);
        const char *text = s_string(p, val, what);
        if (text) {
            free(*keys[i].field);
            *keys[i].field = xstrdup(text);
            *keys[i].at = val;
        }
    }
}

static void
s_top_catchup(parse_t *p,
              size_t task,
              const yamldoc_node_t *key,
              const yamldoc_node_t *val)
{
    (void) task, (void) key;
    const char *text = s_string(p, val, "'catchup'");
    if (text && !strcmp(text, "true")) {
        p->dag->catchup = true;
    } else if (text && strcmp(text, "false")) {
        dagp_err(p, val, "'catchup' must be true or false, not '%s'", text);
    }
}

/* max_active_runs: N (at least 1) and max_active_tasks: N (0 = none). */
static void
s_top_max_active(parse_t *p,
                 size_t task,
                 const yamldoc_node_t *key,
                 const yamldoc_node_t *val)
{
    (void) task;
    char what[64];
    snprintf(what, sizeof what, "'%s'", key->value);
    uint64_t v;
    if (s_uint(p, val, what, 1u << 20, &v) < 0) {
        return;
    }
    if (!strcmp(key->value, "max_active_tasks")) {
        p->dag->max_active_tasks = (uint32_t) v;
    } else if (v == 0) {
        dagp_err(p, val,
                 "'max_active_runs' must be at least 1; write "
                 "'max_active_runs: 1' for one run at a time");
    } else {
        p->dag->max_active_runs = (uint32_t) v;
    }
}

static void
s_top_params(parse_t *p,
             size_t task,
             const yamldoc_node_t *key,
             const yamldoc_node_t *val)
{
    (void) task, (void) key;
    dagp_read_params(p, val);
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
    {"retry_on", s_default_key},        {"priority", s_default_key},
    {"trigger_rule", s_default_key},
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
                  "write 'retries', 'retry_delay', 'max_retry_delay', "
                  "'timeout', 'retry_on', 'priority' or 'trigger_rule' "
                  "under it");
}

static void
s_top_tasks(parse_t *p,
            size_t task,
            const yamldoc_node_t *key,
            const yamldoc_node_t *val)
{
    (void) p, (void) task, (void) key, (void) val; /* read last */
}

/* trigger: {datasets: [URI, ...]}: a new version of any of them triggers a
 * run. */
static void
s_trigger_datasets(parse_t *p,
                   size_t task,
                   const yamldoc_node_t *key,
                   const yamldoc_node_t *val)
{
    (void) key;
    dagp_free_strings(p->dag->triggers, p->dag->ntriggers);
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

static void
s_top_alerts(parse_t *p,
             size_t task,
             const yamldoc_node_t *key,
             const yamldoc_node_t *val)
{
    (void) task, (void) key;
    dagp_read_alerts(p, val);
}

static const dagkey_t s_top_keys[] = {
    {"dag", s_top_dag},
    {"description", s_top_description},
    {"schedule", s_top_sched_text},
    {"params", s_top_params},
    {"defaults", s_top_defaults},
    {"tasks", s_top_tasks},
    {"trigger", s_top_trigger},
    {"timezone", s_top_sched_text},
    {"start_date", s_top_sched_text},
    {"end_date", s_top_sched_text},
    {"catchup", s_top_catchup},
    {"max_active_runs", s_top_max_active},
    {"max_active_tasks", s_top_max_active},
    {"alerts", s_top_alerts},
    {"deadline", dagp_top_deadline},
    {"expect", dagp_top_expect},
};

static void
s_tasks(parse_t *p, const yamldoc_node_t *tasks)
{
    if (tasks->type != YAMLDOC_SEQ) {
        dagp_err(p, tasks,
                 "'tasks' must be a list, not %s; write each task as "
                 "'- id: NAME'",
                 yamldoc_type_name(tasks));
        return;
    }
    if (tasks->count == 0) {
        dagp_err(p, tasks, "'tasks' is empty; add at least one task");
        return;
    }
    if (tasks->count > DAG_MAX_TASKS) {
        dagp_err(p, tasks,
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

/* ---- the whole file ---- */

void
dagp_read_document(parse_t *p, const yamldoc_node_t *root)
{
    if (!root) {
        dagp_err(p, NULL,
                 "the file is empty; start it with 'dag: NAME' and a "
                 "'tasks:' list");
        return;
    }
    if (root->type != YAMLDOC_MAP) {
        dagp_err(p, root,
                 "the file must be a mapping with 'dag' and 'tasks' "
                 "keys, not %s; start it with 'dag: NAME'",
                 yamldoc_type_name(root));
        return;
    }
    s_walk_map(p, 0, root, s_top_keys, sizeof s_top_keys / sizeof s_top_keys[0],
               "the DAG file");
    if (!dagp_map_get(root, "dag")) {
        dagp_err(p, root,
                 "the file has no 'dag' key; add 'dag: NAME' at the "
                 "top");
    }
    const yamldoc_node_t *tasks = dagp_map_get(root, "tasks");
    if (!tasks) {
        dagp_err(p, root,
                 "the file has no 'tasks' key; add a 'tasks:' list "
                 "with at least one task");
        return;
    }
    s_tasks(p, tasks);
}
