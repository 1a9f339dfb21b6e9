/* Prefill: chunks come in order with exactly the generator's bytes, whatever the chunk and
 * stream sizes; a stopped stream leaves the queue ready for the next one. Composed streams
 * (a dataset format composing files one ahead of the writer) give the bytes the format composes
 * on its own, a producer's error reaches finish(), and stop() or finish() never leave the
 * generator stuck on a slot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "app/prefill.h"
#include "io/io.h"
#include "support/io_checks.h"

/* Take a whole stream and check every chunk against a direct fill. */
static void take_all(struct mlpio_prefill *p, const struct mlpio_data_object *obj, uint64_t bytes,
                     size_t chunk)
{
    char *want = malloc(chunk);
    assert_non_null(want);
    uint64_t expect_off = 0, seen = 0;
    const void *buf;
    uint64_t off;
    size_t len;
    while ((buf = mlpio_prefill_next(p, &off, &len))) {
        assert_int_equal(off, expect_off);
        size_t want_len = bytes - off < chunk ? (size_t)(bytes - off) : chunk;
        assert_int_equal(len, want_len);
        mlpio_data_fill(obj, off, want, len);
        assert_memory_equal(buf, want, len);
        expect_off += len;
        seen += len;
    }
    assert_int_equal(seen, bytes);
    assert_null(mlpio_prefill_next(p, &off, &len)); /* stays exhausted */
    free(want);
}

static void test_streams(void **state)
{
    static const struct {
        size_t chunk;
        int depth;
        uint64_t bytes;
    } cases[] = {
        {65536, 2, 65536 * 5},       /* whole chunks */
        {65536, 2, 65536 * 5 + 123}, /* partial last chunk */
        {4096, 3, 1},                /* one byte */
        {4096, 2, 0},                /* empty stream */
        {1 << 20, 4, (1 << 20) * 3 + 4095},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mlpio_error err = {0};
        struct mlpio_prefill *p = mlpio_prefill_create(cases[i].chunk, cases[i].depth, &err);
        assert_non_null(p);
        struct mlpio_data_object a, b;
        object_for(11, 3, "a", &a);
        object_for(11, 3, "b", &b);
        mlpio_prefill_start(p, &a, cases[i].bytes);
        take_all(p, &a, cases[i].bytes, cases[i].chunk);
        /* A second stream on the same queue gets the second object's bytes. */
        mlpio_prefill_start(p, &b, cases[i].bytes);
        take_all(p, &b, cases[i].bytes, cases[i].chunk);
        mlpio_prefill_destroy(&p);
        assert_null(p);
    }
}

static void test_stop_mid_stream(void **state)
{
    struct mlpio_error err = {0};
    struct mlpio_prefill *p = mlpio_prefill_create(8192, 2, &err);
    assert_non_null(p);
    struct mlpio_data_object a, b;
    object_for(11, 3, "first", &a);
    object_for(11, 3, "second", &b);
    for (int round = 0; round < 50; round++) {
        mlpio_prefill_start(p, &a, 8192 * 100);
        uint64_t off;
        size_t len;
        for (int k = 0; k <= round % 5; k++)
            assert_non_null(mlpio_prefill_next(p, &off, &len));
        mlpio_prefill_stop(p);
        uint64_t off2;
        size_t len2;
        assert_null(mlpio_prefill_next(p, &off2, &len2)); /* nothing left after stop */
        mlpio_prefill_start(p, &b, 8192 * 3 + 7);
        take_all(p, &b, 8192 * 3 + 7, 8192);
    }
    mlpio_prefill_destroy(&p);
    mlpio_prefill_destroy(&p); /* NULL-safe */
    mlpio_prefill_destroy(NULL);
}

/* A file composed into memory: pieces land at their offsets. */
struct image {
    uint8_t *bytes;
    uint64_t len;
    size_t pieces;
};

static void image_put(struct image *im, const void *buf, size_t len, uint64_t off)
{
    assert_true(off + len <= im->len);
    memcpy(im->bytes + off, buf, len);
    im->pieces++;
}

static void *put_memory(void *arg, void *buf, size_t len, uint64_t off, struct mlpio_error *err)
{
    image_put(arg, buf, len, off);
    return buf;
}

static void content(void *arg, void *buf, size_t len, uint64_t off)
{
    mlpio_data_fill(arg, off, buf, len);
}

/* A file to compose: what the producer gets as its argument. */
struct job {
    const struct mlpio_format *format;
    struct mlpio_format_shape shape;
    struct mlpio_data_object obj;
    struct image direct; /* composed with one buffer, on the test's thread */
    struct image piped;  /* taken from the prefill queue */
};

static int compose_job(void *arg, void *buf, size_t buflen, const struct mlpio_format_sink *sink,
                       struct mlpio_error *err)
{
    struct job *j = arg;
    return j->format->compose("job", &j->shape, content, &j->obj, buf, buflen, sink, err);
}

static void job_init(struct job *j, const struct mlpio_format *format, uint64_t d1, uint64_t d2,
                     uint32_t samples, const char *name, size_t chunk)
{
    struct mlpio_error err = {0};
    memset(j, 0, sizeof(*j));
    j->format = format;
    j->shape = (struct mlpio_format_shape){d1, d2, samples};
    object_for(5, 1, name, &j->obj);
    j->direct.len = j->piped.len = format->file_bytes(&j->shape);
    j->direct.bytes = calloc(1, j->direct.len);
    j->piped.bytes = calloc(1, j->piped.len);
    assert_true(j->direct.bytes && j->piped.bytes);
    void *buf = mlpio_io_buffer_alloc(chunk);
    assert_non_null(buf);
    struct mlpio_format_sink sink = {put_memory, &j->direct};
    ASSERT_OK(format->compose("job", &j->shape, content, &j->obj, buf, chunk, &sink, &err), &err);
    mlpio_io_buffer_free(buf);
}

static void job_free(struct job *j)
{
    free(j->direct.bytes);
    free(j->piped.bytes);
}

/* Take the current stream whole into im and finish it. */
static void take_stream(struct mlpio_prefill *p, struct image *im)
{
    struct mlpio_error err = {0};
    const void *buf;
    uint64_t off;
    size_t len;
    while ((buf = mlpio_prefill_next(p, &off, &len)))
        image_put(im, buf, len, off);
    assert_null(mlpio_prefill_next(p, &off, &len));
    ASSERT_OK(mlpio_prefill_finish(p, &err), &err);
}

/* Files composed one ahead of the writer are the bytes the format composes on its own, piece
 * for piece, with few buffers and files of many pieces or of one. */
static void test_composed_files(void **state)
{
    static const struct {
        const char *format;
        uint64_t d1, d2;
        uint32_t samples;
        size_t chunk;
        int depth;
    } cases[] = {
        {"npz", 300, 301, 3, 64 * 1024, 2}, /* many pieces, header rewrites */
        {"npz", 300, 301, 3, 64 * 1024, 3},
        {"npz", 17, 33, 1, 64 * 1024, 2}, /* one piece and its rewrite */
        {"tfrecord", 37, 811, 50, 64 * 1024, 2},
        {"tfrecord", 1, 1, 1, 8192, 4},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mlpio_error err = {0};
        const struct mlpio_format *fmt = mlpio_format_find(cases[i].format);
        assert_non_null(fmt);
        struct mlpio_prefill *p = mlpio_prefill_create(cases[i].chunk, cases[i].depth, &err);
        assert_non_null(p);
        enum { FILES = 5 };
        struct job jobs[FILES];
        const char *names[FILES] = {"f0", "f1", "f2", "f3", "f4"};
        for (int k = 0; k < FILES; k++)
            job_init(&jobs[k], fmt, cases[i].d1, cases[i].d2, cases[i].samples, names[k],
                     cases[i].chunk);
        /* The next file is queued before the current one is taken, as datagen does. */
        ASSERT_OK(mlpio_prefill_queue(p, compose_job, &jobs[0], &err), &err);
        for (int k = 0; k < FILES; k++) {
            if (k + 1 < FILES)
                ASSERT_OK(mlpio_prefill_queue(p, compose_job, &jobs[k + 1], &err), &err);
            take_stream(p, &jobs[k].piped);
            assert_int_equal(jobs[k].piped.pieces, jobs[k].direct.pieces);
            assert_memory_equal(jobs[k].piped.bytes, jobs[k].direct.bytes, jobs[k].direct.len);
        }
        assert_int_equal(mlpio_prefill_finish(p, &err), 0); /* nothing queued */
        mlpio_prefill_destroy(&p);
        for (int k = 0; k < FILES; k++)
            job_free(&jobs[k]);
    }
}

/* A producer that hands over `pieces` pieces (each filled with its number), then fails. */
struct failing {
    int pieces;
};

static int fail_after(void *arg, void *buf, size_t buflen, const struct mlpio_format_sink *sink,
                      struct mlpio_error *err)
{
    const struct failing *f = arg;
    for (int k = 0; k < f->pieces; k++) {
        memset(buf, k + 1, buflen);
        if (!(buf = sink->put(sink->arg, buf, buflen, (uint64_t)k * buflen, err)))
            return -1;
    }
    mlpio_error_set(err, MLPIO_ERR_INTERNAL, "npz file x: cannot hold %d samples", f->pieces);
    return -1;
}

/* A producer's error comes after the pieces it handed over, and the stream queued behind it
 * is delivered whole. */
static void test_producer_error(void **state)
{
    struct mlpio_error err = {0};
    struct mlpio_prefill *p = mlpio_prefill_create(8192, 2, &err);
    assert_non_null(p);
    struct failing f = {3};
    struct job next;
    job_init(&next, &mlpio_format_npz, 40, 41, 2, "next", 8192);
    ASSERT_OK(mlpio_prefill_queue(p, fail_after, &f, &err), &err);
    ASSERT_OK(mlpio_prefill_queue(p, compose_job, &next, &err), &err);
    const uint8_t *buf;
    uint64_t off;
    size_t len;
    for (int k = 0; k < f.pieces; k++) {
        assert_non_null(buf = mlpio_prefill_next(p, &off, &len));
        assert_int_equal(off, (uint64_t)k * 8192);
        assert_int_equal(len, 8192);
        assert_int_equal(buf[0], k + 1);
        assert_int_equal(buf[8191], k + 1);
    }
    assert_null(mlpio_prefill_next(p, &off, &len));
    assert_int_equal(mlpio_prefill_finish(p, &err), -1);
    assert_int_equal(err.category, MLPIO_ERR_INTERNAL);
    assert_string_equal(err.message, "npz file x: cannot hold 3 samples");
    take_stream(p, &next.piped);
    assert_memory_equal(next.piped.bytes, next.direct.bytes, next.direct.len);
    mlpio_prefill_destroy(&p);
    job_free(&next);
}

/* The queue holds MLPIO_PREFILL_STREAMS streams; finish() before the last piece drops the
 * rest; stop() while producers wait for slots returns, and the queue works afterwards. */
static void test_queue_finish_stop(void **state)
{
    struct mlpio_error err = {0};
    struct mlpio_prefill *p = mlpio_prefill_create(8192, 2, &err);
    assert_non_null(p);
    struct failing many = {1000};
    struct job after;
    job_init(&after, &mlpio_format_tfrecord, 10, 10, 100, "after", 8192);
    for (int round = 0; round < 20; round++) {
        for (int k = 0; k < MLPIO_PREFILL_STREAMS; k++)
            ASSERT_OK(mlpio_prefill_queue(p, fail_after, &many, &err), &err);
        assert_int_equal(mlpio_prefill_queue(p, fail_after, &many, &err), -1);
        assert_int_equal(err.category, MLPIO_ERR_INTERNAL);
        uint64_t off;
        size_t len;
        for (int k = 0; k <= round % 3; k++)
            assert_non_null(mlpio_prefill_next(p, &off, &len));
        if (round % 2) {
            /* The first stream's producer fails after its pieces; the rest are dropped. */
            assert_int_equal(mlpio_prefill_finish(p, &err), -1);
            assert_non_null(mlpio_prefill_next(p, &off, &len));
            assert_int_equal(off, 0); /* the second stream begins */
        }
        mlpio_prefill_stop(p);
        assert_null(mlpio_prefill_next(p, &off, &len));
        assert_int_equal(mlpio_prefill_finish(p, &err), 0);
        memset(after.piped.bytes, 0, after.piped.len);
        ASSERT_OK(mlpio_prefill_queue(p, compose_job, &after, &err), &err);
        take_stream(p, &after.piped);
        assert_memory_equal(after.piped.bytes, after.direct.bytes, after.direct.len);
    }
    mlpio_prefill_destroy(&p);
    job_free(&after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams),           cmocka_unit_test(test_stop_mid_stream),
        cmocka_unit_test(test_composed_files),    cmocka_unit_test(test_producer_error),
        cmocka_unit_test(test_queue_finish_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
