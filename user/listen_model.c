// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "listen_model.h"

const char *listen_reason_name(unsigned int r)
{
	static const char *const names[LISTEN_REASON_MAX] = {
		[LISTEN_ACCEPT_QUEUE_FULL] = "accept_queue_full",
		[LISTEN_SYN_QUEUE_FULL] = "syn_queue_full",
		[LISTEN_OTHER] = "other",
	};

	return r < LISTEN_REASON_MAX ? names[r] : "unknown";
}

/* The end of the line starting at p (its '\n' or the final '\0'). */
static const char *line_end(const char *p)
{
	const char *e = strchr(p, '\n');

	return e ? e : p + strlen(p);
}

/* Next space-separated word in [*p, end): its length, 0 at the end. */
static size_t next_word(const char **p, const char *end)
{
	const char *s = *p;
	size_t n = 0;

	while (s < end && *s == ' ')
		s++;
	while (s + n < end && s[n] != ' ')
		n++;
	*p = s + n;
	return n;
}

int listen_netstat_parse(const char *text, struct listen_counters *out)
{
	static const char prefix[] = "TcpExt:";
	const char *names, *names_end, *vals, *vals_end, *w, *v;
	unsigned int found = 0;
	size_t wn, vn;

	memset(out, 0, sizeof(*out));
	/* the names line, then the values line, both starting with the prefix */
	for (names = text; *names; names = *names_end ? names_end + 1 : names_end) {
		names_end = line_end(names);
		if (!strncmp(names, prefix, sizeof(prefix) - 1))
			break;
	}
	if (!*names)
		return -EINVAL;
	vals = *names_end ? names_end + 1 : names_end;
	vals_end = line_end(vals);
	if (strncmp(vals, prefix, sizeof(prefix) - 1))
		return -EINVAL;
	w = names + sizeof(prefix) - 1;
	v = vals + sizeof(prefix) - 1;
	while ((wn = next_word(&w, names_end)) && (vn = next_word(&v, vals_end))) {
		uint64_t *dst = NULL;
		char num[24];
		char *e;

		if (wn == 11 && !memcmp(w - wn, "ListenDrops", wn))
			dst = &out->listen_drops;
		else if (wn == 15 && !memcmp(w - wn, "ListenOverflows", wn))
			dst = &out->listen_overflows;
		else if (wn == 15 && !memcmp(w - wn, "TCPReqQFullDrop", wn))
			dst = &out->reqq_full_drops;
		if (!dst)
			continue;
		if (vn >= sizeof(num))
			return -EINVAL;
		memcpy(num, v - vn, vn);
		num[vn] = '\0';
		*dst = strtoull(num, &e, 10);
		if (*e)
			return -EINVAL;
		found |= dst == &out->listen_drops ? 1 : dst == &out->listen_overflows ? 2 : 4;
	}
	return found == 7 ? 0 : -EINVAL;
}

void listen_counters_from_hook(const __u64 v[SYNFIN_NS_COUNTERS], struct listen_counters *out)
{
	out->listen_drops = v[SYNFIN_NS_LISTEN_DROPS];
	out->listen_overflows = v[SYNFIN_NS_LISTEN_OVERFLOWS];
	out->reqq_full_drops = v[SYNFIN_NS_REQQ_FULL_DROPS];
}

static uint64_t least(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void listen_counters_earliest(struct listen_counters *acc, const struct listen_counters *c)
{
	acc->listen_drops = least(acc->listen_drops, c->listen_drops);
	acc->listen_overflows = least(acc->listen_overflows, c->listen_overflows);
	acc->reqq_full_drops = least(acc->reqq_full_drops, c->reqq_full_drops);
}

static uint64_t most(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

void listen_counters_latest(struct listen_counters *acc, const struct listen_counters *c)
{
	acc->listen_drops = most(acc->listen_drops, c->listen_drops);
	acc->listen_overflows = most(acc->listen_overflows, c->listen_overflows);
	acc->reqq_full_drops = most(acc->reqq_full_drops, c->reqq_full_drops);
}

static uint64_t delta(uint64_t before, uint64_t now)
{
	return now > before ? now - before : 0;
}

void listen_split(const struct listen_counters *before, const struct listen_counters *now,
		  uint64_t out[LISTEN_REASON_MAX])
{
	uint64_t all = delta(before->listen_drops, now->listen_drops);
	uint64_t over = delta(before->listen_overflows, now->listen_overflows);
	uint64_t reqq = delta(before->reqq_full_drops, now->reqq_full_drops);

	/* each of them is a ListenDrop too; read a moment apart, they may not add up */
	if (over > all)
		over = all;
	if (reqq > all - over)
		reqq = all - over;
	out[LISTEN_ACCEPT_QUEUE_FULL] = over;
	out[LISTEN_SYN_QUEUE_FULL] = reqq;
	out[LISTEN_OTHER] = all - over - reqq;
}

int listen_attribute(const struct listen_port_obs *obs, unsigned int n)
{
	int port = LISTEN_UNATTRIBUTED;
	unsigned int i, candidates = 0;

	for (i = 0; i < n; i++) {
		if (!obs[i].moved)
			continue;
		/* several listeners (SO_REUSEPORT, v4 and v6) on one port are one candidate */
		if (candidates && port == obs[i].port)
			continue;
		candidates++;
		port = obs[i].port;
	}
	return candidates == 1 ? port : LISTEN_UNATTRIBUTED;
}

static struct listen_port *find_port(struct listen_stats *s, uint16_t port, bool create)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->ports[i].port == port)
			return &s->ports[i];
	if (!create || s->n == LISTEN_PORTS_MAX)
		return NULL;
	s->ports[s->n].port = port;
	return &s->ports[s->n++];
}

void listen_stats_begin_walk(struct listen_stats *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++) {
		s->ports[i].live = false;
		s->ports[i].length = 0;
		s->ports[i].limit = 0;
	}
}

void listen_stats_listener(struct listen_stats *s, uint16_t port, uint64_t length, uint64_t limit)
{
	struct listen_port *p = find_port(s, port, true);

	if (!p)
		return;
	p->live = true;
	p->length += length;
	p->limit += limit;
}

void listen_stats_end_walk(struct listen_stats *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->ports[i].length > s->ports[i].peak)
			s->ports[i].peak = s->ports[i].length;
}

void listen_stats_drops(struct listen_stats *s, int port, const uint64_t by_reason[LISTEN_REASON_MAX])
{
	struct listen_port *p = NULL;
	uint64_t *dst;
	unsigned int r;

	if (port >= 0 && port <= 65535)
		p = find_port(s, (uint16_t)port, true);
	dst = p ? p->drops : s->unattributed;
	for (r = 0; r < LISTEN_REASON_MAX; r++)
		dst[r] += by_reason[r];
}

uint64_t listen_stats_drops_total(const struct listen_stats *s, int reason)
{
	uint64_t sum = 0;
	unsigned int i, r;

	for (r = 0; r < LISTEN_REASON_MAX; r++) {
		if (reason >= 0 && (unsigned int)reason != r)
			continue;
		sum += s->unattributed[r];
		for (i = 0; i < s->n; i++)
			sum += s->ports[i].drops[r];
	}
	return sum;
}

uint64_t listen_stats_peak(const struct listen_stats *s)
{
	uint64_t peak = 0;
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->ports[i].peak > peak)
			peak = s->ports[i].peak;
	return peak;
}
