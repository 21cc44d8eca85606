/* dag_alerts — a DAG's `alerts:` routes. The route's shape is the same as
 * the config's `alert_route`, so both files read it with
 * config_alerts_route; whether the targets exist is the scheduler's to
 * check when the DAG is applied (the config is not known here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alert.h"
#include "common/config_alerts.h"
#include "common/duration.h"
#include "common/dag_internal.h"
#include "common/xalloc.h"

void
dagp_free_alerts(dag_t *dag)
{
    for (size_t i = 0; i < dag->nroutes; i++) {
        dagp_free_strings(dag->routes[i].to, dag->routes[i].nto);
    }
    free(dag->routes);
    dag->routes = NULL;
    dag->nroutes = 0;
}

/* Turns "L:C: message" from config_alerts_route into a DAG error. */
static void
s_route_err(parse_t *p, const yamldoc_node_t *at, const errbuf_t *err)
{
    size_t line = at->line, col = at->col;
    int used = 0;
    const char *msg = errbuf_msg(err);
    if (sscanf(msg, "%zu:%zu: %n", &line, &col, &used) == 2 && used > 0) {
        msg += used;
    }
    dagp_err_pos(p, line, col, "in 'alerts': %s", msg);
}

void
dagp_read_alerts(parse_t *p, const yamldoc_node_t *val)
{
    dagp_free_alerts(p->dag);
    if (val->type != YAMLDOC_SEQ || val->count == 0 ||
        val->count > ALERT_MAX_ROUTES) {
        dagp_err(p, val,
                 "'alerts' must be a list of 1 to %d routes; write "
                 "'alerts: [{on: [failure], to: [TARGET]}]'",
                 ALERT_MAX_ROUTES);
        return;
    }
    p->dag->routes = xcalloc(val->count, sizeof *p->dag->routes);
    for (size_t i = 0; i < val->count; i++) {
        char **to = NULL;
        size_t nto = 0;
        unsigned on = 0;
        errbuf_t err;
        errbuf_clear(&err);
        if (config_alerts_route(val->items[i], &on, &to, &nto, &err) < 0) {
            s_route_err(p, val->items[i], &err);
            continue;
        }
        dag_alert_route_t *r = &p->dag->routes[p->dag->nroutes++];
        r->on = on;
        r->to = (const char *const *) to;
        r->nto = nto;
    }
}

/* A positive duration, or an error naming `what`. */
static int
s_positive(parse_t *p,
           const yamldoc_node_t *val,
           const char *what,
           uint64_t *ms)
{
    if (val->type == YAMLDOC_SCALAR && duration_parse(val->value, ms) == 0 &&
        *ms > 0) {
        return 0;
    }
    dagp_err(p, val, "%s must be a duration above zero, like '2h'; %s", what,
             DURATION_HINT);
    return -1;
}

void
dagp_task_sla(parse_t *p,
              size_t task,
              const yamldoc_node_t *key,
              const yamldoc_node_t *val)
{
    (void) key;
    uint64_t ms = 0;
    if (s_positive(p, val, "'sla'", &ms) == 0) {
        TASK(p, task)->sla_ms = ms;
    }
}

void
dagp_top_deadline(parse_t *p,
                  size_t task,
                  const yamldoc_node_t *key,
                  const yamldoc_node_t *val)
{
    (void) task, (void) key;
    uint64_t ms = 0;
    if (s_positive(p, val, "'deadline'", &ms) == 0) {
        p->dag->deadline_ms = ms;
    }
}

/* "HH:MM", 00:00 to 23:59. */
static bool
s_clock_ok(const char *text)
{
    return strlen(text) == 5 && text[2] == ':' && text[0] >= '0' &&
           text[0] <= '2' && text[1] >= '0' && text[1] <= '9' &&
           text[3] >= '0' && text[3] <= '5' && text[4] >= '0' &&
           text[4] <= '9' && (text[0] < '2' || text[1] <= '3');
}

void
dagp_top_expect(parse_t *p,
                size_t task,
                const yamldoc_node_t *key,
                const yamldoc_node_t *val)
{
    (void) task, (void) key;
    const char *hint = "write 'expect: {success_by: \"12:00\"}' (24-hour "
                       "wall-clock time in the DAG's zone)";
    if (val->type != YAMLDOC_MAP || val->count != 1 ||
        val->items[0]->type != YAMLDOC_SCALAR ||
        strcmp(val->items[0]->value, "success_by")) {
        dagp_err(p, val, "'expect' takes only 'success_by'; %s", hint);
        return;
    }
    const yamldoc_node_t *by = val->items[1];
    if (by->type != YAMLDOC_SCALAR || !s_clock_ok(by->value)) {
        dagp_err(p, by,
                 "'success_by' must be a time like \"12:00\", not %s; %s",
                 by->type == YAMLDOC_SCALAR ? by->value : yamldoc_type_name(by),
                 hint);
        return;
    }
    memcpy(p->dag->expect_by, by->value, 6);
}
