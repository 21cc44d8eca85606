/* The alert rules without a scheduler: kinds, the retry schedule, the rate
 * limit, the signature, the event's JSON, config targets and routes, DAG
 * routes, the queue's once-per-(run, task, kind, target), and a command
 * target's delivery. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alert.h"
#include "common/config.h"
#include "common/dag.h"
#include "common/xalloc.h"
#include "scheduler/alert_send.h"
#include "scheduler/store/store_alerts.h"
#include "tests/unit/suites.h"

START_TEST(test_alert_usage)
{
    /* A route names events; the scheduler signs what it posts. */
    alert_kind_t kind;
    ck_assert_int_eq(alert_kind_parse("sla_miss", &kind), 0);
    ck_assert_int_eq(kind, ALERT_SLA_MISS);
    ck_assert_str_eq(alert_kind_name(ALERT_VALIDATION_BREACH),
                     "validation_breach");
    ck_assert_int_eq(alert_kind_parse("failed", &kind), -1);
    ck_assert_str_eq(alert_kind_hint("failur"), "failure");
    for (int k = 0; k < ALERT_KIND_COUNT; k++) {
        ck_assert_int_eq(alert_kind_parse(alert_kind_name(k), &kind), 0);
        ck_assert_int_eq(kind, k);
    }
}

END_TEST

START_TEST(test_alert_backoff)
{
    /* 1 s doubling, capped at 10 minutes: a day of retries is ~150 tries. */
    ck_assert_int_eq(alert_backoff_ms(1), 1000);
    ck_assert_int_eq(alert_backoff_ms(2), 2000);
    ck_assert_int_eq(alert_backoff_ms(3), 4000);
    ck_assert_int_eq(alert_backoff_ms(10), 512000);
    ck_assert_int_eq(alert_backoff_ms(11), 600000);
    ck_assert_int_eq(alert_backoff_ms(100000), 600000);
    ck_assert_int_eq(alert_backoff_ms(0), 1000);
    int64_t t = 0;
    uint32_t tries = 0;
    while (t < ALERT_RETRY_FOR_MS) {
        t += alert_backoff_ms(++tries);
    }
    ck_assert_uint_ge(tries, 140);
    ck_assert_uint_le(tries, 160);
}

END_TEST

START_TEST(test_alert_rate)
{
    alert_rate_t *rate = alert_rate_new(3);
    int64_t retry = 0;
    ck_assert(alert_rate_take(rate, "ops", 0, &retry));
    ck_assert(alert_rate_take(rate, "ops", 10, &retry));
    ck_assert(alert_rate_take(rate, "ops", 20, &retry));
    ck_assert(!alert_rate_take(rate, "ops", 30, &retry));
    ck_assert_int_eq(retry, 60000); /* the oldest leaves the window */
    ck_assert(alert_rate_take(rate, "mail", 30, &retry)); /* per target */
    ck_assert(!alert_rate_take(rate, "ops", 59999, &retry));
    ck_assert(alert_rate_take(rate, "ops", 60000, &retry));
    ck_assert(!alert_rate_take(rate, "ops", 60005, &retry));
    ck_assert_int_eq(retry, 60010);
    alert_rate_destroy(&rate);
    ck_assert_ptr_null(rate);
    alert_rate_t *none = alert_rate_new(0);
    for (int i = 0; i < 1000; i++) {
        ck_assert(alert_rate_take(none, "ops", 0, NULL));
    }
    alert_rate_destroy(&none);
}

END_TEST

START_TEST(test_alert_signature)
{
    /* RFC 4231, test case 2. */
    char hex[65];
    const char *data = "what do ya want for nothing?";
    alert_sign("Jefe", data, strlen(data), hex);
    ck_assert_str_eq(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

END_TEST

START_TEST(test_alert_event_json)
{
    alert_event_t ev = {.id = "abc",
                        .kind = ALERT_FAILURE,
                        .dag = "daily",
                        .run_id = 7,
                        .logical_date = "2027-03-28",
                        .task = "load",
                        .attempt = 2,
                        .cause = "exit 3",
                        .at_ms = 1000,
                        .log = "one\n\"two\"\n"};
    char *json = alert_event_json(&ev);
    ck_assert_str_eq(json, "{\"id\":\"abc\",\"kind\":\"failure\",\"dag\":"
                           "\"daily\",\"run\":7,\"logical_date\":"
                           "\"2027-03-28\",\"task\":\"load\",\"attempt\":2,"
                           "\"cause\":\"exit 3\",\"at_ms\":1000,\"log\":["
                           "\"one\",\"\\\"two\\\"\"],\"more\":\"sluice logs "
                           "7 load --attempt 2\",\"test\":false}");
    free(json);
    char *slack = alert_event_slack(&ev);
    ck_assert_str_eq(slack, "{\"text\":\"sluice failure: DAG 'daily' run 7 "
                            "task 'load' (2027-03-28): exit 3; see `sluice "
                            "logs 7 load --attempt 2`\",\"id\":\"abc\"}");
    free(slack);
    const char *text = "a\nb\nc\nd\n";
    ck_assert_str_eq(alert_tail_lines(text, strlen(text), 2), "c\nd\n");
    ck_assert_str_eq(alert_tail_lines(text, strlen(text), 9), text);
    ck_assert_str_eq(alert_tail_lines("x\ny", 3, 1), "y");
}

END_TEST

static char *
s_write_tmp(char *dir, const char *name, const char *text)
{
    strcpy(dir, "/tmp/sluice-alert-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void
s_rm_tmp(char *dir, char *path)
{
    unlink(path);
    free(path);
    rmdir(dir);
}

START_TEST(test_alert_config_targets)
{
    char dir[64];
    char *path = s_write_tmp(dir, "config.yaml",
                             "alert_route: {on: [failure, retry], to: [ops]}\n"
                             "alert_targets:\n"
                             "  ops: {kind: webhook, url: 'https://h/x',"
                             " secret: hush, format: slack}\n"
                             "  mail:\n"
                             "    kind: command\n"
                             "    command: [sendmail, oncall@example.com]\n"
                             "    timeout: 3s\n");
    errbuf_t err;
    config_t *cfg = config_load(path, &err);
    ck_assert_msg(cfg, "%s", errbuf_msg(&err));
    ck_assert_uint_eq(cfg->ntargets, 2);
    const config_target_t *ops = config_target(cfg, "ops");
    ck_assert_int_eq(ops->kind, CONFIG_TARGET_WEBHOOK);
    ck_assert(ops->slack);
    ck_assert_str_eq(ops->secret, "hush");
    const config_target_t *mail = config_target(cfg, "mail");
    ck_assert_str_eq(mail->argv[1], "oncall@example.com");
    ck_assert_ptr_null(mail->argv[2]);
    ck_assert_uint_eq(mail->timeout_ms, 3000);
    ck_assert_uint_eq(cfg->default_on,
                      ALERT_BIT(ALERT_FAILURE) | ALERT_BIT(ALERT_RETRY));
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    config_print(cfg, f);
    fclose(f);
    ck_assert_ptr_null(strstr(out, "hush"));
    ck_assert_ptr_nonnull(strstr(out, "secret: \"***\""));
    ck_assert_ptr_nonnull(strstr(out, "command: [\"sendmail\""));
    free(out);
    config_destroy(&cfg);
    s_rm_tmp(dir, path);

    path = s_write_tmp(dir, "config.yaml",
                       "alert_route: {on: [failure], to: [nobody]}\n");
    ck_assert_ptr_null(config_load(path, &err));
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "target 'nobody'"));
    s_rm_tmp(dir, path);
    path =
        s_write_tmp(dir, "config.yaml",
                    "alert_targets:\n  ops: {kind: webhook, url: ftp://x}\n");
    ck_assert_ptr_null(config_load(path, &err));
    ck_assert_msg(strstr(errbuf_msg(&err), "config.yaml:2:"), "%s",
                  errbuf_msg(&err));
    s_rm_tmp(dir, path);
}

END_TEST

START_TEST(test_alert_dag_routes)
{
    const char *text = "dag: d\n"
                       "alerts:\n"
                       "  - {on: [failure, sla_miss], to: [ops, mail]}\n"
                       "  - on: success\n"
                       "    to: [ops]\n"
                       "tasks: [{id: a, run: x}]\n";
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    dag_t *dag = dag_parse("d.yaml", text, strlen(text), errors);
    ck_assert_ptr_nonnull(dag);
    ck_assert_uint_eq(dag_alert_route_count(dag), 2);
    const dag_alert_route_t *r = dag_alert_route(dag, 0);
    ck_assert_uint_eq(r->on,
                      ALERT_BIT(ALERT_FAILURE) | ALERT_BIT(ALERT_SLA_MISS));
    ck_assert_uint_eq(r->nto, 2);
    ck_assert_str_eq(r->to[1], "mail");
    ck_assert_uint_eq(dag_alert_route(dag, 1)->on, ALERT_BIT(ALERT_SUCCESS));
    dag_destroy(&dag);
    const char *bad = "dag: d\n"
                      "alerts:\n"
                      "  - {on: [failur], to: [ops]}\n"
                      "  - {on: [retry]}\n"
                      "tasks: [{id: a, run: x}]\n";
    ck_assert_ptr_null(dag_parse("d.yaml", bad, strlen(bad), errors));
    ck_assert_uint_eq(zlist_size(errors), 2);
    const char *e = zlist_first(errors);
    ck_assert_msg(strstr(e, "d.yaml:3:") && strstr(e, "'failure'"), "%s", e);
    e = zlist_next(errors);
    ck_assert_msg(strstr(e, "d.yaml:4:") && strstr(e, "'to'"), "%s", e);
    zlist_purge(errors);
    const char *timed = "dag: d\n"
                        "deadline: 2h\n"
                        "expect: {success_by: \"12:00\"}\n"
                        "tasks: [{id: a, run: x, sla: 90s}, {id: b, run: y}]\n";
    dag = dag_parse("d.yaml", timed, strlen(timed), errors);
    ck_assert_ptr_nonnull(dag);
    ck_assert_uint_eq(dag_deadline_ms(dag), 7200000);
    ck_assert_str_eq(dag_expect_success_by(dag), "12:00");
    ck_assert_uint_eq(dag_task(dag, 0)->sla_ms, 90000);
    ck_assert_uint_eq(dag_task(dag, 1)->sla_ms, 0);
    dag_destroy(&dag);
    const char *untimed = "dag: d\n"
                          "deadline: soon\n"
                          "expect: {success_by: \"25:00\"}\n"
                          "tasks: [{id: a, run: x, sla: 0s}]\n";
    ck_assert_ptr_null(dag_parse("d.yaml", untimed, strlen(untimed), errors));
    ck_assert_uint_eq(zlist_size(errors), 3);
    e = zlist_first(errors);
    ck_assert_msg(strstr(e, "d.yaml:2:11: 'deadline'"), "%s", e);
    e = zlist_next(errors);
    ck_assert_msg(strstr(e, "d.yaml:3:22: 'success_by'"), "%s", e);
    e = zlist_next(errors);
    ck_assert_msg(strstr(e, "d.yaml:4:") && strstr(e, "'sla'"), "%s", e);
    zlist_destroy(&errors);
}

END_TEST

START_TEST(test_alert_queue_once)
{
    char dir[64];
    char *path = s_write_tmp(dir, "dag.yaml",
                             "dag: d\nalerts: [{on: [failure], to: [ops]}]\n"
                             "tasks: [{id: a, run: x}]\n");
    char *db = xasprintf("%s/store.db", dir);
    errbuf_t err;
    store_t *store = store_open(db, &err);
    ck_assert_msg(store, "%s", errbuf_msg(&err));
    zlist_t *errors = zlist_new();
    dag_t *dag = dag_parse_file(path, errors);
    ck_assert_ptr_nonnull(dag);
    ck_assert_int_eq(store_alert_dag_put(store, "d", dag, &err), 0);
    zlistx_t *targets = zlistx_new();
    zlistx_set_destructor(targets, (zlistx_destructor_fn *) zstr_free);
    zlistx_set_comparator(targets, (zlistx_comparator_fn *) strcmp);
    bool has = false;
    ck_assert_int_eq(store_alert_routes_get(store, "d", ALERT_BIT(ALERT_RETRY),
                                            targets, &has, &err),
                     0);
    ck_assert(has);
    ck_assert_uint_eq(zlistx_size(targets), 0); /* routed, not for retry */
    ck_assert_int_eq(store_alert_routes_get(store, "d",
                                            ALERT_BIT(ALERT_FAILURE), targets,
                                            &has, &err),
                     0);
    ck_assert_str_eq(zlistx_first(targets), "ops");
    ck_assert_int_eq(
        store_alert_routes_get(store, "other", 1, targets, &has, &err), 0);
    ck_assert(!has); /* no routes: the config's default applies */
    store_alert_t a = {.uid = "u1",
                       .dag = "d",
                       .run_id = 1,
                       .task_id = "a",
                       .kind = "failure",
                       .target = "ops",
                       .body = "{}"};
    bool added = false;
    ck_assert_int_eq(store_alert_add(store, &a, 100, &added, &err), 0);
    ck_assert(added);
    a.uid = "u2";
    ck_assert_int_eq(store_alert_add(store, &a, 200, &added, &err), 0);
    ck_assert(!added); /* one per (run, task, kind, target) */
    int64_t next = 0;
    ck_assert_int_eq(store_alerts_next(store, &next, &err), 0);
    ck_assert_int_eq(next, 100);
    ck_assert_int_eq(
        store_alert_outcome(store, 1, false, "503", 5000, 300, &err), 0);
    ck_assert_int_eq(store_alerts_next(store, &next, &err), 0);
    ck_assert_int_eq(next, 5000);
    ck_assert_int_eq(store_alert_outcome(store, 1, true, NULL, 0, 5001, &err),
                     0);
    ck_assert_int_eq(store_alerts_next(store, &next, &err), 0);
    ck_assert_int_eq(next, -1);
    zlistx_destroy(&targets);
    zlist_destroy(&errors);
    dag_destroy(&dag);
    store_destroy(&store);
    char *wal = xasprintf("%s-wal", db), *shm = xasprintf("%s-shm", db);
    unlink(wal), unlink(shm), unlink(db);
    free(wal), free(shm), free(db);
    s_rm_tmp(dir, path);
}

END_TEST

START_TEST(test_alert_command_target)
{
    char dir[64];
    char *path = s_write_tmp(dir, "got", "");
    char *script = xasprintf("cat > %s", path);
    char *argv[] = {"sh", "-c", script, NULL};
    config_target_t t = {.name = "cmd",
                         .kind = CONFIG_TARGET_COMMAND,
                         .argv = argv,
                         .timeout_ms = 5000};
    errbuf_t err;
    ck_assert_int_eq(alert_send_one(&t, "u", "{\"kind\":\"failure\"}", &err),
                     0);
    FILE *f = fopen(path, "r");
    char buf[64] = "";
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    ck_assert_str_eq(buf, "{\"kind\":\"failure\"}");
    char *fail[] = {"sh", "-c", "echo no mailbox >&2; exit 3", NULL};
    t.argv = fail;
    ck_assert_int_eq(alert_send_one(&t, "u", "{}", &err), -1);
    ck_assert_str_eq(errbuf_msg(&err), "'sh' exited with 3: no mailbox");
    char *slow[] = {"sleep", "10", NULL};
    t.argv = slow;
    t.timeout_ms = 200;
    ck_assert_int_eq(alert_send_one(&t, "u", "{}", &err), -1);
    ck_assert_msg(strstr(errbuf_msg(&err), "timeout"), "%s", errbuf_msg(&err));
    free(script);
    s_rm_tmp(dir, path);
}

END_TEST

Suite *
alert_suite(void)
{
    Suite *s = suite_create("alert");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_alert_usage);
    tcase_add_test(tc, test_alert_backoff);
    tcase_add_test(tc, test_alert_rate);
    tcase_add_test(tc, test_alert_signature);
    tcase_add_test(tc, test_alert_event_json);
    tcase_add_test(tc, test_alert_config_targets);
    tcase_add_test(tc, test_alert_dag_routes);
    tcase_add_test(tc, test_alert_queue_once);
    tcase_add_test(tc, test_alert_command_target);
    suite_add_tcase(s, tc);
    return s;
}
