/* workdirs — what becomes of an attempt's work dir (WORK_ROOT/ID) once the
 * attempt has ended and its outputs are hashed.
 *
 * A succeeded attempt's dir goes at once: it is renamed into
 * WORK_ROOT/.trash (one system call, in the loop) and a child process
 * removes what is there, so a dir of a million files never stalls the
 * worker. A failed attempt's dir is kept for debugging, keep_ms at most
 * and keep_max of them at most (the oldest go first), then goes the same
 * way. Kept dirs are found again at the next start by their times, so a
 * restart neither loses nor keeps them for ever.
 *
 * Removal never follows a symbolic link a task left in its dir (`ln -s
 * /etc x`): every directory is opened below its parent's descriptor with
 * O_NOFOLLOW, every entry is unlinked relative to it, and a link is
 * removed, never entered. */
#ifndef SLUICE_WORKDIRS_H
#define SLUICE_WORKDIRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"

#define WORKDIRS_DEFAULT_KEEP_MS  (24 * 3600 * 1000LL)
#define WORKDIRS_DEFAULT_KEEP_MAX 100
#define WORKDIRS_TRASH            ".trash" /* in WORK_ROOT */
#define WORKDIRS_MAX_DEPTH        32 /* dirs open at once while removing */

typedef struct workdirs_t workdirs_t;

/* A kept dir: its attempt and when it was kept (wall ms). */
typedef struct {
    uint64_t attempt_id;
    int64_t kept_ms;
} workdirs_kept_t;

/* The work dirs below work_root (which exists): the failed attempts' dirs
 * found there are kept from their modification times, and whatever is in
 * the trash is removed. Caller owns the result. */
workdirs_t *
workdirs_new(const char *work_root, uint64_t keep_ms, uint32_t keep_max);

/* Stops the remover (the next start goes on with the trash) and frees;
 * accepts NULL and a NULL *self_p. */
void workdirs_destroy(workdirs_t **self_p);

/* The attempt ended: its dir goes now, or is kept when failed. The caller
 * has stopped every process that could still write in it. */
void workdirs_ended(workdirs_t *self, uint64_t attempt_id, bool failed);

/* Moves the kept dirs that are due into the trash, reaps the remover and
 * starts one when the trash has something new. Never blocks. */
void workdirs_service(workdirs_t *self);

/* Monotonic ms when workdirs_service next has work, -1 for none. */
int64_t workdirs_next_deadline(const workdirs_t *self);

/* Dirs kept now. */
size_t workdirs_kept(const workdirs_t *self);

/* How many of the n kept dirs (oldest first) must go at now_ms: those
 * beyond keep_max, and those kept keep_ms ago or longer. */
size_t workdirs_due(const workdirs_kept_t *kept,
                    size_t n,
                    int64_t now_ms,
                    uint64_t keep_ms,
                    uint32_t keep_max);

/* Removes everything inside the directory dirfd (not dirfd itself),
 * following no link: a link is unlinked, a directory deeper than
 * WORKDIRS_MAX_DEPTH is first moved up into dirfd. -1 with err (the first
 * entry that could not be removed) when something is left. */
int workdirs_empty(int dirfd, errbuf_t *err);

#endif
