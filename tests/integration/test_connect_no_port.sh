#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Connects that find no local port (EADDRNOTAVAIL): a namespace whose ip_local_port_range
# holds 2 ports, and N connects at once to one destination, each held open, over IPv4 then
# IPv6. connect() fails inside the call, SYN_SENT -> CLOSE without a packet, sk_err 0: the
# kernel counts them nowhere (not in TcpAttemptFails), so the ground truth is what the
# client saw. Checks, per family:
#   - the client saw EADDRNOTAVAIL at least once (sanity of the setup);
#   - "connect_fail" records with reason "no_port" == the client's EADDRNOTAVAIL count,
#     exactly, with lport 0 and errno 0; none with reason "other";
#   - handshakes == the client's successful connects;
# and the summary's connect_failures.no_port == both families' count; then `synfin run` of
# such a client: its report's connect_failures.no_port == the client's count, and an
# --assert on it fails the run (exit 1).
source "$(dirname "$0")/lib.sh"
t_setup

N=6
P=5007

NS=$(netns_name noport)
netns_create "$NS"
INO=$(netns_inode "$NS")
nsx "$NS" sysctl -q -w net.ipv4.ip_local_port_range="40000 40001"

synfin_start --netns "/var/run/netns/$NS"

declare -A NOPORT OK
for fam in 4 6; do
	server_start "$NS" srv$fam -$fam --port $P --count 0
	# each connection held 1.5 s: the ports stay taken while the others try
	client_run "$NS" cli$fam -$fam --port $P --count $N --parallel $N --hold-ms 1500
	NOPORT[$fam]=$(sed -n 's/^tcpdrive: connect: \([0-9]*\) x EADDRNOTAVAIL$/\1/p' "$T_DIR/cli$fam.err")
	OK[$fam]=$(sed -n 's/^tcpdrive: connect: pid [0-9]*: \([0-9]*\) ok,.*/\1/p' "$T_DIR/cli$fam.err")
	log "IPv$fam: ${OK[$fam]:-?} connected, ${NOPORT[$fam]:-0} x EADDRNOTAVAIL"
	check_true "IPv$fam: the client saw EADDRNOTAVAIL" [ "${NOPORT[$fam]:-0}" -gt 0 ]
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
done

synfin_stop

CF="[.[] | select(.type == \"connect_fail\" and .netns == $INO)"
for fam in 4 6; do
	check_eq "IPv$fam: connect_fail records with reason no_port == the client's EADDRNOTAVAIL" \
		"${NOPORT[$fam]:-0}" "$(ev "$CF | select(.family == $fam and .reason == \"no_port\")] | length")"
	check_eq "IPv$fam: connect_fail records with another reason" 0 \
		"$(ev "$CF | select(.family == $fam and .reason != \"no_port\")] | length")"
	check_eq "IPv$fam: handshakes == the client's connects" "${OK[$fam]:-0}" \
		"$(ev "[.[] | select(.type == \"handshake\" and .side == \"client\" and .netns == $INO and .family == $fam)] | length")"
done
check_none "every no_port record: lport 0, errno 0, rport $P" \
	"$CF | select(.reason == \"no_port\" and (.lport != 0 or .errno != 0 or .rport != $P))]"
check_eq "summary: connect_failures.no_port" $((${NOPORT[4]:-0} + ${NOPORT[6]:-0})) \
	"$(ev '[.[] | select(.type == "summary")][0].connect_failures.no_port')"
check_eq "summary: connect_failures.other" 0 \
	"$(ev '[.[] | select(.type == "summary")][0].connect_failures.other')"

# --- synfin run: the report and an assertion on it
server_start "$NS" srvrun -4 --port $P --count 0
timeout 60 "$SYNFIN" run --report "$T_DIR/run.json" --assert 'connect_failures.no_port == 0' \
	-- ip netns exec "$NS" "$TCPDRIVE" connect -4 --port $P --count $N --parallel $N --hold-ms 1500 \
	>"$T_DIR/run.out" 2>"$T_DIR/run.err"
rc=$?
kill "$SERVER_PID" 2>/dev/null
n=$(sed -n 's/^tcpdrive: connect: \([0-9]*\) x EADDRNOTAVAIL$/\1/p' "$T_DIR/run.err")
check_true "run: the client saw EADDRNOTAVAIL" [ "${n:-0}" -gt 0 ]
check_eq "run: exit status (the assertion fails)" 1 "$rc" || log "run stderr: $(tail -n 5 "$T_DIR/run.err")"
check_eq "run: report connect_failures.no_port == the client's EADDRNOTAVAIL" "${n:-0}" \
	"$(jq '.metrics["connect_failures.no_port"].value' "$T_DIR/run.json")"
check_eq "run: report connect_failures.other" 0 "$(jq '.metrics["connect_failures.other"].value' "$T_DIR/run.json")"

t_done
