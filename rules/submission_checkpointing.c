/* mlpio rules engine: the submission checks of checkpointing (WORKLOADS.md section 2), see
 * submission.h.
 *
 * A group is the runs of one model: one run that writes and reads 10 checkpoints, or a run
 * that writes them followed by one that reads them back. The times of the writes' end and of
 * the reads' start come from the event logs (phase_end "write", phase_begin "read"), else from
 * the runs' end and start times.
 */
#include "rules/submission_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* 10 writes and 10 reads, the read within 30 s of the writes' end. */
/* When the edition does not say (edition.h): 10 checkpoints, read within 30 s. */
#define CKPT_CHECKPOINTS 10
#define CKPT_READ_DELAY 30.0

static double edition_number(const struct mlpio_submission_group *g, const char *key,
                             double fallback)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(mlpio_submission_edition(g), key);
    return cJSON_IsNumber(it) ? it->valuedouble : fallback;
}

static double writes_of(const struct mlpio_submission_run *r)
{
    return mlpio_submission_done_or_asked(r, "num_checkpoints_write",
                                          "config.checkpoint.num_checkpoints_write");
}

static double reads_of(const struct mlpio_submission_run *r)
{
    return mlpio_submission_done_or_asked(r, "num_checkpoints_read",
                                          "config.checkpoint.num_checkpoints_read");
}

/* The timestamp of the first (or last) event name with context.phase == phase, or NAN. */
static double phase_time(const struct mlpio_submission_run *r, const char *name, const char *phase,
                         int last)
{
    double found = NAN;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, r->events)
    {
        const char *n = mlpio_submission_str(ev, "name"),
                   *p = mlpio_submission_str(ev, "context.phase");
        double ts;
        if (n && p && !strcmp(n, name) && !strcmp(p, phase) &&
            mlpio_submission_num(ev, "timestamp", &ts)) {
            found = ts;
            if (!last)
                break;
        }
    }
    return found;
}

/* A write run then a read run: the read starts within 30 s of the writes' end. */
static int ckpt_pair(const struct mlpio_submission_group *g, struct mlpio_verdict_report *v,
                     cJSON *figures, const struct mlpio_submission_run **writer,
                     const struct mlpio_submission_run **reader)
{
    char act[MLPIO_RULES_TEXT_MAX], exp[32];
    double most = edition_number(g, "read_delay_max_s", CKPT_READ_DELAY);
    snprintf(exp, sizeof(exp), "0 to %g", most);
    for (int i = 0; i < 2; i++) {
        if (writes_of(g->runs[i]) > 0 && reads_of(g->runs[i]) == 0)
            *writer = g->runs[i];
        else if (writes_of(g->runs[i]) == 0 && reads_of(g->runs[i]) > 0)
            *reader = g->runs[i];
    }
    if (!*writer || !*reader)
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "runs",
                                 "a run that only writes, then a run that only reads",
                                 "two runs that both write or both read",
                                 "use -ncw 10 -ncr 0 for the first run and -ncw 0 -ncr 10 for the "
                                 "second, or one run of -ncw 10 -ncr 10",
                                 "with two runs, the first writes the checkpoints and the second "
                                 "reads them back");
    double end = phase_time(*writer, "phase_end", "write", 1);
    double begin = phase_time(*reader, "phase_begin", "read", 0);
    if (!isfinite(end))
        mlpio_submission_num((*writer)->metadata, "end_time.epoch", &end);
    if (!isfinite(begin))
        mlpio_submission_num((*reader)->metadata, "start_time.epoch", &begin);
    if (!isfinite(end) || !isfinite(begin))
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "read_delay_seconds", exp, "unknown",
                                 "keep the runs' event logs and metadata intact",
                                 "the times of the writes' end (%s) and of the reads' start (%s) "
                                 "cannot be read",
                                 (*writer)->path, (*reader)->path);
    double delay = begin - end;
    mlpio_submission_figure(figures, "read_delay_seconds", delay);
    if (delay >= 0 && delay <= most)
        return 0;
    snprintf(act, sizeof(act), "%.1f", delay);
    const char *hint = "start the read run right after the write run (same job script), with the "
                       "same ranks and checkpoint folder";
    if (delay < 0)
        return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "read_delay_seconds", exp, act, hint,
                                 "the read run %s started before the write run %s ended",
                                 (*reader)->path, (*writer)->path);
    return mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "read_delay_seconds", exp, act, hint,
                             "the read run %s started %.0f s after the write run %s ended; a "
                             "submission reads the checkpoints back within %g s of writing them",
                             (*reader)->path, delay, (*writer)->path, most);
}

static int ckpt_counts(const struct mlpio_submission_group *g, struct mlpio_verdict_report *v,
                       cJSON *figures)
{
    double w = 0, r = 0, closed = edition_number(g, "num_checkpoints", CKPT_CHECKPOINTS);
    char act[64], exp[32], hints[2][64];
    snprintf(exp, sizeof(exp), "%g", closed);
    snprintf(hints[0], sizeof(hints[0]), "write %g checkpoints (-ncw %g)", closed, closed);
    snprintf(hints[1], sizeof(hints[1]), "read %g checkpoints (-ncr %g)", closed, closed);
    for (int i = 0; i < g->count; i++) {
        w += writes_of(g->runs[i]);
        r += reads_of(g->runs[i]);
    }
    mlpio_submission_figure(figures, "num_checkpoints_write", w);
    mlpio_submission_figure(figures, "num_checkpoints_read", r);
    const struct {
        const char *key, *hint;
        double value;
    } phases[] = {
        {"checkpoint.num_checkpoints_write", hints[0], w},
        {"checkpoint.num_checkpoints_read", hints[1], r},
    };
    for (size_t i = 0; i < MLPIO_SUBMISSION_COUNT(phases); i++) {
        if (phases[i].value == closed)
            continue;
        snprintf(act, sizeof(act), "%g in %d run%s", phases[i].value, g->count,
                 g->count == 1 ? "" : "s");
        if (mlpio_verdict_add(v, MLPIO_ISSUE_OPEN, phases[i].key, exp, act, phases[i].hint,
                              "a CLOSED checkpointing submission writes %g checkpoints and reads "
                              "them back, in one run or in a write run and a read run",
                              closed))
            return -1;
    }
    return 0;
}

/* The same ranks, fsync and folder in every run: the reads read what the writes wrote. */
static int ckpt_setup(const struct mlpio_submission_group *g, struct mlpio_verdict_report *v)
{
    const cJSON *first = g->runs[0]->metadata;
    const char *folder = mlpio_submission_str(first, "config.checkpoint.checkpoint_folder");
    double ranks = 0, closed = 0;
    char act[MLPIO_RULES_TEXT_MAX], exp[64];
    int fsync_said = 0, ranks_said = 0, folder_said = 0;
    mlpio_submission_num(first, "world_size", &ranks);
    for (int i = 0; i < g->count; i++) {
        const struct mlpio_submission_run *r = g->runs[i];
        const char *f = mlpio_submission_str(r->metadata, "config.checkpoint.checkpoint_folder");
        const cJSON *fsync = mlpio_submission_at(r->metadata, "config.checkpoint.fsync");
        double n = 0;
        mlpio_submission_num(r->metadata, "world_size", &n);
        if (r->metadata && !cJSON_IsTrue(fsync) && !fsync_said++ &&
            mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "checkpoint.fsync", "true",
                              cJSON_IsFalse(fsync) ? "false" : "(not set)",
                              "remove any setting of checkpoint.fsync and rerun",
                              "run %s did not fsync its checkpoints: its figures may measure "
                              "the page cache",
                              r->path))
            return -1;
        if (i > 0 && n != ranks && !ranks_said++) {
            snprintf(act, sizeof(act), "%g in %s, %g in %s", ranks, g->runs[0]->path, n, r->path);
            if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "world_size", "the same in every run",
                                  act, "run the write and the read run with the same mpirun -np",
                                  "the runs emulate different ranks, so the reads cannot read "
                                  "the files the writes wrote"))
                return -1;
        }
        if (i > 0 && f && folder && strcmp(f, folder) != 0 && !folder_said++) {
            snprintf(act, sizeof(act), "%s in %s, %s in %s", folder, g->runs[0]->path, f, r->path);
            if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "checkpoint.checkpoint_folder",
                                  "the same in every run", act,
                                  "give both runs the same --checkpoint-folder",
                                  "the read run reads another folder than the write run wrote"))
                return -1;
        }
    }
    if (mlpio_submission_num(first, "config.reference.closed_ranks", &closed) && ranks > 0 &&
        ranks != closed) {
        snprintf(exp, sizeof(exp), "%g", closed);
        snprintf(act, sizeof(act), "%g", ranks);
        if (mlpio_verdict_add(v, ranks < closed ? MLPIO_ISSUE_OPEN : MLPIO_ISSUE_INVALID,
                              "world_size", exp, act, "run with the CLOSED rank count (mpirun -np)",
                              ranks < closed ? "subset mode: the submission emulates ranks 0..%g "
                                               "of the %g-rank job; CLOSED needs the whole job"
                                             : "%g ranks are more than the %g ranks of the job",
                              ranks < closed ? ranks - 1 : ranks, closed))
            return -1;
    }
    const char *results = mlpio_submission_str(first, "options.results_dir");
    if (folder && results && folder[0] == '/' && results[0] == '/')
        return mlpio_rules_check_apart(v, "checkpoint.checkpoint_folder", folder, results,
                                       "checkpoint folder", "checkpoint files",
                                       "put the checkpoints on the storage under test, outside "
                                       "the results directory (--checkpoint-folder <dir>)");
    return 0;
}

static void ckpt_figures(cJSON *figures, const struct mlpio_submission_run *r, const char *prefix)
{
    static const char *const names[] = {"checkpoint_io_mean_GB_per_second",
                                        "checkpoint_duration_mean_seconds"};
    char key[96];
    double x;
    for (size_t i = 0; r && i < MLPIO_SUBMISSION_COUNT(names); i++) {
        snprintf(key, sizeof(key), "%s_%s", prefix, names[i]);
        if (mlpio_submission_num(r->summary, key, &x))
            mlpio_submission_figure(figures, key, x);
    }
}

static int judge_checkpointing(const struct mlpio_submission_group *g,
                               struct mlpio_verdict_report *v, cJSON *figures)
{
    const struct mlpio_submission_run *writer = NULL, *reader = NULL;
    char act[64];
    double x, ranks;
    mlpio_submission_figure(figures, "runs", g->count);
    if (mlpio_submission_num(g->runs[0]->metadata, "world_size", &ranks))
        mlpio_submission_figure(figures, "world_size", ranks);
    if (mlpio_submission_check_members(g, v) || ckpt_counts(g, v, figures) || ckpt_setup(g, v))
        return -1;
    if (g->count == 1) {
        writer = reader = g->runs[0];
    } else if (g->count == 2) {
        if (ckpt_pair(g, v, figures, &writer, &reader))
            return -1;
    } else {
        snprintf(act, sizeof(act), "%d runs", g->count);
        if (mlpio_verdict_add(v, MLPIO_ISSUE_INVALID, "runs",
                              "1 run, or a write run and a read run", act,
                              "keep the runs of the submission: move the others out of the "
                              "results directory",
                              "a checkpointing submission writes and reads 10 checkpoints in one "
                              "run, or in a write run followed by a read run"))
            return -1;
    }
    ckpt_figures(figures, writer, "save");
    ckpt_figures(figures, reader, "load");
    if (writer && mlpio_submission_num(writer->summary, "checkpoint_size_GB", &x))
        mlpio_submission_figure(figures, "checkpoint_size_GB", x);
    return 0;
}

static void group_checkpointing(const struct mlpio_submission_run *r, char *name, size_t n)
{
    snprintf(name, n, "submission");
}

static const char *const checklist[] = {
    "run: a shipped model (with a reference block), scale 1, an I/O API that stores data, no "
    "--verify",
    "run: checkpoint.fsync true; 0 or 10 checkpoints written and read",
    "run: the model's CLOSED rank count (fewer ranks: subset mode, OPEN), more than 4 ranks per "
    "host",
    "run: only checkpoint.checkpoint_folder differs from the reference",
    "run: checkpoint folder outside the results directory; reads not served from the page cache",
    "submission: 10 writes and 10 reads, in one run or in a write run then a read run, all "
    "completed",
    "submission: with two runs, the read run starts within 30 s of the writes' end",
    "submission: fsync in every run; the same ranks and checkpoint folder in every run",
    "submission: the CLOSED rank count of the model (subset mode is OPEN)",
    "submission: checkpoint folder outside the results directory",
    NULL,
};

const struct mlpio_submission_rules mlpio_submission_checkpointing = {
    .group_of = group_checkpointing,
    .judge = judge_checkpointing,
    .checklist = checklist,
};
