// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The teardown state machine that runs in the BPF program, fed transition sequences the
 * kernel produces (docs/kernel-notes.md, "TIME_WAIT" and "Teardown": observed with
 * inet_sock_set_state on 6.18) and broken ones (missing transitions, clocks from different
 * CPUs, mid-connection starts). */
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <linux/types.h>
#include <cmocka.h>
#include "synfin/conn_fsm.h"

struct step {
	int old, new;
	__u64 ms; /* time of the transition, ms after the handshake */
	int err;  /* sk_err at the transition */
};

#define MS 1000000ULL

static struct conn_fsm run(const struct step *s, size_t n)
{
	struct conn_fsm f;
	size_t i;

	memset(&f, 0, sizeof(f));
	f.state_ns = 1000 * MS; /* ESTABLISHED entered at t = 1 s */
	for (i = 0; i < n; i++)
		conn_fsm_step(&f, s[i].old, s[i].new, 1000 * MS + s[i].ms * MS, s[i].err);
	return f;
}

enum {
	EST = SYNFIN_TCP_ESTABLISHED, FW1 = SYNFIN_TCP_FIN_WAIT1, FW2 = SYNFIN_TCP_FIN_WAIT2,
	CLO = SYNFIN_TCP_CLOSE, CW = SYNFIN_TCP_CLOSE_WAIT, LA = SYNFIN_TCP_LAST_ACK,
	CLG = SYNFIN_TCP_CLOSING,
};

/* Orphaned active close: FIN_WAIT1 (close()), FIN_WAIT2 (ACK), then tcp_time_wait()'s
 * FIN_WAIT2 -> CLOSE before the peer even closed. */
static void test_active_close(void **state)
{
	static const struct step s[] = { { EST, FW1, 50, 0 }, { FW1, FW2, 52, 0 }, { FW2, CLO, 52, 0 } };
	struct conn_fsm f = run(s, 3);

	(void)state;
	assert_int_equal(f.initiator, SYNFIN_INIT_LOCAL);
	assert_int_equal(f.how, SYNFIN_HOW_FIN);
	assert_int_equal(f.state_us[SYNFIN_CS_FIN_WAIT1], 2000);
	assert_int_equal(f.state_us[SYNFIN_CS_FIN_WAIT2], 0);
	assert_int_equal(f.state_us[SYNFIN_CS_CLOSE_WAIT], 0);
}

/* Passive close: the peer's FIN (softirq), our close() 500 ms later, the ACK of our FIN. */
static void test_passive_close(void **state)
{
	static const struct step s[] = { { EST, CW, 10, 0 }, { CW, LA, 510, 0 }, { LA, CLO, 511, 0 } };
	struct conn_fsm f = run(s, 3);

	(void)state;
	assert_int_equal(f.initiator, SYNFIN_INIT_REMOTE);
	assert_int_equal(f.how, SYNFIN_HOW_FIN);
	assert_int_equal(f.state_us[SYNFIN_CS_CLOSE_WAIT], 500000);
	assert_int_equal(f.state_us[SYNFIN_CS_LAST_ACK], 1000);
}

/* Simultaneous close: FIN_WAIT1 -> CLOSING -> CLOSE (tcp_fin, then tcp_time_wait). */
static void test_simultaneous_close(void **state)
{
	static const struct step s[] = { { EST, FW1, 5, 0 }, { FW1, CLG, 6, 0 }, { CLG, CLO, 8, 0 } };
	struct conn_fsm f = run(s, 3);

	(void)state;
	assert_int_equal(f.initiator, SYNFIN_INIT_LOCAL);
	assert_int_equal(f.state_us[SYNFIN_CS_FIN_WAIT1], 1000);
	assert_int_equal(f.state_us[SYNFIN_CS_CLOSING], 2000);
}

/* SO_LINGER {1,0}: tcp_disconnect() goes ESTABLISHED -> CLOSE with sk_err 0 (ECONNRESET is
 * written after the transition); the peer sees tcp_reset(): sk_err ECONNRESET. */
static void test_linger0_both_sides(void **state)
{
	static const struct step us[] = { { EST, CLO, 20, 0 } };
	static const struct step peer[] = { { EST, CLO, 20, ECONNRESET } };
	struct conn_fsm a = run(us, 1), b = run(peer, 1);

	(void)state;
	assert_int_equal(a.initiator, SYNFIN_INIT_LOCAL);
	assert_int_equal(a.how, SYNFIN_HOW_RST);
	assert_int_equal(b.initiator, SYNFIN_INIT_REMOTE);
	assert_int_equal(b.how, SYNFIN_HOW_RST);
}

/* RST while we sit in CLOSE_WAIT: tcp_reset() stores EPIPE. The peer closed first (FIN). */
static void test_rst_in_close_wait(void **state)
{
	static const struct step s[] = { { EST, CW, 1, 0 }, { CW, CLO, 3001, EPIPE } };
	struct conn_fsm f = run(s, 2);

	(void)state;
	assert_int_equal(f.initiator, SYNFIN_INIT_REMOTE);
	assert_int_equal(f.how, SYNFIN_HOW_FIN); /* the first close signal was a FIN */
	assert_int_equal(f.state_us[SYNFIN_CS_CLOSE_WAIT], 3000000);
}

/* ss -K (tcp_abort): CLOSE with ECONNABORTED, our doing; keepalive give-up: ETIMEDOUT. */
static void test_local_aborts(void **state)
{
	static const struct step k[] = { { EST, CLO, 5, ECONNABORTED } };
	static const struct step t[] = { { EST, CLO, 3050, ETIMEDOUT } };
	struct conn_fsm a = run(k, 1), b = run(t, 1);

	(void)state;
	assert_int_equal(a.initiator, SYNFIN_INIT_LOCAL);
	assert_int_equal(a.how, SYNFIN_HOW_RST);
	assert_int_equal(b.initiator, SYNFIN_INIT_LOCAL);
}

/* Records reach the state machine with timestamps from different CPUs: a transition that
 * appears earlier than the state's entry adds nothing, never a huge unsigned wrap. */
static void test_clock_backwards_adds_nothing(void **state)
{
	struct conn_fsm f;

	(void)state;
	memset(&f, 0, sizeof(f));
	conn_fsm_step(&f, EST, CW, 5000 * MS, 0);
	conn_fsm_step(&f, CW, LA, 4999 * MS, 0);
	assert_int_equal(f.state_us[SYNFIN_CS_CLOSE_WAIT], 0);
	conn_fsm_step(&f, LA, CLO, 5001 * MS, 0);
	assert_int_equal(f.state_us[SYNFIN_CS_LAST_ACK], 2000);
}

/* Started mid-connection: nothing known (state_ns 0) until the first transition; the time
 * before it is not invented. */
static void test_unknown_entry_time(void **state)
{
	struct conn_fsm f;

	(void)state;
	memset(&f, 0, sizeof(f));
	conn_fsm_step(&f, CW, LA, 7000 * MS, 0);
	assert_int_equal(f.state_us[SYNFIN_CS_CLOSE_WAIT], 0);
	/* the initiator is not guessed from a state we did not see being entered */
	assert_int_equal(f.initiator, SYNFIN_INIT_UNKNOWN);
	conn_fsm_step(&f, LA, CLO, 7002 * MS, 0);
	assert_int_equal(f.state_us[SYNFIN_CS_LAST_ACK], 2000);
	assert_int_equal(f.initiator, SYNFIN_INIT_LOCAL); /* CLOSE without a FIN seen: abort */
}

/* Seeded from iter/tcp in FIN_WAIT2: the initiator is known (we sent the FIN), durations
 * count from the seed. */
static void test_seeded_mid_close(void **state)
{
	struct conn_fsm f;

	(void)state;
	memset(&f, 0, sizeof(f));
	conn_fsm_seed(&f, FW2, 100 * MS);
	conn_fsm_step(&f, FW2, CLO, 130 * MS, 0);
	assert_int_equal(f.initiator, SYNFIN_INIT_LOCAL);
	assert_int_equal(f.how, SYNFIN_HOW_FIN);
	assert_int_equal(f.state_us[SYNFIN_CS_FIN_WAIT2], 30000);
	memset(&f, 0, sizeof(f));
	conn_fsm_seed(&f, LA, 100 * MS);
	assert_int_equal(f.initiator, SYNFIN_INIT_REMOTE);
	memset(&f, 0, sizeof(f));
	conn_fsm_seed(&f, EST, 100 * MS);
	assert_int_equal(f.initiator, SYNFIN_INIT_UNKNOWN);
}

/* A lost middle transition (FIN_WAIT1 -> FIN_WAIT2 missing): the time is charged to the
 * last state known, never duplicated, and the total equals the elapsed time. */
static void test_missing_transition(void **state)
{
	static const struct step s[] = { { EST, FW1, 10, 0 }, { FW2, CLO, 40, 0 } };
	struct conn_fsm f = run(s, 2);
	__u64 total = 0;
	int i;

	(void)state;
	for (i = 0; i < SYNFIN_CS_MAX; i++)
		total += f.state_us[i];
	assert_int_equal(total, 30000);
	assert_int_equal(f.initiator, SYNFIN_INIT_LOCAL);
}

/* Out-of-range states from a future kernel: ignored for durations, no array overrun. */
static void test_unknown_states(void **state)
{
	struct conn_fsm f;
	int i;

	(void)state;
	memset(&f, 0, sizeof(f));
	conn_fsm_step(&f, 200, -5, 10 * MS, 0);
	conn_fsm_step(&f, -5, 99, 20 * MS, 0);
	for (i = 0; i < SYNFIN_CS_MAX; i++)
		assert_int_equal(f.state_us[i], 0);
	assert_int_equal(conn_fsm_closing_index(99), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_active_close),
		cmocka_unit_test(test_passive_close),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_linger0_both_sides),
		cmocka_unit_test(test_rst_in_close_wait),
		cmocka_unit_test(test_local_aborts),
		cmocka_unit_test(test_clock_backwards_adds_nothing),
		cmocka_unit_test(test_unknown_entry_time),
		cmocka_unit_test(test_seeded_mid_close),
		cmocka_unit_test(test_missing_transition),
		cmocka_unit_test(test_unknown_states),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
