/* sched_triggers — dataset triggers: a DAG that names a dataset under
 * 'triggers:' runs when a result produces a new version of it. The
 * datasets are remembered when the DAG is applied; the runs start inside
 * the turn's transaction that commits the result. */
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_dags.h"
#include "scheduler/store/store_metrics.h"

/* "file:///x" for "/x"; other uris as they are. Caller owns. */
static char *
s_uri(const char *text)
{
    return text[0] == '/' ? xasprintf("file://%s", text) : xstrdup(text);
}

int
sched_triggers_dag_applied(store_t *store, const dag_t *dag, errbuf_t *err)
{
    size_t n = dag_trigger_count(dag);
    char **uris = xcalloc(n + 1, sizeof *uris);
    for (size_t i = 0; i < n; i++) {
        uris[i] = s_uri(dag_trigger_dataset(dag, i));
    }
    int rc = store_dag_triggers_set(store, dag_name(dag),
                                    (const char *const *) uris, n, err);
    for (size_t i = 0; i < n; i++) {
        free(uris[i]);
    }
    free(uris);
    return rc;
}

/* Starts a run of stored DAG `name` with its default params and today's
 * date, recording why (trigger) and by which dataset version. */
static int
s_trigger(sched_t *self,
          const char *name,
          const char *trigger,
          const char *triggered_by,
          uint64_t *run_id,
          errbuf_t *err)
{
    dag_t *dag = NULL;
    if (sched_dag_current(self, name, &dag, err) != 0) {
        return -1;
    }
    size_t n = dag_param_count(dag);
    dag_kv_t *params = xcalloc(n + 1, sizeof *params);
    if (dag_params_resolve(dag, NULL, 0, params, err) < 0) {
        free(params);
        dag_destroy(&dag);
        return -1;
    }
    char date[16];
    int64_t now = clock_wall_ms();
    clock_fmt_date(now, date, sizeof date);
    tz_t *tz = sched_schedule_zone(self, dag_timezone(dag), err);
    int64_t logical =
        tz ? sched_schedule_free_logical(self, name, now, err) : -1;
    /* plan_trigger copies the params before it takes the dag. */
    int rc = logical < 0 ? -1
                         : plan_trigger(self->plan, &dag, params, n, date,
                                        trigger, now, run_id, err);
    free(params);
    dag_destroy(&dag);
    if (rc == 0) {
        rc = sched_schedule_tag(self, *run_id, tz, logical, logical, logical,
                                err);
    }
    tz_destroy(&tz);
    if (rc < 0) {
        return -1;
    }
    char subject[32];
    snprintf(subject, sizeof subject, "run %" PRIu64, *run_id);
    char *detail = xasprintf("%s from %s", name, triggered_by);
    rc = store_run_extras_put(self->store, *run_id, false, triggered_by, err);
    if (rc == 0) {
        rc = store_event(self->store, now, "scheduler", "trigger", subject,
                         detail, err);
    }
    free(detail);
    if (rc == 0) {
        log_info("run %" PRIu64 " of '%s' triggered by dataset %s", *run_id,
                 name, triggered_by);
    }
    return rc;
}

static bool
s_listed(zlistx_t *list, const char *name)
{
    for (char *item = zlistx_first(list); item; item = zlistx_next(list)) {
        if (strcmp(item, name) == 0) {
            return true;
        }
    }
    return false;
}

/* The DAGs named by one output, each triggered once per result. */
static int
s_output(sched_t *self,
         const Sluice__DatasetRef *out,
         const char *producer,
         zlistx_t *done,
         errbuf_t *err)
{
    zlistx_t *dags = zlistx_new();
    zlistx_set_destructor(dags, (zlistx_destructor_fn *) zstr_free);
    int rc = store_dag_triggers_for(self->store, out->uri, dags, err);
    for (char *dag = zlistx_first(dags); dag && rc == 0;
         dag = zlistx_next(dags)) {
        char by[1024];
        snprintf(by, sizeof by, "%s@%.8s", out->uri, out->hash);
        if (strcmp(dag, producer) == 0) {
            log_warn("dataset %s was written by a run of '%s', which it "
                     "triggers: not triggered again (a loop)",
                     by, dag);
            continue;
        }
        if (s_listed(done, dag)) {
            continue;
        }
        uint64_t run_id;
        rc = s_trigger(self, dag, "dataset", by, &run_id, err);
        zlistx_add_end(done, xstrdup(dag));
    }
    zlistx_destroy(&dags);
    return rc;
}

int
sched_triggers_on_result(void *arg, const sched_result_t *result, errbuf_t *err)
{
    sched_t *self = arg;
    const Sluice__Result *res = result->res;
    const char *producer = result->dag;
    if (!result->success || !producer) {
        return 0;
    }
    zlistx_t *done = zlistx_new();
    zlistx_set_destructor(done, (zlistx_destructor_fn *) zstr_free);
    int rc = 0;
    for (size_t i = 0; i < res->n_outputs && rc == 0; i++) {
        rc = s_output(self, res->outputs[i], producer, done, err);
    }
    zlistx_destroy(&done);
    return rc;
}
