/* Checkpointing workload: LLM training checkpoints written and read back by every rank. */
#ifndef MLPIO_CHECKPOINTING_H
#define MLPIO_CHECKPOINTING_H

#include "app/run.h"

/* The write/read phases (phases.c). Collective; fills run->summary and run->report_text on
 * rank 0. Under --what-if prints the plan and touches nothing. */
int mlpio_checkpointing_run(struct mlpio_run *run, struct mlpio_error *err);

#endif
