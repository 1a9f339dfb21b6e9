/* mlpio command line: see cli.h. */
#include "app/cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "app/subtree.h"
#include "app/tools.h"
#include "io/io.h"
#include "rules/edition.h"
#include "report/json_file.h"

enum opt_id {
    OPT_MODEL,
    OPT_RESULTS_DIR,
    OPT_PARAMS,
    OPT_CONFIG_FILE,
    OPT_CLOSED,
    OPT_OPEN,
    OPT_WHAT_IF,
    OPT_ALLOW_INVALID,
    OPT_LOOPS,
    OPT_SEED,
    OPT_SCALE,
    OPT_CLIENT_MEM,
    OPT_IO_API,
    OPT_RULES_EDITION,
    OPT_SYSTEM,
    OPT_ODIRECT,
    OPT_VERIFY,
    OPT_DEBUG,
    OPT_VERBOSE,
    OPT_QUIET,
    OPT_HELP,
};

#define LOOPS_MAX 1000
#define STR_(x) #x
#define STR(x) STR_(x)
#define DEFAULT_RESULTS_DIR "mlpio_results"
#define DEFAULT_IO_API "posix"

struct universal {
    enum opt_id id;
    const char *name, *alias, *metavar, *help;
    unsigned needs;      /* command flags (MLPIO_CMD_*) a command must have to use it */
    const char *accepts; /* what a value may be (for --help), or NULL */
    const char *dflt;    /* its default (for --help), or NULL */
};

/* Names follow MLPerf Storage's own CLI so its users feel at home. The division options are
 * taken by every measuring command, datagen too: datagen and run are given the same options.
 * --model and --io-api take their choices from the share/ definitions and the backend registry
 * when help is printed, as --odirect the backends that have it. */
static const struct universal universal[] = {
    {OPT_MODEL, "model", "m", "NAME", "model to emulate", 0, NULL, NULL},
    {OPT_RESULTS_DIR, "results-dir", "rd", "DIR", "where run directories go", MLPIO_CMD_MEASURE,
     "a directory (created if missing)", DEFAULT_RESULTS_DIR},
    {OPT_PARAMS, "params", "p", "KEY=VALUE",
     "override a config parameter (repeatable; dotted keys)", 0, "see Parameters below", NULL},
    {OPT_CONFIG_FILE, "config-file", NULL, "FILE", "JSON file merged over the model's definition",
     0, "a JSON object", "none"},
    {OPT_CLOSED, "closed", NULL, NULL, "require a CLOSED verdict: refuse to run otherwise",
     MLPIO_CMD_MEASURE, NULL, NULL},
    {OPT_OPEN, "open", NULL, NULL, "declare an OPEN run (INVALID is still refused)",
     MLPIO_CMD_MEASURE, NULL, NULL},
    {OPT_WHAT_IF, "what-if", NULL, NULL, "print what would run and its verdict; touch nothing",
     MLPIO_CMD_MEASURE, NULL, NULL},
    {OPT_ALLOW_INVALID, "allow-invalid-params", NULL, NULL,
     "run even if the verdict is INVALID (the result says so)", MLPIO_CMD_MEASURE, NULL, NULL},
    {OPT_LOOPS, "loops", NULL, "N", "repeat the run N times, each in its own run directory",
     MLPIO_CMD_MEASURE, "an integer from 1 to " STR(LOOPS_MAX), "1"},
    {OPT_SEED, "seed", NULL, "N",
     "derive the data salt from N: the same seed writes the same bytes", MLPIO_CMD_MEASURE,
     "a non-negative integer", "a random salt per run"},
    {OPT_SCALE, "scale", NULL, "F", "multiply every data size by F (F < 1 is OPEN)", 0,
     "a number > 0 and <= 1", "1"},
    {OPT_CLIENT_MEM, "client-host-memory-in-gb", "cm", "GB", "memory per client host", 0,
     "a number > 0", "measured"},
    {OPT_IO_API, "io-api", NULL, "API", "I/O backend", MLPIO_CMD_MEASURE, NULL, DEFAULT_IO_API},
    {OPT_RULES_EDITION, "rules-edition", NULL, "EDITION",
     "MLPerf Storage rules the run is judged by", 0, NULL, "the newest"},
    {OPT_SYSTEM, "system", NULL, "NAME",
     "the system under test, in a submission tree (mlpio init): results/NAME/", MLPIO_CMD_MEASURE,
     "letters, digits, '.', '_', '-'", "the tree's (mlpio init --system)"},
    {OPT_ODIRECT, "odirect", NULL, NULL, "bypass the page cache", MLPIO_CMD_MEASURE, NULL, NULL},
    {OPT_VERIFY, "verify", NULL, NULL, "check every byte read against what was written",
     MLPIO_CMD_MEASURE, NULL, NULL},
    {OPT_DEBUG, "debug", NULL, NULL, "per-rank diagnostics on stderr", 0, NULL, NULL},
    {OPT_VERBOSE, "verbose", "v", NULL, "more detail", 0, NULL, NULL},
    {OPT_QUIET, "quiet", "q", NULL, "errors and the verdict only", 0, NULL, NULL},
    {OPT_HELP, "help", "h", NULL, "show help for the level named before it", 0, NULL, NULL},
};
#define NUNIVERSAL (sizeof(universal) / sizeof(universal[0]))

static bool takes_value(enum opt_id id)
{
    switch (id) {
    case OPT_MODEL:
    case OPT_RESULTS_DIR:
    case OPT_PARAMS:
    case OPT_CONFIG_FILE:
    case OPT_LOOPS:
    case OPT_SEED:
    case OPT_SCALE:
    case OPT_CLIENT_MEM:
    case OPT_IO_API:
    case OPT_RULES_EDITION:
    case OPT_SYSTEM:
        return true;
    default:
        return false;
    }
}

int mlpio_exit_code(enum mlpio_errcat cat)
{
    switch (cat) {
    case MLPIO_ERR_NONE:
        return MLPIO_EXIT_OK;
    case MLPIO_ERR_USAGE:
    case MLPIO_ERR_CONFIG:
    case MLPIO_ERR_UNSUPPORTED:
        return MLPIO_EXIT_USAGE;
    case MLPIO_ERR_RULES:
        return MLPIO_EXIT_RULES;
    case MLPIO_ERR_IO:
        return MLPIO_EXIT_IO;
    case MLPIO_ERR_VERIFY:
        return MLPIO_EXIT_VERIFY;
    case MLPIO_ERR_INTERRUPTED:
        return MLPIO_EXIT_INTERRUPTED;
    case MLPIO_ERR_INTERNAL:
        return MLPIO_EXIT_INTERNAL;
    }
    return MLPIO_EXIT_INTERNAL;
}

const char *mlpio_exit_name(int code)
{
    switch (code) {
    case MLPIO_EXIT_OK:
        return "success";
    case MLPIO_EXIT_USAGE:
        return "usage or configuration error";
    case MLPIO_EXIT_RULES:
        return "refused by the rules";
    case MLPIO_EXIT_IO:
        return "I/O error";
    case MLPIO_EXIT_VERIFY:
        return "verification failure";
    case MLPIO_EXIT_INTERRUPTED:
        return "interrupted";
    default:
        return "internal error";
    }
}

static const char *canonical_key(const struct mlpio_workload *w, const char *key, size_t len)
{
    for (const struct mlpio_param_alias *a = w ? w->param_aliases : NULL; a && a->alias; a++)
        if (strlen(a->alias) == len && strncmp(a->alias, key, len) == 0)
            return a->key;
    return NULL;
}

static bool same_key(const struct mlpio_workload *w, const char *a, const char *b, size_t blen)
{
    const char *ca = canonical_key(w, a, strlen(a)), *cb = canonical_key(w, b, blen);
    if (!ca)
        ca = a;
    if (cb)
        return strcmp(ca, cb) == 0;
    return strlen(ca) == blen && strncmp(ca, b, blen) == 0;
}

/* option: the option as typed that gave the value ("-ncw", "--params"), or NULL (a preset). */
static int add_override(struct mlpio_cli *cli, const char *key, size_t keylen, const char *value,
                        const char *source, const char *option, struct mlpio_error *err)
{
    /* One key set twice on the command line is a contradiction, not "the last one wins". */
    for (int k = 0; option && k < cli->noverrides; k++) {
        const struct mlpio_override *o = &cli->overrides[k];
        if (!o->option || !same_key(cli->workload, o->key, key, keylen))
            continue;
        bool by_params = strstr(option, "params") != NULL;
        mlpio_error_set(err, MLPIO_ERR_USAGE,
                        "%.*s is set twice: by %s (%s), then by %s (%.*s%s%s)", (int)keylen, key,
                        o->option, o->value, option, by_params ? (int)keylen : 0, key,
                        by_params ? "=" : "", value);
        return mlpio_error_hint(err, "set %.*s once: drop one of the two", (int)keylen, key);
    }
    struct mlpio_override *grown =
        realloc(cli->overrides, sizeof(*grown) * (size_t)(cli->noverrides + 1));
    if (!grown)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory parsing options");
    cli->overrides = grown;
    struct mlpio_override *o = &cli->overrides[cli->noverrides];
    o->key = strndup(key, keylen);
    o->value = strdup(value);
    o->source = source;
    o->option = option ? strdup(option) : NULL;
    if (!o->key || !o->value || (option && !o->option)) {
        free(o->key);
        free(o->value);
        free(o->option);
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory parsing options");
    }
    cli->noverrides++;
    return 0;
}

static int add_param(struct mlpio_cli *cli, const char *typed, const char *kv,
                     struct mlpio_error *err)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "%s expects KEY=VALUE, got '%s'", typed, kv);
        return mlpio_error_hint(err, "for example: --params checkpoint.transfer_size=4M");
    }
    return add_override(cli, kv, (size_t)(eq - kv), eq + 1, "params", typed, err);
}

static int parse_int(const char *opt, const char *text, long min, long max, long *out,
                     struct mlpio_error *err)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end || errno || v < min || v > max) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "%s: expected an integer from %ld to %ld, got '%s'",
                        opt, min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_double(const char *opt, const char *text, double lo_excl, double hi, double *out,
                        struct mlpio_error *err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v) || v <= lo_excl || v > hi) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "%s: expected a number > %g and <= %g, got '%s'", opt,
                        lo_excl, hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int set_universal(struct mlpio_cli *cli, const struct universal *u, const char *typed,
                         const char *value, struct mlpio_error *err)
{
    long n;
    switch (u->id) {
    case OPT_MODEL:
        free(cli->model);
        return (cli->model = strdup(value)) ? 0 : -1;
    case OPT_RESULTS_DIR:
        free(cli->results_dir);
        return (cli->results_dir = strdup(value)) ? 0 : -1;
    case OPT_CONFIG_FILE:
        free(cli->config_file);
        return (cli->config_file = strdup(value)) ? 0 : -1;
    case OPT_PARAMS:
        return add_param(cli, typed, value, err);
    case OPT_CLOSED:
    case OPT_OPEN: {
        enum mlpio_division d = u->id == OPT_CLOSED ? MLPIO_DIVISION_CLOSED : MLPIO_DIVISION_OPEN;
        if (cli->division != MLPIO_DIVISION_ANY && cli->division != d)
            return mlpio_error_set(err, MLPIO_ERR_USAGE, "--closed and --open exclude each other");
        cli->division = d;
        return 0;
    }
    case OPT_WHAT_IF:
        cli->what_if = true;
        return 0;
    case OPT_ALLOW_INVALID:
        cli->allow_invalid = true;
        return 0;
    case OPT_LOOPS:
        if (parse_int(typed, value, 1, LOOPS_MAX, &n, err) < 0)
            return -1;
        cli->loops = (int)n;
        return 0;
    case OPT_SEED: {
        char *end = NULL;
        errno = 0;
        unsigned long long s = strtoull(value, &end, 10);
        if (end == value || *end || errno || value[0] == '-')
            return mlpio_error_set(err, MLPIO_ERR_USAGE,
                                   "%s: expected a non-negative integer, got '%s'", typed, value);
        cli->has_seed = true;
        cli->seed = s;
        return 0;
    }
    case OPT_SCALE:
        return parse_double(typed, value, 0.0, 1.0, &cli->scale, err);
    case OPT_CLIENT_MEM:
        return parse_double(typed, value, 0.0, 1e9, &cli->client_memory_gb, err);
    case OPT_IO_API:
        if (!mlpio_io_find(value))
            return mlpio_io_refuse_name(typed, value, err);
        free(cli->io_api);
        return (cli->io_api = strdup(value)) ? 0 : -1;
    case OPT_RULES_EDITION:
        if (mlpio_rules_edition_check(value, typed, err) < 0)
            return -1;
        free(cli->rules_edition);
        free(cli->system);
        return (cli->rules_edition = strdup(value)) ? 0 : -1;
    case OPT_SYSTEM:
        if (!mlpio_tree_name_ok(value)) {
            mlpio_error_set(err, MLPIO_ERR_USAGE,
                            "%s: \"%s\" is not a system name the submission checker accepts", typed,
                            value);
            return mlpio_error_hint(err, "use letters, digits, '.', '_' and '-' only");
        }
        free(cli->system);
        return (cli->system = strdup(value)) ? 0 : -1;
    case OPT_ODIRECT:
        cli->odirect = true;
        return 0;
    case OPT_VERIFY:
        cli->verify = true;
        return 0;
    case OPT_DEBUG:
        cli->level = MLPIO_LOG_DEBUG;
        return 0;
    case OPT_VERBOSE:
        if (cli->level < MLPIO_LOG_VERBOSE)
            cli->level = MLPIO_LOG_VERBOSE;
        return 0;
    case OPT_QUIET:
        cli->level = MLPIO_LOG_QUIET;
        return 0;
    case OPT_HELP:
        cli->help = true;
        return 0;
    }
    return 0;
}

static bool choice_ok(const char *choices, const char *value)
{
    size_t n = strlen(value);
    for (const char *p = choices; p && *p;) {
        const char *bar = strchrnul(p, '|');
        if ((size_t)(bar - p) == n && strncmp(p, value, n) == 0)
            return true;
        p = *bar ? bar + 1 : bar;
    }
    return false;
}

/* The values an option accepts ("a|b"), or NULL: any. A variant option that lists none
 * accepts the variants that share/ defines. */
static const char *option_choices(const struct mlpio_workload *w, const struct mlpio_cli_option *wo,
                                  char *buf, size_t len)
{
    if (wo->choices || wo->kind != MLPIO_OPT_VARIANT)
        return wo->choices;
    mlpio_config_variants(w->name, NULL, "|", buf, len);
    return buf[0] ? buf : NULL;
}

/* The variant (accelerator) a model runs on when none is given: the first of the edition's
 * CLOSED, then OPEN, then what-if accelerators that share/ defines the model for, so that a run
 * without -g is one its edition can accept; else the workload's own default. */
static const char *default_variant(const struct mlpio_workload *w, const char *model,
                                   const char *edition, char *buf, size_t len)
{
    char defined[256];
    mlpio_config_variants(w->name, model, "|", defined, sizeof(defined));
    const char *name = edition ? edition : mlpio_rules_edition_newest();
    const cJSON *ed = name ? mlpio_rules_edition_find(name) : NULL;
    const cJSON *section = ed ? cJSON_GetObjectItemCaseSensitive(ed, w->name) : NULL;
    static const char *const lists[] = {"closed.accelerators", "open.accelerators",
                                        "whatif_accelerators"};
    for (size_t i = 0; section && defined[0] && i < sizeof(lists) / sizeof(lists[0]); i++) {
        const cJSON *a;
        cJSON_ArrayForEach(a, mlpio_json_get_path(section, lists[i]))
        {
            if (cJSON_IsString(a) && choice_ok(defined, a->valuestring)) {
                snprintf(buf, len, "%s", a->valuestring);
                return buf;
            }
        }
    }
    return w->default_variant;
}

static const struct mlpio_preset *find_preset(const struct mlpio_cli_option *wo, const char *value)
{
    for (const struct mlpio_preset *p = wo->presets; p && p->value; p++)
        if (strcmp(p->value, value) == 0)
            return p;
    return NULL;
}

static int set_workload_option(struct mlpio_cli *cli, const struct mlpio_cli_option *wo,
                               const char *typed, const char *value, struct mlpio_error *err)
{
    if (wo->kind == MLPIO_OPT_PRESET) {
        const struct mlpio_preset *p = find_preset(wo, value);
        if (!p && strcmp(value, "all") == 0 && wo->presets && wo->presets->value) {
            cli->preset = NULL;
            cli->preset_all = true;
            cli->preset_by = wo;
            return 0;
        }
        if (!p) {
            mlpio_error_set(err, MLPIO_ERR_USAGE, "%s: unknown value '%s'", typed, value);
            return mlpio_error_hint(err, "'mlpio %s run --help' lists the values of --%s",
                                    cli->workload->name, wo->name);
        }
        cli->preset = p;
        cli->preset_all = false;
        cli->preset_by = wo;
        return 0;
    }
    char variants[256];
    const char *choices = option_choices(cli->workload, wo, variants, sizeof(variants));
    if (choices && !choice_ok(choices, value)) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "%s: unknown value '%s'", typed, value);
        return mlpio_error_hint(err, "choose one of %s", choices);
    }
    switch (wo->kind) {
    case MLPIO_OPT_CONFIG: {
        /* Checked here, where the option as typed is known, rather than after the merge. */
        const struct mlpio_param_spec *spec =
            mlpio_params_find(cli->workload->params, cli->workload->nparams, wo->config_key);
        cJSON *checked = spec ? mlpio_params_from_option(spec, value, typed, err) : NULL;
        if (spec && !checked) {
            if (err)
                err->category = MLPIO_ERR_USAGE;
            return -1;
        }
        cJSON_Delete(checked);
        return add_override(cli, wo->config_key, strlen(wo->config_key), value, "cli", typed, err);
    }
    case MLPIO_OPT_VARIANT:
        free(cli->variant);
        if (!(cli->variant = strdup(value)))
            return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory parsing options");
        return 0;
    case MLPIO_OPT_PRESET:
        return 0;
    case MLPIO_OPT_SETTING:
        if (!cli->settings && !(cli->settings = cJSON_CreateObject()))
            return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory parsing options");
        cJSON_DeleteItemFromObjectCaseSensitive(cli->settings, wo->name);
        if (!cJSON_AddStringToObject(cli->settings, wo->name, value))
            return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory parsing options");
        return 0;
    }
    return 0;
}

/* Every option name the user could have meant, for "did you mean". */
static const char *closest_option(const struct mlpio_workload *w, const char *name)
{
    const char *words[NUNIVERSAL * 2 + 64];
    int n = 0;
    for (size_t i = 0; i < NUNIVERSAL; i++)
        words[n++] = universal[i].name;
    for (int i = 0; w && w->options[i].name && n < (int)(sizeof(words) / sizeof(words[0])) - 1; i++)
        words[n++] = w->options[i].name;
    words[n] = NULL;
    return mlpio_params_suggest_word(words, name);
}

static const char *const *command_names(const struct mlpio_workload *w, const char **buf, int max)
{
    int n = 0;
    for (int i = 0; w->commands[i].name && n < max - 1; i++)
        buf[n++] = w->commands[i].name;
    buf[n] = NULL;
    return buf;
}

static int unknown_benchmark(const char *name, struct mlpio_error *err)
{
    const char *words[64];
    int n = 0;
    const struct mlpio_workload *const *ws = mlpio_workloads();
    for (int i = 0; ws[i] && n < 32; i++)
        words[n++] = ws[i]->name;
    for (const struct mlpio_tool *t = mlpio_tools(); t->name && n < 63; t++)
        words[n++] = t->name;
    words[n] = NULL;
    const char *near = mlpio_params_suggest_word(words, name);
    mlpio_error_set(err, MLPIO_ERR_USAGE, "unknown benchmark or command '%s'", name);
    if (near)
        return mlpio_error_hint(err, "did you mean '%s'? ('mlpio help' lists all)", near);
    return mlpio_error_hint(err, "'mlpio help' lists the benchmarks and commands");
}

/* Match "--name", "-alias" (MLPerf Storage uses single-dash multi-letter aliases) or
 * "--name=value". Returns the option text without dashes and the inline value, if any. */
static void split_option(const char *arg, char *name, size_t len, const char **inline_value)
{
    const char *p = arg + (arg[1] == '-' ? 2 : 1);
    const char *eq = strchr(p, '=');
    size_t n = eq ? (size_t)(eq - p) : strlen(p);
    if (n >= len)
        n = len - 1;
    memcpy(name, p, n);
    name[n] = '\0';
    *inline_value = eq ? eq + 1 : NULL;
}

/* Whether command c of w uses a universal option or a workload option. */
static bool universal_applies(const struct universal *u, const struct mlpio_workload *w,
                              const struct mlpio_command *c)
{
    if (w->universal_unused && choice_ok(w->universal_unused, u->name))
        return false;
    return (c->flags & u->needs) == u->needs;
}

static bool option_applies(const struct mlpio_cli_option *wo, const struct mlpio_command *c)
{
    return !wo->commands || choice_ok(wo->commands, c->name);
}

/* "run, datagen": the commands of w that use the option (u or wo). */
static void users_of(const struct mlpio_workload *w, const struct universal *u,
                     const struct mlpio_cli_option *wo, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; w->commands[i].name; i++) {
        const struct mlpio_command *c = &w->commands[i];
        if (u ? universal_applies(u, w, c) : option_applies(wo, c)) {
            size_t used = strlen(buf);
            snprintf(buf + used, len - used, "%s%s", used ? ", " : "", c->name);
        }
    }
}

static int not_used(const struct mlpio_cli *cli, const char *typed, const struct universal *u,
                    const struct mlpio_cli_option *wo, struct mlpio_error *err)
{
    const struct mlpio_workload *w = cli->workload;
    char users[256];
    users_of(w, u, wo, users, sizeof(users));
    mlpio_error_set(err, MLPIO_ERR_USAGE, "option '%s' is not used by 'mlpio %s %s'", typed,
                    w->name, cli->command->name);
    if (users[0])
        return mlpio_error_hint(err,
                                "drop it: only %s use%s it ('mlpio %s %s --help' lists the "
                                "options of %s)",
                                users, strchr(users, ',') ? "" : "s", w->name, cli->command->name,
                                cli->command->name);
    return mlpio_error_hint(err, "drop it: no %s command uses it", w->name);
}

/* A value option given before: repeating one is refused, naming both values. */
struct given {
    const void *option; /* a struct universal or a struct mlpio_cli_option */
    char typed[100];
    const char *value; /* in argv */
};

static int repeated(const struct given *g, const char *typed, const char *value, const char *name,
                    struct mlpio_error *err)
{
    mlpio_error_set(err, MLPIO_ERR_USAGE, "option --%s is given twice: %s %s, then %s %s", name,
                    g->typed, g->value, typed, value);
    return mlpio_error_hint(err, "give --%s once: keep the value you mean", name);
}

static int parse_options(int argc, char **argv, int i, struct mlpio_cli *cli,
                         struct mlpio_error *err)
{
    const struct mlpio_workload *w = cli->workload;
    struct given *seen = calloc((size_t)argc, sizeof(*seen));
    int nseen = 0, rc = -1;
    /* The first option the command does not use: refused after parsing, unless --help. */
    const struct universal *unused_u = NULL;
    const struct mlpio_cli_option *unused_wo = NULL;
    char unused_typed[100] = "";
    if (!seen)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory parsing options");
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') {
            mlpio_error_set(err, MLPIO_ERR_USAGE, "unexpected argument '%s'", arg);
            mlpio_error_hint(err, "options start with '-'; see 'mlpio %s %s --help'", w->name,
                             cli->command ? cli->command->name : "");
            goto out;
        }
        char name[96], typed[sizeof(name) + 2];
        const char *value;
        split_option(arg, name, sizeof(name), &value);
        /* The option as the user spelled it, for messages: "-ncw", "--num-checkpoints-write". */
        snprintf(typed, sizeof(typed), "%s%s", arg[1] == '-' ? "--" : "-", name);
        const struct universal *u = NULL;
        const struct mlpio_cli_option *wo = NULL;
        for (size_t k = 0; k < NUNIVERSAL && !u; k++)
            if (strcmp(name, universal[k].name) == 0 ||
                (universal[k].alias && strcmp(name, universal[k].alias) == 0))
                u = &universal[k];
        for (int k = 0; !u && !wo && w->options[k].name; k++)
            if (strcmp(name, w->options[k].name) == 0 ||
                (w->options[k].alias && strcmp(name, w->options[k].alias) == 0))
                wo = &w->options[k];
        if (!u && !wo) {
            const char *near = closest_option(w, name);
            mlpio_error_set(err, MLPIO_ERR_USAGE, "unknown option '%s' for '%s %s'", arg, w->name,
                            cli->command ? cli->command->name : "");
            if (near)
                mlpio_error_hint(err, "did you mean '--%s'?", near);
            else
                mlpio_error_hint(err, "see 'mlpio %s --help'", w->name);
            goto out;
        }
        /* Messages about a value name the option as typed, and its long name after an alias:
         * "-ncw/--num-checkpoints-write". */
        char label[sizeof(typed) + sizeof(name) + 3];
        if (arg[1] == '-')
            snprintf(label, sizeof(label), "%s", typed);
        else
            snprintf(label, sizeof(label), "%s/--%s", typed, u ? u->name : wo->name);
        /* A workload option without a metavar is a flag: present means "true". */
        bool needs = wo ? wo->metavar != NULL : takes_value(u->id);
        if (needs && !value) {
            if (i + 1 >= argc) {
                mlpio_error_set(err, MLPIO_ERR_USAGE, "option '%s' needs a value (%s)", arg,
                                wo ? wo->metavar : u->metavar);
                goto out;
            }
            value = argv[++i];
        } else if (!needs && value) {
            mlpio_error_set(err, MLPIO_ERR_USAGE, "option '%s' takes no value", arg);
            goto out;
        }
        if (cli->command && !unused_u && !unused_wo &&
            !(u ? universal_applies(u, w, cli->command) : option_applies(wo, cli->command))) {
            unused_u = u;
            unused_wo = wo;
            snprintf(unused_typed, sizeof(unused_typed), "%s", typed);
        }
        const void *option = u ? (const void *)u : (const void *)wo;
        const struct given *before = NULL;
        for (int k = 0; k < nseen && !before; k++)
            if (seen[k].option == option)
                before = &seen[k];
        if (u && u->id == OPT_PARAMS)
            before = NULL; /* repeatable: a key set twice is refused by add_override */
        if (before && !needs)
            continue; /* a flag twice says the same thing twice */
        if (before) {
            repeated(before, typed, value, u ? u->name : wo->name, err);
            goto out;
        }
        seen[nseen].option = option;
        seen[nseen].value = value;
        snprintf(seen[nseen].typed, sizeof(seen[nseen].typed), "%s", typed);
        nseen++;
        if (wo) {
            if (!needs)
                value = wo->flag_value ? wo->flag_value : "true";
            if (set_workload_option(cli, wo, label, value, err) < 0)
                goto out;
            continue;
        }
        if (set_universal(cli, u, label, value, err) < 0) {
            if (err && err->category == MLPIO_ERR_NONE)
                mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory parsing options");
            goto out;
        }
        /* MLPerf Storage accepts several KEY=VALUE words after one --params. */
        while (u->id == OPT_PARAMS && i + 1 < argc && argv[i + 1][0] != '-' &&
               strchr(argv[i + 1], '='))
            if (add_param(cli, label, argv[++i], err) < 0)
                goto out;
    }
    if ((unused_u || unused_wo) && !cli->help) {
        not_used(cli, unused_typed, unused_u, unused_wo, err);
        goto out;
    }
    rc = 0;
out:
    free(seen);
    return rc;
}

/* The preset's model and overrides join what the user gave; a contradiction is refused rather
 * than silently resolved, because a preset stands for a configuration the rules know. */
static int apply_preset(struct mlpio_cli *cli, struct mlpio_error *err)
{
    if (cli->preset_all && cli->model) {
        mlpio_error_set(err, MLPIO_ERR_USAGE,
                        "--%s all runs each option with its own model, but "
                        "--model says %s",
                        cli->preset_by->name, cli->model);
        return mlpio_error_hint(err, "drop --model, or run one option (--%s N)",
                                cli->preset_by->name);
    }
    const struct mlpio_preset *p = cli->preset;
    if (!p)
        return 0;
    const char *opt = cli->preset_by->name;
    if (p->model && cli->model && strcmp(cli->model, p->model) != 0) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "--%s %s runs model %s, but --model says %s", opt,
                        p->value, p->model, cli->model);
        return mlpio_error_hint(err, "drop --model, or drop --%s", opt);
    }
    if (p->model && !cli->model && !(cli->model = strdup(p->model)))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory parsing options");
    int given = cli->noverrides;
    for (const char *s = p->overrides; s && *s;) {
        size_t n = strcspn(s, " ");
        const char *eq = memchr(s, '=', n);
        if (!eq)
            return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "malformed preset entry '%.*s'", (int)n,
                                   s);
        size_t klen = (size_t)(eq - s);
        char value[128];
        snprintf(value, sizeof(value), "%.*s", (int)(n - klen - 1), eq + 1);
        for (int k = 0; k < given; k++) {
            const struct mlpio_override *o = &cli->overrides[k];
            if (strlen(o->key) != klen || strncmp(o->key, s, klen) != 0)
                continue;
            char *end = NULL;
            double a = strtod(o->value, &end);
            bool same = strcmp(o->value, value) == 0 ||
                        (end != o->value && !*end && a == strtod(value, NULL));
            if (!same) {
                mlpio_error_set(err, MLPIO_ERR_USAGE,
                                "--%s %s sets %s=%s, but the command line sets it to %s", opt,
                                p->value, o->key, value, o->value);
                return mlpio_error_hint(err,
                                        "the option fixes this value; drop the override, or "
                                        "drop --%s and give every value yourself",
                                        opt);
            }
        }
        if (add_override(cli, s, klen, value, "preset", NULL, err) < 0)
            return -1;
        s += n;
        s += strspn(s, " ");
    }
    return 0;
}

int mlpio_cli_parse(int argc, char **argv, struct mlpio_cli *cli, struct mlpio_error *err)
{
    memset(cli, 0, sizeof(*cli));
    cli->loops = 1;
    cli->scale = 1.0;
    cli->level = MLPIO_LOG_NORMAL;
    cli->argc = argc;
    cli->argv = argv;
    if (argc < 2)
        return mlpio_error_set(err, MLPIO_ERR_USAGE, "no benchmark given"),
               mlpio_error_hint(err, "try 'mlpio help'");
    cli->workload = mlpio_workload_find(argv[1]);
    if (!cli->workload)
        return unknown_benchmark(argv[1], err);
    int i = 2;
    if (i < argc && argv[i][0] != '-') {
        cli->command = mlpio_workload_command(cli->workload, argv[i]);
        if (!cli->command) {
            const char *buf[32];
            const char *near =
                mlpio_params_suggest_word(command_names(cli->workload, buf, 32), argv[i]);
            mlpio_error_set(err, MLPIO_ERR_USAGE, "unknown command '%s' for benchmark '%s'",
                            argv[i], cli->workload->name);
            if (near)
                return mlpio_error_hint(err, "did you mean '%s'?", near);
            return mlpio_error_hint(err, "see 'mlpio %s --help'", cli->workload->name);
        }
        i++;
    }
    if (parse_options(argc, argv, i, cli, err) < 0 || apply_preset(cli, err) < 0)
        return -1;
    if (!cli->command && !cli->help) {
        mlpio_error_set(err, MLPIO_ERR_USAGE, "no command given for benchmark '%s'",
                        cli->workload->name);
        return mlpio_error_hint(err, "see 'mlpio %s --help'", cli->workload->name);
    }
    if (!cli->model && cli->workload->default_model)
        cli->model = strdup(cli->workload->default_model);
    char chosen[64];
    const char *variant =
        cli->workload->default_variant
            ? default_variant(cli->workload, cli->model, cli->rules_edition, chosen, sizeof(chosen))
            : NULL;
    if (!cli->variant && variant)
        cli->variant = strdup(variant);
    if (!cli->results_dir)
        cli->results_dir = strdup(DEFAULT_RESULTS_DIR);
    if (!cli->io_api)
        cli->io_api = strdup(DEFAULT_IO_API);
    if (!cli->results_dir || !cli->io_api)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory parsing options");
    /* The backend says which options it cannot honour; here they are a usage error, in the
     * words of the command line, before anything is created. */
    struct mlpio_io_options want = {.odirect = cli->odirect};
    if (mlpio_io_check(mlpio_io_find(cli->io_api), &want, err) < 0) {
        err->category = MLPIO_ERR_USAGE;
        if (cli->odirect)
            return mlpio_error_prefix(err, "--odirect is not available with --io-api %s",
                                      cli->io_api);
        return mlpio_error_prefix(err, "--io-api %s", cli->io_api);
    }
    return 0;
}

void mlpio_cli_free(struct mlpio_cli *cli)
{
    if (!cli)
        return;
    for (int i = 0; i < cli->noverrides; i++) {
        free(cli->overrides[i].key);
        free(cli->overrides[i].value);
        free(cli->overrides[i].option);
    }
    free(cli->overrides);
    free(cli->variant);
    cJSON_Delete(cli->settings);
    free(cli->model);
    free(cli->results_dir);
    free(cli->config_file);
    free(cli->io_api);
    free(cli->rules_edition);
    free(cli->system);
    memset(cli, 0, sizeof(*cli));
}

cJSON *mlpio_cli_options_json(const struct mlpio_cli *cli)
{
    static const char *division[] = {"any", "open", "closed"};
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "division_requested", division[cli->division]);
    cJSON_AddNumberToObject(o, "scale", cli->scale);
    cJSON_AddStringToObject(o, "io_api", cli->io_api ? cli->io_api : DEFAULT_IO_API);
    cJSON_AddBoolToObject(o, "odirect", cli->odirect);
    cJSON_AddBoolToObject(o, "verify", cli->verify);
    cJSON_AddBoolToObject(o, "what_if", cli->what_if);
    cJSON_AddBoolToObject(o, "allow_invalid_params", cli->allow_invalid);
    cJSON_AddNumberToObject(o, "loops", cli->loops);
    if (cli->has_seed)
        cJSON_AddNumberToObject(o, "seed", (double)cli->seed);
    else
        cJSON_AddNullToObject(o, "seed");
    if (cli->client_memory_gb > 0)
        cJSON_AddNumberToObject(o, "client_host_memory_GB", cli->client_memory_gb);
    else
        cJSON_AddNullToObject(o, "client_host_memory_GB");
    cJSON_AddStringToObject(o, "results_dir", cli->results_dir ? cli->results_dir : "");
    if (cli->system)
        cJSON_AddStringToObject(o, "system", cli->system);
    if (cli->config_file)
        cJSON_AddStringToObject(o, "config_file", cli->config_file);
    if (cli->variant)
        cJSON_AddStringToObject(o, "variant", cli->variant);
    if (cli->sequence_count) {
        cJSON *q = cJSON_AddObjectToObject(o, "option_sequence");
        cJSON_AddStringToObject(q, "id", cli->sequence_id);
        cJSON_AddNumberToObject(q, "position", cli->sequence_position);
        cJSON_AddNumberToObject(q, "count", cli->sequence_count);
        cJSON_AddNumberToObject(q, "delay_s", cli->sequence_delay);
        cJSON_AddNumberToObject(q, "waited_s", cli->sequence_waited);
    }
    if (cli->preset) {
        cJSON *p = cJSON_AddObjectToObject(o, "preset");
        if (p) {
            cJSON_AddStringToObject(p, "option", cli->preset_by->name);
            cJSON_AddStringToObject(p, "value", cli->preset->value);
        }
    }
    if (cli->settings)
        cJSON_AddItemToObject(o, "settings", cJSON_Duplicate(cli->settings, 1));
    return o;
}

cJSON *mlpio_cli_argv_json(const struct mlpio_cli *cli)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < cli->argc; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(cli->argv[i]));
    return a;
}

/* One option: its names on the left, its help, then what it accepts, its default and the
 * value the rules refuse on a second line. */
static void print_option(FILE *out, const char *left, const char *help, const char *key,
                         const char *accepts, const char *dflt, const char *invalid)
{
    fprintf(out, "  %-34s %s%s%s%s\n", left, help, key ? " (" : "", key ? key : "", key ? ")" : "");
    if (!accepts && !dflt && !invalid)
        return;
    fprintf(out, "  %-34s ", "");
    if (accepts)
        fprintf(out, "%s", accepts);
    if (dflt)
        fprintf(out, "%sdefault %s", accepts ? "; " : "", dflt);
    if (invalid)
        fprintf(out, "%sINVALID %s", accepts || dflt ? "; " : "", invalid);
    fprintf(out, "\n");
}

static void print_universal(FILE *out, const struct mlpio_workload *w,
                            const struct mlpio_command *c)
{
    fprintf(out, "Options for every benchmark:\n");
    for (size_t i = 0; i < NUNIVERSAL; i++) {
        const struct universal *u = &universal[i];
        if (!universal_applies(u, w, c))
            continue;
        char left[64], accepts[1024];
        snprintf(left, sizeof(left), "--%s%s%s%s%s", u->name, u->alias ? ", -" : "",
                 u->alias ? u->alias : "", u->metavar ? " " : "", u->metavar ? u->metavar : "");
        const char *dflt = u->dflt;
        snprintf(accepts, sizeof(accepts), "%s", u->accepts ? u->accepts : "");
        if (u->id == OPT_MODEL) {
            char models[896];
            mlpio_config_models(w->name, w->default_variant, models, sizeof(models));
            snprintf(accepts, sizeof(accepts), "one of %s", models[0] ? models : "(none found)");
            dflt = w->default_model;
        } else if (u->id == OPT_IO_API) {
            snprintf(accepts, sizeof(accepts), "one of %s", mlpio_io_choices());
        } else if (u->id == OPT_RULES_EDITION) {
            snprintf(accepts, sizeof(accepts), "one of %s", mlpio_rules_edition_names());
            dflt = mlpio_rules_edition_newest();
        }
        char help[256];
        snprintf(help, sizeof(help), "%s", u->help);
        if (u->id == OPT_ODIRECT) {
            char can[128];
            snprintf(help, sizeof(help), "%s (O_DIRECT; --io-api %s)", u->help,
                     mlpio_io_names(MLPIO_IO_CAP_ODIRECT | MLPIO_IO_CAP_STORAGE, ", ", " or ", can,
                                    sizeof(can)));
        }
        print_option(out, left, help, NULL, accepts[0] ? accepts : NULL, dflt, NULL);
    }
}

static void print_exit_codes(FILE *out)
{
    static const int codes[] = {MLPIO_EXIT_OK,         MLPIO_EXIT_INTERNAL, MLPIO_EXIT_USAGE,
                                MLPIO_EXIT_RULES,      MLPIO_EXIT_IO,       MLPIO_EXIT_VERIFY,
                                MLPIO_EXIT_INTERRUPTED};
    fprintf(out, "\nExit codes (the same on every rank):\n");
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        fprintf(out, "  %-4d %s\n", codes[i], mlpio_exit_name(codes[i]));
}

void mlpio_cli_help_top(FILE *out)
{
    fprintf(out, "mlpio: storage benchmarks for AI workloads (MLPerf Storage rules)\n\n"
                 "Usage: mpirun -np N mlpio <benchmark> <command> [options]\n"
                 "       mlpio <tool> [arguments]\n\nBenchmarks:\n");
    const struct mlpio_workload *const *ws = mlpio_workloads();
    for (int i = 0; ws[i]; i++)
        fprintf(out, "  %-16s %s\n", ws[i]->name, ws[i]->summary);
    fprintf(out, "\nTools:\n");
    for (const struct mlpio_tool *t = mlpio_tools(); t->name; t++)
        fprintf(out, "  %-16s %s\n", t->name, t->summary);
    fprintf(out,
            "\nEach MPI rank emulates one accelerator (or client). 'mlpio <benchmark> --help'\n"
            "lists a benchmark's commands; 'mlpio <benchmark> <command> --help' its options.\n");
    print_exit_codes(out);
}

static void print_examples(FILE *out, const char *examples)
{
    if (!examples)
        return;
    fprintf(out, "\nExamples:\n");
    for (const char *p = examples; *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(out, "  %.*s\n", (int)n, p);
        p += n;
        p += *p == '\n';
    }
}

void mlpio_cli_help_workload(FILE *out, const struct mlpio_workload *w)
{
    fprintf(out, "Usage: mpirun -np N mlpio %s <command> [options]\n\n%s\n\nCommands:\n", w->name,
            w->description);
    for (int i = 0; w->commands[i].name; i++)
        fprintf(out, "  %-12s %s\n", w->commands[i].name, w->commands[i].summary);
    fprintf(out, "\n'mlpio %s <command> --help' shows the options.\n", w->name);
    print_examples(out, w->examples);
}

/* What a workload option accepts and its default, from the parameter table and the model's
 * definition when it sets a config key. */
static void print_workload_option(FILE *out, const struct mlpio_workload *w,
                                  const struct mlpio_cli_option *o, const cJSON *reference)
{
    char left[64], accepts[256] = "", dflt[160] = "";
    snprintf(left, sizeof(left), "--%s%s%s%s%s", o->name, o->alias ? ", -" : "",
             o->alias ? o->alias : "", o->metavar ? " " : "", o->metavar ? o->metavar : "");
    const struct mlpio_param_spec *spec =
        o->config_key ? mlpio_params_find(w->params, w->nparams, o->config_key) : NULL;
    const char *invalid = spec ? spec->invalid : NULL;
    char variants[192];
    const char *choices = option_choices(w, o, variants, sizeof(variants));
    if (choices)
        snprintf(accepts, sizeof(accepts), "one of %s", choices);
    else if (o->accepts)
        snprintf(accepts, sizeof(accepts), "%s", o->accepts);
    else if (spec && o->metavar)
        mlpio_params_describe(spec, accepts, sizeof(accepts));
    if (o->kind == MLPIO_OPT_PRESET && !accepts[0]) {
        for (const struct mlpio_preset *p = o->presets; p && p->value; p++) {
            size_t used = strlen(accepts);
            snprintf(accepts + used, sizeof(accepts) - used, "%s%s", used ? "|" : "one of ",
                     p->value);
        }
        size_t used = strlen(accepts);
        snprintf(accepts + used, sizeof(accepts) - used, "|all");
    }
    if (o->kind == MLPIO_OPT_VARIANT && w->default_variant) {
        char v[64];
        snprintf(dflt, sizeof(dflt),
                 "%s for %s (the first CLOSED accelerator of the rules edition that defines "
                 "the model)",
                 default_variant(w, w->default_model, NULL, v, sizeof(v)), w->default_model);
    } else if (o->dflt) {
        snprintf(dflt, sizeof(dflt), "%s", o->dflt);
    } else if (spec && reference) {
        char v[128];
        mlpio_params_value_text(spec, mlpio_json_get_path(reference, o->config_key), v, sizeof(v));
        snprintf(dflt, sizeof(dflt), "%s", v);
        if (!o->metavar) /* a flag: what it sets; the default is what holds without it */
            snprintf(accepts, sizeof(accepts), "sets %s", o->flag_value ? o->flag_value : "true");
    }
    print_option(out, left, o->help, o->config_key, accepts[0] ? accepts : NULL,
                 dflt[0] ? dflt : NULL, invalid);
    for (const struct mlpio_preset *p = o->presets; p && p->value; p++)
        fprintf(out, "  %-34s   %s: %s%s%s\n", "", p->value, p->summary, p->model ? "; model " : "",
                p->model ? p->model : "");
    if (o->presets && o->presets->value)
        fprintf(out,
                "  %-34s   all: each of them in turn in this job, one run directory each, with "
                "the\n  %-34s   rules edition's delay between them\n",
                "", "");
}

void mlpio_cli_help_command(FILE *out, const struct mlpio_workload *w,
                            const struct mlpio_command *c)
{
    /* Defaults are the default model's definition; without it, help still lists the rest. */
    struct mlpio_error ignored = {0};
    char chosen[64];
    const char *variant = w->default_variant
                              ? default_variant(w, w->default_model, NULL, chosen, sizeof(chosen))
                              : NULL;
    cJSON *reference = mlpio_config_reference_variant(w->name, w->default_model, variant, &ignored);
    char model[128];
    snprintf(model, sizeof(model), "%s%s%s", w->default_model ? w->default_model : "",
             variant ? " on " : "", variant ? variant : "");
    fprintf(out, "Usage: mpirun -np N mlpio %s %s [options]\n\n%s\n\n", w->name, c->name,
            c->summary);
    fprintf(out, "Options for %s %s (defaults: those of model %s):\n", w->name, c->name, model);
    for (int i = 0; w->options[i].name; i++)
        if (option_applies(&w->options[i], c))
            print_workload_option(out, w, &w->options[i], reference);
    fprintf(out, "\n");
    print_universal(out, w, c);
    fprintf(out,
            "\nParameters (--params KEY=VALUE; defaults of model %s; INVALID: values that\n"
            "make a run INVALID under the rules, in either division):\n",
            model);
    for (int i = 0; i < w->nparams; i++) {
        const struct mlpio_param_spec *p = &w->params[i];
        char expected[160], dflt[128];
        mlpio_params_describe(p, expected, sizeof(expected));
        mlpio_params_value_text(p, reference ? mlpio_json_get_path(reference, p->key) : NULL, dflt,
                                sizeof(dflt));
        fprintf(out, "  %-36s %s; %s; default %s%s%s\n", p->key, p->help, expected, dflt,
                p->invalid ? "; INVALID " : "", p->invalid ? p->invalid : "");
    }
    if (c->flags & MLPIO_CMD_MEASURE)
        fprintf(out,
                "\nResults: each run writes a new directory\n"
                "  %s\n"
                "  e.g. %s/%s/%s/%s/20250131_142501/\n"
                "  with events.jsonl, summary.json, the metadata, report.txt and report.html;\n"
                "  'mlpio watch <run-dir>' prints or follows its events.\n",
                MLPIO_CLI_RESULTS_LAYOUT, DEFAULT_RESULTS_DIR, w->name,
                w->default_model ? w->default_model : "<model>", c->name);
    print_examples(out, c->examples);
    print_exit_codes(out);
    cJSON_Delete(reference);
}
