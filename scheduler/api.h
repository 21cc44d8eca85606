/* api — the read-only side of the control API: answers the client requests
 * that only read the store (dag list, dag show, runs, run show, logs,
 * metrics: the rows come from api_metrics.c).
 *
 * The scheduler handles the requests that change state (trigger, cancel,
 * dag apply) and workers itself, and builds its error replies with
 * api_error. Every reply is allocated entirely on the heap: the caller frees
 * it with protobuf_c_message_free_unpacked(&rep->base, NULL). */
#ifndef SLUICE_API_H
#define SLUICE_API_H

#include <stdint.h>

#include "proto/codes.h"
#include "proto/sluice.pb-c.h"
#include "scheduler/store/store_query.h"

/* Runs listed when RunsReq.limit is 0, and the most one reply lists. */
#define API_RUNS_DEFAULT 20
#define API_RUNS_MAX     1000

/* Log bytes in one LogsRep at most (a chunk larger than this still goes,
 * alone); the client asks again from the last seq for more. */
#define API_LOG_REPLY_BYTES (256 * 1024)

/* Answers a read-only request from the store. Caller owns the reply: the
 * op's reply, or an ErrorRep (code 2 with advice when something named does
 * not exist). NULL when req is not a read-only op. */
Sluice__Reply *api_read(store_t *store, const Sluice__Request *req);

/* run_show (req's op), with counts (TASK_STATE_COUNT, per state) for the
 * run's tasks when the caller keeps them (an active run), so that polling
 * a big run does not count its rows each time; NULL: counted in the store.
 * Caller owns the reply. */
Sluice__Reply *api_run_show(store_t *store,
                            const Sluice__Request *req,
                            const uint32_t *counts);

/* A reply carrying ErrorRep {code, message}. Caller owns it. */
Sluice__Reply *
api_error(uint64_t request_id, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A RunSummary for a run, with the task counts folded as the CLI shows
 * them. Caller owns it (protobuf_c_message_free_unpacked). */
Sluice__RunSummary *api_run_summary(const store_run_info_t *run);

#endif
