/* Tests of the parameter module: text conversion by type (sizes with suffixes, booleans,
 * enums), range and type checks, whole-config validation with "did you mean" suggestions, and
 * dotted JSON paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/params.h"
#include "report/json_file.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct test_settings {
    int64_t count;
    uint64_t block;
    double ratio;
    bool sync;
    const char *label, *api;
};

static const struct mlpio_param_spec specs[] = {
    {"run.count", MLPIO_PARAM_INT, 1, 100, NULL, "how many", NULL, NULL,
     MLPIO_AT(struct test_settings, count)},
    {"run.block", MLPIO_PARAM_SIZE, 4096, 1099511627776.0, NULL, "block size", NULL, NULL,
     MLPIO_AT(struct test_settings, block)},
    {"run.ratio", MLPIO_PARAM_NUMBER, 0, 2.5, NULL, "a ratio", "s", NULL,
     MLPIO_AT(struct test_settings, ratio)},
    {"run.sync", MLPIO_PARAM_BOOL, 0, 0, NULL, "sync or not", NULL, NULL,
     MLPIO_AT(struct test_settings, sync)},
    {"run.label", MLPIO_PARAM_STRING, 0, 0, NULL, "a label", NULL, NULL,
     MLPIO_AT(struct test_settings, label)},
    {"io.api", MLPIO_PARAM_ENUM, 0, 0, "posix|mpiio|null", "backend", NULL, NULL,
     MLPIO_AT(struct test_settings, api)},
};
#define NSPECS ((int)N(specs))

static const struct mlpio_param_spec *spec(const char *key)
{
    const struct mlpio_param_spec *s = mlpio_params_find(specs, NSPECS, key);
    assert_non_null(s);
    return s;
}

static void test_find(void **state)
{
    for (int i = 0; i < NSPECS; i++)
        assert_ptr_equal(mlpio_params_find(specs, NSPECS, specs[i].key), &specs[i]);
    assert_null(mlpio_params_find(specs, NSPECS, "run"));
    assert_null(mlpio_params_find(specs, NSPECS, "run.coun"));
    assert_null(mlpio_params_find(specs, 0, "run.count"));
}

struct accept_case {
    const char *key, *text;
    int kind; /* 'n' number, 'b' bool, 's' string */
    double number;
    const char *string;
};

static void test_from_text_accepts(void **state)
{
    static const struct accept_case cases[] = {
        {"run.block", "4096", 'n', 4096, NULL},
        {"run.block", "4k", 'n', 4096, NULL},
        {"run.block", "4K", 'n', 4096, NULL},
        {"run.block", "4KiB", 'n', 4096, NULL},
        {"run.block", "16M", 'n', 16777216, NULL},
        {"run.block", "16m", 'n', 16777216, NULL},
        {"run.block", "8MB", 'n', 8388608, NULL},
        {"run.block", "1.5M", 'n', 1572864, NULL},
        {"run.block", "2G", 'n', 2147483648.0, NULL},
        {"run.block", "1T", 'n', 1099511627776.0, NULL},
        {"run.count", "42", 'n', 42, NULL},
        {"run.count", "1", 'n', 1, NULL},
        {"run.count", "100", 'n', 100, NULL},
        {"run.ratio", "2.5", 'n', 2.5, NULL},
        {"run.ratio", "0", 'n', 0, NULL},
        {"run.ratio", "1e-3", 'n', 0.001, NULL},
        {"run.sync", "true", 'b', 1, NULL},
        {"run.sync", "TRUE", 'b', 1, NULL},
        {"run.sync", "yes", 'b', 1, NULL},
        {"run.sync", "on", 'b', 1, NULL},
        {"run.sync", "1", 'b', 1, NULL},
        {"run.sync", "false", 'b', 0, NULL},
        {"run.sync", "No", 'b', 0, NULL},
        {"run.sync", "off", 'b', 0, NULL},
        {"run.sync", "0", 'b', 0, NULL},
        {"run.label", "nightly run", 's', 0, "nightly run"},
        {"io.api", "mpiio", 's', 0, "mpiio"},
        {"io.api", "null", 's', 0, "null"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct mlpio_error err = {0};
        cJSON *v = mlpio_params_from_text(spec(cases[i].key), cases[i].text, &err);
        if (!v)
            fail_msg("%s=%s refused: %s", cases[i].key, cases[i].text, err.message);
        switch (cases[i].kind) {
        case 'n':
            assert_true(cJSON_IsNumber(v));
            if (v->valuedouble != cases[i].number)
                fail_msg("%s=%s gave %.17g, want %.17g", cases[i].key, cases[i].text,
                         v->valuedouble, cases[i].number);
            break;
        case 'b':
            assert_true(cJSON_IsBool(v));
            assert_int_equal(cJSON_IsTrue(v), (int)cases[i].number);
            break;
        default:
            assert_true(cJSON_IsString(v));
            assert_string_equal(v->valuestring, cases[i].string);
        }
        assert_int_equal(err.category, MLPIO_ERR_NONE);
        cJSON_Delete(v);
    }
}

struct reject_case {
    const char *key, *text;
    const char *expected; /* what the message must say is expected */
};

static void test_from_text_rejects(void **state)
{
    static const struct reject_case cases[] = {
        {"run.block", "4q", "byte count from 4096"},
        {"run.block", "k", "byte count"},
        {"run.block", "", "byte count"},
        {"run.block", "4kk", "byte count"},
        {"run.block", "4 k", "byte count"},
        {"run.block", "1.3k", "byte count"}, /* 1331.2 bytes is not a whole count */
        {"run.block", "2048", "byte count"}, /* below the minimum */
        {"run.block", "2T", "byte count"},   /* above the maximum */
        {"run.block", "-4k", "byte count"},
        {"run.count", "3.5", "an integer from 1 to 100"},
        {"run.count", "0", "an integer from 1 to 100"},
        {"run.count", "101", "an integer from 1 to 100"},
        {"run.count", "1k", "an integer"}, /* suffixes are for sizes only */
        {"run.count", "12abc", "an integer"},
        {"run.count", "abc", "an integer"},
        {"run.ratio", "nan", "a number from 0 to 2.5"},
        {"run.ratio", "inf", "a number"},
        {"run.ratio", "1e999", "a number"},
        {"run.ratio", "2.6", "a number from 0 to 2.5"},
        {"run.ratio", "-0.1", "a number"},
        {"run.sync", "maybe", "true or false"},
        {"run.sync", "", "true or false"},
        {"run.sync", "2", "true or false"},
        {"run.label", "", "a non-empty string"},
        {"io.api", "fileio", "one of posix|mpiio|null"},
        {"io.api", "posi", "one of posix|mpiio|null"},
        {"io.api", "posix|mpiio", "one of"},
        {"io.api", "", "one of"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct mlpio_error err = {0};
        cJSON *v = mlpio_params_from_text(spec(cases[i].key), cases[i].text, &err);
        if (v)
            fail_msg("%s='%s' accepted", cases[i].key, cases[i].text);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        char given[64];
        snprintf(given, sizeof(given), "'%s'", cases[i].text);
        if (!strstr(err.message, cases[i].key) || !strstr(err.message, cases[i].expected) ||
            !strstr(err.message, given))
            fail_msg("%s='%s': message '%s' lacks the key, '%s' or %s", cases[i].key, cases[i].text,
                     err.message, cases[i].expected, given);
        if (!strstr(err.hint, cases[i].key))
            fail_msg("hint '%s' does not name %s", err.hint, cases[i].key);
    }
}

struct check_case {
    const char *key, *json;
    int ok;
};

static void test_check_types(void **state)
{
    static const struct check_case cases[] = {
        {"run.count", "5", 1},       {"run.count", "\"5\"", 0},  {"run.count", "5.5", 0},
        {"run.count", "true", 0},    {"run.count", "null", 0},   {"run.block", "8192", 1},
        {"run.block", "\"8k\"", 0},  {"run.block", "4095", 0},   {"run.ratio", "0.25", 1},
        {"run.ratio", "[1]", 0},     {"run.sync", "false", 1},   {"run.sync", "1", 0},
        {"run.sync", "\"true\"", 0}, {"run.label", "\"x\"", 1},  {"run.label", "\"\"", 0},
        {"run.label", "7", 0},       {"io.api", "\"posix\"", 1}, {"io.api", "\"POSIX\"", 0},
        {"io.api", "1", 0},          {"io.api", "{}", 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct mlpio_error err = {0};
        cJSON *v = cJSON_Parse(cases[i].json);
        assert_non_null(v);
        int rc = mlpio_params_check(spec(cases[i].key), v, &err);
        if (rc != (cases[i].ok ? 0 : -1))
            fail_msg("check %s=%s returned %d", cases[i].key, cases[i].json, rc);
        if (!cases[i].ok) {
            assert_int_equal(err.category, MLPIO_ERR_CONFIG);
            assert_non_null(strstr(err.message, cases[i].key));
            assert_non_null(strstr(err.message, "expected"));
        }
        cJSON_Delete(v);
    }
}

static void test_describe(void **state)
{
    static const struct {
        const char *key, *want;
    } cases[] = {
        {"run.count", "an integer from 1 to 100"},
        {"run.block", "a byte count from 4096 to 1099511627776 (suffixes k, M, G, T allowed)"},
        {"run.ratio", "a number from 0 to 2.5"},
        {"run.sync", "true or false"},
        {"run.label", "a non-empty string"},
        {"io.api", "one of posix|mpiio|null"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char buf[160];
        mlpio_params_describe(spec(cases[i].key), buf, sizeof(buf));
        assert_string_equal(buf, cases[i].want);
    }
}

/* A config holding every spec key with a valid value, plus an ignored "reference" object. */
static cJSON *valid_config(void)
{
    cJSON *c = cJSON_Parse("{\"run\": {\"count\": 3, \"block\": 65536, \"ratio\": 1.5,"
                           " \"sync\": true, \"label\": \"x\"},"
                           " \"io\": {\"api\": \"posix\"},"
                           " \"reference\": {\"anything\": 1, \"deep\": {\"x\": 2}}}");
    assert_non_null(c);
    return c;
}

static const char *const ignore[] = {"reference", NULL};

static void test_validate_ok(void **state)
{
    struct mlpio_error err = {0};
    cJSON *c = valid_config();
    if (mlpio_params_validate(specs, NSPECS, c, ignore, &err) != 0)
        fail_msg("valid config refused: %s", err.message);
    cJSON_Delete(c);
}

static void test_validate_missing(void **state)
{
    struct mlpio_error err = {0};
    cJSON *c = valid_config();
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(c, "run"), "ratio");
    assert_int_equal(mlpio_params_validate(specs, NSPECS, c, ignore, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_CONFIG);
    assert_non_null(strstr(err.message, "run.ratio"));
    assert_non_null(strstr(err.message, "missing"));
    assert_non_null(strstr(err.hint, "--params run.ratio="));
    cJSON_Delete(c);
}

struct unknown_case {
    const char *path;       /* dotted key added to a valid config */
    const char *suggestion; /* NULL: nothing is close */
};

static void test_validate_unknown(void **state)
{
    static const struct unknown_case cases[] = {
        {"run.cuont", "run.count"}, {"run.blocks", "run.block"},
        {"io.apis", "io.api"},      {"sync", "run.sync"}, /* the last component of a dotted key */
        {"run.zzzzzzzzzz", NULL},   {"elsewhere.totally.different", NULL},
        {"referenced", NULL}, /* "reference" is ignored as a component, not as a prefix */
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct mlpio_error err = {0};
        cJSON *c = valid_config();
        assert_int_equal(mlpio_json_set_path(c, cases[i].path, cJSON_CreateNumber(1)), 0);
        assert_int_equal(mlpio_params_validate(specs, NSPECS, c, ignore, &err), -1);
        char want[128];
        snprintf(want, sizeof(want), "unknown parameter '%s'", cases[i].path);
        if (!strstr(err.message, want))
            fail_msg("message '%s' lacks \"%s\"", err.message, want);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        if (cases[i].suggestion) {
            snprintf(want, sizeof(want), "did you mean '%s'?", cases[i].suggestion);
            if (!strstr(err.hint, want))
                fail_msg("%s: hint '%s' lacks \"%s\"", cases[i].path, err.hint, want);
        } else if (strstr(err.hint, "did you mean")) {
            fail_msg("%s: unexpected suggestion '%s'", cases[i].path, err.hint);
        }
        cJSON_Delete(c);
    }
}

static void test_validate_bad_value_and_ignore(void **state)
{
    struct mlpio_error err = {0};
    cJSON *c = valid_config();
    mlpio_json_set_path(c, "run.count", cJSON_CreateNumber(1000));
    assert_int_equal(mlpio_params_validate(specs, NSPECS, c, ignore, &err), -1);
    assert_non_null(strstr(err.message, "run.count"));
    assert_non_null(strstr(err.message, "an integer from 1 to 100"));
    assert_non_null(strstr(err.message, "1000"));
    cJSON_Delete(c);

    /* Without the ignore list, the reference object's leaves are unknown keys. */
    c = valid_config();
    mlpio_error_clear(&err);
    assert_int_equal(mlpio_params_validate(specs, NSPECS, c, NULL, &err), -1);
    assert_non_null(strstr(err.message, "unknown parameter 'reference."));
    cJSON_Delete(c);
}

static void test_json_get_path(void **state)
{
    cJSON *c = valid_config();
    assert_ptr_equal(mlpio_json_get_path(c, "run"), cJSON_GetObjectItem(c, "run"));
    const cJSON *x = mlpio_json_get_path(c, "reference.deep.x");
    assert_non_null(x);
    assert_int_equal(x->valueint, 2);
    assert_null(mlpio_json_get_path(c, "run.absent"));
    assert_null(mlpio_json_get_path(c, "absent.count"));
    assert_null(mlpio_json_get_path(c, "run.count.deeper")); /* through a number */
    assert_null(mlpio_json_get_path(c, "run..count"));
    assert_null(mlpio_json_get_path(NULL, "run"));
    assert_null(mlpio_json_get_path(c, "RUN.count")); /* keys are case-sensitive */

    assert_int_equal((int)mlpio_json_number(c, "run.count", -1), 3);
    assert_true(mlpio_json_number(c, "run.label", -1) == -1); /* mistyped: default */
    assert_true(mlpio_json_number(c, "run.nothing", 7.5) == 7.5);
    assert_string_equal(mlpio_json_string(c, "io.api", "d"), "posix");
    assert_string_equal(mlpio_json_string(c, "run.count", "d"), "d");
    assert_true(mlpio_json_bool(c, "run.sync", false));
    assert_false(mlpio_json_bool(c, "run.count", false));
    assert_true(mlpio_json_bool(c, "run.gone", true));
    cJSON_Delete(c);
}

static void test_json_set_path(void **state)
{
    cJSON *c = valid_config();
    /* Replace an existing leaf. */
    assert_int_equal(mlpio_json_set_path(c, "run.count", cJSON_CreateNumber(9)), 0);
    assert_int_equal((int)mlpio_json_number(c, "run.count", 0), 9);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "run")), 5);
    /* Create intermediate objects. */
    assert_int_equal(mlpio_json_set_path(c, "new.inner.leaf", cJSON_CreateString("v")), 0);
    assert_true(cJSON_IsObject(mlpio_json_get_path(c, "new.inner")));
    assert_string_equal(mlpio_json_string(c, "new.inner.leaf", ""), "v");
    /* Replace an object by a leaf. */
    assert_int_equal(mlpio_json_set_path(c, "new.inner", cJSON_CreateBool(1)), 0);
    assert_true(mlpio_json_bool(c, "new.inner", false));
    /* A component that is not an object: refused, the value freed, nothing changed. */
    char *before = cJSON_PrintUnformatted(c);
    assert_int_equal(mlpio_json_set_path(c, "run.count.deeper", cJSON_CreateNumber(1)), -1);
    assert_int_equal(mlpio_json_set_path(c, "run..x", cJSON_CreateNumber(1)), -1);
    assert_int_equal(mlpio_json_set_path(c, "fresh..x", cJSON_CreateNumber(1)), -1);
    assert_int_equal(mlpio_json_set_path(c, "", cJSON_CreateNumber(1)), -1);
    char *after = cJSON_PrintUnformatted(c);
    assert_string_equal(before, after);
    free(before);
    free(after);
    cJSON_Delete(c);
}

static void test_suggest(void **state)
{
    static const char *const commands[] = {"run", "datasize", "configview", NULL};
    static const struct {
        const char *word, *want;
    } cases[] = {
        {"rn", "run"},
        {"runn", "run"},
        {"datasze", "datasize"},
        {"dataszie", "datasize"},
        {"configveiw", "configview"},
        {"xyzzy", NULL},
        {"r", NULL},
        {"deletesomething", NULL},
    };
    for (size_t i = 0; i < N(cases); i++) {
        const char *got = mlpio_params_suggest_word(commands, cases[i].word);
        if (cases[i].want ? !got || strcmp(got, cases[i].want) != 0 : got != NULL)
            fail_msg("suggest(%s) = %s, want %s", cases[i].word, got ? got : "NULL",
                     cases[i].want ? cases[i].want : "NULL");
    }
    static const char *const none[] = {NULL};
    assert_null(mlpio_params_suggest_word(none, "run"));

    assert_string_equal(mlpio_params_suggest(specs, NSPECS, "run.cont"), "run.count");
    assert_string_equal(mlpio_params_suggest(specs, NSPECS, "label"), "run.label");
    assert_string_equal(mlpio_params_suggest(specs, NSPECS, "io.apl"), "io.api");
    assert_null(mlpio_params_suggest(specs, NSPECS, "completely.unrelated.key"));
}

/* A value given with an option is named by the option as typed, then by its key; the hint
 * points at that option, not at --params. */
static void test_from_option(void **state)
{
    (void)state;
    struct mlpio_error err = {0};
    assert_null(mlpio_params_from_option(spec("run.count"), "abc", "-n/--count", &err));
    assert_int_equal(err.category, MLPIO_ERR_CONFIG);
    assert_string_equal(err.message,
                        "-n/--count: run.count: expected an integer from 1 to 100, got 'abc'");
    assert_non_null(strstr(err.hint, "-n/--count"));
    assert_null(strstr(err.hint, "--params"));
    memset(&err, 0, sizeof(err));
    /* Out of range after conversion: the text as typed is named. */
    assert_null(mlpio_params_from_option(spec("run.block"), "2k", "--block", &err));
    assert_non_null(strstr(err.message, "--block: run.block: expected a byte count"));
    assert_non_null(strstr(err.message, "got '2k'"));
    memset(&err, 0, sizeof(err));
    assert_null(mlpio_params_from_option(spec("run.label"), "", "--label", &err));
    assert_string_equal(err.message, "--label: run.label: expected a non-empty string, got ''");
    memset(&err, 0, sizeof(err));
    /* Without an option: the --params form. */
    assert_null(mlpio_params_from_option(spec("run.count"), "abc", NULL, &err));
    assert_non_null(strstr(err.message, "parameter run.count: expected"));
    assert_non_null(strstr(err.hint, "--params run.count="));
    cJSON *v = mlpio_params_from_option(spec("run.count"), "7", "-n", &err);
    assert_non_null(v);
    assert_true(v->valuedouble == 7);
    cJSON_Delete(v);
}

/* Values as --help shows them. */
/* Every field gets its key's value, of its own C type; nothing comes from anywhere else. */
static void test_settings_filled(void **state)
{
    (void)state;
    cJSON *c = cJSON_Parse("{\"run\": {\"count\": 7, \"block\": 1099511627776, \"ratio\": 1.5, "
                           "\"sync\": true, \"label\": \"x\"}, \"io\": {\"api\": \"mpiio\"}}");
    struct test_settings s;
    memset(&s, 0xa5, sizeof(s));
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_params_settings(specs, NSPECS, c, &s, &err), 0);
    assert_int_equal(s.count, 7);
    assert_true(s.block == 1099511627776ull);
    assert_true(s.ratio == 1.5);
    assert_true(s.sync);
    assert_string_equal(s.label, "x");
    assert_string_equal(s.api, "mpiio");
    /* Text is borrowed from the config, not copied. */
    assert_ptr_equal(s.api, mlpio_json_string(c, "io.api", NULL));
    cJSON_Delete(c);
}

/* A key the config lacks, or holds with another type, is named; no default stands in. */
static void test_settings_missing(void **state)
{
    (void)state;
    cJSON *c = cJSON_Parse("{\"run\": {\"count\": 7, \"block\": 4096, \"ratio\": 1, "
                           "\"sync\": \"yes\", \"label\": \"x\"}}");
    struct test_settings s = {0};
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_params_settings(specs, NSPECS, c, &s, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_CONFIG);
    assert_non_null(strstr(err.message, "run.sync"));
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(c, "run"), "sync", cJSON_CreateFalse());
    memset(&err, 0, sizeof(err));
    assert_int_equal(mlpio_params_settings(specs, NSPECS, c, &s, &err), -1);
    assert_non_null(strstr(err.message, "io.api"));
    assert_non_null(strstr(err.message, "nothing"));
    cJSON_Delete(c);
}

/* A field whose C type cannot hold the spec's type is refused, not written past. */
static void test_settings_mistyped_field(void **state)
{
    (void)state;
    const struct mlpio_param_spec bad[] = {{"run.block", MLPIO_PARAM_SIZE, 0, 1e12, NULL, "x", NULL,
                                            NULL, MLPIO_AT(struct test_settings, sync)}};
    cJSON *c = cJSON_Parse("{\"run\": {\"block\": 4096}}");
    struct test_settings s = {0};
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_params_settings(bad, 1, c, &s, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_INTERNAL);
    assert_false(s.sync);
    cJSON_Delete(c);
}

static void test_value_text(void **state)
{
    (void)state;
    static const struct {
        const char *key, *json, *text;
    } cases[] = {
        {"run.block", "16777216", "16M"}, {"run.block", "4096", "4k"},
        {"run.block", "5000", "5000"},    {"run.block", "1099511627776", "1T"},
        {"run.ratio", "5", "5 s"},        {"run.ratio", "0.25", "0.25 s"},
        {"run.count", "10", "10"},        {"run.sync", "true", "true"},
        {"run.label", "\"a/b\"", "a/b"},  {"io.api", "\"mpiio\"", "mpiio"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char buf[64];
        cJSON *v = cJSON_Parse(cases[i].json);
        mlpio_params_value_text(spec(cases[i].key), v, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].text);
        cJSON_Delete(v);
    }
    char buf[16];
    mlpio_params_value_text(spec("run.count"), NULL, buf, sizeof(buf));
    assert_string_equal(buf, "none");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_from_text_accepts),
        cmocka_unit_test(test_from_text_rejects),
        cmocka_unit_test(test_check_types),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_validate_ok),
        cmocka_unit_test(test_validate_missing),
        cmocka_unit_test(test_validate_unknown),
        cmocka_unit_test(test_validate_bad_value_and_ignore),
        cmocka_unit_test(test_json_get_path),
        cmocka_unit_test(test_json_set_path),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_from_option),
        cmocka_unit_test(test_value_text),
        cmocka_unit_test(test_settings_filled),
        cmocka_unit_test(test_settings_missing),
        cmocka_unit_test(test_settings_mistyped_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
