/* taskresult — a task's small JSON result: read from the attempt's work
 * dir, checked, and picked apart for templates (jsonval, Jansson); and a
 * branch task's choice, read from its file under the same rules. */
#include "common/taskresult.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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

/* Opens the file a task wrote for the worker (its result, its branch
 * choice) without following a link and reads it whole: 1 with *text owned
 * (NUL-terminated, *size bytes), 0 when there is none, -1 with err set.
 * Messages start with `name` ("result"), call the file `var`
 * ("$SLUICE_RESULT") and say `what` belongs in it. */
static int
s_read_file(const char *path,
            const char *name,
            const char *var,
            const char *what,
            char **text,
            size_t *size,
            errbuf_t *err)
{
    *text = NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return 0;
        }
        errbuf_set(err, "%s: cannot open %s (%s): %s", name, var, path,
                   strerror(errno));
        return -1;
    }
    struct stat st;
    /* One link only: a hard link the task made to a file it may not read
     * would otherwise be read for it by the worker. */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        close(fd);
        errbuf_set(err,
                   "%s: %s (%s) is not a regular file with one link; write "
                   "%s into it directly",
                   name, var, path, what);
        return -1;
    }
    if (st.st_size > TASKRESULT_MAX_BYTES) {
        close(fd);
        errbuf_set(err,
                   "%s: %s holds %lld bytes, over %d; write a smaller value "
                   "and keep bulk data in files",
                   name, var, (long long) st.st_size, TASKRESULT_MAX_BYTES);
        return -1;
    }
    *text = s_read_all(fd, size);
    close(fd);
    return 1;
}

int
taskresult_read(const char *path, char **out, errbuf_t *err)
{
    size_t size = 0;
    char *text = NULL;
    *out = NULL;
    int rc = s_read_file(path, "result", "$SLUICE_RESULT", "the JSON value",
                         &text, &size, err);
    if (rc <= 0) {
        return rc;
    }
    if (taskresult_check(text, size, err) < 0) {
        free(text);
        return -1;
    }
    *out = text;
    return 0;
}

/* Whether id (len bytes, not NUL-terminated) could be a task id:
 * printable, no blanks, not too long. The scheduler, which knows the
 * children, checks the rest; this keeps what the worker sends (and a
 * message quotes) clean. */
static bool
s_id_ok(const char *id, size_t len)
{
    if (len == 0 || len > TASKRESULT_ID_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isgraph((unsigned char) id[i])) {
            return false;
        }
    }
    return true;
}

/* Adds id (len bytes) to the choice; -1 with err when it is no task id. */
static int
s_branch_add(char ***ids, size_t *n, const char *id, size_t len, errbuf_t *err)
{
    if (!s_id_ok(id, len)) {
        char shown[65];
        size_t k = 0;
        for (; k < len && k < sizeof shown - 1; k++) {
            shown[k] = isprint((unsigned char) id[k]) ? id[k] : '?';
        }
        shown[k] = '\0';
        errbuf_set(err,
                   "branch: $SLUICE_BRANCH names '%s', which is no task id; "
                   "write the ids of the tasks to follow, one a line",
                   shown);
        return -1;
    }
    *ids = xrealloc(*ids, (*n + 1) * sizeof **ids);
    (*ids)[(*n)++] = xstrndup(id, len);
    return 0;
}

/* The JSON form: one array of strings. */
static int
s_branch_json(
    const char *text, size_t size, char ***ids, size_t *n, errbuf_t *err)
{
    errbuf_t why;
    jsonval_t *root = jsonval_parse(text, size, &why);
    if (!root) {
        errbuf_set(err,
                   "branch: $SLUICE_BRANCH is not one valid JSON array (%s)",
                   errbuf_msg(&why));
        return -1;
    }
    int rc = 0;
    if (jsonval_type(root) != JSONVAL_ARRAY) {
        errbuf_set(err,
                   "branch: $SLUICE_BRANCH holds a JSON %s; write an "
                   "array of task ids, or one id a line",
                   jsonval_type_name(jsonval_type(root)));
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < jsonval_count(root); i++) {
        size_t len = 0;
        const char *id = jsonval_string(jsonval_at(root, i), &len);
        if (!id) {
            errbuf_set(err,
                       "branch: item %zu of $SLUICE_BRANCH is not a "
                       "string; write the task ids as strings",
                       i + 1);
            rc = -1;
        } else {
            rc = s_branch_add(ids, n, id, len, err);
        }
    }
    jsonval_destroy(&root);
    return rc;
}

int
taskresult_branch_parse(
    const char *text, size_t size, char ***ids, size_t *n, errbuf_t *err)
{
    *ids = NULL;
    *n = 0;
    const char *end = text + size;
    const char *at = text;
    while (at < end && isspace((unsigned char) *at)) {
        at++;
    }
    bool json = at < end && *at == '[';
    int rc = json ? s_branch_json(text, size, ids, n, err) : 0;
    while (!json && rc == 0 && at < end) {
        const char *eol = memchr(at, '\n', (size_t) (end - at));
        const char *stop = eol ? eol : end;
        const char *last = stop;
        while (last > at && isspace((unsigned char) last[-1])) {
            last--;
        }
        rc = s_branch_add(ids, n, at, (size_t) (last - at), err);
        at = stop;
        while (at < end && isspace((unsigned char) *at)) {
            at++; /* blank lines, and blanks before the next id */
        }
    }
    if (rc < 0) {
        taskresult_ids_free(ids, *n);
        *n = 0;
    }
    return rc;
}

int
taskresult_branch_read(const char *path, char ***ids, size_t *n, errbuf_t *err)
{
    *ids = NULL;
    *n = 0;
    size_t size = 0;
    char *text = NULL;
    int rc = s_read_file(path, "branch", "$SLUICE_BRANCH",
                         "the ids of the tasks to follow", &text, &size, err);
    if (rc == 0) {
        errbuf_set(err,
                   "branch: the command wrote nothing to $SLUICE_BRANCH; "
                   "write the ids of the tasks to follow there, one a line "
                   "(an empty file follows none)");
        return -1;
    }
    if (rc > 0) {
        rc = taskresult_branch_parse(text, size, ids, n, err);
    }
    free(text);
    return rc;
}

void
taskresult_ids_free(char ***ids_p, size_t n)
{
    if (!ids_p || !*ids_p) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free((*ids_p)[i]);
    }
    free(*ids_p);
    *ids_p = NULL;
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
