/* outbox: durable results until acknowledged. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "worker/outbox.h"
#include "tests/unit/suites.h"

static char s_root[64];
static char s_dir[96];

static void
s_setup(void)
{
    snprintf(s_root, sizeof s_root, "/tmp/sluice-outbox-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_root));
    snprintf(s_dir, sizeof s_dir, "%s/outbox", s_root);
}

static void
s_teardown(void)
{
    char *cmd = NULL;
    ck_assert_int_gt(asprintf(&cmd, "rm -rf '%s'", s_root), 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

typedef struct {
    uint64_t ids[8];
    char data[8][32];
    size_t count;
} seen_t;

static void
s_collect(void *arg, uint64_t attempt_id, const void *data, size_t size)
{
    seen_t *seen = arg;
    ck_assert_uint_lt(seen->count, 8);
    ck_assert_uint_lt(size, 32);
    seen->ids[seen->count] = attempt_id;
    memcpy(seen->data[seen->count], data, size);
    seen->data[seen->count][size] = '\0';
    seen->count++;
}

START_TEST(test_outbox_usage)
{
    /* Put a result before sending it; ack deletes it. */
    errbuf_t err;
    outbox_t *box = outbox_open(s_dir, &err);
    ck_assert_ptr_nonnull(box);
    ck_assert_uint_eq(outbox_size(box), 0);
    ck_assert_int_eq(outbox_put(box, 812, "result-812", 10, &err), 0);
    ck_assert(outbox_has(box, 812));
    char path[160];
    snprintf(path, sizeof path, "%s/%s", s_dir, OUTBOX_JOURNAL);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_gt(st.st_size, 10);
    ck_assert_int_eq(st.st_mode & 077, 0);
    ck_assert_int_eq(outbox_ack(box, 812), 0);
    ck_assert(!outbox_has(box, 812));
    ck_assert_int_eq(outbox_ack(box, 812), -1);
    outbox_destroy(&box);
    ck_assert_ptr_null(box);
    box = outbox_open(s_dir, &err); /* the ack is on disk too */
    ck_assert_uint_eq(outbox_size(box), 0);
    outbox_destroy(&box);
}

END_TEST

START_TEST(test_outbox_reload)
{
    errbuf_t err;
    outbox_t *box = outbox_open(s_dir, &err);
    ck_assert_int_eq(outbox_put(box, 30, "thirty", 6, &err), 0);
    ck_assert_int_eq(outbox_put(box, 4, "four", 4, &err), 0);
    ck_assert_int_eq(outbox_put(box, 1000, "k", 1, &err), 0);
    ck_assert_int_eq(outbox_put(box, 30, "thirty-2", 8, &err), 0);
    ck_assert_int_eq(outbox_ack(box, 1000), 0);
    outbox_destroy(&box);

    /* A stale temp file and a stranger are not entries. */
    char path[160];
    snprintf(path, sizeof path, "%s/77.result.tmp", s_dir);
    FILE *f = fopen(path, "w");
    fputs("half", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/notes.txt", s_dir);
    f = fopen(path, "w");
    fclose(f);

    box = outbox_open(s_dir, &err);
    ck_assert_ptr_nonnull(box);
    ck_assert_uint_eq(outbox_size(box), 2);
    seen_t seen = {0};
    outbox_each(box, s_collect, &seen);
    ck_assert_uint_eq(seen.count, 2);
    ck_assert_uint_eq(seen.ids[0], 4);
    ck_assert_str_eq(seen.data[0], "four");
    ck_assert_uint_eq(seen.ids[1], 30);
    ck_assert_str_eq(seen.data[1], "thirty-2");
    snprintf(path, sizeof path, "%s/77.result.tmp", s_dir);
    ck_assert_int_ne(access(path, F_OK), 0);
    outbox_destroy(&box);
}

END_TEST

static void
s_write(const char *name, const char *text, const char *mode)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, mode);
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_outbox_takes_over_result_files)
{
    /* An older worker kept one file per result: they become entries, and
     * the files go once the journal holds them. */
    errbuf_t err;
    outbox_t *box = outbox_open(s_dir, &err);
    ck_assert_int_eq(outbox_put(box, 9, "journal-9", 9, &err), 0);
    outbox_destroy(&box);
    s_write("55.result", "file-55", "w");
    s_write("9.result", "older-9", "w");
    box = outbox_open(s_dir, &err);
    ck_assert_ptr_nonnull(box);
    seen_t seen = {0};
    outbox_each(box, s_collect, &seen);
    ck_assert_uint_eq(seen.count, 2);
    ck_assert_str_eq(seen.data[0], "journal-9"); /* the journal wins */
    ck_assert_str_eq(seen.data[1], "file-55");
    char path[160];
    snprintf(path, sizeof path, "%s/55.result", s_dir);
    ck_assert_int_ne(access(path, F_OK), 0);
    outbox_destroy(&box);
    box = outbox_open(s_dir, &err);
    ck_assert_uint_eq(outbox_size(box), 2);
    outbox_destroy(&box);
}

END_TEST

START_TEST(test_outbox_damaged_tail_keeps_the_rest)
{
    /* The machine stopped mid-write: what came before still loads, and
     * the journal takes new results after it. */
    errbuf_t err;
    outbox_t *box = outbox_open(s_dir, &err);
    ck_assert_int_eq(outbox_put(box, 1, "one", 3, &err), 0);
    ck_assert_int_eq(outbox_put(box, 2, "two", 3, &err), 0);
    outbox_destroy(&box);
    s_write(OUTBOX_JOURNAL, "SLRP\x05garbage", "a");
    box = outbox_open(s_dir, &err);
    ck_assert_ptr_nonnull(box);
    ck_assert_uint_eq(outbox_size(box), 2);
    ck_assert_int_eq(outbox_put(box, 3, "three", 5, &err), 0);
    outbox_destroy(&box);
    box = outbox_open(s_dir, &err);
    ck_assert_uint_eq(outbox_size(box), 3);
    outbox_destroy(&box);
}

END_TEST

START_TEST(test_outbox_journal_stays_small)
{
    /* Many puts and acks: the journal does not grow without bound. */
    errbuf_t err;
    outbox_t *box = outbox_open(s_dir, &err);
    char big[4096];
    memset(big, 'r', sizeof big);
    ck_assert_int_eq(outbox_put(box, 1, "kept", 4, &err), 0);
    for (uint64_t id = 2; id < 2000; id++) {
        ck_assert_int_eq(outbox_put(box, id, big, sizeof big, &err), 0);
        ck_assert_int_eq(outbox_ack(box, id), 0);
    }
    char path[160];
    snprintf(path, sizeof path, "%s/%s", s_dir, OUTBOX_JOURNAL);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_lt(st.st_size, 4 << 20);
    outbox_destroy(&box);
    box = outbox_open(s_dir, &err);
    ck_assert_uint_eq(outbox_size(box), 1);
    ck_assert(outbox_has(box, 1));
    outbox_destroy(&box);
}

END_TEST

START_TEST(test_outbox_private_dir)
{
    errbuf_t err;
    outbox_t *box = outbox_open(s_dir, &err);
    ck_assert_ptr_nonnull(box);
    struct stat st;
    ck_assert_int_eq(stat(s_dir, &st), 0);
    ck_assert_int_eq(st.st_mode & 077, 0);
    outbox_destroy(&box);
    outbox_destroy(&box); /* accepts NULL */
}

END_TEST

START_TEST(test_outbox_unwritable)
{
    errbuf_t err;
    errbuf_clear(&err);
    outbox_t *box = outbox_open("/proc/sluice-no/outbox", &err);
    ck_assert_ptr_null(box);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "cannot create"));
}

END_TEST

Suite *
outbox_suite(void)
{
    Suite *s = suite_create("outbox");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_outbox_usage);
    tcase_add_test(tc, test_outbox_reload);
    tcase_add_test(tc, test_outbox_takes_over_result_files);
    tcase_add_test(tc, test_outbox_damaged_tail_keeps_the_rest);
    tcase_add_test(tc, test_outbox_journal_stays_small);
    tcase_add_test(tc, test_outbox_private_dir);
    tcase_add_test(tc, test_outbox_unwritable);
    suite_add_tcase(s, tc);
    return s;
}
