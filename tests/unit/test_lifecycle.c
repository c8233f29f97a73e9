// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The lifecycle room fed with records captured from the real kernel (tests/fixtures, made
 * with `synfin watch --record`) and with hand-made broken sequences. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lifecycle.h"

/* loopback_mix.bin: one netns, loopback, recorded by tests/fixtures/README.md's scenario:
 * 5 client-first closes, 3 server-first closes, 2 refused connects, 1 SO_LINGER-0 abort by
 * the client, 1 server CLOSE_WAIT held 0.5 s. Kernel counters after it: ActiveOpens 12,
 * PassiveOpens 10, AttemptFails 2, EstabResets 2, 9 sockets in TIME-WAIT (ss). */
static size_t load_fixture(const char *path, struct synfin_event **out)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 64;
	struct synfin_event *v = malloc(cap * sizeof(*v));

	assert_non_null(f);
	while (fread(&v[n], sizeof(*v), 1, f) == 1)
		if (++n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
	fclose(f);
	*out = v;
	return n;
}

static struct summary *new_summary(void)
{
	return calloc(1, sizeof(struct summary));
}

static void test_fixture_counts_match_kernel(void **state)
{
	struct summary *s = new_summary();
	struct synfin_event *ev;
	size_t i, n = load_fixture("tests/fixtures/loopback_mix.bin", &ev);

	(void)state;
	for (i = 0; i < n; i++)
		assert_int_equal(summary_add(s, &ev[i]), 0);
	assert_int_equal(s->malformed, 0);
	/* ActiveOpens 12 = 10 handshakes + 2 refused; PassiveOpens 10 */
	assert_int_equal(s->handshake[SYNFIN_SIDE_CLIENT].count + s->connect_fail[SYNFIN_FAIL_REFUSED], 12);
	assert_int_equal(s->handshake[SYNFIN_SIDE_SERVER].count, 10);
	assert_int_equal(s->connect_fail[SYNFIN_FAIL_REFUSED], 2);
	/* each connection closes on both sides */
	assert_int_equal(s->events[SYNFIN_EV_CLOSE], 20);
	assert_int_equal(s->closes[SYNFIN_INIT_LOCAL][SYNFIN_HOW_FIN], 9);
	assert_int_equal(s->closes[SYNFIN_INIT_REMOTE][SYNFIN_HOW_FIN], 9);
	/* EstabResets 2: the aborting client and the reset server */
	assert_int_equal(s->closes[SYNFIN_INIT_LOCAL][SYNFIN_HOW_RST], 1);
	assert_int_equal(s->closes[SYNFIN_INIT_REMOTE][SYNFIN_HOW_RST], 1);
	/* 9 active closers went to TIME_WAIT (ss showed 9), none ended yet */
	assert_int_equal(s->tw_peak, 9);
	assert_int_equal(s->tw_live, 9);
	assert_int_equal(s->tw_entries, 9);
	/* 9 passive FIN closers visited CLOSE_WAIT; the held one for 0.5 s */
	assert_int_equal(s->close_wait.count, 9);
	assert_true(s->close_wait.max_us >= 500000 && s->close_wait.max_us < 600000);
	free(ev);
	free(s);
}

static void test_fixture_filters(void **state)
{
	struct synfin_event *ev;
	size_t i, n = load_fixture("tests/fixtures/loopback_mix.bin", &ev), kept = 0;
	struct filter port9 = { .port = 9 }, nobody = { .pid = 1 };

	(void)state;
	for (i = 0; i < n; i++) {
		if (lifecycle_wanted(&port9, &ev[i])) {
			kept++;
			assert_int_equal(ev[i].type, SYNFIN_EV_CONNECT_FAIL);
		}
		assert_false(lifecycle_wanted(&nobody, &ev[i]));
	}
	assert_int_equal(kept, 2);
	free(ev);
}

/* --cookie: one socket's records, its handshake and its close, and no other's. */
static void test_fixture_cookie_filter(void **state)
{
	struct synfin_event *ev;
	size_t i, n = load_fixture("tests/fixtures/loopback_mix.bin", &ev), kept = 0, first = n;
	struct filter one = { 0 };

	(void)state;
	for (i = 0; i < n && first == n; i++)
		if (ev[i].type == SYNFIN_EV_HANDSHAKE && ev[i].side == SYNFIN_SIDE_CLIENT && ev[i].cookie)
			first = i;
	assert_true(first < n);
	one.cookie = ev[first].cookie;
	for (i = 0; i < n; i++) {
		if (!lifecycle_wanted(&one, &ev[i]))
			continue;
		kept++;
		assert_int_equal(ev[i].id.lport, ev[first].id.lport);
		assert_int_equal(ev[i].id.rport, ev[first].id.rport);
		assert_true(ev[i].type == SYNFIN_EV_HANDSHAKE || ev[i].type == SYNFIN_EV_CLOSE);
	}
	assert_int_equal(kept, 2);
	free(ev);
}

static struct synfin_event valid_handshake(void)
{
	struct synfin_event e;

	memset(&e, 0, sizeof(e));
	e.type = SYNFIN_EV_HANDSHAKE;
	e.id.family = 4;
	e.hs.latency_us = 50;
	return e;
}

static void test_malformed_records_rejected(void **state)
{
	struct summary *s = new_summary();
	struct synfin_event e;

	(void)state;
	e = valid_handshake();
	e.type = 0;
	assert_int_equal(summary_add(s, &e), -EINVAL);
	e = valid_handshake();
	e.type = 200;
	assert_int_equal(summary_add(s, &e), -EINVAL);
	e = valid_handshake();
	e.id.family = 5;
	assert_int_equal(summary_add(s, &e), -EINVAL);
	e = valid_handshake();
	e.side = 7;
	assert_int_equal(summary_add(s, &e), -EINVAL);
	e = valid_handshake();
	e.hs.latency_us = UINT64_MAX; /* a negative duration computed in the kernel */
	assert_int_equal(summary_add(s, &e), -EINVAL);
	e = valid_handshake();
	e.type = SYNFIN_EV_CONNECT_FAIL;
	e.reason = SYNFIN_FAIL_REASON_MAX;
	assert_int_equal(summary_add(s, &e), -EINVAL);
	e = valid_handshake();
	e.type = SYNFIN_EV_CLOSE;
	e.close.initiator = 9;
	assert_int_equal(summary_add(s, &e), -EINVAL);
	e = valid_handshake();
	e.type = SYNFIN_EV_TIME_WAIT;
	e.tw.end = SYNFIN_TW_END_MAX;
	assert_int_equal(summary_add(s, &e), -EINVAL);
	assert_int_equal(s->malformed, 8);
	assert_int_equal(s->handshake[0].count, 0);
	e = valid_handshake();
	assert_int_equal(summary_add(s, &e), 0);
	assert_int_equal(s->handshake[0].count, 1);
	free(s);
}

/* synfin started mid-connection, or lost the close: a TIME_WAIT end arrives first. */
static void test_time_wait_end_without_entry(void **state)
{
	struct summary *s = new_summary();
	struct synfin_event e = valid_handshake();

	(void)state;
	e.type = SYNFIN_EV_TIME_WAIT;
	e.tw.end = SYNFIN_TW_EXPIRED;
	e.tw.duration_us = 60100000;
	assert_int_equal(summary_add(s, &e), 0);
	assert_int_equal(s->tw_live, 0); /* never negative */
	assert_int_equal(s->tw_entries, 0);
	assert_int_equal(s->time_wait[SYNFIN_TW_EXPIRED].count, 1);
	/* entries count every handover, also the ones that ended since */
	e.type = SYNFIN_EV_CLOSE;
	e.close.tw_handover = 1;
	assert_int_equal(summary_add(s, &e), 0);
	e.type = SYNFIN_EV_TIME_WAIT;
	assert_int_equal(summary_add(s, &e), 0);
	assert_int_equal(summary_add(s, &e), 0);
	assert_int_equal(s->tw_entries, 1);
	assert_int_equal(s->tw_live, 0);
	assert_int_equal(s->tw_peak, 1);
	free(s);
}

static void test_partial_close_has_no_lifetime(void **state)
{
	struct summary *s = new_summary();
	struct synfin_event e = valid_handshake();

	(void)state;
	e.type = SYNFIN_EV_CLOSE;
	e.flags = SYNFIN_F_PARTIAL;
	e.close.initiator = SYNFIN_INIT_REMOTE;
	e.close.state_us[SYNFIN_CS_CLOSE_WAIT] = 1000;
	assert_int_equal(summary_add(s, &e), 0);
	assert_int_equal(s->closes_partial, 1);
	assert_int_equal(s->lifetime.count, 0);
	assert_int_equal(s->close_wait.count, 1);
	free(s);
}

/* Only measured handshake latencies enter the latency histograms (issue 12: SYN-cookie
 * estimates read 31 ms for 60 us handshakes; unmeasured ones entered as 0 us). */
static void test_estimates_kept_apart(void **state)
{
	struct summary *s = new_summary();
	struct synfin_event e = valid_handshake();

	(void)state;
	e.side = SYNFIN_SIDE_SERVER;
	e.hs.latency_us = 40;
	assert_int_equal(handshake_kind(&e), HANDSHAKE_MEASURED);
	assert_int_equal(summary_add(s, &e), 0);
	e.flags = SYNFIN_F_ESTIMATED;
	e.hs.latency_us = 31000;
	e.hs.resolution_us = 64000;
	assert_int_equal(handshake_kind(&e), HANDSHAKE_ESTIMATED);
	assert_int_equal(summary_add(s, &e), 0);
	e.flags = SYNFIN_F_ESTIMATED | SYNFIN_F_UNMEASURED;
	e.hs.latency_us = 0;
	e.hs.resolution_us = 0;
	assert_int_equal(handshake_kind(&e), HANDSHAKE_UNMEASURED);
	assert_int_equal(summary_add(s, &e), 0);
	assert_int_equal(s->handshake[SYNFIN_SIDE_SERVER].count, 1);
	assert_int_equal(s->handshake[SYNFIN_SIDE_SERVER].max_us, 40);
	assert_int_equal(s->handshake_estimate[SYNFIN_SIDE_SERVER].count, 1);
	assert_int_equal(s->handshake_estimate[SYNFIN_SIDE_SERVER].max_us, 31000);
	assert_int_equal(s->handshake_estimated[SYNFIN_SIDE_SERVER], 2);
	assert_int_equal(s->handshake_unmeasured[SYNFIN_SIDE_SERVER], 1);
	assert_int_equal(s->events[SYNFIN_EV_HANDSHAKE], 3);
	free(s);
}

/* A TIME_WAIT found at start (seeded, PARTIAL) lasted longer than synfin saw. */
static void test_partial_time_wait_has_no_duration(void **state)
{
	struct summary *s = new_summary();
	struct synfin_event e = valid_handshake();

	(void)state;
	e.type = SYNFIN_EV_TIME_WAIT;
	e.flags = SYNFIN_F_PARTIAL | SYNFIN_F_NO_PID;
	e.tw.end = SYNFIN_TW_EXPIRED;
	e.tw.duration_us = 12000000;
	assert_int_equal(summary_add(s, &e), 0);
	assert_int_equal(s->time_wait[SYNFIN_TW_EXPIRED].count, 0);
	assert_int_equal(s->time_wait_partial[SYNFIN_TW_EXPIRED], 1);
	e.flags = 0;
	assert_int_equal(summary_add(s, &e), 0);
	assert_int_equal(s->time_wait[SYNFIN_TW_EXPIRED].count, 1);
	free(s);
}

static void test_tw_pending_resolve(void **state)
{
	struct synfin_event start = valid_handshake(), out;
	const uint64_t grace = 100000000;

	(void)state;
	start.type = SYNFIN_EV_TIME_WAIT;
	/* not cancelled: still alive */
	assert_false(tw_pending_resolve(&start, 1000, 0, 5000000000ULL, grace, &out));
	/* cancelled 50 ms ago: may still be a re-arm */
	assert_false(tw_pending_resolve(&start, 1000000000, 2000000000, 2050000000, grace, &out));
	/* clock before the cancel (records from another CPU): not resolved, no underflow */
	assert_false(tw_pending_resolve(&start, 1000000000, 2000000000, 1990000000, grace, &out));
	/* cancelled 150 ms ago: killed, lived from start to cancel */
	assert_true(tw_pending_resolve(&start, 1000000000, 2000000000, 2150000000, grace, &out));
	assert_int_equal(out.tw.end, SYNFIN_TW_KILLED);
	assert_int_equal(out.tw.duration_us, 1000000);
	assert_int_equal(out.ts_ns, 2000000000);
	/* cancel before start (corrupt entry): duration 0, never negative */
	assert_true(tw_pending_resolve(&start, 3000000000, 2000000000, 2150000000, grace, &out));
	assert_int_equal(out.tw.duration_us, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_counts_match_kernel),
		cmocka_unit_test(test_fixture_filters),
		cmocka_unit_test(test_fixture_cookie_filter),
		cmocka_unit_test(test_malformed_records_rejected),
		cmocka_unit_test(test_time_wait_end_without_entry),
		cmocka_unit_test(test_partial_close_has_no_lifetime),
		cmocka_unit_test(test_tw_pending_resolve),
		cmocka_unit_test(test_estimates_kept_apart),
		cmocka_unit_test(test_partial_time_wait_has_no_duration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
