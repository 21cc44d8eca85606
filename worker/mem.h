/* mem — how much memory an attempt's process group holds, and whether the
 * kernel's OOM killer struck, both read from /proc and the cgroup files. */
#ifndef SLUICE_MEM_H
#define SLUICE_MEM_H

#include <stddef.h>
#include <stdint.h>

/* For each of the count process groups in pgids, the sum of the resident set
 * sizes (KiB) of its live processes into rss_kb (0 when none), from
 * /proc/PID/stat. One pass over /proc for all of them: its cost grows with
 * the processes on the machine (some microseconds each), not the groups. */
void mem_groups_rss_kb(const int *pgids, size_t count, uint64_t *rss_kb);

/* mem_groups_rss_kb for one group. */
uint64_t mem_group_rss_kb(int pgid);

/* The file that counts this process's cgroup's OOM kills: memory.events
 * (cgroup v2, also under /sys/fs/cgroup/unified), else memory.oom_control
 * (v1); both have an "oom_kill N" line. NULL when there is none. Caller
 * owns the result. */
char *mem_oom_events_path(void);

/* Reads the "oom_kill N" counter of path into *count; -1 when the file
 * cannot be read or has no such line. */
int mem_oom_kills(const char *path, uint64_t *count);

#endif
