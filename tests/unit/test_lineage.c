/* Hashing of files and directories (worker/datahash) and the lineage
 * queries of the store (scheduler/store_lineage). */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "scheduler/store/store_lineage.h"
#include "tests/unit/suites.h"
#include "common/datahash.h"

static char s_dir[64];

static void
s_setup(void)
{
    ck_assert_int_ge(sodium_init(), 0);
    strcpy(s_dir, "/tmp/sluice-lineage-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void
s_teardown(void)
{
    char *cmd = xasprintf("rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static char *
s_write(const char *rel, const void *data, size_t len)
{
    char *path = xasprintf("%s/%s", s_dir, rel);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return path;
}

static void
s_expect_hex(const void *data, size_t len, const char *hex)
{
    uint8_t hash[32];
    crypto_generichash(hash, sizeof hash, data, len, NULL, 0);
    char want[DATAHASH_HEX_SIZE];
    sodium_bin2hex(want, sizeof want, hash, sizeof hash);
    ck_assert_str_eq(hex, want);
}

/* BLAKE2b-256 of "abc", as `printf abc | b2sum -l 256` prints it. */
#define S_ABC_HASH                                                             \
    "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"

START_TEST(test_hash_file)
{
    char *path = s_write("abc.txt", "abc", 3);
    char hex[DATAHASH_HEX_SIZE];
    uint64_t size = 0;
    bool missing = true;
    errbuf_t err;
    ck_assert_int_eq(datahash_path(path, hex, &size, &missing, &err), 0);
    ck_assert_str_eq(hex, S_ABC_HASH);
    ck_assert_uint_eq(size, 3);
    ck_assert(!missing);
    free(path);
    /* Over one 1 MiB block: streamed, the same as hashing it whole. */
    size_t len = DATAHASH_BLOCK * 2 + 17;
    uint8_t *big = xmalloc(len);
    for (size_t i = 0; i < len; i++) {
        big[i] = (uint8_t) (i * 31 + 7);
    }
    path = s_write("big.bin", big, len);
    ck_assert_int_eq(datahash_path(path, hex, &size, &missing, &err), 0);
    s_expect_hex(big, len, hex);
    ck_assert_uint_eq(size, len);
    free(big);
    free(path);
    /* Missing: said so. */
    path = xasprintf("%s/nope", s_dir);
    ck_assert_int_eq(datahash_path(path, hex, &size, &missing, &err), -1);
    ck_assert(missing);
    free(path);
}

END_TEST

START_TEST(test_hash_dir)
{
    char *sub = xasprintf("%s/d", s_dir);
    char *subsub = xasprintf("%s/d/z", s_dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_eq(mkdir(subsub, 0700), 0);
    free(s_write("d/b.txt", "abc", 3));
    free(s_write("d/z/a.txt", "hello", 5));
    char hex[DATAHASH_HEX_SIZE], again[DATAHASH_HEX_SIZE];
    uint64_t size = 0;
    bool missing;
    errbuf_t err;
    ck_assert_int_eq(datahash_path(sub, hex, &size, &missing, &err), 0);
    ck_assert_uint_eq(size, 8);
    /* The manifest: sorted relative paths, sizes and file hashes. */
    uint8_t h5[32];
    crypto_generichash(h5, sizeof h5, (const uint8_t *) "hello", 5, NULL, 0);
    char hello[DATAHASH_HEX_SIZE];
    sodium_bin2hex(hello, sizeof hello, h5, sizeof h5);
    char *manifest =
        xasprintf("b.txt\t3\t%s\nz/a.txt\t5\t%s\n", S_ABC_HASH, hello);
    s_expect_hex(manifest, strlen(manifest), hex);
    free(manifest);
    /* Deterministic, and a changed byte changes it. */
    ck_assert_int_eq(datahash_path(sub, again, &size, &missing, &err), 0);
    ck_assert_str_eq(hex, again);
    free(s_write("d/z/a.txt", "hellO", 5));
    ck_assert_int_eq(datahash_path(sub, again, &size, &missing, &err), 0);
    ck_assert_str_ne(hex, again);
    free(sub);
    free(subsub);
}

END_TEST

START_TEST(test_hash_refuses_what_is_not_data)
{
    /* A link anywhere in the path, '..', a FIFO, a socket-like device,
     * /proc and /sys, a link loop: each refused with the path named,
     * never followed or opened for reading. */
    char *real = s_write("real.csv", "abc", 3);
    char *dir = xasprintf("%s/d", s_dir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    char *cmd = xasprintf("cd '%s' && ln -s real.csv link.csv && ln -s d "
                          "dlink && echo x > d/f && mkfifo fifo && ln -s "
                          "loop1 loop2 && ln -s loop2 loop1 && ln -s /etc etc",
                          s_dir);
    ck_assert_int_eq(system(cmd), 0);

    static const struct {
        const char *rel; /* below s_dir; NULL: absolute in abs */
        const char *abs;
        const char *says;
    } cases[] = {
        {"link.csv", NULL, "symbolic link"},
        {"dlink/f", NULL, "on its way is a symbolic link"},
        {"etc/shadow", NULL, "on its way is a symbolic link"},
        {"d/../real.csv", NULL, "'..'"},
        {"fifo", NULL, "is a FIFO"},
        {"loop1", NULL, "symbolic link"},
        {NULL, "/proc/version", "/proc or /sys"},
        {NULL, "/sys/kernel/mm", "/proc or /sys"},
        {NULL, "/dev/null", "is a device"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = cases[i].rel ? xasprintf("%s/%s", s_dir, cases[i].rel)
                                  : xstrdup(cases[i].abs);
        char hex[DATAHASH_HEX_SIZE];
        uint64_t size = 0;
        bool missing = true;
        errbuf_t err;
        ck_assert_int_eq(datahash_path(path, hex, &size, &missing, &err), -1);
        ck_assert(!missing);
        ck_assert_msg(strstr(err.msg, cases[i].says) && strstr(err.msg, path),
                      "%s: %s", path, err.msg);
        free(path);
    }
    /* Inside a directory, links and the FIFO are left out, not followed. */
    char hex[DATAHASH_HEX_SIZE];
    uint64_t size = 0;
    bool missing = false;
    errbuf_t err;
    ck_assert_int_eq(datahash_path(s_dir, hex, &size, &missing, &err), 0);
    ck_assert_uint_eq(size, 3 + 2); /* real.csv and d/f only */
    free(cmd);
    free(dir);
    free(real);
}

END_TEST

START_TEST(test_refs_and_resolve)
{
    free(s_write("out.csv", "abc", 3));
    errbuf_t err;
    char *p = datahash_resolve("file:///x/y", "/w", &err);
    ck_assert_str_eq(p, "/x/y");
    free(p);
    p = datahash_resolve("rel/y", "/w", &err);
    ck_assert_str_eq(p, "/w/rel/y");
    free(p);
    ck_assert_ptr_null(datahash_resolve("s3://b/k", "/w", &err));
    char *declared[] = {"out.csv", "missing.csv"};
    datahash_ref_t *refs = NULL;
    size_t count = 0;
    /* Inputs: the missing one is left out. */
    ck_assert_int_eq(
        datahash_refs(declared, 2, s_dir, true, &refs, &count, &err), 0);
    ck_assert_uint_eq(count, 1);
    char real[4096];
    ck_assert_ptr_nonnull(realpath(s_dir, real));
    char *uri = xasprintf("file://%s/out.csv", real);
    ck_assert_str_eq(refs[0].uri, uri);
    ck_assert_str_eq(refs[0].hash, S_ABC_HASH);
    free(uri);
    /* Outputs: the missing one fails, named. */
    ck_assert_int_eq(
        datahash_refs(declared, 2, s_dir, false, &refs, &count, &err), -1);
    char *want =
        xasprintf("declared output '%s/missing.csv' was not written", s_dir);
    ck_assert_str_eq(errbuf_msg(&err), want);
    free(want);
    datahash_refs_free(&refs, count);
}

END_TEST

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

START_TEST(test_store_lineage)
{
    store_t *store = s_store();
    errbuf_t err;
    store_dataset_ref_t raw = {"file:///d/raw", "aaaa1111", 10};
    store_dataset_ref_t clean = {"file:///d/clean", "bbbb2222", 5};
    store_dataset_ref_t raw2 = {"file:///d/raw", "cccc3333", 11};
    ck_assert_int_eq(store_begin(store, &err), 0);
    /* Attempt 1 wrote raw; 2 read it and wrote clean; 3 read an outside
     * file and wrote a new raw. */
    ck_assert_int_eq(
        store_lineage_record(store, 1, NULL, 0, &raw, 1, 100, &err), 0);
    ck_assert_int_eq(
        store_lineage_record(store, 2, &raw, 1, &clean, 1, 200, &err), 0);
    store_dataset_ref_t outside = {"file:///etc/x", "dddd4444", 1};
    ck_assert_int_eq(
        store_lineage_record(store, 3, &outside, 1, &raw2, 1, 300, &err), 0);
    ck_assert_int_eq(store_commit(store, &err), 0);

    store_dataset_t v;
    ck_assert_int_eq(store_dataset_find(store, "file:///d/raw", &v, &err), 1);
    ck_assert_str_eq(v.hash, "cccc3333"); /* the latest */
    ck_assert_uint_eq(v.produced_by, 3);
    store_dataset_clear(&v);
    ck_assert_int_eq(store_dataset_find(store, "aaaa", &v, &err), 1);
    ck_assert_str_eq(v.uri, "file:///d/raw");
    ck_assert_uint_eq(v.produced_by, 1);
    uint64_t raw1 = v.id;
    store_dataset_clear(&v);
    ck_assert_int_eq(store_dataset_find(store, "eeee", &v, &err), 0);
    ck_assert_int_eq(store_dataset_find(store, "file:///none", &v, &err), 0);
    ck_assert_int_eq(store_dataset_find(store, "dddd", &v, &err), 1);
    ck_assert_uint_eq(v.produced_by, 0); /* outside: no producer */
    store_dataset_clear(&v);

    uint64_t *ids;
    size_t n;
    ck_assert_int_eq(
        store_lineage_ids(store, STORE_LINEAGE_READERS, raw1, &ids, &n, &err),
        0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ids[0], 2);
    free(ids);
    ck_assert_int_eq(
        store_lineage_ids(store, STORE_LINEAGE_READ, 2, &ids, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(ids[0], raw1);
    free(ids);
    ck_assert_int_eq(
        store_lineage_ids(store, STORE_LINEAGE_WROTE, 2, &ids, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(store_dataset_get(store, ids[0], &v, &err), 1);
    ck_assert_str_eq(v.uri, "file:///d/clean");
    store_dataset_clear(&v);
    free(ids);

    store_dataset_t *rows;
    uint32_t *counts;
    ck_assert_int_eq(store_datasets_latest(store, 10, &rows, &counts, &n, &err),
                     0);
    ck_assert_uint_eq(n, 3); /* raw, /etc/x, clean: newest first */
    ck_assert_str_eq(rows[0].uri, "file:///d/raw");
    ck_assert_str_eq(rows[0].hash, "cccc3333");
    ck_assert_uint_eq(counts[0], 2);
    ck_assert_str_eq(rows[2].uri, "file:///d/clean");
    for (size_t i = 0; i < n; i++) {
        store_dataset_clear(&rows[i]);
    }
    free(rows);
    free(counts);
    store_lineage_attempt_t a;
    ck_assert_int_eq(store_lineage_attempt(store, 99, &a, &err), 0);
    store_destroy(&store);
}

END_TEST

Suite *
lineage_suite(void)
{
    Suite *s = suite_create("lineage");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_hash_file);
    tcase_add_test(tc, test_hash_dir);
    tcase_add_test(tc, test_hash_refuses_what_is_not_data);
    tcase_add_test(tc, test_refs_and_resolve);
    tcase_add_test(tc, test_store_lineage);
    suite_add_tcase(s, tc);
    return s;
}
