/* Tests of configuration building: the model's reference from share/, deep-merge of a config
 * file, overrides from named options and --params with their provenance, and errors that name
 * the parameter, the file, the line and column, and what was expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli.h"
#include "app/config.h"
#include "report/json_file.h"
#include "support/files.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const models[] = {"llama3-8b", "llama3-70b", "llama3-405b", "llama3-1t"};

static int setup(void **state)
{
    return scratch_setup(state, "mlpio-config");
}

static int teardown(void **state)
{
    struct scratch *f = *state;
    char path[PATH_MAX], name[16];
    /* Only files written by write_file live here. */
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "c%d.json", i);
        unlink(path_join(path, f->dir, name));
    }
    int rc = rmdir(f->dir);
    free(f);
    return rc;
}

/* Writes text to c<n>.json in the scratch directory, whose path goes to path (PATH_MAX bytes). */
static const char *write_file(struct scratch *f, int n, const char *text, char *path)
{
    char name[16];
    snprintf(name, sizeof(name), "c%d.json", n);
    path_join(path, f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
    return path;
}

static void parse(const char *const *args, struct mlpio_cli *cli)
{
    struct mlpio_error err = {0};
    int argc = 0;
    while (args[argc])
        argc++;
    if (mlpio_cli_parse(argc, (char **)args, cli, &err) != 0)
        fail_msg("command line refused: %s", err.message);
}

/* Build the config of a command line; NULL on error (err filled). */
static cJSON *build(const char *const *args, cJSON **overrides, struct mlpio_error *err)
{
    struct mlpio_cli cli;
    parse(args, &cli);
    *overrides = NULL;
    cJSON *c = mlpio_config_build(&cli, overrides, err);
    mlpio_cli_free(&cli);
    return c;
}

/* The config of a command line that must build. */
static cJSON *build_ok(const char *const *args, cJSON **overrides)
{
    struct mlpio_error err = {0};
    cJSON *c = build(args, overrides, &err);
    if (!c)
        fail_msg("%s", err.message);
    return c;
}

static const cJSON *find_override(const cJSON *overrides, const char *key)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, overrides)
    {
        const cJSON *k = cJSON_GetObjectItem(o, "key");
        if (cJSON_IsString(k) && strcmp(k->valuestring, key) == 0)
            return o;
    }
    return NULL;
}

/* The override of key says value (JSON text), reference (JSON text) and source. */
static void assert_override(const cJSON *overrides, const char *key, const char *value,
                            const char *reference, const char *source)
{
    const cJSON *o = find_override(overrides, key);
    if (!o)
        fail_msg("no override for %s", key);
    char *v = cJSON_PrintUnformatted(cJSON_GetObjectItem(o, "value"));
    char *r = cJSON_PrintUnformatted(cJSON_GetObjectItem(o, "reference"));
    assert_string_equal(v, value);
    assert_string_equal(r, reference);
    assert_string_equal(cJSON_GetObjectItem(o, "source")->valuestring, source);
    free(v);
    free(r);
}

static void test_share_dir_from_env(void **state)
{
    char buf[PATH_MAX];
    const char *env = getenv("MLPIO_SHARE_DIR");
    assert_non_null(env);
    assert_string_equal(mlpio_config_share_dir(buf, sizeof(buf)), env);
}

static void test_reference_models(void **state)
{
    for (size_t i = 0; i < N(models); i++) {
        struct mlpio_error err = {0};
        cJSON *ref = mlpio_config_reference("checkpointing", models[i], &err);
        if (!ref)
            fail_msg("%s: %s", models[i], err.message);
        assert_string_equal(mlpio_json_string(ref, "model.name", ""), models[i]);
        assert_string_equal(mlpio_json_string(ref, "benchmark", ""), "checkpointing");
        cJSON_Delete(ref);
    }
}

static void test_reference_unknown_model(void **state)
{
    static const char *const bad[] = {"llama3-9b", "", "../checkpointing/llama3-8b", NULL};
    for (size_t i = 0; i < N(bad); i++) {
        struct mlpio_error err = {0};
        assert_null(mlpio_config_reference("checkpointing", bad[i], &err));
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        for (size_t m = 0; m < N(models); m++)
            if (!strstr(err.hint, models[m]))
                fail_msg("model '%s': hint '%s' does not list %s", bad[i] ? bad[i] : "NULL",
                         err.hint, models[m]);
    }
    struct mlpio_error err = {0};
    assert_null(mlpio_config_reference("checkpointing", "llama3-9b", &err));
    assert_non_null(strstr(err.message, "unknown model 'llama3-9b'"));
}

static void test_build_defaults(void **state)
{
    const char *args[] = {"mlpio", "checkpointing", "run", NULL};
    struct mlpio_error err = {0};
    cJSON *overrides;
    cJSON *c = build_ok(args, &overrides);
    cJSON *ref = mlpio_config_reference("checkpointing", "llama3-8b", &err);
    assert_true(cJSON_Compare(c, ref, 1));
    assert_true(cJSON_IsArray(overrides));
    assert_int_equal(cJSON_GetArraySize(overrides), 0);
    cJSON_Delete(ref);
    cJSON_Delete(overrides);
    cJSON_Delete(c);
}

static void test_build_cli_and_params(void **state)
{
    const char *args[] = {"mlpio",
                          "checkpointing",
                          "run",
                          "--model",
                          "llama3-70b",
                          "-ncw",
                          "2",
                          "--params",
                          "checkpoint.transfer_size=4M",
                          "checkpoint.fsync=no",
                          "--checkpoint-folder",
                          "/scratch/ckpt",
                          "--num-checkpoints-read",
                          "4",
                          NULL};
    cJSON *overrides;
    cJSON *c = build_ok(args, &overrides);
    assert_string_equal(mlpio_json_string(c, "model.name", ""), "llama3-70b");
    assert_int_equal((int)mlpio_json_number(c, "checkpoint.num_checkpoints_write", 0), 2);
    assert_true(mlpio_json_number(c, "checkpoint.transfer_size", 0) == 4194304.0);
    assert_false(mlpio_json_bool(c, "checkpoint.fsync", true));
    assert_string_equal(mlpio_json_string(c, "checkpoint.checkpoint_folder", ""), "/scratch/ckpt");
    assert_int_equal((int)mlpio_json_number(c, "checkpoint.num_checkpoints_read", 0), 4);
    /* Untouched keys keep the model's values. */
    assert_int_equal((int)mlpio_json_number(c, "parallelism.tensor", 0), 8);

    assert_int_equal(cJSON_GetArraySize(overrides), 5);
    assert_override(overrides, "checkpoint.num_checkpoints_write", "2", "10", "cli");
    assert_override(overrides, "checkpoint.num_checkpoints_read", "4", "10", "cli");
    assert_override(overrides, "checkpoint.transfer_size", "4194304", "16777216", "params");
    assert_override(overrides, "checkpoint.fsync", "false", "true", "params");
    assert_override(overrides, "checkpoint.checkpoint_folder", "\"/scratch/ckpt\"",
                    "\"checkpoints/llama3-70b\"", "cli");
    cJSON_Delete(overrides);
    cJSON_Delete(c);
}

static void test_build_config_file_merge(void **state)
{
    struct scratch *f = *state;
    char path[PATH_MAX];
    write_file(f, 0,
               "{\"checkpoint\": {\"num_checkpoints_read\": 2, \"layout\": \"shared\"},\n"
               " \"parallelism\": {\"data\": 4}}\n",
               path);
    const char *args[] = {"mlpio",
                          "checkpointing",
                          "run",
                          "--config-file",
                          path,
                          "--params",
                          "checkpoint.layout=per_rank",
                          NULL};
    cJSON *overrides;
    cJSON *c = build_ok(args, &overrides);
    /* Merged keys change; their siblings stay. */
    assert_int_equal((int)mlpio_json_number(c, "checkpoint.num_checkpoints_read", 0), 2);
    assert_int_equal((int)mlpio_json_number(c, "parallelism.data", 0), 4);
    assert_int_equal((int)mlpio_json_number(c, "checkpoint.num_checkpoints_write", 0), 10);
    assert_true(mlpio_json_bool(c, "checkpoint.fsync", false));
    assert_int_equal((int)mlpio_json_number(c, "parallelism.zero_stage", -1), 3);
    assert_string_equal(mlpio_json_string(c, "model.name", ""), "llama3-8b");
    /* --params applies after the file: layout is back to the reference, so not an override. */
    assert_string_equal(mlpio_json_string(c, "checkpoint.layout", ""), "per_rank");
    assert_int_equal(cJSON_GetArraySize(overrides), 2);
    assert_override(overrides, "checkpoint.num_checkpoints_read", "2", "10", "config-file");
    assert_override(overrides, "parallelism.data", "4", "8", "config-file");
    assert_null(find_override(overrides, "checkpoint.layout"));
    cJSON_Delete(overrides);
    cJSON_Delete(c);

    /* A fixture file, then --params over one of its keys. */
    char fx[PATH_MAX];
    const char *args2[] = {"mlpio",
                           "checkpointing",
                           "run",
                           "--config-file",
                           fixture_path(fx, sizeof(fx), "configs", "good-small-8b.json"),
                           "--params",
                           "checkpoint.num_checkpoints_write=3",
                           NULL};
    c = build_ok(args2, &overrides);
    assert_override(overrides, "checkpoint.num_checkpoints_write", "3", "10", "params");
    assert_override(overrides, "checkpoint.num_checkpoints_read", "1", "10", "config-file");
    assert_override(overrides, "checkpoint.transfer_size", "1048576", "16777216", "config-file");
    assert_override(overrides, "parallelism.data", "4", "8", "config-file");
    assert_int_equal(cJSON_GetArraySize(overrides), 4);
    cJSON_Delete(overrides);
    cJSON_Delete(c);
}

struct file_error {
    const char *fixture;
    enum mlpio_errcat category;
    const char *message[3]; /* substrings of the message */
    const char *hint;       /* substring of the hint, or NULL */
};

static void test_build_config_file_errors(void **state)
{
    static const struct file_error cases[] = {
        {"bad-unknown-key.json",
         MLPIO_ERR_CONFIG,
         {"unknown parameter 'checkpoint.fsynk'", NULL},
         "did you mean 'checkpoint.fsync'?"},
        {"bad-syntax.json",
         MLPIO_ERR_CONFIG,
         {"invalid JSON at line 4, column 5", "expected ',' or '}'", NULL},
         "line 4, column 5"},
        {"bad-type.json",
         MLPIO_ERR_CONFIG,
         {"parameter checkpoint.fsync", "expected true or false", "maybe"},
         NULL},
        {"bad-range.json",
         MLPIO_ERR_CONFIG,
         {"parameter parallelism.zero_stage", "an integer from 0 to 3", "got '4'"},
         NULL},
        {"bad-not-object.json", MLPIO_ERR_CONFIG, {"must hold a JSON object", NULL}, NULL},
        {"does-not-exist.json", MLPIO_ERR_CONFIG, {"cannot open", "No such file", NULL}, NULL},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char path[PATH_MAX];
        fixture_path(path, sizeof(path), "configs", cases[i].fixture);
        const char *args[] = {"mlpio", "checkpointing", "run", "--config-file", path, NULL};
        struct mlpio_error err = {0};
        cJSON *overrides;
        cJSON *c = build(args, &overrides, &err);
        if (c)
            fail_msg("%s accepted", cases[i].fixture);
        assert_null(overrides);
        if (err.category != cases[i].category)
            fail_msg("%s: category %s", cases[i].fixture, mlpio_errcat_name(err.category));
        /* Every error names the file it is about. */
        if (!strstr(err.message, path))
            fail_msg("%s: message '%s' does not name the file", cases[i].fixture, err.message);
        for (int k = 0; k < 3 && cases[i].message[k]; k++)
            if (!strstr(err.message, cases[i].message[k]))
                fail_msg("%s: message '%s' lacks '%s'", cases[i].fixture, err.message,
                         cases[i].message[k]);
        if (cases[i].hint && !strstr(err.hint, cases[i].hint))
            fail_msg("%s: hint '%s' lacks '%s'", cases[i].fixture, err.hint, cases[i].hint);
    }
}

struct param_error {
    const char *kv;
    const char *message[3];
    const char *hint;
};

static void test_build_param_errors(void **state)
{
    static const struct param_error cases[] = {
        {"checkpoint.fsync=maybe",
         {"checkpoint.fsync", "expected true or false", "'maybe'"},
         "checkpoint.fsync"},
        {"checkpoint.transfer_size=12",
         {"checkpoint.transfer_size", "expected a byte count from 4096 to 1073741824", "'12'"},
         NULL},
        {"checkpoint.transfer_size=2G", {"checkpoint.transfer_size", "'2G'", NULL}, NULL},
        {"checkpoint.layout=striped",
         {"checkpoint.layout", "one of per_rank|shared", "'striped'"},
         NULL},
        {"parallelism.data=1.5", {"parallelism.data", "an integer", NULL}, NULL},
        {"checkpoint.fsynk=true",
         {"unknown parameter 'checkpoint.fsynk' for checkpointing", NULL},
         "did you mean 'checkpoint.fsync'?"},
        {"transfer_size=4M",
         {"unknown parameter 'transfer_size'", NULL},
         "did you mean 'checkpoint.transfer_size'?"},
        {"model.name=", {"model.name", "a non-empty string", NULL}, NULL},
    };
    for (size_t i = 0; i < N(cases); i++) {
        const char *args[] = {"mlpio", "checkpointing", "run", "--params", cases[i].kv, NULL};
        struct mlpio_error err = {0};
        cJSON *overrides;
        cJSON *c = build(args, &overrides, &err);
        if (c)
            fail_msg("--params %s accepted", cases[i].kv);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        assert_int_equal(mlpio_exit_code(err.category), MLPIO_EXIT_USAGE);
        for (int k = 0; k < 3 && cases[i].message[k]; k++)
            if (!strstr(err.message, cases[i].message[k]))
                fail_msg("%s: message '%s' lacks '%s'", cases[i].kv, err.message,
                         cases[i].message[k]);
        if (cases[i].hint && !strstr(err.hint, cases[i].hint))
            fail_msg("%s: hint '%s' lacks '%s'", cases[i].kv, err.hint, cases[i].hint);
    }
}

static void test_build_unknown_model(void **state)
{
    const char *args[] = {"mlpio", "checkpointing", "run", "-m", "llama3-7b", NULL};
    struct mlpio_error err = {0};
    cJSON *overrides;
    assert_null(build(args, &overrides, &err));
    assert_int_equal(err.category, MLPIO_ERR_CONFIG);
    assert_non_null(strstr(err.message, "llama3-7b"));
    assert_non_null(strstr(err.hint, "llama3-8b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share_dir_from_env),
        cmocka_unit_test(test_reference_models),
        cmocka_unit_test(test_reference_unknown_model),
        cmocka_unit_test(test_build_defaults),
        cmocka_unit_test(test_build_cli_and_params),
        cmocka_unit_test_setup_teardown(test_build_config_file_merge, setup, teardown),
        cmocka_unit_test(test_build_config_file_errors),
        cmocka_unit_test(test_build_param_errors),
        cmocka_unit_test(test_build_unknown_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
