#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/cron.h"
#include "common/tz.h"
#include "tests/unit/suites.h"

#define S_MIN  ((int64_t) 60 * 1000)
#define S_HOUR (60 * S_MIN)
#define S_DAY  (24 * S_HOUR)

/* "2027-03-28T01:00:00Z" to UTC ms (timegm reads no TZ). */
static int64_t
s_ms(const char *iso)
{
    struct tm tm = {0};
    int n = sscanf(iso, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon,
                   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
    ck_assert_msg(n == 6, "bad test instant '%s'", iso);
    tm.tm_year -= 1900, tm.tm_mon -= 1;
    return (int64_t) timegm(&tm) * 1000;
}

static const char *
s_utc(int64_t ms, char buf[32])
{
    return ms < 0 ? "none" : clock_fmt_iso(ms, buf, 32);
}

static cron_t *
s_cron(const char *expr)
{
    errbuf_t err = {{0}};
    cron_t *cron = cron_parse(expr, &err);
    ck_assert_msg(cron != NULL, "'%s': %s", expr, err.msg);
    return cron;
}

static tz_t *
s_zone(const char *name)
{
    errbuf_t err = {{0}};
    tz_t *tz = tz_load(name, &err);
    ck_assert_msg(tz != NULL, "%s", err.msg);
    return tz;
}

START_TEST(test_cron_usage)
{
    errbuf_t err = {{0}};
    cron_t *daily = cron_parse("0 2 * * *", &err);
    ck_assert_msg(daily != NULL, "%s", err.msg);
    tz_t *berlin = tz_load("Europe/Berlin", &err);
    ck_assert_msg(berlin != NULL, "%s", err.msg);
    /* 02:00 does not exist on the spring-forward day: 03:00 instead. */
    int64_t at = cron_next(daily, berlin, 0, s_ms("2027-03-27T12:00:00Z"));
    char buf[32];
    ck_assert_str_eq(tz_format(berlin, at, buf, sizeof buf),
                     "2027-03-28T03:00:00+02:00");
    ck_assert_int_eq(cron_prev(daily, berlin, 0, at),
                     s_ms("2027-03-27T01:00:00Z"));
    ck_assert_str_eq(cron_text(daily), "0 2 * * *");
    cron_destroy(&daily);
    ck_assert_ptr_null(daily);
    tz_destroy(&berlin);
}

END_TEST

/* Expressions, zones and instants, in UTC, with what the zone's clock
 * shows at the expected fire (checked too, so the table reads both
 * ways). Berlin: 2027-03-28 02:00 -> 03:00, 2027-10-31 03:00 -> 02:00;
 * New York: 2027-03-14 02:00 -> 03:00, 2027-11-07 02:00 -> 01:00;
 * Sydney: 2027-04-04 03:00 -> 02:00, 2027-10-03 02:00 -> 03:00. */
static const struct {
    const char *zone, *expr, *after, *next, *local;
} s_table[] = {
    /* spring forward: the missing time fires once, when the gap ends */
    {"Europe/Berlin", "0 2 * * *", "2027-03-27T12:00:00Z",
     "2027-03-28T01:00:00Z", "2027-03-28T03:00:00+02:00"},
    {"Europe/Berlin", "30 2 * * *", "2027-03-27T12:00:00Z",
     "2027-03-28T01:00:00Z", "2027-03-28T03:00:00+02:00"},
    {"Europe/Berlin", "30 2 * * *", "2027-03-28T01:00:00Z",
     "2027-03-29T00:30:00Z", "2027-03-29T02:30:00+02:00"},
    {"Europe/Berlin", "0 3 * * *", "2027-03-27T12:00:00Z",
     "2027-03-28T01:00:00Z", "2027-03-28T03:00:00+02:00"},
    {"Europe/Berlin", "59 1 * * *", "2027-03-27T12:00:00Z",
     "2027-03-28T00:59:00Z", "2027-03-28T01:59:00+01:00"},
    /* fall back: the repeated time fires once, at its first occurrence */
    {"Europe/Berlin", "30 2 * * *", "2027-10-30T12:00:00Z",
     "2027-10-31T00:30:00Z", "2027-10-31T02:30:00+02:00"},
    {"Europe/Berlin", "30 2 * * *", "2027-10-31T00:30:00Z",
     "2027-11-01T01:30:00Z", "2027-11-01T02:30:00+01:00"},
    {"Europe/Berlin", "0 2 * * *", "2027-10-30T23:59:00Z",
     "2027-10-31T00:00:00Z", "2027-10-31T02:00:00+02:00"},
    {"Europe/Berlin", "0 3 * * *", "2027-10-31T00:00:00Z",
     "2027-10-31T02:00:00Z", "2027-10-31T03:00:00+01:00"},
    {"Europe/Berlin", "45 2 * * *", "2027-10-31T01:10:00Z",
     "2027-11-01T01:45:00Z", "2027-11-01T02:45:00+01:00"},
    {"America/New_York", "0 2 * * *", "2027-03-13T12:00:00Z",
     "2027-03-14T07:00:00Z", "2027-03-14T03:00:00-04:00"},
    {"America/New_York", "30 2 * * *", "2027-03-13T12:00:00Z",
     "2027-03-14T07:00:00Z", "2027-03-14T03:00:00-04:00"},
    {"America/New_York", "30 1 * * *", "2027-11-06T12:00:00Z",
     "2027-11-07T05:30:00Z", "2027-11-07T01:30:00-04:00"},
    {"America/New_York", "30 1 * * *", "2027-11-07T05:30:00Z",
     "2027-11-08T06:30:00Z", "2027-11-08T01:30:00-05:00"},
    {"America/New_York", "0 2 * * *", "2027-11-06T12:00:00Z",
     "2027-11-07T07:00:00Z", "2027-11-07T02:00:00-05:00"},
    {"Australia/Sydney", "30 2 * * *", "2027-10-02T00:00:00Z",
     "2027-10-02T16:00:00Z", "2027-10-03T03:00:00+11:00"},
    {"Australia/Sydney", "30 2 * * *", "2027-04-03T00:00:00Z",
     "2027-04-03T15:30:00Z", "2027-04-04T02:30:00+11:00"},
    {"Australia/Sydney", "30 2 * * *", "2027-04-03T15:30:00Z",
     "2027-04-04T16:30:00Z", "2027-04-05T02:30:00+10:00"},
    /* plain calendar work */
    {"UTC", "*/15 9-17 * * MON-FRI", "2027-03-26T17:50:00Z",
     "2027-03-29T09:00:00Z", "2027-03-29T09:00:00+00:00"},
    {"UTC", "1-30/10 * * * *", "2027-01-01T00:21:00Z", "2027-01-01T01:01:00Z",
     "2027-01-01T01:01:00+00:00"},
    {"UTC", "0 0 1 jan,Jul *", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z",
     "2027-07-01T00:00:00+00:00"},
    {"UTC", "0 12 * * 7", "2027-03-22T00:00:00Z", "2027-03-28T12:00:00Z",
     "2027-03-28T12:00:00+00:00"},
    {"UTC", "0 12 * * 0", "2027-03-22T00:00:00Z", "2027-03-28T12:00:00Z",
     "2027-03-28T12:00:00+00:00"},
    {"UTC", "0 12 * * 5-7", "2027-03-27T13:00:00Z", "2027-03-28T12:00:00Z",
     "2027-03-28T12:00:00+00:00"},
    {"UTC", "0 0 29 2 *", "2027-03-01T00:00:00Z", "2028-02-29T00:00:00Z",
     "2028-02-29T00:00:00+00:00"},
    {"UTC", "0 0 31 * *", "2027-04-01T00:00:00Z", "2027-05-31T00:00:00Z",
     "2027-05-31T00:00:00+00:00"},
    {"UTC", "59 23 31 12 *", "2027-01-01T00:00:00Z", "2027-12-31T23:59:00Z",
     "2027-12-31T23:59:00+00:00"},
    {"UTC", "5/20 * * * *", "2027-01-01T00:06:00Z", "2027-01-01T00:25:00Z",
     "2027-01-01T00:25:00+00:00"},
    {"UTC", "0 0 * * mon-fri/2", "2027-03-27T00:00:00Z", "2027-03-29T00:00:00Z",
     "2027-03-29T00:00:00+00:00"},
    {"UTC", "0 0 * * mon-fri/2", "2027-03-29T00:00:00Z", "2027-03-31T00:00:00Z",
     "2027-03-31T00:00:00+00:00"},
    {"UTC", " 0\t12  * *\t* ", "2027-03-29T00:00:00Z", "2027-03-29T12:00:00Z",
     "2027-03-29T12:00:00+00:00"},
    /* both day fields restricted: the 13th or a Friday, whichever first */
    {"UTC", "0 0 13 * FRI", "2027-03-06T00:00:00Z", "2027-03-12T00:00:00Z",
     "2027-03-12T00:00:00+00:00"},
    {"UTC", "0 0 13 * FRI", "2027-03-12T00:00:00Z", "2027-03-13T00:00:00Z",
     "2027-03-13T00:00:00+00:00"},
    /* one of them '*': only the other counts */
    {"UTC", "0 0 13 * *", "2027-03-06T00:00:00Z", "2027-03-13T00:00:00Z",
     "2027-03-13T00:00:00+00:00"},
    {"UTC", "0 0 * * FRI", "2027-03-12T00:00:00Z", "2027-03-19T00:00:00Z",
     "2027-03-19T00:00:00+00:00"},
    /* macros */
    {"UTC", "@hourly", "2027-03-28T01:00:00Z", "2027-03-28T02:00:00Z",
     "2027-03-28T02:00:00+00:00"},
    {"UTC", "@daily", "2027-03-28T01:00:00Z", "2027-03-29T00:00:00Z",
     "2027-03-29T00:00:00+00:00"},
    {"UTC", "@midnight", "2027-03-28T01:00:00Z", "2027-03-29T00:00:00Z",
     "2027-03-29T00:00:00+00:00"},
    {"UTC", "@weekly", "2027-03-24T00:00:00Z", "2027-03-28T00:00:00Z",
     "2027-03-28T00:00:00+00:00"},
    {"UTC", "@monthly", "2027-03-28T01:00:00Z", "2027-04-01T00:00:00Z",
     "2027-04-01T00:00:00+00:00"},
    {"UTC", "@yearly", "2027-03-28T01:00:00Z", "2028-01-01T00:00:00Z",
     "2028-01-01T00:00:00+00:00"},
    {"UTC", "@annually", "2027-03-28T01:00:00Z", "2028-01-01T00:00:00Z",
     "2028-01-01T00:00:00+00:00"},
    {"Europe/Berlin", "@daily", "2027-03-27T12:00:00Z", "2027-03-27T23:00:00Z",
     "2027-03-28T00:00:00+01:00"},
    {"Europe/Berlin", "@daily", "2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z",
     "2027-03-29T00:00:00+02:00"},
};

START_TEST(test_cron_table)
{
    for (size_t i = 0; i < sizeof s_table / sizeof s_table[0]; i++) {
        cron_t *cron = s_cron(s_table[i].expr);
        tz_t *tz = s_zone(s_table[i].zone);
        int64_t after = s_ms(s_table[i].after), want = s_ms(s_table[i].next);
        int64_t got = cron_next(cron, tz, 0, after);
        char b1[32], b2[48];
        ck_assert_msg(got == want, "%s '%s' after %s: %s, want %s",
                      s_table[i].zone, s_table[i].expr, s_table[i].after,
                      s_utc(got, b1), s_table[i].next);
        ck_assert_str_eq(tz_format(tz, got, b2, sizeof b2), s_table[i].local);
        /* cron_prev undoes it: the fire before `next` is at or before
         * `after`, and the one after that is `next` again. */
        int64_t back = cron_prev(cron, tz, 0, got);
        ck_assert_msg(back >= 0 && back <= after, "%s '%s': prev of %s is %s",
                      s_table[i].zone, s_table[i].expr, s_table[i].next,
                      s_utc(back, b1));
        ck_assert_int_eq(cron_next(cron, tz, 0, back), got);
        cron_destroy(&cron);
        tz_destroy(&tz);
    }
}

END_TEST

/* The fires of a cron from `from` for `count` steps, as local strings. */
static void
s_walk(const char *zone,
       const char *expr,
       const char *from,
       int count,
       const char *const *want)
{
    cron_t *cron = s_cron(expr);
    tz_t *tz = s_zone(zone);
    int64_t t = s_ms(from), fires[64];
    ck_assert_int_le(count, 64);
    for (int i = 0; i < count; i++) {
        t = fires[i] = cron_next(cron, tz, 0, t);
        char buf[48];
        ck_assert_msg(strcmp(tz_format(tz, t, buf, sizeof buf), want[i]) == 0,
                      "%s '%s' fire %d: %s, want %s", zone, expr, i, buf,
                      want[i]);
    }
    for (int i = count - 1; i > 0; i--) { /* and back again */
        ck_assert_int_eq(cron_prev(cron, tz, 0, fires[i]), fires[i - 1]);
    }
    cron_destroy(&cron);
    tz_destroy(&tz);
}

START_TEST(test_cron_prev_inside_the_repeated_hour)
{
    /* At 02:10+01:00 (the second 02:10) the first 02:45 has passed. */
    cron_t *cron = s_cron("45 2 * * *");
    tz_t *berlin = s_zone("Europe/Berlin");
    int64_t before = s_ms("2027-10-31T01:10:00Z");
    ck_assert_int_eq(cron_prev(cron, berlin, 0, before),
                     s_ms("2027-10-31T00:45:00Z"));
    ck_assert_int_eq(cron_next(cron, berlin, 0, before),
                     s_ms("2027-11-01T01:45:00Z"));
    cron_destroy(&cron);
    tz_destroy(&berlin);
}

END_TEST

START_TEST(test_cron_hourly_across_transitions)
{
    /* Every wall-clock hour fires once: the missing 02:00 merges into
     * 03:00; the repeated 02:00 fires at its first occurrence only. */
    static const char *const spring[] = {
        "2027-03-28T00:00:00+01:00", "2027-03-28T01:00:00+01:00",
        "2027-03-28T03:00:00+02:00", "2027-03-28T04:00:00+02:00"};
    s_walk("Europe/Berlin", "0 * * * *", "2027-03-27T22:30:00Z", 4, spring);
    static const char *const fall[] = {
        "2027-10-31T01:00:00+02:00", "2027-10-31T02:00:00+02:00",
        "2027-10-31T03:00:00+01:00", "2027-10-31T04:00:00+01:00"};
    s_walk("Europe/Berlin", "@hourly", "2027-10-30T22:30:00Z", 4, fall);
    static const char *const ny_fall[] = {
        "2027-11-07T00:00:00-04:00", "2027-11-07T01:00:00-04:00",
        "2027-11-07T02:00:00-05:00", "2027-11-07T03:00:00-05:00"};
    s_walk("America/New_York", "0 * * * *", "2027-11-07T03:30:00Z", 4, ny_fall);
    static const char *const quarter[] = {"2027-03-28T01:45:00+01:00",
                                          "2027-03-28T03:00:00+02:00",
                                          "2027-03-28T03:15:00+02:00"};
    s_walk("Europe/Berlin", "*/15 * * * *", "2027-03-28T00:40:00Z", 3, quarter);
    static const char *const quarter_fall[] = {"2027-10-31T02:30:00+02:00",
                                               "2027-10-31T02:45:00+02:00",
                                               "2027-10-31T03:00:00+01:00"};
    s_walk("Europe/Berlin", "*/15 * * * *", "2027-10-31T00:20:00Z", 3,
           quarter_fall);
}

END_TEST

/* How many times expr fires during the local day starting at from. */
static int
s_fires_between(const char *zone,
                const char *expr,
                const char *from,
                const char *to)
{
    cron_t *cron = s_cron(expr);
    tz_t *tz = s_zone(zone);
    int n = 0;
    int64_t end = s_ms(to);
    for (int64_t t = cron_next(cron, tz, 0, s_ms(from) - 1); t < end;
         t = cron_next(cron, tz, 0, t)) {
        n++;
    }
    cron_destroy(&cron);
    tz_destroy(&tz);
    return n;
}

START_TEST(test_cron_fires_per_transition_day)
{
    /* Berlin's local days 2027-03-28 (23 h) and 2027-10-31 (25 h). */
    const char *spring[] = {"2027-03-27T23:00:00Z", "2027-03-28T22:00:00Z"};
    const char *fall[] = {"2027-10-30T22:00:00Z", "2027-10-31T23:00:00Z"};
    ck_assert_int_eq(
        s_fires_between("Europe/Berlin", "0 * * * *", spring[0], spring[1]),
        23);
    ck_assert_int_eq(
        s_fires_between("Europe/Berlin", "0 * * * *", fall[0], fall[1]), 24);
    ck_assert_int_eq(
        s_fires_between("Europe/Berlin", "*/15 * * * *", spring[0], spring[1]),
        92);
    ck_assert_int_eq(
        s_fires_between("Europe/Berlin", "*/15 * * * *", fall[0], fall[1]), 96);
    ck_assert_int_eq(
        s_fires_between("Europe/Berlin", "* 2 * * *", spring[0], spring[1]), 1);
    ck_assert_int_eq(
        s_fires_between("Europe/Berlin", "* 2 * * *", fall[0], fall[1]), 60);
    ck_assert_int_eq(
        s_fires_between("Europe/Berlin", "30 2 * * *", fall[0], fall[1]), 1);
}

END_TEST

/* An independent account of the DST rules, minute by minute in UTC: a
 * minute u fires when its wall-clock time matches and u is that time's
 * first occurrence, or when the clock jumped over a matching time just
 * before u. "Matches" is asked of the same cron in UTC, where there is
 * no DST. cron_next and cron_prev must agree with it exactly. */
static bool
s_matches(const cron_t *cron, const tz_t *utc, int64_t local)
{
    return cron_next(cron, utc, 0, local - 1) == local;
}

static void
s_reference_check(const char *zone, const char *expr, const char *from)
{
    cron_t *cron = s_cron(expr);
    tz_t *tz = s_zone(zone), *utc = s_zone("UTC");
    int64_t start = s_ms(from), end = start + 2 * S_DAY, t = start;
    int64_t prev_fire = -1;
    int fired = 0;
    for (int64_t u = start + S_MIN; u <= end; u += S_MIN) {
        int64_t local = u + tz_offset(tz, u) * 1000;
        int64_t before = u - S_MIN + tz_offset(tz, u - S_MIN) * 1000;
        tz_civil_t c = tz_civil(tz, u);
        int64_t at[2];
        bool fires = s_matches(cron, utc, local) &&
                     tz_instants(tz, &c, at) >= 1 && at[0] == u;
        for (int64_t l = before + S_MIN; !fires && l < local; l += S_MIN) {
            fires = s_matches(cron, utc, l);
        }
        if (!fires) {
            continue;
        }
        char b1[32], b2[32];
        t = cron_next(cron, tz, 0, t);
        ck_assert_msg(t == u, "%s '%s': next is %s, want %s", zone, expr,
                      s_utc(t, b1), s_utc(u, b2));
        if (prev_fire >= 0) {
            ck_assert_int_eq(cron_prev(cron, tz, 0, u), prev_fire);
        }
        prev_fire = u;
        fired++;
    }
    ck_assert_msg(fired > 0, "%s '%s' never fires", zone, expr);
    ck_assert_int_gt(cron_next(cron, tz, 0, t), end);
    cron_destroy(&cron);
    tz_destroy(&tz);
    tz_destroy(&utc);
}

START_TEST(test_cron_agrees_with_minute_by_minute)
{
    static const char *const exprs[] = {
        "0 2 * * *",     "30 2 * * *", "* 2 * * *",  "*/15 * * * *",
        "0 * * * *",     "59 1 * * *", "0 3 * * *",  "5,35 1-3 * * *",
        "*/7 0-4 * * *", "0 0 * * *",  "30 0 * * *", "15 3 * * SUN",
    };

    static const struct {
        const char *zone, *from;
    } days[] = {
        {"Europe/Berlin", "2027-03-27T00:00:00Z"},
        {"Europe/Berlin", "2027-10-30T00:00:00Z"},
        {"America/New_York", "2027-03-13T12:00:00Z"},
        {"America/New_York", "2027-11-06T12:00:00Z"},
        {"Australia/Sydney", "2027-04-02T12:00:00Z"},
        {"Australia/Sydney", "2027-10-02T00:00:00Z"},
        {"Australia/Lord_Howe", "2027-04-03T00:00:00Z"}, /* 30-minute DST */
        {"Australia/Lord_Howe", "2027-10-02T00:00:00Z"},
    };

    for (size_t d = 0; d < sizeof days / sizeof days[0]; d++) {
        for (size_t e = 0; e < sizeof exprs / sizeof exprs[0]; e++) {
            s_reference_check(days[d].zone, exprs[e], days[d].from);
        }
    }
}

END_TEST

START_TEST(test_cron_every_counts_real_time)
{
    cron_t *cron = s_cron("@every 1h");
    ck_assert_uint_eq(cron_every_ms(cron), 3600000);
    tz_t *berlin = s_zone("Europe/Berlin");
    int64_t anchor = s_ms("2027-03-27T23:00:00Z");
    char buf[48];
    /* Real hours, whatever the clock on the wall does. */
    static const char *const want[] = {"2027-03-28T01:00:00+01:00",
                                       "2027-03-28T03:00:00+02:00",
                                       "2027-03-28T04:00:00+02:00"};
    int64_t t = anchor;
    for (int i = 0; i < 3; i++) {
        t = cron_next(cron, berlin, anchor, t);
        ck_assert_str_eq(tz_format(berlin, t, buf, sizeof buf), want[i]);
    }
    ck_assert_int_eq(cron_prev(cron, berlin, anchor, t), t - S_HOUR);
    /* The anchor is the first fire; nothing fires before it. */
    ck_assert_int_eq(cron_next(cron, berlin, anchor, anchor - 5), anchor);
    ck_assert_int_eq(cron_prev(cron, berlin, anchor, anchor), -1);
    ck_assert_int_eq(cron_prev(cron, berlin, anchor, anchor + 1), anchor);
    cron_destroy(&cron);

    cron = s_cron("@every 1d");
    anchor = s_ms("2027-10-30T12:00:00Z"); /* 14:00+02:00 */
    t = cron_next(cron, berlin, anchor, anchor);
    ck_assert_str_eq(tz_format(berlin, t, buf, sizeof buf),
                     "2027-10-31T13:00:00+01:00");
    cron_destroy(&cron);
    cron = s_cron("  @every   90s ");
    ck_assert_int_eq(cron_next(cron, berlin, 0, 100000), 180000);
    ck_assert_str_eq(cron_text(cron), "@every   90s");
    cron_destroy(&cron);
    tz_destroy(&berlin);
}

END_TEST

START_TEST(test_cron_never_and_far)
{
    tz_t *utc = s_zone("UTC");
    cron_t *cron = s_cron("0 0 30 2 *");
    int64_t now = s_ms("2027-01-01T00:00:00Z");
    ck_assert_int_eq(cron_next(cron, utc, 0, now), -1);
    ck_assert_int_eq(cron_prev(cron, utc, 0, now), -1);
    cron_destroy(&cron);
    cron = s_cron("0 0 29 2 *");
    ck_assert_int_eq(cron_next(cron, utc, 0, now),
                     s_ms("2028-02-29T00:00:00Z"));
    ck_assert_int_eq(cron_prev(cron, utc, 0, now),
                     s_ms("2024-02-29T00:00:00Z"));
    cron_destroy(&cron);
    /* Both day fields restricted: the 29th or any Monday of February. */
    cron = s_cron("0 0 29 2 MON");
    ck_assert_int_eq(cron_next(cron, utc, 0, now),
                     s_ms("2027-02-01T00:00:00Z"));
    cron_destroy(&cron);
    /* A minute-by-minute schedule runs a year of next calls quickly. */
    cron = s_cron("* * * * *");
    int64_t t = now;
    for (int i = 0; i < 10000; i++) {
        t = cron_next(cron, utc, 0, t);
    }
    ck_assert_int_eq(t, now + 10000 * S_MIN);
    cron_destroy(&cron);
    tz_destroy(&utc);
}

END_TEST

START_TEST(test_cron_errors_say_how_to_fix)
{
    static const struct {
        const char *expr, *says;
    } cases[] = {
        {"", "the schedule is empty; write 5 fields"},
        {"0 2 * *", "has 4 fields; write 5 fields (minute hour day-of-month "
                    "month day-of-week), like '0 2 * * *'"},
        {"0 0 2 * * *", "has 6 fields"},
        {"61 * * * *", "minute '61' is out of range 0-59"},
        {"0 24 * * *", "hour '24' is out of range 0-23"},
        {"0 0 0 * *", "day-of-month '0' is out of range 1-31"},
        {"0 0 * 13 *", "month '13' is out of range 1-12"},
        {"0 0 * * 8", "day-of-week '8' is out of range 0-7"},
        {"0 0 * JNA *", "month 'JNA' is not a number or a name; write 1-12 "
                        "or JAN-DEC"},
        {"0 0 * * MONDAY", "day-of-week 'MONDAY' is not a number or a name"},
        {"x * * * *", "minute 'x' is not a number; write 0-59"},
        {"*/0 * * * *", "minute step in '*/0' must be a number from 1 to 59"},
        {"*/ * * * *", "minute step in '*/' must be"},
        {"0 17-9 * * *", "hour range '17-9' runs backwards; write it low to "
                         "high, or as two ranges joined by a comma "
                         "('17-23,0-9')"},
        {"0 0 * * FRI-MON", "('FRI-7,0-MON')"},
        {"1,,2 * * * *", "minute '1,,2' has an empty list item"},
        {"0 0 ? * *", "day-of-month '?' is not a number"},
        {"@dayly", "unknown schedule macro '@dayly'; use @hourly, @daily"},
        {"@every", "'@every' needs a duration; write it like '@every 15m'"},
        {"@every 15 minutes", "'15 minutes' is not a duration; write a number"},
        {"@every 0s", "'@every 0s' is zero"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errbuf_t err = {{0}};
        cron_t *cron = cron_parse(cases[i].expr, &err);
        ck_assert_msg(cron == NULL, "'%s' parsed", cases[i].expr);
        ck_assert_msg(strstr(err.msg, cases[i].says), "'%s': %s", cases[i].expr,
                      err.msg);
    }
    ck_assert_ptr_null(cron_parse(NULL, NULL));
}

END_TEST

Suite *
cron_suite(void)
{
    Suite *s = suite_create("cron");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cron_usage);
    tcase_add_test(tc, test_cron_table);
    tcase_add_test(tc, test_cron_prev_inside_the_repeated_hour);
    tcase_add_test(tc, test_cron_hourly_across_transitions);
    tcase_add_test(tc, test_cron_fires_per_transition_day);
    tcase_add_test(tc, test_cron_agrees_with_minute_by_minute);
    tcase_add_test(tc, test_cron_every_counts_real_time);
    tcase_add_test(tc, test_cron_never_and_far);
    tcase_add_test(tc, test_cron_errors_say_how_to_fix);
    suite_add_tcase(s, tc);
    return s;
}
