/* uids — a uid (and a gid of the same number) of its own for each attempt
 * of a root worker, from a range no account uses (as systemd's
 * DynamicUser does), so that one task cannot read another's environment,
 * memory or work dir. The first number of the range is not handed out: it
 * is the group every attempt's uid belongs to (its one supplementary
 * group), through which tasks share data dirs that the operator gives to
 * it; a group cannot open another uid's /proc files (those need the same
 * uid) nor a 0700 work dir.
 *
 * A uid is handed out only when it is free on the whole host: not held by
 * an attempt of this worker, not in the passwd or group databases, owned by
 * no running process, and not locked by another worker. The lock is an
 * flock on UIDS_LOCK_DIR/<uid> (a root-only directory shared by every
 * worker on the host), held from uids_take until the uid is free again. A
 * uid is free again only when every process that runs as it is gone:
 * uids_release kills them all (a helper that becomes the uid and sends
 * SIGKILL to everything it may signal), and a uid whose processes have not
 * vanished yet stays locked until a later call finds none. */
#ifndef SLUICE_UIDS_H
#define SLUICE_UIDS_H

#include <stdint.h>
#include <sys/types.h>

#include "common/errbuf.h"
#include "worker/exec.h"

#define UIDS_DEFAULT_FIRST 61000
#define UIDS_DEFAULT_LAST  61999
#define UIDS_LOCK_DIR      "/run/sluice/uids"

typedef struct uids_t uids_t;

/* Parses "FIRST-LAST" (e.g. "61000-61999"); -1 with err when it is not a
 * range of at least two numbers above 0 and below 2^31 (FIRST is the
 * shared group, the rest are uids). */
int
uids_parse_range(const char *text, uid_t *first, uid_t *last, errbuf_t *err);

/* The uids first+1..last with first as their shared group, locked under
 * lock_dir (created 0700; NULL means
 * UIDS_LOCK_DIR). -1 (NULL) with err when the directory cannot be made.
 * Caller owns the result. */
uids_t *uids_new(uid_t first, uid_t last, const char *lock_dir, errbuf_t *err);

/* Releases every uid still held (their processes are killed first) and
 * frees the set; accepts NULL and a NULL *self_p. */
void uids_destroy(uids_t **self_p);

/* Takes a free uid for an attempt: *user gets it as uid and gid, the
 * shared group, and the name "sluice-<uid>". -1 with err when every uid of
 * the range is in use. */
int uids_take(uids_t *self, exec_user_t *user, errbuf_t *err);

/* The attempt that held uid ended: kills every process still running as
 * it, and frees the uid once none is left (else a later uids_take or
 * uids_release frees it when they are gone). Returns the number of
 * processes that were still running as uid before the kill. */
int uids_release(uids_t *self, uid_t uid);

/* Kills every process still running as uid, which stays held: its
 * attempt goes on without them (its outputs are hashed next, as uid, by
 * nothing the task left behind). Returns how many were running. */
int uids_kill(uids_t *self, uid_t uid);

/* "FIRST-LAST", for messages. Borrowed. */
const char *uids_range(const uids_t *self);

/* The group every attempt's uid belongs to (the range's first number). */
gid_t uids_group(const uids_t *self);

/* Uids held now, by attempts or waiting for their processes to end. */
size_t uids_held(const uids_t *self);

/* Number of processes on the host whose real, effective, saved or file
 * uid is uid (a scan of /proc). */
size_t uids_processes(uid_t uid);

#endif
