// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include "kstate.h"
#include "listen.h"
#include "netns.h"
#include "opts.h"
#include "privilege.h"
#include "ring.h"
#include "session.h"
#include "synfin/conn_fsm.h"

/* A cancelled timewait timer is re-armed or reused within microseconds (same call path);
 * 100 ms without either means it was killed (RST, ss -K). */
#define TW_KILL_GRACE_NS (100ULL * 1000000)
#define SWEEP_PERIOD_NS (200ULL * 1000000)
#define CLOSE_WAIT_SCAN_PERIOD_NS (1000ULL * 1000000) /* the warning's resolution */
#define PORTS_READ_PERIOD_NS (1000ULL * 1000000)

uint64_t session_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int64_t session_wall_offset_ns(void)
{
	struct timespec rt;

	clock_gettime(CLOCK_REALTIME, &rt);
	return (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec - (int64_t)session_now_ns();
}

static void handle(void *ctx, const struct synfin_event *e)
{
	struct session *s = ctx;

	if (!lifecycle_wanted(&s->cfg.filter, e))
		return;
	if (s->cfg.accept && !s->cfg.accept(s->ctx, e))
		return;
	if (summary_add(&s->sum, e))
		return; /* malformed: counted, never passed on as a fact */
	audit_add(&s->audit, e);
	if (s->on_event)
		s->on_event(s->ctx, e);
}

static void handle_swept(void *ctx, const struct synfin_event *e, bool holds_port)
{
	struct session *s = ctx;
	struct port_dest_key k;

	s->tw_swept++;
	if (holds_port) {
		synfin_port_key(&k, &e->id);
		ports_given_back(&s->ports, &k);
	}
	handle(ctx, e);
}

static void port_dest_read(void *ctx, const struct port_dest_key *key,
			   const struct port_dest *cpus, int ncpu)
{
	ports_read_dest(ctx, key, cpus, ncpu);
}

static void port_warned(void *ctx, const struct port_use *u)
{
	struct session *s = ctx;

	if (s->cfg.port_warn)
		s->cfg.port_warn(s->ctx, u);
}

/* Ports held per destination: summed from the kernel's map, warned about past the user's
 * threshold. Once a second: a port's life is a connection's, and a full map is 16,384 keys. */
static void read_ports(struct session *s)
{
	if (!s->loader.ports)
		return;
	if (kstate_ports(loader_ports_fd(&s->loader), port_dest_read, &s->ports))
		return; /* a failed read proves nothing: the last one stands */
	ports_read_done(&s->ports, s->cfg.port_warn_pct, port_warned, s);
}

struct cw_scan {
	struct session *s;
	uint64_t now_ns;
	uint64_t oldest_us;
	struct cw_warned next; /* warned and still in CLOSE_WAIT: the next scan's s->cw_warned */
};

static int cw_cmp(const void *a, const void *b)
{
	const struct cw_key *x = a, *y = b;

	if (x->sk != y->sk)
		return x->sk < y->sk ? -1 : 1;
	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

static void cw_note(struct cw_warned *w, const struct cw_key *k)
{
	struct cw_key *grown;

	if (w->n == w->cap) {
		grown = realloc(w->keys, (w->cap ? w->cap * 2 : 64) * sizeof(*grown));
		if (!grown)
			return; /* warned again at the next scan: better than never */
		w->keys = grown;
		w->cap = w->cap ? w->cap * 2 : 64;
	}
	w->keys[w->n++] = *k;
}

/* Each socket is warned about once while it stays in CLOSE_WAIT: the sockets warned about
 * are kept here, by address and cookie, from one scan to the next (the maps are BPF's to
 * write). */
static void on_close_wait(void *ctx, __u64 key, const struct synfin_event *e)
{
	struct cw_scan *c = ctx;
	struct session *s = c->s;
	uint64_t age_us = c->now_ns > e->ts_ns ? (c->now_ns - e->ts_ns) / 1000 : 0;
	struct cw_key k = { .sk = key, .cookie = e->cookie };

	if (!lifecycle_wanted(&s->cfg.filter, e))
		return;
	if (s->cfg.accept && !s->cfg.accept(s->ctx, e))
		return;
	if (age_us > c->oldest_us)
		c->oldest_us = age_us;
	if (s->cw_warned.n &&
	    bsearch(&k, s->cw_warned.keys, s->cw_warned.n, sizeof(k), cw_cmp)) {
		cw_note(&c->next, &k);
		return;
	}
	if (!s->cfg.close_wait_warn_s || (double)age_us < s->cfg.close_wait_warn_s * 1e6)
		return;
	cw_note(&c->next, &k);
	if (s->on_warn)
		s->on_warn(s->ctx, e, age_us);
}

static void scan_close_waits(struct session *s, uint64_t now)
{
	struct cw_scan c = { .s = s, .now_ns = now };

	if (kstate_close_waits(s->loader.cw_bits, s->loader.cw_words,
			       loader_conn_slots_fd(&s->loader), loader_conns_fd(&s->loader),
			       loader_close_waits_fd(&s->loader), on_close_wait, &c) < 0) {
		free(c.next.keys); /* keep what was warned: a failed scan proves nothing */
		return;
	}
	s->close_wait_oldest_us = c.oldest_us;
	qsort(c.next.keys, c.next.n, sizeof(*c.next.keys), cw_cmp);
	free(s->cw_warned.keys);
	s->cw_warned = c.next;
}

static void sweep(struct session *s, uint64_t now)
{
	kstate_sweep_timewaits(loader_timewaits_fd(&s->loader), loader_tw_pending_fd(&s->loader),
			       now, TW_KILL_GRACE_NS, handle_swept, s);
	if (now >= s->next_cw_scan_ns) {
		scan_close_waits(s, now);
		s->next_cw_scan_ns = now + CLOSE_WAIT_SCAN_PERIOD_NS;
	}
	/* a few listeners in one batch, off the connections' path (bpf/listen.bpf.h) */
	if (s->listen)
		listen_watch_sweep(s->listen, &s->loader);
	if (now >= s->next_ports_ns) {
		read_ports(s);
		s->next_ports_ns = now + PORTS_READ_PERIOD_NS;
	}
}

static const struct opt_def shared_opts[] = { SESSION_OPTS_FILTER, SESSION_OPTS_TUNING, { 0 } };

int session_apply_opt(struct session_config *c, int key, const char *arg, char *err,
		      size_t errlen)
{
	uint64_t v;

	switch (key) {
	case 'n':
		c->netns_path = arg;
		return 0;
	case '4':
	case '6':
		if (c->load.family && c->load.family != key - '0') {
			snprintf(err, errlen, "-4 and -6 exclude each other");
			return -EINVAL;
		}
		c->load.family = (uint8_t)(key - '0');
		return 0;
	case SESSION_OPT_NO_TIME_WAIT:
		c->load.time_wait = false;
		return 0;
	case SESSION_OPT_RING_SIZE:
		if (parse_size(arg, 4096, 1ULL << 30, &v) || (v & (v - 1)))
			return opts_bad_value(shared_opts, key, arg, err, errlen);
		c->load.ring_bytes = v;
		return 0;
	case SESSION_OPT_DRAIN_MS:
		if (parse_u64(arg, 1, 1000, &c->drain_ms))
			return opts_bad_value(shared_opts, key, arg, err, errlen);
		return 0;
	case 'v':
		c->load.verbose = true;
		return 0;
	}
	return 1;
}

int session_config_finish(struct session_config *c, char *err, size_t errlen)
{
	/* Below the ring size, or the consumer would never be woken early. */
	c->load.wakeup_bytes = c->load.ring_bytes / 4;
	if (c->netns_path)
		return netns_inode(c->netns_path, &c->load.netns, err, errlen);
	return 0;
}

/* What this kernel (or these capabilities) cannot give, said once at start rather than
 * shown as missing numbers; synfin check has the details. */
static void warn_degraded(const struct features *f, const struct loader_config *c)
{
	if (c->time_wait && (!f->tw_timer_fn || !f->reqsk_timer_fn))
		fprintf(stderr,
			"synfin: warning: timer handler addresses unknown (%s): no TIME_WAIT "
			"records, server latency estimated; see 'synfin check'\n",
			f->handlers_why);
	if (!f->sk_storage && !c->no_comm)
		fprintf(stderr, "synfin: note: this kernel has no SK_STORAGE for tracing "
				"programs: server pid/comm are unknown (null)\n");
}

/* The self-audit's namespace: the --netns one, else synfin's own (another namespace could
 * only be read later by holding it open, which keeps a deleted one alive: audit_live.h).
 * Its counters are read right after the attach, before the seed marks the sockets that
 * existed then. */
static void audit_start(struct session *s, const struct session_config *c)
{
	uint32_t own = audit_live_own_netns(), netns = c->load.netns ? c->load.netns : own;
	unsigned int na = 0;
	struct audit_kernel base;
	uint64_t t;

	if (c->load.family)
		na |= AUDIT_NA_FAMILY;
	if (c->filter.port)
		na |= AUDIT_NA_PORT;
	if (c->filter.pid)
		na |= AUDIT_NA_PID;
	if (c->filter.cookie)
		na |= AUDIT_NA_COOKIE;
	if (c->load.cgroup || c->accept)
		na |= AUDIT_NA_CGROUP;
	if (!c->load.time_wait)
		na |= AUDIT_NA_NO_TW;
	if (s->loader.feat.tw_counted_at_end)
		na |= AUDIT_NA_TW_AT_END;
	audit_init(&s->audit, netns, c->load.netns != 0, na);
	if (!netns || audit_live_init(&s->audit_live, netns, own))
		return; /* no process inside to read it through: AUDIT_NA_NO_BASE stays */
	t = session_now_ns();
	if (!audit_live_read(&s->audit_live, &base))
		audit_set_base(&s->audit, &base, t);
}

/* Seeding a host with many namespaces takes a while; a small ring would overflow before the
 * first poll (tests/integration/test_seed_many_netns.sh: 27,846 records lost with 150). */
static void drain_between_seeds(void *ctx)
{
	struct session *s = ctx;

	ring_drain(s->ring, 0);
}

int session_start(struct session *s, const struct session_config *c, session_event_fn on_event,
		  session_warn_fn on_warn, void *ctx, char *err, size_t errlen)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->cfg = *c;
	s->on_event = on_event;
	s->on_warn = on_warn;
	s->ctx = ctx;
	ret = privilege_require(PRIV_LOAD, err, errlen);
	if (ret)
		return ret;
	ret = loader_load(&s->loader, &c->load, err, errlen);
	if (!ret)
		ret = loader_attach(&s->loader, &c->load, err, errlen);
	if (ret) {
		loader_destroy(&s->loader);
		return ret;
	}
	/* Open before seeding: records arrive from the attach on. */
	s->ring = ring_open(loader_events_fd(&s->loader), handle, s);
	if (!s->ring) {
		ret = -errno;
		snprintf(err, errlen, "opening the ring buffer failed: %s", strerror(-ret));
		loader_destroy(&s->loader);
		return ret;
	}
	s->started_ns = session_now_ns();
	audit_start(s, c);
	if (!c->no_seed) {
		privilege_note_seed(c->netns_path);
		ret = loader_seed(&s->loader, c->netns_path, drain_between_seeds, s, err, errlen);
		ret = ret > 0 ? 0 : ret;
	}
	/* the base of the drop counters, before anything of the user's runs (run's CMD) */
	if (!ret && (s->listen = listen_watch_new())) {
		listen_watch_sweep(s->listen, &s->loader);
	}
	if (!ret && c->before_drop)
		ret = c->before_drop(ctx, err, errlen);
	/* Everything that needs a capability is done: the fds (programs, links, maps, ring)
	 * need none. From here on synfin reads records and, for serve, parses HTTP from the
	 * network with empty capability sets. */
	if (!ret)
		ret = privilege_drop(loader_gauges_fd(&s->loader), err, errlen);
	if (ret) {
		session_stop(s);
		return ret;
	}
	warn_degraded(&s->loader.feat, &c->load);
	return 0;
}

int session_poll(struct session *s)
{
	uint64_t now;
	int ret;

	ret = ring_drain(s->ring, (int)s->cfg.drain_ms);
	if (ret < 0)
		return ret;
	now = session_now_ns();
	if (now >= s->next_sweep_ns) {
		sweep(s, now);
		s->next_sweep_ns = now + SWEEP_PERIOD_NS;
	}
	return 0;
}

void session_flush(struct session *s)
{
	ring_drain(s->ring, 0);
	s->next_cw_scan_ns = 0;
	sweep(s, session_now_ns());
}

void session_read_info(struct session *s, struct session_info *ri)
{
	uint64_t drops[SYNFIN_DROP_MAX] = { 0 };
	int64_t counts[SYNFIN_COUNT_MAX] = { 0 };
	struct audit_extra x = { 0 };
	struct audit_kernel now;
	bool has_now;

	memset(ri, 0, sizeof(*ri));
	/* The kernel's counters first, then what is still in the ring: a record of an event
	 * the kernel counted before this read is then not missing from synfin's side. */
	audit_cut(&s->audit, session_now_ns());
	has_now = !audit_live_read(&s->audit_live, &now);
	ring_drain(s->ring, 0);
	ring_read_drops(loader_drops_fd(&s->loader), drops);
	ri->lost = drops[SYNFIN_DROP_RINGBUF] + ring_bad_size(s->ring) +
		   loader_recursion_lost(&s->loader);
	ri->untracked = drops[SYNFIN_DROP_STORAGE] + drops[SYNFIN_DROP_TWMAP] +
			drops[SYNFIN_DROP_CWMAP];
	ri->syn_unrecorded = drops[SYNFIN_DROP_SYNMAP];
	if (!kstate_percpu_sum(loader_counts_fd(&s->loader), SYNFIN_COUNT_MAX, counts)) {
		ri->children_aborted = (uint64_t)counts[SYNFIN_COUNT_CHILD_ABORTED];
		ri->syn_stale = (uint64_t)counts[SYNFIN_COUNT_SYN_STALE];
	}
	ri->duration_ms = (session_now_ns() - s->started_ns) / 1000000;
	kstate_gauges(loader_gauges_fd(&s->loader), ri->gauges);
	ri->gauges[SYNFIN_TCP_TIME_WAIT] -= (int64_t)s->tw_swept;
	if (ri->gauges[SYNFIN_TCP_TIME_WAIT] < 0)
		ri->gauges[SYNFIN_TCP_TIME_WAIT] = 0;
	ri->close_wait_oldest_us = s->close_wait_oldest_us;
	x.children_aborted = ri->children_aborted;
	x.syn_sent = ri->gauges[SYNFIN_TCP_SYN_SENT] > 0 ? (uint64_t)ri->gauges[SYNFIN_TCP_SYN_SENT] : 0;
	audit_compute(&s->audit, has_now ? &now : NULL, &x, &ri->audit);
	audit_cut(&s->audit, 0);
	ri->listen = listen_watch_stats(s->listen);
	if (s->loader.feat.resets && !kstate_resets(loader_resets_fd(&s->loader), &s->resets))
		ri->resets = &s->resets;
	if (s->loader.ports) {
		read_ports(s); /* what a scrape or the summary shows is now, not up to 1 s old */
		s->ports.untracked = drops[SYNFIN_DROP_PORTMAP];
		ri->ports = &s->ports;
	}
}

void session_stop(struct session *s)
{
	ring_close(s->ring);
	s->ring = NULL;
	listen_watch_free(s->listen);
	s->listen = NULL;
	ports_free(&s->ports);
	free(s->cw_warned.keys);
	s->cw_warned = (struct cw_warned){ 0 };
	loader_destroy(&s->loader);
}
