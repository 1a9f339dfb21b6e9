/* Lexical path normalisation and containment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

#include "io/path.h"

static void test_normalize(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"/", "/"},
        {"//", "/"},
        {"/a/", "/a"},
        {"/a//b/./c", "/a/b/c"},
        {"/a/b/../c", "/a/c"},
        {"/../x", "/x"},
        {"/a/..", "/"},
        {"a/b/..", "a"},
        {"a/../../b", "../b"},
        {"./", "."},
        {"../../a/../b", "../../b"},
        {"a/./b/", "a/b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = mlpio_path_normalize(cases[i].in);
        assert_non_null(got);
        assert_string_equal(got, cases[i].out);
        free(got);
    }
}

static void test_within(void **state)
{
    static const struct {
        const char *outer, *inner;
        int within;
    } cases[] = {
        {"/a/b", "/a/b", 1},   {"/a/b", "/a/b/c", 1}, {"/a/b", "/a/bc", 0},
        {"/a/b/c", "/a/b", 0}, {"/", "/x", 1},        {"/x", "/y", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(mlpio_path_within(cases[i].outer, cases[i].inner), cases[i].within);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_within),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
