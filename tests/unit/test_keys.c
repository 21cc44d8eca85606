#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/keys.h"
#include "common/xalloc.h"
#include "tests/unit/suites.h"

/* A fresh temp dir per test; removed (with the files we made) at the end. */
static char s_dir[64];

static void
s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/sluice-keys-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void
s_teardown(void)
{
    static const char *const names[] = {"k.key", "k.pub", "other.pub",
                                        "bad.key"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *path = xasprintf("%s/%s", s_dir, names[i]);
        unlink(path);
        free(path);
    }
    rmdir(s_dir);
}

static char *
s_path(const char *name)
{
    return xasprintf("%s/%s", s_dir, name);
}

START_TEST(test_keys_usage)
{
    /* A scheduler makes its key once, saves it, and signs with it later. */
    char *key_path = s_path("k.key");
    char *pub_path = s_path("k.pub");
    errbuf_t err;
    keys_t *keys = keys_generate();
    ck_assert_int_eq(keys_save(keys, key_path, pub_path, &err), 0);

    keys_t *loaded = keys_load(key_path, &err);
    ck_assert_msg(loaded, "%s", err.msg);
    ck_assert_mem_eq(keys_public(loaded), keys_public(keys), KEYS_PUBLIC_SIZE);

    uint8_t sig[KEYS_SIG_SIZE];
    keys_sign(loaded, "hello", 5, sig);
    uint8_t pub[KEYS_PUBLIC_SIZE];
    ck_assert_int_eq(keys_load_public(pub_path, pub, &err), 0);
    ck_assert(keys_verify(pub, "hello", 5, sig));

    keys_destroy(&loaded);
    keys_destroy(&keys);
    ck_assert_ptr_null(keys);
    keys_destroy(&keys); /* accepts NULL */
    free(key_path);
    free(pub_path);
}

END_TEST

START_TEST(test_keys_file_modes)
{
    char *key_path = s_path("k.key");
    char *pub_path = s_path("k.pub");
    errbuf_t err;
    keys_t *keys = keys_generate();
    ck_assert_int_eq(keys_save(keys, key_path, pub_path, &err), 0);
    struct stat st;
    ck_assert_int_eq(stat(key_path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(stat(pub_path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0644);
    keys_destroy(&keys);
    free(key_path);
    free(pub_path);
}

END_TEST

START_TEST(test_keys_refuse_overwrite)
{
    char *key_path = s_path("k.key");
    char *pub_path = s_path("other.pub");
    errbuf_t err;
    keys_t *first = keys_generate();
    keys_t *second = keys_generate();
    ck_assert_int_eq(keys_save(first, key_path, NULL, &err), 0);
    ck_assert_int_eq(keys_save(second, key_path, pub_path, &err), -1);
    ck_assert_msg(strstr(err.msg, key_path), "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "already exists"), "%s", err.msg);
    /* Nothing was written for the refused key, and the first key is intact. */
    ck_assert(access(pub_path, F_OK) != 0);
    keys_t *loaded = keys_load(key_path, &err);
    ck_assert_ptr_nonnull(loaded);
    ck_assert_mem_eq(keys_public(loaded), keys_public(first), KEYS_PUBLIC_SIZE);
    keys_destroy(&loaded);
    keys_destroy(&first);
    keys_destroy(&second);
    free(key_path);
    free(pub_path);
}

END_TEST

START_TEST(test_keys_refuse_open_secret)
{
    char *key_path = s_path("k.key");
    errbuf_t err;
    keys_t *keys = keys_generate();
    ck_assert_int_eq(keys_save(keys, key_path, NULL, &err), 0);
    ck_assert_int_eq(chmod(key_path, 0644), 0);
    ck_assert_ptr_null(keys_load(key_path, &err));
    ck_assert_msg(strstr(err.msg, "chmod 600"), "%s", err.msg);
    ck_assert_msg(strstr(err.msg, key_path), "%s", err.msg);
    keys_destroy(&keys);
    free(key_path);
}

END_TEST

START_TEST(test_keys_refuse_bad_files)
{
    char *bad = s_path("bad.key");
    errbuf_t err;
    /* Missing. */
    ck_assert_ptr_null(keys_load(bad, &err));
    ck_assert_msg(strstr(err.msg, bad), "%s", err.msg);
    /* Garbage, and a public key where a secret one belongs. */
    static const char *const texts[] = {
        "hello\n",
        "sluice-ed25519-secret 00\n",
        "sluice-ed25519-public "
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        FILE *file = fopen(bad, "w");
        ck_assert_ptr_nonnull(file);
        fputs(texts[i], file);
        fclose(file);
        ck_assert_int_eq(chmod(bad, 0600), 0);
        ck_assert_ptr_null(keys_load(bad, &err));
        ck_assert_msg(strstr(err.msg, "not a sluice secret key"), "%s",
                      err.msg);
        uint8_t pub[KEYS_PUBLIC_SIZE];
        int rc = keys_load_public(bad, pub, &err);
        ck_assert_int_eq(rc, i == 2 ? 0 : -1);
    }
    free(bad);
}

END_TEST

START_TEST(test_keys_sign_verify)
{
    keys_t *alice = keys_generate();
    keys_t *mallory = keys_generate();
    const char data[] = "run task 'train' on w1";
    uint8_t sig[KEYS_SIG_SIZE];
    keys_sign(alice, data, sizeof data, sig);
    ck_assert(keys_verify(keys_public(alice), data, sizeof data, sig));
    ck_assert(!keys_verify(keys_public(mallory), data, sizeof data, sig));
    ck_assert(!keys_verify(keys_public(alice), data, sizeof data - 1, sig));
    sig[10] ^= 0x01;
    ck_assert(!keys_verify(keys_public(alice), data, sizeof data, sig));
    /* Empty data signs and verifies too. */
    keys_sign(alice, NULL, 0, sig);
    ck_assert(keys_verify(keys_public(alice), NULL, 0, sig));
    keys_destroy(&alice);
    keys_destroy(&mallory);
}

END_TEST

START_TEST(test_keys_hex_round_trip)
{
    keys_t *keys = keys_generate();
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(keys_public(keys), hex);
    ck_assert_uint_eq(strlen(hex), KEYS_PUBLIC_SIZE * 2);
    uint8_t back[KEYS_PUBLIC_SIZE];
    ck_assert_int_eq(keys_public_from_hex(hex, back), 0);
    ck_assert_mem_eq(back, keys_public(keys), KEYS_PUBLIC_SIZE);

    ck_assert_int_eq(keys_public_from_hex(NULL, back), -1);
    ck_assert_int_eq(keys_public_from_hex("", back), -1);
    hex[63] = '\0';
    ck_assert_int_eq(keys_public_from_hex(hex, back), -1); /* short */
    hex[63] = 'g';
    ck_assert_int_eq(keys_public_from_hex(hex, back), -1); /* not hex */
    char longer[KEYS_HEX_SIZE + 2];
    keys_public_hex(keys_public(keys), longer);
    strcat(longer, "00");
    ck_assert_int_eq(keys_public_from_hex(longer, back), -1);
    keys_destroy(&keys);
}

END_TEST

START_TEST(test_keys_fingerprint)
{
    uint8_t pub[KEYS_PUBLIC_SIZE] = {0};
    char fp[KEYS_FP_SIZE];
    char again[KEYS_FP_SIZE];
    keys_fingerprint(pub, fp);
    /* "xxxx:xxxx:xxxx:xxxx", lowercase hex. */
    ck_assert_uint_eq(strlen(fp), 19);
    for (int i = 0; i < 19; i++) {
        if (i % 5 == 4) {
            ck_assert_int_eq(fp[i], ':');
        } else {
            ck_assert(isxdigit((unsigned char) fp[i]));
            ck_assert(!isupper((unsigned char) fp[i]));
        }
    }
    keys_fingerprint(pub, again);
    ck_assert_str_eq(fp, again);
    pub[31] = 1;
    keys_fingerprint(pub, again);
    ck_assert_str_ne(fp, again);
}

END_TEST

Suite *
keys_suite(void)
{
    Suite *s = suite_create("keys");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_keys_usage);
    tcase_add_test(tc, test_keys_file_modes);
    tcase_add_test(tc, test_keys_refuse_overwrite);
    tcase_add_test(tc, test_keys_refuse_open_secret);
    tcase_add_test(tc, test_keys_refuse_bad_files);
    tcase_add_test(tc, test_keys_sign_verify);
    tcase_add_test(tc, test_keys_hex_round_trip);
    tcase_add_test(tc, test_keys_fingerprint);
    suite_add_tcase(s, tc);
    return s;
}
