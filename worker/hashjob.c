/* hashjob — hashing in a child process; see hashjob.h. */
#include "worker/hashjob.h"

#include <assert.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"

#define HASHJOB_ERR_MAX 512 /* bytes of the child's stderr kept */

struct hashjob_t {
    hashjob_kind_t kind;
    uint64_t attempt_id;
    uint64_t timeout_ms;
    exec_t *exec; /* owned: the child */
    char *out;    /* owned: its records so far */
    size_t nout;
    bool overflow;                 /* it wrote more than HASHJOB_OUT_MAX */
    char errtext[HASHJOB_ERR_MAX]; /* the start of its stderr */
    size_t nerr;
};

static const char *
s_what(hashjob_kind_t kind)
{
    return kind == HASHJOB_INPUTS ? "inputs" : "outputs";
}

/* ----------------------------------------------------------- the child */

static void
s_record(char type, const char *text)
{
    printf("%c\t%s", type, text);
    putchar('\0');
}

/* One declared path: an R record, or a W or E record with why. -1 after
 * an E record. */
static int
s_hash_one(const char *declared, const char *dir, bool inputs)
{
    errbuf_t why;
    errbuf_clear(&why);
    char hex[DATAHASH_HEX_SIZE];
    uint64_t size = 0;
    bool missing = false;
    char *path = datahash_resolve(declared, dir, &why);
    int rc = path ? datahash_path(path, hex, &size, &missing, &why) : -1;
    char *text = NULL;
    if (rc == 0) {
        /* The resolved name, as `sluice lineage PATH` will name it. */
        char *real = realpath(path, NULL);
        text = xasprintf("%s\t%" PRIu64 "\tfile://%s", hex, size,
                         real ? real : path);
        free(real);
        s_record('R', text);
    } else if (inputs && (!path || missing)) {
        /* An input may be made elsewhere, later: lineage only. */
        text = xasprintf("%s; it is left out of the lineage", errbuf_msg(&why));
        s_record('W', text);
        rc = 0;
    } else if (missing) {
        text = xasprintf("declared output '%s' was not written", path);
        s_record('E', text);
    } else {
        text = xasprintf("declared %s refused: %s", inputs ? "input" : "output",
                         errbuf_msg(&why));
        s_record('E', text);
    }
    free(text);
    free(path);
    return rc;
}

int
hashjob_main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "inputs") && strcmp(argv[1], "outputs"))) {
        fprintf(stderr, "usage: sluice __hash inputs|outputs DIR PATH...\n"
                        "(run by a worker for each attempt; not for people)\n");
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "libsodium failed to initialise\n");
        return 1;
    }
    bool inputs = !strcmp(argv[1], "inputs");
    int rc = 0;
    for (int i = 3; i < argc && rc == 0; i++) {
        rc = s_hash_one(argv[i], argv[2], inputs) < 0 ? 1 : 0;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "cannot write the hashes: %m\n");
        return 1;
    }
    return rc;
}

/* ---------------------------------------------------------- the worker */

static void
s_on_output(void *arg,
            exec_t *exec,
            int stream,
            uint64_t seq,
            const void *data,
            size_t size)
{
    (void) exec;
    (void) seq;
    hashjob_t *self = arg;
    if (stream == 1) {
        if (self->nout + size > HASHJOB_OUT_MAX) {
            self->overflow = true;
            return;
        }
        self->out = xrealloc(self->out, self->nout + size + 1);
        memcpy(self->out + self->nout, data, size);
        self->nout += size;
    } else if (stream == 2 && self->nerr + 1 < sizeof self->errtext) {
        size_t take = sizeof self->errtext - 1 - self->nerr;
        take = size < take ? size : take;
        memcpy(self->errtext + self->nerr, data, take);
        self->nerr += take;
        while (self->nerr > 0 && self->errtext[self->nerr - 1] == '\n') {
            self->nerr--; /* one line in a message */
        }
        self->errtext[self->nerr] = '\0';
    }
}

/* The worker's own executable, which holds `__hash`: by its name, for
 * ps, unless an upgrade replaced the file since the worker started; then
 * through /proc/self/exe, which the child (a copy of the worker until it
 * execs) resolves to the very binary that runs. */
static char *
s_self_exe(void)
{
    static const char deleted[] = " (deleted)";
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    size_t len = strlen(exe);
    if (n <= 0 || (len >= sizeof deleted - 1 &&
                   !strcmp(exe + len - (sizeof deleted - 1), deleted))) {
        return xstrdup("/proc/self/exe");
    }
    return xstrdup(exe);
}

hashjob_t *
hashjob_start(const hashjob_spec_t *spec)
{
    assert(spec && spec->work_root);
    hashjob_t *self = xcalloc(1, sizeof *self);
    self->kind = spec->kind;
    self->attempt_id = spec->attempt_id;
    self->timeout_ms =
        spec->timeout_ms ? spec->timeout_ms : HASHJOB_DEFAULT_TIMEOUT_MS;
    char *exe = s_self_exe();
    char *dir = xasprintf("%s/%" PRIu64, spec->work_root, spec->attempt_id);
    size_t argc = 4 + spec->ndeclared;
    const char **argv = xcalloc(argc + 1, sizeof *argv);
    argv[0] = exe;
    argv[1] = "__hash";
    argv[2] = s_what(spec->kind);
    argv[3] = dir;
    for (size_t i = 0; i < spec->ndeclared; i++) {
        argv[4 + i] = spec->declared[i];
    }
    exec_spec_t es = {.attempt_id = spec->attempt_id,
                      .dag = "",
                      .task_id = spec->task_id ? spec->task_id : "",
                      .logical_date = "",
                      .command = "sluice __hash",
                      .argv = argv,
                      .argc = argc,
                      .work_root = spec->work_root,
                      .timeout_ms = self->timeout_ms,
                      .kill_grace_ms = 0, /* reads nothing worth a grace */
                      .on_log = s_on_output,
                      .arg = self,
                      .run_as = spec->user};
    self->exec = exec_start(&es);
    free(argv);
    free(dir);
    free(exe);
    return self;
}

void
hashjob_destroy(hashjob_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    hashjob_t *self = *self_p;
    exec_destroy(&self->exec);
    free(self->out);
    free(self);
    *self_p = NULL;
}

int
hashjob_fds(const hashjob_t *self, int *fds)
{
    return exec_fds(self->exec, fds);
}

void
hashjob_service(hashjob_t *self)
{
    exec_read(self->exec);
    exec_tick(self->exec);
}

int64_t
hashjob_next_deadline(const hashjob_t *self)
{
    return exec_next_deadline(self->exec);
}

void
hashjob_cancel(hashjob_t *self, const char *reason)
{
    exec_cancel(self->exec, reason);
}

bool
hashjob_done(const hashjob_t *self)
{
    return exec_done(self->exec);
}

/* One record (without its NUL); -1 with err for an E or a bad one. */
static int
s_parse_one(uint64_t attempt_id,
            const char *rec,
            datahash_ref_t **refs,
            size_t *count,
            errbuf_t *err)
{
    if (rec[0] && rec[1] == '\t' && (rec[0] == 'W' || rec[0] == 'E')) {
        if (rec[0] == 'E') {
            errbuf_set(err, "%s", rec + 2);
            return -1;
        }
        log_warn("attempt %" PRIu64 ": %s", attempt_id, rec + 2);
        return 0;
    }
    const char *hash = rec + 2;
    const char *tab =
        rec[0] == 'R' && rec[1] == '\t' ? strchr(hash, '\t') : NULL;
    char *end = NULL;
    uint64_t size = tab ? strtoull(tab + 1, &end, 10) : 0;
    if (!tab || tab - hash != DATAHASH_HEX_SIZE - 1 || !end || *end != '\t' ||
        strncmp(end + 1, "file://", 7) != 0) {
        errbuf_set(err, "the hasher wrote a record that does not parse");
        return -1;
    }
    *refs = xrealloc(*refs, (*count + 1) * sizeof **refs);
    datahash_ref_t *ref = &(*refs)[(*count)++];
    memcpy(ref->hash, hash, DATAHASH_HEX_SIZE - 1);
    ref->hash[DATAHASH_HEX_SIZE - 1] = '\0';
    ref->size = size;
    ref->uri = xstrdup(end + 1);
    return 0;
}

int
hashjob_parse(uint64_t attempt_id,
              const char *data,
              size_t size,
              datahash_ref_t **refs,
              size_t *count,
              errbuf_t *err)
{
    size_t at = 0;
    while (at < size) {
        const char *nul = memchr(data + at, '\0', size - at);
        if (!nul) {
            errbuf_set(err, "the hasher's last record is cut short");
            return -1;
        }
        if (s_parse_one(attempt_id, data + at, refs, count, err) < 0) {
            return -1;
        }
        at = (size_t) (nul - data) + 1;
    }
    return 0;
}

/* Why the child ended without its records, or 0 when it exited 0. */
static int
s_outcome(const hashjob_t *self, errbuf_t *err)
{
    const exec_result_t *r = exec_result(self->exec);
    const char *what = s_what(self->kind);
    char took[32], how[320];
    switch (r->outcome) {
        case EXEC_EXITED:
            if (r->exit_code == 0) {
                return 0;
            }
            break;
        case EXEC_TIMED_OUT:
            errbuf_set(err,
                       "hashing %s took longer than %s; declare smaller %s, "
                       "or raise the worker's --hash-timeout",
                       what,
                       clock_fmt_duration((int64_t) self->timeout_ms, took,
                                          sizeof took),
                       what);
            return -1;
        case EXEC_CANCELLED:
            errbuf_set(err, "%s (while hashing %s)", r->error, what);
            return -1;
        case EXEC_SPAWN_FAILED:
            errbuf_set(err, "cannot start hashing %s: %s", what, r->error);
            return -1;
        default:
            break;
    }
    errbuf_set(err, "hashing %s failed (%s)%s%s", what,
               exec_describe(r, how, sizeof how), self->nerr ? ": " : "",
               self->errtext);
    return -1;
}

int
hashjob_result(hashjob_t *self,
               datahash_ref_t **refs,
               size_t *count,
               errbuf_t *err)
{
    assert(hashjob_done(self));
    const exec_result_t *r = exec_result(self->exec);
    if (r->outcome != EXEC_EXITED) {
        return s_outcome(self, err);
    }
    if (self->overflow) {
        errbuf_set(err, "hashing %s wrote over %d bytes of hashes",
                   s_what(self->kind), HASHJOB_OUT_MAX);
        return -1;
    }
    if (hashjob_parse(self->attempt_id, self->out, self->nout, refs, count,
                      err) < 0) {
        return -1;
    }
    return s_outcome(self, err);
}
