/* mlpio rules engine: submission checks, the rules that judge several runs together.
 *
 * A run checker (rules.h) judges one run; a submission is made of several, and WORKLOADS.md
 * adds rules on how they fit together. Runs are grouped, then each group is judged:
 *
 *   training       one group per model and emulated accelerator: 1 warm-up + 5 measured runs
 *                  with different seeds, within 5 % of each other, the one datagen run that wrote
 *                  their dataset (its files and bytes cover the datasize figure), the same hosts
 *                  and accelerators throughout, data folder outside the results directory.
 *   checkpointing  one group per model: 10 writes and 10 reads, in one run or in a write run
 *                  followed by a read run started within 30 s of the writes' end, with fsync,
 *                  the same ranks and the same checkpoint folder, outside the results directory.
 *   kvcache        one group per CLOSED option ("option 1") holding 3 trials, one "custom" group
 *                  per model for runs that match no option, and one group over every kvcache run
 *                  ("options", model "*") requiring options 1, 2 and 3.
 *
 * Every group also carries its runs' state: a run that failed, did not finish or cannot be read
 * makes the group INVALID, and runs the run checker judged OPEN or INVALID bring the group down
 * to their verdict. Issues are those of the run checkers (level, parameter, expected, actual,
 * message, hint); "parameter" names a config key, a run property or "runs".
 *
 * Each group also gets its figures, aggregated as the rules say: training the mean of the 5
 * measured runs; checkpointing the write and read figures; kvcache bandwidth and tokens/s
 * averaged over trials (each trial's already summed over ranks) and P95 latencies maximised
 * over trials (each trial's already the worst rank).
 */
#ifndef MLPIO_RULES_SUBMISSION_H
#define MLPIO_RULES_SUBMISSION_H

#include <cjson/cJSON.h>

#include "io/error.h"
#include "rules/rules.h"

/* One run as the submission checks see it. Everything is borrowed from the caller. */
struct mlpio_submission_run {
    const char *path;      /* names the run in issues (relative to the results directory) */
    const char *benchmark; /* from the metadata, or the directory when it cannot be read */
    const char *model;
    const char *command;
    const char *status;    /* "success", "failed", "running", "unfinished" or "unreadable" */
    const char *preset;    /* the CLOSED option whose values the run's config has ("2"), or NULL */
    const cJSON *metadata; /* the run description (*_metadata.json), or NULL */
    const cJSON *summary;  /* summary.json, or NULL */
    const cJSON *events;   /* array of the event log's events, or NULL */
    int judged;            /* 1: verdict is the run checker's verdict of this run */
    enum mlpio_verdict verdict;
};

/* Group runs (n of them; runs may be NULL when n is 0) and judge every group. Returns a new
 * JSON array (free with cJSON_Delete) of
 *   {"benchmark", "model", "group", "verdict", "runs": [paths], "issues": [...], "figures": {}}
 * sorted by benchmark, model and group, runs in their input order. Runs of a benchmark the
 * registry (rules.h) does not know belong to no group; those of a registered benchmark without
 * submission rules of its own form one group per model ("submission"), judged by what every
 * group checks. NULL with err set when memory runs out. */
cJSON *mlpio_submission_check(const struct mlpio_submission_run *runs, int n,
                              struct mlpio_error *err) MLPIO_WUR;

/* The CLOSED requirements of a benchmark, one sentence per line, run rules then submission
 * rules, NULL-terminated; NULL for a benchmark without submission rules of its own. Static: do
 * not free. */
const char *const *mlpio_submission_checklist(const char *benchmark);

/* The i-th benchmark of the registry with submission rules (and a checklist), in alphabetical
 * order; NULL when i is negative or past the last. */
const char *mlpio_submission_benchmark(int i);

#endif
