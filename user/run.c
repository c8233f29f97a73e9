// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `synfin run -- CMD`: the CI face. CMD runs in a fresh cgroup v2 (synfin-run-<pid> under the
 * cgroup2 mount) and the programs are loaded with that cgroup's id as their filter, so only
 * sockets created inside it are tracked: CMD's, its descendants', and the children accepted
 * from their listeners (an accepted socket inherits the listener's cgroup data:
 * net/core/sock.c: sk_clone_lock()).
 * The child joins the cgroup before exec, so not one socket of CMD is created outside it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "assert_expr.h"
#include "baseline.h"
#include "cgroup.h"
#include "child.h"
#include "format.h"
#include "janitor.h"
#include "privilege.h"
#include "opts.h"
#include "render.h"
#include "report_html.h"
#include "report_json.h"
#include "run.h"
#include "session.h"
#include "version.h"

#define MAX_ASSERTS 64
#define SUMMARY_LABEL_WIDTH 20 /* as the %-20s of the summary's other lines */
#define LEFTOVER_WAIT_MS 2000 /* SIGKILLed processes leave the cgroup within ms */

enum {
	OPT_REPORT = 256,
	OPT_HTML,
	OPT_PROM,
	OPT_BASELINE,
	OPT_SETTLE,
	OPT_ALLOW_NO_SAMPLES,
	OPT_ALLOW_LOST,
	OPT_USER,
};

static const struct opt_def run_opts[] = {
	{ "assert", required_argument, 'a', "EXPR", "METRIC OP VALUE, e.g. 'handshake.client.p99 < 5ms' (repeatable; metrics below)" },
	{ "report", required_argument, OPT_REPORT, "FILE", "write the whole run as JSON (schema docs/run-report.schema.json)" },
	{ "prom", required_argument, OPT_PROM, "FILE", "write the summary in Prometheus text format (pushgateway, CI dashboards)" },
	{ "html", required_argument, OPT_HTML, "FILE", "write a self-contained HTML report (charts, assertions, endpoints)" },
	{ "baseline", required_argument, OPT_BASELINE, "FILE", "an earlier --report: print deltas, allow 'METRIC OP baseline * 1.2'" },
	{ "settle", required_argument, OPT_SETTLE, "DURATION", "after CMD exits, keep collecting this long for closes in flight (default 200ms)" },
	{ "quiet", no_argument, 'q', NULL, "no summary table: only failed assertions and errors" },
	{ "allow-no-samples", no_argument, OPT_ALLOW_NO_SAMPLES, NULL, "an assertion on a quantile or max of nothing passes (default: it fails, 'no samples')" },
	{ "allow-lost", required_argument, OPT_ALLOW_LOST, "N", "pass with up to N lost events (default 0: any loss fails the run, its counts are low)" },
	{ "user", required_argument, OPT_USER, "NAME|UID", "run CMD as this user (default: the sudo caller, SUDO_UID/SUDO_GID; as root without either: root, with a notice)" },
	SESSION_OPTS_TUNING,
	{ 0 },
};

struct run {
	struct session_config cfg;
	struct assertion asserts[MAX_ASSERTS];
	struct assert_result results[MAX_ASSERTS];
	unsigned int nasserts;
	const char *report_path, *html_path, *prom_path, *baseline_path;
	FILE *report, *html, *prom;
	struct baseline *baseline;
	double settle_us;
	bool quiet;
	bool allow_no_samples;
	uint64_t allow_lost;
	struct cgroup cgroup;
	struct janitor janitor;
	const char *user_arg;
	struct child_user user;
	bool root_notice;        /* CMD runs as root only because nothing said otherwise */
	char **cmd;
	struct child_launch launch;
	struct session s;
	struct endpoint_table *endpoints;
	struct tw_timeline tw;
};

static int bad_value(const char *arg, int key, char *err, size_t errlen)
{
	return opts_bad_value(run_opts, key, arg, err, errlen);
}

static int apply_opt(int key, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct run *r = ctx;
	int ret;

	ret = session_apply_opt(&r->cfg, key, arg, err, errlen);
	if (ret <= 0)
		return ret;
	switch (key) {
	case 'a':
		if (r->nasserts == MAX_ASSERTS) {
			snprintf(err, errlen, "more than %d --assert", MAX_ASSERTS);
			return -EINVAL;
		}
		return assert_parse(arg, &r->asserts[r->nasserts++], err, errlen);
	case OPT_REPORT:
		r->report_path = arg;
		return 0;
	case OPT_HTML:
		r->html_path = arg;
		return 0;
	case OPT_PROM:
		r->prom_path = arg;
		return 0;
	case OPT_BASELINE:
		r->baseline_path = arg;
		return 0;
	case OPT_SETTLE:
		if (parse_duration_us(arg, &r->settle_us) || r->settle_us > 60e6)
			return bad_value(arg, key, err, errlen);
		return 0;
	case 'q':
		r->quiet = true;
		return 0;
	case OPT_ALLOW_NO_SAMPLES:
		r->allow_no_samples = true;
		return 0;
	case OPT_USER:
		r->user_arg = arg;
		return 0;
	case OPT_ALLOW_LOST:
		if (parse_u64(arg, 0, UINT64_MAX, &r->allow_lost))
			return bad_value(arg, key, err, errlen);
		return 0;
	}
	snprintf(err, errlen, "unhandled option");
	return -EINVAL;
}

static void help(void)
{
	opts_help(stdout, "Usage: synfin run [OPTIONS] -- CMD [ARGS...]\n\n"
		  "Runs CMD in a cgroup of its own and observes only the TCP connections that CMD and its\n"
		  "descendants open or accept. When CMD exits, prints a summary (on stderr), checks the\n"
		  "assertions and writes the reports.", run_opts);
	printf("\nMetrics for --assert (durations take a unit: %s; counts take none):\n",
	       duration_unit_list());
	run_metrics_help(stdout);
	printf("\nOperators: < <= > >= == !=. With --baseline, VALUE may also be 'baseline',\n"
	       "'baseline * FACTOR', 'baseline + VALUE' or 'baseline - VALUE'.\n\n"
	       "Exit status: 0 CMD succeeded and every assertion held; 1 an assertion failed, events\n"
	       "were lost (beyond --allow-lost) or synfin could not observe; CMD's own status when\n"
	       "CMD failed (128+N when killed by signal N), assertions still reported; 2 usage error\n"
	       "(CMD is not started).\n");
}

/* ---------------------------------------------------------------- output */

static void on_event(void *ctx, const struct synfin_event *e)
{
	struct run *r = ctx;

	endpoints_add(r->endpoints, e);
	tw_timeline_add(&r->tw, e);
}

static void print_summary(FILE *f, const struct run_report *rep, const struct run_values *v)
{
	const struct summary *s = rep->sum;
	unsigned int i, j;
	char d[32], cmd[72] = "", shown[sizeof(cmd)];
	size_t n = 0;
	int a, cw_max;

	for (a = 0; a < rep->argc && n < sizeof(cmd) - 1; a++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s", a ? " " : "",
				      term_str(shown, sizeof(shown), rep->argv[a]));
	if (n >= sizeof(cmd) - 1)
		memcpy(cmd + sizeof(cmd) - 4, "...", 4);
	fprintf(f, "\nsynfin run: '%s' ", cmd);
	if (rep->term_signal > 0)
		fprintf(f, "was killed by signal %d", rep->term_signal);
	else
		fprintf(f, "exited with %d", rep->exit_code);
	fprintf(f, " after %.2f s\n", (double)rep->ri->duration_ms / 1000);
	table_quantiles(f, SUMMARY_LABEL_WIDTH, "handshakes client", &s->handshake[SYNFIN_SIDE_CLIENT]);
	table_quantiles(f, SUMMARY_LABEL_WIDTH, "handshakes server", &s->handshake[SYNFIN_SIDE_SERVER]);
	fprintf(f, "  %-20s %8" PRIu64 "  ", "connect failures", summary_connect_failures(s));
	for (i = 0; i < SYNFIN_FAIL_REASON_MAX; i++)
		if (s->connect_fail[i])
			fprintf(f, " %s %" PRIu64, fail_reason_name(i), s->connect_fail[i]);
	fprintf(f, "\n  %-20s %8s   SYN %.0f, SYN-ACK %.0f\n", "retransmits", "",
		run_metric_value(v, "retransmits.syn"),
		run_metric_value(v, "retransmits.synack"));
	fprintf(f, "  %-20s %8" PRIu64 "  ", "closes", summary_closes(s));
	for (i = 0; i < SYNFIN_INIT_MAX; i++)
		for (j = 0; j < SYNFIN_HOW_MAX; j++)
			if (s->closes[i][j])
				fprintf(f, " %s %s %" PRIu64, initiator_name(i), how_name(j), s->closes[i][j]);
	fprintf(f, "\n  %-20s %8" PRIu64 "   peak %" PRIu64 " at once\n", "TIME_WAIT entries",
		s->tw_entries, s->tw_peak);
	cw_max = run_metric_find("close_wait.max", strlen("close_wait.max"));
	run_metric_format(d, sizeof(d), (unsigned int)cw_max, v->v[cw_max]);
	fprintf(f, "  %-20s %8s\n", "longest CLOSE_WAIT", d);
	fprintf(f, "  %-20s %8" PRIu64 "%s\n", "events lost", rep->ri->lost,
		rep->ri->lost ? "   (counts are low: raise --ring-size)" : "");
	if (rep->ri->untracked)
		fprintf(f, "  %-20s %8" PRIu64 "   (kernel maps full)\n", "untracked", rep->ri->untracked);
	if (rep->leftovers)
		fprintf(f, "  %-20s %8" PRIu64 "   (still running when CMD exited: killed)\n",
			"leftover processes", rep->leftovers);
}

static void print_deltas(FILE *f, const struct run *r, const struct run_values *v)
{
	char b[32], n[32], pct[24];
	double delta, p;
	unsigned int i;

	fprintf(f, "\nagainst the baseline %s:\n", r->baseline_path);
	for (i = 0; i < run_metric_count(); i++) {
		if (baseline_delta(r->baseline, i, v->v[i], &delta, &p))
			continue;
		if (!v->v[i] && !r->baseline->v.v[i])
			continue;
		run_metric_format(b, sizeof(b), i, r->baseline->v.v[i]);
		run_metric_format(n, sizeof(n), i, v->v[i]);
		if (isnan(p))
			snprintf(pct, sizeof(pct), "new");
		else
			snprintf(pct, sizeof(pct), "%+.1f%%", p);
		fprintf(f, "  %-30s %10s -> %-10s %s\n", run_metric(i)->name, b, n, pct);
	}
}

static int open_output(const char *path, FILE **f)
{
	if (!path)
		return 0;
	*f = fopen(path, "we");
	if (!*f) {
		fprintf(stderr, "synfin: cannot write '%s': %s\n", path, strerror(errno));
		return -errno;
	}
	return 0;
}

static int load_baseline(struct run *r)
{
	char *buf, err[256];
	size_t n;
	FILE *f;
	int ret;

	f = fopen(r->baseline_path, "re");
	if (!f) {
		fprintf(stderr, "synfin: --baseline %s: %s\n", r->baseline_path, strerror(errno));
		return -errno;
	}
	/* one byte more than the parser takes, so a larger file is refused as such */
	buf = malloc(BASELINE_MAX_BYTES + 1);
	r->baseline = calloc(1, sizeof(*r->baseline));
	if (!buf || !r->baseline) {
		fclose(f);
		free(buf);
		return -ENOMEM;
	}
	n = fread(buf, 1, BASELINE_MAX_BYTES + 1, f);
	fclose(f);
	ret = baseline_parse(buf, n, r->baseline, err, sizeof(err));
	free(buf);
	if (ret)
		fprintf(stderr, "synfin: --baseline %s: %s\n", r->baseline_path, err);
	return ret;
}

/* Checks made before CMD starts: each is a usage error (exit 2). */
static int check_usage(struct run *r)
{
	unsigned int i;

	for (i = 0; i < r->nasserts; i++) {
		const struct assertion *a = &r->asserts[i];

		if (a->rel == REL_NONE)
			continue;
		if (!r->baseline_path) {
			fprintf(stderr, "synfin: --assert '%s' compares with the baseline: give one with --baseline FILE.json\n",
				a->text);
			return -EINVAL;
		}
	}
	if (r->baseline_path && load_baseline(r))
		return -EINVAL;
	for (i = 0; i < r->nasserts; i++) {
		const struct assertion *a = &r->asserts[i];

		if (a->rel != REL_NONE && !r->baseline->have[a->metric]) {
			fprintf(stderr, "synfin: --assert '%s': the baseline %s has no value for %s\n",
				a->text, r->baseline_path, run_metric(a->metric)->name);
			return -EINVAL;
		}
	}
	if (open_output(r->report_path, &r->report) || open_output(r->html_path, &r->html) ||
	    open_output(r->prom_path, &r->prom))
		return -EINVAL;
	return 0;
}

static int write_reports(struct run *r, const struct run_report *rep)
{
	int ret = 0;

	if (r->report) {
		if (report_json_write(r->report, rep) | fclose(r->report)) {
			fprintf(stderr, "synfin: writing %s failed\n", r->report_path);
			ret = -EIO;
		}
		r->report = NULL;
	}
	if (r->html) {
		if (report_html_write(r->html, rep) | fclose(r->html)) {
			fprintf(stderr, "synfin: writing %s failed\n", r->html_path);
			ret = -EIO;
		}
		r->html = NULL;
	}
	if (r->prom) {
		if (report_prom_write(r->prom, rep) | fclose(r->prom)) {
			fprintf(stderr, "synfin: writing %s failed\n", r->prom_path);
			ret = -EIO;
		}
		r->prom = NULL;
	}
	return ret;
}

static void close_outputs(struct run *r)
{
	if (r->report)
		fclose(r->report);
	if (r->html)
		fclose(r->html);
	if (r->prom)
		fclose(r->prom);
	r->report = r->html = r->prom = NULL;
}

/* ---------------------------------------------------------------- CMD's user */

static int parse_id(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return !*s || *end || errno || *v >= (uid_t)-1 ? -EINVAL : 0;
}

/* Who CMD runs as: --user, else the sudo caller, else synfin's own user. Never root by
 * accident: root only with --user root, or with a notice when synfin is root and nothing
 * names anyone else. 0, or -EINVAL with err set (a usage error). */
static int resolve_user(struct run *r, char *err, size_t errlen)
{
	const char *suid = getenv("SUDO_UID"), *sgid = getenv("SUDO_GID");
	unsigned long uid, gid;
	struct passwd *pw;

	if (r->user_arg) {
		pw = getpwnam(r->user_arg);
		if (!pw && !parse_id(r->user_arg, &uid))
			pw = getpwuid((uid_t)uid);
		if (!pw) {
			snprintf(err, errlen, "--user %s: no such user", r->user_arg);
			return -EINVAL;
		}
		r->user = (struct child_user){ .set = true, .uid = pw->pw_uid, .gid = pw->pw_gid };
	} else if (suid && geteuid() == 0) {
		if (parse_id(suid, &uid) || !sgid || parse_id(sgid, &gid)) {
			snprintf(err, errlen, "SUDO_UID/SUDO_GID '%s'/'%s' are not ids: give --user",
				 suid, sgid ? sgid : "");
			return -EINVAL;
		}
		r->user = (struct child_user){ .set = true, .uid = (uid_t)uid, .gid = (gid_t)gid };
	} else {
		r->root_notice = geteuid() == 0;
		return 0; /* synfin's own ids */
	}
	if (r->user.uid == geteuid() && r->user.gid == getegid() && r->user.uid != 0)
		r->user.set = false; /* already them */
	return 0;
}

/* The last things done with synfin's capabilities (session_start() drops them next): the
 * janitor that will remove the cgroup, and CMD's process, in the cgroup and already its
 * user, waiting to exec. */
static int before_drop(void *ctx, char *err, size_t errlen)
{
	struct run *r = ctx;
	int ret;

	ret = janitor_start(&r->janitor, &r->cgroup, err, errlen);
	if (!ret)
		ret = child_spawn(r->cmd, &r->cgroup, &r->user, &r->launch, err, errlen);
	/* Signals to CMD (SIGTERM passed on, leftovers killed one by one before cgroup.kill,
	 * 5.14) need no CAP_KILL when synfin's real uid is CMD's (kill_ok_by_cred()); the
	 * effective uid stays, for the cgroup's files. */
	if (!ret && r->user.set && r->user.uid != getuid() && setresuid(r->user.uid, -1, -1)) {
		ret = -errno;
		snprintf(err, errlen, "setting the real uid to CMD's failed: %s", strerror(-ret));
	}
	return ret;
}

/* ---------------------------------------------------------------- main */

static int observe(struct run *r, char **cmd, int ncmd);

int run_main(int argc, char **argv)
{
	struct run *r;
	char err[512];
	int first = 0, ret;

	r = calloc(1, sizeof(*r));
	if (!r) {
		fprintf(stderr, "synfin: out of memory\n");
		return 1;
	}
	r->cfg = (struct session_config){
		SESSION_CONFIG_DEFAULTS,
		/* the cgroup is new: no socket of it can exist before the start */
		.no_seed = true,
	};
	r->settle_us = 200e3;
	ret = opts_parse(argc, argv, run_opts, apply_opt, r, &first, err, sizeof(err));
	if (ret == 1) {
		help();
		ret = 0;
	} else if (ret < 0) {
		fprintf(stderr, "synfin: %s%s\n", err,
			strstr(err, "--help") ? "" : " (see 'synfin run --help')");
		ret = 2;
	} else if (first >= argc) {
		fprintf(stderr, "synfin: run: no command given: synfin run [OPTIONS] -- CMD [ARGS...]\n");
		ret = 2;
	} else if (check_usage(r)) {
		ret = 2;
	} else {
		ret = observe(r, argv + first, argc - first);
	}
	close_outputs(r);
	free(r->baseline);
	free(r->endpoints);
	free(r);
	return ret;
}

/* Polls the session while the cgroup empties. */
static void poll_session(void *ctx)
{
	struct run *r = ctx;

	session_poll(&r->s);
}

/* Checks the assertions, prints the summary and the verdict, writes the reports: synfin's
 * exit status. */
static int judge(struct run *r, const struct session_info *ri, char **cmd, int ncmd,
		 int wstatus, uint64_t leftovers, int64_t started_unix_ms)
{
	struct run_values values;
	struct run_report rep;
	unsigned int i, failed = 0;
	char line[400];

	run_values_compute(&values, &r->s.sum, ri);
	for (i = 0; i < r->nasserts; i++) {
		const struct assertion *a = &r->asserts[i];

		assert_eval(a, &values, r->baseline ? r->baseline->v.v[a->metric] : NAN,
			    &r->results[i]);
		if (r->results[i].no_samples && r->allow_no_samples)
			r->results[i].passed = true;
		failed += !r->results[i].passed;
	}
	rep = (struct run_report){
		.sum = &r->s.sum, .ri = ri, .values = &values, .endpoints = r->endpoints,
		.tw = &r->tw, .asserts = r->asserts, .results = r->results, .nasserts = r->nasserts,
		.baseline = r->baseline ? &r->baseline->v : NULL,
		.baseline_have = r->baseline ? r->baseline->have : NULL,
		.baseline_path = r->baseline_path, .argv = cmd, .argc = ncmd,
		.cgroup_id = r->cgroup.id, .leftovers = leftovers, .lost_allowed = r->allow_lost,
		.started_unix_ms = started_unix_ms, .version = SYNFIN_VERSION,
	};
	rep.exit_status = child_exit_status(wstatus, &rep.exit_code, &rep.term_signal);
	if (!rep.exit_status && (failed || ri->lost > r->allow_lost))
		rep.exit_status = 1;

	if (!r->quiet) {
		print_summary(stderr, &rep, &values);
		if (r->baseline)
			print_deltas(stderr, r, &values);
		if (r->nasserts)
			fputc('\n', stderr);
	}
	for (i = 0; i < r->nasserts; i++) {
		assert_describe(line, sizeof(line), &r->asserts[i], &r->results[i]);
		if (!r->results[i].passed)
			fprintf(stderr, "synfin: assertion failed: %s\n", line);
		else if (!r->quiet)
			fprintf(stderr, "ok: %s\n", line);
	}
	if (ri->lost > r->allow_lost)
		fprintf(stderr, "synfin: %" PRIu64 " events lost (more than --allow-lost %" PRIu64
			"): every count may be low, so the run fails\n", ri->lost, r->allow_lost);
	if (rep.exit_code > 0 || rep.term_signal)
		fprintf(stderr, "synfin: %s %s %d: passing its status on\n", cmd[0],
			rep.term_signal ? "was killed by signal" : "exited with",
			rep.term_signal ? rep.term_signal : rep.exit_code);
	if (write_reports(r, &rep) && !rep.exit_status)
		rep.exit_status = 1;
	return rep.exit_status;
}

/* Runs CMD in its cgroup under observation until it exits and the closes in flight have
 * arrived, then judges. Whatever was set up is torn down at one place, the end. */
static int observe(struct run *r, char **cmd, int ncmd)
{
	struct session_info ri;
	struct timespec wall;
	sigset_t oldmask;
	int wstatus = 0, exec_errno = 0, ret, status = 1;
	bool session_up = false;
	uint64_t settle_end, leftovers = 0;
	int64_t started_unix_ms;
	char err[512], name[32];
	pid_t pid = -1;

	if (resolve_user(r, err, sizeof(err))) {
		fprintf(stderr, "synfin: %s (see 'synfin run --help')\n", err);
		return 2;
	}
	if (privilege_require(PRIV_CGROUP | (r->user.set ? PRIV_SET_USER : 0), err, sizeof(err)))
		goto out_err;
	r->cmd = cmd;
	r->cfg.before_drop = before_drop;
	r->endpoints = calloc(1, sizeof(*r->endpoints));
	if (!r->endpoints) {
		fprintf(stderr, "synfin: out of memory\n");
		goto out;
	}
	snprintf(name, sizeof(name), "synfin-run-%d", (int)getpid());
	if (cgroup_create(&r->cgroup, name, err, sizeof(err)))
		goto out_err;
	r->cfg.load.cgroup = r->cgroup.id;
	r->cfg.load.no_comm = true; /* neither the report nor an assertion names a process */
	if (session_config_finish(&r->cfg, err, sizeof(err)) ||
	    session_start(&r->s, &r->cfg, on_event, NULL, r, err, sizeof(err)))
		goto out_err;
	session_up = true;
	tw_timeline_init(&r->tw, r->s.started_ns);
	clock_gettime(CLOCK_REALTIME, &wall);
	started_unix_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
	signal(SIGPIPE, SIG_IGN);
	child_catch_signals(&oldmask);
	if (child_signal()) {
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		child_abandon(&r->launch);
		status = CHILD_EXIT_SIGNAL_BASE + child_signal();
		goto out;
	}
	if (r->root_notice)
		fprintf(stderr, "synfin: note: running CMD as root (no SUDO_UID, no --user; --user root says so)\n");
	pid = child_release(&r->launch, &exec_errno, err, sizeof(err));
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	if (pid < 0)
		goto out_err;
	if (exec_errno)
		fprintf(stderr, "synfin: run: cannot execute '%s': %s\n", cmd[0], strerror(exec_errno));
	for (;;) {
		ret = session_poll(&r->s);
		if (ret < 0) {
			/* CMD still runs, but the run cannot be judged: end it */
			fprintf(stderr, "synfin: reading the ring buffer failed: %s\n", strerror(-ret));
			kill(pid, SIGTERM);
			waitpid(pid, &wstatus, 0);
			goto out;
		}
		ret = waitpid(pid, &wstatus, WNOHANG);
		if (ret == pid)
			break;
		if (ret < 0 && errno != EINTR) {
			fprintf(stderr, "synfin: waiting for '%s' failed: %s\n", cmd[0], strerror(errno));
			goto out;
		}
	}
	child_gone();
	pid = -1;
	leftovers = (uint64_t)cgroup_kill_all(&r->cgroup, LEFTOVER_WAIT_MS, poll_session, r);
	settle_end = session_now_ns() + (uint64_t)(r->settle_us * 1000);
	while (session_now_ns() < settle_end && session_poll(&r->s) >= 0)
		;
	session_flush(&r->s);
	session_read_info(&r->s, &ri);
	tw_timeline_end(&r->tw, session_now_ns());
	status = judge(r, &ri, cmd, ncmd, wstatus, leftovers, started_unix_ms);
	goto out;
out_err:
	fprintf(stderr, "synfin: %s\n", err);
out:
	if (pid > 0)
		child_gone();
	child_abandon(&r->launch);
	if (r->cgroup.dir[0])
		cgroup_kill_all(&r->cgroup, LEFTOVER_WAIT_MS, session_up ? poll_session : NULL, r);
	if (session_up)
		session_stop(&r->s);
	/* Without capabilities synfin cannot remove the cgroup itself: the janitor does. */
	if (r->janitor.pid)
		janitor_finish(&r->janitor); /* it says so itself when it cannot */
	else if (r->cgroup.dir[0] && (ret = cgroup_remove(&r->cgroup)))
		fprintf(stderr, "synfin: removing the cgroup %s failed: %s; remove it with rmdir once it is empty\n",
			r->cgroup.dir, strerror(-ret));
	return status;
}
