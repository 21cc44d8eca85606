#include "common/statedir.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/xalloc.h"

char *
statedir_resolve(const char *flag_dir)
{
    if (flag_dir && *flag_dir) {
        return xstrdup(flag_dir);
    }
    const char *env = getenv("SLUICE_DIR");
    if (env && *env) {
        return xstrdup(env);
    }
    return xstrdup("./.sluice");
}

char *
statedir_path(const char *dir, const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

int
statedir_create(const char *dir, errbuf_t *err)
{
    char *path = xstrdup(dir);
    int rc = 0;
    for (char *p = path + 1; *p && rc == 0; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0700) < 0 && errno != EEXIST) {
                rc = -1;
            }
            *p = '/';
        }
    }
    if (rc == 0 && mkdir(path, 0700) < 0 && errno != EEXIST) {
        rc = -1;
    }
    if (rc < 0) {
        errbuf_set(err, "cannot create directory '%s': %s", dir,
                   strerror(errno));
    }
    free(path);
    return rc;
}

/* Whether st belongs to this process's user or to root. */
static bool
s_own(const struct stat *st)
{
    return st->st_uid == geteuid() || st->st_uid == 0;
}

static int
s_refuse_owner(const char *path, const struct stat *st, errbuf_t *err)
{
    errbuf_set(err,
               "'%s' is owned by uid %u, not by this user (uid %u); another "
               "user could change it: run 'chown -R %u %s' or use a state "
               "directory of your own",
               path, (unsigned) st->st_uid, (unsigned) geteuid(),
               (unsigned) geteuid(), path);
    return -1;
}

int
statedir_check_dir(const char *dir, errbuf_t *err)
{
    struct stat st;
    if (stat(dir, &st) < 0) {
        errbuf_set(err, "cannot read '%s': %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        errbuf_set(err, "'%s' is not a directory; give --dir a directory", dir);
        return -1;
    }
    if (!s_own(&st)) {
        return s_refuse_owner(dir, &st, err);
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        errbuf_set(err,
                   "'%s' can be written by group or others (mode %03o), who "
                   "could swap the keys in it; run 'chmod 700 %s'",
                   dir, (unsigned) (st.st_mode & 0777), dir);
        return -1;
    }
    return 0;
}

int
statedir_create_private(const char *dir, unsigned *fixed_mode, errbuf_t *err)
{
    *fixed_mode = 0;
    if (statedir_create(dir, err) < 0) {
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        return statedir_check_dir(dir, err);
    }
    if (!s_own(&st)) {
        return s_refuse_owner(dir, &st, err);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        if (chmod(dir, 0700) < 0) {
            errbuf_set(err, "cannot make '%s' private (chmod 700): %s", dir,
                       strerror(errno));
            return -1;
        }
        *fixed_mode = st.st_mode & 0777;
    }
    return 0;
}

int
statedir_check_private(const char *path, errbuf_t *err)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        errbuf_set(err, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    if (!s_own(&st)) {
        return s_refuse_owner(path, &st, err);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        errbuf_set(err,
                   "'%s' is readable by group or others (mode %03o); "
                   "run 'chmod 600 %s'",
                   path, (unsigned) (st.st_mode & 0777), path);
        return -1;
    }
    return 0;
}

int
statedir_exists(const char *path)
{
    return access(path, F_OK) == 0;
}
