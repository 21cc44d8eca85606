/* datahash — BLAKE2b-256 of files and directories, streamed. */
#include "common/datahash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int
s_hash_file(const char *path,
            char hex[DATAHASH_HEX_SIZE],
            uint64_t *size,
            errbuf_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        errbuf_set(err, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, S_HASH_BYTES);
    uint8_t *buf = xmalloc(DATAHASH_BLOCK);
    uint64_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, DATAHASH_BLOCK)) != 0) {
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            errbuf_set(err, "cannot read '%s': %s", path, strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        crypto_generichash_update(&state, buf, (unsigned long long) n);
        total += (uint64_t) n;
    }
    free(buf);
    close(fd);
    uint8_t hash[S_HASH_BYTES];
    crypto_generichash_final(&state, hash, sizeof hash);
    s_hex(hash, hex);
    *size = total;
    return 0;
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

static int
s_walk(const char *root,
       const char *rel,
       int depth,
       s_manifest_t *m,
       errbuf_t *err)
{
    if (depth > DATAHASH_MAX_DEPTH) {
        errbuf_set(err, "'%s/%s' is nested over %d directories deep", root, rel,
                   DATAHASH_MAX_DEPTH);
        return -1;
    }
    char *dir = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
    DIR *d = opendir(dir);
    if (!d) {
        errbuf_set(err, "cannot list '%s': %s", dir, strerror(errno));
        free(dir);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        char *path = xasprintf("%s/%s", dir, e->d_name);
        char *sub =
            *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
        struct stat st;
        if (lstat(path, &st) < 0) {
            errbuf_set(err, "cannot stat '%s': %s", path, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = s_walk(root, sub, depth + 1, m, err);
        } else if (S_ISREG(st.st_mode)) {
            char hex[DATAHASH_HEX_SIZE];
            uint64_t size;
            rc = s_hash_file(path, hex, &size, err);
            if (rc == 0) {
                s_manifest_add(m, xasprintf("%s\t%llu\t%s\n", sub,
                                            (unsigned long long) size, hex));
                m->size += size;
            }
        }
        free(sub);
        free(path);
    }
    closedir(d);
    free(dir);
    return rc;
}

static int
s_line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
s_hash_dir(const char *path,
           char hex[DATAHASH_HEX_SIZE],
           uint64_t *size,
           errbuf_t *err)
{
    s_manifest_t m = {0};
    int rc = s_walk(path, "", 0, &m, err);
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

int
datahash_path(const char *path,
              char hex[DATAHASH_HEX_SIZE],
              uint64_t *size,
              bool *missing,
              errbuf_t *err)
{
    *missing = false;
    struct stat st;
    if (stat(path, &st) < 0) {
        *missing = errno == ENOENT || errno == ENOTDIR;
        errbuf_set(err, "cannot stat '%s': %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        return s_hash_dir(path, hex, size, err);
    }
    if (!S_ISREG(st.st_mode)) {
        errbuf_set(err, "'%s' is neither a file nor a directory", path);
        return -1;
    }
    return s_hash_file(path, hex, size, err);
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
