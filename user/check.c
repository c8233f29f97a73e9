// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "check.h"
#include "loader.h"

#define TRACEFS_MAGIC 0x74726163

/* Every hook synfin attaches, and whether synfin can do without it. */
static const struct {
	const char *name;
	bool required;
	const char *without;
} hooks[] = {
	{ "inet_sock_set_state", true, NULL },
	{ "tcp_retransmit_synack", false, "server latency after a SYN-ACK retransmit is less exact" },
	{ "timer_start", false, "no TIME_WAIT tracking (--no-time-wait)" },
	{ "timer_cancel", false, "no TIME_WAIT tracking (--no-time-wait)" },
};

static bool ksym_present(const char *name)
{
	char line[256], sym[128];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %127s", sym) == 1 && !strcmp(sym, name))
			found = true;
	fclose(f);
	return found;
}

static void line(const char *what, bool ok, const char *detail)
{
	printf("%-34s %-4s %s\n", what, ok ? "ok" : "FAIL", detail);
}

int check_main(int argc, char **argv)
{
	struct loader_config cfg = { .ring_bytes = 1 << 16, .wakeup_bytes = 1 << 14, .time_wait = true };
	struct loader l = { 0 };
	struct btf *vmlinux;
	struct statfs sfs;
	char what[80], err[256];
	bool fatal = false, root = geteuid() == 0;
	size_t i;

	if (argc > 1 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose")))
		cfg.verbose = true;
	else if (argc > 1) {
		fprintf(stderr, "synfin: check takes only -v (got '%s')\n", argv[1]);
		return 2;
	}
	line("running as root", root, root ? "" : "run synfin as root (sudo)");
	fatal |= !root;

	vmlinux = btf__load_vmlinux_btf();
	line("kernel BTF (/sys/kernel/btf/vmlinux)", vmlinux != NULL,
	     vmlinux ? "" : "this kernel was built without CONFIG_DEBUG_INFO_BTF: synfin cannot run");
	fatal |= !vmlinux;
	for (i = 0; vmlinux && i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		char type[96];
		bool ok;

		snprintf(type, sizeof(type), "btf_trace_%s", hooks[i].name);
		ok = btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) > 0;
		snprintf(what, sizeof(what), "tracepoint %s", hooks[i].name);
		line(what, ok, ok ? "(tp_btf)" : hooks[i].required ? "missing: synfin cannot run" : hooks[i].without);
		fatal |= !ok && hooks[i].required;
	}
	btf__free(vmlinux);
	for (i = 0; i < 2; i++) {
		const char *sym = i ? "reqsk_timer_handler" : "tw_timer_handler";
		bool ok = ksym_present(sym);

		snprintf(what, sizeof(what), "kernel symbol %s", sym);
		line(what, ok, ok ? "" : i ? "server latency is estimated from srtt" : "no TIME_WAIT tracking");
	}
	if (statfs("/sys/kernel/tracing", &sfs) == 0 && sfs.f_type == TRACEFS_MAGIC)
		line("tracefs", true, "mounted (synfin does not need it: tp_btf only)");
	else
		line("tracefs", true, "not mounted: fine, synfin uses tp_btf programs only");

	if (!fatal) {
		int ret = loader_load(&l, &cfg, err, sizeof(err));

		if (!ret) {
			snprintf(what, sizeof(what), "%d BPF programs pass the verifier", loader_prog_count(&l));
			line(what, true, "");
			ret = loader_attach(&l, &cfg, err, sizeof(err));
			line("attach every hook", ret == 0, ret ? err : "");
		} else {
			line("BPF programs pass the verifier", false, err);
		}
		fatal |= ret != 0;
		loader_destroy(&l);
	}
	printf("%s\n", fatal ? "synfin cannot run here: see FAIL above" : "synfin can run here");
	return fatal ? 1 : 0;
}
