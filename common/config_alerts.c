#include "common/config_alerts.h"

#include <stdlib.h>
#include <string.h>

#include "common/alert.h"
#include "common/duration.h"
#include "common/xalloc.h"

#define TARGET_TIMEOUT_DEFAULT_MS 10000
#define TARGET_ARGV_MAX           64

bool
config_alerts_has(const char *key)
{
    return key &&
           (!strcmp(key, "alert_targets") || !strcmp(key, "alert_route"));
}

static const yamldoc_node_t *
s_get(const yamldoc_node_t *map, const char *name)
{
    for (size_t i = 0; map && map->type == YAMLDOC_MAP && i < map->count; i++) {
        const yamldoc_node_t *k = map->items[2 * i];
        if (k->type == YAMLDOC_SCALAR && !strcmp(k->value, name)) {
            return map->items[2 * i + 1];
        }
    }
    return NULL;
}

static int
s_fail(errbuf_t *err, const yamldoc_node_t *at, const char *msg)
{
    errbuf_set(err, "%zu:%zu: %s", at->line, at->col, msg);
    return -1;
}

/* A list of scalars, or one scalar as a list of one. */
static int
s_names(const yamldoc_node_t *val,
        size_t max,
        char ***out,
        size_t *n,
        const char *what,
        errbuf_t *err)
{
    if (val->type == YAMLDOC_MAP) {
        errbuf_set(err, "%zu:%zu: %s must be a list of names, like [a, b]",
                   val->line, val->col, what);
        return -1;
    }
    size_t count = val->type == YAMLDOC_SEQ ? val->count : 1;
    if (count == 0 || count > max) {
        errbuf_set(err, "%zu:%zu: %s must name 1 to %zu entries", val->line,
                   val->col, what, max);
        return -1;
    }
    char **list = xcalloc(count + 1, sizeof *list);
    for (size_t i = 0; i < count; i++) {
        const yamldoc_node_t *it =
            val->type == YAMLDOC_SEQ ? val->items[i] : val;
        if (it->type != YAMLDOC_SCALAR || !*it->value) {
            for (size_t k = 0; k < i; k++) {
                free(list[k]);
            }
            free(list);
            errbuf_set(err, "%zu:%zu: each entry of %s must be a name",
                       it->line, it->col, what);
            return -1;
        }
        list[i] = xstrdup(it->value);
    }
    *out = list;
    *n = count;
    return 0;
}

static void
s_free_names(char **list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        free(list[i]);
    }
    free(list);
}

static int
s_route_on(const yamldoc_node_t *val, unsigned *on, errbuf_t *err)
{
    char **names = NULL;
    size_t n = 0;
    if (s_names(val, ALERT_KIND_COUNT, &names, &n, "'on'", err) < 0) {
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        alert_kind_t kind;
        if (alert_kind_parse(names[i], &kind) == 0) {
            *on |= ALERT_BIT(kind);
            continue;
        }
        const char *hint = alert_kind_hint(names[i]);
        const yamldoc_node_t *at =
            val->type == YAMLDOC_SEQ ? val->items[i] : val;
        errbuf_set(err,
                   "%zu:%zu: unknown alert event '%s'%s%s%s; write failure, "
                   "retry, sla_miss, deadline_miss, expect_miss, "
                   "validation_breach, drift or success",
                   at->line, at->col, names[i], hint ? " (did you mean '" : "",
                   hint ? hint : "", hint ? "'?)" : "");
        rc = -1;
    }
    s_free_names(names, n);
    return rc;
}

int
config_alerts_route(const yamldoc_node_t *route,
                    unsigned *on,
                    char ***to,
                    size_t *nto,
                    errbuf_t *err)
{
    *on = 0;
    *to = NULL;
    *nto = 0;
    if (route->type != YAMLDOC_MAP) {
        return s_fail(err, route,
                      "a route must be a mapping; write "
                      "'{on: [failure], to: [TARGET]}'");
    }
    for (size_t i = 0; i < route->count; i++) {
        const yamldoc_node_t *k = route->items[2 * i];
        if (k->type != YAMLDOC_SCALAR ||
            (strcmp(k->value, "on") && strcmp(k->value, "to"))) {
            return s_fail(err, k,
                          "a route has only 'on' (events) and 'to' "
                          "(targets); write '{on: [failure], to: [TARGET]}'");
        }
    }
    const yamldoc_node_t *on_node = s_get(route, "on");
    const yamldoc_node_t *to_node = s_get(route, "to");
    if (!on_node || !to_node) {
        return s_fail(err, route,
                      "a route needs both 'on' and 'to'; write "
                      "'{on: [failure], to: [TARGET]}'");
    }
    if (s_route_on(on_node, on, err) < 0) {
        return -1;
    }
    return s_names(to_node, ALERT_MAX_TARGETS, to, nto, "'to'", err);
}

/* ------------------------------------------------------------- targets */

static void
s_target_clear(config_target_t *t)
{
    free(t->name);
    free(t->url);
    if (t->secret) {
        memset(t->secret, 0, strlen(t->secret));
        free(t->secret);
    }
    for (size_t i = 0; t->argv && t->argv[i]; i++) {
        free(t->argv[i]);
    }
    free(t->argv);
    memset(t, 0, sizeof *t);
}

void
config_alerts_clear(config_t *self)
{
    for (size_t i = 0; i < self->ntargets; i++) {
        s_target_clear(&self->targets[i]);
    }
    free(self->targets);
    self->targets = NULL;
    self->ntargets = 0;
    s_free_names(self->default_to, self->ndefault_to);
    self->default_to = NULL;
    self->ndefault_to = 0;
    self->default_on = 0;
}

static const char *
s_scalar(const yamldoc_node_t *map, const char *name)
{
    const yamldoc_node_t *v = s_get(map, name);
    return v && v->type == YAMLDOC_SCALAR ? v->value : NULL;
}

static int
s_target_webhook(config_target_t *t, const yamldoc_node_t *map, errbuf_t *err)
{
    const char *url = s_scalar(map, "url");
    if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
        return s_fail(err, map,
                      "a webhook target needs 'url: https://HOST/PATH' (or "
                      "http://)");
    }
    const char *format = s_scalar(map, "format");
    if (format && strcmp(format, "json") && strcmp(format, "slack")) {
        return s_fail(err, s_get(map, "format"),
                      "'format' is json (the default) or slack");
    }
    const char *secret = s_scalar(map, "secret");
    t->url = xstrdup(url);
    t->secret = xstrdup(secret ? secret : "");
    t->slack = format && !strcmp(format, "slack");
    return 0;
}

static int
s_target_command(config_target_t *t, const yamldoc_node_t *map, errbuf_t *err)
{
    const yamldoc_node_t *cmd = s_get(map, "command");
    if (!cmd || cmd->type != YAMLDOC_SEQ) {
        return s_fail(err, cmd ? cmd : map,
                      "a command target needs 'command: [PROGRAM, ARG, ...]' "
                      "(run without a shell, the event on its stdin)");
    }
    size_t n = 0;
    return s_names(cmd, TARGET_ARGV_MAX, &t->argv, &n, "'command'", err);
}

static int
s_target(config_target_t *t,
         const yamldoc_node_t *key,
         const yamldoc_node_t *map,
         errbuf_t *err)
{
    if (key->type != YAMLDOC_SCALAR || !*key->value) {
        return s_fail(err, key,
                      "a target needs a name; write 'NAME: {kind: ...}'");
    }
    if (map->type != YAMLDOC_MAP) {
        return s_fail(err, map,
                      "a target must be a mapping; write 'NAME: {kind: "
                      "webhook, url: URL, secret: KEY}'");
    }
    t->name = xstrdup(key->value);
    t->timeout_ms = TARGET_TIMEOUT_DEFAULT_MS;
    const char *timeout = s_scalar(map, "timeout");
    if (timeout &&
        (duration_parse(timeout, &t->timeout_ms) < 0 || t->timeout_ms == 0)) {
        return s_fail(err, s_get(map, "timeout"),
                      "'timeout' must be a duration like 10s");
    }
    const char *kind = s_scalar(map, "kind");
    if (kind && !strcmp(kind, "webhook")) {
        t->kind = CONFIG_TARGET_WEBHOOK;
        return s_target_webhook(t, map, err);
    }
    if (kind && !strcmp(kind, "command")) {
        t->kind = CONFIG_TARGET_COMMAND;
        return s_target_command(t, map, err);
    }
    return s_fail(err, s_get(map, "kind") ? s_get(map, "kind") : map,
                  "a target's 'kind' is webhook or command");
}

static int
s_targets(config_t *self, const yamldoc_node_t *val, errbuf_t *err)
{
    if (val->type != YAMLDOC_MAP) {
        return s_fail(err, val,
                      "'alert_targets' must map names to targets; write "
                      "'alert_targets: {ops: {kind: webhook, url: URL}}'");
    }
    for (size_t i = 0; i < self->ntargets; i++) {
        s_target_clear(&self->targets[i]);
    }
    free(self->targets);
    self->ntargets = 0;
    self->targets = xcalloc(val->count ? val->count : 1, sizeof *self->targets);
    for (size_t i = 0; i < val->count; i++) {
        self->ntargets = i + 1;
        if (s_target(&self->targets[i], val->items[2 * i],
                     val->items[2 * i + 1], err) < 0) {
            return -1;
        }
        for (size_t k = 0; k < i; k++) {
            if (!strcmp(self->targets[k].name, self->targets[i].name)) {
                return s_fail(err, val->items[2 * i],
                              "this target name is used twice");
            }
        }
    }
    return 0;
}

int
config_alerts_load(config_t *self,
                   const char *path,
                   const yamldoc_node_t *key,
                   const yamldoc_node_t *val,
                   errbuf_t *err)
{
    int rc;
    if (!strcmp(key->value, "alert_targets")) {
        rc = s_targets(self, val, err);
    } else {
        s_free_names(self->default_to, self->ndefault_to);
        self->default_to = NULL;
        self->ndefault_to = 0;
        rc = config_alerts_route(val, &self->default_on, &self->default_to,
                                 &self->ndefault_to, err);
    }
    if (rc < 0) {
        char *msg = xstrdup(errbuf_msg(err)); /* "L:C: ..." */
        errbuf_set(err, "%s:%s", path, msg);
        free(msg);
        return -1;
    }
    return 0;
}

int
config_alerts_check(const config_t *self, const char *path, errbuf_t *err)
{
    for (size_t i = 0; i < self->ndefault_to; i++) {
        if (!config_target(self, self->default_to[i])) {
            errbuf_set(err,
                       "%s: 'alert_route' names target '%s', which "
                       "'alert_targets' does not define; add it there or "
                       "fix the name",
                       path, self->default_to[i]);
            return -1;
        }
    }
    return 0;
}

const config_target_t *
config_target(const config_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->ntargets; i++) {
        if (!strcmp(self->targets[i].name, name)) {
            return &self->targets[i];
        }
    }
    return NULL;
}

/* --------------------------------------------------------------- print */

static void
s_print_q(const char *value, FILE *out)
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

static void
s_print_target(const config_target_t *t, FILE *out)
{
    fprintf(out, "  ");
    s_print_q(t->name, out);
    fprintf(out, ":\n    timeout: %llums\n",
            (unsigned long long) t->timeout_ms);
    if (t->kind == CONFIG_TARGET_WEBHOOK) {
        fprintf(out, "    kind: webhook\n    url: ");
        s_print_q(t->url, out);
        fprintf(out, "\n    format: %s\n    secret: \"%s\"\n",
                t->slack ? "slack" : "json", *t->secret ? "***" : "");
        return;
    }
    fprintf(out, "    kind: command\n    command: [");
    for (size_t i = 0; t->argv[i]; i++) {
        fprintf(out, "%s", i ? ", " : "");
        s_print_q(t->argv[i], out);
    }
    fprintf(out, "]\n");
}

void
config_alerts_print(const config_t *self, FILE *out)
{
    if (self->ntargets == 0) {
        fprintf(out, "# alert_targets: none  # name: {kind: webhook, url: "
                     "URL, secret: KEY} or {kind: command, command: [...]}\n");
    } else {
        fprintf(out, "alert_targets:  # secrets are shown as ***\n");
        for (size_t i = 0; i < self->ntargets; i++) {
            s_print_target(&self->targets[i], out);
        }
    }
    if (self->ndefault_to == 0) {
        fprintf(out, "# alert_route: none  # {on: [failure], to: [TARGET]} "
                     "for DAGs without 'alerts'\n");
        return;
    }
    fprintf(out, "alert_route:  # for DAGs without 'alerts'\n  on: [");
    int first = 1;
    for (int k = 0; k < ALERT_KIND_COUNT; k++) {
        if (self->default_on & ALERT_BIT(k)) {
            fprintf(out, "%s%s", first ? "" : ", ",
                    alert_kind_name((alert_kind_t) k));
            first = 0;
        }
    }
    fprintf(out, "]\n  to: [");
    for (size_t i = 0; i < self->ndefault_to; i++) {
        fprintf(out, "%s", i ? ", " : "");
        s_print_q(self->default_to[i], out);
    }
    fprintf(out, "]\n");
}
