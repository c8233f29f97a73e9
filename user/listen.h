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
/* Opens the counters of every namespace a process is in now. Call while synfin holds its
 * capabilities: afterwards, a namespace's counters can be found only through a process
 * synfin may inspect (same user, no capability it lacks). */
void listen_watch_open_all(struct listen_watch *w);
/* One walk: the gauges now, the drops since the last one. The first only takes the
 * namespaces' counters as the base. */
void listen_watch_sweep(struct listen_watch *w, const struct loader *l);
/* NULL where this kernel lets synfin walk no listener. */
const struct listen_stats *listen_watch_stats(const struct listen_watch *w);

#endif
