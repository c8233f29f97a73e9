// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"
#include "synfin/conn_fsm.h"

static const char *const counter_names[AUDIT_COUNTER_MAX] = {
	[AUDIT_ACTIVE_OPENS] = "active_opens",
	[AUDIT_PASSIVE_OPENS] = "passive_opens",
	[AUDIT_ATTEMPT_FAILS] = "attempt_fails",
	[AUDIT_ESTAB_RESETS] = "estab_resets",
	[AUDIT_TIME_WAIT] = "time_wait",
};

static const char *const counter_kernel[AUDIT_COUNTER_MAX] = {
	[AUDIT_ACTIVE_OPENS] = "TcpActiveOpens",
	[AUDIT_PASSIVE_OPENS] = "TcpPassiveOpens",
	[AUDIT_ATTEMPT_FAILS] = "TcpAttemptFails-TcpExtEmbryonicRsts",
	[AUDIT_ESTAB_RESETS] = "TcpEstabResets",
	[AUDIT_TIME_WAIT] = "TcpExtTW+TcpExtTWKilled",
};

/* Group and name of each enum audit_field, as /proc/net/{snmp,netstat} spell them. */
static const struct {
	const char *group;
	const char *name;
} fields[AUDIT_F_MAX] = {
	[AUDIT_F_ACTIVE_OPENS] = { "Tcp", "ActiveOpens" },
	[AUDIT_F_PASSIVE_OPENS] = { "Tcp", "PassiveOpens" },
	[AUDIT_F_ATTEMPT_FAILS] = { "Tcp", "AttemptFails" },
	[AUDIT_F_ESTAB_RESETS] = { "Tcp", "EstabResets" },
	[AUDIT_F_TW] = { "TcpExt", "TW" },
	[AUDIT_F_TW_KILLED] = { "TcpExt", "TWKilled" },
	[AUDIT_F_EMBRYONIC_RSTS] = { "TcpExt", "EmbryonicRsts" },
};

const char *audit_counter_name(unsigned int c)
{
	return c < AUDIT_COUNTER_MAX ? counter_names[c] : "unknown";
}

const char *audit_counter_kernel(unsigned int c)
{
	return c < AUDIT_COUNTER_MAX ? counter_kernel[c] : "unknown";
}

const char *audit_na_text(unsigned int na)
{
	if (na & AUDIT_NA_NO_BASE)
		return "the kernel's counters could not be read at the start (no process in the namespace to read them through)";
	if (na & AUDIT_NA_NO_NOW)
		return "the kernel's counters cannot be read now";
	if (na & AUDIT_NA_CGROUP)
		return "synfin run counts CMD's cgroup only, the kernel the whole namespace";
	if (na & AUDIT_NA_FAMILY)
		return "-4/-6 filter: the kernel counts IPv4 and IPv6 together";
	if (na & AUDIT_NA_PORT)
		return "--port filter: the kernel counts every port";
	if (na & AUDIT_NA_PID)
		return "--pid filter: the kernel counts every process";
	if (na & AUDIT_NA_COOKIE)
		return "--cookie filter: the kernel counts every socket";
	if (na & AUDIT_NA_NO_TW)
		return "--no-time-wait: synfin sees no timewait handovers";
	if (na & AUDIT_NA_ABORTED)
		return "aborted server children are counted machine-wide: use --netns";
	if (na & AUDIT_NA_TW_AT_END)
		return "this kernel counts TcpExtTW when a TIME_WAIT ends, not when it starts";
	return "";
}

/* One line: [p, end) without the newline; the next line's start in *next. */
static const char *line_end(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	*next = nl ? nl + 1 : end;
	return nl ? nl : end;
}

/* The next space-separated token of [*p, end): its length, 0 at the end. */
static size_t token(const char **p, const char *end, const char **tok)
{
	const char *s = *p;

	while (s < end && *s == ' ')
		s++;
	*tok = s;
	while (s < end && *s != ' ')
		s++;
	*p = s;
	return (size_t)(s - *tok);
}

static int field_of(const char *group, size_t glen, const char *name, size_t nlen)
{
	unsigned int i;

	for (i = 0; i < AUDIT_F_MAX; i++)
		if (strlen(fields[i].group) == glen && !memcmp(fields[i].group, group, glen) &&
		    strlen(fields[i].name) == nlen && !memcmp(fields[i].name, name, nlen))
			return (int)i;
	return -1;
}

/* A counter's value: decimal digits only (MaxConn's -1 is never wanted). */
static int parse_value(const char *s, size_t len, uint64_t *v)
{
	uint64_t n = 0;
	size_t i;

	if (!len || len > 20)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		if (n > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -EINVAL;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*v = n;
	return 0;
}

int audit_parse(const char *text, size_t len, struct audit_kernel *k)
{
	const char *p = text, *end = text + len, *next, *hend, *vend, *vp, *hp, *n, *v, *colon;
	size_t glen, nl, vl;
	int f;

	while (p < end) {
		hend = line_end(p, end, &next);
		if (hend == p) {
			p = next;
			continue;
		}
		colon = memchr(p, ':', (size_t)(hend - p));
		if (!colon || next >= end)
			return -EINVAL; /* a header without its value line */
		glen = (size_t)(colon - p);
		vp = next;
		vend = line_end(vp, end, &next);
		if ((size_t)(vend - vp) <= glen || memcmp(vp, p, glen) || vp[glen] != ':')
			return -EINVAL;
		hp = colon + 1;
		vp += glen + 1;
		for (;;) {
			nl = token(&hp, hend, &n);
			vl = token(&vp, vend, &v);
			if (!nl || !vl) {
				if (nl || vl)
					return -EINVAL; /* more names than values, or the reverse */
				break;
			}
			f = field_of(p, glen, n, nl);
			if (f < 0)
				continue;
			if (parse_value(v, vl, &k->f[f]))
				return -EINVAL;
			k->found |= 1u << f;
		}
		p = next;
	}
	return 0;
}

void audit_init(struct audit *a, uint32_t netns, bool netns_only, unsigned int na)
{
	memset(a, 0, sizeof(*a));
	a->netns = netns;
	a->netns_only = netns_only;
	a->na = na | AUDIT_NA_NO_BASE;
}

void audit_set_base(struct audit *a, const struct audit_kernel *base, uint64_t read_ns)
{
	a->base = *base;
	a->base_ns = read_ns;
	if (base->found == AUDIT_F_ALL)
		a->na &= ~(unsigned int)AUDIT_NA_NO_BASE;
}

void audit_cut(struct audit *a, uint64_t read_ns)
{
	a->cut_ns = read_ns;
	if (read_ns)
		memset(a->late, 0, sizeof(a->late));
}

/* One more of counter c, which the kernel counted at at_ns. */
static void count(struct audit *a, unsigned int c, uint64_t at_ns)
{
	a->seen[c]++;
	if (a->cut_ns && at_ns > a->cut_ns)
		a->late[c]++;
}

void audit_add(struct audit *a, const struct synfin_event *e)
{
	bool before = e->flags & SYNFIN_F_PARTIAL; /* opened before the start */
	/* when a client's connect() began: the kernel counts TcpActiveOpens then (tcp_connect()),
	 * its record comes at ESTABLISHED or at the failure */
	uint64_t start_ns = e->ts_ns - (uint64_t)e->hs.latency_us * 1000;
	bool client = e->side != SYNFIN_SIDE_SERVER;

	/* a connect() begun before the base was read is in the base already; its failure is
	 * not, if it came after */
	bool opened_before = a->base_ns && start_ns < a->base_ns;

	if (e->id.netns != a->netns)
		return;
	switch (e->type) {
	case SYNFIN_EV_HANDSHAKE:
		if (before)
			break;
		/* a simultaneous open is a client's (both ends called connect()) */
		if (!client)
			count(a, AUDIT_PASSIVE_OPENS, e->ts_ns);
		else if (!opened_before)
			count(a, AUDIT_ACTIVE_OPENS, start_ns);
		break;
	case SYNFIN_EV_CONNECT_FAIL:
		if (before)
			break;
		if (!opened_before)
			count(a, AUDIT_ACTIVE_OPENS, start_ns);
		/* "other": the application closed it in SYN_SENT (tcp_close(), no tcp_done()) */
		if (e->reason != SYNFIN_FAIL_OTHER && !(a->base_ns && e->ts_ns < a->base_ns))
			count(a, AUDIT_ATTEMPT_FAILS, e->ts_ns);
		break;
	case SYNFIN_EV_CLOSE:
		if (e->close.last_state == SYNFIN_TCP_ESTABLISHED ||
		    e->close.last_state == SYNFIN_TCP_CLOSE_WAIT)
			count(a, AUDIT_ESTAB_RESETS, e->ts_ns);
		if (e->close.tw_handover)
			count(a, AUDIT_TIME_WAIT, e->ts_ns);
		break;
	default:
		break;
	}
}

/* b - a of a counter that only grows; a wrapped or reset one reads as not known. */
static bool delta(const struct audit_kernel *now, const struct audit_kernel *base,
		  unsigned int f, uint64_t *out)
{
	if (now->f[f] < base->f[f])
		return false;
	*out = now->f[f] - base->f[f];
	return true;
}

void audit_compute(const struct audit *a, const struct audit_kernel *now,
		   const struct audit_extra *x, struct audit_result *out)
{
	uint64_t d[AUDIT_F_MAX] = { 0 };
	unsigned int c, f, na = a->na;

	memset(out, 0, sizeof(*out));
	out->present = true;
	out->netns = a->netns;
	if (!now || now->found != AUDIT_F_ALL)
		na |= AUDIT_NA_NO_NOW;
	for (f = 0; f < AUDIT_F_MAX && !(na & (AUDIT_NA_NO_NOW | AUDIT_NA_NO_BASE)); f++)
		if (!delta(now, &a->base, f, &d[f]))
			na |= AUDIT_NA_NO_NOW;
	for (c = 0; c < AUDIT_COUNTER_MAX; c++)
		out->synfin[c] = a->seen[c] - a->late[c];
	out->kernel[AUDIT_ACTIVE_OPENS] = d[AUDIT_F_ACTIVE_OPENS];
	out->kernel[AUDIT_PASSIVE_OPENS] = d[AUDIT_F_PASSIVE_OPENS];
	out->kernel[AUDIT_ATTEMPT_FAILS] = d[AUDIT_F_ATTEMPT_FAILS] > d[AUDIT_F_EMBRYONIC_RSTS] ?
		d[AUDIT_F_ATTEMPT_FAILS] - d[AUDIT_F_EMBRYONIC_RSTS] : 0;
	out->kernel[AUDIT_ESTAB_RESETS] = d[AUDIT_F_ESTAB_RESETS];
	out->kernel[AUDIT_TIME_WAIT] = d[AUDIT_F_TW] + d[AUDIT_F_TW_KILLED];
	for (c = 0; c < AUDIT_COUNTER_MAX; c++)
		out->na[c] = na & ~(unsigned int)(AUDIT_NA_NO_TW | AUDIT_NA_ABORTED | AUDIT_NA_TW_AT_END);
	out->na[AUDIT_TIME_WAIT] |= na & (AUDIT_NA_NO_TW | AUDIT_NA_TW_AT_END);
	/* Counted machine-wide in the kernel's maps: exact for this namespace only when the
	 * kernel filters the records to it. Elsewhere 0 of them is still exact. */
	if (x && a->netns_only) {
		out->synfin[AUDIT_PASSIVE_OPENS] += x->children_aborted;
		out->synfin[AUDIT_ACTIVE_OPENS] += x->syn_sent; /* SYN sent, outcome pending */
	} else if (x && x->children_aborted) {
		out->na[AUDIT_PASSIVE_OPENS] |= AUDIT_NA_ABORTED;
	}
	for (c = 0; c < AUDIT_COUNTER_MAX; c++)
		if (!out->na[c])
			out->drift[c] = (int64_t)(out->synfin[c] - out->kernel[c]);
}
