/* uids: each attempt of a root worker gets a uid no one else holds, and
 * gets it back only when nothing runs as it any more. Taking and releasing
 * need root (they lock, change ids and kill); the range syntax does not. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/suites.h"
#include "worker/uids.h"

/* A range that no account uses on a test machine: the group, then three
 * uids. */
#define T_FIRST 61990
#define T_LAST  61993

static char s_dir[64];

static void
s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/sluice-uids-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void
s_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
}

static uids_t *
s_new(void)
{
    char locks[128];
    snprintf(locks, sizeof locks, "%s/locks", s_dir);
    errbuf_t err;
    uids_t *uids = uids_new(T_FIRST, T_LAST, locks, &err);
    ck_assert_msg(uids != NULL, "%s", errbuf_msg(&err));
    return uids;
}

/* A process that becomes uid and sleeps (its parent is this test). */
static pid_t
s_sleeper(uid_t uid)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (syscall(SYS_setgroups, 0, NULL) < 0 ||
            syscall(SYS_setgid, uid) < 0 || syscall(SYS_setuid, uid) < 0) {
            _exit(1);
        }
        pause();
        _exit(0);
    }
    for (int i = 0; i < 200 && uids_processes(uid) == 0; i++) {
        usleep(10000);
    }
    return pid;
}

START_TEST(test_uids_usage)
{
    if (geteuid() != 0) {
        return;
    }
    uids_t *uids = s_new();
    exec_user_t a, b;
    errbuf_t err;
    ck_assert_int_eq(uids_take(uids, &a, &err), 0);
    ck_assert_int_eq(uids_take(uids, &b, &err), 0);
    ck_assert_uint_ne(a.uid, b.uid);
    ck_assert_uint_eq(a.gid, a.uid);
    ck_assert(a.per_attempt);
    ck_assert_uint_eq(a.shared, T_FIRST);
    ck_assert_uint_eq(uids_group(uids), T_FIRST);
    ck_assert_uint_gt(a.uid, T_FIRST); /* the first number is the group */
    ck_assert_uint_le(a.uid, T_LAST);
    char name[32];
    snprintf(name, sizeof name, "sluice-%u", (unsigned) a.uid);
    ck_assert_str_eq(a.name, name);
    ck_assert_uint_eq(uids_held(uids), 2);
    ck_assert_int_eq(uids_release(uids, a.uid), 0);
    ck_assert_uint_eq(uids_held(uids), 1);
    char locks[128];
    snprintf(locks, sizeof locks, "%s/locks", s_dir);
    struct stat st;
    ck_assert_int_eq(stat(locks, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
    uids_destroy(&uids);
    ck_assert_ptr_null(uids);
}

END_TEST

START_TEST(test_uids_two_workers_never_share)
{
    if (geteuid() != 0) {
        return;
    }
    /* Two sets over one lock dir, as two workers on one host. */
    uids_t *one = s_new();
    uids_t *two = s_new();
    exec_user_t got[3];
    errbuf_t err;
    ck_assert_int_eq(uids_take(one, &got[0], &err), 0);
    ck_assert_int_eq(uids_take(two, &got[1], &err), 0);
    ck_assert_int_eq(uids_take(one, &got[2], &err), 0);
    ck_assert_uint_ne(got[0].uid, got[1].uid);
    ck_assert_uint_ne(got[1].uid, got[2].uid);
    ck_assert_uint_ne(got[0].uid, got[2].uid);
    exec_user_t more;
    ck_assert_int_eq(uids_take(two, &more, &err), -1); /* all 3 taken */
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "widen --run-as-range"));
    ck_assert_int_eq(uids_release(one, got[0].uid), 0);
    ck_assert_int_eq(uids_take(two, &more, &err), 0);
    ck_assert_uint_eq(more.uid, got[0].uid);
    uids_destroy(&one);
    uids_destroy(&two);
}

END_TEST

START_TEST(test_uids_release_kills_what_is_left)
{
    if (geteuid() != 0) {
        return;
    }
    uids_t *uids = s_new();
    exec_user_t a;
    errbuf_t err;
    ck_assert_int_eq(uids_take(uids, &a, &err), 0);
    pid_t left = s_sleeper(a.uid); /* e.g. a daemon the task started */
    ck_assert_uint_eq(uids_processes(a.uid), 1);
    ck_assert_int_eq(uids_release(uids, a.uid), 1);
    int status = 0;
    ck_assert_int_eq(waitpid(left, &status, 0), left);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ck_assert_uint_eq(uids_processes(a.uid), 0);
    uids_destroy(&uids);
}

END_TEST

START_TEST(test_uids_busy_uid_skipped)
{
    if (geteuid() != 0) {
        return;
    }
    /* A process already runs as the first uid (a worker that crashed left
     * it): that uid is not handed out. */
    pid_t stray = s_sleeper(T_FIRST + 1);
    uids_t *uids = s_new();
    exec_user_t a;
    errbuf_t err;
    ck_assert_int_eq(uids_take(uids, &a, &err), 0);
    ck_assert_uint_eq(a.uid, T_FIRST + 2);
    kill(stray, SIGKILL);
    waitpid(stray, NULL, 0);
    uids_destroy(&uids);
}

END_TEST

START_TEST(test_uids_parse_range)
{
    uid_t first = 0, last = 0;
    errbuf_t err;
    ck_assert_int_eq(uids_parse_range("61000-61999", &first, &last, &err), 0);
    ck_assert_uint_eq(first, 61000);
    ck_assert_uint_eq(last, 61999);
    ck_assert_int_eq(uids_parse_range("7-8", &first, &last, &err), 0);
    static const char *const bad[] = {
        "7-7", "61000", "61999-61000",  "0-10", "-5-10",
        "a-b", "1-2x",  "1-4294967295", " 1-2", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(uids_parse_range(bad[i], &first, &last, &err) == -1,
                      "'%s' accepted", bad[i]);
        ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "FIRST-LAST"));
    }
}

END_TEST

Suite *
uids_suite(void)
{
    Suite *s = suite_create("uids");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_uids_usage);
    tcase_add_test(tc, test_uids_two_workers_never_share);
    tcase_add_test(tc, test_uids_release_kills_what_is_left);
    tcase_add_test(tc, test_uids_busy_uid_skipped);
    tcase_add_test(tc, test_uids_parse_range);
    suite_add_tcase(s, tc);
    return s;
}
