// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include "http_guard.h"

struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	uint64_t since_ns;   /* connected, or the previous answer went out */
	bool in_request;     /* headers complete, answer not yet out */
	bool first;          /* no request finished yet on this connection */
	bool shut;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void http_guard_init(struct http_guard *g, unsigned int first_s, unsigned int idle_s)
{
	pthread_mutex_init(&g->lock, NULL);
	g->head = NULL;
	g->first_ns = (uint64_t)first_s * 1000000000ULL;
	g->idle_ns = (uint64_t)idle_s * 1000000000ULL;
	g->closed = 0;
}

void http_guard_fini(struct http_guard *g)
{
	struct http_conn *e, *next;

	/* MHD_stop_daemon() has reported every close; anything left is freed here */
	for (e = g->head; e; e = next) {
		next = e->next;
		free(e);
	}
	g->head = NULL;
	pthread_mutex_destroy(&g->lock);
}

static struct http_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

void http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode code)
{
	struct http_guard *g = cls;
	const union MHD_ConnectionInfo *ci;
	struct http_conn *e;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		e = calloc(1, sizeof(*e));
		if (!e || !ci) { /* unguarded: MHD's own limits still hold */
			free(e);
			*socket_context = NULL;
			return;
		}
		e->fd = ci->connect_fd;
		e->since_ns = now_ns();
		e->first = true;
		pthread_mutex_lock(&g->lock);
		e->next = g->head;
		if (g->head)
			g->head->prev = e;
		g->head = e;
		pthread_mutex_unlock(&g->lock);
		*socket_context = e;
		return;
	}
	/* MHD reports the close before it closes the socket: once the entry is unlinked
	 * under the lock, no sweep can shut down an fd number that has been reused. */
	e = *socket_context;
	if (!e)
		return;
	pthread_mutex_lock(&g->lock);
	if (e->prev)
		e->prev->next = e->next;
	else
		g->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	pthread_mutex_unlock(&g->lock);
	free(e);
	*socket_context = NULL;
}

void http_guard_headers_done(struct MHD_Connection *c)
{
	struct http_conn *e = conn_of(c);

	if (e)
		__atomic_store_n(&e->in_request, true, __ATOMIC_RELEASE);
}

void http_guard_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			  enum MHD_RequestTerminationCode toe)
{
	struct http_guard *g = cls;
	struct http_conn *e = conn_of(c);

	(void)req_cls;
	(void)toe;
	if (!e)
		return;
	pthread_mutex_lock(&g->lock);
	e->since_ns = now_ns();
	e->first = false;
	e->in_request = false;
	pthread_mutex_unlock(&g->lock);
}

void http_guard_sweep(struct http_guard *g)
{
	uint64_t now = now_ns();
	struct http_conn *e;

	pthread_mutex_lock(&g->lock);
	for (e = g->head; e; e = e->next) {
		if (e->shut || __atomic_load_n(&e->in_request, __ATOMIC_ACQUIRE))
			continue;
		if (now - e->since_ns < (e->first ? g->first_ns : g->idle_ns))
			continue;
		shutdown(e->fd, SHUT_RDWR);
		e->shut = true;
		g->closed++;
	}
	pthread_mutex_unlock(&g->lock);
}
