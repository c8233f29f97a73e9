#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# deploy/prometheus/synfin-rules.yml and deploy/grafana/synfin.json, checked offline:
#   - promtool check rules (syntax, PromQL, templates);
#   - promtool test rules on tests/deploy/synfin-rules.test.yml: fixture series under which
#     each alert fires and does not fire, and each recording rule's values;
#   - that every alert has both cases and every recording rule a test (check_deploy.py
#     coverage): a new rule without fixtures fails here;
#   - the dashboard's structure (check_deploy.py lint);
#   - promtool check config on deploy/prometheus-scrape.yml with the rules file loaded.
# That the names they use exist in synfin's output, and that every dashboard query returns
# data from a real Prometheus, is test_prometheus_e2e.sh's part.
source "$(dirname "$0")/lib.sh"
require_cmd promtool python3
t_init

RULES=$T_REPO/deploy/prometheus/synfin-rules.yml
TESTS=$T_REPO/tests/deploy/synfin-rules.test.yml
DASH=$T_REPO/deploy/grafana/synfin.json
CHECK=$T_REPO/tests/deploy/check_deploy.py

# run DESC CMD...: CMD must succeed; its output is shown when it does not.
run() {
	local desc=$1
	shift
	if "$@" >"$T_DIR/out" 2>&1; then
		_ok "$desc: $(grep . "$T_DIR/out" | tail -n 1 | sed "s/^ *//")"
	else
		_bad "$desc"
		sed 's/^/      /' "$T_DIR/out"
	fi
}

run "promtool check rules" promtool check rules "$RULES"
run "promtool test rules" promtool test rules "$TESTS"
run "every alert fires and stays silent in a test, every recording rule is tested" \
	python3 "$CHECK" coverage "$RULES" "$TESTS"
run "dashboard structure" python3 "$CHECK" lint "$DASH"
# The scrape snippet with the rules, as README's fleet steps put them into prometheus.yml.
{ printf 'rule_files:\n  - %s\n' "$RULES"; cat "$T_REPO/deploy/prometheus-scrape.yml"; } >"$T_DIR/prometheus.yml"
run "promtool check config: deploy/prometheus-scrape.yml with the rules" \
	promtool check config "$T_DIR/prometheus.yml"

# The checks can fail: a rule without tests, and a broken threshold, must be caught.
mkdir -p "$T_DIR/deploy/prometheus" "$T_DIR/tests/deploy"
cp "$TESTS" "$T_DIR/tests/deploy/"
sed 's/p99_rate5m > 0.2$/p99_rate5m > 5/' "$RULES" >"$T_DIR/deploy/prometheus/synfin-rules.yml"
if promtool test rules "$T_DIR/tests/deploy/synfin-rules.test.yml" >"$T_DIR/out" 2>&1; then
	_bad "promtool test rules passed with the handshake SLO raised to 5 s"
else
	_ok "promtool test rules fails when a threshold changes"
fi
{ cat "$RULES"; printf '      - alert: Untested\n        expr: vector(1)\n'; } >"$T_DIR/untested.yml"
if python3 "$CHECK" coverage "$T_DIR/untested.yml" "$TESTS" >"$T_DIR/out" 2>&1; then
	_bad "coverage passed with an untested alert"
else
	check_eq "coverage names the untested alert" 2 "$(grep -c 'alert Untested: no test case' "$T_DIR/out")"
fi

t_done
