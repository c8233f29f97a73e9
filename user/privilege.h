/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Capabilities, not root: what synfin needs is checked before it starts, and everything is
 * dropped once the programs are loaded, attached and seeded (docs/least-privilege.md). */
#ifndef SYNFIN_PRIVILEGE_H
#define SYNFIN_PRIVILEGE_H

#include <stdbool.h>
#include <stddef.h>

/* What a face needs beyond loading and attaching its programs. */
enum privilege_need {
	PRIV_LOAD = 0,             /* CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN for both) */
	PRIV_CGROUP = 1 << 0,      /* synfin run: its cgroup in the cgroup2 root */
	PRIV_SET_USER = 1 << 1,    /* synfin run: CMD as another user */
};

/* 0, or -EPERM with err naming the missing capabilities ("needs CAP_X ...; run as root or
 * grant them"). */
int privilege_require(unsigned int needs, char *err, size_t errlen);

/* Whether the effective set holds cap (a CAP_* number). */
bool privilege_have(unsigned int cap);

/* Prints one note per kind of pre-existing socket seeding cannot reach without
 * CAP_SYS_ADMIN / CAP_SYS_PTRACE. netns_path: the --netns argument or NULL. */
void privilege_note_seed(const char *netns_path);

/* Empties the effective, permitted, inheritable and ambient sets, the bounding set too
 * when CAP_SETPCAP allows it, and sets no_new_privs: nothing exec'd later can gain any.
 * The one exception: a kernel that refuses bpf() on bpf_fd (an open map) without CAP_BPF
 * keeps CAP_BPF (or CAP_SYS_ADMIN), with a note. 0, or -errno with err filled; the result
 * is read back, not assumed. */
int privilege_drop(int bpf_fd, char *err, size_t errlen);

#endif
