// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "listen.h"
#include "loader.h"
#include "synfin/maps.h"

#define LISTEN_NS_MAX 512      /* namespaces followed; beyond, their drops are not counted */
#define LISTEN_NS_PORTS 64     /* ports per namespace whose drop counts are compared */
#define WALK_MAX 4096          /* listeners per walk; beyond, the gauges undercount */
/* Counters that moved while the walk ran make the two disagree for a moment: the interval
 * is left for the next sweep, at most this many times in a row. */
#define UNSETTLED_MAX 3

struct ns_port {
	uint16_t port;
	bool live;      /* a listener on it still listens (not only closed ones) */
	uint64_t drops; /* its listeners' own drop counts, summed, at the last walk */
};

struct listen_ns {
	uint32_t ino;
	/* its netstat file, open (open_netstat), read again from offset 0; -1: none */
	int fd;
	bool have_base;
	bool before_ok;
	bool walked; /* has listeners at this walk */
	bool closed; /* has listeners at this walk that closed since the last one */
	struct listen_counters base, before, now;
	unsigned int unsettled;
	unsigned int misses; /* sweeps that found no netstat file for it */
	int owner;           /* a listener's pid from this walk (its listen() caller), 0: none */
	bool due;            /* open_missing looks for a process in it */
	unsigned int nports;
	struct ns_port ports[LISTEN_NS_PORTS];
};

struct listen_watch {
	struct listen_stats stats;
	unsigned int nns;
	struct listen_ns ns[LISTEN_NS_MAX];
	unsigned int nwalk;
	struct synfin_listener walk[WALK_MAX];
};

static struct listen_ns *find_ns(struct listen_watch *w, uint32_t ino, bool create)
{
	unsigned int i;

	for (i = 0; i < w->nns; i++)
		if (w->ns[i].ino == ino)
			return &w->ns[i];
	if (!create || w->nns == LISTEN_NS_MAX)
		return NULL;
	memset(&w->ns[w->nns], 0, sizeof(w->ns[0]));
	w->ns[w->nns].ino = ino;
	w->ns[w->nns].fd = -1;
	return &w->ns[w->nns++];
}

/* A named namespace (ip netns add) may have no process in it: its netstat file is opened
 * from inside (setns, which needs CAP_SYS_ADMIN: at start only). */
static int open_named(uint32_t ino)
{
	int home, fd, ret = -1;
	char path[300];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir("/var/run/netns");

	if (!d)
		return -1;
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	while (home >= 0 && ret < 0 && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/var/run/netns/%.255s", de->d_name);
		if (de->d_name[0] == '.' || stat(path, &st) || (uint32_t)st.st_ino != ino)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		if (!setns(fd, CLONE_NEWNET)) {
			ret = open("/proc/thread-self/net/netstat", O_RDONLY | O_CLOEXEC);
			if (setns(home, CLONE_NEWNET))
				abort(); /* cannot return home: observing from elsewhere would lie */
		}
		close(fd);
	}
	if (home >= 0)
		close(home);
	closedir(d);
	return ret;
}

static int open_netstat_of(const char *pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%.20s/net/netstat", pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Opens the netstat file of each namespace with listeners that has none: that of the
 * process that called listen() (in the socket's namespace then: bpf/listen.bpf.h), which
 * needs no privilege; else of any process in it, found in one pass over /proc for all of
 * them (reading /proc/PID/ns/net needs ptrace access: every process while synfin holds its
 * capabilities, at start), or from inside a named namespace (at start too). One pass, not
 * one per namespace: at start a host's every namespace may need one, and a pass each kept
 * the ring undrained long enough to lose records. An open file holds its namespace: it is
 * closed as soon as the namespace has no listener synfin sees (listen_watch_sweep). */
static void open_missing(struct listen_watch *w)
{
	unsigned int i, due = 0;
	struct listen_ns *n;
	struct dirent *de;
	char path[64];
	struct stat st;
	DIR *d;

	for (i = 0; i < w->nns; i++) {
		n = &w->ns[i];
		n->due = false;
		/* none found: tried again once every 25 sweeps (5 s), not at each */
		if ((!n->walked && !n->closed) || n->fd >= 0 || n->misses++ % 25)
			continue;
		if (n->owner > 0) {
			snprintf(path, sizeof(path), "%d", n->owner);
			n->fd = open_netstat_of(path);
			if (n->fd >= 0)
				continue;
		}
		n->due = true;
		due++;
	}
	d = due ? opendir("/proc") : NULL;
	while (d && due && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/ns/net", de->d_name);
		if (stat(path, &st))
			continue;
		n = find_ns(w, (uint32_t)st.st_ino, false);
		if (!n || !n->due)
			continue;
		n->fd = open_netstat_of(de->d_name);
		if (n->fd >= 0) {
			n->due = false;
			due--;
		}
	}
	if (d)
		closedir(d);
	for (i = 0; due && i < w->nns; i++) {
		n = &w->ns[i];
		if (n->due)
			n->fd = open_named(n->ino);
	}
	for (i = 0; i < w->nns; i++)
		if (w->ns[i].fd >= 0)
			w->ns[i].misses = 0;
}

static bool read_counters(struct listen_ns *n, struct listen_counters *out)
{
	char buf[16384];
	ssize_t len;

	if (n->fd < 0)
		return false;
	len = pread(n->fd, buf, sizeof(buf) - 1, 0);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	return !listen_netstat_parse(buf, out);
}

struct listen_watch *listen_watch_new(void)
{
	return calloc(1, sizeof(struct listen_watch));
}

void listen_watch_free(struct listen_watch *w)
{
	unsigned int i;

	if (!w)
		return;
	for (i = 0; i < w->nns; i++)
		if (w->ns[i].fd >= 0)
			close(w->ns[i].fd);
	free(w);
}

const struct listen_stats *listen_watch_stats(const struct listen_watch *w)
{
	return w && w->stats.available ? &w->stats : NULL;
}
static void on_listener(void *ctx, const struct synfin_listener *li)
{
	struct listen_watch *w = ctx;

	if (w->nwalk < WALK_MAX)
		w->walk[w->nwalk++] = *li;
}

/* This walk's ports of namespace n, with their drop counts summed, against the last walk's. */
static unsigned int observe(const struct listen_watch *w, const struct listen_ns *n,
			    struct ns_port *cur, unsigned int *ncur_out, struct listen_port_obs *obs)
{
	unsigned int i, j, ncur = 0, nobs;

	for (i = 0; i < w->nwalk; i++) {
		if (w->walk[i].netns != n->ino)
			continue;
		for (j = 0; j < ncur && cur[j].port != w->walk[i].port; j++)
			;
		if (j == ncur) {
			if (ncur == LISTEN_NS_PORTS)
				continue;
			cur[ncur].port = w->walk[i].port;
			cur[ncur].live = false;
			cur[ncur++].drops = 0;
		}
		cur[j].live |= !(w->walk[i].flags & SYNFIN_LISTENER_CLOSED);
		cur[j].drops += w->walk[i].drops; /* a closed one's last count: its final one */
	}
	for (i = 0; i < ncur; i++) {
		obs[i].port = cur[i].port;
		obs[i].moved = cur[i].drops > 0; /* new since the last walk: all its drops */
		for (j = 0; j < n->nports; j++)
			if (n->ports[j].port == cur[i].port)
				obs[i].moved = cur[i].drops > n->ports[j].drops ? 1 :
					       cur[i].drops == n->ports[j].drops ? 0 : -1;
	}
	*ncur_out = ncur;
	nobs = ncur;
	/* a port whose listeners closed since: its last drops are unknown */
	for (j = 0; j < n->nports && nobs < 2 * LISTEN_NS_PORTS; j++) {
		for (i = 0; i < ncur && cur[i].port != n->ports[j].port; i++)
			;
		if (i == ncur) {
			obs[nobs].port = n->ports[j].port;
			obs[nobs++].moved = -1;
		}
	}
	return nobs;
}

/* One of the readings of the namespace's counters that the hooks kept in each entry of its
 * listeners at this walk, combined: at listen(), the earliest; at close, the latest (they
 * only grow). False when one of its listeners has no such reading.
 *
 * At listen(): a namespace met through listeners that all listen()ed after synfin started
 * counts its drops from there. Their own drop counts start from 0 there too (a socket
 * enters TCP_LISTEN from TCP_CLOSE, fresh but for the rare socket that was connected and
 * then disconnected). None for a seeded listener, or where listen() could not read the
 * counters (bpf/ns_counters.bpf.h, cfg_ns_counters).
 * At close: when every listener of it closed, for a namespace whose /proc file synfin
 * cannot open, its processes gone. */
static bool hook_readings(const struct listen_watch *w, const struct listen_ns *n, bool at_close,
			  struct listen_counters *out)
{
	const unsigned int want = at_close ? SYNFIN_LISTENER_CLOSED | SYNFIN_LISTENER_NS_AT_CLOSE :
					     SYNFIN_LISTENER_NS_AT_LISTEN;
	struct listen_counters c;
	unsigned int i;
	bool any = false;

	for (i = 0; i < w->nwalk; i++) {
		const struct synfin_listener *li = &w->walk[i];

		if (li->netns != n->ino)
			continue;
		if ((li->flags & want) != want)
			return false;
		listen_counters_from_hook(at_close ? li->ns_at_close : li->ns_at_listen, &c);
		if (!any)
			*out = c;
		else if (at_close)
			listen_counters_latest(out, &c);
		else
			listen_counters_earliest(out, &c);
		any = true;
	}
	return any;
}

/* Keeps the ports some listener still listens on, for the next walk to compare with. */
static void keep_live_ports(struct listen_ns *n, const struct ns_port *cur, unsigned int ncur)
{
	unsigned int i;

	n->nports = 0;
	for (i = 0; i < ncur; i++)
		if (cur[i].live)
			n->ports[n->nports++] = cur[i];
}

static void settle(struct listen_watch *w, struct listen_ns *n)
{
	struct listen_port_obs obs[2 * LISTEN_NS_PORTS];
	struct ns_port cur[LISTEN_NS_PORTS];
	uint64_t split[LISTEN_REASON_MAX];
	unsigned int i, nobs, ncur;
	/* Every listener of it closed by the walk: the latest of their readings at close holds
	 * all their drops, and none of a listener that listen()ed after the walk. Its /proc
	 * file, read after the walk, may hold some: the namespace is let go after this sweep,
	 * met again through that listener, and counted from its listen(), those drops twice
	 * (seen on 6.1 under TCG: 282 of 235; test_listen_watch). */
	bool at_close = hook_readings(w, n, true, &n->now);
	bool from_proc = !at_close && read_counters(n, &n->now);

	/* no process in it that synfin may read, and no reading at close: drops unknown */
	if (!at_close && !from_proc)
		return;
	if (!n->have_base && hook_readings(w, n, false, &n->base)) {
		n->have_base = true;
		n->nports = 0;
		/* Every listener of it closed since it listened: nothing drops on them any
		 * more, so what they dropped settles now, counted from their earliest listen()
		 * (a listener that lived less than a sweep). Else as if the last walk ran at
		 * that listen(), every port without a drop; what they dropped since is
		 * attributed at the next sweep, whose walk the counters bracket. A listener hit
		 * in its first 200 ms needs this: taking the base from this sweep's reading
		 * lost those drops (seen: a `synfin run` of a command that listened and was hit
		 * at once counted 47 of 94). */
		if (n->walked) {
			observe(w, n, cur, &ncur, obs);
			for (i = 0; i < ncur; i++)
				cur[i].drops = 0;
			n->nports = ncur;
			memcpy(n->ports, cur, sizeof(cur[0]) * ncur);
			return;
		}
	}
	/* (with none of its listeners left listening, nothing is left to wait for) */
	if (n->have_base && n->walked && from_proc &&
	    (!n->before_ok || memcmp(&n->before, &n->now, sizeof(n->now))) &&
	    n->unsettled++ < UNSETTLED_MAX)
		return;
	n->unsettled = 0;
	nobs = observe(w, n, cur, &ncur, obs);
	if (n->have_base) {
		listen_split(&n->base, &n->now, split);
		if (split[0] | split[1] | split[2])
			listen_stats_drops(&w->stats, listen_attribute(obs, nobs), split);
	}
	n->base = n->now;
	n->have_base = true;
	keep_live_ports(n, cur, ncur); /* ports that closed drop out */
}

void listen_watch_sweep(struct listen_watch *w, const struct loader *l)
{
	unsigned int i;

	/* the counters before the walk; after it they must not have moved (settle) */
	for (i = 0; i < w->nns; i++)
		w->ns[i].before_ok = w->ns[i].have_base && w->ns[i].nports &&
				     read_counters(&w->ns[i], &w->ns[i].before);
	w->nwalk = 0;
	if (loader_listen_walk(l, on_listener, w) < 0)
		return;
	w->stats.available = true;
	listen_stats_begin_walk(&w->stats);
	for (i = 0; i < w->nwalk; i++) {
		if (w->walk[i].flags & SYNFIN_LISTENER_CLOSED)
			continue; /* its drops count; it holds no queue any more */
		listen_stats_listener(&w->stats, w->walk[i].port, w->walk[i].ack_backlog,
				      w->walk[i].max_ack_backlog);
	}
	listen_stats_end_walk(&w->stats);
	for (i = 0; i < w->nns; i++) {
		w->ns[i].walked = false;
		w->ns[i].closed = false;
		w->ns[i].owner = 0;
	}
	for (i = 0; i < w->nwalk; i++) {
		struct listen_ns *n = find_ns(w, w->walk[i].netns, true);

		if (!n)
			continue;
		if (w->walk[i].flags & SYNFIN_LISTENER_CLOSED)
			n->closed = true;
		else
			n->walked = true;
		if (w->walk[i].pid)
			n->owner = (int)w->walk[i].pid;
	}
	open_missing(w);
	/* namespaces with listeners, now or at the last walk; then the others are let go: an
	 * open netstat file would keep a deleted namespace from being freed */
	for (i = 0; i < w->nns; i++)
		if (w->ns[i].walked || w->ns[i].closed || w->ns[i].nports)
			settle(w, &w->ns[i]);
	for (i = 0; i < w->nns;) {
		if (w->ns[i].walked) {
			i++;
			continue;
		}
		if (w->ns[i].fd >= 0)
			close(w->ns[i].fd);
		w->ns[i] = w->ns[--w->nns];
	}
}
