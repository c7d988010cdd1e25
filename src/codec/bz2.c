/* "bz2" (v2, numcodecs.BZ2): one bzip2 stream through libbz2. */
#include "codec_impl.h"

#include <bzlib.h>
#include <limits.h>

static int parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "level"};
    (void)ndim;
    (void)t;
    PZ_TRY(pz_cfg_fields(c, fields, 2));
    return pz_cfg_int(c, "level", 1, 9, 1, &out->u.bz2.level);
}

static bool emit_v2(const pz_codec *c, cJSON *o)
{
    return cJSON_AddStringToObject(o, "id", "bz2") &&
           cJSON_AddNumberToObject(o, "level", c->u.bz2.level);
}

static int encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                  pz_err *e)
{
    /* bzip2 grows incompressible data by at most 1% + 600 bytes. */
    size_t cap = n + n / 100 + 601;
    if (n > UINT_MAX / 2)
        return pz_err_set(e, PZARR_ECODEC, "bz2: chunk of %zu bytes is too large", n);
    PZ_TRY(pz_codec_reserve(out, cap, "bz2", e));
    unsigned int got = (unsigned int)cap;
    int r = BZ2_bzBuffToBuffCompress((char *)out->data, &got, (char *)in, (unsigned int)n,
                                     c->u.bz2.level, 0, 0);
    if (r != BZ_OK)
        return pz_err_set(e, PZARR_ECODEC, "bz2: compression failed (%d)", r);
    out->size = got;
    return 0;
}

/* The output never grows past the limit (the last stage may write straight
 * into the caller's chunk): libbz2 says when the stream needs more. */
static int decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                  pz_buf *out, pz_err *e)
{
    (void)c;
    size_t limit = pz_want_limit(w);
    if (limit > UINT_MAX || n > UINT_MAX)
        return pz_err_set(e, PZARR_ECODEC, "bz2: chunk too large for libbz2");
    if (limit)
        PZ_TRY(pz_codec_reserve(out, limit, "bz2", e));
    unsigned int got = (unsigned int)limit;
    int r = BZ2_bzBuffToBuffDecompress((char *)out->data, &got, (char *)in, (unsigned int)n,
                                       0, 0);
    if (r == BZ_OUTBUFF_FULL)
        return pz_want_too_big("bz2", w, e);
    if (r != BZ_OK)
        return pz_err_set(e, PZARR_ECORRUPT, "bz2: corrupt or truncated stream (%d)", r);
    out->size = got;
    return pz_want_check("bz2", got, w, e);
}

const pz_codec_ops pz_codec_bz2 = {
    .id = PZ_CODEC_BZ2,
    .name = "bz2",
    .v3_name = "numcodecs.bz2",
    .kind = PZ_KIND_B2B,
    .in_v2 = true,
    .parse = parse,
    .emit_v2 = emit_v2,
    .encode = encode,
    .decode = decode,
};
