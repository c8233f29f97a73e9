#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Teardown scenarios for synfin's integration tests, run inside a test netns.

Each mode makes connections on loopback and closes them in one known way, then prints one
line per connection: "conn <client port> <server port>" so the test can match events.
Modes:
  client-first N     client close()s first, server 5 ms later
  server-first N     server close()s first, client 5 ms later
  linger0 N          client closes with SO_LINGER {1, 0}: an RST, no FIN
  close-wait SECONDS the server leaves the connection in CLOSE_WAIT that long
  reuse              client port 40001 twice, 1.2 s apart (needs tcp_tw_reuse=1): reused
  kill               a client TIME_WAIT on port 40002, then `ss -K` kills it; prints
                     "kill_window_us LO HI", the bounds of that TIME_WAIT's duration
  hold N             N client-first closes; then the TIME_WAITs are left to the caller
  kill-late          a client TIME_WAIT on port 40004, killed (SOCK_DESTROY) 30 ms after its
                     requested expiry (60 s after the server's FIN), before the timer wheel
                     fires it; prints "late_kill PORT LO_US HI_US", the port and the bounds
                     of its duration (the lower one less loopback delivery). When the
                     wheel fired first (the kill finds no socket),
                     once more on port 40005
  kill-after-connect a client TIME_WAIT on port 40003; then, in one thread and within
                     microseconds, a connect() from another port and a kill of that
                     TIME_WAIT (SOCK_DESTROY, what ss -K sends): a kill, not a reuse
"""
import socket
import struct
import subprocess
import sys
import time

PORT = 7000


def listener(family=socket.AF_INET):
    addr = '::1' if family == socket.AF_INET6 else '127.0.0.1'
    l = socket.socket(family)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((addr, PORT))
    l.listen(128)
    return l, addr


def pair(l, addr, bind_port=None):
    c = socket.socket(l.family)
    if bind_port:
        c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        c.bind((addr, bind_port))
    c.connect((addr, PORT))
    s, _ = l.accept()
    print('conn %d %d' % (c.getsockname()[1], PORT), flush=True)
    return c, s


def destroy_time_wait(sport):
    """SOCK_DESTROY of the IPv4 loopback TIME_WAIT with source port sport, from this thread
    (ss -K would run it in another process). Returns the kernel's errno (0: destroyed)."""
    NETLINK_SOCK_DIAG, SOCK_DESTROY, TCP_TIME_WAIT = 4, 21, 6
    NLM_F_REQUEST, NLM_F_ACK = 1, 4
    lo = socket.inet_aton('127.0.0.1') + bytes(12)
    sockid = struct.pack('>HH', sport, PORT) + lo + lo + struct.pack('=III', 0, 0xffffffff,
                                                                     0xffffffff)
    req = struct.pack('=BBBBI', socket.AF_INET, socket.IPPROTO_TCP, 0, 0,
                      1 << TCP_TIME_WAIT) + sockid
    msg = struct.pack('=IHHII', 16 + len(req), SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, 1,
                      0) + req
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as nl:
        nl.send(msg)
        ans = nl.recv(4096)
    return -struct.unpack('=i', ans[16:20])[0]  # NLMSG_ERROR: 0 or -errno


def main():
    mode, arg = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else '1'
    l, addr = listener()
    if mode in ('client-first', 'hold'):
        for _ in range(int(arg)):
            c, s = pair(l, addr)
            c.close(); time.sleep(0.005); s.close()
    elif mode == 'server-first':
        for _ in range(int(arg)):
            c, s = pair(l, addr)
            s.close(); time.sleep(0.005); c.close()
    elif mode == 'linger0':
        for _ in range(int(arg)):
            c, s = pair(l, addr)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            c.close(); time.sleep(0.005); s.close()
    elif mode == 'close-wait':
        c, s = pair(l, addr)
        c.close()
        time.sleep(float(arg))
        s.close()
    elif mode == 'reuse':
        for _ in range(2):
            c, s = pair(l, addr, 40001)
            c.close(); time.sleep(0.01); s.close()
            time.sleep(1.2)  # past net.ipv4.tcp_tw_reuse_delay (1000 ms)
    elif mode == 'kill':
        c, s = pair(l, addr, 40002)
        t0 = time.monotonic(); c.close(); t1 = time.monotonic()
        time.sleep(0.01); s.close()
        time.sleep(0.2)
        t2 = time.monotonic()
        subprocess.run(['ss', '-K', '-t', 'state', 'time-wait', 'sport', '=', ':40002'],
                       check=True, stdout=subprocess.DEVNULL)
        t3 = time.monotonic()
        # The orphaned client became a timewait socket inside c.close() (FIN_WAIT2
        # substate, then TIME_WAIT at the server's FIN) and ended inside ss: its duration
        # lies between these two bounds, however slow this machine is.
        print('kill_window_us %d %d' % ((t2 - t1) * 1e6, (t3 - t0) * 1e6), flush=True)
    elif mode == 'kill-late':
        for port in (40004, 40005):
            c, s = pair(l, addr, port)
            t0 = time.monotonic(); c.close()
            time.sleep(0.005)
            s.close()  # the client's TIME_WAIT is (re-)armed for 60 s by this FIN
            t_fin = time.monotonic()
            # TCP_TIMEWAIT_LEN (include/net/tcp.h), plus 30 ms: 7 jiffies at HZ=250. The
            # wheel fires a 60 s timer up to one level-3 granule (2.048 s) after that.
            time.sleep(max(0.0, 60.03 - (time.monotonic() - t_fin)))
            t2 = time.monotonic()
            err = destroy_time_wait(port)
            t3 = time.monotonic()
            if err == 0:
                # The TIME_WAIT began when the client's FIN was acked, at the latest with
                # the server's FIN: both can reach the client after close() returned (the
                # ack came 2.3 ms after c.close() once here). So its duration lies between
                # t2 - t_fin (less that delivery, which the caller allows for) and t3 - t0.
                print('late_kill %d %d %d' % (port, (t2 - t_fin) * 1e6, (t3 - t0) * 1e6),
                      flush=True)
                break
            print('late_kill_missed %d errno %d' % (port, err), flush=True)
    elif mode == 'kill-after-connect':
        c, s = pair(l, addr, 40003)
        c.close(); time.sleep(0.01); s.close()
        time.sleep(0.2)
        c2 = socket.socket()
        c2.connect((addr, PORT))  # another tuple: it reuses nothing
        err = destroy_time_wait(40003)
        s2, _ = l.accept()
        print('destroy_errno %d' % err, flush=True)
        c2.close(); time.sleep(0.01); s2.close()
    else:
        sys.exit('teardown.py: unknown mode ' + mode)
    time.sleep(0.1)


if __name__ == '__main__':
    main()
