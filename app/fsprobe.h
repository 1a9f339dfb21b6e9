/* mlpio file-system separation probe: are a run's data and its results on different file
 * systems? (MLPerf Storage Rules.md 3.4.2 training, 4.4.2 checkpointing; mlpio holds the KV
 * cache's directory to the same, 6.4.1.)
 *
 * As the reference does (mlcommons/storage mlpstorage_py/benchmarks/fs_separation_probe.py),
 * a sentinel file made in the data directory is hard-linked into the results directory: EXDEV
 * is the kernel's own answer that they are apart, success that they are one file system (the
 * link is removed at once). Where a link cannot be tried (no permission, a file system without
 * hard links), the devices of the two directories are compared instead (method "st_dev").
 * A directory that does not exist yet is probed at its nearest existing ancestor: what will be
 * made there is on that ancestor's file system.
 *
 * The result (the run directory's fs_separation.json, and the run's facts):
 *   {"version": 1, "method": "link_exdev" | "st_dev", "data_path", "results_path",
 *    "data_realpath", "results_realpath" (the directories probed), "same_filesystem": bool,
 *    "probed_at": ISO 8601 UTC, "probed_by_rank": 0, "probed_by_host"}
 */
#ifndef MLPIO_FSPROBE_H
#define MLPIO_FSPROBE_H

#include <cjson/cJSON.h>

#include "io/error.h"

/* The nearest existing directory of path (itself or an ancestor), resolved, into out (PATH_MAX
 * bytes): where a folder still to be made will be. 0, or -1 (no such directory, path too long). */
int mlpio_fs_existing_dir(const char *path, char *out);

/* Probe data_dir against results_dir: a new object as above, or NULL with err when neither the
 * link nor the devices can tell (a path with no existing ancestor, memory). may_write 0: only
 * the devices are compared (nothing is created). */
cJSON *mlpio_fs_separation_probe(const char *data_dir, const char *results_dir, const char *host,
                                 int may_write, struct mlpio_error *err);

#endif
