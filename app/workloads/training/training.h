/* Training workload internals shared by its commands (datagen.c, read.c, training.c). */
#ifndef MLPIO_TRAINING_H
#define MLPIO_TRAINING_H

#include <stdbool.h>
#include <stdint.h>

#include "app/datagen.h"
#include "app/run.h"
#include "io/format.h"

#define MLPIO_TRAINING_MANIFEST "mlpio_dataset.json"

/* The workload's settings: one member per parameter, named and grouped as its key is
 * ("reader.batch_size" is reader.batch_size); training.c's table fills them from the config.
 * Text members borrow the config's strings. */
struct mlpio_training_settings {
    struct {
        const char *name;
    } model;
    const char *framework; /* "pytorch" or "tensorflow" (recorded) */
    struct {
        const char *data_folder;
        const char *format; /* a registered format's name: "npz", "tfrecord", "hdf5" */
        int64_t num_files_train;
        int64_t num_subfolders_train; /* 0: none */
        int64_t num_samples_per_file;
        double record_length_bytes, record_length_bytes_stdev;
        struct {
            const char *columns; /* "name:dtype[:count],..." or "none" */
            int64_t row_group_size;
        } parquet;
    } dataset;
    struct {
        const char *data_loader; /* "pytorch" (contiguous shares) or "tensorflow" (strided) */
        int64_t batch_size;
        int64_t read_threads;
        int64_t computation_threads;
        int64_t prefetch_size; /* batches */
        uint64_t transfer_size;
        bool odirect;
        const char *file_shuffle, *sample_shuffle; /* "seed" or "off" */
    } reader;
    struct {
        int64_t epochs;
        double computation_time; /* s per step */
    } train;
    struct {
        double au; /* minimum accelerator utilisation, a fraction */
    } metric;
    struct {
        const char *checkpoint_folder;
    } checkpoint;
    struct {
        const char *storage_type, *storage_root; /* recorded */
    } storage;
};

/* The settings of a validated config (the workload's settings_parse): every member from its
 * key. 0, or -1 with err set (a missing key is named). */
int mlpio_training_settings_parse(const cJSON *config, void *settings, struct mlpio_error *err);

/* What datagen wrote, stored as <data_folder>/mlpio_dataset.json. Any file's expected bytes
 * follow from it: file i was written by rank i % ranks with the rank key of salt, so a run
 * can check what it reads (--verify) whatever its own rank count and seed. */
struct mlpio_training_manifest {
    char model[64];
    char format[16];
    uint64_t num_files;
    uint64_t num_subfolders;
    uint32_t samples_per_file;
    double record_length, record_stdev, scale;
    uint64_t shape_seed;
    int ranks;
    struct mlpio_data_salt salt;
    double bytes;
};

int mlpio_training_manifest_read(const char *data_folder, struct mlpio_training_manifest *m,
                                 struct mlpio_error *err);

/* The generator object for file `index` of a dataset described by m. */
void mlpio_training_file_object(const struct mlpio_training_manifest *m, uint64_t index,
                                const char *name, struct mlpio_data_object *obj);

/* The format named by the settings' dataset.format, or a config error. */
const struct mlpio_format *mlpio_training_format(const struct mlpio_training_settings *s,
                                                 struct mlpio_error *err);

/* The parquet layout of the settings' dataset.parquet keys at scale (l->columns allocated:
 * mlpio_format_layout_free). With columns and the parquet format, their bytes per sample must
 * be dataset.record_length_bytes (MLPIO_ERR_CONFIG otherwise). */
int mlpio_training_layout(const struct mlpio_training_settings *s, double scale,
                          struct mlpio_format_layout *l, struct mlpio_error *err);
/* Bytes of one sample at scale: the parquet columns' when they define it, else the record
 * length. */
double mlpio_training_record_bytes(const struct mlpio_training_settings *s,
                                   const struct mlpio_format_layout *l, double scale);

/* Rank 0, before the run directory exists: what datagen and run can refuse before any I/O (an
 * existing dataset and free space; a missing, foreign or too small dataset, too few steps). */
int mlpio_training_datagen_precheck(struct mlpio_run *run, struct mlpio_error *err);
int mlpio_training_run_precheck(struct mlpio_run *run, struct mlpio_error *err);

int mlpio_training_datagen(struct mlpio_run *run, struct mlpio_error *err);
int mlpio_training_run(struct mlpio_run *run, struct mlpio_error *err);

#endif
