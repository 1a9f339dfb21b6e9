/* mlpio submission trees: the results layout of MLPerf Storage v3.0 (mlcommons/storage
 * Rules.md 2.1, mlpstorage_py/runs/ledger.py parse_leaf).
 *
 *   <results>/mlperf-results.yaml            the tree's marker (mlpio init writes it)
 *   <results>/.mlpio-tree.json               mlpio's own: the default system
 *   <results>/<closed|open>/<org>/
 *       systems/<system>.yaml                the system, generated from the first run's hosts
 *       systems/<system>.pdf                 the submitter's
 *       results/<system>/training/<model>/<datagen|run>/<YYYYMMDD_HHMMSS>/
 *       results/<system>/checkpointing/<model>/<YYYYMMDD_HHMMSS>/
 *       results/<system>/kv_cache/<model>/run/<YYYYMMDD_HHMMSS>/
 *
 * Every run directory of a tree holds provenance.json (schema mlps-run-provenance/1), which
 * its metadata names in "provenance_file". A results directory without the marker keeps the
 * layout of rundir.h.
 */
#ifndef MLPIO_SUBTREE_H
#define MLPIO_SUBTREE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "app/cluster.h"
#include "io/error.h"

#define MLPIO_TREE_MARKER "mlperf-results.yaml"
#define MLPIO_TREE_DEFAULTS ".mlpio-tree.json"
#define MLPIO_TREE_LAYOUT_VERSION 3
#define MLPIO_TREE_NAME_MAX 128

struct mlpio_tree {
    char org[MLPIO_TREE_NAME_MAX];
    char system[MLPIO_TREE_NAME_MAX]; /* the default system ("" when none is recorded) */
};

/* Whether name is an org or system name the checker accepts (^[A-Za-z0-9._-]+$, not "." or
 * ".."; at most MLPIO_TREE_NAME_MAX - 1 characters). */
bool mlpio_tree_name_ok(const char *name);

/* Read the marker of results_dir: 1 with *t filled when it is a tree, 0 when it has no marker,
 * -1 with err when the marker is damaged (names the file and the line). */
int mlpio_tree_open(const char *results_dir, struct mlpio_tree *t, struct mlpio_error *err);

/* Make results_dir a tree of org (mlpio init): the marker, the defaults and closed|open/<org>/
 * {results,systems}. A directory that holds anything but a tree is refused, as is a tree of
 * another org; a tree of org keeps what it has (system, when given, becomes the default).
 * *created tells whether the marker is new. */
int mlpio_tree_init(const char *results_dir, const char *org, const char *system, bool *created,
                    struct mlpio_error *err);

/* The directory a benchmark's run directories go in (caller frees): the leaf's parent. */
char *mlpio_tree_leaf_parent(const char *results_dir, const struct mlpio_tree *t,
                             const char *division, const char *system, const char *benchmark,
                             const char *model, const char *command);

/* The category directory of an mlpio benchmark ("kvcache" -> "kv_cache"), and back (NULL for
 * a category mlpio has no benchmark of). */
const char *mlpio_tree_category(const char *benchmark);
const char *mlpio_tree_benchmark(const char *category);

/* Whether a benchmark's leaves have a command level (checkpointing's do not). */
bool mlpio_tree_has_command(const char *benchmark);

/* Write <division>/<org>/systems/<system>.yaml from the hosts of cluster, unless it exists
 * (a system description is the submitter's once written). *written says which. */
int mlpio_tree_write_system(const char *results_dir, const struct mlpio_tree *t,
                            const char *division, const char *system,
                            const struct mlpio_cluster *cluster, bool *written,
                            struct mlpio_error *err);

/* An edition as the reference names it: "v3.0" -> "3.0". */
const char *mlpio_tree_edition_number(const char *e);

/* The provenance of a run (mlps-run-provenance/1) from its description: a new object. */
cJSON *mlpio_tree_provenance(const cJSON *run);

#endif
