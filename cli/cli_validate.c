/* sluice dag validate FILE... — checks DAG files offline, no scheduler. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dag.h"
#include "common/json.h"
#include "common/xalloc.h"
#include "cli/cli.h"

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice dag validate [--json] FILE...\n"
            "\n"
            "Checks DAG files without a scheduler: YAML syntax, keys, types,\n"
            "durations, task kinds, 'after' references, cycles and\n"
            "templates. Every problem is printed on stderr as\n"
            "  FILE:LINE:COL: what is wrong; what to do\n"
            "and each valid file as 'FILE: ok (DAG 'NAME', N tasks)'.\n"
            "\n"
            "flags:\n"
            "  --json       print a JSON array of {file, ok, dag, tasks,\n"
            "               errors} on stdout instead\n"
            "  --dir DIR    accepted for symmetry with other verbs; unused\n"
            "  --help       this text\n"
            "\n"
            "exit codes: 0 every file is valid, 1 some file is invalid,\n"
            "2 usage error\n");
}

typedef struct {
    const char *path;
    dag_t *dag;      /* owned, NULL when invalid */
    zlist_t *errors; /* owned strings */
} result_t;

static void
s_check(result_t *r, const char *path)
{
    r->path = path;
    r->errors = zlist_new();
    zlist_autofree(r->errors);
    r->dag = dag_parse_file(path, r->errors);
}

static void
s_print_text(result_t *r)
{
    for (char *e = zlist_first(r->errors); e; e = zlist_next(r->errors)) {
        fprintf(stderr, "%s\n", e);
    }
    zlist_t *warnings = r->dag ? dag_warnings(r->dag) : NULL;
    for (char *w = warnings ? zlist_first(warnings) : NULL; w;
         w = zlist_next(warnings)) {
        fprintf(stderr, "%s\n", w);
    }
    if (r->dag) {
        size_t n = dag_task_count(r->dag);
        printf("%s: ok (DAG '%s', %zu task%s)\n", r->path, dag_name(r->dag), n,
               n == 1 ? "" : "s");
    }
}

static void
s_print_json(json_t *json, result_t *r)
{
    json_object_begin(json);
    json_kv_string(json, "file", r->path);
    json_kv_bool(json, "ok", r->dag != NULL);
    json_key(json, "dag");
    json_string(json, r->dag ? dag_name(r->dag) : NULL);
    json_kv_uint(json, "tasks", r->dag ? dag_task_count(r->dag) : 0);
    json_key(json, "errors");
    json_array_begin(json);
    for (char *e = zlist_first(r->errors); e; e = zlist_next(r->errors)) {
        json_string(json, e);
    }
    json_array_end(json);
    json_key(json, "warnings");
    json_array_begin(json);
    zlist_t *warnings = r->dag ? dag_warnings(r->dag) : NULL;
    for (char *w = warnings ? zlist_first(warnings) : NULL; w;
         w = zlist_next(warnings)) {
        json_string(json, w);
    }
    json_array_end(json);
    json_object_end(json);
}

/* Splits flags from file names; returns -1 (usage printed) on a bad flag,
 * 1 after --help. */
static int
s_flags(int argc, char **argv, bool *as_json, char **files, int *nfiles)
{
    bool flags_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (flags_done || a[0] != '-' || !strcmp(a, "-")) {
            files[(*nfiles)++] = argv[i];
        } else if (!strcmp(a, "--")) {
            flags_done = true;
        } else if (!strcmp(a, "--json")) {
            *as_json = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            s_usage(stdout);
            return 1;
        } else if (!strcmp(a, "--dir") && i + 1 < argc) {
            i++;
        } else if (!strncmp(a, "--dir=", 6)) {
            continue;
        } else {
            fprintf(stderr,
                    "sluice dag validate: unknown flag '%s'; see "
                    "'sluice dag validate --help'\n",
                    a);
            return -1;
        }
    }
    if (*nfiles == 0) {
        fprintf(stderr, "sluice dag validate: no files given; name one or "
                        "more DAG files, e.g. 'sluice dag validate "
                        "hello.yaml'\n");
        return -1;
    }
    return 0;
}

int
cli_dag_validate(int argc, char **argv)
{
    bool as_json = false;
    char **files = xcalloc((size_t) argc + 1, sizeof *files);
    int nfiles = 0;
    int rc = s_flags(argc, argv, &as_json, files, &nfiles);
    if (rc != 0) {
        free(files);
        return rc > 0 ? CLI_OK : CLI_USAGE;
    }
    json_t *json = as_json ? json_new(stdout, true) : NULL;
    if (json) {
        json_array_begin(json);
    }
    int exit_code = CLI_OK;
    for (int i = 0; i < nfiles; i++) {
        result_t r;
        s_check(&r, files[i]);
        if (json) {
            s_print_json(json, &r);
        } else {
            s_print_text(&r);
        }
        if (!r.dag) {
            exit_code = CLI_FAIL;
        }
        dag_destroy(&r.dag);
        zlist_destroy(&r.errors);
    }
    if (json) {
        json_array_end(json);
        json_destroy(&json);
    }
    free(files);
    fflush(stdout);
    return exit_code;
}
