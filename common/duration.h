/* duration — time spans as people write them: "500ms", "30s", "5m", "2h",
 * "1d", "1.5s", or bare milliseconds "1500".
 *
 * The DAG file (timeouts, retry delays), `validate:` freshness, the
 * scheduler's config and the command-line flags all read durations with
 * this one function, so they accept the same text. */
#ifndef SLUICE_DURATION_H
#define SLUICE_DURATION_H

#include <stdint.h>

/* How to write a duration, for the end of a message about a bad one. */
#define DURATION_HINT "write a number with ms, s, m, h or d, like '30s'"

/* Parses text into *ms: digits, an optional fraction ("1.5"), then one of
 * ms, s, m, h, d or nothing (milliseconds). -1 when text is NULL,
 * malformed or too large; *ms is then unchanged. */
int duration_parse(const char *text, uint64_t *ms);

#endif
