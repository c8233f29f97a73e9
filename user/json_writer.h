/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The one JSON writer: watch --json lines, the summary, the run report. It keeps the comma
 * state, escapes every string to RFC 8259 (control characters as \u00XX, invalid UTF-8 as
 * U+FFFD) and builds output in a buffer, so a record line costs one fwrite. Pure: the
 * caller's FILE is the only I/O. */
#ifndef SYNFIN_JSON_WRITER_H
#define SYNFIN_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The version of the JSON contract: record fields, the summary, the run report. Bump when a
 * field is removed or changes meaning (adding one does not). */
#define JSON_SCHEMA_VERSION 2

#define JW_MAX_DEPTH 32  /* synfin nests 6 deep */
#define JW_BUF_SIZE 4096 /* a record line is < 1 KiB; longer documents go out in pieces */

struct jw {
	FILE *f;
	size_t n;
	unsigned int depth;
	uint32_t more;  /* bit d: the container at depth d already has a member */
	uint32_t array; /* bit d: the container at depth d is an array */
	int err;        /* sticky: -EIO once a write failed, -EINVAL on a nesting error */
	char buf[JW_BUF_SIZE];
};

void jw_init(struct jw *j, FILE *f);

/* Every value takes the key it has in the enclosing object, or NULL inside an array and for
 * the top-level value. Keys are escaped like any string. */
void jw_object(struct jw *j, const char *key);
void jw_array(struct jw *j, const char *key);
void jw_close(struct jw *j); /* the innermost object or array */

void jw_u64(struct jw *j, const char *key, uint64_t v);
void jw_i64(struct jw *j, const char *key, int64_t v);
/* null unless finite: JSON has no NaN or Infinity */
void jw_double(struct jw *j, const char *key, double v);
void jw_bool(struct jw *j, const char *key, bool v);
void jw_null(struct jw *j, const char *key);
void jw_str(struct jw *j, const char *key, const char *s);
/* At most max bytes of s, fewer at a NUL (kernel comm fields need not end in one). */
void jw_strn(struct jw *j, const char *key, const char *s, size_t max);

/* Ends the document with a newline and writes out what is buffered: 0, or the sticky error. */
int jw_end_line(struct jw *j);

/* Writes the escaped body of s[0..len) (no quotes) into dst, at most cap bytes, never cutting
 * an escape or a character in half. Returns the bytes written; *used gets the input consumed. */
size_t jw_escape(char *dst, size_t cap, const char *s, size_t len, size_t *used);

#endif
