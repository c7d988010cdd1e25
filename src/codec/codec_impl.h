/*
 * Inside the codec layer: the table of operations every codec fills in, the
 * reader of configuration objects, and the size expectations of decoders.
 * A new codec is one file defining a pz_codec_ops and one row in chain.c.
 */
#ifndef PZ_CODEC_IMPL_H
#define PZ_CODEC_IMPL_H

#include "codec.h"

typedef enum pz_codec_kind { PZ_KIND_A2A, PZ_KIND_A2B, PZ_KIND_B2B } pz_codec_kind;

/* One configuration being read: a v3 "configuration" object or a v2
 * compressor object (v2). obj NULL: every field absent. */
typedef struct pz_cfg {
    const cJSON *obj;
    const char *what; /* "codec" or "compressor" */
    const char *name;
    bool v2;
    pz_err *e;
} pz_cfg;

int pz_cfg_fields(const pz_cfg *c, const char *const *allowed, size_t n);
const cJSON *pz_cfg_get(const pz_cfg *c, const char *field);
int pz_cfg_int(const pz_cfg *c, const char *field, int lo, int hi, int dflt, int *out);
int pz_cfg_bool(const pz_cfg *c, const char *field, bool dflt, bool *out);
/* Index of the string field's value in names[], or dflt when absent. */
int pz_cfg_enum(const pz_cfg *c, const char *field, const char *const *names, size_t n,
                int dflt, int *out);

/* What a decoder may produce: exactly `exact` bytes, or at most `cap`. */
#define PZ_UNKNOWN_SIZE SIZE_MAX
typedef struct pz_want {
    size_t exact; /* PZ_UNKNOWN_SIZE when only the cap is known */
    size_t cap;
} pz_want;

size_t pz_want_limit(pz_want w);
int pz_want_too_big(const char *nm, pz_want w, pz_err *e);
int pz_want_check(const char *nm, size_t got, pz_want w, pz_err *e);
int pz_codec_reserve(pz_buf *b, size_t n, const char *what, pz_err *e);

typedef struct pz_codec_ops {
    pz_codec_id id;
    const char *name; /* the v3 name and the v2 "id" */
    pz_codec_kind kind;
    bool in_v3, in_v2; /* a v3 codec; a v2 compressor */
    bool v2_filter;    /* a v2 filter (numcodecs), between the bytes and the compressor */
    /* numcodecs in Zarr v3: "numcodecs.<name>", its v2 fields as the
     * configuration; an array->array one there (v3_a2a) runs here after a
     * little-endian "bytes", which is the same on this little-endian host. */
    const char *v3_name;
    bool v3_a2a;
    /* Reads the configuration (c->v2: a v2 compressor) into out. */
    int (*parse)(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out);
    /* Completes the v3 object {"name": ...} (adds "configuration"). */
    bool (*emit_v3)(const pz_codec *c, cJSON *obj);
    /* Fills a v2 compressor object, keys sorted as zarr-python writes them. */
    bool (*emit_v2)(const pz_codec *c, cJSON *obj);
    /* array->array: the encoded shape, and the permutation either way. */
    void (*a2a_shape)(const pz_codec *c, int ndim, const uint64_t *in, uint64_t *out);
    void (*a2a_apply)(const pz_codec *c, int ndim, const uint64_t *decoded_shape, size_t isz,
                      const unsigned char *src, unsigned char *dst, bool encode);
    /* array->bytes: whether the stored bytes are swapped from the host's. */
    bool (*a2b_swaps)(const pz_codec *c, size_t isz);
    /* array->bytes codecs that transform (zfp): the chunk of `shape` and
     * data type t (nbytes, native order) to bytes and back. */
    int (*a2b_encode)(const pz_codec *c, int ndim, const uint64_t *shape, pzarr_dtype t,
                      const unsigned char *in, size_t nbytes, pz_buf *out, pz_err *e);
    int (*a2b_decode)(const pz_codec *c, int ndim, const uint64_t *shape, pzarr_dtype t,
                      const unsigned char *in, size_t n, unsigned char *out, size_t nbytes,
                      pz_err *e);
    /* bytes->bytes. out is reset and filled. */
    int (*encode)(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                  pz_err *e);
    int (*decode)(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                  pz_buf *out, pz_err *e);
    /* bytes->bytes that only append a trailer of `trailer` bytes: checks it
     * and drops it from *n, in place, instead of decode. */
    size_t trailer;
    int (*check)(const pz_codec *c, const unsigned char *in, size_t *n, pz_err *e);
} pz_codec_ops;

extern const pz_codec_ops pz_codec_bytes, pz_codec_transpose, pz_codec_blosc, pz_codec_gzip,
    pz_codec_zlib, pz_codec_zstd, pz_codec_crc32c, pz_codec_lz4, pz_codec_bz2, pz_codec_lzma,
    pz_codec_delta, pz_codec_fso, pz_codec_quantize, pz_codec_bitround, pz_codec_shuffle,
    pz_codec_zfp, pz_codec_zfpy, pz_codec_crc32, pz_codec_adler32, pz_codec_fletcher32,
    pz_codec_bitround3, pz_codec_vlen_utf8, pz_codec_vlen_bytes;

/* The v3 configuration of a numcodecs codec: its v2 fields but "id". */
bool pz_emit_v3_numcodecs(const pz_codec_ops *o, const pz_codec *c, cJSON *obj);

/* A transpose reversing the axes (v2 order "F"). */
void pz_transpose_reversed(pz_codec *c, int ndim);

#endif /* PZ_CODEC_IMPL_H */
