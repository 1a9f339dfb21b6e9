/* mlpio workloads: what a benchmark declares so that the CLI, config, run, scan and report can
 * serve it.
 *
 * A descriptor carries everything mlpio needs to know of a workload: its commands, options and
 * parameter table; its typed settings (a struct the run fills from the merged config through
 * the table, the config being the only place defaults live); the facts the rules need; its
 * pre-run checks; the figures a table of runs shows. Its rules are in rules/ (one entry in
 * rules/benchmarks.c), its charts and tables in report/ (one entry in report/html_sections.c,
 * or none for the generic figures).
 *
 * Adding a workload = one folder under app/workloads/, one line in app/registry.c, one JSON
 * file per model in share/<benchmark>/, its checker in rules/ with one line in
 * rules/benchmarks.c. The CLI, the run driver, the scan and the reports are never edited for a
 * new workload; tests/nullbench/ is such a workload, known only to a test program.
 */
#ifndef MLPIO_WORKLOAD_H
#define MLPIO_WORKLOAD_H

#include <cjson/cJSON.h>

#include "app/params.h"
#include "io/error.h"

struct mlpio_run;

enum {
    MLPIO_CMD_MEASURE = 1u << 0, /* does I/O: run directory, events, summary */
    MLPIO_CMD_JUDGED = 1u << 1,  /* the rules judge it (before and after); with MEASURE */
};

struct mlpio_command {
    const char *name;
    const char *summary;
    unsigned flags;
    /* Collective over run->ctx->comm; returns the same rc on every rank. */
    int (*execute)(struct mlpio_run *run, struct mlpio_error *err);
    const char *examples; /* one or two command lines for --help, one per line */
};

enum mlpio_opt_kind {
    MLPIO_OPT_CONFIG = 0, /* the value overrides config_key */
    MLPIO_OPT_VARIANT,    /* the value picks the definition share/<bench>/<model>_<value>.json */
    MLPIO_OPT_SETTING,    /* the value is kept in cli->settings under the option's name */
    MLPIO_OPT_PRESET,     /* the value picks one of .presets: a model and fixed overrides */
};

/* A named set of values (e.g. a CLOSED configuration), chosen with one option. The CLI applies
 * it after parsing: it selects the model and adds the overrides (source "preset"); a --model
 * or an override given on the command line that contradicts it is a usage error. */
struct mlpio_preset {
    const char *value;     /* the option's value that selects it: "1" */
    const char *model;     /* model it runs (NULL: any) */
    const char *overrides; /* "key=value key=value ..." */
    const char *summary;   /* one line for --help */
};

/* A benchmark-specific option. */
struct mlpio_cli_option {
    const char *name;    /* long name without dashes: "num-checkpoints-write" */
    const char *alias;   /* short alias without the dash: "ncw" (or NULL) */
    const char *metavar; /* "N"; NULL: a flag that takes no value (see flag_value) */
    const char *config_key;
    const char *help;
    enum mlpio_opt_kind kind;
    const char *choices; /* "a|b": values accepted (checked while parsing), or NULL: any */
    const struct mlpio_preset *presets; /* MLPIO_OPT_PRESET: terminated by {NULL} */
    const char *flag_value;             /* value of a flag (metavar NULL); NULL: "true" */
    const char *commands; /* "run|datasize": the commands that use it; NULL: every command */
    /* For --help, where the parameter table cannot tell (settings, variants, presets): what it
     * accepts and its default. Options with a config_key take both from the table and the
     * model's definition. */
    const char *accepts;
    const char *dflt;
};

/* Another name accepted for a parameter (e.g. where MLPerf Storage's documents and DLIO's
 * configs name it differently); overrides are stored under the canonical key. */
struct mlpio_param_alias {
    const char *alias;
    const char *key;
};

/* A figure the results scan keeps of a run (results.csv and the combined report's tables):
 * a number of summary.json under a flat name. */
struct mlpio_figure_source {
    const char *command; /* the command whose runs have it; NULL: every command */
    const char *name;    /* flat name in the scan's "figures" */
    const char *path;    /* dotted path in summary.json */
};

struct mlpio_workload {
    const char *name;
    const char *summary;
    const char *description; /* paragraph for --help */
    const char *default_model;
    const char *default_variant;            /* for MLPIO_OPT_VARIANT options, or NULL */
    const struct mlpio_command *commands;   /* terminated by a {NULL} entry */
    const struct mlpio_cli_option *options; /* terminated by a {NULL} entry */
    const struct mlpio_param_spec *params;
    int nparams;
    /* The workload's typed settings: a struct of settings_size bytes that the run fills from
     * the merged config through the parameter table's MLPIO_AT fields (mlpio_params_settings),
     * on every rank, and hands to the workload as run->settings. The config (share/ and the
     * overrides) is the only place a default lives. 0: no settings. */
    size_t settings_size;
    /* Fill the settings from a validated config: the fields, then what the workload derives
     * and checks of them as a whole. NULL: mlpio_params_settings over the table alone. */
    int (*settings_parse)(const cJSON *config, void *settings, struct mlpio_error *err);
    const struct mlpio_param_alias *param_aliases; /* terminated by {NULL}, or NULL */
    const char *examples;         /* one or two command lines for --help, one per line */
    const char *universal_unused; /* "a|b": universal options none of its commands uses */
    /* Rank 0, after the config is merged: add derived figures ("facts") the rules need, such
     * as data sizes, to the run description. */
    int (*describe)(struct mlpio_run *run, cJSON *facts, struct mlpio_error *err);
    /* Rank 0, for a measuring command once the pre-run rules admitted it and before the run
     * directory is created (not under --what-if): check what the run needs and can know before
     * any I/O (the dataset, the folders, free space), so a refused run leaves nothing in the
     * results tree. No side effect; NULL: nothing to check. */
    int (*prepare)(struct mlpio_run *run, struct mlpio_error *err);
    /* The config key of the directory the workload's data goes to (its dataset, checkpoints or
     * KV-cache tier), held apart from the results on another file system (app/fsprobe.h);
     * NULL: none. */
    const char *data_folder_key;
    /* Its option, when every rank reads or writes what another made there, so that the folder
     * must be shared by every host (app/sharedfs.h); NULL: each rank keeps its own. */
    const char *data_folder_option;
    /* The figures a table of runs shows, terminated by {NULL}; the scan adds the size of the
     * job (num_accelerators, num_hosts) to every benchmark's. */
    const struct mlpio_figure_source *figures;
};

/* Register a workload beyond the built-in ones (before mlpio_main; not thread-safe): 0, or -1
 * when its name is taken or the registry is full. */
int mlpio_workload_add(const struct mlpio_workload *w);

/* NULL-terminated registry of all workloads. */
const struct mlpio_workload *const *mlpio_workloads(void);
const struct mlpio_workload *mlpio_workload_find(const char *name);
const struct mlpio_command *mlpio_workload_command(const struct mlpio_workload *w,
                                                   const char *name);

#endif
