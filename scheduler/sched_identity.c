/* sched_identity — a worker acts only for itself. A message from an
 * admitted worker's key about an attempt in flight on another worker, or
 * a Register under a name bound to another key (or a second name for one
 * key), changes nothing; it is counted and audited here. The audit is
 * rate-limited per key, so that one admitted key sending such messages in
 * a loop grows the event table and the log by a bounded amount. */
#include <assert.h>
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/reportlimit.h"
#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_workers.h"

/* One audit event and log line per key at most this often. */
#define S_AUDIT_EVERY_MS 60000
#define S_AUDIT_KEYS     4096 /* keys tracked; past it they share a slot */

/* The event kind and the counter's name of each sched_identity_kind_t. */
static const struct {
    const char *event;
    const char *counter;
} s_kinds[SCHED_ID_KINDS] = {
    [SCHED_ID_NOT_OWN] = {"worker_not_own", "worker_messages_not_own"},
    [SCHED_ID_NAME] = {"worker_name_refused", "worker_registers_refused_name"},
};

bool
sched_identity_say(sched_t *self,
                   const char *kind,
                   const char *who,
                   uint64_t *suppressed)
{
    if (!self->identity_audit) {
        self->identity_audit = reportlimit_new(S_AUDIT_KEYS);
    }
    return reportlimit_due(self->identity_audit, kind, who, S_AUDIT_EVERY_MS,
                           clock_mono_ms(), suppressed);
}

/* The key's audit slot; true when this refusal is to be audited now. */
static bool
s_audit_due(sched_t *self, const uint8_t *signer, uint64_t *suppressed)
{
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(signer, hex);
    return sched_identity_say(self, "identity", hex, suppressed);
}

void
sched_identity_refused(sched_t *self,
                       const uint8_t *signer,
                       sched_identity_kind_t kind,
                       const char *detail)
{
    assert(kind < SCHED_ID_KINDS);
    self->identity[kind]++;
    prom_add(self->prom, PROM_MESSAGES_DROPPED,
             kind == SCHED_ID_NOT_OWN ? PROM_DROP_NOT_OWN
                                      : PROM_DROP_NAME_REFUSED,
             1);
    uint64_t suppressed = 0;
    if (!s_audit_due(self, signer, &suppressed)) {
        return;
    }
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(signer, fp);
    char *text = suppressed ? xasprintf("%s (%" PRIu64 " more like it from "
                                        "this key were not logged in the "
                                        "minute before)",
                                        detail, suppressed)
                            : xstrdup(detail);
    log_warn("worker key %s: %s", fp, text);
    errbuf_t err;
    if (store_event(self->store, clock_wall_ms(), "worker", s_kinds[kind].event,
                    fp, text, &err) < 0) {
        sched_fail_turn(self, &err);
    }
    free(text);
}

void
sched_identity_stop(sched_t *self)
{
    reportlimit_destroy(&self->identity_audit);
}

Sluice__Reply *
sched_identity_metrics(sched_t *self, const Sluice__Request *req)
{
    const Sluice__MetricsReq *op = req->metrics;
    if ((op->dag && *op->dag) || (op->task_id && *op->task_id) || op->run_id) {
        return api_read(self->store, req);
    }
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_METRICS);
    rep->metrics = xmalloc(sizeof *rep->metrics);
    sluice__metrics_rep__init(rep->metrics);
    Sluice__MetricsRep *out = rep->metrics;
    out->scheduler = xcalloc(SCHED_ID_KINDS, sizeof *out->scheduler);
    for (size_t i = 0; i < SCHED_ID_KINDS; i++) {
        Sluice__Metric *m = xmalloc(sizeof *m);
        sluice__metric__init(m);
        m->name = xstrdup(s_kinds[i].counter);
        m->value = (double) self->identity[i];
        out->scheduler[out->n_scheduler++] = m;
    }
    return rep;
}

/* ------------------------------------------------------ fleet state */

static int
s_restore_one(void *arg, const store_worker_admin_t *row)
{
    sched_t *self = arg;
    if (strcmp(row->admin, "draining") != 0) {
        return 0; /* cordoned, removed: no verb sets them yet */
    }
    fleet_drain(fleet_known(self->fleet, row->name, clock_mono_ms()));
    log_info("worker '%s' is still draining, as before the restart", row->name);
    return 0;
}

int
sched_identity_restore(sched_t *self, errbuf_t *err)
{
    return store_workers_admin(self->store, s_restore_one, self, err);
}

int
sched_identity_drain(sched_t *self, fleet_worker_t *worker, errbuf_t *err)
{
    if (store_worker_set_admin(self->store, fleet_name(worker), "draining",
                               err) < 0) {
        return -1;
    }
    fleet_drain(worker);
    return 0;
}
