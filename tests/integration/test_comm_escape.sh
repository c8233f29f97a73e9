#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A process name is anyone's to choose (prctl(PR_SET_NAME), /proc/self/comm), and synfin shows
# it: it must never reach a terminal as control bytes, nor JSON as invalid UTF-8.
# In a fresh namespace, a process renamed to ESC[2J ESC[31m EVIL (clear the screen, red), and
# then one renamed to bytes 0xff 0xfe (never UTF-8), each make connections to themselves.
# - `synfin watch` (the table): no ESC byte and no other control byte on any line, and the
#   name shown in its escaped form \x1b[2J\x1b[31mEVIL;
# - `synfin watch --json`: every line is strict JSON (python3 json.loads on the bytes decoded
#   as strict UTF-8), and the comm reads back with U+FFFD for each invalid byte.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3

N=3
# records carrying the name: each connection's client handshake and close, and its server
# handshake and close where the kernel tells synfin the listener's owner (synfin check:
# server_pid; not on 5.10: server pid/comm are null there)
NAMED=$((4 * N))
has_feature server_pid || { NAMED=$((2 * N)); log "server records carry no comm here (synfin check: server_pid)"; }
EVIL_HEX=1b5b324a1b5b33316d4556494c      # \x1b[2J\x1b[31mEVIL
BAD_HEX=626164fffe6e616d65              # bad\xff\xfename
NS=$(netns_name comm)
netns_create "$NS"
INO=$(netns_inode "$NS")

"$SYNFIN" watch --netns "/var/run/netns/$NS" >"$T_DIR/table.out" 2>"$T_DIR/table.err" &
TABLE=$!
track_pid "$TABLE"
synfin_start --netns "/var/run/netns/$NS"
wait_for_line "$T_DIR/table.err" '^synfin: ready$' 20 "$TABLE" || die "watch (table) not ready: $(cat "$T_DIR/table.err")"

for hex in $EVIL_HEX $BAD_HEX; do
	out=$(nsx "$NS" python3 "$T_LIB_DIR/comm_conn.py" "$hex" 5201 $N 2>&1)
	[ "$out" = done ] || die "comm_conn.py $hex: $out"
done
sleep 0.5
kill -INT "$TABLE"
wait_pid "$TABLE" 10
check_eq "watch (table) exit status" 0 "$?"
synfin_stop

# --- the table
check_eq "table: lines with an ESC byte" 0 "$(grep -c $'\x1b' "$T_DIR/table.out")"
check_eq "table: lines with any other control byte (tab and newline aside)" 0 \
	"$(LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f]' "$T_DIR/table.out")"
# client and server handshake and close: 4 lines per connection name the process
check_eq "table: lines showing the escaped name \\x1b[2J\\x1b[31mEVIL" "$NAMED" \
	"$(grep -cF '\x1b[2J\x1b[31mEVIL' "$T_DIR/table.out")"
check_eq "table: lines showing the invalid bytes escaped (bad\\xff\\xfename)" "$NAMED" \
	"$(grep -cF 'bad\xff\xfename' "$T_DIR/table.out")"
check_eq "table: lines with bytes that are not UTF-8" 0 \
	"$(python3 -c 'import sys
n = 0
for l in open(sys.argv[1], "rb"):
    try:
        l.decode("utf-8", "strict")
    except UnicodeDecodeError:
        n += 1
print(n)' "$T_DIR/table.out")"

# --- JSON lines, strictly
python3 - "$SYNFIN_OUT" >"$T_DIR/strict.out" 2>&1 <<'PYEOF'
import json, sys
bad = 0
comms = {}
for i, raw in enumerate(open(sys.argv[1], "rb"), 1):
    try:
        o = json.loads(raw.decode("utf-8", "strict"))
    except (UnicodeDecodeError, ValueError) as e:
        bad += 1
        print("line %d: %s: %r" % (i, e, raw[:80]))
        continue
    if o.get("comm") is not None and o.get("type") in ("handshake", "close"):
        comms[o["comm"]] = comms.get(o["comm"], 0) + 1
print("bad", bad)
for c, n in sorted(comms.items()):
    print("comm", json.dumps(c), n)
PYEOF
log "strict JSON check: $(tr '\n' ' ' <"$T_DIR/strict.out")"
check_eq "JSON: lines json.loads rejects (strict UTF-8)" 0 "$(awk '$1 == "bad" { print $2 }' "$T_DIR/strict.out")"
check_eq "JSON: handshake and close records with the ESC name, escaped as \\u001b" "$NAMED" \
	"$(awk '$1 == "comm" && $2 == "\"\\u001b[2J\\u001b[31mEVIL\"" { print $3 }' "$T_DIR/strict.out")"
check_eq "JSON: handshake and close records with bad\\ufffd\\ufffdname" "$NAMED" \
	"$(awk '$1 == "comm" && $2 == "\"bad\\ufffd\\ufffdname\"" { print $3 }' "$T_DIR/strict.out")"

# --- a user's strings in messages: an option value, an argument, a path
"$SYNFIN" watch --port $'\x1b[2J' >/dev/null 2>"$T_DIR/arg.err"
check_eq "bad option value: exit 2" 2 "$?"
check_eq "bad option value: the message, escaped" \
	"synfin: invalid value '\x1b[2J' for --port (see 'synfin watch --help')" "$(cat "$T_DIR/arg.err")"
"$SYNFIN" serve --listen none --textfile "$T_DIR/none"$'/\x1b[31mx.prom' \
	--netns "/var/run/netns/$NS" >/dev/null 2>"$T_DIR/path.err"
check_eq "textfile in a missing directory: exit 1" 1 "$?"
check_eq "textfile in a missing directory: the path, escaped" \
	"synfin: cannot write $T_DIR/none/\x1b[31mx.prom: No such file or directory" \
	"$(grep -v '^synfin: note: ' "$T_DIR/path.err")" # 5.10 notes the capability it keeps
"$SYNFIN" run --report /dev/null -- true $'\x1b[2J' >/dev/null 2>"$T_DIR/run.err"
check_eq "run: the command line in its summary, escaped" 1 \
	"$(grep -cF "synfin run: 'true \x1b[2J' exited with 0" "$T_DIR/run.err")"
check_eq "messages with an ESC byte" 0 "$(cat "$T_DIR"/{arg,path,run}.err | grep -c $'\x1b')"
t_done
