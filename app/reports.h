/* mlpio reports: the tools that read a results tree (app/scan.h) and say what it is worth.
 *
 *   mlpio validate DIR                  the verdict of every run and submission group, and the
 *                                       tree's problems, on stdout; the exit code is the worst
 *   mlpio validate --checklist BENCH    the CLOSED requirements of a benchmark
 *   mlpio reports reportgen --results-dir DIR [--output-dir OUT]
 *                                       results.json, results.csv and results.html in OUT
 *
 * Neither needs MPI ranks: under mpirun only rank 0 works and the others wait for its exit
 * code. Neither modifies the tree it reads; reportgen refuses an output directory inside it.
 */
#ifndef MLPIO_REPORTS_H
#define MLPIO_REPORTS_H

#include <cjson/cJSON.h>

#include "app/context.h"
#include "io/error.h"

extern const char mlpio_validate_usage[];
extern const char mlpio_reports_usage[];

/* The tools' entry points (see app/tools.h). */
int mlpio_validate_main(struct mlpio_context *ctx, int argc, char **argv);
int mlpio_reports_main(struct mlpio_context *ctx, int argc, char **argv);

/* results.csv of a results document: a header, then one row per run and one per submission
 * group. Columns: kind ("run" or "submission"), path (a submission's is
 * <benchmark>/<model>/<group>), benchmark, model, command, run_id, status, verdict, issues
 * (their count), then every figure name of the document, sorted. RFC 4180 quoting, "\r\n"
 * line ends; an unknown value is an empty field. A new string (free), or NULL on ENOMEM. */
char *mlpio_reports_csv(const cJSON *results);

/* Scan results_dir and write results.json, results.csv and results.html (each atomically) into
 * output_dir, created if needed, or when output_dir is NULL into a new directory
 * ./mlpio_reports/<YYYYMMDD_HHMMSS> (a later second's name if taken). The output directory must
 * not be results_dir or inside it; nothing is created before the scan has succeeded. On
 * success, *written_to (if not NULL) is the directory written (free) and *results (if not NULL)
 * the results document (free with cJSON_Delete). Returns 0, or -1 with err (both NULL). */
int mlpio_reports_generate(const char *results_dir, const char *output_dir, char **written_to,
                           cJSON **results, struct mlpio_error *err) MLPIO_WUR;

#endif
