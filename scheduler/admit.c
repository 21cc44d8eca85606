/* admit — the ZAP handler and admission decisions (see admit.h). */
#include "scheduler/admit.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "common/clock.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/reportlimit.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "proto/msg.h"
#include "scheduler/store/store_keys.h"

#define S_ZAP_PER_SERVE 256
#define S_LOG_EVERY_MS  10000
#define S_TOKEN_PREFIX  "sjt_"
#define S_TOKEN_BYTES   32

/* One key as the store holds it; all strings owned. */
typedef struct {
    char curve_hex[CURVE_HEX_SIZE];
    char *kind;
    char *state;
    char *role;
    char *name;
    char *host;
    char *address;
    char *sign_hex;
    char *decided_by;
    int64_t first_seen;
    int64_t last_seen;
    int64_t decided_at;
} s_key_t;

struct admit_t {
    store_t *store;   /* borrowed */
    zsock_t *zap;     /* REP on ADMIT_ZAP_ENDPOINT, owned */
    zhashx_t *keys;   /* curve hex -> s_key_t, owned */
    zhashx_t *names;  /* worker name -> signing key hex bound to it, owned */
    zhashx_t *named;  /* signing key hex -> the worker name bound, owned */
    size_t pending;   /* keys in state pending */
    uint64_t refused; /* handshakes refused */
    int64_t refused_logged;
    reportlimit_t *reports; /* per kind and CURVE key, owned */
};

/* --------------------------------------------------------------- keys */

static void
s_key_free(void **item)
{
    s_key_t *key = *item;
    if (key) {
        free(key->kind);
        free(key->state);
        free(key->role);
        free(key->name);
        free(key->host);
        free(key->address);
        free(key->sign_hex);
        free(key->decided_by);
        free(key);
        *item = NULL;
    }
}

static void
s_set(char **field, const char *value)
{
    char *copy = xstrdup(value ? value : "");
    free(*field);
    *field = copy;
}

static s_key_t *
s_key_new(const char *curve_hex)
{
    s_key_t *key = xcalloc(1, sizeof *key);
    snprintf(key->curve_hex, sizeof key->curve_hex, "%s", curve_hex);
    const char **fields[] = {
        (const char **) &key->kind,     (const char **) &key->state,
        (const char **) &key->role,     (const char **) &key->name,
        (const char **) &key->host,     (const char **) &key->address,
        (const char **) &key->sign_hex, (const char **) &key->decided_by};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        *fields[i] = xstrdup("");
    }
    return key;
}

static int
s_load_one(void *arg, const store_key_row_t *row)
{
    admit_t *self = arg;
    s_key_t *key = s_key_new(row->curve_hex);
    s_set(&key->kind, row->kind);
    s_set(&key->state, row->state);
    s_set(&key->role, row->role);
    s_set(&key->name, row->name);
    s_set(&key->host, row->host);
    s_set(&key->address, row->address);
    s_set(&key->sign_hex, row->sign_hex);
    s_set(&key->decided_by, row->decided_by);
    key->first_seen = row->first_seen;
    key->last_seen = row->last_seen;
    key->decided_at = row->decided_at;
    self->pending += strcmp(key->state, "pending") == 0;
    zhashx_update(self->keys, key->curve_hex, key);
    return 0;
}

/* Writes the cached key back to the store. */
static int
s_save(admit_t *self, const s_key_t *key, errbuf_t *err)
{
    store_key_row_t row = {.curve_hex = key->curve_hex,
                           .kind = key->kind,
                           .state = key->state,
                           .role = key->role,
                           .name = key->name,
                           .host = key->host,
                           .address = key->address,
                           .sign_hex = key->sign_hex,
                           .first_seen = key->first_seen,
                           .last_seen = key->last_seen,
                           .decided_at = key->decided_at,
                           .decided_by = key->decided_by};
    return store_key_put(self->store, &row, err);
}

static s_key_t *
s_lookup(admit_t *self, const uint8_t *curve)
{
    char hex[CURVE_HEX_SIZE];
    curve_hex(curve, hex);
    return zhashx_lookup(self->keys, hex);
}

/* Moves a key to `state`, keeping the pending count right. */
static void
s_set_state(admit_t *self, s_key_t *key, const char *state)
{
    self->pending -= strcmp(key->state, "pending") == 0;
    s_set(&key->state, state);
    self->pending += strcmp(key->state, "pending") == 0;
}

/* Both directions of one name binding, in memory. */
static void
s_name_put(admit_t *self, const char *name, const char *sign_hex)
{
    zhashx_update(self->names, name, xstrdup(sign_hex));
    zhashx_update(self->named, sign_hex, xstrdup(name));
}

static int
s_load_name(void *arg, const char *name, const char *sign_hex)
{
    s_name_put(arg, name, sign_hex);
    return 0;
}

static zhashx_t *
s_strings(void)
{
    zhashx_t *hash = zhashx_new();
    zhashx_set_destructor(hash, (zhashx_destructor_fn *) zstr_free);
    return hash;
}

admit_t *
admit_new(store_t *store, errbuf_t *err)
{
    admit_t *self = xcalloc(1, sizeof *self);
    self->store = store;
    self->keys = zhashx_new();
    zhashx_set_destructor(self->keys, s_key_free);
    self->names = s_strings();
    self->named = s_strings();
    self->reports = reportlimit_new(ADMIT_REPORT_KEYS);
    if (store_key_list(store, s_load_one, self, err) < 0 ||
        store_name_list(store, s_load_name, self, err) < 0) {
        admit_destroy(&self);
    }
    return self;
}

void
admit_destroy(admit_t **self_p)
{
    if (self_p && *self_p) {
        admit_t *self = *self_p;
        /* Unbound first: a closed socket's inproc endpoint is freed later,
         * on libzmq's own thread, so the next scheduler in this process
         * (a restart in a test) could not bind it at once. */
        if (self->zap) {
            zsock_unbind(self->zap, ADMIT_ZAP_ENDPOINT);
        }
        zsock_destroy(&self->zap);
        zhashx_destroy(&self->keys);
        zhashx_destroy(&self->names);
        zhashx_destroy(&self->named);
        reportlimit_destroy(&self->reports);
        free(self);
        *self_p = NULL;
    }
}

/* ---------------------------------------------------------------- ZAP */

int
admit_bind(admit_t *self, errbuf_t *err)
{
    self->zap = zsock_new(ZMQ_REP);
    if (!self->zap || zsock_bind(self->zap, ADMIT_ZAP_ENDPOINT) < 0) {
        errbuf_set(err,
                   "cannot bind the ZAP handler at " ADMIT_ZAP_ENDPOINT
                   ": %s; only one scheduler may run per process",
                   zmq_strerror(zmq_errno()));
        zsock_destroy(&self->zap);
        return -1;
    }
    return 0;
}

zsock_t *
admit_socket(admit_t *self)
{
    return self->zap;
}

static void
s_log_refused(admit_t *self,
              const char *domain,
              const uint8_t *curve,
              const char *address,
              const char *why)
{
    self->refused++;
    int64_t now = clock_mono_ms();
    if (self->refused_logged && now - self->refused_logged < S_LOG_EVERY_MS) {
        return;
    }
    self->refused_logged = now;
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(curve, fp);
    log_warn("refused a %s connection from %s with transport key %s: %s "
             "(%" PRIu64 " refused so far)",
             domain, address, fp, why, self->refused);
}

/* Records a key never seen before as pending; false when the cap is hit. */
static bool
s_record_pending(admit_t *self,
                 const char *kind,
                 const uint8_t *curve,
                 const char *address,
                 int64_t now,
                 errbuf_t *err,
                 int *rc)
{
    *rc = 0;
    if (self->pending >= ADMIT_PENDING_MAX) {
        return false;
    }
    char hex[CURVE_HEX_SIZE];
    curve_hex(curve, hex);
    s_key_t *key = s_key_new(hex);
    s_set(&key->kind, kind);
    s_set(&key->state, "pending");
    s_set(&key->address, address);
    key->first_seen = key->last_seen = now;
    zhashx_update(self->keys, hex, key);
    self->pending++;
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(curve, fp);
    if (strcmp(kind, "worker") == 0) {
        log_warn("new worker key %s from %s is pending; accept it with "
                 "'sluice keys accept %s' (or join the worker with a token)",
                 fp, address, fp);
    } else {
        log_warn("refused client key %s from %s: not listed; trust the "
                 "client's key with 'sluice keys add-client' ('sluice keys "
                 "client-key' prints it on the client)",
                 fp, address);
    }
    if (s_save(self, key, err) < 0 ||
        store_event(self->store, now, "scheduler", "key_pending", fp, address,
                    err) < 0) {
        *rc = -1;
    }
    return true;
}

int
admit_zap(admit_t *self,
          const char *domain,
          const uint8_t *curve,
          const char *address,
          int64_t now,
          errbuf_t *err)
{
    bool worker = strcmp(domain, ADMIT_DOMAIN_WORKER) == 0;
    if (!worker && strcmp(domain, ADMIT_DOMAIN_CLIENT) != 0) {
        s_log_refused(self, domain, curve, address, "unknown ZAP domain");
        return ADMIT_DENY;
    }
    const char *kind = worker ? "worker" : "client";
    s_key_t *key = s_lookup(self, curve);
    if (!worker && (!key || strcmp(key->state, "pending") == 0)) {
        /* A client trusted by its signing key (keys add-client) connects
         * with the CURVE key converted from it. */
        char role[32];
        int found =
            store_key_client_role(self->store, curve, role, sizeof role, err);
        if (found != 0) {
            return found < 0 ? -1 : ADMIT_ALLOW;
        }
    }
    if (!key) {
        int rc = 0;
        bool recorded =
            s_record_pending(self, kind, curve, address, now, err, &rc);
        if (rc < 0) {
            return -1;
        }
        if (!recorded) {
            s_log_refused(self, domain, curve, address,
                          "too many keys are pending already; decide on them "
                          "with 'sluice keys list' and 'sluice keys reject'");
        }
        return recorded && worker ? ADMIT_PENDING : ADMIT_DENY;
    }
    if (strcmp(key->kind, kind) != 0) {
        s_log_refused(self, domain, curve, address,
                      "the key belongs to the other kind of peer");
        return ADMIT_DENY;
    }
    if (strcmp(key->state, "accepted") == 0) {
        return ADMIT_ALLOW;
    }
    if (strcmp(key->state, "pending") == 0) {
        if (worker) {
            return ADMIT_PENDING;
        }
        s_log_refused(self, domain, curve, address, "the key is pending");
        return ADMIT_DENY;
    }
    s_log_refused(self, domain, curve, address,
                  strcmp(key->state, "revoked") == 0 ? "the key was revoked"
                                                     : "the key was rejected");
    return ADMIT_DENY;
}

/* Sends one ZAP reply (RFC 27). */
static void
s_zap_reply(zsock_t *zap,
            const char *request_id,
            const char *status,
            const char *text,
            const char *user_id)
{
    zmsg_t *reply = zmsg_new();
    zmsg_addstr(reply, "1.0");
    zmsg_addstr(reply, request_id);
    zmsg_addstr(reply, status);
    zmsg_addstr(reply, text);
    zmsg_addstr(reply, user_id);
    zmsg_addmem(reply, NULL, 0);
    xzmq_send(&reply, zap);
}

/* Handles one request: version, request id, domain, address, identity,
 * mechanism, credentials (the CURVE client key). */
static int
s_zap_one(admit_t *self, zmsg_t *request, int64_t now, errbuf_t *err)
{
    char *version = zmsg_popstr(request);
    char *request_id = zmsg_popstr(request);
    char *domain = zmsg_popstr(request);
    char *address = zmsg_popstr(request);
    zframe_t *identity = zmsg_pop(request);
    char *mechanism = zmsg_popstr(request);
    zframe_t *key = zmsg_pop(request);
    int verdict = ADMIT_DENY;
    char user_id[CURVE_HEX_SIZE] = "";
    if (version && strcmp(version, "1.0") == 0 && mechanism &&
        strcmp(mechanism, "CURVE") == 0 && key &&
        zframe_size(key) == CURVE_KEY_SIZE) {
        verdict = admit_zap(self, domain ? domain : "", zframe_data(key),
                            address ? address : "?", now, err);
        curve_hex(zframe_data(key), user_id);
    }
    s_zap_reply(self->zap, request_id ? request_id : "",
                verdict > 0 ? "200" : "400",
                verdict > 0 ? "OK" : "not admitted", user_id);
    zstr_free(&version);
    zstr_free(&request_id);
    zstr_free(&domain);
    zstr_free(&address);
    zframe_destroy(&identity);
    zstr_free(&mechanism);
    zframe_destroy(&key);
    return verdict < 0 ? -1 : 0;
}

int
admit_serve(admit_t *self, int64_t now, errbuf_t *err)
{
    int rc = 0;
    for (int i = 0; self->zap && i < S_ZAP_PER_SERVE &&
                    (zsock_events(self->zap) & ZMQ_POLLIN);
         i++) {
        zmsg_t *request = xzmq_recv(self->zap);
        if (!request) {
            break;
        }
        if (s_zap_one(self, request, now, err) < 0) {
            rc = -1;
        }
        zmsg_destroy(&request);
    }
    return rc;
}

/* ----------------------------------------------------------- queries */

const char *
admit_state(admit_t *self, const uint8_t *curve)
{
    s_key_t *key = s_lookup(self, curve);
    return key ? key->state : NULL;
}

const char *
admit_sign_hex(admit_t *self, const uint8_t *curve)
{
    s_key_t *key = s_lookup(self, curve);
    return key ? key->sign_hex : "";
}

const char *
admit_role(admit_t *self, const uint8_t *curve)
{
    s_key_t *key = s_lookup(self, curve);
    return key ? key->role : "";
}

bool
admit_signer_ok(admit_t *self, const uint8_t *curve, const uint8_t *sign)
{
    s_key_t *key = s_lookup(self, curve);
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(sign, hex);
    return key && strcmp(key->state, "accepted") == 0 &&
           strcmp(key->kind, "worker") == 0 && strcmp(key->sign_hex, hex) == 0;
}

/* The CURVE fingerprint of the worker key bound to signing key sign_hex
 * (what 'sluice keys revoke' takes), "" when none. */
static void
s_curve_fp_of(admit_t *self, const char *sign_hex, char *fp)
{
    fp[0] = '\0';
    for (s_key_t *key = zhashx_first(self->keys); key;
         key = zhashx_next(self->keys)) {
        uint8_t curve[CURVE_KEY_SIZE];
        if (strcmp(key->sign_hex, sign_hex) == 0 &&
            strcmp(key->state, "accepted") == 0 &&
            curve_from_hex(key->curve_hex, curve) == 0) {
            keys_fingerprint(curve, fp);
        }
    }
}

/* Whether signing key sign_hex may register as `name`: 0 when the name is
 * bound to it, 1 when neither is bound yet (bind them), ADMIT_ETAKEN when
 * the name has another key (first: taking a name is the graver claim),
 * ADMIT_ENAMED when the key has another name. */
static int
s_check_name(admit_t *self,
             const char *sign_hex,
             const char *name,
             errbuf_t *err)
{
    const char *owner = zhashx_lookup(self->names, name);
    if (owner && strcmp(owner, sign_hex) != 0) {
        char fp[KEYS_FP_SIZE];
        s_curve_fp_of(self, owner, fp);
        errbuf_set(err,
                   "worker name '%s' belongs to another worker's key; start "
                   "this worker with another --name, or, if it replaces "
                   "that worker, have an operator run 'sluice keys revoke "
                   "%s' on the scheduler host first",
                   name, *fp ? fp : "FINGERPRINT");
        return ADMIT_ETAKEN;
    }
    const char *bound = zhashx_lookup(self->named, sign_hex);
    if (bound && strcmp(bound, name) != 0) {
        errbuf_set(err,
                   "this worker's key is bound to the name '%s'; start it "
                   "with --name %s, or have an operator run 'sluice keys "
                   "rename %s %s' on the scheduler host",
                   bound, bound, bound, name);
        return ADMIT_ENAMED;
    }
    return bound ? 0 : 1;
}

int
admit_bind_worker(admit_t *self,
                  const uint8_t *curve,
                  const uint8_t *sign,
                  const char *name,
                  const char *host,
                  int64_t now,
                  errbuf_t *err)
{
    s_key_t *key = s_lookup(self, curve);
    assert(key);
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(sign, hex);
    if (*key->sign_hex && strcmp(key->sign_hex, hex) != 0) {
        char fp[KEYS_FP_SIZE];
        keys_fingerprint(curve, fp);
        errbuf_set(err,
                   "transport key %s was admitted together with another "
                   "signing key; a worker keeps both keys in its state "
                   "directory: start it with the directory it was admitted "
                   "with, or have this one admitted",
                   fp);
        return ADMIT_EMISMATCH;
    }
    int rc = s_check_name(self, hex, name, err);
    if (rc == 1) {
        char fp[KEYS_FP_SIZE];
        keys_fingerprint(sign, fp);
        rc = store_name_bind(self->store, name, hex, "register", now, err);
        if (rc == 0) {
            rc = store_event(self->store, now, "scheduler", "worker_name_bound",
                             name, fp, err);
        }
        if (rc == 0) {
            s_name_put(self, name, hex);
            log_info("worker name '%s' bound to its signing key", name);
        }
    }
    if (rc < 0) {
        return rc;
    }
    bool same = *key->sign_hex && strcmp(key->name, name) == 0 &&
                strcmp(key->host, host) == 0;
    s_set(&key->sign_hex, hex);
    s_set(&key->name, name);
    s_set(&key->host, host);
    key->last_seen = now;
    /* Written when something changed, not at every reconnect's Register. */
    return same ? 0 : s_save(self, key, err);
}

int
admit_note(admit_t *self,
           const uint8_t *curve,
           const char *name,
           const char *host,
           int64_t now,
           errbuf_t *err)
{
    s_key_t *key = s_lookup(self, curve);
    if (!key ||
        (strcmp(key->name, name) == 0 && strcmp(key->host, host) == 0)) {
        return 0;
    }
    s_set(&key->name, name);
    s_set(&key->host, host);
    key->last_seen = now;
    return s_save(self, key, err);
}

/* ---------------------------------------------------------- decisions */

static int
s_event(admit_t *self,
        const s_key_t *key,
        const char *what,
        const char *by,
        int64_t now,
        errbuf_t *err)
{
    uint8_t curve[CURVE_KEY_SIZE];
    curve_from_hex(key->curve_hex, curve);
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(curve, fp);
    char *detail =
        xasprintf("%s key%s%s%s by %s", key->kind, *key->name ? " '" : "",
                  key->name, *key->name ? "'" : "", by);
    int rc = store_event(self->store, now, by, what, fp, detail, err);
    free(detail);
    return rc;
}

int
admit_set(admit_t *self,
          const uint8_t *curve,
          const char *kind,
          const char *state,
          const char *role,
          const char *by,
          int64_t now,
          errbuf_t *err)
{
    s_key_t *key = s_lookup(self, curve);
    if (key && strcmp(key->kind, kind) == 0 && strcmp(key->state, state) == 0 &&
        strcmp(key->role, role) == 0) {
        return 0;
    }
    if (!key) {
        char hex[CURVE_HEX_SIZE];
        curve_hex(curve, hex);
        key = s_key_new(hex);
        key->first_seen = now;
        zhashx_update(self->keys, hex, key);
    }
    s_set(&key->kind, kind);
    s_set_state(self, key, state);
    s_set(&key->role, role);
    s_set(&key->decided_by, by);
    key->last_seen = key->decided_at = now;
    char *what = xasprintf("key_%s", state);
    int rc =
        s_save(self, key, err) < 0 || s_event(self, key, what, by, now, err) < 0
            ? -1
            : 0;
    free(what);
    return rc;
}

/* "ab12:cd34" -> "ab12cd34", lowercase; false when not hex. */
static bool
s_normalize(const char *text, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        if (*p == ':') {
            continue;
        }
        if (!isxdigit((unsigned char) *p) || n + 1 >= size) {
            return false;
        }
        out[n++] = (char) tolower((unsigned char) *p);
    }
    out[n] = '\0';
    return n > 0;
}

/* The one key whose fingerprint (or hex) starts with fp. */
static int
s_find(admit_t *self, const char *fp, s_key_t **found, errbuf_t *err)
{
    char want[CURVE_HEX_SIZE];
    if (!s_normalize(fp, want, sizeof want)) {
        errbuf_set(err,
                   "'%s' is not a key fingerprint; copy one from 'sluice "
                   "keys list'",
                   fp);
        return ADMIT_ENOTFOUND;
    }
    size_t n = 0;
    *found = NULL;
    for (s_key_t *key = zhashx_first(self->keys); key;
         key = zhashx_next(self->keys)) {
        uint8_t curve[CURVE_KEY_SIZE];
        curve_from_hex(key->curve_hex, curve);
        char kfp[KEYS_FP_SIZE], norm[CURVE_HEX_SIZE];
        keys_fingerprint(curve, kfp);
        s_normalize(kfp, norm, sizeof norm);
        if (strncmp(norm, want, strlen(want)) == 0 ||
            strncmp(key->curve_hex, want, strlen(want)) == 0) {
            *found = key;
            n++;
        }
    }
    if (n == 0) {
        errbuf_set(err, "no key has fingerprint '%s'; see 'sluice keys list'",
                   fp);
        return ADMIT_ENOTFOUND;
    }
    if (n > 1) {
        errbuf_set(err,
                   "%zu keys start with '%s'; give more of the fingerprint", n,
                   fp);
        return ADMIT_EAMBIGUOUS;
    }
    return 0;
}

/* The state an action leads to from key's state; NULL with err when the
 * action does not apply. */
static const char *
s_transition(const s_key_t *key,
             const char *action,
             const char *fp,
             errbuf_t *err)
{
    const char *state = key->state;
    if (strcmp(action, "accept") == 0 && strcmp(state, "accepted") != 0) {
        return "accepted";
    }
    if (strcmp(action, "reject") == 0 && strcmp(state, "pending") == 0) {
        return "rejected";
    }
    if (strcmp(action, "revoke") == 0 && strcmp(state, "accepted") == 0) {
        return "revoked";
    }
    if (strcmp(action, "reject") == 0 && strcmp(state, "accepted") == 0) {
        errbuf_set(err,
                   "key %s is accepted; use 'sluice keys revoke %s' to "
                   "cut it off",
                   fp, fp);
    } else {
        errbuf_set(err, "key %s is already %s; nothing to %s", fp, state,
                   action);
    }
    return NULL;
}

/* A revoked key's name is free for another key (a machine that replaces
 * it); the binding stays in the store's history. */
static int
s_release_name(admit_t *self, const char *sign_hex, int64_t now, errbuf_t *err)
{
    char *name = zhashx_lookup(self->named, sign_hex);
    if (!*sign_hex || !name) {
        return 0;
    }
    if (store_name_release(self->store, sign_hex, now, err) < 0) {
        return -1;
    }
    log_info("worker name '%s' released: its key was revoked", name);
    zhashx_delete(self->names, name); /* before name is freed below */
    zhashx_delete(self->named, sign_hex);
    return 0;
}

int
admit_decide(admit_t *self,
             const char *fp,
             const char *action,
             const char *by,
             int64_t now,
             uint8_t *curve,
             errbuf_t *err)
{
    s_key_t *key = NULL;
    int rc = s_find(self, fp, &key, err);
    if (rc < 0) {
        return rc;
    }
    curve_from_hex(key->curve_hex, curve);
    char kfp[KEYS_FP_SIZE];
    keys_fingerprint(curve, kfp);
    const char *state = s_transition(key, action, kfp, err);
    if (!state) {
        return ADMIT_EINVALID;
    }
    s_set_state(self, key, state);
    if (strcmp(key->kind, "client") == 0 && strcmp(state, "accepted") == 0 &&
        !*key->role) {
        s_set(&key->role, "viewer"); /* least privilege until told */
    }
    s_set(&key->decided_by, by);
    key->decided_at = now;
    char *what = xasprintf("key_%s", state);
    rc =
        s_save(self, key, err) < 0 || s_event(self, key, what, by, now, err) < 0
            ? -1
            : 0;
    free(what);
    if (rc == 0 && strcmp(state, "revoked") == 0) {
        rc = s_release_name(self, key->sign_hex, now, err);
    }
    if (rc == 0) {
        log_info("%s key %s%s%s%s %s by %s", key->kind, kfp,
                 *key->name ? " ('" : "", key->name, *key->name ? "')" : "",
                 state, by);
    }
    return rc;
}

/* ------------------------------------------------------------- rename */

/* The transport keys that carry signing key sign_hex show `name`. */
static int
s_rename_keys(admit_t *self,
              const char *sign_hex,
              const char *name,
              errbuf_t *err)
{
    for (s_key_t *key = zhashx_first(self->keys); key;
         key = zhashx_next(self->keys)) {
        if (strcmp(key->sign_hex, sign_hex) == 0) {
            s_set(&key->name, name);
            if (s_save(self, key, err) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

int
admit_rename(admit_t *self,
             const char *from,
             const char *to,
             int64_t now,
             char *sign_hex,
             errbuf_t *err)
{
    const char *bound = zhashx_lookup(self->names, from);
    if (!bound) {
        errbuf_set(err,
                   "no worker key is bound to the name '%s'; see 'sluice "
                   "workers' and 'sluice keys list'",
                   from);
        return ADMIT_ENOTFOUND;
    }
    if (!msg_name_ok(to)) {
        errbuf_set(err,
                   "a worker name is 1 to %d letters, digits, '.', '_' or "
                   "'-'; choose another than '%s'",
                   MSG_NAME_MAX, to);
        return ADMIT_EINVALID;
    }
    if (zhashx_lookup(self->names, to)) {
        errbuf_set(err,
                   "the name '%s' is bound to another worker's key; revoke "
                   "that key first ('sluice keys revoke FINGERPRINT')",
                   to);
        return ADMIT_EINVALID;
    }
    snprintf(sign_hex, KEYS_HEX_SIZE, "%s", bound);
    char *detail = xasprintf("worker '%s' renamed '%s' by operator", from, to);
    int rc = store_name_release(self->store, sign_hex, now, err) < 0 ||
                     store_name_bind(self->store, to, sign_hex, "operator", now,
                                     err) < 0 ||
                     s_rename_keys(self, sign_hex, to, err) < 0 ||
                     store_event(self->store, now, "operator", "worker_renamed",
                                 from, detail, err) < 0
                 ? -1
                 : 0;
    free(detail);
    if (rc == 0) {
        zhashx_delete(self->names, from);
        s_name_put(self, to, sign_hex);
    }
    return rc;
}

/* ------------------------------------------------------------ reports */

bool
admit_report(admit_t *self,
             const uint8_t *curve,
             const char *kind,
             int64_t window_ms,
             int64_t now,
             uint64_t *suppressed)
{
    char hex[CURVE_HEX_SIZE];
    curve_hex(curve, hex);
    return reportlimit_due(self->reports, kind, hex, window_ms, now,
                           suppressed);
}

/* ------------------------------------------------------------- tokens */

static void
s_token_hash(const char *token, char *hex)
{
    uint8_t hash[crypto_generichash_BYTES];
    crypto_generichash(hash, sizeof hash, (const uint8_t *) token,
                       strlen(token), NULL, 0);
    sodium_bin2hex(hex, sizeof hash * 2 + 1, hash, sizeof hash);
}

int
admit_token_create(admit_t *self,
                   uint64_t ttl_ms,
                   uint32_t uses,
                   int64_t now,
                   char *token,
                   errbuf_t *err)
{
    uint8_t raw[S_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    memcpy(token, S_TOKEN_PREFIX, strlen(S_TOKEN_PREFIX));
    sodium_bin2hex(token + strlen(S_TOKEN_PREFIX),
                   ADMIT_TOKEN_SIZE - strlen(S_TOKEN_PREFIX), raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    char hash[crypto_generichash_BYTES * 2 + 1];
    s_token_hash(token, hash);
    int64_t expires = ttl_ms ? now + (int64_t) ttl_ms : 0;
    char detail[96];
    snprintf(detail, sizeof detail, "%u uses, expires %" PRId64,
             uses ? uses : 1, expires);
    if (store_token_add(self->store, hash, now, expires, uses ? uses : 1, err) <
            0 ||
        store_event(self->store, now, "operator", "token_created", "join token",
                    detail, err) < 0) {
        return -1;
    }
    return 0;
}

int
admit_token_redeem(admit_t *self, const char *token, int64_t now, errbuf_t *err)
{
    char hash[crypto_generichash_BYTES * 2 + 1];
    s_token_hash(token, hash);
    int64_t expires = 0;
    uint32_t uses = 0;
    int found = store_token_get(self->store, hash, &expires, &uses, err);
    if (found < 0) {
        return -1;
    }
    const char *fix = "create a new one with 'sluice token create' on the "
                      "scheduler host";
    if (found == 0) {
        errbuf_set(err, "the join token is not known to this scheduler; %s",
                   fix);
        return ADMIT_ETOKEN;
    }
    if (expires && now >= expires) {
        char ago[32];
        errbuf_set(err, "the join token expired %s ago; %s",
                   clock_fmt_duration(now - expires, ago, sizeof ago), fix);
        return ADMIT_ETOKEN;
    }
    if (uses == 0) {
        errbuf_set(err, "the join token has been used up; %s", fix);
        return ADMIT_ETOKEN;
    }
    return store_token_use(self->store, hash, err);
}
