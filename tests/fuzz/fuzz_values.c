/* fuzz_values — libFuzzer target for what turns a template value into
 * command text: the shell lexer (common/shell.c) and the quoting.
 *
 * Input layout: byte 0 is where the command text ends (modulo the rest's
 * length); bytes 1..k are the command text written before a value, the
 * rest is the value (a NUL in it becomes 'x': values are C strings).
 * Properties, for every input: the lexer never crashes; where it says a
 * value lands in a bare word, in '...' or in "...", the quoted value read
 * back by those quoting rules is exactly the value; where it says no
 * quoting holds, only plain words are put in. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/shell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads back the one word sh would make of `word`, with POSIX single
 * quotes, double quotes and backslashes (all that the quoting uses); every
 * quote must be closed. */
static char *
s_unquote(const char *word)
{
    size_t len = strlen(word);
    char *out = malloc(len + 1);
    assert(out);
    size_t n = 0;
    char quote = 0;
    for (size_t i = 0; i < len; i++) {
        char c = word[i];
        if (quote == '\'') {
            quote = c == '\'' ? 0 : quote;
            if (quote) {
                out[n++] = c;
            }
        } else if (quote == '"') {
            if (c == '\\' && i + 1 < len && strchr("$`\"\\", word[i + 1])) {
                out[n++] = word[++i];
            } else if (c == '"') {
                quote = 0;
            } else {
                assert(c != '$' && c != '`'); /* expansions are escaped */
                out[n++] = c;
            }
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '\\' && i + 1 < len) {
            out[n++] = word[++i];
        } else {
            assert(!strchr(" \t\n;&|<>()$`*?[#~=\\", c));
            out[n++] = c;
        }
    }
    assert(quote == 0);
    out[n] = '\0';
    return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t rest = size - 1;
    size_t k = rest ? data[0] % (rest + 1) : 0;
    const char *text = (const char *) data + 1;
    char *value = malloc(rest - k + 1);
    assert(value);
    for (size_t i = 0; i < rest - k; i++) {
        value[i] = data[1 + k + i] ? (char) data[1 + k + i] : 'x';
    }
    value[rest - k] = '\0';
    shell_lex_t lex;
    shell_lex_init(&lex);
    shell_lex_feed(&lex, text, k);
    const char *why = NULL;
    shell_at_t at = shell_lex_at(&lex, &why);
    assert((at == SHELL_AT_UNSAFE) == (why != NULL));
    char *out = NULL;
    size_t len = 0;
    errbuf_t err;
    int rc = shell_quote_append(&out, &len, value, at, &err);
    if (at == SHELL_AT_UNSAFE) {
        assert(rc == (shell_plain(value) ? 0 : -1));
    } else {
        assert(rc == 0);
        const char *q = at == SHELL_AT_SQUOTE   ? "'"
                        : at == SHELL_AT_DQUOTE ? "\""
                                                : "";
        size_t wlen = strlen(out) + 3;
        char *word = malloc(wlen);
        assert(word);
        snprintf(word, wlen, "%s%s%s", q, out, q);
        char *back = s_unquote(word);
        free(word);
        assert(strcmp(back, value) == 0);
        free(back);
    }
    shell_lex_value(&lex);
    (void) shell_needed(value);
    free(out);
    free(value);
    return 0;
}
