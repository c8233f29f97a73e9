// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* user/ports.c: the ports-per-destination model, fed as user/kstate.c feeds it: each
 * destination's per-CPU shares. The shares are shaped as the 2-CPU machine of
 * tests/integration/test_port_headroom.sh reads them: connects on one CPU, TIME_WAIT ends
 * on the other, so a share alone goes negative. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "ports.h"

#define RANGE_1000 (40999u << 16 | 40000u)

static struct port_dest_key dest(uint16_t rport)
{
	struct port_dest_key k = { .netns = 4026532174u, .family = 4, .rport = rport,
				   .laddr = { 127, 0, 0, 1 }, .raddr = { 127, 0, 0, 1 } };
	return k;
}

static void read_one(struct port_headroom *h, uint16_t rport, int64_t cpu0, int64_t cpu1)
{
	struct port_dest cpus[2] = {
		{ .used = cpu0, .last_ns = 200, .range = RANGE_1000, .pid = 42, .comm = "tcpdrive" },
		{ .used = cpu1, .last_ns = 100, .range = RANGE_1000, .pid = 7, .comm = "old" },
	};
	struct port_dest_key k = dest(rport);

	ports_read_dest(h, &k, cpus, 2);
}

static unsigned int warned;
static const struct port_use *last_warned;

static void on_warn(void *ctx, const struct port_use *u)
{
	(void)ctx;
	warned++;
	last_warned = u;
}

static void test_sums_and_last_connect(void **state)
{
	struct port_headroom h = { 0 };

	(void)state;
	read_one(&h, 5011, 900, -150);
	ports_read_done(&h, 0, NULL, NULL);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.dests[0].used, 750);
	assert_int_equal(port_range_size(&h.dests[0]), 1000);
	/* pid and comm of the CPU whose connect() came last */
	assert_int_equal(h.dests[0].pid, 42);
	assert_string_equal(h.dests[0].comm, "tcpdrive");
	assert_int_equal(h.peak_used, 750);
	/* a share given back before the read reached the CPU that took it: never below 0 */
	read_one(&h, 5011, 0, -1);
	ports_read_done(&h, 0, NULL, NULL);
	assert_int_equal(h.dests[0].used, 0);
	assert_int_equal(h.peak_used, 750);
	ports_free(&h);
}

static void test_warns_once_per_crossing(void **state)
{
	struct port_headroom h = { 0 };

	(void)state;
	warned = 0;
	read_one(&h, 5011, 800, 0); /* 80% exactly: not past it */
	ports_read_done(&h, 80, on_warn, NULL);
	assert_int_equal(warned, 0);
	read_one(&h, 5011, 900, -99);
	ports_read_done(&h, 80, on_warn, NULL);
	assert_int_equal(warned, 1);
	assert_int_equal(last_warned->used, 801);
	read_one(&h, 5011, 1000, 0); /* still past: said already */
	ports_read_done(&h, 80, on_warn, NULL);
	assert_int_equal(warned, 1);
	read_one(&h, 5011, 500, 0); /* below again */
	ports_read_done(&h, 80, on_warn, NULL);
	read_one(&h, 5011, 999, 0); /* the next crossing */
	ports_read_done(&h, 80, on_warn, NULL);
	assert_int_equal(warned, 2);
	ports_free(&h);
}

static void test_given_back_by_the_sweep(void **state)
{
	struct port_headroom h = { 0 };
	struct port_dest_key k = dest(5011);

	(void)state;
	/* three kills the user-space sweep ended: the kernel's shares still count them */
	ports_given_back(&h, &k);
	ports_given_back(&h, &k);
	ports_given_back(&h, &k);
	read_one(&h, 5011, 20, 0);
	read_one(&h, 5012, 5, 0);
	ports_read_done(&h, 0, NULL, NULL);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.dests[0].key.rport, 5011); /* sorted by key */
	assert_int_equal(h.dests[0].used, 17);
	assert_int_equal(h.dests[1].used, 5);
	ports_free(&h);
}

static void test_top_most_first(void **state)
{
	const struct port_use *top[3];
	struct port_headroom h = { 0 };
	size_t n;

	(void)state;
	read_one(&h, 1, 10, 0);
	read_one(&h, 2, 0, 0); /* holds nothing: not listed */
	read_one(&h, 3, 30, 0);
	read_one(&h, 4, 20, 0);
	read_one(&h, 5, 40, 0);
	ports_read_done(&h, 0, NULL, NULL);
	n = ports_top(&h, top, 3);
	assert_int_equal(n, 3);
	assert_int_equal(top[0]->used, 40);
	assert_int_equal(top[1]->used, 30);
	assert_int_equal(top[2]->used, 20);
	assert_int_equal(ports_top(&h, top, 0), 0);
	ports_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sums_and_last_connect),
		cmocka_unit_test(test_warns_once_per_crossing),
		cmocka_unit_test(test_given_back_by_the_sweep),
		cmocka_unit_test(test_top_most_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
