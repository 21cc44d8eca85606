#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tmpl.h"
#include "tests/unit/suites.h"

static const char *
s_lookup(void *arg, const char *name)
{
    (void) arg;
    static const char *const table[][2] = {{"run_id", "r42"},
                                           {"ds", "2026-01-02"},
                                           {"params.greeting", "hi"},
                                           {"attempt", "1"}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (!strcmp(table[i][0], name)) {
            return table[i][1];
        }
    }
    return NULL;
}

START_TEST(test_tmpl_usage)
{
    errbuf_t err;
    char *out = tmpl_render("echo \"{{ params.greeting }} from {{run_id}}\"",
                            s_lookup, NULL, &err);
    ck_assert_ptr_nonnull(out);
    ck_assert_str_eq(out, "echo \"hi from r42\"");
    free(out);
}

END_TEST

START_TEST(test_tmpl_plain_text_and_edges)
{
    errbuf_t err;
    const char *cases[][2] = {
        {"", ""},
        {"no braces at all", "no braces at all"},
        {"{{ds}}", "2026-01-02"},
        {"{{   ds   }}/{{ attempt }}", "2026-01-02/1"},
        {"a } b }} c {", "a } b }} c {"},
        {"{ {ds} }", "{ {ds} }"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = tmpl_render(cases[i][0], s_lookup, NULL, &err);
        ck_assert_msg(out, "%s: %s", cases[i][0], errbuf_msg(&err));
        ck_assert_str_eq(out, cases[i][1]);
        free(out);
    }
}

END_TEST

START_TEST(test_tmpl_unknown_and_broken)
{
    errbuf_t err;
    ck_assert_ptr_null(
        tmpl_render("x {{ params.nope }}", s_lookup, NULL, &err));
    ck_assert_str_eq(errbuf_msg(&err),
                     "unknown template name 'params.nope'; use run_id, ds, "
                     "task_id, attempt or params.NAME");
    ck_assert_ptr_null(tmpl_render("x {{ ds", s_lookup, NULL, &err));
    ck_assert_str_eq(errbuf_msg(&err),
                     "unterminated '{{' at byte 2; close it with '}}'");
    ck_assert_ptr_null(tmpl_render("{{ }}", s_lookup, NULL, &err));
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "bad template"));
    ck_assert_ptr_null(tmpl_render("{{ a b }}", s_lookup, NULL, &err));
}

END_TEST

typedef struct {
    char names[8][32];
    size_t offsets[8];
    size_t n;
} seen_t;

static void
s_collect(void *arg, const tmpl_ref_t *ref)
{
    seen_t *seen = arg;
    ck_assert_uint_lt(seen->n, 8);
    snprintf(seen->names[seen->n], sizeof seen->names[0], "%s%s", ref->name,
             ref->raw ? "|raw" : "");
    seen->offsets[seen->n++] = ref->offset;
}

START_TEST(test_tmpl_scan)
{
    seen_t seen = {0};
    errbuf_t err;
    ck_assert_int_eq(
        tmpl_scan("a {{ ds }} b {{params.x}}", s_collect, &seen, &err), 0);
    ck_assert_int_eq(seen.n, 2);
    ck_assert_str_eq(seen.names[0], "ds");
    ck_assert_int_eq(seen.offsets[0], 2);
    ck_assert_str_eq(seen.names[1], "params.x");
    ck_assert_int_eq(seen.offsets[1], 13);
    seen.n = 0;
    ck_assert_int_eq(
        tmpl_scan("{{params.x|raw}} {{ ds  |  raw }}", s_collect, &seen, &err),
        0);
    ck_assert_int_eq(seen.n, 2);
    ck_assert_str_eq(seen.names[0], "params.x|raw");
    ck_assert_str_eq(seen.names[1], "ds|raw");
    ck_assert_int_eq(tmpl_scan("{{ ds | upper }}", s_collect, &seen, &err), -1);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "bad template"));
    ck_assert_int_eq(tmpl_scan("{{ ds | }}", s_collect, &seen, &err), -1);
    seen.n = 0;
    ck_assert_int_eq(
        tmpl_scan("ok {{ ds }} then {{ broken", s_collect, &seen, &err), -1);
    ck_assert_ptr_nonnull(strstr(errbuf_msg(&err), "unterminated"));
}

END_TEST

Suite *
tmpl_suite(void)
{
    Suite *s = suite_create("tmpl");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_tmpl_usage);
    tcase_add_test(tc, test_tmpl_plain_text_and_edges);
    tcase_add_test(tc, test_tmpl_unknown_and_broken);
    tcase_add_test(tc, test_tmpl_scan);
    suite_add_tcase(s, tc);
    return s;
}
