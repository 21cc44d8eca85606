/* autoscale_exec, autoscale_command: the bounded child-process runner, the
 * `list` parser, and the command provider driven by small shell scripts
 * written to a fresh temp dir (fake providers). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "scheduler/autoscale/autoscale.h"
#include "scheduler/autoscale/autoscale_exec.h"
#include "tests/unit/suites.h"

static char s_dir[64];

static void
s_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/sluice-asx-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void
s_teardown(void)
{
    char *cmd = xasprintf("rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* Writes an executable script NAME with `body` under the temp dir. */
static char *
s_script(const char *name, const char *body)
{
    char *path = xasprintf("%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s", body);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0755), 0);
    return path;
}

static zlistx_t *
s_list_new(void)
{
    zlistx_t *list = zlistx_new();
    zlistx_set_destructor(list, (zlistx_destructor_fn *) zstr_free);
    return list;
}

/* A fake provider that keeps its workers as files in $STATE. */
static const char *s_fake =
    "state=$(dirname \"$0\")/state; mkdir -p \"$state\"\n"
    "case \"$1\" in\n"
    "up)\n"
    "  [ \"$2\" = small ] && [ \"$3\" = 1 ] || { echo 'bad args' >&2; exit 2; "
    "}\n"
    "  echo \"$SLUICE_JOIN|$SLUICE_SHAPE_CPUS|$SLUICE_SHAPE_MEMORY_MB|"
    "$SLUICE_SHAPE_GPUS|$SLUICE_SHAPE_SLOTS|$SLUICE_SHAPE_LABELS\" "
    ">\"$state/$SLUICE_WORKER_NAME\"\n"
    "  echo 'starting a worker...'\n"
    "  echo \"h-$SLUICE_WORKER_NAME\"\n"
    "  echo\n"
    "  ;;\n"
    "down) [ \"$3\" = \"h-$2\" ] && rm \"$state/$2\" ;;\n"
    "list) for f in \"$state\"/*; do [ -e \"$f\" ] && "
    "printf '%s\\th-%s\\n' \"${f##*/}\" \"${f##*/}\"; done; true ;;\n"
    "*) exit 3 ;;\n"
    "esac\n";

static const autoscale_shape_t s_small = {
    .name = "small",
    .cpus = 2,
    .memory_mb = 4096,
    .gpus = 0,
    .labels = "ssd,fast",
    .slots = 2,
};

START_TEST(test_command_up_list_down)
{
    char *program = s_script("fake.sh", s_fake);
    errbuf_t err;
    autoscale_provider_t *p = autoscale_command_new(program, &err);
    ck_assert_msg(p, "%s", err.msg);
    ck_assert_str_eq(p->ops->name, "command");
    char *handle = NULL;
    ck_assert_msg(p->ops->up(p, &s_small, "as-1",
                             "tcp://10.0.0.1:7700 KEY CURVE?token=T1", &handle,
                             &err) == 0,
                  "%s", err.msg);
    ck_assert_str_eq(handle, "h-as-1");
    free(handle);
    /* The environment reached the program. */
    char *path = xasprintf("%s/state/as-1", s_dir);
    char line[256] = "";
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_str_eq(line, "tcp://10.0.0.1:7700 KEY CURVE?token=T1|2|4096|0|2|"
                           "ssd,fast\n");
    ck_assert_int_eq(p->ops->up(p, &s_small, "as-2", "J", &handle, &err), 0);
    free(handle);
    zlistx_t *list = s_list_new();
    ck_assert_msg(p->ops->list(p, list, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(zlistx_size(list), 2);
    ck_assert_str_eq(zlistx_first(list), "as-1\th-as-1");
    ck_assert_str_eq(zlistx_next(list), "as-2\th-as-2");
    ck_assert_int_eq(p->ops->down(p, "as-1", "h-as-1", &err), 0);
    /* A wrong handle: the program fails, and says so. */
    ck_assert_int_eq(p->ops->down(p, "as-2", "nope", &err), -1);
    zlistx_purge(list);
    ck_assert_int_eq(p->ops->list(p, list, &err), 0);
    ck_assert_uint_eq(zlistx_size(list), 1);
    ck_assert_str_eq(zlistx_first(list), "as-2\th-as-2");
    zlistx_destroy(&list);
    free(path);
    autoscale_provider_destroy(&p);
    ck_assert_ptr_null(p);
    free(program);
}

END_TEST

START_TEST(test_command_up_fails)
{
    char *program =
        s_script("fail.sh", "echo partial\necho 'first problem' >&2\n"
                            "echo 'quota exceeded in zone b; raise it' >&2\n"
                            "exit 4\n");
    errbuf_t err;
    autoscale_provider_t *p = autoscale_command_new(program, &err);
    ck_assert_ptr_nonnull(p);
    char *handle = NULL;
    ck_assert_int_eq(p->ops->up(p, &s_small, "as-1", "J", &handle, &err), -1);
    ck_assert_ptr_null(handle);
    ck_assert_ptr_nonnull(strstr(err.msg,
                                 "up' failed with exit status 4: "
                                 "quota exceeded in zone b; raise it"));
    autoscale_provider_destroy(&p);
    /* No handle printed: an error too. */
    char *silent = s_script("silent.sh", "exit 0\n");
    p = autoscale_command_new(silent, &err);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->ops->up(p, &s_small, "as-1", "J", &handle, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "printed no handle"));
    autoscale_provider_destroy(&p);
    free(silent);
    free(program);
}

END_TEST

START_TEST(test_command_new_refuses)
{
    errbuf_t err;
    ck_assert_ptr_null(autoscale_command_new("", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "autoscale_command"));
    char *missing = xasprintf("%s/missing.sh", s_dir);
    ck_assert_ptr_null(autoscale_command_new(missing, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "not an executable"));
    free(missing);
}

END_TEST

START_TEST(test_exec_timeout_kills)
{
    char *program = s_script("slow.sh", "echo started >&2\nsleep 30\n");
    const char *argv[] = {program, "up", NULL};
    errbuf_t err;
    int64_t t0 = clock_mono_ms();
    ck_assert_int_eq(autoscale_exec_run(argv, NULL, 300, NULL, &err), -1);
    ck_assert_int_lt(clock_mono_ms() - t0, 5000);
    ck_assert_ptr_nonnull(strstr(err.msg, "did not finish within 300 ms"));
    ck_assert_ptr_nonnull(strstr(err.msg, "started"));
    free(program);
}

END_TEST

/* A program that leaves a process in the background holding its stdout
 * (as `up` does when it starts a worker) still ends when it exits. */
START_TEST(test_exec_background_child)
{
    char *program = s_script("bg.sh", "sleep 20 &\necho handle-7\n");
    const char *argv[] = {program, "up", NULL};
    const char *env[] = {"SLUICE_TEST_X=1", NULL};
    errbuf_t err;
    char *out = NULL;
    int64_t t0 = clock_mono_ms();
    ck_assert_int_eq(autoscale_exec_run(argv, env, 10000, &out, &err), 0);
    ck_assert_int_lt(clock_mono_ms() - t0, 5000);
    ck_assert_str_eq(out, "handle-7\n");
    free(out);
    free(program);
}

END_TEST

START_TEST(test_exec_env_path_and_bounds)
{
    /* $PATH lookup, env override, stdout kept up to its bound. */
    const char *argv[] = {"sh", "-c",
                          "echo \"$SLUICE_X\"; head -c 200000 /dev/zero | tr "
                          "'\\0' a",
                          NULL};
    const char *env[] = {"SLUICE_X=over", NULL};
    setenv("SLUICE_X", "under", 1);
    errbuf_t err;
    char *out = NULL;
    ck_assert_msg(autoscale_exec_run(argv, env, 10000, &out, &err) == 0, "%s",
                  err.msg);
    unsetenv("SLUICE_X");
    ck_assert_uint_eq(strlen(out), AUTOSCALE_EXEC_OUT_MAX);
    ck_assert_int_eq(strncmp(out, "over\naaa", 8), 0);
    free(out);
    const char *none[] = {"sluice-no-such-program", "list", NULL};
    ck_assert_int_eq(autoscale_exec_run(none, NULL, 1000, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "not in PATH"));
    const char *sig[] = {"sh", "-c", "kill -9 $$", NULL};
    ck_assert_int_eq(autoscale_exec_run(sig, NULL, 5000, NULL, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "killed by signal 9"));
}

END_TEST

START_TEST(test_parse_list)
{
    zlistx_t *list = s_list_new();
    errbuf_t err;
    ck_assert_int_eq(
        autoscale_exec_parse_list("w1\th1\n\n# comment\nw2\th 2\r\n", NULL,
                                  false, "'p list'", list, &err),
        0);
    ck_assert_uint_eq(zlistx_size(list), 2);
    ck_assert_str_eq(zlistx_first(list), "w1\th1");
    ck_assert_str_eq(zlistx_next(list), "w2\th 2");
    zlistx_purge(list);
    ck_assert_int_eq(autoscale_exec_parse_list("w1\th1\nbroken line\n", NULL,
                                               false, "'p list'", list, &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "'p list': line 2 'broken line'"));
    zlistx_purge(list);
    /* squeue's form: blanks separate; only sluice-* jobs, prefix dropped. */
    ck_assert_int_eq(
        autoscale_exec_parse_list("sluice-as-3 17\nother-job 18\n"
                                  "  sluice-as-4   19\nsluice- 20\n",
                                  "sluice-", true, "squeue", list, &err),
        0);
    ck_assert_uint_eq(zlistx_size(list), 2);
    ck_assert_str_eq(zlistx_first(list), "as-3\t17");
    ck_assert_str_eq(zlistx_next(list), "as-4\t19");
    zlistx_destroy(&list);
    char *last = autoscale_exec_last_line("a\n  b c \n\n \n");
    ck_assert_str_eq(last, "b c");
    free(last);
    ck_assert_ptr_null(autoscale_exec_last_line(" \n\n"));
}

END_TEST

/* The slurm provider with fake sbatch/scancel/squeue first in $PATH. */
START_TEST(test_slurm_fake_commands)
{
    free(s_script("sbatch",
                  "printf '%s\\n' \"$@\" >\"$(dirname \"$0\")/args\"\n"
                  "printf '%s' \"$SLUICE_JOIN\" >\"$(dirname \"$0\")/join\"\n"
                  "echo '4242;cluster'\n"));
    free(s_script("scancel", "[ \"$1\" = 4242 ] || exit 1\n"));
    free(s_script("squeue",
                  "echo 'sluice-as-1 4242'\necho 'someone-else 11'\n"));
    const char *old = getenv("PATH");
    char *saved = xstrdup(old ? old : "/usr/bin:/bin");
    char *path = xasprintf("%s:%s", s_dir, saved);
    setenv("PATH", path, 1);
    errbuf_t err;
    autoscale_provider_t *p = autoscale_slurm_new("batch", &err);
    ck_assert_ptr_nonnull(p);
    autoscale_shape_t gpu = s_small;
    gpu.gpus = 1;
    char *handle = NULL;
    ck_assert_msg(p->ops->up(p, &gpu, "as-1", "tcp://h:1 K C?token=it's",
                             &handle, &err) == 0,
                  "%s", err.msg);
    ck_assert_str_eq(handle, "4242");
    free(handle);
    char *args_path = xasprintf("%s/args", s_dir);
    char args[4096] = "";
    FILE *f = fopen(args_path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(args, 1, sizeof args - 1, f);
    args[n] = '\0';
    fclose(f);
    ck_assert_ptr_nonnull(strstr(args, "--parsable\n--job-name\nsluice-as-1\n"
                                       "--cpus-per-task\n2\n--mem\n4096\n"
                                       "--gres\ngpu:1\n--partition\nbatch\n"
                                       "--wrap\nexec '"));
    /* The join line, token and all, travels in sbatch's environment, never
     * in the job's command line. */
    ck_assert_ptr_nonnull(strstr(args, " worker --name 'as-1' --slots 2"));
    ck_assert_ptr_null(strstr(args, "token"));
    char *join_path = xasprintf("%s/join", s_dir);
    FILE *jf = fopen(join_path, "r");
    ck_assert_ptr_nonnull(jf);
    char join[256] = "";
    ck_assert_ptr_nonnull(fgets(join, sizeof join, jf));
    fclose(jf);
    ck_assert_str_eq(join, "tcp://h:1 K C?token=it's");
    free(join_path);
    ck_assert_ptr_nonnull(strstr(args, "--gpus 1 --labels 'ssd,fast'"));
    zlistx_t *list = s_list_new();
    ck_assert_int_eq(p->ops->list(p, list, &err), 0);
    ck_assert_uint_eq(zlistx_size(list), 1);
    ck_assert_str_eq(zlistx_first(list), "as-1\t4242");
    zlistx_destroy(&list);
    ck_assert_int_eq(p->ops->down(p, "as-1", "4242", &err), 0);
    ck_assert_int_eq(p->ops->down(p, "as-1", "1", &err), -1);
    autoscale_provider_destroy(&p);
    setenv("PATH", saved, 1);
    free(saved);
    free(path);
    free(args_path);
}

END_TEST

Suite *
autoscale_exec_suite(void)
{
    Suite *s = suite_create("autoscale_exec");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_command_up_list_down);
    tcase_add_test(tc, test_command_up_fails);
    tcase_add_test(tc, test_command_new_refuses);
    tcase_add_test(tc, test_exec_timeout_kills);
    tcase_add_test(tc, test_exec_background_child);
    tcase_add_test(tc, test_exec_env_path_and_bounds);
    tcase_add_test(tc, test_parse_list);
    tcase_add_test(tc, test_slurm_fake_commands);
    suite_add_tcase(s, tc);
    return s;
}
