/*
 * Internal declarations shared by the modules of libpzarr. Never installed.
 *
 * Modules and who may call whom:
 *   util      (errors, allocation, buffers)          <- everyone
 *   grid      (pure shape/selection math)            <- codec, array
 *   codec     (chunk encode/decode pipelines)        <- meta, array
 *   meta      (JSON <-> pz_meta)                     <- store, array
 *   io        (files: metadata and chunk I/O)        <- store, array
 *   par       (collective agreement, ownership)      <- store, array
 *   store/array (the public API)
 */
#ifndef PZ_INTERNAL_H
#define PZ_INTERNAL_H

#include "pzarr.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define PZ_MAX_NDIM PZARR_MAX_NDIM
#define PZ_MAX_CODECS 16
#define PZ_ERRMSG_MAX 1024

#if defined(__GNUC__)
#define PZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PZ_PRINTF(f, a)
#endif

/* ---------------------------------------------------------------- util */

typedef struct pz_err {
    int code;
    char msg[PZ_ERRMSG_MAX];
} pz_err;

/* Records code and message in e (which may be NULL); returns code. */
int pz_err_set(pz_err *e, int code, const char *fmt, ...) PZ_PRINTF(3, 4);
void pz_err_clear(pz_err *e);
/* Propagates a failing call: `PZ_TRY(f(...));` returns its code. */
#define PZ_TRY(expr)                  \
    do {                              \
        int pz_try_rc_ = (expr);      \
        if (pz_try_rc_ != 0)          \
            return pz_try_rc_;        \
    } while (0)

/* The one allocation funnel. pz_alloc_fail_after(n) makes the n-th next
 * allocation fail (tests); n < 0 disables. */
void *pz_malloc(size_t n);
void *pz_calloc(size_t count, size_t size);
void *pz_realloc(void *p, size_t n);
void pz_free(void *p);
char *pz_strdup(const char *s);
void pz_alloc_fail_after(long n);

/* Overflow-checked arithmetic: return false on overflow. */
bool pz_mul_u64(uint64_t a, uint64_t b, uint64_t *out);
bool pz_add_u64(uint64_t a, uint64_t b, uint64_t *out);

/* A growable byte buffer. */
typedef struct pz_buf {
    unsigned char *data;
    size_t size;
    size_t cap;
} pz_buf;

int pz_buf_reserve(pz_buf *b, size_t cap);
int pz_buf_append(pz_buf *b, const void *p, size_t n);
void pz_buf_free(pz_buf *b);

/* ---------------------------------------------------------------- dtype */

/* pzarr_dtype_size / pzarr_dtype_name are public. */
/* Parses a v3 data_type name; returns PZARR_EUNSUPPORTED for others. */
int pz_dtype_from_v3(const char *name, pzarr_dtype *t);
/* Parses a v2 dtype string ("<f8", "|b1", ">i2", ...); *big_endian is set
 * for '>' (multi-byte types only). */
int pz_dtype_from_v2(const char *s, pzarr_dtype *t, bool *big_endian);
/* Writes the v2 dtype string of t ("<f8", "|u1", ...). */
void pz_dtype_to_v2(pzarr_dtype t, bool big_endian, char out[8]);

/* ---------------------------------------------------------------- codecs */

typedef enum pz_codec_id {
    PZ_CODEC_BYTES,     /* array -> bytes */
    PZ_CODEC_TRANSPOSE, /* array -> array */
    PZ_CODEC_BLOSC,     /* bytes -> bytes */
    PZ_CODEC_GZIP,
    PZ_CODEC_ZLIB, /* v2 only */
    PZ_CODEC_ZSTD,
    PZ_CODEC_CRC32C
} pz_codec_id;

typedef struct pz_codec {
    pz_codec_id id;
    union {
        struct {
            bool big_endian;
            bool has_endian; /* v3 "endian" present (absent for 1-byte types) */
        } bytes;
        struct {
            int order[PZ_MAX_NDIM]; /* output axis i is input axis order[i] */
        } transpose;
        struct {
            char cname[16]; /* lz4, lz4hc, blosclz, zstd, zlib, snappy */
            int clevel;
            int shuffle;  /* 0 none, 1 byte shuffle, 2 bit shuffle */
            int typesize; /* bytes per element for shuffling */
            int blocksize;
        } blosc;
        struct {
            int level;
        } gzip; /* also zlib */
        struct {
            int level;
            bool checksum;
        } zstd;
    } u;
} pz_codec;

/*
 * A chunk's codec chain, in Zarr v3 order: array->array codecs, then exactly
 * one array->bytes codec, then bytes->bytes codecs. A v2 array is mapped to
 * the same form: order "F" is a transpose reversing the axes, the dtype's
 * byte order is the bytes codec, the compressor a bytes->bytes codec.
 */
typedef struct pz_pipeline {
    int n;
    pz_codec c[PZ_MAX_CODECS];
} pz_pipeline;

/* Parses a v3 "codecs" array for an array of rank ndim and data type t. */
int pz_pipeline_parse_v3(const cJSON *codecs, int ndim, pzarr_dtype t,
                         pz_pipeline *p, pz_err *e);
/* Builds the pipeline of a v2 array. compressor and filters may be NULL or
 * JSON null. */
int pz_pipeline_from_v2(const cJSON *compressor, const cJSON *filters,
                        bool order_f, bool big_endian, int ndim, pzarr_dtype t,
                        pz_pipeline *p, pz_err *e);
/* The v3 "codecs" JSON array. NULL on allocation failure. */
cJSON *pz_pipeline_emit_v3(const pz_pipeline *p);
/* The v2 "compressor" JSON (JSON null when there is none). */
cJSON *pz_pipeline_emit_v2_compressor(const pz_pipeline *p);
/* A short human description, e.g. "transpose(1,0) bytes(big) zstd(3)". */
void pz_pipeline_describe(const pz_pipeline *p, char *out, size_t cap);

/*
 * Encodes one whole chunk. `chunk` holds prod(chunk_shape) elements of
 * itemsize bytes, C order, native byte order. out is reset and filled.
 */
int pz_chunk_encode(const pz_pipeline *p, int ndim, const uint64_t *chunk_shape,
                    pzarr_dtype t, const void *chunk, pz_buf *out, pz_err *e);
/*
 * Decodes one chunk into `chunk` (prod(chunk_shape) * itemsize bytes, C order,
 * native byte order). Any inconsistency (bad header, wrong decoded size,
 * checksum mismatch, truncation) is PZARR_ECORRUPT naming the failing codec;
 * the caller prefixes the chunk key.
 */
int pz_chunk_decode(const pz_pipeline *p, int ndim, const uint64_t *chunk_shape,
                    pzarr_dtype t, const void *in, size_t n, void *chunk,
                    pz_err *e);

/* CRC-32C (Castagnoli), as the crc32c codec uses it. */
uint32_t pz_crc32c(const void *p, size_t n);

/* ---------------------------------------------------------------- meta */

/* v3 sharding_indexed: the array's chunks are shards holding inner chunks
 * encoded by `pipeline` of pz_meta, with an index of (offset, nbytes) pairs. */
typedef struct pz_shard_spec {
    bool on;
    uint64_t inner[PZ_MAX_NDIM]; /* inner chunk shape; divides the shard */
    bool index_big;              /* index "bytes" codec endian */
    bool index_has_endian;
    bool index_crc;              /* index followed by crc32c */
    bool index_at_start;         /* "index_location": "start" */
} pz_shard_spec;

typedef struct pz_meta {
    int zarr_format; /* 2 or 3 */
    int ndim;
    uint64_t shape[PZ_MAX_NDIM];
    uint64_t chunks[PZ_MAX_NDIM]; /* regular chunk grid */
    pzarr_dtype dtype;
    size_t itemsize;
    /* Fill value as the element's native bytes. v2 "fill_value": null sets
     * fill_null and the bytes to zero. */
    unsigned char fill[16];
    bool fill_null;
    /* Chunk keys: v3 "default" gives prefix "c" and key_sep; v3 "v2" and
     * Zarr v2 give no prefix. */
    char key_sep; /* '/' or '.' */
    bool key_v2_style;
    pz_pipeline pipeline; /* for sharded arrays: the inner chunks' codecs */
    pz_shard_spec shard;
    /* v2 only, kept to emit the document again */
    bool v2_order_f;
    bool v2_big_endian;
    /* v3 dimension_names: NULL or ndim entries, each NULL or a string */
    char **dimension_names;
    /* The attributes object (never NULL after a successful parse). */
    cJSON *attributes;
} pz_meta;

/*
 * Parses an array document. For v3, `doc` is zarr.json. For v2, `doc` is
 * .zarray and `attrs_doc` the optional .zattrs text (may be NULL); an
 * "attributes" member inside .zarray is also accepted (creation). Every
 * field is validated; sizes are overflow-checked; the error names the field.
 */
int pz_meta_parse(const char *doc, size_t len, const char *attrs_doc,
                  size_t attrs_len, pz_meta *m, pz_err *e);
/* Like pz_meta_parse but the format is given (2: .zarray, 3: zarr.json);
 * used when the format is known from the file name. */
int pz_meta_parse_format(int zarr_format, const char *doc, size_t len,
                         const char *attrs_doc, size_t attrs_len, pz_meta *m,
                         pz_err *e);
/* Emits the array document: zarr.json for v3 (attributes included), .zarray
 * for v2 (without attributes; those go to .zattrs via pz_meta_emit_attrs).
 * Returns a pz_malloc'd string or NULL. */
char *pz_meta_emit(const pz_meta *m);
char *pz_meta_emit_attrs(const pz_meta *m);
void pz_meta_free(pz_meta *m);
int pz_meta_copy(const pz_meta *src, pz_meta *dst);

/* Group documents. */
char *pz_group_emit(int zarr_format, const cJSON *attributes);

/* Fill value: parses JSON into native bytes / emits the JSON value. */
int pz_fill_parse(const cJSON *v, pzarr_dtype t, int zarr_format,
                  unsigned char out[16], bool *is_null, pz_err *e);
cJSON *pz_fill_emit(pzarr_dtype t, int zarr_format, const unsigned char *fill,
                    bool is_null);

/* Elements per chunk and bytes per chunk, overflow-checked at parse time. */
uint64_t pz_meta_chunk_elems(const pz_meta *m);
/* Chunks along each dimension and in all. */
uint64_t pz_meta_grid_dim(const pz_meta *m, int d);
uint64_t pz_meta_nchunks(const pz_meta *m);
/* Writes the chunk key ("c/0/1", "0.1", "c" for 0-d, ...) of chunk grid
 * coordinates cc. */
int pz_meta_chunk_key(const pz_meta *m, const uint64_t *cc, char *out,
                      size_t cap);

/* ---------------------------------------------------------------- meta (additions) */

/* Prints a JSON value with every number written so that it reads back
 * exactly (cJSON_Print may drop digits: 2^53 prints as 9007199254740990,
 * 0.30000000000000004 as 0.3). Returns a pz_malloc'd string or NULL. */
char *pz_json_print(const cJSON *v, bool formatted);

/* sharding_indexed (shard.c) */
int pz_shard_parse(const cJSON *codec, pz_meta *m, pz_err *e);
cJSON *pz_shard_emit(const pz_meta *m);
/* Bytes of a shard index: 16 per inner chunk, + 4 with crc32c. */
uint64_t pz_shard_index_bytes(const pz_meta *m);
/* Inner chunks per shard. */
uint64_t pz_shard_inner_count(const pz_meta *m);

/* ---------------------------------------------------------------- grid */

/* Product of n[0..ndim), false on overflow. ndim 0 gives 1. */
bool pz_prod(int ndim, const uint64_t *n, uint64_t *out);
/* Whether the box (start, count) lies inside shape; false on overflow. */
bool pz_box_inside(int ndim, const uint64_t *shape, const uint64_t *start,
                   const uint64_t *count);
/*
 * Copies the box of size `count` from src (dense array of shape src_shape,
 * C order) at src_start to dst (shape dst_shape) at dst_start. Contiguous
 * innermost dimensions are merged into single memcpy calls.
 */
void pz_copy_box(int ndim, size_t itemsize, const uint64_t *count,
                 const void *src, const uint64_t *src_shape,
                 const uint64_t *src_start, void *dst,
                 const uint64_t *dst_shape, const uint64_t *dst_start);
/* Fills the box with a repeated element. */
void pz_fill_box(int ndim, size_t itemsize, const uint64_t *count, void *dst,
                 const uint64_t *dst_shape, const uint64_t *dst_start,
                 const void *elem);
/* Whether every element of buf[n] equals elem (bytewise). */
bool pz_all_equal(const void *buf, uint64_t n, size_t itemsize,
                  const void *elem);

/*
 * Iterates the chunks that intersect the box (start, count) of an array
 * chunked by `chunks`. For each: the chunk's grid coordinates, the part of
 * the box inside it (in chunk-local coordinates: cstart, and in box
 * coordinates: bstart) and the size of that part (n).
 */
typedef struct pz_chunk_iter {
    int ndim;
    uint64_t chunks[PZ_MAX_NDIM];
    uint64_t start[PZ_MAX_NDIM], count[PZ_MAX_NDIM];
    uint64_t first[PZ_MAX_NDIM], last[PZ_MAX_NDIM]; /* chunk coord range */
    uint64_t cc[PZ_MAX_NDIM];                       /* current chunk */
    uint64_t cstart[PZ_MAX_NDIM], bstart[PZ_MAX_NDIM], n[PZ_MAX_NDIM];
    bool done;
} pz_chunk_iter;

/* Returns false (and it->done) when the box is empty. */
bool pz_chunk_iter_init(pz_chunk_iter *it, int ndim, const uint64_t *chunks,
                        const uint64_t *start, const uint64_t *count);
bool pz_chunk_iter_next(pz_chunk_iter *it);
/* Number of chunks the box touches (0 for an empty box). */
uint64_t pz_chunk_iter_total(const pz_chunk_iter *it);

/* Linear (C order) index of grid coordinates and back. */
uint64_t pz_linear(int ndim, const uint64_t *dims, const uint64_t *coords);
void pz_unlinear(int ndim, const uint64_t *dims, uint64_t idx,
                 uint64_t *coords);

/* Byte swapping of n elements of size itemsize (complex swaps each half). */
void pz_byteswap(void *buf, uint64_t n, size_t itemsize, pzarr_dtype t);

/* ---------------------------------------------------------------- names */

/* Validates a node name; on success writes its canonical form (no trailing
 * '/'). */
int pz_name_check(const char *name, char *out, size_t cap, pz_err *e);

#endif /* PZ_INTERNAL_H */
