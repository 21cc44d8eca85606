/* dag_sensor — the keys of a `kind: sensor` task (common/sensor.h): what
 * it waits for (`file:` or `command:`) and how (`poke_interval`,
 * `soft_fail`; `timeout` is the task's own key). */
#include "common/dag_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/duration.h"
#include "common/sensor.h"
#include "common/xalloc.h"

/* The keys only a sensor may have. */
static const char *const s_sensor_keys[] = {
    "file", "min_size", "stable_for", "command", "poke_interval", "soft_fail"};
#define SENSOR_KEY_COUNT (sizeof s_sensor_keys / sizeof s_sensor_keys[0])

static const char *
s_scalar(parse_t *p, const yamldoc_node_t *key, const yamldoc_node_t *val)
{
    if (val->type != YAMLDOC_SCALAR || yamldoc_is_null(val) || !*val->value) {
        dagp_err(p, val, "'%s' must be a non-empty string, not %s", key->value,
                 yamldoc_type_name(val));
        return NULL;
    }
    return val->value;
}

/* A duration key, into *ms: 0 or -1 (reported). */
static int
s_ms(parse_t *p,
     const yamldoc_node_t *key,
     const yamldoc_node_t *val,
     uint64_t *ms)
{
    const char *text = s_scalar(p, key, val);
    if (text && duration_parse(text, ms) == 0) {
        return 0;
    }
    if (text) {
        dagp_err(p, val, "'%s' is not a duration: '%s'; " DURATION_HINT,
                 key->value, text);
    }
    return -1;
}

void
dagp_task_sensor(parse_t *p,
                 size_t task,
                 const yamldoc_node_t *key,
                 const yamldoc_node_t *val)
{
    dag_task_t *t = TASK(p, task);
    const char *name = key->value;
    const char *text = s_scalar(p, key, val);
    uint64_t v = 0;
    if (!text) {
        return;
    }
    if (!strcmp(name, "file")) {
        free((void *) t->sensor_file);
        t->sensor_file = xstrdup(text);
        dagp_check_tmpl(p, task, val, "'file'");
    } else if (!strcmp(name, "command")) {
        free((void *) t->run);
        t->run = xstrdup(text);
        dagp_check_tmpl(p, task, val, "'command'");
    } else if (!strcmp(name, "min_size")) {
        char *end = NULL;
        strtoull(text, &end, 10);
        if (*text < '0' || *text > '9' || *end) {
            dagp_err(p, val,
                     "'min_size' is a size in bytes, like 1024, not '%s'",
                     text);
        }
    } else if (!strcmp(name, "soft_fail")) {
        t->soft_fail = !strcmp(text, "true");
        if (!t->soft_fail && strcmp(text, "false")) {
            dagp_err(p, val, "'soft_fail' must be true or false, not '%s'",
                     text);
        }
    } else if (s_ms(p, key, val, &v) == 0 && !strcmp(name, "poke_interval")) {
        if (v == 0) {
            dagp_err(p, val,
                     "'poke_interval' must be more than 0; write "
                     "'poke_interval: 30s' or leave it out");
        }
        t->poke_interval_ms = v;
    }
}

/* Adds NAME=value to the task's env: the file check's settings travel to
 * the worker there, rendered with the rest. */
static void
s_env_add(dag_task_t *t, const char *name, char *value)
{
    dag_kv_t *env = xrealloc((void *) t->env, (t->nenv + 2) * sizeof *env);
    env[t->nenv].name = xstrdup(name);
    env[t->nenv].value = value;
    t->nenv++;
    memset(&env[t->nenv], 0, sizeof env[t->nenv]);
    t->env = env;
}

static void
s_file_env(dag_task_t *t, const yamldoc_node_t *node)
{
    const yamldoc_node_t *min = dagp_map_get(node, "min_size");
    const yamldoc_node_t *stable = dagp_map_get(node, "stable_for");
    uint64_t stable_ms = 0;
    if (stable && stable->type == YAMLDOC_SCALAR) {
        duration_parse(stable->value, &stable_ms);
    }
    s_env_add(t, SENSOR_ENV_FILE, xstrdup(t->sensor_file));
    s_env_add(t, SENSOR_ENV_MIN_SIZE,
              xstrdup(min && min->type == YAMLDOC_SCALAR ? min->value : "0"));
    s_env_add(t, SENSOR_ENV_STABLE_MS, xasprintf("%" PRIu64, stable_ms));
}

void
dagp_check_sensor_task(parse_t *p,
                       size_t task,
                       const yamldoc_node_t *node,
                       char *label,
                       size_t size)
{
    dag_task_t *t = TASK(p, task);
    dagp_task_label(p, task, label, size);
    if (strcmp(t->kind, "sensor")) {
        for (size_t i = 0; i < SENSOR_KEY_COUNT; i++) {
            const yamldoc_node_t *at = dagp_map_get(node, s_sensor_keys[i]);
            if (at) {
                dagp_err(p, at,
                         "%s has '%s' but is not a sensor; add 'kind: "
                         "sensor'",
                         label, s_sensor_keys[i]);
            }
        }
        return;
    }
    const yamldoc_node_t *file = dagp_map_get(node, "file");
    const yamldoc_node_t *cmd = dagp_map_get(node, "command");
    if (dagp_map_get(node, "run")) {
        dagp_err(p, dagp_map_get(node, "run"),
                 "%s is a sensor; write its check as 'command: CMD' or "
                 "'file: PATH', not 'run'",
                 label);
    } else if (!file == !cmd) {
        dagp_err(p, node,
                 "%s needs exactly one of 'file: PATH' and "
                 "'command: CMD'",
                 label);
    } else if (cmd && (dagp_map_get(node, "min_size") ||
                       dagp_map_get(node, "stable_for"))) {
        dagp_err(p, node,
                 "%s: 'min_size' and 'stable_for' go with 'file', "
                 "not 'command'",
                 label);
    } else if (file && t->sensor_file) {
        s_file_env(t, node);
    }
    if (t->poke_interval_ms == 0) {
        t->poke_interval_ms = SENSOR_POKE_INTERVAL_MS;
    }
}
