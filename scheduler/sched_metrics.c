/* sched_metrics — issue 5, part G on the scheduler's side: metrics and
 * cache entries from results, `sluice trigger --no-cache`, and dataset
 * triggers (a DAG runs when a new version of a dataset it names is
 * produced), all inside the turn's transaction. */
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
sched_g_dag_applied(sched_t *self, const dag_t *dag, errbuf_t *err)
{
    size_t n = dag_trigger_count(dag);
    char **uris = xcalloc(n + 1, sizeof *uris);
    for (size_t i = 0; i < n; i++) {
        uris[i] = s_uri(dag_trigger_dataset(dag, i));
    }
    int rc = store_dag_triggers_set(self->store, dag_name(dag),
                                    (const char *const *) uris, n, err);
    for (size_t i = 0; i < n; i++) {
        free(uris[i]);
    }
    free(uris);
    return rc;
}

int
sched_g_result_before(sched_t *self,
                      const Sluice__Result *res,
                      bool success,
                      char **producer,
                      errbuf_t *err)
{
    *producer = NULL;
    if (res->n_metrics > 0) {
        const char **names = xcalloc(res->n_metrics, sizeof *names);
        double *values = xcalloc(res->n_metrics, sizeof *values);
        for (size_t i = 0; i < res->n_metrics; i++) {
            names[i] = res->metrics[i]->name;
            values[i] = res->metrics[i]->value;
        }
        int rc = store_metrics_put(self->store, res->attempt_id, names, values,
                                   res->n_metrics, err);
        free(names);
        free(values);
        if (rc < 0) {
            return -1;
        }
    }
    if (!success) {
        return 0;
    }
    const char *dag = plan_attempt_dag(self->plan, res->attempt_id);
    *producer = dag ? xstrdup(dag) : NULL;
    return plan_cache_result(self->plan, res->attempt_id, clock_wall_ms(), err);
}

int
sched_g_trigger(sched_t *self,
                const char *name,
                const char *trigger,
                const char *triggered_by,
                uint64_t *run_id,
                errbuf_t *err)
{
    char *source = store_dag_source(self->store, name, NULL, NULL, err);
    if (!source) {
        return -1;
    }
    dag_t *dag = dag_parse(name, source, strlen(source), NULL);
    free(source);
    if (!dag) {
        errbuf_set(err, "the stored DAG '%s' no longer parses; apply it again",
                   name);
        return -1;
    }
    size_t n = dag_param_count(dag);
    dag_kv_t *params = xcalloc(n + 1, sizeof *params);
    for (size_t i = 0; i < n; i++) {
        params[i] = *dag_param(dag, i);
    }
    char date[16];
    int64_t now = clock_wall_ms();
    clock_fmt_date(now, date, sizeof date);
    /* plan_trigger copies the params before it takes the dag. */
    int rc = plan_trigger(self->plan, &dag, params, n, date, trigger, now,
                          run_id, err);
    free(params);
    dag_destroy(&dag);
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
        rc = sched_g_trigger(self, dag, "dataset", by, &run_id, err);
        zlistx_add_end(done, xstrdup(dag));
    }
    zlistx_destroy(&dags);
    return rc;
}

int
sched_g_result_after(sched_t *self,
                     const Sluice__Result *res,
                     const char *producer,
                     errbuf_t *err)
{
    zlistx_t *done = zlistx_new();
    zlistx_set_destructor(done, (zlistx_destructor_fn *) zstr_free);
    int rc = 0;
    for (size_t i = 0; i < res->n_outputs && rc == 0; i++) {
        rc = s_output(self, res->outputs[i], producer, done, err);
    }
    zlistx_destroy(&done);
    return rc;
}
