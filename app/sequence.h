/* mlpio option sequences: `--option all` (any MLPIO_OPT_PRESET option given "all") runs each
 * preset of the option in turn in one job, one run directory each, as MLPerf Storage wants a
 * CLOSED KV-cache submission: options 1, 2 and 3 in one invocation with the rules' delay
 * between them (Rules.md 6.3.2.1; the edition's <benchmark>.inter_option_delay_s, or
 * --option-delay S where the workload takes it). Each run records options.option_sequence
 * (id, position, count, delay_s, waited_s) for the submission checks. The sequence stops at the
 * first run that does not succeed; its exit code is that run's. Collective: every rank calls
 * it with the same arguments.
 */
#ifndef MLPIO_SEQUENCE_H
#define MLPIO_SEQUENCE_H

#include "app/cli.h"
#include "app/context.h"

int mlpio_run_sequence(struct mlpio_context *ctx, int argc, char **argv,
                       const struct mlpio_cli *all);

#endif
