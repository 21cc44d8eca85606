/* sched_secrets — the scheduler's use of secrets (scheduler/secrets.h):
 * the secret verbs, opening secrets for dispatch, and masking them in the
 * logs of the attempts that use them. */
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/sched_internal.h"
#include "scheduler/secrets.h"
#include "scheduler/store/store_logs.h"
#include "scheduler/store/store_secrets.h"

/* Maskers of attempts that ended without a result (lost) are swept once
 * the table grows past this. */
#define S_MASKERS_SWEEP 1024

/* One attempt's masking state. */
typedef struct {
    secrets_mask_t *mask; /* owned; NULL: the task uses no secrets */
    uint64_t last_seq;    /* highest log seq stored */
} s_masker_t;

static void
s_masker_free(void **item)
{
    s_masker_t *m = *item;
    if (m) {
        secrets_mask_destroy(&m->mask);
        free(m);
        *item = NULL;
    }
}

/* ------------------------------------------------------------ lifecycle */

static char *
s_open_secret(void *arg, const char *name, errbuf_t *err)
{
    sched_t *self = arg;
    return secrets_get(self->secrets, name, err);
}

int
sched_secrets_start(sched_t *self, errbuf_t *err)
{
    self->secrets = secrets_open(self->dir, self->store, err);
    self->maskers = zhashx_new();
    zhashx_set_destructor(self->maskers, s_masker_free);
    return self->secrets ? 0 : -1;
}

void
sched_secrets_plan(sched_t *self)
{
    if (self->plan && self->secrets) {
        plan_set_secret_lookup(self->plan, s_open_secret, self);
    }
}

void
sched_secrets_stop(sched_t *self)
{
    zhashx_destroy(&self->maskers);
    secrets_destroy(&self->secrets);
}

/* -------------------------------------------------------------- masking */

static char *
s_key(uint64_t attempt_id, char *buf, size_t size)
{
    snprintf(buf, size, "%" PRIu64, attempt_id);
    return buf;
}

static void
s_sweep(sched_t *self)
{
    zlistx_t *keys = zhashx_keys(self->maskers);
    for (const char *key = zlistx_first(keys); key; key = zlistx_next(keys)) {
        if (!plan_attempt_known(self->plan, strtoull(key, NULL, 10))) {
            zhashx_delete(self->maskers, key);
        }
    }
    zlistx_destroy(&keys);
}

/* The masker of an attempt, made on its first log chunk (so it is rebuilt
 * after a restart): the values of the secrets its task's env names. */
static s_masker_t *
s_masker(sched_t *self, uint64_t attempt_id)
{
    char key[24];
    s_key(attempt_id, key, sizeof key);
    s_masker_t *m = zhashx_lookup(self->maskers, key);
    if (m) {
        return m;
    }
    if (zhashx_size(self->maskers) >= S_MASKERS_SWEEP) {
        s_sweep(self);
    }
    m = xcalloc(1, sizeof *m);
    /* After a restart the stored log may already run past the chunk that
     * made this masker: held-back text goes after all of it. */
    m->last_seq = plan_attempt_log_seq(self->plan, attempt_id);
    zlistx_t *names = zlistx_new();
    zlistx_set_destructor(names, (zlistx_destructor_fn *) zstr_free);
    if (self->secrets &&
        plan_attempt_secrets(self->plan, attempt_id, names) > 0) {
        m->mask = secrets_mask_new();
        for (const char *name = zlistx_first(names); name;
             name = zlistx_next(names)) {
            errbuf_t err;
            char *value = secrets_get(self->secrets, name, &err);
            secrets_mask_add(m->mask, value);
            secrets_free(&value);
        }
    }
    zlistx_destroy(&names);
    zhashx_insert(self->maskers, key, m);
    return m;
}

uint8_t *
sched_secrets_mask(sched_t *self,
                   uint64_t attempt_id,
                   uint64_t seq,
                   unsigned stream,
                   const void *data,
                   size_t *len)
{
    s_masker_t *m = s_masker(self, attempt_id);
    if (seq > m->last_seq) {
        m->last_seq = seq;
    }
    if (!m->mask) {
        return NULL;
    }
    return secrets_mask(m->mask, stream, data, *len, len);
}

int
sched_secrets_on_result(void *arg, const sched_result_t *result, errbuf_t *err)
{
    sched_t *self = arg;
    uint64_t attempt_id = result->res->attempt_id;
    char key[24];
    s_key(attempt_id, key, sizeof key);
    s_masker_t *m = zhashx_lookup(self->maskers, key);
    int rc = 0;
    for (unsigned stream = 1; m && m->mask && stream <= 3 && rc == 0;
         stream++) {
        size_t len;
        uint8_t *rest = secrets_mask_flush(m->mask, stream, &len);
        if (len > 0) {
            rc =
                store_log_append(self->store, attempt_id, ++m->last_seq,
                                 (int) stream, clock_wall_ms(), rest, len, err);
        }
        free(rest);
    }
    zhashx_delete(self->maskers, key);
    return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- verbs */

Sluice__Reply *
sched_secret_set(sched_t *self, const Sluice__Request *req)
{
    const Sluice__SecretSetReq *set = req->secret_set;
    int64_t now = clock_wall_ms();
    bool replaced = false;
    errbuf_t err;
    if (secrets_set(self->secrets, set->name, set->value.data, set->value.len,
                    now, &replaced, &err) < 0) {
        return api_error(req->request_id, API_E_BAD_REQUEST, "%s",
                         errbuf_msg(&err));
    }
    if (store_event(self->store, now, sched_actor(self), "secret_set",
                    set->name, replaced ? "replaced" : "created", &err) < 0) {
        sched_fail_turn(self, &err);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    log_info("secret '%s' %s", set->name, replaced ? "replaced" : "set");
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_SECRET_SET);
    rep->secret_set = xmalloc(sizeof *rep->secret_set);
    sluice__secret_set_rep__init(rep->secret_set);
    rep->secret_set->name = xstrdup(set->name);
    rep->secret_set->replaced = replaced;
    return rep;
}

static int
s_list_one(void *arg, const char *name, int64_t updated_at)
{
    Sluice__SecretListRep *list = arg;
    list->secrets =
        xrealloc(list->secrets, (list->n_secrets + 1) * sizeof *list->secrets);
    Sluice__SecretInfo *info = xmalloc(sizeof *info);
    sluice__secret_info__init(info);
    info->name = xstrdup(name);
    info->updated_ms = (uint64_t) updated_at;
    list->secrets[list->n_secrets++] = info;
    return 0;
}

Sluice__Reply *
sched_secret_list(sched_t *self, const Sluice__Request *req)
{
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_SECRET_LIST);
    rep->secret_list = xmalloc(sizeof *rep->secret_list);
    sluice__secret_list_rep__init(rep->secret_list);
    errbuf_t err;
    if (store_secret_list(self->store, s_list_one, rep->secret_list, &err) <
        0) {
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    return rep;
}

Sluice__Reply *
sched_secret_rm(sched_t *self, const Sluice__Request *req)
{
    const char *name = req->secret_rm->name;
    int64_t now = clock_wall_ms();
    errbuf_t err;
    if (secrets_rm(self->secrets, name, &err) < 0) {
        return api_error(req->request_id, API_E_NOT_FOUND, "%s",
                         errbuf_msg(&err));
    }
    if (store_event(self->store, now, sched_actor(self), "secret_removed", name,
                    "", &err) < 0) {
        sched_fail_turn(self, &err);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    log_info("secret '%s' removed", name);
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_SECRET_RM);
    rep->secret_rm = xmalloc(sizeof *rep->secret_rm);
    sluice__secret_rm_rep__init(rep->secret_rm);
    rep->secret_rm->name = xstrdup(name);
    return rep;
}
