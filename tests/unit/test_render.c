// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Event formatting: the JSON field contract, escaping, and total enum tables. */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "format.h"
#include "render.h"
#include "synfin/conn_fsm.h"

static char *render(void (*fn)(FILE *, const struct synfin_event *), const struct synfin_event *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, e);
	fclose(f);
	return buf;
}

static void table_at_epoch(FILE *f, const struct synfin_event *e)
{
	table_event(f, e, 0);
}

static struct synfin_event handshake_v6(void)
{
	struct synfin_event e;

	memset(&e, 0, sizeof(e));
	e.type = SYNFIN_EV_HANDSHAKE;
	e.side = SYNFIN_SIDE_SERVER;
	e.ts_ns = 123456789;
	e.pid = 42;
	memcpy(e.comm, "nginx: \"w\"\\x\x01", 13);
	e.id.family = 6;
	inet_pton(AF_INET6, "2001:db8::1", e.id.laddr);
	inet_pton(AF_INET6, "::1", e.id.raddr);
	e.id.lport = 443;
	e.id.rport = 50000;
	e.id.netns = 4026531840u;
	e.hs.latency_us = 1234;
	e.hs.retransmits = 1;
	e.flags = SYNFIN_F_OWNER | SYNFIN_F_ESTIMATED;
	return e;
}

static void test_json_handshake_contract(void **state)
{
	struct synfin_event e = handshake_v6();
	char *s = render(json_event, &e);

	(void)state;
	assert_non_null(strstr(s, "{\"type\":\"handshake\",\"ts_ns\":123456789,"));
	assert_non_null(strstr(s, "\"side\":\"server\""));
	assert_non_null(strstr(s, "\"family\":6"));
	assert_non_null(strstr(s, "\"laddr\":\"2001:db8::1\",\"lport\":443"));
	assert_non_null(strstr(s, "\"raddr\":\"::1\",\"rport\":50000"));
	assert_non_null(strstr(s, "\"netns\":4026531840"));
	assert_non_null(strstr(s, "\"pid\":42"));
	/* comm is escaped: quote, backslash, control character */
	assert_non_null(strstr(s, "\"comm\":\"nginx: \\\"w\\\"\\\\x\\u0001\""));
	assert_non_null(strstr(s, "\"latency_us\":1234,\"retransmits\":1,\"estimated\":true"));
	assert_int_equal(s[strlen(s) - 1], '\n');
	free(s);
}

static void test_json_no_pid_is_null(void **state)
{
	struct synfin_event e = handshake_v6();
	char *s;

	(void)state;
	e.flags = SYNFIN_F_NO_PID;
	s = render(json_event, &e);
	assert_non_null(strstr(s, "\"pid\":null,\"comm\":null"));
	free(s);
}

static void test_json_connect_fail_and_close(void **state)
{
	struct synfin_event e = handshake_v6();
	char *s;

	(void)state;
	e.type = SYNFIN_EV_CONNECT_FAIL;
	e.side = SYNFIN_SIDE_CLIENT;
	e.reason = SYNFIN_FAIL_REFUSED;
	e.hs.sk_err = ECONNREFUSED;
	s = render(json_event, &e);
	assert_non_null(strstr(s, "\"type\":\"connect_fail\""));
	assert_non_null(strstr(s, "\"reason\":\"refused\",\"errno\":111"));
	free(s);

	memset(&e.close, 0, sizeof(e.close));
	e.type = SYNFIN_EV_CLOSE;
	e.close.initiator = SYNFIN_INIT_REMOTE;
	e.close.how = SYNFIN_HOW_FIN;
	e.close.last_state = SYNFIN_TCP_LAST_ACK;
	e.close.state_us[SYNFIN_CS_CLOSE_WAIT] = 5000;
	e.close.lifetime_us = 7000;
	e.flags = 0;
	s = render(json_event, &e);
	assert_non_null(strstr(s, "\"initiator\":\"remote\",\"how\":\"fin\",\"last_state\":\"LAST_ACK\""));
	assert_non_null(strstr(s, "\"close_wait_us\":5000"));
	assert_non_null(strstr(s, "\"fin_wait1_us\":0"));
	assert_non_null(strstr(s, "\"lifetime_us\":7000"));
	free(s);
	e.flags = SYNFIN_F_PARTIAL;
	s = render(json_event, &e);
	assert_non_null(strstr(s, "\"lifetime_us\":null"));
	assert_non_null(strstr(s, "\"partial\":true"));
	free(s);
}

/* A warning is a connection record like the others: the common fields, then its own. */
static void test_json_close_wait_warning(void **state)
{
	struct synfin_event e = handshake_v6();
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	e.type = SYNFIN_EV_STATE;
	e.cookie = 77;
	e.flags = SYNFIN_F_NO_PID;
	f = open_memstream(&buf, &len);
	json_close_wait_warning(f, &e, 2500000);
	fclose(f);
	assert_non_null(strstr(buf, "{\"type\":\"close_wait_warning\",\"ts_ns\":2623456789,"
				    "\"side\":\"server\",\"family\":6,\"laddr\":\"2001:db8::1\",\"lport\":443,"
				    "\"raddr\":\"::1\",\"rport\":50000,\"netns\":4026531840,\"cookie\":77,"
				    "\"pid\":null,\"comm\":null,\"partial\":false,\"age_us\":2500000}\n"));
	free(buf);
}

static void test_out_of_range_values_print_unknown(void **state)
{
	struct synfin_event e = handshake_v6();
	char buf[32], *s;

	(void)state;
	assert_string_equal(tcp_state_name(99, buf, sizeof(buf)), "UNKNOWN(99)");
	assert_string_equal(tcp_state_name(0, buf, sizeof(buf)), "UNKNOWN(0)");
	assert_string_equal(fail_reason_name(77), "UNKNOWN(77)");
	assert_string_equal(tw_end_name(4), "UNKNOWN(4)");
	assert_string_equal(event_type_name(0), "UNKNOWN(0)");
	e.type = SYNFIN_EV_CLOSE;
	e.close.last_state = 200;
	e.close.initiator = 3;
	s = render(table_at_epoch, &e);
	assert_non_null(strstr(s, "UNKNOWN(3)"));
	assert_non_null(strstr(s, "UNKNOWN(200)"));
	free(s);
}

static void test_table_line(void **state)
{
	struct synfin_event e = handshake_v6();
	char *s;

	(void)state;
	e.type = SYNFIN_EV_HANDSHAKE;
	s = render(table_at_epoch, &e);
	assert_non_null(strstr(s, "[2001:db8::1]:443"));
	assert_non_null(strstr(s, "[::1]:50000"));
	assert_non_null(strstr(s, "1.23ms"));
	assert_non_null(strstr(s, "estimated"));
	free(s);
}

/* What a process may name itself reaches the terminal escaped, never as control bytes. */
static void test_term_escape(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "nginx", "nginx" },
		{ "\x1b[2J\x1b[31mEVIL", "\\x1b[2J\\x1b[31mEVIL" },     /* C0: ESC */
		{ "a\tb\nc\x7f", "a\\x09b\\x0ac\\x7f" },            /* tab, newline, DEL */
		{ "bad\xff\xfename", "bad\\xff\\xfename" },           /* not UTF-8 */
		{ "\xc2\x9b" "2J", "\\xc2\\x9b2J" },                   /* C1 CSI, well-formed */
		{ "x\xe2\x80\xaey", "x\\xe2\\x80\\xaey" },          /* U+202E override */
		{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" }, /* UTF-8 as is */
		{ "back\\slash", "back\\\\slash" },                    /* '\' doubled */
		{ "\xe2\x82", "\\xe2\\x82" },                         /* truncated sequence */
	};
	char out[COMM_STR_LEN], comm[SYNFIN_COMM_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		term_escape(out, sizeof(out), cases[i].in, strlen(cases[i].in));
		assert_string_equal(out, cases[i].want);
	}
	/* a full 16-byte comm of control bytes, not NUL-terminated, fits escaped */
	memset(comm, 0x1b, sizeof(comm));
	comm_to_str(out, comm);
	assert_int_equal(strlen(out), 4 * SYNFIN_COMM_LEN);
	/* a small buffer cuts before an escape, never inside one */
	assert_int_equal(term_escape(out, 7, "ab\x1b\x1b", 4), 6);
	assert_string_equal(out, "ab\\x1b");
}

static void test_durations(void **state)
{
	char b[24];

	(void)state;
	format_duration_us(b, sizeof(b), 850);
	assert_string_equal(b, "850us");
	format_duration_us(b, sizeof(b), 12300);
	assert_string_equal(b, "12.3ms");
	format_duration_us(b, sizeof(b), 60120000);
	assert_string_equal(b, "60.1s");
}

/* IPv4 is formatted by hand (format.c says why): it must print exactly what inet_ntop()
 * prints, for every octet value in every position. */
static void test_ipv4_like_inet_ntop(void **state)
{
	char want[INET_ADDRSTRLEN], got[64];
	__u8 a[16] = { 0 };
	unsigned int v, pos;

	(void)state;
	for (pos = 0; pos < 4; pos++) {
		for (v = 0; v < 256; v++) {
			memcpy(a, (const __u8[]){ 10, 200, 3, 99 }, 4);
			a[pos] = (__u8)v;
			assert_non_null(inet_ntop(AF_INET, a, want, sizeof(want)));
			format_addr(got, sizeof(got), 4, a);
			assert_string_equal(got, want);
		}
	}
	memset(a, 255, 4);
	format_addr(got, sizeof(got), 4, a);
	assert_string_equal(got, "255.255.255.255");
	/* too small a buffer: "?" as for any address that cannot be shown, never a cut one */
	format_addr(got, 8, 4, a);
	assert_string_equal(got, "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_handshake_contract),
		cmocka_unit_test(test_json_no_pid_is_null),
		cmocka_unit_test(test_json_connect_fail_and_close),
		cmocka_unit_test(test_json_close_wait_warning),
		cmocka_unit_test(test_out_of_range_values_print_unknown),
		cmocka_unit_test(test_table_line),
		cmocka_unit_test(test_term_escape),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_ipv4_like_inet_ntop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
