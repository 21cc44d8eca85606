#include <check.h>
#include <stdio.h>
#include <string.h>

#include "proto/envelope.h"
#include "common/xalloc.h"
#include "tests/unit/suites.h"

/* ------------------------------------------------------------ helpers */

/* Seals, opens with no trust callback, and returns the opened message. */
static env_msg_t
s_round_trip(int type, const ProtobufCMessage *body)
{
    keys_t *keys = keys_generate();
    zmsg_t *msg = env_seal(type, body, keys);
    ck_assert_uint_eq(zmsg_size(msg), ENV_FRAMES);
    env_msg_t out;
    errbuf_t err = {{0}};
    int rc = env_open(msg, NULL, NULL, &out, &err);
    ck_assert_msg(rc == ENV_OK, "%s: %s", env_type_name(type), err.msg);
    ck_assert_int_eq(out.type, type);
    ck_assert_int_eq(out.major, ENV_MAJOR);
    ck_assert_int_eq(out.minor, ENV_MINOR);
    ck_assert_mem_eq(out.signer, keys_public(keys), KEYS_PUBLIC_SIZE);
    ck_assert_ptr_eq(out.body->descriptor, env_descriptor(type));
    zmsg_destroy(&msg);
    keys_destroy(&keys);
    return out;
}

/* Builds an envelope by hand, signed over exactly what the spec says. */
static zmsg_t *
s_craft(uint8_t major,
        uint8_t minor,
        uint8_t type,
        const void *body,
        size_t size,
        const keys_t *keys)
{
    uint8_t *signed_bytes = xmalloc(3 + size);
    signed_bytes[0] = major;
    signed_bytes[1] = minor;
    signed_bytes[2] = type;
    if (size) {
        memcpy(signed_bytes + 3, body, size);
    }
    uint8_t sig[KEYS_SIG_SIZE];
    keys_sign(keys, signed_bytes, 3 + size, sig);
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, signed_bytes, 2);
    zmsg_addmem(msg, signed_bytes + 2, 1);
    zmsg_addmem(msg, body, size);
    zmsg_addmem(msg, keys_public(keys), KEYS_PUBLIC_SIZE);
    zmsg_addmem(msg, sig, KEYS_SIG_SIZE);
    free(signed_bytes);
    return msg;
}

/* A copy of msg with frame `index` replaced by data/size. */
static zmsg_t *
s_replace_frame(zmsg_t *msg, size_t index, const void *data, size_t size)
{
    zmsg_t *copy = zmsg_new();
    zframe_t *frame = zmsg_first(msg);
    for (size_t i = 0; frame; i++, frame = zmsg_next(msg)) {
        if (i == index) {
            zmsg_addmem(copy, data, size);
        } else {
            zmsg_addmem(copy, zframe_data(frame), zframe_size(frame));
        }
    }
    return copy;
}

static zframe_t *
s_frame(zmsg_t *msg, size_t index)
{
    zframe_t *frame = zmsg_first(msg);
    for (size_t i = 0; i < index; i++) {
        frame = zmsg_next(msg);
    }
    return frame;
}

static int
s_open_rc(zmsg_t *msg, errbuf_t *err)
{
    env_msg_t out;
    int rc = env_open(msg, NULL, NULL, &out, err);
    if (rc == ENV_OK) {
        env_msg_clear(&out);
    } else {
        ck_assert_ptr_null(out.body);
        ck_assert_msg(err->msg[0], "no reason for %s", env_strerror(rc));
    }
    return rc;
}

/* A small message for the tamper tests. */
static zmsg_t *
s_small_cancel(const keys_t *keys)
{
    Sluice__Cancel cancel = SLUICE__CANCEL__INIT;
    cancel.attempt_id = 812;
    cancel.reason = "user";
    return env_seal(SLUICE__MSG_TYPE__MSG_CANCEL, &cancel.base, keys);
}

/* ------------------------------------------------------------ usage */

START_TEST(test_envelope_usage)
{
    /* The scheduler seals a Cancel with its key ... */
    keys_t *scheduler = keys_generate();
    Sluice__Cancel cancel = SLUICE__CANCEL__INIT;
    cancel.attempt_id = 812;
    cancel.reason = "cancelled by user";
    zmsg_t *msg =
        env_seal(SLUICE__MSG_TYPE__MSG_CANCEL, &cancel.base, scheduler);

    /* ... and the worker opens it, checking layout, version and signature
     * before it decodes the body. */
    env_msg_t in;
    errbuf_t err;
    int rc = env_open(msg, NULL, NULL, &in, &err);
    ck_assert_msg(rc == ENV_OK, "%s", err.msg);
    ck_assert_int_eq(in.type, SLUICE__MSG_TYPE__MSG_CANCEL);
    ck_assert_str_eq(env_type_name(in.type), "cancel");
    ck_assert_mem_eq(in.signer, keys_public(scheduler), KEYS_PUBLIC_SIZE);
    Sluice__Cancel *got = (Sluice__Cancel *) in.body;
    ck_assert_uint_eq(got->attempt_id, 812);
    ck_assert_str_eq(got->reason, "cancelled by user");

    env_msg_clear(&in);
    ck_assert_ptr_null(in.body);
    env_msg_clear(&in); /* clearing twice is fine */
    zmsg_destroy(&msg);
    keys_destroy(&scheduler);
}

END_TEST

/* ------------------------------------------------------------ round trips */

START_TEST(test_envelope_register)
{
    char *labels[] = {"gpu", "ssd"};
    uint64_t running[] = {812, 813};
    Sluice__Resources res = SLUICE__RESOURCES__INIT;
    res.cpus = 8;
    res.memory_mb = 16384;
    res.gpus = 1;
    res.n_labels = 2;
    res.labels = labels;
    Sluice__Register reg = SLUICE__REGISTER__INIT;
    reg.name = "w1";
    reg.hostname = "host-a";
    reg.slots = 4;
    reg.free_slots = 2;
    reg.resources = &res;
    reg.n_running = 2;
    reg.running = running;
    reg.wall_ms = 1700000000123ull;
    reg.session = 0xdeadbeefcafeull;
    reg.software = "sluice 0.1.0";

    env_msg_t out = s_round_trip(SLUICE__MSG_TYPE__MSG_REGISTER, &reg.base);
    Sluice__Register *got = (Sluice__Register *) out.body;
    ck_assert_str_eq(got->name, "w1");
    ck_assert_str_eq(got->hostname, "host-a");
    ck_assert_uint_eq(got->slots, 4);
    ck_assert_uint_eq(got->free_slots, 2);
    ck_assert_ptr_nonnull(got->resources);
    ck_assert_uint_eq(got->resources->cpus, 8);
    ck_assert_uint_eq(got->resources->memory_mb, 16384);
    ck_assert_uint_eq(got->resources->gpus, 1);
    ck_assert_uint_eq(got->resources->n_labels, 2);
    ck_assert_str_eq(got->resources->labels[1], "ssd");
    ck_assert_uint_eq(got->n_running, 2);
    ck_assert_uint_eq(got->running[0], 812);
    ck_assert_uint_eq(got->running[1], 813);
    ck_assert_uint_eq(got->wall_ms, 1700000000123ull);
    ck_assert_uint_eq(got->session, 0xdeadbeefcafeull);
    ck_assert_str_eq(got->software, "sluice 0.1.0");
    env_msg_clear(&out);
}

END_TEST

START_TEST(test_envelope_welcome)
{
    uint64_t cancel[] = {7};
    Sluice__Welcome welcome = SLUICE__WELCOME__INIT;
    welcome.worker = "w1";
    welcome.heartbeat_ms = 1000;
    welcome.liveness = 3;
    welcome.wall_ms = 1700000000999ull;
    welcome.n_cancel = 1;
    welcome.cancel = cancel;
    env_msg_t out = s_round_trip(SLUICE__MSG_TYPE__MSG_WELCOME, &welcome.base);
    Sluice__Welcome *got = (Sluice__Welcome *) out.body;
    ck_assert_str_eq(got->worker, "w1");
    ck_assert_uint_eq(got->heartbeat_ms, 1000);
    ck_assert_uint_eq(got->liveness, 3);
    ck_assert_uint_eq(got->wall_ms, 1700000000999ull);
    ck_assert_uint_eq(got->n_cancel, 1);
    ck_assert_uint_eq(got->cancel[0], 7);
    env_msg_clear(&out);
}

END_TEST

START_TEST(test_envelope_heartbeat)
{
    uint64_t running[] = {5, 6, 7};
    Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
    hb.free_slots = 1;
    hb.n_running = 3;
    hb.running = running;
    hb.wall_ms = 42;
    env_msg_t out = s_round_trip(SLUICE__MSG_TYPE__MSG_HEARTBEAT, &hb.base);
    Sluice__Heartbeat *got = (Sluice__Heartbeat *) out.body;
    ck_assert_uint_eq(got->free_slots, 1);
    ck_assert_uint_eq(got->n_running, 3);
    ck_assert_uint_eq(got->running[2], 7);
    ck_assert_uint_eq(got->wall_ms, 42);
    env_msg_clear(&out);

    /* An all-default heartbeat has an empty body, and still opens. */
    Sluice__Heartbeat empty = SLUICE__HEARTBEAT__INIT;
    out = s_round_trip(SLUICE__MSG_TYPE__MSG_HEARTBEAT, &empty.base);
    ck_assert_uint_eq(((Sluice__Heartbeat *) out.body)->n_running, 0);
    env_msg_clear(&out);
}

END_TEST

START_TEST(test_envelope_task)
{
    uint8_t nonce[16];
    for (int i = 0; i < 16; i++) {
        nonce[i] = (uint8_t) (i * 17);
    }
    Sluice__EnvVar var1 = SLUICE__ENV_VAR__INIT;
    var1.name = "EPOCHS";
    var1.value = "3";
    Sluice__EnvVar var2 = SLUICE__ENV_VAR__INIT;
    var2.name = "EMPTY";
    var2.value = "";
    Sluice__EnvVar *env[] = {&var1, &var2};
    Sluice__Resources res = SLUICE__RESOURCES__INIT;
    res.cpus = 2;
    res.memory_mb = 4096;
    Sluice__Task task = SLUICE__TASK__INIT;
    task.worker = "w1";
    task.issued_ms = 1000;
    task.expires_ms = 31000;
    task.nonce.len = sizeof nonce;
    task.nonce.data = nonce;
    task.attempt_id = 812;
    task.run_id = 99;
    task.dag = "ai-pipeline";
    task.task_id = "train";
    task.attempt = 2;
    task.command = "python train.py --epochs 3 'quoted arg'";
    task.n_env = 2;
    task.env = env;
    task.timeout_ms = 3600000;
    task.kill_grace_ms = 5000;
    task.logical_date = "2024-05-01";
    task.kind = "train";
    task.resources = &res;

    env_msg_t out = s_round_trip(SLUICE__MSG_TYPE__MSG_TASK, &task.base);
    Sluice__Task *got = (Sluice__Task *) out.body;
    ck_assert_str_eq(got->worker, "w1");
    ck_assert_uint_eq(got->issued_ms, 1000);
    ck_assert_uint_eq(got->expires_ms, 31000);
    ck_assert_uint_eq(got->nonce.len, 16);
    ck_assert_mem_eq(got->nonce.data, nonce, 16);
    ck_assert_uint_eq(got->attempt_id, 812);
    ck_assert_uint_eq(got->run_id, 99);
    ck_assert_str_eq(got->dag, "ai-pipeline");
    ck_assert_str_eq(got->task_id, "train");
    ck_assert_uint_eq(got->attempt, 2);
    ck_assert_str_eq(got->command, task.command);
    ck_assert_uint_eq(got->n_env, 2);
    ck_assert_str_eq(got->env[0]->name, "EPOCHS");
    ck_assert_str_eq(got->env[0]->value, "3");
    ck_assert_str_eq(got->env[1]->value, "");
    ck_assert_uint_eq(got->timeout_ms, 3600000);
    ck_assert_uint_eq(got->kill_grace_ms, 5000);
    ck_assert_str_eq(got->logical_date, "2024-05-01");
    ck_assert_str_eq(got->kind, "train");
    ck_assert_uint_eq(got->resources->cpus, 2);
    ck_assert_uint_eq(got->resources->memory_mb, 4096);
    env_msg_clear(&out);
}

END_TEST

START_TEST(test_envelope_log_chunk)
{
    const uint8_t data[] = {'o', 'k', '\n', 0, 0xff, '\r'};
    Sluice__LogChunk chunk = SLUICE__LOG_CHUNK__INIT;
    chunk.attempt_id = 812;
    chunk.stream = 2;
    chunk.seq = 7;
    chunk.data.len = sizeof data;
    chunk.data.data = (uint8_t *) data;
    chunk.wall_ms = 123456;
    env_msg_t out = s_round_trip(SLUICE__MSG_TYPE__MSG_LOG, &chunk.base);
    Sluice__LogChunk *got = (Sluice__LogChunk *) out.body;
    ck_assert_uint_eq(got->attempt_id, 812);
    ck_assert_uint_eq(got->stream, 2);
    ck_assert_uint_eq(got->seq, 7);
    ck_assert_uint_eq(got->data.len, sizeof data);
    ck_assert_mem_eq(got->data.data, data, sizeof data);
    ck_assert_uint_eq(got->wall_ms, 123456);
    env_msg_clear(&out);
}

END_TEST

START_TEST(test_envelope_result)
{
    Sluice__Result result = SLUICE__RESULT__INIT;
    result.attempt_id = 812;
    result.outcome = SLUICE__OUTCOME__OUTCOME_SIGNALED;
    result.exit_code = -1;
    result.signal = 9;
    result.started_ms = 1000;
    result.ended_ms = 2500;
    result.duration_ms = 1499;
    result.peak_rss_kb = 204800;
    result.error = "killed by signal 9";
    result.free_slots = 3;
    result.log_chunks = 12;
    result.log_bytes = 1u << 20;
    result.log_truncated = true;
    env_msg_t out = s_round_trip(SLUICE__MSG_TYPE__MSG_RESULT, &result.base);
    Sluice__Result *got = (Sluice__Result *) out.body;
    ck_assert_uint_eq(got->attempt_id, 812);
    ck_assert_int_eq(got->outcome, SLUICE__OUTCOME__OUTCOME_SIGNALED);
    ck_assert_int_eq(got->exit_code, -1);
    ck_assert_int_eq(got->signal, 9);
    ck_assert_uint_eq(got->started_ms, 1000);
    ck_assert_uint_eq(got->ended_ms, 2500);
    ck_assert_uint_eq(got->duration_ms, 1499);
    ck_assert_uint_eq(got->peak_rss_kb, 204800);
    ck_assert_str_eq(got->error, "killed by signal 9");
    ck_assert_uint_eq(got->free_slots, 3);
    ck_assert_uint_eq(got->log_chunks, 12);
    ck_assert_uint_eq(got->log_bytes, 1u << 20);
    ck_assert(got->log_truncated);
    env_msg_clear(&out);
}

END_TEST

START_TEST(test_envelope_result_ack)
{
    uint64_t ids[] = {1, 2, UINT64_MAX};
    Sluice__ResultAck ack = SLUICE__RESULT_ACK__INIT;
    ack.n_attempt_ids = 3;
    ack.attempt_ids = ids;
    env_msg_t out = s_round_trip(SLUICE__MSG_TYPE__MSG_RESULT_ACK, &ack.base);
    Sluice__ResultAck *got = (Sluice__ResultAck *) out.body;
    ck_assert_uint_eq(got->n_attempt_ids, 3);
    ck_assert_uint_eq(got->attempt_ids[0], 1);
    ck_assert_uint_eq(got->attempt_ids[2], UINT64_MAX);
    env_msg_clear(&out);
}

END_TEST

START_TEST(test_envelope_cancel_goodbye_refuse)
{
    Sluice__Cancel cancel = SLUICE__CANCEL__INIT;
    cancel.attempt_id = 9;
    cancel.reason = "run cancelled";
    env_msg_t out = s_round_trip(SLUICE__MSG_TYPE__MSG_CANCEL, &cancel.base);
    ck_assert_uint_eq(((Sluice__Cancel *) out.body)->attempt_id, 9);
    ck_assert_str_eq(((Sluice__Cancel *) out.body)->reason, "run cancelled");
    env_msg_clear(&out);

    Sluice__Goodbye bye = SLUICE__GOODBYE__INIT;
    bye.reason = "draining";
    out = s_round_trip(SLUICE__MSG_TYPE__MSG_GOODBYE, &bye.base);
    ck_assert_str_eq(((Sluice__Goodbye *) out.body)->reason, "draining");
    env_msg_clear(&out);

    Sluice__Refuse refuse = SLUICE__REFUSE__INIT;
    refuse.code = 1;
    refuse.reason = "peer speaks protocol 2.0, this sluice speaks 1.0";
    refuse.major = 1;
    refuse.minor = 0;
    out = s_round_trip(SLUICE__MSG_TYPE__MSG_REFUSE, &refuse.base);
    Sluice__Refuse *got = (Sluice__Refuse *) out.body;
    ck_assert_uint_eq(got->code, 1);
    ck_assert_str_eq(got->reason, refuse.reason);
    ck_assert_uint_eq(got->major, 1);
    ck_assert_uint_eq(got->minor, 0);
    env_msg_clear(&out);
}

END_TEST

START_TEST(test_envelope_task_refused)
{
    Sluice__TaskRefused refused = SLUICE__TASK_REFUSED__INIT;
    refused.attempt_id = 812;
    refused.reason = "task expired";
    refused.free_slots = 4;
    env_msg_t out =
        s_round_trip(SLUICE__MSG_TYPE__MSG_TASK_REFUSED, &refused.base);
    Sluice__TaskRefused *got = (Sluice__TaskRefused *) out.body;
    ck_assert_uint_eq(got->attempt_id, 812);
    ck_assert_str_eq(got->reason, "task expired");
    ck_assert_uint_eq(got->free_slots, 4);
    env_msg_clear(&out);
}

END_TEST

START_TEST(test_envelope_request_reply)
{
    Sluice__Param param = SLUICE__PARAM__INIT;
    param.name = "epochs";
    param.value = "5";
    Sluice__Param *params[] = {&param};
    Sluice__TriggerReq trigger = SLUICE__TRIGGER_REQ__INIT;
    trigger.dag = "ai-pipeline";
    trigger.n_params = 1;
    trigger.params = params;
    trigger.logical_date = "2024-05-01";
    Sluice__Request req = SLUICE__REQUEST__INIT;
    req.request_id = 42;
    req.op_case = SLUICE__REQUEST__OP_TRIGGER;
    req.trigger = &trigger;
    env_msg_t out = s_round_trip(SLUICE__MSG_TYPE__MSG_REQUEST, &req.base);
    Sluice__Request *got_req = (Sluice__Request *) out.body;
    ck_assert_uint_eq(got_req->request_id, 42);
    ck_assert_int_eq(got_req->op_case, SLUICE__REQUEST__OP_TRIGGER);
    ck_assert_str_eq(got_req->trigger->dag, "ai-pipeline");
    ck_assert_uint_eq(got_req->trigger->n_params, 1);
    ck_assert_str_eq(got_req->trigger->params[0]->name, "epochs");
    ck_assert_str_eq(got_req->trigger->params[0]->value, "5");
    ck_assert_str_eq(got_req->trigger->logical_date, "2024-05-01");
    env_msg_clear(&out);

    Sluice__ErrorRep error = SLUICE__ERROR_REP__INIT;
    error.code = 2;
    error.message = "dag 'nope' is not defined; run 'sluice dag list'";
    Sluice__Reply reply = SLUICE__REPLY__INIT;
    reply.request_id = 42;
    reply.op_case = SLUICE__REPLY__OP_ERROR;
    reply.error = &error;
    out = s_round_trip(SLUICE__MSG_TYPE__MSG_REPLY, &reply.base);
    Sluice__Reply *got_rep = (Sluice__Reply *) out.body;
    ck_assert_uint_eq(got_rep->request_id, 42);
    ck_assert_int_eq(got_rep->op_case, SLUICE__REPLY__OP_ERROR);
    ck_assert_uint_eq(got_rep->error->code, 2);
    ck_assert_str_eq(got_rep->error->message, error.message);
    env_msg_clear(&out);
}

END_TEST

START_TEST(test_envelope_known_answer)
{
    /* The test vector of PROTOCOL.md 2.4: what another implementation must
     * produce for Cancel{812, "user"} signed by the seed 00 01 .. 1f. */
    static const char *const frames_hex[ENV_FRAMES] = {
        "0100",
        "08",
        "08ac06120475736572",
        "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
        "2e357f1cd2901c555ba4b3b682ed3f8f1716b0b12a441c5d64249c7484959141"
        "f8ab68e8ac7aa1f1c0fc2b05a660205af87813d795c1da6aaf9919dad8308f0a",
    };
    zmsg_t *msg = zmsg_new();
    for (int i = 0; i < ENV_FRAMES; i++) {
        uint8_t bytes[64];
        size_t len = strlen(frames_hex[i]) / 2;
        for (size_t j = 0; j < len; j++) {
            unsigned byte;
            ck_assert_int_eq(sscanf(frames_hex[i] + 2 * j, "%2x", &byte), 1);
            bytes[j] = (uint8_t) byte;
        }
        zmsg_addmem(msg, bytes, len);
    }
    env_msg_t out;
    errbuf_t err;
    int rc = env_open(msg, NULL, NULL, &out, &err);
    ck_assert_msg(rc == ENV_OK, "%s", err.msg);
    ck_assert_int_eq(out.type, SLUICE__MSG_TYPE__MSG_CANCEL);
    ck_assert_uint_eq(((Sluice__Cancel *) out.body)->attempt_id, 812);
    ck_assert_str_eq(((Sluice__Cancel *) out.body)->reason, "user");
    env_msg_clear(&out);
    zmsg_destroy(&msg);
}

END_TEST

START_TEST(test_envelope_every_type_has_descriptor)
{
    const ProtobufCEnumDescriptor *types = &sluice__msg_type__descriptor;
    for (unsigned i = 0; i < types->n_values; i++) {
        int type = types->values[i].value;
        if (type == SLUICE__MSG_TYPE__MSG_UNSPECIFIED) {
            ck_assert_ptr_null(env_descriptor(type));
            continue;
        }
        ck_assert_msg(env_descriptor(type), "no descriptor for %s",
                      types->values[i].name);
        ck_assert_str_ne(env_type_name(type), "unknown");
    }
    ck_assert_ptr_null(env_descriptor(99));
    ck_assert_str_eq(env_type_name(99), "unknown");
    ck_assert_str_eq(env_type_name(SLUICE__MSG_TYPE__MSG_RESULT), "result");
    ck_assert_str_eq(env_strerror(ENV_EBADSIG), "bad signature");
    ck_assert_str_eq(env_strerror(ENV_OK), "ok");
    ck_assert_str_eq(env_strerror(-77), "unknown error");
}

END_TEST

/* ------------------------------------------------------------ refusals */

/* Flips every bit of one frame in turn; each copy must be refused. */
static void
s_flip_every_bit(zmsg_t *msg, size_t index, int expect)
{
    size_t size = zframe_size(s_frame(msg, index));
    ck_assert_uint_gt(size, 0);
    for (size_t bit = 0; bit < size * 8; bit++) {
        uint8_t *data = xmalloc(size);
        memcpy(data, zframe_data(s_frame(msg, index)), size);
        data[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        zmsg_t *bad = s_replace_frame(msg, index, data, size);
        errbuf_t err;
        int rc = s_open_rc(bad, &err);
        ck_assert_msg(rc == expect, "frame %zu bit %zu: got %s (%s)", index,
                      bit, env_strerror(rc), err.msg);
        zmsg_destroy(&bad);
        free(data);
    }
}

START_TEST(test_envelope_flipped_bits)
{
    keys_t *keys = keys_generate();
    zmsg_t *msg = s_small_cancel(keys);
    errbuf_t err;
    ck_assert_int_eq(s_open_rc(msg, &err), ENV_OK);
    s_flip_every_bit(msg, 2, ENV_EBADSIG); /* body */
    s_flip_every_bit(msg, 3, ENV_EBADSIG); /* signer */
    s_flip_every_bit(msg, 4, ENV_EBADSIG); /* signature */
    s_flip_every_bit(msg, 1, ENV_EBADSIG); /* type */
    /* A flipped minor is signed over too; a flipped major never matches. */
    uint8_t version[2] = {ENV_MAJOR, ENV_MINOR ^ 0x10};
    zmsg_t *bad = s_replace_frame(msg, 0, version, 2);
    ck_assert_int_eq(s_open_rc(bad, &err), ENV_EBADSIG);
    zmsg_destroy(&bad);
    version[0] = ENV_MAJOR ^ 0x01;
    version[1] = ENV_MINOR;
    bad = s_replace_frame(msg, 0, version, 2);
    ck_assert_int_eq(s_open_rc(bad, &err), ENV_EVERSION);
    zmsg_destroy(&bad);
    zmsg_destroy(&msg);
    keys_destroy(&keys);
}

END_TEST

START_TEST(test_envelope_wrong_frame_count)
{
    keys_t *keys = keys_generate();
    zmsg_t *msg = s_small_cancel(keys);
    errbuf_t err;

    zmsg_t *empty = zmsg_new();
    ck_assert_int_eq(s_open_rc(empty, &err), ENV_EMALFORMED);
    zmsg_destroy(&empty);

    /* Each prefix of the five frames, and one frame too many. */
    for (size_t keep = 1; keep < ENV_FRAMES; keep++) {
        zmsg_t *short_msg = zmsg_new();
        for (size_t i = 0; i < keep; i++) {
            zframe_t *frame = s_frame(msg, i);
            zmsg_addmem(short_msg, zframe_data(frame), zframe_size(frame));
        }
        ck_assert_int_eq(s_open_rc(short_msg, &err), ENV_EMALFORMED);
        ck_assert_msg(strstr(err.msg, "frames"), "%s", err.msg);
        zmsg_destroy(&short_msg);
    }
    zmsg_t *longer = zmsg_dup(msg);
    zmsg_addstr(longer, "extra");
    ck_assert_int_eq(s_open_rc(longer, &err), ENV_EMALFORMED);
    zmsg_destroy(&longer);

    /* Routing frames left in front are not an envelope either. */
    zmsg_t *routed = zmsg_dup(msg);
    zmsg_pushstr(routed, "");
    ck_assert_int_eq(s_open_rc(routed, &err), ENV_EMALFORMED);
    zmsg_destroy(&routed);

    zmsg_destroy(&msg);
    keys_destroy(&keys);
}

END_TEST

START_TEST(test_envelope_truncated_frames)
{
    keys_t *keys = keys_generate();
    zmsg_t *msg = s_small_cancel(keys);
    errbuf_t err;
    for (size_t index = 0; index < ENV_FRAMES; index++) {
        zframe_t *frame = s_frame(msg, index);
        size_t size = zframe_size(frame);
        /* One byte short, and one byte too long. */
        uint8_t *data = xcalloc(1, size + 1);
        memcpy(data, zframe_data(frame), size);
        int expect = index == 2 ? ENV_EBADSIG : ENV_EMALFORMED;
        zmsg_t *bad = s_replace_frame(msg, index, data, size - 1);
        ck_assert_msg(s_open_rc(bad, &err) == expect, "frame %zu short: %s",
                      index, err.msg);
        zmsg_destroy(&bad);
        bad = s_replace_frame(msg, index, data, size + 1);
        ck_assert_msg(s_open_rc(bad, &err) == expect, "frame %zu long: %s",
                      index, err.msg);
        zmsg_destroy(&bad);
        free(data);
    }
    zmsg_destroy(&msg);
    keys_destroy(&keys);
}

END_TEST

START_TEST(test_envelope_body_too_big)
{
    keys_t *keys = keys_generate();
    size_t size = 16u * 1024 * 1024 + 1;
    uint8_t *body = xcalloc(1, size);
    zmsg_t *msg = s_craft(ENV_MAJOR, ENV_MINOR, SLUICE__MSG_TYPE__MSG_LOG, body,
                          size, keys);
    errbuf_t err;
    ck_assert_int_eq(s_open_rc(msg, &err), ENV_EMALFORMED);
    ck_assert_msg(strstr(err.msg, "body"), "%s", err.msg);
    zmsg_destroy(&msg);
    free(body);
    keys_destroy(&keys);
}

END_TEST

/* Trusts only the key passed as arg; counts calls. */
typedef struct {
    const uint8_t *trusted;
    int calls;
    int last_type;
} s_trust_t;

static bool
s_trust(void *arg, const uint8_t *signer, int type)
{
    s_trust_t *trust = arg;
    trust->calls++;
    trust->last_type = type;
    return memcmp(signer, trust->trusted, KEYS_PUBLIC_SIZE) == 0;
}

START_TEST(test_envelope_untrusted_signer)
{
    keys_t *scheduler = keys_generate();
    keys_t *stranger = keys_generate();
    s_trust_t trust = {keys_public(scheduler), 0, 0};
    env_msg_t out;
    errbuf_t err;

    zmsg_t *good = s_small_cancel(scheduler);
    ck_assert_int_eq(env_open(good, s_trust, &trust, &out, &err), ENV_OK);
    ck_assert_int_eq(trust.calls, 1);
    ck_assert_int_eq(trust.last_type, SLUICE__MSG_TYPE__MSG_CANCEL);
    env_msg_clear(&out);

    zmsg_t *forged = s_small_cancel(stranger);
    ck_assert_int_eq(env_open(forged, s_trust, &trust, &out, &err),
                     ENV_EUNTRUSTED);
    ck_assert_ptr_null(out.body);
    ck_assert_msg(strstr(err.msg, "untrusted"), "%s", err.msg);
    ck_assert_int_eq(trust.calls, 2);

    /* A bad signature is refused before trust is even asked. */
    zframe_data(s_frame(good, 4))[0] ^= 0x80;
    ck_assert_int_eq(env_open(good, s_trust, &trust, &out, &err), ENV_EBADSIG);
    ck_assert_int_eq(trust.calls, 2);

    zmsg_destroy(&good);
    zmsg_destroy(&forged);
    keys_destroy(&scheduler);
    keys_destroy(&stranger);
}

END_TEST

START_TEST(test_envelope_major_version_refused)
{
    keys_t *keys = keys_generate();
    Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
    hb.wall_ms = 5;
    uint8_t body[64];
    size_t size = protobuf_c_message_pack(&hb.base, body);
    zmsg_t *msg =
        s_craft(2, 0, SLUICE__MSG_TYPE__MSG_HEARTBEAT, body, size, keys);
    env_msg_t out;
    errbuf_t err;
    ck_assert_int_eq(env_open(msg, NULL, NULL, &out, &err), ENV_EVERSION);
    char ours[16];
    snprintf(ours, sizeof ours, "%d.%d", ENV_MAJOR, ENV_MINOR);
    ck_assert_msg(strstr(err.msg, "2.0") && strstr(err.msg, ours), "%s",
                  err.msg);
    ck_assert_msg(strstr(err.msg, "upgrade"), "%s", err.msg);
    /* The peer's version is kept so the caller can answer with Refuse. */
    ck_assert_int_eq(out.major, 2);
    ck_assert_ptr_null(out.body);
    zmsg_destroy(&msg);

    /* A future major may change the layout: still a version error. */
    msg = zmsg_new();
    uint8_t version[2] = {2, 3};
    zmsg_addmem(msg, version, 2);
    zmsg_addstr(msg, "something else entirely");
    ck_assert_int_eq(env_open(msg, NULL, NULL, &out, &err), ENV_EVERSION);
    ck_assert_msg(strstr(err.msg, "2.3"), "%s", err.msg);
    zmsg_destroy(&msg);
    keys_destroy(&keys);
}

END_TEST

START_TEST(test_envelope_minor_version_accepted)
{
    /* 1.7 with a field 1.0 does not know (number 99): decodes, field ignored. */
    keys_t *keys = keys_generate();
    Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
    hb.free_slots = 3;
    uint8_t body[64];
    size_t size = protobuf_c_message_pack(&hb.base, body);
    body[size++] = 0x98; /* tag: field 99, varint */
    body[size++] = 0x06;
    body[size++] = 0x01;
    zmsg_t *msg = s_craft(ENV_MAJOR, 7, SLUICE__MSG_TYPE__MSG_HEARTBEAT, body,
                          size, keys);
    env_msg_t out;
    errbuf_t err;
    int rc = env_open(msg, NULL, NULL, &out, &err);
    ck_assert_msg(rc == ENV_OK, "%s", err.msg);
    ck_assert_int_eq(out.major, ENV_MAJOR);
    ck_assert_int_eq(out.minor, 7);
    ck_assert_uint_eq(((Sluice__Heartbeat *) out.body)->free_slots, 3);
    env_msg_clear(&out);
    zmsg_destroy(&msg);
    keys_destroy(&keys);
}

END_TEST

START_TEST(test_envelope_unknown_type_refused)
{
    keys_t *keys = keys_generate();
    errbuf_t err;
    const int types[] = {0, 13, 31, 34, 99, 255};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        zmsg_t *msg =
            s_craft(ENV_MAJOR, ENV_MINOR, (uint8_t) types[i], "", 0, keys);
        ck_assert_int_eq(s_open_rc(msg, &err), ENV_EMALFORMED);
        ck_assert_msg(strstr(err.msg, "unknown message type"), "%s", err.msg);
        zmsg_destroy(&msg);
    }
    keys_destroy(&keys);
}

END_TEST

START_TEST(test_envelope_signed_garbage_body)
{
    /* Verified, trusted, known type, but not protobuf: a decode error. A
     * forged signature over the same garbage never reaches the decoder. */
    keys_t *keys = keys_generate();
    const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f};
    zmsg_t *msg = s_craft(ENV_MAJOR, ENV_MINOR, SLUICE__MSG_TYPE__MSG_TASK,
                          garbage, sizeof garbage, keys);
    errbuf_t err;
    ck_assert_int_eq(s_open_rc(msg, &err), ENV_EDECODE);
    zframe_data(s_frame(msg, 4))[5] ^= 0x01;
    ck_assert_int_eq(s_open_rc(msg, &err), ENV_EBADSIG);
    zmsg_destroy(&msg);
    keys_destroy(&keys);
}

END_TEST

/* ------------------------------------------------------------ batches */

/* A heartbeat, a task and an ack: what one turn may have for a worker. */
static void
s_batch_fill(env_batch_t *batch)
{
    Sluice__Heartbeat hb = SLUICE__HEARTBEAT__INIT;
    hb.wall_ms = 77;
    env_batch_add(batch, SLUICE__MSG_TYPE__MSG_HEARTBEAT, &hb.base);
    Sluice__Task task = SLUICE__TASK__INIT;
    task.worker = "w1";
    task.attempt_id = 812;
    task.command = "true";
    env_batch_add(batch, SLUICE__MSG_TYPE__MSG_TASK, &task.base);
    uint64_t ids[] = {5, 6};
    Sluice__ResultAck ack = SLUICE__RESULT_ACK__INIT;
    ack.n_attempt_ids = 2;
    ack.attempt_ids = ids;
    env_batch_add(batch, SLUICE__MSG_TYPE__MSG_RESULT_ACK, &ack.base);
}

/* The three items of s_batch_fill, sealed for a peer that speaks batches:
 * one envelope. */
static zmsg_t *
s_batch_sealed(const keys_t *keys)
{
    env_batch_t *batch = env_batch_new();
    s_batch_fill(batch);
    zlistx_t *out = zlistx_new();
    ck_assert_uint_eq(env_batch_seal(batch, keys, ENV_MINOR_BATCH, out), 1);
    zmsg_t *msg = zlistx_first(out);
    zlistx_destroy(&out);
    env_batch_destroy(&batch);
    return msg;
}

static void
s_batch_check_items(const env_msg_t *out, const keys_t *keys)
{
    ck_assert_int_eq(out->type, SLUICE__MSG_TYPE__MSG_BATCH);
    ck_assert_uint_eq(out->nitems, 3);
    const int types[] = {SLUICE__MSG_TYPE__MSG_HEARTBEAT,
                         SLUICE__MSG_TYPE__MSG_TASK,
                         SLUICE__MSG_TYPE__MSG_RESULT_ACK};
    for (size_t i = 0; i < 3; i++) {
        const env_msg_t *item = &out->items[i];
        ck_assert_int_eq(item->type, types[i]);
        ck_assert_ptr_eq(item->batch, out);
        ck_assert_mem_eq(item->signer, keys_public(keys), KEYS_PUBLIC_SIZE);
        ck_assert_mem_eq(item->sig, out->sig, KEYS_SIG_SIZE);
        size_t size;
        ck_assert_ptr_eq(env_signed(item, &size), env_signed(out, &size));
    }
    ck_assert_uint_eq(((Sluice__Task *) out->items[1].body)->attempt_id, 812);
    ck_assert_uint_eq(
        ((Sluice__ResultAck *) out->items[2].body)->attempt_ids[1], 6);
}

START_TEST(test_envelope_batch_round_trip)
{
    keys_t *keys = keys_generate();
    env_batch_t *batch = env_batch_new();
    zlistx_t *out = zlistx_new();
    errbuf_t err;
    env_msg_t opened;
    /* One item: a plain envelope of its own type. */
    Sluice__Cancel cancel = SLUICE__CANCEL__INIT;
    cancel.attempt_id = 9;
    env_batch_add(batch, SLUICE__MSG_TYPE__MSG_CANCEL, &cancel.base);
    ck_assert_uint_eq(env_batch_count(batch), 1);
    ck_assert_uint_eq(env_batch_seal(batch, keys, ENV_MINOR, out), 1);
    ck_assert_uint_eq(env_batch_count(batch), 0);
    zmsg_t *msg = zlistx_first(out);
    ck_assert_int_eq(env_open(msg, NULL, NULL, &opened, &err), ENV_OK);
    ck_assert_int_eq(opened.type, SLUICE__MSG_TYPE__MSG_CANCEL);
    ck_assert_uint_eq(opened.nitems, 0);
    env_msg_clear(&opened);
    zmsg_destroy(&msg);
    zlistx_purge(out);
    /* Several: one MSG_BATCH signed once, items in order. */
    msg = s_batch_sealed(keys);
    ck_assert_int_eq(env_open(msg, NULL, NULL, &opened, &err), ENV_OK);
    s_batch_check_items(&opened, keys);
    env_msg_clear(&opened);
    zmsg_destroy(&msg);
    /* A peer below ENV_MINOR_BATCH: each item in its own envelope. */
    s_batch_fill(batch);
    ck_assert_uint_eq(env_batch_seal(batch, keys, 0, out), 3);
    const int types[] = {SLUICE__MSG_TYPE__MSG_HEARTBEAT,
                         SLUICE__MSG_TYPE__MSG_TASK,
                         SLUICE__MSG_TYPE__MSG_RESULT_ACK};
    size_t i = 0;
    for (msg = zlistx_first(out); msg; msg = zlistx_next(out), i++) {
        ck_assert_int_eq(env_open(msg, NULL, NULL, &opened, &err), ENV_OK);
        ck_assert_int_eq(opened.type, types[i]);
        env_msg_clear(&opened);
        zmsg_destroy(&msg);
    }
    ck_assert_uint_eq(i, 3);
    zlistx_destroy(&out);
    env_batch_destroy(&batch);
    keys_destroy(&keys);
}

END_TEST

START_TEST(test_envelope_batch_tampered_item)
{
    /* One flipped byte anywhere inside one item: the signature fails and
     * no item is decoded. */
    keys_t *keys = keys_generate();
    zmsg_t *msg = s_batch_sealed(keys);
    zframe_t *body = s_frame(msg, 2);
    for (size_t at = 0; at < zframe_size(body); at += 7) {
        zframe_data(body)[at] ^= 0x20;
        env_msg_t out;
        errbuf_t err;
        ck_assert_int_eq(env_open(msg, NULL, NULL, &out, &err), ENV_EBADSIG);
        ck_assert_uint_eq(out.nitems, 0);
        ck_assert_ptr_null(out.items);
        ck_assert_ptr_null(out.body);
        zframe_data(body)[at] ^= 0x20;
    }
    zmsg_destroy(&msg);
    keys_destroy(&keys);
}

END_TEST

/* A signed MSG_BATCH holding items[] (type, body) as given. */
static zmsg_t *
s_craft_batch(const int *types,
              const void *const *bodies,
              const size_t *sizes,
              size_t n,
              const keys_t *keys)
{
    Sluice__BatchItem items[4];
    Sluice__BatchItem *ptrs[4];
    ck_assert_uint_le(n, 4);
    for (size_t i = 0; i < n; i++) {
        sluice__batch_item__init(&items[i]);
        items[i].type = (uint32_t) types[i];
        items[i].body.data = (uint8_t *) bodies[i];
        items[i].body.len = sizes[i];
        ptrs[i] = &items[i];
    }
    Sluice__Batch batch = SLUICE__BATCH__INIT;
    batch.n_items = n;
    batch.items = ptrs;
    size_t size = protobuf_c_message_get_packed_size(&batch.base);
    uint8_t *packed = xmalloc(size + 1);
    protobuf_c_message_pack(&batch.base, packed);
    zmsg_t *msg = s_craft(ENV_MAJOR, ENV_MINOR, SLUICE__MSG_TYPE__MSG_BATCH,
                          packed, size, keys);
    free(packed);
    return msg;
}

static bool
s_no_results(void *arg, const uint8_t *signer, int type)
{
    (void) arg;
    (void) signer;
    return type != SLUICE__MSG_TYPE__MSG_RESULT;
}

START_TEST(test_envelope_batch_refused_whole)
{
    keys_t *keys = keys_generate();
    errbuf_t err;
    const uint8_t hb[] = {0x18, 0x05}; /* Heartbeat.wall_ms = 5 */
    const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x0f};
    const int hb_task[] = {SLUICE__MSG_TYPE__MSG_HEARTBEAT,
                           SLUICE__MSG_TYPE__MSG_TASK};
    const void *bodies[] = {hb, garbage};
    const size_t sizes[] = {sizeof hb, sizeof garbage};
    /* An item that does not decode. */
    zmsg_t *msg = s_craft_batch(hb_task, bodies, sizes, 2, keys);
    ck_assert_int_eq(s_open_rc(msg, &err), ENV_EDECODE);
    zmsg_destroy(&msg);
    /* A batch inside a batch. */
    const int nested[] = {SLUICE__MSG_TYPE__MSG_HEARTBEAT,
                          SLUICE__MSG_TYPE__MSG_BATCH};
    const void *nbodies[] = {hb, ""};
    const size_t nsizes[] = {sizeof hb, 0};
    msg = s_craft_batch(nested, nbodies, nsizes, 2, keys);
    ck_assert_int_eq(s_open_rc(msg, &err), ENV_EMALFORMED);
    zmsg_destroy(&msg);
    /* An item of an unknown type. */
    const int unknown[] = {SLUICE__MSG_TYPE__MSG_HEARTBEAT, 99};
    msg = s_craft_batch(unknown, nbodies, nsizes, 2, keys);
    ck_assert_int_eq(s_open_rc(msg, &err), ENV_EMALFORMED);
    zmsg_destroy(&msg);
    /* An empty batch. */
    msg = s_craft_batch(NULL, NULL, NULL, 0, keys);
    ck_assert_int_eq(s_open_rc(msg, &err), ENV_EMALFORMED);
    zmsg_destroy(&msg);
    /* An item its signer may not send. */
    Sluice__Result res = SLUICE__RESULT__INIT;
    res.attempt_id = 3;
    Sluice__Heartbeat beat = SLUICE__HEARTBEAT__INIT;
    env_batch_t *batch = env_batch_new();
    env_batch_add(batch, SLUICE__MSG_TYPE__MSG_HEARTBEAT, &beat.base);
    env_batch_add(batch, SLUICE__MSG_TYPE__MSG_RESULT, &res.base);
    zlistx_t *out = zlistx_new();
    env_batch_seal(batch, keys, ENV_MINOR, out);
    msg = zlistx_first(out);
    env_msg_t opened;
    ck_assert_int_eq(env_open(msg, s_no_results, NULL, &opened, &err),
                     ENV_EUNTRUSTED);
    ck_assert_uint_eq(opened.nitems, 0);
    zmsg_destroy(&msg);
    zlistx_destroy(&out);
    env_batch_destroy(&batch);
    keys_destroy(&keys);
}

END_TEST

START_TEST(test_envelope_batch_reopen)
{
    /* A batch kept as signed bytes + signature (a Result that came in one
     * is stored so) opens again, verified first, items and all. */
    keys_t *keys = keys_generate();
    zmsg_t *msg = s_batch_sealed(keys);
    env_msg_t opened, again;
    errbuf_t err;
    ck_assert_int_eq(env_open(msg, NULL, NULL, &opened, &err), ENV_OK);
    size_t size;
    const uint8_t *bytes = env_signed(&opened.items[1], &size);
    ck_assert_int_eq(
        env_reopen(bytes, size, opened.signer, opened.sig, &again, &err),
        ENV_OK);
    s_batch_check_items(&again, keys);
    env_msg_clear(&again);
    uint8_t *copy = xmalloc(size);
    memcpy(copy, bytes, size);
    copy[size / 2] ^= 0x01;
    ck_assert_int_eq(
        env_reopen(copy, size, opened.signer, opened.sig, &again, &err),
        ENV_EBADSIG);
    ck_assert_uint_eq(again.nitems, 0);
    free(copy);
    env_msg_clear(&opened);
    zmsg_destroy(&msg);
    keys_destroy(&keys);
}

END_TEST

Suite *
envelope_suite(void)
{
    Suite *s = suite_create("envelope");
    TCase *tc = tcase_create("round trip");
    tcase_add_test(tc, test_envelope_usage);
    tcase_add_test(tc, test_envelope_register);
    tcase_add_test(tc, test_envelope_welcome);
    tcase_add_test(tc, test_envelope_heartbeat);
    tcase_add_test(tc, test_envelope_task);
    tcase_add_test(tc, test_envelope_log_chunk);
    tcase_add_test(tc, test_envelope_result);
    tcase_add_test(tc, test_envelope_result_ack);
    tcase_add_test(tc, test_envelope_cancel_goodbye_refuse);
    tcase_add_test(tc, test_envelope_task_refused);
    tcase_add_test(tc, test_envelope_request_reply);
    tcase_add_test(tc, test_envelope_known_answer);
    tcase_add_test(tc, test_envelope_every_type_has_descriptor);
    suite_add_tcase(s, tc);

    tc = tcase_create("refusals");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_envelope_flipped_bits);
    tcase_add_test(tc, test_envelope_wrong_frame_count);
    tcase_add_test(tc, test_envelope_truncated_frames);
    tcase_add_test(tc, test_envelope_body_too_big);
    tcase_add_test(tc, test_envelope_untrusted_signer);
    tcase_add_test(tc, test_envelope_major_version_refused);
    tcase_add_test(tc, test_envelope_minor_version_accepted);
    tcase_add_test(tc, test_envelope_unknown_type_refused);
    tcase_add_test(tc, test_envelope_signed_garbage_body);
    suite_add_tcase(s, tc);

    tc = tcase_create("batches");
    tcase_add_test(tc, test_envelope_batch_round_trip);
    tcase_add_test(tc, test_envelope_batch_tampered_item);
    tcase_add_test(tc, test_envelope_batch_refused_whole);
    tcase_add_test(tc, test_envelope_batch_reopen);
    suite_add_tcase(s, tc);
    return s;
}
