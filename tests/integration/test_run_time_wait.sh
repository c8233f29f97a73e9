#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `synfin run` reports CMD's TIME_WAITs, not the host's (issue 12, item 6). A timewait
# mini-socket has no cgroup, so run's filter cannot see whose it is when its timer starts;
# before, every TIME_WAIT of the host entered run's TIME_WAIT figures. Here:
#   - another namespace holds M1 TIME_WAITs from before the run and M2 made during it, by a
#     process outside CMD's cgroup, and is deleted during the run: M1 + M2 "purged" ends,
#     none of them CMD's;
#   - CMD leaves K TIME_WAITs of its own, which outlive the run, then reconnects from a port
#     whose TIME_WAIT it just left (tcp_tw_reuse=1): one TIME_WAIT of CMD's ends "reused"
#     (TcpExtTWRecycled), and that second connection leaves one more.
# Checks, in run's report: time_wait.count == K + 2, time_wait.peak == K + 1; the only
# TIME_WAIT end is CMD's reuse (ended and partial); the live gauge == what ss lists (K + 1).
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 ss

K=${K:-3} M1=${M1:-4} M2=${M2:-5}
TD="$T_LIB_DIR/teardown.py"
NS=$(netns_name rtw) OTHER=$(netns_name rtwother)
netns_create "$NS"
netns_create "$OTHER"
nsx "$NS" sysctl -qw net.ipv4.tcp_tw_reuse=1 || die "cannot set tcp_tw_reuse"
nsx "$OTHER" python3 "$TD" hold "$M1" >/dev/null || die "hold (before) failed"

cat >"$T_DIR/cmd.sh" <<EOF
python3 "$TD" hold $K >/dev/null || exit 1
touch "$T_DIR/cmd-held"
sleep 1
python3 "$TD" reuse >/dev/null || exit 1
EOF
r0=$(counter "$NS" TcpExt TWRecycled)
timeout 60 "$SYNFIN" run --report "$T_DIR/r.json" -- ip netns exec "$NS" sh "$T_DIR/cmd.sh" \
	>"$T_DIR/run.out" 2>"$T_DIR/run.err" &
RUN_PID=$!
track_pid "$RUN_PID"
for _ in $(seq 100); do [ -e "$T_DIR/cmd-held" ] && break; sleep 0.05; done
[ -e "$T_DIR/cmd-held" ] || die "CMD did not make its TIME_WAITs: $(cat "$T_DIR/run.err")"
nsx "$OTHER" python3 "$TD" hold "$M2" >/dev/null || die "hold (during) failed"
check_eq "kernel: the other namespace's TIME-WAIT sockets (sanity)" $((M1 + M2)) \
	"$(nsx "$OTHER" ss -tanH state time-wait | wc -l)"
ip netns delete "$OTHER"
wait_pid "$RUN_PID" 60
check_eq "synfin run exit status" 0 "$?" || log "stderr: $(cat "$T_DIR/run.err")"
left=$(nsx "$NS" ss -tanH state time-wait | wc -l)
check_eq "kernel: CMD's TIME-WAIT sockets (sanity)" $((K + 1)) "$left"
check_eq "kernel: one TIME_WAIT of CMD's reused (sanity)" 1 $(($(counter "$NS" TcpExt TWRecycled) - r0))

R="$T_DIR/r.json"
check_eq "time_wait.count == CMD's TIME_WAITs" $((K + 2)) "$(jq '.metrics["time_wait.count"].value' "$R")"
check_eq "time_wait.peak == most of CMD's alive at once" $((K + 1)) \
	"$(jq '.metrics["time_wait.peak"].value' "$R")"
check_eq "the one TIME_WAIT end is CMD's reuse" 1 "$(jq '.summary.time_wait.ended.reused.count' "$R")"
check_eq "no other end (the other namespace's purged ones are not CMD's)" 1 \
	"$(jq '[.summary.time_wait.ended[].count] | add' "$R")"
check_eq "none found at start either" 0 "$(jq '[.summary.time_wait.partial[]] | add' "$R")"
check_eq "live TIME_WAIT gauge == what ss lists" "$left" "$(jq '.summary.sockets.time_wait' "$R")"
t_done
