/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Listen-queue drops and accept-queue depth per listening port, from two sources: the
 * listeners' own figures, walked in one batch at each sweep (bpf/listen.bpf.h: queue length,
 * limit and the listener's drop count), and each namespace's counters in
 * /proc/PID/net/netstat, which alone tell why a SYN or ACK was dropped. Pure: the text and
 * the walk's figures come in, nothing is read here (user/listen.c does the reading).
 *
 * Attribution: a namespace's drops of one interval go to a port when exactly one of its
 * listening ports can have dropped them (the only port there, or the only one whose
 * listeners' own drop count rose); otherwise they go to port="unattributed", by reason.
 */
#ifndef SYNFIN_LISTEN_MODEL_H
#define SYNFIN_LISTEN_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "synfin/maps.h"

enum listen_reason {
	LISTEN_ACCEPT_QUEUE_FULL = 0, /* TcpExtListenOverflows */
	LISTEN_SYN_QUEUE_FULL,        /* TcpExtTCPReqQFullDrop (SYN queue full, no cookies) */
	LISTEN_OTHER,                 /* the rest of TcpExtListenDrops */
	LISTEN_REASON_MAX,
};

const char *listen_reason_name(unsigned int r); /* "accept_queue_full", ... */

/* One namespace's counters. Every overflow and every SYN-queue-full drop is also a
 * ListenDrop: tcp_listendrop() counts each drop once, whatever its reason. */
struct listen_counters {
	uint64_t listen_drops;     /* TcpExtListenDrops */
	uint64_t listen_overflows; /* TcpExtListenOverflows */
	uint64_t reqq_full_drops;  /* TcpExtTCPReqQFullDrop */
};

/* The counters as the listen() hook read them (synfin_listener.ns_at_listen). */
void listen_counters_from_hook(const __u64 v[SYNFIN_NS_COUNTERS], struct listen_counters *out);
/* acc becomes the earlier of the two readings of one namespace, counter by counter: they
 * only grow, so the least is the earliest. */
void listen_counters_earliest(struct listen_counters *acc, const struct listen_counters *c);
/* acc becomes the later of the two, counter by counter: the most is the latest. */
void listen_counters_latest(struct listen_counters *acc, const struct listen_counters *c);

/* Parses /proc/net/netstat's text (pairs of "TcpExt: names" / "TcpExt: values" lines):
 * 0, or -EINVAL when one of the three is missing (every kernel synfin loads on has them). */
int listen_netstat_parse(const char *text, struct listen_counters *out);

/* The drops between two readings, by reason; counters that went back (a namespace whose
 * reading came from another process since) count as none. */
void listen_split(const struct listen_counters *before, const struct listen_counters *now,
		  uint64_t out[LISTEN_REASON_MAX]);

/* One listening port of a namespace in an interval. */
struct listen_port_obs {
	uint16_t port;
	int8_t moved; /* its listeners' own drop count rose: 1, did not: 0, unknown: -1 */
};

#define LISTEN_UNATTRIBUTED (-1)

/* The port the namespace's drops of the interval go to, or LISTEN_UNATTRIBUTED: the one
 * port that may have dropped (moved != 0) when there is exactly one. */
int listen_attribute(const struct listen_port_obs *obs, unsigned int n);

/* Beyond this many ports, the queue gauges of the rest are not kept and their drops count
 * as unattributed. */
#define LISTEN_PORTS_MAX 256

struct listen_port {
	uint16_t port;
	bool live;       /* a listener on it at the last walk */
	uint64_t length; /* accept queue now, summed over its listeners (SO_REUSEPORT, netns) */
	uint64_t limit;  /* their backlogs, summed */
	uint64_t peak;   /* most seen in length at a walk */
	uint64_t drops[LISTEN_REASON_MAX];
};

struct listen_stats {
	bool available; /* this kernel lets synfin walk the listeners */
	unsigned int n;
	struct listen_port ports[LISTEN_PORTS_MAX]; /* in order of first sight */
	uint64_t unattributed[LISTEN_REASON_MAX];
};

/* A walk: begin, one call per listener, end. Ports no listener holds any more stay, with
 * length and limit 0, for their drop counters. */
void listen_stats_begin_walk(struct listen_stats *s);
void listen_stats_listener(struct listen_stats *s, uint16_t port, uint64_t length, uint64_t limit);
void listen_stats_end_walk(struct listen_stats *s);
/* Adds one interval's drops to port (or LISTEN_UNATTRIBUTED). */
void listen_stats_drops(struct listen_stats *s, int port, const uint64_t by_reason[LISTEN_REASON_MAX]);

/* Sum over ports and unattributed; reason -1 = all reasons. */
uint64_t listen_stats_drops_total(const struct listen_stats *s, int reason);
/* The largest peak of any port. */
uint64_t listen_stats_peak(const struct listen_stats *s);

#endif
