#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "proto/pbjson.h"
#include "proto/sluice.pb-c.h"
#include "tests/unit/suites.h"

/* msg as compact JSON (caller frees). */
static char *
s_json(const ProtobufCMessage *msg)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    ck_assert_ptr_nonnull(out);
    json_t *json = json_new(out, false);
    pbjson_write(json, msg);
    json_destroy(&json);
    fclose(out);
    return text;
}

START_TEST(test_pbjson_usage)
{
    Sluice__Param p1 = SLUICE__PARAM__INIT, p2 = SLUICE__PARAM__INIT;
    p1.name = "epochs";
    p1.value = "3";
    p2.name = "lr";
    p2.value = "0.1";
    Sluice__Param *params[] = {&p1, &p2};
    Sluice__TriggerReq trigger = SLUICE__TRIGGER_REQ__INIT;
    trigger.dag = "hello";
    trigger.n_params = 2;
    trigger.params = params;
    trigger.no_cache = true;
    char *text = s_json(&trigger.base);
    ck_assert_str_eq(text, "{\"dag\":\"hello\",\"params\":["
                           "{\"name\":\"epochs\",\"value\":\"3\"},"
                           "{\"name\":\"lr\",\"value\":\"0.1\"}],"
                           "\"logical_date\":\"\",\"no_cache\":true,"
                           "\"logical_time\":\"\"}\n");
    free(text);
}

END_TEST

/* Only the oneof member that is set is written. */
START_TEST(test_pbjson_oneof)
{
    Sluice__DrainRep drain = SLUICE__DRAIN_REP__INIT;
    drain.worker = "w1";
    drain.state = "draining";
    drain.running = 2;
    Sluice__Reply reply = SLUICE__REPLY__INIT;
    reply.request_id = 9;
    reply.op_case = SLUICE__REPLY__OP_DRAIN;
    reply.drain = &drain;
    char *text = s_json(&reply.base);
    ck_assert_str_eq(text, "{\"request_id\":9,\"drain\":{\"worker\":\"w1\","
                           "\"state\":\"draining\",\"running\":2}}\n");
    free(text);
}

END_TEST

/* Enums by name, a number the schema does not know as a number; bytes as
 * text; signed numbers keep their sign. */
START_TEST(test_pbjson_enums_bytes_numbers)
{
    Sluice__Result res = SLUICE__RESULT__INIT;
    res.outcome = SLUICE__OUTCOME__OUTCOME_EXITED;
    res.exit_code = -3;
    char *text = s_json(&res.base);
    ck_assert_ptr_nonnull(strstr(text, "\"outcome\":\"OUTCOME_EXITED\""));
    ck_assert_ptr_nonnull(strstr(text, "\"exit_code\":-3"));
    free(text);
    res.outcome = (Sluice__Outcome) 99;
    text = s_json(&res.base);
    ck_assert_ptr_nonnull(strstr(text, "\"outcome\":99"));
    free(text);
    Sluice__LogChunkInfo chunk = SLUICE__LOG_CHUNK_INFO__INIT;
    chunk.data.data = (uint8_t *) "hi\n";
    chunk.data.len = 3;
    text = s_json(&chunk.base);
    ck_assert_ptr_nonnull(strstr(text, "\"data\":\"hi\\n\""));
    free(text);
}

END_TEST

Suite *
pbjson_suite(void)
{
    Suite *s = suite_create("pbjson");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_pbjson_usage);
    tcase_add_test(tc, test_pbjson_oneof);
    tcase_add_test(tc, test_pbjson_enums_bytes_numbers);
    suite_add_tcase(s, tc);
    return s;
}
