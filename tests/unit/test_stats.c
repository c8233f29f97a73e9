// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "stats.h"

static struct hist *new_hist(void)
{
	return calloc(1, sizeof(struct hist));
}

static void test_empty(void **state)
{
	struct hist *h = new_hist();

	(void)state;
	assert_int_equal(hist_quantile(h, 0.5), 0);
	assert_int_equal(hist_quantile(h, 0.99), 0);
	assert_int_equal(hist_prom_cumulative(h, PROM_BUCKETS), 0);
	free(h);
}

static void test_small_values_exact(void **state)
{
	struct hist *h = new_hist();
	uint64_t v;

	(void)state;
	for (v = 1; v <= 10; v++)
		hist_add(h, v);
	assert_int_equal(h->count, 10);
	assert_int_equal(h->sum_us, 55);
	assert_int_equal(h->min_us, 1);
	assert_int_equal(h->max_us, 10);
	assert_int_equal(hist_quantile(h, 0.5), 5); /* nearest rank: 5th of 10 */
	assert_int_equal(hist_quantile(h, 0.9), 9);
	assert_int_equal(hist_quantile(h, 1.0), 10);
	free(h);
}

/* Every quantile lands within 1/16 of the true nearest-rank value. */
static void test_quantile_relative_error(void **state)
{
	struct hist *h = new_hist();
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	uint64_t v, truth, got, n = 100000;
	unsigned int i;

	(void)state;
	for (v = 1; v <= n; v++)
		hist_add(h, v * 37); /* 37 us .. 3.7 s */
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		truth = (uint64_t)(qs[i] * (double)n + 0.999999) * 37;
		got = hist_quantile(h, qs[i]);
		assert_true(got >= truth - truth / 16 && got <= truth + truth / 16);
	}
	free(h);
}

static void test_quantile_clamped_to_observed(void **state)
{
	struct hist *h = new_hist();

	(void)state;
	hist_add(h, 1000003);
	assert_int_equal(hist_quantile(h, 0.5), 1000003);
	assert_int_equal(hist_quantile(h, 0.99), 1000003);
	free(h);
}

static void test_huge_value_does_not_overflow(void **state)
{
	struct hist *h = new_hist();

	(void)state;
	hist_add(h, UINT64_MAX);
	hist_add(h, 0);
	assert_int_equal(h->count, 2);
	assert_int_equal(hist_quantile(h, 1.0), UINT64_MAX);
	assert_int_equal(hist_log2_count(h, 63), 1);
	assert_int_equal(hist_log2_count(h, 0), 1);
	assert_int_equal(hist_prom_cumulative(h, PROM_BUCKETS - 1), 1); /* 0 us */
	assert_int_equal(hist_prom_cumulative(h, PROM_BUCKETS), 2);     /* +Inf */
	free(h);
}

static void test_prom_buckets_cumulative(void **state)
{
	struct hist *h = new_hist();
	unsigned int i;

	(void)state;
	hist_add(h, 10);        /* le 10us: bounds are inclusive */
	hist_add(h, 11);        /* le 25us */
	hist_add(h, 60000000);  /* le 60s: a TIME_WAIT of exactly 60 s */
	hist_add(h, 61500000);  /* le 120s */
	hist_add(h, 500000000); /* +Inf only */
	assert_int_equal(hist_prom_cumulative(h, 0), 1);
	assert_int_equal(hist_prom_cumulative(h, 1), 2);
	assert_int_equal(hist_prom_cumulative(h, 20), 3);
	assert_int_equal(hist_prom_cumulative(h, 21), 4);
	assert_int_equal(hist_prom_cumulative(h, PROM_BUCKETS), 5);
	for (i = 1; i <= PROM_BUCKETS; i++)
		assert_true(hist_prom_cumulative(h, i) >= hist_prom_cumulative(h, i - 1));
	for (i = 1; i < PROM_BUCKETS; i++)
		assert_true(prom_bucket_us[i] > prom_bucket_us[i - 1]);
	free(h);
}

static void test_log2_slots(void **state)
{
	struct hist *h = new_hist();

	(void)state;
	hist_add(h, 1);
	hist_add(h, 2);
	hist_add(h, 3);
	hist_add(h, 1023);
	hist_add(h, 1024);
	assert_int_equal(hist_log2_count(h, 0), 1);
	assert_int_equal(hist_log2_count(h, 1), 2);
	assert_int_equal(hist_log2_count(h, 9), 1);
	assert_int_equal(hist_log2_count(h, 10), 1);
	assert_int_equal(hist_log2_count(h, 64), 0); /* out of range: 0, not a read past the end */
	free(h);
}

static void test_merge(void **state)
{
	struct hist *a = new_hist(), *b = new_hist();

	(void)state;
	hist_add(a, 5);
	hist_add(b, 500);
	hist_add(b, 2);
	hist_merge(a, b);
	assert_int_equal(a->count, 3);
	assert_int_equal(a->min_us, 2);
	assert_int_equal(a->max_us, 500);
	assert_int_equal(a->sum_us, 507);
	assert_int_equal(hist_prom_cumulative(a, PROM_BUCKETS), 3);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_quantile_relative_error),
		cmocka_unit_test(test_quantile_clamped_to_observed),
		cmocka_unit_test(test_huge_value_does_not_overflow),
		cmocka_unit_test(test_prom_buckets_cumulative),
		cmocka_unit_test(test_log2_slots),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
