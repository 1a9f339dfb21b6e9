/* Buffered streaming shared by the dataset formats: see format_stream.h. */
#include "io/format_stream.h"

#include <inttypes.h>
#include <string.h>

#define ALIGN_DOWN(x) ((x) & ~((uint64_t)MLPIO_IO_ALIGN - 1))
#define ALIGN_UP(x) ALIGN_DOWN((x) + MLPIO_IO_ALIGN - 1)

/* Generator bytes are produced and checksummed in pieces that stay in the cache between the
 * two (and below the size at which a generator may switch to cache-bypassing stores). */
#define CONTENT_PIECE ((size_t)256 << 10)

static int check_buffer(const char *what, void *buf, size_t buflen, struct mlpio_error *err)
{
    if (buflen >= 2 * (size_t)MLPIO_IO_ALIGN && ((uintptr_t)buf % MLPIO_IO_ALIGN) == 0)
        return 0;
    mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                    "dataset %s buffer %p of %zu bytes: need at least %d bytes aligned to %d", what,
                    buf, buflen, 2 * MLPIO_IO_ALIGN, MLPIO_IO_ALIGN);
    return mlpio_error_hint(err, "this is a bug in mlpio: format buffers come from "
                                 "mlpio_io_buffer_alloc");
}

static void *put_file(void *arg, void *buf, size_t len, uint64_t off, struct mlpio_error *err)
{
    return mlpio_io_write_at(arg, buf, len, off, err) == 0 ? buf : NULL;
}

void mlpio_fmt_file_sink(struct mlpio_io_file *f, struct mlpio_format_sink *sink)
{
    *sink = (struct mlpio_format_sink){.put = put_file, .arg = f};
}

int mlpio_fmt_writer_init(struct mlpio_fmt_writer *w, const struct mlpio_format_sink *sink,
                          void *buf, size_t buflen, mlpio_io_fill_fn content, void *content_arg,
                          struct mlpio_error *err)
{
    if (check_buffer("write", buf, buflen, err) != 0)
        return -1;
    *w = (struct mlpio_fmt_writer){
        .sink = sink,
        .buf = buf,
        .cap = (size_t)ALIGN_DOWN(buflen),
        .hi = UINT64_MAX,
        .content = content,
        .content_arg = content_arg,
    };
    return 0;
}

void mlpio_fmt_writer_window(struct mlpio_fmt_writer *w, uint64_t lo, uint64_t hi)
{
    w->fill = 0;
    w->pos = 0;
    w->cur = 0;
    w->lo = lo;
    w->hi = hi;
    w->crc_fn = NULL;
}

int mlpio_fmt_flush(struct mlpio_fmt_writer *w, struct mlpio_error *err)
{
    if (w->fill == 0)
        return 0;
    void *next = w->sink->put(w->sink->arg, w->buf, w->fill, w->pos, err);
    if (!next)
        return -1;
    w->buf = next;
    w->pos += w->fill;
    w->fill = 0;
    return 0;
}

/* Room for the next n bytes at w->cur, which lie inside the window: at most what is left of
 * the buffer (flushing a full one first). */
static int room(struct mlpio_fmt_writer *w, uint64_t n, size_t *out, struct mlpio_error *err)
{
    if (w->fill == w->cap && mlpio_fmt_flush(w, err) != 0)
        return -1;
    if (w->fill == 0)
        w->pos = w->cur;
    size_t left = w->cap - w->fill;
    *out = n < left ? (size_t)n : left;
    return 0;
}

/* How many of the next n bytes at w->cur to skip because they lie outside the window
 * (0: the next byte is inside it). */
static uint64_t outside(const struct mlpio_fmt_writer *w, uint64_t n)
{
    if (w->cur < w->lo)
        return n < w->lo - w->cur ? n : w->lo - w->cur;
    if (w->cur >= w->hi)
        return n;
    return 0;
}

static uint64_t inside(const struct mlpio_fmt_writer *w, uint64_t n)
{
    return n < w->hi - w->cur ? n : w->hi - w->cur;
}

int mlpio_fmt_put(struct mlpio_fmt_writer *w, const void *p, size_t len, struct mlpio_error *err)
{
    const uint8_t *s = p;
    if (w->crc_fn)
        w->crc = w->crc_fn(w->crc, s, len);
    while (len > 0) {
        size_t n = (size_t)outside(w, len);
        if (n == 0) {
            if (room(w, inside(w, len), &n, err) != 0)
                return -1;
            memcpy(w->buf + w->fill, s, n);
            w->fill += n;
        }
        s += n;
        len -= n;
        w->cur += n;
    }
    return 0;
}

int mlpio_fmt_put_content(struct mlpio_fmt_writer *w, uint64_t coff, uint64_t len,
                          struct mlpio_error *err)
{
    while (len > 0) {
        uint64_t n = outside(w, len);
        if (n == 0) {
            size_t got;
            if (room(w, inside(w, len < CONTENT_PIECE ? len : CONTENT_PIECE), &got, err) != 0)
                return -1;
            uint8_t *dst = w->buf + w->fill;
            w->content(w->content_arg, dst, got, coff);
            if (w->crc_fn)
                w->crc = w->crc_fn(w->crc, dst, got);
            w->fill += got;
            n = got;
        }
        coff += n;
        len -= n;
        w->cur += n;
    }
    return 0;
}

void mlpio_fmt_crc_begin(struct mlpio_fmt_writer *w, mlpio_fmt_crc_fn fn)
{
    w->crc_fn = fn;
    w->crc = 0;
}

uint32_t mlpio_fmt_crc_end(struct mlpio_fmt_writer *w)
{
    w->crc_fn = NULL;
    return w->crc;
}

int mlpio_fmt_reader_init(struct mlpio_fmt_reader *r, struct mlpio_io_file *f, uint64_t size,
                          void *buf, size_t buflen, struct mlpio_error *err)
{
    if (check_buffer("read", buf, buflen, err) != 0)
        return -1;
    *r = (struct mlpio_fmt_reader){
        .f = f,
        .buf = buf,
        .cap = (size_t)ALIGN_DOWN(buflen),
        .size = size,
    };
    return 0;
}

size_t mlpio_fmt_reader_span(const struct mlpio_fmt_reader *r)
{
    return r->cap - MLPIO_IO_ALIGN;
}

const uint8_t *mlpio_fmt_need(struct mlpio_fmt_reader *r, uint64_t off, size_t len,
                              struct mlpio_error *err)
{
    if (off >= r->valid && off <= r->wend && len <= r->wend - off)
        return r->buf + (off - r->wbase);
    if (off > r->size || len > r->size - off) {
        mlpio_error_set(err, MLPIO_ERR_IO,
                        "%s is truncated: %zu bytes needed at offset %" PRIu64
                        " but the file ends at %" PRIu64,
                        r->f->path, len, off, r->size);
        return NULL;
    }
    if (len > mlpio_fmt_reader_span(r) || off < r->valid) {
        mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                        "%s: %zu bytes at offset %" PRIu64 " asked of a %zu-byte read buffer "
                        "holding offsets %" PRIu64 " to %" PRIu64,
                        r->f->path, len, off, r->cap, r->valid, r->wend);
        return NULL;
    }
    size_t fill;
    if (off < r->wend) {
        /* Keep the loaded bytes from off on, ending at an aligned place in the buffer, so
         * that the next read lands at an aligned file offset (wend) and buffer address. */
        size_t keep = (size_t)(r->wend - off);
        size_t dst = (size_t)(ALIGN_UP(keep) - keep);
        memmove(r->buf + dst, r->buf + (off - r->wbase), keep);
        r->wbase = off - dst;
        fill = dst + keep;
    } else {
        r->wbase = ALIGN_DOWN(off);
        r->wend = r->wbase;
        fill = 0;
    }
    r->valid = off;
    while (r->wend < off + len) {
        uint64_t left = r->size - r->wend;
        size_t n = r->cap - fill;
        if (left < n)
            n = (size_t)left;
        if (mlpio_io_read_at(r->f, r->buf + fill, n, r->wend, err) != 0)
            return NULL;
        fill += n;
        r->wend += n;
    }
    return r->buf + (off - r->wbase);
}

const uint8_t *mlpio_fmt_peek(struct mlpio_fmt_reader *r, uint64_t off, uint64_t max, size_t *got,
                              struct mlpio_error *err)
{
    if (off >= r->valid && off < r->wend) {
        uint64_t have = r->wend - off;
        *got = (size_t)(max < have ? max : have);
        return r->buf + (off - r->wbase);
    }
    size_t span = mlpio_fmt_reader_span(r);
    uint64_t want = max < span ? max : span;
    if (off < r->size && want > r->size - off)
        want = r->size - off;
    const uint8_t *p = mlpio_fmt_need(r, off, (size_t)want, err);
    if (!p)
        return NULL;
    uint64_t have = r->wend - off;
    *got = (size_t)(max < have ? max : have);
    return p;
}
