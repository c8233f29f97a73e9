// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bpf_log.h"
#include "calibrate.h"
#include "kernel_features.h"
#include "resets.h"
#include "ns_counters.h"
#include "probe.skel.h"

/* Opens the probe object with only prog_name to load: true when the verifier accepts it. */
static bool probe_loads(const char *prog_name)
{
	struct probe_bpf *skel = probe_bpf__open();
	struct bpf_program *p;
	bool ok;

	if (!skel)
		return false;
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), prog_name));
	ok = probe_bpf__load(skel) == 0;
	probe_bpf__destroy(skel);
	return ok;
}

/* bpf_prog_info.recursion_misses came with 9ed9e9ba2337 ("bpf: Count the number of times
 * recursion was prevented"), 5.12: a kernel that fills less of the struct has no count. */
static bool reports_recursion_misses(int prog_fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return false;
	return len >= offsetof(struct bpf_prog_info, recursion_misses) + sizeof(info.recursion_misses);
}

struct walk {
	struct probe_bpf *skel;
	int link_fd;
};

/* One pass of the iterator over this namespace: 1 when both handlers were seen. */
static int walk_sockets(void *ctx)
{
	struct walk *w = ctx;
	char buf[64];
	ssize_t n;
	int fd = bpf_iter_create(w->link_fd);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	close(fd);
	if (n < 0)
		return -errno;
	return w->skel->bss->found_tw_timer_fn && w->skel->bss->found_reqsk_timer_fn;
}

static int calibrate(struct features *f)
{
	struct walk w = { 0 };
	struct bpf_link *link = NULL;
	struct bpf_program *p;
	int ret;

	w.skel = probe_bpf__open();
	if (!w.skel) {
		ret = -errno;
		snprintf(f->handlers_why, sizeof(f->handlers_why), "opening the probe object: %s",
			 strerror(-ret));
		return ret;
	}
	bpf_object__for_each_program(p, w.skel->obj)
		bpf_program__set_autoload(p, p == w.skel->progs.probe_timer_handlers);
	ret = probe_bpf__load(w.skel);
	if (!ret) {
		f->recursion_misses =
			reports_recursion_misses(bpf_program__fd(w.skel->progs.probe_timer_handlers));
		link = bpf_program__attach_iter(w.skel->progs.probe_timer_handlers, NULL);
		ret = link ? 0 : -errno;
	}
	if (ret) {
		snprintf(f->handlers_why, sizeof(f->handlers_why), "loading the iter/tcp probe: %s",
			 strerror(-ret));
		goto out;
	}
	w.link_fd = bpf_link__fd(link);
	ret = calibrate_on_loopback(walk_sockets, &w, f->handlers_why, sizeof(f->handlers_why));
	if (!ret) {
		f->tw_timer_fn = w.skel->bss->found_tw_timer_fn;
		f->reqsk_timer_fn = w.skel->bss->found_reqsk_timer_fn;
		f->handlers_from = "calibration";
	}
out:
	bpf_link__destroy(link);
	probe_bpf__destroy(w.skel);
	return ret;
}

/* /proc/kallsyms, which shows 0 for every address without CAP_SYSLOG (kptr_restrict). */
static void from_kallsyms(struct features *f)
{
	unsigned long long addr;
	char line[256], sym[128];
	uint64_t tw = 0, req = 0;
	FILE *fp = fopen("/proc/kallsyms", "re");
	bool hidden = false;

	if (!fp)
		return;
	while ((!tw || !req) && fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%llx %*s %127s", &addr, sym) != 2)
			continue;
		if (!strcmp(sym, "tw_timer_handler"))
			tw = addr;
		else if (!strcmp(sym, "reqsk_timer_handler"))
			req = addr;
		else
			continue;
		hidden |= !addr;
	}
	fclose(fp);
	if (tw && req) {
		f->tw_timer_fn = tw;
		f->reqsk_timer_fn = req;
		f->handlers_from = "/proc/kallsyms";
		return;
	}
	if (hidden) {
		size_t n = strlen(f->handlers_why);

		snprintf(f->handlers_why + n, sizeof(f->handlers_why) - n,
			 "; /proc/kallsyms hides addresses (no CAP_SYSLOG)");
	}
}

/* SYNFIN_DISABLE_FEATURES=sk_storage,socket_cookie,rdonly_cast,preempt_kfuncs,cmpxchg,
 * ns_counters,calibration: the fallbacks older kernels take, run on this one; a tracepoint's name
 * (timer_start, tcp_retransmit_synack) makes it count as absent from the kernel's BTF. For
 * tests (every variant meets the verifier and the integration tests on the newest kernel
 * too), never needed in production. */
static bool disabled(const char *name)
{
	const char *list = getenv("SYNFIN_DISABLE_FEATURES"), *p;
	size_t n = strlen(name);

	for (p = list; p && (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

/* tcp_retransmit_synack came with cf34ce3da1e4 ("tcp: add tracepoint
 * trace_tcp_retransmit_synack()", v4.15) and is built whenever tracepoints are, and tp_btf
 * programs need the btf_trace_* types of 5.5: every kernel synfin can load on has it, so it
 * is required like inet_sock_set_state (the loader attaches it unconditionally). */
const struct tracepoint_need tracepoint_needs[] = {
	{ "inet_sock_set_state", true, NULL },
	{ "tcp_retransmit_synack", true, NULL },
	/* "tcp: add tracepoint trace_tcp_destroy_sock" (v4.15, the same series): every kernel
	 * with tp_btf has it too */
	{ "tcp_destroy_sock", true, NULL },
	{ "timer_start", false, "no TIME_WAIT tracking, estimated server latency" },
	{ "timer_cancel", false, "no TIME_WAIT tracking" },
	/* both since 4.15, like tcp_destroy_sock; optional all the same */
	{ "tcp_send_reset", false, "no reset counts or reasons" },
	{ "tcp_receive_reset", false, "no reset counts or reasons" },
};
const size_t tracepoint_needs_count = sizeof(tracepoint_needs) / sizeof(tracepoint_needs[0]);

bool features_has_tracepoint(const struct btf *vmlinux, const char *name)
{
	char type[96];

	if (disabled(name))
		return false;
	snprintf(type, sizeof(type), "btf_trace_%s", name);
	return btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) > 0;
}

/* Where the kernel counts TcpExtTW. Kernels whose inet_timewait_sock still has tw_kill count
 * it in tw_timer_handler(), when a TIME_WAIT ends (TWKilled for the ones whose timeout was
 * under 4 s: what tw_kill marked); later kernels dropped the field and count both in
 * __inet_twsk_schedule(), when it starts (seen on 6.18; 5.10 counts at the end: the self-audit
 * test on 5.10's matrix guest found TW unchanged by 40 entries, then +39 by their expiries). */
static bool tw_counted_at_end(const struct btf *vmlinux)
{
	const struct btf_member *m;
	const struct btf_type *t;
	int id = btf__find_by_name_kind(vmlinux, "inet_timewait_sock", BTF_KIND_STRUCT);
	__u16 i;

	if (id <= 0)
		return false;
	t = btf__type_by_id(vmlinux, id);
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(vmlinux, m->name_off), "tw_kill"))
			return true;
	return false;
}

/* timer_start's arguments: (timer, bucket_expiry) since dbcdcb62b59d ("tracing/timers:
 * Enhance timer_start tracepoint", 6.8), (timer, expires, flags) before; the BTF type's
 * prototype has the context first. */
static const struct btf_type *tracepoint_proto(const struct btf *vmlinux, const char *name);

static bool timer_start_gives_bucket(const struct btf *vmlinux)
{
	const struct btf_type *t = tracepoint_proto(vmlinux, "timer_start");

	return t && btf_vlen(t) == 3;
}

/* The prototype of tracepoint name's tp_btf type, or NULL. */
static const struct btf_type *tracepoint_proto(const struct btf *vmlinux, const char *name)
{
	const struct btf_type *t;
	char type[96];
	int id;

	snprintf(type, sizeof(type), "btf_trace_%s", name);
	id = btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return NULL;
	t = btf__type_by_id(vmlinux, id);
	while (t && (btf_is_typedef(t) || btf_is_ptr(t)))
		t = btf__type_by_id(vmlinux, t->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

/* tcp_send_reset: (sk, skb, reason) since b533fb9cf4f7 ("rstreason: make it work in trace
 * world", 6.10), (sk, skb) before; the reason's names come from the same BTF (enum
 * sk_rst_reason: its values differ between kernels). Fired for every reset, with or without
 * a full socket, since 19822a980e19 ("trace: tcp: fully support trace_tcp_send_reset", 6.10),
 * which made it an event of its own (trace_event_raw_tcp_send_reset) where it had been one
 * of the tcp_event_sk_skb class, which requires a full socket. */
static void check_resets(struct features *f, const struct btf *vmlinux)
{
	const struct btf_type *t = tracepoint_proto(vmlinux, "tcp_send_reset");
	const struct btf_enum *e;
	int id;
	__u16 i;

	f->resets = t && features_has_tracepoint(vmlinux, "tcp_send_reset") &&
		    features_has_tracepoint(vmlinux, "tcp_receive_reset");
	f->rst_reason = f->resets && btf_vlen(t) == 4 && !disabled("rst_reason");
	f->rst_every_socket = btf__find_by_name_kind(vmlinux, "trace_event_raw_tcp_send_reset",
						     BTF_KIND_STRUCT) > 0;
	id = btf__find_by_name_kind(vmlinux, "sk_rst_reason", BTF_KIND_ENUM);
	if (!f->rst_reason || id <= 0)
		return;
	t = btf__type_by_id(vmlinux, id);
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++, e++)
		rst_reason_set_kernel_name(e->val, btf__name_by_offset(vmlinux, e->name_off));
}

/* Without a required tracepoint the loader refuses with its name; without a timer one, the
 * timer programs are left out exactly as when the handler addresses are unknown (the same
 * warning at start, the same "no" in check). No BTF at all is left to the loader's error. */
static void check_tracepoints(struct features *f)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	size_t i;

	if (!vmlinux)
		return;
	f->tw_counted_at_end = tw_counted_at_end(vmlinux);
	f->timer_start_bucket = timer_start_gives_bucket(vmlinux);
	check_resets(f, vmlinux);
	for (i = 0; i < tracepoint_needs_count; i++) {
		const struct tracepoint_need *t = &tracepoint_needs[i];

		if (features_has_tracepoint(vmlinux, t->name))
			continue;
		if (t->required) {
			if (!f->missing_tracepoint)
				f->missing_tracepoint = t->name;
			continue;
		}
		if (strncmp(t->name, "timer_", 6))
			continue; /* the reset hooks: check_resets() */
		f->no_timer_tracepoint = true;
		f->tw_timer_fn = 0;
		f->reqsk_timer_fn = 0;
		f->handlers_from = NULL;
		snprintf(f->handlers_why, sizeof(f->handlers_why),
			 "the kernel has no %s tracepoint", t->name);
	}
	btf__free(vmlinux);
}

int features_probe(struct features *f, char *err, size_t errlen)
{
	struct probe_bpf *skel;
	int ret;

	memset(f, 0, sizeof(*f));
	skel = probe_bpf__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "opening the BPF probe object failed: %s", strerror(-ret));
		return ret;
	}
	probe_bpf__destroy(skel);
	bpf_log_quiet(true);
	f->sk_storage = !disabled("sk_storage") && probe_loads("probe_sk_storage");
	f->socket_cookie = !disabled("socket_cookie") && probe_loads("probe_socket_cookie");
	f->rdonly_cast = !disabled("rdonly_cast") && probe_loads("probe_rdonly_cast");
	f->preempt_kfuncs = !disabled("preempt_kfuncs") && probe_loads("probe_preempt_kfuncs");
	f->cmpxchg = !disabled("cmpxchg") && probe_loads("probe_cmpxchg");
	if (disabled("ns_counters"))
		snprintf(f->ns_counters.why, sizeof(f->ns_counters.why), "disabled");
	else
		ns_counters_find(&f->ns_counters);
	if (disabled("calibration")) {
		snprintf(f->handlers_why, sizeof(f->handlers_why), "calibration disabled");
		ret = -ECANCELED;
	} else {
		ret = calibrate(f);
	}
	bpf_log_quiet(false);
	if (ret)
		from_kallsyms(f);
	check_tracepoints(f);
	return 0;
}
