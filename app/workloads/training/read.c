/* Training run: epochs of steps. Per step the main thread waits for the next batch from the
 * loader's read threads, sleeps the model's compute time, and joins an all-rank agreement that
 * stands in for the gradient all-reduce (and stops every rank together on an error). AU and
 * throughput follow DLIO v2 (dataset.c), clocked in DLIO's order (run_epoch). Readers parse every
 * file's format, so corrupt or truncated files are reported, and with --verify every sample byte is
 * checked. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/config.h"
#include "app/histogram.h"
#include "app/progress.h"
#include "app/rundir.h"
#include "app/signals.h"
#include "app/workloads/training/dataset.h"
#include "app/workloads/training/loader.h"
#include "app/workloads/training/training.h"
#include "io/path.h"
#include "report/json_file.h"

#define MIB (1024.0 * 1024.0)

struct unit {
    uint64_t file;
    uint64_t samples;
};

struct reading {
    struct mlpio_run *run;
    const struct mlpio_format *format;
    struct mlpio_training_manifest m;
    struct mlpio_train_reading r;
    struct mlpio_format_layout layout;
    const char *folder;
    struct mlpio_io_options io;
    size_t transfer;
    int threads, prefetch, epochs;
    double compute_time, au_min;
    uint64_t steps;
    void **buf; /* one per read thread */
    struct unit *units;
    uint64_t nunits;
    _Atomic uint64_t bytes;
};

/* Verification state of one file being read. */
struct sample_check {
    struct mlpio_data_object obj;
    uint64_t sample_bytes;
    uint32_t index;
    uint64_t pos; /* bytes of sample `index` seen so far (samples may come in pieces) */
    const char *path;
    bool verify;
    bool at_file_offset; /* the format's values are the generator's bytes at their offsets */
    uint64_t bytes;
    /* Encoded formats (jpeg): the file as datagen composed it, and the first file offset at
     * which the bytes read differ from it. The shape is judged first, once the file is read. */
    uint8_t *expect;
    uint64_t expect_len;
    uint64_t first_bad;
};

static void check_coded(struct sample_check *s, uint64_t offset, const uint8_t *bytes, size_t len)
{
    if (s->first_bad <= offset)
        return;
    for (size_t i = 0; i < len; i++)
        if (offset + i >= s->expect_len || bytes[i] != s->expect[offset + i]) {
            s->first_bad = offset + i;
            return;
        }
}

static int on_sample(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                     struct mlpio_error *err)
{
    struct sample_check *s = arg;
    if (index != s->index) {
        s->index = index;
        s->pos = 0;
    }
    uint64_t bad;
    uint64_t at = s->at_file_offset ? offset : (uint64_t)index * s->sample_bytes + s->pos;
    if (s->verify && s->expect) {
        check_coded(s, offset, bytes, len);
    } else if (s->verify && mlpio_data_verify(&s->obj, at, bytes, len, &bad) < 0) {
        mlpio_error_set(err, MLPIO_ERR_VERIFY,
                        "sample %" PRIu32 " of %s differs from what datagen wrote, first at file "
                        "offset %" PRIu64,
                        index, s->path, offset + (bad - at));
        return mlpio_error_hint(err, "the storage returned wrong data; check the file system");
    }
    s->pos += len;
    s->bytes += len;
    return 0;
}

static void fill(void *arg, void *buf, size_t len, uint64_t off)
{
    mlpio_data_fill(arg, off, buf, len);
}

struct memory_sink {
    uint8_t *data;
    size_t len, cap;
};

static void *put_memory(void *arg, void *buf, size_t len, uint64_t off, struct mlpio_error *err)
{
    struct memory_sink *m = arg;
    if (off + len > m->cap) {
        size_t cap = m->cap ? m->cap : 1 << 20;
        while (cap < off + len)
            cap *= 2;
        uint8_t *data = realloc(m->data, cap);
        if (!data) {
            mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory verifying a file");
            return NULL;
        }
        m->data = data;
        m->cap = cap;
    }
    memcpy(m->data + off, buf, len);
    if (off + len > m->len)
        m->len = (size_t)(off + len);
    return buf;
}

/* What datagen wrote for an encoded format: the file composed again into memory. */
static int compose_expected(const struct reading *rd, const char *path,
                            const struct mlpio_format_shape *shape, struct sample_check *s,
                            struct mlpio_error *err)
{
    struct memory_sink m = {0};
    struct mlpio_format_sink sink = {.put = put_memory, .arg = &m};
    size_t buflen = (size_t)1 << 16;
    void *buf = mlpio_io_buffer_alloc(buflen);
    int rc = buf ? rd->format->compose(path, shape, fill, &s->obj, buf, buflen, &sink, err)
                 : mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory verifying %s", path);
    mlpio_io_buffer_free(buf);
    if (rc != 0) {
        free(m.data);
        return -1;
    }
    s->expect = m.data;
    s->expect_len = m.len;
    return 0;
}

/* An encoded file's shape is what its header says; with --verify, its bytes must be the ones
 * composed again. */
static int judge_coded(const struct sample_check *s, const struct mlpio_format_shape *want,
                       const struct mlpio_format_shape *found, uint64_t size,
                       struct mlpio_error *err)
{
    if (found->d1 != want->d1 || found->d2 != want->d2) {
        mlpio_error_set(err, MLPIO_ERR_IO,
                        "%s holds an image of %" PRIu64 " x %" PRIu64
                        " pixels (height x width), expected %" PRIu64 " x %" PRIu64
                        " (from dataset.record_length_bytes and --scale)",
                        s->path, found->d1, found->d2, want->d1, want->d2);
        return mlpio_error_hint(err, "the file was not written by mlpio datagen for this config; "
                                     "generate the dataset again into an empty --data-dir");
    }
    if (!s->verify || (size == s->expect_len && s->first_bad == UINT64_MAX))
        return 0;
    if (s->first_bad < size && s->first_bad < s->expect_len)
        mlpio_error_set(err, MLPIO_ERR_VERIFY,
                        "%s differs from what datagen wrote, first at file offset %" PRIu64
                        " (the image encoded again has %" PRIu64 " bytes, the file %" PRIu64 ")",
                        s->path, s->first_bad, s->expect_len, size);
    else
        mlpio_error_set(err, MLPIO_ERR_VERIFY,
                        "%s has %" PRIu64 " bytes, but the image encoded again has %" PRIu64
                        " (equal up to offset %" PRIu64 ")",
                        s->path, size, s->expect_len, size < s->expect_len ? size : s->expect_len);
    return mlpio_error_hint(err, "the storage returned wrong data; check the file system");
}

static int read_unit(void *arg, int thread, uint32_t u, struct mlpio_error *err)
{
    struct reading *rd = arg;
    uint64_t index = rd->units[u].file;
    char name[256];
    struct mlpio_train_shape shape;
    if (mlpio_train_file_name(index, rd->m.num_files, rd->m.num_subfolders, rd->format->ext, name,
                              sizeof(name), err) < 0 ||
        mlpio_train_file_shape(rd->m.record_length, rd->m.record_stdev, rd->m.scale,
                               rd->m.shape_seed, index, &shape, err) < 0)
        return -1;
    char *path = mlpio_path_join(rd->folder, name);
    if (!path)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    struct sample_check s = {.sample_bytes = shape.sample_bytes,
                             .index = UINT32_MAX,
                             .path = path,
                             .verify = rd->run->opts->verify,
                             .first_bad = UINT64_MAX,
                             .at_file_offset = rd->format->content_at_file_offset};
    mlpio_training_file_object(&rd->m, index, name, &s.obj);
    struct mlpio_io_file *f = NULL;
    uint64_t size = 0;
    struct mlpio_format_shape found = {0}, want = {shape.d1, shape.d2, rd->m.samples_per_file},
                              expect = {shape.d1, shape.d2, rd->m.samples_per_file, &rd->layout};
    if (s.verify && rd->format->encoded && compose_expected(rd, path, &want, &s, err) < 0) {
        free(path);
        return -1;
    }
    int rc = mlpio_io_open(rd->run->io.backend, path, MLPIO_IO_READ, &rd->io, &f, err);
    if (rc < 0 && err->source == MLPIO_SRC_ERRNO && err->cause == ENOENT)
        mlpio_error_hint(err, "the dataset is incomplete: run 'mlpio training datagen' again "
                              "into an empty --data-dir");
    if (rc == 0)
        rc = mlpio_io_size(f, &size, err);
    if (rc == 0)
        rc = rd->format->read_expect
                 ? rd->format->read_expect(f, size, rd->buf[thread], rd->transfer, &expect, &found,
                                           on_sample, &s, err)
                 : rd->format->read(f, size, rd->buf[thread], rd->transfer, &found, on_sample, &s,
                                    err);
    if (rc == 0 && rd->format->encoded)
        rc = judge_coded(&s, &want, &found, size, err);
    mlpio_io_close(&f, NULL);
    free(s.expect);
    free(path);
    if (rc == 0)
        atomic_fetch_add(&rd->bytes, s.bytes);
    return rc;
}

/* The rank's sample stream of an epoch as read units: runs of samples from one file. */
static int plan_epoch(struct reading *rd, uint64_t epoch, uint64_t **samples,
                      struct mlpio_error *err)
{
    uint64_t total = rd->steps * rd->r.batch_size, n = 0;
    free(rd->units);
    free(*samples);
    rd->units = malloc(sizeof(struct unit) * (total ? total : 1));
    *samples = malloc(sizeof(uint64_t) * (total ? total : 1));
    if (!rd->units || !*samples)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory planning an epoch");
    for (uint64_t s = 0; s < total; s++) {
        uint64_t file;
        uint32_t sample;
        mlpio_train_rank_sample(&rd->r, epoch, rd->run->ctx->rank, s, &file, &sample);
        if (n > 0 && rd->units[n - 1].file == file) {
            rd->units[n - 1].samples++;
            continue;
        }
        rd->units[n].file = file;
        rd->units[n].samples = 1;
        n++;
    }
    for (uint64_t i = 0; i < n; i++) {
        (*samples)[i] = rd->units[i].samples;
        mlpio_log_debug(rd->run->ctx,
                        "epoch %" PRIu64 " read %" PRIu64 ": file %" PRIu64 " (%" PRIu64
                        " samples)",
                        epoch + 1, i, rd->units[i].file, rd->units[i].samples);
    }
    rd->nunits = n;
    return 0;
}

static double sleep_for(double seconds)
{
    double t0 = MPI_Wtime();
    if (seconds > 0) {
        struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && !mlpio_signals_interrupted())
            ;
    }
    return MPI_Wtime() - t0;
}

/* Read threads confined to fewer cores than there are threads take turns. The usual cause is
 * the launcher's binding (Open MPI binds each rank to one core): say how to lift it. */
static void note_binding(const struct reading *rd)
{
    cpu_set_t set;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return;
    int cpus = CPU_COUNT(&set);
    if (cpus < rd->threads && cpus < online)
        mlpio_log(rd->run->ctx, MLPIO_LOG_NORMAL,
                  "note: rank 0 may use %d of the node's %ld CPUs for its %d read threads; "
                  "launch with 'mpirun --bind-to none' (Open MPI) or 'srun --cpu-bind=none' "
                  "so that they can read in parallel\n",
                  cpus, online, rd->threads);
}

/* Rank 0: the dataset must exist, match the config's format and hold enough files. */
static int check_dataset(struct reading *rd, struct mlpio_error *err)
{
    struct mlpio_run *run = rd->run;
    const struct mlpio_training_settings *s = run->settings;
    uint64_t want = (uint64_t)s->dataset.num_files_train;
    if (mlpio_training_manifest_read(rd->folder, &rd->m, err) < 0) {
        mlpio_error_prefix(err, "no usable dataset in %s", rd->folder);
        err->category = MLPIO_ERR_CONFIG; /* set-up, not a storage fault: datagen comes first */
        return mlpio_error_hint(err,
                                "generate it first: mpirun -np %d mlpio training datagen --model "
                                "%s -g %s --data-dir %s --params dataset.num_files_train=%" PRIu64,
                                run->ctx->size, run->opts->model, run->opts->variant, rd->folder,
                                want);
    }
    if (strcmp(rd->m.model, run->opts->model) != 0) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "the dataset in %s was made for %s (%s), expected one made for %s",
                        rd->folder, rd->m.model[0] ? rd->m.model : "an unknown model",
                        MLPIO_TRAINING_MANIFEST, run->opts->model);
        return mlpio_error_hint(err,
                                "run with --model %s, or generate a %s dataset into an empty "
                                "folder: mpirun -np %d mlpio training datagen --model %s -g %s "
                                "--data-dir DIR",
                                rd->m.model[0] ? rd->m.model : "MODEL", run->opts->model,
                                run->ctx->size, run->opts->model, run->opts->variant);
    }
    if (strcmp(rd->m.format, rd->format->name) != 0) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG, "the dataset in %s is %s, the config says %s",
                        rd->folder, rd->m.format, rd->format->name);
        return mlpio_error_hint(err, "use --params dataset.format=%s or another --data-dir",
                                rd->m.format);
    }
    if (rd->m.num_files < want || rd->m.samples_per_file != rd->r.samples_per_file) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "the dataset in %s has %" PRIu64 " files of %" PRIu32
                        " samples, the config needs %" PRIu64 " of %" PRIu32,
                        rd->folder, rd->m.num_files, rd->m.samples_per_file, want,
                        rd->r.samples_per_file);
        return mlpio_error_hint(err,
                                "generate a dataset of that size into an empty folder: mpirun -np "
                                "%d mlpio training datagen --model %s -g %s --data-dir DIR "
                                "--params dataset.num_files_train=%" PRIu64,
                                run->ctx->size, run->opts->model, run->opts->variant, want);
    }
    return 0;
}

static int setup(struct reading *rd, struct mlpio_run *run, struct mlpio_error *err)
{
    const struct mlpio_training_settings *s = run->settings;
    memset(rd, 0, sizeof(*rd));
    rd->run = run;
    rd->folder = s->dataset.data_folder;
    rd->transfer = (size_t)s->reader.transfer_size;
    rd->threads = (int)s->reader.read_threads;
    rd->prefetch = (int)s->reader.prefetch_size;
    rd->epochs = (int)s->train.epochs;
    rd->compute_time = s->train.computation_time;
    rd->au_min = s->metric.au;
    rd->io = run->io.options;
    rd->io.odirect = run->io.options.odirect || s->reader.odirect;
    struct mlpio_train_reading *r = &rd->r;
    r->num_files = (uint64_t)s->dataset.num_files_train;
    r->samples_per_file = (uint32_t)s->dataset.num_samples_per_file;
    r->batch_size = (uint32_t)s->reader.batch_size;
    r->ranks = run->ctx->size;
    r->loader = strcmp(s->reader.data_loader, "tensorflow") == 0 ? MLPIO_TRAIN_LOADER_TENSORFLOW
                                                                 : MLPIO_TRAIN_LOADER_PYTORCH;
    r->file_shuffle = strcmp(s->reader.file_shuffle, "seed") == 0;
    r->sample_shuffle = strcmp(s->reader.sample_shuffle, "seed") == 0;
    r->seed = run->opts->has_seed ? run->opts->seed : 0;
    if (!(rd->format = mlpio_training_format(s, err)) || mlpio_train_reading_check(r, err) < 0)
        return -1;
    /* Checked here; taken again at the dataset's scale once its manifest is known. */
    if (mlpio_training_layout(s, mlpio_run_scale(run), &rd->layout, err) < 0)
        return -1;
    mlpio_format_layout_free(&rd->layout);
    /* Read threads may not call MPI (mlpio asks for MPI_THREAD_FUNNELED). */
    if (!(run->io.backend->caps & MLPIO_IO_CAP_THREADS)) {
        char can[128];
        mlpio_error_set(err, MLPIO_ERR_UNSUPPORTED,
                        "--io-api %s cannot serve the training reader's threads: it calls MPI, "
                        "which only the main thread may",
                        run->io.backend->name);
        return mlpio_error_hint(err, "read with --io-api %s (datagen may use %s)",
                                mlpio_io_names(MLPIO_IO_CAP_THREADS | MLPIO_IO_CAP_STORAGE, ", ",
                                               " or ", can, sizeof(can)),
                                run->io.backend->name);
    }
    rd->steps = mlpio_train_steps_per_epoch(r);
    if (rd->steps < 3) {
        mlpio_error_set(err, MLPIO_ERR_CONFIG,
                        "only %" PRIu64 " steps per epoch (%" PRIu64 " files x %" PRIu32
                        " samples / batch %" PRIu32 " / %d ranks); the AU formula needs at "
                        "least 3",
                        rd->steps, r->num_files, r->samples_per_file, r->batch_size, r->ranks);
        return mlpio_error_hint(err, "use more files (dataset.num_files_train) or fewer ranks");
    }
    return 0;
}

struct results {
    double *au, *throughput; /* rank 0: per epoch */
    struct mlpio_hist load;  /* per-step wait for the batch, this rank */
};

/* One epoch, clocked in the order of DLIO's DLIOBenchmark._train (dlio_benchmark/main.py, with
 * utils/statscounter.py): start_block takes the epoch's start before the loader's iterator
 * exists, start_loading follows at once, and `for batch in loader.next()` starts the read
 * workers inside the clock, so their start-up and first reads are step 0's load. Per step:
 * batch_loaded (load time), compute, batch_processed (step time from start_loading, taken
 * before the barrier), the barrier that stands in for the all-reduce, start_loading for the
 * next step. end_block stops the clock once the loader is done. compute_metrics_train then
 * removes step 0's processed time only: its barrier wait stays in the epoch. The file order is
 * planned before the clock, as DLIO's reconfigure does between epochs. */
static int run_epoch(struct reading *rd, struct mlpio_loader *loader, uint64_t epoch,
                     double *compute, struct results *res, struct mlpio_error *err)
{
    const struct mlpio_context *ctx = rd->run->ctx;
    uint64_t *samples = NULL;
    int rc = plan_epoch(rd, epoch, &samples, err);
    if (mlpio_context_agree(ctx, rc, err) < 0) {
        free(samples);
        return -1;
    }
    char phase[48];
    snprintf(phase, sizeof(phase), "epoch %" PRIu64 "/%d", epoch + 1, rd->epochs);
    struct mlpio_progress *progress =
        mlpio_progress_start(rd->run, phase, (double)rd->steps, "steps");
    double t0 = MPI_Wtime(), loading = t0, step0 = 0; /* start_block, start_loading */
    rc = mlpio_loader_start(loader, (uint32_t)rd->nunits, samples, err);
    free(samples);
    for (uint64_t b = 0; b < rd->steps; b++) {
        if (rc == 0)
            rc = mlpio_signals_interrupted()
                     ? mlpio_error_set(err, MLPIO_ERR_INTERRUPTED, "interrupted by a signal")
                     : mlpio_loader_wait(loader, b, err);
        mlpio_hist_add(&res->load, MPI_Wtime() - loading); /* batch_loaded */
        compute[b] = rc == 0 ? sleep_for(rd->compute_time) : 0;
        if (b == 0)
            step0 = MPI_Wtime() - loading; /* batch_processed, before the barrier */
        /* Stands in for the all-reduce of gradients, and stops every rank on an error. */
        if (mlpio_context_agree_idle(ctx, rc, err) < 0) {
            mlpio_progress_finish(&progress);
            mlpio_loader_end(loader);
            return -1;
        }
        loading = MPI_Wtime();
        mlpio_progress_update(progress, (double)b + 1);
    }
    mlpio_loader_end(loader); /* the loader is exhausted: then end_block */
    double wall = MPI_Wtime() - t0;
    mlpio_progress_finish(&progress);
    struct mlpio_train_epoch_metrics m = {0}, sum = {0};
    rc = mlpio_train_epoch_metrics(compute, rd->steps, rd->r.batch_size, wall, step0, &m, err);
    if (mlpio_context_agree(ctx, rc, err) < 0)
        return -1;
    /* AU is averaged over ranks and throughput summed (DLIO v2). */
    MPI_Reduce(&m, &sum, 2, MPI_DOUBLE, MPI_SUM, 0, ctx->comm);
    if (ctx->rank == 0) {
        res->au[epoch] = sum.au_percent / ctx->size;
        res->throughput[epoch] = sum.throughput;
        mlpio_log(ctx, MLPIO_LOG_NORMAL,
                  "  epoch %" PRIu64 "/%d: %" PRIu64 " steps in %.3f s, AU %.2f %%, %.1f "
                  "samples/s\n",
                  epoch + 1, rd->epochs, rd->steps, wall, res->au[epoch], res->throughput[epoch]);
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddNumberToObject(ev, "epoch", (double)epoch + 1);
        cJSON_AddNumberToObject(ev, "steps", (double)rd->steps);
        cJSON_AddNumberToObject(ev, "duration_seconds", wall);
        cJSON_AddNumberToObject(ev, "au_percentage", res->au[epoch]);
        cJSON_AddNumberToObject(ev, "throughput_samples_per_second", res->throughput[epoch]);
        mlpio_run_event(rd->run, "epoch", ev);
    }
    return 0;
}

static void summarize(struct reading *rd, const struct results *res, const struct mlpio_hist *load,
                      double io_bytes, double seconds)
{
    struct mlpio_run *run = rd->run;
    double au_mean, au_sd, tp_mean, tp_sd;
    mlpio_train_mean_stdev(res->au, rd->epochs, &au_mean, &au_sd);
    mlpio_train_mean_stdev(res->throughput, rd->epochs, &tp_mean, &tp_sd);
    double record = rd->m.record_length * rd->m.scale;
    bool pass = mlpio_train_au_meets(au_mean, rd->au_min);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToObject(s, "train_au_percentage", cJSON_CreateDoubleArray(res->au, rd->epochs));
    cJSON_AddNumberToObject(s, "train_au_mean_percentage", au_mean);
    cJSON_AddNumberToObject(s, "train_au_stdev_percentage", au_sd);
    cJSON_AddStringToObject(s, "train_au_meet_expectation", pass ? "success" : "fail");
    cJSON_AddItemToObject(s, "train_throughput_samples_per_second",
                          cJSON_CreateDoubleArray(res->throughput, rd->epochs));
    cJSON_AddNumberToObject(s, "train_throughput_mean_samples_per_second", tp_mean);
    cJSON_AddNumberToObject(s, "train_throughput_stdev_samples_per_second", tp_sd);
    cJSON_AddNumberToObject(s, "train_io_mean_MB_per_second",
                            mlpio_train_io_mb_per_second(tp_mean, record));
    cJSON_AddNumberToObject(s, "train_io_measured_MB_per_second",
                            seconds > 0 ? io_bytes / MIB / seconds : 0);
    cJSON_AddItemToObject(s, "train_step_load_seconds", mlpio_hist_to_json(load));
    cJSON_AddNumberToObject(s, "num_files_train", (double)rd->r.num_files);
    cJSON_AddNumberToObject(s, "num_samples_per_file", rd->r.samples_per_file);
    cJSON_AddNumberToObject(s, "epochs", rd->epochs);
    cJSON_AddNumberToObject(s, "steps_per_epoch", (double)rd->steps);
    cJSON_AddNumberToObject(s, "batch_size", rd->r.batch_size);
    cJSON_AddStringToObject(s, "format", rd->format->name);
    cJSON_AddStringToObject(s, "units", "MB = 2^20 bytes");
    run->rec.summary = s;
    size_t len = 1024;
    if ((run->rec.report_text = malloc(len)))
        snprintf(run->rec.report_text, len,
                 "training %s: %d epochs x %" PRIu64 " steps, batch %" PRIu32 ", %d ranks\n"
                 "  AU %.2f %% (stdev %.2f; minimum %.0f %%: %s)\n"
                 "  throughput %.2f samples/s, %.2f MB/s (measured %.2f MB/s read)\n"
                 "  step load time: p50 %.4f s, p90 %.4f s, p99 %.4f s\n",
                 run->opts->model, rd->epochs, rd->steps, rd->r.batch_size, run->ctx->size, au_mean,
                 au_sd, rd->au_min * 100, pass ? "success" : "fail", tp_mean,
                 mlpio_train_io_mb_per_second(tp_mean, record),
                 seconds > 0 ? io_bytes / MIB / seconds : 0, mlpio_hist_percentile(load, 50),
                 mlpio_hist_percentile(load, 90), mlpio_hist_percentile(load, 99));
}

int mlpio_training_run_precheck(struct mlpio_run *run, struct mlpio_error *err)
{
    struct reading rd;
    int rc = setup(&rd, run, err);
    if (rc == 0)
        rc = check_dataset(&rd, err);
    free(rd.units);
    return rc;
}

int mlpio_training_run(struct mlpio_run *run, struct mlpio_error *err)
{
    const struct mlpio_context *ctx = run->ctx;
    struct reading rd;
    struct results res = {0};
    struct mlpio_loader *loader = NULL;
    double *compute = NULL;
    mlpio_hist_init(&res.load);
    int rc = setup(&rd, run, err);
    if (rc == 0 && ctx->rank == 0 && !run->opts->what_if)
        rc = check_dataset(&rd, err);
    if ((rc = mlpio_context_agree(ctx, rc, err)) < 0)
        goto out;
    if (run->opts->what_if) {
        mlpio_log(ctx, MLPIO_LOG_QUIET,
                  "what-if: %d ranks would read %" PRIu64 " files from %s for %d epochs of %" PRIu64
                  " steps (batch %" PRIu32 ", %d read threads, prefetch %d, compute %.4f s)\n",
                  ctx->size, rd.r.num_files, rd.folder, rd.epochs, rd.steps, rd.r.batch_size,
                  rd.threads, rd.prefetch, rd.compute_time);
        goto out;
    }
    if ((rc = mlpio_config_bcast_bytes(ctx, &rd.m, sizeof(rd.m), err)) < 0)
        goto out;
    rc = mlpio_training_layout(run->settings, rd.m.scale, &rd.layout, err);
    if ((rc = mlpio_context_agree(ctx, rc, err)) < 0)
        goto out;
    rd.buf = calloc((size_t)rd.threads, sizeof(void *));
    compute = calloc(rd.steps, sizeof(double));
    res.au = calloc((size_t)rd.epochs, sizeof(double));
    res.throughput = calloc((size_t)rd.epochs, sizeof(double));
    rc = rd.buf && compute && res.au && res.throughput
             ? 0
             : mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    for (int t = 0; rc == 0 && t < rd.threads; t++)
        if (!(rd.buf[t] = mlpio_io_buffer_alloc(rd.transfer)))
            rc = mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory for read buffers");
    if (rc == 0 && !(loader = mlpio_loader_create(rd.threads, rd.prefetch, rd.r.batch_size,
                                                  read_unit, &rd, err)))
        rc = -1;
    if ((rc = mlpio_context_agree(ctx, rc, err)) < 0)
        goto out;
    mlpio_log(ctx, MLPIO_LOG_NORMAL,
              "training %s: %d ranks, %" PRIu64 " files, %d epochs of %" PRIu64 " steps\n",
              run->opts->model, ctx->size, rd.r.num_files, rd.epochs, rd.steps);
    if (ctx->rank == 0)
        note_binding(&rd);
    double start = MPI_Wtime();
    for (int e = 0; rc == 0 && e < rd.epochs; e++)
        rc = run_epoch(&rd, loader, (uint64_t)e, compute, &res, err);
    double seconds = MPI_Wtime() - start;
    if (rc == 0) {
        unsigned long long mine = atomic_load(&rd.bytes), total = 0;
        struct mlpio_hist load;
        MPI_Reduce(&mine, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, ctx->comm);
        rc = mlpio_hist_reduce(&res.load, &load, 0, ctx->comm, err);
        if (rc == 0 && ctx->rank == 0)
            summarize(&rd, &res, &load, (double)total, seconds);
    }
out:
    mlpio_loader_destroy(&loader);
    for (int t = 0; rd.buf && t < rd.threads; t++)
        mlpio_io_buffer_free(rd.buf[t]);
    free(rd.buf);
    free(rd.units);
    mlpio_format_layout_free(&rd.layout);
    free(compute);
    free(res.au);
    free(res.throughput);
    return rc;
}
