// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include "format.h"
#include "listen_model.h"
#include "render.h"
#include "ports.h"
#include "resets.h"

#define SUMMARY_LABEL_WIDTH 22

void table_header(FILE *f)
{
	fprintf(f, "%-12s %-12s %-6s %-7s %-15s %-28s %-28s %9s %3s %s\n", "TIME", "EVENT", "SIDE",
		"PID", "COMM", "LOCAL", "REMOTE", "LATENCY", "RTX", "DETAIL");
}

static void time_of_day(char *buf, size_t len, uint64_t ts_ns, int64_t wall_offset_ns)
{
	int64_t wall = (int64_t)ts_ns + wall_offset_ns;
	time_t secs = (time_t)(wall / 1000000000);
	struct tm tm;

	localtime_r(&secs, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)((wall / 1000000) % 1000));
}

void table_event(FILE *f, const struct synfin_event *e, int64_t wall_offset_ns)
{
	char when[16], local[ADDR_STR_LEN + 8], remote[ADDR_STR_LEN + 8], comm[COMM_STR_LEN];
	char dur[24] = "-", rtx[12] = "-", detail[96] = "", pid[12] = "-", sbuf[24];
	unsigned int i;
	size_t n;

	time_of_day(when, sizeof(when), e->ts_ns, wall_offset_ns);
	format_endpoint(local, sizeof(local), e->id.family, e->id.laddr, e->id.lport);
	format_endpoint(remote, sizeof(remote), e->id.family, e->id.raddr, e->id.rport);
	if (e->flags & SYNFIN_F_NO_PID) {
		strcpy(comm, "-");
	} else {
		comm_to_str(comm, e->comm);
		snprintf(pid, sizeof(pid), "%u", e->pid);
	}
	switch (e->type) {
	case SYNFIN_EV_HANDSHAKE:
		snprintf(rtx, sizeof(rtx), "%u", e->hs.retransmits);
		if (handshake_kind(e) == HANDSHAKE_UNMEASURED) {
			snprintf(dur, sizeof(dur), "?");
			snprintf(detail, sizeof(detail), "unmeasured");
			break;
		}
		format_duration_us(dur, sizeof(dur), e->hs.latency_us);
		if (e->flags & SYNFIN_F_ESTIMATED) {
			char res[16];

			format_duration_us(res, sizeof(res), e->hs.resolution_us);
			snprintf(detail, sizeof(detail), "estimated (resolution %s)", res);
		}
		break;
	case SYNFIN_EV_CONNECT_FAIL:
		format_duration_us(dur, sizeof(dur), e->hs.latency_us);
		snprintf(rtx, sizeof(rtx), "%u", e->hs.retransmits);
		snprintf(detail, sizeof(detail), "%s (errno %d)", fail_reason_name(e->reason),
			 e->hs.sk_err);
		break;
	case SYNFIN_EV_CLOSE:
		if (!(e->flags & SYNFIN_F_PARTIAL))
			format_duration_us(dur, sizeof(dur), e->close.lifetime_us);
		n = (size_t)snprintf(detail, sizeof(detail), "%s %s from %s",
				     initiator_name(e->close.initiator), how_name(e->close.how),
				     tcp_state_name(e->close.last_state, sbuf, sizeof(sbuf)));
		if (rst_dir_name(e->close.rst_dir) && n < sizeof(detail))
			n += (size_t)snprintf(detail + n, sizeof(detail) - n, " rst %s %s",
					      rst_dir_name(e->close.rst_dir),
					      rst_reason_name(e->close.rst_reason));
		for (i = 0; i < SYNFIN_CS_MAX && n < sizeof(detail); i++) {
			char d[24];

			if (!e->close.state_us[i])
				continue;
			format_duration_us(d, sizeof(d), e->close.state_us[i]);
			n += (size_t)snprintf(detail + n, sizeof(detail) - n, " %.*s=%s",
					      (int)(strlen(close_state_field(i)) - 3),
					      close_state_field(i), d);
		}
		break;
	case SYNFIN_EV_TIME_WAIT:
		format_duration_us(dur, sizeof(dur), e->tw.duration_us);
		snprintf(detail, sizeof(detail), "%s", tw_end_name(e->tw.end));
		break;
	default:
		break;
	}
	fprintf(f, "%-12s %-12s %-6s %-7s %-15s %-28s %-28s %9s %3s %s\n", when,
		event_type_name(e->type), side_name(e->side), pid, comm, local, remote, dur, rtx,
		detail);
}

void table_close_wait_warning(FILE *f, const struct synfin_event *e, uint64_t age_us)
{
	char local[ADDR_STR_LEN + 8], remote[ADDR_STR_LEN + 8], comm[COMM_STR_LEN] = "-";
	char pid[12] = "-";

	format_endpoint(local, sizeof(local), e->id.family, e->id.laddr, e->id.lport);
	format_endpoint(remote, sizeof(remote), e->id.family, e->id.raddr, e->id.rport);
	if (!(e->flags & SYNFIN_F_NO_PID)) {
		comm_to_str(comm, e->comm);
		snprintf(pid, sizeof(pid), "%u", e->pid);
	}
	fprintf(f, "WARNING: %s <- %s (pid %s %s) in CLOSE_WAIT for %.1f s: the peer closed, the application has not called close()\n",
		local, remote, pid, comm, (double)age_us / 1e6);
}

void table_port_headroom_warning(FILE *f, const struct port_use *u, unsigned int pct)
{
	char local[ADDR_STR_LEN], remote[ADDR_STR_LEN + 8], comm[COMM_STR_LEN] = "-";
	char pid[12] = "-";

	format_addr(local, sizeof(local), u->key.family, u->key.laddr);
	format_endpoint(remote, sizeof(remote), u->key.family, u->key.raddr, u->key.rport);
	if (u->pid) {
		comm_to_str(comm, u->comm);
		snprintf(pid, sizeof(pid), "%u", u->pid);
	}
	fprintf(f, "WARNING: %s -> %s holds %" PRIu64 " of %u ephemeral ports (over %u%%; last connect by pid %s %s): new connects there fail with EADDRNOTAVAIL once all are taken\n",
		local, remote, u->used, port_range_size(u), pct, pid, comm);
}

void table_log2_hist(FILE *f, const struct hist *h, const char *title)
{
	unsigned int i, first = HIST_LOG2_SLOTS, last = 0, bar, width = 40;
	uint64_t n, peak = 0;

	for (i = 0; i < HIST_LOG2_SLOTS; i++) {
		n = hist_log2_count(h, i);
		if (!n)
			continue;
		if (i < first)
			first = i;
		last = i;
		if (n > peak)
			peak = n;
	}
	if (!peak)
		return;
	fprintf(f, "     %-19s : count    distribution (%s)\n", "usecs", title);
	for (i = first; i <= last; i++) {
		uint64_t lo = i ? 1ULL << i : 0, hi = (1ULL << (i + 1)) - 1;
		char stars[41];

		n = hist_log2_count(h, i);
		bar = (unsigned int)(n * width / peak);
		if (n && !bar)
			bar = 1;
		memset(stars, '*', bar);
		stars[bar] = '\0';
		fprintf(f, "%10" PRIu64 " -> %-10" PRIu64 " : %-8" PRIu64 " |%-40s|\n", lo, hi, n, stars);
	}
}

void table_quantiles(FILE *f, int label_width, const char *label, const struct hist *h)
{
	char p50[24], p90[24], p99[24], max[24];

	if (!h->count) { /* no samples: no quantiles, not zeros */
		fprintf(f, "  %-*s %8d\n", label_width, label, 0);
		return;
	}
	format_duration_us(p50, sizeof(p50), hist_quantile(h, 0.5));
	format_duration_us(p90, sizeof(p90), hist_quantile(h, 0.9));
	format_duration_us(p99, sizeof(p99), hist_quantile(h, 0.99));
	format_duration_us(max, sizeof(max), h->max_us);
	fprintf(f, "  %-*s %8" PRIu64 "   p50 %-9s p90 %-9s p99 %-9s max %s\n", label_width, label,
		h->count, p50, p90, p99, max);
}

void table_kernel_drift(FILE *f, const struct audit_result *a)
{
	unsigned int c;

	if (!a->present)
		return;
	for (c = 1; c < AUDIT_COUNTER_MAX && a->na[c] == a->na[0]; c++)
		;
	if (c == AUDIT_COUNTER_MAX && a->na[0]) { /* one reason for all: said once */
		fprintf(f, "  kernel drift, netns %u: no value: %s\n", a->netns, audit_na_text(a->na[0]));
		return;
	}
	fprintf(f, "  kernel drift, netns %u (synfin - kernel since start):\n", a->netns);
	for (c = 0; c < AUDIT_COUNTER_MAX; c++) {
		if (a->na[c]) {
			fprintf(f, "    %-14s %8s  no value: %s\n", audit_counter_name(c), "-",
				audit_na_text(a->na[c]));
			continue;
		}
		fprintf(f, "    %-14s %+8" PRId64 "  synfin %" PRIu64 ", %s %" PRIu64 "\n",
			audit_counter_name(c), a->drift[c], a->synfin[c], audit_counter_kernel(c),
			a->kernel[c]);
	}
}

/* One line per listening port seen: its queue and its drops by reason. */
static void table_listen(FILE *f, const struct listen_stats *ls)
{
	const uint64_t *d;
	unsigned int i;
	char label[48];

	if (!ls)
		return;
	for (i = 0; i < ls->n; i++) {
		const struct listen_port *p = &ls->ports[i];

		d = p->drops;
		snprintf(label, sizeof(label), "listen :%u", p->port);
		fprintf(f, "  %-22s queue %" PRIu64 "/%" PRIu64 " peak %" PRIu64 "   drops: accept "
			"queue full %" PRIu64 ", SYN queue full %" PRIu64 ", other %" PRIu64 "%s\n",
			label, p->length, p->limit, p->peak, d[LISTEN_ACCEPT_QUEUE_FULL],
			d[LISTEN_SYN_QUEUE_FULL], d[LISTEN_OTHER], p->live ? "" : " (closed)");
	}
	d = ls->unattributed;
	if (d[0] | d[1] | d[2])
		fprintf(f, "  %-22s drops: accept queue full %" PRIu64 ", SYN queue full %" PRIu64
			", other %" PRIu64 " (more than one port could have dropped them)\n",
			"listen unattributed", d[LISTEN_ACCEPT_QUEUE_FULL], d[LISTEN_SYN_QUEUE_FULL],
			d[LISTEN_OTHER]);
}

struct table_reset_ctx {
	FILE *f;
	unsigned int dir;
};

static void table_reset(unsigned int dir, unsigned int reason, unsigned int state, uint64_t n,
			void *cv)
{
	const struct table_reset_ctx *c = cv;
	char label[64], buf[24];

	if (dir != c->dir)
		return;
	snprintf(label, sizeof(label), "  %s %s", rst_reason_name(reason),
		 rst_state_name(state, buf, sizeof(buf)));
	fprintf(c->f, "  %-22s %8" PRIu64 "\n", label, n);
}

/* The peak, then the destinations holding most ports now. */
static void table_ports(FILE *f, const struct port_headroom *h)
{
	const struct port_use *top[5];
	char local[ADDR_STR_LEN], remote[ADDR_STR_LEN + 8];
	size_t i, n;

	if (!h || !h->peak_used)
		return;
	fprintf(f, "  %-22s %8" PRIu64 "   (of %u, most held toward one destination)\n",
		"ephemeral ports peak", h->peak_used, h->peak_range);
	n = ports_top(h, top, 5);
	for (i = 0; i < n; i++) {
		format_addr(local, sizeof(local), top[i]->key.family, top[i]->key.laddr);
		format_endpoint(remote, sizeof(remote), top[i]->key.family, top[i]->key.raddr,
				top[i]->key.rport);
		fprintf(f, "    %s -> %s: %" PRIu64 " of %u ports held now\n", local, remote,
			top[i]->used, port_range_size(top[i]));
	}
}

/* Resets by direction, then each reason and state under it. */
static void table_resets(FILE *f, const struct reset_counts *r)
{
	struct table_reset_ctx c = { f, SYNFIN_RST_SENT };

	if (!r)
		return;
	for (; c.dir <= SYNFIN_RST_RECEIVED; c.dir++) {
		if (!resets_total(r, c.dir))
			continue;
		fprintf(f, "  %-22s %8" PRIu64 "\n",
			c.dir == SYNFIN_RST_SENT ? "resets sent" : "resets received",
			resets_total(r, c.dir));
		resets_each(r, table_reset, &c);
	}
}

void table_summary(FILE *f, const struct summary *s, const struct session_info *ri)
{
	unsigned int i, j;
	char label[48];

	fprintf(f, "\nsynfin summary (%.1f s observed)\n", (double)ri->duration_ms / 1000);
	for (i = 0; i < 2; i++) {
		snprintf(label, sizeof(label), "handshakes %s", side_name(i));
		table_quantiles(f, SUMMARY_LABEL_WIDTH, label, &s->handshake[i]);
		if (s->handshake_estimate[i].count)
			table_quantiles(f, SUMMARY_LABEL_WIDTH, "  estimated, apart",
					&s->handshake_estimate[i]);
		if (s->handshake_unmeasured[i])
			fprintf(f, "  %-22s %8" PRIu64 "   (no latency: nothing to estimate from)\n",
				"  unmeasured", s->handshake_unmeasured[i]);
		fprintf(f, "  %-22s %8" PRIu64 "\n", i ? "SYN-ACK retransmits" : "SYN retransmits",
			s->handshake_retransmits[i]);
	}
	for (i = 0; i < SYNFIN_FAIL_REASON_MAX; i++) {
		if (!s->connect_fail[i])
			continue;
		snprintf(label, sizeof(label), "connect failed %s", fail_reason_name(i));
		fprintf(f, "  %-22s %8" PRIu64 "\n", label, s->connect_fail[i]);
	}
	for (i = 0; i < SYNFIN_INIT_MAX; i++)
		for (j = 0; j < SYNFIN_HOW_MAX; j++) {
			if (!s->closes[i][j])
				continue;
			snprintf(label, sizeof(label), "closes %s %s", initiator_name(i), how_name(j));
			fprintf(f, "  %-22s %8" PRIu64 "\n", label, s->closes[i][j]);
		}
	if (s->lifetime.count)
		table_quantiles(f, SUMMARY_LABEL_WIDTH, "connection lifetime", &s->lifetime);
	if (s->close_wait.count)
		table_quantiles(f, SUMMARY_LABEL_WIDTH, "CLOSE_WAIT", &s->close_wait);
	for (i = 0; i < SYNFIN_TW_END_MAX; i++) {
		if (!s->time_wait[i].count)
			continue;
		snprintf(label, sizeof(label), "TIME_WAIT %s", tw_end_name(i));
		table_quantiles(f, SUMMARY_LABEL_WIDTH, label, &s->time_wait[i]);
	}
	fprintf(f, "  %-22s %8" PRIu64 "\n", "TIME_WAIT peak", s->tw_peak);
	fprintf(f, "  sockets now:");
	for (i = 0; i < GAUGE_STATES; i++)
		fprintf(f, " %s=%" PRId64, gauge_state_label(gauge_states[i]), ri->gauges[gauge_states[i]]);
	fputc('\n', f);
	if (ri->close_wait_oldest_us) {
		char d[24];

		format_duration_us(d, sizeof(d), ri->close_wait_oldest_us);
		fprintf(f, "  %-22s %8s\n", "oldest CLOSE_WAIT", d);
	}
	fprintf(f, "  %-22s %8" PRIu64 "\n", "events lost", ri->lost);
	if (ri->untracked)
		fprintf(f, "  %-22s %8" PRIu64 "\n", "untracked (maps full)", ri->untracked);
	if (s->malformed)
		fprintf(f, "  %-22s %8" PRIu64 "\n", "malformed records", s->malformed);
	table_kernel_drift(f, &ri->audit);
	table_listen(f, ri->listen);
	table_resets(f, ri->resets);
	table_ports(f, ri->ports);
	for (i = 0; i < 2; i++) {
		if (!s->handshake[i].count)
			continue;
		fputc('\n', f);
		snprintf(label, sizeof(label), "%s handshake latency", side_name(i));
		table_log2_hist(f, &s->handshake[i], label);
	}
	for (i = 0; i < SYNFIN_TW_END_MAX; i++) {
		if (!s->time_wait[i].count)
			continue;
		fputc('\n', f);
		snprintf(label, sizeof(label), "TIME_WAIT duration, %s", tw_end_name(i));
		table_log2_hist(f, &s->time_wait[i], label);
	}
	if (s->close_wait.count) {
		fputc('\n', f);
		table_log2_hist(f, &s->close_wait, "CLOSE_WAIT duration");
	}
	if (s->lifetime.count) {
		fputc('\n', f);
		table_log2_hist(f, &s->lifetime, "connection lifetime");
	}
}
