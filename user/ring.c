// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kstate.h"
#include "ring.h"

struct ring {
	struct ring_buffer *rb;
	ring_handler handler;
	void *ctx;
	uint64_t bad_size;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct ring *r = ctx;

	if (size != sizeof(struct synfin_event)) {
		r->bad_size++;
		return 0;
	}
	r->handler(r->ctx, data);
	return 0;
}

struct ring *ring_open(int map_fd, ring_handler handler, void *ctx)
{
	struct ring *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->handler = handler;
	r->ctx = ctx;
	r->rb = ring_buffer__new(map_fd, on_record, r, NULL);
	if (!r->rb) {
		int e = errno;

		free(r);
		errno = e;
		return NULL;
	}
	return r;
}

int ring_drain(struct ring *r, int timeout_ms)
{
	int n, m;

	n = ring_buffer__poll(r->rb, timeout_ms);
	if (n == -EINTR)
		n = 0;
	if (n < 0)
		return n;
	/* poll consumes only after a wakeup; records submitted with BPF_RB_NO_WAKEUP wait here */
	m = ring_buffer__consume(r->rb);
	if (m == -EINTR)
		m = 0;
	if (m < 0)
		return m;
	return n + m;
}

uint64_t ring_bad_size(const struct ring *r)
{
	return r->bad_size;
}

void ring_close(struct ring *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	free(r);
}

int ring_read_drops(int drops_fd, uint64_t out[SYNFIN_DROP_MAX])
{
	int64_t sums[SYNFIN_DROP_MAX];
	unsigned int k;
	int ret;

	ret = kstate_percpu_sum(drops_fd, SYNFIN_DROP_MAX, sums);
	for (k = 0; k < SYNFIN_DROP_MAX; k++)
		out[k] = ret ? 0 : (uint64_t)sums[k];
	return ret;
}
