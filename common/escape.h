/* escape — text that a peer chose, made safe to show to a person.
 *
 * Worker names, host names, labels, refusal reasons and the like come from
 * the network. Printed raw, a newline forges a log line and an ESC drives
 * the operator's terminal. Every place that shows such text to a person
 * (the daemons' log, the CLI's tables and sentences) passes it through
 * escape_text: a control character (C0, DEL, C1), a bidirectional override
 * (which reorders what a terminal shows) and a byte that is not valid UTF-8
 * are written as \xHH, one per byte; everything else is kept as it is.
 * JSON output has its own escaping (common/json.h) and needs none. */
#ifndef SLUICE_ESCAPE_H
#define SLUICE_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes text, escaped, into out (size bytes, NUL-terminated when size >
 * 0; cut before an escape that does not fit whole). Returns the length the
 * whole escaped text needs, as snprintf does. NULL text is "". */
size_t escape_text(char *out, size_t size, const char *text);

/* The escaped text as a new string. Caller owns the result. */
char *escape_dup(const char *text);

/* True when escape_text would change nothing. */
bool escape_is_clean(const char *text);

/* Length of the valid UTF-8 sequence at p (at most left bytes), 0 when the
 * bytes there are not one: overlong forms, surrogates and values past
 * U+10FFFF are refused, as RFC 3629 requires. */
size_t escape_utf8_len(const unsigned char *p, size_t left);

#endif
