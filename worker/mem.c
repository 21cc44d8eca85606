/* mem — process-group memory and OOM-kill counters; see mem.h. */
#include "worker/mem.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"

#define MEM_STAT_MAX 1024 /* bytes of /proc/PID/stat we need */

/* Reads a small file whole into buf (NUL-terminated); -1 on failure. */
static ssize_t
s_read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    ssize_t n;
    do {
        n = read(fd, buf, size - 1);
    } while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0) {
        return -1;
    }
    buf[n] = '\0';
    return n;
}

/* The process group and resident pages of /proc/PID/stat text; the command
 * name in parentheses may hold spaces, so fields count from the last ')'. */
static int
s_parse_stat(const char *text, long *pgrp, unsigned long long *rss_pages)
{
    const char *p = strrchr(text, ')');
    if (!p) {
        return -1;
    }
    /* After ")": state ppid pgrp ... field 24 of the line is rss. */
    int field = 2;
    for (p++; *p && field < 24; field++) {
        while (*p == ' ') {
            p++;
        }
        if (field + 1 == 5) {
            *pgrp = strtol(p, NULL, 10);
        }
        if (field + 1 == 24) {
            *rss_pages = strtoull(p, NULL, 10);
            return 0;
        }
        while (*p && *p != ' ') {
            p++;
        }
    }
    return -1;
}

/* Adds a process's pages to its group's sum, if the group is wanted. */
static void
s_add_process(const char *name,
              const int *pgids,
              size_t count,
              uint64_t *rss_kb,
              uint64_t page_kb)
{
    char path[300], text[MEM_STAT_MAX]; /* d_name holds up to 255 */
    snprintf(path, sizeof path, "/proc/%s/stat", name);
    long pgrp = 0;
    unsigned long long pages = 0;
    if (s_read_small(path, text, sizeof text) <= 0 ||
        s_parse_stat(text, &pgrp, &pages) < 0) {
        return; /* gone meanwhile */
    }
    for (size_t i = 0; i < count; i++) {
        if (pgids[i] > 0 && pgrp == pgids[i]) {
            rss_kb[i] += pages * page_kb;
            return;
        }
    }
}

void
mem_groups_rss_kb(const int *pgids, size_t count, uint64_t *rss_kb)
{
    memset(rss_kb, 0, count * sizeof *rss_kb);
    DIR *dir = count ? opendir("/proc") : NULL;
    if (!dir) {
        return;
    }
    uint64_t page_kb = (uint64_t) sysconf(_SC_PAGESIZE) / 1024;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (isdigit((unsigned char) de->d_name[0])) {
            s_add_process(de->d_name, pgids, count, rss_kb, page_kb);
        }
    }
    closedir(dir);
}

uint64_t
mem_group_rss_kb(int pgid)
{
    uint64_t rss_kb = 0;
    mem_groups_rss_kb(&pgid, 1, &rss_kb);
    return rss_kb;
}

/* The cgroup v2 path of this process ("0::/a/b"), else the v1 memory
 * controller's ("N:memory:/a/b"); NULL when neither. */
static char *
s_cgroup_path(bool v2)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) {
        return NULL;
    }
    char line[4096];
    char *found = NULL;
    while (!found && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *rest = strchr(line, ':');
        char *path = rest ? strchr(rest + 1, ':') : NULL;
        if (!path) {
            continue;
        }
        *path++ = '\0';
        rest++;
        if (v2 ? strcmp(line, "0") == 0 && *rest == '\0'
               : strcmp(rest, "memory") == 0) {
            found = xstrdup(path);
        }
    }
    fclose(f);
    return found;
}

/* The first readable of the candidates; caller owns it. */
static char *
s_first_readable(char **candidates, size_t count)
{
    char *found = NULL;
    for (size_t i = 0; i < count; i++) {
        if (!found && access(candidates[i], R_OK) == 0) {
            found = candidates[i];
        } else {
            free(candidates[i]);
        }
    }
    return found;
}

char *
mem_oom_events_path(void)
{
    char *candidates[5];
    size_t n = 0;
    char *v2 = s_cgroup_path(true);
    if (v2) {
        candidates[n++] = xasprintf("/sys/fs/cgroup%s/memory.events", v2);
        candidates[n++] =
            xasprintf("/sys/fs/cgroup/unified%s/memory.events", v2);
    }
    char *v1 = s_cgroup_path(false);
    if (v1) {
        candidates[n++] =
            xasprintf("/sys/fs/cgroup/memory%s/memory.oom_control", v1);
    }
    /* A cgroup namespace shows our own cgroup as the mount's root. */
    candidates[n++] = xstrdup("/sys/fs/cgroup/memory/memory.oom_control");
    free(v2);
    free(v1);
    char *found = s_first_readable(candidates, n);
    uint64_t count = 0;
    if (found && mem_oom_kills(found, &count) < 0) {
        xfree(&found); /* an old kernel without the counter */
    }
    log_debug("mem: OOM kills are counted in %s",
              found ? found : "no file (kernel kills report as signals)");
    return found;
}

int
mem_oom_kills(const char *path, uint64_t *count)
{
    char text[4096];
    if (!path || s_read_small(path, text, sizeof text) < 0) {
        return -1;
    }
    for (char *line = text; line && *line;) {
        if (strncmp(line, "oom_kill ", 9) == 0) {
            *count = strtoull(line + 9, NULL, 10);
            return 0;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return -1;
}
