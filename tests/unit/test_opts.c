// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "opts.h"

static void test_parse_u64(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(parse_u64("80", 1, 65535, &v), 0);
	assert_int_equal(v, 80);
	assert_int_equal(parse_u64("0", 1, 65535, &v), -ERANGE);
	assert_int_equal(parse_u64("65536", 1, 65535, &v), -ERANGE);
	assert_int_equal(parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_u64("", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64("8x", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64("+1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_u64(NULL, 0, 10, &v), -EINVAL);
}

static void test_parse_seconds(void **state)
{
	double s;

	(void)state;
	assert_int_equal(parse_seconds("1.5", 100, &s), 0);
	assert_true(s == 1.5);
	assert_int_equal(parse_seconds("0", 100, &s), -ERANGE);
	assert_int_equal(parse_seconds("101", 100, &s), -ERANGE);
	assert_int_equal(parse_seconds("nan", 100, &s), -EINVAL);
	assert_int_equal(parse_seconds("inf", 100, &s), -EINVAL);
	assert_int_equal(parse_seconds("1s", 100, &s), -EINVAL);
	assert_int_equal(parse_seconds("-2", 100, &s), -EINVAL);
}

static void test_parse_duration(void **state)
{
	double us;

	(void)state;
	assert_int_equal(parse_duration_us("300us", &us), 0);
	assert_true(us == 300);
	assert_int_equal(parse_duration_us("5ms", &us), 0);
	assert_true(us == 5000);
	assert_int_equal(parse_duration_us("1.5s", &us), 0);
	assert_true(us == 1500000);
	assert_int_equal(parse_duration_us("2m", &us), 0);
	assert_true(us == 120e6);
	assert_int_equal(parse_duration_us("500ns", &us), 0);
	assert_true(us == 0.5);
	assert_int_equal(parse_duration_us("5", &us), -EINVAL);
	assert_int_equal(parse_duration_us("5 ms", &us), -EINVAL);
	assert_int_equal(parse_duration_us("ms", &us), -EINVAL);
	assert_int_equal(parse_duration_us("5h", &us), -EINVAL);
	/* the list messages show is the table's: every unit in it parses, --assert's too */
	assert_string_equal(duration_unit_list(), "ns, us, ms, s, m");
	assert_int_equal(duration_unit_us("ms", 2, &us), 0);
	assert_true(us == 1000);
	assert_int_equal(duration_unit_us("m", 1, &us), 0);
	assert_true(us == 60e6);
	assert_int_equal(duration_unit_us("mss", 2, &us), 0); /* only len bytes are read */
	assert_int_equal(duration_unit_us("h", 1, &us), -EINVAL);
	assert_int_equal(duration_unit_us("", 0, &us), -EINVAL);
}

static void test_parse_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("4M", 4096, 1ULL << 30, &v), 0);
	assert_int_equal(v, 4 << 20);
	assert_int_equal(parse_size("65536", 4096, 1ULL << 30, &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(parse_size("2G", 4096, 1ULL << 30, &v), -ERANGE);
	assert_int_equal(parse_size("4Q", 4096, 1ULL << 30, &v), -EINVAL);
	assert_int_equal(parse_size("M", 4096, 1ULL << 30, &v), -EINVAL);
}

struct seen {
	int port;
	int json;
};

static int apply(int key, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct seen *s = ctx;
	uint64_t v;

	if (key == 'j') {
		s->json = 1;
		return 0;
	}
	if (parse_u64(arg, 1, 65535, &v)) {
		snprintf(err, errlen, "invalid value '%s' for --port", arg);
		return -EINVAL;
	}
	s->port = (int)v;
	return 0;
}

static const struct opt_def defs[] = {
	{ "json", no_argument, 'j', NULL, "json" },
	{ "port", required_argument, 'p', "N", "port" },
	{ 0 },
};

static void test_opts_parse(void **state)
{
	char a0[] = "watch", a1[] = "--json", a2[] = "--port", a3[] = "80", a4[] = "rest";
	char *argv[] = { a0, a1, a2, a3, a4, NULL };
	struct seen s = { 0 };
	char err[128] = "";
	int first = -1;

	(void)state;
	assert_int_equal(opts_parse(5, argv, defs, apply, &s, &first, err, sizeof(err)), 0);
	assert_int_equal(s.json, 1);
	assert_int_equal(s.port, 80);
	assert_int_equal(first, 4);
}

static void test_opts_errors(void **state)
{
	char a0[] = "watch", bad[] = "--bogus", p[] = "-p", v[] = "99999", h[] = "--help";
	char *argv1[] = { a0, bad, NULL }, *argv2[] = { a0, p, v, NULL }, *argv3[] = { a0, p, NULL };
	char *argv4[] = { a0, h, NULL };
	struct seen s = { 0 };
	char err[128];
	int first;

	(void)state;
	assert_int_equal(opts_parse(2, argv1, defs, apply, &s, &first, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(opts_parse(3, argv2, defs, apply, &s, &first, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "99999"));
	assert_int_equal(opts_parse(2, argv3, defs, apply, &s, &first, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(opts_parse(2, argv4, defs, apply, &s, &first, err, sizeof(err)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),      cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_parse_duration), cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_opts_parse),     cmocka_unit_test(test_opts_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
