/* Checkpointing phases: write N checkpoints, then read N back.
 *
 * Per checkpoint: (wait time_between_checkpoints, untimed), barrier, start, every rank
 * writes (or reads) its files through the io backend with fsync, barrier, stop. Duration is
 * from the first rank's start to the last rank's stop; throughput = checkpoint bytes /
 * duration. Cached pages are dropped before each read checkpoint (outside the timer) unless
 * O_DIRECT is used. Per-op latencies go into one histogram per rank and phase; they time the
 * I/O call alone, while the duration also holds the time spent generating the data (all of it
 * in the shared layout, what the prefill thread does not hide in the per-rank one): with the
 * null backend the duration is mlpio's own ceiling.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/clock.h"
#include "app/histogram.h"
#include "app/prefill.h"
#include "app/progress.h"
#include "app/rundir.h"
#include "app/signals.h"
#include "app/workloads/checkpointing/checkpointing.h"
#include "app/workloads/checkpointing/plan.h"
#include "io/path.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

enum phase { PHASE_WRITE, PHASE_READ };
static const char *const phase_name[] = {"write", "read"};

struct phase_result {
    int count;
    double *duration;          /* rank 0: seconds per checkpoint */
    double *throughput;        /* rank 0: GiB/s per checkpoint */
    double rank_min, rank_max; /* per-rank GiB/s extremes over all checkpoints */
    int rank_min_at, rank_max_at;
    struct mlpio_hist ops; /* rank 0 after the reduce: every rank's per-call latencies */
};

struct ckpt {
    struct mlpio_run *run;
    struct mlpio_ckpt_model model;
    struct mlpio_ckpt_plan plan;
    const char *folder;
    size_t transfer;
    bool fsync, shared;
    double wait;
    int ncw, ncr;
    uint64_t job_bytes;    /* one checkpoint, all ranks of this job */
    uint64_t shared_base;  /* shared layout: this rank's offset in the file */
    uint64_t shared_calls; /* shared layout: collective calls per checkpoint (max over ranks) */
    void *buf;             /* reads and the shared layout */
    struct mlpio_prefill *prefill; /* per-rank writes: data generated ahead of the writer */
    struct mlpio_hist ops;
    struct mlpio_progress *progress; /* rank 0, during a phase */
    uint64_t moved;                  /* this rank's bytes in the current phase */
    struct phase_result result[2];
    const char *cache_policy;
};

/* One transfer done: its latency, and progress (rank 0 counts its own bytes for every rank). */
static void op_done(struct ckpt *c, size_t n, double seconds)
{
    mlpio_hist_add(&c->ops, seconds);
    c->moved += n;
    mlpio_progress_update(c->progress, (double)c->moved * c->run->ctx->size);
}

static void fill_from_object(void *arg, void *buf, size_t len, uint64_t off)
{
    mlpio_data_fill(arg, off, buf, len);
}

static char *step_dir(const struct ckpt *c, int step)
{
    char name[64];
    snprintf(name, sizeof(name), "global_epoch1_step%d", step);
    return mlpio_path_join(c->folder, name);
}

static int check_interrupt(struct mlpio_error *err)
{
    if (!mlpio_signals_interrupted())
        return 0;
    return mlpio_error_set(err, MLPIO_ERR_INTERRUPTED, "interrupted by a signal");
}

/* One call's transfer, timed into the phase's histogram; verifies reads when asked. */
static int transfer(struct ckpt *c, enum phase ph, struct mlpio_io_file *f,
                    const struct mlpio_data_object *obj, uint64_t data_off, uint64_t file_off,
                    size_t n, const char *path, struct mlpio_error *err)
{
    /* The data is generated before the clock starts: a call's latency is the storage's alone
     * (the checkpoint's duration, barrier to barrier, includes generating it). */
    if (ph == PHASE_WRITE)
        mlpio_data_fill(obj, data_off, c->buf, n);
    double t0 = MPI_Wtime();
    int rc;
    if (ph == PHASE_WRITE) {
        rc = mlpio_io_write_at(f, c->buf, n, file_off, err);
    } else {
        rc = mlpio_io_read_at(f, c->buf, n, file_off, err);
    }
    if (rc == 0 && n > 0)
        op_done(c, n, MPI_Wtime() - t0);
    uint64_t bad;
    if (rc == 0 && ph == PHASE_READ && c->run->opts->verify &&
        mlpio_data_verify(obj, data_off, c->buf, n, &bad) < 0) {
        mlpio_error_set(err, MLPIO_ERR_VERIFY,
                        "rank %d: data read from %s differs from what was written, first at "
                        "offset %llu",
                        c->run->ctx->rank, path, (unsigned long long)(bad - data_off + file_off));
        return mlpio_error_hint(err, "the storage returned wrong data; check the file system");
    }
    return rc;
}

static int open_file(struct ckpt *c, enum phase ph, const char *path, struct mlpio_data_object *obj,
                     bool collective, struct mlpio_io_file **f, struct mlpio_error *err)
{
    struct mlpio_io_options o = c->run->io.options;
    o.fill = fill_from_object;
    o.fill_arg = obj;
    o.collective = collective;
    return mlpio_io_open(c->run->io.backend, path,
                         ph == PHASE_WRITE ? MLPIO_IO_WRITE : MLPIO_IO_READ, &o, f, err);
}

static int check_size(struct mlpio_io_file *f, const char *path, uint64_t expected,
                      struct mlpio_error *err)
{
    uint64_t size;
    struct mlpio_error ignore = {0};
    if (mlpio_io_size(f, &size, &ignore) < 0)
        return 0; /* a backend that cannot tell (null) has nothing to check */
    if (size == expected)
        return 0;
    mlpio_error_set(err, MLPIO_ERR_IO, "checkpoint file %s has %llu bytes, expected %llu", path,
                    (unsigned long long)size, (unsigned long long)expected);
    return mlpio_error_hint(err, "read checkpoints written with the same model, rank count and "
                                 "--scale (and --seed to verify)");
}

/* After a file's transfers (rc says how they went): fsync written data, close, and report
 * the first error. The file is closed whatever happened. */
static int finish_file(const struct ckpt *c, enum phase ph, struct mlpio_io_file **f, int rc,
                       struct mlpio_error *err)
{
    if (rc == 0 && ph == PHASE_WRITE && c->fsync)
        rc = mlpio_io_sync(*f, err);
    struct mlpio_error close_err = {0};
    if (mlpio_io_close(f, &close_err) < 0 && rc == 0) {
        *err = close_err;
        rc = -1;
    }
    return rc;
}

static int per_rank_file(struct ckpt *c, enum phase ph, int step, int i, struct mlpio_error *err)
{
    const struct mlpio_ckpt_file *file = &c->plan.files[i];
    char *dir = step_dir(c, step), *path = dir ? mlpio_path_join(dir, file->name) : NULL;
    char object[160];
    snprintf(object, sizeof(object), "global_epoch1_step%d/%s", step, file->name);
    struct mlpio_data_object obj;
    mlpio_data_object_init(&obj, &c->run->io.key, object);
    struct mlpio_io_file *f = NULL;
    int rc = path ? open_file(c, ph, path, &obj, false, &f, err)
                  : mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    if (rc == 0 && ph == PHASE_READ)
        rc = check_size(f, path, file->bytes, err);
    if (rc == 0 && ph == PHASE_WRITE) {
        mlpio_prefill_start(c->prefill, &obj, file->bytes);
        const void *chunk;
        uint64_t off;
        size_t n;
        while (rc == 0 && (chunk = mlpio_prefill_next(c->prefill, &off, &n))) {
            rc = check_interrupt(err);
            double t0 = MPI_Wtime();
            if (rc == 0)
                rc = mlpio_io_write_at(f, chunk, n, off, err);
            if (rc == 0)
                op_done(c, n, MPI_Wtime() - t0);
        }
        if (rc < 0)
            mlpio_prefill_stop(c->prefill);
    }
    for (uint64_t off = 0; rc == 0 && ph == PHASE_READ && off < file->bytes; off += c->transfer) {
        size_t n = (size_t)(file->bytes - off < c->transfer ? file->bytes - off : c->transfer);
        rc = check_interrupt(err);
        if (rc == 0)
            rc = transfer(c, ph, f, &obj, off, off, n, path, err);
    }
    bool created = f != NULL;
    rc = finish_file(c, ph, &f, rc, err);
    /* A partial checkpoint would pass for a whole one to a later reader (and hold the space
     * the failure ran out of): the file this write created goes. */
    if (rc < 0 && ph == PHASE_WRITE && created) {
        struct mlpio_error ignore = {0};
        (void)mlpio_io_remove(c->run->io.backend, path, &ignore);
    }
    free(path);
    free(dir);
    return rc;
}

/* Shared layout: every rank's bytes in one file at its own offset, collective calls. Ranks
 * with fewer bytes join the remaining calls with empty transfers so the counts match. */
static int shared_file(struct ckpt *c, enum phase ph, int step, struct mlpio_error *err)
{
    char *dir = step_dir(c, step), *path = dir ? mlpio_path_join(dir, "shared_states.pt") : NULL;
    char object[96];
    snprintf(object, sizeof(object), "global_epoch1_step%d/shared", step);
    struct mlpio_data_object obj;
    mlpio_data_object_init(&obj, &c->run->io.key, object);
    struct mlpio_io_file *f = NULL;
    int rc = path ? open_file(c, ph, path, &obj, true, &f, err)
                  : mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    /* A failed collective open fails on every rank alike: no rank is left in a call. */
    for (uint64_t k = 0; rc == 0 && k < c->shared_calls; k++) {
        uint64_t off = k * c->transfer;
        size_t n =
            off < c->plan.bytes
                ? (size_t)(c->plan.bytes - off < c->transfer ? c->plan.bytes - off : c->transfer)
                : 0;
        rc = transfer(c, ph, f, &obj, off, c->shared_base + off, n, path, err);
    }
    bool created = f != NULL;
    rc = finish_file(c, ph, &f, rc, err);
    /* A failed write fails on every rank alike (the calls are collective): rank 0 removes the
     * file they created together. */
    if (rc < 0 && ph == PHASE_WRITE && created && c->run->ctx->rank == 0) {
        struct mlpio_error ignore = {0};
        (void)mlpio_io_remove(c->run->io.backend, path, &ignore);
    }
    free(path);
    free(dir);
    return rc;
}

static int do_checkpoint(struct ckpt *c, enum phase ph, int step, struct mlpio_error *err)
{
    if (c->shared)
        return shared_file(c, ph, step, err);
    for (int i = 0; i < c->plan.nfiles; i++)
        if (per_rank_file(c, ph, step, i, err) < 0)
            return -1;
    return 0;
}

/* Before a timed read: evict the files' cached pages so the read comes from storage. */
static int drop_cached(struct ckpt *c, int step, struct mlpio_error *err)
{
    if (strcmp(c->cache_policy, "fadvise") != 0)
        return 0;
    char *dir = step_dir(c, step);
    int rc = dir ? 0 : mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    int nfiles = c->shared ? 1 : c->plan.nfiles;
    /* The shared file is opened by each rank on its own: the cached pages belong to the node,
     * so every rank evicts its node's copy without a collective call. */
    for (int i = 0; rc == 0 && i < nfiles; i++) {
        char *path = mlpio_path_join(dir, c->shared ? "shared_states.pt" : c->plan.files[i].name);
        struct mlpio_io_file *f = NULL;
        rc = mlpio_io_open(c->run->io.backend, path, MLPIO_IO_READ, &c->run->io.options, &f, err);
        if (rc == 0)
            rc = mlpio_io_drop_cache(f, err);
        mlpio_io_close(&f, NULL);
        free(path);
    }
    free(dir);
    return rc;
}

static int make_step_dir(struct ckpt *c, int step, struct mlpio_error *err)
{
    int rc = 0;
    if (c->run->ctx->rank == 0) {
        char *dir = step_dir(c, step);
        rc = dir ? mlpio_io_mkdirs(c->run->io.backend, dir, err)
                 : mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
        if (rc < 0)
            mlpio_error_hint(err, "choose a writable checkpoint folder with --checkpoint-folder");
        free(dir);
    }
    return mlpio_context_agree(c->run->ctx, rc, err);
}

static void wait_between(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && !mlpio_signals_interrupted())
        ;
}

static void record(struct ckpt *c, enum phase ph, int k, double duration, double rank_gibps)
{
    struct phase_result *r = &c->result[ph];
    const struct mlpio_context *ctx = c->run->ctx;
    struct {
        double v;
        int rank;
    } mine[2] = {{rank_gibps, ctx->rank}, {-rank_gibps, ctx->rank}}, out[2];
    /* One reduction finds both extremes: the minimum of -v is the maximum of v. */
    MPI_Reduce(mine, out, 2, MPI_DOUBLE_INT, MPI_MINLOC, 0, ctx->comm);
    if (ctx->rank != 0)
        return;
    struct {
        double v;
        int rank;
    } lo = {out[0].v, out[0].rank}, hi = {-out[1].v, out[1].rank};
    double gibps = duration > 0 ? (double)c->job_bytes / GIB / duration : 0;
    r->duration[k] = duration;
    r->throughput[k] = gibps;
    if (k == 0 || lo.v < r->rank_min)
        r->rank_min = lo.v, r->rank_min_at = lo.rank;
    if (k == 0 || hi.v > r->rank_max)
        r->rank_max = hi.v, r->rank_max_at = hi.rank;
    r->count = k + 1;
    mlpio_log(ctx, MLPIO_LOG_NORMAL, "  %-5s %2d/%-2d %10.3f GB in %8.3f s  %9.3f GB/s\n",
              phase_name[ph], k + 1, ph == PHASE_WRITE ? c->ncw : c->ncr,
              (double)c->job_bytes / GIB, duration, gibps);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddNumberToObject(ev, "checkpoint", k + 1);
    cJSON_AddNumberToObject(ev, "bytes", (double)c->job_bytes);
    cJSON_AddNumberToObject(ev, "duration_seconds", duration);
    cJSON_AddNumberToObject(ev, "GB_per_second", gibps);
    mlpio_run_event(c->run, phase_name[ph], ev);
}

static int run_phase(struct ckpt *c, enum phase ph, struct mlpio_error *err)
{
    struct mlpio_run *run = c->run;
    const struct mlpio_context *ctx = run->ctx;
    int n = ph == PHASE_WRITE ? c->ncw : c->ncr;
    if (n == 0)
        return 0;
    mlpio_hist_init(&c->ops);
    cJSON *begin = cJSON_CreateObject();
    cJSON_AddStringToObject(begin, "phase", phase_name[ph]);
    cJSON_AddNumberToObject(begin, "checkpoints", n);
    mlpio_run_event(run, "phase_begin", begin);
    c->moved = 0;
    c->progress = mlpio_progress_start(run, phase_name[ph], (double)c->job_bytes * n, "bytes");
    for (int k = 0; k < n; k++) {
        /* Reads cycle over what was written (or over existing steps when nothing was). */
        int step = ph == PHASE_READ && c->ncw > 0 ? k % c->ncw + 1 : k + 1;
        if (k > 0)
            wait_between(c->wait);
        int rc = ph == PHASE_WRITE ? make_step_dir(c, step, err) : 0;
        if (rc == 0 && ph == PHASE_READ)
            rc = mlpio_context_agree(ctx, drop_cached(c, step, err), err);
        if (rc < 0) {
            mlpio_progress_finish(&c->progress);
            return -1;
        }
        MPI_Barrier(ctx->comm);
        double start = mlpio_wtime();
        rc = do_checkpoint(c, ph, step, err);
        double mine = mlpio_wtime() - start;
        /* The agreement is also the closing barrier: no rank passes it before all arrive. */
        if (mlpio_context_agree(ctx, rc, err) < 0) {
            mlpio_progress_finish(&c->progress);
            return -1;
        }
        double stop = mlpio_wtime(), gstart = 0, gstop = 0;
        if (mlpio_hist_phase_reduce(start, stop, &gstart, &gstop, 0, ctx->comm, err) < 0)
            return -1;
        record(c, ph, k, gstop - gstart, mine > 0 ? (double)c->plan.bytes / GIB / mine : 0);
    }
    mlpio_progress_finish(&c->progress);
    if (mlpio_hist_reduce(&c->ops, &c->result[ph].ops, 0, ctx->comm, err) < 0)
        return -1;
    cJSON *end = cJSON_CreateObject();
    cJSON_AddStringToObject(end, "phase", phase_name[ph]);
    mlpio_run_event(run, "phase_end", end);
    return 0;
}

static void add_phase_summary(cJSON *s, const struct ckpt *c, enum phase ph, const char *prefix)
{
    const struct phase_result *r = &c->result[ph];
    double mean = 0, stdev = 0, dmean = 0, dstdev = 0;
    mlpio_hist_mean_stdev(r->throughput, r->count, &mean, &stdev);
    mlpio_hist_mean_stdev(r->duration, r->count, &dmean, &dstdev);
    char key[96];
    snprintf(key, sizeof(key), "%s_checkpoint_io_mean_GB_per_second", prefix);
    cJSON_AddNumberToObject(s, key, mean);
    snprintf(key, sizeof(key), "%s_checkpoint_io_stdev_GB_per_second", prefix);
    cJSON_AddNumberToObject(s, key, stdev);
    snprintf(key, sizeof(key), "%s_checkpoint_duration_mean_seconds", prefix);
    cJSON_AddNumberToObject(s, key, dmean);
    snprintf(key, sizeof(key), "%s_checkpoint_duration_stdev_seconds", prefix);
    cJSON_AddNumberToObject(s, key, dstdev);
    snprintf(key, sizeof(key), "%s_checkpoint_io_GB_per_second", prefix);
    cJSON_AddItemToObject(s, key, cJSON_CreateDoubleArray(r->throughput, r->count));
    snprintf(key, sizeof(key), "%s_checkpoint_duration_seconds", prefix);
    cJSON_AddItemToObject(s, key, cJSON_CreateDoubleArray(r->duration, r->count));
    cJSON *pr = cJSON_CreateObject();
    cJSON_AddNumberToObject(pr, "min_GB_per_second", r->rank_min);
    cJSON_AddNumberToObject(pr, "min_rank", r->rank_min_at);
    cJSON_AddNumberToObject(pr, "max_GB_per_second", r->rank_max);
    cJSON_AddNumberToObject(pr, "max_rank", r->rank_max_at);
    snprintf(key, sizeof(key), "%s_checkpoint_per_rank", prefix);
    cJSON_AddItemToObject(s, key, pr);
    snprintf(key, sizeof(key), "%s_op_latency_seconds", prefix);
    cJSON_AddItemToObject(s, key, mlpio_hist_to_json(&r->ops));
}

static char *phase_text(const struct ckpt *c, enum phase ph, const char *label, char *buf,
                        size_t len)
{
    const struct phase_result *r = &c->result[ph];
    if (r->count == 0) {
        snprintf(buf, len, "%s: none\n", label);
        return buf;
    }
    double mean, stdev, dmean, dstdev;
    mlpio_hist_mean_stdev(r->throughput, r->count, &mean, &stdev);
    mlpio_hist_mean_stdev(r->duration, r->count, &dmean, &dstdev);
    snprintf(buf, len,
             "%s: %d checkpoints, %.3f GB/s mean (stdev %.3f), %.3f s mean (stdev %.3f)\n"
             "  per rank: min %.3f GB/s (rank %d), max %.3f GB/s (rank %d)\n"
             "  per call (%llu calls): p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
             label, r->count, mean, stdev, dmean, dstdev, r->rank_min, r->rank_min_at, r->rank_max,
             r->rank_max_at, (unsigned long long)r->ops.count,
             mlpio_hist_percentile(&r->ops, 50) * 1e3, mlpio_hist_percentile(&r->ops, 99) * 1e3,
             (double)r->ops.max_ns * 1e-6);
    return buf;
}

static void summarize(struct ckpt *c)
{
    struct mlpio_run *run = c->run;
    cJSON *s = cJSON_CreateObject();
    add_phase_summary(s, c, PHASE_WRITE, "save");
    add_phase_summary(s, c, PHASE_READ, "load");
    cJSON_AddNumberToObject(s, "checkpoint_size_GB", (double)c->job_bytes / GIB);
    cJSON_AddNumberToObject(s, "checkpoint_size_bytes", (double)c->job_bytes);
    cJSON_AddNumberToObject(s, "num_checkpoints_write", c->ncw);
    cJSON_AddNumberToObject(s, "num_checkpoints_read", c->ncr);
    cJSON_AddStringToObject(s, "cache_policy", c->cache_policy);
    cJSON_AddStringToObject(s, "layout", c->shared ? "shared" : "per_rank");
    cJSON_AddStringToObject(s, "io_api", run->io.backend->name);
    cJSON_AddNumberToObject(s, "transfer_size", (double)c->transfer);
    cJSON_AddStringToObject(s, "units", "GB = 2^30 bytes, as in the MLPerf Storage reference");
    run->rec.summary = s;
    char w[512], r[512];
    size_t len = 2048;
    run->rec.report_text = malloc(len);
    if (run->rec.report_text)
        snprintf(run->rec.report_text, len, "checkpoint: %.3f GB over %d ranks (%s, %s)\n%s%s",
                 (double)c->job_bytes / GIB, run->ctx->size, run->io.backend->name, c->cache_policy,
                 phase_text(c, PHASE_WRITE, "save", w, sizeof(w)),
                 phase_text(c, PHASE_READ, "load", r, sizeof(r)));
    cJSON_DeleteItemFromObject(run->rec.facts, "cache_policy");
    cJSON_AddStringToObject(run->rec.facts, "cache_policy", c->cache_policy);
}

const char *mlpio_ckpt_cache_policy(const struct mlpio_run *run)
{
    if (run->io.options.odirect)
        return "odirect";
    if (!(run->io.backend->caps & MLPIO_IO_CAP_STORAGE))
        return "none";
    return (run->io.backend->caps & MLPIO_IO_CAP_DROP_CACHE) ? "fadvise" : "none";
}

static void what_if(const struct ckpt *c)
{
    const struct mlpio_context *ctx = c->run->ctx;
    mlpio_log(ctx, MLPIO_LOG_QUIET,
              "what-if: %d ranks would write %d and read %d checkpoints of %.3f GB each in %s\n"
              "  backend %s%s, transfer %zu bytes, fsync %s, layout %s, cache %s\n"
              "  rank 0 files per checkpoint (global_epoch1_step<k>/):\n",
              ctx->size, c->ncw, c->ncr, (double)c->job_bytes / GIB, c->folder,
              c->run->io.backend->name, c->run->io.options.odirect ? " (O_DIRECT)" : "",
              c->transfer, c->fsync ? "on" : "off", c->shared ? "shared" : "per_rank",
              c->cache_policy);
    for (int i = 0; i < c->plan.nfiles; i++)
        mlpio_log(ctx, MLPIO_LOG_QUIET, "    %-56s %14llu bytes\n", c->plan.files[i].name,
                  (unsigned long long)c->plan.files[i].bytes);
}

static int setup(struct ckpt *c, struct mlpio_run *run, struct mlpio_error *err)
{
    memset(c, 0, sizeof(*c));
    c->run = run;
    const struct mlpio_ckpt_settings *s = run->settings;
    c->folder = s->folder;
    c->transfer = (size_t)s->transfer_size;
    c->fsync = s->fsync;
    c->shared = strcmp(s->layout, "shared") == 0;
    c->wait = s->time_between_checkpoints;
    c->ncw = (int)s->num_checkpoints_write;
    c->ncr = (int)s->num_checkpoints_read;
    c->cache_policy = mlpio_ckpt_cache_policy(run);
    c->model = s->model;
    int rc = mlpio_ckpt_plan_rank(&c->model, run->ctx->rank, mlpio_run_scale(run), &c->plan, err);
    if (rc == 0 && !(c->buf = mlpio_io_buffer_alloc(c->transfer)))
        rc = mlpio_error_set(err, MLPIO_ERR_INTERNAL, "cannot allocate a %zu-byte buffer",
                             c->transfer);
    if (rc == 0 && !c->shared && c->ncw > 0 && !run->opts->what_if &&
        !(c->prefill = mlpio_prefill_create(c->transfer, 2, err)))
        rc = -1;
    for (int ph = 0; rc == 0 && ph < 2; ph++) {
        int n = ph == PHASE_WRITE ? c->ncw : c->ncr;
        c->result[ph].duration = calloc((size_t)n + 1, sizeof(double));
        c->result[ph].throughput = calloc((size_t)n + 1, sizeof(double));
        mlpio_hist_init(&c->result[ph].ops);
        if (!c->result[ph].duration || !c->result[ph].throughput)
            rc = mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    }
    if (mlpio_context_agree(run->ctx, rc, err) < 0)
        return -1;
    unsigned long long mine = c->plan.bytes, total = 0, base = 0, calls = 0;
    unsigned long long my_calls = (mine + c->transfer - 1) / c->transfer;
    MPI_Allreduce(&mine, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, run->ctx->comm);
    MPI_Exscan(&mine, &base, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, run->ctx->comm);
    MPI_Allreduce(&my_calls, &calls, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, run->ctx->comm);
    c->job_bytes = total;
    c->shared_base = run->ctx->rank == 0 ? 0 : base; /* Exscan leaves rank 0 undefined */
    c->shared_calls = calls;
    mlpio_log_debug(run->ctx,
                    "plan: tp %d pp %d dp %d mp %d, %d file(s), %llu bytes per checkpoint%s",
                    c->plan.tp, c->plan.pp, c->plan.dp, c->plan.mp, c->plan.nfiles,
                    (unsigned long long)c->plan.bytes, c->shared ? " (shared file)" : "");
    return 0;
}

static void teardown(struct ckpt *c)
{
    mlpio_ckpt_plan_free(&c->plan);
    mlpio_io_buffer_free(c->buf);
    mlpio_prefill_destroy(&c->prefill);
    for (int ph = 0; ph < 2; ph++) {
        free(c->result[ph].duration);
        free(c->result[ph].throughput);
    }
}

int mlpio_checkpointing_run(struct mlpio_run *run, struct mlpio_error *err)
{
    struct ckpt c;
    if (setup(&c, run, err) < 0) {
        teardown(&c);
        return -1;
    }
    if (run->opts->what_if) {
        what_if(&c);
        teardown(&c);
        return 0;
    }
    mlpio_log(run->ctx, MLPIO_LOG_NORMAL,
              "checkpointing %s: %d ranks, %.3f GB per checkpoint, %d writes, %d reads\n",
              run->opts->model, run->ctx->size, (double)c.job_bytes / GIB, c.ncw, c.ncr);
    int rc = run_phase(&c, PHASE_WRITE, err);
    if (rc == 0)
        rc = run_phase(&c, PHASE_READ, err);
    if (run->ctx->rank == 0)
        summarize(&c);
    teardown(&c);
    return rc;
}
