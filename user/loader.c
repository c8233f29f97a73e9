// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "bpf_log.h"
#include "loader.h"
#include "kstate.h"
#include "netns.h"
#include "synfin/maps.h"
#include "synfin.skel.h"
#include "synfin_noatomics.skel.h"

static const char *load_hint(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		return "denied although synfin holds CAP_BPF and CAP_PERFMON: a lockdown/LSM policy "
		       "forbids BPF, or (before 5.11) the memlock limit is too low "
		       "(LimitMEMLOCK=infinity or CAP_SYS_RESOURCE); run 'synfin check'";
	case ENOENT:
	case ESRCH:
		return "the kernel lacks BTF or a tracepoint synfin needs; run 'synfin check'";
	default:
		return "run 'synfin check', or add -v to see the verifier's log";
	}
}

/* A verifier rejection names the program and the verifier's reason: the kernel lacks
 * something this build of synfin expects. Anything else gets the generic hint. */
static void describe_load_failure(int ret, char *err, size_t errlen)
{
	char prog[64], reason[256];

	if (!bpf_log_rejection(prog, sizeof(prog), reason, sizeof(reason))) {
		snprintf(err, errlen,
			 "the kernel's verifier rejected BPF program %s: %s; this kernel lacks "
			 "something synfin expects: run 'synfin check' and report it with "
			 "'synfin check -v'",
			 prog, reason[0] ? reason : strerror(-ret));
		return;
	}
	snprintf(err, errlen, "loading BPF programs failed: %s; %s", strerror(-ret),
		 load_hint(ret));
}

/* synfin_bpf__open(), with the bytes of the build without atomics where the kernel refuses
 * them (bpf/compat.bpf.h, HAVE_CMPXCHG): the same maps, programs and globals, so one
 * skeleton serves both (the Makefile checks, skel-layouts.ok). */
static struct synfin_bpf *skel_open(bool atomics)
{
	struct synfin_bpf *obj = calloc(1, sizeof(*obj));
	int err;

	if (!obj) {
		errno = ENOMEM;
		return NULL;
	}
	err = synfin_bpf__create_skeleton(obj);
	if (!err && !atomics)
		obj->skeleton->data = synfin_noatomics_bpf__elf_bytes(&obj->skeleton->data_sz);
	if (!err)
		err = bpf_object__open_skeleton(obj->skeleton, NULL);
	if (err) {
		synfin_bpf__destroy(obj);
		errno = -err;
		return NULL;
	}
	return obj;
}

/* log2 of a slot array's number of sets (a power of two), for its cfg_*_set_shift. */
static __u32 slot_set_bits(__u32 sets)
{
	__u32 bits = 0;

	while (sets > 1) {
		sets >>= 1;
		bits++;
	}
	return bits;
}

/* Writes what features_probe() found into .rodata (bpf/compat.bpf.h) and leaves out what
 * this kernel cannot run. */
/* The SYN-arrival map is an LRU with per-CPU lists (BPF_F_NO_COMMON_LRU): each CPU holds
 * max_entries / possible CPUs, and a SYN flood steered to one CPU evicts that CPU's share
 * only. Sized per CPU, so every CPU keeps SYN_PER_CPU half-open handshakes, up to a total
 * that bounds the preallocated memory (~110 bytes an entry: 29 MB at the cap, reached at
 * 8 CPUs; beyond, each CPU holds less). */
#define SYN_PER_CPU 32768
#define SYN_MAX_TOTAL (1u << 18)
static __u32 syn_map_entries(void)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 n = (__u64)(ncpu > 0 ? ncpu : 1) * SYN_PER_CPU;

	return n > SYN_MAX_TOTAL ? SYN_MAX_TOTAL : (__u32)n;
}

static int apply_features(struct synfin_bpf *skel, const struct features *f, bool time_wait)
{
	bool handlers = f->tw_timer_fn || f->reqsk_timer_fn;
	int ret;

	skel->rodata->cfg_sk_storage = f->sk_storage;
	skel->rodata->cfg_socket_cookie = f->socket_cookie;
	skel->rodata->cfg_rdonly_cast = f->rdonly_cast;
	skel->rodata->cfg_preempt_kfuncs = f->preempt_kfuncs;
	skel->rodata->cfg_tw_timer_fn = f->tw_timer_fn;
	skel->rodata->cfg_reqsk_timer_fn = f->reqsk_timer_fn;
	NS_COUNTERS_APPLY(skel->rodata, &f->ns_counters);
	/* SYN arrivals in slots where slots can be claimed and the request timer is followed
	 * (bpf/maps.bpf.h, req_slots); else the LRU, filled by the timer or the first SYN-ACK
	 * retransmit, which then has the room */
	skel->rodata->cfg_req_slots = f->cmpxchg && time_wait && f->reqsk_timer_fn;
	if (skel->rodata->cfg_req_slots) {
		skel->rodata->cfg_req_set_shift = 64 - slot_set_bits(SYNFIN_REQ_SLOTS / SYNFIN_REQ_WAYS);
		ret = bpf_map__set_max_entries(skel->maps.syns, (__u32)libbpf_num_possible_cpus());
	} else {
		ret = bpf_map__set_max_entries(skel->maps.syns, syn_map_entries());
		if (!ret)
			ret = bpf_map__set_max_entries(skel->maps.req_slots, 1);
	}
	if (ret)
		return ret;
	/* ports held per destination, where a TIME_WAIT's end is seen to give its port back */
	skel->rodata->cfg_ports = time_wait && f->tw_timer_fn;
	/* the reset hooks (bpf/reset.bpf.h): one send program, by the tracepoint's arguments */
	skel->rodata->cfg_resets = f->resets;
	bpf_program__set_autoload(skel->progs.synfin_send_reset, f->resets && !f->rst_reason);
	bpf_program__set_autoload(skel->progs.synfin_send_reset_why, f->resets && f->rst_reason);
	bpf_program__set_autoload(skel->progs.synfin_receive_reset, f->resets);
	if (!time_wait || !handlers) {
		bpf_program__set_autoload(skel->progs.synfin_timer_start, false);
		bpf_program__set_autoload(skel->progs.synfin_timer_cancel, false);
	}
	return ret;
}

/* SYNFIN_CONN_SLOTS=N (a power of two, SYNFIN_CONN_WAYS or more) and SYNFIN_CONNS_CAPACITY=N
 * shrink the slots and conns_by_sk (bpf/maps.bpf.h) so that a test makes sockets overflow
 * from tier to tier with a few dozen connections rather than tens of thousands
 * (tests/integration/test_conn_state_overflow.sh). Test hooks, not tuning knobs: *out keeps
 * its default when the variable is unset. */
static bool test_size(const char *var, unsigned long min, unsigned long max, bool pow2,
		      __u32 *out, char *err, size_t errlen)
{
	const char *v = getenv(var);
	unsigned long n;
	char *end;

	if (!v)
		return true;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max || (pow2 && (n & (n - 1)))) {
		snprintf(err, errlen, "%s must be an integer%s from %lu to %lu, not '%s'", var,
			 pow2 ? " power of two" : "", min, max, v);
		return false;
	}
	*out = (__u32)n;
	return true;
}

/* Sizes the tiers of per-socket state (include/synfin/maps.h): slots where the kernel can
 * claim one (cfg_cmpxchg), else none (one unused slot) and the whole hash. */
static int size_conn_state(struct synfin_bpf *skel, const struct features *f, char *err,
			   size_t errlen)
{
	__u32 slots = f->cmpxchg ? SYNFIN_CONN_SLOTS : 1;
	__u32 hash = f->cmpxchg ? SYNFIN_CONNS_SPILL_ENTRIES : SYNFIN_CONNS_BY_SK_ENTRIES;
	int ret;

	if (!test_size("SYNFIN_CONN_SLOTS", SYNFIN_CONN_WAYS, SYNFIN_CONN_SLOTS, true, &slots, err,
		       errlen) ||
	    !test_size("SYNFIN_CONNS_CAPACITY", 1, SYNFIN_CONNS_BY_SK_ENTRIES, false, &hash, err,
		       errlen))
		return -EINVAL;
	if (!f->cmpxchg)
		slots = 1;
	skel->rodata->cfg_cmpxchg = f->cmpxchg;
	skel->rodata->cfg_slot_set_shift = 64 - slot_set_bits(slots / SYNFIN_CONN_WAYS);
	ret = bpf_map__set_max_entries(skel->maps.conn_slots, slots);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.close_wait_slots, (slots + 63) / 64);
	if (!ret)
		ret = bpf_map__set_max_entries(skel->maps.conns_by_sk, hash);
	if (ret)
		snprintf(err, errlen, "sizing the per-socket state failed: %s", strerror(-ret));
	return ret;
}

/* The slots' CLOSE_WAIT bits, mapped read-only (kstate_close_waits()). */
static int map_close_wait_slots(struct loader *l, char *err, size_t errlen)
{
	const struct bpf_map *m = l->skel->maps.close_wait_slots;
	size_t len = (size_t)bpf_map__max_entries(m) * sizeof(__u64);
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	len = (len + (size_t)page - 1) & ~((size_t)page - 1);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, bpf_map__fd(m), 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mapping the CLOSE_WAIT slot bits failed: %s", strerror(errno));
		return -errno;
	}
	l->cw_bits = p;
	l->cw_words = bpf_map__max_entries(m);
	l->cw_bits_len = len;
	return 0;
}

int loader_load(struct loader *l, const struct loader_config *c, char *err, size_t errlen)
{
	struct synfin_bpf *skel;
	int ret;

	bpf_log_init(c->verbose);
	if (c->features) {
		l->feat = *c->features;
	} else {
		ret = features_probe(&l->feat, err, errlen);
		if (ret)
			return ret;
	}
	if (l->feat.missing_tracepoint) {
		snprintf(err, errlen, "the kernel has no tracepoint %s, which synfin needs; run "
			 "'synfin check'", l->feat.missing_tracepoint);
		return -ENOENT;
	}
	skel = skel_open(l->feat.cmpxchg);
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "opening BPF object failed: %s; %s", strerror(-ret),
			 load_hint(ret));
		return ret;
	}
	skel->rodata->cfg_netns = c->netns;
	skel->rodata->cfg_cgroup = c->cgroup;
	skel->rodata->cfg_family = c->family;
	skel->rodata->cfg_comm = !c->no_comm;
	skel->rodata->cfg_wakeup_bytes = c->wakeup_bytes;
	ret = size_conn_state(skel, &l->feat, err, errlen);
	if (ret) {
		synfin_bpf__destroy(skel);
		return ret;
	}
	ret = bpf_map__set_max_entries(skel->maps.events, (__u32)c->ring_bytes);
	if (!ret)
		ret = apply_features(skel, &l->feat, c->time_wait);
	bpf_log_reset();
	if (!ret)
		ret = synfin_bpf__load(skel);
	if (ret) {
		describe_load_failure(ret, err, errlen);
		synfin_bpf__destroy(skel);
		return ret;
	}
	l->skel = skel;
	l->ports = skel->rodata->cfg_ports;
	ret = map_close_wait_slots(l, err, errlen);
	if (ret) {
		synfin_bpf__destroy(skel);
		l->skel = NULL;
	}
	return ret;
}

static int attach_one(struct loader *l, struct bpf_program *p, char *err, size_t errlen)
{
	struct bpf_link *link = bpf_program__attach(p);
	int ret;

	if (!link) {
		ret = -errno;
		snprintf(err, errlen, "attaching %s (%s) failed: %s; %s", bpf_program__name(p),
			 bpf_program__section_name(p), strerror(-ret), load_hint(ret));
		return ret;
	}
	if (l->nlinks == LOADER_MAX_LINKS) {
		bpf_link__destroy(link);
		snprintf(err, errlen, "too many BPF programs for the loader's link table");
		return -E2BIG;
	}
	if (p == l->skel->progs.synfin_seed)
		l->seed_link = link;
	l->links[l->nlinks++] = link;
	return 0;
}

static bool is_catcher(const struct synfin_bpf *skel, const struct bpf_program *p)
{
	return p == skel->progs.synfin_set_state_catch || p == skel->progs.synfin_destroy_sock_catch;
}

int loader_attach(struct loader *l, const struct loader_config *c, char *err, size_t errlen)
{
	struct bpf_program *p;
	int ret, pass;

	(void)c;
	/* One by one, so the message names the hook the kernel refused. A tracepoint calls its
	 * programs in attach order (tracepoint_probe_register() appends), and a catcher must
	 * run after its first program, which notes the event first (bpf/catch.bpf.h): the
	 * catchers go in the second pass. */
	for (pass = 0; pass < 2; pass++) {
		bpf_object__for_each_program(p, l->skel->obj) {
			if (!bpf_program__autoload(p) || is_catcher(l->skel, p) != (pass == 1))
				continue;
			if (p == l->skel->progs.synfin_listen_sample)
				continue; /* run by loader_listen_walk, attached nowhere */
			ret = attach_one(l, p, err, errlen);
			if (ret)
				return ret;
		}
	}
	return 0;
}

void loader_destroy(struct loader *l)
{
	if (!l)
		return;
	while (l->nlinks > 0)
		bpf_link__destroy(l->links[--l->nlinks]);
	if (l->cw_bits)
		munmap((void *)l->cw_bits, l->cw_bits_len);
	l->cw_bits = NULL;
	l->cw_words = 0;
	synfin_bpf__destroy(l->skel); /* NULL-safe */
	l->seed_link = NULL;
	l->skel = NULL;
}

static int seed_current_netns(const struct loader *l)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = bpf_iter_create(bpf_link__fd(l->seed_link));
	if (fd < 0)
		return -errno;
	/* The program writes nothing: reading to EOF is what runs it over every socket. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

struct seed_walk {
	const struct loader *l;
	int home;
	ino_t home_ino;
	int seeded;
	void (*between)(void *ctx);
	void *ctx;
};

static int seed_netns(int fd, uint32_t ino, void *ctx)
{
	struct seed_walk *w = ctx;
	struct stat st;
	bool away;
	int ret;

	(void)ino;
	/* setns() needs CAP_SYS_ADMIN even into the namespace synfin is in: without it, synfin's
	 * own namespace must still be seeded. */
	away = fstat(fd, &st) || st.st_ino != w->home_ino;
	if (away && setns(fd, CLONE_NEWNET))
		return 0; /* a namespace that died meanwhile, or no CAP_SYS_ADMIN */
	ret = seed_current_netns(w->l);
	if (away && setns(w->home, CLONE_NEWNET))
		return -errno; /* cannot return home: stop rather than observe from elsewhere */
	if (!ret)
		w->seeded++;
	if (w->between)
		w->between(w->ctx);
	return 0;
}

int loader_seed(struct loader *l, const char *netns_path, void (*between)(void *ctx), void *ctx,
		char *err, size_t errlen)
{
	struct seed_walk w = { .l = l, .between = between, .ctx = ctx };
	struct stat st;
	int ret, fd;

	if (!l->seed_link)
		return 0;
	w.home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (w.home < 0) {
		ret = -errno;
		snprintf(err, errlen, "opening /proc/self/ns/net failed: %s", strerror(-ret));
		return ret;
	}
	if (!fstat(w.home, &st))
		w.home_ino = st.st_ino;
	if (netns_path) {
		fd = open(netns_path, O_RDONLY | O_CLOEXEC);
		ret = fd < 0 ? -errno : seed_netns(fd, 0, &w);
		if (fd >= 0)
			close(fd);
	} else {
		ret = netns_for_each(seed_netns, &w);
	}
	close(w.home);
	if (ret < 0) {
		snprintf(err, errlen, "seeding existing sockets failed: %s", strerror(-ret));
		return ret;
	}
	return w.seeded;
}

/* One test run over n listeners' addresses; fn for each that still is the listener. */
static int sample_batch(const struct loader *l, const __u64 *addrs, unsigned int n,
			void (*fn)(void *ctx, const struct synfin_listener *li), void *ctx)
{
	__u64 args[SYNFIN_LISTEN_BATCH + 1] = { n };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
	const struct synfin_listener *out = l->skel->bss->listen_out;
	unsigned int i;
	int found = 0;

	memcpy(&args[1], addrs, n * sizeof(addrs[0]));
	if (bpf_prog_test_run_opts(bpf_program__fd(l->skel->progs.synfin_listen_sample), &opts))
		return -errno;
	for (i = 0; i < n; i++) {
		if (!out[i].port)
			continue; /* closed since the lookup */
		fn(ctx, &out[i]);
		found++;
	}
	return found;
}

int loader_listen_walk(const struct loader *l,
		       void (*fn)(void *ctx, const struct synfin_listener *li), void *ctx)
{
	int fd = bpf_map__fd(l->skel->maps.listeners);
	__u64 addrs[SYNFIN_LISTEN_BATCH], key, next;
	unsigned int n = 0;
	int found = 0, ret;
	bool more;

	more = !bpf_map_get_next_key(fd, NULL, &next);
	while (more || n) {
		if (more) {
			key = next;
			addrs[n++] = key;
			more = !bpf_map_get_next_key(fd, &key, &next);
		}
		if (n == SYNFIN_LISTEN_BATCH || (!more && n)) {
			ret = sample_batch(l, addrs, n, fn, ctx);
			if (ret < 0)
				return ret;
			found += ret;
			n = 0;
		}
	}
	return found;
}

int loader_events_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

int loader_drops_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.drops);
}

int loader_counts_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.counts);
}

int loader_ports_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.ports_by_dest);
}

int loader_resets_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.resets);
}

int loader_gauges_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.gauges);
}

int loader_timewaits_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.timewaits);
}

int loader_tw_pending_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.tw_pending);
}

int loader_close_waits_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.close_waits);
}

int loader_conns_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.conns_by_sk);
}

int loader_conn_slots_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.conn_slots);
}

static uint64_t prog_recursion_misses(const struct bpf_program *p)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	if (!bpf_program__autoload(p))
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return 0;
	return info.recursion_misses; /* stays 0 where the kernel has no count */
}

uint64_t loader_recursion_lost(const struct loader *l)
{
	const struct synfin_bpf *skel = l->skel;
	int64_t caught[SYNFIN_HOOK_MAX] = { 0 };
	const struct bpf_program *first[SYNFIN_HOOK_MAX] = {
		[SYNFIN_HOOK_SET_STATE] = skel->progs.synfin_set_state,
		[SYNFIN_HOOK_TIMER_START] = skel->progs.synfin_timer_start,
		[SYNFIN_HOOK_TIMER_CANCEL] = skel->progs.synfin_timer_cancel,
	};
	/* the hooks without a catcher: a skipped run is lost */
	uint64_t lost = prog_recursion_misses(skel->progs.synfin_synack_rtx) +
			prog_recursion_misses(skel->progs.synfin_send_reset) +
			prog_recursion_misses(skel->progs.synfin_send_reset_why) +
			prog_recursion_misses(skel->progs.synfin_receive_reset),
		 missed, missed_catch;

	/* tcp_destroy_sock: most runs find nothing to do (the CLOSE was seen), so its first
	 * program's misses are mostly nothing lost, and its catcher does the work where there
	 * was some. An event is lost only where both were skipped: at most the smaller of the
	 * two counts (a storm: 62 misses of the first, none of the catcher's). */
	missed = prog_recursion_misses(skel->progs.synfin_destroy_sock);
	missed_catch = prog_recursion_misses(skel->progs.synfin_destroy_sock_catch);
	lost += missed < missed_catch ? missed : missed_catch;
	int h;

	kstate_percpu_sum(bpf_map__fd(skel->maps.caught), SYNFIN_HOOK_MAX, caught);
	for (h = 0; h < SYNFIN_HOOK_MAX; h++) {
		missed = prog_recursion_misses(first[h]);
		/* A catcher's own misses lose nothing unless its first program missed the same
		 * event, and that is already in first - caught. The timer hooks have no catcher
		 * (they cannot nest: bpf/synfin.bpf.c), so any miss of theirs is lost. */
		if (missed > (uint64_t)caught[h])
			lost += missed - (uint64_t)caught[h];
	}
	return lost;
}

int loader_prog_count(const struct loader *l)
{
	struct bpf_program *p;
	int n = 0;

	bpf_object__for_each_program(p, l->skel->obj)
		n += bpf_program__autoload(p);
	return n;
}
