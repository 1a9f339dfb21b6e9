/* Tests of the training dataset arithmetic: the shipped model definitions against the
 * WORKLOADS.md figures, the datasize formula (its worked example and hand-computed cases),
 * per-file record shapes, file names, round-robin generation, per-epoch reading shares and
 * seeded shuffles, and the DLIO metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "app/params.h"
#include "app/workloads/training/dataset.h"
#include "app/workloads/training/training.h"
#include "report/json_file.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define GIB (1024ull * 1024ull * 1024ull)

static const double unet3d_length = 146600628, unet3d_stdev = 68341808;

static cJSON *load(const char *name)
{
    struct mlpio_error err = {0};
    cJSON *c = mlpio_config_reference("training", name, &err);
    if (!c)
        fail_msg("%s: %s", name, err.message);
    return c;
}

/* ---- shipped definitions -------------------------------------------------------------------- */

static void test_definitions_hold_the_figures(void **state)
{
    static const struct {
        const char *file, *model, *accel, *format, *framework, *shuffle;
        double length, stdev;
        int spf, batch, threads;
        double compute, au;
    } defs[] = {
        {"unet3d_h100", "unet3d", "h100", "npz", "pytorch", "seed", 146600628, 68341808, 1, 7, 4,
         0.323, 0.90},
        {"unet3d_a100", "unet3d", "a100", "npz", "pytorch", "seed", 146600628, 68341808, 1, 7, 4,
         0.636, 0.90},
        {"resnet50_h100", "resnet50", "h100", "tfrecord", "tensorflow", "off", 114660.07, 0, 1251,
         400, 8, 0.224, 0.90},
        {"resnet50_a100", "resnet50", "a100", "tfrecord", "tensorflow", "off", 114660.07, 0, 1251,
         400, 8, 0.435, 0.90},
        {"cosmoflow_h100", "cosmoflow", "h100", "tfrecord", "tensorflow", "seed", 2828486, 71311, 1,
         1, 4, 0.00350, 0.70},
        {"cosmoflow_a100", "cosmoflow", "a100", "tfrecord", "tensorflow", "seed", 2828486, 71311, 1,
         1, 4, 0.00551, 0.70},
    };
    for (size_t i = 0; i < N(defs); i++) {
        cJSON *c = load(defs[i].file);
        char folder[64];
        snprintf(folder, sizeof(folder), "data/%s", defs[i].model);
        assert_string_equal(mlpio_json_string(c, "benchmark", ""), "training");
        assert_string_equal(mlpio_json_string(c, "model.name", ""), defs[i].model);
        assert_string_equal(mlpio_json_string(c, "reference.accelerator_type", ""), defs[i].accel);
        assert_string_equal(mlpio_json_string(c, "framework", ""), defs[i].framework);
        assert_string_equal(mlpio_json_string(c, "reader.data_loader", ""), defs[i].framework);
        assert_string_equal(mlpio_json_string(c, "dataset.format", ""), defs[i].format);
        assert_string_equal(mlpio_json_string(c, "dataset.data_folder", ""), folder);
        assert_string_equal(mlpio_json_string(c, "reader.file_shuffle", ""), defs[i].shuffle);
        assert_string_equal(mlpio_json_string(c, "reader.sample_shuffle", ""), defs[i].shuffle);
        assert_true(mlpio_json_number(c, "dataset.record_length_bytes", 0) == defs[i].length);
        assert_true(mlpio_json_number(c, "dataset.record_length_bytes_stdev", -1) == defs[i].stdev);
        assert_int_equal(mlpio_json_number(c, "dataset.num_samples_per_file", 0), defs[i].spf);
        assert_int_equal(mlpio_json_number(c, "reader.batch_size", 0), defs[i].batch);
        assert_int_equal(mlpio_json_number(c, "reader.read_threads", 0), defs[i].threads);
        assert_int_equal(mlpio_json_number(c, "reader.prefetch_size", 0), 2);
        assert_false(mlpio_json_bool(c, "reader.odirect", true));
        assert_int_equal(mlpio_json_number(c, "train.epochs", 0), 5);
        assert_true(mlpio_json_number(c, "train.computation_time", 0) == defs[i].compute);
        assert_true(mlpio_json_number(c, "metric.au", 0) == defs[i].au);
        assert_true(mlpio_json_number(c, "dataset.num_files_train", 0) >= 1);
        cJSON_Delete(c);
    }
}

/* ---- datasize ------------------------------------------------------------------------------- */

/* The figures of every edition so far (the rules edition test checks that they are). */
static const struct mlpio_train_datasize_rule mlperf = {5, 500};

static void test_datasize_worked_example(void **state)
{
    /* WORKLOADS.md: unet3d, one host with 128 GiB, 8 h100 accelerators. */
    cJSON *c = load("unet3d_h100");
    uint64_t mem[] = {128 * GIB};
    struct mlpio_training_settings s;
    struct mlpio_train_datasize d;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_training_settings_parse(c, &s, &err), 0);
    assert_int_equal(mlpio_train_datasize(&mlperf, mem, 1, 0, 8, (int)s.reader.batch_size,
                                          (int)s.dataset.num_samples_per_file,
                                          s.dataset.record_length_bytes, &d, &err),
                     0);
    assert_int_equal(d.total_mem_bytes, 128 * GIB);
    assert_int_equal(d.files_mem, 4687);
    assert_int_equal(d.files_step, 28000);
    assert_int_equal(d.num_files_train, 28000);
    assert_true(d.file_bytes == 146600628.0);
    assert_true(d.total_disk_bytes == 28000.0 * 146600628.0);
    assert_int_equal(d.num_subfolders, 3);
    cJSON_Delete(c);
}

static void test_datasize_cases(void **state)
{
    /* Expected figures worked out by hand from the formula. */
    static const struct {
        const char *name;
        uint64_t mem[2];
        int nhosts;
        uint64_t declared;
        int accel, batch, spf;
        double length;
        uint64_t files_mem, files_step, files, subfolders;
    } cases[] = {
        /* 5 * 256 GiB / (1251 * 114660.07) = 9581.65; 500 * 8 * 400 / 1251 = 1278.98 */
        {"resnet50_two_hosts",
         {128 * GIB, 128 * GIB},
         2,
         0,
         8,
         400,
         1251,
         114660.07,
         9581,
         1278,
         9581,
         0},
        /* 5 * 128 GiB / 2828486 = 242954.98; 500 * 4 = 2000 */
        {"cosmoflow_one_host", {128 * GIB}, 1, 0, 4, 1, 1, 2828486, 242954, 2000, 242954, 25},
        /* declared 128 GiB replaces the measured 64 GiB on each host: 5 * 256 GiB / L = 9375.03 */
        {"declared_raises",
         {64 * GIB, 64 * GIB},
         2,
         128 * GIB,
         1,
         7,
         1,
         146600628,
         9375,
         3500,
         9375,
         0},
        /* declared below the measurement is ignored */
        {"declared_lower", {128 * GIB}, 1, 64 * GIB, 1, 7, 1, 146600628, 4687, 3500, 4687, 0},
        {"exactly_10000_files", {10000}, 1, 0, 1, 1, 1, 5, 10000, 500, 10000, 0},
        {"10001_files", {10001}, 1, 0, 1, 1, 1, 5, 10001, 500, 10001, 2},
        /* 500 * 3 * 1 / 2 = 750 */
        {"step_floor", {1}, 1, 0, 3, 1, 2, 1e9, 0, 750, 750, 0},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct mlpio_train_datasize d;
        struct mlpio_error err = {0};
        if (mlpio_train_datasize(&mlperf, cases[i].mem, cases[i].nhosts, cases[i].declared,
                                 cases[i].accel, cases[i].batch, cases[i].spf, cases[i].length, &d,
                                 &err) != 0)
            fail_msg("%s: %s", cases[i].name, err.message);
        if (d.files_mem != cases[i].files_mem || d.files_step != cases[i].files_step ||
            d.num_files_train != cases[i].files || d.num_subfolders != cases[i].subfolders)
            fail_msg("%s: mem %llu step %llu files %llu subfolders %llu", cases[i].name,
                     (unsigned long long)d.files_mem, (unsigned long long)d.files_step,
                     (unsigned long long)d.num_files_train, (unsigned long long)d.num_subfolders);
    }
}

/* Other figures change the result as the formula says: the rule is not built in. */
static void test_datasize_follows_the_rule(void **state)
{
    (void)state;
    uint64_t mem[] = {128 * GIB};
    struct mlpio_train_datasize d;
    struct mlpio_error err = {0};
    const struct mlpio_train_datasize_rule ten = {10, 250};
    assert_int_equal(mlpio_train_datasize(&ten, mem, 1, 0, 8, 7, 1, 146600628, &d, &err), 0);
    assert_int_equal(d.files_mem, 9375);   /* floor(10 * 128 GiB / 146600628) */
    assert_int_equal(d.files_step, 14000); /* 250 * 8 * 7 */
    assert_int_equal(d.num_files_train, 14000);
    assert_true(d.memory_multiple == 10);
    assert_int_equal(d.min_steps, 250);
    const struct mlpio_train_datasize_rule bad[] = {{0, 500}, {-1, 500}, {NAN, 500}, {5, 0}};
    for (size_t i = 0; i < N(bad); i++) {
        assert_int_equal(mlpio_train_datasize(&bad[i], mem, 1, 0, 8, 7, 1, 1e6, &d, &err), -1);
        assert_non_null(strstr(err.message, "datasize rule"));
    }
}

static void test_datasize_rejects_bad_input(void **state)
{
    static const struct {
        int nhosts, accel, batch, spf;
        double length;
        const char *named;
    } cases[] = {
        {0, 8, 7, 1, 1e6, "hosts"},
        {1, 0, 7, 1, 1e6, "accelerators"},
        {1, 8, 0, 1, 1e6, "reader.batch_size"},
        {1, 8, 7, 0, 1e6, "dataset.num_samples_per_file"},
        {1, 8, 7, 1, 0, "dataset.record_length_bytes"},
        {1, 8, 7, 1, -5, "dataset.record_length_bytes"},
        {1, 8, 7, 1, NAN, "dataset.record_length_bytes"},
    };
    uint64_t mem[] = {GIB};
    for (size_t i = 0; i < N(cases); i++) {
        struct mlpio_train_datasize d;
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_train_datasize(&mlperf, mem, cases[i].nhosts, 0, cases[i].accel,
                                              cases[i].batch, cases[i].spf, cases[i].length, &d,
                                              &err),
                         -1);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        if (!strstr(err.message, cases[i].named))
            fail_msg("case %zu: \"%s\" does not name %s", i, err.message, cases[i].named);
    }
    uint64_t huge[] = {UINT64_MAX, 1};
    struct mlpio_train_datasize d;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_train_datasize(&mlperf, huge, 2, 0, 1, 1, 1, 1, &d, &err), -1);
}

/* ---- record shapes -------------------------------------------------------------------------- */

static struct mlpio_train_shape shape(double length, double stdev, double scale, uint64_t seed,
                                      uint64_t index)
{
    struct mlpio_train_shape s;
    struct mlpio_error err = {0};
    if (mlpio_train_file_shape(length, stdev, scale, seed, index, &s, &err) != 0)
        fail_msg("shape: %s", err.message);
    assert_true(s.d1 >= 1 && s.d2 >= 1);
    assert_int_equal(s.sample_bytes, s.d1 * s.d2);
    return s;
}

static void test_shape_deterministic(void **state)
{
    int differ_index = 0, differ_seed = 0;
    for (uint64_t i = 0; i < 200; i++) {
        struct mlpio_train_shape a = shape(unet3d_length, unet3d_stdev, 1, 42, i);
        struct mlpio_train_shape b = shape(unet3d_length, unet3d_stdev, 1, 42, i);
        struct mlpio_train_shape next = shape(unet3d_length, unet3d_stdev, 1, 42, i + 1);
        struct mlpio_train_shape other = shape(unet3d_length, unet3d_stdev, 1, 43, i);
        assert_int_equal(a.d1, b.d1);
        assert_int_equal(a.d2, b.d2);
        differ_index += a.sample_bytes != next.sample_bytes;
        differ_seed += a.sample_bytes != other.sample_bytes;
    }
    assert_true(differ_index > 190);
    assert_true(differ_seed > 190);
}

static void moments(const double *x, int n, double *mean, double *sd)
{
    mlpio_train_mean_stdev(x, n, mean, sd);
}

static void test_shape_distribution_unet3d(void **state)
{
    enum { FILES = 20000 };
    static double bytes[FILES], d1[FILES], small[FILES];
    double sigma = unet3d_stdev / 2 / sqrt(unet3d_length); /* 2822.2 */
    for (int i = 0; i < FILES; i++) {
        struct mlpio_train_shape s = shape(unet3d_length, unet3d_stdev, 1, 7, (uint64_t)i);
        bytes[i] = (double)s.sample_bytes;
        d1[i] = (double)s.d1;
        small[i] = (double)shape(unet3d_length, unet3d_stdev, 0.01, 7, (uint64_t)i).d1;
    }
    double mean, sd;
    moments(bytes, FILES, &mean, &sd);
    print_message("unet3d: mean sample %.0f bytes (record length %.0f), stdev %.0f\n", mean,
                  unet3d_length, sd);
    assert_true(fabs(mean - unet3d_length) / unet3d_length < 0.02);
    /* d1 * d2 of two independent N(d, sigma): stdev sqrt(2 d^2 sigma^2 + sigma^4). */
    double d = floor(sqrt(unet3d_length));
    double expect_sd = sqrt(2 * d * d * sigma * sigma + pow(sigma, 4));
    assert_true(fabs(sd - expect_sd) / expect_sd < 0.05);
    moments(d1, FILES, &mean, &sd);
    assert_true(fabs(mean - d) < 0.02 * d);
    assert_true(fabs(sd - sigma) / sigma < 0.05);
    /* Scale 0.01 scales length and stdev: d = 1210 and sigma one tenth of the full one. */
    moments(small, FILES, &mean, &sd);
    assert_true(fabs(mean - 1210) < 0.02 * 1210);
    assert_true(fabs(sd - sigma / 10) / (sigma / 10) < 0.05);
}

static void test_shape_without_spread(void **state)
{
    static const struct {
        double length, scale;
        uint64_t side;
    } cases[] = {
        {114660.07, 1, 338},     /* resnet50 */
        {146600628, 0.01, 1210}, /* unet3d at scale 0.01 */
        {2828486, 1, 1681},      /* cosmoflow */
        {0.5, 1, 1},             /* below one byte: clamped */
        {146600628, 1e-12, 1},   /* scaled to nothing: clamped */
    };
    for (size_t i = 0; i < N(cases); i++) {
        for (uint64_t f = 0; f < 50; f++) {
            struct mlpio_train_shape s = shape(cases[i].length, 0, cases[i].scale, f * 31, f);
            assert_int_equal(s.d1, cases[i].side);
            assert_int_equal(s.d2, cases[i].side);
            assert_int_equal(s.sample_bytes, cases[i].side * cases[i].side);
        }
    }
    /* A spread so wide that most draws fall below 1 still yields valid shapes. */
    for (uint64_t f = 0; f < 200; f++)
        shape(100, 1e6, 1, 3, f);
}

static void test_shape_rejects_bad_input(void **state)
{
    static const double bad[][3] = {
        {0, 0, 1},   {-1, 0, 1},   {NAN, 0, 1},   {100, -1, 1},
        {100, 0, 0}, {100, 0, -2}, {100, 0, NAN}, {1e30, 0, 1}, /* a side beyond 2^32 */
    };
    for (size_t i = 0; i < N(bad); i++) {
        struct mlpio_train_shape s;
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_train_file_shape(bad[i][0], bad[i][1], bad[i][2], 1, 0, &s, &err),
                         -1);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
    }
}

/* ---- names and generation ------------------------------------------------------------------- */

static void test_file_names(void **state)
{
    static const struct {
        uint64_t index, files, subfolders;
        const char *ext, *name;
    } cases[] = {
        {7, 28000, 0, "npz", "train/img_00007_of_28000.npz"},
        {27999, 28000, 0, "npz", "train/img_27999_of_28000.npz"},
        {0, 1, 0, "tfrecord", "train/img_0_of_1.tfrecord"},
        {9, 10, 0, "npz", "train/img_09_of_10.npz"},
        {99, 100, 0, "hdf5", "train/img_099_of_100.hdf5"},
        {5, 28000, 3, "npz", "train/2/img_00005_of_28000.npz"},
        {27999, 28000, 3, "npz", "train/0/img_27999_of_28000.npz"},
        {10, 11, 12, "npz", "train/10/img_10_of_11.npz"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        char buf[128];
        struct mlpio_error err = {0};
        assert_int_equal(mlpio_train_file_name(cases[i].index, cases[i].files, cases[i].subfolders,
                                               cases[i].ext, buf, sizeof(buf), &err),
                         0);
        assert_string_equal(buf, cases[i].name);
    }
    char small[16];
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_train_file_name(7, 28000, 0, "npz", small, sizeof(small), &err), -1);
    assert_non_null(strstr(err.message, "buffer"));
    assert_int_equal(mlpio_train_file_name(28000, 28000, 0, "npz", small, sizeof(small), &err), -1);
    assert_int_equal(mlpio_train_file_name(0, 1, 0, "", small, sizeof(small), &err), -1);
    assert_int_equal(mlpio_train_file_name(0, 1, 0, "a/b", small, sizeof(small), &err), -1);
    assert_int_equal(mlpio_train_file_name(0, 1, 0, NULL, small, sizeof(small), &err), -1);
}

static void test_datagen_round_robin(void **state)
{
    static const uint64_t sizes[] = {1, 2, 7, 28, 1001};
    for (size_t n = 0; n < N(sizes); n++) {
        uint64_t files = sizes[n];
        int *seen = calloc(files, sizeof(int));
        assert_non_null(seen);
        for (int ranks = 1; ranks <= 7; ranks++) {
            memset(seen, 0, files * sizeof(int));
            for (int r = 0; r < ranks; r++) {
                uint64_t count = mlpio_train_datagen_count(files, r, ranks);
                for (uint64_t k = 0; k < count; k++) {
                    uint64_t f = mlpio_train_datagen_file(r, ranks, k);
                    assert_true(f < files);
                    assert_int_equal(f % (uint64_t)ranks, (uint64_t)r);
                    assert_int_equal(mlpio_train_datagen_owner(f, ranks), r);
                    seen[f]++;
                }
            }
            for (uint64_t f = 0; f < files; f++)
                if (seen[f] != 1)
                    fail_msg("%llu files, %d ranks: file %llu written %d times",
                             (unsigned long long)files, ranks, (unsigned long long)f, seen[f]);
        }
        free(seen);
    }
}

/* ---- reading -------------------------------------------------------------------------------- */

static struct mlpio_train_reading reading(uint64_t files, uint32_t spf, uint32_t batch, int ranks,
                                          enum mlpio_train_loader loader, bool shuffle)
{
    struct mlpio_train_reading r = {.num_files = files,
                                    .samples_per_file = spf,
                                    .batch_size = batch,
                                    .ranks = ranks,
                                    .loader = loader,
                                    .file_shuffle = shuffle,
                                    .sample_shuffle = shuffle,
                                    .seed = 12345};
    struct mlpio_error err = {0};
    if (mlpio_train_reading_check(&r, &err) != 0)
        fail_msg("reading: %s", err.message);
    return r;
}

static void test_reading_covers_every_file_once(void **state)
{
    static const uint64_t sizes[] = {1, 5, 64, 1000};
    for (size_t n = 0; n < N(sizes); n++) {
        uint64_t files = sizes[n];
        int *seen = calloc(files, sizeof(int));
        assert_non_null(seen);
        for (int loader = 0; loader < 2; loader++) {
            for (int shuffle = 0; shuffle < 2; shuffle++) {
                for (int ranks = 1; ranks <= 7; ranks++) {
                    struct mlpio_train_reading r =
                        reading(files, 1, 1, ranks, (enum mlpio_train_loader)loader, shuffle);
                    for (uint64_t epoch = 0; epoch < 3; epoch++) {
                        memset(seen, 0, files * sizeof(int));
                        for (int rank = 0; rank < ranks; rank++) {
                            uint64_t count = mlpio_train_rank_file_count(&r, rank);
                            for (uint64_t k = 0; k < count; k++) {
                                uint64_t f = mlpio_train_rank_file(&r, epoch, rank, k);
                                assert_true(f < files);
                                seen[f]++;
                                if (shuffle)
                                    continue;
                                /* Unshuffled: a block of consecutive files, or a stride. */
                                if (loader == MLPIO_TRAIN_LOADER_TENSORFLOW)
                                    assert_int_equal(f, (uint64_t)rank + k * (uint64_t)ranks);
                                else if (k > 0)
                                    assert_int_equal(f,
                                                     mlpio_train_rank_file(&r, epoch, rank, 0) + k);
                            }
                        }
                        for (uint64_t f = 0; f < files; f++)
                            if (seen[f] != 1)
                                fail_msg("loader %d shuffle %d: %llu files %d ranks epoch %llu: "
                                         "file %llu read %d times",
                                         loader, shuffle, (unsigned long long)files, ranks,
                                         (unsigned long long)epoch, (unsigned long long)f, seen[f]);
                    }
                }
            }
        }
        free(seen);
    }
    /* Contiguous blocks are in rank order: rank 1 starts where rank 0 ends. */
    struct mlpio_train_reading r = reading(10, 1, 1, 3, MLPIO_TRAIN_LOADER_PYTORCH, false);
    assert_int_equal(mlpio_train_rank_file_count(&r, 0), 4);
    assert_int_equal(mlpio_train_rank_file(&r, 0, 1, 0), 4);
    assert_int_equal(mlpio_train_rank_file(&r, 0, 2, 0), 7);
    assert_int_equal(mlpio_train_rank_file(&r, 0, 2, 2), 9);
}

static void test_steps_per_epoch(void **state)
{
    static const struct {
        uint64_t files;
        uint32_t spf, batch;
        int ranks;
        uint64_t steps;
    } cases[] = {
        {28000, 1, 7, 8, 500},      /* unet3d worked example: the 500-step rule exactly */
        {9581, 1251, 400, 8, 3745}, /* 11985831 samples / 400 / 8 = 3745.57 */
        {242954, 1, 1, 4, 60738},   /* 60738.5 */
        {10, 1, 7, 2, 0},           /* fewer samples than one global batch */
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct mlpio_train_reading r = reading(cases[i].files, cases[i].spf, cases[i].batch,
                                               cases[i].ranks, MLPIO_TRAIN_LOADER_PYTORCH, false);
        assert_int_equal(mlpio_train_steps_per_epoch(&r), cases[i].steps);
    }
}

static void test_reading_check(void **state)
{
    struct mlpio_train_reading good = {.num_files = 4,
                                       .samples_per_file = 1,
                                       .batch_size = 1,
                                       .ranks = 1,
                                       .loader = MLPIO_TRAIN_LOADER_PYTORCH};
    static const char *const named[] = {"dataset.num_files_train",
                                        "dataset.num_samples_per_file",
                                        "reader.batch_size",
                                        "ranks",
                                        "loader",
                                        "samples"};
    for (int i = 0; i < 6; i++) {
        struct mlpio_train_reading r = good;
        struct mlpio_error err = {0};
        switch (i) {
        case 0:
            r.num_files = 0;
            break;
        case 1:
            r.samples_per_file = 0;
            break;
        case 2:
            r.batch_size = 0;
            break;
        case 3:
            r.ranks = 0;
            break;
        case 4:
            r.loader = (enum mlpio_train_loader)7;
            break;
        default:
            r.num_files = UINT64_MAX / 2;
            r.samples_per_file = 1251;
            break;
        }
        assert_int_equal(mlpio_train_reading_check(&r, &err), -1);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        if (!strstr(err.message, named[i]))
            fail_msg("\"%s\" does not name %s", err.message, named[i]);
    }
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_train_reading_check(&good, &err), 0);
}

static void test_permutation(void **state)
{
    static const uint64_t sizes[] = {2, 3, 4, 5, 16, 17, 1000, 1251, 4096, 28000};
    for (size_t n = 0; n < N(sizes); n++) {
        uint64_t size = sizes[n];
        unsigned char *seen = calloc(size, 1);
        uint64_t fixed = 0;
        for (uint64_t i = 0; i < size; i++) {
            uint64_t p = mlpio_train_permute(i, size, 99);
            assert_true(p < size);
            assert_int_equal(seen[p], 0);
            seen[p] = 1;
            fixed += p == i;
            assert_int_equal(mlpio_train_permute(i, size, 99), p);
        }
        /* A shuffle, not the identity: about one fixed point is expected. */
        if (size >= 16)
            assert_true(fixed < size / 4);
        free(seen);
    }
    assert_int_equal(mlpio_train_permute(0, 1, 5), 0);
    assert_int_equal(mlpio_train_permute(0, 0, 5), 0);
}

/* How many of the first n files rank 0 reads in two epochs differ in position. */
static uint64_t order_changes(const struct mlpio_train_reading *a,
                              const struct mlpio_train_reading *b, uint64_t ea, uint64_t eb)
{
    uint64_t changes = 0, count = mlpio_train_rank_file_count(a, 0);
    for (uint64_t k = 0; k < count; k++)
        changes += mlpio_train_rank_file(a, ea, 0, k) != mlpio_train_rank_file(b, eb, 0, k);
    return changes;
}

static void test_shuffle_is_seeded(void **state)
{
    struct mlpio_train_reading r = reading(1000, 1, 7, 4, MLPIO_TRAIN_LOADER_PYTORCH, true);
    struct mlpio_train_reading same = r, other = r, plain = r;
    other.seed = 54321;
    plain.file_shuffle = false;
    plain.sample_shuffle = false;
    /* Same seed and epoch: the same order, as every rank must agree without talking. */
    assert_int_equal(order_changes(&r, &same, 2, 2), 0);
    /* A new epoch, or another seed, reorders nearly everything. */
    assert_true(order_changes(&r, &r, 0, 1) > 200);
    assert_true(order_changes(&r, &other, 0, 0) > 200);
    assert_true(order_changes(&r, &plain, 0, 0) > 200);
    /* Without shuffle every epoch reads the same order. */
    assert_int_equal(order_changes(&plain, &plain, 0, 4), 0);

    /* Sample order inside a file (resnet50-sized): a permutation, changing by epoch and file. */
    struct mlpio_train_reading s = reading(8, 1251, 400, 2, MLPIO_TRAIN_LOADER_TENSORFLOW, true);
    unsigned char seen[1251] = {0};
    int moved_epoch = 0, moved_file = 0, moved_plain = 0;
    for (uint32_t j = 0; j < 1251; j++) {
        uint32_t p = mlpio_train_file_sample(&s, 0, 3, j);
        assert_true(p < 1251);
        assert_int_equal(seen[p], 0);
        seen[p] = 1;
        moved_epoch += p != mlpio_train_file_sample(&s, 1, 3, j);
        moved_file += p != mlpio_train_file_sample(&s, 0, 4, j);
        moved_plain += p != j;
    }
    assert_true(moved_epoch > 1000 && moved_file > 1000 && moved_plain > 1000);
    s.sample_shuffle = false;
    for (uint32_t j = 0; j < 1251; j += 97)
        assert_int_equal(mlpio_train_file_sample(&s, 3, 3, j), j);
}

static void test_rank_samples(void **state)
{
    /* 10 files of 1251 samples on 4 ranks, batch 400: 7 steps, 2800 samples per rank, but ranks
     * 2 and 3 own only 2 files (2502 samples) and start their share again. */
    struct mlpio_train_reading r = reading(10, 1251, 400, 4, MLPIO_TRAIN_LOADER_TENSORFLOW, true);
    uint64_t steps = mlpio_train_steps_per_epoch(&r);
    assert_int_equal(steps, 7);
    for (int rank = 0; rank < 4; rank++) {
        uint64_t count = mlpio_train_rank_file_count(&r, rank);
        uint64_t share = count * 1251;
        for (uint64_t s = 0; s < steps * 400; s++) {
            uint64_t file;
            uint32_t sample;
            mlpio_train_rank_sample(&r, 1, rank, s, &file, &sample);
            assert_true(sample < 1251);
            assert_int_equal(file, mlpio_train_rank_file(&r, 1, rank, (s % share) / 1251));
            assert_int_equal(sample, mlpio_train_file_sample(&r, 1, file, (uint32_t)(s % 1251)));
            if (s >= share) {
                uint64_t f0;
                uint32_t s0;
                mlpio_train_rank_sample(&r, 1, rank, s - share, &f0, &s0);
                assert_int_equal(f0, file);
                assert_int_equal(s0, sample);
            }
        }
    }
    /* One file, two ranks: the rank without a share still reads the file. */
    struct mlpio_train_reading one = reading(1, 1251, 400, 2, MLPIO_TRAIN_LOADER_PYTORCH, false);
    assert_int_equal(mlpio_train_steps_per_epoch(&one), 1);
    assert_int_equal(mlpio_train_rank_file_count(&one, 1), 0);
    for (uint64_t s = 0; s < 400; s++) {
        uint64_t file = 99;
        uint32_t sample = 0;
        mlpio_train_rank_sample(&one, 0, 1, s, &file, &sample);
        assert_int_equal(file, 0);
        assert_int_equal(sample, (uint32_t)s);
    }
}

/* ---- metrics -------------------------------------------------------------------------------- */

static void test_epoch_metrics(void **state)
{
    /* 5 steps; the first took 0.8 s of a 2.0 s epoch. Compute after it: 4 x 0.25 = 1.0 s of
     * 1.2 s -> AU 83.33 %; throughput (5 - 2) * 7 / 1.2 = 17.5 samples/s. */
    const double compute[] = {0.5, 0.25, 0.25, 0.25, 0.25};
    struct mlpio_train_epoch_metrics m;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_train_epoch_metrics(compute, 5, 7, 2.0, 0.8, &m, &err), 0);
    assert_true(fabs(m.au_percent - 100.0 / 1.2) < 1e-9);
    assert_true(fabs(m.throughput - 17.5) < 1e-9);
    /* A slower first step changes nothing but the span. */
    assert_int_equal(mlpio_train_epoch_metrics(compute, 5, 7, 2.2, 1.0, &m, &err), 0);
    assert_true(fabs(m.au_percent - 100.0 / 1.2) < 1e-9);

    /* io: 17.5 samples/s of unet3d records = 17.5 * 146600628 / 2^20 MB/s */
    assert_true(fabs(mlpio_train_io_mb_per_second(17.5, unet3d_length) - 2446.66193962) < 1e-6);

    struct mlpio_train_epoch_metrics ranks[] = {{80, 17.5}, {90, 20}, {85, 2.5}};
    struct mlpio_train_epoch_metrics all;
    mlpio_train_combine_ranks(ranks, 3, &all);
    assert_true(fabs(all.au_percent - 85) < 1e-9);
    assert_true(fabs(all.throughput - 40) < 1e-9);

    const double epochs[] = {1, 2, 3, 4};
    double mean, sd;
    mlpio_train_mean_stdev(epochs, 4, &mean, &sd);
    assert_true(fabs(mean - 2.5) < 1e-12);
    assert_true(fabs(sd - sqrt(1.25)) < 1e-12);
    mlpio_train_mean_stdev(epochs, 0, &mean, &sd);
    assert_true(mean == 0 && sd == 0);

    assert_true(mlpio_train_au_meets(90.0, 0.90));
    assert_true(mlpio_train_au_meets(70.0, 0.70));
    assert_false(mlpio_train_au_meets(89.99, 0.90));
    assert_true(mlpio_train_au_meets(75, 0.70));
}

static void test_epoch_metrics_refuses(void **state)
{
    const double compute[] = {0.5, 0.25, 0.25};
    struct mlpio_train_epoch_metrics m;
    struct mlpio_error err = {0};
    assert_int_equal(mlpio_train_epoch_metrics(compute, 2, 7, 2.0, 0.5, &m, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_CONFIG);
    assert_non_null(strstr(err.message, "3 steps"));
    assert_int_equal(mlpio_train_epoch_metrics(compute, 3, 7, 0.5, 0.5, &m, &err), -1);
    assert_int_equal(mlpio_train_epoch_metrics(compute, 3, 7, NAN, 0.5, &m, &err), -1);
    assert_int_equal(mlpio_train_epoch_metrics(NULL, 3, 7, 2.0, 0.5, &m, &err), -1);
    assert_int_equal(mlpio_train_epoch_metrics(compute, 3, 0, 2.0, 0.5, &m, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_definitions_hold_the_figures),
        cmocka_unit_test(test_datasize_worked_example),
        cmocka_unit_test(test_datasize_cases),
        cmocka_unit_test(test_datasize_follows_the_rule),
        cmocka_unit_test(test_datasize_rejects_bad_input),
        cmocka_unit_test(test_shape_deterministic),
        cmocka_unit_test(test_shape_distribution_unet3d),
        cmocka_unit_test(test_shape_without_spread),
        cmocka_unit_test(test_shape_rejects_bad_input),
        cmocka_unit_test(test_file_names),
        cmocka_unit_test(test_datagen_round_robin),
        cmocka_unit_test(test_reading_covers_every_file_once),
        cmocka_unit_test(test_steps_per_epoch),
        cmocka_unit_test(test_reading_check),
        cmocka_unit_test(test_permutation),
        cmocka_unit_test(test_shuffle_is_seeded),
        cmocka_unit_test(test_rank_samples),
        cmocka_unit_test(test_epoch_metrics),
        cmocka_unit_test(test_epoch_metrics_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
