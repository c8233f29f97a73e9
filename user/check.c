// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * synfin check: can synfin run here, and what works on this kernel, feature by feature.
 * Every answer comes from trying it (BTF lookups, probe programs, loading synfin's own
 * programs in every mode the faces use), never from the kernel's version.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "check.h"
#include "json_writer.h"
#include "kernel_features.h"
#include "listen_model.h"
#include "loader.h"
#include "opts.h"
#include "privilege.h"
#include "render.h"
#include "session.h"

/* One line of the report. status: "ok", "no" (synfin runs without it) or "FAIL" (it cannot
 * run). feature: the name `--json` and the tests' "# requires:" lines use, or NULL. */
struct item {
	const char *feature;
	char what[64];
	const char *status;
	char detail[320];
};

#define MAX_ITEMS 32

struct report {
	struct item items[MAX_ITEMS];
	int n;
	bool fatal;
};

static struct item *add(struct report *r, const char *feature, const char *status,
			const char *what)
{
	struct item *it = &r->items[r->n < MAX_ITEMS ? r->n++ : MAX_ITEMS - 1];

	it->feature = feature;
	it->status = status;
	snprintf(it->what, sizeof(it->what), "%s", what);
	it->detail[0] = '\0';
	r->fatal |= !strcmp(status, "FAIL");
	return it;
}

static const char *yes_no(bool ok)
{
	return ok ? "ok" : "no";
}

static void check_btf(struct report *r)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct item *it;
	size_t i;

	it = add(r, NULL, vmlinux ? "ok" : "FAIL", "kernel BTF (/sys/kernel/btf/vmlinux)");
	if (!vmlinux) {
		snprintf(it->detail, sizeof(it->detail),
			 "this kernel was built without CONFIG_DEBUG_INFO_BTF: synfin cannot run");
		return;
	}
	/* the loader's own list and test (kernel_features.c): the verdicts cannot differ */
	for (i = 0; i < tracepoint_needs_count; i++) {
		const struct tracepoint_need *hook = &tracepoint_needs[i];
		char what[64];
		bool ok;

		ok = features_has_tracepoint(vmlinux, hook->name);
		snprintf(what, sizeof(what), "tracepoint %s", hook->name);
		it = add(r, NULL, ok ? "ok" : hook->required ? "FAIL" : "no", what);
		snprintf(it->detail, sizeof(it->detail), "%s",
			 ok ? "(tp_btf)" : hook->required ? "missing: synfin cannot run" : hook->without);
	}
	btf__free(vmlinux);
}

/* The modes the faces load: each prunes different branches, so each meets the verifier. */
static const struct {
	const char *name;
	const char *feature;
	bool time_wait;
	bool no_comm;
	uint64_t cgroup;
	uint32_t netns;
	uint8_t family;
} modes[] = {
	{ "default (watch)", NULL, true, false, 0, 0, 0 },
	{ "serve (no pid/comm)", NULL, true, true, 0, 0, 0 },
	{ "--no-time-wait", NULL, false, false, 0, 0, 0 },
	{ "cgroup filter (run)", "cgroup_filter", true, true, 1, 0, 0 },
	{ "netns and family filters", NULL, true, false, 0, 1, 4 },
};

struct mode_result {
	bool seeding;     /* the seed iterator attached */
	int listen_walk;  /* loader_listen_walk's answer: >= 0, or -errno */
};

static void count_listener(void *ctx, const struct synfin_listener *li)
{
	(void)ctx;
	(void)li;
}

static bool check_mode(struct report *r, const struct features *f, size_t m, bool verbose,
		       struct mode_result *res)
{
	struct loader_config cfg = {
		.ring_bytes = 1 << 16,
		.wakeup_bytes = 1 << 14,
		.time_wait = modes[m].time_wait,
		.no_comm = modes[m].no_comm,
		.cgroup = modes[m].cgroup,
		.netns = modes[m].netns,
		.family = modes[m].family,
		.verbose = verbose,
		.features = f,
	};
	struct loader l = { 0 };
	char what[64], err[320];
	struct item *it;
	int ret;

	ret = loader_load(&l, &cfg, err, sizeof(err));
	if (!ret)
		ret = loader_attach(&l, &cfg, err, sizeof(err));
	snprintf(what, sizeof(what), "load and attach: %s", modes[m].name);
	it = add(r, modes[m].feature, ret ? "FAIL" : "ok", what);
	if (ret)
		snprintf(it->detail, sizeof(it->detail), "%s", err);
	else
		snprintf(it->detail, sizeof(it->detail), "%d programs", loader_prog_count(&l));
	if (!ret && m == 0) {
		res->seeding = l.seed_link != NULL;
		res->listen_walk = loader_listen_walk(&l, count_listener, NULL);
	}
	loader_destroy(&l);
	return !ret;
}

/* The namespace's counters, as user/listen.c reads them for each namespace. */
static int netstat_readable(char *why, size_t len)
{
	struct listen_counters c;
	char buf[16384];
	size_t n;
	FILE *fp = fopen("/proc/self/net/netstat", "re");

	if (!fp) {
		snprintf(why, len, "/proc/self/net/netstat: %s", strerror(errno));
		return -errno;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if (listen_netstat_parse(buf, &c)) {
		snprintf(why, len, "/proc/net/netstat lacks TcpExt ListenDrops, ListenOverflows or "
			 "TCPReqQFullDrop");
		return -EINVAL;
	}
	return 0;
}

static void check_listen(struct report *r, const struct features *f, bool loads,
			 const struct mode_result *res)
{
	bool queues = loads && res->listen_walk >= 0;
	char why[160] = "";
	struct item *it;

	it = add(r, "listen_queues", yes_no(queues), "accept queues per listener (sampled)");
	if (!loads)
		snprintf(it->detail, sizeof(it->detail), "the programs do not load");
	else if (!queues)
		snprintf(it->detail, sizeof(it->detail),
			 "test run of synfin_listen_sample refused (%s): BPF_PROG_TEST_RUN of raw_tp "
			 "came in 1b4d60ec162f (5.10)", strerror(-res->listen_walk));
	it = add(r, "listen_drops_per_listener", yes_no(queues && !netstat_readable(why, sizeof(why))),
		 "listen drops per port, by reason");
	if (!queues)
		snprintf(it->detail, sizeof(it->detail), "needs listen_queues (which port dropped)");
	else if (why[0])
		snprintf(it->detail, sizeof(it->detail), "%s", why);
	it = add(r, "listen_drops_from_listen", yes_no(f->ns_counters.ok),
		 "a new namespace's listen drops counted from listen()");
	if (!f->ns_counters.ok)
		snprintf(it->detail, sizeof(it->detail), "from the first sample, up to 200 ms late: %s",
			 f->ns_counters.why);
}

static void check_features(struct report *r, const struct features *f, bool loads,
			   bool seeding, bool verbose)
{
	bool handlers_tw = f->tw_timer_fn != 0, handlers_req = f->reqsk_timer_fn != 0;
	struct item *it;

	it = add(r, "timer_handlers", yes_no(handlers_tw && handlers_req), "timer handler addresses");
	if (f->handlers_from && verbose) /* kernel addresses: only when asked */
		snprintf(it->detail, sizeof(it->detail), "from %s: tw %#llx, reqsk %#llx",
			 f->handlers_from, (unsigned long long)f->tw_timer_fn,
			 (unsigned long long)f->reqsk_timer_fn);
	else if (f->handlers_from)
		snprintf(it->detail, sizeof(it->detail), "from %s", f->handlers_from);
	else if (f->no_timer_tracepoint)
		snprintf(it->detail, sizeof(it->detail), "not needed: %s", f->handlers_why);
	else
		snprintf(it->detail, sizeof(it->detail),
			 "unknown (%s): give synfin a loopback interface that is up, or CAP_SYSLOG",
			 f->handlers_why);

	it = add(r, "time_wait", yes_no(loads && handlers_tw), "TIME_WAIT tracking");
	if (!handlers_tw)
		snprintf(it->detail, sizeof(it->detail), "no: tw_timer_handler's address is unknown");

	it = add(r, "port_headroom", yes_no(loads && handlers_tw),
		 "ephemeral ports held per destination");
	if (!handlers_tw)
		snprintf(it->detail, sizeof(it->detail),
			 "no: without TIME_WAIT tracking no port is seen given back");

	it = add(r, "time_wait_fire_time", yes_no(loads && handlers_tw && f->timer_start_bucket),
		 "TIME_WAIT kills told from expiries to the jiffy");
	if (!f->timer_start_bucket)
		snprintf(it->detail, sizeof(it->detail),
			 "timer_start gives the requested expiry, not its bucket's (dbcdcb62b59d, "
			 "6.8): a kill within the wheel's slack after it counts as expired");

	it = add(r, "exact_server_latency", yes_no(loads && handlers_req),
		 "exact server latency (SYN arrival)");
	if (!handlers_req)
		snprintf(it->detail, sizeof(it->detail),
			 "estimated from srtt instead: reqsk_timer_handler's address is unknown");

	it = add(r, "seeding", yes_no(loads && seeding), "seeding existing sockets (iter/tcp)");

	it = add(r, "sk_storage", yes_no(f->sk_storage), "SK_STORAGE in tracing programs");
	if (!f->sk_storage)
		snprintf(it->detail, sizeof(it->detail),
			 "no room for sockets past the per-socket hash's 65,536 (counted untracked); "
			 "server pid/comm unknown (null)");
	add(r, "server_pid", yes_no(f->sk_storage), "server pid/comm (listener's owner)");

	it = add(r, "socket_cookie", yes_no(f->socket_cookie), "socket cookies in tracing programs");
	if (!f->socket_cookie)
		snprintf(it->detail, sizeof(it->detail),
			 "cookie read from the socket: null unless the kernel made one");

	it = add(r, "rdonly_cast", yes_no(f->rdonly_cast), "direct reads of timer objects");
	if (!f->rdonly_cast)
		snprintf(it->detail, sizeof(it->detail),
			 "no bpf_rdonly_cast kfunc: objects are copied (bpf_probe_read_kernel)");

	it = add(r, "preempt_kfuncs", yes_no(f->preempt_kfuncs), "programs run unpreempted");
	if (!f->preempt_kfuncs)
		snprintf(it->detail, sizeof(it->detail),
			 "no bpf_preempt_disable kfunc: fine where tracepoints disable preemption");

	it = add(r, "resets", yes_no(loads && f->resets), "resets counted, closes say why");
	if (!f->resets)
		snprintf(it->detail, sizeof(it->detail),
			 "no tcp_send_reset or tcp_receive_reset tracepoint");
	it = add(r, "rst_reason", yes_no(loads && f->resets && f->rst_reason),
		 "the kernel's reason for each reset sent");
	if (!f->rst_reason)
		snprintf(it->detail, sizeof(it->detail),
			 "tcp_send_reset passes none (b533fb9cf4f7, 6.10): active or reply instead");
	it = add(r, "rst_every_socket", yes_no(loads && f->resets && f->rst_every_socket),
		 "resets sent without a full socket seen");
	if (!f->rst_every_socket)
		snprintf(it->detail, sizeof(it->detail),
			 "tcp_send_reset fires for full sockets only (before 19822a980e19, 6.10): "
			 "replies from no socket or a TIME_WAIT are not counted");

	it = add(r, "cmpxchg", yes_no(f->cmpxchg), "per-socket state in slots (inline lookups)");
	if (!f->cmpxchg)
		snprintf(it->detail, sizeof(it->detail),
			 "no BPF_CMPXCHG: per-socket state in a hash, ~1 us more per connection");

	it = add(r, "recursion_misses", yes_no(f->recursion_misses),
		 "skipped program runs counted as lost");
	if (!f->recursion_misses)
		snprintf(it->detail, sizeof(it->detail),
			 "the kernel does not report recursion misses: such losses are invisible");

	it = add(r, "time_wait_audit", yes_no(!f->tw_counted_at_end),
		 "self-audit of TIME_WAIT entries (TcpExtTW)");
	if (f->tw_counted_at_end)
		snprintf(it->detail, sizeof(it->detail),
			 "this kernel counts TcpExtTW when a TIME_WAIT ends (inet_timewait_sock has "
			 "tw_kill): drift.time_wait has no value");
}

static void print_text(const struct report *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		printf("%-40s %-4s %s\n", r->items[i].what, r->items[i].status, r->items[i].detail);
	printf("%s\n", r->fatal ? "synfin cannot run here: see FAIL above" : "synfin can run here");
}

/* What --live saw: the session's figures after watching for a while. */
struct live {
	bool done;
	uint32_t netns;
	struct session_info ri;
};

/* {"kernel":..., "can_run":bool, "features":{name:bool}, "reasons":{name:"why not"}
 *  [, "live": {"duration_ms", "events_lost", "kernel_drift"}]} */
static void print_json(const struct report *r, const struct live *lv)
{
	struct utsname u;
	struct jw j;
	int i;

	uname(&u);
	jw_init(&j, stdout);
	jw_object(&j, NULL);
	jw_str(&j, "kernel", u.release);
	jw_bool(&j, "can_run", !r->fatal);
	jw_object(&j, "features");
	for (i = 0; i < r->n; i++)
		if (r->items[i].feature)
			jw_bool(&j, r->items[i].feature, !strcmp(r->items[i].status, "ok"));
	jw_close(&j);
	jw_object(&j, "reasons");
	for (i = 0; i < r->n; i++)
		if (r->items[i].feature && strcmp(r->items[i].status, "ok"))
			jw_str(&j, r->items[i].feature,
			       r->items[i].detail[0] ? r->items[i].detail : r->items[i].what);
	jw_close(&j);
	if (lv && lv->done) {
		jw_object(&j, "live");
		jw_u64(&j, "duration_ms", lv->ri.duration_ms);
		jw_u64(&j, "events_lost", lv->ri.lost);
		json_kernel_drift(&j, &lv->ri.audit);
		jw_close(&j);
	}
	jw_close(&j);
	jw_end_line(&j);
}

/* --live: synfin's programs loaded as watch loads them, for a while, and the self-audit of
 * what they saw against the kernel's counters. 0 or -errno with err filled. */
static int run_live(const char *netns_path, double duration_s, struct live *lv, char *err,
		    size_t errlen)
{
	struct session_config cfg = { SESSION_CONFIG_DEFAULTS, .netns_path = netns_path };
	struct session s;
	uint64_t until;
	int ret;

	ret = session_config_finish(&cfg, err, errlen);
	if (!ret)
		ret = session_start(&s, &cfg, NULL, NULL, NULL, err, errlen);
	if (ret)
		return ret;
	until = s.started_ns + (uint64_t)(duration_s * 1e9);
	while (session_now_ns() < until && (ret = session_poll(&s)) >= 0)
		;
	if (ret < 0) {
		snprintf(err, errlen, "reading the ring buffer failed: %s", strerror(-ret));
		session_stop(&s);
		return ret;
	}
	session_flush(&s);
	session_read_info(&s, &lv->ri);
	session_stop(&s);
	lv->done = true;
	return 0;
}

int check_main(int argc, char **argv)
{
	struct report r = { .n = 0 };
	bool verbose = false, json = false, loads = true, live = false;
	const char *netns_path = NULL;
	double duration_s = 2;
	struct live lv = { 0 };
	struct mode_result res = { .listen_walk = -ENOEXEC };
	struct features f;
	char err[320];
	struct item *it;
	size_t m;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--live")) {
			live = true;
		} else if ((!strcmp(argv[i], "--duration") || !strcmp(argv[i], "--netns")) &&
			   i + 1 < argc) {
			if (argv[i][2] == 'n') {
				netns_path = argv[++i];
			} else if (parse_seconds(argv[++i], 3600, &duration_s) || duration_s <= 0) {
				fprintf(stderr, "synfin: check --duration: '%s' is not 0-3600 seconds\n",
					argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "synfin: check takes only -v, --json, --live, --duration SECONDS "
					"and --netns PATH (got '%s')\n", argv[i]);
			return 2;
		}
	}
	/* Capabilities, not uid 0: a service user holding CAP_BPF and CAP_PERFMON runs synfin. */
	loads = !privilege_require(PRIV_LOAD, err, sizeof(err));
	it = add(&r, NULL, loads ? "ok" : "FAIL", "capabilities (CAP_BPF, CAP_PERFMON)");
	if (!loads)
		snprintf(it->detail, sizeof(it->detail), "%s", err);
	loads = true;
	check_btf(&r);
	if (!r.fatal) {
		if (features_probe(&f, err, sizeof(err))) {
			it = add(&r, NULL, "FAIL", "feature probes");
			snprintf(it->detail, sizeof(it->detail), "%s", err);
		}
	}
	if (!r.fatal) {
		for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
			loads &= check_mode(&r, &f, m, verbose, &res);
		check_features(&r, &f, loads, res.seeding, verbose);
		check_listen(&r, &f, loads, &res);
	}
	if (live && !r.fatal && run_live(netns_path, duration_s, &lv, err, sizeof(err))) {
		it = add(&r, NULL, "FAIL", "--live: watching");
		snprintf(it->detail, sizeof(it->detail), "%s", err);
	}
	if (json) {
		print_json(&r, &lv);
	} else {
		print_text(&r);
		if (lv.done) {
			printf("\nlive, %.1f s: %llu events lost\n", lv.ri.duration_ms / 1000.0,
			       (unsigned long long)lv.ri.lost);
			table_kernel_drift(stdout, &lv.ri.audit);
		}
	}
	return r.fatal ? 1 : 0;
}
