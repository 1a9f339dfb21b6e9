/* Thrift compact protocol: see thrift.h. */
#include "io/thrift.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- writing ------------------------------------------------------------------------------- */

void mlpio_thrift_out_init(struct mlpio_thrift_out *o, mlpio_thrift_flush_fn flush, void *arg)
{
    memset(o, 0, sizeof(*o));
    o->flush = flush;
    o->arg = arg;
}

static void drain(struct mlpio_thrift_out *o)
{
    if (o->len && o->flush && !o->failed && o->flush(o->arg, o->buf, o->len) != 0)
        o->failed = 1;
    o->len = 0;
}

int mlpio_thrift_out_finish(struct mlpio_thrift_out *o)
{
    drain(o);
    return o->failed || o->depth != 0 ? -1 : 0;
}

void mlpio_thrift_raw(struct mlpio_thrift_out *o, const void *p, size_t len)
{
    const uint8_t *s = p;
    o->total += len;
    while (len > 0) {
        if (o->len == sizeof(o->buf))
            drain(o);
        size_t n = sizeof(o->buf) - o->len < len ? sizeof(o->buf) - o->len : len;
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        s += n;
        len -= n;
    }
}

static void byte(struct mlpio_thrift_out *o, uint8_t b)
{
    mlpio_thrift_raw(o, &b, 1);
}

void mlpio_thrift_varint(struct mlpio_thrift_out *o, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    mlpio_thrift_raw(o, b, n);
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void field(struct mlpio_thrift_out *o, int16_t id, uint8_t type)
{
    int16_t *last = &o->last[o->depth];
    int delta = id - *last;
    if (delta > 0 && delta <= 15) {
        byte(o, (uint8_t)(delta << 4 | type));
    } else {
        byte(o, type);
        mlpio_thrift_varint(o, zigzag(id));
    }
    *last = id;
}

void mlpio_thrift_i32(struct mlpio_thrift_out *o, int16_t id, int32_t v)
{
    field(o, id, MLPIO_TC_I32);
    mlpio_thrift_varint(o, zigzag(v));
}

void mlpio_thrift_i64(struct mlpio_thrift_out *o, int16_t id, int64_t v)
{
    field(o, id, MLPIO_TC_I64);
    mlpio_thrift_varint(o, zigzag(v));
}

void mlpio_thrift_byte(struct mlpio_thrift_out *o, int16_t id, int8_t v)
{
    field(o, id, MLPIO_TC_BYTE);
    byte(o, (uint8_t)v);
}

void mlpio_thrift_bool(struct mlpio_thrift_out *o, int16_t id, bool v)
{
    field(o, id, v ? MLPIO_TC_TRUE : MLPIO_TC_FALSE);
}

void mlpio_thrift_elem_string(struct mlpio_thrift_out *o, const char *s)
{
    size_t n = strlen(s);
    mlpio_thrift_varint(o, n);
    mlpio_thrift_raw(o, s, n);
}

void mlpio_thrift_string(struct mlpio_thrift_out *o, int16_t id, const char *s)
{
    field(o, id, MLPIO_TC_BINARY);
    mlpio_thrift_elem_string(o, s);
}

void mlpio_thrift_elem_i32(struct mlpio_thrift_out *o, int32_t v)
{
    mlpio_thrift_varint(o, zigzag(v));
}

void mlpio_thrift_begin(struct mlpio_thrift_out *o, int16_t id)
{
    if (id > 0)
        field(o, id, MLPIO_TC_STRUCT);
    if (o->depth + 1 >= MLPIO_THRIFT_DEPTH) {
        o->failed = 1;
        return;
    }
    o->last[++o->depth] = 0;
}

void mlpio_thrift_end(struct mlpio_thrift_out *o)
{
    byte(o, MLPIO_TC_STOP);
    if (o->depth > 0)
        o->depth--;
}

void mlpio_thrift_list(struct mlpio_thrift_out *o, int16_t id, uint8_t etype, uint32_t n)
{
    field(o, id, MLPIO_TC_LIST);
    if (n < 15) {
        byte(o, (uint8_t)(n << 4 | etype));
    } else {
        byte(o, (uint8_t)(0xf0 | etype));
        mlpio_thrift_varint(o, n);
    }
}

/* ---- reading ------------------------------------------------------------------------------- */

void mlpio_thrift_in_init(struct mlpio_thrift_in *in, const void *p, size_t len)
{
    memset(in, 0, sizeof(*in));
    in->p = p;
    in->len = len;
}

__attribute__((format(printf, 2, 3))) static int bad(struct mlpio_thrift_in *in, const char *fmt,
                                                     ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(in->why, sizeof(in->why), fmt, ap);
    va_end(ap);
    return -1;
}

static int varint(struct mlpio_thrift_in *in, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (in->pos >= in->len)
            return bad(in, "the message ends inside a varint");
        uint8_t b = in->p[in->pos++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return bad(in, "varint longer than 10 bytes");
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

int mlpio_thrift_field(struct mlpio_thrift_in *in, int16_t *last, int16_t *id, uint8_t *type)
{
    if (in->pos >= in->len)
        return bad(in, "the message ends inside a struct");
    uint8_t b = in->p[in->pos++];
    if (b == MLPIO_TC_STOP)
        return 0;
    *type = b & 0x0f;
    if (*type > MLPIO_TC_STRUCT)
        return in->pos--, bad(in, "unknown field type %u", (unsigned)*type);
    if (b >> 4) {
        *id = (int16_t)(*last + (b >> 4));
    } else {
        uint64_t v;
        if (varint(in, &v) < 0)
            return -1;
        int64_t x = unzigzag(v);
        if (x < INT16_MIN || x > INT16_MAX)
            return bad(in, "field id %lld out of range", (long long)x);
        *id = (int16_t)x;
    }
    *last = *id;
    return 1;
}

int mlpio_thrift_read_i64(struct mlpio_thrift_in *in, uint8_t type, int64_t *v)
{
    uint64_t u;
    if (type == MLPIO_TC_BYTE) {
        if (in->pos >= in->len)
            return bad(in, "the message ends inside a byte");
        *v = (int8_t)in->p[in->pos++];
        return 0;
    }
    if (type != MLPIO_TC_I16 && type != MLPIO_TC_I32 && type != MLPIO_TC_I64)
        return bad(in, "expected an integer, found type %u", (unsigned)type);
    if (varint(in, &u) < 0)
        return -1;
    *v = unzigzag(u);
    return 0;
}

int mlpio_thrift_read_i32(struct mlpio_thrift_in *in, uint8_t type, int32_t *v)
{
    int64_t x = 0;
    if (mlpio_thrift_read_i64(in, type, &x) < 0)
        return -1;
    if (x < INT32_MIN || x > INT32_MAX)
        return bad(in, "integer %lld does not fit 32 bits", (long long)x);
    *v = (int32_t)x;
    return 0;
}

int mlpio_thrift_read_binary(struct mlpio_thrift_in *in, uint8_t type, const uint8_t **p,
                             uint32_t *len)
{
    uint64_t n;
    if (type != MLPIO_TC_BINARY)
        return bad(in, "expected a string, found type %u", (unsigned)type);
    if (varint(in, &n) < 0)
        return -1;
    if (n > in->len - in->pos)
        return bad(in, "a string of %llu bytes runs past the end of the message",
                   (unsigned long long)n);
    *p = in->p + in->pos;
    *len = (uint32_t)n;
    in->pos += (size_t)n;
    return 0;
}

int mlpio_thrift_read_list(struct mlpio_thrift_in *in, uint8_t type, uint8_t *etype, uint32_t *n)
{
    if (type != MLPIO_TC_LIST && type != MLPIO_TC_SET)
        return bad(in, "expected a list, found type %u", (unsigned)type);
    if (in->pos >= in->len)
        return bad(in, "the message ends inside a list header");
    uint8_t b = in->p[in->pos++];
    *etype = b & 0x0f;
    uint64_t count = b >> 4;
    if (count == 15 && varint(in, &count) < 0)
        return -1;
    /* Every element takes at least one byte (bools, in lists, take one each). */
    if (count > in->len - in->pos)
        return bad(in, "a list of %llu elements runs past the end of the message",
                   (unsigned long long)count);
    *n = (uint32_t)count;
    return 0;
}

int mlpio_thrift_enter(struct mlpio_thrift_in *in, uint8_t type)
{
    if (type != MLPIO_TC_STRUCT)
        return bad(in, "expected a struct, found type %u", (unsigned)type);
    if (in->depth >= MLPIO_THRIFT_DEPTH)
        return bad(in, "structs nested deeper than %d", MLPIO_THRIFT_DEPTH);
    in->depth++;
    return 0;
}

void mlpio_thrift_leave(struct mlpio_thrift_in *in)
{
    if (in->depth > 0)
        in->depth--;
}

int mlpio_thrift_skip(struct mlpio_thrift_in *in, uint8_t type)
{
    int64_t v;
    const uint8_t *p;
    uint32_t n;
    uint8_t et;
    switch (type) {
    case MLPIO_TC_TRUE:
    case MLPIO_TC_FALSE:
        return 0;
    case MLPIO_TC_BYTE:
    case MLPIO_TC_I16:
    case MLPIO_TC_I32:
    case MLPIO_TC_I64:
        return mlpio_thrift_read_i64(in, type, &v);
    case MLPIO_TC_DOUBLE:
        if (in->len - in->pos < 8)
            return bad(in, "the message ends inside a double");
        in->pos += 8;
        return 0;
    case MLPIO_TC_BINARY:
        return mlpio_thrift_read_binary(in, type, &p, &n);
    case MLPIO_TC_LIST:
    case MLPIO_TC_SET:
        if (mlpio_thrift_read_list(in, type, &et, &n) < 0)
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            /* bools in a list are one byte each */
            if ((et == MLPIO_TC_TRUE || et == MLPIO_TC_FALSE) ? (in->pos++, 0)
                                                              : mlpio_thrift_skip(in, et) < 0)
                return -1;
        }
        return 0;
    case MLPIO_TC_STRUCT: {
        int16_t last = 0, id;
        uint8_t t;
        int rc;
        if (mlpio_thrift_enter(in, type) < 0)
            return -1;
        while ((rc = mlpio_thrift_field(in, &last, &id, &t)) == 1)
            if (mlpio_thrift_skip(in, t) < 0)
                return -1;
        mlpio_thrift_leave(in);
        return rc;
    }
    case MLPIO_TC_MAP:
        return bad(in, "maps are not used by Parquet");
    }
    return bad(in, "unknown type %u", (unsigned)type);
}
