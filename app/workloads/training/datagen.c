/* Training datagen: every rank writes its round-robin share of the dataset's files in the
 * model's format, each file fsynced and dropped from the page cache, then rank 0 records the
 * dataset in mlpio_dataset.json. An existing dataset is never overwritten. */
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/clock.h"
#include "app/histogram.h"
#include "app/params.h"
#include "app/prefill.h"
#include "app/progress.h"
#include "app/rundir.h"
#include "app/signals.h"
#include "app/workloads/training/dataset.h"
#include "app/workloads/training/training.h"
#include "io/fsutil.h"
#include "io/path.h"
#include "report/json_file.h"

#define MIB (1024.0 * 1024.0)
/* Writes go out in pieces of this size (the reader's transfer size is for reads). When the
 * pieces are composed on another core, the writer's copy into the kernel reads them from that
 * core's cache: 1 MiB pieces are still there, 4 MiB ones mostly are not. */
#define WRITE_PIECE ((size_t)1 << 20)
/* Pieces in flight: one being written, the rest composed ahead (across file boundaries). */
#define WRITE_DEPTH 4

const struct mlpio_format *mlpio_training_format(const struct mlpio_training_settings *s,
                                                 struct mlpio_error *err)
{
    const char *name = s->dataset.format;
    const struct mlpio_format *f = mlpio_format_find(name);
    if (!f) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "dataset.format: '%s' is not available", name);
        mlpio_error_hint(err, "choose one of %s", mlpio_format_choices());
    }
    return f;
}

int mlpio_training_layout(const struct mlpio_training_settings *s, double scale,
                          struct mlpio_format_layout *l, struct mlpio_error *err)
{
    if (mlpio_format_layout_parse("dataset.parquet.columns", s->dataset.parquet.columns, scale,
                                  (uint32_t)s->dataset.parquet.row_group_size, l, err) < 0)
        return -1;
    if (l->ncolumns == 0 || strcmp(s->dataset.format, "parquet") != 0)
        return 0;
    struct mlpio_format_layout whole;
    if (mlpio_format_layout_parse("dataset.parquet.columns", s->dataset.parquet.columns, 1, 0,
                                  &whole, err) < 0) {
        mlpio_format_layout_free(l);
        return -1;
    }
    uint64_t bytes = mlpio_format_layout_sample_bytes(&whole, 1, 1);
    mlpio_format_layout_free(&whole);
    if ((double)bytes == s->dataset.record_length_bytes)
        return 0;
    mlpio_format_layout_free(l);
    mlpio_error_set(err, MLPIO_ERR_CONFIG,
                    "dataset.parquet.columns hold %" PRIu64
                    " bytes per sample but dataset.record_length_bytes is %.17g",
                    bytes, s->dataset.record_length_bytes);
    return mlpio_error_hint(
        err, "set dataset.record_length_bytes=%" PRIu64 " (a sample is its columns' values)",
        bytes);
}

double mlpio_training_record_bytes(const struct mlpio_training_settings *s,
                                   const struct mlpio_format_layout *l, double scale)
{
    if (l->ncolumns > 0 && strcmp(s->dataset.format, "parquet") == 0)
        return (double)mlpio_format_layout_sample_bytes(l, 1, 1);
    return s->dataset.record_length_bytes * scale;
}

void mlpio_training_file_object(const struct mlpio_training_manifest *m, uint64_t index,
                                const char *name, struct mlpio_data_object *obj)
{
    struct mlpio_data_rank_key key;
    mlpio_data_rank_key(&m->salt, (uint64_t)mlpio_train_datagen_owner(index, m->ranks), &key);
    mlpio_data_object_init(obj, &key, name);
}

static void fill(void *arg, void *buf, size_t len, uint64_t off)
{
    mlpio_data_fill(arg, off, buf, len);
}

static cJSON *manifest_json(const struct mlpio_training_manifest *m)
{
    char hex[65];
    mlpio_data_salt_to_hex(&m->salt, hex);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", m->model);
    cJSON_AddStringToObject(j, "format", m->format);
    cJSON_AddNumberToObject(j, "num_files_train", (double)m->num_files);
    cJSON_AddNumberToObject(j, "num_subfolders_train", (double)m->num_subfolders);
    cJSON_AddNumberToObject(j, "num_samples_per_file", m->samples_per_file);
    cJSON_AddNumberToObject(j, "record_length_bytes", m->record_length);
    cJSON_AddNumberToObject(j, "record_length_bytes_stdev", m->record_stdev);
    cJSON_AddNumberToObject(j, "scale", m->scale);
    cJSON_AddNumberToObject(j, "shape_seed", (double)m->shape_seed);
    cJSON_AddNumberToObject(j, "datagen_ranks", m->ranks);
    cJSON_AddStringToObject(j, "salt", hex);
    cJSON_AddNumberToObject(j, "bytes", m->bytes);
    cJSON_AddStringToObject(j, "mlpio_version", MLPIO_VERSION);
    return j;
}

int mlpio_training_manifest_read(const char *data_folder, struct mlpio_training_manifest *m,
                                 struct mlpio_error *err)
{
    char *path = mlpio_path_join(data_folder, MLPIO_TRAINING_MANIFEST);
    if (!path)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    cJSON *j = mlpio_json_read_file(path, err);
    int rc = j ? 0 : -1;
    memset(m, 0, sizeof(*m));
    if (j) {
        snprintf(m->model, sizeof(m->model), "%s", mlpio_json_string(j, "model", ""));
        snprintf(m->format, sizeof(m->format), "%s", mlpio_json_string(j, "format", ""));
        m->num_files = (uint64_t)mlpio_json_number(j, "num_files_train", 0);
        m->num_subfolders = (uint64_t)mlpio_json_number(j, "num_subfolders_train", 0);
        m->samples_per_file = (uint32_t)mlpio_json_number(j, "num_samples_per_file", 0);
        m->record_length = mlpio_json_number(j, "record_length_bytes", 0);
        m->record_stdev = mlpio_json_number(j, "record_length_bytes_stdev", 0);
        m->scale = mlpio_json_number(j, "scale", 1);
        m->shape_seed = (uint64_t)mlpio_json_number(j, "shape_seed", 0);
        m->ranks = (int)mlpio_json_number(j, "datagen_ranks", 0);
        m->bytes = mlpio_json_number(j, "bytes", 0);
        if (m->num_files == 0 || m->ranks < 1 || m->samples_per_file == 0 ||
            mlpio_data_salt_from_hex(mlpio_json_string(j, "salt", ""), &m->salt) < 0)
            rc = mlpio_error_set(err, MLPIO_ERR_CONFIG, "%s is incomplete or damaged", path);
    }
    cJSON_Delete(j);
    free(path);
    return rc;
}

/* One file to write. */
struct file_job {
    const struct mlpio_format *format;
    char name[256];
    char *path;
    struct mlpio_format_shape shape;
    struct mlpio_data_object obj;
};

struct gen {
    struct mlpio_run *run;
    const struct mlpio_format *format;
    struct mlpio_training_manifest m;
    struct mlpio_format_layout layout;
    const char *folder;
    /* Formats that can compose a file apart from writing it do so on the prefill thread, one
     * file ahead: generating the data and its checksums overlaps the writes. The others write
     * through buf. */
    struct mlpio_prefill *prefill;
    void *buf;
    struct file_job job[2]; /* the file being written and the next one */
    struct mlpio_hist files;
    uint64_t bytes, written;
};

static int job_prepare(struct gen *g, uint64_t index, struct file_job *j, struct mlpio_error *err)
{
    struct mlpio_train_shape shape;
    free(j->path);
    memset(j, 0, sizeof(*j));
    j->format = g->format;
    if (mlpio_train_file_name(index, g->m.num_files, g->m.num_subfolders, g->format->ext, j->name,
                              sizeof(j->name), err) < 0 ||
        mlpio_train_file_shape(g->m.record_length, g->m.record_stdev, g->m.scale, g->m.shape_seed,
                               index, &shape, err) < 0)
        return -1;
    if (!(j->path = mlpio_path_join(g->folder, j->name)))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    mlpio_training_file_object(&g->m, index, j->name, &j->obj);
    j->shape = (struct mlpio_format_shape){shape.d1, shape.d2, g->m.samples_per_file, &g->layout};
    return 0;
}

/* Runs on the prefill thread. */
static int compose_job(void *arg, void *buf, size_t buflen, const struct mlpio_format_sink *sink,
                       struct mlpio_error *err)
{
    struct file_job *j = arg;
    return j->format->compose(j->path, &j->shape, fill, &j->obj, buf, buflen, sink, err);
}

/* Write the pieces of the current stream as the prefill thread composes them. */
static int write_composed(struct gen *g, struct mlpio_io_file *f, struct mlpio_error *err)
{
    const void *piece;
    uint64_t off;
    size_t len;
    while ((piece = mlpio_prefill_next(g->prefill, &off, &len)))
        if (mlpio_io_write_at(f, piece, len, off, err) != 0)
            return -1;
    return mlpio_prefill_finish(g->prefill, err);
}

static int write_one(struct gen *g, struct file_job *j, struct mlpio_error *err)
{
    struct mlpio_io_file *f = NULL;
    double t0 = MPI_Wtime();
    bool existed = access(j->path, F_OK) == 0;
    int rc =
        mlpio_io_open(g->run->io.backend, j->path, MLPIO_IO_WRITE, &g->run->io.options, &f, err);
    bool created = rc == 0 && !existed;
    if (rc == 0)
        rc = g->prefill ? write_composed(g, f, err)
                        : mlpio_format_write(g->format, f, &j->shape, fill, &j->obj, g->buf,
                                             WRITE_PIECE, err);
    if (rc == 0)
        rc = mlpio_io_sync(f, err);
    if (rc == 0)
        rc = mlpio_io_drop_cache(f, err);
    uint64_t size = 0;
    if (rc == 0 && mlpio_io_size(f, &size, NULL) < 0)
        size = g->format->file_bytes(&j->shape);
    struct mlpio_error close_err = {0};
    if (mlpio_io_close(&f, &close_err) < 0 && rc == 0) {
        *err = close_err;
        rc = -1;
    }
    if (rc == 0) {
        mlpio_hist_add(&g->files, MPI_Wtime() - t0);
        g->bytes += size;
    } else if (created) {
        /* A partial file would hold the space that ran out and pass for a sample file. */
        struct mlpio_error ignore = {0};
        (void)mlpio_io_remove(g->run->io.backend, j->path, &ignore);
    }
    return rc;
}

/* Prepare the rank's k-th file and, with a prefill thread, queue its composition. */
static int job_queue(struct gen *g, uint64_t k, struct mlpio_error *err)
{
    const struct mlpio_context *ctx = g->run->ctx;
    struct file_job *j = &g->job[k % 2];
    if (job_prepare(g, mlpio_train_datagen_file(ctx->rank, ctx->size, k), j, err) < 0)
        return -1;
    return g->prefill ? mlpio_prefill_queue(g->prefill, compose_job, j, err) : 0;
}

/* The rank's files in order; the next one is queued before the current one is written. */
static int write_all(struct gen *g, uint64_t mine, struct mlpio_error *err)
{
    const struct mlpio_context *ctx = g->run->ctx;
    /* rank 0's files stand for every rank's: datagen deals them out round-robin */
    struct mlpio_progress *progress =
        mlpio_progress_start(g->run, "datagen", (double)g->m.num_files, "files");
    int rc = mine > 0 ? job_queue(g, 0, err) : 0;
    for (uint64_t k = 0; rc == 0 && k < mine; k++) {
        if (k + 1 < mine)
            rc = job_queue(g, k + 1, err);
        if (rc == 0 && mlpio_signals_interrupted())
            rc = mlpio_error_set(err, MLPIO_ERR_INTERRUPTED, "interrupted by a signal");
        if (rc == 0)
            rc = write_one(g, &g->job[k % 2], err);
        if (rc == 0)
            mlpio_progress_update(progress, (double)(k + 1) * ctx->size);
    }
    mlpio_progress_finish(&progress);
    /* After an error, the file queued next is abandoned before its job goes away. */
    if (rc != 0 && g->prefill)
        mlpio_prefill_stop(g->prefill);
    return rc;
}

static int refuse_existing(const char *folder, struct mlpio_error *err)
{
    char *manifest = mlpio_path_join(folder, MLPIO_TRAINING_MANIFEST);
    if (!manifest)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    int exists = access(manifest, F_OK) == 0;
    free(manifest);
    if (exists) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "%s already holds a dataset (%s)", folder,
                        MLPIO_TRAINING_MANIFEST);
        return mlpio_error_hint(err, "choose another --data-dir, or remove that dataset first");
    }
    return 0;
}

int mlpio_training_datagen_precheck(struct mlpio_run *run, struct mlpio_error *err)
{
    const struct mlpio_training_settings *s = run->settings;
    const char *folder = s->dataset.data_folder;
    if (refuse_existing(folder, err) < 0)
        return -1;
    if (!(run->io.backend->caps & MLPIO_IO_CAP_STORAGE))
        return 0;
    /* The samples alone: the formats' headers only add to it. */
    double files = (double)s->dataset.num_files_train;
    double bytes = files * (double)s->dataset.num_samples_per_file *
                   s->dataset.record_length_bytes * mlpio_run_scale(run);
    char what[64];
    snprintf(what, sizeof(what), "%.0f dataset files", files);
    return mlpio_fsutil_check_space(folder, (uint64_t)bytes, what,
                                    "free space there, choose another --data-dir, or generate "
                                    "fewer files (--params dataset.num_files_train=N)",
                                    err);
}

/* Rank 0: refuse an existing dataset, create train/ and its subfolders. */
static int prepare_folder(struct gen *g, struct mlpio_error *err)
{
    if (refuse_existing(g->folder, err) < 0)
        return -1;
    char dir[4096];
    int rc = 0;
    for (uint64_t s = 0; rc == 0 && s <= g->m.num_subfolders; s++) {
        if (s == g->m.num_subfolders)
            snprintf(dir, sizeof(dir), "%s/train", g->folder);
        else
            snprintf(dir, sizeof(dir), "%s/train/%" PRIu64, g->folder, s);
        rc = mlpio_io_mkdirs(g->run->io.backend, dir, err);
    }
    if (rc < 0)
        mlpio_error_hint(err, "choose a writable data folder with --data-dir");
    return rc;
}

/* Composing on a second thread pays only when that thread has a core of its own: otherwise the
 * two threads take turns on one core and the pieces move between caches on the way to the
 * kernel (with 2 ranks on 2 CPUs, writing on tmpfs was 9 % faster without it; with 1 rank, 5 %
 * faster with it). A rank's share of CPUs is what its binding allows, and no more than the
 * host's CPUs divided among the host's ranks. */
static bool spare_core(const struct mlpio_run *run)
{
    int ranks = run->host_ranks > 0 ? run->host_ranks : 1;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    long mine = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : online;
    long share = online > 0 && online / ranks < mine ? online / ranks : mine;
    mlpio_log_debug(run->ctx,
                    "datagen: %ld CPUs for this rank (%ld on the host for %d ranks): files "
                    "composed %s",
                    mine, online, ranks, share >= 2 ? "on a second thread" : "by the writer");
    return share >= 2;
}

static int setup(struct gen *g, struct mlpio_run *run, struct mlpio_error *err)
{
    const struct mlpio_training_settings *s = run->settings;
    memset(g, 0, sizeof(*g));
    g->run = run;
    g->folder = s->dataset.data_folder;
    mlpio_hist_init(&g->files);
    if (!(g->format = mlpio_training_format(s, err)))
        return -1;
    struct mlpio_training_manifest *m = &g->m;
    snprintf(m->model, sizeof(m->model), "%s", run->opts->model);
    snprintf(m->format, sizeof(m->format), "%s", g->format->name);
    m->num_files = (uint64_t)s->dataset.num_files_train;
    m->num_subfolders = (uint64_t)s->dataset.num_subfolders_train;
    m->samples_per_file = (uint32_t)s->dataset.num_samples_per_file;
    m->record_length = s->dataset.record_length_bytes;
    m->record_stdev = s->dataset.record_length_bytes_stdev;
    m->scale = mlpio_run_scale(run);
    m->shape_seed = run->opts->has_seed ? run->opts->seed : 0;
    m->ranks = run->ctx->size;
    m->salt = run->io.salt;
    if (mlpio_training_layout(s, m->scale, &g->layout, err) < 0)
        return -1;
    if (run->opts->what_if)
        return 0;
    if (g->format->compose && spare_core(run))
        return (g->prefill = mlpio_prefill_create(WRITE_PIECE, WRITE_DEPTH, err)) ? 0 : -1;
    if (!(g->buf = mlpio_io_buffer_alloc(WRITE_PIECE)))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    return 0;
}

static void summarize(struct gen *g, double seconds, uint64_t total, uint64_t files,
                      const struct mlpio_hist *h)
{
    struct mlpio_run *run = g->run;
    double mbps = seconds > 0 ? (double)total / MIB / seconds : 0;
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "datagen_files", (double)files);
    cJSON_AddNumberToObject(s, "datagen_bytes", (double)total);
    cJSON_AddNumberToObject(s, "datagen_duration_seconds", seconds);
    cJSON_AddNumberToObject(s, "datagen_MB_per_second", mbps);
    cJSON_AddItemToObject(s, "datagen_file_latency_seconds", mlpio_hist_to_json(h));
    cJSON_AddStringToObject(s, "format", g->format->name);
    cJSON_AddStringToObject(s, "data_folder", g->folder);
    cJSON_AddNumberToObject(s, "num_files_train", (double)g->m.num_files);
    cJSON_AddNumberToObject(s, "num_samples_per_file", g->m.samples_per_file);
    cJSON_AddStringToObject(s, "units", "MB = 2^20 bytes");
    run->rec.summary = s;
    size_t len = 512;
    if ((run->rec.report_text = malloc(len)))
        snprintf(run->rec.report_text, len,
                 "datagen: %" PRIu64 " %s files, %.1f MB in %.3f s = %.1f MB/s over %d ranks\n"
                 "  per file: p50 %.3f s, p99 %.3f s\n",
                 files, g->format->name, (double)total / MIB, seconds, mbps, run->ctx->size,
                 mlpio_hist_percentile(h, 50), mlpio_hist_percentile(h, 99));
}

int mlpio_training_datagen(struct mlpio_run *run, struct mlpio_error *err)
{
    const struct mlpio_context *ctx = run->ctx;
    struct gen g;
    int rc = setup(&g, run, err);
    if (mlpio_context_agree(ctx, rc, err) < 0)
        goto out;
    uint64_t mine = mlpio_train_datagen_count(g.m.num_files, ctx->rank, ctx->size);
    if (run->opts->what_if) {
        mlpio_log(ctx, MLPIO_LOG_QUIET,
                  "what-if: %d ranks would write %" PRIu64 " %s files (%" PRIu64
                  " on rank 0) in %s/train, %" PRIu64 " subfolders\n",
                  ctx->size, g.m.num_files, g.format->name, mine, g.folder, g.m.num_subfolders);
        goto out;
    }
    rc = ctx->rank == 0 ? prepare_folder(&g, err) : 0;
    if ((rc = mlpio_context_agree(ctx, rc, err)) < 0)
        goto out;
    mlpio_log(ctx, MLPIO_LOG_NORMAL, "datagen: %" PRIu64 " %s files into %s (%d ranks)\n",
              g.m.num_files, g.format->name, g.folder, ctx->size);
    MPI_Barrier(ctx->comm);
    double start = mlpio_wtime();
    rc = write_all(&g, mine, err);
    /* A rank done early waits without taking the core that another rank is writing with. */
    if ((rc = mlpio_context_agree_idle(ctx, rc, err)) < 0)
        goto out;
    double stop = mlpio_wtime(), gstart = 0, gstop = 0;
    unsigned long long bytes = g.bytes, total = 0;
    struct mlpio_hist all;
    mlpio_hist_init(&all);
    MPI_Reduce(&bytes, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, ctx->comm);
    if (mlpio_hist_phase_reduce(start, stop, &gstart, &gstop, 0, ctx->comm, err) < 0 ||
        mlpio_hist_reduce(&g.files, &all, 0, ctx->comm, err) < 0) {
        rc = -1;
        goto out;
    }
    if (ctx->rank == 0) {
        g.m.bytes = (double)total;
        char *path = mlpio_path_join(g.folder, MLPIO_TRAINING_MANIFEST);
        cJSON *j = manifest_json(&g.m);
        rc = path && j ? mlpio_json_write_atomic(path, j, err)
                       : mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
        cJSON_Delete(j);
        free(path);
        summarize(&g, gstop - gstart, total, g.m.num_files, &all);
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddNumberToObject(ev, "files", (double)g.m.num_files);
        cJSON_AddNumberToObject(ev, "bytes", (double)total);
        cJSON_AddNumberToObject(ev, "duration_seconds", gstop - gstart);
        mlpio_run_event(run, "datagen", ev);
    }
    rc = mlpio_context_agree(ctx, rc, err);
out:
    mlpio_prefill_destroy(&g.prefill);
    mlpio_io_buffer_free(g.buf);
    mlpio_format_layout_free(&g.layout);
    for (int i = 0; i < 2; i++)
        free(g.job[i].path);
    return rc;
}
