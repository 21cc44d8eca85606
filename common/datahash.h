/* datahash — content hashes of dataset versions, for lineage and caching.
 *
 * A file's hash is BLAKE2b-256 (libsodium crypto_generichash) of its bytes,
 * read in 1 MiB blocks: `b2sum -l 256 FILE` prints the same hex. A
 * directory's hash is BLAKE2b-256 of its manifest: one line
 * "RELPATH\tSIZE\tFILEHASH\n" per regular file below it (recursively,
 * RELPATH with '/' separators), sorted bytewise; its size is the sum of its
 * files. Symbolic links below a directory, sockets and the like are
 * skipped, so a link cannot pull files from elsewhere into a dataset.
 *
 * The path itself is opened one component at a time without following a
 * symbolic link or '..' anywhere in it, and it must be a regular file or a
 * directory: a FIFO, socket or device, or anything on /proc or /sys, is
 * refused with the reason, so a task cannot point the hashing (which may
 * run as root) at another's files or at something that blocks. */
#ifndef SLUICE_DATAHASH_H
#define SLUICE_DATAHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/errbuf.h"

#define DATAHASH_HEX_SIZE  65 /* 64 hex digits and the NUL */
#define DATAHASH_BLOCK     (1024 * 1024)
#define DATAHASH_MAX_DEPTH 64 /* directory levels walked */

/* One hashed dataset version: the worker reports it in a Result. */
typedef struct {
    char *uri; /* "file://ABSOLUTE", owned */
    char hash[DATAHASH_HEX_SIZE];
    uint64_t size; /* bytes */
} datahash_ref_t;

/* Hashes the file or directory at path (absolute) into hex and *size. -1
 * with err set (*missing true when path does not exist). */
int datahash_path(const char *path,
                  char hex[DATAHASH_HEX_SIZE],
                  uint64_t *size,
                  bool *missing,
                  errbuf_t *err);

/* The absolute path a declared input or output names: "file://" is
 * stripped, and a relative path is taken from dir (the task's work dir).
 * NULL (err set) for another URI scheme. Caller owns. */
char *datahash_resolve(const char *declared, const char *dir, errbuf_t *err);

/* Hashes each declared path (resolved from dir) into a ref appended to
 * *refs (an xrealloc'd array of *count refs, owned by the caller; free it
 * with datahash_refs_free). A path that is missing or cannot be hashed is
 * skipped with a warning when skip_bad, else stops it: -1 with err, for a
 * missing output "declared output 'PATH' was not written"; the refs hashed
 * before it stay in *refs. */
int datahash_refs(char *const *declared,
                  size_t ndeclared,
                  const char *dir,
                  bool skip_bad,
                  datahash_ref_t **refs,
                  size_t *count,
                  errbuf_t *err);

/* Frees count refs from datahash_refs and the array; sets *refs_p to NULL.
 * Accepts NULL. */
void datahash_refs_free(datahash_ref_t **refs_p, size_t count);

#endif
