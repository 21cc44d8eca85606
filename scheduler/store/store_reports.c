/* store_reports — validation reports and drift profiles (migration 7). */
#include "scheduler/store/store_reports.h"

#include <string.h>

#include "common/xalloc.h"
#include "scheduler/store/store_priv.h"

int
store_report_put(store_t *self,
                 uint64_t attempt_id,
                 const char *summary,
                 const char *report,
                 const char *text,
                 int64_t now,
                 errbuf_t *err)
{
    sqlite3_stmt *stmt =
        store_priv_sql(self,
                       "INSERT OR REPLACE INTO validation_reports"
                       " (attempt_id, summary, report, text, created_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)",
                       err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) attempt_id);
    store_priv_bind_text(stmt, 2, summary);
    store_priv_bind_text(stmt, 3, report);
    store_priv_bind_text(stmt, 4, text);
    sqlite3_bind_int64(stmt, 5, now);
    return store_priv_exec(self, stmt, "store a validation report", err);
}

int
store_reports_get(store_t *self,
                  uint64_t run_id,
                  const char *task_id,
                  store_report_t **reports,
                  size_t *count,
                  errbuf_t *err)
{
    *reports = NULL;
    *count = 0;
    /* the latest attempt with a report, per task */
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT a.task_id, a.id, a.number, r.summary, r.report, r.text"
        " FROM validation_reports r JOIN attempts a ON a.id = r.attempt_id"
        " WHERE a.run_id = ?1 AND (?2 = '' OR a.task_id = ?2)"
        " AND a.number = (SELECT MAX(b.number) FROM attempts b"
        "  JOIN validation_reports q ON q.attempt_id = b.id"
        "  WHERE b.run_id = a.run_id AND b.task_id = a.task_id)"
        " ORDER BY a.id",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) run_id);
    store_priv_bind_text(stmt, 2, task_id ? task_id : "");
    int rc;
    size_t cap = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 4;
            *reports = xrealloc(*reports, cap * sizeof **reports);
        }
        store_report_t *r = &(*reports)[(*count)++];
        r->task_id = xstrdup(store_priv_text(stmt, 0));
        r->attempt_id = (uint64_t) sqlite3_column_int64(stmt, 1);
        r->attempt = (uint32_t) sqlite3_column_int64(stmt, 2);
        r->summary = xstrdup(store_priv_text(stmt, 3));
        r->report = xstrdup(store_priv_text(stmt, 4));
        r->text = xstrdup(store_priv_text(stmt, 5));
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_DONE) {
        store_reports_free(*reports, *count);
        *reports = NULL;
        *count = 0;
        return store_priv_fail(self, rc, "read validation reports", err);
    }
    return 0;
}

void
store_reports_free(store_report_t *reports, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(reports[i].task_id);
        free(reports[i].summary);
        free(reports[i].report);
        free(reports[i].text);
    }
    free(reports);
}

char *
store_profile_get(store_t *self, const char *dataset, errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT profile FROM dataset_profiles WHERE dataset = ?1", err);
    if (!stmt) {
        return NULL;
    }
    store_priv_bind_text(stmt, 1, dataset);
    int rc = sqlite3_step(stmt);
    char *profile = xstrdup(rc == SQLITE_ROW ? store_priv_text(stmt, 0) : "");
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(profile);
        store_priv_fail(self, rc, "read a drift profile", err);
        return NULL;
    }
    return profile;
}

int
store_profile_put(store_t *self,
                  const char *dataset,
                  const char *profile,
                  uint64_t attempt_id,
                  int64_t now,
                  errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT OR REPLACE INTO dataset_profiles"
        " (dataset, profile, attempt_id, updated_at) VALUES (?1, ?2, ?3, ?4)",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, dataset);
    store_priv_bind_text(stmt, 2, profile);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64) attempt_id);
    sqlite3_bind_int64(stmt, 4, now);
    return store_priv_exec(self, stmt, "store a drift profile", err);
}
