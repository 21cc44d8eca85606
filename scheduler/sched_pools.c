/* sched_pools — the pool verbs: set, list, rm. Pools are stored
 * (store_pools.h) and counted by the planner's limits (limits.h), which
 * say how many slots are in use now. */
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/dag.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/limits.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_pools.h"

#define POOL_SLOTS_MAX 1000000 /* as 'sluice pool set' checks */

typedef struct {
    const char *pool;
    uint32_t queued;
} s_queued_t;

static void
s_count_queued(void *arg, uint64_t run_id, const dag_task_t *task)
{
    (void) run_id;
    s_queued_t *q = arg;
    if (task->pool && strcmp(task->pool, q->pool) == 0) {
        q->queued++;
    }
}

static Sluice__PoolInfo *
s_pool_info(sched_t *self, const store_pool_row_t *row)
{
    Sluice__PoolInfo *info = xmalloc(sizeof *info);
    sluice__pool_info__init(info);
    info->name = xstrdup(row->name);
    info->slots = row->slots;
    info->used = limits_pool_used(plan_limits(self->plan), row->name);
    s_queued_t q = {row->name, 0};
    plan_each_ready(self->plan, s_count_queued, &q);
    info->queued = q.queued;
    info->description = xstrdup(row->description);
    info->updated_ms = (uint64_t) row->updated_at;
    return info;
}

typedef struct {
    sched_t *self;
    const char *only; /* NULL: every pool */
    Sluice__PoolListRep *list;
} s_list_t;

static int
s_list_row(void *arg, const store_pool_row_t *row)
{
    s_list_t *ctx = arg;
    if (ctx->only && strcmp(ctx->only, row->name) != 0) {
        return 0;
    }
    Sluice__PoolListRep *list = ctx->list;
    list->pools =
        xrealloc(list->pools, (list->n_pools + 1) * sizeof *list->pools);
    list->pools[list->n_pools++] = s_pool_info(ctx->self, row);
    return 0;
}

static Sluice__Reply *
s_internal(sched_t *self, const Sluice__Request *req, errbuf_t *err)
{
    sched_fail_turn(self, err);
    return api_error(req->request_id, API_E_INTERNAL, "%s", errbuf_msg(err));
}

Sluice__Reply *
sched_pool_set(sched_t *self, const Sluice__Request *req)
{
    const Sluice__PoolSetReq *set = req->pool_set;
    if (!dag_name_ok(set->name)) {
        return api_error(req->request_id, API_E_BAD_REQUEST,
                         "pool name '%.128s' may only use " DAG_NAME_RULE
                         "; choose another",
                         set->name);
    }
    if (set->slots > POOL_SLOTS_MAX) {
        return api_error(req->request_id, API_E_BAD_REQUEST,
                         "a pool has at most %d slots, not %" PRIu32
                         "; choose fewer",
                         POOL_SLOTS_MAX, set->slots);
    }
    int64_t now = clock_wall_ms();
    uint32_t slots, used;
    bool existed =
        limits_pool_get(plan_limits(self->plan), set->name, &slots, &used);
    char detail[64];
    snprintf(detail, sizeof detail, "%" PRIu32 " slots", set->slots);
    errbuf_t err;
    errbuf_set(&err, "pool '%s' was not found after it was set", set->name);
    Sluice__PoolListRep found = SLUICE__POOL_LIST_REP__INIT;
    s_list_t ctx = {self, set->name, &found};
    if (limits_pool_set(plan_limits(self->plan), set->name, set->slots,
                        set->has_description ? set->description : NULL, now,
                        &err) < 0 ||
        store_event(self->store, now, sched_actor(self), "pool_set", set->name,
                    detail, &err) < 0 ||
        store_pool_list(self->store, s_list_row, &ctx, &err) < 0 ||
        found.n_pools != 1) {
        for (size_t i = 0; i < found.n_pools; i++) {
            sluice__pool_info__free_unpacked(found.pools[i], NULL);
        }
        free(found.pools);
        return s_internal(self, req, &err);
    }
    log_info("pool '%s' set to %" PRIu32 " slots", set->name, set->slots);
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_POOL_SET);
    rep->pool_set = xmalloc(sizeof *rep->pool_set);
    sluice__pool_set_rep__init(rep->pool_set);
    rep->pool_set->pool = found.pools[0];
    rep->pool_set->created = !existed;
    free(found.pools);
    return rep;
}

Sluice__Reply *
sched_pool_list(sched_t *self, const Sluice__Request *req)
{
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_POOL_LIST);
    rep->pool_list = xmalloc(sizeof *rep->pool_list);
    sluice__pool_list_rep__init(rep->pool_list);
    s_list_t ctx = {self, NULL, rep->pool_list};
    errbuf_t err;
    if (store_pool_list(self->store, s_list_row, &ctx, &err) < 0) {
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    return rep;
}

Sluice__Reply *
sched_pool_rm(sched_t *self, const Sluice__Request *req)
{
    const char *name = req->pool_rm->name;
    limits_t *limits = plan_limits(self->plan);
    uint32_t slots, used;
    if (!limits_pool_get(limits, name, &slots, &used)) {
        return api_error(req->request_id, API_E_NOT_FOUND,
                         "there is no pool '%s'; see 'sluice pool list'", name);
    }
    errbuf_t err;
    if (limits_pool_rm(limits, name, &err) < 0) {
        if (used > 0) {
            return api_error(req->request_id, API_E_REFUSED, "%s",
                             errbuf_msg(&err));
        }
        return s_internal(self, req, &err);
    }
    int64_t now = clock_wall_ms();
    if (store_event(self->store, now, sched_actor(self), "pool_removed", name,
                    "", &err) < 0) {
        return s_internal(self, req, &err);
    }
    log_info("pool '%s' removed", name);
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_POOL_RM);
    rep->pool_rm = xmalloc(sizeof *rep->pool_rm);
    sluice__pool_rm_rep__init(rep->pool_rm);
    rep->pool_rm->name = xstrdup(name);
    return rep;
}
