/* config — the scheduler's settings: defaults, then the state directory's
 * config.yaml (read with the same YAML parser as DAG files), then flags.
 *
 * Settings are a table (name, type, default, help) so that --print-config,
 * the file and the flags can never disagree. */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/errbuf.h"

/* An alert target from the config's alert_targets (common/config_alerts.c). */
typedef enum {
    CONFIG_TARGET_WEBHOOK, /* POST of the event as JSON */
    CONFIG_TARGET_COMMAND, /* a program reading the event on stdin */
} config_target_kind_t;

typedef struct {
    char *name; /* owned */
    config_target_kind_t kind;
    char *url;           /* webhook: http:// or https://, owned */
    char *secret;        /* webhook: HMAC key, owned; "" = unsigned */
    bool slack;          /* webhook: format: slack posts {"text": ...} */
    char **argv;         /* command: owned, NULL-terminated */
    uint64_t timeout_ms; /* one delivery's limit */
} config_target_t;

typedef struct {
    char *listen;        /* worker socket bind, e.g. tcp://0.0.0.0:7700 */
    char *client_listen; /* client socket bind, "tcp://127.0.0.1:7701" */
    char *
        advertise; /* host:port workers dial (join line); "" = hostname:port of listen */
    uint64_t heartbeat_ms;              /* 1000 */
    uint32_t liveness;                  /* 3 missed heartbeats -> lost */
    uint32_t max_heartbeats_per_second; /* 200: from all workers together */
    uint32_t prefetch;      /* 1: tasks a worker holds beyond free slots */
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
    /* Alerts (common/config_alerts.c). */
    uint32_t alert_rate;         /* deliveries per target per minute */
    uint64_t alert_retry_for_ms; /* 24h: how long a delivery is retried */
    size_t ntargets;
    config_target_t *targets; /* owned array */
    unsigned default_on;      /* ALERT_BIT set of the default route */
    size_t ndefault_to;
    char **default_to;      /* owned target names of that route */
    char *timezone;         /* "UTC": zone of DAGs that name none (IANA name) */
    char *http_listen;      /* "127.0.0.1:7702"; "" = no HTTP server */
    char *http_tls_cert;    /* PEM file; "" = plain HTTP */
    char *http_tls_key;     /* PEM file, with http_tls_cert */
    bool http_open_metrics; /* /metrics and /healthz need no token */
    bool trust_client_key;  /* --trust-client-key: for this start only, never
                              read from config.yaml */
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

/* The alert target called name, or NULL. */
const config_target_t *config_target(const config_t *self, const char *name);

/* Looks a setting name up for flags: true when `name` is a setting. */
int config_has(const char *name);

#endif
