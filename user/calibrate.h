/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The two timer handlers synfin follows are static kernel functions: only /proc/kallsyms
 * names their addresses, and it shows zeros to a process without CAP_SYSLOG. Calibration
 * asks the kernel instead: in a private network namespace it makes one TIME_WAIT socket and
 * one pending request, and an iter/tcp program reads each one's timer->function.
 */
#ifndef SYNFIN_CALIBRATE_H
#define SYNFIN_CALIBRATE_H

#include <stddef.h>

/* Makes the sockets in a fresh network namespace, calls run(ctx) there until it returns 1
 * (found) or a short deadline passes, then tears everything down and returns to the
 * caller's namespace. 0 when run() found them, -errno with why filled otherwise;
 * -ENOTRECOVERABLE when the thread could not return to its namespace (stop: anything it
 * would observe or bind now is in the wrong place). */
int calibrate_in_private_netns(int (*run)(void *ctx), void *ctx, char *why, size_t whylen);

#endif
