#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `serve --textfile` when its directory vanishes or fills up while it runs: one clear line on
# stderr (not one per attempt), /metrics keeps being served, the previous file stays intact
# (a full disk never leaves it truncated), no temporary file is left, and once the directory
# is back or has room the file is written again, and says so. At exit, a textfile that cannot
# be written makes the exit status 1.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
t_setup
require_cmd curl promtool mount umount

NS=$(netns_name tffault)
netns_create "$NS"
PORT=$(free_port)

# --- the directory disappears, then comes back
DIR=$T_DIR/gone
mkdir "$DIR"
serve_start gone --listen "127.0.0.1:$PORT" --textfile "$DIR/synfin.prom" --interval 0.2 \
	--netns "/var/run/netns/$NS"
rm -rf "$DIR"
sleep 1.2
check_eq "directory removed: one line on stderr" \
	"synfin: cannot write $DIR/synfin.prom: No such file or directory; the previous file is kept, retrying every 0.2 s" \
	"$(grep -v -e '^synfin: serving ' -e '^synfin: writing ' -e '^synfin: ready$' -e '^synfin: note: ' "$T_DIR/gone.err")"
check_eq "directory removed: /metrics still served" 200 "$(http_code GET "http://127.0.0.1:$PORT/metrics")"
mkdir "$DIR"
sleep 0.8
check_true "directory back: the textfile is written again" test -s "$DIR/synfin.prom"
check_eq "directory back: says so" 1 "$(grep -c "^synfin: $DIR/synfin.prom written again$" "$T_DIR/gone.err")"
rm -rf "$DIR"
sleep 0.5
kill -TERM "$SERVE_PID"
wait_pid "$SERVE_PID" 10
check_eq "directory gone at exit: exit status 1" 1 "$?"

# --- the file system fills up, then has room again
MNT=$T_DIR/tiny
mkdir "$MNT"
mount -t tmpfs -o size=256k tmpfs "$MNT" || die "cannot mount a tmpfs"
trap 'umount "$MNT" 2>/dev/null; t_cleanup' EXIT
serve_start full --listen "127.0.0.1:$PORT" --textfile "$MNT/synfin.prom" --interval 0.2 \
	--netns "/var/run/netns/$NS"
sleep 0.5
dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null
# what was last written before the disk filled (a rewrite may have been in flight)
sleep 0.5
cp "$MNT/synfin.prom" "$T_DIR/before.prom"
ino=$(stat -c %i "$MNT/synfin.prom")
sleep 1
check_eq "disk full: one line on stderr" \
	"synfin: cannot write $MNT/synfin.prom: No space left on device; the previous file is kept, retrying every 0.2 s" \
	"$(grep -v -e '^synfin: serving ' -e '^synfin: writing ' -e '^synfin: ready$' -e '^synfin: note: ' "$T_DIR/full.err")"
check_true "disk full: the previous file is intact" cmp -s "$MNT/synfin.prom" "$T_DIR/before.prom"
check_eq "disk full: the previous file was not replaced (inode)" "$ino" "$(stat -c %i "$MNT/synfin.prom")"
check_eq "disk full: the previous file is valid (promtool)" "" "$(promtool check metrics <"$MNT/synfin.prom" 2>&1)"
check_eq "disk full: no temporary file left" "fill synfin.prom" "$(cd "$MNT" && ls -A | sort | paste -sd ' ')"
check_eq "disk full: /metrics still served" 200 "$(http_code GET "http://127.0.0.1:$PORT/metrics")"
rm -f "$MNT/fill"
sleep 0.8
check_eq "room again: says so" 1 "$(grep -c "^synfin: $MNT/synfin.prom written again$" "$T_DIR/full.err")"
check_true "room again: the file is replaced (a new inode)" test "$(stat -c %i "$MNT/synfin.prom")" != "$ino"
serve_stop "$SERVE_PID" full
umount "$MNT"
t_done
