// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "audit.h"
#include "format.h"
#include "listen_model.h"
#include "metrics.h"
#include "ports.h"
#include "resets.h"
#include "run_model.h"

#define STR(x) #x
#define XSTR(x) STR(x)

int port_stats_init(struct port_stats *p, unsigned int max_series)
{
	memset(p, 0, sizeof(*p));
	if (max_series < 1 || max_series > PORT_SERIES_MAX)
		return -EINVAL;
	p->series = calloc(max_series, sizeof(*p->series));
	if (!p->series)
		return -ENOMEM;
	p->max_series = max_series;
	return 0;
}

void port_stats_free(struct port_stats *p)
{
	free(p->series);
	p->series = NULL;
	p->n = 0;
}

/* Server side: the listening port (the accepted socket's local port); client side: the port
 * connected to. Both name the service, never an ephemeral port. */
static uint16_t service_port(const struct synfin_event *e)
{
	return e->side == SYNFIN_SIDE_SERVER ? e->id.lport : e->id.rport;
}

void port_stats_add(struct port_stats *p, const struct synfin_event *e)
{
	struct port_series *ps;
	uint16_t port, idx;
	unsigned int side;

	if (e->type != SYNFIN_EV_HANDSHAKE || e->side > SYNFIN_SIDE_SERVER || !p->series)
		return;
	side = e->side;
	port = service_port(e);
	idx = p->index[side][port];
	if (idx) {
		ps = &p->series[idx - 1];
	} else if (p->n < p->max_series) {
		ps = &p->series[p->n++];
		ps->side = (uint8_t)side;
		ps->port = port;
		p->index[side][port] = (uint16_t)p->n;
	} else {
		ps = &p->other[side];
		p->folded++;
		if (!(p->folded_seen[side][port / 8] & (1u << (port % 8)))) {
			p->folded_seen[side][port / 8] |= (uint8_t)(1u << (port % 8));
			p->folded_pairs++;
		}
	}
	if (handshake_kind(e) == HANDSHAKE_MEASURED)
		hist_add_conn(&ps->hs, e->hs.latency_us, e);
	ps->retransmits += e->hs.retransmits;
}

/* Whether the family's collector has what it reads in src. */
static bool metric_readable(const struct metric_def *m, const struct metric_src *src)
{
	if ((m->needs & METRIC_NEEDS_RUN_INFO) && !src->ri)
		return false;
	if ((m->needs & METRIC_NEEDS_PORTS) && !src->ports)
		return false;
	if ((m->needs & METRIC_NEEDS_RUN) && !src->run)
		return false;
	if ((m->needs & METRIC_NEEDS_LISTEN) && (!src->ri || !src->ri->listen))
		return false;
	if ((m->needs & METRIC_NEEDS_RESETS) && (!src->ri || !src->ri->resets))
		return false;
	if ((m->needs & METRIC_NEEDS_PORTS_HELD) && (!src->ri || !src->ri->ports))
		return false;
	return true;
}

bool metric_present(const struct metric_def *m, const struct metric_src *src)
{
	if (!metric_readable(m, src))
		return false;
	if ((m->needs & METRIC_RUN_ONLY) && !src->run)
		return false;
	if ((m->needs & METRIC_NEEDS_ASSERTIONS) && (!src->run || !src->run->nasserts))
		return false;
	return true;
}

static void emit_u64(struct metric_sink *k, const char *const *lv, uint64_t v)
{
	struct metric_num n = { .kind = NUM_U64, .u = v };

	k->number(k, lv, &n);
}

static void emit_i64(struct metric_sink *k, const char *const *lv, int64_t v)
{
	struct metric_num n = { .kind = NUM_I64, .i = v };

	k->number(k, lv, &n);
}

static void emit_f64(struct metric_sink *k, const char *const *lv, double v)
{
	struct metric_num n = { .kind = NUM_F64, .f = v };

	k->number(k, lv, &n);
}

/* Handshake families: per side, or with --by-port per (side, port) plus port="other". */
static void each_port_series(const struct port_stats *p, struct metric_sink *k,
			     bool hist)
{
	char port[8];
	unsigned int i, side;

	for (side = 0; side < 2; side++) {
		for (i = 0; i < p->n; i++) {
			const struct port_series *ps = &p->series[i];

			if (ps->side != side)
				continue;
			snprintf(port, sizeof(port), "%u", ps->port);
			const char *lv[] = { side_name(side), port };
			if (hist)
				k->hist(k, lv, &ps->hs);
			else
				emit_u64(k, lv, ps->retransmits);
		}
		const char *lv[] = { side_name(side), "other" };
		if (hist)
			k->hist(k, lv, &p->other[side].hs);
		else
			emit_u64(k, lv, p->other[side].retransmits);
	}
}

static void c_handshake_duration(const struct metric_src *src, struct metric_sink *k)
{
	unsigned int side;

	if (src->ports) {
		each_port_series(src->ports, k, true);
		return;
	}
	for (side = 0; side < 2; side++) {
		const char *lv[] = { side_name(side), NULL };
		k->hist(k, lv, &src->sum->handshake[side]);
	}
}

static void c_handshake_retransmits(const struct metric_src *src, struct metric_sink *k)
{
	unsigned int side;

	if (src->ports) {
		each_port_series(src->ports, k, false);
		return;
	}
	for (side = 0; side < 2; side++) {
		const char *lv[] = { side_name(side), NULL };
		emit_u64(k, lv, src->sum->handshake_retransmits[side]);
	}
}

/* One series per value of an enum, labelled with the value's name. */
static void emit_each(struct metric_sink *k, const char *(*name)(unsigned int), unsigned int from,
		      unsigned int to, const uint64_t *v)
{
	unsigned int i;

	for (i = from; i < to; i++) {
		const char *lv[] = { name(i) };
		emit_u64(k, lv, v[i]);
	}
}

static void c_handshake_estimated(const struct metric_src *src, struct metric_sink *k)
{
	emit_each(k, side_name, 0, 2, src->sum->handshake_estimated);
}

static void c_handshake_estimate(const struct metric_src *src, struct metric_sink *k)
{
	unsigned int side;

	for (side = 0; side < 2; side++) {
		const char *lv[] = { side_name(side) };
		k->hist(k, lv, &src->sum->handshake_estimate[side]);
	}
}

static void c_handshake_unmeasured(const struct metric_src *src, struct metric_sink *k)
{
	emit_each(k, side_name, 0, 2, src->sum->handshake_unmeasured);
}

static void c_connect_failures(const struct metric_src *src, struct metric_sink *k)
{
	emit_each(k, fail_reason_name, 0, SYNFIN_FAIL_REASON_MAX, src->sum->connect_fail);
}

static void c_connect_failure_retransmits(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->sum->connect_fail_retransmits);
}

static void c_closed(const struct metric_src *src, struct metric_sink *k)
{
	unsigned int i, j;

	for (i = 0; i < SYNFIN_INIT_MAX; i++) {
		for (j = 0; j < SYNFIN_HOW_MAX; j++) {
			const char *lv[] = { initiator_name(i), how_name(j) };
			emit_u64(k, lv, src->sum->closes[i][j]);
		}
	}
}

static void c_connection_duration(const struct metric_src *src, struct metric_sink *k)
{
	k->hist(k, NULL, &src->sum->lifetime);
}

static void c_close_wait_duration(const struct metric_src *src, struct metric_sink *k)
{
	k->hist(k, NULL, &src->sum->close_wait);
}

static void c_time_wait_duration(const struct metric_src *src, struct metric_sink *k)
{
	unsigned int i;

	for (i = 0; i < SYNFIN_TW_END_MAX; i++) {
		const char *lv[] = { tw_end_name(i) };
		k->hist(k, lv, &src->sum->time_wait[i]);
	}
}

static void c_time_wait_partial(const struct metric_src *src, struct metric_sink *k)
{
	emit_each(k, tw_end_name, 0, SYNFIN_TW_END_MAX, src->sum->time_wait_partial);
}

static void c_sockets(const struct metric_src *src, struct metric_sink *k)
{
	unsigned int i;

	for (i = 0; i < GAUGE_STATES; i++) {
		const char *lv[] = { gauge_state_label(gauge_states[i]) };
		emit_i64(k, lv, src->ri->gauges[gauge_states[i]]);
	}
}

static void c_close_wait_oldest(const struct metric_src *src, struct metric_sink *k)
{
	emit_f64(k, NULL, (double)src->ri->close_wait_oldest_us / 1e6);
}

static void c_events(const struct metric_src *src, struct metric_sink *k)
{
	emit_each(k, event_type_name, 1, SYNFIN_EV_TYPE_MAX, src->sum->events);
}

static void c_events_lost(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ri->lost);
}

static void c_children_aborted(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ri->children_aborted);
}

static void c_syn_stale(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ri->syn_stale);
}

static void c_syn_unrecorded(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ri->syn_unrecorded);
}

static void c_closes_incomplete(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->sum->closes_incomplete);
}

static void c_untracked(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ri->untracked);
}

static void c_malformed(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->sum->malformed);
}

/* One series per counter that has a value: a comparison the filters or a missing namespace
 * rule out has no series rather than a 0 that would read as "no drift". */
static void c_kernel_drift(const struct metric_src *src, struct metric_sink *k)
{
	const struct audit_result *a = &src->ri->audit;
	char netns[16];
	unsigned int c;

	if (!a->present)
		return;
	snprintf(netns, sizeof(netns), "%u", a->netns);
	for (c = 0; c < AUDIT_COUNTER_MAX; c++) {
		const char *lv[] = { netns, audit_counter_name(c) };

		if (!a->na[c])
			emit_i64(k, lv, a->drift[c]);
	}
}

static double drift_of(const struct metric_src *src, unsigned int c)
{
	const struct audit_result *a = src->ri ? &src->ri->audit : NULL;

	return a && a->present && !a->na[c] ? (double)a->drift[c] : NAN;
}

static double v_drift_active_opens(const struct metric_src *src)
{
	return drift_of(src, AUDIT_ACTIVE_OPENS);
}

static double v_drift_passive_opens(const struct metric_src *src)
{
	return drift_of(src, AUDIT_PASSIVE_OPENS);
}

static double v_drift_attempt_fails(const struct metric_src *src)
{
	return drift_of(src, AUDIT_ATTEMPT_FAILS);
}

static double v_drift_estab_resets(const struct metric_src *src)
{
	return drift_of(src, AUDIT_ESTAB_RESETS);
}

static double v_drift_time_wait(const struct metric_src *src)
{
	return drift_of(src, AUDIT_TIME_WAIT);
}

static void c_port_folded(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ports->folded);
}

static void c_port_folded_pairs(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ports->folded_pairs);
}

/* Listeners (user/listen_model.h): ports in order of first sight, then the drops no
 * single port could be charged with. */
static void c_listen_drops(const struct metric_src *src, struct metric_sink *k)
{
	const struct listen_stats *ls = src->ri->listen;
	unsigned int i, r;
	char port[8];

	for (i = 0; i < ls->n; i++) {
		snprintf(port, sizeof(port), "%u", ls->ports[i].port);
		for (r = 0; r < LISTEN_REASON_MAX; r++) {
			const char *lv[] = { port, listen_reason_name(r) };
			emit_u64(k, lv, ls->ports[i].drops[r]);
		}
	}
	for (r = 0; r < LISTEN_REASON_MAX; r++) {
		const char *lv[] = { "unattributed", listen_reason_name(r) };
		emit_u64(k, lv, ls->unattributed[r]);
	}
}

enum queue_figure { QUEUE_LENGTH, QUEUE_PEAK, QUEUE_LIMIT };

static void each_queue(const struct metric_src *src, struct metric_sink *k, enum queue_figure q)
{
	const struct listen_stats *ls = src->ri->listen;
	const struct listen_port *p;
	unsigned int i;
	char port[8];

	for (i = 0; i < ls->n; i++) {
		p = &ls->ports[i];
		if (!p->live && q != QUEUE_PEAK)
			continue; /* no listener now: no queue */
		snprintf(port, sizeof(port), "%u", p->port);
		const char *lv[] = { port };
		emit_u64(k, lv, q == QUEUE_LENGTH ? p->length : q == QUEUE_PEAK ? p->peak : p->limit);
	}
}

static void c_accept_queue_length(const struct metric_src *src, struct metric_sink *k)
{
	each_queue(src, k, QUEUE_LENGTH);
}

static void c_accept_queue_peak(const struct metric_src *src, struct metric_sink *k)
{
	each_queue(src, k, QUEUE_PEAK);
}

static void c_accept_queue_limit(const struct metric_src *src, struct metric_sink *k)
{
	each_queue(src, k, QUEUE_LIMIT);
}

static void c_build_info(const struct metric_src *src, struct metric_sink *k)
{
	const char *lv[] = { src->version ? src->version : "unknown", XSTR(SYNFIN_ABI_VERSION) };

	emit_u64(k, lv, 1);
}

static void c_run_tw_entries(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->sum->tw_entries);
}

static void c_run_tw_peak(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->sum->tw_peak);
}

static void c_run_duration(const struct metric_src *src, struct metric_sink *k)
{
	emit_f64(k, NULL, (double)src->ri->duration_ms / 1000);
}

static void c_run_exit_status(const struct metric_src *src, struct metric_sink *k)
{
	emit_i64(k, NULL, src->run->exit_status);
}

static void c_run_assertions_failed(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, report_failures(src->run));
}

static void c_run_assertion_passed(const struct metric_src *src, struct metric_sink *k)
{
	unsigned int i;

	for (i = 0; i < src->run->nasserts; i++) {
		const char *lv[] = { src->run->asserts[i].text };
		emit_u64(k, lv, src->run->results[i].passed);
	}
}

/* SYNs sent again: by the connects that succeeded and by those that failed. */
/* Handshakes completed, measured or not: the histogram counts the measured ones only. */
static double handshakes_of(const struct summary *s, unsigned int side)
{
	return (double)(s->handshake[side].count + s->handshake_estimated[side]);
}

static double v_handshakes_client(const struct metric_src *src)
{
	return handshakes_of(src->sum, SYNFIN_SIDE_CLIENT);
}

static double v_handshakes_server(const struct metric_src *src)
{
	return handshakes_of(src->sum, SYNFIN_SIDE_SERVER);
}

static double v_handshakes(const struct metric_src *src)
{
	return handshakes_of(src->sum, SYNFIN_SIDE_CLIENT) +
	       handshakes_of(src->sum, SYNFIN_SIDE_SERVER);
}

static double v_syn_retransmits(const struct metric_src *src)
{
	return (double)(src->sum->handshake_retransmits[SYNFIN_SIDE_CLIENT] +
			src->sum->connect_fail_retransmits);
}

/* The longest CLOSE_WAIT: of the closed connections, or of a socket still in it. */
static double v_close_wait_max(const struct metric_src *src)
{
	uint64_t v = src->sum->close_wait.max_us;

	if (src->ri && src->ri->close_wait_oldest_us > v)
		v = src->ri->close_wait_oldest_us;
	return (double)v;
}

/* Unknown (NAN, which no assertion passes) where the kernel lets synfin walk no listener:
 * never 0 drops by default. */
static double listen_drops_of(const struct metric_src *src, int reason)
{
	if (!src->ri || !src->ri->listen)
		return NAN;
	return (double)listen_stats_drops_total(src->ri->listen, reason);
}

static double v_listen_drops(const struct metric_src *src)
{
	return listen_drops_of(src, -1);
}

static double v_listen_drops_accept(const struct metric_src *src)
{
	return listen_drops_of(src, LISTEN_ACCEPT_QUEUE_FULL);
}

static double v_listen_drops_syn(const struct metric_src *src)
{
	return listen_drops_of(src, LISTEN_SYN_QUEUE_FULL);
}

static double v_listen_drops_other(const struct metric_src *src)
{
	return listen_drops_of(src, LISTEN_OTHER);
}

static double v_accept_queue_peak(const struct metric_src *src)
{
	if (!src->ri || !src->ri->listen)
		return NAN;
	return (double)listen_stats_peak(src->ri->listen);
}

/* Resets (user/resets.h): one series per (direction, reason, state) seen, none before. */
static void emit_reset(unsigned int dir, unsigned int reason, unsigned int state, uint64_t n,
		       void *k)
{
	char buf[24];
	const char *lv[] = { rst_dir_name(dir), rst_reason_name(reason),
			     rst_state_name(state, buf, sizeof(buf)) };

	emit_u64(k, lv, n);
}

static void c_resets(const struct metric_src *src, struct metric_sink *k)
{
	resets_each(src->ri->resets, emit_reset, k);
}

static double resets_in(const struct metric_src *src, unsigned int dir)
{
	if (!src->ri || !src->ri->resets)
		return NAN;
	return (double)resets_total(src->ri->resets, dir);
}

static double v_resets_sent(const struct metric_src *src)
{
	return resets_in(src, SYNFIN_RST_SENT);
}

static double v_resets_received(const struct metric_src *src)
{
	return resets_in(src, SYNFIN_RST_RECEIVED);
}

/* Ports held per destination (user/ports.h): the top PORT_SERIES_TOP, then the rest as one. */
static void c_ports_used(const struct metric_src *src, struct metric_sink *k)
{
	const struct port_headroom *h = src->ri->ports;
	const struct port_use *top[PORT_SERIES_TOP];
	char ns[12], la[48], ra[48], rp[8];
	uint64_t all = 0, shown = 0;
	size_t i, n = ports_top(h, top, PORT_SERIES_TOP);

	for (i = 0; i < n; i++) {
		const struct port_dest_key *d = &top[i]->key;

		snprintf(ns, sizeof(ns), "%u", d->netns);
		format_addr(la, sizeof(la), d->family, d->laddr);
		format_addr(ra, sizeof(ra), d->family, d->raddr);
		snprintf(rp, sizeof(rp), "%u", d->rport);
		const char *lv[] = { ns, la, ra, rp };
		emit_u64(k, lv, top[i]->used);
		shown += top[i]->used;
	}
	for (i = 0; i < h->n; i++)
		all += h->dests[i].used;
	if (all > shown) {
		const char *lv[] = { "other", "other", "other", "other" };
		emit_u64(k, lv, all - shown);
	}
}

/* Each namespace's range, from its destinations' last connect(). */
static void c_ports_range(const struct metric_src *src, struct metric_sink *k)
{
	const struct port_headroom *h = src->ri->ports;
	size_t i, j;
	char ns[12];

	for (i = 0; i < h->n; i++) {
		for (j = 0; j < i; j++)
			if (h->dests[j].key.netns == h->dests[i].key.netns)
				break;
		if (j < i || !port_range_size(&h->dests[i]))
			continue; /* said already */
		snprintf(ns, sizeof(ns), "%u", h->dests[i].key.netns);
		const char *lv[] = { ns };
		emit_u64(k, lv, port_range_size(&h->dests[i]));
	}
}

static void c_ports_peak(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ri->ports->peak_used);
}

static void c_ports_folded(const struct metric_src *src, struct metric_sink *k)
{
	const struct port_headroom *h = src->ri->ports;
	size_t i, busy = 0;

	for (i = 0; i < h->n; i++)
		busy += h->dests[i].used > 0;
	emit_u64(k, NULL, busy > PORT_SERIES_TOP ? busy - PORT_SERIES_TOP : 0);
}

static void c_ports_untracked(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ri->ports->untracked);
}

static double v_ports_peak(const struct metric_src *src)
{
	if (!src->ri || !src->ri->ports)
		return NAN;
	return (double)src->ri->ports->peak_used;
}

#define RUN_METRICS(...) ((const struct run_metric[]){ __VA_ARGS__, { .name = NULL } })

const struct metric_def metric_table[] = {
	{ "synfin_handshake_duration_seconds",
	  "TCP handshake duration: client from the first SYN sent, server from the SYN's arrival, to ESTABLISHED.",
	  METRIC_HISTOGRAM, "seconds", { "side", "port" }, 0, c_handshake_duration,
	  RUN_METRICS(
		{ "handshake.client.count", STAT_COUNT, { "client" }, "connections this side opened (connect() reached ESTABLISHED)", v_handshakes_client },
		{ "handshake.client.p50", STAT_P50, { "client" }, "client handshake latency, SYN sent -> ESTABLISHED: median", NULL },
		{ "handshake.client.p90", STAT_P90, { "client" }, "client handshake latency: 90th percentile", NULL },
		{ "handshake.client.p99", STAT_P99, { "client" }, "client handshake latency: 99th percentile", NULL },
		{ "handshake.client.max", STAT_MAX, { "client" }, "client handshake latency: slowest", NULL },
		{ "handshake.server.count", STAT_COUNT, { "server" }, "connections accepted by CMD's listeners (estimated ones included)", v_handshakes_server },
		{ "handshake.server.p50", STAT_P50, { "server" }, "server handshake latency, SYN arrived -> ESTABLISHED: median", NULL },
		{ "handshake.server.p90", STAT_P90, { "server" }, "server handshake latency: 90th percentile", NULL },
		{ "handshake.server.p99", STAT_P99, { "server" }, "server handshake latency: 99th percentile", NULL },
		{ "handshake.server.max", STAT_MAX, { "server" }, "server handshake latency: slowest", NULL },
		{ "handshake.count", STAT_COUNT, { NULL }, "handshakes of both sides", v_handshakes },
		{ "handshake.p50", STAT_P50, { NULL }, "handshake latency, both sides merged: median", NULL },
		{ "handshake.p90", STAT_P90, { NULL }, "handshake latency, both sides: 90th percentile", NULL },
		{ "handshake.p99", STAT_P99, { NULL }, "handshake latency, both sides: 99th percentile", NULL },
		{ "handshake.max", STAT_MAX, { NULL }, "handshake latency, both sides: slowest", NULL }) },
	{ "synfin_handshake_retransmits",
	  "SYNs (client) or SYN-ACKs (server) sent again during handshakes that completed.",
	  METRIC_COUNTER, NULL, { "side", "port" }, 0, c_handshake_retransmits,
	  RUN_METRICS(
		{ "retransmits.syn", STAT_VALUE, { NULL }, "SYNs sent again, by connects that succeeded or failed", v_syn_retransmits },
		{ "retransmits.synack", STAT_VALUE, { "server" }, "SYN-ACKs sent again by CMD's listeners", NULL }) },
	{ "synfin_handshake_estimated",
	  "Completed handshakes whose duration was derived from the kernel's RTT estimate, not two timestamps (kept out of synfin_handshake_duration_seconds).",
	  METRIC_COUNTER, NULL, { "side" }, 0, c_handshake_estimated,
	  RUN_METRICS(
		{ "handshake.server.estimated", STAT_VALUE, { "server" }, "server handshakes with no SYN arrival seen (SYN cookies): not in the latency figures", NULL }) },
	{ "synfin_handshake_estimated_duration_seconds",
	  "Estimated handshake durations (SYN cookies): from the child's RTT sample, which reads up to 64 TCP timestamp ticks (64 ms) high when it came from a cookie's timestamp.",
	  METRIC_HISTOGRAM, "seconds", { "side" }, 0, c_handshake_estimate, NULL },
	{ "synfin_handshake_unmeasured",
	  "Completed handshakes with nothing to estimate their duration from (SYN cookies without TCP timestamps): in no histogram.",
	  METRIC_COUNTER, NULL, { "side" }, 0, c_handshake_unmeasured,
	  RUN_METRICS(
		{ "handshake.server.unmeasured", STAT_VALUE, { "server" }, "server handshakes whose latency the kernel left no trace of", NULL }) },
	{ "synfin_connect_failures",
	  "Client connections that left SYN_SENT without being established, by reason.",
	  METRIC_COUNTER, NULL, { "reason" }, 0, c_connect_failures,
	  RUN_METRICS(
		{ "connect_failures", STAT_VALUE, { NULL }, "connect() attempts that never reached ESTABLISHED", NULL },
		{ "connect_failures.refused", STAT_VALUE, { "refused" }, "... answered with a RST (ECONNREFUSED)", NULL },
		{ "connect_failures.timeout", STAT_VALUE, { "timeout" }, "... SYN retransmits exhausted (ETIMEDOUT)", NULL },
		{ "connect_failures.unreachable", STAT_VALUE, { "unreachable" }, "... ICMP host or network unreachable", NULL },
		{ "connect_failures.reset", STAT_VALUE, { "reset" }, "... reset or aborted during the handshake", NULL },
		{ "connect_failures.no_port", STAT_VALUE, { "no_port" }, "... no local port free toward the destination (EADDRNOTAVAIL)", NULL },
		{ "connect_failures.other", STAT_VALUE, { "other" }, "... closed by the application or a local error", NULL }) },
	{ "synfin_connect_failure_retransmits",
	  "SYNs sent again by client connections that then failed.",
	  METRIC_COUNTER, NULL, { NULL }, 0, c_connect_failure_retransmits, NULL },
	{ "synfin_connections_closed",
	  "Established connections closed, by the side that sent the first FIN or RST and how.",
	  METRIC_COUNTER, NULL, { "initiator", "how" }, 0, c_closed,
	  RUN_METRICS(
		{ "closes", STAT_VALUE, { NULL }, "established connections closed (any initiator, FIN or RST)", NULL },
		{ "closes.local.fin", STAT_VALUE, { "local", "fin" }, "closes CMD started with a FIN", NULL },
		{ "closes.local.rst", STAT_VALUE, { "local", "rst" }, "closes CMD started with a RST (abort, SO_LINGER 0)", NULL },
		{ "closes.remote.fin", STAT_VALUE, { "remote", "fin" }, "closes the peer started with a FIN", NULL },
		{ "closes.remote.rst", STAT_VALUE, { "remote", "rst" }, "closes the peer started with a RST", NULL }) },
	{ "synfin_connections_closed_incomplete",
	  "Of synfin_connections_closed: closes recorded only when the kernel destroyed the socket, because a state transition on the way to CLOSE never reached synfin's programs (their closing-state times may be incomplete).",
	  METRIC_COUNTER, NULL, { NULL }, 0, c_closes_incomplete,
	  RUN_METRICS(
		{ "closes.incomplete", STAT_VALUE, { NULL }, "closes recorded at the socket's destruction: a transition was missed", NULL }) },
	{ "synfin_connection_duration_seconds",
	  "Connection lifetime from SYN or accept to CLOSE (connections seen from their start).",
	  METRIC_HISTOGRAM, "seconds", { NULL }, 0, c_connection_duration,
	  RUN_METRICS(
		{ "lifetime.p50", STAT_P50, { NULL }, "connection lifetime, SYN or accept -> CLOSE: median", NULL },
		{ "lifetime.p99", STAT_P99, { NULL }, "connection lifetime: 99th percentile", NULL },
		{ "lifetime.max", STAT_MAX, { NULL }, "connection lifetime: longest", NULL }) },
	{ "synfin_close_wait_duration_seconds",
	  "Time closed connections spent in CLOSE_WAIT: the peer had closed, the application had not.",
	  METRIC_HISTOGRAM, "seconds", { NULL }, 0, c_close_wait_duration,
	  RUN_METRICS(
		{ "close_wait.max", STAT_MAX, { NULL }, "longest CLOSE_WAIT (peer closed, CMD had not), open ones included", v_close_wait_max },
		{ "close_wait.p99", STAT_P99, { NULL }, "CLOSE_WAIT length of closed connections: 99th percentile", NULL }) },
	{ "synfin_time_wait_duration_seconds",
	  "Lifetime of TIME_WAIT sockets, by how they ended.",
	  METRIC_HISTOGRAM, "seconds", { "end" }, 0, c_time_wait_duration, NULL },
	{ "synfin_time_wait_partial",
	  "TIME_WAIT sockets that existed when synfin started, by how they ended: their duration is unknown, so they are not in synfin_time_wait_duration_seconds.",
	  METRIC_COUNTER, NULL, { "end" }, 0, c_time_wait_partial, NULL },
	{ "synfin_sockets",
	  "Observed sockets now in each TCP state.",
	  METRIC_GAUGE, NULL, { "state" }, METRIC_NEEDS_RUN_INFO, c_sockets, NULL },
	{ "synfin_close_wait_oldest_seconds",
	  "Age of the oldest socket now in CLOSE_WAIT, 0 if none.",
	  METRIC_GAUGE, "seconds", { NULL }, METRIC_NEEDS_RUN_INFO, c_close_wait_oldest, NULL },
	{ "synfin_events",
	  "Records received from the kernel and accepted, by type.",
	  METRIC_COUNTER, NULL, { "type" }, 0, c_events, NULL },
	{ "synfin_events_lost",
	  "Records the kernel could not queue (ring buffer full): the other figures undercount by this much.",
	  METRIC_COUNTER, NULL, { NULL }, METRIC_NEEDS_RUN_INFO, c_events_lost,
	  RUN_METRICS(
		{ "events.lost", STAT_VALUE, { NULL }, "records the kernel could not queue: a non-zero value makes the counts low", NULL }) },
	{ "synfin_untracked",
	  "Connections or TIME_WAITs not tracked because a kernel map was full.",
	  METRIC_COUNTER, NULL, { NULL }, METRIC_NEEDS_RUN_INFO, c_untracked,
	  RUN_METRICS(
		{ "events.untracked", STAT_VALUE, { NULL }, "connections not tracked because a kernel map was full", NULL }) },
	{ "synfin_server_children_aborted",
	  "Accepted children that died before ESTABLISHED (another CPU won the race for the request, or the accept queue was full): the kernel counts them in TcpPassiveOpens, synfin has no handshake for them.",
	  METRIC_COUNTER, NULL, { NULL }, METRIC_NEEDS_RUN_INFO, c_children_aborted,
	  RUN_METRICS(
		{ "handshake.server.aborted", STAT_VALUE, { NULL }, "accepted children that died before ESTABLISHED (counted in TcpPassiveOpens)", NULL }) },
	{ "synfin_server_syn_stale",
	  "SYN arrivals left behind by requests that died (abandoned handshakes), found when a later connection on the same 4-tuple armed no request timer (a SYN cookie): not taken as its start; its latency is estimated instead.",
	  METRIC_COUNTER, NULL, { NULL }, METRIC_NEEDS_RUN_INFO, c_syn_stale, NULL },
	{ "synfin_server_syn_unrecorded",
	  "SYN arrivals the SYN map could not store: those handshakes' latency is estimated. (An LRU map replaces its oldest entries rather than fail: a flood shows as estimated handshakes.)",
	  METRIC_COUNTER, NULL, { NULL }, METRIC_NEEDS_RUN_INFO, c_syn_unrecorded, NULL },
	/* Not synfin_counter_drift (issue 15's name): promtool's lint rejects a gauge whose
	 * name contains "counter". */
	{ "synfin_kernel_drift",
	  "synfin's count minus the kernel's own TCP counter of the same network namespace since synfin started (counter: active_opens TcpActiveOpens, passive_opens TcpPassiveOpens, attempt_fails TcpAttemptFails-TcpExtEmbryonicRsts, estab_resets TcpEstabResets, time_wait TcpExtTW+TcpExtTWKilled): 0 when synfin saw everything, negative when it missed events. No series when a filter makes the comparison invalid.",
	  METRIC_GAUGE, NULL, { "netns", "counter" }, METRIC_NEEDS_RUN_INFO, c_kernel_drift,
	  RUN_METRICS(
		{ "drift.active_opens", STAT_VALUE, { NULL }, "client handshakes + failed connects - TcpActiveOpens (no value under run's cgroup filter)", v_drift_active_opens },
		{ "drift.passive_opens", STAT_VALUE, { NULL }, "server handshakes + aborted children - TcpPassiveOpens (no value under run's cgroup filter)", v_drift_passive_opens },
		{ "drift.attempt_fails", STAT_VALUE, { NULL }, "connects the kernel failed - (TcpAttemptFails - TcpExtEmbryonicRsts) (no value under run's cgroup filter)", v_drift_attempt_fails },
		{ "drift.estab_resets", STAT_VALUE, { NULL }, "closes from ESTABLISHED or CLOSE_WAIT - TcpEstabResets (no value under run's cgroup filter)", v_drift_estab_resets },
		{ "drift.time_wait", STAT_VALUE, { NULL }, "closes handed to a TIME_WAIT - (TcpExtTW + TcpExtTWKilled) (no value under run's cgroup filter)", v_drift_time_wait }) },
	{ "synfin_records_malformed",
	  "Records from the kernel that failed validation and were not counted.",
	  METRIC_COUNTER, NULL, { NULL }, 0, c_malformed, NULL },
	{ "synfin_port_series_folded",
	  "Handshakes counted under port=\"other\" because --max-series port series were in use.",
	  METRIC_COUNTER, NULL, { NULL }, METRIC_NEEDS_PORTS, c_port_folded, NULL },
	{ "synfin_port_series_folded_ports",
	  "Distinct (side, port) pairs folded into port=\"other\".",
	  METRIC_GAUGE, NULL, { NULL }, METRIC_NEEDS_PORTS, c_port_folded_pairs, NULL },
	{ "synfin_listen_drops",
	  "SYNs and handshake ACKs the listening sockets dropped (the namespace's TcpExtListenDrops), by port and reason: accept_queue_full (TcpExtListenOverflows), syn_queue_full (TcpExtTCPReqQFullDrop), other. port=\"unattributed\": drops of a namespace where more than one port could have dropped them.",
	  METRIC_COUNTER, NULL, { "port", "reason" }, METRIC_NEEDS_RUN_INFO | METRIC_NEEDS_LISTEN,
	  c_listen_drops,
	  RUN_METRICS(
		{ "listen.drops", STAT_VALUE, { NULL }, "SYNs or ACKs dropped by listeners (TcpExtListenDrops of their namespaces)", v_listen_drops },
		{ "listen.drops.accept_queue_full", STAT_VALUE, { NULL }, "... because the accept queue was full (ListenOverflows)", v_listen_drops_accept },
		{ "listen.drops.syn_queue_full", STAT_VALUE, { NULL }, "... because the SYN queue was full and SYN cookies were off (TCPReqQFullDrop)", v_listen_drops_syn },
		{ "listen.drops.other", STAT_VALUE, { NULL }, "... for another reason (no memory, a security module)", v_listen_drops_other }) },
	{ "synfin_accept_queue_length",
	  "Connections waiting in the listeners' accept queues now (ss -ltn Recv-Q), summed per port.",
	  METRIC_GAUGE, NULL, { "port" }, METRIC_NEEDS_RUN_INFO | METRIC_NEEDS_LISTEN,
	  c_accept_queue_length, NULL },
	{ "synfin_accept_queue_peak_length",
	  "Longest accept queue per port seen since the start, sampled at each sweep (200 ms) and scrape.",
	  METRIC_GAUGE, NULL, { "port" }, METRIC_NEEDS_RUN_INFO | METRIC_NEEDS_LISTEN,
	  c_accept_queue_peak,
	  RUN_METRICS(
		{ "accept_queue.peak", STAT_VALUE, { NULL }, "longest accept queue of any listening port, sampled every 200 ms", v_accept_queue_peak }) },
	{ "synfin_accept_queue_limit",
	  "The listeners' accept queue limits (listen() backlog capped by net.core.somaxconn; ss -ltn Send-Q), summed per port.",
	  METRIC_GAUGE, NULL, { "port" }, METRIC_NEEDS_RUN_INFO | METRIC_NEEDS_LISTEN,
	  c_accept_queue_limit, NULL },
	{ "synfin_ephemeral_ports_used",
	  "Local ports held toward one destination (network namespace, local address, remote address and port) by the connections synfin saw connect(), in every state that holds one: SYN_SENT, ESTABLISHED, the closing states and TIME_WAIT (what ss -tan counts for it). The 20 destinations holding most have a series; the rest are summed under \"other\". Kept in the kernel as sockets take and give back their port; needs TIME_WAIT followed.",
	  METRIC_GAUGE, NULL, { "netns", "laddr", "raddr", "rport" }, METRIC_NEEDS_RUN_INFO | METRIC_NEEDS_PORTS_HELD,
	  c_ports_used, NULL },
	{ "synfin_ephemeral_ports_range",
	  "The size of each network namespace's ip_local_port_range (high - low + 1), as its last connect() saw it: how many ports one destination can hold.",
	  METRIC_GAUGE, NULL, { "netns" }, METRIC_NEEDS_RUN_INFO | METRIC_NEEDS_PORTS_HELD,
	  c_ports_range, NULL },
	{ "synfin_ephemeral_ports_peak_used",
	  "The most local ports one destination held at once since the start, read every second and at each scrape.",
	  METRIC_GAUGE, NULL, { NULL }, METRIC_NEEDS_RUN_INFO | METRIC_NEEDS_PORTS_HELD,
	  c_ports_peak,
	  RUN_METRICS(
		{ "ports.peak_used", STAT_VALUE, { NULL }, "the most local ports CMD held toward one destination at once (read every second)", v_ports_peak }) },
	{ "synfin_ephemeral_ports_destinations_folded",
	  "Destinations holding ports now whose count is in the laddr=\"other\" series of synfin_ephemeral_ports_used.",
	  METRIC_GAUGE, NULL, { NULL }, METRIC_NEEDS_RUN_INFO | METRIC_NEEDS_PORTS_HELD,
	  c_ports_folded, NULL },
	{ "synfin_ephemeral_ports_untracked",
	  "Connects whose destination found the kernel's map of destinations full (16,384): their ports are not in synfin_ephemeral_ports_used.",
	  METRIC_COUNTER, NULL, { NULL }, METRIC_NEEDS_RUN_INFO | METRIC_NEEDS_PORTS_HELD,
	  c_ports_untracked, NULL },
	{ "synfin_resets",
	  "TCP resets (RST segments) the observed sockets sent or took, by direction, reason and the socket's state then (state=\"none\": no socket). reason: the kernel's own (enum sk_rst_reason, where tcp_send_reset passes it: 6.10 on); else active (the socket aborted itself: close() with unread data, SO_LINGER 0, ss -K, keepalive), reply (the answer to a segment) or tcp_abort_on_data (data after close(): inferred); peer for every received one (the peer's reason is not on the wire). Sent ones are the namespace's TcpOutRsts where the kernel traces every reset (synfin check: rst_every_socket); before 6.10 the ones sent without a full socket (no socket, TIME_WAIT) are not seen.",
	  METRIC_COUNTER, NULL, { "direction", "reason", "state" }, METRIC_NEEDS_RUN_INFO | METRIC_NEEDS_RESETS,
	  c_resets,
	  RUN_METRICS(
		{ "resets.sent", STAT_VALUE, { NULL }, "resets CMD's sockets sent (close() with unread data, SO_LINGER 0, replies)", v_resets_sent },
		{ "resets.received", STAT_VALUE, { NULL }, "resets CMD's sockets took from their peers", v_resets_received }) },
	{ "synfin_build",
	  "synfin's version and kernel record ABI.",
	  METRIC_INFO, NULL, { "version", "abi" }, 0, c_build_info, NULL },
	{ "synfin_run_time_wait_entries",
	  "Closes of the command's connections that left a TIME_WAIT socket.",
	  METRIC_COUNTER, NULL, { NULL }, METRIC_RUN_ONLY, c_run_tw_entries,
	  RUN_METRICS(
		{ "time_wait.count", STAT_VALUE, { NULL }, "closes that left a TIME_WAIT socket behind (entries)", NULL }) },
	{ "synfin_run_time_wait_peak",
	  "Most TIME_WAIT sockets of the command alive at once.",
	  METRIC_GAUGE, NULL, { NULL }, METRIC_RUN_ONLY, c_run_tw_peak,
	  RUN_METRICS(
		{ "time_wait.peak", STAT_VALUE, { NULL }, "most TIME_WAIT sockets of CMD alive at once", NULL }) },
	{ "synfin_run_duration_seconds",
	  "How long synfin observed the command.",
	  METRIC_GAUGE, "seconds", { NULL }, METRIC_NEEDS_RUN_INFO | METRIC_RUN_ONLY, c_run_duration, NULL },
	{ "synfin_run_exit_status",
	  "synfin run's exit status: 0 pass, 1 an assertion failed, else the command's.",
	  METRIC_GAUGE, NULL, { NULL }, METRIC_NEEDS_RUN, c_run_exit_status, NULL },
	{ "synfin_run_assertions_failed",
	  "Assertions that did not hold.",
	  METRIC_GAUGE, NULL, { NULL }, METRIC_NEEDS_RUN, c_run_assertions_failed, NULL },
	{ "synfin_run_assertion_passed",
	  "1 when the assertion held, 0 when it failed.",
	  METRIC_GAUGE, NULL, { "assertion" }, METRIC_NEEDS_RUN | METRIC_NEEDS_ASSERTIONS,
	  c_run_assertion_passed, NULL },
};

const unsigned int metric_count = sizeof(metric_table) / sizeof(metric_table[0]);

/* ---------------------------------------------------------------- run metrics */

/* The flat index over the families' lists. The table is constant: walked on each call
 * (a few dozen entries) rather than cached. */
static const struct run_metric *nth(unsigned int n, const struct metric_def **family)
{
	const struct run_metric *r;
	unsigned int i;

	for (i = 0; i < metric_count; i++) {
		for (r = metric_table[i].run_metrics; r && r->name; r++) {
			if (!n--) {
				if (family)
					*family = &metric_table[i];
				return r;
			}
		}
	}
	return NULL;
}

unsigned int run_metric_count(void)
{
	unsigned int n = 0;

	while (nth(n, NULL))
		n++;
	return n;
}

const struct run_metric *run_metric(unsigned int i)
{
	return nth(i, NULL);
}

const struct metric_def *run_metric_family(unsigned int i)
{
	const struct metric_def *m = NULL;

	nth(i, &m);
	return m;
}

bool run_metric_is_duration(unsigned int i)
{
	const struct run_metric *r = nth(i, NULL);

	return r && r->stat >= STAT_P50;
}

int run_metric_find(const char *name, size_t len)
{
	const struct run_metric *r;
	unsigned int i;

	for (i = 0; (r = nth(i, NULL)); i++)
		if (strlen(r->name) == len && !memcmp(r->name, name, len))
			return (int)i;
	return -1;
}

double run_metric_value(const struct run_values *v, const char *name)
{
	int i = run_metric_find(name, strlen(name));

	return i < 0 ? NAN : v->v[i];
}

/* Reads one run metric from its family's series: sums the numbers, merges the histograms. */
struct pick_sink {
	struct metric_sink k; /* first: the table calls back with a pointer to it */
	const struct run_metric *r;
	double sum;
	const struct hist *first;
	struct hist *merged;
	bool failed;
};

static bool matches(const struct run_metric *r, const char *const *lv)
{
	unsigned int i;

	for (i = 0; i < METRIC_MAX_LABELS; i++)
		if (r->match[i] && (!lv || !lv[i] || strcmp(lv[i], r->match[i])))
			return false;
	return true;
}

static void pick_number(struct metric_sink *k, const char *const *lv, const struct metric_num *v)
{
	struct pick_sink *p = (struct pick_sink *)k;

	if (!matches(p->r, lv))
		return;
	p->sum += v->kind == NUM_U64 ? (double)v->u : v->kind == NUM_I64 ? (double)v->i : v->f;
}

static void pick_hist(struct metric_sink *k, const char *const *lv, const struct hist *h)
{
	struct pick_sink *p = (struct pick_sink *)k;

	if (!matches(p->r, lv))
		return;
	if (!p->first) {
		p->first = h;
		return;
	}
	/* ~8 KiB: too big for some callers' stacks (the fuzzer's, threads') */
	if (!p->merged) {
		p->merged = calloc(1, sizeof(*p->merged));
		if (!p->merged) {
			p->failed = true;
			return;
		}
		hist_merge(p->merged, p->first);
	}
	hist_merge(p->merged, h);
}

/* A quantile or max over no samples has no value: NAN, never 0 (issue 12: an assertion
 * "p99 < 5ms" passed on a command that made no connection). */
static double hist_stat(const struct hist *h, enum metric_stat stat)
{
	if (!h->count && stat != STAT_COUNT)
		return NAN;
	switch (stat) {
	case STAT_COUNT:
		return (double)h->count;
	case STAT_P50:
		return (double)hist_quantile(h, 0.5);
	case STAT_P90:
		return (double)hist_quantile(h, 0.9);
	case STAT_P99:
		return (double)hist_quantile(h, 0.99);
	case STAT_MAX:
		return (double)h->max_us;
	case STAT_VALUE:
		break;
	}
	return NAN;
}

static double run_metric_read(const struct metric_def *m, const struct run_metric *r,
			      const struct metric_src *src)
{
	static const struct hist empty;
	struct pick_sink p = { .k = { .number = pick_number, .hist = pick_hist }, .r = r };
	double v;

	if (r->value)
		return r->value(src);
	if (!metric_readable(m, src))
		return 0; /* the live figures are unknown: none counted */
	m->collect(src, &p.k);
	if (m->type != METRIC_HISTOGRAM)
		v = r->stat == STAT_VALUE ? p.sum : NAN;
	else
		v = p.failed ? NAN : hist_stat(p.merged ? p.merged : p.first ? p.first : &empty, r->stat);
	free(p.merged);
	return v;
}

void run_values_compute(struct run_values *out, const struct summary *s,
			const struct session_info *ri)
{
	struct metric_src src = { .sum = s, .ri = ri };
	const struct metric_def *m;
	const struct run_metric *r;
	unsigned int i;

	for (i = 0; i < RUN_METRIC_MAX; i++) {
		r = nth(i, &m);
		out->v[i] = r ? run_metric_read(m, r, &src) : NAN;
	}
}

void run_metrics_help(FILE *f)
{
	const struct run_metric *r;
	unsigned int i;

	for (i = 0; (r = nth(i, NULL)); i++)
		fprintf(f, "  %-30s %-8s %s\n", r->name, run_metric_is_duration(i) ? "duration" : "count",
			r->help);
}
