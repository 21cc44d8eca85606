#include "common/args.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

/* The value of one verb flag. */
typedef struct {
    bool set;          /* given at least once */
    const char *text;  /* ARGS_STRING: borrowed from argv */
    uint64_t number;   /* ARGS_UINT */
    const char **list; /* ARGS_LIST: owned array of borrowed strings */
    size_t count;      /* ARGS_LIST: entries in list */
} s_value_t;

struct args_t {
    const args_spec_t *spec; /* borrowed */
    const char *verb;        /* argv[0], borrowed */
    size_t nflags;           /* verb flags in spec */
    s_value_t *values;       /* owned: one per verb flag */
    const char *dir;         /* --dir, borrowed */
    bool json;               /* --json */
    bool help;               /* --help */
    const char **args;       /* owned array of borrowed positionals */
    int nargs;
};

static const args_flag_t s_common_flags[] = {
    {"dir", 0, ARGS_STRING, "DIR",
     "state directory (default: $SLUICE_DIR, else ./.sluice)"},
    {"json", 0, ARGS_BOOL, NULL, "print one JSON document instead of text"},
    {"help", 'h', ARGS_BOOL, NULL, "show this help"},
    {NULL, 0, 0, NULL, NULL},
};

static void
s_print_flag(const args_flag_t *flag, FILE *out)
{
    char left[64];
    const char *sep = flag->metavar ? " " : "";
    const char *meta = flag->metavar ? flag->metavar : "";
    if (flag->shorthand) {
        snprintf(left, sizeof left, "-%c, --%s%s%s", flag->shorthand,
                 flag->name, sep, meta);
    } else {
        snprintf(left, sizeof left, "    --%s%s%s", flag->name, sep, meta);
    }
    fprintf(out, "  %-26s %s%s\n", left, flag->help,
            flag->kind == ARGS_LIST ? " (repeatable)" : "");
}

static void
s_print_help(const args_spec_t *spec, FILE *out)
{
    fprintf(out, "usage: %s\n\n%s\n\nflags:\n", spec->usage, spec->summary);
    for (const args_flag_t *f = spec->flags; f && f->name; f++) {
        s_print_flag(f, out);
    }
    for (const args_flag_t *f = s_common_flags; f->name; f++) {
        s_print_flag(f, out);
    }
    fprintf(out,
            "\nexit codes:\n"
            "  %d  done (trigger --wait: the run succeeded)\n"
            "  %d  what was asked about failed (a run, a DAG file)\n"
            "  %d  bad flags or arguments\n"
            "  %d  no scheduler answered\n"
            "  %d  the scheduler refused or reported an error, or the state "
            "directory cannot be used\n",
            ARGS_EXIT_OK, ARGS_EXIT_FAIL, ARGS_EXIT_USAGE,
            ARGS_EXIT_UNREACHABLE, ARGS_EXIT_ERROR);
}

/* Finds the verb flag for "--name" / "-c"; -1 when it is not one. */
static long
s_find_flag(const args_spec_t *spec,
            const char *name,
            size_t len,
            char shorthand)
{
    for (size_t i = 0; spec->flags && spec->flags[i].name; i++) {
        const args_flag_t *f = &spec->flags[i];
        if (shorthand ? f->shorthand == shorthand
                      : (strlen(f->name) == len &&
                         strncmp(f->name, name, len) == 0)) {
            return (long) i;
        }
    }
    return -1;
}

static int s_usage_error(const args_spec_t *spec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "sluice: WHAT; usage: ..." and returns -1. */
static int
s_usage_error(const args_spec_t *spec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sluice: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; usage: %s (see --help)\n", spec->usage);
    return -1;
}

/* Stores one flag value; -1 (after printing) when it is malformed. */
static int
s_store(args_t *self,
        const args_flag_t *flag,
        s_value_t *value,
        const char *text)
{
    value->set = true;
    if (flag->kind == ARGS_STRING) {
        value->text = text;
    } else if (flag->kind == ARGS_LIST) {
        value->list =
            xrealloc(value->list, (value->count + 1) * sizeof *value->list);
        value->list[value->count++] = text;
    } else if (flag->kind == ARGS_UINT) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(text, &end, 10);
        if (errno || end == text || *end || text[0] == '-') {
            return s_usage_error(self->spec, "--%s '%s' is not a whole number",
                                 flag->name, text);
        }
        value->number = n;
    }
    return 0;
}

/* Handles one flag at argv[*i]; advances *i past its value. */
static int
s_flag(args_t *self, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    bool is_long = arg[1] == '-';
    const char *name = arg + (is_long ? 2 : 1);
    const char *eq = is_long ? strchr(name, '=') : NULL;
    size_t len = eq ? (size_t) (eq - name) : strlen(name);
    char shorthand = (!is_long && len == 1) ? name[0] : 0;
    if (!is_long && !shorthand) {
        return s_usage_error(self->spec, "unknown flag '%s'", arg);
    }
    const args_flag_t *flag;
    s_value_t *value;
    s_value_t common = {0};
    long idx = s_find_flag(self->spec, name, len, shorthand);
    if (idx >= 0) {
        flag = &self->spec->flags[idx];
        value = &self->values[idx];
    } else {
        args_spec_t common_spec = {.flags = s_common_flags};
        idx = s_find_flag(&common_spec, name, len, shorthand);
        if (idx < 0) {
            return s_usage_error(self->spec, "unknown flag '%s'", arg);
        }
        flag = &s_common_flags[idx];
        value = &common;
    }
    const char *text = NULL;
    if (flag->kind != ARGS_BOOL) {
        if (eq) {
            text = eq + 1;
        } else if (*i + 1 < argc) {
            text = argv[++*i];
        } else {
            return s_usage_error(self->spec, "flag '%s' needs a value", arg);
        }
    } else if (eq) {
        return s_usage_error(self->spec, "flag '%s' takes no value", arg);
    }
    if (s_store(self, flag, value, text) < 0) {
        return -1;
    }
    if (value == &common) {
        self->dir = strcmp(flag->name, "dir") == 0 ? text : self->dir;
        self->json |= strcmp(flag->name, "json") == 0;
        self->help |= strcmp(flag->name, "help") == 0;
    }
    return 0;
}

static int
s_parse_all(args_t *self, int argc, char **argv)
{
    bool only_args = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_args && strcmp(arg, "--") == 0) {
            only_args = true;
        } else if (!only_args && arg[0] == '-' && arg[1] != '\0') {
            if (s_flag(self, argc, argv, &i) < 0) {
                return -1;
            }
        } else {
            self->args[self->nargs++] = arg;
        }
    }
    return 0;
}

args_t *
args_parse(const args_spec_t *spec, int argc, char **argv, int *exit_code)
{
    args_t *self = xcalloc(1, sizeof *self);
    self->spec = spec;
    self->verb = argv[0];
    while (spec->flags && spec->flags[self->nflags].name) {
        self->nflags++;
    }
    self->values = xcalloc(self->nflags + 1, sizeof *self->values);
    self->args = xcalloc((size_t) argc + 1, sizeof *self->args);
    *exit_code = ARGS_EXIT_USAGE;
    if (s_parse_all(self, argc, argv) < 0) {
        args_destroy(&self);
        return NULL;
    }
    if (self->help) {
        s_print_help(spec, stdout);
        *exit_code = ARGS_EXIT_OK;
        args_destroy(&self);
        return NULL;
    }
    if (self->nargs < spec->min_args ||
        (spec->max_args >= 0 && self->nargs > spec->max_args)) {
        s_usage_error(spec, "%s",
                      self->nargs < spec->min_args ? "missing arguments"
                                                   : "too many arguments");
        args_destroy(&self);
        return NULL;
    }
    *exit_code = ARGS_EXIT_OK;
    return self;
}

void
args_destroy(args_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    args_t *self = *self_p;
    for (size_t i = 0; i < self->nflags; i++) {
        free(self->values[i].list);
    }
    free(self->values);
    free(self->args);
    free(self);
    *self_p = NULL;
}

const char *
args_verb(const args_t *self)
{
    return self->verb;
}

const char *
args_dir(const args_t *self)
{
    return self->dir;
}

bool
args_json(const args_t *self)
{
    return self->json;
}

int
args_count(const args_t *self)
{
    return self->nargs;
}

const char *
args_get(const args_t *self, int index)
{
    assert(index >= 0 && index < self->nargs);
    return self->args[index];
}

/* The value slot of verb flag `name` of kind `kind`; asserts it exists. */
static const s_value_t *
s_value(const args_t *self, const char *name, args_kind_t kind)
{
    long idx = s_find_flag(self->spec, name, strlen(name), 0);
    assert(idx >= 0 && self->spec->flags[idx].kind == kind);
    return &self->values[idx];
}

bool
args_flag(const args_t *self, const char *name)
{
    return s_value(self, name, ARGS_BOOL)->set;
}

const char *
args_string(const args_t *self, const char *name)
{
    return s_value(self, name, ARGS_STRING)->text;
}

uint64_t
args_uint(const args_t *self, const char *name, uint64_t dflt)
{
    const s_value_t *value = s_value(self, name, ARGS_UINT);
    return value->set ? value->number : dflt;
}

const char *const *
args_list(const args_t *self, const char *name, size_t *count)
{
    const s_value_t *value = s_value(self, name, ARGS_LIST);
    *count = value->count;
    return value->list;
}
