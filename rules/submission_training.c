/* mlpio rules engine: the submission checks of training (WORKLOADS.md section 1), see
 * submission.h.
 *
 * A group is the runs of one model and emulated accelerator: sorted by start time, the first
 * "run" is the warm-up and the next five are measured; the datagen runs of the group that
 * wrote the data folder the runs read are the dataset's.
 */
#include "rules/submission_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 warm-up + 5 measured runs, within 5 % of each other. */
/* When the edition does not say: 1 warm-up + 5 measured runs. */
#define TRAIN_RUNS 6
/* Record sizes are drawn around floor(sqrt(record_length))^2 bytes, a little below the mean
 * record length the datasize figure is computed from, and vary at random: the bytes of a
 * dataset with enough files may fall short of the figure by this much. */
#define TRAIN_BYTES_SLACK 0.02

static double start_of(const struct mlpio_submission_run *r)
{
    double t = NAN;
    mlpio_submission_num(r->metadata, "start_time.epoch", &t);
    return t;
}

static int by_start(const void *a, const void *b)
{
    const struct mlpio_submission_run *x = *(const struct mlpio_submission_run *const *)a;
    const struct mlpio_submission_run *y = *(const struct mlpio_submission_run *const *)b;
    double tx = start_of(x), ty = start_of(y);
    if (isfinite(tx) && isfinite(ty) && tx != ty)
        return tx < ty ? -1 : 1;
    return strcmp(x->path, y->path);
}

struct train {
    const struct mlpio_submission_run **runs; /* command "run", by start time */
    int n;
    const struct mlpio_submission_run *datagen; /* the one that wrote the runs' data folder */
    int ndatagen;
    const char *folder;
    int nruns;     /* the edition's: 1 warm-up + the measured ones */
    double spread; /* the most the measured runs' throughputs may differ; NAN: no such rule */
    double min_au; /* the edition's AU floor of the model, as a fraction; NAN: none */
};

static int train_count(const struct train *t, struct mlpio_verdict_report *v)
{
    char act[64], hint[MLPIO_RULES_TEXT_MAX];
    char exp[64];
    if (t->n == t->nruns)
        return 0;
    snprintf(act, sizeof(act), "%d", t->n);
    snprintf(exp, sizeof(exp), "%d (1 warm-up + %d measured)", t->nruns, t->nruns - 1);
    if (t->n < t->nruns)
        snprintf(hint, sizeof(hint),
                 "run mlpio training run %d more time%s with the same options (--loops N runs "
                 "several in one job)",
                 t->nruns - t->n, t->nruns - t->n == 1 ? "" : "s");
    else
        snprintf(hint, sizeof(hint),
                 "keep the %d runs of the submission: move the other %d run directories out of "
                 "the results directory",
                 t->nruns, t->n - t->nruns);
    return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "runs", exp, act, hint,
                             "a training submission is 1 warm-up run and %d measured runs of "
                             "the same system; %d run director%s found",
                             t->nruns - 1, t->n, t->n == 1 ? "y was" : "ies were");
}

static int train_seeds(const struct train *t, struct mlpio_verdict_report *v)
{
    for (int i = 0; i < t->n; i++) {
        for (int j = i + 1; j < t->n; j++) {
            const char *si = mlpio_submission_str(t->runs[i]->metadata, "salt");
            const char *sj = mlpio_submission_str(t->runs[j]->metadata, "salt");
            double a, b;
            int same_seed = mlpio_submission_num(t->runs[i]->metadata, "seed", &a) &&
                            mlpio_submission_num(t->runs[j]->metadata, "seed", &b) && a == b;
            if (!same_seed && !(si && sj && strcmp(si, sj) == 0))
                continue;
            char act[MLPIO_RULES_TEXT_MAX];
            snprintf(act, sizeof(act), "%s and %s share %s", t->runs[i]->path, t->runs[j]->path,
                     same_seed ? "their seed" : "their salt");
            return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "seed", "a different seed per run",
                                     act,
                                     "run without --seed (each run draws its own salt), or with "
                                     "--loops, which gives each run seed + loop",
                                     "two runs of the submission generate the same shuffle and "
                                     "data order, so they measure the same thing twice");
        }
    }
    return 0;
}

/* The 5 measured runs: throughput within 5 %, AU met; their means are the figures. */
static int train_measured(const struct train *t, struct mlpio_verdict_report *v, cJSON *figures)
{
    struct mlpio_submission_mean tput = {0}, au = {0}, io = {0};
    char failed[MLPIO_RULES_TEXT_MAX] = "", act[MLPIO_RULES_TEXT_MAX], exp[64];
    int nfailed = 0;
    double min_au = NAN;
    for (int i = 1; i < t->n && i < t->nruns; i++) {
        const struct mlpio_submission_run *r = t->runs[i];
        double x;
        if (mlpio_submission_num(r->summary, "train_throughput_mean_samples_per_second", &x))
            mlpio_submission_mean_add(&tput, x);
        if (mlpio_submission_num(r->summary, "train_io_mean_MB_per_second", &x))
            mlpio_submission_mean_add(&io, x);
        if (mlpio_submission_num(r->summary, "train_au_mean_percentage", &x)) {
            mlpio_submission_mean_add(&au, x);
            const char *met = mlpio_submission_str(r->summary, "train_au_meet_expectation");
            /* The edition's floor is judged on the run's mean AU, beside the run's own
             * verdict on the floor it ran with (Rules 3.3.2 of v3.0). */
            if ((met && strcmp(met, "success") != 0) ||
                (isfinite(t->min_au) && x < t->min_au * 100)) {
                size_t used = strlen(failed);
                if (nfailed < 3)
                    snprintf(failed + used, sizeof(failed) - used, "%s%.1f %% in %s",
                             nfailed ? ", " : "", x, r->path);
                nfailed++;
                min_au = t->min_au;
                if (!isfinite(min_au))
                    mlpio_submission_num(r->metadata, "config.metric.au", &min_au);
            }
        }
    }
    mlpio_submission_figure_mean(figures, "train_au_mean_percentage", &au);
    mlpio_submission_figure_mean(figures, "train_throughput_mean_samples_per_second", &tput);
    mlpio_submission_figure_mean(figures, "train_io_mean_MB_per_second", &io);
    if (tput.n >= 2 && tput.min > 0) {
        double spread = tput.max / tput.min - 1;
        mlpio_submission_figure(figures, "train_throughput_spread_percentage", spread * 100);
        if (isfinite(t->spread) && spread > t->spread) {
            snprintf(act, sizeof(act), "%.1f %% apart (%.6g to %.6g samples/s)", spread * 100,
                     tput.min, tput.max);
            snprintf(exp, sizeof(exp), "within %g %% of each other", t->spread * 100);
            if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID,
                                  "train_throughput_mean_samples_per_second", exp, act,
                                  "find what disturbed the slow runs (other jobs on the storage "
                                  "or hosts) and rerun the submission",
                                  "the measured runs' throughputs differ by %.1f %%: the figure "
                                  "is not reproducible",
                                  spread * 100))
                return -1;
        }
    }
    if (!nfailed)
        return 0;
    snprintf(exp, sizeof(exp), ">= %g %%", isfinite(min_au) ? min_au * 100 : 90.0);
    return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "train_au_mean_percentage", exp, failed,
                             "use fewer accelerators per host or faster storage until every "
                             "run keeps the accelerators busy",
                             "%d measured run%s kept the emulated accelerators busy less than "
                             "the rules require: the storage did not keep up",
                             nfailed, nfailed == 1 ? "" : "s");
}

/* Hosts and accelerators: the same in every run, and the same number on each host. */
static int train_system(const struct train *t, struct mlpio_verdict_report *v, cJSON *figures)
{
    double acc0 = 0, hosts0 = 0;
    char act[MLPIO_RULES_TEXT_MAX];
    for (int i = 0; i < t->n; i++) {
        const struct mlpio_submission_run *r = t->runs[i];
        double acc = 0, hosts = 0;
        if (!mlpio_submission_num(r->metadata, "facts.accelerators", &acc))
            mlpio_submission_num(r->metadata, "world_size", &acc);
        if (!mlpio_submission_num(r->metadata, "cluster.num_hosts", &hosts))
            hosts = cJSON_GetArraySize(mlpio_submission_at(r->metadata, "cluster.hosts"));
        if (i == 0) {
            acc0 = acc;
            hosts0 = hosts;
            continue;
        }
        if (acc != acc0 || hosts != hosts0) {
            snprintf(act, sizeof(act), "%g accelerators on %g hosts in %s, %g on %g in %s", acc0,
                     hosts0, t->runs[0]->path, acc, hosts, r->path);
            return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "accelerators",
                                     "the same in every run", act,
                                     "run every run of the submission on the same hosts with the "
                                     "same number of ranks",
                                     "the runs of a submission must measure one system");
        }
    }
    mlpio_submission_figure(figures, "num_accelerators", acc0);
    mlpio_submission_figure(figures, "num_hosts", hosts0);
    if (hosts0 > 0 && fmod(acc0, hosts0) != 0) {
        snprintf(act, sizeof(act), "%g accelerators on %g hosts", acc0, hosts0);
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "accelerators_per_host",
                                 "accelerators % hosts == 0", act,
                                 "run the same number of ranks on every host (for example "
                                 "mpirun --map-by ppr:8:node)",
                                 "every host must emulate the same number of accelerators");
    }
    return 0;
}

/* One data folder, set, outside the results directory, and written by exactly one datagen. */
static int train_folder(const struct train *t, struct mlpio_verdict_report *v)
{
    char act[MLPIO_RULES_TEXT_MAX];
    for (int i = 1; i < t->n; i++) {
        const char *f = mlpio_submission_str(t->runs[i]->metadata, "config.dataset.data_folder");
        if (f && t->folder && strcmp(f, t->folder) != 0) {
            snprintf(act, sizeof(act), "%s in %s, %s in %s", t->folder, t->runs[0]->path, f,
                     t->runs[i]->path);
            return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "dataset.data_folder",
                                     "the same in every run", act,
                                     "run every run of the submission with the same --data-dir",
                                     "the runs read different datasets");
        }
    }
    const char *results =
        t->n ? mlpio_submission_str(t->runs[0]->metadata, "options.results_dir") : NULL;
    if (!t->folder || !t->folder[0] || !results || !results[0])
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "dataset.data_folder",
                                 "data and results directories set", "(not set)",
                                 "give --data-dir and --results-dir",
                                 "the runs do not record where their data and results are");
    if (t->folder[0] == '/' && results[0] == '/')
        return mlpio_rules_check_apart(v, "dataset.data_folder", t->folder, results, "data folder",
                                       "the dataset",
                                       "put the dataset on the storage under test, outside the "
                                       "results directory (--data-dir <dir>)");
    return 0;
}

static int train_datagen(const struct train *t, struct mlpio_verdict_report *v, cJSON *figures)
{
    char exp[MLPIO_RULES_TEXT_MAX], act[MLPIO_RULES_TEXT_MAX];
    const char *folder = t->folder ? t->folder : "(not set)";
    if (t->ndatagen != 1) {
        snprintf(exp, sizeof(exp), "1 datagen run that wrote %s", folder);
        snprintf(act, sizeof(act), "%d", t->ndatagen);
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "datagen", exp, act,
                                 t->ndatagen ? "keep the datagen run that wrote the dataset the "
                                               "runs read; move the others out of the results "
                                               "directory"
                                             : "keep the run directory of mlpio training "
                                               "datagen (same --data-dir) in the results "
                                               "directory, or generate the dataset again",
                                 "a training submission holds exactly one datagen run, the one "
                                 "that generated the dataset its runs read; %d wrote %s",
                                 t->ndatagen, folder);
    }
    double files = 0, bytes = 0, scale = 1, need_files = 0, need_bytes = 0;
    mlpio_submission_num(t->datagen->summary, "datagen_files", &files);
    mlpio_submission_num(t->datagen->summary, "datagen_bytes", &bytes);
    mlpio_submission_num(t->datagen->metadata, "options.scale", &scale);
    for (int i = 0; i < t->n; i++) {
        double f = 0, b = 0;
        if (mlpio_submission_num(t->runs[i]->metadata, "facts.datasize_num_files", &f) &&
            f > need_files)
            need_files = f;
        if (mlpio_submission_num(t->runs[i]->metadata, "facts.datasize_total_disk_bytes", &b) &&
            b > need_bytes)
            need_bytes = b;
    }
    /* A scaled run shrinks every record, not the number of files. */
    need_bytes *= scale;
    mlpio_submission_figure(figures, "datagen_files", files);
    mlpio_submission_figure(figures, "datagen_bytes", bytes);
    mlpio_submission_figure(figures, "datasize_num_files", need_files);
    if (files < need_files) {
        snprintf(exp, sizeof(exp), ">= %.0f", need_files);
        snprintf(act, sizeof(act), "%.0f", files);
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "dataset.num_files_train", exp, act,
                                 "generate the dataset again with --params "
                                 "dataset.num_files_train=<at least the figure> and rerun",
                                 "datagen %s wrote %.0f files, fewer than the %.0f the datasize "
                                 "rule requires for these hosts and accelerators",
                                 t->datagen->path, files, need_files);
    }
    if (bytes < need_bytes * (1 - TRAIN_BYTES_SLACK)) {
        snprintf(exp, sizeof(exp), ">= %.0f bytes", need_bytes);
        snprintf(act, sizeof(act), "%.0f bytes", bytes);
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "datagen_bytes", exp, act,
                                 "generate the dataset again with more files",
                                 "datagen %s wrote %.0f bytes, less than the %.0f bytes of the "
                                 "datasize figure: the clients' page cache could hold too much "
                                 "of the dataset",
                                 t->datagen->path, bytes, need_bytes);
    }
    return 0;
}

static int judge_training(const struct mlpio_submission_group *g, struct mlpio_verdict_report *v,
                          cJSON *figures)
{
    struct train t = {0};
    const cJSON *ed = mlpio_submission_edition(g);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(ed, "runs");
    const cJSON *spread = cJSON_GetObjectItemCaseSensitive(ed, "run_spread");
    const cJSON *au = mlpio_submission_at(ed, "min_au");
    au = cJSON_GetObjectItemCaseSensitive(au, g->model);
    t.nruns = cJSON_IsNumber(runs) && runs->valueint >= 2 ? runs->valueint : TRAIN_RUNS;
    t.spread = cJSON_IsNumber(spread) ? spread->valuedouble : NAN;
    t.min_au = cJSON_IsNumber(au) ? au->valuedouble : NAN;
    t.runs = malloc(sizeof(*t.runs) * (size_t)(g->count ? g->count : 1));
    if (!t.runs)
        return -1;
    for (int i = 0; i < g->count; i++)
        if (g->runs[i]->command && strcmp(g->runs[i]->command, "run") == 0)
            t.runs[t.n++] = g->runs[i];
    qsort(t.runs, (size_t)t.n, sizeof(*t.runs), by_start);
    t.folder = t.n ? mlpio_submission_str(t.runs[0]->metadata, "config.dataset.data_folder") : NULL;
    for (int i = 0; i < g->count; i++) {
        const struct mlpio_submission_run *r = g->runs[i];
        const char *f = mlpio_submission_str(r->metadata, "config.dataset.data_folder");
        if (r->command && strcmp(r->command, "datagen") == 0 && f && t.folder &&
            strcmp(f, t.folder) == 0) {
            t.datagen = r;
            t.ndatagen++;
        }
    }
    mlpio_submission_figure(figures, "runs", t.n);
    int rc = mlpio_submission_check_members(g, v);
    if (!rc)
        rc = train_count(&t, v);
    if (!rc && t.n == 0)
        rc = mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "runs", "6 (1 warm-up + 5 measured)", "0",
                               "run mlpio training run with --data-dir set to the dataset",
                               "the group holds datagen runs only");
    if (!rc && t.n > 0) {
        rc = train_seeds(&t, v);
        if (!rc)
            rc = train_measured(&t, v, figures);
        if (!rc)
            rc = train_system(&t, v, figures);
        if (!rc)
            rc = train_folder(&t, v);
        if (!rc)
            rc = train_datagen(&t, v, figures);
    }
    free(t.runs);
    return rc;
}

static void group_training(const struct mlpio_submission_run *r, char *name, size_t n)
{
    const char *variant = mlpio_submission_str(r->metadata, "options.variant");
    snprintf(name, n, "%s", variant ? variant : "submission");
}

static const char *const checklist[] = {
    "run: scale 1, an I/O API that stores data (not null), no --verify",
    "run: overrides only of dataset.num_files_train, dataset.num_subfolders_train, "
    "dataset.data_folder, reader.read_threads, reader.computation_threads, reader.transfer_size, "
    "reader.prefetch_size, reader.odirect, checkpoint.checkpoint_folder, storage.storage_type, "
    "storage.storage_root",
    "run: reader.prefetch_size <= 2; reader.odirect only for unet3d",
    "run: dataset.num_files_train >= the datasize figure (5x the clients' memory, 500 steps per "
    "epoch)",
    "run: the same number of accelerators on every host",
    "run: data folder outside the results directory",
    "submission: 6 runs (1 warm-up + 5 measured) of one model and accelerator, all completed",
    "submission: a different seed (salt) per run",
    "submission: the 5 measured runs' throughputs within 5 % of each other, each meeting the "
    "minimum AU; the figures are their means",
    "submission: the same hosts and accelerators in every run, accelerators % hosts == 0",
    "submission: every run reads one data folder, set and outside the results directory",
    "submission: exactly one datagen run wrote that folder, with at least the datasize figure's "
    "files and bytes",
    NULL,
};

const struct mlpio_submission_rules mlpio_submission_training = {
    .group_of = group_training,
    .judge = judge_training,
    .checklist = checklist,
};
