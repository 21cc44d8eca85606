/* datahash — BLAKE2b-256 of files and directories, streamed. */
#include "common/datahash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"

#define S_HASH_BYTES 32

typedef struct {
    char **lines; /* "RELPATH\tSIZE\tHASH\n", owned */
    size_t count;
    size_t cap;
    uint64_t size;
} s_manifest_t;

static void
s_hex(const uint8_t *hash, char hex[DATAHASH_HEX_SIZE])
{
    sodium_bin2hex(hex, DATAHASH_HEX_SIZE, hash, S_HASH_BYTES);
}

/* Hashes what fd reads, to its end; closes fd. */
static int
s_hash_fd(int fd,
          const char *path,
          char hex[DATAHASH_HEX_SIZE],
          uint64_t *size,
          errbuf_t *err)
{
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, S_HASH_BYTES);
    uint8_t *buf = xmalloc(DATAHASH_BLOCK);
    uint64_t total = 0;
    ssize_t n;
    int rc = 0;
    while ((n = read(fd, buf, DATAHASH_BLOCK)) != 0) {
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            errbuf_set(err, "cannot read '%s': %s", path, strerror(errno));
            rc = -1;
            break;
        }
        crypto_generichash_update(&state, buf, (unsigned long long) n);
        total += (uint64_t) n;
    }
    free(buf);
    close(fd);
    if (rc == 0) {
        uint8_t hash[S_HASH_BYTES];
        crypto_generichash_final(&state, hash, sizeof hash);
        s_hex(hash, hex);
        *size = total;
    }
    return rc;
}

static void
s_manifest_add(s_manifest_t *m, char *line)
{
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->lines = xrealloc(m->lines, m->cap * sizeof *m->lines);
    }
    m->lines[m->count++] = line;
}

/* Opens name in directory dirfd as it is, never through a symbolic link,
 * and without blocking on a FIFO. */
static int
s_open_at(int dirfd, const char *name)
{
    return openat(dirfd, name,
                  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

static int s_walk(int fd,
                  const char *path,
                  const char *rel,
                  int depth,
                  s_manifest_t *m,
                  errbuf_t *err);

/* One entry of a directory: a file is hashed, a directory walked; links,
 * FIFOs, devices and sockets are left out of the dataset. */
static int
s_walk_entry(int dirfd,
             const char *path,
             const char *sub,
             const char *name,
             int depth,
             s_manifest_t *m,
             errbuf_t *err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        return 0;
    }
    int fd = s_open_at(dirfd, name);
    if (fd < 0 || fstat(fd, &st) < 0) {
        errbuf_set(err, "cannot read '%s/%s': %s", path, sub, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        return s_walk(fd, path, sub, depth + 1, m, err);
    }
    if (!S_ISREG(st.st_mode)) { /* swapped since fstatat */
        close(fd);
        return 0;
    }
    char hex[DATAHASH_HEX_SIZE];
    uint64_t size;
    if (s_hash_fd(fd, path, hex, &size, err) < 0) {
        return -1;
    }
    s_manifest_add(
        m, xasprintf("%s\t%llu\t%s\n", sub, (unsigned long long) size, hex));
    m->size += size;
    return 0;
}

/* Walks the directory open as fd (taken: closed here). */
static int
s_walk(int fd,
       const char *path,
       const char *rel,
       int depth,
       s_manifest_t *m,
       errbuf_t *err)
{
    if (depth > DATAHASH_MAX_DEPTH) {
        errbuf_set(err, "'%s/%s' is nested over %d directories deep", path, rel,
                   DATAHASH_MAX_DEPTH);
        close(fd);
        return -1;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        errbuf_set(err, "cannot list '%s/%s': %s", path, rel, strerror(errno));
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        char *sub =
            *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
        rc = s_walk_entry(dirfd(d), path, sub, e->d_name, depth, m, err);
        free(sub);
    }
    closedir(d);
    return rc;
}

static int
s_line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Hashes the directory open as fd (taken). */
static int
s_hash_dir(int fd,
           const char *path,
           char hex[DATAHASH_HEX_SIZE],
           uint64_t *size,
           errbuf_t *err)
{
    s_manifest_t m = {0};
    int rc = s_walk(fd, path, "", 0, &m, err);
    if (rc == 0) {
        qsort(m.lines, m.count, sizeof *m.lines, s_line_cmp);
        crypto_generichash_state state;
        crypto_generichash_init(&state, NULL, 0, S_HASH_BYTES);
        for (size_t i = 0; i < m.count; i++) {
            crypto_generichash_update(&state, (const uint8_t *) m.lines[i],
                                      strlen(m.lines[i]));
        }
        uint8_t hash[S_HASH_BYTES];
        crypto_generichash_final(&state, hash, sizeof hash);
        s_hex(hash, hex);
        *size = m.size;
    }
    for (size_t i = 0; i < m.count; i++) {
        free(m.lines[i]);
    }
    free(m.lines);
    return rc;
}

/* Why opening `name` in dirfd failed when it is a symbolic link, else
 * NULL. */
static const char *
s_link_refused(int dirfd, const char *name, bool last)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode)) {
        return last ? "it is a symbolic link"
                    : "a directory on its way is a symbolic link";
    }
    return NULL;
}

/* Opens one component below dirfd: a directory on the way (O_PATH), or
 * the last one for reading. *why is set when it was refused. */
static int
s_open_component(int dirfd, const char *name, bool last, const char **why)
{
    if (!strcmp(name, "..")) {
        *why = "it leads out with '..'";
        errno = EPERM;
        return -1;
    }
    int fd = last ? s_open_at(dirfd, name)
                  : openat(dirfd, name,
                           O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int saved = errno;
        *why = s_link_refused(dirfd, name, last);
        errno = *why ? ELOOP : saved; /* a link is there: not missing */
    }
    return fd;
}

/* Opens an absolute path one component at a time, never following a
 * symbolic link anywhere in it (as openat2's RESOLVE_NO_SYMLINKS would,
 * on any kernel). -1 with err (and errno) set. */
static int
s_open_nofollow(const char *path, errbuf_t *err)
{
    int dirfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    char *copy = xstrdup(path);
    char *save = NULL;
    char *name = strtok_r(copy, "/", &save);
    const char *why = NULL;
    while (dirfd >= 0 && name) {
        char *next = strtok_r(NULL, "/", &save);
        int fd = strcmp(name, ".") ? s_open_component(dirfd, name, !next, &why)
                                   : dup(dirfd);
        int saved = errno;
        close(dirfd);
        errno = saved;
        dirfd = fd;
        name = next;
    }
    int saved = errno; /* what the caller tells a missing path by */
    if (dirfd < 0 && why) {
        errbuf_set(err,
                   "cannot read '%s': %s; sluice follows no links and no "
                   "'..' in declared paths: declare the real path",
                   path, why);
    } else if (dirfd < 0) {
        errbuf_set(err, "cannot read '%s': %s", path, strerror(saved));
    }
    free(copy);
    errno = saved;
    return dirfd;
}

/* Only regular files and directories are data; /proc and /sys are not,
 * whatever their files look like. */
static int
s_check_kind(int fd, const char *path, const struct stat *st, errbuf_t *err)
{
    struct statfs fs;
    if (fstatfs(fd, &fs) == 0 &&
        (fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC)) {
        errbuf_set(err,
                   "'%s' is on /proc or /sys, which hold no data; declare "
                   "files and directories only",
                   path);
        return -1;
    }
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
        errbuf_set(err,
                   "'%s' is a %s, not a file or directory; only files and "
                   "directories are hashed",
                   path,
                   S_ISFIFO(st->st_mode)   ? "FIFO"
                   : S_ISSOCK(st->st_mode) ? "socket"
                                           : "device");
        return -1;
    }
    return 0;
}

int
datahash_path(const char *path,
              char hex[DATAHASH_HEX_SIZE],
              uint64_t *size,
              bool *missing,
              errbuf_t *err)
{
    *missing = false;
    if (path[0] != '/') {
        errbuf_set(err, "'%s' is not an absolute path", path);
        return -1;
    }
    errbuf_t why;
    int fd = s_open_nofollow(path, &why);
    struct stat st;
    if (fd < 0) {
        *missing = errno == ENOENT || errno == ENOTDIR;
        if (err) {
            *err = why;
        }
        return -1;
    }
    if (fstat(fd, &st) < 0 || s_check_kind(fd, path, &st, err) < 0) {
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        return s_hash_dir(fd, path, hex, size, err);
    }
    return s_hash_fd(fd, path, hex, size, err);
}

char *
datahash_resolve(const char *declared, const char *dir, errbuf_t *err)
{
    const char *path = declared;
    if (strncmp(declared, "file://", 7) == 0) {
        path = declared + 7;
    } else if (strstr(declared, "://")) {
        errbuf_set(err,
                   "'%s' is not a file path; declare inputs and outputs as "
                   "paths or file:// URIs",
                   declared);
        return NULL;
    }
    if (!*path) {
        errbuf_set(err, "an empty path was declared as an input or output");
        return NULL;
    }
    return path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", dir, path);
}

int
datahash_refs(char *const *declared,
              size_t ndeclared,
              const char *dir,
              bool skip_bad,
              datahash_ref_t **refs,
              size_t *count,
              errbuf_t *err)
{
    for (size_t i = 0; i < ndeclared; i++) {
        errbuf_t why;
        char hex[DATAHASH_HEX_SIZE];
        uint64_t size = 0;
        bool missing = false;
        char *path = datahash_resolve(declared[i], dir, &why);
        int rc = path ? datahash_path(path, hex, &size, &missing, &why) : -1;
        if (rc == 0) {
            /* The resolved name, as `sluice lineage PATH` will name it. */
            char *real = realpath(path, NULL);
            *refs = xrealloc(*refs, (*count + 1) * sizeof **refs);
            datahash_ref_t *ref = &(*refs)[(*count)++];
            ref->uri = xasprintf("file://%s", real ? real : path);
            memcpy(ref->hash, hex, sizeof ref->hash);
            ref->size = size;
            free(real);
        } else if (skip_bad) {
            log_warn("%s; it is left out of the lineage", errbuf_msg(&why));
        } else if (missing) {
            errbuf_set(err, "declared output '%s' was not written", path);
        } else {
            *err = why;
        }
        free(path);
        if (rc < 0 && !skip_bad) {
            return -1;
        }
    }
    return 0;
}

void
datahash_refs_free(datahash_ref_t **refs_p, size_t count)
{
    if (!refs_p || !*refs_p) {
        return;
    }
    for (size_t i = 0; i < count; i++) {
        free((*refs_p)[i].uri);
    }
    free(*refs_p);
    *refs_p = NULL;
}
