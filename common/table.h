/* table — text tables for people: rows of cells printed in aligned columns,
 * as the verbs' listings show them (`sluice runs`, `sluice workers`, ...). */
#ifndef SLUICE_TABLE_H
#define SLUICE_TABLE_H

#include <stdio.h>

typedef struct table_t table_t;

/* A table with the given column headers (NULL-terminated, copied). Caller
 * owns the result; never NULL. */
table_t *table_new(const char *const *headers);

/* Frees the table and nulls *self_p; accepts NULL. */
void table_destroy(table_t **self_p);

/* Adds a row of exactly as many cells as there are headers (copied; NULL
 * shows "-"). */
void table_row(table_t *self, ...);

/* Prints headers and rows to out, each column as wide as its widest cell
 * (counted in UTF-8 code points) plus two spaces; the last is not padded. */
void table_print(const table_t *self, FILE *out);

#endif
