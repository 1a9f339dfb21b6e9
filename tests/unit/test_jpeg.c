/* Unit tests of the jpeg dataset format: the encoding is deterministic and the same through
 * write and compose, the reader hands out the whole file and finds its shape, and the marker
 * parser names the offset and the fault of crafted damaged or foreign files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/datagen.h"
#include "io/format.h"
#include "io/io.h"
#include "support/files.h"
#include "support/io_checks.h"

#define BUFLEN ((size_t)64 << 10)

struct fixture {
    char dir[PATH_MAX];
    char path[PATH_MAX + 16];
    struct mlpio_data_object obj;
};

static void content(void *arg, void *buf, size_t len, uint64_t off)
{
    mlpio_data_fill(arg, off, buf, len);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    scratch_make_or_fail(fx->dir, sizeof(fx->dir), false, "mlpio-test-jpeg");
    snprintf(fx->path, sizeof(fx->path), "%s/img.jpeg", fx->dir);
    object_for(7, 1, "jpeg", &fx->obj);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    return scratch_free(fx, fx->dir);
}

/* Bytes handed out by the reader: they must be the file's, in order. */
struct seen {
    const uint8_t *file;
    uint64_t len, next;
    bool bad;
};

static int on_sample(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                     struct mlpio_error *err)
{
    struct seen *s = arg;
    (void)err;
    if (index != 0 || offset != s->next || offset + len > s->len ||
        memcmp(s->file + offset, bytes, len) != 0)
        s->bad = true;
    s->next = offset + len;
    return 0;
}

static uint8_t *encode(struct fixture *fx, uint64_t d1, uint64_t d2, uint64_t *len)
{
    struct mlpio_format_shape shape = {d1, d2, 1};
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    struct mlpio_io_options opts = {0};
    void *buf = mlpio_io_buffer_alloc(BUFLEN);
    assert_non_null(buf);
    ASSERT_OK(mlpio_io_open(&mlpio_io_posix, fx->path, MLPIO_IO_WRITE, &opts, &f, &err), &err);
    ASSERT_OK(
        mlpio_format_write(&mlpio_format_jpeg, f, &shape, content, &fx->obj, buf, BUFLEN, &err),
        &err);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    mlpio_io_buffer_free(buf);
    FILE *in = fopen(fx->path, "rb");
    assert_non_null(in);
    struct stat st;
    assert_int_equal(stat(fx->path, &st), 0);
    *len = (uint64_t)st.st_size;
    uint8_t *data = malloc(*len);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, *len, in), *len);
    fclose(in);
    return data;
}

static void put_file(const char *path, const uint8_t *data, size_t len)
{
    FILE *out = fopen(path, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(data, 1, len, out), len);
    fclose(out);
}

/* Read data as a file through a buffer of buflen bytes; the error message, or "" on success. */
static int parse(struct fixture *fx, const uint8_t *data, size_t len, size_t buflen,
                 struct mlpio_format_shape *shape, struct mlpio_error *err)
{
    put_file(fx->path, data, len);
    struct mlpio_io_file *f = NULL;
    struct mlpio_io_options opts = {0};
    struct seen s = {.file = data, .len = len};
    void *buf = mlpio_io_buffer_alloc(buflen);
    assert_non_null(buf);
    ASSERT_OK(mlpio_io_open(&mlpio_io_posix, fx->path, MLPIO_IO_READ, &opts, &f, err), err);
    int rc = mlpio_format_jpeg.read(f, len, buf, buflen, shape, on_sample, &s, err);
    mlpio_io_close(&f, NULL);
    mlpio_io_buffer_free(buf);
    assert_false(s.bad);
    if (rc == 0)
        assert_int_equal(s.next, len); /* every byte handed out */
    return rc;
}

static void *put_piece(void *arg, void *buf, size_t len, uint64_t off, struct mlpio_error *err)
{
    struct seen *s = arg;
    (void)err;
    if (off != s->next || off + len > s->len || memcmp(s->file + off, buf, len) != 0)
        s->bad = true;
    s->next = off + len;
    return buf;
}

static void test_deterministic(void **state)
{
    struct fixture *fx = *state;
    uint64_t a_len, b_len;
    uint8_t *a = encode(fx, 300, 211, &a_len);
    uint8_t *b = encode(fx, 300, 211, &b_len);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    assert_int_equal(mlpio_format_jpeg.file_bytes(&(struct mlpio_format_shape){300, 211, 1}), 0);
    assert_true(mlpio_format_jpeg.encoded);
    /* compose gives the bytes that write wrote, in order */
    struct seen s = {.file = a, .len = a_len};
    struct mlpio_format_sink sink = {.put = put_piece, .arg = &s};
    struct mlpio_error err = {0};
    void *buf = mlpio_io_buffer_alloc(BUFLEN);
    ASSERT_OK(mlpio_format_jpeg.compose("x", &(struct mlpio_format_shape){300, 211, 1}, content,
                                        &fx->obj, buf, BUFLEN, &sink, &err),
              &err);
    mlpio_io_buffer_free(buf);
    assert_false(s.bad);
    assert_int_equal(s.next, a_len);
    /* another object: another image */
    object_for(7, 2, "jpeg", &fx->obj);
    uint8_t *c = encode(fx, 300, 211, &b_len);
    assert_true(b_len != a_len || memcmp(a, c, a_len) != 0);
    free(a);
    free(b);
    free(c);
}

/* Through buffers small and large the reader finds the shape and hands out the whole file. */
static void test_read_shape(void **state)
{
    struct fixture *fx = *state;
    uint64_t len;
    uint8_t *data = encode(fx, 300, 211, &len);
    size_t buflens[] = {8192, 12288, BUFLEN, (size_t)1 << 20};
    for (size_t i = 0; i < sizeof(buflens) / sizeof(buflens[0]); i++) {
        struct mlpio_format_shape got = {0};
        struct mlpio_error err = {0};
        ASSERT_OK(parse(fx, data, len, buflens[i], &got, &err), &err);
        assert_int_equal(got.d1, 300);
        assert_int_equal(got.d2, 211);
        assert_int_equal(got.samples, 1);
    }
    free(data);
}

static void test_refuses_bad_shapes(void **state)
{
    struct fixture *fx = *state;
    struct mlpio_error err = {0};
    void *buf = mlpio_io_buffer_alloc(BUFLEN);
    struct seen s = {0};
    struct mlpio_format_sink sink = {.put = put_piece, .arg = &s};
    assert_int_equal(mlpio_format_jpeg.compose("f", &(struct mlpio_format_shape){8, 8, 2}, content,
                                               &fx->obj, buf, BUFLEN, &sink, &err),
                     -1);
    assert_non_null(strstr(err.message, "a JPEG holds one image"));
    memset(&err, 0, sizeof(err));
    assert_int_equal(mlpio_format_jpeg.compose("f", &(struct mlpio_format_shape){70000, 8, 1},
                                               content, &fx->obj, buf, BUFLEN, &sink, &err),
                     -1);
    assert_non_null(strstr(err.message, "JPEG sides are 1 to 65500"));
    mlpio_io_buffer_free(buf);
}

/* Crafted files: an edit of a valid one, and what the error must say. */
struct damage {
    const char *name;
    void (*edit)(uint8_t *d, size_t *len, size_t sof, size_t sos);
    const char *says;
};

static void no_soi(uint8_t *d, size_t *len, size_t sof, size_t sos)
{
    (void)len, (void)sof, (void)sos;
    d[1] = 0xd9;
}

static void colour(uint8_t *d, size_t *len, size_t sof, size_t sos)
{
    /* three components in a segment of the right length for them */
    (void)sos;
    size_t seg = 2 + 6 + 9, end = sof + 2 + 2 + 6 + 3; /* the segment for one component */
    memmove(d + sof + 2 + seg, d + end, *len - end);
    *len += sof + 2 + seg - end;
    d[sof + 2] = 0;
    d[sof + 3] = (uint8_t)seg;
    d[sof + 9] = 3;
}

static void twelve_bit(uint8_t *d, size_t *len, size_t sof, size_t sos)
{
    (void)len, (void)sos;
    d[sof + 4] = 12;
}

static void progressive(uint8_t *d, size_t *len, size_t sof, size_t sos)
{
    (void)len, (void)sos;
    d[sof + 1] = 0xc2;
}

static void marker_in_data(uint8_t *d, size_t *len, size_t sof, size_t sos)
{
    (void)sof;
    size_t at = sos + (*len - sos) / 2;
    d[at] = 0xff;
    d[at + 1] = 0xc4;
}

static void no_eoi(uint8_t *d, size_t *len, size_t sof, size_t sos)
{
    (void)d, (void)sof, (void)sos;
    *len -= 2;
}

static void trailing(uint8_t *d, size_t *len, size_t sof, size_t sos)
{
    (void)sof, (void)sos;
    memcpy(d + *len, "junk", 4);
    *len += 4;
}

static void short_segment(uint8_t *d, size_t *len, size_t sof, size_t sos)
{
    (void)len, (void)sos;
    d[sof + 2] = 0;
    d[sof + 3] = 1;
}

static void long_segment(uint8_t *d, size_t *len, size_t sof, size_t sos)
{
    (void)sof, (void)sos;
    /* the APP0 after SOI claims more bytes than the file has */
    d[4] = 0xff;
    d[5] = 0xff;
    *len = 200;
}

static void sos_first(uint8_t *d, size_t *len, size_t sof, size_t sos)
{
    (void)len, (void)sos;
    d[sof + 1] = 0xfe; /* SOF0 becomes a comment: SOS comes without a frame */
}

static const struct damage damages[] = {
    {"no SOI", no_soi, "offset 0: not a JPEG"},
    {"colour", colour, "3 components (colour)"},
    {"12-bit", twelve_bit, "12-bit samples"},
    {"progressive", progressive, "a progressive JPEG (SOF2)"},
    {"marker in data", marker_in_data, "marker 0xFFC4 in the entropy-coded data"},
    {"no EOI", no_eoi, "without EOI"},
    {"trailing", trailing, "4 bytes after the EOI marker"},
    {"short segment", short_segment, "has length 1"},
    {"long segment", long_segment, "runs past the end of the file"},
    {"SOS first", sos_first, "SOS before any SOF0"},
};

/* Offset of the first marker m after the SOI. */
static size_t find_marker(const uint8_t *d, size_t len, uint8_t m)
{
    for (size_t i = 2; i + 3 < len;) {
        assert_int_equal(d[i], 0xff);
        if (d[i + 1] == m)
            return i;
        i += 2 + ((size_t)d[i + 2] << 8 | d[i + 3]);
    }
    fail_msg("marker 0xFF%02X not found", m);
    return 0;
}

static void test_damage(void **state)
{
    struct fixture *fx = *state;
    uint64_t len0;
    uint8_t *good = encode(fx, 64, 80, &len0);
    size_t sof = find_marker(good, len0, 0xc0), sos = find_marker(good, len0, 0xda);
    uint8_t *d = malloc(len0 + 64);
    assert_non_null(d);
    for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
        size_t len = len0;
        memcpy(d, good, len0);
        damages[i].edit(d, &len, sof, sos);
        struct mlpio_format_shape got;
        struct mlpio_error err = {0};
        if (parse(fx, d, len, 8192, &got, &err) == 0)
            fail_msg("%s: accepted", damages[i].name);
        assert_int_equal(err.category, MLPIO_ERR_IO);
        if (!strstr(err.message, fx->path) || !strstr(err.message, "offset") ||
            !strstr(err.message, damages[i].says))
            fail_msg("%s: '%s' does not name the file, an offset and '%s'", damages[i].name,
                     err.message, damages[i].says);
    }
    free(d);
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
