/* sluice trigger, runs, run show, cancel. */
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "proto/pbjson.h"
#include "cli/cli.h"
#include "cli/cli_metrics.h"
#include "cli/cli_report.h"
#include "cli/cli_util.h"

#define WAIT_POLL_MS 200 /* how often trigger --wait asks for progress */

static Sluice__Request *
s_run_show_request(uint64_t run_id)
{
    Sluice__Request *req = cli_request_new();
    Sluice__RunShowReq *op = cli_request_op(req, SLUICE__REQUEST__OP_RUN_SHOW);
    op->run_id = run_id;
    return req;
}

static bool
s_run_is_final(const char *state)
{
    return strcmp(state, "success") == 0 || strcmp(state, "failed") == 0 ||
           strcmp(state, "cancelled") == 0;
}

/* ---------------------------------------------------------------- trigger */

/* Checks --param KEY=VALUE and --date YYYY-MM-DD; prints what is wrong. */
static int
s_trigger_check(const args_t *args)
{
    size_t count;
    const char *const *params = args_list(args, "param", &count);
    for (size_t i = 0; i < count; i++) {
        const char *eq = strchr(params[i], '=');
        if (!eq || eq == params[i]) {
            fprintf(stderr,
                    "sluice: --param '%s' is not KEY=VALUE; write "
                    "e.g. --param epochs=3\n",
                    params[i]);
            return -1;
        }
    }
    const char *date = args_string(args, "date");
    int y, m, d, end = 0;
    if (date &&
        (sscanf(date, "%4d-%2d-%2d%n", &y, &m, &d, &end) != 3 || end != 10 ||
         date[end] || m < 1 || m > 12 || d < 1 || d > 31)) {
        fprintf(stderr,
                "sluice: --date '%s' is not a date; write it as "
                "YYYY-MM-DD, e.g. 2026-01-31\n",
                date);
        return -1;
    }
    return 0;
}

static Sluice__Request *
s_trigger_request(const args_t *args)
{
    Sluice__Request *req = cli_request_new();
    Sluice__TriggerReq *op = cli_request_op(req, SLUICE__REQUEST__OP_TRIGGER);
    op->dag = xstrdup(args_get(args, 0));
    const char *date = args_string(args, "date");
    if (date) {
        op->logical_date = xstrdup(date);
    }
    const char *logical = args_string(args, "logical-date");
    if (logical) {
        op->logical_time = xstrdup(logical);
    }
    size_t count;
    const char *const *params = args_list(args, "param", &count);
    op->params = xcalloc(count + 1, sizeof *op->params);
    for (size_t i = 0; i < count; i++) {
        const char *eq = strchr(params[i], '=');
        Sluice__Param *p = xmalloc(sizeof *p);
        *p = (Sluice__Param) SLUICE__PARAM__INIT;
        p->name = xstrndup(params[i], (size_t) (eq - params[i]));
        p->value = xstrdup(eq + 1);
        op->params[op->n_params++] = p;
    }
    op->no_cache = args_flag(args, "no-cache");
    return req;
}

/* "run 12 hello: 2/4 done, 1 running, 0 failed" */
static void
s_progress(const Sluice__RunSummary *run, char *buf, size_t size)
{
    snprintf(buf, size, "run %llu %s: %u/%u done, %u running, %u failed",
             (unsigned long long) run->run_id, run->dag, run->succeeded,
             run->total, run->running, run->failed);
}

/* Shows progress: redrawn in place on a terminal, a line per change
 * otherwise. last holds the previous line. */
static void
s_wait_show(const Sluice__RunSummary *run,
            int64_t t0,
            bool tty,
            char *last,
            size_t size)
{
    char line[512], took[32];
    s_progress(run, line, sizeof line);
    if (tty) {
        clock_fmt_duration(clock_mono_ms() - t0, took, sizeof took);
        fprintf(stderr, "\r\033[K%s [%s]", line, took);
    } else if (strcmp(line, last) != 0) {
        fprintf(stderr, "%s\n", line);
    }
    snprintf(last, size, "%s", line);
}

static int
s_wait_final(const args_t *args, const Sluice__RunShowRep *rep, bool tty)
{
    const Sluice__RunSummary *run = rep->run;
    if (tty) {
        fprintf(stderr, "\r\033[K");
    }
    if (args_json(args)) {
        pbjson_print(&rep->base);
    } else {
        char took[32];
        printf(
            "run %llu %s %s: %u/%u done, %u failed, took %s\n",
            (unsigned long long) run->run_id, run->dag, run->state,
            run->succeeded, run->total, run->failed,
            clock_fmt_span(run->started_ms, run->ended_ms, took, sizeof took));
        if (strcmp(run->state, "success") != 0) {
            printf("see what happened: sluice run show %llu\n",
                   (unsigned long long) run->run_id);
        }
    }
    return strcmp(run->state, "success") == 0 ? CLI_OK : CLI_FAIL;
}

/* Why the wait stopped early: interrupted (the run goes on) or the
 * scheduler went quiet. */
static int
s_wait_broken(client_t *client, uint64_t run_id, bool tty, const errbuf_t *err)
{
    if (tty) {
        fprintf(stderr, "\n");
    }
    if (zsys_interrupted || client_error(client) == CLIENT_EINTR) {
        fprintf(stderr,
                "sluice: stopped waiting; run %llu goes on. follow "
                "it with 'sluice run show %llu'\n",
                (unsigned long long) run_id, (unsigned long long) run_id);
        return CLI_FAIL;
    }
    fprintf(stderr,
            "sluice: lost the scheduler while waiting for run %llu: "
            "%s\n",
            (unsigned long long) run_id, errbuf_msg(err));
    return client_error(client) == CLIENT_ETIMEOUT ? CLI_UNREACHABLE
                                                   : CLI_ERROR;
}

static bool
s_reply_final(const Sluice__Reply *reply)
{
    return reply->op_case == SLUICE__REPLY__OP_RUN_SHOW &&
           reply->run_show->run && s_run_is_final(reply->run_show->run->state);
}

/* Polls run_show until the run ends, showing progress on stderr. */
static int
s_wait(const args_t *args, client_t *client, uint64_t run_id)
{
    bool tty = isatty(STDERR_FILENO);
    int64_t t0 = clock_mono_ms();
    char last[512] = "";
    errbuf_t err;
    errbuf_clear(&err);
    while (!zsys_interrupted) {
        Sluice__Request *req = s_run_show_request(run_id);
        req->run_show->summary_only = true;
        Sluice__Reply *reply = client_call(client, req, &err);
        protobuf_c_message_free_unpacked(&req->base, NULL);
        if (reply && args_json(args) && s_reply_final(reply)) {
            /* The JSON document is the whole run, tasks included. */
            protobuf_c_message_free_unpacked(&reply->base, NULL);
            req = s_run_show_request(run_id);
            reply = client_call(client, req, &err);
            protobuf_c_message_free_unpacked(&req->base, NULL);
        }
        if (!reply) {
            break;
        }
        int rc = -1;
        if (reply->op_case != SLUICE__REPLY__OP_RUN_SHOW ||
            !reply->run_show->run) {
            fprintf(stderr, "%ssluice: %s\n", tty ? "\n" : "",
                    reply->op_case == SLUICE__REPLY__OP_ERROR
                        ? reply->error->message
                        : "the scheduler sent an unexpected reply");
            rc = CLI_ERROR;
        } else if (s_run_is_final(reply->run_show->run->state)) {
            rc = s_wait_final(args, reply->run_show, tty);
        } else {
            s_wait_show(reply->run_show->run, t0, tty, last, sizeof last);
        }
        protobuf_c_message_free_unpacked(&reply->base, NULL);
        if (rc >= 0) {
            return rc;
        }
        zclock_sleep(WAIT_POLL_MS);
    }
    return s_wait_broken(client, run_id, tty, &err);
}

static const args_flag_t s_trigger_flags[] = {
    {"param", 'p', ARGS_LIST, "KEY=VALUE", "override a DAG param"},
    {"date", 0, ARGS_STRING, "YYYY-MM-DD",
     "what {{ ds }} shows (default: the logical date's day in the DAG's "
     "zone)"},
    {"logical-date", 0, ARGS_STRING, "TIME",
     "logical date of the run: a date or RFC 3339 time, read in the DAG's "
     "zone (default: now); refused when a run already has it"},
    {"wait", 'w', ARGS_BOOL, NULL,
     "show progress until the run ends; exit 0 only if it succeeded"},
    {"no-cache", 0, ARGS_BOOL, NULL,
     "run every task, even those with 'cache: true'"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_trigger_spec = {
    .usage = "sluice trigger NAME [--param KEY=VALUE]... [--date YYYY-MM-DD] "
             "[--logical-date TIME] [--wait]",
    .summary = "start a run of a DAG and print its id (just the number, for "
               "scripts); with --wait follow it to the end (Ctrl-C stops "
               "waiting, the run goes on)",
    .flags = s_trigger_flags,
    .min_args = 1,
    .max_args = 1,
};

static void
s_trigger_print(const args_t *args, const Sluice__TriggerRep *rep)
{
    if (args_json(args) && !args_flag(args, "wait")) {
        pbjson_print(&rep->base);
    } else if (args_flag(args, "wait")) {
        fprintf(stderr, "run %llu of '%s' (version %.8s) started\n",
                (unsigned long long) rep->run_id, rep->dag, rep->version);
    } else {
        printf("%llu\n", (unsigned long long) rep->run_id);
    }
    fflush(stdout);
}

int
cli_trigger(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_trigger_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    client_t *client = NULL;
    if (s_trigger_check(args) < 0) {
        rc = CLI_USAGE;
    } else {
        rc = cli_connect(args, &client);
    }
    if (rc == CLI_OK) {
        Sluice__Request *req = s_trigger_request(args);
        Sluice__Reply *reply = NULL;
        rc = cli_call(client, req, SLUICE__REPLY__OP_TRIGGER, &reply);
        protobuf_c_message_free_unpacked(&req->base, NULL);
        if (rc == CLI_OK) {
            uint64_t run_id = reply->trigger->run_id;
            s_trigger_print(args, reply->trigger);
            protobuf_c_message_free_unpacked(&reply->base, NULL);
            if (args_flag(args, "wait")) {
                rc = s_wait(args, client, run_id);
            }
        }
    }
    client_destroy(&client);
    args_destroy(&args);
    return rc;
}

/* ---------------------------------------------------------------- runs */

static void
s_runs_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__RunsRep *rep = body;
    if (rep->n_runs == 0) {
        printf("no runs yet; start one with 'sluice trigger NAME'\n");
        return;
    }
    static const char *const headers[] = {
        "RUN", "DAG", "STATE", "TASKS", "STARTED", "DURATION", "TRIGGER", NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < rep->n_runs; i++) {
        const Sluice__RunSummary *r = rep->runs[i];
        char id[24], tasks[32], started[32], took[32];
        snprintf(id, sizeof id, "%llu", (unsigned long long) r->run_id);
        snprintf(tasks, sizeof tasks, "%u/%u", r->succeeded, r->total);
        clock_fmt_local(r->started_ms ? r->started_ms : r->created_ms, started,
                        sizeof started);
        clock_fmt_span(r->started_ms, r->ended_ms, took, sizeof took);
        char trig[1100]; /* "dataset URI@HASH8" */
        snprintf(trig, sizeof trig, "%s%s%s", *r->trigger ? r->trigger : "-",
                 *r->triggered_by ? " " : "", r->triggered_by);
        table_row(table, id, r->dag, r->state, tasks, started, took, trig);
    }
    table_print(table, stdout);
    table_destroy(&table);
}

static const args_flag_t s_runs_flags[] = {
    {"limit", 'n', ARGS_UINT, "N", "show the N latest runs (default 20)"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_runs_spec = {
    .usage = "sluice runs [NAME] [--limit N]",
    .summary = "list the latest runs, of all DAGs or of DAG NAME",
    .flags = s_runs_flags,
    .min_args = 0,
    .max_args = 1,
};

static int
s_runs_fill(const args_t *args, void *op)
{
    Sluice__RunsReq *runs = op;
    if (args_count(args) == 1) {
        runs->dag = xstrdup(args_get(args, 0));
    }
    uint64_t limit = args_uint(args, "limit", 0);
    runs->limit = limit > UINT32_MAX ? UINT32_MAX : (uint32_t) limit;
    return CLI_OK;
}

static const cli_simple_t s_runs = {
    .spec = &s_runs_spec,
    .op = SLUICE__REQUEST__OP_RUNS,
    .expect = SLUICE__REPLY__OP_RUNS,
    .fill = s_runs_fill,
    .show = {.print = s_runs_print},
};

int
cli_runs(int argc, char **argv)
{
    return cli_simple(&s_runs, argc, argv);
}

/* ---------------------------------------------------------------- run show */

static void
s_show_header(const Sluice__RunShowRep *rep)
{
    const Sluice__RunSummary *r = rep->run;
    char t[32];
    printf("run:       %llu\n", (unsigned long long) r->run_id);
    printf("dag:       %s (version %.8s)\n", r->dag, r->version);
    printf("state:     %s\n", r->state);
    printf("trigger:   %s, logical date %s\n", *r->trigger ? r->trigger : "-",
           *r->logical_date ? r->logical_date : "-");
    printf("params:    %s", rep->n_params ? "" : "none");
    for (size_t i = 0; i < rep->n_params; i++) {
        printf("%s%s=%s", i ? ", " : "", rep->params[i]->name,
               rep->params[i]->value);
    }
    printf("\ncreated:   %s\n", clock_fmt_local(r->created_ms, t, sizeof t));
    printf("started:   %s\n", clock_fmt_local(r->started_ms, t, sizeof t));
    printf("ended:     %s\n", clock_fmt_local(r->ended_ms, t, sizeof t));
    printf("duration:  %s\n",
           clock_fmt_span(r->started_ms, r->ended_ms, t, sizeof t));
    printf("tasks:     %u/%u done, %u running, %u failed\n\n", r->succeeded,
           r->total, r->running, r->failed);
}

/* "SIGKILL" for 9, "signal 77" for unknown ones. */
static char *
s_fmt_signal(int sig, char *buf, size_t size)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
        {SIGILL, "SIGILL"},   {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},
        {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"},
        {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
        {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (names[i].sig == sig) {
            snprintf(buf, size, "%s", names[i].name);
            return buf;
        }
    }
    snprintf(buf, size, "signal %d", sig);
    return buf;
}

/* RESULT column: how the attempt ended, by its structured cause. */
static void
s_fmt_exit(const Sluice__AttemptInfo *a, char *buf, size_t size)
{
    char sig[32];
    const char *cause = a->cause ? a->cause : "";
    if (strcmp(a->state, "running") == 0 ||
        strcmp(a->state, "dispatched") == 0) {
        snprintf(buf, size, "-");
    } else if (strcmp(cause, "oom") == 0) {
        snprintf(buf, size, "oom, peak %llu MB%s%s",
                 (unsigned long long) (a->peak_rss_kb / 1024),
                 *a->error ? ": " : "", a->error);
    } else if (strcmp(cause, "signal") == 0 || (!*cause && a->signal)) {
        snprintf(buf, size, "signal %s",
                 s_fmt_signal(a->signal, sig, sizeof sig));
    } else if (*cause && strcmp(cause, "exit") != 0) {
        snprintf(buf, size, "%s%s%s", cause, *a->error ? ": " : "", a->error);
    } else if (a->exit_code == 0 && *a->error) {
        /* it exited 0 but a declared output was not written */
        snprintf(buf, size, "exit 0: %s", a->error);
    } else {
        snprintf(buf, size, "exit %d", a->exit_code);
    }
}

static void
s_attempt_row(table_t *table,
              const char *task,
              const char *state,
              const char *tries,
              const Sluice__AttemptInfo *a)
{
    char took[32], exit_text[256];
    clock_fmt_span(a->started_ms, a->ended_ms, took, sizeof took);
    s_fmt_exit(a, exit_text, sizeof exit_text);
    table_row(table, task, state, tries, *a->worker ? a->worker : "-", took,
              exit_text);
}

/* The task's line shows its latest attempt; earlier ones follow, indented. */
static void
s_task_rows(table_t *table, const Sluice__TaskInfo *t)
{
    char tries[16];
    snprintf(tries, sizeof tries, "%zu", t->n_attempts);
    const Sluice__AttemptInfo *latest = NULL;
    for (size_t i = 0; i < t->n_attempts; i++) {
        if (!latest || t->attempts[i]->number > latest->number) {
            latest = t->attempts[i];
        }
    }
    if (!latest) {
        table_row(table, t->task_id, t->state, "0", "-", "-", "-");
        return;
    }
    s_attempt_row(table, t->task_id, t->state, tries, latest);
    for (size_t i = 0; i < t->n_attempts; i++) {
        const Sluice__AttemptInfo *a = t->attempts[i];
        if (a != latest) {
            char label[32];
            snprintf(label, sizeof label, "  try %u", a->number);
            s_attempt_row(table, label, a->state, "", a);
        }
    }
}

/* A queued run whose tasks wait for max_active_runs waits as a whole: that
 * reason is shown once, for the run. NULL when it does not wait so. */
static const char *
s_run_waits(const Sluice__RunShowRep *rep)
{
    if (!rep->run || strcmp(rep->run->state, "queued") != 0) {
        return NULL;
    }
    for (size_t i = 0; i < rep->n_tasks; i++) {
        const char *why = rep->tasks[i]->waiting;
        if (why && strncmp(why, "max_active_runs ", 16) == 0 &&
            strcmp(rep->tasks[i]->state, "queued") == 0) {
            return why;
        }
    }
    return NULL;
}

/* The most bytes of a result 'run show' prints; --json has it whole. */
#define SHOW_RESULT_MAX 60

/* The result of the task's latest attempt that left one, on one line. */
static void
s_task_result(const Sluice__TaskInfo *t)
{
    const Sluice__AttemptInfo *with = NULL;
    for (size_t i = 0; i < t->n_attempts; i++) {
        const Sluice__AttemptInfo *a = t->attempts[i];
        if (a->result && *a->result && (!with || a->number > with->number)) {
            with = a;
        }
    }
    if (!with) {
        return;
    }
    size_t len = strcspn(with->result, "\n");
    bool cut = len > SHOW_RESULT_MAX || with->result[len];
    printf("'%s' result: %.*s%s\n", t->task_id,
           (int) (len > SHOW_RESULT_MAX ? SHOW_RESULT_MAX : len), with->result,
           cut ? " ... (see --json)" : "");
}

/* The lines under the table: the results tasks left, when failed tasks
 * try again, why queued ones wait. */
static void
s_task_notes(const Sluice__RunShowRep *rep, const char *run_waits)
{
    for (size_t i = 0; i < rep->n_tasks; i++) {
        const Sluice__TaskInfo *t = rep->tasks[i];
        s_task_result(t);
        bool sensing =
            t->waiting && *t->waiting && strcmp(t->state, "up_for_retry") == 0;
        if (sensing) {
            /* a sensor between pokes: what it waits for, and when it looks */
            printf("'%s' is %s\n", t->task_id, t->waiting);
        } else if (t->next_try_ms) {
            char when[32];
            printf("'%s' tries again at %s\n", t->task_id,
                   clock_fmt_local(t->next_try_ms, when, sizeof when));
        }
        if (t->waiting && *t->waiting && strcmp(t->state, "queued") == 0 &&
            !(run_waits && strcmp(t->waiting, run_waits) == 0)) {
            printf("'%s' waits: %s\n", t->task_id, t->waiting);
        }
    }
}

/* The task table and its notes, over the tasks of npages replies. */
static void
s_show_tasks(Sluice__RunShowRep *const *pages, size_t npages)
{
    static const char *const headers[] = {
        "TASK", "STATE", "TRIES", "WORKER", "DURATION", "RESULT", NULL};
    table_t *table = table_new(headers);
    for (size_t p = 0; p < npages; p++) {
        for (size_t i = 0; i < pages[p]->n_tasks; i++) {
            s_task_rows(table, pages[p]->tasks[i]);
        }
    }
    table_print(table, stdout);
    table_destroy(&table);
    const char *run_waits = s_run_waits(pages[0]);
    if (run_waits) {
        printf("run %llu waits: %s\n",
               (unsigned long long) pages[0]->run->run_id, run_waits);
    }
    for (size_t p = 0; p < npages; p++) {
        s_task_notes(pages[p], run_waits);
    }
}

static void
s_show_print(const Sluice__RunShowRep *rep)
{
    s_show_header(rep);
    Sluice__RunShowRep *const pages[1] = {(Sluice__RunShowRep *) rep};
    s_show_tasks(pages, 1);
}

/* A run of up to SHOW_WHOLE_MAX tasks is shown whole, from one reply, as
 * it always was. A bigger one is paged: the scheduler answers at most
 * SHOW_PAGE_MAX tasks per request, in DAG order, and the CLI asks for the
 * next page with the cursor the last one gave. */
#define SHOW_WHOLE_MAX    1000
#define SHOW_PAGE_DEFAULT 100 /* tasks printed of a bigger run */
#define SHOW_PAGE_MAX     1000
#define SHOW_ALL          UINT64_MAX

static const args_flag_t s_run_show_flags[] = {
    {"limit", 'n', ARGS_UINT, "N",
     "show at most N tasks (default: all of a run of up to 1,000 tasks, "
     "else the first 100; with --json, all)"},
    {"offset", 0, ARGS_UINT, "N", "skip the first N tasks, in DAG order"},
    {"all", 'a', ARGS_BOOL, NULL, "show every task, however many"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_run_show_spec = {
    .usage = "sluice run show RUN_ID [--limit N] [--offset N] [--all]",
    .summary =
        "show one run: its state, params, and its tasks with their "
        "attempts. A run of more than 1,000 tasks is paged: its tasks per "
        "state, then the first 100 tasks (or --limit N from --offset N) "
        "and how to see the rest. --json writes every task (or --limit "
        "N), fetched 1,000 per request and printed as each page arrives; "
        "tasks of a paged run carry no 'after' (see 'sluice dag show') and "
        "it shows no metrics lines (see 'sluice metrics')",
    .flags = s_run_show_flags,
    .min_args = 1,
    .max_args = 1,
};

/* Fetches the pages of one run. */
typedef struct {
    client_t *client;
    uint64_t run_id;
    uint64_t want;   /* tasks to fetch in all; SHOW_ALL: every one */
    uint64_t got;    /* tasks fetched so far */
    uint64_t offset; /* of the first page */
    uint64_t cursor; /* the next page's; 0 before the first */
    bool done;
} pager_t;

/* The next page, or NULL (rc says whether that is the end or an error).
 * Caller owns the reply. */
static Sluice__Reply *
s_page_next(pager_t *pg, int *rc)
{
    *rc = CLI_OK;
    if (pg->done) {
        return NULL;
    }
    Sluice__Request *req = s_run_show_request(pg->run_id);
    uint64_t left = pg->want - pg->got;
    req->run_show->limit =
        left < SHOW_PAGE_MAX ? (uint32_t) left : SHOW_PAGE_MAX;
    req->run_show->cursor = pg->cursor;
    req->run_show->offset = pg->cursor                ? 0
                            : pg->offset > UINT32_MAX ? UINT32_MAX
                                                      : (uint32_t) pg->offset;
    Sluice__Reply *reply = NULL;
    *rc = cli_call(pg->client, req, SLUICE__REPLY__OP_RUN_SHOW, &reply);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    if (*rc != CLI_OK) {
        return NULL;
    }
    const Sluice__RunShowRep *page = reply->run_show;
    pg->got += page->n_tasks;
    pg->cursor = page->next;
    pg->done = page->next == 0 || pg->got >= pg->want || !page->n_tasks;
    return reply;
}

static void
s_show_states(const Sluice__RunShowRep *rep)
{
    printf("by state:  ");
    for (size_t i = 0; i < rep->n_states; i++) {
        printf("%s%s %u", i ? ", " : "", rep->states[i]->state,
               rep->states[i]->count);
    }
    printf("%s\n\n", rep->n_states ? "" : "no tasks");
}

/* What was left out, and the command that shows it. */
static void
s_show_more(const pager_t *pg, const Sluice__RunSummary *run)
{
    uint64_t end = pg->offset + pg->got;
    if (pg->got == 0) {
        printf("no tasks after the first %llu; the run has %u\n",
               (unsigned long long) pg->offset, run->total);
    } else if (end < run->total || pg->offset > 0) {
        printf("tasks %llu-%llu of %u shown",
               (unsigned long long) pg->offset + 1, (unsigned long long) end,
               run->total);
        if (end < run->total) {
            printf("; next: sluice run show %llu --offset %llu (--all for "
                   "every task)",
                   (unsigned long long) run->run_id, (unsigned long long) end);
        }
        printf("\n");
    }
}

/* Text: the header and counts from the first page, one table over all. */
static int
s_show_paged_text(const args_t *args, pager_t *pg)
{
    int rc;
    Sluice__Reply **replies = NULL;
    Sluice__RunShowRep **pages = NULL;
    size_t n = 0;
    Sluice__Reply *reply;
    while ((reply = s_page_next(pg, &rc))) {
        replies = xrealloc(replies, (n + 1) * sizeof *replies);
        pages = xrealloc(pages, (n + 1) * sizeof *pages);
        replies[n] = reply;
        pages[n++] = reply->run_show;
    }
    if (rc == CLI_OK && n > 0 && pages[0]->run) {
        s_show_header(pages[0]);
        s_show_states(pages[0]);
        if (pg->got > 0) {
            s_show_tasks(pages, n);
        }
        s_show_more(pg, pages[0]->run);
        /* Not the metrics lines: they cover every task of the run. */
        cli_report_run_lines(args, pages[0]->run->run_id);
    }
    for (size_t i = 0; i < n; i++) {
        protobuf_c_message_free_unpacked(&replies[i]->base, NULL);
    }
    free(replies);
    free(pages);
    return rc;
}

/* The first page's run, params and counts, then "tasks": [ ... */
static void
s_json_head(json_t *json, const Sluice__RunShowRep *rep)
{
    json_object_begin(json);
    if (rep->run) {
        json_key(json, "run");
        pbjson_write(json, &rep->run->base);
    }
    json_key(json, "params");
    json_array_begin(json);
    for (size_t i = 0; i < rep->n_params; i++) {
        pbjson_write(json, &rep->params[i]->base);
    }
    json_array_end(json);
    json_key(json, "states");
    json_array_begin(json);
    for (size_t i = 0; i < rep->n_states; i++) {
        pbjson_write(json, &rep->states[i]->base);
    }
    json_array_end(json);
    json_key(json, "tasks");
    json_array_begin(json);
}

/* JSON: each page's tasks are written, and flushed, as the page arrives. */
static int
s_show_paged_json(pager_t *pg)
{
    json_t *json = NULL;
    int rc;
    Sluice__Reply *reply;
    while ((reply = s_page_next(pg, &rc))) {
        const Sluice__RunShowRep *page = reply->run_show;
        if (!json) {
            json = json_new(stdout, true);
            s_json_head(json, page);
        }
        for (size_t i = 0; i < page->n_tasks; i++) {
            pbjson_write(json, &page->tasks[i]->base);
        }
        fflush(stdout);
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    }
    if (json) {
        json_array_end(json);
        json_object_end(json);
        json_destroy(&json);
    }
    return rc;
}

/* A small run as one reply, shown as run show always did. */
static int
s_show_whole(const args_t *args, client_t *client, uint64_t run_id)
{
    Sluice__Request *req = s_run_show_request(run_id);
    Sluice__Reply *reply = NULL;
    int rc = cli_call(client, req, SLUICE__REPLY__OP_RUN_SHOW, &reply);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    if (rc != CLI_OK) {
        return rc;
    }
    const Sluice__RunShowRep *rep = reply->run_show;
    if (args_json(args)) {
        pbjson_print(&rep->base);
    } else if (rep->run) {
        s_show_print(rep);
        cli_metrics_run_lines(args, rep->run->run_id);
        cli_report_run_lines(args, rep->run->run_id);
    }
    protobuf_c_message_free_unpacked(&reply->base, NULL);
    return CLI_OK;
}

/* How many tasks the run has (one cheap summary request). */
static int
s_show_total(client_t *client, uint64_t run_id, uint32_t *total)
{
    Sluice__Request *req = s_run_show_request(run_id);
    req->run_show->summary_only = true;
    Sluice__Reply *reply = NULL;
    int rc = cli_call(client, req, SLUICE__REPLY__OP_RUN_SHOW, &reply);
    protobuf_c_message_free_unpacked(&req->base, NULL);
    if (rc == CLI_OK) {
        *total = reply->run_show->run ? reply->run_show->run->total : 0;
        protobuf_c_message_free_unpacked(&reply->base, NULL);
    }
    return rc;
}

/* Shows the run whole when it is small and no paging flag was given, else
 * page by page. */
static int
s_show_run(const args_t *args, client_t *client, uint64_t run_id)
{
    uint64_t limit = args_uint(args, "limit", SHOW_ALL);
    uint64_t offset = args_uint(args, "offset", 0);
    bool all = args_flag(args, "all") || limit == 0;
    bool paging = all || limit != SHOW_ALL || offset > 0;
    uint32_t total = 0;
    int rc = paging ? CLI_OK : s_show_total(client, run_id, &total);
    if (rc != CLI_OK || (!paging && total <= SHOW_WHOLE_MAX)) {
        return rc == CLI_OK ? s_show_whole(args, client, run_id) : rc;
    }
    pager_t pg = {.client = client, .run_id = run_id, .offset = offset};
    pg.want = all || (args_json(args) && limit == SHOW_ALL) ? SHOW_ALL
              : limit == SHOW_ALL                           ? SHOW_PAGE_DEFAULT
                                                            : limit;
    return args_json(args) ? s_show_paged_json(&pg)
                           : s_show_paged_text(args, &pg);
}

static int
s_run_show(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_run_show_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    uint64_t run_id;
    client_t *client = NULL;
    if (cli_parse_id("run id", args_get(args, 0), &run_id) < 0) {
        rc = CLI_USAGE;
    } else if ((rc = cli_connect(args, &client)) == CLI_OK) {
        rc = s_show_run(args, client, run_id);
    }
    client_destroy(&client);
    args_destroy(&args);
    return rc;
}

int
cli_run(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "show") != 0) {
        bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
                                  strcmp(argv[1], "-h") == 0);
        fprintf(help ? stdout : stderr,
                "usage: sluice run show RUN_ID   (sluice run show --help "
                "for details)\n");
        return help ? CLI_OK : CLI_USAGE;
    }
    return s_run_show(argc - 1, argv + 1);
}

/* ---------------------------------------------------------------- cancel */

static const args_spec_t s_cancel_spec = {
    .usage = "sluice cancel RUN_ID",
    .summary = "cancel a run: tasks not started never start, running ones "
               "are stopped",
    .flags = NULL,
    .min_args = 1,
    .max_args = 1,
};

static int
s_cancel_fill(const args_t *args, void *op)
{
    Sluice__CancelReq *cancel = op;
    return cli_parse_id("run id", args_get(args, 0), &cancel->run_id) < 0
               ? CLI_USAGE
               : CLI_OK;
}

static void
s_cancel_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__CancelRep *c = body;
    printf("run %llu is %s (%u task%s cancelled)\n",
           (unsigned long long) c->run_id, c->state, c->cancelled_tasks,
           c->cancelled_tasks == 1 ? "" : "s");
}

static const cli_simple_t s_cancel = {
    .spec = &s_cancel_spec,
    .op = SLUICE__REQUEST__OP_CANCEL,
    .expect = SLUICE__REPLY__OP_CANCEL,
    .fill = s_cancel_fill,
    .show = {.print = s_cancel_print},
};

int
cli_cancel(int argc, char **argv)
{
    return cli_simple(&s_cancel, argc, argv);
}

/* ----------------------------------------------------------------- retry */

static const args_spec_t s_retry_spec = {
    .usage = "sluice retry RUN_ID [TASK_ID]",
    .summary = "re-run the failed, timed-out, cancelled and upstream_failed "
               "tasks of a run and their downstream; with TASK_ID, that "
               "task and its downstream",
    .flags = NULL,
    .min_args = 1,
    .max_args = 2,
};

static int
s_retry_fill(const args_t *args, void *op)
{
    Sluice__RetryReq *retry = op;
    if (cli_parse_id("run id", args_get(args, 0), &retry->run_id) < 0) {
        return CLI_USAGE;
    }
    if (args_count(args) > 1) {
        retry->task_id = xstrdup(args_get(args, 1));
    }
    return CLI_OK;
}

static void
s_retry_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__RetryRep *r = body;
    printf("run %llu is running again: %u task%s back to pending; "
           "follow it with 'sluice run show %llu'\n",
           (unsigned long long) r->run_id, r->reopened,
           r->reopened == 1 ? "" : "s", (unsigned long long) r->run_id);
}

static const cli_simple_t s_retry = {
    .spec = &s_retry_spec,
    .op = SLUICE__REQUEST__OP_RETRY,
    .expect = SLUICE__REPLY__OP_RETRY,
    .fill = s_retry_fill,
    .show = {.print = s_retry_print},
};

int
cli_retry(int argc, char **argv)
{
    return cli_simple(&s_retry, argc, argv);
}
