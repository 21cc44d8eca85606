/* sluice init, sluice join-line: create a state directory, print the line
 * workers join with. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/curve.h"
#include "common/join.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/statedir.h"
#include "common/xalloc.h"
#include "cli/cli.h"

/* What init made, for the report. */
typedef struct {
    char *dir;                     /* owned */
    config_t *config;              /* owned: the effective settings */
    uint8_t pub[KEYS_PUBLIC_SIZE]; /* the scheduler's public key */
    uint8_t curve[CURVE_KEY_SIZE]; /* its CURVE transport key */
    char *join;                    /* owned: "sluice://HOST:PORT/HEX" */
} s_init_t;

/* Applies --listen, --client-listen, --advertise and --http-listen to the
 * config. */
static int
s_init_config(s_init_t *init, const args_t *args, errbuf_t *err)
{
    static const char *const flags[][2] = {
        {"listen", "listen"},
        {"client-listen", "client_listen"},
        {"advertise", "advertise"},
        {"http-listen", "http_listen"},
    };
    init->config = config_new();
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        const char *value = args_string(args, flags[i][0]);
        if (value && config_set(init->config, flags[i][1], value, err) < 0) {
            errbuf_prefix(err, "--%s", flags[i][0]);
            return -1;
        }
    }
    return 0;
}

/* Generates a key pair into DIR/key_name and DIR/pub_name. */
static int
s_init_key(const char *dir,
           const char *key_name,
           const char *pub_name,
           uint8_t *pub_out,
           errbuf_t *err)
{
    char *key_path = statedir_path(dir, key_name);
    char *pub_path = statedir_path(dir, pub_name);
    keys_t *key = keys_generate();
    int rc = keys_save(key, key_path, pub_path, err);
    if (rc == 0 && pub_out) {
        memcpy(pub_out, keys_public(key), KEYS_PUBLIC_SIZE);
    }
    keys_destroy(&key);
    free(key_path);
    free(pub_path);
    return rc;
}

/* The scheduler's CURVE transport key, DIR/scheduler.curve(.pub). */
static int
s_init_curve(s_init_t *init, errbuf_t *err)
{
    curve_t *curve =
        curve_ensure(init->dir, STATEDIR_SCHEDULER_CURVE, NULL, err);
    if (!curve) {
        return -1;
    }
    memcpy(init->curve, curve_public(curve), CURVE_KEY_SIZE);
    curve_destroy(&curve);
    return 0;
}

/* Writes DIR/config.yaml, readable by the owner only. */
static int
s_init_write_config(const s_init_t *init, errbuf_t *err)
{
    char *path = statedir_path(init->dir, STATEDIR_CONFIG);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *out = fd < 0 ? NULL : fdopen(fd, "w");
    int rc = -1;
    if (!out) {
        errbuf_set(err,
                   "cannot write '%s': %m; check the folder's owner and "
                   "permissions",
                   path);
        if (fd >= 0) {
            close(fd);
        }
    } else {
        fchmod(fd, 0600);
        config_print(init->config, out);
        rc = fclose(out) == 0 ? 0 : -1;
        if (rc < 0) {
            errbuf_set(err, "cannot write '%s': %m", path);
        }
    }
    free(path);
    return rc;
}

static int
s_init_create(s_init_t *init, errbuf_t *err)
{
    char *key_path = statedir_path(init->dir, STATEDIR_SCHEDULER_KEY);
    int exists = statedir_exists(key_path);
    free(key_path);
    if (exists) {
        errbuf_set(err,
                   "'%s' already holds a scheduler key; refusing to "
                   "overwrite it; run 'sluice join-line --dir %s' to see its "
                   "join line, or pick another --dir for a new scheduler",
                   init->dir, init->dir);
        return -1;
    }
    unsigned fixed = 0;
    if (statedir_create_private(init->dir, &fixed, err) < 0) {
        return -1;
    }
    if (fixed) {
        fprintf(stderr,
                "sluice init: '%s' was mode %03o, open to group or others; "
                "made it 0700\n",
                init->dir, fixed);
    }
    if (s_init_key(init->dir, STATEDIR_SCHEDULER_KEY, STATEDIR_SCHEDULER_PUB,
                   init->pub, err) < 0 ||
        s_init_key(init->dir, STATEDIR_CLIENT_KEY, STATEDIR_CLIENT_PUB, NULL,
                   err) < 0 ||
        s_init_curve(init, err) < 0 || s_init_write_config(init, err) < 0) {
        return -1;
    }
    char *host_port =
        join_advertised(init->config->listen, init->config->advertise);
    init->join = join_format(host_port, init->pub, init->curve);
    free(host_port);
    return 0;
}

static void
s_init_report_json(const s_init_t *init)
{
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(init->pub, fp);
    char *command = xasprintf("sluice worker --join %s", init->join);
    json_t *json = json_new(stdout, true);
    json_object_begin(json);
    json_kv_string(json, "dir", init->dir);
    json_kv_string(json, "listen", init->config->listen);
    json_kv_string(json, "client_listen", init->config->client_listen);
    json_kv_string(json, "advertise", init->config->advertise);
    json_kv_string(json, "scheduler_fingerprint", fp);
    json_key(json, "created");
    json_array_begin(json);
    const char *const files[] = {
        STATEDIR_SCHEDULER_KEY,   STATEDIR_SCHEDULER_PUB,
        STATEDIR_SCHEDULER_CURVE, STATEDIR_SCHEDULER_CURVE ".pub",
        STATEDIR_CLIENT_KEY,      STATEDIR_CLIENT_PUB,
        STATEDIR_CONFIG};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *path = statedir_path(init->dir, files[i]);
        json_string(json, path);
        free(path);
    }
    json_array_end(json);
    json_kv_string(json, "join", init->join);
    json_kv_string(json, "join_command", command);
    json_object_end(json);
    json_destroy(&json);
    free(command);
}

static void
s_init_report(const s_init_t *init)
{
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(init->pub, fp);
    printf("created sluice state in '%s':\n", init->dir);
    printf("  %-14s %s/%s (fingerprint %s)\n", "scheduler key", init->dir,
           STATEDIR_SCHEDULER_KEY, fp);
    printf("  %-14s %s/%s\n", "transport key", init->dir,
           STATEDIR_SCHEDULER_CURVE);
    printf("  %-14s %s/%s\n", "client key", init->dir, STATEDIR_CLIENT_KEY);
    printf("  %-14s %s/%s (workers on %s, clients on %s)\n", "config",
           init->dir, STATEDIR_CONFIG, init->config->listen,
           init->config->client_listen);
    printf("\nstart the scheduler:  sluice scheduler --dir %s\n", init->dir);
    printf("then on each worker machine run:\n");
    printf("sluice worker --join %s\n", init->join);
}

static const args_flag_t s_init_flags[] = {
    {"listen", 0, ARGS_STRING, "EP",
     "where workers connect (default tcp://*:7700)"},
    {"client-listen", 0, ARGS_STRING, "EP",
     "where the CLI connects (default tcp://127.0.0.1:7701)"},
    {"advertise", 0, ARGS_STRING, "HOST:PORT",
     "the address workers dial, put in the join line"},
    {"http-listen", 0, ARGS_STRING, "HOST:PORT",
     "the HTTP API and web UI (default 127.0.0.1:7702; \"\" = off)"},
    {NULL, 0, 0, NULL, NULL},
};

static const args_spec_t s_init_spec = {
    .usage = "sluice init [--dir DIR] [--listen EP] [--client-listen EP] "
             "[--advertise HOST:PORT] [--http-listen HOST:PORT]",
    .summary = "create a state directory with the scheduler's keys and config, "
               "and print the line workers join with",
    .flags = s_init_flags,
    .min_args = 0,
    .max_args = 0,
};

int
cli_init(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_init_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    s_init_t init = {.dir = statedir_resolve(args_dir(args))};
    errbuf_t err;
    errbuf_clear(&err);
    if (s_init_config(&init, args, &err) < 0) {
        fprintf(stderr, "sluice: %s\n", errbuf_msg(&err));
        rc = CLI_USAGE;
    } else if (s_init_create(&init, &err) < 0) {
        fprintf(stderr, "sluice: %s\n", errbuf_msg(&err));
        rc = CLI_FAIL;
    } else if (args_json(args)) {
        s_init_report_json(&init);
    } else {
        s_init_report(&init);
    }
    free(init.join);
    config_destroy(&init.config);
    free(init.dir);
    args_destroy(&args);
    return rc;
}

/* The join line of the scheduler whose state is in dir; NULL with err. */
static char *
s_join_line(const char *dir, errbuf_t *err)
{
    char *pub_path = statedir_path(dir, STATEDIR_SCHEDULER_PUB);
    char *cfg_path = statedir_path(dir, STATEDIR_CONFIG);
    char *curve_path = statedir_path(dir, STATEDIR_SCHEDULER_CURVE ".pub");
    uint8_t pub[KEYS_PUBLIC_SIZE];
    uint8_t curve[CURVE_KEY_SIZE];
    config_t *config = NULL;
    char *line = NULL;
    if (!statedir_exists(pub_path)) {
        errbuf_set(err,
                   "no sluice state in '%s'; run 'sluice init --dir %s' "
                   "first (or set SLUICE_DIR)",
                   dir, dir);
    } else if (!statedir_exists(curve_path)) {
        errbuf_set(err,
                   "'%s' has no transport key yet; start the scheduler once "
                   "(it creates %s) and run 'sluice join-line' again",
                   dir, STATEDIR_SCHEDULER_CURVE);
    } else if (keys_load_public(pub_path, pub, err) == 0 &&
               curve_load_public(curve_path, curve, err) == 0 &&
               (config = config_load(cfg_path, err)) != NULL) {
        char *host_port = join_advertised(config->listen, config->advertise);
        line = join_format(host_port, pub, curve);
        free(host_port);
    }
    config_destroy(&config);
    free(pub_path);
    free(cfg_path);
    free(curve_path);
    return line;
}

static const args_spec_t s_join_line_spec = {
    .usage = "sluice join-line [--dir DIR]",
    .summary = "print the command that joins a worker to this scheduler",
    .flags = NULL,
    .min_args = 0,
    .max_args = 0,
};

int
cli_join_line(int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(&s_join_line_spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    char *dir = statedir_resolve(args_dir(args));
    errbuf_t err;
    errbuf_clear(&err);
    char *line = s_join_line(dir, &err);
    if (!line) {
        fprintf(stderr, "sluice: %s\n", errbuf_msg(&err));
        rc = CLI_FAIL;
    } else if (args_json(args)) {
        char *command = xasprintf("sluice worker --join %s", line);
        json_t *json = json_new(stdout, true);
        json_object_begin(json);
        json_kv_string(json, "join", line);
        json_kv_string(json, "join_command", command);
        json_object_end(json);
        json_destroy(&json);
        free(command);
    } else {
        printf("sluice worker --join %s\n", line);
    }
    free(line);
    free(dir);
    args_destroy(&args);
    return rc;
}
