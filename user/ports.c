// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ports.h"

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct port_dest_key));
}

uint32_t port_range_size(const struct port_use *u)
{
	return u->hi >= u->lo && u->hi ? u->hi - u->lo + 1 : 0;
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *g;

	if (n < *cap)
		return p;
	g = realloc(p, c * size);
	if (g)
		*cap = c;
	return g;
}

void ports_given_back(struct port_headroom *h, const struct port_dest_key *key)
{
	struct port_given_back *b;
	size_t i;

	for (i = 0; i < h->back_n; i++)
		if (!key_cmp(&h->back[i].key, key)) {
			h->back[i].n++;
			return;
		}
	b = grow(h->back, &h->back_cap, h->back_n, sizeof(*b));
	if (!b)
		return; /* out of memory: that destination reads one port high */
	h->back = b;
	b[h->back_n].key = *key;
	b[h->back_n++].n = 1;
}

static uint64_t back_of(const struct port_headroom *h, const struct port_dest_key *key)
{
	size_t i;

	for (i = 0; i < h->back_n; i++)
		if (!key_cmp(&h->back[i].key, key))
			return h->back[i].n;
	return 0;
}

void ports_read_dest(struct port_headroom *h, const struct port_dest_key *key,
		     const struct port_dest *cpus, int ncpu)
{
	struct port_use *u, *g;
	const struct port_dest *last = NULL;
	int64_t used = 0;
	int c;

	g = grow(h->next, &h->next_cap, h->next_n, sizeof(*g));
	if (!g)
		return;
	h->next = g;
	u = &g[h->next_n++];
	memset(u, 0, sizeof(*u));
	u->key = *key;
	for (c = 0; c < ncpu; c++) {
		used += cpus[c].used;
		if (cpus[c].last_ns && (!last || cpus[c].last_ns > last->last_ns))
			last = &cpus[c];
	}
	used -= (int64_t)back_of(h, key);
	/* below 0 only for a moment: a port given back on one CPU before the read reached the
	 * CPU that took it */
	u->used = used > 0 ? (uint64_t)used : 0;
	if (last) {
		u->lo = last->range & 0xffff;
		u->hi = last->range >> 16;
		u->pid = last->pid;
		memcpy(u->comm, last->comm, sizeof(u->comm));
		u->last_ns = last->last_ns;
	}
}

static bool past(const struct port_use *u, unsigned int pct)
{
	uint32_t size = port_range_size(u);

	return size && u->used * 100 > (uint64_t)size * pct;
}

int ports_read_done(struct port_headroom *h, unsigned int warn_pct, ports_warn_fn warn, void *ctx)
{
	struct port_use *old;
	size_t i;

	qsort(h->next, h->next_n, sizeof(*h->next), key_cmp);
	for (i = 0; i < h->next_n; i++) {
		struct port_use *u = &h->next[i];

		old = h->n ? bsearch(u, h->dests, h->n, sizeof(*u), key_cmp) : NULL;
		u->warned = old && old->warned;
		if (u->used > h->peak_used) {
			h->peak_used = u->used;
			h->peak_range = port_range_size(u);
		}
		if (!warn_pct)
			continue;
		if (!past(u, warn_pct)) {
			u->warned = false; /* below again: the next crossing warns */
		} else if (!u->warned) {
			u->warned = true;
			if (warn)
				warn(ctx, u);
		}
	}
	old = h->dests;
	h->dests = h->next;
	h->n = h->next_n;
	i = h->cap;
	h->cap = h->next_cap;
	h->next = old;
	h->next_cap = i;
	h->next_n = 0;
	return 0;
}

size_t ports_top(const struct port_headroom *h, const struct port_use **out, size_t max)
{
	size_t i, j, n = 0;

	if (!max)
		return 0;
	/* insertion into a short sorted list: max is small, the destinations may be many */
	for (i = 0; i < h->n; i++) {
		const struct port_use *u = &h->dests[i];

		if (!u->used)
			continue;
		if (n == max && out[n - 1]->used >= u->used)
			continue;
		j = n < max ? n++ : n - 1;
		while (j > 0 && out[j - 1]->used < u->used) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = u;
	}
	return n;
}

void ports_free(struct port_headroom *h)
{
	free(h->dests);
	free(h->next);
	free(h->back);
	memset(h, 0, sizeof(*h));
}
