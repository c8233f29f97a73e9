#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# synfin with exactly the capabilities deploy/synfin.service leaves it (its
# CapabilityBoundingSet): no CAP_SYSLOG, so /proc/kallsyms shows every address as 0, and
# the timer handlers synfin filters on must come from elsewhere (calibration in a private
# netns). Before that, TIME_WAITs went unseen and server latency came out estimated,
# silently. Checked against the kernel:
#   - `synfin check` under the same capabilities says TIME_WAIT tracking and exact server
#     latency work;
#   - N client-first closes leave N TIME-WAIT sockets (ss); deleting the namespace gives
#     N "purged" TIME_WAIT records;
#   - every server handshake is exact (not estimated).
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 ss capsh

N=${N:-5}
TD="$T_LIB_DIR/teardown.py"
UNIT=$T_REPO/deploy/synfin.service
keep=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr 'A-Z ' 'a-z\n')
[ -n "$keep" ] || die "no CapabilityBoundingSet in $UNIT"
drop=$(capsh --print | sed -n 's/^Bounding set =//p' | tr ',' '\n' | grep -vxF "$keep" | paste -sd,)
log "the unit keeps: $(echo $keep); dropping: $drop"
# as the unit runs it: its capabilities and its LimitMEMLOCK=infinity (before 5.11 BPF
# memory counts against RLIMIT_MEMLOCK, and without CAP_SYS_RESOURCE synfin cannot raise it)
memlock_wrap
drop_syslog=("${MEMLOCK_WRAP[@]}" capsh --drop="$drop" -- -c 'exec "$@"' -)

# The scenario needs kallsyms to hide addresses from a process without CAP_SYSLOG:
# kptr_restrict >= 1 does that (0 with a permissive perf_event_paranoid shows them).
old_kptr=$(sysctl -n kernel.kptr_restrict)
[ "$old_kptr" -ge 1 ] || sysctl -qw kernel.kptr_restrict=1 || die "cannot set kptr_restrict"
restore_kptr() { sysctl -qw kernel.kptr_restrict="$old_kptr"; }
trap 'restore_kptr; t_cleanup' EXIT
hidden=$("${drop_syslog[@]}" awk '$3 == "tw_timer_handler" { print $1; exit }' /proc/kallsyms)
check_true "kallsyms hides tw_timer_handler without CAP_SYSLOG (sanity: got '$hidden')" \
	test -n "$hidden" -a -z "${hidden//0/}"

"${drop_syslog[@]}" "$SYNFIN" check >"$T_DIR/check.out" 2>&1
sed 's/^/    /' "$T_DIR/check.out"
check_true "synfin check: TIME_WAIT tracking ok" grep -Eq '^TIME_WAIT tracking +ok' "$T_DIR/check.out"
check_true "synfin check: exact server latency ok" \
	grep -Eq '^exact server latency .* ok' "$T_DIR/check.out"

NS=$(netns_name svccaps)
netns_create "$NS"
INO=$(netns_inode "$NS")
SYNFIN_WRAP=("${drop_syslog[@]}")
synfin_start --netns "/var/run/netns/$NS"
check_true "synfin runs without CAP_SYSLOG (CapBnd of pid $SYNFIN_PID)" \
	test "$(( 0x$(awk '/^CapBnd/ { print $2 }' /proc/$SYNFIN_PID/status) >> 34 & 1 ))" = 0
nsx "$NS" python3 "$TD" hold "$N" >/dev/null || die "hold scenario failed"
tw_left=$(nsx "$NS" ss -tan state time-wait | tail -n +2 | wc -l)
ip netns delete "$NS"
sleep 1 # cleanup_net runs from a workqueue
synfin_stop

check_eq "kernel: TIME-WAIT sockets before the purge (sanity)" "$N" "$tw_left"
check_eq "purged TIME_WAIT records == TIME-WAIT sockets" "$tw_left" \
	"$(ev "[.[] | select(.type == \"time_wait\" and .netns == $INO and .end == \"purged\")] | length")"
check_eq "server handshakes" "$N" "$(ev_count "$INO" handshake server)"
check_none "no server handshake is estimated" \
	"[.[] | select(.type == \"handshake\" and .side == \"server\" and .estimated)]"
t_done
