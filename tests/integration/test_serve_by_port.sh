#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `synfin serve --by-port`: the port label and its cap.
#
# Two serves watch one fresh namespace: A with --max-series 2, B with the default cap. K
# connections go to each of three listening ports, first 5001, then 5002, then 5003. The
# first connection fills A's two series with (server, 5001) and (client, 5001); everything
# else is folded into port="other". Checks, exactly: per-port handshake counts, the folded
# observation count (4K) and folded (side, port) pairs (4), that port series add up to what
# a serve without --by-port reports, B's six series with nothing folded, and promtool.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
t_setup
require_cmd curl promtool

K=${K:-20}
NS=$(netns_name byport)
netns_create "$NS"
PA=$(free_port)
PB=$(free_port)
[ "$PA" != "$PB" ] || PB=$(free_port)
PC=$(free_port)

serve_start a --listen "127.0.0.1:$PA" --netns "/var/run/netns/$NS" --by-port --max-series 2
A=$SERVE_PID
serve_start b --listen "127.0.0.1:$PB" --netns "/var/run/netns/$NS" --by-port
B=$SERVE_PID
serve_start c --listen "127.0.0.1:$PC" --netns "/var/run/netns/$NS"
C=$SERVE_PID

for port in 5001 5002 5003; do
	server_start "$NS" "srv$port" --port $port --count "$K"
	client_run "$NS" "cli$port" --port $port --count "$K" --parallel 4
	check_eq "client to $port: all $K connections succeeded" 0 "$CLIENT_RC"
	server_wait "$SERVER_PID" "srv$port"
done
sleep 0.5

scrape "$PA" "$T_DIR/a.txt"
scrape "$PB" "$T_DIR/b.txt"
scrape "$PC" "$T_DIR/c.txt"
H=synfin_handshake_duration_seconds
for side in server client; do
	check_eq "A: $side port 5001" "$K" "$(hist_check "$T_DIR/a.txt" $H "side=\"$side\",port=\"5001\"")"
	check_eq "A: $side port other" "$((2 * K))" "$(hist_check "$T_DIR/a.txt" $H "side=\"$side\",port=\"other\"")"
	check_eq "A: $side, no series for 5002" absent "$(metric "$T_DIR/a.txt" "${H}_count{side=\"$side\",port=\"5002\"}")"
	for port in 5001 5002 5003; do
		check_eq "B: $side port $port" "$K" "$(hist_check "$T_DIR/b.txt" $H "side=\"$side\",port=\"$port\"")"
	done
	check_eq "B: $side port other" 0 "$(hist_check "$T_DIR/b.txt" $H "side=\"$side\",port=\"other\"")"
	for f in a b; do
		check_eq "$f: $side port series add up to the total without --by-port" \
			"$(metric "$T_DIR/c.txt" "${H}_count{side=\"$side\"}")" \
			"$(awk -v p="${H}_count{side=\"$side\"," 'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$T_DIR/$f.txt")"
		check_eq "$f: $side retransmit series add up" \
			"$(metric "$T_DIR/c.txt" "synfin_handshake_retransmits_total{side=\"$side\"}")" \
			"$(awk -v p="synfin_handshake_retransmits_total{side=\"$side\"," 'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$T_DIR/$f.txt")"
	done
done
check_eq "A: folded observations" "$((4 * K))" "$(metric "$T_DIR/a.txt" synfin_port_series_folded_total)"
check_eq "A: folded (side, port) pairs" 4 "$(metric "$T_DIR/a.txt" synfin_port_series_folded_ports)"
check_eq "B: folded observations" 0 "$(metric "$T_DIR/b.txt" synfin_port_series_folded_total)"
check_eq "C: no folded family without --by-port" absent "$(metric "$T_DIR/c.txt" synfin_port_series_folded_total)"
# (and on the listen-queue families, per listening port whatever --by-port says)
check_eq "A: --by-port's port label only on handshake families" 0 \
	"$(grep -v '^#' "$T_DIR/a.txt" | grep -E '[{,]port="' | grep -v '^synfin_\(listen_drops\|accept_queue_\)' |
		grep -cv '^synfin_handshake_')"
for f in a b c; do
	check_eq "promtool check metrics ($f)" "" "$(promtool check metrics <"$T_DIR/$f.txt" 2>&1)"
done
"$SYNFIN" serve --by-port --max-series 1001 >/dev/null 2>&1
check_eq "--max-series over 1000: exit 2" 2 "$?"

serve_stop "$A" a
serve_stop "$B" b
serve_stop "$C" c
t_done
