/*
 * zfp through libzfp, as two array->bytes codecs:
 *
 * - "zfp" (Zarr v3, zarr-extensions): {"mode": "reversible" | "fixed_rate"
 *   {rate} | "fixed_precision" {precision} | "fixed_accuracy" {tolerance} |
 *   "expert" {minbits, maxbits, maxprec, minexp}}; the chunk is the bare zfp
 *   stream, no header. Chunks of 1-4 dimensions map to zfp's (nx the last
 *   axis); of more, the dimensions of size 1 are dropped first. int32,
 *   int64, float32, float64; uint32 and uint64 offset by 2^31 or 2^63 into
 *   the signed type.
 * - "zfpy" (Zarr v2, numcodecs.zfpy; "numcodecs.zfpy" in v3):
 *   {"mode": 2|3|4, "rate", "precision", "tolerance"}, the chunk starting
 *   with zfp's full header, as zfpy.compress_numpy writes it; a tolerance
 *   below 0 in mode 4 is reversible. The decoder takes the shape and the
 *   mode from the header and checks them against the chunk's.
 *
 * libzfp reads its stream a 64-bit word at a time without bounds: a chunk
 * is decoded from a copy in a buffer of the most this chunk's stream can
 * take, and one that reads past its own end is corrupt.
 */
#include "codec_impl.h"

#include <math.h>
#include <string.h>
#include <zfp.h>

enum { ZM_REVERSIBLE, ZM_RATE, ZM_PRECISION, ZM_ACCURACY, ZM_EXPERT };

static const char *const mode_names[] = {"reversible", "fixed_rate", "fixed_precision",
                                         "fixed_accuracy", "expert"};

/* The zfp scalar type of a data type (uint: its offset signed type). */
static int zfp_type_of(pzarr_dtype t, bool header, zfp_type *zt, bool *offset)
{
    *offset = false;
    switch (t) {
    case PZARR_FLOAT32: *zt = zfp_type_float; return 0;
    case PZARR_FLOAT64: *zt = zfp_type_double; return 0;
    case PZARR_INT32: *zt = zfp_type_int32; return 0;
    case PZARR_INT64: *zt = zfp_type_int64; return 0;
    case PZARR_UINT32: *zt = zfp_type_int32; *offset = true; return header ? -1 : 0;
    case PZARR_UINT64: *zt = zfp_type_int64; *offset = true; return header ? -1 : 0;
    default: return -1;
    }
}

static int check_type(const pz_cfg *c, pzarr_dtype t, bool header)
{
    zfp_type zt = zfp_type_none;
    bool off;
    if (zfp_type_of(t, header, &zt, &off) == 0)
        return 0;
    return pz_err_set(c->e, PZARR_EUNSUPPORTED, "%s: zfp does not compress %s (%s)", c->name,
                      pzarr_dtype_name(t) ? pzarr_dtype_name(t) : "this data type",
                      header ? "float32, float64, int32, int64"
                             : "float32, float64, int32, uint32, int64, uint64");
}

static int cfg_number(const pz_cfg *c, const char *field, bool need, double dflt, double *out)
{
    const cJSON *v = pz_cfg_get(c, field);
    if (!v) {
        if (need)
            return pz_err_set(c->e, PZARR_EMETA, "%s \"%s\": \"%s\" is missing", c->what,
                              c->name, field);
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return pz_err_set(c->e, PZARR_EMETA, "%s \"%s\": \"%s\" must be a number", c->what,
                          c->name, field);
    *out = v->valuedouble;
    return 0;
}

/* v3 "zfp". */
static int parse_zfp(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"mode",      "rate",    "precision", "tolerance",
                                         "minbits",   "maxbits", "maxprec",   "minexp"};
    (void)ndim;
    PZ_TRY(pz_cfg_fields(c, fields, sizeof fields / sizeof fields[0]));
    PZ_TRY(check_type(c, t, false));
    int mode;
    if (!pz_cfg_get(c, "mode"))
        return pz_err_set(c->e, PZARR_EMETA, "codec \"zfp\": \"mode\" is missing");
    PZ_TRY(pz_cfg_enum(c, "mode", mode_names, 5, 0, &mode));
    out->u.zfp.mode = mode;
    if (mode == ZM_RATE) {
        PZ_TRY(cfg_number(c, "rate", true, 0, &out->u.zfp.rate));
        if (out->u.zfp.rate <= 0)
            return pz_err_set(c->e, PZARR_EMETA, "codec \"zfp\": \"rate\" must be positive");
    } else if (mode == ZM_PRECISION) {
        PZ_TRY(pz_cfg_int(c, "precision", 1, 64, 0, &out->u.zfp.precision));
        if (!pz_cfg_get(c, "precision"))
            return pz_err_set(c->e, PZARR_EMETA, "codec \"zfp\": \"precision\" is missing");
    } else if (mode == ZM_ACCURACY) {
        PZ_TRY(cfg_number(c, "tolerance", true, 0, &out->u.zfp.tolerance));
        if (out->u.zfp.tolerance < 0)
            return pz_err_set(c->e, PZARR_EMETA,
                              "codec \"zfp\": \"tolerance\" must not be negative");
    } else if (mode == ZM_EXPERT) {
        static const char *const need[] = {"minbits", "maxbits", "maxprec", "minexp"};
        for (int i = 0; i < 4; i++)
            if (!pz_cfg_get(c, need[i]))
                return pz_err_set(c->e, PZARR_EMETA, "codec \"zfp\": \"%s\" is missing",
                                  need[i]);
        PZ_TRY(pz_cfg_int(c, "minbits", 0, ZFP_MAX_BITS, 0, &out->u.zfp.minbits));
        PZ_TRY(pz_cfg_int(c, "maxbits", 1, ZFP_MAX_BITS, 0, &out->u.zfp.maxbits));
        PZ_TRY(pz_cfg_int(c, "maxprec", 1, ZFP_MAX_PREC, 0, &out->u.zfp.maxprec));
        PZ_TRY(pz_cfg_int(c, "minexp", ZFP_MIN_EXP, 1 << 20, 0, &out->u.zfp.minexp));
        if (out->u.zfp.minbits > out->u.zfp.maxbits)
            return pz_err_set(c->e, PZARR_EMETA, "codec \"zfp\": minbits exceeds maxbits");
    }
    return 0;
}

static bool emit_v3_zfp(const pz_codec *c, cJSON *obj)
{
    cJSON *cfg = cJSON_CreateObject();
    if (!cfg || !cJSON_AddItemToObject(obj, "configuration", cfg))
        return cJSON_Delete(cfg), false;
    int m = c->u.zfp.mode;
    bool ok = cJSON_AddStringToObject(cfg, "mode", mode_names[m]) != NULL;
    if (m == ZM_RATE)
        ok = ok && cJSON_AddNumberToObject(cfg, "rate", c->u.zfp.rate);
    else if (m == ZM_PRECISION)
        ok = ok && cJSON_AddNumberToObject(cfg, "precision", c->u.zfp.precision);
    else if (m == ZM_ACCURACY)
        ok = ok && cJSON_AddNumberToObject(cfg, "tolerance", c->u.zfp.tolerance);
    else if (m == ZM_EXPERT)
        ok = ok && cJSON_AddNumberToObject(cfg, "minbits", c->u.zfp.minbits) &&
             cJSON_AddNumberToObject(cfg, "maxbits", c->u.zfp.maxbits) &&
             cJSON_AddNumberToObject(cfg, "maxprec", c->u.zfp.maxprec) &&
             cJSON_AddNumberToObject(cfg, "minexp", c->u.zfp.minexp);
    return ok;
}

/* v2 "zfpy" (and v3 "numcodecs.zfpy"): numcodecs' fields, kept as given. */
static int parse_zfpy(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    /* numcodecs 0.11 also writes "compression_kwargs", a copy of the mode's
     * own parameter that its constructor recomputes: read past, never
     * written (later numcodecs refuse it). */
    static const char *const fields[] = {"id",   "mode",      "tolerance",
                                         "rate", "precision", "compression_kwargs"};
    (void)ndim;
    PZ_TRY(pz_cfg_fields(c, fields, sizeof fields / sizeof fields[0]));
    PZ_TRY(check_type(c, t, true));
    out->u.zfp.header = true;
    int mode;
    PZ_TRY(pz_cfg_int(c, "mode", 2, 4, 4, &mode));
    double prec = -1;
    PZ_TRY(cfg_number(c, "tolerance", false, -1, &out->u.zfp.tolerance));
    PZ_TRY(cfg_number(c, "rate", false, -1, &out->u.zfp.rate));
    PZ_TRY(cfg_number(c, "precision", false, -1, &prec));
    if (prec != floor(prec) || prec > 64)
        return pz_err_set(c->e, PZARR_EMETA, "%s \"zfpy\": \"precision\" must be an integer",
                          c->what);
    out->u.zfp.precision = (int)prec;
    out->u.zfp.v2_mode = mode;
    /* numcodecs passes only the mode's own parameter to zfpy, and zfpy
     * falls back to reversible when it is negative. */
    double own = mode == 4 ? out->u.zfp.tolerance : mode == 2 ? out->u.zfp.rate : prec;
    if (own < 0)
        out->u.zfp.mode = ZM_REVERSIBLE;
    else
        out->u.zfp.mode = mode == 4 ? ZM_ACCURACY : mode == 2 ? ZM_RATE : ZM_PRECISION;
    if (out->u.zfp.mode == ZM_RATE && out->u.zfp.rate == 0)
        return pz_err_set(c->e, PZARR_EMETA, "%s \"zfpy\": a rate of 0", c->what);
    return 0;
}

static bool emit_v2_zfpy(const pz_codec *c, cJSON *o)
{
    return cJSON_AddStringToObject(o, "id", "zfpy") &&
           cJSON_AddNumberToObject(o, "mode", c->u.zfp.v2_mode) &&
           cJSON_AddNumberToObject(o, "precision", c->u.zfp.precision) &&
           cJSON_AddNumberToObject(o, "rate", c->u.zfp.rate) &&
           cJSON_AddNumberToObject(o, "tolerance", c->u.zfp.tolerance);
}

static bool no_swap(const pz_codec *c, size_t isz)
{
    (void)c;
    (void)isz;
    return false;
}

/* zfp's field sizes (nx first) of a chunk shape. */
static int field_dims(const char *nm, int ndim, const uint64_t *shape, size_t *n, int *nd,
                      pz_err *e)
{
    uint64_t keep[PZ_MAX_NDIM];
    int k = 0;
    for (int d = 0; d < ndim; d++)
        if (ndim <= 4 || shape[d] != 1)
            keep[k++] = shape[d];
    if (k > 4)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "%s: a chunk with %d dimensions longer than 1 (zfp takes 4 at most)",
                          nm, k);
    if (k == 0)
        keep[k++] = 1;
    for (int i = 0; i < k; i++)
        n[i] = (size_t)keep[k - 1 - i];
    *nd = k;
    return 0;
}

static zfp_field *make_field(void *p, zfp_type zt, int nd, const size_t *n)
{
    switch (nd) {
    case 1: return zfp_field_1d(p, zt, n[0]);
    case 2: return zfp_field_2d(p, zt, n[0], n[1]);
    case 3: return zfp_field_3d(p, zt, n[0], n[1], n[2]);
    default: return zfp_field_4d(p, zt, n[0], n[1], n[2], n[3]);
    }
}

static int set_mode(const pz_codec *c, zfp_stream *zs, zfp_type zt, int nd, const char *nm,
                    pz_err *e)
{
    switch (c->u.zfp.mode) {
    case ZM_REVERSIBLE:
        zfp_stream_set_reversible(zs);
        return 0;
    case ZM_RATE:
        zfp_stream_set_rate(zs, c->u.zfp.rate, zt, (uint)nd, zfp_false);
        return 0;
    case ZM_PRECISION:
        zfp_stream_set_precision(zs, (uint)c->u.zfp.precision);
        return 0;
    case ZM_ACCURACY:
        zfp_stream_set_accuracy(zs, c->u.zfp.tolerance);
        return 0;
    default:
        if (!zfp_stream_set_params(zs, (uint)c->u.zfp.minbits, (uint)c->u.zfp.maxbits,
                                   (uint)c->u.zfp.maxprec, c->u.zfp.minexp))
            return pz_err_set(e, PZARR_EMETA, "%s: the expert parameters are not valid", nm);
        return 0;
    }
}

/* uint <-> its offset signed type, in place. */
static void offset_values(unsigned char *p, size_t n, size_t isz, bool to_signed)
{
    if (isz == 4) {
        for (size_t i = 0; i < n; i++) {
            uint32_t v;
            memcpy(&v, p + 4 * i, 4);
            v ^= UINT32_C(0x80000000); /* -2^31 and +2^31 alike, modulo 2^32 */
            memcpy(p + 4 * i, &v, 4);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            uint64_t v;
            memcpy(&v, p + 8 * i, 8);
            v ^= UINT64_C(0x8000000000000000);
            memcpy(p + 8 * i, &v, 8);
        }
    }
    (void)to_signed;
}

static const char *cname(const pz_codec *c)
{
    return c->u.zfp.header ? "zfpy" : "zfp";
}

/* The zfp type and field of a chunk, or why zfp cannot take it. */
static int geometry(const pz_codec *c, int ndim, const uint64_t *shape, pzarr_dtype t,
                    zfp_type *zt, bool *off, size_t *n, int *nd, pz_err *e)
{
    if (zfp_type_of(t, c->u.zfp.header, zt, off) != 0)
        return pz_err_set(e, PZARR_EUNSUPPORTED, "%s: zfp does not compress this data type",
                          cname(c));
    return field_dims(cname(c), ndim, shape, n, nd, e);
}

/* Releases what an encode or decode opened (any of them may be NULL). */
static void release(bitstream *bs, zfp_stream *zs, zfp_field *f)
{
    if (bs)
        stream_close(bs);
    if (zs)
        zfp_stream_close(zs);
    if (f)
        zfp_field_free(f);
}

static int zfp_encode(const pz_codec *c, int ndim, const uint64_t *shape, pzarr_dtype t,
                      const unsigned char *in, size_t nbytes, pz_buf *out, pz_err *e)
{
    const char *nm = cname(c);
    zfp_type zt = zfp_type_none;
    bool off;
    size_t n[4];
    int nd;
    PZ_TRY(geometry(c, ndim, shape, t, &zt, &off, n, &nd, e));
    unsigned char *tmp = NULL;
    size_t isz = pzarr_dtype_size(t);
    if (off) { /* the offset copy; the caller's chunk stays as it is */
        tmp = pz_malloc(nbytes ? nbytes : 1);
        if (!tmp)
            return pz_err_set(e, PZARR_ENOMEM, "%s: out of memory", nm);
        memcpy(tmp, in, nbytes);
        offset_values(tmp, nbytes / isz, isz, true);
    }
    zfp_field *f = make_field(tmp ? tmp : (void *)(uintptr_t)in, zt, nd, n);
    zfp_stream *zs = zfp_stream_open(NULL);
    int rc = f && zs ? 0 : pz_err_set(e, PZARR_ENOMEM, "%s: out of memory", nm);
    if (rc == 0)
        rc = set_mode(c, zs, zt, nd, nm, e);
    size_t cap = rc == 0 ? zfp_stream_maximum_size(zs, f) + 64 : 0;
    if (rc == 0)
        rc = pz_codec_reserve(out, cap, nm, e);
    bitstream *bs = rc == 0 ? stream_open(out->data, cap) : NULL;
    if (rc == 0 && !bs)
        rc = pz_err_set(e, PZARR_ENOMEM, "%s: out of memory", nm);
    size_t size = 0;
    if (rc == 0) {
        zfp_stream_set_bit_stream(zs, bs);
        zfp_stream_rewind(zs);
        if (c->u.zfp.header && zfp_write_header(zs, f, ZFP_HEADER_FULL) == 0)
            rc = pz_err_set(e, PZARR_ECODEC, "%s: writing the header failed", nm);
        else if (!(size = zfp_compress(zs, f)))
            rc = pz_err_set(e, PZARR_ECODEC, "%s: compression failed", nm);
    }
    out->size = rc == 0 ? size : 0;
    release(bs, zs, f);
    pz_free(tmp);
    return rc;
}

/* The decoder's buffer, kept per thread from one chunk to the next: a
 * stream of a few MiB in fresh pages would pay their faults every time. */
static _Thread_local unsigned char *pad_buf;
static _Thread_local size_t pad_cap;

/* The stream in a word-aligned buffer of room for `need` bytes and more,
 * attached to a new bitstream (NULL when out of memory). */
static bitstream *padded(const unsigned char *in, size_t n, size_t need, unsigned char **buf)
{
    size_t cap = ((need > n ? need : n) + 64 + 7) & ~(size_t)7;
    if (cap > pad_cap) {
        unsigned char *p = pz_realloc(pad_buf, cap);
        if (!p)
            return NULL;
        pad_buf = p;
        pad_cap = cap;
    }
    *buf = pad_buf;
    cap = pad_cap;
    if (!*buf)
        return NULL;
    memcpy(*buf, in, n);
    /* A valid stream reads at most a word past its end: zeroed. A corrupt
     * one may read on, inside the allocation, whose content is then moot
     * (zeroing it all would cost more than decoding a small stream). */
    memset(*buf + n, 0, cap - n < 72 ? cap - n : 72);
    return stream_open(*buf, cap);
}

/* zfpy: the header read, and checked against the chunk's field. */
static int read_header(zfp_stream *zs, zfp_type zt, int nd, const size_t *n, const char *nm,
                       pz_err *e)
{
    zfp_field *h = zfp_field_alloc();
    if (!h)
        return pz_err_set(e, PZARR_ENOMEM, "%s: out of memory", nm);
    int rc = 0;
    zfp_stream_rewind(zs);
    if (zfp_read_header(zs, h, ZFP_HEADER_FULL) == 0) {
        rc = pz_err_set(e, PZARR_ECORRUPT, "%s: no valid zfp header", nm);
    } else {
        size_t hs[4] = {h->nx, h->ny, h->nz, h->nw};
        bool same = h->type == zt && (int)zfp_field_dimensionality(h) == nd;
        for (int i = 0; same && i < nd; i++)
            same = hs[i] == n[i];
        if (!same)
            rc = pz_err_set(e, PZARR_ECORRUPT,
                            "%s: the header describes another shape or type than the chunk's",
                            nm);
    }
    zfp_field_free(h);
    return rc;
}

static int zfp_decode(const pz_codec *c, int ndim, const uint64_t *shape, pzarr_dtype t,
                      const unsigned char *in, size_t n_in, unsigned char *out, size_t nbytes,
                      pz_err *e)
{
    const char *nm = cname(c);
    bool hdr = c->u.zfp.header;
    zfp_type zt = zfp_type_none;
    bool off;
    size_t n[4];
    int nd;
    PZ_TRY(geometry(c, ndim, shape, t, &zt, &off, n, &nd, e));
    zfp_field *f = make_field(out, zt, nd, n);
    zfp_stream *zs = zfp_stream_open(NULL);
    unsigned char *buf = NULL;
    bitstream *bs = NULL;
    int rc = f && zs ? 0 : pz_err_set(e, PZARR_ENOMEM, "%s: out of memory", nm);
    /* The mode: the configuration's, or the header's (read from a copy
     * padded for the header alone). */
    if (rc == 0 && !hdr)
        rc = set_mode(c, zs, zt, nd, nm, e);
    if (rc == 0 && hdr) {
        if (!(bs = padded(in, n_in, 0, &buf)))
            rc = pz_err_set(e, PZARR_ENOMEM, "%s: out of memory", nm);
        else {
            zfp_stream_set_bit_stream(zs, bs);
            rc = read_header(zs, zt, nd, n, nm, e);
        }
    }
    /* The most a stream of this mode and field can take (header included). */
    size_t most = rc == 0 ? zfp_stream_maximum_size(zs, f) : 0;
    if (rc == 0 && n_in > most)
        rc = pz_err_set(e, PZARR_ECORRUPT,
                        "%s: %zu bytes, more than a chunk of %zu bytes can take in this mode",
                        nm, n_in, nbytes);
    if (rc == 0) {
        if (bs)
            stream_close(bs);
        if (!(bs = padded(in, n_in, most, &buf)))
            rc = pz_err_set(e, PZARR_ENOMEM, "%s: out of memory", nm);
        else
            zfp_stream_set_bit_stream(zs, bs);
    }
    if (rc == 0 && hdr)
        rc = read_header(zs, zt, nd, n, nm, e);
    else if (rc == 0)
        zfp_stream_rewind(zs);
    if (rc == 0) {
        size_t used = zfp_decompress(zs, f);
        if (!used)
            rc = pz_err_set(e, PZARR_ECORRUPT, "%s: decompression failed", nm);
        else if (used > n_in)
            rc = pz_err_set(e, PZARR_ECORRUPT, "%s: truncated stream (%zu bytes, %zu needed)",
                            nm, n_in, used);
    }
    if (rc == 0 && off)
        offset_values(out, nbytes / pzarr_dtype_size(t), pzarr_dtype_size(t), false);
    release(bs, zs, f);
    return rc;
}

const pz_codec_ops pz_codec_zfp = {
    .id = PZ_CODEC_ZFP,
    .name = "zfp",
    .kind = PZ_KIND_A2B,
    .in_v3 = true,
    .parse = parse_zfp,
    .emit_v3 = emit_v3_zfp,
    .a2b_swaps = no_swap,
    .a2b_encode = zfp_encode,
    .a2b_decode = zfp_decode,
};

const pz_codec_ops pz_codec_zfpy = {
    .id = PZ_CODEC_ZFPY,
    .name = "zfpy",
    .v3_name = "numcodecs.zfpy",
    .kind = PZ_KIND_A2B,
    .in_v2 = true,
    .parse = parse_zfpy,
    .emit_v2 = emit_v2_zfpy,
    .a2b_swaps = no_swap,
    .a2b_encode = zfp_encode,
    .a2b_decode = zfp_decode,
};
