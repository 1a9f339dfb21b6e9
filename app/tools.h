/* mlpio tools: top-level commands that are not benchmarks (version, dedup-check, ...).
 * Like workloads, they are listed in one table so the help and dispatch follow it. */
#ifndef MLPIO_TOOLS_H
#define MLPIO_TOOLS_H

#include "app/context.h"

struct mlpio_tool {
    const char *name;
    const char *summary;
    const char *usage; /* full --help text */
    /* Collective; argv[0] is the tool name. Returns an exit code (same on every rank). */
    int (*main)(struct mlpio_context *ctx, int argc, char **argv);
};

/* NULL-name-terminated table. */
const struct mlpio_tool *mlpio_tools(void);
const struct mlpio_tool *mlpio_tool_find(const char *name);

#endif
