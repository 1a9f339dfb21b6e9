/* Tests of the parquet format (io/parquet.c) beyond the round trips all formats share: the
 * column layout text, files of several columns read back value by value at their generator
 * offsets, a schema other than the expected one, and footers crafted by hand (an optional
 * column, a compressed chunk, rows that do not add up, a chunk past the data) refused with the
 * path, the offset and what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/datagen.h"
#include "io/format.h"
#include "io/io.h"
#include "io/thrift.h"

#define KIB 1024

static char dir[PATH_MAX];
static struct mlpio_data_object obj;

static void content(void *arg, void *buf, size_t len, uint64_t off)
{
    mlpio_data_fill(arg, off, buf, len);
}

struct seen {
    uint64_t bytes;
    uint32_t calls;
    const char *bad;
};

static int on_sample(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                     struct mlpio_error *err)
{
    struct seen *s = arg;
    uint64_t at;
    (void)index;
    (void)err;
    if (mlpio_data_verify(&obj, offset, bytes, len, &at) != 0)
        s->bad = "generator bytes differ";
    s->bytes += len;
    s->calls++;
    return 0;
}

static int read_path(const char *path, const struct mlpio_format_shape *expect,
                     struct mlpio_format_shape *got, struct seen *s, struct mlpio_error *err)
{
    struct mlpio_io_file *f = NULL;
    struct mlpio_io_options opts = {0};
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    void *buf = mlpio_io_buffer_alloc(64 * KIB);
    assert_int_equal(mlpio_io_open(&mlpio_io_posix, path, MLPIO_IO_READ, &opts, &f, err), 0);
    int rc = expect ? mlpio_format_parquet.read_expect(f, (uint64_t)st.st_size, buf, 64 * KIB,
                                                       expect, got, on_sample, s, err)
                    : mlpio_format_parquet.read(f, (uint64_t)st.st_size, buf, 64 * KIB, got,
                                                on_sample, s, err);
    mlpio_io_close(&f, NULL);
    mlpio_io_buffer_free(buf);
    return rc;
}

static void write_path(const char *path, const struct mlpio_format_shape *shape)
{
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    struct mlpio_io_options opts = {0};
    void *buf = mlpio_io_buffer_alloc(64 * KIB);
    assert_int_equal(mlpio_io_open(&mlpio_io_posix, path, MLPIO_IO_WRITE, &opts, &f, &err), 0);
    if (mlpio_format_write(&mlpio_format_parquet, f, shape, content, &obj, buf, 64 * KIB, &err) !=
        0)
        fail_msg("%s", err.message);
    assert_int_equal(mlpio_io_close(&f, &err), 0);
    mlpio_io_buffer_free(buf);
}

static void test_layout_text(void **state)
{
    (void)state;
    struct mlpio_format_layout l;
    struct mlpio_error err = {0};
    assert_int_equal(
        mlpio_format_layout_parse("k", "a:float32:10,b:int8,c:float16:3", 0.5, 7, &l, &err), 0);
    assert_int_equal(l.ncolumns, 3);
    assert_int_equal(l.row_group_rows, 7);
    assert_true(l.columns[0].count == 5 && l.columns[0].list);
    assert_true(l.columns[1].count == 1 && !l.columns[1].list);
    assert_true(l.columns[2].count == 1 && l.columns[2].list); /* a scaled list stays a list */
    assert_int_equal(mlpio_format_layout_sample_bytes(&l, 9, 9), 20 + 1 + 2);
    mlpio_format_layout_free(&l);
    assert_int_equal(mlpio_format_layout_parse("k", "none", 1, 0, &l, &err), 0);
    assert_int_equal(l.ncolumns, 0);
    assert_int_equal(mlpio_format_layout_sample_bytes(&l, 3, 4), 12);
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"a:float99", "unknown dtype"},    {"a:int8,a:int8", "a second column of that name"},
        {"a:int8:0", "the count must be"}, {"a-b:int8", "letters, digits and _"},
        {"a", "expected name:dtype"},      {"a:int8:1:2", "expected name:dtype"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        assert_int_equal(
            mlpio_format_layout_parse("dataset.parquet.columns", bad[i].text, 1, 0, &l, &err), -1);
        if (!strstr(err.message, bad[i].says) || !strstr(err.message, "dataset.parquet.columns"))
            fail_msg("'%s': %s", bad[i].text, err.message);
    }
}

/* Several columns and row groups, pages of several samples and lists of one sample: every value
 * byte comes back once, at its generator offset, and the file is as long as announced. */
static void test_columns_round_trip(void **state)
{
    (void)state;
    static const struct mlpio_format_column cols[] = {
        {"big", MLPIO_DTYPE_FLOAT32, 70000, true}, /* one sample per page (> 1 MiB would be) */
        {"f16", MLPIO_DTYPE_FLOAT16, 1, false},    {"i8", MLPIO_DTYPE_INT8, 1, false},
        {"u16s", MLPIO_DTYPE_UINT16, 5, true},     {"d", MLPIO_DTYPE_FLOAT64, 1, false},
        {"one", MLPIO_DTYPE_FLOAT32, 1, true},
    };
    struct mlpio_format_layout l = {cols, 6, 3};
    struct mlpio_format_shape shape = {1, 1, 7, &l}, got;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/cols.parquet", dir);
    write_path(path, &shape);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((uint64_t)st.st_size, mlpio_format_parquet.file_bytes(&shape));
    struct seen s = {0};
    struct mlpio_error err = {0};
    if (read_path(path, &shape, &got, &s, &err) != 0)
        fail_msg("%s", err.message);
    assert_null(s.bad);
    uint64_t sample = mlpio_format_layout_sample_bytes(&l, 1, 1);
    assert_int_equal(s.bytes, 7 * sample);
    assert_int_equal(got.samples, 7);
    assert_int_equal(got.d1, sample);

    /* The same file read for another schema: refused before any sample, naming the column. */
    static const struct mlpio_format_column other[] = {
        {"big", MLPIO_DTYPE_FLOAT32, 70000, true}, {"f16", MLPIO_DTYPE_FLOAT32, 1, false},
        {"i8", MLPIO_DTYPE_INT8, 1, false},        {"u16s", MLPIO_DTYPE_UINT16, 5, true},
        {"d", MLPIO_DTYPE_FLOAT64, 1, false},      {"one", MLPIO_DTYPE_FLOAT32, 1, true},
    };
    struct mlpio_format_layout lo = {other, 6, 3};
    struct mlpio_format_shape want = {1, 1, 7, &lo};
    memset(&s, 0, sizeof(s));
    assert_int_equal(read_path(path, &want, &got, &s, &err), -1);
    assert_int_equal(s.calls, 0);
    assert_non_null(strstr(err.message, "column 1 is f16 (float16 of 1), expected f16 (float32"));
    assert_non_null(strstr(err.message, path));
    lo.row_group_rows = 4;
    lo.columns = cols;
    assert_int_equal(read_path(path, &want, &got, &s, &err), -1);
    assert_non_null(strstr(err.message, "7 rows in 3 row groups, expected 7 in 2"));
}

/* A file around a footer written here: "PAR1", one chunk of column "v" (int32, 4 values in one
 * PLAIN page of zeros), the footer with what c changes, its length, "PAR1". */
struct craft {
    int32_t repetition, codec;
    int64_t rows, data_offset;
};

struct buffer {
    uint8_t bytes[4096];
    size_t len;
};

static int append(void *arg, const uint8_t *p, size_t len)
{
    struct buffer *b = arg;
    assert_true(b->len + len <= sizeof(b->bytes));
    memcpy(b->bytes + b->len, p, len);
    b->len += len;
    return 0;
}

static uint64_t crafted(const char *path, const struct craft *c)
{
    struct buffer b = {.len = 0};
    struct mlpio_thrift_out o;
    append(&b, (const uint8_t *)"PAR1", 4);
    mlpio_thrift_out_init(&o, append, &b);
    mlpio_thrift_begin(&o, 0); /* PageHeader */
    mlpio_thrift_i32(&o, 1, 0);
    mlpio_thrift_i32(&o, 2, 16);
    mlpio_thrift_i32(&o, 3, 16);
    mlpio_thrift_begin(&o, 5);
    mlpio_thrift_i32(&o, 1, 4);
    mlpio_thrift_i32(&o, 2, 0);
    mlpio_thrift_end(&o);
    mlpio_thrift_end(&o);
    static const uint8_t zero[16];
    mlpio_thrift_raw(&o, zero, 16);
    assert_int_equal(mlpio_thrift_out_finish(&o), 0);
    uint64_t chunk = b.len - 4, footer = b.len;
    mlpio_thrift_out_init(&o, append, &b);
    mlpio_thrift_begin(&o, 0); /* FileMetaData */
    mlpio_thrift_i32(&o, 1, 1);
    mlpio_thrift_list(&o, 2, MLPIO_TC_STRUCT, 2);
    mlpio_thrift_begin(&o, 0);
    mlpio_thrift_string(&o, 4, "schema");
    mlpio_thrift_i32(&o, 5, 1);
    mlpio_thrift_end(&o);
    mlpio_thrift_begin(&o, 0);
    mlpio_thrift_i32(&o, 1, 1); /* INT32 */
    mlpio_thrift_i32(&o, 3, c->repetition);
    mlpio_thrift_string(&o, 4, "v");
    mlpio_thrift_end(&o);
    mlpio_thrift_i64(&o, 3, c->rows);
    mlpio_thrift_list(&o, 4, MLPIO_TC_STRUCT, 1);
    mlpio_thrift_begin(&o, 0); /* RowGroup */
    mlpio_thrift_list(&o, 1, MLPIO_TC_STRUCT, 1);
    mlpio_thrift_begin(&o, 0); /* ColumnChunk */
    mlpio_thrift_i64(&o, 2, 4);
    mlpio_thrift_begin(&o, 3); /* ColumnMetaData */
    mlpio_thrift_i32(&o, 1, 1);
    mlpio_thrift_list(&o, 3, MLPIO_TC_BINARY, 1);
    mlpio_thrift_elem_string(&o, "v");
    mlpio_thrift_i32(&o, 4, c->codec);
    mlpio_thrift_i64(&o, 5, 4);
    mlpio_thrift_i64(&o, 6, (int64_t)chunk);
    mlpio_thrift_i64(&o, 7, (int64_t)chunk);
    mlpio_thrift_i64(&o, 9, c->data_offset);
    mlpio_thrift_end(&o);
    mlpio_thrift_end(&o);
    mlpio_thrift_i64(&o, 3, 4);
    mlpio_thrift_end(&o);
    mlpio_thrift_end(&o);
    assert_int_equal(mlpio_thrift_out_finish(&o), 0);
    uint8_t tail[8] = {0};
    uint32_t len = (uint32_t)(b.len - footer);
    memcpy(tail, &len, 4); /* little-endian hosts only, as the rest of mlpio */
    memcpy(tail + 4, "PAR1", 4);
    append(&b, tail, 8);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.bytes, b.len), (ssize_t)b.len);
    close(fd);
    return footer;
}

static void test_crafted_footers(void **state)
{
    (void)state;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/crafted.parquet", dir);
    struct mlpio_format_shape got;
    struct mlpio_error err = {0};
    struct seen s = {0};
    /* As written, it reads: 4 values of 4 bytes from an independent writer. */
    struct craft good = {.repetition = 0, .codec = 0, .rows = 4, .data_offset = 4};
    crafted(path, &good);
    if (read_path(path, NULL, &got, &s, &err) != 0)
        fail_msg("%s", err.message);
    assert_int_equal(s.bytes, 16);
    assert_true(got.samples == 4 && got.d1 == 4);
    static const struct {
        struct craft c;
        const char *says;
        bool at_footer;
    } bad[] = {
        {{1, 0, 4, 4}, "column v is optional (nullable)", true},
        {{0, 1, 4, 4}, "codec 1; mlpio reads uncompressed", true},
        {{0, 0, 5, 4}, "the row groups hold 4 rows, the footer says 5", true},
        {{0, 0, 4, 9}, "overlap another chunk or run past the data", false},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t footer = crafted(path, &bad[i].c);
        memset(&err, 0, sizeof(err));
        assert_int_equal(read_path(path, NULL, &got, &s, &err), -1);
        char where[PATH_MAX + 64];
        snprintf(where, sizeof(where), "parquet file %s, offset ", path);
        if (!strstr(err.message, bad[i].says) || !strstr(err.message, where))
            fail_msg("case %zu: %s", i, err.message);
        if (bad[i].at_footer) {
            unsigned long long off = strtoull(strstr(err.message, where) + strlen(where), NULL, 10);
            if (off < footer)
                fail_msg("case %zu: offset %llu before the footer at %llu", i, off,
                         (unsigned long long)footer);
        }
        assert_int_equal(err.category, MLPIO_ERR_IO);
    }
}

int main(void)
{
    snprintf(dir, sizeof(dir), "%s/mlpio-parquet-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    struct mlpio_data_salt salt;
    struct mlpio_data_rank_key key;
    mlpio_data_salt_from_seed(7, &salt);
    mlpio_data_rank_key(&salt, 0, &key);
    mlpio_data_object_init(&obj, &key, "parquet");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_text),
        cmocka_unit_test(test_columns_round_trip),
        cmocka_unit_test(test_crafted_footers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
