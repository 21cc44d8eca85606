/* alert — what every side knows about alerts: the kinds of event a route
 * names, the retry schedule of a delivery, the per-target rate limit, the
 * signature a webhook carries and the event as JSON.
 *
 * Pure functions and one small object (the rate limiter): the scheduler
 * queues, routes and delivers (scheduler/sched_alerts.c, alert_send.c);
 * the tests check this file's rules without a scheduler. */
#ifndef SLUICE_ALERT_H
#define SLUICE_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The events a route can name, as bits of a route's `on` set. */
typedef enum {
    ALERT_FAILURE = 0,       /* a task failed for good (no retry left) */
    ALERT_RETRY,             /* a task failed and will be tried again */
    ALERT_SLA_MISS,          /* a task ran past its `sla` */
    ALERT_DEADLINE_MISS,     /* a run did not end by its `deadline` */
    ALERT_EXPECT_MISS,       /* `expect: success_by` passed unmet */
    ALERT_VALIDATION_BREACH, /* a validate task found its checks broken */
    ALERT_DRIFT,             /* a validate task reported drift */
    ALERT_SUCCESS,           /* a run succeeded */
    ALERT_KIND_COUNT
} alert_kind_t;

#define ALERT_BIT(kind) (1u << (kind))

/* Most targets one route names, and most routes a DAG or the config has. */
#define ALERT_MAX_TARGETS 16
#define ALERT_MAX_ROUTES  16

/* Log lines an event carries (the attempt's last ones). */
#define ALERT_LOG_LINES 20

/* Deliveries are retried with backoff until this long after the alert was
 * queued (the config's alert_retry_for may say longer). */
#define ALERT_RETRY_FOR_MS (24LL * 3600 * 1000)

/* "failure", "sla_miss", ...; "?" for anything else. */
const char *alert_kind_name(alert_kind_t kind);

/* Parses a kind name; -1 when unknown. */
int alert_kind_parse(const char *name, alert_kind_t *kind);

/* The kind name closest to a misspelt one, or NULL. */
const char *alert_kind_hint(const char *name);

/* The wait before the next try after `failures` failed deliveries
 * (1-based): 1 s, 2 s, 4 s ... doubling up to 10 minutes. */
int64_t alert_backoff_ms(uint32_t failures);

/* Rate limit per target: at most `per_minute` deliveries in any sliding
 * 60 s window; the others wait (they are never dropped). */
typedef struct alert_rate_t alert_rate_t;

/* per_minute 0 = no limit. Never NULL. */
alert_rate_t *alert_rate_new(uint32_t per_minute);

void alert_rate_destroy(alert_rate_t **self_p);

/* True (and counted) when target may send now (monotonic ms); false when
 * its window is full: try again at *retry_at. */
bool alert_rate_take(alert_rate_t *self,
                     const char *target,
                     int64_t now,
                     int64_t *retry_at);

/* HMAC-SHA256 of body under key, as lowercase hex into hex (65 bytes). */
void alert_sign(const char *key, const void *body, size_t size, char hex[65]);

/* One event, as the receiver reads it. Strings borrowed; NULL = "". */
typedef struct {
    const char *id; /* the alert's id: receivers drop repeats */
    alert_kind_t kind;
    const char *dag;
    uint64_t run_id; /* 0: the event is about no run (expect) */
    const char *logical_date;
    const char *task;  /* "" for a run-level event */
    uint32_t attempt;  /* 0 when no attempt */
    const char *cause; /* "exit 3", "timeout", "deadline 2h", ... */
    int64_t at_ms;     /* when it happened, wall ms */
    const char *log;   /* the attempt's last ALERT_LOG_LINES lines */
    bool test;         /* a sample from `sluice alerts test` */
} alert_event_t;

/* The event as one JSON object (caller owns):
 * {"id","kind","dag","run","logical_date","task","attempt","cause","at",
 *  "log":[lines],"more":"sluice ...","test"}. */
char *alert_event_json(const alert_event_t *ev);

/* The same event as a Slack message body {"text": "..."} (caller owns). */
char *alert_event_slack(const alert_event_t *ev);

/* The last `lines` lines of text (a trailing partial line counts); points
 * into text. */
const char *alert_tail_lines(const char *text, size_t size, size_t lines);

#endif
