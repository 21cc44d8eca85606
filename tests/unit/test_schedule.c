#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cron.h"
#include "common/dag.h"
#include "common/dtime.h"
#include "common/tz.h"
#include "scheduler/schedule.h"
#include "tests/unit/suites.h"

#define SEC  1000LL
#define HOUR (3600 * SEC)

/* A schedule to test against: owns its cron and zone. */
typedef struct {
    cron_t *cron;
    tz_t *tz;
    schedule_spec_t spec;
} fixture_t;

static fixture_t
s_fixture(const char *expr, const char *zone, const char *start)
{
    fixture_t f = {0};
    f.cron = cron_parse(expr, NULL);
    f.tz = tz_load(zone, NULL);
    ck_assert_ptr_nonnull(f.cron);
    ck_assert_ptr_nonnull(f.tz);
    f.spec = (schedule_spec_t){
        .cron = f.cron, .tz = f.tz, .end_ms = INT64_MAX, .catchup = false};
    ck_assert_int_eq(dtime_parse(start, f.tz, &f.spec.start_ms, NULL), 0);
    return f;
}

static void
s_fixture_free(fixture_t *f)
{
    cron_destroy(&f->cron);
    tz_destroy(&f->tz);
}

static int64_t
s_at(const fixture_t *f, const char *text)
{
    int64_t ms = 0;
    ck_assert_int_eq(dtime_parse(text, f->tz, &ms, NULL), 0);
    return ms;
}

START_TEST(test_schedule_usage)
{
    /* "@every 2s" from 10:00:00: the first interval is [10:00:00,
     * 10:00:02) and its run starts at 10:00:02. */
    fixture_t f = s_fixture("@every 2s", "UTC", "2027-01-01T10:00:00Z");
    int64_t t0 = f.spec.start_ms;
    schedule_interval_t iv;
    ck_assert(schedule_interval_at(&f.spec, t0, &iv));
    ck_assert_int_eq(iv.start, t0);
    ck_assert_int_eq(iv.end, t0 + 2 * SEC);
    schedule_interval_t due[8];
    ck_assert_uint_eq(schedule_due(&f.spec, 0, t0 + 1 * SEC, due, 8), 0);
    ck_assert_uint_eq(schedule_due(&f.spec, 0, t0 + 2 * SEC, due, 8), 1);
    ck_assert_int_eq(due[0].start, t0);
    ck_assert_int_eq(schedule_next_fire(&f.spec, due[0].end, t0 + 2 * SEC),
                     t0 + 4 * SEC);
    s_fixture_free(&f);
}

END_TEST

START_TEST(test_schedule_catchup_runs_every_missed_interval)
{
    fixture_t f = s_fixture("@every 2s", "UTC", "2027-01-01T10:00:00Z");
    f.spec.catchup = true;
    int64_t t0 = f.spec.start_ms;
    schedule_interval_t due[8];
    /* the last run covered [t0, t0+2s); down until t0+9s */
    size_t n = schedule_due(&f.spec, t0 + 2 * SEC, t0 + 9 * SEC, due, 8);
    ck_assert_uint_eq(n, 3);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(due[i].start, t0 + (2 + 2 * (int64_t) i) * SEC);
        ck_assert_int_eq(due[i].end, due[i].start + 2 * SEC);
    }
    /* a full out: the rest comes at the next call */
    ck_assert_uint_eq(schedule_due(&f.spec, t0 + 2 * SEC, t0 + 9 * SEC, due, 2),
                      2);
    ck_assert_uint_eq(schedule_due(&f.spec, due[1].end, t0 + 9 * SEC, due, 2),
                      1);
    ck_assert_int_eq(due[0].start, t0 + 6 * SEC);
    s_fixture_free(&f);
}

END_TEST

START_TEST(test_schedule_no_catchup_runs_only_the_latest)
{
    fixture_t f = s_fixture("@every 2s", "UTC", "2027-01-01T10:00:00Z");
    int64_t t0 = f.spec.start_ms;
    schedule_interval_t due[8];
    size_t n = schedule_due(&f.spec, t0 + 2 * SEC, t0 + 9 * SEC, due, 8);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(due[0].start, t0 + 6 * SEC);
    ck_assert_int_eq(due[0].end, t0 + 8 * SEC);
    /* never run before, start_date long ago: also only the latest */
    n = schedule_due(&f.spec, 0, t0 + 101 * SEC, due, 8);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(due[0].start, t0 + 98 * SEC);
    /* nothing more until the next one ends */
    ck_assert_uint_eq(
        schedule_due(&f.spec, t0 + 100 * SEC, t0 + 101 * SEC, due, 8), 0);
    ck_assert_int_eq(
        schedule_next_fire(&f.spec, t0 + 100 * SEC, t0 + 101 * SEC),
        t0 + 102 * SEC);
    s_fixture_free(&f);
}

END_TEST

START_TEST(test_schedule_start_and_end_date)
{
    /* hourly from 10:30: the first interval starts at 11:00 */
    fixture_t f = s_fixture("@hourly", "UTC", "2027-01-01T10:30:00Z");
    f.spec.end_ms = s_at(&f, "2027-01-01T14:00:00Z");
    schedule_interval_t iv, due[8];
    ck_assert(schedule_interval_at(&f.spec, f.spec.start_ms, &iv));
    ck_assert_int_eq(iv.start, s_at(&f, "2027-01-01T11:00:00Z"));
    /* the last interval starts at end_date (14:00) */
    ck_assert(
        schedule_interval_at(&f.spec, s_at(&f, "2027-01-01T14:00:00Z"), &iv));
    ck_assert(
        !schedule_interval_at(&f.spec, s_at(&f, "2027-01-01T14:00:01Z"), &iv));
    /* a day later, without catchup: that last one, once */
    int64_t now = s_at(&f, "2027-01-02T12:00:00Z");
    ck_assert_uint_eq(schedule_due(&f.spec, 0, now, due, 8), 1);
    ck_assert_int_eq(due[0].start, s_at(&f, "2027-01-01T14:00:00Z"));
    ck_assert_uint_eq(schedule_due(&f.spec, due[0].end, now, due, 8), 0);
    ck_assert_int_eq(schedule_next_fire(&f.spec, due[0].end, now), -1);
    /* with catchup: 11, 12, 13, 14 */
    f.spec.catchup = true;
    ck_assert_uint_eq(schedule_due(&f.spec, 0, now, due, 8), 4);
    ck_assert_int_eq(due[3].start, s_at(&f, "2027-01-01T14:00:00Z"));
    s_fixture_free(&f);
}

END_TEST

START_TEST(test_schedule_daily_intervals_across_dst)
{
    fixture_t f = s_fixture("@daily", "Europe/Berlin", "2027-03-01");
    schedule_interval_t iv;
    /* spring forward: the day of 2027-03-28 is 23 hours long */
    ck_assert(schedule_interval_at(&f.spec, s_at(&f, "2027-03-28"), &iv));
    ck_assert_int_eq(iv.start, s_at(&f, "2027-03-28T00:00:00+01:00"));
    ck_assert_int_eq(iv.end - iv.start, 23 * HOUR);
    /* fall back: 2027-10-31 is 25 hours long */
    ck_assert(schedule_interval_at(&f.spec, s_at(&f, "2027-10-31"), &iv));
    ck_assert_int_eq(iv.end - iv.start, 25 * HOUR);
    s_fixture_free(&f);
}

END_TEST

START_TEST(test_schedule_upcoming_across_dst)
{
    fixture_t f = s_fixture("0 2 * * *", "Europe/Berlin", "2027-01-01");
    schedule_interval_t ivs[3];
    size_t n = schedule_upcoming(&f.spec, s_at(&f, "2027-03-27T12:00"), ivs, 3);
    ck_assert_uint_eq(n, 3);
    /* 02:00 does not exist on 03-28: that run starts at 03:00+02:00 */
    ck_assert_int_eq(ivs[0].end, s_at(&f, "2027-03-28T03:00:00+02:00"));
    ck_assert_int_eq(ivs[0].start, s_at(&f, "2027-03-27T02:00:00+01:00"));
    ck_assert_int_eq(ivs[1].start, ivs[0].end);
    ck_assert_int_eq(ivs[1].end, s_at(&f, "2027-03-29T02:00:00+02:00"));
    /* from inside an interval: that interval comes first */
    n = schedule_upcoming(&f.spec, s_at(&f, "2027-03-27T01:00"), ivs, 1);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(ivs[0].end, s_at(&f, "2027-03-27T02:00:00+01:00"));
    s_fixture_free(&f);
}

END_TEST

START_TEST(test_schedule_resolve)
{
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    const char *yaml = "dag: d\n"
                       "schedule: '@daily'\n"
                       "timezone: Europe/Berlin\n"
                       "start_date: 2027-01-01\n"
                       "catchup: true\n"
                       "tasks: [{id: a, run: x}]\n";
    dag_t *dag = dag_parse("d.yaml", yaml, strlen(yaml), errors);
    ck_assert_ptr_nonnull(dag);
    schedule_spec_t spec;
    cron_t *cron;
    tz_t *tz;
    ck_assert_int_eq(
        schedule_resolve("UTC", dag, 12345, &spec, &cron, &tz, NULL), 0);
    ck_assert_str_eq(tz_name(tz), "Europe/Berlin");
    ck_assert(spec.catchup);
    ck_assert_int_eq(spec.start_ms, 1798758000000LL); /* 2026-12-31T23:00Z */
    ck_assert_int_eq(spec.end_ms, INT64_MAX);
    cron_destroy(&cron);
    tz_destroy(&tz);
    dag_destroy(&dag);
    /* no start_date: when first applied, to the second; the config's zone */
    yaml = "dag: d\nschedule: '@every 5s'\ntasks: [{id: a, run: x}]\n";
    dag = dag_parse("d.yaml", yaml, strlen(yaml), errors);
    ck_assert_int_eq(
        schedule_resolve("Asia/Tokyo", dag, 12345, &spec, &cron, &tz, NULL), 0);
    ck_assert_int_eq(spec.start_ms, 12000);
    ck_assert_str_eq(tz_name(tz), "Asia/Tokyo");
    cron_destroy(&cron);
    tz_destroy(&tz);
    dag_destroy(&dag);
    zlist_destroy(&errors);
}

END_TEST

START_TEST(test_schedule_dag_keys_checked)
{
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    const char *yaml = "dag: d\n"
                       "schedule: '0 2 * * *'\n"
                       "timezone: Mars/Olympus\n"
                       "start_date: yesterday\n"
                       "catchup: maybe\n"
                       "tasks: [{id: a, run: x}]\n";
    ck_assert_ptr_null(dag_parse("d.yaml", yaml, strlen(yaml), errors));
    ck_assert_uint_eq(zlist_size(errors), 3);
    const char *e = zlist_first(errors);
    ck_assert_msg(strstr(e, "d.yaml:3:11: 'timezone'") && strstr(e, "Mars"),
                  "%s", e);
    e = zlist_next(errors);
    ck_assert_msg(strstr(e, "d.yaml:4:13: 'start_date': 'yesterday' is not"),
                  "%s", e);
    e = zlist_next(errors);
    ck_assert_msg(strstr(e, "d.yaml:5:10: 'catchup' must be true or false"),
                  "%s", e);
    zlist_purge(errors);
    yaml = "dag: d\nschedule: '@daily'\nstart_date: 2027-02-01\n"
           "end_date: 2027-01-01\ntasks: [{id: a, run: x}]\n";
    ck_assert_ptr_null(dag_parse("d.yaml", yaml, strlen(yaml), errors));
    ck_assert_msg(strstr(zlist_first(errors), "d.yaml:4:11: 'end_date'"), "%s",
                  (char *) zlist_first(errors));
    zlist_destroy(&errors);
}

END_TEST

START_TEST(test_schedule_dtime_forms)
{
    tz_t *berlin = tz_load("Europe/Berlin", NULL);
    int64_t ms = 0;
    ck_assert_int_eq(dtime_parse("2027-01-01", berlin, &ms, NULL), 0);
    ck_assert_int_eq(ms, 1798758000000LL);
    ck_assert_int_eq(dtime_parse("2027-01-01T00:00:00Z", berlin, &ms, NULL), 0);
    ck_assert_int_eq(ms, 1798761600000LL);
    ck_assert_int_eq(
        dtime_parse("2027-01-01 01:00:00+01:00", berlin, &ms, NULL), 0);
    ck_assert_int_eq(ms, 1798761600000LL);
    /* in the spring-forward gap: the first instant after it */
    ck_assert_int_eq(dtime_parse("2027-03-28T02:30", berlin, &ms, NULL), 0);
    int64_t three = 0;
    dtime_parse("2027-03-28T03:00:00+02:00", berlin, &three, NULL);
    ck_assert_int_eq(ms, three);
    errbuf_t err;
    static const char *const bad[] = {"",
                                      "2027-02-30",
                                      "2027-1-1",
                                      "2027-01-01T25:00",
                                      "2027-01-01T10:00+1",
                                      "2027-01-01x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms = 7;
        ck_assert_int_eq(dtime_parse(bad[i], berlin, &ms, &err), -1);
        ck_assert_int_eq(ms, 7);
        ck_assert_msg(strstr(errbuf_msg(&err), "write a date like"), "%s",
                      errbuf_msg(&err));
    }
    ck_assert(dtime_is_date("2027-01-01"));
    ck_assert(!dtime_is_date("2027-01-01T00:00"));
    tz_destroy(&berlin);
}

END_TEST

Suite *
schedule_suite(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_schedule_usage);
    tcase_add_test(tc, test_schedule_catchup_runs_every_missed_interval);
    tcase_add_test(tc, test_schedule_no_catchup_runs_only_the_latest);
    tcase_add_test(tc, test_schedule_start_and_end_date);
    tcase_add_test(tc, test_schedule_daily_intervals_across_dst);
    tcase_add_test(tc, test_schedule_upcoming_across_dst);
    tcase_add_test(tc, test_schedule_resolve);
    tcase_add_test(tc, test_schedule_dag_keys_checked);
    tcase_add_test(tc, test_schedule_dtime_forms);
    suite_add_tcase(s, tc);
    return s;
}
