#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `serve --textfile` runs as root in a directory others may write (a service group's
# node-exporter directory). Whatever they plant there must not make synfin write elsewhere:
# a symlink at the old fixed temporary name (PATH.tmp) and one at PATH itself point at a
# victim file. Checks: the victim is unchanged, the textfile is a regular file with valid
# metrics (promtool), the planted PATH.tmp symlink is left alone, and no temporary file is
# left behind after SIGTERM.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
t_setup
require_cmd promtool

NS=$(netns_name tfsym)
netns_create "$NS"
DIR=$T_DIR/textdir
mkdir -p "$DIR"
chmod 1777 "$DIR"
VICTIM=$T_DIR/victim
printf 'precious\n' >"$VICTIM"
ln -s "$VICTIM" "$DIR/synfin.prom.tmp"

serve_start tf --listen none --textfile "$DIR/synfin.prom" --interval 0.2 \
	--netns "/var/run/netns/$NS"
sleep 1
check_eq "victim behind synfin.prom.tmp unchanged while serving" precious "$(head -c 40 "$VICTIM" | tr "\n" " " | sed "s/ $//")"
check_true "textfile is a regular file" test -f "$DIR/synfin.prom" -a ! -L "$DIR/synfin.prom"
check_eq "textfile: promtool check metrics" "" "$(promtool check metrics <"$DIR/synfin.prom" 2>&1)"
check_true "the planted symlink is left as it was" test -L "$DIR/synfin.prom.tmp"

# A symlink at PATH itself is replaced (rename replaces the link, never writes through it).
rm -f "$DIR/synfin.prom"
ln -s "$VICTIM" "$DIR/synfin.prom"
sleep 1
check_eq "victim behind a synfin.prom symlink unchanged" precious "$(head -c 40 "$VICTIM" | tr "\n" " " | sed "s/ $//")"
check_true "the synfin.prom symlink was replaced by a regular file" \
	test -f "$DIR/synfin.prom" -a ! -L "$DIR/synfin.prom"
serve_stop "$SERVE_PID" tf
check_eq "victim unchanged after exit" precious "$(head -c 40 "$VICTIM" | tr "\n" " " | sed "s/ $//")"
check_eq "no temporary file left (only the planted symlink)" "synfin.prom synfin.prom.tmp" \
	"$(cd "$DIR" && ls -A | sort | paste -sd ' ')"
check_eq "final textfile: promtool check metrics" "" "$(promtool check metrics <"$DIR/synfin.prom" 2>&1)"
t_done
