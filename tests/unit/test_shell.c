/* shell: what /bin/sh makes of a command, and where a value lands. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/pathname.h"
#include "common/shell.h"
#include "tests/unit/suites.h"

START_TEST(test_shell_needed)
{
    ck_assert(!shell_needed("echo hi"));
    ck_assert(!shell_needed("python3 train.py --lr=0.1 --out=a/b,c@d%e+f"));
    ck_assert(!shell_needed("  ls   -l  "));
    ck_assert(shell_needed("echo $HOME"));
    ck_assert(shell_needed("a | b"));
    ck_assert(shell_needed("a; b"));
    ck_assert(shell_needed("a && b"));
    ck_assert(shell_needed("echo 'quoted'"));
    ck_assert(shell_needed("echo \"x\""));
    ck_assert(shell_needed("ls *.csv"));
    ck_assert(shell_needed("cat < in"));
    ck_assert(shell_needed("ls ~"));
    ck_assert(shell_needed("echo `x`"));
    ck_assert(shell_needed("echo a\nb"));
    ck_assert(shell_needed("FOO=bar env"));
    ck_assert(shell_needed("exit 3"));
    ck_assert(shell_needed("cd /tmp"));
    ck_assert(shell_needed(""));
}

END_TEST

START_TEST(test_shell_lex_places)
{
    /* Where a value inserted after each text would land. */
    static const struct {
        const char *text;
        shell_at_t at;
    } cases[] = {
        {"echo ", SHELL_AT_WORD},
        {"echo x", SHELL_AT_WORD},
        {"echo '", SHELL_AT_SQUOTE},
        {"echo 'a\"b", SHELL_AT_SQUOTE},
        {"echo \"", SHELL_AT_DQUOTE},
        {"echo \"a'b", SHELL_AT_DQUOTE},
        {"echo \"a\\\"", SHELL_AT_DQUOTE},
        {"echo 'a' \"b\" ", SHELL_AT_WORD},
        {"echo $(", SHELL_AT_UNSAFE},
        {"echo \"$(echo ", SHELL_AT_UNSAFE},
        {"echo $(echo \")\" ", SHELL_AT_UNSAFE},
        {"echo $(echo (a) ", SHELL_AT_UNSAFE},
        {"echo $(echo a) ", SHELL_AT_WORD},
        {"echo \"$(echo a) ", SHELL_AT_DQUOTE},
        {"echo $((1 + ", SHELL_AT_UNSAFE},
        {"echo $((1 + 2)) ", SHELL_AT_WORD},
        {"echo ${X:-", SHELL_AT_UNSAFE},
        {"echo ${X} ", SHELL_AT_WORD},
        {"echo `", SHELL_AT_UNSAFE},
        {"echo `a` ", SHELL_AT_WORD},
        {"echo \"`a` ", SHELL_AT_DQUOTE},
        {"echo a # ", SHELL_AT_UNSAFE},
        {"echo a # it's\n", SHELL_AT_WORD},
        {"echo a#", SHELL_AT_WORD},
        {"cat <<EOF\n", SHELL_AT_UNSAFE},
        {"cat <<EOF\nx\nEOF\necho ", SHELL_AT_UNSAFE},
        {"cat < ", SHELL_AT_WORD},
        {"echo \\", SHELL_AT_UNSAFE},
        {"echo \\x", SHELL_AT_WORD},
        {"echo $", SHELL_AT_UNSAFE},
        {"echo $'", SHELL_AT_UNSAFE},
        {"echo $(case x in x) ;; esac) ", SHELL_AT_UNSAFE},
        {"case x in x) echo ", SHELL_AT_WORD},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        shell_lex_t lex;
        shell_lex_init(&lex);
        shell_lex_feed(&lex, cases[i].text, strlen(cases[i].text));
        const char *why = NULL;
        shell_at_t at = shell_lex_at(&lex, &why);
        ck_assert_msg(at == cases[i].at, "[%s]: %d, want %d", cases[i].text, at,
                      cases[i].at);
        ck_assert(at == SHELL_AT_UNSAFE ? why != NULL : why == NULL);
    }
}

END_TEST

START_TEST(test_shell_lex_after_a_value)
{
    /* "{{ v }}#" : the '#' after a value is no comment, so the quote after
     * it is seen. */
    shell_lex_t lex;
    shell_lex_init(&lex);
    shell_lex_feed(&lex, "echo ", 5);
    shell_lex_value(&lex);
    shell_lex_feed(&lex, "#'", 2);
    ck_assert_int_eq(shell_lex_at(&lex, NULL), SHELL_AT_SQUOTE);
    shell_lex_init(&lex);
    shell_lex_feed(&lex, "cat <", 5);
    shell_lex_value(&lex);
    shell_lex_feed(&lex, "<x ", 3); /* "<v<x": no here-document */
    ck_assert_int_eq(shell_lex_at(&lex, NULL), SHELL_AT_WORD);
}

END_TEST

START_TEST(test_shell_quote)
{
    static const struct {
        const char *value;
        shell_at_t at;
        const char *want;
    } cases[] = {
        {"plain-1.0_a/b", SHELL_AT_WORD, "plain-1.0_a/b"},
        {"", SHELL_AT_WORD, "''"},
        {"a b", SHELL_AT_WORD, "'a b'"},
        {"it's", SHELL_AT_WORD, "'it'\\''s'"},
        {"x=1", SHELL_AT_WORD, "'x=1'"},
        {"it's", SHELL_AT_SQUOTE, "it'\\''s"},
        {"plain", SHELL_AT_SQUOTE, "plain"},
        {"$a`b\"c\\d'e", SHELL_AT_DQUOTE, "\\$a\\`b\\\"c\\\\d'e"},
        {"plain", SHELL_AT_UNSAFE, "plain"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        size_t len = 0;
        errbuf_t err;
        ck_assert_int_eq(
            shell_quote_append(&out, &len, cases[i].value, cases[i].at, &err),
            0);
        ck_assert_str_eq(out ? out : "", cases[i].want);
        free(out);
    }
    char *out = NULL;
    size_t len = 0;
    errbuf_t err;
    ck_assert_int_eq(
        shell_quote_append(&out, &len, "a b", SHELL_AT_UNSAFE, &err), -1);
    free(out);
    ck_assert(!shell_plain(""));
    ck_assert(!shell_plain("a=b"));
    ck_assert(shell_plain("2026-12-07T00:00:00+01:00"));
}

END_TEST

START_TEST(test_pathname_normalize)
{
    static const char *const cases[][2] = {
        {"a/b", "a/b"},
        {"a//b/", "a/b"},
        {"./a/./b", "a/b"},
        {"a/../b", "b"},
        {"a/b/../../..", ".."},
        {"../x", "../x"},
        {"../../x/..", "../.."},
        {"/", "/"},
        {"/..", "/"},
        {"/../etc", "/etc"},
        {"", "."},
        {".", "."},
        {"/a/b/../c/", "/a/c"},
        {"file://a/../b", "file://b"},
        {"file:///a//b", "file:///a/b"},
        {"...", "..."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = pathname_normalize(cases[i][0]);
        ck_assert_msg(!strcmp(out, cases[i][1]), "[%s] -> [%s], want [%s]",
                      cases[i][0], out, cases[i][1]);
        free(out);
    }
}

END_TEST

Suite *
shell_suite(void)
{
    Suite *s = suite_create("shell");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_shell_needed);
    tcase_add_test(tc, test_shell_lex_places);
    tcase_add_test(tc, test_shell_lex_after_a_value);
    tcase_add_test(tc, test_shell_quote);
    tcase_add_test(tc, test_pathname_normalize);
    suite_add_tcase(s, tc);
    return s;
}
