/* sched_metrics — what a result leaves for later tasks and runs: the
 * metrics it reports, stored for 'sluice metrics', the JSON value it wrote
 * to $SLUICE_RESULT, for the tasks downstream, and, after a success, its
 * cache entry, so that a run with the same inputs can reuse it. All inside
 * the turn's transaction. */
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/taskresult.h"
#include "common/xalloc.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_metrics.h"
#include "scheduler/store/store_results.h"

int
sched_metrics_on_result(void *arg, const sched_result_t *result, errbuf_t *err)
{
    store_t *store = arg;
    const Sluice__Result *res = result->res;
    if (res->n_metrics == 0) {
        return 0;
    }
    const char **names = xcalloc(res->n_metrics, sizeof *names);
    double *values = xcalloc(res->n_metrics, sizeof *values);
    for (size_t i = 0; i < res->n_metrics; i++) {
        names[i] = res->metrics[i]->name;
        values[i] = res->metrics[i]->value;
    }
    int rc = store_metrics_put(store, res->attempt_id, names, values,
                               res->n_metrics, err);
    free(names);
    free(values);
    return rc < 0 ? -1 : 0;
}

int
sched_results_on_result(void *arg, const sched_result_t *result, errbuf_t *err)
{
    store_t *store = arg;
    const Sluice__Result *res = result->res;
    if (!result->success || !res->result || !*res->result) {
        return 0;
    }
    return store_results_put(store, res->attempt_id, res->result, err) < 0 ? -1
                                                                           : 0;
}

int
sched_cache_on_result(void *arg, const sched_result_t *result, errbuf_t *err)
{
    sched_t *self = arg;
    if (!result->success) {
        return 0;
    }
    return plan_cache_result(self->plan, result->res->attempt_id,
                             clock_wall_ms(), err);
}
