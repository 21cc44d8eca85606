/* cli_util — what the client verbs share beyond parsing their command line
 * (common/args.h): the run ids they take, their sub-verb groups, and the
 * request/reply round trip with its exit codes, down to a verb that is one
 * question and its printed answer. */
#ifndef SLUICE_CLI_UTIL_H
#define SLUICE_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "common/args.h"
#include "proto/sluice.pb-c.h"
#include "cli/client.h"

/* Parses a positive decimal id; prints "WHAT 'TEXT' is not a number" and
 * returns -1 when it is not one. */
int cli_parse_id(const char *what, const char *text, uint64_t *out);

/* A request with nothing set, on the heap (free it with
 * protobuf_c_message_free_unpacked). Never NULL. */
Sluice__Request *cli_request_new(void);

/* Sets req's op to `op` with a new, empty message of its type, and returns
 * that message (owned by req) for the caller to fill: e.g.
 * Sluice__DrainReq *d = cli_request_op(req, SLUICE__REQUEST__OP_DRAIN). */
void *cli_request_op(Sluice__Request *req, Sluice__Request__OpCase op);

/* Opens the client for --dir; on failure prints why and returns CLI_ERROR
 * (with *client NULL), else CLI_OK. */
int cli_connect(const args_t *args, client_t **client);

/* One round trip. On success CLI_OK and *reply (owned) holds op `expect`.
 * Otherwise prints why and returns CLI_UNREACHABLE (no answer) or
 * CLI_ERROR (refused, ErrorRep, unexpected reply). */
int cli_call(client_t *client,
             Sluice__Request *req,
             Sluice__Reply__OpCase expect,
             Sluice__Reply **reply);

/* cli_connect + cli_call + close; takes ownership of *req_p. */
int cli_request(const args_t *args,
                Sluice__Request **req_p,
                Sluice__Reply__OpCase expect,
                Sluice__Reply **reply);

/* How a verb shows its answer. Each callback gets the reply's op message
 * (borrowed), e.g. a const Sluice__WorkersRep *. */
typedef struct {
    /* The text form; NULL prints nothing. */
    void (*print)(const args_t *args, const void *body);
    /* With --json; NULL prints body as one JSON document (proto/pbjson.h). */
    void (*json)(const args_t *args, const void *body);
    /* The exit code the answer means; NULL: CLI_OK. */
    int (*status)(const void *body);
} cli_show_t;

/* cli_request, then shows the reply by show. Returns the exit code: the
 * round trip's when it failed, else the answer's. Takes *req_p. */
int cli_ask(const args_t *args,
            Sluice__Request **req_p,
            Sluice__Reply__OpCase expect,
            const cli_show_t *show);

/* A verb that is one question and its answer, as a table row: parse the
 * command line, fill the request from it, ask, show. */
typedef struct {
    const args_spec_t *spec;
    Sluice__Request__OpCase op;   /* the request sent */
    Sluice__Reply__OpCase expect; /* the reply that answers it */
    /* Sets the request message's fields (op's type) from args; CLI_OK, or
     * the exit code after printing what is wrong. NULL: nothing to set. */
    int (*fill)(const args_t *args, void *op);
    cli_show_t show;
} cli_simple_t;

/* Runs verb on argv (argv[0] is the verb's name); returns the exit code.
 * Nothing is sent when the command line or fill says no. */
int cli_simple(const cli_simple_t *verb, int argc, char **argv);

/* A sub-verb of a verb group ("sluice dag apply"): run, or for a
 * one-question verb simple (with run NULL). */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the sub-verb */
    const char *summary;
    const cli_simple_t *simple;
} cli_verb_t;

/* Runs sub-verb argv[1] of `group` from verbs (n of them). No argument or
 * --help prints the list (then `footer`, when not NULL); an unknown one says
 * how to list them. Returns the exit code. */
int cli_dispatch(const char *group,
                 const cli_verb_t *verbs,
                 size_t n,
                 const char *footer,
                 int argc,
                 char **argv);

#endif
