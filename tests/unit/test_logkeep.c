/* logkeep: log chunks kept until their attempt's result is acknowledged. */
#include <check.h>
#include <string.h>

#include "tests/unit/suites.h"
#include "worker/logkeep.h"

typedef struct {
    uint64_t attempts[8];
    uint64_t seqs[8];
    char data[8][16];
    size_t count;
} seen_t;

static void
s_collect(void *arg, const logkeep_chunk_t *chunk)
{
    seen_t *seen = arg;
    ck_assert_uint_lt(seen->count, 8);
    ck_assert_uint_lt(chunk->size, sizeof seen->data[0]);
    seen->attempts[seen->count] = chunk->attempt_id;
    seen->seqs[seen->count] = chunk->seq;
    memcpy(seen->data[seen->count], chunk->data, chunk->size);
    seen->data[seen->count][chunk->size] = '\0';
    seen->count++;
}

static void
s_add(logkeep_t *keep, uint64_t attempt, uint64_t seq, const char *text)
{
    logkeep_chunk_t chunk = {.attempt_id = attempt,
                             .seq = seq,
                             .stream = 1,
                             .data = text,
                             .size = strlen(text)};
    ck_assert(logkeep_add(keep, &chunk));
}

START_TEST(test_logkeep_keeps_copies_in_order_until_forgotten)
{
    logkeep_t *keep = logkeep_new(1024);
    char buf[8] = "one";
    logkeep_chunk_t chunk = {
        .attempt_id = 7, .seq = 1, .stream = 1, .data = buf, .size = 3};
    ck_assert(logkeep_add(keep, &chunk));
    strcpy(buf, "XXX"); /* the kept chunk is a copy */
    s_add(keep, 9, 1, "other");
    s_add(keep, 7, 2, "two");
    ck_assert_uint_eq(logkeep_count(keep), 3);
    ck_assert_uint_eq(logkeep_bytes(keep), 11);

    seen_t seen = {0};
    logkeep_each(keep, s_collect, &seen);
    ck_assert_uint_eq(seen.count, 3);
    ck_assert_str_eq(seen.data[0], "one");
    ck_assert_str_eq(seen.data[1], "other");
    ck_assert_str_eq(seen.data[2], "two");
    ck_assert_uint_eq(seen.seqs[2], 2);

    logkeep_forget(keep, 7);
    ck_assert_uint_eq(logkeep_count(keep), 1);
    ck_assert_uint_eq(logkeep_bytes(keep), 5);
    memset(&seen, 0, sizeof seen);
    logkeep_each(keep, s_collect, &seen);
    ck_assert_uint_eq(seen.count, 1);
    ck_assert_uint_eq(seen.attempts[0], 9);
    logkeep_forget(keep, 12345); /* unknown: nothing happens */
    ck_assert_uint_eq(logkeep_count(keep), 1);
    logkeep_destroy(&keep);
    ck_assert_ptr_null(keep);
    logkeep_destroy(&keep);
}

END_TEST

START_TEST(test_logkeep_bound_counts_what_it_refuses)
{
    logkeep_t *keep = logkeep_new(8);
    s_add(keep, 1, 1, "12345");
    logkeep_chunk_t big = {
        .attempt_id = 1, .seq = 2, .data = "6789", .size = 4};
    ck_assert(!logkeep_add(keep, &big));
    ck_assert_uint_eq(logkeep_dropped(keep), 1);
    ck_assert_uint_eq(logkeep_count(keep), 1);
    logkeep_forget(keep, 1);
    ck_assert(logkeep_add(keep, &big)); /* room again */
    logkeep_destroy(&keep);
}

END_TEST

Suite *
logkeep_suite(void)
{
    Suite *s = suite_create("logkeep");
    TCase *tc = tcase_create("logkeep");
    tcase_add_test(tc, test_logkeep_keeps_copies_in_order_until_forgotten);
    tcase_add_test(tc, test_logkeep_bound_counts_what_it_refuses);
    suite_add_tcase(s, tc);
    return s;
}
