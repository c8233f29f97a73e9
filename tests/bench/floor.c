// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * floor: loads tests/bench/floor.bpf.c's empty programs, attaches them all, says
 * "synfin: ready" on stderr (what tests/bench/run.sh waits for) and holds them until
 * SIGINT or SIGTERM. Exit status: 0 ok, 1 failure.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	struct floor_bpf *skel;
	int err;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	skel = floor_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "floor: cannot load the empty programs\n");
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
