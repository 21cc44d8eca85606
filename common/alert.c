#include "common/alert.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/xalloc.h"
#include "common/yamldoc.h"

static const char *const s_kind_names[ALERT_KIND_COUNT] = {
    [ALERT_FAILURE] = "failure",
    [ALERT_RETRY] = "retry",
    [ALERT_SLA_MISS] = "sla_miss",
    [ALERT_DEADLINE_MISS] = "deadline_miss",
    [ALERT_EXPECT_MISS] = "expect_miss",
    [ALERT_VALIDATION_BREACH] = "validation_breach",
    [ALERT_DRIFT] = "drift",
    [ALERT_SUCCESS] = "success",
};

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS   (10 * 60 * 1000)
#define RATE_WINDOW_MS   60000

const char *
alert_kind_name(alert_kind_t kind)
{
    return kind < ALERT_KIND_COUNT ? s_kind_names[kind] : "?";
}

int
alert_kind_parse(const char *name, alert_kind_t *kind)
{
    for (int i = 0; name && i < ALERT_KIND_COUNT; i++) {
        if (!strcmp(name, s_kind_names[i])) {
            *kind = (alert_kind_t) i;
            return 0;
        }
    }
    return -1;
}

const char *
alert_kind_hint(const char *name)
{
    return yamldoc_suggest(name, s_kind_names, ALERT_KIND_COUNT);
}

int64_t
alert_backoff_ms(uint32_t failures)
{
    int64_t delay = BACKOFF_FIRST_MS;
    for (uint32_t i = 1; i < failures && delay < BACKOFF_MAX_MS; i++) {
        delay *= 2;
    }
    return delay < BACKOFF_MAX_MS ? delay : BACKOFF_MAX_MS;
}

/* ---------------------------------------------------------- rate limit */

/* Per target, the send times of the current window, oldest first. */
typedef struct {
    int64_t *sent; /* owned ring of per_minute times */
    uint32_t head; /* index of the oldest */
    uint32_t used;
} window_t;

struct alert_rate_t {
    uint32_t per_minute; /* 0 = no limit */
    zhashx_t *targets;   /* name -> window_t, owned */
};

static void
s_window_free(void **item)
{
    window_t *w = *item;
    if (w) {
        free(w->sent);
        free(w);
    }
    *item = NULL;
}

alert_rate_t *
alert_rate_new(uint32_t per_minute)
{
    alert_rate_t *self = xcalloc(1, sizeof *self);
    self->per_minute = per_minute;
    self->targets = zhashx_new();
    zhashx_set_destructor(self->targets, s_window_free);
    return self;
}

void
alert_rate_destroy(alert_rate_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    zhashx_destroy(&(*self_p)->targets);
    free(*self_p);
    *self_p = NULL;
}

bool
alert_rate_take(alert_rate_t *self,
                const char *target,
                int64_t now,
                int64_t *retry_at)
{
    assert(self && target);
    if (self->per_minute == 0) {
        return true;
    }
    window_t *w = zhashx_lookup(self->targets, target);
    if (!w) {
        w = xcalloc(1, sizeof *w);
        w->sent = xcalloc(self->per_minute, sizeof *w->sent);
        zhashx_insert(self->targets, target, w);
    }
    while (w->used > 0 && w->sent[w->head] + RATE_WINDOW_MS <= now) {
        w->head = (w->head + 1) % self->per_minute;
        w->used--;
    }
    if (w->used == self->per_minute) {
        if (retry_at) {
            *retry_at = w->sent[w->head] + RATE_WINDOW_MS;
        }
        return false;
    }
    w->sent[(w->head + w->used) % self->per_minute] = now;
    w->used++;
    return true;
}

/* ----------------------------------------------------------- signature */

void
alert_sign(const char *key, const void *body, size_t size, char hex[65])
{
    crypto_auth_hmacsha256_state state;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&state, (const uint8_t *) key,
                                key ? strlen(key) : 0);
    crypto_auth_hmacsha256_update(&state, body, size);
    crypto_auth_hmacsha256_final(&state, mac);
    sodium_bin2hex(hex, 65, mac, sizeof mac);
    sodium_memzero(&state, sizeof state);
}

/* --------------------------------------------------------------- event */

const char *
alert_tail_lines(const char *text, size_t size, size_t lines)
{
    if (!text || size == 0) {
        return text ? text + size : "";
    }
    size_t end = size;
    if (text[end - 1] == '\n') {
        end--; /* the last line's own newline */
    }
    size_t seen = 0;
    for (size_t i = end; i > 0; i--) {
        if (text[i - 1] == '\n' && ++seen == lines) {
            return text + i;
        }
    }
    return text;
}

static void
s_log_lines(json_t *j, const char *log)
{
    json_array_begin(j);
    const char *p = log ? log : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t) (nl - p) : strlen(p);
        json_string_len(j, p, len);
        p += len + (nl ? 1 : 0);
    }
    json_array_end(j);
}

static char *
s_more(const alert_event_t *ev)
{
    if (ev->run_id && ev->task && *ev->task) {
        return xasprintf("sluice logs %" PRIu64 " %s --attempt %u", ev->run_id,
                         ev->task, ev->attempt ? ev->attempt : 1);
    }
    if (ev->run_id) {
        return xasprintf("sluice run show %" PRIu64, ev->run_id);
    }
    return xasprintf("sluice runs --dag %s", ev->dag ? ev->dag : "");
}

#define S(x) ((x) ? (x) : "")

char *
alert_event_json(const alert_event_t *ev)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert(out);
    json_t *j = json_new(out, false);
    json_object_begin(j);
    json_kv_string(j, "id", S(ev->id));
    json_kv_string(j, "kind", alert_kind_name(ev->kind));
    json_kv_string(j, "dag", S(ev->dag));
    json_kv_uint(j, "run", ev->run_id);
    json_kv_string(j, "logical_date", S(ev->logical_date));
    json_kv_string(j, "task", S(ev->task));
    json_kv_uint(j, "attempt", ev->attempt);
    json_kv_string(j, "cause", S(ev->cause));
    json_kv_int(j, "at_ms", ev->at_ms);
    json_key(j, "log");
    s_log_lines(j, ev->log);
    char *more = s_more(ev);
    json_kv_string(j, "more", more);
    free(more);
    json_kv_bool(j, "test", ev->test);
    json_object_end(j);
    json_destroy(&j);
    fclose(out);
    while (len > 0 && buf[len - 1] == '\n') {
        buf[--len] = '\0';
    }
    return buf;
}

char *
alert_event_slack(const alert_event_t *ev)
{
    char *more = s_more(ev);
    char *text = xasprintf(
        "%ssluice %s: DAG '%s' run %" PRIu64 "%s%s%s (%s)%s%s; see `%s`",
        ev->test ? "[test] " : "", alert_kind_name(ev->kind), S(ev->dag),
        ev->run_id, ev->task && *ev->task ? " task '" : "", S(ev->task),
        ev->task && *ev->task ? "'" : "", S(ev->logical_date),
        ev->cause && *ev->cause ? ": " : "", S(ev->cause), more);
    free(more);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert(out);
    json_t *j = json_new(out, false);
    json_object_begin(j);
    json_kv_string(j, "text", text);
    json_kv_string(j, "id", S(ev->id));
    json_object_end(j);
    json_destroy(&j);
    fclose(out);
    free(text);
    while (len > 0 && buf[len - 1] == '\n') {
        buf[--len] = '\0';
    }
    return buf;
}
