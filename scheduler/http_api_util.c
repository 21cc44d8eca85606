/* http_api_util — the helpers of the JSON API's handlers: protobuf replies
 * as JSON or HTTP errors, strict parsing of what the request carries. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "proto/codes.h"
#include "proto/pbjson.h"
#include "scheduler/http_api_internal.h"

json_t *
http_api_out_open(http_api_out_t *out)
{
    memset(out, 0, sizeof *out);
    out->file = open_memstream(&out->data, &out->size);
    if (!out->file) {
        abort(); /* only out of memory fails here */
    }
    out->json = json_new(out->file, false);
    return out->json;
}

char *
http_api_out_take(http_api_out_t *out, size_t *size)
{
    json_destroy(&out->json);
    fclose(out->file);
    out->file = NULL;
    if (size) {
        *size = out->size;
    }
    char *data = out->data;
    out->data = NULL;
    return data;
}

int
http_api_out_reply(http_req_t *req, http_api_out_t *out, unsigned status)
{
    char *data = http_api_out_take(out, NULL);
    return http_reply_json(req, status, &data);
}

unsigned
http_api_status(uint32_t code)
{
    switch (code) {
        case API_E_BAD_REQUEST:
            return 400;
        case API_E_NOT_FOUND:
            return 404;
        case API_E_REFUSED:
            return 403;
        case API_E_STORE_FULL:
            return 507;
        default:
            return 500;
    }
}

int
http_api_reply(http_req_t *req, Sluice__Reply *rep)
{
    if (!rep) {
        return http_reply_error(req, 500,
                                "the scheduler gave no answer; "
                                "see its log");
    }
    int ret;
    if (rep->op_case == SLUICE__REPLY__OP_ERROR) {
        ret = http_reply_error(req, http_api_status(rep->error->code), "%s",
                               rep->error->message);
    } else {
        /* The op's message, whichever it is: the oneof member whose field
         * number is op_case. */
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field(rep->base.descriptor,
                                                    (unsigned) rep->op_case);
        const ProtobufCMessage *body =
            field ? *(ProtobufCMessage *const *) ((const char *) rep +
                                                  field->offset)
                  : NULL;
        http_api_out_t out;
        json_t *json = http_api_out_open(&out);
        if (body) {
            pbjson_write(json, body);
        } else {
            json_object_begin(json);
            json_object_end(json);
        }
        ret = http_api_out_reply(req, &out, 200);
    }
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    return ret;
}

int
http_api_call(http_req_t *req, Sluice__Request *call)
{
    errbuf_t err = {{0}};
    Sluice__Reply *rep = http_req_call(req, call, &err);
    if (!rep) {
        return http_reply_error(req, 503, "%s", errbuf_msg(&err));
    }
    return http_api_reply(req, rep);
}

store_t *
http_api_store(http_req_t *req)
{
    store_t *store = http_req_store(req);
    if (!store) {
        http_reply_error(req, 503,
                         "the scheduler cannot read its store now; see its "
                         "log");
    }
    return store;
}

int
http_api_read(http_req_t *req, http_api_read_fn *fn, Sluice__Request *call)
{
    store_t *store = http_api_store(req);
    return store ? http_api_reply(req, fn(store, call)) : 0;
}

int
http_api_bad(http_req_t *req, const errbuf_t *err)
{
    return http_reply_error(req, 400, "%s", errbuf_msg(err));
}

int
http_api_query_uint(http_req_t *req,
                    const char *name,
                    uint64_t def,
                    uint64_t min,
                    uint64_t max,
                    uint64_t *value,
                    errbuf_t *err)
{
    const char *text = http_req_query(req, name);
    if (!text) {
        *value = def;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*text < '0' || *text > '9' || *end || errno || v < min || v > max) {
        errbuf_set(err,
                   "'%s=%s' is not allowed; %s takes a whole number from "
                   "%" PRIu64 " to %" PRIu64,
                   name, text, name, min, max);
        return -1;
    }
    *value = v;
    return 0;
}

int
http_api_query_bool(
    http_req_t *req, const char *name, bool def, bool *value, errbuf_t *err)
{
    const char *text = http_req_query(req, name);
    if (!text) {
        *value = def;
    } else if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0) {
        *value = true;
    } else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0) {
        *value = false;
    } else {
        errbuf_set(err, "'%s=%s' is not allowed; %s takes true or false", name,
                   text, name);
        return -1;
    }
    return 0;
}

int
http_api_query_text(http_req_t *req,
                    const char *name,
                    bool required,
                    const char **value,
                    errbuf_t *err)
{
    const char *text = http_req_query(req, name);
    if (required && (!text || !*text)) {
        errbuf_set(err, "'%s' is missing; add ?%s=... to the URL", name, name);
        return -1;
    }
    *value = text ? text : "";
    return 0;
}

int
http_api_param_run(http_req_t *req, uint64_t *run_id, errbuf_t *err)
{
    const char *text = http_req_param(req, "run");
    char *end = NULL;
    errno = 0;
    unsigned long long v = text ? strtoull(text, &end, 10) : 0;
    if (!text || *text < '0' || *text > '9' || *end || errno || v == 0) {
        errbuf_set(err,
                   "'%s' is no run id; a run id is a whole number above 0, "
                   "as 'GET /api/v1/runs' lists them",
                   text ? text : "");
        return -1;
    }
    *run_id = v;
    return 0;
}

jsonval_t *
http_api_body(http_req_t *req, errbuf_t *err)
{
    size_t size = 0;
    const char *body = http_req_body(req, &size);
    size_t i = 0;
    while (i < size && strchr(" \t\r\n", body[i])) {
        i++;
    }
    if (i == size) {
        return jsonval_parse("{}", 2, err);
    }
    jsonval_t *v = jsonval_parse(body, size, err);
    if (v && jsonval_type(v) != JSONVAL_OBJECT) {
        errbuf_set(err, "the body is a JSON %s; send a JSON object",
                   jsonval_type_name(jsonval_type(v)));
        jsonval_destroy(&v);
    }
    return v;
}

/* "'a', 'b' or 'c'" for the names in allowed (NULL-terminated). */
static void
s_names(const char *const *allowed, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = 0; allowed[k] && len < size; k++) {
        const char *sep = k == 0 ? "" : allowed[k + 1] ? ", " : " or ";
        int n = snprintf(out + len, size - len, "%s'%s'", sep, allowed[k]);
        len += n > 0 ? (size_t) n : 0;
    }
}

int
http_api_body_only(const jsonval_t *body,
                   const char *const *allowed,
                   errbuf_t *err)
{
    for (size_t i = 0; i < jsonval_count(body); i++) {
        const char *key = jsonval_key(body, i);
        size_t k = 0;
        while (allowed[k] && strcmp(allowed[k], key) != 0) {
            k++;
        }
        if (!allowed[k]) {
            char names[256];
            s_names(allowed, names, sizeof names);
            errbuf_set(err, "the body has an unknown member '%s'; %s%s", key,
                       allowed[0] ? "it may have " : "send no body", names);
            return -1;
        }
    }
    return 0;
}

int
http_api_body_text(const jsonval_t *body,
                   const char *name,
                   const char **value,
                   errbuf_t *err)
{
    const jsonval_t *v = jsonval_get(body, name);
    *value = v ? jsonval_string(v, NULL) : NULL;
    if (v && !*value) {
        errbuf_set(err, "'%s' is a %s; send it as a string", name,
                   jsonval_type_name(jsonval_type(v)));
        return -1;
    }
    return 0;
}

int
http_api_body_bool(const jsonval_t *body,
                   const char *name,
                   bool def,
                   bool *value,
                   errbuf_t *err)
{
    const jsonval_t *v = jsonval_get(body, name);
    if (v && jsonval_type(v) != JSONVAL_BOOL) {
        errbuf_set(err, "'%s' is a %s; send true or false", name,
                   jsonval_type_name(jsonval_type(v)));
        return -1;
    }
    *value = v ? jsonval_bool(v) : def;
    return 0;
}
