/* gpus — GPU discovery and per-attempt assignment; see gpus.h. */
#include "worker/gpus.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/xalloc.h"

#define GPUS_OUTPUT_MAX 65536 /* bytes of `nvidia-smi -L` we read */

struct gpus_t {
    uint32_t count;  /* devices in the pool */
    uint64_t *owner; /* owned, count of them: attempt id holding it, 0 free */
};

extern char **environ;

/* Spawns `program -L` with stdout on a pipe and nothing else; returns the
 * pid, or -1 when it cannot start (e.g. not installed). */
static pid_t
s_spawn_lister(const char *program, int *out_fd)
{
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0) {
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    char *argv[] = {(char *) program, (char *) "-L", NULL};
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, program, &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        return -1;
    }
    *out_fd = out[0];
    return pid;
}

/* Reads fd until EOF or the deadline; returns the bytes read. */
static size_t
s_read_until(int fd, char *buf, size_t size, int64_t deadline)
{
    size_t len = 0;
    while (len < size) {
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0) {
            break;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, (int) left);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            break;
        }
        ssize_t n = read(fd, buf + len, size - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t) n;
    }
    return len;
}

/* Lines that start with "GPU " (MIG devices are indented under them). */
static uint32_t
s_count_gpu_lines(const char *text, size_t len)
{
    uint32_t count = 0;
    size_t at = 0;
    while (at < len) {
        if (len - at >= 4 && memcmp(text + at, "GPU ", 4) == 0) {
            count++;
        }
        const char *nl = memchr(text + at, '\n', len - at);
        if (!nl) {
            break;
        }
        at = (size_t) (nl - text) + 1;
    }
    return count;
}

/* Waits for pid until the deadline, then kills it; true when it exited 0. */
static bool
s_reap_lister(pid_t pid, int64_t deadline)
{
    int status = 0;
    while (true) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) {
            return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        if (got < 0 && errno != EINTR) {
            return false;
        }
        if (clock_mono_ms() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
            }
            return false;
        }
        poll(NULL, 0, 10); /* bounded by the deadline above */
    }
}

uint32_t
gpus_detect(const char *program, int timeout_ms)
{
    assert(program);
    int64_t deadline = clock_mono_ms() + timeout_ms;
    int fd = -1;
    pid_t pid = s_spawn_lister(program, &fd);
    if (pid < 0) {
        log_debug("gpus: '%s' is not available: no GPUs", program);
        return 0;
    }
    char *text = xmalloc(GPUS_OUTPUT_MAX);
    size_t len = s_read_until(fd, text, GPUS_OUTPUT_MAX, deadline);
    close(fd);
    uint32_t count = 0;
    if (s_reap_lister(pid, deadline)) {
        count = s_count_gpu_lines(text, len);
    } else {
        log_warn("gpus: '%s -L' failed or did not finish within %d ms; "
                 "assuming no GPUs (set --gpus N to override)",
                 program, timeout_ms);
    }
    free(text);
    return count > GPUS_MAX ? GPUS_MAX : count;
}

gpus_t *
gpus_new(uint32_t count)
{
    assert(count <= GPUS_MAX);
    gpus_t *self = xcalloc(1, sizeof *self);
    self->count = count;
    self->owner = xcalloc(count + 1, sizeof *self->owner);
    return self;
}

void
gpus_destroy(gpus_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    free((*self_p)->owner);
    xfree(self_p);
}

uint32_t
gpus_count(const gpus_t *self)
{
    return self->count;
}

uint32_t
gpus_free(const gpus_t *self)
{
    uint32_t free_count = 0;
    for (uint32_t i = 0; i < self->count; i++) {
        free_count += self->owner[i] == 0;
    }
    return free_count;
}

int
gpus_check(const gpus_t *self, uint32_t count, errbuf_t *err)
{
    uint32_t available = gpus_free(self);
    if (count <= available) {
        return 0;
    }
    errbuf_set(err,
               "task asks for %u GPU%s but only %u of this worker's %u %s "
               "free; the scheduler should place it elsewhere",
               count, count == 1 ? "" : "s", available, self->count,
               available == 1 ? "is" : "are");
    return -1;
}

int
gpus_take(gpus_t *self,
          uint64_t attempt_id,
          uint32_t count,
          char *list,
          size_t size,
          errbuf_t *err)
{
    assert(attempt_id != 0 && list && size >= GPUS_LIST_SIZE);
    list[0] = '\0';
    if (gpus_check(self, count, err) < 0) {
        return -1;
    }
    size_t len = 0;
    for (uint32_t i = 0, taken = 0; i < self->count && taken < count; i++) {
        if (self->owner[i] != 0) {
            continue;
        }
        self->owner[i] = attempt_id;
        len += (size_t) snprintf(list + len, size - len, "%s%u",
                                 taken ? "," : "", i);
        taken++;
    }
    return 0;
}

uint32_t
gpus_release(gpus_t *self, uint64_t attempt_id)
{
    uint32_t released = 0;
    for (uint32_t i = 0; i < self->count && attempt_id != 0; i++) {
        if (self->owner[i] == attempt_id) {
            self->owner[i] = 0;
            released++;
        }
    }
    return released;
}
