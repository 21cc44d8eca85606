/* plan_branch — what a branch task's choice does: the direct children it
 * did not choose are skipped, and what only they lead to skips by the
 * trigger rules (plan_release propagates it). See plan_internal.h. */
#include "scheduler/plan_internal.h"

#include <string.h>

#include "common/xalloc.h"

static bool
s_is_branch(const dag_task_t *def)
{
    return def->kind && strcmp(def->kind, "branch") == 0;
}

/* Whether the branch chose child `child` (an index into the DAG). */
static bool
s_chosen(const plan_run_t *run, size_t child, const plan_result_t *result)
{
    const char *id = dag_task(run->dag, child)->id;
    for (size_t i = 0; i < result->nbranch; i++) {
        if (strcmp(result->branch[i], id) == 0) {
            return true;
        }
    }
    return false;
}

/* The ids of the branch's children, ", " between them, into why's text. */
static void
s_children_text(const plan_run_t *run,
                const dag_task_t *def,
                char *out,
                size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < def->nchildren && used < size; i++) {
        int n = snprintf(out + used, size - used, "%s%s", i ? ", " : "",
                         dag_task(run->dag, def->children[i])->id);
        used += n > 0 ? (size_t) n : 0;
    }
}

int
plan_branch_check(const plan_run_t *run,
                  size_t task,
                  const plan_result_t *result,
                  errbuf_t *why)
{
    const dag_task_t *def = dag_task(run->dag, task);
    if (result->state != ATTEMPT_SUCCESS || !s_is_branch(def)) {
        return 0;
    }
    if (!result->branch_read) {
        errbuf_set(why,
                   "branch '%s': the worker reported no choice (it predates "
                   "kind branch); upgrade the worker",
                   def->id);
        return -1;
    }
    for (size_t i = 0; i < result->nbranch; i++) {
        long child = dag_task_index(run->dag, result->branch[i]);
        bool ok = false;
        for (size_t c = 0; child >= 0 && c < def->nchildren && !ok; c++) {
            ok = def->children[c] == (size_t) child;
        }
        if (!ok) {
            char names[512];
            s_children_text(run, def, names, sizeof names);
            errbuf_set(why,
                       "branch '%s' chose '%s', which is not one of its "
                       "children: %s",
                       def->id, result->branch[i], names);
            return -1;
        }
    }
    return 0;
}

int
plan_branch_skip(plan_t *self,
                 plan_run_t *run,
                 size_t task,
                 const plan_result_t *result,
                 int64_t now,
                 errbuf_t *err)
{
    const dag_task_t *def = dag_task(run->dag, task);
    if (!s_is_branch(def)) {
        return 0;
    }
    for (size_t i = 0; i < def->nchildren; i++) {
        size_t child = def->children[i];
        /* A child that already left pending (an `always` task, or one
         * another parent released) is not taken back. */
        if (run->tis[child].state != TASK_PENDING ||
            s_chosen(run, child, result)) {
            continue;
        }
        if (plan_set_task(self, run, child, TASK_SKIPPED, now, err) < 0 ||
            plan_release(self, run, child, now, err) < 0) {
            return -1;
        }
    }
    return 0;
}
