#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dag.h"
#include "common/xalloc.h"
#include "scheduler/secrets.h"
#include "scheduler/store/store.h"
#include "tests/unit/suites.h"

static char s_dir[64];

static void
s_setup(void)
{
    ck_assert_int_ge(sodium_init(), 0);
    strcpy(s_dir, "/tmp/sluice-secrets-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void
s_teardown(void)
{
    char *cmd = xasprintf("rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static store_t *
s_store(void)
{
    char *path = xasprintf("%s/store.db", s_dir);
    errbuf_t err;
    store_t *store = store_open(path, &err);
    ck_assert_msg(store, "%s", errbuf_msg(&err));
    free(path);
    return store;
}

/* Masks chunks one after another on stream 1 and returns all output. */
static char *
s_mask_all(secrets_mask_t *mask, const char *const *chunks, size_t n)
{
    char *all = xcalloc(1, 4096);
    size_t len = 0;
    for (size_t i = 0; i <= n; i++) {
        size_t out_len;
        uint8_t *out = i < n ? secrets_mask(mask, 1, chunks[i],
                                            strlen(chunks[i]), &out_len)
                             : secrets_mask_flush(mask, 1, &out_len);
        memcpy(all + len, out, out_len);
        len += out_len;
        free(out);
    }
    return all;
}

/* ------------------------------------------------------------- vault */

START_TEST(test_secrets_usage)
{
    /* Set a secret, read it back for a task, list, remove. */
    store_t *store = s_store();
    errbuf_t err;
    secrets_t *secrets = secrets_open(s_dir, store, &err);
    ck_assert_msg(secrets, "%s", errbuf_msg(&err));
    bool replaced = true;
    ck_assert_int_eq(store_begin(store, &err), 0);
    ck_assert_int_eq(secrets_set(secrets, "API_TOKEN", "s3cr3t-value", 12, 1000,
                                 &replaced, &err),
                     0);
    ck_assert(!replaced);
    ck_assert_int_eq(store_commit(store, &err), 0);
    char *value = secrets_get(secrets, "API_TOKEN", &err);
    ck_assert_str_eq(value, "s3cr3t-value");
    secrets_free(&value);
    ck_assert_ptr_null(value);

    /* The key file exists, 0600, 32 bytes. */
    char *key_path = xasprintf("%s/%s", s_dir, SECRETS_KEY_FILE);
    struct stat st;
    ck_assert_int_eq(stat(key_path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, SECRETS_KEY_SIZE);

    /* Replacing says so; a missing one says how to set it. */
    ck_assert_int_eq(
        secrets_set(secrets, "API_TOKEN", "other", 5, 2000, &replaced, &err),
        0);
    ck_assert(replaced);
    ck_assert_ptr_null(secrets_get(secrets, "NOPE", &err));
    ck_assert_str_eq(errbuf_msg(&err), "secret 'NOPE' is not set; set it "
                                       "with 'sluice secret set NOPE'");
    ck_assert_int_eq(secrets_rm(secrets, "API_TOKEN", &err), 0);
    ck_assert_int_eq(secrets_rm(secrets, "API_TOKEN", &err), -1);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "no secret 'API_TOKEN'"));
    free(key_path);
    secrets_destroy(&secrets);
    ck_assert_ptr_null(secrets);
    store_destroy(&store);
}

END_TEST

START_TEST(test_secrets_bad_input)
{
    store_t *store = s_store();
    errbuf_t err;
    secrets_t *secrets = secrets_open(s_dir, store, &err);
    ck_assert_int_eq(secrets_set(secrets, "A B", "x", 1, 0, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "not a secret name"));
    ck_assert_int_eq(secrets_set(secrets, "A/B", "x", 1, 0, NULL, &err), -1);
    ck_assert_int_eq(secrets_set(secrets, "..", "x", 1, 0, NULL, &err), -1);
    ck_assert_int_eq(secrets_set(secrets, "EMPTY", "", 0, 0, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "is empty"));
    ck_assert_int_eq(secrets_set(secrets, "NUL", "a\0b", 3, 0, NULL, &err), -1);
    ck_assert(dag_name_ok("_x9"));
    ck_assert(!dag_name_ok(""));
    ck_assert(dag_name_ok("a.b"));
    secrets_destroy(&secrets);
    store_destroy(&store);
}

END_TEST

START_TEST(test_secrets_never_plain_in_store)
{
    store_t *store = s_store();
    errbuf_t err;
    secrets_t *secrets = secrets_open(s_dir, store, &err);
    ck_assert_int_eq(
        secrets_set(secrets, "PW", "plain-text-canary", 17, 0, NULL, &err), 0);
    secrets_destroy(&secrets);
    store_destroy(&store);
    char *cmd =
        xasprintf("cat '%s'/store.db* | grep -q plain-text-canary", s_dir);
    ck_assert_int_ne(system(cmd), 0);
    free(cmd);
}

END_TEST

START_TEST(test_secrets_key_file_mode)
{
    /* A key that group or others can read is refused, with the fix. */
    store_t *store = s_store();
    errbuf_t err;
    secrets_t *secrets = secrets_open(s_dir, store, &err);
    ck_assert_int_eq(secrets_set(secrets, "A", "v", 1, 0, NULL, &err), 0);
    secrets_destroy(&secrets);
    char *key_path = xasprintf("%s/%s", s_dir, SECRETS_KEY_FILE);
    ck_assert_int_eq(chmod(key_path, 0644), 0);
    ck_assert_ptr_null(secrets_open(s_dir, store, &err));
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "chmod 600"));
    ck_assert_int_eq(chmod(key_path, 0600), 0);
    secrets = secrets_open(s_dir, store, &err);
    ck_assert_ptr_nonnull(secrets);
    secrets_destroy(&secrets);
    free(key_path);
    store_destroy(&store);
}

END_TEST

/* ------------------------------------------------------------ crypto */

START_TEST(test_secrets_round_trip)
{
    uint8_t key[SECRETS_KEY_SIZE], other[SECRETS_KEY_SIZE];
    randombytes_buf(key, sizeof key);
    randombytes_buf(other, sizeof other);
    uint8_t nonce[SECRETS_NONCE_SIZE];
    size_t box_len;
    uint8_t *box = secrets_seal(key, "hunter2", 7, nonce, &box_len);
    ck_assert_ptr_null(memmem(box, box_len, "hunter2", 7));
    errbuf_t err;
    size_t len;
    char *plain = secrets_open_box(key, nonce, box, box_len, &len, &err);
    ck_assert_str_eq(plain, "hunter2");
    ck_assert_int_eq(len, 7);
    secrets_free(&plain);

    /* Wrong key, flipped bit, truncated box: refused. */
    ck_assert_ptr_null(
        secrets_open_box(other, nonce, box, box_len, NULL, &err));
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "wrong key"));
    box[box_len - 1] ^= 1;
    ck_assert_ptr_null(secrets_open_box(key, nonce, box, box_len, NULL, &err));
    box[box_len - 1] ^= 1;
    ck_assert_ptr_null(secrets_open_box(key, nonce, box, 3, NULL, &err));
    /* Each seal gets its own nonce. */
    uint8_t nonce2[SECRETS_NONCE_SIZE];
    size_t box2_len;
    uint8_t *box2 = secrets_seal(key, "hunter2", 7, nonce2, &box2_len);
    ck_assert(memcmp(nonce, nonce2, sizeof nonce) != 0);
    free(box2);
    free(box);
}

END_TEST

/* ----------------------------------------------------------- masking */

START_TEST(test_secrets_mask_one_chunk)
{
    secrets_mask_t *mask = secrets_mask_new();
    secrets_mask_add(mask, "hunter2");
    secrets_mask_add(mask, "");
    ck_assert_int_eq(secrets_mask_count(mask), 1);
    const char *chunks[] = {"token=hunter2 and hunter2\n"};
    char *out = s_mask_all(mask, chunks, 1);
    ck_assert_str_eq(out, "token=*** and ***\n");
    free(out);
    secrets_mask_destroy(&mask);
    ck_assert_ptr_null(mask);
}

END_TEST

START_TEST(test_secrets_mask_across_chunks)
{
    secrets_mask_t *mask = secrets_mask_new();
    secrets_mask_add(mask, "hunter2");
    /* Split in the middle, and a chunk that is all inside the value. */
    const char *chunks[] = {"a=hun", "te", "r2 b=h", "x hunt"};
    char *out = s_mask_all(mask, chunks, 4);
    ck_assert_str_eq(out, "a=*** b=hx hunt");
    free(out);
    /* Nothing that could begin a value is held back. */
    size_t len;
    uint8_t *now = secrets_mask(mask, 1, "plain\n", 6, &len);
    ck_assert_int_eq(len, 6);
    free(now);
    /* Streams are masked apart: stderr does not complete stdout's tail. */
    uint8_t *o = secrets_mask(mask, 1, "hun", 3, &len);
    ck_assert_int_eq(len, 0);
    free(o);
    o = secrets_mask(mask, 2, "ter2", 4, &len);
    ck_assert_int_eq(len, 4);
    free(o);
    o = secrets_mask_flush(mask, 1, &len);
    ck_assert_int_eq(len, 3);
    free(o);
    secrets_mask_destroy(&mask);
}

END_TEST

START_TEST(test_secrets_mask_overlapping_values)
{
    secrets_mask_t *mask = secrets_mask_new();
    secrets_mask_add(mask, "cd");
    secrets_mask_add(mask, "abcdef");
    /* The longer value wins; a held tail is masked at flush. */
    const char *chunks[] = {"xxabc", "def yy ab", "cd"};
    char *out = s_mask_all(mask, chunks, 3);
    ck_assert_str_eq(out, "xx*** yy ab***");
    free(out);
    secrets_mask_destroy(&mask);
}

END_TEST

/* --------------------------------------------------------------- dag */

static zlist_t *
s_dag_errors(const char *text)
{
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    dag_t *dag = dag_parse("t.yaml", text, strlen(text), errors);
    dag_destroy(&dag);
    return errors;
}

START_TEST(test_secrets_dag_env_only)
{
    zlist_t *errors = s_dag_errors("dag: s\n"
                                   "tasks:\n"
                                   "  - id: a\n"
                                   "    run: echo $T\n"
                                   "    env: {T: '{{ secret.API_TOKEN }}'}\n"
                                   "    limits: {nofile: 64, nproc: 32}\n");
    ck_assert_int_eq(zlist_size(errors), 0);
    zlist_destroy(&errors);
    static const char limits[] = "dag: s\ntasks:\n  - id: a\n    run: x\n"
                                 "    limits: {nofile: 64, nproc: 32}\n";
    zlist_t *e2 = zlist_new();
    dag_t *dag = dag_parse("t.yaml", limits, strlen(limits), e2);
    ck_assert_ptr_nonnull(dag);
    ck_assert_int_eq(dag_task(dag, 0)->limit_nofile, 64);
    ck_assert_int_eq(dag_task(dag, 0)->limit_nproc, 32);
    dag_destroy(&dag);
    zlist_destroy(&e2);

    errors = s_dag_errors("dag: s\n"
                          "tasks:\n"
                          "  - id: a\n"
                          "    run: echo {{ secret.API_TOKEN }}\n"
                          "    outputs: ['/x/{{ secret.B }}']\n");
    ck_assert_int_eq(zlist_size(errors), 2);
    static const char want[] = "t.yaml:4:15: 'run' of task 'a' uses secret "
                               "'API_TOKEN'; secrets may only be used in "
                               "'env': pass it through env";
    const char *e = zlist_first(errors);
    ck_assert_msg(strncmp(e, want, strlen(want)) == 0, "%s", e);
    e = zlist_next(errors);
    ck_assert_msg(strstr(e, "t.yaml:5:") && strstr(e, "secret 'B'") &&
                      strstr(e, "only be used in 'env'"),
                  "%s", e);
    zlist_destroy(&errors);

    errors = s_dag_errors("dag: s\n"
                          "tasks:\n"
                          "  - id: a\n"
                          "    run: x\n"
                          "    env: {T: '{{ secret.. }}'}\n"
                          "    limits: {nofile: lots, cores: 1}\n");
    ck_assert_int_eq(zlist_size(errors), 3);
    ck_assert_ptr_nonnull(strstr(zlist_first(errors), "bad secret name"));
    zlist_destroy(&errors);
}

END_TEST

Suite *
secrets_suite(void)
{
    Suite *s = suite_create("secrets");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_secrets_usage);
    tcase_add_test(tc, test_secrets_bad_input);
    tcase_add_test(tc, test_secrets_never_plain_in_store);
    tcase_add_test(tc, test_secrets_key_file_mode);
    tcase_add_test(tc, test_secrets_round_trip);
    tcase_add_test(tc, test_secrets_mask_one_chunk);
    tcase_add_test(tc, test_secrets_mask_across_chunks);
    tcase_add_test(tc, test_secrets_mask_overlapping_values);
    tcase_add_test(tc, test_secrets_dag_env_only);
    suite_add_tcase(s, tc);
    return s;
}
