#include "cli/cli_util.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <czmq.h>

#include "common/clock.h"
#include "common/xalloc.h"
#include "cli/cli.h"

/* ---------------------------------------------------------------- flags */

/* The value of one verb flag. */
typedef struct {
    bool set;          /* given at least once */
    const char *text;  /* CLI_ARG_STRING: borrowed from argv */
    uint64_t number;   /* CLI_ARG_UINT */
    const char **list; /* CLI_ARG_LIST: owned array of borrowed strings */
    size_t count;      /* CLI_ARG_LIST: entries in list */
} s_value_t;

struct cli_args_t {
    const cli_spec_t *spec; /* borrowed */
    size_t nflags;          /* verb flags in spec */
    s_value_t *values;      /* owned: one per verb flag */
    const char *dir;        /* --dir, borrowed */
    bool json;              /* --json */
    bool help;              /* --help */
    const char **args;      /* owned array of borrowed positionals */
    int nargs;
};

static const cli_flag_t s_common_flags[] = {
    {"dir", 0, CLI_ARG_STRING, "DIR",
     "state directory (default: $SLUICE_DIR, else ./.sluice)"},
    {"json", 0, CLI_ARG_BOOL, NULL, "print one JSON document instead of text"},
    {"help", 'h', CLI_ARG_BOOL, NULL, "show this help"},
    {NULL, 0, 0, NULL, NULL},
};

static void
s_print_flag(const cli_flag_t *flag, FILE *out)
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
            flag->kind == CLI_ARG_LIST ? " (repeatable)" : "");
}

static void
s_print_help(const cli_spec_t *spec, FILE *out)
{
    fprintf(out, "usage: %s\n\n%s\n\nflags:\n", spec->usage, spec->summary);
    for (const cli_flag_t *f = spec->flags; f && f->name; f++) {
        s_print_flag(f, out);
    }
    for (const cli_flag_t *f = s_common_flags; f->name; f++) {
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
            CLI_OK, CLI_FAIL, CLI_USAGE, CLI_UNREACHABLE, CLI_ERROR);
}

/* Finds the verb flag for "--name" / "-c"; -1 when it is not one. */
static long
s_find_flag(const cli_spec_t *spec,
            const char *name,
            size_t len,
            char shorthand)
{
    for (size_t i = 0; spec->flags && spec->flags[i].name; i++) {
        const cli_flag_t *f = &spec->flags[i];
        if (shorthand ? f->shorthand == shorthand
                      : (strlen(f->name) == len &&
                         strncmp(f->name, name, len) == 0)) {
            return (long) i;
        }
    }
    return -1;
}

static int s_usage_error(const cli_spec_t *spec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "sluice: WHAT; usage: ..." and returns -1. */
static int
s_usage_error(const cli_spec_t *spec, const char *fmt, ...)
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
s_store(cli_args_t *self,
        const cli_flag_t *flag,
        s_value_t *value,
        const char *text)
{
    value->set = true;
    if (flag->kind == CLI_ARG_STRING) {
        value->text = text;
    } else if (flag->kind == CLI_ARG_LIST) {
        value->list =
            xrealloc(value->list, (value->count + 1) * sizeof *value->list);
        value->list[value->count++] = text;
    } else if (flag->kind == CLI_ARG_UINT) {
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
s_flag(cli_args_t *self, int argc, char **argv, int *i)
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
    const cli_flag_t *flag;
    s_value_t *value;
    s_value_t common = {0};
    long idx = s_find_flag(self->spec, name, len, shorthand);
    if (idx >= 0) {
        flag = &self->spec->flags[idx];
        value = &self->values[idx];
    } else {
        cli_spec_t common_spec = {.flags = s_common_flags};
        idx = s_find_flag(&common_spec, name, len, shorthand);
        if (idx < 0) {
            return s_usage_error(self->spec, "unknown flag '%s'", arg);
        }
        flag = &s_common_flags[idx];
        value = &common;
    }
    const char *text = NULL;
    if (flag->kind != CLI_ARG_BOOL) {
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
s_parse_all(cli_args_t *self, int argc, char **argv)
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

cli_args_t *
cli_parse(const cli_spec_t *spec, int argc, char **argv, int *exit_code)
{
    cli_args_t *self = xcalloc(1, sizeof *self);
    self->spec = spec;
    while (spec->flags && spec->flags[self->nflags].name) {
        self->nflags++;
    }
    self->values = xcalloc(self->nflags + 1, sizeof *self->values);
    self->args = xcalloc((size_t) argc + 1, sizeof *self->args);
    *exit_code = CLI_USAGE;
    if (s_parse_all(self, argc, argv) < 0) {
        cli_args_destroy(&self);
        return NULL;
    }
    if (self->help) {
        s_print_help(spec, stdout);
        *exit_code = CLI_OK;
        cli_args_destroy(&self);
        return NULL;
    }
    if (self->nargs < spec->min_args ||
        (spec->max_args >= 0 && self->nargs > spec->max_args)) {
        s_usage_error(spec, "%s",
                      self->nargs < spec->min_args ? "missing arguments"
                                                   : "too many arguments");
        cli_args_destroy(&self);
        return NULL;
    }
    *exit_code = CLI_OK;
    return self;
}

void
cli_args_destroy(cli_args_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    cli_args_t *self = *self_p;
    for (size_t i = 0; i < self->nflags; i++) {
        free(self->values[i].list);
    }
    free(self->values);
    free(self->args);
    free(self);
    *self_p = NULL;
}

const char *
cli_args_dir(const cli_args_t *self)
{
    return self->dir;
}

bool
cli_args_json(const cli_args_t *self)
{
    return self->json;
}

int
cli_args_count(const cli_args_t *self)
{
    return self->nargs;
}

const char *
cli_args_get(const cli_args_t *self, int index)
{
    assert(index >= 0 && index < self->nargs);
    return self->args[index];
}

/* The value slot of verb flag `name` of kind `kind`; asserts it exists. */
static const s_value_t *
s_value(const cli_args_t *self, const char *name, cli_arg_kind_t kind)
{
    long idx = s_find_flag(self->spec, name, strlen(name), 0);
    assert(idx >= 0 && self->spec->flags[idx].kind == kind);
    return &self->values[idx];
}

bool
cli_args_flag(const cli_args_t *self, const char *name)
{
    return s_value(self, name, CLI_ARG_BOOL)->set;
}

const char *
cli_args_string(const cli_args_t *self, const char *name)
{
    return s_value(self, name, CLI_ARG_STRING)->text;
}

uint64_t
cli_args_uint(const cli_args_t *self, const char *name, uint64_t dflt)
{
    const s_value_t *value = s_value(self, name, CLI_ARG_UINT);
    return value->set ? value->number : dflt;
}

const char *const *
cli_args_list(const cli_args_t *self, const char *name, size_t *count)
{
    const s_value_t *value = s_value(self, name, CLI_ARG_LIST);
    *count = value->count;
    return value->list;
}

int
cli_parse_id(const char *what, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || n == 0) {
        fprintf(stderr,
                "sluice: %s '%s' is not a number; run 'sluice runs' "
                "to see run ids\n",
                what, text);
        return -1;
    }
    *out = n;
    return 0;
}

/* ---------------------------------------------------------------- calls */

static void
s_group_usage(const char *group,
              const cli_verb_t *verbs,
              size_t n,
              const char *footer,
              FILE *out)
{
    fprintf(out,
            "usage: sluice %s VERB [ARGS]   (sluice %s VERB --help for "
            "details)\n\nverbs:\n",
            group, group);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
    }
    if (footer) {
        fprintf(out, "\n%s\n", footer);
    }
}

int
cli_dispatch(const char *group,
             const cli_verb_t *verbs,
             size_t n,
             const char *footer,
             int argc,
             char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        s_group_usage(group, verbs, n, footer, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(argv[1], verbs[i].name) == 0) {
            return verbs[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "sluice: unknown verb '%s %s'; run 'sluice %s --help'\n",
            group, argv[1], group);
    return CLI_USAGE;
}

Sluice__Request *
cli_request_new(void)
{
    Sluice__Request *req = xmalloc(sizeof *req);
    *req = (Sluice__Request) SLUICE__REQUEST__INIT;
    return req;
}

int
cli_connect(const cli_args_t *args, client_t **client)
{
    errbuf_t err;
    errbuf_clear(&err);
    *client = client_open(cli_args_dir(args), &err);
    if (!*client) {
        fprintf(stderr, "sluice: %s\n", errbuf_msg(&err));
        return CLI_ERROR;
    }
    return CLI_OK;
}

int
cli_call(client_t *client,
         Sluice__Request *req,
         Sluice__Reply__OpCase expect,
         Sluice__Reply **reply)
{
    errbuf_t err;
    errbuf_clear(&err);
    *reply = client_call(client, req, &err);
    if (!*reply) {
        if (client_error(client) != CLIENT_EINTR) {
            fprintf(stderr, "sluice: %s\n", errbuf_msg(&err));
        }
        return client_error(client) == CLIENT_ETIMEOUT ? CLI_UNREACHABLE
                                                       : CLI_ERROR;
    }
    Sluice__Reply *rep = *reply;
    if (rep->op_case == expect) {
        return CLI_OK;
    }
    if (rep->op_case == SLUICE__REPLY__OP_ERROR && rep->error) {
        fprintf(stderr, "sluice: %s\n", rep->error->message);
    } else {
        fprintf(stderr,
                "sluice: the scheduler sent an unexpected reply "
                "(%d for %d); are client and scheduler the same "
                "version?\n",
                (int) rep->op_case, (int) expect);
    }
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    *reply = NULL;
    return CLI_ERROR;
}

int
cli_request(const cli_args_t *args,
            Sluice__Request **req_p,
            Sluice__Reply__OpCase expect,
            Sluice__Reply **reply)
{
    client_t *client = NULL;
    *reply = NULL;
    int rc = cli_connect(args, &client);
    if (rc == CLI_OK) {
        rc = cli_call(client, *req_p, expect, reply);
    }
    client_destroy(&client);
    protobuf_c_message_free_unpacked(&(*req_p)->base, NULL);
    *req_p = NULL;
    return rc;
}

/* ---------------------------------------------------------------- json */

static void s_json_value(json_t *json,
                         const ProtobufCFieldDescriptor *field,
                         const void *member);

static size_t
s_json_elem_size(const ProtobufCFieldDescriptor *field)
{
    switch (field->type) {
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            return sizeof(uint64_t);
        case PROTOBUF_C_TYPE_DOUBLE:
            return sizeof(double);
        case PROTOBUF_C_TYPE_BOOL:
            return sizeof(protobuf_c_boolean);
        case PROTOBUF_C_TYPE_STRING:
        case PROTOBUF_C_TYPE_MESSAGE:
            return sizeof(void *);
        case PROTOBUF_C_TYPE_BYTES:
            return sizeof(ProtobufCBinaryData);
        default: /* 32-bit ints, enums, float */
            return sizeof(uint32_t);
    }
}

static void
s_json_enum(json_t *json, const ProtobufCFieldDescriptor *field, int value)
{
    const ProtobufCEnumValue *ev =
        protobuf_c_enum_descriptor_get_value(field->descriptor, value);
    if (ev) {
        json_string(json, ev->name);
    } else {
        json_int(json, value);
    }
}

/* One scalar, string, bytes or message value stored at member. */
static void
s_json_value(json_t *json,
             const ProtobufCFieldDescriptor *field,
             const void *member)
{
    switch (field->type) {
        case PROTOBUF_C_TYPE_INT32:
        case PROTOBUF_C_TYPE_SINT32:
        case PROTOBUF_C_TYPE_SFIXED32:
            json_int(json, *(const int32_t *) member);
            break;
        case PROTOBUF_C_TYPE_UINT32:
        case PROTOBUF_C_TYPE_FIXED32:
            json_uint(json, *(const uint32_t *) member);
            break;
        case PROTOBUF_C_TYPE_INT64:
        case PROTOBUF_C_TYPE_SINT64:
        case PROTOBUF_C_TYPE_SFIXED64:
            json_int(json, *(const int64_t *) member);
            break;
        case PROTOBUF_C_TYPE_UINT64:
        case PROTOBUF_C_TYPE_FIXED64:
            json_uint(json, *(const uint64_t *) member);
            break;
        case PROTOBUF_C_TYPE_FLOAT:
            json_double(json, *(const float *) member);
            break;
        case PROTOBUF_C_TYPE_DOUBLE:
            json_double(json, *(const double *) member);
            break;
        case PROTOBUF_C_TYPE_BOOL:
            json_bool(json, *(const protobuf_c_boolean *) member);
            break;
        case PROTOBUF_C_TYPE_ENUM:
            s_json_enum(json, field, *(const int *) member);
            break;
        case PROTOBUF_C_TYPE_STRING:
            json_string(json, *(char *const *) member);
            break;
        case PROTOBUF_C_TYPE_BYTES: {
            const ProtobufCBinaryData *bin = member;
            json_string_len(json, (const char *) bin->data, bin->len);
            break;
        }
        case PROTOBUF_C_TYPE_MESSAGE: {
            const ProtobufCMessage *sub = *(ProtobufCMessage *const *) member;
            if (sub) {
                cli_json_message(json, sub);
            } else {
                json_null(json);
            }
            break;
        }
    }
}

void
cli_json_message(json_t *json, const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    const char *base = (const char *) msg;
    json_object_begin(json);
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        const void *member = base + field->offset;
        if ((field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *) (base + field->quantifier_offset) !=
                field->id) {
            continue;
        }
        json_key(json, field->name);
        if (field->label != PROTOBUF_C_LABEL_REPEATED) {
            s_json_value(json, field, member);
            continue;
        }
        size_t count = *(const size_t *) (base + field->quantifier_offset);
        const char *items = *(char *const *) member;
        json_array_begin(json);
        for (size_t k = 0; k < count; k++) {
            s_json_value(json, field, items + k * s_json_elem_size(field));
        }
        json_array_end(json);
    }
    json_object_end(json);
}

void
cli_print_json(const ProtobufCMessage *msg)
{
    json_t *json = json_new(stdout, true);
    cli_json_message(json, msg);
    json_destroy(&json);
}

/* ---------------------------------------------------------------- format */

char *
cli_fmt_time(uint64_t wall_ms, char *buf, size_t size)
{
    if (wall_ms == 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    time_t secs = (time_t) (wall_ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

char *
cli_fmt_span(uint64_t start_ms, uint64_t end_ms, char *buf, size_t size)
{
    if (start_ms == 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    int64_t end = end_ms ? (int64_t) end_ms : clock_wall_ms();
    int64_t ms = end - (int64_t) start_ms;
    return clock_fmt_duration(ms < 0 ? 0 : ms, buf, size);
}

char *
cli_fmt_signal(int sig, char *buf, size_t size)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
        {SIGILL, "SIGILL"},   {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"},
        {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"},
        {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
        {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (names[i].sig == sig) {
            snprintf(buf, size, "%s", names[i].name);
            return buf;
        }
    }
    snprintf(buf, size, "signal %d", sig);
    return buf;
}

/* ---------------------------------------------------------------- table */

struct cli_table_t {
    size_t ncols;  /* columns */
    zlist_t *rows; /* owned char ** rows of ncols owned strings; row 0 is
                      the header */
};

cli_table_t *
cli_table_new(const char *const *headers)
{
    cli_table_t *self = xcalloc(1, sizeof *self);
    while (headers[self->ncols]) {
        self->ncols++;
    }
    self->rows = zlist_new();
    char **row = xcalloc(self->ncols, sizeof *row);
    for (size_t i = 0; i < self->ncols; i++) {
        row[i] = xstrdup(headers[i]);
    }
    zlist_append(self->rows, row);
    return self;
}

void
cli_table_destroy(cli_table_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    cli_table_t *self = *self_p;
    for (char **row = zlist_first(self->rows); row;
         row = zlist_next(self->rows)) {
        for (size_t i = 0; i < self->ncols; i++) {
            free(row[i]);
        }
        free(row);
    }
    zlist_destroy(&self->rows);
    free(self);
    *self_p = NULL;
}

void
cli_table_row(cli_table_t *self, ...)
{
    va_list ap;
    va_start(ap, self);
    char **row = xcalloc(self->ncols, sizeof *row);
    for (size_t i = 0; i < self->ncols; i++) {
        const char *cell = va_arg(ap, const char *);
        row[i] = xstrdup(cell ? cell : "-");
    }
    va_end(ap);
    zlist_append(self->rows, row);
}

/* Columns a UTF-8 string takes on a terminal: one per code point. */
static size_t
s_width(const char *text)
{
    size_t width = 0;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        width += (*p & 0xc0) != 0x80;
    }
    return width;
}

void
cli_table_print(const cli_table_t *self, FILE *out)
{
    size_t *widths = xcalloc(self->ncols, sizeof *widths);
    for (char **row = zlist_first(self->rows); row;
         row = zlist_next(self->rows)) {
        for (size_t i = 0; i < self->ncols; i++) {
            size_t w = s_width(row[i]);
            widths[i] = w > widths[i] ? w : widths[i];
        }
    }
    for (char **row = zlist_first(self->rows); row;
         row = zlist_next(self->rows)) {
        for (size_t i = 0; i < self->ncols; i++) {
            bool last = i + 1 == self->ncols;
            fputs(row[i], out);
            for (size_t pad = s_width(row[i]); !last && pad < widths[i] + 2;
                 pad++) {
                fputc(' ', out);
            }
        }
        fputc('\n', out);
    }
    free(widths);
}
