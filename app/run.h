/* mlpio run driver: the life of one benchmark command, the same for every workload.
 *
 *   rank 0: config (share/ + --config-file + overrides), facts -> broadcast config
 *   all:    cluster collection (one record per host on rank 0)
 *   rank 0: pre-run rules -> verdict; refuse under --closed unless CLOSED, refuse INVALID
 *           unless --allow-invalid-params; --what-if stops here after printing the plan
 *   per loop: salt (random or from --seed) -> broadcast; rank 0 creates the run directory,
 *           metadata (status "running") and events.jsonl; the workload's phases run;
 *           rank 0: post-run rules, summary.json, report.txt, final metadata, "finish" event.
 * Every step ends in agreement (mlpio_context_agree), so all ranks exit with the same code.
 */
#ifndef MLPIO_RUN_H
#define MLPIO_RUN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/cluster.h"
#include "app/context.h"
#include "app/datagen.h"
#include "app/eventlog.h"
#include "app/guard.h"
#include "app/workload.h"
#include "io/io.h"

/* What the command line asked of the run: the same on every rank, read-only. */
struct mlpio_run_options {
    const char *model;
    const char *variant;     /* MLPIO_OPT_VARIANT value, or NULL */
    const char *results_dir; /* as given */
    const char *io_api;
    bool closed;          /* --closed: refused unless the rules say CLOSED */
    const char *division; /* "closed" or "open" as declared (--closed, --open), or NULL */
    const char *system;   /* --system, or NULL */
    bool allow_invalid;   /* --allow-invalid-params */
    bool what_if, verify, odirect;
    int loops;
    bool has_seed;
    uint64_t seed;
    double scale;
    double client_memory_gb; /* 0 = measure */
    const cJSON *settings;   /* MLPIO_OPT_SETTING values as strings, by option name */
};

/* The storage a run uses and the keys of the data it writes: every rank. */
struct mlpio_run_io {
    const struct mlpio_io_backend *backend;
    struct mlpio_io_options options;
    struct mlpio_data_salt salt;
    struct mlpio_data_rank_key key; /* this rank's data key */
};

/* What rank 0 keeps of the run: its description, results and log. Empty on other ranks. */
struct mlpio_run_record {
    cJSON *doc;                    /* the run description, stored as *_metadata.json */
    cJSON *facts;                  /* doc's "facts" object (borrowed) */
    struct mlpio_cluster *cluster; /* one record per host */
    char *run_dir;                 /* measuring commands only */
    char run_id[32];               /* YYYYMMDD_HHMMSS */
    struct mlpio_eventlog *events; /* used under guard's lock */
    struct mlpio_guard *guard;     /* finishes the record if the ranks cannot */
    cJSON *summary;                /* metrics the workload fills in */
    char *report_text;             /* human summary the workload fills in */
};

struct mlpio_run {
    struct mlpio_context *ctx;
    const struct mlpio_workload *workload;
    const struct mlpio_command *command;
    const struct mlpio_run_options *opts;
    cJSON *config; /* merged configuration, on every rank (rank 0's describe may complete it) */
    /* The workload's typed settings (workload->settings_size bytes), filled from config by its
     * parameter table (mlpio_params_settings), on every rank. */
    const void *settings;
    struct mlpio_run_io io;
    int host_ranks; /* ranks on this rank's host, every rank */
    int loop;
    struct mlpio_run_record rec; /* rank 0 */
};

/* Run the parsed command; returns the exit code (the same on every rank). Collective. */
struct mlpio_cli;
int mlpio_run_main(struct mlpio_context *ctx, const struct mlpio_cli *cli);

/* Rank 0: append an event to the run's log (no-op elsewhere or without a log). Takes
 * ownership of context (may be NULL). A failure to write is reported once on stderr; the run
 * goes on (its results are still written). */
void mlpio_run_event(struct mlpio_run *run, const char *name, cJSON *context);

/* The --scale factor. */
double mlpio_run_scale(const struct mlpio_run *run);

/* The configview command of every workload: rank 0 prints the merged config and overrides.
 * A workload lists it as MLPIO_RUN_CONFIGVIEW("mlpio <benchmark> configview ...") in its
 * command table, with an example of its own. */
int mlpio_run_configview(struct mlpio_run *run, struct mlpio_error *err);
#define MLPIO_RUN_CONFIGVIEW(example)                                                              \
    {                                                                                              \
        .name = "configview", .summary = "print the merged configuration",                         \
        .execute = mlpio_run_configview, .examples = (example)                                     \
    }

#endif
