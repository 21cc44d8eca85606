#include "common/config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/config_alerts.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "common/yamldoc.h"

/* config.yaml is a handful of lines; anything near this is not ours. */
#define CONFIG_MAX_FILE_SIZE (64 * 1024)

typedef enum {
    SET_STRING,   /* char * */
    SET_DURATION, /* uint64_t ms: "1500", "1500ms", "2s" */
    SET_COUNT,    /* uint32_t */
    SET_BYTES,    /* uint64_t: "1048576", "64K", "1M", "1G" */
    SET_LEVEL,    /* char *, one of error|warn|info|debug */
    SET_SYNC,     /* char *, full or normal */
    SET_BOOL,     /* bool: true or false */
} set_type_t;

typedef struct {
    const char *name;
    set_type_t type;
    size_t offset;     /* of the field in config_t */
    const char *value; /* default, as text */
    const char *help;
} setting_t;

/* The one list of settings: defaults, file, flags and --print-config all
 * read it. */
static const setting_t s_settings[] = {
    {"listen", SET_STRING, offsetof(config_t, listen), "tcp://*:7700",
     "worker socket bind endpoint"},
    {"client_listen", SET_STRING, offsetof(config_t, client_listen),
     "tcp://127.0.0.1:7701", "client socket bind endpoint"},
    {"advertise", SET_STRING, offsetof(config_t, advertise), "",
     "host:port workers dial; empty = this host and the listen port"},
    {"heartbeat_ms", SET_DURATION, offsetof(config_t, heartbeat_ms), "1000",
     "heartbeat interval, ms (or 2s)"},
    {"liveness", SET_COUNT, offsetof(config_t, liveness), "3",
     "missed heartbeats before a worker is lost"},
    {"max_heartbeats_per_second", SET_COUNT,
     offsetof(config_t, max_heartbeats_per_second), "200",
     "heartbeats all workers together may send; a bigger fleet is told to "
     "beat less often than heartbeat_ms (1,000 workers: every 5 s), and a "
     "lost worker is noticed that much later"},
    {"prefetch", SET_COUNT, offsetof(config_t, prefetch), "1",
     "tasks a worker may hold beyond its free slots, so a finishing slot "
     "finds its next task there (at most what the worker offers; 0 = off)"},
    {"task_ttl_ms", SET_DURATION, offsetof(config_t, task_ttl_ms), "60000",
     "how long a task message stays valid, ms"},
    {"kill_grace_ms", SET_DURATION, offsetof(config_t, kill_grace_ms), "5000",
     "time between SIGTERM and SIGKILL, ms"},
    {"log_cap_bytes", SET_BYTES, offsetof(config_t, log_cap_bytes), "1048576",
     "log bytes kept per attempt (or 64K, 1M)"},
    {"log_level", SET_LEVEL, offsetof(config_t, log_level), "info",
     "error, warn, info or debug"},
    {"store_sync", SET_SYNC, offsetof(config_t, store_sync), "full",
     "full: every commit reaches the disk (survives power loss); normal: "
     "survives a crash of the scheduler, not of the machine, and is faster"},
    {"autoscale_provider", SET_STRING, offsetof(config_t, autoscale_provider),
     "none", "autoscaler: none, local, command or slurm"},
    {"autoscale_command", SET_STRING, offsetof(config_t, autoscale_command), "",
     "command provider: program run as PROGRAM up|down|list"},
    {"autoscale_partition", SET_STRING, offsetof(config_t, autoscale_partition),
     "", "slurm provider: partition (empty = the default one)"},
    {"autoscale_sluice", SET_STRING, offsetof(config_t, autoscale_sluice), "",
     "local provider: sluice executable; empty = this one"},
    {"min_workers", SET_COUNT, offsetof(config_t, min_workers), "0",
     "autoscaler: workers kept even when idle"},
    {"max_workers", SET_COUNT, offsetof(config_t, max_workers), "4",
     "autoscaler: most workers launched at once"},
    {"worker_shapes", SET_STRING, offsetof(config_t, worker_shapes),
     "small:slots=2",
     "autoscaler: NAME:cpus=2,memory=4G,gpus=0,slots=2,labels=a|b; NAME2:..."},
    {"scale_up_delay", SET_DURATION, offsetof(config_t, scale_up_delay_ms),
     "2s", "autoscaler: how long tasks wait before capacity is added"},
    {"idle_timeout", SET_DURATION, offsetof(config_t, idle_timeout_ms), "30s",
     "autoscaler: idle time before a launched worker is drained"},
    {"cooldown", SET_DURATION, offsetof(config_t, cooldown_ms), "5s",
     "autoscaler: least time between two scale decisions"},
    {"launch_timeout", SET_DURATION, offsetof(config_t, launch_timeout_ms),
     "60s", "autoscaler: time a launched worker has to join"},
    {"max_launch_per_step", SET_COUNT, offsetof(config_t, max_launch_per_step),
     "4", "autoscaler: most workers launched in one step"},
    {"alert_rate", SET_COUNT, offsetof(config_t, alert_rate), "20",
     "alerts: most deliveries per target per minute; the rest wait"},
    {"alert_retry_for", SET_DURATION, offsetof(config_t, alert_retry_for_ms),
     "24h", "alerts: how long a failing delivery is retried"},
    {"timezone", SET_STRING, offsetof(config_t, timezone), "UTC",
     "time zone (IANA name) of DAG schedules that name none"},
    {"http_listen", SET_STRING, offsetof(config_t, http_listen),
     "127.0.0.1:7702",
     "HTTP API, web UI and /metrics: HOST:PORT to listen on; empty = off"},
    {"http_tls_cert", SET_STRING, offsetof(config_t, http_tls_cert), "",
     "HTTP over TLS: PEM certificate file (with http_tls_key); empty = plain"},
    {"http_tls_key", SET_STRING, offsetof(config_t, http_tls_key), "",
     "HTTP over TLS: PEM private key file"},
    {"http_open_metrics", SET_BOOL, offsetof(config_t, http_open_metrics),
     "true", "serve /metrics and /healthz without a token (for scrapers)"},
};

#define SETTING_COUNT (sizeof s_settings / sizeof s_settings[0])

static const setting_t *
s_find(const char *name)
{
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        if (!strcmp(s_settings[i].name, name)) {
            return &s_settings[i];
        }
    }
    return NULL;
}

static int
s_parse_bytes(const char *text, uint64_t *out)
{
    if (!isdigit((unsigned char) *text)) {
        return -1;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long n = strtoull(text, &end, 10);
    uint64_t mult = 1;
    switch (*end) {
        case 'K':
        case 'k':
            mult = 1024;
            break;
        case 'M':
        case 'm':
            mult = 1024 * 1024;
            break;
        case 'G':
        case 'g':
            mult = 1024ULL * 1024 * 1024;
            break;
        case '\0':
            break;
        default:
            return -1;
    }
    if (*end) {
        end++;
        if (*end == 'i' || *end == 'B') {
            end++;
        }
    }
    if (errno || *end || n > UINT64_MAX / mult) {
        return -1;
    }
    *out = n * mult;
    return 0;
}

static const char *const s_type_hint[] = {
    [SET_STRING] = "a string",
    [SET_DURATION] = "a duration like 1500, 1500ms or 2s",
    [SET_COUNT] = "a whole number",
    [SET_BYTES] = "a size like 1048576, 64K or 1M",
    [SET_LEVEL] = "one of error, warn, info, debug",
    [SET_SYNC] = "full or normal",
    [SET_BOOL] = "true or false",
};

static int
s_apply(config_t *self, const setting_t *s, const char *value)
{
    void *field = (char *) self + s->offset;
    uint64_t n = 0;
    switch (s->type) {
        case SET_LEVEL: {
            log_level_t level;
            if (log_level_parse(value, &level) != 0) {
                return -1;
            }
        } /* fall through */
        case SET_SYNC:
            if (s->type == SET_SYNC && strcmp(value, "full") != 0 &&
                strcmp(value, "normal") != 0) {
                return -1;
            }
        /* fall through */
        case SET_STRING:
            free(*(char **) field);
            *(char **) field = xstrdup(value);
            return 0;
        case SET_DURATION:
            if (duration_parse(value, &n) != 0) {
                return -1;
            }
            *(uint64_t *) field = n;
            return 0;
        case SET_COUNT:
            if (!*value || strlen(value) > 10 ||
                strspn(value, "0123456789") != strlen(value)) {
                return -1;
            }
            n = strtoull(value, NULL, 10);
            if (n > UINT32_MAX) {
                return -1;
            }
            *(uint32_t *) field = (uint32_t) n;
            return 0;
        case SET_BYTES:
            if (s_parse_bytes(value, &n) != 0) {
                return -1;
            }
            *(uint64_t *) field = n;
            return 0;
        case SET_BOOL:
            if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
                return -1;
            }
            *(bool *) field = value[0] == 't';
            return 0;
    }
    return -1;
}

config_t *
config_new(void)
{
    config_t *self = xcalloc(1, sizeof *self);
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        int rc = s_apply(self, &s_settings[i], s_settings[i].value);
        assert(rc == 0); /* the defaults table is ours */
    }
    return self;
}

int
config_set(config_t *self, const char *name, const char *value, errbuf_t *err)
{
    assert(self);
    const setting_t *s = s_find(name);
    if (!s) {
        const char *names[SETTING_COUNT];
        for (size_t i = 0; i < SETTING_COUNT; i++) {
            names[i] = s_settings[i].name;
        }
        const char *hint = yamldoc_suggest(name, names, SETTING_COUNT);
        if (hint) {
            errbuf_set(err, "unknown setting '%s'; did you mean '%s'?", name,
                       hint);
        } else {
            errbuf_set(err,
                       "unknown setting '%s'; see --print-config for "
                       "the list",
                       name);
        }
        return -1;
    }
    if (!value || s_apply(self, s, value) != 0) {
        errbuf_set(err, "bad value '%s' for '%s'; write %s", value ? value : "",
                   name, s_type_hint[s->type]);
        return -1;
    }
    return 0;
}

/* Applies one file entry; err gets "PATH:L:C: ..." on failure. */
static int
s_load_entry(config_t *self,
             const char *path,
             const yamldoc_node_t *key,
             const yamldoc_node_t *val,
             errbuf_t *err)
{
    if (key->type != YAMLDOC_SCALAR) {
        errbuf_set(err,
                   "%s:%zu:%zu: keys must be setting names; write "
                   "'name: value'",
                   path, key->line, key->col);
        return -1;
    }
    if (config_alerts_has(key->value)) {
        return config_alerts_load(self, path, key, val, err);
    }
    if (val->type != YAMLDOC_SCALAR) {
        errbuf_set(err,
                   "%s:%zu:%zu: '%s' must be a single value, not %s; "
                   "write '%s: VALUE'",
                   path, val->line, val->col, key->value,
                   yamldoc_type_name(val), key->value);
        return -1;
    }
    const yamldoc_node_t *at = config_has(key->value) ? val : key;
    if (config_set(self, key->value, val->value, err) != 0) {
        errbuf_prefix(err, "%s:%zu:%zu", path, at->line, at->col);
        return -1;
    }
    return 0;
}

/* Reads the whole file, bounded; 1 when it does not exist. */
static int
s_read(const char *path, char **text, size_t *len, errbuf_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) {
            return 1;
        }
        errbuf_set(err,
                   "%s: cannot read the config file (%s); check its "
                   "permissions",
                   path, strerror(errno));
        return -1;
    }
    *text = xmalloc(CONFIG_MAX_FILE_SIZE + 1);
    *len = fread(*text, 1, CONFIG_MAX_FILE_SIZE + 1, f);
    fclose(f);
    if (*len > CONFIG_MAX_FILE_SIZE) {
        errbuf_set(err,
                   "%s: the config file is over %d bytes; it should "
                   "hold a few settings only",
                   path, CONFIG_MAX_FILE_SIZE);
        xfree(text);
        return -1;
    }
    return 0;
}

config_t *
config_load(const char *path, errbuf_t *err)
{
    config_t *self = config_new();
    char *text = NULL;
    size_t len = 0;
    int rc = s_read(path, &text, &len, err);
    if (rc != 0) {
        if (rc < 0) {
            config_destroy(&self);
        }
        return self;
    }
    yamldoc_node_t *root = NULL;
    size_t line, col;
    if (yamldoc_parse(text, len, 8, &root, &line, &col, err) != 0) {
        errbuf_prefix(err, "%s:%zu:%zu", path, line, col);
        rc = -1;
    } else if (root && root->type != YAMLDOC_MAP) {
        errbuf_set(err,
                   "%s:%zu:%zu: the config file must be 'name: value' "
                   "lines, not %s; see --print-config",
                   path, root->line, root->col, yamldoc_type_name(root));
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && root && i < root->count; i++) {
        rc = s_load_entry(self, path, root->items[2 * i],
                          root->items[2 * i + 1], err);
    }
    if (rc == 0) {
        rc = config_alerts_check(self, path, err);
    }
    yamldoc_destroy(&root);
    free(text);
    if (rc != 0) {
        config_destroy(&self);
    }
    return self;
}

void
config_destroy(config_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    config_t *self = *self_p;
    config_alerts_clear(self);
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        if (s_settings[i].type == SET_STRING ||
            s_settings[i].type == SET_LEVEL || s_settings[i].type == SET_SYNC) {
            free(*(char **) ((char *) self + s_settings[i].offset));
        }
    }
    free(self);
    *self_p = NULL;
}

/* Strings are double-quoted so that endpoints and "" read back as is. */
static void
s_print_string(const char *value, FILE *out)
{
    fputc('"', out);
    for (const char *c = value; *c; c++) {
        if (*c == '"' || *c == '\\') {
            fputc('\\', out);
        }
        fputc(*c, out);
    }
    fputc('"', out);
}

void
config_print(const config_t *self, FILE *out)
{
    assert(self);
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        const setting_t *s = &s_settings[i];
        const void *field = (const char *) self + s->offset;
        fprintf(out, "%s: ", s->name);
        if (s->type == SET_STRING || s->type == SET_LEVEL ||
            s->type == SET_SYNC) {
            s_print_string(*(char *const *) field, out);
        } else if (s->type == SET_COUNT) {
            fprintf(out, "%u", *(const uint32_t *) field);
        } else if (s->type == SET_BOOL) {
            fprintf(out, "%s", *(const bool *) field ? "true" : "false");
        } else {
            fprintf(out, "%llu",
                    (unsigned long long) *(const uint64_t *) field);
        }
        fprintf(out, "  # %s\n", s->help);
    }
    config_alerts_print(self, out);
}

int
config_has(const char *name)
{
    return name && s_find(name) != NULL;
}
