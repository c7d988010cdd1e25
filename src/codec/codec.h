/*
 * codec: chunk codecs behind one table of operations (codec_impl.h), the
 * chain that runs them (chain.c), and sharding_indexed: its configuration and
 * its index as pure code (sharding.c). Pure: no MPI, no files.
 */
#ifndef PZ_CODEC_H
#define PZ_CODEC_H

#include "grid/grid.h"

#define PZ_MAX_CODECS 16

typedef enum pz_codec_id {
    PZ_CODEC_BYTES,     /* array -> bytes */
    PZ_CODEC_TRANSPOSE, /* array -> array */
    PZ_CODEC_BLOSC,     /* bytes -> bytes */
    PZ_CODEC_GZIP,
    PZ_CODEC_ZLIB, /* v2 only */
    PZ_CODEC_ZSTD,
    PZ_CODEC_CRC32C,
    PZ_CODEC_LZ4,  /* v2 compressors from numcodecs */
    PZ_CODEC_BZ2,
    PZ_CODEC_LZMA,
    PZ_CODEC_DELTA, /* v2 filters from numcodecs (filters.c) */
    PZ_CODEC_FIXEDSCALEOFFSET,
    PZ_CODEC_QUANTIZE,
    PZ_CODEC_BITROUND,
    PZ_CODEC_SHUFFLE,
    PZ_CODEC_ZFP,  /* array->bytes: v3 zfp (zfp.c) */
    PZ_CODEC_ZFPY, /* array->bytes: v2 numcodecs zfpy, with zfp's header */
    PZ_CODEC_CRC32, /* numcodecs' checksums (checksum32.c) */
    PZ_CODEC_ADLER32,
    PZ_CODEC_FLETCHER32,
    PZ_CODEC_BITROUND3, /* zarr-extensions "bitround" (v3) */
    PZ_CODEC_VLEN_UTF8, /* array->bytes of variable-length elements (vlen.c) */
    PZ_CODEC_VLEN_BYTES,
    PZ_NCODECS
} pz_codec_id;

/* A numpy element type of a filter's configuration ("<f8", "|u1"). */
typedef struct pz_np_type {
    char kind; /* 'f', 'i', 'u' */
    int size;
    bool big;
} pz_np_type;

typedef struct pz_codec {
    pz_codec_id id;
    bool v3_before_bytes; /* a numcodecs array->array codec of v3, run after "bytes" */
    bool v2_filter;       /* in Zarr v2 one of "filters" (else the compressor) */
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
        struct {
            int acceleration;
        } lz4;
        struct {
            pz_np_type dtype, astype;
            double scale, offset; /* fixedscaleoffset */
            int digits;           /* quantize */
            int keepbits;         /* bitround */
            int elementsize;      /* shuffle */
        } filt;
        struct {
            int level;
        } bz2;
        struct {
            bool at_end;         /* the checksum after the data */
            bool location_given; /* "location" was in the configuration */
        } sum;
        struct {
            int mode; /* reversible, fixed rate, precision, accuracy, expert */
            double rate, tolerance;
            int precision;
            int minbits, maxbits, maxprec, minexp;
            bool header; /* zfpy: the stream starts with zfp's full header */
            int v2_mode; /* zfpy: numcodecs' mode number, as given */
        } zfp;
        struct {
            int format; /* 1 .xz, 2 .lzma */
            int check;  /* -1: the format's default */
            int preset; /* -1: the library's default */
        } lzma;
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
    /* n == 0: codecs pzarr does not know (an array opened with
     * PZARR_OPAQUE_CODECS), which this names; encoding and decoding fail. */
    char unsupported[96];
} pz_pipeline;

/* ---------------------------------------------------------------- the chain (chain.c) */

/* Parses a v3 "codecs" array (without sharding_indexed) for an array of
 * rank ndim and data type t. */
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
/* The v2 "filters" JSON (JSON null when there are none). */
cJSON *pz_pipeline_emit_v2_filters(const pz_pipeline *p);
/* Whether encoded chunks are the chunk's native bytes (a little-endian
 * "bytes" alone: no transpose, compression or checksum). */
bool pz_pipeline_is_identity(const pz_pipeline *p, size_t itemsize);

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

/* ---------------------------------------------------------------- variable length (vlen.c) */

/*
 * A chunk of a variable-length array, decoded, is vlen's own layout: u32le
 * element count, then per element u32le length + bytes (C order). These run
 * the pipeline's bytes->bytes codecs after / before the vlen codec.
 */
int pz_vlen_encode(const pz_pipeline *p, const void *layout, size_t n, pz_buf *out, pz_err *e);
int pz_vlen_decode(const pz_pipeline *p, pzarr_dtype t, uint64_t nelem, const void *in,
                   size_t n, pz_buf *out, pz_err *e);
/* Checks a layout of nelem elements (UTF-8 for strings); pos and len (each
 * NULL or nelem entries) get where each element's bytes start and their
 * length. PZARR_ECORRUPT naming what is wrong. */
int pz_vlen_index(pzarr_dtype t, const unsigned char *buf, size_t n, uint64_t nelem,
                  uint64_t *pos, uint32_t *len, pz_err *e);
void pz_vlen_put_u32(unsigned char *p, uint32_t v);
bool pz_utf8_valid(const unsigned char *s, size_t n);

/* CRC-32C (Castagnoli), as the crc32c codec uses it (crc32c.c). */
uint32_t pz_crc32c(const void *p, size_t n);

/* ---------------------------------------------------------------- sharding (sharding.c) */

/* v3 sharding_indexed: the array's chunks are shards holding inner chunks
 * encoded by the inner pipeline, with an index of (offset, nbytes) pairs. */
typedef struct pz_shard_spec {
    bool on;
    uint64_t inner[PZ_MAX_NDIM]; /* inner chunk shape; divides the shard */
    uint64_t ninner;             /* inner chunks per shard */
    bool index_big;              /* index "bytes" codec endian */
    bool index_has_endian;
    bool index_crc;              /* index followed by crc32c */
    bool index_at_start;         /* "index_location": "start" */
} pz_shard_spec;

#define PZ_SHARD_EMPTY UINT64_MAX /* offset and size of an absent inner chunk */

/*
 * Parses a v3 "codecs" array: either sharding_indexed alone (sh->on; p gets
 * the inner codecs) or a plain chain. `chunks` is the chunk grid's shape.
 */
int pz_codecs_parse_v3(const cJSON *codecs, int ndim, pzarr_dtype t, const uint64_t *chunks,
                       pz_pipeline *p, pz_shard_spec *sh, pz_err *e);
/* The v3 "codecs" array of either form. */
cJSON *pz_codecs_emit_v3(const pz_pipeline *p, const pz_shard_spec *sh, int ndim);
/* Bytes of a shard index: 16 per inner chunk, + 4 with crc32c. */
uint64_t pz_shard_index_bytes(const pz_shard_spec *sh);
/*
 * Decodes and checks a shard index read from a file of file_size bytes: the
 * crc32c, every entry inside the data part of the file, no two entries
 * overlapping. entries gets 2 * ninner values; key names the shard.
 */
int pz_shard_index_decode(const pz_shard_spec *sh, const unsigned char *raw,
                          uint64_t file_size, const char *key, uint64_t *entries, pz_err *e);
void pz_shard_index_encode(const pz_shard_spec *sh, const uint64_t *entries,
                           unsigned char *out);

#endif /* PZ_CODEC_H */
