#include "cli/cli_util.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/xalloc.h"
#include "proto/pbjson.h"
#include "cli/cli.h"

int
cli_parse_id(const char *what, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || n == 0) {
        fprintf(stderr,
                "sluice: %s '%s' is not a number; run 'sluice runs' "
                "to see run ids\n",
                what, text);
        return -1;
    }
    *out = n;
    return 0;
}

/* ---------------------------------------------------------------- calls */

static void
s_group_usage(const char *group,
              const cli_verb_t *verbs,
              size_t n,
              const char *footer,
              FILE *out)
{
    fprintf(out,
            "usage: sluice %s VERB [ARGS]   (sluice %s VERB --help for "
            "details)\n\nverbs:\n",
            group, group);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
    }
    if (footer) {
        fprintf(out, "\n%s\n", footer);
    }
}

int
cli_dispatch(const char *group,
             const cli_verb_t *verbs,
             size_t n,
             const char *footer,
             int argc,
             char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        s_group_usage(group, verbs, n, footer, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(argv[1], verbs[i].name) != 0) {
            continue;
        }
        return verbs[i].simple ? cli_simple(verbs[i].simple, argc - 1, argv + 1)
                               : verbs[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "sluice: unknown verb '%s %s'; run 'sluice %s --help'\n",
            group, argv[1], group);
    return CLI_USAGE;
}

Sluice__Request *
cli_request_new(void)
{
    Sluice__Request *req = xmalloc(sizeof *req);
    *req = (Sluice__Request) SLUICE__REQUEST__INIT;
    return req;
}

void *
cli_request_op(Sluice__Request *req, Sluice__Request__OpCase op)
{
    /* The op's field in Request names the message type to make. */
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field(req->base.descriptor,
                                                (unsigned) op);
    assert(field && field->type == PROTOBUF_C_TYPE_MESSAGE);
    const ProtobufCMessageDescriptor *desc = field->descriptor;
    ProtobufCMessage *msg = xmalloc(desc->sizeof_message);
    protobuf_c_message_init(desc, msg);
    *(ProtobufCMessage **) ((char *) req + field->offset) = msg;
    req->op_case = op;
    return msg;
}

int
cli_connect(const args_t *args, client_t **client)
{
    errbuf_t err;
    errbuf_clear(&err);
    *client = client_open(args_dir(args), &err);
    if (!*client) {
        fprintf(stderr, "sluice: %s\n", errbuf_msg(&err));
        return CLI_ERROR;
    }
    return CLI_OK;
}

int
cli_call(client_t *client,
         Sluice__Request *req,
         Sluice__Reply__OpCase expect,
         Sluice__Reply **reply)
{
    errbuf_t err;
    errbuf_clear(&err);
    *reply = client_call(client, req, &err);
    if (!*reply) {
        if (client_error(client) != CLIENT_EINTR) {
            fprintf(stderr, "sluice: %s\n", errbuf_msg(&err));
        }
        return client_error(client) == CLIENT_ETIMEOUT ? CLI_UNREACHABLE
                                                       : CLI_ERROR;
    }
    Sluice__Reply *rep = *reply;
    if (rep->op_case == expect) {
        return CLI_OK;
    }
    if (rep->op_case == SLUICE__REPLY__OP_ERROR && rep->error) {
        /* It may quote what a peer chose (a worker's name, a reason). */
        char *text = escape_dup(rep->error->message);
        fprintf(stderr, "sluice: %s\n", text);
        free(text);
    } else {
        fprintf(stderr,
                "sluice: the scheduler sent an unexpected reply "
                "(%d for %d); are client and scheduler the same "
                "version?\n",
                (int) rep->op_case, (int) expect);
    }
    protobuf_c_message_free_unpacked(&rep->base, NULL);
    *reply = NULL;
    return CLI_ERROR;
}

int
cli_request(const args_t *args,
            Sluice__Request **req_p,
            Sluice__Reply__OpCase expect,
            Sluice__Reply **reply)
{
    client_t *client = NULL;
    *reply = NULL;
    int rc = cli_connect(args, &client);
    if (rc == CLI_OK) {
        rc = cli_call(client, *req_p, expect, reply);
    }
    client_destroy(&client);
    protobuf_c_message_free_unpacked(&(*req_p)->base, NULL);
    *req_p = NULL;
    return rc;
}

/* The message of the reply's op (Reply's oneof member), borrowed. */
static const void *
s_reply_body(const Sluice__Reply *reply)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field(reply->base.descriptor,
                                                (unsigned) reply->op_case);
    assert(field && field->type == PROTOBUF_C_TYPE_MESSAGE);
    return *(const ProtobufCMessage *const *) ((const char *) reply +
                                               field->offset);
}

int
cli_ask(const args_t *args,
        Sluice__Request **req_p,
        Sluice__Reply__OpCase expect,
        const cli_show_t *show)
{
    Sluice__Reply *reply;
    int rc = cli_request(args, req_p, expect, &reply);
    if (rc != CLI_OK) {
        return rc;
    }
    const void *body = s_reply_body(reply);
    if (!args_json(args)) {
        if (show->print) {
            show->print(args, body);
        }
    } else if (show->json) {
        show->json(args, body);
    } else {
        pbjson_print(body);
    }
    rc = show->status ? show->status(body) : CLI_OK;
    protobuf_c_message_free_unpacked(&reply->base, NULL);
    return rc;
}

int
cli_simple(const cli_simple_t *verb, int argc, char **argv)
{
    int rc;
    args_t *args = args_parse(verb->spec, argc, argv, &rc);
    if (!args) {
        return rc;
    }
    Sluice__Request *req = cli_request_new();
    void *op = cli_request_op(req, verb->op);
    rc = verb->fill ? verb->fill(args, op) : CLI_OK;
    if (rc == CLI_OK) {
        rc = cli_ask(args, &req, verb->expect, &verb->show);
    } else {
        protobuf_c_message_free_unpacked(&req->base, NULL);
    }
    args_destroy(&args);
    return rc;
}
