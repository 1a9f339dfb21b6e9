/* Thrift compact protocol, the encoding of Parquet's page headers and footer (internal to io/).
 *
 * The writer streams: fields go into a small buffer that is handed to a flush callback when it
 * fills, so a footer of any size is written without holding it; with no callback it only
 * counts, which is how a file's size is known before it is written. The reader walks a buffer
 * that holds the whole message and stops at the first malformed byte, keeping its position and
 * what was wrong, so the caller can name the file and the offset.
 *
 * Only what Parquet uses: structs, i16/i32/i64 (zigzag varints), binary, bool, lists.
 */
#ifndef MLPIO_THRIFT_H
#define MLPIO_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Compact protocol type codes. */
enum {
    MLPIO_TC_STOP = 0,
    MLPIO_TC_TRUE = 1,
    MLPIO_TC_FALSE = 2,
    MLPIO_TC_BYTE = 3,
    MLPIO_TC_I16 = 4,
    MLPIO_TC_I32 = 5,
    MLPIO_TC_I64 = 6,
    MLPIO_TC_DOUBLE = 7,
    MLPIO_TC_BINARY = 8,
    MLPIO_TC_LIST = 9,
    MLPIO_TC_SET = 10,
    MLPIO_TC_MAP = 11,
    MLPIO_TC_STRUCT = 12,
};

#define MLPIO_THRIFT_DEPTH 16

typedef int (*mlpio_thrift_flush_fn)(void *arg, const uint8_t *buf, size_t len);

struct mlpio_thrift_out {
    uint8_t buf[512];
    size_t len;
    uint64_t total;              /* bytes produced so far */
    mlpio_thrift_flush_fn flush; /* NULL: count only */
    void *arg;
    int failed; /* a flush failed, or structs nested too deep */
    int depth;
    int16_t last[MLPIO_THRIFT_DEPTH]; /* last field id of each open struct */
};

void mlpio_thrift_out_init(struct mlpio_thrift_out *o, mlpio_thrift_flush_fn flush, void *arg);
/* Hand what is buffered to flush; 0, or -1 if any flush failed. */
int mlpio_thrift_out_finish(struct mlpio_thrift_out *o);

void mlpio_thrift_i32(struct mlpio_thrift_out *o, int16_t id, int32_t v);
void mlpio_thrift_i64(struct mlpio_thrift_out *o, int16_t id, int64_t v);
void mlpio_thrift_byte(struct mlpio_thrift_out *o, int16_t id, int8_t v);
void mlpio_thrift_bool(struct mlpio_thrift_out *o, int16_t id, bool v);
void mlpio_thrift_string(struct mlpio_thrift_out *o, int16_t id, const char *s);
/* A struct field (id > 0) or a struct element of a list (id 0); end closes it. */
void mlpio_thrift_begin(struct mlpio_thrift_out *o, int16_t id);
void mlpio_thrift_end(struct mlpio_thrift_out *o);
/* A list field of n elements of type etype; the elements follow (elem_* or begin(o, 0)). */
void mlpio_thrift_list(struct mlpio_thrift_out *o, int16_t id, uint8_t etype, uint32_t n);
void mlpio_thrift_elem_i32(struct mlpio_thrift_out *o, int32_t v);
void mlpio_thrift_elem_string(struct mlpio_thrift_out *o, const char *s);
/* Raw bytes (for the parts of a file around the messages). */
void mlpio_thrift_raw(struct mlpio_thrift_out *o, const void *p, size_t len);
void mlpio_thrift_varint(struct mlpio_thrift_out *o, uint64_t v);

struct mlpio_thrift_in {
    const uint8_t *p;
    size_t len, pos;
    int depth;
    char why[128]; /* what was wrong, at pos */
};

void mlpio_thrift_in_init(struct mlpio_thrift_in *in, const void *p, size_t len);
/* The next field of the current struct: 1 with *id and *type, 0 at its end (stop), -1 when
 * malformed. *last is the struct's previous field id (start at 0). */
int mlpio_thrift_field(struct mlpio_thrift_in *in, int16_t *last, int16_t *id, uint8_t *type);
int mlpio_thrift_read_i64(struct mlpio_thrift_in *in, uint8_t type, int64_t *v);
/* An i32 field (or byte/i16) that must fit int32. */
int mlpio_thrift_read_i32(struct mlpio_thrift_in *in, uint8_t type, int32_t *v);
int mlpio_thrift_read_binary(struct mlpio_thrift_in *in, uint8_t type, const uint8_t **p,
                             uint32_t *len);
int mlpio_thrift_read_list(struct mlpio_thrift_in *in, uint8_t type, uint8_t *etype, uint32_t *n);
/* Skip a value of the given type (whole structs and lists included). */
int mlpio_thrift_skip(struct mlpio_thrift_in *in, uint8_t type);
/* Descend into a struct value (after its field header) and come back out after its stop. */
int mlpio_thrift_enter(struct mlpio_thrift_in *in, uint8_t type);
void mlpio_thrift_leave(struct mlpio_thrift_in *in);

#endif
