#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "scheduler/http_auth.h"
#include "scheduler/store/store_apitokens.h"
#include "tests/unit/suites.h"

/* A fresh temp dir per test, holding store.db and its WAL files. */
static char s_dir[64];
static char s_db[96];
static store_t *s_store;

static const int64_t s_now = 1800000000000; /* 2027-01-15T08:00:00Z */

static void
s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/sluice-http-auth-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    snprintf(s_db, sizeof s_db, "%s/store.db", s_dir);
    errbuf_t err;
    s_store = store_open(s_db, &err);
    ck_assert_msg(s_store, "%s", errbuf_msg(&err));
}

static void
s_teardown(void)
{
    store_destroy(&s_store);
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char *path = xasprintf("%s%s", s_db, suffixes[i]);
        unlink(path);
        free(path);
    }
    rmdir(s_dir);
}

/* Makes a token as the scheduler does; its text into token. */
static uint64_t
s_add(const char *name,
      const char *role,
      int64_t expires_at,
      char token[HTTP_AUTH_TOKEN_SIZE])
{
    char hash[HTTP_AUTH_HASH_SIZE];
    http_auth_token_new(token, hash);
    store_apitoken_t row;
    errbuf_t err;
    ck_assert_int_eq(store_apitoken_add(s_store, name, role, hash, s_now - 1000,
                                        expires_at, &row, &err),
                     0);
    return row.id;
}

/* The first case reads as a usage example: make a token, check it. */
START_TEST(test_http_auth_usage)
{
    char token[HTTP_AUTH_TOKEN_SIZE];
    s_add("grafana", "viewer", 0, token);
    ck_assert_int_eq(strncmp(token, "sat_", 4), 0);
    ck_assert_uint_eq(strlen(token), 68);

    char header[96];
    snprintf(header, sizeof header, "Bearer %s", token);
    http_auth_t who;
    errbuf_t err;
    ck_assert_int_eq(http_auth_bearer(s_store, header, s_now, &who, &err), 0);
    ck_assert_int_eq(who.role, HTTP_ROLE_VIEWER);
    ck_assert_str_eq(who.name, "grafana");
    ck_assert_str_eq(who.actor, "api token 'grafana'");
    ck_assert_int_eq(who.expires_at, 0);

    /* The scheme is case-insensitive; the raw token works too. */
    snprintf(header, sizeof header, "bearer %s", token);
    ck_assert_int_eq(http_auth_bearer(s_store, header, s_now, &who, &err), 0);
    ck_assert_int_eq(http_auth_token(s_store, token, s_now, &who, &err), 0);
}

END_TEST

/* The HTTP threads read through read-only connections: the check works
 * there and sees a revocation the writer commits. */
START_TEST(test_http_auth_read_only)
{
    char token[HTTP_AUTH_TOKEN_SIZE];
    uint64_t id = s_add("ro", "operator", 0, token);
    errbuf_t err;
    store_t *ro = store_open_readonly(s_db, &err);
    ck_assert_msg(ro, "%s", errbuf_msg(&err));
    http_auth_t who;
    ck_assert_int_eq(http_auth_token(ro, token, s_now, &who, &err), 0);
    ck_assert_int_eq(who.role, HTTP_ROLE_OPERATOR);
    ck_assert_str_eq(who.actor, "api token 'ro'");
    ck_assert_int_eq(store_apitoken_revoke(s_store, id, s_now, &err), 0);
    ck_assert_int_eq(http_auth_token(ro, token, s_now, &who, &err),
                     HTTP_AUTH_EDENIED);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "'ro' was revoked"));
    store_destroy(&ro);
}

END_TEST

START_TEST(test_http_auth_roles)
{
    char viewer[HTTP_AUTH_TOKEN_SIZE], operator[HTTP_AUTH_TOKEN_SIZE];
    uint64_t v = s_add("", "viewer", 0, viewer);
    uint64_t o = s_add("ci", "operator", s_now + 60000, operator);
    http_auth_t who;
    errbuf_t err;
    ck_assert_int_eq(http_auth_token(s_store, viewer, s_now, &who, &err), 0);
    ck_assert_int_eq(who.role, HTTP_ROLE_VIEWER);
    ck_assert_uint_eq(who.token_id, v);
    ck_assert_str_eq(who.name, "token-1"); /* the default name */
    ck_assert_int_eq(http_auth_token(s_store, operator, s_now, &who, &err), 0);
    ck_assert_int_eq(who.role, HTTP_ROLE_OPERATOR);
    ck_assert_uint_eq(who.token_id, o);
    ck_assert_int_eq(who.expires_at, s_now + 60000);
}

END_TEST

START_TEST(test_http_auth_expired)
{
    char token[HTTP_AUTH_TOKEN_SIZE];
    s_add("old", "operator", s_now, token);
    http_auth_t who;
    errbuf_t err;
    ck_assert_int_eq(http_auth_token(s_store, token, s_now - 1, &who, &err), 0);
    ck_assert_int_eq(http_auth_token(s_store, token, s_now, &who, &err),
                     HTTP_AUTH_EDENIED);
    ck_assert_int_eq(who.role, HTTP_ROLE_NONE);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err),
                                 "API token 'old' expired at "
                                 "2027-01-15T08:00:00Z; make a new one with "
                                 "'sluice token create --api --role "
                                 "operator'"));
}

END_TEST

START_TEST(test_http_auth_revoked)
{
    char token[HTTP_AUTH_TOKEN_SIZE];
    uint64_t id = s_add("gone", "viewer", 0, token);
    errbuf_t err;
    ck_assert_int_eq(store_apitoken_revoke(s_store, id, s_now - 10, &err), 0);
    /* A second revocation keeps the first time. */
    ck_assert_int_eq(store_apitoken_revoke(s_store, id, s_now, &err), 0);
    store_apitoken_t row;
    ck_assert_int_eq(store_apitoken_find(s_store, 0, "gone", &row, &err), 1);
    ck_assert_int_eq(row.revoked_at, s_now - 10);
    http_auth_t who;
    ck_assert_int_eq(http_auth_token(s_store, token, s_now, &who, &err),
                     HTTP_AUTH_EDENIED);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "'gone' was revoked at"));
    ck_assert_int_eq(store_apitoken_revoke(s_store, 99, s_now, &err),
                     STORE_ENOTFOUND);
}

END_TEST

START_TEST(test_http_auth_unknown_missing_malformed)
{
    char stored[HTTP_AUTH_TOKEN_SIZE], other[HTTP_AUTH_TOKEN_SIZE];
    char hash[HTTP_AUTH_HASH_SIZE];
    s_add("a", "viewer", 0, stored);
    http_auth_token_new(other, hash); /* never stored */
    http_auth_t who;
    errbuf_t err;
    ck_assert_int_eq(http_auth_token(s_store, other, s_now, &who, &err),
                     HTTP_AUTH_EDENIED);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "not known"));
    ck_assert_ptr_nonnull(
        strstr(errbuf_msg(&err), "sluice token create --api --role viewer"));
    ck_assert_int_eq(http_auth_token(s_store, NULL, s_now, &who, &err),
                     HTTP_AUTH_EDENIED);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "needs an API token"));
    ck_assert_int_eq(http_auth_bearer(s_store, NULL, s_now, &who, &err),
                     HTTP_AUTH_EDENIED);
    ck_assert_int_eq(
        http_auth_bearer(s_store, "Basic dXNlcjpwYXNz", s_now, &who, &err),
        HTTP_AUTH_EDENIED);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "'Bearer TOKEN'"));
    /* Wrong prefix, short, upper case, trailing junk: refused unasked. */
    char bad[HTTP_AUTH_TOKEN_SIZE + 2];
    snprintf(bad, sizeof bad, "xat_%s", stored + 4);
    ck_assert_int_eq(http_auth_token(s_store, bad, s_now, &who, &err),
                     HTTP_AUTH_EDENIED);
    ck_assert_int_eq(http_auth_token(s_store, "sat_abc", s_now, &who, &err),
                     HTTP_AUTH_EDENIED);
    snprintf(bad, sizeof bad, "%s", stored);
    bad[10] = 'A';
    ck_assert_int_eq(http_auth_token(s_store, bad, s_now, &who, &err),
                     HTTP_AUTH_EDENIED);
    snprintf(bad, sizeof bad, "%s0", stored);
    ck_assert_int_eq(http_auth_token(s_store, bad, s_now, &who, &err),
                     HTTP_AUTH_EDENIED);
    ck_assert_int_eq(http_auth_token(s_store, stored, s_now, &who, &err), 0);
}

END_TEST

START_TEST(test_http_auth_store_rows)
{
    char token[HTTP_AUTH_TOKEN_SIZE], hash[HTTP_AUTH_HASH_SIZE];
    store_apitoken_t row;
    errbuf_t err;
    s_add("dup", "viewer", 0, token);
    http_auth_token_new(token, hash);
    ck_assert_int_eq(store_apitoken_add(s_store, "dup", "viewer", hash, s_now,
                                        0, &row, &err),
                     STORE_EEXISTS);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "choose another --name"));
    ck_assert_int_eq(
        store_apitoken_add(s_store, "", "operator", hash, s_now, 0, &row, &err),
        0);
    ck_assert_str_eq(row.name, "token-2");
    ck_assert_int_eq(store_apitoken_touch(s_store, row.id, s_now + 5, &err), 0);
    http_auth_token_hash(token, hash);
    ck_assert_int_eq(store_apitoken_by_hash(s_store, hash, &row, &err), 1);
    ck_assert_int_eq(row.last_used_at, s_now + 5);
    ck_assert_str_eq(row.role, "operator");
    ck_assert_int_eq(store_apitoken_by_hash(s_store, "00", &row, &err), 0);
    /* The store refuses a role it does not know. */
    ck_assert_int_lt(
        store_apitoken_add(s_store, "x", "admin", "11", s_now, 0, &row, &err),
        0);
}

END_TEST

START_TEST(test_http_auth_hash)
{
    char hash[HTTP_AUTH_HASH_SIZE];
    http_auth_token_hash("abc", hash); /* BLAKE2b-256, as b2sum -l 256 */
    ck_assert_str_eq(
        hash,
        "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

END_TEST

START_TEST(test_http_auth_cookie)
{
    char out[HTTP_AUTH_TOKEN_SIZE];
    ck_assert(http_auth_cookie("sluice_session=sat_1", out, sizeof out));
    ck_assert_str_eq(out, "sat_1");
    ck_assert(http_auth_cookie("theme=dark; sluice_session=sat_2; lang=en", out,
                               sizeof out));
    ck_assert_str_eq(out, "sat_2");
    ck_assert(!http_auth_cookie(NULL, out, sizeof out));
    ck_assert(!http_auth_cookie("", out, sizeof out));
    ck_assert(!http_auth_cookie("theme=dark", out, sizeof out));
    ck_assert(!http_auth_cookie("sluice_session_old=sat_3", out, sizeof out));
    ck_assert(!http_auth_cookie("x_sluice_session=sat_3", out, sizeof out));
    ck_assert(!http_auth_cookie("sluice_session=", out, sizeof out));
    ck_assert(!http_auth_cookie("sluice_session=sat_toolong", out, 8));

    char set[160];
    ck_assert_str_eq(http_auth_set_cookie("sat_1", false, set, sizeof set),
                     "sluice_session=sat_1; Path=/; HttpOnly; "
                     "SameSite=Strict");
    ck_assert_str_eq(http_auth_set_cookie(NULL, true, set, sizeof set),
                     "sluice_session=; Path=/; HttpOnly; SameSite=Strict; "
                     "Max-Age=0; Secure");
    ck_assert_ptr_null(http_auth_set_cookie("sat_1", true, set, 10));
}

END_TEST

START_TEST(test_http_auth_csrf)
{
    uint8_t secret[HTTP_AUTH_SECRET_SIZE];
    for (size_t i = 0; i < sizeof secret; i++) {
        secret[i] = (uint8_t) i;
    }
    char csrf[HTTP_AUTH_CSRF_SIZE];
    http_auth_csrf(secret, "sat_test", csrf); /* HMAC-SHA-256, hex */
    ck_assert_str_eq(
        csrf,
        "3eff0e8880ccd3be891742aa9c6f1bba68b751feda26679a9df3087a1df78462");
    ck_assert(http_auth_csrf_ok(secret, "sat_test", csrf));
    ck_assert(!http_auth_csrf_ok(secret, "sat_other", csrf));
    ck_assert(!http_auth_csrf_ok(secret, "sat_test", NULL));
    ck_assert(!http_auth_csrf_ok(secret, "sat_test", ""));
    ck_assert(!http_auth_csrf_ok(secret, NULL, csrf));
    char bad[HTTP_AUTH_CSRF_SIZE + 1];
    snprintf(bad, sizeof bad, "%s", csrf);
    bad[63] = bad[63] == '0' ? '1' : '0';
    ck_assert(!http_auth_csrf_ok(secret, "sat_test", bad));
    snprintf(bad, sizeof bad, "%s0", csrf);
    ck_assert(!http_auth_csrf_ok(secret, "sat_test", bad));
    /* Another process (another secret) makes other values. */
    uint8_t other[HTTP_AUTH_SECRET_SIZE];
    http_auth_secret_new(other);
    ck_assert(!http_auth_csrf_ok(other, "sat_test", csrf));
}

END_TEST

Suite *
http_auth_suite(void)
{
    Suite *s = suite_create("http_auth");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_http_auth_usage);
    tcase_add_test(tc, test_http_auth_read_only);
    tcase_add_test(tc, test_http_auth_roles);
    tcase_add_test(tc, test_http_auth_expired);
    tcase_add_test(tc, test_http_auth_revoked);
    tcase_add_test(tc, test_http_auth_unknown_missing_malformed);
    tcase_add_test(tc, test_http_auth_store_rows);
    tcase_add_test(tc, test_http_auth_hash);
    tcase_add_test(tc, test_http_auth_cookie);
    tcase_add_test(tc, test_http_auth_csrf);
    suite_add_tcase(s, tc);
    return s;
}
