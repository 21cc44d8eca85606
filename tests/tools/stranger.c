/* stranger — a peer with a fresh transport and signing key that no one
 * ever admitted, for what the scheduler does with strangers
 * (t_strangers.sh).
 *
 *   stranger --join LINE [--frames N --size BYTES --messages M]
 *            [--register N --name TEXT --hostname TEXT --token TOKEN]
 *            [--then-token TOKEN]
 *
 * Connects to the join line's worker endpoint with keys of its own, and
 * sends, in this order:
 *   - M messages (default 1) of N frames of BYTES zero bytes each, when
 *     --frames is given (the frames share one buffer, so the tool itself
 *     stays small whatever it sends);
 *   - N signed Registers with the name and host name given (any bytes,
 *     control characters included) and the join token TOKEN, when
 *     --register is given;
 *   - one Register named "stranger-admitted" (with the host name given)
 *     and --then-token's token, which admits the key: the
 *     scheduler reads one connection in order, so once `sluice keys list`
 *     shows this key accepted, everything before it was read.
 * Prints "stranger: key FINGERPRINT" first, waits until all of it left (or
 * 60 s), and exits 0; 1 when the connection never came up, 2 on bad
 * usage. */
#include <czmq.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/curve.h"
#include "common/join.h"
#include "common/keys.h"
#include "common/xalloc.h"
#include "common/xzmq.h"
#include "proto/envelope.h"

#define STRANGER_LINGER_MS 60000

typedef struct {
    const char *join, *name, *hostname, *token, *then_token;
    long frames, messages, registers;
    size_t size;
} stranger_opts_t;

/* Frees nothing: the frames point into the tool's one shared buffer. */
static void
s_keep(void *data, void *hint)
{
    (void) data;
    (void) hint;
}

/* M messages of N frames of `size` bytes, without copying any of them. */
static int
s_send_frames(void *sock, const stranger_opts_t *o)
{
    char *zeros = xcalloc(1, o->size ? o->size : 1);
    int rc = 0;
    for (long m = 0; m < o->messages && rc == 0; m++) {
        for (long f = 0; f < o->frames && rc == 0; f++) {
            zmq_msg_t frame;
            zmq_msg_init_data(&frame, zeros, o->size, s_keep, NULL);
            int flags = f + 1 < o->frames ? ZMQ_SNDMORE : 0;
            rc = zmq_msg_send(&frame, sock, flags) < 0 ? -1 : 0;
            if (rc < 0) {
                fprintf(stderr, "stranger: send: %s\n",
                        zmq_strerror(zmq_errno()));
                zmq_msg_close(&frame);
            }
        }
    }
    /* The buffer must outlive the frames in flight: freed at exit. */
    return rc;
}

static void
s_send_register(zsock_t *sock,
                const keys_t *key,
                const char *name,
                const char *hostname,
                const char *token)
{
    Sluice__Register reg = SLUICE__REGISTER__INIT;
    reg.name = (char *) name;
    reg.hostname = (char *) hostname;
    reg.slots = reg.free_slots = 1;
    reg.wall_ms = (uint64_t) clock_wall_ms();
    reg.software = "stranger";
    reg.token = (char *) (token ? token : "");
    zmsg_t *msg = env_seal(SLUICE__MSG_TYPE__MSG_REGISTER, &reg.base, key);
    xzmq_send(&msg, sock);
}

static int
s_run(const stranger_opts_t *o)
{
    join_t join;
    errbuf_t err;
    if (join_parse(o->join, &join, &err) < 0) {
        fprintf(stderr, "stranger: %s\n", errbuf_msg(&err));
        return 2;
    }
    curve_t *curve = curve_generate();
    keys_t *key = keys_generate();
    char fp[KEYS_FP_SIZE];
    keys_fingerprint(curve_public(curve), fp);
    printf("stranger: key %s\n", fp);
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    zsock_set_sndhwm(sock, 0); /* queue it all: the test bounds the count */
    zsock_set_linger(sock, STRANGER_LINGER_MS);
    curve_set_client(curve, sock, join.curve);
    zsock_connect(sock, "%s", join.endpoint);
    int rc = o->frames > 0 ? s_send_frames(zsock_resolve(sock), o) : 0;
    for (long i = 0; i < o->registers && rc == 0; i++) {
        s_send_register(sock, key, o->name, o->hostname, o->token);
    }
    if (rc == 0 && o->then_token) {
        s_send_register(sock, key, "stranger-admitted", o->hostname,
                        o->then_token);
    }
    zsock_destroy(&sock); /* lingers until everything left */
    keys_destroy(&key);
    curve_destroy(&curve);
    join_clear(&join);
    return rc < 0 ? 1 : 0;
}

static int
s_opts(int argc, char **argv, stranger_opts_t *o)
{
    static const struct option longs[] = {
        {"join", required_argument, NULL, 'j'},
        {"frames", required_argument, NULL, 'f'},
        {"size", required_argument, NULL, 's'},
        {"messages", required_argument, NULL, 'm'},
        {"register", required_argument, NULL, 'r'},
        {"name", required_argument, NULL, 'n'},
        {"hostname", required_argument, NULL, 'h'},
        {"token", required_argument, NULL, 't'},
        {"then-token", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->messages = 1;
    o->name = "stranger";
    o->hostname = "stranger";
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
            case 'j':
                o->join = optarg;
                break;
            case 'f':
                o->frames = atol(optarg);
                break;
            case 's':
                o->size = (size_t) atol(optarg);
                break;
            case 'm':
                o->messages = atol(optarg);
                break;
            case 'r':
                o->registers = atol(optarg);
                break;
            case 'n':
                o->name = optarg;
                break;
            case 'h':
                o->hostname = optarg;
                break;
            case 't':
                o->token = optarg;
                break;
            case 'T':
                o->then_token = optarg;
                break;
            default:
                return -1;
        }
    }
    return o->join && o->frames >= 0 && o->messages >= 0 && o->registers >= 0
               ? 0
               : -1;
}

int
main(int argc, char **argv)
{
    stranger_opts_t o;
    if (s_opts(argc, argv, &o) < 0 || sodium_init() < 0) {
        fprintf(stderr, "usage: stranger --join LINE [--frames N --size BYTES "
                        "--messages M] [--register N --name TEXT --hostname "
                        "TEXT --token TOKEN] [--then-token TOKEN]\n");
        return 2;
    }
    zsys_handler_set(NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    return s_run(&o);
}
