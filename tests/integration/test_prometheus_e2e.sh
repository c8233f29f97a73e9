#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# End to end with a real Prometheus (Debian's `prometheus`): it scrapes `synfin serve` every
# second (it asks for OpenMetrics, so that is what it parses), on loopback, with its own
# temporary storage. After N connections in a fresh namespace, its HTTP API must answer:
#   - up == 1, the target healthy with no scrape error, and as many samples per scrape as a
#     text scrape of /metrics has (nothing dropped by its parser);
#   - synfin_connections_closed_total{initiator="local",how="fin"} == N, the sum == 2N;
#   - the handshake histogram's count == N per side;
#   - histogram_quantile(0.5, sum by (le) (rate(..._bucket[1m]))) is a number in
#     (0, 0.1] s: a loopback median, never NaN; the same over increase() and per side;
#   - deploy/prometheus/synfin-rules.yml, loaded by this Prometheus, evaluates without error,
#     every recording rule has a value and no alert is pending or firing on this healthy run;
#   - with exemplar storage on, the handshake buckets' exemplars come back from
#     query_exemplars, each one a client handshake of `synfin watch --json` run alongside:
#     its cookie (none where the kernel gives sockets none), its 4-tuple, its time; and its
#     value within its bucket;
#   - every synfin_* name the rules and deploy/grafana/synfin.json use is in the scrape, every
#     exported family is in the man page (tests/deploy/check_deploy.py names), and every
#     dashboard query returns data (check_deploy.py queries).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
t_setup
require_cmd curl prometheus python3
RULES=$T_REPO/deploy/prometheus/synfin-rules.yml
DASH=$T_REPO/deploy/grafana/synfin.json
CHECK=$T_REPO/tests/deploy/check_deploy.py

N=${N:-40}
NS=$(netns_name prom)
netns_create "$NS"
# A process inside it: the self-audit reads the namespace's counters through one found there
# at the start, and without it synfin_kernel_drift (SynfinDriftsFromKernel's) has no series.
ip netns exec "$NS" sleep 3600 &
track_pid $!
SPORT=$(free_port)
PPORT=$(free_port)
[ "$PPORT" != "$SPORT" ] || PPORT=$(free_port)
API=http://127.0.0.1:$PPORT/api/v1

serve_start serve --listen "127.0.0.1:$SPORT" --netns "/var/run/netns/$NS"
SERVE=$SERVE_PID
# the records the exemplars must come from
synfin_start --netns "/var/run/netns/$NS"

cat >"$T_DIR/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: synfin
    static_configs:
      - targets: ['127.0.0.1:$SPORT']
EOF
prometheus --config.file="$T_DIR/prometheus.yml" --storage.tsdb.path="$T_DIR/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn --enable-feature=exemplar-storage \
	>"$T_DIR/prometheus.out" 2>"$T_DIR/prometheus.err" &
PROM=$!
track_pid "$PROM"

# query EXPR: the first result's value ("none" when the result is empty).
query() {
	curl -sS --max-time 5 -G "$API/query" --data-urlencode "query=$1" |
		jq -r 'if .status != "success" then "error: \(.error)" elif (.data.result | length) == 0 then "none" else .data.result[0].value[1] end'
}

# query_until EXPR EXPECTED TIMEOUT_S: polls until the value is EXPECTED; prints the last value.
query_until() {
	local v i
	for ((i = 0; i < $3 * 4; i++)); do
		v=$(query "$1")
		[ "$v" = "$2" ] && break
		sleep 0.25
	done
	printf '%s\n' "$v"
}

for ((i = 0; i < 120; i++)); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PPORT/-/ready")" = 200 ] && break
	kill -0 "$PROM" 2>/dev/null || die "prometheus exited: $(tail -n 5 "$T_DIR/prometheus.err")"
	sleep 0.25
done
check_eq "prometheus ready" 1 "$(query_until 'up{job="synfin"}' 1 20)"
# a scrape with zero connections first, so rate() sees the counters go up
check_eq "baseline scraped: client handshakes" 0 \
	"$(query_until 'synfin_handshake_duration_seconds_count{side="client"}' 0 10)"

server_start "$NS" srv --port 5001 --count "$N"
client_run "$NS" cli --port 5001 --count "$N" --parallel 4
check_eq "client: all $N connections succeeded" 0 "$CLIENT_RC"
server_wait "$SERVER_PID" srv

check_eq "closes initiated locally with FIN, as Prometheus has them" "$N" \
	"$(query_until 'synfin_connections_closed_total{initiator="local",how="fin"}' "$N" 15)"
check_eq "all closes" "$((2 * N))" "$(query_until 'sum(synfin_connections_closed_total)' "$((2 * N))" 5)"
check_eq "client handshake count" "$N" \
	"$(query_until 'synfin_handshake_duration_seconds_count{side="client"}' "$N" 5)"
check_eq "server handshake count" "$N" \
	"$(query_until 'synfin_handshake_duration_seconds_count{side="server"}' "$N" 5)"
check_eq "+Inf bucket == count" "$N" \
	"$(query 'sum(synfin_handshake_duration_seconds_bucket{le="+Inf",side="client"})')"
sleep 2 # at least two samples after the traffic for rate()

p50=$(query 'histogram_quantile(0.5, sum by (le) (rate(synfin_handshake_duration_seconds_bucket[1m])))')
check_range "median handshake, both sides (rate, s)" 0.000000001 0.1 "$p50"
p50=$(query 'histogram_quantile(0.5, sum by (le) (increase(synfin_handshake_duration_seconds_bucket[1m])))')
check_range "median handshake, both sides (increase, s)" 0.000000001 0.1 "$p50"
p99=$(query 'histogram_quantile(0.99, sum by (le, side) (rate(synfin_handshake_duration_seconds_bucket{side="server"}[1m])))')
check_range "p99 server handshake (s)" 0.000000001 0.1 "$p99"
check_range "median connection duration (s)" 0.000000001 10 \
	"$(query 'histogram_quantile(0.5, sum by (le) (rate(synfin_connection_duration_seconds_bucket[1m])))')"
check_eq "TIME_WAIT gauge" "$N" "$(query 'synfin_sockets{state="time_wait"}')"
check_eq "build info" 1 "$(query 'synfin_build_info')"

# Prometheus parsed every sample it was given (OpenMetrics) and saw no scrape error
scrape "$SPORT" "$T_DIR/metrics.txt"
check_eq "samples per scrape == samples in a text scrape" \
	"$(grep -vc '^#' "$T_DIR/metrics.txt")" "$(query 'scrape_samples_scraped{job="synfin"}')"
targets=$(curl -sS --max-time 5 "$API/targets")
check_eq "target health" up "$(jq -r '.data.activeTargets[0].health' <<<"$targets")"
check_eq "target last error" "" "$(jq -r '.data.activeTargets[0].lastError' <<<"$targets")"
check_eq "up" 1 "$(query 'up{job="synfin"}')"

# Exemplars: each a client handshake that watch recorded, as serve saw it too (cookie,
# 4-tuple, time), and its value within its bucket. Not its value against watch's latency:
# the two synfins take their own timestamps on the same tracepoints, 1-2 us apart here but
# ms apart under TCG (13.685 ms in serve's on 5.10, beyond 100 us + 10 % of watch's).
synfin_stop
ex=$(curl -sS --max-time 5 -G "$API/query_exemplars" \
	--data-urlencode 'query=synfin_handshake_duration_seconds_bucket{side="client"}' \
	--data-urlencode "start=$(($(date +%s) - 600))" --data-urlencode "end=$(($(date +%s) + 60))")
check_eq "query_exemplars: status" success "$(jq -r .status <<<"$ex")"
nex=$(jq '[.data[]?.exemplars[]] | length' <<<"$ex")
log "exemplars of the client handshake buckets: $nex"
check_true "exemplars stored" [ "$nex" -gt 0 ]
jq -n --slurpfile recs "$SYNFIN_OUT" --argjson ex "$ex" --argjson now "$(date +%s)" '
	[$recs[] | select(.type == "handshake" and .side == "client")] as $hs
	| [$ex.data[].exemplars[]
	   | . as $x
	   | select(any($hs[]; ($x.labels.cookie // null) == (if .cookie == null then null else (.cookie | tostring) end)
		and $x.labels.conn == "\(.laddr):\(.lport)->\(.raddr):\(.rport)"
		and ($now - $x.timestamp | fabs) < 600) | not)]' >"$T_DIR/exemplars_bad.json"
check_eq "exemplars that are no recorded client handshake (cookie, 4-tuple, time)" 0 \
	"$(jq length "$T_DIR/exemplars_bad.json")" || log "$(head -c 600 "$T_DIR/exemplars_bad.json")"
check_eq "exemplars whose value is above their bucket's le" 0 \
	"$(jq '[.data[] | .seriesLabels.le as $le | .exemplars[]
		| select($le != "+Inf" and (.value | tonumber) > ($le | tonumber))] | length' <<<"$ex")"

# The shipped rules on real series: loaded, evaluated without error, every recording rule
# recorded, nothing pending or firing (loopback, no loss, no failures, nothing old).
rules=$(curl -sS --max-time 5 "$API/rules")
check_eq "rules loaded" "$(grep -cE '^ *- (record|alert):' "$RULES")" \
	"$(jq '[.data.groups[].rules[]] | length' <<<"$rules")"
check_eq "rules evaluated without error" "" \
	"$(jq -r '[.data.groups[].rules[] | select(.health != "ok") | "\(.name): \(.lastError)"] | join("; ")' <<<"$rules")"
for r in $(jq -r '.data.groups[].rules[] | select(.type == "recording") | .name' <<<"$rules"); do
	for ((i = 0; i < 20; i++)); do
		v=$(query "count($r)")
		[ "$v" != none ] && break
		sleep 0.25
	done
	check_eq "recording rule $r: series" yes "$([ "$v" != none ] && echo yes || echo "no ($v)")"
done
check_eq "alerts pending or firing" "" \
	"$(curl -sS --max-time 5 "$API/alerts" | jq -r '[.data.alerts[] | "\(.labels.alertname) \(.state)"] | join("; ")')"

# Names: from the real binary's output, the one place they come from (user/metrics.c).
if python3 "$CHECK" names "$T_DIR/metrics.txt" "$RULES" "$DASH" "$T_REPO/docs/synfin.8.scd" \
	>"$T_DIR/names.out" 2>&1; then
	_ok "rules, dashboard and man page match synfin's metrics: $(tail -n 1 "$T_DIR/names.out")"
else
	_bad "rules, dashboard or man page drift from synfin's metrics"
	sed 's/^/      /' "$T_DIR/names.out"
fi
# Every dashboard query, as Grafana would send it, after the traffic above.
if python3 "$CHECK" queries "$DASH" "$API" >"$T_DIR/queries.out" 2>&1; then
	_ok "dashboard: $(tail -n 1 "$T_DIR/queries.out")"
else
	_bad "dashboard queries without data"
	sed 's/^/      /' "$T_DIR/queries.out"
fi

serve_stop "$SERVE" serve
t_done
