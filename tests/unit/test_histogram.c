/* Unit tests for latency histograms and statistics helpers (app/histogram.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/histogram.h"

/* A bucket is at most 1/16 of its lower bound wide (MLPIO_HIST_SUB_BITS = 4). */
static const double bucket_rel = 1.0 / (1 << MLPIO_HIST_SUB_BITS);

static void assert_near(double got, double want, double tol)
{
    if (fabs(got - want) > tol)
        fail_msg("got %.9g, want %.9g (+- %.3g)", got, want, tol);
}

/* 1..10000 microseconds, added in a scrambled order. */
static void add_uniform_us(struct mlpio_hist *h)
{
    for (int i = 0; i < 10000; i++)
        mlpio_hist_add(h, (double)((i * 7919) % 10000 + 1) * 1e-6);
}

static void test_percentiles_of_uniform(void **state)
{
    (void)state;
    static const double ps[] = {1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99};
    struct mlpio_hist h;
    mlpio_hist_init(&h);
    add_uniform_us(&h);
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        /* Nearest rank: the ceil(p% * n)-th smallest value. */
        double exact = ceil(ps[i] / 100.0 * 10000) * 1e-6;
        assert_near(mlpio_hist_percentile(&h, ps[i]), exact, exact * bucket_rel);
    }
    assert_near(mlpio_hist_percentile(&h, 0), 1e-6, 1e-15);
    assert_near(mlpio_hist_percentile(&h, 100), 10000e-6, 1e-15);
}

/* 90% at 1 ms and 10% at 1 s: the tail must not bleed into the median or the other way. */
static void test_percentiles_of_bimodal(void **state)
{
    (void)state;
    struct mlpio_hist h;
    mlpio_hist_init(&h);
    for (int i = 0; i < 1000; i++)
        mlpio_hist_add(&h, i % 10 == 9 ? 1.0 : 1e-3);
    assert_near(mlpio_hist_percentile(&h, 50), 1e-3, 1e-3 * bucket_rel);
    assert_near(mlpio_hist_percentile(&h, 90), 1e-3, 1e-3 * bucket_rel);
    assert_near(mlpio_hist_percentile(&h, 91), 1.0, bucket_rel);
    assert_near(mlpio_hist_percentile(&h, 99), 1.0, bucket_rel);
}

/* Over the whole range, a value is found again within its bucket's width. */
static void test_bucket_width_across_range(void **state)
{
    (void)state;
    for (double v = 150e-9; v < 7200.0; v *= 1.37) {
        struct mlpio_hist h;
        mlpio_hist_init(&h);
        mlpio_hist_add(&h, v);
        mlpio_hist_add(&h, v);
        mlpio_hist_add(&h, 1e4); /* max far above, so only min clamps */
        double p = mlpio_hist_percentile(&h, 50);
        assert_true(p >= v - 0.5e-9); /* recorded in whole nanoseconds */
        assert_near(p, v, v * bucket_rel);
    }
}

static void test_exact_summary(void **state)
{
    (void)state;
    struct mlpio_hist h;
    mlpio_hist_init(&h);
    add_uniform_us(&h);
    assert_int_equal(h.count, 10000);
    assert_int_equal(h.min_ns, 1000);
    assert_int_equal(h.max_ns, 10000000);
    assert_int_equal(h.sum_ns, 1000ull * 10000 * 10001 / 2);
    assert_near(mlpio_hist_mean(&h), 5000.5e-6, 1e-15);
    uint64_t total = 0;
    for (int i = 0; i < MLPIO_HIST_BUCKETS; i++)
        total += h.buckets[i];
    assert_int_equal(total, 10000);
}

static void test_merge_equals_single(void **state)
{
    (void)state;
    struct mlpio_hist all, part[3], merged;
    mlpio_hist_init(&all);
    mlpio_hist_init(&merged);
    for (int k = 0; k < 3; k++)
        mlpio_hist_init(&part[k]);
    for (int i = 0; i < 5000; i++) {
        double v = (double)((i * 104729) % 99991) * 1e-7 + (i % 3) * 0.5;
        mlpio_hist_add(&all, v);
        mlpio_hist_add(&part[i % 3], v);
    }
    for (int k = 0; k < 3; k++)
        mlpio_hist_merge(&merged, &part[k]);
    assert_memory_equal(&merged, &all, sizeof(all));
    /* Merging an empty histogram changes nothing (its min is UINT64_MAX, not 0). */
    struct mlpio_hist empty;
    mlpio_hist_init(&empty);
    mlpio_hist_merge(&merged, &empty);
    assert_memory_equal(&merged, &all, sizeof(all));
}

static void test_empty(void **state)
{
    (void)state;
    static const char *keys[] = {"count", "mean", "min", "max",   "p50",
                                 "p90",   "p95",  "p99", "p99_9", "p99_99"};
    struct mlpio_hist h;
    mlpio_hist_init(&h);
    assert_int_equal(h.min_ns, UINT64_MAX);
    assert_true(mlpio_hist_percentile(&h, 50) == 0.0);
    assert_true(mlpio_hist_mean(&h) == 0.0);
    cJSON *j = mlpio_hist_to_json(&h);
    assert_non_null(j);
    char *text = cJSON_PrintUnformatted(j);
    cJSON *back = cJSON_Parse(text);
    assert_non_null(back);
    assert_int_equal(cJSON_GetArraySize(back), sizeof(keys) / sizeof(keys[0]));
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(back, keys[i]);
        assert_true(cJSON_IsNumber(v));
        assert_true(v->valuedouble == 0.0);
    }
    cJSON_Delete(back);
    cJSON_free(text);
    cJSON_Delete(j);
}

static void test_json_matches_accessors(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        double p;
    } pct[] = {{"p50", 50}, {"p90", 90},     {"p95", 95},
               {"p99", 99}, {"p99_9", 99.9}, {"p99_99", 99.99}};
    struct mlpio_hist h;
    mlpio_hist_init(&h);
    add_uniform_us(&h);
    cJSON *j = mlpio_hist_to_json(&h);
    assert_non_null(j);
    assert_true(cJSON_GetObjectItemCaseSensitive(j, "count")->valuedouble == 10000.0);
    assert_true(cJSON_GetObjectItemCaseSensitive(j, "mean")->valuedouble == mlpio_hist_mean(&h));
    assert_near(cJSON_GetObjectItemCaseSensitive(j, "min")->valuedouble, 1e-6, 1e-15);
    assert_near(cJSON_GetObjectItemCaseSensitive(j, "max")->valuedouble, 1e-2, 1e-15);
    for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(j, pct[i].key);
        assert_non_null(v);
        assert_true(v->valuedouble == mlpio_hist_percentile(&h, pct[i].p));
    }
    cJSON_Delete(j);
}

static void test_extreme_values(void **state)
{
    (void)state;
    struct mlpio_hist h;
    mlpio_hist_init(&h);
    mlpio_hist_add(&h, 3e4); /* 8 hours: beyond the top bucket */
    mlpio_hist_add(&h, 1e30);
    mlpio_hist_add(&h, INFINITY);
    assert_int_equal(h.count, 3);
    assert_int_equal(h.buckets[MLPIO_HIST_BUCKETS - 1], 3);
    assert_int_equal(h.sum_ns, UINT64_MAX); /* saturated, not wrapped */
    assert_int_equal(h.max_ns, UINT64_MAX);
    assert_int_equal(h.min_ns, 30000000000000ull);
    double p = mlpio_hist_percentile(&h, 50);
    assert_true(p >= 3e4 && p <= (double)UINT64_MAX * 1e-9);
    /* Negative, zero and NaN count as 0 in the first bucket. */
    mlpio_hist_init(&h);
    mlpio_hist_add(&h, -1.0);
    mlpio_hist_add(&h, 0.0);
    mlpio_hist_add(&h, NAN);
    assert_int_equal(h.count, 3);
    assert_int_equal(h.buckets[0], 3);
    assert_int_equal(h.sum_ns, 0);
    assert_int_equal(h.max_ns, 0);
    assert_true(mlpio_hist_percentile(&h, 99) == 0.0);
}

static void test_mean_stdev(void **state)
{
    (void)state;
    static const struct {
        double v[8];
        int n;
        double mean, stdev;
    } cases[] = {
        {{2, 4, 4, 4, 5, 5, 7, 9}, 8, 5.0, 2.138089935299395},
        {{1e9 + 2, 1e9 + 4, 1e9 + 4, 1e9 + 4, 1e9 + 5, 1e9 + 5, 1e9 + 7, 1e9 + 9},
         8,
         1e9 + 5.0,
         2.138089935299395},
        {{3.5}, 1, 3.5, 0.0},
        {{0}, 0, 0.0, 0.0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double m = -1, s = -1;
        mlpio_hist_mean_stdev(cases[i].v, cases[i].n, &m, &s);
        assert_near(m, cases[i].mean, 1e-9);
        assert_near(s, cases[i].stdev, 1e-6);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_of_uniform),
        cmocka_unit_test(test_percentiles_of_bimodal),
        cmocka_unit_test(test_bucket_width_across_range),
        cmocka_unit_test(test_exact_summary),
        cmocka_unit_test(test_merge_equals_single),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_json_matches_accessors),
        cmocka_unit_test(test_extreme_values),
        cmocka_unit_test(test_mean_stdev),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
