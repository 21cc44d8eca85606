/* http_auth — API tokens, the session cookie and CSRF values. */
#include "scheduler/http_auth.h"

#include <assert.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "scheduler/store/store_apitokens.h"

#define S_RANDOM_BYTES 32
#define S_CREATE_HINT  "make one with 'sluice token create --api --role viewer'"

/* sodium_init is idempotent and thread-safe; a failure means no usable
 * random source, which nothing here can work around. */
static void
s_sodium_init(void)
{
    int rc = sodium_init();
    assert(rc >= 0);
    (void) rc;
}

void
http_auth_token_new(char token[HTTP_AUTH_TOKEN_SIZE],
                    char hash[HTTP_AUTH_HASH_SIZE])
{
    s_sodium_init();
    uint8_t raw[S_RANDOM_BYTES];
    randombytes_buf(raw, sizeof raw);
    size_t prefix = strlen(HTTP_AUTH_PREFIX);
    memcpy(token, HTTP_AUTH_PREFIX, prefix);
    sodium_bin2hex(token + prefix, HTTP_AUTH_TOKEN_SIZE - prefix, raw,
                   sizeof raw);
    sodium_memzero(raw, sizeof raw);
    http_auth_token_hash(token, hash);
}

void
http_auth_token_hash(const char *token, char hash[HTTP_AUTH_HASH_SIZE])
{
    uint8_t digest[32];
    crypto_generichash(digest, sizeof digest, (const uint8_t *) token,
                       strlen(token), NULL, 0);
    sodium_bin2hex(hash, HTTP_AUTH_HASH_SIZE, digest, sizeof digest);
}

/* "sat_" and 64 lowercase hex digits: anything else is refused before
 * the store is asked. */
static bool
s_well_formed(const char *token)
{
    size_t prefix = strlen(HTTP_AUTH_PREFIX);
    if (strlen(token) != HTTP_AUTH_TOKEN_SIZE - 1 ||
        strncmp(token, HTTP_AUTH_PREFIX, prefix) != 0) {
        return false;
    }
    for (const char *c = token + prefix; *c; c++) {
        if (!isxdigit((unsigned char) *c) || isupper((unsigned char) *c)) {
            return false;
        }
    }
    return true;
}

/* Fills err for a token that exists but may not be used now; -1 when so. */
static int
s_refuse_dead(const store_apitoken_t *row, int64_t now, errbuf_t *err)
{
    char when[32];
    if (row->revoked_at) {
        errbuf_set(err,
                   "API token '%s' was revoked at %s; ask an operator for a "
                   "new one ('sluice token create --api --role %s')",
                   row->name, clock_fmt_iso(row->revoked_at, when, sizeof when),
                   row->role);
        return -1;
    }
    if (row->expires_at && row->expires_at <= now) {
        errbuf_set(err,
                   "API token '%s' expired at %s; make a new one with "
                   "'sluice token create --api --role %s'",
                   row->name, clock_fmt_iso(row->expires_at, when, sizeof when),
                   row->role);
        return -1;
    }
    return 0;
}

int
http_auth_token(store_t *ro,
                const char *token,
                int64_t now,
                http_auth_t *out,
                errbuf_t *err)
{
    assert(ro && out);
    memset(out, 0, sizeof *out);
    if (!token || !*token) {
        errbuf_set(err, "this needs an API token: send 'Authorization: Bearer "
                        "TOKEN' or sign in; " S_CREATE_HINT);
        return HTTP_AUTH_EDENIED;
    }
    if (!s_well_formed(token)) {
        errbuf_set(err, "that is not an API token (they look like "
                        "'sat_' and 64 hex digits); " S_CREATE_HINT);
        return HTTP_AUTH_EDENIED;
    }
    char hash[HTTP_AUTH_HASH_SIZE];
    http_auth_token_hash(token, hash);
    store_apitoken_t row;
    int found = store_apitoken_by_hash(ro, hash, &row, err);
    if (found < 0) {
        return HTTP_AUTH_ESTORE;
    }
    if (found == 0) {
        errbuf_set(
            err,
            "this API token is not known to this scheduler; " S_CREATE_HINT);
        return HTTP_AUTH_EDENIED;
    }
    if (s_refuse_dead(&row, now, err) < 0) {
        return HTTP_AUTH_EDENIED;
    }
    out->role = strcmp(row.role, "operator") == 0 ? HTTP_ROLE_OPERATOR
                                                  : HTTP_ROLE_VIEWER;
    out->token_id = row.id;
    snprintf(out->name, sizeof out->name, "%s", row.name);
    snprintf(out->actor, sizeof out->actor, "api token '%s'", row.name);
    out->expires_at = row.expires_at;
    return 0;
}

int
http_auth_bearer(store_t *ro,
                 const char *authorization,
                 int64_t now,
                 http_auth_t *out,
                 errbuf_t *err)
{
    if (!authorization) {
        return http_auth_token(ro, NULL, now, out, err);
    }
    /* RFC 7235: the scheme is case-insensitive. */
    if (strncasecmp(authorization, "Bearer ", 7) != 0) {
        memset(out, 0, sizeof *out);
        errbuf_set(err, "the Authorization header must be 'Bearer TOKEN' "
                        "with an API token; " S_CREATE_HINT);
        return HTTP_AUTH_EDENIED;
    }
    const char *token = authorization + 7;
    while (*token == ' ') {
        token++;
    }
    return http_auth_token(ro, token, now, out, err);
}

bool
http_auth_cookie(const char *cookie_header, char *out, size_t size)
{
    size_t len = strlen(HTTP_SESSION_COOKIE);
    const char *at = cookie_header;
    while (at && *at) {
        while (*at == ' ' || *at == ';') {
            at++;
        }
        size_t pair = strcspn(at, ";");
        if (pair > len && strncmp(at, HTTP_SESSION_COOKIE, len) == 0 &&
            at[len] == '=') {
            size_t value = pair - len - 1;
            while (value && at[len + 1 + value - 1] == ' ') {
                value--;
            }
            if (value == 0 || value >= size) {
                return false;
            }
            memcpy(out, at + len + 1, value);
            out[value] = '\0';
            return true;
        }
        at += pair;
    }
    return false;
}

char *
http_auth_set_cookie(const char *token, bool secure, char *out, size_t size)
{
    int n = snprintf(out, size, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
                     HTTP_SESSION_COOKIE, token ? token : "",
                     token ? "" : "; Max-Age=0", secure ? "; Secure" : "");
    return n >= 0 && (size_t) n < size ? out : NULL;
}

void
http_auth_secret_new(uint8_t secret[HTTP_AUTH_SECRET_SIZE])
{
    s_sodium_init();
    randombytes_buf(secret, HTTP_AUTH_SECRET_SIZE);
}

void
http_auth_csrf(const uint8_t secret[HTTP_AUTH_SECRET_SIZE],
               const char *token,
               char out[HTTP_AUTH_CSRF_SIZE])
{
    _Static_assert(HTTP_AUTH_SECRET_SIZE == crypto_auth_hmacsha256_KEYBYTES,
                   "the CSRF secret is an HMAC-SHA-256 key");
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256(mac, (const uint8_t *) token, strlen(token), secret);
    sodium_bin2hex(out, HTTP_AUTH_CSRF_SIZE, mac, sizeof mac);
}

bool
http_auth_csrf_ok(const uint8_t secret[HTTP_AUTH_SECRET_SIZE],
                  const char *token,
                  const char *header)
{
    if (!token || !header || strlen(header) != HTTP_AUTH_CSRF_SIZE - 1) {
        return false;
    }
    char want[HTTP_AUTH_CSRF_SIZE];
    http_auth_csrf(secret, token, want);
    return sodium_memcmp(want, header, HTTP_AUTH_CSRF_SIZE - 1) == 0;
}
