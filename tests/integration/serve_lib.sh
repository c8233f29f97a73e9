# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Helpers for the `synfin serve` tests (test_serve*.sh, test_prometheus_e2e.sh), sourced after
# lib.sh. Depends on curl and promtool (Debian: curl, prometheus).

# free_port: a TCP port nobody listens on in this namespace, from 10000 up to the start of
# the ephemeral range (ip_local_port_range): a port in that range can be the local port of
# any connection of the machine (other tests' clients), and bind() then fails.
free_port() {
	local p lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	[ "${lo:-0}" -gt 11000 ] || lo=32768
	for _ in $(seq 100); do
		p=$((10000 + RANDOM % (lo - 10000)))
		ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return 0; }
	done
	die "no free TCP port found"
}

# serve_start TAG ARGS...: `synfin serve ARGS` in the background; waits (20 s) for
# "synfin: ready". Sets SERVE_PID; stdout/stderr in $T_DIR/TAG.out and TAG.err.
serve_start() {
	local tag=$1 r
	shift
	"$SYNFIN" serve "$@" >"$T_DIR/$tag.out" 2>"$T_DIR/$tag.err" &
	SERVE_PID=$!
	track_pid "$SERVE_PID"
	wait_for_line "$T_DIR/$tag.err" '^synfin: ready$' 20 "$SERVE_PID"
	r=$?
	case $r in
	0) ;;
	2) die "synfin serve ($tag) exited before it was ready: $(tail -n 5 "$T_DIR/$tag.err")" ;;
	*) die "synfin serve ($tag) not ready after 20 s: $(tail -n 5 "$T_DIR/$tag.err")" ;;
	esac
}

# serve_stop PID TAG: SIGTERM; synfin must exit 0 within 10 s.
serve_stop() {
	local pid=$1 tag=$2 rc
	kill -TERM "$pid" 2>/dev/null
	wait_pid "$pid" 10
	rc=$?
	check_eq "synfin serve ($tag) exit status after SIGTERM" 0 "$rc" ||
		log "$tag stderr: $(tail -n 5 "$T_DIR/$tag.err")"
}

# scrape PORT FILE [CURL ARGS...]: GET /metrics into FILE; dies when it does not answer 200.
scrape() {
	local port=$1 file=$2 code
	shift 2
	code=$(curl -sS --max-time 5 -o "$file" -w '%{http_code}' "$@" \
		"http://127.0.0.1:$port/metrics") || die "scraping 127.0.0.1:$port failed"
	[ "$code" = 200 ] || die "scraping 127.0.0.1:$port: HTTP $code"
}

# metric FILE SERIES: the value of the sample whose name and labels are exactly SERIES
# ("absent" if there is none).
metric() {
	awk -v s="$2" '$1 == s { print $2; f = 1; exit } END { if (!f) print "absent" }' "$1"
}

# hist_check FILE NAME LABELS: the histogram series NAME{LABELS,le=...} has cumulative
# buckets in increasing le order ending in +Inf == NAME_count{LABELS}; prints the count,
# or "bad: why".
hist_check() {
	local file=$1 name=$2 labels=$3
	awk -v b="${name}_bucket{${labels:+$labels,}le=\"" -v c="${name}_count${labels:+{$labels\}}" '
		index($1, b) == 1 {
			le = substr($1, length(b) + 1); sub(/"}$/, "", le)
			if (le != "+Inf" && n && le + 0 <= prev_le + 0) { print "bad: le " le " after " prev_le; bad = 1; exit }
			if (n && $2 + 0 < prev + 0) { print "bad: bucket le=" le " " $2 " < " prev; bad = 1; exit }
			prev = $2; prev_le = le; n++; if (le == "+Inf") inf = $2
		}
		$1 == c { count = $2 }
		END {
			if (bad) exit
			if (!n) print "bad: no buckets"
			else if (inf == "") print "bad: no +Inf bucket"
			else if (count == "") print "bad: no _count"
			else if (inf != count) print "bad: +Inf " inf " != _count " count
			else print count
		}' "$file"
}

# http_code METHOD URL [CURL ARGS...]: the status code curl saw ("000": no HTTP answer).
http_code() {
	local method=$1 url=$2
	shift 2
	curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X "$method" "$@" "$url"
}
