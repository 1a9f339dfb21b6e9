/* Unit tests of the dataset formats: round trips through the posix backend (buffered and
 * O_DIRECT) for several shapes and buffer sizes, exact file sizes, sample bytes and offsets,
 * the errors a damaged or truncated file gives, a zip64 npz above 4 GiB, and composition
 * apart from writing (the same pieces, handed over in alternating buffers).
 *
 * MLPIO_FORMATS_KEEP=DIR keeps a copy of every round-trip file in DIR, for the independent
 * readers of tests/e2e/check_formats.py. MLPIO_FORMATS_BENCH=DIR times writes and reads of
 * workload-sized files in DIR (a tmpfs such as /dev/shm measures the format layer, not a disk).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app/datagen.h"
#include "io/crc32c.h"
#include "io/format.h"
#include "io/io.h"
#include "support/files.h"
#include "support/io_checks.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

struct shape_case {
    const char *name;
    uint64_t d1, d2;
    uint32_t samples;
    size_t buflen;
    bool odirect;
    bool pieces; /* a sample is larger than the read buffer's span: delivered in pieces */
};

static const struct shape_case shapes[] = {
    {"one_1x1", 1, 1, 1, 64 * KIB, false, false},
    {"three_17x33", 17, 33, 3, 64 * KIB, false, false},
    /* 30007 bytes: not a multiple of 4096, and samples straddle buffer fills. */
    {"five_unaligned", 37, 811, 5, 64 * KIB, false, false},
    {"five_unaligned_odirect", 37, 811, 5, 64 * KIB, true, false},
    {"big_sample", 300, 301, 3, 64 * KIB, false, true},
    {"big_sample_odirect", 300, 301, 3, 64 * KIB, true, true},
    {"many_small", 13, 29, 700, 64 * KIB + 100, false, false},
    {"large_buffer", 509, 257, 9, 4 * MIB, false, false},
};

struct format_case {
    const struct mlpio_format *format;
    const struct shape_case *shape;
};

struct fixture {
    char dir[PATH_MAX];
    struct mlpio_data_object obj;
    const struct format_case *c;
};

static void content(void *arg, void *buf, size_t len, uint64_t off)
{
    mlpio_data_fill(arg, off, buf, len);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fx->c = *state;
    bool odirect = fx->c && fx->c->shape->odirect;
    scratch_make_or_fail(fx->dir, sizeof(fx->dir), odirect, "mlpio-test-formats");
    object_for(42, 3, "formats", &fx->obj);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    return scratch_free(fx, fx->dir);
}

/* Format a path into out (PATH_MAX bytes); one that does not fit fails the test. */
MLPIO_PRINTF(2, 3)
static void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && n < PATH_MAX);
}

static struct mlpio_format_shape shape_of(const struct shape_case *s)
{
    return (struct mlpio_format_shape){.d1 = s->d1, .d2 = s->d2, .samples = s->samples};
}

static void write_file(const struct mlpio_format *fmt, const char *path,
                       const struct mlpio_format_shape *shape, struct mlpio_data_object *obj,
                       size_t buflen, bool odirect)
{
    struct mlpio_error err = {0};
    struct mlpio_io_file *f = NULL;
    struct mlpio_io_options opts = {.odirect = odirect};
    void *buf = mlpio_io_buffer_alloc(buflen);
    assert_non_null(buf);
    ASSERT_OK(mlpio_io_open(&mlpio_io_posix, path, MLPIO_IO_WRITE, &opts, &f, &err), &err);
    ASSERT_OK(mlpio_format_write(fmt, f, shape, content, obj, buf, buflen, &err), &err);
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    mlpio_io_buffer_free(buf);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static uint8_t *slurp(const char *path, uint64_t *len)
{
    *len = file_size(path);
    uint8_t *data = malloc(*len ? *len : 1);
    assert_non_null(data);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, data, *len, 0), (ssize_t)*len);
    close(fd);
    return data;
}

static void spill(const char *path, const uint8_t *data, uint64_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, 0), (ssize_t)len);
    close(fd);
}

/* What the reader handed out, checked against the file's bytes and the generator's. */
struct seen {
    const uint8_t *file;
    uint64_t file_len;
    const struct mlpio_data_object *obj;
    uint64_t sample;
    uint32_t index;   /* sample being delivered */
    uint64_t got;     /* its bytes so far */
    uint32_t samples; /* complete samples */
    unsigned calls;
    char why[256];
    int fail_at; /* >= 0: fail that call with MLPIO_ERR_VERIFY */
};

static int on_sample(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                     struct mlpio_error *err)
{
    struct seen *s = arg;
    uint64_t bad;
    if (s->fail_at >= 0 && s->calls == (unsigned)s->fail_at)
        return mlpio_error_set(err, MLPIO_ERR_VERIFY, "stop at call %u", s->calls);
    s->calls++;
    if (s->why[0])
        return 0;
    if (s->got == s->sample && index == s->index + 1) {
        s->index = index;
        s->got = 0;
    }
    if (index != s->index || len == 0 || len > s->sample - s->got)
        snprintf(s->why, sizeof(s->why),
                 "call %u: sample %u, %zu bytes after %" PRIu64 " of sample %u", s->calls, index,
                 len, s->got, s->index);
    else if (offset > s->file_len || len > s->file_len - offset ||
             memcmp(s->file + offset, bytes, len) != 0)
        snprintf(s->why, sizeof(s->why), "sample %u: bytes differ from the file at offset %" PRIu64,
                 index, offset);
    else if (mlpio_data_verify(s->obj, index * s->sample + s->got, bytes, len, &bad) != 0)
        snprintf(s->why, sizeof(s->why), "sample %u: generator bytes differ at %" PRIu64, index,
                 bad);
    s->got += len;
    if (s->got == s->sample)
        s->samples++;
    return 0;
}

static int read_file(const struct mlpio_format *fmt, const char *path, uint64_t size, size_t buflen,
                     bool odirect, struct mlpio_format_shape *shape, mlpio_format_sample_fn fn,
                     void *arg, struct mlpio_error *err)
{
    struct mlpio_io_file *f = NULL;
    struct mlpio_io_options opts = {.odirect = odirect};
    void *buf = mlpio_io_buffer_alloc(buflen);
    assert_non_null(buf);
    ASSERT_OK(mlpio_io_open(&mlpio_io_posix, path, MLPIO_IO_READ, &opts, &f, err), err);
    int rc = fmt->read(f, size, buf, buflen, shape, fn, arg, err);
    struct mlpio_error cerr;
    ASSERT_OK(mlpio_io_close(&f, &cerr), &cerr);
    mlpio_io_buffer_free(buf);
    return rc;
}

static void case_path(char *out, const char *dir, const struct format_case *c)
{
    pathf(out, "%s/%s_%s_%" PRIu64 "x%" PRIu64 "x%" PRIu32 ".%s", dir, c->format->name,
          c->shape->name, c->shape->d1, c->shape->d2, c->shape->samples, c->format->ext);
}

static void test_round_trip(void **state)
{
    struct fixture *fx = *state;
    const struct format_case *c = fx->c;
    const struct shape_case *sc = c->shape;
    struct mlpio_format_shape shape = shape_of(sc), got = {0};
    struct mlpio_error err = {0};
    char path[PATH_MAX];
    uint64_t len;

    case_path(path, fx->dir, c);
    write_file(c->format, path, &shape, &fx->obj, sc->buflen, sc->odirect);
    assert_int_equal(file_size(path), c->format->file_bytes(&shape));

    uint8_t *data = slurp(path, &len);
    struct seen s = {
        .file = data, .file_len = len, .obj = &fx->obj, .sample = sc->d1 * sc->d2, .fail_at = -1};
    ASSERT_OK(read_file(c->format, path, len, sc->buflen, sc->odirect, &got, on_sample, &s, &err),
              &err);
    if (s.why[0])
        fail_msg("%s", s.why);
    assert_int_equal(s.samples, sc->samples);
    if (sc->pieces)
        assert_true(s.calls > sc->samples);
    else
        assert_int_equal(s.calls, sc->samples);
    assert_int_equal(got.samples, sc->samples);
    if (c->format == &mlpio_format_npz) {
        assert_int_equal(got.d1, sc->d1);
        assert_int_equal(got.d2, sc->d2);
    } else {
        assert_int_equal(got.d1 * got.d2, sc->d1 * sc->d2);
    }

    /* Written twice, a file is the same bytes (the zip headers hold no time stamps). */
    write_file(c->format, path, &shape, &fx->obj, 2 * sc->buflen + 4096, false);
    uint64_t len2;
    uint8_t *again = slurp(path, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(again, data, len);
    free(again);

    const char *keep = getenv("MLPIO_FORMATS_KEEP");
    if (keep && *keep) {
        char kept[PATH_MAX];
        case_path(kept, keep, c);
        spill(kept, data, len);
    }
    free(data);
}

/* compose: the pieces a format hands to its sink, collected against the file write writes. The
 * sink gives back the other of two buffers each time, as a writer one buffer behind does, and
 * checks that a buffer handed over is left alone until the sink returns it again. */
struct pieces {
    uint8_t *image;
    uint64_t len;
    void *buf[2];
    size_t buflen;
    int next;        /* the buffer put returns next */
    uint8_t *handed; /* copy of the buffer handed over last */
    const void *handed_at;
    size_t handed_len;
    unsigned puts;
    int fail_at; /* >= 0: that put fails */
    char why[256];
};

static void *put_piece(void *arg, void *buf, size_t len, uint64_t off, struct mlpio_error *err)
{
    struct pieces *pc = arg;
    if (pc->fail_at >= 0 && pc->puts == (unsigned)pc->fail_at) {
        mlpio_error_set(err, MLPIO_ERR_IO, "no space left at put %u", pc->puts);
        return NULL;
    }
    pc->puts++;
    if (pc->why[0])
        return buf;
    if (buf != pc->buf[1 - pc->next])
        snprintf(pc->why, sizeof(pc->why), "put %u: piece not in the buffer given last", pc->puts);
    else if (len == 0 || len > pc->buflen || off > pc->len || len > pc->len - off)
        snprintf(pc->why, sizeof(pc->why), "put %u: %zu bytes at offset %" PRIu64, pc->puts, len,
                 off);
    else if (pc->handed_at && memcmp(pc->handed_at, pc->handed, pc->handed_len) != 0)
        snprintf(pc->why, sizeof(pc->why), "put %u: the previous piece changed after put",
                 pc->puts);
    if (pc->why[0])
        return buf;
    memcpy(pc->image + off, buf, len);
    memcpy(pc->handed, buf, len);
    pc->handed_at = buf;
    pc->handed_len = len;
    void *next = pc->buf[pc->next];
    pc->next = 1 - pc->next;
    return next;
}

static void test_compose(void **state)
{
    struct fixture *fx = *state;
    const struct mlpio_format *const *fmt;
    for (fmt = mlpio_formats(); *fmt; fmt++) {
        if ((*fmt)->encoded) /* one image per file, coded: tests/unit/test_jpeg.c */
            continue;
        if (!(*fmt)->compose)
            continue;
        for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
            const struct shape_case *sc = &shapes[i];
            struct mlpio_format_shape shape = shape_of(sc);
            struct mlpio_error err = {0};
            char path[PATH_MAX];
            uint64_t len;
            pathf(path, "%s/compose_%s.%s", fx->dir, sc->name, (*fmt)->ext);
            write_file(*fmt, path, &shape, &fx->obj, sc->buflen, false);
            uint8_t *data = slurp(path, &len);
            struct pieces pc = {.len = len, .buflen = sc->buflen, .next = 1, .fail_at = -1};
            pc.image = calloc(1, len);
            pc.handed = malloc(sc->buflen);
            pc.buf[0] = mlpio_io_buffer_alloc(sc->buflen);
            pc.buf[1] = mlpio_io_buffer_alloc(sc->buflen);
            assert_true(pc.image && pc.handed && pc.buf[0] && pc.buf[1]);
            struct mlpio_format_sink sink = {put_piece, &pc};
            ASSERT_OK((*fmt)->compose(path, &shape, content, &fx->obj, pc.buf[0], sc->buflen, &sink,
                                      &err),
                      &err);
            if (pc.why[0])
                fail_msg("%s %s: %s", (*fmt)->name, sc->name, pc.why);
            assert_memory_equal(pc.image, data, len);

            /* A sink's error stops the composition at once and comes back unchanged. */
            unsigned all = pc.puts;
            pc.puts = 0;
            pc.fail_at = (int)(all / 2);
            pc.next = 1;
            pc.handed_at = NULL;
            assert_int_equal((*fmt)->compose(path, &shape, content, &fx->obj, pc.buf[0], sc->buflen,
                                             &sink, &err),
                             -1);
            assert_int_equal(err.category, MLPIO_ERR_IO);
            assert_int_equal(pc.puts, all / 2);
            char says[64];
            snprintf(says, sizeof(says), "no space left at put %u", all / 2);
            assert_string_equal(err.message, says);
            mlpio_io_buffer_free(pc.buf[0]);
            mlpio_io_buffer_free(pc.buf[1]);
            free(pc.handed);
            free(pc.image);
            free(data);
        }
    }
}

/* A callback's error stops the read and comes back unchanged. */
static void test_callback_stops(void **state)
{
    struct fixture *fx = *state;
    const struct mlpio_format *const *fmt;
    for (fmt = mlpio_formats(); *fmt; fmt++) {
        if ((*fmt)->encoded) /* one image per file, coded: tests/unit/test_jpeg.c */
            continue;
        struct mlpio_format_shape shape = {.d1 = 10, .d2 = 10, .samples = 4}, got;
        struct mlpio_error err = {0};
        char path[PATH_MAX];
        uint64_t len;
        pathf(path, "%s/stop.%s", fx->dir, (*fmt)->ext);
        write_file(*fmt, path, &shape, &fx->obj, 64 * KIB, false);
        uint8_t *data = slurp(path, &len);
        struct seen s = {
            .file = data, .file_len = len, .obj = &fx->obj, .sample = 100, .fail_at = 2};
        assert_int_equal(read_file(*fmt, path, len, 64 * KIB, false, &got, on_sample, &s, &err),
                         -1);
        assert_int_equal(err.category, MLPIO_ERR_VERIFY);
        assert_string_equal(err.message, "stop at call 2");
        assert_int_equal(s.calls, 2);
        free(data);
    }
}

/* Damage to a file: where, how, and what the error must say. */
enum damage { FLIP, TRUNCATE, RECRC };

struct damage_case {
    const char *name;
    const struct mlpio_format *format;
    uint64_t d1, d2;
    uint32_t samples;
    enum damage how;
    const char *find;    /* pos counts from the first match of this (NULL: from the start) */
    int64_t pos;         /* byte to flip / length to keep; negative: from the end */
    uint8_t flip;        /* bits to flip */
    const char *says;    /* substring of the message */
    int64_t says_offset; /* the message names this offset (-1: not checked) */
};

#define NPZ (&mlpio_format_npz)
#define TFR (&mlpio_format_tfrecord)

static const struct damage_case damages[] = {
    {"npz_local_header", NPZ, 17, 33, 3, FLIP, NULL, 0, 0x01, "local file header", 0},
    {"npz_npy_magic", NPZ, 17, 33, 3, FLIP, NULL, 36, 0x20, "NPY magic", 35},
    {"npz_descr", NPZ, 17, 33, 3, FLIP, "'|u", 3, 0x03, "dtype '|u2'", 35},
    {"npz_shape", NPZ, 17, 33, 3, FLIP, "(17, 33, ", 1, 0x01, "needs", 35},
    {"npz_payload", NPZ, 17, 33, 3, FLIP, NULL, 600, 0x80, "CRC-32", 35},
    {"npz_payload_big", NPZ, 300, 301, 3, FLIP, NULL, 200000, 0x80, "CRC-32", 35},
    {"npz_labels", NPZ, 17, 33, 3, FLIP, NULL, -140, 0x01, "CRC-32", -1},
    {"npz_central", NPZ, 17, 33, 3, FLIP, NULL, -78, 0x01, "central directory", -1},
    {"npz_end", NPZ, 17, 33, 3, FLIP, NULL, -12, 0x01, "end record", -1},
    {"npz_truncated_end", NPZ, 17, 33, 3, TRUNCATE, NULL, -1, 0, "truncated", -1},
    {"npz_truncated_payload", NPZ, 17, 33, 3, TRUNCATE, NULL, 1000, 0, "truncated", -1},
    {"npz_truncated_header", NPZ, 17, 33, 3, TRUNCATE, NULL, 20, 0, "truncated", 0},
    {"tfr_length", TFR, 17, 33, 3, FLIP, NULL, 0, 0x01, "record length", 8},
    {"tfr_length_crc", TFR, 17, 33, 3, FLIP, NULL, 9, 0x01, "record length", 8},
    {"tfr_image", TFR, 17, 33, 3, FLIP, NULL, 100, 0x10, "record data", -1},
    {"tfr_data_crc", TFR, 17, 33, 3, FLIP, NULL, -2, 0x01, "record data", -1},
    {"tfr_image_big", TFR, 300, 301, 3, FLIP, NULL, 200000, 0x10, "record data", -1},
    {"tfr_data_crc_big", TFR, 300, 301, 3, FLIP, NULL, -1, 0x01, "record data", -1},
    {"tfr_truncated_record", TFR, 17, 33, 3, TRUNCATE, NULL, -10, 0, "truncated", -1},
    /* Record 0 is 615 bytes (12 + 599 + 4): keep 5 bytes of record 1's header. */
    {"tfr_truncated_header", TFR, 17, 33, 3, TRUNCATE, NULL, 620, 0, "truncated record header",
     615},
    {"tfr_truncated_big", TFR, 300, 301, 3, TRUNCATE, NULL, 250000, 0, "truncated", -1},
    /* Framing intact (CRC recomputed), protobuf wrong. */
    {"tfr_bad_tag", TFR, 17, 33, 3, RECRC, NULL, 12, 0x01, "malformed protobuf tag", 12},
    {"tfr_size_value", TFR, 17, 33, 3, RECRC, "size", 10, 0x01, "feature \"size\" is 560", 12},
    {"tfr_no_image", TFR, 17, 33, 3, RECRC, "image", 0, 0x20, "no \"image\" feature", 12},
    {"tfr_length_overrun", TFR, 17, 33, 3, RECRC, NULL, 13, 0x7f, "runs past", -1},
};

static void damage_file(const struct damage_case *d, const char *path)
{
    uint64_t len;
    uint8_t *data = slurp(path, &len);
    uint64_t at = d->pos < 0 ? len - (uint64_t)(-d->pos) : (uint64_t)d->pos;
    if (d->how == TRUNCATE) {
        assert_int_equal(truncate(path, (off_t)at), 0);
        free(data);
        return;
    }
    if (d->find) {
        uint8_t *hit = memmem(data, len, d->find, strlen(d->find));
        assert_non_null(hit);
        at += (uint64_t)(hit - data);
    }
    assert_true(at < len);
    data[at] ^= d->flip;
    if (d->how == RECRC) {
        /* Record 0's data CRC, so that only the protobuf is wrong. */
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--)
            n = n << 8 | data[i];
        assert_true(12 + n + 4 <= len);
        uint32_t crc = mlpio_crc32c_mask(mlpio_crc32c(0, data + 12, n));
        for (int i = 0; i < 4; i++)
            data[12 + n + (uint64_t)i] = (uint8_t)(crc >> (8 * i));
    }
    spill(path, data, len);
    free(data);
}

static void test_damage(void **state)
{
    struct fixture *fx = *state;
    for (size_t i = 0; i < sizeof(damages) / sizeof(damages[0]); i++) {
        const struct damage_case *d = &damages[i];
        struct mlpio_format_shape shape = {.d1 = d->d1, .d2 = d->d2, .samples = d->samples}, got;
        struct mlpio_error err = {0};
        char path[PATH_MAX];
        pathf(path, "%s/%s.%s", fx->dir, d->name, d->format->ext);
        write_file(d->format, path, &shape, &fx->obj, 64 * KIB, false);
        damage_file(d, path);
        uint64_t len = file_size(path);
        struct seen s = {.obj = &fx->obj, .sample = d->d1 * d->d2, .fail_at = -1};
        uint8_t *data = slurp(path, &s.file_len);
        s.file = data;
        int rc = read_file(d->format, path, len, 64 * KIB, false, &got, on_sample, &s, &err);
        free(data);
        if (rc == 0)
            fail_msg("%s: damaged file read without error", d->name);
        if (err.category != MLPIO_ERR_IO || !strstr(err.message, path) ||
            !strstr(err.message, "offset") || !strstr(err.message, d->says))
            fail_msg("%s: error (%s) \"%s\" does not name the path, an offset and \"%s\"", d->name,
                     mlpio_errcat_name(err.category), err.message, d->says);
        char off[48];
        snprintf(off, sizeof(off), "offset %" PRId64, d->says_offset);
        if (d->says_offset >= 0 && !strstr(err.message, off))
            fail_msg("%s: \"%s\" does not name %s", d->name, err.message, off);
    }
}

/* The caller's file size is larger than the file: the backend's short read is the error. */
static void test_short_file(void **state)
{
    struct fixture *fx = *state;
    const struct mlpio_format *const *fmt;
    for (fmt = mlpio_formats(); *fmt; fmt++) {
        if ((*fmt)->encoded) /* one image per file, coded: tests/unit/test_jpeg.c */
            continue;
        struct mlpio_format_shape shape = {.d1 = 17, .d2 = 33, .samples = 3}, got;
        struct mlpio_error err = {0};
        struct seen s = {.obj = &fx->obj, .sample = 17 * 33, .fail_at = -1};
        char path[PATH_MAX];
        pathf(path, "%s/short.%s", fx->dir, (*fmt)->ext);
        write_file(*fmt, path, &shape, &fx->obj, 64 * KIB, false);
        uint64_t len = file_size(path);
        assert_int_equal(truncate(path, (off_t)(len / 2)), 0);
        s.file = slurp(path, &s.file_len);
        assert_int_equal(read_file(*fmt, path, len, 64 * KIB, false, &got, on_sample, &s, &err),
                         -1);
        assert_int_equal(err.category, MLPIO_ERR_IO);
        assert_non_null(strstr(err.message, path));
        free((void *)s.file);
    }
}

static void test_registry(void **state)
{
    const struct mlpio_format *const *all = mlpio_formats();
    bool npz = false, tfr = false;
    size_t n = 0;
    for (; all[n]; n++) {
        assert_ptr_equal(mlpio_format_find(all[n]->name), all[n]);
        assert_non_null(all[n]->ext);
        npz = npz || all[n] == &mlpio_format_npz;
        tfr = tfr || all[n] == &mlpio_format_tfrecord;
    }
    assert_true(npz && tfr);
    assert_string_equal(mlpio_format_npz.ext, "npz");
    assert_string_equal(mlpio_format_tfrecord.ext, "tfrecord");
    /* Both compose apart from writing, so that datagen composes them ahead of its writes. */
    assert_non_null(mlpio_format_npz.compose);
    assert_non_null(mlpio_format_tfrecord.compose);
    assert_null(mlpio_format_find("arrow"));
    assert_null(mlpio_format_find(NULL));
    /* Shapes that cannot exist have no size. */
    struct mlpio_format_shape zero = {.d1 = 0, .d2 = 5, .samples = 1};
    struct mlpio_format_shape huge = {.d1 = UINT64_MAX / 2, .d2 = 4, .samples = 1};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(all[i]->file_bytes(&zero), 0);
        assert_int_equal(all[i]->file_bytes(&huge), 0);
    }
}

/* Files written by numpy and by an independent tfrecord writer (tests/e2e/check_formats.py
 * write DIR), named <who>_<d1>x<d2>x<spf>.<ext>, whose sample byte k is k % 251. */
struct foreign_check {
    uint64_t sample, got, bytes;
    uint32_t index;
    bool bad;
};

static int on_foreign(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                      struct mlpio_error *err)
{
    struct foreign_check *c = arg;
    const uint8_t *p = bytes;
    if (index != c->index) {
        c->bad = c->bad || c->got != c->sample || index != c->index + 1;
        c->index = index;
        c->got = 0;
    }
    for (size_t i = 0; i < len; i++)
        c->bad = c->bad || p[i] != (index * c->sample + c->got + i) % 251;
    c->got += len;
    c->bytes += len;
    return 0;
}

static void test_foreign(void **state)
{
    const char *dir = getenv("MLPIO_FORMATS_FOREIGN");
    if (!dir || !*dir)
        skip();
    DIR *d = opendir(dir);
    assert_non_null(d);
    unsigned files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *us = strrchr(e->d_name, '_'), *dot = strrchr(e->d_name, '.');
        uint64_t d1, d2;
        uint32_t spf;
        if (!us || !dot || sscanf(us, "_%" SCNu64 "x%" SCNu64 "x%" SCNu32, &d1, &d2, &spf) != 3)
            continue;
        const struct mlpio_format *fmt =
            mlpio_format_find(strcmp(dot, ".npz") ? "tfrecord" : "npz");
        char path[PATH_MAX];
        struct mlpio_format_shape got;
        struct mlpio_error err = {0};
        struct foreign_check c = {.sample = d1 * d2};
        pathf(path, "%s/%s", dir, e->d_name);
        if (read_file(fmt, path, file_size(path), 64 * KIB, false, &got, on_foreign, &c, &err))
            fail_msg("%s: %s", e->d_name, err.message);
        if (c.bad || c.bytes != d1 * d2 * spf || got.samples != spf || got.d1 * got.d2 != d1 * d2)
            fail_msg("%s: samples differ from the pattern", e->d_name);
        files++;
    }
    closedir(d);
    assert_true(files >= 2);
}

/* A backend that holds a file of any size in little memory: its first and last SPARSE_KEEP
 * bytes are stored; the bytes between are the npz payload, checked against the generator as
 * they are written and regenerated when read. */
#define SPARSE_KEEP (256 * KIB)

struct sparse {
    struct mlpio_io_file base;
    uint64_t size; /* the planned file size */
    const struct mlpio_data_object *obj;
    uint64_t payload_off; /* where generator byte 0 lands (from the stored headers) */
    uint64_t end;         /* highest byte written + 1 */
    bool mismatch;
    uint8_t head[SPARSE_KEEP], tail[SPARSE_KEEP];
};

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Split [off, off+len) into stored head, generated middle and stored tail. */
static void sparse_io(struct sparse *sp, uint8_t *buf, size_t len, uint64_t off, bool write)
{
    uint64_t tail_off = sp->size - SPARSE_KEEP;
    while (len > 0) {
        size_t n;
        if (off < SPARSE_KEEP || off >= tail_off) {
            uint8_t *store = off < SPARSE_KEEP ? sp->head + off : sp->tail + (off - tail_off);
            uint64_t limit = off < SPARSE_KEEP ? SPARSE_KEEP - off : sp->size - off;
            n = len < limit ? len : (size_t)limit;
            if (write)
                memcpy(store, buf, n);
            else
                memcpy(buf, store, n);
        } else {
            if (sp->payload_off == 0) {
                const uint8_t *h = sp->head;
                uint64_t npy = 30 + (uint64_t)le16(h + 26) + le16(h + 28);
                sp->payload_off = npy + 10 + le16(h + npy + 8);
            }
            n = len < tail_off - off ? len : (size_t)(tail_off - off);
            uint64_t bad;
            if (write && mlpio_data_verify(sp->obj, off - sp->payload_off, buf, n, &bad) != 0)
                sp->mismatch = true;
            if (!write)
                mlpio_data_fill(sp->obj, off - sp->payload_off, buf, n);
        }
        buf += n;
        off += n;
        len -= n;
    }
}

static int sparse_write_at(struct mlpio_io_file *f, const void *buf, size_t len, uint64_t off,
                           struct mlpio_error *err)
{
    struct sparse *sp = (struct sparse *)f;
    if (off > sp->size || len > sp->size - off)
        return mlpio_error_set(err, MLPIO_ERR_IO, "write past the planned size at %" PRIu64, off);
    sparse_io(sp, (uint8_t *)buf, len, off, true);
    if (off + len > sp->end)
        sp->end = off + len;
    return 0;
}

static int sparse_read_at(struct mlpio_io_file *f, void *buf, size_t len, uint64_t off,
                          struct mlpio_error *err)
{
    struct sparse *sp = (struct sparse *)f;
    if (off > sp->end || len > sp->end - off)
        return mlpio_error_set(err, MLPIO_ERR_IO, "read past the end at %" PRIu64, off);
    sparse_io(sp, buf, len, off, false);
    return 0;
}

static int sparse_close(struct mlpio_io_file *f, struct mlpio_error *err)
{
    mlpio_io_file_fini(f);
    return 0;
}

static const struct mlpio_io_backend sparse_backend = {
    .name = "sparse",
    .write_at = sparse_write_at,
    .read_at = sparse_read_at,
    .close = sparse_close,
};

struct stream_check {
    const struct mlpio_data_object *obj;
    uint64_t sample;
    uint64_t next_off, got;
    bool bad;
};

static int on_piece(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                    struct mlpio_error *err)
{
    struct stream_check *c = arg;
    uint64_t bad;
    if (index != 0 || (c->got > 0 && offset != c->next_off) ||
        mlpio_data_verify(c->obj, c->got, bytes, len, &bad) != 0)
        c->bad = true;
    c->next_off = offset + len;
    c->got += len;
    return 0;
}

/* An npz whose x member is above 4 GiB takes the zip64 records, and reads back. */
static void test_zip64(void **state)
{
    struct fixture *fx = *state;
    struct mlpio_format_shape shape = {.d1 = 65536, .d2 = 65537, .samples = 1}, got;
    uint64_t payload = shape.d1 * shape.d2;
    struct mlpio_error err = {0};
    struct sparse *sp = calloc(1, sizeof(*sp));
    assert_non_null(sp);
    sp->size = mlpio_format_npz.file_bytes(&shape);
    sp->obj = &fx->obj;
    assert_true(sp->size > payload && sp->size < payload + 4096);
    ASSERT_OK(
        mlpio_io_file_init(&sp->base, &sparse_backend, "sparse.npz", MLPIO_IO_WRITE, NULL, &err),
        &err);
    size_t buflen = 4 * MIB;
    void *buf = mlpio_io_buffer_alloc(buflen);
    assert_non_null(buf);
    ASSERT_OK(mlpio_format_write(&mlpio_format_npz, &sp->base, &shape, content, &fx->obj, buf,
                                 buflen, &err),
              &err);
    assert_int_equal(sp->end, sp->size);
    assert_false(sp->mismatch);

    /* Local header of x.npy: 32-bit sizes saturated, the real ones in the zip64 extra. */
    const uint8_t *h = sp->head;
    uint64_t member = payload + 128;
    assert_int_equal(le32(h), 0x04034b50);
    assert_int_equal(le16(h + 4), 45);
    assert_int_equal(le32(h + 18), 0xffffffffu);
    assert_int_equal(le32(h + 22), 0xffffffffu);
    assert_int_equal(le16(h + 28), 20);
    assert_int_equal(le16(h + 35), 1);
    assert_int_equal(le64(h + 39), member);
    assert_int_equal(le64(h + 47), member);
    /* End: record, locator pointing at the zip64 end record, which locates the directory. */
    const uint8_t *t = sp->tail + SPARSE_KEEP;
    assert_int_equal(le32(t - 22), 0x06054b50);
    assert_int_equal(le32(t - 22 + 16), 0xffffffffu);
    assert_int_equal(le32(t - 42), 0x07064b50);
    uint64_t rec = le64(t - 42 + 8);
    assert_int_equal(rec, sp->size - 42 - 56);
    const uint8_t *r = t - 42 - 56;
    assert_int_equal(le32(r), 0x06064b50);
    assert_int_equal(le64(r + 32), 2);
    assert_int_equal(le64(r + 48) + le64(r + 40), rec);
    assert_true(le64(r + 48) > 0xffffffffu);

    struct stream_check c = {.obj = &fx->obj};
    sp->base.mode = MLPIO_IO_READ;
    ASSERT_OK(mlpio_format_npz.read(&sp->base, sp->size, buf, buflen, &got, on_piece, &c, &err),
              &err);
    assert_false(c.bad);
    assert_int_equal(c.got, payload);
    assert_int_equal(got.d1, shape.d1);
    assert_int_equal(got.d2, shape.d2);
    assert_int_equal(got.samples, 1);
    struct mlpio_io_file *f = &sp->base;
    ASSERT_OK(mlpio_io_close(&f, &err), &err);
    mlpio_io_buffer_free(buf);
    free(sp);
}

/* Throughput of the formats on workload-sized files (figures only; nothing is asserted). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int count_only(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                      struct mlpio_error *err)
{
    *(uint64_t *)arg += len;
    return 0;
}

static int verify_sample(void *arg, uint32_t index, uint64_t offset, const void *bytes, size_t len,
                         struct mlpio_error *err)
{
    struct stream_check *c = arg;
    uint64_t bad;
    if (index != c->next_off) {
        c->next_off = index;
        c->got = 0;
    }
    if (mlpio_data_verify(c->obj, index * c->sample + c->got, bytes, len, &bad) != 0)
        c->bad = true;
    c->got += len;
    return 0;
}

enum bench_op { WRITE_NULL, WRITE_POSIX, READ, READ_VERIFY, PWRITE, PREAD, BENCH_OPS };

/* Seconds for one op on the file at path (best of three). */
static double bench_once(enum bench_op op, const struct mlpio_format *fmt,
                         const struct mlpio_format_shape *shape, struct mlpio_data_object *obj,
                         const char *path, void *buf, size_t buflen)
{
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        struct mlpio_error err = {0};
        struct mlpio_io_file *f = NULL;
        struct mlpio_format_shape got;
        uint64_t size = fmt->file_bytes(shape), n = 0;
        struct stream_check c = {
            .obj = obj, .sample = shape->d1 * shape->d2, .next_off = UINT64_MAX};
        int fd = -1;
        if (op == WRITE_NULL || op == WRITE_POSIX || op == READ || op == READ_VERIFY)
            ASSERT_OK(mlpio_io_open(op == WRITE_NULL ? &mlpio_io_null : &mlpio_io_posix, path,
                                    op <= WRITE_POSIX ? MLPIO_IO_WRITE : MLPIO_IO_READ, NULL, &f,
                                    &err),
                      &err);
        else
            assert_true((fd = open(path, op == PWRITE ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY,
                                   0644)) >= 0);
        double t = now();
        switch (op) {
        case WRITE_NULL:
        case WRITE_POSIX:
            ASSERT_OK(mlpio_format_write(fmt, f, shape, content, obj, buf, buflen, &err), &err);
            break;
        case READ:
            ASSERT_OK(fmt->read(f, size, buf, buflen, &got, count_only, &n, &err), &err);
            break;
        case READ_VERIFY:
            ASSERT_OK(fmt->read(f, size, buf, buflen, &got, verify_sample, &c, &err), &err);
            assert_false(c.bad);
            break;
        default:
            for (uint64_t off = 0; off < size; off += buflen) {
                size_t len = size - off < buflen ? (size_t)(size - off) : buflen;
                ssize_t r = op == PWRITE ? pwrite(fd, buf, len, (off_t)off)
                                         : pread(fd, buf, len, (off_t)off);
                assert_int_equal(r, (ssize_t)len);
            }
        }
        t = now() - t;
        if (f)
            ASSERT_OK(mlpio_io_close(&f, &err), &err);
        if (fd >= 0)
            close(fd);
        best = t < best ? t : best;
    }
    return best;
}

static void test_bench(void **state)
{
    struct fixture *fx = *state;
    const char *dir = getenv("MLPIO_FORMATS_BENCH");
    if (!dir || !*dir)
        skip();
    static const struct {
        const struct mlpio_format *fmt;
        struct mlpio_format_shape shape;
    } files[] = {
        {&mlpio_format_npz, {12108, 12108, 1}},     /* unet3d: 146.6 MB */
        {&mlpio_format_tfrecord, {338, 339, 1251}}, /* resnet50: 1251 x 114582 bytes */
    };
    static const size_t buflens[] = {256 * KIB, 4 * MIB, 16 * MIB};
    print_message("MB/s, best of 3: format write (null backend | posix) and read (count | "
                  "verify), next to plain pwrite and pread of as many bytes\n");
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        for (size_t b = 0; b < sizeof(buflens) / sizeof(buflens[0]); b++) {
            const struct mlpio_format *fmt = files[i].fmt;
            char path[PATH_MAX];
            double t[BENCH_OPS], mb = (double)fmt->file_bytes(&files[i].shape) / 1e6;
            void *buf = mlpio_io_buffer_alloc(buflens[b]);
            assert_non_null(buf);
            pathf(path, "%s/mlpio-bench.%s", dir, fmt->ext);
            for (int op = 0; op < BENCH_OPS; op++)
                t[op] = bench_once(op, fmt, &files[i].shape, &fx->obj, path, buf, buflens[b]);
            unlink(path);
            mlpio_io_buffer_free(buf);
            print_message("%-8s %6.1f MB buf %5zu KiB: write %6.0f | %5.0f (pwrite %5.0f)  read "
                          "%5.0f | %5.0f (pread %5.0f)\n",
                          fmt->name, mb, buflens[b] / KIB, mb / t[WRITE_NULL], mb / t[WRITE_POSIX],
                          mb / t[PWRITE], mb / t[READ], mb / t[READ_VERIFY], mb / t[PREAD]);
        }
    }
}

#define ROUND_TRIP(fmt, i)                                                                         \
    {                                                                                              \
        "round_trip_" #fmt "_" #i, test_round_trip, setup, teardown,                               \
            (void *)&(const struct format_case)                                                    \
        {                                                                                          \
            &mlpio_format_##fmt, &shapes[i]                                                        \
        }                                                                                          \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        ROUND_TRIP(npz, 0),
        ROUND_TRIP(npz, 1),
        ROUND_TRIP(npz, 2),
        ROUND_TRIP(npz, 3),
        ROUND_TRIP(npz, 4),
        ROUND_TRIP(npz, 5),
        ROUND_TRIP(npz, 6),
        ROUND_TRIP(npz, 7),
        ROUND_TRIP(tfrecord, 0),
        ROUND_TRIP(tfrecord, 1),
        ROUND_TRIP(tfrecord, 2),
        ROUND_TRIP(tfrecord, 3),
        ROUND_TRIP(tfrecord, 4),
        ROUND_TRIP(tfrecord, 5),
        ROUND_TRIP(tfrecord, 6),
        ROUND_TRIP(tfrecord, 7),
        cmocka_unit_test_setup_teardown(test_compose, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_file, setup, teardown),
        cmocka_unit_test(test_registry),
        cmocka_unit_test_setup_teardown(test_zip64, setup, teardown),
        cmocka_unit_test(test_foreign),
        cmocka_unit_test_setup_teardown(test_bench, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
