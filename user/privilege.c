// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <cap-ng.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
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

int privilege_drop(char *err, size_t errlen)
{
	/* The bounding set can be emptied only with CAP_SETPCAP (root has it, a service user
	 * with ambient capabilities does not): no_new_privs then keeps exec from using it. */
	bool setpcap = privilege_have(CAP_SETPCAP);
	capng_select_t sets = CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT;
	unsigned int cap;

	if (setpcap)
		sets |= CAPNG_SELECT_BOUNDS;
	capng_clear(sets);
	if (capng_apply(sets) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "dropping capabilities failed: %s", strerror(errno ? errno : EPERM));
		return -EPERM;
	}
	if (capng_get_caps_process())
		return snprintf(err, errlen, "reading capabilities back failed"), -EPERM;
	for (cap = 0; cap < 64; cap++) {
		if (capng_have_capability(CAPNG_EFFECTIVE, cap) ||
		    capng_have_capability(CAPNG_PERMITTED, cap)) {
			snprintf(err, errlen, "dropping capabilities failed: %s is still held",
				 capng_capability_to_name(cap));
			return -EPERM;
		}
	}
	return 0;
}
