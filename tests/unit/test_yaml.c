/* Tests of the block-style YAML reader and writer (app/yaml.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "app/yaml.h"
#include "report/json_file.h"

static cJSON *parse_ok(const char *text)
{
    struct mlpio_error err = {0};
    cJSON *v = mlpio_yaml_parse(text, "t.yaml", &err);
    if (!v)
        fail_msg("parse failed: %s", err.message);
    return v;
}

static void parse_fails(const char *text, const char *expect)
{
    struct mlpio_error err = {0};
    cJSON *v = mlpio_yaml_parse(text, "t.yaml", &err);
    if (v)
        fail_msg("parsed what should fail: %s", text);
    if (!strstr(err.message, expect))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, expect);
}

/* What mlpio's system description looks like, with a submitter's edits. */
static void test_reads_a_system_description(void **state)
{
    (void)state;
    cJSON *v = parse_ok("# a comment\n"
                        "system_under_test:\n"
                        "  solution:\n"
                        "    submission_name: \"sys-1\"   # trailing comment\n"
                        "    friendly_description: 'it''s ours'\n"
                        "    capabilities:\n"
                        "      multi_host: true\n"
                        "      remap_time_in_seconds: 0\n"
                        "  deployment: onprem # where\n"
                        "  clients:\n"
                        "    - friendly_description: \"a # not a comment\"\n"
                        "      quantity: 2\n"
                        "      chassis:\n"
                        "        memory_capacity: 512\n"
                        "    - quantity: 3\n"
                        "  empty:\n"
                        "  tags:\n"
                        "  - a\n"
                        "  - b: 1\n"
                        "  flow: [1, 2]\n"
                        "  url: http://x:80/y\n");
    assert_string_equal(mlpio_json_string(v, "system_under_test.solution.submission_name", ""),
                        "sys-1");
    assert_string_equal(mlpio_json_string(v, "system_under_test.solution.friendly_description", ""),
                        "it's ours");
    assert_true(
        cJSON_IsTrue(mlpio_json_get_path(v, "system_under_test.solution.capabilities.multi_host")));
    assert_string_equal(mlpio_json_string(v, "system_under_test.deployment", ""), "onprem");
    const cJSON *clients = mlpio_json_get_path(v, "system_under_test.clients");
    assert_int_equal(cJSON_GetArraySize(clients), 2);
    const cJSON *c0 = cJSON_GetArrayItem(clients, 0);
    assert_string_equal(mlpio_json_string(c0, "friendly_description", ""), "a # not a comment");
    assert_int_equal(mlpio_json_number(c0, "quantity", 0), 2);
    assert_int_equal(mlpio_json_number(c0, "chassis.memory_capacity", 0), 512);
    assert_int_equal(mlpio_json_number(cJSON_GetArrayItem(clients, 1), "quantity", 0), 3);
    assert_true(cJSON_IsNull(mlpio_json_get_path(v, "system_under_test.empty")));
    const cJSON *tags = mlpio_json_get_path(v, "system_under_test.tags");
    assert_int_equal(cJSON_GetArraySize(tags), 2);
    assert_string_equal(cJSON_GetArrayItem(tags, 0)->valuestring, "a");
    assert_int_equal(mlpio_json_number(cJSON_GetArrayItem(tags, 1), "b", 0), 1);
    assert_int_equal(cJSON_GetArraySize(mlpio_json_get_path(v, "system_under_test.flow")), 2);
    assert_string_equal(mlpio_json_string(v, "system_under_test.url", ""), "http://x:80/y");
    cJSON_Delete(v);
}

static void test_refuses_what_it_cannot_read(void **state)
{
    (void)state;
    parse_fails("a: 1\n\tb: 2\n", "line 2: a tab");
    parse_fails("a: 1\na: 2\n", "line 2: the key \"a\" a second time");
    parse_fails("a: 1\n   b: 2\n", "line 2: unexpected indentation");
    parse_fails("a: &x 1\n", "line 1: '&' starts an anchor");
    parse_fails("a: |\n  text\n", "line 1: '|' starts");
    parse_fails("a: \"open\n", "line 1: an unclosed quote");
    parse_fails("a: 1\n---\nb: 2\n", "line 2: a second document");
    parse_fails("a: [1, 2\n", "line 1: a flow collection");
}

/* What is written reads back to the same value. */
static void test_round_trip(void **state)
{
    (void)state;
    cJSON *v = cJSON_Parse("{\"schema\":\"mlps-submission-manifest/1\",\"layout_version\":3,"
                           "\"empty\":{},\"none\":[],\"n\":null,\"yes\":true,\"pi\":3.25,"
                           "\"odd key\":\"-x: #y 'z'\\n\",\"runs\":[{\"leaf\":\"a/b\","
                           "\"nested\":[[1,2],{\"k\":\"v\"}]},\"plain\"],"
                           "\"systems\":[{\"name\":\"s\",\"pdf\":\"missing\"}]}");
    char *text = mlpio_yaml_emit(v);
    assert_non_null(text);
    assert_non_null(strstr(text, "schema: \"mlps-submission-manifest/1\"\n"));
    assert_non_null(strstr(text, "runs:\n  - leaf: \"a/b\"\n"));
    cJSON *back = parse_ok(text);
    char *a = cJSON_PrintUnformatted(v), *b = cJSON_PrintUnformatted(back);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(text);
    cJSON_Delete(back);
    cJSON_Delete(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_a_system_description),
        cmocka_unit_test(test_refuses_what_it_cannot_read),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
