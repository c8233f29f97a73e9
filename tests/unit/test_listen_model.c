// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The listen-queue room: /proc/net/netstat text recorded on the real kernel
 * (tests/fixtures/README.md), the split by reason, attribution to one port, and the
 * per-port figures a walk leaves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include "listen_model.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void test_parse_recorded(void **state)
{
	struct listen_counters before, after;
	uint64_t split[LISTEN_REASON_MAX];
	char *b = slurp("tests/fixtures/netstat_listen_before.txt");
	char *a = slurp("tests/fixtures/netstat_listen_after.txt");

	(void)state;
	assert_int_equal(listen_netstat_parse(b, &before), 0);
	assert_int_equal(listen_netstat_parse(a, &after), 0);
	assert_int_equal(before.listen_drops, 0);
	assert_int_equal(after.listen_drops, 94);
	assert_int_equal(after.listen_overflows, 94);
	assert_int_equal(after.reqq_full_drops, 0);
	listen_split(&before, &after, split);
	assert_int_equal(split[LISTEN_ACCEPT_QUEUE_FULL], 94);
	assert_int_equal(split[LISTEN_SYN_QUEUE_FULL], 0);
	assert_int_equal(split[LISTEN_OTHER], 0);
	free(a);
	free(b);
}

static void test_parse_rejects(void **state)
{
	struct listen_counters c;

	(void)state;
	assert_int_equal(listen_netstat_parse("", &c), -EINVAL);
	/* names without their values line */
	assert_int_equal(listen_netstat_parse("TcpExt: ListenOverflows ListenDrops TCPReqQFullDrop\n",
					      &c), -EINVAL);
	/* a counter missing */
	assert_int_equal(listen_netstat_parse("TcpExt: ListenOverflows ListenDrops\n"
					      "TcpExt: 1 2\n", &c), -EINVAL);
	assert_int_equal(listen_netstat_parse("TcpExt: ListenOverflows ListenDrops TCPReqQFullDrop\n"
					      "TcpExt: 1 x 3\n", &c), -EINVAL);
	/* another group first, no trailing newline */
	assert_int_equal(listen_netstat_parse("IpExt: ListenDrops\nIpExt: 9\n"
					      "TcpExt: TCPReqQFullDrop A ListenDrops ListenOverflows\n"
					      "TcpExt: 3 7 12 5", &c), 0);
	assert_int_equal(c.listen_drops, 12);
	assert_int_equal(c.listen_overflows, 5);
	assert_int_equal(c.reqq_full_drops, 3);
}

static void test_split(void **state)
{
	struct listen_counters b = { 10, 4, 1 }, n = { 20, 9, 3 }, back = { 5, 1, 0 };
	uint64_t s[LISTEN_REASON_MAX];

	(void)state;
	listen_split(&b, &n, s);
	assert_int_equal(s[LISTEN_ACCEPT_QUEUE_FULL], 5);
	assert_int_equal(s[LISTEN_SYN_QUEUE_FULL], 2);
	assert_int_equal(s[LISTEN_OTHER], 3);
	/* counters that went back: nothing */
	listen_split(&b, &back, s);
	assert_int_equal(s[0] + s[1] + s[2], 0);
	/* read a moment apart, overflows ahead of drops: never more than the drops */
	n = (struct listen_counters){ 12, 8, 0 };
	listen_split(&b, &n, s);
	assert_int_equal(s[LISTEN_ACCEPT_QUEUE_FULL], 2);
	assert_int_equal(s[LISTEN_OTHER], 0);
}

/* The listen() hook's readings (synfin_listener.ns_at_listen) as counters, and the earliest
 * of several listeners' readings of one namespace: least by counter, even where one
 * listener's reading is behind in one counter and ahead in another (read a moment apart). */
static void test_counters_from_hook(void **state)
{
	const __u64 a[SYNFIN_NS_COUNTERS] = {
		[SYNFIN_NS_LISTEN_DROPS] = 94, [SYNFIN_NS_LISTEN_OVERFLOWS] = 90,
		[SYNFIN_NS_REQQ_FULL_DROPS] = 3,
	};
	const __u64 b[SYNFIN_NS_COUNTERS] = {
		[SYNFIN_NS_LISTEN_DROPS] = 141, [SYNFIN_NS_LISTEN_OVERFLOWS] = 88,
		[SYNFIN_NS_REQQ_FULL_DROPS] = 5,
	};
	struct listen_counters acc, c;

	(void)state;
	listen_counters_from_hook(a, &acc);
	assert_int_equal(acc.listen_drops, 94);
	assert_int_equal(acc.listen_overflows, 90);
	assert_int_equal(acc.reqq_full_drops, 3);
	listen_counters_from_hook(b, &c);
	listen_counters_earliest(&acc, &c);
	assert_int_equal(acc.listen_drops, 94);
	assert_int_equal(acc.listen_overflows, 88);
	assert_int_equal(acc.reqq_full_drops, 3);
	/* and the latest: most by counter */
	listen_counters_from_hook(a, &acc);
	listen_counters_latest(&acc, &c);
	assert_int_equal(acc.listen_drops, 141);
	assert_int_equal(acc.listen_overflows, 90);
	assert_int_equal(acc.reqq_full_drops, 5);
	/* the other way round, the same */
	listen_counters_from_hook(a, &acc);
	listen_counters_earliest(&c, &acc);
	assert_int_equal(c.listen_drops, 94);
	assert_int_equal(c.listen_overflows, 88);
	assert_int_equal(c.reqq_full_drops, 3);
}

static void test_attribute(void **state)
{
	const struct listen_port_obs only_unknown[] = { { 80, -1 } };
	const struct listen_port_obs only_still[] = { { 80, 0 } };
	const struct listen_port_obs one_moved[] = { { 80, 0 }, { 443, 1 }, { 22, 0 } };
	const struct listen_port_obs two_moved[] = { { 80, 1 }, { 443, 1 } };
	const struct listen_port_obs reuseport[] = { { 80, 1 }, { 80, 1 }, { 22, 0 } };
	const struct listen_port_obs closed[] = { { 443, 1 }, { 8080, -1 } };

	(void)state;
	assert_int_equal(listen_attribute(NULL, 0), LISTEN_UNATTRIBUTED);
	assert_int_equal(listen_attribute(only_unknown, 1), 80);
	/* the one listener did not count them: a listener synfin does not see did */
	assert_int_equal(listen_attribute(only_still, 1), LISTEN_UNATTRIBUTED);
	assert_int_equal(listen_attribute(one_moved, 3), 443);
	assert_int_equal(listen_attribute(two_moved, 2), LISTEN_UNATTRIBUTED);
	assert_int_equal(listen_attribute(reuseport, 3), 80);
	/* a port that closed in the interval may have dropped some too */
	assert_int_equal(listen_attribute(closed, 2), LISTEN_UNATTRIBUTED);
}

static void test_stats(void **state)
{
	static struct listen_stats s;
	const uint64_t d1[LISTEN_REASON_MAX] = { 94, 0, 0 }, d2[LISTEN_REASON_MAX] = { 1, 2, 3 };

	(void)state;
	listen_stats_begin_walk(&s);
	listen_stats_listener(&s, 7777, 3, 2);
	listen_stats_listener(&s, 80, 1, 128);
	listen_stats_listener(&s, 80, 4, 128); /* SO_REUSEPORT: summed */
	listen_stats_end_walk(&s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ports[1].length, 5);
	assert_int_equal(s.ports[1].limit, 256);
	listen_stats_begin_walk(&s);
	listen_stats_listener(&s, 80, 2, 128);
	listen_stats_end_walk(&s);
	assert_false(s.ports[0].live); /* 7777 closed: kept for its counters */
	assert_int_equal(s.ports[0].length, 0);
	assert_int_equal(s.ports[0].peak, 3);
	assert_int_equal(s.ports[1].peak, 5);
	assert_int_equal(listen_stats_peak(&s), 5);
	listen_stats_drops(&s, 7777, d1);
	listen_stats_drops(&s, LISTEN_UNATTRIBUTED, d2);
	assert_int_equal(s.ports[0].drops[LISTEN_ACCEPT_QUEUE_FULL], 94);
	assert_int_equal(listen_stats_drops_total(&s, -1), 100);
	assert_int_equal(listen_stats_drops_total(&s, LISTEN_SYN_QUEUE_FULL), 2);
	assert_string_equal(listen_reason_name(LISTEN_SYN_QUEUE_FULL), "syn_queue_full");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_recorded),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_counters_from_hook),
		cmocka_unit_test(test_attribute),
		cmocka_unit_test(test_stats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
