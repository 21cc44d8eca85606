/* worker resources: GPU discovery and assignment, group memory, the memory
 * limit and the OOM outcome. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "worker/exec.h"
#include "worker/gpus.h"
#include "worker/mem.h"
#include "tests/unit/suites.h"

static char s_root[64];

static void
s_setup(void)
{
    snprintf(s_root, sizeof s_root, "/tmp/sluice-res-XXXXXX");
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

/* Writes text to s_root/name (mode 0755) and returns its path. */
static char *
s_write(const char *name, const char *text)
{
    char *path = NULL;
    ck_assert_int_gt(asprintf(&path, "%s/%s", s_root, name), 0);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0755), 0);
    return path;
}

/* What stdout said, for the environment test. */
typedef struct {
    char out[512];
    size_t len;
} out_t;

static void
s_on_log(void *arg,
         exec_t *exec,
         int stream,
         uint64_t seq,
         const void *data,
         size_t size)
{
    (void) exec;
    (void) seq;
    out_t *o = arg;
    if (stream != 1) {
        return;
    }
    size_t take =
        size < sizeof o->out - 1 - o->len ? size : sizeof o->out - 1 - o->len;
    memcpy(o->out + o->len, data, take);
    o->len += take;
    o->out[o->len] = '\0';
}

static exec_spec_t
s_spec(const char *command, uint64_t memory_mb)
{
    return (exec_spec_t){.attempt_id = 77,
                         .run_id = 7,
                         .dag = "res",
                         .task_id = "t",
                         .attempt = 1,
                         .logical_date = "2024-01-01",
                         .command = command,
                         .work_root = s_root,
                         .kill_grace_ms = 500,
                         .memory_mb = memory_mb};
}

/* Runs spec to the end (bounded) and returns the handle. */
static exec_t *
s_run(const exec_spec_t *spec, int64_t timeout_ms)
{
    exec_t *exec = exec_start(spec);
    ck_assert_int_eq(exec_wait(exec, timeout_ms), 0);
    return exec;
}

/* Usage: a pool of 4 devices; attempts hold disjoint ones until released. */
START_TEST(test_gpus_usage)
{
    gpus_t *gpus = gpus_new(4);
    char list[GPUS_LIST_SIZE];
    errbuf_t err;
    ck_assert_int_eq(gpus_take(gpus, 1, 2, list, sizeof list, &err), 0);
    ck_assert_str_eq(list, "0,1");
    ck_assert_int_eq(gpus_take(gpus, 2, 1, list, sizeof list, &err), 0);
    ck_assert_str_eq(list, "2");
    ck_assert_int_eq(gpus_take(gpus, 3, 0, list, sizeof list, &err), 0);
    ck_assert_str_eq(list, "");
    ck_assert_uint_eq(gpus_free(gpus), 1);
    ck_assert_int_eq(gpus_take(gpus, 4, 2, list, sizeof list, &err), -1);
    ck_assert_str_eq(errbuf_msg(&err),
                     "task asks for 2 GPUs but only 1 of this worker's 4 is "
                     "free; the scheduler should place it elsewhere");
    ck_assert_uint_eq(gpus_free(gpus), 1); /* a refusal takes nothing */
    ck_assert_uint_eq(gpus_release(gpus, 1), 2);
    ck_assert_uint_eq(gpus_release(gpus, 1), 0);
    ck_assert_int_eq(gpus_take(gpus, 5, 3, list, sizeof list, &err), 0);
    ck_assert_str_eq(list, "0,1,3"); /* 2 is still held by attempt 2 */
    ck_assert_uint_eq(gpus_free(gpus), 0);
    ck_assert_uint_eq(gpus_count(gpus), 4);
    gpus_destroy(&gpus);
    ck_assert_ptr_null(gpus);
    gpus_destroy(&gpus);
}

END_TEST

START_TEST(test_gpus_none)
{
    gpus_t *gpus = gpus_new(0);
    char list[GPUS_LIST_SIZE];
    errbuf_t err;
    ck_assert_int_eq(gpus_take(gpus, 1, 0, list, sizeof list, &err), 0);
    ck_assert_str_eq(list, "");
    ck_assert_int_eq(gpus_take(gpus, 2, 1, list, sizeof list, &err), -1);
    ck_assert_str_eq(errbuf_msg(&err),
                     "task asks for 1 GPU but only 0 of this worker's 0 are "
                     "free; the scheduler should place it elsewhere");
    ck_assert_int_eq(gpus_check(gpus, 0, &err), 0);
    gpus_destroy(&gpus);
}

END_TEST

/* nvidia-smi -L prints one "GPU n:" line per device, MIG devices indented
 * below; a fake one in the temp dir stands in for it. */
START_TEST(test_gpus_detect)
{
    char *smi = s_write("nvidia-smi",
                        "#!/bin/sh\n"
                        "[ \"$1\" = -L ] || exit 2\n"
                        "echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-a)'\n"
                        "echo '  MIG 1g.10gb Device 0: (UUID: MIG-b)'\n"
                        "echo 'GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-c)'\n"
                        "echo 'GPU 2: NVIDIA H100 80GB HBM3 (UUID: GPU-d)'\n");
    ck_assert_uint_eq(gpus_detect(smi, 5000), 3);
    free(smi);
    char *failing = s_write("failing-smi", "#!/bin/sh\n"
                                           "echo 'GPU 0: leftover'\n"
                                           "echo 'NVIDIA-SMI has failed' >&2\n"
                                           "exit 9\n");
    ck_assert_uint_eq(gpus_detect(failing, 5000), 0);
    free(failing);
    char *missing = NULL;
    ck_assert_int_gt(asprintf(&missing, "%s/no-such-smi", s_root), 0);
    ck_assert_uint_eq(gpus_detect(missing, 5000), 0);
    ck_assert_uint_eq(gpus_detect("sluice-no-such-program-in-path", 5000), 0);
    free(missing);
}

END_TEST

START_TEST(test_gpus_detect_hung)
{
    char *hung = s_write("hung-smi", "#!/bin/sh\n"
                                     "echo 'GPU 0: NVIDIA H100'\n"
                                     "exec sleep 30\n");
    int64_t start = clock_mono_ms();
    ck_assert_uint_eq(gpus_detect(hung, 300), 0);
    ck_assert_int_lt(clock_mono_ms() - start, 3000);
    free(hung);
}

END_TEST

/* The child sees the last CUDA_VISIBLE_DEVICES the worker gave (after the
 * task's own), and "" when it holds no GPU. */
START_TEST(test_exec_gpu_environment)
{
    const char *env[] = {"CUDA_VISIBLE_DEVICES=7", "CUDA_VISIBLE_DEVICES=0,2",
                         "SLUICE_GPUS=0,2"};
    out_t out = {0};
    exec_spec_t spec =
        s_spec("echo \"[$CUDA_VISIBLE_DEVICES][$SLUICE_GPUS]\"", 0);
    spec.env = env;
    spec.env_count = 3;
    spec.on_log = s_on_log;
    spec.arg = &out;
    exec_t *exec = s_run(&spec, 10000);
    ck_assert_int_eq(exec_result(exec)->outcome, EXEC_EXITED);
    ck_assert_str_eq(out.out, "[0,2][0,2]\n");
    exec_destroy(&exec);

    const char *none[] = {"CUDA_VISIBLE_DEVICES=", "SLUICE_GPUS="};
    memset(&out, 0, sizeof out);
    spec = s_spec("echo \"[${CUDA_VISIBLE_DEVICES-unset}][$SLUICE_GPUS]\"", 0);
    spec.attempt_id = 78;
    spec.env = none;
    spec.env_count = 2;
    spec.on_log = s_on_log;
    spec.arg = &out;
    exec = s_run(&spec, 10000);
    ck_assert_str_eq(out.out, "[][]\n"); /* set, and empty */
    exec_destroy(&exec);
}

END_TEST

START_TEST(test_mem_group_rss)
{
    exec_spec_t spec = s_spec("sleep 30", 0);
    exec_t *exec = exec_start(&spec);
    ck_assert_int_gt(exec_pid(exec), 0);
    uint64_t rss = 0;
    for (int i = 0; i < 100 && rss == 0; i++) { /* bounded: the exec */
        rss = mem_group_rss_kb(exec_pid(exec));
    }
    ck_assert_uint_gt(rss, 0);
    ck_assert_uint_lt(rss, 1024 * 1024);
    ck_assert_uint_eq(mem_group_rss_kb(0), 0);

    /* One pass for several groups: ours (the test process's), the child's
     * and one that does not exist. */
    int pgids[3] = {exec_pid(exec), (int) getpgrp(), 0x7ffffff0};
    uint64_t each[3] = {1, 1, 1};
    mem_groups_rss_kb(pgids, 3, each);
    ck_assert_uint_gt(each[0], 0);
    ck_assert_uint_gt(each[1], 0);
    ck_assert_uint_eq(each[2], 0);
    exec_cancel(exec, "test over");
    ck_assert_int_eq(exec_wait(exec, 10000), 0);
    exec_destroy(&exec);
}

END_TEST

/* The memory limit: 200 MB held against 50 MB is killed as OOM. `tail -n 1`
 * keeps its whole input (there is no newline in it) and then blocks writing
 * it to `sleep`, so the memory stays held until the worker acts. */
START_TEST(test_exec_memory_limit_oom)
{
    exec_spec_t spec =
        s_spec("head -c 200000000 /dev/zero | tail -n 1 | sleep 30", 50);
    int64_t start = clock_mono_ms();
    exec_t *exec = s_run(&spec, 20000);
    const exec_result_t *r = exec_result(exec);
    ck_assert_int_eq(r->outcome, EXEC_OOM);
    ck_assert_uint_ge(r->peak_rss_kb, 50 * 1024);
    ck_assert_int_eq(r->signal, SIGKILL);
    ck_assert_ptr_nonnull(strstr(r->error, "over its memory limit of 50 MB"));
    ck_assert_int_eq(strncmp(r->error, "used ", 5), 0);
    ck_assert_int_lt(clock_mono_ms() - start, 15000);
    char what[320];
    ck_assert_int_eq(strncmp(exec_describe(r, what, sizeof what),
                             "out of memory (used ", 20),
                     0);
    exec_destroy(&exec);
}

END_TEST

/* Under its limit a task runs to the end, and its peak is the group's. */
START_TEST(test_exec_memory_under_limit)
{
    exec_spec_t spec =
        s_spec("head -c 30000000 /dev/zero | tail -n 1 | sleep 1", 200);
    exec_t *exec = s_run(&spec, 20000);
    const exec_result_t *r = exec_result(exec);
    ck_assert_int_eq(r->outcome, EXEC_EXITED);
    ck_assert_int_eq(r->exit_code, 0);
    ck_assert_uint_ge(r->peak_rss_kb, 25 * 1024); /* tail's, sampled */
    ck_assert_str_eq(r->error, "");
    exec_destroy(&exec);
}

END_TEST

/* The limit logic alone, with the sample handed in: what the worker does
 * with one /proc pass for all its attempts. */
START_TEST(test_exec_sample_over_limit)
{
    exec_spec_t spec = s_spec("sleep 30", 0);
    exec_t *exec = exec_start(&spec);
    ck_assert_int_eq(exec_sample_at(exec), 0); /* no limit: never sampled */
    exec_destroy(&exec);

    spec = s_spec("sleep 30", 10);
    spec.attempt_id = 78;
    exec = exec_start(&spec);
    int64_t due = exec_sample_at(exec);
    ck_assert_int_gt(due, 0);
    ck_assert_int_le(due, clock_mono_ms() + EXEC_SAMPLE_MS);
    exec_sample(exec, 9 * 1024); /* under: goes on */
    ck_assert_int_gt(exec_sample_at(exec), 0);
    exec_sample(exec, 20 * 1024 + 1);
    ck_assert_int_eq(exec_sample_at(exec), 0); /* killed: no more samples */
    ck_assert_int_eq(exec_wait(exec, 10000), 0);
    const exec_result_t *r = exec_result(exec);
    ck_assert_int_eq(r->outcome, EXEC_OOM);
    ck_assert_int_eq(r->signal, SIGKILL);
    ck_assert_str_eq(r->error, "used 21 MB, over its memory limit of 10 MB");
    ck_assert_uint_ge(r->peak_rss_kb, 20 * 1024 + 1);
    exec_destroy(&exec);
}

END_TEST

START_TEST(test_mem_oom_kills_parse)
{
    char *events = s_write("memory.events", "low 0\n"
                                            "high 0\n"
                                            "max 12\n"
                                            "oom 3\n"
                                            "oom_kill 2\n"
                                            "oom_group_kill 0\n");
    uint64_t count = 0;
    ck_assert_int_eq(mem_oom_kills(events, &count), 0);
    ck_assert_uint_eq(count, 2);
    char *v1 = s_write("memory.oom_control", "oom_kill_disable 0\n"
                                             "under_oom 0\n"
                                             "oom_kill 5\n");
    ck_assert_int_eq(mem_oom_kills(v1, &count), 0);
    ck_assert_uint_eq(count, 5);
    char *old = s_write("old.events", "oom 3\n");
    ck_assert_int_eq(mem_oom_kills(old, &count), -1);
    ck_assert_int_eq(mem_oom_kills(NULL, &count), -1);
    ck_assert_int_eq(mem_oom_kills("/nonexistent/memory.events", &count), -1);
    char *found = mem_oom_events_path(); /* NULL where there is none */
    if (found) {
        ck_assert_int_eq(mem_oom_kills(found, &count), 0);
    }
    free(found);
    free(events);
    free(v1);
    free(old);
}

END_TEST

/* A SIGKILL the worker did not send is OOM when the cgroup's counter grew
 * meanwhile; here the child bumps a fake counter, then kills itself. */
START_TEST(test_exec_kernel_oom)
{
    char *events = s_write("memory.events", "oom 0\noom_kill 3\n");
    char *cmd = NULL;
    ck_assert_int_gt(asprintf(&cmd,
                              "printf 'oom 1\\noom_kill 4\\n' > '%s'; "
                              "kill -9 $$",
                              events),
                     0);
    exec_spec_t spec = s_spec(cmd, 0);
    spec.oom_events = events;
    exec_t *exec = s_run(&spec, 10000);
    const exec_result_t *r = exec_result(exec);
    ck_assert_int_eq(r->outcome, EXEC_OOM);
    ck_assert_int_eq(r->signal, SIGKILL);
    ck_assert_ptr_nonnull(strstr(r->error, "out-of-memory killer"));
    exec_destroy(&exec);
    free(cmd);

    /* The counter did not move: an ordinary SIGKILL. */
    spec = s_spec("kill -9 $$", 0);
    spec.attempt_id = 78;
    spec.oom_events = events;
    exec = s_run(&spec, 10000);
    ck_assert_int_eq(exec_result(exec)->outcome, EXEC_SIGNALED);
    exec_destroy(&exec);

    /* No counter file: SIGNALED, as before. */
    spec = s_spec("kill -9 $$", 0);
    spec.attempt_id = 79;
    exec = s_run(&spec, 10000);
    ck_assert_int_eq(exec_result(exec)->outcome, EXEC_SIGNALED);
    ck_assert_int_eq(exec_result(exec)->signal, SIGKILL);
    exec_destroy(&exec);
    free(events);
}

END_TEST

Suite *
worker_res_suite(void)
{
    Suite *s = suite_create("worker_res");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_gpus_usage);
    tcase_add_test(tc, test_gpus_none);
    tcase_add_test(tc, test_gpus_detect);
    tcase_add_test(tc, test_gpus_detect_hung);
    tcase_add_test(tc, test_exec_gpu_environment);
    tcase_add_test(tc, test_mem_group_rss);
    tcase_add_test(tc, test_exec_memory_limit_oom);
    tcase_add_test(tc, test_exec_memory_under_limit);
    tcase_add_test(tc, test_exec_sample_over_limit);
    tcase_add_test(tc, test_mem_oom_kills_parse);
    tcase_add_test(tc, test_exec_kernel_oom);
    suite_add_tcase(s, tc);
    return s;
}
