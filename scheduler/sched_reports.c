/* sched_reports — validation reports and drift profiles on the
 * scheduler's side: kept from Results, sent with Tasks, answered to
 * `sluice report` and `sluice run show`. Needs only the store. */
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/sched_internal.h"

#define PROFILE_MAX (64 * 1024) /* a profile is a line per drift column */

int
sched_reports_on_result(void *arg, const sched_result_t *result, errbuf_t *err)
{
    store_t *store = arg;
    const Sluice__Result *res = result->res;
    bool success = result->success;
    if (!res->validation_report || !*res->validation_report) {
        return 0;
    }
    int64_t now = clock_wall_ms();
    if (store_report_put(store, res->attempt_id, res->validation_summary,
                         res->validation_report, res->validation_text, now,
                         err) < 0) {
        return -1;
    }
    const char *profile = res->validation_profile;
    if (!success || !profile || strncmp(profile, "dataset ", 8) ||
        strlen(profile) > PROFILE_MAX) {
        return 0; /* only a validated version is the next one's baseline */
    }
    const char *eol = strchr(profile, '\n');
    char *dataset =
        eol ? xasprintf("%.*s", (int) (eol - profile - 8), profile + 8)
            : xstrdup(profile + 8);
    int rc =
        store_profile_put(store, dataset, profile, res->attempt_id, now, err);
    free(dataset);
    return rc;
}

char *
sched_reports_profile(store_t *store, const plan_dispatch_t *d)
{
    if (d->ninputs == 0) {
        return xstrdup("");
    }
    errbuf_t err;
    char *profile = store_profile_get(store, d->inputs[0], &err);
    if (!profile) {
        log_warn("attempt %" PRIu64 ": no drift baseline: %s", d->attempt_id,
                 errbuf_msg(&err));
        return xstrdup("");
    }
    return profile;
}

static Sluice__ValidationReport *
s_report_msg(const store_report_t *r)
{
    Sluice__ValidationReport *m = xmalloc(sizeof *m);
    sluice__validation_report__init(m);
    m->task_id = xstrdup(r->task_id);
    m->attempt_id = r->attempt_id;
    m->attempt = r->attempt;
    m->summary = xstrdup(r->summary);
    m->report = xstrdup(r->report);
    m->text = xstrdup(r->text);
    return m;
}

Sluice__Reply *
sched_report(store_t *store, const Sluice__Request *req)
{
    const Sluice__ReportReq *q = req->report;
    store_report_t *rows = NULL;
    size_t count = 0;
    errbuf_t err;
    if (store_reports_get(store, q->run_id, q->task_id, &rows, &count, &err) <
        0) {
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    if (count == 0 && q->task_id && *q->task_id) {
        return api_error(req->request_id, API_E_NOT_FOUND,
                         "run %" PRIu64 " has no validation report for task "
                         "'%s'; is it a validate task that has run?",
                         q->run_id, q->task_id);
    }
    Sluice__Reply *rep = sched_reply(req->request_id, SLUICE__REPLY__OP_REPORT);
    rep->report = xmalloc(sizeof *rep->report);
    sluice__report_rep__init(rep->report);
    rep->report->run_id = q->run_id;
    rep->report->reports = xcalloc(count + 1, sizeof *rep->report->reports);
    for (size_t i = 0; i < count; i++) {
        rep->report->reports[rep->report->n_reports++] = s_report_msg(&rows[i]);
    }
    store_reports_free(rows, count);
    return rep;
}
