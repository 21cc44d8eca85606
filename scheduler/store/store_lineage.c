/* store_lineage — dataset versions and what read and wrote them (migration
 * 8): dataset_versions (uri, hash, size, produced_by attempt, at) and
 * dataset_reads (attempt -> version). */
#include "scheduler/store/store_lineage.h"

#include <string.h>

#include "common/xalloc.h"
#include "scheduler/store/store_priv.h"

void
store_dataset_clear(store_dataset_t *row)
{
    free(row->uri);
    free(row->hash);
    memset(row, 0, sizeof *row);
}

void
store_lineage_attempt_clear(store_lineage_attempt_t *row)
{
    free(row->dag);
    free(row->dag_version);
    free(row->task_id);
    free(row->worker);
    free(row->state);
    free(row->error);
    memset(row, 0, sizeof *row);
}

/* A new version; its id into *id. */
static int
s_version_add(store_t *self,
              const store_dataset_ref_t *ref,
              uint64_t produced_by,
              int64_t now,
              uint64_t *id,
              errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "INSERT INTO dataset_versions (uri, hash, size, produced_by, at)"
        " VALUES (?1, ?2, ?3, ?4, ?5)",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, ref->uri);
    store_priv_bind_text(stmt, 2, ref->hash);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64) ref->size);
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64) produced_by);
    sqlite3_bind_int64(stmt, 5, now);
    if (store_priv_exec(self, stmt, "record a dataset version", err) < 0) {
        return -1;
    }
    *id = (uint64_t) sqlite3_last_insert_rowid(self->db);
    return 0;
}

/* The version an input names: the latest one with its uri and hash. */
static int
s_version_for_input(store_t *self,
                    const store_dataset_ref_t *ref,
                    int64_t now,
                    uint64_t *id,
                    errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT id FROM dataset_versions WHERE uri = ?1 AND hash = ?2"
        " ORDER BY id DESC LIMIT 1",
        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, ref->uri);
    store_priv_bind_text(stmt, 2, ref->hash);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *id = (uint64_t) sqlite3_column_int64(stmt, 0);
    }
    store_priv_reset(stmt);
    if (rc == SQLITE_ROW) {
        return 0;
    }
    if (rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "find a dataset version", err);
    }
    return s_version_add(self, ref, 0, now, id, err);
}

int
store_lineage_record(store_t *self,
                     uint64_t attempt_id,
                     const store_dataset_ref_t *inputs,
                     size_t ninputs,
                     const store_dataset_ref_t *outputs,
                     size_t noutputs,
                     int64_t now,
                     errbuf_t *err)
{
    for (size_t i = 0; i < ninputs; i++) {
        uint64_t id;
        if (s_version_for_input(self, &inputs[i], now, &id, err) < 0) {
            return -1;
        }
        sqlite3_stmt *stmt = store_priv_sql(
            self,
            "INSERT OR IGNORE INTO dataset_reads (attempt_id, version_id)"
            " VALUES (?1, ?2)",
            err);
        if (!stmt) {
            return -1;
        }
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64) attempt_id);
        sqlite3_bind_int64(stmt, 2, (sqlite3_int64) id);
        if (store_priv_exec(self, stmt, "record a dataset read", err) < 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < noutputs; i++) {
        uint64_t id;
        if (s_version_add(self, &outputs[i], attempt_id, now, &id, err) < 0) {
            return -1;
        }
    }
    return 0;
}

static void
s_dataset_row(sqlite3_stmt *stmt, store_dataset_t *out)
{
    out->id = (uint64_t) sqlite3_column_int64(stmt, 0);
    out->uri = xstrdup(store_priv_text(stmt, 1));
    out->hash = xstrdup(store_priv_text(stmt, 2));
    out->size = (uint64_t) sqlite3_column_int64(stmt, 3);
    out->produced_by = (uint64_t) sqlite3_column_int64(stmt, 4);
    out->at = sqlite3_column_int64(stmt, 5);
}

#define S_DATASET_COLS "id, uri, hash, size, produced_by, at"

/* Steps a statement that returns at most one dataset row. */
static int
s_dataset_one(store_t *self,
              sqlite3_stmt *stmt,
              store_dataset_t *out,
              errbuf_t *err)
{
    memset(out, 0, sizeof *out);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        s_dataset_row(stmt, out);
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read a dataset version", err);
    }
    return rc == SQLITE_ROW;
}

static bool
s_is_hex(const char *text)
{
    size_t n = strlen(text);
    return n >= 4 && n <= 64 && strspn(text, "0123456789abcdef") == n;
}

int
store_dataset_find(store_t *self,
                   const char *target,
                   store_dataset_t *out,
                   errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(self,
                                        "SELECT " S_DATASET_COLS
                                        " FROM dataset_versions WHERE uri = ?1"
                                        " ORDER BY id DESC LIMIT 1",
                                        err);
    if (!stmt) {
        return -1;
    }
    store_priv_bind_text(stmt, 1, target);
    int rc = s_dataset_one(self, stmt, out, err);
    if (rc != 0 || !s_is_hex(target)) {
        return rc;
    }
    /* A hash prefix: hex digits sort below 'g', so a range finds them. */
    char *upper = xasprintf("%sg", target);
    stmt = store_priv_sql(self,
                          "SELECT " S_DATASET_COLS " FROM dataset_versions"
                          " WHERE hash >= ?1 AND hash < ?2"
                          " ORDER BY id DESC LIMIT 1",
                          err);
    if (!stmt) {
        free(upper);
        return -1;
    }
    store_priv_bind_text(stmt, 1, target);
    store_priv_bind_text(stmt, 2, upper);
    rc = s_dataset_one(self, stmt, out, err);
    free(upper);
    return rc;
}

int
store_dataset_get(store_t *self,
                  uint64_t id,
                  store_dataset_t *out,
                  errbuf_t *err)
{
    sqlite3_stmt *stmt = store_priv_sql(
        self, "SELECT " S_DATASET_COLS " FROM dataset_versions WHERE id = ?1",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) id);
    return s_dataset_one(self, stmt, out, err);
}

int
store_lineage_attempt(store_t *self,
                      uint64_t id,
                      store_lineage_attempt_t *out,
                      errbuf_t *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT a.id, a.run_id, r.dag, r.version, a.task_id, a.number,"
        " a.worker, a.state, a.error, a.created_at, a.started_at, a.ended_at"
        " FROM attempts a JOIN runs r ON r.id = a.run_id WHERE a.id = ?1",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        out->attempt_id = (uint64_t) sqlite3_column_int64(stmt, 0);
        out->run_id = (uint64_t) sqlite3_column_int64(stmt, 1);
        out->dag = xstrdup(store_priv_text(stmt, 2));
        out->dag_version = xstrdup(store_priv_text(stmt, 3));
        out->task_id = xstrdup(store_priv_text(stmt, 4));
        out->number = (uint32_t) sqlite3_column_int64(stmt, 5);
        out->worker = xstrdup(store_priv_text(stmt, 6));
        out->state = xstrdup(store_priv_text(stmt, 7));
        out->error = xstrdup(store_priv_text(stmt, 8));
        out->created_at = sqlite3_column_int64(stmt, 9);
        out->started_at = sqlite3_column_int64(stmt, 10);
        out->ended_at = sqlite3_column_int64(stmt, 11);
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return store_priv_fail(self, rc, "read an attempt", err);
    }
    return rc == SQLITE_ROW;
}

static const char *const s_edge_sql[] = {
    [STORE_LINEAGE_READ] = "SELECT version_id FROM dataset_reads"
                           " WHERE attempt_id = ?1 ORDER BY version_id",
    [STORE_LINEAGE_WROTE] = "SELECT id FROM dataset_versions"
                            " WHERE produced_by = ?1 ORDER BY id",
    [STORE_LINEAGE_READERS] = "SELECT attempt_id FROM dataset_reads"
                              " WHERE version_id = ?1 ORDER BY attempt_id",
    [STORE_LINEAGE_RUN] = "SELECT id FROM attempts WHERE run_id = ?1"
                          " ORDER BY id",
};

int
store_lineage_ids(store_t *self,
                  store_lineage_edge_t what,
                  uint64_t id,
                  uint64_t **ids,
                  size_t *count,
                  errbuf_t *err)
{
    *ids = NULL;
    *count = 0;
    if (id == 0) {
        return 0; /* produced by no attempt: nothing upstream */
    }
    sqlite3_stmt *stmt = store_priv_sql(self, s_edge_sql[what], err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 8;
            *ids = xrealloc(*ids, cap * sizeof **ids);
        }
        (*ids)[(*count)++] = (uint64_t) sqlite3_column_int64(stmt, 0);
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        *count = 0;
        return store_priv_fail(self, rc, "read lineage", err);
    }
    return 0;
}

int
store_datasets_latest(store_t *self,
                      size_t limit,
                      store_dataset_t **rows,
                      uint32_t **counts,
                      size_t *count,
                      errbuf_t *err)
{
    *rows = xcalloc(limit + 1, sizeof **rows);
    *counts = xcalloc(limit + 1, sizeof **counts);
    *count = 0;
    sqlite3_stmt *stmt = store_priv_sql(
        self,
        "SELECT v.id, v.uri, v.hash, v.size, v.produced_by, v.at, g.n"
        " FROM dataset_versions v"
        " JOIN (SELECT uri, MAX(id) AS last, COUNT(*) AS n"
        "  FROM dataset_versions GROUP BY uri) g ON v.id = g.last"
        " ORDER BY v.id DESC LIMIT ?1",
        err);
    if (!stmt) {
        return -1;
    }
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64) limit);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && *count < limit) {
        s_dataset_row(stmt, &(*rows)[*count]);
        (*counts)[(*count)++] = (uint32_t) sqlite3_column_int64(stmt, 6);
    }
    store_priv_reset(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        return store_priv_fail(self, rc, "list datasets", err);
    }
    return 0;
}
