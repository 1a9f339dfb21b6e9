/* mlpio rules engine, internal: what every run checker needs before and around its rules.
 *
 * A checker first reads the run description (see rules.h) in one pass that validates each field
 * a rule uses, so that a malformed document fails with an error naming the field instead of
 * crashing a rule. The readers here all fail the same way: a MLPIO_ERR_CONFIG error that names the
 * field by its dotted path ("config.checkpoint.fsync", "cluster.hosts[2].ranks"), says what was
 * expected and what was found, and carries the same hint. They leave *out untouched on failure.
 *
 * The other helpers hold what the checkers have in common once they judge: how a config value
 * is shown, how an override is undone, the rules on the run options and on a folder that must
 * stay out of the results directory (each benchmark supplying its own words), how a checker
 * walks its table of rules, and how a checker that cannot record an issue leaves the report as
 * it found it.
 *
 * Not part of the public API: only the files of rules/ include this header.
 */
#ifndef MLPIO_RULES_FIELDS_H
#define MLPIO_RULES_FIELDS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "io/error.h"
#include "rules/rules.h"

/* Largest count a JSON number (a double) holds exactly: 2^53. */
#define MLPIO_RULES_MAX_COUNT 9007199254740992.0

/* Size of the buffers that hold a field path, a value as text or a hint. Longer text is cut. */
#define MLPIO_RULES_TEXT_MAX 256

/* Fail on field `path`: it is missing (found == NULL) or not `expected` ("a string", "an
 * integer >= 1"). Always returns -1. */
int mlpio_rules_bad_field(const char *path, const char *expected, const cJSON *found,
                          struct mlpio_error *err);

/* Check that run is an object whose "benchmark" is `benchmark`, the checker's own. Returns 0, or
 * -1 with err set (the error tells the user to use the checker of the run's benchmark). */
int mlpio_rules_expect_benchmark(const cJSON *run, const char *benchmark, struct mlpio_error *err);

/* Field readers. Each reads member `name` of `obj`, whose own path is `prefix` ("" for the top
 * level, so the field is reported as "prefix.name" or "name"). obj may be NULL (the field is then
 * missing). On success *out is set and 0 returned; strings and objects point into obj. */

/* An object. */
int mlpio_rules_get_object(const cJSON *obj, const char *prefix, const char *name,
                           const cJSON **out, struct mlpio_error *err);
/* A string. */
int mlpio_rules_get_string(const cJSON *obj, const char *prefix, const char *name, const char **out,
                           struct mlpio_error *err);
/* A string that starts with '/'. */
int mlpio_rules_get_absolute(const cJSON *obj, const char *prefix, const char *name,
                             const char **out, struct mlpio_error *err);
/* true or false, as 1 or 0. */
int mlpio_rules_get_bool(const cJSON *obj, const char *prefix, const char *name, int *out,
                         struct mlpio_error *err);
/* A finite number >= min. */
int mlpio_rules_get_number(const cJSON *obj, const char *prefix, const char *name, double min,
                           double *out, struct mlpio_error *err);
/* A finite number > 0. */
int mlpio_rules_get_positive(const cJSON *obj, const char *prefix, const char *name, double *out,
                             struct mlpio_error *err);
/* A whole number in [min, INT_MAX]: 8.0 is accepted, 8.5 is not. */
int mlpio_rules_get_int(const cJSON *obj, const char *prefix, const char *name, int min, int *out,
                        struct mlpio_error *err);
/* A whole number in [min, MLPIO_RULES_MAX_COUNT]: for counts of files or bytes that may exceed
 * an int. */
int mlpio_rules_get_count(const cJSON *obj, const char *prefix, const char *name, double min,
                          double *out, struct mlpio_error *err);

/* run.overrides: an array of {key: string, value: any JSON, reference?: any JSON, source:
 * string}, in the order they were applied. *out is the validated array. */
int mlpio_rules_read_overrides(const cJSON *run, const cJSON **out, struct mlpio_error *err);

/* run.cluster.hosts: a non-empty array of {hostname: string, ranks: whole number in [1,
 * max_ranks]}. A checker that counts ranks in an int passes INT_MAX. *out is the validated
 * array. */
int mlpio_rules_read_hosts(const cJSON *run, double max_ranks, const cJSON **out,
                           struct mlpio_error *err);

/* A JSON value as a person reads it into buf (n bytes): a string without quotes, anything else
 * as compact JSON, "(not set)" for NULL. */
void mlpio_rules_value_text(const cJSON *item, char *buf, size_t n);

/* The override of key that took effect (the last one: later sources win), or NULL. overrides is
 * an array validated by mlpio_rules_read_overrides. */
const cJSON *mlpio_rules_find_override(const cJSON *overrides, const char *key);

/* Into buf (n bytes): how to bring key back to the value `closed`, phrased for where the
 * override ov came from (--params, a command-line option, the config file). ov may be NULL when
 * nothing overrode key: the hint then says to set it. */
void mlpio_rules_undo_hint(const cJSON *ov, const char *key, const char *closed, char *buf,
                           size_t n);

/* One override as a rule reports it. */
struct mlpio_rules_change {
    const char *key;                     /* points into the override */
    char expected[MLPIO_RULES_TEXT_MAX]; /* the reference value, "(not set)" if none */
    char actual[MLPIO_RULES_TEXT_MAX];   /* the value the run used */
    char hint[MLPIO_RULES_TEXT_MAX];     /* how to undo it */
};

/* Whether override o of overrides changes what the run does: 0 when a later override of the same
 * key replaced it or when it restates its reference value; 1 otherwise, with *c filled. */
int mlpio_rules_override_change(const cJSON *overrides, const cJSON *o,
                                struct mlpio_rules_change *c);

/* Add an INVALID issue on `parameter` when `folder` and `results_dir` (absolute paths) are the
 * same directory or one lies inside the other: cleaning one would destroy the other. `what`
 * names the folder in the message ("data folder"), `contents` what it holds ("the dataset"),
 * `hint` says how to move it. Returns 0, or -1 when memory runs out. */
int mlpio_rules_check_apart(struct mlpio_verdict_report *v, const char *parameter,
                            const char *folder, const char *results_dir, const char *what,
                            const char *contents, const char *hint);

/* Whether a run's data and its results were on different file systems (the run's
 * facts.fs_separation, app/fsprobe.h), and the rule of its edition that wants them apart. */
struct mlpio_rules_fs {
    const char *rule; /* the edition's "fs_separation_rule" ("3.4.2"), NULL: no such rule */
    int probed;       /* the run recorded the probe */
    int same;         /* ... and found one file system */
    const char *method, *data, *results;
};

/* Fill fs from run (the description) and the section of benchmark in its edition. 0, or -1
 * with err when the recorded probe is malformed. */
int mlpio_rules_read_fs(const cJSON *run, const char *benchmark, struct mlpio_rules_fs *fs,
                        struct mlpio_error *err);

/* Add an OPEN issue on parameter when the edition wants the folder (what names it) on another
 * file system than the results and the run found them on one; runs recorded before the probe
 * existed are not judged by it. 0, or -1 when memory runs out. */
int mlpio_rules_check_fs(struct mlpio_verdict_report *v, const char *parameter,
                         const struct mlpio_rules_fs *fs, const char *what, const char *option);

/* What a benchmark's run options do to its figures, in the benchmark's own words. */
struct mlpio_rules_option_words {
    const char *scaled;     /* what --scale shrinks ("every sample") */
    const char *scale_why;  /* why that matters, completing the scale message */
    const char *null_why;   /* the whole message when io_api is "null" */
    const char *verify_why; /* the whole message when verify is on */
};

/* The rules on the run options every benchmark shares: scale < 1 is OPEN, the null backend is
 * INVALID, verification inside the timed phases is OPEN. Adds one issue per broken rule, with
 * the messages of `words`. Returns 0, or -1 when memory runs out. */
int mlpio_rules_check_options(struct mlpio_verdict_report *v, double scale, const char *io_api,
                              int verify, const struct mlpio_rules_option_words *words);

/* The registry entries of the shipped benchmarks (benchmarks.c lists them), each defined in its
 * run checker's file, <benchmark>.c. */
extern const struct mlpio_rules_benchmark mlpio_rules_checkpointing;
extern const struct mlpio_rules_benchmark mlpio_rules_kvcache;
extern const struct mlpio_rules_benchmark mlpio_rules_training;

/* One rule of a run checker. A checker first reads its run description into a validated copy of
 * its own type, then applies its table of rules to that copy, hence the untyped `run`. fn adds
 * the rule's issues to v and returns 0, or nonzero when an issue could not be recorded. */
struct mlpio_rules_check {
    const char *name; /* the rule, as a reader of the table looks it up */
    int (*fn)(const void *run, struct mlpio_verdict_report *v);
};

/* Apply the n rules of table to run, in order. The first that fails stops the walk: the issues
 * added since it began are dropped, so the report is as the checker found it, and err says
 * ENOMEM naming the checker ("training"), as mlpio_rules_abandon. Returns 0, or -1. */
int mlpio_rules_run_checks(const struct mlpio_rules_check *table, size_t n, const void *run,
                           struct mlpio_verdict_report *v, const char *checker,
                           struct mlpio_error *err);

/* A run checker as data: its benchmark, how it reads a run description into its validated copy
 * (of the checker's own type: 0, or -1 with err naming the field at fault), and its rules. */
struct mlpio_rules_checker {
    const struct mlpio_rules_benchmark *benchmark;
    int (*read)(const cJSON *run, void *copy, struct mlpio_error *err);
    const struct mlpio_rules_check *checks;
    size_t n;
};

/* What every run checker does: refuse a missing report, read run into copy (a malformed run
 * leaves the report untouched), then apply the rules with mlpio_rules_run_checks. Returns 0, or
 * -1 with err set. */
int mlpio_rules_judge(const struct mlpio_rules_checker *c, const cJSON *run, void *copy,
                      struct mlpio_verdict_report *v, struct mlpio_error *err);

/* For a checker whose rule could not record an issue: drop the issues it added past `keep` (the
 * count when it started), so the report is as it was, and fail with ENOMEM naming the checker
 * ("training"). Always returns -1. */
int mlpio_rules_abandon(struct mlpio_verdict_report *v, int keep, const char *checker,
                        struct mlpio_error *err);

#endif
