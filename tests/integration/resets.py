#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Reset scenarios for test_resets.sh, run inside a test netns on 127.0.0.1.

Each makes one reset (RST) in one known way and prints "case NAME <client port>" (0 when
there is no connection). The kernel's counters tell the test which reasons it counted:
  no-socket      connect to a port nobody listens on: the kernel answers the SYN with a
                 RST from no socket; the client takes it in SYN_SENT (refused)
  linger0        client closes with SO_LINGER {1, 0}: its RST (TcpExtTCPAbortOnData); the
                 server takes it in ESTABLISHED
  unread         the server closes with the client's 100 bytes unread: its RST
                 (TcpExtTCPAbortOnClose); the client takes it in ESTABLISHED
  after-shutdown the server shuts both ways (FIN_WAIT2, still a full socket), the client
                 sends data: the server answers with a RST (TcpExtTCPAbortOnData); the
                 client takes it in CLOSE_WAIT
  after-close    the server closes (its socket becomes a FIN_WAIT2 timewait socket), the
                 client sends data: the timewait socket answers with a RST; the client
                 takes it in CLOSE_WAIT
"""
import socket
import struct
import sys
import time

HOST = "127.0.0.1"


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, 0))
    s.listen(8)
    return s


def pair(lst):
    c = socket.create_connection(lst.getsockname())
    a, _ = lst.accept()
    return c, a


def wait_reset(sock, what):
    """Waits until the kernel closed the socket (TCP_INFO's state CLOSE): the peer's RST.
    recv() cannot tell once a FIN came first (it keeps returning end of file)."""
    deadline = time.time() + 5
    while time.time() < deadline:
        if sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == 7:  # TCP_CLOSE
            return
        time.sleep(0.005)
    sys.exit(f"resets.py: {what}: no reset reached the socket")


def wait_fin(sock):
    sock.settimeout(5)
    if sock.recv(4096) != b"":
        sys.exit("resets.py: expected the peer's FIN")


def no_socket():
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()  # bound, never listening: nobody owns the port now
    c = socket.socket()
    try:
        c.connect((HOST, port))
        sys.exit("resets.py: no-socket: the connect succeeded")
    except ConnectionRefusedError:
        pass
    print("case no-socket 0", flush=True)
    c.close()


def linger0(lst):
    c, a = pair(lst)
    port = c.getsockname()[1]
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    wait_reset(a, "linger0")
    a.close()
    print(f"case linger0 {port}", flush=True)


def unread(lst):
    c, a = pair(lst)
    port = c.getsockname()[1]
    c.sendall(b"x" * 100)
    time.sleep(0.05)  # the bytes are in the server's receive queue
    a.close()
    wait_reset(c, "unread")
    c.close()
    print(f"case unread {port}", flush=True)


def after_shutdown(lst):
    c, a = pair(lst)
    port = c.getsockname()[1]
    a.shutdown(socket.SHUT_RDWR)
    wait_fin(c)
    time.sleep(0.05)  # the server is in FIN_WAIT2
    c.send(b"late")
    wait_reset(c, "after-shutdown")
    c.close()
    a.close()
    print(f"case after-shutdown {port}", flush=True)


def after_close(lst):
    c, a = pair(lst)
    port = c.getsockname()[1]
    a.close()
    wait_fin(c)
    time.sleep(0.05)  # the server's socket is a FIN_WAIT2 timewait socket now
    c.send(b"late")
    wait_reset(c, "after-close")
    c.close()
    print(f"case after-close {port}", flush=True)


def main():
    cases = sys.argv[1:] or ["no-socket", "linger0", "unread", "after-shutdown", "after-close"]
    lst = listener()
    for name in cases:
        if name == "no-socket":
            no_socket()
        elif name == "linger0":
            linger0(lst)
        elif name == "unread":
            unread(lst)
        elif name == "after-shutdown":
            after_shutdown(lst)
        elif name == "after-close":
            after_close(lst)
        else:
            sys.exit(f"resets.py: unknown case '{name}'")
    lst.close()


if __name__ == "__main__":
    main()
