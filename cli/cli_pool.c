/* cli_pool — sluice pool set|list|rm: named slot counts that the tasks
 * taking `pool: NAME` share across every worker and run. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/table.h"
#include "common/xalloc.h"
#include "cli/cli.h"
#include "cli/cli_util.h"

/* ---------------------------------------------------------------- set */

static const args_flag_t s_set_flags[] = {
    {"description", 0, ARGS_STRING, "TEXT",
     "what the pool is for (kept when not given)"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_set_spec = {
    .usage = "sluice pool set NAME SLOTS [--description TEXT]",
    .summary = "create pool NAME with SLOTS slots, or change its slots; "
               "tasks with 'pool: NAME' run only while the slots they take "
               "are free (0 slots holds them all back). Operator",
    .flags = s_set_flags,
    .min_args = 2,
    .max_args = 2,
};

static int
s_set_fill(const args_t *args, void *op)
{
    Sluice__PoolSetReq *set = op;
    const char *slots = args_get(args, 1);
    char *end = NULL;
    unsigned long n =
        isdigit((unsigned char) *slots) ? strtoul(slots, &end, 10) : 0;
    if (!end || *end || n > 1000000) {
        fprintf(stderr,
                "sluice: SLOTS must be a whole number from 0 to 1000000, "
                "not '%s'; e.g. 'sluice pool set %s 2'\n",
                slots, args_get(args, 0));
        return CLI_USAGE;
    }
    set->name = xstrdup(args_get(args, 0));
    set->slots = (uint32_t) n;
    const char *text = args_string(args, "description");
    set->has_description = text != NULL;
    set->description = xstrdup(text ? text : "");
    return CLI_OK;
}

static void
s_set_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__PoolSetRep *rep = body;
    const Sluice__PoolInfo *pool = rep->pool;
    printf("pool '%s' %s: %" PRIu32 " slots, %" PRIu32 " in use\n", pool->name,
           rep->created ? "created" : "changed", pool->slots, pool->used);
}

static const cli_simple_t s_set = {
    .spec = &s_set_spec,
    .op = SLUICE__REQUEST__OP_POOL_SET,
    .expect = SLUICE__REPLY__OP_POOL_SET,
    .fill = s_set_fill,
    .show = {.print = s_set_print},
};

/* --------------------------------------------------------------- list */

static const args_spec_t s_list_spec = {
    .usage = "sluice pool list [--json]",
    .summary = "list the pools: slots, slots in use by running tasks, "
               "queued tasks that name the pool",
    .flags = NULL,
    .min_args = 0,
    .max_args = 0,
};

static void
s_list_print(const args_t *args, const void *body)
{
    (void) args;
    const Sluice__PoolListRep *list = body;
    if (list->n_pools == 0) {
        printf("no pools; create one with 'sluice pool set NAME SLOTS'\n");
        return;
    }
    const char *headers[] = {"POOL", "SLOTS",       "USED", "QUEUED",
                             "SET",  "DESCRIPTION", NULL};
    table_t *table = table_new(headers);
    for (size_t i = 0; i < list->n_pools; i++) {
        const Sluice__PoolInfo *p = list->pools[i];
        char slots[16], used[16], queued[16], when[32];
        snprintf(slots, sizeof slots, "%" PRIu32, p->slots);
        snprintf(used, sizeof used, "%" PRIu32, p->used);
        snprintf(queued, sizeof queued, "%" PRIu32, p->queued);
        table_row(table, p->name, slots, used, queued,
                  clock_fmt_local(p->updated_ms, when, sizeof when),
                  p->description);
    }
    table_print(table, stdout);
    table_destroy(&table);
}

static const cli_simple_t s_list = {
    .spec = &s_list_spec,
    .op = SLUICE__REQUEST__OP_POOL_LIST,
    .expect = SLUICE__REPLY__OP_POOL_LIST,
    .show = {.print = s_list_print},
};

/* ----------------------------------------------------------------- rm */

static const args_spec_t s_rm_spec = {
    .usage = "sluice pool rm NAME",
    .summary = "remove pool NAME; refused while some of its slots are in "
               "use. Queued tasks that name it wait until it is set "
               "again. Operator",
    .flags = NULL,
    .min_args = 1,
    .max_args = 1,
};

static int
s_rm_fill(const args_t *args, void *op)
{
    ((Sluice__PoolRmReq *) op)->name = xstrdup(args_get(args, 0));
    return CLI_OK;
}

static void
s_rm_print(const args_t *args, const void *body)
{
    (void) args;
    printf("pool '%s' removed\n", ((const Sluice__PoolRmRep *) body)->name);
}

static const cli_simple_t s_rm = {
    .spec = &s_rm_spec,
    .op = SLUICE__REQUEST__OP_POOL_RM,
    .expect = SLUICE__REPLY__OP_POOL_RM,
    .fill = s_rm_fill,
    .show = {.print = s_rm_print},
};

/* --------------------------------------------------------------- verb */

static const cli_verb_t s_pool_verbs[] = {
    {"set", NULL, "create a pool or change its slots", &s_set},
    {"list", NULL, "list pools with their slots in use", &s_list},
    {"rm", NULL, "remove a pool that is not in use", &s_rm},
};

int
cli_pool(int argc, char **argv)
{
    return cli_dispatch("pool", s_pool_verbs,
                        sizeof s_pool_verbs / sizeof s_pool_verbs[0],
                        "A task takes a pool with 'pool: NAME' and "
                        "'pool_slots: N' (default 1).",
                        argc, argv);
}
