/* replay — sends a captured, validly signed message to a scheduler again,
 * for t_integrity.sh: what an attacker who recorded a worker's Result
 * could do.
 *
 * usage: replay --connect EP --signed HEX --sig HEX --signer HEX
 *               [--count N] [--curve-server FILE --curve-key FILE]
 *
 * HEX values are the columns attempts.result_signed, result_sig and
 * result_signer (sqlite3: hex(...)). Sends the five envelope frames N times
 * (default 1) from a DEALER of its own, then waits for them to leave.
 * With CURVE on, --curve-server is the scheduler's scheduler.curve.pub and
 * --curve-key a transport key it admits (e.g. the worker's worker.curve:
 * the attacker got onto an admitted connection; the signature is what is
 * left to stop it).
 * Exit 0 when sent, 1 when they could not be, 2 on bad usage. */
#include <czmq.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/curve.h"
#include "common/xzmq.h"
#include "common/keys.h"
#include "common/xalloc.h"

typedef struct {
    const char *connect, *signed_hex, *sig_hex, *signer_hex;
    const char *curve_server, *curve_key;
    long count;
} replay_opts_t;

/* Decodes hex (either case) into a new buffer; NULL when malformed. */
static uint8_t *
s_unhex(const char *hex, size_t *size)
{
    size_t len = strlen(hex);
    uint8_t *bin = xmalloc(len / 2 + 1);
    if (sodium_hex2bin(bin, len / 2 + 1, hex, len, NULL, size, NULL) != 0) {
        free(bin);
        return NULL;
    }
    return bin;
}

static int
s_parse(int argc, char **argv, replay_opts_t *o)
{
    static const struct option longs[] = {
        {"connect", required_argument, NULL, 'c'},
        {"signed", required_argument, NULL, 'm'},
        {"sig", required_argument, NULL, 's'},
        {"signer", required_argument, NULL, 'k'},
        {"count", required_argument, NULL, 'n'},
        {"curve-server", required_argument, NULL, 'z'},
        {"curve-key", required_argument, NULL, 'Z'},
        {NULL, 0, NULL, 0},
    };
    o->count = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
            case 'c':
                o->connect = optarg;
                break;
            case 'm':
                o->signed_hex = optarg;
                break;
            case 's':
                o->sig_hex = optarg;
                break;
            case 'k':
                o->signer_hex = optarg;
                break;
            case 'n':
                o->count = strtol(optarg, NULL, 10);
                break;
            case 'z':
                o->curve_server = optarg;
                break;
            case 'Z':
                o->curve_key = optarg;
                break;
            default:
                return -1;
        }
    }
    return o->connect && o->signed_hex && o->sig_hex && o->signer_hex &&
                   o->count > 0
               ? 0
               : -1;
}

static zsock_t *
s_connect(const replay_opts_t *o)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (o->curve_server) {
        uint8_t server[CURVE_KEY_SIZE];
        errbuf_t err;
        curve_t *curve =
            o->curve_key ? curve_load(o->curve_key, &err) : curve_generate();
        if (!curve || curve_load_public(o->curve_server, server, &err) < 0) {
            fprintf(stderr, "replay: %s\n", errbuf_msg(&err));
            curve_destroy(&curve);
            zsock_destroy(&sock);
            return NULL;
        }
        curve_set_client(curve, sock, server);
        curve_destroy(&curve);
    }
    zsock_set_linger(sock, 5000);
    if (zsock_connect(sock, "%s", o->connect) < 0) {
        fprintf(stderr, "replay: cannot connect to '%s'\n", o->connect);
        zsock_destroy(&sock);
    }
    return sock;
}

int
main(int argc, char **argv)
{
    replay_opts_t o = {0};
    if (s_parse(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: replay --connect EP --signed HEX --sig HEX "
                        "--signer HEX [--count N] [--curve-server FILE "
                        "--curve-key FILE]\n");
        return 2;
    }
    size_t msize = 0, ssize = 0, ksize = 0;
    uint8_t *msg = s_unhex(o.signed_hex, &msize);
    uint8_t *sig = s_unhex(o.sig_hex, &ssize);
    uint8_t *signer = s_unhex(o.signer_hex, &ksize);
    int rc = 1;
    zsock_t *sock = NULL;
    if (!msg || !sig || !signer || msize < 3 || ssize != KEYS_SIG_SIZE ||
        ksize != KEYS_PUBLIC_SIZE) {
        fprintf(stderr, "replay: --signed, --sig or --signer is malformed\n");
        rc = 2;
    } else if ((sock = s_connect(&o))) {
        rc = 0;
        for (long i = 0; i < o.count && rc == 0; i++) {
            zmsg_t *out = zmsg_new();
            zmsg_addmem(out, msg, 2);
            zmsg_addmem(out, msg + 2, 1);
            zmsg_addmem(out, msg + 3, msize - 3);
            zmsg_addmem(out, signer, ksize);
            zmsg_addmem(out, sig, ssize);
            rc = xzmq_send(&out, sock) == 0 ? 0 : 1;
            zmsg_destroy(&out);
        }
        printf("replay: sent %ld copies of a %zu-byte signed message\n",
               o.count, msize);
    }
    zsock_destroy(&sock); /* lingers until sent */
    free(msg);
    free(sig);
    free(signer);
    return rc;
}
