// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* kstate's sweep over real BPF hash maps (created here: needs root, as make test runs).
 * bpf_map_get_next_key is wrapped (-Wl,--wrap) to count the walk's steps: after a delete,
 * the kernel restarts a hash walk from the first key, so a sweep that asks for the key after
 * one it just deleted visits the not-yet-due entries again for every due one (issue 12,
 * item 8: quadratic under many RST kills, and the drain waits for it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include "kstate.h"

static unsigned long next_key_calls;

int __real_bpf_map_get_next_key(int fd, const void *key, void *next_key);
int __wrap_bpf_map_get_next_key(int fd, const void *key, void *next_key)
{
	next_key_calls++;
	return __real_bpf_map_get_next_key(fd, key, next_key);
}

static unsigned int ended;
static unsigned int ended_holding_port;

static void count_end(void *ctx, const struct synfin_event *e, bool holds_port)
{
	(void)ctx;
	assert_int_equal(e->tw.end, SYNFIN_TW_KILLED);
	ended++;
	ended_holding_port += holds_port;
}

static void test_sweep_is_linear(void **state)
{
	enum { DUE = 2000, NOT_DUE = 2000 };
	const uint64_t grace = 100000000, now = 10000000000ULL;
	int tw_fd, pending_fd, n;
	struct tw_entry v;
	__u64 key, cancel;

	(void)state;
	tw_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_timewaits", sizeof(__u64), sizeof(v),
			       DUE + NOT_DUE, NULL);
	pending_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "t_tw_pending", sizeof(__u64),
				    sizeof(__u64), DUE + NOT_DUE, NULL);
	assert_true(tw_fd >= 0);
	assert_true(pending_fd >= 0);
	for (key = 1; key <= DUE + NOT_DUE; key++) {
		memset(&v, 0, sizeof(v));
		v.start_ns = 1000;
		/* odd keys were cancelled 1 s ago (due), even ones 1 ms ago (maybe a re-arm) */
		cancel = key % 2 ? now - 1000000000ULL : now - 1000000;
		v.cancel_ns = cancel;
		v.ev.type = SYNFIN_EV_TIME_WAIT;
		v.ev.id.family = 4;
		/* half the due ones a counted client connection's (bpf/ports.bpf.h) */
		v.wanted = SYNFIN_TW_WANTED | (key % 4 == 1 ? SYNFIN_TW_HOLDS_PORT : 0);
		assert_int_equal(bpf_map_update_elem(tw_fd, &key, &v, BPF_NOEXIST), 0);
		assert_int_equal(bpf_map_update_elem(pending_fd, &key, &cancel, BPF_NOEXIST), 0);
	}
	next_key_calls = 0;
	n = kstate_sweep_timewaits(tw_fd, pending_fd, now, grace, count_end, NULL);
	assert_int_equal(n, DUE);
	assert_int_equal(ended, DUE);
	assert_int_equal(ended_holding_port, DUE / 2); /* passed on, for the user-space give-back */
	/* one step per entry, plus the one that finds the end */
	if (next_key_calls > DUE + NOT_DUE + 1)
		fail_msg("the sweep took %lu steps for %d entries", next_key_calls, DUE + NOT_DUE);
	/* the ones not yet due are all still there */
	n = 0;
	for (key = 2; key <= DUE + NOT_DUE; key += 2)
		n += !bpf_map_lookup_elem(pending_fd, &key, &cancel);
	assert_int_equal(n, NOT_DUE);
	close(tw_fd);
	close(pending_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep_is_linear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
