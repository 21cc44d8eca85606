/* outbox — unacknowledged results in an append-only journal; see outbox.h.
 *
 * A record is a header (a checksum of the rest of the record, kind, body
 * size, attempt id) and the body. A put appends a PUT record with the
 * packed Result; an ack appends an ACK record without a body. Each record
 * goes out in one write(), and a write that fails half-way is cut off
 * again, so the journal only ever ends in a damaged record when the machine
 * died mid-write; loading stops there.
 *
 * No fsync: the outbox protects results against the worker process dying
 * (crash, OOM kill, SIGKILL), and the page cache outlives the process. If
 * the whole machine dies, its running attempts die with it and the
 * scheduler re-queues them as lost, so a sync per result (on the path from
 * one task to the next) would buy nothing but latency. */
#include "worker/outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/statedir.h"
#include "common/xalloc.h"

#define OUTBOX_PUT      0x50524c53u /* "SLRP" */
#define OUTBOX_ACK      0x41524c53u /* "SLRA" */
#define OUTBOX_MAX_BODY (64u << 20) /* larger is not one of ours */
#define OUTBOX_LEGACY   ".result"   /* the file-per-result outbox */
#define OUTBOX_TMP      ".tmp"
/* Rewrite the journal once it holds this much more than the live entries. */
#define OUTBOX_SLACK (1u << 20)

/* The checksum comes first and covers everything after it (the rest of
 * the header and the body), so it is computed over the record in place. */
typedef struct {
    uint8_t check[crypto_shorthash_BYTES];
    uint32_t kind;
    uint32_t size; /* body bytes that follow */
    uint64_t attempt_id;
} s_header_t;

typedef struct {
    uint64_t attempt_id;
    uint8_t *data; /* owned packed Result */
    size_t size;
} s_entry_t;

struct outbox_t {
    char *dir;          /* owned folder path */
    char *journal;      /* owned DIR/OUTBOX_JOURNAL */
    int fd;             /* the journal, O_APPEND */
    uint64_t bytes;     /* the journal's length */
    uint64_t live;      /* bytes the live entries take in it */
    s_entry_t *entries; /* owned, sorted by attempt_id */
    size_t count;
    size_t cap;
};

/* ------------------------------------------------------------- entries */

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

static size_t
s_record_size(size_t body)
{
    return sizeof(s_header_t) + body;
}

/* Keeps entries sorted so resends go out in attempt order; takes data. */
static void
s_insert(outbox_t *self, uint64_t attempt_id, uint8_t *data, size_t size)
{
    long found = s_find(self, attempt_id);
    if (found >= 0) {
        self->live -= s_record_size(self->entries[found].size);
        free(self->entries[found].data);
        self->entries[found].data = data;
        self->entries[found].size = size;
        self->live += s_record_size(size);
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
    self->live += s_record_size(size);
}

static bool
s_remove(outbox_t *self, uint64_t attempt_id)
{
    long at = s_find(self, attempt_id);
    if (at < 0) {
        return false;
    }
    self->live -= s_record_size(self->entries[at].size);
    free(self->entries[at].data);
    memmove(&self->entries[at], &self->entries[at + 1],
            (self->count - (size_t) at - 1) * sizeof *self->entries);
    self->count--;
    return true;
}

/* -------------------------------------------------------------- records */

/* The checksum of a whole record (header and body, contiguous) into out.
 * It catches a record cut short or scribbled over; it is no defence
 * against anyone who can write the file. */
static void
s_check(const uint8_t *record, size_t size, uint8_t *out)
{
    static const uint8_t key[crypto_shorthash_KEYBYTES] = "sluice-outbox-1";
    crypto_shorthash(out, record + crypto_shorthash_BYTES,
                     size - crypto_shorthash_BYTES, key);
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

/* Appends one record in one write; a failed write is cut off again so the
 * journal never ends in half a record. errno tells why on -1. */
static int
s_append(outbox_t *self,
         uint32_t kind,
         uint64_t attempt_id,
         const void *body,
         size_t size)
{
    s_header_t h = {
        .kind = kind, .size = (uint32_t) size, .attempt_id = attempt_id};
    size_t n = s_record_size(size);
    uint8_t *buf = xmalloc(n);
    memcpy(buf, &h, sizeof h);
    if (size) {
        memcpy(buf + sizeof h, body, size);
    }
    s_check(buf, n, buf); /* check is the header's first field */
    int rc = s_write_all(self->fd, buf, n);
    free(buf);
    if (rc < 0) {
        int saved = errno;
        if (ftruncate(self->fd, (off_t) self->bytes) < 0) {
            log_warn("outbox: cannot cut a failed write off '%s': %s",
                     self->journal, strerror(errno));
        }
        errno = saved;
        return -1;
    }
    self->bytes += n;
    return 0;
}

/* Applies the records of a journal read whole; returns the length of its
 * undamaged beginning. */
static size_t
s_replay(outbox_t *self, const uint8_t *data, size_t len)
{
    size_t at = 0;
    while (len - at >= sizeof(s_header_t)) {
        s_header_t h;
        memcpy(&h, data + at, sizeof h);
        const uint8_t *body = data + at + sizeof h;
        uint8_t check[crypto_shorthash_BYTES];
        if ((h.kind != OUTBOX_PUT && h.kind != OUTBOX_ACK) ||
            h.size > OUTBOX_MAX_BODY || len - at - sizeof h < h.size) {
            break;
        }
        s_check(data + at, s_record_size(h.size), check);
        if (sodium_memcmp(check, h.check, sizeof check) != 0) {
            break;
        }
        if (h.kind == OUTBOX_PUT) {
            uint8_t *copy = xmalloc(h.size ? h.size : 1);
            memcpy(copy, body, h.size);
            s_insert(self, h.attempt_id, copy, h.size);
        } else {
            s_remove(self, h.attempt_id);
        }
        at += s_record_size(h.size);
    }
    return at;
}

/* ------------------------------------------------------------- the file */

static int
s_read_file(const char *path, uint8_t **data, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
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
    *size = got;
    return 0;
}

/* Writes the live entries to a new journal and puts it in place: what
 * acks left behind is gone. */
static int
s_rewrite(outbox_t *self, errbuf_t *err)
{
    char *tmp = xasprintf("%s%s", self->journal, OUTBOX_TMP);
    int fd =
        open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    int rc = fd < 0 ? -1 : 0;
    int old = self->fd;
    uint64_t old_bytes = self->bytes;
    self->fd = fd;
    self->bytes = 0;
    for (size_t i = 0; rc == 0 && i < self->count; i++) {
        rc = s_append(self, OUTBOX_PUT, self->entries[i].attempt_id,
                      self->entries[i].data, self->entries[i].size);
    }
    if (rc == 0 && rename(tmp, self->journal) < 0) {
        rc = -1;
    }
    if (rc < 0) {
        errbuf_set(err, "cannot rewrite the outbox journal '%s': %s",
                   self->journal, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        unlink(tmp);
        self->fd = old;
        self->bytes = old_bytes;
    } else if (old >= 0) {
        close(old);
    }
    free(tmp);
    return rc;
}

/* Parses "<digits>.result"; -1 for anything else. */
static int
s_parse_legacy(const char *name, uint64_t *attempt_id)
{
    char *end = NULL;
    if (name[0] < '0' || name[0] > '9') {
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(name, &end, 10);
    if (errno || strcmp(end, OUTBOX_LEGACY) != 0) {
        return -1;
    }
    *attempt_id = v;
    return 0;
}

/* Runs fn on every "<digits>.result" file of an older worker's outbox;
 * with `tidy`, stale "<digits>.result.tmp" files go. */
static int
s_each_legacy(outbox_t *self,
              void (*fn)(outbox_t *, const char *, uint64_t),
              bool tidy,
              errbuf_t *err)
{
    DIR *d = opendir(self->dir);
    if (!d) {
        errbuf_set(err, "cannot read outbox '%s': %s", self->dir,
                   strerror(errno));
        return -1;
    }
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        char *path = xasprintf("%s/%s", self->dir, ent->d_name);
        size_t len = strlen(ent->d_name);
        uint64_t id;
        if (len > 11 && strcmp(ent->d_name + len - 11, ".result.tmp") == 0) {
            if (tidy) {
                unlink(path); /* a put that never reached its rename */
            }
        } else if (s_parse_legacy(ent->d_name, &id) == 0) {
            fn(self, path, id);
        }
        free(path);
    }
    closedir(d);
    return 0;
}

/* A result in the journal is newer than a file of an older worker. */
static void
s_take_legacy(outbox_t *self, const char *path, uint64_t id)
{
    uint8_t *data = NULL;
    size_t size = 0;
    if (s_find(self, id) >= 0) {
        return;
    }
    if (s_read_file(path, &data, &size) == 0) {
        s_insert(self, id, data, size);
    } else {
        log_warn("outbox: cannot read '%s': %s; leaving it there", path,
                 strerror(errno));
    }
}

static void
s_drop_legacy(outbox_t *self, const char *path, uint64_t id)
{
    if (s_find(self, id) >= 0) { /* the journal holds it now */
        unlink(path);
    }
}

/* Reads the journal (up to a damaged record) and an older worker's files
 * into the entries. */
static int
s_read(outbox_t *self, bool tidy, errbuf_t *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (s_read_file(self->journal, &data, &len) < 0 && errno != ENOENT) {
        errbuf_set(err, "cannot read the outbox journal '%s': %s",
                   self->journal, strerror(errno));
        return -1;
    }
    size_t good = data ? s_replay(self, data, len) : 0;
    free(data);
    if (good < len) {
        log_warn("outbox: '%s' is damaged after byte %zu of %zu (a write cut "
                 "short when the machine stopped); results after it are lost "
                 "and their attempts will run again",
                 self->journal, good, len);
    }
    return s_each_legacy(self, s_take_legacy, tidy, err);
}

/* Loads what is there, then writes the live entries to a fresh journal. */
static int
s_load(outbox_t *self, errbuf_t *err)
{
    if (s_read(self, true, err) < 0 || s_rewrite(self, err) < 0) {
        return -1;
    }
    return s_each_legacy(self, s_drop_legacy, true, err);
}

static outbox_t *
s_new(const char *dir)
{
    outbox_t *self = xcalloc(1, sizeof *self);
    self->dir = xstrdup(dir);
    self->journal = xasprintf("%s/%s", dir, OUTBOX_JOURNAL);
    self->fd = -1;
    return self;
}

int
outbox_peek(const char *dir, outbox_each_fn *fn, void *arg, errbuf_t *err)
{
    struct stat st;
    if (stat(dir, &st) < 0 && errno == ENOENT) {
        return 0;
    }
    outbox_t *self = s_new(dir);
    int rc = s_read(self, false, err);
    if (rc == 0) {
        outbox_each(self, fn, arg);
    }
    outbox_destroy(&self);
    return rc;
}

outbox_t *
outbox_open(const char *dir, errbuf_t *err)
{
    if (statedir_create(dir, err) < 0) {
        return NULL;
    }
    outbox_t *self = s_new(dir);
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
    if (self->fd >= 0) {
        close(self->fd);
    }
    for (size_t i = 0; i < self->count; i++) {
        free(self->entries[i].data);
    }
    free(self->entries);
    free(self->journal);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

int
outbox_put(outbox_t *self,
           uint64_t attempt_id,
           const void *data,
           size_t size,
           errbuf_t *err)
{
    if (size > OUTBOX_MAX_BODY ||
        s_append(self, OUTBOX_PUT, attempt_id, data, size) < 0) {
        errbuf_set(err,
                   "cannot store the result of attempt %" PRIu64
                   " in '%s': %s; check the disk",
                   attempt_id, self->journal,
                   size > OUTBOX_MAX_BODY ? "too large" : strerror(errno));
        return -1;
    }
    uint8_t *copy = xmalloc(size ? size : 1);
    memcpy(copy, data, size);
    s_insert(self, attempt_id, copy, size);
    return 0;
}

/* Past OUTBOX_SLACK, the journal starts over empty once nothing is left,
 * and is rewritten with the live entries only when acks left more behind
 * than they take. Below it, appending is all an ack costs. */
static void
s_compact(outbox_t *self)
{
    errbuf_t err;
    if (self->count == 0) {
        if (self->bytes > OUTBOX_SLACK && ftruncate(self->fd, 0) == 0) {
            self->bytes = 0;
        }
    } else if (self->bytes > 2 * self->live + OUTBOX_SLACK &&
               s_rewrite(self, &err) < 0) {
        log_warn("outbox: %s", errbuf_msg(&err));
    }
}

int
outbox_ack(outbox_t *self, uint64_t attempt_id)
{
    if (!s_remove(self, attempt_id)) {
        return -1;
    }
    /* Should the tombstone not reach the disk, the next start sends the
     * result again and the scheduler acknowledges it as one it has. */
    if (s_append(self, OUTBOX_ACK, attempt_id, NULL, 0) < 0) {
        log_warn("outbox: cannot record the ack of attempt %" PRIu64
                 " in '%s': %s",
                 attempt_id, self->journal, strerror(errno));
    }
    s_compact(self);
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
