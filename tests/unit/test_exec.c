/* exec: child processes, pipes, caps, timeouts and group kills. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "worker/exec.h"
#include "tests/unit/suites.h"

/* What the log callback saw. */
typedef struct {
    char out[4096];
    size_t out_len;
    size_t out_bytes; /* all stdout bytes, even past the buffer */
    char err[4096];
    size_t err_len;
    char note[256];
    uint64_t last_seq;
    bool seq_ok;
} capture_t;

static void
s_on_log(void *arg,
         exec_t *exec,
         int stream,
         uint64_t seq,
         const void *data,
         size_t size)
{
    (void) exec;
    capture_t *c = arg;
    c->seq_ok = c->seq_ok && seq == c->last_seq + 1;
    c->last_seq = seq;
    ck_assert_uint_le(size, EXEC_CHUNK_MAX);
    char *buf = stream == 1 ? c->out : stream == 2 ? c->err : c->note;
    size_t cap = stream == 3 ? sizeof c->note : sizeof c->out;
    size_t *len = stream == 1 ? &c->out_len : stream == 2 ? &c->err_len : NULL;
    size_t note_len = strlen(c->note);
    size_t at = len ? *len : note_len;
    size_t take = size < cap - 1 - at ? size : cap - 1 - at;
    memcpy(buf + at, data, take);
    buf[at + take] = '\0';
    if (len) {
        *len += take;
    }
    if (stream == 1) {
        c->out_bytes += size;
    }
}

static char s_root[64];

static void
s_setup(void)
{
    snprintf(s_root, sizeof s_root, "/tmp/sluice-exec-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_root));
}

static void
s_teardown(void)
{
    char *cmd = NULL;
    ck_assert_int_gt(asprintf(&cmd, "rm -rf '%s'", s_root), 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static exec_spec_t
s_spec(const char *command, capture_t *c)
{
    memset(c, 0, sizeof *c);
    c->seq_ok = true;
    return (exec_spec_t){.attempt_id = 812,
                         .run_id = 12,
                         .dag = "hello",
                         .task_id = "left",
                         .attempt = 1,
                         .logical_date = "2026-11-26",
                         .command = command,
                         .work_root = s_root,
                         .kill_grace_ms = 200,
                         .on_log = s_on_log,
                         .arg = c};
}

static exec_t *
s_run(const exec_spec_t *spec)
{
    exec_t *e = exec_start(spec);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(exec_wait(e, 10000), 0);
    return e;
}

START_TEST(test_exec_usage)
{
    /* Run a command, collect its output and its outcome. */
    capture_t c;
    exec_spec_t spec = s_spec("echo hi", &c);
    exec_t *e = s_run(&spec);
    const exec_result_t *r = exec_result(e);
    ck_assert_int_eq(r->outcome, EXEC_EXITED);
    ck_assert_int_eq(r->exit_code, 0);
    ck_assert_str_eq(c.out, "hi\n");
    ck_assert_str_eq(c.err, "");
    ck_assert(c.seq_ok);
    ck_assert_uint_eq(r->log_chunks, 1);
    ck_assert_uint_eq(r->log_bytes, 3);
    ck_assert(!r->log_truncated);
    ck_assert_uint_gt(r->peak_rss_kb, 0);
    ck_assert_int_ge(r->ended_ms, r->started_ms);
    ck_assert_int_ge(r->duration_ms, 0);
    exec_destroy(&e);
    ck_assert_ptr_null(e);
}

END_TEST

START_TEST(test_exec_stderr_separate)
{
    capture_t c;
    exec_spec_t spec = s_spec("echo out; echo err >&2", &c);
    exec_t *e = s_run(&spec);
    ck_assert_str_eq(c.out, "out\n");
    ck_assert_str_eq(c.err, "err\n");
    ck_assert_int_eq(exec_result(e)->outcome, EXEC_EXITED);
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_exit_code)
{
    capture_t c;
    exec_spec_t spec = s_spec("exit 3", &c);
    exec_t *e = s_run(&spec);
    ck_assert_int_eq(exec_result(e)->outcome, EXEC_EXITED);
    ck_assert_int_eq(exec_result(e)->exit_code, 3);
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_signaled)
{
    capture_t c;
    exec_spec_t spec = s_spec("kill -9 $$", &c);
    exec_t *e = s_run(&spec);
    ck_assert_int_eq(exec_result(e)->outcome, EXEC_SIGNALED);
    ck_assert_int_eq(exec_result(e)->signal, SIGKILL);
    exec_destroy(&e);
}

END_TEST

/* Waits (bounded) until pid no longer exists. */
static bool
s_gone(pid_t pid)
{
    int64_t end = clock_mono_ms() + 5000;
    while (clock_mono_ms() < end) {
        if (kill(pid, 0) < 0 && errno == ESRCH) {
            return true;
        }
        usleep(10000);
    }
    return false;
}

static pid_t
s_read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    long pid = 0;
    ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    return (pid_t) pid;
}

START_TEST(test_exec_timeout_kills_group)
{
    capture_t c;
    exec_spec_t spec =
        s_spec("sleep 30 & echo $! > grandchild.pid; sleep 30", &c);
    spec.timeout_ms = 300;
    exec_t *e = s_run(&spec);
    const exec_result_t *r = exec_result(e);
    ck_assert_int_eq(r->outcome, EXEC_TIMED_OUT);
    ck_assert_int_eq(r->signal, SIGTERM);
    ck_assert_int_lt(r->duration_ms, 5000);
    char path[128];
    snprintf(path, sizeof path, "%s/812/grandchild.pid", s_root);
    pid_t grandchild = s_read_pid(path);
    ck_assert(s_gone(exec_pid(e)));
    ck_assert(s_gone(grandchild));
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_term_ignored_then_killed)
{
    capture_t c;
    exec_spec_t spec = s_spec("trap '' TERM; sleep 30", &c);
    spec.timeout_ms = 100;
    spec.kill_grace_ms = 200;
    exec_t *e = s_run(&spec);
    ck_assert_int_eq(exec_result(e)->outcome, EXEC_TIMED_OUT);
    ck_assert_int_eq(exec_result(e)->signal, SIGKILL);
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_cancel)
{
    capture_t c;
    exec_spec_t spec = s_spec("sleep 30", &c);
    exec_t *e = exec_start(&spec);
    ck_assert_int_eq(exec_wait(e, 100), -1); /* still running */
    exec_cancel(e, "cancelled by operator");
    ck_assert_int_eq(exec_wait(e, 10000), 0);
    ck_assert_int_eq(exec_result(e)->outcome, EXEC_CANCELLED);
    ck_assert_str_eq(exec_result(e)->error, "cancelled by operator");
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_log_cap)
{
    capture_t c;
    exec_spec_t spec = s_spec("head -c 100000 /dev/zero", &c);
    spec.log_cap = 1000;
    exec_t *e = s_run(&spec);
    const exec_result_t *r = exec_result(e);
    ck_assert_int_eq(r->outcome, EXEC_EXITED);
    ck_assert_uint_eq(c.out_bytes, 1000);
    ck_assert_uint_eq(r->log_bytes, 100000);
    ck_assert(r->log_truncated);
    ck_assert_str_eq(c.note, "log capped at 1000 bytes\n");
    ck_assert_uint_eq(r->log_chunks, c.last_seq);
    ck_assert(c.seq_ok);
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_big_output_chunks)
{
    capture_t c;
    exec_spec_t spec = s_spec("head -c 200000 /dev/zero", &c);
    exec_t *e = s_run(&spec);
    ck_assert_uint_eq(c.out_bytes, 200000);
    ck_assert_uint_ge(exec_result(e)->log_chunks, 200000 / EXEC_CHUNK_MAX);
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_direct_and_shell)
{
    /* Direct exec passes a '$' free word untouched; sh would expand it. */
    capture_t c;
    exec_spec_t spec = s_spec("printf %s a=1,b", &c);
    exec_t *e = s_run(&spec);
    ck_assert_str_eq(c.out, "a=1,b");
    exec_destroy(&e);
    spec = s_spec("echo $SLUICE_TASK_ID", &c);
    e = s_run(&spec);
    ck_assert_str_eq(c.out, "left\n");
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_environment)
{
    setenv("SLUICE_TEST_SECRET", "leak", 1);
    const char *env[] = {"FOO=bar", "SLUICE_RUN_ID=999"};
    capture_t c;
    exec_spec_t spec = s_spec("env", &c);
    spec.env = env;
    spec.env_count = 2;
    exec_t *e = s_run(&spec);
    ck_assert_int_eq(exec_result(e)->exit_code, 0);
    char dir[128];
    snprintf(dir, sizeof dir, "SLUICE_OUTPUT_DIR=%s/812\n", s_root);
    ck_assert_ptr_nonnull(strstr(c.out, "FOO=bar\n"));
    ck_assert_ptr_nonnull(strstr(c.out, "SLUICE_RUN_ID=12\n"));
    ck_assert_ptr_nonnull(strstr(c.out, "SLUICE_TASK_ID=left\n"));
    ck_assert_ptr_nonnull(strstr(c.out, "SLUICE_ATTEMPT=1\n"));
    ck_assert_ptr_nonnull(strstr(c.out, "SLUICE_ATTEMPT_ID=812\n"));
    ck_assert_ptr_nonnull(strstr(c.out, "SLUICE_DAG=hello\n"));
    ck_assert_ptr_nonnull(strstr(c.out, "SLUICE_LOGICAL_DATE=2026-11-26\n"));
    ck_assert_ptr_nonnull(strstr(c.out, dir));
    ck_assert_ptr_nonnull(strstr(c.out, "PATH="));
    ck_assert_ptr_null(strstr(c.out, "SLUICE_TEST_SECRET"));
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_workdir)
{
    capture_t c;
    exec_spec_t spec = s_spec("pwd", &c);
    exec_t *e = s_run(&spec);
    char want[128];
    snprintf(want, sizeof want, "%s/812\n", s_root);
    ck_assert_str_eq(c.out, want);
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_spawn_failed)
{
    capture_t c;
    exec_spec_t spec = s_spec("no-such-command-sluice --x", &c);
    exec_t *e = exec_start(&spec);
    ck_assert(exec_done(e));
    ck_assert_int_eq(exec_result(e)->outcome, EXEC_SPAWN_FAILED);
    ck_assert_ptr_nonnull(
        strstr(exec_result(e)->error, "'no-such-command-sluice'"));
    exec_destroy(&e);
    spec = s_spec("/etc/passwd", &c); /* found but not executable */
    e = exec_start(&spec);
    ck_assert_int_eq(exec_result(e)->outcome, EXEC_SPAWN_FAILED);
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_spawn_failed_messages)
{
    /* posix_spawn reports why; each cause reads differently. */
    capture_t c;
    exec_spec_t spec = s_spec("no-such-command-sluice", &c);
    exec_t *e = exec_start(&spec);
    ck_assert_int_eq(exec_result(e)->outcome, EXEC_SPAWN_FAILED);
    ck_assert_str_eq(exec_result(e)->error,
                     "command 'no-such-command-sluice' was not found in PATH");
    ck_assert_int_eq(exec_pid(e), 0);
    char buf[320];
    ck_assert_ptr_nonnull(
        strstr(exec_describe(exec_result(e), buf, sizeof buf),
               "failed to start: command 'no-such-command-sluice'"));
    exec_destroy(&e);
    spec = s_spec("/etc/passwd", &c);
    e = exec_start(&spec);
    ck_assert_str_eq(exec_result(e)->error,
                     "cannot execute '/etc/passwd': Permission denied");
    exec_destroy(&e);
    spec = s_spec("./no-such-file", &c);
    e = exec_start(&spec);
    ck_assert_str_eq(exec_result(e)->error,
                     "cannot execute './no-such-file': No such file or "
                     "directory");
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_task_path)
{
    /* A PATH from the task is the one searched, not the worker's. */
    const char *none[] = {"PATH=/nonexistent-sluice"};
    capture_t c;
    exec_spec_t spec = s_spec("true", &c);
    spec.env = none;
    spec.env_count = 1;
    exec_t *e = exec_start(&spec);
    ck_assert_int_eq(exec_result(e)->outcome, EXEC_SPAWN_FAILED);
    ck_assert_str_eq(exec_result(e)->error,
                     "command 'true' was not found in PATH");
    exec_destroy(&e);
    const char *bin[] = {"PATH=/nonexistent-sluice:/bin"};
    spec = s_spec("true", &c);
    spec.env = bin;
    spec.env_count = 1;
    e = s_run(&spec);
    ck_assert_int_eq(exec_result(e)->outcome, EXEC_EXITED);
    ck_assert_int_eq(exec_result(e)->exit_code, 0);
    exec_destroy(&e);
}

END_TEST

/* The hex value of a "Name:\tHEX" line of /proc/PID/status text. */
static unsigned long long
s_status_mask(const char *text, const char *name)
{
    const char *at = strstr(text, name);
    ck_assert_ptr_nonnull(at);
    return strtoull(at + strlen(name), NULL, 16);
}

START_TEST(test_exec_child_setup)
{
    /* Whatever the worker blocks or ignores, the child starts clean. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    capture_t c;
    exec_spec_t spec = s_spec("cat /proc/self/status", &c);
    exec_t *e = s_run(&spec);
    signal(SIGPIPE, old_pipe);
    sigprocmask(SIG_SETMASK, &old, NULL);
    ck_assert_int_eq(exec_result(e)->exit_code, 0);
    ck_assert_uint_eq(s_status_mask(c.out, "SigBlk:"), 0);
    ck_assert_uint_eq(s_status_mask(c.out, "SigIgn:") & (1ull << (SIGPIPE - 1)),
                      0);
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_child_fds_and_group)
{
    /* stdin is /dev/null, nothing but 0-2 is inherited, own group. */
    capture_t c;
    exec_spec_t spec = s_spec("readlink /proc/self/fd/0", &c);
    exec_t *e = s_run(&spec);
    ck_assert_str_eq(c.out, "/dev/null\n");
    exec_destroy(&e);
    spec = s_spec("ls /proc/self/fd", &c); /* 3 is ls's own listing */
    e = s_run(&spec);
    ck_assert_str_eq(c.out, "0\n1\n2\n3\n");
    exec_destroy(&e);
    spec = s_spec("cat /proc/self/stat", &c);
    e = s_run(&spec);
    long pid = 0, pgrp = 0;
    const char *after = strrchr(c.out, ')');
    ck_assert_ptr_nonnull(after);
    ck_assert_int_eq(sscanf(c.out, "%ld", &pid), 1);
    ck_assert_int_eq(sscanf(after + 2, "%*c %*d %ld", &pgrp), 1);
    ck_assert_int_eq(pid, exec_pid(e));
    ck_assert_int_eq(pgrp, pid);
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_work_root_created)
{
    /* A missing work root is made on first use; a file in its way fails. */
    capture_t c;
    char root[128];
    snprintf(root, sizeof root, "%s/a/b", s_root);
    exec_spec_t spec = s_spec("pwd", &c);
    spec.work_root = root;
    exec_t *e = s_run(&spec);
    char want[160];
    snprintf(want, sizeof want, "%s/812\n", root);
    ck_assert_str_eq(c.out, want);
    exec_destroy(&e);
    snprintf(root, sizeof root, "%s/file", s_root);
    FILE *f = fopen(root, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    spec = s_spec("pwd", &c);
    spec.work_root = root;
    e = exec_start(&spec);
    ck_assert_int_eq(exec_result(e)->outcome, EXEC_SPAWN_FAILED);
    ck_assert_ptr_nonnull(strstr(exec_result(e)->error, "cannot create"));
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_spare_work_dir)
{
    /* Each start leaves an empty spare that the next one renames into
     * place, so the next attempt's work dir costs no mkdir. */
    capture_t c;
    exec_spec_t spec = s_spec("pwd", &c);
    exec_t *e = s_run(&spec);
    exec_destroy(&e);
    char spare[128], dir[128];
    snprintf(spare, sizeof spare, "%s/.spare", s_root);
    struct stat st;
    ck_assert_int_eq(stat(spare, &st), 0);
    ino_t ino = st.st_ino;
    spec = s_spec("pwd", &c);
    spec.attempt_id = 813;
    e = s_run(&spec);
    snprintf(dir, sizeof dir, "%s/813", s_root);
    char want[160];
    snprintf(want, sizeof want, "%s\n", dir);
    ck_assert_str_eq(c.out, want);
    ck_assert_int_eq(stat(dir, &st), 0);
    ck_assert_uint_eq(st.st_ino, ino);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    ck_assert_int_eq(stat(spare, &st), 0); /* made again for the next */
    ck_assert_uint_ne(st.st_ino, ino);
    exec_destroy(&e);
}

END_TEST

START_TEST(test_exec_destroy_running)
{
    capture_t c;
    exec_spec_t spec = s_spec("sleep 30", &c);
    exec_t *e = exec_start(&spec);
    pid_t pid = exec_pid(e);
    ck_assert_int_gt(pid, 0);
    exec_destroy(&e);
    ck_assert(s_gone(pid));
}

END_TEST

Suite *
exec_suite(void)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_exec_usage);
    tcase_add_test(tc, test_exec_stderr_separate);
    tcase_add_test(tc, test_exec_exit_code);
    tcase_add_test(tc, test_exec_signaled);
    tcase_add_test(tc, test_exec_timeout_kills_group);
    tcase_add_test(tc, test_exec_term_ignored_then_killed);
    tcase_add_test(tc, test_exec_cancel);
    tcase_add_test(tc, test_exec_log_cap);
    tcase_add_test(tc, test_exec_big_output_chunks);
    tcase_add_test(tc, test_exec_direct_and_shell);
    tcase_add_test(tc, test_exec_environment);
    tcase_add_test(tc, test_exec_workdir);
    tcase_add_test(tc, test_exec_spawn_failed);
    tcase_add_test(tc, test_exec_destroy_running);
    tcase_add_test(tc, test_exec_spawn_failed_messages);
    tcase_add_test(tc, test_exec_task_path);
    tcase_add_test(tc, test_exec_child_setup);
    tcase_add_test(tc, test_exec_child_fds_and_group);
    tcase_add_test(tc, test_exec_work_root_created);
    tcase_add_test(tc, test_exec_spare_work_dir);
    suite_add_tcase(s, tc);
    return s;
}
