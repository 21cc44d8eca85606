/* Every module's Check suite. Add a line here (and in suites.c) per suite. */
#ifndef SLUICE_TEST_SUITES_H
#define SLUICE_TEST_SUITES_H

#include <check.h>

typedef Suite *(suite_fn)(void);

/* NULL-terminated list, in suites.c. */
extern suite_fn *const unit_suites[];

Suite *state_suite(void);

#endif
