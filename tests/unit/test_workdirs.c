/* workdirs: which failed attempts' dirs go when, and a removal that
 * follows no link a task planted; hashjob: the records its child writes. */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/suites.h"
#include "worker/hashjob.h"
#include "worker/workdirs.h"

static char s_dir[64]; /* the test's temp dir */

static void
s_path(char *out, const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", s_dir, name);
}

static void
s_mkdir(const char *name)
{
    char p[PATH_MAX];
    s_path(p, name);
    ck_assert_int_eq(mkdir(p, 0700), 0);
}

static void
s_write(const char *name, const char *text)
{
    char p[PATH_MAX];
    s_path(p, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static bool
s_exists(const char *name)
{
    char p[PATH_MAX];
    s_path(p, name);
    struct stat st;
    return lstat(p, &st) == 0;
}

static void
s_setup(void)
{
    char tmpl[] = "/tmp/sluice-workdirs-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    snprintf(s_dir, sizeof s_dir, "%s", tmpl);
}

static void
s_teardown(void)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_workdirs_empty_follows_no_link)
{
    /* What a task could point its dir at, and the dir it leaves. */
    s_mkdir("victim");
    s_write("victim/precious", "keep me\n");
    s_mkdir("trash");
    s_mkdir("trash/7");
    s_mkdir("trash/7/sub");
    s_write("trash/7/sub/out.csv", "a,b\n");
    char p[PATH_MAX], target[PATH_MAX];
    s_path(target, "victim");
    s_path(p, "trash/7/dirlink");
    ck_assert_int_eq(symlink(target, p), 0);
    s_path(target, "victim/precious");
    s_path(p, "trash/7/sub/filelink");
    ck_assert_int_eq(symlink(target, p), 0);
    s_path(p, "trash/7/fifo");
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    /* Deeper than the dirs it holds open at once. */
    char deep[PATH_MAX] = "trash/7";
    for (int i = 0; i < 3 * WORKDIRS_MAX_DEPTH; i++) {
        strcat(deep, "/d");
        s_mkdir(deep);
    }
    s_path(p, "trash");
    int fd = open(p, O_RDONLY | O_DIRECTORY);
    ck_assert_int_ge(fd, 0);
    errbuf_t err;
    errbuf_clear(&err);
    ck_assert_msg(workdirs_empty(fd, &err) == 0, "%s", errbuf_msg(&err));
    close(fd);
    ck_assert(s_exists("trash"));
    ck_assert(!s_exists("trash/7"));
    ck_assert(s_exists("victim/precious"));
    s_path(p, "trash");
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", p);
    ck_assert_int_eq(system(cmd), 0);
}

END_TEST

START_TEST(test_workdirs_due_oldest_first)
{
    workdirs_kept_t kept[] = {{1, 1000}, {2, 2000}, {3, 3000}, {4, 4000}};
    /* Nothing is due before its time, and within the count. */
    ck_assert_uint_eq(workdirs_due(kept, 4, 1500, 1000, 10), 0);
    /* Kept for keep_ms or longer: due. */
    ck_assert_uint_eq(workdirs_due(kept, 4, 2000, 1000, 10), 1);
    ck_assert_uint_eq(workdirs_due(kept, 4, 3999, 1000, 10), 2);
    ck_assert_uint_eq(workdirs_due(kept, 4, 9999, 1000, 10), 4);
    /* Past the count the oldest go, whatever their age. */
    ck_assert_uint_eq(workdirs_due(kept, 4, 0, 1000, 2), 2);
    ck_assert_uint_eq(workdirs_due(kept, 4, 1500, 1000, 3), 1);
    ck_assert_uint_eq(workdirs_due(kept, 4, 3000, 1000, 3), 2);
    ck_assert_uint_eq(workdirs_due(kept, 4, 0, 1000, 0), 4);
    ck_assert_uint_eq(workdirs_due(kept, 0, 9999, 1000, 1), 0);
}

END_TEST

START_TEST(test_workdirs_kept_and_removed)
{
    s_mkdir("work");
    s_mkdir("work/5"); /* left by an earlier run: kept, from its time */
    char root[PATH_MAX];
    s_path(root, "work");
    workdirs_t *w = workdirs_new(root, 3600 * 1000, 2);
    ck_assert_uint_eq(workdirs_kept(w), 1);
    s_mkdir("work/6");
    s_mkdir("work/7");
    s_mkdir("work/8");
    workdirs_ended(w, 6, false); /* a success: gone at once */
    ck_assert(!s_exists("work/6"));
    workdirs_ended(w, 7, true);
    workdirs_ended(w, 8, true);
    ck_assert_uint_eq(workdirs_kept(w), 3);
    workdirs_service(w); /* at most 2: the oldest goes */
    ck_assert_uint_eq(workdirs_kept(w), 2);
    ck_assert(!s_exists("work/5"));
    ck_assert(s_exists("work/7"));
    ck_assert(s_exists("work/8"));
    workdirs_destroy(&w);
    ck_assert_ptr_null(w);
}

END_TEST

START_TEST(test_hashjob_parse_records)
{
    static const char hash[] = "0123456789abcdef0123456789abcdef"
                               "0123456789abcdef0123456789abcdef";
    char data[512];
    int n = snprintf(data, sizeof data, "R\t%s\t12\tfile:///data/a.csv", hash);
    data[n++] = '\0';
    n += snprintf(data + n, sizeof data - (size_t) n,
                  "W\tcannot read '/x': gone; it is left out of the lineage");
    data[n++] = '\0';
    datahash_ref_t *refs = NULL;
    size_t count = 0;
    errbuf_t err;
    ck_assert_int_eq(hashjob_parse(9, data, (size_t) n, &refs, &count, &err),
                     0);
    ck_assert_uint_eq(count, 1);
    ck_assert_str_eq(refs[0].hash, hash);
    ck_assert_uint_eq(refs[0].size, 12);
    ck_assert_str_eq(refs[0].uri, "file:///data/a.csv");
    /* The first failure stops it; what came before stays. */
    static const char failed[] = "E\tdeclared output '/o' was not written";
    ck_assert_int_eq(
        hashjob_parse(9, failed, sizeof failed, &refs, &count, &err), -1);
    ck_assert_str_eq(errbuf_msg(&err), "declared output '/o' was not written");
    ck_assert_uint_eq(count, 1);
    /* Cut short or malformed: refused. */
    ck_assert_int_eq(hashjob_parse(9, data, 20, &refs, &count, &err), -1);
    static const char bad[] = "R\tnothex\t1\tfile:///a";
    ck_assert_int_eq(hashjob_parse(9, bad, sizeof bad, &refs, &count, &err),
                     -1);
    ck_assert_uint_eq(count, 1);
    datahash_refs_free(&refs, count);
}

END_TEST

Suite *
workdirs_suite(void)
{
    Suite *s = suite_create("workdirs");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_workdirs_empty_follows_no_link);
    tcase_add_test(tc, test_workdirs_due_oldest_first);
    tcase_add_test(tc, test_workdirs_kept_and_removed);
    tcase_add_test(tc, test_hashjob_parse_records);
    suite_add_tcase(s, tc);
    return s;
}
