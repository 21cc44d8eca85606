/* store_reports — the reports of validate tasks and the drift profiles of
 * the datasets they checked.
 *
 * store_reports.c. */
#ifndef SLUICE_STORE_REPORTS_H
#define SLUICE_STORE_REPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "scheduler/store/store.h"

/* One stored report; strings owned (store_report_clear frees). */
typedef struct {
    char *task_id;
    uint64_t attempt_id;
    uint32_t attempt; /* 1-based try */
    char *summary;    /* one line */
    char *report;     /* JSON */
    char *text;       /* for people */
} store_report_t;

/* Keeps the report of a validate attempt (store_reports.c). */
int store_report_put(store_t *self,
                     uint64_t attempt_id,
                     const char *summary,
                     const char *report,
                     const char *text,
                     int64_t now,
                     errbuf_t *err);

/* The latest report of each task of a run (task_id NULL or ""), or of one
 * task; *reports is an owned array of *count (free with
 * store_reports_free). */
int store_reports_get(store_t *self,
                      uint64_t run_id,
                      const char *task_id,
                      store_report_t **reports,
                      size_t *count,
                      errbuf_t *err);

void store_reports_free(store_report_t *reports, size_t count);

/* The drift profile of a dataset's last validated version: owned text, ""
 * when none. NULL with err on a store error. */
char *store_profile_get(store_t *self, const char *dataset, errbuf_t *err);

int store_profile_put(store_t *self,
                      const char *dataset,
                      const char *profile,
                      uint64_t attempt_id,
                      int64_t now,
                      errbuf_t *err);

#endif
