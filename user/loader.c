// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "netns.h"
#include "synfin.skel.h"

static bool verbose_log;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!verbose_log || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static const char *load_hint(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		return "run synfin as root (it needs CAP_BPF and CAP_PERFMON)";
	case ENOENT:
	case ESRCH:
		return "the kernel lacks BTF or a tracepoint synfin needs; run 'synfin check'";
	default:
		return "run 'synfin check', or add -v to see the verifier's log";
	}
}

int loader_load(struct loader *l, const struct loader_config *c, char *err, size_t errlen)
{
	struct synfin_bpf *skel;
	int ret;

	verbose_log = c->verbose;
	libbpf_set_print(libbpf_print);
	skel = synfin_bpf__open();
	if (!skel) {
		ret = -errno;
		snprintf(err, errlen, "opening BPF object failed: %s; %s", strerror(-ret),
			 load_hint(ret));
		return ret;
	}
	skel->rodata->cfg_netns = c->netns;
	skel->rodata->cfg_cgroup = c->cgroup;
	skel->rodata->cfg_family = c->family;
	skel->rodata->cfg_wakeup_bytes = c->wakeup_bytes;
	ret = bpf_map__set_max_entries(skel->maps.events, (__u32)c->ring_bytes);
	if (!ret && !c->time_wait) {
		bpf_program__set_autoload(skel->progs.synfin_timer_start, false);
		bpf_program__set_autoload(skel->progs.synfin_timer_cancel, false);
	}
	if (!ret)
		ret = synfin_bpf__load(skel);
	if (ret) {
		snprintf(err, errlen, "loading BPF programs failed: %s; %s", strerror(-ret),
			 load_hint(ret));
		synfin_bpf__destroy(skel);
		return ret;
	}
	l->skel = skel;
	return 0;
}

int loader_attach(struct loader *l, const struct loader_config *c, char *err, size_t errlen)
{
	struct bpf_program *p;
	struct bpf_link *link;
	int ret;

	(void)c;
	/* Attach one by one so the message names the hook the kernel refused. */
	bpf_object__for_each_program(p, l->skel->obj) {
		if (!bpf_program__autoload(p))
			continue;
		link = bpf_program__attach(p);
		if (link && p == l->skel->progs.synfin_seed)
			l->seed_link = link;
		if (!link) {
			ret = -errno;
			snprintf(err, errlen, "attaching %s (%s) failed: %s; %s",
				 bpf_program__name(p), bpf_program__section_name(p), strerror(-ret),
				 load_hint(ret));
			return ret;
		}
		if (l->nlinks == LOADER_MAX_LINKS) {
			bpf_link__destroy(link);
			snprintf(err, errlen, "too many BPF programs for the loader's link table");
			return -E2BIG;
		}
		l->links[l->nlinks++] = link;
	}
	return 0;
}

void loader_destroy(struct loader *l)
{
	if (!l)
		return;
	while (l->nlinks > 0)
		bpf_link__destroy(l->links[--l->nlinks]);
	synfin_bpf__destroy(l->skel); /* NULL-safe */
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
	int seeded;
};

static int seed_netns(int fd, uint32_t ino, void *ctx)
{
	struct seed_walk *w = ctx;
	int ret;

	(void)ino;
	if (setns(fd, CLONE_NEWNET))
		return 0; /* a namespace that died meanwhile */
	ret = seed_current_netns(w->l);
	if (setns(w->home, CLONE_NEWNET))
		return -errno; /* cannot return home: stop rather than observe from elsewhere */
	if (!ret)
		w->seeded++;
	return 0;
}

int loader_seed(struct loader *l, const char *netns_path, char *err, size_t errlen)
{
	struct seed_walk w = { .l = l };
	int ret, fd;

	if (!l->seed_link)
		return 0;
	w.home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (w.home < 0) {
		ret = -errno;
		snprintf(err, errlen, "opening /proc/self/ns/net failed: %s", strerror(-ret));
		return ret;
	}
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

int loader_events_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

int loader_drops_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.drops);
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

int loader_prog_count(const struct loader *l)
{
	struct bpf_program *p;
	int n = 0;

	bpf_object__for_each_program(p, l->skel->obj)
		n++;
	return n;
}
