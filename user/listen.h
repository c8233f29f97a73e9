/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The listeners' side of a session: at each sweep, the batched walk over the listeners
 * (bpf/listen.bpf.h) and the counters of their namespaces, fed to user/listen_model.c. */
#ifndef SYNFIN_LISTEN_H
#define SYNFIN_LISTEN_H

#include "listen_model.h"

struct loader;
struct listen_watch;

/* NULL on ENOMEM. */
struct listen_watch *listen_watch_new(void);
void listen_watch_free(struct listen_watch *w);
/* One walk: the gauges now, the drops since the last one. A namespace's drops count from
 * the earliest listen() of its listeners when all of them listen()ed after synfin started
 * and the kernel let that listen() read the counters (bpf/compat.bpf.h, cfg_ns_counters);
 * otherwise from the first walk that finds a listener in it: drops before that one (at
 * most a sweep's 200 ms after synfin starts or the listen()) are not counted. Call once
 * while synfin holds its capabilities (see open_missing in listen.c). */
void listen_watch_sweep(struct listen_watch *w, const struct loader *l);
/* NULL where this kernel lets synfin walk no listener. */
const struct listen_stats *listen_watch_stats(const struct listen_watch *w);

#endif
