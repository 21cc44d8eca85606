/* shell — a command as the worker's /bin/sh reads it: whether it needs a
 * shell at all, and how a template value goes into one as a single word
 * whatever bytes it holds.
 *
 * The lexer follows POSIX sh quoting far enough to know what a value
 * inserted at a point would become: an unquoted word, part of a '...' or
 * "..." string, or something it cannot vouch for (inside $(...), ${...},
 * `...`, a comment, a here-document, after a backslash or a '$').
 * Only template text is fed to it, never values: a quoted value leaves the
 * state as it found it. */
#ifndef SLUICE_SHELL_H
#define SLUICE_SHELL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errbuf.h"

/* Whether a command needs /bin/sh: any byte outside letters, digits, space
 * and _./=:,@%+-, an assignment or a shell builtin as its first word, or an
 * empty command. Without one it is split on spaces and exec'd directly. */
bool shell_needed(const char *command);

/* Whether value is one word as it is, wherever it goes: not empty, and only
 * letters, digits and _./:,@%+- (no '=', which makes a first word an
 * assignment). */
bool shell_plain(const char *value);

/* What a value inserted at the lexer's point would be part of. */
typedef enum {
    SHELL_AT_WORD,   /* unquoted: quoted as '...' */
    SHELL_AT_SQUOTE, /* inside '...': each ' becomes '\'' */
    SHELL_AT_DQUOTE, /* inside "...": $ ` " \ get a backslash */
    SHELL_AT_UNSAFE, /* somewhere no quoting is sure to hold */
} shell_at_t;

#define SHELL_NEST_MAX 32

typedef struct {
    char quote;     /* 0, '\'' or '"' in the innermost frame */
    char kind;      /* innermost frame: 0 top, '(' $(...), '{' ${...}, '`' */
    unsigned depth; /* frames below the innermost */
    char kinds[SHELL_NEST_MAX];          /* the outer frames' kinds ... */
    char quotes[SHELL_NEST_MAX];         /* ... and their quotes */
    unsigned parens[SHELL_NEST_MAX + 1]; /* open '(' or '{' per frame */
    bool escaped;    /* the last byte was an unquoted backslash */
    bool dollar;     /* the last byte was an unquoted '$' */
    bool comment;    /* inside a # comment */
    bool word_start; /* the next byte starts a word */
    char word[8];    /* the current word's first bytes */
    size_t word_len;
    char prev;          /* the last byte fed */
    const char *sticky; /* once set, every later point is unsafe: why */
} shell_lex_t;

void shell_lex_init(shell_lex_t *lex);

/* Reads len bytes of command text. */
void shell_lex_feed(shell_lex_t *lex, const char *text, size_t len);

/* Tells the lexer a value was inserted at its point (it sees only the
 * template's text): the word has begun. */
void shell_lex_value(shell_lex_t *lex);

/* Where the next byte would go; *why (may be NULL) names the construct
 * when the answer is SHELL_AT_UNSAFE ("inside $(...)"). */
shell_at_t shell_lex_at(const shell_lex_t *lex, const char **why);

/* Appends value, quoted for `at`, to *out (an owned, growing string of
 * *len bytes; a string afterwards, also when nothing was appended). -1
 * with err when at is SHELL_AT_UNSAFE and the value is not
 * shell_plain. */
int shell_quote_append(
    char **out, size_t *len, const char *value, shell_at_t at, errbuf_t *err);

#endif
