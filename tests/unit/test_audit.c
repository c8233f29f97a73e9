// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The self-audit, pure: the parser on /proc/net/snmp and /proc/net/netstat as this kernel
 * wrote them (tests/fixtures/), bad text, and the drift of a recorded session against the
 * counters its namespace showed (loopback_mix.bin: drift 0 on every counter), with records
 * taken away (lost) and filters (no value, never a 0). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "audit.h"
#include "lifecycle.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;

	assert_non_null(f);
	buf = malloc(1 << 16);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static void parse_files(const char *snmp, const char *netstat, struct audit_kernel *k)
{
	size_t len;
	char *t;

	memset(k, 0, sizeof(*k));
	t = slurp(snmp, &len);
	assert_int_equal(audit_parse(t, len, k), 0);
	free(t);
	t = slurp(netstat, &len);
	assert_int_equal(audit_parse(t, len, k), 0);
	free(t);
}

/* A fresh namespace, then 3 connects to a closed port (tests/fixtures/README.md). */
static void test_parse_fixtures(void **state)
{
	struct audit_kernel a, b;

	(void)state;
	parse_files("tests/fixtures/netns_snmp_before.txt", "tests/fixtures/netns_netstat_before.txt", &a);
	parse_files("tests/fixtures/netns_snmp_after.txt", "tests/fixtures/netns_netstat_after.txt", &b);
	assert_int_equal(a.found, AUDIT_F_ALL);
	assert_int_equal(b.found, AUDIT_F_ALL);
	assert_int_equal(a.f[AUDIT_F_ACTIVE_OPENS], 0);
	assert_int_equal(b.f[AUDIT_F_ACTIVE_OPENS], 3);
	assert_int_equal(b.f[AUDIT_F_ATTEMPT_FAILS], 3);
	assert_int_equal(b.f[AUDIT_F_PASSIVE_OPENS], 0);
	assert_int_equal(b.f[AUDIT_F_TW], 0);
	/* the host's: values the fixture holds (Tcp: ... 29 11 5 10 ...) */
	parse_files("tests/fixtures/host_snmp.txt", "tests/fixtures/host_netstat.txt", &a);
	assert_int_equal(a.found, AUDIT_F_ALL);
	assert_int_equal(a.f[AUDIT_F_ACTIVE_OPENS], 29);
	assert_int_equal(a.f[AUDIT_F_PASSIVE_OPENS], 11);
	assert_int_equal(a.f[AUDIT_F_ATTEMPT_FAILS], 5);
	assert_int_equal(a.f[AUDIT_F_ESTAB_RESETS], 10);
	assert_int_equal(a.f[AUDIT_F_EMBRYONIC_RSTS], 5);
}

static int parse_str(const char *s, struct audit_kernel *k)
{
	memset(k, 0, sizeof(*k));
	return audit_parse(s, strlen(s), k);
}

static void test_parse_bad_text(void **state)
{
	struct audit_kernel k;

	(void)state;
	/* the fields are found by name, wherever they stand */
	assert_int_equal(parse_str("Tcp: MaxConn EstabResets ActiveOpens\nTcp: -1 7 9\n", &k), 0);
	assert_int_equal(k.f[AUDIT_F_ACTIVE_OPENS], 9);
	assert_int_equal(k.f[AUDIT_F_ESTAB_RESETS], 7);
	assert_int_equal(k.found, (1u << AUDIT_F_ACTIVE_OPENS) | (1u << AUDIT_F_ESTAB_RESETS));
	/* a group of the same name elsewhere is not Tcp */
	assert_int_equal(parse_str("Udp: ActiveOpens\nUdp: 4\n", &k), 0);
	assert_int_equal(k.found, 0);
	assert_int_equal(parse_str("Tcp: ActiveOpens PassiveOpens\nTcp: 1\n", &k), -EINVAL);
	assert_int_equal(parse_str("Tcp: ActiveOpens\nTcp: 1 2\n", &k), -EINVAL);
	assert_int_equal(parse_str("Tcp: ActiveOpens\n", &k), -EINVAL);
	assert_int_equal(parse_str("Tcp: ActiveOpens\nIp: 1\n", &k), -EINVAL);
	assert_int_equal(parse_str("Tcp: ActiveOpens\nTcp: x1\n", &k), -EINVAL);
	assert_int_equal(parse_str("Tcp: ActiveOpens\nTcp: -1\n", &k), -EINVAL);
	assert_int_equal(parse_str("Tcp: ActiveOpens\nTcp: 99999999999999999999999\n", &k), -EINVAL);
	assert_int_equal(parse_str("no colon here\nnor here\n", &k), -EINVAL);
	assert_int_equal(parse_str("", &k), 0);
	/* without the final newline */
	assert_int_equal(parse_str("TcpExt: TW TWKilled\nTcpExt: 5 6", &k), 0);
	assert_int_equal(k.f[AUDIT_F_TW], 5);
	assert_int_equal(k.f[AUDIT_F_TW_KILLED], 6);
}

static size_t load_fixture(struct synfin_event **out)
{
	FILE *f = fopen("tests/fixtures/loopback_mix.bin", "rb");
	struct synfin_event *v = calloc(256, sizeof(*v));
	size_t n = 0;

	assert_non_null(f);
	assert_non_null(v);
	while (n < 256 && fread(&v[n], sizeof(*v), 1, f) == 1)
		n++;
	fclose(f);
	*out = v;
	return n;
}

/* The namespace's counters after loopback_mix.bin's scenario (tests/fixtures/README.md):
 * ActiveOpens 12, PassiveOpens 10, AttemptFails 2, EstabResets 2, 9 TIME-WAITs. */
static void kernel_after(struct audit_kernel *k)
{
	memset(k, 0, sizeof(*k));
	k->found = AUDIT_F_ALL;
	k->f[AUDIT_F_ACTIVE_OPENS] = 12;
	k->f[AUDIT_F_PASSIVE_OPENS] = 10;
	k->f[AUDIT_F_ATTEMPT_FAILS] = 2;
	k->f[AUDIT_F_ESTAB_RESETS] = 2;
	k->f[AUDIT_F_TW] = 9;
}

static void replay(struct audit *a, unsigned int na, size_t skip_type, size_t skip_n,
		   size_t *skipped)
{
	struct audit_kernel base = { .found = AUDIT_F_ALL };
	struct synfin_event *ev;
	size_t i, n = load_fixture(&ev);

	assert_true(n > 0);
	audit_init(a, ev[0].id.netns, true, na);
	audit_set_base(a, &base, 0);
	*skipped = 0;
	for (i = 0; i < n; i++) {
		assert_int_equal(lifecycle_validate(&ev[i]), 0);
		if (ev[i].type == skip_type && *skipped < skip_n) {
			(*skipped)++; /* lost on the way */
			continue;
		}
		audit_add(a, &ev[i]);
	}
	free(ev);
}

static void test_recorded_session_drifts_0(void **state)
{
	struct audit_extra x = { 0 };
	struct audit_kernel now;
	struct audit_result r;
	struct audit a;
	size_t skipped;
	unsigned int c;

	(void)state;
	replay(&a, 0, 0, 0, &skipped);
	kernel_after(&now);
	audit_compute(&a, &now, &x, &r);
	assert_true(r.present);
	for (c = 0; c < AUDIT_COUNTER_MAX; c++) {
		assert_int_equal(r.na[c], 0);
		assert_int_equal(r.drift[c], 0);
	}
	assert_int_equal(r.kernel[AUDIT_ACTIVE_OPENS], 12);
	assert_int_equal(r.synfin[AUDIT_TIME_WAIT], 9);
	/* another namespace's records do not count here */
	{
		struct synfin_event e = { .type = SYNFIN_EV_HANDSHAKE, .id.netns = a.netns + 1 };

		audit_add(&a, &e);
		audit_compute(&a, &now, &x, &r);
		assert_int_equal(r.drift[AUDIT_ACTIVE_OPENS], 0);
	}
}

/* Lost records show as negative drift, one for one: 2 refused connects taken away are
 * missing from active_opens and attempt_fails. */
static void test_lost_records_drift(void **state)
{
	struct audit_kernel now;
	struct audit_result r;
	struct audit a;
	size_t skipped;

	(void)state;
	replay(&a, 0, SYNFIN_EV_CONNECT_FAIL, 2, &skipped);
	assert_int_equal(skipped, 2);
	kernel_after(&now);
	audit_compute(&a, &now, NULL, &r);
	assert_int_equal(r.drift[AUDIT_ACTIVE_OPENS], -2);
	assert_int_equal(r.drift[AUDIT_ATTEMPT_FAILS], -2);
	assert_int_equal(r.drift[AUDIT_PASSIVE_OPENS], 0);
	/* 3 closes lost: the ones handed to TIME_WAIT among them show there */
	replay(&a, 0, SYNFIN_EV_HANDSHAKE, 3, &skipped);
	audit_compute(&a, &now, NULL, &r);
	assert_int_equal(r.drift[AUDIT_ACTIVE_OPENS] + r.drift[AUDIT_PASSIVE_OPENS], -3);
}

/* What the kernel counted that synfin has no record of, by design: aborted children and
 * connects still in SYN_SENT (exact only when the records are this namespace's alone). */
static void test_extras(void **state)
{
	struct audit_extra x = { .children_aborted = 2, .syn_sent = 1 };
	struct audit_kernel now;
	struct audit_result r;
	struct audit a;
	size_t skipped;

	(void)state;
	replay(&a, 0, 0, 0, &skipped);
	kernel_after(&now);
	now.f[AUDIT_F_PASSIVE_OPENS] += 2;
	now.f[AUDIT_F_ACTIVE_OPENS] += 1;
	audit_compute(&a, &now, &x, &r);
	assert_int_equal(r.drift[AUDIT_PASSIVE_OPENS], 0);
	assert_int_equal(r.drift[AUDIT_ACTIVE_OPENS], 0);
	/* server requests reset in SYN_RECV: in AttemptFails and EmbryonicRsts */
	now.f[AUDIT_F_ATTEMPT_FAILS] += 4;
	now.f[AUDIT_F_EMBRYONIC_RSTS] += 4;
	audit_compute(&a, &now, &x, &r);
	assert_int_equal(r.drift[AUDIT_ATTEMPT_FAILS], 0);
	/* watching every namespace, the aborted children may be anyone's: no value */
	a.netns_only = false;
	audit_compute(&a, &now, &x, &r);
	assert_int_equal(r.na[AUDIT_PASSIVE_OPENS], AUDIT_NA_ABORTED);
	assert_int_equal(r.na[AUDIT_ACTIVE_OPENS], 0);
	assert_int_equal(r.drift[AUDIT_ACTIVE_OPENS], -1); /* the connect in flight */
}

static void test_no_value(void **state)
{
	struct audit_kernel now;
	struct audit_result r;
	struct audit a;
	size_t skipped;
	unsigned int c;

	(void)state;
	kernel_after(&now);
	replay(&a, AUDIT_NA_CGROUP, 0, 0, &skipped);
	audit_compute(&a, &now, NULL, &r);
	for (c = 0; c < AUDIT_COUNTER_MAX; c++) {
		assert_true(r.na[c] & AUDIT_NA_CGROUP);
		assert_int_equal(r.drift[c], 0); /* unset, and never read without na == 0 */
	}
	assert_string_equal(audit_na_text(r.na[0]),
			    "synfin run counts CMD's cgroup only, the kernel the whole namespace");
	replay(&a, AUDIT_NA_NO_TW, 0, 0, &skipped);
	audit_compute(&a, &now, NULL, &r);
	assert_int_equal(r.na[AUDIT_TIME_WAIT], AUDIT_NA_NO_TW);
	assert_int_equal(r.na[AUDIT_ESTAB_RESETS], 0);
	/* a kernel that counts TcpExtTW at the end (5.10): time_wait alone has no value */
	replay(&a, AUDIT_NA_TW_AT_END, 0, 0, &skipped);
	audit_compute(&a, &now, NULL, &r);
	assert_int_equal(r.na[AUDIT_TIME_WAIT], AUDIT_NA_TW_AT_END);
	assert_int_equal(r.na[AUDIT_ACTIVE_OPENS], 0);
	assert_string_equal(audit_na_text(r.na[AUDIT_TIME_WAIT]),
			    "this kernel counts TcpExtTW when a TIME_WAIT ends, not when it starts");
	/* counters unreadable now, or a counter that went backwards (not the same namespace) */
	replay(&a, 0, 0, 0, &skipped);
	audit_compute(&a, NULL, NULL, &r);
	assert_true(r.na[AUDIT_ACTIVE_OPENS] & AUDIT_NA_NO_NOW);
	a.base.f[AUDIT_F_TW] = 100;
	audit_compute(&a, &now, NULL, &r);
	assert_true(r.na[AUDIT_ESTAB_RESETS] & AUDIT_NA_NO_NOW);
	/* a baseline missing a field */
	audit_init(&a, 1, true, 0);
	now.found &= ~(1u << AUDIT_F_TW_KILLED);
	audit_set_base(&a, &now, 0);
	audit_compute(&a, &now, NULL, &r);
	assert_true(r.na[AUDIT_ACTIVE_OPENS] & AUDIT_NA_NO_BASE);
}

/* A refused connect (ActiveOpens when it starts, AttemptFails when it fails) at ts, that
 * took latency_us. */
static struct synfin_event refused(uint32_t netns, uint64_t ts_ns, uint64_t latency_us)
{
	struct synfin_event e = { .type = SYNFIN_EV_CONNECT_FAIL, .side = SYNFIN_SIDE_CLIENT,
				  .reason = SYNFIN_FAIL_REFUSED, .ts_ns = ts_ns, .id.netns = netns };

	e.hs.latency_us = latency_us;
	return e;
}

/* The counters are read at an instant; records of what happened across it must be compared
 * as the kernel counted it then (synfin check --live once read drift +1 on active_opens and
 * attempt_fails: a connect made and refused between the attach and the base read). */
static void test_records_across_the_reads(void **state)
{
	struct audit_kernel base = { .found = AUDIT_F_ALL }, now = base;
	struct synfin_event e;
	struct audit_result r;
	struct audit a;

	(void)state;
	audit_init(&a, 7, true, 0);
	audit_set_base(&a, &base, 1000000); /* read at t = 1 ms */
	e = refused(7, 900000, 50); /* over before the base read: in it already */
	audit_add(&a, &e);
	e = refused(7, 1010000, 20); /* started just before the base read, refused after */
	audit_add(&a, &e);
	e = refused(7, 2000000, 30); /* after */
	audit_add(&a, &e);
	/* since the base the kernel counted the last one's open, and both later failures */
	now.f[AUDIT_F_ACTIVE_OPENS] = 1;
	now.f[AUDIT_F_ATTEMPT_FAILS] = 2;
	audit_compute(&a, &now, NULL, &r);
	assert_int_equal(r.drift[AUDIT_ACTIVE_OPENS], 0);
	assert_int_equal(r.drift[AUDIT_ATTEMPT_FAILS], 0);

	/* a later read at t = 3 ms: one refused connect drained after it is left out of this
	 * comparison (the kernel's counters were read before it), and counted in the next */
	audit_cut(&a, 3000000);
	e = refused(7, 3100000, 40);
	audit_add(&a, &e);
	audit_compute(&a, &now, NULL, &r);
	assert_int_equal(r.drift[AUDIT_ACTIVE_OPENS], 0);
	assert_int_equal(r.drift[AUDIT_ATTEMPT_FAILS], 0);
	audit_cut(&a, 0);
	now.f[AUDIT_F_ACTIVE_OPENS] = 2;
	now.f[AUDIT_F_ATTEMPT_FAILS] = 3;
	audit_cut(&a, 4000000);
	audit_compute(&a, &now, NULL, &r);
	assert_int_equal(r.drift[AUDIT_ACTIVE_OPENS], 0);
	assert_int_equal(r.drift[AUDIT_ATTEMPT_FAILS], 0);
	/* one that started before the cut and failed after it: the kernel has its open, not
	 * yet its failure */
	audit_cut(&a, 5000000);
	e = refused(7, 5000100, 200);
	audit_add(&a, &e);
	now.f[AUDIT_F_ACTIVE_OPENS] = 3;
	audit_compute(&a, &now, NULL, &r);
	assert_int_equal(r.drift[AUDIT_ACTIVE_OPENS], 0);
	assert_int_equal(r.drift[AUDIT_ATTEMPT_FAILS], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fixtures),
		cmocka_unit_test(test_parse_bad_text),
		cmocka_unit_test(test_recorded_session_drifts_0),
		cmocka_unit_test(test_lost_records_drift),
		cmocka_unit_test(test_extras),
		cmocka_unit_test(test_no_value),
		cmocka_unit_test(test_records_across_the_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
