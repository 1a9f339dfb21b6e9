/* Tests of the submission checks (rules/submission.h).
 *
 * Each case starts from a valid CLOSED submission of the fixture trees (tests/fixtures/trees:
 * "closed" and "ckpt-pair", real runs trimmed), changes what one rule looks at, and expects the
 * group's verdict and the issue of that rule. The runs' own verdicts come from their run
 * checkers, as the scanner gives them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/json_file.h"
#include "rules/rules.h"
#include "rules/submission.h"
#include "support/files.h"
#include "support/json_edit.h"

#define MAX_RUNS 16

struct test_run {
    char path[128], benchmark[32], model[64], command[32], status[16], preset[8];
    int has_preset;
    cJSON *meta, *summary, *events;
};

struct set {
    struct test_run runs[MAX_RUNS];
    int n;
};

/* ---- loading the fixture trees ---------------------------------------------------------- */

/* snprintf that fails the test instead of cutting the text. */
static void textf(char *buf, size_t n, const char *fmt, ...) MLPIO_PRINTF(3, 4);

static void textf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    assert_true(len >= 0 && (size_t)len < n);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir, sorted, into names (at most max). */
static int list(const char *dir, char names[][64], int max)
{
    DIR *d = opendir(dir);
    char *ptrs[64];
    int n = 0;
    if (!d)
        return 0;
    const struct dirent *e;
    while ((e = readdir(d)) && n < max && n < 64)
        if (e->d_name[0] != '.')
            ptrs[n++] = strdup(e->d_name);
    closedir(d);
    qsort(ptrs, (size_t)n, sizeof(*ptrs), cmp_names);
    for (int i = 0; i < n; i++) {
        textf(names[i], 64, "%s", ptrs[i]);
        free(ptrs[i]);
    }
    return n;
}

static cJSON *read_events(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[65536];
    cJSON *events = cJSON_CreateArray();
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp))
        cJSON_AddItemToArray(events, cJSON_Parse(line));
    fclose(fp);
    return events;
}

static void load_run(struct set *s, const char *root, const char *rel, const char *bench)
{
    char dir[PATH_MAX], path[PATH_MAX], names[8][64];
    struct mlpio_error err = {0};
    struct test_run *r = &s->runs[s->n++];
    assert_true(s->n <= MAX_RUNS);
    memset(r, 0, sizeof(*r));
    textf(dir, sizeof(dir), "%s/%s", root, rel);
    int n = list(dir, names, 8);
    for (int i = 0; i < n; i++)
        if (strstr(names[i], "_metadata.json"))
            r->meta = mlpio_json_read_file(path_join(path, dir, names[i]), &err);
    assert_non_null(r->meta);
    r->summary = mlpio_json_read_file(path_join(path, dir, "summary.json"), &err);
    r->events = read_events(path_join(path, dir, "events.jsonl"));
    textf(r->path, sizeof(r->path), "%s", rel);
    textf(r->benchmark, sizeof(r->benchmark), "%s", bench);
    textf(r->model, sizeof(r->model), "%s", cJSON_GetObjectItem(r->meta, "model")->valuestring);
    textf(r->command, sizeof(r->command), "%s",
          cJSON_GetObjectItem(r->meta, "command")->valuestring);
    textf(r->status, sizeof(r->status), "success");
    /* What the scanner finds by matching the config with the presets; here the CLI's record. */
    const cJSON *preset = cJSON_GetObjectItem(cJSON_GetObjectItem(r->meta, "options"), "preset");
    if (preset) {
        textf(r->preset, sizeof(r->preset), "%s",
              cJSON_GetObjectItem(preset, "value")->valuestring);
        r->has_preset = 1;
    }
}

/* Every run of benchmark in fixture tree `tree`. */
static void load_set(struct set *s, const char *tree, const char *bench)
{
    char root[PATH_MAX], dir[PATH_MAX], models[8][64], commands[8][64], ids[16][64];
    memset(s, 0, sizeof(*s));
    fixture_path(root, sizeof(root), "trees", tree);
    textf(dir, sizeof(dir), "%s/%s", root, bench);
    int nm = list(dir, models, 8);
    for (int m = 0; m < nm; m++) {
        textf(dir, sizeof(dir), "%s/%s/%s", root, bench, models[m]);
        int nc = list(dir, commands, 8);
        for (int c = 0; c < nc; c++) {
            textf(dir, sizeof(dir), "%s/%s/%s/%s", root, bench, models[m], commands[c]);
            int ni = list(dir, ids, 16);
            for (int i = 0; i < ni; i++) {
                char rel[256];
                textf(rel, sizeof(rel), "%s/%s/%s/%s", bench, models[m], commands[c], ids[i]);
                load_run(s, root, rel, bench);
            }
        }
    }
    assert_true(s->n > 0);
}

static void free_set(struct set *s)
{
    for (int i = 0; i < s->n; i++) {
        cJSON_Delete(s->runs[i].meta);
        cJSON_Delete(s->runs[i].summary);
        cJSON_Delete(s->runs[i].events);
    }
    s->n = 0;
}

static void drop(struct set *s, int i)
{
    cJSON_Delete(s->runs[i].meta);
    cJSON_Delete(s->runs[i].summary);
    cJSON_Delete(s->runs[i].events);
    memmove(&s->runs[i], &s->runs[i + 1], sizeof(s->runs[0]) * (size_t)(s->n - i - 1));
    s->n--;
}

/* A copy of run i at the end, under another path. */
static struct test_run *duplicate(struct set *s, int i, const char *suffix)
{
    struct test_run *r = &s->runs[s->n++];
    assert_true(s->n <= MAX_RUNS);
    *r = s->runs[i];
    r->meta = cJSON_Duplicate(s->runs[i].meta, 1);
    r->summary = cJSON_Duplicate(s->runs[i].summary, 1);
    r->events = cJSON_Duplicate(s->runs[i].events, 1);
    strncat(r->path, suffix, sizeof(r->path) - strlen(r->path) - 1);
    return r;
}

static int find(const struct set *s, const char *command, int nth)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->runs[i].command, command) && nth-- == 0)
            return i;
    fail_msg("no %s run #%d", command, nth);
    return -1;
}

static double num(const cJSON *doc, const char *dotted)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", dotted);
    const cJSON *it = doc;
    for (char *p = strtok_r(buf, ".", &save); p; p = strtok_r(NULL, ".", &save))
        it = cJSON_GetObjectItemCaseSensitive(it, p);
    assert_true(cJSON_IsNumber(it));
    return it->valuedouble;
}

/* Move every event of a run by seconds. */
static void shift_events(struct test_run *r, double seconds)
{
    cJSON *ev;
    cJSON_ArrayForEach(ev, r->events)
    {
        cJSON *ts = cJSON_GetObjectItem(ev, "timestamp");
        cJSON_SetNumberValue(ts, ts->valuedouble + seconds);
    }
}

/* cmocka's assert_float_equal works in float, too coarse for timestamps. */
static void assert_near(double a, double b, double epsilon)
{
    if (!(fabs(a - b) <= epsilon))
        fail_msg("%.17g != %.17g (within %g)", a, b, epsilon);
}

/* ---- judging ----------------------------------------------------------------------------- */

static cJSON *check(const struct set *s)
{
    struct mlpio_submission_run runs[MAX_RUNS];
    struct mlpio_error err = {0};
    for (int i = 0; i < s->n; i++) {
        const struct test_run *t = &s->runs[i];
        mlpio_rules_checker_fn fn = mlpio_rules_run_checker(t->benchmark);
        runs[i] = (struct mlpio_submission_run){
            .path = t->path,
            .benchmark = t->benchmark,
            .model = t->model,
            .command = t->command,
            .status = t->status,
            .preset = t->has_preset ? t->preset : NULL,
            .metadata = t->meta,
            .summary = t->summary,
            .events = t->events,
        };
        if (fn && strcmp(t->command, "datagen") != 0) {
            struct mlpio_verdict_report *v = mlpio_verdict_create();
            if (fn(t->meta, v, &err) == 0) {
                runs[i].judged = 1;
                runs[i].verdict = mlpio_verdict_of(v);
            }
            mlpio_verdict_destroy(&v);
        }
    }
    cJSON *groups = mlpio_submission_check(runs, s->n, &err);
    if (!groups)
        fail_msg("mlpio_submission_check: %s", err.message);
    return groups;
}

static const cJSON *group(const cJSON *groups, const char *model, const char *name)
{
    const cJSON *g;
    cJSON_ArrayForEach(g, groups)
    {
        if (!strcmp(cJSON_GetObjectItem(g, "model")->valuestring, model) &&
            !strcmp(cJSON_GetObjectItem(g, "group")->valuestring, name))
            return g;
    }
    fail_msg("no group %s %s", model, name);
    return NULL;
}

static const cJSON *issue(const cJSON *g, const char *parameter)
{
    const cJSON *is;
    cJSON_ArrayForEach(
        is, cJSON_GetObjectItem(
                g, "issues")) if (!strcmp(cJSON_GetObjectItem(is, "parameter")->valuestring,
                                          parameter)) return is;
    return NULL;
}

static const char *verdict(const cJSON *g)
{
    return cJSON_GetObjectItem(g, "verdict")->valuestring;
}

static void print_issues(const cJSON *g)
{
    const cJSON *is;
    cJSON_ArrayForEach(is, cJSON_GetObjectItem(g, "issues"))
        print_message("  issue %s %s: %s\n", cJSON_GetObjectItem(is, "level")->valuestring,
                      cJSON_GetObjectItem(is, "parameter")->valuestring,
                      cJSON_GetObjectItem(is, "message")->valuestring);
}

/* ---- the cases --------------------------------------------------------------------------- */

struct sub_case {
    const char *name;
    const char *tree, *benchmark;
    void (*change)(struct set *s);
    const char *model, *group; /* the group judged */
    const char *verdict;
    const char *parameter; /* an issue that must be there (NULL: no issue at all) */
    const char *level;     /* its level */
};

static void no_change(struct set *s) {}

/* training: the runs sorted by start are the warm-up, then the 5 measured runs. */
static void train_five_runs(struct set *s)
{
    drop(s, find(s, "run", 5));
}

static void train_seven_runs(struct set *s)
{
    struct test_run *r = duplicate(s, find(s, "run", 5), "-copy");
    set_path(r->meta, "salt", "\"00ff\"");
    set_path(r->meta, "start_time.epoch", "1895310000");
}

static void train_same_salt(struct set *s)
{
    char *salt =
        cJSON_PrintUnformatted(cJSON_GetObjectItem(s->runs[find(s, "run", 1)].meta, "salt"));
    set_path(s->runs[find(s, "run", 3)].meta, "salt", salt);
    free(salt);
}

static void train_same_seed(struct set *s)
{
    set_path(s->runs[find(s, "run", 2)].meta, "seed", "7");
    set_path(s->runs[find(s, "run", 4)].meta, "seed", "7");
}

static void train_spread(struct set *s)
{
    cJSON *sum = s->runs[find(s, "run", 3)].summary;
    double x = num(sum, "train_throughput_mean_samples_per_second");
    char text[64];
    snprintf(text, sizeof(text), "%.17g", x * 1.06);
    set_path(sum, "train_throughput_mean_samples_per_second", text);
}

/* The warm-up (the earliest run) does not count in the spread. */
static void train_slow_warmup(struct set *s)
{
    set_path(s->runs[find(s, "run", 0)].summary, "train_throughput_mean_samples_per_second", "0.5");
}

static void train_au_missed(struct set *s)
{
    cJSON *sum = s->runs[find(s, "run", 2)].summary;
    set_path(sum, "train_au_mean_percentage", "61.5");
    set_path(sum, "train_au_meet_expectation", "\"fail\"");
}

static void train_no_datagen(struct set *s)
{
    drop(s, find(s, "datagen", 0));
}

static void train_two_datagens(struct set *s)
{
    duplicate(s, find(s, "datagen", 0), "-again");
}

static void train_datagen_elsewhere(struct set *s)
{
    set_path(s->runs[find(s, "datagen", 0)].meta, "config.dataset.data_folder", "\"/mnt/other\"");
}

static void train_datagen_few_files(struct set *s)
{
    set_path(s->runs[find(s, "datagen", 0)].summary, "datagen_files", "20");
}

static void set_bytes(struct set *s, double fraction)
{
    cJSON *sum = s->runs[find(s, "datagen", 0)].summary;
    char text[64];
    snprintf(text, sizeof(text), "%.0f", num(sum, "datagen_bytes") * fraction);
    set_path(sum, "datagen_bytes", text);
}

static void train_datagen_short(struct set *s)
{
    set_bytes(s, 0.9);
}

/* Within the slack for record sizes drawn below the mean. */
static void train_datagen_nearly(struct set *s)
{
    set_bytes(s, 0.99);
}

static void train_other_system(struct set *s)
{
    set_path(s->runs[find(s, "run", 4)].meta, "facts.accelerators", "2");
}

static void train_uneven_hosts(struct set *s)
{
    for (int i = 0; i < 6; i++) {
        set_path(s->runs[find(s, "run", i)].meta, "facts.accelerators", "3");
        set_path(s->runs[find(s, "run", i)].meta, "cluster.num_hosts", "2");
    }
}

static void train_other_folder(struct set *s)
{
    set_path(s->runs[find(s, "run", 2)].meta, "config.dataset.data_folder", "\"/mnt/b\"");
}

static void train_folder_in_results(struct set *s)
{
    for (int i = 0; i < s->n; i++)
        set_path(s->runs[i].meta, "config.dataset.data_folder",
                 "\"/home/bench/mlpio-results/data\"");
}

static void train_run_failed(struct set *s)
{
    snprintf(s->runs[find(s, "run", 3)].status, 16, "failed");
}

static void train_run_open(struct set *s)
{
    set_path(s->runs[find(s, "run", 2)].meta, "options.scale", "0.5");
}

/* checkpointing: one run of 10 + 10, or the pair of "ckpt-pair" (writer first). */
static void ckpt_folder_in_results(struct set *s)
{
    set_path(s->runs[0].meta, "config.checkpoint.checkpoint_folder",
             "\"/home/bench/mlpio-results/c\"");
}

static void ckpt_no_fsync(struct set *s)
{
    set_path(s->runs[0].meta, "config.checkpoint.fsync", "false");
}

static void ckpt_five_writes(struct set *s)
{
    set_path(s->runs[0].summary, "num_checkpoints_write", "5");
}

static void ckpt_subset(struct set *s)
{
    set_path(s->runs[0].meta, "world_size", "4");
}

static void ckpt_three_runs(struct set *s)
{
    duplicate(s, 0, "-again");
    duplicate(s, 0, "-third");
}

static void pair_late_read(struct set *s)
{
    shift_events(&s->runs[1], 45);
}

static void pair_read_first(struct set *s)
{
    shift_events(&s->runs[1], -600);
}

static void pair_both_read(struct set *s)
{
    set_path(s->runs[0].summary, "num_checkpoints_read", "10");
}

static void pair_other_ranks(struct set *s)
{
    set_path(s->runs[1].meta, "world_size", "4");
}

static void pair_other_folder(struct set *s)
{
    set_path(s->runs[1].meta, "config.checkpoint.checkpoint_folder", "\"/mnt/elsewhere\"");
}

/* Without events, the metadata's times (end of the write run, start of the read run). */
static void pair_no_events(struct set *s)
{
    cJSON_Delete(s->runs[0].events);
    cJSON_Delete(s->runs[1].events);
    s->runs[0].events = s->runs[1].events = NULL;
}

/* kvcache: runs of options 1 and 2 (llama3.1-8b) and 3 (llama3.1-70b-instruct). */
static int kv_option(struct set *s, const char *option)
{
    for (int i = 0; i < s->n; i++)
        if (s->runs[i].has_preset && !strcmp(s->runs[i].preset, option))
            return i;
    fail_msg("no run of option %s", option);
    return -1;
}

static void kv_no_option2(struct set *s)
{
    drop(s, kv_option(s, "2"));
}

static void kv_option1_twice(struct set *s)
{
    duplicate(s, kv_option(s, "1"), "-again");
}

static void kv_two_trials(struct set *s)
{
    cJSON *trials = cJSON_GetObjectItem(s->runs[kv_option(s, "1")].summary, "trials");
    cJSON_DeleteItemFromArray(trials, 2);
}

static void kv_option3_failed(struct set *s)
{
    snprintf(s->runs[kv_option(s, "3")].status, 16, "unfinished");
}

/* Option 2 of another invocation than options 1 and 3. */
static void kv_separate_invocation(struct set *s)
{
    set_path(s->runs[kv_option(s, "2")].meta, "options.option_sequence.id", "\"20261122_020000\"");
}

/* Option 3 started 30 s after option 2 ended, where the rules wait 90 s. */
static void kv_short_delay(struct set *s)
{
    double end = mlpio_json_number(s->runs[kv_option(s, "2")].meta, "end_time.epoch", 0);
    char text[64];
    snprintf(text, sizeof(text), "%.6f", end + 30);
    set_path(s->runs[kv_option(s, "3")].meta, "start_time.epoch", text);
}

static void kv_custom(struct set *s)
{
    s->runs[kv_option(s, "3")].has_preset = 0;
}

static const struct sub_case cases[] = {
    {"training_valid", "closed", "training", no_change, "unet3d", "h100", "CLOSED", NULL, NULL},
    {"training_5_runs", "closed", "training", train_five_runs, "unet3d", "h100", "INVALID", "runs",
     "invalid"},
    {"training_7_runs", "closed", "training", train_seven_runs, "unet3d", "h100", "INVALID", "runs",
     "invalid"},
    {"training_same_salt", "closed", "training", train_same_salt, "unet3d", "h100", "INVALID",
     "seed", "invalid"},
    {"training_same_seed", "closed", "training", train_same_seed, "unet3d", "h100", "INVALID",
     "seed", "invalid"},
    {"training_spread_6pc", "closed", "training", train_spread, "unet3d", "h100", "INVALID",
     "train_throughput_mean_samples_per_second", "invalid"},
    {"training_slow_warmup", "closed", "training", train_slow_warmup, "unet3d", "h100", "CLOSED",
     NULL, NULL},
    {"training_au_missed", "closed", "training", train_au_missed, "unet3d", "h100", "INVALID",
     "train_au_mean_percentage", "invalid"},
    {"training_no_datagen", "closed", "training", train_no_datagen, "unet3d", "h100", "INVALID",
     "datagen", "invalid"},
    {"training_two_datagens", "closed", "training", train_two_datagens, "unet3d", "h100", "INVALID",
     "datagen", "invalid"},
    {"training_datagen_elsewhere", "closed", "training", train_datagen_elsewhere, "unet3d", "h100",
     "INVALID", "datagen", "invalid"},
    {"training_datagen_few_files", "closed", "training", train_datagen_few_files, "unet3d", "h100",
     "INVALID", "dataset.num_files_train", "invalid"},
    {"training_datagen_short", "closed", "training", train_datagen_short, "unet3d", "h100",
     "INVALID", "datagen_bytes", "invalid"},
    {"training_datagen_nearly", "closed", "training", train_datagen_nearly, "unet3d", "h100",
     "CLOSED", NULL, NULL},
    {"training_other_system", "closed", "training", train_other_system, "unet3d", "h100", "INVALID",
     "accelerators", "invalid"},
    {"training_uneven_hosts", "closed", "training", train_uneven_hosts, "unet3d", "h100", "INVALID",
     "accelerators_per_host", "invalid"},
    {"training_other_folder", "closed", "training", train_other_folder, "unet3d", "h100", "INVALID",
     "dataset.data_folder", "invalid"},
    {"training_folder_in_results", "closed", "training", train_folder_in_results, "unet3d", "h100",
     "INVALID", "dataset.data_folder", "invalid"},
    {"training_run_failed", "closed", "training", train_run_failed, "unet3d", "h100", "INVALID",
     "runs", "invalid"},
    {"training_run_open", "closed", "training", train_run_open, "unet3d", "h100", "OPEN", "runs",
     "open"},
    {"ckpt_valid", "closed", "checkpointing", no_change, "llama3-8b", "submission", "CLOSED", NULL,
     NULL},
    {"ckpt_folder_in_results", "closed", "checkpointing", ckpt_folder_in_results, "llama3-8b",
     "submission", "INVALID", "checkpoint.checkpoint_folder", "invalid"},
    {"ckpt_no_fsync", "closed", "checkpointing", ckpt_no_fsync, "llama3-8b", "submission",
     "INVALID", "checkpoint.fsync", "invalid"},
    {"ckpt_five_writes", "closed", "checkpointing", ckpt_five_writes, "llama3-8b", "submission",
     "OPEN", "checkpoint.num_checkpoints_write", "open"},
    {"ckpt_subset", "closed", "checkpointing", ckpt_subset, "llama3-8b", "submission", "OPEN",
     "world_size", "open"},
    {"ckpt_three_runs", "closed", "checkpointing", ckpt_three_runs, "llama3-8b", "submission",
     "INVALID", "runs", "invalid"},
    {"pair_valid", "ckpt-pair", "checkpointing", no_change, "llama3-8b", "submission", "CLOSED",
     NULL, NULL},
    {"pair_read_after_45s", "ckpt-pair", "checkpointing", pair_late_read, "llama3-8b", "submission",
     "INVALID", "read_delay_seconds", "invalid"},
    {"pair_read_before_write", "ckpt-pair", "checkpointing", pair_read_first, "llama3-8b",
     "submission", "INVALID", "read_delay_seconds", "invalid"},
    {"pair_both_read", "ckpt-pair", "checkpointing", pair_both_read, "llama3-8b", "submission",
     "INVALID", "runs", "invalid"},
    {"pair_other_ranks", "ckpt-pair", "checkpointing", pair_other_ranks, "llama3-8b", "submission",
     "INVALID", "world_size", "invalid"},
    {"pair_other_folder", "ckpt-pair", "checkpointing", pair_other_folder, "llama3-8b",
     "submission", "INVALID", "checkpoint.checkpoint_folder", "invalid"},
    {"pair_no_events", "ckpt-pair", "checkpointing", pair_no_events, "llama3-8b", "submission",
     "CLOSED", NULL, NULL},
    {"kv_valid_options", "closed", "kvcache", no_change, "*", "options", "CLOSED", NULL, NULL},
    {"kv_valid_option3", "closed", "kvcache", no_change, "llama3.1-70b-instruct", "option 3",
     "CLOSED", NULL, NULL},
    {"kv_no_option2", "closed", "kvcache", kv_no_option2, "*", "options", "OPEN", "options",
     "open"},
    {"kv_option1_twice", "closed", "kvcache", kv_option1_twice, "llama3.1-8b", "option 1",
     "INVALID", "kvcache.trials", "invalid"},
    {"kv_two_trials", "closed", "kvcache", kv_two_trials, "llama3.1-8b", "option 1", "INVALID",
     "kvcache.trials", "invalid"},
    {"kv_option3_unfinished", "closed", "kvcache", kv_option3_failed, "llama3.1-70b-instruct",
     "option 3", "INVALID", "runs", "invalid"},
    {"kv_option3_unfinished_missing", "closed", "kvcache", kv_option3_failed, "*", "options",
     "OPEN", "options", "open"},
    {"kv_separate_invocation", "closed", "kvcache", kv_separate_invocation, "*", "options", "OPEN",
     "options", "open"},
    {"kv_short_delay", "closed", "kvcache", kv_short_delay, "*", "options", "OPEN", "options",
     "open"},
    {"kv_custom", "closed", "kvcache", kv_custom, "llama3.1-70b-instruct", "custom", "OPEN",
     "option", "open"},
};

static void test_case(void **state)
{
    const struct sub_case *c = *state;
    struct set s;
    load_set(&s, c->tree, c->benchmark);
    c->change(&s);
    cJSON *groups = check(&s);
    const cJSON *g = group(groups, c->model, c->group);
    print_issues(g);
    assert_string_equal(verdict(g), c->verdict);
    if (c->parameter) {
        const cJSON *is = issue(g, c->parameter);
        assert_non_null(is);
        assert_string_equal(cJSON_GetObjectItem(is, "level")->valuestring, c->level);
        /* Every issue says what was expected, what was found and how to fix it. */
        static const char *const fields[] = {"expected", "actual", "message", "hint"};
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
            assert_true(strlen(cJSON_GetObjectItem(is, fields[i])->valuestring) > 0);
    } else {
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(g, "issues")), 0);
    }
    cJSON_Delete(groups);
    free_set(&s);
}

/* ---- figures, grouping, the API's edges ------------------------------------------------- */

/* Training: the means of the 5 measured runs, the warm-up left out. */
static void test_training_figures(void **state)
{
    struct set s;
    load_set(&s, "closed", "training");
    set_path(s.runs[find(&s, "run", 0)].summary, "train_au_mean_percentage", "1");
    double sum = 0;
    for (int i = 1; i < 6; i++)
        sum += num(s.runs[find(&s, "run", i)].summary, "train_au_mean_percentage");
    cJSON *groups = check(&s);
    const cJSON *f = cJSON_GetObjectItem(group(groups, "unet3d", "h100"), "figures");
    assert_near(num(f, "train_au_mean_percentage"), sum / 5, 1e-9);
    assert_near(num(f, "runs"), 6, 0);
    assert_near(num(f, "datagen_files"), 21, 0);
    cJSON_Delete(groups);
    free_set(&s);
}

/* kvcache: bandwidth and tokens/s averaged over every trial of the group's runs (each trial
 * already summed over ranks); P95s the maximum over trials (each already the worst rank). */
static void test_kvcache_aggregation(void **state)
{
    struct set s;
    load_set(&s, "closed", "kvcache");
    int a = kv_option(&s, "1");
    struct test_run *b = duplicate(&s, a, "-b");
    cJSON *t;
    int k = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(b->summary, "trials"))
    {
        char text[32];
        snprintf(text, sizeof(text), "%d", 1000 * ++k);
        set_path(t, "tokens_per_second_wall", text);
        set_path(t, "storage.read_p95_worst_rank", k == 2 ? "0.75" : "0.001");
    }
    double tps = 1000 + 2000 + 3000, n = 3;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(s.runs[a].summary, "trials"))
    {
        tps += num(t, "tokens_per_second_wall");
        n++;
    }
    cJSON *groups = check(&s);
    const cJSON *g = group(groups, "llama3.1-8b", "option 1");
    const cJSON *f = cJSON_GetObjectItem(g, "figures");
    assert_near(num(f, "trials"), 6, 0);
    assert_near(num(f, "tokens_per_second"), tps / n, 1e-6);
    assert_near(num(f, "storage_read_p95_seconds"), 0.75, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(g, "runs")), 2);
    cJSON_Delete(groups);
    free_set(&s);
}

/* Checkpointing pair: the delay between the writes' end and the reads' start. */
static void test_pair_delay_figure(void **state)
{
    struct set s;
    load_set(&s, "ckpt-pair", "checkpointing");
    double end = 0, begin = 0;
    cJSON *ev;
    cJSON_ArrayForEach(ev,
                       s.runs[0].events) if (!strcmp(cJSON_GetObjectItem(ev, "name")->valuestring,
                                                     "phase_end")) end = num(ev, "timestamp");
    cJSON_ArrayForEach(ev,
                       s.runs[1].events) if (!strcmp(cJSON_GetObjectItem(ev, "name")->valuestring,
                                                     "phase_begin")) begin = num(ev, "timestamp");
    cJSON *groups = check(&s);
    const cJSON *f = cJSON_GetObjectItem(group(groups, "llama3-8b", "submission"), "figures");
    assert_true(end > 0 && begin > end);
    assert_near(num(f, "read_delay_seconds"), begin - end, 1e-6);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(f, "save_checkpoint_io_mean_GB_per_second")));
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(f, "load_checkpoint_io_mean_GB_per_second")));
    cJSON_Delete(groups);
    free_set(&s);
}

/* Groups come sorted, with their runs; benchmarks without rules form none. */
static void test_grouping(void **state)
{
    struct mlpio_error err = {0};
    cJSON *empty = mlpio_submission_check(NULL, 0, &err);
    assert_non_null(empty);
    assert_int_equal(cJSON_GetArraySize(empty), 0);
    cJSON_Delete(empty);

    struct mlpio_submission_run runs[3] = {
        {.path = "vectordb/x/run/1", .benchmark = "vectordb", .model = "x", .status = "success"},
        {.path = "kvcache/m/run/2", .benchmark = "kvcache", .model = "m", .status = "unreadable"},
        {.path = "checkpointing/m/run/3",
         .benchmark = "checkpointing",
         .model = "m",
         .command = "run",
         .status = "unreadable"},
    };
    cJSON *groups = mlpio_submission_check(runs, 3, &err);
    assert_non_null(groups);
    static const char *const order[][3] = {{"checkpointing", "m", "submission"},
                                           {"kvcache", "*", "options"},
                                           {"kvcache", "m", "custom"}};
    assert_int_equal(cJSON_GetArraySize(groups), 3);
    for (int i = 0; i < 3; i++) {
        const cJSON *g = cJSON_GetArrayItem(groups, i);
        assert_string_equal(cJSON_GetObjectItem(g, "benchmark")->valuestring, order[i][0]);
        assert_string_equal(cJSON_GetObjectItem(g, "model")->valuestring, order[i][1]);
        assert_string_equal(cJSON_GetObjectItem(g, "group")->valuestring, order[i][2]);
    }
    /* Unreadable runs (no documents at all) are judged without crashing, and fail the group. */
    assert_string_equal(verdict(cJSON_GetArrayItem(groups, 0)), "INVALID");
    cJSON_Delete(groups);
}

static void test_checklists(void **state)
{
    int benchmarks = 0;
    for (const char *b; (b = mlpio_submission_benchmark(benchmarks)); benchmarks++) {
        const char *const *items = mlpio_submission_checklist(b);
        int run = 0, sub = 0;
        assert_non_null(items);
        for (; *items; items++) {
            run += !strncmp(*items, "run: ", 5);
            sub += !strncmp(*items, "submission: ", 12);
        }
        assert_true(run > 0 && sub > 0);
    }
    assert_int_equal(benchmarks, 3);
    assert_null(mlpio_submission_benchmark(-1));
    assert_null(mlpio_submission_checklist("vectordb"));
    assert_null(mlpio_submission_checklist(NULL));
}

/* Every field of a run's documents replaced by every other JSON type, or removed: the checks
 * still judge the group (reading leniently) and never crash. */
static void test_every_field_mutated(void **state)
{
    static const char *const trees[][2] = {
        {"closed", "training"}, {"ckpt-pair", "checkpointing"}, {"closed", "kvcache"}};
    static const char *const variants[] = {NULL, "null", "\"s\"", "-1", "true", "[]", "{}"};
    for (size_t t = 0; t < sizeof(trees) / sizeof(trees[0]); t++) {
        struct set s;
        load_set(&s, trees[t][0], trees[t][1]);
        for (int doc = 0; doc < 3; doc++) {
            int target_run = s.n - 1;
            cJSON **slot = doc == 0   ? &s.runs[target_run].meta
                           : doc == 1 ? &s.runs[target_run].summary
                                      : &s.runs[target_run].events;
            cJSON *pristine = *slot;
            for (int node = 0;; node++) {
                int done = 0;
                for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]) && !done; v++) {
                    cJSON *copy = cJSON_Duplicate(pristine, 1), *parent = NULL;
                    int k = node;
                    cJSON *target = nth_node(copy, &k, &parent);
                    if (!target) {
                        cJSON_Delete(copy);
                        done = 1;
                        break;
                    }
                    if (variants[v])
                        cJSON_ReplaceItemViaPointer(parent, target, cJSON_Parse(variants[v]));
                    else
                        cJSON_Delete(cJSON_DetachItemViaPointer(parent, target));
                    *slot = copy;
                    cJSON *groups = check(&s);
                    assert_true(cJSON_GetArraySize(groups) > 0);
                    cJSON_Delete(groups);
                    cJSON_Delete(copy);
                    *slot = pristine;
                }
                if (done)
                    break;
            }
        }
        free_set(&s);
    }
}

int main(void)
{
    struct CMUnitTest tests[sizeof(cases) / sizeof(cases[0]) + 8];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        tests[n++] = (struct CMUnitTest){cases[i].name, test_case, NULL, NULL, (void *)&cases[i]};
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_training_figures);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_kvcache_aggregation);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_pair_delay_figure);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_grouping);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_checklists);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_every_field_mutated);
    return _cmocka_run_group_tests("submission", tests, n, NULL, NULL);
}
