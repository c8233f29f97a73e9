// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "format.h"
#include "listen_model.h"
#include "render.h"
#include "ports.h"
#include "resets.h"

/* The fields every connection record starts with (the README's contract). */
static void record_common(struct jw *j, const char *type, const struct synfin_event *e)
{
	char addr[ADDR_STR_LEN];

	jw_object(j, NULL);
	jw_str(j, "type", type);
	jw_u64(j, "ts_ns", e->ts_ns);
	jw_str(j, "side", side_name(e->side));
	jw_u64(j, "family", e->id.family);
	format_addr(addr, sizeof(addr), e->id.family, e->id.laddr);
	jw_str(j, "laddr", addr);
	jw_u64(j, "lport", e->id.lport);
	format_addr(addr, sizeof(addr), e->id.family, e->id.raddr);
	jw_str(j, "raddr", addr);
	jw_u64(j, "rport", e->id.rport);
	jw_u64(j, "netns", e->id.netns);
	/* Cookies start at 1; 0 means the kernel gave none (no cookies in tracing programs). */
	if (e->cookie)
		jw_u64(j, "cookie", e->cookie);
	else
		jw_null(j, "cookie");
	if (e->flags & SYNFIN_F_NO_PID) {
		jw_null(j, "pid");
		jw_null(j, "comm");
	} else {
		jw_u64(j, "pid", e->pid);
		jw_strn(j, "comm", e->comm, SYNFIN_COMM_LEN);
	}
	jw_bool(j, "partial", e->flags & SYNFIN_F_PARTIAL);
}

void json_event(FILE *f, const struct synfin_event *e)
{
	char buf[24];
	unsigned int i;
	struct jw j;

	jw_init(&j, f);
	record_common(&j, event_type_name(e->type), e);
	switch (e->type) {
	case SYNFIN_EV_HANDSHAKE:
		if (handshake_kind(e) == HANDSHAKE_UNMEASURED)
			jw_null(&j, "latency_us");
		else
			jw_u64(&j, "latency_us", e->hs.latency_us);
		jw_u64(&j, "retransmits", e->hs.retransmits);
		jw_bool(&j, "estimated", e->flags & SYNFIN_F_ESTIMATED);
		jw_u64(&j, "resolution_us", e->hs.resolution_us);
		break;
	case SYNFIN_EV_CONNECT_FAIL:
		jw_u64(&j, "latency_us", e->hs.latency_us);
		jw_u64(&j, "retransmits", e->hs.retransmits);
		jw_str(&j, "reason", fail_reason_name(e->reason));
		jw_i64(&j, "errno", e->hs.sk_err);
		break;
	case SYNFIN_EV_CLOSE:
		jw_str(&j, "initiator", initiator_name(e->close.initiator));
		jw_str(&j, "how", how_name(e->close.how));
		jw_str(&j, "last_state", tcp_state_name(e->close.last_state, buf, sizeof(buf)));
		for (i = 0; i < SYNFIN_CS_MAX; i++)
			jw_u64(&j, close_state_field(i), e->close.state_us[i]);
		if (e->flags & SYNFIN_F_PARTIAL)
			jw_null(&j, "lifetime_us");
		else
			jw_u64(&j, "lifetime_us", e->close.lifetime_us);
		jw_u64(&j, "bytes_acked", e->close.bytes_acked);
		jw_u64(&j, "bytes_received", e->close.bytes_received);
		jw_bool(&j, "time_wait", e->close.tw_handover);
		jw_bool(&j, "incomplete", e->flags & SYNFIN_F_INCOMPLETE);
		jw_i64(&j, "errno", e->close.sk_err);
		if (rst_dir_name(e->close.rst_dir)) {
			jw_str(&j, "rst_direction", rst_dir_name(e->close.rst_dir));
			jw_str(&j, "rst_reason", rst_reason_name(e->close.rst_reason));
		} else {
			jw_null(&j, "rst_direction");
			jw_null(&j, "rst_reason");
		}
		break;
	case SYNFIN_EV_TIME_WAIT:
		jw_u64(&j, "duration_us", e->tw.duration_us);
		jw_str(&j, "end", tw_end_name(e->tw.end));
		jw_str(&j, "substate", tcp_state_name(e->tw.substate, buf, sizeof(buf)));
		break;
	}
	jw_close(&j);
	jw_end_line(&j);
}

void json_close_wait_warning(FILE *f, const struct synfin_event *e, uint64_t age_us)
{
	struct synfin_event at = *e;
	struct jw j;

	/* e->ts_ns is when the socket entered CLOSE_WAIT; the record is about now */
	at.ts_ns = e->ts_ns + age_us * 1000;
	jw_init(&j, f);
	record_common(&j, "close_wait_warning", &at);
	jw_u64(&j, "age_us", age_us);
	jw_close(&j);
	jw_end_line(&j);
}

void json_port_headroom_warning(FILE *f, const struct port_use *u, unsigned int pct,
				uint64_t now_ns)
{
	char addr[ADDR_STR_LEN];
	struct jw j;

	jw_init(&j, f);
	jw_object(&j, NULL);
	jw_str(&j, "type", "port_headroom_warning");
	jw_u64(&j, "ts_ns", now_ns);
	jw_u64(&j, "family", u->key.family);
	format_addr(addr, sizeof(addr), u->key.family, u->key.laddr);
	jw_str(&j, "laddr", addr);
	format_addr(addr, sizeof(addr), u->key.family, u->key.raddr);
	jw_str(&j, "raddr", addr);
	jw_u64(&j, "rport", u->key.rport);
	jw_u64(&j, "netns", u->key.netns);
	jw_u64(&j, "used", u->used);
	jw_u64(&j, "range", port_range_size(u));
	jw_u64(&j, "threshold_pct", pct);
	if (u->pid) {
		jw_u64(&j, "pid", u->pid);
		jw_strn(&j, "comm", u->comm, SYNFIN_COMM_LEN);
	} else {
		jw_null(&j, "pid");
		jw_null(&j, "comm");
	}
	jw_close(&j);
	jw_end_line(&j);
}

void json_hist(struct jw *j, const char *key, const struct hist *h)
{
	unsigned int i;
	uint64_t n;

	jw_object(j, key);
	jw_u64(j, "count", h->count);
	jw_u64(j, "min_us", h->count ? h->min_us : 0);
	jw_u64(j, "p50_us", hist_quantile(h, 0.5));
	jw_u64(j, "p90_us", hist_quantile(h, 0.9));
	jw_u64(j, "p99_us", hist_quantile(h, 0.99));
	jw_u64(j, "max_us", h->max_us);
	jw_u64(j, "sum_us", h->sum_us);
	jw_array(j, "log2");
	for (i = 0; i < HIST_LOG2_SLOTS; i++) {
		n = hist_log2_count(h, i);
		if (!n)
			continue;
		jw_object(j, NULL);
		jw_u64(j, "from_us", i ? 1ULL << i : 0);
		jw_u64(j, "to_us", i < 63 ? (1ULL << (i + 1)) - 1 : UINT64_MAX);
		jw_u64(j, "count", n);
		jw_close(j);
	}
	jw_close(j);
	jw_close(j);
}

static void json_listen_drops(struct jw *j, const char *key, const uint64_t *by_reason)
{
	uint64_t total = 0;
	unsigned int r;

	jw_object(j, key);
	for (r = 0; r < LISTEN_REASON_MAX; r++)
		total += by_reason[r];
	jw_u64(j, "total", total);
	for (r = 0; r < LISTEN_REASON_MAX; r++)
		jw_u64(j, listen_reason_name(r), by_reason[r]);
	jw_close(j);
}

static void json_reset(unsigned int dir, unsigned int reason, unsigned int state, uint64_t n,
		       void *jv)
{
	struct jw *j = jv;
	char buf[24];

	jw_object(j, NULL);
	jw_str(j, "direction", rst_dir_name(dir));
	jw_str(j, "reason", rst_reason_name(reason));
	jw_str(j, "state", rst_state_name(state, buf, sizeof(buf)));
	jw_u64(j, "count", n);
	jw_close(j);
}

/* null where TIME_WAIT is not followed (--no-time-wait, unknown timer handlers) */
static void json_ports(struct jw *j, const struct port_headroom *h)
{
	const struct port_use *top[PORT_SERIES_TOP];
	char addr[ADDR_STR_LEN];
	size_t i, n;

	if (!h) {
		jw_null(j, "ephemeral_ports");
		return;
	}
	n = ports_top(h, top, PORT_SERIES_TOP);
	jw_object(j, "ephemeral_ports");
	jw_u64(j, "peak_used", h->peak_used);
	jw_u64(j, "peak_range", h->peak_range);
	jw_u64(j, "untracked", h->untracked);
	jw_array(j, "top");
	for (i = 0; i < n; i++) {
		jw_object(j, NULL);
		jw_u64(j, "netns", top[i]->key.netns);
		jw_u64(j, "family", top[i]->key.family);
		format_addr(addr, sizeof(addr), top[i]->key.family, top[i]->key.laddr);
		jw_str(j, "laddr", addr);
		format_addr(addr, sizeof(addr), top[i]->key.family, top[i]->key.raddr);
		jw_str(j, "raddr", addr);
		jw_u64(j, "rport", top[i]->key.rport);
		jw_u64(j, "used", top[i]->used);
		jw_u64(j, "range", port_range_size(top[i]));
		jw_close(j);
	}
	jw_close(j);
	jw_close(j);
}

/* null where the kernel has no reset tracepoints (synfin check: resets) */
static void json_resets(struct jw *j, const struct reset_counts *r)
{
	if (!r) {
		jw_null(j, "resets");
		return;
	}
	jw_object(j, "resets");
	jw_u64(j, "sent", resets_total(r, SYNFIN_RST_SENT));
	jw_u64(j, "received", resets_total(r, SYNFIN_RST_RECEIVED));
	jw_array(j, "by");
	resets_each(r, json_reset, j);
	jw_close(j);
	jw_close(j);
}

/* null where the kernel lets synfin walk no listener (synfin check: listen_queues) */
static void json_listen(struct jw *j, const struct listen_stats *ls)
{
	uint64_t all[LISTEN_REASON_MAX];
	unsigned int i, r;

	if (!ls) {
		jw_null(j, "listen");
		return;
	}
	jw_object(j, "listen");
	for (r = 0; r < LISTEN_REASON_MAX; r++)
		all[r] = listen_stats_drops_total(ls, (int)r);
	json_listen_drops(j, "drops", all);
	json_listen_drops(j, "unattributed", ls->unattributed);
	jw_u64(j, "accept_queue_peak", listen_stats_peak(ls));
	jw_array(j, "ports");
	for (i = 0; i < ls->n; i++) {
		const struct listen_port *p = &ls->ports[i];

		jw_object(j, NULL);
		jw_u64(j, "port", p->port);
		jw_bool(j, "listening", p->live);
		jw_u64(j, "accept_queue", p->length);
		jw_u64(j, "accept_queue_peak", p->peak);
		jw_u64(j, "accept_queue_limit", p->limit);
		json_listen_drops(j, "drops", p->drops);
		jw_close(j);
	}
	jw_close(j);
	jw_close(j);
}

void json_summary_members(struct jw *j, const struct summary *s, const struct session_info *si)
{
	unsigned int i, k;

	jw_u64(j, "duration_ms", si->duration_ms);
	jw_object(j, "handshake");
	for (i = 0; i < 2; i++) {
		jw_object(j, side_name(i));
		json_hist(j, "latency", &s->handshake[i]);
		jw_u64(j, "retransmits", s->handshake_retransmits[i]);
		jw_u64(j, "estimated", s->handshake_estimated[i]);
		json_hist(j, "estimated_latency", &s->handshake_estimate[i]);
		jw_u64(j, "unmeasured", s->handshake_unmeasured[i]);
		jw_close(j);
	}
	jw_close(j);
	jw_object(j, "connect_failures");
	jw_u64(j, "total", summary_connect_failures(s));
	for (i = 0; i < SYNFIN_FAIL_REASON_MAX; i++)
		jw_u64(j, fail_reason_name(i), s->connect_fail[i]);
	jw_u64(j, "retransmits", s->connect_fail_retransmits);
	jw_close(j);
	jw_object(j, "closes");
	jw_u64(j, "total", summary_closes(s));
	for (i = 0; i < SYNFIN_INIT_MAX; i++) {
		jw_object(j, initiator_name(i));
		for (k = 0; k < SYNFIN_HOW_MAX; k++)
			jw_u64(j, how_name(k), s->closes[i][k]);
		jw_close(j);
	}
	jw_u64(j, "partial", s->closes_partial);
	jw_u64(j, "incomplete", s->closes_incomplete);
	jw_close(j);
	json_hist(j, "lifetime", &s->lifetime);
	jw_object(j, "close_wait");
	json_hist(j, "closed", &s->close_wait);
	jw_u64(j, "oldest_open_us", si->close_wait_oldest_us);
	jw_close(j);
	jw_object(j, "time_wait");
	jw_u64(j, "entries", s->tw_entries);
	jw_u64(j, "peak", s->tw_peak);
	jw_object(j, "ended");
	for (i = 0; i < SYNFIN_TW_END_MAX; i++)
		json_hist(j, tw_end_name(i), &s->time_wait[i]);
	jw_close(j);
	jw_object(j, "partial");
	for (i = 0; i < SYNFIN_TW_END_MAX; i++)
		jw_u64(j, tw_end_name(i), s->time_wait_partial[i]);
	jw_close(j);
	jw_close(j);
	jw_object(j, "sockets");
	for (i = 0; i < GAUGE_STATES; i++)
		jw_i64(j, gauge_state_label(gauge_states[i]), si->gauges[gauge_states[i]]);
	jw_close(j);
	jw_object(j, "events");
	for (i = 1; i < SYNFIN_EV_TYPE_MAX; i++)
		jw_u64(j, event_type_name(i), s->events[i]);
	jw_u64(j, "lost", si->lost);
	jw_u64(j, "untracked", si->untracked);
	jw_u64(j, "server_children_aborted", si->children_aborted);
	jw_u64(j, "syn_stale", si->syn_stale);
	jw_u64(j, "syn_unrecorded", si->syn_unrecorded);
	jw_u64(j, "malformed", s->malformed);
	jw_close(j);
	json_listen(j, si->listen);
	json_resets(j, si->resets);
	json_ports(j, si->ports);
	json_kernel_drift(j, &si->audit);
}

void json_kernel_drift(struct jw *j, const struct audit_result *a)
{
	unsigned int c;
	bool kernel_known;

	if (!a->present) {
		jw_null(j, "kernel_drift");
		return;
	}
	jw_object(j, "kernel_drift");
	jw_u64(j, "netns", a->netns);
	jw_object(j, "counters");
	for (c = 0; c < AUDIT_COUNTER_MAX; c++) {
		kernel_known = !(a->na[c] & (AUDIT_NA_NO_BASE | AUDIT_NA_NO_NOW));
		jw_object(j, audit_counter_name(c));
		jw_str(j, "kernel_counter", audit_counter_kernel(c));
		jw_u64(j, "synfin", a->synfin[c]);
		if (kernel_known)
			jw_u64(j, "kernel", a->kernel[c]);
		else
			jw_null(j, "kernel");
		if (a->na[c]) {
			jw_null(j, "drift");
			jw_str(j, "no_value", audit_na_text(a->na[c]));
		} else {
			jw_i64(j, "drift", a->drift[c]);
			jw_null(j, "no_value");
		}
		jw_close(j);
	}
	jw_close(j);
	jw_close(j);
}

void json_summary(FILE *f, const struct summary *s, const struct session_info *si)
{
	struct jw j;

	jw_init(&j, f);
	jw_object(&j, NULL);
	jw_str(&j, "type", "summary");
	jw_u64(&j, "schema_version", JSON_SCHEMA_VERSION);
	json_summary_members(&j, s, si);
	jw_close(&j);
	jw_end_line(&j);
}
