/* dag_alerts — a DAG's `alerts:` routes. The route's shape is the same as
 * the config's `alert_route`, so both files read it with
 * config_alerts_route; whether the targets exist is the scheduler's to
 * check when the DAG is applied (the config is not known here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alert.h"
#include "common/config_alerts.h"
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
