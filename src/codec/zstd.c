/* "zstd": Zstandard frames through the reference library. */
#include "codec_impl.h"

#include <zstd.h>

static int parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "level", "checksum"};
    (void)ndim;
    (void)t;
    PZ_TRY(pz_cfg_fields(c, fields + (c->v2 ? 0 : 1), c->v2 ? 3 : 2));
    PZ_TRY(pz_cfg_int(c, "level", ZSTD_minCLevel(), ZSTD_maxCLevel(), c->v2 ? 1 : 0,
                      &out->u.zstd.level));
    return pz_cfg_bool(c, "checksum", false, &out->u.zstd.checksum);
}

static bool emit_v3(const pz_codec *c, cJSON *obj)
{
    cJSON *conf = cJSON_AddObjectToObject(obj, "configuration");
    return conf && cJSON_AddNumberToObject(conf, "level", c->u.zstd.level) &&
           cJSON_AddBoolToObject(conf, "checksum", c->u.zstd.checksum);
}

static bool emit_v2(const pz_codec *c, cJSON *o)
{
    return (!c->u.zstd.checksum || cJSON_AddTrueToObject(o, "checksum")) &&
           cJSON_AddStringToObject(o, "id", "zstd") &&
           cJSON_AddNumberToObject(o, "level", c->u.zstd.level);
}

static int encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                  pz_err *e)
{
    size_t cap = ZSTD_compressBound(n);
    if (ZSTD_isError(cap))
        return pz_err_set(e, PZARR_ECODEC, "zstd: chunk of %zu bytes is too large", n);
    PZ_TRY(pz_codec_reserve(out, cap, "zstd", e));
    ZSTD_CCtx *z = ZSTD_createCCtx();
    if (!z)
        return pz_err_set(e, PZARR_ENOMEM, "zstd: out of memory creating a context");
    size_t r = ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, c->u.zstd.level);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, c->u.zstd.checksum ? 1 : 0);
    if (!ZSTD_isError(r))
        r = ZSTD_compress2(z, out->data, cap, in, n);
    ZSTD_freeCCtx(z);
    if (ZSTD_isError(r))
        return pz_err_set(e, PZARR_ECODEC, "zstd: compression failed: %s",
                          ZSTD_getErrorName(r));
    out->size = r;
    return 0;
}

/* A single frame that states its size is checked before any memory is
 * taken; other streams are checked by the stream decoder. */
static int precheck(const unsigned char *in, size_t n, pz_want w, pz_err *e)
{
    unsigned long long fcs = ZSTD_getFrameContentSize(in, n);
    if (fcs == ZSTD_CONTENTSIZE_ERROR)
        return pz_err_set(e, PZARR_ECORRUPT,
                          "zstd: not a zstd frame (bad magic number or truncated header, %zu "
                          "bytes)",
                          n);
    size_t fsz = ZSTD_findFrameCompressedSize(in, n);
    if (ZSTD_isError(fsz))
        return pz_err_set(e, PZARR_ECORRUPT, "zstd: truncated or invalid frame (%s)",
                          ZSTD_getErrorName(fsz));
    if (fsz != n || fcs == ZSTD_CONTENTSIZE_UNKNOWN)
        return 0;
    if (w.exact != PZ_UNKNOWN_SIZE && fcs != w.exact)
        return pz_err_set(e, PZARR_ECORRUPT, "zstd: frame says %llu bytes, expected %zu", fcs,
                          w.exact);
    if (fcs > w.cap)
        return pz_err_set(e, PZARR_ECORRUPT, "zstd: frame says %llu bytes, more than the limit "
                          "of %zu", fcs, w.cap);
    return 0;
}

static int grow(pz_buf *out, ZSTD_outBuffer *ob, pz_want w, pz_err *e)
{
    size_t limit = pz_want_limit(w);
    if (ob->size >= limit)
        return pz_want_too_big("zstd", w, e);
    size_t next = ob->size < (limit - ob->size) ? ob->size * 2 : limit;
    if (next < 65536)
        next = limit < 65536 ? limit : 65536;
    PZ_TRY(pz_codec_reserve(out, next, "zstd", e));
    ob->dst = out->data;
    ob->size = next;
    return 0;
}

static int stream(ZSTD_DCtx *d, const unsigned char *in, size_t n, pz_want w, pz_buf *out,
                  pz_err *e)
{
    ZSTD_inBuffer ib = {in, n, 0};
    size_t first = w.exact != PZ_UNKNOWN_SIZE ? w.exact : (n < w.cap / 4 ? n * 4 : w.cap);
    PZ_TRY(pz_codec_reserve(out, first, "zstd", e));
    ZSTD_outBuffer ob = {out->data, first, 0};
    for (;;) {
        size_t ip = ib.pos, op = ob.pos;
        size_t r = ZSTD_decompressStream(d, &ob, &ib);
        out->size = ob.pos;
        if (ZSTD_isError(r))
            return pz_err_set(e, PZARR_ECORRUPT, "zstd: %s", ZSTD_getErrorName(r));
        if (r == 0 && ib.pos == ib.size)
            return pz_want_check("zstd", ob.pos, w, e);
        if (ib.pos != ip || ob.pos != op)
            continue;
        if (ob.pos < ob.size)
            return pz_err_set(e, PZARR_ECORRUPT, "zstd: truncated frame (%zu bytes)", n);
        PZ_TRY(grow(out, &ob, w, e));
    }
}

/* One decompression context per thread, kept: making one costs more than
 * decoding a small chunk (its tables and window are allocated each time). */
static _Thread_local ZSTD_DCtx *tl_dctx;

static int decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                  pz_buf *out, pz_err *e)
{
    (void)c;
    PZ_TRY(precheck(in, n, w, e));
    if (!tl_dctx && !(tl_dctx = ZSTD_createDCtx()))
        return pz_err_set(e, PZARR_ENOMEM, "zstd: out of memory creating a context");
    ZSTD_DCtx *d = tl_dctx;
    ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
    /* A single frame that states its size (what zarr-python and pzarr
     * write): decoded in one call straight into out, without the streaming
     * decoder's window buffer and its extra copy. precheck verified the size
     * against what is expected. */
    unsigned long long fcs = ZSTD_getFrameContentSize(in, n);
    if (fcs != ZSTD_CONTENTSIZE_UNKNOWN && fcs != ZSTD_CONTENTSIZE_ERROR &&
        ZSTD_findFrameCompressedSize(in, n) == n && fcs <= w.cap) {
        PZ_TRY(pz_codec_reserve(out, (size_t)fcs, "zstd", e));
        size_t r = ZSTD_decompressDCtx(d, out->data, (size_t)fcs, in, n);
        if (ZSTD_isError(r))
            return pz_err_set(e, PZARR_ECORRUPT, "zstd: %s", ZSTD_getErrorName(r));
        out->size = r;
        return pz_want_check("zstd", r, w, e);
    }
    return stream(d, in, n, w, out, e);
}

const pz_codec_ops pz_codec_zstd = {
    .id = PZ_CODEC_ZSTD,
    .name = "zstd",
    .kind = PZ_KIND_B2B,
    .in_v3 = true,
    .in_v2 = true,
    .parse = parse,
    .emit_v3 = emit_v3,
    .emit_v2 = emit_v2,
    .encode = encode,
    .decode = decode,
};
