/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A deadline on request headers for serve's HTTP server. libmicrohttpd's timeout counts
 * inactivity, so a client that sends one header byte every few seconds (slowloris) holds its
 * connection forever; a few addresses doing it fill the connection limit and every scrape
 * waits. The guard closes a connection whose headers are not complete within a deadline:
 * the first request's within first_s of the connect (a scraper sends it at once), a later
 * one's within idle_s of the previous answer (the idle timeout, which would close the
 * connection anyway if nothing came).
 */
#ifndef SYNFIN_HTTP_GUARD_H
#define SYNFIN_HTTP_GUARD_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct http_conn;

struct http_guard {
	pthread_mutex_t lock;    /* the list: MHD's thread adds and removes, sweep reads */
	struct http_conn *head;
	uint64_t first_ns, idle_ns;
	uint64_t closed;         /* connections the guard shut down */
};

void http_guard_init(struct http_guard *g, unsigned int first_s, unsigned int idle_s);
void http_guard_fini(struct http_guard *g);

/* For MHD_OPTION_NOTIFY_CONNECTION (cls = the guard). */
void http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode code);
/* For MHD_OPTION_NOTIFY_COMPLETED (cls = the guard): the answer went out. */
void http_guard_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			  enum MHD_RequestTerminationCode toe);
/* From the access handler's first call for a request: its headers are complete. */
void http_guard_headers_done(struct MHD_Connection *c);

/* Shuts down (SHUT_RDWR) each connection past its deadline; MHD then sees the end of the
 * stream and closes it. Called from any thread but MHD's, as often as convenient. */
void http_guard_sweep(struct http_guard *g);

#endif
