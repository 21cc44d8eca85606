/* keys — Ed25519 signing keys and their files (libsodium). */
#include "common/keys.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/statedir.h"
#include "common/xalloc.h"

#define S_SECRET_TAG "sluice-ed25519-secret"
#define S_PUBLIC_TAG "sluice-ed25519-public"
/* Longest key file we read: tag, space, 128 hex, newline, some slack. */
#define S_FILE_MAX 512
#define S_FP_BYTES 8

struct keys_t {
    uint8_t pub[KEYS_PUBLIC_SIZE];    /* public half, also inside secret */
    uint8_t secret[KEYS_SECRET_SIZE]; /* libsodium seed||pub; wiped on free */
};

/* sodium_init is idempotent and thread-safe; a failure means no usable
 * random source, which nothing here can work around. */
static void
s_sodium_init(void)
{
    int rc = sodium_init();
    assert(rc >= 0);
    (void) rc;
}

keys_t *
keys_generate(void)
{
    s_sodium_init();
    keys_t *self = xmalloc(sizeof *self);
    crypto_sign_keypair(self->pub, self->secret);
    return self;
}

/* Reads a small text file into buf (NUL-terminated); -1 with err set. */
static int
s_read_small(const char *path, char *buf, size_t size, errbuf_t *err)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        errbuf_set(err, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, size - 1, file);
    int failed = ferror(file);
    fclose(file);
    if (failed) {
        errbuf_set(err, "cannot read '%s': read error", path);
        return -1;
    }
    buf[n] = '\0';
    return 0;
}

/* Parses "TAG HEX\n" into bin (exactly size bytes); -1 when malformed. */
static int
s_parse_line(const char *text, const char *tag, uint8_t *bin, size_t size)
{
    size_t tag_len = strlen(tag);
    if (strncmp(text, tag, tag_len) != 0 || text[tag_len] != ' ') {
        return -1;
    }
    const char *hex = text + tag_len + 1;
    size_t hex_len = strspn(hex, "0123456789abcdefABCDEF");
    if (hex_len != size * 2 ||
        hex[hex_len + strspn(hex + hex_len, " \t\r\n")]) {
        return -1;
    }
    size_t bin_len = 0;
    if (sodium_hex2bin(bin, size, hex, hex_len, NULL, &bin_len, NULL) != 0 ||
        bin_len != size) {
        return -1;
    }
    return 0;
}

keys_t *
keys_load(const char *path, errbuf_t *err)
{
    s_sodium_init();
    if (statedir_check_private(path, err) < 0) {
        return NULL;
    }
    char text[S_FILE_MAX];
    if (s_read_small(path, text, sizeof text, err) < 0) {
        return NULL;
    }
    keys_t *self = xmalloc(sizeof *self);
    int rc = s_parse_line(text, S_SECRET_TAG, self->secret, KEYS_SECRET_SIZE);
    sodium_memzero(text, sizeof text);
    /* The public half is stored inside the secret; re-derive it from the
     * seed so a corrupted file is caught here, not at the first verify. */
    uint8_t seed[crypto_sign_SEEDBYTES];
    uint8_t check[KEYS_SECRET_SIZE];
    if (rc == 0) {
        crypto_sign_ed25519_sk_to_seed(seed, self->secret);
        crypto_sign_seed_keypair(self->pub, check, seed);
        rc = sodium_memcmp(check, self->secret, KEYS_SECRET_SIZE);
    }
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(check, sizeof check);
    if (rc != 0) {
        errbuf_set(err,
                   "'%s' is not a sluice secret key (expected one line "
                   "'" S_SECRET_TAG " <128 hex digits>'); restore it from "
                   "a backup or generate a new key",
                   path);
        keys_destroy(&self);
    }
    return self;
}

/* Writes line to a new file with mode; refuses to replace an existing one. */
static int
s_write_new(const char *path, const char *line, mode_t mode, errbuf_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0 && errno == EEXIST) {
        errbuf_set(err,
                   "'%s' already exists; refusing to overwrite a key file, "
                   "move it away first if you really want a new key",
                   path);
        return -1;
    }
    if (fd < 0) {
        errbuf_set(err, "cannot create '%s': %s", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(line);
    size_t done = 0;
    int rc = fchmod(fd, mode); /* the umask may not widen 0644 below */
    while (rc == 0 && done < len) {
        ssize_t n = write(fd, line + done, len - done);
        if (n > 0) {
            done += (size_t) n;
        } else if (n == 0 || errno != EINTR) {
            rc = -1;
        }
    }
    if (rc == 0) {
        rc = fsync(fd);
    }
    if (close(fd) < 0) {
        rc = -1;
    }
    if (rc < 0) {
        errbuf_set(err, "cannot write '%s': %s", path, strerror(errno));
        unlink(path);
    }
    return rc;
}

int
keys_save(const keys_t *self,
          const char *path,
          const char *pub_path,
          errbuf_t *err)
{
    assert(self);
    assert(path);
    /* Check the public file first so a refusal leaves nothing behind. */
    if (pub_path && statedir_exists(pub_path)) {
        errbuf_set(err,
                   "'%s' already exists; refusing to overwrite a key file, "
                   "move it away first if you really want a new key",
                   pub_path);
        return -1;
    }
    char secret_hex[KEYS_SECRET_SIZE * 2 + 1];
    sodium_bin2hex(secret_hex, sizeof secret_hex, self->secret,
                   KEYS_SECRET_SIZE);
    char line[S_FILE_MAX];
    snprintf(line, sizeof line, S_SECRET_TAG " %s\n", secret_hex);
    int rc = s_write_new(path, line, 0600, err);
    sodium_memzero(secret_hex, sizeof secret_hex);
    sodium_memzero(line, sizeof line);
    if (rc < 0 || !pub_path) {
        return rc;
    }
    char pub_hex[KEYS_HEX_SIZE];
    keys_public_hex(self->pub, pub_hex);
    snprintf(line, sizeof line, S_PUBLIC_TAG " %s\n", pub_hex);
    if (s_write_new(pub_path, line, 0644, err) < 0) {
        unlink(path); /* we just created it: no half-written pair */
        return -1;
    }
    return 0;
}

void
keys_destroy(keys_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    sodium_memzero(*self_p, sizeof **self_p);
    free(*self_p);
    *self_p = NULL;
}

const uint8_t *
keys_public(const keys_t *self)
{
    assert(self);
    return self->pub;
}

void
keys_sign(const keys_t *self, const void *data, size_t size, uint8_t *sig)
{
    assert(self);
    assert(sig);
    crypto_sign_detached(sig, NULL, data, size, self->secret);
}

bool
keys_verify(const uint8_t *pub,
            const void *data,
            size_t size,
            const uint8_t *sig)
{
    assert(pub);
    assert(sig);
    s_sodium_init();
    return crypto_sign_verify_detached(sig, data, size, pub) == 0;
}

void
keys_public_hex(const uint8_t *pub, char *out)
{
    sodium_bin2hex(out, KEYS_HEX_SIZE, pub, KEYS_PUBLIC_SIZE);
}

int
keys_public_from_hex(const char *hex, uint8_t *pub)
{
    if (!hex || strlen(hex) != KEYS_PUBLIC_SIZE * 2) {
        return -1;
    }
    size_t bin_len = 0;
    const char *end = NULL;
    if (sodium_hex2bin(pub, KEYS_PUBLIC_SIZE, hex, KEYS_PUBLIC_SIZE * 2, NULL,
                       &bin_len, &end) != 0 ||
        bin_len != KEYS_PUBLIC_SIZE || *end != '\0') {
        return -1;
    }
    return 0;
}

int
keys_load_public(const char *path, uint8_t *pub, errbuf_t *err)
{
    char text[S_FILE_MAX];
    if (s_read_small(path, text, sizeof text, err) < 0) {
        return -1;
    }
    if (s_parse_line(text, S_PUBLIC_TAG, pub, KEYS_PUBLIC_SIZE) < 0) {
        errbuf_set(err,
                   "'%s' is not a sluice public key (expected one line "
                   "'" S_PUBLIC_TAG " <64 hex digits>')",
                   path);
        return -1;
    }
    return 0;
}

void
keys_fingerprint(const uint8_t *pub, char *out)
{
    s_sodium_init();
    uint8_t hash[S_FP_BYTES];
    crypto_generichash(hash, sizeof hash, pub, KEYS_PUBLIC_SIZE, NULL, 0);
    snprintf(out, KEYS_FP_SIZE, "%02x%02x:%02x%02x:%02x%02x:%02x%02x", hash[0],
             hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7]);
}

void
keys_curve_secret(const keys_t *self, uint8_t *secret_out)
{
    crypto_sign_ed25519_sk_to_curve25519(secret_out, self->secret);
}

int
keys_curve_public(const uint8_t *pub, uint8_t *out)
{
    return crypto_sign_ed25519_pk_to_curve25519(out, pub) == 0 ? 0 : -1;
}
