/* http_sink — a tiny HTTP receiver for the alert tests.
 *
 *   http_sink --port PORT --dir DIR [--fail-for SECONDS] [--secret KEY]
 *
 * Listens on 127.0.0.1:PORT and, for each request, writes DIR/N.headers and
 * DIR/N.body (N = 1, 2, ...; each file complete before it appears), and
 * with --secret DIR/N.verified: "ok" when its X-Sluice-Signature is the
 * HMAC-SHA256 of the body under KEY, else "bad". Answers 503 during the
 * first SECONDS after start (those requests are counted in DIR/refused,
 * not kept), 200 afterwards. Plain sockets, one request per connection. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST (1024 * 1024)

static void
s_write_file(
    const char *dir, int n, const char *ext, const char *data, size_t len)
{
    char tmp[4096], path[4096];
    snprintf(tmp, sizeof tmp, "%s/.%d.%s.tmp", dir, n, ext);
    snprintf(path, sizeof path, "%s/%d.%s", dir, n, ext);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        return;
    }
    fwrite(data, 1, len, f);
    fclose(f);
    rename(tmp, path);
}

/* The value of header `name` (case-insensitive) in head, into out. */
static int
s_header(const char *head, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    for (const char *p = head; p && *p;
         p = strchr(p, '\n'), p = p ? p + 1 : p) {
        if (!strncasecmp(p, name, nlen) && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ') {
                v++;
            }
            size_t len = strcspn(v, "\r\n");
            len = len < size - 1 ? len : size - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 0;
        }
    }
    return -1;
}

/* Reads one request: head (NUL-terminated) and body; -1 on a bad one. */
static int
s_read_request(int fd, char *buf, size_t *head_len, size_t *total)
{
    size_t got = 0;
    char *end = NULL;
    while (!end && got < MAX_REQUEST) {
        ssize_t n = read(fd, buf + got, MAX_REQUEST - got);
        if (n <= 0) {
            return -1;
        }
        got += (size_t) n;
        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end) {
        return -1;
    }
    *head_len = (size_t) (end - buf) + 4;
    char value[32];
    size_t body = 0;
    if (s_header(buf, "Content-Length", value, sizeof value) == 0) {
        body = strtoul(value, NULL, 10);
    }
    if (body > MAX_REQUEST - *head_len) {
        return -1;
    }
    while (got < *head_len + body) {
        ssize_t n = read(fd, buf + got, *head_len + body - got);
        if (n <= 0) {
            return -1;
        }
        got += (size_t) n;
    }
    *total = *head_len + body;
    return 0;
}

static void
s_verify(const char *dir,
         int n,
         const char *secret,
         const char *head,
         const char *body,
         size_t len)
{
    char sig[128];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char hex[2 * sizeof mac + 1];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *) secret,
                                strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *) body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    bool ok = s_header(head, "X-Sluice-Signature", sig, sizeof sig) == 0 &&
              !strncmp(sig, "sha256=", 7) && !strcmp(sig + 7, hex);
    s_write_file(dir, n, "verified", ok ? "ok\n" : "bad\n", ok ? 3 : 4);
}

static void
s_answer(int fd, int code)
{
    char reply[128];
    int len = snprintf(reply, sizeof reply,
                       "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n"
                       "Connection: close\r\n\r\n",
                       code, code == 200 ? "OK" : "Service Unavailable");
    if (write(fd, reply, (size_t) len) < 0) {
        return;
    }
}

static int
s_listen(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t) port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *) &addr, sizeof addr) < 0 ||
        listen(fd, 16) < 0) {
        perror("http_sink: bind");
        exit(1);
    }
    return fd;
}

int
main(int argc, char **argv)
{
    int port = 0;
    const char *dir = NULL, *secret = NULL;
    double fail_for = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) {
            port = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--dir")) {
            dir = argv[i + 1];
        } else if (!strcmp(argv[i], "--fail-for")) {
            fail_for = atof(argv[i + 1]);
        } else if (!strcmp(argv[i], "--secret")) {
            secret = argv[i + 1];
        }
    }
    if (!port || !dir || sodium_init() < 0) {
        fprintf(stderr, "usage: http_sink --port PORT --dir DIR "
                        "[--fail-for SECONDS] [--secret KEY]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = s_listen(port);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *buf = malloc(MAX_REQUEST + 1);
    int kept = 0, refused = 0;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        size_t head_len = 0, total = 0;
        if (s_read_request(fd, buf, &head_len, &total) < 0) {
            close(fd);
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        double age = (double) (now.tv_sec - t0.tv_sec) +
                     (double) (now.tv_nsec - t0.tv_nsec) / 1e9;
        if (age < fail_for) {
            char count[16];
            int len = snprintf(count, sizeof count, "%d\n", ++refused);
            s_write_file(dir, 0, "refused", count, (size_t) len);
            s_answer(fd, 503);
            close(fd);
            continue;
        }
        kept++;
        buf[head_len - 2] = '\0'; /* the head, without its blank line */
        s_write_file(dir, kept, "headers", buf, head_len - 2);
        s_write_file(dir, kept, "body", buf + head_len, total - head_len);
        if (secret) {
            s_verify(dir, kept, secret, buf, buf + head_len, total - head_len);
        }
        s_answer(fd, 200);
        close(fd);
    }
}
