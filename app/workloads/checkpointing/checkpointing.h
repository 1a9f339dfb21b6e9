/* Checkpointing workload: LLM training checkpoints written and read back by every rank. */
#ifndef MLPIO_CHECKPOINTING_H
#define MLPIO_CHECKPOINTING_H

#include "app/run.h"

/* The write/read phases (phases.c). Collective; fills run->rec.summary and run->rec.report_text on
 * rank 0. Under --what-if prints the plan and touches nothing. */
int mlpio_checkpointing_run(struct mlpio_run *run, struct mlpio_error *err);

/* How cached pages are kept out of the timed reads with this backend and --odirect:
 * "odirect", "fadvise" (dropped before each read) or "none". Known before the run, so the rules
 * judge it before any I/O. */
const char *mlpio_ckpt_cache_policy(const struct mlpio_run *run);

#endif
