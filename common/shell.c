#include "common/shell.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

static bool
s_plain_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c != '\0' && strchr("_./=:,@%+-", c));
}

bool
shell_needed(const char *command)
{
    static const char *const builtins[] = {
        "alias", "break", "case",     "cd",     "command", "continue", "eval",
        "exec",  "exit",  "export",   "for",    "getopts", "hash",     "if",
        "local", "read",  "readonly", "return", "set",     "shift",    "source",
        "times", "trap",  "type",     "ulimit", "umask",   "unalias",  "unset",
        "until", "wait",  "while",    "."};
    if (!command) {
        return true;
    }
    for (const char *p = command; *p; p++) {
        if (*p != ' ' && !s_plain_char(*p)) {
            return true;
        }
    }
    const char *word = command + strspn(command, " ");
    size_t len = strcspn(word, " ");
    if (len == 0 || memchr(word, '=', len)) {
        return true;
    }
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strlen(builtins[i]) == len && memcmp(word, builtins[i], len) == 0) {
            return true;
        }
    }
    return false;
}

bool
shell_plain(const char *value)
{
    if (!*value) {
        return false;
    }
    for (const char *p = value; *p; p++) {
        if (*p == '=' || !s_plain_char(*p)) {
            return false;
        }
    }
    return true;
}

/* ----------------------------------------------------------------- lexer */

void
shell_lex_init(shell_lex_t *lex)
{
    memset(lex, 0, sizeof *lex);
    lex->word_start = true;
}

static void
s_push(shell_lex_t *lex, char kind)
{
    if (lex->depth >= SHELL_NEST_MAX) {
        lex->sticky = "nested too deep";
        return;
    }
    lex->kinds[lex->depth] = lex->kind;
    lex->quotes[lex->depth] = lex->quote;
    lex->depth++;
    lex->kind = kind;
    lex->quote = 0;
    lex->parens[lex->depth] = 0;
    lex->word_start = true;
    lex->word_len = 0;
}

static void
s_pop(shell_lex_t *lex)
{
    lex->depth--;
    lex->kind = lex->kinds[lex->depth];
    lex->quote = lex->quotes[lex->depth];
    lex->word_start = false;
    lex->word_len = 0;
}

/* A byte that ends an unquoted word (and lets the next one start a word,
 * where '#' begins a comment). */
static bool
s_delimiter(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' ||
           c == '|' || c == '(' || c == ')' || c == '<' || c == '>';
}

/* `case` inside a substitution: its patterns end in ')' that the paren
 * count would take for the substitution's end. */
static void
s_word_end(shell_lex_t *lex)
{
    if (lex->kind && lex->word_len == 4 && !memcmp(lex->word, "case", 4)) {
        lex->sticky = "a 'case' inside $(...)";
    }
    lex->word_len = 0;
    lex->word_start = true;
}

/* Closes a $(...) or ${...} frame on its unbalanced ')' or '}'; true when
 * c was consumed that way. */
static bool
s_nest_bracket(shell_lex_t *lex, char c)
{
    char open = lex->kind;
    char close = open == '(' ? ')' : open == '{' ? '}' : 0;
    if (!close) {
        return false;
    }
    if (c == open) {
        lex->parens[lex->depth]++;
    } else if (c == close) {
        if (lex->parens[lex->depth] == 0) {
            s_pop(lex);
            return true;
        }
        lex->parens[lex->depth]--;
    }
    return false;
}

/* One unquoted byte that is not a backslash, '$' or '`'. */
static void
s_unquoted(shell_lex_t *lex, char c, char prev)
{
    if (c == '\'' || c == '"') {
        lex->quote = c;
        lex->word_start = false;
        return;
    }
    if (c == '#' && lex->word_start) {
        lex->comment = true;
        return;
    }
    if (c == '<' && prev == '<') {
        lex->sticky = "a here-document";
        return;
    }
    if (s_nest_bracket(lex, c)) {
        return;
    }
    if (s_delimiter(c)) {
        s_word_end(lex);
        return;
    }
    if (lex->word_len < sizeof lex->word) {
        lex->word[lex->word_len++] = c;
    }
    lex->word_start = false;
}

/* The byte after an unquoted (or double-quoted) '$'; true when consumed. */
static bool
s_after_dollar(shell_lex_t *lex, char c)
{
    if (c == '(' || c == '{') {
        s_push(lex, c);
        return true;
    }
    if (c == '\'' && !lex->quote) {
        lex->sticky = "$'...'";
        return true;
    }
    return false;
}

static void
s_byte(shell_lex_t *lex, char c, char prev)
{
    if (lex->comment) {
        if (c == '\n') {
            lex->comment = false;
            s_word_end(lex);
        }
        return;
    }
    if (lex->escaped) {
        lex->escaped = false;
        lex->word_start = false;
        return;
    }
    if (lex->quote == '\'') {
        lex->quote = c == '\'' ? 0 : '\'';
        return;
    }
    bool dollar = lex->dollar;
    lex->dollar = false;
    if (dollar && s_after_dollar(lex, c)) {
        return;
    }
    if (c == '\\' || c == '$') {
        lex->escaped = c == '\\';
        lex->dollar = c == '$';
        lex->word_start = false;
    } else if (c == '`') {
        if (lex->kind == '`') {
            s_pop(lex);
        } else {
            s_push(lex, '`');
        }
    } else if (lex->quote == '"') {
        lex->quote = c == '"' ? 0 : '"';
    } else {
        s_unquoted(lex, c, prev);
    }
}

void
shell_lex_feed(shell_lex_t *lex, const char *text, size_t len)
{
    for (size_t i = 0; i < len && !lex->sticky; i++) {
        s_byte(lex, text[i], i ? text[i - 1] : lex->prev);
    }
    if (len) {
        lex->prev = text[len - 1];
    }
}

void
shell_lex_value(shell_lex_t *lex)
{
    lex->word_start = false;
    lex->dollar = false;
    lex->prev = 'x'; /* "<{{ v }}<" is no here-document */
    if (lex->word_len < sizeof lex->word) {
        lex->word[lex->word_len++] = 'x'; /* no longer "case" */
    }
}

shell_at_t
shell_lex_at(const shell_lex_t *lex, const char **why)
{
    const char *reason = lex->sticky;
    if (!reason && lex->comment) {
        reason = "a # comment";
    } else if (!reason && lex->escaped) {
        reason = "a backslash";
    } else if (!reason && lex->dollar) {
        reason = "a '$'";
    } else if (!reason && lex->kind) {
        reason = lex->kind == '('   ? "$(...)"
                 : lex->kind == '{' ? "${...}"
                                    : "`...`";
    }
    if (why) {
        *why = reason;
    }
    if (reason) {
        return SHELL_AT_UNSAFE;
    }
    return lex->quote == '\''  ? SHELL_AT_SQUOTE
           : lex->quote == '"' ? SHELL_AT_DQUOTE
                               : SHELL_AT_WORD;
}

/* ---------------------------------------------------------------- quoting */

static void
s_put(char **out, size_t *len, const char *bytes, size_t n)
{
    *out = xrealloc(*out, *len + n + 1);
    memcpy(*out + *len, bytes, n);
    *len += n;
    (*out)[*len] = '\0';
}

/* Copies value, writing `with` in place of every byte in `special` (with
 * NULL: a backslash before it). */
static void
s_put_escaped(char **out,
              size_t *len,
              const char *value,
              const char *special,
              const char *with)
{
    for (const char *p = value; *p;) {
        size_t run = strcspn(p, special);
        s_put(out, len, p, run);
        p += run;
        if (*p) {
            if (with) {
                s_put(out, len, with, strlen(with));
            } else {
                s_put(out, len, "\\", 1);
                s_put(out, len, p, 1);
            }
            p++;
        }
    }
}

int
shell_quote_append(
    char **out, size_t *len, const char *value, shell_at_t at, errbuf_t *err)
{
    s_put(out, len, "", 0); /* *out is a string, even for an empty value */
    if (shell_plain(value) && at != SHELL_AT_SQUOTE) {
        s_put(out, len, value, strlen(value));
        return 0;
    }
    switch (at) {
        case SHELL_AT_WORD:
            s_put(out, len, "'", 1);
            s_put_escaped(out, len, value, "'", "'\\''");
            s_put(out, len, "'", 1);
            return 0;
        case SHELL_AT_SQUOTE:
            s_put_escaped(out, len, value, "'", "'\\''");
            return 0;
        case SHELL_AT_DQUOTE:
            s_put_escaped(out, len, value, "$`\"\\", NULL);
            return 0;
        case SHELL_AT_UNSAFE:
            break;
    }
    errbuf_set(err, "its value holds characters the shell would read");
    return -1;
}
