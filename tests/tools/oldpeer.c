/* oldpeer — a test-only peer speaking protocol major 2, to prove a scheduler
 * refuses an incompatible peer with a clear reason that both sides see.
 *
 *   oldpeer --connect tcp://127.0.0.1:PORT --scheduler-key HEX
 *           --scheduler-curve-key HEX
 *
 * Sends a Register whose version frame says 2.0, waits (bounded, 5 s) for
 * the answer, opens it trusting only the scheduler's key, and prints the
 * Refuse reason. Exit 0 when a Refuse with code 1 came back, 1 otherwise. */
#include <czmq.h>
#include <string.h>

#include "common/curve.h"
#include "common/xzmq.h"
#include "common/keys.h"
#include "proto/envelope.h"

static bool
s_trust(void *arg, const uint8_t *signer, int type)
{
    (void) type;
    return memcmp(signer, arg, KEYS_PUBLIC_SIZE) == 0;
}

static int
s_usage(void)
{
    fprintf(stderr, "usage: oldpeer --connect ENDPOINT --scheduler-key HEX "
                    "--scheduler-curve-key HEX\n");
    return 2;
}

int
main(int argc, char **argv)
{
    const char *endpoint = NULL, *key_hex = NULL, *curve_hex_arg = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--connect") == 0) {
            endpoint = argv[i + 1];
        } else if (strcmp(argv[i], "--scheduler-key") == 0) {
            key_hex = argv[i + 1];
        } else if (strcmp(argv[i], "--scheduler-curve-key") == 0) {
            curve_hex_arg = argv[i + 1];
        }
    }
    uint8_t scheduler[KEYS_PUBLIC_SIZE];
    uint8_t scheduler_curve[CURVE_KEY_SIZE];
    if (!endpoint || !key_hex || keys_public_from_hex(key_hex, scheduler) < 0 ||
        !curve_hex_arg || curve_from_hex(curve_hex_arg, scheduler_curve) < 0) {
        return s_usage();
    }
    keys_t *key = keys_generate();
    curve_t *curve = curve_generate();
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    curve_set_client(curve, sock, scheduler_curve);
    zsock_connect(sock, "%s", endpoint);
    curve_destroy(&curve);
    zsock_set_rcvtimeo(sock, 5000);

    Sluice__Register reg = SLUICE__REGISTER__INIT;
    reg.name = "oldpeer";
    reg.slots = 1;
    zmsg_t *msg = env_seal(SLUICE__MSG_TYPE__MSG_REGISTER, &reg.base, key);
    zframe_t *version = zmsg_first(msg);
    uint8_t future[2] = {2, 0};
    zframe_reset(version, future, sizeof future);
    xzmq_send(&msg, sock);

    int rc = 1;
    zmsg_t *answer = xzmq_recv(sock);
    env_msg_t env;
    errbuf_t err;
    if (!answer) {
        printf("oldpeer: no answer within 5 s\n");
    } else if (env_open(answer, s_trust, scheduler, &env, &err) != ENV_OK) {
        printf("oldpeer: unreadable answer: %s\n", errbuf_msg(&err));
    } else {
        if (env.type == SLUICE__MSG_TYPE__MSG_REFUSE) {
            const Sluice__Refuse *refuse = (const Sluice__Refuse *) env.body;
            printf("oldpeer: refused (code %u, scheduler speaks %u.%u): %s\n",
                   refuse->code, refuse->major, refuse->minor, refuse->reason);
            rc = refuse->code == 1 ? 0 : 1;
        } else {
            printf("oldpeer: answered with %s, not refuse\n",
                   env_type_name(env.type));
        }
        env_msg_clear(&env);
    }
    zmsg_destroy(&answer);
    zsock_destroy(&sock);
    keys_destroy(&key);
    return rc;
}
