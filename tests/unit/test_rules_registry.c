/* Tests of the registry of benchmarks (rules/rules.h, rules/benchmarks.c).
 *
 * The shipped benchmarks are listed once, and a benchmark added at run time is judged and
 * grouped like them: its checker is the one mlpio_rules_run_checker gives, and its runs form
 * submission groups with the checks every group makes, though it has no submission rules of its
 * own. What is added stays for the rest of the program, so each test adds what it needs once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules.h"
#include "rules/submission.h"

/* A benchmark whose runs are all CLOSED. */
static int check_nullbench(const cJSON *run, struct mlpio_verdict_report *v,
                           struct mlpio_error *err)
{
    (void)run;
    (void)v;
    (void)err;
    return 0;
}

static const struct mlpio_rules_benchmark nullbench = {
    .name = "nullbench",
    .check = check_nullbench,
    .submission = NULL,
};

static void add_nullbench(void)
{
    if (!mlpio_rules_benchmark_find("nullbench"))
        assert_int_equal(mlpio_rules_benchmark_add(&nullbench), 0);
}

static void test_shipped_benchmarks(void **state)
{
    static const struct {
        const char *name;
        mlpio_rules_checker_fn check;
    } shipped[] = {
        {"checkpointing", mlpio_rules_check_checkpointing},
        {"kvcache", mlpio_rules_check_kvcache},
        {"training", mlpio_rules_check_training},
    };
    for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
        const struct mlpio_rules_benchmark *b = mlpio_rules_benchmark_at((int)i);
        assert_non_null(b);
        assert_string_equal(b->name, shipped[i].name);
        assert_ptr_equal(b->check, shipped[i].check);
        assert_non_null(b->submission);
        assert_ptr_equal(mlpio_rules_benchmark_find(shipped[i].name), b);
        assert_ptr_equal(mlpio_rules_run_checker(shipped[i].name), shipped[i].check);
        /* The checklists come from the same entries. */
        assert_string_equal(mlpio_submission_benchmark((int)i), shipped[i].name);
        assert_non_null(mlpio_submission_checklist(shipped[i].name));
    }
    assert_null(mlpio_rules_benchmark_at(3));
    assert_null(mlpio_rules_benchmark_at(-1));
    assert_null(mlpio_rules_benchmark_find("vectordb"));
    assert_null(mlpio_rules_benchmark_find(NULL));
    assert_null(mlpio_rules_run_checker("vectordb"));
}

static void test_added_benchmark_is_judged(void **state)
{
    add_nullbench();
    assert_ptr_equal(mlpio_rules_benchmark_find("nullbench"), &nullbench);
    assert_ptr_equal(mlpio_rules_run_checker("nullbench"), check_nullbench);
    /* In alphabetical order among the shipped ones. */
    static const char *const order[] = {"checkpointing", "kvcache", "nullbench", "training"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(mlpio_rules_benchmark_at(i)->name, order[i]);
    assert_null(mlpio_rules_benchmark_at(4));
    /* Without submission rules it has no checklist, and the list of checklists skips it. */
    assert_null(mlpio_submission_checklist("nullbench"));
    for (int i = 0; mlpio_submission_benchmark(i); i++)
        assert_string_not_equal(mlpio_submission_benchmark(i), "nullbench");
    assert_string_equal(mlpio_submission_benchmark(2), "training");
    assert_null(mlpio_submission_benchmark(3));
}

/* Two runs of nullbench on model m, judged by the registry's checker as the scanner does. */
static cJSON *check_two_runs(const char *second_status)
{
    struct mlpio_submission_run runs[2] = {
        {.path = "nullbench/m/run/1", .benchmark = "nullbench", .model = "m", .status = "success"},
        {.path = "nullbench/m/run/2",
         .benchmark = "nullbench",
         .model = "m",
         .status = second_status},
    };
    struct mlpio_error err = {0};
    cJSON *meta = cJSON_CreateObject();
    for (int i = 0; i < 2; i++) {
        struct mlpio_verdict_report *v = mlpio_verdict_create();
        runs[i].metadata = meta;
        assert_int_equal(mlpio_rules_run_checker("nullbench")(meta, v, &err), 0);
        runs[i].judged = 1;
        runs[i].verdict = mlpio_verdict_of(v);
        mlpio_verdict_destroy(&v);
    }
    cJSON *groups = mlpio_submission_check(runs, 2, &err);
    cJSON_Delete(meta);
    if (!groups)
        fail_msg("mlpio_submission_check: %s", err.message);
    return groups;
}

static void test_added_benchmark_is_grouped(void **state)
{
    add_nullbench();
    cJSON *groups = check_two_runs("success");
    assert_int_equal(cJSON_GetArraySize(groups), 1);
    const cJSON *g = cJSON_GetArrayItem(groups, 0);
    assert_string_equal(cJSON_GetObjectItem(g, "benchmark")->valuestring, "nullbench");
    assert_string_equal(cJSON_GetObjectItem(g, "model")->valuestring, "m");
    assert_string_equal(cJSON_GetObjectItem(g, "group")->valuestring, "submission");
    assert_string_equal(cJSON_GetObjectItem(g, "verdict")->valuestring, "CLOSED");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(g, "runs")), 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(g, "issues")), 0);
    cJSON_Delete(groups);

    /* The common member checks: a run that failed makes the group INVALID. */
    groups = check_two_runs("failed");
    assert_int_equal(cJSON_GetArraySize(groups), 1);
    g = cJSON_GetArrayItem(groups, 0);
    assert_string_equal(cJSON_GetObjectItem(g, "verdict")->valuestring, "INVALID");
    const cJSON *issues = cJSON_GetObjectItem(g, "issues");
    assert_int_equal(cJSON_GetArraySize(issues), 1);
    const cJSON *is = cJSON_GetArrayItem(issues, 0);
    assert_string_equal(cJSON_GetObjectItem(is, "parameter")->valuestring, "runs");
    assert_string_equal(cJSON_GetObjectItem(is, "actual")->valuestring, "failed");
    assert_non_null(strstr(cJSON_GetObjectItem(is, "message")->valuestring, "nullbench/m/run/2"));
    cJSON_Delete(groups);
}

static void test_add_refusals(void **state)
{
    static const struct mlpio_rules_benchmark again = {"nullbench", check_nullbench, NULL};
    static const struct mlpio_rules_benchmark shipped = {"training", check_nullbench, NULL};
    static const struct mlpio_rules_benchmark unnamed = {NULL, check_nullbench, NULL};
    static const struct mlpio_rules_benchmark unchecked = {"nocheck", NULL, NULL};
    add_nullbench();
    errno = 0;
    assert_int_equal(mlpio_rules_benchmark_add(&again), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(mlpio_rules_benchmark_add(&nullbench), -1);
    assert_int_equal(mlpio_rules_benchmark_add(&shipped), -1);
    assert_int_equal(errno, EEXIST);
    assert_ptr_equal(mlpio_rules_run_checker("training"), mlpio_rules_check_training);
    assert_int_equal(mlpio_rules_benchmark_add(&unnamed), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(mlpio_rules_benchmark_add(&unchecked), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(mlpio_rules_benchmark_add(NULL), -1);
    assert_null(mlpio_rules_benchmark_find("nocheck"));
}

/* The registry is bounded: once MLPIO_RULES_BENCHMARKS_ADDED_MAX are added, no more. Run last:
 * it fills the registry. */
static void test_add_bounded(void **state)
{
    static char names[MLPIO_RULES_BENCHMARKS_ADDED_MAX + 1][16];
    static struct mlpio_rules_benchmark extra[MLPIO_RULES_BENCHMARKS_ADDED_MAX + 1];
    add_nullbench();
    int added = 1; /* nullbench */
    for (int i = 0; i <= MLPIO_RULES_BENCHMARKS_ADDED_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "extra%d", i);
        extra[i] = (struct mlpio_rules_benchmark){names[i], check_nullbench, NULL};
        errno = 0;
        int rc = mlpio_rules_benchmark_add(&extra[i]);
        if (added < MLPIO_RULES_BENCHMARKS_ADDED_MAX) {
            assert_int_equal(rc, 0);
            added++;
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(errno, ENOSPC);
            assert_null(mlpio_rules_benchmark_find(names[i]));
        }
    }
    /* Everything stays reachable and in order. */
    int n = 0;
    for (const struct mlpio_rules_benchmark *b; (b = mlpio_rules_benchmark_at(n)); n++)
        if (n > 0)
            assert_true(strcmp(mlpio_rules_benchmark_at(n - 1)->name, b->name) < 0);
    assert_int_equal(n, 3 + MLPIO_RULES_BENCHMARKS_ADDED_MAX);
    assert_ptr_equal(mlpio_rules_run_checker("checkpointing"), mlpio_rules_check_checkpointing);
    assert_ptr_equal(mlpio_rules_run_checker("extra0"), check_nullbench);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_benchmarks),
        cmocka_unit_test(test_added_benchmark_is_judged),
        cmocka_unit_test(test_added_benchmark_is_grouped),
        cmocka_unit_test(test_add_refusals),
        cmocka_unit_test(test_add_bounded),
    };
    return cmocka_run_group_tests_name("rules_registry", tests, NULL, NULL);
}
