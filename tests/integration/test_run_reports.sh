#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `synfin run --report/--prom/--html`: each output checked by an outside judge.
#
# One run around a client/server command (N connections over IPv4 and IPv6, in a fresh
# namespace) with one holding and one failing assertion, writing all three reports. Checks:
#   - the JSON report validates against docs/run-report.schema.json (Draft 2020-12, with
#     Debian's python3-jsonschema), and its counts are the command's;
#   - the Prometheus file passes `promtool check metrics` and carries the run's families;
#   - the HTML report renders in headless Chromium: the DOM has the four charts (with bars
#     and the TIME_WAIT area), the assertion table with the failure, the endpoint table.
#     A screenshot is kept in the scratch directory (T_KEEP=1 keeps it), never in the repo.
# Skips (77) when python3-jsonschema, promtool or chromium is missing (make deps installs them).
source "$(dirname "$0")/lib.sh"
t_setup

PY=/usr/bin/python3
"$PY" -c 'import jsonschema' 2>/dev/null ||
	skip "python3-jsonschema is not installed (apt-get install python3-jsonschema)"
command -v promtool >/dev/null || skip "promtool is not installed (apt-get install prometheus)"
CHROMIUM=$(command -v chromium || command -v chromium-browser) ||
	skip "chromium is not installed (apt-get install chromium)"

N=${N:-20}
NS=$(netns_name rep)
netns_create "$NS"

cat >"$T_DIR/cmd.sh" <<EOF
#!/bin/sh
for fam in 4 6; do
	"$TCPDRIVE" serve -\$fam --port 700\$fam --count $N >"$T_DIR/srv\$fam.out" 2>/dev/null &
	until grep -q '^ready\$' "$T_DIR/srv\$fam.out" 2>/dev/null; do sleep 0.02; done
	"$TCPDRIVE" connect -\$fam --port 700\$fam --count $N --parallel 4 2>/dev/null || exit 8
done
wait
EOF

"$SYNFIN" run --report "$T_DIR/run.json" --prom "$T_DIR/run.prom" --html "$T_DIR/run.html" \
	--assert "handshake.count == $((4 * N))" --assert 'handshake.server.p99 < 1ns' \
	-- ip netns exec "$NS" sh "$T_DIR/cmd.sh" >"$T_DIR/run.out" 2>"$T_DIR/run.err"
check_eq "exit status (one assertion fails)" 1 $?

# --- JSON: the schema, and the facts
check_true "the report validates against docs/run-report.schema.json" \
	"$PY" "$T_LIB_DIR/json_schema.py" run-report.schema.json "$T_DIR/run.json"
check_eq "report: handshakes per side" "$((2 * N)) $((2 * N))" \
	"$(jq -r '"\(.summary.handshake.client.latency.count) \(.summary.handshake.server.latency.count)"' "$T_DIR/run.json")"
check_eq "report: endpoints (2 families x 2 sides)" 4 "$(jq '.endpoints | length' "$T_DIR/run.json")"
check_eq "report: assertion results" "true false" \
	"$(jq -r '[.assertions[].passed] | map(tostring) | join(" ")' "$T_DIR/run.json")"
check_eq "report: verdict" assertion_failed "$(jq -r .verdict "$T_DIR/run.json")"

# --- Prometheus
check_true "promtool check metrics accepts the --prom file" sh -c "promtool check metrics <'$T_DIR/run.prom'"
check_true "the run's TIME_WAIT entries are in it" grep -q "^synfin_run_time_wait_entries_total $((2 * N))$" "$T_DIR/run.prom"
check_true "the failed assertion is in it" \
	grep -q '^synfin_run_assertion_passed{assertion="handshake.server.p99 < 1ns"} 0$' "$T_DIR/run.prom"
check_true "the handshake histogram is in it" grep -q '^synfin_handshake_duration_seconds_count{side="client"} ' "$T_DIR/run.prom"

# --- HTML in headless Chromium
chrome() {
	local profile
	profile=$(mktemp -d "$T_DIR/chromium.XXXXXX")
	timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" "$@" 2>>"$T_DIR/chromium.err"
}
chrome --dump-dom "file://$T_DIR/run.html" >"$T_DIR/dom.html"
check_eq "Chromium parsed the page: charts in the DOM" 4 "$(grep -o '<svg id="[a-z-]*"' "$T_DIR/dom.html" | sort -u | wc -l)"
for id in hs-client hs-server tw-timeline tw-durations; do
	check_true "chart $id is there" grep -q "<svg id=\"$id\"" "$T_DIR/dom.html"
done
check_range "handshake bars drawn" 2 100 "$(grep -Eo '<rect class="h[cs]"' "$T_DIR/dom.html" | wc -l)"
check_true "the TIME_WAIT area is drawn" grep -q '<path class="twl"' "$T_DIR/dom.html"
check_true "the failed assertion is shown" grep -q 'FAILED</td><td><code>handshake.server.p99 &lt; 1ns' "$T_DIR/dom.html"
check_true "the endpoint table is there" grep -q '<table id="endpoints"' "$T_DIR/dom.html"
chrome --screenshot="$T_DIR/run.png" --window-size=1200,1600 "file://$T_DIR/run.html" >/dev/null
check_range "a screenshot was taken (bytes)" 10000 100000000 "$(stat -c %s "$T_DIR/run.png" 2>/dev/null)"
log "screenshot: $T_DIR/run.png (T_KEEP=1 keeps it)"

t_done
