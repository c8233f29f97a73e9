// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <string.h>
#include "format.h"
#include "render.h"

/* One event line is built in a buffer and written once: fprintf per field cost more than
 * everything else synfin does per event (make bench: watch CPU per 1k connections). */
struct jb {
	char buf[1024];
	size_t n;
};

static void jb_lit(struct jb *j, const char *s)
{
	size_t len = strlen(s);

	if (len > sizeof(j->buf) - j->n)
		len = sizeof(j->buf) - j->n;
	memcpy(j->buf + j->n, s, len);
	j->n += len;
}

static void jb_u64(struct jb *j, uint64_t v)
{
	char tmp[20];
	int i = 0;

	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i > 0 && j->n < sizeof(j->buf))
		j->buf[j->n++] = tmp[--i];
}

static void jb_i64(struct jb *j, int64_t v)
{
	if (v < 0) {
		jb_lit(j, "-");
		jb_u64(j, (uint64_t)0 - (uint64_t)v);
	} else {
		jb_u64(j, (uint64_t)v);
	}
}

/* ,"key":value */
static void jb_key(struct jb *j, const char *key)
{
	jb_lit(j, ",\"");
	jb_lit(j, key);
	jb_lit(j, "\":");
}

static void jb_key_u64(struct jb *j, const char *key, uint64_t v)
{
	jb_key(j, key);
	jb_u64(j, v);
}

static void jb_key_name(struct jb *j, const char *key, const char *name)
{
	jb_key(j, key);
	jb_lit(j, "\"");
	jb_lit(j, name); /* names from format.c tables: no characters that need escaping */
	jb_lit(j, "\"");
}

static void jb_key_bool(struct jb *j, const char *key, int v)
{
	jb_key(j, key);
	jb_lit(j, v ? "true" : "false");
}

static void jb_str(struct jb *j, const char *s)
{
	jb_lit(j, "\"");
	j->n += json_escape(j->buf + j->n, sizeof(j->buf) - j->n, s);
	jb_lit(j, "\"");
}

static void jb_common(struct jb *j, const struct synfin_event *e)
{
	char addr[ADDR_STR_LEN], comm[SYNFIN_COMM_LEN + 1];

	jb_lit(j, "{\"type\":\"");
	jb_lit(j, event_type_name(e->type));
	jb_lit(j, "\"");
	jb_key_u64(j, "ts_ns", e->ts_ns);
	if (e->type == SYNFIN_EV_HANDSHAKE || e->type == SYNFIN_EV_CONNECT_FAIL ||
	    e->type == SYNFIN_EV_CLOSE || e->type == SYNFIN_EV_TIME_WAIT)
		jb_key_name(j, "side", side_name(e->side));
	jb_key_u64(j, "family", e->id.family);
	format_addr(addr, sizeof(addr), e->id.family, e->id.laddr);
	jb_key_name(j, "laddr", addr);
	jb_key_u64(j, "lport", e->id.lport);
	format_addr(addr, sizeof(addr), e->id.family, e->id.raddr);
	jb_key_name(j, "raddr", addr);
	jb_key_u64(j, "rport", e->id.rport);
	jb_key_u64(j, "netns", e->id.netns);
	jb_key_u64(j, "cookie", e->cookie);
	if (e->flags & SYNFIN_F_NO_PID) {
		jb_lit(j, ",\"pid\":null,\"comm\":null");
	} else {
		comm_to_str(comm, e->comm);
		jb_key_u64(j, "pid", e->pid);
		jb_key(j, "comm");
		jb_str(j, comm);
	}
	jb_key_bool(j, "partial", e->flags & SYNFIN_F_PARTIAL);
}

void json_event(FILE *f, const struct synfin_event *e)
{
	struct jb j = { .n = 0 };
	unsigned int i;
	char buf[24];

	jb_common(&j, e);
	switch (e->type) {
	case SYNFIN_EV_HANDSHAKE:
		jb_key_u64(&j, "latency_us", e->hs.latency_us);
		jb_key_u64(&j, "retransmits", e->hs.retransmits);
		jb_key_bool(&j, "estimated", e->flags & SYNFIN_F_ESTIMATED);
		break;
	case SYNFIN_EV_CONNECT_FAIL:
		jb_key_u64(&j, "latency_us", e->hs.latency_us);
		jb_key_u64(&j, "retransmits", e->hs.retransmits);
		jb_key_name(&j, "reason", fail_reason_name(e->reason));
		jb_key(&j, "errno");
		jb_i64(&j, e->hs.sk_err);
		break;
	case SYNFIN_EV_CLOSE:
		jb_key_name(&j, "initiator", initiator_name(e->close.initiator));
		jb_key_name(&j, "how", how_name(e->close.how));
		jb_key_name(&j, "last_state", tcp_state_name(e->close.last_state, buf, sizeof(buf)));
		for (i = 0; i < SYNFIN_CS_MAX; i++)
			jb_key_u64(&j, close_state_field(i), e->close.state_us[i]);
		if (e->flags & SYNFIN_F_PARTIAL)
			jb_lit(&j, ",\"lifetime_us\":null");
		else
			jb_key_u64(&j, "lifetime_us", e->close.lifetime_us);
		jb_key_u64(&j, "bytes_acked", e->close.bytes_acked);
		jb_key_u64(&j, "bytes_received", e->close.bytes_received);
		jb_key_bool(&j, "time_wait", e->close.tw_handover);
		jb_key(&j, "errno");
		jb_i64(&j, e->close.sk_err);
		break;
	case SYNFIN_EV_TIME_WAIT:
		jb_key_u64(&j, "duration_us", e->tw.duration_us);
		jb_key_name(&j, "end", tw_end_name(e->tw.end));
		jb_key_name(&j, "substate", tcp_state_name(e->tw.substate, buf, sizeof(buf)));
		break;
	case SYNFIN_EV_STATE:
		jb_key_name(&j, "old_state", tcp_state_name(e->st.old_state, buf, sizeof(buf)));
		jb_key_name(&j, "new_state", tcp_state_name(e->st.new_state, buf, sizeof(buf)));
		break;
	}
	jb_lit(&j, "}\n");
	fwrite(j.buf, 1, j.n, f);
}

static void json_hist(FILE *f, const char *name, const struct hist *h)
{
	fprintf(f, "\"%s\":{\"count\":%" PRIu64 ",\"p50_us\":%" PRIu64 ",\"p90_us\":%" PRIu64
		   ",\"p99_us\":%" PRIu64 ",\"max_us\":%" PRIu64 ",\"min_us\":%" PRIu64
		   ",\"sum_us\":%" PRIu64 "}",
		name, h->count, hist_quantile(h, 0.5), hist_quantile(h, 0.9), hist_quantile(h, 0.99),
		h->max_us, h->count ? h->min_us : 0, h->sum_us);
}

void json_summary(FILE *f, const struct summary *s, const struct session_info *ri)
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
