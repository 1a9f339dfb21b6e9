/* mlpio results-tree scanner, internal: one run directory (scan_run.c) and the helpers the tree
 * walk (scan.c) shares with it. Only app/scan*.c include this header; the API is app/scan.h.
 */
#ifndef MLPIO_SCAN_RUN_H
#define MLPIO_SCAN_RUN_H

#include <cjson/cJSON.h>

#include "io/error.h"

/* The parts of a run's path below the results directory: benchmark/model/command/run_id. */
enum { MLPIO_SCAN_DEPTH = 4 };

struct mlpio_scan_run {
    cJSON *entry;    /* the run's object of "runs" (see app/scan.h), owned by the caller */
    char preset[32]; /* the CLOSED preset (kvcache option) the run's config matches, or "" */
};

/* Read the run directory root/rel, rel being "benchmark/model/command/run_id", into out.
 * Bad content never fails: what is wrong goes into the entry's "problems", the run is shown with
 * what could be read. Returns 0, or -1 with err when memory runs out (out->entry is then NULL).
 * Opens files read-only and never writes. */
int mlpio_scan_run(const char *root, const char *rel, struct mlpio_scan_run *out,
                   struct mlpio_error *err) MLPIO_WUR;

/* Append {"where", "what", "fix"} to problems; what is formatted. Returns 0, or -1 on ENOMEM. */
int mlpio_scan_problem(cJSON *problems, const char *where, const char *fix, const char *fmt, ...)
    MLPIO_PRINTF(4, 5);

/* The main figures of a run, by benchmark and command, from its summary: a new flat object
 * {name: number} (empty when nothing is known). NULL on ENOMEM. */
cJSON *mlpio_scan_figures(const char *benchmark, const char *command, const cJSON *summary);

/* The value of the preset (an option such as kvcache's --option) whose model and values the
 * run description has, into buf (n bytes); "" when none matches. */
void mlpio_scan_preset(const cJSON *metadata, char *buf, size_t n);

#endif
