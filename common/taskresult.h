/* taskresult — the small JSON value a task leaves for the tasks after it:
 * written to $SLUICE_RESULT, read back by the worker once the attempt
 * exits, stored by the scheduler and read by downstream templates as
 * {{ tasks.ID.result }} or {{ tasks.ID.result.FIELD }}. Also the ids a
 * branch task writes to $SLUICE_BRANCH, read under the same file rules. */
#ifndef SLUICE_TASKRESULT_H
#define SLUICE_TASKRESULT_H

#include <stddef.h>

#include "common/errbuf.h"

/* The most bytes a result may hold: enough for a summary or a list of
 * paths, small enough to travel in a Result and live in the store. */
#define TASKRESULT_MAX_BYTES 65536

/* The file's name in the attempt's work dir. */
#define TASKRESULT_FILE "result.json"

/* The longest id a branch choice may name (task ids are shorter). */
#define TASKRESULT_ID_MAX 256

/* The file a branch task writes its choice to, in the attempt's work dir. */
#define TASKRESULT_BRANCH_FILE "branch"

/* Reads the result file at path without following a symlink: 0 with *out
 * NULL when there is none, 0 with *out owned (the file's text, one valid
 * JSON value) when there is, -1 with err set when it is not a regular
 * file, holds more than TASKRESULT_MAX_BYTES or is not valid JSON. */
int taskresult_read(const char *path, char **out, errbuf_t *err);

/* Checks that text (size bytes) is one JSON value of at most
 * TASKRESULT_MAX_BYTES; -1 with err set otherwise. */
int taskresult_check(const char *text, size_t size, errbuf_t *err);

/* Reads the choice of a branch task from the file at path, under the
 * rules of taskresult_read (regular file, one link, at most
 * TASKRESULT_MAX_BYTES): 0 with *ids owned (an array of *n owned strings;
 * free with taskresult_ids_free; none is a valid choice), -1 with err set
 * when there is no file or it breaks those rules or
 * taskresult_branch_parse's. */
int
taskresult_branch_read(const char *path, char ***ids, size_t *n, errbuf_t *err);

/* Parses a branch choice: one JSON array of strings when the text starts
 * with '[' (after blanks), else one task id a line (blanks around an id
 * and empty lines ignored). Every id must be a valid task id. 0 with *ids
 * owned as above, -1 with err set. */
int taskresult_branch_parse(
    const char *text, size_t size, char ***ids, size_t *n, errbuf_t *err);

/* Frees what taskresult_branch_read returned; accepts NULL. */
void taskresult_ids_free(char ***ids_p, size_t n);

/* Splits a template name "tasks.ID.result" or "tasks.ID.result.FIELD":
 * 1 with *task owned and *field pointing into name (NULL without one), 0
 * when name does not start with "tasks.", -1 when it does but is not of
 * that form. ID ends at the first ".result" that ends the name or is
 * followed by '.'. */
int taskresult_ref(const char *name, char **task, const char **field);

/* The text a template inserts for a result: the JSON text itself when
 * field is NULL, else member `field` of the object: a string's value as
 * it is (no JSON quotes or escapes), any other value as compact JSON.
 * Caller owns *out; -1 with err set when the result is no object or has
 * no such member. */
int taskresult_field(const char *json,
                     const char *field,
                     char **out,
                     errbuf_t *err);

#endif
