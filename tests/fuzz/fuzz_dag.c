/* fuzz_dag — libFuzzer target for dag_parse (YAML reader and DAG checks).
 *
 * The input is the file's text, handed over in a buffer of exactly its size
 * (no NUL after it), so a read past the end shows. A DAG either parses or
 * comes back NULL with at least one error line; either way nothing leaks. */
#include <assert.h>
#include <czmq.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/dag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    assert(text);
    if (size) {
        memcpy(text, data, size);
    }
    zlist_t *errors = zlist_new();
    zlist_autofree(errors);
    dag_t *dag = dag_parse("fuzz.yaml", text, size, errors);
    if (dag) {
        assert(zlist_size(errors) == 0);
        assert(dag_name(dag) && dag_version(dag));
        for (size_t i = 0; i < dag_task_count(dag); i++) {
            assert(dag_task(dag, i)->id);
        }
    } else {
        assert(zlist_size(errors) > 0);
    }
    dag_destroy(&dag);
    zlist_destroy(&errors);
    free(text);
    return 0;
}
