/* dag_internal — what the files of the dag module share; nothing outside
 * common/dag*.c includes it.
 *
 * The module is four files, each calling only the ones below it:
 *   dag.c        the dag_t object: dag_parse, dag_parse_file, accessors
 *   dag_read.c   reads the YAML keys of the file into a dag_t
 *   dag_check.c  checks names, templates and the task graph
 *   dag_params.c reads param declarations and checks values against them
 *   dag_ctx.c    the parse context: problems with their positions
 * Functions shared between the files are named dagp_ (the dag parser). */
#ifndef SLUICE_DAG_INTERNAL_H
#define SLUICE_DAG_INTERNAL_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dag.h"
#include "common/yamldoc.h"

struct dag_t {
    char *name;        /* owned */
    char *description; /* owned, "" when none */
    char *schedule;    /* owned, "" when none */
    char *timezone;    /* owned, "" when none (the config's applies) */
    char *start_date;  /* owned, as written, "" when none */
    char *end_date;    /* owned, as written, "" when none */
    bool catchup;      /* run every missed interval, not just the last */
    char version[65];  /* BLAKE2b-256 of the source, hex */
    char *file;        /* owned: the file name given to dag_parse */
    size_t nparams;
    dag_param_t *params; /* owned array; every string inside owned */
    size_t ntasks;
    dag_task_t *tasks;           /* owned array; every pointer inside owned */
    zhashx_t *index;             /* id -> index + 1, keys copied */
    size_t ntriggers;            /* trigger: datasets */
    const char *const *triggers; /* owned array of owned URIs */
    uint32_t max_active_runs;    /* DAG_DEFAULT_MAX_ACTIVE_RUNS unless set */
    uint32_t max_active_tasks;   /* 0 = no limit */
    size_t nroutes;              /* alerts: routes */
    dag_alert_route_t *routes;   /* owned array; `to` lists owned */
    uint64_t deadline_ms;        /* deadline; 0 = none */
    char expect_by[6];           /* expect: success_by "HH:MM"; "" */
    zlist_t *warnings;           /* "FILE:L:C: warning: ...", owned */
};

/* Retry and timeout settings as written, before defaults apply. */
typedef struct {
    bool has_retries, has_delay, has_max, has_timeout, has_retry_on;
    bool has_priority, has_rule;
    int32_t priority;
    dag_rule_t rule;
    uint32_t retries;
    uint64_t delay_ms, max_ms, timeout_ms;
    unsigned retry_on; /* DAG_CAUSE_* bits */
} policy_t;

/* A {{ tasks.ID.result }} in a task's templates, checked against the
 * graph once every task was read. */
typedef struct {
    char *task;        /* the ID named; owned */
    const char *field; /* "'run'", "'env'", ...: a literal */
    size_t line, col;
} result_ref_t;

/* What parsing a task keeps besides the public view: where things were. */
typedef struct {
    const yamldoc_node_t *node;    /* the task's mapping */
    const yamldoc_node_t *id_node; /* NULL when missing */
    size_t nafter;
    const yamldoc_node_t **after; /* the names in 'after', owned array */
    policy_t policy;
    result_ref_t *refs; /* owned array */
    size_t nrefs;
} task_src_t;

typedef struct {
    size_t line, col, seq;
    char *msg; /* "FILE:L:C: ..." owned */
} perr_t;

/* One parse of one file: the source, the problems found so far, the dag_t
 * being filled and, per task, where its parts were written. */
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
    /* Where the schedule keys were written (NULL when not), checked
     * together once the whole file was read. */
    const yamldoc_node_t *schedule_at, *timezone_at, *start_at, *end_at;
} parse_t;

#define TASK(p, i) (&(p)->dag->tasks[i])

/* ---- dag_ctx.c ---- */

/* Records one problem at a node (NULL: the top of the file). */
void dagp_err(parse_t *p, const yamldoc_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records a warning at a line and column: the file is valid, but something
 * in it deserves a second look. */
void dagp_warn_pos(parse_t *p, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records one problem at a line and column. */
void dagp_err_pos(parse_t *p, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "task 'id'" or "task #3" for messages, written into buf. */
const char *dagp_task_label(parse_t *p, size_t task, char *buf, size_t size);

/* The value of key `name` in a mapping, or NULL. */
const yamldoc_node_t *dagp_map_get(const yamldoc_node_t *map, const char *name);

/* Frees an array of n owned strings and the array. */
void dagp_free_strings(const char *const *list, size_t n);

/* ---- dag_check.c ---- */

/* The cause name closest to a misspelt one, or NULL. */
const char *dagp_cause_hint(const char *name);

/* The trigger rule name closest to a misspelt one, or NULL. */
const char *dagp_rule_hint(const char *name);

/* Checks the template names in a scalar of a task (field: "'run'", ...):
 * params must be declared, secrets only used in 'env'. */
void dagp_check_tmpl(parse_t *p,
                     size_t task,
                     const yamldoc_node_t *node,
                     const char *field);

/* A validate task checks an input and runs nothing; 'validate' belongs to
 * validate tasks only. */
void dagp_check_validate_task(parse_t *p,
                              size_t task,
                              const yamldoc_node_t *node,
                              char *label,
                              size_t size);

/* Checks 'schedule' (a cron expression), 'timezone' (a known zone) and
 * 'start_date'/'end_date' (instants, in that order). */
void dagp_check_schedule(parse_t *p);

/* After every task was read: turns 'after' names into indexes, links
 * children, reports cycles, and applies the defaults to each task. */
void dagp_check_tasks(parse_t *p);

/* ---- dag_read.c ---- */

/* Reads the whole document into p->dag. p->src is set when the tasks
 * were read and dagp_check_tasks can run. */
void dagp_read_document(parse_t *p, const yamldoc_node_t *root);

/* ---- dag_params.c ---- */

/* params: {NAME: DEFAULT | {type: .., default: .., ...}, ...} */
void dagp_read_params(parse_t *p, const yamldoc_node_t *val);

/* After the whole file was read: a required param needs a manual
 * trigger, so a DAG with a schedule or dataset trigger must not have one. */
void dagp_check_params(parse_t *p);

void dagp_free_params(dag_t *dag);

/* ---- dag_alerts.c ---- */

/* alerts: [{on: [EVENT, ...], to: [TARGET, ...]}, ...] */
void dagp_read_alerts(parse_t *p, const yamldoc_node_t *val);

void dagp_free_alerts(dag_t *dag);

/* The keys of a sensor (common/dag_sensor.c): one reader for them all,
 * and the check once the task is read, which puts a file sensor's
 * settings into its env. */
void dagp_task_sensor(parse_t *p,
                      size_t task,
                      const yamldoc_node_t *key,
                      const yamldoc_node_t *val);
void dagp_check_sensor_task(parse_t *p,
                            size_t task,
                            const yamldoc_node_t *node,
                            char *label,
                            size_t size);

/* A task's `sla`, the DAG's `deadline` and `expect`, as key readers. */
void dagp_task_sla(parse_t *p,
                   size_t task,
                   const yamldoc_node_t *key,
                   const yamldoc_node_t *val);

void dagp_top_deadline(parse_t *p,
                       size_t task,
                       const yamldoc_node_t *key,
                       const yamldoc_node_t *val);

void dagp_top_expect(parse_t *p,
                     size_t task,
                     const yamldoc_node_t *key,
                     const yamldoc_node_t *val);

#endif
