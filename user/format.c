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
	   [SYNFIN_FAIL_RESET] = "reset")
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

void comm_to_str(char *out, const char *comm)
{
	size_t i;

	for (i = 0; i < SYNFIN_COMM_LEN && comm[i]; i++)
		out[i] = comm[i];
	out[i] = '\0';
}

void format_utc_ms(char *buf, size_t len, int64_t unix_ms)
{
	time_t secs = (time_t)(unix_ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(unix_ms % 1000));
}
