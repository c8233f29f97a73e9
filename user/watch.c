// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "format.h"
#include "kstate.h"
#include "lifecycle.h"
#include "loader.h"
#include "netns.h"
#include "opts.h"
#include "render.h"
#include "ring.h"
#include "watch.h"

/* A cancelled timewait timer is re-armed or reused within microseconds (same call path);
 * 100 ms without either means it was killed. */
#define TW_KILL_GRACE_NS (100ULL * 1000000)

enum {
	OPT_NO_TIME_WAIT = 256,
	OPT_RING_SIZE,
	OPT_DRAIN_MS,
	OPT_CLOSE_WAIT_WARN,
	OPT_PID,
};

static const struct opt_def watch_opts[] = {
	{ "json", no_argument, 'j', NULL, "one JSON object per line instead of a table" },
	{ "netns", required_argument, 'n', "PATH", "only this network namespace (/var/run/netns/NAME, /proc/PID/ns/net)" },
	{ "port", required_argument, 'p', "N", "only connections with this local or remote port" },
	{ "pid", required_argument, OPT_PID, "N", "only connections of this process (server side: the listener's owner)" },
	{ "ipv4", no_argument, '4', NULL, "only IPv4 (including v4-mapped IPv6)" },
	{ "ipv6", no_argument, '6', NULL, "only IPv6" },
	{ "duration", required_argument, 'd', "SECONDS", "stop after this long" },
	{ "no-time-wait", no_argument, OPT_NO_TIME_WAIT, NULL, "don't attach the timer hooks: no TIME_WAIT records, estimated server latency" },
	{ "close-wait-warn", required_argument, OPT_CLOSE_WAIT_WARN, "SECONDS", "warn when a socket sits in CLOSE_WAIT this long (default 30)" },
	{ "ring-size", required_argument, OPT_RING_SIZE, "BYTES", "ring buffer size, power of two (default 4M)" },
	{ "drain-ms", required_argument, OPT_DRAIN_MS, "MS", "drain the ring buffer this often (default 10)" },
	{ "verbose", no_argument, 'v', NULL, "libbpf and verifier messages on stderr" },
	{ 0 },
};

struct watch {
	bool json;
	const char *netns_path;
	struct filter filter;
	struct loader_config cfg;
	double duration_s;
	uint64_t drain_ms;
	double close_wait_warn_s;
	int64_t wall_offset_ns;
	struct summary sum;
	uint64_t tw_swept;
	FILE *out;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int apply_opt(int key, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct watch *w = ctx;
	uint64_t v;

	switch (key) {
	case 'j':
		w->json = true;
		return 0;
	case 'n':
		w->netns_path = arg;
		return 0;
	case 'p':
		if (parse_u64(arg, 1, 65535, &v))
			goto bad;
		w->filter.port = (uint16_t)v;
		return 0;
	case OPT_PID:
		if (parse_u64(arg, 1, 4194304, &v))
			goto bad;
		w->filter.pid = (uint32_t)v;
		return 0;
	case '4':
	case '6':
		if (w->cfg.family && w->cfg.family != key - '0') {
			snprintf(err, errlen, "-4 and -6 exclude each other");
			return -EINVAL;
		}
		w->cfg.family = (uint8_t)(key - '0');
		return 0;
	case 'd':
		if (parse_seconds(arg, 365 * 24 * 3600.0, &w->duration_s))
			goto bad;
		return 0;
	case OPT_NO_TIME_WAIT:
		w->cfg.time_wait = false;
		return 0;
	case OPT_CLOSE_WAIT_WARN:
		if (parse_seconds(arg, 365 * 24 * 3600.0, &w->close_wait_warn_s))
			goto bad;
		return 0;
	case OPT_RING_SIZE:
		if (parse_size(arg, 4096, 1ULL << 30, &v) || (v & (v - 1)))
			goto bad;
		w->cfg.ring_bytes = v;
		return 0;
	case OPT_DRAIN_MS:
		if (parse_u64(arg, 1, 1000, &w->drain_ms))
			goto bad;
		return 0;
	case 'v':
		w->cfg.verbose = true;
		return 0;
	}
	snprintf(err, errlen, "unhandled option");
	return -EINVAL;
bad:
	for (v = 0; watch_opts[v].name; v++)
		if (watch_opts[v].key == key)
			break;
	snprintf(err, errlen, "invalid value '%s' for --%s", arg,
		 watch_opts[v].name ? watch_opts[v].name : "?");
	return -EINVAL;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int64_t wall_offset(void)
{
	struct timespec rt;

	clock_gettime(CLOCK_REALTIME, &rt);
	return (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec - (int64_t)mono_ns();
}

static void on_event(void *ctx, const struct synfin_event *e)
{
	struct watch *w = ctx;

	if (!lifecycle_wanted(&w->filter, e))
		return;
	if (summary_add(&w->sum, e))
		return; /* malformed: counted, never printed as a fact */
	if (e->type == SYNFIN_EV_STATE)
		return;
	if (w->json)
		json_event(w->out, e);
	else
		table_event(w->out, e, w->wall_offset_ns);
}

static void on_swept_tw(void *ctx, const struct synfin_event *e)
{
	struct watch *w = ctx;

	w->tw_swept++;
	on_event(ctx, e);
}

struct cw_scan {
	struct watch *w;
	int fd;
	uint64_t now_ns;
	uint64_t oldest_us;
};

static void on_close_wait(void *ctx, const struct synfin_event *e)
{
	struct cw_scan *s = ctx;
	struct watch *w = s->w;
	uint64_t age_us = s->now_ns > e->ts_ns ? (s->now_ns - e->ts_ns) / 1000 : 0;
	char local[ADDR_STR_LEN + 8], remote[ADDR_STR_LEN + 8], comm[SYNFIN_COMM_LEN + 1];
	struct synfin_event marked;

	if (!lifecycle_wanted(&w->filter, e))
		return;
	if (age_us > s->oldest_us)
		s->oldest_us = age_us;
	/* reason doubles as "already warned" in the kernel's copy (0 when BPF writes it) */
	if (e->reason || (double)age_us < w->close_wait_warn_s * 1e6)
		return;
	marked = *e;
	marked.reason = 1;
	bpf_map_update_elem(s->fd, &e->cookie, &marked, BPF_EXIST);
	format_endpoint(local, sizeof(local), e->id.family, e->id.laddr, e->id.lport);
	format_endpoint(remote, sizeof(remote), e->id.family, e->id.raddr, e->id.rport);
	comm_to_str(comm, e->flags & SYNFIN_F_NO_PID ? "" : e->comm);
	if (w->json) {
		fprintf(w->out, "{\"type\":\"close_wait_warning\",\"ts_ns\":%llu,\"age_us\":%llu,"
				"\"netns\":%u,\"pid\":%u,\"comm\":",
			(unsigned long long)s->now_ns, (unsigned long long)age_us, e->id.netns, e->pid);
		json_string(w->out, comm);
		fprintf(w->out, ",\"local\":\"%s\",\"remote\":\"%s\",\"cookie\":%llu}\n", local, remote,
			(unsigned long long)e->cookie);
	} else {
		fprintf(w->out, "WARNING: %s <- %s (pid %u %s) in CLOSE_WAIT for %.1f s: the peer closed, this application has not called close()\n",
			local, remote, e->pid, comm, (double)age_us / 1e6);
	}
}

static uint64_t scan_close_waits(struct watch *w, const struct loader *l, uint64_t now)
{
	struct cw_scan s = { .w = w, .fd = loader_close_waits_fd(l), .now_ns = now };

	kstate_close_waits(s.fd, on_close_wait, &s);
	return s.oldest_us;
}

static void fill_run_info(struct watch *w, const struct loader *l, struct ring *r,
			  uint64_t started, struct run_info *ri)
{
	uint64_t drops[SYNFIN_DROP_MAX] = { 0 };
	uint64_t now = mono_ns();

	memset(ri, 0, sizeof(*ri));
	ring_read_drops(loader_drops_fd(l), drops);
	ri->lost = drops[SYNFIN_DROP_RINGBUF] + ring_bad_size(r);
	ri->untracked = drops[SYNFIN_DROP_STORAGE] + drops[SYNFIN_DROP_TWMAP];
	ri->duration_ms = (now - started) / 1000000;
	kstate_gauges(loader_gauges_fd(l), ri->gauges);
	ri->gauges[6] -= (int64_t)w->tw_swept; /* TCP_TIME_WAIT: ended by the sweep, not BPF */
	if (ri->gauges[6] < 0)
		ri->gauges[6] = 0;
	ri->close_wait_oldest_us = scan_close_waits(w, l, now);
}

int watch_main(int argc, char **argv)
{
	struct watch w = {
		.cfg = { .ring_bytes = 4 << 20, .wakeup_bytes = 1 << 20, .time_wait = true },
		.drain_ms = 10,
		.close_wait_warn_s = 30,
		.out = stdout,
	};
	struct loader l = { 0 };
	struct ring *r = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t started, deadline = 0, next_sweep = 0, now;
	struct run_info ri;
	char err[256];
	int first = 0, ret, status = 1;

	ret = opts_parse(argc, argv, watch_opts, apply_opt, &w, &first, err, sizeof(err));
	if (ret == 1) {
		opts_help(stdout, "Usage: synfin [watch] [OPTIONS]\n\nShows every TCP handshake, failed connect, close and TIME_WAIT as it finishes.", watch_opts);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "synfin: %s (see 'synfin watch --help')\n", err);
		return 2;
	}
	if (first < argc) {
		fprintf(stderr, "synfin: unexpected argument '%s' (see 'synfin watch --help')\n", argv[first]);
		return 2;
	}
	/* The wakeup threshold must sit below the ring size, or the consumer is never woken early. */
	w.cfg.wakeup_bytes = w.cfg.ring_bytes / 4;
	if (w.netns_path && netns_inode(w.netns_path, &w.cfg.netns, err, sizeof(err))) {
		fprintf(stderr, "synfin: %s\n", err);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "synfin: must run as root (loading BPF programs needs CAP_BPF and CAP_PERFMON): try sudo\n");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (loader_load(&l, &w.cfg, err, sizeof(err)) || loader_attach(&l, &w.cfg, err, sizeof(err))) {
		fprintf(stderr, "synfin: %s\n", err);
		goto out;
	}
	r = ring_open(loader_events_fd(&l), on_event, &w);
	if (!r) {
		fprintf(stderr, "synfin: opening the ring buffer failed: %s\n", strerror(errno));
		goto out;
	}
	w.wall_offset_ns = wall_offset();
	started = mono_ns();
	if (w.duration_s > 0)
		deadline = started + (uint64_t)(w.duration_s * 1e9);
	fprintf(stderr, "synfin: ready\n");
	if (!w.json)
		table_header(w.out);
	while (!stop_requested) {
		ret = ring_drain(r, (int)w.drain_ms);
		if (ret < 0) {
			fprintf(stderr, "synfin: reading the ring buffer failed: %s\n", strerror(-ret));
			goto out;
		}
		now = mono_ns();
		if (now >= next_sweep) {
			kstate_sweep_timewaits(loader_timewaits_fd(&l), now, TW_KILL_GRACE_NS,
					       on_swept_tw, &w);
			scan_close_waits(&w, &l, now);
			next_sweep = now + 200000000ULL;
		}
		if (deadline && now >= deadline)
			break;
	}
	ring_drain(r, 0);
	fill_run_info(&w, &l, r, started, &ri);
	if (w.json)
		json_summary(w.out, &w.sum, &ri);
	else
		table_summary(w.out, &w.sum, &ri);
	if (ri.lost)
		fprintf(stderr, "synfin: %llu events lost (ring buffer full): raise --ring-size or lower --drain-ms\n",
			(unsigned long long)ri.lost);
	status = 0;
out:
	ring_close(r);
	loader_destroy(&l);
	return status;
}
