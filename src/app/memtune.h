/* memtune.h - how the daemon's malloc hands memory back (see memtune.c). */
#ifndef KPULSE_MEMTUNE_H
#define KPULSE_MEMTUNE_H

void kp_memtune(void);
/* Once per tick: hand free heap pages back when a lot is free (after a
 * large JSON answer), so RSS follows what is in use. */
void kp_memtune_trim(void);

#endif
