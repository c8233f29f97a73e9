// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "format.h"
#include "json_writer.h"

#define U64_DIGITS 20
#define ESCAPE_MAX 6 /* the longest form one input byte takes: \u00XX */

void jw_init(struct jw *j, FILE *f)
{
	j->f = f;
	j->n = 0;
	j->depth = 0;
	j->more = 0;
	j->array = 0;
	j->err = 0;
}

static void flush(struct jw *j)
{
	if (j->n && fwrite(j->buf, 1, j->n, j->f) != j->n && !j->err)
		j->err = -EIO;
	j->n = 0;
}

/* Room for len more bytes (len <= JW_BUF_SIZE), writing out what is buffered if needed. */
static char *room(struct jw *j, size_t len)
{
	if (sizeof(j->buf) - j->n < len)
		flush(j);
	return j->buf + j->n;
}

static void put(struct jw *j, const char *s, size_t len)
{
	while (len) {
		size_t part = len < sizeof(j->buf) ? len : sizeof(j->buf);

		memcpy(room(j, part), s, part);
		j->n += part;
		s += part;
		len -= part;
	}
}

static void put_char(struct jw *j, char c)
{
	*room(j, 1) = c;
	j->n++;
}

/* What each byte needs: copied as is, a two-character escape, \u00XX, or a UTF-8 check. */
enum { COPY = 0, SHORT, HEX, UTF8 };

static const unsigned char byte_class[256] = {
	[0 ... '\t' - 1] = HEX, ['\t'] = SHORT, ['\n'] = SHORT, ['\n' + 1 ... '\r' - 1] = HEX,
	['\r'] = SHORT, ['\r' + 1 ... 0x1f] = HEX, ['"'] = SHORT, ['\\'] = SHORT, [0x7f] = HEX,
	[0x80 ... 0xff] = UTF8,
};

size_t jw_escape(char *dst, size_t cap, const char *s, size_t len, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n = 0, seq, run;
	unsigned char c;

	while (i < len) {
		c = p[i];
		switch (byte_class[c]) {
		case COPY:
			/* the common case, names and numbers: a run of plain bytes, one copy */
			for (run = i + 1; run < len && byte_class[p[run]] == COPY; run++)
				;
			run -= i;
			if (run > cap - n)
				run = cap - n;
			if (!run)
				goto out;
			memcpy(dst + n, p + i, run);
			n += run;
			i += run;
			continue;
		case SHORT:
			if (n + 2 > cap)
				goto out;
			dst[n++] = '\\';
			dst[n++] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : (char)c;
			i++;
			continue;
		case HEX:
			if (n + ESCAPE_MAX > cap)
				goto out;
			memcpy(dst + n, "\\u00", 4);
			dst[n + 4] = hex[c >> 4];
			dst[n + 5] = hex[c & 15];
			n += ESCAPE_MAX;
			i++;
			continue;
		}
		seq = utf8_seq_len(p + i, len - i);
		if (n + (seq ? seq : sizeof(replacement) - 1) > cap)
			goto out;
		if (seq) {
			memcpy(dst + n, p + i, seq);
			n += seq;
			i += seq;
		} else {
			memcpy(dst + n, replacement, sizeof(replacement) - 1);
			n += sizeof(replacement) - 1;
			i++;
		}
	}
out:
	*used = i;
	return n;
}

/* Bytes at the start of s[0..len) that need no escape. */
static size_t plain_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len && byte_class[p[i]] == COPY)
		i++;
	return i;
}

static void put_string(struct jw *j, const char *s, size_t len)
{
	size_t used, plain = plain_prefix(s, len);
	char *d;

	/* names, addresses, numbers: nothing to escape, one copy */
	if (plain == len && len + 2 <= sizeof(j->buf)) {
		d = room(j, len + 2);
		d[0] = '"';
		memcpy(d + 1, s, len);
		d[len + 1] = '"';
		j->n += len + 2;
		return;
	}
	put_char(j, '"');
	while (len) {
		/* an empty buffer always takes at least one escaped character */
		if (sizeof(j->buf) - j->n < ESCAPE_MAX)
			flush(j);
		j->n += jw_escape(j->buf + j->n, sizeof(j->buf) - j->n, s, len, &used);
		s += used;
		len -= used;
	}
	put_char(j, '"');
}

/* The comma and the key before a value. */
static void member(struct jw *j, const char *key)
{
	uint32_t bit = 1u << j->depth;
	size_t len = 0;
	bool comma = j->more & bit;
	char *d;

	j->more |= bit;
	if (!key || (j->array & bit)) {
		if (comma)
			put_char(j, ',');
		return;
	}
	/* synfin's keys are plain names: `,"name":` in one copy (a NUL ends the plain run) */
	while (byte_class[(unsigned char)key[len]] == COPY)
		len++;
	if (key[len] || len + 4 > sizeof(j->buf)) {
		if (comma)
			put_char(j, ',');
		put_string(j, key, strlen(key));
		put_char(j, ':');
		return;
	}
	d = room(j, len + 4);
	if (comma)
		*d++ = ',';
	*d++ = '"';
	memcpy(d, key, len);
	d[len] = '"';
	d[len + 1] = ':';
	j->n = (size_t)(d + len + 2 - j->buf);
}

static void open_container(struct jw *j, const char *key, char c, bool array)
{
	member(j, key);
	put_char(j, c);
	if (j->depth + 1 >= JW_MAX_DEPTH) {
		j->err = j->err ? j->err : -EINVAL;
		return;
	}
	j->depth++;
	j->more &= ~(1u << j->depth);
	if (array)
		j->array |= 1u << j->depth;
	else
		j->array &= ~(1u << j->depth);
}

void jw_object(struct jw *j, const char *key)
{
	open_container(j, key, '{', false);
}

void jw_array(struct jw *j, const char *key)
{
	open_container(j, key, '[', true);
}

void jw_close(struct jw *j)
{
	if (!j->depth) {
		j->err = j->err ? j->err : -EINVAL;
		return;
	}
	put_char(j, j->array & (1u << j->depth) ? ']' : '}');
	j->depth--;
}

static void put_u64(struct jw *j, uint64_t v)
{
	char tmp[U64_DIGITS];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(room(j, sizeof(tmp) - i), tmp + i, sizeof(tmp) - i);
	j->n += sizeof(tmp) - i;
}

void jw_u64(struct jw *j, const char *key, uint64_t v)
{
	member(j, key);
	put_u64(j, v);
}

void jw_i64(struct jw *j, const char *key, int64_t v)
{
	member(j, key);
	if (v < 0) {
		put_char(j, '-');
		put_u64(j, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(j, (uint64_t)v);
	}
}

void jw_double(struct jw *j, const char *key, double v)
{
	char tmp[32];
	int len;

	if (!isfinite(v)) {
		jw_null(j, key);
		return;
	}
	member(j, key);
	if (v == 0) { /* not "-0" */
		put_char(j, '0');
		return;
	}
	/* 15 significant digits: exact for every integer below 2^53 and round-trips counts */
	len = snprintf(tmp, sizeof(tmp), "%.15g", v);
	put(j, tmp, (size_t)len);
}

void jw_bool(struct jw *j, const char *key, bool v)
{
	member(j, key);
	if (v)
		put(j, "true", 4);
	else
		put(j, "false", 5);
}

void jw_null(struct jw *j, const char *key)
{
	member(j, key);
	put(j, "null", 4);
}

void jw_str(struct jw *j, const char *key, const char *s)
{
	member(j, key);
	put_string(j, s, strlen(s));
}

void jw_strn(struct jw *j, const char *key, const char *s, size_t max)
{
	member(j, key);
	put_string(j, s, strnlen(s, max));
}

int jw_end_line(struct jw *j)
{
	if (j->depth && !j->err)
		j->err = -EINVAL;
	put_char(j, '\n');
	flush(j);
	j->more = 0;
	return j->err;
}
