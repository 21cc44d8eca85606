/* alert_send — see alert_send.h. One mutex guards the job and outcome
 * lists; the thread drops it while it delivers. */
#include "scheduler/alert_send.h"

#include <curl/curl.h>
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alert.h"
#include "common/clock.h"
#include "common/xalloc.h"

#define SEND_OUTPUT_MAX 4096 /* a command's output kept for its error */

typedef struct {
    uint64_t id;
    char *uid;
    config_target_t target; /* deep copy, owned */
    char *body;
} job_t;

typedef struct {
    uint64_t id;
    char *error; /* NULL: delivered */
} outcome_t;

struct alert_send_t {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    zlistx_t *jobs;     /* job_t, owned */
    zlistx_t *outcomes; /* outcome_t, owned */
    bool stop;
};

static void
s_job_free(job_t *job)
{
    free(job->uid);
    free(job->target.name);
    free(job->target.url);
    if (job->target.secret) {
        memset(job->target.secret, 0, strlen(job->target.secret));
        free(job->target.secret);
    }
    for (size_t i = 0; job->target.argv && job->target.argv[i]; i++) {
        free(job->target.argv[i]);
    }
    free(job->target.argv);
    free(job->body);
    free(job);
}

/* ------------------------------------------------------------- webhook */

static size_t
s_discard(char *data, size_t size, size_t n, void *arg)
{
    (void) data, (void) arg;
    return size * n;
}

static int
s_webhook(const config_target_t *t,
          const char *uid,
          const char *body,
          errbuf_t *err)
{
    CURL *curl = curl_easy_init();
    if (!curl) {
        errbuf_set(err, "libcurl could not start a transfer");
        return -1;
    }
    char sig[65];
    alert_sign(t->secret, body, strlen(body), sig);
    char *sig_header = xasprintf("X-Sluice-Signature: sha256=%s", sig);
    char *id_header = xasprintf("X-Sluice-Alert-Id: %s", uid ? uid : "");
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, id_header);
    if (*t->secret) {
        headers = curl_slist_append(headers, sig_header);
    }
    curl_easy_setopt(curl, CURLOPT_URL, t->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) t->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "sluice-alerts");
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    int result = 0;
    if (rc != CURLE_OK) {
        errbuf_set(err, "POST %s: %s", t->url, curl_easy_strerror(rc));
        result = -1;
    } else if (status < 200 || status > 299) {
        errbuf_set(err, "POST %s: the receiver answered HTTP %ld", t->url,
                   status);
        result = -1;
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(sig_header);
    free(id_header);
    return result;
}

/* ------------------------------------------------------------- command */

static void
s_child(char *const *argv, int in, int out)
{
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* the thread blocks SIGPIPE */
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    for (int fd = 3; fd < 1024; fd++) {
        close(fd);
    }
    execvp(argv[0], argv);
    dprintf(2, "cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Writes body to the child's stdin and reads its output until it closes
 * or the deadline (monotonic ms) passes; false on the deadline. */
static bool
s_converse(int in,
           int out,
           const char *body,
           int64_t deadline,
           char *kept,
           size_t *nkept)
{
    size_t off = 0, len = strlen(body);
    if (len == 0) {
        close(in), in = -1;
    }
    while (out >= 0) {
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0) {
            break;
        }
        struct pollfd fds[2] = {{out, POLLIN, 0}, {in, POLLOUT, 0}};
        if (poll(fds, in >= 0 ? 2 : 1, (int) left) < 0 && errno != EINTR) {
            break;
        }
        if (in >= 0 && fds[1].revents) {
            ssize_t n = write(in, body + off, len - off);
            off += n > 0 ? (size_t) n : 0;
            if (n <= 0 || off == len) {
                close(in), in = -1;
            }
        }
        if (fds[0].revents) {
            char buf[1024];
            ssize_t n = read(out, buf, sizeof buf);
            if (n <= 0) {
                close(out), out = -1;
                break;
            }
            size_t room = SEND_OUTPUT_MAX - 1 - *nkept;
            size_t take = (size_t) n < room ? (size_t) n : room;
            memcpy(kept + *nkept, buf, take);
            *nkept += take;
        }
    }
    if (in >= 0) {
        close(in);
    }
    if (out >= 0) {
        close(out);
        return false;
    }
    return true;
}

static int
s_wait_child(pid_t pid, int64_t deadline, bool timed_out)
{
    int status = 0;
    while (!timed_out && waitpid(pid, &status, WNOHANG) == 0) {
        if (clock_mono_ms() >= deadline) {
            timed_out = true;
            break;
        }
        usleep(10000);
    }
    if (timed_out) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -2;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int
s_command(const config_target_t *t, const char *body, errbuf_t *err)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        errbuf_set(err, "cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    int64_t deadline = clock_mono_ms() + (int64_t) t->timeout_ms;
    pid_t pid = fork();
    if (pid == 0) {
        s_child(t->argv, in[0], out[1]);
    }
    close(in[0]);
    close(out[1]);
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
        errbuf_set(err, "cannot start '%s': %s", t->argv[0], strerror(errno));
        return -1;
    }
    char kept[SEND_OUTPUT_MAX];
    size_t nkept = 0;
    bool done = s_converse(in[1], out[0], body, deadline, kept, &nkept);
    kept[nkept] = '\0';
    int code = s_wait_child(pid, deadline, !done);
    if (code == 0) {
        return 0;
    }
    while (nkept > 0 && (kept[nkept - 1] == '\n' || kept[nkept - 1] == '\r')) {
        kept[--nkept] = '\0';
    }
    const char *last = alert_tail_lines(kept, nkept, 1);
    if (code == -2) {
        errbuf_set(err, "'%s' ran past its timeout of %llu ms and was killed",
                   t->argv[0], (unsigned long long) t->timeout_ms);
    } else {
        errbuf_set(err, "'%s' exited with %d%s%.200s", t->argv[0], code,
                   *last ? ": " : "", last);
    }
    return -1;
}

int
alert_send_one(const config_target_t *target,
               const char *uid,
               const char *body,
               errbuf_t *err)
{
    if (target->kind == CONFIG_TARGET_WEBHOOK) {
        return s_webhook(target, uid, body, err);
    }
    return s_command(target, body, err);
}

/* -------------------------------------------------------------- thread */

static void *
s_thread(void *arg)
{
    alert_send_t *self = arg;
    /* A program that exits before reading its stdin must not kill the
     * scheduler: its write fails with EPIPE instead. */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    pthread_mutex_lock(&self->lock);
    while (!self->stop) {
        job_t *job = zlistx_detach(self->jobs, NULL);
        if (!job) {
            pthread_cond_wait(&self->wake, &self->lock);
            continue;
        }
        pthread_mutex_unlock(&self->lock);
        errbuf_t err;
        errbuf_clear(&err);
        outcome_t *o = xcalloc(1, sizeof *o);
        o->id = job->id;
        if (alert_send_one(&job->target, job->uid, job->body, &err) < 0) {
            o->error = xstrdup(errbuf_msg(&err));
        }
        s_job_free(job);
        pthread_mutex_lock(&self->lock);
        zlistx_add_end(self->outcomes, o);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

alert_send_t *
alert_send_new(errbuf_t *err)
{
    alert_send_t *self = xcalloc(1, sizeof *self);
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    self->jobs = zlistx_new();
    self->outcomes = zlistx_new();
    if (pthread_create(&self->thread, NULL, s_thread, self) != 0) {
        errbuf_set(err, "cannot start the alert delivery thread");
        zlistx_destroy(&self->jobs);
        zlistx_destroy(&self->outcomes);
        free(self);
        return NULL;
    }
    return self;
}

void
alert_send_destroy(alert_send_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    alert_send_t *self = *self_p;
    pthread_mutex_lock(&self->lock);
    self->stop = true;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    pthread_join(self->thread, NULL);
    job_t *job;
    while ((job = zlistx_detach(self->jobs, NULL))) {
        s_job_free(job);
    }
    outcome_t *o;
    while ((o = zlistx_detach(self->outcomes, NULL))) {
        free(o->error);
        free(o);
    }
    zlistx_destroy(&self->jobs);
    zlistx_destroy(&self->outcomes);
    pthread_mutex_destroy(&self->lock);
    pthread_cond_destroy(&self->wake);
    free(self);
    *self_p = NULL;
}

void
alert_send_push(alert_send_t *self,
                uint64_t id,
                const char *uid,
                const config_target_t *target,
                const char *body)
{
    job_t *job = xcalloc(1, sizeof *job);
    job->id = id;
    job->uid = xstrdup(uid);
    job->target = *target;
    job->target.name = xstrdup(target->name);
    job->target.url = target->url ? xstrdup(target->url) : NULL;
    job->target.secret = xstrdup(target->secret ? target->secret : "");
    if (target->argv) {
        size_t n = 0;
        while (target->argv[n]) {
            n++;
        }
        job->target.argv = xcalloc(n + 1, sizeof *job->target.argv);
        for (size_t i = 0; i < n; i++) {
            job->target.argv[i] = xstrdup(target->argv[i]);
        }
    }
    job->body = xstrdup(body);
    pthread_mutex_lock(&self->lock);
    zlistx_add_end(self->jobs, job);
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
}

bool
alert_send_pop(alert_send_t *self, uint64_t *id, bool *ok, char **error)
{
    pthread_mutex_lock(&self->lock);
    outcome_t *o = zlistx_detach(self->outcomes, NULL);
    pthread_mutex_unlock(&self->lock);
    if (!o) {
        return false;
    }
    *id = o->id;
    *ok = o->error == NULL;
    *error = o->error;
    free(o);
    return true;
}
