/* statedir — where a scheduler or worker keeps its keys, config and data.
 *
 * Resolution: --dir flag, else $SLUICE_DIR, else ./.sluice. Folders are
 * created 0700; secret files must not be readable by group or others. */
#ifndef SLUICE_STATEDIR_H
#define SLUICE_STATEDIR_H

#include "common/errbuf.h"

/* File names inside a state directory. */
#define STATEDIR_CONFIG        "config.yaml"
#define STATEDIR_SCHEDULER_KEY "scheduler.key"
#define STATEDIR_SCHEDULER_PUB "scheduler.pub"
#define STATEDIR_CLIENT_KEY    "client.key"
#define STATEDIR_CLIENT_PUB    "client.pub"
#define STATEDIR_STORE         "store.db"
#define STATEDIR_WORKER_KEY    "worker.key"
#define STATEDIR_WORKER_PUB    "worker.pub"
#define STATEDIR_OUTBOX        "outbox"
#define STATEDIR_WORK          "work"
/* CURVE transport keys; the public half is NAME.pub. */
#define STATEDIR_SCHEDULER_CURVE "scheduler.curve"
#define STATEDIR_CLIENT_CURVE    "client.curve"
#define STATEDIR_WORKER_CURVE    "worker.curve"

/* The directory to use; flag_dir may be NULL. Caller owns the result. */
char *statedir_resolve(const char *flag_dir);

/* "dir/name". Caller owns the result. */
char *statedir_path(const char *dir, const char *name);

/* mkdir -p with mode 0700 for the last component (0755 never used). */
int statedir_create(const char *dir, errbuf_t *err);

/* Refuses (with the chmod or chown to run) a file readable or writable by
 * group or others, or owned by another user than this process's (root's
 * files are accepted too). */
int statedir_check_private(const char *path, errbuf_t *err);

/* Refuses, as sshd does, a state directory that is not a directory, that
 * group or others can write, or that another user owns: whoever can write
 * it can swap the keys in it. Says which chmod/chown fixes it. */
int statedir_check_dir(const char *dir, errbuf_t *err);

/* For 'sluice init': makes dir (0700) or takes an existing one, fixing a
 * mode that lets group or others in (*fixed_mode gets the old mode, else
 * 0); refuses one that another user owns. */
int
statedir_create_private(const char *dir, unsigned *fixed_mode, errbuf_t *err);

/* True when path exists. */
int statedir_exists(const char *path);

#endif
