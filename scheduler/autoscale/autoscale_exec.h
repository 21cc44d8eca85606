/* autoscale_exec — runs a provider's program (the `command` provider's
 * script, sbatch, scancel, squeue) as a bounded child process, and parses
 * what `list` prints.
 *
 * No shell is involved: argv goes to execve as is. The child gets stdin
 * from /dev/null, its own process group (killed whole on timeout) and no
 * descriptor of the scheduler's besides stdout and stderr. The run ends
 * when the child exits, even if something it started in the background
 * still holds its stdout. */
#ifndef SLUICE_AUTOSCALE_EXEC_H
#define SLUICE_AUTOSCALE_EXEC_H

#include <czmq.h>
#include <stddef.h>

#include "common/errbuf.h"

#define AUTOSCALE_EXEC_TIMEOUT_MS 60000 /* a provider program's limit */
#define AUTOSCALE_EXEC_OUT_MAX    65536 /* stdout kept; the rest is dropped */

/* Runs argv[0] (a path, or a name looked up in $PATH) with argv, the
 * scheduler's environment plus `env` ("NAME=value" strings, NULL-terminated;
 * NULL for none; they override), for at most `timeout_ms`. On exit 0,
 * *out (when not NULL) gets its stdout, owned, NUL-terminated. A non-zero
 * exit, a signal or the timeout is -1 with err naming the program, the verb
 * (argv[1]) and its stderr's last line. */
int autoscale_exec_run(const char *const *argv,
                       const char *const *env,
                       int64_t timeout_ms,
                       char **out,
                       errbuf_t *err);

/* The last non-empty line of `text`, trimmed of surrounding blanks; owned,
 * or NULL when there is none. */
char *autoscale_exec_last_line(const char *text);

/* Parses `list` output: one "WORKER<TAB>HANDLE" per line (blank lines and
 * lines starting with '#' skipped; with `sep_any`, any run of blanks
 * separates the two). Only lines whose worker starts with `prefix` (NULL:
 * all) are kept, the prefix stripped. Appends "worker\thandle" owned strings
 * to `out`; -1 with err naming `what` and the line on a malformed line (out
 * then holds the lines before it). */
int autoscale_exec_parse_list(const char *text,
                              const char *prefix,
                              bool sep_any,
                              const char *what,
                              zlistx_t *out,
                              errbuf_t *err);

/* Runs a provider's listing program (argv, as autoscale_exec_run, with
 * AUTOSCALE_EXEC_TIMEOUT_MS) and parses what it prints as
 * autoscale_exec_parse_list does. */
int autoscale_exec_list(const char *const *argv,
                        const char *prefix,
                        bool sep_any,
                        const char *what,
                        zlistx_t *out,
                        errbuf_t *err);

#endif
