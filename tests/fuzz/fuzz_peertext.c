/* fuzz_peertext — libFuzzer target for the checks on text a peer chose:
 * escaping for people (common/escape.c) and the worker name rule
 * (proto/msg.c).
 *
 * Properties: escaped text is clean (no control character, no invalid
 * UTF-8, no bidirectional override), escaping clean text changes nothing,
 * escape_text agrees with escape_dup at every buffer size, and a name is a
 * worker name exactly when it is 1 to MSG_NAME_MAX of [A-Za-z0-9._-]. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "proto/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
s_name_reference(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > MSG_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    assert(text);
    memcpy(text, data, size);
    text[size] = '\0'; /* a NUL inside ends the text, as in a C string */
    char *escaped = escape_dup(text);
    assert(escape_is_clean(escaped));
    for (const char *p = escaped; *p; p++) {
        assert((unsigned char) *p >= 0x20 && *p != 0x7f);
    }
    if (escape_is_clean(text)) {
        assert(strcmp(escaped, text) == 0);
    }
    size_t need = escape_text(NULL, 0, text);
    assert(need == strlen(escaped));
    size_t cut = size ? data[0] % (need + 2) : 0;
    char *part = malloc(cut + 1);
    assert(part);
    escape_text(part, cut + 1, text);
    assert(strncmp(part, escaped, strlen(part)) == 0);
    assert(msg_name_ok(text) == s_name_reference(text));
    free(part);
    free(escaped);
    free(text);
    return 0;
}
