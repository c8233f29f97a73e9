// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor of synfin's design, for `make bench`: empty programs on exactly the attachments
 * synfin makes (bpf/synfin.bpf.c: one program per hook, and a catcher after the one on
 * inet_sock_set_state, the only hook whose program can nest). What
 * this costs is the dispatch alone, the least any observer on these hooks can cost; synfin's
 * cost is reported as a multiple of it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_set_state) { return 0; }

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_set_state_catch) { return 0; }

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(floor_synack_rtx) { return 0; }

/* synfin records a close here when it never saw the socket reach CLOSE (teardown.bpf.h) */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(floor_destroy_sock) { return 0; }

SEC("tp_btf/timer_start")
int BPF_PROG(floor_timer_start) { return 0; }

SEC("tp_btf/timer_cancel")
int BPF_PROG(floor_timer_cancel) { return 0; }
