/* "gzip" (v2 and v3) and "zlib" (v2): DEFLATE streams through libdeflate,
 * which (de)compresses whole buffers, exactly the chunk use. */
#include "codec_impl.h"

#include <libdeflate.h>

static bool is_gzip(const pz_codec *c) { return c->id == PZ_CODEC_GZIP; }
static const char *name_of(const pz_codec *c) { return is_gzip(c) ? "gzip" : "zlib"; }

static int parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "level"};
    (void)ndim;
    (void)t;
    /* v3 configurations have no "id". */
    PZ_TRY(pz_cfg_fields(c, fields + (c->v2 ? 0 : 1), c->v2 ? 2 : 1));
    return pz_cfg_int(c, "level", 0, 9, c->v2 ? 1 : 5, &out->u.gzip.level);
}

static bool emit_v3(const pz_codec *c, cJSON *obj)
{
    cJSON *conf = cJSON_AddObjectToObject(obj, "configuration");
    return conf && cJSON_AddNumberToObject(conf, "level", c->u.gzip.level);
}

static bool emit_v2(const pz_codec *c, cJSON *o)
{
    return cJSON_AddStringToObject(o, "id", name_of(c)) &&
           cJSON_AddNumberToObject(o, "level", c->u.gzip.level);
}

static int encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                  pz_err *e)
{
    bool gz = is_gzip(c);
    const char *nm = name_of(c);
    struct libdeflate_compressor *z = libdeflate_alloc_compressor(c->u.gzip.level);
    if (!z)
        return pz_err_set(e, PZARR_ENOMEM, "%s: out of memory creating a compressor", nm);
    size_t cap = gz ? libdeflate_gzip_compress_bound(z, n) : libdeflate_zlib_compress_bound(z, n);
    int rc = pz_codec_reserve(out, cap, nm, e);
    size_t r = 0;
    if (rc == 0)
        r = gz ? libdeflate_gzip_compress(z, in, n, out->data, cap)
               : libdeflate_zlib_compress(z, in, n, out->data, cap);
    libdeflate_free_compressor(z);
    if (rc == 0 && r == 0)
        rc = pz_err_set(e, PZARR_ECODEC, "%s: compression failed", nm);
    out->size = rc == 0 ? r : 0;
    return rc;
}

/* One gzip member or zlib stream appended to out; *used is its length. */
static int decode_one(struct libdeflate_decompressor *d, bool gz, const unsigned char *in,
                      size_t n, pz_want w, pz_buf *out, size_t *used, pz_err *e)
{
    const char *nm = gz ? "gzip" : "zlib";
    size_t base = out->size, room = pz_want_limit(w) - base, avail = room;
    if (w.exact == PZ_UNKNOWN_SIZE) { /* guess, then grow up to the cap */
        avail = n < room / 4 ? n * 4 : room;
        if (avail < 65536)
            avail = room < 65536 ? room : 65536;
    }
    for (;;) {
        PZ_TRY(pz_codec_reserve(out, base + avail, nm, e));
        size_t got = 0;
        enum libdeflate_result r =
            gz ? libdeflate_gzip_decompress_ex(d, in, n, out->data + base, avail, used, &got)
               : libdeflate_zlib_decompress_ex(d, in, n, out->data + base, avail, used, &got);
        if (r == LIBDEFLATE_SUCCESS) {
            out->size = base + got;
            return 0;
        }
        if (r != LIBDEFLATE_INSUFFICIENT_SPACE)
            return pz_err_set(e, PZARR_ECORRUPT, "%s: invalid or truncated data", nm);
        if (avail >= room)
            return pz_want_too_big(nm, w, e);
        avail = avail < room / 2 ? avail * 2 : room;
    }
}

static int decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                  pz_buf *out, pz_err *e)
{
    bool gz = is_gzip(c);
    const char *nm = name_of(c);
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    if (!d)
        return pz_err_set(e, PZARR_ENOMEM, "%s: out of memory creating a decompressor", nm);
    size_t pos = 0;
    int rc = 0;
    do { /* gzip allows concatenated members */
        size_t used = 0;
        rc = decode_one(d, gz, in + pos, n - pos, w, out, &used, e);
        pos += used;
    } while (rc == 0 && gz && pos < n);
    libdeflate_free_decompressor(d);
    if (rc == 0 && pos != n)
        rc = pz_err_set(e, PZARR_ECORRUPT, "%s: %zu trailing bytes after the stream", nm,
                        n - pos);
    return rc ? rc : pz_want_check(nm, out->size, w, e);
}

const pz_codec_ops pz_codec_gzip = {
    .id = PZ_CODEC_GZIP,
    .name = "gzip",
    .kind = PZ_KIND_B2B,
    .in_v3 = true,
    .in_v2 = true,
    .parse = parse,
    .emit_v3 = emit_v3,
    .emit_v2 = emit_v2,
    .encode = encode,
    .decode = decode,
};

const pz_codec_ops pz_codec_zlib = {
    .id = PZ_CODEC_ZLIB,
    .name = "zlib",
    .v3_name = "numcodecs.zlib",
    .kind = PZ_KIND_B2B,
    .in_v2 = true,
    .parse = parse,
    .emit_v3 = emit_v3,
    .emit_v2 = emit_v2,
    .encode = encode,
    .decode = decode,
};
