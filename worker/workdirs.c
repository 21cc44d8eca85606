/* workdirs — removing and keeping work dirs; see workdirs.h. */
#include "worker/workdirs.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"

#define WORKDIRS_ROUNDS 1024 /* passes over the trash per removal */

struct workdirs_t {
    char *work_root;       /* owned */
    char *trash;           /* owned: WORK_ROOT/.trash */
    uint64_t keep_ms;      /* how long a failed attempt's dir stays */
    uint32_t keep_max;     /* how many stay at most */
    workdirs_kept_t *kept; /* owned, nkept, oldest first */
    size_t nkept;
    pid_t remover;      /* the child emptying the trash, or 0 */
    bool pending;       /* the trash got something since it started */
    int64_t remover_at; /* monotonic ms the last remover started */
};

/* A remover starts at most this often: a fork of the worker costs
 * milliseconds, so the dirs of many short attempts go in one. */
#define WORKDIRS_REMOVE_EVERY_MS 1000

/* ------------------------------------------------------------ removal */

/* One removal: the dir deep entries move up to, and the first error. */
typedef struct {
    int top;
    unsigned moved; /* names for the entries moved up */
    errbuf_t *err;
    bool failed;
} s_rm_t;

static void
s_rm_fail(s_rm_t *rm, const char *name, const char *what)
{
    if (!rm->failed) {
        errbuf_set(rm->err, "cannot %s '%s': %s", what, name, strerror(errno));
    }
    rm->failed = true;
}

static int s_remove_at(s_rm_t *rm, int dirfd, const char *name, int depth);

/* Removes what is in the directory fd; its entries' own removal decides. */
static void
s_remove_entries(s_rm_t *rm, int fd, int depth)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            s_remove_at(rm, fd, e->d_name, depth);
        }
    }
    closedir(d);
}

/* Removes name below dirfd: a file or link is unlinked (a link is never
 * followed), a directory is emptied through a descriptor opened with
 * O_NOFOLLOW, then removed. One too deep is moved up to rm->top to be
 * removed by a later pass. 0 when it is gone (or moved up), 1 when a
 * directory stays because something in it does, -1 on an error. */
static int
s_remove_at(s_rm_t *rm, int dirfd, const char *name, int depth)
{
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) {
        return 0;
    }
    if (errno != EISDIR) {
        s_rm_fail(rm, name, "remove");
        return -1;
    }
    if (depth >= WORKDIRS_MAX_DEPTH) {
        char alias[64];
        snprintf(alias, sizeof alias, ".deep-%d-%u", (int) getpid(),
                 rm->moved++);
        if (renameat(dirfd, name, rm->top, alias) < 0) {
            s_rm_fail(rm, name, "move up");
            return -1;
        }
        return 0;
    }
    int fd =
        openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        s_rm_fail(rm, name, "open");
        return -1;
    }
    s_remove_entries(rm, fd, depth + 1);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) {
        return 0;
    }
    if (errno == ENOTEMPTY) {
        return 1; /* what could not go, or went up, is for the next pass */
    }
    s_rm_fail(rm, name, "remove");
    return -1;
}

/* One pass over the top: *left gets whether it had entries. */
static bool
s_pass(s_rm_t *rm, bool *left)
{
    int fd = openat(rm->top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) {
            close(fd);
        }
        s_rm_fail(rm, ".", "list");
        return false;
    }
    bool progress = false;
    unsigned moved = rm->moved;
    *left = false;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        *left = true;
        progress |= s_remove_at(rm, rm->top, e->d_name, 0) == 0;
    }
    closedir(d);
    return progress || rm->moved != moved;
}

int
workdirs_empty(int dirfd, errbuf_t *err)
{
    s_rm_t rm = {.top = dirfd, .err = err};
    bool left = true;
    for (int round = 0; round < WORKDIRS_ROUNDS && left; round++) {
        rm.failed = false;
        if (!s_pass(&rm, &left)) {
            break;
        }
    }
    if (left && !rm.failed) {
        errbuf_set(err, "entries are left after %d passes", WORKDIRS_ROUNDS);
    }
    return left ? -1 : 0;
}

/* ------------------------------------------------------------- policy */

size_t
workdirs_due(const workdirs_kept_t *kept,
             size_t n,
             int64_t now_ms,
             uint64_t keep_ms,
             uint32_t keep_max)
{
    size_t due = n > keep_max ? n - keep_max : 0;
    while (due < n && kept[due].kept_ms + (int64_t) keep_ms <= now_ms) {
        due++;
    }
    return due;
}

/* ------------------------------------------------------------ the set */

static int
s_kept_cmp(const void *a, const void *b)
{
    const workdirs_kept_t *x = a, *y = b;
    if (x->kept_ms != y->kept_ms) {
        return x->kept_ms < y->kept_ms ? -1 : 1;
    }
    return x->attempt_id < y->attempt_id ? -1 : x->attempt_id > y->attempt_id;
}

static void
s_keep(workdirs_t *self, uint64_t attempt_id, int64_t kept_ms)
{
    self->kept = xrealloc(self->kept, (self->nkept + 1) * sizeof *self->kept);
    self->kept[self->nkept++] =
        (workdirs_kept_t){.attempt_id = attempt_id, .kept_ms = kept_ms};
}

/* The attempt dirs an earlier run of the worker left: kept since their
 * last change. */
static void
s_scan(workdirs_t *self)
{
    DIR *d = opendir(self->work_root);
    if (!d) {
        return;
    }
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        char *end = NULL;
        uint64_t id = strtoull(e->d_name, &end, 10);
        struct stat st;
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || *end ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode)) {
            continue;
        }
        s_keep(self, id,
               (int64_t) st.st_mtim.tv_sec * 1000 +
                   st.st_mtim.tv_nsec / 1000000);
    }
    closedir(d);
    if (self->nkept > 1) { /* qsort wants an array, even of none */
        qsort(self->kept, self->nkept, sizeof *self->kept, s_kept_cmp);
    }
}

workdirs_t *
workdirs_new(const char *work_root, uint64_t keep_ms, uint32_t keep_max)
{
    assert(work_root);
    workdirs_t *self = xcalloc(1, sizeof *self);
    self->work_root = xstrdup(work_root);
    self->trash = xasprintf("%s/%s", work_root, WORKDIRS_TRASH);
    self->keep_ms = keep_ms;
    self->keep_max = keep_max;
    if (mkdir(self->trash, 0700) < 0 && errno != EEXIST) {
        log_warn("cannot create '%s': %s; work dirs are not removed",
                 self->trash, strerror(errno));
    }
    s_scan(self);
    self->pending = true; /* what an earlier run left in the trash */
    return self;
}

void
workdirs_destroy(workdirs_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    workdirs_t *self = *self_p;
    if (self->remover > 0) {
        kill(self->remover, SIGKILL);
        while (waitpid(self->remover, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    free(self->kept);
    free(self->trash);
    free(self->work_root);
    free(self);
    *self_p = NULL;
}

/* Renames the attempt's dir into the trash. */
static void
s_discard(workdirs_t *self, uint64_t attempt_id)
{
    char name[32];
    snprintf(name, sizeof name, "%" PRIu64, attempt_id);
    char *from = xasprintf("%s/%s", self->work_root, name);
    char *to = xasprintf("%s/%s", self->trash, name);
    if (rename(from, to) == 0) {
        self->pending = true;
    } else if (errno != ENOENT) {
        log_warn("cannot move work dir '%s' to '%s' for removal: %s", from, to,
                 strerror(errno));
    }
    free(to);
    free(from);
}

void
workdirs_ended(workdirs_t *self, uint64_t attempt_id, bool failed)
{
    if (!failed || self->keep_ms == 0 || self->keep_max == 0) {
        s_discard(self, attempt_id);
        return;
    }
    /* Its time is the end of the attempt, also for the next start. */
    char *dir = xasprintf("%s/%" PRIu64, self->work_root, attempt_id);
    int rc = utimensat(AT_FDCWD, dir, NULL, AT_SYMLINK_NOFOLLOW);
    free(dir);
    if (rc == 0) {
        s_keep(self, attempt_id, clock_wall_ms());
    }
}

/* The child that empties the trash: system calls and the removal only,
 * none of the worker's descriptors (a uid's lock stays the worker's). */
static void
s_remover_child(const char *trash)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    close_range(3, ~0U, 0);
    int fd = open(trash, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    errbuf_t err;
    errbuf_clear(&err);
    if (fd < 0 || workdirs_empty(fd, &err) < 0) {
        log_warn("work dirs in '%s' not removed: %s", trash,
                 fd < 0 ? strerror(errno) : errbuf_msg(&err));
        _exit(1);
    }
    _exit(0);
}

static void
s_reap(workdirs_t *self)
{
    if (self->remover <= 0) {
        return;
    }
    pid_t got;
    do {
        got = waitpid(self->remover, NULL, WNOHANG);
    } while (got < 0 && errno == EINTR);
    if (got == self->remover || (got < 0 && errno == ECHILD)) {
        self->remover = 0;
    }
}

void
workdirs_service(workdirs_t *self)
{
    s_reap(self);
    size_t due = workdirs_due(self->kept, self->nkept, clock_wall_ms(),
                              self->keep_ms, self->keep_max);
    for (size_t i = 0; i < due; i++) {
        s_discard(self, self->kept[i].attempt_id);
    }
    if (due > 0) { /* kept may be NULL when nothing is */
        memmove(self->kept, self->kept + due,
                (self->nkept - due) * sizeof *self->kept);
        self->nkept -= due;
    }
    if (!self->pending || self->remover > 0 ||
        clock_mono_ms() < self->remover_at + WORKDIRS_REMOVE_EVERY_MS) {
        return;
    }
    self->remover_at = clock_mono_ms();
    pid_t pid = fork();
    if (pid == 0) {
        s_remover_child(self->trash);
    }
    if (pid < 0) {
        log_warn("cannot fork to remove work dirs: %s", strerror(errno));
        return;
    }
    self->remover = pid;
    self->pending = false;
}

int64_t
workdirs_next_deadline(const workdirs_t *self)
{
    int64_t now = clock_mono_ms();
    if (self->pending && self->remover <= 0) {
        int64_t at = self->remover_at + WORKDIRS_REMOVE_EVERY_MS;
        return at > now ? at : now;
    }
    if (self->nkept == 0) {
        return -1;
    }
    int64_t wait =
        self->kept[0].kept_ms + (int64_t) self->keep_ms - clock_wall_ms();
    if (self->nkept > self->keep_max || wait < 0) {
        wait = 0;
    }
    return now + wait;
}

size_t
workdirs_kept(const workdirs_t *self)
{
    return self->nkept;
}
