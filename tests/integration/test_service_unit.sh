#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# deploy/synfin.service and deploy/daemonset.yaml, hardened and still workable:
#   - the unit has exactly one ExecStart=, an absolute path to synfin (make install rewrites
#     it); `systemd-analyze verify` is clean (on a copy whose ExecStart is the built binary);
#   - `systemd-analyze security --offline=true` scores it <= 3.0;
#   - it is not root: DynamicUser= or User= other than root; AmbientCapabilities= is its
#     CapabilityBoundingSet=, which holds CAP_BPF and CAP_PERFMON and nothing outside the
#     measured set (CAP_SYS_ADMIN, CAP_SYS_PTRACE);
#   - every system call a real `synfin serve` makes (strace -f: load, attach, seeding a
#     second namespace through setns, scrapes, textfile writes, SIGTERM) is allowed by its SystemCallFilter=,
#     and every socket family it opens by RestrictAddressFamilies=;
#   - the DaemonSet parses (python3 yaml), is not privileged, adds exactly the unit's
#     capabilities and drops ALL, has a read-only root filesystem and no privilege escalation.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
t_setup
require_cmd systemd-analyze strace python3 setpriv prlimit curl

UNIT=$T_REPO/deploy/synfin.service
DS=$T_REPO/deploy/daemonset.yaml

# --- the unit's text
check_eq "exactly one ExecStart= line" 1 "$(grep -c '^ExecStart=' "$UNIT")"
check_true "ExecStart= is an absolute path to synfin" \
	grep -Eq '^ExecStart=/[^ ]*/synfin( |$)' "$UNIT"
cp "$UNIT" "$T_DIR/synfin.service"
sed -i "s#^ExecStart=/[^ ]*/synfin#ExecStart=$SYNFIN#" "$T_DIR/synfin.service"
systemd-analyze verify "$T_DIR/synfin.service" >"$T_DIR/verify.out" 2>&1
check_eq "systemd-analyze verify: exit 0" 0 "$?"
check_eq "systemd-analyze verify: no messages" "" "$(cat "$T_DIR/verify.out")"
systemd-analyze security --offline=true --no-pager "$UNIT" >"$T_DIR/security.out" 2>&1
score=$(sed -n 's/.*Overall exposure level for synfin.service: \([0-9.]*\).*/\1/p' "$T_DIR/security.out")
check_range "systemd-analyze security --offline=true: exposure" 0 3.0 "$score"

prop() { sed -n "s/^$1=//p" "$UNIT" | tail -n 1; }
check_true "not root: DynamicUser=yes or a User= other than root" \
	test "$(prop DynamicUser)" = yes -o \( -n "$(prop User)" -a "$(prop User)" != root -a "$(prop User)" != 0 \)
bound=$(prop CapabilityBoundingSet | tr ' ' '\n' | sort | paste -sd ' ')
check_eq "AmbientCapabilities= == CapabilityBoundingSet=" "$bound" \
	"$(prop AmbientCapabilities | tr ' ' '\n' | sort | paste -sd ' ')"
check_eq "the capability set" "CAP_BPF CAP_PERFMON CAP_SYS_ADMIN CAP_SYS_PTRACE" "$bound"
check_eq "NoNewPrivileges" yes "$(prop NoNewPrivileges)"
check_eq "ProtectSystem" strict "$(prop ProtectSystem)"
check_true "MemoryMax is set" test -n "$(prop MemoryMax)"

# --- the syscalls and socket families of a real synfin serve, against the unit's lists
allowed=$(python3 - "$UNIT" <<'PY'
import subprocess, sys
out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True,
                     text=True, check=True).stdout
groups, cur = {}, None
for line in out.splitlines():
    t = line.strip()
    if not t or t.startswith("#"):
        continue
    if line.startswith("@"):
        cur = groups.setdefault(t, [])
    elif cur is not None:
        cur.append(t)
def expand(n, seen):
    if not n.startswith("@"):
        return {n}
    if n in seen:
        return set()
    seen.add(n)
    return set().union(*(expand(m, seen) for m in groups.get(n, [])))
allow, deny = set(), set()
for line in open(sys.argv[1]):
    if not line.startswith("SystemCallFilter="):
        continue
    v = line.split("=", 1)[1].split()
    if v[0].startswith("~"):
        deny |= set().union(*(expand(x.lstrip("~"), set()) for x in v))
    else:
        allow |= set().union(*(expand(x, set()) for x in v))
print(" ".join(sorted(allow - deny)))
PY
) || die "cannot expand the unit's SystemCallFilter"
[ -n "$allowed" ] || die "the unit allows no system call"

NS=$(netns_name unit)
netns_create "$NS"
# A connection in a second namespace, so that seeding enters it (setns).
nsx "$NS" python3 -c '
import socket, time
l = socket.socket(); l.bind(("127.0.0.1", 5201)); l.listen()
c = socket.create_connection(("127.0.0.1", 5201)); a, _ = l.accept()
print("held", flush=True); time.sleep(600)' >"$T_DIR/hold.out" 2>&1 &
track_pid $!
wait_for_line "$T_DIR/hold.out" '^held$' 10 $! || die "the held connection did not come up"
BIN=$(mktemp -d /tmp/synfin-unit-bin.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$BIN"; t_cleanup' EXIT
chmod 0755 "$BIN" && cp "$SYNFIN" "$BIN/synfin" && chmod 0755 "$BIN/synfin" || die "cannot copy synfin"
caps=$(echo "$bound" | tr 'A-Z ' 'a-z\n' | sed 's/^cap_/+/' | paste -sd,)
# The textfile too (its write, fsync and rename), in a directory nobody may write.
mkdir "$BIN/tf" && chown nobody "$BIN/tf" || die "cannot make the textfile directory"
PORT=$(free_port)
memlock_wrap # as the unit's LimitMEMLOCK=infinity
strace -f -qq -o "$T_DIR/strace.out" "${MEMLOCK_WRAP[@]}" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps="-all,$caps" \
	--ambient-caps="-all,$caps" -- "$BIN/synfin" serve --listen "127.0.0.1:$PORT" \
	--textfile "$BIN/tf/synfin.prom" --interval 1 \
	>"$T_DIR/serve.out" 2>"$T_DIR/serve.err" &
STRACE_PID=$!
track_pid $STRACE_PID
wait_for_line "$T_DIR/serve.err" '^synfin: ready$' 30 $STRACE_PID ||
	die "synfin serve under strace not ready: $(tail -n 3 "$T_DIR/serve.err")"
scrape "$PORT" "$T_DIR/m.txt"
check_true "serve under strace answers /metrics" grep -q '^synfin_build_info' "$T_DIR/m.txt"
sleep 1.2 # one more textfile write, after the drop
check_true "serve under strace wrote the textfile" grep -q '^synfin_build_info' "$BIN/tf/synfin.prom"
check_range "the held connection of the second namespace was seeded (established >= 2)" 2 1000000 \
	"$(metric "$T_DIR/m.txt" 'synfin_sockets{state="established"}')"
kill -TERM "$(pgrep -n -P $STRACE_PID)" 2>/dev/null || kill -TERM $STRACE_PID
wait_pid $STRACE_PID 20
# Only synfin's own calls: from its execve on (setpriv's come before).
awk '/execve\(".*\/synfin"/ { on = 1 } on' "$T_DIR/strace.out" >"$T_DIR/strace.synfin"
made=$(awk '{ s = $2; sub(/\(.*/, "", s); print s }' "$T_DIR/strace.synfin" |
	grep -E '^[a-z_0-9]+$' | sort -u)
check_true "strace saw synfin's bpf() and setns() calls (sanity)" \
	grep -qx bpf <<<"$made" && grep -qx setns <<<"$made"
not_allowed=$(comm -23 <(echo "$made") <(tr ' ' '\n' <<<"$allowed" | sort -u) | paste -sd ' ')
check_eq "system calls synfin serve made that SystemCallFilter= refuses" "" "$not_allowed"
families=$(grep -o 'socket(AF_[A-Z0-9]*' "$T_DIR/strace.synfin" | sed 's/socket(//' | sort -u | paste -sd ' ')
for f in $families; do
	check_true "socket family $f is in RestrictAddressFamilies=" \
		grep -Eq "^RestrictAddressFamilies=.*\<$f\>" "$UNIT"
done

# --- the DaemonSet
python3 - "$DS" "$bound" >"$T_DIR/ds.out" 2>&1 <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
want = sorted(c[len("CAP_"):] for c in sys.argv[2].split())
ds = [d for d in docs if d.get("kind") == "DaemonSet"]
assert len(ds) == 1, "one DaemonSet, got %d" % len(ds)
spec = ds[0]["spec"]["template"]["spec"]
for c in spec["containers"]:
    sc = c.get("securityContext") or {}
    assert not sc.get("privileged", False), c["name"] + ": privileged"
    assert sc.get("readOnlyRootFilesystem") is True, c["name"] + ": readOnlyRootFilesystem"
    assert sc.get("allowPrivilegeEscalation") is False, c["name"] + ": allowPrivilegeEscalation"
    caps = sc.get("capabilities") or {}
    assert caps.get("drop") == ["ALL"], c["name"] + ": drop %r" % caps.get("drop")
    assert sorted(caps.get("add") or []) == want, c["name"] + ": add %r, want %r" % (caps.get("add"), want)
print("ok")
PY
check_eq "daemonset.yaml: parses, unprivileged, the unit's capabilities, read-only root" ok \
	"$(tail -n 1 "$T_DIR/ds.out")" || cat "$T_DIR/ds.out"
t_done
