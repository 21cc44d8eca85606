/* http_auth — who an HTTP request comes from: API tokens ("sat_" and 64
 * hex digits, kept in the store by their hash only), the session cookie
 * that carries one for the web UI, and the CSRF value that a write sent
 * with that cookie must repeat in a header.
 *
 * Pure functions over a store connection and strings: no HTTP library.
 * The server (http.c) takes the token from "Authorization: Bearer ..." or
 * from the cookie HTTP_SESSION_COOKIE, checks it with http_auth_token, and
 * for a write that came with the cookie checks HTTP_CSRF_HEADER with
 * http_auth_csrf_ok. */
#ifndef SLUICE_HTTP_AUTH_H
#define SLUICE_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "scheduler/http.h"
#include "scheduler/store/store.h"

#define HTTP_AUTH_PREFIX      "sat_"
#define HTTP_AUTH_TOKEN_SIZE  (4 + 64 + 1) /* "sat_", 64 hex digits, NUL */
#define HTTP_AUTH_HASH_SIZE   (64 + 1)     /* hex, NUL */
#define HTTP_AUTH_CSRF_SIZE   (64 + 1)     /* hex, NUL */
#define HTTP_AUTH_SECRET_SIZE 32

/* http_auth_token's refusals: the request gets 401 for DENIED (err says
 * what to do), 500 for STORE. */
#define HTTP_AUTH_EDENIED -1
#define HTTP_AUTH_ESTORE  -2

/* Who a valid token belongs to. */
typedef struct {
    http_role_t role;   /* HTTP_ROLE_VIEWER or HTTP_ROLE_OPERATOR */
    uint64_t token_id;  /* the store's id of the token */
    char name[65];      /* the token's name */
    char actor[96];     /* for audit lines: "api token 'NAME'" */
    int64_t expires_at; /* wall ms; 0 = never */
} http_auth_t;

/* A new random token into token, and the hash the store keeps of it into
 * hash (both NUL-terminated). */
void http_auth_token_new(char token[HTTP_AUTH_TOKEN_SIZE],
                         char hash[HTTP_AUTH_HASH_SIZE]);

/* The hash (hex BLAKE2b-256) the store keeps of token. */
void http_auth_token_hash(const char *token, char hash[HTTP_AUTH_HASH_SIZE]);

/* Checks token (NULL or "" = none was sent) against the store at now
 * (wall ms): 0 and *out filled when it is a live token; HTTP_AUTH_EDENIED
 * when it is missing, malformed, unknown, expired or revoked, or
 * HTTP_AUTH_ESTORE when the store failed, with err set. Only reads the
 * store, so ro may be a read-only connection. */
int http_auth_token(store_t *ro,
                    const char *token,
                    int64_t now,
                    http_auth_t *out,
                    errbuf_t *err);

/* http_auth_token on the token of an Authorization header value
 * ("Bearer sat_..."; NULL = no header). */
int http_auth_bearer(store_t *ro,
                     const char *authorization,
                     int64_t now,
                     http_auth_t *out,
                     errbuf_t *err);

/* Copies the value of the session cookie in a Cookie header value
 * ("a=1; sluice_session=sat_...") into out (size bytes); false when the
 * header (NULL allowed) has none or it does not fit. */
bool http_auth_cookie(const char *cookie_header, char *out, size_t size);

/* The Set-Cookie value that keeps token (NULL: one that ends the session)
 * in the browser: HttpOnly, SameSite=Strict, Path=/, and Secure when the
 * server speaks TLS. Returns out, or NULL when size is too small. */
char *
http_auth_set_cookie(const char *token, bool secure, char *out, size_t size);

/* A new random secret for the CSRF values of this process. */
void http_auth_secret_new(uint8_t secret[HTTP_AUTH_SECRET_SIZE]);

/* The CSRF value of a session with token: hex HMAC-SHA-256 of token under
 * secret. Only who knows the token and the server can make it. */
void http_auth_csrf(const uint8_t secret[HTTP_AUTH_SECRET_SIZE],
                    const char *token,
                    char out[HTTP_AUTH_CSRF_SIZE]);

/* True when header (the X-CSRF-Token value; NULL = none) is token's CSRF
 * value; compared in constant time. */
bool http_auth_csrf_ok(const uint8_t secret[HTTP_AUTH_SECRET_SIZE],
                       const char *token,
                       const char *header);

#endif
