// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kstate.h"
#include "lifecycle.h"

int kstate_percpu_sum(int fd, unsigned int nkeys, int64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	int64_t *vals;
	__u32 k;
	int c;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (k = 0; k < nkeys; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
	return 0;
}

int kstate_gauges(int gauges_fd, int64_t out[SYNFIN_GAUGE_SLOTS])
{
	int ret = kstate_percpu_sum(gauges_fd, SYNFIN_GAUGE_SLOTS, out);
	unsigned int k;

	for (k = 0; !ret && k < SYNFIN_GAUGE_SLOTS; k++)
		if (out[k] < 0) /* a socket seen leaving a state it entered before synfin started */
			out[k] = 0;
	return ret;
}

int kstate_sweep_timewaits(int timewaits_fd, int pending_fd, uint64_t now_ns, uint64_t grace_ns,
			   kstate_event_fn fn, void *ctx)
{
	__u64 key, next, cancel_ns;
	struct synfin_event out;
	struct tw_entry v;
	bool more;
	int n = 0;

	/* The next key is taken before this one may be deleted: asked for the key after a
	 * deleted one, the kernel restarts a hash walk from the first, which made this sweep
	 * quadratic in the entries not yet due (2 M steps for 4,000: tests/unit/test_kstate.c). */
	more = !bpf_map_get_next_key(pending_fd, NULL, &next);
	while (more) {
		key = next;
		more = !bpf_map_get_next_key(pending_fd, &key, &next);
		if (bpf_map_lookup_elem(pending_fd, &key, &cancel_ns) || now_ns < cancel_ns ||
		    now_ns - cancel_ns < grace_ns)
			continue;
		bpf_map_delete_elem(pending_fd, &key);
		if (bpf_map_lookup_elem(timewaits_fd, &key, &v))
			continue; /* ended meanwhile */
		if (!tw_pending_resolve(&v.ev, v.start_ns, v.cancel_ns, now_ns, grace_ns, &out))
			continue; /* re-armed meanwhile */
		if (bpf_map_delete_elem(timewaits_fd, &key))
			continue; /* the kernel side ended it first */
		if (!v.wanted)
			continue; /* not the user's (struct tw_entry) */
		fn(ctx, &out);
		n++;
	}
	return n;
}

int kstate_close_waits(int close_waits_fd, kstate_close_wait_fn fn, void *ctx)
{
	/* Batched: a leak of thousands of CLOSE_WAIT sockets is exactly when this runs long. */
	enum { BATCH = 256 };
	static __u64 keys[BATCH];
	static struct synfin_event vals[BATCH];
	__u64 in_batch = 0, out_batch = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool first = true;
	int n = 0, ret;
	__u32 count, i;

	do {
		count = BATCH;
		ret = bpf_map_lookup_batch(close_waits_fd, first ? NULL : &in_batch, &out_batch,
					   keys, vals, &count, &opts);
		if (ret && errno != ENOENT)
			return -errno;
		for (i = 0; i < count; i++)
			fn(ctx, keys[i], &vals[i]);
		n += (int)count;
		in_batch = out_batch;
		first = false;
	} while (!ret);
	return n;
}
