/* Unit tests of the hdf5 backend (byte round trip, errors without HDF5 printing anything) and
 * of the hdf5 dataset format (shapes, content of every sample, malformed and truncated files).
 *
 * With MLPIO_HDF5_KEEP_DIR set, the files worth checking with an independent HDF5 reader are
 * also left there with the bytes they must hold beside them (<name>.raw); see
 * tests/e2e/test_hdf5.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/datagen.h"
#include "io/format.h"
#include "io/io.h"
#include "support/files.h"
#include "support/io_checks.h"
#include "support/mpi_leaks.h"

#define BUFLEN ((size_t)65536)

struct fixture {
    char dir[PATH_MAX];
    ssize_t objects; /* HDF5 files and objects open at setup */
};

/* Open HDF5 files, datasets, groups, named types and attributes of the whole process. */
static ssize_t open_objects(void)
{
    ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    assert_true(n >= 0);
    return n;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    scratch_make_or_fail(fx->dir, sizeof(fx->dir), false, "mlpio-test-hdf5");
    fx->objects = open_objects();
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    /* Every file and dataset the code under test opened is closed again. */
    assert_int_equal(open_objects(), fx->objects);
    return scratch_free(fx, fx->dir);
}

/* Where files for the independent reader go, or NULL when nobody asked for them. */
static const char *keep_dir(void)
{
    const char *d = getenv("MLPIO_HDF5_KEEP_DIR");
    return d && *d ? d : NULL;
}

static void keep_copy(const char *path, const char *name, const void *raw, size_t raw_len)
{
    const char *dir = keep_dir();
    if (!dir)
        return;
    char dst[PATH_MAX], rawname[PATH_MAX];
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    FILE *out = fopen(path_join(dst, dir, name), "wb");
    assert_non_null(out);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
        assert_int_equal(fwrite(chunk, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    snprintf(rawname, sizeof(rawname), "%s.raw", name);
    file_write(path_join(dst, dir, rawname), raw, raw_len);
}

/* The format's content callback: bytes of a data generator object. */
static void fill_object(void *arg, void *buf, size_t len, uint64_t off)
{
    mlpio_data_fill(arg, off, buf, len);
}

static void test_registry(void **state)
{
    assert_ptr_equal(mlpio_io_find("hdf5"), &mlpio_io_hdf5);
    unsigned caps = mlpio_io_hdf5.caps;
    assert_true(caps & MLPIO_IO_CAP_COLLECTIVE);
    assert_true(caps & MLPIO_IO_CAP_STORAGE);
    assert_true(caps & MLPIO_IO_CAP_DROP_CACHE);
    assert_false(caps & MLPIO_IO_CAP_ODIRECT);
    assert_string_equal(mlpio_format_hdf5.name, "hdf5");
    assert_string_equal(mlpio_format_hdf5.ext, "h5");
    struct mlpio_format_shape shape = {.d1 = 10, .d2 = 10, .samples = 3};
    assert_int_equal(mlpio_format_hdf5.file_bytes(&shape), 0);

    struct fixture *fx = *state;
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    struct mlpio_io_options opts = {.odirect = true};
    char path[PATH_MAX];
    path_join(path, fx->dir, "odirect.h5");
    assert_int_equal(mlpio_io_open(&mlpio_io_hdf5, path, MLPIO_IO_WRITE, &opts, &f, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "odirect"));
    assert_false(path_exists(path));
}

/* Written out of order, so that the dataset grows, and with an unaligned tail. */
static const struct {
    uint64_t off;
    size_t len;
} pieces[] = {
    {1138688, 3000}, {0, 65536}, {65536, 4096}, {69632, 1 << 20}, {1118208, 12288}, {1130496, 8192},
};
#define TOTAL ((size_t)1138688 + 3000)

static void test_round_trip(void **state)
{
    struct fixture *fx = *state;
    const struct mlpio_io_backend *be = &mlpio_io_hdf5;
    struct mlpio_error err = {0};
    char dir[PATH_MAX], path[PATH_MAX];
    path_join(dir, fx->dir, "a/b/c");
    path_join(path, dir, "data.h5");
    ASSERT_OK(mlpio_io_mkdirs(be, dir, &err), &err);
    ASSERT_OK(mlpio_io_mkdirs(be, dir, &err), &err);
    assert_true(path_exists(dir));

    struct mlpio_data_object obj;
    object_for(11, 0, "round-trip", &obj);
    uint8_t *src = mlpio_io_buffer_alloc(TOTAL);
    uint8_t *dst = mlpio_io_buffer_alloc(TOTAL);
    assert_non_null(src);
    assert_non_null(dst);
    mlpio_data_fill(&obj, 0, src, TOTAL);

    struct mlpio_io_file *f = NULL;
    ASSERT_OK(mlpio_io_open(be, path, MLPIO_IO_WRITE, NULL, &f, &err), &err);
    assert_string_equal(f->path, path);
    uint64_t size = 1;
    ASSERT_OK(mlpio_io_size(f, &size, &err), &err);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(size, (uint64_t)st.st_size); /* no byte dataset yet: the HDF5 file itself */
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        ASSERT_OK(mlpio_io_write_at(f, src + pieces[i].off, pieces[i].len, pieces[i].off, &err),
                  &err);
        ASSERT_OK(mlpio_io_size(f, &size, &err), &err);
        assert_int_equal(size, TOTAL); /* the first write already reached the end */
    }
    ASSERT_OK(mlpio_io_write_at(f, src, 0, 5, &err), &err);
    ASSERT_OK(mlpio_io_sync(f, &err), &err);
    assert_true(resident_pages(path) > 0);
    ASSERT_OK(mlpio_io_drop_cache(f, &err), &err);
    assert_int_equal(resident_pages(path), 0);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    assert_null(f);

    ASSERT_OK(mlpio_io_open(be, path, MLPIO_IO_READ, NULL, &f, &err), &err);
    ASSERT_OK(mlpio_io_size(f, &size, &err), &err);
    assert_int_equal(size, TOTAL);
    memset(dst, 0xA5, TOTAL);
    ASSERT_OK(mlpio_io_read_at(f, dst, TOTAL, 0, &err), &err);
    assert_memory_equal(dst, src, TOTAL);
    memset(dst, 0xA5, TOTAL);
    ASSERT_OK(mlpio_io_read_at(f, dst, 5000, 8191, &err), &err);
    assert_memory_equal(dst, src + 8191, 5000);
    /* After drop_cache a read reaches the file again: HDF5 keeps no copy of its own. */
    ASSERT_OK(mlpio_io_drop_cache(f, &err), &err);
    assert_int_equal(resident_pages(path), 0);
    ASSERT_OK(mlpio_io_read_at(f, dst, 5000, 8191, &err), &err);
    assert_memory_equal(dst, src + 8191, 5000);
    assert_true(resident_pages(path) > 0);

    char expect[128];
    snprintf(expect, sizeof(expect), "read 3000 of 4096 bytes at offset %zu", TOTAL - 3000);
    assert_int_equal(mlpio_io_read_at(f, dst, 4096, TOTAL - 3000, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_IO);
    assert_non_null(strstr(err.message, expect));
    assert_non_null(strstr(err.message, path));
    assert_int_equal(mlpio_io_read_at(f, dst, 1, UINT64_MAX - 1, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_INTERNAL);
    assert_non_null(strstr(err.message, path));
    /* Nothing to flush in a file opened for reading. */
    ASSERT_OK(mlpio_io_sync(f, &err), &err);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    keep_copy(path, "bytes.h5", src, TOTAL);

    ASSERT_OK(mlpio_io_remove(be, path, &err), &err);
    assert_false(path_exists(path));
    ASSERT_OK(mlpio_io_remove(be, path, &err), &err);
    mlpio_io_buffer_free(src);
    mlpio_io_buffer_free(dst);
}

/* A write open truncates: nothing of an earlier, longer file survives. */
static void test_rewrite(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    path_join(path, fx->dir, "rewrite.h5");
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    uint8_t buf[8192];
    memset(buf, 7, sizeof(buf));
    const size_t lens[] = {sizeof(buf), 100};
    for (size_t i = 0; i < 2; i++) {
        ASSERT_OK(mlpio_io_open(&mlpio_io_hdf5, path, MLPIO_IO_WRITE, NULL, &f, &err), &err);
        ASSERT_OK(mlpio_io_write_at(f, buf, lens[i], 0, &err), &err);
        ASSERT_OK(mlpio_io_close(&f, &err), &err);
    }
    ASSERT_OK(mlpio_io_open(&mlpio_io_hdf5, path, MLPIO_IO_READ, NULL, &f, &err), &err);
    uint64_t size = 0;
    ASSERT_OK(mlpio_io_size(f, &size, &err), &err);
    assert_int_equal(size, 100);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
}

/* Runs body with stderr sent to a file and returns what was printed (caller frees). body
 * reports a failure in why rather than asserting, so that it is seen once stderr is back. */
static char *capture_stderr(void (*body)(const char *dir, char *why, size_t n), const char *dir,
                            char *why, size_t n)
{
    char cap[PATH_MAX];
    path_join(cap, dir, "stderr.txt");
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(cap, O_CREAT | O_TRUNC | O_RDWR, 0644);
    assert_true(saved >= 0 && fd >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    body(dir, why, n);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t len = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)len + 1);
    assert_non_null(text);
    assert_int_equal(pread(fd, text, (size_t)len, 0), len);
    close(fd);
    unlink(cap);
    return text;
}

static const struct {
    const char *name;
    enum mlpio_io_mode mode;
    enum mlpio_errsrc source;
    int cause;          /* errno cause, or 0 */
    const char *reason; /* what the message must say besides the path */
    const char *hint;   /* a word the hint must hold */
} open_cases[] = {
    {"missing.h5", MLPIO_IO_READ, MLPIO_SRC_ERRNO, ENOENT, "ENOENT", "written"},
    {"sub", MLPIO_IO_READ, MLPIO_SRC_ERRNO, EISDIR, "EISDIR", "sub"},
    {"text.h5", MLPIO_IO_READ, MLPIO_SRC_HDF5, 0, "signature", "HDF5"},
    {"empty.h5", MLPIO_IO_READ, MLPIO_SRC_HDF5, 0, "signature", "HDF5"},
    {"no/such/folder/x.h5", MLPIO_IO_WRITE, MLPIO_SRC_HDF5, 0, "creation", "folder"},
};

static void say(char *why, size_t n, const char *fmt, ...) MLPIO_PRINTF(3, 4);

static void say(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

static void open_errors(const char *dir, char *why, size_t n)
{
    for (size_t i = 0; i < sizeof(open_cases) / sizeof(open_cases[0]) && !why[0]; i++) {
        struct mlpio_error err = {0};
        struct mlpio_io_file *f = NULL;
        char path[PATH_MAX];
        path_join(path, dir, open_cases[i].name);
        int rc = mlpio_io_open(&mlpio_io_hdf5, path, open_cases[i].mode, NULL, &f, &err);
        if (rc != -1 || f || err.category != MLPIO_ERR_IO || err.source != open_cases[i].source ||
            (open_cases[i].cause && err.cause != open_cases[i].cause) ||
            !strstr(err.message, path) || !strstr(err.message, open_cases[i].reason) ||
            !strstr(err.hint, open_cases[i].hint))
            say(why, n,
                "case %s: rc %d, category %d, source %d, cause %d, message "
                "'%s', hint '%s'",
                open_cases[i].name, rc, (int)err.category, (int)err.source, err.cause, err.message,
                err.hint);
    }
}

static void test_open_errors_quiet(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX], text[10000], why[1024] = "";
    assert_int_equal(mkdir(path_join(path, fx->dir, "sub"), 0755), 0);
    memset(text, 'x', sizeof(text));
    file_write(path_join(path, fx->dir, "text.h5"), text, sizeof(text));
    file_write(path_join(path, fx->dir, "empty.h5"), text, 0);
    char *printed = capture_stderr(open_errors, fx->dir, why, sizeof(why));
    if (why[0])
        fail_msg("%s", why);
    if (printed[0])
        fail_msg("the library printed on stderr:\n%s", printed);
    free(printed);
    H5E_auto2_t func = NULL;
    void *data = NULL;
    assert_true(H5Eget_auto2(H5E_DEFAULT, &func, &data) >= 0);
    assert_null(func);
}

struct shape_case {
    uint32_t samples;
    uint64_t d1, d2;
};

static const struct shape_case shapes[] = {
    {1, 1, 1},      /* smallest */
    {5, 17, 29},    /* odd sizes, all samples in one piece */
    {40, 64, 64},   /* 16 samples per piece, a short last piece */
    {3, 300, 257},  /* samples larger than the buffer, split mid-row */
    {2, 1, 100000}, /* rows larger than the buffer */
    {1251, 11, 13}, /* many samples */
};

/* What the reader handed out, checked against the file's bytes and the generator's. */
struct seen {
    const struct mlpio_data_object *obj;
    const uint8_t *file; /* the whole file, as stored */
    uint64_t file_len;
    uint64_t sample; /* bytes per sample */
    uint64_t pos;    /* bytes of the dataset delivered so far */
    uint64_t first;  /* file offset of the first call */
    uint64_t calls;
    uint32_t last_index;
};

static int check_sample(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                        struct mlpio_error *err)
{
    struct seen *s = arg;
    if (s->calls == 0)
        s->first = offset;
    /* In order, nothing skipped or repeated, never two samples in one call; the records lie
     * contiguously in the file, so offsets advance with the dataset. */
    assert_int_equal(offset - s->first, s->pos);
    assert_int_equal(index, s->pos / s->sample);
    assert_true((s->pos + len - 1) / s->sample == index);
    assert_true(offset <= s->file_len && len <= s->file_len - offset);
    assert_memory_equal(s->file + offset, bytes, len);
    uint64_t bad = 0;
    if (mlpio_data_verify(s->obj, s->pos, bytes, len, &bad) != 0)
        fail_msg("sample %u: byte %llu of the content differs", index, (unsigned long long)bad);
    s->pos += len;
    s->calls++;
    s->last_index = index;
    return 0;
}

static uint8_t *slurp(const char *path, uint64_t *len)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    *len = (uint64_t)st.st_size;
    uint8_t *data = malloc(*len + 1);
    assert_non_null(data);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(data, 1, *len, fp), *len);
    fclose(fp);
    return data;
}

static void write_format(const struct mlpio_io_backend *be, const char *path,
                         const struct mlpio_format_shape *shape, struct mlpio_data_object *obj,
                         void *buf)
{
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    ASSERT_OK(mlpio_io_open(be, path, MLPIO_IO_WRITE, NULL, &f, &err), &err);
    ASSERT_OK(mlpio_format_hdf5.write(f, shape, fill_object, obj, buf, BUFLEN, &err), &err);
    ASSERT_OK(mlpio_io_sync(f, &err), &err);
    /* What a data generator counts as written: the whole file, once synced. */
    uint64_t size = 0;
    ASSERT_OK(mlpio_io_size(f, &size, &err), &err);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(size, (uint64_t)st.st_size);
}

/* Read path through be and check every sample; returns the calls made. */
static uint64_t read_format(const struct mlpio_io_backend *be, const char *path,
                            const struct shape_case *c, const struct mlpio_data_object *obj,
                            void *buf)
{
    struct seen s = {.obj = obj, .sample = c->d1 * c->d2};
    s.file = slurp(path, &s.file_len);
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    ASSERT_OK(mlpio_io_open(be, path, MLPIO_IO_READ, NULL, &f, &err), &err);
    struct mlpio_format_shape got = {0};
    ASSERT_OK(mlpio_format_hdf5.read(f, s.file_len, buf, BUFLEN, &got, check_sample, &s, &err),
              &err);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    assert_int_equal(got.samples, c->samples);
    assert_int_equal(got.d1, c->d1);
    assert_int_equal(got.d2, c->d2);
    assert_int_equal(s.pos, s.sample * c->samples);
    assert_int_equal(s.last_index, c->samples - 1);
    assert_true(s.file_len > s.pos); /* data and HDF5's metadata */
    free((void *)s.file);
    return s.calls;
}

/* Written and read through each storing backend, and read back through the others. */
static void test_format_round_trip(void **state)
{
    struct fixture *fx = *state;
    const struct mlpio_io_backend *const bes[] = {&mlpio_io_hdf5, &mlpio_io_posix, &mlpio_io_mpiio};
    const size_t nbe = sizeof(bes) / sizeof(bes[0]);
    void *buf = mlpio_io_buffer_alloc(BUFLEN);
    assert_non_null(buf);
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        const struct shape_case *c = &shapes[i];
        struct mlpio_format_shape shape = {.d1 = c->d1, .d2 = c->d2, .samples = c->samples};
        uint64_t sample = c->d1 * c->d2, total = sample * c->samples;
        /* Whole samples when they fit in the buffer, else one call per piece. */
        uint64_t per = sample <= BUFLEN ? 1 : (sample + BUFLEN - 1) / BUFLEN;
        char name[64], path[PATH_MAX];
        snprintf(name, sizeof(name), "fmt_%u_%llu_%llu.h5", c->samples, (unsigned long long)c->d1,
                 (unsigned long long)c->d2);
        path_join(path, fx->dir, name);
        struct mlpio_data_object obj;
        object_for(11, 0, name, &obj);
        for (size_t w = 0; w < nbe; w++) {
            write_format(bes[w], path, &shape, &obj, buf);
            for (size_t r = 0; r < nbe; r++)
                assert_int_equal(read_format(bes[r], path, c, &obj, buf),
                                 (uint64_t)c->samples * per);
        }
        if (keep_dir()) {
            uint8_t *raw = malloc(total);
            assert_non_null(raw);
            mlpio_data_fill(&obj, 0, raw, total);
            keep_copy(path, name, raw, total);
            free(raw);
        }
    }
    mlpio_io_buffer_free(buf);
}

static int stop_at_second(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                          struct mlpio_error *err)
{
    int *calls = arg;
    if (++*calls < 2)
        return 0;
    return mlpio_error_set(err, MLPIO_ERR_VERIFY, "sample %u is wrong", index);
}

/* Expect the format's read of path to fail with cat and a message holding want. */
static void expect_read_error(const char *path, enum mlpio_errcat cat, const char *want,
                              mlpio_format_sample_fn fn, void *arg)
{
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    void *buf = mlpio_io_buffer_alloc(BUFLEN);
    assert_non_null(buf);
    ASSERT_OK(mlpio_io_open(&mlpio_io_hdf5, path, MLPIO_IO_READ, NULL, &f, &err), &err);
    struct mlpio_format_shape got;
    assert_int_equal(mlpio_format_hdf5.read(f, 0, buf, BUFLEN, &got, fn, arg, &err), -1);
    assert_int_equal(err.category, cat);
    if (!strstr(err.message, want) || (cat == MLPIO_ERR_IO && !strstr(err.message, path)))
        fail_msg("message '%s' should name %s and say '%s'", err.message, path, want);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    mlpio_io_buffer_free(buf);
}

/* An HDF5 file made directly with the library: records of the given type and rank, and
 * labels (nlabels of them; none when 0). */
static void make_file(const char *path, hid_t type, int rank, hsize_t nlabels)
{
    hsize_t dims[3] = {4, 8, 8};
    hid_t fid = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(fid >= 0);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(fid, "records", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(d >= 0);
    H5Dclose(d);
    H5Sclose(space);
    if (nlabels) {
        space = H5Screate_simple(1, &nlabels, NULL);
        d = H5Dcreate2(fid, "labels", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(d >= 0);
        H5Dclose(d);
        H5Sclose(space);
    }
    assert_true(H5Fclose(fid) >= 0);
}

static void test_format_malformed(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    int calls = 0;
    struct {
        const char *name;
        hid_t type;
        int rank;
        hsize_t labels;
        const char *want;
    } cs[] = {
        {"float.h5", H5T_IEEE_F32LE, 3, 4, "'records' holds 4-byte float values, want uint8"},
        {"int16.h5", H5T_STD_U16LE, 3, 4, "holds 2-byte integers, want uint8"},
        {"signed.h5", H5T_STD_I8LE, 3, 4, "holds 1-byte signed integers"},
        {"rank2.h5", H5T_STD_U8LE, 2, 4, "'records' has 2 dimensions, want 3"},
        {"nolabels.h5", H5T_STD_U8LE, 3, 0, "no dataset 'labels'"},
        {"fewlabels.h5", H5T_STD_U8LE, 3, 3, "3 labels for 4 samples"},
    };
    for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        make_file(path_join(path, fx->dir, cs[i].name), cs[i].type, cs[i].rank, cs[i].labels);
        expect_read_error(path, MLPIO_ERR_IO, cs[i].want, check_sample, NULL);
    }

    /* A byte file of the backend is no dataset file. */
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    path_join(path, fx->dir, "bytes.h5");
    ASSERT_OK(mlpio_io_open(&mlpio_io_hdf5, path, MLPIO_IO_WRITE, NULL, &f, &err), &err);
    ASSERT_OK(mlpio_io_write_at(f, "abc", 3, 0, &err), &err);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    expect_read_error(path, MLPIO_ERR_IO, "no dataset 'records'", check_sample, NULL);

    /* The caller's callback stops the read with its own error. */
    path_join(path, fx->dir, "good.h5");
    struct mlpio_format_shape shape = {.d1 = 3, .d2 = 5, .samples = 4};
    struct mlpio_data_object obj;
    object_for(11, 0, "good", &obj);
    void *buf = mlpio_io_buffer_alloc(BUFLEN);
    assert_non_null(buf);
    write_format(&mlpio_io_hdf5, path, &shape, &obj, buf);
    expect_read_error(path, MLPIO_ERR_VERIFY, "sample 1 is wrong", stop_at_second, &calls);
    assert_int_equal(calls, 2);

    /* ... and a dataset file is no byte file. */
    ASSERT_OK(mlpio_io_open(&mlpio_io_hdf5, path, MLPIO_IO_READ, NULL, &f, &err), &err);
    assert_int_equal(mlpio_io_read_at(f, buf, 10, 0, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_IO);
    assert_non_null(strstr(err.message, "no byte dataset"));
    assert_int_equal(mlpio_format_hdf5.write(f, &shape, fill_object, &obj, buf, BUFLEN, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_INTERNAL);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    mlpio_io_buffer_free(buf);
}

static void test_format_truncated(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    path_join(path, fx->dir, "cut.h5");
    struct mlpio_format_shape shape = {.d1 = 100, .d2 = 100, .samples = 8};
    struct mlpio_data_object obj;
    object_for(11, 0, "cut", &obj);
    void *buf = mlpio_io_buffer_alloc(BUFLEN);
    assert_non_null(buf);
    write_format(&mlpio_io_hdf5, path, &shape, &obj, buf);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    /* Cut inside the records, then by one byte: the file ends before what its superblock says,
     * which the backend's open and the format's read through another backend both find. */
    const off_t cuts[] = {st.st_size / 2, st.st_size - 1};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(truncate(path, cuts[i]), 0);
        struct mlpio_error err = {0};
        struct mlpio_io_file *f = NULL;
        assert_int_equal(mlpio_io_open(&mlpio_io_hdf5, path, MLPIO_IO_READ, NULL, &f, &err), -1);
        assert_null(f);
        assert_int_equal(err.category, MLPIO_ERR_IO);
        assert_int_equal(err.source, MLPIO_SRC_HDF5);
        if (!strstr(err.message, path) || !strstr(err.message, "truncated") ||
            !strstr(err.hint, "write it again"))
            fail_msg("message '%s', hint '%s'", err.message, err.hint);

        ASSERT_OK(mlpio_io_open(&mlpio_io_posix, path, MLPIO_IO_READ, NULL, &f, &err), &err);
        struct mlpio_format_shape got;
        assert_int_equal(mlpio_format_hdf5.read(f, (uint64_t)st.st_size, buf, BUFLEN, &got,
                                                check_sample, NULL, &err),
                         -1);
        assert_int_equal(err.category, MLPIO_ERR_IO);
        if (!strstr(err.message, path) || !strstr(err.message, "truncated"))
            fail_msg("through posix: message '%s'", err.message);
        ASSERT_OK(mlpio_io_close(&f, &err), &err);
    }
    mlpio_io_buffer_free(buf);
}

static void test_format_refusals(void **state)
{
    struct fixture *fx = *state;
    char path[PATH_MAX];
    void *buf = mlpio_io_buffer_alloc(BUFLEN);
    assert_non_null(buf);
    struct mlpio_data_object obj;
    object_for(11, 0, "refusals", &obj);
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;

    /* Backends whose files the HDF5 library cannot open as asked. */
    const struct {
        const struct mlpio_io_backend *be;
        struct mlpio_io_options opts;
        const char *why, *hint;
    } cs[] = {
        {&mlpio_io_null, {0}, "stores no file", "--io-api hdf5"},
        {&mlpio_io_posix, {.odirect = true}, "no O_DIRECT driver", "--odirect"},
        {&mlpio_io_mpiio, {.collective = true, .comm = MPI_COMM_WORLD}, "shared", "--io-api hdf5"},
    };
    struct mlpio_format_shape shape = {.d1 = 2, .d2 = 2, .samples = 2};
    for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "refused-%zu.h5", i);
        path_join(path, fx->dir, name);
        ASSERT_OK(mlpio_io_open(cs[i].be, path, MLPIO_IO_WRITE, &cs[i].opts, &f, &err), &err);
        assert_int_equal(mlpio_format_hdf5.write(f, &shape, fill_object, &obj, buf, BUFLEN, &err),
                         -1);
        assert_int_equal(err.category, MLPIO_ERR_UNSUPPORTED);
        if (!strstr(err.message, cs[i].be->name) || !strstr(err.message, cs[i].why) ||
            !strstr(err.hint, cs[i].hint))
            fail_msg("%s: message '%s', hint '%s'", cs[i].be->name, err.message, err.hint);
        uint64_t size = 1;
        ASSERT_OK(mlpio_io_size(f, &size, &err), &err);
        assert_int_equal(size, 0); /* nothing written */
        ASSERT_OK(mlpio_io_close(&f, &err), &err);
    }

    /* Empty dimensions. */
    const struct mlpio_format_shape bad[] = {{0, 5, 1}, {5, 0, 1}, {5, 5, 0}};
    path_join(path, fx->dir, "bad.h5");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ASSERT_OK(mlpio_io_open(&mlpio_io_hdf5, path, MLPIO_IO_WRITE, NULL, &f, &err), &err);
        assert_int_equal(mlpio_format_hdf5.write(f, &bad[i], fill_object, &obj, buf, BUFLEN, &err),
                         -1);
        assert_int_equal(err.category, MLPIO_ERR_CONFIG);
        assert_non_null(strstr(err.message, path));
        ASSERT_OK(mlpio_io_close(&f, &err), &err);
    }
    mlpio_io_buffer_free(buf);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors_quiet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_refusals, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    LEAK_CHECK_BEFORE_FINALIZE();
    MPI_Finalize();
    return rc;
}
