/* taskresult — a task's small JSON result: read from the attempt's work
 * dir, checked, and picked apart for templates (jsonval, Jansson). */
#include "common/taskresult.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/jsonval.h"
#include "common/xalloc.h"

int
taskresult_check(const char *text, size_t size, errbuf_t *err)
{
    if (size > TASKRESULT_MAX_BYTES) {
        errbuf_set(err,
                   "result: $SLUICE_RESULT holds %zu bytes, over %d; write a "
                   "smaller value and keep bulk data in files",
                   size, TASKRESULT_MAX_BYTES);
        return -1;
    }
    errbuf_t why;
    jsonval_t *value = jsonval_parse(text, size, &why);
    if (!value) {
        errbuf_set(err,
                   "result: $SLUICE_RESULT is not one valid JSON value (%s)",
                   errbuf_msg(&why));
        return -1;
    }
    jsonval_destroy(&value);
    return 0;
}

/* Reads what fd holds, at most TASKRESULT_MAX_BYTES + 1 bytes: one more
 * than allowed is enough to say it is too big. */
static char *
s_read_all(int fd, size_t *size)
{
    char *text = xmalloc(TASKRESULT_MAX_BYTES + 2);
    size_t got = 0;
    while (got < TASKRESULT_MAX_BYTES + 1) {
        ssize_t n = read(fd, text + got, TASKRESULT_MAX_BYTES + 1 - got);
        if (n <= 0) {
            break;
        }
        got += (size_t) n;
    }
    text[got] = '\0';
    *size = got;
    return text;
}

int
taskresult_read(const char *path, char **out, errbuf_t *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return 0;
        }
        errbuf_set(err, "result: cannot open $SLUICE_RESULT (%s): %s", path,
                   strerror(errno));
        return -1;
    }
    struct stat st;
    /* One link only: a hard link the task made to a file it may not read
     * would otherwise be read for it by the worker. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        close(fd);
        errbuf_set(err,
                   "result: $SLUICE_RESULT (%s) is not a regular file with "
                   "one link; write the JSON value into it directly",
                   path);
        return -1;
    }
    if (st.st_size > TASKRESULT_MAX_BYTES) {
        close(fd);
        errbuf_set(err,
                   "result: $SLUICE_RESULT holds %lld bytes, over %d; write a "
                   "smaller value and keep bulk data in files",
                   (long long) st.st_size, TASKRESULT_MAX_BYTES);
        return -1;
    }
    size_t size = 0;
    char *text = s_read_all(fd, &size);
    close(fd);
    if (taskresult_check(text, size, err) < 0) {
        free(text);
        return -1;
    }
    *out = text;
    return 0;
}

int
taskresult_field(const char *json, const char *field, char **out, errbuf_t *err)
{
    *out = NULL;
    if (!field) {
        *out = xstrdup(json);
        return 0;
    }
    jsonval_t *root = jsonval_parse(json, strlen(json), err);
    if (!root) {
        return -1;
    }
    int rc = -1;
    const jsonval_t *member = jsonval_get(root, field);
    size_t len = 0;
    const char *text = member ? jsonval_string(member, &len) : NULL;
    if (jsonval_type(root) != JSONVAL_OBJECT) {
        errbuf_set(err,
                   "the result is a JSON %s, not an object: use "
                   "'.result' without a field",
                   jsonval_type_name(jsonval_type(root)));
    } else if (!member) {
        errbuf_set(err, "the result has no member '%s'", field);
    } else if (text && strlen(text) != len) {
        errbuf_set(err, "member '%s' of the result holds a NUL byte", field);
    } else {
        *out = text ? xstrdup(text) : jsonval_dump(member);
        rc = 0;
    }
    jsonval_destroy(&root);
    return rc;
}

int
taskresult_ref(const char *name, char **task, const char **field)
{
    *task = NULL;
    *field = NULL;
    if (strncmp(name, "tasks.", 6) != 0) {
        return 0;
    }
    const char *id = name + 6;
    for (const char *at = strstr(id, ".result"); at;
         at = strstr(at + 1, ".result")) {
        const char *end = at + 7;
        if (at == id || (*end && *end != '.') || (*end == '.' && !end[1])) {
            continue;
        }
        *task = xstrndup(id, (size_t) (at - id));
        *field = *end ? end + 1 : NULL;
        return 1;
    }
    return -1;
}
