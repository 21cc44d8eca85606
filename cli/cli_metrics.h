/* cli_metrics — what `sluice run show` borrows from `sluice metrics`. */
#ifndef SLUICE_CLI_METRICS_H
#define SLUICE_CLI_METRICS_H

#include <stdint.h>

#include "cli/cli_util.h"

/* Prints "metrics 'TASK': name=value, ..." for each task of run `run_id`
 * that reported metrics; prints nothing when none did or the scheduler
 * cannot say. */
void cli_metrics_run_lines(const args_t *args, uint64_t run_id);

#endif
