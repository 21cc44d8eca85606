/* curve — CURVE transport keys (libsodium crypto_box keys, which is what
 * ZeroMQ's CURVE mechanism uses) and their files. */
#include "common/curve.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/statedir.h"
#include "common/xalloc.h"

#define S_SECRET_TAG "sluice-curve-secret"
#define S_PUBLIC_TAG "sluice-curve-public"
#define S_FILE_MAX   256

struct curve_t {
    uint8_t pub[CURVE_KEY_SIZE];    /* derived from secret */
    uint8_t secret[CURVE_KEY_SIZE]; /* wiped on free */
};

curve_t *
curve_generate(void)
{
    int rc = sodium_init();
    assert(rc >= 0);
    (void) rc;
    curve_t *self = xmalloc(sizeof *self);
    crypto_box_keypair(self->pub, self->secret);
    return self;
}

/* Reads "TAG HEX" from path into bin (32 bytes); -1 with err set. */
static int
s_read_key(const char *path, const char *tag, uint8_t *bin, errbuf_t *err)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        errbuf_set(err, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    char text[S_FILE_MAX];
    size_t n = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[n] = '\0';
    size_t tag_len = strlen(tag);
    const char *hex = text + tag_len + 1;
    size_t hex_len = n > tag_len ? strspn(hex, "0123456789abcdefABCDEF") : 0;
    size_t bin_len = 0;
    int rc = strncmp(text, tag, tag_len) == 0 && text[tag_len] == ' ' &&
                     hex_len == CURVE_KEY_SIZE * 2 &&
                     sodium_hex2bin(bin, CURVE_KEY_SIZE, hex, hex_len, NULL,
                                    &bin_len, NULL) == 0 &&
                     bin_len == CURVE_KEY_SIZE
                 ? 0
                 : -1;
    sodium_memzero(text, sizeof text);
    if (rc < 0) {
        errbuf_set(err,
                   "'%s' is not a sluice transport key (expected one line "
                   "'%s <64 hex digits>'); move it away and start again to "
                   "get a new one",
                   path, tag);
    }
    return rc;
}

curve_t *
curve_load(const char *path, errbuf_t *err)
{
    if (statedir_check_private(path, err) < 0) {
        return NULL;
    }
    curve_t *self = curve_generate();
    if (s_read_key(path, S_SECRET_TAG, self->secret, err) < 0) {
        curve_destroy(&self);
        return NULL;
    }
    crypto_scalarmult_base(self->pub, self->secret);
    return self;
}

/* Writes "TAG HEX\n" to a new file with mode; refuses to replace one. */
static int
s_write_new(const char *path,
            const char *tag,
            const uint8_t *bin,
            mode_t mode,
            errbuf_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        errbuf_set(err,
                   errno == EEXIST ? "'%s' already exists; refusing to "
                                     "overwrite a key file"
                                   : "cannot create '%s': %m",
                   path);
        return -1;
    }
    char hex[CURVE_HEX_SIZE];
    sodium_bin2hex(hex, sizeof hex, bin, CURVE_KEY_SIZE);
    char line[S_FILE_MAX];
    int len = snprintf(line, sizeof line, "%s %s\n", tag, hex);
    bool ok = fchmod(fd, mode) == 0 && write(fd, line, (size_t) len) == len;
    sodium_memzero(line, sizeof line);
    sodium_memzero(hex, sizeof hex);
    if (close(fd) != 0 || !ok) {
        errbuf_set(err, "cannot write '%s': %m", path);
        unlink(path);
        return -1;
    }
    return 0;
}

int
curve_save(const curve_t *self,
           const char *path,
           const char *pub_path,
           errbuf_t *err)
{
    if (s_write_new(path, S_SECRET_TAG, self->secret, 0600, err) < 0) {
        return -1;
    }
    if (pub_path) {
        unlink(pub_path); /* the public half follows the secret */
        return s_write_new(pub_path, S_PUBLIC_TAG, self->pub, 0644, err);
    }
    return 0;
}

curve_t *
curve_ensure(const char *dir, const char *name, bool *created, errbuf_t *err)
{
    char *path = statedir_path(dir, name);
    char *pub = xasprintf("%s.pub", path);
    curve_t *self = NULL;
    bool fresh = !statedir_exists(path);
    if (!fresh) {
        self = curve_load(path, err);
    } else {
        self = curve_generate();
        if (curve_save(self, path, pub, err) < 0) {
            curve_destroy(&self);
        }
    }
    if (created) {
        *created = fresh && self;
    }
    free(path);
    free(pub);
    return self;
}

curve_t *
curve_from_keys(const keys_t *keys)
{
    curve_t *self = curve_generate();
    keys_curve_secret(keys, self->secret);
    crypto_scalarmult_base(self->pub, self->secret);
    return self;
}

void
curve_destroy(curve_t **self_p)
{
    if (self_p && *self_p) {
        sodium_memzero(*self_p, sizeof **self_p);
        free(*self_p);
        *self_p = NULL;
    }
}

const uint8_t *
curve_public(const curve_t *self)
{
    return self->pub;
}

int
curve_load_public(const char *path, uint8_t *pub, errbuf_t *err)
{
    return s_read_key(path, S_PUBLIC_TAG, pub, err);
}

void
curve_hex(const uint8_t *pub, char *out)
{
    sodium_bin2hex(out, CURVE_HEX_SIZE, pub, CURVE_KEY_SIZE);
}

int
curve_from_hex(const char *hex, uint8_t *pub)
{
    size_t len = 0;
    const char *end = NULL;
    if (strspn(hex, "0123456789abcdefABCDEF") != CURVE_KEY_SIZE * 2 ||
        sodium_hex2bin(pub, CURVE_KEY_SIZE, hex, CURVE_KEY_SIZE * 2, NULL, &len,
                       &end) != 0 ||
        len != CURVE_KEY_SIZE) {
        return -1;
    }
    return 0;
}

void
curve_set_server(const curve_t *self, zsock_t *socket, const char *domain)
{
    zsock_set_zap_domain(socket, domain);
    zsock_set_curve_server(socket, 1);
    zsock_set_curve_secretkey_bin(socket, self->secret);
}

void
curve_set_client(const curve_t *self,
                 zsock_t *socket,
                 const uint8_t *server_pub)
{
    zsock_set_curve_serverkey_bin(socket, server_pub);
    zsock_set_curve_publickey_bin(socket, self->pub);
    zsock_set_curve_secretkey_bin(socket, self->secret);
}
