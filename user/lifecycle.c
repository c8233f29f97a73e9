// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include "lifecycle.h"

/* Nothing in a TCP lifecycle that synfin measures lasts a year; a larger value is garbage. */
#define MAX_SANE_US (365ULL * 24 * 3600 * 1000000)

int lifecycle_validate(const struct synfin_event *e)
{
	unsigned int i;

	if (e->type == 0 || e->type >= SYNFIN_EV_TYPE_MAX)
		return -EINVAL;
	if (e->id.family != 4 && e->id.family != 6)
		return -EINVAL;
	if (e->side > SYNFIN_SIDE_SERVER)
		return -EINVAL;
	switch (e->type) {
	case SYNFIN_EV_HANDSHAKE:
		if (e->hs.latency_us > MAX_SANE_US)
			return -EINVAL;
		break;
	case SYNFIN_EV_CONNECT_FAIL:
		if (e->reason >= SYNFIN_FAIL_REASON_MAX || e->hs.latency_us > MAX_SANE_US)
			return -EINVAL;
		break;
	case SYNFIN_EV_CLOSE:
		if (e->close.initiator >= SYNFIN_INIT_MAX || e->close.how >= SYNFIN_HOW_MAX ||
		    e->close.lifetime_us > MAX_SANE_US)
			return -EINVAL;
		for (i = 0; i < SYNFIN_CS_MAX; i++)
			if (e->close.state_us[i] > MAX_SANE_US)
				return -EINVAL;
		break;
	case SYNFIN_EV_TIME_WAIT:
		if (e->tw.end >= SYNFIN_TW_END_MAX || e->tw.duration_us > MAX_SANE_US)
			return -EINVAL;
		break;
	default:
		break;
	}
	return 0;
}

bool lifecycle_wanted(const struct filter *f, const struct synfin_event *e)
{
	if (f->pid && e->pid != f->pid)
		return false;
	if (f->port && e->id.lport != f->port && e->id.rport != f->port)
		return false;
	if (f->cookie && e->cookie != f->cookie)
		return false;
	return true;
}

enum handshake_kind handshake_kind(const struct synfin_event *e)
{
	if (e->flags & SYNFIN_F_UNMEASURED)
		return HANDSHAKE_UNMEASURED;
	if (e->flags & SYNFIN_F_ESTIMATED)
		return HANDSHAKE_ESTIMATED;
	return HANDSHAKE_MEASURED;
}

int summary_add(struct summary *s, const struct synfin_event *e)
{
	if (lifecycle_validate(e)) {
		s->malformed++;
		return -EINVAL;
	}
	s->events[e->type]++;
	switch (e->type) {
	case SYNFIN_EV_HANDSHAKE:
		s->handshake_retransmits[e->side] += e->hs.retransmits;
		switch (handshake_kind(e)) {
		case HANDSHAKE_MEASURED:
			hist_add_conn(&s->handshake[e->side], e->hs.latency_us, e);
			break;
		case HANDSHAKE_ESTIMATED:
			s->handshake_estimated[e->side]++;
			hist_add_conn(&s->handshake_estimate[e->side], e->hs.latency_us, e);
			break;
		case HANDSHAKE_UNMEASURED:
			s->handshake_estimated[e->side]++;
			s->handshake_unmeasured[e->side]++;
			break;
		}
		break;
	case SYNFIN_EV_CONNECT_FAIL:
		s->connect_fail[e->reason]++;
		s->connect_fail_retransmits += e->hs.retransmits;
		break;
	case SYNFIN_EV_CLOSE:
		s->closes[e->close.initiator][e->close.how]++;
		if (e->flags & SYNFIN_F_INCOMPLETE)
			s->closes_incomplete++;
		if (e->flags & SYNFIN_F_PARTIAL)
			s->closes_partial++;
		else
			hist_add_conn(&s->lifetime, e->close.lifetime_us, e);
		if (e->close.state_us[SYNFIN_CS_CLOSE_WAIT])
			hist_add_conn(&s->close_wait, e->close.state_us[SYNFIN_CS_CLOSE_WAIT], e);
		if (e->close.tw_handover) {
			s->tw_entries++;
			if (++s->tw_live > s->tw_peak)
				s->tw_peak = s->tw_live;
		}
		break;
	case SYNFIN_EV_TIME_WAIT:
		/* one found at start lasted longer than synfin saw: kept out of the durations */
		if (e->flags & SYNFIN_F_PARTIAL)
			s->time_wait_partial[e->tw.end]++;
		else
			hist_add_conn(&s->time_wait[e->tw.end], e->tw.duration_us, e);
		/* a TIME_WAIT whose entry synfin saw only as a timer (no close) is not live here */
		if (s->tw_live)
			s->tw_live--;
		break;
	default:
		break;
	}
	return 0;
}

uint64_t summary_connect_failures(const struct summary *s)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < SYNFIN_FAIL_REASON_MAX; i++)
		n += s->connect_fail[i];
	return n;
}

uint64_t summary_closes(const struct summary *s)
{
	uint64_t n = 0;
	unsigned int i, j;

	for (i = 0; i < SYNFIN_INIT_MAX; i++)
		for (j = 0; j < SYNFIN_HOW_MAX; j++)
			n += s->closes[i][j];
	return n;
}

bool tw_pending_resolve(const struct synfin_event *tw_start, uint64_t start_ns,
			uint64_t cancel_ns, uint64_t now_ns, uint64_t grace_ns,
			struct synfin_event *out)
{
	if (!cancel_ns || now_ns < cancel_ns || now_ns - cancel_ns < grace_ns)
		return false;
	*out = *tw_start;
	out->type = SYNFIN_EV_TIME_WAIT;
	out->ts_ns = cancel_ns;
	out->tw.end = SYNFIN_TW_KILLED;
	out->tw.duration_us = cancel_ns > start_ns ? (cancel_ns - start_ns) / 1000 : 0;
	return true;
}
