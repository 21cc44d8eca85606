/* sched_keys — transport and admission inside the scheduler: the CURVE
 * keys of both sockets, the ZAP handler's start, the admission check on
 * every worker message, and the keys/token requests. */
#include <inttypes.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/statedir.h"
#include "common/xalloc.h"
#include "proto/msg.h"
#include "scheduler/api.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_keys.h"
#include "scheduler/store/store_workers.h"

/* ---------------------------------------------------------------- start */

/* Lists the local CLI (whose CURVE key is converted from client.key) as an
 * operator, so the CLI on the scheduler host needs no extra step. */
static int
s_list_local_client(sched_t *self, errbuf_t *err)
{
    char *path = statedir_path(self->dir, STATEDIR_CLIENT_PUB);
    uint8_t pub[KEYS_PUBLIC_SIZE], curve[CURVE_KEY_SIZE];
    int rc = keys_load_public(path, pub, err);
    free(path);
    if (rc == 0 && keys_curve_public(pub, curve) < 0) {
        errbuf_set(err, "the client key in '%s' is not a valid Ed25519 key",
                   self->dir);
        rc = -1;
    }
    int64_t now = clock_wall_ms();
    if (rc == 0 && (store_begin(self->store, err) < 0 ||
                    admit_set(self->admit, curve, "client", "accepted",
                              "operator", "scheduler", now, err) < 0 ||
                    store_commit(self->store, err) < 0)) {
        store_rollback(self->store);
        rc = -1;
    }
    return rc;
}

int
sched_keys_start(sched_t *self, errbuf_t *err)
{
    bool created = false;
    self->curve =
        curve_ensure(self->dir, STATEDIR_SCHEDULER_CURVE, &created, err);
    if (!self->curve) {
        return -1;
    }
    if (created) {
        log_warn("created the scheduler's transport key %s/%s: workers need "
                 "a new join line ('sluice join-line'), since older lines "
                 "carry no transport key",
                 self->dir, STATEDIR_SCHEDULER_CURVE);
    }
    self->admit = admit_new(self->store, err);
    if (!self->admit || s_list_local_client(self, err) < 0) {
        return -1;
    }
    return admit_bind(self->admit, err);
}

void
sched_keys_stop(sched_t *self)
{
    sched_identity_stop(self);
    admit_destroy(&self->admit);
    curve_destroy(&self->curve);
}

void
sched_keys_secure(sched_t *self, zsock_t *socket, const char *domain)
{
    curve_set_server(self->curve, socket, domain);
}

void
sched_keys_peer(sched_t *self, zmsg_t *msg)
{
    self->peer_known = false;
    for (zframe_t *frame = zmsg_first(msg); frame && !self->peer_known;
         frame = zmsg_next(msg)) {
        const char *user = zframe_meta(frame, "User-Id");
        self->peer_known = user && curve_from_hex(user, self->peer_curve) == 0;
    }
}

/* ------------------------------------------------------------ admission */

/* Refuses a worker on its connection. */
static void
s_refuse(sched_t *self, zframe_t *to, uint32_t code, const char *reason)
{
    sched_refuse(self, self->workers, to, code, reason);
}

/* Refuses a connection whose key is not admitted, at most once per key per
 * ADMIT_ANSWER_MS: a worker asks again no sooner, and one that never
 * reads cannot pile refusals up in the send queue. */
static void
s_answer_stranger(sched_t *self, zframe_t *to, uint32_t code, const char *why)
{
    uint64_t quiet;
    if (admit_report(self->admit, self->peer_curve, "answer", ADMIT_ANSWER_MS,
                     clock_mono_ms(), &quiet)) {
        s_refuse(self, to, code, why);
    }
}

/* A refused join token: the worker is told why (s_answer_stranger's
 * pace), the log and the event table once per key a minute
 * (admit_report), so that a flood of bad tokens grows neither. */
static void
s_token_refused(sched_t *self,
                zframe_t *from,
                const Sluice__Register *reg,
                const char *fp,
                const errbuf_t *why)
{
    uint64_t quiet = 0;
    if (admit_report(self->admit, self->peer_curve, "token_refused",
                     ADMIT_REPORT_MS, clock_mono_ms(), &quiet)) {
        char *detail =
            quiet ? xasprintf("%s (and %" PRIu64 " more refusals of this key "
                              "not recorded)",
                              errbuf_msg(why), quiet)
                  : xstrdup(errbuf_msg(why));
        log_warn("worker '%s' (key %s) presented a join token that was "
                 "refused: %s",
                 reg->name ? reg->name : "", fp, detail);
        errbuf_t ev;
        if (store_event(self->store, clock_wall_ms(), "worker", "token_refused",
                        fp, detail, &ev) < 0) {
            sched_fail_turn(self, &ev);
        }
        free(detail);
    }
    s_answer_stranger(self, from, REFUSE_E_NOT_ADMITTED, errbuf_msg(why));
}

/* A Register whose name is not a worker name: the name is never echoed
 * (it may hold anything); the log and the event table hear of it once per
 * key a minute, the peer at s_answer_stranger's pace. */
static void
s_name_refused(sched_t *self, zframe_t *from)
{
    uint64_t quiet = 0;
    if (admit_report(self->admit, self->peer_curve, "name_refused",
                     ADMIT_REPORT_MS, clock_mono_ms(), &quiet)) {
        char fp[KEYS_FP_SIZE];
        keys_fingerprint(self->peer_curve, fp);
        char *detail = xasprintf("a Register's name is not 1 to %d letters, "
                                 "digits, '.', '_' or '-' (%" PRIu64 " more "
                                 "from this key not recorded)",
                                 MSG_NAME_MAX, quiet);
        log_warn("worker key %s: %s", fp, detail);
        errbuf_t ev;
        if (store_event(self->store, clock_wall_ms(), "worker", "name_refused",
                        fp, detail, &ev) < 0) {
            sched_fail_turn(self, &ev);
        }
        free(detail);
    }
    s_answer_stranger(self, from, REFUSE_E_MALFORMED,
                      "a worker name is 1 to 64 letters, digits, '.', '_' or "
                      "'-'; start the worker with such a --name");
}

/* A pending key's Register: admitted when it carries a valid token. */
static bool
s_admit_pending(sched_t *self, zframe_t *from, const Sluice__Register *reg)
{
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(self->peer_curve, fp);
    int64_t now = clock_wall_ms();
    errbuf_t err;
    errbuf_clear(&err);
    if (admit_note(self->admit, self->peer_curve, reg->name ? reg->name : "",
                   reg->hostname ? reg->hostname : "", now, &err) < 0) {
        sched_fail_turn(self, &err);
        return false;
    }
    if (!reg->token || !*reg->token) {
        char *reason = xasprintf(
            "this worker's transport key %s is waiting for approval: on the "
            "scheduler host run 'sluice keys accept %s', or start the worker "
            "with --token-file FILE holding a token from 'sluice token create'",
            fp, fp);
        s_answer_stranger(self, from, REFUSE_E_PENDING, reason);
        free(reason);
        return false;
    }
    int rc = admit_token_redeem(self->admit, reg->token, now, &err);
    if (rc == ADMIT_ETOKEN) {
        s_token_refused(self, from, reg, fp, &err);
        return false;
    }
    uint8_t curve[CURVE_KEY_SIZE];
    char hex[CURVE_HEX_SIZE];
    curve_hex(self->peer_curve, hex);
    if (rc < 0 || admit_decide(self->admit, hex, "accept", "token", now, curve,
                               &err) < 0) {
        sched_fail_turn(self, &err);
        return false;
    }
    return true;
}

bool
sched_keys_admit_worker(sched_t *self, zframe_t *from, env_msg_t *env)
{
    const char *state =
        self->peer_known ? admit_state(self->admit, self->peer_curve) : NULL;
    if (env->type != SLUICE__MSG_TYPE__MSG_REGISTER) {
        if (self->peer_known &&
            admit_signer_ok(self->admit, self->peer_curve, env->signer)) {
            return true;
        }
        sched_drop(self, "worker", ENV_EUNTRUSTED,
                   "message on a connection whose transport key is not "
                   "admitted for its signer");
        return false;
    }
    const Sluice__Register *reg = (const Sluice__Register *) env->body;
    if (!state) {
        sched_drop(self, "worker", ENV_EUNTRUSTED,
                   "register on a connection with no transport key");
        return false;
    }
    if (!msg_name_ok(reg->name)) {
        s_name_refused(self, from);
        return false;
    }
    if (strcmp(state, "pending") == 0 && !s_admit_pending(self, from, reg)) {
        return false;
    }
    state = admit_state(self->admit, self->peer_curve);
    if (strcmp(state, "accepted") != 0) {
        s_answer_stranger(self, from, REFUSE_E_NOT_ADMITTED,
                          "this worker's transport key is not admitted");
        return false;
    }
    errbuf_t err;
    errbuf_clear(&err);
    int rc = admit_bind_worker(
        self->admit, self->peer_curve, env->signer, reg->name ? reg->name : "",
        reg->hostname ? reg->hostname : "", clock_wall_ms(), &err);
    if (rc == ADMIT_EMISMATCH) {
        uint64_t quiet;
        if (admit_report(self->admit, self->peer_curve, "key_mismatch",
                         ADMIT_REPORT_MS, clock_mono_ms(), &quiet)) {
            log_warn("worker '%s' refused: %s (%" PRIu64 " more refusals "
                     "of this key not logged)",
                     reg->name, errbuf_msg(&err), quiet);
        }
        s_answer_stranger(self, from, REFUSE_E_NOT_ADMITTED, errbuf_msg(&err));
        return false;
    }
    if (rc == ADMIT_ENAMED || rc == ADMIT_ETAKEN) {
        char *detail = xasprintf("register as '%s' refused: %s", reg->name,
                                 errbuf_msg(&err));
        sched_identity_refused(self, env->signer, SCHED_ID_NAME, detail);
        free(detail);
        s_refuse(self, from, REFUSE_E_NOT_ADMITTED, errbuf_msg(&err));
        return false;
    }
    if (rc < 0) {
        sched_fail_turn(self, &err);
        return false;
    }
    return true;
}

bool
sched_keys_admit_client(sched_t *self)
{
    /* ZAP admitted the connection; a key revoked since is cut off here. */
    const char *state =
        self->peer_known ? admit_state(self->admit, self->peer_curve) : NULL;
    if (state &&
        (strcmp(state, "revoked") == 0 || strcmp(state, "rejected") == 0)) {
        sched_drop(self, "client", ENV_EUNTRUSTED,
                   "request on a connection whose key was revoked");
        return false;
    }
    return self->peer_known;
}

/* ----------------------------------------------------------- keys list */

static Sluice__KeyInfo *
s_key_info(const store_key_row_t *row)
{
    Sluice__KeyInfo *info = xmalloc(sizeof *info);
    sluice__key_info__init(info);
    uint8_t curve[CURVE_KEY_SIZE];
    char fp[KEYS_FP_SIZE] = "";
    if (curve_from_hex(row->curve_hex, curve) == 0) {
        keys_fingerprint(curve, fp);
    }
    uint8_t sign[KEYS_PUBLIC_SIZE];
    char sfp[KEYS_FP_SIZE] = "";
    if (keys_public_from_hex(row->sign_hex, sign) == 0) {
        keys_fingerprint(sign, sfp);
    }
    info->fingerprint = xstrdup(fp);
    info->kind = xstrdup(row->kind);
    info->state = xstrdup(row->state);
    info->name = xstrdup(row->name);
    info->host = xstrdup(row->host);
    info->address = xstrdup(row->address);
    info->first_seen_ms = (uint64_t) row->first_seen;
    info->last_seen_ms = (uint64_t) row->last_seen;
    info->decided_ms = (uint64_t) row->decided_at;
    info->decided_by = xstrdup(row->decided_by);
    info->role = xstrdup(row->role);
    info->curve_hex = xstrdup(row->curve_hex);
    info->sign_fingerprint = xstrdup(sfp);
    return info;
}

static int
s_list_one(void *arg, const store_key_row_t *row)
{
    Sluice__KeysListRep *list = arg;
    list->keys = xrealloc(list->keys, (list->n_keys + 1) * sizeof *list->keys);
    list->keys[list->n_keys++] = s_key_info(row);
    return 0;
}

Sluice__Reply *
sched_keys_list(sched_t *self, const Sluice__Request *req)
{
    Sluice__KeysListRep *list = xmalloc(sizeof *list);
    sluice__keys_list_rep__init(list);
    errbuf_t err;
    if (store_key_list(self->store, s_list_one, list, &err) < 0) {
        protobuf_c_message_free_unpacked(&list->base, NULL);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_KEYS_LIST);
    rep->keys_list = list;
    return rep;
}

/* ------------------------------------------------------------- decide */

/* Revoking a connected worker cuts it off now: out of the fleet, its
 * running attempts re-queued as lost, told so (REFUSE_E_NOT_ADMITTED); its transport
 * key is refused from now on. */
static int
s_cut_off(sched_t *self,
          const uint8_t *curve,
          Sluice__KeysDecideRep *out,
          errbuf_t *err)
{
    uint8_t sign[KEYS_PUBLIC_SIZE];
    fleet_worker_t *worker =
        keys_public_from_hex(admit_sign_hex(self->admit, curve), sign) == 0
            ? fleet_by_key(self->fleet, sign)
            : NULL;
    if (!worker || fleet_state(worker) == FLEET_GONE) {
        return 0;
    }
    char *name = xstrdup(fleet_name(worker));
    int64_t now = clock_wall_ms();
    zlistx_t *ids = zlistx_new();
    fleet_worker_attempts(worker, ids);
    int rc = store_worker_set_state(self->store, name, "gone", now, err);
    if (rc == 0) { /* gone for good: no drain left to end */
        rc = store_worker_set_admin(self->store, name, "", err);
    }
    for (void *id = zlistx_first(ids); id && rc == 0; id = zlistx_next(ids)) {
        uint64_t attempt_id = (uint64_t) (uintptr_t) id;
        rc = sched_attempt_lost(self, attempt_id, "lost",
                                "worker's key was revoked", now, err) < 0
                 ? -1
                 : 0;
        fleet_release(self->fleet, name, attempt_id);
        out->requeued += rc == 0;
    }
    if (fleet_routing(worker)) {
        s_refuse(self, fleet_routing(worker), REFUSE_E_NOT_ADMITTED,
                 "this worker's key was revoked by an operator");
    }
    fleet_set_state(worker, FLEET_GONE);
    out->disconnected = true;
    log_warn("worker '%s' cut off: its key was revoked; %u running attempts "
             "re-queued",
             name, out->requeued);
    zlistx_destroy(&ids);
    free(name);
    return rc;
}

static int
s_find_row(void *arg, const store_key_row_t *row)
{
    void **ctx = arg;
    if (strcmp(row->curve_hex, ctx[0]) == 0) {
        ctx[1] = s_key_info(row);
    }
    return 0;
}

Sluice__Reply *
sched_keys_decide(sched_t *self, const Sluice__Request *req)
{
    const Sluice__KeysDecideReq *d = req->keys_decide;
    const char *action = d->action ? d->action : "";
    if (strcmp(action, "accept") && strcmp(action, "reject") &&
        strcmp(action, "revoke")) {
        return api_error(req->request_id, API_E_BAD_REQUEST,
                         "unknown key action '%s'; use accept, reject or "
                         "revoke",
                         action);
    }
    uint8_t curve[CURVE_KEY_SIZE];
    errbuf_t err;
    errbuf_clear(&err);
    int rc = admit_decide(self->admit, d->fingerprint ? d->fingerprint : "",
                          action, "operator", clock_wall_ms(), curve, &err);
    if (rc < 0 && rc != -1) {
        return api_error(req->request_id,
                         rc == ADMIT_ENOTFOUND ? API_E_NOT_FOUND
                                               : API_E_REFUSED,
                         "%s", errbuf_msg(&err));
    }
    Sluice__KeysDecideRep *out = xmalloc(sizeof *out);
    sluice__keys_decide_rep__init(out);
    if (rc == 0 && strcmp(action, "revoke") == 0) {
        rc = s_cut_off(self, curve, out, &err);
    }
    char hex[CURVE_HEX_SIZE];
    curve_hex(curve, hex);
    void *ctx[2] = {hex, NULL};
    if (rc == 0) {
        rc = store_key_list(self->store, s_find_row, ctx, &err);
    }
    if (rc < 0) {
        sched_fail_turn(self, &err);
        protobuf_c_message_free_unpacked(&out->base, NULL);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    out->key = ctx[1];
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_KEYS_DECIDE);
    rep->keys_decide = out;
    return rep;
}

/* -------------------------------------------------------------- rename */

/* Whether worker `from` cannot be renamed now (connected, or attempts
 * still count on it); why into why. */
static bool
s_rename_busy(
    sched_t *self, const char *from, const char *to, char *why, size_t size)
{
    fleet_worker_t *worker = fleet_by_name(self->fleet, from);
    if (!worker) {
        return false;
    }
    zlistx_t *ids = zlistx_new();
    fleet_worker_attempts(worker, ids);
    size_t n = zlistx_size(ids);
    zlistx_destroy(&ids);
    if (fleet_state(worker) == FLEET_CONNECTED) {
        snprintf(why, size,
                 "worker '%s' is connected; stop it first ('sluice drain "
                 "%s'), rename it, then start it with --name %s",
                 from, from, to);
    } else if (n) {
        snprintf(why, size,
                 "worker '%s' still has %zu attempts that wait for it to "
                 "come back; rename it once they are re-queued",
                 from, n);
    }
    return fleet_state(worker) == FLEET_CONNECTED || n;
}

Sluice__Reply *
sched_keys_rename(sched_t *self, const Sluice__Request *req)
{
    const char *from = req->keys_rename->from ? req->keys_rename->from : "";
    const char *to = req->keys_rename->to ? req->keys_rename->to : "";
    char why[256];
    if (s_rename_busy(self, from, to, why, sizeof why)) {
        return api_error(req->request_id, API_E_REFUSED, "%s", why);
    }
    char sign_hex[KEYS_HEX_SIZE];
    errbuf_t err;
    errbuf_clear(&err);
    int rc =
        admit_rename(self->admit, from, to, clock_wall_ms(), sign_hex, &err);
    if (rc == -1) {
        sched_fail_turn(self, &err);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    if (rc < 0) {
        return api_error(req->request_id,
                         rc == ADMIT_ENOTFOUND ? API_E_NOT_FOUND
                                               : API_E_REFUSED,
                         "%s", errbuf_msg(&err));
    }
    log_info("worker '%s' renamed '%s' by an operator", from, to);
    Sluice__KeysRenameRep *out = xmalloc(sizeof *out);
    sluice__keys_rename_rep__init(out);
    out->from = xstrdup(from);
    out->to = xstrdup(to);
    uint8_t sign[KEYS_PUBLIC_SIZE];
    char fp[KEYS_FP_SIZE] = "";
    if (keys_public_from_hex(sign_hex, sign) == 0) {
        keys_fingerprint(sign, fp);
    }
    out->sign_fingerprint = xstrdup(fp);
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_KEYS_RENAME);
    rep->keys_rename = out;
    return rep;
}

/* -------------------------------------------------------------- tokens */

Sluice__Reply *
sched_token_create(sched_t *self, const Sluice__Request *req)
{
    const Sluice__TokenCreateReq *t = req->token_create;
    char token[ADMIT_TOKEN_SIZE];
    int64_t now = clock_wall_ms();
    uint32_t uses = t->uses ? t->uses : 1;
    errbuf_t err;
    if (admit_token_create(self->admit, t->ttl_ms, uses, now, token, &err) <
        0) {
        sched_fail_turn(self, &err);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    log_info("join token created: %u uses, %s", uses,
             t->ttl_ms ? "expires" : "never expires");
    Sluice__TokenCreateRep *out = xmalloc(sizeof *out);
    sluice__token_create_rep__init(out);
    out->token = xstrdup(token);
    out->expires_ms = t->ttl_ms ? (uint64_t) now + t->ttl_ms : 0;
    out->uses = uses;
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_TOKEN_CREATE);
    rep->token_create = out;
    return rep;
}
