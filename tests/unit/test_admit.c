/* admit suite: join lines with transport keys, CURVE key files, the ZAP
 * verdicts and operator decisions, join tokens, and a real CURVE handshake
 * through the ZAP handler. */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/curve.h"
#include "common/join.h"
#include "common/keys.h"
#include "common/xalloc.h"
#include "scheduler/admit.h"
#include "scheduler/store/store.h"
#include "tests/unit/suites.h"

static char s_dir[64];
static store_t *s_store;
static admit_t *s_admit;

static void
s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/sluice-admit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    char *db = xasprintf("%s/store.db", s_dir);
    errbuf_t err;
    s_store = store_open(db, &err);
    free(db);
    ck_assert_ptr_nonnull(s_store);
    s_admit = admit_new(s_store, &err);
    ck_assert_ptr_nonnull(s_admit);
    ck_assert_int_eq(store_begin(s_store, &err), 0);
}

static void
s_teardown(void)
{
    errbuf_t err;
    store_commit(s_store, &err);
    admit_destroy(&s_admit);
    store_destroy(&s_store);
    char *cmd = xasprintf("rm -rf %s", s_dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static void
s_random_key(uint8_t *key)
{
    randombytes_buf(key, CURVE_KEY_SIZE);
}

/* Usage: the worker side parses the line the scheduler prints. */
START_TEST(test_join_line_carries_both_keys_and_a_token)
{
    uint8_t pub[32], curve[32];
    s_random_key(pub);
    s_random_key(curve);
    char *line = join_format("h:7700", pub, curve);
    join_t join;
    errbuf_t err;
    ck_assert_int_eq(join_parse(line, &join, &err), 0);
    ck_assert_str_eq(join.endpoint, "tcp://h:7700");
    ck_assert_mem_eq(join.pub, pub, 32);
    ck_assert_mem_eq(join.curve, curve, 32);
    ck_assert_ptr_null(join.token);
    join_clear(&join);
    char *with = xasprintf("sluice worker --join %s?token=sjt_abc", line);
    ck_assert_int_eq(join_parse(with, &join, &err), 0);
    ck_assert_str_eq(join.token, "sjt_abc");
    join_clear(&join);
    /* The old two-part line says how to get a new one. */
    char *old = xasprintf("%.*s", (int) (strrchr(line, '/') - line), line);
    ck_assert_int_eq(join_parse(old, &join, &err), -1);
    ck_assert_str_eq(errbuf_msg(&err),
                     "this join line has no transport key; print a new one "
                     "with 'sluice join-line'");
    char *bad = xasprintf("%s/zz", old);
    ck_assert_int_eq(join_parse(bad, &join, &err), -1);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "malformed transport key"));
    free(bad);
    free(old);
    free(with);
    free(line);
}

END_TEST

START_TEST(test_curve_files_are_private_and_round_trip)
{
    errbuf_t err;
    bool created = false;
    curve_t *a = curve_ensure(s_dir, "x.curve", &created, &err);
    ck_assert_ptr_nonnull(a);
    ck_assert(created);
    char *path = xasprintf("%s/x.curve", s_dir);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    curve_t *b = curve_ensure(s_dir, "x.curve", &created, &err);
    ck_assert(!created);
    ck_assert_mem_eq(curve_public(a), curve_public(b), CURVE_KEY_SIZE);
    uint8_t pub[CURVE_KEY_SIZE];
    char *pub_path = xasprintf("%s.pub", path);
    ck_assert_int_eq(curve_load_public(pub_path, pub, &err), 0);
    ck_assert_mem_eq(pub, curve_public(a), CURVE_KEY_SIZE);
    chmod(path, 0644);
    ck_assert_ptr_null(curve_load(path, &err));
    curve_destroy(&a);
    curve_destroy(&b);
    ck_assert_ptr_null(a);
    free(pub_path);
    free(path);
}

END_TEST

START_TEST(test_client_curve_key_follows_its_signing_key)
{
    keys_t *keys = keys_generate();
    curve_t *curve = curve_from_keys(keys);
    uint8_t converted[CURVE_KEY_SIZE];
    ck_assert_int_eq(keys_curve_public(keys_public(keys), converted), 0);
    ck_assert_mem_eq(converted, curve_public(curve), CURVE_KEY_SIZE);
    curve_destroy(&curve);
    keys_destroy(&keys);
}

END_TEST

START_TEST(test_unknown_worker_is_pending_until_accepted)
{
    uint8_t key[CURVE_KEY_SIZE];
    s_random_key(key);
    errbuf_t err;
    ck_assert_int_eq(admit_zap(s_admit, "worker", key, "10.0.0.9", 1000, &err),
                     ADMIT_PENDING);
    ck_assert_str_eq(admit_state(s_admit, key), "pending");
    ck_assert_int_eq(admit_zap(s_admit, "worker", key, "10.0.0.9", 2000, &err),
                     ADMIT_PENDING);
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(key, fp);
    uint8_t got[CURVE_KEY_SIZE];
    ck_assert_int_eq(
        admit_decide(s_admit, fp, "accept", "operator", 3000, got, &err), 0);
    ck_assert_mem_eq(got, key, CURVE_KEY_SIZE);
    ck_assert_int_eq(admit_zap(s_admit, "worker", key, "10.0.0.9", 4000, &err),
                     ADMIT_ALLOW);
    /* A worker key never opens the client socket. */
    ck_assert_int_eq(admit_zap(s_admit, "client", key, "10.0.0.9", 4000, &err),
                     ADMIT_DENY);
    /* Decisions survive a restart: a new cache reads the store. */
    admit_t *again = admit_new(s_store, &err);
    ck_assert_str_eq(admit_state(again, key), "accepted");
    admit_destroy(&again);
}

END_TEST

START_TEST(test_rejected_and_revoked_keys_are_refused)
{
    uint8_t a[CURVE_KEY_SIZE], b[CURVE_KEY_SIZE], got[CURVE_KEY_SIZE];
    s_random_key(a);
    s_random_key(b);
    errbuf_t err;
    admit_zap(s_admit, "worker", a, "h", 1, &err);
    admit_zap(s_admit, "worker", b, "h", 1, &err);
    char fa[CURVE_HEX_SIZE], fb[CURVE_HEX_SIZE];
    curve_hex(a, fa);
    curve_hex(b, fb);
    ck_assert_int_eq(admit_decide(s_admit, fa, "reject", "op", 2, got, &err),
                     0);
    ck_assert_int_eq(admit_zap(s_admit, "worker", a, "h", 3, &err), ADMIT_DENY);
    /* revoke applies to accepted keys only, and says what to use. */
    ck_assert_int_eq(admit_decide(s_admit, fb, "revoke", "op", 2, got, &err),
                     ADMIT_EINVALID);
    ck_assert_int_eq(admit_decide(s_admit, fb, "accept", "op", 2, got, &err),
                     0);
    ck_assert_int_eq(admit_decide(s_admit, fb, "reject", "op", 2, got, &err),
                     ADMIT_EINVALID);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "sluice keys revoke"));
    ck_assert_int_eq(admit_decide(s_admit, fb, "revoke", "op", 2, got, &err),
                     0);
    ck_assert_int_eq(admit_zap(s_admit, "worker", b, "h", 3, &err), ADMIT_DENY);
    ck_assert_int_eq(
        admit_decide(s_admit, "ffff:ffff:ffff", "accept", "op", 2, got, &err),
        ADMIT_ENOTFOUND);
    ck_assert_int_eq(admit_decide(s_admit, "zz", "accept", "op", 2, got, &err),
                     ADMIT_ENOTFOUND);
}

END_TEST

START_TEST(test_fingerprint_prefix_must_be_unique)
{
    errbuf_t err;
    uint8_t got[CURVE_KEY_SIZE];
    /* Enough keys that some share a first hex digit. */
    for (int i = 0; i < 40; i++) {
        uint8_t key[CURVE_KEY_SIZE];
        s_random_key(key);
        admit_zap(s_admit, "worker", key, "h", 1, &err);
    }
    int ambiguous = 0;
    const char *digits = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        char prefix[2] = {digits[i], 0};
        int rc = admit_decide(s_admit, prefix, "reject", "op", 2, got, &err);
        ambiguous += rc == ADMIT_EAMBIGUOUS;
    }
    ck_assert_int_gt(ambiguous, 0);
}

END_TEST

START_TEST(test_signing_key_is_bound_at_first_register)
{
    uint8_t curve[CURVE_KEY_SIZE], got[CURVE_KEY_SIZE];
    s_random_key(curve);
    keys_t *one = keys_generate();
    keys_t *two = keys_generate();
    errbuf_t err;
    admit_zap(s_admit, "worker", curve, "h", 1, &err);
    char hex[CURVE_HEX_SIZE];
    curve_hex(curve, hex);
    admit_decide(s_admit, hex, "accept", "op", 2, got, &err);
    ck_assert(!admit_signer_ok(s_admit, curve, keys_public(one)));
    ck_assert_int_eq(admit_bind_worker(s_admit, curve, keys_public(one), "w1",
                                       "host", 3, &err),
                     0);
    ck_assert(admit_signer_ok(s_admit, curve, keys_public(one)));
    ck_assert(!admit_signer_ok(s_admit, curve, keys_public(two)));
    ck_assert_int_eq(admit_bind_worker(s_admit, curve, keys_public(two), "w1",
                                       "host", 4, &err),
                     ADMIT_EMISMATCH);
    keys_destroy(&one);
    keys_destroy(&two);
}

END_TEST

/* An accepted worker key with its own signing key, as at a Register. */
static keys_t *
s_admitted_worker(uint8_t *curve)
{
    uint8_t got[CURVE_KEY_SIZE];
    errbuf_t err;
    s_random_key(curve);
    admit_zap(s_admit, "worker", curve, "h", 1, &err);
    char hex[CURVE_HEX_SIZE];
    curve_hex(curve, hex);
    ck_assert_int_eq(admit_decide(s_admit, hex, "accept", "op", 2, got, &err),
                     0);
    return keys_generate();
}

START_TEST(test_worker_name_is_bound_to_its_key)
{
    uint8_t ca[CURVE_KEY_SIZE], cb[CURVE_KEY_SIZE], got[CURVE_KEY_SIZE];
    keys_t *a = s_admitted_worker(ca);
    keys_t *b = s_admitted_worker(cb);
    errbuf_t err;
    ck_assert_int_eq(
        admit_bind_worker(s_admit, ca, keys_public(a), "w1", "h", 3, &err), 0);
    /* The name is a's, whether or not a is connected. */
    ck_assert_int_eq(
        admit_bind_worker(s_admit, cb, keys_public(b), "w1", "h", 4, &err),
        ADMIT_ETAKEN);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "sluice keys revoke"));
    /* One name per key. */
    ck_assert_int_eq(
        admit_bind_worker(s_admit, ca, keys_public(a), "w2", "h", 5, &err),
        ADMIT_ENAMED);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "sluice keys rename w1 w2"));
    ck_assert_int_eq(
        admit_bind_worker(s_admit, ca, keys_public(a), "w1", "h", 6, &err), 0);
    /* Bindings are stored: a new cache (a restart) knows them. */
    admit_t *again = admit_new(s_store, &err);
    ck_assert_int_eq(
        admit_bind_worker(again, cb, keys_public(b), "w1", "h", 7, &err),
        ADMIT_ETAKEN);
    admit_destroy(&again);
    /* Revoking a's key frees its name for the machine that replaces it. */
    char hex[CURVE_HEX_SIZE];
    curve_hex(ca, hex);
    ck_assert_int_eq(admit_decide(s_admit, hex, "revoke", "op", 8, got, &err),
                     0);
    ck_assert_int_eq(
        admit_bind_worker(s_admit, cb, keys_public(b), "w1", "h", 9, &err), 0);
    keys_destroy(&a);
    keys_destroy(&b);
}

END_TEST

START_TEST(test_rename_moves_a_keys_name)
{
    uint8_t ca[CURVE_KEY_SIZE], cb[CURVE_KEY_SIZE];
    keys_t *a = s_admitted_worker(ca);
    keys_t *b = s_admitted_worker(cb);
    errbuf_t err;
    admit_bind_worker(s_admit, ca, keys_public(a), "w1", "h", 3, &err);
    admit_bind_worker(s_admit, cb, keys_public(b), "w2", "h", 3, &err);
    char sign[KEYS_HEX_SIZE];
    ck_assert_int_eq(admit_rename(s_admit, "w9", "w3", 4, sign, &err),
                     ADMIT_ENOTFOUND);
    ck_assert_int_eq(admit_rename(s_admit, "w1", "w2", 4, sign, &err),
                     ADMIT_EINVALID);
    ck_assert_int_eq(admit_rename(s_admit, "w1", "bad name", 4, sign, &err),
                     ADMIT_EINVALID);
    ck_assert_int_eq(admit_rename(s_admit, "w1", "w1-new", 4, sign, &err), 0);
    char want[KEYS_HEX_SIZE];
    keys_public_hex(keys_public(a), want);
    ck_assert_str_eq(sign, want);
    ck_assert_int_eq(
        admit_bind_worker(s_admit, ca, keys_public(a), "w1", "h", 5, &err),
        ADMIT_ENAMED);
    ck_assert_int_eq(
        admit_bind_worker(s_admit, ca, keys_public(a), "w1-new", "h", 5, &err),
        0);
    keys_destroy(&a);
    keys_destroy(&b);
}

END_TEST

START_TEST(test_clients_need_a_listed_key)
{
    uint8_t local[CURVE_KEY_SIZE], stranger[CURVE_KEY_SIZE];
    s_random_key(local);
    s_random_key(stranger);
    errbuf_t err;
    ck_assert_int_eq(admit_set(s_admit, local, "client", "accepted", "operator",
                               "scheduler", 1, &err),
                     0);
    ck_assert_int_eq(admit_zap(s_admit, "client", local, "127.0.0.1", 2, &err),
                     ADMIT_ALLOW);
    ck_assert_str_eq(admit_role(s_admit, local), "operator");
    ck_assert_int_eq(
        admit_zap(s_admit, "client", stranger, "127.0.0.1", 2, &err),
        ADMIT_DENY);
    ck_assert_str_eq(admit_state(s_admit, stranger), "pending");
    ck_assert_int_eq(admit_zap(s_admit, "nope", local, "127.0.0.1", 2, &err),
                     ADMIT_DENY);
}

END_TEST

START_TEST(test_tokens_are_hashed_expire_and_run_out)
{
    errbuf_t err;
    char token[ADMIT_TOKEN_SIZE];
    ck_assert_int_eq(admit_token_create(s_admit, 60000, 2, 1000, token, &err),
                     0);
    ck_assert_int_eq(strlen(token), ADMIT_TOKEN_SIZE - 1);
    ck_assert_int_eq(admit_token_redeem(s_admit, token, 2000, &err), 0);
    ck_assert_int_eq(admit_token_redeem(s_admit, token, 3000, &err), 0);
    ck_assert_int_eq(admit_token_redeem(s_admit, token, 4000, &err),
                     ADMIT_ETOKEN);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "used up"));
    char other[ADMIT_TOKEN_SIZE];
    admit_token_create(s_admit, 60000, 5, 1000, other, &err);
    ck_assert_int_eq(admit_token_redeem(s_admit, other, 61000, &err),
                     ADMIT_ETOKEN);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "expired"));
    ck_assert_int_eq(admit_token_redeem(s_admit, "sjt_guess", 1000, &err),
                     ADMIT_ETOKEN);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "not known"));
    /* Only the hash is stored. */
    ck_assert_int_eq(store_commit(s_store, &err), 0);
    char *cmd =
        xasprintf("sqlite3 %s/store.db .dump | grep -c %s", s_dir, token + 4);
    FILE *p = popen(cmd, "r");
    int found = -1;
    ck_assert_int_eq(fscanf(p, "%d", &found), 1);
    pclose(p);
    ck_assert_int_eq(found, 0);
    free(cmd);
    ck_assert_int_eq(store_begin(s_store, &err), 0);
}

END_TEST

/* A real CURVE handshake: the ZAP handler's verdict decides whether a
 * DEALER's message reaches the ROUTER, and tags it with the key. */
static bool
s_delivered(admit_t *admit,
            zsock_t *router,
            const curve_t *client,
            const curve_t *server,
            const char *domain,
            char *user_id)
{
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    zsock_set_linger(dealer, 0);
    curve_set_client(client, dealer, curve_public(server));
    ck_assert_int_eq(zsock_connect(dealer, "%s", zsock_endpoint(router)), 0);
    zstr_send(dealer, "hello");
    (void) domain;
    zpoller_t *poller = zpoller_new(router, admit_socket(admit), NULL);
    bool got = false;
    errbuf_t err;
    for (int i = 0; i < 30 && !got; i++) {
        void *which = zpoller_wait(poller, 100);
        if (which == admit_socket(admit)) {
            admit_serve(admit, 1, &err);
        } else if (which == router) {
            zmsg_t *msg = zmsg_recv(router);
            const char *uid = zframe_meta(zmsg_last(msg), "User-Id");
            snprintf(user_id, CURVE_HEX_SIZE, "%s", uid ? uid : "");
            zmsg_destroy(&msg);
            got = true;
        }
    }
    zpoller_destroy(&poller);
    zsock_destroy(&dealer);
    return got;
}

START_TEST(test_zap_handler_guards_a_curve_socket)
{
    errbuf_t err;
    ck_assert_int_eq(admit_bind(s_admit, &err), 0);
    curve_t *server = curve_generate();
    curve_t *client = curve_generate();
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    curve_set_server(server, router, ADMIT_DOMAIN_CLIENT);
    ck_assert_int_ge(zsock_bind(router, "tcp://127.0.0.1:*"), 0);
    char user_id[CURVE_HEX_SIZE];
    ck_assert(!s_delivered(s_admit, router, client, server, "client", user_id));
    ck_assert_str_eq(admit_state(s_admit, curve_public(client)), "pending");
    admit_set(s_admit, curve_public(client), "client", "accepted", "viewer",
              "test", 2, &err);
    ck_assert(s_delivered(s_admit, router, client, server, "client", user_id));
    char hex[CURVE_HEX_SIZE];
    curve_hex(curve_public(client), hex);
    ck_assert_str_eq(user_id, hex);
    zsock_destroy(&router);
    curve_destroy(&server);
    curve_destroy(&client);
}

END_TEST

/* What a key does wrong is reported once per window, with the count of
 * what was left out; a full table makes new keys share one slot. */
START_TEST(test_reports_are_once_per_key_and_window)
{
    uint8_t a[CURVE_KEY_SIZE], b[CURVE_KEY_SIZE];
    s_random_key(a);
    s_random_key(b);
    uint64_t quiet = 99;
    ck_assert(admit_report(s_admit, a, "token_refused", 1000, 0, &quiet));
    ck_assert_uint_eq(quiet, 0);
    ck_assert(!admit_report(s_admit, a, "token_refused", 1000, 10, &quiet));
    ck_assert(!admit_report(s_admit, a, "token_refused", 1000, 999, &quiet));
    ck_assert(admit_report(s_admit, a, "other", 1000, 999, &quiet));
    ck_assert(admit_report(s_admit, b, "token_refused", 1000, 999, &quiet));
    ck_assert(admit_report(s_admit, a, "token_refused", 1000, 1000, &quiet));
    ck_assert_uint_eq(quiet, 2);
    /* Fill the table with keys reported just now: new keys then share the
     * overflow slot, which reports once per window too. */
    for (int i = 0; i < ADMIT_REPORT_KEYS; i++) {
        uint8_t k[CURVE_KEY_SIZE];
        s_random_key(k);
        admit_report(s_admit, k, "flood", 60000, 5000, &quiet);
    }
    uint8_t c[CURVE_KEY_SIZE], d[CURVE_KEY_SIZE];
    s_random_key(c);
    s_random_key(d);
    admit_report(s_admit, c, "flood", 60000, 5000, &quiet);
    ck_assert(!admit_report(s_admit, c, "flood", 60000, 5001, &quiet));
    ck_assert(!admit_report(s_admit, d, "flood", 60000, 5001, &quiet));
    /* Once the window has passed, old slots make room again. */
    ck_assert(admit_report(s_admit, d, "flood", 60000, 70000, &quiet));
}

END_TEST

Suite *
admit_suite(void)
{
    Suite *s = suite_create("admit");
    TCase *tc = tcase_create("admit");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_join_line_carries_both_keys_and_a_token);
    tcase_add_test(tc, test_curve_files_are_private_and_round_trip);
    tcase_add_test(tc, test_client_curve_key_follows_its_signing_key);
    tcase_add_test(tc, test_unknown_worker_is_pending_until_accepted);
    tcase_add_test(tc, test_rejected_and_revoked_keys_are_refused);
    tcase_add_test(tc, test_fingerprint_prefix_must_be_unique);
    tcase_add_test(tc, test_signing_key_is_bound_at_first_register);
    tcase_add_test(tc, test_worker_name_is_bound_to_its_key);
    tcase_add_test(tc, test_rename_moves_a_keys_name);
    tcase_add_test(tc, test_clients_need_a_listed_key);
    tcase_add_test(tc, test_tokens_are_hashed_expire_and_run_out);
    tcase_add_test(tc, test_zap_handler_guards_a_curve_socket);
    tcase_add_test(tc, test_reports_are_once_per_key_and_window);
    suite_add_tcase(s, tc);
    return s;
}
