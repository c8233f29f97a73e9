// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "metrics.h"

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
	hist_add(&ps->hs, e->hs.latency_us);
	ps->retransmits += e->hs.retransmits;
}

bool metric_present(const struct metric_def *m, const struct metric_src *src)
{
	if ((m->needs & METRIC_NEEDS_RUN_INFO) && !src->ri)
		return false;
	if ((m->needs & METRIC_NEEDS_PORTS) && !src->ports)
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

static void c_handshake_estimated(const struct metric_src *src, struct metric_sink *k)
{
	unsigned int side;

	for (side = 0; side < 2; side++) {
		const char *lv[] = { side_name(side) };
		emit_u64(k, lv, src->sum->handshake_estimated[side]);
	}
}

static void c_connect_failures(const struct metric_src *src, struct metric_sink *k)
{
	unsigned int r;

	for (r = 0; r < SYNFIN_FAIL_REASON_MAX; r++) {
		const char *lv[] = { fail_reason_name(r) };
		emit_u64(k, lv, src->sum->connect_fail[r]);
	}
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
	unsigned int t;

	for (t = 1; t < SYNFIN_EV_TYPE_MAX; t++) {
		const char *lv[] = { event_type_name(t) };
		emit_u64(k, lv, src->sum->events[t]);
	}
}

static void c_events_lost(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ri->lost);
}

static void c_untracked(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ri->untracked);
}

static void c_malformed(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->sum->malformed);
}

static void c_port_folded(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ports->folded);
}

static void c_port_folded_pairs(const struct metric_src *src, struct metric_sink *k)
{
	emit_u64(k, NULL, src->ports->folded_pairs);
}

static void c_build_info(const struct metric_src *src, struct metric_sink *k)
{
	const char *lv[] = { src->version ? src->version : "unknown", XSTR(SYNFIN_ABI_VERSION) };

	emit_u64(k, lv, 1);
}

const struct metric_def metric_table[] = {
	{ "synfin_handshake_duration_seconds",
	  "TCP handshake duration: client from the first SYN sent, server from the SYN's arrival, to ESTABLISHED.",
	  METRIC_HISTOGRAM, "seconds", { "side", "port" }, 0, c_handshake_duration },
	{ "synfin_handshake_retransmits",
	  "SYNs (client) or SYN-ACKs (server) sent again during handshakes that completed.",
	  METRIC_COUNTER, NULL, { "side", "port" }, 0, c_handshake_retransmits },
	{ "synfin_handshake_estimated",
	  "Completed handshakes whose duration was derived from the kernel's RTT estimate, not two timestamps.",
	  METRIC_COUNTER, NULL, { "side" }, 0, c_handshake_estimated },
	{ "synfin_connect_failures",
	  "Client connections that left SYN_SENT without being established, by reason.",
	  METRIC_COUNTER, NULL, { "reason" }, 0, c_connect_failures },
	{ "synfin_connect_failure_retransmits",
	  "SYNs sent again by client connections that then failed.",
	  METRIC_COUNTER, NULL, { NULL }, 0, c_connect_failure_retransmits },
	{ "synfin_connections_closed",
	  "Established connections closed, by the side that sent the first FIN or RST and how.",
	  METRIC_COUNTER, NULL, { "initiator", "how" }, 0, c_closed },
	{ "synfin_connection_duration_seconds",
	  "Connection lifetime from SYN or accept to CLOSE (connections seen from their start).",
	  METRIC_HISTOGRAM, "seconds", { NULL }, 0, c_connection_duration },
	{ "synfin_close_wait_duration_seconds",
	  "Time closed connections spent in CLOSE_WAIT: the peer had closed, the application had not.",
	  METRIC_HISTOGRAM, "seconds", { NULL }, 0, c_close_wait_duration },
	{ "synfin_time_wait_duration_seconds",
	  "Lifetime of TIME_WAIT sockets, by how they ended.",
	  METRIC_HISTOGRAM, "seconds", { "end" }, 0, c_time_wait_duration },
	{ "synfin_sockets",
	  "Observed sockets now in each TCP state.",
	  METRIC_GAUGE, NULL, { "state" }, METRIC_NEEDS_RUN_INFO, c_sockets },
	{ "synfin_close_wait_oldest_seconds",
	  "Age of the oldest socket now in CLOSE_WAIT, 0 if none.",
	  METRIC_GAUGE, "seconds", { NULL }, METRIC_NEEDS_RUN_INFO, c_close_wait_oldest },
	{ "synfin_events",
	  "Records received from the kernel and accepted, by type.",
	  METRIC_COUNTER, NULL, { "type" }, 0, c_events },
	{ "synfin_events_lost",
	  "Records the kernel could not queue (ring buffer full): the other figures undercount by this much.",
	  METRIC_COUNTER, NULL, { NULL }, METRIC_NEEDS_RUN_INFO, c_events_lost },
	{ "synfin_untracked",
	  "Connections or TIME_WAITs not tracked because a kernel map was full.",
	  METRIC_COUNTER, NULL, { NULL }, METRIC_NEEDS_RUN_INFO, c_untracked },
	{ "synfin_records_malformed",
	  "Records from the kernel that failed validation and were not counted.",
	  METRIC_COUNTER, NULL, { NULL }, 0, c_malformed },
	{ "synfin_port_series_folded",
	  "Handshakes counted under port=\"other\" because --max-series port series were in use.",
	  METRIC_COUNTER, NULL, { NULL }, METRIC_NEEDS_PORTS, c_port_folded },
	{ "synfin_port_series_folded_ports",
	  "Distinct (side, port) pairs folded into port=\"other\".",
	  METRIC_GAUGE, NULL, { NULL }, METRIC_NEEDS_PORTS, c_port_folded_pairs },
	{ "synfin_build",
	  "synfin's version and kernel record ABI.",
	  METRIC_INFO, NULL, { "version", "abi" }, 0, c_build_info },
};

const unsigned int metric_count = sizeof(metric_table) / sizeof(metric_table[0]);
