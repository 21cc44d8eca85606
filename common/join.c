#include "common/join.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/curve.h"
#include "common/keys.h"
#include "common/xalloc.h"

#define JOIN_SCHEME "sluice://"

char *
join_format(const char *host_port,
            const uint8_t *scheduler_pub,
            const uint8_t *scheduler_curve)
{
    char hex[KEYS_HEX_SIZE];
    char curve[CURVE_HEX_SIZE];
    keys_public_hex(scheduler_pub, hex);
    curve_hex(scheduler_curve, curve);
    return xasprintf(JOIN_SCHEME "%s/%s/%s", host_port, hex, curve);
}

/* Copies the n characters at text into a NUL-terminated buffer. */
static char *
s_part(const char *text, size_t n)
{
    return xasprintf("%.*s", (int) n, text);
}

/* Parses "SIGNHEX/CURVEHEX[?token=TOKEN]" after the host. */
static int
s_parse_keys(const char *line, const char *keys, join_t *out, errbuf_t *err)
{
    const char *hint = "expected sluice://HOST:PORT/KEY/TRANSPORT_KEY as "
                       "printed by 'sluice join-line' on the scheduler's "
                       "machine";
    size_t sign_len = strcspn(keys, "/?");
    char *sign = s_part(keys, sign_len);
    int rc = keys_public_from_hex(sign, out->pub);
    free(sign);
    if (rc < 0) {
        errbuf_set(err, "join line '%s' has a malformed key; %s", line, hint);
        return -1;
    }
    if (keys[sign_len] != '/') {
        errbuf_set(err, "this join line has no transport key; print a new one "
                        "with 'sluice join-line'");
        return -1;
    }
    const char *curve_text = keys + sign_len + 1;
    size_t curve_len = strcspn(curve_text, "?");
    char *curve = s_part(curve_text, curve_len);
    rc = curve_from_hex(curve, out->curve);
    free(curve);
    if (rc < 0 || curve_len != CURVE_KEY_SIZE * 2) {
        errbuf_set(err, "join line '%s' has a malformed transport key; %s",
                   line, hint);
        return -1;
    }
    const char *query = curve_text + curve_len;
    if (*query) {
        if (strncmp(query, "?token=", 7) != 0 || !query[7]) {
            errbuf_set(err,
                       "join line '%s' ends in '%s'; only '?token=TOKEN' "
                       "may follow the keys",
                       line, query);
            return -1;
        }
        out->token = s_part(query + 7, strcspn(query + 7, " \t\n"));
    }
    return 0;
}

int
join_parse(const char *line, join_t *out, errbuf_t *err)
{
    memset(out, 0, sizeof *out);
    const char *hint = "expected sluice://HOST:PORT/KEY/TRANSPORT_KEY as "
                       "printed by 'sluice join-line' on the scheduler's "
                       "machine";
    /* Accept the whole command join-line prints, so that
     * --join "$(sluice join-line)" works as written. */
    const char *word = strstr(line, "--join ");
    if (word) {
        line = word + strlen("--join ");
        line += strspn(line, " ");
    }
    if (strncmp(line, JOIN_SCHEME, strlen(JOIN_SCHEME)) != 0) {
        errbuf_set(err, "join line '%s' does not start with %s; %s", line,
                   JOIN_SCHEME, hint);
        return -1;
    }
    const char *host = line + strlen(JOIN_SCHEME);
    const char *slash = strchr(host, '/');
    if (!slash || slash == host ||
        !memchr(host, ':', (size_t) (slash - host))) {
        errbuf_set(err, "join line '%s' has no HOST:PORT; %s", line, hint);
        return -1;
    }
    if (s_parse_keys(line, slash + 1, out, err) < 0) {
        join_clear(out);
        return -1;
    }
    out->endpoint = xasprintf("tcp://%.*s", (int) (slash - host), host);
    return 0;
}

void
join_clear(join_t *join)
{
    free(join->endpoint);
    free(join->token);
    join->endpoint = NULL;
    join->token = NULL;
}

char *
join_advertised(const char *listen, const char *advertise)
{
    if (advertise && *advertise) {
        return xstrdup(advertise);
    }
    const char *colon = strrchr(listen, ':');
    const char *port = colon ? colon + 1 : "7700";
    char host[256] = "localhost";
    if (gethostname(host, sizeof host) < 0) {
        snprintf(host, sizeof host, "localhost");
    }
    host[sizeof host - 1] = '\0';
    return xasprintf("%s:%s", host, port);
}
