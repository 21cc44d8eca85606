/* sched_apitokens — the API token verbs: create, list, revoke (operator).
 * A token is made here, shown once in the reply and stored by its hash
 * (store_apitokens.h); the HTTP server checks it with http_auth.h. */
#include <ctype.h>
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "common/clock.h"
#include "common/dag.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "scheduler/api.h"
#include "scheduler/http_auth.h"
#include "scheduler/sched_internal.h"
#include "scheduler/store/store_apitokens.h"

/* NULL when name may name a token, else why not (static text). Names
 * that are all digits are refused: 'sluice token revoke 12' means id 12. */
static const char *
s_name_problem(const char *name)
{
    if (!*name) {
        return NULL; /* the store names it token-ID */
    }
    if (strlen(name) > STORE_APITOKEN_NAME_MAX) {
        return "is longer than 64 bytes";
    }
    if (!dag_name_ok(name)) {
        return "may only use letters, digits, '_', '-' and '.' (not '.' "
               "or '..')";
    }
    size_t digits = strspn(name, "0123456789");
    return name[digits] ? NULL : "is all digits, which reads as an id";
}

static Sluice__ApiTokenInfo *
s_info(const store_apitoken_t *row)
{
    Sluice__ApiTokenInfo *info = xmalloc(sizeof *info);
    sluice__api_token_info__init(info);
    info->id = row->id;
    info->name = xstrdup(row->name);
    info->role = xstrdup(row->role);
    info->created_ms = (uint64_t) row->created_at;
    info->expires_ms = (uint64_t) row->expires_at;
    info->revoked_ms = (uint64_t) row->revoked_at;
    return info;
}

static Sluice__Reply *
s_internal(sched_t *self, const Sluice__Request *req, errbuf_t *err)
{
    sched_fail_turn(self, err);
    return api_error(req->request_id, API_E_INTERNAL, "%s", errbuf_msg(err));
}

/* Checks a create request; NULL when it is good, else the error reply. */
static Sluice__Reply *
s_create_check(const Sluice__Request *req, int64_t now)
{
    const Sluice__ApiTokenCreateReq *c = req->api_token_create;
    const char *problem = s_name_problem(c->name);
    if (problem) {
        return api_error(req->request_id, API_E_BAD_REQUEST,
                         "token name '%.80s' %s; choose another --name",
                         c->name, problem);
    }
    if (strcmp(c->role, "viewer") != 0 && strcmp(c->role, "operator") != 0) {
        return api_error(req->request_id, API_E_BAD_REQUEST,
                         "role '%.32s' is not known; use --role viewer (reads) "
                         "or --role operator (reads and writes)",
                         c->role);
    }
    if (c->ttl_ms > (uint64_t) (INT64_MAX - now)) {
        return api_error(req->request_id, API_E_BAD_REQUEST,
                         "--ttl is too long; give a shorter one, or 0 for a "
                         "token that never expires");
    }
    return NULL;
}

Sluice__Reply *
sched_apitoken_create(sched_t *self, const Sluice__Request *req)
{
    const Sluice__ApiTokenCreateReq *c = req->api_token_create;
    int64_t now = clock_wall_ms();
    Sluice__Reply *bad = s_create_check(req, now);
    if (bad) {
        return bad;
    }
    char token[HTTP_AUTH_TOKEN_SIZE], hash[HTTP_AUTH_HASH_SIZE];
    http_auth_token_new(token, hash);
    int64_t expires = c->ttl_ms ? now + (int64_t) c->ttl_ms : 0;
    store_apitoken_t row;
    errbuf_t err;
    int rc = store_apitoken_add(self->store, c->name, c->role, hash, now,
                                expires, &row, &err);
    if (rc == STORE_EEXISTS) {
        sodium_memzero(token, sizeof token);
        return api_error(req->request_id, API_E_BAD_REQUEST, "%s",
                         errbuf_msg(&err));
    }
    char detail[64];
    snprintf(detail, sizeof detail, "%s, expires %" PRId64, row.role,
             row.expires_at);
    if (rc < 0 || store_event(self->store, now, "client", "api_token_created",
                              row.name, detail, &err) < 0) {
        sodium_memzero(token, sizeof token);
        return s_internal(self, req, &err);
    }
    log_info("API token '%s' (%s) created, %s", row.name, row.role,
             expires ? "expires" : "never expires");
    Sluice__ApiTokenCreateRep *out = xmalloc(sizeof *out);
    sluice__api_token_create_rep__init(out);
    out->id = row.id;
    out->name = xstrdup(row.name);
    out->role = xstrdup(row.role);
    out->token = xstrdup(token);
    out->expires_ms = (uint64_t) row.expires_at;
    sodium_memzero(token, sizeof token);
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_API_TOKEN_CREATE);
    rep->api_token_create = out;
    return rep;
}

static int
s_list_row(void *arg, const store_apitoken_t *row)
{
    Sluice__ApiTokenListRep *list = arg;
    list->tokens =
        xrealloc(list->tokens, (list->n_tokens + 1) * sizeof *list->tokens);
    list->tokens[list->n_tokens++] = s_info(row);
    return 0;
}

Sluice__Reply *
sched_apitoken_list(sched_t *self, const Sluice__Request *req)
{
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_API_TOKEN_LIST);
    rep->api_token_list = xmalloc(sizeof *rep->api_token_list);
    sluice__api_token_list_rep__init(rep->api_token_list);
    errbuf_t err;
    if (store_apitoken_list(self->store, s_list_row, rep->api_token_list,
                            &err) < 0) {
        protobuf_c_message_free_unpacked(&rep->base, NULL);
        return api_error(req->request_id, API_E_INTERNAL, "%s",
                         errbuf_msg(&err));
    }
    return rep;
}

Sluice__Reply *
sched_apitoken_revoke(sched_t *self, const Sluice__Request *req)
{
    const Sluice__ApiTokenRevokeReq *r = req->api_token_revoke;
    store_apitoken_t row;
    errbuf_t err;
    int found = store_apitoken_find(self->store, r->id, r->name, &row, &err);
    if (found < 0) {
        return s_internal(self, req, &err);
    }
    if (found == 0) {
        char what[96];
        if (r->id) {
            snprintf(what, sizeof what, "%" PRIu64, r->id);
        } else {
            snprintf(what, sizeof what, "'%.80s'", r->name);
        }
        return api_error(req->request_id, API_E_NOT_FOUND,
                         "there is no API token %s; 'sluice token list "
                         "--api' lists them",
                         what);
    }
    bool already = row.revoked_at != 0;
    int64_t now = clock_wall_ms();
    if (!already &&
        (store_apitoken_revoke(self->store, row.id, now, &err) < 0 ||
         store_event(self->store, now, "client", "api_token_revoked", row.name,
                     row.role, &err) < 0 ||
         store_apitoken_find(self->store, row.id, NULL, &row, &err) != 1)) {
        return s_internal(self, req, &err);
    }
    if (!already) {
        log_info("API token '%s' revoked", row.name);
    }
    Sluice__Reply *rep =
        sched_reply(req->request_id, SLUICE__REPLY__OP_API_TOKEN_REVOKE);
    rep->api_token_revoke = xmalloc(sizeof *rep->api_token_revoke);
    sluice__api_token_revoke_rep__init(rep->api_token_revoke);
    rep->api_token_revoke->token = s_info(&row);
    rep->api_token_revoke->already = already;
    return rep;
}
