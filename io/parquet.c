/* parquet dataset files, as DLIO's parquet generator lays them out (pyarrow, uncompressed):
 *
 *   "PAR1" | row group 0: column chunk 0 | column chunk 1 | ... | row group 1 ... |
 *   FileMetaData (Thrift compact) | u32 its length | "PAR1"
 *
 * Every column is required (non-null). A column of one element per sample is a scalar; one of
 * count > 1 is a fixed-size list, written as Parquet's three-level LIST (required group, repeated
 * group "list", required "element"): its pages carry repetition levels (0 then count-1 ones per
 * sample, two RLE runs) and definition levels (all 1, one RLE run), the form pyarrow reads back
 * as a list column. Pages are DATA_PAGE v1, uncompressed, of about 1 MiB and whole samples.
 *
 * Values are PLAIN (float16 as FIXED_LEN_BYTE_ARRAY(2) with the FLOAT16 logical type), except
 * the 8- and 16-bit integers, which Parquet stores as INT32: those are dictionary-encoded, as
 * pyarrow does for them, with the dictionary holding every value of the type in order, so the
 * bit-packed 8- or 16-bit indices are the values' own bytes. Either way the value bytes of the
 * file are the generator's: the byte at file offset x is the generator's byte x (see
 * content_at_file_offset in format.h), which keeps writes and verification whole-page.
 *
 * Reading parses the footer first (magic, length, Thrift, schema, row groups), checks the
 * schema against the expected one, then reads every row group whole, all its column chunks in
 * file order, parsing each page header and the levels' framing, and hands the values out. A
 * damaged or foreign file is an error naming the path, the offset and what is wrong.
 */
#include "io/format.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/format_stream.h"
#include "io/thrift.h"

#define MAGIC "PAR1"
#define PAGE_TARGET ((uint64_t)1 << 20) /* pyarrow's data page size */
#define DEFAULT_ROW_GROUP 1024          /* DLIO's parquet_row_group_size */
#define HEADER_MAX 4096                 /* longest page header read */
#define FOOTER_MAX ((uint64_t)1 << 30)

/* Parquet's enums (parquet.thrift). */
enum { PT_INT32 = 1, PT_INT64 = 2, PT_FLOAT = 4, PT_DOUBLE = 5, PT_FLBA = 7 };
enum { ENC_PLAIN = 0, ENC_PLAIN_DICT = 2, ENC_RLE = 3, ENC_RLE_DICT = 8 };
enum { PAGE_DATA = 0, PAGE_DICT = 2, PAGE_DATA_V2 = 3 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1, REP_REPEATED = 2 };
enum { CT_NONE = -1, CT_LIST = 3, CT_UINT_8 = 11, CT_UINT_16, CT_UINT_32, CT_UINT_64, CT_INT_8 };
enum { LT_NONE = 0, LT_LIST = 3, LT_INTEGER = 10, LT_FLOAT16 = 15 };

struct dtype {
    const char *name;
    size_t width; /* bytes per element in a sample */
    int ptype;    /* Parquet physical type */
    int converted;
    int logical;
    int bits;
    bool is_signed;
    uint32_t dict; /* entries of the full dictionary; 0: PLAIN */
};

static const struct dtype dtypes[] = {
    [MLPIO_DTYPE_UINT8] = {"uint8", 1, PT_INT32, CT_UINT_8, LT_INTEGER, 8, false, 256},
    [MLPIO_DTYPE_INT8] = {"int8", 1, PT_INT32, CT_INT_8, LT_INTEGER, 8, true, 256},
    [MLPIO_DTYPE_UINT16] = {"uint16", 2, PT_INT32, CT_UINT_16, LT_INTEGER, 16, false, 65536},
    [MLPIO_DTYPE_INT16] = {"int16", 2, PT_INT32, CT_INT_8 + 1, LT_INTEGER, 16, true, 65536},
    [MLPIO_DTYPE_UINT32] = {"uint32", 4, PT_INT32, CT_UINT_32, LT_INTEGER, 32, false, 0},
    [MLPIO_DTYPE_INT32] = {"int32", 4, PT_INT32, CT_NONE, LT_NONE, 32, true, 0},
    [MLPIO_DTYPE_UINT64] = {"uint64", 8, PT_INT64, CT_UINT_64, LT_INTEGER, 64, false, 0},
    [MLPIO_DTYPE_INT64] = {"int64", 8, PT_INT64, CT_NONE, LT_NONE, 64, true, 0},
    [MLPIO_DTYPE_FLOAT16] = {"float16", 2, PT_FLBA, CT_NONE, LT_FLOAT16, 16, true, 0},
    [MLPIO_DTYPE_FLOAT32] = {"float32", 4, PT_FLOAT, CT_NONE, LT_NONE, 32, true, 0},
    [MLPIO_DTYPE_FLOAT64] = {"float64", 8, PT_DOUBLE, CT_NONE, LT_NONE, 64, true, 0},
};
#define NDTYPES ((int)(sizeof(dtypes) / sizeof(dtypes[0])))

size_t mlpio_format_dtype_width(enum mlpio_format_dtype t)
{
    return dtypes[t].width;
}

const char *mlpio_format_dtype_name(enum mlpio_format_dtype t)
{
    return dtypes[t].name;
}

/* ---- layout ------------------------------------------------------------------------------ */

static int bad_column(const char *key, const char *text, size_t len, const char *why,
                      struct mlpio_error *err)
{
    char names[160] = "";
    for (int i = 0; i < NDTYPES; i++)
        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
                 dtypes[i].name);
    mlpio_error_set(err, MLPIO_ERR_CONFIG, "%s: column '%.*s': %s", key, (int)len, text, why);
    return mlpio_error_hint(err,
                            "write columns as name:dtype[:count], separated by commas, or none; "
                            "dtypes: %s",
                            names);
}

static int parse_one(const char *key, const char *s, size_t len, double scale,
                     struct mlpio_format_column *c, struct mlpio_error *err)
{
    char part[3][64] = {"", "", "1"};
    size_t n = 0, at = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != ':')
            continue;
        if (n == 3 || i - at >= sizeof(part[0]))
            return bad_column(key, s, len, "expected name:dtype[:count]", err);
        memcpy(part[n], s + at, i - at);
        part[n][i - at] = '\0';
        n++;
        at = i + 1;
    }
    if (n < 2 || !part[0][0] || strlen(part[0]) >= sizeof(c->name))
        return bad_column(key, s, len, "expected name:dtype[:count], a name of 1 to 47 characters",
                          err);
    for (const char *p = part[0]; *p; p++)
        if (!(*p == '_' || (*p >= '0' && *p <= '9') || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')))
            return bad_column(key, s, len, "names hold letters, digits and _ only", err);
    int t = 0;
    while (t < NDTYPES && strcmp(dtypes[t].name, part[1]) != 0)
        t++;
    if (t == NDTYPES)
        return bad_column(key, s, len, "unknown dtype", err);
    char *end = NULL;
    unsigned long long count = strtoull(part[2], &end, 10);
    if (!part[2][0] || *end || count < 1 || count > (1ull << 40))
        return bad_column(key, s, len, "the count must be an integer from 1 to 2^40", err);
    double scaled = (double)count * scale;
    memset(c, 0, sizeof(*c));
    snprintf(c->name, sizeof(c->name), "%s", part[0]);
    c->dtype = (enum mlpio_format_dtype)t;
    c->list = count > 1;
    c->count = scaled < 1 ? 1 : (uint64_t)scaled;
    return 0;
}

int mlpio_format_layout_parse(const char *key, const char *text, double scale,
                              uint32_t row_group_rows, struct mlpio_format_layout *l,
                              struct mlpio_error *err)
{
    memset(l, 0, sizeof(*l));
    l->row_group_rows = row_group_rows;
    if (!text || strcmp(text, "none") == 0)
        return 0;
    uint32_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    struct mlpio_format_column *cols = calloc(n, sizeof(*cols));
    if (!cols)
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    const char *s = text;
    for (uint32_t i = 0; i < n; i++) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (parse_one(key, s, len, scale, &cols[i], err) < 0) {
            free(cols);
            return -1;
        }
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(cols[j].name, cols[i].name) == 0) {
                free(cols);
                return bad_column(key, s, len, "a second column of that name", err);
            }
        s += len + 1;
    }
    l->columns = cols;
    l->ncolumns = n;
    return 0;
}

void mlpio_format_layout_free(struct mlpio_format_layout *l)
{
    if (!l)
        return;
    free((void *)l->columns);
    l->columns = NULL;
    l->ncolumns = 0;
}

uint64_t mlpio_format_layout_sample_bytes(const struct mlpio_format_layout *l, uint64_t d1,
                                          uint64_t d2)
{
    if (!l || l->ncolumns == 0)
        return d1 * d2;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < l->ncolumns; i++)
        sum += l->columns[i].count * dtypes[l->columns[i].dtype].width;
    return sum;
}

/* ---- plan: the sizes and offsets of everything in a file ------------------------------------ */

struct pq_col {
    const struct mlpio_format_column *c;
    const struct dtype *dt;
    uint64_t row_bytes; /* value bytes of one sample */
    uint64_t page_rows; /* samples per full page */
};

struct pq_plan {
    struct mlpio_format_column legacy;
    struct pq_col *cols;
    uint32_t ncols;
    uint64_t rows, group_rows, groups;
};

static void plan_free(struct pq_plan *p)
{
    free(p->cols);
    p->cols = NULL;
}

static int plan_init(const char *path, const struct mlpio_format_shape *s, struct pq_plan *p,
                     struct mlpio_error *err)
{
    memset(p, 0, sizeof(*p));
    const struct mlpio_format_layout *l = s->layout;
    uint32_t n = l && l->ncolumns ? l->ncolumns : 1;
    const struct mlpio_format_column *cols = l && l->ncolumns ? l->columns : &p->legacy;
    uint64_t sample;
    if (s->samples == 0 || __builtin_mul_overflow(s->d1, s->d2, &sample) || sample == 0 ||
        sample > (1ull << 40))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                               "parquet file %s: cannot hold %" PRIu32 " samples of %" PRIu64
                               " x %" PRIu64 " bytes",
                               path, s->samples, s->d1, s->d2);
    snprintf(p->legacy.name, sizeof(p->legacy.name), "data");
    p->legacy.dtype = MLPIO_DTYPE_UINT8;
    p->legacy.count = sample;
    p->legacy.list = true;
    if (!(p->cols = calloc(n, sizeof(*p->cols))))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    p->ncols = n;
    for (uint32_t i = 0; i < n; i++) {
        struct pq_col *c = &p->cols[i];
        c->c = &cols[i];
        c->dt = &dtypes[cols[i].dtype];
        c->row_bytes = cols[i].count * c->dt->width;
        c->page_rows = PAGE_TARGET / c->row_bytes ? PAGE_TARGET / c->row_bytes : 1;
    }
    p->rows = s->samples;
    p->group_rows = l && l->row_group_rows ? l->row_group_rows : DEFAULT_ROW_GROUP;
    p->groups = (p->rows + p->group_rows - 1) / p->group_rows;
    return 0;
}

static uint64_t group_rows(const struct pq_plan *p, uint64_t g)
{
    return g + 1 < p->groups ? p->group_rows : p->rows - g * p->group_rows;
}

/* An RLE run of count levels of bit width 1: header varint, one value byte. */
static uint64_t rle_len(uint64_t count)
{
    return mlpio_fmt_varint_len(count << 1) + 1;
}

static uint64_t levels_bytes(const struct pq_col *c, uint64_t rows)
{
    if (!c->c->list)
        return 0;
    uint64_t rep = rows * (rle_len(1) + (c->c->count > 1 ? rle_len(c->c->count - 1) : 0));
    return 4 + rep + 4 + rle_len(rows * c->c->count);
}

static uint64_t values_bytes(const struct pq_col *c, uint64_t rows)
{
    uint64_t v = rows * c->c->count;
    if (!c->dt->dict)
        return v * c->dt->width;
    uint64_t groups = (v + 7) / 8;
    return 1 + mlpio_fmt_varint_len(groups << 1 | 1) + groups * 8 * c->dt->width;
}

static void page_header(struct mlpio_thrift_out *o, int type, uint64_t size, uint64_t nvalues,
                        int encoding, bool levels)
{
    mlpio_thrift_begin(o, 0);
    mlpio_thrift_i32(o, 1, type);
    mlpio_thrift_i32(o, 2, (int32_t)size);
    mlpio_thrift_i32(o, 3, (int32_t)size);
    mlpio_thrift_begin(o, type == PAGE_DICT ? 7 : 5);
    mlpio_thrift_i32(o, 1, (int32_t)nvalues);
    mlpio_thrift_i32(o, 2, encoding);
    if (type == PAGE_DATA) {
        mlpio_thrift_i32(o, 3, ENC_RLE);
        (void)levels;
        mlpio_thrift_i32(o, 4, ENC_RLE);
    }
    mlpio_thrift_end(o);
    mlpio_thrift_end(o);
}

static uint64_t header_len(int type, uint64_t size, uint64_t nvalues, int encoding, bool levels)
{
    struct mlpio_thrift_out o;
    mlpio_thrift_out_init(&o, NULL, NULL);
    page_header(&o, type, size, nvalues, encoding, levels);
    return o.total;
}

static uint64_t dict_body(const struct pq_col *c)
{
    return (uint64_t)c->dt->dict * 4;
}

static uint64_t dict_page_bytes(const struct pq_col *c)
{
    if (!c->dt->dict)
        return 0;
    return header_len(PAGE_DICT, dict_body(c), c->dt->dict, ENC_PLAIN, false) + dict_body(c);
}

static int data_encoding(const struct pq_col *c)
{
    return c->dt->dict ? ENC_RLE_DICT : ENC_PLAIN;
}

static uint64_t page_bytes(const struct pq_col *c, uint64_t rows)
{
    uint64_t body = levels_bytes(c, rows) + values_bytes(c, rows);
    return header_len(PAGE_DATA, body, rows * c->c->count, data_encoding(c), c->c->list) + body;
}

static uint64_t chunk_bytes(const struct pq_col *c, uint64_t rows)
{
    uint64_t full = rows / c->page_rows, rest = rows % c->page_rows;
    return dict_page_bytes(c) + full * page_bytes(c, c->page_rows) +
           (rest ? page_bytes(c, rest) : 0);
}

/* Offset of row group g's first chunk: all groups before it are full. */
static uint64_t group_offset(const struct pq_plan *p, uint64_t g, const uint64_t *full_group)
{
    return 4 + g * *full_group;
}

static uint64_t full_group_bytes(const struct pq_plan *p)
{
    uint64_t sum = 0;
    for (uint32_t c = 0; c < p->ncols; c++)
        sum += chunk_bytes(&p->cols[c], p->group_rows);
    return sum;
}

/* ---- footer ---------------------------------------------------------------------------------- */

static void schema_leaf(struct mlpio_thrift_out *o, const struct dtype *dt, const char *name)
{
    mlpio_thrift_begin(o, 0);
    mlpio_thrift_i32(o, 1, dt->ptype);
    if (dt->ptype == PT_FLBA)
        mlpio_thrift_i32(o, 2, (int32_t)dt->width);
    mlpio_thrift_i32(o, 3, REP_REQUIRED);
    mlpio_thrift_string(o, 4, name);
    if (dt->converted != CT_NONE)
        mlpio_thrift_i32(o, 6, dt->converted);
    if (dt->logical != LT_NONE) {
        mlpio_thrift_begin(o, 10);
        mlpio_thrift_begin(o, (int16_t)dt->logical);
        if (dt->logical == LT_INTEGER) {
            mlpio_thrift_byte(o, 1, (int8_t)dt->bits);
            mlpio_thrift_bool(o, 2, dt->is_signed);
        }
        mlpio_thrift_end(o);
        mlpio_thrift_end(o);
    }
    mlpio_thrift_end(o);
}

static void schema(struct mlpio_thrift_out *o, const struct pq_plan *p)
{
    uint32_t n = 1;
    for (uint32_t c = 0; c < p->ncols; c++)
        n += p->cols[c].c->list ? 3 : 1;
    mlpio_thrift_list(o, 2, MLPIO_TC_STRUCT, n);
    mlpio_thrift_begin(o, 0);
    mlpio_thrift_string(o, 4, "schema");
    mlpio_thrift_i32(o, 5, (int32_t)p->ncols);
    mlpio_thrift_end(o);
    for (uint32_t c = 0; c < p->ncols; c++) {
        const struct pq_col *col = &p->cols[c];
        if (!col->c->list) {
            schema_leaf(o, col->dt, col->c->name);
            continue;
        }
        mlpio_thrift_begin(o, 0);
        mlpio_thrift_i32(o, 3, REP_REQUIRED);
        mlpio_thrift_string(o, 4, col->c->name);
        mlpio_thrift_i32(o, 5, 1);
        mlpio_thrift_i32(o, 6, CT_LIST);
        mlpio_thrift_begin(o, 10);
        mlpio_thrift_begin(o, LT_LIST);
        mlpio_thrift_end(o);
        mlpio_thrift_end(o);
        mlpio_thrift_end(o);
        mlpio_thrift_begin(o, 0);
        mlpio_thrift_i32(o, 3, REP_REPEATED);
        mlpio_thrift_string(o, 4, "list");
        mlpio_thrift_i32(o, 5, 1);
        mlpio_thrift_end(o);
        schema_leaf(o, col->dt, "element");
    }
}

static void column_chunk(struct mlpio_thrift_out *o, const struct pq_col *c, uint64_t rows,
                         uint64_t off)
{
    uint64_t bytes = chunk_bytes(c, rows), dict = dict_page_bytes(c);
    mlpio_thrift_begin(o, 0);
    mlpio_thrift_i64(o, 2, (int64_t)off);
    mlpio_thrift_begin(o, 3);
    mlpio_thrift_i32(o, 1, c->dt->ptype);
    uint32_t nenc = 1 + (c->c->list ? 1 : 0) + (c->dt->dict ? 1 : 0);
    mlpio_thrift_list(o, 2, MLPIO_TC_I32, nenc);
    mlpio_thrift_elem_i32(o, ENC_PLAIN);
    if (c->c->list)
        mlpio_thrift_elem_i32(o, ENC_RLE);
    if (c->dt->dict)
        mlpio_thrift_elem_i32(o, ENC_RLE_DICT);
    mlpio_thrift_list(o, 3, MLPIO_TC_BINARY, c->c->list ? 3 : 1);
    mlpio_thrift_elem_string(o, c->c->name);
    if (c->c->list) {
        mlpio_thrift_elem_string(o, "list");
        mlpio_thrift_elem_string(o, "element");
    }
    mlpio_thrift_i32(o, 4, 0); /* UNCOMPRESSED */
    mlpio_thrift_i64(o, 5, (int64_t)(rows * c->c->count));
    mlpio_thrift_i64(o, 6, (int64_t)bytes);
    mlpio_thrift_i64(o, 7, (int64_t)bytes);
    mlpio_thrift_i64(o, 9, (int64_t)(off + dict));
    if (dict)
        mlpio_thrift_i64(o, 11, (int64_t)off);
    mlpio_thrift_end(o);
    mlpio_thrift_end(o);
}

static void footer(struct mlpio_thrift_out *o, const struct pq_plan *p)
{
    uint64_t full = full_group_bytes(p);
    mlpio_thrift_begin(o, 0);
    mlpio_thrift_i32(o, 1, 1);
    schema(o, p);
    mlpio_thrift_i64(o, 3, (int64_t)p->rows);
    mlpio_thrift_list(o, 4, MLPIO_TC_STRUCT, (uint32_t)p->groups);
    for (uint64_t g = 0; g < p->groups; g++) {
        uint64_t rows = group_rows(p, g), off = group_offset(p, g, &full), start = off;
        mlpio_thrift_begin(o, 0);
        mlpio_thrift_list(o, 1, MLPIO_TC_STRUCT, p->ncols);
        for (uint32_t c = 0; c < p->ncols; c++) {
            column_chunk(o, &p->cols[c], rows, off);
            off += chunk_bytes(&p->cols[c], rows);
        }
        mlpio_thrift_i64(o, 2, (int64_t)(off - start));
        mlpio_thrift_i64(o, 3, (int64_t)rows);
        mlpio_thrift_i64(o, 5, (int64_t)start);
        mlpio_thrift_i64(o, 6, (int64_t)(off - start));
        mlpio_thrift_i32(o, 7, (int32_t)g);
        mlpio_thrift_end(o);
    }
    mlpio_thrift_string(o, 6, "mlpio");
    mlpio_thrift_end(o);
}

static uint64_t footer_len(const struct pq_plan *p)
{
    struct mlpio_thrift_out o;
    mlpio_thrift_out_init(&o, NULL, NULL);
    footer(&o, p);
    return o.total;
}

static uint64_t pq_file_bytes(const struct mlpio_format_shape *shape)
{
    struct pq_plan p;
    if (plan_init("", shape, &p, NULL) < 0)
        return 0;
    uint64_t total = 4 + full_group_bytes(&p) * (p.groups - 1) + footer_len(&p) + 8;
    for (uint32_t c = 0; c < p.ncols; c++)
        total += chunk_bytes(&p.cols[c], group_rows(&p, p.groups - 1));
    plan_free(&p);
    return total;
}

/* ---- compose ------------------------------------------------------------------------------- */

struct put_ctx {
    struct mlpio_fmt_writer *w;
    struct mlpio_error *err;
};

static int put_flush(void *arg, const uint8_t *buf, size_t len)
{
    struct put_ctx *pc = arg;
    return mlpio_fmt_put(pc->w, buf, len, pc->err);
}

static int put_header(struct put_ctx *pc, int type, uint64_t size, uint64_t nvalues, int encoding,
                      bool levels)
{
    struct mlpio_thrift_out o;
    mlpio_thrift_out_init(&o, put_flush, pc);
    page_header(&o, type, size, nvalues, encoding, levels);
    return mlpio_thrift_out_finish(&o);
}

static int put_dict(struct put_ctx *pc, const struct pq_col *c)
{
    if (!c->dt->dict)
        return 0;
    if (put_header(pc, PAGE_DICT, dict_body(c), c->dt->dict, ENC_PLAIN, false) != 0)
        return -1;
    uint8_t entries[1024];
    for (uint32_t k = 0; k < c->dt->dict; k += 256) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t v = k + i;
            int32_t x = !c->dt->is_signed  ? (int32_t)v
                        : c->dt->bits == 8 ? (int8_t)(uint8_t)v
                                           : (int16_t)(uint16_t)v;
            mlpio_fmt_put32(entries + 4 * i, (uint32_t)x);
        }
        if (mlpio_fmt_put(pc->w, entries, sizeof(entries), pc->err) != 0)
            return -1;
    }
    return 0;
}

static void rle(uint8_t **p, uint64_t count, uint8_t value)
{
    uint64_t v = count << 1;
    while (v >= 0x80) {
        *(*p)++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *(*p)++ = (uint8_t)v;
    *(*p)++ = value;
}

static int put_levels(struct put_ctx *pc, const struct pq_col *c, uint64_t rows)
{
    if (!c->c->list)
        return 0;
    uint8_t one[32], *q = one, len[4];
    rle(&q, 1, 0);
    if (c->c->count > 1)
        rle(&q, c->c->count - 1, 1);
    size_t n = (size_t)(q - one);
    mlpio_fmt_put32(len, (uint32_t)(rows * n));
    if (mlpio_fmt_put(pc->w, len, 4, pc->err) != 0)
        return -1;
    for (uint64_t r = 0; r < rows; r++)
        if (mlpio_fmt_put(pc->w, one, n, pc->err) != 0)
            return -1;
    q = one;
    rle(&q, rows * c->c->count, 1);
    mlpio_fmt_put32(len, (uint32_t)(q - one));
    if (mlpio_fmt_put(pc->w, len, 4, pc->err) != 0)
        return -1;
    return mlpio_fmt_put(pc->w, one, (size_t)(q - one), pc->err);
}

static int put_page(struct put_ctx *pc, const struct pq_col *c, uint64_t rows)
{
    uint64_t body = levels_bytes(c, rows) + values_bytes(c, rows), v = rows * c->c->count;
    if (put_header(pc, PAGE_DATA, body, v, data_encoding(c), c->c->list) != 0 ||
        put_levels(pc, c, rows) != 0)
        return -1;
    uint64_t groups = (v + 7) / 8;
    if (c->dt->dict) {
        uint8_t head[12], *q = head + 1;
        head[0] = (uint8_t)c->dt->bits;
        uint64_t h = groups << 1 | 1;
        while (h >= 0x80) {
            *q++ = (uint8_t)(h | 0x80);
            h >>= 7;
        }
        *q++ = (uint8_t)h;
        if (mlpio_fmt_put(pc->w, head, (size_t)(q - head), pc->err) != 0)
            return -1;
    }
    if (mlpio_fmt_put_content(pc->w, pc->w->cur, v * c->dt->width, pc->err) != 0)
        return -1;
    if (c->dt->dict && groups * 8 > v) {
        static const uint8_t zero[16];
        if (mlpio_fmt_put(pc->w, zero, (size_t)((groups * 8 - v) * c->dt->width), pc->err) != 0)
            return -1;
    }
    return 0;
}

static int put_chunk(struct put_ctx *pc, const struct pq_col *c, uint64_t rows)
{
    if (put_dict(pc, c) != 0)
        return -1;
    for (uint64_t r = 0; r < rows; r += c->page_rows)
        if (put_page(pc, c, rows - r < c->page_rows ? rows - r : c->page_rows) != 0)
            return -1;
    return 0;
}

static int pq_compose(const char *path, const struct mlpio_format_shape *shape,
                      mlpio_io_fill_fn content, void *content_arg, void *buf, size_t buflen,
                      const struct mlpio_format_sink *sink, struct mlpio_error *err)
{
    struct pq_plan p;
    struct mlpio_fmt_writer w;
    struct put_ctx pc = {&w, err};
    if (plan_init(path, shape, &p, err) < 0)
        return -1;
    int rc = mlpio_fmt_writer_init(&w, sink, buf, buflen, content, content_arg, err);
    if (rc == 0)
        rc = mlpio_fmt_put(&w, MAGIC, 4, err);
    for (uint64_t g = 0; rc == 0 && g < p.groups; g++)
        for (uint32_t c = 0; rc == 0 && c < p.ncols; c++)
            rc = put_chunk(&pc, &p.cols[c], group_rows(&p, g));
    if (rc == 0) {
        struct mlpio_thrift_out o;
        uint64_t start = w.cur;
        mlpio_thrift_out_init(&o, put_flush, &pc);
        footer(&o, &p);
        rc = mlpio_thrift_out_finish(&o);
        uint8_t tail[8];
        mlpio_fmt_put32(tail, (uint32_t)(w.cur - start));
        memcpy(tail + 4, MAGIC, 4);
        if (rc == 0 && w.cur - start >= UINT32_MAX)
            rc = mlpio_error_set(err, MLPIO_ERR_INTERNAL,
                                 "parquet file %s: a footer of %" PRIu64 " bytes is too long", path,
                                 w.cur - start);
        if (rc == 0)
            rc = mlpio_fmt_put(&w, tail, 8, err);
    }
    if (rc == 0)
        rc = mlpio_fmt_flush(&w, err);
    plan_free(&p);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------------- */

/* A column as the footer declares it. */
struct rd_col {
    char name[48];
    const struct dtype *dt; /* matched from the physical and logical types */
    int dtype;
    bool list;
    uint64_t count; /* elements per sample, from the first row group */
    size_t pwidth;  /* bytes of a PLAIN value */
};

struct rd_chunk {
    uint64_t start, data, bytes, values;
};

struct pq_reader {
    struct mlpio_fmt_reader r;
    const char *path;
    mlpio_format_sample_fn on_sample;
    void *arg;
    struct rd_col *cols;
    uint32_t ncols;
    uint64_t rows, groups, footer_off;
    uint64_t *group_rows;
    struct rd_chunk *chunks; /* groups x ncols */
};

MLPIO_PRINTF(4, 5)
static int bad(const struct pq_reader *rd, uint64_t off, struct mlpio_error *err, const char *fmt,
               ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    mlpio_error_set(err, MLPIO_ERR_IO, "parquet file %s, offset %" PRIu64 ": %s", rd->path, off,
                    what);
    return mlpio_error_hint(err, "the file is damaged or was not written by mlpio for this "
                                 "configuration; generate the dataset again");
}

static int bad_thrift(const struct pq_reader *rd, uint64_t base, const struct mlpio_thrift_in *in,
                      const char *what, struct mlpio_error *err)
{
    return bad(rd, base + in->pos, err, "malformed Thrift in the %s: %s", what,
               in->why[0] ? in->why : "unexpected value");
}

/* Schema element, the fields mlpio looks at. */
struct sel {
    int32_t type, type_length, repetition, children, converted;
    int logical, bits;
    bool is_signed;
    char name[48];
};

static int parse_logical(struct mlpio_thrift_in *in, struct sel *e)
{
    int16_t last = 0, id, l2;
    uint8_t t, t2;
    int rc;
    if (mlpio_thrift_enter(in, MLPIO_TC_STRUCT) < 0)
        return -1;
    while ((rc = mlpio_thrift_field(in, &last, &id, &t)) == 1) {
        e->logical = id;
        if (id != LT_INTEGER) {
            if (mlpio_thrift_skip(in, t) < 0)
                return -1;
            continue;
        }
        if (mlpio_thrift_enter(in, t) < 0)
            return -1;
        l2 = 0;
        while ((rc = mlpio_thrift_field(in, &l2, &id, &t2)) == 1) {
            int64_t v;
            if (id == 1 && mlpio_thrift_read_i64(in, t2, &v) == 0)
                e->bits = (int)v;
            else if (id == 2 && (t2 == MLPIO_TC_TRUE || t2 == MLPIO_TC_FALSE))
                e->is_signed = t2 == MLPIO_TC_TRUE;
            else if (id == 1 || mlpio_thrift_skip(in, t2) < 0)
                return -1;
        }
        mlpio_thrift_leave(in);
        if (rc < 0)
            return -1;
    }
    mlpio_thrift_leave(in);
    return rc;
}

static int parse_sel(struct mlpio_thrift_in *in, struct sel *e)
{
    int16_t last = 0, id;
    uint8_t t;
    int rc;
    memset(e, 0, sizeof(*e));
    e->type = e->repetition = e->converted = -1;
    if (mlpio_thrift_enter(in, MLPIO_TC_STRUCT) < 0)
        return -1;
    while ((rc = mlpio_thrift_field(in, &last, &id, &t)) == 1) {
        const uint8_t *p;
        uint32_t n;
        int r = 0;
        switch (id) {
        case 1:
            r = mlpio_thrift_read_i32(in, t, &e->type);
            break;
        case 2:
            r = mlpio_thrift_read_i32(in, t, &e->type_length);
            break;
        case 3:
            r = mlpio_thrift_read_i32(in, t, &e->repetition);
            break;
        case 4:
            r = mlpio_thrift_read_binary(in, t, &p, &n);
            if (r == 0)
                snprintf(e->name, sizeof(e->name), "%.*s", (int)(n < 47 ? n : 47), p);
            break;
        case 5:
            r = mlpio_thrift_read_i32(in, t, &e->children);
            break;
        case 6:
            r = mlpio_thrift_read_i32(in, t, &e->converted);
            break;
        case 10:
            r = parse_logical(in, e);
            break;
        default:
            r = mlpio_thrift_skip(in, t);
        }
        if (r < 0)
            return -1;
    }
    mlpio_thrift_leave(in);
    return rc;
}

/* The mlpio dtype of a leaf, or -1. */
static int leaf_dtype(const struct sel *e)
{
    for (int i = 0; i < NDTYPES; i++) {
        const struct dtype *d = &dtypes[i];
        if (d->ptype != e->type || (d->ptype == PT_FLBA && e->type_length != (int32_t)d->width))
            continue;
        bool typed = e->logical == LT_INTEGER || e->converted >= CT_UINT_8;
        if (d->logical == LT_FLOAT16 && e->logical == LT_FLOAT16)
            return i;
        if (d->logical == LT_INTEGER && typed &&
            (e->logical == LT_INTEGER ? e->bits == d->bits && e->is_signed == d->is_signed
                                      : e->converted == d->converted))
            return i;
        if (d->logical == LT_NONE && !typed && e->logical != LT_FLOAT16)
            return i;
    }
    return -1;
}

static const char *ptype_name(int32_t t)
{
    static const char *names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                  "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < 8 ? names[t] : "a group";
}

static int leaf_col(struct pq_reader *rd, uint64_t at, const struct sel *e, const char *name,
                    bool list, struct rd_col *c, struct mlpio_error *err)
{
    if (e->children != 0 || e->type < 0)
        return bad(rd, at, err, "column %s: nested groups are not read by mlpio", name);
    if (e->repetition != REP_REQUIRED)
        return bad(rd, at, err,
                   "column %s%s is %s; mlpio writes and reads required (non-null) values", name,
                   list ? " (its element)" : "",
                   e->repetition == REP_OPTIONAL ? "optional (nullable)" : "repeated");
    int t = leaf_dtype(e);
    if (t < 0)
        return bad(rd, at, err, "column %s has Parquet type %s%s, which is none of mlpio's dtypes",
                   name, ptype_name(e->type),
                   e->logical || e->converted >= 0 ? " (annotated)" : "");
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->dtype = t;
    c->dt = &dtypes[t];
    c->list = list;
    c->pwidth = e->type == PT_FLBA    ? (size_t)e->type_length
                : e->type == PT_INT32 ? 4
                : e->type == PT_FLOAT ? 4
                                      : 8;
    return 0;
}

/* The schema list: root, then each column as a leaf or a three-level LIST. */
static int parse_schema(struct pq_reader *rd, struct mlpio_thrift_in *in, uint64_t base,
                        uint8_t type, struct mlpio_error *err)
{
    uint8_t et;
    uint32_t n;
    struct sel root, e, rep, leaf;
    if (mlpio_thrift_read_list(in, type, &et, &n) < 0 || et != MLPIO_TC_STRUCT || n < 2 ||
        parse_sel(in, &root) < 0)
        return bad_thrift(rd, base, in, "footer's schema", err);
    if (root.children < 1 || (uint32_t)root.children > n - 1)
        return bad(rd, base + in->pos, err,
                   "the schema's root has %" PRId32 " columns of %" PRIu32 " elements",
                   root.children, n - 1);
    rd->ncols = (uint32_t)root.children;
    if (!(rd->cols = calloc(rd->ncols, sizeof(*rd->cols))))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
    uint32_t used = 1;
    for (uint32_t c = 0; c < rd->ncols; c++) {
        uint64_t at = base + in->pos;
        if (used >= n || parse_sel(in, &e) < 0)
            return bad_thrift(rd, base, in, "footer's schema", err);
        used++;
        bool list = e.children == 1 && (e.converted == CT_LIST || e.logical == LT_LIST);
        if (!list) {
            if (leaf_col(rd, at, &e, e.name, false, &rd->cols[c], err) < 0)
                return -1;
            continue;
        }
        if (e.repetition != REP_REQUIRED)
            return bad(rd, at, err,
                       "column %s is an optional (nullable) list; mlpio writes and reads required "
                       "values",
                       e.name);
        if (used + 2 > n || parse_sel(in, &rep) < 0 || parse_sel(in, &leaf) < 0)
            return bad_thrift(rd, base, in, "footer's schema", err);
        used += 2;
        if (rep.repetition != REP_REPEATED || rep.children != 1)
            return bad(rd, at, err, "column %s: a LIST without its repeated group", e.name);
        if (leaf_col(rd, at, &leaf, e.name, true, &rd->cols[c], err) < 0)
            return -1;
    }
    if (used != n)
        return bad(rd, base + in->pos, err, "the schema has %" PRIu32 " elements past its columns",
                   n - used);
    return 0;
}

/* A column chunk's metadata, checked against its column. */
static int parse_meta(struct pq_reader *rd, struct mlpio_thrift_in *in, uint64_t base,
                      const struct rd_col *col, struct rd_chunk *ch, struct mlpio_error *err)
{
    int16_t last = 0, id;
    uint8_t t, et;
    int rc;
    int32_t ptype = -1, codec = -1;
    int64_t v, dict = -1, data = -1, bytes = -1, values = -1;
    uint64_t at = base + in->pos;
    char path[160] = "";
    if (mlpio_thrift_enter(in, MLPIO_TC_STRUCT) < 0)
        return bad_thrift(rd, base, in, "footer's column metadata", err);
    while ((rc = mlpio_thrift_field(in, &last, &id, &t)) == 1) {
        int r = 0;
        if (id == 1)
            r = mlpio_thrift_read_i32(in, t, &ptype);
        else if (id == 4)
            r = mlpio_thrift_read_i32(in, t, &codec);
        else if (id == 5 || id == 7 || id == 9 || id == 11) {
            r = mlpio_thrift_read_i64(in, t, &v);
            *(id == 5 ? &values : id == 7 ? &bytes : id == 9 ? &data : &dict) = v;
        } else if (id == 3) {
            uint32_t n;
            r = mlpio_thrift_read_list(in, t, &et, &n);
            for (uint32_t i = 0; r == 0 && i < n; i++) {
                const uint8_t *p;
                uint32_t len;
                r = mlpio_thrift_read_binary(in, et, &p, &len);
                if (r == 0)
                    snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%.*s",
                             i ? "." : "", (int)len, (const char *)p);
            }
        } else {
            r = mlpio_thrift_skip(in, t);
        }
        if (r < 0)
            return bad_thrift(rd, base, in, "footer's column metadata", err);
    }
    mlpio_thrift_leave(in);
    if (rc < 0)
        return bad_thrift(rd, base, in, "footer's column metadata", err);
    char want[160];
    snprintf(want, sizeof(want), col->list ? "%s.list.element" : "%s", col->name);
    if (strcmp(path, want) != 0 && !(col->list && strncmp(path, col->name, strlen(col->name)) == 0))
        return bad(rd, at, err, "a column chunk of %s is for column '%s'", col->name, path);
    if (ptype != col->dt->ptype || codec != 0)
        return bad(rd, at, err,
                   "the chunk of column %s is %s with codec %" PRId32
                   "; mlpio reads uncompressed (codec 0) %s",
                   col->name, ptype_name(ptype), codec, ptype_name(col->dt->ptype));
    if (data < 4 || bytes < 1 || values < 0)
        return bad(rd, at, err, "the chunk of column %s lacks its offset, size or value count",
                   col->name);
    ch->start = (uint64_t)(dict >= 4 && dict < data ? dict : data);
    ch->data = (uint64_t)data;
    ch->bytes = (uint64_t)bytes;
    ch->values = (uint64_t)values;
    return 0;
}

static int parse_group(struct pq_reader *rd, struct mlpio_thrift_in *in, uint64_t base, uint64_t g,
                       struct mlpio_error *err)
{
    int16_t last = 0, id;
    uint8_t t, et;
    int rc;
    uint32_t got = UINT32_MAX;
    int64_t rows = -1;
    if (mlpio_thrift_enter(in, MLPIO_TC_STRUCT) < 0)
        return bad_thrift(rd, base, in, "footer's row groups", err);
    while ((rc = mlpio_thrift_field(in, &last, &id, &t)) == 1) {
        int r = 0;
        if (id == 1) {
            r = mlpio_thrift_read_list(in, t, &et, &got);
            if (r == 0 && got != rd->ncols)
                return bad(rd, base + in->pos, err,
                           "row group %" PRIu64 " has %" PRIu32
                           " column chunks, the schema %" PRIu32 " columns",
                           g, got, rd->ncols);
            for (uint32_t c = 0; r == 0 && c < got; c++) {
                int16_t l2 = 0;
                struct rd_chunk *ch = &rd->chunks[g * rd->ncols + c];
                bool meta = false;
                r = mlpio_thrift_enter(in, et);
                while (r == 0 && (rc = mlpio_thrift_field(in, &l2, &id, &t)) == 1) {
                    if (id == 1)
                        return bad(rd, base + in->pos, err,
                                   "column %s of row group %" PRIu64 " lies in another file",
                                   rd->cols[c].name, g);
                    if (id == 3) {
                        if (parse_meta(rd, in, base, &rd->cols[c], ch, err) < 0)
                            return -1;
                        meta = true;
                    } else {
                        r = mlpio_thrift_skip(in, t);
                    }
                }
                mlpio_thrift_leave(in);
                if (r == 0 && rc < 0)
                    r = -1;
                if (r == 0 && !meta)
                    return bad(rd, base + in->pos, err,
                               "column %s of row group %" PRIu64 " has no metadata",
                               rd->cols[c].name, g);
            }
        } else if (id == 3) {
            r = mlpio_thrift_read_i64(in, t, &rows);
        } else {
            r = mlpio_thrift_skip(in, t);
        }
        if (r < 0)
            return bad_thrift(rd, base, in, "footer's row groups", err);
    }
    mlpio_thrift_leave(in);
    if (rc < 0)
        return bad_thrift(rd, base, in, "footer's row groups", err);
    if (got == UINT32_MAX || rows < 1)
        return bad(rd, base + in->pos, err, "row group %" PRIu64 " lacks its columns or rows", g);
    rd->group_rows[g] = (uint64_t)rows;
    return 0;
}

static int parse_footer(struct pq_reader *rd, const uint8_t *p, size_t len, uint64_t base,
                        struct mlpio_error *err)
{
    struct mlpio_thrift_in in;
    int16_t last = 0, id;
    uint8_t t, et;
    int rc;
    int64_t rows = -1;
    bool groups = false;
    mlpio_thrift_in_init(&in, p, len);
    while ((rc = mlpio_thrift_field(&in, &last, &id, &t)) == 1) {
        if (id == 2) {
            if (rd->cols)
                return bad(rd, base + in.pos, err, "the footer holds two schemas");
            if (parse_schema(rd, &in, base, t, err) < 0)
                return -1;
        } else if (id == 3) {
            if (mlpio_thrift_read_i64(&in, t, &rows) < 0)
                return bad_thrift(rd, base, &in, "footer", err);
        } else if (id == 4) {
            uint32_t n;
            if (!rd->cols)
                return bad(rd, base + in.pos, err,
                           "the footer's row groups come before its schema");
            if (mlpio_thrift_read_list(&in, t, &et, &n) < 0 || et != MLPIO_TC_STRUCT)
                return bad_thrift(rd, base, &in, "footer's row groups", err);
            rd->groups = n;
            rd->group_rows = calloc(n ? n : 1, sizeof(uint64_t));
            rd->chunks = calloc((size_t)(n ? n : 1) * rd->ncols, sizeof(struct rd_chunk));
            if (!rd->group_rows || !rd->chunks)
                return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory");
            for (uint32_t g = 0; g < n; g++)
                if (parse_group(rd, &in, base, g, err) < 0)
                    return -1;
            groups = true;
        } else if (mlpio_thrift_skip(&in, t) < 0) {
            return bad_thrift(rd, base, &in, "footer", err);
        }
    }
    if (rc < 0)
        return bad_thrift(rd, base, &in, "footer", err);
    if (!rd->cols || !groups || rows < 0)
        return bad(rd, base, err, "the footer lacks its schema, row count or row groups");
    if (in.pos != len)
        return bad(rd, base + in.pos, err, "%zu bytes follow the footer's end", len - in.pos);
    uint64_t sum = 0;
    for (uint64_t g = 0; g < rd->groups; g++)
        sum += rd->group_rows[g];
    if (sum != (uint64_t)rows)
        return bad(rd, base, err, "the row groups hold %" PRIu64 " rows, the footer says %" PRId64,
                   sum, rows);
    rd->rows = (uint64_t)rows;
    return 0;
}

/* Elements per sample and the chunks' places: in file order, inside the data. */
static int check_chunks(struct pq_reader *rd, struct mlpio_error *err)
{
    uint64_t end = 4;
    for (uint64_t g = 0; g < rd->groups; g++)
        for (uint32_t c = 0; c < rd->ncols; c++) {
            struct rd_chunk *ch = &rd->chunks[g * rd->ncols + c];
            struct rd_col *col = &rd->cols[c];
            uint64_t rows = rd->group_rows[g];
            if (ch->values % rows != 0 || ch->values == 0 || (!col->list && ch->values != rows))
                return bad(rd, ch->start, err,
                           "column %s of row group %" PRIu64 " holds %" PRIu64
                           " values for %" PRIu64 " rows",
                           col->name, g, ch->values, rows);
            if (g == 0)
                col->count = ch->values / rows;
            else if (ch->values / rows != col->count)
                return bad(rd, ch->start, err,
                           "column %s has lists of %" PRIu64 " elements in row group %" PRIu64
                           " and of %" PRIu64 " in row group 0 (mlpio reads fixed-size lists)",
                           col->name, ch->values / rows, g, col->count);
            if (ch->start < end || ch->bytes > rd->footer_off - ch->start)
                return bad(rd, ch->start, err,
                           "column %s of row group %" PRIu64 ": %" PRIu64
                           " bytes at offset %" PRIu64 " overlap another chunk or run past the "
                           "data (which ends at %" PRIu64 ")",
                           col->name, g, ch->bytes, ch->start, rd->footer_off);
            end = ch->start + ch->bytes;
        }
    return 0;
}

/* The file's schema against the one expected. */
static int check_expected(struct pq_reader *rd, const struct mlpio_format_shape *expect,
                          struct mlpio_error *err)
{
    struct pq_plan p;
    if (plan_init(rd->path, expect, &p, err) < 0)
        return -1;
    int rc = 0;
    if (rd->ncols != p.ncols)
        rc = bad(rd, rd->footer_off, err, "the file has %" PRIu32 " columns, expected %" PRIu32,
                 rd->ncols, p.ncols);
    for (uint32_t c = 0; rc == 0 && c < p.ncols; c++) {
        const struct rd_col *f = &rd->cols[c];
        const struct mlpio_format_column *e = p.cols[c].c;
        if (strcmp(f->name, e->name) != 0 || f->dtype != (int)e->dtype || f->list != e->list ||
            f->count != e->count)
            rc = bad(rd, rd->footer_off, err,
                     "column %" PRIu32 " is %s (%s%s of %" PRIu64 "), expected %s (%s%s of %" PRIu64
                     ")",
                     c, f->name, f->dt->name, f->list ? " list" : "", f->count, e->name,
                     dtypes[e->dtype].name, e->list ? " list" : "", e->count);
    }
    if (rc == 0 && (rd->rows != p.rows || rd->groups != p.groups))
        rc = bad(rd, rd->footer_off, err,
                 "%" PRIu64 " rows in %" PRIu64 " row groups, expected %" PRIu64 " in %" PRIu64,
                 rd->rows, rd->groups, p.rows, p.groups);
    for (uint64_t g = 0; rc == 0 && g < p.groups; g++)
        if (rd->group_rows[g] != group_rows(&p, g))
            rc = bad(rd, rd->footer_off, err,
                     "row group %" PRIu64 " has %" PRIu64 " rows, expected %" PRIu64, g,
                     rd->group_rows[g], group_rows(&p, g));
    plan_free(&p);
    return rc;
}

/* ---- pages --------------------------------------------------------------------------------- */

struct page {
    int32_t type, size, csize, nvalues, encoding;
    uint64_t body; /* offset of the page's body */
};

static int parse_page(struct pq_reader *rd, uint64_t off, uint64_t end, struct page *pg,
                      struct mlpio_error *err)
{
    size_t n = end - off < HEADER_MAX ? (size_t)(end - off) : HEADER_MAX;
    const uint8_t *p = mlpio_fmt_need(&rd->r, off, n, err);
    if (!p)
        return -1;
    struct mlpio_thrift_in in;
    int16_t last = 0, id, l2;
    uint8_t t, t2;
    int rc;
    mlpio_thrift_in_init(&in, p, n);
    memset(pg, 0, sizeof(*pg));
    pg->type = pg->size = pg->csize = pg->nvalues = pg->encoding = -1;
    while ((rc = mlpio_thrift_field(&in, &last, &id, &t)) == 1) {
        int r = 0;
        if (id == 1)
            r = mlpio_thrift_read_i32(&in, t, &pg->type);
        else if (id == 2)
            r = mlpio_thrift_read_i32(&in, t, &pg->size);
        else if (id == 3)
            r = mlpio_thrift_read_i32(&in, t, &pg->csize);
        else if (id == 5 || id == 7) {
            r = mlpio_thrift_enter(&in, t);
            l2 = 0;
            while (r == 0 && (rc = mlpio_thrift_field(&in, &l2, &id, &t2)) == 1)
                r = id == 1   ? mlpio_thrift_read_i32(&in, t2, &pg->nvalues)
                    : id == 2 ? mlpio_thrift_read_i32(&in, t2, &pg->encoding)
                              : mlpio_thrift_skip(&in, t2);
            mlpio_thrift_leave(&in);
            if (rc < 0)
                r = -1;
        } else {
            r = mlpio_thrift_skip(&in, t);
        }
        if (r < 0)
            break;
    }
    if (rc != 0 || in.why[0])
        return bad_thrift(rd, off, &in, "page header", err);
    if (pg->type == PAGE_DATA_V2)
        return bad(rd, off, err, "DATA_PAGE_V2 pages are not read by mlpio (it reads v1 pages)");
    if ((pg->type != PAGE_DATA && pg->type != PAGE_DICT) || pg->size < 0 || pg->nvalues < 0)
        return bad(rd, off, err, "page header of type %" PRId32 " lacks its sizes or values",
                   pg->type);
    if (pg->size != pg->csize)
        return bad(rd, off, err,
                   "a compressed page (%" PRId32 " bytes stored, %" PRId32
                   " uncompressed); mlpio reads uncompressed files",
                   pg->csize, pg->size);
    pg->body = off + in.pos;
    if ((uint64_t)pg->size > end - pg->body)
        return bad(rd, off, err,
                   "a page of %" PRId32 " bytes runs past its column chunk (%" PRIu64
                   " bytes left)",
                   pg->size, end - pg->body);
    return 0;
}

static int skip_bytes(struct pq_reader *rd, uint64_t off, uint64_t len, struct mlpio_error *err)
{
    while (len > 0) {
        size_t got;
        if (!mlpio_fmt_peek(&rd->r, off, len, &got, err))
            return -1;
        off += got;
        len -= got;
    }
    return 0;
}

/* The levels of a list page: two length-prefixed RLE sections. Returns the bytes they take. */
static int skip_levels(struct pq_reader *rd, const struct page *pg, uint64_t *used,
                       struct mlpio_error *err)
{
    uint64_t off = pg->body, left = (uint64_t)pg->size;
    for (int i = 0; i < 2; i++) {
        const uint8_t *p = left >= 4 ? mlpio_fmt_need(&rd->r, off, 4, err) : NULL;
        if (!p && left >= 4)
            return -1;
        uint32_t n = p ? mlpio_fmt_le32(p) : 0;
        if (!p || n > left - 4)
            return bad(rd, off, err, "%s levels of %" PRIu32 " bytes run past their page",
                       i ? "definition" : "repetition", n);
        if (skip_bytes(rd, off + 4, n, err) < 0)
            return -1;
        off += 4 + n;
        left -= 4 + n;
    }
    *used = off - pg->body;
    return 0;
}

/* Hand out the values of rows samples starting at row: one call per sample for a list column. */
static int deliver(struct pq_reader *rd, const struct rd_col *col, uint64_t off, uint64_t row,
                   uint64_t rows, size_t width, struct mlpio_error *err)
{
    uint64_t per = col->count * width, len = rows * per, pos = 0;
    while (pos < len) {
        uint64_t r = pos / per, lim = col->list ? (r + 1) * per - pos : len - pos;
        size_t got;
        const uint8_t *p = mlpio_fmt_peek(&rd->r, off + pos, lim, &got, err);
        if (!p || rd->on_sample(rd->arg, (uint32_t)(row + r), off + pos, p, got, err) != 0)
            return -1;
        pos += got;
    }
    return 0;
}

static int data_page(struct pq_reader *rd, const struct rd_col *col, const struct page *pg,
                     uint64_t *row, struct mlpio_error *err)
{
    uint64_t used = 0;
    if (col->list && skip_levels(rd, pg, &used, err) < 0)
        return -1;
    uint64_t v = (uint64_t)pg->nvalues, off = pg->body + used, left = (uint64_t)pg->size - used;
    if (v % col->count != 0)
        return bad(rd, pg->body, err,
                   "a page of column %s holds %" PRIu64 " values, not whole lists of %" PRIu64,
                   col->name, v, col->count);
    size_t width = col->pwidth;
    if (pg->encoding == ENC_RLE_DICT || pg->encoding == ENC_PLAIN_DICT) {
        const uint8_t *p = col->dt->dict && left >= 2
                               ? mlpio_fmt_need(&rd->r, off, left < 12 ? (size_t)left : 12, err)
                               : NULL;
        if (!p)
            return col->dt->dict && left >= 2
                       ? -1
                       : bad(rd, off, err,
                             "column %s: dictionary indices where mlpio expects PLAIN values",
                             col->name);
        uint64_t h = 0, groups = (v + 7) / 8;
        size_t i = 1;
        for (unsigned s = 0; i < (left < 12 ? left : 12); i++, s += 7) {
            h |= (uint64_t)(p[i] & 0x7f) << s;
            if (!(p[i] & 0x80))
                break;
        }
        width = col->dt->width;
        if (p[0] != col->dt->bits || h != (groups << 1 | 1) || left - i - 1 != groups * 8 * width)
            return bad(rd, off, err,
                       "column %s: dictionary indices of %u bits in %" PRIu64
                       " bytes; mlpio reads one bit-packed run of %d-bit indices",
                       col->name, p[0], left, col->dt->bits);
        off += i + 1;
    } else if (pg->encoding != ENC_PLAIN) {
        return bad(rd, pg->body, err,
                   "column %s: encoding %" PRId32 " is not read by mlpio "
                   "(PLAIN, and dictionary indices for 8- and 16-bit integers)",
                   col->name, pg->encoding);
    } else if (left != v * width) {
        return bad(rd, pg->body, err,
                   "a page of column %s holds %" PRIu64 " bytes for %" PRIu64
                   " values of %zu bytes",
                   col->name, left, v, width);
    }
    uint64_t rows = v / col->count;
    if (deliver(rd, col, off, *row, rows, width, err) < 0)
        return -1;
    if (width == col->dt->width && col->dt->dict &&
        skip_bytes(rd, off + v * width, pg->body + (uint64_t)pg->size - off - v * width, err) < 0)
        return -1;
    *row += rows;
    return 0;
}

static int read_chunk(struct pq_reader *rd, uint64_t g, uint32_t c, uint64_t row0,
                      struct mlpio_error *err)
{
    const struct rd_chunk *ch = &rd->chunks[g * rd->ncols + c];
    const struct rd_col *col = &rd->cols[c];
    uint64_t end = ch->start + ch->bytes, off = ch->start, row = row0;
    bool dict = false;
    while (off < end) {
        struct page pg;
        if (parse_page(rd, off, end, &pg, err) < 0)
            return -1;
        if (pg.type == PAGE_DICT) {
            if (dict || row != row0)
                return bad(rd, off, err, "column %s: a dictionary page after the first page",
                           col->name);
            dict = true;
            if (skip_bytes(rd, pg.body, (uint64_t)pg.size, err) < 0)
                return -1;
        } else if (data_page(rd, col, &pg, &row, err) < 0) {
            return -1;
        }
        off = pg.body + (uint64_t)pg.size;
    }
    if (row - row0 != rd->group_rows[g])
        return bad(rd, ch->start, err,
                   "column %s of row group %" PRIu64 " holds %" PRIu64 " rows in its pages, "
                   "the footer says %" PRIu64,
                   col->name, g, row - row0, rd->group_rows[g]);
    return 0;
}

/* The footer's bytes, copied out of the file through the read buffer. */
static int load_footer(struct pq_reader *rd, uint64_t size, uint8_t **out, uint64_t *len,
                       struct mlpio_error *err)
{
    if (size < 12)
        return bad(rd, 0, err, "%" PRIu64 " bytes is too short for a Parquet file (12 at least)",
                   size);
    const uint8_t *p = mlpio_fmt_need(&rd->r, size - 8, 8, err);
    if (!p)
        return -1;
    if (memcmp(p + 4, MAGIC, 4) != 0)
        return bad(rd, size - 4, err, "the file does not end with the Parquet magic \"PAR1\"");
    uint64_t n = mlpio_fmt_le32(p);
    if (n < 2 || n > size - 12 || n > FOOTER_MAX)
        return bad(rd, size - 8, err,
                   "a footer length of %" PRIu64 " bytes does not fit a file of %" PRIu64, n, size);
    rd->footer_off = size - 8 - n;
    if (!(*out = malloc((size_t)n)))
        return mlpio_error_set(err, MLPIO_ERR_INTERNAL, "out of memory for a parquet footer");
    struct mlpio_fmt_reader fr;
    if (mlpio_fmt_reader_init(&fr, rd->r.f, size, rd->r.buf, rd->r.cap, err) != 0)
        return -1;
    for (uint64_t at = 0; at < n;) {
        size_t got;
        const uint8_t *q = mlpio_fmt_peek(&fr, rd->footer_off + at, n - at, &got, err);
        if (!q)
            return -1;
        memcpy(*out + at, q, got);
        at += got;
    }
    *len = n;
    return 0;
}

static int pq_read_impl(struct mlpio_io_file *f, uint64_t file_size, void *buf, size_t buflen,
                        const struct mlpio_format_shape *expect, struct mlpio_format_shape *shape,
                        mlpio_format_sample_fn on_sample, void *arg, struct mlpio_error *err)
{
    struct pq_reader rd = {.path = f->path, .on_sample = on_sample, .arg = arg};
    uint8_t *foot = NULL;
    uint64_t flen = 0;
    int rc = mlpio_fmt_reader_init(&rd.r, f, file_size, buf, buflen, err);
    if (rc == 0)
        rc = load_footer(&rd, file_size, &foot, &flen, err);
    if (rc == 0)
        rc = parse_footer(&rd, foot, (size_t)flen, rd.footer_off, err);
    if (rc == 0)
        rc = check_chunks(&rd, err);
    if (rc == 0 && expect)
        rc = check_expected(&rd, expect, err);
    /* The data, front to back from the start. */
    if (rc == 0)
        rc = mlpio_fmt_reader_init(&rd.r, f, file_size, buf, buflen, err);
    const uint8_t *p = rc == 0 ? mlpio_fmt_need(&rd.r, 0, 4, err) : NULL;
    if (rc == 0 && !p)
        rc = -1;
    if (rc == 0 && memcmp(p, MAGIC, 4) != 0)
        rc = bad(&rd, 0, err, "the file does not start with the Parquet magic \"PAR1\"");
    uint64_t row0 = 0, sample = 0;
    for (uint64_t g = 0; rc == 0 && g < rd.groups; g++) {
        for (uint32_t c = 0; rc == 0 && c < rd.ncols; c++)
            rc = read_chunk(&rd, g, c, row0, err);
        row0 += rd.group_rows[g];
    }
    for (uint32_t c = 0; rc == 0 && c < rd.ncols; c++)
        sample += rd.cols[c].count * rd.cols[c].dt->width;
    if (rc == 0)
        *shape = (struct mlpio_format_shape){.d1 = sample, .d2 = 1, .samples = (uint32_t)rd.rows};
    free(foot);
    free(rd.cols);
    free(rd.group_rows);
    free(rd.chunks);
    return rc;
}

static int pq_read(struct mlpio_io_file *f, uint64_t file_size, void *buf, size_t buflen,
                   struct mlpio_format_shape *shape, mlpio_format_sample_fn on_sample, void *arg,
                   struct mlpio_error *err)
{
    return pq_read_impl(f, file_size, buf, buflen, NULL, shape, on_sample, arg, err);
}

static int pq_read_expect(struct mlpio_io_file *f, uint64_t file_size, void *buf, size_t buflen,
                          const struct mlpio_format_shape *expect, struct mlpio_format_shape *shape,
                          mlpio_format_sample_fn on_sample, void *arg, struct mlpio_error *err)
{
    return pq_read_impl(f, file_size, buf, buflen, expect, shape, on_sample, arg, err);
}

const struct mlpio_format mlpio_format_parquet = {
    .name = "parquet",
    .ext = "parquet",
    .file_bytes = pq_file_bytes,
    .compose = pq_compose,
    .read = pq_read,
    .read_expect = pq_read_expect,
    .content_at_file_offset = true,
};
