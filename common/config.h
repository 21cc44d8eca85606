/* config — the scheduler's settings: defaults, then the state directory's
 * config.yaml (read with the same YAML parser as DAG files), then flags.
 *
 * Settings are a table (name, type, default, help) so that --print-config,
 * the file and the flags can never disagree. */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "common/errbuf.h"

typedef struct {
    char *listen;        /* worker socket bind, e.g. tcp://0.0.0.0:7700 */
    char *client_listen; /* client socket bind, "tcp://127.0.0.1:7701" */
    char *
        advertise; /* host:port workers dial (join line); "" = hostname:port of listen */
    uint64_t heartbeat_ms;  /* 1000 */
    uint32_t liveness;      /* 3 missed heartbeats -> lost */
    uint64_t task_ttl_ms;   /* 60000: how long a Task message stays valid */
    uint64_t kill_grace_ms; /* 5000: SIGTERM -> SIGKILL */
    uint64_t log_cap_bytes; /* 1048576 per attempt */
    char *log_level;        /* "info" */
    char *store_sync;       /* "full" (sync every commit) or "normal" */
    /* The autoscaler (scheduler/autoscale/autoscale.h). */
    char *autoscale_provider;     /* none, local, command, slurm */
    char *autoscale_command;      /* command provider's program */
    char *autoscale_partition;    /* slurm provider's partition */
    char *autoscale_sluice;       /* local: sluice executable; "" = self */
    uint32_t min_workers;         /* 0 */
    uint32_t max_workers;         /* 4 */
    char *worker_shapes;          /* "small:slots=2" */
    uint64_t scale_up_delay_ms;   /* 2000 */
    uint64_t idle_timeout_ms;     /* 30000 */
    uint64_t cooldown_ms;         /* 5000 */
    uint64_t launch_timeout_ms;   /* 60000 */
    uint32_t max_launch_per_step; /* 4 */
    char *timezone; /* "UTC": zone of DAGs that name none (IANA name) */
} config_t;

/* Defaults only. Never NULL. */
config_t *config_new(void);

/* Defaults overlaid with the YAML file at path (a missing file is fine:
 * defaults). Errors name file:line:col and the offending key. */
config_t *config_load(const char *path, errbuf_t *err);

void config_destroy(config_t **self_p);

/* Sets one setting by name from text ("heartbeat_ms", "1500" or "1.5s"),
 * as a flag would; -1 with err set for an unknown name or bad value. */
int
config_set(config_t *self, const char *name, const char *value, errbuf_t *err);

/* Writes every setting as YAML ("name: value  # help"), the effective values
 * for --print-config and the file `sluice init` writes. */
void config_print(const config_t *self, FILE *out);

/* Looks a setting name up for flags: true when `name` is a setting. */
int config_has(const char *name);

#endif
