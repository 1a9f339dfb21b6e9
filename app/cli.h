/* mlpio command line: `mlpio <benchmark> <command> [options]`.
 *
 * The grammar is generic: universal options are defined here, benchmark options come from the
 * workload descriptor (app/workload.h) and become config overrides. Parsing never touches MPI
 * or files, so every rank can parse argv and reach the same answer.
 */
#ifndef MLPIO_CLI_H
#define MLPIO_CLI_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/context.h"
#include "app/workload.h"
#include "io/error.h"

/* Exit codes, the same on every rank. */
enum mlpio_exit {
    MLPIO_EXIT_OK = 0,
    MLPIO_EXIT_INTERNAL = 1,
    MLPIO_EXIT_USAGE = 2,  /* bad command line or configuration */
    MLPIO_EXIT_RULES = 3,  /* refused by the rules (--closed and not CLOSED, or INVALID) */
    MLPIO_EXIT_IO = 4,     /* storage I/O failed */
    MLPIO_EXIT_VERIFY = 5, /* data read back differs from what was written */
    MLPIO_EXIT_INTERRUPTED = 130,
};

enum mlpio_division {
    MLPIO_DIVISION_ANY = 0, /* judge, don't require */
    MLPIO_DIVISION_OPEN,
    MLPIO_DIVISION_CLOSED,
};

struct mlpio_override {
    char *key;          /* dotted config key */
    char *value;        /* text as given */
    const char *source; /* "cli" (a named option), "params" or "preset" */
    char *option;       /* the option as typed that set it ("-ncw", "--params"); NULL: preset */
};

struct mlpio_cli {
    const struct mlpio_workload *workload;
    const struct mlpio_command *command;
    bool help; /* --help given: print help for the deepest level named */
    char *model;
    char *results_dir;
    char *config_file;
    char *io_api;
    char *rules_edition; /* NULL: the newest */
    char *system;        /* --system, or NULL: the tree's default */
    enum mlpio_division division;
    bool what_if, allow_invalid, odirect, verify;
    int loops;
    bool has_seed;
    uint64_t seed;
    double scale;
    double client_memory_gb; /* 0 = measure */
    enum mlpio_log_level level;
    struct mlpio_override *overrides;
    int noverrides;
    char *variant;                            /* MLPIO_OPT_VARIANT value, or NULL */
    const struct mlpio_preset *preset;        /* chosen with a MLPIO_OPT_PRESET option, or NULL */
    const struct mlpio_cli_option *preset_by; /* that option */
    bool preset_all; /* "all": every preset in turn, one run each (app/sequence.h) */
    /* One run of such a sequence: its id (the first run's start), 1-based place, length and
     * the seconds waited before it (0 for the first); sequence_count 0: no sequence. */
    char sequence_id[32];
    int sequence_position, sequence_count;
    double sequence_delay, sequence_waited;
    cJSON *settings; /* MLPIO_OPT_SETTING values as strings, by option name */
    int argc;
    char **argv; /* borrowed */
};

/* Parse argv[1..] (argv[1] is the benchmark). On error cli is left freeable. */
int mlpio_cli_parse(int argc, char **argv, struct mlpio_cli *cli, struct mlpio_error *err);
void mlpio_cli_free(struct mlpio_cli *cli);

/* The universal options and the run options as JSON (for the metadata). */
cJSON *mlpio_cli_options_json(const struct mlpio_cli *cli);
/* argv as a JSON array of strings. */
cJSON *mlpio_cli_argv_json(const struct mlpio_cli *cli);

/* Where a measuring command's run directory goes (app/rundir.h makes it). */
#define MLPIO_CLI_RESULTS_LAYOUT "<results-dir>/<benchmark>/<model>/<command>/<YYYYMMDD_HHMMSS>/"

/* Help at each level. A command's help lists only the options that command uses, with what
 * each accepts, its default (from the default model's definition in share/) and the values
 * that make a run INVALID; then the results layout and examples. */
void mlpio_cli_help_top(FILE *out);
void mlpio_cli_help_workload(FILE *out, const struct mlpio_workload *w);
void mlpio_cli_help_command(FILE *out, const struct mlpio_workload *w,
                            const struct mlpio_command *c);

/* Exit code for an error category. */
int mlpio_exit_code(enum mlpio_errcat cat);
const char *mlpio_exit_name(int code);

#endif
