#include "common/join.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/keys.h"
#include "common/xalloc.h"

#define JOIN_SCHEME "sluice://"

char *
join_format(const char *host_port, const uint8_t *scheduler_pub)
{
    char hex[KEYS_HEX_SIZE];
    keys_public_hex(scheduler_pub, hex);
    return xasprintf(JOIN_SCHEME "%s/%s", host_port, hex);
}

int
join_parse(const char *line, char **endpoint, uint8_t *pub, errbuf_t *err)
{
    const char *hint = "expected sluice://HOST:PORT/KEY as printed by "
                       "'sluice join-line' on the scheduler's machine";
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
    if (keys_public_from_hex(slash + 1, pub) < 0) {
        errbuf_set(err, "join line '%s' has a malformed key; %s", line, hint);
        return -1;
    }
    *endpoint = xasprintf("tcp://%.*s", (int) (slash - host), host);
    return 0;
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
