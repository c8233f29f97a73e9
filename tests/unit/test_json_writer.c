// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The JSON writer: commas and nesting, RFC 8259 escaping (control characters, quotes,
 * invalid UTF-8), numbers, and documents longer than its buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "json_writer.h"

struct out {
	char *buf;
	size_t len;
	FILE *f;
	struct jw j;
};

static void out_open(struct out *o)
{
	o->buf = NULL;
	o->f = open_memstream(&o->buf, &o->len);
	assert_non_null(o->f);
	jw_init(&o->j, o->f);
}

/* Closes the stream; the caller frees o->buf. */
static int out_close(struct out *o)
{
	int ret = jw_end_line(&o->j);

	fclose(o->f);
	return ret;
}

/* The JSON text of one string value. */
static char *string_json(const char *s, size_t len)
{
	struct out o;

	out_open(&o);
	jw_strn(&o.j, NULL, s, len);
	assert_int_equal(out_close(&o), 0);
	o.buf[strlen(o.buf) - 1] = '\0'; /* the newline */
	return o.buf;
}

static void check_string(const char *in, size_t len, const char *want)
{
	char *got = string_json(in, len);

	if (strcmp(got, want))
		fail_msg("escaping %zu bytes: got %s, want %s", len, got, want);
	free(got);
}

static void test_commas_and_nesting(void **state)
{
	struct out o;

	(void)state;
	out_open(&o);
	jw_object(&o.j, NULL);
	jw_u64(&o.j, "a", 1);
	jw_object(&o.j, "empty");
	jw_close(&o.j);
	jw_array(&o.j, "list");
	jw_u64(&o.j, "ignored key", 2);
	jw_object(&o.j, NULL);
	jw_bool(&o.j, "t", true);
	jw_bool(&o.j, "f", false);
	jw_close(&o.j);
	jw_array(&o.j, NULL);
	jw_close(&o.j);
	jw_null(&o.j, NULL);
	jw_close(&o.j);
	jw_i64(&o.j, "neg", -9223372036854775807LL - 1);
	jw_u64(&o.j, "max", UINT64_MAX);
	jw_close(&o.j);
	assert_int_equal(out_close(&o), 0);
	assert_string_equal(o.buf, "{\"a\":1,\"empty\":{},\"list\":[2,{\"t\":true,\"f\":false},[],null],"
				   "\"neg\":-9223372036854775808,\"max\":18446744073709551615}\n");
	free(o.buf);
}

static void test_numbers(void **state)
{
	struct out o;

	(void)state;
	out_open(&o);
	jw_array(&o.j, NULL);
	jw_double(&o.j, NULL, NAN);
	jw_double(&o.j, NULL, INFINITY);
	jw_double(&o.j, NULL, -0.0);
	jw_double(&o.j, NULL, 0.5);
	jw_double(&o.j, NULL, 9007199254740991.0); /* 2^53 - 1: printed exactly */
	jw_double(&o.j, NULL, 1e300);
	jw_i64(&o.j, NULL, 0);
	jw_close(&o.j);
	assert_int_equal(out_close(&o), 0);
	assert_string_equal(o.buf, "[null,null,0,0.5,9.00719925474099e+15,1e+300,0]\n");
	free(o.buf);
}

static void test_escapes(void **state)
{
	(void)state;
	check_string("plain", 5, "\"plain\"");
	check_string("q\"b\\s/", 6, "\"q\\\"b\\\\s/\"");
	check_string("\n\r\t", 3, "\"\\n\\r\\t\"");
	check_string("\x01\x1f\x7f\b\f", 5, "\"\\u0001\\u001f\\u007f\\u0008\\u000c\"");
	check_string("", 0, "\"\"");
	/* stops at a NUL within max, as kernel comm fields do */
	check_string("ab\0cd", 5, "\"ab\"");
	/* keys are escaped too */
	{
		struct out o;

		out_open(&o);
		jw_object(&o.j, NULL);
		jw_u64(&o.j, "k\"\n", 1);
		jw_close(&o.j);
		assert_int_equal(out_close(&o), 0);
		assert_string_equal(o.buf, "{\"k\\\"\\n\":1}\n");
		free(o.buf);
	}
}

static void test_utf8(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		/* well-formed: 2, 3 and 4 bytes, the edges of each range */
		{ "\xc3\xa9", "\"\xc3\xa9\"" },
		{ "\xe2\x82\xac\xef\xbf\xbf", "\"\xe2\x82\xac\xef\xbf\xbf\"" },
		{ "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", "\"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"" },
		/* ill-formed: each bad byte becomes one U+FFFD, the rest is kept */
		{ "a\xff" "b", "\"a\xef\xbf\xbd" "b\"" },               /* never valid */
		{ "\x80", "\"\xef\xbf\xbd\"" },                         /* lone continuation */
		{ "\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },         /* overlong '/' */
		{ "\xe0\x80\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" }, /* overlong */
		{ "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" }, /* surrogate */
		{ "\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" }, /* > U+10FFFF */
		{ "\xe2\x82", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },         /* truncated at the end */
		{ "\xe2\x82x", "\"\xef\xbf\xbd\xef\xbf\xbdx\"" },       /* truncated before ASCII */
		/* a comm a process chose (test_comm_escape.sh): bytes 0xff 0xfe, and an ESC */
		{ "bad\xff\xfename", "\"bad\xef\xbf\xbd\xef\xbf\xbdname\"" },
		{ "\x1b[2J\x1b[31mEVIL", "\"\\u001b[2J\\u001b[31mEVIL\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_string(cases[i].in, strlen(cases[i].in), cases[i].want);
}

/* Strings and documents longer than the buffer go out whole, escapes never cut in half. */
static void test_longer_than_the_buffer(void **state)
{
	size_t n = 3 * JW_BUF_SIZE + 5, i;
	char *s = malloc(n), *got, *want = malloc(6 * n + 3), *w;
	struct out o;

	(void)state;
	assert_non_null(s);
	assert_non_null(want);
	for (i = 0; i < n; i++)
		s[i] = i % 3 ? 'x' : '\x01';
	w = want;
	*w++ = '"';
	for (i = 0; i < n; i++)
		w = stpcpy(w, i % 3 ? "x" : "\\u0001");
	strcpy(w, "\"");
	got = string_json(s, n);
	assert_string_equal(got, want);
	free(got);

	out_open(&o);
	jw_array(&o.j, NULL);
	for (i = 0; i < 2000; i++)
		jw_u64(&o.j, NULL, i);
	jw_close(&o.j);
	assert_int_equal(out_close(&o), 0);
	assert_true(o.len > JW_BUF_SIZE);
	assert_memory_equal(o.buf, "[0,1,2,", 7);
	assert_memory_equal(o.buf + o.len - 12, ",1998,1999]\n", 12);
	free(o.buf);
	free(s);
	free(want);
}

static void test_nesting_errors(void **state)
{
	struct out o;
	unsigned int i;

	(void)state;
	out_open(&o);
	jw_object(&o.j, NULL);
	assert_int_equal(out_close(&o), -EINVAL); /* left open */
	free(o.buf);
	out_open(&o);
	jw_close(&o.j);
	assert_int_equal(out_close(&o), -EINVAL); /* nothing to close */
	free(o.buf);
	out_open(&o);
	for (i = 0; i < JW_MAX_DEPTH + 1; i++)
		jw_array(&o.j, NULL);
	assert_int_equal(out_close(&o), -EINVAL);
	free(o.buf);
}

static void test_write_error(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	struct jw j;

	(void)state;
	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	jw_init(&j, f);
	jw_str(&j, NULL, "x");
	assert_int_equal(jw_end_line(&j), -EIO);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commas_and_nesting),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_longer_than_the_buffer),
		cmocka_unit_test(test_nesting_errors),
		cmocka_unit_test(test_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
