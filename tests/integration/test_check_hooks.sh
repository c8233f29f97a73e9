#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `synfin check` and the loader must give the same verdict on each tracepoint: what check
# calls required, the loader refuses to run without, and what check calls optional, the
# loader does without. SYNFIN_DISABLE_FEATURES=NAME makes both treat tracepoint NAME as absent
# from the kernel's BTF (one function decides for both, user/kernel_features.c).
# - tcp_retransmit_synack is in every kernel synfin can run on (mainline cf34ce3da1e4,
#   v4.15; tp_btf needs 5.5): required. Without it, check says FAIL and exits 1, and watch
#   exits 1 with one line naming it.
# - timer_start (TIME_WAIT tracking): optional. Without it, check says "no" and exits 0, and
#   watch runs: ready, with no synfin_timer_* program loaded, and its summary arrives.
source "$(dirname "$0")/lib.sh"
t_setup

"$SYNFIN" check >"$T_DIR/check.txt" 2>&1
check_eq "check on this kernel: exit 0" 0 "$?"
check_true "check: tcp_retransmit_synack ok" \
	grep -Eq '^tracepoint tcp_retransmit_synack +ok ' "$T_DIR/check.txt"

# --- a required tracepoint missing: both refuse
SYNFIN_DISABLE_FEATURES=tcp_retransmit_synack "$SYNFIN" check >"$T_DIR/nosynack.txt" 2>&1
check_eq "check without tcp_retransmit_synack: exit 1" 1 "$?"
check_true "check without tcp_retransmit_synack: FAIL on its line" \
	grep -Eq '^tracepoint tcp_retransmit_synack +FAIL missing: synfin cannot run' "$T_DIR/nosynack.txt"
check_eq "check without tcp_retransmit_synack: the verdict" "synfin cannot run here: see FAIL above" \
	"$(tail -n 1 "$T_DIR/nosynack.txt")"
SYNFIN_DISABLE_FEATURES=tcp_retransmit_synack "$SYNFIN" check --json >"$T_DIR/nosynack.json" 2>&1
check_eq "check --json without tcp_retransmit_synack: can_run" false "$(jq -r .can_run "$T_DIR/nosynack.json")"
SYNFIN_DISABLE_FEATURES=tcp_retransmit_synack timeout 20 "$SYNFIN" watch --duration 2 \
	>"$T_DIR/w1.out" 2>"$T_DIR/w1.err"
check_eq "watch without tcp_retransmit_synack: exit 1" 1 "$?"
check_eq "watch without tcp_retransmit_synack: one line on stderr" 1 "$(wc -l <"$T_DIR/w1.err")"
check_true "watch without tcp_retransmit_synack: the line names it ($(head -c 200 "$T_DIR/w1.err"))" \
	grep -q "^synfin: .*tracepoint tcp_retransmit_synack" "$T_DIR/w1.err"

# --- an optional tracepoint missing: both do without
SYNFIN_DISABLE_FEATURES=timer_start "$SYNFIN" check --json >"$T_DIR/notimer.json" 2>&1
check_eq "check --json without timer_start: exit 0" 0 "$?"
check_eq "check --json without timer_start: can_run" true "$(jq -r .can_run "$T_DIR/notimer.json")"
check_eq "check --json without timer_start: time_wait" false "$(jq -r .features.time_wait "$T_DIR/notimer.json")"
SYNFIN_DISABLE_FEATURES=timer_start "$SYNFIN" check >"$T_DIR/notimer.txt" 2>&1
check_true "check without timer_start: 'no' on its line" \
	grep -Eq '^tracepoint timer_start +no ' "$T_DIR/notimer.txt"
NS=$(netns_name hooks)
netns_create "$NS"
SYNFIN_DISABLE_FEATURES=timer_start synfin_start --netns "/var/run/netns/$NS"
progs=$(sed -n 's/^prog_id:[[:space:]]*//p' /proc/"$SYNFIN_PID"/fdinfo/* 2>/dev/null | sort -un)
names=$(for id in $progs; do bpftool prog show id "$id" 2>/dev/null | awk 'NR == 1 { for (i = 1; i < NF; i++) if ($i == "name") print $(i + 1) }'; done | sort -u | paste -sd ' ')
log "programs of watch without timer_start: $names"
check_true "watch without timer_start: synfin_set_state loaded" grep -qw synfin_set_state <<<"$names"
check_eq "watch without timer_start: no synfin_timer_* program" 0 "$(tr ' ' '\n' <<<"$names" | grep -c '^synfin_timer')"
synfin_stop
t_done
