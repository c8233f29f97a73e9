// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "format.h"
#include "synfin/conn_fsm.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *lookup(const char *const *names, size_t n, unsigned int v)
{
	static __thread char unknown[24];

	if (v < n && names[v])
		return names[v];
	snprintf(unknown, sizeof(unknown), "UNKNOWN(%u)", v);
	return unknown;
}

/* A name table: fn(v) is names[v], UNKNOWN(v) beyond it. */
#define NAME_TABLE(fn, ...)                                                                      \
	const char *fn(unsigned int v)                                                           \
	{                                                                                        \
		static const char *const names[] = { __VA_ARGS__ };                              \
		return lookup(names, ARRAY_SIZE(names), v);                                      \
	}

NAME_TABLE(event_type_name, [SYNFIN_EV_HANDSHAKE] = "handshake",
	   [SYNFIN_EV_CONNECT_FAIL] = "connect_fail", [SYNFIN_EV_CLOSE] = "close",
	   [SYNFIN_EV_TIME_WAIT] = "time_wait", [SYNFIN_EV_STATE] = "state")
NAME_TABLE(side_name, [SYNFIN_SIDE_CLIENT] = "client", [SYNFIN_SIDE_SERVER] = "server")
NAME_TABLE(fail_reason_name, [SYNFIN_FAIL_OTHER] = "other", [SYNFIN_FAIL_REFUSED] = "refused",
	   [SYNFIN_FAIL_TIMEOUT] = "timeout", [SYNFIN_FAIL_UNREACHABLE] = "unreachable",
	   [SYNFIN_FAIL_RESET] = "reset", [SYNFIN_FAIL_NO_PORT] = "no_port")
NAME_TABLE(initiator_name, [SYNFIN_INIT_UNKNOWN] = "unknown", [SYNFIN_INIT_LOCAL] = "local",
	   [SYNFIN_INIT_REMOTE] = "remote")
NAME_TABLE(how_name, [SYNFIN_HOW_FIN] = "fin", [SYNFIN_HOW_RST] = "rst")
NAME_TABLE(tw_end_name, [SYNFIN_TW_EXPIRED] = "expired", [SYNFIN_TW_REUSED] = "reused",
	   [SYNFIN_TW_KILLED] = "killed", [SYNFIN_TW_PURGED] = "purged")
NAME_TABLE(close_state_field, [SYNFIN_CS_FIN_WAIT1] = "fin_wait1_us",
	   [SYNFIN_CS_FIN_WAIT2] = "fin_wait2_us", [SYNFIN_CS_CLOSE_WAIT] = "close_wait_us",
	   [SYNFIN_CS_LAST_ACK] = "last_ack_us", [SYNFIN_CS_CLOSING] = "closing_us")
NAME_TABLE(gauge_state_label, [SYNFIN_TCP_ESTABLISHED] = "established",
	   [SYNFIN_TCP_SYN_SENT] = "syn_sent", [SYNFIN_TCP_SYN_RECV] = "syn_recv",
	   [SYNFIN_TCP_FIN_WAIT1] = "fin_wait1", [SYNFIN_TCP_FIN_WAIT2] = "fin_wait2",
	   [SYNFIN_TCP_TIME_WAIT] = "time_wait", [SYNFIN_TCP_CLOSE] = "close",
	   [SYNFIN_TCP_CLOSE_WAIT] = "close_wait", [SYNFIN_TCP_LAST_ACK] = "last_ack",
	   [SYNFIN_TCP_LISTEN] = "listen", [SYNFIN_TCP_CLOSING] = "closing")

/* Kernel TCP states past enum synfin_tcp_state (include/net/tcp_states.h): records never
 * carry them as a state of their own, but a name beats UNKNOWN(12). */
#define TCP_NEW_SYN_RECV (SYNFIN_TCP_CLOSING + 1)
#define TCP_BOUND_INACTIVE (SYNFIN_TCP_CLOSING + 2)

const char *tcp_state_name(unsigned int state, char *buf, size_t len)
{
	static const char *const names[] = {
		[SYNFIN_TCP_ESTABLISHED] = "ESTABLISHED", [SYNFIN_TCP_SYN_SENT] = "SYN_SENT",
		[SYNFIN_TCP_SYN_RECV] = "SYN_RECV",       [SYNFIN_TCP_FIN_WAIT1] = "FIN_WAIT1",
		[SYNFIN_TCP_FIN_WAIT2] = "FIN_WAIT2",     [SYNFIN_TCP_TIME_WAIT] = "TIME_WAIT",
		[SYNFIN_TCP_CLOSE] = "CLOSE",             [SYNFIN_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[SYNFIN_TCP_LAST_ACK] = "LAST_ACK",       [SYNFIN_TCP_LISTEN] = "LISTEN",
		[SYNFIN_TCP_CLOSING] = "CLOSING",         [TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
		[TCP_BOUND_INACTIVE] = "BOUND_INACTIVE",
	};
	if (state < ARRAY_SIZE(names) && names[state])
		return names[state];
	snprintf(buf, len, "UNKNOWN(%u)", state);
	return buf;
}

/* In the order `ss -tan` lists them: opening, established, closing. */
const unsigned int gauge_states[GAUGE_STATES] = {
	SYNFIN_TCP_SYN_SENT,   SYNFIN_TCP_SYN_RECV,   SYNFIN_TCP_ESTABLISHED,
	SYNFIN_TCP_FIN_WAIT1,  SYNFIN_TCP_FIN_WAIT2,  SYNFIN_TCP_TIME_WAIT,
	SYNFIN_TCP_CLOSE_WAIT, SYNFIN_TCP_LAST_ACK,   SYNFIN_TCP_CLOSING,
};

/* IPv4 by hand: glibc's inet_ntop() formats it with sprintf(), which was a quarter of
 * `synfin watch --json`'s CPU in make bench's storm (two addresses per record). Exactly
 * inet_ntop's output (tests/unit/test_render.c compares every octet value). */
static bool format_ipv4(char *buf, size_t len, const __u8 *a)
{
	char tmp[INET_ADDRSTRLEN], *d = tmp;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned int v = a[i];

		if (v >= 100)
			*d++ = (char)('0' + v / 100);
		if (v >= 10)
			*d++ = (char)('0' + v / 10 % 10);
		*d++ = (char)('0' + v % 10);
		*d++ = i < 3 ? '.' : '\0';
	}
	if ((size_t)(d - tmp) > len)
		return false;
	memcpy(buf, tmp, (size_t)(d - tmp));
	return true;
}

void format_addr(char *buf, size_t len, unsigned int family, const __u8 *addr)
{
	bool ok = family == 6 ? inet_ntop(AF_INET6, addr, buf, (socklen_t)len) != NULL
			      : format_ipv4(buf, len, addr);

	if (!ok)
		snprintf(buf, len, "?");
}

void format_endpoint(char *buf, size_t len, unsigned int family, const __u8 *addr, unsigned int port)
{
	char a[ADDR_STR_LEN];

	format_addr(a, sizeof(a), family, addr);
	if (family == 6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

void format_duration_us(char *buf, size_t len, uint64_t us)
{
	if (us < 1000)
		snprintf(buf, len, "%lluus", (unsigned long long)us);
	else if (us < 1000000)
		snprintf(buf, len, "%.3gms", (double)us / 1e3);
	else
		snprintf(buf, len, "%.3gs", (double)us / 1e6);
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, at
 * most U+10FFFF), or 0 when the bytes there are not one. */
size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0; /* overlong below U+0800 */
		else if (p[0] == 0xed)
			hi = 0x9f; /* U+D800..U+DFFF are surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90; /* overlong below U+10000 */
		else if (p[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (avail < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* Terminals act on C0 controls and DEL, on C1 controls (U+0080..U+009F: U+009B is CSI to
 * some of them), and bidi controls reorder what follows; a lone byte that is not UTF-8 can
 * combine with what comes next. Each becomes a visible \xHH per byte, and '\' itself \\, so
 * the shown form is unambiguous and a reader can recover the bytes. */
static bool shown_as_is(const unsigned char *p, size_t seq)
{
	if (seq == 2 && p[0] == 0xc2 && p[1] <= 0x9f)
		return false; /* C1 */
	if (seq == 3 && p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
		return false; /* U+202A..U+202E: embeddings and overrides */
	if (seq == 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return false; /* U+2066..U+2069: isolates */
	return true;
}

size_t term_escape(char *dst, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n = 0, seq, k;

	if (!cap)
		return 0;
	while (i < len && p[i]) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			if (n + 1 >= cap)
				break;
			dst[n++] = (char)p[i++];
			continue;
		}
		if (p[i] == '\\') {
			if (n + 2 >= cap)
				break;
			dst[n++] = '\\';
			dst[n++] = '\\';
			i++;
			continue;
		}
		seq = p[i] >= 0x80 ? utf8_seq_len(p + i, len - i) : 0;
		if (seq && shown_as_is(p + i, seq)) {
			if (n + seq >= cap)
				break;
			memcpy(dst + n, p + i, seq);
			n += seq;
			i += seq;
			continue;
		}
		/* escape the whole sequence, or the one byte that starts no sequence */
		for (k = 0, seq = seq ? seq : 1; k < seq; k++) {
			if (n + 4 >= cap)
				goto out;
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[p[i] >> 4];
			dst[n++] = hex[p[i] & 15];
			i++;
		}
	}
out:
	dst[n] = '\0';
	return n;
}

const char *term_str(char *buf, size_t cap, const char *s)
{
	term_escape(buf, cap, s, strlen(s));
	return buf;
}

void comm_to_str(char *out, const char *comm)
{
	term_escape(out, COMM_STR_LEN, comm, SYNFIN_COMM_LEN);
}

void format_utc_ms(char *buf, size_t len, int64_t unix_ms)
{
	time_t secs = (time_t)(unix_ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(unix_ms % 1000));
}
