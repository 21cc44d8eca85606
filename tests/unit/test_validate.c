/* Tests for the built-in validator: common/csvread, common/vspec and
 * worker/validate. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/csvread.h"
#include "common/vspec.h"
#include "common/xalloc.h"
#include "tests/unit/suites.h"
#include "worker/validate.h"

static char s_dir[] = "/tmp/sluice-validate-XXXXXX";

static char *
s_file(const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", s_dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static char *
s_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *text = xcalloc(65536, 1);
    size_t n = fread(text, 1, 65535, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void
s_setup(void)
{
    strcpy(s_dir, "/tmp/sluice-validate-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(s_dir));
}

static void
s_teardown(void)
{
    char *cmd = xasprintf("rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* Usage: validate a small CSV, clean rows out, bad rows quarantined. */
START_TEST(test_validate_usage)
{
    char *in = s_file("in.csv", "id,age\n1,30\n2,200\n3,40\n");
    char *out = xasprintf("%s/out.csv", s_dir);
    validate_args_t args = {
        .spec = "{schema: {id: string, age: int}, ranges: {age: [0, 120]}, "
                "max_bad_ratio: 0.5}",
        .input = in,
        .output = out,
    };
    validate_result_t res;
    ck_assert_int_eq(validate_run(&args, &res), 0);
    ck_assert(res.passed);
    ck_assert_str_eq(res.summary, "3 rows, 1 bad (33.3%): range 1");
    char *clean = s_read(out);
    ck_assert_str_eq(clean, "id,age\n1,30\n3,40\n");
    char *qpath = xasprintf("%s.quarantine.csv", out);
    char *bad = s_read(qpath);
    ck_assert_str_eq(bad, "id,age\n2,200\n");
    ck_assert_ptr_nonnull(strstr(res.report, "\"line\":3"));
    validate_result_clear(&res);
    free(clean);
    free(bad);
    free(qpath);
    free(out);
    free(in);
}

END_TEST

START_TEST(test_csvread_quoting)
{
    char *path = s_file("q.csv", "a,b,c\r\n\"x,y\",\"say \"\"hi\"\"\",\"two\n"
                                 "lines\"\n,,\n\nlast,\"\",z");
    errbuf_t err;
    csvread_t *r = csvread_open(path, false, &err);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(csvread_next(r, &err), CSVREAD_RECORD);
    ck_assert_uint_eq(csvread_count(r), 3);
    ck_assert_str_eq(csvread_field(r, 2), "c");
    ck_assert_int_eq(csvread_next(r, &err), CSVREAD_RECORD);
    ck_assert_uint_eq(csvread_line(r), 2);
    ck_assert_str_eq(csvread_field(r, 0), "x,y");
    ck_assert_str_eq(csvread_field(r, 1), "say \"hi\"");
    ck_assert_str_eq(csvread_field(r, 2), "two\nlines");
    ck_assert_int_eq(csvread_next(r, &err), CSVREAD_RECORD);
    ck_assert_uint_eq(csvread_line(r), 4);
    ck_assert_uint_eq(csvread_count(r), 3);
    ck_assert_str_eq(csvread_field(r, 0), "");
    ck_assert_int_eq(csvread_next(r, &err), CSVREAD_RECORD); /* blank skipped */
    ck_assert_uint_eq(csvread_line(r), 6);
    ck_assert_str_eq(csvread_field(r, 0), "last");
    ck_assert_str_eq(csvread_field(r, 1), "");
    ck_assert_str_eq(csvread_field(r, 2), "z");
    ck_assert_int_eq(csvread_next(r, &err), CSVREAD_END);
    csvread_destroy(&r);
    ck_assert_ptr_null(r);
    free(path);
}

END_TEST

START_TEST(test_csvread_unterminated_quote)
{
    char *path = s_file("u.csv", "a\n\"never ends\n");
    errbuf_t err;
    csvread_t *r = csvread_open(path, false, &err);
    ck_assert_int_eq(csvread_next(r, &err), CSVREAD_RECORD);
    ck_assert_int_eq(csvread_next(r, &err), CSVREAD_MALFORMED);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "never ends"));
    csvread_destroy(&r);
    free(path);
}

END_TEST

START_TEST(test_csvread_jsonl)
{
    char *path =
        s_file("j.jsonl", "{\"id\": \"a\\\"b\", \"n\": 3, \"x\": null}\n"
                          "{\"nested\": {\"no\": 1}}\n"
                          "{\"ok\": true}\n");
    errbuf_t err;
    csvread_t *r = csvread_open(path, true, &err);
    ck_assert_int_eq(csvread_next(r, &err), CSVREAD_RECORD);
    ck_assert_uint_eq(csvread_count(r), 3);
    ck_assert_str_eq(csvread_key(r, 0), "id");
    ck_assert_str_eq(csvread_field(r, 0), "a\"b");
    ck_assert_str_eq(csvread_field(r, 1), "3");
    ck_assert_str_eq(csvread_field(r, 2), "");
    ck_assert_int_eq(csvread_next(r, &err), CSVREAD_MALFORMED);
    ck_assert_int_eq(csvread_next(r, &err), CSVREAD_RECORD);
    ck_assert_str_eq(csvread_field(r, 0), "true");
    ck_assert_int_eq(csvread_next(r, &err), CSVREAD_END);
    csvread_destroy(&r);
    free(path);
}

END_TEST

static validate_result_t
s_run(const char *spec, const char *csv, int want_rc)
{
    char *in = s_file("d.csv", csv);
    validate_args_t args = {.spec = spec, .input = in, .now_ms = 1767225600000};
    validate_result_t res;
    ck_assert_int_eq(validate_run(&args, &res), want_rc);
    free(in);
    return res;
}

START_TEST(test_validate_each_check)
{
    char *ref = s_file("cust.csv", "id,name\nc1,a\nc2,b\n");
    char *spec =
        xasprintf("{schema: {id: int, ok: bool, ts: date}, required: [id], "
                  "allowed: {country: [FR, DE]}, unique: [id], "
                  "references: {cust: {dataset: '%s', column: id}}, "
                  "max_bad_ratio: 1}",
                  ref);
    validate_result_t res =
        s_run(spec,
              "id,ok,ts,country,cust\n"
              "1,true,2026-01-01,FR,c1\n"               /* good */
              "x,true,2026-01-01,FR,c1\n"               /* schema */
              ",false,2026-01-01,DE,c2\n"               /* required */
              "3,yes,2026-01-01T10:00:00+02:00,US,c1\n" /* allowed */
              "1,no,2026-01-01,FR,c2\n"                 /* unique */
              "5,0,2026-01-01,FR,c9\n"                  /* references */
              "6,maybe,2026-13-01,FR,c1\n",             /* schema x2 */
              0);
    ck_assert_str_eq(res.summary, "7 rows, 6 bad (85.7%): schema 3, "
                                  "required 1, allowed 1, unique 1, "
                                  "references 1");
    validate_result_clear(&res);
    free(spec);
    free(ref);
}

END_TEST

START_TEST(test_validate_max_bad_ratio_fails)
{
    validate_result_t res =
        s_run("{schema: {n: int}, max_bad_ratio: 0.2}", "n\n1\nx\n3\ny\n", 1);
    ck_assert(!res.passed);
    ck_assert_ptr_nonnull(strstr(res.error, "max_bad_ratio 0.2"));
    ck_assert_ptr_nonnull(strstr(res.error, "2 of 4 rows"));
    ck_assert_ptr_null(res.profile);
    validate_result_clear(&res);
    res = s_run("{schema: {n: int}, max_bad_ratio: 0.5}", "n\n1\nx\n3\ny\n", 0);
    ck_assert(res.passed);
    validate_result_clear(&res);
}

END_TEST

START_TEST(test_validate_missing_column_and_freshness)
{
    validate_result_t res = s_run("{schema: {gone: int}}", "n\n1\n", 1);
    ck_assert_ptr_nonnull(strstr(res.error, "column 'gone' is not in the"));
    validate_result_clear(&res);
    /* now is 2026-01-01T00:00Z */
    res = s_run("{freshness: {column: ts, max_age: 2d}}",
                "ts\n2025-12-20\n2025-12-30T12:00:00Z\n", 0);
    validate_result_clear(&res);
    res = s_run("{freshness: {column: ts, max_age: 1d}}",
                "ts\n2025-12-20\n2025-12-29\n", 1);
    ck_assert_ptr_nonnull(strstr(res.error, "stale"));
    validate_result_clear(&res);
}

END_TEST

/* A CSV of n values drawn from a shifted, scaled uniform-ish series. */
static char *
s_series(size_t n, double shift, double scale)
{
    size_t cap = 32 + n * 24, len = 0;
    char *text = xmalloc(cap);
    len += (size_t) snprintf(text, cap, "x\n");
    for (size_t i = 0; i < n; i++) {
        double u = (double) ((i * 7919) % n) / (double) n;
        len += (size_t) snprintf(text + len, cap - len, "%.6f\n",
                                 shift + scale * u);
    }
    return text;
}

START_TEST(test_validate_drift_psi)
{
    const char *spec = "{drift: {columns: [x], psi_max: 0.2, "
                       "mean_shift_max: 3}}";
    char *day1 = s_series(5000, 0, 1);
    validate_result_t first = s_run(spec, day1, 0);
    ck_assert_ptr_nonnull(first.profile);
    ck_assert_ptr_nonnull(strstr(first.report, "\"compared\":false"));
    /* same distribution: passes, PSI near 0 */
    char *in = s_file("d2.csv", day1);
    validate_args_t args = {
        .spec = spec, .input = in, .profile = first.profile};
    validate_result_t same;
    ck_assert_int_eq(validate_run(&args, &same), 0);
    ck_assert_ptr_nonnull(strstr(same.report, "\"compared\":true"));
    ck_assert_str_eq(same.drift, "");
    validate_result_clear(&same);
    /* shifted by half its range: fails on PSI and the mean */
    char *day2 = s_series(5000, 0.5, 1);
    char *in2 = s_file("d3.csv", day2);
    args.input = in2;
    validate_result_t moved;
    ck_assert_int_eq(validate_run(&args, &moved), 1);
    ck_assert_ptr_nonnull(strstr(moved.error, "column 'x' drifted"));
    ck_assert_ptr_nonnull(strstr(moved.summary, "drift x"));
    ck_assert_str_eq(moved.drift, "x\n"); /* what the Result carries */
    validate_result_clear(&moved);
    validate_result_clear(&first);
    free(day1);
    free(day2);
    free(in);
    free(in2);
}

END_TEST

START_TEST(test_vspec_refuses_bad_blocks)
{
    errbuf_t err;
    ck_assert_ptr_null(vspec_parse("{schema: {a: integer}}", &err));
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "use string, int"));
    ck_assert_ptr_null(vspec_parse("{ranges: {a: [5]}}", &err));
    ck_assert_ptr_null(vspec_parse("{max_bad_ratio: 2}", &err));
    ck_assert_ptr_null(vspec_parse("{uniq: [a]}", &err));
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "did you mean 'unique'"));
    vspec_t *spec = vspec_parse("{format: jsonl, unique: [id]}", &err);
    ck_assert_ptr_nonnull(spec);
    ck_assert_str_eq(spec->format, "jsonl");
    ck_assert(vspec_column(spec, "id")->unique);
    vspec_destroy(&spec);
    ck_assert_ptr_null(spec);
}

END_TEST

START_TEST(test_validate_jsonl)
{
    char *in = s_file("d.jsonl", "{\"id\": 1, \"age\": 30}\n"
                                 "{\"id\": 2, \"age\": \"old\"}\n"
                                 "not json\n");
    validate_args_t args = {
        .spec = "{schema: {id: int, age: int}, max_bad_ratio: 1}", .input = in};
    validate_result_t res;
    ck_assert_int_eq(validate_run(&args, &res), 0);
    ck_assert_str_eq(res.summary, "3 rows, 2 bad (66.7%): schema 2");
    validate_result_clear(&res);
    free(in);
}

END_TEST

Suite *
validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_validate_usage);
    tcase_add_test(tc, test_csvread_quoting);
    tcase_add_test(tc, test_csvread_unterminated_quote);
    tcase_add_test(tc, test_csvread_jsonl);
    tcase_add_test(tc, test_validate_each_check);
    tcase_add_test(tc, test_validate_max_bad_ratio_fails);
    tcase_add_test(tc, test_validate_missing_column_and_freshness);
    tcase_add_test(tc, test_validate_drift_psi);
    tcase_add_test(tc, test_vspec_refuses_bad_blocks);
    tcase_add_test(tc, test_validate_jsonl);
    suite_add_tcase(s, tc);
    return s;
}
