// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "stats.h"

const uint64_t prom_bucket_us[PROM_BUCKETS] = {
	10, 25, 50, 100, 250, 500,
	1000, 2500, 5000, 10000, 25000, 50000,
	100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000, 30000000, 60000000, 120000000,
};

static unsigned int msb(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

static unsigned int slot_of(uint64_t v)
{
	unsigned int k;

	if (v < HIST_SUB)
		return (unsigned int)v;
	k = msb(v);
	return (k - HIST_SUB_BITS + 1) * HIST_SUB + (unsigned int)((v >> (k - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* Smallest and largest value that land in slot s. */
static void slot_range(unsigned int s, uint64_t *lo, uint64_t *hi)
{
	unsigned int k, sub;

	if (s < HIST_SUB) {
		*lo = *hi = s;
		return;
	}
	k = s / HIST_SUB + HIST_SUB_BITS - 1;
	sub = s % HIST_SUB;
	*lo = ((uint64_t)(HIST_SUB + sub)) << (k - HIST_SUB_BITS);
	*hi = *lo + (((uint64_t)1) << (k - HIST_SUB_BITS)) - 1;
}

/* The Prometheus bucket us falls in (not cumulative): PROM_BUCKETS above the largest bound. */
static unsigned int prom_of(uint64_t us)
{
	unsigned int i;

	for (i = 0; i < PROM_BUCKETS && us > prom_bucket_us[i]; i++)
		;
	return i;
}

/* Counts us, whose Prometheus bucket is prom. */
static void hist_count(struct hist *h, uint64_t us, unsigned int prom)
{
	if (!h->count || us < h->min_us)
		h->min_us = us;
	if (us > h->max_us)
		h->max_us = us;
	h->count++;
	h->sum_us += us;
	h->slot[slot_of(us)]++;
	h->prom[prom]++;
}

void hist_add(struct hist *h, uint64_t us)
{
	hist_count(h, us, prom_of(us));
}

void hist_add_conn(struct hist *h, uint64_t us, const struct synfin_event *e)
{
	unsigned int prom = prom_of(us);
	struct hist_exemplar *x = &h->ex[prom];

	hist_count(h, us, prom);
	x->ts_ns = e->ts_ns;
	x->value_us = us;
	x->cookie = e->cookie;
	x->id = e->id;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	unsigned int i;

	if (!from->count)
		return;
	if (!into->count || from->min_us < into->min_us)
		into->min_us = from->min_us;
	if (from->max_us > into->max_us)
		into->max_us = from->max_us;
	into->count += from->count;
	into->sum_us += from->sum_us;
	for (i = 0; i < HIST_SLOTS; i++)
		into->slot[i] += from->slot[i];
	for (i = 0; i <= PROM_BUCKETS; i++) {
		into->prom[i] += from->prom[i];
		if (from->ex[i].ts_ns > into->ex[i].ts_ns)
			into->ex[i] = from->ex[i];
	}
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0, lo, hi, v;
	unsigned int s;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min_us;
	if (q >= 1)
		return h->max_us;
	/* nearest-rank: the smallest value with at least q of the samples at or below it */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (!rank)
		rank = 1;
	for (s = 0; s < HIST_SLOTS; s++) {
		seen += h->slot[s];
		if (seen >= rank)
			break;
	}
	if (s == HIST_SLOTS)
		return h->max_us;
	slot_range(s, &lo, &hi);
	v = lo + (hi - lo) / 2;
	if (v < h->min_us)
		v = h->min_us;
	if (v > h->max_us)
		v = h->max_us;
	return v;
}

uint64_t hist_log2_count(const struct hist *h, unsigned int i)
{
	uint64_t n = 0, lo, hi;
	unsigned int s;

	if (i >= HIST_LOG2_SLOTS)
		return 0;
	for (s = 0; s < HIST_SLOTS; s++) {
		if (!h->slot[s])
			continue;
		slot_range(s, &lo, &hi);
		if ((lo ? msb(lo) : 0) == i)
			n += h->slot[s];
	}
	return n;
}

uint64_t hist_prom_cumulative(const struct hist *h, unsigned int i)
{
	uint64_t n = 0;
	unsigned int j;

	for (j = 0; j <= i && j <= PROM_BUCKETS; j++)
		n += h->prom[j];
	return n;
}
