#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The JSON contract, checked by an outside judge: docs/records.schema.json and
# docs/run-report.schema.json (draft 2020-12, Debian's python3-jsonschema).
#
# A live `synfin watch --json` of a fresh namespace sees every record type: handshakes and
# closes over IPv4 and IPv6 (tcpdrive), refused connects (connect_fail), a TIME_WAIT ended
# by `ss -K` (time_wait; by a reuse where ss -K cannot, 5.10), a socket held in CLOSE_WAIT past --close-wait-warn
# (close_wait_warning) and a connection open before synfin started (partial closes, their
# lifetime null). Checks:
#   - every line validates against records.schema.json, and each record type is there;
#   - the summary line says schema_version 2 and counts what the records showed;
#   - a `synfin run --report` validates against run-report.schema.json, and its "summary"
#     has the summary line's members;
#   - the schemas are not vacuous: a record without a common field, a close_wait_warning
#     with the old `local`/`remote` fields, a summary without its events and a report with
#     a schema_version 1 are rejected.
# Skips (77) when python3-jsonschema is missing (make deps installs it).
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 ss

PY=/usr/bin/python3
"$PY" -c 'import jsonschema' 2>/dev/null ||
	skip "python3-jsonschema is not installed (apt-get install python3-jsonschema)"
JS="$T_LIB_DIR/json_schema.py"
N=${N:-10}
NS=$(netns_name json)
netns_create "$NS"
INO=$(netns_inode "$NS")

# A connection that exists before synfin starts, closed once synfin is ready.
ip netns exec "$NS" python3 -c '
import os, socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 7100)); l.listen()
c = socket.create_connection(("127.0.0.1", 7100)); s, _ = l.accept()
print("open", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
c.close(); time.sleep(0.01); s.close()' "$T_DIR/close-old" >"$T_DIR/old.out" &
OLD=$!
track_pid "$OLD"
wait_for_line "$T_DIR/old.out" '^open$' 10 "$OLD" || die "the early connection did not open"

synfin_start --netns "/var/run/netns/$NS" --close-wait-warn 1
touch "$T_DIR/close-old"
wait_pid "$OLD" 10 || die "the early connection did not close"
for fam in 4 6; do
	server_start "$NS" "srv$fam" "-$fam" --port 500$fam --count "$N"
	client_run "$NS" "cli$fam" "-$fam" --port 500$fam --count "$N"
	check_eq "IPv$fam: all $N connections succeeded" 0 "$CLIENT_RC"
	server_wait "$SERVER_PID" "srv$fam"
done
client_run "$NS" refused --port 5009 --count 2 --expect-fail
check_eq "the connects to a closed port failed" 0 "$CLIENT_RC"
nsx "$NS" python3 "$T_LIB_DIR/teardown.py" kill >/dev/null || die "kill scenario failed"
# ss -K ends a TIME_WAIT only where tcp_abort() handles timewait sockets (not 5.10): there a
# reconnect from its port ends one (reused)
if [ "$(nsx "$NS" ss -tanH state time-wait sport = :40002 | wc -l)" != 0 ]; then
	log "ss -K left the TIME_WAIT: one ends by reuse instead"
	nsx "$NS" sysctl -qw net.ipv4.tcp_tw_reuse=1 || die "cannot set tcp_tw_reuse"
	nsx "$NS" python3 "$T_LIB_DIR/teardown.py" reuse >/dev/null || die "reuse scenario failed"
fi
ip netns exec "$NS" python3 "$T_LIB_DIR/teardown.py" close-wait 2.5 >/dev/null ||
	die "close-wait scenario failed"
synfin_stop
W=$SYNFIN_OUT

# --- watch --json: every line, every type
types=$("$PY" "$JS" --lines records.schema.json "$W" 2>"$T_DIR/records.err")
check_eq "every line validates against docs/records.schema.json" 0 $? ||
	log "schema: $(head -c 1500 "$T_DIR/records.err")"
log "valid records: $types"
for t in handshake connect_fail close time_wait close_wait_warning summary; do
	check_range "valid $t records" 1 1000000 "$(grep -Eo "(^| )$t=[0-9]+" <<<"$types" | cut -d= -f2)"
done
check_eq "partial closes with a null lifetime (both ends of the early connection)" 2 \
	"$(ev '[.[] | select(.type == "close" and .partial and .lifetime_us == null)] | length')"
S='[.[] | select(.type == "summary")][0]'
check_eq "summary: schema_version" 2 "$(ev "$S.schema_version")"
check_eq "summary: handshakes == handshake records" \
	"$(ev '[.[] | select(.type == "handshake")] | length')" \
	"$(ev "$S.handshake.client.latency.count + $S.handshake.server.latency.count")"
check_eq "summary: connect failures == connect_fail records" \
	"$(ev '[.[] | select(.type == "connect_fail")] | length')" "$(ev "$S.connect_failures.total")"
check_eq "summary: closes == close records" \
	"$(ev '[.[] | select(.type == "close")] | length')" "$(ev "$S.closes.total")"
check_eq "summary: events.close == close records" \
	"$(ev '[.[] | select(.type == "close")] | length')" "$(ev "$S.events.close")"

# --- the schemas reject what the contract forbids
reject() {
	local desc=$1 schema=$2 lines=$3 filter=$4 src=$5
	[ -s "$src" ] || { _bad "$desc: no record to break"; return; }
	jq -c "$filter" "$src" >"$T_DIR/bad.json" || die "jq $filter failed"
	if "$PY" "$JS" $lines "$schema" "$T_DIR/bad.json" >/dev/null 2>&1; then
		_bad "$desc: accepted"
	else
		_ok "$desc: rejected"
	fi
}
jq -c 'select(.type == "handshake")' "$W" | head -n 1 >"$T_DIR/hs.json"
jq -c 'select(.type == "close_wait_warning")' "$W" | head -n 1 >"$T_DIR/cw.json"
jq -c 'select(.type == "summary")' "$W" >"$T_DIR/sum.json"
reject "a handshake without pid" records.schema.json --lines 'del(.pid)' "$T_DIR/hs.json"
reject "a close_wait_warning with local/remote" records.schema.json --lines \
	'. + {local: "127.0.0.1:7000", remote: "127.0.0.1:40000"}' "$T_DIR/cw.json"
reject "a summary without events" records.schema.json --lines 'del(.events)' "$T_DIR/sum.json"

# --- run --report
cat >"$T_DIR/cmd.sh" <<EOF
#!/bin/sh
"$TCPDRIVE" serve --port 7001 --count $N >"$T_DIR/rsrv.out" 2>/dev/null &
until grep -q '^ready\$' "$T_DIR/rsrv.out" 2>/dev/null; do sleep 0.02; done
"$TCPDRIVE" connect --port 7001 --count $N 2>/dev/null || exit 8
wait
EOF
"$SYNFIN" run --report "$T_DIR/run.json" --assert "handshake.count == $((2 * N))" \
	-- ip netns exec "$NS" sh "$T_DIR/cmd.sh" >/dev/null 2>"$T_DIR/run.err"
check_eq "synfin run: exit status" 0 $? || log "$(tail -n 5 "$T_DIR/run.err")"
"$PY" "$JS" run-report.schema.json "$T_DIR/run.json" >/dev/null 2>"$T_DIR/report.err"
check_eq "the report validates against docs/run-report.schema.json" 0 $? ||
	log "schema: $(head -c 1500 "$T_DIR/report.err")"
check_eq "report: summary members are the summary line's" \
	"$(jq -c 'del(.type, .schema_version) | keys' "$T_DIR/sum.json")" \
	"$(jq -c '.summary | keys' "$T_DIR/run.json")"
check_eq "report: handshakes in the summary" $((2 * N)) \
	"$(jq '.summary.handshake.client.latency.count + .summary.handshake.server.latency.count' "$T_DIR/run.json")"
reject "a report of schema_version 1" run-report.schema.json "" '.schema_version = 1' "$T_DIR/run.json"
reject "a report whose summary lacks time_wait" run-report.schema.json "" 'del(.summary.time_wait)' \
	"$T_DIR/run.json"
t_done
