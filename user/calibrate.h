/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The two timer handlers synfin follows are static kernel functions: only /proc/kallsyms
 * names their addresses, and it shows zeros to a process without CAP_SYSLOG. Calibration
 * asks the kernel instead: on loopback it makes one timewait socket and one pending
 * request, and an iter/tcp program reads each one's timer->function. It needs no
 * capability beyond loading BPF, and leaves no socket behind.
 */
#ifndef SYNFIN_CALIBRATE_H
#define SYNFIN_CALIBRATE_H

#include <stddef.h>

/* Makes the sockets in the current network namespace, calls run(ctx) until it returns 1
 * (found) or a short deadline passes, then tears them down with RSTs. 0 when run() found
 * them, -errno with why filled otherwise. */
int calibrate_on_loopback(int (*run)(void *ctx), void *ctx, char *why, size_t whylen);

#endif
