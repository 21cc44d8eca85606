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
 * usage.
 *
 *   stranger --join LINE --handshake N --size BYTES [--hold SECONDS]
 *
 * Opens N plain TCP connections to the worker endpoint, sends on each a
 * ZMTP 3.0 greeting for CURVE and then the header of a handshake command
 * of BYTES bytes and all of its body but the last byte, holds them open
 * for SECONDS (default 3), prints "stranger: holding N" while it does, and
 * closes them: what a peer whose key no one knows yet can make the
 * scheduler read before the handshake decides anything. */
#include <arpa/inet.h>
#include <czmq.h>
#include <endian.h>
#include <getopt.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
    long frames, messages, registers, handshakes, hold;
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
/* The one buffer every frame points into; freed once the context that
 * sent them is gone. */
static char *s_zeros;

static int
s_send_frames(void *sock, const stranger_opts_t *o)
{
    char *zeros = s_zeros = xcalloc(1, o->size ? o->size : 1);
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
    /* The buffer must outlive the frames in flight: s_run frees it. */
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

/* Writes all of data; false when the connection failed. */
static bool
s_write_all(int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n <= 0) {
            return false;
        }
        p += n;
        size -= (size_t) n;
    }
    return true;
}

/* A TCP connection to "tcp://HOST:PORT"; -1 on failure. */
static int
s_dial(const char *endpoint)
{
    char host[256];
    const char *colon = strrchr(endpoint, ':');
    if (strncmp(endpoint, "tcp://", 6) != 0 || !colon ||
        (size_t) (colon - endpoint - 6) >= sizeof host) {
        return -1;
    }
    snprintf(host, sizeof host, "%.*s", (int) (colon - endpoint - 6),
             endpoint + 6);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* One connection stopped inside its CURVE handshake: the greeting, then
 * a command of `size` bytes with its last byte missing. */
static int
s_half_handshake(const char *endpoint, size_t size, const char *body)
{
    int fd = s_dial(endpoint);
    uint8_t greeting[64] = {0xff, [9] = 0x7f, [10] = 3, [11] = 0};
    memcpy(greeting + 12, "CURVE", 5);
    uint8_t peer[64];
    uint8_t head[9] = {0x06}; /* a command, long size */
    uint64_t be = htobe64(size);
    memcpy(head + 1, &be, sizeof be);
    if (fd < 0 || !s_write_all(fd, greeting, sizeof greeting) ||
        recv(fd, peer, sizeof peer, MSG_WAITALL) != (ssize_t) sizeof peer ||
        !s_write_all(fd, head, sizeof head) ||
        !s_write_all(fd, body, size - 1)) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

static int
s_handshakes(const char *endpoint, const stranger_opts_t *o)
{
    char *body = xcalloc(1, o->size);
    int *fds = xcalloc((size_t) o->handshakes, sizeof *fds);
    long open = 0;
    for (long i = 0; i < o->handshakes; i++) {
        fds[i] = s_half_handshake(endpoint, o->size, body);
        open += fds[i] >= 0;
    }
    printf("stranger: holding %ld\n", open);
    sleep((unsigned) o->hold);
    for (long i = 0; i < o->handshakes; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    free(fds);
    free(body);
    return open == o->handshakes ? 0 : 1;
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
    if (o->handshakes > 0) {
        int rc = s_handshakes(join.endpoint, o);
        join_clear(&join);
        return rc;
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
    zsys_shutdown();      /* no frame of s_zeros is in flight after this */
    xfree(&s_zeros);
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
        {"handshake", required_argument, NULL, 'H'},
        {"hold", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->messages = 1;
    o->hold = 3;
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
            case 'H':
                o->handshakes = atol(optarg);
                break;
            case 'o':
                o->hold = atol(optarg);
                break;
            default:
                return -1;
        }
    }
    bool handshake_ok = o->handshakes == 0 || (o->size > 1 && o->hold >= 0);
    return o->join && o->frames >= 0 && o->messages >= 0 && o->registers >= 0 &&
                   o->handshakes >= 0 && handshake_ok
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
                        "TEXT --token TOKEN] [--then-token TOKEN]\n"
                        "       stranger --join LINE --handshake N --size "
                        "BYTES [--hold SECONDS]\n");
        return 2;
    }
    zsys_handler_set(NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    return s_run(&o);
}
