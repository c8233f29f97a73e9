#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `synfin serve`'s HTTP side under misbehaving clients. Whatever they do, a scrape from
# another address is answered, and each of them gets an answer or a close, never a hang.
# - 1,000 idle connections from 127.0.0.1: over the per-address limit the extra ones are
#   closed at once (serve holds at most 256); scrapes from 127.0.0.2 are answered in < 2 s while they are held;
# - slowloris from 127.0.0.3: 50 connections sending one header byte every 0.5 s; scrapes
#   from 127.0.0.2 are still answered in < 2 s; each slowloris connection is answered
#   (431) or closed by the time it sent 40 KiB of header or 12 s passed;
# - a request that stops mid-header and then sends nothing is closed by the idle timeout;
# - 512 slowloris connections from two more addresses (every slot of the total limit): a
#   scrape from 127.0.0.2 is answered within 8 s (serve closes connections that have not sent
#   their headers 5 s after connecting; Prometheus' default scrape timeout is 10 s);
# - garbage bytes, NULs in the request line, a 100 KiB URL, a POST announcing a 1 GB body,
#   and HTTP/0.9 are each answered (4xx) or closed within 12 s;
# - after all of it, /metrics from 127.0.0.1 is 200 again and serve exits 0 on SIGTERM.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
t_setup
require_cmd curl python3 ss

NS=$(netns_name http)
netns_create "$NS"
PORT=$(free_port)
serve_start http --listen "127.0.0.1:$PORT" --netns "/var/run/netns/$NS"

python3 - "$PORT" >"$T_DIR/abuse.out" 2>&1 <<'PYEOF' &
import resource, socket, sys, threading, time
port = int(sys.argv[1])
# this client holds 1,500 sockets at once: more than the 1,024 open files a process gets
# by default (the kernel matrix's guests keep it; this machine's shells raise it)
_, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

def scrape(src="127.0.0.2"):
    """seconds to a complete 200 answer to GET /metrics from src, or None"""
    t0 = time.monotonic()
    s = socket.socket()
    s.settimeout(5)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except OSError:
        return None
    finally:
        s.close()
    ok = data.startswith(b"HTTP/1.") and b" 200 " in data[:16] and b"synfin_build_info" in data
    return time.monotonic() - t0 if ok else None

def fmt(t):
    return "none" if t is None else "%.3f" % t

def outcome(s, deadline):
    """'answer CODE', 'closed' or 'hang' for a socket whose peer owes us a reaction"""
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        d = s.recv(4096)
    except socket.timeout:
        return "hang"
    except OSError:
        return "closed"
    if not d:
        return "closed"
    return "answer " + d.split(b" ", 2)[1].decode("ascii", "replace") if d.startswith(b"HTTP/") else "answer ?"

# --- 1,000 idle connections from one address
idle = []
for _ in range(1000):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    idle.append(s)
time.sleep(1.5)
# what serve holds, seen from its side: the client's view also counts connections the
# kernel completed but never queued (the backlog was full), which serve never saw
import subprocess
open_n = len(subprocess.run(["ss", "-Htn", "state", "established", "( sport = :%d and dst 127.0.0.1 )" % port],
                            capture_output=True, text=True).stdout.splitlines())
print("idle_open", open_n, flush=True)
print("scrape_during_idle", " ".join(fmt(scrape()) for _ in range(5)), flush=True)

# --- slowloris from another address, while the idle ones are still held
slow = []
for _ in range(50):
    s = socket.socket()
    s.bind(("127.0.0.3", 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    slow.append(s)
state = {id(s): None for s in slow}
stop = threading.Event()
def drip():
    sent = 0
    t0 = time.monotonic()
    while not stop.is_set() and time.monotonic() - t0 < 12 and sent < 40 * 1024:
        for s in slow:
            if state[id(s)] is not None:
                continue
            try:
                s.send(b"a" * 80)
            except OSError:
                state[id(s)] = "closed"
        sent += 80
        time.sleep(0.5)
th = threading.Thread(target=drip)
th.start()
time.sleep(2)
print("scrape_during_slowloris", " ".join(fmt(scrape()) for _ in range(5)), flush=True)
stop.set()
th.join()
for s in idle:
    s.close()
res = {}
for s in slow:
    r = state[id(s)] or outcome(s, time.monotonic() + 12)
    res[r] = res.get(r, 0) + 1
    s.close()
print("slowloris", " ".join("%s=%d" % (k.replace(" ", ":"), v) for k, v in sorted(res.items())), flush=True)

# --- requests that are wrong, each from 127.0.0.4, all at once
bad = {
    "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n",
    "nul": b"GET /met\x00rics HTTP/1.1\r\nHost: x\r\n\r\n",
    "long_url": b"GET /" + b"a" * 100 * 1024 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "huge_body": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n" + b"x" * 4096,
    "http09": b"GET /metrics\r\n\r\n",
    "half_header": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Cut",
}
socks = {}
for name, req in bad.items():
    s = socket.socket()
    s.bind(("127.0.0.4", 0))
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(req)
    except OSError:
        pass
    socks[name] = s
t0 = time.monotonic()
for name, s in socks.items():
    r = outcome(s, t0 + 12)
    print("bad", name, r.replace(" ", ":"), "%.1f" % (time.monotonic() - t0), flush=True)
    s.close()

# --- every slot taken: 256 slowloris connections from each of two more addresses fill the
# total limit (512); the scrape waits in the listen backlog until serve frees slots, which it
# must do on its own, for connections that have not finished their headers in 5 s
hold = []
for src in ("127.0.0.5", "127.0.0.6"):
    for _ in range(256):
        s = socket.socket()
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        hold.append(s)
stop.clear()
def drip_all():
    while not stop.is_set():
        for s in hold:
            try:
                s.send(b"a")
            except OSError:
                pass
        time.sleep(1)
th = threading.Thread(target=drip_all)
th.start()
time.sleep(1)
t0 = time.monotonic()
s = socket.socket()
s.settimeout(9)
got = None
try:
    s.bind(("127.0.0.2", 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
    d = s.recv(16)
    if d.startswith(b"HTTP/1.") and b" 200 " in d:
        got = time.monotonic() - t0
except OSError:
    pass
s.close()
print("scrape_all_slots_taken", fmt(got), flush=True)
stop.set()
th.join()
for s in hold:
    s.close()
time.sleep(0.5)
print("scrape_after", fmt(scrape("127.0.0.1")), flush=True)
PYEOF
ABUSE=$!
track_pid "$ABUSE"
wait_pid "$ABUSE" 50
check_eq "abuse client finished" 0 "$?"
log "$(tr '\n' ';' <"$T_DIR/abuse.out")"
get() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$T_DIR/abuse.out"; }

check_range "1,000 idle connections from 127.0.0.1: held by serve (at most the per-address limit, 256)" 200 256 "$(get idle_open)"
for t in $(get scrape_during_idle); do
	check_range "scrape from 127.0.0.2 with 1,000 idle connections from 127.0.0.1 (s)" 0 2 "$t"
done
for t in $(get scrape_during_slowloris); do
	check_range "scrape from 127.0.0.2 during slowloris from 127.0.0.3 (s)" 0 2 "$t"
done
check_eq "slowloris connections left hanging" "" "$(get slowloris | tr ' ' '\n' | grep '^hang=')"
for name in garbage nul long_url huge_body http09 half_header; do
	r=$(awk -v n="$name" '$1 == "bad" && $2 == n { print $3 }' "$T_DIR/abuse.out")
	check_true "$name: answered 4xx or closed, not left hanging (got ${r:-nothing})" \
		grep -Eq '^(answer:4[0-9][0-9]|closed)$' <<<"$r"
done
check_range "scrape from 127.0.0.2 with all 512 slots held by slowloris: answered (s)" 0 8 \
	"$(get scrape_all_slots_taken)"
check_true "scrape from 127.0.0.1 afterwards: 200 ($(get scrape_after) s)" \
	test "$(get scrape_after)" != none -a -n "$(get scrape_after)"
serve_stop "$SERVE_PID" http
t_done
