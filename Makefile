# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# synfin: .bpf.c -> .bpf.o -> .skel.h -> ./synfin (the libbpf-bootstrap chain).
OUTPUT := .output
empty :=
space := $(empty) $(empty)
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

INCLUDES := -I$(OUTPUT) -Iinclude -Ibpf
# CFLAGS, CPPFLAGS and LDFLAGS are the user's (or dpkg-buildflags'): `make CFLAGS=-O0` replaces
# only them. Every C rule compiles with ALL_CFLAGS, which adds the project's own flags after
# CFLAGS and EXTRA_CFLAGS last, so no command line drops -Wall -Werror and the rest.
CFLAGS ?= -O2 -g
ALL_CFLAGS = $(CFLAGS) -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -MMD -MP $(CPPFLAGS) $(EXTRA_CFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -MMD -MP
JANSSON := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz) \
	$(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd) $(JANSSON) -lm \
	$(shell pkg-config --libs libcap-ng 2>/dev/null || echo -lcap-ng)

# Pure rooms: no libbpf, no I/O beyond what they are for; unit-tested without root.
CORE_SRCS := user/stats.c user/lifecycle.c user/opts.c user/format.c user/json_writer.c user/render_table.c \
	user/render_json.c user/metrics.c user/render_prom.c \
	user/assert_expr.c user/run_model.c user/report_json.c user/report_html.c user/baseline.c user/audit.c \
	user/listen_model.c user/resets.c user/ports.c
APP_SRCS := $(CORE_SRCS) user/loader.c user/bpf_log.c user/kernel_features.c user/ns_counters.c user/calibrate.c \
	user/http_guard.c user/ring.c user/kstate.c user/listen.c user/session.c user/netns.c user/audit_live.c user/check.c user/watch.c \
	user/serve.c user/cgroup.c user/child.c user/run.c user/janitor.c user/privilege.c user/main.c
APP_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(APP_SRCS))
CORE_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(CORE_SRCS))

UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: all clean test test-host unit integration deps vmlinux bench run fuzz test-kernels check-layers soak

all: synfin $(OUTPUT)/tcpdrive $(OUTPUT)/storm

synfin: $(APP_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/bpf $(OUTPUT)/tests:
	$(Q)mkdir -p $@

# synfin.bpf.c: the observer; probe.bpf.c: feature probes and handler calibration.
$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(@:.o=.d) -MT $@ -I. -Iinclude -Ibpf -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

# The same observer without atomic instructions, for kernels whose verifier refuses them
# anywhere in a program (before 5.12: bpf/compat.bpf.h, HAVE_CMPXCHG). The loader opens the
# skeleton of synfin.bpf.o with this object's bytes there, so the two must have the same maps,
# programs and globals: checked on their skeletons' structs.
$(OUTPUT)/bpf/synfin_noatomics.bpf.o: bpf/synfin.bpf.c vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DSYNFIN_NO_ATOMICS -MF $(@:.o=.d) -MT $@ -I. -Iinclude -Ibpf -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(OUTPUT)/skel-layouts.ok: $(OUTPUT)/synfin.skel.h $(OUTPUT)/synfin_noatomics.skel.h
	$(call msg,CHECK,skeleton layouts of synfin and synfin_noatomics)
	$(Q)for s in synfin synfin_noatomics; do \
		sed -n "/^struct $${s}_bpf {/,/^};/p" $(OUTPUT)/$$s.skel.h | sed "s/$${s}_bpf/SKEL/g" \
			>$(OUTPUT)/$$s.layout; \
	done; \
	cmp -s $(OUTPUT)/synfin.layout $(OUTPUT)/synfin_noatomics.layout || \
		{ diff $(OUTPUT)/synfin.layout $(OUTPUT)/synfin_noatomics.layout >&2; \
		  echo "synfin_noatomics.bpf.o differs from synfin.bpf.o in maps, programs or globals" >&2; exit 1; }
	$(Q)touch $@

# Only these include a skeleton; order-only so other objects don't wait for clang.
$(OUTPUT)/user/loader.o: $(OUTPUT)/synfin.skel.h $(OUTPUT)/synfin_noatomics.skel.h $(OUTPUT)/skel-layouts.ok
$(OUTPUT)/user/kernel_features.o $(OUTPUT)/user/ns_counters.o: $(OUTPUT)/probe.skel.h
$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(INCLUDES) -c $< -o $@

$(OUTPUT)/tcpdrive: tests/integration/tcpdrive.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -pthread $< -o $@

$(OUTPUT)/storm: tests/bench/storm.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -pthread $< -o $@

# profile.sh -l: JIT addresses of loaded programs' source lines (tests/bench/prog_lines.c).
$(OUTPUT)/prog_lines: tests/bench/prog_lines.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIBS) -o $@

# make bench's floor: empty programs on synfin's attachments (tests/bench/floor.bpf.c).
$(OUTPUT)/bpf/floor.bpf.o: tests/bench/floor.bpf.c vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(@:.o=.d) -MT $@ -I. -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUTPUT)/floor: tests/bench/floor.c $(OUTPUT)/floor.skel.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -I$(OUTPUT) $< $(LIBS) -o $@

# -MF: compiling and linking in one step, gcc would write the dependencies to ./a-test_*.d
$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(CORE_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -MF $@.d -MT $@ $(INCLUDES) -Iuser $< $(CORE_OBJS) -lcmocka $(JANSSON) -lm -o $@

# listen.c's sweeps: the test scripts the walk (its own loader_listen_walk) and the
# namespace's netstat file (open() wrapped).
$(OUTPUT)/tests/test_listen_watch: tests/unit/test_listen_watch.c $(OUTPUT)/user/listen.o $(CORE_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -MF $@.d -MT $@ $(INCLUDES) -Iuser $< $(OUTPUT)/user/listen.o $(CORE_OBJS) \
		-Wl,--wrap=open -lcmocka $(JANSSON) -lm -o $@

# kstate walks real BPF maps: its test creates them (root) and counts the walk's steps.
$(OUTPUT)/tests/test_kstate: tests/unit/test_kstate.c $(OUTPUT)/user/kstate.o $(CORE_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -MF $@.d -MT $@ $(INCLUDES) -Iuser $< $(OUTPUT)/user/kstate.o $(CORE_OBJS) \
		-Wl,--wrap=bpf_map_get_next_key -lcmocka $(LIBS) -o $@

# The layers, checked: every bpf/*.bpf.h compiles on its own (it includes what it uses), and
# no pure room reaches libbpf, the BPF side or the libbpf-side rooms, even indirectly.
LIBBPF_ROOMS := user/loader.h user/kstate.h user/listen.h user/ring.h user/session.h user/kernel_features.h
check-layers: | $(OUTPUT)
	$(Q)for h in bpf/*.bpf.h; do \
		echo "#include \"$$h\"" | $(CLANG) $(filter-out -MMD -MP,$(BPF_CFLAGS)) -I. -Iinclude -Ibpf -x c \
			-fsyntax-only - || { echo "check-layers: $$h does not compile alone" >&2; exit 1; }; \
	done
	$(Q)for c in $(CORE_SRCS); do \
		bad=$$($(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) $(INCLUDES) -M $$c | tr ' \\' '\n\n' | \
			grep -E '/bpf/(libbpf|bpf|btf)\.h$$|\.bpf\.h$$|\.skel\.h$$|$(subst $(space),|,$(LIBBPF_ROOMS))'); \
		[ -z "$$bad" ] || { echo "check-layers: pure room $$c includes $$bad" >&2; exit 1; }; \
	done
	$(call msg,LAYERS,bpf headers stand alone; pure rooms stay off libbpf)

unit: $(UNIT_TESTS)
	$(Q)tests/unit/run.sh $(UNIT_TESTS)

integration: all
	$(Q)tests/integration/run.sh

# The whole suite (what CI runs): layers, unit, fuzz and integration tests on this kernel,
# then the smoke subset on the matrix's kernels (tests/kernels/, under qemu). Not sid (7.2):
# its tracepoints run programs preemptible, and under TCG a task preempted in the kernel's
# dispatch around a synfin program still makes other tasks' events recursion misses now and
# then (2 of 600 connections in one of two runs on 2026-12-02), which synfin reports as lost
# and the exact-count tests rightly fail on. `make test-kernels` still runs it.
CI_KERNELS ?= 5.10 6.1 6.12
test: test-host
	$(Q)$(MAKE) --no-print-directory test-kernels SUITE=smoke KERNELS="$(CI_KERNELS)"

# The same without the kernel matrix: what runs on this machine's kernel only.
test-host: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory check-layers
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10
	$(Q)$(MAKE) --no-print-directory integration

# The peers it compares against, and iperf3 for the bulk workloads, are only installed for
# the benchmark, not for the tests. Every workload by default (WORKLOAD=storm,rr,... for
# fewer); tests/bench/run.sh --help for the rest (QUICK=1: a smoke run).
WORKLOAD ?= all
bench: deps
	$(Q)SYNFIN_EXTRA_PACKAGES="libbpf-tools bpftrace curl iperf3" scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/storm $(OUTPUT)/floor
	$(Q)WORKLOAD="$(WORKLOAD)" tests/bench/run.sh

# The long tests, outside make test (tests/stress/): exact counts under a connection storm,
# and a SYN flood with SYN cookies engaged. They take both cores, so they hold the lock the
# benchmark and the kernel matrix take, and never run beside either.
soak: deps
	$(Q)SYNFIN_EXTRA_PACKAGES="hping3" scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)mkdir -p /var/cache/synfin-kernels
	$(Q)flock /var/cache/synfin-kernels/guest.lock tests/integration/run.sh $(wildcard tests/stress/test_*.sh)

# The kernel matrix: Debian's stock kernels (5.10, 6.1, 6.12, sid) booted one at a time under
# qemu, with synfin check and the integration tests run inside each (tests/kernels/run.sh).
# SUITE=full (default) | smoke | test names; KERNELS="5.10 6.1 6.12 sid" (default: all).
# Downloads are cached in /var/cache/synfin-kernels (SYNFIN_KERNEL_CACHE); run.sh installs
# the packages it needs itself (qemu, busybox-static, ...).
test-kernels: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SYNFIN_SUITE="$(SUITE)" SYNFIN_KERNELS="$(KERNELS)" tests/kernels/run.sh

# libFuzzer (clang, ASan + UBSan) on the two parsers of untrusted text: --assert expressions
# and --baseline JSON (our reader over jansson, which is not instrumented: the harness checks
# what we do with whatever jansson accepts). Bounded: FUZZ_SECONDS per harness (default 30, so 60 s in all). New
# inputs go to $(OUTPUT)/fuzz/, the checked-in seeds stay as they are.
FUZZ_SECONDS ?= 30
FUZZ_HARNESSES := assert_expr baseline
FUZZ_SRCS := user/assert_expr.c user/audit.c user/baseline.c user/listen_model.c user/metrics.c user/resets.c user/ports.c user/run_model.c user/format.c user/lifecycle.c \
	user/opts.c \
	user/stats.c
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude -Iuser

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS) $(wildcard user/*.h) | $(OUTPUT)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(OUTPUT)/fuzz/corpus_$*
	$(Q)$(CLANG) $(FUZZ_FLAGS) $< $(FUZZ_SRCS) $(JANSSON) -lm -o $@

fuzz: $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ_HARNESSES))
	$(Q)for h in $(FUZZ_HARNESSES); do \
		echo "  FUZZ     $$h ($(FUZZ_SECONDS) s)"; \
		$(OUTPUT)/fuzz/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
			-artifact_prefix=$(OUTPUT)/fuzz/ $(OUTPUT)/fuzz/corpus_$$h tests/fuzz/corpus_$$h \
			2>$(OUTPUT)/fuzz/$$h.log || { tail -n 40 $(OUTPUT)/fuzz/$$h.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units' $(OUTPUT)/fuzz/$$h.log; \
	done

# The default job: watch every TCP handshake and close on this machine.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	./synfin watch

deps:
	$(Q)scripts/deps.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) synfin

# make install / uninstall / man / deb
include mk/install.mk

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/bpf/*.d $(OUTPUT)/tests/*.d)
