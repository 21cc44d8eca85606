/* paths — where an attempt's declared inputs and outputs may lie on a
 * worker with data roots (--data-root): under one of the roots, or in the
 * attempt's own work dir, judged on the path the kernel would reach, after
 * every symlink is resolved. The check runs before the attempt starts; it
 * does not stop a task that opens other paths than it declared (the uid it
 * runs as and the file modes do that). */
#ifndef SLUICE_PATHS_H
#define SLUICE_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/errbuf.h"

/* path (made absolute against base when relative) as the kernel would
 * reach it: the realpath of its longest existing leading part, then the
 * rest by name ('.' dropped; what does not exist yet holds no symlink).
 * NULL with err for an empty path, and for a '..' in the rest, whose
 * target depends on what gets created there. Caller owns the result. */
char *paths_resolve(const char *path, const char *base, errbuf_t *err);

/* True when resolved is root or lies below it (both absolute, resolved,
 * without a trailing '/' except the root "/"). */
bool paths_under(const char *resolved, const char *root);

/* 0 when path (a declared input or output, a file path or file:// URI,
 * relative to work_dir) resolves into work_dir or under one of the nroots
 * roots (resolved already); -1 with err naming the path, where it leads
 * and the roots. */
int paths_check(const char *path,
                const char *work_dir,
                char *const *roots,
                size_t nroots,
                errbuf_t *err);

#endif
