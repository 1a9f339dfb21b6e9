/* mlpio rules engine: judges a run against the MLPerf Storage rules.
 *
 * A checker reads a run description (the same JSON document that becomes the run's
 * *_metadata.json, see report/metadata.h) and adds issues to a verdict. Each issue says which
 * parameter, what was expected, what was found, why it matters and how to reach CLOSED.
 * The verdict of a run is the worst of its issues: CLOSED < OPEN < INVALID; warnings are
 * reported but do not change the verdict.
 */
#ifndef MLPIO_RULES_H
#define MLPIO_RULES_H

#include <cjson/cJSON.h>

#include "io/error.h"

enum mlpio_verdict {
    MLPIO_VERDICT_CLOSED = 0,
    MLPIO_VERDICT_OPEN = 1,
    MLPIO_VERDICT_INVALID = 2,
};

enum mlpio_issue_level {
    MLPIO_ISSUE_WARNING = 0, /* worth knowing, no effect on the verdict */
    MLPIO_ISSUE_OPEN = 1,    /* makes the run OPEN at best */
    MLPIO_ISSUE_INVALID = 2, /* makes the run INVALID */
};

struct mlpio_issue {
    enum mlpio_issue_level level;
    char *parameter; /* dotted config key or run property ("world_size") */
    char *expected;
    char *actual;
    char *message;
    char *hint; /* how to fix it (may be empty) */
};

struct mlpio_verdict_report {
    struct mlpio_issue *issues;
    int count;
    int capacity;
};

struct mlpio_verdict_report *mlpio_verdict_create(void);
void mlpio_verdict_destroy(struct mlpio_verdict_report **v);

/* Add an issue (strings copied; NULL becomes ""). Returns 0, -1 on ENOMEM. */
int mlpio_verdict_add(struct mlpio_verdict_report *v, enum mlpio_issue_level level,
                      const char *parameter, const char *expected, const char *actual,
                      const char *hint, const char *fmt, ...) MLPIO_PRINTF(7, 8);

/* Drop issues beyond the first keep (a checker undoing its own work on failure). */
void mlpio_verdict_truncate(struct mlpio_verdict_report *v, int keep);

enum mlpio_verdict mlpio_verdict_of(const struct mlpio_verdict_report *v);
const char *mlpio_verdict_name(enum mlpio_verdict v); /* "CLOSED", "OPEN", "INVALID" */
/* -1 for an unknown name. */
int mlpio_verdict_parse(const char *name, enum mlpio_verdict *out);

/* {"verdict": "OPEN", "issues": [{"level", "parameter", "expected", "actual", "message",
 * "hint"}]} */
cJSON *mlpio_verdict_to_json(const struct mlpio_verdict_report *v);

/* A run checker for one benchmark. `run` is the run description (metadata JSON). */
typedef int (*mlpio_rules_checker_fn)(const cJSON *run, struct mlpio_verdict_report *v,
                                      struct mlpio_error *err);

/* Checker for a benchmark name ("checkpointing"), or NULL: the registry's (below). */
mlpio_rules_checker_fn mlpio_rules_run_checker(const char *benchmark);

/* ---- the registry of benchmarks (benchmarks.c) ------------------------------------------- */

/* How a benchmark's runs are judged together: internal to rules/ (rules/submission_impl.h). */
struct mlpio_submission_rules;

/* A benchmark as the rules know it: the name its runs carry (the "benchmark" of a run
 * description, the first folder below a results directory), the checker of one run, and the
 * rules that judge its runs together. A benchmark without submission rules (NULL) still has
 * its runs grouped, one group per model, judged by what every group checks (submission.h). */
struct mlpio_rules_benchmark {
    const char *name;
    mlpio_rules_checker_fn check;
    const struct mlpio_submission_rules *submission; /* NULL: the common checks only */
};

/* How many benchmarks mlpio_rules_benchmark_add accepts beyond the shipped ones. */
#define MLPIO_RULES_BENCHMARKS_ADDED_MAX 8

/* The benchmark of that name, shipped or added, or NULL. */
const struct mlpio_rules_benchmark *mlpio_rules_benchmark_find(const char *name);

/* The i-th benchmark in alphabetical order of names, shipped or added; NULL when i is negative
 * or past the last. */
const struct mlpio_rules_benchmark *mlpio_rules_benchmark_at(int i);

/* Register a benchmark beyond the shipped ones (a site's own workload, a test's), so that its
 * runs are judged and grouped like theirs. b is borrowed and must outlive every use of the
 * registry. Not thread-safe: add at start-up, before anything is judged. Returns 0, or -1 with
 * errno EINVAL (no name or no checker), EEXIST (a benchmark of that name is registered) or
 * ENOSPC (MLPIO_RULES_BENCHMARKS_ADDED_MAX were added already). */
int mlpio_rules_benchmark_add(const struct mlpio_rules_benchmark *b);

/* Run checks of WORKLOADS.md section 2. */
int mlpio_rules_check_checkpointing(const cJSON *run, struct mlpio_verdict_report *v,
                                    struct mlpio_error *err);
int mlpio_rules_check_training(const cJSON *run, struct mlpio_verdict_report *v,
                               struct mlpio_error *err);
/* The datasize rule of the run's rules edition ("training.datasize"): the dataset is at least
 * *memory_multiple times the clients' memory and an epoch at least *min_steps steps. Returns 0,
 * or -1 with err naming the edition and the figure that is missing or wrong. */
int mlpio_rules_training_datasize(const cJSON *run, double *memory_multiple, int *min_steps,
                                  struct mlpio_error *err);
/* Run checks of WORKLOADS.md section 3. */
int mlpio_rules_check_kvcache(const cJSON *run, struct mlpio_verdict_report *v,
                              struct mlpio_error *err);

/* Before any I/O, for every workload: refuse a folder the run writes or reads its data in
 * (`what`, "data folder", set with `option`, "--data-dir") that is, contains or lies inside the
 * results directory, where the data would mix with results (validate would judge them as runs).
 * Both paths absolute. Returns 0, or -1 with a MLPIO_ERR_CONFIG error naming both paths. */
int mlpio_rules_refuse_in_results(const char *what, const char *option, const char *folder,
                                  const char *results_dir, struct mlpio_error *err);

#endif
