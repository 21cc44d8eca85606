/* api_metrics — the rows of `sluice metrics` and of the metrics line of
 * `sluice run show`: each task's metrics with its run's params and the
 * dataset versions its attempt read, from the store. Read-only; api.c
 * routes MetricsReq here and wraps the result in a reply. */
#ifndef SLUICE_API_METRICS_H
#define SLUICE_API_METRICS_H

#include <stdint.h>

#include "common/errbuf.h"
#include "proto/sluice.pb-c.h"
#include "scheduler/store/store.h"

/* The MetricsRep for op, listing at most limit runs when op names a DAG and
 * a task. Caller owns it (protobuf_c_message_free_unpacked). NULL with
 * *code (an API_E_* code) and err set when op names no DAG and task, when
 * the DAG does not exist, or when the store fails. */
Sluice__MetricsRep *api_metrics_read(store_t *store,
                                     const Sluice__MetricsReq *op,
                                     uint32_t limit,
                                     uint32_t *code,
                                     errbuf_t *err);

#endif
