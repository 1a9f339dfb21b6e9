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

#include "app/cli.h"
#include "app/cluster.h"
#include "app/context.h"
#include "app/datagen.h"
#include "app/eventlog.h"
#include "app/guard.h"
#include "app/workload.h"
#include "io/io.h"

struct mlpio_run {
    struct mlpio_context *ctx;
    const struct mlpio_cli *cli;
    const struct mlpio_workload *workload;
    const struct mlpio_command *command;
    cJSON *config; /* merged configuration, on every rank */
    cJSON *doc;    /* rank 0: the run description, stored as *_metadata.json */
    cJSON *facts;  /* rank 0: doc's "facts" object (borrowed) */
    const struct mlpio_io_backend *backend;
    struct mlpio_io_options io_options;
    struct mlpio_data_salt salt;
    struct mlpio_data_rank_key key; /* this rank's data key */
    struct mlpio_cluster *cluster;  /* rank 0 */
    int host_ranks;                 /* ranks on this rank's host, every rank */
    char *run_dir;                  /* rank 0, measuring commands only */
    char run_id[32];                /* YYYYMMDD_HHMMSS */
    struct mlpio_eventlog *events;  /* rank 0; used under guard's lock */
    struct mlpio_guard *guard;      /* rank 0: finishes the record if the ranks cannot */
    cJSON *summary;                 /* rank 0: metrics the workload fills in */
    char *report_text;              /* rank 0: human summary the workload fills in */
    int loop;
};

/* Run the parsed command; returns the exit code (the same on every rank). Collective. */
int mlpio_run_main(struct mlpio_context *ctx, const struct mlpio_cli *cli);

/* Rank 0: append an event to the run's log (no-op elsewhere or without a log). Takes
 * ownership of context (may be NULL). A failure to write is reported once on stderr; the run
 * goes on (its results are still written). */
void mlpio_run_event(struct mlpio_run *run, const char *name, cJSON *context);

/* The --scale factor. */
double mlpio_run_scale(const struct mlpio_run *run);

/* The configview command of every workload: rank 0 prints the merged config and overrides. */
int mlpio_run_configview(struct mlpio_run *run, struct mlpio_error *err);

/* Set by SIGINT/SIGTERM; workloads check it between transfers. */
bool mlpio_interrupted(void);
void mlpio_signals_install(void);
/* The last signal that interrupted the run (SIGINT or SIGTERM), or 0. */
int mlpio_signal_received(void);
/* Block until a signal arrives or mlpio_signals_wake is called (one wake-up per call). */
void mlpio_signals_wait(void);
void mlpio_signals_wake(void);

/* Resolve path against the current directory (no symlink resolution; "." and ".." folded). */
char *mlpio_path_absolute(const char *path);

#endif
