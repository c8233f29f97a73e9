#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Listen-queue load for test_listen_drops.sh.

  backlog.py listen PORT BACKLOG   listen(BACKLOG) on 127.0.0.1:PORT, never accept; prints
                                   "listening" and holds the socket until killed
  backlog.py connect PORT N HOLD_S N non-blocking connects at once, held HOLD_S seconds
                                   (the kernel retransmits the dropped SYNs meanwhile), then
                                   closed; prints how many completed their handshake
  backlog.py bursts PORT BACKLOG N ROUNDS
                                   ROUNDS times: listen(BACKLOG), N non-blocking connects
                                   at once, 20 ms, then every socket closed, the listener
                                   too, and 50 ms before the next round: listeners that
                                   live less than synfin's 200 ms between samples
"""
import select
import socket
import sys
import time


def listen(port, backlog):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(backlog)
    print("listening", flush=True)
    while True:
        time.sleep(3600)


def connect_all(port, n):
    """n non-blocking connects to port at once: their sockets."""
    socks = []
    for _ in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        socks.append(c)
    return socks


def connect(port, n, hold):
    socks = connect_all(port, n)
    time.sleep(hold)
    _, writable, _ = select.select([], socks, [], 0)
    done = sum(1 for c in writable if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
    for c in socks:
        c.close()
    print(done, flush=True)


def bursts(port, backlog, n, rounds):
    for _ in range(rounds):
        l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(("127.0.0.1", port))
        l.listen(backlog)
        socks = connect_all(port, n)
        time.sleep(0.02)
        for c in socks:
            c.close()
        l.close()
        time.sleep(0.05)


def main():
    if sys.argv[1] == "listen":
        listen(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "bursts":
        bursts(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        connect(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))


if __name__ == "__main__":
    main()
