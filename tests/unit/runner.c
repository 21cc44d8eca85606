/* One Check runner for every module's suite. CK_RUN_SUITE=store runs one;
 * CK_FORK=no lets gdb in. */
#include <check.h>
#include <stdlib.h>

#include "common/log.h"
#include "tests/unit/suites.h"

int
main(void)
{
    /* Modules log what they do; tests care about warnings and worse. */
    log_set_level(LOG_LEVEL_WARN);
    SRunner *runner = srunner_create(NULL);
    for (size_t i = 0; unit_suites[i]; i++) {
        srunner_add_suite(runner, unit_suites[i]());
    }
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
