#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/xalloc.h"
#include "tests/unit/suites.h"

typedef struct {
    char dir[64];
    char *path;
} tmp_t;

static void
s_tmp(tmp_t *t, const char *content)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/sluice-config-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t->dir));
    t->path = xasprintf("%s/config.yaml", t->dir);
    if (content) {
        FILE *f = fopen(t->path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(content, f);
        fclose(f);
    }
}

static void
s_tmp_done(tmp_t *t)
{
    unlink(t->path);
    rmdir(t->dir);
    free(t->path);
}

START_TEST(test_config_usage)
{
    config_t *cfg = config_new();
    ck_assert_str_eq(cfg->listen, "tcp://*:7700");
    ck_assert_str_eq(cfg->client_listen, "tcp://127.0.0.1:7701");
    ck_assert_str_eq(cfg->advertise, "");
    ck_assert_int_eq(cfg->heartbeat_ms, 1000);
    ck_assert_int_eq(cfg->liveness, 3);
    ck_assert_int_eq(cfg->task_ttl_ms, 60000);
    ck_assert_int_eq(cfg->kill_grace_ms, 5000);
    ck_assert_int_eq(cfg->log_cap_bytes, 1048576);
    ck_assert_str_eq(cfg->log_level, "info");
    errbuf_t err;
    ck_assert_int_eq(config_set(cfg, "heartbeat_ms", "2s", &err), 0);
    ck_assert_int_eq(cfg->heartbeat_ms, 2000);
    ck_assert(config_has("liveness"));
    ck_assert(!config_has("livenes"));
    config_destroy(&cfg);
    ck_assert_ptr_null(cfg);
}

END_TEST

START_TEST(test_config_values)
{
    config_t *cfg = config_new();
    errbuf_t err;
    ck_assert_int_eq(config_set(cfg, "kill_grace_ms", "1500ms", &err), 0);
    ck_assert_int_eq(cfg->kill_grace_ms, 1500);
    ck_assert_int_eq(config_set(cfg, "task_ttl_ms", "90000", &err), 0);
    ck_assert_int_eq(cfg->task_ttl_ms, 90000);
    ck_assert_int_eq(config_set(cfg, "log_cap_bytes", "64K", &err), 0);
    ck_assert_int_eq(cfg->log_cap_bytes, 65536);
    ck_assert_int_eq(config_set(cfg, "log_cap_bytes", "1M", &err), 0);
    ck_assert_int_eq(cfg->log_cap_bytes, 1048576);
    ck_assert_int_eq(config_set(cfg, "log_level", "debug", &err), 0);
    ck_assert_int_eq(config_set(cfg, "log_level", "loud", &err), -1);
    ck_assert_str_eq(errbuf_msg(&err), "bad value 'loud' for 'log_level'; "
                                       "write one of error, warn, info, "
                                       "debug");
    ck_assert_int_eq(config_set(cfg, "liveness", "3x", &err), -1);
    ck_assert_int_eq(config_set(cfg, "heartbeat_ms", "soon", &err), -1);
    ck_assert_int_eq(config_set(cfg, "hartbeat_ms", "1", &err), -1);
    ck_assert_str_eq(errbuf_msg(&err), "unknown setting 'hartbeat_ms'; did "
                                       "you mean 'heartbeat_ms'?");
    ck_assert_str_eq(cfg->log_level, "debug");
    config_destroy(&cfg);
}

END_TEST

START_TEST(test_config_missing_file_is_defaults)
{
    tmp_t t;
    s_tmp(&t, NULL);
    errbuf_t err;
    config_t *cfg = config_load(t.path, &err);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_int_eq(cfg->heartbeat_ms, 1000);
    config_destroy(&cfg);
    s_tmp_done(&t);
}

END_TEST

START_TEST(test_config_round_trip)
{
    config_t *cfg = config_new();
    errbuf_t err;
    ck_assert_int_eq(config_set(cfg, "advertise", "sched.example:7700", &err),
                     0);
    ck_assert_int_eq(config_set(cfg, "listen", "tcp://*:9000", &err), 0);
    ck_assert_int_eq(config_set(cfg, "liveness", "5", &err), 0);
    ck_assert_int_eq(config_set(cfg, "log_cap_bytes", "64K", &err), 0);
    char *printed = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&printed, &size);
    config_print(cfg, mem);
    fclose(mem);

    tmp_t t;
    s_tmp(&t, printed);
    config_t *back = config_load(t.path, &err);
    ck_assert_msg(back, "%s", errbuf_msg(&err));
    char *again = NULL;
    mem = open_memstream(&again, &size);
    config_print(back, mem);
    fclose(mem);
    ck_assert_str_eq(printed, again);
    ck_assert_str_eq(back->advertise, "sched.example:7700");
    ck_assert_str_eq(back->listen, "tcp://*:9000");
    ck_assert_int_eq(back->liveness, 5);
    ck_assert_int_eq(back->log_cap_bytes, 65536);

    /* Defaults round-trip too, "" included. */
    config_destroy(&back);
    config_destroy(&cfg);
    cfg = config_new();
    free(printed);
    mem = open_memstream(&printed, &size);
    config_print(cfg, mem);
    fclose(mem);
    ck_assert_ptr_nonnull(strstr(printed, "advertise: \"\""));
    s_tmp_done(&t);
    s_tmp(&t, printed);
    back = config_load(t.path, &err);
    ck_assert_ptr_nonnull(back);
    ck_assert_str_eq(back->advertise, "");
    ck_assert_str_eq(back->listen, "tcp://*:7700");
    config_destroy(&back);
    config_destroy(&cfg);
    free(printed);
    free(again);
    s_tmp_done(&t);
}

END_TEST

START_TEST(test_config_file_errors)
{
    tmp_t t;
    s_tmp(&t, "listen: tcp://*:7700\nheartbeat: 2s\n");
    errbuf_t err;
    ck_assert_ptr_null(config_load(t.path, &err));
    char *want = xasprintf("%s:2:1: unknown setting 'heartbeat'; did you mean "
                           "'heartbeat_ms'?",
                           t.path);
    ck_assert_str_eq(errbuf_msg(&err), want);
    free(want);
    s_tmp_done(&t);

    s_tmp(&t, "liveness: many\n");
    ck_assert_ptr_null(config_load(t.path, &err));
    want = xasprintf("%s:1:11: bad value 'many' for 'liveness'; write a whole "
                     "number",
                     t.path);
    ck_assert_str_eq(errbuf_msg(&err), want);
    free(want);
    s_tmp_done(&t);

    s_tmp(&t, "liveness: [3\n");
    ck_assert_ptr_null(config_load(t.path, &err));
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "YAML syntax error"));
    s_tmp_done(&t);

    s_tmp(&t, "a: &x 1\nb: *x\n");
    ck_assert_ptr_null(config_load(t.path, &err));
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "aliases are not"));
    s_tmp_done(&t);
}

END_TEST

Suite *
config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_config_usage);
    tcase_add_test(tc, test_config_values);
    tcase_add_test(tc, test_config_missing_file_is_defaults);
    tcase_add_test(tc, test_config_round_trip);
    tcase_add_test(tc, test_config_file_errors);
    suite_add_tcase(s, tc);
    return s;
}
