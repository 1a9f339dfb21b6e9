/* mlpio on every host the same: every rank of a job must run the same mlpio (version and
 * commit) with the same definitions (every file of its share directory), or ranks would emulate
 * different workloads or judge by different rules. Each rank hashes what it has; rank 0's
 * digest goes to all; a rank that differs says so, naming its host and what differs, before
 * anything is written. Collective. Test seam: MLPIO_TEST_AS_VERSION=V makes a rank report
 * version V. */
#ifndef MLPIO_SAMENESS_H
#define MLPIO_SAMENESS_H

#include "app/context.h"
#include "io/error.h"

int mlpio_check_same_everywhere(const struct mlpio_context *ctx, struct mlpio_error *err)
    MLPIO_WUR;

#endif
