#include "scheduler/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dag.h"
#include "common/limits.h"
#include "common/statedir.h"
#include "common/xalloc.h"
#include "scheduler/store/store_secrets.h"

struct secrets_t {
    char *key_path; /* DIR/secrets.key, owned */
    store_t *store; /* borrowed */
    uint8_t *key;   /* sodium_malloc'd SECRETS_KEY_SIZE bytes; NULL until
                        the key file exists */
};

/* ------------------------------------------------------------- key file */

static int
s_read_key(const char *path, uint8_t *key, errbuf_t *err)
{
    if (statedir_check_private(path, err) < 0) {
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errbuf_set(err, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    uint8_t extra;
    ssize_t n = read(fd, key, SECRETS_KEY_SIZE);
    ssize_t more = n == SECRETS_KEY_SIZE ? read(fd, &extra, 1) : 0;
    close(fd);
    if (n != SECRETS_KEY_SIZE || more != 0) {
        errbuf_set(err,
                   "'%s' is not a secrets key (expected exactly %d bytes); "
                   "restore it from a backup (without it the stored "
                   "secrets cannot be opened)",
                   path, SECRETS_KEY_SIZE);
        return -1;
    }
    return 0;
}

/* Creates the key file: 0600, O_EXCL so two writers never race. */
static int
s_create_key(const char *path, uint8_t *key, errbuf_t *err)
{
    randombytes_buf(key, SECRETS_KEY_SIZE);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        errbuf_set(err, "cannot create '%s': %s", path, strerror(errno));
        return -1;
    }
    int rc = fchmod(fd, 0600) == 0 &&
                     write(fd, key, SECRETS_KEY_SIZE) == SECRETS_KEY_SIZE &&
                     fsync(fd) == 0
                 ? 0
                 : -1;
    if (rc < 0) {
        errbuf_set(err, "cannot write '%s': %s", path, strerror(errno));
        unlink(path);
    }
    close(fd);
    return rc;
}

static int
s_load_key(secrets_t *self, bool create, errbuf_t *err)
{
    if (self->key) {
        return 0;
    }
    bool exists = statedir_exists(self->key_path);
    if (!exists && !create) {
        return 0;
    }
    uint8_t *key = sodium_malloc(SECRETS_KEY_SIZE);
    if (!key) {
        errbuf_set(err, "cannot allocate locked memory for the secrets key");
        return -1;
    }
    int rc = exists ? s_read_key(self->key_path, key, err)
                    : s_create_key(self->key_path, key, err);
    if (rc < 0) {
        sodium_free(key);
        return -1;
    }
    self->key = key;
    return 0;
}

/* ---------------------------------------------------------------- vault */

secrets_t *
secrets_open(const char *dir, store_t *store, errbuf_t *err)
{
    if (sodium_init() < 0) {
        errbuf_set(err, "libsodium failed to start");
        return NULL;
    }
    secrets_t *self = xcalloc(1, sizeof *self);
    self->key_path = statedir_path(dir, SECRETS_KEY_FILE);
    self->store = store;
    if (s_load_key(self, false, err) < 0) {
        secrets_destroy(&self);
    }
    return self;
}

void
secrets_destroy(secrets_t **self_p)
{
    secrets_t *self = *self_p;
    if (!self) {
        return;
    }
    if (self->key) {
        sodium_free(self->key);
    }
    free(self->key_path);
    free(self);
    *self_p = NULL;
}

static int
s_check_value(const char *name, const void *value, size_t len, errbuf_t *err)
{
    if (len == 0) {
        errbuf_set(err, "secret '%s' is empty; give it a value on stdin", name);
        return -1;
    }
    if (len > LIMITS_SECRET_VALUE_MAX) {
        errbuf_set(err,
                   "secret '%s' is %zu bytes, more than the %d allowed; "
                   "store a path or a short token instead",
                   name, len, LIMITS_SECRET_VALUE_MAX);
        return -1;
    }
    if (memchr(value, '\0', len)) {
        errbuf_set(err,
                   "secret '%s' contains a NUL byte and cannot go into an "
                   "environment variable; base64-encode it",
                   name);
        return -1;
    }
    return 0;
}

int
secrets_set(secrets_t *self,
            const char *name,
            const void *value,
            size_t len,
            int64_t now,
            bool *replaced,
            errbuf_t *err)
{
    if (!dag_name_ok(name)) {
        errbuf_set(err,
                   "'%.128s' is not a secret name; a secret name may only "
                   "use " DAG_NAME_RULE,
                   name ? name : "");
        return -1;
    }
    if (s_check_value(name, value, len, err) < 0 ||
        s_load_key(self, true, err) < 0) {
        return -1;
    }
    uint8_t nonce[SECRETS_NONCE_SIZE];
    size_t box_len;
    uint8_t *box = secrets_seal(self->key, value, len, nonce, &box_len);
    int rc = store_secret_put(self->store, name, nonce, sizeof nonce, box,
                              box_len, now, replaced, err);
    free(box);
    return rc;
}

char *
secrets_get(secrets_t *self, const char *name, errbuf_t *err)
{
    uint8_t *nonce = NULL, *box = NULL;
    size_t nonce_len = 0, box_len = 0;
    int found = store_secret_get(self->store, name, &nonce, &nonce_len, &box,
                                 &box_len, err);
    char *value = NULL;
    if (found == 0) {
        errbuf_set(err,
                   "secret '%s' is not set; set it with 'sluice secret "
                   "set %s'",
                   name, name);
    } else if (found > 0 && s_load_key(self, false, err) == 0) {
        if (!self->key || nonce_len != SECRETS_NONCE_SIZE) {
            errbuf_set(err,
                       "secret '%s' cannot be opened: '%s' is missing or "
                       "the stored secret is damaged; set it again with "
                       "'sluice secret set %s'",
                       name, self->key_path, name);
        } else {
            value = secrets_open_box(self->key, nonce, box, box_len, NULL, err);
            if (!value) {
                errbuf_prefix(err, "secret '%s'", name);
            }
        }
    }
    free(nonce);
    free(box);
    return value;
}

void
secrets_free(char **value_p)
{
    if (*value_p) {
        sodium_memzero(*value_p, strlen(*value_p));
        free(*value_p);
        *value_p = NULL;
    }
}

int
secrets_rm(secrets_t *self, const char *name, errbuf_t *err)
{
    bool removed = false;
    if (store_secret_rm(self->store, name, &removed, err) < 0) {
        return -1;
    }
    if (!removed) {
        errbuf_set(err,
                   "there is no secret '%s'; 'sluice secret list' shows "
                   "the names",
                   name);
        return -1;
    }
    return 0;
}

/* --------------------------------------------------------------- crypto */

uint8_t *
secrets_seal(const uint8_t *key,
             const void *value,
             size_t len,
             uint8_t *nonce,
             size_t *box_len)
{
    randombytes_buf(nonce, SECRETS_NONCE_SIZE);
    *box_len = len + crypto_secretbox_MACBYTES;
    uint8_t *box = xmalloc(*box_len);
    crypto_secretbox_easy(box, value, len, nonce, key);
    return box;
}

char *
secrets_open_box(const uint8_t *key,
                 const uint8_t *nonce,
                 const uint8_t *box,
                 size_t box_len,
                 size_t *len,
                 errbuf_t *err)
{
    if (box_len < crypto_secretbox_MACBYTES) {
        errbuf_set(err, "the sealed value is truncated");
        return NULL;
    }
    size_t plain_len = box_len - crypto_secretbox_MACBYTES;
    char *plain = xmalloc(plain_len + 1);
    if (crypto_secretbox_open_easy((uint8_t *) plain, box, box_len, nonce,
                                   key) != 0) {
        free(plain);
        errbuf_set(err, "the sealed value does not open with this secrets "
                        "key (wrong key, or the value was changed)");
        return NULL;
    }
    plain[plain_len] = '\0';
    if (len) {
        *len = plain_len;
    }
    return plain;
}

/* -------------------------------------------------------------- masking */

#define S_STREAMS 4

typedef struct {
    uint8_t *data; /* held back: may be the start of a value; owned */
    size_t len;
} s_tail_t;

struct secrets_mask_t {
    char **values; /* owned copies, wiped on destroy */
    size_t nvalues;
    s_tail_t tails[S_STREAMS]; /* per stream, by stream % S_STREAMS */
};

secrets_mask_t *
secrets_mask_new(void)
{
    return xcalloc(1, sizeof(secrets_mask_t));
}

void
secrets_mask_destroy(secrets_mask_t **self_p)
{
    secrets_mask_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->nvalues; i++) {
        secrets_free(&self->values[i]);
    }
    free(self->values);
    for (size_t i = 0; i < S_STREAMS; i++) {
        if (self->tails[i].data) {
            sodium_memzero(self->tails[i].data, self->tails[i].len);
        }
        free(self->tails[i].data);
    }
    free(self);
    *self_p = NULL;
}

void
secrets_mask_add(secrets_mask_t *self, const char *value)
{
    if (!value || !*value) {
        return;
    }
    self->values =
        xrealloc(self->values, (self->nvalues + 1) * sizeof *self->values);
    self->values[self->nvalues++] = xstrdup(value);
}

size_t
secrets_mask_count(const secrets_mask_t *self)
{
    return self->nvalues;
}

/* What starts at buf[0..len): the length of the longest value that ends
 * inside buf (0 when none), and *partial: some longer value starts here
 * but buf ends first. */
static size_t
s_match(const secrets_mask_t *self,
        const uint8_t *buf,
        size_t len,
        bool *partial)
{
    size_t best = 0;
    *partial = false;
    for (size_t i = 0; i < self->nvalues; i++) {
        size_t vlen = strlen(self->values[i]);
        if (vlen <= len) {
            if (vlen > best && memcmp(buf, self->values[i], vlen) == 0) {
                best = vlen;
            }
        } else if (memcmp(buf, self->values[i], len) == 0) {
            *partial = true;
        }
    }
    return best;
}

/* Copies buf to out with values masked. Unless `final`, stops at the
 * first offset where a value could begin but buf ends first (a longer
 * value wins over a shorter one that matches there), and returns that
 * offset: the caller holds buf[offset..len) back. */
static size_t
s_scan(const secrets_mask_t *self,
       const uint8_t *buf,
       size_t len,
       bool final,
       uint8_t *out,
       size_t *out_len)
{
    size_t at = 0;
    size_t mask_len = strlen(SECRETS_MASK);
    *out_len = 0;
    while (at < len) {
        bool partial;
        size_t n = s_match(self, buf + at, len - at, &partial);
        if (partial && !final) {
            return at;
        }
        if (n > 0) {
            memcpy(out + *out_len, SECRETS_MASK, mask_len);
            *out_len += mask_len;
            at += n;
        } else {
            out[(*out_len)++] = buf[at++];
        }
    }
    return at;
}

uint8_t *
secrets_mask(secrets_mask_t *self,
             unsigned stream,
             const void *data,
             size_t len,
             size_t *out_len)
{
    s_tail_t *tail = &self->tails[stream % S_STREAMS];
    size_t total = tail->len + len;
    uint8_t *buf = xmalloc(total + 1);
    if (tail->len) {
        memcpy(buf, tail->data, tail->len);
    }
    if (len) {
        memcpy(buf + tail->len, data, len);
    }
    /* Masking never lengthens text by more than the mask per byte. */
    uint8_t *out = xmalloc(total * strlen(SECRETS_MASK) + 1);
    size_t held_at = s_scan(self, buf, total, false, out, out_len);
    free(tail->data);
    tail->len = total - held_at;
    tail->data = tail->len ? xmalloc(tail->len) : NULL;
    if (tail->len) {
        memcpy(tail->data, buf + held_at, tail->len);
    }
    sodium_memzero(buf, total);
    free(buf);
    return out;
}

uint8_t *
secrets_mask_flush(secrets_mask_t *self, unsigned stream, size_t *out_len)
{
    s_tail_t *tail = &self->tails[stream % S_STREAMS];
    uint8_t *out = xmalloc(tail->len * strlen(SECRETS_MASK) + 1);
    s_scan(self, tail->data, tail->len, true, out, out_len);
    if (tail->data) {
        sodium_memzero(tail->data, tail->len);
    }
    free(tail->data);
    tail->data = NULL;
    tail->len = 0;
    return out;
}
