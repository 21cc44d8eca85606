/* outbox — unacknowledged results on disk; see outbox.h. */
#include "worker/outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/statedir.h"
#include "common/xalloc.h"

#define OUTBOX_SUFFIX   ".result"
#define OUTBOX_TMP      ".tmp"
#define OUTBOX_MAX_FILE (64u << 20) /* larger files are not ours */

typedef struct {
    uint64_t attempt_id;
    uint8_t *data; /* owned packed Result */
    size_t size;
} s_entry_t;

struct outbox_t {
    char *dir;          /* owned folder path */
    s_entry_t *entries; /* owned, sorted by attempt_id */
    size_t count;
    size_t cap;
};

static char *
s_path(const outbox_t *self, uint64_t attempt_id, const char *suffix)
{
    return xasprintf("%s/%" PRIu64 "%s", self->dir, attempt_id, suffix);
}

static long
s_find(const outbox_t *self, uint64_t attempt_id)
{
    for (size_t i = 0; i < self->count; i++) {
        if (self->entries[i].attempt_id == attempt_id) {
            return (long) i;
        }
    }
    return -1;
}

/* Keeps entries sorted so resends go out in attempt order. */
static void
s_insert(outbox_t *self, uint64_t attempt_id, uint8_t *data, size_t size)
{
    long found = s_find(self, attempt_id);
    if (found >= 0) {
        free(self->entries[found].data);
        self->entries[found].data = data;
        self->entries[found].size = size;
        return;
    }
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        self->entries =
            xrealloc(self->entries, self->cap * sizeof *self->entries);
    }
    size_t at = self->count;
    while (at > 0 && self->entries[at - 1].attempt_id > attempt_id) {
        at--;
    }
    memmove(&self->entries[at + 1], &self->entries[at],
            (self->count - at) * sizeof *self->entries);
    self->entries[at] = (s_entry_t){attempt_id, data, size};
    self->count++;
}

static int
s_read_file(const char *path, uint8_t **data, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > OUTBOX_MAX_FILE) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    *size = (size_t) st.st_size;
    *data = xmalloc(*size ? *size : 1);
    size_t got = 0;
    while (got < *size) {
        ssize_t n = read(fd, *data + got, *size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t) n;
    }
    close(fd);
    if (got != *size) {
        xfree(data);
        return -1;
    }
    return 0;
}

/* Parses "<digits>.result"; -1 for anything else. */
static int
s_parse_name(const char *name, uint64_t *attempt_id)
{
    char *end = NULL;
    if (name[0] < '0' || name[0] > '9') {
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(name, &end, 10);
    if (errno || strcmp(end, OUTBOX_SUFFIX) != 0) {
        return -1;
    }
    *attempt_id = v;
    return 0;
}

static void
s_load_one(outbox_t *self, const char *name)
{
    char *path = xasprintf("%s/%s", self->dir, name);
    size_t len = strlen(name);
    uint64_t attempt_id;
    uint8_t *data = NULL;
    size_t size = 0;
    if (len > 4 && strcmp(name + len - 4, OUTBOX_TMP) == 0) {
        unlink(path); /* a put that never reached its rename */
    } else if (s_parse_name(name, &attempt_id) == 0) {
        if (s_read_file(path, &data, &size) == 0) {
            s_insert(self, attempt_id, data, size);
        } else {
            log_warn("outbox: cannot read '%s': %s; leaving it there", path,
                     strerror(errno));
        }
    }
    free(path);
}

static int
s_load(outbox_t *self, errbuf_t *err)
{
    DIR *d = opendir(self->dir);
    if (!d) {
        errbuf_set(err, "cannot read outbox '%s': %s", self->dir,
                   strerror(errno));
        return -1;
    }
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        s_load_one(self, ent->d_name);
    }
    closedir(d);
    return 0;
}

outbox_t *
outbox_open(const char *dir, errbuf_t *err)
{
    if (statedir_create(dir, err) < 0) {
        return NULL;
    }
    outbox_t *self = xcalloc(1, sizeof *self);
    self->dir = xstrdup(dir);
    if (s_load(self, err) < 0) {
        outbox_destroy(&self);
    }
    return self;
}

void
outbox_destroy(outbox_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    outbox_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free(self->entries[i].data);
    }
    free(self->entries);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

static int
s_write_all(int fd, const void *data, size_t size)
{
    const uint8_t *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        p += n;
        size -= (size_t) n;
    }
    return 0;
}

/* Writes tmp; errno tells why on -1.
 *
 * No fsync: the outbox protects results against the worker process dying
 * (crash, OOM kill, SIGKILL), and the page cache outlives the process. If
 * the whole machine dies, its running attempts die with it and the
 * scheduler re-queues them as lost, so a sync per result (two fsyncs on the
 * path from one task to the next) would buy nothing but latency. */
static int
s_write_tmp(const char *tmp, const void *data, size_t size)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    if (s_write_all(fd, data, size) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return close(fd);
}

int
outbox_put(outbox_t *self,
           uint64_t attempt_id,
           const void *data,
           size_t size,
           errbuf_t *err)
{
    char *tmp = s_path(self, attempt_id, OUTBOX_SUFFIX OUTBOX_TMP);
    char *path = s_path(self, attempt_id, OUTBOX_SUFFIX);
    int rc = -1;
    if (s_write_tmp(tmp, data, size) < 0 || rename(tmp, path) < 0) {
        errbuf_set(err,
                   "cannot store the result of attempt %" PRIu64
                   " in '%s': %s; check the disk",
                   attempt_id, path, strerror(errno));
        unlink(tmp);
    } else {
        uint8_t *copy = xmalloc(size ? size : 1);
        memcpy(copy, data, size);
        s_insert(self, attempt_id, copy, size);
        rc = 0;
    }
    free(tmp);
    free(path);
    return rc;
}

int
outbox_ack(outbox_t *self, uint64_t attempt_id)
{
    long at = s_find(self, attempt_id);
    if (at < 0) {
        return -1;
    }
    char *path = s_path(self, attempt_id, OUTBOX_SUFFIX);
    if (unlink(path) < 0 && errno != ENOENT) {
        log_warn("outbox: cannot delete '%s': %s", path, strerror(errno));
    }
    free(path);
    free(self->entries[at].data);
    memmove(&self->entries[at], &self->entries[at + 1],
            (self->count - (size_t) at - 1) * sizeof *self->entries);
    self->count--;
    return 0;
}

bool
outbox_has(const outbox_t *self, uint64_t attempt_id)
{
    return s_find(self, attempt_id) >= 0;
}

size_t
outbox_size(const outbox_t *self)
{
    return self->count;
}

void
outbox_each(const outbox_t *self, outbox_each_fn *fn, void *arg)
{
    for (size_t i = 0; i < self->count; i++) {
        fn(arg, self->entries[i].attempt_id, self->entries[i].data,
           self->entries[i].size);
    }
}
