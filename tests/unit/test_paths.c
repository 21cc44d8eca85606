/* paths: declared inputs and outputs against a worker's data roots, judged
 * where the kernel would really lead, symlinks and '..' included. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/suites.h"
#include "worker/paths.h"

static char s_dir[512]; /* resolved temp dir */
static char s_root[PATH_MAX];
static char s_work[PATH_MAX];

static void
s_path(char *out, const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", s_dir, name);
}

static void
s_setup(void)
{
    char tmpl[] = "/tmp/sluice-paths-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    char real[PATH_MAX];
    ck_assert_ptr_nonnull(realpath(tmpl, real));
    ck_assert_uint_lt(strlen(real), sizeof s_dir);
    memcpy(s_dir, real, strlen(real) + 1);
    char p[PATH_MAX];
    s_path(s_root, "data");
    ck_assert_int_eq(mkdir(s_root, 0700), 0);
    s_path(p, "data/sub");
    ck_assert_int_eq(mkdir(p, 0700), 0);
    s_path(p, "outside");
    ck_assert_int_eq(mkdir(p, 0700), 0);
    s_path(p, "data/escape");
    ck_assert_int_eq(symlink("../outside", p), 0);
    s_path(p, "data/inner");
    ck_assert_int_eq(symlink("sub", p), 0);
    s_path(p, "work");
    ck_assert_int_eq(mkdir(p, 0700), 0);
    s_path(s_work, "work/42"); /* does not exist yet, as before a start */
}

static void
s_teardown(void)
{
    char cmd[sizeof s_dir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int
s_check(const char *path)
{
    char *roots[] = {s_root};
    errbuf_t err;
    return paths_check(path, s_work, roots, 1, &err);
}

START_TEST(test_paths_usage)
{
    /* A worker with --data-root DATA: paths under it pass, others do not. */
    char p[PATH_MAX];
    s_path(p, "data/sub/in.csv");
    ck_assert_int_eq(s_check(p), 0);
    s_path(p, "data/new/dir/out.csv"); /* not there yet: judged by name */
    ck_assert_int_eq(s_check(p), 0);
    ck_assert_int_eq(s_check(s_root), 0);
    char *roots[] = {s_root};
    errbuf_t err;
    ck_assert_int_eq(paths_check("/etc/passwd", s_work, roots, 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "'/etc/passwd'"));
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), s_root));
}

END_TEST

START_TEST(test_paths_symlink_escape)
{
    char p[PATH_MAX];
    s_path(p, "data/escape/secret.txt"); /* data/escape -> ../outside */
    ck_assert_int_eq(s_check(p), -1);
    s_path(p, "data/escape/not-yet/out.csv");
    ck_assert_int_eq(s_check(p), -1);
    s_path(p, "data/escape");
    ck_assert_int_eq(s_check(p), -1);
    s_path(p, "data/inner/x.csv"); /* a symlink that stays inside */
    ck_assert_int_eq(s_check(p), 0);
    errbuf_t err;
    char *real = paths_resolve(p, NULL, &err);
    ck_assert_ptr_nonnull(real);
    char want[PATH_MAX];
    s_path(want, "data/sub/x.csv");
    ck_assert_str_eq(real, want);
    free(real);
}

END_TEST

START_TEST(test_paths_dotdot)
{
    char p[PATH_MAX];
    s_path(p, "data/sub/../../outside/x"); /* existing parts: resolved */
    ck_assert_int_eq(s_check(p), -1);
    s_path(p, "data/sub/../in.csv");
    ck_assert_int_eq(s_check(p), 0);
    /* Below a part that does not exist, '..' is refused outright: where it
     * leads depends on what is created there first. */
    s_path(p, "data/nothing/../../outside/x");
    errbuf_t err;
    char *roots[] = {s_root};
    ck_assert_int_eq(paths_check(p, s_work, roots, 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "'..'"));
    s_path(p, "data/nothing/../in.csv");
    ck_assert_int_eq(s_check(p), -1);
    ck_assert_int_eq(s_check("../../outside/x"), -1); /* from the work dir */
}

END_TEST

START_TEST(test_paths_work_dir)
{
    /* Relative paths are the attempt's own work dir: always allowed. */
    ck_assert_int_eq(s_check("out.csv"), 0);
    ck_assert_int_eq(s_check("./sub/out.csv"), 0);
    ck_assert_int_eq(s_check("file://out.csv"), 0);
    char p[PATH_MAX];
    s_path(p, "work/42/abs.csv");
    ck_assert_int_eq(s_check(p), 0);
    s_path(p, "work/43/other.csv"); /* another attempt's */
    ck_assert_int_eq(s_check(p), -1);
    char uri[PATH_MAX + 8];
    snprintf(uri, sizeof uri, "file://%s/data/a.csv", s_dir);
    ck_assert_int_eq(s_check(uri), 0);
    ck_assert_int_eq(s_check("s3://bucket/key"), -1);
    ck_assert_int_eq(s_check(""), -1);
}

END_TEST

START_TEST(test_paths_under)
{
    ck_assert(paths_under("/data", "/data"));
    ck_assert(paths_under("/data/x", "/data"));
    ck_assert(!paths_under("/database", "/data"));
    ck_assert(!paths_under("/dat", "/data"));
    ck_assert(paths_under("/anything", "/"));
}

END_TEST

Suite *
paths_suite(void)
{
    Suite *s = suite_create("paths");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_paths_usage);
    tcase_add_test(tc, test_paths_symlink_escape);
    tcase_add_test(tc, test_paths_dotdot);
    tcase_add_test(tc, test_paths_work_dir);
    tcase_add_test(tc, test_paths_under);
    suite_add_tcase(s, tc);
    return s;
}
