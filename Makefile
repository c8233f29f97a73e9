# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# synfin: .bpf.c -> .bpf.o -> .skel.h -> ./synfin (the libbpf-bootstrap chain).
OUTPUT := .output
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

INCLUDES := -I$(OUTPUT) -Iinclude -Ibpf
CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -MMD -MP
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -MMD -MP
LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz) \
	$(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd) -lm

# Pure rooms: no libbpf, no I/O beyond what they are for; unit-tested without root.
CORE_SRCS := user/stats.c user/lifecycle.c user/opts.c user/format.c user/render_table.c \
	user/render_json.c user/metrics.c user/render_prom.c
APP_SRCS := $(CORE_SRCS) user/loader.c user/ring.c user/kstate.c user/session.c user/netns.c user/check.c user/watch.c \
	user/serve.c user/main.c
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
.PHONY: all clean test unit integration deps vmlinux bench run

all: synfin $(OUTPUT)/tcpdrive

synfin: $(APP_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/bpf $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/bpf/synfin.bpf.o: bpf/synfin.bpf.c vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -I. -Iinclude -Ibpf -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUTPUT)/synfin.skel.h: $(OUTPUT)/bpf/synfin.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name synfin_bpf > $@

# Only the loader includes the skeleton; order-only so other objects don't wait for clang.
$(OUTPUT)/user/loader.o: $(OUTPUT)/synfin.skel.h
$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

$(OUTPUT)/tcpdrive: tests/integration/tcpdrive.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -pthread $< -o $@

$(OUTPUT)/storm: tests/bench/storm.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -pthread $< -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(CORE_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Iuser $< $(CORE_OBJS) -lcmocka -lm -o $@

unit: $(UNIT_TESTS)
	$(Q)tests/unit/run.sh $(UNIT_TESTS)

integration: all
	$(Q)tests/integration/run.sh

# The whole suite: unit tests without root, then root integration tests.
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory integration

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/storm
	$(Q)tests/bench/run.sh

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

-include $(wildcard $(OUTPUT)/user/*.d $(OUTPUT)/bpf/*.d $(OUTPUT)/tests/*.d)
