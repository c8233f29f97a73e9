// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
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

int kstate_resets(int fd, struct reset_counts *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct synfin_resets *vals;
	unsigned int i;
	__u32 zero = 0;
	int c, ret = 0;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, vals))
		ret = -errno;
	for (c = 0; !ret && c < ncpu; c++)
		for (i = 0; i < SYNFIN_RST_SLOTS; i++)
			out->n[i] += vals[c].n[i];
	free(vals);
	return ret;
}

int kstate_ports(int fd, kstate_port_fn fn, void *ctx)
{
	enum { BATCH = 256 };
	int ncpu = libbpf_num_possible_cpus(), ret = 0;
	struct port_dest_key *keys;
	struct port_dest *vals;
	__u32 i, count;
	__u64 in = 0, out = 0;
	bool first = true;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	keys = calloc(BATCH, sizeof(*keys));
	vals = calloc((size_t)BATCH * (size_t)ncpu, sizeof(*vals));
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	/* the hash's batches: a bucket at a time, resumed from out (5.6's batch ops) */
	for (;;) {
		count = BATCH;
		ret = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count, &opts);
		if (ret && errno != ENOENT) {
			ret = -errno;
			break;
		}
		for (i = 0; i < count; i++)
			fn(ctx, &keys[i], &vals[(size_t)i * (size_t)ncpu], ncpu);
		if (ret) { /* ENOENT: that was the last batch */
			ret = 0;
			break;
		}
		in = out;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return ret;
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
		if (!(v.wanted & SYNFIN_TW_WANTED))
			continue; /* not the user's (struct tw_entry) */
		fn(ctx, &out, v.wanted & SYNFIN_TW_HOLDS_PORT);
		n++;
	}
	return n;
}

/* A STATE record for a socket in CLOSE_WAIT, from its state: what close_wait_enter() in
 * bpf/timewait.bpf.h writes for the overflow, field for field. */
static void close_wait_record(const struct conn_state *cs, struct synfin_event *e)
{
	memset(e, 0, sizeof(*e));
	e->type = SYNFIN_EV_STATE;
	e->ts_ns = cs->fsm.state_ns;
	e->side = cs->side;
	e->flags = cs->flags;
	e->pid = cs->pid;
	e->cookie = cs->cookie;
	e->cgroup = cs->cgroup;
	memcpy(e->comm, cs->comm, sizeof(e->comm));
	e->id = cs->id;
	e->st.old_state = SYNFIN_TCP_ESTABLISHED;
	e->st.new_state = SYNFIN_TCP_CLOSE_WAIT;
}

/* Every entry of a hash keyed by a socket's address, batched: a leak of thousands of
 * CLOSE_WAIT sockets is exactly when this runs long, and conns_by_sk holds every tracked
 * socket. vals holds KSTATE_BATCH values of val_size bytes. */
enum { KSTATE_BATCH = 256 };

struct cw_visit {
	kstate_close_wait_fn fn;
	void *ctx;
	int n;
};

static int scan_by_sk(int fd, void *vals, size_t val_size,
		      void (*visit)(struct cw_visit *v, __u64 key, const void *val), struct cw_visit *v)
{
	static __u64 keys[KSTATE_BATCH];
	__u64 in_batch = 0, out_batch = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool first = true;
	__u32 count, i;
	int ret;

	do {
		count = KSTATE_BATCH;
		ret = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch, keys, vals,
					   &count, &opts);
		if (ret && errno != ENOENT)
			return -errno;
		for (i = 0; i < count; i++)
			visit(v, keys[i], (const char *)vals + i * val_size);
		in_batch = out_batch;
		first = false;
	} while (!ret);
	return 0;
}

static void visit_conn(struct cw_visit *v, __u64 key, const void *val)
{
	const struct conn_state *cs = val;
	struct synfin_event e;

	/* copied while BPF may write it: a socket leaving CLOSE_WAIT right now reads as either
	 * state, and is gone at the next scan */
	if (cs->cur_state != SYNFIN_TCP_CLOSE_WAIT)
		return;
	close_wait_record(cs, &e);
	v->fn(v->ctx, key, &e);
	v->n++;
}

static void visit_record(struct cw_visit *v, __u64 key, const void *val)
{
	v->fn(v->ctx, key, val);
	v->n++;
}

int kstate_close_waits(const uint64_t *cw_bits, uint32_t cw_words, int slots_fd, int conns_fd,
		       int close_waits_fd, kstate_close_wait_fn fn, void *ctx)
{
	static struct conn_state conns[KSTATE_BATCH];
	static struct synfin_event records[KSTATE_BATCH];
	struct cw_visit v = { .fn = fn, .ctx = ctx };
	struct conn_slot slot;
	uint32_t w, i;
	uint64_t bits;
	int ret;

	/* A bit can outlive its socket (both its leave and its destruction missed): the slot
	 * then has no owner or another state, and is skipped. */
	for (w = 0; w < cw_words; w++) {
		for (bits = cw_bits[w]; bits; bits &= bits - 1) {
			i = w * 64 + (uint32_t)__builtin_ctzll(bits);
			if (bpf_map_lookup_elem(slots_fd, &i, &slot) || !slot.owner)
				continue;
			visit_conn(&v, slot.owner, &slot.cs);
		}
	}
	ret = scan_by_sk(conns_fd, conns, sizeof(conns[0]), visit_conn, &v);
	if (!ret)
		ret = scan_by_sk(close_waits_fd, records, sizeof(records[0]), visit_record, &v);
	return ret ? ret : v.n;
}
