/* autoscale: the policy driven with a fake provider and a fake clock. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "common/clock.h"
#include "scheduler/autoscale/autoscale.h"
#include "scheduler/autoscale/autoscale_async.h"
#include "tests/unit/suites.h"

typedef struct {
    int ups, downs, drains, events;
    bool fail_up;
    int up_delay_ms;      /* a slow provider program */
    char down_handle[64]; /* what the last down was given */
    char names[32][64];   /* launched, in order */
    char last_kind[64];
    char last_detail[512];
} fake_t;

static int
s_up(autoscale_provider_t *p,
     const autoscale_shape_t *shape,
     const char *worker,
     const char *join,
     char **handle,
     errbuf_t *err)
{
    fake_t *f = p->state;
    ck_assert_ptr_nonnull(strstr(join, "?token="));
    ck_assert_uint_gt(shape->slots, 0);
    if (f->up_delay_ms) {
        usleep((useconds_t) f->up_delay_ms * 1000);
    }
    if (f->fail_up) {
        errbuf_set(err, "no capacity");
        return -1;
    }
    if (f->ups < 32) {
        snprintf(f->names[f->ups], sizeof f->names[0], "%s", worker);
    }
    f->ups++;
    *handle = xasprintf("h%d", f->ups);
    return 0;
}

static int
s_down(autoscale_provider_t *p,
       const char *worker,
       const char *handle,
       errbuf_t *err)
{
    (void) worker;
    (void) err;
    fake_t *f = p->state;
    snprintf(f->down_handle, sizeof f->down_handle, "%s", handle);
    f->downs++;
    return 0;
}

/* The fake's state is the test's own: nothing to free. */
static const autoscale_provider_ops_t s_fake_ops = {
    .name = "fake", .up = s_up, .down = s_down};

static char *
s_join(void *arg, errbuf_t *err)
{
    (void) arg;
    (void) err;
    return xstrdup("sluice://h:1/aa/bb?token=sjt_x");
}

static void
s_drain(void *arg, const char *name)
{
    (void) name;
    ((fake_t *) arg)->drains++;
}

static void
s_event(void *arg, const char *kind, const char *subject, const char *detail)
{
    (void) subject;
    fake_t *f = arg;
    f->events++;
    snprintf(f->last_kind, sizeof f->last_kind, "%s", kind);
    snprintf(f->last_detail, sizeof f->last_detail, "%s", detail);
}

static autoscale_policy_t
s_policy(void)
{
    return (autoscale_policy_t){.min_workers = 0,
                                .max_workers = 4,
                                .max_launch_per_step = 4,
                                .scale_up_delay_ms = 200,
                                .idle_timeout_ms = 2000,
                                .cooldown_ms = 500,
                                .launch_timeout_ms = 1000};
}

static autoscale_t *
s_new(fake_t *f, const autoscale_policy_t *policy, const char *shapes)
{
    autoscale_provider_t *p = xcalloc(1, sizeof *p);
    p->ops = &s_fake_ops;
    p->state = f;
    autoscale_hooks_t hooks = {
        .arg = f, .join = s_join, .drain = s_drain, .event = s_event};
    errbuf_t err;
    autoscale_t *as = autoscale_new(policy, shapes, &p, &hooks, &err);
    ck_assert_msg(as != NULL, "%s", errbuf_msg(&err));
    ck_assert_ptr_null(p);
    return as;
}

/* The fake provider behind autoscale_async, as the scheduler runs the
 * command and slurm providers. */
static autoscale_t *
s_new_async(fake_t *f, const autoscale_policy_t *policy)
{
    autoscale_provider_t *p = xcalloc(1, sizeof *p);
    p->ops = &s_fake_ops;
    p->state = f;
    errbuf_t err;
    autoscale_provider_t *async = autoscale_async_new(&p, &err);
    ck_assert_ptr_nonnull(async);
    ck_assert_ptr_null(p);
    autoscale_hooks_t hooks = {
        .arg = f, .join = s_join, .drain = s_drain, .event = s_event};
    autoscale_t *as =
        autoscale_new(policy, "small:slots=2", &async, &hooks, &err);
    ck_assert_msg(as != NULL, "%s", errbuf_msg(&err));
    return as;
}

/* Steps (real clock) until the last event is `kind`; false after 5 s. */
static bool
s_step_until(autoscale_t *as, fake_t *f, const char *kind)
{
    for (int i = 0; i < 250; i++) {
        autoscale_step(as, clock_mono_ms(), NULL, 0, NULL, 0);
        if (!strcmp(f->last_kind, kind)) {
            return true;
        }
        usleep(20000);
    }
    return false;
}

/* n plain tasks "t0".. with cpus each. */
static autoscale_task_t *
s_tasks(size_t n, uint32_t cpus, char keys[][32])
{
    autoscale_task_t *t = xcalloc(n + 1, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        snprintf(keys[i], 32, "1/t%zu", i);
        t[i] = (autoscale_task_t){.key = keys[i], .id = keys[i], .cpus = cpus};
    }
    return t;
}

START_TEST(test_autoscale_bin_packing)
{
    fake_t f = {0};
    autoscale_policy_t policy = s_policy();
    policy.max_launch_per_step = 2;
    autoscale_t *as =
        s_new(&f, &policy, "small:cpus=2,slots=2; big:cpus=8,slots=4,gpus=1");
    char keys[8][32];
    autoscale_task_t *tasks = s_tasks(5, 1, keys);
    /* Not before scale_up_delay. */
    autoscale_step(as, 1000, tasks, 5, NULL, 0);
    ck_assert_int_eq(f.ups, 0);
    autoscale_step(as, 1200, tasks, 5, NULL, 0);
    ck_assert_int_eq(f.ups, 2); /* 3 small needed, 2 per step */
    ck_assert_ptr_nonnull(strstr(f.names[0], "as-small-"));
    autoscale_step(as, 1500, tasks, 5, NULL, 0); /* cooldown */
    ck_assert_int_eq(f.ups, 2);
    autoscale_step(as, 1700, tasks, 5, NULL, 0);
    ck_assert_int_eq(f.ups, 3); /* the launching two hold 4 tasks */
    for (int64_t t = 1800; t < 2100; t += 100) {
        autoscale_step(as, t, tasks, 5, NULL, 0);
    }
    ck_assert_int_eq(f.ups, 3);
    ck_assert_uint_eq(autoscale_counts(as).launching, 3);
    /* A GPU task goes to the first shape that can run it. */
    tasks[0].gpus = 1;
    autoscale_step(as, 2200, tasks, 5, NULL, 0);
    ck_assert_int_eq(f.ups, 4);
    ck_assert_ptr_nonnull(strstr(f.names[3], "as-big-"));
    free(tasks);
    autoscale_destroy(&as);
}

END_TEST

START_TEST(test_autoscale_no_fit)
{
    fake_t f = {0};
    autoscale_policy_t policy = s_policy();
    autoscale_t *as = s_new(&f, &policy, "small:slots=2,gpus=1,labels=a|b");
    char keys[2][32];
    autoscale_task_t *tasks = s_tasks(1, 0, keys);
    tasks[0].gpus = 4;
    for (int64_t t = 0; t < 3000; t += 100) {
        autoscale_step(as, t, tasks, 1, NULL, 0);
    }
    ck_assert_int_eq(f.ups, 0);
    ck_assert_uint_eq(autoscale_counts(as).unfit, 1);
    ck_assert_str_eq(f.last_kind, "autoscale_unfit");
    ck_assert_ptr_nonnull(strstr(f.last_detail, "needs 4 GPUs"));
    ck_assert_int_eq(f.events, 1); /* said once, not every step */
    const char *labels[] = {"c"};
    snprintf(keys[0], sizeof keys[0], "1/other");
    tasks[0].gpus = 0;
    tasks[0].nlabels = 1;
    tasks[0].labels = labels;
    autoscale_step(as, 3100, tasks, 1, NULL, 0);
    ck_assert_ptr_nonnull(strstr(f.last_detail, "needs label 'c'"));
    labels[0] = "b"; /* fits: label lists use | */
    autoscale_step(as, 3200, tasks, 1, NULL, 0);
    autoscale_step(as, 3400, tasks, 1, NULL, 0);
    ck_assert_int_eq(f.ups, 1);
    free(tasks);
    autoscale_destroy(&as);
}

END_TEST

/* Steady demand: as many launches as workers needed, then idle workers are
 * drained, and removed once they left. */
START_TEST(test_autoscale_steady_and_scale_down)
{
    fake_t f = {0};
    autoscale_policy_t policy = s_policy();
    autoscale_t *as = s_new(&f, &policy, "small:slots=2");
    char keys[8][32];
    autoscale_task_t *tasks = s_tasks(6, 0, keys);
    int64_t t = 0;
    for (; t < 900; t += 100) { /* within launch_timeout */
        autoscale_step(as, t, tasks, 6, NULL, 0);
    }
    ck_assert_int_eq(f.ups, 3);
    /* They join and take the tasks. */
    autoscale_worker_t w[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (autoscale_worker_t){
            .name = f.names[i], .connected = true, .running = 2};
    }
    for (; t < 3000; t += 100) {
        autoscale_step(as, t, NULL, 0, w, 3);
    }
    ck_assert_int_eq(f.ups, 3);
    ck_assert_uint_eq(autoscale_counts(as).joined, 3);
    ck_assert_int_eq(f.drains, 0); /* busy: never drained */
    /* Idle: drained after idle_timeout, not before. */
    for (int i = 0; i < 3; i++) {
        w[i].running = 0;
    }
    int64_t idle = t;
    for (; t < idle + 1900; t += 100) {
        autoscale_step(as, t, NULL, 0, w, 3);
    }
    ck_assert_int_eq(f.drains, 0);
    for (; t < idle + 2600; t += 100) {
        autoscale_step(as, t, NULL, 0, w, 3);
    }
    ck_assert_int_eq(f.drains, 3);
    ck_assert_int_eq(f.downs, 0); /* not removed while still there */
    for (int i = 0; i < 3; i++) {
        w[i].draining = true;
        w[i].connected = false; /* they left */
    }
    autoscale_step(as, t, NULL, 0, w, 3);
    ck_assert_int_eq(f.downs, 3);
    autoscale_counts_t c = autoscale_counts(as);
    ck_assert_uint_eq(c.removed, 3);
    ck_assert_uint_eq(c.launches, 3);
    ck_assert_uint_eq(c.joined + c.draining + c.launching, 0);
    free(tasks);
    autoscale_destroy(&as);
}

END_TEST

/* A drained worker that still runs something is never removed. */
START_TEST(test_autoscale_never_kills_running)
{
    fake_t f = {0};
    autoscale_policy_t policy = s_policy();
    autoscale_t *as = s_new(&f, &policy, "small:slots=1");
    char keys[2][32];
    autoscale_task_t *tasks = s_tasks(1, 0, keys);
    autoscale_step(as, 0, tasks, 1, NULL, 0);
    autoscale_step(as, 300, tasks, 1, NULL, 0);
    ck_assert_int_eq(f.ups, 1);
    autoscale_worker_t w = {.name = f.names[0], .connected = true};
    for (int64_t t = 400; t < 3000; t += 100) {
        autoscale_step(as, t, NULL, 0, &w, 1);
    }
    ck_assert_int_eq(f.drains, 1);
    w.draining = true;
    w.running = 1; /* say a task got in before the drain */
    for (int64_t t = 3000; t < 60000; t += 500) {
        autoscale_step(as, t, NULL, 0, &w, 1);
    }
    ck_assert_int_eq(f.downs, 0);
    free(tasks);
    autoscale_destroy(&as);
}

END_TEST

/* Launches that never join fail after launch_timeout and back off: no
 * storm of launches. */
START_TEST(test_autoscale_failed_launch_backoff)
{
    fake_t f = {0};
    autoscale_policy_t policy = s_policy();
    autoscale_t *as = s_new(&f, &policy, "small:slots=1");
    char keys[2][32];
    autoscale_task_t *tasks = s_tasks(1, 0, keys);
    for (int64_t t = 0; t <= 10000; t += 100) {
        autoscale_step(as, t, tasks, 1, NULL, 0);
    }
    /* up at 200, fail 1200 (backoff 1 s), up 2200, fail 3200 (2 s), up
     * 5200, fail 6200 (4 s), up 10200. */
    ck_assert_int_eq(f.ups, 3);
    ck_assert_int_eq(f.downs, 3);
    ck_assert_uint_eq(autoscale_counts(as).failed, 3);
    /* A provider that refuses at once backs off too. */
    fake_t g = {.fail_up = true};
    autoscale_t *bs = s_new(&g, &policy, "small:slots=1");
    for (int64_t t = 0; t <= 10000; t += 100) {
        autoscale_step(bs, t, tasks, 1, NULL, 0);
    }
    ck_assert_uint_le(autoscale_counts(bs).failed, 4);
    ck_assert_uint_ge(autoscale_counts(bs).failed, 2);
    ck_assert_str_eq(g.last_kind, "autoscale_launch_failed");
    free(tasks);
    autoscale_destroy(&as);
    autoscale_destroy(&bs);
}

END_TEST

START_TEST(test_autoscale_min_max_and_shapes)
{
    fake_t f = {0};
    autoscale_policy_t policy = s_policy();
    policy.min_workers = 1;
    policy.max_workers = 2;
    autoscale_t *as = s_new(&f, &policy, "small");
    autoscale_step(as, 0, NULL, 0, NULL, 0);
    ck_assert_int_eq(f.ups, 1); /* min_workers */
    char keys[8][32];
    autoscale_task_t *tasks = s_tasks(8, 0, keys);
    for (int64_t t = 100; t < 900; t += 100) {
        autoscale_step(as, t, tasks, 8, NULL, 0);
    }
    ck_assert_int_eq(f.ups, 2); /* max_workers */
    free(tasks);
    autoscale_destroy(&as);
    /* Bad shape lists say what is wrong. */
    const char *bad[] = {"", "small:gpus=x", "small:slots=0", "a-b:slots=1",
                         "small:color=red"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        autoscale_provider_t *p = xcalloc(1, sizeof *p);
        p->ops = &s_fake_ops;
        autoscale_hooks_t hooks = {0};
        errbuf_t err;
        errbuf_clear(&err);
        ck_assert_ptr_null(autoscale_new(&policy, bad[i], &p, &hooks, &err));
        ck_assert_msg(strstr(errbuf_msg(&err), "worker_shapes"), "%s: %s",
                      bad[i], errbuf_msg(&err));
        free(p);
    }
}

END_TEST

/* The local provider: a child per worker, listed while it lives, stopped by
 * down, and reaped (no zombie left). */
START_TEST(test_autoscale_local_provider)
{
    char dir[] = "/tmp/sluice-as-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *script = xasprintf("%s/fake-sluice", dir);
    FILE *f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    /* Records its arguments, then waits like a worker. */
    fprintf(f, "#!/bin/sh\necho \"$SLUICE_JOIN\" \"$@\" > "
               "\"$(dirname \"$0\")/args\"\nexec sleep 30\n");
    fclose(f);
    chmod(script, 0700);
    char *work = xasprintf("%s/work", dir);
    errbuf_t err;
    autoscale_provider_t *p = autoscale_local_new(script, work, &err);
    ck_assert_msg(p != NULL, "%s", errbuf_msg(&err));
    autoscale_shape_t shape = {
        .name = "small", .slots = 3, .gpus = 1, .labels = "a,b"};
    char *handle = NULL;
    ck_assert_int_eq(p->ops->up(p, &shape, "as-small-1", "sluice://x?token=t",
                                &handle, &err),
                     0);
    pid_t pid = (pid_t) atoi(handle);
    ck_assert_int_gt(pid, 0);
    zlistx_t *out = zlistx_new();
    zlistx_set_destructor(out, (zlistx_destructor_fn *) zstr_free);
    ck_assert_int_eq(p->ops->list(p, out, &err), 0);
    ck_assert_uint_eq(zlistx_size(out), 1);
    char *want = xasprintf("as-small-1\t%d", (int) pid);
    ck_assert_str_eq(zlistx_first(out), want);
    char *args = xasprintf("%s/args", dir);
    for (int i = 0; i < 100 && access(args, F_OK) < 0; i++) {
        usleep(20 * 1000);
    }
    char line[512] = "";
    usleep(50 * 1000);
    f = fopen(args, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    /* The join line comes in SLUICE_JOIN, never as an argument. */
    ck_assert_msg(!strncmp(line,
                           "sluice://x?token=t worker --name "
                           "as-small-1 --dir ",
                           47) &&
                      strstr(line, "--slots 3 --gpus 1 --labels a,b"),
                  "%s", line);
    ck_assert_int_eq(p->ops->down(p, "as-small-1", handle, &err), 0);
    ck_assert_int_eq(kill(pid, 0), -1); /* gone and reaped */
    ck_assert_int_eq(errno, ESRCH);
    zlistx_purge(out);
    ck_assert_int_eq(p->ops->list(p, out, &err), 0);
    ck_assert_uint_eq(zlistx_size(out), 0);
    ck_assert_int_eq(p->ops->down(p, "as-small-1", handle, &err), 0);
    autoscale_provider_destroy(&p);
    ck_assert_ptr_null(p);
    zlistx_destroy(&out);
    char *rm = xasprintf("rm -rf %s", dir);
    ck_assert_int_eq(system(rm), 0);
    free(rm);
    free(args);
    free(want);
    free(handle);
    free(work);
    free(script);
}

END_TEST

START_TEST(test_autoscale_async_provider_never_blocks_a_step)
{
    /* A provider program that takes 300 ms: the step that launches returns
     * at once, the launch is decided (with the real handle) when it ends. */
    fake_t f = {.up_delay_ms = 300};
    autoscale_policy_t policy = s_policy();
    policy.scale_up_delay_ms = 0;
    policy.cooldown_ms = 0;
    autoscale_t *as = s_new_async(&f, &policy);
    char keys[1][32];
    autoscale_task_t *tasks = s_tasks(1, 1, keys);
    int64_t t0 = clock_mono_ms();
    autoscale_step(as, t0, tasks, 1, NULL, 0);
    autoscale_step(as, t0 + 1, tasks, 1, NULL, 0);
    ck_assert_int_lt(clock_mono_ms() - t0, 150);
    ck_assert_uint_eq(autoscale_counts(as).launching, 1);
    ck_assert(strcmp(f.last_kind, "autoscale_launch") != 0);
    ck_assert(s_step_until(as, &f, "autoscale_launch"));
    ck_assert_msg(strstr(f.last_detail, "handle h1"), "%s", f.last_detail);
    ck_assert_int_eq(f.ups, 1);
    free(tasks);
    autoscale_destroy(&as);
}

END_TEST

START_TEST(test_autoscale_async_provider_failure_backs_off)
{
    /* An `up` that fails in the background fails the launch with the
     * provider's reason, as a synchronous one would. */
    fake_t f = {.fail_up = true, .up_delay_ms = 50};
    autoscale_policy_t policy = s_policy();
    policy.scale_up_delay_ms = 0;
    autoscale_t *as = s_new_async(&f, &policy);
    char keys[1][32];
    autoscale_task_t *tasks = s_tasks(1, 1, keys);
    autoscale_step(as, clock_mono_ms(), tasks, 1, NULL, 0);
    ck_assert(s_step_until(as, &f, "autoscale_launch_failed"));
    ck_assert_msg(strstr(f.last_detail, "no capacity"), "%s", f.last_detail);
    ck_assert_uint_eq(autoscale_counts(as).launching, 0);
    ck_assert_uint_eq(autoscale_counts(as).failed, 1);
    free(tasks);
    autoscale_destroy(&as);
}

END_TEST

START_TEST(test_autoscale_async_down_after_up_gets_its_handle)
{
    /* A down queued while its up still runs goes after it, with the handle
     * the up produced. */
    fake_t f = {.up_delay_ms = 100};
    autoscale_provider_t *p = xcalloc(1, sizeof *p);
    p->ops = &s_fake_ops;
    p->state = &f;
    errbuf_t err;
    autoscale_provider_t *async = autoscale_async_new(&p, &err);
    autoscale_shape_t shape = {.name = "small", .slots = 1};
    char *handle = NULL;
    ck_assert_int_eq(async->ops->up(async, &shape, "as-w", "sluice://x?token=t",
                                    &handle, &err),
                     0);
    ck_assert_str_eq(handle, "");
    free(handle);
    ck_assert_int_eq(async->ops->down(async, "as-w", "", &err), 0);
    for (int i = 0; i < 250 && f.downs == 0; i++) {
        usleep(20000);
    }
    ck_assert_int_eq(f.downs, 1);
    ck_assert_str_eq(f.down_handle, "h1");
    autoscale_provider_destroy(&async);
    ck_assert_ptr_null(async);
}

END_TEST

Suite *
autoscale_suite(void)
{
    Suite *s = suite_create("autoscale");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_autoscale_bin_packing);
    tcase_add_test(tc, test_autoscale_no_fit);
    tcase_add_test(tc, test_autoscale_steady_and_scale_down);
    tcase_add_test(tc, test_autoscale_never_kills_running);
    tcase_add_test(tc, test_autoscale_failed_launch_backoff);
    tcase_add_test(tc, test_autoscale_min_max_and_shapes);
    tcase_add_test(tc, test_autoscale_local_provider);
    tcase_add_test(tc, test_autoscale_async_provider_never_blocks_a_step);
    tcase_add_test(tc, test_autoscale_async_provider_failure_backs_off);
    tcase_add_test(tc, test_autoscale_async_down_after_up_gets_its_handle);
    suite_add_tcase(s, tc);
    return s;
}
