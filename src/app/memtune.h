/* memtune.h - how the daemon's malloc hands memory back (see memtune.c). */
#ifndef KPULSE_MEMTUNE_H
#define KPULSE_MEMTUNE_H

void kp_memtune(void);

#endif
