/* hashjob — hashes an attempt's declared inputs or outputs in a child
 * process (`sluice __hash`), never in the worker's loop.
 *
 * The child runs as the attempt's own user (the exec_user_t its task runs
 * as; NULL: as the worker), in the attempt's work dir, started and killed
 * like a task (exec.h): so a task cannot make the hashing read what its
 * own uid cannot, and a file that reads forever (a huge sparse file, a
 * slow mount) costs a slot until the time limit, never the worker's
 * loop. The child writes one record per declared path to stdout (see
 * hashjob_parse); the caller polls hashjob_fds() and calls
 * hashjob_service until hashjob_done(). The uid the child runs as must
 * stay the attempt's until then (uids_release would kill it). */
#ifndef SLUICE_HASHJOB_H
#define SLUICE_HASHJOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/datahash.h"
#include "common/errbuf.h"
#include "worker/exec.h"

#define HASHJOB_DEFAULT_TIMEOUT_MS (10 * 60 * 1000)
#define HASHJOB_OUT_MAX            (1024 * 1024) /* bytes of records read */

typedef struct hashjob_t hashjob_t;

/* Which declared paths: inputs before the task starts (a missing one is
 * only a warning: it may be produced elsewhere), or outputs after it
 * succeeded (a missing one fails the attempt). */
typedef enum {
    HASHJOB_INPUTS = 0,
    HASHJOB_OUTPUTS = 1,
} hashjob_kind_t;

/* What to hash. Every pointer is borrowed for the hashjob_start call. */
typedef struct {
    hashjob_kind_t kind;
    uint64_t attempt_id;
    const char *task_id;     /* for messages and the child's env */
    const char *work_root;   /* the attempt's dir is WORK_ROOT/ID */
    char *const *declared;   /* paths or file:// URIs; relative ones are */
    size_t ndeclared;        /* taken from the attempt's dir */
    const exec_user_t *user; /* who hashes; NULL: the worker itself */
    uint64_t timeout_ms;     /* killed past it (0: HASHJOB_DEFAULT) */
} hashjob_spec_t;

/* Starts the child. Never NULL: a failed start is a job already done
 * whose hashjob_result says why. Caller owns the result. */
hashjob_t *hashjob_start(const hashjob_spec_t *spec);

/* Kills the child if it still runs (and reaps it), frees, nulls *self_p;
 * accepts NULL. */
void hashjob_destroy(hashjob_t **self_p);

/* Fills fds with the child's pipes still open (at most 2); the count. */
int hashjob_fds(const hashjob_t *self, int *fds);

/* Reads what the child wrote, reaps it, kills it past the time limit. */
void hashjob_service(hashjob_t *self);

/* Monotonic ms when hashjob_service next has timed work, -1 for none. */
int64_t hashjob_next_deadline(const hashjob_t *self);

/* Kills the child; hashjob_result then fails with reason (copied). */
void hashjob_cancel(hashjob_t *self, const char *reason);

/* True once the child is reaped and its pipes are closed. */
bool hashjob_done(const hashjob_t *self);

/* Once done: appends the refs hashed to *refs (an array of *count, owned
 * by the caller: datahash_refs_free) and logs the warnings (inputs left
 * out of the lineage). 0 when every declared path was hashed (or, for
 * inputs, skipped with a warning); -1 with err naming the path and why
 * when one was refused or not written, when the time limit killed the
 * child ("hashing outputs took longer than 10m00s; ...") or when it was
 * cancelled or failed; the refs read before that stay in *refs. */
int hashjob_result(hashjob_t *self,
                   datahash_ref_t **refs,
                   size_t *count,
                   errbuf_t *err);

/* Parses size bytes of the child's records: each ends in a NUL and is
 * "R\tHASH\tSIZE\tURI" (a hashed path), "W\tTEXT" (a warning, logged
 * with attempt_id) or "E\tTEXT" (the first failure: -1 with err = TEXT).
 * A truncated or malformed record is -1 with err. Refs go to *refs as in
 * hashjob_result. */
int hashjob_parse(uint64_t attempt_id,
                  const char *data,
                  size_t size,
                  datahash_ref_t **refs,
                  size_t *count,
                  errbuf_t *err);

/* `sluice __hash inputs|outputs DIR PATH...`: the child. Hashes each
 * declared path (relative ones from DIR) and writes its records to
 * stdout; exits 0, or 1 after an "E" record, 2 on bad arguments. */
int hashjob_main(int argc, char **argv);

#endif
