// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <cap-ng.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "privilege.h"

bool privilege_have(unsigned int cap)
{
	if (capng_get_caps_process())
		return false;
	return capng_have_capability(CAPNG_EFFECTIVE, cap) == 1;
}

static void append(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
}

int privilege_require(unsigned int needs, char *err, size_t errlen)
{
	/* Since 5.8 (commit a17b53c4a4b5 "bpf, capability: Introduce CAP_BPF" and 980737282232
	 * "capability: Introduce CAP_PERFMON") CAP_SYS_ADMIN still implies both. */
	bool admin = privilege_have(CAP_SYS_ADMIN);
	char missing[160] = "";

	if (!admin && !privilege_have(CAP_BPF))
		append(missing, sizeof(missing), "CAP_BPF");
	if (!admin && !privilege_have(CAP_PERFMON))
		append(missing, sizeof(missing), "CAP_PERFMON");
	if (missing[0]) {
		snprintf(err, errlen, "needs CAP_BPF and CAP_PERFMON to load its programs (missing: %s); "
			 "run as root or grant them (docs/least-privilege.md)", missing);
		return -EPERM;
	}
	/* The cgroup2 root directory is mode 0555: even uid 0 creates and removes cgroups
	 * there only with CAP_DAC_OVERRIDE (measured). */
	if ((needs & PRIV_CGROUP) && !privilege_have(CAP_DAC_OVERRIDE))
		append(missing, sizeof(missing), "CAP_DAC_OVERRIDE (CMD's cgroup)");
	if ((needs & PRIV_SET_USER) && !privilege_have(CAP_SETUID))
		append(missing, sizeof(missing), "CAP_SETUID (CMD's user)");
	if ((needs & PRIV_SET_USER) && !privilege_have(CAP_SETGID))
		append(missing, sizeof(missing), "CAP_SETGID (CMD's group)");
	if (missing[0]) {
		snprintf(err, errlen, "run needs %s; run as root or grant them (docs/least-privilege.md)",
			 missing);
		return -EPERM;
	}
	return 0;
}

void privilege_note_seed(const char *netns_path)
{
	/* setns() needs CAP_SYS_ADMIN; opening another user's /proc/PID/ns/net needs
	 * CAP_SYS_PTRACE (ptrace_may_access(), PTRACE_MODE_READ_FSCREDS). Without them the
	 * sockets that existed before the start are counted only where synfin can go. */
	if (!privilege_have(CAP_SYS_ADMIN))
		fprintf(stderr, "synfin: note: without CAP_SYS_ADMIN, sockets that existed before the "
				"start are counted only in synfin's own network namespace%s\n",
			netns_path ? " (not in --netns)" : "");
	else if (!netns_path && !privilege_have(CAP_SYS_PTRACE))
		fprintf(stderr, "synfin: note: without CAP_SYS_PTRACE, sockets that existed before the "
				"start are counted only in /var/run/netns namespaces and those of "
				"synfin's own user's processes\n");
}

/* Does the kernel still answer bpf() on an open fd without a BPF capability in the
 * effective set? Before "bpf: refine kernel.unprivileged_bpf_disabled behaviour" (v5.19),
 * __sys_bpf() refused every command to a task without CAP_BPF/CAP_SYS_ADMIN while
 * kernel.unprivileged_bpf_disabled was set (Debian's default), map reads of fds it already
 * held included: on 5.10 a synfin without capabilities read every gauge as 0 (measured in
 * the kernel matrix's test_serve; 6.1 answers). Tried, not assumed from a version. */
static bool bpf_fd_usable_unprivileged(int bpf_fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return !bpf_obj_get_info_by_fd(bpf_fd, &info, &len) || errno != EPERM;
}

int privilege_drop(int bpf_fd, char *err, size_t errlen)
{
	/* The bounding set can be emptied only with CAP_SETPCAP (root has it, a service user
	 * with ambient capabilities does not): no_new_privs then keeps exec from using it. */
	bool setpcap = privilege_have(CAP_SETPCAP);
	unsigned int keep = privilege_have(CAP_BPF) ? CAP_BPF : CAP_SYS_ADMIN;
	capng_select_t sets = CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT;
	bool kept = false;
	unsigned int cap;

	if (setpcap)
		sets |= CAPNG_SELECT_BOUNDS;
	/* First everything but one BPF capability, held in the permitted set only: whether the
	 * kernel needs it for the fds synfin holds is then tried, not assumed. */
	capng_clear(sets);
	capng_update(CAPNG_ADD, CAPNG_PERMITTED, keep); /* not bounding: nothing exec'd gets it */
	if (capng_apply(sets) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "dropping capabilities failed: %s", strerror(errno ? errno : EPERM));
		return -EPERM;
	}
	if (bpf_fd >= 0 && !bpf_fd_usable_unprivileged(bpf_fd)) {
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, keep);
		kept = true;
		fprintf(stderr, "synfin: note: this kernel refuses bpf() on open fds without %s "
				"(kernels before 5.19): synfin keeps that one capability, and only it\n",
			keep == CAP_BPF ? "CAP_BPF" : "CAP_SYS_ADMIN");
	} else {
		capng_clear(CAPNG_SELECT_CAPS);
	}
	if (capng_apply(CAPNG_SELECT_CAPS)) {
		snprintf(err, errlen, "dropping capabilities failed: %s", strerror(errno ? errno : EPERM));
		return -EPERM;
	}
	if (capng_get_caps_process())
		return snprintf(err, errlen, "reading capabilities back failed"), -EPERM;
	for (cap = 0; cap < 64; cap++) {
		if (kept && cap == keep)
			continue;
		if (capng_have_capability(CAPNG_EFFECTIVE, cap) ||
		    capng_have_capability(CAPNG_PERMITTED, cap)) {
			snprintf(err, errlen, "dropping capabilities failed: %s is still held",
				 capng_capability_to_name(cap));
			return -EPERM;
		}
	}
	return 0;
}
