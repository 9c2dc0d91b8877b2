/* cli.h - terminal commands: snapshot, top, latency, slow, check. */
#ifndef KPULSE_CLI_H
#define KPULSE_CLI_H

#include <stdio.h>
#include <jansson.h>

int do_snapshot(int argc, char **argv);
int do_top(int argc, char **argv);
int do_latency(int argc, char **argv);
int do_check(int argc, char **argv);
int do_slow(int argc, char **argv);

/* The container table from an /api/v1/containers document, @width columns
 * wide (0 = no limit). */
void kp_table_print(FILE *f, json_t *containers, int width);

#endif
