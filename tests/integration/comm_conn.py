#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""comm_conn.py HEXCOMM PORT N: renames this process to the bytes HEXCOMM (hex, at most 15
bytes: the kernel's comm) through /proc/self/comm, listens on 127.0.0.1:PORT, and makes N
connections to itself, each accepted and closed by both ends. Run inside a test namespace:
every record of these connections carries the hostile comm, client and server side."""
import socket
import sys

comm = bytes.fromhex(sys.argv[1])
port, n = int(sys.argv[2]), int(sys.argv[3])
with open("/proc/self/comm", "wb") as f:
    f.write(comm)
with open("/proc/self/comm", "rb") as f:
    got = f.read().rstrip(b"\n")
if got != comm[:15]:
    sys.exit("comm_conn: comm is %r, not %r" % (got, comm))
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(n)
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = srv.accept()
    c.close()
    a.close()
srv.close()
print("done", flush=True)
