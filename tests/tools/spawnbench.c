/* spawnbench — the machine's own limit for starting tasks.
 *
 * Two threads each posix_spawn /bin/true and waitpid it, over and over, for
 * about --seconds (default 2): the reaped total per second is the most tasks
 * per second any orchestrator on this machine could start with two
 * spawners. Then one thread alone measures the mean latency of one
 * spawn+reap. `make bench` divides sluice's numbers by these.
 *
 * Prints "key value" lines:
 *   spawn_per_sec 2345.6
 *   spawn_latency_us 410.2
 * usage: spawnbench [--seconds S] [--program PATH] */
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

typedef struct {
    const char *program; /* borrowed */
    double seconds;      /* how long to keep spawning */
    uint64_t count;      /* spawned and reaped, filled by the thread */
    int failed;          /* a spawn or wait failed */
} spawner_t;

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* One spawn+reap; 0 when the child ran and exited 0. */
static int
s_spawn_once(const char *program)
{
    pid_t pid;
    char *argv[] = {(char *) program, NULL};
    if (posix_spawn(&pid, program, NULL, NULL, argv, environ) != 0) {
        return -1;
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        return -1;
    }
    return 0;
}

static void *
s_spawner(void *arg)
{
    spawner_t *self = arg;
    double end = s_now() + self->seconds;
    /* Check the clock every few spawns only; it is cheap but not free. */
    while (s_now() < end && !self->failed) {
        for (int i = 0; i < 8; i++) {
            if (s_spawn_once(self->program) != 0) {
                self->failed = 1;
                break;
            }
            self->count++;
        }
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    spawner_t sp[2];
    double seconds = 2.0;
    const char *program = "/bin/true";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0) {
            seconds = atof(argv[i + 1]);
        } else if (strcmp(argv[i], "--program") == 0) {
            program = argv[i + 1];
        }
    }
    if (seconds <= 0) {
        fprintf(stderr, "usage: spawnbench [--seconds S] [--program PATH]\n");
        return 2;
    }
    pthread_t th[2];
    double start = s_now();
    for (int i = 0; i < 2; i++) {
        sp[i] = (spawner_t){program, seconds, 0, 0};
        if (pthread_create(&th[i], NULL, s_spawner, &sp[i]) != 0) {
            fprintf(stderr, "spawnbench: cannot start a thread\n");
            return 1;
        }
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    double elapsed = s_now() - start;
    spawner_t one = {program, seconds / 4, 0, 0};
    double t0 = s_now();
    s_spawner(&one);
    double single = s_now() - t0;
    if (sp[0].failed || sp[1].failed || one.failed || one.count == 0) {
        fprintf(stderr, "spawnbench: cannot run '%s'\n", program);
        return 1;
    }
    printf("spawn_per_sec %.1f\n",
           (double) (sp[0].count + sp[1].count) / elapsed);
    printf("spawn_latency_us %.1f\n", single * 1e6 / (double) one.count);
    return 0;
}
