#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# hold: runs CMD between two marks, for make bench's synfin-run configuration (issue 14).
# Creates DIR/started, waits for DIR/go, runs CMD, writes its exit status to DIR/ran, waits
# for DIR/release, exits with CMD's status. Run as `synfin run -- hold.sh DIR CMD...`, it lets
# the bench start CMD only once synfin has settled, and read synfin's CPU time and BPF
# counters after CMD and before synfin run exits, as it does for the other observers.
# A mark that does not come within 600 s, or DIR removed, ends it with status 1.

[ $# -ge 2 ] || { echo "Usage: tests/bench/hold.sh DIR CMD [ARGS]..." >&2; exit 2; }
dir=$1
shift
[ -d "$dir" ] || { echo "hold: no directory '$dir'" >&2; exit 2; }

wait_for() {
	n=0
	while [ ! -e "$dir/$1" ]; do
		[ -d "$dir" ] || exit 1 # the bench is gone and took its temp dir along
		n=$((n + 1))
		if [ "$n" -gt 12000 ]; then
			echo "hold: no '$1' mark in $dir within 600 s" >&2
			exit 1
		fi
		sleep 0.05
	done
}

: >"$dir/started"
wait_for go
"$@"
st=$?
echo "$st" >"$dir/ran"
wait_for release
exit "$st"
