/* config_alerts — the config file's alert keys, which are not single
 * values: `alert_targets` (named webhook and command targets) and
 * `alert_route` (the default route of DAGs that name none). Called by
 * config.c only; the fields live in config_t. */
#ifndef SLUICE_CONFIG_ALERTS_H
#define SLUICE_CONFIG_ALERTS_H

#include <stdio.h>

#include "common/config.h"
#include "common/errbuf.h"
#include "common/yamldoc.h"

/* True for a key this file reads. */
bool config_alerts_has(const char *key);

/* Reads one such key's value; err gets "PATH:L:C: ..." on failure. */
int config_alerts_load(config_t *self,
                       const char *path,
                       const yamldoc_node_t *key,
                       const yamldoc_node_t *val,
                       errbuf_t *err);

/* After the whole file was read: the default route names only defined
 * targets. */
int config_alerts_check(const config_t *self, const char *path, errbuf_t *err);

/* Frees the targets and the default route. */
void config_alerts_clear(config_t *self);

/* Writes both keys as YAML, secrets masked. */
void config_alerts_print(const config_t *self, FILE *out);

/* Parses a route's `on` and `to` lists as in a DAG's `alerts:`; for the
 * YAML readers of both files. -1 with err "L:C: ..." (no path). */
int config_alerts_route(const yamldoc_node_t *route,
                        unsigned *on,
                        char ***to,
                        size_t *nto,
                        errbuf_t *err);

#endif
