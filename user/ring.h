/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Draining the BPF ring buffer on a timer (the BPF side submits without wakeups). */
#ifndef SYNFIN_RING_H
#define SYNFIN_RING_H

#include <stdint.h>
#include <linux/types.h>
#include "synfin/events.h"

typedef void (*ring_handler)(void *ctx, const struct synfin_event *e);

struct ring;

/* NULL with errno set on failure. */
struct ring *ring_open(int map_fd, ring_handler handler, void *ctx);
/* Waits up to timeout_ms for a wakeup, then consumes everything queued. Returns records
 * handled (>= 0) or -errno; -EINTR is returned as 0. */
int ring_drain(struct ring *r, int timeout_ms);
/* Records whose size did not match struct synfin_event (an ABI mismatch). */
uint64_t ring_bad_size(const struct ring *r);
void ring_close(struct ring *r);

/* Sum of the per-CPU drop counters, one total per enum synfin_drop. */
int ring_read_drops(int drops_fd, uint64_t out[SYNFIN_DROP_MAX]);

#endif
