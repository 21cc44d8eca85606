/* sched_audit — integrity on the scheduler's side: client roles, signed
 * results kept and verified, replayed results refused, and the event
 * chain checked on request.
 *
 * Roles: the request table (sched_client.c) names the role each op needs;
 * an operator may run every op, a viewer only those that read (a key
 * that is not trusted at all never gets this far: its envelope is
 * refused). */
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_audit.h"

#define S_ROLE_SIZE 16

/* ------------------------------------------------------------- roles */

#define S_LOCAL_CLI "local CLI"

/* client.pub is trusted as an operator once, at the first start after
 * 'sluice init'. A different one later was swapped in: by whom cannot be
 * known, so it is refused until the person starting the scheduler says
 * --trust-client-key, which the audit log records. */
static int
s_trust_local_client(sched_t *self, const char *hex, int64_t now, errbuf_t *err)
{
    char known[KEYS_HEX_SIZE];
    int rc = store_client_by_name(self->store, S_LOCAL_CLI, known, err);
    if (rc < 0) {
        return -1;
    }
    if (rc == 1 && strcmp(known, hex) != 0) {
        if (!self->config->trust_client_key) {
            errbuf_set(err,
                       "'%s/client.pub' is not the client key trusted before "
                       "(was %.16s..., now %.16s...); if you replaced it on "
                       "purpose, start once with 'sluice scheduler "
                       "--trust-client-key', else restore it",
                       self->dir, known, hex);
            return -1;
        }
        char detail[160];
        snprintf(detail, sizeof detail, "was %.16s, now %.16s", known, hex);
        log_warn("trusting a new client.pub as the local operator (%s)",
                 detail);
        if (store_client_remove(self->store, known, err) < 0 ||
            store_event(self->store, now, "scheduler", "local_client_trusted",
                        "client.pub", detail, err) < 0) {
            return -1;
        }
    }
    return store_client_put(self->store, hex, "operator", S_LOCAL_CLI, now,
                            NULL, err);
}

int
sched_audit_start(sched_t *self, errbuf_t *err)
{
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(self->client_key, hex);
    int64_t now = clock_wall_ms();
    if (store_begin(self->store, err) < 0 ||
        s_trust_local_client(self, hex, now, err) < 0 ||
        store_commit(self->store, err) < 0) {
        store_rollback(self->store);
        return -1;
    }
    return 0;
}

/* The role of signer into role; false when the key is not trusted. */
static bool
s_role(sched_t *self, const uint8_t *signer, char *role)
{
    if (memcmp(signer, self->client_key, KEYS_PUBLIC_SIZE) == 0) {
        snprintf(role, S_ROLE_SIZE, "operator");
        return true;
    }
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(signer, hex);
    errbuf_t err;
    int rc = store_client_role(self->store, hex, role, S_ROLE_SIZE, &err);
    if (rc < 0) {
        log_error("cannot read client keys: %s", errbuf_msg(&err));
    }
    return rc == 1;
}

bool
sched_client_trusted(sched_t *self, const uint8_t *signer)
{
    char role[S_ROLE_SIZE];
    return s_role(self, signer, role);
}

/* The op's field name ("trigger", "dag_apply") for messages and events. */
static const char *
s_op_name(const Sluice__Request *req)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field(&sluice__request__descriptor,
                                                (unsigned) req->op_case);
    return field ? field->name : "unknown";
}

bool
sched_authorize(sched_t *self,
                const env_msg_t *env,
                const Sluice__Request *req,
                sched_role_t needed,
                Sluice__Reply **refusal)
{
    char role[S_ROLE_SIZE] = "";
    if (!s_role(self, env->signer, role)) {
        snprintf(role, sizeof role, "none");
    }
    if (needed == SCHED_VIEWER || strcmp(role, "operator") == 0) {
        return true;
    }
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(env->signer, fp);
    char actor[64];
    snprintf(actor, sizeof actor, "client %s", fp);
    char detail[64];
    snprintf(detail, sizeof detail, "needs operator, key is %s", role);
    errbuf_t err;
    if (store_event(self->store, clock_wall_ms(), actor, "refused",
                    s_op_name(req), detail, &err) < 0) {
        sched_fail_turn(self, &err);
    }
    log_warn("refused '%s' from client %s (%s): needs the operator role",
             s_op_name(req), fp, role);
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(env->signer, hex);
    *refusal = api_error(req->request_id, API_E_REFUSED,
                         "'%s' needs the operator role and this client's key "
                         "%s is a %s; ask an operator to run 'sluice keys "
                         "add-client %s --role operator'",
                         s_op_name(req), fp, role, hex);
    return false;
}

/* ---------------------------------------------------------- client_add */

Sluice__Reply *
sched_client_add(sched_t *self, const Sluice__Request *req)
{
    const Sluice__ClientAddReq *add = req->client_add;
    uint8_t pub[KEYS_PUBLIC_SIZE];
    if (!add->public_hex || keys_public_from_hex(add->public_hex, pub) < 0) {
        return api_error(req->request_id, API_E_BAD_REQUEST,
                         "'%s' is not a public key: give the 64 hex "
                         "characters that 'sluice keys client-key' prints",
                         add->public_hex ? add->public_hex : "");
    }
    if (!add->role ||
        (strcmp(add->role, "viewer") != 0 && strcmp(add->role, "operator"))) {
        return api_error(req->request_id, API_E_BAD_REQUEST,
                         "role '%s' does not exist; use viewer or operator",
                         add->role ? add->role : "");
    }
    char hex[KEYS_HEX_SIZE], fp[KEYS_FP_SIZE];
    keys_public_hex(pub, hex);
    keys_fingerprint(pub, fp);
    int64_t now = clock_wall_ms();
    bool replaced = false;
    errbuf_t err;
    if (store_client_put(self->store, hex, add->role, add->name, now, &replaced,
                         &err) < 0 ||
        store_event(self->store, now, sched_actor(self), "client_added", fp,
                    add->role, &err) < 0) {
        sched_fail_turn(self, &err);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    log_info("client key %s trusted as %s", fp, add->role);
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_CLIENT_ADD);
    rep->client_add = xmalloc(sizeof *rep->client_add);
    sluice__client_add_rep__init(rep->client_add);
    rep->client_add->fingerprint = xstrdup(fp);
    rep->client_add->role = xstrdup(add->role);
    rep->client_add->replaced = replaced;
    return rep;
}

/* -------------------------------------------------------------- verify */

/* Why an opened signed message holds no Result of attempt_id: a Result,
 * or a batch with one among its items (what the worker sent together);
 * NULL when it does. */
static const char *
s_check_result(const env_msg_t *env,
               uint64_t attempt_id,
               char *why,
               size_t size)
{
    bool batch = env->type == SLUICE__MSG_TYPE__MSG_BATCH;
    size_t n = batch ? env->nitems : 1;
    uint64_t other = 0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const env_msg_t *m = batch ? &env->items[i] : env;
        if (m->type != SLUICE__MSG_TYPE__MSG_RESULT) {
            continue;
        }
        other = ((const Sluice__Result *) m->body)->attempt_id;
        if (other == attempt_id) {
            return NULL;
        }
        any = true;
    }
    if (any) {
        snprintf(why, size, "signed result is for attempt %" PRIu64, other);
    } else {
        snprintf(why, size, "signed message is a %s, not a result",
                 env_type_name(env->type));
    }
    return why;
}

/* Why the signer of a stored Result is not the key of the worker its
 * attempt was sent to (some other admitted key signed it); NULL when it
 * is. */
static const char *
s_check_signer(const store_signed_row_t *row,
               const uint8_t *signer,
               char *why,
               size_t size)
{
    uint8_t bound[KEYS_PUBLIC_SIZE];
    if (keys_public_from_hex(row->worker_hex, bound) < 0) {
        snprintf(why, size, "no signing key is known for worker '%s'",
                 row->worker);
        return why;
    }
    if (memcmp(bound, signer, KEYS_PUBLIC_SIZE) != 0) {
        char fp[KEYS_FP_SIZE], sfp[KEYS_FP_SIZE];
        keys_fingerprint(bound, fp);
        keys_fingerprint(signer, sfp);
        snprintf(why, size,
                 "signed by key %s, not by the key of worker '%s' (%s) "
                 "it was sent to",
                 sfp, row->worker, fp);
        return why;
    }
    return NULL;
}

/* Why a stored signed Result does not hold for its attempt; NULL when it
 * does. env_reopen verifies before it decodes, as on the wire. */
static const char *
s_check_signed(const store_signed_row_t *row, char *why, size_t size)
{
    uint8_t signer[KEYS_PUBLIC_SIZE];
    if (row->sig_size != KEYS_SIG_SIZE ||
        keys_public_from_hex(row->signer_hex, signer) < 0) {
        snprintf(why, size, "stored signature or signer key is malformed");
        return why;
    }
    env_msg_t env;
    errbuf_t err;
    if (env_reopen(row->signed_bytes, row->signed_size, signer, row->sig, &env,
                   &err) != ENV_OK) {
        snprintf(why, size, "%s", errbuf_msg(&err));
        return why;
    }
    const char *problem = s_check_result(&env, row->attempt_id, why, size);
    env_msg_clear(&env);
    return problem ? problem : s_check_signer(row, signer, why, size);
}

static int
s_verify_row(void *arg, const store_signed_row_t *row)
{
    Sluice__VerifyRep *rep = arg;
    Sluice__AttemptCheck *check = xmalloc(sizeof *check);
    sluice__attempt_check__init(check);
    check->attempt_id = row->attempt_id;
    check->task_id = xstrdup(row->task_id);
    check->number = row->number;
    check->worker = xstrdup(row->worker);
    check->has_result = row->sig != NULL || row->signed_bytes != NULL;
    char fp[KEYS_FP_SIZE] = "";
    uint8_t signer[KEYS_PUBLIC_SIZE];
    if (keys_public_from_hex(row->signer_hex, signer) == 0) {
        keys_fingerprint(signer, fp);
    }
    check->signer = xstrdup(fp);
    char why[192];
    const char *problem =
        check->has_result ? s_check_signed(row, why, sizeof why) : NULL;
    check->ok = check->has_result && !problem;
    check->problem = xstrdup(problem ? problem : "");
    rep->bad += problem ? 1 : 0;
    rep->attempts =
        xrealloc(rep->attempts, (rep->n_attempts + 1) * sizeof *rep->attempts);
    rep->attempts[rep->n_attempts++] = check;
    return 0;
}

Sluice__Reply *
sched_verify(store_t *store, const Sluice__Request *req)
{
    Sluice__Reply *rep = sched_reply(req->request_id, SLUICE__REPLY__OP_VERIFY);
    rep->verify = xmalloc(sizeof *rep->verify);
    sluice__verify_rep__init(rep->verify);
    rep->verify->run_id = req->verify->run_id;
    errbuf_t err;
    int rc = store_run_signed(store, req->verify->run_id, s_verify_row,
                              rep->verify, &err);
    if (rc < 0) {
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        return api_error(req->request_id,
                         rc == STORE_ENOTFOUND ? API_E_NOT_FOUND
                                               : API_E_INTERNAL,
                         "%s", errbuf_msg(&err));
    }
    return rep;
}

Sluice__Reply *
sched_verify_events(store_t *store, const Sluice__Request *req)
{
    store_chain_t chain;
    errbuf_t err;
    if (store_events_verify(store, &chain, &err) < 0) {
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_VERIFY_EVENTS);
    rep->verify_events = xmalloc(sizeof *rep->verify_events);
    sluice__verify_events_rep__init(rep->verify_events);
    rep->verify_events->events = chain.events;
    rep->verify_events->unchained = chain.unchained;
    rep->verify_events->intact = chain.first_bad == 0;
    rep->verify_events->first_bad = chain.first_bad;
    rep->verify_events->problem = xstrdup(chain.problem);
    if (chain.first_bad) {
        log_warn("event chain broken at event %" PRIu64 ": %s", chain.first_bad,
                 chain.problem);
    }
    return rep;
}

/* ------------------------------------------------------ signed results */

int
sched_result_seen(sched_t *self, const env_msg_t *env)
{
    const Sluice__Result *res = (const Sluice__Result *) env->body;
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(env->signer, hex);
    errbuf_t err;
    int kept =
        store_attempt_kept(self->store, res->attempt_id, env->sig, hex, &err);
    if (kept < 0) {
        sched_fail_turn(self, &err);
        return STORE_KEPT_NONE;
    }
    if (kept == STORE_KEPT_OTHER) {
        log_flag(PROTO,
                 "result for attempt %" PRIu64 " sent again by its worker",
                 res->attempt_id);
    }
    return kept;
}

void
sched_result_replayed(sched_t *self, const env_msg_t *env)
{
    const Sluice__Result *res = (const Sluice__Result *) env->body;
    char detail[128];
    snprintf(detail, sizeof detail,
             "result for attempt %" PRIu64 " is the one already stored "
             "(same signature)",
             res->attempt_id);
    sched_drop(self, "worker", ENV_EREPLAYED, detail);
}

void
sched_result_keep(sched_t *self, const env_msg_t *env)
{
    const Sluice__Result *res = (const Sluice__Result *) env->body;
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(env->signer, hex);
    size_t size;
    const uint8_t *signed_bytes = env_signed(env, &size);
    errbuf_t err;
    if (signed_bytes &&
        store_attempt_sign(self->store, res->attempt_id, signed_bytes, size,
                           env->sig, hex, &err) < 0) {
        sched_fail_turn(self, &err);
    }
}
