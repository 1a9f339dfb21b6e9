/* mlpio dataset formats: files that the real training frameworks can open.
 *
 * A format writes one dataset file (spf samples of d1 x d2 uint8 each, plus labels) through an
 * io backend, taking every sample byte from the data generator, and reads one back, parsing
 * its framing (zip/NPY headers, tfrecord lengths and CRCs, HDF5 datasets) so that a corrupt or
 * truncated file is an error naming the file, the offset and what is wrong, never silently
 * counted. Formats are selected by name from a registry, like backends.
 */
#ifndef MLPIO_FORMAT_H
#define MLPIO_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/error.h"
#include "io/io.h"

/* Element types of a columnar format's columns (DLIO's parquet dtypes). */
enum mlpio_format_dtype {
    MLPIO_DTYPE_UINT8,
    MLPIO_DTYPE_INT8,
    MLPIO_DTYPE_UINT16,
    MLPIO_DTYPE_INT16,
    MLPIO_DTYPE_UINT32,
    MLPIO_DTYPE_INT32,
    MLPIO_DTYPE_UINT64,
    MLPIO_DTYPE_INT64,
    MLPIO_DTYPE_FLOAT16,
    MLPIO_DTYPE_FLOAT32,
    MLPIO_DTYPE_FLOAT64,
};

/* One column: count elements of dtype per sample; list: a fixed-size list (DLIO writes a
 * column of size > 1 as one, and a scaled-down list stays a list). */
struct mlpio_format_column {
    char name[48];
    enum mlpio_format_dtype dtype;
    uint64_t count;
    bool list;
};

/* The layout of a columnar file (parquet): its columns in order (none: one uint8 list "data"
 * of d1*d2 elements, DLIO's layout without columns) and the rows of each row group (the last
 * one takes the rest). */
struct mlpio_format_layout {
    const struct mlpio_format_column *columns;
    uint32_t ncolumns;
    uint32_t row_group_rows;
};

/* Parse "name:dtype[:count],..." (or "none": no columns) into l, each count multiplied by scale
 * (at least 1). l->columns is allocated: mlpio_format_layout_free. MLPIO_ERR_CONFIG naming
 * key and the column at fault. */
int mlpio_format_layout_parse(const char *key, const char *text, double scale,
                              uint32_t row_group_rows, struct mlpio_format_layout *l,
                              struct mlpio_error *err) MLPIO_WUR;
void mlpio_format_layout_free(struct mlpio_format_layout *l);
/* Bytes of one sample: the sum of count x dtype width (d1*d2 without columns). */
uint64_t mlpio_format_layout_sample_bytes(const struct mlpio_format_layout *l, uint64_t d1,
                                          uint64_t d2);
/* "float32", ... */
size_t mlpio_format_dtype_width(enum mlpio_format_dtype t);
const char *mlpio_format_dtype_name(enum mlpio_format_dtype t);

/* Shape of one file: samples_per_file records of d1 x d2 bytes each. layout: the columns of a
 * columnar format (NULL: its default layout); other formats ignore it. */
struct mlpio_format_shape {
    uint64_t d1, d2;
    uint32_t samples;
    const struct mlpio_format_layout *layout;
};

/* Called for each sample as it is read: its index in the file, where its bytes start in the
 * file, its length, and the bytes themselves (valid during the call only). Return 0 to go on,
 * -1 (with err filled) to stop. */
typedef int (*mlpio_format_sample_fn)(void *arg, uint32_t index, uint64_t offset, const void *bytes,
                                      size_t len, struct mlpio_error *err);

/* Where composed pieces of a file go. put takes buf[0, len), the file's bytes at offset off, and
 * returns the buffer to compose the next piece into (of the same size and alignment; it may be
 * buf again once its bytes are out), or NULL with err filled to stop the composition. */
struct mlpio_format_sink {
    void *(*put)(void *arg, void *buf, size_t len, uint64_t off, struct mlpio_error *err);
    void *arg;
};

struct mlpio_format {
    const char *name; /* "npz", "tfrecord", "hdf5" */
    const char *ext;  /* file name extension: "npz", "tfrecord", "h5" */
    /* Exact size in bytes of a file of this shape (0 if the format cannot know in advance). */
    uint64_t (*file_bytes)(const struct mlpio_format_shape *shape);
    /* Write a whole file to f (opened for writing by the caller). Sample i's bytes are
     * content's bytes [i*d1*d2, (i+1)*d1*d2) (content(arg, dst, len, offset) fills dst; mlpio
     * passes its data generator), so readers can verify them. buf is a
     * caller-owned scratch buffer of buflen bytes (>= 64 KiB, MLPIO_IO_ALIGN-aligned);
     * writes are issued in pieces of at most buflen bytes. NULL for a format with compose:
     * mlpio_format_write then composes into f. */
    int (*write)(struct mlpio_io_file *f, const struct mlpio_format_shape *shape,
                 mlpio_io_fill_fn content, void *content_arg, void *buf, size_t buflen,
                 struct mlpio_error *err);
    /* Compose the file that write would write, handing its pieces to sink in the order write
     * issues them (the same bytes at the same offsets), starting in buf. It touches no file
     * and calls no MPI, so it may run on a thread of its own ahead of the one writing: that is
     * where the data generation and the format's checksums then run. path only names the file
     * in messages. NULL for a format that writes through a library of its own (hdf5). */
    int (*compose)(const char *path, const struct mlpio_format_shape *shape,
                   mlpio_io_fill_fn content, void *content_arg, void *buf, size_t buflen,
                   const struct mlpio_format_sink *sink, struct mlpio_error *err);
    /* Read a whole file of file_size bytes from f (opened for reading), in reads of at most
     * buflen bytes, checking the framing; calls on_sample for every sample in order. On a
     * framing error: MLPIO_ERR_IO with the path, offset and what is wrong. *shape receives
     * the shape found in the file. */
    int (*read)(struct mlpio_io_file *f, uint64_t file_size, void *buf, size_t buflen,
                struct mlpio_format_shape *shape, mlpio_format_sample_fn on_sample, void *arg,
                struct mlpio_error *err);
    /* The file codes its pixels (jpeg): read hands out the file's own bytes as sample 0, and
     * verifying compares them with the file composed again; *shape is the image's d1 x d2. */
    bool encoded;
    /* A format whose files declare a schema (parquet): read as read does, once the schema in
     * the file is found to be expect's (its d1, d2, samples and layout), before any sample is
     * read. NULL for the other formats. */
    int (*read_expect)(struct mlpio_io_file *f, uint64_t file_size, void *buf, size_t buflen,
                       const struct mlpio_format_shape *expect, struct mlpio_format_shape *shape,
                       mlpio_format_sample_fn on_sample, void *arg, struct mlpio_error *err);
    /* How the generator's bytes map onto the file. false: sample i's bytes are the generator's
     * [i*d1*d2, (i+1)*d1*d2) and the pieces of a sample reach on_sample in order, so a piece's
     * generator offset is its sample's start plus the bytes of that sample seen before it.
     * true (a columnar format, whose sample's values lie in several column chunks): a value
     * byte at file offset x is the generator's byte x, and on_sample's offset is also the
     * generator offset; each call holds values of consecutive samples of one column (one
     * sample's, for a list column), index naming the first. */
    bool content_at_file_offset;
};

/* Write a whole file of fmt to f: fmt's write, or its composition handed to f in order. The
 * arguments are those of write. */
int mlpio_format_write(const struct mlpio_format *fmt, struct mlpio_io_file *f,
                       const struct mlpio_format_shape *shape, mlpio_io_fill_fn content,
                       void *content_arg, void *buf, size_t buflen, struct mlpio_error *err);

/* Registry: the formats built into this mlpio. */
const struct mlpio_format *mlpio_format_find(const char *name);
/* NULL-terminated list. */
const struct mlpio_format *const *mlpio_formats(void);
/* Their names as "a|b|c", in registry order (built once; static storage). */
const char *mlpio_format_choices(void);
/* What a format that mlpio knows but this build left out needs to be built ("-DMLPIO_HDF5=ON
 * and libhdf5-openmpi-dev"), or NULL when name is built in or unknown. */
const char *mlpio_format_unbuilt(const char *name);

extern const struct mlpio_format mlpio_format_npz;
extern const struct mlpio_format mlpio_format_tfrecord;
extern const struct mlpio_format mlpio_format_jpeg;
extern const struct mlpio_format mlpio_format_parquet;
#ifdef MLPIO_HAVE_HDF5
extern const struct mlpio_format mlpio_format_hdf5;
#endif

#endif
