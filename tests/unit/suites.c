#include "tests/unit/suites.h"

#include <stddef.h>

suite_fn *const unit_suites[] = {
    state_suite,
    NULL,
};
