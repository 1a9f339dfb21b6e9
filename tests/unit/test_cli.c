/* Tests of the command line: `mlpio <benchmark> <command> [options]` with long options,
 * MLPerf Storage's single-dash aliases, --opt=value, several KEY=VALUE after one --params,
 * benchmark options as overrides, universal option checks, errors with suggestions, defaults,
 * exit codes, the options JSON and the help text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/cli.h"
#include "app/config.h"
#include "app/rundir.h"
#include "app/tools.h"
#include "app/watch.h"
#include "report/json_file.h"
#include "rules/rules.h"
#include "support/files.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAXARGS 16

/* argv from a NULL-terminated list; the parser only reads it. */
static int parse(const char *const *args, struct mlpio_cli *cli, struct mlpio_error *err)
{
    int argc = 0;
    while (args[argc])
        argc++;
    return mlpio_cli_parse(argc, (char **)args, cli, err);
}

static void parse_ok(const char *const *args, struct mlpio_cli *cli)
{
    struct mlpio_error err = {0};
    if (parse(args, cli, &err) != 0)
        fail_msg("'%s %s ...' refused: %s (hint: %s)", args[1], args[2] ? args[2] : "", err.message,
                 err.hint);
}

static const struct mlpio_override * override(const struct mlpio_cli *cli, int i)
{
    assert_true(i < cli->noverrides);
    return &cli->overrides[i];
}

static void assert_override(const struct mlpio_cli *cli, int i, const char *key, const char *value,
                            const char *source)
{
    const struct mlpio_override *o = override(cli, i);
    assert_string_equal(o->key, key);
    assert_string_equal(o->value, value);
    assert_string_equal(o->source, source);
}

static void test_defaults(void **state)
{
    struct mlpio_cli cli;
    const char *args[] = {"mlpio", "checkpointing", "run", NULL};
    parse_ok(args, &cli);
    assert_string_equal(cli.workload->name, "checkpointing");
    assert_string_equal(cli.command->name, "run");
    assert_string_equal(cli.model, "llama3-8b");
    assert_string_equal(cli.results_dir, "mlpio_results");
    assert_string_equal(cli.io_api, "posix");
    assert_null(cli.config_file);
    assert_int_equal(cli.loops, 1);
    assert_true(cli.scale == 1.0);
    assert_int_equal(cli.division, MLPIO_DIVISION_ANY);
    assert_int_equal(cli.level, MLPIO_LOG_NORMAL);
    assert_false(cli.has_seed);
    assert_false(cli.help || cli.what_if || cli.allow_invalid || cli.odirect || cli.verify);
    assert_true(cli.client_memory_gb == 0);
    assert_int_equal(cli.noverrides, 0);
    assert_int_equal(cli.argc, 3);
    assert_ptr_equal(cli.argv, args);
    mlpio_cli_free(&cli);
    assert_null(cli.model);
    mlpio_cli_free(&cli); /* a freed cli may be freed again */
    mlpio_cli_free(NULL);
}

static void test_long_options(void **state)
{
    struct mlpio_cli cli;
    const char *args[] = {"mlpio",
                          "checkpointing",
                          "run",
                          "--model",
                          "llama3-70b",
                          "--results-dir",
                          "/r/x",
                          "--config-file",
                          "c.json",
                          "--loops",
                          "3",
                          "--seed",
                          "42",
                          "--scale",
                          "0.5",
                          "--io-api",
                          "null",
                          "--verify",
                          "--what-if",
                          "--allow-invalid-params",
                          "--client-host-memory-in-gb",
                          "64",
                          "--closed",
                          "--debug",
                          NULL};
    parse_ok(args, &cli);
    assert_string_equal(cli.command->name, "run");
    assert_string_equal(cli.model, "llama3-70b");
    assert_string_equal(cli.results_dir, "/r/x");
    assert_string_equal(cli.config_file, "c.json");
    assert_int_equal(cli.loops, 3);
    assert_true(cli.has_seed);
    assert_int_equal(cli.seed, 42);
    assert_true(cli.scale == 0.5);
    assert_string_equal(cli.io_api, "null");
    assert_true(cli.verify && cli.what_if && cli.allow_invalid);
    assert_true(cli.client_memory_gb == 64);
    assert_int_equal(cli.division, MLPIO_DIVISION_CLOSED);
    assert_int_equal(cli.level, MLPIO_LOG_DEBUG);
    assert_int_equal(cli.noverrides, 0);
    mlpio_cli_free(&cli);
}

static void test_inline_values(void **state)
{
    struct mlpio_cli cli;
    const char *args[] = {"mlpio",
                          "checkpointing",
                          "run",
                          "--model=llama3-405b",
                          "--loops=2",
                          "--scale=0.25",
                          "--seed=18446744073709551615",
                          "--io-api=mpiio",
                          "--num-checkpoints-write=4",
                          "--params=checkpoint.fsync=false",
                          "--open",
                          NULL};
    parse_ok(args, &cli);
    assert_string_equal(cli.model, "llama3-405b");
    assert_int_equal(cli.loops, 2);
    assert_true(cli.scale == 0.25);
    assert_true(cli.seed == UINT64_MAX);
    assert_string_equal(cli.io_api, "mpiio");
    assert_int_equal(cli.division, MLPIO_DIVISION_OPEN);
    assert_int_equal(cli.noverrides, 2);
    assert_override(&cli, 0, "checkpoint.num_checkpoints_write", "4", "cli");
    /* Only the first '=' separates the option from its value. */
    assert_override(&cli, 1, "checkpoint.fsync", "false", "params");
    mlpio_cli_free(&cli);
}

static void test_mlperf_aliases(void **state)
{
    struct mlpio_cli cli;
    const char *args[] = {"mlpio",
                          "checkpointing",
                          "run",
                          "-m",
                          "llama3-1t",
                          "-rd",
                          "/res",
                          "-cm",
                          "128",
                          "-ncw",
                          "5",
                          "-ncr",
                          "3",
                          "-cf",
                          "/ckpt",
                          "-p",
                          "checkpoint.layout=shared",
                          "-q",
                          NULL};
    parse_ok(args, &cli);
    assert_string_equal(cli.model, "llama3-1t");
    assert_string_equal(cli.results_dir, "/res");
    assert_true(cli.client_memory_gb == 128);
    assert_int_equal(cli.level, MLPIO_LOG_QUIET);
    assert_int_equal(cli.noverrides, 4);
    assert_override(&cli, 0, "checkpoint.num_checkpoints_write", "5", "cli");
    assert_override(&cli, 1, "checkpoint.num_checkpoints_read", "3", "cli");
    assert_override(&cli, 2, "checkpoint.checkpoint_folder", "/ckpt", "cli");
    assert_override(&cli, 3, "checkpoint.layout", "shared", "params");
    mlpio_cli_free(&cli);
}

static void test_params_several_words(void **state)
{
    struct mlpio_cli cli;
    const char *args[] = {"mlpio",
                          "checkpointing",
                          "run",
                          "--params",
                          "checkpoint.fsync=false",
                          "checkpoint.transfer_size=4M",
                          "model.name=a=b",
                          "--loops",
                          "2",
                          "--params",
                          "parallelism.data=2",
                          "--num-checkpoints-read",
                          "0",
                          NULL};
    parse_ok(args, &cli);
    assert_int_equal(cli.loops, 2);
    assert_int_equal(cli.noverrides, 5);
    assert_override(&cli, 0, "checkpoint.fsync", "false", "params");
    assert_override(&cli, 1, "checkpoint.transfer_size", "4M", "params");
    assert_override(&cli, 2, "model.name", "a=b", "params");
    assert_override(&cli, 3, "parallelism.data", "2", "params");
    assert_override(&cli, 4, "checkpoint.num_checkpoints_read", "0", "cli");
    mlpio_cli_free(&cli);
}

static void test_levels_and_flags(void **state)
{
    static const struct {
        const char *flag;
        enum mlpio_log_level level;
    } cases[] = {
        {"-v", MLPIO_LOG_VERBOSE},    {"--verbose", MLPIO_LOG_VERBOSE}, {"-q", MLPIO_LOG_QUIET},
        {"--quiet", MLPIO_LOG_QUIET}, {"--debug", MLPIO_LOG_DEBUG},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct mlpio_cli cli;
        const char *args[] = {"mlpio", "checkpointing", "run", cases[i].flag, NULL};
        parse_ok(args, &cli);
        assert_int_equal(cli.level, cases[i].level);
        mlpio_cli_free(&cli);
    }
    /* --verbose after --debug keeps the more detailed level. */
    struct mlpio_cli cli;
    const char *args[] = {"mlpio",     "checkpointing", "run",      "--debug", "-v",
                          "--odirect", "--closed",      "--closed", NULL};
    parse_ok(args, &cli);
    assert_int_equal(cli.level, MLPIO_LOG_DEBUG);
    assert_true(cli.odirect);
    assert_int_equal(cli.division, MLPIO_DIVISION_CLOSED);
    mlpio_cli_free(&cli);
}

static void test_help_without_command(void **state)
{
    static const char *const flags[] = {"--help", "-h"};
    for (size_t i = 0; i < N(flags); i++) {
        struct mlpio_cli cli;
        const char *args[] = {"mlpio", "checkpointing", flags[i], NULL};
        parse_ok(args, &cli);
        assert_true(cli.help);
        assert_null(cli.command);
        mlpio_cli_free(&cli);
    }
    struct mlpio_cli cli;
    const char *args[] = {"mlpio", "checkpointing", "run", "--help", NULL};
    parse_ok(args, &cli);
    assert_true(cli.help);
    assert_string_equal(cli.command->name, "run");
    mlpio_cli_free(&cli);
}

struct error_case {
    const char *args[MAXARGS];
    const char *message; /* substring of the message */
    const char *hint;    /* substring of the hint, or NULL */
};

static const struct error_case errors[] = {
    {{"mlpio", NULL}, "no benchmark given", "mlpio help"},
    {{"mlpio", "checkpointin", "run", NULL},
     "unknown benchmark or command 'checkpointin'",
     "did you mean 'checkpointing'?"},
    {{"mlpio", "frobnicate", NULL}, "unknown benchmark or command 'frobnicate'", "mlpio help"},
    {{"mlpio", "checkpointing", "rnu", NULL},
     "unknown command 'rnu' for benchmark 'checkpointing'",
     "did you mean 'run'?"},
    {{"mlpio", "checkpointing", "datasze", NULL},
     "unknown command 'datasze'",
     "did you mean 'datasize'?"},
    {{"mlpio", "checkpointing", "--model", "llama3-8b", NULL},
     "no command given for benchmark 'checkpointing'",
     NULL},
    {{"mlpio", "checkpointing", "run", "--num-checkpoint-write", "2", NULL},
     "unknown option '--num-checkpoint-write'",
     "did you mean '--num-checkpoints-write'?"},
    {{"mlpio", "checkpointing", "run", "--modle", "x", NULL},
     "unknown option '--modle'",
     "did you mean '--model'?"},
    {{"mlpio", "checkpointing", "run", "--zzzzzzzzzzzz", NULL}, "unknown option", NULL},
    {{"mlpio", "checkpointing", "run", "--model", NULL}, "option '--model' needs a value", NULL},
    {{"mlpio", "checkpointing", "run", "-ncw", NULL}, "option '-ncw' needs a value", NULL},
    {{"mlpio", "checkpointing", "run", "--params", NULL}, "needs a value", NULL},
    {{"mlpio", "checkpointing", "run", "--verify=yes", NULL},
     "option '--verify=yes' takes no value",
     NULL},
    {{"mlpio", "checkpointing", "run", "--closed=1", NULL}, "takes no value", NULL},
    {{"mlpio", "checkpointing", "run", "extra", NULL}, "unexpected argument 'extra'", NULL},
    {{"mlpio", "checkpointing", "run", "--loops", "2", "more", NULL},
     "unexpected argument 'more'",
     NULL},
    {{"mlpio", "checkpointing", "run", "-", NULL}, "unexpected argument '-'", NULL},
    {{"mlpio", "checkpointing", "run", "--params", "a=1", "stray", NULL},
     "unexpected argument 'stray'",
     NULL},
    {{"mlpio", "checkpointing", "run", "--params", "novalue", NULL},
     "--params expects KEY=VALUE, got 'novalue'",
     "--params"},
    {{"mlpio", "checkpointing", "run", "--params", "=5", NULL}, "expects KEY=VALUE", NULL},
    {{"mlpio", "checkpointing", "run", "--scale", "0", NULL},
     "--scale: expected a number > 0 and <= 1, got '0'",
     NULL},
    {{"mlpio", "checkpointing", "run", "--scale", "1.5", NULL}, "--scale: expected", NULL},
    {{"mlpio", "checkpointing", "run", "--scale", "-0.5", NULL}, "--scale: expected", NULL},
    {{"mlpio", "checkpointing", "run", "--scale", "nan", NULL}, "--scale: expected", NULL},
    {{"mlpio", "checkpointing", "run", "--scale", "0.5x", NULL}, "--scale: expected", NULL},
    {{"mlpio", "checkpointing", "run", "--loops", "0", NULL},
     "--loops: expected an integer from 1 to 1000, got '0'",
     NULL},
    {{"mlpio", "checkpointing", "run", "--loops", "2.5", NULL}, "--loops: expected", NULL},
    {{"mlpio", "checkpointing", "run", "--seed", "-1", NULL},
     "--seed: expected a non-negative integer, got '-1'",
     NULL},
    {{"mlpio", "checkpointing", "run", "--seed", "12x", NULL}, "--seed: expected", NULL},
    {{"mlpio", "checkpointing", "run", "--seed", "18446744073709551616", NULL},
     "--seed: expected",
     NULL},
    {{"mlpio", "checkpointing", "run", "-cm", "0", NULL},
     "-cm/--client-host-memory-in-gb: expected a number > 0",
     NULL},
    {{"mlpio", "checkpointing", "run", "--client-host-memory-in-gb=x", NULL},
     "--client-host-memory-in-gb: expected",
     NULL},
    {{"mlpio", "checkpointing", "run", "--io-api", "fileio", NULL},
     "--io-api: unknown backend 'fileio'",
     "posix"},
    {{"mlpio", "checkpointing", "run", "--closed", "--open", NULL},
     "--closed and --open exclude each other",
     NULL},
    {{"mlpio", "checkpointing", "run", "--open", "--closed", NULL}, "exclude each other", NULL},
    {{"mlpio", "checkpointing", "run", "--odirect", "--io-api", "mpiio", NULL},
     "--odirect is not available with --io-api mpiio",
     "--io-api posix"},
    {{"mlpio", "checkpointing", "run", "--io-api=mpiio", "--odirect", NULL},
     "--odirect is not available",
     NULL},
    /* A bad value of a benchmark option names the option as typed, then its key. */
    {{"mlpio", "checkpointing", "run", "-ncw", "abc", NULL},
     "-ncw/--num-checkpoints-write: checkpoint.num_checkpoints_write: expected an integer from 0 "
     "to 1000, got 'abc'",
     "give -ncw/--num-checkpoints-write an integer from 0 to 1000"},
    {{"mlpio", "checkpointing", "run", "--num-checkpoints-write", "abc", NULL},
     "--num-checkpoints-write: checkpoint.num_checkpoints_write: expected an integer",
     "--num-checkpoints-write"},
    {{"mlpio", "checkpointing", "run", "--num-checkpoints-read=1001", NULL},
     "--num-checkpoints-read: checkpoint.num_checkpoints_read: expected an integer from 0 to "
     "1000, got '1001'",
     NULL},
    {{"mlpio", "kvcache", "run", "-nu", "0", NULL},
     "-nu/--num-users: kvcache.num_users: expected an integer from 1 to 1000000, got '0'",
     "-nu"},
    {{"mlpio", "kvcache", "run", "-d", "soon", NULL},
     "-d/--duration: kvcache.duration: expected a number from 0.001 to 1e+07, got 'soon'",
     "-d"},
    {{"mlpio", "kvcache", "run", "--cpu-mem-gb", "-1", NULL},
     "--cpu-mem-gb: cache.cpu_mem_gb: expected a number from 0 to 1e+06, got '-1'",
     "--cpu-mem-gb"},
    {{"mlpio", "training", "run", "--data-dir", "", NULL},
     "--data-dir: dataset.data_folder: expected a non-empty string, got ''",
     "--data-dir"},
    {{"mlpio", "training", "datagen", "-dd=", NULL},
     "-dd/--data-dir: dataset.data_folder: expected",
     NULL},
    {{"mlpio", "kvcache", "run", "--generation-mode", "slow", NULL},
     "--generation-mode: unknown value 'slow'",
     "none|fast|realistic"},
    /* An option given twice is refused, naming both values. */
    {{"mlpio", "checkpointing", "run", "-ncw", "1", "-ncw", "3", NULL},
     "option --num-checkpoints-write is given twice: -ncw 1, then -ncw 3",
     "give --num-checkpoints-write once"},
    {{"mlpio", "checkpointing", "run", "-ncw", "1", "--num-checkpoints-write=3", NULL},
     "given twice: -ncw 1, then --num-checkpoints-write 3",
     NULL},
    {{"mlpio", "checkpointing", "run", "--model", "llama3-8b", "-m", "llama3-70b", NULL},
     "option --model is given twice: --model llama3-8b, then -m llama3-70b",
     NULL},
    {{"mlpio", "checkpointing", "run", "--loops", "2", "--loops", "2", NULL},
     "option --loops is given twice",
     NULL},
    {{"mlpio", "checkpointing", "run", "--seed", "1", "--seed", "2", NULL},
     "option --seed is given twice",
     NULL},
    {{"mlpio", "checkpointing", "run", "-rd", "a", "--results-dir", "b", NULL},
     "option --results-dir is given twice: -rd a, then --results-dir b",
     NULL},
    {{"mlpio", "training", "run", "-g", "h100", "-g", "a100", NULL},
     "option --accelerator-type is given twice: -g h100, then -g a100",
     NULL},
    {{"mlpio", "training", "run", "-na", "2", "-na", "4", NULL},
     "option --num-accelerators is given twice",
     NULL},
    {{"mlpio", "kvcache", "run", "--option", "1", "--option", "2", NULL},
     "option --option is given twice",
     NULL},
    /* One key set by an option and by --params, or twice by --params. */
    {{"mlpio", "checkpointing", "run", "-ncw", "1", "--params",
      "checkpoint.num_checkpoints_write=3", NULL},
     "checkpoint.num_checkpoints_write is set twice: by -ncw/--num-checkpoints-write (1), then by "
     "--params "
     "(checkpoint.num_checkpoints_write=3)",
     "set checkpoint.num_checkpoints_write once"},
    {{"mlpio", "checkpointing", "run", "-p", "checkpoint.fsync=false", "checkpoint.fsync=true",
      NULL},
     "checkpoint.fsync is set twice: by -p/--params (false), then by -p/--params "
     "(checkpoint.fsync=true)",
     NULL},
    {{"mlpio", "training", "run", "--params", "reader.computation_time=1",
      "train.computation_time=2", NULL},
     "train.computation_time is set twice",
     NULL},
    /* An option the command does not use. */
    {{"mlpio", "checkpointing", "datasize", "--verify", NULL},
     "option '--verify' is not used by 'mlpio checkpointing datasize'",
     "only run uses it"},
    {{"mlpio", "checkpointing", "configview", "--loops", "2", NULL},
     "option '--loops' is not used by 'mlpio checkpointing configview'",
     NULL},
    {{"mlpio", "training", "datasize", "--closed", NULL},
     "option '--closed' is not used by 'mlpio training datasize'",
     "only datagen, run use it"},
    {{"mlpio", "training", "run", "-ma", "8", NULL},
     "option '-ma' is not used by 'mlpio training run'",
     "only datasize uses it"},
    {{"mlpio", "kvcache", "run", "-cm", "64", NULL},
     "option '-cm' is not used by 'mlpio kvcache run'",
     "no kvcache command uses it"},
    {{"mlpio", "kvcache", "datasize", "--trials", "3", NULL},
     "option '--trials' is not used by 'mlpio kvcache datasize'",
     "only run, configview use it"},
};

static void test_errors(void **state)
{
    for (size_t i = 0; i < N(errors); i++) {
        const struct error_case *c = &errors[i];
        struct mlpio_cli cli;
        struct mlpio_error err = {0};
        if (parse(c->args, &cli, &err) != -1)
            fail_msg("case %zu (%s %s) accepted", i, c->args[1] ? c->args[1] : "",
                     c->args[1] && c->args[2] ? c->args[2] : "");
        if (err.category != MLPIO_ERR_USAGE)
            fail_msg("case %zu: category %s", i, mlpio_errcat_name(err.category));
        if (!strstr(err.message, c->message))
            fail_msg("case %zu: message '%s' lacks '%s'", i, err.message, c->message);
        if (c->hint && !strstr(err.hint, c->hint))
            fail_msg("case %zu: hint '%s' lacks '%s'", i, err.hint, c->hint);
        if (!c->hint && strstr(err.hint, "did you mean"))
            fail_msg("case %zu: unexpected suggestion '%s'", i, err.hint);
        /* Only a --params mistake is fixed with --params. */
        bool params = false;
        for (int k = 0; c->args[k]; k++)
            params |= strcmp(c->args[k], "-p") == 0 || strncmp(c->args[k], "--params", 8) == 0;
        if (!params && strstr(err.hint, "--params"))
            fail_msg("case %zu: hint '%s' points at --params", i, err.hint);
        assert_int_equal(mlpio_exit_code(err.category), MLPIO_EXIT_USAGE);
        mlpio_cli_free(&cli); /* the cli is freeable after any error */
    }
}

static void test_exit_codes(void **state)
{
    static const struct {
        enum mlpio_errcat cat;
        int code;
    } cases[] = {
        {MLPIO_ERR_NONE, 0},        {MLPIO_ERR_USAGE, 2},         {MLPIO_ERR_CONFIG, 2},
        {MLPIO_ERR_UNSUPPORTED, 2}, {MLPIO_ERR_RULES, 3},         {MLPIO_ERR_IO, 4},
        {MLPIO_ERR_VERIFY, 5},      {MLPIO_ERR_INTERRUPTED, 130}, {MLPIO_ERR_INTERNAL, 1},
    };
    for (size_t i = 0; i < N(cases); i++)
        assert_int_equal(mlpio_exit_code(cases[i].cat), cases[i].code);
    assert_int_equal(mlpio_exit_code((enum mlpio_errcat)99), MLPIO_EXIT_INTERNAL);

    static const int codes[] = {0, 1, 2, 3, 4, 5, 130};
    for (size_t i = 0; i < N(codes); i++)
        for (size_t j = i + 1; j < N(codes); j++)
            assert_string_not_equal(mlpio_exit_name(codes[i]), mlpio_exit_name(codes[j]));
    assert_string_equal(mlpio_exit_name(0), "success");
    assert_string_equal(mlpio_exit_name(4), "I/O error");
    assert_string_equal(mlpio_exit_name(77), mlpio_exit_name(1));
}

static void test_options_json(void **state)
{
    struct mlpio_cli cli;
    const char *plain[] = {"mlpio", "checkpointing", "run", NULL};
    parse_ok(plain, &cli);
    cJSON *o = mlpio_cli_options_json(&cli);
    assert_string_equal(cJSON_GetObjectItem(o, "division_requested")->valuestring, "any");
    assert_true(cJSON_GetObjectItem(o, "scale")->valuedouble == 1.0);
    assert_string_equal(cJSON_GetObjectItem(o, "io_api")->valuestring, "posix");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "odirect")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "verify")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "what_if")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "allow_invalid_params")));
    assert_int_equal(cJSON_GetObjectItem(o, "loops")->valueint, 1);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "seed")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "client_host_memory_GB")));
    assert_string_equal(cJSON_GetObjectItem(o, "results_dir")->valuestring, "mlpio_results");
    assert_null(cJSON_GetObjectItem(o, "config_file"));
    cJSON_Delete(o);
    mlpio_cli_free(&cli);

    const char *full[] = {"mlpio",
                          "checkpointing",
                          "run",
                          "--closed",
                          "--scale",
                          "0.125",
                          "--io-api",
                          "null",
                          "--odirect",
                          "--verify",
                          "--what-if",
                          "--allow-invalid-params",
                          "--loops",
                          "7",
                          "--seed",
                          "99",
                          "-cm",
                          "256",
                          "-rd",
                          "out",
                          "--config-file",
                          "my.json",
                          NULL};
    parse_ok(full, &cli);
    o = mlpio_cli_options_json(&cli);
    assert_string_equal(cJSON_GetObjectItem(o, "division_requested")->valuestring, "closed");
    assert_true(cJSON_GetObjectItem(o, "scale")->valuedouble == 0.125);
    assert_string_equal(cJSON_GetObjectItem(o, "io_api")->valuestring, "null");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "odirect")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "verify")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "what_if")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "allow_invalid_params")));
    assert_int_equal(cJSON_GetObjectItem(o, "loops")->valueint, 7);
    assert_int_equal(cJSON_GetObjectItem(o, "seed")->valueint, 99);
    assert_true(cJSON_GetObjectItem(o, "client_host_memory_GB")->valuedouble == 256);
    assert_string_equal(cJSON_GetObjectItem(o, "results_dir")->valuestring, "out");
    assert_string_equal(cJSON_GetObjectItem(o, "config_file")->valuestring, "my.json");
    cJSON_Delete(o);

    cJSON *a = mlpio_cli_argv_json(&cli);
    assert_int_equal(cJSON_GetArraySize(a), (int)(N(full) - 1));
    for (int i = 0; i < cJSON_GetArraySize(a); i++)
        assert_string_equal(cJSON_GetArrayItem(a, i)->valuestring, full[i]);
    cJSON_Delete(a);
    mlpio_cli_free(&cli);
}

/* Help printed into memory. Not inlined: GCC then takes pointers into the text for pointers to
 * the local that open_memstream fills (a false -Wdangling-pointer). */
__attribute__((noinline)) static char *
capture(void (*print)(FILE *, const struct mlpio_workload *, const struct mlpio_command *),
        const struct mlpio_workload *w, const struct mlpio_command *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    print(f, w, c);
    fclose(f);
    return text;
}

static void print_top(FILE *f, const struct mlpio_workload *w, const struct mlpio_command *c)
{
    mlpio_cli_help_top(f);
}

static void print_workload(FILE *f, const struct mlpio_workload *w, const struct mlpio_command *c)
{
    mlpio_cli_help_workload(f, w);
}

static void assert_contains(const char *text, const char *what)
{
    if (!strstr(text, what))
        fail_msg("help lacks '%s':\n%s", what, text);
}

static void assert_exit_codes_listed(const char *text)
{
    static const int codes[] = {0, 1, 2, 3, 4, 5, 130};
    for (size_t i = 0; i < N(codes); i++) {
        char line[96];
        snprintf(line, sizeof(line), "  %-4d %s\n", codes[i], mlpio_exit_name(codes[i]));
        assert_contains(text, line);
    }
}

static void test_help_command(void **state)
{
    const struct mlpio_workload *w = mlpio_workload_find("checkpointing");
    assert_non_null(w);
    const struct mlpio_command *run = mlpio_workload_command(w, "run");
    assert_non_null(run);
    char *text = capture(mlpio_cli_help_command, w, run);
    assert_contains(text, "mlpio checkpointing run [options]");
    for (int i = 0; w->options[i].name; i++) {
        char left[96];
        /* Options of other commands only (datasize's --ranks) are not listed for run. */
        if (w->options[i].commands && !strstr(w->options[i].commands, "run"))
            continue;
        snprintf(left, sizeof(left), "--%s, -%s %s", w->options[i].name, w->options[i].alias,
                 w->options[i].metavar);
        assert_contains(text, left);
        assert_contains(text, w->options[i].config_key);
    }
    static const char *const universal[] = {"--model, -m NAME",
                                            "--results-dir, -rd DIR",
                                            "--params, -p KEY=VALUE",
                                            "--config-file FILE",
                                            "--closed",
                                            "--open",
                                            "--what-if",
                                            "--allow-invalid-params",
                                            "--loops N",
                                            "--seed N",
                                            "--scale F",
                                            "--client-host-memory-in-gb, -cm GB",
                                            "--io-api API",
                                            "--odirect",
                                            "--verify",
                                            "--debug",
                                            "--verbose, -v",
                                            "--quiet, -q",
                                            "--help, -h"};
    for (size_t i = 0; i < N(universal); i++)
        assert_contains(text, universal[i]);
    assert_contains(text, "Parameters (--params KEY=VALUE;");
    for (int i = 0; i < w->nparams; i++) {
        char expected[160];
        assert_contains(text, w->params[i].key);
        mlpio_params_describe(&w->params[i], expected, sizeof(expected));
        assert_contains(text, expected);
    }
    assert_exit_codes_listed(text);
    free(text);
}

static void test_help_top_and_workload(void **state)
{
    const struct mlpio_workload *w = mlpio_workload_find("checkpointing");
    char *text = capture(print_top, NULL, NULL);
    assert_contains(text, "Usage: mpirun -np N mlpio <benchmark> <command> [options]");
    for (const struct mlpio_workload *const *ws = mlpio_workloads(); *ws; ws++)
        assert_contains(text, (*ws)->name);
    assert_exit_codes_listed(text);
    free(text);

    text = capture(print_workload, w, NULL);
    assert_contains(text, "mlpio checkpointing <command>");
    for (int i = 0; w->commands[i].name; i++) {
        assert_contains(text, w->commands[i].name);
        assert_contains(text, w->commands[i].summary);
    }
    free(text);
}

static char *help_of(const struct mlpio_workload *w, const struct mlpio_command *c)
{
    return capture(mlpio_cli_help_command, w, c);
}

/* The help line that starts with "  <start>" followed by a space or comma, and the line after
 * it, copied into buf (NULL when there is no such line). */
static const char *option_lines(const char *text, const char *start, char *buf, size_t len)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "\n  %s", start);
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) {
        char next = p[strlen(needle)];
        if (next != ' ' && next != ',' && next != '\n')
            continue;
        const char *end = strchr(p + 1, '\n');
        end = end ? strchr(end + 1, '\n') : NULL;
        size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);
        snprintf(buf, len, "%.*s", (int)n, p + 1);
        return buf;
    }
    return NULL;
}

static void assert_option_says(const char *text, const char *option, const char *what)
{
    char lines[1024];
    if (!option_lines(text, option, lines, sizeof(lines)))
        fail_msg("help lacks option %s:\n%s", option, text);
    if (!strstr(lines, what))
        fail_msg("help of %s lacks '%s':\n%s", option, what, lines);
}

/* The definition a command's help takes its defaults from: the one its header names ("defaults:
 * those of model M on V"), so a help that showed another definition's defaults would fail. */
static cJSON *reference_of(const struct mlpio_workload *w, const char *help)
{
    struct mlpio_error err = {0};
    char header[160], variant[64] = "";
    snprintf(header, sizeof(header), "(defaults: those of model %s on ", w->default_model);
    const char *on = strstr(help, header);
    if (on)
        sscanf(on + strlen(header), "%63[^)]", variant);
    if (w->default_variant && !variant[0])
        fail_msg("%s: the help does not name the accelerator its defaults are of", w->name);
    cJSON *ref = mlpio_config_reference_variant(w->name, w->default_model,
                                                variant[0] ? variant : NULL, &err);
    if (!ref)
        fail_msg("no definition of %s's default model: %s", w->name, err.message);
    return ref;
}

/* Every option and parameter shows its default, taken from the default model's definition. */
static void test_help_defaults(void **state)
{
    (void)state;
    for (const struct mlpio_workload *const *ws = mlpio_workloads(); *ws; ws++) {
        const struct mlpio_workload *w = *ws;
        for (const struct mlpio_command *c = w->commands; c->name; c++) {
            char *text = help_of(w, c);
            cJSON *ref = reference_of(w, text);
            for (const struct mlpio_cli_option *o = w->options; o->name; o++) {
                char opt[96], want[160] = "default ";
                snprintf(opt, sizeof(opt), "--%s", o->name);
                if (!strstr(text, opt) || (!o->metavar && !o->config_key))
                    continue;
                const struct mlpio_param_spec *spec =
                    o->config_key ? mlpio_params_find(w->params, w->nparams, o->config_key) : NULL;
                if (o->dflt)
                    snprintf(want + 8, sizeof(want) - 8, "%s", o->dflt);
                else if (spec)
                    mlpio_params_value_text(spec, mlpio_json_get_path(ref, o->config_key), want + 8,
                                            sizeof(want) - 8);
                assert_option_says(text, opt, want);
            }
            for (int i = 0; i < w->nparams; i++) {
                char want[160] = "default ", line[512];
                mlpio_params_value_text(&w->params[i], mlpio_json_get_path(ref, w->params[i].key),
                                        want + 8, sizeof(want) - 8);
                assert_non_null(option_lines(text, w->params[i].key, line, sizeof(line)));
                *strchr(line, '\n') = '\0';
                if (!strstr(line, want))
                    fail_msg("%s %s: parameter line lacks '%s': %s", w->name, c->name, want, line);
            }
            free(text);
            cJSON_Delete(ref);
        }
    }
    /* The figures a user asked for, spelled out. */
    const struct mlpio_workload *ck = mlpio_workload_find("checkpointing");
    char *text = help_of(ck, mlpio_workload_command(ck, "run"));
    assert_option_says(text, "--num-checkpoints-write", "an integer from 0 to 1000; default 10");
    assert_option_says(text, "--num-checkpoints-read", "default 10");
    assert_option_says(text, "--model", "default llama3-8b");
    assert_option_says(text, "--model", "llama3-405b");
    assert_option_says(text, "--loops", "an integer from 1 to 1000; default 1");
    assert_option_says(text, "--scale", "default 1");
    assert_option_says(text, "--io-api", "one of posix|mpiio|null");
    assert_option_says(text, "--results-dir", "default mlpio_results");
    assert_option_says(text, "checkpoint.time_between_checkpoints", "default 5 s");
    assert_option_says(text, "checkpoint.transfer_size", "default 16M");
    free(text);
    const struct mlpio_workload *kv = mlpio_workload_find("kvcache");
    text = help_of(kv, mlpio_workload_command(kv, "run"));
    assert_option_says(text, "--num-users", "an integer from 1 to 1000000; default 20");
    assert_option_says(text, "--duration", "default 60 s");
    assert_option_says(text, "--cache-dir", "default kvcache");
    assert_option_says(text, "--cpu-mem-gb", "default 0 GiB");
    assert_option_says(text, "--generation-mode", "one of none|fast|realistic; default none");
    assert_option_says(text, "--disable-multi-turn", "sets false; default true");
    assert_option_says(text, "--option", "one of 1|2|3|all; default none");
    free(text);
    const struct mlpio_workload *tr = mlpio_workload_find("training");
    text = help_of(tr, mlpio_workload_command(tr, "datasize"));
    assert_option_says(text, "--accelerator-type",
                       "one of a100|b200|h100|mi355; default b200 for unet3d");
    assert_option_says(text, "--num-accelerators", "default the MPI world size");
    free(text);
}

/* A valid value for an option, so that parsing it fails only if the command does not use it. */
static const char *valid_value(const struct mlpio_workload *w, const char *name, char *buf,
                               size_t len)
{
    static const struct {
        const char *name, *value;
    } universal[] = {
        {"model", "llama3-8b"},
        {"results-dir", "r"},
        {"params", "model.name=x"},
        {"config-file", "c"},
        {"loops", "2"},
        {"seed", "1"},
        {"scale", "0.5"},
        {"client-host-memory-in-gb", "8"},
        {"io-api", "null"},
    };
    for (size_t i = 0; i < N(universal); i++)
        if (strcmp(universal[i].name, name) == 0)
            return universal[i].value;
    for (const struct mlpio_cli_option *o = w->options; o->name; o++) {
        if (strcmp(o->name, name) != 0)
            continue;
        if (o->presets)
            return o->presets[0].value;
        const char *choices = o->choices;
        const struct mlpio_param_spec *spec =
            o->config_key ? mlpio_params_find(w->params, w->nparams, o->config_key) : NULL;
        if (!choices && spec && spec->type == MLPIO_PARAM_ENUM)
            choices = mlpio_params_choices(spec);
        if (!choices && o->kind == MLPIO_OPT_VARIANT) /* the variants share/ defines */
            choices = w->default_variant;
        if (choices) {
            snprintf(buf, len, "%.*s", (int)strcspn(choices, "|"), choices);
            return buf;
        }
        if (spec && spec->type == MLPIO_PARAM_BOOL)
            return "true";
        if (spec && spec->type == MLPIO_PARAM_STRING)
            return "x";
        if (spec) {
            snprintf(buf, len, "%.17g", spec->min);
            return buf;
        }
        return "1";
    }
    return "1";
}

/* A command's help lists exactly the options it takes: each listed option parses, each other
 * one is refused as not used by the command. */
static void test_help_lists_what_a_command_uses(void **state)
{
    (void)state;
    for (const struct mlpio_workload *const *ws = mlpio_workloads(); *ws; ws++) {
        const struct mlpio_workload *w = *ws;
        const char *names[64];
        int n = 0;
        const char *const all[] = {"model",   "results-dir", "params",  "config-file",
                                   "closed",  "open",        "what-if", "allow-invalid-params",
                                   "loops",   "seed",        "scale",   "client-host-memory-in-gb",
                                   "io-api",  "odirect",     "verify",  "debug",
                                   "verbose", "quiet"};
        for (size_t i = 0; i < N(all); i++)
            names[n++] = all[i];
        for (const struct mlpio_cli_option *o = w->options; o->name; o++)
            names[n++] = o->name;
        for (const struct mlpio_command *c = w->commands; c->name; c++) {
            char *text = help_of(w, c);
            for (int i = 0; i < n; i++) {
                char opt[96], buf[64], lines[1024];
                snprintf(opt, sizeof(opt), "--%s", names[i]);
                bool listed = option_lines(text, opt, lines, sizeof(lines)) != NULL;
                const char *value = valid_value(w, names[i], buf, sizeof(buf));
                char inline_opt[192];
                snprintf(inline_opt, sizeof(inline_opt), "%s=%s", opt, value);
                /* A flag refuses "=value": try it bare when that happens. */
                const char *args[] = {"mlpio", w->name, c->name, inline_opt, NULL};
                struct mlpio_cli cli;
                struct mlpio_error err = {0};
                int rc = parse(args, &cli, &err);
                mlpio_cli_free(&cli);
                if (rc < 0 && strstr(err.message, "takes no value")) {
                    const char *bare[] = {"mlpio", w->name, c->name, opt, NULL};
                    memset(&err, 0, sizeof(err));
                    rc = parse(bare, &cli, &err);
                    mlpio_cli_free(&cli);
                }
                bool unused = rc < 0 && strstr(err.message, "is not used by");
                if (rc < 0 && !unused)
                    fail_msg("%s %s %s: %s", w->name, c->name, inline_opt, err.message);
                if (listed == unused)
                    fail_msg("%s %s: %s is %s in the help but %s by the parser", w->name, c->name,
                             opt, listed ? "listed" : "not listed",
                             unused ? "refused" : "accepted");
            }
            free(text);
        }
    }
    const struct mlpio_workload *ck = mlpio_workload_find("checkpointing");
    char lines[1024];
    char *text = help_of(ck, mlpio_workload_command(ck, "datasize"));
    assert_null(option_lines(text, "--verify", lines, sizeof(lines)));
    assert_null(option_lines(text, "--num-checkpoints-read", lines, sizeof(lines)));
    free(text);
    text = help_of(ck, mlpio_workload_command(ck, "run"));
    assert_non_null(option_lines(text, "--verify", lines, sizeof(lines)));
    free(text);
    /* --help wins over an option the command does not use. */
    struct mlpio_cli cli;
    const char *args[] = {"mlpio", "checkpointing", "datasize", "--verify", "--help", NULL};
    parse_ok(args, &cli);
    assert_true(cli.help);
    mlpio_cli_free(&cli);
}

/* Split an example line into argv (examples hold no quotes); drop "mpirun -np N" and a pipe. */
static int example_argv(char *line, const char **argv, int max)
{
    int n = 0;
    char *pipe = strchr(line, '|');
    if (pipe)
        *pipe = '\0';
    for (char *tok = strtok(line, " "); tok && n < max - 1; tok = strtok(NULL, " "))
        argv[n++] = tok;
    argv[n] = NULL;
    if (n >= 3 && strcmp(argv[0], "mpirun") == 0 && strcmp(argv[1], "-np") == 0) {
        memmove(argv, argv + 3, sizeof(*argv) * (size_t)(n - 2));
        n -= 3;
    }
    return n;
}

/* Each example is in the help and is a command line that parses, of its benchmark (and
 * command). Returns how many there are. */
static int check_examples(const char *text, const char *examples, const struct mlpio_workload *w,
                          const struct mlpio_command *c)
{
    assert_non_null(examples);
    assert_contains(text, "\nExamples:\n");
    int count = 0;
    for (const char *p = examples; *p; count++) {
        size_t n = strcspn(p, "\n");
        char line[512], shown[520];
        snprintf(line, sizeof(line), "%.*s", (int)n, p);
        snprintf(shown, sizeof(shown), "  %s\n", line);
        assert_contains(text, shown);
        const char *argv[64];
        int argc = example_argv(line, argv, 64);
        assert_true(argc >= 3);
        assert_string_equal(argv[0], "mlpio");
        struct mlpio_cli cli;
        struct mlpio_error err = {0};
        if (mlpio_cli_parse(argc, (char **)argv, &cli, &err) < 0)
            fail_msg("example '%.*s' does not parse: %s", (int)n, p, err.message);
        assert_ptr_equal(cli.workload, w);
        if (c)
            assert_ptr_equal(cli.command, c);
        mlpio_cli_free(&cli);
        p += n;
        p += *p == '\n';
    }
    return count;
}

static void test_help_examples(void **state)
{
    (void)state;
    for (const struct mlpio_workload *const *ws = mlpio_workloads(); *ws; ws++) {
        const struct mlpio_workload *w = *ws;
        char *text = capture(print_workload, w, NULL);
        int n = check_examples(text, w->examples, w, NULL);
        assert_true(n >= 1 && n <= 2);
        free(text);
        for (const struct mlpio_command *c = w->commands; c->name; c++) {
            text = help_of(w, c);
            n = check_examples(text, c->examples, w, c);
            assert_true(n >= 1 && n <= 2);
            free(text);
        }
    }
}

static bool is_run_id(const char *s)
{
    for (int i = 0; i < 15; i++)
        if (i == 8 ? s[i] != '_' : !isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Measuring commands name the layout of their run directories, the one rundir.c makes. */
static void test_help_results_layout(void **state)
{
    (void)state;
    for (const struct mlpio_workload *const *ws = mlpio_workloads(); *ws; ws++)
        for (const struct mlpio_command *c = (*ws)->commands; c->name; c++) {
            char *text = help_of(*ws, c);
            bool shown = strstr(text, MLPIO_CLI_RESULTS_LAYOUT) != NULL;
            if (shown != ((c->flags & MLPIO_CMD_MEASURE) != 0))
                fail_msg("%s %s: results layout %s", (*ws)->name, c->name,
                         shown ? "shown for a command that writes none" : "missing");
            if (shown) {
                char e_g[256];
                snprintf(e_g, sizeof(e_g), "e.g. mlpio_results/%s/%s/%s/", (*ws)->name,
                         (*ws)->default_model, c->name);
                const char *eg = strstr(text, e_g);
                assert_non_null(eg);
                assert_true(is_run_id(eg + strlen(e_g)));
            }
            free(text);
        }
    char dir[PATH_MAX], want[PATH_MAX + 64], id[32];
    scratch_make_or_fail(dir, sizeof(dir), false, "mlpio-cli");
    struct mlpio_error err = {0};
    char *path =
        mlpio_rundir_create(dir, "checkpointing", "llama3-8b", "run", time(NULL), id, &err);
    assert_non_null(path);
    snprintf(want, sizeof(want), "%s/checkpointing/llama3-8b/run/%s", dir, id);
    assert_string_equal(path, want);
    assert_int_equal(strlen(id), 15);
    assert_true(is_run_id(id));
    free(path);
    scratch_remove(dir);
}

static const char *fixture_of(const char *benchmark)
{
    if (strcmp(benchmark, "checkpointing") == 0)
        return "closed_8b.json";
    if (strcmp(benchmark, "training") == 0)
        return "closed_unet3d.json";
    return "closed_option2.json";
}

/* A value of spec's type other than cur, within its range. */
static cJSON *changed_value(const struct mlpio_param_spec *spec, const cJSON *cur)
{
    switch (spec->type) {
    case MLPIO_PARAM_BOOL:
        return cJSON_CreateBool(!cJSON_IsTrue(cur));
    case MLPIO_PARAM_STRING: {
        char text[512];
        snprintf(text, sizeof(text), "%sx", cJSON_IsString(cur) ? cur->valuestring : "");
        return cJSON_CreateString(text);
    }
    case MLPIO_PARAM_ENUM: {
        char choice[64];
        for (const char *p = mlpio_params_choices(spec); *p;) {
            size_t n = strcspn(p, "|");
            snprintf(choice, sizeof(choice), "%.*s", (int)n, p);
            if (!cJSON_IsString(cur) || strcmp(choice, cur->valuestring) != 0)
                return cJSON_CreateString(choice);
            p += n + (p[n] == '|');
        }
        return NULL;
    }
    default: {
        double v = cJSON_IsNumber(cur) ? cur->valuedouble : spec->min;
        double up = spec->type == MLPIO_PARAM_SIZE ? v * 2 : v + 1;
        if (spec->type == MLPIO_PARAM_NUMBER && spec->max <= 1)
            up = (v + spec->max) / 2 == v ? (v + spec->min) / 2 : (v + spec->max) / 2;
        return cJSON_CreateNumber(up <= spec->max ? up : v / 2);
    }
    }
}

/* The run judged with key changed to value (as a --params override). */
static enum mlpio_verdict judged_with(const struct mlpio_workload *w, const char *key, cJSON *value)
{
    char path[PATH_MAX], sub[64];
    snprintf(sub, sizeof(sub), "runs/%s", w->name);
    struct mlpio_error err = {0};
    cJSON *run =
        mlpio_json_read_file(fixture_path(path, sizeof(path), sub, fixture_of(w->name)), &err);
    assert_non_null(run);
    cJSON *config = cJSON_GetObjectItem(run, "config");
    cJSON *overrides = cJSON_GetObjectItem(run, "overrides");
    cJSON *reference = NULL, *o;
    int index = 0, found = -1;
    cJSON_ArrayForEach(o, overrides)
    {
        if (strcmp(cJSON_GetObjectItem(o, "key")->valuestring, key) == 0) {
            found = index;
            reference = cJSON_Duplicate(cJSON_GetObjectItem(o, "reference"), 1);
        }
        index++;
    }
    if (found >= 0)
        cJSON_DeleteItemFromArray(overrides, found);
    else
        reference = cJSON_Duplicate(mlpio_json_get_path(config, key), 1);
    cJSON *entry = cJSON_CreateObject();
    cJSON_AddStringToObject(entry, "key", key);
    cJSON_AddItemToObject(entry, "value", cJSON_Duplicate(value, 1));
    cJSON_AddItemToObject(entry, "reference", reference ? reference : cJSON_CreateNull());
    cJSON_AddStringToObject(entry, "source", "params");
    cJSON_AddItemToArray(overrides, entry);
    assert_int_equal(mlpio_json_set_path(config, key, value), 0);
    struct mlpio_verdict_report *v = mlpio_verdict_create();
    assert_non_null(v);
    mlpio_rules_checker_fn check = mlpio_rules_run_checker(w->name);
    assert_non_null(check);
    if (check(run, v, &err) < 0)
        fail_msg("%s with %s changed: %s", w->name, key, err.message);
    enum mlpio_verdict verdict = mlpio_verdict_of(v);
    mlpio_verdict_destroy(&v);
    cJSON_Delete(run);
    return verdict;
}

/* The INVALID marks of the parameter tables agree with the rules, and the help shows them. */
static void test_help_invalid_marks(void **state)
{
    (void)state;
    for (const struct mlpio_workload *const *ws = mlpio_workloads(); *ws; ws++) {
        const struct mlpio_workload *w = *ws;
        char *text = help_of(w, mlpio_workload_command(w, "run"));
        char path[PATH_MAX], sub[64];
        snprintf(sub, sizeof(sub), "runs/%s", w->name);
        struct mlpio_error err = {0};
        cJSON *clean =
            mlpio_json_read_file(fixture_path(path, sizeof(path), sub, fixture_of(w->name)), &err);
        assert_non_null(clean);
        for (int i = 0; i < w->nparams; i++) {
            const struct mlpio_param_spec *p = &w->params[i];
            char line[512], mark[128];
            assert_non_null(option_lines(text, p->key, line, sizeof(line)));
            *strchr(line, '\n') = '\0';
            snprintf(mark, sizeof(mark), "INVALID %s", p->invalid ? p->invalid : "");
            if (p->invalid ? !strstr(line, mark) : strstr(line, "INVALID") != NULL)
                fail_msg("%s: help line '%s' %s '%s'", p->key, line, p->invalid ? "lacks" : "has",
                         p->invalid ? mark : "INVALID");
            /* A condition on the value is checked below, case by case. */
            if (p->invalid && strcmp(p->invalid, MLPIO_PARAM_IF_CHANGED) != 0)
                continue;
            cJSON *value =
                changed_value(p, mlpio_json_get_path(cJSON_GetObjectItem(clean, "config"), p->key));
            assert_non_null(value);
            enum mlpio_verdict v = judged_with(w, p->key, value);
            if (p->invalid && v != MLPIO_VERDICT_INVALID)
                fail_msg("%s is marked INVALID %s, but a change is judged %s", p->key, p->invalid,
                         mlpio_verdict_name(v));
            if (!p->invalid && v == MLPIO_VERDICT_INVALID)
                fail_msg("%s has no INVALID mark, but a change makes the run INVALID", p->key);
        }
        cJSON_Delete(clean);
        free(text);
    }
    /* Conditions on the value: one value that meets each, judged INVALID. */
    static const struct {
        const char *benchmark, *key, *value;
    } conditions[] = {
        {"checkpointing", "checkpoint.fsync", "false"},
        {"training", "reader.prefetch_size", "3"},
        {"training", "dataset.num_files_train", "100"},
        {"kvcache", "kvcache.duration", "10"},
    };
    for (size_t i = 0; i < N(conditions); i++) {
        const struct mlpio_workload *w = mlpio_workload_find(conditions[i].benchmark);
        const struct mlpio_param_spec *p =
            mlpio_params_find(w->params, w->nparams, conditions[i].key);
        assert_non_null(p);
        assert_non_null(p->invalid);
        struct mlpio_error err = {0};
        cJSON *value = mlpio_params_from_text(p, conditions[i].value, &err);
        assert_non_null(value);
        enum mlpio_verdict v = judged_with(w, p->key, value);
        if (v != MLPIO_VERDICT_INVALID)
            fail_msg("%s=%s (marked INVALID %s) is judged %s", p->key, conditions[i].value,
                     p->invalid, mlpio_verdict_name(v));
    }
}

/* Tools' help: dedup-check's options and exit codes, reports' HTML, watch's run-id form. */
static void test_help_tools(void **state)
{
    (void)state;
    const char *dedup = mlpio_tool_find("dedup-check")->usage;
    assert_contains(dedup, "Options:\n");
    assert_contains(dedup, "  --json ");
    assert_contains(dedup, "  --help, -h ");
    assert_contains(dedup, "Exit codes");
    static const char *const codes[] = {"\n  0  ", "\n  1  ", "\n  2  ", "\n  4  "};
    for (size_t i = 0; i < N(codes); i++)
        assert_contains(dedup, codes[i]);
    assert_contains(dedup, "Examples:\n");
    assert_contains(mlpio_tool_find("reports")->summary, "HTML");
    char *text = capture(print_top, NULL, NULL);
    assert_contains(text, "HTML report");
    free(text);
    const char *example = strstr(mlpio_watch_usage, "mlpio watch mlpio_results/");
    assert_non_null(example);
    const char *id = strstr(example, "/run/");
    assert_non_null(id);
    assert_true(is_run_id(id + 5));
}

static const char *find_override(const struct mlpio_cli *cli, const char *key, const char **source)
{
    for (int i = 0; i < cli->noverrides; i++)
        if (strcmp(cli->overrides[i].key, key) == 0) {
            if (source)
                *source = cli->overrides[i].source;
            return cli->overrides[i].value;
        }
    return NULL;
}

/* A flag takes no value and stands for its flag_value (kvcache's --disable-* are "false"). */
static void test_flags(void **state)
{
    (void)state;
    struct mlpio_cli cli;
    const char *args[] = {"mlpio", "kvcache", "run", "--disable-multi-turn", "--keep-cache", NULL};
    parse_ok(args, &cli);
    assert_string_equal(find_override(&cli, "kvcache.multi_turn", NULL), "false");
    assert_string_equal(find_override(&cli, "cache.keep", NULL), "true");
    mlpio_cli_free(&cli);
    struct mlpio_error err = {0};
    const char *bad[] = {"mlpio", "kvcache", "run", "--keep-cache=yes", NULL};
    assert_int_equal(parse(bad, &cli, &err), -1);
    assert_non_null(strstr(err.message, "takes no value"));
    mlpio_cli_free(&cli);
}

/* A preset picks the model and adds its values; agreeing values are fine, others refused. */
static void test_presets(void **state)
{
    (void)state;
    struct mlpio_cli cli;
    const char *source = NULL;
    const char *args[] = {"mlpio", "kvcache", "run", "--option", "3", "--cache-dir", "/x", NULL};
    parse_ok(args, &cli);
    assert_string_equal(cli.model, "llama3.1-70b-instruct");
    assert_string_equal(find_override(&cli, "kvcache.num_users", &source), "70");
    assert_string_equal(source, "preset");
    assert_string_equal(find_override(&cli, "kvcache.max_concurrent_allocs", NULL), "4");
    assert_string_equal(find_override(&cli, "cache.cache_dir", NULL), "/x");
    cJSON *o = mlpio_cli_options_json(&cli);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "preset"), "value")->valuestring,
                        "3");
    cJSON_Delete(o);
    mlpio_cli_free(&cli);

    const char *same[] = {"mlpio",    "kvcache", "run",     "-nu",         "100.0",
                          "--option", "2",       "--model", "llama3.1-8b", NULL};
    parse_ok(same, &cli);
    mlpio_cli_free(&cli);

    struct mlpio_error err = {0};
    const char *users[] = {"mlpio", "kvcache", "run", "--option", "1", "-nu", "5", NULL};
    assert_int_equal(parse(users, &cli, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_USAGE);
    assert_non_null(strstr(err.message, "--option 1 sets kvcache.num_users=200"));
    assert_non_null(strstr(err.message, "to 5"));
    mlpio_cli_free(&cli);
    memset(&err, 0, sizeof(err));
    const char *model[] = {"mlpio", "kvcache", "run", "--model", "tiny-1b", "--option", "1", NULL};
    assert_int_equal(parse(model, &cli, &err), -1);
    assert_non_null(strstr(err.message, "runs model llama3.1-8b"));
    mlpio_cli_free(&cli);
    memset(&err, 0, sizeof(err));
    const char *unknown[] = {"mlpio", "kvcache", "run", "--option", "4", NULL};
    assert_int_equal(parse(unknown, &cli, &err), -1);
    assert_non_null(strstr(err.message, "unknown value '4'"));
    mlpio_cli_free(&cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_long_options),
        cmocka_unit_test(test_inline_values),
        cmocka_unit_test(test_mlperf_aliases),
        cmocka_unit_test(test_params_several_words),
        cmocka_unit_test(test_levels_and_flags),
        cmocka_unit_test(test_help_without_command),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_options_json),
        cmocka_unit_test(test_help_command),
        cmocka_unit_test(test_help_top_and_workload),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_presets),
        cmocka_unit_test(test_help_defaults),
        cmocka_unit_test(test_help_lists_what_a_command_uses),
        cmocka_unit_test(test_help_examples),
        cmocka_unit_test(test_help_results_layout),
        cmocka_unit_test(test_help_invalid_marks),
        cmocka_unit_test(test_help_tools),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
