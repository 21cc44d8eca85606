#include "common/statedir.h"

#include <errno.h>
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

int
statedir_check_private(const char *path, errbuf_t *err)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        errbuf_set(err, "cannot read '%s': %s", path, strerror(errno));
        return -1;
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
