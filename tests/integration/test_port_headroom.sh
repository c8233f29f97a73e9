#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Ephemeral-port headroom: a namespace whose ip_local_port_range holds 1,000 ports (and no
# TIME_WAIT reuse), and 3,000 connections opened and closed one after the other from one
# source to one destination. Each client close leaves a TIME_WAIT holding its port, so after
# 1,000 connects every further one fails with EADDRNOTAVAIL. Ground truth: `ss -tan` and
# what the client saw. Checks:
#   - synfin_ephemeral_ports_used for the destination == what ss counts toward it, at rest
#     after the client (1,000 TIME_WAITs), and again after `ss -K` tried to kill them (the
#     kills the user-space sweep ends give their ports back) and 20 new connections held;
#   - synfin_ephemeral_ports_range == 1,000, the peak >= 1,000;
#   - connect_fail records with reason no_port == the clients' EADDRNOTAVAIL count (the held
#     ones included: where ss -K cannot kill a TIME_WAIT, they find no port either);
#   - one port_headroom_warning for the destination, naming the client's pid and comm;
#   - synfin run of such a client: ports.peak_used in its report, and an assertion on it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
t_setup
require_cmd curl

P=5011
NS=$(netns_name ports)
netns_create "$NS"
INO=$(netns_inode "$NS")
nsx "$NS" sysctl -q -w net.ipv4.ip_local_port_range="40000 40999" net.ipv4.tcp_tw_reuse=0

synfin_start --netns "/var/run/netns/$NS"
SP=$(free_port)
serve_start srv --listen "127.0.0.1:$SP" --netns "/var/run/netns/$NS"
used() { # used [ADDR [PORT]]: the gauge for the destination, from a scrape
	curl -sS --max-time 5 "http://127.0.0.1:$SP/metrics" |
		awk -v ns="$INO" -v a="${1:-127.0.0.1}" -v p="${2:-$P}" -F'[{}]' '
			$1 == "synfin_ephemeral_ports_used" &&
			$2 == "netns=\"" ns "\",laddr=\"" a "\",raddr=\"" a "\",rport=\"" p "\"" {
			split($3, v, " "); print v[1] }'
}
metric() {
	curl -sS --max-time 5 "http://127.0.0.1:$SP/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
ss_count() { nsx "$NS" ss -Htan state all "dst 127.0.0.1:$P" | wc -l; }

server_start "$NS" tcpsrv --port $P --count 0
client_run "$NS" cli --port $P --count 3000
NOPORT=$(sed -n 's/^tcpdrive: connect: \([0-9]*\) x EADDRNOTAVAIL$/\1/p' "$T_DIR/cli.err")
CPID=$CLIENT_PID
log "client: $(grep 'ok,' "$T_DIR/cli.err")"
check_eq "the client saw 2,000 EADDRNOTAVAIL (sanity of the setup)" 2000 "${NOPORT:-0}"
sleep 1.2 # the gauge is read once a second, and at each scrape
check_eq "at rest: ss counts 1,000 sockets toward the destination (sanity)" 1000 "$(ss_count)"
check_eq "at rest: ports used == ss's count" "$(ss_count)" "$(used)"
check_eq "the range's size" 1000 \
	"$(curl -sS --max-time 5 "http://127.0.0.1:$SP/metrics" | awk -v ns="$INO" \
		'$1 == "synfin_ephemeral_ports_range{netns=\"" ns "\"}" { print $2 }')"
check_range "the peak: the range, or one more (a connect() counts from SYN_SENT, just before it finds no port)" \
	1000 1001 "$(metric synfin_ephemeral_ports_peak_used)"

# Kill what can be killed (a TIME_WAIT cannot be on some kernels), hold 20 new ones open.
nsx "$NS" ss -K -Htan state time-wait "dst 127.0.0.1:$P" >/dev/null 2>&1
client_start "$NS" hold --port $P --count 20 --parallel 20 --hold-ms 3000
sleep 2 # the sweep ends a kill 100 ms after it, the gauge is read once a second
check_eq "after ss -K and 20 held: ports used == ss's count" "$(ss_count)" "$(used)"
client_wait "$CLIENT_PID" hold >/dev/null
# Where ss -K could not kill the TIME_WAITs (5.10), the held connects fail for want of a port
# too; they count toward the ground truth like the first client's.
NOPORT_HOLD=$(sed -n 's/^tcpdrive: connect: \([0-9]*\) x EADDRNOTAVAIL$/\1/p' "$T_DIR/hold.err")
NOPORT=$((NOPORT + ${NOPORT_HOLD:-0}))

# IPv6: its own destination, its own count
P6=5013
server_start "$NS" tcpsrv6 -6 --port $P6 --count 0
SRV6=$SERVER_PID
client_run "$NS" cli6 -6 --port $P6 --count 100
sleep 1.2
check_eq "IPv6: ports used toward [::1]:$P6 == ss's count (100 TIME_WAITs)" \
	"$(nsx "$NS" ss -Htan state all "dst [::1]:$P6" | wc -l)" "$(used ::1 $P6)"
kill "$SRV6" 2>/dev/null
wait "$SRV6" 2>/dev/null
serve_stop "$SERVE_PID" srv
synfin_stop

CF="[.[] | select(.type == \"connect_fail\" and .netns == $INO)"
check_eq "connect_fail records with reason no_port == the clients' EADDRNOTAVAIL" "$NOPORT" \
	"$(ev "$CF | select(.reason == \"no_port\")] | length")"
W='[.[] | select(.type == "port_headroom_warning")'
check_eq "one port_headroom_warning" 1 "$(ev "$W] | length")"
check_eq "... for the destination, past 80% of 1,000" "1" \
	"$(ev "$W | select(.netns == $INO and .raddr == \"127.0.0.1\" and .rport == $P
		and .range == 1000 and .used > 800 and .threshold_pct == 80)] | length")"
check_eq "... naming the client" "$CPID tcpdrive" "$(ev "$W][0] | \"\(.pid) \(.comm)\"" | tr -d '"')"
check_eq "the summary's peak == the range" 1000 \
	"$(ev '[.[] | select(.type == "summary")][0].ephemeral_ports.peak_range')"
check_true "the records validate against docs/records.schema.json (the warning included)" \
	python3 "$(dirname "$0")/json_schema.py" --lines records.schema.json "$SYNFIN_OUT"

# synfin run of such a client, toward another destination (ports are per destination, and
# the first one's may still be taken where a TIME_WAIT cannot be killed): its 300 closes
# leave 300 TIME_WAITs, the peak is in the report, and an assertion sees it.
P2=5012
kill "$SERVER_PID" 2>/dev/null
wait "$SERVER_PID" 2>/dev/null
server_start "$NS" tcpsrv2 --port $P2 --count 0
"$SYNFIN" run --report "$T_DIR/run.json" --assert 'ports.peak_used < 100' -- \
	ip netns exec "$NS" "$TCPDRIVE" connect --port $P2 --count 300 >"$T_DIR/run.out" 2>"$T_DIR/run.err"
RC=$?
check_eq "run: the assertion on ports.peak_used fails (exit 1)" 1 "$RC" ||
	log "run: $(tail -n 5 "$T_DIR/run.err")"
check_eq "run: ports.peak_used in the report (300 TIME_WAITs held)" 300 \
	"$(jq '.metrics["ports.peak_used"].value' "$T_DIR/run.json")"
check_true "run: the report validates" \
	python3 "$(dirname "$0")/json_schema.py" run-report.schema.json "$T_DIR/run.json"

t_done
