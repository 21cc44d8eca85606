#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/tz.h"
#include "tests/unit/suites.h"

/* "2027-03-28T01:00:00Z" or "...+02:00" to UTC ms (timegm reads no TZ). */
static int64_t
s_ms(const char *iso)
{
    struct tm tm = {0};
    int oh = 0, om = 0;
    char sign = 'Z';
    int n = sscanf(iso, "%d-%d-%dT%d:%d:%d%c%d:%d", &tm.tm_year, &tm.tm_mon,
                   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &sign, &oh,
                   &om);
    ck_assert_msg(n == 7 || n == 9, "bad test instant '%s'", iso);
    tm.tm_year -= 1900, tm.tm_mon -= 1;
    int64_t off = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    return ((int64_t) timegm(&tm) - (sign == 'Z' ? 0 : off)) * 1000;
}

static tz_t *
s_zone(const char *name)
{
    errbuf_t err = {{0}};
    tz_t *tz = tz_load(name, &err);
    ck_assert_msg(tz != NULL, "%s", err.msg);
    return tz;
}

static const char *
s_local(const tz_t *tz, int64_t ms)
{
    static char buf[64];
    return tz_format(tz, ms, buf, sizeof buf);
}

START_TEST(test_tz_usage)
{
    errbuf_t err = {{0}};
    tz_t *berlin = tz_load("Europe/Berlin", &err);
    ck_assert_msg(berlin != NULL, "%s", err.msg);
    ck_assert_str_eq(tz_name(berlin), "Europe/Berlin");
    int64_t t = s_ms("2027-07-01T10:00:00Z");
    ck_assert_int_eq(tz_offset(berlin, t), 7200);
    ck_assert_str_eq(s_local(berlin, t), "2027-07-01T12:00:00+02:00");
    char date[11];
    ck_assert_str_eq(
        tz_format_date(berlin, s_ms("2027-07-01T22:30:00Z"), date, sizeof date),
        "2027-07-02");
    tz_destroy(&berlin);
    ck_assert_ptr_null(berlin);
    tz_destroy(&berlin); /* NULL is fine */
}

END_TEST

START_TEST(test_tz_offsets_and_civil)
{
    static const struct {
        const char *zone, *utc, *local;
        int wday;
    } cases[] = {
        {"UTC", "2027-03-28T01:00:00Z", "2027-03-28T01:00:00+00:00", 0},
        {"Europe/Berlin", "2027-01-15T12:00:00Z", "2027-01-15T13:00:00+01:00",
         5},
        {"Europe/Berlin", "2027-03-28T00:59:59Z", "2027-03-28T01:59:59+01:00",
         0},
        {"Europe/Berlin", "2027-03-28T01:00:00Z", "2027-03-28T03:00:00+02:00",
         0},
        {"Europe/Berlin", "2027-10-31T00:59:59Z", "2027-10-31T02:59:59+02:00",
         0},
        {"Europe/Berlin", "2027-10-31T01:00:00Z", "2027-10-31T02:00:00+01:00",
         0},
        {"America/New_York", "2027-03-14T07:00:00Z",
         "2027-03-14T03:00:00-04:00", 0},
        {"America/New_York", "2027-11-07T06:00:00Z",
         "2027-11-07T01:00:00-05:00", 0},
        {"America/New_York", "2027-12-31T23:30:00Z",
         "2027-12-31T18:30:00-05:00", 5},
        {"Australia/Sydney", "2027-01-10T00:00:00Z",
         "2027-01-10T11:00:00+11:00", 0},
        {"Australia/Sydney", "2027-07-10T00:00:00Z",
         "2027-07-10T10:00:00+10:00", 6},
        {"Asia/Kolkata", "2027-07-10T00:00:00Z", "2027-07-10T05:30:00+05:30",
         6},
        {"Europe/Berlin", "1969-12-31T23:00:00Z", "1970-01-01T00:00:00+01:00",
         4},
        {"Europe/Berlin", "2100-07-01T00:00:00Z", "2100-07-01T02:00:00+02:00",
         4},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tz_t *tz = s_zone(cases[i].zone);
        int64_t t = s_ms(cases[i].utc);
        ck_assert_msg(strcmp(s_local(tz, t), cases[i].local) == 0,
                      "%s %s: %s, want %s", cases[i].zone, cases[i].utc,
                      s_local(tz, t), cases[i].local);
        ck_assert_int_eq(tz_civil(tz, t).wday, cases[i].wday);
        tz_destroy(&tz);
    }
}

END_TEST

START_TEST(test_tz_instants_gap_and_overlap)
{
    static const struct {
        const char *zone;
        tz_civil_t local;
        int n;
        const char *first, *second; /* UTC */
    } cases[] = {
        /* Berlin springs forward 02:00 -> 03:00 and falls back 03:00 ->
         * 02:00; New York 02:00 -> 03:00 and 02:00 -> 01:00; Sydney (south)
         * the other way round in the year. */
        {"Europe/Berlin", {2027, 3, 28, 2, 30, 0, 0}, 0, NULL, NULL},
        {"Europe/Berlin",
         {2027, 3, 28, 3, 0, 0, 0},
         1,
         "2027-03-28T01:00:00Z",
         NULL},
        {"Europe/Berlin",
         {2027, 3, 28, 1, 59, 0, 0},
         1,
         "2027-03-28T00:59:00Z",
         NULL},
        {"Europe/Berlin",
         {2027, 10, 31, 2, 30, 0, 0},
         2,
         "2027-10-31T00:30:00Z",
         "2027-10-31T01:30:00Z"},
        {"Europe/Berlin",
         {2027, 10, 31, 3, 0, 0, 0},
         1,
         "2027-10-31T02:00:00Z",
         NULL},
        {"America/New_York", {2027, 3, 14, 2, 0, 0, 0}, 0, NULL, NULL},
        {"America/New_York",
         {2027, 11, 7, 1, 30, 0, 0},
         2,
         "2027-11-07T05:30:00Z",
         "2027-11-07T06:30:00Z"},
        {"Australia/Sydney", {2027, 10, 3, 2, 15, 0, 0}, 0, NULL, NULL},
        {"Australia/Sydney",
         {2027, 4, 4, 2, 15, 0, 0},
         2,
         "2027-04-03T15:15:00Z",
         "2027-04-03T16:15:00Z"},
        {"UTC", {2027, 3, 28, 2, 30, 0, 0}, 1, "2027-03-28T02:30:00Z", NULL},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tz_t *tz = s_zone(cases[i].zone);
        int64_t at[2] = {-1, -1};
        int n = tz_instants(tz, &cases[i].local, at);
        ck_assert_msg(n == cases[i].n, "case %zu: %d instants, want %d", i, n,
                      cases[i].n);
        if (n >= 1) {
            ck_assert_int_eq(at[0], s_ms(cases[i].first));
            ck_assert_int_eq(tz_first_instant(tz, &cases[i].local), at[0]);
        }
        if (n == 2) {
            ck_assert_int_eq(at[1], s_ms(cases[i].second));
        }
        tz_destroy(&tz);
    }
}

END_TEST

START_TEST(test_tz_first_instant_after_gap)
{
    tz_t *berlin = s_zone("Europe/Berlin");
    tz_civil_t skipped = {2027, 3, 28, 2, 30, 0, 0};
    ck_assert_str_eq(s_local(berlin, tz_first_instant(berlin, &skipped)),
                     "2027-03-28T03:00:00+02:00");
    tz_destroy(&berlin);

    tz_t *ny = s_zone("America/New_York");
    tz_civil_t ny_skipped = {2027, 3, 14, 2, 59, 0, 0};
    ck_assert_str_eq(s_local(ny, tz_first_instant(ny, &ny_skipped)),
                     "2027-03-14T03:00:00-04:00");
    tz_destroy(&ny);
}

END_TEST

START_TEST(test_tz_next_change)
{
    tz_t *berlin = s_zone("Europe/Berlin");
    int64_t t = tz_next_change(berlin, s_ms("2027-01-01T00:00:00Z"));
    ck_assert_int_eq(t, s_ms("2027-03-28T01:00:00Z"));
    t = tz_next_change(berlin, t);
    ck_assert_int_eq(t, s_ms("2027-10-31T01:00:00Z"));
    tz_destroy(&berlin);

    tz_t *utc = s_zone("UTC");
    ck_assert_int_eq(tz_next_change(utc, 0), -1);
    tz_destroy(&utc);
}

END_TEST

START_TEST(test_tz_calendar)
{
    ck_assert_int_eq(tz_days_in_month(2028, 2), 29);
    ck_assert_int_eq(tz_days_in_month(2027, 2), 28);
    ck_assert_int_eq(tz_days_in_month(2100, 2), 28);
    ck_assert_int_eq(tz_days_in_month(2000, 2), 29);
    ck_assert_int_eq(tz_days_in_month(2027, 4), 30);
    ck_assert_int_eq(tz_weekday(2027, 3, 28), 0);
    ck_assert_int_eq(tz_weekday(1970, 1, 1), 4);
    ck_assert_int_eq(tz_weekday(1969, 12, 31), 3);
    ck_assert_int_eq(tz_weekday(2028, 2, 29), 2);
}

END_TEST

START_TEST(test_tz_format_details)
{
    tz_t *utc = s_zone("Etc/UTC");
    char buf[32];
    ck_assert_str_eq(tz_format(utc, 1234, buf, sizeof buf),
                     "1970-01-01T00:00:01.234+00:00");
    ck_assert_str_eq(tz_format(utc, -1, buf, sizeof buf),
                     "1969-12-31T23:59:59.999+00:00");
    tz_destroy(&utc);
    tz_t *nf = s_zone("America/St_Johns"); /* -03:30 in winter */
    ck_assert_str_eq(
        tz_format(nf, s_ms("2027-01-01T12:00:00Z"), buf, sizeof buf),
        "2027-01-01T08:30:00-03:30");
    tz_destroy(&nf);
}

END_TEST

START_TEST(test_tz_unknown_zone_suggests_a_name)
{
    static const struct {
        const char *name, *says;
    } cases[] = {
        {"Europe/Berln", "unknown time zone 'Europe/Berln'; did you mean "
                         "'Europe/Berlin'?"},
        {"europe/berlin", "did you mean 'Europe/Berlin'?"},
        {"America/NewYork", "did you mean 'America/New_York'?"},
        {"Tokyo", "did you mean 'Asia/Tokyo'?"},
        {"Mars/Olympus", "unknown time zone 'Mars/Olympus'; use an IANA name "
                         "like 'Europe/Berlin' (see /usr/share/zoneinfo)"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errbuf_t err = {{0}};
        ck_assert_ptr_null(tz_load(cases[i].name, &err));
        ck_assert_msg(strstr(err.msg, cases[i].says), "'%s': %s", cases[i].name,
                      err.msg);
    }
}

END_TEST

START_TEST(test_tz_parse_dates_and_times)
{
    static const struct {
        const char *zone, *text, *utc;
    } cases[] = {
        {"Europe/Berlin", "2027-03-28", "2027-03-27T23:00:00Z"},
        {"Europe/Berlin", "2027-07-01T12:00", "2027-07-01T10:00:00Z"},
        {"Europe/Berlin", "2027-07-01 12:00:30", "2027-07-01T10:00:30Z"},
        {"Europe/Berlin", "2027-03-28T02:30", "2027-03-28T01:00:00Z"},
        {"Europe/Berlin", "2027-10-31T02:30", "2027-10-31T00:30:00Z"},
        {"Europe/Berlin", "2027-10-31T02:30:00+01:00", "2027-10-31T01:30:00Z"},
        {"Europe/Berlin", "2027-07-01T12:00:00Z", "2027-07-01T12:00:00Z"},
        {"UTC", "2027-07-01T12:00:00-0530", "2027-07-01T17:30:00Z"},
        {"UTC", "2028-02-29", "2028-02-29T00:00:00Z"},
        {"America/New_York", "2027-11-07T01:30", "2027-11-07T05:30:00Z"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tz_t *tz = s_zone(cases[i].zone);
        int64_t ms = 0;
        errbuf_t err = {{0}};
        ck_assert_msg(tz_parse(tz, cases[i].text, &ms, &err) == 0, "%s: %s",
                      cases[i].text, err.msg);
        ck_assert_msg(ms == s_ms(cases[i].utc), "%s in %s: %s", cases[i].text,
                      cases[i].zone, s_local(tz, ms));
        tz_destroy(&tz);
    }
    tz_t *utc = s_zone("UTC");
    int64_t ms = 0;
    ck_assert_int_eq(tz_parse(utc, "2027-07-01T12:00:00.250Z", &ms, NULL), 0);
    ck_assert_int_eq(ms, s_ms("2027-07-01T12:00:00Z") + 250);
    static const char *const bad[] = {
        "",
        "2027-02-29",
        "2027-13-01",
        "27-01-01",
        "2027-1-1",
        "2027-01-01T",
        "2027-01-01T24:00",
        "2027-01-01T9:00",
        "yesterday",
        "2027-01-01T10:00+",
        "2027-01-01 10:00 CET",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errbuf_t err = {{0}};
        ck_assert_msg(tz_parse(utc, bad[i], &ms, &err) == -1, "'%s' read",
                      bad[i]);
        ck_assert_msg(strstr(err.msg, "is not a date or time; write "
                                      "YYYY-MM-DD"),
                      "%s", err.msg);
    }
    tz_destroy(&utc);
}

END_TEST

/* --- zones from a private TZDIR --- */

static char s_dir[64];

static void
s_dir_setup(void)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/sluice-tz-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
    ck_assert_int_eq(setenv("TZDIR", s_dir, 1), 0);
}

static void
s_dir_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
    unsetenv("TZDIR");
}

static void
s_write(const char *name, const void *data, size_t size)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

static size_t
s_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24), p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8), p[3] = (uint8_t) v;
    return 4;
}

/* A "slim" TZif v2 file: no transitions, one type (+01:00 "CET"), and
 * the rule in the footer, so every 2027 answer comes from the footer. */
static size_t
s_slim_cet(uint8_t *buf)
{
    size_t n = 0;
    for (int block = 0; block < 2; block++) {
        memcpy(buf + n, "TZif2", 5);
        memset(buf + n + 5, 0, 15);
        n += 20;
        uint32_t counts[6] = {0, 0, 0, 0, 1, 4};
        for (int i = 0; i < 6; i++) {
            n += s_put32(buf + n, counts[i]);
        }
        n += s_put32(buf + n, 3600);
        buf[n++] = 0, buf[n++] = 0; /* isdst, abbreviation index */
        memcpy(buf + n, "CET", 4);
        n += 4;
    }
    const char *footer = "\nCET-1CEST,M3.5.0,M10.5.0/3\n";
    memcpy(buf + n, footer, strlen(footer));
    return n + strlen(footer);
}

START_TEST(test_tz_slim_file_uses_footer_rule)
{
    uint8_t buf[256];
    size_t size = s_slim_cet(buf);
    s_write("Slim", buf, size);
    tz_t *tz = s_zone("Slim");
    ck_assert_str_eq(s_local(tz, s_ms("2027-03-28T01:00:00Z")),
                     "2027-03-28T03:00:00+02:00");
    ck_assert_str_eq(s_local(tz, s_ms("2027-10-31T01:00:00Z")),
                     "2027-10-31T02:00:00+01:00");
    tz_civil_t twice = {2027, 10, 31, 2, 30, 0, 0};
    int64_t at[2];
    ck_assert_int_eq(tz_instants(tz, &twice, at), 2);
    tz_destroy(&tz);

    s_write("Cut", buf, size / 2);
    errbuf_t err = {{0}};
    ck_assert_ptr_null(tz_load("Cut", &err));
    ck_assert_msg(strstr(err.msg, "is damaged") &&
                      strstr(err.msg, "reinstall the 'tzdata' package"),
                  "%s", err.msg);
}

END_TEST

START_TEST(test_tz_refuses_what_is_not_a_zone)
{
    s_write("Notes", "hello\n", 6);
    char folder[128];
    snprintf(folder, sizeof folder, "%s/Europe", s_dir);
    ck_assert_int_eq(mkdir(folder, 0700), 0);
    char fifo[128];
    snprintf(fifo, sizeof fifo, "%s/Pipe", s_dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);

    static const struct {
        const char *name, *says;
    } cases[] = {
        {"Notes", "is not a TZif time zone file"},
        {"Pipe", "is not a TZif time zone file"},
        {"Europe", "is a folder of zones, not a zone"},
        {"Europe/Berln", "unknown time zone 'Europe/Berln'; use an IANA name "
                         "like 'Europe/Berlin'"},
        {"../etc/passwd", "is not an IANA name"},
        {"/etc/localtime", "is not an IANA name"},
        {"Europe/../UTC", "is not an IANA name"},
        {"Europe//Berlin", "is not an IANA name"},
        {"Europe/Berlin ", "is not an IANA name"},
        {"", "is not an IANA name"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        errbuf_t err = {{0}};
        ck_assert_ptr_null(tz_load(cases[i].name, &err));
        ck_assert_msg(strstr(err.msg, cases[i].says), "'%s': %s", cases[i].name,
                      err.msg);
    }
}

END_TEST

START_TEST(test_tz_utc_without_tzdata)
{
    /* TZDIR is an empty folder: UTC still works, a real zone says how to
     * get the data. */
    tz_t *utc = s_zone("UTC");
    int64_t t = s_ms("2027-03-28T01:00:00Z");
    ck_assert_int_eq(tz_offset(utc, t), 0);
    ck_assert_str_eq(s_local(utc, t), "2027-03-28T01:00:00+00:00");
    tz_destroy(&utc);
    utc = s_zone("Etc/UTC");
    tz_destroy(&utc);

    errbuf_t err = {{0}};
    ck_assert_ptr_null(tz_load("Europe/Berlin", &err));
    ck_assert_msg(strstr(err.msg, "unknown time zone 'Europe/Berlin'") &&
                      strstr(err.msg, "install the 'tzdata' package"),
                  "%s", err.msg);
}

END_TEST

START_TEST(test_tz_leaves_process_tz_alone)
{
    const char *before = getenv("TZ");
    char *saved = before ? strdup(before) : NULL;
    tz_t *tz = s_zone("America/New_York");
    tz_civil_t c = tz_civil(tz, s_ms("2027-01-01T00:00:00Z"));
    ck_assert_int_eq(c.hour, 19);
    tz_destroy(&tz);
    const char *after = getenv("TZ");
    ck_assert(saved == NULL ? after == NULL
                            : after != NULL && strcmp(saved, after) == 0);
    free(saved);
}

END_TEST

Suite *
tz_suite(void)
{
    Suite *s = suite_create("tz");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_tz_usage);
    tcase_add_test(tc, test_tz_offsets_and_civil);
    tcase_add_test(tc, test_tz_instants_gap_and_overlap);
    tcase_add_test(tc, test_tz_first_instant_after_gap);
    tcase_add_test(tc, test_tz_next_change);
    tcase_add_test(tc, test_tz_calendar);
    tcase_add_test(tc, test_tz_format_details);
    tcase_add_test(tc, test_tz_leaves_process_tz_alone);
    tcase_add_test(tc, test_tz_unknown_zone_suggests_a_name);
    tcase_add_test(tc, test_tz_parse_dates_and_times);
    suite_add_tcase(s, tc);

    TCase *dir = tcase_create("tzdir");
    tcase_add_checked_fixture(dir, s_dir_setup, s_dir_teardown);
    tcase_add_test(dir, test_tz_slim_file_uses_footer_rule);
    tcase_add_test(dir, test_tz_refuses_what_is_not_a_zone);
    tcase_add_test(dir, test_tz_utc_without_tzdata);
    suite_add_tcase(s, dir);
    return s;
}
