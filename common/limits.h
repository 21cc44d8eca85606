/* limits — sizes that the scheduler and its clients must agree on, so that
 * the CLI can refuse too large an input before it sends it. */
#ifndef SLUICE_LIMITS_H
#define SLUICE_LIMITS_H

/* The longest secret value, in bytes, that `sluice secret set` accepts:
 * secrets are tokens and passwords, and each one rides in every Task that
 * uses it. */
#define LIMITS_SECRET_VALUE_MAX (64 * 1024)

#endif
