/* sluice workers: the fleet as the scheduler sees it. */
#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/escape.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

/* "512M", "16.0G" for a size in MiB; "-" for 0 (not reported). */
static char *
s_fmt_memory(uint64_t mb, char *buf, size_t size)
{
    if (mb == 0) {
        snprintf(buf, size, "-");
    } else if (mb < 1024) {
        snprintf(buf, size, "%lluM", (unsigned long long) mb);
    } else {
        snprintf(buf, size, "%.1fG", (double) mb / 1024.0);
    }
    return buf;
}

static void
s_workers_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__WorkersRep *rep = body;
    if (rep->n_workers == 0) {
        printf("no workers yet; start one with the line 'sluice join-line' "
               "prints\n");
        return;
    }
    static const char *const headers[] = {"NAME",    "HOST",      "STATE",
                                          "SLOTS",   "CPUS",      "MEMORY",
                                          "RUNNING", "LAST SEEN", NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < rep->n_workers; i++) {
        const Sluice__WorkerInfo *w = rep->workers[i];
        const Sluice__Resources *res = w->resources;
        char slots[32], cpus[16], mem[32], running[16], seen[32];
        snprintf(slots, sizeof slots, "%u/%u", w->free_slots, w->slots);
        snprintf(cpus, sizeof cpus, "%u", res ? res->cpus : 0);
        s_fmt_memory(res ? res->memory_mb : 0, mem, sizeof mem);
        snprintf(running, sizeof running, "%zu", w->n_running);
        clock_fmt_local(w->last_seen_ms, seen, sizeof seen);
        table_row(table, w->name, w->hostname, w->state, slots, cpus, mem,
                  running, seen);
    }
    table_print(table, stdout);
    table_destroy(&table);
}

static const args_spec_t s_workers_spec = {
    .usage = "sluice workers",
    .summary = "list workers: state, free slots, resources, running tasks",
    .flags = NULL,
    .min_args = 0,
    .max_args = 0,
};

static const cli_simple_t s_workers = {
    .spec = &s_workers_spec,
    .op = SLUICE__REQUEST__OP_WORKERS,
    .expect = SLUICE__REPLY__OP_WORKERS,
    .show = {.print = s_workers_print},
};

int
cli_workers(int argc, char **argv)
{
    return cli_simple(&s_workers, argc, argv);
}

/* ----------------------------------------------------------------- drain */

static const args_spec_t s_drain_spec = {
    .usage = "sluice drain WORKER",
    .summary = "send no new task to WORKER; running tasks finish, then the "
               "worker leaves ('sluice workers' shows it draining)",
    .flags = NULL,
    .min_args = 1,
    .max_args = 1,
};

static int
s_drain_fill(const args_t *args, void *op)
{
    Sluice__DrainReq *drain = op;
    drain->worker = xstrdup(args_get(args, 0));
    return CLI_OK;
}

static void
s_drain_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__DrainRep *d = body;
    char *name = escape_dup(d->worker);
    printf("worker '%s' is %s: no new tasks; it leaves when its %u "
           "running attempt%s end\n",
           name, d->state, d->running, d->running == 1 ? "" : "s");
    free(name);
}

static const cli_simple_t s_drain = {
    .spec = &s_drain_spec,
    .op = SLUICE__REQUEST__OP_DRAIN,
    .expect = SLUICE__REPLY__OP_DRAIN,
    .fill = s_drain_fill,
    .show = {.print = s_drain_print},
};

int
cli_drain(int argc, char **argv)
{
    return cli_simple(&s_drain, argc, argv);
}
