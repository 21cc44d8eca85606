/* dag — the DAG file: parse (libyaml), validate, and read back.
 *
 * One YAML file, one DAG. dag_parse reports every problem it finds, each as
 * "FILE:LINE:COL: what is wrong; what to do", and returns NULL when there was
 * any error. A parsed dag_t is immutable; tasks are read through the
 * dag_task_t view, valid as long as the dag_t lives. */
#ifndef SLUICE_DAG_H
#define SLUICE_DAG_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"

/* Limits that keep hostile files bounded. The file size leaves room for
 * DAG_MAX_TASKS tasks of a few lines each. */
#define DAG_MAX_FILE_SIZE (8 * 1024 * 1024) /* 8 MiB of YAML */
#define DAG_MAX_TASKS     100000
#define DAG_MAX_DEPTH     64

typedef struct dag_t dag_t;

/* Why an attempt failed, as a bit for retry_on. */
#define DAG_CAUSE_EXIT    (1u << 0) /* exited with a non-zero status */
#define DAG_CAUSE_SIGNAL  (1u << 1) /* killed by a signal */
#define DAG_CAUSE_OOM     (1u << 2) /* over its memory limit, or OOM-killed */
#define DAG_CAUSE_TIMEOUT (1u << 3) /* ran past its timeout */
#define DAG_CAUSE_LOST    (1u << 4) /* its worker was lost or left */
#define DAG_CAUSE_COUNT   5

typedef struct {
    const char *name;
    const char *value;
} dag_kv_t;

/* trigger_rule: when a task may run, read from its direct upstream tasks'
 * states, as Airflow defines the rules of the same names (docs/flow.md,
 * "Trigger rules", has the table). */
typedef enum {
    DAG_RULE_ALL_SUCCESS = 0, /* the default */
    DAG_RULE_ALL_FAILED,
    DAG_RULE_ALL_DONE,
    DAG_RULE_ONE_SUCCESS,
    DAG_RULE_ONE_FAILED,
    DAG_RULE_NONE_FAILED,
    DAG_RULE_NONE_FAILED_MIN_ONE_SUCCESS,
    DAG_RULE_ALWAYS,
    DAG_RULE_COUNT
} dag_rule_t;

/* A task, read-only. Durations in ms; 0 = not set/none. */
typedef struct {
    const char *id;
    const char *kind; /* "command" unless set */
    const char *run;  /* template text, NULL for validate tasks */
    size_t nafter;
    const size_t *after; /* indexes of upstream tasks */
    size_t nchildren;
    const size_t *children; /* indexes of downstream tasks */
    size_t nenv;
    const dag_kv_t *env;         /* values are templates */
    uint32_t retries;            /* from task, else defaults, else 0 */
    uint64_t retry_delay_ms;     /* task, else defaults, else 10s */
    uint64_t max_retry_delay_ms; /* task, else defaults, else 1h */
    uint64_t timeout_ms;         /* task, else defaults, else 0 (none) */
    unsigned retry_on;           /* DAG_CAUSE_* bits; 0 = not set: every
                                    failure is retried, and a lost attempt
                                    is re-queued without using a retry */
    uint32_t cpus;               /* resources; 0 = not asked */
    uint64_t memory_mb;
    uint32_t gpus;
    size_t nlabels;
    const char *const *labels;
    size_t ninputs;
    const char *const *inputs;
    size_t noutputs;
    const char *const *outputs;
    uint32_t limit_nofile; /* limits: RLIMIT_NOFILE; 0 = the worker's */
    uint32_t limit_nproc;  /* limits: RLIMIT_NPROC; 0 = the worker's */
    const char *validate;  /* kind validate: its checks as canonical JSON
                             (common/vspec.h), a template; NULL = none */
    bool cache;          /* cache: true: skip when a run with the same command,
                   definition and input hashes succeeded */
    const char *pool;    /* pool: the pool it takes slots of; NULL = none */
    uint32_t pool_slots; /* pool_slots: slots it takes (1 unless set) */
    uint32_t max_active; /* max_active: at most this many of this task
                            running across the DAG's runs; 0 = no limit */
    int32_t priority;    /* priority, else defaults, else 0: higher first */
    uint64_t sla_ms;     /* sla: alert when not done this long after its run
                            started; 0 = none */
    dag_rule_t trigger_rule; /* task, else defaults, else all_success */
    int skip_exit_code;      /* skip_exit_code: the command exiting with it
                                makes the task skipped; 0 = none */
    /* kind sensor (common/sensor.h): `run` holds its `command:`, or NULL
     * with `file:`, which travels to the worker's built-in check in env. */
    const char *sensor_file;    /* file: path or glob, a template; owned */
    uint64_t poke_interval_ms;  /* poke_interval: 30s unless set */
    uint64_t sensor_timeout_ms; /* timeout: from the first poke, task, else
                                   defaults, else 1h; also caps each poke */
    bool soft_fail;             /* soft_fail: skipped, not failed, on timeout */
} dag_task_t;

/* Parses and validates YAML text. filename is used in messages only.
 * Every problem is appended to errors (owned strings; errors may be NULL to
 * discard them). Returns NULL when there was at least one error. */
dag_t *
dag_parse(const char *filename, const char *text, size_t size, zlist_t *errors);

/* Reads and parses a file (refusing files over DAG_MAX_FILE_SIZE). */
dag_t *dag_parse_file(const char *path, zlist_t *errors);

void dag_destroy(dag_t **self_p);

const char *dag_name(const dag_t *self);

/* What a valid file holds that deserves a second look, each as
 * "FILE:LINE:COL: warning: ...": borrowed, never NULL. */
zlist_t *dag_warnings(const dag_t *self);

const char *dag_description(const dag_t *self); /* "" when none */

/* When scheduled runs start: a cron expression, a macro (@daily) or
 * "@every DURATION" (common/cron.h); "" when none. */
const char *dag_schedule(const dag_t *self);

/* The IANA zone the schedule and {{ ds }} are read in; "" when the file
 * names none (the scheduler's `timezone` setting applies). */
const char *dag_timezone(const dag_t *self);

/* The first data interval starts at or after start_date; none starts after
 * end_date. As written (a date or a time, common/dtime.h, read in the
 * DAG's zone when it has no offset); "" when not set. */
const char *dag_start_date(const dag_t *self);

const char *dag_end_date(const dag_t *self);

/* catchup: true: after a downtime every missed interval runs; false (the
 * default): only the most recent one. */
bool dag_catchup(const dag_t *self);

/* max_active_runs: runs of the DAG running at once (default 16); further
 * runs wait queued, in order of creation. */
#define DAG_DEFAULT_MAX_ACTIVE_RUNS 16

uint32_t dag_max_active_runs(const dag_t *self);

/* max_active_tasks: tasks of the DAG running at once across all its runs;
 * 0 = no limit. */
uint32_t dag_max_active_tasks(const dag_t *self);

/* The range `priority` takes. */
#define DAG_PRIORITY_MAX 10000

/* The content hash of the source text (BLAKE2b-256, hex, 64 chars): the
 * DAG's version. */
const char *dag_version(const dag_t *self);

/* The name of the file the DAG was parsed from, as given to dag_parse
 * ("<dag>" when none): messages cite declarations as FILE:LINE. */
const char *dag_file(const dag_t *self);

/* What a param's values must look like. */
typedef enum {
    DAG_PARAM_STRING, /* any text without NUL (the plain form) */
    DAG_PARAM_INT,    /* a decimal whole number that fits int64 */
    DAG_PARAM_FLOAT,  /* a finite decimal number, e.g. 0.5 or 1e-3 */
    DAG_PARAM_BOOL,   /* true or false */
    DAG_PARAM_DATE    /* YYYY-MM-DD, a real calendar date */
} dag_param_type_t;

/* A declared param, read-only: `name: value` (a string with that
 * default) or `name: {type: T, default: V, min: .., max: .., enum: [..],
 * pattern: ".."}`. Strings are as written in the file. */
typedef struct {
    const char *name;  /* an identifier: [A-Za-z_][A-Za-z0-9_]* */
    const char *value; /* the default; "" when required */
    bool required;     /* declared without a default: a run needs a value */
    dag_param_type_t type;
    const char *min; /* int and float: the least value allowed; NULL = none */
    const char *max; /* int and float: the greatest; NULL = none */
    size_t nenum;
    const char *const *enums; /* the only values allowed; none when 0 */
    const char *pattern;      /* string: a POSIX extended regex a value must
                                 match (anchored as written); NULL = none */
    size_t line, col;         /* where its name is in dag_file() */
} dag_param_t;

/* The declared params, in file order. */
size_t dag_param_count(const dag_t *self);

const dag_param_t *dag_param(const dag_t *self, size_t index);

/* "string", "int", "float", "bool" or "date". */
const char *dag_param_type_name(dag_param_type_t type);

/* The environment variable a task finds param `name` in:
 * "SLUICE_PARAM_" and the name in upper case, any byte that is not a
 * letter or digit as '_'. Caller owns the result. */
char *dag_param_env_name(const char *name);

/* The params of a new run: the given values (names and values borrowed,
 * NULL when ngiven is 0) over the declared defaults, written into out,
 * which holds dag_param_count() entries, in declaration order, borrowing
 * from given and self. Every value is checked against its declaration.
 * -1 with err set ("param 'limit' = '0': below min 1 (declared at
 * FILE:LINE); give --param limit=N with ...") when a name is not
 * declared, a required param has no value, or a value breaks its rules;
 * a run must then not be created. */
int dag_params_resolve(const dag_t *self,
                       const dag_kv_t *given,
                       size_t ngiven,
                       dag_kv_t *out,
                       errbuf_t *err);

size_t dag_task_count(const dag_t *self);

/* Tasks in file order; index < dag_task_count. */
const dag_task_t *dag_task(const dag_t *self, size_t index);

/* The dataset URIs of `trigger: {datasets: [...]}`: a new version of any
 * of them triggers a run of the DAG. */
size_t dag_trigger_count(const dag_t *self);

const char *dag_trigger_dataset(const dag_t *self, size_t index);

/* One route of `alerts:`: the events (ALERT_BIT set, common/alert.h) sent
 * to the named targets (of the scheduler's config). */
typedef struct {
    unsigned on;
    size_t nto;
    const char *const *to;
} dag_alert_route_t;

size_t dag_alert_route_count(const dag_t *self);

/* deadline: a run should end this long after its data interval ends (a
 * manual run: after its logical date); 0 = none. */
uint64_t dag_deadline_ms(const dag_t *self);

/* expect: {success_by: "HH:MM"}: the wall-clock time, in the DAG's zone,
 * by which each interval's run should have succeeded; "" = none. */
const char *dag_expect_success_by(const dag_t *self);

const dag_alert_route_t *dag_alert_route(const dag_t *self, size_t index);

/* Index of task `id`, or -1. */
long dag_task_index(const dag_t *self, const char *id);

/* The name of one DAG_CAUSE_* bit ("oom"), "?" for anything else. */
const char *dag_cause_name(unsigned cause);

/* Whether name may name a DAG, a task, a pool or a secret: 1 to
 * DAG_NAME_MAX bytes of letters, digits, '_', '-' and '.', and not "." or
 * "..", so that it is safe as one path segment. The one check for all of
 * them, at `dag validate` and wherever the scheduler takes such a name. */
#define DAG_NAME_MAX 128

bool dag_name_ok(const char *name);

/* What dag_name_ok allows, for messages ("... may only use " DAG_NAME_RULE). */
#define DAG_NAME_RULE                                                          \
    "letters, digits, '_', '-' and '.' (at most 128 bytes, not '.' or '..')"

/* The name of a trigger rule ("all_done"), "?" for anything else. */
const char *dag_rule_name(dag_rule_t rule);

/* Parses a trigger rule name; -1 when unknown. */
int dag_rule_parse(const char *name, dag_rule_t *rule);

/* Parses a cause name into its bit; -1 when unknown. */
int dag_cause_parse(const char *name, unsigned *cause);

/* Parses a duration "500ms", "10s", "5m", "2h", "1d" (or bare ms digits)
 * into ms; -1 when malformed. The same as duration_parse
 * (common/duration.h), which code inside common/ calls. */
int dag_parse_duration(const char *text, uint64_t *ms);

#endif
