/* csvread — streams records from a CSV (RFC 4180) or JSON-lines file.
 *
 * One record at a time, in bounded memory: a record longer than
 * CSVREAD_MAX_RECORD bytes is an error. CSV fields may be quoted, with ""
 * for a quote and line breaks inside quotes; CRLF and LF both end a record.
 * A JSON line is one flat object whose values are strings, numbers, true,
 * false or null (null reads as an empty field). The validator reads the
 * fields and copies the raw bytes of good and bad records elsewhere. */
#ifndef SLUICE_CSVREAD_H
#define SLUICE_CSVREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errbuf.h"

#define CSVREAD_MAX_RECORD (1024 * 1024)

/* csvread_next codes */
#define CSVREAD_END    0
#define CSVREAD_RECORD 1
#define CSVREAD_MALFORMED                                                      \
    2 /* this record is broken (err says how); the
                               next call reads on */

typedef struct csvread_t csvread_t;

/* Opens path; jsonl selects JSON lines, else CSV. NULL with err. */
csvread_t *csvread_open(const char *path, bool jsonl, errbuf_t *err);

void csvread_destroy(csvread_t **self_p);

/* Reads the next record: CSVREAD_RECORD, CSVREAD_END, CSVREAD_MALFORMED,
 * or -1 with err on a read error or an over-long record. */
int csvread_next(csvread_t *self, errbuf_t *err);

/* The fields of the current record, borrowed until the next call. */
size_t csvread_count(const csvread_t *self);

const char *csvread_field(const csvread_t *self, size_t index);

/* JSON lines: the key of field index; CSV: NULL. */
const char *csvread_key(const csvread_t *self, size_t index);

/* The 1-based line on which the current record starts. */
size_t csvread_line(const csvread_t *self);

/* The current record's bytes as read, with its line ending. */
const char *csvread_raw(const csvread_t *self, size_t *size);

/* Bytes read so far. */
size_t csvread_offset(const csvread_t *self);

#endif
