/* dag_check — the rules a DAG file must keep beyond its keys: names,
 * template names, validate tasks, and the task graph (every 'after' names
 * a task, no cycles), then the defaults each task inherits. */
#include "common/dag_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cron.h"
#include "common/dtime.h"
#include "common/sensor.h"
#include "common/shell.h"
#include "common/taskresult.h"
#include "common/tmpl.h"
#include "common/tz.h"
#include "common/xalloc.h"

#define DEFAULT_RETRY_DELAY_MS     (10 * 1000ULL)
#define DEFAULT_MAX_RETRY_DELAY_MS (3600 * 1000ULL)

bool
dag_name_ok(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > DAG_NAME_MAX || !strcmp(name, ".") ||
        !strcmp(name, "..")) {
        return false;
    }
    for (const char *c = name; *c; c++) {
        if (!isalnum((unsigned char) *c) && !strchr("_.-", *c)) {
            return false;
        }
    }
    return true;
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

const char *
dagp_cause_hint(const char *name)
{
    return yamldoc_suggest(name, s_cause_names, DAG_CAUSE_COUNT);
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

/* ---- trigger rules ---- */

static const char *const s_rule_names[DAG_RULE_COUNT] = {
    "all_success",
    "all_failed",
    "all_done",
    "one_success",
    "one_failed",
    "none_failed",
    "none_failed_min_one_success",
    "always"};

int
dag_rule_parse(const char *name, dag_rule_t *rule)
{
    for (int i = 0; i < DAG_RULE_COUNT; i++) {
        if (name && !strcmp(name, s_rule_names[i])) {
            *rule = (dag_rule_t) i;
            return 0;
        }
    }
    return -1;
}

const char *
dag_rule_name(dag_rule_t rule)
{
    return rule < DAG_RULE_COUNT ? s_rule_names[rule] : "?";
}

const char *
dagp_rule_hint(const char *name)
{
    return yamldoc_suggest(name, s_rule_names, DAG_RULE_COUNT);
}

/* ---- templates ---- */

typedef struct {
    parse_t *p;
    size_t task;
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
    if (!dag_name_ok(name)) {
        dagp_err_pos(t->p, line, col,
                     "%s of %s uses a bad secret name '%s'; a secret name may "
                     "only use " DAG_NAME_RULE,
                     t->field, t->label, name);
    } else if (strcmp(t->field, "'env'") != 0) {
        dagp_err_pos(t->p, line, col,
                     "%s of %s uses secret '%s'; secrets may only be used in "
                     "'env': pass it through env (e.g. 'env: {MY_VAR: \"{{ "
                     "secret.%s }}\"}') and read $MY_VAR",
                     t->field, t->label, name, name);
    }
}

/* Where a {{ ... | raw }} is, and whether it may be: raw only means
 * something in a command, and should carry a declared param, which only
 * operators supply. */
static void
s_tmpl_raw(tcheck_t *t, const tmpl_ref_t *ref, size_t line, size_t col)
{
    if (strcmp(t->field, "'run'") != 0) {
        dagp_err_pos(t->p, line, col,
                     "%s of %s uses '| raw', which only applies in 'run'; "
                     "remove it",
                     t->field, t->label);
    } else if (strncmp(ref->name, "params.", 7) != 0) {
        dagp_warn_pos(t->p, line, col,
                      "%s of %s inserts {{ %s }} unquoted ('| raw'): a "
                      "value that is not a declared param can run commands "
                      "in the task's shell; drop '| raw' unless you trust it",
                      t->field, t->label, ref->name);
    }
}

/* {{ tasks.ID.result[.FIELD] }}: its form now; whether ID is upstream
 * once every task and edge is known (s_result_refs). */
static void
s_tmpl_result(tcheck_t *t, const char *name, size_t line, size_t col)
{
    char *id = NULL;
    const char *field = NULL;
    if (taskresult_ref(name, &id, &field) < 0) {
        dagp_err_pos(t->p, line, col,
                     "%s of %s uses '%s'; write {{ tasks.ID.result }} or "
                     "{{ tasks.ID.result.FIELD }}",
                     t->field, t->label, name);
        return;
    }
    if (t->task >= t->p->dag->ntasks || !t->p->src) {
        free(id);
        return;
    }
    task_src_t *src = &t->p->src[t->task];
    src->refs = xrealloc(src->refs, (src->nrefs + 1) * sizeof *src->refs);
    src->refs[src->nrefs++] =
        (result_ref_t){.task = id, .field = t->field, .line = line, .col = col};
}

static void
s_tmpl_name(void *arg, const tmpl_ref_t *ref)
{
    tcheck_t *t = arg;
    const char *name = ref->name;
    size_t offset = ref->offset;
    static const char *const builtins[] = {
        "run_id",           "ds",           "task_id",
        "attempt",          "logical_date", "data_interval_start",
        "data_interval_end"};
    const size_t nbuiltins = sizeof builtins / sizeof builtins[0];
    size_t line, col;
    s_tmpl_pos(t->p, t->node, offset, &line, &col);
    if (ref->raw) {
        s_tmpl_raw(t, ref, line, col);
    }
    for (size_t i = 0; i < nbuiltins; i++) {
        if (!strcmp(name, builtins[i])) {
            return;
        }
    }
    if (!strncmp(name, "secret.", 7)) {
        s_tmpl_secret(t, name + 7, line, col);
        return;
    }
    if (!strncmp(name, "tasks.", 6)) {
        s_tmpl_result(t, name, line, col);
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
            dagp_err_pos(t->p, line, col,
                         "%s of %s uses unknown param '%s'; did you mean '%s'?",
                         t->field, t->label, param, hint);
        } else {
            dagp_err_pos(t->p, line, col,
                         "%s of %s uses unknown param '%s'; declare it under "
                         "'params'",
                         t->field, t->label, param);
        }
        free(names);
        return;
    }
    const char *hint = yamldoc_suggest(name, builtins, nbuiltins);
    dagp_err_pos(t->p, line, col,
                 "%s of %s uses unknown template name '%s'; %s%s%s", t->field,
                 t->label, name,
                 hint ? "did you mean '"
                      : "use run_id, ds, logical_date, "
                        "data_interval_start, data_interval_end, "
                        "task_id, attempt or params.NAME",
                 hint ? hint : "", hint ? "'?" : "");
}

/* ------------------------------------------------------------ schedule */

static tz_t *
s_check_zone(parse_t *p)
{
    errbuf_t err;
    const char *name = *p->dag->timezone ? p->dag->timezone : "UTC";
    tz_t *tz = tz_load(name, &err);
    if (!tz) {
        /* tz's message already says how to write the zone. */
        dagp_err(p, p->timezone_at, "'timezone': %s", errbuf_msg(&err));
    }
    return tz;
}

static bool
s_check_instant(parse_t *p,
                const yamldoc_node_t *at,
                const char *what,
                const char *text,
                const tz_t *tz,
                int64_t *ms)
{
    errbuf_t err;
    if (dtime_parse(text, tz, ms, &err) < 0) {
        dagp_err(p, at, "%s: %s", what, errbuf_msg(&err));
        return false;
    }
    return true;
}

void
dagp_check_schedule(parse_t *p)
{
    dag_t *dag = p->dag;
    errbuf_t err;
    if (*dag->schedule) {
        cron_t *cron = cron_parse(dag->schedule, &err);
        if (!cron) {
            dagp_err(p, p->schedule_at, "'schedule' %s", errbuf_msg(&err));
        }
        cron_destroy(&cron);
    }
    tz_t *tz = s_check_zone(p);
    if (!tz) {
        /* start/end are still checked for their form */
        tz = tz_load("UTC", NULL);
    }
    if (!tz) {
        return;
    }
    int64_t start = 0, end = 0;
    bool has_start =
        *dag->start_date && s_check_instant(p, p->start_at, "'start_date'",
                                            dag->start_date, tz, &start);
    bool has_end = *dag->end_date && s_check_instant(p, p->end_at, "'end_date'",
                                                     dag->end_date, tz, &end);
    if (has_start && has_end && end < start) {
        dagp_err(p, p->end_at,
                 "'end_date' %s is before 'start_date' %s; swap them or "
                 "remove 'end_date'",
                 dag->end_date, dag->start_date);
    }
    tz_destroy(&tz);
}

/* A command's params where no quoting holds (inside $(...), a comment, a
 * here-document ...): a value with shell characters is refused there at
 * dispatch, so say so now. */
typedef struct {
    tcheck_t *t;
    shell_lex_t lex;
} shellcheck_t;

/* Whether every value the param may take is a plain shell word: its type
 * allows nothing else (int, float, bool, date), or its enum lists only
 * such words. */
static bool
s_param_always_plain(const dag_t *dag, const char *name)
{
    for (size_t i = 0; i < dag->nparams; i++) {
        const dag_param_t *param = &dag->params[i];
        if (strcmp(param->name, name) != 0) {
            continue;
        }
        if (param->type != DAG_PARAM_STRING) {
            return true;
        }
        for (size_t j = 0; j < param->nenum; j++) {
            if (!shell_plain(param->enums[j])) {
                return false;
            }
        }
        return param->nenum > 0;
    }
    return false;
}

static int
s_shell_piece(void *arg,
              const char *text,
              size_t len,
              const tmpl_ref_t *ref,
              errbuf_t *err)
{
    (void) err;
    shellcheck_t *c = arg;
    shell_lex_feed(&c->lex, text, len);
    if (!ref) {
        return 0;
    }
    const char *why = NULL;
    if (ref->raw) {
        c->lex.sticky = "a value inserted with '| raw'";
    } else if (shell_lex_at(&c->lex, &why) == SHELL_AT_UNSAFE &&
               !strncmp(ref->name, "params.", 7) &&
               !s_param_always_plain(c->t->p->dag, ref->name + 7)) {
        char *env = dag_param_env_name(ref->name + 7);
        size_t line, col;
        s_tmpl_pos(c->t->p, c->t->node, ref->offset, &line, &col);
        dagp_warn_pos(c->t->p, line, col,
                      "'run' of %s has {{ %s }} inside %s, where a value "
                      "cannot be quoted: one that holds shell characters "
                      "(space, quote, ';', '$' ...) will be refused when the "
                      "task starts; read \"$%s\" instead",
                      c->t->label, ref->name, why, env);
        free(env);
    }
    shell_lex_value(&c->lex);
    return 0;
}

void
dagp_check_tmpl(parse_t *p,
                size_t task,
                const yamldoc_node_t *node,
                const char *field)
{
    char label[160];
    tcheck_t t = {p, task, node, field,
                  dagp_task_label(p, task, label, sizeof label)};
    errbuf_t err;
    errbuf_clear(&err);
    if (tmpl_scan(node->value, s_tmpl_name, &t, &err) != 0) {
        dagp_err(p, node, "%s of %s: %s", field, label, errbuf_msg(&err));
    } else if (!strcmp(field, "'run'")) {
        shellcheck_t c = {.t = &t};
        shell_lex_init(&c.lex);
        tmpl_walk(node->value, s_shell_piece, &c, &err);
    }
}

void
dagp_check_validate_task(parse_t *p,
                         size_t task,
                         const yamldoc_node_t *node,
                         char *label,
                         size_t size)
{
    const dag_task_t *t = TASK(p, task);
    bool is_validate = !strcmp(t->kind, "validate");
    if (is_validate && t->ninputs == 0) {
        dagp_err(p, node, "%s has nothing to validate; add 'inputs: [FILE]'",
                 dagp_task_label(p, task, label, size));
    } else if (is_validate && dagp_map_get(node, "run")) {
        dagp_err(p, dagp_map_get(node, "run"),
                 "%s is a validate task, which runs "
                 "no command; remove 'run'",
                 dagp_task_label(p, task, label, size));
    } else if (!is_validate && dagp_map_get(node, "validate")) {
        dagp_err(p, dagp_map_get(node, "validate"),
                 "%s has 'validate' but is not "
                 "a validate task; add 'kind: validate'",
                 dagp_task_label(p, task, label, size));
    }
}

/* ---- dependencies ---- */

/* What s_unknown_after needs: every task id (filled on the first miss) and
 * how many misses were hinted so far. */
typedef struct {
    const char **ids;
    size_t nids;
    size_t hinted;
} hints_t;

/* A hint costs a pass over every task id; past this many unknown names in
 * one file (a DAG full of typos, or of names from elsewhere) the rest get
 * none, so that checking stays linear in the size of the file. */
#define HINTS_MAX 32

/* Reports an 'after' name that is not a task, with the closest task id as
 * a hint. */
static void
s_unknown_after(parse_t *p, size_t task, size_t a, hints_t *h)
{
    dag_t *dag = p->dag;
    const char *name = p->src[task].after[a]->value;
    if (!h->ids) {
        h->ids = xcalloc(dag->ntasks + 1, sizeof *h->ids);
        for (size_t j = 0; j < dag->ntasks; j++) {
            if (dag->tasks[j].id) {
                h->ids[h->nids++] = dag->tasks[j].id;
            }
        }
    }
    char label[160];
    const char *hint =
        h->hinted++ < HINTS_MAX ? yamldoc_suggest(name, h->ids, h->nids) : NULL;
    dagp_err(p, p->src[task].after[a],
             "%s waits for '%s', which is not defined; %s%s%s",
             dagp_task_label(p, task, label, sizeof label), name,
             hint ? "did you mean '"
                  : "define it or remove it from "
                    "'after'",
             hint ? hint : "", hint ? "'?" : "");
}

/* Turns 'after' names into indexes; reports names that are not tasks. */
static void
s_resolve(parse_t *p)
{
    dag_t *dag = p->dag;
    hints_t hints = {0};
    /* seen[up] == i + 1: task i already waits for up (a repeated name in
     * one 'after' counts once), in constant time per entry. */
    size_t *seen = xcalloc(dag->ntasks + 1, sizeof *seen);
    for (size_t i = 0; i < dag->ntasks; i++) {
        task_src_t *src = &p->src[i];
        size_t *after = xcalloc(src->nafter + 1, sizeof *after);
        size_t n = 0;
        for (size_t a = 0; a < src->nafter; a++) {
            void *hit = zhashx_lookup(dag->index, src->after[a]->value);
            if (!hit) {
                s_unknown_after(p, i, a, &hints);
                continue;
            }
            size_t up = (size_t) (uintptr_t) hit - 1;
            if (seen[up] != i + 1) {
                seen[up] = i + 1;
                after[n++] = up;
            }
        }
        dag->tasks[i].after = after;
        dag->tasks[i].nafter = n;
    }
    free(seen);
    free(hints.ids);
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
    dagp_err(p, at,
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
        task->priority = t->has_priority   ? t->priority
                         : d->has_priority ? d->priority
                                           : 0;
        task->trigger_rule = t->has_rule   ? t->rule
                             : d->has_rule ? d->rule
                                           : DAG_RULE_ALL_SUCCESS;
        if (task->pool_slots == 0) {
            task->pool_slots = 1;
        }
        if (!strcmp(task->kind, "sensor")) {
            /* a sensor's timeout bounds its whole wait; a poke never
             * outlasts it */
            task->sensor_timeout_ms =
                task->timeout_ms ? task->timeout_ms : SENSOR_TIMEOUT_MS;
            task->timeout_ms = task->sensor_timeout_ms;
        }
    }
}

/* Whether task `up` is upstream of task `task`, through any path of
 * 'after' edges (a visited mark per task bounds the walk, cycles too). */
static bool
s_upstream(const dag_t *dag, size_t task, size_t up)
{
    bool *seen = xcalloc(dag->ntasks, sizeof *seen);
    size_t *stack = xcalloc(dag->ntasks + 1, sizeof *stack);
    size_t top = 0;
    bool found = false;
    stack[top++] = task;
    seen[task] = true;
    while (top > 0 && !found) {
        const dag_task_t *t = &dag->tasks[stack[--top]];
        for (size_t i = 0; i < t->nafter && !found; i++) {
            size_t a = t->after[i];
            found = a == up;
            if (!seen[a]) {
                seen[a] = true;
                stack[top++] = a;
            }
        }
    }
    free(stack);
    free(seen);
    return found;
}

/* A template may only read the result of a task that finished before
 * its task starts: one upstream of it. */
static void
s_result_refs(parse_t *p)
{
    for (size_t i = 0; i < p->dag->ntasks; i++) {
        const task_src_t *src = &p->src[i];
        for (size_t r = 0; r < src->nrefs; r++) {
            const result_ref_t *ref = &src->refs[r];
            void *found = zhashx_lookup(p->dag->index, ref->task);
            size_t up = found ? (size_t) (uintptr_t) found - 1 : 0;
            char label[160];
            dagp_task_label(p, i, label, sizeof label);
            if (!found) {
                dagp_err_pos(p, ref->line, ref->col,
                             "%s of %s reads the result of task '%s', which "
                             "is not defined",
                             ref->field, label, ref->task);
            } else if (!s_upstream(p->dag, i, up)) {
                dagp_err_pos(p, ref->line, ref->col,
                             "%s of %s reads the result of task '%s', which "
                             "is not upstream of it; add '%s' to its "
                             "'after' (directly or through another task)",
                             ref->field, label, ref->task, ref->task);
            }
        }
    }
}

/* What can be known of a branch before it runs: it has children to
 * choose from, and it runs every time (a cache hit would not know which
 * children it chose). */
static void
s_branches(parse_t *p)
{
    for (size_t i = 0; i < p->dag->ntasks; i++) {
        const dag_task_t *t = &p->dag->tasks[i];
        const yamldoc_node_t *node = p->src[i].node;
        char label[160];
        if (strcmp(t->kind, "branch") != 0 || !node) {
            continue;
        }
        dagp_task_label(p, i, label, sizeof label);
        if (t->nchildren == 0) {
            dagp_err(p, node,
                     "%s is a branch task but no task runs after it; add "
                     "the tasks it chooses from, each with 'after: [%s]'",
                     label, t->id ? t->id : "ID");
        }
        if (t->cache) {
            dagp_err(p, dagp_map_get(node, "cache"),
                     "%s is a branch task, which cannot use 'cache' (a cache "
                     "hit would not know which tasks it chose); remove "
                     "'cache'",
                     label);
        }
    }
}

void
dagp_check_tasks(parse_t *p)
{
    s_resolve(p);
    s_children(p->dag);
    s_cycles(p);
    s_policies(p);
    s_result_refs(p);
    s_branches(p);
}
