// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "run_model.h"

/* ---------------------------------------------------------------- endpoints */

static bool endpoint_key(const struct synfin_event *e, uint16_t *port)
{
	if (e->type == SYNFIN_EV_HANDSHAKE)
		*port = e->side == SYNFIN_SIDE_SERVER ? e->id.lport : e->id.rport;
	else if (e->type == SYNFIN_EV_CONNECT_FAIL)
		*port = e->id.rport;
	else
		return false;
	return true;
}

void endpoints_add(struct endpoint_table *t, const struct synfin_event *e)
{
	struct endpoint *ep = NULL;
	unsigned int i;
	uint16_t port;

	if (!endpoint_key(e, &port))
		return;
	for (i = 0; i < t->n; i++) {
		ep = &t->ep[i];
		if (ep->side == e->side && ep->family == e->id.family && ep->port == port &&
		    !memcmp(ep->addr, e->id.raddr, sizeof(ep->addr)))
			break;
	}
	if (i == t->n) {
		if (t->n == ENDPOINT_MAX) {
			t->folded++;
			return;
		}
		ep = &t->ep[t->n++];
		memset(ep, 0, sizeof(*ep));
		ep->side = e->side;
		ep->family = e->id.family;
		ep->port = port;
		memcpy(ep->addr, e->id.raddr, sizeof(ep->addr));
	}
	if (e->type == SYNFIN_EV_HANDSHAKE) {
		if (handshake_kind(e) == HANDSHAKE_MEASURED)
			hist_add(&ep->hs, e->hs.latency_us);
	} else
		ep->failures++;
}

struct top_row {
	unsigned int i;
	uint64_t p99, count;
};

static int top_cmp(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (x->p99 != y->p99)
		return x->p99 < y->p99 ? 1 : -1;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->i < y->i ? -1 : x->i > y->i;
}

unsigned int endpoints_top(const struct endpoint_table *t, unsigned int *idx, unsigned int max)
{
	struct top_row rows[ENDPOINT_MAX];
	unsigned int i, n = t->n < ENDPOINT_MAX ? t->n : ENDPOINT_MAX;

	for (i = 0; i < n; i++)
		rows[i] = (struct top_row){ i, hist_quantile(&t->ep[i].hs, 0.99), t->ep[i].hs.count };
	qsort(rows, n, sizeof(rows[0]), top_cmp);
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		idx[i] = rows[i].i;
	return n;
}

void endpoint_label(char *buf, size_t len, const struct endpoint *ep)
{
	char addr[ADDR_STR_LEN];

	if (ep->side == SYNFIN_SIDE_SERVER) {
		format_addr(addr, sizeof(addr), ep->family, ep->addr);
		snprintf(buf, len, "%s -> :%u", addr, ep->port);
	} else {
		format_endpoint(buf, len, ep->family, ep->addr, ep->port);
	}
}

/* ---------------------------------------------------------------- TIME_WAIT timeline */

void tw_timeline_init(struct tw_timeline *t, uint64_t start_ns)
{
	memset(t, 0, sizeof(*t));
	t->start_ns = start_ns;
	t->bin_ns = TW_BIN_NS_MIN;
}

static void tw_widen(struct tw_timeline *t)
{
	unsigned int i;

	for (i = 0; i < TW_BINS / 2; i++) {
		t->peak[i] = t->peak[2 * i] > t->peak[2 * i + 1] ? t->peak[2 * i] : t->peak[2 * i + 1];
		t->entered[i] = t->entered[2 * i] + t->entered[2 * i + 1];
	}
	memset(&t->peak[TW_BINS / 2], 0, sizeof(t->peak) / 2);
	memset(&t->entered[TW_BINS / 2], 0, sizeof(t->entered) / 2);
	t->used = (t->used + 1) / 2;
	t->bin_ns *= 2;
}

/* Moves to the bin of ts_ns, carrying the current level through the bins in between. */
static unsigned int tw_advance(struct tw_timeline *t, uint64_t ts_ns)
{
	uint64_t off = ts_ns > t->start_ns ? ts_ns - t->start_ns : 0;
	unsigned int b, i;

	/* a bin_ns overflow would need a run of 2^64 ns / TW_BINS: centuries */
	while (off / t->bin_ns >= TW_BINS)
		tw_widen(t);
	b = (unsigned int)(off / t->bin_ns);
	for (i = t->used ? t->used - 1 : 0; i <= b; i++)
		if (t->peak[i] < t->live)
			t->peak[i] = t->live;
	if (b + 1 > t->used)
		t->used = b + 1;
	return b;
}

void tw_timeline_add(struct tw_timeline *t, const struct synfin_event *e)
{
	unsigned int b;

	if (e->type == SYNFIN_EV_CLOSE && e->close.tw_handover) {
		b = tw_advance(t, e->ts_ns);
		t->live++;
		t->entered[b]++;
		if (t->peak[b] < t->live)
			t->peak[b] = t->live;
	} else if (e->type == SYNFIN_EV_TIME_WAIT) {
		tw_advance(t, e->ts_ns);
		/* as the summary: a TIME_WAIT whose close synfin did not see is not counted live */
		if (t->live)
			t->live--;
	}
}

void tw_timeline_end(struct tw_timeline *t, uint64_t now_ns)
{
	tw_advance(t, now_ns);
}

/* ---------------------------------------------------------------- the verdict */

unsigned int report_failures(const struct run_report *r)
{
	unsigned int i, n = 0;

	for (i = 0; i < r->nasserts; i++)
		n += !r->results[i].passed;
	return n;
}

const char *report_verdict(const struct run_report *r)
{
	if (r->exit_code != 0)
		return "command_failed";
	if (r->ri->lost > r->lost_allowed)
		return "events_lost";
	return report_failures(r) ? "assertion_failed" : "pass";
}
