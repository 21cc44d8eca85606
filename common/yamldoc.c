#include "common/yamldoc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/xalloc.h"

/* Longest word yamldoc_suggest compares; longer ones are never typos of our
 * short key names, and the cap keeps the distance table on the stack. */
#define SUGGEST_MAX_LEN 64

/* The tree's memory: nodes, item arrays and scalar text are carved out of
 * big chunks, and the whole tree is freed chunk by chunk, not node by node
 * (a 100,000-task DAG is about a million nodes). */
#define ARENA_CHUNK (64 * 1024)

typedef struct chunk_t {
    struct chunk_t *next; /* the chunk made before this one */
    size_t used;
    size_t cap;
    max_align_t data[]; /* cap bytes */
} chunk_t;

/* What yamldoc_parse returns: the root node first, so that the tree is
 * freed from it. */
typedef struct {
    yamldoc_node_t node;
    chunk_t *chunks; /* owned: every other node of the tree */
} root_box_t;

static void
s_chunks_free(chunk_t *chunk)
{
    while (chunk) {
        chunk_t *next = chunk->next;
        free(chunk);
        chunk = next;
    }
}

/* size bytes, aligned, from the arena. A big request gets a chunk of its
 * own, kept behind the current one. */
static void *
s_alloc(chunk_t **arena, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    chunk_t *c = *arena;
    if (size > ARENA_CHUNK / 4) {
        chunk_t *big = xmalloc(sizeof *big + size);
        *big = (chunk_t){.next = c ? c->next : NULL, .used = size, .cap = size};
        if (c) {
            c->next = big;
        } else {
            *arena = big;
        }
        return big->data;
    }
    if (!c || c->cap - c->used < size) {
        c = xmalloc(sizeof *c + ARENA_CHUNK);
        *c = (chunk_t){.next = *arena, .used = 0, .cap = ARENA_CHUNK};
        *arena = c;
    }
    void *p = (char *) c->data + c->used;
    c->used += size;
    return p;
}

typedef struct {
    chunk_t *arena;         /* owned until the root box takes it */
    yamldoc_node_t *root;   /* first node made; owns the whole tree */
    yamldoc_node_t **stack; /* open collections, innermost last */
    size_t depth;           /* entries in stack */
    size_t max_depth;
    size_t ndocs;     /* documents started */
    size_t line, col; /* where the error is, 1-based */
    errbuf_t *err;
} builder_t;

static void
s_add_item(builder_t *b,
           yamldoc_node_t *parent,
           yamldoc_node_t *child,
           size_t *cap)
{
    if (parent->count == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        yamldoc_node_t **items =
            s_alloc(&b->arena, *cap * sizeof *parent->items);
        if (parent->count) {
            memcpy(items, parent->items, parent->count * sizeof *parent->items);
        }
        parent->items = items; /* the old array stays in the arena */
    }
    parent->items[parent->count++] = child;
}

/* While a collection is open, count is its number of items (a map's keys
 * and values both), and its array was grown by doubling from 4, so the
 * capacity follows from count. A map's count becomes pairs when it closes. */
static void
s_attach(builder_t *b, yamldoc_node_t *node)
{
    if (b->depth == 0) {
        b->root = node;
        return;
    }
    yamldoc_node_t *parent = b->stack[b->depth - 1];
    size_t cap = 0;
    if (parent->count) {
        cap = 4;
        while (cap < parent->count) {
            cap *= 2;
        }
    }
    s_add_item(b, parent, node, &cap);
}

/* A node with room for `extra` bytes of text after it. */
static yamldoc_node_t *
s_node_new(builder_t *b, yamldoc_type_t type, yaml_mark_t mark, size_t extra)
{
    yamldoc_node_t *node = s_alloc(&b->arena, sizeof *node + extra);
    *node = (yamldoc_node_t){
        .type = type, .line = mark.line + 1, .col = mark.column + 1};
    return node;
}

static int
s_fail(builder_t *b, yaml_mark_t mark, const char *msg)
{
    b->line = mark.line + 1;
    b->col = mark.column + 1;
    errbuf_set(b->err, "%s", msg);
    return -1;
}

static int
s_open(builder_t *b, yamldoc_type_t type, yaml_mark_t mark)
{
    if (b->depth >= b->max_depth) {
        b->line = mark.line + 1;
        b->col = mark.column + 1;
        errbuf_set(b->err,
                   "nesting is deeper than %zu levels; flatten the file",
                   b->max_depth);
        return -1;
    }
    yamldoc_node_t *node = s_node_new(b, type, mark, 0);
    s_attach(b, node);
    b->stack[b->depth++] = node;
    return 0;
}

static void
s_close(builder_t *b)
{
    yamldoc_node_t *node = b->stack[--b->depth];
    if (node->type == YAMLDOC_MAP) {
        node->count /= 2;
    }
}

/* One event into the tree. */
static int
s_event(builder_t *b, const yaml_event_t *ev)
{
    switch (ev->type) {
        case YAML_DOCUMENT_START_EVENT:
            if (b->ndocs++ > 0) {
                return s_fail(b, ev->start_mark,
                              "the file holds more than one YAML document; "
                              "put one document per file");
            }
            return 0;
        case YAML_ALIAS_EVENT:
            return s_fail(b, ev->start_mark,
                          "aliases are not supported; write the value out "
                          "in full");
        case YAML_SCALAR_EVENT: {
            size_t len = ev->data.scalar.length;
            yamldoc_node_t *node =
                s_node_new(b, YAMLDOC_SCALAR, ev->start_mark, len + 1);
            node->value = (char *) (node + 1);
            memcpy(node->value, ev->data.scalar.value, len);
            node->value[len] = '\0';
            node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            s_attach(b, node);
            return 0;
        }
        case YAML_SEQUENCE_START_EVENT:
            return s_open(b, YAMLDOC_SEQ, ev->start_mark);
        case YAML_MAPPING_START_EVENT:
            return s_open(b, YAMLDOC_MAP, ev->start_mark);
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            s_close(b);
            return 0;
        default:
            return 0;
    }
}

/* Reader errors (bad UTF-8, control characters) carry a byte offset, not a
 * mark: count lines up to it. */
static void
s_offset_to_mark(
    const char *text, size_t size, size_t offset, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && i < size; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char) text[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static int
s_syntax_error(builder_t *b,
               yaml_parser_t *parser,
               const char *text,
               size_t size)
{
    const char *problem = parser->problem ? parser->problem : "bad YAML";
    if (parser->error == YAML_READER_ERROR) {
        s_offset_to_mark(text, size, parser->problem_offset, &b->line, &b->col);
        errbuf_set(b->err, "%s; save the file as UTF-8 text", problem);
        return -1;
    }
    b->line = parser->problem_mark.line + 1;
    b->col = parser->problem_mark.column + 1;
    if (parser->context) {
        errbuf_set(b->err,
                   "YAML syntax error: %s %s; check the indentation "
                   "and quoting here",
                   problem, parser->context);
    } else {
        errbuf_set(b->err,
                   "YAML syntax error: %s; check the indentation and "
                   "quoting here",
                   problem);
    }
    return -1;
}

int
yamldoc_parse(const char *text,
              size_t size,
              size_t max_depth,
              yamldoc_node_t **root,
              size_t *line,
              size_t *col,
              errbuf_t *err)
{
    *root = NULL;
    builder_t b = {.max_depth = max_depth, .err = err, .line = 1, .col = 1};
    b.stack = xcalloc(max_depth + 1, sizeof *b.stack);
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *) text, size);
    int rc = 0;
    bool done = false;
    while (!done && rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = s_syntax_error(&b, &parser, text, size);
            break;
        }
        rc = s_event(&b, &ev);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    free(b.stack);
    if (rc != 0 || !b.root) {
        s_chunks_free(b.arena);
        if (rc != 0) {
            *line = b.line;
            *col = b.col;
        }
        return rc;
    }
    /* The root moves into the box that owns the arena; nothing points at
     * its old copy (a scalar root's text stays where it was). */
    root_box_t *box = xmalloc(sizeof *box);
    box->node = *b.root;
    box->chunks = b.arena;
    *root = &box->node;
    return 0;
}

void
yamldoc_destroy(yamldoc_node_t **self_p)
{
    if (self_p && *self_p) {
        root_box_t *box = (root_box_t *) *self_p;
        s_chunks_free(box->chunks);
        free(box);
        *self_p = NULL;
    }
}

bool
yamldoc_is_null(const yamldoc_node_t *node)
{
    if (!node || node->type != YAMLDOC_SCALAR || !node->plain) {
        return false;
    }
    const char *v = node->value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

const char *
yamldoc_type_name(const yamldoc_node_t *node)
{
    if (!node || yamldoc_is_null(node)) {
        return "empty";
    }
    switch (node->type) {
        case YAMLDOC_MAP:
            return "a mapping";
        case YAMLDOC_SEQ:
            return "a sequence";
        default:
            return "a string";
    }
}

static size_t
s_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t row[SUGGEST_MAX_LEN + 1];
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *
yamldoc_suggest(const char *word, const char *const *candidates, size_t n)
{
    size_t lw = strlen(word);
    if (lw == 0 || lw > SUGGEST_MAX_LEN) {
        return NULL;
    }
    /* A typo is a couple of edits; more than a third of the word is a
     * different word. */
    size_t limit = lw <= 3 ? 1 : (lw / 3 > 2 ? lw / 3 : 2);
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        size_t lc = strlen(candidates[i]);
        /* The distance is at least the difference in length. */
        if (lc > SUGGEST_MAX_LEN || lc >= lw + best_d || lw >= lc + best_d) {
            continue;
        }
        size_t d = s_distance(word, lw, candidates[i], lc);
        if (d > 0 && d < best_d) {
            best = candidates[i];
            best_d = d;
        }
    }
    return best;
}
