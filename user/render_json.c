// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include "format.h"
#include "render.h"

static void json_common(FILE *f, const struct synfin_event *e)
{
	char addr[ADDR_STR_LEN], comm[SYNFIN_COMM_LEN + 1];

	fprintf(f, "{\"type\":\"%s\",\"ts_ns\":%" PRIu64 ",", event_type_name(e->type),
		(uint64_t)e->ts_ns);
	if (e->type == SYNFIN_EV_HANDSHAKE || e->type == SYNFIN_EV_CONNECT_FAIL ||
	    e->type == SYNFIN_EV_CLOSE || e->type == SYNFIN_EV_TIME_WAIT)
		fprintf(f, "\"side\":\"%s\",", side_name(e->side));
	fprintf(f, "\"family\":%u,", e->id.family);
	format_addr(addr, sizeof(addr), e->id.family, e->id.laddr);
	fprintf(f, "\"laddr\":\"%s\",\"lport\":%u,", addr, e->id.lport);
	format_addr(addr, sizeof(addr), e->id.family, e->id.raddr);
	fprintf(f, "\"raddr\":\"%s\",\"rport\":%u,", addr, e->id.rport);
	fprintf(f, "\"netns\":%u,\"cookie\":%" PRIu64 ",", e->id.netns, (uint64_t)e->cookie);
	if (e->flags & SYNFIN_F_NO_PID) {
		fprintf(f, "\"pid\":null,\"comm\":null,");
	} else {
		comm_to_str(comm, e->comm);
		fprintf(f, "\"pid\":%u,\"comm\":", e->pid);
		json_string(f, comm);
		fputc(',', f);
	}
	fprintf(f, "\"partial\":%s", e->flags & SYNFIN_F_PARTIAL ? "true" : "false");
}

void json_event(FILE *f, const struct synfin_event *e)
{
	unsigned int i;
	char buf[24];

	json_common(f, e);
	switch (e->type) {
	case SYNFIN_EV_HANDSHAKE:
		fprintf(f, ",\"latency_us\":%" PRIu64 ",\"retransmits\":%u,\"estimated\":%s",
			(uint64_t)e->hs.latency_us, e->hs.retransmits,
			e->flags & SYNFIN_F_ESTIMATED ? "true" : "false");
		break;
	case SYNFIN_EV_CONNECT_FAIL:
		fprintf(f, ",\"latency_us\":%" PRIu64 ",\"retransmits\":%u,\"reason\":\"%s\",\"errno\":%d",
			(uint64_t)e->hs.latency_us, e->hs.retransmits, fail_reason_name(e->reason),
			e->hs.sk_err);
		break;
	case SYNFIN_EV_CLOSE:
		fprintf(f, ",\"initiator\":\"%s\",\"how\":\"%s\",\"last_state\":\"%s\"",
			initiator_name(e->close.initiator), how_name(e->close.how),
			tcp_state_name(e->close.last_state, buf, sizeof(buf)));
		for (i = 0; i < SYNFIN_CS_MAX; i++)
			fprintf(f, ",\"%s\":%" PRIu64, close_state_field(i), (uint64_t)e->close.state_us[i]);
		if (e->flags & SYNFIN_F_PARTIAL)
			fprintf(f, ",\"lifetime_us\":null");
		else
			fprintf(f, ",\"lifetime_us\":%" PRIu64, (uint64_t)e->close.lifetime_us);
		fprintf(f, ",\"bytes_acked\":%" PRIu64 ",\"bytes_received\":%" PRIu64
			   ",\"time_wait\":%s,\"errno\":%d",
			(uint64_t)e->close.bytes_acked, (uint64_t)e->close.bytes_received,
			e->close.tw_handover ? "true" : "false", e->close.sk_err);
		break;
	case SYNFIN_EV_TIME_WAIT:
		fprintf(f, ",\"duration_us\":%" PRIu64 ",\"end\":\"%s\",\"substate\":\"%s\"",
			(uint64_t)e->tw.duration_us, tw_end_name(e->tw.end),
			tcp_state_name(e->tw.substate, buf, sizeof(buf)));
		break;
	case SYNFIN_EV_STATE:
		fprintf(f, ",\"old_state\":\"%s\"", tcp_state_name(e->st.old_state, buf, sizeof(buf)));
		fprintf(f, ",\"new_state\":\"%s\"", tcp_state_name(e->st.new_state, buf, sizeof(buf)));
		break;
	}
	fputs("}\n", f);
}

static void json_hist(FILE *f, const char *name, const struct hist *h)
{
	fprintf(f, "\"%s\":{\"count\":%" PRIu64 ",\"p50_us\":%" PRIu64 ",\"p90_us\":%" PRIu64
		   ",\"p99_us\":%" PRIu64 ",\"max_us\":%" PRIu64 ",\"min_us\":%" PRIu64
		   ",\"sum_us\":%" PRIu64 "}",
		name, h->count, hist_quantile(h, 0.5), hist_quantile(h, 0.9), hist_quantile(h, 0.99),
		h->max_us, h->count ? h->min_us : 0, h->sum_us);
}

void json_summary(FILE *f, const struct summary *s, const struct run_info *ri)
{
	unsigned int i, j;

	fprintf(f, "{\"type\":\"summary\",\"duration_ms\":%" PRIu64 ",\"events\":{", ri->duration_ms);
	for (i = 1; i < SYNFIN_EV_TYPE_MAX; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i > 1 ? "," : "", event_type_name(i), s->events[i]);
	fprintf(f, "},\"lost\":%" PRIu64 ",\"untracked\":%" PRIu64 ",\"malformed\":%" PRIu64,
		ri->lost, ri->untracked, s->malformed);
	fputs(",\"handshake\":{", f);
	for (i = 0; i < 2; i++) {
		fprintf(f, "%s\"%s\":{", i ? "," : "", side_name(i));
		json_hist(f, "latency", &s->handshake[i]);
		fprintf(f, ",\"retransmits\":%" PRIu64 ",\"estimated\":%" PRIu64 "}",
			s->handshake_retransmits[i], s->handshake_estimated[i]);
	}
	fputs("},\"connect_fail\":{", f);
	for (i = 0; i < SYNFIN_FAIL_REASON_MAX; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", fail_reason_name(i), s->connect_fail[i]);
	fputs("},\"closes\":{", f);
	for (i = 0; i < SYNFIN_INIT_MAX; i++)
		for (j = 0; j < SYNFIN_HOW_MAX; j++)
			fprintf(f, "%s\"%s_%s\":%" PRIu64, i || j ? "," : "", initiator_name(i),
				how_name(j), s->closes[i][j]);
	fprintf(f, ",\"partial\":%" PRIu64 "},", s->closes_partial);
	json_hist(f, "lifetime", &s->lifetime);
	fputc(',', f);
	json_hist(f, "close_wait", &s->close_wait);
	fputs(",\"time_wait\":{", f);
	for (i = 0; i < SYNFIN_TW_END_MAX; i++) {
		if (i)
			fputc(',', f);
		json_hist(f, tw_end_name(i), &s->time_wait[i]);
	}
	fprintf(f, ",\"peak\":%" PRIu64 "},\"sockets\":{", s->tw_peak);
	for (i = 0; i < GAUGE_STATES; i++)
		fprintf(f, "%s\"%s\":%" PRId64, i ? "," : "", gauge_state_label(gauge_states[i]),
			ri->gauges[gauge_states[i]]);
	fprintf(f, "},\"close_wait_oldest_us\":%" PRIu64 "}\n", ri->close_wait_oldest_us);
}
