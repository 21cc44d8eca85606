#include "scheduler/cache.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/datahash.h"
#include "common/xalloc.h"

const char *
cache_local_path(const char *uri)
{
    if (strncmp(uri, "file://", 7) == 0) {
        return uri + 7;
    }
    return strstr(uri, "://") ? NULL : uri;
}

/* Each field as its length and bytes, so that no two definitions share a
 * serialization. */
static void
s_field(crypto_generichash_state *h, const char *text)
{
    uint64_t len = text ? strlen(text) : UINT64_MAX;
    crypto_generichash_update(h, (const uint8_t *) &len, sizeof len);
    if (text) {
        crypto_generichash_update(h, (const uint8_t *) text, strlen(text));
    }
}

static void
s_fields(crypto_generichash_state *h,
         const char *tag,
         const char *const *items,
         size_t n)
{
    char count[48];
    snprintf(count, sizeof count, "%s:%zu", tag, n);
    s_field(h, count);
    for (size_t i = 0; i < n; i++) {
        s_field(h, items[i]);
    }
}

/* The content hash of a local file or directory into hex ("missing" or
 * "remote" when there is none to read from here). */
static void
s_content(const char *uri, char hex[DATAHASH_HEX_SIZE])
{
    const char *path = cache_local_path(uri);
    uint64_t size = 0;
    bool missing = false;
    if (!path) {
        snprintf(hex, DATAHASH_HEX_SIZE, "remote");
    } else if (datahash_path(path, hex, &size, &missing, NULL) < 0) {
        snprintf(hex, DATAHASH_HEX_SIZE, "missing");
    }
}

static void
s_input(crypto_generichash_state *h, const char *uri)
{
    char hex[DATAHASH_HEX_SIZE];
    s_content(uri, hex);
    s_field(h, uri);
    s_field(h, hex);
}

void
cache_key(const dag_task_t *def,
          const char *command,
          char *const *inputs,
          size_t ninputs,
          char *key)
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    s_field(&h, "sluice-cache-1");
    s_field(&h, command);
    s_field(&h, def->id);
    s_field(&h, def->kind);
    s_field(&h, def->run);
    s_field(&h, def->validate);
    s_field(&h, "env");
    for (size_t i = 0; i < def->nenv; i++) {
        s_field(&h, def->env[i].name);
        s_field(&h, def->env[i].value);
    }
    s_fields(&h, "inputs", def->inputs, def->ninputs);
    s_fields(&h, "outputs", def->outputs, def->noutputs);
    s_field(&h, "rendered inputs");
    for (size_t i = 0; i < ninputs; i++) {
        s_input(&h, inputs[i]);
    }
    uint8_t hash[32];
    crypto_generichash_final(&h, hash, sizeof hash);
    sodium_bin2hex(key, CACHE_KEY_HEX, hash, sizeof hash);
}

char *
cache_outputs_describe(char *const *outputs, size_t noutputs)
{
    size_t size = 1;
    for (size_t i = 0; i < noutputs; i++) {
        size += strlen(outputs[i]) + DATAHASH_HEX_SIZE + 2;
    }
    char *text = xcalloc(1, size);
    size_t used = 0;
    for (size_t i = 0; i < noutputs; i++) {
        char hex[DATAHASH_HEX_SIZE];
        s_content(outputs[i], hex);
        used += (size_t) snprintf(text + used, size - used, "%s\t%s\n",
                                  outputs[i], hex);
    }
    return text;
}

bool
cache_outputs_ok(const char *described)
{
    const char *line = described;
    while (line && *line) {
        const char *tab = strchr(line, '\t');
        const char *end = strchr(line, '\n');
        if (!tab || !end || tab > end) {
            return false;
        }
        char *uri = xstrndup(line, (size_t) (tab - line));
        char *want = xstrndup(tab + 1, (size_t) (end - tab - 1));
        char hex[DATAHASH_HEX_SIZE];
        s_content(uri, hex);
        /* A remote output cannot be checked from here: trust the record. */
        bool ok = strcmp(want, "missing") != 0 && strcmp(hex, "missing") != 0 &&
                  (strcmp(hex, "remote") == 0 || strcmp(hex, want) == 0);
        free(uri);
        free(want);
        if (!ok) {
            return false;
        }
        line = end + 1;
    }
    return true;
}
