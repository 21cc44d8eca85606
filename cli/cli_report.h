/* cli_report — `sluice report RUN_ID TASK_ID` and the validation lines of
 * `sluice run show`. */
#ifndef SLUICE_CLI_REPORT_H
#define SLUICE_CLI_REPORT_H

#include <stdint.h>

#include "cli/cli_util.h"

/* Prints "validate: TASK: 4,812 rows, 188 bad (3.9%): ..." for each
 * validate task of the run that has a report; prints nothing when none
 * (or when the scheduler cannot be asked). */
void cli_report_run_lines(const args_t *args, uint64_t run_id);

#endif
