/* uids — see uids.h. */
#include "worker/uids.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"

#define UIDS_MAX       2147483647u /* uid_t above this is not portable */
#define UIDS_WAIT_MS   50          /* for killed processes to vanish */
#define UIDS_WAIT_STEP 5

/* One uid this worker holds: its lock file stays open (and locked) until
 * the uid is free again. */
typedef struct {
    uid_t uid;
    int fd;        /* the flock'ed UIDS_LOCK_DIR/<uid> */
    bool draining; /* the attempt ended; processes of it may remain */
} s_held_t;

struct uids_t {
    uid_t first;
    uid_t last;
    char range[32]; /* "FIRST-LAST" */
    char *lock_dir; /* owned */
    uid_t next;     /* where the next search starts: uids are reused last */
    s_held_t *held; /* owned, nheld of them */
    size_t nheld;
    /* accounts[uid - first]: an account or group of that number exists
     * (read once at start: the passwd and group databases are slow to ask
     * for every attempt). */
    unsigned char *accounts;
};

int
uids_parse_range(const char *text, uid_t *first, uid_t *last, errbuf_t *err)
{
    char *end = NULL;
    errno = 0;
    unsigned long a = strtoul(text, &end, 10);
    unsigned long b = 0;
    bool ok = !errno && end != text && isdigit((unsigned char) *text) &&
              *end == '-' && isdigit((unsigned char) end[1]);
    if (ok) {
        const char *rest = end + 1;
        b = strtoul(rest, &end, 10);
        ok = !errno && !*end && a > 0 && a < b && b < UIDS_MAX;
    }
    if (!ok) {
        errbuf_set(err,
                   "--run-as-range wants FIRST-LAST, numbers from 1 to %u "
                   "with FIRST < LAST (FIRST is the tasks' group, the rest "
                   "their uids; e.g. %u-%u), not '%s'",
                   UIDS_MAX - 1, UIDS_DEFAULT_FIRST, UIDS_DEFAULT_LAST, text);
        return -1;
    }
    *first = (uid_t) a;
    *last = (uid_t) b;
    return 0;
}

/* mkdir -p of the lock directory, the last two levels root-only: a lock
 * file that someone else could create or open would let them keep a uid
 * from every worker. */
static int
s_lock_dir_make(const char *dir, errbuf_t *err)
{
    char *copy = xstrdup(dir);
    int rc = 0;
    for (char *p = copy + 1; rc == 0; p++) {
        char saved = *p;
        if (saved != '/' && saved != '\0') {
            continue;
        }
        *p = '\0';
        if (mkdir(copy, 0700) < 0 && errno != EEXIST) {
            rc = -1;
        }
        *p = saved;
        if (saved == '\0') {
            break;
        }
    }
    struct stat st;
    if (rc < 0 || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        errbuf_set(err, "cannot create '%s' for the uid locks: %s", dir,
                   strerror(errno));
    } else if (st.st_uid != 0 || (st.st_mode & 077)) {
        errbuf_set(err,
                   "'%s' must be owned by root with mode 0700, so that only "
                   "workers can lock uids in it; run 'chown root: %s && "
                   "chmod 700 %s'",
                   dir, dir, dir);
        rc = -1;
    }
    free(copy);
    return rc;
}

/* Marks the numbers in the range that an account or a group has. */
static void
s_accounts(uids_t *self)
{
    setpwent();
    for (struct passwd *pw = getpwent(); pw; pw = getpwent()) {
        if (pw->pw_uid >= self->first && pw->pw_uid <= self->last) {
            self->accounts[pw->pw_uid - self->first] = 1;
        }
    }
    endpwent();
    setgrent();
    for (struct group *gr = getgrent(); gr; gr = getgrent()) {
        if (gr->gr_gid >= self->first && gr->gr_gid <= self->last) {
            self->accounts[gr->gr_gid - self->first] = 1;
        }
    }
    endgrent();
}

uids_t *
uids_new(uid_t first, uid_t last, const char *lock_dir, errbuf_t *err)
{
    assert(first > 0 && first < last);
    const char *dir = lock_dir ? lock_dir : UIDS_LOCK_DIR;
    if (s_lock_dir_make(dir, err) < 0) {
        return NULL;
    }
    uids_t *self = xcalloc(1, sizeof *self);
    self->first = first;
    self->last = last;
    self->next = first + 1;
    self->lock_dir = xstrdup(dir);
    snprintf(self->range, sizeof self->range, "%u-%u", (unsigned) first,
             (unsigned) last);
    self->accounts = xcalloc((size_t) (last - first) + 1, 1);
    s_accounts(self);
    return self;
}

/* ------------------------------------------------------ processes */

/* Reads the four uids (real, effective, saved, file system) of a
 * process from its status; -1 when it is gone. */
static int
s_proc_uids(const char *pid, unsigned ids[4])
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        return -1;
    }
    char line[256];
    int rc = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Uid:", 4) == 0) {
            rc = sscanf(line + 4, "%u %u %u %u", &ids[0], &ids[1], &ids[2],
                        &ids[3]) == 4
                     ? 0
                     : -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* One pass over /proc: marks busy[uid - first] for every uid in
 * first..last that a process runs as (any of its four uids; busy may be
 * NULL) and returns how many processes matched. */
static size_t
s_scan(uid_t first, uid_t last, unsigned char *busy)
{
    DIR *d = opendir("/proc");
    if (!d) {
        return 0;
    }
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned ids[4];
        if (!isdigit((unsigned char) e->d_name[0]) ||
            s_proc_uids(e->d_name, ids) < 0) {
            continue;
        }
        bool match = false;
        for (int i = 0; i < 4; i++) {
            if (ids[i] >= first && ids[i] <= last) {
                match = true;
                if (busy) {
                    busy[ids[i] - first] = 1;
                }
            }
        }
        count += match;
    }
    closedir(d);
    return count;
}

size_t
uids_processes(uid_t uid)
{
    return s_scan(uid, uid, NULL);
}

/* Sends SIGKILL to every process that runs as uid: a helper becomes uid
 * and signals everything it may (kill(-1) reaches exactly the processes
 * whose real or saved uid is its own, never itself). vfork as in exec.c:
 * the child makes raw system calls only, so the worker's other threads
 * keep their ids. */
static void
s_kill_all(uid_t uid)
{
    pid_t pid = vfork();
    if (pid == 0) {
        if (syscall(SYS_setgroups, 0, NULL) == 0 &&
            syscall(SYS_setgid, (gid_t) uid) == 0 &&
            syscall(SYS_setuid, uid) == 0) {
            kill(-1, SIGKILL);
        }
        _exit(0);
    }
    if (pid < 0) {
        log_warn("cannot fork to stop the processes of uid %u: %s",
                 (unsigned) uid, strerror(errno));
        return;
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

/* Whether any process (a zombie included) has uid as its real uid, asked
 * of the kernel's count per user instead of reading every
 * /proc/PID/status (a millisecond or more on a busy host, at every
 * attempt): a helper becomes uid, so it is counted there, lowers its
 * RLIMIT_NPROC to 2 and starts a probe; that fails exactly when a process
 * of uid other than the helper exists. The helper is vforked, as in
 * s_kill_all (a fork of the worker costs milliseconds) and makes raw
 * system calls only. */
/* The probe of s_uid_busy: born and gone. */
static char s_probe_stack[16384] __attribute__((aligned(16)));

static int
s_probe(void *arg)
{
    (void) arg;
    syscall(SYS_exit, 0);
    return 0;
}

static bool
s_uid_busy(uid_t uid)
{
    pid_t pid = vfork();
    if (pid == 0) {
        struct rlimit two = {2, 2};
        if (syscall(SYS_setgroups, 0, NULL) < 0 ||
            syscall(SYS_setgid, (gid_t) uid) < 0 ||
            syscall(SYS_setuid, uid) < 0 || setrlimit(RLIMIT_NPROC, &two) < 0) {
            _exit(2);
        }
        /* The probe shares memory and has a stack of its own: a nested
         * vfork would upset sanitizers, a fork would copy the worker. */
        pid_t probe = clone(s_probe, s_probe_stack + sizeof s_probe_stack,
                            CLONE_VM | SIGCHLD, NULL);
        if (probe < 0) {
            _exit(errno == EAGAIN ? 1 : 2);
        }
        waitpid(probe, NULL, 0);
        _exit(0);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) == 2) {
        return uids_processes(uid) > 0; /* could not ask: count instead */
    }
    return WEXITSTATUS(status) == 1;
}

/* Kills what runs as uid and waits a little for it to vanish (killed
 * processes linger until their parent reaps them); true once none is
 * left. */
static bool
s_stop_all(uid_t uid)
{
    if (!s_uid_busy(uid)) {
        return true;
    }
    s_kill_all(uid);
    struct timespec step = {0, UIDS_WAIT_STEP * 1000000L};
    for (int waited = 0; waited < UIDS_WAIT_MS; waited += UIDS_WAIT_STEP) {
        if (!s_uid_busy(uid)) {
            return true;
        }
        nanosleep(&step, NULL);
    }
    return !s_uid_busy(uid);
}

/* ------------------------------------------------------ held uids */

static long
s_find(const uids_t *self, uid_t uid)
{
    for (size_t i = 0; i < self->nheld; i++) {
        if (self->held[i].uid == uid) {
            return (long) i;
        }
    }
    return -1;
}

static void
s_unhold(uids_t *self, size_t index)
{
    close(self->held[index].fd); /* drops the lock */
    self->held[index] = self->held[--self->nheld];
}

/* Frees the draining uids whose processes are all gone now, and signals
 * again those of the rest (one may have forked while it was killed). It
 * never waits: it runs at every attempt's start and end, in the worker's
 * loop, and a process stuck in the kernel must not slow every attempt. */
static void
s_sweep(uids_t *self)
{
    for (size_t i = 0; i < self->nheld;) {
        if (!self->held[i].draining) {
            i++;
        } else if (!s_uid_busy(self->held[i].uid)) {
            log_debug("uid %u is free again", (unsigned) self->held[i].uid);
            s_unhold(self, i);
        } else {
            s_kill_all(self->held[i].uid);
            i++;
        }
    }
}

/* Locks uid for this worker; -1 when another worker holds it. */
static int
s_lock(const uids_t *self, uid_t uid)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%u", self->lock_dir, (unsigned) uid);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Whether uid may be handed out: not ours already, no account or group
 * of that number, no process (busy, from one scan of /proc). */
static bool
s_candidate(const uids_t *self, uid_t uid)
{
    return s_find(self, uid) < 0 && !self->accounts[uid - self->first];
}

int
uids_take(uids_t *self, exec_user_t *user, errbuf_t *err)
{
    s_sweep(self);
    uid_t base = self->first + 1; /* first is the group */
    size_t n = (size_t) (self->last - base) + 1;
    int rc = -1;
    for (size_t i = 0; i < n && rc < 0; i++) {
        uid_t uid = base + (uid_t) ((self->next - base + i) % n);
        if (!s_candidate(self, uid)) {
            continue;
        }
        int fd = s_lock(self, uid);
        /* Asked under the lock: no other worker starts a process as it
         * from now on, and none may run as it already. */
        if (fd >= 0 && s_uid_busy(uid)) {
            close(fd);
            fd = -1;
        }
        if (fd < 0) {
            continue;
        }
        self->held =
            xrealloc(self->held, (self->nheld + 1) * sizeof *self->held);
        self->held[self->nheld++] = (s_held_t){.uid = uid, .fd = fd};
        self->next = uid == self->last ? base : uid + 1;
        *user = (exec_user_t){.uid = uid,
                              .gid = (gid_t) uid,
                              .per_attempt = true,
                              .shared = (gid_t) self->first};
        snprintf(user->name, sizeof user->name, "sluice-%u", (unsigned) uid);
        rc = 0;
    }
    if (rc < 0) {
        errbuf_set(err,
                   "every uid of %s is in use (by attempts, accounts or "
                   "processes); widen --run-as-range",
                   self->range);
    }
    return rc;
}

int
uids_release(uids_t *self, uid_t uid)
{
    long at = s_find(self, uid);
    if (at < 0) {
        return 0;
    }
    int left = s_uid_busy(uid) ? (int) uids_processes(uid) : 0;
    if (left == 0) {
        s_unhold(self, (size_t) at); /* nothing of it runs: free now */
        return 0;
    }
    self->held[at].draining = true;
    log_info("uid %u: stopping %d processes the attempt left behind",
             (unsigned) uid, left);
    s_stop_all(uid); /* waits a little, once, for this uid only */
    s_sweep(self);
    return left;
}

int
uids_kill(uids_t *self, uid_t uid)
{
    if (s_find(self, uid) < 0) {
        return 0;
    }
    int left = s_uid_busy(uid) ? (int) uids_processes(uid) : 0;
    if (left > 0) {
        log_info("uid %u: stopping %d processes the attempt left behind",
                 (unsigned) uid, left);
        s_stop_all(uid);
    }
    return left;
}

const char *
uids_range(const uids_t *self)
{
    return self->range;
}

gid_t
uids_group(const uids_t *self)
{
    return (gid_t) self->first;
}

size_t
uids_held(const uids_t *self)
{
    return self->nheld;
}

void
uids_destroy(uids_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    uids_t *self = *self_p;
    for (size_t i = 0; i < self->nheld; i++) {
        s_stop_all(self->held[i].uid);
        close(self->held[i].fd);
    }
    free(self->held);
    free(self->accounts);
    free(self->lock_dir);
    free(self);
    *self_p = NULL;
}
