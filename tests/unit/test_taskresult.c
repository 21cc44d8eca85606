/* taskresult: a task's small JSON result, read from its file and picked
 * apart for templates. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/taskresult.h"
#include "common/xalloc.h"
#include "tests/unit/suites.h"

static char s_dir[64]; /* the test's temp dir */

static void
s_setup(void)
{
    char tmpl[] = "/tmp/sluice-taskresult.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    snprintf(s_dir, sizeof s_dir, "%s", tmpl);
}

static void
s_teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes size bytes of text to NAME in the temp dir; owned path. */
static char *
s_write(const char *name, const char *text, size_t size)
{
    char *path = xasprintf("%s/%s", s_dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, size, f), size);
    fclose(f);
    return path;
}

/* A JSON string of exactly size bytes, quotes included. */
static char *
s_json_string(size_t size)
{
    char *text = xmalloc(size + 1);
    memset(text, 'a', size);
    text[0] = text[size - 1] = '"';
    text[size] = '\0';
    return text;
}

START_TEST(test_taskresult_usage)
{
    /* The worker reads the file after the attempt; a template takes the
     * whole value or one member of it. */
    const char *json = "{\"rows\": 42, \"path\": \"/x y\", \"ok\": true,"
                       " \"n\": {\"a\": [1, 2]}}";
    char *path = s_write(TASKRESULT_FILE, json, strlen(json));
    char *text = NULL;
    errbuf_t err;
    ck_assert_int_eq(taskresult_read(path, &text, &err), 0);
    ck_assert_str_eq(text, json);
    char *out = NULL;
    ck_assert_int_eq(taskresult_field(text, NULL, &out, &err), 0);
    ck_assert_str_eq(out, json);
    free(out);
    ck_assert_int_eq(taskresult_field(text, "rows", &out, &err), 0);
    ck_assert_str_eq(out, "42");
    free(out);
    ck_assert_int_eq(taskresult_field(text, "path", &out, &err), 0);
    ck_assert_str_eq(out, "/x y"); /* the string's value, not its JSON */
    free(out);
    ck_assert_int_eq(taskresult_field(text, "ok", &out, &err), 0);
    ck_assert_str_eq(out, "true");
    free(out);
    ck_assert_int_eq(taskresult_field(text, "n", &out, &err), 0);
    ck_assert_str_eq(out, "{\"a\":[1,2]}");
    free(out);
    ck_assert_int_eq(taskresult_field(text, "nope", &out, &err), -1);
    ck_assert_str_eq(err.msg, "the result has no member 'nope'");
    ck_assert_ptr_null(out);
    ck_assert_int_eq(taskresult_field("[1]", "x", &out, &err), -1);
    ck_assert_str_eq(err.msg, "the result is a JSON array, not an object: "
                              "use '.result' without a field");
    free(text);
    free(path);
}

END_TEST

START_TEST(test_taskresult_size_limit)
{
    /* 65,536 bytes is allowed; one more is refused, saying how many. */
    char *json = s_json_string(TASKRESULT_MAX_BYTES);
    char *path = s_write("max.json", json, TASKRESULT_MAX_BYTES);
    char *text = NULL;
    errbuf_t err;
    ck_assert_int_eq(taskresult_read(path, &text, &err), 0);
    ck_assert_uint_eq(strlen(text), TASKRESULT_MAX_BYTES);
    free(text);
    free(path);
    free(json);
    json = s_json_string(70000);
    path = s_write("big.json", json, 70000);
    ck_assert_int_eq(taskresult_read(path, &text, &err), -1);
    ck_assert_ptr_null(text);
    ck_assert_str_eq(err.msg,
                     "result: $SLUICE_RESULT holds 70000 bytes, over 65536; "
                     "write a smaller value and keep bulk data in files");
    ck_assert_int_eq(taskresult_check(json, 70000, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "holds 70000 bytes, over 65536"));
    free(path);
    free(json);
}

END_TEST

START_TEST(test_taskresult_refuses)
{
    char *text = NULL;
    errbuf_t err;
    /* None written: no result, no error. */
    char *missing = xasprintf("%s/none.json", s_dir);
    ck_assert_int_eq(taskresult_read(missing, &text, &err), 0);
    ck_assert_ptr_null(text);
    /* Not JSON, or two values. */
    const char *bad[] = {"{\"rows\": ", "", "1 2", "{'a': 1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *path = s_write("bad.json", bad[i], strlen(bad[i]));
        ck_assert_int_eq(taskresult_read(path, &text, &err), -1);
        ck_assert_msg(strstr(err.msg, "result: $SLUICE_RESULT is not one "
                                      "valid JSON value"),
                      "%s", err.msg);
        free(path);
    }
    /* A link (symbolic or hard) to another file is not followed. */
    char *target = s_write("target.json", "{}", 2);
    char *sym = xasprintf("%s/sym.json", s_dir);
    ck_assert_int_eq(symlink(target, sym), 0);
    ck_assert_int_eq(taskresult_read(sym, &text, &err), -1);
    char *hard = xasprintf("%s/hard.json", s_dir);
    ck_assert_int_eq(link(target, hard), 0);
    ck_assert_int_eq(taskresult_read(hard, &text, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file with one link"));
    /* A directory. */
    ck_assert_int_eq(taskresult_read(s_dir, &text, &err), -1);
    ck_assert_ptr_null(text);
    free(hard);
    free(sym);
    free(target);
    free(missing);
}

END_TEST

START_TEST(test_taskresult_ref)
{
    char *task = NULL;
    const char *field = NULL;
    ck_assert_int_eq(taskresult_ref("tasks.a.result", &task, &field), 1);
    ck_assert_str_eq(task, "a");
    ck_assert_ptr_null(field);
    free(task);
    ck_assert_int_eq(taskresult_ref("tasks.load.v2.result.rows", &task, &field),
                     1);
    ck_assert_str_eq(task, "load.v2");
    ck_assert_str_eq(field, "rows");
    free(task);
    ck_assert_int_eq(taskresult_ref("params.x", &task, &field), 0);
    const char *bad[] = {"tasks.a", "tasks.a.results", "tasks..result",
                         "tasks.a.result.", "tasks.result"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(taskresult_ref(bad[i], &task, &field) == -1, "%s",
                      bad[i]);
        ck_assert_ptr_null(task);
    }
}

END_TEST

/* Parses text as a branch choice; asserts it gives want[0..nwant). */
static void
s_choice(const char *text, const char *const *want, size_t nwant)
{
    char **ids = NULL;
    size_t n = 0;
    errbuf_t err;
    ck_assert_msg(taskresult_branch_parse(text, strlen(text), &ids, &n, &err) ==
                      0,
                  "%s: %s", text, err.msg);
    ck_assert_uint_eq(n, nwant);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(ids[i], want[i]);
    }
    taskresult_ids_free(&ids, n);
    ck_assert_ptr_null(ids);
}

START_TEST(test_taskresult_branch)
{
    /* One id a line or one JSON array; empty follows none. The file is
     * read under the rules of the result file, and must exist. */
    const char *ab[] = {"a", "b"};
    s_choice("a\nb\n", ab, 2);
    s_choice("  a \n\n\tb", ab, 2);
    s_choice(" [\"a\", \"b\"]\n", ab, 2);
    s_choice("", NULL, 0);
    s_choice("\n  \n", NULL, 0);
    s_choice("[]", NULL, 0);
    const char *bad[][2] = {
        {"[\"a\", 1]", "branch: item 2 of $SLUICE_BRANCH is not a string; "
                       "write the task ids as strings"},
        {"{\"a\": 1}", "branch: $SLUICE_BRANCH names '{\"a\": 1}', which is "
                       "no "
                       "task id; write the ids of the tasks to follow, one a "
                       "line"},
        {"[\"a\"", NULL},
        {"a b", "branch: $SLUICE_BRANCH names 'a b', which is no task id; "
                "write the ids of the tasks to follow, one a line"},
        {"[\"\"]", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char **ids = NULL;
        size_t n = 0;
        errbuf_t err;
        ck_assert_int_eq(taskresult_branch_parse(bad[i][0], strlen(bad[i][0]),
                                                 &ids, &n, &err),
                         -1);
        ck_assert_ptr_null(ids);
        if (bad[i][1]) {
            ck_assert_str_eq(err.msg, bad[i][1]);
        }
    }
    char **ids = NULL;
    size_t n = 0;
    errbuf_t err;
    char *path = xasprintf("%s/" TASKRESULT_BRANCH_FILE, s_dir);
    ck_assert_int_eq(taskresult_branch_read(path, &ids, &n, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "wrote nothing to $SLUICE_BRANCH"));
    free(path);
    path = s_write(TASKRESULT_BRANCH_FILE, "left\n", 5);
    ck_assert_int_eq(taskresult_branch_read(path, &ids, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ids[0], "left");
    taskresult_ids_free(&ids, n);
    char *link = xasprintf("%s/link", s_dir);
    ck_assert_int_eq(symlink(path, link), 0);
    ck_assert_int_eq(taskresult_branch_read(link, &ids, &n, &err), -1);
    ck_assert_ptr_nonnull(
        strstr(err.msg, "branch: cannot open $SLUICE_BRANCH"));
    free(link);
    free(path);
}

END_TEST

Suite *
taskresult_suite(void)
{
    Suite *s = suite_create("taskresult");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_add_test(tc, test_taskresult_usage);
    tcase_add_test(tc, test_taskresult_size_limit);
    tcase_add_test(tc, test_taskresult_refuses);
    tcase_add_test(tc, test_taskresult_ref);
    tcase_add_test(tc, test_taskresult_branch);
    suite_add_tcase(s, tc);
    return s;
}
