#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Runs each cmocka binary given as an argument; counts individual test cases.
set -u
cd "$(dirname "$0")/../.." || exit 1
passed=0 failed=0
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	p=$(grep -c '^\[       OK \]' <<<"$out")
	f=$(grep -c '^\[  FAILED  \] [a-z_0-9]' <<<"$out")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ $rc -ne 0 ] || [ "$f" -ne 0 ]; then
		echo "$out"
		[ "$f" -eq 0 ] && failed=$((failed + 1)) # crashed without reporting a case
		echo "FAIL $(basename "$t")"
	else
		echo "PASS $(basename "$t") ($p cases)"
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
