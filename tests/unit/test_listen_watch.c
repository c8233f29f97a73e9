// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The sweeps of user/listen.c over listeners that live less than a sweep. The walk is
 * scripted (loader_listen_walk is this file's), and so is the namespace's /proc file: the
 * open() of a netstat file is wrapped (-Wl,--wrap=open) to open this test's, whose
 * counters each step sets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "listen.h"
#include "listen_model.h"
#include "loader.h"

#define NS_INO 4026539999u
#define PORT 7104

static struct synfin_listener script[4];
static unsigned int nscript;

int loader_listen_walk(const struct loader *l,
		       void (*fn)(void *ctx, const struct synfin_listener *li), void *ctx)
{
	unsigned int i;

	(void)l;
	for (i = 0; i < nscript; i++)
		fn(ctx, &script[i]);
	return (int)nscript;
}

static char netstat_path[] = "/tmp/synfin-test_listen_watch.XXXXXX";

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...)
{
	size_t n = strlen(path), tail = strlen("/net/netstat");

	if (n > tail && !strcmp(path + n - tail, "/net/netstat"))
		path = netstat_path;
	return __real_open(path, flags);
}

/* The namespace's counters now: ListenDrops == ListenOverflows, no SYN-queue drops. */
static void set_netstat(uint64_t drops)
{
	FILE *f = fopen(netstat_path, "w");

	assert_non_null(f);
	fprintf(f, "TcpExt: ListenOverflows ListenDrops TCPReqQFullDrop\n"
		   "TcpExt: %llu %llu 0\n", (unsigned long long)drops, (unsigned long long)drops);
	assert_int_equal(fclose(f), 0);
}

/* A listener of the script: drops are accept-queue overflows, the namespace's counters at
 * listen() and at close (0: not closed) given as ListenDrops (== ListenOverflows). */
static struct synfin_listener listener(uint64_t drops, uint64_t at_listen, uint64_t at_close)
{
	struct synfin_listener li = {
		.drops = drops, .netns = NS_INO, .port = PORT, .family = 4,
		.pid = (uint32_t)getpid(), .flags = SYNFIN_LISTENER_NS_AT_LISTEN,
		.max_ack_backlog = 2,
	};

	li.ns_at_listen[SYNFIN_NS_LISTEN_DROPS] = at_listen;
	li.ns_at_listen[SYNFIN_NS_LISTEN_OVERFLOWS] = at_listen;
	if (at_close) {
		li.flags |= SYNFIN_LISTENER_CLOSED | SYNFIN_LISTENER_NS_AT_CLOSE;
		li.ns_at_close[SYNFIN_NS_LISTEN_DROPS] = at_close;
		li.ns_at_close[SYNFIN_NS_LISTEN_OVERFLOWS] = at_close;
	}
	return li;
}

/* Seen on 6.1 under TCG (test_listen_drops, bursts: 282 of 235): a sweep that finds only
 * closed listeners of a namespace reads its /proc file after the walk, and a listener that
 * listen()ed in between may have dropped already. That reading settled the namespace, which
 * was then let go; when the new listener was walked, its namespace was new again and counted
 * from the new listener's listen(): its first drops twice. */
static void test_listener_between_walk_and_reading(void **state)
{
	const struct listen_stats *st;
	struct listen_watch *w = listen_watch_new();

	(void)state;
	assert_true(close(mkstemp(netstat_path)) == 0);
	assert_non_null(w);

	/* sweep 1: L1 listened at 100 */
	script[0] = listener(0, 100, 0);
	nscript = 1;
	set_netstat(100);
	listen_watch_sweep(w, NULL);
	/* sweep 2: L1 dropped 10 and closed (at 110); L2 listened after the walk and dropped
	 * 10 before the reading (120) */
	script[0] = listener(10, 100, 110);
	set_netstat(120);
	listen_watch_sweep(w, NULL);
	/* sweep 3: L2 closed (at 120), found in a namespace synfin let go */
	script[0] = listener(10, 110, 120);
	listen_watch_sweep(w, NULL);

	st = listen_watch_stats(w);
	assert_non_null(st);
	assert_int_equal(listen_stats_drops_total(st, -1), 20);
	assert_int_equal(listen_stats_drops_total(st, LISTEN_ACCEPT_QUEUE_FULL), 20);
	assert_int_equal(st->unattributed[LISTEN_ACCEPT_QUEUE_FULL], 0);
	listen_watch_free(w);
	unlink(netstat_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listener_between_walk_and_reading),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
