/* sensor: what a sensor task decides, apart from where it runs.
 *
 * A sensor (`kind: sensor`) is a task that waits for something: each poke
 * is a short attempt on a worker; between pokes it holds no slot. This
 * module holds the two pure decisions, so both sides and the tests share
 * them: whether a file sensor's files are there (the worker's built-in
 * check, `sluice __sensor`), and what a "not yet" means for the task
 * (wait again, or time out). */
#ifndef SLUICE_COMMON_SENSOR_H
#define SLUICE_COMMON_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Defaults when the DAG does not set them. */
#define SENSOR_POKE_INTERVAL_MS (30 * 1000)
#define SENSOR_TIMEOUT_MS       (60 * 60 * 1000)

/* The exit status of `sluice __sensor` when the files are not there yet.
 * For a sensor task any normal exit with a non-zero status means "not
 * yet"; a signal, a time-out kill, a failed start or a lost worker is an
 * error (the ordinary failure path, with its retries). */
#define SENSOR_EXIT_NOT_READY 1

/* Environment of the built-in file check: the rendered pattern, the
 * minimal size in bytes and the quiet time in ms. */
#define SENSOR_ENV_FILE      "SLUICE_SENSOR_FILE"
#define SENSOR_ENV_MIN_SIZE  "SLUICE_SENSOR_MIN_SIZE"
#define SENSOR_ENV_STABLE_MS "SLUICE_SENSOR_STABLE_MS"

typedef enum {
    SENSOR_WAIT, /* poke again at *next_ms */
    SENSOR_FAIL, /* timed out: the task fails */
    SENSOR_SKIP, /* timed out with soft_fail: the task is skipped */
} sensor_verdict_t;

/* Whether pattern (a path or a glob) names at least one file, each match
 * a regular file of at least min_size bytes whose mtime is stable_ms or
 * more before now_ms (wall ms): written, then left alone that long.
 * Returns 1 when ready, 0 when not; why (may be NULL) says what is
 * missing. */
int sensor_file_ready(const char *pattern,
                      uint64_t min_size,
                      uint64_t stable_ms,
                      int64_t now_ms,
                      char *why,
                      size_t size);

/* After a "not yet" at now_ms of a sensor that first poked at since_ms:
 * SENSOR_WAIT with *next_ms = now + poke_ms while that is still within
 * timeout_ms of since_ms, else SENSOR_FAIL, or SENSOR_SKIP with
 * soft_fail. */
sensor_verdict_t sensor_after_not_ready(int64_t since_ms,
                                        int64_t now_ms,
                                        uint64_t poke_ms,
                                        uint64_t timeout_ms,
                                        bool soft_fail,
                                        int64_t *next_ms);

/* `sluice __sensor`: the worker's child for a file sensor. Reads the
 * SENSOR_ENV_* variables; exits 0 when ready, SENSOR_EXIT_NOT_READY when
 * not, and says why on stdout. */
int sensor_main(int argc, char **argv);

#endif
