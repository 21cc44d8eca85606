/* store_dags — DAG versions: recording an applied DAG and reading them back.
 *
 * Writes in store.c, reads in store_query.c. */
#ifndef SLUICE_STORE_DAGS_H
#define SLUICE_STORE_DAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "scheduler/store/store.h"

/* Records DAG `name` at `version` (content hash) with its YAML source and
 * makes it the current version. *changed is false when that version was
 * already current. */
int store_dag_put(store_t *self,
                  const char *name,
                  const char *version,
                  const char *source,
                  const char *filename,
                  int64_t now,
                  bool *changed,
                  errbuf_t *err);

/* The source of DAG `name` at `version` (NULL = current). Caller owns the
 * result; *version_out (if not NULL) gets an owned copy of the version.
 * Returns NULL with err set when there is no such DAG/version. */
char *store_dag_source(store_t *self,
                       const char *name,
                       const char *version,
                       char **version_out,
                       errbuf_t *err);

/* A DAG at its current version. */
typedef struct {
    const char *name;
    const char *version; /* current version */
    const char *source;  /* YAML of the current version */
    const char *filename;
    int64_t created_at;
    int64_t updated_at;         /* when the current version was applied */
    uint64_t runs;              /* runs of any version */
    uint64_t last_run_id;       /* 0 when never run */
    const char *last_run_state; /* "" when never run */
    bool paused;                /* starts no scheduled runs */
} store_dag_row_t;

typedef int(store_dag_fn)(void *arg, const store_dag_row_t *dag);

/* Calls fn for every DAG, by name. */
int store_dag_list(store_t *self, store_dag_fn *fn, void *arg, errbuf_t *err);

/* Calls fn (may be NULL: an existence check) for DAG `name`;
 * STORE_ENOTFOUND when there is none. */
int store_dag_get(store_t *self,
                  const char *name,
                  store_dag_fn *fn,
                  void *arg,
                  errbuf_t *err);

/* Pauses (paused true) or unpauses DAG `name`, recording who did it:
 * a paused DAG starts no scheduled runs; its history and manual triggers
 * are untouched. *changed is false when it already was in that state.
 * STORE_ENOTFOUND when there is no such DAG. */
int store_dag_set_paused(store_t *self,
                         const char *name,
                         bool paused,
                         const char *by,
                         int64_t now,
                         bool *changed,
                         errbuf_t *err);

/* Whether DAG `name` is paused (false for an unknown DAG). */
int
store_dag_paused(store_t *self, const char *name, bool *paused, errbuf_t *err);

#endif
