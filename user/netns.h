/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef SYNFIN_NETNS_H
#define SYNFIN_NETNS_H

#include <stddef.h>
#include <stdint.h>

/* The inode number of the network namespace at path (/var/run/netns/NAME, /proc/PID/ns/net):
 * what the kernel's net->ns.inum holds. 0 or -errno with err filled. */
int netns_inode(const char *path, uint32_t *ino, char *err, size_t errlen);


/* Calls fn once per distinct network namespace on the host (found through /proc/PID/ns/net
 * and /var/run/netns), with an fd usable by setns(). Returns the number visited or -errno. */
typedef int (*netns_fn)(int fd, uint32_t ino, void *ctx);
int netns_for_each(netns_fn fn, void *ctx);
#endif
