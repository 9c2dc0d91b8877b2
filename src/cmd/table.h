/* table.h - the container table of `snapshot` and `top`, rendered from an
 * /api/v1/containers document, so a local run and one read --from a
 * daemon look alike. */
#ifndef KPULSE_TABLE_H
#define KPULSE_TABLE_H

#include <stdio.h>
#include <jansson.h>

/* The table, @width columns wide (0 = no limit): full columns, or a
 * compact set when the terminal is narrower than them. */
void kp_table_print(FILE *f, json_t *containers, int width);

#endif
