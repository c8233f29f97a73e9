/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Names and text forms of record fields, shared by every renderer. Tables indexed by kernel
 * or record values are total: out-of-range values print as UNKNOWN(n). */
#ifndef SYNFIN_FORMAT_H
#define SYNFIN_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "synfin/events.h"

#define ADDR_STR_LEN 48 /* INET6_ADDRSTRLEN plus room */

const char *event_type_name(unsigned int type);
const char *side_name(unsigned int side);
const char *fail_reason_name(unsigned int reason);
const char *initiator_name(unsigned int initiator);
const char *how_name(unsigned int how);
const char *tw_end_name(unsigned int end);
const char *tcp_state_name(unsigned int state, char *buf, size_t len);
/* Kernel TCP states the live gauges report (what `ss -tan state X` counts), and their
 * snake_case label ("time_wait", "close_wait", ...). */
#define GAUGE_STATES 9
extern const unsigned int gauge_states[GAUGE_STATES];
const char *gauge_state_label(unsigned int state);
const char *close_state_field(unsigned int idx); /* "fin_wait1_us", ... */

/* addr: 16 bytes in network order, IPv4 in the first 4 when family is 4. */
void format_addr(char *buf, size_t len, unsigned int family, const __u8 *addr);
/* "addr:port", with brackets for IPv6 */
void format_endpoint(char *buf, size_t len, unsigned int family, const __u8 *addr, unsigned int port);
/* RFC 3339 UTC time of a Unix time in ms: "2024-05-01T12:00:00.123Z". */
void format_utc_ms(char *buf, size_t len, int64_t unix_ms);
/* Human duration: "850us", "12.3ms", "1.02s" */
void format_duration_us(char *buf, size_t len, uint64_t us);
/* A kernel comm (maybe not NUL-terminated, any bytes: a process names itself) as a C string
 * safe to print to a terminal: term_escape()d, into a buffer of COMM_STR_LEN. */
#define COMM_STR_LEN (SYNFIN_COMM_LEN * 4 + 1)
void comm_to_str(char *out, const char *comm);

/* s[0..len) (up to a NUL) for a terminal, NUL-terminated in dst[0..cap): printable ASCII and
 * well-formed UTF-8 as is, '\' as \\, and every control byte (C0, DEL, C1, bidi controls) and
 * byte that is not UTF-8 as \xHH; cut before an escape that does not fit. Returns strlen(dst). */
size_t term_escape(char *dst, size_t cap, const char *s, size_t len);
/* term_escape() of the C string s into buf, returned: for a user's or the kernel's string in
 * a message (an argument, a path), which goes to a terminal as often as not. */
const char *term_str(char *buf, size_t cap, const char *s);

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), 0 when the bytes there are not
 * one (p[0] must be >= 0x80 for a useful answer). */
size_t utf8_seq_len(const unsigned char *p, size_t avail);

#endif
