/* store_lineage — dataset versions and which attempts read and wrote them.
 *
 * store_lineage.c. */
#ifndef SLUICE_STORE_LINEAGE_H
#define SLUICE_STORE_LINEAGE_H

#include <stddef.h>
#include <stdint.h>

#include "scheduler/store/store.h"

/* A dataset version as a worker reported it (borrowed strings). */
typedef struct {
    const char *uri;  /* file:///absolute/path */
    const char *hash; /* BLAKE2b-256, hex */
    uint64_t size;
} store_dataset_ref_t;

/* A stored dataset version (owned strings; store_dataset_clear). */
typedef struct {
    uint64_t id;
    char *uri;
    char *hash;
    uint64_t size;
    uint64_t produced_by; /* attempt id; 0 = not produced by sluice */
    int64_t at;
} store_dataset_t;

/* An attempt as lineage shows it (owned strings). */
typedef struct {
    uint64_t attempt_id;
    uint64_t run_id;
    char *dag;
    char *dag_version;
    char *task_id;
    uint32_t number;
    char *worker;
    char *state;
    char *error;
    int64_t created_at;
    int64_t started_at;
    int64_t ended_at;
} store_lineage_attempt_t;

void store_dataset_clear(store_dataset_t *row);

void store_lineage_attempt_clear(store_lineage_attempt_t *row);

/* Records what attempt read (each input is tied to the latest stored
 * version with its uri and hash, else recorded as a version no attempt
 * produced) and wrote (a new version each, produced by attempt). Call in
 * the transaction that commits the attempt's result. */
int store_lineage_record(store_t *self,
                         uint64_t attempt_id,
                         const store_dataset_ref_t *inputs,
                         size_t ninputs,
                         const store_dataset_ref_t *outputs,
                         size_t noutputs,
                         int64_t now,
                         errbuf_t *err);

/* 1 and the latest version whose uri is target or whose hash starts with
 * target (at least 4 hex digits), 0 when none, -1 with err. */
int store_dataset_find(store_t *self,
                       const char *target,
                       store_dataset_t *out,
                       errbuf_t *err);

/* 1 and version `id`, 0 when none, -1 with err. */
int store_dataset_get(store_t *self,
                      uint64_t id,
                      store_dataset_t *out,
                      errbuf_t *err);

/* 1 and attempt `id` with its run's DAG and version, 0 when none. */
int store_lineage_attempt(store_t *self,
                          uint64_t id,
                          store_lineage_attempt_t *out,
                          errbuf_t *err);

/* Ids (caller owns *ids) of: the versions an attempt read (what =
 * STORE_LINEAGE_READ) or wrote (STORE_LINEAGE_WROTE), the attempts that
 * read a version (STORE_LINEAGE_READERS), the attempts of a run
 * (STORE_LINEAGE_RUN), in id order. */
typedef enum {
    STORE_LINEAGE_READ,
    STORE_LINEAGE_WROTE,
    STORE_LINEAGE_READERS,
    STORE_LINEAGE_RUN,
} store_lineage_edge_t;

int store_lineage_ids(store_t *self,
                      store_lineage_edge_t what,
                      uint64_t id,
                      uint64_t **ids,
                      size_t *count,
                      errbuf_t *err);

/* The latest version of each dataset (uri), newest first, at most limit;
 * *counts[i] = versions recorded of rows[i]'s uri. Caller owns both
 * arrays and clears each row. */
int store_datasets_latest(store_t *self,
                          size_t limit,
                          store_dataset_t **rows,
                          uint32_t **counts,
                          size_t *count,
                          errbuf_t *err);

#endif
