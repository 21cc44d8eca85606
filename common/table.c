#include "common/table.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>

#include <czmq.h>

#include "common/escape.h"
#include "common/xalloc.h"

struct table_t {
    size_t ncols;  /* columns */
    zlist_t *rows; /* owned char ** rows of ncols owned strings; row 0 is
                      the header */
};

table_t *
table_new(const char *const *headers)
{
    table_t *self = xcalloc(1, sizeof *self);
    while (headers[self->ncols]) {
        self->ncols++;
    }
    self->rows = zlist_new();
    char **row = xcalloc(self->ncols, sizeof *row);
    for (size_t i = 0; i < self->ncols; i++) {
        row[i] = xstrdup(headers[i]);
    }
    zlist_append(self->rows, row);
    return self;
}

void
table_destroy(table_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    table_t *self = *self_p;
    for (char **row = zlist_first(self->rows); row;
         row = zlist_next(self->rows)) {
        for (size_t i = 0; i < self->ncols; i++) {
            free(row[i]);
        }
        free(row);
    }
    zlist_destroy(&self->rows);
    free(self);
    *self_p = NULL;
}

void
table_row(table_t *self, ...)
{
    va_list ap;
    va_start(ap, self);
    char **row = xcalloc(self->ncols, sizeof *row);
    for (size_t i = 0; i < self->ncols; i++) {
        const char *cell = va_arg(ap, const char *);
        /* Cells often hold what a peer chose (names, labels, reasons). */
        row[i] = cell ? escape_dup(cell) : xstrdup("-");
    }
    va_end(ap);
    zlist_append(self->rows, row);
}

/* Columns a UTF-8 string takes on a terminal: one per code point. */
static size_t
s_width(const char *text)
{
    size_t width = 0;
    for (const unsigned char *p = (const unsigned char *) text; *p; p++) {
        width += (*p & 0xc0) != 0x80;
    }
    return width;
}

void
table_print(const table_t *self, FILE *out)
{
    size_t *widths = xcalloc(self->ncols, sizeof *widths);
    for (char **row = zlist_first(self->rows); row;
         row = zlist_next(self->rows)) {
        for (size_t i = 0; i < self->ncols; i++) {
            size_t w = s_width(row[i]);
            widths[i] = w > widths[i] ? w : widths[i];
        }
    }
    for (char **row = zlist_first(self->rows); row;
         row = zlist_next(self->rows)) {
        for (size_t i = 0; i < self->ncols; i++) {
            bool last = i + 1 == self->ncols;
            fputs(row[i], out);
            for (size_t pad = s_width(row[i]); !last && pad < widths[i] + 2;
                 pad++) {
                fputc(' ', out);
            }
        }
        fputc('\n', out);
    }
    free(widths);
}
