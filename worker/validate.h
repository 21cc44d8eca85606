/* validate — the built-in validator of `kind: validate` tasks.
 *
 * Streams the dataset (inputs[0], CSV or JSON lines) once, in bounded
 * memory: per-row checks (schema, required, ranges, allowed values,
 * uniqueness, references) mark rows bad; dataset checks (freshness, drift
 * against the previous version's profile) fail the whole task. With an
 * output, good rows go to it and bad rows to OUTPUT.quarantine.csv (or
 * .jsonl). Uniqueness and references keep 8-byte hashes of the keys in an
 * open-addressing table (about 16 MiB per million keys). */
#ifndef SLUICE_VALIDATE_H
#define SLUICE_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most keys one uniqueness or reference set holds; past it the check
 * stops counting and says so (bounds memory to 1 GiB per set). */
#define VALIDATE_MAX_KEYS (1u << 26)

/* What to validate; every pointer borrowed. */
typedef struct {
    const char *spec;    /* canonical JSON of the `validate:` block */
    const char *input;   /* the dataset */
    const char *output;  /* where the clean rows go; NULL = nowhere */
    const char *profile; /* the previous version's drift profile; NULL or
                            "" = none */
    int64_t now_ms;      /* wall clock, for freshness */
} validate_args_t;

/* What came out; every string owned (validate_result_clear frees). */
typedef struct {
    bool passed;
    char *report;    /* JSON */
    char *summary;   /* "4,812 rows, 188 bad (3.9%): schema 12, ..." */
    char *text;      /* the report for people */
    char *profile;   /* this version's drift profile; NULL unless passed */
    char *drift;     /* the columns that drifted, one a line; "" if none */
    char error[512]; /* why it failed, "" when passed */
} validate_result_t;

/* Runs the validation. Returns 0 when it passed, 1 when it failed (error
 * says why: the bad ratio, freshness, drift, an unreadable file). */
int validate_run(const validate_args_t *args, validate_result_t *out);

void validate_result_clear(validate_result_t *out);

/* The most bytes of each file below that the worker reads back (the report
 * holds at most 5 sample rows per check, so it stays small). */
#define VALIDATE_REPORT_MAX (256 * 1024)

/* The files validate_main writes into its working directory. */
#define VALIDATE_FILE_REPORT  "validation.json"
#define VALIDATE_FILE_SUMMARY "validation.summary"
#define VALIDATE_FILE_TEXT    "validation.txt"
#define VALIDATE_FILE_PROFILE "validation.profile"
#define VALIDATE_FILE_ERROR   "validation.error"
#define VALIDATE_FILE_DRIFT   "validation.drift"

/* `sluice __validate`: what the worker runs as the attempt's child.
 * Reads SLUICE_VALIDATE_SPEC, SLUICE_VALIDATE_INPUT, SLUICE_VALIDATE_OUTPUT
 * and SLUICE_VALIDATE_PROFILE, writes the files above into the current
 * directory, prints the report; exits 0 (passed) or 1. */
int validate_main(int argc, char **argv);

#endif
