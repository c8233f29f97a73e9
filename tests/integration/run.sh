#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Runs synfin's root integration tests: every tests/integration/test_*.sh, or the ones named
# on the command line (a path, a file name, or a name without test_ and .sh). One line per
# test, PASS/FAIL/SKIP with its time; a failed test's output follows its line. The last line
# is "N passed, N failed, N skipped". Exit status 1 if any test failed.
#
# A test may declare what it needs of the kernel with header lines
#   # requires: FEATURE [FEATURE...]
# naming keys of the "features" object of `synfin check --json` (asked once, only when a
# selected test declares one). A test whose required feature is false there is not run:
# "SKIP name (requires FEATURE: reason)", the reason from the "reasons" object, counted as
# skipped. When `check --json` gives no such object (an older synfin), or names no such
# feature, the feature counts as present and the test runs.
#
#   SYNFIN    synfin binary (default: <repo>/synfin)
#   TCPDRIVE  traffic driver (default: <repo>/.output/tcpdrive)
#   T_TIMEOUT seconds before a test is killed (default 300)
#   V=1       show every test's output, not only failures'
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SYNFIN=$(realpath -m "${SYNFIN:-$repo/synfin}")
TCPDRIVE=$(realpath -m "${TCPDRIVE:-$repo/.output/tcpdrive}")
export SYNFIN TCPDRIVE

if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: the integration tests must run as root" \
		"(they load BPF programs and create network namespaces)" >&2
	exit 1
fi

tests=()
if [ $# -eq 0 ]; then
	for t in "$here"/test_*.sh; do
		[ -e "$t" ] && tests+=("$t")
	done
else
	for a in "$@"; do
		for t in "$here/test_$a.sh" "$here/$a.sh" "$here/$a" "$a" ""; do
			[ -n "$t" ] && [ -f "$t" ] && break
		done
		[ -n "$t" ] || { echo "run.sh: no such test: $a" >&2; exit 2; }
		tests+=("$t")
	done
fi

passed=0 failed=0 skipped=0
log=$(mktemp /tmp/synfin-run.XXXXXX) || exit 1
trap 'rm -f "$log"' EXIT

# requires_of TEST: the features TEST's header (its leading comment lines) requires.
requires_of() {
	awk '!/^#/ { exit } sub(/^#[ \t]*requires:[ \t]*/, "") { print }' "$1" | tr -s ' \t' '\n\n' | grep .
}

# The features synfin reports on this kernel (FEATURE=true|false lines, and the reasons),
# asked once, and only if some test needs them.
features= reasons=
for t in "${tests[@]}"; do
	if requires_of "$t" >/dev/null; then
		cj=$("$SYNFIN" check --json 2>/dev/null)
		features=$(jq -r 'if type == "object" and (.features | type) == "object" then
			.features | to_entries[] | "\(.key)=\(.value)" else empty end' <<<"$cj" 2>/dev/null)
		reasons=$(jq -r 'if type == "object" and (.reasons | type) == "object" then
			.reasons | to_entries[] | "\(.key)=\(.value | tostring | gsub("\n"; " "))"
			else empty end' <<<"$cj" 2>/dev/null)
		break
	fi
done

kv() { awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }'; }

# missing_of TEST: "requires F: reason" for each feature TEST requires that is false here.
missing_of() {
	local f why out=
	for f in $(requires_of "$1"); do
		[ "$(kv "$f" <<<"$features")" = false ] || continue
		why=$(kv "$f" <<<"$reasons")
		out="${out:+$out; }requires $f${why:+: $why}"
	done
	[ -n "$out" ] && echo "$out"
}

for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	if [ -n "$features" ] && missing=$(missing_of "$t"); then
		printf '%-4s %s (%s)\n' SKIP "$name" "$missing"
		skipped=$((skipped + 1))
		continue
	fi
	start=$(date +%s.%N)
	timeout -s TERM -k 10 "${T_TIMEOUT:-300}" bash "$t" >"$log" 2>&1
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
	case $rc in
	0) result=PASS; passed=$((passed + 1)) ;;
	77) result=SKIP; skipped=$((skipped + 1)) ;;
	*) result=FAIL; failed=$((failed + 1)) ;;
	esac
	[ $rc -eq 124 ] && result="FAIL (timed out)"
	printf '%-4s %s (%ss)\n' "$result" "$name" "$secs"
	if [ "$result" != PASS ] || [ "${V:-0}" = 1 ]; then
		sed 's/^/    /' "$log"
	fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
