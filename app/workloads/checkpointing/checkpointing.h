/* Checkpointing workload: LLM training checkpoints written and read back by every rank. */
#ifndef MLPIO_CHECKPOINTING_H
#define MLPIO_CHECKPOINTING_H

#include <stdbool.h>
#include <stdint.h>

#include "app/run.h"
#include "app/workloads/checkpointing/plan.h"

/* The workload's settings: one member per parameter (checkpointing.c's table says which). */
struct mlpio_ckpt_settings {
    const char *model_name;
    struct mlpio_ckpt_model model; /* model.* and parallelism.*; dtype sizes from the names */
    const char *model_datatype, *optimizer_datatype;
    const char *folder;
    int64_t num_checkpoints_write, num_checkpoints_read;
    double time_between_checkpoints; /* s */
    bool fsync;
    uint64_t transfer_size;
    const char *layout; /* "per_rank" or "shared" */
    const char *accelerator_type;
};

/* The settings of a validated config (the workload's settings_parse): its fields, and the
 * model checked as a whole. 0, or -1 with err set. */
int mlpio_ckpt_settings_parse(const cJSON *config, void *settings, struct mlpio_error *err);

/* The write/read phases (phases.c). Collective; fills run->rec.summary and run->rec.report_text on
 * rank 0. Under --what-if prints the plan and touches nothing. */
int mlpio_checkpointing_run(struct mlpio_run *run, struct mlpio_error *err);

/* How cached pages are kept out of the timed reads with this backend and --odirect:
 * "odirect", "fadvise" (dropped before each read) or "none". Known before the run, so the rules
 * judge it before any I/O. */
const char *mlpio_ckpt_cache_policy(const struct mlpio_run *run);

#endif
