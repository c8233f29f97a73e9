// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * floor: loads tests/bench/floor.bpf.c's empty programs, attaches them all, says
 * "synfin: ready" on stderr (what tests/bench/run.sh waits for) and holds them until
 * SIGINT or SIGTERM. Exit status: 0 ok, 1 failure, 2 usage.
 *
 * What would lower the floor itself:
 *   --no-catchers    without the inet_sock_set_state catcher (5 attachments)
 *   --no-timers      only the inet_sock_set_state, tcp_retransmit_synack and tcp_destroy_sock
 *                    programs
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	bool catchers = true, timers = true;
	struct floor_bpf *skel;
	int err, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-catchers")) {
			catchers = false;
		} else if (!strcmp(argv[i], "--no-timers")) {
			timers = false;
		} else {
			fprintf(stderr, "floor: unknown argument '%s' (--no-catchers, --no-timers)\n",
				argv[i]);
			return 2;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: cannot open the empty programs\n");
		return 1;
	}
	if (!catchers || !timers) {
		bpf_program__set_autoload(skel->progs.floor_set_state_catch, catchers);
		bpf_program__set_autoload(skel->progs.floor_timer_start, timers);
		bpf_program__set_autoload(skel->progs.floor_timer_cancel, timers);
	}
	if (floor_bpf__load(skel)) {
		fprintf(stderr, "floor: cannot load the empty programs\n");
		floor_bpf__destroy(skel);
		return 1;
	}
	err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "floor: cannot attach the empty programs (error %d)\n", err);
		floor_bpf__destroy(skel);
		return 1;
	}
	fprintf(stderr, "synfin: ready (floor: empty programs on synfin's attachments)\n");
	while (!stop)
		pause();
	floor_bpf__destroy(skel);
	return 0;
}
